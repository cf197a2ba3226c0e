"""The buffer of unmatched data: a *head* that grows in place, then the
latest chunks.

Rule 1: every character is copied into the buffer once.  The head is one
long string; chunks wait behind it until ``batch`` characters (or ``pending``
chunks) have gathered behind the last two, and then move into the head in
one piece.  On CPython a ``str`` referenced only once grows in place, so the
head is extended without copying what it already holds, and a match that
starts in the last two chunks hands the head out as ``Match.before`` without
copying it again: peak memory is the retained text plus a few chunks, not
twice the retained text.

Rule 2: where growing in place is not what happens (bytes, which never grow in
place, an interpreter that does not specialise ``+=`` that way, or Python
3.11 while tracing or profiling), the moved batches stay separate chunks, and
taking a long prefix joins them once, as a plain list would.  Growing in
place leaves the allocator to extend the block: a large one is remapped,
never copied, though the kernel may move its pages to another address.

Consuming a prefix of the head only advances an offset (``skip``); the
consumed part is cut off when more data joins a head that is more than half
consumed, so a long run of small consumes (``lines()`` over a large output)
costs no copies of what follows.
"""

from __future__ import annotations

import dis
import functools
import sys
from typing import Any

__all__ = ["Buffer"]

#: Characters gathered behind the last two chunks before they join the head.
BATCH = 1 << 16
#: ... or this many waiting chunks, whatever their size.
PENDING = 32
#: Python 3.11 does not use a specialised instruction while a trace or
#: profile function is set: then each growth would copy.  So does 3.12
#: under a tracer that reads ``frame.f_locals``, whose snapshot of the
#: frame's locals holds a second reference to the head (3.13's is a proxy).
TRACING_COPIES = sys.version_info < (3, 13)

# The methods each chunk or expect calls compare rather than call min() or
# max(): on Python 3.11 and 3.12 those parse their arguments as keywords
# too, about 1,100 instructions a call where a comparison takes 150.


def _extend(chunks: list[Any], piece: str) -> None:
    """``chunks[0] += piece``, holding the only reference while it grows, so
    that CPython can resize it in place."""
    head = chunks[0]
    chunks[0] = None
    head += piece
    chunks[0] = head


@functools.cache
def grows_in_place() -> bool:
    """Whether ``_extend`` grows the head in place here: CPython (not a
    free-threaded build) specialises its ``+=`` into an in-place append once
    warm.  Checked, not assumed: after a few calls the instruction must have
    been specialised; anything else keeps chunks apart, which is only slower."""
    if sys.implementation.name != "cpython" or not getattr(sys, "_is_gil_enabled", lambda: True)():
        return False
    chunks: list[Any] = [""]
    for _ in range(16):
        _extend(chunks, "x")
    try:
        ops = dis.get_instructions(_extend, adaptive=True)
        return any(op.opname == "BINARY_OP_INPLACE_ADD_UNICODE" for op in ops)
    except (TypeError, ValueError):  # pragma: no cover - an interpreter without it
        return False


