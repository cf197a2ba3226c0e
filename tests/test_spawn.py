"""Sessions on local children through the public API (``aioexpect.spawn``):
real shells and REPLs on a pty, filters over pipes, exit and signal status,
closing (SIGHUP, grace, SIGKILL, grandchildren), the canonical line limit,
and dropped sessions."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import logging
import os
import random
import re
import shutil
import signal
import string
import sys
from pathlib import Path

import pytest

import aioexpect
from aioexpect import EOF, FULL_BUFFER, ExpectEOF, SpawnError, _child
from aioexpect.testing import memory_pair
from aioexpect.testing._subchecks import _finish, _StallMeter
from tests.helpers import gone, wait_until

BASH_ARGS = ["--norc", "--noprofile"]
PROMPT = r"PROMPT\$ "
ENV = {**os.environ, "PS1": "PROMPT$ ", "TERM": "dumb"}
HUP_IGNORING = "trap '' HUP; sleep 1000 & echo kid $!; sleep 1000 & echo kid $!; echo ready; wait"

both_modes = pytest.mark.parametrize("pty", [True, False], ids=["pty", "pipes"])


class StallMeter(_StallMeter):
    """The longest gap between event-loop turns while active (the meter the
    conformance check uses for close())."""

    async def stop(self) -> float:
        await _finish(self.task, "the stall meter")
        return self.worst


async def test_bash_computes_and_sees_window_size_changes() -> None:
    async with aioexpect.spawn("bash", BASH_ARGS, env=ENV, dimensions=(30, 90), timeout=10) as s:
        await s.expect(PROMPT)
        await s.sendline("echo $((6 * 7)); stty size")
        m = await s.expect(PROMPT)
        assert "42\r\n30 90\r\n" in m.before
        s.set_winsize(45, 132)  # bash redraws its prompt on SIGWINCH
        await s.sendline("stty size")
        await s.expect(r"\r\n45 132\r\n")
        await s.expect(PROMPT)
        await s.sendline("exit 7")
        await s.expect(EOF)
        assert await s.wait() == 7
        assert s.exit_status == 7


async def test_python_repl() -> None:
    plain = {**os.environ, "PYTHON_BASIC_REPL": "1"}  # (3.13's REPL redraws its line)
    async with aioexpect.spawn(sys.executable, ["-i", "-q"], env=plain, timeout=10) as s:
        await s.expect(">>> ")
        await s.sendline("sum(range(10)) * 3")
        m = await s.expect(">>> ")
        assert m.before.splitlines()[-1] == "135"
        await s.sendeof()
        await s.read_all()
        assert await s.wait() == 0


async def test_cat_on_a_pty_echoes_and_repeats() -> None:
    async with aioexpect.spawn("cat", timeout=10) as s:
        await s.sendline("hello")
        m = await s.expect(r"hello\r\nhello\r\n")
        assert m.before == ""


@pytest.mark.parametrize(("echo", "copies"), [(True, 2), (False, 1)])
async def test_echo_option(echo: bool, copies: int) -> None:
    async with aioexpect.spawn("cat", echo=echo, timeout=10) as s:
        await s.sendline("only once?")
        await s.sendeof()
        assert (await s.read_all()).count("only once?") == copies


async def test_sort_over_pipes() -> None:
    async with aioexpect.spawn("sort", pty=False, timeout=10) as s:
        for word in ("pear", "apple", "fig"):
            await s.sendline(word)
        await s.sendeof()
        assert await s.read_all() == "apple\nfig\npear\n"
        assert await s.wait() == 0


async def test_env_and_cwd(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "GREETING": "hi there"}
    async with aioexpect.spawn(
        "sh", ["-c", 'echo "$GREETING"; pwd'], pty=False, env=env, cwd=tmp_path, timeout=10
    ) as s:
        assert await s.read_all() == f"hi there\n{tmp_path}\n"


@both_modes
async def test_child_exit_is_eof_not_a_timeout(pty: bool) -> None:
    async with aioexpect.spawn("sh", ["-c", "echo bye"], pty=pty, timeout=60) as s:
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(ExpectEOF) as info:
            await s.expect("never printed")
        assert loop.time() - began < 10
        assert "bye" in info.value.before


#: Interactive shells that leave their background jobs running as they exit.
job_leaving_shells = pytest.mark.parametrize(
    "shell", [["bash", *BASH_ARGS, "-i"], ["dash", "-i"]], ids=["bash", "dash"]
)


@job_leaving_shells
async def test_a_shell_that_exited_is_eof_though_its_job_holds_the_terminal(
    shell: list[str],
) -> None:
    """The terminal reports its end only once every process closed it, and
    the job may never: the shell's exit is the end of file (the outer limit
    is far below the session's timeout, which the end came at)."""
    if shutil.which(shell[0]) is None:
        pytest.skip(f"{shell[0]} is not installed")
    async with aioexpect.spawn(shell[0], shell[1:], timeout=60) as s:
        await s.set_unique_prompt()
        job = int((await s.execute("sleep 1000 & echo $!")).split()[-1])
        await s.sendline("exit 3")
        await asyncio.wait_for(s.expect(EOF), 10)
        assert s.exit_status == 3  # (the end came with the exit)
        assert not gone(job)
        with pytest.raises(aioexpect.ConnectionLostError, match=r"exited$"):
            await s.sendline("echo too late")  # (not "closed its terminal": the job holds it)
    assert gone(job)  # close() hangs up the jobs the shell left


