"""Streams adapter: any asyncio ``StreamReader``/``StreamWriter`` pair as a
Transport (``Session.from_streams``).

The reader's own buffer limit provides the back-pressure; ``OSError`` from
the stream is translated to ``ConnectionLostError`` here.  Under TLS the
TLS layer's read-ahead is cut to what one read of the socket brings
(``_hold_tls_ahead_in_the_kernel``): uvloop dropped what it held unread at
the peer's end, and both loops at a reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
from typing import Any

from ._exceptions import ClosedError, ConnectionLostError
from ._transport import DEFAULT_READ_SIZE, Transport, was_reset

__all__ = ["StreamsTransport", "streams_transport"]

#: Seconds ``close()`` lets the writer flush before aborting the connection.
CLOSE_GRACE = 1.0


def streams_transport(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Transport:
    """Wrap an asyncio stream pair (from ``open_connection``, a server
    callback, a subprocess...) as a Transport."""
    if not isinstance(reader, asyncio.StreamReader):
        raise TypeError(f"reader must be an asyncio.StreamReader, not {type(reader).__name__}")
    if not isinstance(writer, asyncio.StreamWriter):
        raise TypeError(f"writer must be an asyncio.StreamWriter, not {type(writer).__name__}")
    return StreamsTransport(reader, writer)


class StreamsTransport(Transport):
    """A stream pair.  ``write_eof()`` half-closes (``StreamWriter.write_eof``)
    where the underlying transport can (TCP, UNIX sockets, pipes) and raises
    ``TypeError`` where it cannot (TLS); later writes raise ``ClosedError``.
    On a connection already lost (a reset) it raises ``ConnectionLostError``,
    as ``write()`` does, on either event loop.
    A write to a socket whose peer has ended its side first moves what the
    kernel holds into the reader (past its limit by what the kernel held
    for it), so that the failed write after it loses none of it;
    an end of file read before such a failure ends reading cleanly (Linux,
    where ``poll`` has ``POLLRDHUP``; not under TLS).  Under TLS what the
    peer sent before its end arrives whole, also where the reader was paused
    (past its ``limit``) as the end came in.
    ``close()`` flushes for up to ``CLOSE_GRACE`` seconds (none with
    ``force=True``), then aborts the connection; the reader's own transport,
    where it has one (a subprocess's stdout pipe), is read and let go of
    until it ends, within the same grace, then closed.
    """

    kind = "streams"
    linesep = "\n"

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._peer = _peer_name(writer)
        self._closed = False
        self._eof_sent = False
        self._closing: asyncio.Future[None] | None = None
        self._reset: OSError | None = None  # a reset met by _take_what_is_left
        self._watched: Any = None  # the transport _ending polls the socket of
        self._ending: Any = None  # (a select.poll for the peer's end, or None)
        _hold_tls_ahead_in_the_kernel(writer)

    def __repr__(self) -> str:
        return f"<StreamsTransport {self._peer!r} {'closed' if self._closed else 'open'}>"

    async def read(self, max_bytes: int = DEFAULT_READ_SIZE) -> bytes:
        if not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError(f"max_bytes must be a positive int, not {max_bytes!r}")
        self._check_open()
        try:
            data = await self._reader.read(max_bytes)
        except OSError as exc:
            if self._closed:
                raise ClosedError(f"stream {self._peer!r} was closed while reading") from None
            data = _held_back(self._reader, max_bytes)
            if not data and (self._reset is not None or not getattr(self._reader, "_eof", False)):
                # (the reader raises again at the next read)
                error = self._reset or exc
                raise ConnectionLostError(f"lost the connection to {self._peer}: {error}") from exc
            # (else the peer's end of file came before the error: a write
            # into the closed peer drew it; reading ends cleanly, Rule 1)
        if self._closed:
            raise ClosedError(f"stream {self._peer!r} was closed while reading")
        return data

    async def write(self, data: bytes) -> None:
        self._check_open()
        if self._eof_sent:
            raise ClosedError(f"stream {self._peer!r} was closed for writing by write_eof()")
        if self._writer.transport.is_closing():
            raise ConnectionLostError(f"the connection to {self._peer} is closed")
        self._take_what_is_left()
        try:
            self._writer.write(bytes(data))
            await self._writer.drain()
        except OSError as exc:
            if self._closed:
                raise ClosedError(f"stream {self._peer!r} was closed while writing") from None
            raise ConnectionLostError(f"lost the connection to {self._peer}: {exc}") from exc
        if self._closed:  # drain() returns quietly when close() aborted the connection
            raise ClosedError(f"stream {self._peer!r} was closed while writing")

    def _take_what_is_left(self) -> None:
        """Move what the kernel holds for the socket into the reader, where
        the peer has ended its side (its FIN, or a reset, is in): a write
        into a closed peer draws a reset, the write after it fails, and both
        loops then close the socket, with what the peer sent last and its
        end of file still unread there (paused at ``max_buffer``): lost,
        and reading ended with ``ConnectionLostError``.  Read from a copy of
        the socket (the transport does not read a paused one), all of it: the
        kernel held it already, and the peer can send no more.  A reset read here
        (no end of file before it) is the reader's error, as the loop would
        have made it."""
        reader = self._reader
        if getattr(reader, "_eof", True) or reader.exception() is not None:
            return  # (all read already, or the reader's end is known)
        transport = self._writer.transport
        if transport is not self._watched:  # (start_tls() changes it)
            self._watched = transport
            self._ending = _ending_poll(reader, self._writer)
        events = self._ending.poll(0) if self._ending is not None else None
        if not events or not events[0][1] & (select.POLLRDHUP | select.POLLHUP):
            return  # (no end; a POLLERR alone is the loop's to read)
        data, end = _read_what_is_left(_extra_info(self._writer, "socket"))
        if data:
            reader.feed_data(data)
        if isinstance(end, OSError):
            self._reset = end
            reader.set_exception(end)
        elif end:
            reader.feed_eof()

    async def write_eof(self) -> None:
        self._check_open()
        if self._eof_sent:
            return
        if not self._writer.can_write_eof():
            raise TypeError(
                f"the stream to {self._peer} cannot half-close (TLS?): use close() instead"
            )
        # A connection reset (reading ended with the error, no end of file
        # before it) takes no EOF: asyncio's returned quietly, uvloop's
        # raised RuntimeError.  As write() does, say it is gone.  A reset
        # reading has not met (behind data, or no loop saw it: its reading
        # ended at the peer's FIN) is reported by reading, after the data;
        # nothing to half-close then (asyncio's write_eof() raised ENOTCONN).
        transport = self._writer.transport
        error = self._reader.exception()
        if error is not None and not getattr(self._reader, "_eof", False):
            raise ConnectionLostError(
                f"the connection to {self._peer} is closed: {error}"
            ) from error
        if transport.is_closing() or was_reset(transport):
            self._eof_sent = True
            return
        try:
            self._writer.write_eof()
        except (OSError, RuntimeError) as exc:  # (RuntimeError: uvloop's, on a closed transport)
            raise ConnectionLostError(f"lost the connection to {self._peer}: {exc}") from exc
        self._eof_sent = True

    async def close(self, *, force: bool = False) -> None:
        if self._closing is not None:
            if force:
                self._writer.transport.abort()
            await asyncio.shield(self._closing)
            return
        loop = asyncio.get_running_loop()
        self._closing = loop.create_future()
        self._closed = True
        deadline = loop.time() + CLOSE_GRACE
        try:
            if force:
                self._writer.transport.abort()
            else:
                self._writer.close()
            await self._wait_closed()
            if not force:
                await self._let_reader_end(deadline)
        finally:
            self._close_reader()
            self._closing.set_result(None)

    async def _let_reader_end(self, deadline: float) -> None:
        """Where the reader has a transport of its own (a child's stdout),
        what the child writes after its end of input is read and let go of
        until it closes its side or ``deadline`` passes: closed at once, the
        pipe killed a child finishing its queued commands (SIGPIPE at its
        next write); never read, it held one writing much for ever."""
        if _reader_transport(self._reader, self._writer) is None:
            return
        loop = asyncio.get_running_loop()
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            while (left := deadline - loop.time()) > 0:
                if not await asyncio.wait_for(self._reader.read(1 << 16), left):
                    return  # (its end of file)

    async def _wait_closed(self) -> None:
        # wait_closed() awaits the protocol's own future: never cancel it.
        closed = asyncio.ensure_future(self._writer.wait_closed())
        try:
            done, _ = await asyncio.wait([closed], timeout=CLOSE_GRACE)
            if not done:
                # The peer does not take what is queued: give up on it.
                self._writer.transport.abort()
            await closed
        except OSError:
            pass  # the connection broke; it is closed all the same
        except asyncio.CancelledError:
            self._writer.transport.abort()
            raise

    def abort(self) -> None:
        self._closed = True
        with contextlib.suppress(RuntimeError):  # the event loop is already closed
            self._close_reader()
        with contextlib.suppress(RuntimeError):
            self._writer.transport.abort()

    def _close_reader(self) -> None:
        """Close the reader's own transport, if it has one apart from the
        writer's (a subprocess's stdout beside its stdin).  Left open, and
        paused once its buffer filled, it kept a child that writes from ever
        ending (no EPIPE), and asyncio warned of it unclosed at exit."""
        transport = _reader_transport(self._reader, self._writer)
        if transport is not None:
            transport.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``"peer"``: ``host:port`` (or the socket path); ``"fd"``: the
        socket's descriptor; other names go to ``StreamWriter.get_extra_info``."""
        if name == "peer":
            return self._peer
        if name == "fd":
            sock = _extra_info(self._writer, "socket")
            return default if sock is None else sock.fileno()
        return _extra_info(self._writer, name, default)

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"stream {self._peer!r} is closed")


