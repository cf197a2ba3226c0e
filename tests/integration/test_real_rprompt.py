"""zsh's right prompt (``RPROMPT``) over the real sshd and telnetd: the
shell logs in as bash, then ``exec``s zsh with a prompt and a right prompt
(plain, coloured, transient), and each answer is exact."""

from __future__ import annotations

import shutil

import pytest

from .conftest import Account, Server
from .test_real_execute import remote_shell

pytestmark = pytest.mark.integration

#: (PS1, RPROMPT, options)
SETTINGS = {
    "plain": ("%n@%m %~ %# ", "[%T]", ""),
    "coloured": ("%F{green}%n@%m%f %~ %# ", "%F{yellow}%~ %*%f", ""),
    "transient": ("%n@%m %~ %# ", "[%~]", "setopt transient_rprompt; "),
}


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("via", ["ssh", "telnet"])
async def test_zsh_with_a_right_prompt_over_a_real_server(
    via: str, setting: str, sshd: Server, telnetd: Server, it_user: Account
) -> None:
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    ps1, rprompt, options = SETTINGS[setting]
    async with remote_shell(via, sshd, telnetd, it_user) as s:
        assert await s.execute("true") == ""  # (telnet's login read the first prompt)
        await s.sendline(
            f"exec env PS1='{ps1}' RPROMPT='{rprompt}' zsh -f -i -c '{options}exec zsh -f -i'"
            if options
            else f"exec env PS1='{ps1}' RPROMPT='{rprompt}' zsh -f -i"
        )
        await s.expect_prompt()
        for _ in range(2):
            assert await s.execute("echo hi") == "hi\n"
            assert await s.execute("printf 'a\\nb'") == "a\nb"
            assert await s.execute("cd /tmp") == ""
            assert await s.execute("cd") == ""
            assert await s.execute("echo " + "y" * 70) == "y" * 70 + "\n"
