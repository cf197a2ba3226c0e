"""``Session.interact``: a person's terminal bridged to a session, driven for
real — aioexpect runs a script in a pty, and the script interacts with ``cat``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
import termios
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect._ansi import AnsiStripper
from aioexpect._interact import bridge
from aioexpect._tty import Output
from tests.helpers import opened, read_all, resize_seen, wait_until

SCRIPT = r"""
import termios, aioexpect

async def main():
    before = termios.tcgetattr(0)
    async with aioexpect.spawn("cat", timeout=10) as s:
        await s.sendline("queued")
        await s.expect_exact("queued\r\n")      # the echo; cat's copy stays queued
        print("INTERACT-START", flush=True)
        await s.interact()
        print("\r\nINTERACT-END", flush=True)
        await s.sendline("after")
        await s.expect_exact("after\r\nafter\r\n")
        print("PROGRAM-CONTINUES", flush=True)
    print("TTY-RESTORED" if termios.tcgetattr(0) == before else "TTY-CHANGED", flush=True)

aioexpect.run(main())
"""


async def test_interact_forwards_both_ways_until_the_escape_character(tmp_path: Path):
    script = tmp_path / "interact.py"
    script.write_text(SCRIPT)
    async with aioexpect.spawn(sys.executable, [str(script)], timeout=15) as outer:
        await outer.expect_exact("INTERACT-START")
        # What was buffered before interact() is shown first: nothing is lost.
        await outer.expect_exact("queued")
        await outer.send("typed by a person\r")
        await outer.expect_exact("typed by a person")  # the terminal's echo
        await outer.expect_exact("typed by a person")  # cat's copy
        await outer.sendcontrol("]")
        await outer.expect_exact("INTERACT-END")
        await outer.expect_exact("PROGRAM-CONTINUES")
        await outer.expect_exact("TTY-RESTORED")
        await outer.expect(aioexpect.EOF)
        assert await outer.wait() == 0


async def test_interact_ends_when_the_session_ends(tmp_path: Path):
    script = tmp_path / "interact_eof.py"
    script.write_text(
        "import aioexpect\n"
        "async def main():\n"
        "    async with aioexpect.spawn('sh', ['-c', 'read x; echo got $x'], timeout=10) as s:\n"
        "        await s.interact()\n"
        "        print('ENDED-BY-EOF', flush=True)\n"
        "aioexpect.run(main())\n"
    )
    async with aioexpect.spawn(sys.executable, [str(script)], timeout=15) as outer:
        await outer.send("hello\r")
        await outer.expect_exact("got hello")
        await outer.expect_exact("ENDED-BY-EOF")
        assert await outer.wait() == 0


EXECUTE_AFTER = r"""
import sys

import aioexpect

async def main():
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], timeout=10) as sh:
        await sh.set_unique_prompt()
        if "unread" in sys.argv:  # the program's own command, its answer not read
            await sh.sendline("sleep 0.3; echo PRE")
        print("INTERACT-START", flush=True)
        await sh.interact()
        print("\r\nPWD=" + repr(await sh.execute("pwd")), flush=True)
        print("NEXT=" + repr(await sh.execute("echo next")), flush=True)

aioexpect.run(main())
"""


@pytest.mark.parametrize("leaves", ["at-once", "after-the-echo", "answered", "watched"])
async def test_execute_after_interact_waits_for_what_the_person_started(
    tmp_path: Path, leaves: str
):
    """The person types a command and leaves before it answered (at once, or
    once its echo is on the screen): the answer is still to come, and is not
    taken for the next execute's output.  Leaving after the answer and its
    prompt came, nothing is owed: what the person typed is not taken for a
    send of the program's still waiting for its answer; nor is the
    program's own command whose answer and prompt the person watched
    come."""
    script = tmp_path / "interact_execute.py"
    script.write_text(EXECUTE_AFTER)
    args = [str(script), "unread"] if leaves == "watched" else [str(script)]
    async with aioexpect.spawn(sys.executable, args, timeout=15, cwd=tmp_path) as outer:
        await outer.expect_exact("INTERACT-START")
        if leaves == "watched":
            await outer.expect_exact("PRE\r\n")
            await outer.expect_exact("$ ")
            await outer.send("\x1d")
        elif leaves == "at-once":
            await outer.send("sleep 0.3; echo TYPED\r\x1d")
        elif leaves == "answered":
            await outer.send("echo HI\r")
            await outer.expect_exact("HI\r\n")
            await outer.expect_exact("$ ")
            await outer.send("\x1d")
        else:
            await outer.send("echo HI\r")  # a prompt in what the person has seen
            await outer.expect_exact("HI\r\n")
            await outer.expect_exact("$ ")
            await outer.send("sleep 0.5; echo TYPED\r")
            await outer.expect_exact("sleep 0.5; echo TYPED\r\n")  # the echo, shown
            await outer.send("\x1d")
        await outer.expect_exact("PWD=")
        assert (await outer.expect_exact("\r\n")).before == repr(f"{tmp_path}\n")
        await outer.expect_exact("NEXT='next\\n'")
        await outer.expect(aioexpect.EOF)
        assert await outer.wait() == 0


CLOSED_MEANWHILE = r"""
import asyncio, termios, aioexpect

async def main():
    before = termios.tcgetattr(0)
    async with aioexpect.spawn("cat", timeout=10) as s:
        async def close_soon():
            await asyncio.sleep(0.3)
            await s.close()
        closing = asyncio.ensure_future(close_soon())
        print("INTERACT-START", flush=True)
        await s.interact()
        await closing
        print("\r\nRETURNED closed=" + str(s.closed), flush=True)
    print("TTY-RESTORED" if termios.tcgetattr(0) == before else "TTY-CHANGED", flush=True)

aioexpect.run(main())
"""


async def test_interact_returns_when_the_program_closes_the_session(tmp_path: Path):
    """It waited for the person's next key, the terminal raw meanwhile, and
    that key raised ClosedError."""
    script = tmp_path / "closed.py"
    script.write_text(CLOSED_MEANWHILE)
    async with aioexpect.spawn(sys.executable, [str(script)], timeout=15) as outer:
        await outer.expect_exact("INTERACT-START")
        await outer.expect_exact("RETURNED closed=True")  # no key typed
        await outer.expect_exact("TTY-RESTORED")
        await outer.expect(aioexpect.EOF)
        assert await outer.wait() == 0


SIZES = r"""
import sys, aioexpect

