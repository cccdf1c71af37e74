"""``compare`` over several models on several cores: one worker process per core, results in the given order.

Each model's analysis is independent and CPU-bound in Python, so threads would not help (the GIL); processes
do. Workers come from a ``forkserver``: a fresh process that imports modelmeter (and torch) once and forks each
worker from itself. Plain ``fork`` of the caller hung in the test suite: a child forked from a process whose
OpenMP thread pool had already run waits forever on that pool's lock. The server never ran a kernel, so its
forks are safe. Like ``spawn``, it re-imports the caller's ``__main__`` in the workers, so a script calling
``compare(..., workers=N)`` needs an ``if __name__ == "__main__"`` guard (the ``modelmeter`` command has one).
Where ``forkserver`` is not available (Windows) the models run one after another in this process. A model that
fails in a worker is its entry's error, as in the sequential run; a worker that dies takes only its model's row.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from typing import Any

from .report.compare import CompareEntry, analyze
from .report.model import Report


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def workers_for(models: int, workers: int | None) -> int:
    """How many processes to run ``models`` on: ``workers`` if given, else one per usable core (at most one per
    model); 1 means in this process."""
    if not _can_pool():
        return 1
    if workers is None:  # opt-in: starting the server and importing torch in it costs a few seconds
        return 1
    return max(1, min(workers, models))


def _context(preload: Sequence[str]) -> Any:
    """The forkserver context; the server (if not running yet) imports modelmeter and ``preload`` once, not once
    per worker (a missing module is skipped); importing runs no kernel."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["modelmeter", *preload])
    return context


def prestart(preload: Sequence[str]) -> None:
    """Start the forkserver now, importing ``preload`` (torch, torchvision: 2.5 s) on another core while this
    process goes on (the CLI expands ``torchvision:*`` meanwhile, which imports the same). A no-op where pools
    are not used, or when the server already runs."""
    if not _can_pool():
        return
    from multiprocessing import forkserver

    _context(preload)
    forkserver.ensure_running()


def _can_pool() -> bool:
    import sys

    return sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods()


def _one(summary: Callable[..., Report], ref: str, summary_kwargs: dict[str, Any]) -> CompareEntry:
    return analyze([ref], partial(summary, **summary_kwargs))[0]


def analyze_in_pool(
    refs: Sequence[str],
    summary: Callable[..., Report],
    summary_kwargs: dict[str, Any],
    workers: int,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[CompareEntry], None] | None = None,
) -> list[CompareEntry]:
    """The entries of ``refs`` (in that order), each ``summary(ref, **summary_kwargs)`` in one of ``workers``
    processes (``summary`` is pickled by name: a module-level function)."""
    context = _context(("torch",))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: list[Future[CompareEntry]] = [pool.submit(_one, summary, ref, summary_kwargs) for ref in refs]
        entries = []
        for ref, future in zip(refs, futures, strict=True):
            if on_start is not None:
                on_start(ref)
            try:
                entry = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died (out of memory, a crash in native code)
                entry = CompareEntry(ref, error=f"internal error: the worker analysing it stopped: {exc}")
            entries.append(entry)
            if on_done is not None:
                on_done(entry)
    return entries
