"""The openers: ``spawn``, ``connect_ssh``, ``connect_telnet`` and ``connect``.

Each returns an ``Opener``: awaiting it gives a ``Session``; ``async with``
opens the session and closes it on exit (as ``asyncssh.connect`` does).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shlex
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import IO, Any
from urllib.parse import unquote

from . import _login, _options, _pipes, _pty
from ._decode import ascii_compatible
from ._driver import Driver
from ._exceptions import AuthenticationError, ConnectError, ConnectionLostError, ExpectError
from ._local import LocalTransport
from ._opening import Opening, Progress, check_flag
from ._session import DEFAULT_MAX_BUFFER, DEFAULT_TIMEOUT, Session
from ._transport import Transport
from ._urls import parse_url, redact_url, unquote_credential, unsupported_scheme, url_scheme

__all__ = ["Opener", "connect", "connect_ssh", "connect_telnet", "spawn"]

Logfile = IO[str] | IO[bytes] | str | os.PathLike[str] | None


class Opener(Opening[Session]):
    """An opening session: ``await`` it, or use it with ``async with``."""

    __slots__ = ("_factory",)

    def __init__(self, factory: Callable[[Progress], Awaitable[Session]]) -> None:
        super().__init__(lambda: factory(Progress()), _close_session)
        self._factory = factory

    async def _watched(self, progress: Progress) -> Session:
        """Open, keeping ``progress`` up to date: for ``run_many``, whose
        time-out cancels the opening and then says how far it got."""
        return await self._factory(progress)


async def _close_session(session: Session) -> None:
    await session.close()


async def _start(
    open_transport: Callable[[Progress], Awaitable[Transport]],
    options: dict[str, Any],
    progress: Progress,
    *,
    secrets: Sequence[str] = (),
    login: tuple[str | None, str | None] | None = None,
) -> Session:
    """Open a transport, wrap it in a Session; close it again if that fails.
    Opening and logging in share one deadline: the session's time-out."""
    started = asyncio.get_running_loop().time()
    transport = await open_transport(progress)
    try:
        session = Session(transport, secrets=secrets, **options)
        if isinstance(transport, LocalTransport):  # (a command line may hold a secret)
            transport.hide(session._redactor)
    except BaseException:
        await transport.close(force=True)
        raise
    progress.session = session
    try:
        await _login.after_open(session, login, started, progress)
    except BaseException:
        await session.close(force=True)
        raise
    return session


def _session_options(
    timeout: float | None,
    encoding: str | None,
    codec_errors: str,
    max_buffer: int | None,
    strip_ansi: bool,
    logfile: Logfile,
    driver: str | Driver,
) -> dict[str, Any]:
    """The Session's options, checked now: before anything is started or
    any connection (and login) is made.  The time-out is given as checked
    (an int past a float's range is ``math.inf``): the openers bound the
    connection with it, and ``asyncio.timeout(10**400)`` raises
    ``OverflowError``."""
    seconds = _options.check_session_options(
        timeout, encoding, codec_errors, max_buffer, strip_ansi, logfile, driver
    )
    return {
        "timeout": seconds,
        "encoding": encoding,
        "codec_errors": codec_errors,
        "max_buffer": max_buffer,
        "strip_ansi": strip_ansi,
        "logfile": logfile,
        "driver": driver,
    }


