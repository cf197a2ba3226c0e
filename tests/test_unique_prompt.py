"""set_unique_prompt on real shells in a pty (bash, also in POSIX mode,
dash, sh, zsh): a prompt that printing the shell's variables does not show."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

import aioexpect
from aioexpect import CommandError, Session

from .helpers import opened, read_until

SHELLS = [
    pytest.param(["bash", "--norc", "--noprofile"], id="bash"),
    pytest.param(["bash", "--posix", "--norc", "--noprofile"], id="bash-posix"),
    pytest.param(["dash"], id="dash"),
    pytest.param(["sh"], id="sh"),
    pytest.param(["zsh", "-f"], id="zsh"),
]
#: ... under ``set -u``, where a parameter unset ends the line (``$ZSH_VERSION``).
NOUNSET = [
    pytest.param(["bash", "--norc", "--noprofile", "-o", "nounset"], id="bash-nounset"),
    pytest.param(["dash", "-u"], id="dash-nounset"),
    pytest.param(["zsh", "-f", "-o", "nounset"], id="zsh-nounset"),
]


@contextlib.asynccontextmanager
async def shell(argv: list[str], home: Any, **options: Any) -> AsyncIterator[Session]:
    """``argv`` in a pty (skipped if not installed), with no rc file of the user's."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "xterm", "HOME": str(home)}
    async with aioexpect.spawn(argv[0], argv[1:], env=env, cwd=home, timeout=10, **options) as s:
        yield s


def token_of(s: Session) -> str:
    found = re.search(r"aioexpect\\-([0-9a-f]{8})", s.prompt_patterns[0].pattern)
    assert found is not None, s.prompt_patterns
    return found.group(1)


@pytest.mark.parametrize("argv", SHELLS + NOUNSET)
async def test_printing_the_prompts_value_does_not_show_the_prompt(
    argv: list[str], tmp_path: Any
) -> None:
    # PS1's value held the marker the shell shows: ``set`` printed it, and
    # the answer ended there ("PS1='"), its rest dropped by the next execute.
    async with shell(argv, tmp_path) as s:
        await s.set_unique_prompt()
        token = token_of(s)
        value = f"[aioexpect-${{x+}}{token}]"
        out = await s.execute("set | grep '^PS[12]='; echo after")
        assert out == f"PS1='{value}$ '\nPS2='{value}> '\nafter\n"
        assert await s.execute('echo "$PS1"; echo after') == f"{value}$ \nafter\n"
        assert await s.execute("echo next") == "next\n"
        # The continuation prompt is still recognised: an open quote is
        # interrupted, not waited on.
        with pytest.raises(CommandError, match="incomplete"):
            await s.execute("echo 'open")
        assert await s.execute("echo back") == "back\n"


async def test_a_shell_that_does_not_expand_its_prompt_is_recognised_all_the_same() -> None:
    # A shell that does not expand PS1 (an older dash) shows its value as it
    # is: that is its prompt then (printing PS1 shows it there).
    async with asyncio.timeout(20), opened(timeout=5) as (s, peer):
        setting = asyncio.ensure_future(s.set_unique_prompt())
        line = (await read_until(peer, b"\n")).decode()
        found = re.search(r"PS1=(\S+ \S*); PS2=(\S+ \S*);", line)
        assert found is not None, line
        ps1, ps2 = (found.group(i).replace("'", "") for i in (1, 2))
        assert "${x+}" in ps1 and ps1.endswith("]$ ") and ps2.endswith("]> ")
        await peer.write(f"{line.rstrip()}\r\n{ps1}".encode())
        await setting
        running = asyncio.ensure_future(s.execute("echo hi"))
        assert await read_until(peer, b"\n") == b"echo hi\n"
        await peer.write(f"echo hi\r\nhi\r\n{ps1}".encode())
        assert await running == "hi\n"
        running = asyncio.ensure_future(s.execute("echo 'open"))
        await read_until(peer, b"\n")
        await peer.write(f"echo 'open\r\n{ps2}".encode())
        assert await read_until(peer, b"\x03") == b"\x03"
        await peer.write(f"^C\r\n{ps1}".encode())
        with pytest.raises(CommandError, match="incomplete"):
            await running


# -- an answer still owed, a prompt not read ---------------------------------------------


