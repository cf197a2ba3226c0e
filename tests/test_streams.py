"""The streams adapter over real sockets: extra info, half-close, a reset
peer, a peer that never reads, and Session.from_streams."""

from __future__ import annotations

import array
import asyncio
import fcntl
import signal
import socket
import struct
import sys
import termios
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path

import pytest

import aioexpect
from aioexpect import ClosedError, ConnectionLostError
from aioexpect._streams import CLOSE_GRACE, streams_transport
from aioexpect._transport import Transport

from .helpers import gone, said_and_end, serve, wait_until

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()


async def connect(port: int) -> Transport:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return streams_transport(reader, writer)


async def test_extra_info() -> None:
    async with serve(echo) as port:
        t = await connect(port)
        try:
            assert (t.kind, t.linesep) == ("streams", "\n")
            assert t.get_extra_info("peer") == f"127.0.0.1:{port}"
            assert isinstance(t.get_extra_info("fd"), int)
            assert t.get_extra_info("peername")[1] == port  # passed to the writer
            assert t.get_extra_info("nope", 3) == 3
            assert repr(t).startswith("<StreamsTransport '127.0.0.1:")
        finally:
            await t.close()


async def test_half_close_keeps_reading() -> None:
    async def shout_after_eof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()  # until EOF
        writer.write(data.upper())
        await writer.drain()

    async with serve(shout_after_eof) as port:
        t = await connect(port)
        try:
            await t.write(b"quiet please")
            await t.write_eof()
            await t.write_eof()  # idempotent
            with pytest.raises(ClosedError, match="write_eof"):
                await t.write(b"more")
            data = b""
            while chunk := await t.read():
                data += chunk
            assert data == b"QUIET PLEASE"
        finally:
            await t.close()


