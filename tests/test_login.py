"""login(): in-band username/password dialogs over telnet (emulated devices
and the ``telnet`` client in a pty), the OpenSSH client in a pty, pipes, and
scripted peers for the dialogs that go wrong."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import AuthenticationError, ExpectTimeout, Session, _login
from aioexpect.testing import VirtualDevice, memory_pair, serve_ssh, serve_telnet

from .conftest import need
from .helpers import serve

CREDENTIALS = ("admin", "s3cret-Pw")


def device(**options: Any) -> VirtualDevice:
    options.setdefault("login", CREDENTIALS)
    return VirtualDevice("edge1", commands={"show version": "Cisco IOS Software"}, **options)


# -- emulated devices -----------------------------------------------------------------------


async def test_connect_telnet_with_credentials_logs_in() -> None:
    async with (
        serve_telnet(device(banner="Authorised access only")) as server,
        aioexpect.connect_telnet(
            "127.0.0.1", server.port, username="admin", password="s3cret-Pw", timeout=10
        ) as s,
    ):
        assert s.buffer == ""  # the first prompt was consumed
        assert await s.execute("show version") == "Cisco IOS Software\n"


async def test_telnet_url_with_credentials_logs_in() -> None:
    async with serve_telnet(device()) as server:
        url = f"telnet://admin:s3cret-Pw@127.0.0.1:{server.port}"
        async with aioexpect.connect(url, timeout=10, driver="auto") as s:
            assert s.driver.name == "ios"  # "User Access Verification" and the prompt
            assert await s.execute("show version") == "Cisco IOS Software\n"


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong"), ("nobody", "s3cret-Pw"), ("", "")]
)
async def test_wrong_credentials_fail_fast(username: str, password: str) -> None:
    loop = asyncio.get_running_loop()
    async with serve_telnet(device()) as server:
        start = loop.time()
        with pytest.raises(AuthenticationError, match="rejected") as info:
            await aioexpect.connect_telnet(
                "127.0.0.1", server.port, username=username, password=password, timeout=30
            )
        assert loop.time() - start < 5  # the answer, not the 30 s timeout
        assert "Login invalid" in str(info.value)
        if password:
            assert password not in str(info.value)


async def test_wrong_password_in_a_url_is_not_shown() -> None:
    async with serve_telnet(device()) as server:
        url = f"telnet://admin:Wr0ng-pw@127.0.0.1:{server.port}"
        with pytest.raises(AuthenticationError) as info:
            await aioexpect.connect(url, timeout=10)
        assert "Wr0ng-pw" not in str(info.value) and "Wr0ng-pw" not in repr(info.value)


async def test_a_telnet_login_that_never_reaches_a_prompt_is_a_connect_error() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # says nothing; waits for the client to leave

    async def leaves(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Username: ")
        await reader.readline()
        writer.close()

    for handler, cause in [(silent, aioexpect.ExpectTimeout), (leaves, aioexpect.ExpectEOF)]:
        async with serve(handler) as port:
            opener = aioexpect.connect(f"telnet://admin:s3cret-Pw@127.0.0.1:{port}", timeout=1)
            with pytest.raises(aioexpect.ConnectError) as info:
                await opener
            assert (info.value.host, info.value.port) == ("127.0.0.1", port)
            assert f"telnet login to 127.0.0.1:{port}" in str(info.value)
            assert isinstance(info.value.__cause__, cause)
            assert "s3cret-Pw" not in str(info.value)


async def test_a_telnet_peer_that_hangs_up_after_the_password_rejected_it() -> None:
    # A terminal server that drops the line at a wrong password, saying
    # nothing: a ConnectError "did not reach a prompt", caused by ExpectEOF.
    async def drops(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for question in (b"Username: ", b"Password: "):
            writer.write(question)
            await reader.readline()

    async with serve(drops) as port:
        opener = aioexpect.connect(f"telnet://admin:s3cret-Pw@127.0.0.1:{port}", timeout=5)
        with pytest.raises(AuthenticationError) as info:
            await opener
        assert (info.value.host, info.value.port) == ("127.0.0.1", port)
        message = str(info.value)
        assert f"telnet login to 127.0.0.1:{port} failed: the peer ended" in message
        assert "after the password" in message and "s3cret-Pw" not in message
        assert isinstance(info.value.__cause__, AuthenticationError)
        assert isinstance(info.value.__cause__.__cause__, aioexpect.ExpectEOF)


async def test_missing_credentials_are_reported() -> None:
    async with serve_telnet(device()) as server:
        async with aioexpect.connect_telnet("127.0.0.1", server.port, timeout=10) as s:
            with pytest.raises(AuthenticationError, match="asked for a username, but none"):
                await s.login()
        async with aioexpect.connect_telnet("127.0.0.1", server.port, timeout=10) as s:
            with pytest.raises(AuthenticationError, match="asked for a password, but none"):
                await s.login("admin")


BANNER = ("Authorised access only. " * 3 + "\r\n") * 6  # (450 characters)


async def test_a_banner_longer_than_max_buffer_is_dropped_on_the_way() -> None:
    # login() raised BufferFull, and again on each retry; the next execute
    # then named the login question (AuthenticationError).
    async with (
        serve_telnet(device(banner=BANNER)) as server,
        aioexpect.connect_telnet(
            "127.0.0.1",
            server.port,
            username="admin",
            password="s3cret-Pw",
            timeout=10,
            max_buffer=250,
        ) as s,
    ):
        assert await s.execute("show version") == "Cisco IOS Software\n"


@pytest.mark.parametrize("max_buffer", [16, 64, 200, 250])
@pytest.mark.parametrize("asked", [True, False], ids=["questions", "prompt-only"])
async def test_login_drops_a_banner_that_does_not_fit(max_buffer: int, asked: bool) -> None:
    # Also with no question at all (after SSH authentication): login()
    # raised BufferFull where the first execute dropped the banner.
    questions = [("Username: ", "line"), ("Password: ", "line")] if asked else []
    script = [(BANNER, ""), *questions, ("\r\nr1#", "")]
    async with dialog(script, max_buffer=max_buffer) as (s, got):
        m = await s.login("admin", "pw-SeCrEt")
        assert m.after == "r1#"
        assert got == (["admin", "pw-SeCrEt"] if asked else [])
        assert m.before.endswith("\r\n")


async def test_login_finds_a_long_prompt_cut_by_a_drop_whole() -> None:
    # The drop kept the last 125 characters (half of max_buffer): a
    # 170-character prompt after a banner, cut there, was found from the
    # cut on, its end returned (and learned) as the prompt.  The prompt
    # lands across each cut in turn (the banner's rows are 74 characters).
    prompt = "admin@r1:/srv/" + "d" * 154 + "$ "
    for extra in range(0, 76, 3):
        script = [("y" * extra + BANNER + prompt, "")]  # (after SSH authentication)
        async with dialog(script, max_buffer=250) as (s, _):
            m = await s.login("admin", "pw-SeCrEt")
            assert m.after == prompt, extra


async def test_login_after_ssh_authentication_returns_the_prompt() -> None:
    async with (
        serve_ssh(device()) as server,
        aioexpect.connect_ssh(
            "127.0.0.1",
            server.port,
            username="admin",
            password="s3cret-Pw",
            known_hosts=server.known_hosts,
            timeout=10,
        ) as s,
    ):
        m = await s.login()  # nothing to answer: the prompt comes at once
        assert m.after == "edge1#"
        assert await s.execute("show version") == "Cisco IOS Software\n"


async def test_init_commands_are_sent_after_login() -> None:
    seen: list[str] = []
    dev = device()

    def record(command: str, m: object) -> str:
        seen.append(command)
        return ""

    dev.add_command(r"terminal (length|width) 0", record)
    async with (
        serve_telnet(dev) as server,
        aioexpect.connect_telnet(
            "127.0.0.1", server.port, username="admin", password="s3cret-Pw", driver="ios"
        ) as s,
    ):
        assert seen == ["terminal length 0", "terminal width 0"]
        assert s.buffer == ""


async def test_password_never_reaches_the_logfile(tmp_path: Path) -> None:
    log = tmp_path / "session.log"
    async with serve_telnet(device()) as server:
        async with aioexpect.connect_telnet(
            "127.0.0.1", server.port, username="admin", password="s3cret-Pw", logfile=log
        ) as s:
            assert "s3cret-Pw" not in repr(s)
        with pytest.raises(AuthenticationError):
            await aioexpect.connect_telnet(
                "127.0.0.1", server.port, username="admin", password="0ther-Pw", logfile=log
            )
    text = log.read_text()
    assert "Username: admin" in text
    assert "s3cret-Pw" not in text and "0ther-Pw" not in text


# -- real clients in a pty ---------------------------------------------------------------------


async def test_login_through_the_telnet_client() -> None:
    telnet = need("telnet", "the telnet package")
    async with serve_telnet(device()) as server:
        argv = ["127.0.0.1", str(server.port)]
        async with aioexpect.spawn(telnet, argv, timeout=10, driver="auto") as s:
            await s.login("admin", "s3cret-Pw")
            assert s.driver.name == "ios"
            assert await s.execute("show version") == "Cisco IOS Software\n"


async def test_login_through_the_openssh_client() -> None:
    ssh = need("ssh", "openssh-client")
    async with serve_ssh(device()) as server:
        argv = ssh_args(server, "admin")
        async with aioexpect.spawn(ssh, argv, timeout=10) as s:
            await s.login(password="s3cret-Pw")
            assert await s.execute("show version") == "Cisco IOS Software\n"
        async with aioexpect.spawn(ssh, argv, timeout=10) as s:
            with pytest.raises(AuthenticationError, match="asked for the password again"):
                await s.login(password="wrong")


def ssh_args(server: Any, user: str) -> list[str]:
    """OpenSSH options that trust only ``server``'s key and ask for a password."""
    return [
        "-F",
        "/dev/null",
        "-o",
        f"UserKnownHostsFile={server.known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "PubkeyAuthentication=no",
        "-o",
        "LogLevel=ERROR",
        "-p",
        str(server.port),
        f"{user}@127.0.0.1",
    ]


