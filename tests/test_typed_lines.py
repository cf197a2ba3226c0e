"""execute() after lines the caller typed with sendline(): each owes its
answer and its prompt.  The catch-up reads to a prompt for each line sent
with nothing read since (Rule 1 of ``_typed``); where the session echoes,
an answer that begins with the echo of a line sent before, not with its
own, ends at that line's prompt and is dropped with a warning (Rule 2).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest

from aioexpect import _typed
from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

from .helpers import played, typed_lines, wait_until
from .test_execute import unique_bash
from .test_virtual_device import connect as connect_to

#: The warning of an answer that began with the answers to earlier lines.
DROPPED = "in front of its echo, the answers to lines sent before it"
CONFIG = ["configure terminal", *(f"ntp server 10.0.0.{i}" for i in range(5)), "end"]


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rule 1's wait between prompts made one bash always meets.  Where the
    terminal echoes as typed, nothing tells a slow line from one with no
    prompt of its own but that wait (the documented limit), and bash on a
    loaded CI machine once took longer than STALE_WAIT to answer a line
    (['', 'echo a\na\n', 'c\n', 'd\n'] below).  The count is what these
    tests test; a passing run never spends the wait (the catch-up stops at
    the last prompt owed)."""
    monkeypatch.setattr(_typed, "STALE_WAIT", 5.0)


@pytest.mark.parametrize("read", [False, True], ids=["unread", "expect_prompt"])
@pytest.mark.usefixtures("patient")
async def test_lines_typed_into_a_shell_before_execute_are_answered_first(read: bool) -> None:
    # bash without its line editor (set_unique_prompt): the terminal echoes
    # each line as it is typed, and bash answers each with a prompt.  The
    # catch-up read one prompt: 'echo a' returned 'x1=1\n' (or ''), and
    # every later execute the one before's ('echo a\na\n' for echo b).
    async with unique_bash() as s:
        for i in range(5):
            await s.sendline(f"x{i}=1")
        if read:
            await s.expect_prompt()  # (one prompt: the first line's)
        assert [await s.execute(f"echo {w}") for w in "abcd"] == ["a\n", "b\n", "c\n", "d\n"]
        assert await s.execute("echo $x4") == "1\n"


@pytest.mark.usefixtures("patient")
async def test_a_line_the_terminal_echoed_after_a_prompt_still_owes_its_prompt() -> None:
    # The terminal echoes a line as it is sent (bash without its line
    # editor), after whatever prompt came before.  The catch-up took the
    # last line's echo after a prompt for the line read at it, and stopped
    # with prompts owed: 'echo a' returned '', 'echo b' 'echo a\na\n' (the
    # test above, in one run of three, where bash had answered some of the
    # lines when the last was sent; here the last is sent while 'sleep' runs).
    async with unique_bash() as s:
        for line in ["x0=1", "sleep 0.5", "x2=1"]:
            await s.sendline(line)
        await wait_until(lambda: "]$ " in s.buffer, "the first line answered")
        await s.sendline("x3=1")  # (echoed now, after x0's prompt)
        assert [await s.execute(f"echo {w}") for w in "abc"] == ["a\n", "b\n", "c\n"]
        assert await s.execute("echo $x3") == "1\n"


@pytest.mark.usefixtures("patient")
async def test_a_remote_shell_without_its_line_editor_still_owes_its_prompts() -> None:
    # The same over SSH or telnet, whose terminal modes cannot be read: a
    # shell at set_unique_prompt's prompt (no line editor) behind a remote
    # terminal that echoes each line as it comes.  The catch-up read x0's
    # prompt, took x3's echo after it for x3 read there, and stopped two
    # prompts short: 'echo a' returned '' (against the real sshd and
    # telnetd, 'sleep 0.1' for 'wait': 6 runs in 40 and 3 in 40).
    resume = asyncio.Event()

    async def shell(peer: Any) -> None:
        lines = typed_lines(peer)
        token = re.search(r"\[aioexpect-''([0-9a-f]+)\]", await anext(lines))
        assert token is not None
        prompt = f"[aioexpect-{token.group(1)}]$ ".encode()
        await peer.write(prompt)
        for _ in range(3):  # (x0=1, wait, x2=1: echoed as they come)
            await peer.write(f"{await anext(lines)}\r\n".encode())
        await peer.write(prompt)  # (x0's; 'wait' runs)
        await peer.write(f"{await anext(lines)}\r\n".encode())  # (x3=1, after that prompt)
        await resume.wait()
        await peer.write(prompt * 3)  # (wait's, x2's, x3's)
        async for command in lines:
            await peer.write(f"{command}\r\n{command.removeprefix('echo ')}\r\n".encode())
            await peer.write(prompt)

    async with played(shell, timeout=5) as s:
        await s.set_unique_prompt()
        for line in ["x0=1", "wait", "x2=1"]:
            await s.sendline(line)
        await wait_until(lambda: s.buffer.endswith("]$ "), "x0=1 answered")
        await s.sendline("x3=1")
        await wait_until(lambda: s.buffer.endswith("x3=1\r\n"), "x3=1 echoed")
        running = asyncio.ensure_future(s.execute("echo a"))
        await wait_until(lambda: s.buffer == "x3=1\r\n" or running.done(), "x0's prompt read")
        resume.set()
        assert await asyncio.wait_for(running, 5) == "a\n"
        assert await s.execute("echo b") == "b\n"


