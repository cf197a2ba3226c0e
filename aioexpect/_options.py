"""The Session's option checks and small pure helpers: time-outs, drivers,
logfiles, loggers, control characters (the canonical-line check done before
sending is ``_canonical``)."""

from __future__ import annotations

import contextlib
import errno
import inspect
import logging
import math
import os
import re
import stat
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from ._decode import check_codec
from ._driver import Driver
from ._driver import get as get_driver
from ._patterns import check_ordered
from ._redact import MASK, escape
from ._redact_stream import RedactingStream

__all__ = [
    "check_credentials",
    "check_keywords",
    "check_host",
    "check_peer",
    "has_control",
    "check_port",
    "check_session_options",
    "check_timeout",
    "Logfile",
    "control_code",
    "forget_logger",
    "open_logfile",
    "originals",
    "passable",
    "path_text",
    "peer_name",
    "record",
    "record_sent",
    "resolve_driver",
]


def resolve_driver(driver: str | Driver) -> tuple[Driver, bool]:
    # The registry lives in the pure core; ``aioexpect.drivers`` (imported by
    # the package) fills it with the shipped drivers.
    if isinstance(driver, Driver):
        return driver, False
    if driver == "auto":
        return get_driver("generic"), True
    if isinstance(driver, str):
        try:
            return get_driver(driver), False
        except ValueError as exc:  # (the known ones named; "auto" is taken here too)
            guess = 'or "auto", which guesses it from the banner and the first prompt'
            raise ValueError(f"{exc}; {guess}") from None
    raise TypeError(f"driver must be a name or a Driver, not {type(driver).__name__}")


def forget_logger(log: logging.Logger) -> None:
    """Drop a closed session's child logger from the logging registry, so a
    long-running fleet job does not keep one Logger per session it ever
    opened (unless someone configured it: then it stays)."""
    if log.handlers or log.level != logging.NOTSET or log.filters:
        return
    logging.Logger.manager.loggerDict.pop(log.name, None)


def with_linesep(line: Any, linesep: str) -> Any:
    """``line`` (str or bytes) followed by ``linesep`` of the same type."""
    if isinstance(line, str):
        return line + linesep
    if isinstance(line, bytes):
        return line + linesep.encode()
    raise TypeError(f"a line to send is str or bytes, not {type(line).__name__}")


def secret_line(text: Any, linesep: str, encoding: str | None) -> Any:
    """``with_linesep`` for ``send_secret``, which takes one line: a line
    break would come back as ``\r\n`` in the echo, where redaction cannot
    find the secret.  A str the session's ``encoding`` cannot encode is a
    ``ValueError`` that shows none of it: the codec's ``UnicodeEncodeError``
    held the whole secret (its ``args``, ``object``) and named a character."""
    line = with_linesep(text, linesep)
    breaks: tuple[Any, ...] = ("\n", "\r") if isinstance(text, str) else (b"\n", b"\r")
    if any(b in text for b in breaks):
        raise ValueError("send_secret takes one line (no line break), so that its echo is redacted")
    if isinstance(line, str) and not _encodes(line, encoding or "utf-8"):
        # (raised outside the handler: not even its __context__ holds the secret)
        raise ValueError(
            f"send_secret: the session's encoding {encoding or 'utf-8'!r} cannot encode"
            " a character of the secret (not shown)"
        )
    return line


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def check_size(rows: Any, cols: Any) -> None:
    """``ValueError`` unless both are ints a terminal takes (1 to 65535)."""
    if not valid_size(rows, cols):
        raise ValueError(f"rows and cols must be ints from 1 to 65535, not {rows!r} and {cols!r}")


def valid_size(*sizes: Any) -> bool:
    """Whether each is an int (not a bool) a terminal takes, 1 to 65535."""
    return all(type(n) is int and 0 < n < 65536 for n in sizes)


