"""Forking safely beside other threads: aioexpect's spawns take turns across
the process, and the pre-exec step that gives a child its terminal.

Rule 1: one aioexpect spawn forks at a time in the process.  uvloop's spawn
refuses to start while a loop in another thread is forking ("Racing with
another loop to spawn a process"), and leaks three descriptors each time it
refuses; tasks of one loop queue on that loop's lock, other threads wait
their turn without blocking their loops.

Rule 2: the pre-exec step acts only in the child of the thread that spawned.
uvloop runs it from a process-wide fork hook, armed before it runs Python's
own fork hooks, so a fork that another thread makes in that moment runs the
step too, in a child that must not take our terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable

__all__ = ["acquire_tty", "spawn_turn"]

#: Held while an aioexpect spawn forks (and until the loop has the child).
_FORKING = threading.Lock()
#: Seconds between looks at a turn another thread holds (doubling to the cap).
FIRST_PAUSE, MAX_PAUSE = 0.0002, 0.005


class _Queue:
    """The spawns of one loop waiting for their turn.  Dropped when the last
    one is done: a contended asyncio.Lock keeps its loop alive."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


_queues: dict[asyncio.AbstractEventLoop, _Queue] = {}


@contextlib.asynccontextmanager
async def spawn_turn() -> AsyncIterator[None]:
    """Wait until no other aioexpect spawn is forking, then hold the turn."""
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = _Queue()
    queue.users += 1
    try:
        async with queue.lock:
            pause = FIRST_PAUSE
            while not _FORKING.acquire(blocking=False):  # another thread's: ms at most
                await asyncio.sleep(pause)
                pause = min(2 * pause, MAX_PAUSE)
            try:
                yield
            finally:
                _FORKING.release()
    finally:
        queue.users -= 1
        if not queue.users:
            del _queues[loop]


def acquire_tty(fd: int) -> Callable[[], None]:
    """The pre-exec step that makes pty slave ``fd`` the child's controlling
    terminal (in a new session); it does nothing in another thread's child."""
    import fcntl
    import termios

    spawner = threading.get_ident()

    def preexec() -> None:  # runs in the child, between fork and exec
        if threading.get_ident() != spawner:  # only the forking thread lives on
            return
        try:
            if os.getsid(0) != os.getpid():
                os.setsid()
            fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
        except OSError as exc:
            raise OSError(f"cannot make the pty its controlling terminal: {exc}") from None

    return preexec