def reset_connection(writer: asyncio.StreamWriter) -> None:
    """Close with RST, as a peer that vanishes does."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def test_a_reset_connection_is_connection_lost() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        reset_connection(writer)

    async with serve(reset) as port:
        t = await connect(port)
        try:
            await t.write(b"hello\n")
            with pytest.raises(ConnectionLostError, match="lost the connection") as info:
                while await t.read():
                    pass
            assert isinstance(info.value.__cause__, ConnectionResetError)
            with pytest.raises(ConnectionLostError):
                for _ in range(100):
                    await t.write(b"x" * 1000)
        finally:
            await t.close()


async def test_sendeof_after_a_reset_is_connection_lost() -> None:
    # sendeof() after a reset passed quietly on asyncio and raised uvloop's
    # RuntimeError; either way the next send was told that write_eof() had
    # closed the stream.  Each is ConnectionLostError now.
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello\n")
        await writer.drain()
        reset_connection(writer)

    async with serve(reset) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with aioexpect.Session.from_streams(reader, writer, timeout=10) as s:
            with pytest.raises(ConnectionLostError):
                await s.expect_exact("NEVER")
            for call in (s.sendeof, lambda: s.send("x"), s.sendeof):
                with pytest.raises(ConnectionLostError, match="is closed"):
                    await call()


async def test_a_wait_ended_by_a_reset_quotes_what_was_received() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"router1# partial output")
        await writer.drain()
        await reader.readline()
        reset_connection(writer)

    async with serve(reset) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with aioexpect.Session.from_streams(reader, writer, timeout=5) as s:
            await s.expect_exact("router1#")
            await s.sendline("go")
            with pytest.raises(ConnectionLostError) as info:
                await s.expect_exact("NEVER")
            message = str(info.value)
            assert "'NEVER'" in message and "last characters received: ' partial output'" in message
            assert s.buffer == " partial output"
            with pytest.raises(ConnectionLostError):  # a reset is not EOF either
                await s.read_all()
            assert s.buffer == " partial output"


async def test_a_reset_comes_after_all_the_data_received_before_it() -> None:
    # StreamReader.read() raises a reset before the data it still holds: a
    # session paused at max_buffer when the peer reset got 4,096 of 100,000
    # bytes, then ConnectionLostError.  Now it gets all of them first.
    data = b"".join(b"%07d\n" % i for i in range(12_500))
    go = asyncio.Event()

    async def send_then_reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        await go.wait()
        reset_connection(writer)

    async with serve(send_then_reset) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        options = {"timeout": 10, "max_buffer": 4096, "encoding": None}
        async with aioexpect.Session.from_streams(reader, writer, **options) as s:
            await wait_until(lambda: len(s.buffer) == 4096, "the session filled max_buffer")
            go.set()
            await wait_until(lambda: reader.exception() is not None, "the reader saw the reset")
            got = b""
            with pytest.raises(ConnectionLostError, match="Connection reset"):
                while chunk := await s.read_some():
                    got += chunk
            assert len(got) == len(data) and got == data


async def test_from_streams_over_the_pipes_of_a_child_that_exited() -> None:
    # On uvloop the closed pipe transport of a child that exited at once
    # raised AttributeError for get_extra_info('peername'), so from_streams
    # failed with it; now the session sees the end of file, as on asyncio.
    pipe = asyncio.subprocess.PIPE
    child = await asyncio.create_subprocess_exec("true", stdin=pipe, stdout=pipe)
    assert child.stdin is not None and child.stdout is not None
    await child.wait()
    await wait_until(child.stdin.transport.is_closing, "the child's stdin pipe closed")
    async with aioexpect.Session.from_streams(child.stdout, child.stdin, timeout=10) as s:
        assert s.transport.get_extra_info("peer") == "stream"
        assert s.transport.get_extra_info("sockname", "none") == "none"
        assert await s.read_all() == ""


Piped = tuple[asyncio.subprocess.Process, asyncio.StreamReader, asyncio.StreamWriter]


@asynccontextmanager
async def writing_child(command: str) -> AsyncIterator[Piped]:
    """``sh -c command`` with pipes for its stdin and stdout; afterwards
    killed if it is still there, and its stdout read to its end (wait()
    waits for every pipe to close)."""
    pipe = asyncio.subprocess.PIPE
    child = await asyncio.create_subprocess_exec("sh", "-c", command, stdin=pipe, stdout=pipe)
    assert child.stdin is not None and child.stdout is not None
    try:
        yield child, child.stdout, child.stdin
    finally:
        if not gone(child.pid):
            child.kill()
        await child.stdout.read()


async def test_close_closes_the_pipe_the_session_read_from() -> None:
    # close() closed the writer only: a subprocess's stdout pipe stayed open,
    # paused once full, so a child still writing to it never ended.
    async with writing_child("read line; echo ready; exec yes") as (child, stdout, stdin):
        s = aioexpect.Session.from_streams(stdout, stdin, timeout=10, max_buffer=4096)
        await s.sendline("go")
        await s.expect_exact("ready\n")
        await s.close()
        await wait_until(lambda: gone(child.pid), "the child's write to its stdout failed")
    # (SIGPIPE, or 'yes: write error' where the loop let the child ignore it)
    assert await child.wait() in (-signal.SIGPIPE, 1)


async def test_close_lets_a_child_finish_what_it_was_sent(tmp_path: Path) -> None:
    # Closing its stdout pipe at once killed a child still working through
    # queued commands: SIGPIPE at its next echo, the touch never ran.
    pipe = asyncio.subprocess.PIPE
    child = await asyncio.create_subprocess_exec("sh", "-s", stdin=pipe, stdout=pipe)
    assert child.stdin is not None and child.stdout is not None
    marker = tmp_path / "marker"
    try:
        s = aioexpect.Session.from_streams(child.stdout, child.stdin, timeout=10)
        await s.sendline("sleep 0.3; echo step1")
        await s.sendline(f"touch {marker}; echo done")
        await s.close()
    finally:
        if child.returncode is None:
            async with asyncio.timeout(10):
                await child.wait()
    assert child.returncode == 0
    assert marker.exists()


async def test_abort_closes_the_pipe_read_from_too() -> None:
    # (what a session dropped unclosed calls: the child must end as well)
    async with writing_child("echo ready; exec yes") as (child, stdout, stdin):
        t = streams_transport(stdout, stdin)
        assert await t.read(6) == b"ready\n"
        t.abort()
        await wait_until(lambda: gone(child.pid), "the child's write to its stdout failed")
    assert await child.wait() in (-signal.SIGPIPE, 1)


async def test_from_streams_wait_waits_for_the_peer_to_close() -> None:
    # wait() returned None at once on a live stream session; it now waits for
    # the connection's end (end of file, or a reset), with the same deadline.
    async def closes_on_bye(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello\n")
        await reader.readuntil(b"bye\n")
        writer.write(b"last words\n")

    async with serve(closes_on_bye) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with aioexpect.Session.from_streams(reader, writer, timeout=0.2) as s:
            await s.expect_exact("hello\n")
            with pytest.raises(aioexpect.ExpectTimeout, match=r"timed out waiting for streams"):
                await s.wait()
            await s.sendline("bye")
            assert await s.wait(timeout=10) is None
            assert await s.read_all() == "last words\n"  # (wait() takes nothing)
            assert await s.wait() is None  # at once, ended


async def test_from_streams_wait_sees_the_end_only_after_the_output_before_it() -> None:
    async def flood_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"y" * 1_000_000)
        await writer.drain()

    async with serve(flood_and_close) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with aioexpect.Session.from_streams(reader, writer, max_buffer=2000) as s:
            await wait_until(lambda: len(s.buffer) >= 2000, "the output filled max_buffer")
            with pytest.raises(aioexpect.ExpectTimeout, match="filled max_buffer") as info:
                await s.wait(timeout=0.1)
            assert "end of the connection is not seen" in str(info.value)
            got = 0
            while chunk := await s.read_some():  # as the message advises
                got += len(chunk)
            assert got == 1_000_000
            assert await s.wait(timeout=10) is None


async def test_close_gives_up_on_a_peer_that_never_reads() -> None:
    stop = asyncio.Event()

    async def deaf(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await stop.wait()

    async with serve(deaf) as port:
        t = await connect(port)
        writer = asyncio.create_task(t.write(b"x" * (64 << 20)))
        done, _ = await asyncio.wait([writer], timeout=0.2)
        assert not done, "64 MiB were accepted by a peer that does not read"
        loop = asyncio.get_running_loop()
        began = loop.time()
        await t.close()
        assert loop.time() - began < CLOSE_GRACE + 1.0
        with pytest.raises(ClosedError):
            await writer
        stop.set()


async def test_pending_read_ends_with_closed_error() -> None:
    async with serve(echo) as port:
        t = await connect(port)
        pending = asyncio.create_task(t.read())
        await asyncio.sleep(0)
        await t.close(force=True)
        with pytest.raises(ClosedError):
            await pending
        await t.close()


async def test_type_errors() -> None:
    reader = asyncio.StreamReader()
    with pytest.raises(TypeError, match="writer"):
        streams_transport(reader, object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reader"):
        streams_transport(object(), object())  # type: ignore[arg-type]


async def test_from_streams_names_itself_for_an_option_it_does_not_take() -> None:
    # Python's own message named Session.__init__, which the user never called.
    async with serve(echo) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            with pytest.raises(TypeError, match=r"^Session.from_streams\(\) got unexp") as info:
                aioexpect.Session.from_streams(reader, writer, dimensions=(24, 80), pty=True)
            assert str(info.value).endswith(" keyword argument(s): dimensions, pty")
        finally:
            writer.close()
            await writer.wait_closed()


async def test_session_from_streams() -> None:
    async with serve(echo) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with aioexpect.Session.from_streams(reader, writer, timeout=10) as s:
            await s.sendline("ping 42")
            m = await s.expect(r"ping (\d+)\n")
            assert m.group(1) == "42"
            await s.sendeof()
            assert await s.read_all() == ""
        assert s.closed


#: A server in a process of its own, for one connection on 127.0.0.1
#: (argv[1] "tcp": its port is printed) or on the UNIX socket argv[1]:
#: says start, argv[2] bytes of x and bye, and once the client's kernel
#: holds all of it (TCP: nothing left in its own send queue), hangs up as
#: argv[3] says: "close" (FIN) or "reset".  Exit status 3: the kernel's
#: buffers hold less than it says (no test then).
_SAYS_ALL_AND_HANGS_UP = r"""
import array, fcntl, socket, struct, sys, termios, time
where, size, ending = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ls = socket.socket(socket.AF_INET if where == "tcp" else socket.AF_UNIX)
ls.bind(("127.0.0.1", 0) if where == "tcp" else where); ls.listen(1)
print(ls.getsockname()[1] if where == "tcp" else 0, flush=True)
c, _ = ls.accept(); c.settimeout(10)
try: c.sendall(b"start\r\n" + b"x" * size + b"\r\nbye\r\n")
except OSError: raise SystemExit(3)
queued, deadline = array.array("i", [1]), time.monotonic() + 10
while where == "tcp" and queued[0]:
    fcntl.ioctl(c.fileno(), termios.TIOCOUTQ, queued)  # (SIOCOUTQ: not yet acknowledged)
    if time.monotonic() > deadline: raise SystemExit(3)
    time.sleep(0.01)
