"""Our side of telnet option negotiation, for the telnet adapter: the gate
its replies pass (Rule 1 of ``_telnet``) and the BINARY offer (Rule 3)."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
from typing import Any

from telnetlib3 import TelnetWriter
from telnetlib3.telopt import BINARY
from telnetlib3.telopt import WILL as SEND_WILL
from telnetlib3.telopt import WONT as SEND_WONT

__all__ = ["REPLY_LIMIT", "BinaryOffer", "ReplyGate", "wants_binary"]

#: Unsent bytes above which replies to negotiation are not written.
REPLY_LIMIT = 1 << 16


class ReplyGate(asyncio.Transport):
    """What the TelnetWriter writes its replies to: the socket, unless the
    peer leaves more than ``REPLY_LIMIT`` bytes unread (Rule 1)."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self.dropped = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._transport.get_write_buffer_size() > REPLY_LIMIT:
            self.dropped += 1
            return
        self._transport.write(data)

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
            writer.iac(SEND_WILL, BINARY)  # skipped if the peer said DO first
        if writer.outbinary or not writer.pending_option.enabled(SEND_WILL + BINARY):
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
        if writer.pending_option.enabled(SEND_WILL + BINARY):
            writer.pending_option[SEND_WILL + BINARY] = False
            writer.iac(SEND_WONT, BINARY)


def wants_binary(encoding: str | None) -> bool:
    """Whether the session sends 8-bit data: any encoding but ASCII, or bytes."""
    if encoding is None:
        return True
    try:
        return codecs.lookup(encoding).name != "ascii"
    except LookupError:
        return True  # the session rejects it with a clear message
