"""The pty adapter on real programs: session and controlling terminal, window
size, echo, EOF and interrupt characters, back-pressure, canonical-mode line
limit, closing, aborting and start-up failures."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Sequence

import pytest
import uvloop

import aioexpect
from aioexpect import ClosedError, ConnectionLostError, SpawnError
from aioexpect._inbox import HIGH_WATER
from aioexpect._pidfd import pidfd_works
from aioexpect._pty import CANONICAL_LINE_LIMIT, PtyTransport, open_pty
from aioexpect._transport import Transport

from .helpers import gone, read_all, read_until, wait_until

PY = sys.executable


async def start(
    command: str,
    args: Sequence[str] = (),
    *,
    echo: bool = False,
    dimensions: tuple[int, int] = (24, 80),
    cwd: str | None = None,
) -> Transport:
    return await open_pty(command, list(args), env=None, cwd=cwd, echo=echo, dimensions=dimensions)


async def test_child_leads_a_session_with_the_pty_as_controlling_terminal() -> None:
    code = (
        "import os; fd = os.open('/dev/tty', os.O_RDWR);"
        "print(os.getpid(), os.getpgrp(), os.getsid(0), os.tcgetpgrp(0), os.isatty(1))"
    )
    t = await start(PY, ["-c", code])
    try:
        out = (await read_all(t)).split()
        pid = t.get_extra_info("pid")
        assert out == [str(pid).encode()] * 4 + [b"True"], out
        assert await t.wait() == 0
    finally:
        await t.close()


async def test_extra_info_and_repr() -> None:
    t = await start("cat", ["-u"])
    try:
        assert t.kind == "pty"
        assert t.linesep == "\n"
        assert t.get_extra_info("peer") == "cat -u"
        assert t.get_extra_info("command") == ("cat", "-u")
        assert isinstance(t.get_extra_info("pid"), int)
        fd = t.get_extra_info("fd")
        assert isinstance(fd, int) and os.isatty(fd)
        assert "cat -u" in repr(t)
        assert t.get_extra_info("nope", 5) == 5
    finally:
        await t.close()
    assert t.get_extra_info("fd") is None


async def test_dimensions_and_set_winsize_reach_the_child() -> None:
    t = await start("sh", ["-c", "stty size; read x; stty size"], dimensions=(33, 101))
    try:
        assert b"33 101" in await read_until(t, b"33 101")
        t.set_winsize(50, 132)
        await t.write(b"\n")
        assert b"50 132" in await read_until(t, b"50 132")
    finally:
        await t.close()


async def test_echo_flag() -> None:
    for echo, copies in ((True, 2), (False, 1)):
        t = await start("cat", echo=echo)
        try:
            await t.write(b"hello\n")
            await t.write_eof()
            assert (await read_all(t)).count(b"hello") == copies, echo
        finally:
            await t.close()


async def test_output_left_in_the_pty_at_exit_arrives_before_eof() -> None:
    # 3000 bytes fit in the pty, so the child exits before anything is read.
    t = await start(PY, ["-c", "import sys; sys.stdout.write('x' * 3000 + 'END')"])
    try:
        assert await t.wait() == 0
        assert await read_all(t) == b"x" * 3000 + b"END"
        assert await t.read() == b""
        assert await t.read() == b""
        with pytest.raises(ConnectionLostError):
            await t.write(b"too late\n")
    finally:
        await t.close()


#: Starts a job that holds the terminal (in a process group of its own, so
#: the hang-up at the child's exit misses it), writes "<its pid>:" and "y"s,
#: argv[1] bytes in all, and exits 7 (at once: Python would warn on the
#: terminal of a child still running).
_LEAVES_A_JOB = """
import os, subprocess, sys
job = subprocess.Popen(["sleep", "1000"], process_group=0)
head = b"%d:" % job.pid
sys.stdout.buffer.write(head + b"y" * (int(sys.argv[1]) - len(head)))
sys.stdout.flush()
os._exit(7)
"""


#: Past the high water mark, what a pty holds unread for certain: a cooked
#: one nobody reads takes 12 to 14.5 KiB here, less under load (its
#: buffers are counted in rounded pieces), and 8 KiB, once, did not fit:
#: the child never exited.
_REST = 4096


@pytest.mark.parametrize(
    "size", [HIGH_WATER, HIGH_WATER + _REST], ids=["read-to-the-end", "rest-in-the-pty"]
)
async def test_exit_is_eof_after_all_the_output_though_a_job_holds_the_terminal(
    size: int,
) -> None:
    """The master reports EIO only once every process closed the terminal,
    which a job the child left may never do.  The child's exit is the end of
    file once everything it wrote was read, also when reading was paused at
    the high water mark as it exited: with the rest in the pty, or read to
    its last byte (the master, empty, never turns readable again)."""
    t = await start(PY, ["-c", _LEAVES_A_JOB, str(size)])
    job = 0
    try:
        # (bounded here: pytest-timeout's signal did not stop a wait in epoll
        # on the floors' uvloop 0.17, and CI waited for its own time-out)
        assert await asyncio.wait_for(t.wait(), 30) == 7  # reading paused
        data = await asyncio.wait_for(read_all(t), 10)  # (the end came with the job's)
        head, _, rest = data.partition(b":")
        job = int(head)
        assert len(data) == size and rest == b"y" * len(rest)
        assert await t.read() == b""
        assert not gone(job)  # the end of file did not wait for it
    finally:
        await t.close()
    assert gone(job)  # close() still hangs up the jobs left in the session


async def test_pushed_exit_is_eof_when_receiving_resumes_with_nothing_left() -> None:
    """Push delivery stopped (the receiver is full) after the child's last
    byte, and the child exits: resuming is the end of file, though the
    master, empty, never turns readable."""
    code = _LEAVES_A_JOB.replace("os._exit(7)", "sys.stdin.readline(); os._exit(7)")
    t = await start(PY, ["-c", code, "3000"])  # (no echo: nothing comes back)
    received, arrived = bytearray(), asyncio.Event()
    ended: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    def on_data(data: bytes | memoryview) -> bool:
        received.extend(data)
        arrived.set()
        return False  # stop after each wake-up

    job = 0
    try:
        assert t.start_receiving(on_data, ended.set_result)
        while True:  # each wake-up stops the reading: resume until all came
            await asyncio.wait_for(arrived.wait(), 10)
            arrived.clear()
            if len(received) == 3000:
                break
            t.resume_receiving()
        job = int(received.partition(b":")[0])
        await t.write(b"exit\n")
        assert await t.wait() == 7
        t.resume_receiving()
        assert await asyncio.wait_for(ended, 10) is None
        assert len(received) == 3000
    finally:
        await t.close()
    assert gone(job)


@pytest.mark.parametrize(
    "script",
    [
        "echo bye; exec >&- 2>&- <&-; sleep 30",  # closes its terminal, lives on
        "sleep 30 >/dev/null 2>&1 </dev/null & echo bye; exit 0",  # leaves a daemon
    ],
    ids=["closes", "daemon"],
)
async def test_eof_comes_when_no_process_holds_the_terminal(script: str) -> None:
    """The child holds its terminal on 0, 1 and 2 only (no stray copies, on
    either loop), so closing them, or exiting, is EOF at once."""
    async with aioexpect.spawn("sh", ["-c", script], timeout=5) as s:
        assert (await s.expect(aioexpect.EOF)).before == "bye\r\n"


async def test_reading_stops_at_the_high_water_mark() -> None:
    size = 8 * HIGH_WATER
    code = f"import sys; sys.stdout.buffer.write(b'y' * {size}); sys.stdout.flush()"
    t = await start(PY, ["-c", code])
    assert isinstance(t, PtyTransport)
    try:
        await wait_until(lambda: not t._reading, "reading pauses")
        assert t._inbox.buffered < HIGH_WATER + (1 << 16)
        assert t.exit_status is None, "the child finished although nobody read"
        received = 0
        while chunk := await t.read(10_000):
            assert len(chunk) <= 10_000
            received += len(chunk)
        assert received == size
        assert await t.wait() == 0
    finally:
        await t.close()


_RAW_COUNTER = """
import os, sys, tty
tty.setraw(0)
os.write(1, b"ready\\n")
total, got = int(sys.argv[1]), bytearray()
while len(got) < total:
    got += os.read(0, 1 << 16)
