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

The analysis is conservative: it looks at the zero-width items a pattern
begins with (anchors, look-arounds, and groups or branches of them), and
whatever it does not recognise is ``None``, which is always correct.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["line_starts"]

#: Characters of a look-behind's class past which it is not worth knowing.
MAX_CHARS = 16


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
