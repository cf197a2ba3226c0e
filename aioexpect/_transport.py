"""The one transport contract every back end implements (memory, pipes, pty,
streams, telnet, SSH).

A transport moves bytes; it knows nothing of text, patterns or time-outs (the
session owns those).  Rules every adapter keeps, checked by
``aioexpect.testing.check_transport``:

1. ``read()`` returns ``b""`` if, and only if, the peer reached end-of-file;
   every later ``read()`` returns ``b""`` again.  Otherwise it returns at
   least one byte, and everything already received (up to ``max_bytes``), so
   a slow reader gets large batches.
2. No byte is lost or duplicated, also when a ``read()`` is cancelled.
3. An adapter buffers a bounded amount of unread data; past that it stops
   reading from the peer (back-pressure), so a reader that stops calling
   ``read()`` bounds memory.
4. After ``close()``, ``read()`` and ``write()`` raise ``ClosedError``, and
   ``write_eof()`` and ``send_interrupt()`` raise it or do nothing;
   ``close()`` is idempotent and never blocks the event loop.
5. Errors are aioexpect's: a peer that vanishes abnormally gives
   ``ConnectionLostError``; ``OSError`` and library exceptions never escape.
   A peer that ended normally is no error for ``write_eof()``.
"""

from __future__ import annotations

import abc
import asyncio
import select
import socket
from collections.abc import Callable
from typing import Any

from ._canonical import CanonicalLine

__all__ = ["Transport", "DEFAULT_READ_SIZE"]

#: The default ``max_bytes`` of ``Transport.read``.
DEFAULT_READ_SIZE = 1 << 18


