"""Sends bounded by a call's deadline (``execute``'s command, a login's
answers, ``set_unique_prompt``'s line), and the sends cut short that make
them wait."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ._canonical import NO_LINE
from ._exceptions import ExpectTimeout
from ._prompt_read import Deadline, owe, prompts_of, state_of
from ._typed import at_terminal, cr_enters, put_back, written

if TYPE_CHECKING:
    from ._session import Session

__all__ = [
    "ALWAYS_FITS",
    "REST_UNSENT",
    "cut_short",
    "enter",
    "one_enter",
    "rest_written",
    "send_timed",
    "sent_key",
]


def one_enter(session: Session, line: str) -> str:
    """``line`` as ``execute`` (and ``set_unique_prompt``, ``login``) sends
    it: with ``linesep``, as ``sendline`` does, but one line where a
    terminal takes that for more (``at_terminal``): a CR LF goes as CR, a
    terminal's Enter key (as telnet sends it in binary mode).  Sent whole,
    its second Enter brings an empty line's prompt, taken for the end of the
    next answer (or, in a login, for the answer to the next question).
    Where CR is no Enter, a pty in canonical mode without ICRNL (``stty
    -icrnl``, a program reading lines), the line ends at the LF only: a CR
    LF goes as LF, else the program reads the CR as the line's last
    character (``cmd\r``: bash's ``eval`` runs no ``cmd``, a login name is
    ``admin\r``)."""
    return line + enter(session)


def enter(session: Session) -> str:
    """The line end ``one_enter`` sends: ``linesep``, or one Enter of it
    (the CR of a CR LF, or its LF where CR is no Enter: ``cr_enters``, the
    terminal's flags as they are now)."""
    linesep = session.linesep
    if linesep != "\n" and "\r\n" in linesep and at_terminal(session):
        linesep = linesep.replace("\r\n", "\r" if cr_enters(session) else "\n")
    return linesep


def cut_short(session: Session) -> None:
    """A send (or a key) was cut short (cancelled: the caller's own
    time-out).  Its rest is still written: it counts as a send (the next
    ``execute`` owes a prompt first, one for each line it ends, however
    long: ``count_long``), and it may still be under way, the peer reading
    none of it (``send_timed``)."""
    session._sent_at = session._buffer.consumed
    state_of(session).cut = True


#: Why ``execute`` sent nothing, its catch-up out of time while a send cut
#: short is not written whole yet (``rest_written``).
REST_UNSENT = (
    " (a send cut short before it is not written whole yet, the peer reading no input:"
    " it goes on being sent, and the next execute first waits for the prompts that answer it)"
)


async def rest_written(
    session: Session,
    typed: tuple[int, str | None],
    carried: tuple[tuple[int, str | None, int] | None, int],
    cancelled: bool,
) -> None:
    """A catch-up cancelled or out of time, having read no prompt: the
    prompts owed stay as they were (``put_back``: the count ``typed_due``
    took, ``typed``, of which ``carried`` came from ``state.typed``, with
    what was consumed when it was taken).  Out of time after a send cut
    short, if what it left queued is written by now (an empty write returns
    at once, see ``send_timed``), nothing is cut short any more, and the
    text received is read as after any send (a prompt no pattern knows is
    taken once, not waited for again at every ``execute``)."""
    state = state_of(session)
    put_back(session, state, typed, *carried)
    if not cancelled and state.cut:
        await written(session, state, Deadline(0))


async def sent_key(session: Session, sending: Awaitable[None]) -> None:
    """``sendeof``'s or ``sendintr``'s ``sending`` (a key, a signal, a
    close): done, the line the peer held is handed over or discarded, and
    it counts as a send; cut short, the same once the key is written (the
    next send goes behind it), see ``cut_short``."""
    try:
        await sending
    except asyncio.CancelledError:  # (the key still goes: the line is gone as well)
        session._pending_line = NO_LINE
        cut_short(session)
        raise
    session._pending_line, session._sent_at = NO_LINE, session._buffer.consumed


async def send_timed(
    session: Session, deadline: Deadline, send: Callable[[], Awaitable[None]], what: str
) -> None:
    """``send()`` by the deadline: a peer that reads no input (a hung
    program, a device that stopped reading) has a send wait for room in its
    buffers for ever, and a call's ``timeout`` bounds every wait.  After a
    send cut short (``cut_short``), nothing is handed over until what it
    left queued is written: a transport would queue it behind, or not.  Out
    of time, ``ExpectTimeout`` says so, naming ``what`` was not sent (or
    not whole: its rest is written all the same); cut short either way, the
    next ``execute`` first reads to the prompt that answers what was sent.

    ``execute`` sends a command that fits the smallest of the buffers
    (``ALWAYS_FITS``: a pty holds 4 KiB, a pipe 64, an SSH window
    megabytes) without this timer (one costs 6% of an execute): it finds
    them empty, every earlier line read to its prompt by ``_sync``.  Not so
    after more than that was sent since its last command (a prompt buffered
    before the caller's send, taken for its answer, proves nothing read),
    nor after a send cut short."""
    state = state_of(session)
    limit = asyncio.timeout_at(deadline.end)
    waiting = state.cut
    try:
        async with limit:
            try:
                if waiting:  # (an empty write returns once what is queued is taken)
                    await session.transport.write(b"")
                    state.cut = waiting = False
                await send()
            except asyncio.CancelledError:
                owe(session)
                raise
    except TimeoutError:
        if not limit.expired():
            raise
        if waiting:
            why = (
                f"{what} not sent: timed out waiting for the rest of a send cut short"
                " before it to be written, the peer reading no input (that goes on being"
                " sent; the next execute first waits for the prompt that answers it)"
            )
        else:
            why = (
                f"{what} not sent whole: timed out with the peer reading no input (the rest"
                " goes on being sent; the next execute first waits for the prompt that"
                " answers it)"
            )
        raise ExpectTimeout(why, before=session.buffer, patterns=prompts_of(session)) from None


#: The longest command ``execute`` sends without a timer (see
#: ``send_timed``), with what was sent since its last one.
ALWAYS_FITS = 1024