LOGIN_SCRIPT = """
import sys
user = input("Username: ")
password = input("Password: ")
if (user, password) != ("admin", "s3cret-Pw"):
    print("Login incorrect")
    sys.exit(1)
while True:
    try:
        line = input("dev> ")
    except EOFError:
        break
    print("you said", line)
"""


async def test_login_over_pipes() -> None:
    argv = ["-u", "-c", LOGIN_SCRIPT]
    async with aioexpect.spawn(sys.executable, argv, pty=False, timeout=10) as s:
        m = await s.login("admin", "s3cret-Pw")
        assert m.after == "dev> "
        assert await s.execute("hello") == "you said hello\n"
    async with aioexpect.spawn(sys.executable, argv, pty=False, timeout=10) as s:
        with pytest.raises(AuthenticationError, match="Login incorrect"):
            await s.login("admin", "nope")


# -- dialogs that go wrong, from a scripted peer --------------------------------------------------


@contextlib.asynccontextmanager
async def dialog(
    script: list[tuple[str, str]], **options: Any
) -> AsyncIterator[tuple[Session, list[str]]]:
    """A peer that sends each text, then waits for a line (``expect_line``
    empty: sends the next text at once); returns the lines it got."""
    ours, peer = memory_pair()
    options.setdefault("timeout", 5)
    session = Session(ours, **options)
    got: list[str] = []

    async def play() -> None:
        pending = b""
        for text, wait in script:
            await peer.write(text.encode())
            if not wait:
                continue
            while b"\n" not in pending:
                data = await peer.read()
                if not data:
                    return
                pending += data
            line, _, pending = pending.partition(b"\n")
            got.append(line.decode())

    task = asyncio.ensure_future(play())
    try:
        yield session, got
    finally:
        await session.close()
        await peer.close()
        with contextlib.suppress(Exception):
            await task


