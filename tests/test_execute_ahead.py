"""execute() after lines sent ahead whose prompts it counts (Rule 1 of
``_typed``): an empty line last, and a bulk send longer than the end of it
that the session keeps (``SEND_KEPT``).

An empty line's echo after its prompt (``$ \\r\\n``) was never taken for
that line read at it, so a send ending in one cost the wait for one more
prompt (``STALE_WAIT``) each time.  A bulk send counted the lines of its
kept end only: with its answers still coming, the next ``execute`` read to
that many prompts and returned an earlier line's answer as its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import _typed, _typed_echo
from aioexpect._session import SEND_KEPT
from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

from . import test_execute_cut
from .helpers import opened, wait_until
from .test_execute_cut import PEERS, Read, Write
from .test_execute_cut_lines import at_unread_prompt
from .test_virtual_device import connect as connect_to

#: Lines of the bulk send: more than ``SEND_KEPT`` characters.
BULK = 1000
ENV = {"PS1": "$ ", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TERM": "xterm"}
BASH = ["--norc", "--noprofile"]

#: ``test_execute_cut.CHILD`` that reads ``BULK`` lines, answers none of
#: them until SIGUSR1, then answers each: its answers lag behind the send.
LAGGING_CHILD = rf"""
import os, signal, sys, termios
signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGUSR1}})
if os.isatty(0):
    mode = termios.tcgetattr(0)
    mode[3] &= ~(termios.ECHO | termios.ICANON)
    termios.tcsetattr(0, termios.TCSANOW, mode)
sys.stdout.write("$ ")
sys.stdout.flush()
held = [sys.stdin.readline() for _ in range({BULK})]
signal.sigwait({{signal.SIGUSR1}})
def answer(line):
    line = line.rstrip("\r\n")
    sys.stdout.write((line[5:] if line.startswith("echo ") else f"?{{len(line)}}") + "\n$ ")
    sys.stdout.flush()
for line in held:
    answer(line)
for line in sys.stdin:
    answer(line)
