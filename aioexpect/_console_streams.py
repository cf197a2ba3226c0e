"""What carries a served console's client's input: TCP or UNIX lines, or an
SSH process's stdin, as the bytes reader aioconsole expects (the local
console's terminal is ``_console_terminal``'s; the output side is
``_console_output``); a TCP or UNIX connection told why it is dropped
(``say``, ``told``) and waited for until it is gone (``gone``).

Over TCP, UNIX sockets and SSH, one task per client reads ahead, so that
while a statement runs, Ctrl-C interrupts it and a client that is gone
cancels it, behind what it typed ahead (up to ``HELD_AHEAD``);
typed-ahead lines wait, in order, for the next prompt, but with a terminal
an interrupt drops them, as a terminal's Ctrl-C does (and so does the local
console's: ``_console_terminal``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "Interrupted",
    "Lines",
    "Refused",
    "SSHInput",
    "gone",
    "say",
    "told",
]

#: How much a served client may type ahead of the console while the console
#: reads (past it, the client is held back until the console catches up).
READ_AHEAD = 64 * 1024
#: How much it may type ahead while a statement runs: it is read on, so that
#: its Ctrl-C and its end are seen behind what it typed (past it, held back).
HELD_AHEAD = 1024 * 1024
#: The longest line a served console takes, in bytes before its line end,
#: over TCP, UNIX sockets and SSH alike: a longer one is refused whole, with
#: a message (``TOO_LONG``), and the console goes on.
LINE_LIMIT = 64 * 1024
TOO_LONG = f"aioexpect console: line too long (over {LINE_LIMIT} bytes), ignored\n"
_BREAK = object()  # Ctrl-C: the line editor, an SSH break or signal, 0x03, IAC IP, BRK, ABORT
#: What a TCP or UNIX client sends that is not input: Ctrl-C (the byte),
#: and telnet's commands, which are taken out of the data, left to right so
#: that IAC IAC (a literal 0xff) is never the start of another: a
#: subnegotiation (IAC SB ... IAC SE, whole), a negotiation (IAC WILL, WONT,
#: DO or DONT, then its option), or any other command (IAC and one byte;
#: Interrupt Process, Break and Abort are Ctrl-C: ``telnet`` sends IP for
#: Ctrl-C, BRK for Ctrl-\, SUSP for Ctrl-Z, which is dropped), or the start
#: of one, cut by a read (``cut``: held for the next).
_CONTROL = re.compile(
    rb"\x03|\xff(?:"
    rb"\xfa(?:[^\xff]|\xff[^\xf0])*\xff\xf0"
    rb"|[\xfb-\xfe][\x00-\xff]"
    rb"|[\x00-\xf9\xff]"
    rb"|(?P<cut>(?:\xfa(?:[^\xff]|\xff[^\xf0])*\xff?|[\xfb-\xfe])?\Z))"
)
#: A subnegotiation cut by a read is held at most this long: no telnet
#: client sends one so long unasked (every offer is refused).
_HELD_LIMIT = 4096
_INTERRUPTS = (b"\x03", b"\xff\xf4", b"\xff\xf3", b"\xff\xee")  # Ctrl-C, IAC IP, BRK, ABORT
_DO, _WILL = 0xFD, 0xFB
_TIMING_MARK = 6
#: The answer to a request to DO an option (WILL for a timing mark, which
#: ``telnet`` asks for after IP and BRK and shows no output until it is
#: answered; WON'T for any other) or an offer that it WILL (DON'T): so
#: telnet never waits for it.
_ANSWER = {_DO: 0xFC, _WILL: 0xFE}


class Interrupted(Exception):
    """Raised by a console's reader when the user interrupts the input line."""


class Refused(Exception):
    """Raised by a console's reader when it refused a line (it has told the
    client why): the statement the line was part of goes with it."""


def _ended(partial: bytes) -> bytes:
    """The last line of a client's input, which its end cut short, with a
    line end: without one, aioconsole dropped it (``python3 -i`` runs it;
    ``printf 'y = 5\ny' | python3 -i`` shows 5)."""
    return partial + b"\n" if partial and not partial.endswith(b"\n") else partial