os.write(1, b"%d %d %d\\n" % (got.index(b"b"), got.count(b"a"), len(got)))
"""


async def test_a_write_queued_behind_a_blocked_one_follows_it() -> None:
    big, small = 1 << 20, 1000
    t = await start(PY, ["-c", _RAW_COUNTER, str(big + small)])
    try:
        await read_until(t, b"ready\n")
        first = asyncio.create_task(t.write(b"a" * big))
        await asyncio.sleep(0)  # it wrote what fit and now waits for the rest
        assert not first.done(), "1 MB fit into the pty at once"
        await t.write(b"b" * small)
        await first
        report = await read_until(t, b"\n")
        assert report.split()[-3:] == [str(big).encode(), str(big).encode(), b"%d" % (big + small)]
    finally:
        await t.close()


async def test_a_blocked_write_fails_when_the_child_dies() -> None:
    t = await start("sh", ["-c", "echo ready; exec sleep 1000"])
    try:
        await read_until(t, b"ready")
        writer = asyncio.create_task(t.write((b"x" * 99 + b"\n") * 10_000))
        done, _ = await asyncio.wait([writer], timeout=0.2)
        assert not done, "1 MB went into a pty nobody reads"
        os.killpg(t.get_extra_info("pid"), signal.SIGKILL)
        # Both are true here; which one is said depends on whether the
        # child's exit or the terminal's hang-up was heard first.
        with pytest.raises(ConnectionLostError, match=r"closed its terminal|exited"):
            await asyncio.wait_for(writer, 10)
    finally:
        await t.close()


async def test_a_blocked_write_fails_when_the_transport_closes() -> None:
    t = await start("sh", ["-c", "echo ready; exec sleep 1000"])
    await read_until(t, b"ready")
    writer = asyncio.create_task(t.write((b"x" * 99 + b"\n") * 10_000))
    done, _ = await asyncio.wait([writer], timeout=0.2)
    assert not done
    await t.close()
    with pytest.raises(ClosedError):
        await writer


@pytest.mark.parametrize(
    "eof",
    [
        "^B",
        # Linux disables a character at 0 only: 0xff is one (^D was sent).
        pytest.param(
            "\"$(printf '\\377')\"",
            marks=pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's only"),
        ),
    ],
)
async def test_write_eof_sends_the_terminals_eof_character(eof: str) -> None:
    # With VEOF moved to Ctrl-B, a Ctrl-D would not end cat's input.
    t = await start("sh", ["-c", f"stty eof {eof}; echo ready; exec cat"])
    try:
        await read_until(t, b"ready")
        await t.write(b"line\n")
        await t.write_eof()
        assert (await read_all(t)).strip() == b"line"
        assert await t.wait() == 0
    finally:
        await t.close()


async def test_send_interrupt_sends_the_interrupt_character() -> None:
    t = await start("sh", ["-c", "echo ready; exec sleep 100"])
    try:
        await read_until(t, b"ready")
        await t.send_interrupt()
        assert await asyncio.wait_for(t.wait(), 10) is None
        assert t.signal_status == signal.SIGINT
    finally:
        await t.close()


async def test_canonical_line_limit_follows_the_terminal_mode() -> None:
    t = await start("sh", ["-c", "read x; stty raw; echo raw-now; read x"])
    try:
        assert t.canonical_line_limit() == CANONICAL_LINE_LIMIT
        await t.write(b"\n")
        await read_until(t, b"raw-now")
        assert t.canonical_line_limit() is None
    finally:
        await t.close()
    assert t.canonical_line_limit() is None


A, B = "a" * 3000, "b" * 3000


@pytest.mark.parametrize(
    ("stty", "sends", "refused", "arrives"),
    [
        ("-icrnl", [A + "\r" + B + "\n"], True, 0),  # \r is one byte of the line
        ("-icrnl", ["a" * 200 + "\r", "b" * 3950 + "\n"], True, 201),  # short sends too
        ("igncr", [A + "\r" + B + "\n"], True, 0),  # \r is thrown away
        ("igncr", ["a" * 4095 + "\r\n"], False, 4096),  # ... and not counted
        ("inlcr", [A + "\n" + B + "\n"], True, 0),  # \n becomes \r, no line end
        ("-icrnl eol ^B", [A + "\x02" + B + "\n"], False, 6002),
        ("sane", [A + "\x16\n" + B + "\n"], True, 0),  # ^V: the next byte is data
        ("sane", [A + "\x15" + B + "\n"], False, 3001),  # ^U: the line so far is gone
        ("kill ^B", [A, "^U", B + "\n"], True, 3001),  # ^U is data then
        ("-isig", [A, "^C", B + "\n"], True, 3001),  # ^C too
    ],
)
async def test_a_line_is_counted_by_the_line_ends_of_the_terminal(
    stty: str, sends: list[str], refused: bool, arrives: int
) -> None:
    """The canonical-mode limit applies to the lines the terminal makes: what
    the child reads is whole, or the send is refused before anything of it
    goes (a line cut short in the kernel loses bytes silently)."""
    script = f"stty {stty} -echo; echo ready; exec wc -c"
    async with aioexpect.spawn("sh", ["-c", script], timeout=10) as s:
        await s.expect("ready")
        for data in sends[:-1]:
            await (s.sendcontrol(data[1]) if data.startswith("^") else s.send(data))
        if refused:
            with pytest.raises(ValueError, match="canonical-mode limit of 4095"):
                await s.send(sends[-1])
            if arrives:  # (hands over the line the refused send found)
                await s.sendeof()
        else:
            await s.send(sends[-1])
        await s.sendeof()
        assert (await s.read_all()).split() == [str(arrives)]


#: A child that says how many bytes it has read, after each read.
COUNTER = (
    "import os\nn = 0\nwhile True:\n    n += len(os.read(0, 65536))\n    print(n, flush=True)\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's n_tty rules")
@pytest.mark.parametrize(
    ("stty", "encoding", "refused", "sent", "arrives"),
    [
        # No byte ends a line: the kernel keeps 4096 bytes of what comes
        # before the program first reads, and drops the rest.
        ("extproc", "utf-8", A + "\n" + B + "\n", "a" * 4000 + "\n", 4001),
        # 0xff is stored twice (\377\377): 2048 of them and the line end
        # would need 4097 bytes, the last 0xff lost its pair.
        ("parmrk -istrip", "latin-1", "\xff" * 2048 + "\n", "\xff" * 2047 + "\n", 4095),
    ],
    ids=["extproc", "parmrk"],
)
async def test_a_line_is_counted_as_the_terminal_stores_it(
    stty: str, encoding: str, refused: str, sent: str, arrives: int
) -> None:
    """Under ``stty extproc`` and ``parmrk`` the line a send makes took more
    of the kernel's buffer than its bytes counted as lines: it was accepted
    and reached the child cut."""
    script = f'stty {stty} -echo; echo ready; exec "$PY" -c "$COUNTER"'
    env = {"PY": PY, "COUNTER": COUNTER, "PATH": os.environ["PATH"]}
    async with aioexpect.spawn("sh", ["-c", script], env=env, encoding=encoding, timeout=10) as s:
        await s.expect("ready")
        with pytest.raises(ValueError, match="canonical-mode limit of 4095"):
            await s.send(refused)
        await s.send(sent)  # (nothing of the refused one went before it)
        await s.expect(f"(?m)^{arrives}\r$")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's disabled character")
async def test_a_line_end_at_0xff_ends_a_line_on_linux() -> None:
    """Linux disables a special character at 0 only (the BSDs at 0xff): an
    end of line at 0xff was taken for none, and the line it ended was
    refused as too long."""
    script = """stty eol "$(printf '\\377')" -echo; echo ready; exec wc -c"""
    async with aioexpect.spawn("sh", ["-c", script], encoding="latin-1", timeout=10) as s:
        await s.expect("ready")
        await s.send(A + "\xff" + B + "\n")
        await s.sendeof()
        assert (await s.read_all()).split() == ["6002"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's n_tty limit")
@pytest.mark.parametrize(("length", "arrives"), [(4094, 4095), (4095, 4096), (4096, 4096)])
async def test_linux_canonical_mode_truncates_past_4095_bytes(length: int, arrives: int) -> None:
    """Why CANONICAL_LINE_LIMIT is 4095: longer lines lose bytes silently."""
    code = "import sys; print(len(sys.stdin.buffer.readline()))"
    t = await start(PY, ["-c", code])
    try:
        await t.write(b"a" * length + b"\n")
        assert (await read_all(t)).strip() == str(arrives).encode()
    finally:
        await t.close()


async def test_close_hangs_up_the_child() -> None:
    t = await start("cat")
    await t.close()
    assert t.closed
    assert t.signal_status == signal.SIGHUP
    with pytest.raises(ClosedError):
        await t.read()
    with pytest.raises(ClosedError):
        t.set_winsize(10, 10)


async def test_cancelled_close_still_kills_the_child() -> None:
    t = await start("sh", ["-c", "trap '' HUP; echo ready; while :; do sleep 1; done"])
    await read_until(t, b"ready")
    closing = asyncio.create_task(t.close())
    await wait_until(lambda: t.closed, "close started")
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    # Reaped by then: a loop ended right after the cancellation (asyncio.run
    # after Ctrl-C) left a zombie and "subprocess N is still running".
    assert t.signal_status == signal.SIGKILL
    # SIGKILL went out when the cancellation arrived, not after the grace.
    assert await asyncio.wait_for(t.wait(), 0.9) is None
    assert t.signal_status == signal.SIGKILL
    await t.close()


async def test_second_close_with_force_cuts_the_grace_short() -> None:
    t = await start("sh", ["-c", "trap '' HUP; echo ready; while :; do sleep 1; done"])
    await read_until(t, b"ready")
    loop = asyncio.get_running_loop()
    began = loop.time()
    gentle = asyncio.create_task(t.close())
    await wait_until(lambda: t.closed, "close started")
    await t.close(force=True)
    await gentle
    assert loop.time() - began < 0.9
    assert t.signal_status == signal.SIGKILL


async def test_abort_kills_at_once_and_releases_the_descriptor() -> None:
    t = await start("sh", ["-c", "trap '' HUP; echo ready; while :; do sleep 1; done"])
    await read_until(t, b"ready")
    fd = t.get_extra_info("fd")
    t.abort()
    t.abort()
    assert t.closed
    with pytest.raises(OSError):
        os.fstat(fd)
    assert await asyncio.wait_for(t.wait(), 5) is None
    assert t.signal_status == signal.SIGKILL
    await t.close()


@pytest.mark.loop("asyncio")  # uvloop reaps through libuv
async def test_on_asyncio_linux_a_child_is_reaped_without_a_watcher_thread() -> None:
    if not hasattr(os, "pidfd_open"):
        pytest.skip("no pidfd here: the loop's child watcher reaps")
    threads = threading.active_count()
    t = await start("sh", ["-c", "read line; exit 7"])
    try:
        assert threading.active_count() == threads
        await t.write(b"go\n")
        assert await asyncio.wait_for(t.wait(), 10) == 7
        assert t.signal_status is None
    finally:
        await t.close()


async def test_dropped_transport_warns_and_kills_its_child() -> None:
    t = await start("cat")
    assert isinstance(t, PtyTransport)
    child = t._child  # waiting through t would keep it alive
    with pytest.warns(ResourceWarning, match="unclosed"):
        del t
        gc.collect()
    assert await asyncio.wait_for(child.wait(), 5) is None
    assert child.signal_status == signal.SIGKILL


@pytest.mark.parametrize(
    ("command", "cwd", "reason"),
    [
        ("no-such-command-xyz", None, "No such file"),
        ("/etc/passwd", None, "Permission denied"),
        ("/", None, "Permission denied"),
        ("true", "/no/such/dir", "does not exist"),
    ],
)
async def test_spawn_errors_name_the_command(command: str, cwd: str | None, reason: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SpawnError, match=reason) as info:
            await start(command, cwd=cwd)
    assert info.value.command == command
    assert repr(command) in str(info.value)


async def test_push_delivery_holds_back_at_max_buffer_and_loses_nothing() -> None:
    """Over a pty the session is fed by push delivery: when max_buffer is
    reached the adapter stops reading (the child blocks) and resumes as the
    reader consumes; every line arrives once, in order."""
    count = 20_000
    async with aioexpect.spawn("seq", ["1", str(count)], max_buffer=4096, timeout=30) as s:
        assert s._pump_task is None, "the pty adapter should push"
        with pytest.raises(aioexpect.BufferFull):
            await s.expect("never")
        assert len(s.buffer) == 4096
        text = ""
        while True:
            m = await s.expect([aioexpect.FULL_BUFFER, aioexpect.EOF])
            text += m.before
            if m.index == 1:
                break
    assert text.split() == [str(i) for i in range(1, count + 1)]


@pytest.mark.parametrize("pty", [True, False], ids=["pty", "pipes"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
async def test_push_delivery_fills_max_buffer_with_multibyte_text(pty, encoding) -> None:
    """Room is counted in characters: text of two or more bytes a character
    still fills the buffer to max_buffer (FULL_BUFFER), never stalls short."""
    text = "é" * 300 + "END"
    code = f"import sys; sys.stdout.buffer.write({text.encode(encoding)!r})"
    async with aioexpect.spawn(
        sys.executable, ["-c", code], pty=pty, max_buffer=100, encoding=encoding, timeout=10
    ) as s:
        got = ""
        while True:
            m = await s.expect(["END", aioexpect.FULL_BUFFER])
            got += m.before + m.after
            if m.index == 0:
                break
            assert len(m.before) == 100
    assert got == text


async def _cat_exactly(path: str, expected: str) -> None:
    async with aioexpect.spawn("cat", [path], max_buffer=None, timeout=30) as s:
        got = (await s.read_all()).replace("\r\n", "\n")
    assert got == expected


async def test_concurrent_floods_keep_their_own_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The push read buffer is shared by the transports of a thread (and
    each thread has its own): floods at once on one loop, and on loops in
    two threads, each arrive byte for byte."""
    texts = {}
    for name in "abcd":
        lines = [f"{name}-{i:06d} {'x' * (i % 50)}" for i in range(20_000)]
        texts[name] = "\n".join(lines) + "\n"
        (tmp_path / name).write_text(texts[name])
    paths = {name: str(tmp_path / name) for name in texts}
    await asyncio.gather(*(_cat_exactly(paths[n], texts[n]) for n in "ab"))

    errors: list[BaseException] = []

    def other_thread() -> None:
        async def both() -> None:
            await asyncio.gather(*(_cat_exactly(paths[n], texts[n]) for n in "cd"))

        try:
            asyncio.run(both())
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    await asyncio.gather(*(_cat_exactly(paths[n], texts[n]) for n in "ab"))
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert not errors, errors