@pytest.mark.parametrize("job", [None, "sleep 1000 &"], ids=["alone", "with-a-job"])
async def test_execute_exit_is_expect_eof_with_or_without_a_job(job: str | None) -> None:
    async with aioexpect.spawn("bash", [*BASH_ARGS, "-i"], env=ENV, timeout=60) as s:
        await s.set_unique_prompt()
        if job is not None:
            await s.execute(job)
        with pytest.raises(ExpectEOF):
            await asyncio.wait_for(s.execute("exit 3"), 10)
        assert await s.wait() == 3


#: Leaves a job holding the terminal (a process group of its own: the
#: hang-up at the shell's exit misses it), writes its pid, the size given
#: in "x"s and END, and exits 7.
LEAVES_A_JOB = "set -m; sleep 1000 & echo $!; head -c $0 /dev/zero | tr '\\0' x; echo END; exit 7"


async def test_the_output_before_the_exit_is_all_read_though_a_job_holds_the_terminal() -> None:
    size = 65536
    async with aioexpect.spawn("sh", ["-c", LEAVES_A_JOB, str(size)], timeout=60) as s:
        out = await asyncio.wait_for(s.read_all(), 10)
        job, _, rest = out.partition("\r\n")
        assert rest == "x" * size + "END\r\n"
        assert s.exit_status == 7
        assert not gone(int(job))
    assert gone(int(job))


async def test_the_output_held_back_at_max_buffer_is_all_read_after_the_exit() -> None:
    """Reading pauses at max_buffer while the child exits; what it wrote
    (8 KiB: the pty holds it all, so it can exit) is read piece by piece,
    then the end of file comes."""
    size = 8192
    spawning = aioexpect.spawn("sh", ["-c", LEAVES_A_JOB, str(size)], max_buffer=1000, timeout=60)
    async with spawning as s:
        assert await s.wait() == 7
        out = ""
        while True:
            m = await asyncio.wait_for(s.expect([FULL_BUFFER, EOF]), 10)
            out += m.before
            if m.index == 1:
                break
        job, _, rest = out.partition("\r\n")
        assert rest == "x" * size + "END\r\n"
        assert not gone(int(job))
    assert gone(int(job))


async def test_over_pipes_the_end_waits_for_every_holder_of_the_output() -> None:
    """Not so over pipes: a pipe held by a job is ordinary subprocess
    behaviour, documented (and close() ends the job)."""
    script = "sleep 1000 & echo $!; echo END; exit 7"
    async with aioexpect.spawn("sh", ["-c", script], pty=False, timeout=60) as s:
        job = int((await s.expect("END\n")).before.split()[0])
        assert await s.wait() == 7
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.expect(EOF, timeout=0)
    assert gone(job)


