"""serve_telnet and serve_ssh: how connections end.  A client that vanishes
while a handler asks, a close that lands at any step of an SSH exec request,
a client that does not read when the server closes, and a shutdown whose
wait_closed() is under a time limit of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import Coroutine
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import EOF
from aioexpect.testing import VirtualDevice, _serve, ask, serve_ssh, serve_telnet
from tests.helpers import wait_until

from .test_virtual_device import connect

#: A bound on every wait: far more than a close takes, far less than "for ever".
LIMIT = 10.0
#: Output that cannot all sit in the kernel's buffers between the two ends.
FLOOD = ("x" * 99 + "\n") * 120_000
FLOOD_END = "the end of the flood"


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The grace a closing server gives, shortened for speed."""
    monkeypatch.setattr(_serve, "CLOSE_GRACE", 0.2)


def asking_device(seen: list[str]) -> VirtualDevice:
    """``q`` asks for a line, ``k`` for a key; each notes how its ask ended."""

    async def question(command: str, m: re.Match[str]) -> str:
        try:
            return await ask("Name? ", key=command == "k")
        except EOFError:
            seen.append("EOFError")
            raise
        except BaseException as exc:
            seen.append(type(exc).__name__)
            raise

    return VirtualDevice("r1", commands={"q|k": question})


