"""set_unique_prompt on real shells in a pty (bash, dash, zsh): under
``set -u``, with a small ``max_buffer``, and after a flood."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import re
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

import aioexpect
from aioexpect import BufferFull, CommandError, ExpectTimeout, Session

from .helpers import opened, read_until

SHELLS = [
    pytest.param(["bash", "--norc", "--noprofile"], id="bash"),
    pytest.param(["dash"], id="dash"),
    pytest.param(["zsh", "-f"], id="zsh"),
]
#: ... under ``set -u``, where a parameter unset ends the line.
NOUNSET = [
    pytest.param(["bash", "--norc", "--noprofile", "-o", "nounset"], id="bash"),
    pytest.param(["dash", "-u"], id="dash"),
    pytest.param(["zsh", "-f", "-o", "nounset"], id="zsh"),
]


@contextlib.asynccontextmanager
async def shell(argv: list[str], home: Any, **options: Any) -> AsyncIterator[Session]:
    """``argv`` in a pty (skipped if not installed), with no rc file of the
    user's; 60 seconds at most in all."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "xterm", "HOME": str(home)}
    async with asyncio.timeout(60):
        async with aioexpect.spawn(argv[0], argv[1:], env=env, timeout=10, **options) as s:
            yield s


@pytest.mark.parametrize("argv", NOUNSET)
async def test_under_set_u_the_line_editor_is_turned_off(argv: list[str], tmp_path: Any) -> None:
    # zsh stopped the line at the unset $BASH_VERSION ("parameter not set"),
    # before its own part: ZLE stayed on, and its bracketed paste, redrawing
    # and partial-line marker cluttered what came before every prompt.
    async with shell(argv, tmp_path) as s:
        await s.set_unique_prompt()
        await s.sendline("printf x")
        m = await s.expect_prompt()
        assert m.before == "printf x\r\nx", m.before
        assert await s.execute("echo a") == "a\n"


# -- a small max_buffer, a flood ------------------------------------------------------------


@pytest.mark.parametrize("argv", SHELLS)
@pytest.mark.parametrize("max_buffer", [64, 256])
async def test_a_small_max_buffer_drops_the_echo_before_the_prompt(
    argv: list[str], max_buffer: int, tmp_path: Any
) -> None:
    # The echo of its own line (some 370 characters) filled a max_buffer of
    # 256: BufferFull, "is this an interactive POSIX shell?".
    async with shell(argv, tmp_path, max_buffer=max_buffer) as s:
        await s.set_unique_prompt()
        await s.set_unique_prompt()  # (the second's echo follows the first's prompt)
        assert await s.execute("echo after") == "after\n"


async def unique_peer(peer: Any, before: bytes) -> None:
    """Read set_unique_prompt's line, then show ``before`` and its prompt."""
    line = (await read_until(peer, b"\n")).decode()
    found = re.search(r"PS1='\[aioexpect-''([0-9a-f]{8})\]", line)
    assert found is not None, line
    await peer.write(before + f"[aioexpect-{found.group(1)}]$ ".encode())


async def test_the_prompt_is_kept_whole_where_it_follows_output_on_its_row() -> None:
    # Over pipes the shell shows the prompt on the row of the one before
    # ("$ [aioexpect-...]$ "): what is dropped never cuts through it, down
    # to a max_buffer as wide as it (22 characters).
    async with asyncio.timeout(20), opened(timeout=5, max_buffer=22) as (s, peer):
        showing = asyncio.ensure_future(unique_peer(peer, b"x" * 500 + b"\r\n$ "))
        await s.set_unique_prompt()
        await showing
        assert s.buffer == ""
        await s.sendline("true")
        assert await read_until(peer, b"\n") == b"true\n"


async def test_a_max_buffer_narrower_than_the_prompt_says_so() -> None:
    async with asyncio.timeout(20), opened(timeout=5, max_buffer=21) as (s, peer):
        showing = asyncio.ensure_future(unique_peer(peer, b"$ "))
        with pytest.raises(BufferFull, match=r"max_buffer=21 cannot hold the unique prompt"):
            await s.set_unique_prompt()
        await showing


@pytest.mark.parametrize("argv", SHELLS[:2])
async def test_after_a_flood_that_overflowed_it_waits_for_the_flood_to_end(
    argv: list[str], tmp_path: Any
) -> None:
    # Typed into the rest of the flood, its line was run after it, but the
    # flood raised BufferFull again: bash then showed the new prompt while
    # the session waited for the old one, and every execute timed out.
    async with shell(argv, tmp_path, max_buffer=4096) as s:
        await s.set_unique_prompt()
        with pytest.raises(BufferFull):
            await s.execute("seq 1 100000")
        await s.set_unique_prompt()
        assert await s.execute("echo a") == "a\n"
        assert await s.execute("echo b") == "b\n"


