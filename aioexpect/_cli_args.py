"""The ``exec`` command's arguments, checked before any host is contacted:
its targets (on the command line and in ``--hosts`` files) with the accounts
``--user``, ``--key`` and ``$AIOEXPECT_PASSWORD`` make, the drivers
``--drivers-from`` registers, the key files and the commands.  Apart from
``_cli``, which parses and runs: each problem here is one ``UsageError``
(exit status 2), said once rather than on every host.
"""

from __future__ import annotations

import argparse
import codecs
import importlib
import importlib.util
import os
import re
import shlex
import sys
import traceback
from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit

from ._cli_output import masked, say
from ._many import PASSWORD_ENV, Account, Host, check_target
from ._options import has_control
from ._urls import MaskedURLError, redact_url, unquote_credential, url_scheme

__all__ = [
    "PASSWORD_ENV",
    "UsageError",
    "check_commands",
    "check_files",
    "check_key",
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
    """A hosts file's targets, standard input's (``-``) too, read as bytes
    whatever the locale (a BOM, as some editors write, is no URL): each
    ``spawn:`` line as a command line's argument is (a program's arguments
    are bytes: a file name in Latin-1), each other one as UTF-8, refused
    if it is not, rather than dialled."""
    shown = masked(repr(path)) + (" (standard input)" if path == "-" else "")
    origin = "standard input" if path == "-" else f"hosts file {masked(repr(path))}"
    shared = 0  # (standard input has no mode of its own to check)
    try:
        if path == "-":
            stdin = getattr(sys.stdin, "buffer", None)  # (text only: replaced in-process)
            data = stdin.read() if stdin is not None else _as_given(sys.stdin.read())
        else:
            with open(path, "rb") as f:
                data = f.read()
            shared = os.stat(path).st_mode & 0o077
    except OSError as exc:
        raise UsageError(f"cannot read hosts file {shown}: {exc.strerror}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # (as some editors save)
        raise UsageError(f"{origin} is UTF-16: save it as UTF-8")
    targets = []
    for number, line in enumerate(data.removeprefix(codecs.BOM_UTF8).splitlines(), 1):
        where = f" ({origin}, line {number})"
        if line.strip()[:6].lower() == b"spawn:":
            for url in read_hosts([os.fsdecode(line)]):
                targets.append(_planned(url, where))
            continue
        for url in read_hosts([line.decode("utf-8", "surrogateescape")]):  # (comments skipped)
            text, bad = _utf8(url.encode("utf-8", "surrogateescape"))
            _target(text, bad, where)
            if has_control(text):  # (a NUL, a form feed: refused, as run_many would, but here
                raise UsageError(  # with the line named)
                    f"target {redact_url(text)!r}{where} holds a control"
                    " character (a tab, a line end...): no host, user name or password can hold one"
                )
            targets.append(_planned(text, where))
    if shared and any(_url_password(t) for t in targets):
        warn(f"{path} holds passwords and is readable by others: chmod 600 {path}")
    return targets


def _planned(url: str, where: str) -> str:
    """``url`` if ``run_many`` can plan it (its scheme, port, %-escapes,
    a ``spawn:`` command's words...), else its error, as run_many's would
    be, with ``where`` (the hosts file and line) after it: shown later,
    among all the targets, it named neither."""
    try:
        check_target(url)
    except MaskedURLError as exc:  # (masked already: a usage error's masking hid its user name)
        raise MaskedURLError(f"{exc}{where}") from None
    except ValueError as exc:
        raise UsageError(f"{exc}{where}") from None
    return url


class UsageError(Exception):
    """A bad command line discovered after parsing (exit status 2)."""


def warn(message: str) -> None:
    say(f"aioexpect: warning: {message}")


def hosts_from(args: argparse.Namespace) -> list[Host]:
    """Hosts with the accounts --user, --key and $AIOEXPECT_PASSWORD make;
    the targets, but ``spawn:``'s, the user and the password as UTF-8 text."""
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
    # (a program's arguments go to it as bytes: a file name in Latin-1)
    urls = [u if url_scheme(u) == "spawn" else _target(*_given_utf8(u)) for u in urls]
    given_user = args.user
    if given_user and any(url_scheme(u) != "spawn" for u in urls):
        given_user = _as_utf8(given_user, "--user {!r}")  # (a URL's own user was checked with it)
    password, bad_password = _given_utf8(os.environ.get(PASSWORD_ENV) or "")
    hosts, nameless, named = [], 0, 0
    for url in urls:
        url_user = _url_user(url)
        user = given_user or url_user
        if given_user and url_user not in (None, given_user):
            named += 1  # the URL's user wins, without the account
        account = None
        if user and not url.lower().startswith("spawn:"):
            account = Account(user, password=password or None, key=args.key)
        elif not url.lower().startswith("spawn:"):
            nameless += 1
        hosts.append(Host(url, account))
    if bad_password and any(h.account for h in hosts):
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


_SURROGATE = re.compile("[\ud800-\udfff]")

#: Why text that is not UTF-8 is refused.
_SENDS_UTF8 = "(text in another encoding, such as Latin-1?): exec sends UTF-8"


def _as_given(text: str) -> bytes:
    """The bytes an argument or an environment variable was given as:
    Python reads them in the locale's encoding and keeps each byte that is
    not text in it as a lone surrogate (in an ASCII locale, ``LC_ALL=C``,
    every byte past ASCII)."""
    try:
        return os.fsencode(text)
    except UnicodeEncodeError:  # (text given in-process, which no locale decoded)
        pass
    try:  # (bytes kept as Python keeps them: U+DCE9 is byte 0xE9)
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # (a lone surrogate that stands for no byte)
        return text.encode("utf-8", "surrogatepass")


def _utf8(data: bytes) -> tuple[str, str | None]:
    """``data`` read as UTF-8 and ``None``; or, if it is not UTF-8, as far
    as it is (each other byte a lone surrogate, as Python keeps it) and
    its first byte that is not, as ``"byte 0xE9"``."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", "surrogateescape"), f"byte 0x{data[exc.start]:02X}"


def _given_utf8(text: str) -> tuple[str, str | None]:
    """An argument's or an environment variable's text as ``_utf8`` reads
    its bytes, if Python kept some of them as lone surrogates, which no
    session can send: UTF-8 in an ASCII locale (``LC_ALL=C``) is text."""
    return (text, None) if _SURROGATE.search(text) is None else _utf8(_as_given(text))


def _as_utf8(text: str, what: str) -> str:
    """``text`` as UTF-8 (``_given_utf8``), or a ``UsageError`` saying
    which byte is not, where ``what`` (a format, ``"-c {!r}"``, of the text)
    is: said once, where each host would fail on it after connecting."""
    decoded, bad = _given_utf8(text)
    if bad is not None:
        raise UsageError(f"{what.format(decoded)} holds {bad}, which is not UTF-8 {_SENDS_UTF8}")
    return decoded


def _target(url: str, bad: str | None, where: str = "") -> str:
    """A network target read as ``_utf8`` read it: ``url`` if ``bad`` is
    ``None``, else a ``UsageError`` showing it as ``redact_url`` does; a
    byte that is not UTF-8 in its password is not shown (it would tell
    part of it), nor is the password (masking in free text goes word by
    word, and a password may hold a space)."""
    if bad is None:
        return url
    shown = redact_url(url)
    _, bad_shown = _utf8(shown.encode("utf-8", "surrogateescape"))
    if bad_shown is None:
        raise UsageError(
            f"the password of target {shown!r}{where} holds a byte that is not UTF-8 {_SENDS_UTF8}"
        )
    raise UsageError(f"target {shown!r}{where} holds {bad_shown}, which is not UTF-8 {_SENDS_UTF8}")


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
    """A target's user name, %-escapes decoded (a ``ValueError`` if they
    are not UTF-8); its password's are checked too, before any host is
    contacted."""
    parts = _split_target(url)
    if parts is None:
        return None
    unquote_credential(url, parts.password, "password")
    return unquote_credential(url, parts.username, "user name")


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


def check_key(path: str | None, hosts: list[Host]) -> None:
    """An encrypted --key: one usage error saying what to do, not asyncssh's
    "Passphrase must be specified to import encrypted private keys" on each
    SSH host (exec takes no passphrase; the agent's keys are offered).
    Only for a key an SSH target is to use: ``spawn:`` and telnet targets
    take none (they ran with it, and loaded no asyncssh)."""
    if path is None or not any(h.account and url_scheme(h.url) in ("ssh", "") for h in hosts):
        return
    found = os.path.expanduser(path)
    if not os.path.isfile(found):  # (a pipe, --key <(...): read here, the hosts got nothing)
        return
    try:
        from ._asyncssh import asyncssh
    except ImportError:  # (each SSH host says so)
        return
    try:
        asyncssh.read_private_key(found)
    except (OSError, ValueError) as exc:  # (any other problem: each SSH host names it)
        if str(exc).startswith("Passphrase must be specified"):
            raise UsageError(
                f"--key {masked(repr(path))} is encrypted, and exec takes no passphrase;"
                f" load the key into ssh-agent (`ssh-add {masked(shlex.quote(found))}`) and"
                " leave --key out: exec offers the agent's keys (SSH_AUTH_SOCK)"
            ) from None


def check_commands(commands: list[str]) -> list[str]:
    """The commands as UTF-8 text, each ``-c`` one line (``execute`` runs
    one): refused before any host is contacted, rather than failing on
    every host."""
    checked = []
    for command in commands:
        command = _as_utf8(command, "-c {!r}")
        if "\n" in command or "\r" in command:
            raise UsageError(
                f"-c {command!r} holds a line break: give each line its own -c, in order"
            )
        checked.append(command)
    return checked
