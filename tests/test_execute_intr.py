"""execute() after lines sent ahead beyond what the record of sends holds
(``SENDS``), and after an interrupt sent while lines were still owed.

The record kept the last ``SENDS`` sends and dropped older ones silently:
their lines uncounted, the next ``execute`` read too few prompts and
returned an earlier line's answer as its own.

An interrupt (``sendintr``) sent while lines are owed was not counted:
at a prompt it brings one more (``^C`` and a new prompt), and the next
``execute`` returned an earlier line's answer (``'b\\n'``, ``'^C\\n'``);
arriving before the peer read those lines, it flushes them (no prompt for
them).  The count is unknown then: the next ``execute`` reads to as many
prompts as there could be while they come, then sends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import ExpectTimeout, _typed
from aioexpect._session import SENDS
from tests.helpers import opened, wait_until

from . import test_execute_cut
from .test_execute_cut import PEERS, Read, Write
from .test_execute_cut_lines import at_unread_prompt
from .test_interact_at_prompt import execute_answered, shown_then_left

#: Lines sent one at a time: more than the record holds.
MANY = SENDS + 44


@pytest.mark.parametrize("kind", list(PEERS))
async def test_each_of_more_sends_than_the_record_holds_owes_its_answer(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The peer reads nothing until go(): all MANY lines are unanswered
    # when execute starts.  The old code counted the last SENDS only.
    async with at_unread_prompt(kind, monkeypatch) as (s, go, lines):
        for i in range(MANY):
            await s.sendline(f"echo {i}")
        go()
        assert await s.execute("echo mine", timeout=60) == "mine\n"
        assert await s.execute("echo two") == "two\n"
        if lines is not None:
            assert len(lines) == MANY + 2
            assert lines[-3:] == [f"echo {MANY - 1}".encode(), b"echo mine", b"echo two"]


Shell = Callable[[Read, Write, asyncio.Event, list[bytes]], Awaitable[None]]
#: The lines sent around the interrupt, and the last one.
BEFORE, AFTER = "echo a\n", "echo b\n"


def interrupted_shell(flush: bool) -> Shell:
    """``test_execute_cut.shell`` that holds what it reads until the line
    sent after the interrupt came, then answers each line; a Ctrl-C either
    flushes the lines not answered yet (``flush``: a tty's ISIG, the peer
    busy) or comes at a prompt, and brings a prompt of its own (``^C``)."""

    async def shell(read: Read, write: Write, go: asyncio.Event, lines: list[bytes]) -> None:
        await write(b"$ ")
        await go.wait()
        held = bytearray()
        while AFTER.encode() not in held:  # (all of it: what the peer does is told)
            data = await read()
            assert data
            held += data
        while True:
            while held:
                if held[:1] == b"\x03":
                    del held[:1]
                    await write(b"^C\r\n$ ")
                    continue
                end = held.find(b"\n")
                if end < 0:
                    break
                line = bytes(held[:end]).rstrip(b"\r")
                if flush and b"\x03" in held[end:]:
                    del held[: held.index(b"\x03")]  # (flushed, unread)
                    continue
                del held[: end + 1]
                lines.append(line)
                answer = line[5:] if line.startswith(b"echo ") else b"?%d" % len(line)
                await write(answer + b"\r\n$ ")
            if not (data := await read()):
                return
            held += data

    return shell


@pytest.mark.parametrize("kind", ["memory", "telnet"])
@pytest.mark.parametrize("flush", [False, True], ids=["at-prompt", "flushed"])
async def test_an_interrupt_with_lines_owed_leaves_no_earlier_answer(
    kind: str, flush: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At a prompt, the old code counted two prompts of three and returned
    # 'b\n' for 'echo mine'.
    monkeypatch.setattr(test_execute_cut, "shell", interrupted_shell(flush))
    async with PEERS[kind]() as (s, go, lines):
        s.set_prompt(r"(?m)^\$ ")
        await s.expect_prompt()
        await s.send(BEFORE)
        await s.sendintr()
        await s.send(AFTER)
        go()
        assert await s.execute("echo mine", timeout=30) == "mine\n"
        assert await s.execute("echo two") == "two\n"
        assert lines[-2:] == [b"echo mine", b"echo two"]
        assert (b"echo a" in lines) is not flush


@pytest.mark.parametrize("mode", ["readline", "unique"])
async def test_bash_in_a_pty_after_an_interrupt_with_lines_owed(mode: str) -> None:
    # Where the Ctrl-C lands is a race (before bash read the line, while it
    # runs, at the prompt): every round must give the command's own answer.
    # The old code gave '^C\n', 'echo b\nb\n', '\n' in most rounds (readline).
    env = {"PS1": "$ ", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TERM": "dumb"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as s:
        if mode == "unique":
            await s.set_unique_prompt()
        else:
            s.set_prompt(r"(?m)^\$ ")
            assert await s.execute("true") == ""
        for i in range(6):
            await s.send("echo a\r\n")
            await s.sendintr()
            await s.send("echo b\r\n")
            assert await s.execute(f"echo ok{i}") == f"ok{i}\n"
        await s.sendintr()  # (nothing owed: at the prompt, read as before)
        assert await s.execute("echo idle") == "idle\n"


async def test_an_interrupt_the_person_saw_answered_is_not_counted_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A line and its interrupt, whose prompt the person saw in interact
    # (which reads nothing into the buffer): the old code still counted the
    # interrupt, and waited for one prompt more than the line sent after
    # brings (STALE_WAIT; raised here: "1 still owed" at the deadline).
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)
    async with opened(timeout=2) as (s, peer):
        await peer.write(b"$ ")
        await s.expect_prompt()
        await s.sendline("sleep 9")
        await s.sendintr()
        got = b""
        while not got.endswith(b"\x03"):
            got += await asyncio.wait_for(peer.read(100), 5)
        await shown_then_left(s, peer, b"sleep 9\r\n^C\r\n$ ")
        await s.sendline("echo a")
        assert await asyncio.wait_for(peer.read(100), 5) == b"echo a\n"
        await peer.write(b"echo a\r\na\r\n$ ")
        assert await execute_answered(s, peer) == "hi\n"


async def _read_to(peer: Any, end: bytes) -> bytes:
    got = b""
    while not got.endswith(end):
        got += await asyncio.wait_for(peer.read(100), 5)
    return got


async def test_an_interrupt_after_an_execute_out_of_time_catching_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An execute out of time catching up to a line's prompt ("still owed"),
    # then sendintr at the prompt that came meanwhile: one more.  The old
    # code counted the line's only and returned '^C\n' ('^C\n' too from bash
    # in a pty, a loop printing to it, the Ctrl-C sent once it ended).
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)
    async with opened(timeout=2) as (s, peer):
        s.set_prompt(r"(?m)^\$ ")  # (both prompts found, also buffered at once)
        await peer.write(b"$ ")
        await s.expect_prompt()
        await s.sendline("echo a")
        await s.sendline("sleep 3")
        await _read_to(peer, b"sleep 3\n")
        await peer.write(b"echo a\r\na\r\n$ ")
        with pytest.raises(ExpectTimeout, match="1 still owed"):
            await s.execute("echo mine", timeout=1)
        await peer.write(b"$ ")  # (sleep 3 ended)
        await s.sendintr()
        assert await _read_to(peer, b"\x03") == b"\x03"
        executing = asyncio.ensure_future(s.execute("echo mine", timeout=5))
        await wait_until(lambda: not s.buffer, "the prompt after sleep 3 read")
        await peer.write(b"^C\r\n$ ")  # (at the prompt: one more)
        assert await _read_to(peer, b"\n") == b"echo mine\n"
        await peer.write(b"mine\r\n$ ")  # (no echo: none tells what came before it)
        assert await executing == "mine\n"


def _in_the_foreground(parent: int, name: str) -> bool:
    """Whether a child of ``parent`` named ``name`` runs as the foreground
    of its terminal (an interrupt typed now is its own)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # (gone as it was read)
            continue
        comm = text[text.find("(") + 1 : text.rfind(")")]
        fields = text[text.rfind(")") + 2 :].split()  # state ppid pgrp session tty tpgid
        if comm == name and int(fields[1]) == parent and fields[2] == fields[5]:
            return True
    return False


