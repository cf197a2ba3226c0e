"""The telnet end of line split across two writes (Rule 3 of ``_telnet``).

A write that ends with CR sent the Enter (CR in binary mode, CR NUL in the
NVT's): an LF that starts the next write is its end of line's, and is
dropped, but once the peer has said something since (it took the Enter,
and answered): an LF then is a key of its own (Ctrl-J), sent, and the
peer reads an empty line.  What was done is kept (``dropped``): only the
transport knows whether the peer answered in between, and ``execute``
counts the lines the peer read (``_typed``).
"""

from __future__ import annotations

import collections

__all__ = ["SplitEnter"]

#: How many LFs dropped are remembered: as many as a session keeps sends.
KEPT = 256


class SplitEnter:
    """The CR LF split across writes of one telnet connection.  Bytes are
    counted as ``Session.bytes_out`` counts them: each write's, but for the
    Ctrl-C of ``send_interrupt``, no send of a session's (taken off ``handed``)."""

    __slots__ = ("_after_cr", "_dropped", "handed")

    def __init__(self) -> None:
        self._after_cr: int | None = None  # the last byte written was CR: the chunks heard then
        self._dropped: collections.deque[int] = collections.deque(maxlen=KEPT)
        self.handed = 0  # bytes written so far (as counted: see above)

    def take(self, data: bytes, heard: int) -> bytes:
        """``data``, written with ``heard`` chunks of data received so far,
        without an LF that ends the CR written last, with nothing heard since."""
        self.handed += len(data)
        if self._after_cr == heard and data.startswith(b"\n"):
            data = data[1:]
            self._dropped.append(self.handed)
        self._after_cr = heard if data.endswith(b"\r") else None
        return data

    def on_its_way(self, heard: int) -> None:
        """What came in since the last write ended with CR was on its way
        already (see ``TelnetTransport.write``): no answer to the Enter."""
        if self._after_cr is not None:
            self._after_cr = heard

    def dropped(self, end: int) -> bool:
        """Whether the write that ended ``end`` bytes into those written
        began with an LF dropped (one end of line with the CR before it)."""
        return end in self._dropped
