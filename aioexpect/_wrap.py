"""readline's wraps at the terminal's margin, in a prompt wider than the
terminal: which rows above a prompt's last one are its own, and the prompt
as one row.  Pure: the terminal's width is given.

readline ends a full row in one of two ways: with the next row's first
character, ``\\r`` and that character again (``...d\\rdd# ``), or, in a prompt
with invisible parts (colours between ``\\[`` and ``\\]``), with ``WRAP``,
right before the next row (``...d\\r\\n\\rdd# ``).  Either way the row it ends is
exactly as wide as the terminal, control sequences not counted.  Output as
wide as the terminal ends with a line end alone, then come the prompt's
control sequences or characters: no wrap.
"""

from __future__ import annotations

import itertools
import re

from ._ansi import strip_ansi

__all__ = ["WRAP", "rows_start", "unwrap", "wraps_fit"]

#: readline's wrap at the margin in a prompt with invisible parts: a line
#: end (``\n`` on a terminal that adds ``\r``), then a carriage return.
WRAP = "\r\n\r"


def rows_start(text: str, at: int, following: str, columns: int) -> int:
    """Where in ``text`` the rows start that readline wrapped at the margin
    right before ``text[at:]`` (a row whose visible text is ``following``):
    ``at`` if none."""
    while (end := _wrap_before(text, at, following)) is not None:
        start = max(text.rfind("\r", 0, end), text.rfind("\n", 0, end)) + 1
        row = strip_ansi(text[start:end])
        if len(row) != columns:
            break
        at, following = start, row
    return at


#: A carriage return within a line: readline's ``c\\rc`` wrap, or output;
#: not zsh's return from a right prompt that ends in the last column
#: (``ZLE_RPROMPT_INDENT=0``), a move right after it (colours between:
#: ``_output.RIGHT_PROMPT``).
_INNER_CR = re.compile(r"(?<=[^\r\n])\r(?=[^\r\n])(?!(?:\x1b\[[\d;:]{0,8}m){0,4}\x1b\[\d{1,4}C)")


def wraps_fit(prompt: str, columns: int | None, learned: str = "") -> bool:
    """Whether each ``\\r`` within ``prompt`` (a prompt pattern's match,
    from its line's start) is readline's wrap at the margin: the same
    character on either side of it (the next row's first, drawn twice),
    after a row exactly ``columns`` wide (without a width, not counted).
    The shipped patterns let a spaced prompt hold ``\\r`` then any
    character: output such as ``x:y\\ry z$`` passes for a wrapped one.
    A wider row is one whose end is the first row of ``learned`` (the
    prompt learned, as one row): output without a final line end glued
    to it (``printf x``), which readline does not count."""
    for cr in _INNER_CR.finditer(prompt):
        at = cr.start()
        if prompt[at - 1] != prompt[at + 1]:
            return False
        start = max(prompt.rfind("\r", 0, at - 1), prompt.rfind("\n", 0, at - 1)) + 1
        if columns is not None and not _full(strip_ansi(prompt[start : at - 1]), columns, learned):
            return False
    return True


def _full(row: str, columns: int, learned: str) -> bool:
    """Whether ``row`` (visible text) is a full row of the prompt ``learned``."""
    if len(row) == columns:
        return True
    return len(row) > columns and strip_ansi(learned).startswith(row[-columns:])


def _wrap_before(text: str, at: int, following: str) -> int | None:
    """Where the row ends that a wrap right before ``text[at:]`` (whose
    visible text is ``following``) would end, if one is there."""
    if text.endswith(WRAP, 0, at):
        return at - len(WRAP)
    if at >= 2 and text[at - 1] == "\r" and text[at - 2] == following[:1]:
        return at - 2
    return None


def unwrap(prompt: str, columns: int | None = None) -> str:
    """A prompt (learned) as one row: without readline's wraps at the
    margin, also `` \\r`` where no row follows (the prompt as wide as the
    terminal).  A ``WRAP`` is one only after a row ``columns`` wide (a
    prompt of several lines may end its lines so; without a width, none
    is)."""
    if columns is not None and WRAP in prompt:
        rows = prompt.split(WRAP)
        prompt = rows[0]
        for above, row in itertools.pairwise(rows):
            # (the row a wrap ends starts after a line end or a ``c\rc`` wrap)
            full = len(strip_ansi(re.split("[\r\n]", above)[-1])) == columns
            prompt += row if full else WRAP + row
    prompt = re.sub(r"(.)\r(?=\1)", "", prompt)
    return prompt[:-2] if prompt.endswith(" \r") else prompt
