"""The reading side of a Session: the *pump* that feeds the session from
its transport (or push delivery's receivers), the searchers for
``read_some`` and ``expect_any``, and the errors a failed wait raises.

Rule: the pump holds the session only weakly (a dropped session is
collected, warns and aborts its transport); data is consumed by the reading
task itself, never here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import _options
from ._deadlines import held_deadlines
from ._exceptions import (
    BufferFull,
    BusyError,
    ClosedError,
    ConnectionLostError,
    ExpectEOF,
    ExpectError,
    ExpectTimeout,
)
from ._loops import check_loop
from ._match import EOF, Data
from ._matcher import Buffer, Found, Searcher
from ._opening import check_flag
from ._receive import AHEAD, feed, feed_eof, feed_plain, hold, offer_again, room, transcribe
from ._redact import Redactor
from ._transport import DEFAULT_READ_SIZE, Transport

if TYPE_CHECKING:
    from ._session import Session

__all__ = [
    "AnyData",
    "PeekBuffer",
    "divert",
    "failure",
    "pump",
    "feed_held",
    "receivers",
    "space_freed",
]

#: Characters of received text quoted in error messages.
EVIDENCE = 200
_log = logging.getLogger("aioexpect")


class AnyData(Searcher):
    """read_some: any buffered data satisfies the wait; EOF is index 0."""

    def __init__(self) -> None:
        super().__init__([EOF])

    def search(self, buf: Buffer) -> Found | None:
        return Found(-1, 0, len(buf), None, 0) if len(buf) else None

    def settled(self, buf: Buffer, found: Found, after: Any) -> bool:
        return True  # (whatever follows, what is buffered is data)


class PeekBuffer(Buffer):
    """A read cursor over a buffer: ``consume`` reads without removing
    (for ``expect_any``, which commits only the winner's match)."""

    def __init__(self, real: Buffer) -> None:
        super().__init__(real.empty)
        self._real = real
        self._pos = 0
        self.size = real.size

    def consume(self, n: int) -> Any:
        # (a slice, not the rest of the buffer cut: each match would copy it)
        text = self._real.slice(self._pos, self._pos + min(n, self.size))
        self._pos += len(text)
        self.size -= len(text)
        return text


async def lines(session: Session, timeout: Any) -> AsyncIterator[Any]:
    """``Session.lines``."""
    newline: Any = b"\n" if session._decoder.bytes_mode else "\n"
    cr: Any = b"\r" if session._decoder.bytes_mode else "\r"
    while True:
        m = await session._expect(Searcher([newline, EOF]), timeout)
        if m.index == 1:
            if m.before:  # (a lone line end left: an empty line, and its end too)
                yield m.before.rstrip(cr)
            return
        yield m.before.rstrip(cr)  # a pty's \r\n, or \r\r\n for a child's own \r\n


async def pump(transport: Transport, ref: weakref.ref[Session], space: asyncio.Event) -> None:
    """Read from the transport into the session until EOF, error or close.
    What a read brought that does not fit (``AHEAD``, or a ``divert`` ended
    while it was under way) waits in ``Session._held``, as push delivery's,
    before anything read later."""
    try:
        while True:
            session = ref()
            if session is None:
                return
            free = room(session)
            if free == 0:
                space.clear()
                del session
                await space.wait()
                continue
            if session._held:  # (decoded as push delivery's is: what fits, then an offer)
                if not feed_held(session) and session._eof:  # (bytes that do not decode)
                    return
                del session
                continue
            del session
            data = await transport.read(
                DEFAULT_READ_SIZE if free is None else min(free + AHEAD, DEFAULT_READ_SIZE)
            )
            session = ref()
            if session is None:
                return
            if not data:
                feed_eof(session)
                return
            free = room(session)
            if free is not None and free < len(data):
                data, session._held = data[:free], data[free:]
            if data:
                feed(session, data)
            del session
    except ClosedError:
        return
    except Exception as exc:
        if not isinstance(exc, ConnectionLostError):
            _log_failure(f"transport {transport.kind} failed", exc)
        session = ref()
        if session is not None and not session._closed:
            session._held = b""  # (reading stops at what does not decode)
            feed_eof(session, exc)


def space_freed(session: Session) -> None:
    """Consuming made room (every consumer calls this): the text waiting
    past ``max_buffer`` moves on (``room``), then the pump or push delivery
    reads on.  On push delivery that text is moved on also when reading was not
    paused: what the end of file flushed (an incomplete character under
    ``backslashreplace``, an unfinished escape sequence under ``strip_ansi``)
    waits there with no more data coming to push it."""
    if session._pump_task is not None:
        if room(session) != 0:
            session._space.set()
        return
    if session._closed or not (session._paused or session._held or session._surplus):
        return  # (the common case: nothing waits)
    if feed_held(session) and session._paused:
        session._paused = False
        session.transport.resume_receiving()


def info(session: Session) -> dict[str, Any]:
    """``Session.info()``: kind, peer, state, bytes in and out, waiting."""
    state = "closed" if session.closed else ("eof" if session._eof else "open")
    if session._sink is not None:
        state = "attached"
    return {
        "id": session.id,
        "kind": session.transport.kind,
        "peer": _peer(session),
        "state": state,
        "bytes_in": session.bytes_in,
        "bytes_out": session.bytes_out,
        "buffered": len(session._buffer),
        "waiting_for": _shown_patterns(session),
    }


def _peer(session: Session) -> str:
    return session._redactor.given(str(session.transport.get_extra_info("peer", "")))


def _shown_patterns(session: Session) -> list[Any] | None:
    """The pending read's patterns for display (``waiting_for`` itself
    keeps the patterns as given)."""
    waiting = session.waiting_for
    return None if waiting is None else masked_sources(waiting, session.redact)


def masked_sources(patterns: Any, redact: Callable[[Any], Any]) -> list[Any]:
    """Each pattern's source (a compiled one's text), secrets masked: before
    any ``repr`` escapes them."""
    sources = (getattr(p, "pattern", p) for p in patterns)
    return [redact(s) if isinstance(s, str | bytes) else s for s in sources]


def drop(session: Session, what: str) -> Any:
    """After ``BufferFull``, in a wait that reads past what does not fit (an
    owed prompt, the login dialog): discard all but the buffer's last row
    (from its last ``\\n`` or ``\\r``) or, where that is shorter, its last
    ``EVIDENCE`` characters (its last half where that is less); and read
    on.  Return what went, as ``buffer`` gives it (logged at DEBUG as a
    count: ``what`` it was).

    The tail kept is where the awaited text may begin, its rest not
    received yet.  A prompt or question starts a row: kept whole, it is
    found whatever its length, as long as it fits in ``max_buffer``; a cut
    through it would leave its end at the buffer's start, which passes for
    a line start, so a shorter prompt would be found.  A buffer with no
    line end (a row longer than the buffer) keeps its last ``EVIDENCE``
    characters, or last half where that is less.  Each pass frees room (one
    of 200 characters or less, kept whole, would be filled again at once),
    and a flood costs two searches per ``max_buffer`` of it, or three where
    a long row comes.  Nothing goes only where nothing is buffered."""
    buffer = session._buffer
    n = len(buffer)
    keep = min(EVIDENCE, n // 2)
    lf, cr = ("\n", "\r") if isinstance(buffer.empty, str) else (b"\n", b"\r")
    row = max(buffer.rfind(lf, 0), buffer.rfind(cr, 0)) + 1  # (0: no line end)
    if row:
        keep = max(keep, n - row)
    dropped = n - keep
    gone = buffer.consume(dropped)
    if dropped > 0:
        space_freed(session)
        session.log.debug("dropped %d characters of %s", dropped, what)
    return gone


def take_all(session: Session, limit: int | None = None) -> Data:
    """Remove and return everything buffered (at most ``limit``), and read
    on if that made room."""
    n = len(session._buffer)
    data: Data = session._buffer.consume(n if limit is None else min(n, limit))
    space_freed(session)
    return data


def _log_failure(what: str, exc: Exception) -> None:
    """Bytes that do not decode under ``codec_errors="strict"`` are the
    peer's doing, not a bug: one warning line, no traceback."""
    if isinstance(exc, UnicodeDecodeError):
        handler = getattr(exc, "handler", "strict")
        _log.warning("%s: %s (codec_errors=%r): reading stopped", what, exc, handler)
    else:
        _log.error("%s", what, exc_info=exc)


def tail_of(redactor: Redactor, text: Any, size: int = EVIDENCE) -> Any:
    """The last ``size`` characters of ``text`` as masked (``redact`` of all
    of it): no part of a secret is shown, also where masks shortened the
    text or the cut went through one."""
    return redactor.tail(text, size)


def lost(wanted: str, error: BaseException, evidence: str) -> ConnectionLostError:
    """The error for a wait that ended with the connection (or, under
    ``codec_errors="strict"``, with bytes that do not decode)."""
    if isinstance(error, UnicodeDecodeError):
        handler = getattr(error, "handler", "strict")
        message = (
            f"reading stopped at bytes that do not decode (codec_errors={handler!r}) "
            f"while waiting for {wanted}: {error}"
        )
    else:
        message = f"connection lost while waiting for {wanted}: {error}"
    lost = ConnectionLostError(f"{message}; last characters received: {evidence}")
    lost.__cause__ = error
    return lost


def failure(
    session: Session, searcher: Searcher, code: int | None
) -> ExpectError | ConnectionLostError:
    """The error for a wait that gave up: ``code`` -1 is end-of-file (or the
    lost connection ``error``), -2 a full buffer, anything else the deadline.
    Messages quote the patterns and the last characters received, redacted;
    ``.before`` keeps the data as it arrived."""
    redactor, error = session._redactor, session._error
    before = session._buffer.text()
    tail = tail_of(redactor, before)
    if isinstance(searcher, AnyData):
        wanted = "any data"
    else:
        wanted = describe(searcher.patterns, redactor.redact)
    if code == -1 and error is not None:
        # (what was received stays in the buffer: ``session.buffer``)
        return lost(wanted, error, repr(tail))
    if code == -1:
        kind: type[ExpectError] = ExpectEOF
        message = f"end of file while waiting for {wanted}"
    elif code == -2:
        kind = BufferFull
        message = f"max_buffer ({session.max_buffer}) reached while waiting for {wanted}"
    else:
        kind = ExpectTimeout
        message = f"timed out waiting for {wanted}"
    return kind(
        f"{message}; last characters received: {tail!r}",
        before=before,
        patterns=searcher.patterns,
    )


def flush_logs(session: Session) -> None:
    """Closing: the send records held back, the transcript's tail, and the
    logfile closed."""
    _options.record_sent(session.log, session._sent_log, None)
    transcribe(session, None)
    session._logfile.close()


async def end_of_close(session: Session) -> None:
    """``Session.close``, after the transport's: the logs flushed, and the
    pump awaited also when the flush fails (a user's logging filter that
    raises, say), so that close() never returns with it running."""
    try:
        flush_logs(session)
    finally:
        pump = session._pump_task
        if pump is not None:
            await asyncio.wait([pump])  # (a cancellation of close() itself propagates)
            if not pump.cancelled():
                pump.result()


async def wait_for_end(session: Session, timeout: float | None) -> int | None:
    """``Session.wait``: the transport's, bounded.  A transport with no exit
    status (telnet, streams) ends with its connection: the session's end of
    file (after all output before it), a reset or ``close()``.

    The time-out says when the output not read yet filled ``max_buffer``:
    reading then paused, and a child blocked writing the rest never ends (as
    a pipe's reader that never reads deadlocks ``subprocess``).  Its advice
    reads in pieces: ``read_all()`` and ``expect(EOF)`` need room for all of
    it, and raise ``BufferFull`` at once then."""
    transport = session.transport
    if session._loop is not asyncio._get_running_loop():
        if transport.exit_status is not None or transport.signal_status is not None:
            return transport.exit_status  # (known: nothing to wait for, in any loop)
        check_loop(session._loop, session.id)
    try:
        async with asyncio.timeout(timeout):
            if not transport.has_exit_status:
                await session._ended.wait()
            return await transport.wait()
    except TimeoutError:
        pass
    before = session._buffer.text()
    why = ""
    if session.max_buffer is not None and len(before) >= session.max_buffer:
        stuck = "a child blocked writing the rest never ends"
        if not transport.has_exit_status:
            stuck = "the end of the connection is not seen before the rest is read"
        why = (
            f" (its output not read yet filled max_buffer, {len(before)} characters:"
            f" reading paused, and {stuck}; read it in pieces, with read_some() (until it"
            " gives ''), lines() or expect([FULL_BUFFER, EOF]) in a loop, or open the session"
            " with a larger max_buffer (max_buffer=None: unbounded))"
        )
    tail = tail_of(session._redactor, before)
    raise ExpectTimeout(
        f"timed out waiting for {session.transport.kind} {_peer(session)!r} to end{why};"
        f" last characters received: {tail!r}",
        before=before,
    )


def receivers(
    ref: weakref.ref[Session],
) -> tuple[Callable[[bytes | memoryview], bool], Callable[[BaseException | None], None]]:
    """``on_data`` and ``on_end`` for push delivery (``start_receiving``): the
    work of ``pump`` without a task switch per chunk, holding the session
    weakly too.  ``max_buffer`` stays exact: what does not fit is held back
    undecoded (``Session._held``) until the reader consumes, and end-of-file
    waits behind it.  ``on_data`` answers whether there is room for more."""

    def on_data(data: bytes | memoryview) -> bool:
        session = ref()
        if session is None or session._closed:
            return False
        try:
            if feed_plain(session, data):  # (the common chunk; nothing held, so no end waits)
                more = room(session) != 0
            else:
                if session._held:
                    session._held += data
                else:  # decode straight from ``data``; copy only what must wait
                    free = room(session)
                    fits = len(data) if free is None or free > len(data) else free
                    if fits < len(data):  # (first: a reader offered the rest sees it waits)
                        session._held = bytes(data[fits:])
                    if fits:
                        feed(session, data[:fits] if fits < len(data) else data)
                more = feed_held(session)
            session._paused = not more
            return more
        except Exception as exc:  # reported to the reader, never lost
            _log_failure(f"session #{session.id} could not take data", exc)
            session._held = b""  # (reading stops at what does not decode)
            feed_eof(session, exc)
            return False

    def on_end(error: BaseException | None) -> None:
        session = ref()
        if session is not None and not session._closed:
            session._end = (error,)
            feed_held(session)

    return on_data, on_end


def feed_held(session: Session) -> bool:
    """Decode what fits of the held-back data (a byte that decodes to
    several characters leaves the rest in ``Session._surplus``: see
    ``store``); report end-of-file once nothing is held.  Returns whether
    the transport may go on reading."""
    # Room is counted in characters and taken in bytes: multi-byte text
    # fills less than it takes, so go on until the buffer is full.
    drained = False
    while session._held and not session._closed:
        held, free = session._held, room(session)
        if free == 0:
            break
        fits = len(held) if free is None else free
        session._held, drained = held[fits:], True
        try:
            feed(session, held[:fits])
        except Exception as exc:  # (strict decoding) reported to the reader, never lost
            _log_failure(f"session #{session.id} could not take data", exc)
            session._held = b""
            feed_eof(session, exc)
            return False
    if drained:
        offer_again(session)
    if not session._held and session._end is not None and not session._eof:
        feed_eof(session, session._end[0])
    return not session._held and room(session) != 0


@contextlib.contextmanager
def divert(session: Session, sink: Callable[[Any], None], keep: bool) -> Iterator[None]:
    """``Session.divert``: the buffered data (consumed, or a copy with
    ``keep``), then everything received, goes to ``sink``; a pending
    reader's deadline is suspended meanwhile (``expect_any``'s: the one all
    its sessions share).  Reading goes on whatever the buffer holds
    (``room``): the sink takes it, after the buffered data.  The text
    decoded past ``max_buffer`` counts as buffered: the program was to read
    it next, so with ``keep`` it stays for the program (and the sink gets a
    copy).  Bytes push delivery held back undecoded go to the sink only, as
    what the pump had not read yet does."""
    check_flag("keep", keep)
    if session._sink is not None:
        raise BusyError(f"session #{session.id} is already attached")
    waiter = session._waiter
    remaining = session._alarm.suspend()
    shared = held_deadlines(session)
    for deadline in shared:
        deadline.hold()
    session._sink = sink
    try:
        buffer, surplus = session._buffer, session._surplus
        if keep:
            pending = buffer.text() + surplus
        else:
            pending = buffer.consume(len(buffer)) + surplus
            session._surplus = surplus[:0]
        if session._ansi is not None:  # (the sink gets what follows as it comes: see deliver)
            pending += session._ansi.held()
            if keep and session._let_go is not None:  # (a right prompt's hold: the program's)
                session._let_go.cancel()
                session._let_go = None
        if pending:
            sink(pending)
        space_freed(session)  # (what was held back follows it: to the sink)
        yield
    finally:
        session._sink = None
        if session._ansi is not None and session._ansi.holding and session._let_go is None:
            hold(session)  # (its time from here on: ``_receive.RIGHT_WAIT``)
        sink_caught_up(session)  # reading goes on, into the buffer
        if remaining is not None and waiter is not None and waiter is session._waiter:
            loop = asyncio.get_running_loop()
            session._alarm.set(loop, loop.time() + remaining, waiter)
        for deadline in shared:
            deadline.release()


#: Bytes waiting for a person's terminal (``interact``) or a console client
#: (``attach``) past which the session stops reading (``_sink_full``).
SINK_HIGH = 1 << 20


def sink_caught_up(session: Session) -> None:
    """The sink of ``divert`` took what waited (or is gone): reading goes on."""
    if session._sink_full:
        session._sink_full = False
        space_freed(session)


#: Patterns a message names at most: an expect of 10,000 made a message of 89 KB.
MAX_SHOWN = 20


def describe(patterns: Any, redact: Callable[[Any], Any], limit: int = 80) -> str:
    """Patterns for a message: each one's source, secrets masked (before
    ``repr`` escapes them), cut to ``limit`` characters; the first
    ``MAX_SHOWN`` of them, and how many more."""
    patterns = list(patterns)
    shown = [repr(s) for s in masked_sources(patterns[:MAX_SHOWN], redact)]
    if len(patterns) > MAX_SHOWN:
        shown.append(f"... and {len(patterns) - MAX_SHOWN} more")
    return ", ".join(t if len(t) <= limit else t[: limit - 3] + "..." for t in shown)