class _ReadAhead:
    """Input read ahead of the console, in order: bytes, ``_BREAK``, and
    ``b""`` for the end, which stays, for every later read.

    ``room`` is set while the client may be read: while less than
    ``READ_AHEAD`` bytes wait, or, while ``read_on`` (a statement runs),
    less than ``HELD_AHEAD``, since a Ctrl-C or the client's end behind what
    it typed ahead is seen only once that is read.  Past the bound the
    client is held back (what it sends waits in the network: nothing is
    lost) until the console has read some.  Dropping input past a bound
    instead, as a terminal's full queue does, would see a Ctrl-C behind any
    amount, but would lose the tail of a long script sent ahead of
    statements that wait (``nc host port < script``).

    With ``cr`` (lines as sent, no line editor), a CR ends a line as a LF
    does, as a terminal takes it (``socat`` in raw mode and telnet in
    character mode send CR, or CR NUL, for Enter); a LF or NUL right after
    the CR is part of that line end, and is dropped.
    """

    def __init__(self, *, cr: bool) -> None:
        self._items: collections.deque[Any] = collections.deque()
        self._ready = asyncio.Event()  # items arrived
        self.room = asyncio.Event()
        self.room.set()
        self._ahead = 0
        self._reading_on = False
        self.ends = (b"\n", b"\r") if cr else (b"\n",)
        self._line_end = re.compile(rb"[\r\n]" if cr else rb"\n")
        self._after_cr = False  # a line ended in CR: a LF or NUL next is part of it

    def read_on(self, on: bool) -> None:
        """Read the client up to ``HELD_AHEAD`` (``on``), or to ``READ_AHEAD``."""
        self._reading_on = on
        self._update()

    def put(self, item: Any) -> None:
        if isinstance(item, bytes):
            self._ahead += len(item)
            self._update()
        self._items.append(item)
        self._ready.set()

    async def next(self, *, limit: int | None = None, line: bool = False) -> Any:
        """The next item: bytes, ``limit`` at most, and with ``line`` up to
        the first line end at most (the rest waits, first)."""
        while True:
            while not self._items:
                self._ready.clear()
                await self._ready.wait()
            item = self._items[0]
            if item is _BREAK:
                self._items.popleft()
                return item
            if not item:
                return item
            skip = self._skipped(item)
            if skip:
                self._take(skip)
                continue
            if line:
                found = self._line_end.search(item)
                limit = found.end() if found else None
            if limit is not None and len(item) > limit:
                item = self._take(limit)
            else:
                self._take(len(item))
            self._after_cr = line and item.endswith(b"\r") and b"\r" in self.ends
            return item

    def _skipped(self, item: bytes) -> int:
        """How much at the start of ``item`` is the end of what went before:
        the LF or NUL after a CR."""
        if self._after_cr:
            self._after_cr = False
            if item[:1] in (b"\n", b"\x00"):
                return 1
        return 0

    def _take(self, size: int) -> bytes:
        """The first ``size`` bytes of the first item, taken out."""
        item = self._items[0]
        if size < len(item):
            self._items[0] = item[size:]
        else:
            self._items.popleft()
        self._ahead -= size
        self._update()
        return bytes(item[:size])

    def put_back(self, data: bytes) -> None:
        """``data`` first, before what waits."""
        self._ahead += len(data)
        self._after_cr = False
        self._update()
        self._items.appendleft(data)
        self._ready.set()

    def drop(self) -> None:
        """Drop what waits, but the end if it came."""
        ended = bool(self._items) and self._items[-1] == b""
        self._items.clear()
        if ended:
            self._items.append(b"")
        self._ahead = 0
        self._after_cr = False
        self._update()

    def _update(self) -> None:
        if self._ahead < (HELD_AHEAD if self._reading_on else READ_AHEAD):
            self.room.set()
        else:
            self.room.clear()


