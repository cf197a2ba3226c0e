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
import threading
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from ._asyncssh import asyncssh
from ._asyncssh import public_key as pk
from ._exceptions import ConnectError, HostKeyError

__all__ = ["host_key_algs", "resolve_known_hosts", "trusted_keys"]

_log = logging.getLogger("aioexpect")

#: Options by which the caller (or an ``SSHClientConnectionOptions``) chooses
#: the host key algorithms, or the name known_hosts is searched for.
_CHOOSERS = ("server_host_key_algs", "host_key_alias", "options")


def resolve_known_hosts(known_hosts: Any, host: str, port: int, peer: str) -> Any:
    """``()`` -> ``~/.ssh/known_hosts`` (missing file: trust nothing); ``None``
    -> no checking, with a warning; an empty list or string -> trust nothing;
    anything else goes to asyncssh as is."""
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
    if isinstance(known_hosts, str | PurePath) and known_hosts:
        return _read_known_hosts(str(known_hosts), host, port, peer)
    if not known_hosts:
        # Trust nothing.  asyncssh reads any falsy value as "use the default
        # file", so hand it an empty (truthy) object instead.
        return asyncssh.import_known_hosts("")
    return known_hosts


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
