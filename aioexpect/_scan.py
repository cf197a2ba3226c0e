r"""How far back a regex search must look when more data arrives.

``reach_of(pattern)`` classifies a compiled regex: ``BOUNDED`` (its matches
are at most ``width`` characters long), ``LINE`` (unbounded, but the
unbounded middle of a match can never contain a newline: only a bounded
prefix of at most ``pre`` and suffix of at most ``post`` characters can, as in
``(\d+)\r?\n``) or ``ANY`` (a match may span lines: rescan).
``literal_prefix(pattern)`` is the text every match starts with, which a
plain substring search can look for first; ``in_last_line(pattern)`` says
whether every match lies in the buffer's last line (a prompt), and
``analyse(pattern).lines`` in how many last lines at most (a prompt with a
context line above it, as JunOS prints), and ``analyse(pattern).tail`` how
far before the end of the text a match starts at most (any bounded pattern
that must hold ``\Z`` or ``$``: a prompt, or a question looked for without
consuming it), and ``analyse(pattern).starts`` after which characters a
match starts, if only at line starts (``_starts``).  The analysis
walks the parse tree of the standard library's ``re`` and is conservative:
whatever it does not recognise is ``ANY`` (or no prefix, or not the last
line, or no line starts), which is always correct, only slower.
``alternation_of(regexes)`` writes several regexes as one.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from ._starts import line_starts, needed

try:  # Python >= 3.11 keeps the parser here; ``sre_parse`` is deprecated.
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a future Python that moved it
    _parser = None
    _c = None

__all__ = [
    "Analysis",
    "Reach",
    "alternation_of",
    "analyse",
    "in_last_line",
    "known",
    "literal_prefix",
    "may_match_empty",
    "pattern_body",
    "reach_of",
]

#: Widths above this count as unbounded.
MAX_WIDTH = 1 << 16
#: ``Analysis.lines`` above this count as no bound.
MAX_LINES = 8

_NEWLINE_CATEGORIES = frozenset(
    {
        "CATEGORY_SPACE",
        "CATEGORY_NOT_DIGIT",
        "CATEGORY_NOT_WORD",
        "CATEGORY_LINEBREAK",
        "CATEGORY_UNI_SPACE",
        "CATEGORY_UNI_NOT_DIGIT",
        "CATEGORY_UNI_NOT_WORD",
        "CATEGORY_UNI_LINEBREAK",
        "CATEGORY_LOC_NOT_WORD",
    }
)
_SAFE_CATEGORIES = frozenset(
    {
        "CATEGORY_DIGIT",
        "CATEGORY_NOT_SPACE",
        "CATEGORY_WORD",
        "CATEGORY_NOT_LINEBREAK",
        "CATEGORY_UNI_DIGIT",
        "CATEGORY_UNI_NOT_SPACE",
        "CATEGORY_UNI_WORD",
        "CATEGORY_UNI_NOT_LINEBREAK",
        "CATEGORY_LOC_WORD",
    }
)


class Reach(enum.Enum):
    BOUNDED = "bounded"
    LINE = "line"
    ANY = "any"


class Analysis(NamedTuple):
    """``analyse``'s answer (see ``reach_of``, ``literal_prefix``, ``in_last_line``)."""

    reach: Reach
    width: int
    pre: int
    post: int
    prefix: Any
    last_line: bool
    #: Every match lies in the buffer's last ``lines`` lines (it ends with
    #: ``\Z`` and holds at most ``lines - 1`` newlines); 0: no such bound
    #: (or more than ``MAX_LINES``).
    lines: int = 0
    #: Every match starts at most ``tail`` characters before the end of the
    #: text: the pattern is bounded, and every way it can match holds ``\Z``
    #: (or ``$``, which may hold one character earlier) at a place within
    #: its ``width`` of its start.  ``None``: no such bound.
    tail: int | None = None
    #: Every match starts at the start of the text or right after one of
    #: these characters (``_starts.line_starts``); ``None``: anywhere.
    starts: tuple[Any, ...] | None = None
    #: A literal every match holds, and how far after its start it begins
    #: at most (``_starts.needed``); ``None``: none known; ``UNTOLD``: see
    #: ``needs_of``.
    needs: tuple[Any, int] | None = None


#: Analyses told by the code that built a pattern (``known``), by its
#: identity (the entry holds it, so its id is not reused while it lives).
_KNOWN: dict[int, tuple[re.Pattern[Any], Analysis]] = {}
#: How many ``_KNOWN`` holds at most: one a host of a run over many (a
#: changed prompt's pattern); one past it clears it whole.
_KNOWN_SIZE = 4096


