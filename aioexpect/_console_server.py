"""``start_console_server``: the console served into a running program over
loopback TCP, a UNIX socket (mode 0600) or SSH with public-key authentication.

Invariants: plain TCP never binds beyond loopback; with a token nothing is
evaluated or shown before the client's first line matched it; every client
has its own console and ``exit()`` ends only that one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
import os
import socket
import stat
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from ._console_checks import check_options, is_address, load_ssh_keys, loopback_address
from ._console_output import SSHOutput, StreamOutput, ssh_raw_mode, unsent
from ._console_streams import Lines, SSHInput, gone, say, told
from ._exceptions import ConnectError
from ._opening import AsyncClosing, Opening, close_server, one_port
from ._options import check_timeout, peer_name
from ._runner import in_background

if TYPE_CHECKING:
    from ._console import RawMode

__all__ = ["ConsoleServer", "start_console_server"]

_log = logging.getLogger("aioexpect.console")

#: Refused clients being told why at once (each holds its connection until
#: then); past that, refused ones are closed without a word.
TELLING = 8
#: Seconds a refused client is given to read why (plain: while it still
#: sends, since closing with its input unread would reset the connection
#: and lose the line; SSH: to reach authentication, where it is told).
TELLING_TIME = 10.0
#: Seconds that closing the server gives its TCP and UNIX clients, all
#: together, to take what was written to them; then the connections of
#: those that do not read are dropped (a shutdown never waits on a client).
CLOSE_GRACE = 1.0
#: The longest path, in bytes, a UNIX socket can be bound at: the address's
#: ``sun_path`` less its ending NUL (108 bytes on Linux, 104 on macOS).
UNIX_PATH_MAX = (108 if sys.platform.startswith("linux") else 104) - 1


class ConsoleServer(AsyncClosing):
    """A served console: ``.port`` (TCP and SSH) or ``.path`` (UNIX socket),
    ``close()``, ``await wait_closed()``, and ``async with``."""

    def __init__(
        self,
        *,
        shared: Mapping[str, Any],
        token: bytes | None,
        max_clients: int,
        login_timeout: float | None,
    ) -> None:
        self.host: str | None = None
        self._port: int | None = None
        self.path: str | None = None
        self.ssh = False
        self._shared = shared
        self._token = token
        self._max_clients = max_clients
        self._login_timeout = login_timeout
        self._listener: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connections: set[Any] = set()
        self._writers: set[asyncio.StreamWriter] = set()  # plain clients' connections, until gone
        self._end: asyncio.Task[None] | None = None  # started by close(): every client gone
        self._refused: set[Any] = set()  # SSH clients to be told why, after key exchange
        self._telling: set[asyncio.Task[Any]] = set()  # plain clients being told why
        self._socket_id: tuple[int, int] | None = None
        self._closing = False
        self._closed = asyncio.Event()  # close() was called

    def __repr__(self) -> str:
        state = "closed" if self._closing else f"{len(self._tasks)} clients"
        return f"<ConsoleServer {self.address} {state}>"

    @property
    def port(self) -> int:
        """The port it listens on, TCP or SSH (the one picked for ``port=0``).
        A console on a UNIX socket has none: ``AttributeError`` (see ``path``)."""
        # (an int, not int | None: connect_telnet("127.0.0.1", server.port)
        # needed a narrowing to pass mypy, for the one kind that has a port)
        if self._port is None:
            raise AttributeError("a console served on a UNIX socket has no port: see its path")
        return self._port

    @property
    def address(self) -> str:
        """Where it listens: ``HOST:PORT``, ``unix:PATH`` or ``ssh://HOST:PORT``."""
        if self.path is not None:
            return f"unix:{self.path}"
        return f"{'ssh://' if self.ssh else ''}{peer_name(self.host or '*', self._port)}"

    @property
    def clients(self) -> int:
        """Connected clients (authenticated or not), and, once the server
        is closing, those whose connection is not gone yet."""
        return max(len(self._tasks), len(self._writers), len(self._connections))

    # -- lifecycle ------------------------------------------------------------------

    def close(self) -> None:
        """Stop listening and end every client (idempotent); a TCP or UNIX
        client that does not take its output is dropped a second
        (``CLOSE_GRACE``) later, in the background, whether anything waits or
        not."""
        if self._closing:
            return
        self._closing = True
        self._closed.set()
        if self._listener is not None:
            self._listener.close()
        for task in [*self._tasks, *self._telling]:
            task.cancel()
        for conn in [*self._connections, *self._refused]:
            conn.close()
        self._unlink_socket()
        with contextlib.suppress(RuntimeError):  # (no loop running: wait_closed() starts it)
            self._start_ending()

    async def wait_closed(self) -> None:
        """Wait until ``close()`` was called and the listener and every client
        are gone (``close()`` drops a client that does not take its output a
        second, ``CLOSE_GRACE``, after: this never waits on a client).
        Cancelling this wait leaves that under way."""
        await self._closed.wait()
        await asyncio.shield(self._start_ending())
        if self._listener is not None:  # (from Python 3.12, it waits for the connections)
            await self._listener.wait_closed()
        for conn in [*self._connections, *self._refused]:
            await conn.wait_closed()

    def _start_ending(self) -> asyncio.Task[None]:
        """The task that ends the clients, started once (in the running loop)."""
        if self._end is None:
            self._end = in_background(self._end_clients(), "aioexpect-console-close")
        return self._end

    async def _end_clients(self) -> None:
        """Give the clients ``CLOSE_GRACE`` seconds, all together, for their
        tasks to end and for their connections, closed then (one whose task
        was cancelled before it ran was never closed), to hand over what was
        written to them; then drop the connections left (clients that do not
        read, or whose running statement swallowed the cancellation: cancelled
        once more, and no longer waited for)."""
        writers: list[asyncio.StreamWriter] = []
        try:
            async with asyncio.timeout(CLOSE_GRACE):
                while tasks := [*self._tasks, *self._telling]:
                    await asyncio.wait(tasks)
                writers = list(self._writers)
                for writer in writers:
                    writer.close()  # (one that is closed already: nothing happens)
                for writer in writers:
                    await gone(writer)
        except TimeoutError:
            for task in [*self._tasks, *self._telling]:
                task.cancel()
            writers = list(self._writers)
            for writer in writers:
                writer.transport.abort()  # (one that is gone already: nothing happens)
            for conn in self._connections:
                conn.abort()
            for writer in writers:
                await gone(writer)
        self._writers.difference_update(writers)

    # -- plain streams (TCP and UNIX) ---------------------------------------------------

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._spawn(self._stream_client(reader, writer)):
            self._writers.add(writer)  # (here: close() may cancel the task before it runs)
            return
        say(writer, f"aioexpect console: refused: {self._refusal()}\r\n".encode())
        if not self._tell(reader, writer):
            writer.close()

    def _tell(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Close a refused client once it has read why (``told``), in a task
        of its own that holds no ``max_clients`` slot; ``False`` if there is
        no room for one more (or the server is closing: nothing may hold
        ``wait_closed()`` up), and the caller closes it at once."""
        if self._closing or len(self._telling) >= TELLING:
            return False
        task = asyncio.get_running_loop().create_task(told(reader, writer, TELLING_TIME))
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)
        task.add_done_callback(lambda _: writer.close())  # (cancelled before it ran, too)
        return True

    def _refusal(self) -> str:
        if self._closing:
            return "the console is closing"
        return f"max_clients={self._max_clients} reached"

    def _spawn(self, client: Coroutine[Any, Any, None]) -> bool:
        """Run one client in a task of ours (``close()`` cancels it), unless
        ``max_clients`` are connected already."""
        if self._closing or len(self._tasks) >= self._max_clients:
            _log.warning("console refused a client: %s", self._refusal())
            client.close()
            return False
        task = asyncio.get_running_loop().create_task(client, name="aioexpect-console-client")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _stream_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername") or self.address
        handed_over = False
        try:
            if await self._authenticated(reader, writer, peer):
                await self._stream_console(reader, writer, f"<console {peer}>")
            else:  # refused: its slot is free for the next client at once
                handed_over = self._tell(reader, writer)
        finally:
            if handed_over:
                self._writers.discard(writer)
            else:
                await self._hang_up(writer)

    async def _stream_console(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str
    ) -> None:
        lines = Lines(reader, writer)
        try:
            await self._run_console(lines, StreamOutput(writer), None, name)
        finally:
            await lines.close()

    async def _hang_up(self, writer: asyncio.StreamWriter) -> None:
        """Close a client's connection once what was written to it has gone
        out (its slot is held until then; with nothing left to send, that is
        at once).  Once the server is closing, ``close()``'s ending of the
        clients waits for it instead, for a bounded time: this returns at
        once, or when ``close()`` cancels the wait."""
        pending = unsent(writer)
        writer.close()
        if not pending:
            self._writers.discard(writer)
        elif not self._closing:
            await gone(writer)
            self._writers.discard(writer)

    async def _authenticated(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Any
    ) -> bool:
        """Whether the client sent the token (if one is needed); if not, it is
        told why, in one line, before it is dropped."""
        if self._token is None:
            return True
        try:
            async with asyncio.timeout(self._login_timeout):
                line = await reader.readline()
        except TimeoutError:
            _log.warning("console client %s sent no token within %ss", peer, self._login_timeout)
            say(writer, b"aioexpect console: no token within the login time-out\r\n")
            return False
        except ValueError:  # a line longer than the stream's limit: not the token
            line = b"?"
        except ConnectionError:  # reset: gone
            line = b""
        if hmac.compare_digest(line.rstrip(b"\r\n"), self._token):
            return True
        if not line:
            _log.info("console client %s left without sending a token", peer)
            return False
        _log.warning("console client %s sent a wrong token", peer)
        say(writer, b"aioexpect console: wrong token\r\n")
        return False

    async def _run_console(
        self,
        reader: Any,
        writer: Any,
        raw_mode: RawMode | None,
        name: str,
        size: Callable[[], tuple[int, int] | None] | None = None,
    ) -> int:
        """One client's console; a client's failure never reaches the program."""
        from ._console import Console

        try:
            console = Console(
                reader, writer, shared=self._shared, raw_mode=raw_mode, size=size, filename=name
            )
            return await console.run()
        except Exception as exc:
            _log.debug("console client %s ended: %r", name, exc)
            return 1

    async def _listen_tcp(self, host: str, port: int) -> None:
        starting = asyncio.start_server(self._accept, host, port, limit=Lines.LIMIT)
        await self._listen(starting, f"{host}:{port}")
        sockname = self._listener.sockets[0].getsockname()
        self.host, self._port = sockname[0], sockname[1]

    async def _listen_unix(self, path: str) -> None:
        sock = _bind_unix(path)
        try:
            starting = asyncio.start_unix_server(self._accept, sock=sock, limit=Lines.LIMIT)
            await self._listen(starting, path)
        except BaseException:
            sock.close()
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        self.path = path
        st = os.lstat(path)
        self._socket_id = (st.st_dev, st.st_ino)

    async def _listen(self, starting: Awaitable[Any], where: str) -> None:
        try:
            self._listener = await starting
        except OSError as exc:
            raise ConnectError(
                f"cannot serve the console on {where}: {exc.strerror or exc}"
            ) from exc

    def _unlink_socket(self) -> None:
        if self.path is None or self._socket_id is None:
            return
        with contextlib.suppress(OSError):
            st = os.lstat(self.path)
            if (st.st_dev, st.st_ino) == self._socket_id:
                os.unlink(self.path)

    # -- SSH ---------------------------------------------------------------------------

    async def _listen_ssh(
        self, host: str | None, port: int, host_keys: Any, client_keys: Any
    ) -> None:
        from ._asyncssh import asyncssh

        server = self

        class _Server(asyncssh.SSHServer):
            timer: asyncio.TimerHandle | None = None

            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                self.conn = conn
                if server._closing:
                    conn.close()
                elif len(server._connections) < server._max_clients:
                    server._connections.add(conn)
                else:
                    _log.warning("console refused an SSH client: %s", server._refusal())
                    if len(server._refused) >= TELLING:
                        conn.close()
                        return
                    server._refused.add(conn)  # told after the key exchange (ssh shows it)
                    loop = asyncio.get_running_loop()
                    self.timer = loop.call_later(TELLING_TIME, conn.close)

            def begin_auth(self, username: str) -> bool:
                if self.conn in server._refused:
                    why = f"refused: {server._refusal()}"
                    raise asyncssh.DisconnectError(asyncssh.DISC_TOO_MANY_CONNECTIONS, why)
                return True

            def connection_lost(self, exc: Exception | None) -> None:
                if self.timer is not None:
                    self.timer.cancel()
                server._connections.discard(self.conn)
                server._refused.discard(self.conn)

        host_keys, client_keys = load_ssh_keys(host_keys, client_keys)

        def listen(at: int) -> Any:
            return asyncssh.listen(
                host or "",
                at,
                server_factory=_Server,
                server_host_keys=host_keys,
                authorized_client_keys=client_keys,
                process_factory=self._ssh_accept,
                encoding="utf-8",
                errors="replace",  # a stray Latin-1 byte must not drop the connection
                line_editor=True,
                max_line_length=SSHInput.EDITOR_LIMIT,  # (by default 1024: longer lines ran cut)
                login_timeout=self._login_timeout or 0,
                allow_scp=False,
                agent_forwarding=False,
                x11_forwarding=False,
            )

        # (every interface, or a name of several addresses, is one listener
        # per address: on port 0 each got a port of its own, and .port was 0)
        listening = one_port(listen, lambda acceptor: acceptor.get_addresses(), port)
        await self._listen(listening, f"{host or '*'}:{port}")
        self.ssh = True
        self.host = host
        self._port = self._listener.get_port()

    def _ssh_accept(self, process: Any) -> None:
        if not self._spawn(self._ssh_client(process)):
            process.stderr.write(f"aioexpect console: refused: {self._refusal()}\r\n")
            process.exit(1)

    async def _ssh_client(self, process: Any) -> None:
        status = 1
        try:
            if process.command is not None:
                process.stderr.write("this console runs no commands: connect with a terminal\n")
                return
            if process.subsystem is not None:  # (sftp, netconf...: a program's, not a person's)
                asked = f"this console runs no subsystems ({process.subsystem!r} asked for)"
                process.stderr.write(f"{asked}: connect with a terminal\n")
                return
            stdin = SSHInput(process)
            stdout = SSHOutput(process.stdout, terminal=process.term_type is not None)
            try:
                status = await self._run_console(
                    stdin,
                    stdout,
                    lambda: ssh_raw_mode(process, stdout),
                    f"<console ssh {process.get_extra_info('peername')}>",
                    lambda: _ssh_size(process),
                )
            finally:
                await stdin.close()
        finally:
            with contextlib.suppress(Exception):
                process.exit(status & 0xFF)


# -- starting ------------------------------------------------------------------------


def start_console_server(
    *,
    host: str | None = "127.0.0.1",
    port: int = 0,
    path: str | os.PathLike[str] | None = None,
    locals: Mapping[str, Any] | None = None,
    token: str | None = None,
    ssh_host_keys: Any = None,
    authorized_client_keys: Any = None,
    max_clients: int = 64,
    login_timeout: float | None = 30.0,
) -> Opening[ConsoleServer]:
    """Serve the aioexpect console into this program: ``await`` it for the
    server, or use it with ``async with`` (closed on exit), as the openers.

    Plain TCP on loopback by default; ``path`` serves a UNIX socket created
    with mode 0600; ``authorized_client_keys`` (with ``ssh_host_keys``) serves
    it over SSH with public-key authentication, on any address.  ``token``:
    a TCP or UNIX client must send it as its first line.  ``locals`` are
    shared by every client (read live); ``host=None`` means every interface
    (SSH only).  ``login_timeout=None`` (or ``math.inf``) waits for ever.
    """
    secret = check_options(
        host=host,
        port=port,
        path=path,
        token=token,
        ssh_host_keys=ssh_host_keys,
        authorized_client_keys=authorized_client_keys,
        max_clients=max_clients,
        login_timeout=login_timeout,
    )
    if locals is not None and not isinstance(locals, Mapping):
        raise TypeError(f"locals must be a mapping, not {type(locals).__name__}")
    if check_timeout(login_timeout) == math.inf:  # for ever (10**400 too): no timer
        login_timeout = None

    async def start() -> ConsoleServer:
        server = ConsoleServer(
            shared={} if locals is None else locals,
            token=secret,
            max_clients=max_clients,
            login_timeout=login_timeout,
        )
        await _listen(server, host, port, path, ssh_host_keys, authorized_client_keys)
        return server

    return Opening(start, close_server)


async def _listen(
    server: ConsoleServer,
    host: str | None,
    port: int,
    path: str | os.PathLike[str] | None,
    ssh_host_keys: Any,
    authorized_client_keys: Any,
) -> None:
    if authorized_client_keys is not None:
        await server._listen_ssh(host, port, ssh_host_keys, authorized_client_keys)
    elif path is not None:
        await server._listen_unix(os.fsdecode(path))  # (bytes: shown as a str)
    else:
        await server._listen_tcp(await _loopback(host), port)
    _log.info("console served on %s", server.address)


def _ssh_size(process: Any) -> tuple[int, int] | None:
    """An SSH client's terminal size (rows, columns), as it last told it."""
    if process.term_type is None:
        return None
    cols, rows = process.get_terminal_size()[:2]
    return (rows, cols) if rows > 0 and cols > 0 else None


async def _loopback(host: str | None) -> str:
    """The loopback address to bind for ``host``, or ``ValueError``."""
    resolved = None
    if host and not is_address(host):
        with contextlib.suppress(OSError):
            loop = asyncio.get_running_loop()
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            resolved = [str(info[4][0]) for info in infos]
    return loopback_address(host, resolved)


def _bind_unix(path: str) -> socket.socket:
    """A UNIX socket bound at ``path`` with mode 0600 from the start."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise ConnectError(f"cannot serve the console on {path}: {exc.strerror}") from exc
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise ValueError(f"{path} is a symbolic link: refusing to follow it")
        if not stat.S_ISSOCK(st.st_mode):
            raise ValueError(f"{path} exists and is not a socket: refusing to replace it")
        _remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        sock.bind(path)  # bind never follows a symlink: one created since lstat fails
    except OSError as exc:
        sock.close()
        raise ConnectError(f"cannot serve the console on {path}: {_not_bound(path, exc)}") from exc
    finally:
        os.umask(old_umask)
    return sock


def _not_bound(path: str, exc: OSError) -> str:
    """Why: Python's own refusal of a path too long has no ``strerror``."""
    length = len(os.fsencode(path))
    if length > UNIX_PATH_MAX:
        return f"the path is {length} bytes long, and a UNIX socket's has {UNIX_PATH_MAX} at most"
    return exc.strerror or str(exc)


def _remove_stale_socket(path: str) -> None:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.setblocking(False)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    except OSError:
        pass
    finally:
        probe.close()
    raise ConnectError(f"cannot serve the console on {path}: something is listening there")
