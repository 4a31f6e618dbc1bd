"""The few exceptions of pvd-report; `cli.common.handle_errors` turns them into French messages and exit codes."""

from __future__ import annotations


class PvdError(Exception):
    """Base class: a problem the user can fix; the message says how, in French."""

    exit_code = 2


class ConfigError(PvdError):
    """The configuration file is missing, unreadable or has an invalid key."""


class ReferenceListError(PvdError):
    """The reference list of PVD territories cannot be read or does not know a territory."""


class UsageError(PvdError):
    """Options that do not fit together, or nothing to work on."""


class OutputError(PvdError):
    """An output cannot be written (exists already, folder not writable, …)."""
