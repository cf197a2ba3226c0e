"""execute() and a question a command asks instead of ending at a prompt
(IOS's ``[confirm]``, ``Destination filename [startup-config]?``, a
``[y/N]``): its time-out, and each later execute's, names the question and
the way out; no execute types its command into it while the text received
ends with it; what came stays buffered; once answered, execute goes on."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

import aioexpect
from aioexpect import ExpectEOF, ExpectTimeout
from aioexpect.testing import VirtualDevice, ask, serve_ssh, serve_telnet

from .helpers import opened, serve, typed_lines, wait_until
from .test_virtual_device import connect as connect_to

CLOCK = "*12:04:11.372 UTC Mon Nov 2 2026"
COPY = "copy running-config startup-config"
CONFIRM = 'Clear "show interface" counters on all interfaces [confirm]'
FILENAME = "Destination filename [startup-config]?"
WAY_OUT = "send('y')"  # (the start of what the messages say to do)


def asking_router() -> VirtualDevice:
    """A router whose ``clear counters`` asks ``[confirm]`` (one key) and
    ``copy running-config startup-config`` a file name (a line), and says
    what it was answered."""

    async def clear(command: str, m: re.Match[str]) -> str:
        return f"answered {await ask(CONFIRM, key=True)!r}"

    async def copy(command: str, m: re.Match[str]) -> str:
        name = await ask(FILENAME + " ")
        return f"Building configuration...\n[OK] {name or 'startup-config'}"

    commands: dict[str, Any] = {
        "clear counters": clear,
        COPY: copy,
        "show clock": CLOCK,
    }
    return VirtualDevice("r1", prompt="r1#", commands=commands)


def names(error: BaseException, question: str) -> bool:
    """Whether ``error`` quotes ``question`` from its line's start and says the way out."""
    message = str(error)
    return f"the peer asks {question!r}, which is no prompt: " in message and all(
        way in message for way in (WAY_OUT, "sendline(answer)", "expect_prompt()", "sendintr()")
    )


@pytest.mark.parametrize(
    ("serve_it", "command", "question", "answer", "answered"),
    [
        (serve_ssh, "clear counters", CONFIRM, "y", "answered 'y'"),
        (serve_telnet, "clear counters", CONFIRM, "y", "answered 'y'"),
        (serve_ssh, COPY, FILENAME, "\n", "[OK] startup-config"),
        (serve_telnet, COPY, FILENAME, "\r\n", "[OK] startup-config"),
    ],
    ids=["confirm-ssh", "confirm-telnet", "filename-ssh", "filename-telnet"],
)
async def test_a_question_is_named_and_never_typed_into(
    serve_it: Any, command: str, question: str, answer: str, answered: str
) -> None:
    # The second execute said "not sent" (the question taken for a prompt no
    # pattern knows, and consumed); the third was typed into the question:
    # its first key answered [confirm] (over SSH it returned '\n'), or its
    # whole line became the file name.
    async with serve_it(asking_router()) as server, connect_to(serve_it, server) as s:
        with pytest.raises(ExpectTimeout) as info:
            await s.execute(command, timeout=1)
        assert "waiting for the prompt of driver 'ios'" in str(info.value)  # the evidence stays
        assert names(info.value, question)
        for later in ("show clock", "show clock", "show version"):
            with pytest.raises(ExpectTimeout) as refused:
                await s.execute(later, timeout=0.5)
            assert str(refused.value).startswith(f"command {later!r} not sent: timed out")
            assert names(refused.value, question)
            assert s.buffer.rstrip().endswith(question)  # nothing taken
        await s.send(answer)  # the way out it names
        assert answered in (await s.expect_prompt()).before
        assert await s.execute("show clock") == f"{CLOCK}\n"


async def test_answered_then_execute_reads_to_the_prompt_and_goes_on() -> None:
    async with serve_ssh(asking_router()) as server, connect_to(serve_ssh, server) as s:
        with pytest.raises(ExpectTimeout):
            await s.execute("clear counters", timeout=1)
        with pytest.raises(ExpectTimeout, match="not sent"):
            await s.execute("show clock", timeout=0.5)
        await s.send("y")  # answered; the prompt not read
        assert await s.execute("show clock") == f"{CLOCK}\n"
        assert await s.execute("show clock") == f"{CLOCK}\n"


