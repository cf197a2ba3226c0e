"""A chunk's way into a Session once it is received (read by the pump or
pushed by the transport): decoded, stripped of ANSI, transcribed, shown to
the monitors, stored in the buffer (what goes past ``max_buffer`` waits in
``Session._surplus``), and offered to the one pending reader, whose wait
``check`` decides.  Apart from ``_reading``, which decides when to read and
holds back bytes that do not fit yet: this is the path every chunk takes.

Rule: nothing here consumes from the buffer; the reading task does, after
it resumed (``Session`` rule 1).
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any

from . import _options
from ._ansi import drop_up
from ._matcher import Found, Searcher

if TYPE_CHECKING:
    from ._session import Session

__all__ = [
    "AHEAD",
    "check",
    "deliver",
    "feed",
    "feed_eof",
    "hold",
    "offer",
    "offer_again",
    "room",
    "settled",
    "store",
    "transcribe",
]

#: Bytes the pump asks for past ``max_buffer``, to hold back undecoded
#: (``Session._held``): the end of the buffer at the cut is then known not to
#: be the end of what came, and ``settled`` looks at what follows.
AHEAD = 256


def feed(session: Session, data: bytes | memoryview) -> None:
    """A chunk received (read by the pump, or pushed), as bytes: decoded,
    stripped, delivered.  Bytes that do not decode under
    ``codec_errors="strict"`` raise once the text before them is delivered."""
    session.bytes_in += len(data)
    error = None
    try:
        text = session._decoder.decode(data)
    except UnicodeDecodeError as exc:  # codec_errors="strict": the end of reading
        text, error = exc.valid, exc  # type: ignore[attr-defined]
    if session._ansi is None:
        deliver(session, text)
    else:
        stripped = session._ansi.feed(text)
        if session._let_go is not None or session._ansi.holding:
            hold(session)
        # (a person's terminal gets the text as it came)
        deliver(session, stripped, text if session._sink is not None else None)
    if error is not None:
        raise error


#: How long the stripper may hold what looks like the start of zsh's right
#: prompt (``AnsiStripper.holding``) with nothing more come: zsh writes
#: a right prompt in one write, so its rest follows at once; a program
#: that wrote that shape, then waits, gets it shown (``let_go``) after this.
RIGHT_WAIT = 0.1


def hold(session: Session) -> None:
    """A chunk came under ``strip_ansi`` (or an attach ended: ``divert``):
    the timer of ``RIGHT_WAIT`` (``Session._let_go``) put off anew while
    the stripper holds a cut right prompt, else cancelled."""
    if session._let_go is not None:
        session._let_go.cancel()
        session._let_go = None
    if session._ansi is not None and session._ansi.holding:
        ref = weakref.ref(session)
        session._let_go = session._loop.call_later(RIGHT_WAIT, _let_go, ref)


def _let_go(ref: weakref.ref[Session]) -> None:
    """``RIGHT_WAIT`` passed with no more come: what the stripper holds goes
    to the buffer (and wakes a reader), as text; a person's terminal
    (``interact``) was shown it as it came (an attach that leaves the
    buffer to the program, ``divert(keep=True)``, leaves it too: its time
    starts anew once it ends).  Bytes held back undecoded
    (no room) come after it: their feed decides (and puts the timer off).
    (Text decoded past ``max_buffer`` stays in front of it: ``store``.)"""
    session = ref()
    if session is None:
        return
    session._let_go = None
    if session._closed or session._eof or session._held:
        return
    stripper = session._ansi
    if stripper is not None and stripper.holding:
        deliver(session, stripper.let_go(), session._empty)


def feed_plain(session: Session, data: bytes | memoryview) -> bool:
    """``feed`` of a chunk that fits under ``max_buffer`` (in bytes, as
    ``on_data`` counts it), in fewer steps, where nothing else applies:
    nothing held back or waiting past the bound, no sink (nor one behind),
    stripper, monitor, transcript or DEBUG record.  Returns ``False``,
    having done nothing, where anything does: then ``feed``'s own way."""
    buffer, limit = session._buffer, session._max_buffer
    if (
        (limit is not None and limit - buffer.size < len(data))
        or session._held
        or session._surplus
        or session._sink is not None
        or session._sink_full
        or session._ansi is not None
        or session._monitors
        or session._redactor.armed
        or session._logfile.active
        or session.log.isEnabledFor(logging.DEBUG)
    ):
        return False
    session.bytes_in += len(data)
    try:
        text = session._decoder.decode(data)
    except UnicodeDecodeError as exc:  # codec_errors="strict": the text before it first
        deliver(session, exc.valid)  # type: ignore[attr-defined]
        raise
    if limit is not None and buffer.size + len(text) > limit:
        deliver(session, text)  # (a codec_errors handler wrote several characters a byte)
    elif text:
        buffer.append(text)
        offer(session)
    return True


def feed_eof(session: Session, error: BaseException | None = None) -> None:
    """The end of what the transport gives (``error``: why, if it failed):
    the decoder's and stripper's tails delivered, then the reader offered the
    end."""
    try:
        tail = session._decoder.flush()
    except UnicodeDecodeError as exc:  # strict: an incomplete character at the end
        tail, error = exc.valid, error or exc  # type: ignore[attr-defined]
    if session._let_go is not None:
        session._let_go.cancel()
        session._let_go = None
    if session._ansi is None:
        deliver(session, tail)
    else:
        stripped = session._ansi.feed(tail) + session._ansi.flush()
        deliver(session, stripped, tail if session._sink is not None else None)
    session._eof = True
    session._ended.set()
    session._error = error
    transcribe(session, None)
    offer(session)


