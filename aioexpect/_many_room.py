"""How many hosts ``run_many`` has open or opening at once: ``concurrency``,
and fewer once the process runs out of file descriptors.

Invariants: at most ``size`` hosts are inside; ``size`` never grows; a host
whose opening found no descriptor is tried again only after another host
has left (its session closed, its descriptors freed), and only if another
was inside to leave: otherwise its failure stands.  Hosts waiting come in
first come, first in: a place freed is handed to the first of them (counted
inside from then), so none that comes later takes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._descriptors import exhausted, limit_words

__all__ = ["Retry", "Room"]

_log = logging.getLogger("aioexpect.many")

_T = TypeVar("_T")
#: ``Room.starved``: whether a host whose opening failed (the error, its label) is tried again.
Starved = Callable[[BaseException, str], bool]


class Retry(Exception):
    """The host's opening found no file descriptor: it is to be tried again
    (raised by the attempt, once its session and transcript are closed)."""


class Room:
    """Places for ``concurrency`` hosts, fewer from the first opening that
    finds no descriptor: the room shrinks to the hosts then inside but that
    one, which waits for a place and is tried again (``starved``)."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.size = concurrency
        self.inside = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def run(self, attempt: Callable[[Starved], Awaitable[_T]]) -> _T:
        """``await attempt(self.starved)`` inside; again, once there is a
        place, each time it raises ``Retry``."""
        while True:
            await self._enter()
            try:
                return await attempt(self.starved)
            except Retry:
                continue
            finally:
                self._leave()

    def starved(self, error: BaseException, label: str) -> bool:
        """Whether the host ``label``, inside, whose opening failed with
        ``error``, is to be tried again: the error is for want of a
        descriptor, and another host inside will free some as it leaves."""
        others = self.inside - 1
        if others < 1 or not exhausted(error):
            return False
        if self.size == self.concurrency:
            _log.warning(
                "no file descriptor left (%s) with %d hosts open or opening"
                " (concurrency=%d): a host that finds none waits for another's session"
                " to close and is tried again, with fewer hosts at once from then on;"
                " lower concurrency, or raise the limit",
                limit_words(),
                self.inside,
                self.concurrency,
            )
        self.size = min(self.size, others)
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
        while self._waiting and self.inside < self.size:  # the place, to the first waiting
            waiter = self._waiting.popleft()
            if not waiter.done():
                self.inside += 1
                waiter.set_result(None)