def check_port(port: Any, lowest: int = 1) -> None:
    """``ValueError`` unless ``port`` is an int from ``lowest`` to 65535
    (a listener takes 0: any free port)."""
    if isinstance(port, bool) or not isinstance(port, int) or not lowest <= port <= 65535:
        raise ValueError(f"port must be an int from {lowest} to 65535, not {port!r}")


#: ``_redact.MASK`` (a module of this layer that this one does not import).
_MASK = "********"


def check_peer(host: Any, port: Any) -> None:
    """``TypeError``/``ValueError`` unless ``host`` names a host and ``port``
    a TCP port to connect to."""
    check_host(host)
    check_port(port)


def check_host(host: Any) -> None:
    """``TypeError`` unless a str; ``ValueError`` if empty or holding what no
    host holds: a control character (a NUL was the resolver's bare
    ``ValueError``) or a space (``" 127.0.0.1"`` failed only when dialled)."""
    if not isinstance(host, str):
        raise TypeError(f"host must be a str, not {type(host).__name__}")
    if not host:
        raise ValueError("host must not be empty: a host name or address")
    if has_control(host):
        raise ValueError(f"host must not hold control characters (NUL, line ends...): {host!r}")
    if any(c.isspace() for c in host):
        raise ValueError(f"host must not hold spaces: {host!r}")


def passable(what: str, text: str) -> str:
    """``text``, unless it holds a NUL or a lone surrogate the file system
    encoding cannot take: a ``ValueError`` naming ``what`` now (Python's bare
    "embedded null byte" or ``UnicodeEncodeError`` came when it was used),
    not showing it (it may be a password)."""
    if "\0" in text:
        raise ValueError(f"{what} holds a NUL character, which no system call takes")
    try:  # (a lone surrogate: a bare UnicodeEncodeError, holding the value, when used)
        os.fsencode(text)
    except UnicodeEncodeError:
        raise ValueError(f"{what} cannot be encoded for the file system") from None
    return text


def path_text(what: str, path: Any) -> str:
    """A str, bytes or ``os.PathLike`` path as a passable str; anything else
    a ``TypeError`` naming ``what`` (Python's own named nothing, when used)."""
    if isinstance(path, str | bytes | os.PathLike):
        with contextlib.suppress(TypeError):  # (an __fspath__ that gives neither)
            return passable(what, os.fsdecode(path))
    raise TypeError(f"{what} must be a str or a path, not {type(path).__name__}")


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (NUL, a tab, a line end...)."""
    return _CONTROL_CHAR.search(text) is not None


_CONTROL_CHAR = re.compile("[\x00-\x1f\x7f]")


def peer_name(host: str, port: int | None, secret: str | None = None) -> str:
    """``host:port`` for messages; ``[host]:port`` for an IPv6 address.  A
    ``secret`` (the password) equal to the host or to the port masks it:
    shown, it would point at the password (one that is only part of them
    does not: ``127.0.0.1`` stays whole with the password ``1``)."""
    shown = [_MASK if secret and str(v) == secret else v for v in (host, port)]
    return f"[{shown[0]}]:{shown[1]}" if ":" in host else f"{shown[0]}:{shown[1]}"


def check_credentials(username: Any, password: Any) -> None:
    for name, value in (("username", username), ("password", password)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a str or None, not {type(value).__name__}")
        # (a line end would answer two questions of a login dialog; SSH refuses them)
        if value and has_control(value):
            raise ValueError(f"{name} must not hold control characters (line ends, NUL, ...)")
    if password and not _encodes(password, "utf-8"):
        # (a lone surrogate: no codec sends it, and the codec's error, raised
        # where it was sent (asyncssh's, the cause of a ConnectError), held
        # the password in its args; it is not shown here either)
        raise ValueError(
            "password holds a lone surrogate (\\udc80-like), which cannot be sent: a byte"
            " the locale could not decode (AIOEXPECT_PASSWORD in a non-UTF-8 locale?)"
        )


def check_key_files(client_keys: Any, known_hosts: Any) -> None:
    """SSH key and known_hosts files given by path must be readable: a
    ``ValueError`` now, not a ``ConnectError`` after dialling (which a retry
    would repeat).  Keys given as objects or data are asyncssh's to judge."""
    for option, value in (("client_keys", client_keys), ("known_hosts", known_hosts)):
        items = value if isinstance(value, list | tuple) else [value]
        if option == "client_keys":
            _check_client_keys(value)
        for item in items:
            # (a (key, certificate) pair in client_keys: the key's path)
            path = item[0] if option == "client_keys" and isinstance(item, tuple) else item
            check_readable(path, option)


