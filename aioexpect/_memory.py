"""In-memory transports wired to each other (``aioexpect.testing.memory_pair``).

What one end writes, the other reads.  Each end buffers at most ``limit``
unread bytes; past that ``write()`` waits (back-pressure).  ``write_eof()``
or ``close()`` on one end is end-of-file for the other; writing to an end
whose peer closed raises ``ConnectionLostError`` (``write_eof()`` returns:
the peer reads no more), as does a write still waiting for room when the
peer closes; one waiting when its own end closes raises ``ClosedError``.
"""

from __future__ import annotations

import asyncio

from ._exceptions import ClosedError, ConnectionLostError
from ._transport import DEFAULT_READ_SIZE, Transport

__all__ = ["MemoryTransport", "memory_pair"]

DEFAULT_LIMIT = 1 << 20


class MemoryTransport(Transport):
    """One end of a ``memory_pair``."""

    kind = "memory"

    def __init__(self, name: str, limit: int | None = DEFAULT_LIMIT) -> None:
        self._name = name
        self._limit = limit
        self._unread = bytearray()
        self._eof = False
        self._closed = False
        self._cut_off = False  # closed with more than limit unread: writers waiting lost it
        self._wrote_eof = False
        self._peer: MemoryTransport | None = None
        self._changed = asyncio.Event()  # data, EOF or close arrived here
        self._drained = asyncio.Event()  # the reader took data (for writers)

    def __repr__(self) -> str:
        return f"<MemoryTransport {self._name} unread={len(self._unread)}>"

    async def read(self, max_bytes: int = DEFAULT_READ_SIZE) -> bytes:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        while True:
            if self._closed:
                raise ClosedError(f"{self._name} is closed")
            if self._unread:
                data = bytes(self._unread[:max_bytes])
                del self._unread[:max_bytes]
                self._drained.set()
                return data
            if self._eof:
                return b""
            self._changed.clear()
            await self._changed.wait()

    async def write(self, data: bytes) -> None:
        if self._closed or self._wrote_eof:
            raise ClosedError(f"{self._name} is closed for writing")
        peer = self._peer
        if peer is None or peer._closed:
            raise ConnectionLostError(f"the peer of {self._name} is gone")
        peer._unread += data
        peer._changed.set()
        while peer._full():
            peer._drained.clear()
            await peer._drained.wait()
            if self._closed:  # (its close wakes this wait too)
                raise ClosedError(f"{self._name} was closed while writing")
        if peer._cut_off:
            raise ConnectionLostError(f"the peer of {self._name} closed before reading it all")

    def _full(self) -> bool:
        """Whether a write to this end waits: more than ``limit`` unread."""
        if self._closed:
            return False
        return self._limit is not None and len(self._unread) > self._limit

    async def write_eof(self) -> None:
        """The peer reads to its end of file; a second call does nothing,
        nor does one to a peer that closed (it reads no more)."""
        if self._closed:
            raise ClosedError(f"{self._name} is closed")
        self._wrote_eof = True
        if self._peer is not None:
            self._peer._hear_eof()

    def _hear_eof(self) -> None:
        self._eof = True
        self._changed.set()

    async def close(self, *, force: bool = False) -> None:
        self.abort()

    def abort(self) -> None:
        if self._closed:
            return
        self._cut_off = self._full()
        self._closed = True
        self._unread.clear()
        self._changed.set()
        self._drained.set()
        if self._peer is not None:
            self._peer._hear_eof()
            self._peer._drained.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peer": f"memory:{self._name}"}.get(name, default)


def memory_pair(limit: int | None = DEFAULT_LIMIT) -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected transports: ``(a, b)``; ``a.write`` is ``b.read``'s data.

    ``limit``: the unread bytes each end holds before a write to it waits
    for the reader (``0``: until all is read; ``None``: unbounded).
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise TypeError(f"limit must be an int or None, not {limit!r}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, not {limit!r}")
    a = MemoryTransport("a", limit)
    b = MemoryTransport("b", limit)
    a._peer, b._peer = b, a
    return a, b
