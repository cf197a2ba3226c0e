"""sendeof and sendintr at the end of a session, over every transport: a peer
that is gone takes no end of input (``ConnectionLostError``, as ``send``
says), and an end of input once made is not made again."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncssh
import pytest

import aioexpect
from aioexpect import ClosedError, ConnectionLostError, Session
from aioexpect.testing import memory_pair
from tests import test_ssh, test_telnet
from tests.helpers import echo, serve

Opened = Callable[[], contextlib.AbstractAsyncContextManager[Session]]


@pytest.fixture(autouse=True)
def _isolated(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return fresh_home


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _resets(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Says bye, waits for the client's answer, then resets the connection."""
    writer.write(b"bye\r\n")
    await writer.drain()
    await reader.readuntil(b"ok")
    _reset(writer)


async def _exits(process: asyncssh.SSHServerProcess[bytes]) -> None:
    process.exit(0)


async def _drops(process: asyncssh.SSHServerProcess[bytes]) -> None:
    process.channel.get_connection().abort()


async def _until_lost(s: Session) -> None:
    """Reads to the loss (or the end) of the connection."""
    with contextlib.suppress(ConnectionLostError):
        await s.expect(aioexpect.EOF)


# -- a session whose peer is gone, and has been seen to be --------------------------------


@contextlib.asynccontextmanager
async def _child_exited(pty: bool) -> AsyncIterator[Session]:
    async with aioexpect.spawn("true", pty=pty, timeout=10) as s:
        assert await s.wait() == 0
        yield s


@contextlib.asynccontextmanager
async def _ssh_ended(term_type: str | None, handler: test_ssh.Handler) -> AsyncIterator[Session]:
    async with test_ssh.ssh_server(handler) as server:
        opener = test_ssh.connect(server, term_type=term_type, client_keys=None)
        async with opener as s:
            await _until_lost(s)
            await s.wait()
            yield s


@contextlib.asynccontextmanager
async def _telnet_reset() -> AsyncIterator[Session]:
    async with test_telnet.raw_server(_resets) as port, test_telnet.connect(port) as s:
        await s.expect_exact("bye")
        await s.sendline("ok")
        await _until_lost(s)
        yield s


@contextlib.asynccontextmanager
async def _streams_reset() -> AsyncIterator[Session]:
    async with serve(_resets) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with Session.from_streams(reader, writer, timeout=10) as s:
            await s.expect_exact("bye")
            await s.sendline("ok")
            await _until_lost(s)
            yield s


@contextlib.asynccontextmanager
async def _memory_closed() -> AsyncIterator[Session]:
    ours, theirs = memory_pair()
    await theirs.close()
    async with Session(ours, timeout=10) as s:
        yield s


GONE: dict[str, Opened] = {
    "pty": lambda: _child_exited(pty=True),
    "pipes": lambda: _child_exited(pty=False),
    "ssh": lambda: _ssh_ended("xterm", _exits),
    "ssh-no-pty": lambda: _ssh_ended(None, _exits),
    "ssh-no-pty-dropped": lambda: _ssh_ended(None, _drops),
    "telnet-reset": _telnet_reset,
    "streams-reset": _streams_reset,
    "memory": _memory_closed,
}


@pytest.mark.parametrize("kind", list(GONE))
async def test_sendeof_to_a_peer_that_is_gone_is_connection_lost(kind: str) -> None:
    # Over pipes, SSH without a pty, telnet and memory sendeof returned as
    # if the end of input went, while send, sendintr and (over a pty, SSH
    # with one and streams) sendeof raised ConnectionLostError.
    async with GONE[kind]() as s:
        results = []
        for name, call in [
            ("sendeof", s.sendeof),
            ("sendeof again", s.sendeof),
            ("send", lambda: s.send("x")),
            ("sendintr", s.sendintr),
        ]:
            try:
                await asyncio.wait_for(call(), 10)
            except aioexpect.AioexpectError as exc:
                results.append((name, type(exc).__name__))
            else:
                results.append((name, "returned"))
        assert results == [
            ("sendeof", "ConnectionLostError"),
            ("sendeof again", "ConnectionLostError"),
            ("send", "ConnectionLostError"),
            ("sendintr", "ConnectionLostError"),
        ]


# -- an end of input made, then the peer ends ---------------------------------------------


@contextlib.asynccontextmanager
async def _cat(pty: bool) -> AsyncIterator[Session]:
    async with aioexpect.spawn("cat", pty=pty, echo=False, timeout=10) as s:
        yield s


@contextlib.asynccontextmanager
async def _ssh_echo() -> AsyncIterator[Session]:
    async with test_ssh.ssh_server() as server:  # (a line echo that exits at EOF)
        async with test_ssh.connect(server, term_type=None, client_keys=None) as s:
            yield s


@contextlib.asynccontextmanager
async def _telnet_echo() -> AsyncIterator[Session]:
    async with test_telnet.telnet_server(test_telnet.echo) as port:  # (hangs up at EOF)
        async with test_telnet.connect(port) as s:
            yield s


@contextlib.asynccontextmanager
async def _streams_echo() -> AsyncIterator[Session]:
    async with serve(echo) as port:  # (closes at EOF)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with Session.from_streams(reader, writer, timeout=10) as s:
            yield s


@contextlib.asynccontextmanager
async def _memory_echo() -> AsyncIterator[Session]:
    ours, theirs = memory_pair()

    async def peer() -> None:
        while data := await theirs.read():
            await theirs.write(data)
        await theirs.close()

    task = asyncio.create_task(peer())
    async with Session(ours, timeout=10) as s:
        yield s
        await task


ECHOES: dict[str, Opened] = {
    "pipes": lambda: _cat(pty=False),
    "ssh-no-pty": _ssh_echo,
    "telnet": _telnet_echo,
    "streams": _streams_echo,
    "memory": _memory_echo,
}


@pytest.mark.parametrize("kind", list(ECHOES))
async def test_a_second_sendeof_does_nothing_once_the_peer_ended(kind: str) -> None:
    # The end of input went: a second one, also once the peer ended in
    # answer, is no error; what is sent after it is the caller's mistake.
    async with ECHOES[kind]() as s:
        await s.sendline("last")
        await s.sendeof()
        assert "last" in await s.read_all()
        await s.wait()
        await s.sendeof()
        with pytest.raises(ClosedError):
            await s.send("x")


async def test_ctrl_d_on_a_pty_is_a_key_that_finds_the_child_gone() -> None:
    # On a terminal the end of input is a key, typed again at each call:
    # once the child has ended, as any key, it raises.
    async with _cat(pty=True) as s:
        await s.sendeof()
        assert await s.read_all() == ""
        assert await s.wait() == 0
        with pytest.raises(ConnectionLostError, match=r"exited|closed its terminal"):
            await s.sendeof()
