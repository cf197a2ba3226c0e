"""The prompts owed to lines sent before an ``execute`` (Rule 1 of
``_typed``), kept by a call given up on before it read them.

Lines sent with ``sendline`` (or by a send cut short) each owe a prompt:
``execute`` reads to them before it sends, and ``expect_prompt``, having
read one, leaves the rest to it.  A call that gave up in between dropped
that count: the next ``execute`` sent its command into the answers still
coming, and returned the first as its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import pytest

import aioexpect
from aioexpect import ExpectTimeout, _prompt, _typed

from . import test_execute_cut
from .helpers import wait_until
from .test_execute_cut import CUT, PEERS, Peer, at_first_prompt
from .test_execute_cut_cancel import HELD_CHILD, THREE, cancelled_at_its_wait, held_shell
from .test_execute_cut_lines import at_unread_prompt, cut_short

#: What the peer read once it was let go: the three lines, then two commands.
READ = [b"echo a", b"echo b", b"echo c", b"echo ok", b"echo two"]


@contextlib.asynccontextmanager
async def two_owed(kind: str, first: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Peer]:
    """``PEERS[kind]`` after three lines, the first answered and its prompt
    read (by ``expect_prompt``, or by an ``execute`` cancelled while it read
    on to the others), the answers of the other two held until ``go()``.
    Rule 1's wait made one a slow peer always meets."""
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)
    monkeypatch.setattr(test_execute_cut, "shell", held_shell)
    monkeypatch.setattr(test_execute_cut, "CHILD", HELD_CHILD)
    async with PEERS[kind]() as peer:
        s, go, _ = peer
        s.set_prompt(r"(?m)^\$ ")
        await s.expect(r"\$ ")
        go()
        await s.send(THREE)
        if first == "expect_prompt":
            assert (await s.expect_prompt(timeout=10)).before.strip() == "a"
        else:
            await wait_until(lambda: s.buffer.endswith("$ "), "the first line answered")
            await cancelled_at_its_wait(s, lambda: s.buffer == "", "the first prompt read")
        yield peer


async def answered_in_turn(s: aioexpect.Session, lines: list[bytes] | None) -> None:
    """The next two commands get their own answers, the peer having read
    nothing but the three lines before them."""
    assert await s.execute("echo ok", timeout=60) == "ok\n"
    assert await s.execute("echo two") == "two\n"
    if lines is not None:
        assert lines == READ