@both_modes
async def test_exit_and_signal_status(pty: bool) -> None:
    async with aioexpect.spawn("sh", ["-c", "exit 3"], pty=pty, timeout=10) as s:
        assert await s.wait() == 3
        assert (s.exit_status, s.signal_status) == (3, None)
    async with aioexpect.spawn("sh", ["-c", "kill -TERM $$"], pty=pty, timeout=10) as s:
        assert await s.wait() is None
        assert (s.exit_status, s.signal_status) == (None, signal.SIGTERM)


@both_modes
async def test_wait_has_a_deadline_and_says_when_unread_output_blocks_the_child(pty: bool) -> None:
    # wait() had none: it waited for ever, also for a child blocked writing
    # output nobody read (reading pauses at max_buffer): a deadlock.
    async with aioexpect.spawn("sh", ["-c", "sleep 0.5; exit 4"], pty=pty, timeout=0.05) as s:
        with pytest.raises(aioexpect.ExpectTimeout, match=r"timed out waiting for .* to end;"):
            await s.wait()
        assert await s.wait(timeout=None) == 4
    script = "import sys; sys.stdout.write('x' * 3000000); sys.stdout.flush()"
    async with aioexpect.spawn(
        sys.executable, ["-c", script], pty=pty, max_buffer=10000, timeout=0.5
    ) as s:
        with pytest.raises(aioexpect.ExpectTimeout, match="filled max_buffer") as info:
            await s.wait()
        assert info.value.before == "x" * 10000 == s.buffer  # (nothing taken)
        got = 0
        while (m := await s.expect([FULL_BUFFER, EOF], timeout=10)).index == 0:
            got += len(m.before)
        assert got + len(m.before) == 3000000
        assert await s.wait() == 0


ROWS = 10000


async def read_as_advised(s: aioexpect.Session, advice: str) -> str:
    """All of a session's output, read the way the ``wait()`` hint says."""
    if advice == "read_some":
        chunks = []
        while chunk := await s.read_some():
            chunks.append(chunk)
        return "".join(chunks)
    if advice == "lines":
        return "".join([f"{line}\n" async for line in s.lines()])
    pieces = []
    while (m := await s.expect([FULL_BUFFER, EOF])).index == 0:
        pieces.append(m.before)
    return "".join(pieces) + m.before


@both_modes
@pytest.mark.parametrize("advice", ["read_some", "lines", "FULL_BUFFER", "max_buffer=None"])
async def test_the_wait_hint_at_max_buffer_gives_advice_that_works(pty: bool, advice: str) -> None:
    # The hint said to read the output first "with read_all() or
    # expect(EOF)": with the buffer full, both raise BufferFull at once.  It
    # now names ways that work, and each is followed here to the exit status.
    script = f"import sys; sys.stdout.write(('x' * 99 + '\\n') * {ROWS}); sys.exit(7)"
    argv = ["-c", script]
    async with aioexpect.spawn(sys.executable, argv, pty=pty, max_buffer=2000, timeout=10) as s:
        await wait_until(lambda: len(s.buffer) >= 2000, "the output filled max_buffer")
        with pytest.raises(aioexpect.ExpectTimeout, match="filled max_buffer") as info:
            await s.wait(timeout=0.1)
        hint = str(info.value)
        for advised in ("read_some()", "lines()", "FULL_BUFFER", "max_buffer=None"):
            assert advised in hint, hint
        assert "read_all()" not in hint and "expect(EOF)" not in hint, hint
        with pytest.raises(aioexpect.BufferFull):  # (why they are not advised)
            await s.read_all()
        if advice != "max_buffer=None":
            assert (await read_as_advised(s, advice)).split() == ["x" * 99] * ROWS
            assert await s.wait() == 7
    if advice == "max_buffer=None":
        async with aioexpect.spawn(sys.executable, argv, pty=pty, max_buffer=None, timeout=10) as s:
            assert await s.wait() == 7
            assert (await s.read_all()).split() == ["x" * 99] * ROWS


@both_modes
async def test_sendintr(pty: bool) -> None:
    async with aioexpect.spawn("sh", ["-c", "echo ready; exec sleep 100"], pty=pty) as s:
        await s.expect("ready")
        await s.sendintr()
        assert await asyncio.wait_for(s.wait(), 10) is None
        assert s.signal_status == signal.SIGINT


