"""What carries a served console's output to its client: a TCP or UNIX
connection (``StreamOutput``) or an SSH process's stdout (``SSHOutput``,
with the line editor off while attached: ``ssh_raw_mode``), as the bytes
writer aioconsole expects, and how much written output waits for the
client (``unsent``).  Neither raises into the statement that writes, nor
logs, when the client is gone.  An attached session's output goes to any
console's client through ``AttachedOutput``, held back by it.

Both bound what a client that does not read makes the program hold
(``_Backlog``): ``print`` cannot wait for it, so once it has taken nothing
for ``STALL`` seconds with ``OUTPUT_HIGH`` bytes waiting (or at once past
``OUTPUT_CAP``), what is written is dropped, and counted, until the client
has taken most of it; then one line tells it how many bytes it lost."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import functools
import os
import re
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ._reading import SINK_HIGH, sink_caught_up

if TYPE_CHECKING:
    from ._session import Session

__all__ = [
    "TERMINAL_WRITERS",
    "AttachedOutput",
    "GRACE",
    "OUTPUT_CAP",
    "OUTPUT_HIGH",
    "OUTPUT_LOW",
    "SSHOutput",
    "STALL",
    "StreamOutput",
    "TerminalOutput",
    "blocking_kept",
    "ssh_raw_mode",
    "unsent",
]

#: Bytes of a served console's output that may wait for its client (in the
#: connection's or the SSH channel's write buffer) before it is watched:
#: if it takes nothing for ``GRACE`` seconds, what is written is dropped.
#: Well above attach's ``SINK_HIGH``, which holds an attached session back
#: first: an attach loses nothing to it.
OUTPUT_HIGH = 4 << 20
#: Seconds a client with ``OUTPUT_HIGH`` bytes waiting has to take some:
#: a statement that prints more than that without an ``await`` never lets
#: the loop send any, however fast the client reads.
GRACE = 1.0
#: Seconds a client with ``OUTPUT_HIGH`` bytes waiting must have taken
#: nothing, in checks ``GRACE`` apart, before it is taken for one that does
#: not read: an SSH client's window opens in steps (OpenSSH's: 128 KiB), so
#: one that reads 50 KB a second takes nothing for seconds at a time.
STALL = 10.0
#: What may wait at most, reading or not: past it, what is written is
#: dropped at once, even within one statement's burst, so that the memory
#: held stays bounded (one write past it, as a write is never split).
OUTPUT_CAP = 64 << 20
#: What may still wait when output goes out again (a writer's ``drain()``
#: returns below its transport's own low mark, 16 KiB by default).
OUTPUT_LOW = 64 << 10
DROPPED = "[aioexpect console: {} bytes of output dropped: the client was not reading]\n"
_LONE_LF = re.compile(r"(?<!\r)\n")


class _Backlog:
    """What waits for a client that does not read, bounded.  With
    ``OUTPUT_HIGH`` bytes or more waiting, a check is armed every ``GRACE``
    seconds: if the client took nothing (what waited then, plus what went in
    since, less what waits now) in checks adding up to ``STALL`` seconds in
    a row, the client is taken as stalled: what is written while it still
    is (no byte taken since) is dropped, and counted (past ``OUTPUT_CAP``,
    at once), until no more
    than ``OUTPUT_LOW`` wait; then one line, on a line of its own, says how
    many bytes went, before anything else is written (or, if nothing is, as
    soon as the client has drained).  A client that reads loses nothing
    below the cap: one statement's burst never lets the loop run, so the
    mark alone says nothing of the client.  Nothing is dropped silently: a
    client that is gone meanwhile is told nothing, as it would get nothing.

    ``output`` is the writer it bounds (its ``drain``, buffer size and
    ``is_closing``), which makes each write through ``write``; ``send``
    writes its note around it."""

    def __init__(self, output: StreamOutput | SSHOutput, send: Callable[[bytes], None]) -> None:
        self._output = output
        self._send = send
        self._dropped = 0
        self._line_ended = True  # what went out last ended its line
        self._dropping: asyncio.Task[None] | None = None  # tells once the client drained
        self._check: asyncio.TimerHandle | None = None  # whether the client takes any
        self._owed = 0  # what waited when the check was armed, and went in since
        self._idle = 0.0  # seconds, in checks, the client has taken nothing
        self._stalled: int | None = None  # what waited when it was found stalled

    def write(self, data: bytes, send: Callable[[], None]) -> None:
        """``send()`` writes ``data``, unless it is dropped (and counted);
        the note, if one is due, goes out first."""
        waiting = self._output.get_write_buffer_size()
        if self._dropping is not None and waiting <= OUTPUT_LOW:
            self._tell()
        if self._stalled is not None:  # (nothing dropped yet: a write decides)
            if self._dropping is None and waiting >= self._stalled:
                self._drop()  # still taking nothing
            self._stalled = None
        if self._dropping is None and waiting >= OUTPUT_CAP:
            self._drop()
        if self._dropping is not None:
            self._dropped += len(data)
            return
        if self._check is None and waiting >= OUTPUT_HIGH:
            self._owed, self._idle = waiting, 0.0
            self._check = asyncio.get_running_loop().call_later(GRACE, self._judge)
        if data:
            self._line_ended = data.endswith(b"\n")
        send()
        if self._check is not None:  # (what it put in the buffer, as it went in)
            self._owed += self._output.get_write_buffer_size() - waiting

    def _judge(self) -> None:
        self._check = None
        if self._dropping is not None or self._output.is_closing():
            return
        waiting = self._output.get_write_buffer_size()
        if waiting < OUTPUT_HIGH:
            return
        self._idle = self._idle + GRACE if self._owed - waiting <= 0 else 0.0
        if self._idle >= STALL:  # it took nothing for so long: it is not reading;
            self._stalled = waiting  # what is written next is dropped, if it still is not
            return
        self._owed = waiting  # watched still
        self._check = asyncio.get_running_loop().call_later(GRACE, self._judge)

    def _drop(self) -> None:
        if self._check is not None:
            self._check.cancel()
            self._check = None
        self._dropping = asyncio.get_running_loop().create_task(
            self._drained(), name="aioexpect-console-backlog"
        )

    async def _drained(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):  # gone: told nothing
            await self._output.drain()
        if self._dropping is asyncio.current_task():  # (not told meanwhile)
            self._tell()

    def _tell(self) -> None:
        dropped, self._dropped, self._dropping = self._dropped, 0, None
        if not self._output.is_closing():
            self._send((("" if self._line_ended else "\n") + DROPPED.format(dropped)).encode())
            self._line_ended = True


class StreamOutput:
    """A TCP or UNIX client's connection as the console's writer.  Once it
    is closing (lost: reset, or a write to it failed), what is written is
    dropped, quietly: asyncio's transport logged a warning for each write
    after the loss (several a ``print``) to the program's root logger, and
    uvloop's raised ``RuntimeError`` into the statement that printed."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._backlog = _Backlog(self, self._send)

    def write(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._backlog.write(data, functools.partial(self._send, data))

    def _send(self, data: bytes) -> None:
        with contextlib.suppress(OSError, RuntimeError):  # (uvloop: RuntimeError once reset)
            self._writer.write(data)

    async def drain(self) -> None:
        await self._writer.drain()

    def get_write_buffer_size(self) -> int:
        """What the transport holds until the client takes it."""
        return int(self._writer.transport.get_write_buffer_size())

    def is_closing(self) -> bool:
        return self._writer.is_closing()


#: The signals the local console's loop answers (see ``TerminalOutput._wait``).
WAKING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: ``TerminalOutput``'s functions that wait for the terminal (where a
#: signal may raise in the statement that prints).
TERMINAL_WRITERS = ("write", "_wait", "woke", "_poll")


class TerminalOutput:
    """The local console's stdout (a terminal or a pipe: aioconsole's
    writer over it), written as ``python3 -i`` writes it: at once, waiting
    while it takes nothing.  Through aioconsole's transport, what did not go
    at once waited for the loop, which a statement that prints without an
    ``await`` never lets run: nothing more was shown until it ended, and all
    of it was held in memory meanwhile (100 MB printed: 190 MB).  Once the
    terminal is gone (hung up) or the pipe's reader is, what is written is
    dropped, as the transport dropped it."""

    def __init__(self, writer: asyncio.StreamWriter, fd: int) -> None:
        self._writer, self._fd = writer, fd
        self._gone = False

    @classmethod
    def over(cls, writer: Any) -> Any:
        """``writer`` so, if it is aioconsole's over this process's stdout."""
        if not isinstance(writer, asyncio.StreamWriter):  # (a file's: written by a thread)
            return writer
        try:
            return cls(writer, sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):  # (no descriptor)
            return writer

    def write(self, data: bytes | str) -> None:
        data = data.encode() if isinstance(data, str) else data
        if self._queued():  # (after what a signal left to the loop: see _wait)
            self._writer.write(data)
            return
        view = memoryview(data)
        while view and not self._gone:
            try:
                view = view[os.write(self._fd, view) :]
                continue
            except BlockingIOError:  # (aioconsole's transport made it non-blocking)
                pass
            except OSError:
                self._gone = True
                continue
            # (out of the except: a Ctrl-C raised in the wait, in the statement
            # that prints, is not shown chained to the BlockingIOError)
            if not self._wait():
                self._writer.write(bytes(view))
                return

    def _wait(self) -> bool:
        """Wait until the terminal takes more (``True``), or until a signal
        the loop answers comes (``False``: SIGTERM, SIGHUP, Ctrl-C), whose
        handler runs only once the loop does: waited for, a console whose
        terminal was paused (or whose pipe's reader did not read) was deaf
        to ``kill``.  What is left then goes through aioconsole's transport,
        as all did before, and what is written after it, until it has gone.
        (One that comes in the instant before the wait is answered once the
        terminal takes more, as all were.)"""
        if threading.current_thread() is not threading.main_thread():
            _poll((self._fd, select.POLLOUT))  # (signals are the main thread's)
            return True
        woken, wake = os.pipe()
        os.set_blocking(wake, False)  # (a flood of signals never holds up their handler)
        previous: dict[int, Any] = {}

        def woke(signum: int, frame: Any) -> None:
            with contextlib.suppress(OSError):
                os.write(wake, b"\0")
            handler = previous.get(signum)
            if callable(handler):  # (the loop's: it only wakes the loop)
                handler(signum, frame)

        try:
            for waking in WAKING:
                if callable(signal.getsignal(waking)):  # (not killed by it, not ignoring it)
                    previous[waking] = signal.signal(waking, woke)
            return woken not in _poll((woken, select.POLLIN), (self._fd, select.POLLOUT))
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            os.close(woken)
            os.close(wake)

    def _queued(self) -> bool:
        return bool(self._writer.transport.get_write_buffer_size())

    async def drain(self) -> None:
        """Only what a signal left to the transport waits (see ``_wait``)."""
        if self._queued():
            await self._writer.drain()

    def get_write_buffer_size(self) -> int:
        return int(self._writer.transport.get_write_buffer_size())

    def is_closing(self) -> bool:
        return self._gone or self._writer.is_closing()

    def close(self) -> None:
        self._writer.close()


def _poll(*waits: tuple[int, int]) -> set[int]:
    """The descriptors of ``waits`` (each with its events) that are ready,
    once one is: ``poll``, as ``select`` refuses a descriptor over 1023 (a
    console that opened a thousand sessions)."""
    poll = select.poll()
    for fd, events in waits:
        poll.register(fd, events)
    return {fd for fd, _ in poll.poll()}


def blocking_kept() -> Callable[[], None]:
    """What puts this process's standard streams back in the blocking mode
    they are in now.  aioconsole's transports over them make them
    non-blocking and leave them so; on a terminal that mode is the open
    terminal's, shared with the shell: what ran in it after the console
    found its stdin, stdout and stderr non-blocking (an EAGAIN error)."""
    kept = {}
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):  # (closed)
            kept[fd] = os.get_blocking(fd)

    def restore() -> None:
        for fd, blocking in kept.items():
            with contextlib.suppress(OSError):
                os.set_blocking(fd, blocking)

    return restore


