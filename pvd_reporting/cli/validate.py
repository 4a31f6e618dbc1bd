"""`pvd-report validate` (to be built)."""

from __future__ import annotations

import click


@click.command()
def validate_command() -> None:
    """(à venir)"""
    raise click.ClickException("Commande pas encore disponible.")
