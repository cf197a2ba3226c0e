"""Result types of the pure core: the sentinels and the frozen ``Match``; and
the types of what the session takes as patterns and gives as data.

Invariant: ``before + after`` is exactly the text a match consumed, and regex
offsets (``span()``) are relative to ``before + after``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any, Final, TypeVar

__all__ = ["EOF", "FULL_BUFFER", "TIMEOUT", "Match", "Sentinel", "new_match", "shown_pattern"]


class Sentinel:
    """A pattern that matches a condition instead of text: the type of
    ``EOF``, ``TIMEOUT`` and ``FULL_BUFFER``, to annotate with.  One made
    anew (``Sentinel("EOF")`` too) is no pattern: a ``TypeError``."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"aioexpect.{self._name}"

    def __reduce__(self) -> str:
        return self._name


#: Matches when the peer reached end-of-file.
EOF: Final = Sentinel("EOF")
#: Matches when the deadline passes.
TIMEOUT: Final = Sentinel("TIMEOUT")
#: Matches when ``max_buffer`` is reached without another match.
FULL_BUFFER: Final = Sentinel("FULL_BUFFER")

# The types in the session's signatures: what its checks let through
# (private: a user writes patterns, not these names).  Several patterns
# come in any iterable that keeps its order, as the docs say (a sequence, a
# generator, a dict's keys() or values()): a type cannot tell those from a
# set or a mapping, which the checks refuse (``check_ordered``).
_P = TypeVar("_P")
Ordered = Iterable[_P]
#: What is read: ``str``, or ``bytes`` in a session without an encoding
#: (which its type does not say).
Data = str | bytes
#: ``add_monitor``'s pattern; ``expect`` takes a sentinel too.
TextPattern = str | bytes | re.Pattern[str] | re.Pattern[bytes]
Monitored = TextPattern | Ordered[TextPattern]  # (one, in a collection or not)
Pattern = TextPattern | Sentinel
# A list that mixes text and sentinels (pexpect's ``[r"ssword: ", EOF,
# TIMEOUT]``), kept in a variable, is a ``list[object]`` to mypy, which
# joins the types of its items: ``expect`` and ``expect_exact`` take any
# ordered iterable, and their checks refuse an item that is no pattern.
Patterns = Pattern | Ordered[Pattern] | Ordered[object]
#: ``expect_exact``'s: plain text, never compiled.
ExactPatterns = str | bytes | Sentinel | Ordered[str | bytes | Sentinel] | Ordered[object]
#: ``set_prompt``'s and ``set_error_prompt``'s: text patterns, ``str`` only.
PromptPatterns = str | re.Pattern[str] | Ordered[str | re.Pattern[str]]


@dataclass(frozen=True, slots=True, repr=False)
class Match:
    """What one ``expect`` found.

    ``index`` is the position of the winning pattern in the list given,
    ``pattern`` that pattern as given.  For a sentinel, ``before`` is the rest
    of the buffer and ``after`` is empty.  The attributes hold the data as it
    arrived; ``repr`` shows the session's secrets as ``********``.
    """

    index: int
    pattern: Any
    before: Any
    after: Any
    _re: re.Match[Any] | None = field(default=None, compare=False)
    _offset: int = field(default=0, compare=False)
    _redact: Callable[[Any], Any] | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        shown = self._redact or _same
        return (
            f"Match(index={self.index!r}, pattern={shown_pattern(self.pattern, shown)}, "
            f"before={shown(self.before)!r}, after={shown(self.after)!r})"
        )

    def group(self, *groups: int | str) -> Any:
        """Like ``re.Match.group``; for exact or sentinel matches only group 0."""
        if self._re is None:
            if groups in ((), (0,)):
                return self.after
            raise IndexError("no such group: an exact or sentinel match has only group 0")
        return self._re.group(*groups)

    def __getitem__(self, group: int | str) -> Any:
        """``m[1]``, ``m["name"]``: ``m.group(...)``, as ``re.Match`` (and so
        pexpect's ``child.match``) is subscripted."""
        return self.group(group)

    #: Not iterable, as ``re.Match`` is not (``__getitem__`` alone would make
    #: ``for g in m`` and ``x in m`` walk the groups).
    __iter__ = None

    def groups(self, default: Any = None) -> tuple[Any, ...]:
        """Like ``re.Match.groups``; ``()`` for exact and sentinel matches."""
        return () if self._re is None else self._re.groups(default)

    def groupdict(self, default: Any = None) -> dict[str, Any]:
        """Like ``re.Match.groupdict``; ``{}`` for exact and sentinel matches."""
        return {} if self._re is None else self._re.groupdict(default)

    def span(self, group: int | str = 0) -> tuple[int, int]:
        """Offsets into ``before + after``; ``span()[0] == len(before)``."""
        if self._re is None:
            if group != 0:
                raise IndexError("no such group: an exact or sentinel match has only group 0")
            return (len(self.before), len(self.before) + len(self.after))
        start, end = self._re.span(group)
        if start < 0:
            return (start, end)
        return (start - self._offset, end - self._offset)

    def start(self, group: int | str = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int | str = 0) -> int:
        return self.span(group)[1]


#: The setters of Match's slots (the fields, in their order).
_INDEX, _PATTERN, _BEFORE, _AFTER, _RE, _OFFSET, _REDACT = (
    Match.__dict__[f.name].__set__ for f in fields(Match)
)
_new = object.__new__


def new_match(
    index: int,
    pattern: Any,
    before: Any,
    after: Any,
    re_match: re.Match[Any] | None,
    offset: int,
    redact: Callable[[Any], Any] | None,
) -> Match:
    """``Match(index, pattern, before, after, re_match, offset, redact)``,
    as every expect makes one: the frozen dataclass's ``__init__`` sets each
    field through ``object.__setattr__``, about 11,000 instructions, where
    the slots' own setters take half."""
    match = _new(Match)
    _INDEX(match, index)
    _PATTERN(match, pattern)
    _BEFORE(match, before)
    _AFTER(match, after)
    _RE(match, re_match)
    _OFFSET(match, offset)
    _REDACT(match, redact)
    return match


def _same(text: Any) -> Any:
    return text


def shown_pattern(pattern: Any, redact: Callable[[Any], Any] = _same) -> str:
    """``repr(pattern)`` with secrets masked in its source, before ``repr``
    escapes it (a secret holding a quote or a backslash would not be found
    after) and without the cut ``re.Pattern``'s own repr makes at 200
    characters.  A compiled pattern is shown with its source as text:
    ``********`` is no regex."""
    if isinstance(pattern, re.Pattern):
        flags = pattern.flags & ~re.UNICODE if isinstance(pattern.pattern, str) else pattern.flags
        text = f"re.compile({redact(pattern.pattern)!r}"
        return text + (f", {re.RegexFlag(flags)!r})" if flags else ")")
    return repr(redact(pattern) if isinstance(pattern, str | bytes) else pattern)