async def test_linux_style_dialog() -> None:
    script = [
        ("Debian GNU/Linux 12\r\n\r\nweb1 login: ", "line"),
        ("Password: ", "line"),
        ("\r\nLast login: Mon Jan  1 from 10.0.0.1\r\nuser@web1:~$ ", ""),
    ]
    async with dialog(script, driver="auto") as (s, got):
        m = await s.login("user", "pw")
        assert m.after == "user@web1:~$ " and "Last login" in m.before
        assert got == ["user", "pw"]
        assert s.driver.name == "shell"


async def test_auto_after_a_login_takes_only_a_driver_that_knows_the_prompt() -> None:
    # The banner names Arista EOS, the prompt is bash's: eos was chosen, its
    # init commands typed into bash, and login() timed out waiting for the
    # prompt it does not know after "terminal length 0".
    script = [
        ("login: ", "line"),
        ("Password: ", "line"),
        ("\r\nArista Networks EOS shell\r\n[admin@switch ~]$ ", ""),
    ]
    async with dialog(script, driver="auto") as (s, got):
        m = await s.login("admin", "pw")
        assert m.after == "[admin@switch ~]$ "
        assert s.driver.name == "shell"
        assert got == ["admin", "pw"]  # (no init commands)


async def test_press_return_is_answered() -> None:
    script = [
        ("\r\nPress RETURN to get started.\r\n", "line"),
        ("\r\nUsername: ", "line"),
        ("Password: ", "line"),
        ("\r\nr1>", ""),
    ]
    async with dialog(script) as (s, got):
        assert (await s.login("admin", "pw")).after == "r1>"
        assert got == ["", "admin", "pw"]


