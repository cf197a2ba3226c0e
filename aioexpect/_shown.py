"""What ``interact`` (or the console's ``attach``) showed last: the output
went to the person, not into the buffer, so a wait for a prompt that times
out after it would quote nothing ("last characters received: ''").  Its
evidence starts with what the person saw, until the program reads on."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["NOTE", "keep", "shown"]

#: (``Buffer.consumed`` when the bridge ended, the end of what it showed, as it
#: came: masked when quoted, with what came after it, which may end a secret
#: it holds the start of)
_last: weakref.WeakKeyDictionary[Any, tuple[int, str]] = weakref.WeakKeyDictionary()

#: Said after evidence that starts with what a bridge showed.
NOTE = " (what came during interact() went to the terminal, not to the buffer)"


def keep(session: Session, text: Any) -> None:
    """The bridge ended having shown ``text`` last (stripped as the program
    reads it; long enough for a secret cut at its start to be masked whole,
    see ``tail_of``, which the evidence it starts is made with)."""
    if isinstance(text, str) and text:
        _last[session] = (session._buffer.consumed, text)
    else:  # (a bytes session: no prompts, no such message)
        _last.pop(session, None)


def shown(session: Session) -> str:
    """What the last bridge showed at its end, if the program read nothing
    since (its buffer then goes on from there); ``""`` otherwise."""
    last = _last.get(session)
    if last is None or last[0] != session._buffer.consumed:
        _last.pop(session, None)
        return ""
    return last[1]