def known(pattern: re.Pattern[Any], analysis: Analysis) -> None:
    """Record ``analysis`` as ``pattern``'s: that of a pattern of the same
    shape (the same parse but for the values of literal characters, none
    a line end), which a run over many hosts builds for each.  Not its
    ``starts`` and ``needs``: literal characters decide them, and a wrong
    one loses a match (``needs`` is ``UNTOLD``: ``needs_of`` parses the
    pattern for them if they are wanted)."""
    if len(_KNOWN) >= _KNOWN_SIZE:
        _KNOWN.clear()
    _KNOWN[id(pattern)] = (pattern, analysis._replace(starts=None, needs=UNTOLD))


#: ``Analysis.needs`` of a pattern ``known`` was told about.
UNTOLD: tuple[Any, int] = ("", -1)


def needs_of(pattern: re.Pattern[Any]) -> tuple[Any, int] | None:
    """``Analysis.needs`` from ``pattern``'s own parse, also where ``known``
    was told its analysis: once a pattern (cached), when a search wants it."""
    return _analysed(pattern).needs


def analyse(pattern: re.Pattern[Any]) -> Analysis:
    """``(*reach_of(pattern), literal_prefix(pattern), in_last_line(pattern),
    lines)`` from one parse (``_analysed``), or as ``known`` was told."""
    found = _KNOWN.get(id(pattern))
    return found[1] if found is not None and found[0] is pattern else _analysed(pattern)


@functools.lru_cache(maxsize=1024)  # parsing a prompt regex costs more than matching it
def _analysed(pattern: re.Pattern[Any]) -> Analysis:
    """``analyse`` from a parse, in one cached lookup (hashing a compiled
    pattern hashes its code)."""
    empty = pattern.pattern[:0]
    if _parser is None:  # pragma: no cover
        return Analysis(Reach.ANY, 0, 0, 0, empty, False)
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # analysis is an optimisation: fall back safely
        return Analysis(Reach.ANY, 0, 0, 0, empty, False)
    dotall = bool(pattern.flags & re.DOTALL)
    found = _prefix(tree, pattern), _last_line(tree, dotall), _lines(tree, dotall)
    try:
        starts = line_starts(tree, pattern.flags, empty)
        needs = needed(tree, pattern.flags, empty) if not found[0] else None
    except Exception:  # analysis is an optimisation: fall back safely
        starts = needs = None
    try:
        extent = _extent(tree)
    except Exception:  # analysis is an optimisation: fall back safely
        return Analysis(Reach.ANY, 0, 0, 0, *found, starts=starts, needs=needs)
    reach = _reach(extent, dotall)
    multiline = bool(pattern.flags & re.MULTILINE)
    return Analysis(*reach, *found, _tail(tree, reach, multiline), starts, needs)


def reach_of(pattern: re.Pattern[Any]) -> tuple[Reach, int, int, int]:
    """``(reach, width, pre, post)``; ``width`` is meaningful for ``BOUNDED``,
    ``pre`` and ``post`` for ``LINE``."""
    reach, width, pre, post = analyse(pattern)[:4]
    return reach, width, pre, post


def literal_prefix(pattern: re.Pattern[Any]) -> Any:
    r"""The characters every match of ``pattern`` starts with: its leading
    literals, after any zero-width assertions (``\b``, ``^``, look-arounds),
    which consume nothing.  Empty (``""`` or ``b""``) when there are none or
    case does not matter (a compiled pattern's flags include inline ones)."""
    return analyse(pattern).prefix


def in_last_line(pattern: re.Pattern[Any]) -> bool:
    r"""Whether every match lies in the buffer's last line: the pattern ends
    with ``\Z`` (the end of the buffer) and can never match a newline, as a
    driver's prompt pattern does.  Such a match starts after the last
    newline, so nothing before it need be searched."""
    return analyse(pattern).last_line


def may_match_empty(pattern: re.Pattern[Any]) -> bool:
    r"""Whether some match of ``pattern`` can be empty, somewhere in some
    text (``x*``, ``\b``, ``(?=a)``), not only in an empty one."""
    if _parser is not None:
        try:
            return bool(_parser.parse(pattern.pattern, pattern.flags).getwidth()[0] == 0)
        except Exception:  # pragma: no cover - then as an empty text says
            pass
    return pattern.search(pattern.pattern[:0]) is not None  # pragma: no cover


