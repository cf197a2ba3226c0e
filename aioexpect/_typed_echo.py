"""Rule 2 of ``_typed`` (echo): an answer that begins with the echo of a
line sent before its command, and not with its own, ends with that line's
answer, which is dropped with a WARNING (``past_earlier``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._ansi import strip_ansi
from ._match import Match
from ._output import echo_end
from ._prompt_read import (
    Deadline,
    PromptState,
    evidence_of,
    more_within,
    read_to_prompt,
    shown_command,
)
from ._stale import STALE_WAIT
from ._typed import _ECHO_LINE_END, _after_prompt, _line_ends, _lines, cr_echoed

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["past_earlier"]


def _earlier(session: Session, state: PromptState, command: str) -> tuple[list[str], int, bool]:
    """The lines with something to echo sent before ``command`` (the last
    line ``execute`` sent) since the last answer found in step, but one
    that is the same command (which of the two an echo is, none can tell);
    how many lines were sent before it in all; and whether one of them was
    empty (its echo a bare line end: ``_bare``) and Rule 1 stopped short
    of the prompts owed right before ``command`` was sent, the text read
    ending as the empty lines sent last do read at their prompts, or none
    coming within ``STALE_WAIT`` (``PromptState.empties_at``): only then
    may their echo still be coming.  Their prompts read, the
    first answer after the echo went off (``stty -echo``) is no echo of
    theirs, even an empty line alone (``execute('echo')``: it timed out)."""
    sent = state.sent
    mine = -1 if sent is None else sent[2]
    sends = [s for s in session._sends if s[2] < mine]
    count, lines = _lines(sends, _line_ends(session))
    shown = {line: None for line in lines if line and line.strip() and line != command}
    short = bool(sends) and sends[-1][2] == state.empties_at and state.echoes is True
    empty = short and any(line is not None and not line.strip() for line in lines)
    return list(shown), count, empty


async def _bare(
    session: Session, state: PromptState, answer: tuple[str, int], command: str, deadline: Deadline
) -> bool:
    """Whether ``answer``'s text (from its start, or from where it reached
    when ``command`` was sent) is an empty line's answer: its echo, a bare
    line end, in a session whose answers begin with their command's echo,
    and nothing visible up to the prompt read (or up to a prompt that the
    echo follows, in one piece).  A line end that more output follows is
    that output's: the first answer with the echo gone (``stty -echo``)
    begins so, where the lines sent before had their prompts read (dropped,
    it cost a time-out).  Where something was read since Rule 1's note
    (``PromptState.empties_read``), that prompt must be followed too
    (``_followed``): a bare line end that nothing follows is then the
    command's own answer, the echo gone."""
    raw, at = answer
    for start in (0, at) if at > 0 else (0,):
        end = _ECHO_LINE_END.match(raw, start)
        if end is None:
            continue
        if not strip_ansi(raw[end.end() :]).strip():
            return _noted_here(state) or await _followed(session, state, command, deadline)
        if _after_prompt(session, raw, command)[0] == end.end():
            return True
    return False


def _noted_here(state: PromptState) -> bool:
    """Whether Rule 1's note (``empties_at``) was made by the execute that
    sent the command, nothing read between: the empty line's answer still
    to come then, as slow as its prompt was (the command's echo after it
    may come later than ``STALE_WAIT``: waited for in ``_followed``, the
    answer was taken for the command's own, ``'\\n'``, the real one left
    to the next execute)."""
    return state.sent is not None and state.sent[1] == state.empties_read


