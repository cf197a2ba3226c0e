r"""The incremental pattern search over the buffer of unmatched data.

Rule 1: a search never rescans what it has already ruled out.  Each pattern
keeps a resume offset: exact strings and bounded regexes resume ``width``
characters (plus a margin for look-arounds) before the end of what was
searched; unbounded regexes that cannot match a newline resume at the start of
the last line, and bounded ones that end at the end of the buffer and hold a
few newlines at the start of their last lines; a bounded regex that holds
``\Z`` (or ``$``) on every way to match resumes ``tail`` characters before
the end, however much arrived; a regex that starts only at line starts
(``Analysis.starts``) is tried only where one is, and resumes at the end
where none is; one whose matches hold a literal not at their start
(``Analysis.needs``) looks for it first, as one with a prefix does; only
unbounded regexes that can span lines rescan from where the expect began.
So the cost of an expect is linear in the data received.

Rule 2: the earliest match in the buffer wins; ties go to the lowest index.
Sentinels (EOF, TIMEOUT, FULL_BUFFER) match only when their condition holds
and no text pattern matched.
"""

from __future__ import annotations

import copy
import re
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from ._buffer import Buffer
from ._match import EOF, FULL_BUFFER, TIMEOUT, Match, new_match
from ._patterns import IdentityCache, normalize, same
from ._scan import UNTOLD, Analysis, Reach, alternation_of, analyse, needs_of

__all__ = ["Buffer", "Found", "Searcher", "alternation"]

#: Characters of context kept before a resume offset, for look-behinds, ``\b``
#: and look-aheads that failed only because data was missing.
MARGIN = 256
#: New characters a regex searches per window when much arrived at once.
STEP = 1 << 15
#: Reach's members, looked up once: an Enum's members are found through its
#: metaclass's ``__getattr__`` hook, about 950 instructions a lookup on 3.11.
BOUNDED, LINE, ANY = Reach.BOUNDED, Reach.LINE, Reach.ANY
#: New characters past which a regex looks for its literal prefix first;
#: in less, one regex search costs less than the extra step.
PREFILTER = 1 << 10
#: Characters past which a regex that starts only at line starts (a
#: prompt: ``Analysis.starts``) looks for them first; in less, a search
#: costs about as much.
ANCHORED = 64


class Found:
    """Where a search succeeded: pattern ``index`` over ``[start, end)``."""

    __slots__ = ("end", "index", "re_match", "start", "window_base")

    def __init__(
        self, index: int, start: int, end: int, re_match: re.Match[Any] | None, base: int
    ) -> None:
        self.index = index
        self.start = start
        self.end = end
        self.re_match = re_match
        self.window_base = base


