"""An ``execute`` cancelled while it reads on to the prompts of lines typed
before it (``sendline``, or a send cut short: Rule 1 of ``_typed``).

The count of prompts owed that it had taken was not put back: the next
``execute`` read to one prompt only (the one owed since the cancel), sent
its command, and returned the answer to a line typed before as its own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import pytest

import aioexpect
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


async def cancelled_at_its_wait(
    s: aioexpect.Session, reached: Callable[[], bool] = lambda: True, what: str = ""
) -> None:
    """An ``execute('echo hi')`` cancelled at its wait (a few loop turns
    after ``reached()``, what it did first, holds)."""
    task: asyncio.Future[Any] = asyncio.ensure_future(s.execute("echo hi", timeout=60))
    await wait_until(reached, what)
    for _ in range(3):  # (at its wait)
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


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
            await cancelled_at_its_wait(s, lambda: s.buffer == "", "the first prompt read")
        go()
        assert await s.execute("echo ok", timeout=60) == "ok\n"
        assert await s.execute("echo two") == "two\n"
        if lines is not None:  # ('echo hi' was never sent)
            assert [*lines[:3], *lines[4 if cut else 3 :]] == [
                *(b"echo " + w for w in (b"a", b"b", b"c")),
                b"echo ok",
                b"echo two",
            ]


#: A shell whose ``page`` shows a pager (``--More--``) and, once the key
#: that answers it came, holds the rest of its answers until SIGUSR1.
PAGER_CHILD = r"""
import os, signal, termios
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
mode = termios.tcgetattr(0)
mode[3] &= ~(termios.ECHO | termios.ICANON)
termios.tcsetattr(0, termios.TCSANOW, mode)
pending = b""
def line():
    global pending
    while b"\n" not in pending:
        pending += os.read(0, 1024)
    got, _, pending = pending.partition(b"\n")
    return got.decode().rstrip("\r")
os.write(1, b"$ ")
while True:
    got = line()
    if got == "page":
        os.write(1, b"p1\r\n --More-- ")
        pending += os.read(0, 1024)[1:]  # (the key, after the lines typed ahead)
        signal.sigwait({signal.SIGUSR1})
        os.write(1, b"\r\np2\r\n$ ")
    else:
        os.write(1, (got[5:] if got.startswith("echo ") else "?").encode() + b"\r\n$ ")
"""


@pytest.mark.parametrize("reader", ["execute", "expect_prompt"])
async def test_a_read_cancelled_after_answering_a_pager_leaves_the_lines_owed(
    reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An execute's catch-up answered a pager (a send of its own, the last
    # one), then was cancelled: taking that send for the lines' own, nothing
    # read since, the count was dropped, and the next execute returned 'b'
    # for 'echo ok'.  An expect_prompt reading to the second line's prompt
    # did the same: having read the page, the count it took was stale, and
    # 'echo ok' was sent at once and returned 'c'.
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (answers slow here)
    async with aioexpect.spawn(sys.executable, ["-c", PAGER_CHILD], timeout=10) as s:
        s.set_prompt(r"(?m)^\$ ")
        await s.expect(r"\$ ")
        if reader == "execute":
            await s.send("page\necho b\necho c\n")
            reading = s.execute("echo hi", timeout=60)
        else:
            await s.send("echo a\npage\necho c\n")
            assert (await s.expect_prompt()).before.strip() == "a"
            reading = s.expect_prompt()
        task = asyncio.ensure_future(reading)
        await wait_until(lambda: s._sends[-1][0] == " ", "the pager answered")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        os.kill(s.pid, signal.SIGUSR1)
        assert [await s.execute(f"echo {word}") for word in ("ok", "two")] == ["ok\n", "two\n"]