async def test_a_line_editor_started_from_the_unique_prompt_still_echoes_at_its_prompt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # set_unique_prompt, then python3 (its own line editor, which echoes a
    # line as it reads it at '>>> ') over SSH or telnet.  x = input() and
    # its value bring one prompt for two lines: z = 3 echoed after the last
    # '>>> ' says every line was read.  The catch-up took every echo for the
    # terminal's (set_unique_prompt's once run) and waited for the prompt
    # the count still owed: 0.2 s an execute, here the whole time-out.
    monkeypatch.setattr(_typed, "STALE_WAIT", 60.0)  # (the time-out ends it first)

    async def shell(peer: Any) -> None:
        lines = typed_lines(peer)
        token = re.search(r"\[aioexpect-''([0-9a-f]+)\]", await anext(lines))
        assert token is not None
        await peer.write(f"[aioexpect-{token.group(1)}]$ ".encode())
        assert await anext(lines) == "python3 -q"
        await peer.write(b"python3 -q\r\n>>> ")
        values: dict[str, str] = {}
        async for line in lines:
            await peer.write(f"{line}\r\n".encode())  # (the line editor's echo, as it reads)
            if line == "x = input()":
                values["x"] = await anext(lines)
                await peer.write(f"{values['x']}\r\n".encode())
            elif line.startswith("print("):
                await peer.write(f"{values.get(line[6:-1], '')}\r\n".encode())
            elif " = " in line:
                name, _, value = line.partition(" = ")
                values[name] = value
            await peer.write(b">>> ")

    async with played(shell, timeout=5) as s:
        await s.set_unique_prompt()
        await s.sendline("python3 -q")
        s.set_prompt(">>> ")
        await s.expect_prompt()
        for line in ["x = input()", "hello", "z = 3"]:
            await s.sendline(line)
        assert await s.execute("print(x)") == "hello\n"
        assert await s.execute("print(z)") == "3\n"


def config_router() -> VirtualDevice:
    dev = VirtualDevice("r1", commands={f"show {x}": x.upper() * 3 for x in "abcd"})

    def mode(prompt: str) -> Any:
        def enter(command: str, match: Any) -> str:
            dev.prompt = prompt
            return ""

        return enter

    dev.add_command("configure terminal", mode("{hostname}(config)#"))
    dev.add_command("end", mode("{hostname}#"))
    dev.add_command(r"ntp server \S+", "")
    return dev


@pytest.mark.parametrize("read", [False, True], ids=["unread", "expect_prompt"])
@pytest.mark.parametrize("serve", [serve_ssh, serve_telnet], ids=["ssh", "telnet"])
async def test_a_configuration_typed_before_execute_is_answered_first(
    serve: Any, read: bool
) -> None:
    # A netmiko send_config_set port: the lines with sendline(), maybe one
    # prompt read, then execute.  'show a' returned 'ntp server 10.0.0.0\n
    # r1(config)#ntp server 10.0.0.1\n...', then 'show b' 'show a\nAAA\n',
    # for ever.
    async with serve(config_router()) as server, connect_to(serve, server) as s:
        assert await s.execute("show a") == "AAA\n"
        for line in CONFIG:
            await s.sendline(line)
        if read:
            await s.expect_prompt()
        got = [await s.execute(f"show {x}") for x in "abcdab"]
        assert got == [f"{x.upper() * 3}\n" for x in "abcdab"]


