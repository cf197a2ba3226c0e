"""A session in the event loop it was opened in, and one whose loop closed.

A session's transport reads in the loop that opened it, and nowhere else:
awaited in another loop, a wait would only time out, blaming the peer.  The
usual way there is two ``asyncio.run()`` calls, the first of which closed
its loop on return.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from ._exceptions import ClosedError
from ._transport import Transport

__all__ = ["check_loop", "kill_orphan"]


def check_loop(loop: asyncio.AbstractEventLoop, number: int) -> None:
    """A session waits and sends in the event loop it was opened in: its
    transport reads there, and nowhere else (a wait elsewhere would only
    time out, blaming the peer)."""
    if loop.is_closed():
        raise ClosedError(
            f"session #{number} was opened in an event loop that is closed since"
            " (asyncio.run() closes its loop when it returns): open and use a"
            " session in one loop"
        )
    running = asyncio.events._get_running_loop()
    if running is not None and running is not loop:
        raise RuntimeError(
            f"session #{number} belongs to another event loop (the one it was opened in):"
            " use and close it there (from another thread: asyncio.run_coroutine_threadsafe())"
        )


async def kill_orphan(transport: Transport) -> None:
    """SIGKILL the group of a child whose event loop is closed, and reap the
    child here (bounded): that loop would have."""
    pid, reaped = transport.get_extra_info("pid"), transport.get_extra_info("reaped")
    if pid is None or reaped is None or reaped():  # (reaped: its pid may be another's)
        return
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    for _ in range(200):
        if reaped():
            return
        await asyncio.sleep(0.005)
