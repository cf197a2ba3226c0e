"""sendeof and sendintr at the end of a session, over every transport.

A peer that ended normally (a child that exited or closed its stdin, a
command whose SSH channel closed, a memory peer that closed) has its end of
input: sendeof returns, and what it wrote is still read.  One lost
abnormally (a connection reset or dropped) raises ConnectionLostError, as
send does.  An end of input once made is not made again; Ctrl-D on a
terminal is a key, typed again at each call."""

from __future__ import annotations

import array
import asyncio
import contextlib
import fcntl
import socket
import struct
import sys
import termios
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import ClosedError, ConnectionLostError, Session
from aioexpect.testing import memory_pair
from tests import test_ssh, test_telnet
from tests.helpers import echo, serve, wait_until

Opened = Callable[[], contextlib.AbstractAsyncContextManager[Session]]


@pytest.fixture(autouse=True)
def _isolated(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return fresh_home


async def _after_the_end(s: Session) -> list[tuple[str, str]]:
    """What sendeof, sendeof again, send and sendintr do now, in turn."""
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
    return results


#: A peer that ended normally: the end of input is met, nothing is lost.
ENDED = [
    ("sendeof", "returned"),
    ("sendeof again", "returned"),
    ("send", "ClosedError"),  # (after an end of input: the caller's mistake)
    ("sendintr", "ConnectionLostError"),  # (nothing to interrupt)
]


# -- a peer that ended normally -----------------------------------------------------------


async def test_sendeof_to_a_child_that_exited_returns_and_its_output_is_read() -> None:
    # It raised ConnectionLostError (the child had closed its stdin by
    # exiting), though nothing was lost: pexpect's sendeof closes stdin,
    # and communicate() takes a child that is gone as done.
    async with aioexpect.spawn("sh", ["-c", "echo hi"], pty=False, timeout=10) as s:
        assert await s.wait() == 0
        await s.sendeof()
        assert await s.read_all() == "hi\n"
        assert await _after_the_end(s) == ENDED


async def test_sendeof_to_a_child_that_closed_its_stdin_returns() -> None:
    async with aioexpect.spawn(
        "sh", ["-c", "exec 0<&-; echo ready; sleep 0.2; echo done"], pty=False, timeout=10
    ) as s:
        await s.expect_exact("ready")  # (its stdin is closed)
        await s.sendeof()
        await s.sendeof()
        assert await s.read_all() == "\ndone\n"
        assert await s.wait() == 0


async def _says_hi(process: asyncssh.SSHServerProcess[bytes]) -> None:
    process.stdout.write(b"hi\n")
    process.exit(0)


async def test_sendeof_to_an_ssh_command_that_exited_returns_and_its_output_is_read() -> None:
    async with test_ssh.ssh_server(_says_hi) as server:
        opener = test_ssh.connect(server, command="say-hi", term_type=None, client_keys=None)
        async with opener as s:
            assert await s.wait() == 0
            await s.sendeof()
            assert await s.read_all() == "hi\n"
            assert await _after_the_end(s) == ENDED


async def test_sendeof_to_a_memory_peer_that_closed_returns() -> None:
    ours, theirs = memory_pair()
    await theirs.write(b"bye\n")
    await theirs.close()
    async with Session(ours, timeout=10) as s:
        assert await _after_the_end(s) == [
            ("sendeof", "returned"),
            ("sendeof again", "returned"),
            ("send", "ClosedError"),
            ("sendintr", "ClosedError"),  # (Ctrl-C is a write: after the end of input)
        ]
        assert await s.read_all() == "bye\n"


# -- a peer lost abnormally ---------------------------------------------------------------


async def _drops(process: asyncssh.SSHServerProcess[bytes]) -> None:
    process.channel.get_connection().abort()


async def test_sendeof_over_an_ssh_connection_that_dropped_is_connection_lost() -> None:
    async with test_ssh.ssh_server(_drops) as server:
        opener = test_ssh.connect(server, command="drop", term_type=None, client_keys=None)
        async with opener as s:
            with contextlib.suppress(ConnectionLostError):
                await s.expect(aioexpect.EOF)
            await s.wait()
            assert await _after_the_end(s) == [
                ("sendeof", "ConnectionLostError"),
                ("sendeof again", "ConnectionLostError"),  # (none went)
                ("send", "ConnectionLostError"),
                ("sendintr", "ConnectionLostError"),
            ]


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


async def test_sendeof_over_telnet_after_a_reset_is_connection_lost() -> None:
    async with test_telnet.raw_server(_resets) as port, test_telnet.connect(port) as s:
        await s.expect_exact("bye")
        await s.sendline("ok")
        with contextlib.suppress(ConnectionLostError):
            await s.expect(aioexpect.EOF)
        for _ in range(2):
            with pytest.raises(ConnectionLostError):
                await s.sendeof()


async def _says_bye(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Says bye and hangs up (the caller closes the socket)."""
    writer.write(b"bye\r\n")
    await writer.drain()


@contextlib.asynccontextmanager
async def _telnet_hung_up() -> AsyncIterator[Session]:
    async with test_telnet.raw_server(_says_bye) as port, test_telnet.connect(port) as s:
        yield s


@contextlib.asynccontextmanager
async def _streams_hung_up() -> AsyncIterator[Session]:
    async with serve(_says_bye) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with Session.from_streams(reader, writer, timeout=10) as s:
            yield s


HUNG_UP: dict[str, Opened] = {"telnet": _telnet_hung_up, "streams": _streams_hung_up}


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="reads the TCP state (Linux)")
@pytest.mark.parametrize("kind", list(HUNG_UP))
async def test_sendeof_after_the_server_hung_up_returns_on_either_loop(kind: str) -> None:
    # The server said bye and hung up; a line sent then drew a reset (as a
    # telnet session's own answers to the server's options do), which
    # neither loop saw (it reads no more after the server's FIN).  asyncio's
    # half-close raised OSError ENOTCONN out of sendeof (9d41d6e), uvloop's
    # returned; then both raised ConnectionLostError, where the server had
    # ended normally: a normal end of the peer is no error for sendeof.
    async with HUNG_UP[kind]() as s:
        await s.expect_exact("bye")
        adapter: Any = s.transport  # (its socket: no event tells the kernel's state)
        under = adapter._writer if kind == "streams" else adapter._transport
        sock = under.get_extra_info("socket")
        await wait_until(lambda: test_telnet.tcp_state(sock) == test_telnet.TCP_CLOSE_WAIT, "FIN")
        await s.sendline("logout")  # (reaches a closed socket: a reset)
        await wait_until(lambda: test_telnet.tcp_state(sock) == test_telnet.TCP_CLOSE, "reset")
        await s.sendeof()
        await s.sendeof()  # (a second does nothing)
        assert (await s.read_all()).strip() == ""  # (the end of the bye line, then the end)


#: A server in a process of its own: says more than a small max_buffer
#: takes, then bye, and hangs up (FIN) at once; one connection.  Exit
#: status 3: the kernel's buffers hold less than it says (no test then).
_TALKS_AND_HANGS_UP = r"""
import socket, sys
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
print(ls.getsockname()[1], flush=True)
c, _ = ls.accept(); c.settimeout(10)
try: c.sendall(b"start\r\n" + b"x" * int(sys.argv[1]) + b"\r\nbye\r\n")
except OSError: raise SystemExit(3)
c.close()
"""


def _unread(sock: Any) -> int:
    """Bytes the kernel holds unread for ``sock``."""
    count = array.array("i", [0])
    fcntl.ioctl(sock.fileno(), termios.FIONREAD, count)
    return count[0]


@pytest.mark.parametrize(
    ("kind", "size"),
    [("telnet", 400_000), ("streams", 400_000), ("streams", 100_000)],
    ids=["telnet-fin-in-the-kernel", "streams-fin-in-the-kernel", "streams-fin-in-the-reader"],
)
async def test_sendeof_after_the_server_hung_up_behind_unread_data_returns(
    kind: str, size: int
) -> None:
    # The session stopped reading at max_buffer, so the server's FIN waits
    # unread, in the kernel behind the data (or, for streams, with less
    # data, in the StreamReader); a line sent then drew a reset.  sendeof
    # raised "was reset" there, where the server had hung up normally;
    # reading says how it ended, after the data (all of it, then EOF; or,
    # under load, the reset, where the kernel dropped what it held).
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _TALKS_AND_HANGS_UP, str(size), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        port = int(await asyncio.wait_for(server.stdout.readline(), 30))
        if kind == "streams":
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            opened: Any = Session.from_streams(reader, writer, timeout=10, max_buffer=1000)
        else:
            opened = aioexpect.connect_telnet("127.0.0.1", port, timeout=10, max_buffer=1000)
        async with opened as s:
            await s.expect_exact("start")
            if await asyncio.wait_for(server.wait(), 30) == 3:
                pytest.skip("the socket buffers here hold less than the test sends")
            adapter: Any = s.transport
            under = adapter._writer if kind == "streams" else adapter._transport
            if size == 400_000:
                assert _unread(under.get_extra_info("socket")) > 0  # (the FIN waits behind it)
            await s.sendline("logout")
            await s.sendeof()
            await s.sendeof()  # (a second does nothing)
            got, reset = "", False
            try:
                while chunk := await s.read_some():
                    got += chunk
            except ConnectionLostError:  # (the kernel may drop what it held when the reset comes)
                reset = True
            assert reset or got.endswith("x\r\nbye\r\n")
    finally:
        if server.returncode is None:
            server.kill()
        await server.wait()


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


async def test_a_sendeof_made_while_one_is_under_way_returns_after_it() -> None:
    # The second returned at once, stdin still open behind the writes
    # before it: "the end of input went" was not true yet.
    size = 4 << 20  # far more than a pipe holds: the end of input waits
    async with aioexpect.spawn("wc", ["-c"], pty=False, timeout=10) as s:
        sending = asyncio.create_task(s.send("x" * size))
        first = asyncio.create_task(s.sendeof())
        await asyncio.sleep(0)  # (it waits behind the send)
        await asyncio.wait_for(s.sendeof(), 10)
        assert first.done()  # (and stdin is closed: wc counts)
        await asyncio.gather(first, sending)
        assert int(await s.read_all()) == size


async def test_two_sendeofs_at_once_to_a_child_that_exited_both_return() -> None:
    async with aioexpect.spawn("true", pty=False, timeout=10) as s:
        assert await s.wait() == 0
        await asyncio.wait_for(asyncio.gather(s.sendeof(), s.sendeof()), 10)


# -- a terminal's EOF character is a key --------------------------------------------------


async def test_ctrl_d_on_a_pty_is_a_key_that_finds_the_child_gone() -> None:
    # On a terminal the end of input is a key, typed again at each call:
    # once the child has ended, as any key, it raises.
    async with _cat(pty=True) as s:
        await s.sendeof()
        assert await s.read_all() == ""
        assert await s.wait() == 0
        with pytest.raises(ConnectionLostError, match=r"exited|closed its terminal"):
            await s.sendeof()


async def test_ctrl_d_over_ssh_with_a_pty_is_a_key_that_finds_the_channel_gone() -> None:
    async with test_ssh.ssh_server(_says_hi) as server:
        opener = test_ssh.connect(server, command="say-hi", term_type="xterm", client_keys=None)
        async with opener as s:
            assert await s.wait() == 0
            assert "hi" in await s.read_all()
            with pytest.raises(ConnectionLostError):
                await s.sendeof()
