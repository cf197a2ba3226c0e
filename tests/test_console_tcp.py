"""The console served over plain TCP and UNIX sockets, as its clients use it
beyond lines: Ctrl-C (the byte, or telnet's Interrupt Process), with raw
asyncio clients and the real ``telnet``."""

from __future__ import annotations

import asyncio

import pytest

import aioexpect
from tests.conftest import need
from tests.test_console_server import LIMIT, connected, console

#: Ctrl-C as a client sends it: the byte (socat in raw mode), or telnet's
#: Interrupt Process followed by its request for a timing mark.
CTRL_C = {"byte": b"\x03", "telnet": b"\xff\xf4\xff\xfd\x06"}
#: What comes back before the interrupt is shown: telnet's timing mark.
ANSWER = {"byte": b"", "telnet": b"\xff\xfb\x06"}


@pytest.mark.parametrize("how", list(CTRL_C))
async def test_ctrl_c_interrupts_the_running_statement(how: str) -> None:
    # The 0x03 waited unread until the statement ended, then broke the next
    # line (invalid non-printable character U+0003); IAC IP was two U+FFFD.
    started = asyncio.Event()
    async with console(locals={"started": started}) as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"started.set(); await asyncio.sleep(3600)\n")
        async with asyncio.timeout(LIMIT):
            await started.wait()
        c.writer.write(CTRL_C[how])
        assert await c.prompt() == ANSWER[how] + b"\nKeyboardInterrupt\n"
        assert await c.run("print('after')") == "after\n"


@pytest.mark.parametrize("how", list(CTRL_C))
async def test_ctrl_c_drops_the_line_being_typed(how: str) -> None:
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"print('never r")
        await c.writer.drain()
        c.writer.write(CTRL_C[how])
        assert await c.prompt() == ANSWER[how] + b"\nKeyboardInterrupt\n"
        assert await c.run("print('after')") == "after\n"


async def test_lines_sent_ahead_of_a_ctrl_c_run_after_it() -> None:
    # No terminal: what was sent stays, as over ssh -T.
    started = asyncio.Event()
    async with console(locals={"started": started}) as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"started.set(); await asyncio.sleep(3600)\nprint('ahead')\n")
        async with asyncio.timeout(LIMIT):
            await started.wait()
        c.writer.write(b"\x03")
        assert await c.prompt() == b"\nKeyboardInterrupt\n"
        assert await c.prompt() == b"ahead\n"


async def test_ctrl_c_from_telnet_interrupts_and_telnet_shows_what_follows() -> None:
    # telnet shows no output after its Ctrl-C until its timing mark is
    # answered: unanswered, the console looked dead.
    telnet = need("telnet", "Debian telnet")
    started = asyncio.Event()
    async with (
        console(locals={"started": started}) as server,
        aioexpect.spawn(telnet, ["127.0.0.1", str(server.port)], timeout=LIMIT) as t,
    ):
        await t.expect_exact(">>> ")
        await t.sendline("started.set(); await asyncio.sleep(3600)")
        async with asyncio.timeout(LIMIT):
            await started.wait()
        await t.send("\x03")
        assert (await t.expect_exact(">>> ")).before.endswith("\r\nKeyboardInterrupt\r\n")
        await t.sendline("print('after')")
        assert (await t.expect_exact(">>> ")).before == "print('after')\r\nafter\r\n"


async def test_ctrl_c_while_attached_goes_to_the_session() -> None:
    async with (
        aioexpect.spawn("cat", pty=False, timeout=LIMIT) as cat,
        console(locals={"cat": cat}) as server,
        connected(server) as c,
    ):
        await c.prompt()
        c.writer.write(b"await attach(cat)\n")
        async with asyncio.timeout(LIMIT):
            await c.reader.readuntil(b"Ctrl-] detaches\r\n")
            c.writer.write(b"a\x03b\n")
            assert await c.reader.readuntil(b"\n") == b"a\x03b\n"
            c.writer.write(b"c" + CTRL_C["telnet"] + b"d\n")  # (its timing mark answered)
            assert await c.reader.readuntil(b"\n") == ANSWER["telnet"] + b"c\x03d\n"
            c.writer.write(b"\x1d")
            assert b"detached" in await c.prompt()
