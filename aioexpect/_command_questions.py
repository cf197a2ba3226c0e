"""The questions a command asks instead of ending at a prompt
(``[confirm]``, ``[yes/no]``, ``Destination filename [startup-config]?``):
what ``execute`` says of one, and whether the text not read yet ends with
one (it sends nothing into it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._prompt_read import QUESTION_TAIL, question_kind, question_line, state_of
from ._prompt_text import CONFIRM
from ._ways_out import WAYS_OUT

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["command_question", "question_unread"]


def command_question(session: Session, text: Any) -> str | None:
    """What a time-out whose ``text`` ends with a question a command asks
    (``CONFIRM``: ``[confirm]``, ``[yes/no]``, ``Destination filename
    [startup-config]?``) adds to its message: the question, quoted from its
    line's start as ``question_line`` does, and the way out; ``None`` if it
    ends with none, or with a login question (``read_to_prompt`` names it).
    Where it was named before and something was sent since, nothing
    received (``PromptState.asked``), it was answered: the way out is to
    wait, not to answer again.  ``text`` ends where the buffer does."""
    if not isinstance(text, str):
        return None
    tail = text[-QUESTION_TAIL:]
    if CONFIRM.search(tail) is None or question_kind(session, tail) is not None:
        return None
    asked = question_line(session, text)
    state, end = state_of(session), session._buffer.consumed + len(session._buffer)
    if state.asked is not None and state.asked[0] == end and session.bytes_out > state.asked[1]:
        why = "and was sent something since (an answer), but no prompt came"
        return f"; the peer asked {asked!r} {why}: {ANSWERED}"
    if state.asked is None or state.asked[0] != end:
        state.asked = (end, session.bytes_out)
    return f"; the peer asks {asked!r}, which is no prompt: {WAYS_OUT['confirm']}"


#: What to do about a question a command asks that was answered (something
#: was sent since it was named, nothing has come since).
ANSWERED = (
    "wait for the prompt with expect_prompt() (the command may take a while; a"
    " later execute waits for it too, before sending), or stop the command with"
    " sendintr(); do not answer again: more keys would go to what the command does next"
)


def question_unread(session: Session) -> str | None:
    """``command_question`` of the text not read yet (the buffer): a search
    of its last ``QUESTION_TAIL`` characters, none where it is empty; the
    whole buffer only where that finds one (for the quote, masked)."""
    size = len(session._buffer)
    if not size or CONFIRM.search(session._buffer.tail_from(size - QUESTION_TAIL)) is None:
        return None
    return command_question(session, session.buffer)
