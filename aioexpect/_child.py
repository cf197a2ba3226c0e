"""Local child processes for the pty and pipes adapters: start one as the
leader of its own session and process group, buffer what it sends, stop it.

Invariants: the child's process-group id is its pid from the moment
``start_child`` returns; its exit is observed through the event loop (a
pidfd on Linux, except for a pty child on uvloop, which uvloop's own spawn
watches; else the loop's child watcher), never by blocking; ``Child.stop``
always ends with the child reaped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any, cast

from ._exceptions import SpawnError
from ._forking import acquire_tty, spawn_turn
from ._inbox import Inbox, Pusher
from ._pidfd import PidfdProcess, close_quietly, pidfd_works
from ._redact import Redactor

__all__ = [
    "EXIT_WAIT",
    "GRACE",
    "Child",
    "ChildProtocol",
    "ChildStatus",
    "close_quietly",
    "describe",
    "start_child",
]

#: Seconds between SIGHUP and SIGKILL when a child is closed.
GRACE = 1.0
#: Seconds ``close()`` lets a child that closed its output (end of file
#: read) exit by itself before the SIGHUP, as pexpect's ``delayafterclose``
#: does: it is most likely ending, and its own exit status is the answer.
EXIT_WAIT = 0.1
#: How often ``stop`` looks for surviving members of the group once the
#: leader is gone (no event tells us about grandchildren).
_POLL = 0.02
#: How long ``stop`` waits for the reaping of a SIGKILLed child before giving
#: up with a warning (a process stuck in uninterruptible sleep).
_REAP_LIMIT = 10.0
#: How long a cancelled ``stop`` waits for the reaping of the child it killed.
_CANCELLED_REAP = 1.0

_log = logging.getLogger("aioexpect")


def describe(argv: Sequence[str], limit: int = 60, redactor: Redactor | None = None) -> str:
    """The command line as a short string, for ``peer`` and messages; with
    ``redactor``'s secrets masked (``mysql -p********``), before it is cut
    short (a cut must not leave part of a secret).  Each argument is masked
    before it is quoted, since quoting splits a secret holding ``'``; the
    joined line again, for a secret spanning two arguments."""
    if redactor is not None and redactor.armed:
        text: str = redactor.redact(shlex.join(redactor.redact(arg) for arg in argv))
    else:
        text = shlex.join(argv)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ChildProtocol(asyncio.SubprocessProtocol):
    """Tells when the event loop reaped the child (``exited``).  The child
    has no pipes of the loop's (the adapters own their descriptors), so the
    loop's transport is closed once the child exited: it never kills or
    polls the child itself.
    """

    def __init__(self) -> None:
        self.exited: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.SubprocessTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's process transport does not derive from SubprocessTransport.
        self.transport = cast(asyncio.SubprocessTransport, transport)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        # The child exited: nothing left to kill.
        if self.transport is not None:
            self.transport.close()


class ChildStatus:
    """What the pty and pipes transports share about their child: status,
    ``close()`` and ``abort()``.  They set the attributes below and provide
    ``_shut`` (stop I/O, wake readers; it calls ``_stop_delivery``),
    ``_release`` (close descriptors; idempotent) and ``_is_released``."""

    has_exit_status = True
    _child: Child
    _closed: bool
    _closing: asyncio.Future[None] | None
    _ended: bool  # the child's output reached its end
    _loop: asyncio.AbstractEventLoop
    _inbox: Inbox
    _pusher: Pusher | None

    def _shut(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    def _is_released(self) -> bool:
        raise NotImplementedError

    def _stop_delivery(self) -> None:
        """Closed: drop buffered data, wake readers, push nothing more."""
        self._closed = True
        if self._pusher is not None:
            self._pusher.cancel()
        self._inbox.close()

    def abort(self) -> None:
        if self._is_released():
            return
        self._shut()
        self._child.kill()
        self._release()

    async def close(self, *, force: bool = False) -> None:
        """SIGHUP, grace, SIGKILL and reaping (``Child.stop``); idempotent, and
        a second ``close(force=True)`` during the first kills at once.  A
        child whose output ended gets ``EXIT_WAIT`` seconds to exit first."""
        if self._closing is not None:
            if force:
                self._child.kill()
            await asyncio.shield(self._closing)
            return
        self._closing = self._loop.create_future()
        self._shut()
        try:
            await self._child.stop(force=force, wait=EXIT_WAIT if self._ended else 0.0)
        finally:
            self._release()
            self._closing.set_result(None)

    @property
    def closed(self) -> bool:
        return self._closed

    async def wait(self) -> int | None:
        return await self._child.wait()

    @property
    def exit_status(self) -> int | None:
        return self._child.exit_status

    @property
    def signal_status(self) -> int | None:
        return self._child.signal_status


class Child:
    """A started child that leads its own process group."""

    def __init__(self, argv: Sequence[str], protocol: ChildProtocol) -> None:
        assert protocol.transport is not None
        self.argv = tuple(argv)
        #: The session's secrets, masked wherever the command line shows
        #: (``LocalTransport.hide``).
        self.redactor: Redactor | None = None
        self.protocol = protocol
        self.transport = protocol.transport
        self.pid: int = self.transport.get_pid()
        #: Process groups of the child's jobs (an interactive shell gives each
        #: job one), with the members seen, found when ``stop`` begins:
        #: signalled with the child's.
        self._jobs: dict[int, list[int]] = {}

    def reaped(self) -> bool:
        """Reap the child if it ended, without the event loop (closed):
        through the ``Popen`` that tracks it, where there is one (so it does
        not warn of a running child later), else ``waitpid``."""
        popen = getattr(self.transport, "_popen", None) or getattr(self.transport, "_proc", None)
        if popen is not None:
            if popen.poll() is None:
                return False
            if isinstance(self.transport, PidfdProcess):
                self.transport.forget()  # (its loop, which would have, is closed)
            return True
        try:
            return os.waitpid(self.pid, os.WNOHANG)[0] != 0
        except ChildProcessError:
            return True

    @property
    def returncode(self) -> int | None:
        """The event loop's return code: ``-N`` when killed by signal N."""
        return self.transport.get_returncode()

    @property
    def exit_status(self) -> int | None:
        code = self.returncode
        return code if code is not None and code >= 0 else None

    @property
    def signal_status(self) -> int | None:
        code = self.returncode
        return -code if code is not None and code < 0 else None

    async def wait(self) -> int | None:
        """Wait for the child's exit; its exit status (``None``: a signal)."""
        await asyncio.shield(self.protocol.exited)
        return self.exit_status

    def signal_group(self, sig: int) -> bool:
        """Send ``sig`` to the child's process group; False if it is gone.

        Once the child is reaped its pid may be reused, but not while our
        group (whose id it is) still has members: so a live process with
        that pid means our group is gone, and the signal is not sent.
        """
        if self.protocol.exited.done() and _pid_in_use(self.pid):
            return False
        alive = _killpg(self.pid, sig)
        for pgid, members in list(self._jobs.items()):
            # Only while a member seen is still in the child's session: a
            # group id (a process id) is free for reuse once its members are
            # gone, and its leader may be gone before them (a pipeline's).
            members[:] = [pid for pid in members if _session_of(pid) == self.pid]
            if members and _killpg(pgid, sig):
                alive = True
            else:
                del self._jobs[pgid]
        return alive

    def kill(self) -> None:
        """SIGKILL the whole group, and the child's jobs, now, without
        waiting (``abort``)."""
        if not self._jobs:
            self._find_jobs()
        self.signal_group(signal.SIGKILL)

    def _find_jobs(self) -> None:
        """Find the child's jobs: its children in process groups of their
        own, or, once it exited, the rest of its session: the jobs an
        interactive shell left running when it exited, now init's children,
        whether or not they still hold its terminal or pipes (``nohup cmd
        >log 2>&1 </dev/null &`` does not).  While any of them lives, the
        child's pid (their session's id) is not given to another process:
        one that has it means they are gone.  A program that started a
        session of its own (``setsid``, a daemon) is not in it: left alone."""
        if not self.protocol.exited.done():
            self._jobs = _job_groups(self.pid)
        elif not _pid_in_use(self.pid):
            self._jobs = _session_groups(self.pid)

    def release(self) -> None:
        """Close the loop's process transport once the child exited, never
        touching the process (``connection_lost`` closes it otherwise)."""
        if self.protocol.exited.done():
            self.transport.close()

    async def stop(self, *, force: bool, grace: float = GRACE, wait: float = 0.0) -> None:
        """SIGHUP (and SIGCONT) to the group, SIGKILL after ``grace`` seconds
        to whatever is left (at once with ``force``), then wait for the reaping.
        Without ``force``, the child has ``wait`` seconds to exit by itself
        first (its exit status, not the SIGHUP's): ``stop`` goes on as soon
        as it exited.

        Cancelling ``stop`` SIGKILLs the group before the cancellation
        propagates, so a child never outlives an interrupted close.
        """
        loop = asyncio.get_running_loop()
        try:
            exited = self.protocol.exited
            if not force and wait > 0 and not exited.done():
                await asyncio.wait([exited], timeout=wait)
            self._find_jobs()  # (after the wait: those the child left if it exited)
            if not force and self.signal_group(signal.SIGHUP):
                self.signal_group(signal.SIGCONT)
                await self._settle(loop.time() + grace)
            if self._group_alive():
                self.kill()
            await self._reap()
            await self._vanish(loop.time() + _REAP_LIMIT)
        except asyncio.CancelledError:
            self.kill()
            await self._reaped_soon()
            raise

    async def _reaped_soon(self) -> None:
        """After the SIGKILL of a cancelled ``stop``: wait a moment for the
        reaping (SIGKILL lands at once), so that a loop ended right after the
        cancellation (``asyncio.run`` after Ctrl-C) leaves no zombie, nor
        asyncio's "subprocess is still running" warning; a second
        cancellation ends the wait."""
        exited = self.protocol.exited
        if not exited.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([exited], timeout=_CANCELLED_REAP)

    async def _settle(self, deadline: float) -> None:
        """Wait until the group is gone or ``deadline`` passed."""
        loop = asyncio.get_running_loop()
        exited = self.protocol.exited
        if not exited.done():
            await asyncio.wait([exited], timeout=max(0.0, deadline - loop.time()))
        while exited.done() and self._group_alive() and loop.time() < deadline:
            await asyncio.sleep(min(_POLL, max(0.0, deadline - loop.time())))

    async def _reap(self) -> None:
        exited = self.protocol.exited
        if not exited.done():
            await asyncio.wait([exited], timeout=_REAP_LIMIT)
        if not exited.done():
            _log.warning(
                "child %d (%s) survived SIGKILL for %.0f s; leaving it to the child watcher",
                self.pid,
                describe(self.argv, redactor=self.redactor),
                _REAP_LIMIT,
            )

    async def _vanish(self, deadline: float) -> None:
        """Wait until SIGKILLed members of the group are gone (a signal is
        delivered asynchronously: kill() returns before the target died)."""
        loop = asyncio.get_running_loop()
        while self._group_alive():
            if loop.time() >= deadline:
                _log.warning("process group %d survived SIGKILL", self.pid)
                return
            self.kill()
            await asyncio.sleep(_POLL / 4)

    def _group_alive(self) -> bool:
        if not self.protocol.exited.done():
            return True
        if not self.signal_group(0):
            return False
        # killpg(pgid, 0) also succeeds for zombies nobody reaps (an init
        # that does not reap orphans): on Linux, look for a live member.
        if not sys.platform.startswith("linux"):
            return True
        return any(_live_member(pgid) for pgid in (self.pid, *self._jobs))