async def test_an_answered_question_is_not_asked_again() -> None:
    # answered_busy: after send('y') the device worked past execute's
    # time-out; each refusal still said to answer with send('y'), and a
    # caller who did typed 'yy' in front of 'show clock'.
    erase = "Erasing the nvram filesystem will remove all configuration files! Continue? [confirm]"
    async with opened(timeout=5) as (s, peer):
        await peer.write(b"r1#")
        await s.expect_prompt()
        lines = typed_lines(peer)
        first = asyncio.ensure_future(s.execute("write erase", timeout=0.5))
        assert await anext(lines) == "write erase"
        await peer.write(f"write erase\r\n{erase}".encode())
        with pytest.raises(ExpectTimeout) as info:
            await first
        assert names(info.value, erase)
        await s.send("y")  # the way out it names; the device works on
        assert await peer.read() == b"y"
        for _ in range(2):
            with pytest.raises(ExpectTimeout, match="not sent") as busy:
                await s.execute("show clock", timeout=0.5)
            message = str(busy.value)
            assert f"the peer asked {erase!r} and was sent something since" in message
            assert "expect_prompt()" in message and "sendintr()" in message
            assert WAY_OUT not in message and "do not answer again" in message
        # A question asked after the answer is a new one, to answer.
        await peer.write(f"\r\n{FILENAME} ".encode())
        with pytest.raises(ExpectTimeout, match="not sent") as asked:
            await s.execute("show clock", timeout=0.5)
        assert names(asked.value, FILENAME)
        await s.sendline("")
        assert await anext(lines) == ""  # nothing sent in between
        await peer.write(b"\r\n[OK]\r\nr1#")
        running = asyncio.ensure_future(s.execute("show clock"))
        assert await anext(lines) == "show clock"
        await peer.write(f"show clock\r\n{CLOCK}\r\nr1#".encode())
        assert await asyncio.wait_for(running, 10) == f"{CLOCK}\n"


async def test_sendintr_stops_the_question() -> None:
    async with serve_telnet(asking_router()) as server, connect_to(serve_telnet, server) as s:
        with pytest.raises(ExpectTimeout, match=r"sendintr\(\)"):
            await s.execute("clear counters", timeout=1)
        await s.sendintr()
        assert "answered '\\x03'" in (await s.expect_prompt()).before
        assert await s.execute("show clock") == f"{CLOCK}\n"


@pytest.mark.parametrize("serve_it", [serve_ssh, serve_telnet], ids=["ssh", "telnet"])
async def test_a_question_left_unread_gets_no_command(serve_it: Any) -> None:
    # partial_read: the caller sent the command and read its echo only, as a
    # pexpect or netmiko port does; execute, in step, sent at once: its 's'
    # answered [confirm], and the error said no execute was sent.
    async with serve_it(asking_router()) as server, connect_to(serve_it, server) as s:
        assert await s.execute("show clock") == f"{CLOCK}\n"  # at a prompt
        await s.sendline("clear counters")
        echo = re.escape("clear counters\r\n")
        await s.expect(re.compile(f"{echo}(?={re.escape(CONFIRM)})"))  # the echo, read
        sent = s.bytes_out
        for _ in range(2):
            with pytest.raises(ExpectTimeout, match="not sent") as refused:
                await s.execute("show clock", timeout=0.5)
            assert names(refused.value, CONFIRM)
            assert s.bytes_out == sent and s.buffer == CONFIRM  # nothing sent, nothing taken
        await s.send("y")
        assert "answered 'y'" in (await s.expect_prompt()).before
        assert await s.execute("show clock") == f"{CLOCK}\n"


