"""Helpers shared by the test files: a session over the memory transport, a
loopback TCP server, reading a transport to a token or to its end,
polling for state that no event reports, and whether a process is gone."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import aioexpect
from aioexpect import ConnectionLostError, Session
from aioexpect._transport import Transport
from aioexpect.testing import memory_pair

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def opened(*, limit: int = 1 << 20, **options: Any) -> AsyncIterator[tuple[Session, Any]]:
    """A Session over one end of a memory pair, and the other end (the peer)."""
    ours, peer = memory_pair(limit)
    session = Session(ours, **options)
    try:
        yield session, peer
    finally:
        await session.close()
        await peer.close()


@contextlib.asynccontextmanager
async def played(
    play: Callable[[Any], Awaitable[None]], *, limit: int = 1 << 20, **options: Any
) -> AsyncIterator[Session]:
    """A Session over a memory pair whose other end ``play(peer)`` plays, in
    a task that is waited for once both ends are closed."""
    async with opened(limit=limit, **options) as (session, peer):
        task = asyncio.ensure_future(play(peer))
        try:
            yield session
        finally:
            await session.close()
            await peer.close()
            with contextlib.suppress(Exception):
                await task


@contextlib.asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[int]:
    """A server on 127.0.0.1 port 0 running ``handler`` per client; yields its
    port, then closes the writers and waits for the handlers."""
    handlers: list[asyncio.Task[Any]] = []

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)
        try:
            await handler(reader, writer)
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
        await asyncio.wait_for(asyncio.gather(*handlers), 5)


@contextlib.asynccontextmanager
async def serve_ssh_asking(
    username: str, password: str, question: str = "Username: "
) -> AsyncIterator[int]:
    """An SSH server on 127.0.0.1 port 0 (any host key: connect with
    ``known_hosts=None``) that takes ``username``/``password`` by password
    authentication, then asks ``question`` in-band, as a console server's
    port does with the device behind it; yields its port."""
    import asyncssh

    class Server(asyncssh.SSHServer):
        def begin_auth(self, user: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, user: str, given: str) -> bool:
            return (user, given) == (username, password)

    async def shell(process: asyncssh.SSHServerProcess[str]) -> None:
        process.stdout.write(f"console port 7\r\n{question}")
        with contextlib.suppress(asyncssh.Error, ConnectionError):
            await process.stdin.read()  # until the client leaves
        process.exit(0)

    host_key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(
        Server, "127.0.0.1", 0, server_host_keys=[host_key], process_factory=shell
    )
    try:
        yield server.get_port()
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A server on 127.0.0.1 port 0 that accepts and never sends a byte;
    yields its port and an event set once it accepted a connection."""
    accepted = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await reader.read()  # until the client leaves

    async with serve(handler) as port:
        yield port, accepted


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 bound and not listening: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


@contextlib.contextmanager
def full_listener() -> Iterator[int]:
    """A port whose listener never accepts, its queue already full: the SYN
    is dropped, and connecting waits."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    filler.connect(("127.0.0.1", port))
                fillers.append(filler)
            yield port
        finally:
            for filler in fillers:
                filler.close()


async def typed_lines(peer: Any) -> AsyncIterator[str]:
    """Each line a session sends to ``peer`` (a memory-pair end), without its
    line end, until the session closes: a scripted device reads commands so."""
    pending = b""
    while data := await peer.read():
        pending += data
        while b"\n" in pending:
            line, _, pending = pending.partition(b"\n")
            yield line.decode().rstrip("\r")


async def still_waiting(opening: Awaitable[Any], accepted: asyncio.Event) -> None:
    """Assert that ``opening``, which has no time limit, is under way once
    the silent server accepted its connection, and still a moment later
    (not ended by an error of its own); then cancel it."""
    task = asyncio.ensure_future(opening)
    seen = asyncio.ensure_future(accepted.wait())
    try:
        await asyncio.wait([task, seen], timeout=10, return_when=asyncio.FIRST_COMPLETED)
        assert not task.done(), task  # (its repr shows the error it ended with)
        assert accepted.is_set(), "the server saw no connection within 10 s"
        done, _ = await asyncio.wait([task], timeout=0.2)
        assert not done, task
    finally:
        task.cancel()
        seen.cancel()
        await asyncio.wait([task, seen])


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A ``serve`` handler that sends back what it receives, until EOF."""
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()


