"""The SSH adapter and connect_ssh against in-process asyncssh servers on 127.0.0.1.
Every test has a temporary $HOME (no developer keys, config or known_hosts) and
no agent unless the test starts one."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import os
import pwd
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import _ssh
from aioexpect._ssh_host_keys import resolve_known_hosts
from aioexpect.testing import check_transport
from tests.conftest import need
from tests.helpers import silent_server, wait_until

HOST_KEY = asyncssh.generate_private_key("ssh-ed25519")
OTHER_HOST_KEY = asyncssh.generate_private_key("ssh-ed25519")
CLIENT_KEY = asyncssh.generate_private_key("ssh-ed25519")
PASSWORD = "s3cr3t-Pa55"
Handler = Callable[[asyncssh.SSHServerProcess[bytes]], Awaitable[None]]


@pytest.fixture(autouse=True)
def _isolated(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return fresh_home


@dataclass
class Server:
    """What the in-process server saw."""

    port: int = 0
    host_key: asyncssh.SSHKey = HOST_KEY
    auth_users: list[str] = field(default_factory=list)
    passwords_seen: int = 0
    conns: list[asyncssh.SSHServerConnection] = field(default_factory=list)

    def known_hosts(self) -> Any:
        line = f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode()}"
        return asyncssh.import_known_hosts(line)


class _Auth(asyncssh.SSHServer):
    def __init__(self, record: Server) -> None:
        self.record = record

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.record.conns.append(conn)

    def begin_auth(self, username: str) -> bool:
        self.record.auth_users.append(username)
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        self.record.passwords_seen += 1
        if password.startswith("tell-"):  # a server that says what it was sent
            self.record.conns[-1].disconnect(
                asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, f"bad password {password!r}"
            )
        return password == PASSWORD

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return key.export_public_key() == CLIENT_KEY.export_public_key()


async def line_echo(process: asyncssh.SSHServerProcess[bytes]) -> None:
    """Echo each complete line; exit 0 at EOF."""
    with contextlib.suppress(asyncssh.Error, OSError):
        while line := await process.stdin.readline():
            process.stdout.write(line)
            await process.stdout.drain()
    process.exit(0)


@contextlib.asynccontextmanager
async def ssh_server(handler: Handler = line_echo, **options: Any) -> AsyncIterator[Server]:
    record = Server(host_key=options.pop("host_key", HOST_KEY))
    keys = [record.host_key, *options.pop("more_host_keys", ())]
    acceptor = await asyncssh.listen(
        "127.0.0.1", 0, server_host_keys=keys, server_factory=lambda: _Auth(record),
        process_factory=handler, encoding=None, line_editor=False, **options,
    )  # fmt: skip
    record.port = acceptor.get_port()
    try:
        yield record
    finally:
        acceptor.close()
        await acceptor.wait_closed()
        for conn in record.conns:
            conn.close()
            await conn.wait_closed()


def connect(server: Server, **options: Any) -> aioexpect._openers.Opener:
    options.setdefault("username", "tester")
    options.setdefault("password", PASSWORD)
    options.setdefault("known_hosts", server.known_hosts())
    options.setdefault("timeout", 10)
    return aioexpect.connect_ssh("127.0.0.1", options.pop("port", server.port), **options)


async def open_raw(server: Server) -> _ssh.SSHTransport:
    """The adapter alone: a no-pty channel to ``server``, no Session."""
    transport = await _ssh.open_ssh(
        "127.0.0.1", server.port, username="u", password=PASSWORD, client_keys=None,
        known_hosts=server.known_hosts(), command=None, term_type=None,
        dimensions=(24, 80), connect_timeout=10,
    )  # fmt: skip
    assert isinstance(transport, _ssh.SSHTransport)
    return transport


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- a shell channel ------------------------------------------------------------


async def test_shell_channel_round_trip() -> None:
    async with ssh_server() as server, connect(server) as s:
        assert s.transport.kind == "ssh"
        assert s.linesep == "\n"
        await s.sendline("hello ssh")
        m = await s.expect("hello (\\w+)\n")
        assert m.group(1) == "ssh"
        assert server.auth_users == ["tester"]


async def test_pty_gets_term_type_and_dimensions() -> None:
    async def report(process: asyncssh.SSHServerProcess[bytes]) -> None:
        cols, rows, _, _ = process.term_size
        process.stdout.write(f"term={process.term_type} rows={rows} cols={cols}\n".encode())
        process.exit(0)

    async with (
        ssh_server(report) as server,
        connect(server, term_type="vt220", dimensions=(33, 111)) as s,
    ):
        await s.expect_exact("term=vt220 rows=33 cols=111")


async def test_set_winsize_reaches_the_server() -> None:
    async def sizes(process: asyncssh.SSHServerProcess[bytes]) -> None:
        while True:
            try:
                await process.stdin.read(1)
            except asyncssh.TerminalSizeChanged as change:
                process.stdout.write(f"size {change.height}x{change.width}\n".encode())
                continue
            break
        process.exit(0)

    async with ssh_server(sizes) as server, connect(server) as s:
        s.set_winsize(50, 132)
        await s.expect_exact("size 50x132")


async def test_command_channel_and_exit_status() -> None:
    async def run(process: asyncssh.SSHServerProcess[bytes]) -> None:
        process.stdout.write(f"ran {process.command}\n".encode())
        process.stderr.write(b"to stderr\n")
        process.exit(3)

    async with ssh_server(run) as server, connect(server, command="do-it --now") as s:
        assert s.transport.get_extra_info("command") == "do-it --now"
        await s.expect_exact("ran do-it --now")
        await s.expect_exact("to stderr")
        assert await s.wait() == 3
        assert s.exit_status == 3
        assert s.signal_status is None
        assert await s.read_all() == "\n"


async def test_exit_signal_is_reported() -> None:
    async def killed(process: asyncssh.SSHServerProcess[bytes]) -> None:
        process.exit_with_signal("TERM")

    async with ssh_server(killed) as server, connect(server, command="x") as s:
        await s.wait()
        assert s.exit_status is None
        assert s.signal_status == 15


async def test_sendeof_sends_channel_eof() -> None:
    async def until_eof(process: asyncssh.SSHServerProcess[bytes]) -> None:
        data = await process.stdin.read()
        process.stdout.write(b"got %d bytes then EOF\n" % len(data))
        process.exit(0)

    async with ssh_server(until_eof) as server, connect(server, term_type=None) as s:
        await s.send("abc")
        await s.sendeof()
        await s.expect_exact("got 3 bytes then EOF")
        assert await s.wait() == 0
        with pytest.raises(aioexpect.ClosedError):
            await s.send("more")


async def test_a_send_cut_short_by_the_end_of_the_channel_is_connection_lost() -> None:
    """The command exits without reading while a long send waits for the
    SSH window: asyncssh drops what it has not sent, and send() returned as
    if all of it had gone.  Over pipes and telnet such a send raises."""
    sending = asyncio.Event()

    async def exits_unread(process: asyncssh.SSHServerProcess[bytes]) -> None:
        await sending.wait()
        process.exit(0)

    async with ssh_server(exits_unread) as server, connect(server, term_type=None) as s:
        assert isinstance(s.transport, _ssh.SSHTransport)
        send = asyncio.ensure_future(s.send(b"x" * (8 << 20)))
        channel = s.transport._channel
        await wait_until(lambda: not channel.writable.is_set(), "the send waits for the window")
        sending.set()
        with pytest.raises(aioexpect.ConnectionLostError, match="not sent"):
            await send
        assert await s.wait() == 0


async def test_sendeof_on_a_pty_is_ctrl_d_and_repeatable() -> None:
    async def bytes_in(process: asyncssh.SSHServerProcess[bytes]) -> None:
        for _ in range(2):
            process.stdout.write(b"byte %r\n" % await process.stdin.read(1))
        process.exit(0)

    async with ssh_server(bytes_in) as server, connect(server) as s:
        await s.sendeof()
        await s.expect_exact("byte b'\\x04'")
        await s.sendeof()
        await s.expect_exact("byte b'\\x04'")


async def test_sendintr_is_ctrl_c_on_a_pty_and_a_signal_without() -> None:
    async def intr(process: asyncssh.SSHServerProcess[bytes]) -> None:
        try:
            data = await process.stdin.read(1)
            process.stdout.write(b"byte %r\n" % data)
        except asyncssh.SignalReceived as sig:
            process.stdout.write(f"signal {sig.signal}\n".encode())
        process.exit(0)

    async with ssh_server(intr) as server:
        async with connect(server) as s:
            await s.sendintr()
            await s.expect_exact("byte b'\\x03'")
        async with connect(server, term_type=None) as s:
            await s.sendintr()
            await s.expect_exact("signal INT")
            with pytest.raises(TypeError, match="no pty"):
                s.set_winsize(10, 10)
            # Once the command ended there is nothing to interrupt, as with a
            # piped child that exited (and with a pty here: Ctrl-C is written).
            # It returned as if the signal went somewhere.
            assert await s.wait() == 0
            with pytest.raises(aioexpect.ConnectionLostError, match="lost"):
                await s.sendintr()


async def test_utf8_split_across_packets_is_decoded() -> None:
    async def split(process: asyncssh.SSHServerProcess[bytes]) -> None:
        for piece in (b"caf\xc3", b"\xa9 ", b"\xe2\x82", b"\xac\n"):
            process.stdout.write(piece)
            await process.stdout.drain()
        process.exit(0)

    async with ssh_server(split) as server, connect(server) as s:
        m = await s.expect("caf(.) (.)\n")
        assert m.groups() == ("é", "€")


async def test_back_pressure_bounds_unread_data() -> None:
    sent = asyncio.Event()
    total = 16 * _ssh.HIGH_WATER

    async def flood(process: asyncssh.SSHServerProcess[bytes]) -> None:
        with contextlib.suppress(asyncssh.Error, OSError):
            chunk = b"x" * 65536
            for _ in range(total // len(chunk)):
                process.stdout.write(chunk)
                await process.stdout.drain()
            sent.set()
            process.stdout.write(b"END")
            process.exit(0)

    async with ssh_server(flood) as server:
        transport = await open_raw(server)
        try:
            first = await transport.read()
            assert first
            # Nobody reads: the server must block well before it sent everything.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(sent.wait(), 0.5)
            received = len(first)
            while not (data := await transport.read()).endswith(b"END"):
                received += len(data)
            assert received + len(data) == total + 3
        finally:
            await transport.close()


async def test_a_full_session_pushes_back_on_the_server_and_loses_nothing() -> None:
    """The session takes pushed data up to ``max_buffer``; then asyncssh
    holds what arrives and the SSH window closes, until the reader drains."""
    sent = asyncio.Event()
    block = b"".join(b"%07d\n" % i for i in range(8192))  # 64 KiB of numbered lines
    rounds = 4 * _ssh.HIGH_WATER // len(block)  # twice asyncssh's 2 MiB window

    async def flood(process: asyncssh.SSHServerProcess[bytes]) -> None:
        with contextlib.suppress(asyncssh.Error, OSError):
            for _ in range(rounds):
                process.stdout.write(block)
                await process.stdout.drain()
            sent.set()
            process.exit(0)

    async with (
        ssh_server(flood) as server,
        connect(server, term_type=None, max_buffer=len(block) // 4, encoding=None) as s,
    ):
        await s.expect_exact(b"0000000\n")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(sent.wait(), 0.5)
        received = [b"0000000\n"]
        while data := await s.read_some():
            received.append(data)
        assert b"".join(received) == block * rounds
        assert sent.is_set()


def _block(k: int) -> bytes:
    """The ``k``-th 64 KiB of a flood: numbered, so a loss or a reordering shows."""
    return b"%08d" % k + b"y" * 65527 + b"\n"


def _blocks(count: int, status: int) -> Handler:
    """A server that sends ``count`` blocks as the client takes them, then exits."""

    async def flood(process: asyncssh.SSHServerProcess[bytes]) -> None:
        with contextlib.suppress(asyncssh.Error, OSError):
            for k in range(count):
                process.stdout.write(_block(k))
                await process.stdout.drain()
            process.exit(status)

    return flood


def _held(transport: _ssh.SSHTransport, session: aioexpect.Session | None = None) -> int:
    """Bytes received and not delivered to the reader yet: in asyncssh's
    channel (its private ``_recv_buf``: no public call tells), in the
    adapter, and held back undecoded by a pushed session."""
    channel = transport._channel
    held = sum(len(data) for data, _ in transport._chan._recv_buf)
    held += sum(map(len, channel.overflow)) + channel.inbox.buffered
    return held + (len(session._held) if session is not None else 0)


@pytest.mark.parametrize("delivery", ["pulled", "pushed"])
async def test_a_slow_reader_bounds_what_the_server_can_send_ahead(delivery: str) -> None:
    """A reader slower than the server: each pause and resume used to let
    asyncssh widen the SSH window again while it still held a window's
    worth undelivered, up to 2 MiB more per cycle (16 to 240 MiB held by
    the time 12 MiB were read).  Now it holds two windows at most, and
    every byte arrives once, in order."""
    wanted = 12 << 20

    async def flood(process: asyncssh.SSHServerProcess[bytes]) -> None:
        with contextlib.suppress(asyncssh.Error, OSError):
            for k in itertools.count():
                process.stdout.write(_block(k))
                await process.stdout.drain()

    async with ssh_server(flood) as server:
        session = None
        if delivery == "pushed":
            session = await connect(server, term_type=None, encoding=None, max_buffer=1 << 16)
            transport = session.transport
            read: Callable[[], Awaitable[bytes]] = session.read_some
        else:
            transport = await open_raw(server)
            read = transport.read
        assert isinstance(transport, _ssh.SSHTransport)
        received, worst = bytearray(), 0
        try:
            while len(received) < wanted:
                received += await read()
                await asyncio.sleep(0.001)  # (the reader's own work)
                worst = max(worst, _held(transport, session))
        finally:
            await (session or transport).close()
        blocks = len(received) // len(_block(0))
        assert received[: blocks * len(_block(0))] == b"".join(map(_block, range(blocks)))
        # Two SSH windows (asyncssh's are 2 MiB) and half the inbox, at most.
        assert worst < 6 << 20, f"{worst / (1 << 20):.1f} MiB held undelivered"


async def test_the_end_and_exit_status_follow_all_data_a_slow_reader_left_waiting() -> None:
    """The server ends while the reader is behind: its end of file, queued
    behind what asyncssh delivered past the session's pause, comes last."""
    blocks = 96  # 6 MiB: three SSH windows

    async with (
        ssh_server(_blocks(blocks, 3)) as server,
        connect(server, term_type=None, encoding=None, max_buffer=1 << 16) as s,
    ):
        received = bytearray()
        while data := await s.read_some():
            received += data
            await asyncio.sleep(0.001)  # (the reader's own work)
        assert received == b"".join(map(_block, range(blocks)))
        assert await s.wait() == 3


@pytest.mark.parametrize("delivery", ["pulled", "pushed"])
async def test_what_came_before_a_dropped_connection_is_delivered_before_the_loss(
    delivery: str,
) -> None:
    """The server sends, ends and drops the connection while the reader is
    behind: resuming the lost channel failed inside asyncssh (a bare
    AssertionError from read(); a session made then waited for ever), and
    what asyncssh held paused, though it had come, was dropped."""
    blocks, gone = 28, asyncio.Event()  # 1.75 MiB: the inbox full, the rest in asyncssh

    async def flood(process: asyncssh.SSHServerProcess[bytes]) -> None:
        for k in range(blocks):
            process.stdout.write(_block(k))
        process.stdout.write_eof()
        await asyncio.sleep(0.5)  # (the client has it all, paused)
        process.channel.get_extra_info("connection").abort()
        gone.set()

    async with ssh_server(flood) as server:
        transport = await open_raw(server)
        session = None
        await asyncio.wait_for(gone.wait(), 10)
        await wait_until(transport._channel.gone.is_set, "the loss reaches the client")
        read = transport.read
        if delivery == "pushed":
            session = aioexpect.Session(transport, encoding=None, timeout=10)
            read = session.read_some
        received = bytearray()
        try:
            with pytest.raises(aioexpect.ConnectionLostError):
                while True:
                    received += await read()
        finally:
            await (session or transport).close()
        assert received == b"".join(map(_block, range(blocks)))


async def test_push_delivery_started_behind_a_full_inbox_loses_nothing() -> None:
    """A session made on a transport whose inbox is full and paused: taking
    the inbox resumed asyncssh, which delivered what it held back into the
    inbox as it was being handed over, where it stayed, the end of file
    behind it (a read waited for ever)."""
    blocks = 64  # 4 MiB: more than the inbox and asyncssh's window hold

    async with ssh_server(_blocks(blocks, 0)) as server:
        transport = await open_raw(server)
        await wait_until(lambda: _held(transport) >= 2 << 20, "asyncssh holds data too")
        async with aioexpect.Session(transport, encoding=None, timeout=10) as s:
            received = bytearray()
            while data := await s.read_some():
                received += data
        assert received == b"".join(map(_block, range(blocks)))


# -- conformance --------------------------------------------------------------------


async def test_ssh_transport_conformance() -> None:
    async with ssh_server() as server:
        await check_transport(lambda: open_raw(server))


# -- authentication --------------------------------------------------------------------


async def test_wrong_password_is_authentication_error_without_the_password() -> None:
    async with ssh_server() as server:
        with pytest.raises(aioexpect.AuthenticationError) as info:
            await connect(server, password="wrong-Pa55word", client_keys=None)
        assert "wrong-Pa55word" not in str(info.value)
        assert f"127.0.0.1:{server.port}" in str(info.value)
        assert info.value.host == "127.0.0.1" and info.value.port == server.port
        assert server.passwords_seen >= 1
        # A password that is part of the user name (or of the address) is
        # not masked there: that would tell the reader what it is.
        with pytest.raises(aioexpect.AuthenticationError) as info:
            await connect(server, username="tester", password="test", client_keys=None)
        assert "for user tester on host 127.0.0.1" in str(info.value)
        assert "********" not in str(info.value)
        # A server that quotes the password: masked in the message, and the
        # asyncssh error holding it is not chained (a traceback shows causes).
        with pytest.raises(aioexpect.AuthenticationError) as info:
            await connect(server, password="tell-Pa55", client_keys=None)
        assert str(info.value).endswith("bad password '********'")
        assert info.value.__cause__ is None and info.value.__suppress_context__


async def test_public_key_authentication(tmp_path: Path) -> None:
    key_file = tmp_path / "id_test"
    key_file.write_bytes(CLIENT_KEY.export_private_key())
    async with ssh_server() as server:
        async with connect(server, password=None, client_keys=[str(key_file)]) as s:
            await s.sendline("key ok")
            await s.expect_exact("key ok")
        assert server.passwords_seen == 0


async def test_client_keys_forms_asyncssh_reads_still_connect(tmp_path: Path) -> None:
    # The key-type check (a TypeError from the call) took a tuple as a list
    # of keys: asyncssh reads it as one (key, certificate) pair, whose
    # certificate part may be a list or None, so those were refused; and a
    # deque or a generator of keys, not a list, was refused as one key.
    key_file = tmp_path / "id_test"
    key_file.write_bytes(CLIENT_KEY.export_private_key())
    cert = asyncssh.generate_private_key("ssh-ed25519").generate_user_certificate(
        CLIENT_KEY, "tester"
    )
    cert_file = tmp_path / "a-cert"
    cert_file.write_bytes(cert.export_certificate())
    forms = [
        (str(key_file), [str(cert_file)]),
        (str(key_file), None),
        collections.deque([CLIENT_KEY]),
        (key for key in [CLIENT_KEY]),
    ]
    async with ssh_server() as server:
        for client_keys in forms:
            async with connect(server, password=None, client_keys=client_keys) as s:
                await s.sendline("key ok")
                await s.expect_exact("key ok")
        assert server.passwords_seen == 0


async def test_encrypted_key_with_passphrase(tmp_path: Path) -> None:
    key_file = tmp_path / "id_locked"
    key_file.write_bytes(CLIENT_KEY.export_private_key("pkcs8-pem", passphrase="open sesame"))
    async with ssh_server() as server:
        opts = {"password": None, "client_keys": [str(key_file)]}
        async with connect(server, passphrase="open sesame", **opts) as s:
            await s.sendline("unlocked")
            await s.expect_exact("unlocked")
        with pytest.raises(aioexpect.AuthenticationError, match="client key"):
            await connect(server, passphrase="wrong", **opts)


async def test_default_client_keys_come_from_home(_isolated: Path) -> None:
    ssh_dir = _isolated / ".ssh"
    ssh_dir.mkdir()
    (ssh_dir / "id_ed25519").write_bytes(CLIENT_KEY.export_private_key())
    async with ssh_server() as server, connect(server, password=None) as s:
        await s.sendline("home key")
        await s.expect_exact("home key")


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[str]:
    """A real ssh-agent holding CLIENT_KEY; yields its socket path."""
    agent, add = (need(p, "Debian openssh-client") for p in ("ssh-agent", "ssh-add"))
    sock, key_file = str(tmp_path / "agent.sock"), tmp_path / "agent_key"
    key_file.write_bytes(CLIENT_KEY.export_private_key())
    key_file.chmod(0o600)
    proc = subprocess.Popen([agent, "-D", "-a", sock], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # printed once the socket is bound
        env = {**os.environ, "SSH_AUTH_SOCK": sock}
        subprocess.run([add, "-q", str(key_file)], env=env, check=True, capture_output=True)
        yield sock
    finally:
        proc.terminate()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


async def test_agent_authentication(agent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", agent)
    async with ssh_server() as server, connect(server, password=None) as s:
        await s.sendline("agent ok")
        await s.expect_exact("agent ok")
        assert server.passwords_seen == 0


# -- host keys -------------------------------------------------------------------------


async def test_missing_known_hosts_file_rejects_before_any_credential() -> None:
    async with ssh_server() as server:
        with pytest.raises(aioexpect.HostKeyError) as info:
            await connect(server, known_hosts=())
        assert f"127.0.0.1:{server.port}" in str(info.value)
        assert server.auth_users == [] and server.passwords_seen == 0


async def test_empty_known_hosts_list_trusts_nothing(_isolated: Path) -> None:
    async with ssh_server() as server:
        ssh_dir = _isolated / ".ssh"
        ssh_dir.mkdir()  # even with the key in the default file
        line = f"[127.0.0.1]:{server.port} {HOST_KEY.export_public_key().decode()}"
        (ssh_dir / "known_hosts").write_text(line)
        with pytest.raises(aioexpect.HostKeyError):
            await connect(server, known_hosts=[])
        assert server.passwords_seen == 0


async def test_home_known_hosts_file_is_used_by_default(_isolated: Path) -> None:
    async with ssh_server() as server:
        ssh_dir = _isolated / ".ssh"
        ssh_dir.mkdir()
        line = f"[127.0.0.1]:{server.port} {HOST_KEY.export_public_key().decode()}"
        (ssh_dir / "known_hosts").write_text(line)
        async with connect(server, known_hosts=()) as s:
            await s.sendline("trusted")
            await s.expect_exact("trusted")


async def test_key_and_known_hosts_paths_starting_with_a_tilde(_isolated: Path) -> None:
    # The check by the call (a ValueError for a missing file) looked for a
    # file literally named '~/kh', which asyncssh would have read as $HOME/kh.
    async with ssh_server() as server:
        line = f"[127.0.0.1]:{server.port} {HOST_KEY.export_public_key().decode()}"
        (_isolated / "kh").write_text(line)
        key = asyncssh.generate_private_key("ssh-ed25519")
        key.write_private_key(_isolated / "id_test")
        async with connect(server, known_hosts="~/kh", client_keys=["~/id_test"]) as s:
            await s.sendline("trusted")
            await s.expect_exact("trusted")
        with pytest.raises(ValueError, match="'~/nokey': no such file"):
            await connect(server, known_hosts="~/kh", client_keys=["~/nokey"])


async def test_known_hosts_forms_asyncssh_reads_still_connect(tmp_path: Path) -> None:
    # The type check by the call (below) lets every form asyncssh reads through.
    line = f"[127.0.0.1]:{{port}} {HOST_KEY.export_public_key().decode()}"
    public = asyncssh.import_public_key(HOST_KEY.export_public_key())
    key_file = tmp_path / "host_key.pub"
    key_file.write_bytes(HOST_KEY.export_public_key())
    async with ssh_server() as server:
        kh = tmp_path / "kh"
        kh.write_text(line.format(port=server.port))
        forms: list[Any] = [
            str(kh),
            kh,
            [str(kh)],
            [str(kh), kh],
            line.format(port=server.port).encode(),
            asyncssh.read_known_hosts(str(kh)),
            ([public], [], []),
            [[public], [], []],
            ([public], [], [], [], [], [], []),
            (str(key_file), [], []),
            [key_file, (), ()],
            ([HOST_KEY.export_public_key()], [], []),
            (collections.deque([public]), (k for k in ()), set()),
            lambda host, addr, port: ([public], [], []),
        ]
        for known_hosts in forms:
            async with connect(server, known_hosts=known_hosts) as s:
                await s.sendline("trusted")
                await s.expect_exact("trusted")


async def test_a_list_of_pathlib_paths_is_a_list_of_known_hosts_files(tmp_path: Path) -> None:
    # asyncssh reads a list as file names only if its first is a str: a list
    # of Path objects was taken for (host keys, CA keys, revoked keys) lists,
    # and failed after connecting with a bare "IndexError: tuple index out of
    # range" (one file; "ssh.rst: or a list of paths").
    async with ssh_server() as server:
        kh, other = tmp_path / "kh", tmp_path / "other"
        kh.write_text(f"[127.0.0.1]:{server.port} {HOST_KEY.export_public_key().decode()}")
        other.write_text("")
        for known_hosts in ([kh], [other, kh]):
            async with connect(server, known_hosts=known_hosts) as s:
                await s.sendline("trusted")
                await s.expect_exact("trusted")
        with pytest.raises(aioexpect.HostKeyError):
            await connect(server, known_hosts=[other])


@pytest.mark.parametrize(
    ("known_hosts", "error", "words"),
    [
        # asyncssh's own, after connecting: "'int' object is not subscriptable"
        (12, TypeError, "known_hosts must be None .* not int"),
        (True, TypeError, "known_hosts must be .* not bool"),
        (0, TypeError, "known_hosts must be .* not int"),  # (was: trust nothing)
        ({"127.0.0.1": "ssh-ed25519 AAAA"}, TypeError, "known_hosts must be .* not dict"),
        ({"~/.ssh/known_hosts"}, TypeError, "known_hosts must be .* not set"),
        # "'int' object is not iterable"
        ([1, 2, 3], TypeError, r"trusted key lists: the host keys \(item 0\) must be a list"),
        (([1], [], []), TypeError, r"the host keys \(item 0\) hold an item of type int"),
        ((HOST_KEY, [], []), TypeError, r"the host keys \(item 0\) must be a list, not"),
        # "expected str, bytes or os.PathLike object, not int"
        (["/etc/hosts", 5], TypeError, "known_hosts: a list of file names holds int"),
        # "tuple index out of range"
        (([HOST_KEY], []), ValueError, "known_hosts as trusted key lists: .* not 2"),
    ],
)
async def test_known_hosts_of_a_wrong_type_is_refused_by_the_call(
    known_hosts: Any, error: type[Exception], words: str
) -> None:
    # Taken by the call, then asyncssh's bare error once connected (against a
    # refused port: a ConnectError).  Now the call's own, naming known_hosts.
    async with silent_server() as (port, accepted):
        with pytest.raises(error, match=words):
            aioexpect.connect_ssh("127.0.0.1", port, known_hosts=known_hosts)
        with pytest.raises(error, match=words):
            aioexpect.connect(f"ssh://127.0.0.1:{port}", known_hosts=known_hosts)
        await asyncio.sleep(0)
        assert not accepted.is_set()


async def test_an_unreadable_known_hosts_line_is_host_key_error_naming_the_file(
    _isolated: Path,
) -> None:
    async with ssh_server() as server:
        ssh_dir = _isolated / ".ssh"
        ssh_dir.mkdir()
        line = f"[127.0.0.1]:{server.port} {HOST_KEY.export_public_key().decode()}"
        (ssh_dir / "known_hosts").write_text(f"{line}\nbadline-without-key\n")
        with pytest.raises(aioexpect.HostKeyError, match="known_hosts") as info:
            await connect(server, known_hosts=())
        assert "Invalid known hosts entry" in str(info.value)
        with pytest.raises(aioexpect.HostKeyError, match="known_hosts"):
            await connect(server, known_hosts=str(ssh_dir / "known_hosts"))
        assert server.passwords_seen == 0


def test_known_hosts_files_resolved_from_many_threads_at_once(tmp_path: Path) -> None:
    # Event loops in several threads share the parsed files: the trim to the
    # last four raised a bare RuntimeError (dictionary changed size during
    # iteration) or KeyError for some connections, every run of this.
    key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    files = []
    for i in range(8):
        (tmp_path / f"kh{i}").write_text(f"host{i} {key}")
        files.append(str(tmp_path / f"kh{i}"))
    errors: list[BaseException] = []

    def resolve(n: int) -> None:
        for j in range(2000):
            try:
                resolve_known_hosts(files[(n + j) % 8], "h", 22, "peer")
            except Exception as exc:  # (any: the test reports them all)
                errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # (threads switch at almost every bytecode)
    try:
        threads = [threading.Thread(target=resolve, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


async def test_a_known_hosts_file_is_parsed_again_only_once_its_text_changes(
    _isolated: Path,
) -> None:
    """Each connection parsed its known_hosts file again: with 1,000 lines,
    some 8 ms and 700 KB, for every host of a fleet.  A file whose text is
    unchanged now gives the parse made before; a change is read, even one
    that keeps the file's inode and size, made within one tick of the file
    system's clock."""
    async with ssh_server() as server:
        line = f"[127.0.0.1]:{server.port} {{}}"
        wrong = line.format(OTHER_HOST_KEY.export_public_key().decode())
        right = line.format(HOST_KEY.export_public_key().decode())
        assert len(wrong) == len(right)
        file = _isolated / "known_hosts"
        file.write_text(wrong)
        first = resolve_known_hosts(str(file), "127.0.0.1", server.port, "peer")
        assert resolve_known_hosts("~/known_hosts", "127.0.0.1", server.port, "peer") is first
        with pytest.raises(aioexpect.HostKeyError, match="has CHANGED"):
            await connect(server, known_hosts=str(file))
        file.write_text(right)  # (in place)
        async with connect(server, known_hosts=str(file)) as s:
            await s.sendline("trusted now")
            await s.expect_exact("trusted now")
        assert resolve_known_hosts(str(file), "127.0.0.1", server.port, "peer") is not first


async def test_a_host_name_idna_cannot_encode_is_connect_error() -> None:
    bad = "a" * 70 + ".example"
    with pytest.raises(aioexpect.ConnectError, match=f"{bad}:22"):
        await aioexpect.connect_ssh(bad, known_hosts=None, timeout=5)
    with pytest.raises(aioexpect.ConnectError, match=f"{bad}:23"):
        await aioexpect.connect_telnet(bad, timeout=5)


async def test_changed_host_key_is_host_key_error(tmp_path: Path) -> None:
    async with ssh_server(host_key=OTHER_HOST_KEY) as server:
        stale = tmp_path / "known_hosts"
        stale.write_text(f"[127.0.0.1]:{server.port} {HOST_KEY.export_public_key().decode()}")
        with pytest.raises(aioexpect.HostKeyError, match="has CHANGED") as info:
            await connect(server, known_hosts=str(stale))
        assert "impersonating" in str(info.value) and "ssh-keygen -R" in str(info.value)
        assert server.auth_users == [] and server.passwords_seen == 0
        other = tmp_path / "other_hosts"  # a key for another host only: unknown, not changed
        other.write_text(f"[127.0.0.2]:{server.port} {HOST_KEY.export_public_key().decode()}")
        with pytest.raises(aioexpect.HostKeyError, match="not trusted"):
            await connect(server, known_hosts=str(other))


async def test_a_changed_host_key_of_another_type_is_host_key_error(tmp_path: Path) -> None:
    # known_hosts holds an RSA key, the (re-keyed) server an ed25519 one.
    # asyncssh offered the trusted key's algorithms alone, the server found
    # none it could use and hung up: a ConnectError blaming MaxStartups.
    rsa = asyncssh.generate_private_key("ssh-rsa").export_public_key().decode()
    async with ssh_server() as server:
        stale = tmp_path / "known_hosts"
        stale.write_text(f"[127.0.0.1]:{server.port} {rsa}")
        with pytest.raises(aioexpect.HostKeyError, match="has CHANGED") as info:
            await connect(server, known_hosts=str(stale))
        assert "ssh-keygen -R" in str(info.value) and "MaxStartups" not in str(info.value)
        assert server.auth_users == [] and server.passwords_seen == 0
        with pytest.raises(aioexpect.HostKeyError, match="has CHANGED"):
            await connect(server, known_hosts=asyncssh.import_known_hosts(stale.read_text()))


async def test_the_trusted_key_type_is_offered_first() -> None:
    # The server holds the trusted RSA key and an ed25519 one, which it
    # would pick were asyncssh's default order offered: trusted types first.
    rsa = asyncssh.generate_private_key("ssh-rsa")
    async with ssh_server(host_key=rsa, more_host_keys=[HOST_KEY]) as server:
        async with connect(server) as s:
            await s.sendline("trusted")
            await s.expect_exact("trusted")
        # Unknown host, no checking, or algorithms given: as asyncssh decides.
        unknown = asyncssh.import_known_hosts(
            f"[127.0.0.2]:{server.port} {HOST_KEY.export_public_key().decode()}"
        )
        with pytest.raises(aioexpect.HostKeyError, match="not trusted"):
            await connect(server, known_hosts=unknown)
        async with connect(server, known_hosts=None) as s:
            await s.sendline("unchecked")
            await s.expect_exact("unchecked")
        with pytest.raises(aioexpect.ConnectError) as info:
            await connect(server, server_host_key_algs=["ecdsa-sha2-nistp256"])
        assert not isinstance(info.value, aioexpect.HostKeyError)


async def test_host_key_algorithms_in_the_ssh_config_are_kept(_isolated: Path) -> None:
    # The trusted type first must not undo a HostKeyAlgorithms the user set.
    rsa = asyncssh.generate_private_key("ssh-rsa")
    (_isolated / ".ssh").mkdir()
    (_isolated / ".ssh" / "config").write_text("Host *\n  HostKeyAlgorithms ssh-ed25519\n")
    async with ssh_server(host_key=rsa, more_host_keys=[HOST_KEY]) as server:
        with pytest.raises(aioexpect.HostKeyError, match="has CHANGED"):
            await connect(server)
        async with connect(server, config=[]) as s:
            await s.sendline("trusted")
            await s.expect_exact("trusted")


@pytest.mark.parametrize(
    "trusted",
    [
        "[127.0.0.1]:{port}",  # another key trusted for the port
        # With no trusted key named for the port, asyncssh looked the host
        # up without its port, and the @revoked line for the port was lost.
        "127.0.0.1",  # another key trusted for the host on any port
        None,  # nothing trusted at all
    ],
)
async def test_a_revoked_host_key_is_named_revoked_not_unknown(
    tmp_path: Path, trusted: str | None
) -> None:
    # It was "not trusted ... add it to known_hosts": the one advice a
    # revoked (compromised) key must not get.
    async with ssh_server() as server:
        lines = f"@revoked [127.0.0.1]:{server.port} {HOST_KEY.export_public_key().decode()}"
        if trusted is not None:
            other = OTHER_HOST_KEY.export_public_key().decode()
            lines += f"{trusted.format(port=server.port)} {other}"
        revoked = tmp_path / "known_hosts"
        revoked.write_text(lines)
        with pytest.raises(aioexpect.HostKeyError, match="is REVOKED") as info:
            await connect(server, known_hosts=str(revoked))
        assert "add it to known_hosts" not in str(info.value)
        assert server.auth_users == [] and server.passwords_seen == 0


async def test_known_hosts_none_turns_checking_off_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="aioexpect")
    async with ssh_server() as server, connect(server, known_hosts=None) as s:
        await s.sendline("unchecked")
        await s.expect_exact("unchecked")
    warnings = [r for r in caplog.records if r.name == "aioexpect" and "OFF" in r.getMessage()]
    assert len(warnings) == 1
    assert f"127.0.0.1:{server.port}" in warnings[0].getMessage()


# -- failures while connecting ----------------------------------------------------------


async def test_refused_connection_is_connect_error() -> None:
    port = free_port()
    with pytest.raises(aioexpect.ConnectError) as info:
        await aioexpect.connect_ssh("127.0.0.1", port, known_hosts=None, timeout=5)
    assert not isinstance(info.value, aioexpect.AuthenticationError)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert isinstance(info.value.__cause__, OSError)


async def test_dns_failure_is_connect_error() -> None:
    with pytest.raises(aioexpect.ConnectError, match=r"nonexistent\.invalid:2222"):
        await aioexpect.connect_ssh("nonexistent.invalid", 2222, known_hosts=None, timeout=5)


async def test_silent_server_times_out_within_the_timeout() -> None:
    writers: list[asyncio.StreamWriter] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    try:
        start = loop.time()
        with pytest.raises(aioexpect.ConnectError, match="timed out") as info:
            await aioexpect.connect_ssh("127.0.0.1", port, known_hosts=None, timeout=0.3)
        assert loop.time() - start < 2.0
        assert info.value.port == port
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_bad_arguments_are_plain_errors() -> None:
    with pytest.raises(ValueError, match="port"):
        await aioexpect.connect_ssh("127.0.0.1", 0, known_hosts=None)
    with pytest.raises(TypeError, match="term_type"):
        await aioexpect.connect_ssh("127.0.0.1", 22, known_hosts=None, term_type=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dimensions"):
        aioexpect.connect_ssh("127.0.0.1", dimensions=(0, 80))


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        # asyncssh's own, once awaited: "could not convert string to float: ''"
        ({"keepalive_interval": "x"}, ValueError, "keepalive_interval must be a number of seconds"),
        ({"keepalive_interval": -1}, ValueError, "keepalive_interval must be .* from 0 up"),
        ({"keepalive_interval": float("nan")}, ValueError, "keepalive_interval must be"),
        ({"keepalive_interval": [5]}, TypeError, "keepalive_interval must be .* not list"),
        ({"login_timeout": "soon"}, ValueError, "login_timeout must be a number of seconds"),
        ({"login_timeout": -1}, ValueError, "login_timeout must be"),
        ({"rekey_seconds": True}, TypeError, "rekey_seconds must be .* not bool"),
        ({"rekey_bytes": "x"}, ValueError, "rekey_bytes must be a number of bytes"),
        ({"rekey_bytes": 0}, ValueError, "rekey_bytes must be a number of bytes above 0"),
        # "'<=' not supported between instances of 'str' and 'int'"
        ({"keepalive_count_max": "3"}, TypeError, "keepalive_count_max must be an int, not str"),
        ({"keepalive_count_max": 0}, ValueError, "keepalive_count_max must be an int from 1 up"),
        # (asyncssh took these, and the channel failed to open after the login)
        ({"window": "x"}, TypeError, "window must be an int"),
        ({"max_pktsize": 2**32}, ValueError, "max_pktsize must be an int from 1 to 4294967295"),
        ({"canonicalize_max_dots": -1}, ValueError, "canonicalize_max_dots must be"),
        ({"family": "inet"}, TypeError, "family must be an int"),
    ],
)
async def test_a_bad_number_for_asyncssh_is_refused_by_the_call(
    options: dict[str, Any], error: type[Exception], words: str
) -> None:
    # Raised by connect_ssh itself, naming the option: nothing is dialled.
    if not set(options) <= asyncssh_options():
        pytest.skip(f"this asyncssh takes no {', '.join(options)}")
    async with silent_server() as (port, accepted):
        with pytest.raises(error, match=words):
            aioexpect.connect_ssh("127.0.0.1", port, known_hosts=None, **options)
        with pytest.raises(error, match=words):
            aioexpect.connect(f"ssh://127.0.0.1:{port}", known_hosts=None, **options)
        await asyncio.sleep(0)
        assert not accepted.is_set()


def test_good_numbers_for_asyncssh_are_taken() -> None:
    good = [
        {"keepalive_interval": "1m30s", "keepalive_count_max": 2},
        {"keepalive_interval": 0, "login_timeout": None, "rekey_seconds": "1h"},
        {"login_timeout": 7.5, "rekey_bytes": "1g", "window": 1 << 20, "max_pktsize": 32768},
        {"keepalive_interval": float("inf"), "rekey_bytes": 1 << 30, "canonicalize_max_dots": 0},
        {"family": socket.AF_INET, "flags": 0},
    ]
    taken = asyncssh_options()
    for options in good:
        options = {name: value for name, value in options.items() if name in taken}
        aioexpect.connect_ssh("127.0.0.1", 1, known_hosts=None, **options)


def asyncssh_options() -> set[str]:
    """The options this asyncssh takes (2.14.2, the floor, has no
    ``canonicalize_max_dots``)."""
    from aioexpect import _ssh

    return set(_ssh.option_names())


# -- the peer vanishing, keepalive --------------------------------------------------------


class Proxy:
    """A TCP relay to the SSH server that can freeze (relay nothing) or cut."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.frozen = False
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Proxy:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cut()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def cut(self) -> None:
        for writer in self.writers:
            writer.transport.abort()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self.tasks.add(task)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await src.read(65536):
                if not self.frozen:
                    dst.write(data)
        dst.close()


async def test_vanished_peer_is_connection_lost() -> None:
    async with ssh_server() as server, Proxy(server.port) as proxy:
        async with connect(server, port=proxy.port, known_hosts=None) as s:
            await s.sendline("before")
            await s.expect_exact("before")
            proxy.cut()
            with pytest.raises(aioexpect.ConnectionLostError, match=f"127.0.0.1:{proxy.port}"):
                await s.expect_exact("never", timeout=10)
            with pytest.raises(aioexpect.ConnectionLostError):
                await s.sendline("after")


async def test_keepalive_options_are_passed_to_asyncssh() -> None:
    async with ssh_server() as server, Proxy(server.port) as proxy:
        keepalive = {"keepalive_interval": 0.1, "keepalive_count_max": 2}
        async with connect(server, port=proxy.port, known_hosts=None, **keepalive) as s:
            await s.sendline("alive")
            await s.expect_exact("alive")
            proxy.frozen = True  # the server stops answering, the socket stays up
            with pytest.raises(aioexpect.ConnectionLostError, match="keepalive"):
                await s.expect_exact("never", timeout=10)


async def test_asyncssh_defaults_of_its_number_options_take_the_ssh_config(tmp_path: Path) -> None:
    # () is asyncssh's own default for these: "as the SSH config file says".
    # A caller forwarding asyncssh's defaults passes it; the check at the
    # call refused it ("keepalive_interval must be a number ..., not tuple").
    config = tmp_path / "ssh_config"
    config.write_text("Host *\n  ServerAliveInterval 1\n  ServerAliveCountMax 1\n")
    unset: dict[str, Any] = dict.fromkeys(
        ["keepalive_interval", "keepalive_count_max", "rekey_bytes", "rekey_seconds"], ()
    )
    unset |= {"canonicalize_max_dots": (), "family": ()}
    unset = {name: value for name, value in unset.items() if name in asyncssh_options()}
    async with ssh_server() as server, Proxy(server.port) as proxy:
        async with connect(server, port=proxy.port, known_hosts=None, config=config, **unset) as s:
            await s.sendline("alive")
            await s.expect_exact("alive")
            proxy.frozen = True  # the config's keepalive finds the server gone
            with pytest.raises(aioexpect.ConnectionLostError, match="keepalive"):
                await s.expect_exact("never", timeout=10)


# -- URLs, secrets, closing -------------------------------------------------------------------


async def test_url_credentials_are_used() -> None:
    async with ssh_server() as server:
        url = f"ssh://alice:{PASSWORD}@127.0.0.1:{server.port}"
        async with aioexpect.connect(url, known_hosts=server.known_hosts(), timeout=10) as s:
            await s.sendline("via url")
            await s.expect_exact("via url")
            assert PASSWORD not in repr(s)
        assert server.auth_users == ["alice"]


async def test_password_is_redacted_even_when_echoed() -> None:
    async with ssh_server() as server, connect(server) as s:
        await s.sendline(f"echo {PASSWORD}")
        with pytest.raises(aioexpect.ExpectTimeout) as info:
            await s.expect_exact("never", timeout=0.5)
        assert PASSWORD not in str(info.value)
        assert "********" in str(info.value)


async def test_close_is_idempotent_and_read_after_close_fails() -> None:
    async with ssh_server() as server:
        s = await connect(server)
        await s.close()
        await s.close()
        assert s.closed
        with pytest.raises(aioexpect.ClosedError):
            await s.expect_exact("x")
        transport = s.transport
        with pytest.raises(aioexpect.ClosedError):
            await transport.read()
        with pytest.raises(aioexpect.ClosedError):
            await transport.write(b"x")


async def test_close_wakes_a_pending_read() -> None:
    async with ssh_server() as server:
        transport = await open_raw(server)
        reader = asyncio.create_task(transport.read())
        await asyncio.sleep(0)
        await transport.close(force=True)
        with pytest.raises(aioexpect.ClosedError):
            await reader


async def test_a_second_close_during_the_first_waits_for_it() -> None:
    # The second returned at once, the first still waiting for the end.
    async with ssh_server() as server:
        s = await connect(server)
        first = asyncio.create_task(s.close())
        await asyncio.sleep(0)
        assert not first.done()  # waiting for the connection to end
        await s.close(force=True)
        assert first.done()
        await first


async def test_a_server_that_hangs_up_during_the_handshake_is_explained() -> None:
    """OpenSSH past MaxStartups sends its version line and hangs up: the
    error says what that usually means."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(aioexpect.ConnectError, match="MaxStartups") as info:
            await aioexpect.connect_ssh("127.0.0.1", port, known_hosts=[], timeout=5)
        assert f"127.0.0.1:{port}" in str(info.value)
    finally:
        server.close()
        await server.wait_closed()


async def test_a_user_name_from_ssh_config_that_ssh_cannot_send_is_a_connect_error(
    tmp_path: Path,
) -> None:
    # Checked when connect_ssh() is called if given; one from ~/.ssh/config
    # (or config=) reached asyncssh's SASLprep and came out as its own error.
    config = tmp_path / "config"
    config.write_text("Host 127.0.0.1\n    User admin\ue000\n", encoding="utf-8")
    async with ssh_server() as server:
        with pytest.raises(aioexpect.ConnectError, match="Prohibited character") as info:
            await connect(server, username=None, config=[str(config)])
        assert info.value.port == server.port
        assert server.auth_users == []


async def test_a_local_user_without_a_name_is_a_connect_error_that_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # asyncssh looks the local user's name up for every connection, username=
    # given or not.  A uid the user database does not name, without $USER or
    # $LOGNAME (a container run as --user 12345, a cron job), or a database
    # that cannot be read (no descriptor left), let asyncssh's ValueError out
    # of connect_ssh, and out of run_many as a failure before the job that is
    # no ConnectError.
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)

    def unnamed(uid: int) -> Any:  # what the C library's getpwuid() answers for it
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", unnamed)
    async with ssh_server() as server:
        with pytest.raises(aioexpect.ConnectError, match="local user's name") as info:
            await connect(server)
        assert f"SSH connection to 127.0.0.1:{server.port} failed: " in str(info.value)
        assert "set LOGNAME or USER)" in str(info.value)  # (ours: 3.13 lost asyncssh's hint)
        assert info.value.port == server.port and server.auth_users == []
        target = aioexpect.Host(
            f"ssh://127.0.0.1:{server.port}", aioexpect.Account("tester", PASSWORD)
        )
        [result] = await aioexpect.run_many(
            [target], _never_run, known_hosts=server.known_hosts(), timeout=20
        )
        assert isinstance(result.error, aioexpect.ConnectError), result.error
        assert "local user's name" in str(result.error)


async def test_a_bad_value_of_an_asyncssh_option_stays_a_value_error() -> None:
    # A bad argument is the caller's (SPEC: a plain ValueError), not the
    # connection's: translating every ValueError made it a ConnectError.
    async with ssh_server() as server:
        with pytest.raises(ValueError, match="not a valid key exchange algorithm") as info:
            await connect(server, kex_algs=["no-such-kex"])
        assert not isinstance(info.value, aioexpect.ConnectError)


async def _never_run(session: aioexpect.Session, host: Any) -> None:
    raise AssertionError("the job ran")


async def test_a_password_equal_to_the_host_or_port_is_masked_where_they_show(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The opener's own words ("SSH authentication to HOST:PORT failed") and
    # the known_hosts=None warning showed what asyncssh's text had masked,
    # pointing at the password (security.rst: one equal to them is masked).
    caplog.set_level(logging.WARNING, logger="aioexpect")
    async with ssh_server() as server:
        for password in ("127.0.0.1", str(server.port)):
            caplog.clear()
            with pytest.raises(aioexpect.AuthenticationError) as info:
                await connect(server, password=password, known_hosts=None)
            assert password not in str(info.value) and "********" in str(info.value)
            shown = [r.getMessage() for r in caplog.records]
            assert shown and not [m for m in shown if password in m]