def _killpg(pgid: int, sig: int) -> bool:
    """``killpg``; False if the group is gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a member changed its credentials (setuid program): alive
    return True


def _session_of(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _job_groups(pid: int) -> dict[int, list[int]]:
    """The process groups, other than its own, of ``pid``'s children that
    are still in its session, with those children: an interactive shell's
    background jobs, which a signal to the shell's group misses (Linux;
    elsewhere none)."""
    groups: dict[int, list[int]] = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return groups
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                children = f.read().split()
        except OSError:
            continue
        for child in map(int, children):
            with contextlib.suppress(OSError):
                pgid = os.getpgid(child)
                if pgid != pid and os.getsid(child) == pid:
                    groups.setdefault(pgid, []).append(child)
    return groups


def _session_groups(sid: int) -> dict[int, list[int]]:
    """The process groups of session ``sid`` but its leader's, with their
    members, from /proc (Linux; elsewhere none)."""
    groups: dict[int, list[int]] = {}
    for pid, fields in _stats():
        if len(fields) > 3 and int(fields[3]) == sid and int(fields[2]) != sid:
            groups.setdefault(int(fields[2]), []).append(pid)
    return groups


def _stats() -> Iterator[tuple[int, list[bytes]]]:
    """Each process in /proc with the fields of its ``stat`` after the
    command name (state, ppid, pgrp, session, ...)."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        yield int(name), stat[stat.rfind(b")") + 2 :].split()