def _reader_transport(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
    """The reader's transport where it is not the writer's, else ``None``.
    ``StreamReader`` has no public way to it: its private ``_transport``
    (CPython 3.11 to 3.13) is read with ``getattr``, so a reader without one
    is left as it is.  After ``StreamWriter.start_tls()`` the reader keeps
    the connection under the writer's TLS: closing the writer closes it,
    after TLS's own goodbye, which closing it first would cut short."""
    transport = getattr(reader, "_transport", None)
    if transport is None or transport is writer.transport:
        return None
    if not callable(getattr(transport, "close", None)):
        return None
    if _extra_info(writer, "sslcontext") is not None:
        return None
    return transport


def _hold_tls_ahead_in_the_kernel(writer: asyncio.StreamWriter) -> None:
    """Have a TLS transport stop reading its socket while it holds records
    its reader has not taken: read buffer limits of 1 and 0 bytes (its own
    are 256 KiB).  A reader past its ``limit`` pauses the TLS transport,
    which went on reading the socket into its buffer up to its limit, and
    uvloop's, meeting the peer's end there (its FIN, close_notify or not),
    closed the connection with that buffer unread: up to 256 KiB before the
    end lost, and reading ended with a clean end of file (asyncio's waits
    for the reader there, but dropped its buffer at a reset as uvloop's
    did).  Now the end waits in the kernel behind the rest until the buffer
    has been read, on either loop.  A transport without the
    method (not asyncio's or uvloop's TLS, or one whose method raises
    NotImplementedError), or already closed, is left as it is.  After
    ``StreamWriter.start_tls()`` the reader pauses the socket itself:
    nothing waits in the TLS layer then."""
    transport = writer.transport
    if _extra_info(writer, "sslcontext") is None or transport.is_closing():
        return
    limits = getattr(transport, "set_read_buffer_limits", None)
    if callable(limits):
        with contextlib.suppress(NotImplementedError):  # (a transport that has none)
            limits(1, 0)


def _extra_info(writer: asyncio.StreamWriter, name: str, default: Any = None) -> Any:
    """``writer.get_extra_info(name, default)``, or ``default`` where the
    transport cannot tell: uvloop's pipe transport, once closed (a child that
    exited at once), raises ``AttributeError`` for ``peername`` and
    ``sockname`` from its socket, now ``None``."""
    try:
        return writer.get_extra_info(name, default)
    except (AttributeError, OSError):
        return default


def _peer_name(writer: asyncio.StreamWriter) -> str:
    peer = _extra_info(writer, "peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        host = str(peer[0])
        return f"[{host}]:{peer[1]}" if ":" in host else f"{host}:{peer[1]}"
    if peer:
        return str(peer)
    return "stream"


def _ending_poll(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
    """A ``select.poll`` that tells, without blocking, whether the peer of
    the writer's stream socket has ended its side (``POLLRDHUP``: its FIN,
    or a reset, is in); ``None`` where there is nothing to take or no way to
    tell: the reader on a transport of its own (a child's stdout), no
    socket, TLS (the bytes are records), no ``POLLRDHUP`` (not Linux)."""
    rdhup = getattr(select, "POLLRDHUP", 0)
    sock = _extra_info(writer, "socket")
    if not rdhup or getattr(reader, "_transport", None) is not writer.transport:
        return None
    if sock is None or sock.type != socket.SOCK_STREAM or sock.fileno() < 0:
        return None
    if _extra_info(writer, "sslcontext") is not None:
        return None
    poller = select.poll()
    poller.register(sock.fileno(), rdhup)
    return poller


def _read_what_is_left(sock: Any) -> tuple[bytes, bool | OSError]:
    """All the kernel holds for ``sock``, whose peer has ended its side (so
    that no more can come), and how reading it ended: ``True`` at the end
    of file, the error of a reset, ``False`` where nothing more is there.
    Not capped at ``SO_RCVBUF``: a UNIX socket's queue is bounded by the
    peer's send buffer, and held more than one receive buffer (lost)."""
    got = bytearray()
    try:
        with sock.dup() as copy:
            copy.setblocking(False)
            while data := copy.recv(DEFAULT_READ_SIZE):
                got += data
            return bytes(got), True
    except (BlockingIOError, InterruptedError):
        pass
    except OSError as exc:
        return bytes(got), exc
    return bytes(got), False


def _held_back(reader: asyncio.StreamReader, max_bytes: int) -> bytes:
    """Up to ``max_bytes`` of what ``reader`` received before its connection
    broke and nobody has read.  ``StreamReader.read()`` raises the stored
    exception (a reset) before returning what it still holds, so a session
    that was not reading then (paused at ``max_buffer``, or slow) would lose
    it: all but 4 KiB of 100 kB.  No public call gives that data back, so it
    is taken from the reader's private ``_buffer`` (a ``bytearray`` in
    CPython 3.11 to 3.13, under uvloop too); a reader without one has
    nothing held back."""
    buffer = getattr(reader, "_buffer", None)
    if not isinstance(buffer, bytearray) or not buffer:
        return b""
    data = bytes(buffer[:max_bytes])
    del buffer[:max_bytes]
    return data
