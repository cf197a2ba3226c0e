"""A time-out while opening names the stage it came in: connecting, the SSH
version, key exchange, authentication, the channel; telnet's negotiation and
login dialog, with what the dialog waited for and what had come.  The
opener's own time-out (``timeout=``, run_many's ``session_timeout=``) and
run_many's ``timeout=``, which stops the opening from outside, alike.
Against peers on 127.0.0.1 (port 0) that stop answering at one stage each."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import Account, ConnectError, ExpectTimeout, Host, Session, run_many
from tests.helpers import full_listener, serve, silent_server

HOST_KEY = asyncssh.generate_private_key("ssh-ed25519")
PASSWORD = "s3cret-pw"
ADMIN = Account("admin", PASSWORD)


@pytest.fixture(autouse=True)
def _isolated(fresh_home: Path) -> Path:
    return fresh_home


@contextlib.asynccontextmanager
async def version_only() -> AsyncIterator[int]:
    """An SSH server that sends its version, then nothing (no key exchange)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        await reader.read()  # until the client leaves

    async with serve(handler) as port:
        yield port


class _Stalling(asyncssh.SSHServer):
    """Answers the password (``stall`` "auth") or the session request
    ("channel") once ``released``, no sooner."""

    def __init__(self, stall: str, released: asyncio.Event) -> None:
        self.stall = stall
        self.released = released

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        if self.stall == "auth":
            await self.released.wait()
        return password == PASSWORD

    async def session_requested(self) -> bool:  # type: ignore[override]
        await self.released.wait()
        return False


@contextlib.asynccontextmanager
async def stalling_ssh(stall: str) -> AsyncIterator[int]:
    released = asyncio.Event()  # (asyncssh does not cancel a session request's wait)
    server = await asyncssh.create_server(
        lambda: _Stalling(stall, released), "127.0.0.1", 0, server_host_keys=[HOST_KEY]
    )
    try:
        yield server.get_port()
    finally:
        released.set()
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def stuck_at(stage: str) -> AsyncIterator[int]:
    """A port on which opening SSH stops at ``stage``."""
    if stage == "connecting":
        with full_listener() as port:
            yield port
    elif stage == "waiting for the server's SSH version":
        async with silent_server() as (port, _):
            yield port
    elif stage == "in key exchange":
        async with version_only() as port:
            yield port
    else:
        async with stalling_ssh("auth" if stage == "in authentication" else "channel") as port:
            yield port


SSH_STAGES = [
    "connecting",
    "waiting for the server's SSH version",
    "in key exchange",
    "in authentication",
    "opening the session channel",
]


def ssh_to(port: int, **options: Any) -> Any:
    """An opening of an SSH session to ``port`` with a 0.5 s time-out."""
    return aioexpect.connect_ssh(
        "127.0.0.1",
        port,
        username="admin",
        password=PASSWORD,
        known_hosts=None,
        timeout=0.5,
        **options,
    )


@pytest.mark.parametrize("stage", SSH_STAGES)
async def test_ssh_time_out_names_the_stage(stage: str) -> None:
    async with stuck_at(stage) as port:
        with pytest.raises(ConnectError) as info:
            await ssh_to(port)
    error = info.value
    assert str(error) == f"SSH connection to 127.0.0.1:{port} timed out {stage} after 0.5 s"
    assert (error.host, error.port) == ("127.0.0.1", port)
    assert isinstance(error.__cause__, TimeoutError)


MSG_NEWKEYS = 21


async def _forward(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hold_newkeys: bool
) -> None:
    """Packets as they go (clear text until NEWKEYS), holding back NEWKEYS
    if ``hold_newkeys``; after it, the bytes as they come."""
    writer.write(await reader.readline())  # (the version line)
    while True:
        head = await reader.readexactly(4)
        body = await reader.readexactly(int.from_bytes(head, "big"))
        if hold_newkeys and body[1] == MSG_NEWKEYS:  # (body[0]: the padding's length)
            await reader.read()  # the server never finishes its key exchange
            return
        writer.write(head + body)
        if body[1] == MSG_NEWKEYS:
            break
    while data := await reader.read(65536):
        writer.write(data)


