"""The sub-checks of ``check_transport`` (see ``_conformance``), and their
helpers: each takes a fresh transport to a line-echo peer and fails with
``AssertionError`` saying what broke a rule of ``aioexpect._transport``."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from .._exceptions import ClosedError, ConnectionLostError
from .._transport import DEFAULT_READ_SIZE, Transport

_log = logging.getLogger("aioexpect.testing")

__all__ = [
    "LEFT_PENDING",
    "abandon",
    "check_back_pressure",
    "check_basics",
    "check_cancelled_reads",
    "check_close",
    "check_eof",
    "check_large",
    "check_push",
    "check_push_close",
    "standing",
]

#: Where the running sub-check stands, if it says (a function telling it):
#: added to its failure when its time runs out, so that a sub-check stuck
#: for want of lost data says how far it came.
standing: contextvars.ContextVar[Callable[[], str] | None]
standing = contextvars.ContextVar("aioexpect_check_standing", default=None)

#: Longest pause of the event loop that ``close()`` is allowed to cause.
_MAX_STALL = 0.5
#: Bytes streamed while push delivery is paused: more than fits in the
#: kernel's and the adapter's buffers, so a transport that ignores the pause
#: goes on delivering.
_PUSH_PAYLOAD = 1 << 20
#: Bytes written while nobody reads before the check calls a transport's
#: buffering unbounded: far more than kernels, SSH windows and adapters hold
#: (a few MiB), far less than an unbounded buffer swallows in a second.
_UNBOUNDED = 64 << 20
#: Loop turns a read runs, data waiting for it, before it is cancelled:
#: each of 1 to this many (a transport's own awaits in a read are few).
_TURNS = 8
#: How long writes must make no progress to count as held back.
_STALLED = 0.5
#: Bytes read back after writes stalled: past a 1 MiB buffer's worth, so
#: reading has resumed from the peer, without echoing everything the
#: kernel's socket buffers held (slow through a telnet server).
_READ_BACK = 2 << 20


# -- helpers ------------------------------------------------------------------------


async def _read(transport: Transport, max_bytes: int = DEFAULT_READ_SIZE) -> bytes:
    data = await transport.read(max_bytes)
    assert isinstance(data, bytes), f"read() returned {type(data).__name__}, not bytes"
    assert len(data) <= max_bytes, f"read({max_bytes}) returned {len(data)} bytes"
    return data


class _Lines:
    """Splits what was read into lines, accepting ``\\r\\n`` for ``\\n``."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.partial = b""

    def feed(self, data: bytes) -> None:
        *complete, self.partial = (self.partial + data).split(b"\n")
        self.lines.extend(line.removesuffix(b"\r") for line in complete)


async def _read_lines(
    transport: Transport, count: int, sizes: Callable[[], int], *, partial: bool = False
) -> list[bytes]:
    """At least ``count`` lines; exactly that many, and no partial line
    after them, unless ``partial`` (more is on its way)."""
    lines = _Lines()
    while len(lines.lines) < count:
        data = await _read(transport, sizes())
        assert data, (
            f"end-of-file after {len(lines.lines)} of {count} lines"
            f" (partial line: {lines.partial[-80:]!r})"
        )
        lines.feed(data)
    if partial:
        return lines.lines
    assert not lines.partial, f"unexpected data after the last line: {lines.partial[:80]!r}"
    return lines.lines


def _payload(size: int, rng: random.Random) -> list[bytes]:
    lines: list[bytes] = []
    total = 0
    while total < size:
        filler = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(0, 90)))
        line = b"%07d %s" % (len(lines), filler)
        lines.append(line)
        total += len(line) + 1
    return lines


def _compare(sent: list[bytes], received: list[bytes]) -> None:
    if received == sent:
        return
    for i, (want, got) in enumerate(zip(sent, received, strict=False)):
        if want != got:
            raise AssertionError(
                f"line {i} of {len(sent)} differs: sent {want[:60]!r}, received {got[:60]!r}"
            )
    raise AssertionError(f"sent {len(sent)} lines, received {len(received)}")


