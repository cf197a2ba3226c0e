"""``set_unique_prompt``: give a POSIX shell a prompt no output shows but
the value of PS1 (docs/drivers.rst says what prints it), and a continuation
prompt to recognise incomplete commands."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from . import _driver
from ._exceptions import BufferFull
from ._match import Match
from ._prompt_read import (
    Deadline,
    auto_driver,
    expect_named,
    in_step,
    require_idle,
    require_text,
    state_of,
)
from ._prompt_send import one_enter, send_timed
from ._reading import EVIDENCE, take_all

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
    """Give a POSIX shell a prompt no output shows but PS1's value."""
    require_text(session)
    require_idle(session)  # (sent first, the shell's prompt would change, not ours)
    deadline = Deadline(timeout)
    token = secrets.token_hex(4)
    shown = f"[aioexpect-{token}]$ "
    # (BusyBox's line editor asks where the cursor is after each prompt:
    # ESC [6n is the prompt's, not output before the next echo)
    marker = re.compile(re.escape(shown[:-1]) + r" ?(?:\x1b\[6n)?")
    line = unique_prompt_command(token)
    what = f"the line that sets the unique prompt ({len(line)} characters)"
    # (one line, as execute sends it: a CR LF linesep's second Enter would bring
    # one more prompt, taken for the end of the first command's answer)
    await send_timed(session, deadline, lambda: session.send(one_enter(session, line)), what)
    await _expect_dropping(session, marker, len(shown), deadline)
    session.set_prompt(marker)
    state = state_of(session)
    state.continuation = re.compile(re.escape(f"[aioexpect-{token}]>") + " ?")
    state.unique = marker
    in_step(state)
    if auto_driver(session):
        session.driver = _driver.get("shell")


async def _expect_dropping(
    session: Session, marker: re.Pattern[str], width: int, deadline: Deadline
) -> Match:
    """The new prompt (``marker``, ``width`` characters as shown).  Past
    ``max_buffer`` (the echo of the line, some 370 characters, or the rest of
    a flood) what does not fit is dropped, as ``execute``'s catch-up drops
    it, but for the tail where the marker may begin: the last ``width - 1``
    characters (the matcher holds a match back while its optional space may
    still come) or, where that is more, ``EVIDENCE`` or half the buffer (the
    last characters an error quotes).  A ``max_buffer`` narrower than the
    marker can never hold it: ``BufferFull`` says so."""
    what = "the unique prompt (is this an interactive POSIX shell?)"
    while True:
        try:
            return await expect_named(session, [marker], deadline, what)
        except BufferFull as exc:
            n = len(session._buffer)
            if n < width:
                raise BufferFull(
                    f"max_buffer={session.max_buffer} cannot hold the unique prompt"
                    f" ({width} characters): give the session a larger one",
                    before=exc.before,
                    patterns=exc.patterns,
                ) from None
            gone = take_all(session, n - max(width - 1, min(EVIDENCE, n // 2)))
            session.log.debug("dropped %d characters before the unique prompt", len(gone))
