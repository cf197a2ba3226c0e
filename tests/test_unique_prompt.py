"""set_unique_prompt on real shells in a pty (bash, dash, zsh): under
``set -u``, with a small ``max_buffer``, and after a flood."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

import aioexpect
from aioexpect import Session

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
