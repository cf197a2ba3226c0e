"""execute() after lines sent ahead whose prompts it counts (Rule 1 of
``_typed``): an empty line last, and a bulk send longer than the end of it
that the session keeps (``SEND_KEPT``).

An empty line's echo after its prompt (``$ \\r\\n``) was never taken for
that line read at it, so a send ending in one cost the wait for one more
prompt (``STALE_WAIT``) each time.  A bulk send counted the lines of its
kept end only: with its answers still coming, the next ``execute`` read to
that many prompts and returned an earlier line's answer as its own.
"""

from __future__ import annotations

import asyncio

import pytest

import aioexpect
from aioexpect._session import SEND_KEPT

from . import test_execute_cut
from .test_execute_cut import PEERS, Read, Write
from .test_execute_cut_lines import at_unread_prompt

#: Lines of the bulk send: more than ``SEND_KEPT`` characters.
BULK = 1000
ENV = {"PS1": "$ ", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TERM": "xterm"}
BASH = ["--norc", "--noprofile"]

#: ``test_execute_cut.CHILD`` that reads ``BULK`` lines, answers none of
#: them until SIGUSR1, then answers each: its answers lag behind the send.
LAGGING_CHILD = rf"""
import os, signal, sys, termios
signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGUSR1}})
if os.isatty(0):
    mode = termios.tcgetattr(0)
    mode[3] &= ~(termios.ECHO | termios.ICANON)
    termios.tcsetattr(0, termios.TCSANOW, mode)
sys.stdout.write("$ ")
sys.stdout.flush()
held = [sys.stdin.readline() for _ in range({BULK})]
signal.sigwait({{signal.SIGUSR1}})
def answer(line):
    line = line.rstrip("\r\n")
    sys.stdout.write((line[5:] if line.startswith("echo ") else f"?{{len(line)}}") + "\n$ ")
    sys.stdout.flush()
for line in held:
    answer(line)
for line in sys.stdin:
    answer(line)
"""


async def lagging_shell(read: Read, write: Write, go: asyncio.Event, lines: list[bytes]) -> None:
    """``test_execute_cut.shell`` that reads ``BULK`` lines and answers
    none of them until ``go``, then each."""
    await write(b"$ ")
    held, pending = bytearray(), []
    while data := await read():
        held += data
        while (end := held.find(b"\n")) >= 0:
            line = bytes(held[:end]).rstrip(b"\r")
            del held[: end + 1]
            lines.append(line)
            pending.append(line)
        if len(lines) >= BULK:
            await go.wait()
            for line in pending:
                answer = line[5:] if line.startswith(b"echo ") else b"?%d" % len(line)
                await write(answer + b"\r\n$ ")
            pending.clear()


def bulk() -> str:
    data = "".join(f"echo {i}\n" for i in range(BULK))
    assert len(data) > SEND_KEPT
    return data


@pytest.mark.parametrize("kind", list(PEERS))
async def test_each_line_of_a_bulk_send_longer_than_kept_owes_its_answer(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The old code counted the lines of the last 4096 characters only:
    # 'echo mine' returned an answer to one of the first lines ('480\n').
    monkeypatch.setattr(test_execute_cut, "shell", lagging_shell)
    monkeypatch.setattr(test_execute_cut, "CHILD", LAGGING_CHILD)
    async with at_unread_prompt(kind, monkeypatch) as (s, go, lines):
        await s.send(bulk())  # (the peer took it all, and answers none yet)
        running = asyncio.ensure_future(s.execute("echo mine", timeout=60))
        go()
        assert await running == "mine\n"
        assert await s.execute("echo two") == "two\n"
        if lines is not None:
            assert len(lines) == BULK + 2
            assert lines[-3:] == [b"echo 999", b"echo mine", b"echo two"]


async def test_a_bulk_send_to_bash_in_a_pty_owes_each_lines_answer() -> None:
    # bash reads and answers a line at a time; each prompt found on its own
    # ('(?m)^\$ '): the old code returned 'echo 456\n456\n' for 'echo mine'.
    env = dict(ENV, TERM="dumb")
    async with aioexpect.spawn("bash", BASH, env=env, timeout=30) as s:
        s.set_prompt(r"(?m)^\$ ")
        assert await s.execute("true") == ""
        await s.send(bulk())
        assert await s.execute("echo mine") == "mine\n"
        assert await s.execute("echo two") == "two\n"


async def test_a_long_secret_is_not_kept() -> None:
    # A secret is never kept as text, however long: one line, counted so
    # (over pipes: a terminal's line holds 4 KiB at most).
    env = dict(ENV, TERM="dumb")
    async with aioexpect.spawn("bash", [*BASH, "-i"], pty=False, env=env, timeout=10) as s:
        s.set_prompt(r"(?m)^\$ ")
        assert await s.execute("true") == ""
        await s.sendline("read -r x")
        secret = "s" * (2 * SEND_KEPT)
        await s.send_secret(secret)
        assert s._sends[-1][0] is None
        assert await s.execute("echo ${#x}") == f"{len(secret)}\n"