def _check_client_keys(value: Any) -> None:
    """Each key of a list; the whole value else.  As asyncssh reads it, a
    tuple is one (key, certificate) pair, whose certificate part may be a
    list or ``None``; ``None`` is no keys, and another iterable (a deque, a
    generator) is asyncssh's to judge, as it was: not consumed here."""
    if isinstance(value, list):
        for item in value:
            check_client_key(item, "client_keys")
    elif value is not None and not isinstance(value, Iterable):  # (a str is a name)
        check_client_key(value, "client_keys")


def check_client_key(key: Any, what: str) -> None:
    """``TypeError`` for what cannot be an SSH client key (asyncssh's own was
    an ``AttributeError`` from inside ``connect``): a key is a file name, key
    data, a (key, certificate) pair or a key object (which has ``public_data``)."""
    if not (isinstance(key, str | os.PathLike | bytes | tuple) or hasattr(key, "public_data")):
        raise TypeError(
            f"{what}: a key is a file name, key data (bytes), an asyncssh key or a "
            f"(key, certificate) pair, not {type(key).__name__}"
        )


def check_readable(path: Any, what: str) -> None:
    """A file given by path (``what`` names it) must be readable, else
    ``ValueError``; anything else (a key object, data) is let through."""
    if not isinstance(path, str | os.PathLike):
        return
    given, path = path, os.path.expanduser(path)  # (as asyncssh reads it)
    if not os.path.exists(path):
        why = "no such file"
    elif os.path.isdir(path):
        why = "a directory, not a file"
    elif not os.access(path, os.R_OK):
        why = "not readable"
    else:
        return
    raise ValueError(f"{what}: {os.fspath(given)!r}: {why}")


def check_timeout(timeout: Any) -> float | None:
    """A timeout in seconds as a float (``None``: for ever, and so is ``math.inf``)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds or None, not {timeout!r}")
    if not timeout >= 0:  # negative, or NaN (which no deadline compares with)
        # (pexpect's -1 is its default timeout: ported code passes it)
        hint = ': -1 is pexpect\'s "the default", leave timeout out' if timeout == -1 else ""
        raise ValueError(f"timeout must be a number of seconds from 0 up, not {timeout!r}{hint}")
    try:
        return float(timeout)
    except OverflowError:  # an int past a float's range: longer than 1e308 s, for ever
        return math.inf


def check_read_size(size: Any) -> int | None:
    """``read_some``'s ``size``: ``None`` or a whole number from 1 up."""
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"size must be a whole number or None, not {size!r}")
    if size < 1:
        raise ValueError(f"size must be 1 or more, not {size!r}")
    return size


def check_keywords(call: str, given: Iterable[str], fn: Callable[..., Any]) -> None:
    """A keyword that is no keyword-only option of ``fn`` is a ``TypeError``
    naming ``call``, the one the user made (Python's own would name ``fn``)."""
    taken = inspect.signature(fn).parameters
    kind = inspect.Parameter.KEYWORD_ONLY
    unknown = sorted(name for name in given if name not in taken or taken[name].kind != kind)
    if unknown:
        raise TypeError(f"{call} got unexpected keyword argument(s): {', '.join(unknown)}")


