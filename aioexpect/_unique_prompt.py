"""``set_unique_prompt``: give a POSIX shell a prompt no output can be
mistaken for, and a continuation prompt to recognise incomplete commands.
Its line is not typed into an answer still owed (read to its prompt first);
sent but its prompt not read, the prompt is owed, whichever the shell shows."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from . import _driver
from ._exceptions import BufferFull, ExpectTimeout
from ._match import Match
from ._prompt import _may_still_run, first_prompt, owe
from ._prompt_read import (
    Deadline,
    PromptState,
    auto_driver,
    expect_named,
    in_step,
    prompts_of,
    require_idle,
    require_text,
    state_of,
)
from ._reading import drop, take_all

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["set_unique_prompt", "unique_prompt_command"]

#: The least ``max_buffer`` the prompt is looked for in: its row (up to 27
#: characters, in either form), with room for what may come around it.
LEAST_BUFFER = 64


#: Expands to nothing where the shell shows its prompt (POSIX parameter
#: expansion of PS1 and PS2: bash's, also in POSIX mode, dash's, zsh's with
#: prompt_subst), so the variables' values, which ``set``, ``declare -p`` or
#: ``echo "$PS1"`` print, do not hold the marker shown.
EMPTY = "${x+}"


def unique_prompt_command(token: str) -> str:
    """The shell line that installs the unique prompt (bash, dash/sh, zsh).

    The markers are split by quotes, so their echo never looks like them (in
    either of ``prompts``' forms).  It also removes what would clutter
    ``execute`` output: PROMPT_COMMAND, PS0, zsh's precmd hooks, right
    prompt and partial-line marker, and the line editors (readline in bash,
    ZLE in zsh; with them bracketed paste and redrawing): the terminal
    echoes plainly.  Also under ``set -u``, which would end the line at an
    unset ``$ZSH_VERSION``.
    """
    half = len(token) // 2
    marker = f"[aioexpect-{EMPTY}{token[:half]}''{token[half:]}]"
    return (
        "unset PROMPT_COMMAND PS0 RPROMPT RPS1 2>/dev/null; "
        f"PS1='{marker}$ '; PS2='{marker}> '; "
        '[ -n "${BASH_VERSION-}" ] && { shopt -s promptvars;'
        " bind 'set enable-bracketed-paste off'; set +o emacs +o vi; } 2>/dev/null; "
        '[ -n "${ZSH_VERSION-}" ] && eval \'setopt prompt_subst; unsetopt prompt_sp prompt_cr;'
        " precmd_functions=(); preexec_functions=(); unset zle_bracketed_paste; unsetopt zle'; true"
    )


def prompts(token: str, end: str) -> list[re.Pattern[str]]:
    """The prompt (``end`` ``$``) or continuation prompt (``>``) as the
    shell shows it: ``EMPTY`` expanded, then as a shell that does not expand
    its prompt shows it (printing PS1 shows that one)."""
    return [re.compile(re.escape(f"[aioexpect-{e}{token}]{end}") + " ?") for e in ("", EMPTY)]


async def set_unique_prompt(session: Session, timeout: float | None) -> None:
    """Give a POSIX shell a prompt no output can be mistaken for."""
    require_text(session)
    require_idle(session)  # (sent first, the shell's prompt would change, not ours)
    if session.max_buffer is not None and session.max_buffer < LEAST_BUFFER:
        raise ValueError(
            f"set_unique_prompt needs max_buffer={LEAST_BUFFER} or more to find the"
            f" prompt in; this session has max_buffer={session.max_buffer}"
        )
    deadline = Deadline(timeout)
    state = state_of(session)
    await _read_owed(session, state, deadline)
    token = secrets.token_hex(4)
    shown, continued = prompts(token, "$"), prompts(token, ">")
    before = prompts_of(session), state.continuation
    try:
        await session.sendline(unique_prompt_command(token))
        m = await _expect_dropping(session, shown, deadline)
    except BaseException:
        _either(session, state, (shown, continued), before)
        raise
    if m.index:
        session.log.debug("the shell does not expand PS1: printing it shows the prompt")
    session.set_prompt(m.pattern)
    state.continuation = continued[m.index]
    in_step(state)
    if auto_driver(session):
        session.driver = _driver.get("shell")


async def _read_owed(session: Session, state: PromptState, deadline: Deadline) -> None:
    """Read to the prompt an earlier command still owes (an ``execute`` that
    timed out, was cancelled or overflowed ``max_buffer``, a line typed in
    ``interact``), with ``execute``'s catch-up (past ``max_buffer`` what
    arrives is dropped): the line is not typed into that command, which may
    read it (``cat``, a pager, a question).  Nothing is awaited where
    nothing is owed: a fresh shell's prompt may be one no driver knows,
    which is what this call is for.

    Timed out, it sends nothing; as after ``execute``'s catch-up, text that
    ends in the middle of a line is taken for a prompt no pattern knows
    (the next call does not wait for it again: it goes with this error)."""
    if (state.owed is None and not state.late) or not prompts_of(session):
        return
    try:
        await first_prompt(session, deadline.left())
    except ExpectTimeout as exc:
        if _may_still_run(exc.before):
            owe(session)
            why = " (the command before may still be running: wait, or stop it with sendintr())"
        else:
            in_step(state)
            take_all(session)
            why = ""
        raise ExpectTimeout(
            f"set_unique_prompt sent nothing: {exc}{why}", before=exc.before, patterns=exc.patterns
        ) from None


async def _expect_dropping(
    session: Session, shown: list[re.Pattern[str]], deadline: Deadline
) -> Match:
    """The new prompt (one of ``shown``).  Past ``max_buffer`` (the line's
    echo, wider than a small buffer, and what comes before it) what does
    not fit is dropped, as ``execute``'s catch-up drops it, but for the row
    where the prompt may begin (``_reading.drop``)."""
    what = "the unique prompt (is this an interactive POSIX shell?)"
    while True:
        try:
            return await expect_named(session, shown, deadline, what)
        except BufferFull:
            if not drop(session, "the text before the unique prompt"):
                raise  # (nothing buffered: nothing to free)


def _either(
    session: Session,
    state: PromptState,
    new: tuple[list[re.Pattern[str]], list[re.Pattern[str]]],
    before: tuple[list[re.Pattern[str]], re.Pattern[str] | None],
) -> None:
    """The line was sent (or may have been) but its prompt not read (a
    time-out, cancelled): a shell shows one of ``new`` (prompts,
    continuation prompts), anything else its prompt ``before``.  Either is
    taken for a prompt from now on (until a ``set_unique_prompt`` that
    succeeds) and is owed: the next call reads to it before sending."""
    (shown, continued), (old, continuation) = new, before
    session.set_prompt([*shown, *old])
    bodies = [p.pattern for p in continued] + ([continuation.pattern] if continuation else [])
    state.continuation = re.compile("|".join(bodies))  # (all markers: no flags, no groups)
    owe(session)
