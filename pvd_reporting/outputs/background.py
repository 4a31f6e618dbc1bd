"""Outputs written by other processes while this one writes the rest.

At national scale the summary workbook and the reminders' attached workbooks take seconds
(docs/vitesse.md). On a machine with several cores they are written by a forked process: the
fork shares the consolidation without pickling it, and only the result (paths, counts) comes
back. A fork copies the pages it reads: what reads every quarter's rows (the history database)
stays in this process. Elsewhere (one core, no fork), the work is simply done at once.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any

from pvd_reporting.atomic import die_with_parent, worker_guard

# The work the forks are about to run, by position: each child finds it in its copy of this process.
_pending: list[Callable[[], Any]] = []


def _run_pending(index: int) -> Any:
    return _pending[index]()


def _given(value: Any) -> Callable[[], Any]:
    return lambda: value


def start(works: Sequence[Callable[[], Any]]) -> list[Callable[[], Any]]:
    """Start each of `works` in a forked process of its own; returns, for each, a function that
    waits for it and gives its result (or runs it here, should its process die: killed, out
    of memory). Every process is forked at once, before any helper thread runs in this one."""
    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_given(work()) for work in works]
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _pending[:] = works
    # The writer dies with this process: killed, it must not go on writing into a staging folder
    # the next run deletes, nor wait forever for work that never comes.
    pool = ProcessPoolExecutor(max_workers=len(works), mp_context=multiprocessing.get_context("fork"),
                               initializer=die_with_parent, initargs=worker_guard())
    # The children only read the consolidation: frozen, its objects are never visited by their
    # garbage collector, whose visits would copy every page of it into each child. It stays
    # frozen here too: it is kept to the end of the run.
    gc.freeze()
    try:
        # With fork, the pool makes all its processes at the first submit, `works` in them.
        futures = [pool.submit(_run_pending, i) for i in range(len(works))]
    finally:
        _pending.clear()  # the children have their copy; the parent must not keep the view alive
    # Each child exits once its work is done: alive, it would keep the pages this process has
    # written to since the fork (a copy each) until the last result is asked for.
    pool.shutdown(wait=False)
    left = [len(works)]

    def waiter(i: int) -> Callable[[], Any]:
        def wait() -> Any:
            try:
                return futures[i].result()
            except BrokenProcessPool:
                return works[i]()
            finally:
                left[0] -= 1
                if not left[0]:
                    pool.shutdown()
        return wait

    return [waiter(i) for i in range(len(works))]