@pytest.mark.parametrize("kind", ["pty", "telnet"])  # (a terminal to resize)
async def test_an_execute_cancelled_waiting_for_a_redraw_leaves_the_lines_owed(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After set_winsize, execute first waits for a line editor's redraw;
    # cancelled there, it had taken the count of prompts owed, and the next
    # execute, sent at once, returned 'b\n' for 'echo ok'.
    monkeypatch.setattr(_prompt, "REDRAW_WAIT", 30.0)  # (cancelled in that wait)
    async with two_owed(kind, "expect_prompt", monkeypatch) as (s, go, lines):
        s.set_winsize(30, 100)
        await cancelled_at_its_wait(s)
        go()
        await answered_in_turn(s, lines)


@pytest.mark.parametrize("kind", list(PEERS))
@pytest.mark.parametrize("how", ["timeout", "cancelled"])
async def test_an_expect_prompt_given_up_on_leaves_the_lines_owed(
    kind: str, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second expect_prompt out of time (or cut short) before the next
    # prompt came had taken the count: 'echo ok' returned 'b\n'.
    async with two_owed(kind, "expect_prompt", monkeypatch) as (s, go, lines):
        if how == "timeout":
            with pytest.raises(ExpectTimeout):
                await s.expect_prompt(timeout=0.2)
        else:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(s.expect_prompt(), 0.2)
        go()
        await answered_in_turn(s, lines)


@pytest.mark.parametrize("kind", list(PEERS))
@pytest.mark.parametrize("first", ["expect_prompt", "cancelled execute"])
async def test_an_execute_out_of_time_before_the_lines_prompts_sends_nothing(
    kind: str, first: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Out of time reading on to the prompts owed, the old code dropped their
    # count: after expect_prompt it sent 'echo t' anyway, into the answers
    # still coming (and timed out waiting); after a cancelled execute it
    # said 'not sent'.  Either way 'echo ok' then returned 'c\n'.
    async with two_owed(kind, first, monkeypatch) as (s, go, lines):
        owed = r"2 still owed to lines sent before" if first == "expect_prompt" else ""
        with pytest.raises(ExpectTimeout, match=rf"'echo t' not sent: .*{owed}"):
            await s.execute("echo t", timeout=0.5)
        go()
        await answered_in_turn(s, lines)


@pytest.mark.parametrize("kind", list(PEERS))
async def test_an_execute_behind_a_send_cut_short_reads_its_lines_prompts_first(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The peer reading nothing, the catch-up gave up on the lines' prompts
    # after STALE_WAIT, left them owed to the next execute, and waited for
    # the rest to be written; the peer reading again within the timeout,
    # the command went behind it and 'echo hi' returned 'a\n' (pipes: then
    # 'echo ok' '?2000000\n' and 'echo two' 'hi\n').  The wait for the rest
    # is no line's: the lines are read to their prompts once it is written.
    async with PEERS[kind]() as (s, go, lines):
        await at_first_prompt(s)
        s.set_prompt(r"(?m)^\$ ")
        await cut_short(s, THREE + "x" * CUT[kind] + "\n")
        task = asyncio.ensure_future(s.execute("echo hi", timeout=60))
        await asyncio.sleep(4 * _typed.STALE_WAIT)  # (the old code gave the prompts up)
        monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (answers slow here)
        go()
        assert await asyncio.wait_for(task, 60) == "hi\n"
        assert await s.execute("echo ok") == "ok\n"
        if lines is not None:
            assert [*lines[:3], len(lines[3]), *lines[4:]] == [
                *READ[:3],
                CUT[kind],
                b"echo hi",
                b"echo ok",
            ]


@pytest.mark.parametrize("kind", ["pty", "pipes", "memory", "telnet"])
@pytest.mark.parametrize("cut", [False, True], ids=["sent", "cut short"])
async def test_cr_lf_into_a_terminal_is_two_lines(
    kind: str, cut: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A terminal takes CR and LF each for a line's end (a pty maps CR to LF,
    # ICRNL): 'echo a\r\n' is 'echo a' and an empty line, each answered with
    # a prompt.  Counted as one, 'echo ok' returned 'b\n' there.  Elsewhere
    # CR LF is one line end (telnet's; a pipe's reader gets 'echo a\r'):
    # counted as two, 'echo ok' would wait past its timeout for a prompt
    # that never comes.
    async with at_unread_prompt(kind, monkeypatch) as (s, go, lines):
        data = "echo a\r\necho b\r\n" + ("x" * CUT[kind] + "\r\n" if cut else "")
        if cut:
            await cut_short(s, data)
        else:
            await s.send(data)
        go()
        assert await s.execute("echo ok", timeout=10) == "ok\n"
        assert await s.execute("echo two", timeout=10) == "two\n"
        if lines is not None:
            assert [len(line) for line in lines] == [6, 6, *([CUT[kind]] if cut else []), 7, 8]


async def test_cr_lf_sent_to_bash_in_a_pty_is_two_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    # bash without its line editor (set_unique_prompt): 'sleep 0.3\r\n' is
    # 'sleep 0.3' and an empty line, each answered with a prompt.  Counted
    # as one line each, the catch-up stopped after the first two prompts,
    # and 'echo a' returned '' (the second sleep's answer), every later
    # execute the one before's.
    monkeypatch.setattr(_typed, "STALE_WAIT", 5.0)  # (bash on a loaded machine)
    env = {"PS1": "$ ", "PATH": os.environ["PATH"], "HOME": "/tmp", "TERM": "dumb"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as s:
        await s.set_unique_prompt()
        await s.send("sleep 0.3\r\nsleep 0.3\r\n")
        assert [await s.execute(f"echo {w}") for w in "abc"] == ["a\n", "b\n", "c\n"]


async def test_an_execute_out_of_time_before_a_lines_prompt_sends_nothing_every_time() -> None:
    # 'read x' and the line it reads: two lines, one prompt.  Out of time
    # was told by the time left once Rule 1's wait ended, and the session's
    # timer may go off a rounding error before the deadline (uvloop: 1.5e-11
    # seconds left): taken for a line with no prompt of its own, the command
    # was sent, into answers maybe still coming ('timed out waiting for the
    # prompt', its command sent; about one time in five on uvloop here).
    env = {"PS1": "$ ", "PATH": os.environ["PATH"], "HOME": "/tmp", "TERM": "dumb"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as s:
        s.set_prompt(r"(?m)^\$ ")
        assert await s.execute("true") == ""
        for _ in range(16):  # (a chance each time)
            await s.sendline("read x")
            await s.sendline("hello")
            await wait_until(lambda: s.buffer.endswith("$ "), "the one prompt")
            with pytest.raises(ExpectTimeout, match=r"'echo hi' not sent: .*1 still owed"):
                await s.execute("echo hi", timeout=_typed.STALE_WAIT / 2)
            await s.sendline("")  # (a prompt comes for it: the next execute reads to it)
            assert await s.execute("echo ok", timeout=5) == "ok\n"


@pytest.mark.parametrize("how", ["timeout", "cancelled"])
async def test_an_execute_given_up_on_before_a_prompt_that_never_comes_leaves_it_to_rule_1(
    how: str,
) -> None:
    # 'read x' and the line it reads: two lines, one prompt.  An execute out
    # of time (or cancelled) reading on to the second left the session owed
    # a prompt: every later execute waited for it to its timeout and said
    # 'not sent' ('the command before may still be running').  It stays at
    # the prompt read, the next execute reading on from there by Rule 1
    # (nothing within STALE_WAIT: the line brought none).
    env = {"PS1": "$ ", "PATH": os.environ["PATH"], "HOME": "/tmp", "TERM": "dumb"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as s:
        s.set_prompt(r"(?m)^\$ ")
        assert await s.execute("true") == ""
        await s.sendline("read x")
        await s.sendline("hello")
        await wait_until(lambda: s.buffer.endswith("$ "), "the one prompt")
        if how == "timeout":  # (out of time before STALE_WAIT: the prompt may still come)
            with pytest.raises(ExpectTimeout, match=r"'echo hi' not sent: .*1 still owed"):
                await s.execute("echo hi", timeout=_typed.STALE_WAIT / 2)
        else:
            await cancelled_at_its_wait(s, lambda: s.buffer == "", "the prompt read")
        assert [await s.execute(f"echo {w}", timeout=5) for w in ("ok", "two")] == ["ok\n", "two\n"]