def _reach(tree: Any, dotall: bool) -> tuple[Reach, int, int, int]:
    try:
        _lo, hi = tree.getwidth()
        if hi <= MAX_WIDTH:
            return Reach.BOUNDED, int(hi), 0, 0
        if not _may_match_newline(tree, dotall):
            return Reach.LINE, 0, 0, 0
        edges = _edges(tree, dotall)
        if edges is not None:
            return Reach.LINE, 0, *edges
    except Exception:  # analysis is an optimisation: fall back safely
        pass
    return Reach.ANY, 0, 0, 0


def _extent(tree: Any) -> Any:
    """The tree with every look-ahead and look-behind made to consume what
    it looks at: the stretch of text a match depends on, which is what the
    search must keep in view (``foo(?=.*Q)`` depends on the line up to
    ``Q``, not on three characters)."""
    items = []
    for op, av in tree:
        name = str(op)
        if name in ("ASSERT", "ASSERT_NOT"):
            op, av = _c.SUBPATTERN, (None, 0, 0, _extent(av[1]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            av = (av[0], av[1], _extent(av[2]))
        elif name == "SUBPATTERN":
            av = (*av[:3], _extent(av[3]))
        elif name == "ATOMIC_GROUP":
            av = _extent(av)
        elif name == "BRANCH":
            av = (av[0], [_extent(branch) for branch in av[1]])
        elif name == "GROUPREF_EXISTS":
            av = (av[0], _extent(av[1]), None if av[2] is None else _extent(av[2]))
        items.append((op, av))
    return _parser.SubPattern(tree.state, items)


def _prefix(tree: Any, pattern: re.Pattern[Any]) -> Any:
    empty = pattern.pattern[:0]
    if pattern.flags & (re.IGNORECASE | re.LOCALE):
        return empty
    codes: list[int] = []
    for op, av in tree:
        name = str(op)
        if name == "LITERAL":
            codes.append(av)
        elif codes or name not in ("AT", "ASSERT", "ASSERT_NOT"):
            break
    return bytes(codes) if isinstance(empty, bytes) else "".join(map(chr, codes))


def _last_line(tree: Any, dotall: bool) -> bool:
    try:
        return _at_end(tree) and not _may_match_newline(tree, dotall)
    except Exception:  # analysis is an optimisation: fall back safely
        return False


def _at_end(tree: Any) -> bool:
    r"""Whether every match of ``tree`` ends with ``\Z``: its last item is
    one, or a group, or branches that each end with one (``(?:\Z|\r\Z)``,
    as a learned prompt's end may be written: not known, its search went
    back over the whole tail, not the last line)."""
    items = list(tree)
    if not items:
        return False
    name, av = str(items[-1][0]), items[-1][1]
    if name == "AT":
        return str(av) == "AT_END_STRING"
    if name == "SUBPATTERN":
        return _at_end(av[3])
    if name == "BRANCH":
        return all(_at_end(branch) for branch in av[1])
    return False


def _lines(tree: Any, dotall: bool) -> int:
    r"""``Analysis.lines``: 1 + the most newlines a match ending at ``\Z`` holds."""
    try:
        newlines = _newlines(tree, dotall) if _at_end(tree) else MAX_LINES
    except Exception:  # analysis is an optimisation: fall back safely
        return 0
    return newlines + 1 if newlines < MAX_LINES else 0


def _tail(tree: Any, reach: tuple[Reach, int, int, int], multiline: bool) -> int | None:
    r"""``Analysis.tail``: a bounded pattern's width (its look-arounds'
    included: ``reach`` is of ``_extent``), plus how far before the end a
    match holds ``\Z`` or ``$`` at the latest (``_end_slack``).  The
    place where a match holds it is one the search reaches from its start,
    so it is at most ``width`` characters on."""
    if reach[0] is not Reach.BOUNDED:
        return None
    try:
        slack = _end_slack(tree, multiline)
    except Exception:  # analysis is an optimisation: fall back safely
        return None
    return None if slack is None else reach[1] + slack


def _end_slack(tree: Any, multiline: bool) -> int | None:
    r"""0 if every match of ``tree`` holds ``\Z`` somewhere, 1 if it holds
    ``\Z`` or a ``$`` without ``MULTILINE`` (the end, or before a last
    newline), ``None`` if some match need hold neither.  A sequence holds
    what any of its items must hold; an item must hold what a positive
    look-around, a group, a repeat taken at least once, or every branch
    must hold.  Anything else (a negative look-around, a conditional, a
    ``$`` with ``MULTILINE``) holds nothing known."""
    slacks = [_item_slack(str(op), av, multiline) for op, av in tree]
    return min((slack for slack in slacks if slack is not None), default=None)


def _item_slack(name: str, av: Any, multiline: bool) -> int | None:
    if name == "AT":
        if str(av) == "AT_END_STRING":
            return 0
        return 1 if str(av) == "AT_END" and not multiline else None
    if name == "SUBPATTERN":
        _group, add_flags, del_flags, sub = av
        on = bool(add_flags & re.MULTILINE) or (multiline and not del_flags & re.MULTILINE)
        return _end_slack(sub, on)
    if name == "ATOMIC_GROUP":
        return _end_slack(av, multiline)
    if name == "ASSERT":  # (positive, ahead or behind: it holds where the match is)
        return _end_slack(av[1], multiline)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
        return _end_slack(av[2], multiline)
    if name == "BRANCH":
        slacks = [_end_slack(branch, multiline) for branch in av[1]]
        return None if None in slacks else max(s for s in slacks if s is not None)
    return None


def _newlines(tree: Any, dotall: bool) -> int:
    """The most newlines a match of ``tree`` holds (``MAX_LINES`` or more:
    too many, unbounded, or not known).  Look-arounds hold none: they
    consume nothing."""
    total = 0
    for op, av in tree:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            inner = _newlines(av[2], dotall)
            total += inner * min(av[1], MAX_LINES) if inner else 0
        elif name == "SUBPATTERN":
            _group, add_flags, del_flags, sub = av
            sub_dotall = bool(add_flags & re.DOTALL) or (dotall and not del_flags & re.DOTALL)
            total += _newlines(sub, sub_dotall)
        elif name == "ATOMIC_GROUP":
            total += _newlines(av, dotall)
        elif name == "BRANCH":
            total += max(_newlines(branch, dotall) for branch in av[1])
        elif name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            total += _op_may_match_newline(name, av, dotall)
        elif name not in ("AT", "ASSERT", "ASSERT_NOT"):
            return MAX_LINES  # (a back-reference, ...: not known)
        if total >= MAX_LINES:
            return MAX_LINES
    return total


def _edges(tree: Any, dotall: bool) -> tuple[int, int] | None:
    """``(pre, post)`` when the pattern is a bounded prefix, a newline-free
    middle (from its first to its last unbounded item) and a bounded suffix."""
    items = list(tree)
    widths = [_parser.SubPattern(tree.state, [item]).getwidth()[1] for item in items]
    unbounded = [i for i, w in enumerate(widths) if w > MAX_WIDTH]
    first, last = unbounded[0], unbounded[-1] + 1
    if any(_op_may_match_newline(str(op), av, dotall) for op, av in items[first:last]):
        return None
    pre, post = sum(widths[:first]), sum(widths[last:])
    if pre > MAX_WIDTH or post > MAX_WIDTH:
        return None
    return int(pre), int(post)


def _may_match_newline(tree: Any, dotall: bool) -> bool:
    return any(_op_may_match_newline(str(op), av, dotall) for op, av in tree)


def _op_may_match_newline(op: str, av: Any, dotall: bool) -> bool:
    if op == "LITERAL":
        return bool(av == 10)
    if op == "NOT_LITERAL":
        return bool(av != 10)
    if op == "ANY":
        return dotall
    if op == "IN":
        return _set_has_newline(av)
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return _may_match_newline(av[2], dotall)
    if op == "SUBPATTERN":
        _group, add_flags, del_flags, sub = av
        if add_flags & re.DOTALL:
            dotall = True
        if del_flags & re.DOTALL:
            dotall = False
        return _may_match_newline(sub, dotall)
    if op == "ATOMIC_GROUP":
        return _may_match_newline(av, dotall)
    if op == "BRANCH":
        return any(_may_match_newline(branch, dotall) for branch in av[1])
    # Zero-width items never put a newline inside the match.
    return op not in ("AT", "ASSERT", "ASSERT_NOT")


def _set_has_newline(items: Any) -> bool:
    negate = False
    hit = False
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            hit = hit or av == 10
        elif name == "RANGE":
            hit = hit or av[0] <= 10 <= av[1]
        elif name == "CATEGORY":
            category = str(av)
            if category in _NEWLINE_CATEGORIES:
                hit = True
            elif category not in _SAFE_CATEGORIES:
                return True
        else:
            return True
    return hit != negate


_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.ASCII, "a"))


