"""The pipes adapter on real programs: process group, stderr routing, EOF,
interrupt, back-pressure, a vanished child, closing and start-up failures."""

from __future__ import annotations

import array
import asyncio
import fcntl
import gc
import os
import signal
import subprocess
import sys
import termios
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import pytest

import aioexpect
from aioexpect import ClosedError, ConnectionLostError, SpawnError, _local
from aioexpect._inbox import HIGH_WATER
from aioexpect._openers import Opener
from aioexpect._pipes import PipesTransport, open_pipes
from aioexpect._transport import Transport

from .helpers import read_all, read_until, wait_until

PY = sys.executable


async def start(
    command: str,
    args: Sequence[str] = (),
    *,
    stderr: int | IO[Any] | None = None,
    cwd: str | None = None,
) -> Transport:
    return await open_pipes(command, list(args), env=None, cwd=cwd, stderr=stderr)


async def test_child_leads_its_own_session_and_process_group() -> None:
    t = await start(PY, ["-c", "import os; print(os.getpid(), os.getpgrp(), os.getsid(0))"])
    try:
        pid = t.get_extra_info("pid")
        assert (await read_all(t)).split() == [str(pid).encode()] * 3
        assert await t.wait() == 0
        assert t.exit_status == 0
        assert t.signal_status is None
    finally:
        await t.close()


async def test_extra_info() -> None:
    t = await start("cat")
    try:
        assert (t.kind, t.linesep) == ("pipes", "\n")
        assert t.get_extra_info("peer") == "cat"
        assert t.get_extra_info("command") == ("cat",)
        assert t.get_extra_info("fd", "none") == "none"
        assert t.canonical_line_limit() is None
        with pytest.raises(TypeError, match="pty, SSH or telnet"):
            t.set_winsize(10, 10)
    finally:
        await t.close()


async def test_stderr_is_merged_by_default() -> None:
    t = await start("sh", ["-c", "echo out; echo err >&2"])
    try:
        assert sorted((await read_all(t)).split()) == [b"err", b"out"]
    finally:
        await t.close()


async def test_stderr_can_go_elsewhere(tmp_path: Any) -> None:
    t = await start("sh", ["-c", "echo out; echo err >&2"], stderr=subprocess.DEVNULL)
    try:
        assert await read_all(t) == b"out\n"
    finally:
        await t.close()
    with open(tmp_path / "err.txt", "wb") as f:
        t = await start("sh", ["-c", "echo out; echo err >&2"], stderr=f)
        try:
            assert await read_all(t) == b"out\n"
            await t.wait()
        finally:
            await t.close()
    assert (tmp_path / "err.txt").read_bytes() == b"err\n"


async def test_bad_stderr_targets_are_refused() -> None:
    with pytest.raises(ValueError, match="never be read"):
        await start("true", stderr=subprocess.PIPE)
    with pytest.raises(TypeError, match="stderr"):
        await start("true", stderr="err.txt")  # type: ignore[arg-type]


async def test_write_eof_closes_stdin() -> None:
    t = await start("sort")
    try:
        await t.write(b"pear\napple\nfig\n")
        await t.write_eof()
        await t.write_eof()  # idempotent
        assert await read_all(t) == b"apple\nfig\npear\n"
        assert await t.read() == b""
        with pytest.raises(ClosedError, match="write_eof"):
            await t.write(b"more\n")
        assert await t.wait() == 0
    finally:
        await t.close()


async def test_send_interrupt_signals_the_process_group() -> None:
    t = await start("sh", ["-c", "echo ready; exec sleep 100"])
    assert isinstance(t, PipesTransport)
    try:
        await read_until(t, b"ready")
        await t.send_interrupt()
        assert await asyncio.wait_for(t.wait(), 10) is None
        assert t.signal_status == signal.SIGINT
        await wait_until(lambda: not t._child.signal_group(0), "the group is gone")
        with pytest.raises(ConnectionLostError, match="nothing to interrupt"):
            await t.send_interrupt()
    finally:
        await t.close()