async def wait_until(predicate: Callable[[], bool], what: str, limit: float = 10.0) -> None:
    """Poll ``predicate`` on the event loop (for state no event reports)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.01)


def has_ipv6_loopback() -> bool:
    """Whether this machine can listen on ``::1`` (containers often cannot)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def gone(pid: int) -> bool:
    """No such process, or only a zombie (an init that never reaps orphans)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # (ESRCH: reaped as it was read)
        return True
    return stat[stat.rfind(")") + 2] in "ZX"


async def read_until(t: Transport, token: bytes) -> bytes:
    """Read until ``token`` arrived; return all of it (AssertionError at EOF)."""
    data = bytearray()
    start = 0
    while data.find(token, start) < 0:  # (the new part, with the end of the old)
        start = max(0, len(data) - len(token) + 1)
        chunk = await t.read()
        if not chunk:
            raise AssertionError(f"EOF before {token!r}; got {bytes(data)!r}")
        data += chunk
    return bytes(data)


async def read_all(t: Transport) -> bytes:
    """Read until end-of-file; return all of it."""
    data = b""
    while chunk := await t.read():
        data += chunk
    return data


async def said_and_end(s: Session) -> tuple[str, str]:
    """All a session reads with ``read_some`` to its end, and how it ended:
    ``"EOF"``, or ``"ConnectionLostError"`` (a reset, after the data)."""
    said = ""
    try:
        while chunk := await s.read_some():
            said += chunk
    except ConnectionLostError:
        return said, "ConnectionLostError"
    return said, "EOF"


async def resize_seen(person: Any, rows: int, cols: int) -> None:
    """``person`` (a session running a terminal client bridged to a shell)
    resizes its window; assert the shell's ``stty size`` shows it within
    five seconds (the size may be looked at only four times a second)."""
    person.set_winsize(rows, cols)
    want, seen = f"{rows} {cols}", ""
    for _ in range(50):
        await asyncio.sleep(0.1)
        await person.sendline("stty size")
        seen = (await person.expect(r"(\d+ \d+)\r\n")).group(1)  # (a late prompt: after the echo)
        if seen == want:
            return
    assert seen == want


class Wrapper(Transport):
    """A transport over another one, for variants of it (faulty ones, or one that tells more)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    async def read(self, max_bytes: int = 1 << 18) -> bytes:
        return await self.inner.read(max_bytes)

    async def write(self, data: bytes) -> None:
        await self.inner.write(data)

    async def write_eof(self) -> None:
        await self.inner.write_eof()

    async def close(self, *, force: bool = False) -> None:
        await self.inner.close(force=force)

    @property
    def closed(self) -> bool:
        return self.inner.closed


def localhost_on_both(monkeypatch: Any) -> None:
    """Make the running loop resolve "localhost" to ::1 and 127.0.0.1, as
    /etc/hosts does on Debian and Fedora (no name here resolves to both);
    asyncio's loop only: uvloop's resolver cannot be swapped so."""
    loop = asyncio.get_running_loop()
    resolve = loop.getaddrinfo

    async def dual_stack(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "localhost":
            return await resolve(host, *args, **kwargs)
        return [
            *await resolve("::1", *args, **kwargs),
            *await resolve("127.0.0.1", *args, **kwargs),
        ]

    monkeypatch.setattr(loop, "getaddrinfo", dual_stack)


def bare_shell(
    tmp_path: Path,
    ps1: str,
    argv: Sequence[str] = ("bash", "--norc", "--noprofile"),
    **options: Any,
) -> Any:
    """A shell in a pty without a profile, prompting ``ps1``, with a bare
    environment (``TERM=dumb``) and ``tmp_path`` for its home and directory:
    the opener, for ``async with``."""
    env = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": str(tmp_path), "PS1": ps1}
    return aioexpect.spawn(argv[0], list(argv[1:]), env=env, cwd=str(tmp_path), **options)