async def main():
    async with aioexpect.spawn("sh", timeout=10, dimensions=(24, 80)) as sh:
        print("INTERACT-START", flush=True)
        await sh.interact()
        await sh.sendline("stty size")
        m = await sh.expect(r"(\d+ \d+)\r\n")  # (the last prompt may come after the echo)
        print("\r\nKEPT " + m.group(1), flush=True)

aioexpect.run(main()) if sys.argv[1] == "uvloop" else __import__("asyncio").run(main())
"""


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
async def test_the_session_takes_the_persons_terminal_size_and_its_changes(
    tmp_path: Path, loop: str
):
    script = tmp_path / "sizes.py"
    script.write_text(SIZES)
    async with aioexpect.spawn(
        sys.executable, [str(script), loop], timeout=15, dimensions=(30, 100)
    ) as outer:
        await outer.expect_exact("INTERACT-START")
        await outer.sendline("stty size")
        await outer.expect_exact("30 100")
        await resize_seen(outer, 40, 120)  # SIGWINCH reaches the program, which passes it on
        await outer.send("\x1d")
        await outer.expect_exact("KEPT 40 120")
        assert await outer.wait() == 0


PIPES = r"""
import termios, aioexpect

async def main():
    before = termios.tcgetattr(0)
    async with aioexpect.spawn("sh", ["-i"], pty=False, timeout=10) as sh:
        print("INTERACT-START", flush=True)
        await sh.interact()
        print("\r\nRETURNED", flush=True)
    print("TTY-RESTORED" if termios.tcgetattr(0) == before else "TTY-CHANGED", flush=True)

aioexpect.run(main())
"""


async def test_interact_with_a_piped_child_edits_lines_and_interrupts(tmp_path: Path):
    """Over pipes nothing echoes or ends lines but the person's terminal: it
    works in lines there (Enter sends a line end, output lines end well),
    Ctrl-C interrupts the child and Ctrl-] still leaves at once."""
    script = tmp_path / "pipes.py"
    script.write_text(PIPES)
    async with aioexpect.spawn(sys.executable, [str(script)], timeout=15) as outer:
        await outer.expect_exact("INTERACT-START")
        await outer.send("echo one; echo twx\x7fo\r")  # a typo mended with backspace
        await outer.expect_exact("one\r\ntwo\r\n")  # (\n shown as a line end)
        await outer.send("echo SLEEP-$((2+3)); sleep 30; echo NOT-$((1+1))-INTERRUPTED\r")
        # (Ctrl-C before the shell read the line would leave it to run after)
        await outer.expect_exact("SLEEP-5")
        await outer.send("\x03")
        await outer.expect(r"\^C[\s\S]*# ")  # the shell's prompt again: sleep ended
        await outer.send("echo after-$((6*7))\r")
        m = await outer.expect(["after-42", "NOT-2-INTERRUPTED"])
        assert m.index == 0
        await outer.send("\x1d")  # no Enter needed
        await outer.expect_exact("RETURNED")
        await outer.expect_exact("TTY-RESTORED")
        assert await outer.wait() == 0


PIPES_ESCAPE = r"""
import sys, termios, aioexpect

async def main():
    before = termios.tcgetattr(0)
    async with aioexpect.spawn("sh", ["-i"], pty=False, timeout=10) as sh:
        print("INTERACT-START", flush=True)
        await sh.interact(escape_character=sys.argv[1])
        print("\r\nRETURNED", flush=True)
        await sh.sendline("echo still-$((6*7))")
        await sh.expect_exact("still-42")
        print("PROGRAM-CONTINUES", flush=True)
    print("TTY-RESTORED" if termios.tcgetattr(0) == before else "TTY-CHANGED", flush=True)