@pytest.mark.parametrize("interrupt", [False, True], ids=["plain", "interrupted"])
async def test_a_line_silent_past_the_wait_is_no_answer(interrupt: bool, tmp_path: Path) -> None:
    # The last line sent runs silent past STALE_WAIT: taken for answered,
    # execute sends while it runs, the terminal echoing the command as
    # typed after the line's echo.  The old code took that echo for the
    # answer's own and returned 'until ...; echo late\nlate\n'.
    go = tmp_path / "go"
    env = {"PS1": "$ ", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TERM": "dumb", "GO": str(go)}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as s:
        s.set_prompt(r"(?m)^\$ ")
        assert await s.execute("true") == ""
        await s.sendline("sleep 9" if interrupt else "echo a")
        if interrupt:  # (at sleep: sent before bash ran it, the interrupt may flush
            # the line, with no prompt; or come as bash starts it, and sleep
            # runs on, its prompt 9 s later: execute waits for that first one)
            await wait_until(lambda: _in_the_foreground(s.pid, "sleep"), "sleep running")
            await s.sendintr()
        await s.sendline('until [ -e "$GO" ]; do sleep 0.01; done; echo late')
        sent = s.bytes_out
        running = asyncio.ensure_future(s.execute("echo mine"))
        await wait_until(lambda: s.bytes_out > sent, "the command sent")
        go.touch()
        assert await running == "mine\n"
        assert await s.execute("echo two") == "two\n"