# What another thread does while a spawn in thread ``forker`` forks: ``go``
# is set, then the fork waits for ``done`` (at most ``wait`` seconds).  Hooks
# of os.register_at_fork cannot be removed, so one hook serves every test.
_during_fork: list[tuple[int, threading.Event, threading.Event, float]] = []


def _before_fork() -> None:
    if _during_fork and _during_fork[-1][0] == threading.get_ident():
        _, go, done, wait = _during_fork.pop()
        go.set()
        done.wait(wait)


os.register_at_fork(before=_before_fork)


async def test_a_fork_in_another_thread_during_a_spawn_leaves_its_terminal_alone() -> None:
    """uvloop runs a spawn's pre-exec step from a process-wide fork hook,
    which also fires in a child that another thread forks meanwhile (uvloop
    runs Python fork hooks after arming it).  That stray child must not take
    the new pty as its controlling terminal: while it lived, the real child
    failed to take it (EPERM, seen in CI)."""
    go, forked = threading.Event(), threading.Event()
    stray: list[subprocess.Popen[bytes]] = []

    def other_thread() -> None:
        if go.wait(10):
            # a real fork() (a preexec_fn rules out vfork), still alive while
            # the spawn goes on
            stray.append(subprocess.Popen(["sleep", "30"], preexec_fn=lambda: None))  # noqa: PLW1509
        forked.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    _during_fork.append((threading.get_ident(), go, forked, 10))
    try:
        code = "import os; os.open('/dev/tty', os.O_RDWR); print(os.getsid(0))"
        t = await start(PY, ["-c", code])
        try:
            assert (await read_all(t)).split() == [str(t.get_extra_info("pid")).encode()]
            assert await t.wait() == 0
        finally:
            await t.close()
    finally:
        _during_fork.clear()
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
        for proc in stray:
            proc.kill()
            proc.wait()
    assert go.is_set() and stray, "the other thread did not fork during the spawn"


