"""Connecting a person to a session: ``Session.interact`` and the console's
``attach`` share ``bridge``.

While bridged, received data goes to the person (``Session.divert``) and what
they type goes to the session, until the escape character or end-of-file.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import errno
import logging
import os
import signal
import sys
import termios
import tty
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from . import _interacted, _prompt_read
from ._ansi import AnsiStripper, open_sequence
from ._exceptions import BusyError, ClosedError
from ._reading import EVIDENCE, SINK_HIGH, sink_caught_up
from ._receive import offer

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["bridge", "following_size", "interact_terminal", "terminal_size"]

_log = logging.getLogger("aioexpect")


async def bridge(
    session: Session,
    read_input: Callable[[], Awaitable[bytes]],
    write_output: Callable[[Any], None],
    escape_character: str | None,
    *,
    keep: bool = False,
    output: _Output | None = None,
) -> bytes:
    """Pump input to the session and its output back until escape or EOF;
    return what was typed after the escape character in the same read
    (``b""`` if nothing was), which is the caller's: not the session's.

    ``read_input`` returns ``b""`` at end of input.  The session's buffered
    data is written out first (with ``keep``, a copy: the program still
    finds it); nothing is lost when the bridge ends.  ``output``, the
    ``_Output`` behind ``write_output``: still in the bridge, the terminal
    gets what waits for it, or, if the bridge fails or is cancelled, the
    session's buffer does.
    """
    escape = escape_character.encode() if escape_character else None
    seen = _Seen(
        session._empty,
        lambda tail: _prompt_read.at_prompt(session, tail),
        strip=session._ansi is not None,
    )

    def show(data: Any) -> None:
        seen.output(data)
        write_output(data)

    try:
        with session.divert(show, keep=keep):
            try:
                after = await _until_done(session, read_input, escape, seen)
                if output is not None:
                    await output.drain()
                return after
            finally:
                if output is not None:
                    output.give_back()
    finally:
        # A command the person started may still answer: execute() knows.
        _interacted.interacted(session, seen.tail, seen.typed, seen.sent)


async def _until_done(
    session: Session, read_input: Callable[[], Awaitable[bytes]], escape: bytes | None, seen: _Seen
) -> bytes:
    """Forward what is typed until escape or end of input, or the session's
    end; what came after the escape in its read (``_forward``)."""
    typing = asyncio.ensure_future(_forward(session, read_input, escape, seen))
    ended = asyncio.ensure_future(session._ended.wait())
    try:
        await asyncio.wait({typing, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (typing, ended):
            task.cancel()
        await asyncio.gather(typing, ended, return_exceptions=True)
    if typing.done() and not typing.cancelled():
        return typing.result()  # (its error, if it failed)
    return b""


class _Seen:
    """What a bridge showed last (``tail``), whether a line was typed since
    the output last ended at a prompt (``typed``), and whether anything was
    typed at all (``sent``).  With ``strip``, the tail is the text as the
    program reads it under ``strip_ansi`` (the output is shown as it came):
    the prompts it knows are in that text, a colour's sequences not in them."""

    def __init__(self, empty: Any, at_prompt: Callable[[Any], bool], *, strip: bool) -> None:
        self.tail: Any = empty
        self.typed = False
        self.sent = False
        self._at_prompt = at_prompt
        self._stripper = AnsiStripper(empty) if strip else None

    def output(self, data: Any) -> None:
        if self._stripper is not None:
            data = self._stripper.feed(data)
        self.tail = (self.tail + data)[-EVIDENCE:]
        if self.typed and self._at_prompt(self.tail):
            self.typed = False  # what was typed has been answered

    def input(self, data: bytes) -> None:
        self.sent = self.sent or bool(data)
        self.typed = self.typed or b"\r" in data or b"\n" in data


