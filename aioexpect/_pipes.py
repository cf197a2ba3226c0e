"""Pipes adapter: a local child over stdin/stdout pipes, as a Transport.

The child leads its own session and process group (so ``close`` and
``send_interrupt`` reach its whole group); stderr is merged into stdout
unless the caller sends it elsewhere.  Unread output is buffered up to
``HIGH_WATER`` bytes; past that the stdout pipe stops being read.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import IO, Any, cast

from ._child import Child, ChildStatus, describe, start_child
from ._exceptions import ClosedError, ConnectionLostError
from ._inbox import Inbox, OnData, OnEnd, Pusher
from ._transport import DEFAULT_READ_SIZE, Transport

__all__ = ["PipesTransport", "open_pipes"]

#: Bytes asyncio's pipe transport reads at a time (a Linux pipe holds 64 KiB).
_PIPE_READ = 1 << 16


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
    it.  Raises ``SpawnError`` when the command cannot start.
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
    child = await start_child(
        [command, *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
    )
    return PipesTransport(child)


def _is_target(stderr: object) -> bool:
    if isinstance(stderr, bool):
        return False
    return isinstance(stderr, int) or hasattr(stderr, "fileno")


class PipesTransport(ChildStatus, Transport):
    """A child over pipes.  See the module docstring.

    ``write_eof()`` closes the child's stdin (after sending what is queued);
    later writes raise ``ClosedError``.  ``send_interrupt()`` sends SIGINT
    to the child's process group.
    """

    kind = "pipes"
    linesep = "\n"

    def __init__(self, child: Child) -> None:
        self._child = child
        self._protocol = child.protocol
        self._loop = asyncio.get_running_loop()
        self._peer = describe(child.argv)
        # uvloop's pipe transports do not derive from asyncio's classes.
        self._stdin = cast(asyncio.WriteTransport, child.transport.get_pipe_transport(0))
        self._stdout = cast(asyncio.ReadTransport, child.transport.get_pipe_transport(1))
        if isinstance(getattr(self._stdout, "max_size", None), int):
            # asyncio reads 256 KiB at a time from a pipe that holds 64 KiB:
            # each read allocates (and faults in) fresh memory it then
            # shrinks.  64 KiB reads reuse the allocator's memory instead.
            self._stdout.max_size = _PIPE_READ  # type: ignore[attr-defined]
        self._inbox = Inbox(f"pipes {self._peer!r}", self._pause, self._resume)
        self._stdin_lost = False
        self._eof_sent = False
        self._closed = False
        self._released = False
        self._closing: asyncio.Future[None] | None = None
        self._pusher: Pusher | None = None  # push delivery (start_receiving)
        # Weak references: a dropped transport can be collected (and warn).
        ref = weakref.ref(self)
        self._protocol.attach(
            lambda fd, data: _call(ref, PipesTransport._on_data, fd, data),
            lambda fd, exc: _call(ref, PipesTransport._on_pipe_closed, fd, exc),
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("eof" if self._inbox.at_eof else "open")
        return f"<PipesTransport pid={self._child.pid} {self._peer!r} {state}>"

    def __del__(self) -> None:
        if getattr(self, "_closed", True) or self._released:
            return
        warnings.warn(f"unclosed {self!r}", ResourceWarning, source=self, stacklevel=1)
        self.abort()

    # -- pipe events -----------------------------------------------------------

    def _on_data(self, fd: int, data: bytes) -> None:
        if fd != 1:
            return
        if self._pusher is not None:
            self._pusher.data(data)
        else:
            self._inbox.feed(data)

    def _on_pipe_closed(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            if self._pusher is not None:
                self._pusher.end(exc)
            else:
                self._inbox.feed_eof(exc)
        elif fd == 0:
            self._stdin_lost = True
            self._protocol.writable.set()  # wake a writer waiting to drain

    def _pause(self) -> None:
        if not self._stdout.is_closing():
            self._stdout.pause_reading()

    def _resume(self) -> None:
        if not self._stdout.is_closing():
            self._stdout.resume_reading()

    # -- reading and writing -----------------------------------------------------

    async def read(self, max_bytes: int = DEFAULT_READ_SIZE) -> bytes:
        if self._pusher is not None:
            raise RuntimeError("read() after start_receiving(): data is pushed")
        return await self._inbox.read(max_bytes)

    def start_receiving(self, on_data: OnData, on_end: OnEnd) -> bool:
        """Push delivery: each chunk the loop reads from stdout goes straight
        to ``on_data`` (no task switch per chunk)."""
        if self._closed or self._pusher is not None:
            return False
        self._pusher = Pusher(self._inbox, on_data, on_end, self._pause, self._lost)
        return True

    def resume_receiving(self) -> None:
        if self._pusher is not None and not self._closed:
            self._resume()

    def _lost(self, error: BaseException) -> ConnectionLostError:
        lost = ConnectionLostError(f"lost the connection to pipes {self._peer!r}: {error}")
        lost.__cause__ = error
        return lost

    async def write(self, data: bytes) -> None:
        self._check_writable()
        self._stdin.write(bytes(data))
        writable = self._protocol.writable
        while not writable.is_set():
            await writable.wait()
        if self._closed:
            raise ClosedError(f"pipes {self._peer!r} were closed while writing")
        if self._stdin_lost and not self._eof_sent:
            raise ConnectionLostError(f"{self._peer!r} closed its input while we wrote")

    def _check_writable(self) -> None:
        if self._closed:
            raise ClosedError(f"pipes {self._peer!r} are closed")
        if self._eof_sent:
            raise ClosedError(f"the input of {self._peer!r} was closed by write_eof()")
        if self._stdin_lost or self._stdin.is_closing():
            raise ConnectionLostError(f"{self._peer!r} closed its input (it may have exited)")

    async def write_eof(self) -> None:
        if self._closed:
            raise ClosedError(f"pipes {self._peer!r} are closed")
        if self._eof_sent:
            return
        self._eof_sent = True
        if not self._stdin.is_closing():
            self._stdin.close()  # flushes what is queued first

    async def send_interrupt(self) -> None:
        if self._closed:
            raise ClosedError(f"pipes {self._peer!r} are closed")
        if not self._child.signal_group(signal.SIGINT):
            raise ConnectionLostError(f"{self._peer!r} has exited: nothing to interrupt")

    # -- the child -------------------------------------------------------------------

    def _shut(self) -> None:
        self._stop_delivery()
        self._protocol.writable.set()

    def _is_released(self) -> bool:
        return self._released

    def _release(self) -> None:
        if not self._released:
            self._released = True
            if not self._loop.is_closed():
                self._child.release()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``"peer"``: the command line (shortened); ``"pid"``; ``"command"``:
        the argv tuple; ``"fd"`` is ``None`` (two pipes, no single descriptor)."""
        if name == "peer":
            return self._peer
        if name == "pid":
            return self._child.pid
        if name == "command":
            return self._child.argv
        return default


def _call(ref: weakref.ref[PipesTransport], method: Callable[..., None], *args: Any) -> None:
    transport = ref()
    if transport is not None:
        method(transport, *args)
