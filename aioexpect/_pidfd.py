"""A child reaped through its pidfd (Linux): as soon as the descriptor turns
readable, without the event loop's child watcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import subprocess

__all__ = ["PidfdProcess", "close_quietly", "pidfd_works"]


class PidfdProcess(asyncio.SubprocessTransport):
    """A child without pipes, reaped as soon as its pidfd (Linux) turns
    readable: the loop's child watcher is not involved.  It never signals
    the child by itself, not even in ``close()``."""

    def __init__(
        self, popen: subprocess.Popen[bytes], protocol: asyncio.SubprocessProtocol
    ) -> None:
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._popen = popen
        self._protocol = protocol
        self._closed = False
        self._pidfd: int | None = None
        self._pidfd = os.pidfd_open(popen.pid)
        self._loop.add_reader(self._pidfd, self._on_exit)
        protocol.connection_made(self)

    def _on_exit(self) -> None:
        if self._popen.poll() is None:
            return
        self.forget()
        self._protocol.process_exited()

    def forget(self) -> None:
        """Close the pidfd (the child was reaped), also where the loop is closed."""
        fd, self._pidfd = self._pidfd, None
        if fd is not None:
            if not self._loop.is_closed():
                self._loop.remove_reader(fd)
            close_quietly(fd)

    def __del__(self) -> None:
        # Only when its loop was closed before the child exited: Popen
        # warns about the running child and reaps it later.
        self.forget()

    def get_pid(self) -> int:
        return self._popen.pid

    def get_returncode(self) -> int | None:
        return self._popen.returncode

    def get_pipe_transport(self, fd: int) -> None:
        return None

    def send_signal(self, signal: int) -> None:
        self._popen.send_signal(signal)

    def terminate(self) -> None:
        self._popen.terminate()

    def kill(self) -> None:
        self._popen.kill()

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True


@functools.cache
def pidfd_works() -> bool:
    """Whether this kernel has pidfds (Linux 5.3+, not blocked by seccomp)."""
    if not hasattr(os, "pidfd_open"):
        return False
    try:
        close_quietly(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


def close_quietly(fd: int) -> None:
    """Close a descriptor, ignoring one already closed."""
    with contextlib.suppress(OSError):
        os.close(fd)
