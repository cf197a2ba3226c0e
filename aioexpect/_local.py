"""What the pty and pipes adapters share: a local child reached through
non-blocking descriptors we own, one to read its output from and one to
write its input to (the same descriptor for a pty master).

Reading drains each wake-up of the loop.  Pulled (``read()``), the data goes
through a bounded ``Inbox`` that stops reading at its high water.  Pushed
(``start_receiving``), each wake-up is read into one buffer per thread and
handed over as a view: no allocation per read.  A pipe that brought a
whole default pipe's worth in one wake-up is widened once (Linux), so that
a child writing faster than we take lets it write ahead while we work.
Writing goes straight to the descriptor and waits for it to turn writable
only when the kernel's buffer is full.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import functools
import os
import threading
import warnings
import weakref
from typing import Any

from ._child import Child, ChildStatus, describe
from ._exceptions import ConnectionLostError
from ._inbox import Inbox, OnData, OnEnd, Pusher
from ._pidfd import close_quietly
from ._redact import Redactor
from ._transport import DEFAULT_READ_SIZE, Transport

__all__ = ["LocalTransport", "retrieve"]

#: Bytes one pulled read asks for.
_CHUNK = 1 << 16
#: Push delivery reads each wake-up into one buffer of this size, shared by
#: the transports of a thread (receivers copy what they keep, at once).
_PUSH_BUFFER = 1 << 18
_scratch = threading.local()
#: A read shorter than this most likely emptied the descriptor (a pty hands
#: out about 4 KiB per read): stop draining there rather than pay for the
#: EAGAIN (epoll re-arms anyway).
_SHORT_READ = 1024
#: Linux's default pipe size: a wake-up that brings this much found the
#: pipe full, the child blocked on us.
_FULL_PIPE = 1 << 16
#: At most this many widened pipes at a time in the process.  The user's
#: pipe quota (``/proc/sys/fs/pipe-user-pages-soft``, 64 MiB by default) is
#: shared by all of the user's programs, and once it is used up their new
#: pipes get a page or two: 16 pipes of 256 KiB take 3 MiB more of it than
#: 16 default ones.
WIDE_PIPES = 16


class _Quota:
    """A count of what is taken, for event loops in several threads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.taken >= self.limit:
                return False
            self.taken += 1
            return True

    def give(self) -> None:
        with self._lock:
            self.taken -= 1


_wide = _Quota(WIDE_PIPES)


