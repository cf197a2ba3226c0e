"""How many hosts ``run_many`` has open or opening at once: ``concurrency``,
and fewer while the process is out of file descriptors.

Invariants: at most ``size`` hosts are inside, and ``size`` is never more
than ``concurrency`` nor less than 1; it shrinks only when an opening finds
no descriptor, and grows back only after as many openings as it holds have
found theirs, by at most half and as far as descriptors are free, never
before a shortage (below the limit a run costs one comparison a host).  A
host whose opening found no descriptor is tried again only after another
host has left (its session closed, its descriptors freed), and only if
another was inside to leave: otherwise its failure stands.  Hosts waiting
come in first come, first in: a place freed, or added, is handed to the
first of them (counted inside from then), so none that comes later takes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ._descriptors import exhausted, free, limit_words

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["Retry", "Room"]

_log = logging.getLogger("aioexpect.many")

_T = TypeVar("_T")


class Retry(Exception):
    """The host's opening found no file descriptor: it is to be tried again
    (raised by the attempt, once its session and transcript are closed)."""


class Room:
    """Places for ``concurrency`` hosts, fewer from an opening that finds no
    descriptor: the room shrinks to the hosts then inside but that one,
    which waits for a place and is tried again (``starved``); it grows back
    toward ``concurrency`` as openings find descriptors again (``opened``)."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.size = concurrency
        self.inside = 0
        self._opened = 0  # openings that found descriptors since the size last changed
        self._holding: dict[asyncio.Task[object] | None, Session] = {}  # opened since a shortage
        self._warned = False
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def run(self, attempt: Callable[[Room], Awaitable[_T]]) -> _T:
        """``await attempt(self)`` inside; again, once there is a place, each
        time it raises ``Retry``."""
        while True:
            await self._enter()
            try:
                return await attempt(self)
            except Retry:
                continue
            finally:
                self._leave()

    def opened(self, session: Session) -> None:
        """A host inside has opened ``session``.  After a shortage, once as
        many openings as the room holds have found their descriptors, it
        grows by half (at least one), up to ``concurrency``, and by no more
        than the descriptors free now less those the hosts inside still
        opening, or closing (the host next in its place opens anew), will
        take (one each at least; with none to spare, it looks again after as
        many openings more)."""
        if self.size == self.concurrency:
            return  # (never short, or grown back: the cost below the limit)
        self._holding[asyncio.current_task()] = session
        self._opened += 1
        if self._opened < self.size:
            return
        self._opened = 0
        step = min(max(1, self.size // 2), self.concurrency - self.size)
        now = free()
        if now is not None:  # (hosts that opened before the shortage count as opening)
            holding = sum(not session.closed for session in self._holding.values())
            step = min(step, now - (self.inside - holding))
        if step > 0:
            self.size += step
            _log.debug("descriptors free again: up to %d hosts at once", self.size)
            self._admit()

    def starved(self, error: BaseException, label: str) -> bool:
        """Whether the host ``label``, inside, whose opening failed with
        ``error``, is to be tried again: the error is for want of a
        descriptor, and another host inside will free some as it leaves."""
        others = self.inside - 1
        if others < 1 or not exhausted(error):
            return False
        if not self._warned:
            self._warned = True
            _log.warning(
                "no file descriptor left (%s) with %d hosts open or opening"
                " (concurrency=%d): a host that finds none waits for another's session"
                " to close and is tried again, with fewer hosts at once until descriptors"
                " are free again; lower concurrency, or raise the limit",
                limit_words(),
                self.inside,
                self.concurrency,
            )
        self.size = min(self.size, others)
        self._opened = 0
        _log.debug("%s: no file descriptor left, tried again later (%d at once)", label, self.size)
        return True

    async def _enter(self) -> None:
        if self.inside < self.size:  # (then no host waits: a place is handed to the first)
            self.inside += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter  # (woken with the place already its own: none came in before it)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # woken: the place is the next's
                self._leave()
            raise

    def _leave(self) -> None:
        self.inside -= 1
        if self._holding:
            self._holding.pop(asyncio.current_task(), None)
        self._admit()

    def _admit(self) -> None:
        """Hand the places free, each to the first host waiting."""
        while self._waiting and self.inside < self.size:
            waiter = self._waiting.popleft()
            if not waiter.done():
                self.inside += 1
                waiter.set_result(None)