@pytest.mark.parametrize(
    ("user_question", "password_question"),
    [
        ("Username: ", "Password: "),
        ("USERNAME: ", "PASSWORD: "),
        ("LOGIN: ", "Password: "),
        ("User Name : ", "password: "),
        ("Login Name: ", "Passwd: "),
        ("Enter username: ", "Enter password: "),
        ("Username (admin): ", "PASSWD: "),
        ("User ID: ", "Passcode: "),
    ],
)
async def test_questions_in_any_case_named_or_with_a_default_are_answered(
    user_question: str, password_question: str
) -> None:
    # All capitals (USERNAME:, LOGIN:), "Login Name:", a default offered in
    # parentheses and "Passwd:" were no question: login() waited out its
    # time-out, though "PASSWORD:" was one.
    script = [(user_question, "line"), (password_question, "line"), ("\r\nr1#", "")]
    async with dialog(script, timeout=30) as (s, got):
        assert (await s.login("admin", "pw", timeout=3)).after == "r1#"
        assert got == ["admin", "pw"]


async def test_a_question_stops_the_login_at_once() -> None:
    script = [
        ("Username: ", "line"),
        ("Password: ", "line"),
        ("\r\nYour password has expired. Change it now? [yes/no]: ", ""),
    ]
    async with dialog(script, timeout=30) as (s, _):
        with pytest.raises(AuthenticationError, match=r"cannot answer.*yes/no"):
            await s.login("admin", "pw")


@pytest.mark.parametrize(
    ("question", "answer"),
    [("Continue connecting? [yes/no]: ", "yes"), ("Proceed with login? [confirm]", "")],
)
async def test_a_question_login_cannot_answer_can_be_answered_as_the_docs_say(
    question: str, answer: str
) -> None:
    # drivers.rst, Troubleshooting: "Answer it yourself (expect the question,
    # sendline the answer), then call login again".  login() had consumed the
    # question: the expect waited out its time-out.
    script = [
        (f"\r\n{question}", "line"),
        ("\r\nUsername: ", "line"),
        ("Password: ", "line"),
        ("\r\nr1#", ""),
    ]
    async with dialog(script) as (s, got):
        with pytest.raises(AuthenticationError, match="cannot answer") as info:
            await s.login("admin", "pw")
        assert str(info.value).endswith(f"\\r\\n{question}'")  # (quoted)
        await s.expect_exact(question)
        await s.sendline(answer)
        assert (await s.login("admin", "pw")).after == "r1#"
        assert got == [answer, "admin", "pw"]


@pytest.mark.parametrize(
    "rejection", ["% Login invalid. Retry? [y/n]: ", "Login incorrect. Try again? [yes/no]: "]
)
async def test_a_rejection_that_asks_to_retry_is_named_a_rejection(rejection: str) -> None:
    # Kept from its line's start, the question began where the rejection
    # did, and won the tie: a wrong password was "a question login() cannot
    # answer", whose remedy (answer it, login again) retries the same
    # password toward a lockout.
    script = [("Username: ", "line"), ("Password: ", "line"), (f"\r\n{rejection}", "")]
    async with dialog(script) as (s, got):
        with pytest.raises(AuthenticationError, match="login rejected") as info:
            await s.login("admin", "pw")
        assert "cannot answer" not in str(info.value)
        assert str(info.value).endswith(f"\\r\\n{rejection}'")  # (what it said, quoted)
        assert got == ["admin", "pw"]


async def test_a_question_far_along_a_long_line_is_still_one() -> None:
    # Kept from its bracket only, past 256 characters of its line.
    script = [(f"\r\n{'x' * 300} Continue connecting? [yes/no]: ", "line")]
    async with dialog(script) as (s, _):
        with pytest.raises(AuthenticationError, match="cannot answer"):
            await s.login("admin", "pw")
        assert s.buffer == "[yes/no]: "


