"""The checks of ``start_console_server``'s options that need no event loop,
and the loading of its SSH keys."""

from __future__ import annotations

import os
from typing import Any

from ._options import check_port

__all__ = ["check_options", "load_ssh_keys"]


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
) -> bytes | None:
    """``ValueError`` or ``TypeError`` for options that do not go together or
    are out of range; the token as bytes."""
    _check_limits(port, max_clients, login_timeout)
    secret = _check_token(token)
    ssh = authorized_client_keys is not None
    if ssh_host_keys is not None and not ssh:
        raise ValueError("ssh_host_keys needs authorized_client_keys (SSH serving)")
    if ssh and ssh_host_keys is None:
        raise ValueError("serving over SSH needs ssh_host_keys (the server's own keys)")
    if ssh and (path is not None or secret is not None):
        raise ValueError("SSH serving authenticates with keys: no path= and no token= with it")
    if path is not None and (port != 0 or host != "127.0.0.1"):
        raise ValueError("path= serves a UNIX socket: host= and port= do not apply to it")
    return secret


def _check_limits(port: int, max_clients: int, login_timeout: float | None) -> None:
    check_port(port, lowest=0)
    if isinstance(max_clients, bool) or not isinstance(max_clients, int) or max_clients < 1:
        raise ValueError(f"max_clients must be a positive int, not {max_clients!r}")
    if login_timeout is not None and (
        isinstance(login_timeout, bool)
        or not isinstance(login_timeout, int | float)
        or login_timeout <= 0
    ):
        raise ValueError(f"login_timeout must be a positive number or None, not {login_timeout!r}")


def _check_token(token: str | None) -> bytes | None:
    if token is None:
        return None
    if not isinstance(token, str):
        raise TypeError(f"token must be a str, not {type(token).__name__}")
    if not token or "\n" in token or "\r" in token:
        raise ValueError("token must be a non-empty str without line breaks")
    return token.encode("utf-8")


def load_ssh_keys(host_keys: Any, client_keys: Any) -> tuple[Any, Any]:
    import asyncssh

    try:
        keys = asyncssh.load_keypairs(host_keys)
        if isinstance(client_keys, str | os.PathLike):
            client_keys = asyncssh.read_authorized_keys(os.fspath(client_keys))
        elif isinstance(client_keys, list | tuple):
            if not client_keys:
                raise ValueError("authorized_client_keys is empty: nobody could log in")
            client_keys = asyncssh.import_authorized_keys(
                "".join(_authorized_line(k) for k in client_keys)
            )
    except (OSError, ValueError) as exc:  # asyncssh.KeyImportError is a ValueError
        raise ValueError(f"cannot load the console's SSH keys: {exc}") from None
    if not keys:
        raise ValueError("ssh_host_keys holds no key")
    return keys, client_keys


def _authorized_line(key: Any) -> str:
    if isinstance(key, str):
        return key if key.endswith("\n") else key + "\n"
    export = key.export_public_key("openssh")
    return str(export.decode("ascii"))