# -- what docs/drivers.rst advises -----------------------------------------------------------


def token_of(s: Session) -> str:
    found = re.search(r"aioexpect\\-([0-9a-f]{8})", s.prompt_patterns[0].pattern)
    assert found is not None, s.prompt_patterns
    return found.group(1)


@pytest.mark.parametrize("argv", SHELLS)
async def test_printing_the_prompts_values_and_the_ways_around_it(
    argv: list[str], tmp_path: Any
) -> None:
    async with shell(argv, tmp_path) as s:
        await s.set_unique_prompt()
        token = token_of(s)
        out = await s.execute(r"set | grep -v '\[aioexpect-'; echo after")
        assert out.endswith("\nafter\n") and "PS1=" not in out, out
        assert await s.execute('echo "${PS1%%]*}"') == f"[aioexpect-{token}\n"
        assert await s.execute('echo "${PS2%%]*}"; echo after') == f"[aioexpect-{token}\nafter\n"
        assert await s.execute("echo next") == "next\n"
        # Printed as it is, PS1's value ends the answer.
        assert await s.execute('echo "$PS1"; echo after') == ""


@pytest.mark.parametrize("argv", SHELLS)
async def test_printing_ps2_is_taken_for_an_incomplete_command(
    argv: list[str], tmp_path: Any
) -> None:
    async with shell(argv, tmp_path) as s:
        await s.set_unique_prompt()
        with pytest.raises(CommandError, match="incomplete"):
            await s.execute('echo "$PS2"; echo after')


@pytest.mark.parametrize("argv", SHELLS)
async def test_with_xtrace_turned_off_around_it(argv: list[str], tmp_path: Any) -> None:
    async with shell([*argv, "-x"], tmp_path) as s:
        await s.execute("set +x")
        await s.set_unique_prompt()
        await s.execute("set -x")
        assert (await s.execute("echo a")).endswith("echo a\na\n")
        assert (await s.execute("echo b")).endswith("echo b\nb\n")


@pytest.mark.parametrize("argv", SHELLS)
async def test_called_again_after_it_timed_out_on_a_busy_shell(
    argv: list[str], tmp_path: Any
) -> None:
    # The shell shows the marker of the call that timed out, then the new
    # one's: the new call waits for its own.  (The shell is kept busy by
    # flock(1) on a file this test holds locked, whenever flock starts.)
    if shutil.which("flock") is None:
        pytest.skip("flock is not installed")
    lock = tmp_path / "lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        async with shell(argv, tmp_path) as s:
            await s.set_unique_prompt()
            with pytest.raises(ExpectTimeout):
                await s.execute(f"flock {lock} true", timeout=0.2)
            with pytest.raises(ExpectTimeout):
                await s.set_unique_prompt(timeout=0.2)
            fcntl.flock(held, fcntl.LOCK_UN)
            await s.set_unique_prompt()
            assert await s.execute("echo a") == "a\n"
            assert await s.execute("echo b") == "b\n"


@pytest.mark.parametrize("argv", SHELLS)
async def test_called_again_after_a_command_took_its_line(argv: list[str], tmp_path: Any) -> None:
    async with shell(argv, tmp_path) as s:
        await s.set_unique_prompt()
        with pytest.raises(ExpectTimeout):
            await s.execute("cat", timeout=0.2)
        with pytest.raises(ExpectTimeout):
            await s.set_unique_prompt(timeout=0.2)  # (its line went to cat)
        await s.sendintr()
        await s.expect_prompt()
        await s.set_unique_prompt()
        assert await s.execute("echo a") == "a\n"


# -- BusyBox's cursor query ---------------------------------------------------------------


async def test_busybox_s_cursor_query_after_the_prompt_is_the_prompt_s(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """BusyBox's line editor writes ``ESC [6n`` (where is the cursor?)
    after each prompt: left after the unique prompt, every ``execute`` but
    the first dropped it in front of its echo, with a warning that it had
    returned early at a line of output shaped like a prompt."""
    async with shell(["busybox", "sh", "-i"], tmp_path) as s:
        await s.set_unique_prompt()
        with caplog.at_level("WARNING", logger="aioexpect"):
            for i in range(10):
                assert await s.execute(f"echo {i}") == f"{i}\n"
        assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []
