"""Many hosts at once: ``run_many`` (a bounded pool of workers over an inventory).

Invariants: at most ``concurrency`` sessions are open or opening at any time
(fewer while descriptors run short: ``_many_room``); results come back in input
order; one host's failure is its own ``Result`` and never stops another.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import shlex
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import CoroutineType
from typing import IO, Any, Generic, TypeVar, overload
from urllib.parse import unquote

from . import _prompt
from ._exceptions import (
    AuthenticationError,
    ConnectError,
    ConnectionLostError,
    ExpectEOF,
    ExpectTimeout,
)
from ._many_errors import timeout_error, way_out
from ._many_logs import log_names, prepare_logdir
from ._many_results import Masked, masking, without_frames
from ._many_room import Retry, Room
from ._openers import (
    Opener,
    check_dimensions,
    check_key_options,
    connect_ssh,
    connect_telnet,
    spawn,
    split_command,
)
from ._opening import Progress
from ._options import (
    check_client_key,
    check_readable,
    check_session_options,
    check_timeout,
    open_private,
    peer_name,
)
from ._redact import MASK
from ._session import Session
from ._urls import parse_url, redact_url, unquote_credential, unsupported_scheme, url_scheme

__all__ = ["Account", "Host", "Result", "run_many"]

_log = logging.getLogger("aioexpect.many")

Job = Callable[[Session, Any], Awaitable[Any]]

#: The variable ``aioexpect exec`` takes its password from.  A ``spawn:``
#: target's program does not inherit it (unless given ``env=``): it would
#: show in the program's output, the transcripts and the logs.
PASSWORD_ENV = "AIOEXPECT_PASSWORD"


@dataclass(frozen=True)
class Account:
    """Credentials: ``username``, ``password`` and ``key`` (an SSH client key:
    a path or an ``asyncssh`` key object).  The password never shows in ``repr``."""

    username: str
    password: str | None = field(default=None, repr=False)
    key: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.username, str) or not self.username:
            raise TypeError("Account needs a non-empty username string")
        if self.password is not None and not isinstance(self.password, str):
            raise TypeError("Account password must be a str or None")
        if self.key is not None:
            check_client_key(self.key, "Account key")

    def __repr__(self) -> str:
        secret = ", password=" + repr(MASK) if self.password is not None else ""
        key = ", key=..." if self.key is not None else ""
        return f"Account(username={self.username!r}{secret}{key})"


@dataclass(frozen=True)
class Host:
    """A target: a URL (``ssh://``, ``telnet://``, ``spawn:``; no scheme means
    ``ssh://``) and an ``Account`` for the credentials the URL does not carry."""

    url: str
    account: Account | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.url, str):
            raise TypeError(f"Host url must be a str, not {type(self.url).__name__}")
        if self.account is not None and not isinstance(self.account, Account):
            raise TypeError("Host account must be an Account or None")

    def __repr__(self) -> str:
        return f"Host(url={redact_url(self.url)!r}, account={self.account!r})"


_Target = TypeVar("_Target", bound="str | Host")
_Value = TypeVar("_Value")


@dataclass(frozen=True)
class Result(Generic[_Target, _Value]):
    """What happened on one target: ``host`` (the target as given), ``ok``,
    ``value`` (what the job returned; ``None`` where ``ok`` is false), ``error``
    and ``duration`` (seconds); ``traceback``, a failure's traceback as text
    (run_many drops it from ``error``: its frames kept the closed session).
    Typed by what ``run_many`` was given, e.g. ``Result[Host, str]`` for
    ``Host`` targets and a job that returns a ``str``.  Its ``repr`` shows
    the session's secrets as ``********`` (its attributes do not)."""

    host: _Target
    ok: bool
    value: _Value = None  # type: ignore[assignment]  # (a failure's: typed as a success's)
    error: BaseException | None = None
    duration: float = 0.0
    traceback: str | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        host = repr(redact_url(self.host) if isinstance(self.host, str) else self.host)
        shown = repr(self.value) if self.ok else repr(self.error)
        # (run_many's: the session's redact, an attribute but no field, see _many_results.masking)
        redact = self.__dict__.get("_redact")
        shown = shown if redact is None else redact(shown)
        outcome = f"value={shown}" if self.ok else f"error={shown}"
        return f"Result(host={host}, ok={self.ok}, {outcome}, duration={self.duration:.3f})"


