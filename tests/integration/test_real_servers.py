"""connect_ssh and connect_telnet against real OpenSSH sshd and inetutils
telnetd (serving /bin/login) on 127.0.0.1; see conftest.py for the servers."""

from __future__ import annotations

import asyncio
import io
import logging
import random
import re
import string
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import Session, _typed

from .conftest import PROMPT, SET_PROMPT, Account, Server

pytestmark = pytest.mark.integration

_PROMPT_RE = re.escape(PROMPT)


async def settle(s: Session) -> None:
    """Set a known prompt and wait until the shell shows it (once)."""
    await s.sendline(SET_PROMPT)
    await s.expect(f"[\r\n]{_PROMPT_RE}$", timeout=10)


async def count_prompts(s: Session, commands: list[str]) -> tuple[int, str]:
    """Send ``commands`` back to back, then a marker; count the prompts."""
    for command in commands:
        await s.sendline(command)
    await s.sendline("echo MARK-$((40+2))")
    m = await s.expect(f"MARK-42\r?\n{_PROMPT_RE}", timeout=10)
    text = m.before + m.after
    return text.count(PROMPT), text


def ssh(sshd: Server, user: Account, **options: Any) -> aioexpect._openers.Opener:
    options.setdefault("username", user.name)
    options.setdefault("password", user.password)
    options.setdefault("known_hosts", str(sshd.known_hosts))
    options.setdefault("timeout", 20)
    return aioexpect.connect_ssh("127.0.0.1", sshd.port, **options)


# -- OpenSSH -------------------------------------------------------------------------------


async def test_ssh_password_login_runs_commands(sshd: Server, it_user: Account) -> None:
    async with ssh(sshd, it_user, client_keys=None) as s:
        await settle(s)
        prompts, text = await count_prompts(s, ["echo one", "echo two", "echo three"])
        assert prompts == 4, text  # three commands and the marker: no doubled newlines
        for word in ("one", "two", "three"):
            assert f"\n{word}\r\n" in text


async def test_ssh_public_key_login(sshd: Server, it_user: Account) -> None:
    async with ssh(sshd, it_user, password=None, client_keys=[str(sshd.client_key)]) as s:
        await settle(s)
        await s.sendline("id -un")
        await s.expect_exact(f"\n{it_user.name}\r\n", timeout=10)
    assert "Accepted publickey" in sshd.logged()


async def test_ssh_wrong_password(sshd: Server, it_user: Account) -> None:
    with pytest.raises(aioexpect.AuthenticationError) as info:
        await ssh(sshd, it_user, password="not-the-Password", client_keys=None)
    assert "not-the-Password" not in str(info.value)


async def test_ssh_unknown_host_key_sends_no_credential(
    sshd: Server, it_user: Account, fresh_home: Path
) -> None:
    before = len(sshd.log)
    with pytest.raises(aioexpect.HostKeyError):
        await ssh(sshd, it_user, known_hosts=())  # no ~/.ssh/known_hosts in fresh_home
    after = "".join(sshd.log[before:])
    assert "Failed password" not in after and "Accepted" not in after, after


async def check_term_and_resize(s: Session) -> None:
    """The session was opened as a vt220 of 33x111: the shell sees that, and
    then a resize to 40x120."""
    await s.sendline("echo term=$TERM; stty size")
    await s.expect_exact("term=vt220\r\n33 111\r\n", timeout=10)
    s.set_winsize(40, 120)
    await s.sendline("stty size")
    await s.expect_exact("\n40 120\r\n", timeout=10)


async def test_ssh_terminal_type_size_and_resize(sshd: Server, it_user: Account) -> None:
    async with ssh(sshd, it_user, term_type="vt220", dimensions=(33, 111)) as s:
        await settle(s)
        await check_term_and_resize(s)


async def test_ssh_sendintr_interrupts(sshd: Server, it_user: Account) -> None:
    async with ssh(sshd, it_user) as s:
        await settle(s)
        # READY comes from the process itself: it is in the foreground by then.
        await s.sendline("sh -c 'echo READY; exec sleep 30'")
        await s.expect_exact("\nREADY\r\n", timeout=10)
        await s.sendintr()
        await s.expect_exact(PROMPT, timeout=5)
        await s.sendline("echo status=$?")
        await s.expect_exact("status=130", timeout=10)


