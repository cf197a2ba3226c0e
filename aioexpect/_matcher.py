"""The incremental pattern search over the buffer of unmatched data.

Rule 1: a search never rescans what it has already ruled out.  Each pattern
keeps a resume offset: exact strings and bounded regexes resume ``width``
characters (plus a margin for look-arounds) before the end of what was
searched; unbounded regexes that cannot match a newline resume at the start of
the last line; only unbounded regexes that can span lines rescan from where
the expect began.  So the cost of an expect is linear in the data received.

Rule 2: the earliest match in the buffer wins; ties go to the lowest index.
Sentinels (EOF, TIMEOUT, FULL_BUFFER) match only when their condition holds
and no text pattern matched.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ._buffer import Buffer
from ._match import EOF, FULL_BUFFER, TIMEOUT, Match, Sentinel
from ._scan import Reach, analyse

__all__ = ["Buffer", "Found", "Searcher", "normalize_patterns"]

#: Characters of context kept before a resume offset, for look-behinds, ``\b``
#: and look-aheads that failed only because data was missing.
MARGIN = 256
#: New characters a regex searches per window when much arrived at once.
STEP = 1 << 15
#: New characters past which a regex looks for its literal prefix first;
#: in less, one regex search costs less than the extra step.
PREFILTER = 1 << 10


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
        "newline",
        "post",
        "pre",
        "prefix",
        "reach",
        "regex",
        "resume",
        "width",
    )

    def __init__(self, index: int, pattern: Any) -> None:
        self.index = index
        self.resume = 0
        if isinstance(pattern, re.Pattern):
            self.regex: re.Pattern[Any] | None = pattern
            self.reach, self.width, self.pre, self.post, self.prefix, self.last_line = analyse(
                pattern
            )
            self.newline: Any = b"\n" if isinstance(pattern.pattern, bytes) else "\n"
        else:
            self.regex = None
            self.reach, self.width, self.pre, self.post = Reach.BOUNDED, len(pattern), 0, 0
            self.prefix = pattern
            self.last_line, self.newline = False, None

    def search(self, buf: Buffer) -> Found | None:
        r, regex = self.resume, self.regex
        if regex is None:  # an exact string (its own prefix): in place
            i = buf.find(self.prefix, r)
            if i >= 0:
                return Found(self.index, i, i + self.width, None, r)
            self.resume = max(r, len(buf) - self.width + 1)
            return None
        n, prefix = len(buf), self.prefix
        if self.last_line:  # a prompt: it starts after the last newline
            nl = buf.rfind(self.newline, r)
            if nl >= 0:
                self.resume = r = nl + 1
        if prefix and n - r > PREFILTER:  # every match starts with it
            at = buf.find(prefix, r)
            if at < 0:
                self.resume = max(r, n - len(prefix) + 1)
                return None
            self.resume = r = at  # no match starts before it
        if n - r > STEP and self.reach is not Reach.ANY:
            r = self._step(buf, regex, r, n)
        ctx = min(r, MARGIN)
        base = r - ctx
        window = buf.tail_from(base)
        m = regex.search(window, ctx)
        if m is not None:
            return Found(self.index, base + m.start(), base + m.end(), m, base)
        self._advance(n, window, ctx, base)
        return None

    def _step(self, buf: Buffer, regex: re.Pattern[Any], r: int, n: int) -> int:
        """Rule out a long stretch of new data in windows of ``STEP``
        characters, where that keeps ruling out (a window of a few pages is
        reused by the allocator; one as long as a wake-up's data may be
        mapped afresh every time).  Stops before the last window, or at a
        window that has a match, which then is searched again with all the
        data after it (a look-ahead may see more there).  Returns where to
        search from."""
        while n - r > STEP:
            ctx = min(r, MARGIN)
            base, end = r - ctx, r + STEP
            window = buf.slice(base, end)
            if regex.search(window, ctx) is not None:
                break
            self._advance(end, window, ctx, base)
            if self.resume <= r:  # a long line, or a wide pattern
                break
            r = self.resume
        return r

    def _advance(self, n: int, window: Any, ctx: int, base: int) -> None:
        """Move ``resume`` past what the search of ``window`` (offset
        ``base``, data up to ``n``) ruled out."""
        if self.reach is Reach.BOUNDED:
            self.resume = max(self.resume, n - self.width - MARGIN)
        elif self.reach is Reach.LINE:
            # A pending match ends past the data; its newline-free middle ends
            # after n - post, so starts after the last newline before that,
            # and the match at most ``pre`` characters earlier.
            newline = b"\n" if isinstance(window, bytes) else "\n"
            nl = window.rfind(newline, ctx, max(ctx, n - self.post - base))
            line_start = base + nl + 1 if nl >= 0 else self.resume + self.pre
            lookback = n - MARGIN - self.pre - self.post
            self.resume = max(self.resume, min(line_start - self.pre, lookback))
        # Reach.ANY: the match may start anywhere, so resume stays put.


def normalize_patterns(
    patterns: Any, *, exact: bool, bytes_mode: bool, encoding: str | None
) -> list[Any]:
    """Turn the user's pattern argument into a list, checking every item.

    ``exact``: items are plain substrings; otherwise str/bytes are regexes.
    Results are cached: the same prompt list is normalised once, not per expect.
    """
    if isinstance(patterns, str | bytes | re.Pattern | Sentinel):
        key: Any = (patterns,)
    elif isinstance(patterns, Iterable):
        key = tuple(patterns)
    else:
        raise TypeError(f"patterns must be a pattern or a list of them, not {patterns!r}")
    try:
        return list(_normalize(key, exact, bytes_mode, encoding))
    except TypeError as exc:
        if "unhashable" not in str(exc):
            raise
        return list(_normalize.__wrapped__(key, exact, bytes_mode, encoding))


@functools.lru_cache(maxsize=512)
def _normalize(
    items: tuple[Any, ...], exact: bool, bytes_mode: bool, encoding: str | None
) -> tuple[Any, ...]:
    if not items:
        raise ValueError("expect needs at least one pattern")
    return tuple(_check(p, exact=exact, bytes_mode=bytes_mode, encoding=encoding) for p in items)


def _check(p: Any, *, exact: bool, bytes_mode: bool, encoding: str | None) -> Any:
    if isinstance(p, Sentinel):
        return p
    if isinstance(p, re.Pattern):
        if exact:
            raise TypeError("expect_exact takes plain strings, not compiled regexes")
        if isinstance(p.pattern, bytes) != bytes_mode:
            kind = "bytes" if bytes_mode else "str"
            raise TypeError(f"this session is {kind}-mode; pattern {p.pattern!r} does not match")
        return p
    if isinstance(p, str | bytes):
        if bytes_mode and isinstance(p, str):
            raise TypeError(f"this session is bytes-mode (encoding=None): use bytes, not {p!r}")
        if not bytes_mode and isinstance(p, bytes):
            p = p.decode(encoding or "utf-8")
        if not p:
            raise ValueError("an empty pattern would match everywhere")
        if exact:
            return p
        try:
            return re.compile(p)
        except re.error as exc:
            raise ValueError(f"bad regular expression {p!r}: {exc}") from None
    raise TypeError(
        f"unsupported pattern {p!r}: use str, bytes, re.Pattern, EOF, TIMEOUT or FULL_BUFFER"
    )


class Searcher:
    """The patterns of one expect, and their search state."""

    __slots__ = ("_scans", "eof_index", "full_index", "patterns", "timeout_index")

    def __init__(self, patterns: list[Any], originals: Sequence[Any] | None = None) -> None:
        self.patterns = list(originals if originals is not None else patterns)
        self._scans: list[_Scan] = []
        self.eof_index: int | None = None
        self.timeout_index: int | None = None
        self.full_index: int | None = None
        for i, p in enumerate(patterns):
            if p is EOF:
                self.eof_index = _first(self.eof_index, i)
            elif p is TIMEOUT:
                self.timeout_index = _first(self.timeout_index, i)
            elif p is FULL_BUFFER:
                self.full_index = _first(self.full_index, i)
            else:
                self._scans.append(_Scan(i, p))

    def search(self, buf: Buffer) -> Found | None:
        """The earliest match in ``buf`` (ties: lowest index), or ``None``."""
        best: Found | None = None
        for scan in self._scans:
            found = scan.search(buf)
            if found is not None and (best is None or found.start < best.start):
                best = found
        return best

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
        return Match(found.index, self.patterns[found.index], before, after, m, offset, redact)

    def sentinel_match(
        self, buf: Buffer, index: int, redact: Callable[[Any], Any] | None = None
    ) -> Match:
        """A sentinel matched: ``before`` is the whole buffer, consumed."""
        data = buf.consume(len(buf))
        return Match(index, self.patterns[index], data, data[:0], None, 0, redact)


def _first(current: int | None, i: int) -> int:
    return i if current is None else current
