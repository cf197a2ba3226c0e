"""A line of output that is the host's own prompt: nothing tells it from the
prompt, and nothing is logged (docs/drivers.rst, *How a prompt is
recognised*); the way out the docs give for a device."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from .helpers import played, typed_lines


async def device(peer: Any) -> None:
    """``R1#`` alone on a line of ``show running-config``, where a chunk
    ends (the session, with ``limit=0``, reads each write before the next)."""
    await peer.write(b"R1#")
    async for command in typed_lines(peer):
        if command == "show running-config":
            await peer.write(b"show running-config\r\nhostname R1\r\nR1#")
            await peer.write(b"\r\nmore\r\nend\r\nR1#")
        else:
            await peer.write(f"{command}\r\n{command[5:]}\r\nR1#".encode())


async def test_the_host_s_own_prompt_in_output_shifts_the_answers_unsaid(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The troubleshooting entry promised a warning: there is none.  The
    # answers stay one behind, the echo of the command before first (after
    # the same command twice nothing shows it).
    caplog.set_level(logging.WARNING, logger="aioexpect")
    async with played(device, limit=0, timeout=5) as s:
        assert await s.execute("show running-config") == "hostname R1\n"
        assert await s.execute("show clock") == "\nmore\nend\n"
        assert await s.execute("show clock") == "clock\n"  # (the one before's)
        assert await s.execute("show version") == "show clock\nclock\n"
    assert [r.getMessage() for r in caplog.records] == []


async def test_output_holding_the_host_s_own_prompt_read_with_expect() -> None:
    # The way out: sendline, expect the output's own last line, then
    # expect_prompt.
    async with played(device, limit=0, timeout=5) as s:
        assert await s.execute("show clock") == "clock\n"
        await s.sendline("show running-config")
        m = await s.expect(r"\nend\r\n")
        assert "hostname R1\r\nR1#\r\nmore\r" in m.before
        assert (await s.expect_prompt()).after == "R1#"
        assert await s.execute("show clock") == "clock\n"
        assert await s.execute("show version") == "version\n"