aioexpect.run(main())
"""


@pytest.mark.parametrize("key", ["\x03", "\x15", "\x7f", "\x13"], ids=["C", "U", "DEL", "S"])
async def test_an_escape_character_the_terminal_edits_with_leaves_a_piped_child(
    tmp_path: Path, key: str
):
    """In line mode the escape character leaves at once, also when it is a
    key the person's terminal acts on there (Ctrl-C interrupts, Ctrl-U kills
    the line, DEL erases, Ctrl-S stops the output): it never reached the
    bridge, which went on for ever."""
    script = tmp_path / "pipes_escape.py"
    script.write_text(PIPES_ESCAPE)
    async with aioexpect.spawn(sys.executable, [str(script), key], timeout=15) as outer:
        await outer.expect_exact("INTERACT-START")
        await outer.send("echo typed-$((2+3))\r")
        await outer.expect_exact("typed-5")
        await outer.send(key)
        await outer.expect_exact("RETURNED", timeout=5)
        await outer.expect_exact("PROGRAM-CONTINUES")
        await outer.expect_exact("TTY-RESTORED")
        assert await outer.wait() == 0


async def test_enter_as_the_escape_character_leaves_a_piped_child(tmp_path: Path):
    """escape_character="\\r" in line mode: the terminal made Enter's CR a
    line end (ICRNL), which never reached the bridge as the escape: it went
    on for ever.  Enter leaves, as in raw mode; Ctrl-J ends a line."""
    script = tmp_path / "pipes_escape.py"
    script.write_text(PIPES_ESCAPE)
    async with aioexpect.spawn(sys.executable, [str(script), "\r"], timeout=15) as outer:
        await outer.expect_exact("INTERACT-START")
        await outer.expect(r"[#$] ")  # (shown by the bridge: the terminal is in its mode)
        await outer.send("echo typed-$((2+3))\n")
        await outer.expect_exact("typed-5")
        await outer.send("\r")
        await outer.expect_exact("RETURNED", timeout=5)
        await outer.expect_exact("PROGRAM-CONTINUES")
        await outer.expect_exact("TTY-RESTORED")
        assert await outer.wait() == 0


@pytest.mark.parametrize("stdin", ["pipe", "terminal"])
async def test_a_line_end_as_the_escape_character_is_refused_where_input_comes_in_lines(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, stdin: str
):
    """escape_character="\\n" where the input is read in lines (standard
    input not a terminal; a terminal in line mode, for a child over pipes):
    the old code left at the first line end, sending its text without it,
    so no line could be sent.  Refused before anything is read."""
    if stdin == "terminal":  # (the person's side, and the terminal read)
        keys, read_end = os.openpty()
    else:
        read_end, keys = os.pipe()
    try:
        os.write(keys, b"echo typed\n")  # (typed ahead: the old code sent it, and left)
        monkeypatch.setattr(sys, "stdin", open(read_end))  # noqa: SIM115
        monkeypatch.setattr(sys, "stdout", (tmp_path / "shown").open("w"))
        # (a child over pipes: it reads lines, whatever the person's side)
        async with aioexpect.spawn("cat", pty=False, timeout=5) as s:
            with pytest.raises(ValueError, match="at the first line end"):
                await s.interact(escape_character="\n")
            await s.sendline("usable")  # (first: nothing of what waited to be read was sent)
            await s.expect_exact("usable\n")
            assert s.buffer == ""
    finally:
        sys.stdin.close()
        sys.stdout.close()
        os.close(keys)


async def test_a_line_end_as_the_escape_character_leaves_keys_piped_to_a_terminal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """Keys piped in (standard input not a terminal) to a session with a
    terminal of its own: lines ended by CR are Enter there, each runs, and
    the "\\n" after them leaves; the session stays usable."""
    read_end, keys = os.pipe()
    try:
        os.write(keys, b"echo one-$((1+1))\recho two-$((1+2))\r\n")
        monkeypatch.setattr(sys, "stdin", open(read_end))  # noqa: SIM115
        monkeypatch.setattr(sys, "stdout", (tmp_path / "shown").open("w"))
        env = {**os.environ, "PS1": "$ "}
        async with aioexpect.spawn("sh", ["-i"], env=env, timeout=10) as s:
            await s.interact(escape_character="\n")
            await s.sendline("echo after-$((2+2))")
            later = (await s.expect_exact("after-4")).before  # (what came after it left)
        sys.stdout.flush()
        answered = (tmp_path / "shown").read_text() + later
        assert "one-2" in answered and "two-3" in answered
    finally:
        sys.stdin.close()
        sys.stdout.close()
        os.close(keys)


RAW_LINE_END = r"""
import aioexpect

async def main():
    async with aioexpect.spawn("sh", ["-i"], env={"PS1": "$ "}, timeout=10) as sh:
        print("INTERACT-START", flush=True)
        await sh.interact(escape_character="\n")
        print("\r\nRETURNED", flush=True)

aioexpect.run(main())
"""


async def test_a_line_end_as_the_escape_character_is_ctrl_j_in_raw_mode(tmp_path: Path):
    """A session with a terminal of its own, the person's in raw mode:
    Enter is CR, and Ctrl-J the escape."""
    script = tmp_path / "raw_line_end.py"
    script.write_text(RAW_LINE_END)
    async with aioexpect.spawn(sys.executable, [str(script)], timeout=15) as outer:
        await outer.expect_exact("INTERACT-START")
        await outer.expect_exact("$ ")  # (shown by the bridge: the terminal is raw)
        await outer.send("echo typed-$((2+3))\r")
        await outer.expect_exact("typed-5")
        await outer.send("\n")
        await outer.expect_exact("RETURNED", timeout=5)
        await outer.expect(aioexpect.EOF)
        assert await outer.wait() == 0


KILLED_IN_INTERACT = r"""
import asyncio, os, sys, aioexpect

async def main():
    async with aioexpect.spawn("sh", ["-i"], pty=sys.argv[1] == "pty", timeout=10) as sh:
        print("INTERACT-START", os.getpid(), flush=True)
        await sh.interact(escape_character="\x15")
        print("\r\nRETURNED", flush=True)