@pytest.mark.parametrize(
    "question",
    [
        "Overwrite? [y/N]",
        # (Fedora's PackageKit, no first: its time-out named no question, and
        # the next execute typed its command in as the answer)
        "Install package 'x' to provide command 'y'? [N/y]",
        "Continue? [Y/n]",
        "Proceed (y/n)?",
        "Are you sure (yes/no)?",
    ],
)
async def test_bash_read_in_a_pty(question: str) -> None:
    env = {"PS1": "me$ ", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TERM": "xterm"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as s:
        await s.expect_prompt()
        with pytest.raises(ExpectTimeout) as info:
            await s.execute(f'read -p "{question} " a; echo "got $a"', timeout=1)
        assert names(info.value, question)
        for _ in range(2):
            with pytest.raises(ExpectTimeout, match="not sent") as refused:
                await s.execute("echo typed in", timeout=0.5)
            assert names(refused.value, question)
        await s.sendline("y")
        assert "got y" in (await s.expect_prompt()).before
        assert await s.execute("echo hi") == "hi\n"


# -- scripted peers: cancellation, late output, the end of file ----------------------


@pytest.mark.parametrize("question", ["Continue? [y/N]: ", "Save config (yes/no)? "])
async def test_a_fresh_session_asking_gets_no_command_also_after_a_cancel(question: str) -> None:
    # cancel_fresh: the first execute cancelled while it waits; the second
    # said "not sent" and took the question for a prompt; the third was
    # typed into it.
    async with opened(timeout=5) as (s, peer):
        await peer.write(b"Welcome to r1\r\n" + question.encode())
        first = asyncio.ensure_future(s.execute("first"))
        await wait_until(lambda: s.waiting_for is not None, "the first execute waits")
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        for _ in range(2):
            with pytest.raises(ExpectTimeout, match="not sent") as info:
                await s.execute("show clock", timeout=0.5)
            assert names(info.value, question.strip())
        assert s.buffer == "Welcome to r1\r\n" + question
        await s.sendline("yes")
        assert await anext(typed_lines(peer)) == "yes"  # the first line the peer got


async def test_cancelled_twice_then_the_question_still_gets_no_command() -> None:
    # cancel_twice: the execute that asked cancelled, the next one cancelled
    # in its wait; the third must not type into [confirm].
    async with opened(timeout=5) as (s, peer):
        await peer.write(b"r1#")
        await s.expect_prompt()
        lines = typed_lines(peer)
        first = asyncio.ensure_future(s.execute("clear counters"))
        assert await anext(lines) == "clear counters"
        await peer.write(f"clear counters\r\n{CONFIRM}".encode())
        await wait_until(lambda: s.buffer.endswith("[confirm]"), "the question is buffered")
        first.cancel()
        await asyncio.wait([first], timeout=5)
        assert first.cancelled()
        second = asyncio.ensure_future(s.execute("show clock"))
        await wait_until(lambda: s.waiting_for is not None, "the second execute waits")
        second.cancel()
        await asyncio.wait([second], timeout=5)
        assert second.cancelled()
        for _ in range(2):
            with pytest.raises(ExpectTimeout, match="not sent") as info:
                await s.execute("show version", timeout=0.5)
            assert names(info.value, CONFIRM)
        await s.sendline("")  # Enter confirms
        assert await anext(lines) == ""  # the first thing the peer got since
        await peer.write(b"\r\nr1#")
        await s.expect_prompt()


async def test_late_lines_before_a_question_stay_with_the_error_and_buffered() -> None:
    # lost_lines: the first guard consumed the lines before the question's.
    async with opened(timeout=5) as (s, peer):
        await peer.write(b"r1#")
        await s.expect_prompt()
        lines = typed_lines(peer)
        first = asyncio.ensure_future(s.execute("copy tftp: flash:", timeout=0.5))
        assert await anext(lines) == "copy tftp: flash:"
        await peer.write(b"copy tftp: flash:\r\n")
        with pytest.raises(ExpectTimeout):
            await first
        late = "Loading image.bin !!!!!!!!\r\n[OK - 33591768 bytes]\r\n"
        late += "Destination filename [image.bin]? "
        await peer.write(late.encode())
        await wait_until(lambda: s.buffer.endswith("? "), "the late output is buffered")
        for _ in range(2):
            with pytest.raises(ExpectTimeout, match="not sent") as info:
                await s.execute("show clock", timeout=0.5)
            assert info.value.before == "copy tftp: flash:\r\n" + late
            assert "Loading image.bin" in str(info.value)
            assert names(info.value, "Destination filename [image.bin]?")
            assert s.buffer == "copy tftp: flash:\r\n" + late


async def test_the_peer_ending_after_an_answer_is_an_end_of_file() -> None:
    # reload_eof: the first guard reported the question as standing.
    async with opened(timeout=5) as (s, peer):
        await peer.write(b"r1#")
        await s.expect_prompt()
        lines = typed_lines(peer)
        first = asyncio.ensure_future(s.execute("reload", timeout=0.5))
        assert await anext(lines) == "reload"
        await peer.write(b"reload\r\nProceed with reload? [confirm]")
        with pytest.raises(ExpectTimeout) as info:
            await first
        assert names(info.value, "Proceed with reload? [confirm]")
        await s.send("y")
        await peer.close()  # rebooting
        for _ in range(2):
            with pytest.raises(ExpectEOF):
                await s.execute("show version")


async def test_text_that_only_contains_a_question_is_no_question() -> None:
    async with opened(timeout=10) as (s, peer):
        await peer.write(b"r1#")
        await s.expect_prompt()
        lines = typed_lines(peer)
        # In the middle of a line, or on a line of its own before the prompt.
        running = asyncio.ensure_future(s.execute("show"))
        assert await anext(lines) == "show"
        await peer.write(b"show\r\nSave? [yes/no] later\r\nfile [x]?\r\nr1#")
        assert await asyncio.wait_for(running, 10) == "Save? [yes/no] later\nfile [x]?\n"
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


@pytest.mark.parametrize("default", ["(no) ", "(yes) "])
async def test_junos_yes_no_question_gets_no_command_and_stops_login(default: str) -> None:
    # junos_yes_no: 'Reboot the system ? [yes,no] (no) ' was no question
    # (only [yes/no]): the second execute said "not sent" and took it, the
    # third was typed into it as its answer.
    question = f"Reboot the system ? [yes,no] {default}"
    async with opened(driver="junos", timeout=5) as (s, peer):
        await peer.write(b"\r\nadmin@r1> ")
        await s.expect_prompt()
        lines = typed_lines(peer)
        first = asyncio.ensure_future(s.execute("request system reboot", timeout=0.5))
        while (line := await anext(lines)) != "request system reboot":  # the init commands
            await peer.write(f"{line} \r\n\r\nadmin@r1> ".encode())
        await peer.write(f"request system reboot \r\n{question}".encode())
        with pytest.raises(ExpectTimeout) as info:
            await first
        assert names(info.value, question.strip())
        sent = s.bytes_out
        for _ in range(2):
            with pytest.raises(ExpectTimeout, match="not sent") as refused:
                await s.execute("show version", timeout=0.5)
            assert names(refused.value, question.strip())
        assert s.bytes_out == sent and s.buffer.endswith(question)
        await s.sendline("no")
        assert await anext(lines) == "no"  # the first line the peer got since
    # login stops at it as at a [yes/no]: the caller must answer it.
    async with opened(driver="junos", timeout=5) as (s, peer):
        await peer.write(f"\r\n{question}".encode())
        with pytest.raises(aioexpect.AuthenticationError, match="cannot answer"):
            await s.login("admin", "pw")
        assert s.bytes_out == 0 and s.buffer == question  # left from its line's start


async def test_a_set_prompt_prompt_like_a_question_is_a_prompt() -> None:
    # menu_prompt: a menu's prompt ends in ']? '; set_prompt finds it first.
    menu = b"\r\nEnter selection [1-4]? "
    async with opened(timeout=5) as (s, peer):
        s.set_prompt(r"\]\? $")
        await peer.write(b"Main menu\r\n 1) status\r\n 2) reboot" + menu)
        lines = typed_lines(peer)
        for choice in ("1", "3"):
            running = asyncio.ensure_future(s.execute(choice))
            assert await anext(lines) == choice
            await peer.write(choice.encode() + b"\r\nresult of " + choice.encode() + menu)
            result = await asyncio.wait_for(running, 10)
            assert result == f"result of {choice}\nEnter selection [1-4"


async def test_a_menu_prompt_without_set_prompt_is_refused_naming_set_prompt() -> None:
    # menu_no_set_prompt: every execute refused with "answer it with
    # send('y')", no word of set_prompt, which makes it a prompt.
    menu = b"\r\nEnter selection [1-4]? "
    async with opened(timeout=5) as (s, peer):
        await peer.write(b"Main menu\r\n 1) status\r\n 2) reboot" + menu)
        with pytest.raises(ExpectTimeout, match="not sent") as info:
            await s.execute("1", timeout=0.5)
        assert names(info.value, "Enter selection [1-4]?")
        assert str(info.value).endswith(
            "(if it is the device's prompt, a menu's, tell execute so with set_prompt())"
        )
        assert s.bytes_out == 0
        s.set_prompt(r"\]\? $")  # as it says
        lines = typed_lines(peer)
        running = asyncio.ensure_future(s.execute("1"))
        assert await anext(lines) == "1"
        await peer.write(b"1\r\nresult of 1" + menu)
        assert await asyncio.wait_for(running, 10) == "result of 1\nEnter selection [1-4"


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
        asked = r"asks '\*{8}: Delete filename \[\*{8}\]\?'"
        with pytest.raises(ExpectTimeout, match=asked) as info:
            await first
        with pytest.raises(ExpectTimeout, match=f"not sent: .*{asked}") as again:
            await s.execute("show clock", timeout=0.5)
        for error in (info.value, again.value):
            assert "hunter2" not in str(error)


async def test_run_many_first_prompt_keeps_its_message() -> None:
    # many_first_question: the job cannot answer it; no API advice there.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Banner\r\nDo you accept the terms of use? [yes/no]: ")
        await writer.drain()
        await reader.read()  # until the client leaves

    async def job(s: Any, host: Any) -> str:
        return await s.execute("show clock")

    async with serve(handler) as port:
        (result,) = await aioexpect.run_many([f"telnet://127.0.0.1:{port}"], job, session_timeout=1)
    assert isinstance(result.error, aioexpect.ConnectError)
    assert "did not reach a prompt: timed out" in str(result.error)
    assert WAY_OUT not in str(result.error)