"""


async def lagging_shell(read: Read, write: Write, go: asyncio.Event, lines: list[bytes]) -> None:
    """``test_execute_cut.shell`` that reads ``BULK`` lines and answers
    none of them until ``go``, then each."""
    await write(b"$ ")
    held, pending = bytearray(), []
    while data := await read():
        held += data
        while (end := held.find(b"\n")) >= 0:
            line = bytes(held[:end]).rstrip(b"\r")
            del held[: end + 1]
            lines.append(line)
            pending.append(line)
        if len(lines) >= BULK:
            await go.wait()
            for line in pending:
                answer = line[5:] if line.startswith(b"echo ") else b"?%d" % len(line)
                await write(answer + b"\r\n$ ")
            pending.clear()


def bulk() -> str:
    data = "".join(f"echo {i}\n" for i in range(BULK))
    assert len(data) > SEND_KEPT
    return data


@pytest.mark.parametrize("kind", list(PEERS))
async def test_each_line_of_a_bulk_send_longer_than_kept_owes_its_answer(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The old code counted the lines of the last 4096 characters only:
    # 'echo mine' returned an answer to one of the first lines ('480\n').
    monkeypatch.setattr(test_execute_cut, "shell", lagging_shell)
    monkeypatch.setattr(test_execute_cut, "CHILD", LAGGING_CHILD)
    async with at_unread_prompt(kind, monkeypatch) as (s, go, lines):
        await s.send(bulk())  # (the peer took it all, and answers none yet)
        running = asyncio.ensure_future(s.execute("echo mine", timeout=60))
        go()
        assert await running == "mine\n"
        assert await s.execute("echo two") == "two\n"
        if lines is not None:
            assert len(lines) == BULK + 2
            assert lines[-3:] == [b"echo 999", b"echo mine", b"echo two"]


async def test_a_bulk_send_to_bash_in_a_pty_owes_each_lines_answer() -> None:
    # bash reads and answers a line at a time; each prompt found on its own
    # ('(?m)^\$ '): the old code returned 'echo 456\n456\n' for 'echo mine'.
    env = dict(ENV, TERM="dumb")
    async with aioexpect.spawn("bash", BASH, env=env, timeout=30) as s:
        s.set_prompt(r"(?m)^\$ ")
        assert await s.execute("true") == ""
        await s.send(bulk())
        assert await s.execute("echo mine") == "mine\n"
        assert await s.execute("echo two") == "two\n"


async def test_a_long_secret_is_not_kept() -> None:
    # A secret is never kept as text, however long: one line, counted so
    # (over pipes: a terminal's line holds 4 KiB at most).
    env = dict(ENV, TERM="dumb")
    async with aioexpect.spawn("bash", [*BASH, "-i"], pty=False, env=env, timeout=10) as s:
        s.set_prompt(r"(?m)^\$ ")
        assert await s.execute("true") == ""
        await s.sendline("read -r x")
        secret = "s" * (2 * SEND_KEPT)
        await s.send_secret(secret)
        assert s._sends[-1][0] is None
        assert await s.execute("echo ${#x}") == f"{len(secret)}\n"


@pytest.mark.parametrize("empties", [1, 2])
@pytest.mark.parametrize("when", ["buffered", "coming"])
async def test_an_empty_line_sent_last_is_read_at_its_prompt(
    when: str, empties: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bash's line editor echoes an empty line after its prompt ('$ \r\n'):
    # the old code never took that for the line read at it, and waited for
    # one more prompt (STALE_WAIT): here past the timeout, 'echo mine' not
    # sent ('... 1 still owed').
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (the wait is what is tested)
    async with aioexpect.spawn("bash", BASH, env=ENV, timeout=10) as s:
        assert await s.execute("true") == ""
        await s.send("echo one\n" + "\n" * empties)
        if when == "buffered":
            await wait_until(lambda: s.buffer.count("$ ") > empties, "all answered")
        assert await s.execute("echo mine", timeout=5) == "mine\n"
        assert await s.execute("echo two", timeout=5) == "two\n"


@pytest.mark.parametrize("empties", [2, 3])
@pytest.mark.parametrize("when", ["buffered", "coming"])
async def test_empty_lines_sent_alone_are_read_at_their_prompts(
    when: str, empties: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Empty lines alone, sent at the last answer's prompt: the first one's
    # echo comes after that prompt, read before them.  Their answers read
    # at once (one read), the old code found no prompt before the first
    # echo, and waited for one more prompt (STALE_WAIT): here past the
    # timeout, 'echo mine' not sent ('... 1 still owed').
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (the wait is what is tested)
    async with aioexpect.spawn("bash", BASH, env=ENV, timeout=10) as s:
        assert await s.execute("true") == ""
        for _ in range(2):
            await s.send("\n" * empties)
            if when == "buffered":
                await wait_until(lambda: s.buffer.count("$ ") == empties, "all answered")
            assert await s.execute("echo mine", timeout=5) == "mine\n"


async def test_output_shaped_like_a_prompt_is_no_empty_lines_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A line of output shaped like a prompt ('box$ '), then the line's own
    # prompt: that is no empty line read at its prompt, which comes after.
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (the empty line's prompt is slow)
    go = tmp_path / "go"
    async with aioexpect.spawn("bash", BASH, env=ENV, timeout=10) as s:
        assert await s.execute("true") == ""
        await s.send(f"echo 'box$ '; until [ -e {go} ]; do sleep 0.01; done\n\n")
        await wait_until(lambda: "box$ \r\n" in s.buffer, "the output")
        running = asyncio.ensure_future(s.execute("echo mine", timeout=20))
        go.touch()
        assert await running == "mine\n"
        assert await s.execute("echo two") == "two\n"


@pytest.mark.parametrize("serve", [serve_ssh, serve_telnet], ids=["ssh", "telnet"])
async def test_an_empty_line_sent_last_to_a_device(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The VirtualDevice echoes an empty line after its prompt, as bash does.
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (the wait is what is tested)
    dev = VirtualDevice("r1", commands={f"show {x}": x.upper() * 3 for x in "abc"})
    async with serve(dev) as server, connect_to(serve, server) as s:
        assert await s.execute("show a") == "AAA\n"
        await s.send("show b\n\n")
        await wait_until(lambda: s.buffer.count("r1#") > 1, "all answered")
        assert await s.execute("show c", timeout=5) == "CCC\n"
        for _ in range(2):  # (alone: two to wake a device)
            await s.sendline("")
        await wait_until(lambda: s.buffer.count("r1#") > 1, "both answered")
        assert await s.execute("show a", timeout=5) == "AAA\n"


async def test_an_empty_line_before_the_last_is_not_taken_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 'echo a\r\necho b\r\n' to a terminal: four lines, two of them empty.
    # The first empty line's echo after its prompt ('$ \r\n$ ') looks as the
    # last one's would: taken for it, the catch-up stopped two prompts short
    # ('b\n' for 'echo mine').  Not told apart, the count costs the wait
    # once (more than bash takes for a line here, as in test_typed_lines).
    monkeypatch.setattr(_typed, "STALE_WAIT", 3.0)
    async with aioexpect.spawn("bash", BASH, env=ENV, timeout=10) as s:
        assert await s.execute("true") == ""
        await s.send("echo a\r\n")
        await wait_until(lambda: s.buffer.count("$ ") > 1, "the first two answered")
        await s.send("sleep 0.2; echo b\r\n")
        assert await s.execute("echo mine", timeout=10) == "mine\n"
        assert await s.execute("echo two", timeout=5) == "two\n"


async def _read_to(peer: Any, end: bytes) -> bytes:
    got = b""
    while not got.endswith(end):
        got += await asyncio.wait_for(peer.read(100), 5)
    return got


@pytest.mark.parametrize("apart", [False, True], ids=["together", "apart"])
async def test_output_showing_the_very_prompt_before_an_empty_lines_echo(apart: bool) -> None:
    # 'show' prints a row that is the very prompt ('$ '), then its prompt:
    # that reads as the empty line sent after it read at its prompt, and
    # execute sends while the empty line's echo and prompt are still to
    # come.  Its answer begins with them, not with its echo: the old code
    # returned '\n$ echo mine\nmine\n'.  An answer to a command with
    # visible characters never begins with a bare line end where answers
    # begin with their echo: it is the empty line's, dropped.
    async with opened(timeout=5) as (s, peer):
        await peer.write(b"$ ")
        await s.expect_prompt()
        running = asyncio.ensure_future(s.execute("true"))
        await _read_to(peer, b"true\n")
        await peer.write(b"true\r\n$ ")  # (answers begin with their echo)
        assert await running == ""
        await s.send("show\n\n")
        await _read_to(peer, b"show\n\n")
        await peer.write(b"show\r\nout\r\n$ \r\n$ ")
        running = asyncio.ensure_future(s.execute("echo mine"))
        assert await _read_to(peer, b"\n") == b"echo mine\n"
        answer = [b"\r\n$ ", b"echo mine\r\nmine\r\n$ "]  # (the empty line's echo and prompt first)
        for data in answer if apart else [b"".join(answer)]:
            await peer.write(data)
        assert await running == "mine\n"
        running = asyncio.ensure_future(s.execute("echo two"))
        assert await _read_to(peer, b"\n") == b"echo two\n"
        await peer.write(b"echo two\r\ntwo\r\n$ ")
        assert await running == "two\n"


#: Shells whose echo a test turns off: dash (no line editor) and bash
#: with readline on a dumb terminal.
SHELLS_WITH_ECHO_OFF = pytest.mark.parametrize(
    ("shell", "args", "term"),
    [("dash", ["-i"], "xterm"), ("bash", BASH, "dumb")],
    ids=["dash", "bash-dumb"],
)


@asynccontextmanager
async def echo_off(shell: str, args: list[str], term: str) -> AsyncIterator[aioexpect.Session]:
    """``shell`` in a pty, its prompt ``$ ``, its echo turned off."""
    async with aioexpect.spawn(shell, args, env={**ENV, "TERM": term}, timeout=5) as s:
        s.set_prompt(r"\$ $")
        assert await s.execute("stty -echo") == ""
        yield s


@SHELLS_WITH_ECHO_OFF
async def test_an_answer_beginning_with_an_empty_line_after_the_echo_went_off(
    shell: str, args: list[str], term: str
) -> None:
    # Echo turned off: the first answer after it has no echo (its command's
    # answer still had), and begins with its output's empty line.  An empty
    # line sent before and read at its prompt (Rule 1) is no reason to take
    # that for the empty line's echo: the old code dropped it and timed
    # out waiting for one more prompt.
    async with echo_off(shell, args, term) as s:
        await s.sendline("")
        assert await s.execute("printf '\\nx\\n'") == "\nx\n"
        await s.send("\n\n")
        assert await s.execute("printf '\\ny\\n'") == "\ny\n"


async def _answers_with_their_echo(s: aioexpect.Session, peer: Any) -> None:
    """The device's first prompt, then one answer: the session learns that
    its answers begin with their echo."""
    await peer.write(b"r1#")
    await s.expect_prompt()
    running = asyncio.ensure_future(s.execute("show a"))
    await _read_to(peer, b"show a\n")
    await peer.write(b"show a\r\nAAA\r\nr1#")
    assert await running == "AAA\n"


async def _stopped_short(s: aioexpect.Session, peer: Any) -> asyncio.Future[str]:
    """The device's answers learned, 'show x' and an empty line sent ahead,
    'show x' answered, the empty line's answer held, then 'show b' sent:
    Rule 1 stopped short of the empty line's prompt.  'show b''s execute,
    running."""
    await _answers_with_their_echo(s, peer)
    await s.send("show x\n\n")
    await _read_to(peer, b"show x\n\n")
    await peer.write(b"show x\r\nX\r\nr1#")
    running = asyncio.ensure_future(s.execute("show b"))
    await _read_to(peer, b"show b\n")
    return running


async def _answered(s: Any, peer: Any, command: str, answer: bytes, output: str) -> None:
    """``command`` executed, ``answer`` its peer's: ``output`` returned."""
    running = asyncio.ensure_future(s.execute(command))
    await _read_to(peer, command.encode() + b"\n")
    await peer.write(answer)
    assert await running == output


