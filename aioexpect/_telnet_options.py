"""Our side of telnet option negotiation, for the telnet adapter: the gate
its replies pass (Rule 1 of ``_telnet``), the BINARY offer (Rule 3), and
where telnetlib3's remarks on the peer's negotiation are logged."""

from __future__ import annotations

import asyncio
import codecs
import collections
import contextlib
import logging
from typing import Any

from telnetlib3 import TelnetWriter
from telnetlib3.telopt import BINARY, DONT, WILL, WONT

from ._redact import escape

__all__ = ["REPLY_LIMIT", "BinaryOffer", "PeerRemarks", "ReplyGate", "wants_binary"]

#: Bytes of our replies to negotiation left unread by the peer above which
#: its requests are ignored.
REPLY_LIMIT = 1 << 16


class ReplyGate(asyncio.Transport):
    """Every byte we send passes here: the user's data and sizes (``send``)
    and the TelnetWriter's replies to negotiation (``write``: the gate is
    the writer's transport).

    Replies are counted until the socket has taken them (what the user
    sends is not), so that the adapter can ignore the peer's requests while
    more than ``REPLY_LIMIT`` bytes of replies wait (Rule 1 of ``_telnet``)
    instead of letting telnetlib3 take an option on while its answer is
    lost.  After our EOF nothing more can go out: replies are dropped.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._written = 0  # bytes handed to the transport, ever
        # [end (in _written), size] of runs of replies perhaps still unsent
        self._replies: collections.deque[list[int]] = collections.deque()
        self._unsent = 0  # their sizes, summed
        self.eof_sent = False

    def send(self, data: bytes) -> None:
        """Our own data: written whatever waits before it."""
        self._transport.write(data)
        self._written += len(data)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """A reply (telnetlib3 checks ``is_closing`` first)."""
        if self.eof_sent:
            return  # (asyncio would raise; the adapter ignores requests by now)
        start = self._written
        self.send(bytes(data))
        if self._replies and self._replies[-1][0] == start:  # one run: one entry
            self._replies[-1][0] = self._written
            self._replies[-1][1] += len(data)
        else:
            self._replies.append([self._written, len(data)])
        self._unsent += len(data)

    def ignores(self, command: bytes) -> bool:
        """Whether the peer's option ``command`` is to be ignored: a request
        (DO, WILL, SB) whose answer could not be written now, after our EOF,
        once the connection is ending (what it sent last is read then), or
        while more than ``REPLY_LIMIT`` bytes of replies wait (a run partly
        sent counts whole).  Ignored whole, rather than taken on by
        telnetlib3 with the answer lost and the peer none the wiser.  DONT
        and WONT need no answer, and the peer acts on them whatever we say."""
        if command[1:2] in (DONT, WONT):
            return False
        if self.eof_sent or self._transport.is_closing():
            return True
        sent = self._written - self._transport.get_write_buffer_size()
        while self._replies and self._replies[0][0] <= sent:
            self._unsent -= self._replies.popleft()[1]
        return self._unsent > REPLY_LIMIT

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def close(self) -> None:
        """The writer never closes the connection; the Transport does."""


class BinaryOffer:
    """Our sending half of BINARY (RFC 856), see Rule 3.

    Offered with the reply to the peer's first option command; settled by
    the peer's answer (DO or DONT), by in-band data before the answer (a
    peer that does not negotiate, or talks without answering: many device
    shells send their options and prompt and never answer), by the end of
    the connection, or by ``finish()`` after ``open_telnet``'s bounded wait.
    """

    def __init__(self, wanted: bool) -> None:
        self.wanted = wanted
        self.offered = False
        self.moved = asyncio.Event()  # offered or settled
        self.settled = asyncio.Event()
        if not wanted:
            self.settle()

    def settle(self) -> None:
        self.settled.set()
        self.moved.set()

    def on_data(self) -> None:
        self.settle()

    def on_command(self, writer: TelnetWriter) -> None:
        if self.settled.is_set():
            return
        if not self.offered:
            self.offered = True
            self.moved.set()
            writer.iac(WILL, BINARY)  # skipped if the peer said DO first
        if writer.outbinary or not writer.pending_option.enabled(WILL + BINARY):
            self.settle()

    async def wait(self, first_word: float, answer: float, until: float | None) -> None:
        """Wait up to ``first_word`` seconds for the first option command,
        then up to ``answer`` for the answer to ours; all of it ends at the
        loop time ``until`` (the opening's deadline)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(until):
                async with asyncio.timeout(first_word):
                    await self.moved.wait()
                if self.offered:
                    async with asyncio.timeout(answer):
                        await self.settled.wait()

    def finish(self, writer: TelnetWriter | None) -> None:
        """Settle for good: binary if agreed, else the NVT for the rest of the
        connection."""
        self.settle()
        if writer is None or writer.outbinary:
            return
        # The NVT from now on: refuse a later DO BINARY, and withdraw an offer
        # still unanswered, so that what follows is NVT to the peer whenever
        # its answer comes (the stream is ordered).
        writer.always_wont.add(BINARY)
        if writer.pending_option.enabled(WILL + BINARY):
            writer.pending_option[WILL + BINARY] = False
            writer.iac(WONT, BINARY)


def wants_binary(encoding: str | None) -> bool:
    """Whether the session sends 8-bit data: any encoding but ASCII, or bytes."""
    if encoding is None:
        return True
    try:
        return codecs.lookup(encoding).name != "ascii"
    except LookupError:
        return True  # the session rejects it with a clear message


class PeerRemarks(logging.LoggerAdapter[logging.Logger]):
    """The TelnetWriter's logger (its ``log``, in place of telnetlib3's own):
    every record at DEBUG at most, on ``aioexpect.telnet``, control
    characters escaped.

    telnetlib3 warns about what the peer sends ("ignoring TTYPE IS from
    server: <its bytes>", "Server sent WONT LOGOUT unsolicited", ...), on
    its module's logger: with logging not configured, Python's last resort
    prints such records to stderr, so a server could write to the user's
    terminal, as often as it likes.  They are remarks on the peer's
    negotiation, which the adapter copes with; whoever wants them turns on
    DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("aioexpect.telnet"))

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        level = min(level, logging.DEBUG)  # (telnetlib3's TRACE stays below)
        if not self.logger.isEnabledFor(level):
            return
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            text = f"{msg} {args!r}"
        self.logger.log(level, "telnetlib3: %s", escape(text), **kwargs)
