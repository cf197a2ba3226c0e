"""readline's wraps at the terminal's margin, as a session reads them: the
terminal's width, whether a prompt pattern's match with a ``\\r`` in it is a
wrapped prompt (``fits``), and the rows of a prompt above its last one
(``rows_above``, ``at_margin``).  The pure part is ``_wrap``'s."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from ._ansi import strip_ansi
from ._match import Match
from ._wrap import rows_start, unwrap, wraps_fit

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["at_margin", "columns_of", "fits", "rows_above", "with_before"]


def columns_of(session: Session) -> int | None:
    """The terminal's width (``None``: no terminal)."""
    columns = session.transport.get_extra_info("columns")
    return columns if isinstance(columns, int) else None


def fits(session: Session, prompt: str, learned: str = "") -> bool:
    """Whether a prompt pattern's match is a prompt: its ``\\r`` (a spaced
    prompt's) are readline's wraps (``wraps_fit``; at a local pty's width, read
    from it: SSH's and telnet's is only asked for; output glued before the
    prompt ``learned``, one row, allowed for); a set_prompt match is one."""
    if "\r" not in prompt or session._prompt_override is not None:
        return True  # (the usual case: told before anything else is looked up)
    columns = columns_of(session) if session.transport.kind == "pty" else None
    return wraps_fit(prompt, columns, learned)


def rows_above(session: Session, earlier: str, m: Match) -> Match:
    """``m`` (a prompt) with the rows of the same prompt above it, which a
    terminal narrower than the prompt wrapped (``user@vm:/tmp/dd...`` at 80
    columns, then ``dd# ``), and its ``before`` after ``earlier`` (what this
    read consumed before it).  The patterns find the last row only: the rows
    above would be taken for the output's last line, and the prompt learned
    would be that row.  They are the prompt's where ``rows_start`` says so,
    which needs the terminal's width: without one (no terminal) output
    ending in ``\r`` is output.  ``group(0)`` is then the whole prompt (the
    pattern's own groups are dropped with its match)."""
    if not (m.before or earlier).endswith("\r"):
        return with_before(m, earlier + m.before)  # (no wrap: no need to ask the terminal)
    text, columns = earlier + m.before, columns_of(session)
    if columns is None:
        return with_before(m, text)
    start = rows_start(text, len(text), strip_ansi(m.after), columns)
    if start == len(text):
        return with_before(m, text)
    return Match(m.index, m.pattern, text[:start], text[start:] + m.after, None, 0, m._redact)


def at_margin(
    session: Session, earlier: str, m: Match, prompts: list[re.Pattern[str]]
) -> Match | None:
    """The prompt that ``MARGIN`` (``m``) ends, with ``before`` after
    ``earlier``, if its rows above are wrapped ones, any ``\r`` in its own
    row is a wrap too (``wraps_fit``), and, as one row, a prompt that
    ``prompts`` find (the first that does is its pattern); ``None`` if not
    (output)."""
    columns = columns_of(session)
    if columns is None or (m.after.find("\r", 1) > 0 and not wraps_fit(m.after[1:], columns)):
        return None  # (no terminal, or a \r in the row that is no wrap at its margin)
    text = earlier + m.before + m.after
    at = len(text) - len(m.after) + 1  # (after the wrap's \r)
    start = rows_start(text, at, strip_ansi(m.after[1:]), columns)
    if start == at:
        return None
    whole = unwrap(text[start:], columns)
    index = next((i for i, p in enumerate(prompts) if p.search(whole)), None)
    if index is None:
        return None
    return Match(index, prompts[index], text[:start], text[start:], None, 0, m._redact)


def with_before(m: Match, before: str) -> Match:
    """``m`` with a longer ``before`` (``span()`` stays relative to before + after)."""
    if before == m.before:
        return m
    shift = len(before) - len(m.before)
    return dataclasses.replace(m, before=before, _offset=m._offset - shift)
