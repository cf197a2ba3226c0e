"""A remote terminal with ICRNL off (``stty -icrnl``), where a CR is no
Enter: aioexpect cannot read a remote terminal's flags (it reads a local
pty's), so a ``linesep`` of CR LF goes as CR there, the Enter key, which
that terminal takes for none.  What docs/ssh.rst and docs/telnet.rst tell
such a session to do, a ``linesep`` of ``"\\n"``, works against the real
sshd and telnetd."""

from __future__ import annotations

import pytest

from .conftest import Account, Server
from .test_real_execute import remote_shell

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("via", ["ssh", "telnet"])
async def test_a_remote_terminal_without_icrnl_takes_an_lf_linesep(
    via: str, sshd: Server, telnetd: Server, it_user: Account
) -> None:
    async with remote_shell(via, sshd, telnetd, it_user) as s:
        await s.set_unique_prompt()  # (bash without its line editor: canonical mode)
        assert await s.execute("stty -icrnl") == ""
        s.linesep = "\n"
        assert await s.execute("eval $'true'; echo [$?]") == "[0]\n"
        await s.sendline("echo typed")  # (one line: one prompt owed)
        assert await s.execute("echo mine") == "mine\n"
        assert await s.execute("stty icrnl") == ""
        assert await s.execute("echo back") == "back\n"
