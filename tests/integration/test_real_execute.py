"""execute, login and the drivers against the real OpenSSH sshd and the real
telnetd with /bin/login: the same checks the in-process tests make."""

from __future__ import annotations

import pytest

import aioexpect
from aioexpect import AuthenticationError

from ..test_execute import check_shell_execute
from .conftest import Account, Server

pytestmark = pytest.mark.integration


async def test_execute_over_real_ssh(sshd: Server, it_user: Account) -> None:
    async with aioexpect.connect_ssh(
        "127.0.0.1",
        sshd.port,
        username=it_user.name,
        password=it_user.password,
        known_hosts=str(sshd.known_hosts),
        client_keys=None,
        timeout=20,
    ) as s:
        await check_shell_execute(s)


async def test_login_and_execute_over_real_telnet(telnetd: Server, it_user: Account) -> None:
    url = f"telnet://{it_user.name}:{it_user.password}@127.0.0.1:{telnetd.port}"
    async with aioexpect.connect(url, timeout=20, driver="auto") as s:
        # login() ran (credentials in the URL) and left the first prompt;
        # the shell driver was guessed from the banner and prompt.
        await check_shell_execute(s)
        assert s.driver.name == "shell"


async def test_wrong_password_over_real_telnet_fails_fast(
    telnetd: Server, it_user: Account
) -> None:
    url = f"telnet://{it_user.name}:not-the-password@127.0.0.1:{telnetd.port}"
    with pytest.raises(AuthenticationError) as info:
        async with aioexpect.connect(url, timeout=20):
            pass
    assert "not-the-password" not in str(info.value)
