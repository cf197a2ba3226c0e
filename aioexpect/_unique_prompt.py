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


def unique_prompt_command(token: str) -> str:
    """The shell line that installs the unique prompt (bash, dash/sh, zsh).

    The markers are split by quotes, so their echo never looks like them.
    It also removes what would clutter ``execute`` output: PROMPT_COMMAND,
    PS0, zsh's precmd hooks, right prompt and partial-line marker, and the
    line editors (readline in bash, ZLE in zsh; with them bracketed paste
    and redrawing): the terminal echoes plainly.  Also under ``set -u``
    (an unset ``$BASH_VERSION`` would end the line before zsh's part).
    """
    return (
        "unset PROMPT_COMMAND PS0 RPROMPT RPS1 2>/dev/null; "
        f"PS1='[aioexpect-''{token}]$ '; PS2='[aioexpect-''{token}]> '; "
        '[ -n "${BASH_VERSION-}" ] &&'
        " { bind 'set enable-bracketed-paste off'; set +o emacs +o vi; } 2>/dev/null; "
        '[ -n "${ZSH_VERSION-}" ] && eval \'unsetopt prompt_sp prompt_cr; precmd_functions=();'
        " preexec_functions=(); unset zle_bracketed_paste; unsetopt zle'; true"
    )


async def set_unique_prompt(session: Session, timeout: float | None) -> None:
    """Give a POSIX shell a prompt no output can be mistaken for."""
    require_text(session)
    require_idle(session)  # (sent first, the shell's prompt would change, not ours)
    deadline = Deadline(timeout)
    token = secrets.token_hex(4)
    marker = re.compile(re.escape(f"[aioexpect-{token}]$") + " ?")
    await session.sendline(unique_prompt_command(token))
    what = "the unique prompt (is this an interactive POSIX shell?)"
    await expect_named(session, [marker], deadline, what)
    session.set_prompt(marker)
    state = state_of(session)
    state.continuation = re.compile(re.escape(f"[aioexpect-{token}]>") + " ?")
    in_step(state)
    if auto_driver(session):
        session.driver = _driver.get("shell")