(aioexpect.run if sys.argv[2] == "uvloop" else asyncio.run)(main())
"""

#: Whether the terminal is left blocking, as the next program reading it needs.
BLOCKING = "import os; print('BLOCKING', os.get_blocking(0))"


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT], ids=["TERM", "HUP", "QUIT"]
)
@pytest.mark.parametrize("peer", ["pipes", "pty"])
async def test_a_signal_that_ends_the_program_in_interact_restores_the_terminal_first(
    tmp_path: Path, peer: str, signum: int
):
    """SIGTERM, SIGHUP or SIGQUIT (left to its default: the process ends, no
    ``finally`` runs) during interact() left the person's terminal as the
    bridge had it: raw, or without its signals and its Ctrl-U (kill) key
    (SIGQUIT), and non-blocking (all three: the next program that read it
    failed, "Resource temporarily unavailable")."""
    script = tmp_path / "killed.py"
    script.write_text(KILLED_IN_INTERACT)
    loop = "uvloop" if "uvloop" in type(asyncio.get_running_loop()).__module__ else "asyncio"
    python = shlex.quote(sys.executable)
    command = (
        f"echo BEFORE-$(stty -g)-; {python} {script} {peer} {loop};"
        f" echo STATUS-$?-; echo AFTER-$(stty -g)-; {python} -c {shlex.quote(BLOCKING)}"
    )
    # (in tmp_path: where SIGQUIT's core dump, if any, goes)
    async with aioexpect.spawn("sh", ["-c", command], timeout=15, cwd=tmp_path) as outer:
        before = (await outer.expect(r"BEFORE-(\S+)-")).group(1)
        pid = int((await outer.expect(r"INTERACT-START (\d+)")).group(1))
        await outer.send("echo typed-$((2+3))\r")
        await outer.expect_exact("typed-5")
        os.kill(pid, signum)
        assert (await outer.expect(r"STATUS-(\d+)-")).group(1) == str(128 + signum)
        assert (await outer.expect(r"AFTER-(\S+)-")).group(1) == before
        await outer.expect_exact("BLOCKING True")
        assert await outer.wait() == 0


def mode_of(tty: str) -> list[Any]:
    """The mode of the terminal ``tty`` (its name), as its programs see it."""
    fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    try:
        return termios.tcgetattr(fd)
    finally:
        os.close(fd)


JOB_SHELLS = [["sh", "-i"], ["bash", "--norc", "--noprofile", "--noediting", "-i"]]


@pytest.mark.parametrize("shell", JOB_SHELLS, ids=["sh", "bash"])
@pytest.mark.parametrize("peer", ["pipes", "pty"])
async def test_a_stop_in_interact_gives_the_terminal_back_until_continued(
    tmp_path: Path, peer: str, shell: list[str], aio_loop: str
):
    """A stop from outside (``kill -TSTP``: Ctrl-Z goes to the session)
    during interact() left the person's terminal in the bridge's mode for
    the shell (sh: raw, or without its Ctrl-U), and a shell that puts its
    own mode back at a stop (bash) left that one after ``fg``: the bridge
    went on in it (Ctrl-U erased the line rather than leave).  The
    terminal is given back at the stop, the bridge's mode taken again at
    the continue, and given back again at the end."""
    script = tmp_path / "stopped.py"
    script.write_text(KILLED_IN_INTERACT)
    env = {**os.environ, "PS1": "JOBS$ "}  # (job control: the program in a group of its own)
    env.pop("ENV", None)
    async with aioexpect.spawn(shell[0], shell[1:], env=env, cwd=tmp_path, timeout=15) as outer:
        await outer.expect_exact("JOBS$ ")
        await outer.sendline("echo BEFORE-$(stty -g)-")
        before = (await outer.expect(r"BEFORE-(\S+)-")).group(1)
        await outer.expect_exact("JOBS$ ")
        await outer.sendline(f"{shlex.quote(sys.executable)} {script} {peer} {aio_loop}")
        pid = int((await outer.expect(r"INTERACT-START (\d+)")).group(1))
        await outer.send("echo typed-$((2+3))\r")
        await outer.expect_exact("typed-5")
        tty = os.readlink(f"/proc/{pid}/fd/0")
        bridged = mode_of(tty)
        os.kill(pid, signal.SIGTSTP)
        await outer.expect_exact("JOBS$ ")  # the program stopped: the shell's turn
        await outer.sendline(
            f'echo DURING-$(stty -g)-; {shlex.quote(sys.executable)} -c "{BLOCKING}"'
        )
        assert (await outer.expect(r"DURING-(\S+)-")).group(1) == before
        await outer.expect_exact("BLOCKING True")
        await outer.expect_exact("JOBS$ ")
        await outer.sendline("fg")
        await wait_until(lambda: mode_of(tty) == bridged, "the bridge's mode is back")
        await outer.send("echo again-$((3+4))\r")
        await outer.expect_exact("again-7")
        await outer.send("\x15")  # the escape, alone
        await outer.expect_exact("RETURNED")
        await outer.expect_exact("JOBS$ ")
        await outer.sendline("echo AFTER-$(stty -g)-")
        assert (await outer.expect(r"AFTER-(\S+)-")).group(1) == before


#: A shell's job control, each step waited for (a real shell reads its
#: terminal at once after ``bg``, and takes a non-blocking flag off itself):
#: the program in a group of its own in the foreground, stopped from outside
#: (the test's ``kill -TSTP``), then as a shell's ``bg`` or ``kill %1`` (TERM,
#: then CONT) do, with the terminal the shell's again.
JOB_CONTROL = r"""
import os, signal, sys, termios
signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # (a shell takes its terminal back)
shells = termios.tcgetattr(0)
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.tcsetpgrp(0, os.getpid())
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
try:
    os.setpgid(pid, pid)
except OSError:  # (it did: it ran already)
    pass
os.tcsetpgrp(0, pid)
_, status = os.waitpid(pid, os.WUNTRACED)
assert os.WIFSTOPPED(status), status
os.tcsetpgrp(0, os.getpgrp())
print("STOPPED", signal.Signals(os.WSTOPSIG(status)).name, flush=True)
if sys.argv[1] == "kill":
    os.kill(pid, signal.SIGTERM)
os.kill(pid, signal.SIGCONT)
_, status = os.waitpid(pid, os.WUNTRACED)
if os.WIFSTOPPED(status):
    print("THEN-STOPPED", signal.Signals(os.WSTOPSIG(status)).name, flush=True)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
else:
    print("THEN-ENDED", signal.Signals(os.WTERMSIG(status)).name, flush=True)