# -- planning: targets -> what to open -------------------------------------------


def _params(fn: Callable[..., Any]) -> frozenset[str]:
    named = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return frozenset(p.name for p in inspect.signature(fn).parameters.values() if p.kind in named)


_CREDENTIALS = frozenset({"host", "port", "username", "password"})
_SPAWN_OPTIONS = _params(spawn) - {"command", "args"}
_TELNET_OPTIONS = _params(connect_telnet) - _CREDENTIALS
_SSH_NAMED = _params(connect_ssh) - _CREDENTIALS
#: Options for spawn only; everything else an SSH target takes (asyncssh options too).
_NOT_SSH = _SPAWN_OPTIONS - _SSH_NAMED
_RESERVED = {
    "username": "give credentials in the URL or as Host(url, Account(...))",
    "password": "give credentials in the URL or as Host(url, Account(...))",
    "logfile": "use logdir= for one transcript per host",
    "timeout": "run_many's timeout= bounds a host's whole run; session_timeout= sets the "
    "session's default wait",
}


@dataclass(frozen=True)
class _Plan:
    """How to open one target, with the options its opener takes."""

    kind: str  # "ssh", "telnet" or "spawn"
    host: str  # host name, or the command for spawn
    port: int | None
    argv: tuple[str, ...]
    username: str | None
    password: str | None = field(repr=False)
    key: Any = field(repr=False)
    label: str  # for messages and file names: "host:port" or "spawn:command"

    @property
    def logs_in(self) -> bool:
        """Whether opening answers an in-band login dialog (telnet credentials)."""
        return self.kind == "telnet" and (self.username is not None or self.password is not None)


def check_target(target: Any) -> None:
    """Raise what ``run_many`` raises for ``target`` before it starts (its
    scheme, port, %-escapes, a ``spawn:`` command's words...), if anything."""
    _plan(target)


