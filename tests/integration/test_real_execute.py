"""execute, login and the drivers against the real OpenSSH sshd and the real
telnetd with /bin/login: the same checks the in-process tests make."""

from __future__ import annotations

import asyncio
import secrets

import pytest

import aioexpect
from aioexpect import AuthenticationError, _typed

from ..helpers import wait_until
from ..test_execute import check_shell_execute
from .conftest import PROMPT, Account, Server
from .test_real_servers import settle

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


def remote_shell(
    via: str, sshd: Server, telnetd: Server, it_user: Account
) -> aioexpect._openers.Opener:
    """A session to ``it_user``'s shell, over ``via`` (``"ssh"``, ``"telnet"``)."""
    if via == "ssh":
        return aioexpect.connect_ssh(
            "127.0.0.1", sshd.port, username=it_user.name, password=it_user.password,
            known_hosts=str(sshd.known_hosts), client_keys=None, timeout=20,
        )  # fmt: skip
    url = f"telnet://{it_user.name}:{it_user.password}@127.0.0.1:{telnetd.port}"
    return aioexpect.connect(url, timeout=20)


@pytest.mark.parametrize("via", ["ssh", "telnet"])
async def test_lines_typed_into_a_remote_shell_without_its_line_editor(
    via: str, sshd: Server, telnetd: Server, it_user: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bash after set_unique_prompt (no line editor): the remote terminal
    # echoes each line as it comes, x3=1 after x0=1's prompt while the line
    # after x0 still runs.  The catch-up took that echo for x3 read at its
    # prompt and stopped two prompts short: 'echo a' returned '' (the
    # terminal's modes cannot be read from here, as they are in a local pty).
    monkeypatch.setattr(_typed, "STALE_WAIT", 5.0)  # (the count is tested, not bash's speed)
    go = it_user.home / f"go-{secrets.token_hex(4)}"
    opener = remote_shell(via, sshd, telnetd, it_user)
    try:
        async with opener as s:
            await s.set_unique_prompt()
            # (one send: the terminal echoes all three before bash reads one)
            await s.send(f"x0=1\nuntil [ -e {go} ]; do sleep 0.01; done\nx2=1\n")
            await wait_until(lambda: s.buffer.endswith("]$ "), "x0=1 answered")
            await s.sendline("x3=1")
            await wait_until(lambda: s.buffer.endswith("x3=1\r\n"), "x3=1 echoed")
            running = asyncio.ensure_future(s.execute("echo a"))
            await wait_until(lambda: s.buffer.startswith("x3=1") or running.done(), "x0 read")
            go.touch()
            assert await asyncio.wait_for(running, 20) == "a\n"
            assert await s.execute("echo $x3") == "1\n"
    finally:
        go.unlink(missing_ok=True)


@pytest.mark.parametrize("via", ["ssh", "telnet"])
async def test_cr_lf_sent_to_a_remote_shell_without_its_line_editor(
    via: str, sshd: Server, telnetd: Server, it_user: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over SSH the remote terminal makes 'sleep 0.3\r\n' two lines (CR
    # made LF, ICRNL), each answered with a prompt: counted as one, the
    # catch-up stopped two prompts short and 'echo a' returned ''.  Over
    # telnet CR LF is the NVT's one line end, one prompt (counted as two,
    # 'echo a' would wait past its timeout for a prompt that never comes).
    monkeypatch.setattr(_typed, "STALE_WAIT", 5.0)  # (the count is tested, not bash's speed)
    opener = remote_shell(via, sshd, telnetd, it_user)
    async with opener as s:
        await s.set_unique_prompt()
        await s.send("sleep 0.3\r\nsleep 0.3\r\n")
        assert [await s.execute(f"echo {w}", timeout=4) for w in "abc"] == ["a\n", "b\n", "c\n"]


@pytest.mark.parametrize("via", ["ssh", "telnet"])
@pytest.mark.parametrize("length", [50, 55])
async def test_a_wrapped_prompt_is_found_where_the_remote_shell_has_another_width(
    via: str, sshd: Server, telnetd: Server, it_user: Account, length: int
) -> None:
    """Over SSH and telnet the session knows only the width it asked for
    (80): a shell told otherwise (``stty cols 60``) wraps its prompt at its
    own margin, which execute must still find (a wrap checked against 80
    never was)."""
    async with remote_shell(via, sshd, telnetd, it_user) as s:
        await s.execute("stty cols 60")
        await s.execute(f"PS1='root@fbsd:~/{'d' * length} # '")
        assert [await s.execute("echo hi"), await s.execute("echo there")] == ["hi\n", "there\n"]


@pytest.mark.parametrize("via", ["ssh", "telnet"])
async def test_lines_ending_in_an_empty_one_sent_to_a_remote_shell(
    via: str, sshd: Server, telnetd: Server, it_user: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bash's line editor echoes the empty line after its prompt ('IT-PROMPT>
    # \r\n'): the catch-up never took that for the line read there, and
    # waited for one more prompt (STALE_WAIT, here past the timeout: 'echo
    # mine' not sent, '1 still owed').  A bulk send longer than SEND_KEPT
    # then counts all its lines: 'echo mine' is answered, not 'echo 4..'.
    monkeypatch.setattr(_typed, "STALE_WAIT", 30.0)  # (the wait is what is tested)
    async with remote_shell(via, sshd, telnetd, it_user) as s:
        await settle(s)
        assert await s.execute("true") == ""
        await s.send("echo one\n\n")
        await wait_until(lambda: s.buffer.count(PROMPT) > 1, "both answered")
        assert await s.execute("echo mine", timeout=10) == "mine\n"
        await s.send("".join(f"echo {i}\n" for i in range(1000)))
        assert await s.execute("echo two", timeout=60) == "two\n"
        assert await s.execute("echo three", timeout=10) == "three\n"
