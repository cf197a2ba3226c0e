"""What the real telnetd (inetutils, bash behind it) makes of a line end
alone, which the VirtualDevice served over telnet now does too
(``tests/test_execute_telnet_lf.py``): in binary mode a bare LF, a bare CR
and CR NUL are one empty line each, and an LF sent after the CR of an
answered line is a line of its own."""

from __future__ import annotations

import pytest

import aioexpect
from aioexpect import _typed

from .conftest import PROMPT, Account, Server
from .test_real_servers import settle

pytestmark = pytest.mark.integration


async def test_line_ends_alone_over_real_telnet(
    telnetd: Server, it_user: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (a prompt owed and not coming: a time-out)
    url = f"telnet://{it_user.name}:{it_user.password}@127.0.0.1:{telnetd.port}"
    async with aioexpect.connect(url, timeout=20) as s:
        await settle(s)
        s.set_prompt(PROMPT)
        for sent in ("\n", "\r\x00", "\r"):
            await s.send(sent)
            assert (await s.expect_prompt(timeout=5)).before == "\r\n"
        await s.send("echo a\r")
        assert (await s.expect_prompt(timeout=5)).before == "echo a\r\na\r\n"
        await s.send("\n")  # (the CR answered: a key of its own)
        assert (await s.expect_prompt(timeout=5)).before == "\r\n"
        for empties in (1, 2, 3):
            await s.send("\n" * empties)
            assert await s.execute("echo mine", timeout=5) == "mine\n"
