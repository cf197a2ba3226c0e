r"""Where a regex's matches can start: most prompts, only at a line's start.

``line_starts(tree, flags, empty)`` reads the parse tree of the standard
library's ``re`` (as ``_scan`` does) and answers the characters after which
every match starts, when a match can start nowhere else but at the start of
the text: ``^`` with ``MULTILINE`` starts after ``\n``, a look-behind such
as ``(?<=[\r\x08])`` after a carriage return or a backspace, ``\A`` nowhere
but at the start (no character).  ``None``: a match may start anywhere (or
it is not known where).  A search may then skip a stretch of text that holds
none of those characters: every driver's prompt begins with
``(?:^|(?<=[\r\x08]))``, and a long line of output, arriving in small
chunks, holds no place where one of them can start.

``needed(tree, flags, empty)`` answers a literal every match holds, and
how far after the match's start it begins at most: where the text after a
place holds none, no match starts there (a prompt ``execute`` learned, with
its middle free, starts with the learned one's first characters, or a few
control sequences before them).

The analysis is conservative: it looks at the zero-width items a pattern
begins with (anchors, look-arounds, and groups or branches of them), and at
the literals it consumes in sequence, and whatever it does not recognise is
``None``, which is always correct.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["line_starts", "needed"]

#: Characters of a look-behind's class past which it is not worth knowing.
MAX_CHARS = 16
#: How far after a match's start a needed literal may begin, at most.
MAX_OFFSET = 1 << 12


def line_starts(tree: Any, flags: int, empty: Any) -> tuple[Any, ...] | None:
    """The characters (each ``str`` or ``bytes`` as ``empty`` is) after which
    every match of the pattern parsed into ``tree`` with ``flags`` starts,
    unless at the start of the text; ``None``: it may start anywhere."""
    found = _starts(tree, flags)
    if found is None:
        return None
    if isinstance(empty, bytes):
        return tuple(bytes((code,)) for code in sorted(found))
    return tuple(chr(code) for code in sorted(found))


def _starts(tree: Any, flags: int) -> frozenset[int] | None:
    """The codes a match's start follows, from the first item of ``tree``
    that decides it: a line-start anchor, or a group or branches of them;
    zero-width items that are not one (``\b``, a look-ahead) are passed
    over, anything that consumes text ends the search (``None``)."""
    for op, av in tree:
        name = str(op)
        if name == "AT":
            if str(av) == "AT_BEGINNING":  # (``MULTILINE`` makes it one after ``\n``)
                return frozenset({10}) if flags & re.MULTILINE else frozenset()
            if str(av) == "AT_BEGINNING_STRING":
                return frozenset()
        elif name == "ASSERT":
            direction, sub = av
            found = _before(sub, flags) if direction < 0 else None
            if found is not None:
                return found
        elif name == "SUBPATTERN":
            _group, add_flags, del_flags, sub = av
            return _starts(sub, (flags | add_flags) & ~del_flags)
        elif name == "ATOMIC_GROUP":
            return _starts(av, flags)
        elif name == "BRANCH":
            branches = [_starts(branch, flags) for branch in av[1]]
            if any(found is None for found in branches):
                return None
            return frozenset().union(*(found for found in branches if found is not None))
        elif name != "ASSERT_NOT":
            return None
    return None


def _before(sub: Any, flags: int) -> frozenset[int] | None:
    """The codes a positive look-behind ``sub`` finds just before where it
    holds: those of its last item, one literal or a class of a few listed
    characters (none a letter where case is ignored: ``IGNORECASE`` would
    match its other cases too)."""
    items = list(sub)
    if not items:
        return None
    name, av = str(items[-1][0]), items[-1][1]
    codes: set[int] = set()
    if name == "LITERAL":
        codes.add(av)
    elif name == "IN":
        for item_op, item_av in av:
            item = str(item_op)
            if item == "LITERAL":
                codes.add(item_av)
            elif item == "RANGE" and item_av[1] - item_av[0] < MAX_CHARS:
                codes.update(range(item_av[0], item_av[1] + 1))
            else:  # (a negated class, a category: too many)
                return None
    else:
        return None
    if len(codes) > MAX_CHARS:
        return None
    if flags & re.IGNORECASE and any(code > 127 or chr(code).isalpha() for code in codes):
        return None
    return frozenset(codes)


def needed(tree: Any, flags: int, empty: Any) -> tuple[Any, int] | None:
    """``(literal, offset)``: every match of the pattern parsed into
    ``tree`` with ``flags`` consumes ``literal`` (``str`` or ``bytes`` as
    ``empty`` is), beginning at most ``offset`` characters after its start;
    the longest such literal (the nearest, of two); ``None``: none known."""
    found = _needed(tree, flags)
    if not found:
        return None
    codes, offset = max(found, key=lambda each: (len(each[0]), -each[1]))
    if isinstance(empty, bytes):
        return bytes(codes), offset
    return "".join(map(chr, codes)), offset


def _needed(tree: Any, flags: int) -> list[tuple[tuple[int, ...], int]]:
    """Each literal (its codes) a match of ``tree`` consumes in sequence,
    with how far after the match's start it begins at most: runs of
    literals (none where case is ignored), those every branch holds, and
    those of groups and of repeats taken at least once, each after the
    widest the items before it can be."""
    found: list[tuple[tuple[int, ...], int]] = []
    run: list[int] = []
    offset = start = 0
    for op, av in tree:
        name = str(op)
        if name == "LITERAL" and not flags & re.IGNORECASE:
            start = start if run else offset
            run.append(av)
            offset += 1
            continue
        if run:
            found.append((tuple(run), start))
            run = []
        inner: list[tuple[tuple[int, ...], int]] = []
        if name == "SUBPATTERN":
            _group, add_flags, del_flags, sub = av
            inner = _needed(sub, (flags | add_flags) & ~del_flags)
        elif name == "ATOMIC_GROUP":
            inner = _needed(av, flags)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            inner = _needed(av[2], flags)
        elif name == "BRANCH":
            inner = _in_every(_needed(branch, flags) for branch in av[1])
        found += [(codes, offset + at) for codes, at in inner]
        offset += type(tree)(tree.state, [(op, av)]).getwidth()[1]
        if offset > MAX_OFFSET:  # (those after it: too far, or unbounded)
            return found
    if run:
        found.append((tuple(run), start))
    return found


def _in_every(branches: Any) -> list[tuple[tuple[int, ...], int]]:
    """The literals of the first branch that every other holds too (in one
    of its own), each at the farthest it begins in any of them."""
    first, *others = [[("".join(map(chr, codes)), at) for codes, at in each] for each in branches]
    common = []
    for text, offset in first:
        farthest = offset
        for other in others:
            ats = [at + own.find(text) for own, at in other if text in own]
            if not ats:
                break
            farthest = max(farthest, min(ats))
        else:
            common.append((tuple(map(ord, text)), farthest))
    return common
