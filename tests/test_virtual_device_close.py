"""serve_telnet and serve_ssh: how connections end.  A client that vanishes
while a handler asks."""

from __future__ import annotations

import asyncio
import logging
import re

import asyncssh
import pytest

from aioexpect.testing import VirtualDevice, ask, serve_ssh
from tests.helpers import wait_until

#: A bound on every wait: far more than a close takes, far less than "for ever".
LIMIT = 10.0


def asking_device(seen: list[str]) -> VirtualDevice:
    """``q`` asks for a line, ``k`` for a key; each notes how its ask ended."""

    async def question(command: str, m: re.Match[str]) -> str:
        try:
            return await ask("Name? ", key=command == "k")
        except EOFError:
            seen.append("EOFError")
            raise
        except BaseException as exc:
            seen.append(type(exc).__name__)
            raise

    return VirtualDevice("r1", commands={"q|k": question})


@pytest.mark.parametrize("command", ["q", "k"], ids=["line", "key"])
@pytest.mark.parametrize("channel", ["shell", "exec"])
async def test_an_ssh_client_that_vanishes_while_asked_gives_eof_error(
    channel: str, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The connection lost (a killed ssh, a network drop) raised asyncssh's
    # ConnectionLost out of ask(): the handler's `except EOFError:` clean-up
    # did not run, and its failure was logged at ERROR with a traceback.
    seen: list[str] = []
    async with serve_ssh(asking_device(seen)) as server:
        conn = await asyncssh.connect(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, username="u"
        )
        try:
            if channel == "exec":
                _, stdout, _ = await conn.open_session(command)
            else:
                stdin, stdout, _ = await conn.open_session(term_type="vt100")
                await stdout.readuntil("r1#")
                stdin.write(command + "\r")
            async with asyncio.timeout(LIMIT):
                await stdout.readuntil("Name? ")
        finally:
            conn.abort()  # the client vanishes: no channel close, no end of file
        await wait_until(lambda: bool(seen), "the handler's ask ended")
        assert seen == ["EOFError"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