class SSHOutput:
    """An asyncssh writer (text) as a bytes writer that never raises when the
    client is gone.  With a terminal, asyncssh's line editor turns each
    ``\n`` into ``\r\n``, so ``\r\n`` (a session's output) is written as ``\n``.

    While attached (``raw()``), what is written goes around the line editor,
    as written: its output processing would add bytes the session never
    wrote (``" \\b"`` after a write that ends at a multiple of the width, by
    its count of columns; ``"\\r\\r\\n"`` for a line end split between two
    writes).  A lone ``\n`` is still sent as ``\r\n``, as a pty would."""

    def __init__(self, stdout: Any, *, terminal: bool) -> None:
        self._stdout = stdout
        self._terminal = terminal
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._raw = False
        self._after_cr = False  # the last character sent raw was "\r"
        self._backlog = _Backlog(self, lambda note: self._send(note.decode()))

    def write(self, data: bytes) -> None:
        text = self._decoder.decode(data)  # (dropped or not: the decoder follows)
        self._backlog.write(data, functools.partial(self._send, text))

    def _send(self, text: str) -> None:
        if not text:  # (a character cut between writes)
            return
        with contextlib.suppress(ConnectionError, OSError):
            if self._raw:
                # The editor wraps only ``write``: the channel's own
                # ``writelines`` sends the text untouched.
                self._stdout.channel.writelines((self._lone_lf_to_crlf(text),))
            elif self._terminal:
                self._stdout.write(text.replace("\r\n", "\n"))
            else:
                self._stdout.write(text)

    def _lone_lf_to_crlf(self, text: str) -> str:
        if not self._terminal:
            return text
        crlf = _LONE_LF.sub("\r\n", text)
        if self._after_cr and text[0] == "\n":
            crlf = crlf[1:]  # its "\r" was the end of the last write
        self._after_cr = text[-1] == "\r"
        return crlf

    @contextlib.contextmanager
    def raw(self) -> Iterator[None]:
        """Output as written (no line editing) meanwhile."""
        self._raw, self._after_cr = True, False
        try:
            yield
        finally:
            self._raw = False

    async def drain(self) -> None:
        from ._asyncssh import asyncssh

        with contextlib.suppress(ConnectionError, asyncssh.Error):
            await self._stdout.drain()

    def get_write_buffer_size(self) -> int:
        """What the channel holds until the client's window lets it go."""
        return int(self._stdout.channel.get_write_buffer_size())

    def is_closing(self) -> bool:
        return bool(self._stdout.is_closing())


