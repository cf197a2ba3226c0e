"""``execute``'s send of a long command, bounded by its deadline."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ._exceptions import ExpectTimeout
from ._prompt_read import Deadline, owe, prompts_of, shown_command

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["ALWAYS_FITS", "send_long"]


async def send_long(session: Session, command: str, deadline: Deadline) -> None:
    """Send a long ``command`` by the deadline: a peer that reads no input (a
    hung program, a device that stopped reading) has a send wait for room in
    its buffers for ever, and ``timeout`` bounds every wait of ``execute``.
    A command that fits the smallest of them (``ALWAYS_FITS``: a pty holds
    4 KiB, a pipe 64, an SSH window megabytes) is sent without a timer (one
    costs 6% of an execute): it finds them empty, every earlier line read to
    its prompt by ``_sync``.  Cut short (cancelled, or out of time: an
    ``ExpectTimeout`` saying so), the rest of the line is written all the
    same, and the next ``execute`` reads to the prompt that answers it
    first."""
    limit = asyncio.timeout_at(deadline.end)
    try:
        async with limit:
            try:
                await session.sendline(command)
            except asyncio.CancelledError:
                owe(session)
                raise
    except TimeoutError:
        if not limit.expired():
            raise
        shown = shown_command(session, command)
        raise ExpectTimeout(
            f"command {shown!r} ({len(command)} characters) not sent whole: timed out with"
            " the peer reading no input (the rest goes on being sent; the next execute"
            " first waits for the prompt that answers it)",
            before=session.buffer,
            patterns=prompts_of(session),
        ) from None


#: The longest command sent without a timer (see ``send_long``).
ALWAYS_FITS = 1024