class Transport(abc.ABC):
    """A bidirectional byte stream to one peer: a child, a socket, a channel."""

    #: Short name of the back end, e.g. ``"pty"``, ``"pipes"``, ``"ssh"``.
    kind: str = "transport"
    #: What ``Session.sendline`` appends by default for this back end.
    linesep: str = "\n"

    @property
    def has_exit_status(self) -> bool:
        """Whether the peer is a process whose end ``wait()`` waits for (a
        child, a remote command).  Without one (a socket) ``Session.wait``
        waits for the end of the connection instead: the session's end of
        file.  By default, whether the class overrides ``wait()``; a class
        may say it outright (``has_exit_status = True``), and an instance
        too (``self.has_exit_status = inner.has_exit_status``: a wrapper
        whose ``wait()`` is its inner transport's)."""
        said: bool | None = getattr(self, "_has_exit_status", None)
        return type(self).wait is not Transport.wait if said is None else said

    @has_exit_status.setter
    def has_exit_status(self, value: bool) -> None:
        self._has_exit_status = bool(value)

    @abc.abstractmethod
    async def read(self, max_bytes: int = DEFAULT_READ_SIZE) -> bytes:
        """Wait for data and return between 1 and ``max_bytes`` bytes.

        Returns ``b""`` if, and only if, the peer reached end-of-file (for a
        child on a pty: the child side closed, reported by the kernel as
        ``EIO``).  Cancelling a pending ``read()`` loses nothing: the data
        stays for the next call.  Raises ``ClosedError`` after ``close()``
        and ``ConnectionLostError`` when the connection broke abnormally.
        """

    @abc.abstractmethod
    async def write(self, data: bytes) -> None:
        """Write all of ``data``; return once the transport accepted it (drain).

        Cancelling the call does not cut ``data``: what was not written yet
        still is, before anything written later.  Nor does it drop a call
        still waiting for earlier writes: once started, ``data`` goes out
        whole, in the order of the calls.

        Raises ``ClosedError`` after ``close()`` or ``write_eof()``, and
        ``ConnectionLostError`` when the peer is gone.
        """

    @abc.abstractmethod
    async def write_eof(self) -> None:
        """Signal end of input the back end's own way.

        Pipes close the child's stdin, a pty sends the terminal's EOF
        character (Ctrl-D, so it may be repeated), SSH sends Ctrl-D on a
        channel with a pty (OpenSSH ignores channel EOF there) and channel
        EOF without one, streams and telnet half-close where the socket
        allows it.

        Where the end of input is a state (all but a terminal's EOF
        character) a second call does nothing, and one made while the first
        is under way returns when the first does.  A peer that ended
        normally (a child that exited or closed its input, a command whose
        channel closed, a peer that closed its end) has its end of input:
        it returns.  A peer lost abnormally (a connection reset or dropped)
        raises ``ConnectionLostError``; a terminal's EOF character is a key,
        and raises it once the peer is gone, as ``write()`` does.  After
        ``close()`` it raises ``ClosedError`` (or does nothing).
        """

    def start_receiving(
        self,
        on_data: Callable[[bytes | memoryview], bool],
        on_end: Callable[[BaseException | None], None],
    ) -> bool:
        """Optional fast path: deliver received data by calling ``on_data``
        from the event loop instead of through ``read()``.

        Returns ``False`` when the adapter does not offer it (the default);
        the caller then uses ``read()``.  After ``True``, ``read()`` must not
        be called.  Data already buffered is delivered first (soon, not
        during this call).  ``on_data(data)`` gets at least one byte, as
        ``bytes`` or as a ``memoryview`` of a buffer the adapter reuses (so
        the receiver copies what it keeps), and returns whether to go on
        reading; after ``False`` the adapter stops
        reading from the peer until ``resume_receiving()``.  ``on_end(None)``
        reports end-of-file, ``on_end(error)`` a ``ConnectionLostError``,
        each once, after all data.  Nothing is delivered after ``close()``.
        """
        return False

    def resume_receiving(self) -> None:
        """Go on reading after ``on_data`` returned ``False``."""

    async def send_interrupt(self) -> None:
        """Interrupt the peer: Ctrl-C on a terminal, SIGINT to a piped child.

        Raises ``ClosedError`` after ``close()``, and ``ConnectionLostError``
        when the peer is gone (nothing to interrupt)."""
        await self.write(b"\x03")

    def set_winsize(self, rows: int, cols: int) -> None:
        """Resize the peer's terminal; only pty, SSH and telnet transports have one."""
        raise TypeError(f"set_winsize needs a pty, SSH or telnet session, not {self.kind}")

    def canonical_line_limit(self) -> int | None:
        """Longest line the peer's terminal accepts now, or ``None`` for no limit.

        A pty in canonical mode (not raw) returns 4095 on Linux; everything
        else returns ``None``.
        """
        return None

    def canonical_line(self) -> CanonicalLine | None:
        """How the peer's terminal reads a line now (its limit and the bytes
        that end a line), or ``None`` for no limit; what the session checks
        before sending.  By default ``canonical_line_limit()`` with only
        ``\\n`` ending a line (a line then counts long, never short); the pty
        reads its terminal's flags (``stty -icrnl``: ``\\r`` ends no line).
        """
        limit = self.canonical_line_limit()
        return None if limit is None else CanonicalLine(limit)

    @abc.abstractmethod
    async def close(self, *, force: bool = False) -> None:
        """Release the transport; idempotent: a later call waits for the
        first to finish (and with ``force=True`` releases at once).  A close
        that is cancelled releases at once, as ``abort`` does, before the
        cancellation propagates: nothing outlives it.

        For a child: SIGHUP to its process group, then SIGKILL to whatever is
        still alive after a grace period of one second (at once with
        ``force=True``); the child is always reaped.  A child whose output
        ended has up to 0.1 s to exit by itself before the SIGHUP.  For a socket: what is
        queued may go out for up to a second (not with ``force=True``), then
        the connection is aborted.  Waiting is done with the event loop,
        never by blocking it.
        """

    def abort(self) -> None:
        """Synchronous, best-effort release for a transport that was dropped
        unclosed (called from ``Session.__del__``): kill a child's process
        group with SIGKILL and close descriptors without waiting.  The event
        loop's child watcher still reaps the child.  Idempotent.
        """

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return False

    async def wait(self) -> int | None:
        """Wait for the child or remote command to end; return its exit status.

        ``None`` when the process was killed by a signal (see
        ``signal_status``), and at once when the back end has no exit status
        (``has_exit_status`` false: a socket).
        """
        return None

    @property
    def exit_status(self) -> int | None:
        """Exit status once known, else ``None``."""
        return None

    @property
    def signal_status(self) -> int | None:
        """Number of the signal that ended the child, if one did."""
        return None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Back-end facts: ``"peer"`` (str), ``"pid"``, ``"fd"``, ``"command"``,
        ``"columns"`` (the terminal's width, where there is a terminal)."""
        return default


def was_reset(transport: asyncio.BaseTransport) -> bool:
    """Whether ``transport``'s TCP connection, not half-closed by us, is
    closed both ways (a reset, a time-out): poll says so (``POLLHUP``,
    ``POLLERR``) before the event loop looks, which it may never do (its
    reading ended at the peer's FIN; uvloop half-closes later, and quietly).
    ``False`` for other sockets (a UNIX socket whose peer closed looks the
    same, normally), pipes, and a transport without a socket."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.fileno() < 0:
        return False
    if not hasattr(select, "poll"):  # (Windows: the loop tells, later)
        return False
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