def spawn(
    command: str | os.PathLike[str],
    args: Sequence[str | os.PathLike[str]] = (),
    *,
    pty: bool = True,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    echo: bool = True,
    stderr: int | IO[Any] | None = None,
    dimensions: tuple[int, int] = (24, 80),
    timeout: float | None = DEFAULT_TIMEOUT,
    encoding: str | None = "utf-8",
    codec_errors: str = "replace",
    max_buffer: int | None = DEFAULT_MAX_BUFFER,
    strip_ansi: bool = False,
    logfile: Logfile = None,
    driver: str | Driver = "generic",
) -> Opener:
    """Start ``command`` with ``args`` (strings or paths; never through a shell).

    ``pty=True`` runs it in a pseudo-terminal (``echo=False`` turns the
    terminal's echo off); ``pty=False`` over pipes, stderr merged into
    stdout unless ``stderr`` says otherwise.  A command that cannot be
    started raises ``SpawnError`` naming it (and a script's ``#!``
    interpreter, when that is what cannot run).  Event loops in several threads
    may spawn at once: aioexpect's spawns take turns for the moment of the
    fork, as uvloop starts one process at a time.
    """
    if isinstance(args, str | bytes):
        raise TypeError("args must be a sequence of strings, not a single string")
    if not isinstance(args, Iterable):
        raise TypeError(f"args must be a sequence of strings, not {type(args).__name__}")
    command = _options.path_text("command", command)
    if not command:  # (exec's answer, "Permission denied", names nothing)
        raise ValueError("command must not be empty: the program to run")
    argv = [_argument(i, a) for i, a in enumerate(args)]
    cwd_ = None if cwd is None else _options.path_text("cwd", cwd)
    env_ = None if env is None else _environment(env)
    options = _session_options(
        timeout, encoding, codec_errors, max_buffer, strip_ansi, logfile, driver
    )
    check_dimensions(dimensions)
    check_flag("pty", pty)
    check_flag("echo", echo)
    if pty:
        if stderr is not None:
            raise ValueError("stderr= applies to pty=False only: a pty merges stderr")

        def open_transport(progress: Progress) -> Awaitable[Transport]:
            progress.reached("starting the program")
            return _pty.open_pty(
                command, argv, env=env_, cwd=cwd_, echo=echo, dimensions=dimensions
            )
    else:

        def open_transport(progress: Progress) -> Awaitable[Transport]:
            progress.reached("starting the program")
            return _pipes.open_pipes(command, argv, env=env_, cwd=cwd_, stderr=stderr)

    return Opener(lambda progress: _start(open_transport, options, progress))


def connect_ssh(
    host: str,
    port: int = 22,
    *,
    username: str | None = None,
    password: str | None = None,
    client_keys: Any = (),
    known_hosts: Any = (),
    command: str | None = None,
    term_type: str | None = "xterm",
    dimensions: tuple[int, int] = (24, 80),
    timeout: float | None = DEFAULT_TIMEOUT,
    encoding: str | None = "utf-8",
    codec_errors: str = "replace",
    max_buffer: int | None = DEFAULT_MAX_BUFFER,
    strip_ansi: bool = False,
    logfile: Logfile = None,
    driver: str | Driver = "generic",
    **asyncssh_options: Any,
) -> Opener:
    """Open an interactive shell channel (or ``command``) over SSH.

    Host keys are checked against ``~/.ssh/known_hosts`` by default
    (``known_hosts=()``); a missing file rejects every key and only
    ``known_hosts=None`` turns checking off (with a warning).  Other keyword
    arguments go to ``asyncssh.connect`` (keepalive options, for example).
    """
    _options.check_peer(host, port)
    _options.check_credentials(username, password)
    if username and not username.isascii():  # (an ASCII one always passes)
        from . import _ssh

        _ssh.check_username(username)
    check_key_options(client_keys, known_hosts)
    if term_type is not None:  # (None: no pty)
        check_term_type(term_type, "or None for no pty")
    if command is not None and not isinstance(command, str):
        raise TypeError(f"command must be a str or None, not {type(command).__name__}")
    if asyncssh_options:
        _check_asyncssh_options(asyncssh_options)
    check_dimensions(dimensions)
    options = _session_options(
        timeout, encoding, codec_errors, max_buffer, strip_ansi, logfile, driver
    )

    def open_transport(progress: Progress) -> Awaitable[Transport]:
        from . import _ssh  # asyncssh loads on first use: local programs never need it

        return _ssh.open_ssh(
            host,
            port,
            username=username,
            password=password,
            client_keys=client_keys,
            known_hosts=known_hosts,
            command=command,
            term_type=term_type,
            dimensions=dimensions,
            connect_timeout=options["timeout"],
            progress=progress,
            **asyncssh_options,
        )

    secrets = [password] if password else []
    return Opener(lambda progress: _start(open_transport, options, progress, secrets=secrets))


def connect_telnet(
    host: str,
    port: int = 23,
    *,
    username: str | None = None,
    password: str | None = None,
    term_type: str = "xterm",
    dimensions: tuple[int, int] = (24, 80),
    timeout: float | None = DEFAULT_TIMEOUT,
    encoding: str | None = "utf-8",
    codec_errors: str = "replace",
    max_buffer: int | None = DEFAULT_MAX_BUFFER,
    strip_ansi: bool = False,
    logfile: Logfile = None,
    driver: str | Driver = "generic",
) -> Opener:
    """Open a telnet connection; with ``username`` it performs ``login()``.

    A login that does not reach a prompt (a time-out, the peer closing) is
    a ``ConnectError`` naming host and port, caused by the ``ExpectError``;
    rejected credentials are an ``AuthenticationError`` (so is the peer
    closing after the password, before any prompt).

    Telnet is cleartext: use it on trusted networks and test benches only.
    """
    _options.check_peer(host, port)
    _options.check_credentials(username, password)
    check_term_type(term_type)
    check_dimensions(dimensions)
    options = _session_options(
        timeout, encoding, codec_errors, max_buffer, strip_ansi, logfile, driver
    )
    if encoding is not None and not ascii_compatible(encoding):
        # Telnet's CR, LF, NUL and IAC are bytes in the stream, rewritten
        # both ways (CR LF as CR, CR as CR NUL, NUL dropped): in UTF-16 they
        # are halves of characters, which the rewriting cut apart.
        raise ValueError(
            f"encoding {encoding!r} cannot be used over telnet: it does not write"
            " line ends and letters as ASCII bytes (use an ASCII-compatible one,"
            " such as 'utf-8')"
        )

    def open_transport(progress: Progress) -> Awaitable[Transport]:
        from . import _telnet  # telnetlib3 loads on first use, as asyncssh does

        return _telnet.open_telnet(
            host,
            port,
            term_type=term_type,
            dimensions=dimensions,
            connect_timeout=options["timeout"],
            encoding=encoding,
            secret=password,
            progress=progress,
        )

    login = (username, password) if username is not None or password is not None else None
    if login is not None and encoding is None:
        raise TypeError(
            "a telnet login needs a text session: username= and password= need an encoding"
        )
    secrets = [password] if password else []
    peer = _options.peer_name(host, port, password)

    async def start(progress: Progress) -> Session:
        try:
            return await _start(open_transport, options, progress, secrets=secrets, login=login)
        except AuthenticationError as exc:  # named like the SSH opener's
            message = f"telnet login to {peer} failed: {exc}"
            raise AuthenticationError(message, host=host, port=port) from exc
        except (ExpectError, ConnectionLostError) as exc:
            # The login dialog is part of connecting: a peer that never asks,
            # or leaves, fails the connection.
            message = f"telnet login to {peer} did not reach a prompt: {exc}"
            raise ConnectError(message, host=host, port=port) from exc

    return Opener(start)


_TIMEOUT_HINT = "takes timeout= (it bounds the whole opening), not connect_timeout="
#: ... where there is no connection to time (a spawned program).
_SPAWN_TIMEOUT_HINT = "takes timeout= (for every wait), not connect_timeout="


def _environment(env: Mapping[str, str]) -> dict[str, str]:
    """``spawn``'s ``env``, checked now rather than when the opener is
    awaited (Python's bare "embedded null byte" or "illegal environment
    variable name"), and a mapping (Python's own "'int' object is not
    iterable", when awaited)."""
    if not isinstance(env, Mapping):
        raise TypeError(f"env must be a mapping of str to str, or None, not {type(env).__name__}")
    env_ = dict(env)
    for name, value in env_.items():
        if not isinstance(name, str):  # (never the mapping: it may hold passwords)
            raise TypeError(f"env must map str to str, not {type(name).__name__} names")
        if not isinstance(value, str):
            raise TypeError(f"env must map str to str: env[{name!r}] is {type(value).__name__}")
        if "=" in name:
            raise ValueError(f"env name {name!r} holds '=', which no name can hold")
        _options.passable(f"env name {name!r}", name)
        _options.passable(f"env[{name!r}]", value)
    return env_


