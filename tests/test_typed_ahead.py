"""execute() after a command typed into an answer still coming: the caller
read part of an overflowing answer itself (so nothing was waited for, as
documented), and the next execute sent its command into it.  Two answers
are outstanding then; a catch-up reads past the first prompt to the
second, when one follows, and leaves anything else where it is.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import aioexpect
from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

from .helpers import played, typed_lines, wait_until
from .test_execute import unique_bash
from .test_virtual_device import connect as connect_to

#: The record of a catch-up looking past its prompt (``_past_typed_ahead``).
LOOKS_PAST = "typed into an earlier answer"
LINK_UP = "%LINK-3-UPDOWN: Interface Gi0/1, changed state to up"


async def after_the_prompt(
    s: aioexpect.Session, running: Any, prompt: asyncio.Event, prompt_read: asyncio.Event
) -> str:
    """Await ``running`` (an ``execute``) once its catch-up is under way:
    ``prompt`` lets the device send the prompt it waits for, and
    ``prompt_read`` a message after it once it was read (a message in the
    same read would be no prompt: a prompt ends what was received)."""
    assert s.buffer  # (what the catch-up reads: empty once it read the prompt)
    task = asyncio.ensure_future(running)
    prompt.set()
    await wait_until(lambda: s.buffer == "" or task.done(), "the prompt was read")
    prompt_read.set()
    return await task


@pytest.mark.parametrize("typed", [["b"], ["b", "c"]], ids=["one", "two"])
async def test_a_command_typed_into_an_overflowing_answer_is_caught_up_with_too(
    typed: list[str],
) -> None:
    # Two answers were outstanding, but one prompt owed: the catch-up
    # stopped at the flood's, and every later execute returned the answer
    # of the one before ('b\n' for echo c, 'echo c\nc\n' for echo d).  With
    # two typed ahead, the look past the flood's prompt read one more only.
    async with unique_bash(max_buffer=4096) as s:
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("seq 1 600000")
        for word in typed:
            await s.expect(aioexpect.FULL_BUFFER)  # the caller reads a piece itself
            with pytest.raises(aioexpect.BufferFull):
                await s.execute(f"echo {word}")  # typed into the flood, which overflows it
        assert [await s.execute(f"echo {w}") for w in "xyz"] == ["x\n", "y\n", "z\n"]


@pytest.mark.parametrize("serve", [serve_ssh, serve_telnet], ids=["ssh", "telnet"])
async def test_a_device_command_typed_into_an_overflowing_answer_is_caught_up_with(
    serve: Any,
) -> None:
    # A device echoes a line only once it reads it, after the flood's
    # prompt ('show c' returned 'show b\nANSWER-b\n', its echo and answer).
    flood = "\n".join(f"line {i:06d} " + "x" * 40 for i in range(20000))
    commands = {"flood": flood, r"show (\w+)": lambda c, m: f"ANSWER-{m.group(1)}"}
    async with (
        serve(VirtualDevice("r1", commands=commands)) as server,
        connect_to(serve, server, max_buffer=4096) as s,
    ):
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("flood")
        await s.expect(aioexpect.FULL_BUFFER)
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("show b")
        assert [await s.execute(f"show {w}") for w in "cd"] == ["ANSWER-c\n", "ANSWER-d\n"]


async def test_a_typed_ahead_command_whose_own_answer_overflows_is_caught_up_with() -> None:
    # The look past the flood's prompt stopped where the typed-ahead
    # command's own answer (seq 1 3000, 14 KB) filled max_buffer, and the
    # next command, typed into that answer, was not marked typed ahead: it
    # raised BufferFull, and every later execute returned the answer of the
    # one before ('c\n' for echo d, 'echo d\nd\n' for echo e).
    async with unique_bash(max_buffer=4096) as s:
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("seq 1 600000")
        await s.expect(aioexpect.FULL_BUFFER)  # the caller reads a piece itself
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("seq 1 3000")  # typed into the flood
        assert [await s.execute(f"echo {w}") for w in "cdef"] == ["c\n", "d\n", "e\n", "f\n"]


@pytest.mark.parametrize("serve", [serve_ssh, serve_telnet], ids=["ssh", "telnet"])
async def test_a_typed_ahead_device_command_whose_own_answer_overflows_is_caught_up_with(
    serve: Any,
) -> None:
    # Over SSH: ['BufferFull', 'show c\nANSWER-c\n', 'show d\nANSWER-d\n'].
    flood = "\n".join(f"line {i:06d} " + "x" * 40 for i in range(20000))
    medium = "\n".join(f"med {i:04d} " + "y" * 40 for i in range(200))  # 10 KB
    commands = {"flood": flood, "medium": medium, r"show (\w+)": lambda c, m: f"ANSWER-{m[1]}"}
    async with (
        serve(VirtualDevice("r1", commands=commands)) as server,
        connect_to(serve, server, max_buffer=4096) as s,
    ):
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("flood")
        await s.expect(aioexpect.FULL_BUFFER)
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("medium")  # typed into the flood
        got = [await s.execute(f"show {w}") for w in "cdef"]
        assert got == [f"ANSWER-{w}\n" for w in "cdef"]


async def test_a_command_sent_while_a_typed_ahead_answer_still_comes_is_typed_ahead() -> None:
    # The look past the flood's prompt gives up after a second while b's
    # answer still streams: 'show c' is typed into it.  It was not marked
    # so, and once c was given up on (cancelled), 'show d' caught up with
    # b's prompt only and returned c's answer ('show c\nANSWER-c\n').
    big = b"".join(b"line %06d %s\r\n" % (i, b"x" * 40) for i in range(150))
    flood_ends, prompt_read, b_ends = asyncio.Event(), asyncio.Event(), asyncio.Event()
    c_answers = asyncio.Event()

    async def device(peer: Any) -> None:
        await peer.write(b"r1#")
        async for command in typed_lines(peer):
            if command == "flood":
                await peer.write(b"flood\r\n" + big)
            elif command == "show b":  # typed into the running flood
                await flood_ends.wait()
                await peer.write(b"r1#")  # the flood's prompt
                await prompt_read.wait()
                await peer.write(b"show b\r\n")
                while not b_ends.is_set():  # an answer that streams on
                    await peer.write(b"b-progress\r\n")
                    await asyncio.sleep(0.05)
                await peer.write(b"ANSWER-b\r\nr1#")
            elif command == "show c":  # typed into b's answer
                await c_answers.wait()
                await peer.write(b"show c\r\nANSWER-c\r\nr1#")
            else:
                await peer.write(f"{command}\r\nANSWER-{command[5:]}\r\nr1#".encode())

    async with played(device, max_buffer=4096, timeout=5, driver="ios") as s:
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("flood")
        await s.expect(aioexpect.FULL_BUFFER)  # the caller reads a piece itself
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(s.execute("show b"), 0.3)  # typed ahead, cancelled
        async with asyncio.timeout(10):
            assert s.buffer  # (the flood's rest: empty once its prompt is read)
            sent = s.bytes_out
            c = asyncio.ensure_future(s.execute("show c"))
            flood_ends.set()
            await wait_until(lambda: s.buffer == "" or c.done(), "the prompt was read")
            prompt_read.set()
            await wait_until(lambda: s.bytes_out > sent or c.done(), "show c is sent")
            c.cancel()
            with pytest.raises(asyncio.CancelledError):
                await c
            assert s.buffer  # (b's answer so far)
            b_ends.set()
            d = asyncio.ensure_future(s.execute("show d"))
            await wait_until(lambda: s.buffer == "" or d.done(), "b's prompt was read")
            c_answers.set()
            assert await d == "ANSWER-d\n"
            assert await s.execute("show e") == "ANSWER-e\n"


@pytest.mark.parametrize("timeout", [None, 5.0])
async def test_a_message_after_the_prompt_of_a_typed_ahead_command_is_early_output(
    timeout: float | None,
) -> None:
    # A command typed into an overflowing answer that the device then
    # dropped: after the flood's prompt comes a syslog message, no second
    # prompt.  A catch-up that read on to a prompt after it waited for one
    # until its deadline (for ever with timeout=None), said the command
    # was not sent, and left every later one 'not sent'.  The message is
    # the next command's early output, as for any message after a prompt.
    big = b"".join(b"line %06d %s\r\n" % (i, b"x" * 40) for i in range(150))
    flood_ends, prompt_read = asyncio.Event(), asyncio.Event()

    async def device(peer: Any) -> None:
        await peer.write(b"r1#")
        async for command in typed_lines(peer):
            if command == "flood":
                await peer.write(b"flood\r\n" + big)
            elif command == "show b":  # dropped: typed while the flood ran
                await flood_ends.wait()
                await peer.write(b"r1#")
                await prompt_read.wait()
                await peer.write(f"\r\n{LINK_UP}\r\n".encode())
            else:
                await peer.write(f"{command}\r\nANSWER-{command[5:]}\r\nr1#".encode())

    async with played(device, max_buffer=4096, timeout=5) as s:
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("flood")
        await s.expect(aioexpect.FULL_BUFFER)  # the caller reads a piece itself
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.execute("show b", timeout=0.2)  # sent into the flood
        async with asyncio.timeout(10):
            running = s.execute("show c", timeout=timeout)
            answer = await after_the_prompt(s, running, flood_ends, prompt_read)
        # (its echo stays in the answer if the message came between the two)
        assert LINK_UP in answer and answer.endswith("ANSWER-c\n")
        assert await s.execute("show d") == "ANSWER-d\n"


async def test_after_the_documented_recovery_nothing_counts_as_typed_ahead(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A timed-out execute, then sendintr() and expect_prompt() (the docs'
    # recovery): the prompt expect_prompt read ended that answer, but the
    # time-out stayed noted, so every later execute counted as typed into
    # an answer.  After any later time-out, a message following the prompt
    # made the next execute wait for a second prompt that never came.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    finish, prompt_read = asyncio.Event(), asyncio.Event()

    async def device(peer: Any) -> None:
        await peer.write(b"r1#")
        pending = b""
        while data := await peer.read():
            pending += data
            if b"\x03" in pending:  # Ctrl-C: the command stops
                pending = pending.replace(b"\x03", b"")
                await peer.write(b"^C\r\nr1#")
            while b"\n" in pending:
                line, _, pending = pending.partition(b"\n")
                command = line.decode().rstrip("\r")
                await peer.write(f"{command}\r\n".encode())
                if command.startswith("slow"):
                    if command == "slow 2":
                        await finish.wait()
                        await peer.write(b"done\r\nr1#")
                        await prompt_read.wait()
                        await peer.write(f"\r\n{LINK_UP}\r\n".encode())
                    continue  # (the first one is stopped with Ctrl-C)
                await peer.write(f"ANSWER-{command}\r\nr1#".encode())

    async with played(device, timeout=5) as s:
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.execute("slow 1", timeout=0.2)
        await s.sendintr()
        await s.expect_prompt()
        for i in range(5):
            assert await s.execute(f"show {i}") == f"ANSWER-show {i}\n"
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.execute("slow 2", timeout=0.2)
        async with asyncio.timeout(10):
            running = s.execute("show x", timeout=None)
            answer = await after_the_prompt(s, running, finish, prompt_read)
        # (its echo stays in the answer if the message came between the two)
        assert LINK_UP in answer and answer.endswith("ANSWER-show x\n")
        assert await s.execute("show y") == "ANSWER-show y\n"
    assert not [r for r in caplog.records if LOOKS_PAST in r.getMessage()]


async def test_after_a_time_out_and_the_callers_own_expect_nothing_counts_as_typed_ahead(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A timed-out execute whose rest and prompt the caller read with its own
    # expect (pexpect's way, which execute does not see), then another
    # timed-out execute: the execute after it looked past its catch-up's
    # prompt for a second one nothing owed (0.2 s; up to 1 s, and the lines
    # of a device streaming messages taken in, where one streamed).
    caplog.set_level(logging.DEBUG, logger="aioexpect")

    async def device(peer: Any) -> None:
        await peer.write(b"r1#")
        async for command in typed_lines(peer):
            await peer.write(f"{command}\r\n".encode())
            if command.startswith("slow"):
                await asyncio.sleep(0.4)
                await peer.write(b"done\r\nr1#")
                continue
            await peer.write(f"ANSWER-{command}\r\nr1#".encode())

    async with played(device, timeout=5) as s:
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.execute("slow X", timeout=0.2)
        await s.expect("r1#")  # (the caller's own: X's rest and its prompt)
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.execute("slow Y", timeout=0.2)
        assert await s.execute("show z") == "ANSWER-show z\n"
        assert await s.execute("show w") == "ANSWER-show w\n"
    assert not [r for r in caplog.records if LOOKS_PAST in r.getMessage()]


async def test_after_a_command_not_sent_nothing_counts_as_typed_ahead(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An execute that timed out, one whose catch-up timed out too ('not
    # sent': the first may still run), the caller's own expect of the
    # prompt, then another time-out: the 'not sent' left a prompt owed,
    # which the next execute took for an answer given up on by
    # cancellation or BufferFull, so the one after the last time-out looked
    # past its catch-up's prompt for a typed-ahead answer (0.2 s, up to 1 s).
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    finish = {"slow X": asyncio.Event(), "slow Y": asyncio.Event()}

    async def device(peer: Any) -> None:
        await peer.write(b"r1#")
        async for command in typed_lines(peer):
            await peer.write(f"{command}\r\n".encode())
            if command in finish:
                await peer.write(b"working...\r\n")
                await finish[command].wait()
                await peer.write(b"done\r\nr1#")
                continue
            await peer.write(f"ANSWER-{command}\r\nr1#".encode())

    async with played(device, timeout=5) as s:
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.execute("slow X", timeout=0.2)
        with pytest.raises(aioexpect.ExpectTimeout, match="not sent"):
            await s.execute("show b", timeout=0.2)
        finish["slow X"].set()
        await s.expect("r1#")  # (the caller's own: X's rest and its prompt)
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.execute("slow Y", timeout=0.2)
        finish["slow Y"].set()
        assert await s.execute("show z") == "ANSWER-show z\n"
        assert await s.execute("show w") == "ANSWER-show w\n"
    assert not [r for r in caplog.records if LOOKS_PAST in r.getMessage()]


async def test_an_execute_cancelled_while_it_looks_past_the_prompt_leaves_the_answer_owed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 'show b' typed into a flood and given up on; 'show c' caught up with
    # the flood's prompt and was cancelled while it looked past it for b's
    # answer: the state was put in step before the look, so 'show d' was
    # sent at once and returned b's answer with its own ('show b\nANSWER-b\n
    # r1#show d\nANSWER-d\n'; before ba7e816, which added the look, 'ANSWER-d').
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    big = b"".join(b"line %06d %s\r\n" % (i, b"x" * 40) for i in range(150))
    flood_ends, b_answers = asyncio.Event(), asyncio.Event()

    async def device(peer: Any) -> None:
        await peer.write(b"r1#")
        async for command in typed_lines(peer):
            if command == "flood":
                await peer.write(b"flood\r\n" + big)
            elif command == "show b":  # typed into the running flood
                await flood_ends.wait()
                await peer.write(b"r1#")  # the flood's prompt
                await b_answers.wait()
                await peer.write(b"show b\r\nANSWER-b\r\nr1#")
            else:
                await peer.write(f"{command}\r\nANSWER-{command[5:]}\r\nr1#".encode())

    def looking() -> bool:
        return any(LOOKS_PAST in r.getMessage() for r in caplog.records)

    async with played(device, max_buffer=4096, timeout=5, driver="ios") as s:
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("flood")
        await s.expect(aioexpect.FULL_BUFFER)  # the caller reads a piece itself
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(s.execute("show b"), 0.3)  # typed ahead, cancelled
        async with asyncio.timeout(10):
            c = asyncio.ensure_future(s.execute("show c"))
            flood_ends.set()
            await wait_until(lambda: looking() or c.done(), "show c looks past the prompt")
            c.cancel()
            with pytest.raises(asyncio.CancelledError):
                await c
            d = asyncio.ensure_future(s.execute("show d"))
            await wait_until(lambda: s._waiter is not None or d.done(), "show d reads")
            b_answers.set()
            assert await d == "ANSWER-d\n"
            assert await s.execute("show e") == "ANSWER-e\n"