kept = termios.tcgetattr(0) == shells
print("BLOCKING", os.get_blocking(0), "SHELLS-MODE", kept, flush=True)
"""


@pytest.mark.parametrize("then", ["bg", "kill"])
@pytest.mark.parametrize("peer", ["pipes", "pty"])
async def test_a_stopped_interact_in_the_background_leaves_the_terminal_to_the_shell(
    tmp_path: Path, peer: str, then: str, aio_loop: str
):
    """Continued in the background (``bg``), the program took the bridge's
    mode again, and stopped at it (SIGTTOU, until ``fg``) only after making
    the terminal non-blocking: the shell and the programs it ran meanwhile
    read a non-blocking terminal (dash: "turning off NDELAY mode").  Ended
    there (``kill %1``: TERM, then CONT), it stopped instead (SIGTTOU: the
    mode it gave back is the foreground's business), the job left stopped."""
    script = tmp_path / "stopped.py"
    script.write_text(KILLED_IN_INTERACT)
    shell = tmp_path / "job_control.py"
    shell.write_text(JOB_CONTROL)
    args = [str(shell), then, str(script), peer, aio_loop]
    async with aioexpect.spawn(sys.executable, args, timeout=15) as outer:
        pid = int((await outer.expect(r"INTERACT-START (\d+)")).group(1))
        await outer.send("echo typed-$((2+3))\r")
        await outer.expect_exact("typed-5")
        os.kill(pid, signal.SIGTSTP)
        await outer.expect_exact("STOPPED SIGTSTP")
        if then == "bg":
            await outer.expect_exact("THEN-STOPPED SIGTTOU")  # (until fg, as it should)
        else:
            await outer.expect_exact("THEN-ENDED SIGTERM")
        await outer.expect_exact("BLOCKING True SHELLS-MODE True")
        assert await outer.wait() == 0


SLOW_TERMINAL = r"""
import asyncio, sys, time, aioexpect

async def main():
    gaps = []
    async def ticker():
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
    ticking = asyncio.ensure_future(ticker())
    async with aioexpect.spawn("sh", ["-c", "head -c 3000000 /dev/zero | tr '\\0' x"]) as s:
        await s.interact()  # ends at the child's end of file
    ticking.cancel()
    print(f"{max(gaps):.3f}", file=sys.stderr)

aioexpect.run(main())
"""


async def test_a_terminal_that_does_not_keep_up_does_not_stop_the_event_loop(tmp_path: Path):
    """Output waits (and the session reads no further than a bounded amount
    ahead) while the terminal is full; the program's other tasks go on."""
    script = tmp_path / "slow.py"
    script.write_text(SLOW_TERMINAL)
    async with aioexpect.spawn(
        "sh", ["-c", f"sleep 5 | {sys.executable} {script} | (sleep 1; wc -c)"], timeout=30
    ) as outer:
        m = await outer.expect(r"(\d+\.\d+)\r\n")
        assert float(m.group(1)) < 0.5, f"the loop stood still {m.group(1)} s"
        await outer.expect_exact("3000000")  # every byte reached the terminal
        assert await outer.wait() == 0


async def test_interact_refuses_what_it_cannot_use(monkeypatch: pytest.MonkeyPatch):
    async with aioexpect.spawn("cat", timeout=5) as s:
        with pytest.raises(ValueError, match="one character"):
            await s.interact(escape_character="~.")
        monkeypatch.setattr(sys, "stdin", None)
        with pytest.raises(ValueError, match="standard input; it is not open"):
            await s.interact()
        await s.sendline("usable")
        await s.expect_exact("usable\r\nusable")


CANCELLED = r"""
import asyncio, sys, aioexpect

async def main():
    if sys.argv[2] == "strip_ansi":  # each number erases its row's rest: ESC[K, and ESC[m
        shell = "seq 1 200000 | sed 's/.*/&\033[K\033[m/'"
        opened = aioexpect.spawn("sh", ["-c", shell], strip_ansi=True, timeout=30)
    else:
        opened = aioexpect.spawn("seq", ["1", "200000"], timeout=30)
    async with opened as s:
        try:
            await asyncio.wait_for(s.interact(), 0.5)  # the terminal takes nothing meanwhile
        except TimeoutError:
            pass
        with open(sys.argv[3], "w") as go:  # the terminal takes what it has now
            go.write("go\n")
        rest = await s.read_all()
    with open(sys.argv[1], "w", newline="") as f:
        f.write(rest)

aioexpect.run(main())
"""


@pytest.mark.parametrize("options", ["plain", "strip_ansi"])
async def test_output_the_terminal_had_not_taken_when_interact_is_cancelled_is_kept(
    tmp_path: Path, options: str
):
    # It was dropped: up to 1 MiB waiting for the terminal vanished, the
    # program's next read went on ~100,000 lines later.  Under strip_ansi
    # the terminal gets the control sequences, and what it had not taken
    # went back to the program with them: its reads showed ESC[K.
    # (The terminal waits for the word that interact was cancelled, not 2 s
    # that a loaded machine may spend starting Python: it took all then.)
    script, shown, rest = tmp_path / "cancel.py", tmp_path / "shown", tmp_path / "rest"
    script.write_text(CANCELLED)
    go = tmp_path / "go"
    os.mkfifo(go)
    terminal = f"(read -r _ < {go}; cat > {shown})"
    line = f"sleep 5 | {sys.executable} {script} {rest} {options} {go} | {terminal}"
    async with aioexpect.spawn("sh", ["-c", line], timeout=30) as outer:
        await outer.expect(aioexpect.EOF)
        assert await outer.wait() == 0
    expected = "".join(f"{i}\r\n" for i in range(1, 200001))
    given, read = shown.read_bytes().decode(), rest.read_bytes().decode()
    assert len(given) < len(expected) // 2  # (the terminal did fall behind)
    if options == "strip_ansi":
        assert "\x1b" not in read  # (a sequence cut by the terminal's share: ends in it)
        assert given.count("\x1b[K\x1b[m") >= given.count("\r\n") - 1
        # (what the terminal got, stripped; a sequence it got the start of
        # left out: the program reads none of it, not the rest either)
        given = AnsiStripper("").feed(given)
    assert given + read == expected


TWO = r"""
import asyncio, aioexpect

async def main():
    async with aioexpect.spawn("cat", timeout=10) as a, aioexpect.spawn("cat", timeout=10) as b:
        first = asyncio.ensure_future(a.interact())
        await asyncio.sleep(0.2)
        try:
            await b.interact()
        except aioexpect.BusyError as exc:
            print("\r\nSECOND:", exc, flush=True)
        await first
        print("\r\nFIRST-RETURNED", flush=True)
        await b.interact()  # the terminal is free again
        print("\r\nTHEN-B-RETURNED", flush=True)

aioexpect.run(main())
"""


async def test_a_second_interact_on_the_same_terminal_is_busy(tmp_path: Path):
    # Both took stdin: the second's end removed the only reader, and the
    # first never saw its escape key.
    script = tmp_path / "two.py"
    script.write_text(TWO)
    async with aioexpect.spawn(sys.executable, [str(script)], timeout=15) as outer:
        await outer.expect_exact("SECOND: this process's terminal is already in interact()")
        await outer.send("to a\r")
        await outer.expect_exact("to a\r\nto a")  # the terminal's echo by a's pty, cat's copy
        await outer.send("\x1d")
        await outer.expect_exact("FIRST-RETURNED")
        await outer.send("\x1d")
        await outer.expect_exact("THEN-B-RETURNED")
        assert await outer.wait() == 0


NO_SIZE = r"""
import fcntl, struct, sys, termios, aioexpect

async def main():
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))  # as docker exec -t
    async with aioexpect.spawn("sh", timeout=10, dimensions=(24, 80)) as sh:
        size = __import__("os").get_terminal_size(0)
        print(f"INTERACT-START {size.lines}x{size.columns}", flush=True)
        await sh.interact()

aioexpect.run(main()) if sys.argv[1] == "uvloop" else __import__("asyncio").run(main())
"""


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
async def test_a_terminal_without_a_size_at_first_is_followed_once_it_has_one(
    tmp_path: Path, loop: str
):
    # Nothing watched the size when it was 0x0 at the start.
    script = tmp_path / "nosize.py"
    script.write_text(NO_SIZE)
    async with aioexpect.spawn(
        sys.executable, [str(script), loop], timeout=15, dimensions=(30, 100)
    ) as outer:
        await outer.expect_exact("INTERACT-START 0x0")
        await outer.sendline("stty size")  # (interact runs: the shell answers)
        await outer.expect(r"24 80\r\n")  # (sh's first prompt may come after the echo)
        await resize_seen(outer, 40, 120)
        await outer.send("\x1d")
        assert await outer.wait() == 0


FULL = r"""
import asyncio, sys, aioexpect

async def main():
    shell = "seq 1 1000; read x; echo GOT$x; exec cat"
    async with aioexpect.spawn("sh", ["-c", shell], timeout=10, max_buffer=1000) as s:
        while len(s.buffer) < 1000:  # the program reads nothing: reading pauses
            await asyncio.sleep(0.01)
        print("INTERACT-START", flush=True)
        await s.interact()
        await s.sendline("after")
        m = await s.expect_exact("after\r\nafter\r\n")
        print("\r\nPROGRAM-READ", repr(m.before), flush=True)

aioexpect.run(main()) if sys.argv[1] == "uvloop" else asyncio.run(main())
"""


async def test_interact_with_a_full_buffer_shows_everything_in_order(tmp_path: Path, aio_loop: str):
    # The output held back behind the full buffer was shown first, and the
    # buffered text after it, out of order.
    script = tmp_path / "full.py"
    script.write_text(FULL)
    async with aioexpect.spawn(sys.executable, [str(script), aio_loop], timeout=15) as outer:
        await outer.expect_exact("INTERACT-START\r\n")
        shown = (await outer.expect_exact("1000\r\n")).before
        assert shown + "1000\r\n" == "".join(f"{n}\r\n" for n in range(1, 1001))
        await outer.send("zz\r")
        await outer.expect_exact("GOTzz\r\n")
        await outer.send("\x1d")
        await outer.expect_exact("PROGRAM-READ ''")  # nothing shown comes again
        assert await outer.wait() == 0


HUNG_UP = r"""
import asyncio, contextlib, fcntl, logging, os, signal, sys, termios, aioexpect

signal.signal(signal.SIGHUP, signal.SIG_IGN)  # (nohup, or a program that saves its state first)
fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the terminal is this program's own, as a login's is
logging.basicConfig(filename=sys.argv[1] + ".log", level=logging.DEBUG)

def note(line):  # (nothing can be printed to a terminal that is gone)
    with open(sys.argv[1], "a") as f:
        f.write(line + "\n")

async def main():
    async with aioexpect.spawn("sh", ["-c", "echo HELLO; exec cat"], timeout=10) as s:
        await s.expect_exact("HELLO\r\n")
        await s.sendline("READY")  # (its echo and cat's copy wait in the buffer)
        # Until both are there: cat reads the line after the terminal echoed it,
        # and under load its copy came after the echo of "after" below, or
        # after the bridge had ended (1 run in 50; the test failed).
        for _ in range(1000):
            if s.buffer == "READY\r\nREADY\r\n":
                break
            await asyncio.sleep(0.01)
        if sys.argv[2] == "before":
            print("READY", flush=True)
            with contextlib.suppress(OSError):  # (EIO, or end of file)
                while os.read(0, 1024):  # until the terminal hangs up
                    pass
            os.isatty = lambda fd: True  # (it was a terminal when interact looked)
        # (else READY is shown by interact, its terminal mode set)
        try:
            await s.interact()
            note("RETURNED")
        except BaseException as exc:
            note(f"RAISED {type(exc).__module__}.{type(exc).__name__}: {exc}")
        await s.sendline("after")
        m = await s.expect_exact("after\r\nafter\r\n")
        note("PROGRAM-READ " + repr(m.before))

aioexpect.run(main())
"""


async def _hung_up(script: Path, result: Path, when: str) -> int | None:
    """Run ``script`` in a terminal of its own, hang that terminal up (close
    its master side) once the script said READY, and return its exit status."""
    master, slave = os.openpty()
    try:
        args = [str(script), str(result), when]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
    finally:
        os.close(slave)
    reader = asyncio.StreamReader()
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(master, "rb", buffering=0)
    )
    try:
        await reader.readuntil(b"READY\r\n")  # (all of the line: print is done)
    finally:
        transport.close()  # the terminal hangs up
    return await proc.wait()