async def _write_chunks(transport: Transport, blob: bytes, rng: random.Random) -> None:
    pos = 0
    while pos < len(blob):
        step = rng.randint(1, 16384)
        await transport.write(blob[pos : pos + step])
        pos += step


async def _finish(task: asyncio.Task[Any], what: str) -> None:
    """Cancel ``task`` unless done; re-raise its error if it failed."""
    if not task.done():
        task.cancel()
        await _ended(task, what)
    if not task.cancelled():
        task.result()


async def _ended(task: asyncio.Task[Any], what: str) -> None:
    """Wait for ``task``, just cancelled, to end: for as long as the
    sub-check's time limit allows, which then tells of it.  Not ``await
    task``: that hands each cancellation of ours on to the task, and one
    whose read() swallows CancelledError (retries it) would take them all
    and never let the check end.  Cancelled, it abandons the task."""
    loop, before = asyncio.get_running_loop(), standing.get()
    since = loop.time()

    def stood() -> str:
        # A read cancelled a moment ago ends in a turn or two: a sub-check
        # that cancels read after read is most often here when its time is
        # up, and then what it said before is where it stands.
        if loop.time() - since < _SWALLOWED and before is not None:
            return before()
        return f"{what} was cancelled and did not end (it swallows CancelledError?); {LEFT_PENDING}"

    token = standing.set(stood)
    try:
        await asyncio.wait([task])
    except asyncio.CancelledError:
        abandon(task)
        raise
    finally:
        standing.reset(token)


#: Seconds a cancelled task has not ended before it is said to swallow
#: the cancellation (one that takes it ends in a turn or two of the loop).
_SWALLOWED = 0.1

#: Said of a task left running: the failure may never be seen otherwise.
LEFT_PENDING = (
    "it is left pending, and if close() does not end it either, the event"
    " loop's shutdown (asyncio.run, a test runner's loop) waits for it: a"
    " read() must end when cancelled"
)


def abandon(task: asyncio.Task[Any]) -> None:
    """Leave ``task``, which did not end when cancelled, cancelled once more
    (it may yet take it), its outcome dropped when it ends: the failure
    being told is the check's, not whatever the task meets later (most
    often ``ClosedError``, when the transport is closed).  Logged at once:
    one that never ends holds the loop's shutdown, and a test runner then
    hangs before it shows the check's failure."""
    task.cancel()
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    _log.warning("check_transport: %r did not end when cancelled; %s", task, LEFT_PENDING)


async def _expect_no_extra(transport: Transport) -> None:
    """Send a marker; nothing may arrive before its echo."""
    await transport.write(b"--marker--\n")
    lines = await _read_lines(transport, 1, lambda: DEFAULT_READ_SIZE)
    assert lines == [b"--marker--"], f"extra data arrived (duplicates?): {lines[0][:80]!r}"


# -- the sub-checks -----------------------------------------------------------------


async def check_basics(transport: Transport) -> None:
    assert isinstance(transport.kind, str), f"kind is {transport.kind!r}, not a str"
    assert transport.kind, "kind is empty"
    assert transport.linesep in ("\n", "\r\n", "\r"), f"linesep is {transport.linesep!r}"
    assert not transport.closed, "a fresh transport says it is closed"
    sentinel = object()
    extra = transport.get_extra_info("no such key, surely", sentinel)
    assert extra is sentinel, f"get_extra_info(unknown, default) returned {extra!r}"
    await transport.write(b"hello, transport\n")
    lines = await _read_lines(transport, 1, lambda: DEFAULT_READ_SIZE)
    assert lines == [b"hello, transport"], f"round trip gave {lines!r}"
    await transport.write(b"abc\n")
    got = bytearray()
    while not got.endswith(b"\n"):
        data = await _read(transport, 1)
        assert len(data) == 1, f"read(1) returned {data!r} before end-of-file"
        got += data
    assert got.replace(b"\r", b"") == b"abc\n", f"read(1) calls gave {bytes(got)!r}"


