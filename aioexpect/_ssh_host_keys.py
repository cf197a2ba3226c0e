"""Which SSH host keys the adapter trusts, and what it offers for them.

``known_hosts`` resolved (the default file, none with a warning, nothing),
a file parsed here so that a line asyncssh cannot read is a ``HostKeyError``
naming it (and parsed again only once its text changes), an ``@revoked
[host]:port`` line honoured for its port, and the
trusted keys' algorithms offered first, so that a server re-keyed with
another type is seen as a *changed* key.  Apart from the transport
(``_ssh``): all of it is decided before the connection is made.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath
from typing import Any

from ._asyncssh import asyncssh
from ._asyncssh import public_key as pk
from ._exceptions import ConnectError, HostKeyError

__all__ = ["check_known_hosts", "host_key_algs", "resolve_known_hosts", "trusted_keys"]

_log = logging.getLogger("aioexpect")

#: Options by which the caller (or an ``SSHClientConnectionOptions``) chooses
#: the host key algorithms, or the name known_hosts is searched for.
_CHOOSERS = ("server_host_key_algs", "host_key_alias", "options")


def resolve_known_hosts(known_hosts: Any, host: str, port: int, peer: str) -> Any:
    """``()`` -> ``~/.ssh/known_hosts`` (missing file: trust nothing); ``None``
    -> no checking, with a warning; an empty list or string -> trust nothing;
    a list of paths -> their names; anything else goes to asyncssh as is
    (``check_known_hosts`` has seen it is a form it reads)."""
    if known_hosts is None:
        _log.warning(
            "SSH host key checking is OFF for %s (known_hosts=None): "
            "anyone who can intercept the connection can impersonate the server",
            peer,
        )
        return None
    if isinstance(known_hosts, tuple) and not known_hosts:
        path = Path("~", ".ssh", "known_hosts").expanduser()
        if path.is_file():
            return _read_known_hosts(str(path), host, port, peer)
        known_hosts = []
    if isinstance(known_hosts, str | os.PathLike) and known_hosts:
        return _read_known_hosts(os.fspath(known_hosts), host, port, peer)
    if isinstance(known_hosts, list) and known_hosts and all(map(_is_path, known_hosts)):
        # file names: asyncssh reads a list as that only if its first is a str
        # (pathlib ones were taken for key lists: an IndexError after connecting)
        return [os.fspath(path) for path in known_hosts]
    if not known_hosts:
        # Trust nothing.  asyncssh reads any falsy value as "use the default
        # file", so hand it an empty (truthy) object instead.
        return asyncssh.import_known_hosts("")
    return known_hosts


def _is_path(value: Any) -> bool:
    return isinstance(value, str | os.PathLike)


#: The (trusted) lists, as asyncssh reads them: each one's name, what it
#: may hold and what that is called, and what it may be instead of a list (a
#: file of keys, one certificate).  Another iterable is asyncssh's to judge.
_PATHS = (str, os.PathLike)
_CERTS = (*_PATHS, bytes, asyncssh.SSHCertificate)
_KEY = (*_PATHS, bytes, asyncssh.SSHKey), "a key is an asyncssh key, key data (bytes) or a file"
_CERT = (*_CERTS, list, tuple), "a certificate is an asyncssh one, its data (bytes) or a file"
_SUBJECT = (str,), "a subject is a str", (str,)
_LISTS = (
    ("the host keys", *_KEY, _PATHS),
    ("the CA keys", *_KEY, _PATHS),
    ("the revoked keys", *_KEY, _PATHS),
    ("the X.509 certificates", *_CERT, _CERTS),
    ("the revoked X.509 certificates", *_CERT, _CERTS),
    ("the X.509 subjects", *_SUBJECT),
    ("the revoked X.509 subjects", *_SUBJECT),
)
_AS = "trusted key lists"  # (what asyncssh reads a tuple as)
_FORMS = (
    "None (no checking), a file name or a list of them, known hosts data (bytes), an "
    "asyncssh SSHKnownHosts, a function of (host, address, port), or a tuple of "
    "(host keys, CA keys, revoked keys) lists"
)


def check_known_hosts(value: Any) -> None:
    """A ``known_hosts`` that asyncssh cannot read: a ``TypeError`` (a tuple
    of lists of another length: ``ValueError``) naming it, from the call.
    asyncssh's own came after connecting, and named nothing (``12``: "'int'
    object is not subscriptable").  What a function returns, and iterables
    other than lists and tuples, are asyncssh's to judge (not consumed here)."""
    if value is None or callable(value) or isinstance(value, (*_PATHS, bytes)):
        return
    if isinstance(value, asyncssh.SSHKnownHosts):
        return
    if not isinstance(value, list | tuple):
        raise TypeError(f"known_hosts must be {_FORMS}, not {type(value).__name__}")
    if not value:  # (an empty list: trust nothing; (): the default file)
        return
    if isinstance(value, list) and (isinstance(value[0], str) or all(map(_is_path, value))):
        # file names (asyncssh's: a list whose first is a str; pathlib ones too)
        for item in value:
            if not _is_path(item):
                raise TypeError(f"known_hosts: a list of file names holds {type(item).__name__}")
        return
    if len(value) not in (3, 7):  # (asyncssh's own: "tuple index out of range")
        raise ValueError(
            f"known_hosts as {_AS}: (host keys, CA keys, revoked keys), or 7 lists with"
            f" the X.509 ones, not {len(value)}"
        )
    for i, ((name, items, what, instead), given) in enumerate(zip(_LISTS, value, strict=False)):
        if isinstance(given, list | tuple):
            for item in given:
                if not isinstance(item, items):
                    shown = type(item).__name__
                    raise TypeError(
                        f"known_hosts as {_AS}: {name} (item {i}) hold an item of type"
                        f" {shown}: {what}"
                    )
        elif not isinstance(given, instead) and (
            isinstance(given, bytes) or not isinstance(given, Iterable)
        ):
            shown = type(given).__name__
            raise TypeError(f"known_hosts as {_AS}: {name} (item {i}) must be a list, not {shown}")


