"""The local console: ``aioexpect console`` on this process's terminal (or
pipes), its terminal's character mode while attached, the signals that end
it, and the sessions and standard streams it closes as it ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
import tty
from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

import aioconsole

from ._console import Console
from ._console_output import TerminalOutput, blocking_kept
from ._console_signals import Ended
from ._console_terminal import TerminalInput
from ._interact import terminal_size
from ._session import live_sessions

__all__ = ["ENDING_SIGNALS", "FOREIGN_CLOSE_LIMIT", "run_local_console"]


@contextlib.contextmanager
def _raw_stdin() -> Iterator[None]:
    """Character mode on the process's terminal while attached."""
    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)  # keep what was typed already
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)


#: Signals that end the local console as its end of input does (its
#: terminal closed, ``kill``): its sessions are closed on the way out.
ENDING_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
#: How long the end of the local console waits for a session's close in
#: another thread's loop (a close takes its transport's grace, about 1 s).
FOREIGN_CLOSE_LIMIT = 10.0


async def run_local_console(*, shared: Mapping[str, Any] | None = None) -> int:
    """The console on this process's stdin/stdout; returns the exit code
    (128 + the signal's number when SIGHUP or SIGTERM ended it).

    Sessions still open when it ends are closed.
    """
    restore_blocking = blocking_kept()
    reader, writer = await aioconsole.get_standard_streams(use_stderr=False)
    # (taken now: aioconsole looks them up by sys.stdout, which a statement may replace)
    _, error_writer = await aioconsole.get_standard_streams(use_stderr=True)
    console_input: Any = reader
    # From a pipe, as for python3 -i < script, nothing is dropped; nor need
    # it be when aioconsole reads only when asked (stdout a file: a thread).
    if _is_terminal(sys.stdin) and isinstance(reader, asyncio.StreamReader):
        console_input = TerminalInput(reader)
    console = Console(
        console_input,
        TerminalOutput.over(writer),
        shared=shared,
        raw_mode=_raw_stdin,
        size=lambda: terminal_size(sys.stdin.fileno()),
        local=True,
        interrupts=True,
    )
    task = asyncio.current_task()
    assert task is not None
    ended_by: list[int] = []
    stopping: list[bool] = []

    def end(signum: int) -> None:
        if not ended_by:
            ended_by.append(signum)
        if not stopping:  # (a second one, while the sessions close, is ignored)
            stopping.append(True)
            console.stop(task)

    def ending(signum: int) -> BaseException:
        # (while a statement runs its own code: the console ends once it is
        # out of it; one that does not let it out is stopped at its next await)
        if not ended_by:
            ended_by.append(signum)
        return Ended(signum)

    for signum in ENDING_SIGNALS:
        console.signals.install(
            signum, partial(end, signum), partial(ending, signum), instead=False
        )
    try:
        return await console.run()
    except asyncio.CancelledError:
        if not stopping:
            raise
        while task.uncancel():  # (a Ctrl-C that came with the signal as well)
            pass
        return 128 + ended_by[0]
    except Ended:
        stopping.append(True)
        return 128 + ended_by[0]
    finally:
        try:
            await _close_live_sessions()
        finally:
            for signum in ENDING_SIGNALS:
                console.signals.remove(signum)
            try:
                await _close_standard_streams(reader, writer, error_writer)
            finally:
                restore_blocking()


async def _close_live_sessions() -> None:
    """The sessions still open, each closed in its own event loop (``close()``
    in another running loop raises ``RuntimeError``): here; one that a loop
    run by another thread opened, there, waited for up to
    ``FOREIGN_CLOSE_LIMIT`` (that loop stopped or busy: left to it); one
    whose loop is neither running nor closed is left to that loop."""
    here = asyncio.get_running_loop()
    for session in live_sessions():
        loop = session._loop
        if loop is here or loop.is_closed():  # (closed: its child killed and reaped here)
            await session.close()
        elif loop.is_running():
            closing = asyncio.wrap_future(asyncio.run_coroutine_threadsafe(session.close(), loop))
            with contextlib.suppress(TimeoutError):  # (shielded: left to go on, not cut short)
                await asyncio.wait_for(asyncio.shield(closing), FOREIGN_CLOSE_LIMIT)


async def _close_standard_streams(reader: Any, *writers: Any) -> None:
    """Close what aioconsole opened on this process's standard streams for
    this loop, which it never does: each was a ResourceWarning as the loop
    closed, and under ``-W error`` uvloop's close never got past them (the
    process hung, deaf to Ctrl-C).  The descriptors stay open: aioconsole's
    pipes protect them from the transports' close."""
    for writer in writers:
        writer.close()  # (what is still buffered is written first)
    # asyncio's StreamReader has no public way to its transport; none is
    # there when aioconsole reads in a thread (a file, not a pipe or terminal).
    transport = getattr(reader, "_transport", None)
    if transport is not None:
        transport.close()
    await asyncio.sleep(0)  # their connection_lost, before the loop closes


def _is_terminal(stream: Any) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):  # (None, closed, or no descriptor)
        return False
