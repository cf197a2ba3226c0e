"""A send cut short while it waits its turn, over every transport.

Send A is cut short (``wait_for``) while the peer reads nothing: its rest
is still written.  Send B, issued while A's rest waits, is cut short too,
before any of it went out.  Once started, a send is committed: B still
arrives, whole, once, after all of A and before what is sent after it.
Over pipes and a pty, B was dropped: none of it was ever written."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import Session
from aioexpect.testing import memory_pair
from tests import test_ssh, test_telnet
from tests.helpers import serve

#: Far more than a pipe or a terminal holds (sockets and SSH's window take
#: several: ``fill`` sends until one is cut short).
CHUNK = 1 << 20
#: The child tells its input once it is let go (SIGUSR1), up to the "END"
#: line: the x's it got, and what came after them.
COUNTER = r"""
import os, signal, sys, tty
if sys.argv[1] == "pty":
    tty.setraw(0)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
print("ready", flush=True)
signal.sigwait({signal.SIGUSR1})
data = bytearray()
while b"END" not in data:
    chunk = os.read(0, 1 << 16)
    if not chunk:
        break
    data += chunk
rest = data.lstrip(b"x")
print("got", len(data) - len(rest), repr(bytes(rest)), "done", flush=True)
"""


@pytest.fixture(autouse=True)
def _isolated(fresh_home: Path) -> Path:
    return fresh_home


async def fill(s: Session) -> int:
    """Send x's until a send is cut short (the peer reads nothing); how many."""
    sent = 0
    for _ in range(64):
        sent += CHUNK
        try:
            await asyncio.wait_for(s.send("x" * CHUNK), 0.05)
        except TimeoutError:
            return sent
    raise AssertionError(f"{sent} bytes went to a peer that reads nothing")


async def cut_short(s: Session, *, queued: bool) -> tuple[int, bool]:
    """A cut short; B (``MARK``) sent behind it, cut short while it waits:
    how much A sent, and whether B was cut short (a socket's buffers may
    take it: they grow as data flows)."""
    sent = await fill(s)
    if not queued:
        return sent, False
    try:
        await asyncio.wait_for(s.sendline("MARK"), 0.05)
    except TimeoutError:
        return sent, True
    return sent, False


@pytest.mark.parametrize("queued", [True, False], ids=["queued", "alone"])
@pytest.mark.parametrize("pty", [False, True], ids=["pipes", "pty"])
async def test_a_local_child_gets_a_send_cancelled_in_the_queue(pty: bool, queued: bool) -> None:
    mode = "pty" if pty else "pipes"
    opener = aioexpect.spawn(sys.executable, ["-c", COUNTER, mode], pty=pty, timeout=30)
    async with opener as s:
        await s.expect("ready\r?\n")
        sent, waited = await cut_short(s, queued=queued)
        assert sent == CHUNK  # (nothing read yet: the first one is cut short)
        assert waited == queued  # (B waits its turn behind A's rest)
        os.kill(s.transport.get_extra_info("pid"), signal.SIGUSR1)  # read it all now
        await asyncio.wait_for(s.sendline("END"), 30)
        m = await s.expect(r"got (\d+) (.*) done")
        assert int(m.group(1)) == sent  # all of A, first
        assert m.group(2) == repr(b"MARK\nEND\n" if queued else b"END\n")


# -- the same over the other transports (they hand B over at once) ----------------


Count = Callable[[Callable[[int], Awaitable[bytes]]], Awaitable[None]]


def counter(go: asyncio.Event, got: asyncio.Future[bytes]) -> Count:
    """A peer's side: read nothing until ``go``, then up to ``END``."""

    async def count(read: Callable[[int], Awaitable[bytes]]) -> None:
        await go.wait()
        data = bytearray()
        while b"END" not in data:
            chunk = await read(1 << 16)
            if not chunk:
                break
            data += chunk
        got.set_result(bytes(data))

    return count


