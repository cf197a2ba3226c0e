"""A bare LF sent over telnet to a served VirtualDevice, and execute after it.

The device dropped an LF that came after a CR however late it came, as
inetutils telnetd does in the NVT's mode; but aioexpect sends in binary
mode (RFC 856), the CR of each line end alone, and there telnetd passes
CR and LF on as they are: its pty reads each as a line end.  So an LF
sent alone after a line (``send("\\n")``, a ``linesep`` of ``"\\n"``, an
empty line of ``send("\\n\\n")``) got no answer from the device, where
bash behind telnetd answers it with a prompt, and ``execute`` counted a
prompt for it that never came (``STALE_WAIT``).
"""

from __future__ import annotations

import asyncio

import pytest
import telnetlib3

from aioexpect import _typed
from aioexpect.testing import VirtualDevice, serve_telnet

from .test_virtual_device import connect


def device() -> VirtualDevice:
    return VirtualDevice("r1", commands={f"show {x}": x.upper() * 3 for x in "abc"})


@pytest.mark.parametrize("sent", ["\n", "\r\x00", "\r"], ids=["lf", "cr-nul", "cr"])
async def test_a_line_end_alone_over_telnet_is_an_empty_line(sent: str) -> None:
    # The old device read nothing for a bare LF after 'show a' (sent as
    # 'show a\r' in binary mode): expect_prompt timed out.
    async with serve_telnet(device()) as server, connect(serve_telnet, server) as s:
        assert await s.execute("show a") == "AAA\n"
        await s.send(sent)
        assert (await s.expect_prompt(timeout=5)).before == "\r\n"
        assert await s.execute("show b") == "BBB\n"


async def test_an_lf_after_the_cr_was_answered_is_a_line_of_its_own() -> None:
    # A CR LF sent by two calls, the device's answer to the CR heard in
    # between: the LF goes as a key of its own (Ctrl-J), and the session
    # counts an empty line, as bash behind telnetd reads it.  The old
    # device dropped it as the CR's.
    async with serve_telnet(device()) as server, connect(serve_telnet, server) as s:
        await s.expect_prompt()
        await s.send("show a\r")
        assert (await s.expect_prompt()).before == "show a\r\nAAA\r\n"
        await s.send("\n")
        assert (await s.expect_prompt(timeout=5)).before == "\r\n"


async def test_a_linesep_of_lf_over_telnet(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each line's end a bare LF, the first after the CR of the line
    # before: the old device dropped it ('show b' read as the start of a
    # line), and execute timed out.
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (a wait would be a time-out here)
    async with serve_telnet(device()) as server, connect(serve_telnet, server) as s:
        assert await s.execute("show a") == "AAA\n"
        s.linesep = "\n"
        await s.sendline("")
        assert await s.execute("show b", timeout=5) == "BBB\n"
        assert await s.execute("show c", timeout=5) == "CCC\n"


@pytest.mark.parametrize("empties", [1, 2, 3])
async def test_empty_lines_sent_ahead_over_telnet_owe_one_prompt_each(
    empties: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # send('\n\n') after an execute: the old device dropped the first LF
    # (after the CR of 'show a\r') and answered the second only; execute
    # waited for the prompt it counted for the first (STALE_WAIT, 0.2 s
    # each time): here past its time-out ('1 still owed').
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (the wait is what is tested)
    async with serve_telnet(device()) as server, connect(serve_telnet, server) as s:
        assert await s.execute("show a") == "AAA\n"
        for command in ("show b", "show c"):
            await s.send("\n" * empties)
            assert await s.execute(command, timeout=5) == f"{command[-1].upper() * 3}\n"


async def _read_until(reader: telnetlib3.TelnetReaderUnicode, end: str) -> str:
    got = ""
    while not got.endswith(end):
        data = await asyncio.wait_for(reader.read(4096), 5)
        assert data, f"end of file after {got!r}"
        got += data
    return got


async def test_a_telnetlib3_client_in_binary_mode_sends_two_lines_with_cr_lf() -> None:
    # telnetlib3's client agrees to binary mode when the device asks, and
    # writes what it is given: 'show a\r\n' is 'show a', then an empty
    # line (two prompts), as bash behind telnetd reads it (docs/testing.rst).
    async with serve_telnet(device()) as server:
        reader, writer = await telnetlib3.open_connection("127.0.0.1", server.port)
        try:
            await _read_until(reader, "r1#")
            assert writer.outbinary
            writer.write("show a\r\n")
            assert await _read_until(reader, "r1#\r\nr1#") == "show a\r\nAAA\r\nr1#\r\nr1#"
            writer.write("show b\r")
            assert await _read_until(reader, "r1#") == "show b\r\nBBB\r\nr1#"
        finally:
            writer.close()