async def _forward(
    session: Session,
    read_input: Callable[[], Awaitable[bytes]],
    escape: bytes | None,
    seen: _Seen,
) -> bytes:
    """Send what is typed; at the escape, what followed it in the same read
    (a client sending lines sends ``^]sessions()`` at once): not sent."""
    keys = _Keys(session)
    while True:
        data = await read_input()
        if not data:
            return b""
        if escape is not None and escape in data:  # (the bytes as typed: before converting)
            data, after = data.split(escape, 1)
            if data:
                seen.input(data)
                await keys.send(data)
            return after
        seen.input(data)
        if not await keys.send(data):
            return b""


class _Keys:
    """What the person types, as their terminal sends it (UTF-8, as the
    session's output is shown to them), sent in the session's encoding: a
    character split across reads is held until its last byte; ``codec_errors``
    says what one that does not convert becomes, ``"replace"`` where that
    handler gives up (``"strict"``: a key must not end the bridge).  A bytes
    session, and a UTF-8 one, take the bytes as they come."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._errors = session._decoder.errors
        encoding = session.encoding
        plain = encoding is None or codecs.lookup(encoding).name == "utf-8"
        self._utf8 = None if plain else codecs.getincrementaldecoder("utf-8")(self._errors)

    async def send(self, data: bytes) -> bool:
        """Send what was typed; ``False`` if the session was closed meanwhile
        (the bridge ends, as at end of file)."""
        state = None
        if self._utf8 is not None:
            data, state = self._encode(_decode(self._utf8, data))
            if not data:  # (the start of a character, or dropped by the handler)
                return True
        try:
            await self._session.send(data)
        except Exception as exc:
            self._session._encoder.undo(state)  # (refused: as if never encoded)
            if isinstance(exc, ClosedError) and self._session.closed:
                return False
            raise
        return True

    def _encode(self, text: str) -> tuple[bytes, Any]:
        encoder = self._session._encoder  # (the session's: a byte order mark once)
        try:
            return encoder.encode(text, self._errors)
        except UnicodeEncodeError:
            return encoder.encode(text, "replace")


def _decode(decoder: codecs.IncrementalDecoder, data: bytes) -> str:
    """``decoder.decode(data)``, with ``"replace"`` where its handler gives up
    (the decoder keeps what it held when it raised: it decodes again)."""
    try:
        return decoder.decode(data)
    except UnicodeDecodeError:
        errors, decoder.errors = decoder.errors, "replace"
        try:
            return decoder.decode(data)
        finally:
            decoder.errors = errors


def check_escape(escape_character: Any) -> None:
    """``TypeError``/``ValueError`` unless ``escape_character`` is one
    character: a key, which the bridge finds in any one read (several would
    be found only when they come in one)."""
    if not isinstance(escape_character, str):
        kind = type(escape_character).__name__
        raise TypeError(f"escape_character must be a str or None, not {kind}")
    if not escape_character:
        raise ValueError("escape_character must not be empty (None: no escape character)")
    if len(escape_character) != 1:
        raise ValueError(
            f"escape_character must be one character (a key), not {escape_character!r}"
        )


async def interact_terminal(session: Session, escape_character: Any) -> None:
    """``Session.interact``: the process's stdin/stdout, raw mode on a tty."""
    if escape_character is not None:
        check_escape(escape_character)
    fd_in, fd_out = _standard_fd(sys.stdin, "input"), _standard_fd(sys.stdout, "output")
    busy = _in_interact.get(fd_in)
    if busy is not None:
        raise BusyError(f"this process's terminal is already in interact() with session #{busy}")
    sys.stdout.flush()
    output = _Output(session, fd_out)
    read = _stdin_reader(fd_in)
    if _terminal_of(session):
        mode = _raw_terminal(fd_in)
    else:
        mode = _line_terminal(fd_in, escape_character)
        read = _interrupting(session, read, escape_character)
    _in_interact[fd_in] = session.id
    try:
        with mode as usable:
            if not usable:  # (it hung up: its input has ended, and nothing was shown)
                return
            with following_size(session, lambda: terminal_size(fd_in)):
                await bridge(session, read, output.write, escape_character, output=output)
    finally:
        del _in_interact[fd_in]
        output.close()


