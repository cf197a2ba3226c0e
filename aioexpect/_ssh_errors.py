"""How the SSH adapter's exceptions while opening become aioexpect's: refused /
DNS / protocol failures ``ConnectError``, an unknown, changed or revoked host
key ``HostKeyError``, rejected credentials or an unusable client key
``AuthenticationError``, a local user name that cannot be found (asyncssh
needs it) ``ConnectError`` saying so, or saying that no file descriptor was
left; the password masked in every message.
``watch``: how far the opening got, for the message of its time-out."""

from __future__ import annotations

import errno
import getpass
import os
from collections.abc import Sequence
from typing import Any

from ._asyncssh import BEGIN_AUTH, asyncssh
from ._descriptors import exhausted, limit_words, shortage
from ._exceptions import AuthenticationError, ConnectError, HostKeyError
from ._opening import Progress
from ._options import peer_name
from ._redact import mask_around

__all__ = ["of_the_connection", "translate", "watch"]


class _Stages(asyncssh.SSHClient):
    """asyncssh's client callbacks, its defaults but for noting how far the
    connection got; ``stage()`` says it in words."""

    def __init__(self) -> None:
        self._conn: asyncssh.SSHClientConnection | None = None
        self._auth = ""  # "begun", then "done"

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        self._conn = conn  # (TCP is up; asyncssh sends its version now)

    def begin_auth(self, username: str) -> None:
        self._auth = "begun"  # (the key exchange is over; asyncssh >= 2.20 only: BEGIN_AUTH)

    def auth_completed(self) -> None:
        self._auth = "done"

    def stage(self) -> str:
        if self._conn is None:
            return "connecting"
        if self._auth:
            return "in authentication" if self._auth == "begun" else "opening the session channel"
        # (no callback for these two: the version is known once received)
        if self._conn.get_extra_info("server_version") is None:
            return "waiting for the server's SSH version"
        if BEGIN_AUTH:
            return "in key exchange"
        # asyncssh before 2.20 never calls begin_auth(): there the key exchange
        # is over once the server's NEWKEYS was taken, which puts its receive
        # cipher in place (a private attribute of those versions, looked at
        # with care; "send_cipher" is set with our own NEWKEYS, before it).
        done = getattr(self._conn, "_recv_encryption", None) is not None
        return "in authentication" if done else "in key exchange"


def watch(options: dict[str, Any], progress: Progress | None) -> Progress:
    """Have asyncssh's client callbacks keep ``progress`` (or a new one,
    returned) for the connection that ``options`` (``asyncssh.connect``'s)
    make; not if the caller gave a client of its own (``client_factory``,
    or one in ``options=``), whose callbacks are its own: there the stage
    is not known."""
    progress = Progress() if progress is None else progress
    given = options.get("client_factory") or getattr(options.get("options"), "client_factory", None)
    if given not in (None, asyncssh.SSHClient):
        progress.reached("")
        return progress
    stages = _Stages()
    options["client_factory"] = lambda: stages  # (one connection: asyncssh calls it once)
    progress.reached(stages.stage)
    return progress


