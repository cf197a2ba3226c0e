"""What ``execute`` counts as a line's end, and a redraw it owes.

- A ``linesep`` of CR LF on a terminal (a pty, SSH with one) is two
  Enters: ``execute``'s own command was two lines, the empty one's prompt
  taken for the end of the next command's answer.  It now goes as one
  line, the CR LF as CR (a terminal's Enter key).
- Over telnet a CR LF split across two sends is one Enter (the transport
  drops the LF): it was counted as two, the catch-up waiting for a prompt
  that never came.  Not once the peer answered the CR in between (or a
  Ctrl-C went between): the LF goes as a key of its own, an empty line,
  which was counted as none, and the next answer taken for the command's.
  A send cut short that begins with that LF (dropped) counted it too.
- With ICRNL off (``stty -icrnl``) a CR LF is one line end, the CR the
  line's: it was counted as two, and the command's echo (``^M`` at its
  end) stayed in the answer.  Only there: with the default ``linesep``,
  output reading as the command and ``^M`` is no echo.
- An ``execute`` cancelled while it waited for the redraw after
  ``set_winsize`` cleared it: the next one took a late redraw for its
  answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import pathlib
import re
import signal
import struct
import sys
import termios
from collections.abc import AsyncIterator
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import _prompt, _prompt_send, _typed

from .helpers import wait_until
from .test_execute_cut_cancel import cancelled_at_its_wait
from .test_ssh import connect as connect_ssh
from .test_ssh import ssh_server
from .test_telnet import connect as connect_telnet
from .test_telnet import telnet_server

#: bash counting the prompts it shows (one for each Enter), in ``$n``.
ENV = {"PS1": "$ ", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TERM": "xterm"}
ENV["PROMPT_COMMAND"] = "n=$((n+1))"
BASH = ["bash", "--norc", "--noprofile"]


async def bash_in_a_pty(
    sessions: list[asyncio.Future[Any]],
    process: asyncssh.SSHServerProcess[bytes],
    argv: tuple[str, ...] = tuple(BASH),
    env: dict[str, str] | None = None,
) -> None:
    """An SSH server's session: bash (or ``argv``, with ``env``) in a pty
    of the server's, as sshd runs it; its task added to ``sessions``."""
    task = asyncio.current_task()
    assert task is not None
    sessions.append(task)
    master, slave = os.openpty()
    cols, rows, _, _ = process.term_size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    child = await asyncio.create_subprocess_exec(
        *argv, stdin=slave, stdout=slave, stderr=slave, env=env or ENV, start_new_session=True
    )
    os.close(slave)
    os.set_blocking(master, False)
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()

    def readable() -> None:
        try:
            data = os.read(master, 65536)
        except OSError:  # (EIO: bash ended)
            data = b""
        if not data:
            loop.remove_reader(master)
            ended.set()
        elif not process.stdout.is_closing():
            process.stdout.write(data)

    async def typed() -> None:
        try:
            while data := await process.stdin.read(65536):
                os.write(master, data)
        except (asyncssh.Error, OSError):
            pass
        finally:  # (the client gone: bash ends too)
            ended.set()

    loop.add_reader(master, readable)
    reading = asyncio.ensure_future(typed())
    try:
        await ended.wait()
    finally:
        reading.cancel()
        with contextlib.suppress(BaseException):
            await reading
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
        loop.remove_reader(master)
        os.close(master)
        process.exit(0)


@contextlib.asynccontextmanager
async def bash_session(via: str) -> AsyncIterator[aioexpect.Session]:
    if via == "pty":
        async with aioexpect.spawn(BASH[0], BASH[1:], env=ENV, timeout=10) as s:
            yield s
    else:
        sessions: list[asyncio.Future[Any]] = []
        async with ssh_server(functools.partial(bash_in_a_pty, sessions)) as server:
            async with connect_ssh(server) as s:
                assert s.transport.get_extra_info("pty")
                yield s
            await asyncio.wait_for(asyncio.gather(*sessions), 10)  # (bash reaped)


@pytest.mark.parametrize("via", ["pty", "ssh"])
@pytest.mark.parametrize("unique", [False, True], ids=["bash's prompt", "set_unique_prompt"])
async def test_a_crlf_linesep_on_a_terminal_sends_each_command_as_one_line(
    via: str, unique: bool
) -> None:
    # The old code sent 'echo one\r\n', two Enters: 'sleep 0.05; echo two'
    # returned '\n' (the empty line's prompt), the next one that answer
    # and its own; or an answer ended with the next prompt ('one\n$ \n').
    async with bash_session(via) as s:
        s.linesep = "\r\n"
        if unique:
            await s.set_unique_prompt()  # (its line one, too)
        assert await s.execute("n=0") == ""
        assert await s.execute("echo one") == "one\n"
        assert await s.execute("sleep 0.05; echo two") == "two\n"
        assert await s.execute("echo three") == "three\n"
        if not unique:  # (set_unique_prompt unsets PROMPT_COMMAND)
            assert await s.execute("echo $n") == "4\n"  # (one Enter each: one prompt)
        await s.sendline("echo typed")  # (two lines to a terminal: both read to)
        assert await s.execute("echo four") == "four\n"