#: The standard input descriptors in an ``interact`` (its session's id): a
#: second one on the same terminal would take the keys (the event loop has
#: one reader per descriptor) and leave the first waiting for ever.
_in_interact: dict[int, int] = {}


def _terminal_of(session: Session) -> bool:
    """Whether the peer has a terminal of its own (a pty; SSH with one; telnet
    and streams: taken to): it echoes and edits, and gets every key raw."""
    transport = session.transport
    if transport.kind == "pipes":
        return False
    return transport.kind != "ssh" or bool(transport.get_extra_info("pty", True))


def _interrupting(
    session: Session, read: Callable[[], Awaitable[bytes]], escape_character: str | None
) -> Callable[[], Awaitable[bytes]]:
    """Input in line mode: a line ended by Ctrl-C is dropped and the peer
    interrupted (``sendintr``: SIGINT to a piped child), unless Ctrl-C is
    the escape character: then it leaves, as it does in raw mode."""
    escape = escape_character.encode() if escape_character is not None else None

    async def read_line() -> bytes:
        while True:
            data = await read()
            if not data.endswith(_CTRL_C) or (escape is not None and escape in data):
                return data
            await session.sendintr()

    return read_line


_CTRL_C = b"\x03"


def terminal_size(fd: int) -> tuple[int, int] | None:
    try:
        size = os.get_terminal_size(fd)
    except OSError:  # not a terminal
        return None
    return (size.lines, size.columns) if size.lines > 0 and size.columns > 0 else None


@contextlib.contextmanager
def following_size(
    session: Session, size: Callable[[], tuple[int, int] | None], *, local: bool = True
) -> Iterator[None]:
    """The session's terminal takes the person's size (``size()``: rows,
    columns, or ``None``), now and whenever it changes (``local``, this
    process's terminal: on SIGWINCH; polled where another handler has that
    signal, off the main thread, or for a remote person), and keeps it
    afterwards.  Nothing happens for a session without a terminal."""
    last: tuple[int, int] | None = None

    def follow() -> None:
        nonlocal last
        now = size()
        if now is not None and now != last and not session.closed:
            with contextlib.suppress(TypeError, ValueError):  # no terminal (pipes)
                session.set_winsize(*now)
                last = now

    follow()
    if last is None and size() is not None:  # a size it did not take: no terminal
        yield
        return
    loop = asyncio.get_running_loop()
    before = signal.getsignal(signal.SIGWINCH)
    watched = local and before in (signal.SIG_DFL, signal.SIG_IGN)
    if watched:
        try:
            loop.add_signal_handler(signal.SIGWINCH, follow)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread
            watched = False
    polling: list[asyncio.TimerHandle] = []

    def poll() -> None:
        follow()
        polling[:] = [loop.call_later(_POLL_SIZE, poll)]

    if not watched:
        polling.append(loop.call_later(_POLL_SIZE, poll))
    try:
        yield
    finally:
        if polling:
            polling[0].cancel()
        else:
            loop.remove_signal_handler(signal.SIGWINCH)
            signal.signal(signal.SIGWINCH, before)


_POLL_SIZE = 0.25  # seconds between looks at the size, where SIGWINCH is not ours


def _standard_fd(stream: Any, what: str) -> int:
    try:
        return int(stream.fileno())
    except (AttributeError, ValueError, OSError):  # None (closed at start), closed, StringIO
        raise ValueError(f"interact needs the process's standard {what}; it is not open") from None