def alternation_of(regexes: Sequence[re.Pattern[Any]]) -> re.Pattern[Any] | None:
    """One regex: each of ``regexes`` an alternative, in order, with its own
    flags (inline global flags lifted into them).  ``None`` where that cannot
    be written: groups after the first pattern, VERBOSE or LOCALE in a mix
    of flags (a group cannot scope them), or a whole ``re`` refuses.  Flags
    all share are the whole regex's: the engine's shortcuts (line starts,
    literal prefixes) then still work; scoped in each group they cost up to
    four times as much."""
    if any(regex.groups for regex in regexes[1:]):
        return None  # their numbers would shift: a back-reference would change
    common = regexes[0].flags
    if any(regex.flags != common for regex in regexes):
        if any(regex.flags & (re.VERBOSE | re.LOCALE) for regex in regexes):
            return None
        parts = [f"(?{_letters(r.flags)}:{pattern_body(r)})" for r in regexes]
        common = 0
    else:
        end = "\n" if common & re.VERBOSE else ""  # a trailing comment would hide ")"
        bodies = [pattern_body(r) for r in regexes]
        head = "" if end else _shared_head(bodies)
        parts = [f"(?:{body[len(head) :]}{end})" for body in bodies]
        if head:  # (once, not at each alternative: a position that fails it fails once)
            parts = [f"{head}(?:{'|'.join(parts)})"]
    joined = "|".join(parts)
    try:
        if isinstance(regexes[0].pattern, bytes):
            return re.compile(joined.encode("latin-1"), common)
        return re.compile(joined, common)
    except (re.error, RecursionError, OverflowError):  # too deep or too big together
        return None