@pytest.mark.parametrize("when", ["meanwhile", "before"])
async def test_interact_returns_when_the_persons_terminal_hangs_up(tmp_path: Path, when: str):
    """The window closed, or the SSH connection to it dropped, in a program
    that outlives SIGHUP: that is the end of the person's input.  Restoring
    the terminal's mode (and, when it hung up before interact set it, setting
    it) raised termios.error EIO out of interact().  A terminal gone before
    the bridge began took nothing from the program's buffer."""
    script, result = tmp_path / "hung_up.py", tmp_path / "result"
    script.write_text(HUNG_UP)
    assert await _hung_up(script, result, when) == 0
    before = "READY\r\nREADY\r\n" if when == "before" else ""  # (else shown, and gone)
    assert result.read_text() == f"RETURNED\nPROGRAM-READ {before!r}\n"
    assert "the terminal hung up" in (tmp_path / "result.log").read_text()


GONE_INPUT = r"""
import sys, aioexpect

async def main():
    async with aioexpect.spawn("cat", timeout=10) as s:
        try:
            await s.interact()
            print("RETURNED", file=sys.stderr)
        except BaseException as exc:
            print(f"RAISED {type(exc).__name__}: {exc}", file=sys.stderr)
        await s.sendline("after")
        await s.expect_exact("after\r\nafter\r\n")
        print("USABLE", file=sys.stderr)

aioexpect.run(main())
"""