async def test_answers_in_front_of_the_echo_are_dropped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The caller read part of the answers with its own expect (so nothing
    # counts the rest); they come with the command's in one piece, the
    # prompt in front of its echo no prompt to the patterns (\Z): only the
    # echo after it tells where the command's answer begins.
    caplog.set_level(logging.WARNING, logger="aioexpect")

    async def device(peer: Any) -> None:
        await peer.write(b"r1#")
        held = b""  # (answered with the next command's answer)
        async for command in typed_lines(peer):
            if command == "configure terminal":
                await peer.write(b"configure terminal\r\nr1(config)#")
            elif command in ("hostname r1", "end"):
                held += f"{command}\r\n{'r1#' if command == 'end' else 'r1(config)#'}".encode()
            else:
                await peer.write(held + f"{command}\r\nANSWER-{command}\r\nr1#".encode())
                held = b""

    async with played(device, timeout=5, driver="ios") as s:
        assert await s.execute("show a") == "ANSWER-show a\n"
        for line in ("configure terminal", "hostname r1", "end"):
            await s.sendline(line)
        await s.expect("#")  # (the caller's own: configure terminal's)
        assert await s.execute("show b") == "ANSWER-show b\n"
        assert await s.execute("show c") == "ANSWER-show c\n"
    [warning] = [r.getMessage() for r in caplog.records if DROPPED in r.getMessage()]
    assert "execute('show b'): 29 characters" in warning
    assert "hostname r1" in warning and "ANSWER" not in warning


async def test_answers_to_earlier_lines_are_read_past_prompt_by_prompt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The same, end's answer coming by itself: the first prompt after the
    # command was sent ends it; the command's own answer comes after.
    caplog.set_level(logging.WARNING, logger="aioexpect")
    step = asyncio.Event()
    written = [0]  # (bytes, once end's answer went)

    async def device(peer: Any) -> None:
        sent = 0

        async def write(data: bytes) -> None:
            nonlocal sent
            await peer.write(data)
            sent += len(data)

        await write(b"r1#")
        held = False
        async for command in typed_lines(peer):
            if command == "end":
                held = True  # (answered with the next command's answer)
            elif command.startswith("show"):
                if held:
                    await write(b"end\r\nr1#")
                    written[0] = sent
                    await step.wait()
                await write(f"{command}\r\nANSWER-{command}\r\nr1#".encode())
            elif command.startswith("terminal"):
                await write(f"{command}\r\nr1#".encode())
            else:
                await write(f"{command}\r\nr1(config)#".encode())

    def end_read() -> bool:
        return 0 < written[0] <= s.bytes_in and s.buffer == ""

    async with played(device, timeout=5, driver="ios") as s:
        assert await s.execute("show a") == "ANSWER-show a\n"
        for line in ("configure terminal", "hostname r1", "end"):
            await s.sendline(line)
        await s.expect_exact("hostname r1")  # (the caller's own: nothing counts the rest)
        running = asyncio.ensure_future(s.execute("show b"))
        await wait_until(lambda: end_read() or running.done(), "end's answer was read")
        step.set()
        assert await asyncio.wait_for(running, 5) == "ANSWER-show b\n"
    [warning] = [r.getMessage() for r in caplog.records if DROPPED in r.getMessage()]
    assert "execute('show b'): 8 characters" in warning


async def test_a_session_that_does_not_echo_takes_its_answer_as_it_comes() -> None:
    # No echo to go by: an output line equal to a line sent before is
    # output, not the end of that line's answer (nothing waits for more).
    async def device(peer: Any) -> None:
        await peer.write(b"r1#")
        async for command in typed_lines(peer):
            await peer.write(f"{command.removeprefix('echo ')}\r\nr1#".encode())

    async with played(device, timeout=5, driver="ios") as s:
        assert await s.execute("echo hello") == "hello\n"
        await s.sendline("date")
        await s.expect("#")
        assert await s.execute("echo date") == "date\n"


async def test_a_line_that_brings_no_prompt_of_its_own_is_not_waited_for() -> None:
    # Input to a command (read's value), sent with it: two lines, one
    # prompt.  The catch-up counts two, finds one, and goes on after the
    # short wait for another (no time-out, nothing taken from the answer).
    async with unique_bash() as s:
        await s.sendline("read -r x")
        await s.sendline("the value")
        assert await s.execute("echo $x") == "the value\n"
        assert await s.execute("echo next") == "next\n"


@pytest.mark.usefixtures("patient")
async def test_more_lines_than_the_old_history_are_all_answered_first() -> None:
    # The history held 32 sends: with 40 lines typed, execute read 32
    # prompts and 'echo a' .. 'echo h' returned '', 'echo i' 'a\n'.
    async with unique_bash() as s:
        for i in range(40):
            await s.sendline(f"x{i}=1")
        assert [await s.execute(f"echo {w}") for w in "abc"] == ["a\n", "b\n", "c\n"]


async def test_a_buffer_the_caller_releases_after_sending_is_not_read_again() -> None:
    # The history kept the caller's object: a memoryview released after
    # send() made every execute raise ValueError (operation forbidden on
    # released memoryview object) from deep inside, until something was read.
    dev = config_router()
    async with serve_telnet(dev) as server, connect_to(serve_telnet, server) as s:
        assert await s.execute("show a") == "AAA\n"
        view = memoryview(bytearray(b"show b\n"))
        await s.send(view)
        view.release()
        assert await s.execute("show c") == "CCC\n"