class _ReadAheadInput:
    """A served client's input (bytes), read ahead of the console by a task
    of its own (``_read_ahead``, as each carrier reads), so that Ctrl-C and
    the client's end are seen while a statement runs.

    Ctrl-C raises ``Interrupted`` at the prompt, is ``b"\\x03"`` to
    ``read()`` (an attached session gets it), and calls the callback of
    ``watching()`` while one is set.  So does the client's end, once the
    carrier says it is gone, not merely that its input ended (``nc -N``
    and ``ssh host < script`` wait for the output of their last statement);
    what it sent that has not run then never does.

    A line longer than ``LINE_LIMIT`` is refused (``Refused``: the console
    drops the statement it was part of; a statement's own ``ainput()``
    reads the next line instead); bytes that are not UTF-8 are replaced
    (aioconsole decodes strictly, and would end the client);
    ``raw_lines`` (lines as sent, no line editor): CR, CR LF and CR NUL end
    lines as LF does (see ``_ReadAhead``).  Clients that end lines so
    (``socat`` in raw mode, telnet, ``nc -C``, a script written on Windows
    sent by ``ssh -T``) could not type a block: a line in CR alone never
    ran, and a ``\r`` left at the end of a block's first body line made
    aioconsole take the block for complete.
    """

    def __init__(self, *, raw_lines: bool) -> None:
        self._raw_lines = raw_lines
        self._queue = _ReadAhead(cr=raw_lines)
        self._watcher: Callable[[], None] | None = None
        self._gone = False
        self._pump = asyncio.get_running_loop().create_task(
            self._read_ahead(), name="aioexpect-console-input"
        )

    @property
    def raw_lines(self) -> bool:
        """Whether the client sends lines as typed, in attach too (no line
        editor, nor a raw mode for its keys)."""
        return self._raw_lines

    @contextlib.contextmanager
    def watching(self, callback: Callable[[], None] | None) -> Iterator[None]:
        """While inside, an interrupt or the client's end calls ``callback``
        instead of waiting for a reader (``None``: they wait again), and the
        client is read on to ``HELD_AHEAD`` (with ``None``, attached: read as
        the session takes it)."""
        outer, self._watcher = self._watcher, callback
        self._queue.read_on(callback is not None)
        try:
            if callback is not None and self._gone:
                callback()
            yield
        finally:
            self._watcher = outer
            self._queue.read_on(outer is not None)
            if outer is not None and self._gone and callback is None:
                outer()  # the client left meanwhile (attached, say)

    def drop_typed_ahead(self) -> None:
        """With a line editor, what waits (lines typed ahead of the statement
        an interrupt ends, and the line being typed) goes, as a terminal's
        Ctrl-C flushes its input: ``python3 -i`` in a pty runs none of it.
        Without one, it stays, as for ``python3 -i < script``."""
        if self._raw_lines:
            return
        self._queue.drop()
        self._clear_line()

    def give_back(self, data: bytes) -> bool:
        """Read ``data`` again first, if the client sends lines as they are
        (no line editor, which would not have shown it): whether it was,
        or need not be told of (a client gone: nothing it sent runs now)."""
        if self._raw_lines and data and not self._gone:
            self._queue.put_back(data)
        return self._raw_lines or self._gone

    async def readline(self) -> bytes:
        while True:
            try:
                return await self._line()
            except Refused:
                if self._watcher is None:  # the console's: else a statement's ainput()
                    raise

    async def _line(self) -> bytes:
        line = bytearray()
        size, ended = 0, False  # (past LINE_LIMIT: read to its end, kept nowhere, refused)
        while not ended:
            item = await self._queue.next(line=True)
            if item is _BREAK:
                self._clear_line()
                raise Interrupted
            if not item:
                break
            size += len(item)
            ended = item.endswith(self._queue.ends)
            if size - ended <= LINE_LIMIT:
                line += item
        if size - ended > LINE_LIMIT:
            self._tell(TOO_LONG)
            raise Refused
        if line.endswith(b"\r"):
            line[-1:] = b"\n"
        data = _ended(bytes(line))  # (the end may have cut the last line short)
        return data.decode("utf-8", "replace").encode("utf-8")

    async def read(self, n: int = -1) -> bytes:
        item = await self._queue.next(limit=None if n < 0 else n)
        return b"\x03" if item is _BREAK else bytes(item)

    async def close(self) -> None:
        self._pump.cancel()
        await asyncio.wait([self._pump])  # (a cancellation of close() itself propagates)

    def _interrupted(self) -> None:
        """Ctrl-C came: the watcher's, or the reader's in turn."""
        if self._watcher is not None:
            self._watcher()
        else:
            self._queue.put(_BREAK)

    def _left(self) -> None:
        """The client is gone (its input has ended already): what it sent
        that waits is dropped, since nothing it sent may run any more."""
        self._queue.drop()  # (its end stays)
        self._gone = True
        if self._watcher is not None:
            self._watcher()

    async def _room(self, left: asyncio.Future[Any]) -> bool:
        """Until the client may be read (``True``) or has left (``False``,
        ``left`` done): held back, all it typed ahead unread, it is still
        seen to go."""
        if not self._queue.room.is_set():
            room = asyncio.ensure_future(self._queue.room.wait())
            try:
                await asyncio.wait([room, left], return_when=asyncio.FIRST_COMPLETED)
            finally:
                room.cancel()
        return not left.done()

    async def _read_ahead(self) -> None:
        raise NotImplementedError

    def _tell(self, text: str) -> None:
        """Tell the client why its input was refused."""
        raise NotImplementedError

    def _clear_line(self) -> None:
        """Drop the line the client's line editor holds, if it has one."""