async def test_interact_returns_when_reading_the_persons_input_gives_eio(tmp_path: Path):
    """A read of a terminal whose other side is gone fails with EIO (a pty
    master whose terminal closed; the moment a terminal hangs up, for a
    reader woken before the hang-up is done): that is the end of the
    person's input, not an OSError out of interact()."""
    master, slave = os.openpty()
    os.close(slave)  # (every read of the master: EIO)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            GONE_INPUT,
            stdin=master,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    finally:
        os.close(master)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert (proc.returncode, err.decode()) == (0, "RETURNED\nUSABLE\n")


ENCODING = r"""
import aioexpect

async def main():
    shell = "stty -echo; printf 'READY\\351\\n'; head -c 2 | od -An -tx1; exec cat"
    async with aioexpect.spawn("sh", ["-c", shell], encoding="latin-1", timeout=10) as s:
        await s.interact()

aioexpect.run(main())
"""


async def test_interact_types_in_the_sessions_encoding(tmp_path: Path):
    """An old device in Latin-1: what it prints is shown in UTF-8, and what
    the person types (UTF-8, from their terminal) reaches it in Latin-1.
    Typing é sent c3 a9, the UTF-8 bytes as they came."""
    script = tmp_path / "encoding.py"
    script.write_text(ENCODING)
    async with aioexpect.spawn(sys.executable, [str(script)], encoding=None, timeout=15) as outer:
        await outer.expect_exact("READY\xe9\r\n".encode())  # (é, from Latin-1 \351)
        await outer.send("\xe9\r".encode())  # the person types é, then Enter
        await outer.expect_exact(b" e9 0a\r\n")  # (Enter is \n to the device: \r, mapped)
        await outer.send(b"\x1d")
        await outer.expect(aioexpect.EOF)
        assert await outer.wait() == 0


def _typing(*keys: bytes) -> Callable[[], Awaitable[bytes]]:
    """A person who types ``keys``, one read each, then ends their input."""
    reads = iter([*keys, b""])

    async def read_input() -> bytes:
        return next(reads)

    return read_input


@pytest.mark.parametrize(
    ("options", "typed", "sent"),
    [
        pytest.param(
            {"encoding": "latin-1"},
            [b"caf\xc3", b"\xa9 \xe2\x82", b"\xac!"],
            b"caf\xe9 ?!",
            id="split-across-reads",
        ),
        pytest.param({"encoding": "cp1252"}, [b"\xe2\x82\xac \xc3\xa9"], b"\x80 \xe9", id="cp1252"),
        pytest.param(
            {"encoding": "latin-1", "codec_errors": "strict"},
            [b"\xe2\x82\xac\xff!"],
            b"??!",
            id="strict",
        ),
        pytest.param(
            {"encoding": "latin-1", "codec_errors": "backslashreplace"},
            [b"\xe2\x82\xac"],
            b"\\u20ac",
            id="backslashreplace",
        ),
        pytest.param(
            {"encoding": "latin-1", "codec_errors": "surrogateescape"},
            [b"\xe9\xc3\xa9"],
            b"\xe9\xe9",
            id="surrogateescape",
        ),
        pytest.param({"encoding": "latin-1"}, [b"\xc3", b"\xa9\x1dnot sent"], b"\xe9", id="escape"),
        pytest.param({"encoding": "utf-16-le"}, [b"\xc3", b"\xa9a"], b"\xe9\x00a\x00", id="utf-16"),
        pytest.param({"encoding": "utf-8"}, [b"\xc3", b"\xa9\xff"], b"\xc3\xa9\xff", id="utf-8"),
        pytest.param({"encoding": None}, [b"\xc3", b"\xa9\xff"], b"\xc3\xa9\xff", id="bytes"),
    ],
)
async def test_what_is_typed_into_a_bridge_is_sent_in_the_sessions_encoding(
    options: dict[str, str | None], typed: list[bytes], sent: bytes
):
    """A character split across reads arrives whole; ``codec_errors`` says
    what one the encoding has none for becomes (``"strict"``: as
    ``"replace"``, a key must not end the bridge); the escape character is
    found in the bytes as typed; UTF-8 and bytes sessions take those bytes
    as they come."""
    async with opened(**options) as (session, peer):
        await bridge(session, _typing(*typed), lambda shown: None, "\x1d")
        await session.close()
        assert await read_all(peer) == sent


async def test_keys_sent_after_the_programs_text_take_no_second_byte_order_mark():
    async with opened(encoding="utf-16") as (session, peer):
        await session.send("a")
        await bridge(session, _typing(b"\xc3\xa9"), lambda shown: None, None)
        await session.close()
        assert await read_all(peer) == "a\xe9".encode("utf-16")


STRIPPED = r"""
import aioexpect

async def main():
    shell = "read x; printf '\033[1mBOLD\033[0m\033[2J\n'; read y; printf '\033[32mGREEN\033[0m\n'"
    async with aioexpect.spawn("sh", ["-c", shell], strip_ansi=True, timeout=10) as s:
        print("INTERACT-START", flush=True)
        await s.interact()
        await s.sendline("y")
        m = await s.expect_exact("GREEN")
        print(f"\r\nPROGRAM-SAW {m.before + m.after!r}", flush=True)

aioexpect.run(main())
"""


async def test_interact_shows_control_sequences_that_strip_ansi_takes_from_the_program(
    tmp_path: Path,
):
    """``strip_ansi`` is for what the program reads: the person's terminal
    gets the colours and cursor moves as they came (a full-screen program,
    or readline redrawing a line, is unusable without them), and the
    program still reads stripped text after ``interact()``."""
    script = tmp_path / "stripped.py"
    script.write_text(STRIPPED)
    async with aioexpect.spawn(sys.executable, [str(script)], encoding=None, timeout=15) as outer:
        await outer.expect_exact(b"INTERACT-START")
        await outer.send(b"go\r")
        await outer.expect_exact(b"\x1b[1mBOLD\x1b[0m\x1b[2J\r\n")
        await outer.send(b"\x1d")
        await outer.expect_exact(b"PROGRAM-SAW 'y\\r\\nGREEN'")
        await outer.expect(aioexpect.EOF)
        assert await outer.wait() == 0


