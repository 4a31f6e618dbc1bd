"""What the commands share: options, the one place errors become exit codes, the progress bar."""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pvd_reporting.cli.terminal import echo
from pvd_reporting.errors import PvdError

F = TypeVar("F", bound=Callable[..., Any])

# Exit statuses of README, pvd-report validate; the third, 2, is PvdError.exit_code (and click's usage error).
EXIT_OK, EXIT_FOUND_ERRORS = 0, 1

config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Fichier de configuration régionale (TOML). Par défaut : Grand Est.",
)
region_option = click.option(
    "--region", default=None, metavar="NOM",
    help="Région dont la configuration livrée est utilisée, par son nom ou son code INSEE, ex. "
         "--region Bretagne, --region PACA, --region 44 (par défaut : la région que nomment les "
         "classeurs, sinon Grand Est) ; --config la complète.",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="N'affiche pas la barre de progression.")


def reference_option(help_text: str) -> Callable[[F], F]:
    # template and consolidate default to the shipped list; validate checks communes only when asked.
    return click.option("--reference", "reference_path", type=click.Path(dir_okay=False, path_type=Path),
                        default=None, metavar="FICHIER", help=help_text)


REFERENCE_HELP = ("Liste de référence des communes PVD (CSV de l'ANCT ou de data.gouv.fr) ; par défaut, "
                  "la liste de l'ANCT de 2021 livrée avec pvd-report.")

departement_option = click.option(
    "--departement", "departments", multiple=True, metavar="CODE",
    help="Limite aux départements donnés (territoires attendus, classeurs et titres) ; "
         "option répétable ou codes séparés par des virgules, ex. --departement 10 --departement 52 "
         "ou --departement 10,52.",
)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (`kill`, a closed terminal): stopped as by Ctrl+C, so that the run
    removes its staging folder at once (output_folder.OutputFolder) rather than leave it to the next."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.code = 128 + signum


def _terminate(signum: int, _frame: object) -> None:
    raise Terminated(signum)


_STOP_SIGNALS = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]


def handle_errors(func: F) -> F:
    """Turn library errors into a French message on stderr and exit 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Handlers can only be set from the main thread; elsewhere the defaults stay.
        main = threading.current_thread() is threading.main_thread()
        before = {s: signal.signal(s, _terminate) for s in _STOP_SIGNALS} if main else {}
        try:
            return func(*args, **kwargs)
        except PvdError as exc:
            echo(f"Erreur : {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            echo("Interrompu.", err=True)
            sys.exit(exc.code if isinstance(exc, Terminated) else 130)
        finally:
            for s, handler in before.items():
                if handler is not None:  # None: a handler set outside Python, which cannot be put back
                    signal.signal(s, handler)

    return wrapper  # type: ignore[return-value]  # same signature as func, through functools.wraps


class ClickProgress:
    """The pipeline's Progress as a click bar on stderr; nothing when quiet or not a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._bar: Any = None

    def start(self, total: int, label: str) -> None:
        if self.quiet or total < 2 or not sys.stderr.isatty():
            return
        self._bar = click.progressbar(length=total, label=label, file=sys.stderr)
        self._bar.__enter__()

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def period_option(help_text: str) -> Callable[[F], F]:
    # Parsed by the library, so that a bad value is a UsageError like every other (exit 2).
    return click.option("--period", default=None, metavar="PÉRIODE", help=help_text)


def date_option(name: str, help_text: str) -> Callable[[F], F]:
    dest = name.lstrip("-").replace("-", "_")
    return click.option(name, dest, default=None, metavar="DATE", help=help_text)
