"""Connecting a person to a session: ``Session.interact`` and the console's
``attach`` share ``bridge``.

While bridged, received data goes to the person (``Session.divert``) and what
they type goes to the session, until the escape character or end-of-file.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import _interacted, _prompt_read, _shown
from ._ansi import AnsiStripper
from ._exceptions import BusyError, ClosedError
from ._reading import EVIDENCE
from ._tty import CTRL_C, Output, line_terminal, raw_terminal, stdin_reader

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["bridge", "following_size", "interact_terminal", "refuse_line_end", "terminal_size"]


async def bridge(
    session: Session,
    read_input: Callable[[], Awaitable[bytes]],
    write_output: Callable[[Any], None],
    escape_character: str | None,
    *,
    keep: bool = False,
    output: Output | None = None,
) -> bytes:
    """Pump input to the session and its output back until escape or EOF;
    return what was typed after the escape character in the same read
    (``b""`` if nothing was), which is the caller's: not the session's.

    ``read_input`` returns ``b""`` at end of input.  The session's buffered
    data is written out first (with ``keep``, a copy: the program still
    finds it); nothing is lost when the bridge ends.  ``output``, the
    ``Output`` behind ``write_output``: still in the bridge, the terminal
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
                    seen.given_back(output.give_back())
    finally:
        # A command the person started may still answer: execute() knows.
        _interacted.interacted(session, seen.tail, seen.typed, seen.sent)
        # Evidence, should execute() time out next; none from attach (keep): its
        # copy of what was buffered stays there, before what it showed.
        _shown.keep(session, session._empty if keep else seen.shown)


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
    """What a bridge showed last (``tail``; ``shown``, more of it), whether a line was typed since
    the output last ended at a prompt (``typed``), and whether anything was
    typed at all (``sent``).  With ``strip``, the tail is the text as the
    program reads it under ``strip_ansi`` (the output is shown as it came):
    the prompts it knows are in that text, a colour's sequences not in them."""

    def __init__(self, empty: Any, at_prompt: Callable[[Any], bool], *, strip: bool) -> None:
        self.tail: Any = empty
        self.shown: Any = empty
        self.typed = False
        self.sent = False
        self._empty = empty
        self._at_prompt = at_prompt
        self._stripper = AnsiStripper(empty, right_prompts=True) if strip else None

    def output(self, data: Any) -> None:
        if self._stripper is not None:
            data = self._stripper.feed(data)
        self.shown = (self.shown + data)[-_SHOWN:]
        self.tail = self.shown[-EVIDENCE:]
        if self.typed and self._at_prompt(self.tail):
            self.typed = False  # what was typed has been answered

    def given_back(self, data: Any) -> None:
        """``data``, the end of what was shown, did not reach the person: it
        went to the buffer, whose evidence quotes it (not twice).  Said
        before the end of the bridge; its prompt state (``tail``) unchanged."""
        if data:
            end = len(self.shown) - len(data)
            self.shown = self.shown[:end] if end >= 0 and self.shown.endswith(data) else self._empty

    def input(self, data: bytes) -> None:
        self.sent = self.sent or bool(data)
        self.typed = self.typed or b"\r" in data or b"\n" in data


#: What a bridge keeps of the text it showed last: ``EVIDENCE`` of it for a
#: message, and room before it for a secret the cut goes through (masked whole).
_SHOWN = 8192


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
    # (A session with a terminal of its own takes Enter as CR: keys piped in
    # with CR line ends, a "\n" ending them, run each line and then leave.)
    refuse_line_end(escape_character, not _terminal_of(session), "the session has no terminal")
    busy = _in_interact.get(fd_in)
    if busy is not None:
        raise BusyError(f"this process's terminal is already in interact() with session #{busy}")
    sys.stdout.flush()
    output = Output(session, fd_out)
    read = stdin_reader(fd_in)
    if _terminal_of(session):
        mode = raw_terminal(fd_in, output)
    else:
        mode = line_terminal(fd_in, escape_character, output)
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


def refuse_line_end(escape_character: str | None, lines: bool, why: str) -> None:
    """``ValueError`` for an escape character of ``"\\n"`` where the input
    comes in ``lines`` (``why``: a session without a terminal of its own,
    which reads lines ended by LF, the person's terminal in line mode,
    ``line_terminal``; a console client that sends lines): it ends every
    line, so the first would leave, its line end never sent.  (In raw mode
    it is Ctrl-J, Enter being ``"\\r"``.)"""
    if escape_character == "\n" and lines:
        raise ValueError(
            f"escape_character '\\n' would leave at the first line end: the input comes in "
            f"lines here ({why}); choose another key"
        )


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
            if not data.endswith(CTRL_C) or (escape is not None and escape in data):
                return data
            await session.sendintr()

    return read_line


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
