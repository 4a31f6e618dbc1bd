"""`pvd-report template` (to be built)."""

from __future__ import annotations

import click


@click.command()
def template_command() -> None:
    """(à venir)"""
    raise click.ClickException("Commande pas encore disponible.")