def check_session_options(
    timeout: Any,
    encoding: Any,
    codec_errors: Any,
    max_buffer: Any,
    strip_ansi: Any,
    logfile: Any,
    driver: Any,
) -> float | None:
    """``TypeError``/``ValueError`` for a bad session option; returns the
    time-out as a float.  The openers call it before connecting, so that a
    typo is not found only after the device has seen (and logged) a login."""
    seconds = check_timeout(timeout)
    if encoding is not None and not isinstance(encoding, str):
        raise TypeError(f"encoding must be a codec name or None, not {encoding!r}")
    if not isinstance(codec_errors, str):
        raise TypeError(f"codec_errors must be an error handler's name, not {codec_errors!r}")
    check_codec(encoding, codec_errors)
    if max_buffer is not None and (
        isinstance(max_buffer, bool) or not isinstance(max_buffer, int) or max_buffer <= 0
    ):
        raise ValueError(f"max_buffer must be a positive int or None, not {max_buffer!r}")
    if not isinstance(strip_ansi, bool):
        raise TypeError(f"strip_ansi must be True or False, not {strip_ansi!r}")
    check_logfile(logfile)
    resolve_driver(driver)
    return seconds


def check_logfile(logfile: Any) -> None:
    if not (logfile is None or isinstance(logfile, str | os.PathLike) or hasattr(logfile, "write")):
        raise TypeError(f"logfile must be a path or a file object, not {type(logfile).__name__}")
    # An aiofiles-style file: its write() only makes a coroutine, which
    # nothing awaits (the transcript is written as data arrives, between
    # two awaits): taken, it lost the whole transcript without a word.
    for name in ("write", "flush"):
        if inspect.iscoroutinefunction(getattr(logfile, name, None)):
            method = f"{type(logfile).__name__}.{name}"
            raise TypeError(f"logfile needs a synchronous {name}(): {method} is a coroutine")


#: For ``originals``: a union written in its calls was made anew at each expect.
_LISTED, _ONE = (list, tuple), (str, bytes, re.Pattern)


def originals(patterns: Any) -> list[Any]:
    """The patterns as given, as a list: one pattern, or any iterable of
    them (a generator is read once, here)."""
    if isinstance(patterns, _LISTED):
        return list(patterns)
    if isinstance(patterns, _ONE) or not isinstance(patterns, Iterable):
        return [patterns]
    check_ordered(patterns)
    return list(patterns)


def open_logfile(logfile: Any) -> tuple[Any, bool]:
    if logfile is None:
        return None, False
    if isinstance(logfile, str | os.PathLike):
        return open_private(logfile, fresh=False), True
    return logfile, False


def open_private(path: str | os.PathLike[str], *, fresh: bool, what: str = "logfile") -> Any:
    """A transcript file for writing, readable by its owner alone (mode 0600):
    it holds what devices said.  ``fresh``: a new file, which replaces a
    regular file of that name (removed, not truncated: it may be a hard link
    to another); otherwise appended to, an existing file's permissions for
    group and others taken away.

    Never written through a symbolic link (one planted at the name would
    send the transcript elsewhere), nor to a file of another user (who could
    read it, whatever its mode), nor to what is not a regular file, but for
    a character device appended to (``/dev/null``, a terminal: made by the
    system, not by whoever can write to a directory): a ``ValueError``
    naming ``what`` and the path, as for any file that cannot be opened."""
    name = os.fspath(path)
    try:
        fd = _create(name) if fresh else _append(name)
    except OSError as exc:
        why = _refusal(name, exc, fresh)
        raise ValueError(f"cannot open {what} {name!r}: {why}") from exc
    return open(fd, "w" if fresh else "a", encoding="utf-8", errors="surrogateescape")


_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
#: O_NONBLOCK: opening a FIFO for writing would wait for a reader (it is
#: cleared once the file is known); O_NOCTTY: a terminal given must not
#: become the process's controlling terminal.
_OLD = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
_OLD |= os.O_NONBLOCK | os.O_NOCTTY


