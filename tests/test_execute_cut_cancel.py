"""An ``execute`` cancelled while it reads on to the prompts of lines typed
before it (``sendline``, or a send cut short: Rule 1 of ``_typed``).

The count of prompts owed that it had taken was not put back: the next
``execute`` read to one prompt only (the one owed since the cancel), sent
its command, and returned the answer to a line typed before as its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aioexpect import _typed

from . import test_execute_cut
from .helpers import wait_until
from .test_execute_cut import CUT, PEERS, Read, Write

THREE = "echo a\necho b\necho c\n"

#: ``test_execute_cut.CHILD``, holding its answers after the first until
#: told again (SIGUSR1).
HELD_CHILD = test_execute_cut.CHILD.replace(
    "    sys.stdout.flush()\n",
    "    sys.stdout.flush()\n"
    "    if not globals().get('held'):\n"
    "        held = True\n"
    "        signal.sigwait({signal.SIGUSR1})\n",
)
SHELL = test_execute_cut.shell


async def held_shell(read: Read, write: Write, go: asyncio.Event, lines: list[bytes]) -> None:
    """``test_execute_cut.shell``, holding its answers after the first
    until told again (``go``)."""
    answers = 0

    async def held(data: bytes) -> None:
        nonlocal answers
        if data != b"$ ":  # (the first prompt)
            answers += 1
            if answers == 2:
                await go.wait()
        await write(data)
        if answers == 1:
            go.clear()

    await SHELL(read, held, go, lines)


@pytest.mark.parametrize("kind", list(PEERS))
@pytest.mark.parametrize("cut", [False, True], ids=["sendline", "cut short"])
@pytest.mark.parametrize("first", ["buffered", "expect_prompt"])
@pytest.mark.parametrize("cancels", [1, 2])
async def test_an_execute_cancelled_reading_the_prompts_of_lines_typed_leaves_them_owed(
    kind: str, cut: bool, first: str, cancels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three lines typed, the first answered: the old code's next execute
    # returned 'c\n' ('?100000\n' after a send cut short), the answer to a
    # line typed before it.  Rule 1's wait made one a slow peer always meets.
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)
    monkeypatch.setattr(test_execute_cut, "shell", held_shell)
    monkeypatch.setattr(test_execute_cut, "CHILD", HELD_CHILD)
    async with PEERS[kind]() as (s, go, lines):
        s.set_prompt(r"(?m)^\$ ")
        await s.expect(r"\$ ")
        if cut:
            with pytest.raises(TimeoutError):  # (the caller's own time-out)
                await asyncio.wait_for(s.send(THREE + "x" * CUT[kind] + "\n"), 0.5)
            go()
        else:
            go()
            await s.send(THREE)
        await wait_until(lambda: s.buffer.endswith("$ "), "the first line answered")
        if first == "expect_prompt":  # (reads the first prompt, leaves the rest owed)
            assert (await s.expect_prompt(timeout=10)).before.strip() == "a"
        for _ in range(cancels):  # (the second catching up to the prompt owed)
            task: asyncio.Future[Any] = asyncio.ensure_future(s.execute("echo hi", timeout=60))
            await wait_until(lambda: s.buffer == "", "the first prompt read")
            for _ in range(3):  # (at its wait for the next prompt)
                await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        go()
        assert await s.execute("echo ok", timeout=60) == "ok\n"
        assert await s.execute("echo two") == "two\n"
        if lines is not None:  # ('echo hi' was never sent)
            assert [*lines[:3], *lines[4 if cut else 3 :]] == [
                *(b"echo " + w for w in (b"a", b"b", b"c")),
                b"echo ok",
                b"echo two",
            ]
