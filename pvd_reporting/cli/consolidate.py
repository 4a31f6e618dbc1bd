"""`pvd-report consolidate` (to be built)."""

from __future__ import annotations

import click


@click.command()
def consolidate_command() -> None:
    """(à venir)"""
    raise click.ClickException("Commande pas encore disponible.")