#: A program reading lines (bash's read) in a pty with ICRNL off.
READ_LOOP = 'stty -icrnl; while printf "$ " && IFS= read -r l; do eval "$l"; done'


@pytest.mark.parametrize("echoctl", ["echoctl", "-echoctl"])
@pytest.mark.parametrize("shell", ["read loop", "bash"])
async def test_a_crlf_linesep_where_cr_is_no_enter_ends_each_line_once(
    shell: str, echoctl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the LF ends a line there.  Sent as CR alone, the command never
    # reached the program and every execute ran out of time.  execute sends
    # its LF alone (test_enter_no_icrnl); sendline sends it whole, one line,
    # 'echo typed\r' (its echo shows the CR, as ^M under ECHOCTL), which was
    # counted as two, the catch-up waiting for a second prompt ("1 still owed").
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (the count is tested, not its wait)
    args = [*BASH[1:], "-c", READ_LOOP] if shell == "read loop" else BASH[1:]
    async with aioexpect.spawn(BASH[0], args, env=ENV, timeout=10) as s:
        if shell == "bash":
            await s.set_unique_prompt()  # (bash without its line editor: canonical mode)
            assert await s.execute("stty -icrnl") == ""
        assert await s.execute(f"stty {echoctl}") == ""
        s.linesep = "\r\n"
        for word in ("one", "two"):
            assert await s.execute(f"echo {word}", timeout=5) == f"{word}\n"
        await s.sendline("echo typed")  # (one line: one prompt)
        assert await s.execute("echo ok", timeout=5) == "ok\n"
        assert await s.execute("echo three", timeout=5) == "three\n"


async def test_a_send_cut_short_where_cr_is_no_enter_counts_its_lfs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Lines ending in CR LF, to a program reading lines with ICRNL off,
    # stopped: the send is cut short, and each of its 600 lines owes a
    # prompt (those before the end kept counted by count_long).  The old code
    # counted the CR and the LF of each: 'echo ok' waited for 600 prompts
    # more, and ran out of time.
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (the count is tested, not its wait)
    loop = 'stty -icrnl -echo; printf "$ "; kill -STOP $$'
    loop += '; while IFS= read -r l; do eval "$l"; printf "$ "; done'
    async with aioexpect.spawn(BASH[0], [*BASH[1:], "-c", loop], env=ENV, timeout=10) as s:
        s.set_prompt(r"(?m)^\$ ")  # (each prompt found, also where several are buffered)
        await s.expect_prompt()
        data = "".join(f"echo {i:03} {'x' * 60}\r\n" for i in range(600))
        with pytest.raises(TimeoutError):  # (the caller's own time-out)
            await asyncio.wait_for(s.send(data), 0.5)
        os.kill(s.transport.get_extra_info("pid"), signal.SIGCONT)
        assert await s.execute("echo ok", timeout=30) == "ok\n"
        assert await s.execute("echo two") == "two\n"


@pytest.mark.parametrize("echo", ["echo", "-echo"])
async def test_output_reading_as_the_command_and_a_caret_m_is_no_echo(
    echo: str, tmp_path: pathlib.Path
) -> None:
    # With the default linesep no CR goes with a line, and none is echoed as
    # ^M: a first line of output that reads '<command>^M' is output (the
    # terminal's echo off, nothing else comes before it).  Taken for the
    # ^M form of the echo (ICRNL off, a CR LF linesep), it was dropped.
    path = tmp_path / "out"
    command = f"cat {path}"
    path.write_text(f"{command}^M\nrest\n")
    async with aioexpect.spawn(BASH[0], BASH[1:], env=ENV, timeout=10) as s:
        await s.set_unique_prompt()
        assert await s.execute(f"stty {echo}") == ""
        assert await s.execute(command) == f"{command}^M\nrest\n"


def test_a_crlf_linesep_goes_whole_where_it_is_one_line_end() -> None:
    class Peer:
        def __init__(self, kind: str, pty: bool, linesep: str) -> None:
            self.transport = self
            self.kind, self.pty, self.linesep = kind, pty, linesep

        def get_extra_info(self, name: str) -> Any:
            return self.pty if name == "pty" else None

        def canonical_line(self) -> None:  # (a line editor's raw mode: CR is Enter)
            return None

    session: Any = Peer("pty", True, "\r\n")
    assert _prompt_send.one_enter(session, "x") == "x\r"
    session = Peer("ssh", True, "\r\n")
    assert _prompt_send.one_enter(session, "x") == "x\r"
    for kind, pty, linesep in [("ssh", False, "\r\n"), ("telnet", False, "\r\n"),
                               ("pipes", False, "\r\n"), ("pty", True, "\n"),
                               ("pty", True, "\r")]:  # fmt: skip
        assert _prompt_send.one_enter(Peer(kind, pty, linesep), "x") == "x" + linesep


# -- a CR LF split across sends, over telnet ----------------------------------------

Shell = Any


async def lines_read(reader: Any) -> AsyncIterator[bytes]:
    """The lines a telnet shell reads from ``reader``: each ends at CR LF,
    CR NUL, CR or LF."""
    held = b""
    while data := await reader.read(65536):
        held += data
        while (end := re.search(rb"\r\n|\r\x00|\r|\n", held)) is not None:
            line, held = held[: end.start()], held[end.end() :]
            yield line


def held_after_one(lines: list[bytes], go: asyncio.Event) -> Shell:
    """A telnet shell that does not echo: ``echo X`` prints X; a line ends
    at CR LF, CR NUL, CR or LF; the answers after the first held until
    ``go`` is set.  ``lines``: the lines read."""

    async def shell(reader: Any, writer: Any) -> None:
        writer.write(b"$ ")
        async for line in lines_read(reader):
            lines.append(line)
            if len(lines) == 2:
                await go.wait()
            answer = line[5:] if line.startswith(b"echo ") else b"?%d" % len(line)
            writer.write(answer + b"\r\n$ ")
            await writer.drain()

    return shell


@pytest.mark.parametrize("between", [None, ""], ids=["", "an empty send between"])
async def test_a_crlf_split_across_two_sends_over_telnet_is_one_line(
    monkeypatch: pytest.MonkeyPatch, between: str | None
) -> None:
    # 'echo a\r', then '\necho b\r\n': telnet sends the CR as the Enter and
    # drops the LF; the old code counted three lines, read to two prompts
    # and waited for a third (STALE_WAIT; a time-out under a short timeout).
    # An empty send between writes nothing: the LF is dropped all the same.
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (the count is tested, not its wait)
    lines: list[bytes] = []
    go = asyncio.Event()
    async with telnet_server(held_after_one(lines, go)) as port, connect_telnet(port) as s:
        await s.expect_prompt()
        await s.send("echo a\r")
        if between is not None:
            await s.send(between)
        await s.send("\necho b\r\n")
        await wait_until(lambda: s.buffer == "a\r\n$ ", "the first line answered")
        task = asyncio.ensure_future(s.execute("echo ok", timeout=5))
        await wait_until(lambda: s.buffer == "" or task.done(), "its prompt read")
        go.set()  # (the second line's answer)
        assert await task == "ok\n"
        assert await s.execute("echo two") == "two\n"
        assert lines == [b"echo a", b"echo b", b"echo ok", b"echo two"]


def held(lines: list[bytes], go: asyncio.Event) -> Shell:
    """``held_after_one``'s shell, answering ``echo a`` at once and holding
    the other answers while ``go`` is not set (a Ctrl-C is a character of
    the line)."""

    async def shell(reader: Any, writer: Any) -> None:
        writer.write(b"$ ")
        async for line in lines_read(reader):
            lines.append(line)
            if line != b"echo a":
                await go.wait()
            answer = line[5:] if line.startswith(b"echo ") else b"?%d" % len(line)
            writer.write(answer + b"\r\n$ ")
            await writer.drain()

    return shell


@pytest.mark.parametrize("between", ["answered", "Ctrl-C"])
async def test_a_crlf_split_over_telnet_counts_the_empty_line_its_lf_makes(
    monkeypatch: pytest.MonkeyPatch, between: str
) -> None:
    # 'echo a\r', then '\necho b\r\n', the peer answering 'echo a' in between
    # (or a sendintr between the two): telnet sends that LF as a key of its
    # own, and the peer reads an empty line (or '\x03').  The old code
    # counted two lines, read to two prompts and sent 'echo ok' into the
    # third answer: it returned 'b\n'.  Then a CR LF split with nothing
    # heard between is one line end (the LF dropped), also after the
    # sendintr: told by what was written, its Ctrl-C no send of the session's.
    # (the count is tested, not its wait; after a Ctrl-C the count is unknown,
    # read to quiet: waited once, the answers released well within it)
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0 if between == "answered" else 2.0)
    lines: list[bytes] = []
    go = asyncio.Event()
    async with telnet_server(held(lines, go)) as port, connect_telnet(port) as s:
        s.set_prompt(r"(?m)^\$ ")  # (each prompt found, also where several are buffered)
        await s.expect_prompt()
        await s.send("echo a\r")
        if between == "answered":
            await wait_until(lambda: s.buffer == "a\r\n$ ", "the first line answered")
        else:
            await s.sendintr()
        await s.send("\necho b\r\n")
        await wait_until(lambda: s.buffer == "a\r\n$ ", "the first line answered")
        task = asyncio.ensure_future(s.execute("echo ok", timeout=10))
        await wait_until(lambda: s.buffer == "" or task.done(), "its prompt read")
        go.set()  # (the other answers)
        assert await task == "ok\n"
        go.clear()
        await s.send("echo c\r")
        await s.send("\necho d\r\n")
        task = asyncio.ensure_future(s.execute("echo two", timeout=10))
        go.set()
        assert await task == "two\n"
        assert lines == [b"echo a", b"" if between == "answered" else b"\x03", b"echo b",
                         b"echo ok", b"echo c", b"echo d", b"echo two"]  # fmt: skip


