"""A session's end: ``Session.close``, the abandon of one dropped or whose
event loop closed, and the register of the sessions not closed that both
take it out of (``live_sessions``)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import TYPE_CHECKING

from . import _loops, _opening, _options, _reading
from ._exceptions import ClosedError
from ._monitor import calling

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["abandon", "close", "live"]

#: The sessions of this process, until closed or dropped.
live: weakref.WeakSet[Session] = weakref.WeakSet()
#: The sessions whose close() returned: closed again in another loop, at once.
finished: weakref.WeakSet[Session] = weakref.WeakSet()


async def close(session: Session, force: bool) -> None:
    """``Session.close``: the reader told, the pump and the monitors'
    callbacks stopped, then the transport closed and the logs flushed; a
    second call waits for the transport's first close.  In another running
    event loop: ``RuntimeError``, the session left as it was (unless a close
    returned already: then nothing is left to do)."""
    _opening.check_flag("force", force)
    if session._loop.is_closed():  # (nothing there can be awaited)
        await _loops.kill_orphan(session.transport)
        abandon(session)
        _reading.flush_logs(session)
        return
    if asyncio.events._get_running_loop() is not session._loop:
        if session in finished:  # (nothing left to wait for, in any loop)
            return
        # Refused, before anything changes: its transport closes and its
        # child is reaped in its own loop only (awaited from here, a close
        # hung or left a zombie, the session marked closed).
        _loops.check_loop(session._loop, session.id)
    if session._closed:
        await session.transport.close(force=force)
        finished.add(session)
        return
    session._closed = True
    session._ended.set()
    live.discard(session)
    session._alarm.cancel()
    waiter = session._waiter
    if waiter is not None and not waiter.future.done():
        waiter.future.set_exception(ClosedError(f"session #{session.id} was closed"))
    if session._pump_task is not None:
        session._pump_task.cancel()
    for monitor in session._monitors:  # (one whose callback closes its session goes on)
        monitor.cancel(spare=calling())
    _options.forget_logger(session.log)
    try:
        await session.transport.close(force=force)
    finally:
        await _reading.end_of_close(session)
    finished.add(session)


def abandon(session: Session) -> None:
    """Without its loop (dropped, or the loop closed): abort."""
    session._closed = True
    live.discard(session)
    with contextlib.suppress(Exception):
        _options.forget_logger(session.log)  # (as close() does)
        if session._pump_task is not None:
            session._pump_task.cancel()
        session.transport.abort()