def _pid_in_use(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _live_member(pgid: int) -> bool:
    """Whether /proc shows a process of group ``pgid`` that is not a zombie."""
    if not os.path.isdir("/proc"):
        return True
    return any(
        len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X")
        for _, fields in _stats()
    )


async def start_child(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None,
    cwd: str | None,
    stdin: int | IO[Any] | None,
    stdout: int | IO[Any] | None,
    stderr: int | IO[Any] | None,
    controlling_tty: int | None = None,
) -> Child:
    """Start ``argv`` (never through a shell) in a new session, its
    standard streams on the given descriptors or files (not
    ``subprocess.PIPE``: the adapters own their descriptors).

    With ``controlling_tty`` (a pty slave descriptor), that terminal becomes
    the child's controlling terminal.  Raises ``SpawnError`` naming the
    command when it cannot be started.
    """
    command = argv[0]
    _check_cwd(command, cwd)
    loop = asyncio.get_running_loop()
    options: dict[str, Any] = {"start_new_session": True}
    if controlling_tty is not None:
        # setsid() and TIOCSCTTY must both run in the child before exec.
        # Under uvloop preexec_fn runs straight after fork (before libuv's
        # own setsid), so the hook does both itself.
        options = {"preexec_fn": acquire_tty(controlling_tty)}
    if subprocess.PIPE in (stdin, stdout, stderr):
        raise ValueError("start_child: the adapters own the descriptors, not the loop")
    async with spawn_turn():
        if pidfd_works():
            # Popen, reaped through a pidfd: no watcher thread per child on
            # asyncio's loop (Python 3.11), and without a pre-exec step Popen
            # can vfork where uvloop forks (0.9 ms a pipes child, not 3.6).
            # A pty child forks either way, but uvloop's spawn leaves it extra
            # copies of the terminal and of uvloop's own descriptors, so the
            # terminal never reports the end while the child lives.
            popen_options = {**options, "stdin": stdin, "stdout": stdout, "stderr": stderr}
            return Child(argv, _start_reaped(argv, env=env, cwd=cwd, options=popen_options))
        options.update(stdin=stdin, stdout=stdout, stderr=stderr, env=env, cwd=cwd)
        return Child(argv, await _start_on_loop(loop, argv, options))


async def _start_on_loop(
    loop: asyncio.AbstractEventLoop, argv: Sequence[str], options: dict[str, Any]
) -> ChildProtocol:
    command = argv[0]
    try:
        _, protocol = await loop.subprocess_exec(ChildProtocol, *argv, **options)
    except (OSError, subprocess.SubprocessError) as exc:
        raise _cannot_start(argv, exc, options.get("env"), options.get("cwd")) from exc
    except RuntimeError as exc:
        if "Racing" not in str(exc):
            raise
        # uvloop, while a spawn outside aioexpect forks in another thread
        raise SpawnError(
            f"cannot start {command!r}: an event loop in another thread was starting"
            " a process at the same moment (uvloop starts one at a time); try again",
            command=command,
        ) from exc
    return protocol


def _start_reaped(
    argv: Sequence[str], *, env: dict[str, str] | None, cwd: str | None, options: dict[str, Any]
) -> ChildProtocol:
    command = argv[0]
    try:
        popen = subprocess.Popen(argv, env=env, cwd=cwd, **options)
    except (OSError, subprocess.SubprocessError) as exc:
        raise _cannot_start(argv, exc, env, cwd) from exc
    protocol = ChildProtocol()
    try:
        PidfdProcess(popen, protocol)
    except OSError as exc:  # out of descriptors: do not leave it unreaped
        with contextlib.suppress(OSError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait()
        raise SpawnError(f"cannot start {command!r}: {_reason(exc)}", command=command) from exc
    return protocol


def _check_cwd(command: str, cwd: str | None) -> None:
    if cwd is not None and not os.path.isdir(cwd):
        problem = "is not a directory" if os.path.exists(cwd) else "does not exist"
        raise SpawnError(
            f"cannot start {command!r}: working directory {cwd!r} {problem}", command=command
        )


def _cannot_start(
    argv: Sequence[str], exc: BaseException, env: dict[str, str] | None, cwd: str | None
) -> SpawnError:
    """The error for a command that did not start; a script whose ``#!``
    interpreter cannot run names it (exec's error was about the
    interpreter, not the script); a whole command line given as the
    program (as pexpect takes it) gets told how to split it."""
    command, reason = argv[0], _reason(exc)
    interpreter = None
    if isinstance(exc, FileNotFoundError | PermissionError):
        interpreter = _bad_interpreter(command, env, cwd)
    if interpreter is not None:
        reason = f"bad interpreter {interpreter!r}: {reason}"
    elif isinstance(exc, FileNotFoundError) and len(argv) == 1 and " " in command.strip():
        try:
            words = shlex.split(command)
        except ValueError:
            words = command.split()
        reason += (
            f" (spawn runs one program, not a command line: spawn({words[0]!r}, {words[1:]!r}),"
            f" or connect({'spawn:' + command!r}))"
        )
    return SpawnError(f"cannot start {command!r}: {reason}", command=command)


def _bad_interpreter(command: str, env: dict[str, str] | None, cwd: str | None) -> str | None:
    """The interpreter on the ``#!`` line of the script ``command`` names
    (found as exec finds it: on ``env``'s PATH, or from ``cwd``), if that
    is no executable file.  Read as the kernel reads it: the first line,
    words split at spaces and tabs only (a CRLF script's is ``/bin/sh\\r``)."""
    if "/" in command:
        path: str | None = command if cwd is None else os.path.join(cwd, command)
    else:
        path = shutil.which(command, path=os.pathsep.join(os.get_exec_path(env)))
    if path is None or not os.path.isfile(path):  # (never open a FIFO: it would block)
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = re.split(rb"[ \t]+", head[2:].split(b"\n", 1)[0].strip(b" \t"))
    if not words[0]:
        return None
    interpreter = os.fsdecode(words[0])
    where = interpreter if cwd is None else os.path.join(cwd, interpreter)
    if os.path.isfile(where) and os.access(where, os.X_OK):
        return None
    return interpreter


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    cause = exc.__cause__
    if cause is not None:
        return f"{exc} ({cause})"
    return str(exc) or type(exc).__name__
