"""What ``interact`` (and the console's ``attach``) leave a session's prompt
state in: the output went to the person, not into the buffer, so what the
person saw last says whether the next ``execute`` is at a prompt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._prompt_read import at_prompt, guess_driver, in_step, owe, prompts_ending, state_of
from ._typed import forget

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["interacted"]


def interacted(session: Session, tail: Any, typed: bool, sent: bool) -> None:
    """After ``interact``/``attach``: a line typed since the output last
    ended at a prompt, or output that does not end at one, means a command
    may still answer (or the person left a half-typed line, or a program
    that is not the shell): the next ``execute`` waits for a prompt.
    Otherwise what was sent before, by the person (``sent``) or by the
    program, was answered if the output shown ended at a prompt: it is not
    taken for the caller's unanswered send, and the session is at that
    prompt, as if the caller had read it, also a fresh one whose first
    prompt the person saw (``driver="auto"`` settled from what they saw
    last).  Either way none of the lines sent before is counted, nor taken
    for an echo (``_typed``): the person saw their answers."""
    forget(session)
    if isinstance(tail, str) and (typed or (tail and not at_prompt(session, tail))):
        owe(session)
        return
    if sent or tail:
        session._sent_at = None
    if isinstance(tail, str) and tail:  # (at a prompt, nothing typed after it)
        guess_driver(session, tail, _last_prompt(session, tail))
        in_step(state_of(session))


def _last_prompt(session: Session, tail: str) -> str | None:
    """The prompt ``tail`` ends with, nothing visible after it: the longest
    any pattern finds there that ``fits`` (``None``: none)."""
    return max(prompts_ending(session, tail), key=len, default=None)