def _create(name: str) -> int:
    try:
        return os.open(name, _NEW, 0o600)
    except FileExistsError:
        if not stat.S_ISREG(os.lstat(name).st_mode):
            raise
    os.unlink(name)
    return os.open(name, _NEW, 0o600)  # (one created meanwhile: EEXIST, refused)


def _append(name: str) -> int:
    fd = os.open(name, _OLD, 0o600)
    try:
        found = os.fstat(fd)
        if stat.S_ISREG(found.st_mode):
            if found.st_uid != os.geteuid():
                why = f"it belongs to another user (uid {found.st_uid}), who can read it"
                raise OSError(errno.EPERM, why)
            if found.st_mode & 0o077:
                os.fchmod(fd, 0o600)
        elif not stat.S_ISCHR(found.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refusal(name: str, exc: OSError, fresh: bool) -> str:
    """Why ``name`` was refused: what it is, where that is the reason (the
    errors of O_NOFOLLOW and O_NONBLOCK do not say it: ELOOP, ENXIO)."""
    try:
        found = os.lstat(name).st_mode
    except OSError:
        found = stat.S_IFREG
    if stat.S_ISLNK(found):
        why = "it is a symbolic link, and a transcript is never written through one"
        return why if fresh else why + " (to write elsewhere, give an open file object)"
    if stat.S_ISDIR(found):
        return "it is a directory"
    if stat.S_ISREG(found) or (stat.S_ISCHR(found) and not fresh):
        return exc.strerror or str(exc)
    why = "it is not a regular file"
    return why if fresh else why + " (give a pipe or socket as an open file object)"


class Logfile:
    """A session's transcript file.  Each piece is written and flushed as it
    comes (``tail -f`` follows the session; a killed process loses nothing
    written).  A write that fails (a full disk, a read-only or closed file,
    an encoding that cannot hold the text) is one warning, and the
    transcript stops there: the session goes on, its data kept."""

    __slots__ = ("_file", "_flush", "_log", "_name", "_own", "active", "given")

    def __init__(self, logfile: Any, log: logging.Logger) -> None:
        self.given = logfile
        self._file, self._own = open_logfile(logfile)
        #: Whether the transcript goes to a file (a plain attribute, kept with
        #: ``_file``: the session reads it for every chunk it receives).
        self.active = self._file is not None
        self._flush = getattr(self._file, "flush", None)  # (a file-like may have none)
        self._log = log
        name = os.fspath(logfile) if self._own else getattr(logfile, "name", None)
        self._name = repr(name) if isinstance(name, str) else type(logfile).__name__

    def write(self, text: str) -> None:
        if self._file is None or not text:
            return
        try:
            _synchronous(write_log(self._file, text), "write")
            if self._flush is not None:
                _synchronous(self._flush(), "flush")
        except Exception as exc:
            self._fail("cannot be written", exc)

    def close(self) -> None:
        """Close a logfile the session opened; flush one the user passed."""
        file, self._file, self.active = self._file, None, False
        if file is None:
            return
        try:
            if self._own:
                file.close()
            elif self._flush is not None:
                _synchronous(self._flush(), "flush")
        except Exception as exc:
            self._file = file
            self._fail("cannot be closed", exc)

    def _fail(self, what: str, exc: Exception) -> None:
        file, self._file, self.active = self._file, None, False
        # (not the exception's text: an encoding error quotes what it could not write)
        why = f"its encoding {exc.encoding!r}" if isinstance(exc, UnicodeEncodeError) else exc
        self._log.warning("logfile %s %s (%s): the transcript stops here", self._name, what, why)
        if self._own:
            with contextlib.suppress(Exception):  # (the descriptor is closed all the same)
                file.close()


def _synchronous(result: Any, name: str) -> None:
    """``TypeError`` if a logfile's ``name`` gave an awaitable (one that
    ``check_logfile`` could not tell, a callable object's, say), closed
    first: nothing will await it, and what it would write is lost."""
    if inspect.isawaitable(result):
        with contextlib.suppress(Exception):  # (a coroutine: never awaited, no warning)
            getattr(result, "close", lambda: None)()
        raise TypeError(f"logfile needs a synchronous {name}(), it gave an awaitable")


class LogfileAttribute:
    """``Session.logfile``: the transcript's file as given (a path, a file
    object, or ``None``).  Setting it (pexpect's ``child.logfile =
    sys.stdout``) sends the transcript there from then on: the file the
    session had opened from a path is closed, one you gave is flushed."""

    def __get__(self, session: Any, owner: Any = None) -> Any:
        return self if session is None else session._logfile.given

    def __set__(self, session: Any, logfile: Any) -> None:
        session._check_open()
        check_logfile(logfile)
        new = Logfile(logfile, session.log)  # (a path that cannot be opened: ValueError)
        session._logfile.close()
        session._logfile = new

    def __delete__(self, session: Any) -> NoReturn:
        raise AttributeError(
            "a session's logfile cannot be deleted: assign None to stop the transcript"
        )


def record(log: logging.Logger, logfile: Logfile, text: str) -> None:
    """Received text, redacted already: to the logfile, and to the session's
    logger at DEBUG (``recv ...``, escaped like ``send ...``)."""
    if not text:
        return
    logfile.write(text)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("recv %s", escape(text))


def record_sent(
    log: logging.Logger, sent: RedactingStream, raw: bytes | None, *, secret: bool = False
) -> None:
    """What a session that holds a secret sends (``None``: it closes), to
    its logger at DEBUG (``send ...``).  Through ``sent``, which holds back
    a tail that may start a secret (typed key by key) until the next send
    or the close, fed whether or not DEBUG is on: it may be turned on
    between two parts of a secret.  A secret sent whole (``send_secret``)
    is one mask, after what was held."""
    if raw is None or secret:
        shown = sent.flush(raw)
    else:
        shown = sent.feed(raw)
    if log.isEnabledFor(logging.DEBUG):
        if shown:
            log.debug("send %s", escape(shown))
        if secret:
            log.debug("send %s", MASK)


def write_log(logfile: Any, text: str) -> Any:
    """Append ``text`` to a text or binary logfile: a binary one (or one
    opened with ``errors="surrogateescape"``, as ``open_private`` does) gets
    the bytes a bytes session received (decoded as UTF-8 with
    ``surrogateescape``) as they came, a text one gets U+FFFD for those that
    are not UTF-8.  Gives what its ``write`` gives."""
    try:
        if _LONE.search(text) and getattr(logfile, "errors", None) != "surrogateescape":
            return logfile.write(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
        return logfile.write(text)
    except TypeError:
        return logfile.write(text.encode("utf-8", "surrogateescape"))


_LONE = re.compile("[\udc80-\udcff]")


_CONTROL = {c: chr(i) for i, c in enumerate("@abcdefghijklmnopqrstuvwxyz[\\]^_")} | {
    # the other keys that give them on a terminal, as pexpect takes them
    k: chr(i)
    for i, k in zip((0, 27, 28, 29, 30), "`{|}~", strict=True)
}


def control_code(char: Any) -> str:
    """The control character for ``char`` (``"c"``: ``"\\x03"``, ``"?"``: DEL)."""
    if not isinstance(char, str):
        raise TypeError(f"sendcontrol takes a one-character str, not {type(char).__name__}")
    if len(char) != 1:
        raise ValueError(f"sendcontrol takes one character, not {char!r}")
    code = "\x7f" if char == "?" else _CONTROL.get(char.lower(), "")
    if not code:
        raise ValueError(f"no control character for {char!r}")
    return code
