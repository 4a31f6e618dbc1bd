"""Outputs written by forked processes (outputs/background.py): results come back, a process
that dies is replaced by the work done here, one core means no fork."""

from __future__ import annotations

import os
import time

import pytest

from pvd_reporting.outputs import background


def _slow(name: str) -> tuple[str, int]:
    time.sleep(0.5)  # long enough that the other process takes the other work
    return name, os.getpid()


def test_each_work_runs_in_a_process_of_its_own() -> None:
    here = os.getpid()
    waits = background.start([lambda: _slow("a"), lambda: _slow("b")])
    (a, pid_a), (b, pid_b) = (wait() for wait in waits)
    assert (a, b) == ("a", "b")
    assert len({here, pid_a, pid_b}) == 3


def test_a_process_that_dies_is_replaced_by_the_work_done_here() -> None:
    here = os.getpid()

    def dies_in_a_child() -> int:
        if os.getpid() != here:
            os._exit(3)  # killed, out of memory: the pool breaks
        return os.getpid()

    (wait,) = background.start([dies_in_a_child])
    assert wait() == here


def test_one_core_runs_the_work_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    ran: list[int] = []

    def work() -> str:
        ran.append(os.getpid())
        return "fait"

    (wait,) = background.start([work])
    assert ran == [os.getpid()]  # done before start returned, in this process
    assert wait() == "fait"


def test_an_error_in_the_work_reaches_the_caller() -> None:
    def fails() -> None:
        raise OSError(28, "No space left on device")

    (wait,) = background.start([fails])
    with pytest.raises(OSError, match="No space left"):
        wait()


def test_a_claim_goes_to_the_first_process_free() -> None:
    """The writer free first takes the shared work; this process, asking after, does not."""
    early = background.Claim()
    (wait,) = background.start([early.take])
    assert wait() is True
    assert early.take() is False
    # Taken here first: the writer, asking after, does not take it.
    late = background.Claim()
    assert late.take() is True
    (wait,) = background.start([late.take])
    assert wait() is False