async def test_a_device_message_before_the_echo_is_no_empty_lines_answer() -> None:
    # A device's message (a line end first) comes after the command was
    # sent, before its echo; an empty line sent before was read at its
    # prompt.  The old code took the message's line end for that empty
    # line's echo, dropped the answer and timed out waiting for one more
    # prompt (main returns it, message and all, as here).
    async with opened(timeout=5) as (s, peer):
        await _answers_with_their_echo(s, peer)
        await s.sendline("")
        await _read_to(peer, b"\n")
        await peer.write(b"\r\nr1#")
        running = asyncio.ensure_future(s.execute("show b"))
        await _read_to(peer, b"show b\n")
        await peer.write(b"\r\n%SYS-5-CONFIG_I: Configured\r\nshow b\r\nBBB\r\nr1#")
        assert (await running).endswith("show b\nBBB\n")


@SHELLS_WITH_ECHO_OFF
async def test_an_answer_of_one_empty_line_after_the_echo_went_off(
    shell: str, args: list[str], term: str
) -> None:
    # As above, the answer an empty line alone ('\r\n$ '): the empty line
    # sent before had its prompt read (Rule 1), nothing it read looked like
    # that line echoed there, yet that answer was dropped as its echo and
    # execute timed out waiting for one more prompt (main returned '\n').
    async with echo_off(shell, args, term) as s:
        await s.sendline("")
        assert await s.execute("echo") == "\n"
        await s.sendline("")
        assert await s.execute("echo; echo z") == "\nz\n"
        assert await s.execute("echo") == "\n"


