"""execute() after an answer that ended early.

A line of output shaped like a prompt that ends a chunk ends ``execute``
early; the rest of that answer comes later.  The next ``execute`` must
return its own answer, not that rest (and the one after it the answer
before), whether the rest comes before its echo, with it, or the echo
twice (typed ahead while the earlier command ran, and again after the
prompt).  What it drops is named in a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import Session
from aioexpect._interact import bridge
from aioexpect._prompt_read import state_of
from aioexpect.testing import memory_pair

from .conftest import need
from .helpers import played, wait_until

EARLY = "printf 'one\\nrouter>'; sleep 0.3; printf '\\ntwo\\n'"


def dropped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "were dropped" in r.getMessage()]


@pytest.mark.parametrize(
    ("term", "ps1", "first", "early"),
    [
        ("dumb", "user@host:~$ ", "echo hi", EARLY),
        ("xterm", "user@host:~$ ", "echo hi", EARLY),
        # A number that changes with every command (a history number, the
        # last status): the answers were shifted by one.
        ("dumb", "[\\!]u@h:\\W\\$ ", "echo hi", EARLY),
        ("dumb", "[$?]u@h:~\\$ ", "echo hi; false", EARLY),
        # ... after the host's name, in brackets or after a dot (bash's
        # command counter): it counted as part of the name, another host.
        ("dumb", "web1[$?]\\$ ", "echo hi; false", EARLY),
        ("dumb", "sw1.\\#> ", "echo hi", EARLY),
        # An output line alike in its first few characters (root@): the same.
        ("dumb", "root@web1:~# ", "echo hi", EARLY.replace("router>", "root@db1:~# ")),
        # ... or the prompt of another host with a number in its name: the
        # numbers alike, it passed for the same prompt (no warning either).
        ("dumb", "root@web1:~# ", "echo hi", EARLY.replace("router>", "root@web2:~# ")),
        # ... without user@host (the host's name leads the prompt), or
        # after a user with a '+' or an '@' in it: the same.
        ("dumb", "host1$ ", "echo hi", EARLY.replace("router>", "host2$ ")),
        ("dumb", "a+b@c:~$ ", "echo hi", EARLY.replace("router>", "x+b@c:~$ ")),
        ("dumb", "a@b.c@web1:~$ ", "echo hi", EARLY.replace("router>", "a@b.c@web2:~$ ")),
        # ... whose name differs in a last number of an address (e66e61b
        # took a final .N for a counter): the same.
        ("dumb", "vm-10.0.0.5\\$ ", "echo hi", EARLY.replace("router>", "vm-10.0.0.6$ ")),
        # A directory or a marked history number in brackets after the name
        # (f3ac086 took brackets holding letters for part of the name): our
        # prompt after the rest looked like another host's, no warning.
        ("dumb", "web1[\\W]\\$ ", "echo hi", f"cd /tmp; {EARLY}"),
        ("dumb", "web1[!\\!]\\$ ", "echo hi", EARLY),
        # A bare '$ ' (one character: it shares no start with any other):
        # the answers were shifted by one, with no warning.
        ("dumb", "$ ", "echo hi", EARLY),
        # The early command changed directory: the real prompt after its
        # rest was not the one before it, which the echo had to follow.
        ("dumb", "user@host:\\w$ ", "echo hi", f"cd /tmp; {EARLY}"),
    ],
    ids=[
        "dumb",
        "xterm",
        "history-number",
        "status",
        "status-after-name",
        "counter-after-name",
        "alike-line",
        "other-host-line",
        "other-host-name",
        "other-user-plus",
        "other-host-qualified-user",
        "other-host-address-in-name",
        "directory-in-brackets",
        "history-number-in-brackets",
        "bare",
        "early-cd",
    ],
)
async def test_the_answer_after_one_that_ended_early_is_its_own_in_a_pty(
    term: str, ps1: str, first: str, early: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The terminal echoes the next command as it is typed, while the first
    # still runs; readline echoes it again after the real prompt.
    env = {**os.environ, "PS1": ps1, "TERM": term}
    bash = ["--norc", "--noprofile"]
    async with aioexpect.spawn("bash", bash, env=env, cwd="/", timeout=10) as s:
        assert await s.execute(first) == "hi\n"
        assert await s.execute(early) == "one\n"  # ended early, at the line shaped like one
        assert await s.execute("echo three") == "three\n"
        assert await s.execute("echo four") == "four\n"
    (message,) = dropped(caplog)
    assert "execute('echo three')" in message and "two" in message


async def test_an_answer_mixed_with_an_early_one_s_rest_in_a_shell_without_echo_is_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # dash has no line editor: the one echo is the terminal's, as the
    # command is typed while the early one still runs, before the rest.
    # Which output is whose cannot be told, but it went by with no word.
    need("dash", "dash")
    env = {**os.environ, "PS1": "$ ", "TERM": "dumb"}
    async with aioexpect.spawn("dash", [], env=env, cwd="/", timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute(EARLY) == "one\n"
        await s.execute("echo three")  # (three, or the rest before it)
        assert await s.execute("echo four") == "four\n"  # (in step again)
    (message,) = [r.getMessage() for r in caplog.records if "answer may be" in r.getMessage()]
    assert message.startswith("execute('echo three'): ") and "two" in message


@pytest.mark.parametrize("shell", ["dash", "bash"])
async def test_a_return_to_a_first_shell_with_a_message_gives_no_warning(
    shell: str, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The answer that came back to the first prompt had output: the look
    # was kept for the next answer, whose '$ make' line (a file's, shaped
    # like the prompt) gave a false 'answer may be mixed' warning.
    need(shell, shell)
    (tmp_path / "README").write_text("Build:\n$ make\n")
    env = {**os.environ, "PS1": "$ ", "TERM": "dumb"}
    args = ["--norc", "--noprofile"] if shell == "bash" else []
    async with aioexpect.spawn(shell, args, env=env, cwd=tmp_path, timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        await s.execute("PS1='inner$ ' dash")
        assert await s.execute("echo logout; exit") == "logout\n"
        assert await s.execute("cat README") == "Build:\n$ make\n"
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


async def typed_lines(peer: Any) -> AsyncIterator[str]:
    """The command lines a shell with no line editor reads (dash in a
    terminal), from its first prompt ``$ `` on; each echoed as the terminal
    echoes it, as it is typed."""
    pending = b""
    await peer.write(b"$ ")
    while data := await peer.read():
        pending += data
        while b"\n" in pending:
            line, _, pending = pending.partition(b"\n")
            command = line.decode().strip()
            await peer.write(f"{command}\r\n".encode())  # (the terminal's echo)
            yield command


async def test_after_a_mixed_answer_the_next_reads_to_the_prompt_after_its_output(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # As dash in a terminal, the output after the prompt (named in the
    # warning) came before its own prompt, which took a moment: the next
    # execute, finding no prompt buffered, sent at once, and its answer was
    # that output and its echo (the one after it held its own).
    async def serve(peer: Any) -> None:
        rest = ""
        async for command in typed_lines(peer):
            ahead, rest = rest, ""
            if command == "show early":
                await peer.write(b"line one\r\nswitch>")
                rest = "\r\nline two\r\n$ "
                continue
            await peer.write(ahead.encode())  # (the rest and its prompt, then the output)
            for _ in range(3):
                await asyncio.sleep(0)
            await peer.write(f"{command[5:]}\r\n".encode())
            await asyncio.sleep(0.3)  # (the shell's pause before its prompt)
            await peer.write(b"$ ")

    async with played(serve, limit=0, timeout=5) as s:
        assert await s.execute("show clock") == "clock\n"
        assert await s.execute("show early") == "line one\n"
        await s.execute("show users")  # (the rest)
        assert await s.execute("show clock") == "clock\n"
        assert await s.execute("show users") == "users\n"
    (message,) = [r.getMessage() for r in caplog.records if "answer may be" in r.getMessage()]
    assert message.startswith("execute('show users'): ") and "users" in message


@contextlib.asynccontextmanager
async def router(hold: int, prompt: str = "r1#", early: str = "switch>") -> AsyncIterator[Session]:
    """A session to a peer that echoes a line only when it reads it (as a
    router does, not a terminal): ``show early`` answers up to a line shaped
    like a prompt (``early``), and the rest (the real ``prompt``) follows
    once the next command has arrived.  Its echo is held back ``hold`` loop
    turns behind that prompt (0: in the same write)."""
    outputs = {"show clock": "12:00\r\n", "show users": "admin vty0\r\n"}

    async def serve(peer: Any) -> None:
        pending = b""
        rest = ""
        await peer.write(prompt.encode())
        while data := await peer.read():
            pending += data
            while b"\n" in pending:
                line, _, pending = pending.partition(b"\n")
                command = line.decode().strip()
                ahead, rest = rest, ""  # the earlier answer's end and prompt
                if ahead and hold:
                    await peer.write(ahead.encode())
                    for _ in range(hold):
                        await asyncio.sleep(0)
                    ahead = ""
                if command == "show early":
                    await peer.write(f"{ahead}show early\r\nline one\r\n{early}".encode())
                    rest = f"\r\nline two\r\n{prompt}"
                    continue
                answer = outputs.get(command, "")
                await peer.write(f"{ahead}{command}\r\n{answer}{prompt}".encode())

    async with played(serve, limit=0, timeout=5) as session:
        yield session


@pytest.mark.parametrize("hold", [0, 1, 3, 10])
async def test_the_answer_after_one_that_ended_early_is_its_own_from_a_router(
    hold: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with router(hold) as s:
        assert await s.execute("show clock") == "12:00\n"
        assert await s.execute("show early") == "line one\n"  # ended early, at 'switch>'
        assert await s.execute("show users") == "admin vty0\n"
        assert await s.execute("show clock") == "12:00\n"
        # Twice in a row (a polling loop): the second ends at the same
        # 'switch>', after the prompt the first missed.
        assert await s.execute("show early") == "line one\n"
        assert await s.execute("show early") == "line one\n"
        assert await s.execute("show users") == "admin vty0\n"
        assert await s.execute("show clock") == "12:00\n"
    first, *others = dropped(caplog)
    assert "execute('show users')" in first and "line two" in first
    assert [m.split(":")[0] for m in others] == ["execute('show early')", "execute('show users')"]


@pytest.mark.parametrize(
    ("prompt", "early"), [("core1#", "core2#"), ("r1#", "r2#"), ("core1>", "core2>")]
)
async def test_another_router_s_prompt_differing_by_a_number_ends_an_answer_early(
    prompt: str, early: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A number in a host's name without user@host counted as alike: the
    # early line passed for the same prompt, and the next answer held the
    # rest, the prompt and the echo, with no warning.
    async with router(0, prompt, early) as s:
        assert await s.execute("show clock") == "12:00\n"
        assert await s.execute("show early") == "line one\n"
        assert await s.execute("show users") == "admin vty0\n"
        assert await s.execute("show clock") == "12:00\n"
    (message,) = dropped(caplog)
    assert "execute('show users')" in message and "line two" in message


async def test_the_rest_of_an_early_answer_come_before_the_next_execute_is_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Buffered whole (the real prompt too) before the next execute, it was
    # consumed with no word.
    env = {**os.environ, "PS1": "user@host:~$ ", "TERM": "dumb"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute(EARLY) == "one\n"
        await wait_until(lambda: s.buffer.endswith("user@host:~$ "), "the rest came")
        assert await s.execute("echo three") == "three\n"
    (message,) = dropped(caplog)
    assert "execute('echo three'): " in message and "buffered before it" in message
    assert "two" in message


async def test_the_rest_of_an_early_answer_is_named_when_the_next_times_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The next command's echo came after the rest, then its answer outlasted
    # its time-out: the rest was dropped with no word.
    async def serve(peer: Any) -> None:
        pending, rest = b"", ""
        await peer.write(b"r1#")
        while data := await peer.read():
            pending += data
            if b"\n" not in pending:
                continue
            line, _, pending = pending.partition(b"\n")
            command, ahead, rest = line.decode().strip(), rest, ""
            if command == "show early":
                await peer.write(b"show early\r\nline one\r\nswitch>")
                rest = "\r\nline two\r\nr1#"
            elif command == "show slow":  # its echo after the rest, then nothing for now
                await peer.write(ahead.encode())
                for _ in range(10):
                    await asyncio.sleep(0)
                await peer.write(b"show slow\r\n")
            else:
                await peer.write(f"{ahead}{command}\r\nok\r\nr1#".encode())

    async with played(serve, limit=0, timeout=5) as s:
        assert await s.execute("show clock") == "ok\n"
        assert await s.execute("show early") == "line one\n"
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.execute("show slow", timeout=0.5)
    (message,) = dropped(caplog)
    assert "execute('show slow')" in message and "line two" in message


@pytest.mark.parametrize("how", ["timeout", "cancel"])
@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "arriving"])
async def test_the_rest_of_an_early_answer_is_named_after_an_execute_that_got_nothing(
    how: str, buffered: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # Between the early answer and the next execute, one gave up (timed out,
    # cancelled) before any of its answer came: its line looked like one the
    # caller sent, the look for the rest was dropped, and the rest went by
    # with no word; arriving after the next execute began, the answers that
    # followed were shifted by one.
    asked, go = asyncio.Event(), asyncio.Event()

    async def serve(peer: Any) -> None:
        pending, rest = b"", ""
        await peer.write(b"r1#")
        while data := await peer.read():
            pending += data
            while b"\n" in pending:
                line, _, pending = pending.partition(b"\n")
                command, ahead, rest = line.decode().strip(), rest, ""
                if command == "show early":
                    await peer.write(b"show early\r\nline one\r\nswitch>")
                    rest = "\r\nline two\r\nr1#"
                    continue
                if command == "show slow":  # nothing until the caller gave up
                    asked.set()
                    await go.wait()
                await peer.write(ahead.encode())  # (the rest, then the echo)
                for _ in range(3):
                    await asyncio.sleep(0)
                await peer.write(f"{command}\r\n{command[5:]}\r\nr1#".encode())

    async with played(serve, limit=0, timeout=5) as s:
        assert await s.execute("show clock") == "clock\n"
        assert await s.execute("show early") == "line one\n"
        if how == "timeout":
            with pytest.raises(aioexpect.ExpectTimeout):
                await s.execute("show slow", timeout=0.1)
        else:
            slow = asyncio.ensure_future(s.execute("show slow"))
            await asked.wait()
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
        go.set()
        if buffered:
            await wait_until(lambda: s.buffer.endswith("slow\r\nr1#"), "the answer came")
        assert await s.execute("show users") == "users\n"
        assert await s.execute("show clock") == "clock\n"
    (message,) = dropped(caplog)
    assert "execute('show slow')" in message and "line two" in message


async def test_commands_that_change_the_prompt_drop_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    env = {**os.environ, "PS1": r"user@host:\w\$ ", "TERM": "dumb"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as s:
        for directory in ("/", "/tmp", "/"):
            assert await s.execute(f"cd {directory}") == ""
            assert await s.execute("echo user@host:/tmp$ pwd") == "user@host:/tmp$ pwd\n"
            assert await s.execute("pwd") == f"{directory}\n"
    assert dropped(caplog) == []


@pytest.mark.parametrize("how", ["sendline", "interact"])
async def test_the_answer_to_a_line_sent_otherwise_is_not_named_as_an_early_one(
    how: str, caplog: pytest.LogCaptureFixture
) -> None:
    # After a command that changed the prompt (cd, with PS1='\W> '), the
    # answer to the caller's own sendline, or to a line a person typed in
    # interact, found buffered by the next execute, was named in a WARNING
    # as the end of an execute that returned early, which none did.
    caplog.set_level(logging.WARNING)
    env = {**os.environ, "PS1": r"\W> ", "TERM": "dumb"}
    bash = ["--norc", "--noprofile"]
    async with aioexpect.spawn("bash", bash, env=env, cwd="/", timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("cd /tmp") == ""
        if how == "sendline":
            await s.sendline("sleep 0.3; echo sent")
        else:  # (the answer comes once the person has left)
            typed = iter([b"sleep 0.3; echo typed\r\x1d"])
            await bridge(s, lambda: asyncio.sleep(0, next(typed)), lambda _: None, "\x1d")
        await wait_until(lambda: s.buffer.endswith("tmp> "), "the answer came")
        assert await s.execute("echo x") == "x\n"
    assert dropped(caplog) == []


async def test_a_peer_that_does_not_echo_is_read_as_before() -> None:
    ours, peer = memory_pair()
    async with Session(ours, timeout=5) as s:
        await peer.write(b"r1#")
        await s.expect_exact("r1#")
        for prompt in ("r1(config)#", "r1#"):
            send = asyncio.ensure_future(s.execute("x"))
            assert await peer.read() == b"x\n"
            await peer.write(f"out\r\n{prompt}".encode())
            assert await send == "out\n"
    await peer.close()


async def test_output_with_a_prompt_and_the_command_in_it_is_not_dropped(tmp_path: Path) -> None:
    # Every prompt unlike the one before (the history number in it): an
    # output line '<a prompt><the command>' passed for the rest of an early
    # answer, and every line above it was dropped.
    notes = "Setup notes\nstep 1: install\nrun it like this:\n$ cat notes.txt\nthat's all\n"
    (tmp_path / "notes.txt").write_text(notes)
    env = {**os.environ, "PS1": r"[\!]\u@\h:\W\$ ", "TERM": "dumb"}
    async with aioexpect.spawn(
        "bash", ["--norc", "--noprofile"], env=env, cwd=tmp_path, timeout=10
    ) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("true") == ""
        assert await s.execute("cat notes.txt") == notes


async def test_cancelled_in_the_moment_after_its_prompt_execute_owes_none() -> None:
    # Back at the prompt before an unlike one, execute waits a moment for an
    # echo after it; cancelled then, it owed a prompt that never came, and
    # every later execute timed out ("not sent").
    env = {**os.environ, "PS1": "user@host:~$ ", "TERM": "dumb"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("PS1='other> ' bash --norc --noprofile") == ""
        exiting = asyncio.ensure_future(s.execute("exit"))
        await wait_until(lambda: state_of(s).waiting, "execute waits after its prompt")
        exiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await exiting
        assert await s.execute("echo a") == "a\n"
        assert await s.execute("echo b") == "b\n"
