"""``execute`` after ``interact``: the output went to the person, not into
the buffer, so what they saw last says whether the session is at a prompt.

A fresh session whose first prompt the person saw (the program read none)
was still taken for fresh: ``execute`` waited for a first prompt that had
come, and failed "not sent" at its deadline; so did one owed a prompt (an
execute cancelled) that the person saw come.
Output that does not end at a prompt still makes ``execute`` wait for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import ExpectTimeout, Session
from aioexpect._interact import bridge
from aioexpect._reading import EVIDENCE
from aioexpect._tty import Output
from tests.helpers import opened, wait_until

ESCAPE = "\x1d"


async def shown_then_left(
    session: Session, peer: Any, output: bytes, keys: bytes = b"", *, keep: bool = False
) -> None:
    """A bridge during which the peer writes ``output`` (none of it buffered
    before); the person types ``keys``, waits until it has all been shown,
    and leaves with the escape."""
    shown: list[str] = []
    left = False
    to_type = [keys] if keys else []

    async def typing() -> bytes:
        nonlocal left
        if to_type:
            return to_type.pop()
        await wait_until(lambda: "".join(shown).endswith(output.decode()), "all was shown")
        if left:
            await asyncio.Event().wait()  # (the bridge ends at the escape: never here)
        left = True
        return ESCAPE.encode()

    bridged = asyncio.ensure_future(bridge(session, typing, shown.append, ESCAPE, keep=keep))
    await wait_until(lambda: session._sink is not None, "the bridge began")
    await peer.write(output)
    await asyncio.wait_for(bridged, 10)


async def answers(peer: Any, line: bytes, answer: bytes) -> bytes:
    """The peer reads one line (``line``, checked) and answers it."""
    got = b""
    while not got.endswith(b"\n"):
        data = await asyncio.wait_for(peer.read(100), 10)
        assert data, "the session closed"
        got += data
    assert got == line
    await peer.write(answer)
    return got


async def execute_answered(session: Session, peer: Any) -> str:
    answering = asyncio.ensure_future(answers(peer, b"echo hi\n", b"echo hi\r\nhi\r\n$ "))
    try:
        output = await session.execute("echo hi")
    except BaseException:
        answering.cancel()  # (the error is the news: not the peer that waits for its line)
        await asyncio.wait([answering])
        raise
    await asyncio.wait_for(answering, 10)  # (the line it read, checked)
    return output


@pytest.mark.parametrize("driver", ["generic", "auto"])
@pytest.mark.parametrize("typed", [False, True], ids=["watched", "typed a command"])
async def test_execute_on_a_fresh_session_whose_first_prompt_the_person_saw(
    driver: str, typed: bool
) -> None:
    # The old code waited for the first prompt again: "command 'echo hi' not
    # sent: timed out waiting for the prompt ...; last characters received: ''".
    async with opened(timeout=2, driver=driver) as (session, peer):
        if typed:  # (the person's command answered, its prompt shown)
            output = b"Welcome\r\n$ ls\r\nfile\r\n$ "
            await shown_then_left(session, peer, output, keys=b"ls\r")
            assert await asyncio.wait_for(peer.read(100), 5) == b"ls\r"
        else:
            await shown_then_left(session, peer, b"Welcome\r\n$ ")
        assert await execute_answered(session, peer) == "hi\n"
        assert session.driver.name == "generic"  # (auto: settled from what was shown)
        assert await execute_answered(session, peer) == "hi\n"


async def test_a_wrapped_prompt_shown_to_the_person_is_a_prompt() -> None:
    """readline's wrap (the next row's first character, ``\\r``, it again)
    in the first prompt the person saw: still a prompt, the command sent."""
    async with opened(timeout=2) as (session, peer):
        await shown_then_left(session, peer, b"Welcome\r\nroot@fbsd:~/dd\rd # ")
        assert await execute_answered(session, peer) == "hi\n"


async def test_the_prompt_a_cancelled_execute_owed_shown_to_the_person() -> None:
    # The old code waited for one more prompt after the one the person saw.
    async with opened(timeout=2) as (session, peer):
        await peer.write(b"$ ")
        await session.expect_prompt()
        task = asyncio.ensure_future(session.execute("sleep 1; echo slept"))
        assert await asyncio.wait_for(peer.read(100), 5) == b"sleep 1; echo slept\n"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await shown_then_left(session, peer, b"sleep 1; echo slept\r\nslept\r\n$ ")
        assert await execute_answered(session, peer) == "hi\n"


async def test_the_prompts_of_lines_sent_before_shown_to_the_person() -> None:
    # Two lines sent, one prompt read with expect_prompt: the other's prompt,
    # shown to the person, is not waited for (nor taken for this answer's).
    async with opened(timeout=2) as (session, peer):
        await peer.write(b"$ ")
        await session.expect_prompt()
        await session.sendline("echo a")
        await session.sendline("echo b")
        assert await asyncio.wait_for(peer.read(100), 5) == b"echo a\necho b\n"
        await peer.write(b"echo a\r\na\r\n$ ")
        await session.expect_prompt()
        await shown_then_left(session, peer, b"echo b\r\nb\r\n$ ")
        assert await execute_answered(session, peer) == "hi\n"


@pytest.mark.parametrize(
    "output",
    [b"$ ech", b"Welcome\r\n", b"$ vi notes\r\n~\r\n~\r\n", b"Welcome\r\na:bb\rcc dd# "],
    ids=["half", "banner", "vi", "carriage return"],
)
async def test_output_that_does_not_end_at_a_prompt_is_not_typed_into(output: bytes) -> None:
    """A half-typed line, a program that is not the shell, a first prompt
    still to come: ``execute`` waits for a prompt, and says "not sent"
    at its deadline, having sent nothing.  Output shaped like a wrapped
    prompt whose ``\\r`` is no wrap (another character either side) was
    taken for a prompt, as ``read_to_prompt`` does not: "echo hi" was sent."""
    async with opened(timeout=0.3) as (session, peer):
        await shown_then_left(session, peer, output)
        with pytest.raises(ExpectTimeout, match="command 'echo hi' not sent") as caught:
            await session.execute("echo hi")
        # What the person saw is the evidence (the old code: "last characters
        # received: ''", the buffer's, empty: the output had gone to them).
        assert f"last characters received: {output.decode()!r}{SHOWN}" in str(caught.value)
        assert caught.value.before == ""
        await session.send("!")  # (nothing before it)
        assert await asyncio.wait_for(peer.read(100), 5) == b"!"


SHOWN = " (what came during interact() went to the terminal, not to the buffer)"


@pytest.mark.parametrize("cut", [False, True], ids=["whole", "cut through"])
async def test_the_evidence_of_what_was_shown_masks_secrets(cut: bool) -> None:
    """Also where the evidence's start cuts through the secret."""
    secret = "s3cr3t-" * 10
    after = "y" * (EVIDENCE - 50) if cut else "ok"
    output = f"Password: {secret}\r\n{after}\r\n".encode()
    async with opened(timeout=0.3, secrets=[secret]) as (session, peer):
        await shown_then_left(session, peer, output)
        with pytest.raises(ExpectTimeout, match="not sent") as caught:
            await session.execute("echo hi")
        message = str(caught.value)
        assert f"{after}\\r\\n'{SHOWN}" in message
        assert "3cr" not in message
        if not cut:
            assert "last characters received: 'Password: ********\\r\\nok" in message


