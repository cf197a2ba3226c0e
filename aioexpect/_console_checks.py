"""The checks of ``start_console_server``'s options that need no event loop,
and the loading of its SSH keys: made as it is called, and by ``aioexpect
run`` before the program's own code runs (``check_serving``)."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from ._options import check_host, check_port, path_text

__all__ = [
    "API_TOGETHER",
    "Together",
    "check_options",
    "check_serving",
    "is_address",
    "load_key_files",
    "load_ssh_keys",
    "loopback_address",
]

T = TypeVar("T")

_NOT_LOOPBACK = (
    "plain TCP serves the console on loopback only (anyone who reaches it runs code"
    " in this process): use 127.0.0.1, ::1 or localhost"
)
#: What serves beyond loopback, in the API's words (the command line's name its options).
API_OTHERS = "a UNIX socket (path=), or SSH (authorized_client_keys=)"


class Together(NamedTuple):
    """The refusals of options that do not go together, in the caller's
    words (the API names its parameters, a command line its options)."""

    host_keys_alone: str  # SSH host keys without the authorized client keys
    no_host_keys: str  # the authorized client keys without host keys
    ssh_and_path: str  # SSH with a UNIX socket
    ssh_and_token: str  # SSH with a token


API_TOGETHER = Together(
    "ssh_host_keys needs authorized_client_keys (SSH serving)",
    "serving over SSH needs ssh_host_keys (the server's own keys)",
    *["SSH serving authenticates with keys: no path= and no token= with it"] * 2,
)


def check_options(
    *,
    host: str | None,
    port: int,
    path: str | os.PathLike[str] | None,
    token: str | None,
    ssh_host_keys: Any,
    authorized_client_keys: Any,
    max_clients: int,
    login_timeout: float | None,
    together: Together = API_TOGETHER,
) -> bytes | None:
    """``ValueError`` or ``TypeError`` for options that do not go together
    (saying so in ``together``'s words) or are out of range; the token as
    bytes."""
    _check_limits(port, max_clients, login_timeout)
    secret = _check_token(token)
    if host:  # ("" or None: every interface, SSH only; refused for plain TCP when serving)
        check_host(host)
    elif host is not None and not isinstance(host, str):
        raise TypeError(f"host must be a str or None, not {type(host).__name__}")
    if path is not None and not path_text("path", path):  # (bound, "" was an abstract socket)
        raise ValueError("path must not be empty: the file name of the UNIX socket to serve on")
    ssh = authorized_client_keys is not None
    if ssh_host_keys is not None and not ssh:
        raise ValueError(together.host_keys_alone)
    if ssh and ssh_host_keys is None:
        raise ValueError(together.no_host_keys)
    if ssh and path is not None:
        raise ValueError(together.ssh_and_path)
    if ssh and secret is not None:
        raise ValueError(together.ssh_and_token)
    if path is not None and (port != 0 or host != "127.0.0.1"):
        raise ValueError("path= serves a UNIX socket: host= and port= do not apply to it")
    return secret


def check_serving(
    options: dict[str, Any],
    load_keys: Callable[[Any, Any], tuple[Any, Any]] | None = None,
    others: str = API_OTHERS,
    together: Together = API_TOGETHER,
) -> dict[str, Any]:
    """``start_console_server``'s options (every one named) checked as it
    checks them, with a host name resolved now (blocking: for a command line,
    before it starts anything), and with the SSH keys loaded (read once), by
    ``load_keys`` if given (``load_key_files``: a command line's files).
    ``others``: what serves beyond loopback, named for a refusal of another
    address, and ``together``, the refusals of options that do not go
    together (a command line names its options)."""
    check_options(**options, together=together)
    if options["authorized_client_keys"] is not None:
        host_keys, client_keys = (load_keys or load_ssh_keys)(
            options["ssh_host_keys"], options["authorized_client_keys"]
        )
        return {**options, "ssh_host_keys": host_keys, "authorized_client_keys": client_keys}
    if options["path"] is None:
        host = options["host"]
        resolved = None
        if host and not is_address(host):
            with contextlib.suppress(OSError):
                infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
                resolved = [str(info[4][0]) for info in infos]
        loopback_address(host, resolved, others)
    return options


def is_address(host: str) -> bool:
    """Whether ``host`` is an IP address (not a name to resolve)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def loopback_address(host: str | None, resolved: list[str] | None, others: str = API_OTHERS) -> str:
    """The loopback address to bind for ``host``, given the addresses a name
    ``resolved`` to (``None``: it did not resolve), or ``ValueError`` naming
    ``others``, what serves beyond loopback."""
    if not host:
        raise ValueError(f"host {host!r} means every interface; {_NOT_LOOPBACK}, {others}")
    if is_address(host):
        resolved = [host]
    elif resolved is None:
        raise ValueError(f"host {host!r} does not resolve; {_NOT_LOOPBACK}, {others}")
    addresses = [ipaddress.ip_address(a) for a in resolved]
    if not addresses or not all(a.is_loopback for a in addresses):
        raise ValueError(f"host {host!r} is not a loopback address; {_NOT_LOOPBACK}, {others}")
    return str(addresses[0])


def _check_limits(port: int, max_clients: int, login_timeout: float | None) -> None:
    check_port(port, lowest=0)
    if isinstance(max_clients, bool) or not isinstance(max_clients, int):
        raise TypeError(f"max_clients must be a positive int, not {max_clients!r}")
    if max_clients < 1:
        raise ValueError(f"max_clients must be a positive int, not {max_clients!r}")
    if login_timeout is None:
        return
    message = f"login_timeout must be a positive number of seconds or None, not {login_timeout!r}"
    if isinstance(login_timeout, bool) or not isinstance(login_timeout, int | float):
        raise TypeError(message)
    if not login_timeout > 0:  # (NaN too: every wait for a token would end at once)
        raise ValueError(message)


def _check_token(token: str | None) -> bytes | None:
    if token is None:
        return None
    if not isinstance(token, str):
        raise TypeError(f"token must be a str, not {type(token).__name__}")
    if not token or "\n" in token or "\r" in token:
        raise ValueError("token must be a non-empty str without line breaks")
    return token.encode("utf-8")


def load_ssh_keys(host_keys: Any, client_keys: Any) -> tuple[Any, Any]:
    """The server's keys and the authorized client keys, loaded; one that
    cannot be is a ``ValueError`` naming its parameter."""
    from ._asyncssh import asyncssh

    keys = _loaded("ssh_host_keys", lambda: asyncssh.load_keypairs(host_keys))
    if isinstance(client_keys, str | os.PathLike):
        path = os.fspath(client_keys)
        client_keys = _loaded("authorized_client_keys", lambda: asyncssh.read_authorized_keys(path))
    elif isinstance(client_keys, list | tuple):
        if not client_keys:
            why = "it is empty: nobody could log in"
            raise ValueError(
                f"cannot load the console's SSH keys from authorized_client_keys: {why}"
            )
        lines = client_keys
        client_keys = _loaded(
            "authorized_client_keys",
            lambda: asyncssh.import_authorized_keys("".join(_authorized_line(k) for k in lines)),
        )
    if not keys:
        raise ValueError("ssh_host_keys holds no key")
    return keys, client_keys


def _loaded(name: str, load: Callable[[], T]) -> T:
    try:
        return load()
    except OSError as exc:
        why = _unread(exc)
    except ValueError as exc:  # asyncssh.KeyImportError is a ValueError
        why = str(exc)
    # (raised out of the handler: the OSError, whose file name may be a
    # key's text, is not kept as its __context__ either)
    raise ValueError(f"cannot load the console's SSH keys from {name}: {why}")


def _unread(exc: OSError) -> str:
    """``exc``'s words, naming its file unless that name is a key's own
    text: a str is read as a file's name, and a private key's text given so
    (line breaks, too long for a name) was in the message whole."""
    name = None if exc.filename is None else os.fsdecode(exc.filename)
    if name is None or (name.isprintable() and exc.errno != errno.ENAMETOOLONG):
        return str(exc)
    return f"{exc.strerror} (a str is a file's name, and this one looks like a key's text)"


def load_key_files(
    host_key_files: Sequence[str], authorized_keys_files: Sequence[str]
) -> tuple[Any, Any]:
    """``load_ssh_keys`` for a command line: each file read on its own, one
    that cannot be loaded a ``ValueError`` naming its option and the file,
    as ``--token-file``'s are (the API's message named neither).  The keys
    of every authorized_keys file are allowed, as with OpenSSH's
    ``AuthorizedKeysFile`` of several files."""
    from ._asyncssh import asyncssh

    keys = [
        key
        for path in host_key_files
        for key in _from_file("--ssh-host-key", path, "an SSH private key", asyncssh.load_keypairs)
    ]
    # Each file checked alone: asyncssh's list of files names none in its
    # error, and takes a file of no key after one with keys without a word.
    for path in authorized_keys_files:
        what = "an authorized_keys file"
        _from_file("--authorized-keys", path, what, asyncssh.read_authorized_keys)
    try:
        client_keys = asyncssh.read_authorized_keys(list(authorized_keys_files))
    except (OSError, ValueError) as exc:  # (a file changed since it was checked)
        raise ValueError(f"--authorized-keys: {exc}") from None
    return keys, client_keys


def _from_file(option: str, path: str, what: str, load: Callable[[str], T]) -> T:
    try:
        return load(path)
    except OSError as exc:
        raise ValueError(f"{option} {path!r}: {exc.strerror or exc}") from None
    except ValueError as exc:  # asyncssh.KeyImportError
        raise ValueError(f"{option} {path!r}: cannot load it as {what}: {exc}") from None


def _authorized_line(key: Any) -> str:
    if isinstance(key, str):
        return key if key.endswith("\n") else key + "\n"
    export = key.export_public_key("openssh")
    return str(export.decode("ascii"))