async def test_spawns_in_two_threads_take_turns() -> None:
    """uvloop refuses to start a process while a loop in another thread is
    forking ("Racing with another loop", leaking three descriptors).  A spawn
    that another thread's uvloop loop makes while this one forks waits for
    its turn and succeeds."""
    go, done = threading.Event(), threading.Event()
    outcome: list[object] = []

    async def spawn_one(word: str) -> str:
        async with aioexpect.spawn("echo", [word], timeout=10) as s:
            return str(await s.read_all()).strip()

    def other_thread() -> None:
        if go.wait(10):
            try:
                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    outcome.append(runner.run(spawn_one("other")))
            except Exception as exc:  # reported below
                outcome.append(exc)
        done.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    # Taking turns, the other spawn waits for this fork: the hook's wait ends
    # by its bound; without turns the other spawn fails at once.
    _during_fork.append((threading.get_ident(), go, done, 0.5))
    try:
        assert await spawn_one("main") == "main"
    finally:
        _during_fork.clear()
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert go.is_set() and outcome == ["other"], outcome


def _ttys() -> set[int]:
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{name}").startswith("/dev/pts/"):
                fds.add(int(name))
    return fds


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists descriptors in /proc")
async def test_a_race_with_a_foreign_uvloop_spawn() -> None:
    """A uvloop loop in another thread that starts a process by itself (not
    through aioexpect) at the moment a spawn begins: with pidfds aioexpect
    starts the child itself and is not disturbed; without, uvloop refuses
    the spawn, and that is a SpawnError that says so, not uvloop's
    RuntimeError."""
    go, done = threading.Event(), threading.Event()
    before = _ttys()
    errors: list[BaseException] = []

    def foreign() -> None:
        async def start_true() -> None:
            proc = await asyncio.create_subprocess_exec("true")
            await proc.wait()

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            _during_fork.append((threading.get_ident(), go, done, 10))
            runner.run(start_true())

    def ours() -> None:
        try:
            if go.wait(10):
                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    runner.run(_cat_exactly("/dev/null", ""))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            done.set()

    threads = [threading.Thread(target=foreign), threading.Thread(target=ours)]
    for thread in threads:
        thread.start()
    for thread in threads:
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
    _during_fork.clear()
    for fd in _ttys() - before:  # uvloop leaves its copies of the pty open when it refuses
        os.close(fd)
    if pidfd_works():
        assert errors == []
        return
    assert len(errors) == 1 and isinstance(errors[0], SpawnError), errors
    assert "another thread" in str(errors[0]) and errors[0].command == "cat"