async def test_an_execute_after_a_question_login_cannot_answer_quotes_it() -> None:
    # The question consumed, execute said nothing had come and that the
    # command before might still be running.
    script = [("\r\nDelete all files? [yes/no]: ", "line"), ("\r\nr1#", "")]
    async with dialog(script) as (s, got):
        with pytest.raises(AuthenticationError, match="cannot answer"):
            await s.login("admin", "pw")
        sent = s.bytes_out
        with pytest.raises(ExpectTimeout) as info:
            await s.execute("show version", timeout=0.5)
        message = str(info.value)
        assert "last characters received: 'Delete all files? [yes/no]: '; " in message
        assert "the peer asks 'Delete all files? [yes/no]:', which is no prompt" in message
        assert "may still be running" not in message
        assert s.bytes_out == sent and got == []  # nothing typed into the question


async def test_password_asked_again_is_a_rejection() -> None:
    script = [("Password: ", "line"), ("\r\nPassword: ", "line")]
    async with dialog(script, timeout=30) as (s, got):
        with pytest.raises(AuthenticationError, match="password again") as info:
            await s.login(password="pw-123456")
        assert got == ["pw-123456"] and "pw-123456" not in str(info.value)


async def test_coloured_questions_are_answered() -> None:
    # '\x1b[1mPassword:': no word boundary between the colour's 'm' and 'P',
    # so login() waited out its time-out.
    script = [
        ("\x1b[32mUsername:\x1b[0m ", "line"),
        ("\x1b[1;31mPassword:\x1b[m ", "line"),
        ("\r\nr1#", ""),
    ]
    async with dialog(script, timeout=30) as (s, got):
        assert (await s.login("admin", "pw")).after == "r1#"
        assert got == ["admin", "pw"]
    # The colour ending before the colon: login() waited out its time-out.
    script = [
        ("\x1b[32mlogin\x1b[0m: ", "line"),
        ("\x1b[1;31mPassword\x1b[m: ", "line"),
        ("\r\nr1#", ""),
    ]
    async with dialog(script, timeout=30) as (s, got):
        assert (await s.login("admin", "pw")).after == "r1#"
        assert got == ["admin", "pw"]


async def test_a_question_a_time_out_names_for_login_is_one_login_answers() -> None:
    # The hint named '\x1b[1mPassword\x1b[0m: ' as a question login() answers,
    # and login() waited out its time-out in front of it; a colour inside the
    # word, which login() does not answer, was named too.
    script = [("\x1b[1mPassword\x1b[0m: ", "line"), ("\r\nr1#", "")]
    async with dialog(script, timeout=30) as (s, got):
        with pytest.raises(ExpectTimeout, match=r"login\(password=\.\.\.\)"):
            await s.expect_prompt(timeout=0.3)
        assert (await s.login(password="pw")).after == "r1#"
        assert got == ["pw"]
    async with dialog([("\x1b[1mPass\x1b[0mword: ", "line")], timeout=30) as (s, got):
        with pytest.raises(ExpectTimeout) as info:
            await s.expect_prompt(timeout=0.3)
        assert "login(" not in str(info.value)


async def test_ios_bad_secrets_after_enable_is_a_rejection() -> None:
    # IOS gives up on enable with '% Bad secrets' and shows the unprivileged
    # prompt again: login() returned there, as if enable had worked.
    script = [("Password: ", "line"), ("\r\n% Bad secrets\r\n\r\nr1>", "")]
    async with dialog(script, driver="ios", timeout=30) as (s, got):
        with pytest.raises(AuthenticationError, match="Bad secrets"):
            await s.login(password="wrong-secret")
        assert got == ["wrong-secret"]


async def test_username_asked_again_is_a_rejection() -> None:
    script = [("login: ", "line"), ("Password: ", "line"), ("\r\nSorry.\r\n\r\nlogin: ", "")]
    async with dialog(script, timeout=30) as (s, _):
        with pytest.raises(AuthenticationError, match="username again"):
            await s.login("root", "pw")
    # Nothing after it, up to the deadline: a rejection still, not a time-out.
    async with dialog(script, timeout=30) as (s, _):
        with pytest.raises(AuthenticationError, match="username again"):
            await s.login("root", "pw", timeout=0.5)


