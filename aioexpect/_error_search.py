"""The search of a command's output for its driver's error patterns
(``execute``'s ``CommandError``), once per answer."""

from __future__ import annotations

import re

from ._matcher import alternation
from ._patterns import IdentityCache

__all__ = ["first_error"]


def first_error(patterns: tuple[re.Pattern[str], ...], output: str) -> re.Match[str] | None:
    """The match of the first of ``patterns``, in their order, that matches
    ``output``.  Most output has no error: one pass of their alternation
    says so, at a third of the cost of three (those anchored at the start
    apart: one match attempt each)."""
    if len(patterns) > 1:
        anchored, together = _PREFILTERS.get(patterns, None, lambda: _prefilter(patterns))
        if (
            together is not None
            and together.search(output) is None
            and not any(pattern.search(output) for pattern in anchored)
        ):
            return None
    for pattern in patterns:
        found = pattern.search(output)
        if found is not None:
            return found
    return None


#: ``_prefilter``'s answers, by the identity of a driver's patterns.
_PREFILTERS = IdentityCache()


def _prefilter(
    patterns: tuple[re.Pattern[str], ...],
) -> tuple[tuple[re.Pattern[str], ...], re.Pattern[str] | None]:
    """The patterns anchored at the text's start (``\\A``), and one pattern
    for the others (their alternation; ``None``: none, or it cannot be
    written).  An ``\\A`` alternative costs an alternation the engine's
    line-start shortcut (its search cost five times that of the others
    together), while such a pattern alone is one match attempt."""
    anchored = tuple(p for p in patterns if p.pattern[:2] in ("\\A", b"\\A"))
    rest = [p for p in patterns if p not in anchored]
    return anchored, (rest[0] if len(rest) == 1 else alternation(rest) if rest else None)