async def test_writing_to_a_child_that_stopped_reading_fails_cleanly() -> None:
    t = await start("true")
    try:
        assert await t.wait() == 0
        assert await read_all(t) == b""
        with pytest.raises(ConnectionLostError):
            for _ in range(100):  # the broken pipe shows at the latest on a write
                await t.write(b"x" * 65536)
                await asyncio.sleep(0)
    finally:
        await t.close()


async def test_a_blocked_write_fails_when_the_transport_closes() -> None:
    t = await start("sh", ["-c", "echo ready; exec sleep 1000"])
    await read_until(t, b"ready")
    writer = asyncio.create_task(t.write(b"x" * (8 << 20)))
    done, _ = await asyncio.wait([writer], timeout=0.2)
    assert not done, "8 MB went into a pipe nobody reads"
    await t.close()
    with pytest.raises(ClosedError):
        await writer


async def test_reading_stops_at_the_high_water_mark() -> None:
    size = 8 * HIGH_WATER
    code = f"import sys; sys.stdout.buffer.write(b'z' * {size})"
    t = await start(PY, ["-c", code])
    assert isinstance(t, PipesTransport)
    try:
        await wait_until(lambda: t._inbox._paused, "reading pauses")
        assert t._inbox.buffered < 2 * HIGH_WATER
        assert t.exit_status is None, "the child finished although nobody read"
        received = 0
        while chunk := await t.read(50_000):
            received += len(chunk)
        assert received == size
        assert await t.wait() == 0
    finally:
        await t.close()


LIST_PIPE_ENDS = """
import fcntl, os
ends = set()
for name in os.listdir("/proc/self/fd"):
    try:
        st, mode = os.fstat(int(name)), fcntl.fcntl(int(name), fcntl.F_GETFL) & os.O_ACCMODE
    except OSError:
        continue  # the descriptor listdir itself used
    if st.st_ino == os.fstat(0).st_ino:
        ends.add("stdin:" + ("read" if mode == os.O_RDONLY else "write"))
    elif st.st_ino == os.fstat(1).st_ino:
        ends.add("stdout:" + ("read" if mode == os.O_RDONLY else "write"))
print(sorted(ends))
"""


async def test_the_child_holds_only_its_own_ends_of_the_pipes() -> None:
    """Our read end of stdout and write end of stdin stay ours: a child that
    held them would never see EOF on its stdin, nor we on its stdout."""
    t = await start(PY, ["-c", LIST_PIPE_ENDS])
    try:
        assert (await read_all(t)).strip() == b"['stdin:read', 'stdout:write']"
        assert await t.wait() == 0
    finally:
        await t.close()


async def test_the_child_gets_real_pipes_on_every_loop() -> None:
    """FIFOs, not sockets (libuv's choice for uvloop's own pipes): a script
    that writes to /dev/stdout fails on a socket ("No such device")."""
    script = "echo hi > /dev/stdout && [ -p /dev/stdin ] && [ -p /proc/self/fd/1 ] && echo fifos"
    t = await start("sh", ["-c", script])
    try:
        assert await read_all(t) == b"hi\nfifos\n"
        assert await t.wait() == 0
    finally:
        await t.close()


async def test_write_eof_waits_for_the_writes_queued_before_it() -> None:
    t = await start("wc", ["-c"])
    try:
        size = 4 << 20  # far more than a pipe holds: the writes must queue
        writes = [asyncio.create_task(t.write(b"x" * size)) for _ in range(3)]
        await asyncio.sleep(0)
        await t.write_eof()
        await asyncio.gather(*writes)
        assert int(await read_all(t)) == 3 * size
    finally:
        await t.close()


async def test_a_cancelled_write_eof_still_closes_stdin_after_the_writes() -> None:
    # Cancelled while the writes before it went out, it left stdin open for
    # ever, and every later write_eof() returned as if it had closed it:
    # the child never saw its end of input (wc waited, and so did we).
    t = await start("wc", ["-c"])
    try:
        size = 4 << 20  # far more than a pipe holds: the end of input waits
        writes = [asyncio.create_task(t.write(b"x" * size)) for _ in range(3)]
        await asyncio.sleep(0)
        ending = asyncio.create_task(t.write_eof())
        await asyncio.sleep(0)
        ending.cancel()
        await asyncio.wait([ending])
        assert ending.cancelled() and not all(w.done() for w in writes)
        await asyncio.gather(*writes)
        await t.write_eof()
        assert int(await asyncio.wait_for(read_all(t), 10)) == 3 * size
    finally:
        await t.close()