class Lines(_ReadAheadInput):
    """A TCP or UNIX client's input, lines as sent.  Ctrl-C is a ``0x03``
    byte (``socat`` in raw mode sends it) or telnet's Interrupt Process or
    Break, ``IAC IP`` or ``IAC BRK`` (``telnet`` sends them for Ctrl-C and
    Ctrl-\\, then a timing mark's request, answered here): each is taken
    out of the input, so it never reaches a line, and interrupts as over
    SSH.  telnet's other commands are taken out too (its offers and
    requests refused, so that it never waits for an answer), and IAC IAC
    is a 0xff byte.  What was sent ahead of a Ctrl-C stays, as without a
    terminal.  ``nc`` in a terminal sends neither: Ctrl-C ends
    ``nc`` itself.  The client is gone once its connection is lost (reset,
    or a write to it failed)."""

    #: The limit of the streams it reads (the server makes them so).
    LIMIT = LINE_LIMIT

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        super().__init__(raw_lines=True)

    async def _read_ahead(self) -> None:
        held = b""  # the start of a command, cut where a read ended
        # Gone only once the connection is lost (reset, or a write failed):
        # after the end of its input, nc -N waits for the output.
        lost = asyncio.ensure_future(gone(self._writer))
        try:
            while await self._room(lost):
                try:
                    data = await self._reader.read(READ_AHEAD)
                except OSError:  # reset: the end
                    data = b""
                if not data:
                    break
                held = self._take(held + data)
                if len(held) > _HELD_LIMIT:
                    held = b""  # (not a telnet client's: dropped, not held for ever)
            if held:
                self._queue.put(held)
            self._queue.put(b"")
            _reset_unread(self._writer)
            await lost
        finally:
            lost.cancel()
        self._left()

    def _take(self, data: bytes) -> bytes:
        """Queue ``data`` but its Ctrl-Cs, taken in turn, and telnet's
        commands; answer telnet's negotiations at once, so it shows what
        follows.  What is returned is a command's start, cut by the read."""
        start = 0
        for found in _CONTROL.finditer(data):
            if found.start() > start:
                self._queue.put(data[start : found.start()])
            if found.group("cut") is not None:
                return data[found.start() :]
            command = found.group()
            start = found.end()
            if command in _INTERRUPTS:
                self._interrupted()
            elif command == b"\xff\xff":
                self._queue.put(b"\xff")  # a literal 0xff
            elif len(command) == 3 and command[1] in _ANSWER:
                verb = _ANSWER[command[1]]
                if command == bytes((0xFF, _DO, _TIMING_MARK)):
                    verb = _WILL
                say(self._writer, bytes((0xFF, verb, command[2])))
        if start < len(data):
            self._queue.put(data[start:])
        return b""

    def _tell(self, text: str) -> None:
        say(self._writer, text.encode())