class LocalTransport(ChildStatus, Transport):
    """A local child over descriptors: see the module docstring.

    Subclasses call ``_open`` from their ``__init__`` and provide
    ``_check_writable`` (may ``write()`` start now?) and, if a write under
    way obeys other rules, ``_writer_fd``.  EOF is an empty read or ``EIO``
    (a pty whose child side is closed), or, after ``_end_at_exit``, the
    first read that finds nothing once the child exited.
    """

    _rfd: int | None
    _wfd: int | None
    _ended: bool  # the read side reached its end
    _input_lost: bool  # a write found the child's end of the input closed
    _exited = False  # the child exited (``_end_at_exit``): nothing to read is the end
    #: What a read pipe found full is widened to, once (0: never).
    _widen_to = 0
    _wide = False  # holds one of the process's ``WIDE_PIPES``

    def _open(self, child: Child, rfd: int, wfd: int) -> None:
        self._child = child
        self._rfd, self._wfd = rfd, wfd
        self._loop = asyncio.get_running_loop()
        self._inbox = Inbox(
            lambda: f"{self.kind} {self._peer!r}", self._stop_reading, self._start_reading
        )
        self._pusher = None
        self._closed = False
        self._closing = None
        self._reading = False
        self._ended = False
        self._input_lost = False
        self._write_lock = asyncio.Lock()
        self._writers = 0  # writes queued on, or holding, the lock
        #: Tasks queued on the lock (rests of writes, pipes' close of stdin):
        #: ``close`` waits for them.
        self._queued: set[asyncio.Task[None]] = set()
        self._write_waiter: asyncio.Future[None] | None = None
        self._start_reading()

    @property
    def _peer(self) -> str:
        """The command line, shortened, its secrets masked."""
        return describe(self._child.argv, redactor=self._child.redactor)

    def hide(self, redactor: Redactor) -> None:
        """Mask ``redactor``'s secrets (the session's, as they are added)
        wherever the command line shows: ``peer``, messages, logs."""
        self._child.redactor = redactor

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("eof" if self._ended else "open")
        return f"<{type(self).__name__} pid={self._child.pid} {self._peer!r} {state}>"

    def __del__(self) -> None:
        if getattr(self, "_rfd", None) is None or self._closed:
            return
        warnings.warn(f"unclosed {self!r}", ResourceWarning, source=self, stacklevel=1)
        self.abort()

    # -- reading -------------------------------------------------------------

    async def read(self, max_bytes: int = DEFAULT_READ_SIZE) -> bytes:
        if self._pusher is not None and not self._closed:  # closed: ClosedError
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
        if not self._reading and self._rfd is not None and not self._ended:
            # A weak reference: a dropped transport can be collected (and warn).
            self._loop.add_reader(self._rfd, _on_readable, weakref.ref(self))
            self._reading = True
            if self._exited:
                # Resumed after the exit: the descriptor may hold nothing
                # more, and then never turns readable; a read tells.
                self._read_soon()

    def _end_at_exit(self) -> None:
        """Report the end of file once the child has exited and the
        descriptor has nothing more to read, even while a process the child
        left behind holds the other end open (a pty's background job: the
        terminal reports its end only once every process closed it)."""
        self._child.protocol.exited.add_done_callback(
            functools.partial(_child_exited, weakref.ref(self))
        )

    def _read_soon(self) -> None:
        self._loop.call_soon(_read_if_reading, weakref.ref(self))

    def _stop_reading(self) -> None:
        if self._reading and self._rfd is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._rfd)
        self._reading = False

    def _on_readable(self) -> None:
        if self._pusher is not None and self._pusher.ready:
            self._push()
            return
        # Drain in one wake-up, chunk by chunk so the inbox can pause us at
        # its high water.
        fd, feed = self._rfd, self._inbox.feed
        while fd is not None and self._reading:
            try:
                data = os.read(fd, _CHUNK)
            except (BlockingIOError, InterruptedError):
                if self._exited:
                    self._end(None)
                return
            except OSError as exc:
                self._end(exc)
                return
            if not data:
                self._end(None)
                return
            feed(data)
            if len(data) < _SHORT_READ and not self._exited:
                return  # (after the exit, read on to the EAGAIN that ends it)

    def _push(self) -> None:
        """Drain into the scratch buffer and hand the whole wake-up to the
        receiver, as a view it must copy what it keeps of: no allocation per
        read and no join."""
        fd, scratch, n, ended, error = self._rfd, _scratch_buffer(), 0, False, None
        while fd is not None and n < len(scratch):
            try:
                got = os.readv(fd, [scratch[n:]])
            except (BlockingIOError, InterruptedError):
                ended = self._exited
                break
            except OSError as exc:
                ended, error = True, exc
                break
            if not got:
                ended = True
                break
            n += got
            if got < _SHORT_READ and not self._exited:
                break  # (after the exit, read on to the EAGAIN that ends it)
        if n >= _FULL_PIPE and self._widen_to:
            self._widen()
        if n and self._pusher is not None:
            self._pusher.data(scratch[:n])
        if ended:
            self._end(error)
        elif n == len(scratch) and self._exited and self._reading:
            self._read_soon()  # (the buffer filled: what is left may not wake us)

    def _widen(self) -> None:
        """Give a pipe the child keeps full room to write ahead, once, where
        the kernel allows (not past ``/proc/sys/fs/pipe-max-size`` or the
        user's pipe quota) and fewer than ``WIDE_PIPES`` pipes of this
        process are wide already; never shrink it."""
        size, self._widen_to = self._widen_to, 0
        get = getattr(fcntl, "F_GETPIPE_SZ", None)
        set_ = getattr(fcntl, "F_SETPIPE_SZ", None)
        if self._rfd is None or get is None or set_ is None or not _wide.take():
            return
        try:
            if fcntl.fcntl(self._rfd, get) < size:
                fcntl.fcntl(self._rfd, set_, size)
                self._wide = True
                return
        except OSError:
            pass
        _wide.give()

    def _end(self, error: OSError | None) -> None:
        if error is not None and error.errno == errno.EIO:
            error = None  # a pty: every descriptor of the child side is closed
        self._stop_reading()
        self._ended = True
        self._wake_writer()
        if self._pusher is None:
            self._inbox.feed_eof(error)
        else:
            self._pusher.end(error)  # read() stays refused after the end

    def _lost(self, error: BaseException) -> ConnectionLostError:
        lost = ConnectionLostError(f"lost the connection to {self.kind} {self._peer!r}: {error}")
        lost.__cause__ = error
        return lost

    # -- writing -------------------------------------------------------------

    def _check_writable(self) -> int:
        """The write descriptor, if a ``write()`` may start now."""
        raise NotImplementedError

    def _writer_fd(self) -> int:
        """The write descriptor, if a ``write()`` under way may go on."""
        return self._check_writable()

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
        # The rest is written by a task of its own, which waits its turn (the
        # lock) and which a cancelled caller leaves running, also one
        # cancelled while waiting its turn: the peer never gets half a
        # command, and what was handed over goes out in the order it came.
        self._writers += 1
        rest = self._loop.create_task(self._write_rest(memoryview(data)[n:]))
        self._queue(rest)
        await asyncio.shield(rest)

    def _queue(self, task: asyncio.Task[None]) -> None:
        self._queued.add(task)
        task.add_done_callback(self._dequeue)

    def _dequeue(self, task: asyncio.Task[None]) -> None:
        self._queued.discard(task)
        retrieve(task)

    async def _write_rest(self, view: memoryview) -> None:
        """Write ``view`` once the writes queued before it are done."""
        try:
            async with self._write_lock:  # (tasks start in order: so do their turns)
                while view:
                    await self._writable(self._writer_fd())
                    view = view[self._write_some(self._writer_fd(), view) :]
        finally:
            self._writers -= 1

    def _write_some(self, fd: int, data: bytes | memoryview) -> int:
        try:
            return os.write(fd, data)
        except (BlockingIOError, InterruptedError):
            return 0
        except BrokenPipeError as exc:
            self._input_lost = True
            raise ConnectionLostError(
                f"{self._peer!r} closed its input (it may have exited)"
            ) from exc
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
            if self._wfd is not None:
                self._loop.remove_writer(self._wfd)

    def _wake_writer(self) -> None:
        if self._write_waiter is not None and not self._write_waiter.done():
            self._write_waiter.set_result(None)

    # -- the child -----------------------------------------------------------

    async def close(self, *, force: bool = False) -> None:
        try:
            await super().close(force=force)
        finally:
            # The tasks queued on the lock end with ClosedError, one turn of
            # the loop each: not after the close (a loop closed then would
            # destroy them pending, and log each).
            if self._queued:
                await asyncio.wait(set(self._queued))

    def _shut(self) -> None:
        self._stop_delivery()
        self._stop_reading()
        self._wake_writer()

    def _is_released(self) -> bool:
        return self._rfd is None

    def _release(self) -> None:
        rfd, wfd = self._rfd, self._wfd
        self._rfd = self._wfd = None
        if rfd is None:
            return
        if self._wide:
            self._wide = False
            _wide.give()
        for fd in {rfd} if wfd is None else {rfd, wfd}:
            if not self._loop.is_closed():
                self._loop.remove_reader(fd)
                self._loop.remove_writer(fd)
            close_quietly(fd)
        self._child.release()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``"peer"``: the command line (shortened); ``"pid"``; ``"command"``:
        the argv tuple; ``"reaped"``: reaps the child if it ended, without the
        event loop (whose loop closed: ``Session.close``)."""
        if name == "peer":
            return self._peer
        if name == "pid":
            return self._child.pid
        if name == "command":
            return self._child.argv
        if name == "reaped":
            return self._child.reaped
        return default


def _on_readable(ref: weakref.ref[LocalTransport]) -> None:
    transport = ref()
    if transport is not None:
        transport._on_readable()


def _read_if_reading(ref: weakref.ref[LocalTransport]) -> None:
    """A read attempt the descriptor's readiness would not make: the child
    exited and the descriptor may be empty.  Not while reading is paused
    (back-pressure) or over: resuming makes one."""
    transport = ref()
    if transport is not None and transport._reading:
        transport._on_readable()


def _child_exited(ref: weakref.ref[LocalTransport], exited: asyncio.Future[None]) -> None:
    """``_end_at_exit``'s callback.  A read that finds nothing after the
    exit has everything the child wrote (Linux's pty hands over what is in
    flight before it answers EAGAIN); anything later comes from a process
    the child left behind, and is not waited for."""
    transport = ref()
    if transport is None or transport._closed or transport._ended:
        return
    transport._exited = True
    _read_if_reading(ref)


def _scratch_buffer() -> memoryview:
    """This thread's buffer for push delivery."""
    view: memoryview | None = getattr(_scratch, "view", None)
    if view is None:
        view = _scratch.view = memoryview(bytearray(_PUSH_BUFFER))
    return view


def retrieve(task: asyncio.Task[None]) -> None:
    """Take a background write's error (its caller was cancelled, or gets
    it through ``shield``): it must not be logged as never retrieved."""
    if not task.cancelled():
        task.exception()
