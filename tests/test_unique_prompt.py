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


@contextlib.asynccontextmanager
async def shell(argv: list[str], home: Any, **options: Any) -> AsyncIterator[Session]:
    """``argv`` in a pty (skipped if not installed), with no rc file of the user's."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "xterm", "HOME": str(home)}
    async with aioexpect.spawn(argv[0], argv[1:], env=env, timeout=10, **options) as s:
        yield s


def token_of(s: Session) -> str:
    found = re.search(r"aioexpect\\-([0-9a-f]{8})", s.prompt_patterns[0].pattern)
    assert found is not None, s.prompt_patterns
    return found.group(1)


@pytest.mark.parametrize("argv", SHELLS)
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
    async with opened(timeout=5) as (s, peer):
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