@both_modes
async def test_close_hangs_up_a_normal_child_at_once(pty: bool) -> None:
    s = await aioexpect.spawn("cat", pty=pty)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await s.close()
    assert loop.time() - began < 0.9
    assert s.closed
    assert s.signal_status == signal.SIGHUP


#: A child that closes its output (its end of file), then still has work to
#: do: it waits for SIGUSR1, and exits 3.
ENDING = (
    "import os, signal\n"
    "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})\n"
    "for fd in (0, 1, 2): os.close(fd)\n"
    "signal.sigwait({signal.SIGUSR1})\n"
    "os._exit(3)\n"
)


@both_modes
async def test_close_lets_a_child_whose_output_ended_exit_with_its_own_status(
    pty: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # close() sent SIGHUP at once: a child still finishing after it had
    # closed its output (the session read its end of file) was reported
    # killed by SIGHUP, where pexpect (its delayafterclose) gives its exit
    # status.  It now has EXIT_WAIT seconds to exit first (made long here:
    # a loaded machine must not matter).
    monkeypatch.setattr(_child, "EXIT_WAIT", 60.0)
    s = await aioexpect.spawn(sys.executable, ["-c", ENDING], pty=pty, timeout=10)
    pid = s.pid
    assert pid is not None
    await s.expect(EOF)
    closing = asyncio.ensure_future(s.close())
    await asyncio.sleep(0)  # (close() runs to its first wait: a SIGHUP would be sent)
    with contextlib.suppress(ProcessLookupError):  # (hung up and reaped already)
        os.kill(pid, signal.SIGUSR1)
    await closing
    assert (s.exit_status, s.signal_status) == (3, None)


@both_modes
async def test_close_hangs_up_a_child_whose_output_ended_that_goes_on(pty: bool) -> None:
    # (the wait for a child whose output ended is short: one that goes on
    # is hung up as any other)
    script = "import os, signal\nfor fd in (0, 1, 2): os.close(fd)\nsignal.pause()"
    s = await aioexpect.spawn(sys.executable, ["-c", script], pty=pty, timeout=10)
    await s.expect(EOF)
    await s.close()
    assert (s.exit_status, s.signal_status) == (None, signal.SIGHUP)


@both_modes
async def test_close_kills_a_child_that_ignores_sighup_and_its_grandchildren(pty: bool) -> None:
    s = await aioexpect.spawn("sh", ["-c", HUP_IGNORING], pty=pty, timeout=10)
    m = await s.expect("ready")
    kids = [int(k) for k in re.findall(r"kid (\d+)", m.before)]
    assert len(kids) == 2
    pids = [s.transport.get_extra_info("pid"), *kids]
    assert not any(gone(pid) for pid in pids)
    loop = asyncio.get_running_loop()
    meter = StallMeter()
    began = loop.time()
    await s.close()
    took = loop.time() - began
    assert await meter.stop() < 0.5, "close() blocked the event loop"
    assert 0.9 <= took < 5, f"close() took {took:.2f} s; the grace is 1 s"
    assert s.signal_status == signal.SIGKILL
    assert [pid for pid in pids if not gone(pid)] == []


#: The interactive shells whose jobs close() must end.
interactive_shells = pytest.mark.parametrize(
    "shell",
    [["bash", "--norc", "--noprofile", "-i"], ["dash", "-i"], ["zsh", "-f", "-i"]],
    ids=["bash", "dash", "zsh"],
)


@interactive_shells
async def test_close_ends_an_interactive_shells_background_jobs(
    shell: list[str], tmp_path: Path
) -> None:
    """Job control gives each background job a process group of its own,
    which a signal to the shell's group misses; a program started in a
    session of its own (setsid) is left running, as its starter meant."""
    if shutil.which(shell[0]) is None:
        pytest.skip(f"{shell[0]} is not installed")
    daemon = tmp_path / "daemon.pid"
    jobs = [
        "sleep 1000 & echo $!",
        "trap '' HUP; sleep 1000 & echo $!",
        "true | (trap '' HUP; sleep 1000) & echo $!",  # the group's leader exits first
    ]
    pids: list[int] = []
    try:
        async with aioexpect.spawn(shell[0], shell[1:], timeout=10) as s:
            await s.set_unique_prompt()
            for job in jobs:
                out = await s.execute(job)
                pids.append(int(out.split()[-1]))  # after "[1] 6452"
            pgids = {os.getpgid(pid) for pid in pids[:2]}
            assert s.transport.get_extra_info("pid") not in pgids
            await s.execute(f"setsid sh -c 'echo $$ > {daemon}; exec sleep 1000' &")
            await wait_until(lambda: daemon.exists() and daemon.read_text().endswith("\n"), "pid")
            members = [int(p) for p in os.listdir("/proc") if p.isdigit()]
            pipeline = [p for p in members if _group_of(p) == os.getpgid(pids[2]) or p == pids[2]]
        assert [pid for pid in pids + pipeline if not gone(pid)] == []
        assert not gone(int(daemon.read_text()))  # setsid: not the shell's to end
    finally:
        if daemon.exists() and daemon.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(daemon.read_text()), signal.SIGKILL)


