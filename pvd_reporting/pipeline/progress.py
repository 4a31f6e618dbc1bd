"""Progress of long work, as the pipeline reports it: a null object when nobody watches."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, total: int, label: str) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """Progress nobody watches (`--quiet`, a test, a script): the pipeline never branches on it."""

    def start(self, total: int, label: str) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass
