"""``serve_telnet`` / ``serve_ssh``: a ``VirtualDevice`` on a loopback port,
for real clients (aioexpect, OpenSSH ``ssh``, ``telnet``).

Each returns a ``DeviceServer`` (``.port``, ``close()``, ``await
wait_closed()``, ``async with``); the call itself can be awaited or used with
``async with``.  Closing stops listening, ends every connection and waits for
their handlers (cancelling those still running ``CLOSE_GRACE`` seconds later,
and dropping the connections whose clients have not taken their output).  A
telnet connection ends gracefully (see ``_TelnetConnection.hang_up``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import telnetlib3
from telnetlib3.telopt import IP

from .._asyncssh import asyncssh
from .._exceptions import ConnectError
from .._opening import AsyncClosing, Opening, close_server, one_port
from .._options import check_port
from .._runner import in_background
from ._channels import INTERRUPT, ssh_process, telnet_session
from ._device import CLOSING, VirtualDevice
from ._listening import reached_by

__all__ = ["DeviceServer", "serve_ssh", "serve_telnet"]

_log = logging.getLogger("aioexpect.testing")
#: Seconds a closing server gives its connections' handlers to end (a
#: clean-up after ``EOFError``); then it cancels those left, for good.
CLOSE_GRACE = 1.0
#: Seconds between looks at whether closing connections have sent their output.
_POLL = 0.05


class DeviceServer(AsyncClosing):
    """A ``VirtualDevice`` being served.

    ``kind`` is ``"telnet"`` or ``"ssh"``; ``host`` and ``port`` say where.
    For SSH, ``known_hosts`` is the path of a known_hosts file that trusts
    this server's host key (for ``connect_ssh(known_hosts=...)`` and
    ``ssh -o UserKnownHostsFile=...``; removed on close, or at exit) and
    ``known_hosts_entry`` its one line; both are ``None`` for telnet.
    """

    def __init__(self, kind: str, device: VirtualDevice, host: str) -> None:
        self.kind = kind
        self.device = device
        self.host = host
        self.port = 0
        self.known_hosts: str | None = None
        self.known_hosts_entry: str | None = None
        self._closers: list[Callable[[], None]] = []
        self._waiters: list[Callable[[], Awaitable[None]]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._transports = _Transports()
        self._end: asyncio.Task[None] | None = None  # started by close(): every connection gone
        self._closed = False
        self._closing = asyncio.Event()  # close() was called

    def __repr__(self) -> str:
        state = "closed" if self._closed else "serving"
        return f"<DeviceServer {self.kind} {self.host}:{self.port} {self.device!r} {state}>"

    @property
    def closed(self) -> bool:
        return self._closed

    def _spawn(self, handler: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run one SSH channel's handler in a task that close() ends, known
        from its creation on (one that close() cancels before its first
        step never runs: its channel ends with the connection close() closes)."""
        task = asyncio.get_running_loop().create_task(handler)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if self._closed:  # (closing: perhaps while the task was being created)
            task.cancel(CLOSING)
        return task

    def _track(self) -> bool:
        """Make the running task (a telnet connection's shell) known to
        close(); ``False`` if the server is closed already (the task then
        ends at once)."""
        task = asyncio.current_task()
        if self._closed or task is None:
            return False
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def close(self) -> None:
        """Stop listening and end every connection (idempotent): a question
        being asked raises ``EOFError``; a handler still running a second
        (``CLOSE_GRACE``) later (its clean-up, or one that went on) is
        cancelled, and a connection whose client has not taken its output,
        or (telnet) not ended its side, by then is dropped, whether anything
        waits or not."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        for closer in self._closers:
            closer()
        for task in list(self._tasks):
            task.cancel(CLOSING)  # (a question being asked: EOFError, see ``serving``)
        with contextlib.suppress(RuntimeError):  # (no loop running: wait_closed() starts it)
            self._start_ending()

    async def wait_closed(self) -> None:
        """Wait until ``close()`` was called and the listener and every
        connection and its handler are gone.  Cancelling this wait leaves
        that under way, the handlers' grace included."""
        await self._closing.wait()
        await asyncio.shield(self._start_ending())
        for waiter in self._waiters:
            await waiter()

    def _start_ending(self) -> asyncio.Task[None]:
        """The task that ends the connections, started once (in the running loop)."""
        if self._end is None:
            self._end = in_background(self._end_connections(), "aioexpect-testing-close")
        return self._end

    async def _end_connections(self) -> None:
        """Give the handlers (cancelled with ``CLOSING``) and the connections
        ``CLOSE_GRACE`` seconds to end and to hand their clients what was
        written to them; then cancel the handlers left, for good (a message
        other than ``CLOSING``: not turned into ``EOFError`` again), and drop
        the connections left.  A handler that swallows that cancellation too
        is given as long again, then told and no longer waited for."""
        try:
            async with asyncio.timeout(CLOSE_GRACE):
                while self._tasks:
                    await asyncio.wait(list(self._tasks))
                while self._transports.holding():  # (nothing tells when it is all sent)
                    await asyncio.sleep(_POLL)
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel("aioexpect.testing: the server closed, and the handler ran on")
            self._transports.abort()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_GRACE):
                    while self._tasks:
                        await asyncio.wait(list(self._tasks))
            for task in list(self._tasks):  # (told: the close no longer hangs on it)
                _log.warning(
                    "%r: a handler runs on, cancelled twice after the close (does it swallow"
                    " CancelledError?): no longer waited for, but the event loop waits for it"
                    " as it shuts down: %r",
                    self.device,
                    task,
                )
            self._transports.abort()  # (those the cancelled handlers closed since)


class _Transports:
    """The telnet connections' transports, from their start until they are
    gone (closed, with nothing left to send)."""

    def __init__(self) -> None:
        self._held: set[Any] = set()  # (asyncio.Transport, or uvloop's, which is none)

    def add(self, transport: asyncio.BaseTransport | None) -> None:
        self._prune()
        if transport is not None:
            self._held.add(transport)

    def holding(self) -> bool:
        """Whether a connection is still open, or closing with output left."""
        self._prune()
        return bool(self._held)

    def abort(self) -> None:
        """Drop every connection left, and what it has not sent."""
        for transport in self._held:
            transport.abort()
        self._held.clear()

    def _prune(self) -> None:
        gone = {t for t in self._held if t.is_closing() and not t.get_write_buffer_size()}
        self._held -= gone


class Serving(Opening[DeviceServer]):
    """A starting server: ``await`` it, or use it with ``async with``."""

    __slots__ = ()

    def __init__(self, start: Callable[[], Awaitable[DeviceServer]]) -> None:
        super().__init__(start, close_server)


def _check(device: Any, host: Any, port: Any) -> None:
    if not isinstance(device, VirtualDevice):
        raise TypeError(f"serve a VirtualDevice, not {type(device).__name__}")
    # (None or "" would listen on every interface, each on a port of its own
    # with port 0, so that ``.port`` told one of them, or 0 for SSH)
    if not isinstance(host, str):
        raise TypeError(f"host must be a str, the address to listen on, not {host!r}")
    if not host:
        raise ValueError(
            'host must name the address to listen on ("127.0.0.1", or "0.0.0.0" for'
            ' every IPv4 interface), not ""'
        )
    check_port(port, lowest=0)


# -- telnet ----------------------------------------------------------------------------


def serve_telnet(device: VirtualDevice, host: str = "127.0.0.1", port: int = 0) -> Serving:
    """Serve ``device`` over telnet (telnetlib3), login by in-band dialog."""
    _check(device, host, port)
    return Serving(lambda: _start_telnet(device, host, port))


async def _start_telnet(device: VirtualDevice, host: str, port: int) -> DeviceServer:
    server = DeviceServer("telnet", device, host)
    connections: set[_TelnetConnection] = set()
    loop = asyncio.get_running_loop()
    try:
        listener = await one_port(
            lambda p: loop.create_server(lambda: _TelnetConnection(server, connections), host, p),
            lambda listener: [s.getsockname() for s in listener.sockets],
            port,
        )
    except OSError as exc:
        raise ConnectError(
            f"cannot serve telnet on {host}:{port}: {exc}", host=host, port=port
        ) from exc
    server.port = listener.sockets[0].getsockname()[1]

    def close() -> None:
        listener.close()  # (asyncio's: the connections stay, to be hung up)
        for connection in list(connections):
            if not connection.serving:  # (a shell hangs up when it ends)
                connection.hang_up()

    server._closers.append(close)
    server._waiters.append(listener.wait_closed)
    return server


class _TelnetConnection(telnetlib3.TelnetServer):
    """One telnet connection (telnetlib3's server side), known to its
    server from the start, and hung up gracefully (see ``hang_up``)."""

    def __init__(self, server: DeviceServer, connections: set[_TelnetConnection]) -> None:
        super().__init__(
            shell=self._shell,
            encoding="utf8",
            encoding_errors="replace",
            force_binary=True,
            connect_maxwait=1.0,
            timeout=0,
        )
        self._server = server
        self._connections = connections
        self._tcp: Any = None  # (an asyncio.Transport, or uvloop's, which is none)
        self._hung_up = False
        self._cut: asyncio.TimerHandle | None = None
        self.serving = False  # its shell runs (and hangs up as it ends)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        writer, reader = self.writer, self.reader  # (made by telnetlib3's connection_made)
        if writer is not None and reader is not None:
            # IAC IP (a client's interrupt, as telnet's "send ip" sends it;
            # the reader never saw it): Ctrl-C, in the stream where it came
            writer.set_iac_callback(IP, lambda _: reader.feed_data(INTERRUPT.encode()))
        self._tcp = transport
        self._connections.add(self)
        self._server._transports.add(transport)
        if self._server.closed:  # (accepted as the listener closed)
            self.hang_up()

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        if self._cut is not None:
            self._cut.cancel()
        super().connection_lost(exc)

    def hang_up(self) -> None:
        """End the connection gracefully: an end of file after the output,
        then what the client still sends (its answers to the negotiation,
        keys typed ahead) is read and dropped until its own end of file
        closes the connection, or ``CLOSE_GRACE`` seconds.  Closed at once,
        the socket would answer the first byte that arrived with a reset,
        and the client could lose output it had not read yet (ECONNRESET
        instead of an end of file).  From then on telnetlib3 writes nothing
        (after the end of file, a write raises)."""
        transport = self._tcp
        if self._hung_up or transport is None or transport.is_closing():
            return
        self._hung_up = True
        if not transport.can_write_eof():
            transport.close()
            return
        try:
            transport.write_eof()
        except (OSError, RuntimeError):  # the client is gone: reset, not yet noticed (ENOTCONN)
            transport.close()
            return
        self._cut = asyncio.get_running_loop().call_later(CLOSE_GRACE, transport.close)

    def data_received(self, data: bytes) -> None:
        if not self._hung_up:  # (dropped after: its answers could not be sent)
            super().data_received(data)

    def begin_negotiation(self) -> None:
        if not self._hung_up:
            super().begin_negotiation()

    def begin_advanced_negotiation(self) -> None:
        if not self._hung_up:
            super().begin_advanced_negotiation()

    def check_negotiation(self, final: bool = False) -> bool:
        # (True: over, with nothing more sent; the shell then ends at once)
        return self._hung_up or super().check_negotiation(final)

    async def _shell(self, reader: Any, writer: Any) -> None:
        self.serving = not self._hung_up and self._server._track()
        if not self.serving:  # (closed before this task's first step)
            self.hang_up()
            return
        try:
            await telnet_session(self._server, reader, writer)
        except Exception as exc:
            _log.debug("telnet connection to %r ended: %r", self._server.device, exc)
        finally:
            self.hang_up()


# -- SSH -----------------------------------------------------------------------------------


def serve_ssh(
    device: VirtualDevice,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    host_keys: Sequence[str | os.PathLike[str] | asyncssh.SSHKey] | None = None,
) -> Serving:
    """Serve ``device`` over SSH (asyncssh), login by password authentication.

    ``host_keys``: private keys (paths or asyncssh keys); ``None`` generates
    an ephemeral Ed25519 key.  The server's ``known_hosts`` attribute names
    a file that trusts it (a wildcard host at 127.0.0.1/::1 and localhost too).
    """
    _check(device, host, port)
    keys = _load_keys(host_keys)
    return Serving(lambda: _start_ssh(device, host, port, keys))


def _load_keys(
    host_keys: Sequence[str | os.PathLike[str] | asyncssh.SSHKey] | None,
) -> list[asyncssh.SSHKey]:
    if host_keys is None:
        return [asyncssh.generate_private_key("ssh-ed25519")]
    if isinstance(host_keys, str | os.PathLike):
        raise TypeError("host_keys must be a sequence of keys or paths, not one path")
    keys = []
    for item in host_keys:
        if isinstance(item, asyncssh.SSHKey):
            key = item
        elif isinstance(item, str | os.PathLike):
            try:
                key = asyncssh.read_private_key(os.fspath(item))
            except (OSError, asyncssh.KeyImportError) as exc:
                raise ValueError(f"cannot read host key {os.fspath(item)!r}: {exc}") from None
        else:
            raise TypeError(
                f"host_keys must hold private keys or their paths, not {type(item).__name__}"
            )
        try:  # (a public key was served, and every client's handshake failed)
            key.sign(b"", key.sig_algorithms[0])
        except ValueError:
            raise ValueError(
                f"a host key must be a private key, not a public {key.get_algorithm()} key"
            ) from None
        keys.append(key)
    if not keys:
        raise ValueError("host_keys is empty")
    return keys