def _argument(index: int, arg: object) -> str:
    """One of ``spawn``'s ``args``: a str, or a path.  Anything else was
    turned into its ``str`` (``b'hi'`` reached the program as ``"b'hi'"``);
    a NUL was Python's bare "embedded null byte".  (The value is not shown:
    an argument may be a password.)"""
    if isinstance(arg, os.PathLike):
        arg = os.fspath(arg)
    if not isinstance(arg, str):
        raise TypeError(f"args must be strings or paths, not {type(arg).__name__} (args[{index}])")
    return _options.passable(f"args[{index}]", arg)


def check_key_options(client_keys: Any, known_hosts: Any) -> None:
    """A ``known_hosts`` asyncssh cannot read is a ``TypeError`` now
    (``_ssh_host_keys``), not asyncssh's after connecting; then the files
    (``_options.check_key_files``).  The usual ones load no asyncssh here,
    nor does a broken install fail a ``run_many`` of local programs."""
    usual = known_hosts is None or isinstance(known_hosts, str | os.PathLike | bytes)
    default = isinstance(known_hosts, tuple) and not known_hosts  # (~/.ssh/known_hosts)
    if not (usual or default):
        try:
            from ._ssh_host_keys import check_known_hosts
        except ImportError:  # (an SSH host says so when it is dialled)
            pass
        else:
            check_known_hosts(known_hosts)
    _options.check_key_files(client_keys, known_hosts)


def _check_asyncssh_options(options: Mapping[str, Any]) -> None:
    """A keyword neither ``connect_ssh`` nor ``asyncssh.connect`` takes is a
    ``TypeError`` now, naming ``connect_ssh``, rather than asyncssh's own
    when the opener is awaited; so is a bad value of one of its numbers."""
    from . import _ssh  # the options are asyncssh's: it loads here, not at import

    if "connect_timeout" in options:
        raise TypeError(f"connect_ssh() {_TIMEOUT_HINT}")
    unknown = sorted(set(options) - _ssh.option_names())
    if unknown:
        raise TypeError(
            f"connect_ssh() got unexpected keyword argument(s): {', '.join(unknown)} "
            "(neither aioexpect's nor asyncssh.connect's)"
        )
    _ssh.check_option_values(options)


def connect(url: str, **options: Any) -> Opener:
    """Open ``ssh://[user[:password]@]host[:port]``, ``telnet://...`` or
    ``spawn:COMMAND`` (shell-split, never run by a shell).

    Credentials in the URL are used; ``options`` go to the scheme's opener,
    and one it does not take, or one the URL gives (``port=``: the port is
    the URL's), is a ``TypeError`` naming the scheme.  A URL without a
    scheme (``router1``: ``run_many`` takes it as ``ssh://``), and ``ssh:`` or
    ``telnet:`` without the ``//``, are a ``ValueError`` saying what to write.
    """
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    scheme = url_scheme(url)
    if scheme == "spawn":
        argv = split_command(url[6:])
        if not argv:
            raise ValueError("spawn: URL names no command")
        _check_options("spawn:", options)
        return spawn(argv[0], argv[1:], **options)
    if not scheme:
        raise ValueError(
            f"URL {redact_url(url)!r} names no scheme: write {redact_url('ssh://' + url)!r} "
            "or telnet://... (run_many and aioexpect exec take a target without one as ssh://)"
        )
    if scheme not in ("ssh", "telnet"):
        raise unsupported_scheme(url, scheme)
    parts = parse_url(url)
    host = unquote(parts.hostname or "")  # an IPv6 zone: [fe80::1%25eth0]
    if not host:
        raise ValueError(f"URL has no host: {redact_url(url)}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"{scheme}:// URLs take no path, query or fragment: {redact_url(url)!r} "
            "(options are keyword arguments)"
        )
    for key, value in (("username", parts.username), ("password", parts.password)):
        if value is not None:
            if key in options:
                raise ValueError(f"{key} given both in the URL and as an argument")
            options[key] = unquote_credential(url, value, key.replace("username", "user name"))
    default = 22 if scheme == "ssh" else 23
    port = default if parts.port is None else parts.port
    _check_options(f"{scheme}://", options)
    if scheme == "ssh":
        return connect_ssh(host, port, **options)
    return connect_telnet(host, port, **options)


