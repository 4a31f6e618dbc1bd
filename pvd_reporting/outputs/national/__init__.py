"""What `pvd-report national` writes: the national summary workbook, the dashboard with its map of
France, and `historique-national.sqlite`. May import `atomic` and the stages below `outputs`.
"""