@interactive_shells
async def test_close_ends_the_jobs_a_shell_left_running_when_it_exited(shell: list[str]) -> None:
    """The shell exited (its jobs, init's children now, still hold the
    terminal open): close() finds them in the shell's session."""
    if shutil.which(shell[0]) is None:
        pytest.skip(f"{shell[0]} is not installed")
    pids: list[int] = []
    try:
        async with aioexpect.spawn(shell[0], shell[1:], timeout=10) as s:
            await s.set_unique_prompt()
            for job in ("sleep 1000 & echo $!", "sh -c \"trap '' HUP; exec sleep 1000\" & echo $!"):
                out = await s.execute(job)
                pids.append(int(out.split()[-1]))
            await wait_until(lambda: _ignores_sighup(pids[1]), "the job ignores SIGHUP")
            await s.sendline("exit")
            await s.sendline("exit")  # (zsh: "you have running jobs" the first time)
            assert await asyncio.wait_for(s.wait(), 10) is not None
            assert not gone(pids[1])  # (zsh sends SIGHUP to its jobs as it exits)
        assert [pid for pid in pids if not gone(pid)] == []
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@interactive_shells
async def test_close_ends_the_jobs_a_shell_left_with_their_output_elsewhere(
    shell: list[str], tmp_path: Path
) -> None:
    """Jobs that hold neither the terminal nor the shell's output (redirected,
    nohup'd) are still in the shell's session after it exited: close() ends
    them too.  One that started a session of its own is not the shell's."""
    if shutil.which(shell[0]) is None:
        pytest.skip(f"{shell[0]} is not installed")
    daemon = tmp_path / "daemon.pid"
    away = ">/dev/null 2>&1 </dev/null &"
    pids: list[int] = []
    try:
        async with aioexpect.spawn(shell[0], shell[1:], timeout=10) as s:
            await s.set_unique_prompt()
            for job in (f"sleep 1000 {away} echo $!", f"nohup sleep 1000 {away} echo $!"):
                pids.append(int((await s.execute(job)).split()[-1]))
            await s.execute(f"setsid sh -c 'echo $$ > {daemon}; exec sleep 1000' {away}")
            await wait_until(lambda: daemon.exists() and daemon.read_text().endswith("\n"), "pid")
            await wait_until(lambda: _ignores_sighup(pids[1]), "nohup ignores SIGHUP")
            await s.sendline("exit")
            await s.sendline("exit")  # (zsh: "you have running jobs" the first time)
            assert await asyncio.wait_for(s.wait(), 10) is not None
            await s.expect(EOF)  # nobody holds the terminal any more
            assert not gone(pids[1])
        assert [pid for pid in pids if not gone(pid)] == []
        assert not gone(int(daemon.read_text()))  # setsid: not the shell's to end
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if daemon.exists() and daemon.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(daemon.read_text()), signal.SIGKILL)