async def test_an_empty_lines_answer_later_than_the_wait_is_dropped() -> None:
    # 'show x' answered, then nothing within STALE_WAIT: the empty line sent
    # after it is taken for answered (Rule 1), and execute sends.  Its echo
    # and prompt come after all, in front of the command's echo: dropped by
    # Rule 2 as main does ('BBB\n'); the branch applied the bare-line-end
    # rule only where Rule 1 stopped at an echo, and returned
    # '\nr1#show b\nBBB\n'.
    async with opened(timeout=5) as (s, peer):
        running = await _stopped_short(s, peer)  # (the empty line's answer late)
        await peer.write(b"\r\nr1#show b\r\nBBB\r\nr1#")
        assert await running == "BBB\n"
        await _answered(s, peer, "show c", b"show c\r\nCCC\r\nr1#", "CCC\n")


@SHELLS_WITH_ECHO_OFF
async def test_empty_lines_answered_unechoed_then_an_empty_answer(
    shell: str, args: list[str], term: str
) -> None:
    # The echo off, two empty lines' prompts come glued ('$ $ '), read as
    # one: Rule 1 waits STALE_WAIT for the second and takes them for
    # answered.  No echo of theirs is coming: the answer of one empty line
    # is no such echo (taken for one, it timed out waiting for one more
    # prompt, as on main).
    async with echo_off(shell, args, term) as s:
        await s.send("\n\n")
        assert await s.execute("echo") == "\n"
        await s.send("echo q\n\n")
        assert await s.execute("echo") == "\n"
        assert await s.execute("echo z") == "z\n"


async def test_a_slow_devices_echo_after_an_empty_lines_late_prompt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A device slow to read each line (it echoes a line as it reads it):
    # the empty line's prompt came later than STALE_WAIT, Rule 1 stopped
    # short and sent 'show b'; its echo comes as late after that prompt.
    # Waiting for something to follow that prompt (as after an execute
    # cancelled before it sent, where that answer may be the command's
    # own), the old code took the bare line end for 'show b''s whole answer
    # and returned '\n'.  Here the wait is nil: the echo comes after it.
    monkeypatch.setattr(_typed_echo, "STALE_WAIT", 0.0)
    async with opened(timeout=5) as (s, peer):
        running = await _stopped_short(s, peer)  # (the empty line's answer slow)
        read = s._buffer.consumed
        await peer.write(b"\r\nr1#")
        await wait_until(lambda: s._buffer.consumed > read or running.done(), "the prompt read")
        await peer.write(b"show b\r\nBBB\r\nr1#")
        assert await running == "BBB\n"
        await _answered(s, peer, "show c", b"show c\r\nCCC\r\nr1#", "CCC\n")
