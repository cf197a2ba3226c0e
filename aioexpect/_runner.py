"""``aioexpect.run()``: run a coroutine on uvloop when it is installed; and,
for the CLI, termination signals taken as Ctrl-C.

Only this entry point (and the CLI) chooses the loop or handles signals; a
library user's own loop and signal handlers are never replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

__all__ = ["Terminated", "in_background", "is_open", "loop_factory", "run", "terminations"]

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's ``new_event_loop`` when importable and standard input,
    output and error are all open, else asyncio's: with one of them closed
    (``prog <&-``) a descriptor of libuv's own can land there, and libuv
    aborts the process when it closes it (``uv__close: Assertion `fd >
    STDERR_FILENO' failed``)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.new_event_loop
    if not all(is_open(fd) for fd in (0, 1, 2)):
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def is_open(fd: int) -> bool:
    """Whether descriptor ``fd`` is open."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def run(coro: Coroutine[Any, Any, T], *, debug: bool | None = None) -> T:
    """Run ``coro`` to completion in a new event loop (uvloop if available,
    and asyncio's where standard input, output or error is closed, which
    uvloop cannot run with).

    Like ``asyncio.run``; uses ``asyncio.Runner`` with a loop factory, never
    the event-loop policy API.
    """
    if not asyncio.iscoroutine(coro):
        raise TypeError(f"aioexpect.run() needs a coroutine, not {type(coro).__name__}")
    with asyncio.Runner(loop_factory=loop_factory(), debug=debug) as runner:
        return runner.run(coro)


#: Tasks started by ``in_background``, until they end (the loop holds tasks weakly).
_background: set[asyncio.Task[Any]] = set()


def in_background(coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    """Run ``coro`` in a task of the running loop that lives until it ends,
    whether anything waits for it or not (a server's closing)."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


class Terminated(Exception):
    """``terminations()``: a signal ended the block (``.signum``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def terminations() -> Iterator[None]:
    """While in the block, SIGTERM and SIGHUP (what ``timeout``, systemd, a
    CI runner or a closed terminal send) cancel the current task, as Ctrl-C
    does under ``run()``: the program closes what it opened and says what
    it finished, where the default action would end it at once, silent.
    The cancellation, once out of the block, is ``Terminated``, as is a
    signal that came while the block's last synchronous work ran (one
    cancellation that came from elsewhere stays one).  A second signal, or
    one that comes while standard output or error is full (the loop's
    thread blocked writing to a pipe nobody reads), ends the process at
    once, as the default action does.  A signal ignored when the block
    starts (``nohup``) stays ignored; off the main thread nothing is
    installed."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    received: list[int] = []
    cancelled: list[int] = []
    installed: list[int] = []
    inside = True

    def on_signal(signum: int) -> None:  # by the loop, once it can act
        if not received:  # (on_delivery has run before, but in case)
            received.append(signum)
        if inside and not cancelled and task is not None:
            cancelled.append(signum)
            task.cancel()

    def on_delivery(signum: int, frame: FrameType | None) -> None:
        # Python runs this in the main thread at the next bytecode, even
        # inside a blocked write() (interrupted, then restarted: PEP 475),
        # where the loop, whose callback does the rest, cannot act.
        received.append(signum)
        if len(received) > 1 or _output_full():
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) == signal.SIG_DFL:
                # The loop's handler: its wake-up descriptor leaves no
                # window where a signal waits for the next event; then
                # ours in place of its no-op, with EINTR back on.
                loop.add_signal_handler(signum, on_signal, signum)
                signal.signal(signum, on_delivery)
                installed.append(signum)
    try:
        yield
    except asyncio.CancelledError:
        if not cancelled or task is None or task.uncancel():
            raise
    finally:
        inside = False
        for number in installed:  # (back to the default action, a signal
            loop.remove_signal_handler(number)  # pending handled before)
            # (also where the loop's was replaced meanwhile, and on_delivery
            # put back after it: the local console's, which restores it)
            signal.signal(number, signal.SIG_DFL)
    if received:
        raise Terminated(received[0])


def _output_full() -> bool:
    """Whether a write to descriptor 1 or 2 (standard output, error) would
    block: a pipe whose reader stopped reading, a terminal stopped (^S).
    One closed or broken is not full: a write to it fails at once."""
    poller = select.poll()
    for fd in (1, 2):
        poller.register(fd, select.POLLOUT)
    return len(poller.poll(0)) < 2