async def test_ssh_sendeof_on_a_pty_ends_cat_and_the_shell_goes_on(
    sshd: Server, it_user: Account
) -> None:
    async with ssh(sshd, it_user) as s:
        await settle(s)
        await s.sendline("echo READY; cat")  # READY: the terminal is back in cooked mode
        await s.expect_exact("\nREADY\r\n", timeout=10)
        await s.sendline("some input")
        await s.expect_exact("some input\r\nsome input\r\n", timeout=10)
        await s.sendeof()
        await s.expect_exact(PROMPT, timeout=5)
        await s.sendline("echo still=$((1+1))")
        await s.expect_exact("still=2", timeout=10)


async def test_ssh_sendeof_ends_the_command(sshd: Server, it_user: Account) -> None:
    async with ssh(sshd, it_user, command="wc -c", term_type=None) as s:
        await s.send("12345")
        await s.sendeof()
        await s.expect(r"\b5\b", timeout=10)
        assert await s.wait() == 0


async def test_ssh_request_pty_false_gives_no_terminal_and_sendeof_ends_the_command(
    sshd: Server, it_user: Account
) -> None:
    # term_type left at "xterm": the session took itself for a pty, and
    # sendeof() wrote Ctrl-D into cat's input (cat never ended).
    async with ssh(sshd, it_user, command="tty; cat", request_pty=False) as s:
        await s.expect_exact("not a tty\n", timeout=10)
        await s.sendline("12345")
        await s.expect_exact("12345\n", timeout=10)
        await s.sendeof()
        assert await asyncio.wait_for(s.wait(), 10) == 0
        assert s.transport.get_extra_info("pty") is False


async def test_ssh_a_pty_forced_without_a_terminal_type(
    sshd: Server, it_user: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # term_type=None with request_pty="force": sshd gives a pty, which the
    # session took for none.  'sleep 0.3\r\n' (two lines behind a pty) was
    # counted one, and 'echo a' returned ''; sendeof() sent channel EOF,
    # which sshd ignores on a pty: cat never ended.
    monkeypatch.setattr(_typed, "STALE_WAIT", 5.0)  # (the count is tested, not bash's speed)
    async with ssh(sshd, it_user, term_type=None, request_pty="force") as s:
        await s.set_unique_prompt()
        assert (await s.execute("tty")).startswith("/dev/pts/")
        await s.send("sleep 0.3\r\nsleep 0.3\r\n")
        assert [await s.execute(f"echo {w}", timeout=4) for w in "abc"] == ["a\n", "b\n", "c\n"]
        await s.sendline("echo READY; cat")
        await s.expect_exact("\nREADY\r\n", timeout=10)
        await s.sendeof()
        await s.expect_prompt(timeout=5)
        assert await s.execute("echo still") == "still\n"


async def test_ssh_command_exit_status_and_utf8(sshd: Server, it_user: Account) -> None:
    async with ssh(sshd, it_user, command="printf 'caf\\303\\251\\n'; exit 3") as s:
        await s.expect_exact("café", timeout=10)
        assert await s.wait() == 3
        assert s.exit_status == 3


async def test_ssh_url(sshd: Server, it_user: Account) -> None:
    url = f"ssh://{it_user.name}:{it_user.password}@127.0.0.1:{sshd.port}"
    async with aioexpect.connect(url, known_hosts=str(sshd.known_hosts), timeout=20) as s:
        assert it_user.password not in repr(s)
        await settle(s)


@pytest.mark.parametrize("length", [100, 132])
async def test_ssh_a_secret_the_shell_wraps_stays_out_of_the_transcript(
    sshd: Server, it_user: Account, caplog: pytest.LogCaptureFixture, length: int
) -> None:
    """bash's readline on the far end wraps the echo of a line wider than
    the terminal (132: the line ends at the margin of its second row, which
    it draws again): the logfile and the DEBUG records showed most of it."""
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    token = "".join(random.Random(length).choices(string.ascii_letters, k=length))
    log = io.StringIO()
    async with ssh(sshd, it_user, dimensions=(24, 80), logfile=log) as s:
        await settle(s)
        await s.send_secret(f"export API_TOKEN={token}")
        await s.expect(f"\n{_PROMPT_RE}$", timeout=10)
    for text in (log.getvalue(), caplog.text):
        assert [token[i : i + 10] for i in range(length - 9) if token[i : i + 10] in text] == []


# -- inetutils telnetd + /bin/login ----------------------------------------------------------


async def login_by_hand(s: Session, user: Account) -> None:
    await s.expect("login: ", timeout=15)
    await s.sendline(user.name)
    await s.expect("Password: ?", timeout=15)
    await s.send_secret(user.password)
    await s.expect(r"[$#] $", timeout=15)


def telnet(telnetd: Server, **options: Any) -> aioexpect._openers.Opener:
    options.setdefault("timeout", 20)
    return aioexpect.connect_telnet("127.0.0.1", telnetd.port, **options)


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])  # BINARY (CR), and the NVT (CR LF)
async def test_telnet_login_and_one_newline_per_line(
    telnetd: Server, it_user: Account, encoding: str
) -> None:
    async with telnet(telnetd, encoding=encoding) as s:
        assert s.linesep == "\r\n"  # sent as CR when BINARY is agreed
        await login_by_hand(s, it_user)
        await settle(s)
        prompts, text = await count_prompts(s, ["echo one", "echo two", "echo three"])
        assert prompts == 4, text  # six-plus would mean CR LF became two newlines
        assert it_user.password not in text


