"""Telnet adapter: a TCP connection speaking telnet (RFC 854), as a Transport.

Framing is done here, in bytes: in-band data goes to a bounded buffer (the
session decodes it), complete option commands go to telnetlib3's
``TelnetWriter``, which negotiates TTYPE, NAWS, ECHO, SGA and the rest.
Invariants, whatever the peer sends:

- Rule 1: memory is bounded.  Unread data pauses reading at ``HIGH_WATER``
  (but for what the kernel holds when a failed write ends the connection,
  at most its receive buffer, read at once: see Rule 2); a sub-negotiation
  longer than ``MAX_SUBNEGOTIATION`` is dropped; the peer's requests are
  ignored while it leaves more than ``REPLY_LIMIT`` bytes of our replies
  unread (never answered by halves: see ``ReplyGate``); option commands
  beyond a budget (a storm) are ignored.
- Rule 2: nothing received is lost: data buffered before a reset or an EOF
  is read (or pushed, see ``start_receiving``) before the error or the end,
  also what the kernel still holds when a write fails.  Reading ends with
  the peer's end of file if it came before the failure (its FIN, then a
  reset drawn by what we sent after it): only writes report the failure.
- Rule 3: what the user sends reaches the remote program as sent.  Unless
  the encoding is ASCII, we offer BINARY (RFC 856) for our direction once
  the peer shows it speaks telnet, and ``open_telnet`` waits briefly for
  the answer.  Agreed: bytes go as they are (``IAC`` doubled), except that
  the telnet end of line CR LF goes out as CR, a terminal's Enter key.
  Refused, or a peer that does not negotiate: the NVT rules (``IAC``
  doubled, a bare CR sent as CR NUL), and 8-bit data may not survive.
  Either way ``linesep`` is CR LF and a line ending is exactly one newline
  for a program on the server's terminal, also when its CR ends one write
  and its LF starts the next with nothing heard between (``SplitEnter``).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import math
import re
import socket
import struct
from typing import Any, cast

from telnetlib3 import TelnetWriter
from telnetlib3.telopt import BINARY, CHARSET, LINEMODE, NAWS, NEW_ENVIRON, TSPEED, TTYPE, XDISPLOC

from ._exceptions import ClosedError, ConnectError, ConnectionLostError
from ._inbox import OnData, OnEnd
from ._opening import Progress
from ._options import peer_name
from ._redact import mask_around
from ._telnet_enter import SplitEnter
from ._telnet_options import REPLY_LIMIT, BinaryOffer, PeerRemarks, ReplyGate, wants_binary
from ._telnet_scan import MAX_SUBNEGOTIATION, TelnetScanner
from ._transport import DEFAULT_READ_SIZE, Transport, was_reset

__all__ = [
    "HIGH_WATER",
    "MAX_SUBNEGOTIATION",
    "REPLY_LIMIT",
    "TelnetScanner",
    "TelnetTransport",
    "open_telnet",
]

_log = logging.getLogger("aioexpect")

#: Unread bytes above which the socket stops being read.
HIGH_WATER = 1 << 20
LOW_WATER = HIGH_WATER // 4
#: Option commands answered: a burst of this many, refilled at RATE per second.
BURST, RATE = 4096, 256.0
CLOSE_GRACE = 1.0
#: How long ``open_telnet`` waits for the peer's first telnet command, then
#: for its answer to our WILL BINARY, before it settles for the NVT.
FIRST_WORD_WAIT, BINARY_ANSWER_WAIT = 0.5, 1.0

_BARE_CR = re.compile(rb"\r(?!\n)")


class _Push:
    """A receiver of push delivery (``start_receiving``)."""

    __slots__ = ("ended", "on_data", "on_end", "ready", "stopped")

    def __init__(self, on_data: OnData, on_end: OnEnd) -> None:
        self.on_data = on_data
        self.on_end = on_end
        self.ready = False  # what was buffered before has been handed over
        self.stopped = False  # on_data said no more, until resume_receiving
        self.ended = False


class _Protocol(asyncio.Protocol):
    """The socket's callbacks: scanner in; bounded buffer out, or straight
    to a push receiver when it is ready and nothing waits in the buffer."""

    def __init__(
        self, term_type: str, dimensions: tuple[int, int], encoding: str | None, peer: str
    ) -> None:
        self.term_type = term_type
        self.encoding = encoding
        self.peer = peer  # host:port, for errors
        self.rows, self.cols = dimensions
        self.transport: asyncio.Transport | None = None
        self.writer: TelnetWriter | None = None
        self.gate: ReplyGate  # (made with the connection, as the writer is)
        self.scanner = TelnetScanner(self._on_data, self._on_command)
        self.buffer = bytearray()
        self.heard = 0  # chunks of data received (see TelnetTransport.encode)
        self.eof = False
        self.error: BaseException | None = None  # what ends reading (None: end of file)
        self.lost: BaseException | None = None  # what ended the connection (writes say it)
        self.paused = False
        self.changed = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = asyncio.Event()
        self.binary = BinaryOffer(wants_binary(encoding))
        self.push: _Push | None = None
        self._tokens = float(BURST)
        self._stamp = 0.0
        self._storm_logged = False

    # -- asyncio.Protocol --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports quack like asyncio.Transport without inheriting it.
        self.transport = cast(asyncio.Transport, transport)
        self._stamp = asyncio.get_running_loop().time()
        # Telnet servers send the DM of a "synch" (after an interrupt) as TCP
        # urgent data: inline, or the IAC before it is left in the stream.
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
        self.gate = ReplyGate(self.transport)
        writer = TelnetWriter(self.gate, self, client=True)
        # Not telnetlib3's module logger (see PeerRemarks); an adapter has
        # the methods the writer calls.
        writer.log = cast(logging.Logger, PeerRemarks())
        writer.compression = False  # no MCCP: a zip bomb is one WILL away
        writer.always_wont.add(LINEMODE)
        if not self.binary.wanted:
            writer.always_wont.add(BINARY)
        if self.encoding is None:
            # A bytes session has no character set to agree on: declined at
            # DO, not REJECTED after the server's offer (which telnetlib3's
            # server logs as a warning).
            writer.always_wont.add(CHARSET)
        writer.set_ext_send_callback(TTYPE, lambda: self.term_type)
        writer.set_ext_send_callback(NAWS, lambda: (self.rows, self.cols))
        writer.set_ext_send_callback(TSPEED, lambda: (38400, 38400))
        writer.set_ext_send_callback(XDISPLOC, lambda: "")
        writer.set_ext_send_callback(NEW_ENVIRON, self._environ)
        writer.set_ext_send_callback(CHARSET, self._charset)
        self.writer = writer

    def data_received(self, data: bytes) -> None:
        self.scanner.feed(data)

    def eof_received(self) -> bool:
        self.eof = True
        self.changed.set()
        self.binary.settle()
        self._end_push()
        return True  # half-open: we may still send

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc
        if exc is not None and not self.eof:
            self.error = self._last_read(exc)
        self.eof = True
        self.changed.set()
        self.writable.set()
        self.gone.set()
        self.binary.settle()
        self._end_push()

    def _last_read(self, exc: Exception) -> Exception | None:
        """What ends reading, the connection having ended with ``exc`` before
        the peer's end of file was read: ``None`` for an end of file.

        A write that fails ends the transport, and both loops stop reading
        then, while the kernel may still hold what the peer sent last and
        its end: a reply of ours (to its options, or a line the user sent)
        that reached a peer that had just hung up drew a reset.  That is read
        here, before the socket is closed.  EPIPE from a write means that the
        reset came after the peer's FIN (TCP's CLOSE_WAIT): reading ends
        cleanly, only writing failed.  Any other error stays the end of
        reading, after the data (Rule 2)."""
        if not isinstance(exc, OSError):
            return exc
        ended = self._read_what_is_left()
        return None if ended and isinstance(exc, BrokenPipeError) else exc

    def _read_what_is_left(self) -> bool:
        """Feed the scanner what the kernel still holds for the socket, read
        from a copy of it (the transport's own is not to be read); whether
        its end (``b""``) came.  At most the socket's receive buffer: after
        a reset nothing more arrives."""
        sock = None if self.transport is None else self.transport.get_extra_info("socket")
        if sock is None:
            return False
        try:
            with sock.dup() as copy:
                copy.setblocking(False)
                left = copy.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
                while left > 0:
                    data = copy.recv(min(left, DEFAULT_READ_SIZE))
                    if not data:
                        return True
                    left -= len(data)
                    self.scanner.feed(data)
        except OSError:  # nothing more for now (the connection is up), or the kernel's error
            pass
        return False

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Asked by the TelnetWriter."""
        if self.transport is None:
            return default
        return self.transport.get_extra_info(name, default)

    # -- scanner callbacks ---------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        self.heard += 1
        self.binary.on_data()
        push = self.push
        if push is not None and push.ready and not push.stopped and not self.buffer:
            if not push.on_data(data):
                push.stopped = True
                self._pause()
            return
        self.buffer += data
        self.changed.set()
        if len(self.buffer) >= HIGH_WATER or (push is not None and push.stopped):
            self._pause()

    def _pause(self) -> None:
        if not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    # -- push delivery ---------------------------------------------------------------

    def hand_over(self) -> None:
        """Start push delivery: the buffered data first, then what arrives."""
        if self.push is not None:
            self.push.ready = True
            self.drain()

    def drain(self) -> None:
        """Push what the buffer holds while the receiver takes it; then read
        on, or report the end."""
        push = self.push
        if push is None or not push.ready or push.ended:
            return
        while self.buffer and not push.stopped:
            data = bytes(self.buffer)
            self.buffer.clear()
            push.stopped = not push.on_data(data)
        if push.stopped:
            self._pause()
            return
        self.changed.clear()
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        self._end_push()

    def _end_push(self) -> None:
        """Report the end to the push receiver, once, after all data."""
        push = self.push
        if push is None or not push.ready or push.ended or self.buffer or not self.eof:
            return
        push.ended = True
        push.on_end(None if self.error is None else _lost(self.peer, self.error))

    def _on_command(self, command: bytes) -> bool:
        if not self._spend():
            return False
        writer = self.writer
        if writer is None:
            return False
        if self.gate.ignores(command):
            return True
        try:
            for byte in command:
                writer.feed_byte(bytes((byte,)))
        except Exception as exc:  # a hostile or broken peer: never our crash
            _log.debug("telnet: ignored bad option command %r: %s", command[:16], exc)
        self.scanner.binary = writer.inbinary
        self.binary.on_command(writer)
        return True

    def _spend(self) -> bool:
        """Token bucket against negotiation storms (said once a storm: a
        steady one would refill a token, and re-arm the warning, 256 times a
        second)."""
        now = asyncio.get_running_loop().time()
        self._tokens = min(float(BURST), self._tokens + (now - self._stamp) * RATE)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            if self._tokens >= BURST - 1:  # refilled: a storm, if any, is over
                self._storm_logged = False
            return True
        if not self._storm_logged:
            self._storm_logged = True
            _log.warning("telnet: negotiation storm from the peer, ignoring option commands")
        return False

    def _charset(self, offers: list[str]) -> str | None:
        """Accept the session's own encoding if offered (CHARSET, RFC 2066)."""
        if self.encoding is None:
            return None
        for offer in offers:
            with contextlib.suppress(LookupError):
                if codecs.lookup(offer).name == codecs.lookup(self.encoding).name:
                    return offer
        return None

    def _environ(self, keys: list[str]) -> dict[str, str]:
        env = {"TERM": self.term_type, "LINES": str(self.rows), "COLUMNS": str(self.cols)}
        return {k: env[k] for k in keys if k in env} if keys else env

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if not self.buffer:
            self.changed.clear()
        if self.paused and len(self.buffer) <= LOW_WATER and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data


class TelnetTransport(Transport):
    """A telnet connection; ``linesep`` is the NVT's end of line, CR LF,
    sent as CR when BINARY is agreed (see Rule 3)."""

    kind = "telnet"
    linesep = "\r\n"

    def __init__(
        self,
        transport: asyncio.Transport,
        protocol: _Protocol,
        *,
        peer: str,
        linesep: str = "\r\n",
    ) -> None:
        self.linesep = linesep
        self._split = SplitEnter()  # a CR LF split across writes (see encode)
        self._transport = transport
        self._protocol = protocol
        self._gate = protocol.gate  # (everything we send goes through it)
        self._peer = peer
        self._closed = False
        self._closing: asyncio.Future[None] | None = None

    async def read(self, max_bytes: int = DEFAULT_READ_SIZE) -> bytes:
        protocol = self._protocol
        if protocol.push is not None:
            raise RuntimeError("read() after start_receiving(): data is pushed")
        while True:
            self._check_open()
            if protocol.buffer:
                return protocol.take(max_bytes)
            if protocol.error is not None:
                raise _lost(self._peer, protocol.error)
            if protocol.eof:
                return b""
            await protocol.changed.wait()

    def start_receiving(self, on_data: OnData, on_end: OnEnd) -> bool:
        """Push delivery: data goes to ``on_data`` as the socket delivers it,
        without a read (and a task switch) per chunk."""
        protocol = self._protocol
        if self._closed or protocol.push is not None:
            return False
        protocol.push = _Push(on_data, on_end)
        asyncio.get_running_loop().call_soon(protocol.hand_over)
        return True

    def resume_receiving(self) -> None:
        push = self._protocol.push
        if push is not None and push.stopped and not self._closed:
            push.stopped = False
            asyncio.get_running_loop().call_soon(self._protocol.drain)

    async def write(self, data: bytes) -> None:
        self._check_open()
        if self._gate.eof_sent:
            raise ClosedError("write after write_eof() on the telnet connection")
        protocol = self._protocol
        if protocol.gone.is_set() or self._transport.is_closing():
            raise _lost(self._peer, protocol.lost)
        self._gate.send(self.encode(data))
        if self._transport.get_write_buffer_size() and not self._transport.is_closing():
            # uvloop before 0.23 sends at the end of the loop's pass, not in
            # write(), so a send that fails shows only then: one pass.  asyncio
            # and later uvloop send here, and hold data back only from a full
            # socket, where a pass costs nothing worth counting.
            await asyncio.sleep(0)
            self._split.on_its_way(self._protocol.heard)  # (an LF next is the Enter's still)
        if self._transport.is_closing():
            # The write failed: the transport ends itself, and tells why in
            # connection_lost (soon).  The data did not go: the sender is told.
            await protocol.gone.wait()
        elif not protocol.writable.is_set():
            await protocol.writable.wait()
        self._check_open()
        if protocol.lost is not None:
            raise _lost(self._peer, protocol.lost)

    def encode(self, data: bytes) -> bytes:
        """Outgoing data on the wire: IAC doubled; in binary mode the end of
        line CR LF as CR; otherwise the NVT's bare CR as CR NUL.  A CR LF
        split across writes is one Enter in both modes (the LF dropped),
        unless the peer answered the CR in between (``SplitEnter``)."""
        if not data:
            return data
        data = self._split.take(data, self._protocol.heard).replace(b"\xff", b"\xff\xff")
        writer = self._protocol.writer
        if writer is None or not writer.outbinary:
            return _BARE_CR.sub(b"\r\x00", data)
        return data.replace(b"\r\n", b"\r")

    def lf_dropped(self, end: int) -> bool:
        """Whether the write that ended ``end`` bytes into those written (as
        ``Session.bytes_out`` counts them) began with an LF dropped as the
        end of the CR written before it; sent, the peer read an empty line."""
        return self._split.dropped(end)

    async def send_interrupt(self) -> None:
        self._split.handed -= 1  # (no send of a session's: see lf_dropped)
        await self.write(b"\x03")

    async def write_eof(self) -> None:
        """Half-close the TCP connection (most servers then hang up); again, or once
        it ended: nothing, but after a reset reading ended with: ``ConnectionLostError``."""
        self._check_open()
        protocol, transport = self._protocol, self._transport
        if self._gate.eof_sent:
            return
        if protocol.error is not None:  # (None: reading ended at the server's end of file)
            raise _lost(self._peer, protocol.lost or protocol.error)
        self._gate.eof_sent = True  # (a reset not read yet: reading says it, after the data)
        gone = protocol.gone.is_set() or transport.is_closing() or was_reset(transport)
        if transport.can_write_eof() and not gone:
            try:
                transport.write_eof()
            except (OSError, RuntimeError) as exc:  # (RuntimeError: uvloop's, once closed)
                self._gate.eof_sent = False
                raise _lost(self._peer, exc) from exc

    def set_winsize(self, rows: int, cols: int) -> None:
        """Tell the server the new size (NAWS), if it asked for NAWS; once
        nothing more can be sent (after ``write_eof()``, or the connection's
        end) the size is only recorded, as a pty's would be."""
        self._check_open()
        protocol = self._protocol
        protocol.rows, protocol.cols = rows, cols
        writer = protocol.writer
        if writer is None or not writer.local_option.enabled(NAWS):
            return
        if self._gate.eof_sent or protocol.gone.is_set() or self._transport.is_closing():
            return
        size = struct.pack("!HH", min(cols, 65535), min(rows, 65535))
        # Sent as our data is, not as a reply: however much of a long send
        # still waits, the server is told the latest size.
        self._gate.send(b"\xff\xfa" + NAWS + size.replace(b"\xff", b"\xff\xff") + b"\xff\xf0")

    async def close(self, *, force: bool = False) -> None:
        """Let the peer take what is queued for up to ``CLOSE_GRACE`` seconds
        (none with ``force=True``), then abort.  A later call waits for the
        first (``force=True`` aborts at once); a close cancelled on the way
        aborts, so that the socket never outlives it."""
        if self._closing is not None:
            if force:
                self._transport.abort()
            await asyncio.shield(self._closing)
            return
        self._closing = asyncio.get_running_loop().create_future()
        self._shut()
        try:
            if force:
                self._transport.abort()
            else:
                self._transport.close()
            async with asyncio.timeout(CLOSE_GRACE):
                await self._protocol.gone.wait()
        except TimeoutError:
            # The peer does not take what is queued: give up on it.
            self._transport.abort()
            await self._protocol.gone.wait()
        except asyncio.CancelledError:
            self._transport.abort()
            raise
        finally:
            self._closing.set_result(None)

    def abort(self) -> None:
        self._shut()
        self._transport.abort()

    def _shut(self) -> None:
        """Closed: a pending read or write raises ``ClosedError``, and
        nothing more is delivered."""
        self._closed = True
        self._protocol.push = None
        self._protocol.changed.set()
        self._protocol.writable.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peer":
            return self._peer
        if name == "term_type":
            return self._protocol.term_type
        if name == "columns":  # (what NAWS says, or would say if asked)
            return self._protocol.cols
        if name == "sockname":
            return self._transport.get_extra_info("sockname", default)
        return default

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"telnet connection to {self._peer} is closed")


