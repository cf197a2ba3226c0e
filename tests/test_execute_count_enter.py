"""What ``execute`` counts as a line's end.

- A ``linesep`` of CR LF on a terminal (a pty, SSH with one) is two
  Enters: ``execute``'s own command was two lines, the empty one's prompt
  taken for the end of the next command's answer.  It now goes as one
  line, the CR LF as CR (a terminal's Enter key).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import struct
import termios
from collections.abc import AsyncIterator
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import _prompt_send

from .test_ssh import connect as connect_ssh
from .test_ssh import ssh_server

#: bash counting the prompts it shows (one for each Enter), in ``$n``.
ENV = {"PS1": "$ ", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TERM": "xterm"}
ENV["PROMPT_COMMAND"] = "n=$((n+1))"
BASH = ["bash", "--norc", "--noprofile"]


async def bash_in_a_pty(
    sessions: list[asyncio.Future[Any]], process: asyncssh.SSHServerProcess[bytes]
) -> None:
    """An SSH server's session: bash in a pty of the server's, as sshd runs
    it; its task added to ``sessions``."""
    task = asyncio.current_task()
    assert task is not None
    sessions.append(task)
    master, slave = os.openpty()
    cols, rows, _, _ = process.term_size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    child = await asyncio.create_subprocess_exec(
        *BASH, stdin=slave, stdout=slave, stderr=slave, env=ENV, start_new_session=True
    )
    os.close(slave)
    os.set_blocking(master, False)
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()

    def readable() -> None:
        try:
            data = os.read(master, 65536)
        except OSError:  # (EIO: bash ended)
            data = b""
        if not data:
            loop.remove_reader(master)
            ended.set()
        elif not process.stdout.is_closing():
            process.stdout.write(data)

    async def typed() -> None:
        try:
            while data := await process.stdin.read(65536):
                os.write(master, data)
        except (asyncssh.Error, OSError):
            pass
        finally:  # (the client gone: bash ends too)
            ended.set()

    loop.add_reader(master, readable)
    reading = asyncio.ensure_future(typed())
    try:
        await ended.wait()
    finally:
        reading.cancel()
        with contextlib.suppress(BaseException):
            await reading
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
        loop.remove_reader(master)
        os.close(master)
        process.exit(0)


@contextlib.asynccontextmanager
async def bash_session(via: str) -> AsyncIterator[aioexpect.Session]:
    if via == "pty":
        async with aioexpect.spawn(BASH[0], BASH[1:], env=ENV, timeout=10) as s:
            yield s
    else:
        sessions: list[asyncio.Future[Any]] = []
        async with ssh_server(functools.partial(bash_in_a_pty, sessions)) as server:
            async with connect_ssh(server) as s:
                assert s.transport.get_extra_info("pty")
                yield s
            await asyncio.wait_for(asyncio.gather(*sessions), 10)  # (bash reaped)


@pytest.mark.parametrize("via", ["pty", "ssh"])
@pytest.mark.parametrize("unique", [False, True], ids=["bash's prompt", "set_unique_prompt"])
async def test_a_crlf_linesep_on_a_terminal_sends_each_command_as_one_line(
    via: str, unique: bool
) -> None:
    # The old code sent 'echo one\r\n', two Enters: 'sleep 0.05; echo two'
    # returned '\n' (the empty line's prompt), the next one that answer
    # and its own; or an answer ended with the next prompt ('one\n$ \n').
    async with bash_session(via) as s:
        s.linesep = "\r\n"
        if unique:
            await s.set_unique_prompt()  # (its line one, too)
        assert await s.execute("n=0") == ""
        assert await s.execute("echo one") == "one\n"
        assert await s.execute("sleep 0.05; echo two") == "two\n"
        assert await s.execute("echo three") == "three\n"
        if not unique:  # (set_unique_prompt unsets PROMPT_COMMAND)
            assert await s.execute("echo $n") == "4\n"  # (one Enter each: one prompt)
        await s.sendline("echo typed")  # (two lines to a terminal: both read to)
        assert await s.execute("echo four") == "four\n"


def test_a_crlf_linesep_goes_whole_where_it_is_one_line_end() -> None:
    class Peer:
        def __init__(self, kind: str, pty: bool, linesep: str) -> None:
            self.transport = self
            self.kind, self.pty, self.linesep = kind, pty, linesep

        def get_extra_info(self, name: str) -> Any:
            return self.pty if name == "pty" else None

    session: Any = Peer("pty", True, "\r\n")
    assert _prompt_send.one_enter(session, "x") == "x\r"
    session = Peer("ssh", True, "\r\n")
    assert _prompt_send.one_enter(session, "x") == "x\r"
    for kind, pty, linesep in [("ssh", False, "\r\n"), ("telnet", False, "\r\n"),
                               ("pipes", False, "\r\n"), ("pty", True, "\n"),
                               ("pty", True, "\r")]:  # fmt: skip
        assert _prompt_send.one_enter(Peer(kind, pty, linesep), "x") == "x" + linesep
