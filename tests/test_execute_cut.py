"""execute() after a send cut short, or one that filled the peer's buffers.

A peer at its prompt that reads no input for a while (a hung program, a
device busy): a send the caller cut short (``asyncio.wait_for``) goes on
being written behind the caller's back, and a command handed over behind it
waits with it.  ``execute`` sends a command up to 1 KiB without a timer, the
buffers taken for empty once every earlier line is read to its prompt; with
the first prompt still unread, the catch-up took that stale prompt for the
answer owed to the send, and the command waited for room past the timeout.
Now the timeout bounds it, the command is not typed behind what is still
queued, and once the peer reads again the next ``execute`` gets its own
answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import ExpectTimeout, Session, _typed
from aioexpect._pipes import PipesTransport

from .helpers import opened, wait_until
from .test_ssh import connect as connect_ssh
from .test_ssh import ssh_server
from .test_telnet import connect as connect_telnet
from .test_telnet import raw_server

#: A shell that reads nothing until SIGUSR1 (in raw mode on a terminal, not
#: echoing: a line of any length); then ``echo X`` prints X, other lines
#: their length.  ``argv[1]``: a size for its stdin pipe.
CHILD = r"""
import fcntl, os, signal, sys, termios
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
if os.isatty(0):
    mode = termios.tcgetattr(0)
    mode[3] &= ~(termios.ECHO | termios.ICANON)
    termios.tcsetattr(0, termios.TCSANOW, mode)
elif len(sys.argv) > 1:
    fcntl.fcntl(0, fcntl.F_SETPIPE_SZ, int(sys.argv[1]))
sys.stdout.write("$ ")
sys.stdout.flush()
signal.sigwait({signal.SIGUSR1})
for line in sys.stdin:
    line = line.rstrip("\r\n")
    sys.stdout.write((line[5:] if line.startswith("echo ") else f"?{len(line)}") + "\n$ ")
    sys.stdout.flush()