#: Each scheme's opener, and what its URL gives (an option giving it again
#: is refused), as the URL writes it.
_SCHEMES: dict[str, tuple[Callable[..., Opener], frozenset[str], str]] = {
    "spawn:": (spawn, frozenset({"command", "args"}), "spawn:COMMAND ARGS"),
    "telnet://": (connect_telnet, frozenset({"host", "port"}), "telnet://HOST:PORT"),
    "ssh://": (connect_ssh, frozenset({"host", "port"}), "ssh://HOST:PORT"),
}


def _takes(scheme: str, name: str) -> bool:
    """Whether a ``scheme`` URL takes the option ``name``; ``ssh://`` takes
    ``asyncssh.connect``'s options too."""
    opener, from_url, _ = _SCHEMES[scheme]
    if name in from_url or name == "asyncssh_options":
        return False
    if name in inspect.signature(opener).parameters:
        return True
    if scheme != "ssh://":
        return False
    from . import _ssh  # (asyncssh loads on first use, here for a name no other takes)

    return name in _ssh.option_names()


def _check_options(scheme: str, options: Mapping[str, Any]) -> None:
    """An option the URL gives already, or one the scheme does not take, is a
    ``TypeError`` naming the URL's scheme (the user called ``connect``, not
    the opener), and saying which schemes take it, if any."""
    opener, from_url, form = _SCHEMES[scheme]
    if "connect_timeout" in options:
        hint = _SPAWN_TIMEOUT_HINT if scheme == "spawn:" else _TIMEOUT_HINT
        raise TypeError(f"connect() {hint}")
    again = sorted(set(options) & from_url)
    if again:
        named = ", ".join(f"{name}=" for name in again)
        raise TypeError(f"connect() got {named}, which the {scheme} URL gives ({form})")
    unknown = sorted(name for name in options if not _takes(scheme, name))
    if unknown:
        hints = []
        for name in unknown:
            others = [other for other in _SCHEMES if other != scheme and _takes(other, name)]
            if others:
                hints.append(f"{name}: {' and '.join(others)} only")
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise TypeError(
            f"connect() got keyword argument(s) that {scheme} URLs do not take: "
            f"{', '.join(unknown)}{hint}; see {opener.__name__}()"
        )


def split_command(line: str) -> list[str]:
    """A ``spawn:`` URL's command, split as a shell would (but never run by one)."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise ValueError(f"spawn: command {line!r} does not split as a shell line: {exc}") from None


def check_term_type(term_type: Any, none: str = "") -> None:
    """The terminal type both network openers send: ``TypeError`` unless a
    str (``none``: how ``None`` is taken, where it is), ``ValueError`` if
    blank (asyncssh opened the channel without a pty for ``""``; a telnet
    server is told no type at all) or not printable ASCII (a line end, a
    NUL: no terminal type holds one)."""
    if not isinstance(term_type, str):
        taken = " or None" if none else ""
        raise TypeError(f"term_type must be a str{taken}, not {type(term_type).__name__}")
    if not term_type.strip():
        also = f", {none}" if none else ""
        raise ValueError(f"term_type must not be empty: a terminal type such as 'xterm'{also}")
    if not (term_type.isascii() and term_type.isprintable()):
        raise ValueError(f"term_type must be a printable ASCII str, not {term_type!r}")


def check_dimensions(dimensions: Any) -> None:
    pair = isinstance(dimensions, tuple | list) and len(dimensions) == 2
    if not pair or not _options.valid_size(*dimensions):
        message = f"dimensions must be (rows, cols), ints from 1 to 65535, not {dimensions!r}"
        raise ValueError(message)