if ending == "reset": c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
"""

TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8


def _tcp_state(sock: socket.socket) -> int:
    return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0])


async def _within(predicate: Callable[[], bool], limit: float) -> bool:
    """Whether ``predicate`` holds within ``limit`` seconds (polled)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def _sendline(s: aioexpect.Session) -> str:
    try:
        await s.sendline("logout")
    except aioexpect.AioexpectError as exc:
        return type(exc).__name__
    return "returned"


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="reads the TCP state (Linux)")
@pytest.mark.parametrize(
    ("where", "ending", "sends", "end"),
    [
        ("tcp", "close", ["returned", "ConnectionLostError"], "EOF"),
        ("unix", "close", ["ConnectionLostError", "ConnectionLostError"], "EOF"),
        ("tcp", "reset", ["ConnectionLostError", "ConnectionLostError"], "ConnectionLostError"),
    ],
)
async def test_a_send_to_a_server_that_hung_up_loses_nothing_it_said(
    where: str, ending: str, sends: list[str], end: str, tmp_path: Path
) -> None:
    # The session stopped reading at max_buffer, so the server's last 200 kB
    # or so, and its end, wait in the kernel.  A line sent to the closed
    # server draws a reset (TCP), and the send after it fails, as one to a
    # closed UNIX socket does at once; both loops then closed the socket,
    # and what the kernel held was lost: reading ended with the reset
    # (ConnectionLostError) after 160 to 390 kB of 400 kB.  Now all of it is
    # read, then EOF (a reset, where the server reset the connection); each
    # send that met the closed peer still raises ConnectionLostError.
    size = 400_000 if where == "tcp" else 300_000  # (a UNIX socket holds less)
    path = str(tmp_path / "s.sock")
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SAYS_ALL_AND_HANGS_UP,
        "tcp" if where == "tcp" else path,
        str(size),
        ending,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        port = int(await asyncio.wait_for(server.stdout.readline(), 30))
        if where == "tcp":
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        else:
            reader, writer = await asyncio.open_unix_connection(path)
        options = {"timeout": 10, "max_buffer": 1000}
        async with aioexpect.Session.from_streams(reader, writer, **options) as s:
            await s.expect_exact("start")
            if await asyncio.wait_for(server.wait(), 30) == 3:
                pytest.skip("the socket buffers here hold less than the test sends")
            sock = writer.get_extra_info("socket")
            if where == "tcp":
                over = TCP_CLOSE_WAIT if ending == "close" else TCP_CLOSE
                if not await _within(lambda: _tcp_state(sock) == over, 10):
                    pytest.skip("the server's end did not reach the kernel here")
            got = [await _sendline(s)]
            if (where, ending) == ("tcp", "close"):  # (the closed server's kernel resets)
                await wait_until(lambda: _tcp_state(sock) == TCP_CLOSE, "the reset is in")
            got.append(await _sendline(s))
            said, ended = await said_and_end(s)
            assert (len(said), said[-8:], ended) == (size + 9, "x\r\nbye\r\n", end)
            assert got == sends or (_write_errors_unseen() and set(got) <= {*sends, "returned"})
    finally:
        if server.returncode is None:
            server.kill()
        await server.wait()