class Buffer:
    """Unmatched data.  Offsets are relative to the start of the buffer,
    which moves only when ``consume`` removes a prefix; ``consumed`` counts
    what was removed.  ``chunks[0]`` is the head (maybe empty), of which the
    first ``skip`` characters are consumed; the last ``pending`` chunks wait
    to join it.  ``size`` is ``len()`` without a call (a search reads it
    several times a chunk); read it and ``consumed``, never set them."""

    __slots__ = (
        "_batch",
        "_chunks",
        "_empty",
        "_grow",
        "_pending",
        "_pending_max",
        "_skip",
        "_waiting",
        "consumed",
        "size",
    )

    def __init__(self, empty: str | bytes, *, batch: int = BATCH, pending: int = PENDING) -> None:
        self._empty: Any = empty
        self._chunks: list[Any] = [empty]
        self._skip = 0
        self._pending = 0  # chunks at the end that have not joined the head
        self._waiting = 0  # their characters
        self.size = 0
        self.consumed = 0
        self._batch = batch
        self._pending_max = max(3, pending)
        self._grow = isinstance(empty, str) and grows_in_place()

    def __len__(self) -> int:
        return self.size

    @property
    def empty(self) -> Any:
        """``""`` or ``b""``: what this buffer holds."""
        return self._empty

    def append(self, data: Any) -> None:
        if not data:
            return
        self._chunks.append(data)
        self.size += len(data)
        self._pending += 1
        self._waiting += len(data)
        if self._pending > 2:
            last_two = len(self._chunks[-1]) + len(self._chunks[-2])
            if self._waiting - last_two >= self._batch or self._pending >= self._pending_max:
                self._settle()

    def _settle(self) -> None:
        """Move the waiting chunks, except the last two, into the head."""
        if self._grow and TRACING_COPIES and (sys.gettrace() or sys.getprofile()):
            self._grow = False  # each growth would copy the head
        chunks, n = self._chunks, self._pending
        batch = chunks[-n:-2]
        del chunks[-n:-2]
        piece = _joined(self._empty, batch)
        del batch
        self._pending = 2
        self._waiting -= len(piece)
        if not self._grow:  # a chunk of its own, behind the head
            chunks.insert(len(chunks) - 2, piece)
            return
        head = chunks[0]
        if self._skip and self._skip >= len(head) // 2:
            chunks[0] = head = head[self._skip :]  # costs at most what was consumed
            self._skip = 0
        del head
        _extend(chunks, piece)

    def extended(self, more: Any) -> Buffer:
        """A buffer to search, not to change: this one's data, then
        ``more`` (its chunks shared, not copied)."""
        twin = Buffer(self._empty)
        twin._chunks = [*self._chunks, more] if more else [*self._chunks]
        twin._skip, twin.size, twin._grow = self._skip, self.size + len(more), False
        return twin

    def text(self) -> Any:
        """All buffered data."""
        return self.tail_from(0)

    def _locate(self, pos: int) -> tuple[int, int]:
        """``(i, start)``: chunk ``i`` holds offset ``0 <= pos < len(self)``
        and its first character is at offset ``start`` (the head's may be
        consumed: negative).  Walks from the nearer end."""
        chunks = self._chunks
        if pos < self.size // 2:
            i, start = 0, -self._skip
            while start + len(chunks[i]) <= pos:
                start += len(chunks[i])
                i += 1
        else:
            i, start = len(chunks), self.size
            while start > pos:
                i -= 1
                start -= len(chunks[i])
        return i, start

    def tail_from(self, pos: int) -> Any:
        """Data from offset ``pos`` to the end.

        Costs O(size - pos): the first chunk is sliced before joining, so a
        search window near the end never copies the whole buffer.  (``slice``
        to the end, without its bounds: every regex search calls this, and
        the call through ``slice`` cost 0.14 µs there.)
        """
        pos = pos if pos > 0 else 0
        if pos >= self.size:
            return self._empty
        chunks = self._chunks
        last = chunks[-1]
        start = self.size - len(last)
        if pos >= start:  # (in the last chunk, as a new arrival's search window is)
            return last[pos - start :] if pos > start else last
        i, start = self._locate(pos)
        first = chunks[i][pos - start :] if pos > start else chunks[i]
        if i == len(chunks) - 1:
            return first
        return self._empty.join([first, *chunks[i + 1 :]])

    def slice(self, pos: int, end: int) -> Any:
        """Data from offset ``pos`` to ``end`` (at most ``len(self)``),
        copying only that stretch."""
        pos = max(pos, 0)
        if pos >= end:
            return self._empty
        chunks = self._chunks
        i, start = self._locate(pos)
        chunk = chunks[i]
        if end - start <= len(chunk):
            return chunk[pos - start : end - start]  # the chunk itself if whole
        parts = [chunk[pos - start :]]
        start += len(chunk)
        for chunk in chunks[i + 1 :]:
            if end - start <= len(chunk):
                parts.append(chunk[: end - start])
                break
            parts.append(chunk)
            start += len(chunk)
        return self._empty.join(parts)

    def find(self, sub: Any, start: int) -> int:
        """Offset of the first ``sub`` at or after ``start``, or -1.

        Searches each chunk in place and joins only the few characters around
        each chunk boundary, so finding costs no copy of the data.
        """
        start = start if start > 0 else 0
        if start + len(sub) > self.size:
            return -1
        chunks, edge = self._chunks, len(sub) - 1
        last = chunks[-1]
        offset = self.size - len(last)
        if start >= offset:  # (in the last chunk, as a new arrival's search is)
            at: int = last.find(sub, start - offset)
            return offset + at if at >= 0 else -1
        first, offset = self._locate(start) if start else (0, -self._skip)
        for i in range(first, len(chunks)):
            chunk = chunks[i]
            if edge and offset > start:  # a match across the boundary at ``offset``
                before = min(edge, offset - start)
                at = self._around(i, before, edge).find(sub)
                if 0 <= at < before:
                    return offset - before + at
            at = chunk.find(sub, start - offset if start > offset else 0)
            if at >= 0:
                return offset + at
            offset += len(chunk)
        return -1

    def rfind(self, char: Any, start: int) -> int:
        """Offset of the last ``char`` (one character) at or after
        ``start``, or -1; searches the chunks in place, from the end."""
        chunks, end = self._chunks, self.size
        for i in range(len(chunks) - 1, -1, -1):
            if end <= start:
                break
            chunk = chunks[i]
            begin = end - len(chunk)  # the head's may be consumed: negative
            at: int = chunk.rfind(char, max(start - begin, 0))
            if at >= 0:
                return begin + at
            end = begin
        return -1

    def _around(self, i: int, before: int, after: int) -> Any:
        """Up to ``before`` characters before chunk ``i`` and ``after`` from
        its start on: a short stretch, joined from the chunks it covers."""
        chunks = self._chunks
        head, need, j = [], before, i - 1
        while need > 0 and j >= 0:
            chunk = chunks[j]
            head.append(chunk[-need:] if need < len(chunk) else chunk)
            need -= len(chunk)
            j -= 1
        head.reverse()
        need, j = after, i
        while need > 0 and j < len(chunks):
            chunk = chunks[j]
            head.append(chunk[:need] if need < len(chunk) else chunk)
            need -= len(chunk)
            j += 1
        return self._empty.join(head)

    def give_back(self, text: Any, limit: int | None = None) -> Any:
        """Put ``text``, the last characters consumed, back at the start
        (a reader that consumed text it then could not use, at a failure).
        Past ``limit`` characters (``max_buffer``) the buffer keeps the
        first ``limit``: the rest is taken off its end and returned, for the
        caller to hold ahead of what comes next (a failure's path: one copy)."""
        if not text:
            return self._empty
        self.consumed -= len(text)
        if limit is None or self.size + len(text) <= limit:
            self._chunks[0] = text + self._chunks[0][self._skip :]
            self._skip = 0
            self.size += len(text)
            return self._empty
        whole = text + self.text()
        keep = limit if limit > 0 else 0
        self._chunks, self._skip, self._pending, self._waiting = [whole[:keep]], 0, 0, 0
        self.size = len(self._chunks[0])
        return whole[keep:]

    def consume(self, n: int) -> Any:
        """Remove and return the first ``n`` characters."""
        if n <= 0:
            return self._empty
        chunks, skip = self._chunks, self._skip
        in_head = len(chunks[0]) - skip
        if n < in_head:  # a prefix of the head: no copy of the rest
            self.size -= n
            self.consumed += n
            self._skip = skip + n
            return chunks[0][skip : skip + n]
        # The rest of the head, whole chunks, then maybe part of one more,
        # which becomes the head (the part taken is skipped, not cut off).
        if n >= self.size:  # everything, as most matches end at the end
            n, left, j = self.size, 0, len(chunks)
        else:
            left, j = n - in_head, 1
            while left >= len(chunks[j]):
                left -= len(chunks[j])
                j += 1
        self.size -= n
        self.consumed += n
        parts = chunks[1:j]
        if left:
            parts.append(chunks[j][:left])
        if in_head and self._grow and not skip:  # grow the head and hand it out
            _extend(chunks, _joined(self._empty, parts))
            taken = chunks[0]
        else:
            if in_head:
                parts.insert(0, chunks[0][skip:])
            taken = _joined(self._empty, parts)
        if j == len(chunks):
            self._chunks = [self._empty]
            self._pending = self._waiting = 0
        else:
            del chunks[:j]
            if self._pending >= len(chunks):  # the new head waits no more
                self._pending = len(chunks) - 1
                self._waiting = sum(map(len, chunks[1:]))
        self._skip = left
        return taken


def _joined(empty: Any, parts: list[Any]) -> Any:
    """The parts as one string; a single part as it is."""
    return parts[0] if len(parts) == 1 else empty.join(parts)
