"""SSH adapter: one asyncssh connection carrying one session channel, as a Transport.

Every asyncssh and OS exception is translated here, once (while opening,
by ``_ssh_errors``): refused / DNS / timeout / protocol failures give
``ConnectError``, an unknown or changed host key ``HostKeyError`` (raised
during key exchange, so before any credential is sent; the keys trusted
come from ``_ssh_host_keys``), rejected
credentials ``AuthenticationError``; afterwards a vanished peer gives
``ConnectionLostError``.  Received bytes wait in an ``Inbox`` of up to
``HIGH_WATER`` bytes, or go straight to the session once it asked for push
delivery; when either is full, asyncssh holds what arrives and stops
widening the SSH window, which pushes back on the server.  Invariant:
asyncssh is paused only with nothing of its own left undelivered (see
``_Channel.resume``), so what it holds stays within one SSH window.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import inspect
import logging
import math
import os
import signal
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from ._asyncssh import asyncssh
from ._exceptions import ClosedError, ConnectError, ConnectionLostError
from ._inbox import Inbox, OnData, OnEnd, Pusher
from ._opening import Progress
from ._options import peer_name
from ._ssh_errors import of_the_connection, translate, watch
from ._ssh_host_keys import host_key_algs, resolve_known_hosts, trusted_keys
from ._ssh_pty import check_request_pty_of, pty_wanted
from ._transport import DEFAULT_READ_SIZE, Transport

__all__ = ["HIGH_WATER", "SSHTransport", "open_ssh"]

_log = logging.getLogger("aioexpect")

#: Unread bytes above which the channel stops reading from the server (it
#: reads again below half of that).
HIGH_WATER = 1 << 20
#: Seconds ``close()`` lets the server acknowledge before aborting.
CLOSE_GRACE = 1.0


class _Channel(asyncssh.SSHClientSession[bytes]):
    """asyncssh's callbacks, turned into an ``Inbox`` (or a ``Pusher`` once
    data is pushed) and a few flags.  Pausing asks asyncssh to hold what
    arrives; it stops widening the SSH window, which pushes back on the
    server."""

    def __init__(self, peer: str) -> None:
        self.chan: asyncssh.SSHClientChannel[bytes] | None = None
        self.inbox = Inbox(f"SSH {peer}", self.pause, self.resume, HIGH_WATER)
        self.pusher: Pusher | None = None
        self.peer = peer
        self.eof = False
        self.error: BaseException | None = None
        self.dropped: BaseException | None = None  # what ended the channel (None: its close)
        self.exit_status: int | None = None
        self.exit_signal: str | None = None
        self.writable = asyncio.Event()
        self.writable.set()
        self.unsent = False  # the channel ended with data of ours not sent
        self.gone = asyncio.Event()
        self.paused = False  # the inbox or the receiver wants no more for now
        self.flushing = False  # asyncssh delivers what it held (in ``resume``)
        #: Push delivery: what such a delivery brought after the receiver
        #: asked for no more, in order; ``ending``: the end waits behind it.
        self.overflow: collections.deque[bytes] = collections.deque()
        self.ending = False

    def connection_made(self, chan: asyncssh.SSHClientChannel[bytes]) -> None:
        self.chan = chan

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        # stdout and stderr (extended data) interleave in arrival order.
        if self.pusher is None:
            self.inbox.feed(data)
        elif self.overflow or (self.paused and self.pusher.ready):
            self.overflow.append(data)  # (only while flushing: see resume)
        else:
            self.pusher.data(data)

    def eof_received(self) -> bool:
        self._end(None)
        return True  # stay half-open: we may still send

    def connection_lost(self, exc: Exception | None) -> None:
        self.dropped = exc
        self._salvage()
        self._end(exc)
        # Writing was paused: asyncssh held more than its high-water mark
        # unsent, and dropped it with the channel.  The writes waiting are told.
        self.unsent = not self.writable.is_set()
        self.writable.set()
        self.gone.set()

    def _salvage(self) -> None:
        """Deliver what asyncssh still held when the connection went (it
        was paused: up to a window).  That data came before the loss, but a
        lost channel cannot be resumed, and asyncssh drops it.  Its private
        ``_recv_buf`` (a list of ``(data, datatype)``) is read with care."""
        held = getattr(self.chan, "_recv_buf", None)
        if not isinstance(held, list):
            return
        items, held[:] = list(held), []
        for item in items:
            data = item[0] if isinstance(item, tuple) and item else None
            if isinstance(data, bytes) and data:
                self.data_received(data, None)

    def _end(self, exc: BaseException | None) -> None:
        """End of data, reported once: asyncssh calls ``eof_received`` only
        after all data, and ``connection_lost`` after that or instead."""
        if self.eof:
            return
        self.eof = True
        self.error = exc
        if self.pusher is None:
            self.inbox.feed_eof(exc)
        elif self.overflow:
            self.ending = True  # (resume() reports it after the overflow)
        else:
            self.pusher.end(exc)

    def exit_status_received(self, status: int) -> None:
        self.exit_status = status

    def exit_signal_received(self, signal: str, core_dumped: bool, msg: str, lang: str) -> None:
        self.exit_signal = signal

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def _live(self) -> asyncssh.SSHClientChannel[bytes] | None:
        """asyncssh's channel while it may be paused and resumed: once lost,
        resuming it fails inside asyncssh (an AssertionError flushing what
        it held), and what it held is gone with it."""
        return None if self.gone.is_set() else self.chan

    def pause(self) -> None:
        self.paused = True
        if (chan := self._live()) is not None and not self.flushing:
            chan.pause_reading()

    def resume(self) -> None:
        """Deliver what waits, at once (re-entrantly): the overflow first,
        then what asyncssh held, all of it.

        asyncssh widens the SSH window back to full as it delivers, however
        much it still holds: paused again part-way, it held that and a new
        window's worth, one window more per pause, without bound.  So a
        pause asked for during its delivery waits until it is over, and
        what comes after the request goes to the inbox (pulled) or the
        overflow (pushed): one window at most.
        """
        self.paused = False
        if self.flushing:
            return
        while self.overflow and not self.paused:
            assert self.pusher is not None  # (the overflow fills only when pushing)
            self.pusher.data(self.overflow.popleft())
        if self.overflow:
            return  # (paused again: asyncssh stays paused, what it holds waits)
        if self.ending and self.pusher is not None:
            self.ending = False
            self.pusher.end(self.error)
        if (chan := self._live()) is None:
            return
        self.flushing = True
        try:
            chan.resume_reading()
        finally:
            self.flushing = False
        if self.paused and self._live() is not None:
            chan.pause_reading()

    def lost(self, error: BaseException) -> ConnectionLostError:
        return _lost(self.peer, error)


class SSHTransport(Transport):
    """A session channel (shell or command) over its own SSH connection."""

    kind = "ssh"
    linesep = "\n"
    has_exit_status = True

    def __init__(
        self,
        conn: asyncssh.SSHClientConnection,
        chan: asyncssh.SSHClientChannel[bytes],
        channel: _Channel,
        *,
        peer: str,
        command: str | None,
        pty: bool,
        columns: int | None = None,
    ) -> None:
        self._conn = conn
        self._chan = chan
        self._channel = channel
        self._peer = peer
        self._command = command
        self._pty = pty
        self._columns = columns if pty else None  # (the last width asked for)
        self._closed = False
        self._closing: asyncio.Future[None] | None = None
        self._eof_sent = False

    async def read(self, max_bytes: int = DEFAULT_READ_SIZE) -> bytes:
        self._check_open()
        if self._channel.pusher is not None:
            raise RuntimeError("read() after start_receiving(): data is pushed")
        return await self._channel.inbox.read(max_bytes)

    def start_receiving(self, on_data: OnData, on_end: OnEnd) -> bool:
        """Push delivery: data goes to ``on_data`` as asyncssh delivers it,
        without a read (and a task switch) per chunk."""
        channel = self._channel
        if self._closed or channel.pusher is not None:
            return False
        channel.pusher = Pusher(channel.inbox, on_data, on_end, channel.pause, channel.lost)
        return True

    def resume_receiving(self) -> None:
        # On the next loop iteration: asyncssh delivers what it held at once,
        # which must not happen inside the receiver's own call.
        # Only if paused: the reader calls this after every match.
        channel = self._channel
        if channel.pusher is not None and channel.paused and not self._closed:
            asyncio.get_running_loop().call_soon(channel.resume)

    async def write(self, data: bytes) -> None:
        self._check_open()
        if self._eof_sent:
            raise ClosedError("write after write_eof() on the SSH channel")
        channel = self._channel
        if channel.gone.is_set():
            raise _lost(self._peer, channel.error)
        try:
            self._chan.write(data)
        except (OSError, asyncssh.Error) as exc:
            raise _lost(self._peer, exc) from exc
        if not channel.writable.is_set():
            await channel.writable.wait()
        self._check_open()
        if channel.error is not None:
            raise _lost(self._peer, channel.error)
        if channel.unsent:  # (the command ended without reading it all, say)
            raise ConnectionLostError(
                f"the SSH channel to {self._peer} closed with data not sent yet"
            )

    async def write_eof(self) -> None:
        """End of input: Ctrl-D on a pty, SSH channel EOF without one.

        A pty session gets the terminal's EOF character because OpenSSH
        ignores channel EOF there (the program would never see it); like a
        local pty, it may be repeated and the channel stays writable.
        Without a pty, channel EOF closes the command's stdin; writing after
        it raises ``ClosedError``, and a second call does nothing.  A
        command that ended (its channel closed, or closing) has its end of
        input: it returns.  A connection dropped raises
        ``ConnectionLostError``, as ``write()`` does; so does Ctrl-D, a key,
        on a pty whose channel has ended.
        """
        if self._pty:
            await self.write(b"\x04")
            return
        self._check_open()
        if self._eof_sent:
            return
        channel = self._channel
        if channel.dropped is not None:  # (the connection's loss: no end of the command's)
            raise _lost(self._peer, channel.dropped)
        if not channel.gone.is_set() and not self._chan.is_closing():
            try:
                self._chan.write_eof()
            except (OSError, asyncssh.Error) as exc:
                raise _lost(self._peer, exc) from exc
        self._eof_sent = True

    async def send_interrupt(self) -> None:
        """Ctrl-C on a pty; without one, an SSH ``signal`` request for SIGINT."""
        if self._pty:
            await self.write(b"\x03")
            return
        self._check_open()
        if self._channel.gone.is_set():  # (as a piped child that exited: nothing to interrupt)
            raise _lost(self._peer, self._channel.error)
        with contextlib.suppress(OSError, asyncssh.Error):
            self._chan.send_signal("INT")

    def set_winsize(self, rows: int, cols: int) -> None:
        self._check_open()
        if not self._pty:
            raise TypeError("set_winsize needs a terminal: this SSH channel has no pty")
        self._columns = cols
        with contextlib.suppress(OSError, asyncssh.Error):
            self._chan.change_terminal_size(cols, rows)

    async def close(self, *, force: bool = False) -> None:
        """Close the channel and the connection, waiting up to
        ``CLOSE_GRACE`` seconds for its end, then abort.  A later call waits
        for the first (``force=True`` aborts at once); a close cancelled on
        the way aborts."""
        if self._closing is not None:
            if force:
                self._conn.abort()
            await asyncio.shield(self._closing)
            return
        self._closing = asyncio.get_running_loop().create_future()
        self._release()
        try:
            if force:
                self._conn.abort()
            else:
                self._chan.close()
                self._conn.close()
            async with asyncio.timeout(CLOSE_GRACE):
                await self._conn.wait_closed()
        except TimeoutError:
            self._conn.abort()
            await self._conn.wait_closed()
        except asyncio.CancelledError:
            self._conn.abort()
            raise
        finally:
            self._closing.set_result(None)

    def abort(self) -> None:
        self._release()
        self._conn.abort()

    def _release(self) -> None:
        """Closed: a pending read raises ``ClosedError``, a pending write
        returns, and nothing more is pushed."""
        self._closed = True
        channel = self._channel
        channel.inbox.close()
        channel.overflow.clear()
        channel.writable.set()
        if channel.pusher is not None:
            channel.pusher.cancel()

    @property
    def closed(self) -> bool:
        return self._closed

    async def wait(self) -> int | None:
        await self._channel.gone.wait()
        return self.exit_status

    @property
    def exit_status(self) -> int | None:
        return self._channel.exit_status

    @property
    def signal_status(self) -> int | None:
        name = self._channel.exit_signal
        if name is None:
            return None
        try:
            return int(signal.Signals["SIG" + name.removeprefix("SIG")])
        except KeyError:
            return None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peer":
            return self._peer
        if name == "command":
            return self._command
        if name == "pty":  # whether the channel has a terminal
            return self._pty
        if name == "columns":
            return default if self._columns is None else self._columns
        if name == "server_version":
            return self._conn.get_extra_info("server_version", default)
        return default

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"SSH session to {self._peer} is closed")


def _lost(peer: str, exc: BaseException | None) -> ConnectionLostError:
    error = ConnectionLostError(f"SSH connection to {peer} lost: {exc or 'closed'}")
    error.__cause__ = exc
    return error


@functools.cache
def option_names() -> frozenset[str]:
    """The options ``asyncssh.connect`` takes (``connect_ssh`` passes them
    on): its own keywords (``sock``, ``options``...) and its connection
    options.  ``connect_timeout`` is left out: ``timeout`` bounds the
    whole opening."""
    prepare = asyncssh.SSHClientConnectionOptions.prepare
    names = set(inspect.signature(prepare).parameters) - {"self", "last_config"}
    connect = inspect.signature(asyncssh.connect).parameters.values()
    names |= {p.name for p in connect if p.kind is p.KEYWORD_ONLY}
    return frozenset(names - {"connect_timeout"})


#: ``asyncssh.connect``'s options that are a time in seconds: a number or a
#: str such as ``"5m30s"`` (``None``: none, as asyncssh takes it).
_INTERVALS = ("keepalive_interval", "login_timeout", "rekey_seconds")
#: ... and those that are a whole number: the lowest and highest each takes
#: (a window or packet size is sent as 32 bits, when the channel opens).
_WHOLE = {
    "keepalive_count_max": (1, None),
    "canonicalize_max_dots": (0, None),
    "window": (1, 2**32 - 1),
    "max_pktsize": (1, 2**32 - 1),
    "family": (None, None),
    "flags": (None, None),
}
#: ... of which those whose default is ``()``, asyncssh's "as the SSH config
#: file says" (a caller forwarding asyncssh's defaults passes it).
_FROM_CONFIG = frozenset(
    {
        "keepalive_interval",
        "keepalive_count_max",
        "rekey_bytes",
        "rekey_seconds",
        "canonicalize_max_dots",
        "family",
    }
)


def check_option_values(options: Mapping[str, Any]) -> None:
    """A bad value of one of ``asyncssh.connect``'s options that are
    numbers, or of ``request_pty`` (also an ``options=`` object's): a
    ``TypeError`` or ``ValueError`` naming it now, before anything is
    dialled.  asyncssh's own came when the opener was awaited, and some
    named nothing (``keepalive_interval="x"``: "could not convert string to
    float: ''"); a window of ``"x"`` failed only after the login."""
    # (as asyncssh tells ``()`` apart)
    options = {k: v for k, v in options.items() if not (k in _FROM_CONFIG and v == ())}
    check_request_pty_of(options)
    for name in _INTERVALS:
        if options.get(name) is not None:
            _number(name, options[name], asyncssh.misc.parse_time_interval, "seconds")
    if "rekey_bytes" in options:  # (0 is refused: it would rekey for ever)
        _number("rekey_bytes", options["rekey_bytes"], asyncssh.misc.parse_byte_count, "bytes")
    for name, (lowest, highest) in _WHOLE.items():
        if name not in options:
            continue
        value = options[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        below = lowest is not None and value < lowest
        if below or (highest is not None and value > highest):
            upto = f"to {highest}" if highest is not None else "up"
            raise ValueError(f"{name} must be an int from {lowest} {upto}, not {value}")


def _number(name: str, value: Any, parse: Any, unit: str) -> None:
    """``value``: a number of ``unit`` (bytes: above 0, seconds: 0 or more),
    or a str that ``parse`` (asyncssh's) reads as one."""
    example = "'1g'" if unit == "bytes" else "'30s'"
    if isinstance(value, str):
        try:
            number = float(parse(value))
        except ValueError:
            number = math.nan
    elif isinstance(value, bool) or not isinstance(value, int | float):
        shown = type(value).__name__
        raise TypeError(
            f"{name} must be a number of {unit} or a str such as {example}, not {shown}"
        )
    else:
        number = value
    lowest = "above 0" if unit == "bytes" else "from 0 up"
    if not (number > 0 if unit == "bytes" else number >= 0):  # (NaN: a str that does not read)
        raise ValueError(
            f"{name} must be a number of {unit} {lowest} or a str such as {example}, not {value!r}"
        )


def _connect_options(
    username: str | None,
    password: str | None,
    client_keys: Any,
    known_hosts: Any,
    asyncssh_options: dict[str, Any],
) -> dict[str, Any]:
    options: dict[str, Any] = dict(asyncssh_options)
    options["known_hosts"] = known_hosts
    if username is not None:
        options["username"] = username
    if password is not None:
        options["password"] = password
    if not (isinstance(client_keys, tuple) and not client_keys):
        options["client_keys"] = client_keys
    return options


def check_username(username: str) -> None:
    """``ValueError`` for a user name that SSH cannot send: asyncssh prepares
    it as SASLprep (RFC 4013) says, and refused one (a private-use
    character, right-to-left letters mixed with others) from inside
    ``asyncssh.connect``, with its own exception."""
    try:
        asyncssh.saslprep.saslprep(username)
    except asyncssh.saslprep.SASLPrepError as exc:
        raise ValueError(
            f"username {username!r} cannot be sent over SSH: {exc} (SASLprep, RFC 4013)"
        ) from None


async def open_ssh(
    host: str,
    port: int,
    *,
    username: str | None,
    password: str | None,
    client_keys: Any,
    known_hosts: Any,
    command: str | None,
    term_type: str | None,
    dimensions: tuple[int, int],
    connect_timeout: float | None,
    progress: Progress | None = None,
    **asyncssh_options: Any,
) -> Transport:
    """Connect, authenticate and open a shell (or ``command``) channel.

    ``term_type`` and ``request_pty`` say whether it has a pty (``_ssh_pty``).
    The arguments are checked by ``connect_ssh``.  The whole of it — DNS,
    TCP, key exchange, authentication, channel — must finish within
    ``connect_timeout`` seconds (``None``: no limit); ``progress`` (or one
    of its own) keeps which of these it is in, which its time-out's message
    names.
    """
    peer = peer_name(host, port, password)
    trusted = resolve_known_hosts(known_hosts, host, port, peer)
    options = _connect_options(username, password, client_keys, trusted, asyncssh_options)
    keys, ca_keys = trusted_keys(trusted, host, port)
    if algs := host_key_algs(keys, ca_keys, options):
        options["server_host_key_algs"] = algs
    rows, cols = dimensions
    channel = _Channel(peer)
    progress = watch(options, progress)
    try:
        async with asyncio.timeout(connect_timeout):
            conn = await asyncssh.connect(host, port, **options)
            progress.reached("opening the session channel")
            try:
                pty = pty_wanted(conn, asyncssh_options, term_type, command)
                chan, _ = await conn.create_session(
                    lambda: channel,
                    command,
                    request_pty="force" if pty else False,  # (as decided: no second opinion)
                    term_type=term_type,
                    term_size=(cols, rows),
                    encoding=None,
                )
            except BaseException:
                conn.abort()
                await conn.wait_closed()
                raise
    except TimeoutError as exc:
        raise ConnectError(
            f"SSH connection to {peer} {progress.timed_out()} after {connect_timeout:g} s",
            host=host,
            port=port,
        ) from exc
    except (asyncssh.Error, ValueError, OSError) as exc:
        if isinstance(exc, ValueError) and not of_the_connection(exc):
            raise  # a bad value of an asyncssh option: the caller's, a plain ValueError
        shown = [username, *_paths(client_keys), *_paths(known_hosts)]
        error = translate(exc, host, port, password, bool(keys or ca_keys), shown)
        if password and password in str(exc):  # the server said it: not in a traceback
            raise error from None
        raise error from exc
    return SSHTransport(conn, chan, channel, peer=peer, command=command, pty=pty, columns=cols)


def _paths(option: Any) -> list[str]:
    """The file names in a ``client_keys``/``known_hosts`` option."""
    items = option if isinstance(option, list | tuple) else [option]
    return [os.fspath(p) for p in items if isinstance(p, str | PurePath)]
