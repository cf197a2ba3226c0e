"""A session is closed in the event loop that opened it: ``close()``,
``async with``'s end and ``wait()`` in another running loop are refused at
once, and leave the session to its own loop, on every transport."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import aioexpect
from tests.conftest import LOOPS
from tests.helpers import echo, serve
from tests.test_ssh import connect as connect_ssh
from tests.test_ssh import ssh_server
from tests.test_telnet import connect as connect_telnet
from tests.test_telnet import echo as telnet_echo
from tests.test_telnet import telnet_server

T = TypeVar("T")
KINDS = ["pty", "pipes", "ssh", "telnet", "streams"]
REFUSED = "belongs to another event loop"


@pytest.fixture(autouse=True)
def _isolated(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@contextlib.asynccontextmanager
async def echoing(kind: str) -> AsyncIterator[aioexpect.Session]:
    """A session that echoes what it is sent (its server, if any, in this loop)."""
    opening: contextlib.AbstractAsyncContextManager[aioexpect.Session]
    async with contextlib.AsyncExitStack() as stack:
        if kind in ("pty", "pipes"):
            opening = aioexpect.spawn("cat", pty=kind == "pty", timeout=10)
        elif kind == "ssh":
            opening = connect_ssh(await stack.enter_async_context(ssh_server()))
        elif kind == "telnet":
            opening = connect_telnet(await stack.enter_async_context(telnet_server(telnet_echo)))
        else:
            port = await stack.enter_async_context(serve(echo))
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            opening = aioexpect.Session.from_streams(reader, writer, timeout=10)
        session = await stack.enter_async_context(opening)
        yield session


async def refused_elsewhere(s: aioexpect.Session) -> None:
    """What another loop may not do: each refused at once, the session open."""

    async def leave() -> None:
        async with s:
            pass

    calls: list[Callable[[], Awaitable[Any]]] = [
        s.close, lambda: s.close(force=True), leave, s.wait
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(RuntimeError, match=REFUSED):
            await asyncio.wait_for(call(), 5)
        assert not s.closed


async def still_usable(s: aioexpect.Session) -> None:
    await s.sendline("still here")
    await s.expect_exact("still here")
    await s.close()


def reaped(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("loop_name", list(LOOPS))
@pytest.mark.parametrize("kind", KINDS)
def test_close_in_another_loop_is_refused_and_the_session_closes_in_its_own(
    kind: str, loop_name: str
) -> None:
    """A close awaited in a second loop (its own idle between two
    ``Runner.run`` calls) hung or took 21 s, marked the session closed
    without closing its transport, and left a pty or pipes child a zombie."""
    with asyncio.Runner(loop_factory=LOOPS[loop_name]) as home:
        opened = echoing(kind)
        s = home.run(opened.__aenter__())
        try:
            pid = s.transport.get_extra_info("pid")
            with asyncio.Runner(loop_factory=LOOPS[loop_name]) as other:
                other.run(refused_elsewhere(s))
            home.run(asyncio.wait_for(still_usable(s), 10))
            assert reaped(pid)
            # Closed already: elsewhere too, there is nothing left to do.
            with asyncio.Runner(loop_factory=LOOPS[loop_name]) as other:
                other.run(asyncio.wait_for(s.close(), 5))
        finally:
            home.run(asyncio.wait_for(opened.__aexit__(None, None, None), 10))


@contextlib.contextmanager
def loop_in_a_thread(factory: Callable[[], asyncio.AbstractEventLoop]) -> Iterator[Any]:
    """A loop running in a thread of its own; yields how to run a coroutine there."""
    loop = factory()
    thread = threading.Thread(target=loop.run_forever)
    thread.start()

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(20)

    try:
        yield run
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(20)
        loop.close()


@pytest.mark.parametrize("loop_name", list(LOOPS))
@pytest.mark.parametrize("kind", ["pty", "streams"])
def test_close_from_another_thread_is_refused_and_names_the_way(kind: str, loop_name: str) -> None:
    """The session's loop running in another thread: a close from here
    touched its transport from the wrong thread (a streams close hung)."""
    with loop_in_a_thread(LOOPS[loop_name]) as there:
        opened = echoing(kind)
        s = there(opened.__aenter__())
        try:

            async def here() -> None:
                with pytest.raises(RuntimeError, match="run_coroutine_threadsafe"):
                    await asyncio.wait_for(s.close(), 5)
                assert not s.closed

            with asyncio.Runner(loop_factory=LOOPS[loop_name]) as runner:
                runner.run(here())
            there(still_usable(s))
        finally:
            there(opened.__aexit__(None, None, None))
