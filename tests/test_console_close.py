"""Closing a served console while a client does not read what it was sent:
``close()`` and ``wait_closed()`` (and ``async with``) give such a client a
short grace, then drop its connection, instead of waiting for it for ever."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from aioexpect import _console_server, start_console_server
from tests.test_console_flood import read_to, slow_client
from tests.test_console_ssh import Keys, keys  # noqa: F401  (the fixture)

#: More than the (shortened) grace and any loop's slack, far less than "for ever".
LIMIT = 10.0
#: Output that cannot all sit in the kernel's buffers between the two ends.
FLOOD = "print('x' * 20_000_000)"
#: Over SSH, more than the channel's window (2 MiB) will do: the server's line
#: editor makes each byte dear.
SSH_FLOOD = "print('x' * 3_000_000)"
#: How long a shutdown under a time limit of its own waits (less than the grace).
CLOSE_WAIT = 0.05


@pytest.fixture(autouse=True)
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The grace a client is given to take its output, shortened for speed."""
    monkeypatch.setattr(_console_server, "CLOSE_GRACE", 0.2, raising=False)


@asynccontextmanager
async def not_reading(server: Any, line: str) -> AsyncIterator[asyncio.StreamReader]:
    """A client, at the prompt, that sends ``line`` and then reads nothing
    (its receive buffer small, so that the server's output backs up)."""
    async with slow_client(server) as (reader, writer):
        writer.write(line.encode() + b"\n")
        await writer.drain()
        yield reader


async def until_gone(reader: asyncio.StreamReader) -> None:
    """Read to the end the server left the connection with (EOF or reset)."""
    async with asyncio.timeout(LIMIT):
        with suppress(ConnectionError):
            while await reader.read(1 << 16):
                pass


def options(how: str, tmp_path: Path) -> dict[str, Any]:
    return {"path": tmp_path / "console.sock"} if how == "unix" else {}


@pytest.mark.parametrize("how", ["tcp", "unix"])
@pytest.mark.parametrize("line", [FLOOD, f"{FLOOD}; exit()"])
async def test_close_does_not_wait_for_a_client_that_does_not_read(
    how: str, line: str, tmp_path: Path
) -> None:
    server = await start_console_server(**options(how, tmp_path))
    try:
        async with not_reading(server, line) as reader:
            await read_to(reader, b"xxxx")  # the statement runs: its output backs up
            server.close()
            async with asyncio.timeout(LIMIT):  # (it hung here for ever)
                await server.wait_closed()
            assert server.clients == 0
            await until_gone(reader)  # its connection was dropped
    finally:
        server.close()


async def test_async_with_exit_does_not_wait_for_a_client_that_does_not_read() -> None:
    async with AsyncExitStack() as clients:
        async with asyncio.timeout(LIMIT), start_console_server() as server:
            reader = await clients.enter_async_context(not_reading(server, FLOOD))
            await read_to(reader, b"xxxx")
        await until_gone(reader)  # the exit returned, and dropped the client


async def test_close_over_ssh_does_not_wait_for_a_client_that_does_not_read(
    keys: Keys,  # noqa: F811
) -> None:
    server = await start_console_server(
        ssh_host_keys=[str(keys.host_key)], authorized_client_keys=str(keys.authorized)
    )
    try:
        assert server.port is not None
        async with asyncssh.connect(
            "127.0.0.1",
            server.port,
            username="console",
            client_keys=[str(keys.client_key)],
            known_hosts=str(keys.known_hosts(server.port)),
        ) as conn:
            process = await conn.create_process(term_type="xterm", encoding=None)
            await read_to(process.stdout, b">>> ")
            process.stdin.write(SSH_FLOOD.encode() + b"\r")
            await read_to(process.stdout, b"xxxx")
            server.close()
            async with asyncio.timeout(LIMIT):
                await server.wait_closed()
                await conn.wait_closed()
            assert server.clients == 0
    finally:
        server.close()


async def test_a_client_that_closes_the_server_and_waits_for_it() -> None:
    # wait_closed() from a client's own statement gathered that client's
    # task too: a RecursionError in cancelling, and both ends hung.
    shared: dict[str, Any] = {}
    server = await start_console_server(locals=shared)
    shared["srv"] = server
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        await read_to(reader, b">>> ")
        writer.write(b"srv.close(); await srv.wait_closed()\n")
        await writer.drain()
        await until_gone(reader)  # the statement ended that client's console too
        async with asyncio.timeout(LIMIT):
            await server.wait_closed()
        assert server.clients == 0
    finally:
        server.close()
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()


@pytest.mark.parametrize("line", [FLOOD, f"{FLOOD}; exit()"])
async def test_a_client_that_resets_while_the_server_closes_leaves_no_traceback(
    line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wait for the connection's end, left running by a cancelled wait
    # (wait_closed() under a time limit, or close() ending a client that was
    # handing over its last output), failed with ConnectionResetError and
    # nobody took it: asyncio logged "Task exception was never retrieved".
    monkeypatch.setattr(_console_server, "CLOSE_GRACE", LIMIT / 2)  # the client leaves first
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
    server = await start_console_server()
    try:
        async with slow_client(server) as (reader, writer):
            writer.write(line.encode() + b"\n")
            await writer.drain()
            await read_to(reader, b"xxxx")
            server.close()
            with suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_WAIT):
                    await server.wait_closed()
            writer.transport.abort()  # the client resets its connection
            async with asyncio.timeout(LIMIT):
                await server.wait_closed()
    finally:
        server.close()
    gc.collect()
    await asyncio.sleep(0)
    assert not errors