def _lost(peer: str, exc: BaseException | None) -> ConnectionLostError:
    error = ConnectionLostError(f"telnet connection to {peer} lost: {exc or 'closed'}")
    error.__cause__ = exc
    return error


async def open_telnet(
    host: str,
    port: int,
    *,
    term_type: str,
    dimensions: tuple[int, int],
    connect_timeout: float | None,
    encoding: str | None = "utf-8",
    secret: str | None = None,
    progress: Progress | None = None,
) -> Transport:
    """Open the TCP connection (within ``connect_timeout`` s; ``None``: no limit).

    Negotiation is driven by the server and answered as it arrives.  Unless
    ``encoding`` is ASCII, BINARY is offered for our direction and the
    transport returned once the answer is in (or after a short bounded
    wait, see Rule 3), with ``linesep`` to match.  Otherwise the transport
    is returned as soon as the connection is up.  ``encoding`` is also what
    we accept if the server proposes a CHARSET; the session decodes.
    ``progress``, if given, keeps which of the two it is in.
    """
    peer = peer_name(host, port, secret)  # (the password: masked, if equal to either)
    loop = asyncio.get_running_loop()
    until = None if connect_timeout is None else loop.time() + connect_timeout
    try:
        async with asyncio.timeout(connect_timeout):
            transport, protocol = await loop.create_connection(
                lambda: _Protocol(term_type, dimensions, encoding, peer), host, port
            )
    except TimeoutError as exc:
        raise ConnectError(
            f"telnet connection to {peer} timed out after {connect_timeout:g} s",
            host=host,
            port=port,
        ) from exc
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
        # (the OS's words name the address: ``('127.0.0.1', 2323)``)
        text = mask_around(str(exc), secret, [host, str(port)])
        error = ConnectError(f"telnet connection to {peer} failed: {text}", host=host, port=port)
        raise error from (None if secret and secret in str(exc) else exc)
    if progress is not None:
        progress.reached("negotiating telnet options")
    try:
        cap = math.inf if connect_timeout is None else connect_timeout / 4  # each wait
        await protocol.binary.wait(min(FIRST_WORD_WAIT, cap), min(BINARY_ANSWER_WAIT, cap), until)
    except BaseException:
        transport.abort()
        raise
    protocol.binary.finish(protocol.writer)
    return TelnetTransport(transport, protocol, peer=peer)
