"""``set_unique_prompt``: give a POSIX shell a prompt no output can be
mistaken for, and a continuation prompt to recognise incomplete commands."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from . import _driver
from ._prompt_read import (
    Deadline,
    auto_driver,
    expect_named,
    in_step,
    require_idle,
    require_text,
    state_of,
)

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["set_unique_prompt", "unique_prompt_command"]


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
    echoes plainly.
    """
    half = len(token) // 2
    marker = f"[aioexpect-{EMPTY}{token[:half]}''{token[half:]}]"
    return (
        "unset PROMPT_COMMAND PS0 RPROMPT RPS1 2>/dev/null; "
        f"PS1='{marker}$ '; PS2='{marker}> '; "
        '[ -n "$BASH_VERSION" ] && { shopt -s promptvars;'
        " bind 'set enable-bracketed-paste off'; set +o emacs +o vi; } 2>/dev/null; "
        '[ -n "$ZSH_VERSION" ] && eval \'setopt prompt_subst; unsetopt prompt_sp prompt_cr;'
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
    deadline = Deadline(timeout)
    token = secrets.token_hex(4)
    await session.sendline(unique_prompt_command(token))
    what = "the unique prompt (is this an interactive POSIX shell?)"
    m = await expect_named(session, prompts(token, "$"), deadline, what)
    if m.index:
        session.log.debug("the shell does not expand PS1: printing it shows the prompt")
    session.set_prompt(m.pattern)
    state = state_of(session)
    state.continuation = prompts(token, ">")[m.index]
    in_step(state)
    if auto_driver(session):
        session.driver = _driver.get("shell")
