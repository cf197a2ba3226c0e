"""What a shell behind OpenSSH's sshd does with an SSH ``signal`` request
without a pty: what ``VirtualDevice`` (aioexpect.testing) matches.  sshd
sends the signal to the shell's process group; bash, not interactive
without a terminal, dies of INT as of TERM, at its input, a question
(``read``) or a command alike, and nothing more comes."""

from __future__ import annotations

import signal

import pytest

from .conftest import Account, Server
from .test_real_servers import ssh

pytestmark = pytest.mark.integration

#: What the shell runs when the signal comes: nothing (it reads its input),
#: a question, a command that would print on.
WHILE = {
    "idle": "echo STARTED",
    "question": "echo STARTED; read x; echo got $x",
    "command": "echo STARTED; sleep 9; echo done",
}


@pytest.mark.parametrize("name", ["INT", "TERM"])
@pytest.mark.parametrize("doing", WHILE)
async def test_a_signal_without_a_pty_ends_the_shell_at_once(
    sshd: Server, it_user: Account, name: str, doing: str
) -> None:
    async with ssh(sshd, it_user, client_keys=None, request_pty=False) as s:
        await s.sendline(WHILE[doing])
        await s.expect_exact("STARTED\n", timeout=10)
        if name == "INT":
            await s.sendintr()  # (the signal request, without a pty)
        else:
            s.transport._chan.send_signal(name)
        assert await s.read_all(timeout=10) == ""
        assert await s.wait() is None
        assert s.signal_status == getattr(signal, f"SIG{name}")
