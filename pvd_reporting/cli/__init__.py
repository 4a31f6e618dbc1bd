"""`pvd-report`: a thin click layer over the pvd_reporting library."""

from __future__ import annotations

import click

from . import french
from .template import template_command
from .validate import validate_command
from .consolidate import consolidate_command


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
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


french.install()


def main() -> None:
    cli(prog_name="pvd-report")
