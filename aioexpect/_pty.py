"""Pseudo-terminal adapter: a local child on a pty, as a Transport.

The child leads its own session with the pty slave as its controlling
terminal; the parent keeps only the non-blocking master.  Reading stops
above ``HIGH_WATER`` unread bytes (back-pressure) and resumes as ``read()``
drains.  ``EIO`` on the master means every slave descriptor is closed: that
is end-of-file, reported after everything the child wrote.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import struct
import sys
import termios
import threading
import warnings
import weakref
from collections.abc import Sequence
from typing import Any

from ._child import Child, ChildStatus, close_quietly, describe, start_child
from ._exceptions import ClosedError, ConnectionLostError, SpawnError
from ._inbox import Inbox, OnData, OnEnd, Pusher
from ._transport import DEFAULT_READ_SIZE, Transport

__all__ = ["CANONICAL_LINE_LIMIT", "PtyTransport", "open_pty"]

#: Longest line a Linux pty accepts in canonical mode, without its newline.
#: The line discipline's buffer (N_TTY_BUF_SIZE) holds 4096 bytes, one of
#: them kept for the newline.  Measured: ``wc -c`` on a pty counts 4096 for
#: a 4095-byte line plus "\n", and also 4096 for 4096 or 5000 bytes plus
#: "\n" (the excess is silently dropped).
CANONICAL_LINE_LIMIT = 4095
_CHUNK = 1 << 16
#: Push delivery reads each wake-up into one buffer of this size, shared by
#: the transports of a thread (receivers copy what they keep, at once).
_PUSH_BUFFER = 1 << 18
_scratch = threading.local()
#: A read shorter than this most likely emptied the master (a full one
#: returns about 4 KiB): stop draining there rather than pay for the EAGAIN.
_SHORT_READ = 1024
_DEFAULT_CONTROL = {termios.VEOF: b"\x04", termios.VINTR: b"\x03"}


async def open_pty(
    command: str,
    args: Sequence[str],
    *,
    env: dict[str, str] | None,
    cwd: str | None,
    echo: bool,
    dimensions: tuple[int, int],
) -> Transport:
    """Start ``command`` on a new pty of ``dimensions`` (rows, cols).

    ``echo=False`` turns the terminal's echo off before the child starts.
    Raises ``SpawnError`` (and leaks no descriptor) when it cannot start.
    """
    argv = [command, *args]
    try:
        master, slave = os.openpty()
    except OSError as exc:
        raise SpawnError(
            f"cannot start {command!r}: no pseudo-terminal: {exc.strerror}", command=command
        ) from exc
    try:
        _configure(slave, command, echo=echo, dimensions=dimensions)
        child = await start_child(
            argv, env=env, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, controlling_tty=slave
        )
        os.set_blocking(master, False)
    except BaseException:
        close_quietly(master)
        raise
    finally:
        close_quietly(slave)
    return PtyTransport(child, master)


def _configure(slave: int, command: str, *, echo: bool, dimensions: tuple[int, int]) -> None:
    rows, cols = dimensions
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if not echo:
            attrs = termios.tcgetattr(slave)
            attrs[3] &= ~termios.ECHO
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
    except (OSError, termios.error) as exc:
        raise SpawnError(
            f"cannot start {command!r}: cannot set up the pty: {exc}", command=command
        ) from exc


class PtyTransport(ChildStatus, Transport):
    """A child on a pseudo-terminal.  See the module docstring.

    ``write_eof()`` sends the terminal's EOF character (normally Ctrl-D): it
    may be repeated and writing goes on afterwards; like a keyboard Ctrl-D it
    ends input only at the start of a line (otherwise it sends the partial
    line).  ``send_interrupt()`` sends the interrupt character (Ctrl-C).
    """

    kind = "pty"
    linesep = "\n"

    def __init__(self, child: Child, master: int) -> None:
        self._child = child
        self._fd: int | None = master
        self._loop = asyncio.get_running_loop()
        self._peer = describe(child.argv)
        self._inbox = Inbox(f"pty {self._peer!r}", self._stop_reading, self._start_reading)
        self._reading = False
        self._hangup = False
        self._closed = False
        self._closing: asyncio.Future[None] | None = None
        self._write_lock = asyncio.Lock()
        self._writers = 0  # writes queued on, or holding, the lock
        self._write_waiter: asyncio.Future[None] | None = None
        self._pusher: Pusher | None = None  # push delivery (start_receiving)
        self._start_reading()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("eof" if self._hangup else "open")
        return f"<PtyTransport pid={self._child.pid} {self._peer!r} {state}>"

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is None or self._closed:
            return
        warnings.warn(f"unclosed {self!r}", ResourceWarning, source=self, stacklevel=1)
        self.abort()

    # -- reading -------------------------------------------------------------

    async def read(self, max_bytes: int = DEFAULT_READ_SIZE) -> bytes:
        if self._pusher is not None:
            raise RuntimeError("read() after start_receiving(): data is pushed")
        return await self._inbox.read(max_bytes)

    def start_receiving(self, on_data: OnData, on_end: OnEnd) -> bool:
        """Push delivery: each wake-up's data goes straight to ``on_data``
        (no task switch per chunk: the reader wakes only when it matched)."""
        if self._closed or self._pusher is not None:
            return False
        self._pusher = Pusher(self._inbox, on_data, on_end, self._stop_reading, self._lost)
        return True

    def resume_receiving(self) -> None:
        if self._pusher is not None and not self._closed:
            self._start_reading()

    def _start_reading(self) -> None:
        if not self._reading and self._fd is not None and not self._hangup:
            # A weak reference: a dropped transport can be collected (and warn).
            self._loop.add_reader(self._fd, _on_readable, weakref.ref(self))
            self._reading = True

    def _stop_reading(self) -> None:
        if self._reading and self._fd is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._fd)
        self._reading = False

    def _on_readable(self) -> None:
        if self._pusher is not None and self._pusher.ready:
            self._push()
            return
        # Drain the master in one wake-up (a pty hands out about 4 KiB per
        # read), chunk by chunk so the inbox can pause us at its high water.
        fd, feed = self._fd, self._inbox.feed
        while fd is not None and self._reading:
            try:
                data = os.read(fd, _CHUNK)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # EIO: the child side of the terminal is closed (end-of-file).
                self._end(None if exc.errno == errno.EIO else exc)
                return
            if not data:
                self._end(None)
                return
            feed(data)
            if len(data) < _SHORT_READ:
                return  # most likely drained: spare the EAGAIN (epoll re-arms anyway)

    def _push(self) -> None:
        """Drain the master into the scratch buffer and hand the whole
        wake-up to the receiver, as a view it must copy what it keeps of:
        no allocation per read and no join."""
        fd, scratch, n, ended, error = self._fd, _scratch_buffer(), 0, False, None
        while fd is not None and n < len(scratch):
            try:
                got = os.readv(fd, [scratch[n:]])
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                ended, error = True, (None if exc.errno == errno.EIO else exc)
                break
            if not got:
                ended = True
                break
            n += got
            if got < _SHORT_READ:
                break
        if n and self._pusher is not None:
            self._pusher.data(scratch[:n])
        if ended:
            self._end(error)

    def _end(self, error: OSError | None) -> None:
        self._stop_reading()
        self._hangup = True
        self._wake_writer()
        if self._pusher is None:
            self._inbox.feed_eof(error)
        else:
            self._pusher.end(error)  # read() stays refused after the end

    def _lost(self, error: BaseException) -> ConnectionLostError:
        lost = ConnectionLostError(f"lost the connection to pty {self._peer!r}: {error}")
        lost.__cause__ = error
        return lost

    # -- writing -------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        if type(data) is not bytes:
            data = bytes(data)  # a snapshot of a mutable buffer
        fd = self._check_writable()
        n = 0
        if not self._writers:
            # Nobody queued before us: write now, wait only for the rest.
            n = self._write_some(fd, data)
            if n == len(data):
                return
        view = memoryview(data)[n:]
        self._writers += 1
        try:
            async with self._write_lock:  # free at once if nobody queued
                while view:
                    await self._writable(self._check_writable())
                    view = view[self._write_some(self._check_writable(), view) :]
        finally:
            self._writers -= 1

    def _write_some(self, fd: int, data: bytes | memoryview) -> int:
        try:
            return os.write(fd, data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as exc:
            raise ConnectionLostError(f"cannot write to {self._peer!r}: {exc.strerror}") from exc

    async def _writable(self, fd: int) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._write_waiter = waiter
        self._loop.add_writer(fd, self._wake_writer)
        try:
            await waiter
        finally:
            self._write_waiter = None
            if self._fd is not None:
                self._loop.remove_writer(self._fd)

    def _wake_writer(self) -> None:
        if self._write_waiter is not None and not self._write_waiter.done():
            self._write_waiter.set_result(None)

    def _check_writable(self) -> int:
        if self._closed or self._fd is None:
            raise ClosedError(f"pty {self._peer!r} is closed")
        if self._hangup:
            raise ConnectionLostError(f"{self._peer!r} closed its terminal")
        return self._fd

    async def write_eof(self) -> None:
        await self.write(self._control(termios.VEOF))

    async def send_interrupt(self) -> None:
        await self.write(self._control(termios.VINTR))

    def _control(self, index: int) -> bytes:
        """The terminal's special character ``index`` (VEOF, VINTR)."""
        fd = self._check_writable()
        try:
            char: Any = termios.tcgetattr(fd)[6][index]
        except termios.error:
            return _DEFAULT_CONTROL[index]
        if isinstance(char, int):
            char = bytes([char])
        return char if char not in (b"", b"\x00", b"\xff") else _DEFAULT_CONTROL[index]

    # -- terminal ------------------------------------------------------------

    def set_winsize(self, rows: int, cols: int) -> None:
        fd = self._check_open_fd()
        try:
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        except OSError as exc:
            raise ConnectionLostError(f"cannot resize the pty of {self._peer!r}: {exc}") from exc

    def canonical_line_limit(self) -> int | None:
        """``CANONICAL_LINE_LIMIT`` while the terminal is in canonical mode
        (ICANON set, as a shell's ``stty cooked``), ``None`` in raw mode."""
        if self._closed or self._fd is None:
            return None
        try:
            canonical = termios.tcgetattr(self._fd)[3] & termios.ICANON
        except termios.error:
            return None
        return _line_limit(self._fd) if canonical else None

    def _check_open_fd(self) -> int:
        if self._closed or self._fd is None:
            raise ClosedError(f"pty {self._peer!r} is closed")
        return self._fd

    # -- the child -----------------------------------------------------------

    def _shut(self) -> None:
        self._stop_delivery()
        self._stop_reading()
        self._wake_writer()

    def _is_released(self) -> bool:
        return self._fd is None

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if not self._loop.is_closed():
            self._loop.remove_reader(fd)
            self._loop.remove_writer(fd)
        close_quietly(fd)
        self._child.release()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``"peer"``: the command line (shortened); ``"pid"``; ``"fd"``: the
        master descriptor (``None`` once closed); ``"command"``: the argv tuple."""
        if name == "peer":
            return self._peer
        if name == "pid":
            return self._child.pid
        if name == "fd":
            return self._fd
        if name == "command":
            return self._child.argv
        return default


def _on_readable(ref: weakref.ref[PtyTransport]) -> None:
    transport = ref()
    if transport is not None:
        transport._on_readable()


_LINUX = sys.platform.startswith("linux")


def _line_limit(fd: int) -> int:
    if _LINUX:
        return CANONICAL_LINE_LIMIT
    try:  # BSD and macOS report their real MAX_CANON here (Linux says 255)
        return os.fpathconf(fd, "PC_MAX_CANON") - 1
    except (OSError, ValueError):
        return 254


def _scratch_buffer() -> memoryview:
    """This thread's buffer for push delivery."""
    view: memoryview | None = getattr(_scratch, "view", None)
    if view is None:
        view = _scratch.view = memoryview(bytearray(_PUSH_BUFFER))
    return view