def _known_hosts_file(host: str, port: int) -> str:
    """A new, empty file for the known_hosts entry: made before listening, so
    that a temporary directory that cannot take it leaves nothing behind."""
    try:
        fd, path = tempfile.mkstemp(prefix="aioexpect-known_hosts-")
    except OSError as exc:
        raise ConnectError(
            f"cannot serve SSH on {host}:{port}: cannot create its known_hosts file"
            f" in {tempfile.gettempdir()!r}: {exc}",
            host=host,
            port=port,
        ) from exc
    os.close(fd)
    return path


def _remove(path: str, pid: int) -> None:
    if os.getpid() == pid:  # (not a forked child's exit: its parent's server serves on)
        with contextlib.suppress(OSError):
            os.unlink(path)


def _write_known_hosts(server: DeviceServer, keys: list[asyncssh.SSHKey], bound: list[str]) -> None:
    assert server.known_hosts is not None
    names = reached_by(server.host, bound)  # (a wildcard: at 127.0.0.1, ::1, localhost)
    where = ",".join(name if server.port == 22 else f"[{name}]:{server.port}" for name in names)
    lines = [f"{where} {key.export_public_key().decode().strip()}" for key in keys]
    try:
        with open(server.known_hosts, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
    except OSError as exc:  # (a full disk)
        raise ConnectError(
            f"cannot write the known_hosts file {server.known_hosts!r}: {exc}",
            host=server.host,
            port=server.port,
        ) from exc
    server.known_hosts_entry = lines[0]


class _SSHServer(asyncssh.SSHServer):
    """One SSH connection's authentication: the device's login, if any."""

    def __init__(self, device: VirtualDevice, connections: set[Any]) -> None:
        self._device = device
        self._connections = connections
        self._conn: Any = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return self._device.login is not None

    def password_auth_supported(self) -> bool:
        return self._device.login is not None

    def validate_password(self, username: str, password: str) -> bool:
        return self._device.check_login(username, password)


async def _start_ssh(
    device: VirtualDevice, host: str, port: int, keys: list[asyncssh.SSHKey]
) -> DeviceServer:
    server = DeviceServer("ssh", device, host)
    server.known_hosts = _known_hosts_file(host, port)
    # Removed by close(), or at exit for a server never closed (it stayed in
    # the temporary directory for good), or as the server is collected.
    server._closers.append(weakref.finalize(server, _remove, server.known_hosts, os.getpid()))
    try:
        bound = await _listen_ssh(server, host, port, keys)
        _write_known_hosts(server, keys, bound)
    except BaseException:  # (cancelled too) the listener and the file go: nothing left
        server.close()
        await server.wait_closed()
        raise
    return server


async def _listen_ssh(
    server: DeviceServer, host: str, port: int, keys: list[asyncssh.SSHKey]
) -> list[str]:
    connections: set[asyncssh.SSHServerConnection] = set()

    def process(proc: asyncssh.SSHServerProcess[str]) -> None:
        server._spawn(ssh_process(server, proc))  # (not asyncssh's task: close() sees it)

    try:
        listener = await one_port(
            lambda p: asyncssh.create_server(
                lambda: _SSHServer(server.device, connections),
                host,
                p,
                server_host_keys=keys,
                process_factory=process,
                line_editor=False,
                encoding="utf-8",
                errors="replace",
            ),
            lambda listener: listener.get_addresses(),
            port,
        )
    except (OSError, asyncssh.Error) as exc:
        raise ConnectError(
            f"cannot serve SSH on {host}:{port}: {exc}", host=host, port=port
        ) from exc
    server.port = listener.get_port()

    def close() -> None:
        listener.close()
        for conn in list(connections):
            conn.close()

    async def wait_closed() -> None:
        await listener.wait_closed()
        for conn in list(connections):
            await conn.wait_closed()

    server._closers.append(close)
    server._waiters.append(wait_closed)
    return [address[0] for address in listener.get_addresses()]  # (the IPs listened on)
