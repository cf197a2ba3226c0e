"""``Session.interact``: a person's terminal bridged to a session, driven for
real — aioexpect runs a script in a pty, and the script interacts with ``cat``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import aioexpect

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