@pytest.mark.parametrize("username", ["user", None])
async def test_output_that_pauses_at_last_login_is_no_rejection(username: str | None) -> None:
    # "Last login: " at a chunk's end after the password, the date a moment
    # later, passed for the username question asked again: a login that
    # worked raised AuthenticationError.
    script = (
        "printf 'web1 login: '; read -r _; printf 'Password: '; read -r _; "
        "printf '\\r\\nLast login: '; sleep 1; "
        "printf 'Mon Jan  1 10:00:00 from 10.0.0.1\\r\\nuser@web1:~$ '; read -r _"
    )
    if username is None:  # (only the password asked)
        script = script.replace("printf 'web1 login: '; read -r _; ", "")
    async with aioexpect.spawn("sh", ["-c", script], timeout=30, driver="shell") as s:
        m = await s.login(username, "pw-SeCrEt")
        assert m.after == "user@web1:~$ " and "Last login: Mon Jan  1" in m.before


async def test_a_question_asked_again_then_output_but_no_prompt_is_a_rejection() -> None:
    # More after the question asked again (so it was not taken for one at
    # once), then nothing: login() timed out instead of saying it was rejected.
    script = (
        "printf 'login: '; read -r _; printf 'Password: '; read -r _; "
        "printf '\\r\\nPassword: '; sleep 0.3; printf '\\r\\nx'; sleep 20"
    )
    async with aioexpect.spawn("sh", ["-c", script], timeout=30, driver="shell") as s:
        with pytest.raises(AuthenticationError, match=r"password again.*then no prompt came"):
            await s.login("root", "pw-SeCrEt", timeout=3)
    # Without a time-out, it waited for ever.
    async with aioexpect.spawn("sh", ["-c", script], timeout=30, driver="shell") as s:
        with pytest.raises(AuthenticationError, match=r"password again.*then no prompt came"):
            async with asyncio.timeout(20):
                await s.login("root", "pw-SeCrEt", timeout=None)


async def test_output_going_on_at_a_question_s_line_is_no_question_asked_again() -> None:
    # "Last login: " then its date, then a prompt no pattern knows: the
    # time-out said the login was rejected (a login that worked).
    script = (
        "printf 'login: '; read -r _; printf 'Password: '; read -r _; "
        "printf '\\r\\nLast login: '; sleep 0.3; printf 'Mon Jan  1\\r\\n~ '; sleep 20"
    )
    async with aioexpect.spawn("sh", ["-c", script], timeout=30, driver="shell") as s:
        with pytest.raises(ExpectTimeout, match=r"a login or password question, or") as info:
            await s.login("root", "pw-SeCrEt", timeout=1.5)
        assert "Last login: Mon Jan  1" in str(info.value)


async def asked_again_in_chunks(chunks: list[str], timeout: float | None) -> BaseException:
    """What login() raises when, after the password, the question comes
    again in ``chunks`` (the device pausing between them), then nothing."""
    ours, peer = memory_pair()

    async def play() -> None:
        for question in (b"Username: ", b"Password: "):
            await peer.write(question)
            await peer.read()
        for chunk in chunks:
            await asyncio.sleep(0.3)  # (the device's pause)
            await peer.write(chunk.encode())
        await asyncio.Event().wait()

    task = asyncio.ensure_future(play())
    try:
        async with Session(ours, timeout=30, driver="ios") as s, asyncio.timeout(20):
            await s.login("admin", "pw-SeCrEt", timeout=timeout)
    except (AuthenticationError, ExpectTimeout, TimeoutError) as exc:
        return exc
    finally:
        task.cancel()
        await peer.close()
    raise AssertionError("logged in")


async def test_a_question_asked_again_whose_end_comes_apart_is_a_rejection() -> None:
    # The question's trailing space, or colour reset, in a chunk of its own
    # passed for output going on along its line: login() waited for ever
    # with timeout=None (TimeoutError here), or raised ExpectTimeout.
    standing = r"asked for the (password|username) again[^)]*\): '"  # (nothing after it)
    cases = [
        (["\r\nPassword:", " "], standing),
        (["\r\n\x1b[1mPassword:", "\x1b[0m "], standing),
        (["\r\n\r\nUsername:", " "], standing),
        (["\r\nPassword:", " ", "\x1b[", "0m"], standing),
        (["\r\nPassword:", " \r\nSorry, try again.\r\n"], r"password again.*, then no prompt"),
    ]
    runs = [(chunks, timeout, match) for chunks, match in cases for timeout in (None, 10)]
    got = await asyncio.gather(*(asked_again_in_chunks(chunks, t) for chunks, t, _ in runs))
    for (chunks, timeout, match), exc in zip(runs, got, strict=True):
        assert isinstance(exc, AuthenticationError), (chunks, timeout, exc)
        assert re.search(match, str(exc)), (chunks, timeout, exc)
        assert "pw-SeCrEt" not in str(exc)