class _Scan:
    """One text pattern's search state within one expect."""

    __slots__ = (
        "index",
        "last_line",
        "lines",
        "needs",
        "newline",
        "post",
        "pre",
        "prefix",
        "reach",
        "regex",
        "resume",
        "starts",
        "tail",
        "width",
    )

    def __init__(self, index: int, pattern: Any, analysis: Analysis | None = None) -> None:
        self.index = index
        self.resume = 0
        if isinstance(pattern, re.Pattern):
            self.regex: re.Pattern[Any] | None = pattern
            analysis = analysis or analyse(pattern)
            self.reach, self.width, self.pre, self.post, self.prefix, self.last_line = analysis[:6]
            self.tail, self.starts, self.needs = analysis.tail, analysis.starts, analysis.needs
            # In the last few lines, and bounded: see ``_last_lines``.
            bounded = analysis.lines > 1 and self.reach is BOUNDED
            self.lines = analysis.lines if bounded else 0
            self.newline: Any = b"\n" if isinstance(pattern.pattern, bytes) else "\n"
        else:
            self.regex = None
            self.reach, self.width, self.pre, self.post = BOUNDED, len(pattern), 0, 0
            self.prefix = pattern
            self.last_line, self.newline, self.lines, self.tail = False, None, 0, None
            self.starts = self.needs = None

    def search(self, buf: Buffer) -> Found | None:
        r, regex = self.resume, self.regex
        if regex is None:  # an exact string (its own prefix): in place
            i = buf.find(self.prefix, r)
            if i >= 0:
                return Found(self.index, i, i + self.width, None, r)
            self.resume = max(r, buf.size - self.width + 1)
            return None
        n, prefix = buf.size, self.prefix
        if self.tail is not None:  # no match starts earlier, whatever comes next
            self.resume = r = max(r, n - self.tail)
        if self.last_line:  # a prompt: it starts after the last newline
            nl = buf.rfind(self.newline, r)
            if nl >= 0:
                self.resume = r = nl + 1
        elif self.lines:
            self.resume = r = self._last_lines(buf, max(r, n - self.width))
        if prefix and n - r > PREFILTER:  # every match starts with it
            at = buf.find(prefix, r)
            if at < 0:
                self.resume = max(r, n - len(prefix) + 1)
                return None
            self.resume = r = at  # no match starts before it
        if self.needs is not None and n - r > ANCHORED:  # (not with a prefix)
            if not self._needed(buf, r, n):
                return None
            r = self.resume
        # (One with a tail has at most that much left, searched to the end at
        # once: a window short of the end would take its end for ``\Z``.)
        if n - r > STEP and self.reach is not ANY and self.tail is None:
            stop = self._step(buf, regex, r, n)
            if not isinstance(stop, int):
                return stop
            r = stop
        ctx = r if r < MARGIN else MARGIN  # (not min(): see _buffer's note)
        base = r - ctx
        window = buf.tail_from(base)
        starts = self.starts
        if starts is not None and n - r > ANCHORED:  # (a long line: where can one start?)
            at = _line_start(window, starts, ctx)
            if at < 0:  # nowhere: nor before the end, whatever comes next
                self.resume = n
                return None
            # The only place: tried there, not at each place after it.
            only = _line_start(window, starts, at + 1) < 0
            m = regex.match(window, at) if only else regex.search(window, at)
        else:
            m = regex.search(window, ctx)
        if m is not None:
            return Found(self.index, base + m.start(), base + m.end(), m, base)
        self._advance(n, window, ctx, base)
        return None

    def _needed(self, buf: Buffer, r: int, n: int) -> bool:
        """Whether a match may start at ``r`` or after, by the literal every
        match holds (``needs``), at most ``offset`` characters after its
        start: ``resume`` moves to that far before where it is first found,
        or, where it is not, to that far before where it may yet be."""
        if self.needs is UNTOLD:  # (parsed once a pattern, for a long line only)
            if n - r <= PREFILTER:
                return True
            self.needs = needs_of(self.regex) if self.regex is not None else None
        if self.needs is None:
            return True
        literal, offset = self.needs
        at = buf.find(literal, r)
        start = (at if at >= 0 else n - len(literal) + 1) - offset
        self.resume = start if start > r else r
        return at >= 0

    def _last_lines(self, buf: Buffer, r: int) -> int:
        """Where the last ``lines`` lines of ``buf`` start, at or after ``r``:
        a match ends at the end of the buffer and holds fewer than ``lines``
        newlines (a JunOS prompt with its context line above it), so it
        starts there at the earliest, and ``width`` characters back at most
        (``r``: no copy of a long line)."""
        tail = buf.tail_from(r)
        at = len(tail)
        for _ in range(self.lines):
            at = tail.rfind(self.newline, 0, at)
            if at < 0:
                return r
        return r + at + 1

    def _step(self, buf: Buffer, regex: re.Pattern[Any], r: int, n: int) -> int | Found | None:
        """Rule out a long stretch of new data in windows of ``STEP``
        characters, where that keeps ruling out (a window of a few pages is
        reused by the allocator; one as long as a wake-up's data may be
        mapped afresh every time).  Stops before the last window, and
        returns where to search from; or at a window that has a match, or
        that rules nothing out (a long line, or a wide pattern), and returns
        what ``_widen`` makes of it."""
        while n - r > STEP:
            ctx = min(r, MARGIN)
            base, end = r - ctx, r + STEP
            window = buf.slice(base, end)
            m = regex.search(window, ctx)
            if m is not None:
                return self._widen(buf, regex, window, m, ctx, base, n)
            self._advance(end, window, ctx, base)
            if self.resume <= r:
                return self._widen(buf, regex, window, None, ctx, base, n)
            r = self.resume
        return r

    def _widen(
        self, buf: Buffer, regex: re.Pattern[Any], window: Any, m: Any, ctx: int, base: int, n: int
    ) -> Found | None:
        """The earliest match from ``base + ctx`` on, given the search of a
        ``window`` of the buffer from ``base`` (not to its end) and its match
        ``m`` (maybe ``None``): the window doubles until its match is one
        the data after it cannot change (``_settled``) or it holds the rest
        of the buffer.  A look-ahead, a greedy repeat or an earlier match
        may need more than the window, or ``$`` take its end for the
        buffer's: only a settled match is the whole buffer's too.  So an
        expect whose match lies early in a large buffer copies and searches
        a few windows, not all the data after its match."""
        while m is None or not self._settled(window, m.start()):
            end = base + 2 * len(window)
            if end >= n:
                window = buf.tail_from(base)
                m = regex.search(window, ctx)
                break
            window = buf.slice(base, end)
            m = regex.search(window, ctx)
        if m is None:
            self._advance(n, window, ctx, base)
            return None
        return Found(self.index, base + m.start(), base + m.end(), m, base)

    def _settled(self, window: Any, start: int) -> bool:
        """Whether every try of the regex at ``start`` or before in
        ``window`` (a stretch that stops short of the buffer's end) looks
        only at what the window holds, with ``MARGIN`` to spare for the
        zero-width checks and look-arounds at its end (as ``_advance``
        assumes): then the data after it changes no match there."""
        if self.reach is BOUNDED:
            return start + self.width + MARGIN <= len(window)
        # Reach.LINE: a try's newline-free middle begins within ``pre``
        # characters of it and ends at the first newline after, at the
        # latest; its suffix is at most ``post`` more.
        nl: int = window.find(self.newline, start + self.pre)
        return nl >= 0 and nl + self.post + MARGIN <= len(window)

    def _advance(self, n: int, window: Any, ctx: int, base: int) -> None:
        """Move ``resume`` past what the search of ``window`` (offset
        ``base``, data up to ``n``) ruled out."""
        if self.reach is BOUNDED:
            self.resume = max(self.resume, n - self.width - MARGIN)
        elif self.reach is LINE:
            # A pending match ends past the data; its newline-free middle ends
            # after n - post, so starts after the last newline before that,
            # and the match at most ``pre`` characters earlier.
            newline = b"\n" if isinstance(window, bytes) else "\n"
            nl = window.rfind(newline, ctx, max(ctx, n - self.post - base))
            line_start = base + nl + 1 if nl >= 0 else self.resume + self.pre
            lookback = n - MARGIN - self.pre - self.post
            self.resume = max(self.resume, min(line_start - self.pre, lookback))
        # Reach.ANY: the match may start anywhere, so resume stays put.


