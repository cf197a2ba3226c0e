"""The user's pattern argument, checked and compiled: what ``expect`` and a
driver's pattern lists accept, and the errors for what they do not.  Apart
from the search (``_matcher``): it runs once per list, not per chunk, and
its results are cached by the identity of the items (``IdentityCache``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, KeysView, Mapping, Sequence, Set
from typing import Any

from ._match import EOF, FULL_BUFFER, TIMEOUT, Sentinel

__all__ = [
    "IdentityCache",
    "check_ordered",
    "compiled",
    "normalize",
    "normalize_patterns",
    "reason",
    "same",
]


class IdentityCache:
    """A bounded cache keyed by the identity of some items (and a few plain
    values): hashing a compiled pattern hashes its code, most of a
    microsecond for a driver's prompt, and an expect needs several lookups.
    An entry holds its items, so their ids are not reused while it lives."""

    __slots__ = ("_entries", "_size")

    def __init__(self, size: int = 256) -> None:
        self._entries: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
        self._size = size

    def get(self, items: Sequence[Any], options: Any, make: Callable[[], Any]) -> Any:
        # (the same key, one item's made without map's iterator: 1,100 instructions, not 2,600)
        key = (options, id(items[0])) if len(items) == 1 else (options, *map(id, items))
        hit = self._entries.get(key)
        if hit is None:
            value = make()  # (an error caches nothing)
            if len(self._entries) >= self._size:
                self._entries.clear()
            hit = self._entries[key] = (tuple(items), value)
        return hit[1]


# Sized for runs over many hosts: each session's prompt list ends with its
# own learned prompt, so 200 sessions at once keep about 400 lists in use,
# and a cache that overflows is cleared whole.
_NORMALIZED = IdentityCache(4096)


def same(text: Any) -> Any:
    """``text`` as it is: what ``redact`` is without secrets."""
    return text


def check_ordered(patterns: Any) -> None:
    """``TypeError`` for a set or a mapping of patterns: their order counts
    (``Match.index``, the first error pattern that matches), and a set's
    changes from run to run (``PYTHONHASHSEED``).  A dict's ``keys()`` is
    a set that keeps the dict's order: taken, as a generator is."""
    if isinstance(patterns, Mapping) or (
        isinstance(patterns, Set) and not isinstance(patterns, KeysView)
    ):
        kind = type(patterns).__name__
        raise TypeError(f"patterns must be a list or tuple, not a {kind}: their order counts")


def normalize_patterns(
    patterns: Any,
    *,
    exact: bool,
    bytes_mode: bool,
    encoding: str | None,
    redact: Callable[[Any], Any] = same,
) -> list[Any]:
    """Turn the user's pattern argument into a list, checking every item.

    ``exact``: items are plain substrings; otherwise str/bytes are regexes.
    Results are cached: the same prompt list is normalised once, not per expect.
    ``redact``: a pattern (str or bytes) as an error's message shows it (a
    session's secrets masked: a password is a pattern's text at times).
    """
    if type(patterns) is list:  # (what the session passes: no ABC check)
        items: tuple[Any, ...] = tuple(patterns)
    elif isinstance(patterns, str | bytes | re.Pattern | Sentinel):
        items = (patterns,)
    elif isinstance(patterns, Iterable):
        check_ordered(patterns)
        items = tuple(patterns)
    else:
        raise TypeError(
            f"patterns must be a pattern or a list of them, not {redact(repr(patterns))}"
        )
    options = (exact, bytes_mode, encoding)
    if exact:  # (a new string each time, as a line sent is looked for: nothing to cache)
        return list(normalize(items, *options, redact))
    return list(_NORMALIZED.get(items, options, lambda: normalize(items, *options, redact)))


def normalize(
    items: tuple[Any, ...],
    exact: bool,
    bytes_mode: bool,
    encoding: str | None,
    redact: Callable[[Any], Any] = same,
) -> tuple[Any, ...]:
    """The items checked, uncached (``_check``: each as it will be searched)."""
    if not items:
        raise ValueError("expect needs at least one pattern")
    return tuple(_check(p, exact, bytes_mode, encoding, redact) for p in items)


def _check(
    p: Any, exact: bool, bytes_mode: bool, encoding: str | None, redact: Callable[[Any], Any]
) -> Any:
    """``p`` as it is searched; a message that quotes it quotes it redacted
    (and is raised outside any handler: the codec's or ``re``'s error, its
    ``__context__``, held the pattern)."""
    if isinstance(p, Sentinel):
        if p is not EOF and p is not TIMEOUT and p is not FULL_BUFFER:  # (a Sentinel() made anew)
            raise TypeError(
                f"Sentinel({p._name!r}) is no pattern: the sentinels are aioexpect.EOF,"
                " aioexpect.TIMEOUT and aioexpect.FULL_BUFFER themselves (Sentinel is"
                " their type, for annotations)"
            )
        return p
    if isinstance(p, re.Pattern):
        if exact:
            raise TypeError("expect_exact and read_until take plain strings, not compiled regexes")
        if isinstance(p.pattern, bytes) != bytes_mode:
            kind, shown = "bytes" if bytes_mode else "str", redact(p.pattern)
            raise TypeError(f"this session is {kind}-mode; pattern {shown!r} does not match")
        return p
    if isinstance(p, str | bytes):
        if bytes_mode and isinstance(p, str):
            shown = redact(p)
            raise TypeError(f"this session is bytes-mode (encoding=None): use bytes, not {shown!r}")
        if not bytes_mode and isinstance(p, bytes):
            text, why = _decoded(p, encoding or "utf-8")
            if text is None:  # (a bare codec error named no pattern)
                shown = redact(p)
                raise ValueError(
                    f"pattern {shown!r} is not {encoding or 'utf-8'} text, the session's: {why}"
                )
            p = text
        if not p:
            raise ValueError("an empty pattern would match everywhere")
        if exact:
            return p
        regex, why = compiled(p)
        if regex is None:
            raise ValueError(f"bad regular expression {redact(p)!r}: {reason(p, why, redact)}")
        return regex
    # (a list in the list: its repr may show a secret as repr escapes it)
    raise TypeError(
        f"unsupported pattern {redact(repr(p))}: use str, bytes, re.Pattern, EOF, TIMEOUT"
        " or FULL_BUFFER"
    )


def _decoded(p: bytes, encoding: str) -> tuple[str | None, str]:
    """``p`` decoded, or ``None`` and why not."""
    try:
        return p.decode(encoding), ""
    except UnicodeDecodeError as exc:
        return None, str(exc)


def reason(p: Any, why: str, redact: Callable[[Any], Any]) -> str:
    """Why ``p`` does not compile (``why``, ``re.error``'s message), unless
    ``p`` holds a secret: the message may quote a part of it (``bad escape
    \\q``, ``bad character range y-a``), which masking the whole does not
    find."""
    if redact(p) == p:
        return str(redact(why))
    return "it does not compile (the reason is not shown: it may quote a part of a secret)"


def compiled(p: str, flags: int = 0) -> tuple[re.Pattern[str] | None, str]:
    """``p`` compiled, or ``None`` and why not (``re.error``'s message: an
    error raised by the caller outside this handler holds no pattern)."""
    try:
        return re.compile(p, flags), ""
    except re.error as exc:
        return None, str(exc)