class SSHInput(_ReadAheadInput):
    """An asyncssh process's input (text, line-edited) as a bytes reader.

    Ctrl-C is an SSH break or signal; the client's end is its channel
    closed.  Without a terminal (``ssh -T``), lines are as sent, as over
    TCP.  With one, asyncssh's line editor makes the lines, and takes CR
    and LF alike for Enter, as a pty does.
    """

    #: The ``max_line_length`` of asyncssh's line editor (the server sets it):
    #: the editor drops what goes past it and ends the line cut, so it is one
    #: character past ``LINE_LIMIT``, and a line it may have cut is refused.
    EDITOR_LIMIT = LINE_LIMIT + 1

    def __init__(self, process: Any) -> None:
        self._process = process
        super().__init__(raw_lines=process.term_type is None)  # no line editor: lines as sent

    def _clear_line(self) -> None:
        with contextlib.suppress(Exception):  # (no editor without a terminal, or an old asyncssh)
            self._process.channel.clear_input()

    def _tell(self, text: str) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            self._process.stdout.write(text)

    async def _read_ahead(self) -> None:
        from ._asyncssh import asyncssh

        stdin = self._process.stdin
        closed = asyncio.ensure_future(self._process.wait_closed())
        try:
            while await self._room(closed):
                try:
                    text = await stdin.read(READ_AHEAD)
                except asyncssh.TerminalSizeChanged:
                    continue
                except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                    self._interrupted()
                    continue
                except (ConnectionError, asyncssh.Error):
                    text = ""
                if not text:
                    break
                self._queue.put(text.encode("utf-8"))
            self._queue.put(b"")
            with contextlib.suppress(Exception):
                await closed
        finally:
            closed.cancel()
        self._left()


async def told(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limit: float) -> None:
    """Close a refused client's connection after the line that says why,
    once the client stops sending (``limit`` seconds at most): closed with
    input unread, the connection would be reset, and the line could be lost."""
    try:
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(limit):
            while await reader.read(1 << 16):
                pass
    except (OSError, RuntimeError, TimeoutError):  # (uvloop: RuntimeError once reset)
        pass
    finally:
        writer.close()


async def gone(writer: asyncio.StreamWriter) -> None:
    """Until a closed connection is gone (whatever ended it).  Cancelling
    this leaves the stream's own waiter alone: cancelled, it would end every
    later wait for the same connection at once, with ``CancelledError``.
    The wait left running then has its error (a reset) taken, unlogged."""
    waiting = asyncio.ensure_future(writer.wait_closed())
    waiting.add_done_callback(_taken)
    with contextlib.suppress(OSError, RuntimeError):  # (uvloop: RuntimeError once reset)
        await asyncio.shield(waiting)


def _reset_unread(writer: asyncio.StreamWriter) -> None:
    """Drop a connection whose input ended in a reset its transport never
    read.  uvloop 0.17's libuv (1.43) ends a read that came short while the
    socket hung up as the end of input, without reading on: the reset the
    socket holds was never seen, the connection was taken as half-closed
    (``gone`` waited, for ever with nothing written), and a client reset
    behind what it sent ahead never left.  The socket's pending error says
    so; with none (a half-close, or a reset read already) nothing changes."""
    sock = writer.get_extra_info("socket")
    if sock is None or writer.transport.is_closing():
        return
    with contextlib.suppress(OSError, ValueError):  # (uvloop's closed: fileno -1)
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            writer.transport.abort()


def _taken(done: asyncio.Future[None]) -> None:
    """Take a finished wait's error: nobody else may."""
    if not done.cancelled():
        done.exception()


def say(writer: asyncio.StreamWriter, line: bytes) -> None:
    """Tell a client why it is dropped, if it is still there to be told."""
    with contextlib.suppress(OSError, RuntimeError):  # (uvloop: RuntimeError once reset)
        writer.write(line)