def read_when(lines: list[bytes], go: asyncio.Event) -> Shell:
    """``held``'s shell, reading nothing until ``go`` is set (what it is sent
    fills the buffers: a send is cut short, no answer coming in between)."""

    async def shell(reader: Any, writer: Any) -> None:
        writer.write(b"$ ")
        await go.wait()
        async for line in lines_read(reader):
            lines.append(line)
            writer.write(line[5:13] + b"\r\n$ ")  # ('echo X': X, the first 8 characters)
            await writer.drain()

    return shell


async def test_a_send_cut_short_over_telnet_beginning_with_a_dropped_lf(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 'echo a\r', then 4,000 lines beginning with the LF of that CR (dropped:
    # nothing heard between), the peer reading nothing: the send is cut
    # short, its lines before the end kept counted by count_long, which took
    # that LF for a line end.  The old code waited for one prompt more than
    # came: 'echo ok' ran out of time.
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (the count is tested, not its wait)
    lines: list[bytes] = []
    go = asyncio.Event()
    async with telnet_server(read_when(lines, go)) as port, connect_telnet(port) as s:
        s.set_prompt(r"(?m)^\$ ")  # (each prompt found, also where several are buffered)
        await s.expect_prompt()
        await s.send("echo a\r")
        data = "\n" + "".join(f"echo {i:08} {'x' * 4000}\r\n" for i in range(4000))
        with pytest.raises(TimeoutError):  # (the caller's own time-out)
            await asyncio.wait_for(s.send(data), 0.5)
        go.set()
        assert await s.execute("echo ok", timeout=20) == "ok\n"
        assert await s.execute("echo two") == "two\n"
        assert len(lines) == 4003 and lines[:2] == [b"echo a", b"echo 00000000 " + b"x" * 4000]


# -- a redraw owed after set_winsize -------------------------------------------------

#: A shell whose line editor redraws its prompt on SIGWINCH late: when it
#: reads the next line (a busy machine), in a piece of its own.
LATE_REDRAW = r"""
import signal, sys, termios, time
mode = termios.tcgetattr(0)
mode[3] &= ~termios.ECHO
termios.tcsetattr(0, termios.TCSANOW, mode)
resized = []
signal.signal(signal.SIGWINCH, lambda *_: resized.append(1))
sys.stdout.write("$ ")
sys.stdout.flush()
for line in sys.stdin:
    if resized:
        resized.clear()
        sys.stdout.write("\r\x1b[K$ ")
        sys.stdout.flush()
        time.sleep(0.1)
    line = line.rstrip("\n")
    sys.stdout.write(line + "\r\n" + line.removeprefix("echo ") + "\r\n$ ")
    sys.stdout.flush()
"""


async def test_an_execute_cancelled_waiting_for_a_redraw_leaves_it_owed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Cancelled there, the old code had cleared the redraw owed: the next
    # execute, sent at once, took the late redraw for its answer ('').
    monkeypatch.setattr(_prompt, "LATE_REDRAW_WAIT", 30.0)  # (its answer comes later)
    args = ["-c", LATE_REDRAW]
    async with aioexpect.spawn(sys.executable, args, timeout=10) as s:
        s.set_prompt(r"\$ $")
        assert await s.execute("echo first") == "first\n"
        s.set_winsize(30, 100)
        monkeypatch.setattr(_prompt, "REDRAW_WAIT", 30.0)  # (cancelled in that wait)
        await cancelled_at_its_wait(s)
        monkeypatch.setattr(_prompt, "REDRAW_WAIT", 0.05)  # (none comes before a line)
        assert await s.execute("echo ok") == "ok\n"
        assert await s.execute("echo two") == "two\n"