async def test_a_secret_the_bridge_left_inside_is_masked_whole_with_what_came_after() -> None:
    """The person left while the program was writing a secret: its start
    was shown, its rest came after, to the buffer.  What was shown was kept
    masked, its end (a secret's start) as a mask, and the rest of the secret
    after that mask was no secret any more: "pw: ********unter2"."""
    secret = "hunter2hunter2"
    async with opened(timeout=0.3, secrets=[secret]) as (session, peer):
        await shown_then_left(session, peer, b"pw: hunter2h")
        await peer.write(b"unter2\r\nmore")
        await wait_until(lambda: session.buffer.endswith("more"), "the rest came")
        with pytest.raises(ExpectTimeout, match="not sent") as caught:
            await session.execute("echo hi")
        message = str(caught.value)
        assert "unter" not in message
        assert "last characters received: 'pw: ********\\r\\nmore'" in message


async def test_what_was_shown_is_no_evidence_once_the_program_read_on() -> None:
    async with opened(timeout=0.3) as (session, peer):
        await shown_then_left(session, peer, b"Welcome\r\n")
        await peer.write(b"more\r\n")
        await session.expect_exact("more")
        with pytest.raises(ExpectTimeout, match="last characters received: '\\\\r\\\\n'") as caught:
            await session.execute("echo hi")
        assert SHOWN not in str(caught.value)


async def test_what_the_consoles_attach_showed_is_no_evidence() -> None:
    """Its copy of what was buffered stays in the buffer (``keep``), before
    what it showed: the evidence is the buffer's, not in two orders."""
    async with opened(timeout=0.3) as (session, peer):
        await peer.write(b"KEPT\r\n")
        await session.expect_exact("KEPT")
        await shown_then_left(session, peer, b"Welcome\r\n", keep=True)
        with pytest.raises(ExpectTimeout, match="last characters received: '\\\\r\\\\n'") as caught:
            await session.execute("echo hi")
        assert SHOWN not in str(caught.value)


