"""What a run shows on a terminal, and how it stops: colour, the progress bar, and
Ctrl-C or SIGTERM between two writes."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

import click

PROGRESS_FROM = 200  # files to parse before a progress bar is worth showing


def colour_for(out: TextIO) -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org);
    FORCE_COLOR asks for it anywhere."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or out.isatty()


def progress_bar() -> Callable[[int, int], None] | None:
    """A progress bar on stderr (click's: its width follows the terminal, with an
    estimate of the time left), for runs that parse more than 200 files, when
    stderr is a terminal and not a CI job's log. `draw(0, 0)` ends it, clearing
    its line for the report."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    import click

    bar: click._termui_impl.ProgressBar[int] | None = None

    def draw(done: int, total: int) -> None:
        nonlocal bar
        if total <= PROGRESS_FROM:
            if bar is not None:  # the end of the run: clear the line, show the cursor
                sys.stderr.write("\r\033[K\033[?25h")
                sys.stderr.flush()
                bar = None
            return
        if bar is None:
            bar = click.progressbar(
                length=total,
                label="Checking",
                file=sys.stderr,
                show_pos=True,
                show_percent=False,
                show_eta=True,
            )
            bar.render_progress()
        bar.update(done - bar.pos)

    return draw


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is."""


@contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C or SIGTERM stops the run between two writes (each is atomic): every
    file is then as it was or wholly fixed. The exit status is 128 + the signal's
    number, as a shell gives."""

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except KeyboardInterrupt as interruption:
        click.echo(
            "Interrupted: each file is either as it was or wholly fixed.", err=True
        )
        number = (
            signal.SIGTERM if isinstance(interruption, Terminated) else signal.SIGINT
        )
        sys.exit(128 + number)
    finally:
        signal.signal(signal.SIGTERM, previous)
