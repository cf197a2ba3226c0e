"""execute() and a question a command asks instead of ending at a prompt
(IOS's ``[confirm]``, ``Destination filename [startup-config]?``, a
``[yes/no]``): its time-out names the question and the way out, and no
later execute types its command into it while it stands unanswered."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from aioexpect import ExpectTimeout
from aioexpect.testing import VirtualDevice, ask, serve_ssh, serve_telnet

from .helpers import opened, typed_lines, wait_until
from .test_virtual_device import connect as connect_to

CLOCK = "*12:04:11.372 UTC Mon Nov 2 2026"
CONFIRM = 'Clear "show interface" counters on all interfaces [confirm]'


def asking_router() -> VirtualDevice:
    """A router whose ``clear counters`` asks ``[confirm]`` (one key) and
    ``copy running-config startup-config`` a file name (a line), and says
    what it was answered."""

    async def clear(command: str, m: re.Match[str]) -> str:
        return f"answered {await ask(CONFIRM, key=True)!r}"

    async def copy(command: str, m: re.Match[str]) -> str:
        name = await ask("Destination filename [startup-config]? ")
        return f"Building configuration...\n[OK] {name or 'startup-config'}"

    commands: dict[str, Any] = {
        "clear counters": clear,
        "copy running-config startup-config": copy,
        "show clock": CLOCK,
    }
    return VirtualDevice("r1", prompt="r1#", commands=commands)


@pytest.mark.parametrize(
    ("serve", "command", "question", "answer", "answered"),
    [
        (serve_ssh, "clear counters", CONFIRM, "y", "answered 'y'"),
        (serve_telnet, "clear counters", CONFIRM, "y", "answered 'y'"),
        (
            serve_ssh,
            "copy running-config startup-config",
            "Destination filename [startup-config]?",
            "\n",
            "[OK] startup-config",
        ),
    ],
    ids=["confirm-ssh", "confirm-telnet", "filename-ssh"],
)
async def test_a_question_is_named_and_never_typed_into(
    serve: Any, command: str, question: str, answer: str, answered: str
) -> None:
    # The second execute said "not sent" (the question taken for a prompt no
    # pattern knows); the third was typed into the question: its first key
    # answered [confirm], or the whole line became the file name.
    async with serve(asking_router()) as server, connect_to(serve, server) as s:
        with pytest.raises(ExpectTimeout) as info:
            await s.execute(command, timeout=0.5)
        message = str(info.value)
        assert "waiting for the prompt of driver 'ios'" in message  # the evidence stays
        assert f"asks {question!r}" in message  # quoted from its line's start
        assert "expect_prompt()" in message and "sendintr()" in message
        for _ in range(2):
            with pytest.raises(ExpectTimeout) as refused:
                await s.execute("show clock", timeout=10)
            assert str(refused.value).startswith("command 'show clock' not sent:")
            assert f"asks {question!r}" in str(refused.value)
            assert s.buffer.rstrip().endswith(question)  # still asked, from its line's start
        await s.send(answer)  # the way out it names
        assert answered in (await s.expect_prompt()).before
        assert await s.execute("show clock") == f"{CLOCK}\n"


async def test_an_answer_sent_then_execute_goes_on_as_before() -> None:
    async with serve_ssh(asking_router()) as server, connect_to(serve_ssh, server) as s:
        with pytest.raises(ExpectTimeout):
            await s.execute("clear counters", timeout=0.5)
        await s.send("y")  # answered; the prompt not read
        assert await s.execute("show clock") == f"{CLOCK}\n"
        assert await s.execute("show clock") == f"{CLOCK}\n"


async def test_sendintr_stops_the_question() -> None:
    async with serve_telnet(asking_router()) as server, connect_to(serve_telnet, server) as s:
        with pytest.raises(ExpectTimeout, match="sendintr"):
            await s.execute("clear counters", timeout=0.5)
        await s.sendintr()
        await s.expect_prompt()
        assert await s.execute("show clock") == f"{CLOCK}\n"


@pytest.mark.parametrize(
    "question",
    ["Are you sure you want to continue connecting (yes/no)? ", "Continue? [y/N]: "],
)
async def test_a_fresh_session_asking_a_question_gets_no_command(question: str) -> None:
    # drivers.rst said the execute after the time-out is sent: into the question.
    async with opened(timeout=5) as (s, peer):
        await peer.write(question.encode())
        for _ in range(2):
            with pytest.raises(ExpectTimeout, match="not sent") as info:
                await s.execute("show clock")
            assert f"asks {question.strip()!r}" in str(info.value)
        await s.sendline("yes")
        lines = typed_lines(peer)
        assert await anext(lines) == "yes"  # the first line the peer got


async def test_a_question_answered_by_more_output_within_the_wait_is_read_on() -> None:
    async with opened(timeout=10) as (s, peer):
        await peer.write(b"r1#")
        await s.expect_prompt()
        lines = typed_lines(peer)
        first = asyncio.ensure_future(s.execute("first", timeout=0.5))
        assert await anext(lines) == "first"
        await peer.write(b"first\r\nSave? [yes/no]: ")
        with pytest.raises(ExpectTimeout, match=r"asks 'Save\? \[yes/no\]:'"):
            await first
        # The device answers the question itself (or output only paused there).
        second = asyncio.ensure_future(s.execute("second"))
        await wait_until(lambda: s.waiting_for is not None, "execute looks past the question")
        await peer.write(b"yes (auto)\r\nsaved\r\nr1#")
        assert await anext(lines) == "second"
        await peer.write(b"second\r\nok\r\nr1#")
        assert await asyncio.wait_for(second, 10) == "ok\n"


async def test_text_that_only_contains_a_question_is_no_question() -> None:
    async with opened(timeout=10) as (s, peer):
        await peer.write(b"r1#")
        await s.expect_prompt()
        lines = typed_lines(peer)
        # In the middle of a line, or on a line of its own before the prompt.
        running = asyncio.ensure_future(s.execute("show"))
        assert await anext(lines) == "show"
        await peer.write(b"show\r\nSave? [yes/no] later\r\nfile [x]?\r\nr1#")
        assert await running == "Save? [yes/no] later\nfile [x]?\n"
        # A time-out whose text ends in the middle of a line past a question's
        # text: a prompt no pattern knows, as before; one execute fails, not all.
        first = asyncio.ensure_future(s.execute("first", timeout=0.3))
        assert await anext(lines) == "first"
        await peer.write(b"first\r\nProceed? [confirm] y")
        with pytest.raises(ExpectTimeout) as info:
            await first
        assert "asks" not in str(info.value)
        with pytest.raises(ExpectTimeout, match="not sent") as info:
            await s.execute("second", timeout=0.3)
        assert "asks" not in str(info.value)
        third = asyncio.ensure_future(s.execute("third"))
        assert await anext(lines) == "third"
        await peer.write(b"third\r\nok\r\nr1#")
        assert await asyncio.wait_for(third, 10) == "ok\n"


async def test_a_question_named_shows_no_secret() -> None:
    async with opened(timeout=10) as (s, peer):
        await peer.write(b"r1#")
        await s.expect_prompt()
        lines = typed_lines(peer)
        await s.send_secret("hunter2")
        assert await anext(lines) == "hunter2"
        await peer.write(b"\r\nr1#")
        await s.expect_prompt()
        first = asyncio.ensure_future(s.execute("wipe", timeout=0.5))
        assert await anext(lines) == "wipe"
        await peer.write(b"wipe\r\nhunter2: Delete filename [hunter2]? ")
        with pytest.raises(
            ExpectTimeout, match=r"asks '\*{8}: Delete filename \[\*{8}\]\?'"
        ) as info:
            await first
        with pytest.raises(ExpectTimeout, match=r"not sent: the peer asks '\*{8}: Delete") as again:
            await s.execute("show clock", timeout=5)
        for error in (info.value, again.value):
            assert "hunter2" not in str(error)
