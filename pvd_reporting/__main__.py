from pvd_reporting.cli import main

main()