async def test_write_eof_to_a_child_that_closed_its_stdin_closes_it_and_returns() -> None:
    # Alive, but reading no more: its end of input is met, nothing is lost
    # (as Popen.communicate() has it).  It can still be interrupted.
    t = await start("sh", ["-c", "exec 0<&-; echo ready; exec sleep 100"])
    try:
        await read_until(t, b"ready")
        for _ in range(2):
            await t.write_eof()
        with pytest.raises(ClosedError, match="closed by write_eof"):
            await t.write(b"x\n")
        await t.send_interrupt()
        assert await asyncio.wait_for(t.wait(), 10) is None
        assert t.signal_status == signal.SIGINT
    finally:
        await t.close()


async def test_a_cancelled_write_still_writes_all_of_it_in_order() -> None:
    """The peer never gets half of a write: cancelled while the pipe is
    full, the rest is still written, before what is written next."""
    t = await start("sh", ["-c", "echo ready; kill -STOP $$; exec wc -c"])
    try:
        await read_until(t, b"ready")
        stat = Path(f"/proc/{t.get_extra_info('pid')}/stat")
        await wait_until(lambda: stat.read_text().rsplit(")", 1)[1].split()[0] == "T", "stop")
        size = 4 << 20
        with pytest.raises(TimeoutError):  # nobody reads until it is continued
            await asyncio.wait_for(t.write(b"x" * size), 0.05)
        os.kill(t.get_extra_info("pid"), signal.SIGCONT)
        await t.write(b"y")
        await t.write_eof()
        assert int(await read_all(t)) == size + 1
    finally:
        await t.close()
    t = await start("sh", ["-c", "echo ready; exec sleep 1000"])
    await read_until(t, b"ready")
    with pytest.raises(TimeoutError):  # nobody reads: it waits until the close
        await asyncio.wait_for(t.write(b"x" * (8 << 20)), 0.05)
    await t.close()
    with pytest.raises(ClosedError):
        await t.write(b"x")


async def test_output_written_just_before_exit_is_not_lost() -> None:
    t = await start(PY, ["-c", "import sys; sys.stdout.write('q' * 200000)"])
    try:
        assert await t.wait() == 0
        assert await read_all(t) == b"q" * 200000
    finally:
        await t.close()


async def test_close_hangs_up_the_group_and_is_idempotent() -> None:
    t = await start("cat")
    pending = asyncio.create_task(t.read())
    await asyncio.sleep(0)
    await asyncio.gather(t.close(), t.close())
    assert t.signal_status == signal.SIGHUP
    with pytest.raises(ClosedError):
        await pending
    with pytest.raises(ClosedError):
        await t.write_eof()
    with pytest.raises(ClosedError):
        await t.send_interrupt()


async def test_abort_and_a_dropped_transport() -> None:
    t = await start("cat")
    t.abort()
    assert t.closed
    assert await asyncio.wait_for(t.wait(), 5) is None
    assert t.signal_status == signal.SIGKILL
    await t.close()

    t = await start("cat")
    assert isinstance(t, PipesTransport)
    child = t._child
    with pytest.warns(ResourceWarning, match="unclosed"):
        del t
        gc.collect()
    assert await asyncio.wait_for(child.wait(), 5) is None
    assert child.signal_status == signal.SIGKILL


def set_last_pid(path: Path, pid: int) -> None:
    """The next process created gets ``pid + 1`` (unless another one wins)."""
    path.write_text(str(pid))