"""

Write = Callable[[bytes], Awaitable[Any]]
Read = Callable[[], Awaitable[bytes]]


async def shell(read: Read, write: Write, go: asyncio.Event, lines: list[bytes]) -> None:
    """``CHILD`` in-process, over ``read`` and ``write``, until the end of
    its input; Ctrl-C drops the line begun.  ``lines``: the lines read."""
    await write(b"$ ")
    await go.wait()
    held = bytearray()
    while data := await read():
        start = len(held)
        held += data
        if (at := held.rfind(b"\x03", start)) >= 0:
            del held[: at + 1]
            await write(b"^C\r\n$ ")
            start = 0
        while (end := held.find(b"\n", start)) >= 0:
            line = bytes(held[:end]).rstrip(b"\r")
            del held[: end + 1]
            start = 0
            lines.append(line)
            answer = line[5:] if line.startswith(b"echo ") else b"?%d" % len(line)
            await write(answer + b"\r\n$ ")


Peer = tuple[Session, Callable[[], None], list[bytes] | None]


@contextlib.asynccontextmanager
async def child(pty: bool, pipe_size: int | None = None) -> AsyncIterator[Peer]:
    args = ["-c", CHILD] + ([] if pipe_size is None else [str(pipe_size)])
    async with aioexpect.spawn(sys.executable, args, pty=pty, timeout=10) as s:
        pid = s.pid
        assert pid is not None
        try:
            yield s, lambda: os.kill(pid, signal.SIGUSR1), None
        finally:
            await s.close(force=True)  # (a test that failed left it not reading)


@contextlib.asynccontextmanager
async def in_memory(limit: int = 4096) -> AsyncIterator[Peer]:
    go, lines = asyncio.Event(), []
    async with opened(limit=limit, timeout=10) as (s, peer):
        task = asyncio.ensure_future(shell(peer.read, peer.write, go, lines))
        try:
            yield s, go.set, lines
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


@contextlib.asynccontextmanager
async def over_ssh() -> AsyncIterator[Peer]:
    go, lines = asyncio.Event(), []

    async def handler(process: asyncssh.SSHServerProcess[bytes]) -> None:
        async def write(data: bytes) -> None:
            process.stdout.write(data)
            await process.stdout.drain()

        with contextlib.suppress(asyncssh.Error, OSError):
            await shell(lambda: process.stdin.read(65536), write, go, lines)
        process.exit(0)

    async with ssh_server(handler) as server, connect_ssh(server) as s:
        try:
            yield s, go.set, lines
        finally:  # (a test that failed left megabytes queued, and the peer waiting)
            s.transport.abort()
            go.set()


@contextlib.asynccontextmanager
async def over_telnet() -> AsyncIterator[Peer]:
    go, lines = asyncio.Event(), []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def write(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        async def read() -> bytes:
            if paused:  # (told to read)
                paused.clear()
                writer.transport.resume_reading()
            return await reader.read(65536)

        paused = [writer.transport.pause_reading()]  # (read nothing until told)
        await shell(read, write, go, lines)

    async with raw_server(handler) as port, connect_telnet(port) as s:
        try:
            yield s, go.set, lines
        finally:
            s.transport.abort()
            go.set()


PEERS: dict[str, Callable[[], contextlib.AbstractAsyncContextManager[Peer]]] = {
    "pipes": lambda: child(pty=False),
    "pty": lambda: child(pty=True),
    "memory": in_memory,
    "ssh": over_ssh,
    "telnet": over_telnet,
}
WAITED = r"'echo hi' \(7 characters\) not sent: timed out waiting for the rest of a send cut"
#: More than each holds while the peer reads nothing (TCP: megabytes).
CUT = {"pipes": 2_000_000, "pty": 2_000_000, "memory": 100_000, "ssh": 16 << 20}
CUT["telnet"] = 16 << 20


async def at_first_prompt(s: Session) -> None:
    """The first prompt buffered, unread: the caller never read it."""
    s.set_prompt(r"\$ $")
    await wait_until(lambda: s.buffer.endswith("$ "), "the first prompt came")


@pytest.mark.parametrize("kind", list(PEERS))
async def test_execute_after_a_send_cut_short_is_bounded_and_types_nothing_behind_it(
    kind: str,
) -> None:
    async with PEERS[kind]() as (s, go, lines):
        await at_first_prompt(s)
        size = CUT[kind]
        with pytest.raises(TimeoutError):  # (the caller's own time-out)
            await asyncio.wait_for(s.sendline("x" * size), 0.5)
        # The old code took the unread first prompt for the answer owed to
        # the send and waited, untimed, for room to send behind it.
        with pytest.raises(ExpectTimeout, match=WAITED):
            await asyncio.wait_for(s.execute("echo hi", timeout=1), 30)
        go()
        assert await s.execute("echo ok") == "ok\n"
        assert await s.execute("echo two") == "two\n"
        if lines is not None:  # (the command not sent was never typed)
            assert [len(lines[0]), *lines[1:]] == [size, b"echo ok", b"echo two"]


@pytest.mark.parametrize("kind", list(PEERS))
async def test_the_answer_to_a_send_cut_short_is_not_the_next_commands(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first prompt unread, a send cut short, and the peer reads again:
    # the cut line was not counted among the lines sent (Rule 1 of _typed),
    # so the catch-up stopped at that stale prompt, and 'echo ok' returned
    # the cut line's answer ('?100000\n' in memory, '?2000000\n$ ok\n' over a
    # pty; 'echo two' then 'ok\n' at times).  Rule 1's wait made one a slow
    # peer always meets (the answer to megabytes): a passing run never
    # spends it (see test_typed_lines).
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)
    async with PEERS[kind]() as (s, go, lines):
        await at_first_prompt(s)
        size = CUT[kind]
        with pytest.raises(TimeoutError):  # (the caller's own time-out)
            await asyncio.wait_for(s.sendline("x" * size), 0.5)
        go()
        assert await s.execute("echo ok", timeout=60) == "ok\n"
        assert await s.execute("echo two") == "two\n"
        if lines is not None:
            assert [len(lines[0]), *lines[1:]] == [size, b"echo ok", b"echo two"]


@pytest.mark.parametrize("asked", [4096, 1 << 16])
async def test_a_short_command_after_a_send_that_filled_a_pipe_is_bounded(asked: int) -> None:
    # A send that completed, the pipe full to its last byte, the peer reading
    # none of it: the short command waited for room.  The pipe holds what the
    # kernel gave for ``asked`` (a page at least: 4 KiB on x86_64, 16 or
    # 64 KiB on some arm64 kernels; 64 KiB asked is such a page here).
    async with child(pty=False, pipe_size=asked) as (s, go, _):
        await at_first_prompt(s)  # (the child sized its pipe before its prompt)
        assert isinstance(s.transport, PipesTransport)
        fd = s.transport._wfd
        assert fd is not None
        await s.send("x" * fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ))
        with pytest.raises(ExpectTimeout, match=r"'echo hi' \(7 characters\) not sent whole"):
            await asyncio.wait_for(s.execute("echo hi", timeout=1), 30)
        go()  # it reads "xxx...echo hi": the prompt after it is the one owed
        assert await s.execute("echo ok") == "ok\n"
        assert await s.execute("echo two") == "two\n"


@pytest.mark.parametrize("key", ["sendintr", "sendcontrol"])
async def test_execute_after_a_key_cut_short_is_bounded(key: str) -> None:
    # A key (Ctrl-C) the peer has no room for, cut short: it goes on being
    # written, and a command behind it waited with it.
    async with in_memory(limit=1000) as (s, go, lines):
        await at_first_prompt(s)
        await s.send("x" * 1000)  # (all the room there is)
        pressed = s.sendintr() if key == "sendintr" else s.sendcontrol("c")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(pressed, 0.5)
        with pytest.raises(ExpectTimeout, match=WAITED):
            await asyncio.wait_for(s.execute("echo hi", timeout=1), 30)
        go()
        assert await s.execute("echo ok") == "ok\n"
        assert lines == [b"echo ok"]


@pytest.mark.parametrize(
    ("call", "what"),
    [
        ("login", r"the username"),
        ("set_unique_prompt", r"the line that sets the unique prompt \(\d+ characters\)"),
    ],
)
async def test_calls_that_send_first_are_bounded_after_a_send_cut_short(
    call: str, what: str
) -> None:
    # Their lines, sent without a timer, waited behind the rest of it.
    async with opened(limit=4096, timeout=10) as (s, peer):
        await peer.write(b"login: " if call == "login" else b"$ ")
        await wait_until(lambda: bool(s.buffer), "the question came")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(s.sendline("x" * 100_000), 0.5)
        sending: Awaitable[Any]
        if call == "login":
            sending = s.login("admin", "hunter2", timeout=1)
        else:
            sending = s.set_unique_prompt(timeout=1)
        with pytest.raises(ExpectTimeout, match=what + " not sent: timed out waiting for the rest"):
            await asyncio.wait_for(sending, 30)
