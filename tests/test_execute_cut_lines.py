"""The lines of a send cut short, and a key cut short.

A send cut short (``asyncio.wait_for``) is still written whole, behind the
caller's back: each line it ends owes its answer and its prompt, as the
lines of a short ``sendline`` do (Rule 1 of ``_typed``).  A send longer than
what a session keeps of it (``SEND_KEPT``) counted the lines of its end
only, so that once the peer read again, the next ``execute`` returned the
answer to one of its first lines as its own.  A ``sendintr`` or ``sendeof``
cut short still goes too: the terminal's line is handed over or discarded,
as after one that completed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

import aioexpect
from aioexpect import ExpectTimeout, _typed

from .helpers import opened, wait_until
from .test_execute_cut import CUT, PEERS, Peer, at_first_prompt
from .test_execute_cut import WAITED as NOT_SENT

THREE = "echo a\necho b\necho c\n"


async def cut_short(s: aioexpect.Session, data: str | bytes) -> None:
    with pytest.raises(TimeoutError):  # (the caller's own time-out)
        await asyncio.wait_for(s.send(data), 0.5)


@contextlib.asynccontextmanager
async def at_unread_prompt(kind: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Peer]:
    """``PEERS[kind]``, its first prompt buffered unread, each prompt found
    also where several are buffered.  Rule 1's wait made one a slow peer
    always meets: a passing run never spends it."""
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)
    async with PEERS[kind]() as peer:
        await at_first_prompt(peer[0])
        peer[0].set_prompt(r"(?m)^\$ ")
        yield peer


@pytest.mark.parametrize("kind", list(PEERS))
@pytest.mark.parametrize("first", ["read", "execute not sent"])
async def test_each_line_of_a_long_send_cut_short_owes_its_answer(
    kind: str, first: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The old code counted the last line only: 'echo ok' returned 'b\n',
    # 'echo two' '?2000000\n' (pipes, pty) or 'ok\n', on every transport,
    # read at once or after an execute that timed out behind the rest.
    async with at_unread_prompt(kind, monkeypatch) as (s, go, lines):
        size = CUT[kind]
        await cut_short(s, THREE + "x" * size + "\n")
        if first == "execute not sent":
            with pytest.raises(ExpectTimeout, match=NOT_SENT):
                await asyncio.wait_for(s.execute("echo hi", timeout=1), 30)
        go()
        assert await s.execute("echo ok", timeout=60) == "ok\n"
        assert await s.execute("echo two") == "two\n"
        if lines is not None:
            assert [*lines[:3], len(lines[3]), *lines[4:]] == [
                *(b"echo " + w for w in (b"a", b"b", b"c")),
                size,
                b"echo ok",
                b"echo two",
            ]


async def test_a_line_end_across_the_end_kept_counts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Bytes, with '\r\n' line ends, one of them across the start of the
    # 4096 bytes kept: counted twice, 'echo ok' waited for a fifth prompt.
    async with at_unread_prompt("memory", monkeypatch) as (s, go, lines):
        data = b"echo a\r\necho b\r\n" + b"x" * 100_000 + b"\r\n" + b"y" * 4094 + b"\n"
        await cut_short(s, data)
        go()
        assert await s.execute("echo ok", timeout=10) == "ok\n"
        assert lines is not None
        assert [len(line) for line in lines] == [6, 6, 100_000, 4094, 7]


@pytest.mark.parametrize("pty", [False, True], ids=["pipes", "pty"])
@pytest.mark.parametrize("first", ["read", "execute not sent"])
async def test_each_line_of_a_long_send_cut_short_owes_its_answer_in_bash(
    pty: bool, first: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bash stopped (reading nothing), lines cut short in front of it,
    # bash going on: the old code returned the answers to the first of
    # them ('echo a\na\nb\n...', 'echo ok' with them), then those of the
    # last ones (': 236 xxx...'), over pipes and over a pty.
    monkeypatch.setattr(_typed, "STALE_WAIT", 5.0)  # (bash on a loaded machine)
    argv = ["--norc", "--noprofile"] + ([] if pty else ["-i"])
    env = {"PS1": "$ ", "PATH": os.environ["PATH"], "HOME": "/tmp", "TERM": "dumb"}
    async with aioexpect.spawn("bash", argv, pty=pty, env=env, timeout=10) as s:
        assert await s.execute("echo start") == "start\n"
        pid = s.pid
        assert pid is not None
        await s.sendline("kill -STOP $$")
        await asyncio.sleep(0.3)  # (bash stopped: a cut below does not depend on it)
        # (lines a terminal in canonical mode takes, each its own)
        many = "".join(f": {i} " + "x" * 1000 + "\n" for i in range(300))
        await cut_short(s, THREE + many)
        if first == "execute not sent":
            with pytest.raises(ExpectTimeout, match=r"'echo hi' .*not sent"):
                await asyncio.wait_for(s.execute("echo hi", timeout=1), 30)
        os.kill(pid, signal.SIGCONT)
        assert await s.execute("echo ok", timeout=60) == "ok\n"
        assert await s.execute("echo two") == "two\n"


async def test_an_execute_not_sent_behind_the_rest_leaves_the_count_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No prompt buffered, the catch-up out of time behind the rest: the old
    # code carried the four lines' prompts and then counted the four lines
    # again, eight in all, and 'echo ok' waited out its time for prompts
    # that never come.
    async with at_unread_prompt("memory", monkeypatch) as (s, go, lines):
        await s.expect(r"\$ ")  # (read: the next execute catches up, reading no prompt)
        await cut_short(s, THREE + "x" * 100_000 + "\n")
        for _ in range(2):
            with pytest.raises(ExpectTimeout, match=r"'echo hi' not sent") as caught:
                await asyncio.wait_for(s.execute("echo hi", timeout=1), 30)
        go()
        assert await s.execute("echo ok", timeout=10) == "ok\n"
        assert [len(line) for line in lines] == [6, 6, 6, 100_000, 7]
        assert "a send cut short before it is not written whole yet" in str(caught.value)


async def test_a_prompt_no_pattern_knows_after_a_send_cut_short_is_taken_once() -> None:
    # The rest of the send written and read, the peer at a prompt no
    # pattern knows: the old code said every execute 'not sent ... (the
    # command before may still be running ...)' and took nothing, for ever;
    # as after any send, the first one takes it, the next is sent.
    go = asyncio.Event()

    async def play(peer: Any) -> None:
        await peer.write(b"$ ")
        await go.wait()
        held = b""
        while not held.endswith(b" END\n"):
            held += await peer.read(65536)
        await peer.write(b"weird> ")
        while data := await peer.read(65536):
            await peer.write(data.rstrip(b"\n").removeprefix(b"echo ") + b"\r\n$ ")

    async with opened(limit=4096, timeout=10) as (s, peer):
        task = asyncio.ensure_future(play(peer))
        try:
            s.set_prompt(r"(?m)^\$ ")
            await s.expect(r"\$ ")
            await cut_short(s, "x" * 100_000 + " END\n")
            go.set()
            await wait_until(lambda: s.buffer.endswith("weird> "), "the peer read it all")
            with pytest.raises(ExpectTimeout, match=r"'echo hi' not sent: .*'weird> '$"):
                await s.execute("echo hi", timeout=1)
            assert await s.execute("echo ok", timeout=10) == "ok\n"
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


#: Reads nothing until SIGUSR1, a terminal in canonical mode not echoing;
#: then says how long each line read is (a Ctrl-C ignored: it drops a line).
READER = r"""
import os, signal, termios
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
signal.signal(signal.SIGINT, signal.SIG_IGN)
mode = termios.tcgetattr(0)
mode[3] &= ~termios.ECHO
termios.tcsetattr(0, termios.TCSANOW, mode)
print("ready", flush=True)
signal.sigwait({signal.SIGUSR1})
while data := os.read(0, 65536):
    print(len(data), flush=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's n_tty limit")
@pytest.mark.parametrize("key", ["sendeof", "sendintr"])
async def test_a_key_cut_short_ends_the_terminals_line(key: str) -> None:
    # 3,000 bytes of a line, then Ctrl-D (hands it over) or Ctrl-C (drops
    # it) cut short: the old code still counted them, and refused the next
    # line of 3,001 ('a line of 6000 bytes exceeds the terminal's
    # canonical-mode limit of 4095'), which the terminal takes whole.
    async with aioexpect.spawn(sys.executable, ["-c", READER], timeout=10) as s:
        await s.expect("ready")
        pid = s.pid
        assert pid is not None
        try:
            await cut_short(s, ("x" * 99 + "\n") * 2000)  # (the terminal's buffers full)
            await cut_short(s, "a" * 3000)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(getattr(s, key)(), 0.5)
            os.kill(pid, signal.SIGUSR1)
            await s.send("b" * 3000 + "\n")
            await s.expect(r"(?m)^3001\r$")
        finally:
            await s.close(force=True)  # (a test that failed left it not reading)


async def test_the_line_ends_of_a_send_cut_short_are_kept_as_their_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The old code kept each line end before the last 4,096 characters as
    # text: 10 MB for a send of 10 million, and each execute went over
    # them all again (half a second and 170 MB each).  What is kept of a
    # send does not grow with it; each line still owes its answer.
    async with at_unread_prompt("memory", monkeypatch) as (s, go, lines):
        await cut_short(s, "echo a\r" + "\n" * 20_000 + "x" * 5000 + "\necho b\n")
        assert len(str(s._sends[-1])) < 5000 + 200
        go()
        assert await s.execute("echo ok", timeout=60) == "ok\n"
        assert lines is not None
        assert [lines[0], set(lines[1:-3]), len(lines), *lines[-3:]] == [
            b"echo a",  # ('\r\n' ends it)
            {b""},
            1 + 19_999 + 3,
            b"x" * 5000,
            b"echo b",
            b"echo ok",
        ]