async def check_large(transport: Transport, size: int, rng: random.Random) -> None:
    sent = _payload(size, rng)
    blob = b"".join(line + b"\n" for line in sent)
    writer = asyncio.create_task(_write_chunks(transport, blob, random.Random(rng.random())))
    sizes = (1, 7, 512, 4096, 65536, DEFAULT_READ_SIZE)
    try:
        received = await _read_lines(transport, len(sent), lambda: rng.choice(sizes))
    finally:
        await _finish(writer, "a write()")
    _compare(sent, received)
    await _expect_no_extra(transport)


async def check_cancelled_reads(transport: Transport, rng: random.Random) -> None:
    pending = asyncio.create_task(transport.read())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not pending.done(), f"read() returned {pending.result()!r} though nothing was sent"
    await _finish(pending, "a read()")
    await transport.write(b"after a cancelled read\n")
    lines = await _read_lines(transport, 1, lambda: DEFAULT_READ_SIZE)
    assert lines == [b"after a cancelled read"], f"after a cancelled read() got {lines!r}"
    for turns in range(1, _TURNS + 1):
        await _cancel_with_data_waiting(transport, turns)

    sent = _payload(60_000, rng)
    blob = b"".join(line + b"\n" for line in sent)
    writer = asyncio.create_task(_write_chunks(transport, blob, random.Random(rng.random())))
    lines_in = _Lines()

    def stood() -> str:  # (told if the time runs out: lost data stalls the loop below)
        return (
            f"{len(lines_in.lines)} of {len(sent)} lines had come back, through reads"
            " cancelled on the way (data lost?)"
        )

    standing.set(stood)
    try:
        while len(lines_in.lines) < len(sent):
            data = await _cancellable_read(transport, rng)
            if data is None:
                continue
            assert data, f"end-of-file after {len(lines_in.lines)} of {len(sent)} lines"
            lines_in.feed(data)
    finally:
        await _finish(writer, "a write()")
    _compare(sent, lines_in.lines)
    await _expect_no_extra(transport)


async def _cancel_with_data_waiting(transport: Transport, turns: int) -> None:
    """A read cancelled ``turns`` loop turns after it started, the rest of a
    line waiting for it in the transport: that rest is read afterwards,
    whole.  Certain to meet a transport that loses what a cancelled read
    took at some step, where the random cancellations meet it by chance."""
    line = b"a read cancelled after %d turn(s) of the loop" % turns
    await transport.write(line + b"\n")
    got = await _read(transport, 1)  # (the rest of the echo waits in the transport)
    assert got, "end-of-file before the echo of a line"
    task = asyncio.create_task(_read(transport))
    for _ in range(turns):
        await asyncio.sleep(0)
    got += await _cancel(task) or b""
    await transport.write(b"--next--\n")  # (so that the wait ends, whatever was lost)
    lines = _Lines()
    lines.feed(got)
    while not lines.lines or not lines.lines[-1].endswith(b"--next--"):
        data = await _read(transport)
        assert data, f"end-of-file after {lines.lines!r}"
        lines.feed(data)
    whole = [x for x in lines.lines if x in (line, b"--next--")]
    assert lines.lines == [line, b"--next--"] and not lines.partial, (
        f"a read() cancelled {turns} turn(s) of the event loop after it started, data"
        f" waiting for it: {len(whole)} of 2 lines came back whole, {lines.lines!r}"
        " (data lost?)"
    )


async def _cancel(task: asyncio.Task[bytes]) -> bytes | None:
    """Cancel ``task``, a read: what it read if it returned first, else ``None``."""
    task.cancel()
    await _ended(task, "a read()")
    return None if task.cancelled() else task.result()


async def _cancellable_read(transport: Transport, rng: random.Random) -> bytes | None:
    """One read that may be cancelled; ``None`` if it was."""
    max_bytes = rng.choice((1, 100, 4096, DEFAULT_READ_SIZE))
    if rng.random() < 0.5:
        task = asyncio.create_task(_read(transport, max_bytes))
        for _ in range(rng.randint(0, 3)):
            await asyncio.sleep(0)
        return await _cancel(task)
    limit = asyncio.timeout(rng.choice((0.0, 0.0005, 0.002)))
    try:
        async with limit:
            return await _read(transport, max_bytes)
    except TimeoutError:
        if not limit.expired():
            raise  # the transport's own, not this time limit's
        return None