async def _followed(session: Session, state: PromptState, command: str, deadline: Deadline) -> bool:
    """Whether something follows the prompt just read, buffered or within
    ``STALE_WAIT`` (nothing is consumed): ``command``'s echo (or bash's line
    end with the echo off), or any visible output.  If not, a bare line end
    up to that prompt is the command's whole answer, the echo gone
    (``execute('echo')`` after ``stty -echo``), not an empty line's echo:
    dropped as one, execute timed out waiting for one more prompt (Rule 1's
    note, ``empties_at``, standing for a command sent after an execute
    cancelled before it sent its own, the empty line's answer read by then).
    Cancelled meanwhile, the session is at that prompt, as after
    ``_stale._after_prompt``'s wait (``PromptState.waiting``): none is owed
    (owed, the next execute waited for a prompt that never came, and
    timed out unsent)."""
    cr = cr_echoed(session)
    wait = deadline.within(STALE_WAIT)
    state.waiting = True  # (left so if cancelled: ``_prompt._run`` reads it)
    while True:
        text = session.buffer
        if echo_end(text, command, cr) or strip_ansi(text).strip():
            break
        if not await more_within(session, wait, STALE_WAIT, len(session._buffer)):
            state.waiting = False
            return False
    state.waiting = False
    return True


def _echoes(raw: str, at: int, line: str, cr: bool) -> bool:
    """Whether ``raw`` begins with ``line``'s echo, at its start or at
    ``at`` (where it reached when the command was sent); ``cr``: see ``echo_end``."""
    return bool(echo_end(raw, line, cr)) or (at > 0 and bool(echo_end(raw[at:], line, cr)))


async def past_earlier(
    session: Session,
    state: PromptState,
    answer: tuple[str, Match, bool],
    command: str,
    at: int,
    deadline: Deadline,
    extra: list[re.Pattern[str]],
) -> tuple[str, Match, bool, str | None]:
    """Rule 2: ``answer`` (text read up to a prompt, its match, whether it
    was a prompt; ``at``: where it reached when ``command`` was sent)
    without the answers to lines sent before ``command`` in front of its
    echo, reading on past the prompts that end them; and the prompt the
    echo came after, if anything was dropped (else ``None``)."""
    raw, m, is_prompt = answer
    if len(session._sends) < 2 or not is_prompt or state.echoes is False:
        return raw, m, is_prompt, None  # (the usual case: nothing sent before it)
    cr = cr_echoed(session)
    if not command.strip() or echo_end(raw, command, cr):
        return raw, m, is_prompt, None  # (its own echo first)
    earlier, count, empty = _earlier(session, state, command)
    # Its own echo after what was buffered when it was sent (a device's
    # message), unless that is a line's sent before it, echoed at its prompt
    # and still running: the terminal echoed the command as typed.
    own = at > 0 and bool(echo_end(raw[at:], command, cr))
    if own and not any(echo_end(raw, line, cr) for line in earlier):
        return raw, m, is_prompt, None
    dropped: list[str] = []
    prompt = None
    try:
        for _ in range(count if earlier or empty else 0):  # (each answer ends one line's at least)
            if not any(_echoes(raw, at, line, cr) for line in earlier) and not (
                empty and await _bare(session, state, (raw, at), command, deadline)
            ):
                break
            start, mine = _after_prompt(session, raw, command)
            if mine:
                dropped.append(raw[:start])
                prompt, raw = raw[start:mine], raw[mine:]
                break
            dropped.append(raw + m.after)
            prompt, at = m.after, 0
            raw, m, is_prompt = await read_to_prompt(session, deadline, extra)
            if not is_prompt or _echoes(raw, 0, command, cr):
                break
    finally:  # (timed out or cancelled after a drop, too)
        if dropped:
            _report(session, command, "".join(dropped))
    return raw, m, is_prompt, prompt


def _report(session: Session, command: str, text: str) -> None:
    """A WARNING naming ``text``, the answers to lines sent before
    ``execute(command)``, which it dropped."""
    session.log.warning(
        "execute(%r): %d characters in front of its echo, the answers to lines sent"
        " before it and not read (with sendline(), or by an execute given up on),"
        " were dropped: %s",
        shown_command(session, command),
        len(text),
        evidence_of(session, text),
    )