@contextlib.asynccontextmanager
async def newkeys_held() -> AsyncIterator[int]:
    """A real SSH server behind a proxy that keeps back the server's NEWKEYS:
    the client has checked the host key and sent its own NEWKEYS, and waits."""
    async with stalling_ssh("auth") as server_port:

        async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", server_port)
            ways = {
                asyncio.ensure_future(_forward(up_reader, writer, hold_newkeys=True)),
                asyncio.ensure_future(_forward(reader, up_writer, hold_newkeys=False)),
            }
            try:  # (until either side leaves)
                await asyncio.wait(ways, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for way in ways:
                    way.cancel()
                await asyncio.gather(*ways, return_exceptions=True)
                up_writer.close()

        async with serve(proxy) as port:
            yield port


async def test_ssh_key_exchange_unfinished_by_the_server_is_named_so() -> None:
    # With our NEWKEYS sent (asyncssh names the cipher then) but not the
    # server's, the key exchange is not over: it was called authentication
    # (asyncssh before 2.20 has no begin_auth callback; the fallback for it
    # took "send_cipher" for the end of the exchange, on every version).
    async with newkeys_held() as port:
        with pytest.raises(ConnectError) as info:
            await ssh_to(port)
    assert (
        str(info.value)
        == f"SSH connection to 127.0.0.1:{port} timed out in key exchange after 0.5 s"
    )


async def test_ssh_client_factory_of_the_callers_own_is_kept() -> None:
    # Its callbacks are the caller's: the stage is not known, and not guessed.
    made: list[object] = []

    class Client(asyncssh.SSHClient):
        def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
            made.append(conn)

    async with stalling_ssh("auth") as port:
        with pytest.raises(ConnectError) as info:
            await ssh_to(port, client_factory=Client)
    assert str(info.value) == f"SSH connection to 127.0.0.1:{port} timed out after 0.5 s"
    assert len(made) == 1


async def _never_run(session: Session, host: object) -> None:
    raise AssertionError("the job ran: the opening did not time out")


@pytest.mark.parametrize("stage", SSH_STAGES)
async def test_run_many_timeout_names_the_ssh_stage(stage: str) -> None:
    async with stuck_at(stage) as port:
        [result] = await run_many(
            [Host(f"ssh://127.0.0.1:{port}", ADMIN)], _never_run, timeout=0.5, known_hosts=None
        )
    error = result.error
    assert isinstance(error, ConnectError), result
    assert str(error) == f"127.0.0.1:{port}: not connected within 0.5 s: timed out {stage}"
    assert (error.host, error.port) == ("127.0.0.1", port)
    assert isinstance(error.__cause__, TimeoutError)


async def test_run_many_timeout_names_telnet_connecting() -> None:
    with full_listener() as port:
        [result] = await run_many([f"telnet://127.0.0.1:{port}"], _never_run, timeout=0.5)
    error = result.error
    assert isinstance(error, ConnectError), result
    assert str(error) == f"127.0.0.1:{port}: not connected within 0.5 s: timed out connecting"


async def test_run_many_timeout_names_telnet_negotiation() -> None:
    # A peer that speaks telnet (DO TTYPE) and never answers our WILL BINARY:
    # the opening waits up to _telnet.BINARY_ANSWER_WAIT (1 s) for it.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfd\x18")
        await reader.read()

    async with serve(handler) as port:
        [result] = await run_many([f"telnet://127.0.0.1:{port}"], _never_run, timeout=0.5)
    error = result.error
    assert isinstance(error, ConnectError), result
    expected = f"127.0.0.1:{port}: not connected within 0.5 s: timed out negotiating telnet options"
    assert str(error) == expected


async def _login_then_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Asks for a username and a password, echoing both (the password too,
    as a careless device may), then says nothing more."""
    writer.write(b"\r\nUser Access Verification\r\n\r\nUsername: ")
    writer.write((await reader.readline()).strip() + b"\r\nPassword: ")
    writer.write((await reader.readline()).strip() + b"\r\n")
    await reader.read()


@pytest.mark.parametrize("bound", ["timeout", "session_timeout"])
async def test_run_many_telnet_login_stuck_says_what_it_waited_for(bound: str) -> None:
    async with serve(_login_then_nothing) as port:
        [result] = await run_many(
            [Host(f"telnet://127.0.0.1:{port}", ADMIN)], _never_run, **{bound: 0.5}
        )
    error = result.error
    assert isinstance(error, ConnectError), result
    first = {
        "timeout": f"127.0.0.1:{port}: not logged in within 0.5 s, in the login dialog:",
        "session_timeout": f"telnet login to 127.0.0.1:{port} did not reach a prompt:",
    }[bound]
    waited = "timed out waiting for a login or password question, or the prompt of driver 'generic'"
    came = r"Username: admin\r\nPassword: ********\r\n'"
    assert str(error).startswith(f"{first} {waited}; last characters received: '"), error
    assert str(error).endswith(came), error
    cause = error.__cause__
    assert isinstance(cause, ExpectTimeout) and str(cause).endswith(came), cause
    assert PASSWORD not in str(error) + str(cause)
    assert cause.before == f"{PASSWORD}\r\n"  # (what is still buffered, as it arrived)


async def test_run_many_timeout_names_the_init_commands() -> None:
    # Logged in, then no answer to the driver's first init command.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Username: ")
        await reader.readline()
        writer.write(b"\r\nPassword: ")
        await reader.readline()
        writer.write(b"\r\nrouter#")
        writer.write((await reader.readline()).strip() + b"\r\n")
        await reader.read()

    async with serve(handler) as port:
        [result] = await run_many(
            [Host(f"telnet://127.0.0.1:{port}", ADMIN)], _never_run, timeout=0.5, driver="ios"
        )
    error = result.error
    assert isinstance(error, ConnectError), result
    assert str(error) == (
        f"127.0.0.1:{port}: not logged in within 0.5 s, running the init commands of driver"
        " 'ios': timed out waiting for the prompt of driver 'ios'; last characters received:"
        r" 'terminal length 0\r\n'"
    )
