"""Pipes adapter: a local child over stdin/stdout pipes, as a Transport.

The child leads its own session and process group (so ``close`` and
``send_interrupt`` reach its whole group); stderr is merged into stdout
unless the caller sends it elsewhere.  Unread output is buffered up to
``HIGH_WATER`` bytes; past that the stdout pipe stops being read.  A stdout
pipe that a wake-up finds full is widened to 256 KiB (Linux), so a child
that writes faster than the session takes can write ahead: a 32 MB flood
takes about a fifth less time.  Pipes we keep up with keep their size and
their share of the user's pipe quota, and at most ``WIDE_PIPES`` (16) are
wide at a time in the process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Sequence
from typing import IO, Any

from ._child import Child, start_child
from ._exceptions import ClosedError, ConnectionLostError, SpawnError
from ._local import LocalTransport
from ._pidfd import close_quietly
from ._transport import Transport

__all__ = ["PipesTransport", "open_pipes"]


async def open_pipes(
    command: str,
    args: Sequence[str],
    *,
    env: dict[str, str] | None,
    cwd: str | None,
    stderr: int | IO[Any] | None,
) -> Transport:
    """Start ``command`` with its stdin and stdout on pipes.

    ``stderr``: ``None`` (or ``subprocess.STDOUT``) merges it into stdout;
    otherwise ``subprocess.DEVNULL``, a descriptor or a file object receives
    it.  Raises ``SpawnError`` (and leaks no descriptor) when the command
    cannot start.
    """
    if stderr is None:
        stderr = subprocess.STDOUT
    elif stderr == subprocess.PIPE:
        raise ValueError(
            "stderr=subprocess.PIPE would never be read: use None to merge it into the"
            " output, subprocess.DEVNULL, or a file"
        )
    elif not _is_target(stderr):
        raise TypeError(f"stderr must be None, a descriptor or a file, not {stderr!r}")
    argv = [command, *args]
    out_read, out_write, in_read, in_write = _two_pipes(command)
    try:
        child = await start_child(
            argv,
            env=env,
            cwd=cwd,
            stdin=in_read,
            stdout=out_write,
            stderr=out_write if stderr == subprocess.STDOUT else stderr,
        )
        os.set_blocking(out_read, False)
        os.set_blocking(in_write, False)
    except BaseException:
        close_quietly(out_read)
        close_quietly(in_write)
        raise
    finally:
        close_quietly(in_read)
        close_quietly(out_write)
    return PipesTransport(child, out_read, in_write)


def _two_pipes(command: str) -> tuple[int, int, int, int]:
    """Two pipes' ends (output's, then input's); ``SpawnError`` and no
    descriptor left open if there are not enough descriptors for both."""
    out_read, out_write = _pipe(command)
    try:
        in_read, in_write = _pipe(command)
    except BaseException:
        close_quietly(out_read)
        close_quietly(out_write)
        raise
    return out_read, out_write, in_read, in_write


def _pipe(command: str) -> tuple[int, int]:
    try:
        return os.pipe()
    except OSError as exc:  # (out of descriptors: EMFILE, ENFILE)
        message = f"cannot start {command!r}: no pipe: {exc.strerror}"
        raise SpawnError(message, command=command) from exc


def _is_target(stderr: object) -> bool:
    if isinstance(stderr, bool):
        return False
    return isinstance(stderr, int) or hasattr(stderr, "fileno")


class PipesTransport(LocalTransport):
    """A child over pipes.  See the module docstring.

    ``write_eof()`` closes the child's stdin (after the writes queued before
    it, also when the call is cancelled); later writes raise
    ``ClosedError``, later ``write_eof()`` calls wait for that close and do
    nothing more.  A child that exited or closed its stdin first has its
    end of input too (it reads no more; nothing is lost): ``write_eof()``
    closes stdin and returns, as ``Popen.communicate()`` does.
    ``send_interrupt()`` sends SIGINT to the child's process group.
    ``get_extra_info("fd")`` is ``None``: two pipes, no single descriptor.
    """

    kind = "pipes"
    linesep = "\n"
    #: 4x Linux's default: as fast as larger sizes in the pipes flood
    #: benchmark, and a quarter of their share of the user's pipe quota.
    _widen_to = 1 << 18

    def __init__(self, child: Child, stdout: int, stdin: int) -> None:
        """Takes over ``stdout`` (read end) and ``stdin`` (write end), both
        non-blocking."""
        self._ending: asyncio.Task[None] | None = None  # write_eof()'s close of stdin
        self._open(child, stdout, stdin)

    def _check_writable(self) -> int:
        if self._ending is not None and not self._closed:
            raise ClosedError(f"the input of {self._peer!r} was closed by write_eof()")
        return self._writer_fd()

    def _writer_fd(self) -> int:
        if self._closed or self._wfd is None:
            raise ClosedError(f"pipes {self._peer!r} are closed")
        if self._input_lost:
            raise ConnectionLostError(f"{self._peer!r} closed its input (it may have exited)")
        return self._wfd

    async def write_eof(self) -> None:
        if self._closed:
            raise ClosedError(f"pipes {self._peer!r} are closed")
        if self._ending is None:  # (writes from now on are refused)
            # A task of its own, as the rest of a write is: a caller cancelled
            # while the writes before it go out leaves it going.  Cancelled with
            # it, stdin stayed open for ever (and each later write_eof() said
            # it was done): the child never saw the end of its input.  A later
            # call waits for it too: it returns once stdin is closed.
            self._ending = self._loop.create_task(self._end_input())
            self._queue(self._ending)
        await asyncio.shield(self._ending)

    async def _end_input(self) -> None:
        """Close stdin once the writes queued before are done (also where
        the child closed it first, or exited)."""
        async with self._write_lock:
            fd, self._wfd = self._wfd, None
            if fd is not None:
                close_quietly(fd)

    async def send_interrupt(self) -> None:
        if self._closed:
            raise ClosedError(f"pipes {self._peer!r} are closed")
        if not self._child.signal_group(signal.SIGINT):
            raise ConnectionLostError(f"{self._peer!r} has exited: nothing to interrupt")