# Sized as ``_patterns``' cache of normalised lists, for runs over many hosts.
_PLANS = IdentityCache(4096)
_ALTERNATIONS = IdentityCache()
_GIVEN_PLANS = IdentityCache(4096)  # (by the patterns as given to expect)

#: Regexes searched alone, never in a last-line alternation (see
#: ``search_alone``).
_ALONE: weakref.WeakSet[re.Pattern[Any]] = weakref.WeakSet()


def search_alone(pattern: re.Pattern[Any]) -> re.Pattern[Any]:
    """Keep ``pattern`` out of every last-line alternation, and return it:
    for a pattern of one host (the changed prompt ``execute`` learns), which
    would make the alternation one per host in a run over many.  Compiling
    one with a driver's prompts in it takes about 5 ms, more than searching
    the pattern alone costs over hundreds of commands."""
    _ALONE.add(pattern)
    return pattern


class _Plan:
    """What a pattern list needs at every expect and is the same each time:
    the sentinels' indexes, each text pattern with its analysis (``texts``),
    which of them are searched together (``together``: indexes into
    ``texts``) and their alternation, and whether any pattern can match an
    empty buffer."""

    __slots__ = (
        "eof_index",
        "full_index",
        "fused",
        "may_match_empty",
        "texts",
        "timeout_index",
        "together",
    )

    def __init__(self, patterns: Sequence[Any]) -> None:
        self.eof_index: int | None = None
        self.timeout_index: int | None = None
        self.full_index: int | None = None
        self.texts: list[tuple[int, Any, Analysis | None]] = []
        self.may_match_empty = False
        self.together: list[int] = []
        self.fused: re.Pattern[Any] | None = None
        regexes = False
        for i, p in enumerate(patterns):
            if p is EOF:
                self.eof_index = _first(self.eof_index, i)
            elif p is TIMEOUT:
                self.timeout_index = _first(self.timeout_index, i)
            elif p is FULL_BUFFER:
                self.full_index = _first(self.full_index, i)
            elif isinstance(p, re.Pattern):
                self.texts.append((i, p, analyse(p)))
                regexes = True
            else:
                self.texts.append((i, p, None))
        if regexes:  # (plain strings: none of this applies)
            self._plan_regexes()

    def _plan_regexes(self) -> None:
        self.may_match_empty = any(
            isinstance(p, re.Pattern) and p.search(p.pattern[:0]) is not None
            for _, p, _ in self.texts
        )
        self.together = [k for k, text in enumerate(self.texts) if _fusable(text)]
        kinds = {type(self.texts[k][1].pattern) for k in self.together}
        if len(self.together) > 1 and len(kinds) == 1:
            self.fused = alternation([self.texts[k][1] for k in self.together])

    def scans(self) -> list[_Scan | _LastLine]:
        """Fresh search states."""
        if self.fused is None:
            return [_Scan(*text) for text in self.texts]
        rest: list[_Scan | _LastLine] = [
            _Scan(*text) for k, text in enumerate(self.texts) if k not in self.together
        ]
        return [*rest, _LastLine([self.texts[k] for k in self.together], self.fused)]