async def test_telnet_terminal_type_size_and_resize(telnetd: Server, it_user: Account) -> None:
    async with telnet(telnetd, term_type="vt220", dimensions=(33, 111)) as s:
        await login_by_hand(s, it_user)
        await settle(s)
        await check_term_and_resize(s)


async def test_telnet_utf8_and_sendintr(telnetd: Server, it_user: Account) -> None:
    async with telnet(telnetd) as s:
        await login_by_hand(s, it_user)
        await settle(s)
        await s.sendline("printf 'caf\\303\\251 \\342\\202\\254\\n'")
        await s.expect_exact("café €", timeout=10)
        # READY comes from the process itself: it is in the foreground by then.
        await s.sendline("sh -c 'echo READY; exec sleep 30'")
        await s.expect_exact("\nREADY\r\n", timeout=10)
        await s.sendintr()
        m = await s.expect_exact(PROMPT, timeout=5)
        # telnetd's "synch" after the interrupt (IAC DM, the DM urgent) is
        # read inline and parsed: no stray byte in the text.
        assert "\ufffd" not in m.before and "\xf2" not in m.before
        # A second synch on the same connection, again with a program in the
        # foreground: not bash at its prompt, whose readline acts on a Ctrl-C
        # that lands while it draws the prompt only at the next key (bash 5.2,
        # also in a local pty): the prompt then never came.
        await s.sendline("sh -c 'echo READY2; exec cat'")
        await s.expect_exact("\nREADY2\r\n", timeout=10)
        await s.sendintr()
        m = await s.expect_exact(PROMPT, timeout=5)
        assert "\ufffd" not in m.before and "\xf2" not in m.before


TEXT = "héllo ✓ 漢字"  # ✓ is E2 9C 93: with the eighth bit stripped, 93 is XOFF


async def test_telnet_8bit_text_reaches_the_program_byte_exact(
    telnetd: Server, it_user: Account
) -> None:
    async with telnet(telnetd) as s:
        await login_by_hand(s, it_user)
        await settle(s)
        # od reads the terminal itself (no readline): every byte as received.
        await s.sendline("head -n 1 | od -An -tx1")
        await s.expect_exact("od -An -tx1\r\n", timeout=10)
        await s.sendline(TEXT)
        await s.expect_exact(f"{TEXT}\r\n", timeout=10)  # the terminal's echo
        m = await s.expect(f"\n{_PROMPT_RE}", timeout=10)
        assert bytes.fromhex("".join(re.findall(r"\b[0-9a-f]{2}\b", m.before))) == (
            f"{TEXT}\n".encode()
        ), m.before
        await s.sendline(f"printf '%s\\n' '{TEXT}'; echo '{TEXT}' | wc -c")
        await s.expect(f"\n{re.escape(TEXT)}\r\n *18\r\n{_PROMPT_RE}", timeout=10)
        prompts, text = await count_prompts(s, ["echo one", "echo two", "echo three"])
        assert prompts == 4, text


async def test_telnet_url_logs_in(telnetd: Server, it_user: Account) -> None:
    url = f"telnet://{it_user.name}:{it_user.password}@127.0.0.1:{telnetd.port}"
    async with aioexpect.connect(url, timeout=30) as s:
        assert it_user.password not in repr(s)
        await settle(s)
        await s.sendline("id -un")
        await s.expect_exact(f"\n{it_user.name}\r\n", timeout=10)


async def test_telnet_url_wrong_password(telnetd: Server, it_user: Account) -> None:
    url = f"telnet://{it_user.name}:wrong-Password@127.0.0.1:{telnetd.port}"
    with pytest.raises(aioexpect.AuthenticationError) as info:
        await aioexpect.connect(url, timeout=30)
    assert "wrong-Password" not in str(info.value)
