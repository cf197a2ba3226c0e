"""ANSI/VT100 control sequences: stripping, whole or incrementally.

``AnsiStripper`` holds back an escape sequence that is cut at the end of a
chunk, so that for any chunking its output is ``strip_ansi`` of the whole
stream (a cut sequence longer than ``MAX_HOLD`` aside); one that keeps the
moves up a row (``keep_up``) gives that with them, and ``drop_up`` of it is
that without them.  One that knows right prompts (``right_prompts``) drops
zsh's whole, its text with it (``_RIGHT``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["AnsiStripper", "drop_up", "open_sequence", "strip_ansi"]

_ESC_BODY = (  # (after the ESC)
    r"(?:\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC (title, hyperlinks)
    r"|[PX^_][^\x1b]*\x1b\\"  # DCS, SOS, PM, APC
    r"|[()*+][0-~]"  # charset designation
    r"|[ -/]*[0-OQ-WYZ\\`-~])"  # other escapes (not the CSI/OSC/DCS introducers)
)
_ESC_SEQ = r"\x1b" + _ESC_BODY
#: What an escape sequence cut at the end of a chunk can look like.
_ESC_PARTIAL = r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[PX^_][^\x1b]*\x1b?|[()*+]|[ -/]*)?"
# The 8-bit CSI is a character, U+009B, in text only: in bytes of unknown
# encoding 0x9b is far more often part of a UTF-8 character (ě is c4 9b,
# Л is d0 9b) than a CSI, and taking it for one ate the text after it.
_C1_SEQ = r"|\x9b[0-?]*[ -/]*[@-~]"
_C1_PARTIAL = r"|\x9b[0-?]*[ -/]*"
_TEXT = (re.compile(_ESC_SEQ + _C1_SEQ), re.compile(f"(?:{_ESC_PARTIAL}{_C1_PARTIAL})\\Z"))
_BYTES = (re.compile(_ESC_SEQ.encode()), re.compile(f"(?:{_ESC_PARTIAL})\\Z".encode()))
#: A move up a row (``ESC[A``, ``ESC[2A``), which ``keep_up`` keeps: a
#: session's transcript needs it to know readline's copy of a row that
#: ended at the margin (``_echo``); its buffer and logfile never show it.
_UP_BODY = r"\[[0-9]{0,4}A"
_UP = r"\x1b" + _UP_BODY
_UPS: dict[type, tuple[Any, re.Pattern[Any]]] = {
    str: ("\x1b", re.compile(_UP)),
    bytes: (b"\x1b", re.compile(_UP.encode())),
}
#: Every sequence but a move up, by the chunks' type and ``keep_up`` (the
#: look-ahead after the ESC: a pattern that starts with it is found fast).
_KEPT = rf"\x1b(?!{_UP_BODY}){_ESC_BODY}"
_SEQUENCES: dict[tuple[type, bool], re.Pattern[Any]] = {
    (str, False): _TEXT[0],
    (bytes, False): _BYTES[0],
    (str, True): re.compile(_KEPT + _C1_SEQ),
    (bytes, True): re.compile(_KEPT.encode()),
}
#: zsh's right prompt (``_output.RIGHT_PROMPT``, as zsh writes it: after
#: ``ESC[K``, vt100's NUL padding, a move right to the margin, the text,
#: coloured or not, and a move left that brings the cursor back where the
#: move right took it from; or, with ``ZLE_RPROMPT_INDENT=0``, its text
#: ending in the last column, ``\r`` and a move right back to the column
#: where ``ESC[K`` was).  The text lies off at the margin, apart from
#: the text around it, which a stripped stream runs together: glued to
#: the prompt, it was taken for output after it.  The cursor back where
#: it was is the proof (``_returns``); without it, it is text as any.
#: (``_output.RIGHT_TEXT``'s, which a layer apart cannot be imported: see there.)
_RIGHT_TEXT = r"(?:[^\x00-\x1f\x7f]{1,19}+|\x1b\[[\d;:]{0,16}[mK]){1,40}+"
_RIGHT = re.compile(
    rf"\x1b\[K\x00{{0,16}}\x1b\[(\d{{1,4}})C({_RIGHT_TEXT})"
    r"(?:\x1b\[(\d{1,4})D|\r(?:\x1b\[[\d;:]{0,8}m){0,4}\x1b\[(\d{1,4})C)"
)
#: One cut by the end of a chunk, held until its end shows what it is.
_RIGHT_CUT = re.compile(
    r"\x1b\[K\x00{0,16}(?:\x1b(?:\[(?:\d{1,4}(?:C(?:[^\x00-\x1f\x7f]|\x1b\[[\d;:]{0,24}[mK]){0,400}"
    r"(?:\x1b(?:\[[\d;:]{0,24})?|\r(?:\x1b\[[\d;:]{0,8}m){0,4}(?:\x1b(?:\[[\d;:]{0,24})?)?)?)?)?)?)?\Z"
)
_SGR = re.compile(r"\x1b\[[\d;:]{0,24}[mK]")
#: Characters of no width (as wcwidth counts them): marks that combine
#: with the one before (``U+0301``, the variation selector ``U+FE0F``) and
#: format characters (the zero-width joiner and space).
_NO_WIDTH = frozenset({"Mn", "Me", "Cf"})
#: What ``AnsiStripper`` keeps of a line it gave without a line start.
_LINE_KEPT = 1024
#: How far back from a chunk's end a cut right prompt may start.
_RIGHT_REACH = 16 * 1024
#: A cut sequence longer than this is let through rather than held for ever.
MAX_HOLD = 4096
#: A cut sequence at the end of UTF-8 (text written to a terminal: the
#: 8-bit CSI, U+009B, is C2 9B, and may be cut after its C2), or of bytes
#: (``text`` false: none).
_UTF8_CUT = {
    True: re.compile(f"(?:{_ESC_PARTIAL}|\\xc2(?:\\x9b[0-?]*[ -/]*)?)\\Z".encode()),
    False: _BYTES[1],
}


def strip_ansi(text: Any) -> Any:
    """``text`` (str or bytes) without terminal control sequences."""
    seq = (_BYTES if isinstance(text, bytes) else _TEXT)[0]
    return seq.sub(text[:0], text)


def drop_up(text: Any) -> Any:
    """``text`` (str or bytes) from an ``AnsiStripper`` that keeps the moves
    up (``keep_up``), without them: what one that does not keep them gives.
    (A move up it gave is whole in one chunk: it holds back a cut one.)"""
    esc, up = _UPS[bytes if isinstance(text, bytes) else str]
    return up.sub(text[:0], text) if esc in text else text


class AnsiStripper:
    """Strips control sequences from a stream of chunks.

    What is held back is the earliest start of a sequence that the end of
    the chunk cuts, not the last ESC: an OSC or DCS cut right after its
    terminator's ESC has two, and holding only that ESC let the sequence's
    body through and stripped its ``ESC \\`` alone.  A cut sequence never
    contains a complete one, so the earliest is where ``strip_ansi`` of the
    whole stream would next look.

    With ``keep_up``, the moves up a row (``ESC[A``) stay: a session's
    stripper keeps them for its transcript (``drop_up`` takes them out of
    the rest).  Nothing else differs: a move up is never part of another
    sequence, nor does one start in it.

    With ``right_prompts`` (text only), zsh's right prompt goes whole, its
    text with it (``_RIGHT``); one cut by the end of a chunk is held back
    from its ``ESC[K`` on until its end shows whether it is one
    (``holding``), or ``let_go`` gives it up.
    """

    __slots__ = ("_empty", "_held", "_keep_up", "_line", "_right", "holding")

    def __init__(
        self, empty: str | bytes = "", *, keep_up: bool = False, right_prompts: bool = False
    ) -> None:
        self._empty = empty  # what the chunks are: str, or bytes in bytes mode
        self._held: Any = None
        self._keep_up = keep_up
        self._right = right_prompts and isinstance(empty, str)
        #: What it gave since the last line start (``\\r``, ``\\n``), or more:
        #: the line a right prompt at ``ZLE_RPROMPT_INDENT=0`` is drawn on
        #: (its last ``_LINE_KEPT`` characters: past them, not known).
        self._line = ""
        #: Whether what it holds is the start of a right prompt, cut.
        self.holding = False

    def feed(self, chunk: Any) -> Any:
        if self._held:
            chunk = self._held + chunk
            self._held = None
            self.holding = False
        if not self._right:
            return self._strip(chunk)
        if "\x1b[K" in chunk:  # (the cheap test first)
            chunk = _RIGHT.sub(self._drop_right, chunk)
            # (the first ESC[K a cut one can start at: its text may hold
            # one too, powerlevel9k's does)
            cut = _RIGHT_CUT.search(chunk, max(0, len(chunk) - _RIGHT_REACH))
            if cut is not None:
                start = cut.start()
                done = self._strip(chunk[:start])  # (what it cuts, held in front)
                self._held = (self._held or "") + chunk[start:]
                self.holding = True
                self._gave(done)
                return done
        done = self._strip(chunk)
        self._gave(done)
        return done

    def let_go(self) -> Any:
        """A cut right prompt held (``holding``) given up, its rest not
        come: what it holds, stripped as any text (a sequence it ends
        inside still held)."""
        held, self._held = self._held, None
        self.holding = False
        if not held:
            return self._empty
        done = self._strip(held)
        self._gave(done)
        return done

    def _gave(self, done: str) -> None:
        """``done`` given: the line so far (``_line``) follows it."""
        if "\n" in done or "\r" in done:  # (the common chunk: the line is in it)
            self._line = done
        elif done:
            self._line = (self._line + done)[-_LINE_KEPT:]

    def _drop_right(self, m: re.Match[str]) -> str:
        """A right prompt (``_RIGHT``) gone, or its text kept where the
        cursor does not come back (``_returns``)."""
        return "" if _returns(m, self._line) else m.group()

    def _strip(self, chunk: Any) -> Any:
        kind = bytes if isinstance(chunk, bytes) else str
        partial = (_BYTES if kind is bytes else _TEXT)[1]
        start = _search_start(chunk, max(0, len(chunk) - MAX_HOLD))
        cut = None if start < 0 else partial.search(chunk, start)
        if cut is not None:  # never empty: it starts with ESC (or U+009B)
            self._held = chunk[cut.start() :]
            chunk = chunk[: cut.start()]
        return _SEQUENCES[kind, self._keep_up].sub(chunk[:0], chunk)

    def peek(self, chunk: Any) -> Any:
        """What ``feed(chunk)`` gives, nothing held or let go meanwhile."""
        held, holding, line = self._held, self.holding, self._line
        try:
            return self.feed(chunk)
        finally:
            self._held, self.holding, self._line = held, holding, line

    def held(self) -> Any:
        """The cut sequence held back (empty if none), still held."""
        return self._held or self._empty

    def flush(self) -> Any:
        """What is held, at the end of the stream: the cut sequence stays,
        a complete one inside it (an OSC never ended holds an 8-bit CSI) goes,
        as ``strip_ansi`` of the whole stream does."""
        held, self._held = self._held, None
        self.holding = False
        return strip_ansi(held) if held else self._empty


def _returns(m: re.Match[str], line: str) -> bool:
    """Whether the cursor comes back, after ``_RIGHT``'s match, where its
    move right started: a move left over the text's width; or, after
    ``\\r``, a move right to the column of its ``ESC[K``, after the text
    since the line's start, in the chunk (``m.string``) or in ``line``,
    what came before it (not known there: no)."""
    if m.group(3) is not None:
        return int(m.group(3)) == int(m.group(1)) + _width(_SGR.sub("", m.group(2)))
    before = m.string[: m.start()]
    start = max(before.rfind("\r"), before.rfind("\n"))
    if start < 0:
        at = max(line.rfind("\r"), line.rfind("\n"))
        if at < 0:
            return False
        before = line[at:] + before
        start = 0
    return int(m.group(4)) == _width(strip_ansi(before[start + 1 :]))


def _width(text: str) -> int:
    """The columns ``text`` takes, as zsh counts them: a wide character
    two, one that joins or marks another none (an accent, an emoji's
    variation selector, a zero-width joiner)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in _NO_WIDTH:
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


def _search_start(chunk: Any, start: int) -> int:
    """Where a sequence cut at the end of ``chunk`` can start, from
    ``start`` on (``-1``: nowhere), so that a chunk of plain text is not
    searched whole.  No cut sequence has an ESC inside but the last
    character (an OSC's or DCS's ``ESC \\`` cut in two): it starts at the
    last ESC or at the one before it, or at a U+009B after those in text."""
    if isinstance(chunk, bytes):
        last = chunk.rfind(b"\x1b", start)
        if last < 0:
            return -1
        before = chunk.rfind(b"\x1b", start, last)
    else:
        last = chunk.rfind("\x1b", start)
        if last < 0:
            c1: int = chunk.rfind("\x9b", start)  # (chunk is Any: say what rfind gives)
            return c1
        before = chunk.rfind("\x1b", start, last)
    return before if before >= 0 else last


def open_sequence(data: bytes | bytearray, end: int, *, text: bool) -> bytes:
    """The start of a sequence that ``data[:end]`` ends inside (``b""``:
    none), however long (an OSC title, a sixel image), shortened to what
    decides its rest: its introducer and its last byte (an OSC's body is
    any bytes until its end, a CSI's parameters any digits until its final
    byte).  ``data`` begins with what this gave for the bytes before it: a
    stripper fed that, then the bytes after ``end``, strips the rest of
    the sequence too.  ``text``: UTF-8 from a text stream (U+009B starts a
    CSI there)."""
    last = data.rfind(b"\x1b", 0, end)
    if last < 0:
        start = data.rfind(b"\xc2", 0, end) if text else -1
    else:  # (see _search_start; a U+009B after these is found from there)
        before = data.rfind(b"\x1b", 0, last)
        start = before if before >= 0 else last
    cut = None if start < 0 else _UTF8_CUT[text].search(data, start, end)
    if cut is None:
        return b""
    sequence = bytes(data[cut.start() : end])
    return sequence if len(sequence) <= 3 else sequence[:2] + sequence[-1:]