class AttachedOutput:
    """An attached session's output on its way to the client, with
    back-pressure: past ``SINK_HIGH`` bytes waiting for the client, the
    session stops reading from its peer until the writer has drained.  What
    it has not read waits at the peer, in order, for the client or, once the
    attach ends, for the program.

    A client that is gone keeps the session paused until the attach ends
    (its input has ended too); then the program reads on.  What was written
    to the gone client's connection is lost with it.
    """

    def __init__(self, session: Session, writer: Any) -> None:
        self._session, self._writer = session, writer
        self._draining: asyncio.Task[None] | None = None

    def write(self, data: Any) -> None:
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else bytes(data)
        with contextlib.suppress(ConnectionError, RuntimeError):
            self._writer.write(raw)
        if self._draining is None and unsent(self._writer) >= SINK_HIGH:
            self._session._sink_full = True
            self._draining = asyncio.get_running_loop().create_task(
                self._drain(), name="aioexpect-console-output"
            )

    async def _drain(self) -> None:
        try:
            await self._writer.drain()
        except (OSError, RuntimeError):  # (uvloop: RuntimeError once reset)
            return  # gone: paused until the attach ends
        if self._writer.is_closing():
            return
        self._draining = None
        sink_caught_up(self._session)

    async def close(self) -> None:
        """Stop waiting for the client (the attach has ended: its ``divert``
        let the session read on already)."""
        if self._draining is not None:
            self._draining.cancel()
            await asyncio.wait([self._draining])


def unsent(writer: Any) -> int:
    """How many bytes written to a console's ``writer`` wait for its client:
    a stream's transport buffer, an SSH channel's (0 for a writer that
    holds nothing back, such as aioconsole's for a regular file)."""
    holder = getattr(writer, "transport", writer)
    size = getattr(holder, "get_write_buffer_size", None)
    return 0 if size is None else int(size())


@contextlib.contextmanager
def ssh_raw_mode(process: Any, output: SSHOutput) -> Iterator[None]:
    """Line editing off while attached: keys go to the session as typed, its
    output comes to the client as written."""
    channel = process.channel
    if process.term_type is None or not hasattr(channel, "set_line_mode"):
        yield
        return
    channel.set_line_mode(False)
    try:
        with output.raw():
            yield
    finally:
        with contextlib.suppress(Exception):
            channel.set_line_mode(True)
