"""An execute cancelled in the window after Rule 1 of ``_typed`` stopped
short of an empty line's prompt (``PromptState.empties_at`` noted: that
line's echo may still come in front of the command's answer) and before
its answer was read: the peer holds it.

The note is the command's sent next only: Rule 2 takes it where the last
send before a command is the one noted, and the cancelled command's own
send comes after it, so the next execute does not take the note for
itself; the empty line's late echo and prompt, and the cancelled command's
answer, are read as the catch-up (``_stale.late_answer``) and Rule 2's
echo rule read them, wherever they come.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aioexpect._prompt_read import state_of

from .helpers import opened
from .test_execute_ahead import _answers_with_their_echo, _read_to

#: The empty line's late echo and prompt, then the cancelled command's answer.
EMPTY, SHOW_B = b"\r\nr1#", b"show b\r\nBBB\r\nr1#"


@pytest.mark.parametrize(
    ("before", "with_it", "read_between"),
    [
        (EMPTY + SHOW_B, b"", False),  # (all before the next execute)
        (EMPTY, SHOW_B, False),  # (the cancelled answer in front of the next one's)
        (EMPTY, SHOW_B, True),  # (the caller reads a prompt in between)
        (EMPTY + SHOW_B, b"", True),
    ],
    ids=["both-before", "answer-with-next", "read-empty", "read-both"],
)
async def test_an_execute_cancelled_after_rule_1_stopped_short(
    before: bytes, with_it: bytes, read_between: bool
) -> None:
    async with opened(timeout=5) as (s, peer):
        await _answers_with_their_echo(s, peer)
        await s.send("show x\n\n")
        await _read_to(peer, b"show x\n\n")
        await peer.write(b"show x\r\nX\r\nr1#")  # (the empty line's answer held)
        cancelled = asyncio.ensure_future(s.execute("show b"))
        await _read_to(peer, b"show b\n")  # (sent: Rule 1 stopped short within the wait)
        assert state_of(s).empties_at == s._sends[-2][2]  # (noted for 'show b')
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await peer.write(before)
        if read_between:
            await s.expect_prompt()
        await _answered(s, peer, "show c", with_it + b"show c\r\nCCC\r\nr1#", "CCC\n")
        await _answered(s, peer, "show a", b"show a\r\nAAA\r\nr1#", "AAA\n")


async def _answered(s: Any, peer: Any, command: str, answer: bytes, output: str) -> None:
    running = asyncio.ensure_future(s.execute(command))
    await _read_to(peer, command.encode() + b"\n")
    await peer.write(answer)
    assert await running == output
