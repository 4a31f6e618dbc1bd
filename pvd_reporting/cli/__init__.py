"""`pvd-report`: a thin click layer over the pvd_reporting library.

Each subcommand's module is imported only when that command runs (or `--help` lists them):
`validate` must not pay for the writers of the summary and the dashboard.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from pvd_reporting.cli import french

# Before the commands are defined: click names path types at definition time.
french.install()

COMMANDS = {
    "template": "pvd_reporting.cli.template:template_command",
    "validate": "pvd_reporting.cli.validate:validate_command",
    "consolidate": "pvd_reporting.cli.consolidate:consolidate_command",
    "national": "pvd_reporting.cli.national:national_command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command: Any = getattr(importlib.import_module(module), attr)
        return command


@click.group(
    cls=LazyGroup,
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
    pvd-report national     consolide les régions pour l'ANCT : synthèse et tableau de bord nationaux
    """


def main() -> None:
    cli(prog_name="pvd-report")
