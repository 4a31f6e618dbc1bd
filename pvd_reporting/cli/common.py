"""What the three commands share: options, error handling, progress bar."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from pvd_reporting.errors import PvdError
from pvd_reporting.format.config import Config, load_config

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

# Exit statuses of README, the commands.
EXIT_OK, EXIT_FOUND_ERRORS, EXIT_USAGE = 0, 1, 2

config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Fichier de configuration régionale (TOML). Par défaut : Grand Est.",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="N'affiche pas la barre de progression.")
reference_option = click.option(
    "--reference", "reference_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Liste de référence des communes PVD (CSV de l'ANCT ou de data.gouv.fr).",
)


def get_config(path: Path | None) -> Config:
    return load_config(path)


def handle_errors(func: F) -> F:
    """Turn library errors into a French message on stderr and exit 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PvdError as exc:
            click.echo(f"Erreur : {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrompu.", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


class _NullBar:
    def update(self, n: int = 1) -> None:
        pass


def progress(items: Iterable[T], length: int, label: str, quiet: bool) -> Iterator[T]:
    """A click progress bar on a terminal (stderr); nothing when quiet or not a terminal."""
    if quiet or length < 2 or not sys.stderr.isatty():
        yield from items
        return
    with click.progressbar(items, length=length, label=label, file=sys.stderr) as bar:
        yield from bar


def progress_callback(length: int, label: str, quiet: bool) -> tuple[Callable[[int], None], Callable[[], None]]:
    """For library functions that report progress: (advance, close)."""
    if quiet or length < 2 or not sys.stderr.isatty():
        return (lambda n=1: None), (lambda: None)
    bar = click.progressbar(length=length, label=label, file=sys.stderr)
    bar.__enter__()
    return bar.update, (lambda: bar.__exit__(None, None, None))