def _plan(target: Any) -> _Plan:
    if isinstance(target, Host):
        url, account = target.url, target.account
    elif isinstance(target, str):
        url, account = target, None
    else:
        raise TypeError(f"a target must be a URL string or a Host, not {type(target).__name__}")
    scheme = url_scheme(url)  # (ssh: or telnet: without //: refused here, before any opens)
    if scheme == "spawn":
        argv = tuple(split_command(url[6:]))
        if not argv:
            raise ValueError(f"spawn: target names no command: {url!r}")
        return _Plan("spawn", argv[0], None, argv, None, None, None, "spawn:" + shlex.join(argv))
    if not scheme:
        url, scheme = "ssh://" + url, "ssh"
    if scheme not in ("ssh", "telnet"):
        raise unsupported_scheme(url, scheme)
    parts = parse_url(url)
    host = unquote(parts.hostname or "")  # an IPv6 zone: [fe80::1%25eth0]
    if not host:
        raise ValueError(f"URL has no host: {redact_url(url)!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"a target URL has no path, query or fragment: {redact_url(url)!r}")
    port = (22 if scheme == "ssh" else 23) if parts.port is None else parts.port
    username = unquote_credential(url, parts.username, "user name")
    password = unquote_credential(url, parts.password, "password")
    key = None
    if account is not None and username in (None, account.username):
        username = account.username
        if password is None:
            password = account.password
        key = account.key
    label = peer_name(host, port, password)  # (a password equal to either: masked)
    return _Plan(scheme, host, port, (), username, password, key, label)


def _opener(plan: _Plan, options: Mapping[str, Any], logfile: IO[str] | None) -> Opener:
    """The opener for ``plan``, given only the options that opener takes."""
    extra: dict[str, Any] = {"logfile": logfile}
    if plan.kind == "spawn":
        opts = {k: v for k, v in options.items() if k in _SPAWN_OPTIONS}
        if opts.get("env") is None and PASSWORD_ENV in os.environ:
            opts["env"] = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
        return spawn(plan.argv[0], plan.argv[1:], **opts, **extra)
    assert plan.port is not None
    if plan.kind == "telnet":
        opts = {k: v for k, v in options.items() if k in _TELNET_OPTIONS}
        return connect_telnet(
            plan.host, plan.port, username=plan.username, password=plan.password, **opts, **extra
        )
    opts = {k: v for k, v in options.items() if k not in _NOT_SSH}
    if plan.key is not None:
        opts["client_keys"] = [plan.key]
    return connect_ssh(
        plan.host, plan.port, username=plan.username, password=plan.password, **opts, **extra
    )


#: The Session's options, in ``check_session_options``'s order, with
#: values that pass its checks (what is not given is not checked here).
_SESSION_DEFAULTS: dict[str, Any] = {
    "timeout": None,
    "encoding": "utf-8",
    "codec_errors": "replace",
    "max_buffer": None,
    "strip_ansi": False,
    "logfile": None,
    "driver": "generic",
}


def _check_options(options: dict[str, Any]) -> dict[str, Any]:
    """Mistakes that would fail every host, raised once, before any opens."""
    for name, why in _RESERVED.items():
        if name in options:
            raise ValueError(f"run_many does not take {name}=: {why}")
    if "session_timeout" in options:
        options["timeout"] = options.pop("session_timeout")
    unknown = sorted(set(options) - _SPAWN_OPTIONS - _TELNET_OPTIONS - _SSH_NAMED)
    why = ""
    if unknown:  # asyncssh's own options: only then load it
        try:
            from . import _ssh

            theirs = set(unknown) & _ssh.option_names()
            unknown = sorted(set(unknown) - theirs)
            if not unknown:  # a bad value would fail every SSH host: once, now
                _ssh.check_option_values({name: options[name] for name in theirs})
        except ImportError as exc:  # a broken install: say so, but name the options
            why = f" (asyncssh, which has options of its own, fails to import: {exc})"
    if unknown:
        raise TypeError(f"run_many got unknown option(s): {', '.join(unknown)}{why}")
    if "encoding" in options and options["encoding"] is None:
        raise ValueError("run_many waits for prompts, which needs text: encoding=None is refused")
    given = {**_SESSION_DEFAULTS, **options}
    check_session_options(*(given[name] for name in _SESSION_DEFAULTS))
    if "dimensions" in options:  # (every opener takes it: a bad one fails every host)
        check_dimensions(options["dimensions"])
    check_key_options(options.get("client_keys", ()), options.get("known_hosts", ()))
    return options


# -- running ---------------------------------------------------------------------


@overload
async def run_many(
    targets: Iterable[_Target],
    job: Callable[[Session, _Target], Awaitable[_Value]],
    *,
    concurrency: int = 50,
    timeout: float | None = None,
    logdir: str | os.PathLike[str] | None = None,
    on_result: Callable[[Result[_Target, _Value]], object] | None = None,
    **options: Any,
) -> list[Result[_Target, _Value]]: ...
# (A list written in the call that mixes URLs and Host objects: mypy joins
# its items to object, which the first form refuses; here it is typed by
# this parameter instead.)
@overload
async def run_many(
    targets: Iterable[str | Host],
    job: Callable[[Session, str | Host], Awaitable[_Value]],
    *,
    concurrency: int = 50,
    timeout: float | None = None,
    logdir: str | os.PathLike[str] | None = None,
    on_result: Callable[[Result[str | Host, _Value]], object] | None = None,
    **options: Any,
) -> list[Result[str | Host, _Value]]: ...
async def run_many(
    targets: Iterable[Any],
    job: Callable[[Session, Any], Awaitable[_Value]],
    *,
    concurrency: int = 50,
    timeout: float | None = None,
    logdir: str | os.PathLike[str] | None = None,
    on_result: Callable[[Result[Any, _Value]], object] | None = None,
    **options: Any,
) -> list[Result[Any, _Value]]:
    """Run ``await job(session, host)`` on every target, ``concurrency`` at a time.

    Each session is opened (logging in where the target has credentials) and
    its first prompt consumed before the job starts; it is closed afterwards.
    A failure before the job is a ``ConnectError`` (or a subclass, e.g.
    ``AuthenticationError`` for a login question the target has no
    credentials for); the job's own errors keep their classes.
    Returns one ``Result`` per target, in input order.  ``timeout`` bounds a
    host's whole run (``None``: no bound beyond the session's own waits);
    ``session_timeout`` sets the session's default wait (the openers'
    ``timeout``); ``logdir`` receives one transcript per host; ``on_result``
    (a function or coroutine function) is called with each ``Result`` as it
    completes (an exception it raises cancels the run and is raised here).
    Other ``options`` go to each opener that takes them (see the docs for
    mixed inventories).
    """
    if not callable(job):
        raise TypeError(f"job must be an async function (session, host), not {job!r}")
    if on_result is not None and not callable(on_result):  # (not after the first host ran)
        raise TypeError(f"on_result must be a function or None, not {on_result!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, not {concurrency!r}")
    timeout = _check_timeout(timeout)
    if isinstance(targets, str | Host):
        raise TypeError("targets must be a list of URLs or Hosts, not a single one")
    given = list(targets)
    plans = [_plan(t) for t in given]
    for plan in plans:  # (a typo in an Account: once, before anything opens)
        if plan.kind == "ssh" and plan.key is not None:
            key = plan.key[0] if isinstance(plan.key, tuple) else plan.key
            check_readable(key, f"{plan.label}: the account's key")
    opts = _check_options(dict(options))
    directory = prepare_logdir(logdir)
    logpaths: list[Path | None] = [None] * len(plans)
    if directory is not None:
        logpaths = [directory / name for name in log_names(plans)]
    results: list[Result[Any, _Value] | None] = [None] * len(given)
    queue = iter(range(len(given)))
    room = Room(concurrency)

    async def report(i: int, result: Result[Any, _Value]) -> None:
        results[i] = result
        if on_result is not None:
            told = on_result(result)
            if inspect.isawaitable(told):  # an async callback is awaited, as a job is
                await told

    async def worker() -> None:
        for i in queue:
            attempt = partial(_run_one, given[i], plans[i], job, timeout, logpaths[i], opts)
            try:
                result = await room.run(attempt)  # (given the room)
            except _EndedWhileClosing as ended:  # the job's result stands: reported,
                await report(i, ended.result)  # then the run's cancellation goes on
                raise asyncio.CancelledError from None
            await report(i, result)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(given))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:  # on_result's error, or one a job let out
        raise _first(failed) from None
    return [r for r in results if r is not None]


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that stopped the run, as raised (not wrapped in the task
    group's exception group, but a group of its own stays one); any others
    are noted on it."""
    first, *others = group.exceptions
    for other in others:
        first.add_note(f"also raised meanwhile: {type(other).__name__}: {other}")
    return first


async def _run_one(
    target: str | Host,
    plan: _Plan,
    job: Job,
    timeout: float | None,
    logpath: Path | None,
    options: Mapping[str, Any],
    room: Room,
) -> Result[Any, Any]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    session: Session | None = None
    logfile: IO[str] | None = None
    error: BaseException | None = None
    value: Any = None
    in_job = False
    progress = Progress()  # (how far the opening got, when timeout= stops it)
    try:
        async with asyncio.timeout(timeout) as scope:
            if logpath is not None:
                logfile = _open_transcript(plan, logpath)
            opened = loop.time()
            session = await _opener(plan, options, logfile)._watched(progress)
            room.opened(session)  # (its descriptors found: after a shortage, it grows back)
            if not plan.logs_in:
                await _first_prompt(session, plan, opened)
            in_job = True
            value = job(session, target)
            if inspect.isawaitable(value):  # (a plain function may return a coroutine)
                value = await value
            if inspect.iscoroutine(value):
                raise _not_awaited(value)
    except TimeoutError as exc:
        expired = scope.expired()
        opening = progress if session is None else session
        error = timeout_error(plan, opening, timeout, in_job, exc) if expired else exc
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is None or task.cancelling():
            await _close(session, logfile, force=True)
            raise
        error = exc  # raised by the job itself, not a cancellation of run_many
    except Exception as exc:
        error = exc
    except BaseException:  # KeyboardInterrupt, SystemExit, a job's own: let out, closed
        await _close(session, logfile, force=True)
        raise
    try:
        await _close(session, logfile, force=error is not None)
    except asyncio.CancelledError:  # (a cancelled close still kills, and the log is closed)
        ended = _result(target, plan, value, error, loop.time() - start, session)
        raise _EndedWhileClosing(ended) from None
    if error is not None and not in_job and room.starved(error, plan.label):  # no descriptor:
        raise Retry  # tried again once another host's session has closed
    return _result(target, plan, value, error, loop.time() - start, session)


def _not_awaited(value: CoroutineType[Any, Any, Any]) -> TypeError:
    """The error of a job whose result, awaited, is still a coroutine: it
    returned ``session.execute(...)`` without ``await``, and the command
    never ran.  The coroutine is closed (no "never awaited" warning at
    exit).  Another awaitable is a value like any other (an object whose
    ``await`` gives itself, as a connection pool's may; a future the job
    shares with other hosts): it is returned, not touched."""
    value.close()
    return TypeError(
        "the job returned a coroutine it did not await: a missing 'await'?"
        f" ({value.__qualname__}() never ran)"
    )


class _EndedWhileClosing(Exception):
    """``run_many`` was cancelled while a host whose job had ended was
    closing: its ``result`` is reported all the same (Ctrl-C in ``aioexpect
    exec`` lost the output of a command that had run)."""

    def __init__(self, result: Result[Any, Any]) -> None:
        super().__init__(result)
        self.result = result


def _result(
    target: str | Host,
    plan: _Plan,
    value: Any,
    error: BaseException | None,
    duration: float,
    session: Session | None = None,
) -> Result[Any, Any]:
    """The host's ``Result``, logged.  The error's text in the record with
    the session's secrets masked: aioexpect's own are already, but a job's
    exception may quote what the device sent (its password echoed)."""
    # (the redactor's own method: a record a handler keeps, MemoryHandler's,
    # or the Result, must not keep the closed session with its buffer alive)
    redact = None if session is None else session._redactor.redact
    if error is not None:
        kind = type(error).__name__
        shown = error if redact is None else Masked(error, redact)
        _log.info("%s failed after %.2f s: %s: %s", plan.label, duration, kind, shown)
        failed = Result(target, False, None, error, duration, without_frames(error))
        return masking(failed, redact)
    _log.debug("%s done in %.2f s", plan.label, duration)
    return masking(Result(target, True, value, None, duration), redact)


def _open_transcript(plan: _Plan, path: Path) -> IO[str]:
    """A host's transcript, fresh (``open_private``); one that cannot be
    opened fails the host before its session opens, as a ``ConnectError``."""
    try:
        file: IO[str] = open_private(path, fresh=True, what="transcript")
    except ValueError as exc:
        host = None if plan.kind == "spawn" else plan.host
        raise ConnectError(f"{plan.label}: {exc}", host=host, port=plan.port) from exc
    return file


async def _close(session: Session | None, logfile: IO[str] | None, *, force: bool) -> None:
    try:
        if session is not None:
            await session.close(force=force)
    except Exception as exc:  # the job's outcome stands; closing is best effort
        _log.warning("closing %r failed: %s", session, exc)
    finally:
        if logfile is not None:
            logfile.close()


async def _first_prompt(session: Session, plan: _Plan, opened: float) -> None:
    """Step 2: read to the first prompt and consume it, within what is left of
    the session's timeout since the opening began (as a telnet login does).

    Like the opening and the login, this is part of connecting: no answer, or
    the peer leaving, is a ``ConnectError`` (caused by the ``ExpectError``,
    whose message says what was awaited and what came); a login question,
    which only credentials would answer, an ``AuthenticationError``.
    """
    timeout = session.timeout
    if timeout is not None:
        timeout = max(0.0, timeout - (asyncio.get_running_loop().time() - opened))
    host = None if plan.kind == "spawn" else plan.host
    try:
        await _prompt.first_prompt(session, timeout, way_out(plan))
    except AuthenticationError as exc:
        raise AuthenticationError(f"{plan.label}: {exc}", host=host, port=plan.port) from exc
    except (ExpectTimeout, ExpectEOF, ConnectionLostError) as exc:
        message = f"{plan.label} did not reach a prompt: {exc}"
        raise ConnectError(message, host=host, port=plan.port) from exc


def _check_timeout(timeout: Any) -> float | None:
    """A session's (an int past a float's range is for ever, as ``inf``),
    but more than 0: a run that must end at once would not start."""
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and not timeout > 0:
        raise ValueError(f"timeout must be positive, not {timeout!r}")  # (NaN too)
    return check_timeout(timeout)