async def test_after_buffer_full_it_reads_to_the_owed_prompt_first(tmp_path: Any) -> None:
    # It typed its line into the flood and waited for its marker without
    # dropping what did not fit: BufferFull, and again on a retry; bash then
    # showed the new marker, the session waited for the old one.
    async with shell(["bash", "--norc", "--noprofile"], tmp_path, max_buffer=4096) as s:
        await s.set_unique_prompt()
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("seq 1 200000")
        await s.set_unique_prompt()
        assert await s.execute("echo a") == "a\n"
        assert await s.execute('echo "$PS1"') == f"[aioexpect-${{x+}}{token_of(s)}]$ \n"


async def test_its_line_is_not_typed_into_a_command_still_running(tmp_path: Any) -> None:
    async with shell(["bash", "--norc", "--noprofile"], tmp_path) as s:
        await s.set_unique_prompt()
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.execute("cat > typed", timeout=0.3)  # (reads its input, for ever)
        with pytest.raises(aioexpect.ExpectTimeout, match=r"sent nothing.*still be running"):
            await s.set_unique_prompt(timeout=0.3)
        await s.sendeof()  # cat ends, and with it the answer owed
        assert await s.execute("wc -c < typed") == "0\n"
        await s.set_unique_prompt()
        assert await s.execute("echo a") == "a\n"


async def test_timed_out_after_sending_the_next_calls_read_to_the_new_prompt(
    tmp_path: Any,
) -> None:
    # It sent its line, timed out, and left the old prompt in force: bash
    # showed the new one, and every execute after timed out.
    async with shell(["bash", "--norc", "--noprofile"], tmp_path) as s:
        await s.set_unique_prompt()
        await s.execute("trap 'sleep 0.2' DEBUG")  # a slow shell: each command waits
        with pytest.raises(aioexpect.ExpectTimeout, match="unique prompt"):
            await s.set_unique_prompt(timeout=0.3)
        assert await s.execute("trap - DEBUG; echo a") == "a\n"
        assert await s.execute("echo b") == "b\n"
        await s.set_unique_prompt()
        assert len(s.prompt_patterns) == 1
        assert await s.execute('echo "$PS1"') == f"[aioexpect-${{x+}}{token_of(s)}]$ \n"


@pytest.mark.parametrize("peer_is", ["a shell", "no shell"])
async def test_cancelled_after_sending_either_prompt_ends_the_next_answer(peer_is: str) -> None:
    async with asyncio.timeout(20), opened(timeout=5) as (s, peer):
        s.set_prompt(r"router#")
        await peer.write(b"router#")
        await s.expect_prompt()
        setting = asyncio.ensure_future(s.set_unique_prompt())
        line = (await read_until(peer, b"\n")).decode()
        setting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await setting
        found = re.search(r"PS1='\[aioexpect-\$\{x\+\}(\w+)''(\w+)\]", line)
        assert found is not None, line
        prompt = f"[aioexpect-{''.join(found.groups())}]$ " if peer_is == "a shell" else "router#"
        shown = prompt if peer_is == "a shell" else "% Invalid input\r\nrouter#"
        await peer.write(f"{line.rstrip()}\r\n{shown}".encode())
        running = asyncio.ensure_future(s.execute("show clock"))
        assert await read_until(peer, b"\n") == b"show clock\n"  # (after that prompt)
        await peer.write(f"show clock\r\n12:00\r\n{prompt}".encode())
        assert await running == "12:00\n"


# -- a small max_buffer --------------------------------------------------------------------


@pytest.mark.parametrize("argv", SHELLS)
@pytest.mark.parametrize("max_buffer", [64, 256])
async def test_a_small_max_buffer_drops_what_comes_before_the_prompt(
    argv: list[str], max_buffer: int, tmp_path: Any
) -> None:
    # The echo of its own line (over 400 characters) filled a max_buffer of
    # 256: BufferFull, "is this an interactive POSIX shell?".
    async with shell(argv, tmp_path, max_buffer=max_buffer) as s:
        await s.set_unique_prompt()
        assert await s.execute("echo after") == "after\n"
        assert token_of(s) in s.prompt_patterns[0].pattern


async def test_a_max_buffer_too_small_for_the_prompt_is_refused_before_sending() -> None:
    async with asyncio.timeout(20), opened(timeout=5, max_buffer=63) as (s, peer):
        with pytest.raises(ValueError, match=r"max_buffer=64 or more.*max_buffer=63"):
            await s.set_unique_prompt()
        await s.sendline("marker")
        assert await read_until(peer, b"\n") == b"marker\n"  # (nothing before it)