@pytest.mark.parametrize("keep", [False, True])
async def test_a_control_sequence_cut_before_a_bridge_reaches_the_person_whole(keep: bool):
    """The program read up to where a colour's sequence was cut (the
    stripper held its start); the person's terminal gets it whole, not
    ``1mRED`` (and, with ``keep``, the program still reads stripped text)."""
    async with opened(strip_ansi=True) as (session, peer):
        await peer.write(b"prompt> \x1b[3")
        await session.expect_exact("prompt> ")
        shown: list[str] = []
        with session.divert(shown.append, keep=keep):
            await peer.write(b"1mRED\x1b[0m\r\n")
            await wait_until(lambda: "\r\n" in "".join(shown), "the line is shown")
        assert "".join(shown) == "\x1b[31mRED\x1b[0m\r\n"
        await peer.write(b"\x1b[1mnext\x1b[0m\r\n")
        assert await session.read_until("next\r\n") == "next\r\n"


COLOURED = r"""
import aioexpect

async def main():
    env = {"PS1": "\\[\\e[32m\\]myhost>\\[\\e[0m\\] ", "PATH": "/usr/bin:/bin", "TERM": "xterm"}
    bash = aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, strip_ansi=True, timeout=3)
    async with bash as sh:
        sh.set_prompt("myhost> ")
        print("FIRST=" + repr(await sh.execute("echo one")), flush=True)
        await sh.interact()
        try:
            answer = repr(await sh.execute("echo after"))
        except aioexpect.ExpectTimeout as exc:
            answer = f"timed out: {exc}"
        print(f"\r\nAFTER={answer}", flush=True)

aioexpect.run(main())
"""


async def test_a_coloured_prompt_the_person_saw_under_strip_ansi_answers_the_command(
    tmp_path: Path,
):
    """The person's command answered and its prompt shown (in colour: the
    terminal gets the sequences), nothing is owed: the next execute sends
    at once.  The prompt was looked for in the output as shown, where the
    colour's sequences cut it: execute waited for a prompt that had come,
    and timed out."""
    script = tmp_path / "coloured.py"
    script.write_text(COLOURED)
    async with aioexpect.spawn(sys.executable, [str(script)], timeout=15) as outer:
        await outer.expect_exact("FIRST='one\\n'")
        await outer.send("echo HI\r")
        await outer.expect_exact("HI\r\n")
        await outer.expect_exact("\x1b[32mmyhost>\x1b[0m ")  # (shown in colour)
        await outer.send("\x1d")
        await outer.expect_exact("AFTER=")
        assert (await outer.expect_exact("\r\n")).before == repr("after\n")
        await outer.expect(aioexpect.EOF)
        assert await outer.wait() == 0


async def _no_keys() -> bytes:
    await asyncio.Event().wait()  # (a person who types nothing: the bridge is cancelled)
    return b""


async def _cancelled_behind(data: bytes, **options: object) -> tuple[bytes, object]:
    """interact() cancelled while its terminal (a pipe nobody reads) is
    behind, ``data`` received: what the terminal got, and what went back
    to the program (the session's buffer)."""
    read_end, write_end = os.pipe()
    try:
        async with opened(strip_ansi=True, **options) as (session, peer):
            output = Output(session, write_end)
            try:
                task = asyncio.ensure_future(
                    bridge(session, _no_keys, output.write, None, output=output)
                )
                await wait_until(lambda: session._sink is not None, "the bridge began")
                await peer.write(data)
                await wait_until(lambda: session.bytes_in == len(data), "all was read")
                task.cancel()
                await asyncio.wait([task])
            finally:
                output.close()
            os.set_blocking(read_end, False)
            shown = bytearray()
            with contextlib.suppress(BlockingIOError):
                while chunk := os.read(read_end, 1 << 16):
                    shown += chunk
            return bytes(shown), session.buffer
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.mark.parametrize("offset", range(10))
async def test_a_sequence_the_terminal_took_the_start_of_leaves_no_rest_to_the_program(
    offset: int,
):
    """interact() cancelled while its terminal is behind: what it had not
    taken goes back to the program stripped.  The terminal takes up to
    wherever its buffer ends, also inside a colour's sequence (each
    ``offset`` cuts another place in it): the rest of that sequence went
    back as text, the program read ``1mX``."""
    unit = b"\x1b[31mX\x1b[0m"  # (10 bytes)
    data = b"Y" * offset + unit * 10_000  # (more than the pipe takes)
    shown, given = await _cancelled_behind(data)
    assert 0 < len(shown) < len(data)  # (the terminal did fall behind)
    visible = AnsiStripper(b"").feed(shown).decode()  # (its cut sequence aside)
    assert given[:3] == "XXX"  # (not the rest of a sequence: 1mX)
    assert visible + given == "Y" * offset + "X" * 10_000


LONG = {  # (each longer than 5,000 bytes)
    "title": b"\x1b]0;" + b"t" * 30_000 + b"\x07",
    "hyperlink": b"\x1b]8;;http://x/" + b"p" * 30_000 + b"\x1b\\",
    "sixel": b"\x1bPq" + b"#0;2;0;0;0#0~~@@vv@@~~$-" * 1_250 + b"\x1b\\",
    "CJK title": b"\x1b]2;" + "漢".encode() * 3_000 + b"\x07",  # (3,004 characters)
}


@pytest.mark.parametrize("encoding", ["utf-8", None])
@pytest.mark.parametrize("sequence", LONG)
async def test_a_long_sequence_the_terminal_took_part_of_leaves_no_rest_to_the_program(
    sequence: str, encoding: str | None
):
    """The same, the terminal's buffer (64 KiB) ending 5,000 bytes into a
    long sequence.  The end of what it took was kept, its last 4 KB, where
    the sequence did not begin: its rest went back as text (the program
    read thousands of ``t``, a sixel's pixels, a title's characters)."""
    before = (1 << 16) - 5_000
    data = b"Y" * before + LONG[sequence] + b"after\r\n"
    shown, given = await _cancelled_behind(data, encoding=encoding)
    assert before + 4_096 < len(shown) < before + len(LONG[sequence])  # (cut deep inside)
    assert given == (b"after\r\n" if encoding is None else "after\r\n")
