"""Work spread over processes: results in the order of the items, a pool shut
down cleanly whatever interrupts it, workers deaf to Ctrl-C."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def in_parallel(
    work: Callable[[Item], Result], items: Sequence[Item], jobs: int
) -> Generator[Result, None, None]:
    """`work(item)` of each item, in order, from a pool of up to `jobs`
    processes (in this one when a pool would have one item or one worker).
    Close the generator when its loop is interrupted (`contextlib.closing`), so
    that the pool is shut down before Python exits: left to the collector, its
    thread raced Python's exit to close its pipe."""
    if jobs <= 1 or len(items) < 2:
        yield from map(work, items)
        return
    # 10 ms of imports that a one-file run (pre-commit's) does not need.
    from concurrent.futures import ProcessPoolExecutor

    workers = min(jobs, len(items))
    with ProcessPoolExecutor(workers, initializer=_deaf_to_interrupts) as pool:
        # Not `pool.map`: interrupted, it cancels its futures from this thread
        # while the pool's own thread may be failing them for a worker the
        # signal killed, and Python < 3.12 prints that race's traceback
        # (InvalidStateError). `shutdown` cancels them in the pool's thread.
        futures = [pool.submit(work, item) for item in items]
        try:
            for future in futures:
                yield future.result()
        except BaseException:  # interrupted: the items queued are left undone
            # Waiting for the pool's thread: left running, it raced Python's
            # exit to close its pipe ("Bad file descriptor" from `threading`).
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _deaf_to_interrupts() -> None:
    """Ctrl-C reaches the workers too; the main process alone decides what an
    interruption means (and the workers write nothing). A SIGTERM sent to the
    whole group ends a worker at once, as it would any process: the handler
    inherited from the main process would raise in an idle worker's wait for
    work, and multiprocessing would print its traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