def deliver(session: Session, text: Any, raw: Any = None) -> None:
    """Decoded text: to the transcript, the monitors, then the buffer (or
    the sink of ``divert``), and offered to the reader.  ``raw``, under
    ``strip_ansi`` while diverted: the text before stripping, which the
    sink (a person's terminal, which needs its colours and cursor moves)
    gets instead; the transcript and monitors see ``text`` as ever."""
    if raw is not None and (sink := session._sink) is not None:
        _observe(session, text)
        if raw:
            sink(raw)
        return
    if (text := _observe(session, text)) and store(session, text):
        offer(session)


def _observe(session: Session, text: Any) -> Any:
    """``text`` to the transcript and the monitors; what is left of it for
    the buffer (a move up alone is for the transcript: see ``transcribe``)."""
    if not text:
        return text
    if (
        session._redactor.armed
        or session._logfile.active
        or session.log.isEnabledFor(logging.DEBUG)
    ):
        transcribe(session, text)
    if session._ansi is not None and not (text := drop_up(text)):
        return text
    for monitor in tuple(session._monitors):  # (a callback may add or remove one)
        if not monitor.removed:
            monitor.feed(session, text)
    return text


def offer(session: Session) -> None:
    """Resolve the pending reader's wait if the buffer now decides it."""
    waiter = session._waiter
    if waiter is not None and not waiter.future.done():
        result = check(session, waiter.searcher)
        if result is not None:
            waiter.future.set_result(result)


def check(session: Session, searcher: Searcher) -> Found | int | None:
    """A match, a sentinel index (-1: EOF error, -2: full error), or None."""
    found = searcher.search(session._buffer)
    if found is not None and (session._surplus or session._held):  # (cut at max_buffer)
        found = settled(session, searcher, found)
    if found is not None:
        return found
    if session._max_buffer is not None and session._buffer.size >= session._max_buffer:
        return searcher.full_index if searcher.full_index is not None else -2
    if session._eof:  # an end caused by an error is not EOF: ConnectionLostError
        eof = searcher.eof_index
        return eof if eof is not None and session._error is None else -1
    return None


def room(session: Session) -> int | None:
    """How many more characters the session takes now (``None``: no bound):
    0 while its sink is behind (``_sink_full``) or text decoded past
    ``max_buffer`` still waits (``store``; moved on here first, as far as
    it fits); while diverted, what arrives goes to the sink, not the
    buffer, so neither ``max_buffer`` nor that text counts (an ``attach``
    leaves the program's buffer full, and that text after it: ``divert``)."""
    if session._sink_full:
        return 0
    if session._sink is not None:
        return None
    if session._surplus and not _release(session):
        return 0
    limit = session._max_buffer  # (the attribute's own field: once per read)
    if limit is None:
        return None
    free = limit - session._buffer.size
    return free if free > 0 else 0  # (not max(): see _buffer's note)


def store(session: Session, text: Any) -> bool:
    """Put decoded text in the buffer, or give it to the sink of ``divert``
    (then ``False``: no reader to offer it to).  What goes past
    ``max_buffer`` waits in ``Session._surplus``, ahead of all received
    later, until ``room`` moves it on: bytes are taken as the room in
    characters allows, but a ``codec_errors`` handler may write several
    characters for one byte (``backslashreplace`` writes 4).  While text
    waits there the buffer is full (every consumption moves it on:
    ``space_freed``), so a reader finds its match or the full buffer before
    an end of file that came after it."""
    if session._sink is not None:
        session._sink(text)
        return False
    buffer, limit = session._buffer, session._max_buffer
    if session._surplus or (limit is not None and buffer.size + len(text) > limit):
        text = session._surplus + text
        fits = len(text) if limit is None else max(0, limit - buffer.size)
        text, session._surplus = text[:fits], text[fits:]
    buffer.append(text)
    return True


def _release(session: Session) -> bool:
    """Move the text waiting past ``max_buffer`` on, as far as it fits;
    whether none is left."""
    surplus, session._surplus = session._surplus, session._surplus[:0]
    if store(session, surplus):
        offer(session)  # (a reader waiting now sees it, as any data)
    return not session._surplus


def settled(session: Session, searcher: Searcher, found: Found) -> Found | None:
    """``found`` if it is a match of what came (``Searcher.settled``), now
    that text waits past ``max_buffer``: decoded (``Session._surplus``), or
    not (``Session._held``: looked at as it will decode, nothing changed)."""
    after = session._surplus
    if len(after) < AHEAD and session._held and not session._eof:  # (none comes after an end)
        more = session._decoder.peek(session._held[:AHEAD])
        if session._ansi is not None:
            more = drop_up(session._ansi.peek(more))
        after += more
    return found if searcher.settled(session._buffer, found, after) else None


def offer_again(session: Session) -> None:
    """Offer the buffer to the reader again after held bytes were decoded,
    even if they gave no text (``deliver`` offers only text): a match that
    ``settled`` refused while they waited is judged anew, never left to
    the reader's time-out."""
    if session._sink is None and not session._closed:
        offer(session)


def transcribe(session: Session, text: Any) -> None:
    """What the session received (``None``: its end, what is held), to its
    logfile and DEBUG records through the transcript (``RedactingStream``).
    Under ``strip_ansi`` it is fed the text with its moves up a row, which
    the session's stripper keeps (``keep_up``) for it: readline's copy of
    a row that ended at the margin, a part of a secret in it, is known by
    the move up before it.  The moves up are taken out of what it gives."""
    shown = session._transcript.flush() if text is None else session._transcript.feed(text)
    if session._ansi is not None:  # (a move up is whole there: it never cuts one)
        shown = drop_up(shown)
    _options.record(session.log, session._logfile, shown)