async def check_back_pressure(transport: Transport) -> None:
    line_size = 1024  # long lines: a peer echoing line by line keeps up
    sent: list[bytes] = []
    accepted = 0  # bytes write() took

    async def write() -> None:
        nonlocal accepted
        while accepted < _UNBOUNDED:
            lines = [b"%09d %s" % (len(sent) + i, b"x" * (line_size - 11)) for i in range(64)]
            sent.extend(lines)
            await transport.write(b"\n".join(lines) + b"\n")
            accepted += len(lines) * line_size

    writer = asyncio.create_task(write())
    try:
        loop = asyncio.get_running_loop()
        seen, since = -1, loop.time()
        while loop.time() - since < _STALLED:
            if writer.done():
                writer.result()  # its error, if it failed
                raise AssertionError(
                    f"wrote {accepted >> 20} MiB while nobody read, and write() never"
                    " waited: unread data is buffered without bound"
                )
            if accepted != seen:
                seen, since = accepted, loop.time()
            await asyncio.sleep(0.02)
        count = min(len(sent), _READ_BACK // line_size)
        received = await _read_lines(transport, count, lambda: DEFAULT_READ_SIZE, partial=True)
    finally:
        await _finish(writer, "a write()")
    _compare(sent[: len(received)], received)


async def check_eof(transport: Transport) -> None:
    await transport.write(b"last line\n")
    await transport.write_eof()
    data = bytearray()
    while chunk := await _read(transport):
        data += chunk
    assert data.replace(b"\r\n", b"\n") == b"last line\n", (
        f"before end-of-file got {bytes(data)[:80]!r}, expected the echo of b'last line\\n'"
    )
    for attempt in (2, 3):
        again = await _read(transport)
        assert again == b"", f"read() number {attempt} after end-of-file returned {again!r}"
    # A second one returns or raises one of aioexpect's errors (a terminal's
    # EOF character finds the peer gone); an OSError escaping is told.
    with contextlib.suppress(ClosedError, ConnectionLostError):
        await transport.write_eof()


async def check_close(transport: Transport) -> None:
    pending = asyncio.create_task(transport.read())
    for _ in range(5):
        await asyncio.sleep(0)
    stall = _StallMeter()
    try:
        await transport.close()
    finally:
        await _finish(stall.task, "the loop meter")
    assert stall.worst < _MAX_STALL, f"close() stalled the event loop for {stall.worst:.2f} s"
    assert transport.closed, "closed is false after close()"
    await asyncio.wait([pending], timeout=5.0)  # (not wait_for: a TimeoutError of its own is told)
    if not pending.done():
        abandon(pending)  # (not waited for: it may swallow CancelledError too)
        raise AssertionError(f"a read() pending during close() never ended; {LEFT_PENDING}")
    try:
        result = pending.result()
    except ClosedError:
        pass
    except Exception as exc:
        raise AssertionError(
            f"a read() pending during close() raised {exc!r}, not ClosedError (or b'')"
        ) from exc
    else:
        assert result == b"", f"a read() pending during close() returned {result!r}"
    await transport.close()
    await asyncio.gather(transport.close(), transport.close())
    calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("read()", transport.read),
        ("write()", lambda: transport.write(b"x\n")),
        ("write_eof()", transport.write_eof),
        ("send_interrupt()", transport.send_interrupt),
    ]
    for name, call in calls:
        try:
            await call()
        except ClosedError:
            continue
        if name in ("read()", "write()"):  # (the others may do nothing: no OSError, though)
            raise AssertionError(f"{name} after close() did not raise ClosedError")


