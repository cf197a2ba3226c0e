"""An attached session that floods a console client which does not read: the
session stops reading (back-pressure) instead of filling the program's
memory, the client gets everything in order once it reads, and what it did
not get is the program's again after a detach, a disconnect or a shutdown.
And the other way round: a program's full buffer does not hold back the
client attached to it."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import pytest

import aioexpect
from aioexpect import start_console_server
from tests.helpers import opened, read_until, wait_until

LINES = 200_000  # 100 bytes each: 20 MB
WIDTH = 100
TOTAL = LINES * WIDTH
#: What may be read while the client reads nothing: the console's 1 MiB,
#: one read of the session and what the kernel buffers between the two ends.
BOUND = 8 << 20
LIMIT = 60.0
EXPECTED = "".join(f"{n:09d} {'y' * (WIDTH - 11)}\n" for n in range(LINES))
FLOOD = f"""
import sys
sys.stdin.readline()
for n in range({LINES}):
    sys.stdout.write(f"{{n:09d}} {{'y' * {WIDTH - 11}}}\\n")
"""


def flooding() -> Any:
    """A session that writes the numbered lines of ``EXPECTED`` once it has
    read a line (so that nothing is buffered before it is attached)."""
    return aioexpect.spawn(sys.executable, ["-c", FLOOD], pty=False, timeout=LIMIT, max_buffer=None)


async def until_held_back(s: aioexpect.Session) -> None:
    """Until the session stopped reading for its attached client, or read
    the whole flood (no back-pressure); then its reading must be bounded."""
    await wait_until(lambda: s._sink_full or s.bytes_in >= TOTAL, "reading pauses", LIMIT)
    assert s.bytes_in < BOUND, f"read {s.bytes_in} bytes for a client that reads nothing"


async def read_to(reader: Any, marker: bytes) -> bytes:
    """Everything up to ``marker`` (excluded), in chunks of any size.  Each
    chunk is searched with the end of the one before, not all that came (a
    flood of tens of MiB in 64 KiB reads took half a minute so)."""
    data = bytearray()
    found = -1
    async with asyncio.timeout(LIMIT):
        while found < 0:
            chunk = await reader.read(1 << 16)
            assert chunk, f"the end before {marker!r}"
            start = max(0, len(data) - len(marker) + 1)
            data += chunk
            found = data.find(marker, start)
    return bytes(data[:found])


@asynccontextmanager
async def slow_client(
    server: Any, *, rcvbuf: int = 4096
) -> AsyncIterator[tuple[asyncio.StreamReader, Any]]:
    """A client with a small receive buffer (little kept by the kernel, and
    never more: a buffer set so is not tuned by it), logged in and at the
    prompt."""
    family = socket.AF_UNIX if server.path is not None else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(
            sock, server.path or (server.host, server.port)
        )
    except BaseException:
        sock.close()
        raise
    if server.path is not None:
        reader, writer = await asyncio.open_unix_connection(sock=sock)
    else:
        reader, writer = await asyncio.open_connection(sock=sock)
    try:
        await read_to(reader, b">>> ")
        yield reader, writer
    finally:
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()


@asynccontextmanager
async def served(how: str, s: aioexpect.Session, tmp_path: Any) -> AsyncIterator[Any]:
    options: dict[str, Any] = {"path": tmp_path / "console.sock"} if how == "unix" else {}
    async with start_console_server(locals={"s": s}, **options) as server:
        yield server


async def attach_and_start(s: aioexpect.Session, writer: Any, reader: Any) -> None:
    writer.write(b"await attach(s)\n")
    await read_to(reader, b"Ctrl-] detaches\r\n")
    writer.write(b"go\n")  # the flood starts
    await writer.drain()


@pytest.mark.parametrize("how", ["tcp", "unix"])
async def test_a_client_that_does_not_read_holds_the_session_back(how: str, tmp_path: Any) -> None:
    async with flooding() as s, served(how, s, tmp_path) as server:
        async with slow_client(server) as (reader, writer):
            await attach_and_start(s, writer, reader)
            await until_held_back(s)
            got = await read_to(reader, f"\nsession #{s.id} ended\n".encode())
        assert got.decode() == EXPECTED  # all of it, in order, once it reads


async def test_detaching_while_held_back_leaves_the_rest_to_the_program(tmp_path: Any) -> None:
    async with flooding() as s, served("tcp", s, tmp_path) as server:
        async with slow_client(server) as (reader, writer):
            await attach_and_start(s, writer, reader)
            await until_held_back(s)
            writer.write(b"\x1d")
            got = (await read_to(reader, f"\nsession #{s.id} detached\n".encode())).decode()
            rest = (await s.expect(aioexpect.EOF)).before
        assert got and rest
        assert got + rest == EXPECTED  # nothing lost, nothing twice


async def test_a_client_that_leaves_while_held_back_hands_the_rest_to_the_program(
    tmp_path: Any,
) -> None:
    async with flooding() as s, served("tcp", s, tmp_path) as server:
        async with slow_client(server) as (reader, writer):
            await attach_and_start(s, writer, reader)
            await until_held_back(s)
        # It leaves with output unread: what was written to it is lost with it.
        rest = (await s.expect(aioexpect.EOF)).before
        await wait_until(lambda: server.clients == 0, "the client's console ended")
    assert 0 < len(rest) < TOTAL
    assert EXPECTED.endswith(rest)  # the session read on, in order, to the end


async def test_closing_the_server_while_held_back_hands_the_rest_to_the_program(
    tmp_path: Any,
) -> None:
    async with flooding() as s, served("tcp", s, tmp_path) as server:
        async with slow_client(server) as (reader, writer):
            await attach_and_start(s, writer, reader)
            await until_held_back(s)
            server.close()  # the attach is cancelled
            # The client reads meanwhile: what was sent to it is lost if it
            # does not take it within the server's close grace.
            async with asyncio.timeout(LIMIT):
                sent, after = await asyncio.gather(reader.read(), s.expect(aioexpect.EOF))
            got, rest = sent.decode(), after.before  # what it was sent, then the end
            await server.wait_closed()
    assert got and rest
    assert got + rest == EXPECTED


async def test_closing_the_session_while_held_back_ends_the_attach(tmp_path: Any) -> None:
    async with flooding() as s, served("tcp", s, tmp_path) as server:
        async with slow_client(server) as (reader, writer):
            await attach_and_start(s, writer, reader)
            await until_held_back(s)
            await s.close(force=True)
            got = await read_to(reader, f"\nsession #{s.id} ended\n>>> ".encode())
            assert EXPECTED.startswith(got.decode())  # as far as it was read, in order
            writer.write(b"'console goes on'\n")
            assert await read_to(reader, b">>> ") == b"'console goes on'\n"


#: What a program that reads nothing has buffered when it is attached to.
FULL = 1000
NUMBERS = "".join(f"{n}\r\n" for n in range(1, 1001))  # 4,893 characters through a pty


async def upto(reader: asyncio.StreamReader, marker: bytes) -> bytes:
    """Everything up to ``marker`` (excluded); what follows stays unread."""
    async with asyncio.timeout(LIMIT):
        return (await reader.readuntil(marker))[: -len(marker)]


async def test_attaching_to_a_program_s_full_buffer_shows_the_session_live(tmp_path: Any) -> None:
    # Reading stayed paused for the program's full buffer: the client saw
    # the buffered text, and then nothing, not even the answer to its input.
    shell = "seq 1 1000; read x; echo GOT$x; exec cat"
    spawned = aioexpect.spawn("sh", ["-c", shell], timeout=LIMIT, max_buffer=FULL)
    async with spawned as s, served("tcp", s, tmp_path) as server:
        await wait_until(lambda: len(s.buffer) == FULL, "the program's buffer is full")
        async with slow_client(server) as (reader, writer):
            writer.write(b"await attach(s)\n")
            await upto(reader, b"Ctrl-] detaches\r\n")
            shown = await upto(reader, b"1000\r\n")
            assert shown.decode() + "1000\r\n" == NUMBERS
            writer.write(b"zz\n")
            await upto(reader, b"GOTzz\r\n")
            writer.write(b"\x1d")
            await upto(reader, f"\nsession #{s.id} detached\n>>> ".encode())
        # What it had buffered is still the program's (console.rst); what the
        # client was shown afterwards is not.
        assert s.buffer == NUMBERS[:FULL]
        assert (await s.expect(aioexpect.FULL_BUFFER)).before == NUMBERS[:FULL]
        await s.sendline("after")
        assert (await s.expect_exact("after\r\nafter\r\n")).before == ""


async def test_a_full_buffer_attached_over_a_pump_stays_within_max_buffer_after(
    tmp_path: Any,
) -> None:
    # A transport that is read (not pushed): the same freeze; and a read
    # started while attached must not overfill the buffer once detached.
    first = "".join(f"{n:05d}\n" for n in range(1000)).encode()  # 6,000 bytes
    later = "".join(f"L{n:04d}\n" for n in range(500)).encode()  # 3,000 bytes
    async with opened(limit=64, max_buffer=FULL, timeout=LIMIT) as (s, peer):
        writing = asyncio.ensure_future(peer.write(first))
        await wait_until(lambda: len(s.buffer) == FULL, "the program's buffer is full")
        async with served("tcp", s, tmp_path) as server, slow_client(server) as (reader, writer):
            writer.write(b"await attach(s)\n")
            await upto(reader, b"Ctrl-] detaches\r\n")
            assert await upto(reader, b"00999\n") + b"00999\n" == first
            await writing
            writer.write(b"zz\n")
            assert await read_until(peer, b"zz\n") == b"zz\n"
            await peer.write(b"GOTzz\n")
            await upto(reader, b"GOTzz\n")
            writer.write(b"\x1d")
            await upto(reader, f"\nsession #{s.id} detached\n>>> ".encode())
        await peer.write(later)  # the session's read was under way: it took it
        assert s.buffer == first[:FULL].decode()  # max_buffer holds
        got = (await s.expect(aioexpect.FULL_BUFFER)).before
        assert got == first[:FULL].decode()
        while len(got) < FULL + len(later):
            got += await s.read_some()
        assert got == (first[:FULL] + later).decode()