def _fusable(text: tuple[int, Any, Analysis | None]) -> bool:
    r"""Whether a pattern joins the last-line alternation (``_LastLine``): a
    regex whose matches lie in the last line, without groups (the
    alternation would renumber them), and not a literal: the prompt execute
    learns (``re.escape(prompt) + r"\Z"``) is found as cheaply alone, and in
    the alternation it would make one per host of a run over many (so would
    a pattern marked ``search_alone``)."""
    _index, pattern, analysis = text
    if analysis is None or not analysis.last_line or pattern.groups or pattern in _ALONE:
        return False
    prefix = analysis.prefix
    literal = analysis.reach is Reach.BOUNDED and bool(prefix) and len(prefix) == analysis.width
    return not literal


class Searcher:
    """The patterns of one expect, and their search state."""

    __slots__ = (
        "_scans",
        "_skip_empty",
        "eof_index",
        "full_index",
        "patterns",
        "timeout_index",
    )

    def __init__(self, patterns: list[Any], originals: Sequence[Any] | None = None) -> None:
        plan: _Plan = _PLANS.get(patterns, None, lambda: _Plan(patterns))
        self._start(plan, originals if originals is not None else patterns)

    @classmethod
    def of(
        cls,
        given: list[Any],
        exact: bool,
        bytes_mode: bool,
        encoding: str | None,
        owner: Any = None,
    ) -> Searcher:
        """The searcher for an expect's patterns as given (a list): checked
        as ``normalize_patterns`` does (``owner``: what an error's message
        passes a pattern through, its ``redact``, the session's: looked up
        only where the patterns are checked, not for one string nor for a
        list seen before), its plan found with one lookup."""
        options = (exact, bytes_mode, encoding)
        if exact and len(given) == 1 and type(given[0]) is str and given[0] and not bytes_mode:
            return cls.one_string(given[0])  # (what follows gives it, a fifth of a round trip)
        if exact:  # (no regex to analyse: a plan costs less than a lookup)
            redact = same if owner is None else owner.redact
            plan = _Plan(normalize(tuple(given), *options, redact))
        else:
            make = lambda: _Plan(  # noqa: E731
                normalize(tuple(given), *options, same if owner is None else owner.redact)
            )
            plan = _GIVEN_PLANS.get(given, options, make)
        searcher = cls.__new__(cls)
        searcher._start(plan, given)
        return searcher

    @classmethod
    def one_string(cls, text: str) -> Searcher:
        """The searcher of ``expect_exact(text)`` in a text session, the
        common one (a line sent, looked for), made as ``_start`` makes it
        from the plan of a checked non-empty string: no sentinel, one scan."""
        searcher = cls.__new__(cls)
        searcher.patterns = [text]
        searcher.eof_index = searcher.timeout_index = searcher.full_index = None
        searcher._scans = [_Scan(0, text)]
        searcher._skip_empty = True
        return searcher

    def _start(self, plan: _Plan, patterns: Sequence[Any]) -> None:
        self.patterns = list(patterns)
        self.eof_index = plan.eof_index
        self.timeout_index = plan.timeout_index
        self.full_index = plan.full_index
        self._scans = plan.scans()
        self._skip_empty = not plan.may_match_empty

    def search(self, buf: Buffer) -> Found | None:
        """The earliest match in ``buf`` (ties: lowest index), or ``None``."""
        if self._skip_empty and not buf.size:
            return None
        scans = self._scans
        return scans[0].search(buf) if len(scans) == 1 else _earliest(scans, buf)

    def settled(self, buf: Buffer, found: Found, after: Any) -> bool:
        r"""Whether ``found``, in a buffer cut at ``max_buffer`` with text
        waiting past the cut (``after``: its start, as it decodes; maybe
        nothing yet), is a match of the text received so far.  The buffer's
        end is not the text's: a match that needs the end there (``\Z``,
        ``$``, a look-ahead, a greedy repeat), or one that starts earlier
        and ends past the cut, is found with ``after`` behind it, and then
        ``found`` is not the earliest match.  Only while text waits past
        the cut; searched again from where each pattern left off, on copies
        of their states."""
        if found.end + MARGIN <= buf.size:  # (what _settled assumes)
            return True
        # What waits shows nothing yet (a control sequence under strip_ansi,
        # bytes codec_errors="ignore" drops): the text so far ends here, as
        # it does for a session without max_buffer, which takes the match.
        if not after:
            return True
        # (exact strings that start by found's start end by the cut: no
        # other match crosses it, which spares the search of lines() under
        # a small max_buffer, where every match came with bytes held)
        start, size = found.start, buf.size
        scans = self._scans
        if all(isinstance(s, _Scan) and s.regex is None and start + s.width <= size for s in scans):
            return True
        again = _earliest([_forked(scan) for scan in self._scans], buf.extended(after))
        if again is None:
            return False
        return (again.start, again.end, again.index) == (found.start, found.end, found.index)

    def match(self, buf: Buffer, found: Found, redact: Callable[[Any], Any] | None = None) -> Match:
        """Consume the matched text from ``buf`` and describe it (``redact``:
        what the match's ``repr`` passes its text through)."""
        # Two consumes, not one and a slice: a large ``before`` is the
        # buffer's head, handed out (or joined once), never copied again.
        before = buf.consume(found.start)
        after = buf.consume(found.end - found.start)
        m = found.re_match
        # Offsets of ``m`` are into the search window; ``Match.span`` makes
        # them relative to ``before + after``.
        offset = -found.window_base if m is not None else 0
        return new_match(found.index, self.patterns[found.index], before, after, m, offset, redact)

    def sentinel_match(
        self, buf: Buffer, index: int, redact: Callable[[Any], Any] | None = None
    ) -> Match:
        """A sentinel matched: ``before`` is the whole buffer, consumed
        (unless ``buf`` is a ``PeekBuffer``)."""
        data = buf.consume(len(buf))
        return new_match(index, self.patterns[index], data, data[:0], None, 0, redact)