def _ignores_sighup(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    return bool(int(re.search(r"SigIgn:\s*([0-9a-f]+)", status)[1], 16) & 1 << signal.SIGHUP - 1)


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


@both_modes
async def test_close_force_kills_at_once(pty: bool) -> None:
    s = await aioexpect.spawn("sh", ["-c", HUP_IGNORING], pty=pty, timeout=10)
    m = await s.expect("ready")
    kids = [int(k) for k in re.findall(r"kid (\d+)", m.before)]
    loop = asyncio.get_running_loop()
    began = loop.time()
    await s.close(force=True)
    assert loop.time() - began < 0.9
    assert s.signal_status == signal.SIGKILL
    assert all(gone(pid) for pid in kids)
    await s.close()  # idempotent


@both_modes
async def test_a_command_that_cannot_start(pty: bool, tmp_path: Path) -> None:
    with pytest.raises(SpawnError, match="no-such-command-xyz") as info:
        await aioexpect.spawn("no-such-command-xyz", ["--flag"], pty=pty)
    assert info.value.command == "no-such-command-xyz"
    assert isinstance(info.value, ConnectionError)
    with pytest.raises(SpawnError, match="does not exist"):
        async with aioexpect.spawn("true", pty=pty, cwd=tmp_path / "missing"):
            pass
    assert "not a command line" not in str(info.value)


@both_modes
async def test_a_working_directory_that_is_a_file_is_said_to_be_one(
    pty: bool, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(SpawnError, match=r"working directory '.*/file' is not a directory$"):
        await aioexpect.spawn("true", pty=pty, cwd=tmp_path / "file")


@both_modes
@pytest.mark.parametrize(
    ("line", "interpreter", "reason"),
    [
        ("#!/no/such/interp", "/no/such/interp", "No such file or directory"),
        ("#! /no/such/interp -x", "/no/such/interp", "No such file or directory"),
        ("#!/bin/sh\r", "/bin/sh\r", "No such file or directory"),  # (a CRLF script)
        ("#!/etc/passwd", "/etc/passwd", "Permission denied"),  # (no execute bit)
    ],
    ids=["missing", "spaced", "crlf", "not-executable"],
)
async def test_a_script_whose_interpreter_cannot_run_names_the_interpreter(
    pty: bool, tmp_path: Path, line: str, interpreter: str, reason: str
) -> None:
    """exec's error is about the interpreter: "No such file or directory"
    for an existing script read as if the script were missing."""
    script = tmp_path / "script"
    script.write_text(line + "\necho hi\n")
    script.chmod(0o755)
    expected = f"cannot start {{!r}}: bad interpreter {interpreter!r}: {reason}"
    with pytest.raises(SpawnError) as info:
        await aioexpect.spawn(str(script), pty=pty)
    assert str(info.value) == expected.format(str(script))
    env = {**os.environ, "PATH": str(tmp_path)}  # found on the PATH, as exec finds it
    with pytest.raises(SpawnError) as info:
        await aioexpect.spawn("script", pty=pty, env=env)
    assert str(info.value) == expected.format("script")
    with pytest.raises(SpawnError) as info:  # relative to the working directory
        await aioexpect.spawn("./script", pty=pty, cwd=tmp_path)
    assert str(info.value) == expected.format("./script")


@both_modes
async def test_a_script_whose_interpreter_runs_is_not_blamed_on_it(
    pty: bool, tmp_path: Path
) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)  # the script itself may not be run
    with pytest.raises(SpawnError) as info:
        await aioexpect.spawn(str(script), pty=pty)
    assert str(info.value) == f"cannot start {str(script)!r}: Permission denied"


@both_modes
async def test_an_empty_command_is_a_value_error_up_front(pty: bool) -> None:
    # exec's answer was a SpawnError, "cannot start '': Permission denied".
    with pytest.raises(ValueError, match="command must not be empty"):
        aioexpect.spawn("", pty=pty)


@both_modes
async def test_a_command_line_given_as_the_program_is_told_how_to_split(pty: bool) -> None:
    """pexpect.spawn("bash --norc") splits; spawn never runs a shell line."""
    with pytest.raises(SpawnError) as info:
        await aioexpect.spawn("bash --norc -i", pty=pty)
    assert str(info.value).endswith(
        "No such file or directory (spawn runs one program, not a command line:"
        " spawn('bash', ['--norc', '-i']), or connect('spawn:bash --norc -i'))"
    )


async def test_a_line_too_long_for_canonical_mode_is_refused() -> None:
    async with aioexpect.spawn("cat", echo=False, timeout=10) as s:
        with pytest.raises(ValueError, match="4095"):
            await s.sendline("x" * 5000)
        with pytest.raises(ValueError, match="4095"):
            await s.send("x" * 5000)  # no line end: the kernel would truncate too
        await s.sendline("y" * 4095)  # the longest line that fits
        await s.sendline("still usable")
        m = await s.expect("still usable\r\n")
        assert m.before == "y" * 4095 + "\r\n", "part of the refused line was sent"


async def test_a_long_line_is_allowed_in_raw_mode() -> None:
    script = "stty raw -echo; echo ready; head -c 5001 | wc -c"
    async with aioexpect.spawn("sh", ["-c", script], timeout=10) as s:
        await s.expect("ready")
        await s.sendline("x" * 5000)
        await s.expect(r"\b5001\b")


async def test_a_long_line_is_allowed_over_pipes() -> None:
    async with aioexpect.spawn("wc", ["-c"], pty=False, timeout=10) as s:
        await s.sendline("x" * 100_000)
        await s.sendeof()
        assert (await s.read_all()).strip() == "100001"


@both_modes
async def test_a_dropped_session_warns_and_its_child_is_killed_and_reaped(pty: bool) -> None:
    s = await aioexpect.spawn("cat", pty=pty)
    transport = s.transport
    with pytest.warns(ResourceWarning, match="unclosed session"):
        del s
        gc.collect()
    assert transport.closed
    assert await asyncio.wait_for(transport.wait(), 5) is None
    assert transport.signal_status == signal.SIGKILL


@pytest.mark.parametrize("pty", [True, False], ids=["pty", "pipes"])
@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_a_session_used_after_its_event_loop_closed_says_so(
    loop_name: str, pty: bool, tmp_path: Path
) -> None:
    """Opened under one ``asyncio.run()`` and used under the next: its
    output is read in the first loop only.  An expect waited its whole
    timeout, blaming the child, and close() took 21 s (waiting in the dead
    loop for the reaping).  Now each says so at once, and close() kills.
    ``wait()`` raised asyncio's "attached to a different loop", and such a
    close() left the logfile and the child's pidfd open."""
    import psutil  # type: ignore[import-untyped]
    import uvloop

    def descriptors() -> dict[int, str]:
        found = {}
        for name in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        return found

    log = tmp_path / "session.log"
    before = descriptors()
    factory = uvloop.new_event_loop if loop_name == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        s = runner.run(aioexpect.spawn("cat", pty=pty, timeout=30, logfile=str(log)))
    pid = s.transport.get_extra_info("pid")

    async def later() -> None:
        for call in (s.sendline("hello"), s.expect("hello"), s.wait(timeout=1)):
            with pytest.raises(aioexpect.ClosedError, match="event loop that is closed since"):
                await call
        await asyncio.wait_for(s.close(), 5)
        assert s.closed
        await s.close()  # (idempotent)

    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(later())
    # SIGKILLed and reaped by close() itself, in the loop at hand.
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).ppid() != os.getpid()
    left = {fd: target for fd, target in descriptors().items() if before.get(fd) != target}
    assert not [t for t in left.values() if t == str(log) or "pidfd" in t], left


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_spawns_at_once_on_a_loop_take_turns_and_let_the_loop_go(loop_name: str) -> None:
    """Spawns started together on one loop wait for each other's fork in
    turn (on a lock of that loop), and nothing keeps the loop alive after."""
    import weakref

    import uvloop

    async def spawn_together() -> list[str]:
        async def one(word: str) -> str:
            async with aioexpect.spawn("echo", [word], timeout=10) as s:
                return str(await s.read_all()).strip()

        return list(await asyncio.gather(*(one(str(i)) for i in range(4))))

    factory = uvloop.new_event_loop if loop_name == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        assert runner.run(spawn_together()) == ["0", "1", "2", "3"]
        loop = weakref.ref(runner.get_loop())
    del runner
    gc.collect()
    assert loop() is None, "a spawn kept its closed loop alive"


