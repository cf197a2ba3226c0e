"""An execute cancelled in the window after Rule 1 of ``_typed`` stopped
short of an empty line's prompt (``PromptState.empties_at`` noted: that
line's echo may still come in front of the command's answer).

Cancelled once its command was sent, before its answer was read (the
peer holds it): the note is the command's sent next only (Rule 2 takes it
where the last send before a command is the one noted, and the cancelled
command's own send comes after it); the empty line's late echo and
prompt, and the cancelled command's answer, are read by the catch-up
(``_stale.late_answer``) or dropped by the echo rule, wherever they come.

Cancelled before its command was sent (in the look past the answer of a
command typed ahead into an earlier one, ``_prompt._past_typed_ahead``),
the note stands for the next command: right where the empty line's
answer comes late in front of it, but where that answer was read by then
(the next execute's catch-up) and the command's own answer is a bare line
end (its echo gone), that answer was dropped as the empty line's, and
execute timed out waiting for one more prompt.  A bare line end is an
empty line's only where something follows its prompt (the command's echo).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from aioexpect import _typed_echo
from aioexpect._prompt_read import state_of

from .helpers import opened, wait_until
from .test_execute_ahead import _answered, _answers_with_their_echo, _read_to, _stopped_short

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
        cancelled = await _stopped_short(s, peer)  # (the empty line's answer held)
        assert state_of(s).empties_at == s._sends[-2][2]  # (noted for 'show b')
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await peer.write(before)
        if read_between:
            await s.expect_prompt()
        await _answered(s, peer, "show c", with_it + b"show c\r\nCCC\r\nr1#", "CCC\n")
        await _answered(s, peer, "show a", b"show a\r\nAAA\r\nr1#", "AAA\n")


async def _cancelled(task: asyncio.Future[Any]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize(
    ("late", "answer", "output"),
    [
        (b"\r\nr1#", b"\r\nr1#", "\n"),  # (the echo gone: a bare answer, its own)
        (b"", b"\r\nr1#show c\r\nCCC\r\nr1#", "CCC\n"),  # (the empty line's late answer first)
    ],
    ids=["read-by-then", "late"],
)
async def test_an_execute_cancelled_before_sending_after_rule_1_stopped_short(
    late: bytes, answer: bytes, output: str, caplog: pytest.LogCaptureFixture
) -> None:
    # 'show a1' typed into 'show a0''s answer (given up on, partly read),
    # itself given up on; 'show x' and an empty line sent ahead.  'show b'
    # reads a0's prompt, Rule 1 stops short (the note), then looks past the
    # typed-ahead answer, and is cancelled there, 'show b' unsent.  The old
    # code dropped 'show c''s bare answer as the empty line's and timed out
    # ('read-by-then'); where that answer is late, it is dropped ('late').
    async with opened(timeout=3) as (s, peer):
        await _cancelled_before_sending(s, peer, caplog)
        await peer.write(b"show a1\r\nA1\r\nr1#show x\r\nX\r\nr1#" + late)
        await _answered(s, peer, "show c", answer, output)
        await _answered(s, peer, "show a", b"show a\r\nAAA\r\nr1#", "AAA\n")


async def _cancelled_before_sending(s: Any, peer: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The case above, up to 'show b' cancelled unsent, the note standing."""
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    await _answers_with_their_echo(s, peer)
    first = asyncio.ensure_future(s.execute("show a0"))
    await _read_to(peer, b"show a0\n")
    await _cancelled(first)
    await peer.write(b"show a0\r\n")
    await s.expect_exact("show a0\r\n")
    ahead = asyncio.ensure_future(s.execute("show a1"))  # (typed into a0's answer)
    await _read_to(peer, b"show a1\n")
    await _cancelled(ahead)
    await s.send("show x\n\n")
    await _read_to(peer, b"show x\n\n")
    await peer.write(b"A0\r\nr1#")
    looking = asyncio.ensure_future(s.execute("show b"))
    await wait_until(lambda: "typed into an earlier answer" in caplog.text, "the look")
    assert state_of(s).empties_at == s._sends[-1][2]  # (noted; 'show b' not sent)
    await _cancelled(looking)


@pytest.mark.parametrize("rest", [b"", b"show c\r\nCCC\r\nr1#"], ids=["own", "late"])
async def test_an_execute_cancelled_waiting_for_what_follows_a_bare_answer(
    rest: bytes, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As above, 'show c''s answer a bare line end, nothing after its
    # prompt yet: execute waits for what follows it (the echo: the bare
    # one was the empty line's), and is cancelled there.  The old code
    # left a prompt owed: the next execute waited for one that never came
    # and timed out, 'show a' unsent.  The session is at that prompt, as
    # after the wait for an early answer's rest (``_stale``); 'show c''s
    # answer, if it comes late after all, is read past as ever.
    monkeypatch.setattr(_typed_echo, "STALE_WAIT", 30.0)  # (cancelled inside the wait)
    async with opened(timeout=3) as (s, peer):
        await _cancelled_before_sending(s, peer, caplog)
        await peer.write(b"show a1\r\nA1\r\nr1#show x\r\nX\r\nr1#\r\nr1#")
        running = asyncio.ensure_future(s.execute("show c"))
        await _read_to(peer, b"show c\n")
        read = s._buffer.consumed
        await peer.write(b"\r\nr1#")
        await wait_until(lambda: s._buffer.consumed > read, "the bare answer read")
        await _cancelled(running)
        await _answered(s, peer, "show a", rest + b"show a\r\nAAA\r\nr1#", "AAA\n")
        await _answered(s, peer, "show b", b"show b\r\nBBB\r\nr1#", "BBB\n")