class _StallMeter:
    """Measures the longest gap between event-loop turns while it runs."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.005)
            now = loop.time()
            self.worst = max(self.worst, now - last - 0.005)
            last = now


class _Receiver:
    """Records what push delivery hands over; violations are kept, not
    raised, since they happen inside the transport's callbacks."""

    def __init__(self) -> None:
        self.lines = _Lines()
        self.calls = 0
        self.refuse = False
        self.errors: list[str] = []
        self.ended: asyncio.Future[BaseException | None] = (
            asyncio.get_running_loop().create_future()
        )
        self.early: list[str] | None = None  # the calls made during start_receiving()

    def start(self, transport: Transport) -> bool:
        """``transport.start_receiving`` with this receiver: whether push
        delivery is offered.  Nothing may be delivered during the call (the
        rule: data already buffered comes "soon, not during this call"): the
        receiver need not be ready for it before the call returned."""
        self.early = []
        try:
            offered = transport.start_receiving(self.on_data, self.on_end)
        finally:
            early, self.early = self.early, None
        assert not early, (
            f"{' and '.join(sorted(set(early)))} called during start_receiving(), which"
            " must deliver data already buffered soon, not during the call"
        )
        return offered

    def on_data(self, data: bytes | memoryview) -> bool:
        if self.early is not None:
            self.early.append("on_data")
        self.calls += 1
        if not isinstance(data, bytes | memoryview) or not len(data):
            self.errors.append(f"on_data got {data!r}, not at least one byte")
        elif self.ended.done():
            self.errors.append(f"on_data after on_end: {bytes(data)[:80]!r}")
        else:
            self.lines.feed(bytes(data))  # a view is only valid during the call
        return not self.refuse

    def on_end(self, error: BaseException | None) -> None:
        if self.early is not None:
            self.early.append("on_end")
        if self.ended.done():
            self.errors.append(f"on_end called twice (now with {error!r})")
        else:
            self.ended.set_result(error)

    def check(self) -> None:
        assert not self.errors, "; ".join(self.errors)

    async def until(self, count: int) -> None:
        while len(self.lines.lines) < count:
            self.check()
            await asyncio.sleep(0.001)


async def check_push(transport: Transport, rng: random.Random) -> None:
    await transport.write(b"read\n")
    assert await _read_lines(transport, 1, lambda: DEFAULT_READ_SIZE) == [b"read"]
    await transport.write(b"buffered\n")
    await asyncio.sleep(0.05)  # most likely waiting in the transport by now
    got = _Receiver()
    if not got.start(transport):
        return  # the optional fast path is not offered
    await got.until(1)
    assert got.lines.lines == [b"buffered"], f"first delivered {got.lines.lines[:2]!r}"

    got.refuse = True
    sent = _payload(_PUSH_PAYLOAD, rng)  # more than any adapter buffers
    blob = b"".join(line + b"\n" for line in sent)
    writer = asyncio.create_task(_write_chunks(transport, blob, random.Random(rng.random())))
    try:
        while got.calls == 1:
            got.check()
            await asyncio.sleep(0.001)
        stopped_at = got.calls
        for _ in range(20):
            await asyncio.sleep(0.005)
        assert got.calls == stopped_at, (
            f"on_data was called {got.calls - stopped_at} more times after it returned False"
        )
        got.refuse = False
        transport.resume_receiving()
        await got.until(1 + len(sent))
    finally:
        await _finish(writer, "a write()")
    _compare(sent, got.lines.lines[1:])

    await transport.write(b"last line\n")
    await transport.write_eof()
    error = await got.ended
    assert error is None, f"on_end got {error!r} at a clean end-of-file"
    for _ in range(5):
        await asyncio.sleep(0)
    got.check()
    assert got.lines.lines[-1] == b"last line", f"ended after {got.lines.lines[-1][:80]!r}"
    assert not got.lines.partial, f"a partial line at the end: {got.lines.partial[:80]!r}"


async def check_push_close(transport: Transport) -> None:
    got = _Receiver()
    if not got.start(transport):
        return
    await transport.write(b"one\n")
    await got.until(1)
    await transport.write(b"two\n")
    await transport.close()
    calls = got.calls
    for _ in range(20):
        await asyncio.sleep(0.005)
    got.check()
    assert got.calls == calls, "on_data was called after close()"
    assert not got.ended.done(), f"on_end({got.ended.result()!r}) was called after close()"
    try:
        await transport.read()
    except ClosedError:
        pass
    else:
        raise AssertionError("read() after close() did not raise ClosedError")