@pytest.mark.parametrize(
    ("argv", "ps1"),
    [(["bash", *BASH_ARGS], "$ "), (["zsh", "-f"], "%% ")],
    ids=["bash", "zsh"],
)
@pytest.mark.parametrize("length", [100, 141])
async def test_a_secret_the_shell_wraps_at_the_margin_stays_out_of_the_transcript(
    argv: list[str], ps1: str, length: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The echo of a line longer than the terminal is wide comes with the
    line editor's wrap in it (readline: the next character, ``\\r``, that
    character again; zsh: ``" \\r"``, ``ESC[K``, the same): the logfile and
    the ``DEBUG`` records showed all of a secret but where it was cut.
    141 characters end the line at the margin of its second row, which
    readline draws again, the last 80 characters of the token with it."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    rng = random.Random(length)
    sent, added = ("".join(rng.choices(string.ascii_letters, k=length)) for _ in range(2))
    log = io.StringIO()
    env = {"PS1": ps1, "TERM": "xterm", "PATH": os.environ["PATH"]}
    prompt = re.escape(ps1.replace("%%", "%"))
    async with aioexpect.spawn(
        argv[0], argv[1:], env=env, dimensions=(24, 80), logfile=log, timeout=10
    ) as s:
        await s.expect(prompt)
        await s.send_secret(f"export API_TOKEN={sent}")
        await s.expect(prompt)
        s.add_secret(added)
        await s.sendline(f"export API_OTHER={added}")
        await s.expect(prompt)
    for text in (log.getvalue(), caplog.text):
        assert "API_OTHER=********" in text
        shown = [t[i : i + 10] for t in (sent, added) for i in range(length - 9)]
        assert [piece for piece in shown if piece in text] == []


async def test_a_secret_across_the_margin_stays_out_of_a_strip_ansi_transcript(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """bash at 40 columns, ``strip_ansi=True``: a command line of two rows
    that ends at the margin, a token across the wrap (10 characters on the
    first row, 20 on the second).  readline moves up and draws the second
    row again; the session stripped that move before its transcript saw
    the text, and the logfile and the ``DEBUG`` records showed the token's
    last 20 characters in the copy."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    token = "".join(random.Random(5).choices(string.ascii_letters, k=30))
    line = "echo " + "a" * 23 + token  # (after '$ ': 10 of it on the first row)
    line += "z" * (-(2 + len(line)) % 40)
    log = io.StringIO()
    env = {"PS1": "$ ", "TERM": "xterm", "PATH": os.environ["PATH"]}
    async with aioexpect.spawn(
        "bash", BASH_ARGS, env=env, dimensions=(24, 40), logfile=log, timeout=10, strip_ansi=True
    ) as s:
        await s.expect(r"\$ ")
        s.add_secret(token)
        await s.sendline(line)
        await s.expect(r"\n\$ ")
    for text in (log.getvalue(), caplog.text):
        assert f"echo {'a' * 23}********" in text
        shown = [token[i : i + 8] for i in range(len(token) - 7)]
        assert [piece for piece in shown if piece in text] == []


async def test_a_secret_with_a_control_character_is_masked_in_its_echo(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A pty echoes a control character as ``^A`` (ECHOCTL): the logfile
    showed ``ab^AcdSECRETxyz``."""
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    log = io.StringIO()
    async with aioexpect.spawn("cat", logfile=log, timeout=10) as s:
        await s.send_secret("ab\x01cdSECRETxyz")
        await s.expect("xyz\r\n.*xyz\r\n")  # the echo, then what cat writes
    assert log.getvalue() == "********\r\n********\r\n"
    assert "SECRET" not in caplog.text and "recv ********\\r\\n" in caplog.text


@pytest.mark.parametrize("pty", [True, False])
async def test_pid_is_the_childs_as_pexpects(pty: bool) -> None:
    # pexpect's child.pid, for a signal that should not end the child
    # (close() would), or for psutil; None where this process has no child.
    script = "trap 'echo got USR1' USR1; echo ready; while :; do sleep 0.05; done"
    async with aioexpect.spawn("sh", ["-c", script], pty=pty, timeout=10) as s:
        assert isinstance(s.pid, int)
        await s.expect("ready")
        os.kill(s.pid, signal.SIGUSR1)
        await s.expect("got USR1")  # (it lives on)
        with pytest.raises(AttributeError, match="pid"):
            s.pid = 1  # type: ignore[assignment]
        os.kill(s.pid, signal.SIGTERM)
        await s.wait()
        assert s.signal_status == signal.SIGTERM
    ours, peer = memory_pair()
    async with aioexpect.Session(ours) as s:
        assert s.pid is None
    await peer.close()