@pytest.mark.parametrize("command", ["q", "k"], ids=["line", "key"])
@pytest.mark.parametrize("channel", ["shell", "exec"])
async def test_an_ssh_client_that_vanishes_while_asked_gives_eof_error(
    channel: str, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The connection lost (a killed ssh, a network drop) raised asyncssh's
    # ConnectionLost out of ask(): the handler's `except EOFError:` clean-up
    # did not run, and its failure was logged at ERROR with a traceback.
    seen: list[str] = []
    async with serve_ssh(asking_device(seen)) as server:
        conn = await asyncssh.connect(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, username="u"
        )
        try:
            if channel == "exec":
                _, stdout, _ = await conn.open_session(command)
            else:
                stdin, stdout, _ = await conn.open_session(term_type="vt100")
                await stdout.readuntil("r1#")
                stdin.write(command + "\r")
            async with asyncio.timeout(LIMIT):
                await stdout.readuntil("Name? ")
        finally:
            conn.abort()  # the client vanishes: no channel close, no end of file
        await wait_until(lambda: bool(seen), "the handler's ask ended")
        assert seen == ["EOFError"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_close_drops_a_telnet_client_that_does_not_read(short_grace: None) -> None:
    # The connection's graceful close waited for the client to take its
    # output: one that never read stayed connected for ever, after close()
    # and wait_closed() had both returned.
    dev = VirtualDevice("r1", commands={"flood": FLOOD + FLOOD_END})
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # (little kept by the kernel)
    sock.setblocking(False)
    async with serve_telnet(dev) as server:
        try:
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
        except BaseException:
            sock.close()
            raise
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        try:
            async with asyncio.timeout(LIMIT):
                await reader.readuntil(b"r1#")  # (the telnet negotiation, unanswered)
                writer.write(b"flood\r\n")
                await reader.readuntil(b"xxxx")  # its output backs up from here
                server.close()
                await server.wait_closed()
                received = 0
                try:
                    while chunk := await reader.read(1 << 16):
                        received += len(chunk)
                except ConnectionError:
                    pass
        finally:
            writer.close()
    assert received < len(FLOOD) // 2  # dropped, the rest of its output with it


def close_at(server: Any, nth: int, closed: list[bool]) -> None:
    """Close ``server`` at once after the ``nth`` task the loop creates from
    now on, in the same step: before that task took its first step."""
    loop = asyncio.get_running_loop()
    created = 0

    def factory(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kw: Any) -> Any:
        nonlocal created
        task = asyncio.Task(coro, loop=loop, **kw)
        created += 1
        if created == nth:
            server.close()
            closed.append(True)
        return task

    loop.set_task_factory(factory)


async def test_an_ssh_exec_request_is_ended_by_a_close_at_any_step() -> None:
    # An exec request's handler task, created by asyncssh just before close()
    # and not yet run, was known to the server only from its first step on:
    # close() never cancelled it, and wait_closed() waited for it for ever.
    started: list[int] = []

    async def forever(command: str, m: re.Match[str]) -> str:
        started.append(nth)
        await asyncio.Event().wait()
        return "never"

    dev = VirtualDevice("r1", commands={"forever": forever})
    loop = asyncio.get_running_loop()
    for nth in range(1, 40):  # every step until the handler runs before the close
        closed: list[bool] = []
        server = await serve_ssh(dev)
        conn = await asyncssh.connect(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, username="u"
        )
        close_at(server, nth, closed)
        running = asyncio.ensure_future(conn.run("forever"))
        try:
            async with asyncio.timeout(LIMIT):
                while not closed and not started:
                    await asyncio.sleep(0)
                server.close()
                await server.wait_closed()  # (it hung here)
        finally:
            loop.set_task_factory(None)
            running.cancel()
            conn.abort()
            await asyncio.gather(running, return_exceptions=True)
            server.close()
        if started:  # (this close came after the handler's start: so will every later one)
            break
    assert started, "the handler never ran"


@pytest.mark.parametrize("serve", [serve_ssh, serve_telnet], ids=["ssh", "telnet"])
async def test_a_cancelled_wait_closed_leaves_the_handlers_their_grace(serve: Any) -> None:
    # A shutdown under a time limit of its own (wait_closed() cancelled)
    # cancelled the handlers' clean-up at once, instead of leaving them the
    # grace the close gives them.
    seen: list[str] = []
    cleaning = asyncio.Event()
    proceed = asyncio.Event()

    async def cleans_up(command: str, m: re.Match[str]) -> str:
        try:
            return await ask("Name? ")
        except EOFError:
            cleaning.set()
            await proceed.wait()
            seen.append("clean-up done")
            raise

    dev = VirtualDevice("r1", commands={"q": cleans_up})
    async with serve(dev) as server, connect(serve, server) as s:
        await s.expect_prompt()
        await s.sendline("q")
        await s.expect_exact("Name? ")
        server.close()
        waiting = asyncio.ensure_future(server.wait_closed())
        async with asyncio.timeout(LIMIT):
            await cleaning.wait()
        await asyncio.sleep(0.1)  # (the wait is past the listener, at the handlers)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        proceed.set()
        async with asyncio.timeout(LIMIT):
            await server.wait_closed()
    assert seen == ["clean-up done"]


@pytest.mark.parametrize("prompted", [False, True], ids=["at once", "after the prompt"])
async def test_a_telnet_client_gets_an_end_of_file_when_the_server_closes(
    prompted: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # A close right after a client connected reset its connection: the
    # client's answers to the negotiation reached a socket already closed,
    # and the client got ConnectionLostError (ECONNRESET), what it had not
    # read lost with it, instead of the end of file SSH gives.
    for _ in range(3):
        async with (
            serve_telnet(VirtualDevice("r1")) as server,
            connect(serve_telnet, server) as s,
        ):
            if prompted:
                await s.expect_prompt()
            server.close()
            await s.expect(EOF)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_telnet_client_that_types_on_after_the_close_is_not_reset() -> None:
    # What a client sends after the server's end of file is read and
    # dropped until the client ends too: it was answered with a reset.
    async with serve_telnet(VirtualDevice("r1")) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            async with asyncio.timeout(LIMIT):
                await reader.readuntil(b"r1#")  # (the negotiation, unanswered)
                server.close()
                for _ in range(100):
                    writer.write(b"typed ahead\r\n")
                assert await reader.read() == b""  # the end of file, not ECONNRESET
        finally:
            writer.close()


async def test_a_close_right_after_a_client_left_unread_raises_nothing() -> None:
    # The client closed before reading its first prompt: its kernel answered
    # with a reset, not yet noticed by the server's transport, and the
    # server's end of file raised a bare OSError (ENOTCONN) out of close(),
    # which then left the rest of its closing undone.
    for _ in range(3):
        async with serve_telnet(VirtualDevice("r1")) as server:
            s = await aioexpect.connect_telnet("127.0.0.1", server.port, timeout=LIMIT)
            await s.close()
            server.close()
            async with asyncio.timeout(LIMIT):
                await server.wait_closed()
        assert server.closed


@pytest.mark.parametrize("serve", [serve_ssh, serve_telnet], ids=["ssh", "telnet"])
async def test_a_handler_that_swallows_its_cancellation_does_not_hold_the_close(
    serve: Any, short_grace: None, caplog: pytest.LogCaptureFixture
) -> None:
    # wait_closed() (and so `async with serve(...)`, a fixture's teardown)
    # waited for ever, silently, on a handler that swallowed CancelledError.
    release = asyncio.Event()
    running = asyncio.Event()

    async def stubborn(command: str, m: re.Match[str]) -> str:
        running.set()
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await release.wait()
        return "released"

    server = await serve(VirtualDevice("r1", commands={"stubborn": stubborn}))
    try:
        async with connect(serve, server) as s:
            await s.expect_prompt()
            await s.sendline("stubborn")
            async with asyncio.timeout(LIMIT):
                await running.wait()
            server.close()
            async with asyncio.timeout(LIMIT):
                await server.wait_closed()
    finally:
        release.set()  # (it ends: nothing is left to the loop's shutdown)
        server.close()
    told = [r for r in caplog.records if r.name == "aioexpect.testing" and r.levelname == "WARNING"]
    assert len(told) == 1 and "does it swallow CancelledError?" in told[0].getMessage()
    assert "<VirtualDevice 'r1'" in told[0].getMessage()