class _KnownHosts(asyncssh.SSHKnownHosts):
    """A known hosts file that also honours an ``@revoked [host]:port``
    line when no trusted key is named for that port.  asyncssh then looks
    the host up without its port and keeps only what that finds: the key
    revoked for the port came back "not trusted", with the advice to add
    it."""

    def match(self, host: str, addr: str, port: int | None) -> Any:
        found = super().match(host, addr, port)
        exact = getattr(self, "_match", None)  # (asyncssh's lookup for one port)
        if not port or exact is None:
            return found
        for_port = exact(host, addr, port)
        # (revoked keys, certificates and subjects: the 3rd, 5th and 7th)
        return tuple(
            [*mine, *(x for x in theirs if x not in mine)] if i in (2, 4, 6) else mine
            for i, (mine, theirs) in enumerate(zip(found, for_port, strict=False))
        )


#: The last few files parsed, by path, with the text they held: a fleet's
#: connections share one parse (a 1,000-line file: some 8 ms and 700 KB
#: each time; reading it again takes a few microseconds).  The text, not
#: the file's times, says whether it changed: a line rewritten within one
#: tick of the file system's clock is seen.
_parsed: dict[Path, tuple[str, _KnownHosts]] = {}
_PARSED_FILES = 4
_parsed_lock = threading.Lock()


def _read_known_hosts(path: str, host: str, port: int, peer: str) -> Any:
    """The file, parsed here, so that a line asyncssh cannot read is a
    ``HostKeyError`` naming the file, not a bare ``ValueError``; parsed
    again only once its text has changed (``_parsed``)."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
        with _parsed_lock:  # (event loops in several threads share it)
            seen = _parsed.pop(file, None)
        if seen is not None and seen[0] == text:
            known = seen[1]
        else:
            known = _KnownHosts()
            known.load(text)
        with _parsed_lock:
            _parsed[file] = (text, known)  # (the last used, last)
            while len(_parsed) > _PARSED_FILES:
                del _parsed[next(iter(_parsed))]
        return known
    except ValueError as exc:  # (a line it cannot read; also bytes not UTF-8)
        raise HostKeyError(
            f"cannot check the SSH host key of {peer}: {path}: {exc}",
            host=host,
            port=port,
        ) from None
    except OSError as exc:  # (chained: run_many tells one for want of a descriptor by it)
        raise ConnectError(
            f"cannot read the known hosts file {path}: {exc.strerror}", host=host, port=port
        ) from exc


def trusted_keys(trusted: Any, host: str, port: int) -> tuple[Sequence[Any], Sequence[Any]]:
    """The host keys and CA keys that ``trusted`` (known hosts, as asyncssh
    takes them) holds for ``host``: if any, a key it does not accept is a
    *changed* one."""
    if trusted is None or isinstance(trusted, str | PurePath):
        return (), ()
    try:
        host_keys, ca_keys, *_ = asyncssh.match_known_hosts(trusted, host, host, port)
    except (ValueError, OSError, TypeError):
        return (), ()
    return host_keys, ca_keys


def host_key_algs(
    keys: Sequence[Any], ca_keys: Sequence[Any], options: dict[str, Any]
) -> list[str]:
    """The trusted keys' algorithms first, then asyncssh's other defaults, as
    OpenSSH orders them.  asyncssh offers the trusted ones alone: a server
    re-keyed with another type hung up ("no matching host key type"), a
    ConnectError, where its new key must be seen to be named CHANGED.
    Empty (asyncssh chooses, as before): nothing trusted, or a choice made by
    the caller or by an ssh config that may name algorithms or an alias."""
    if not (keys or ca_keys) or any(options.get(k, ()) != () for k in _CHOOSERS):
        return []
    config = options.get("config", ())
    paths = [Path("~", ".ssh", "config")] if config == () else config or []
    for path in [paths] if isinstance(paths, str | PurePath) else paths:
        with contextlib.suppress(OSError):  # (asyncssh reports it)
            text = Path(path).expanduser().read_text("utf-8", "replace").lower()
            if any(word in text for word in ("hostkeyalg", "hostkeyalias", "include")):
                return []
    known = pk.get_default_certificate_algs() if ca_keys else []
    known += [alg for key in keys for alg in key.sig_algorithms]
    rest = pk.get_default_certificate_algs() + pk.get_default_public_key_algs()
    possible = set(pk.get_certificate_algs() + pk.get_public_key_algs())
    return [alg.decode() for alg in dict.fromkeys(known + rest) if alg in possible]