async def test_a_question_asked_again_whose_control_sequence_comes_apart_is_a_rejection() -> None:
    # The drivers' questions may end in a bell, a charset reset (tput
    # sgr0's '\x1b(B'), a keypad or cursor-saving sequence, a shift-in; in
    # a chunk of its own, such a sequence passed for output going on along
    # the question's line: login() waited for ever with timeout=None
    # (TimeoutError here), or raised ExpectTimeout.
    tails = [["\x1b(B\x1b[m "], ["\x07 "], ["\x1b> "], ["\x1b7 "], ["\x0f "], ["\x1b(", "B "]]
    runs = [(["\r\n\x1b[1mPassword:", *tail], t) for tail in tails for t in (None, 10)]
    got = await asyncio.gather(*(asked_again_in_chunks(chunks, t) for chunks, t in runs))
    for (chunks, timeout), exc in zip(runs, got, strict=True):
        assert isinstance(exc, AuthenticationError), (chunks, timeout, exc)
        assert "asked for the password again" in str(exc), (chunks, timeout, exc)


@pytest.mark.parametrize(
    ("lines", "pause", "max_buffer"),
    [(6, 0.5, None), (300, 0, None), (300, 0, 1000)],
    ids=["slow-line", "hundreds-of-lines", "past-max_buffer"],
)
async def test_a_long_message_of_the_day_after_a_password_line_is_no_rejection(
    lines: int, pause: float, max_buffer: int | None
) -> None:
    # A MOTD line ending in 'password:' at a chunk's end, then more of it:
    # - on a slow line, the prompt more than two seconds later: the login
    #   was rejected two seconds after that line, output coming all the while;
    # - a list of 300 pending updates at once: rejected at the cap of 200
    #   lines on output after what looks like the question asked again;
    # - past max_buffer: login() raised BufferFull.
    ours, peer = memory_pair()

    async def play() -> None:
        for question in (b"web1 login: ", b"Password: "):
            await peer.write(question)
            await peer.read()
        await peer.write(b"\r\nLast login: Mon Jan  1 10:00\r\nForgot your password:")
        await asyncio.sleep(0.3)  # (the device's pauses)
        await peer.write(b"\r\n  call the helpdesk\r\n")
        for rule in range(lines):
            await asyncio.sleep(pause)
            await peer.write(b"  rule %d: be nice\r\n" % rule)
        await peer.write(b"user@web1:~$ ")
        await asyncio.Event().wait()

    task = asyncio.ensure_future(play())
    try:
        async with Session(ours, timeout=30, driver="shell", max_buffer=max_buffer) as s:
            m = await s.login("user", "pw-SeCrEt", timeout=None)
            assert m.after == "user@web1:~$ " and f"rule {lines - 1}: be nice" in m.before
    finally:
        task.cancel()
        await peer.close()