def _shared_head(bodies: Sequence[str]) -> str:
    r"""The group all of ``bodies`` begin with, ``(?:...)`` with no
    quantifier after it, where none has a ``|`` outside its groups: the
    alternation may then hold it once, in front (``(?:^|(?<=\r))``, which
    every driver's prompt begins with, tried once at a position, not once
    an alternative: a line with no line end yet, searched as it grows,
    cost half as much).  Which alternative matches is each pattern's own
    to tell (the alternation only finds where one starts); where a match
    starts is the same.  ``""`` where there is none."""
    head = _leading_group(bodies[0])
    if not head or not all(body.startswith(head) for body in bodies[1:]):
        return ""
    if any(
        _top_level_bar(body) or body[len(head) : len(head) + 1] in _QUANTIFIERS for body in bodies
    ):
        return ""
    return head


_QUANTIFIERS = ("*", "+", "?", "{")


def _leading_group(body: str) -> str:
    """The non-capturing group ``body`` begins with (``""``: none)."""
    if not body.startswith("(?:"):
        return ""
    end = _group_end(body)
    return body[:end] if end else ""


def _group_end(body: str) -> int:
    """Where the group opening ``body`` closes (just after its ``)``); 0 if
    it never does."""
    for i, c, depth in _structure(body):
        if c == ")" and depth == 1:
            return i + 1
    return 0


def _top_level_bar(body: str) -> bool:
    """Whether ``body`` has a ``|`` outside its groups (its alternatives)."""
    return any(c == "|" and depth == 0 for _, c, depth in _structure(body))


def _structure(body: str) -> Iterator[tuple[int, str, int]]:
    """Each ``(``, ``)`` and ``|`` of ``body`` that is one (escaped, or in a
    character class, it is a character), with where it is and how deep in
    groups it stands (a ``)``: inside the group it closes)."""
    depth, i, n = 0, 0, len(body)
    while i < n:
        c = body[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(body, i)
            continue
        if c == "(":
            depth += 1
            yield i, c, depth
        elif c == ")":
            yield i, c, depth
            depth -= 1
        elif c == "|":
            yield i, c, depth
        i += 1


def _class_end(body: str, i: int) -> int:
    """Just after the character class opening at ``i`` (``]`` first, or
    after ``^``, is one of its characters)."""
    j = i + 1
    if body[j : j + 1] == "^":
        j += 1
    if body[j : j + 1] == "]":
        j += 1
    while j < len(body) and body[j] != "]":
        j += 2 if body[j] == "\\" else 1
    return j + 1


def _letters(flags: int) -> str:
    return "".join(letter for flag, letter in _FLAG_LETTERS if flags & flag)


#: Inline global flags, which must open a pattern: ``flags`` holds them.
_GLOBAL_FLAGS = re.compile(r"(?:\(\?[aiLmsux]+\))+")


def pattern_body(regex: re.Pattern[Any]) -> str:
    """``regex``'s pattern as text (bytes: one character a byte), without
    its inline global flags, so that it can stand in a group."""
    pattern = regex.pattern
    text = pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern
    opening = _GLOBAL_FLAGS.match(text)
    return text[opening.end() :] if opening else text