def _forked(scan: _Scan | _LastLine) -> _Scan | _LastLine:
    """A copy of a scan's state, to search on without moving it on."""
    twin = copy.copy(scan)
    if isinstance(twin, _LastLine) and twin.scans is not None:
        twin.scans = [copy.copy(each) for each in twin.scans]
    return twin


def _earliest(scans: Sequence[_Scan | _LastLine], buf: Buffer) -> Found | None:
    """The earliest of the scans' matches; at one start, the lowest pattern
    index (a ``_LastLine`` is listed after the patterns searched alone,
    whatever their indexes)."""
    best: Found | None = None
    for scan in scans:
        found = scan.search(buf)
        if found is not None and (
            best is None
            or found.start < best.start
            or (found.start == best.start and found.index < best.index)
        ):
            best = found
    return best


class _LastLine:
    """Patterns whose matches all lie in the buffer's last line (a driver's
    prompts and pagers), searched as one alternation: one regex call per
    chunk instead of one per pattern.

    The alternation finds the earliest start, and there the first
    alternative that matches: rule 2 itself.  Which pattern that is, and its
    own match object, come from matching each in index order at that start.
    A last line longer than ``PREFILTER`` goes to each pattern's own
    incremental search (rescanning a long line per chunk would not be linear);
    where every pattern has a ``tail``, only that much of it is ever searched.
    """

    __slots__ = ("fused", "members", "newline", "resume", "scans", "tail")

    def __init__(self, members: list[tuple[int, Any, Analysis | None]], fused: Any) -> None:
        self.members = members
        self.fused = fused
        self.newline = b"\n" if isinstance(fused.pattern, bytes) else "\n"
        self.resume = 0
        self.scans: list[_Scan] | None = None  # made when first needed
        tails = [analysis.tail if analysis is not None else None for _, _, analysis in members]
        self.tail = None if None in tails else max(tail or 0 for tail in tails)

    def search(self, buf: Buffer) -> Found | None:
        r, n = self.resume, buf.size
        if self.tail is not None:  # (no match starts earlier: nor need its line)
            r = max(r, n - self.tail)
        nl = buf.rfind(self.newline, r)
        if nl >= 0:
            self.resume = r = nl + 1
        if n - r > PREFILTER:
            if self.scans is None:
                self.scans = [_Scan(*member) for member in self.members]
            return _earliest(self.scans, buf)
        ctx = r if r < MARGIN else MARGIN  # (not min(): see _buffer's note)
        base = r - ctx
        window = buf.tail_from(base)
        m = self.fused.search(window, ctx)
        if m is None:
            return None
        at = m.start()
        for index, regex, _ in self.members:
            hit = regex.match(window, at)
            if hit is not None:
                return Found(index, base + at, base + hit.end(), hit, base)
        # Never seen; should it happen, each pattern's own search decides.
        self.scans = self.scans or [_Scan(*member) for member in self.members]  # pragma: no cover
        return _earliest(self.scans, buf)  # pragma: no cover


def alternation(regexes: Sequence[re.Pattern[Any]]) -> re.Pattern[Any] | None:
    """``alternation_of``, cached."""
    return _ALTERNATIONS.get(regexes, None, lambda: alternation_of(regexes))  # type: ignore[no-any-return]


def _first(current: int | None, i: int) -> int:
    return i if current is None else current


def _line_start(window: Any, starts: tuple[Any, ...], pos: int) -> int:
    """The first place at or after ``pos`` in ``window`` where a regex that
    starts only at line starts may start: the window's start (the
    buffer's: a window starts there only when searched from there), or
    just after one of ``starts``; -1: none, up to the window's end."""
    if not pos:
        return 0
    first = -1
    for char in starts:
        at = window.find(char, pos - 1)
        if at >= 0 and (first < 0 or at < first):
            first = at
    return first + 1 if first >= 0 else -1