class _Output:
    """The person's terminal, written without blocking the event loop: what
    it cannot take yet waits here, and past ``SINK_HIGH`` bytes waiting the session
    stops reading (back-pressure, as at ``max_buffer``) until it caught up.
    The descriptor is non-blocking meanwhile (restored by ``close``)."""

    LOW = 1 << 16

    def __init__(self, session: Session, fd: int) -> None:
        self._session, self._fd = session, fd
        self._loop = asyncio.get_running_loop()
        self._pending = bytearray()
        self._drained: asyncio.Future[None] | None = None
        self._draining = False
        self._blocking = os.get_blocking(fd)
        os.set_blocking(fd, False)
        # Under strip_ansi: the start of a sequence that what the terminal
        # took ends inside, however long (``open_sequence``; see ``give_back``).
        self._taken: bytes | None = None if session._ansi is None else b""

    def write(self, data: Any) -> None:
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else bytes(data)
        if not self._pending:
            raw = raw[self._write_some(raw) :]
            if not raw:
                return
            try:
                self._loop.add_writer(self._fd, self._on_writable)
            except (OSError, ValueError):  # (a regular file, which never blocks)
                os.set_blocking(self._fd, True)
                raw = raw[self._write_some(raw) :]
        self._pending += raw
        if len(self._pending) >= SINK_HIGH:
            self._session._sink_full = True

    def _write_some(self, data: bytes | bytearray) -> int:
        try:
            written = os.write(self._fd, data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:  # the terminal is gone: nobody to show it to
            return len(data)
        if self._taken is not None and written:
            if self._taken:
                data, end = self._taken + data[:written], len(self._taken) + written
            else:
                end = written
            self._taken = open_sequence(data, end, text=self._session.encoding is not None)
        return written

    def _on_writable(self) -> None:
        del self._pending[: self._write_some(self._pending)]
        if len(self._pending) < self.LOW and not self._draining:
            sink_caught_up(self._session)
        if not self._pending:
            self._loop.remove_writer(self._fd)
            if self._drained is not None and not self._drained.done():
                self._drained.set_result(None)

    async def drain(self) -> None:
        """Until everything shown was written; the session does not read
        meanwhile (what it would read is for after the bridge)."""
        if self._pending:
            self._draining = self._session._sink_full = True
            self._drained = self._loop.create_future()
            await self._drained

    def give_back(self) -> None:
        """What the terminal has not taken (the bridge failed or was
        cancelled) goes to the session's buffer, where the program finds it:
        the bridge ends in a moment (``divert`` gave it the buffer, empty:
        this text comes before anything read after it)."""
        if not self._pending:
            return
        self._loop.remove_writer(self._fd)
        raw, self._pending = bytes(self._pending), bytearray()
        # (written as UTF-8: see ``write``; the rest of a character the
        # terminal got the start of comes back as U+FFFD)
        data = raw if self._session.encoding is None else raw.decode("utf-8", "replace")
        if self._taken is not None:  # (shown as it came) stripped, the rest of a
            # sequence the terminal took the start of too; one cut at its end
            # is what the session's stripper holds: it goes there
            taken = (
                self._taken if isinstance(data, bytes) else self._taken.decode("utf-8", "replace")
            )
            stripper = AnsiStripper(data[:0])
            stripper.feed(taken)
            data = stripper.feed(data)
        self._session._buffer.append(data)
        offer(self._session)

    def close(self) -> None:
        """Restore the descriptor (``bridge`` gave back what waited)."""
        if self._pending:
            self._loop.remove_writer(self._fd)
        os.set_blocking(self._fd, self._blocking)


def _stdin_reader(fd: int) -> Callable[[], Awaitable[bytes]]:
    loop = asyncio.get_running_loop()

    async def read() -> bytes:
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        try:
            loop.add_reader(fd, wake)
        except (OSError, ValueError):  # a regular file: always readable
            return _read_input(fd)
        try:
            await ready
        finally:
            loop.remove_reader(fd)
        return _read_input(fd)

    return read


def _read_input(fd: int) -> bytes:
    """A read of the person's input; ``b""`` (its end) if the terminal is
    gone: EIO, as a terminal hanging up, or a pty master whose other side
    closed, gives it."""
    try:
        return os.read(fd, 4096)
    except OSError as exc:
        if exc.errno != errno.EIO:
            raise
        return b""


def _line_terminal(fd: int, escape_character: str | None) -> AbstractContextManager[bool]:
    """For a peer without a terminal: the person's terminal edits and echoes
    lines (Enter sends ``\\n``, output ``\\n`` shows as a line end); no
    signals for this process: Ctrl-C (and the escape character) end the line
    at once, to be acted on.  An escape character that is one of the
    terminal's own keys (erase, kill, end of file, stop output...) is taken
    from that key: it would never reach the bridge."""

    def line_mode() -> None:
        mode = termios.tcgetattr(fd)
        mode[3] &= ~termios.ISIG  # lflag
        mode[6][termios.VEOL2] = _CTRL_C
        key = escape_character.encode() if escape_character is not None else b""
        if len(key) == 1:  # (a key of more bytes ends nothing: it waits for Enter)
            off = _disabled_key(fd)
            for slot in _TERMINAL_KEYS:
                if mode[6][slot] == key:
                    mode[6][slot] = off
            mode[6][termios.VEOL] = key
        termios.tcsetattr(fd, termios.TCSADRAIN, mode)

    return _terminal_mode(fd, line_mode)


#: The keys a terminal in line mode acts on itself (ISIG's are off there).
_TERMINAL_KEYS = tuple(
    getattr(termios, name)
    for name in [
        "VEOF",
        "VERASE",
        "VKILL",
        "VWERASE",
        "VLNEXT",
        "VREPRINT",
        "VSTOP",
        "VSTART",
        "VDISCARD",
        "VSTATUS",
    ]
    if hasattr(termios, name)
)


def _disabled_key(fd: int) -> bytes:
    """The value that turns a terminal key off (``_POSIX_VDISABLE``)."""
    try:
        return bytes([os.fpathconf(fd, "PC_VDISABLE")])
    except (OSError, ValueError):
        return b"\0"  # (Linux's)


def _raw_terminal(fd: int) -> AbstractContextManager[bool]:
    # TCSADRAIN, not the default TCSAFLUSH: input typed ahead is kept.
    return _terminal_mode(fd, lambda: tty.setraw(fd, termios.TCSADRAIN))


@contextlib.contextmanager
def _terminal_mode(fd: int, change: Callable[[], object]) -> Iterator[bool]:
    """``change()`` the mode of ``fd`` if it is a terminal; restored after.

    A terminal that hangs up (its window closed, the connection to it
    dropped) has ended its input, and has no mode left to change or
    restore: ``False`` if it hung up before the change (between ``isatty``
    and here), and nothing to restore if it hung up meanwhile.
    """
    if not os.isatty(fd):
        yield True
        return
    try:
        saved = _retrying(lambda: termios.tcgetattr(fd))
        _retrying(change)
    except termios.error as exc:
        _log.debug("interact: the terminal hung up (%s): its input has ended", exc.args[-1])
        yield False
        return
    try:
        with _restored_when_killed(fd, saved):
            yield True
    finally:
        try:
            _retrying(lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved))
        except termios.error as exc:
            _log.debug("interact: the terminal hung up (%s): no mode to restore", exc.args[-1])


@contextlib.contextmanager
def _restored_when_killed(fd: int, saved: list[Any]) -> Iterator[None]:
    """SIGTERM, SIGHUP at their default (ending us, no ``finally``): the terminal restored first."""

    def restore(signum: int, _frame: object) -> None:
        with contextlib.suppress(termios.error):  # (hung up: nothing to restore)
            termios.tcsetattr(fd, termios.TCSANOW, saved)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    ours = [s for s in (signal.SIGTERM, signal.SIGHUP) if signal.getsignal(s) == signal.SIG_DFL]
    with contextlib.suppress(ValueError):  # (off the main thread: none taken)
        ours = [s for s in ours if signal.signal(s, restore) == signal.SIG_DFL]
    try:
        yield
    finally:
        for signum in (s for s in ours if signal.getsignal(s) is restore):  # (not another's)
            signal.signal(signum, signal.SIG_DFL)


_T = TypeVar("_T")


def _retrying(call: Callable[[], _T]) -> _T:
    """``call()`` again when a signal interrupted it (``TCSADRAIN`` waits for
    the output to drain: ``termios`` does not retry on ``EINTR`` itself)."""
    while True:
        try:
            return call()
        except termios.error as exc:
            if exc.args[0] != errno.EINTR:
                raise
