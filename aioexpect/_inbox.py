"""The bounded, cancellation-safe receive buffer of the local adapters.

Invariant: data leaves it only inside ``read()``, after the reader resumed,
so a cancelled read loses nothing; past ``high_water`` bytes it asks its
adapter to stop reading (back-pressure).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Any

from ._exceptions import ClosedError, ConnectionLostError

__all__ = ["HIGH_WATER", "Inbox", "Pusher"]

#: Unread bytes an adapter buffers before it stops reading from the child.
HIGH_WATER = 1 << 18


class Inbox:
    """Bytes received from a peer, waiting for ``read()``.

    Bounded: ``pause`` is called when ``HIGH_WATER`` bytes are buffered and
    ``resume`` once ``read()`` drained below half of that.  Cancellation-safe:
    data leaves the buffer only inside ``read()`` after it resumed, so a
    cancelled ``read()`` loses nothing.  The chunks are kept as received:
    a read that takes one whole chunk returns it without copying.
    """

    def __init__(
        self,
        name: str | Callable[[], str],
        pause: Callable[[], None],
        resume: Callable[[], None],
        high_water: int = HIGH_WATER,
    ) -> None:
        #: For messages (a callable: what it names may change, as secrets
        #: are added to a session whose command line shows one).
        self._name = name
        self._pause = pause
        self._resume = resume
        self._high = high_water
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0  # unread bytes in _chunks
        self._offset = 0  # bytes of _chunks[0] already read
        self._paused = False
        self._eof = False
        self._closed = False
        self._error: BaseException | None = None
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def buffered(self) -> int:
        """How many unread bytes are held."""
        return self._size

    def feed(self, data: bytes) -> None:
        """Queue ``data``, which must not change afterwards (``bytes``)."""
        if not data:
            return
        self._chunks.append(data)
        self._size += len(data)
        if self._size >= self._high and not self._paused:
            self._paused = True
            self._pause()
        self._wake()

    def feed_eof(self, error: BaseException | None = None) -> None:
        """End of data; with ``error``, reads after the buffered data raise
        ``ConnectionLostError``."""
        if error is None:
            self._eof = True
        elif not self._eof:
            self._error = error
        self._wake()

    def _label(self) -> str:
        return self._name if isinstance(self._name, str) else self._name()

    def close(self) -> None:
        """Drop the data; pending and later reads raise ``ClosedError``."""
        self._closed = True
        self._chunks.clear()
        self._size = self._offset = 0
        self._wake()

    async def read(self, max_bytes: int) -> bytes:
        if not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError(f"max_bytes must be a positive int, not {max_bytes!r}")
        while True:
            if self._closed:
                raise ClosedError(f"{self._label()} is closed")
            if self._size:
                return self._take(max_bytes)
            if self._eof:
                return b""
            if self._error is not None:
                raise ConnectionLostError(
                    f"lost the connection to {self._label()}: {self._error}"
                ) from self._error
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                self._waiters.remove(waiter)

    def take_all(self) -> tuple[bytes, bool, BaseException | None]:
        """Hand everything over at once (switching to push delivery):
        ``(data, at end-of-file, error)``; the inbox is empty afterwards."""
        data = self._take(self._size) if self._size else b""
        return data, self._eof, self._error

    def _take(self, max_bytes: int) -> bytes:
        chunks, offset = self._chunks, self._offset
        if self._size <= max_bytes:  # everything: at most one copy
            if offset:
                chunks[0] = chunks[0][offset:]
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            chunks.clear()
            self._size = self._offset = 0
        else:
            parts, need = [], max_bytes
            while need:
                chunk = chunks[0]
                if len(chunk) - offset > need:
                    parts.append(chunk[offset : offset + need])
                    offset += need
                    break
                parts.append(chunk[offset:] if offset else chunk)
                need -= len(chunk) - offset
                chunks.popleft()
                offset = 0
            data = parts[0] if len(parts) == 1 else b"".join(parts)
            self._size -= max_bytes
            self._offset = offset
        if self._paused and self._size < self._high // 2:
            self._paused = False
            self._resume()
        return data

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)


OnData = Callable[[bytes | memoryview], bool]
OnEnd = Callable[[BaseException | None], None]


class Pusher:
    """Push delivery (``Transport.start_receiving``) for an adapter with an
    :class:`Inbox`: what the inbox holds is handed over first, on the next
    loop iteration; until then new data and the end queue behind it in the
    inbox, so nothing is reordered.  ``stop`` is called when the receiver
    wants no more for now; ``lost`` turns an error into the receiver's
    ``ConnectionLostError``.  The end is reported once, after all data.
    """

    __slots__ = ("_inbox", "_lost", "_on_data", "_on_end", "_stop", "ready")

    def __init__(
        self,
        inbox: Inbox,
        on_data: OnData,
        on_end: OnEnd,
        stop: Callable[[], None],
        lost: Callable[[BaseException], BaseException],
    ) -> None:
        self._inbox = inbox
        self._on_data = on_data
        self._on_end = on_end
        self._stop = stop
        self._lost = lost
        self.ready = False  # the inbox's backlog was handed over
        asyncio.get_running_loop().call_soon(self._hand_over)

    def _hand_over(self) -> None:
        # Taking may resume the adapter, which may deliver what it held at
        # once, back into the inbox (SSH's does): take until none is left.
        parts: list[bytes] = []
        while True:
            data, eof, error = self._inbox.take_all()
            parts.append(data)
            if not self._inbox.buffered:
                break
        self.ready = True
        for data in parts:
            if data:
                self.data(data)
        if eof or error is not None:
            self.end(error)

    def data(self, data: bytes | memoryview) -> None:
        """Deliver ``data`` (a view is copied if it has to wait)."""
        if not self.ready:
            self._inbox.feed(data if type(data) is bytes else bytes(data))
        elif not self._on_data(data):
            self._stop()

    def end(self, error: BaseException | None) -> None:
        """End of data: ``error`` is ``None`` at end-of-file."""
        if not self.ready:
            self._inbox.feed_eof(error)
            return
        on_end = self._on_end
        self.cancel()
        on_end(self._lost(error) if error is not None else None)

    def cancel(self) -> None:
        """Deliver nothing more (the transport was closed or ended)."""
        self._on_data, self._on_end = _refuse, _ignore


def _refuse(data: Any) -> bool:
    return False


def _ignore(error: Any) -> None:
    return None
