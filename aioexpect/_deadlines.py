"""A session's deadlines: the pending reader (``Waiter``), the session's
timer that expires it (``Alarm``), and ``expect_any``'s one deadline over
several sessions (``SharedDeadline``), which a ``divert`` holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._matcher import Searcher

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["EXPIRED", "Alarm", "SharedDeadline", "Waiter", "held_deadlines", "shared_deadline"]


class Waiter:
    """The pending read: its searcher and its future."""

    __slots__ = ("future", "searcher")

    def __init__(self, searcher: Searcher, future: asyncio.Future[Any]) -> None:
        self.searcher = searcher
        self.future = future

    def expire(self) -> None:
        if not self.future.done():
            self.future.set_result(EXPIRED)


class Alarm:
    """A session's deadline timer, kept from one wait to the next.

    A wait sets a deadline; the timer moves only when that deadline is
    earlier than the time it is set for.  When it goes off before the current
    deadline (a later wait moved it) it is set again; with no wait under way
    it lapses.  So a run of expects with the same timeout costs no timer
    each, where a timer per wait cost about a tenth of a round trip's CPU.
    Holds no reference to the session.
    """

    __slots__ = ("_deadline", "_handle", "_loop", "_waiter", "_when")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._when = 0.0  # the handle's time
        self._deadline = 0.0
        self._waiter: Waiter | None = None  # None: no deadline

    def set(self, loop: asyncio.AbstractEventLoop, deadline: float, waiter: Waiter) -> None:
        """Expire ``waiter`` at loop time ``deadline`` unless cleared first."""
        self._deadline, self._waiter = deadline, waiter
        if self._handle is not None:
            if self._when <= deadline and loop is self._loop:
                return  # it goes off first, and then moves on to the deadline
            self._handle.cancel()
        self._loop, self._when = loop, deadline
        self._handle = loop.call_at(deadline, self._ring)

    def clear(self) -> None:
        """End the current wait's deadline."""
        self._waiter = None

    def suspend(self) -> float | None:
        """End the current wait's deadline; return the seconds it had left
        (None: it had none)."""
        if self._waiter is None or self._loop is None:
            return None
        self._waiter = None
        return max(0.0, self._deadline - self._loop.time())

    def cancel(self) -> None:
        """Stop the timer (the session is closed)."""
        handle, self._handle, self._waiter = self._handle, None, None
        if handle is not None:
            handle.cancel()

    def _ring(self) -> None:
        self._handle = None
        waiter, loop = self._waiter, self._loop
        if waiter is None or loop is None:
            return
        if self._deadline > self._when:  # moved on: go off then
            self._when = self._deadline
            self._handle = loop.call_at(self._deadline, self._ring)
            return
        self._waiter = None
        waiter.expire()


#: What a waiter's future holds when its deadline passed.
EXPIRED = object()


class SharedDeadline:
    """``expect_any``'s one deadline for the waits of several sessions:
    ``expired`` is resolved when it passes.  ``divert`` (an ``attach``) holds
    it while one of those sessions is diverted, as it suspends a session's
    own deadline: the clock stops until the last hold is released."""

    __slots__ = ("_handle", "_holds", "_left", "_loop", "_when", "expired")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.expired: asyncio.Future[None] = loop.create_future()
        self._handle: asyncio.TimerHandle | None = None
        self._left: float | None = None  # seconds to go while stopped (None: no deadline)
        self._when = 0.0  # the timer's loop time, while it runs
        self._holds = 0

    def start(self, delay: float | None) -> None:
        """Run the clock with ``delay`` seconds to go (``None``: no deadline)."""
        self._left = delay
        if delay is not None and not self._holds and not self.expired.done():
            self._when = self._loop.time() + delay
            self._handle = self._loop.call_later(delay, self._expire)

    def left(self) -> float | None:
        """Seconds to the deadline (``None``: none)."""
        if self._handle is None:
            return self._left
        return max(0.0, self._when - self._loop.time())

    def hold(self) -> None:
        self._holds += 1
        self._stop()

    def release(self) -> None:
        self._holds -= 1
        if not self._holds:
            self.start(self._left)

    def cancel(self) -> None:
        """Stop for good (the wait is over); ``left()`` stays as it was."""
        self._stop()
        self.expired.cancel()

    def _stop(self) -> None:
        if self._handle is not None:
            self._left = self.left()
            self._handle.cancel()
            self._handle = None

    def _expire(self) -> None:
        self._handle, self._left = None, 0.0
        if not self.expired.done():
            self.expired.set_result(None)


#: The deadlines of the ``expect_any`` calls waiting on each session, for
#: ``divert`` to hold (see ``shared_deadline``).
_shared: weakref.WeakKeyDictionary[Session, list[SharedDeadline]] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def shared_deadline(sessions: list[Session], deadline: SharedDeadline) -> Iterator[None]:
    """While active, a ``divert`` of any of ``sessions`` holds ``deadline``
    (``expect_any``'s: from its call to its return, between two of its
    waits on a session too)."""
    for session in sessions:
        _shared.setdefault(session, []).append(deadline)
    try:
        yield
    finally:
        for session in sessions:
            held = _shared.get(session, [])
            if deadline in held:
                held.remove(deadline)
            if not held:
                _shared.pop(session, None)


def held_deadlines(session: Session) -> list[SharedDeadline]:
    """The ``expect_any`` deadlines waiting on ``session`` now."""
    return list(_shared.get(session, ()))