@contextlib.asynccontextmanager
async def over(kind: str, count: Count) -> AsyncIterator[Session]:
    if kind == "memory":
        ours, peer = memory_pair(1 << 20)
        task = asyncio.create_task(count(peer.read))
        try:
            async with Session(ours, timeout=30) as s:
                yield s
        finally:
            await peer.close()
            await asyncio.wait_for(task, 10)
    elif kind == "ssh":

        async def handler(process: asyncssh.SSHServerProcess[bytes]) -> None:
            await count(process.stdin.read)
            process.exit(0)

        async with test_ssh.ssh_server(handler) as server:
            async with test_ssh.connect(server, term_type=None, client_keys=None) as s:
                yield s
    elif kind == "telnet":

        async def raw(reader: asyncio.StreamReader, writer: Any) -> None:
            await count(reader.read)

        async with test_telnet.raw_server(raw) as port, test_telnet.connect(port) as s:
            yield s
    else:

        async def tcp(reader: asyncio.StreamReader, writer: Any) -> None:
            await count(reader.read)

        async with serve(tcp) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            async with Session.from_streams(reader, writer, timeout=30) as s:
                yield s


@pytest.mark.parametrize("queued", [True, False], ids=["queued", "alone"])
@pytest.mark.parametrize("kind", ["memory", "ssh", "telnet", "streams"])
async def test_every_transport_gets_a_send_cancelled_in_the_queue(kind: str, queued: bool) -> None:
    go, got = asyncio.Event(), asyncio.get_running_loop().create_future()
    async with over(kind, counter(go, got)) as s:
        try:
            sent, _ = await cut_short(s, queued=queued)
        finally:
            go.set()  # (also on a failure: the server waits for its peer's end)
        await asyncio.wait_for(s.sendline("END"), 30)
        data = await asyncio.wait_for(got, 30)
    rest = data.lstrip(b"x")
    assert len(data) - len(rest) == sent
    sep = s.linesep.encode()
    assert rest == (b"MARK" + sep + b"END" + sep if queued else b"END" + sep)


async def test_pipes_close_stdin_after_a_send_cancelled_in_the_queue() -> None:
    opener = aioexpect.spawn(sys.executable, ["-c", COUNTER, "pipes"], pty=False, timeout=30)
    async with opener as s:
        await s.expect("ready\n")
        sent, waited = await cut_short(s, queued=True)
        assert waited
        os.kill(s.transport.get_extra_info("pid"), signal.SIGUSR1)
        await asyncio.wait_for(s.sendeof(), 30)  # (after B: its turn came first)
        m = await s.expect(r"got (\d+) (.*) done")
        assert (int(m.group(1)), m.group(2)) == (sent, repr(b"MARK\n"))


@pytest.mark.parametrize("pty", [False, True], ids=["pipes", "pty"])
async def test_closing_ends_a_send_cancelled_in_the_queue(
    pty: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A's rest, and B waiting its turn, end with the close (ClosedError,
    taken): no task is left, nothing is logged as never retrieved."""
    opener = aioexpect.spawn(sys.executable, ["-c", COUNTER, "pty" if pty else "pipes"], pty=pty)
    async with opener as s:
        await s.expect("ready\r?\n")
        _, waited = await cut_short(s, queued=True)
        assert waited
    with pytest.raises(aioexpect.ClosedError):
        await s.send("more")
    await asyncio.sleep(0)  # (the tasks' ends, and their callbacks)
    gc.collect()  # (a task whose error nobody took logs it as it goes)
    assert not [r for r in caplog.records if r.name == "asyncio"]


#: Sends queued behind A's rest: each ends (ClosedError) a turn of the loop
#: after the one before it, far more turns than a close takes.
QUEUED = 2000


@pytest.mark.parametrize("pty", [False, True], ids=["pipes", "pty"])
async def test_closing_waits_for_the_sends_queued(pty: bool) -> None:
    """Sends cancelled while they wait their turn, then the close: none of
    them is left pending once it returns (a loop closed next would destroy
    each, logging 'Task was destroyed but it is pending!')."""
    before = asyncio.all_tasks()
    mode = "pty" if pty else "pipes"
    s = await aioexpect.spawn(sys.executable, ["-c", COUNTER, mode], pty=pty, timeout=30)
    try:
        await s.expect("ready\r?\n")
        await fill(s)
        tasks = [asyncio.create_task(s.send(f"B{k}.")) for k in range(QUEUED)]
        await asyncio.sleep(0)  # (each one handed over, queued)
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=30)
    finally:
        await asyncio.wait_for(s.close(force=True), 30)
    left = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not left
