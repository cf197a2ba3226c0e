"""zsh's two-line prompt over the real sshd: the shell logs in as the
account's own, then ``exec``s zsh with a prompt of two lines (a right
prompt on the second), and each answer is exact."""

from __future__ import annotations

import shutil

import pytest

from .conftest import Account, Server
from .test_real_execute import remote_shell

pytestmark = pytest.mark.integration


async def test_zsh_s_two_line_prompt_over_the_real_sshd(
    sshd: Server, telnetd: Server, it_user: Account
) -> None:
    # The old code: 'hi\nit@host ~\n' (the first line ended every answer).
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    async with remote_shell("ssh", sshd, telnetd, it_user) as s:
        assert await s.execute("true") == ""
        await s.sendline("exec env PS1='%n@%m %~\n%# ' RPROMPT='[%T]' zsh -f -i")
        await s.expect_prompt()
        line = (await s.execute("print -rP -- '%n@%m %~'")).rstrip("\n")
        for _ in range(2):
            assert await s.execute("echo hi") == "hi\n"
            assert await s.execute("true") == ""
            assert await s.execute(f"print -r -- '{line}'") == f"{line}\n"
            assert await s.execute("printf 'a\\nb'") == "a\nb"
            assert await s.execute("cd /tmp") == ""
            assert await s.execute("cd") == ""