async def test_close_spares_a_process_that_reused_the_pid() -> None:
    """Closing long after the child ended must not signal a new process group
    that got the same id (pids wrap around at pid_max, often 32768)."""
    last_pid = Path("/proc/sys/kernel/ns_last_pid")
    if not os.access(last_pid, os.W_OK):
        pytest.skip("choosing a pid needs a writable /proc/sys/kernel/ns_last_pid (root)")
    t = await start("true")
    assert await t.wait() == 0
    pid = t.get_extra_info("pid")
    for _ in range(20):  # other processes on the machine may take the pid first
        set_last_pid(last_pid, pid - 1)
        other = await asyncio.create_subprocess_exec("sleep", "1000", start_new_session=True)
        if other.pid == pid:
            break
        other.kill()
        await other.wait()
    else:
        await t.close()
        pytest.skip("could not get the same pid again (busy machine)")
    try:
        await t.close()  # a SIGHUP to process group `pid` would hit `other`
        await t.close(force=True)
    finally:
        other.terminate()
        # SIGHUP, had it been sent, would be delivered before SIGTERM.
        assert await other.wait() == -signal.SIGTERM


@pytest.mark.parametrize(
    ("command", "cwd", "reason"),
    [
        ("no-such-command-xyz", None, "No such file"),
        ("/etc/passwd", None, "Permission denied"),
        ("true", "/no/such/dir", "does not exist"),
    ],
)
async def test_spawn_errors_name_the_command(command: str, cwd: str | None, reason: str) -> None:
    with pytest.raises(SpawnError, match=reason) as info:
        await start(command, cwd=cwd)
    assert info.value.command == command
    assert repr(command) in str(info.value)


def pipe_size(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)


def pipe_fill(fd: int) -> int:
    buf = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return buf[0]


WIDENED = 1 << 18
can_widen = pytest.mark.skipif(
    not hasattr(fcntl, "F_SETPIPE_SZ")
    or int(Path("/proc/sys/fs/pipe-max-size").read_text()) < WIDENED,
    reason="pipes cannot be widened here",
)
FLOOD = 1 << 20
FLOODER = (
    "import sys; sys.stdin.readline();"
    f" sys.stdout.buffer.write(bytes(range(256)) * {FLOOD // 256}); sys.stdin.read()"
)


def flooder() -> Opener:
    """A child that, when told, writes 1 MiB as fast as it can, then waits
    for the end of its input; the session takes 4 KiB at a time."""
    return aioexpect.spawn(PY, ["-c", FLOODER], pty=False, encoding=None, max_buffer=4096)


async def take_flood(s: aioexpect.Session) -> int:
    """Start the flood, let the child fill its pipe, read it all, and return
    the pipe's size then."""
    assert isinstance(s.transport, PipesTransport)
    fd = s.transport._rfd
    assert fd is not None and pipe_size(fd) == 1 << 16
    await s.sendline(b"go")
    # The session's buffer fills up and it stops reading; the child fills
    # the pipe and waits.
    await wait_until(lambda: pipe_fill(fd) == pipe_size(fd), "the pipe is full")
    received = b""
    while len(received) < FLOOD:
        received += await s.read_some()
    assert received == bytes(range(256)) * (FLOOD // 256)
    return pipe_size(fd)


@can_widen
async def test_a_pipe_the_child_keeps_full_is_widened_and_nothing_is_lost() -> None:
    """Once a wake-up finds a whole default pipe waiting, the child is
    writing faster than we take: its pipe gets room to write ahead."""
    async with flooder() as s:
        assert await take_flood(s) == WIDENED
        await s.sendeof()
        assert await s.wait() == 0


@can_widen
async def test_a_child_we_keep_up_with_keeps_its_pipe_size() -> None:
    async with aioexpect.spawn("cat", pty=False) as s:
        for i in range(50):
            await s.sendline(f"line {i} " + "x" * 1000)
            await s.expect_exact(f"line {i} ")
        assert isinstance(s.transport, PipesTransport) and s.transport._rfd is not None
        assert pipe_size(s.transport._rfd) == 1 << 16


@can_widen
async def test_only_so_many_pipes_are_wide_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's pipe quota is shared with every other program: past the
    process's limit a flood keeps its default pipe, and closing a session
    gives its wide pipe back."""
    monkeypatch.setattr(_local._wide, "limit", 1)
    async with flooder() as first:
        assert await take_flood(first) == WIDENED
        async with flooder() as second:
            assert await take_flood(second) == 1 << 16
    async with flooder() as third:
        assert await take_flood(third) == WIDENED
    assert _local._wide.taken == 0
