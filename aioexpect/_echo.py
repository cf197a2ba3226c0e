"""A line editor's echo as the terminal shows it, for redaction to find a
secret in it: what the editor writes that shows as no character (where it
wraps the line at the margin, redraws, moves the cursor) is left out, each
character kept knows its place in the text, and a row drawn again is
known as a copy of the one it repeats.  Pure: str or bytes alike.

Invariant: only what is left out moves a character, so the echo of a text
is that of its start followed by that of the rest, but where a repeat or a
sequence is cut between them: at an open end (a stream, the rest to come)
what may start one is left out too, and a stream that holds back a tail
that may start a secret in the echo finds it however the text is split.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

__all__ = ["Echo", "blank", "copy_start", "cut_short", "up_at"]

#: Moving the cursor up a row (``ESC[A``, ``ESC[2A``).
_UP = r"\x1b\[[0-9]*A"
#: What a line editor writes into the line it echoes that shows as no
#: character: at the terminal's margin readline (bash) writes the next
#: character, ``\r`` and that character again (``c``: the repeat), zsh
#: ``" \r"``, ``ESC[K`` and the same, others ``\r\n``; cursor moves (up a
#: row: ``up``), erasing and other sequences; padding (NUL).  (The repeat
#: first: only a character that shows may be repeated.)
_REDRAW = (
    r"(?<=(?P<c>[^\x00-\x1f\x7f]))\r(?P=c)"
    r"| ?\r+(?P<eol>\n)?"
    rf"|(?P<up>{_UP})"
    r"|\x1b(?:\[[0-?]*[ -/]*[@-~]|[ -/]*[0-~])"
    r"|[\x00-\x08\x0b-\x1f\x7f]"
)
#: A control sequence not ended yet.
_OPEN = r"\x1b(?:\[[0-?]*)?[ -/]*"
#: What, at the end of a stream, may be the start of one: a space (zsh's
#: ``" \r"``), a sequence cut short.
_CUT = rf"(?: |{_OPEN})\Z"
#: For str and for bytes: ``_REDRAW`` and ``_CUT``.
_PATTERNS: dict[type, tuple[re.Pattern[Any], re.Pattern[Any]]] = {
    str: (re.compile(_REDRAW), re.compile(_CUT)),
    bytes: (re.compile(_REDRAW.encode()), re.compile(_CUT.encode())),
}


#: How long a sequence cut short may be and still be held back
#: (``cut_short``): real ones have a few characters, and what a stream
#: holds is searched again with the next chunk.
_SHORT = 64
_OPEN_STR = re.compile(_OPEN)
_UP_STR = re.compile(_UP)


def cut_short(text: str, end: int | None = None) -> int:
    """Where a control sequence that ``text[:end]`` ends with, cut short,
    starts (``end`` if none): a stream holds it back, as what comes next
    ends it (``ESC[`` then ``h`` shows no ``h``)."""
    end = len(text) if end is None else end
    at = text.rfind("\x1b", max(0, end - _SHORT), end)
    return at if at >= 0 and _OPEN_STR.fullmatch(text, at, end) else end


def blank(text: str, start: int) -> bool:
    """Whether ``text[start:]``, at an open end, shows no character and
    ends no line: only what ``_REDRAW`` leaves out, or what may start it
    (readline's ``" \\r"`` at the margin, ``ESC[A`` to draw the row
    again)."""
    redraw, cut = _PATTERNS[str]
    while start < len(text):
        found = redraw.match(text, start)
        if found is None or found.group("eol") is not None:
            return cut.match(text, start) is not None
        start = found.end()
    return True


def up_at(text: str, start: int = 0, end: int | None = None) -> int:
    """Where ``text[:end]`` first moves the cursor up a row, from ``start``
    on (-1 if nowhere): readline draws a row again after it."""
    found = _UP_STR.search(text, start, len(text) if end is None else end)
    return found.start() if found is not None else -1


def copy_start(row: str, needles: list[str], closed: bool = False) -> tuple[int, int] | None:
    """Where ``row``, what came so far of a row readline draws again (from
    the move up before it), starts with a copy of a tail of one of
    ``needles`` (the part of a secret that stood on the row it draws again:
    the secret began on a row above): ``(start, end)`` of the longest in
    ``row``; ``(start, -1)`` where all it shows may still become one, the
    rest to come (``start``: ``len(row)`` while it shows nothing).  ``None``
    where it starts otherwise, or shows nothing and is ``closed``."""
    echo = Echo.of(row, open_end=not closed)
    view = row if echo is None else echo.view
    if not view:
        return None if closed else (len(row), -1)
    at = (lambda begin, end: (begin, end)) if echo is None else echo.span
    if not closed and any(n.find(view, 1, len(n) - 1) >= 0 for n in needles):
        return at(0, 1)[0], -1
    size = max((k for n in needles for k in range(1, len(n)) if view.startswith(n[-k:])), default=0)
    return at(0, size) if size else None


class Echo:
    """``text`` as a terminal shows it: ``view`` is ``text`` without
    ``_REDRAW`` (and, at an open end, without what may start one), and
    ``span`` finds where a stretch of ``view`` stands in ``text``.

    readline draws the last row of a line that ends at the margin again:
    up a row, the row (with the prompt, if it is the first), the line end.
    Its characters stay in ``view``; ``copied`` says where they repeat a
    secret's."""

    __slots__ = ("_copies", "_ends", "_open", "_raws", "_starts", "_stop", "text", "view")

    def __init__(self, text: Any, view: Any, stop: int, open_end: bool) -> None:
        #: ``view`` is that of ``text[:stop]``: past ``stop``, at an open
        #: end, what may start a ``_REDRAW``.
        self.text, self.view, self._stop, self._open = text, view, stop, open_end
        #: Each run of characters kept: where it starts in ``view`` and in
        #: ``text``, and where it ends in ``text`` (with a repeat of its
        #: last character after it).  Made when first needed: most texts
        #: hold no secret.
        self._starts: list[int] = []
        self._raws: list[int] = []
        self._ends: list[int] = []
        self._copies: list[tuple[int, int, int]] = []

    @classmethod
    def of(cls, text: Any, open_end: bool = False) -> Echo | None:
        """The echo of ``text`` (str or bytes), ``None`` where it is
        ``text`` itself (nothing left out)."""
        redraw, cut = _PATTERNS[bytes if isinstance(text, bytes) else str]  # (a subclass too)
        stop = len(text)
        if open_end and (found := cut.search(text)) is not None:
            stop = found.start()
        view = redraw.sub(text[:0], text[:stop])
        return cls(text, view, stop, open_end) if len(view) < len(text) else None

    def span(self, begin: int, end: int) -> tuple[int, int]:
        """Where ``view[begin:end]`` (not empty) stands in ``text``: from
        its first character to its last, with the repeat after that (at an
        open end, a ``\\r`` after the last character of all: the repeat
        may come next)."""
        self._map()
        first = bisect.bisect_right(self._starts, begin) - 1
        last = bisect.bisect_right(self._starts, end - 1) - 1
        start = self._raws[first] + begin - self._starts[first]
        stop = self._raws[last] + end - self._starts[last]
        following = self._starts[last + 1] if last + 1 < len(self._starts) else len(self.view)
        return start, self._ends[last] if end == following else stop

    def copied(self, begin: int, end: int) -> list[tuple[int, int]]:
        """Where a row drawn again repeats a part of ``view[begin:end]``:
        the copy of the part, as one stretch of ``text``; from the part on
        where the copy follows it with nothing shown between them (the row
        ended with it: between them only how the editor went back to draw
        it).  The rest of the row, shown after the part, stays shown where
        it stands: a stream has let it go before the copy came."""
        self._map()
        found = []
        for first, copy, size in self._copies:
            low, high = max(begin, first), min(end, first + size)
            if low < high:
                at = copy + low - first  # (the copy of the part, in ``view``)
                start = self.span(low, high)[0] if at == high else self.span(at, at + 1)[0]
                found.append((start, self.span(at, copy + high - first)[1]))
        return found

    def reach(self, count: int) -> int:
        """Where ``text`` holds ``count`` characters of ``view`` (its
        length if fewer)."""
        return self.span(0, count)[1] if count < len(self.view) else len(self.text)

    def _map(self) -> None:
        if self._starts or not self.view:
            return
        ups, ends, done, size = [], [], 0, 0
        kind = bytes if isinstance(self.text, bytes) else str
        for found in _PATTERNS[kind][0].finditer(self.text, 0, self._stop):
            start, end = found.span()
            if start > done:
                self._starts.append(size)
                self._raws.append(done)
                self._ends.append(start)
                size += start - done
            if found.group("c") is not None and self._ends and self._ends[-1] == start:
                self._ends[-1] = end  # (a repeat: hidden with the character it repeats)
            elif found.group("up") is not None:
                ups.append(size)
            elif found.group("eol") is not None:
                ends.append(size)
            done = end
        if done < self._stop:
            self._starts.append(size)
            self._raws.append(done)
            self._ends.append(self._stop)
        # (at an open end, a last character then \r: its repeat may follow)
        last = len(self.text) - 1
        if self._open and self._ends and self._ends[-1] == last and self.text[last] in (13, "\r"):
            self._ends[-1] += 1
        self._copies = [copy for up in ups if (copy := self._copy(up, ends))]

    def _copy(self, up: int, ends: list[int]) -> tuple[int, int, int] | None:
        """The row drawn again after moving up at ``up`` (up to the line
        end, or the end of a closed text): ``(first, copy, size)``, where
        ``view[copy:copy + size]`` repeats ``view[first:first + size]``,
        the end of what came before (the prompt it may start with is not
        repeated there)."""
        view, at = self.view, bisect.bisect_left(ends, up)
        lf = "\n" if isinstance(view, str) else b"\n"
        found = [n for n in (ends[at] if at < len(ends) else -1, view.find(lf, up)) if n >= 0]
        if not found and self._open:
            return None  # (the stream holds the line until its end)
        end = min(found, default=len(view))
        start = max(ends[at - 1] if at else 0, view.rfind(lf, 0, up) + 1)  # (of its line)
        size, most = 0, min(up - start, end - up)
        while size < most and view[up - size - 1] == view[end - size - 1]:
            size += 1
        return (up - size, end - size, size) if size else None
