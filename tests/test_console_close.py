"""Closing a served console while a client does not read what it was sent:
``close()`` gives such a client a short grace, then drops its connection,
whether or not anything waits (``wait_closed()``, ``async with``) for it,
instead of keeping it for ever; and closing ends every client, whenever it
connected."""

from __future__ import annotations

import asyncio
import errno
import gc
import inspect
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from aioexpect import _console_server, start_console_server
from tests.test_console_flood import read_to, slow_client
from tests.test_console_server import Client, connected
from tests.test_console_ssh import Keys, keys  # noqa: F401  (the fixture)

#: More than the (shortened) grace and any loop's slack, far less than "for ever".
LIMIT = 10.0
#: Output that cannot all sit in the kernel's buffers between the two ends.
FLOOD = "print('x' * 20_000_000)"
#: Over SSH, more than the channel's window (2 MiB) will do: the server's line
#: editor makes each byte dear.
SSH_FLOOD = "print('x' * 3_000_000)"
FLOOD_OUTPUT = 20_000_000
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


async def until_gone(reader: asyncio.StreamReader) -> int:
    """Read to the end the server left the connection with (EOF or reset):
    how many bytes came until then."""
    received = 0
    async with asyncio.timeout(LIMIT):
        with suppress(ConnectionError):
            while chunk := await reader.read(1 << 16):
                received += len(chunk)
    return received


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


def dial(server: Any) -> socket.socket:
    """A socket connecting to ``server`` without waiting: the test looks on
    while the server accepts it."""
    sock = socket.socket(socket.AF_UNIX if server.path else socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    if sock.connect_ex(server.path or (server.host, server.port)) not in (0, errno.EINPROGRESS):
        sock.close()
        raise ConnectionError(f"cannot connect to {server.address}")
    return sock


@pytest.mark.parametrize("how", ["tcp", "unix"])
@pytest.mark.parametrize("refused", [False, True], ids=["served", "refused"])
async def test_close_ends_a_client_whose_task_has_not_run_yet(
    how: str, refused: bool, tmp_path: Path
) -> None:
    # close() cancelled the task of a client accepted a moment before, before
    # that task ever ran: nothing closed its connection, and the client was
    # never given the end.
    server = await start_console_server(max_clients=1, **options(how, tmp_path))
    try:
        async with AsyncExitStack() as clients:
            if refused:  # (the one slot is taken: the next client is told why)
                first = await clients.enter_async_context(connected(server))
                await first.prompt()
            sock = dial(server)
            tasks = server._telling if refused else server._tasks
            async with asyncio.timeout(LIMIT):
                while not tasks:  # looked at on every step: the task runs a step later
                    await asyncio.sleep(0)
            assert [inspect.getcoroutinestate(t.get_coro()) for t in tasks] == ["CORO_CREATED"]
            server.close()
            async with asyncio.timeout(LIMIT):
                await server.wait_closed()
            if server.path is not None:
                reader, writer = await asyncio.open_unix_connection(sock=sock)
            else:
                reader, writer = await asyncio.open_connection(sock=sock)
            clients.callback(writer.close)
            why = b"aioexpect console: refused: max_clients=1 reached\r\n" if refused else b""
            assert await Client(reader, writer).rest() == why  # (it hung: no end ever came)
    finally:
        server.close()


@pytest.mark.parametrize("how", ["tcp", "unix"])
@pytest.mark.parametrize("waiting", ["nothing", "cancelled", "own statement"])
async def test_close_alone_drops_a_client_that_does_not_read(
    how: str, waiting: str, tmp_path: Path
) -> None:
    # Only a wait_closed() that ran to its end dropped such a client: after
    # close() alone, a cancelled wait (a shutdown under its own time limit),
    # or a client's own `srv.close(); await srv.wait_closed()` (that wait is
    # cancelled with the client), its connection and output were kept for ever.
    shared: dict[str, Any] = {}
    server = await start_console_server(locals=shared, **options(how, tmp_path))
    shared["srv"] = server
    try:
        async with not_reading(server, FLOOD) as reader:
            await read_to(reader, b"xxxx")
            if waiting == "own statement":
                async with connected(server) as closing:
                    await closing.prompt()
                    closing.writer.write(b"srv.close(); await srv.wait_closed()\n")
                    await closing.rest()
            else:
                server.close()
            if waiting == "cancelled":
                with suppress(TimeoutError):
                    async with asyncio.timeout(CLOSE_WAIT):
                        await server.wait_closed()
            async with asyncio.timeout(LIMIT):
                while server.clients:  # its connection is held until it is dropped
                    await asyncio.sleep(0.01)
            assert await until_gone(reader) < FLOOD_OUTPUT // 2  # the rest was dropped
        async with asyncio.timeout(LIMIT):
            await server.wait_closed()
    finally:
        server.close()


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


@pytest.mark.parametrize("how", ["tcp", "unix"])
async def test_close_does_not_wait_for_a_client_whose_statement_swallows_the_cancellation(
    how: str, tmp_path: Path
) -> None:
    # The clients' tasks were waited for with no limit: one whose running
    # statement caught CancelledError outlived close(), its console still
    # running statements, and wait_closed() hung.
    started = asyncio.Event()

    async def stubborn() -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return "swallowed"
        return "never"

    server = await start_console_server(locals={"stubborn": stubborn}, **options(how, tmp_path))
    try:
        async with connected(server) as client:
            await client.prompt()
            client.writer.write(b"await stubborn()\n")
            async with asyncio.timeout(LIMIT):
                await started.wait()
            server.close()
            async with asyncio.timeout(LIMIT):
                await server.wait_closed()  # (it hung here)
            client.writer.write(b"print(6 * 7)\n")  # too late: its console is gone
            rest = b""
            with suppress(ConnectionError):
                rest = await client.rest()
            assert b"42" not in rest
        async with asyncio.timeout(LIMIT):
            while server.clients:
                await asyncio.sleep(0.01)
    finally:
        server.close()