def translate(
    exc: BaseException,
    host: str,
    port: int,
    password: str | None,
    known: bool = False,
    shown: Sequence[str | None] = (),
) -> ConnectError:
    """The aioexpect error for an exception raised while opening (``known``:
    known_hosts has a key for the host; ``shown``: the user name, key paths
    and the like, never masked inside)."""
    text = mask_around(str(exc) or type(exc).__name__, password, [host, str(port), *shown])
    peer = peer_name(host, port, password)
    reason = str(exc).partition(" for host ")[0]  # asyncssh's "Host key is revoked for host h"
    if isinstance(exc, asyncssh.HostKeyNotVerifiable) and reason.endswith(" is revoked"):
        return HostKeyError(
            f"SSH host key of {peer} is REVOKED: known_hosts marks it (or its CA, or its"
            f" certificate's subject) @revoked ({text}); nothing was sent.  A revoked key"
            " was judged compromised: do not add it back unless whoever revoked it says so",
            host=host,
            port=port,
        )
    if isinstance(exc, asyncssh.HostKeyNotVerifiable) and known:
        return HostKeyError(
            f"SSH host key of {peer} has CHANGED: it is not the one known_hosts holds for it"
            f" ({text}); nothing was sent.  Someone may be impersonating the server.  If"
            " its key was really replaced, check the new one out of band, then replace"
            f" the old line (`ssh-keygen -R '[{host}]:{port}'`, or `ssh-keygen -R {host}`"
            " for port 22)",
            host=host,
            port=port,
        )
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return HostKeyError(
            f"SSH host key of {peer} is not trusted ({text}); nothing was sent. "
            f"If the key is right, add it to known_hosts (e.g. `ssh-keyscan -p {port} {host}`)",
            host=host,
            port=port,
        )
    if isinstance(exc, asyncssh.PermissionDenied):
        return AuthenticationError(
            f"SSH authentication to {peer} failed: {text}", host=host, port=port
        )
    if isinstance(exc, asyncssh.KeyImportError | asyncssh.KeyEncryptionError):
        return AuthenticationError(
            f"SSH client key for {peer} could not be used: {text}", host=host, port=port
        )
    if isinstance(exc, asyncssh.ConnectionLost | ConnectionResetError):
        text += (
            ": the server hung up before the session was open (is it an SSH server?"
            "  OpenSSH hangs up past MaxStartups, by default beyond 10 connections still"
            " authenticating: with many sessions to one server, open fewer at once)"
        )
    if exhausted(exc):  # (not the user name's fault, though its lookup failed too)
        text += f" ({limit_words()})"
    elif _user_lookup(exc):  # (its own error only: an unrelated one is not blamed on it)
        text += _no_local_user()
        missing = _lost_errno(exc)
        if missing is not None and exc.__cause__ is None:  # (for run_many to see)
            exc.__cause__ = missing
    return ConnectError(f"SSH connection to {peer} failed: {text}", host=host, port=port)


def of_the_connection(exc: ValueError) -> bool:
    """Whether a ``ValueError`` from ``asyncssh.connect`` is the connection's
    (a client key that cannot be read, a name that does not encode, an ssh
    config and a User there that SSH cannot send, no local user name),
    not a bad value of an asyncssh option, which is the caller's."""
    connection = (
        asyncssh.KeyImportError,
        asyncssh.KeyEncryptionError,
        UnicodeError,
        asyncssh.config.ConfigParseError,
        asyncssh.saslprep.SASLPrepError,
    )
    return isinstance(exc, connection) or _user_lookup(exc)


def _user_lookup(exc: BaseException) -> bool:
    """Whether ``exc`` is asyncssh's failure to look up the local user's
    name (a ``ValueError``; getpass's own ``OSError`` from Python 3.13),
    which carries no ``errno``: an error that has one is another's."""
    if not isinstance(exc, ValueError | OSError) or getattr(exc, "errno", None) is not None:
        return False
    return str(exc).startswith(("Unknown local username", "No username set"))


def _lost_errno(exc: BaseException) -> OSError | None:
    """For a failure that the want of a descriptor explains, whose ``errno``
    was lost (asyncssh's user name lookup, and only that: another error,
    with an errno of its own or none, is not taken for EMFILE because
    descriptors happen to run short as it is translated), the error it
    met: the one that opening a descriptor gives now, or, for a lookup
    that failed then and works now (asyncssh's thread found none left;
    some were freed since), presumably that."""
    if not _user_lookup(exc):
        return None
    missing = shortage()
    if missing is None and _user_known():
        missing = OSError(errno.EMFILE, f"{os.strerror(errno.EMFILE)} (presumably)")
    return missing


def _user_known() -> bool:
    """Whether the local user's name can be found (as asyncssh looks it up)."""
    try:
        getpass.getuser()
    except (KeyError, OSError):
        return False
    return True


def _no_local_user() -> str:
    """What to add when the local user has no name to be found: asyncssh
    looks it up (``getpass.getuser()``) for every connection, ``username=``
    given or not, and fails for a uid that the user database does not name
    (a container run as ``--user 12345``, without ``$USER``), or when that
    database cannot be read (no descriptor left to open /etc/passwd: now,
    or, asyncssh looking it up in a thread of its own, only then)."""
    if _user_known():
        return (  # (it failed then, and works now)
            " (asyncssh looks up the local user's name for every connection, and could not"
            " read the user database then, though it can now: was no file descriptor"
            f" left? {limit_words()}; with LOGNAME or USER set it is not looked up)"
        )
    if shortage() is not None:
        return (
            " (asyncssh looks up the local user's name, and no file descriptor was left"
            f" to read the user database with: {limit_words()})"
        )
    return (
        f" (this is the local user's name, which asyncssh needs even when a username"
        f" is given: uid {os.getuid()} has none in the environment, and the user"
        " database names none for it or could not be read; set LOGNAME or USER)"
    )