@pytest.mark.parametrize("max_buffer", [None, 1000])
@pytest.mark.parametrize(
    ("line", "pause"),
    [
        ("%LINK-3-UPDOWN: Gi0/1 up\r\n", 0),
        ("." * 16384, 0),
        ("%LINK-3-UPDOWN: Gi0/1 up\r\n" * 20 + "Password: ", 0.3),
    ],
    ids=["log-lines", "no-line-end", "asked-again-and-again"],
)
async def test_a_question_asked_again_then_endless_output_is_a_rejection(
    line: str, pause: float, max_buffer: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After the password asked again and a message, a console that goes on
    # printing (its log lines, or a line with no end) with no pause of two
    # seconds held login(timeout=None) for ever; and so did one that asks
    # the question again now and then, which started the count of five
    # seconds before the cap (DOUBT_TIME) again each time.  (Here one
    # second: the question comes again every 0.3 s, still within it.)  Past
    # max_buffer, what is dropped counts: login() raised BufferFull.
    monkeypatch.setattr(_login, "DOUBT_TIME", 1.0)
    ours, peer = memory_pair()

    async def play() -> None:
        for question in (b"Username: ", b"Password: "):
            await peer.write(question)
            await peer.read()
        await peer.write(b"\r\nPassword: ")
        await asyncio.sleep(0.3)  # (the device's pause)
        await peer.write(b"\r\n% Password: timeout expired!\r\n")
        while True:
            await peer.write(line.encode())
            await asyncio.sleep(pause)

    task = asyncio.ensure_future(play())
    try:
        async with Session(ours, timeout=30, driver="ios", max_buffer=max_buffer) as s:
            with pytest.raises(AuthenticationError, match=r"password again.*then no prompt came"):
                async with asyncio.timeout(20):
                    await s.login("admin", "pw-SeCrEt", timeout=None)
    finally:
        task.cancel()
        await peer.close()


async def test_a_banner_that_says_access_denied_is_not_a_failure() -> None:
    script = [
        ("WARNING: access denied to unauthorised persons. Permission denied otherwise.\r\n", ""),
        ("Username: ", "line"),
        ("Password: ", "line"),
        ("\r\nr1#", ""),
    ]
    async with dialog(script) as (s, _):
        assert (await s.login("admin", "pw")).after == "r1#"


async def test_a_dialog_that_never_reaches_a_prompt_times_out() -> None:
    script = [("Username: ", "line"), ("Password: ", "line"), ("\r\nthinking...", "")]
    async with dialog(script) as (s, _):
        with pytest.raises(ExpectTimeout, match="thinking"):
            await s.login("admin", "pw", timeout=0.2)


async def test_a_hang_up_in_the_dialog_shows_what_the_dialog_said() -> None:
    # "Username: " was consumed by the dialog: the evidence once read ''.
    ours, peer = memory_pair()
    async with Session(ours, timeout=5) as s:
        await peer.write(b"\r\nUsername: ")
        login = asyncio.ensure_future(s.login("admin", "pw"))
        assert await peer.read() == b"admin\n"
        await peer.close()
        with pytest.raises(aioexpect.ExpectEOF) as info:
            await login
        assert str(info.value).endswith(r"last characters received: '\r\nUsername: '")


async def test_a_hang_up_right_after_the_password_is_a_rejection() -> None:
    # A peer that ends the connection at a wrong password without a word (a
    # terminal server, PAM with no message): ExpectEOF, not the error a
    # caller handles for rejected credentials.
    ours, peer = memory_pair()
    async with Session(ours, timeout=5) as s:
        await peer.write(b"Username: ")
        login = asyncio.ensure_future(s.login("admin", "pw-SeCrEt"))
        assert await peer.read() == b"admin\n"
        await peer.write(b"Password: ")
        assert await peer.read() == b"pw-SeCrEt\n"
        await peer.write(b"\r\n")
        await peer.close()
        with pytest.raises(AuthenticationError) as info:
            await login
        message = str(info.value)
        assert message.startswith("the peer ended the connection after the password")
        assert "(rejected credentials, or a lost connection)" in message
        assert message.endswith(r"last characters received: 'Username: Password: \r\n'")
        assert "pw-SeCrEt" not in message
        assert isinstance(info.value.__cause__, aioexpect.ExpectEOF)


async def test_an_init_command_without_a_prompt_after_it_is_named() -> None:
    script = [("r1#", "line"), ("\r\nr1#", "line"), ("\r\n", "")]
    async with dialog(script, driver="ios") as (s, got):
        with pytest.raises(ExpectTimeout, match="init command 'terminal width 0' of driver ios"):
            await s.login(timeout=0.5)
        assert got == ["terminal length 0", "terminal width 0"]


async def test_login_rejects_non_str_credentials() -> None:
    async with dialog([]) as (s, _):
        with pytest.raises(TypeError):
            await s.login(b"admin")  # type: ignore[arg-type]


async def test_junos_dialog_with_auto_driver_sends_its_init_commands() -> None:
    script = [
        ("login: ", "line"),
        ("Password: ", "line"),
        ("\r\n--- JUNOS 21.4R1.12 Kernel 64-bit\r\nadmin@mx1> ", "line"),
        ("set cli screen-length 0\r\nScreen length set to 0\r\n\r\nadmin@mx1> ", "line"),
        ("set cli screen-width 0\r\nScreen width set to 0\r\n\r\nadmin@mx1> ", ""),
    ]
    async with dialog(script, driver="auto") as (s, got):
        await s.login("admin", "pw")
        assert s.driver.name == "junos"
        assert got == ["admin", "pw", "set cli screen-length 0", "set cli screen-width 0"]