def _full_pipe() -> tuple[int, int]:
    """A pipe (read end, write end) whose buffer is full: a terminal that
    takes nothing more until read."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with contextlib.suppress(BlockingIOError):
        for _ in range(1024):  # (a pipe holds 64 KiB by default: 16 of these)
            os.write(write_end, b"." * 4096)
    return read_end, write_end


async def _no_keys() -> bytes:
    await asyncio.Event().wait()  # (a person who types nothing: the bridge is cancelled)
    return b""


@pytest.mark.parametrize("room", [0, 4096], ids=["nothing taken", "part taken"])
async def test_output_given_back_by_a_failed_bridge_is_quoted_once(room: int) -> None:
    """The terminal fell behind and the bridge was cancelled: what it had
    not taken went to the buffer, and was also kept as shown; the next
    execute's "not sent" quoted it twice ('World\\r\\nWorld\\r\\n')."""
    read_end, write_end = _full_pipe()
    output_text = "x" * room + "World\r\n"
    try:
        async with opened(timeout=0.3) as (session, peer):
            if room:  # (a page read: the terminal takes its room, the rest waits)
                os.read(read_end, room)
            output = Output(session, write_end)
            try:
                task = asyncio.ensure_future(
                    bridge(session, _no_keys, output.write, ESCAPE, output=output)
                )
                await wait_until(lambda: session._sink is not None, "the bridge began")
                await peer.write(output_text.encode())
                await wait_until(lambda: session.bytes_in == len(output_text), "all was read")
                task.cancel()
                await asyncio.wait([task])
            finally:
                output.close()
            assert session.buffer.endswith("World\r\n")  # (given back)
            with pytest.raises(ExpectTimeout, match="not sent") as caught:
                await session.execute("echo hi")
            message = str(caught.value)
            assert message.count("World") == 1, message
            assert "World\\r\\n'" in message
            assert (SHOWN in message) == bool(room)  # (only if some of it was shown)
    finally:
        os.close(read_end)
        os.close(write_end)


EXECUTE_AT_ONCE = r"""
import sys

import aioexpect

async def main():
    env = {"PS1": "$ ", "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    pty = sys.argv[1] == "pty"
    args = ["--norc", "--noprofile"] if pty else ["--norc", "--noprofile", "-i"]
    async with aioexpect.spawn("bash", args, env=env, pty=pty, timeout=3) as sh:
        print("INTERACT-START", flush=True)
        await sh.interact()
        for command in ("echo still-42", "echo next"):
            try:
                answer = repr(await sh.execute(command))
            except aioexpect.ExpectTimeout as exc:
                answer = f"timed out: {exc}"
            print(f"\r\nANSWER={answer}", flush=True)

aioexpect.run(main())
"""


@pytest.mark.parametrize("mode", ["pty", "pipes"])
async def test_execute_after_interact_on_a_fresh_shell_whose_prompt_the_person_saw(
    tmp_path: Path, mode: str
) -> None:
    """A script (in a pty, as a person runs it) interacts with a fresh bash
    at once; the person leaves at its first prompt; the script's execute
    sends at once (the old code: "timed out: command 'echo still-42' not
    sent: timed out waiting for the prompt ...")."""
    script = tmp_path / "interact_fresh.py"
    script.write_text(EXECUTE_AT_ONCE)
    async with aioexpect.spawn(sys.executable, [str(script), mode], timeout=15) as outer:
        await outer.expect_exact("INTERACT-START")
        await outer.expect_exact("$ ")
        await outer.send(ESCAPE)
        for answer in ("still-42", "next"):
            await outer.expect_exact("ANSWER=")
            assert (await outer.expect_exact("\r\n")).before == repr(f"{answer}\n")
        await outer.expect(aioexpect.EOF)
        assert await outer.wait() == 0


@pytest.mark.parametrize("m", [26, 29], ids=["after the sign", "in the directory"])
@pytest.mark.parametrize("fresh", [True, False], ids=["fresh", "after an execute"])
async def test_a_coloured_prompt_wrapped_at_the_margin_shown_to_the_person(
    tmp_path: Path, fresh: bool, m: int
) -> None:
    """The person changed into a directory deep enough that bash's coloured
    prompt wraps (``...bbb\\x1b[0m #\\r\\n\\r ``, ``...bbb\\r\\n\\rbb\\x1b[0m # ``: the
    last row no prompt alone) in a 40-column pty.  ``execute`` reads such
    a prompt, but what interact showed was not taken for one: the execute
    waited for another, and failed "not sent"."""
    deep = tmp_path / ("b" * m)
    deep.mkdir()
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "HOME": "/nonexistent"}
    env["PS1"] = "\\[\\e[32m\\]root@fbsd:~/\\W\\[\\e[0m\\] # "
    argv = ["bash", "--norc", "--noprofile"]
    async with aioexpect.spawn(
        argv[0], argv[1:], env=env, cwd=str(tmp_path), dimensions=(24, 40), timeout=3
    ) as s:
        if not fresh:
            assert await s.execute("echo hi") == "hi\n"
        shown: list[str] = []
        keys = [f"cd {deep.name}\r".encode()]

        async def typing() -> bytes:
            if keys:
                return keys.pop()
            await wait_until(  # (the line run, bracketed paste off: a prompt after)
                lambda: (
                    "\x1b[?2004l" in "".join(shown)
                    and "".join(shown).endswith(("\x1b[0m # ", "\r\n\r "))
                ),
                "the new prompt was shown",
            )
            return ESCAPE.encode()

        await asyncio.wait_for(bridge(s, typing, shown.append, ESCAPE), 10)
        assert "\r\n\r" in "".join(shown)[-20:]  # (wrapped so)
        assert await s.execute("echo there") == "there\n"
