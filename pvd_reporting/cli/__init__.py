"""`pvd-report`: a thin click layer over the pvd_reporting library."""

from __future__ import annotations

import click

from pvd_reporting.cli import french

# Before the commands are defined: click names path types at definition time.
french.install()

from pvd_reporting.cli.consolidate import consolidate_command  # noqa: E402
from pvd_reporting.cli.template import template_command  # noqa: E402
from pvd_reporting.cli.validate import validate_command  # noqa: E402


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    subcommand_metavar="COMMANDE [ARGUMENTS]...",
)
@click.version_option(package_name="pvd-report", message="pvd-report %(version)s", help="Affiche la version et quitte.")
def cli() -> None:
    """Suivi trimestriel du programme Petites villes de demain.

    \b
    pvd-report template     produit le classeur à remplir par chaque territoire
    pvd-report validate     contrôle des classeurs remplis
    pvd-report consolidate  consolide la région : synthèse, tableau de bord, anomalies
    """


cli.add_command(template_command, "template")
cli.add_command(validate_command, "validate")
cli.add_command(consolidate_command, "consolidate")


def main() -> None:
    cli(prog_name="pvd-report")
