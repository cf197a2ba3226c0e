"""The ``exec`` command's arguments, checked before any host is contacted:
its targets (on the command line and in ``--hosts`` files) with the accounts
``--user``, ``--key`` and ``$AIOEXPECT_PASSWORD`` make, the drivers
``--drivers-from`` registers, the key files and the commands.  Apart from
``_cli``, which parses and runs: each problem here is one ``UsageError``
(exit status 2), said once rather than on every host.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import re
import sys
import traceback
from collections.abc import Sequence
from urllib.parse import SplitResult, unquote, urlsplit

from ._cli_output import masked, say
from ._many import PASSWORD_ENV, Account, Host
from ._urls import url_scheme

__all__ = [
    "PASSWORD_ENV",
    "UsageError",
    "check_commands",
    "check_files",
    "hosts_from",
    "load_drivers",
    "read_hosts",
    "warn",
]

_COMMENT = re.compile(r"(^|\s)#.*$")


def read_hosts(lines: Sequence[str]) -> list[str]:
    """Targets from a hosts file's lines: one URL per line; blank lines and
    ``#`` comments (whole lines, or after whitespace) are skipped."""
    targets = []
    for line in lines:
        url = _COMMENT.sub("", line).strip()
        if url:
            targets.append(url)
    return targets


def _load_hosts(path: str) -> list[str]:
    """A hosts file's targets, read as UTF-8 whatever the locale (a BOM, as
    some editors write, is no URL), standard input's (``-``) too: a byte
    that is not UTF-8 is a usage error, not part of a host name."""
    shown = masked(repr(path)) + (" (standard input)" if path == "-" else "")
    try:
        if path == "-":
            stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
            data = sys.stdin.read() if stdin is None else stdin.read().decode("utf-8-sig")
            return read_hosts(data.removeprefix("\ufeff").splitlines())
        with open(path, encoding="utf-8-sig") as f:
            targets = read_hosts(f.read().splitlines())
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise UsageError(f"cannot read hosts file {shown}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"hosts file {shown} is not UTF-8 text ({exc.reason})") from None
    if mode & 0o077 and any(_url_password(t) for t in targets):
        warn(f"{path} holds passwords and is readable by others: chmod 600 {path}")
    return targets


class UsageError(Exception):
    """A bad command line discovered after parsing (exit status 2)."""


def warn(message: str) -> None:
    say(f"aioexpect: warning: {message}")


def hosts_from(args: argparse.Namespace) -> list[Host]:
    """Hosts with the accounts --user, --key and $AIOEXPECT_PASSWORD make."""
    urls = list(args.targets)
    if any(_url_password(u) for u in urls):
        warn(
            "a password in a URL on the command line is visible to other users (ps): "
            f"prefer a --hosts file (chmod 600) or ${PASSWORD_ENV}"
        )
    for path in args.hosts:
        urls.extend(_load_hosts(path))
    if not urls:
        raise UsageError("no targets: name them as arguments or with --hosts FILE")
    for url in urls:  # (a program's arguments go to it as bytes: a file name in Latin-1)
        if url_scheme(url) != "spawn":
            _check_utf8(url, f"target {masked(repr(url))}")
    password = os.environ.get(PASSWORD_ENV) or None
    hosts, nameless, named = [], 0, 0
    for url in urls:
        user = args.user or _url_user(url)
        if args.user and _url_user(url) not in (None, args.user):
            named += 1  # the URL's user wins, without the account
        account = None
        if user and not url.lower().startswith("spawn:"):
            _check_utf8(user, f"--user {user!r}")  # (a URL's own user was checked with it)
            account = Account(user, password=password, key=args.key)
        elif not url.lower().startswith("spawn:"):
            nameless += 1
        hosts.append(Host(url, account))
    if password and any(h.account for h in hosts) and _not_utf8(password):
        raise UsageError(  # (which byte is not said: it is part of the password)
            f"${PASSWORD_ENV} holds a byte that is not UTF-8 (set in another encoding than"
            " the locale's?): exec sends passwords as UTF-8"
        )
    if nameless and (password or args.key):
        what = "--key" if args.key else f"${PASSWORD_ENV}"
        warn(f"{what} is not used for {nameless} target(s) that name no user: add --user")
    if named:
        warn(
            f"--user and its credentials are not used for {named} target(s) "
            "whose URL names another user"
        )
    return hosts


def _not_utf8(text: str) -> str | None:
    """The first byte of ``text`` that was not UTF-8 where it came from, as
    ``0xE9``: Python keeps an undecodable byte of an argument or an
    environment variable as a lone surrogate, which no session can send.
    ``None`` if there is none."""
    for char in text:
        if "\ud800" <= char <= "\udfff":
            code = ord(char)
            return f"0x{code - 0xDC00:02X}" if code >= 0xDC80 else f"U+{code:04X}"
    return None


def _check_utf8(text: str, what: str) -> None:
    """A ``UsageError`` if ``text`` holds a byte that is not UTF-8: said
    once, where each host would fail on it after connecting."""
    bad = _not_utf8(text)
    if bad is not None:
        raise UsageError(
            f"{what} holds {'byte ' if bad.startswith('0x') else ''}{bad}, which is not"
            " UTF-8 (text in another encoding, such as Latin-1?): exec sends UTF-8"
        )


def _split_target(url: str) -> SplitResult | None:
    """A network target's parts (``ssh://`` if it names no scheme); ``None``
    for ``spawn:`` and for what does not parse (its own error comes when it
    is opened)."""
    scheme = url_scheme(url)  # ssh: or telnet: without //: refused before any warning
    try:
        return None if scheme == "spawn" else urlsplit(url if scheme else "ssh://" + url)
    except ValueError:
        return None


def _url_user(url: str) -> str | None:
    parts = _split_target(url)
    user = None if parts is None else parts.username
    return None if user is None else unquote(user)


def _url_password(url: str) -> bool:
    """Whether a target holds a password (``ssh://u:pw@h``, or ``u:pw@h``)."""
    parts = _split_target(url)
    return parts is not None and parts.password is not None


def load_drivers(source: str) -> None:
    """Run a Python file, or import a module, that registers drivers."""
    is_file = source.endswith(".py") or os.sep in source
    try:
        if is_file:
            spec = importlib.util.spec_from_file_location(_module_name(source), source)
            if spec is None or spec.loader is None:
                raise ImportError("not a Python file")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(source)
    except SystemExit as exc:  # (its message may be empty: raise SystemExit, sys.exit())
        raise UsageError(f"--drivers-from {source!r}: called sys.exit({exc.code!r})") from None
    except Exception as exc:  # its own code, any error: one usage error
        why = f"{type(exc).__name__}: {exc}{_import_hint(exc, source, is_file)}"
        raise UsageError(f"--drivers-from {source!r}: {why}") from None


def _import_hint(exc: Exception, module: str, is_file: bool) -> str:
    """What was not found of ``module``: a top-level name is looked for on
    sys.path, which for the installed ``aioexpect`` script does not hold the
    current directory; a submodule in its package, which was found.  For a
    file, or a module that was found and fails on an import of its own:
    where that import is."""
    if not isinstance(exc, ModuleNotFoundError) or exc.name is None:
        return ""
    missing = exc.name
    if is_file or not (module + ".").startswith(missing + "."):
        return _raised_at(exc)
    parent, _, child = missing.rpartition(".")
    if parent:  # imported (the import got this far): it lacks the submodule
        where = getattr(sys.modules.get(parent), "__path__", None)
        if where is None:  # a plain module: Python's message says it is not a package
            return ""
        return f" (module {parent!r} has no submodule {child!r}; looked in {', '.join(where)})"
    if "." in module:
        return f" (put the directory holding {missing} on PYTHONPATH)"
    return f" (give a file path ({module}.py), or put its directory on PYTHONPATH)"


def _raised_at(exc: Exception) -> str:
    """Where the drivers' own code (or its package's) made the failing
    import: the last frame outside Python's import machinery."""
    machinery = os.path.dirname(importlib.__file__ or "") + os.sep
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not f.filename.startswith(("<frozen ", machinery))]
    if not own or own[-1].filename == __file__:
        return ""
    return f" (imported by {own[-1].filename}, line {own[-1].lineno})"


def _module_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return "aioexpect_drivers_" + "".join(c if c.isalnum() else "_" for c in stem)


def check_files(args: argparse.Namespace) -> None:
    """A --key or --known-hosts file that cannot be read is one usage error,
    before any host is contacted, rather than the same failure on each.
    ``~`` is the home directory, as for ssh (``--key=~/id``: no shell
    expands it after the ``=``) and for the SSH connection, which reads it."""
    if args.logdir == "":  # ("$LOGDIR" unset: the transcripts went to the current directory)
        raise UsageError("--logdir '' names no directory")
    for option, path in (("--key", args.key), ("--known-hosts", args.known_hosts)):
        found = None if path is None else os.path.expanduser(path)
        if found is not None and not os.access(found, os.R_OK):
            why = "no such file" if not os.path.exists(found) else "not readable"
            raise UsageError(f"{option} {masked(repr(path))}: {why}")


def check_commands(commands: list[str]) -> None:
    """Each ``-c`` is one line (``execute`` runs one): refused before any host
    is contacted, rather than failing on every host."""
    for command in commands:
        _check_utf8(command, f"-c {command!r}")
        if "\n" in command or "\r" in command:
            raise UsageError(
                f"-c {command!r} holds a line break: give each line its own -c, in order"
            )