def _write_errors_unseen() -> bool:
    """Whether the running loop may let a write into a closed peer return:
    uvloop 0.17 (the floor ``nox -s mindeps`` runs) reports that failure to
    no write, where asyncio and uvloop 0.23 raise it (the versions between
    were not tried: either is taken from them)."""
    loop = asyncio.get_running_loop()
    if type(loop).__module__.split(".")[0] != "uvloop":
        return False
    return tuple(int(part) for part in version("uvloop").split(".")[:2]) < (0, 23)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="a UNIX socket")
async def test_all_a_unix_peer_said_arrives_past_the_receive_buffer() -> None:
    # A UNIX socket's queue is bounded by the sender's send buffer, not by
    # the reader's SO_RCVBUF: a peer with a larger one left more in the
    # kernel than one SO_RCVBUF, and the send that met its end (EPIPE at
    # once) closed the socket with the rest unread, lost.
    ours, peer = socket.socketpair()
    with peer:
        rcvbuf = ours.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * rcvbuf)  # (capped: wmem_max)
        peer.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        async with aioexpect.Session.from_streams(reader, writer, timeout=10, max_buffer=1000) as s:
            said, idle = 0, 0
            while idle < 5:  # (until the paused session's kernel takes no more)
                try:
                    said += peer.send(b"x" * 65536)
                    idle = 0
                except BlockingIOError:
                    idle += 1
                    await asyncio.sleep(0.02)
            held = array.array("i", [0])
            fcntl.ioctl(ours.fileno(), termios.FIONREAD, held)
            if held[0] <= rcvbuf:
                pytest.skip("the kernel here holds no more than the receive buffer")
            peer.close()
            sent = await _sendline(s)
            assert sent == "ConnectionLostError" or (_write_errors_unseen() and sent == "returned")
            text, ended = await said_and_end(s)
            assert (len(text), ended) == (said, "EOF")
