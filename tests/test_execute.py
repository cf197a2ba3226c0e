"""execute() over every transport: a pty, pipes, SSH and telnet (to emulated
devices), and a scripted in-memory peer for the corner cases.

``check_shell_execute`` and ``check_device_execute`` are the reusable parts:
the integration tier runs ``check_shell_execute`` on sessions to a real sshd
and telnetd.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import getpass
import os
import pickle
import re
import shutil
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import CommandError, ExpectTimeout, Session, _prompt, drivers
from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

from .helpers import opened, played, read_until, typed_lines, wait_until
from .splits import splits
from .test_virtual_device import connect as connect_to
from .test_virtual_device import enable_router

# -- the reusable checks ---------------------------------------------------------------------


async def check_shell_execute(s: Session, *, unicode: bool = True) -> None:
    """What execute guarantees on a POSIX shell session, whatever carries it.

    Leaves the session at the unique prompt with the ``shell`` driver.
    ``unicode=False`` skips the one command that types non-ASCII text.
    """
    await s.set_unique_prompt()
    assert await s.execute("echo hello") == "hello\n"
    assert await s.execute("true") == ""
    assert await s.execute("printf 'a\\tb\\n\\nc\\n'") == "a\tb\n\nc\n"
    assert await s.execute("printf 'no newline'") == "no newline"
    # Terminal line wrapping of the echo (80 columns), and long output lines.
    long = "x" * 300
    assert await s.execute(f"echo {long} y") == f"{long} y\n"
    # Control sequences and carriage-return progress output are cleaned.
    assert await s.execute("printf '\\033[1;31mred\\033[0m\\n'") == "red\n"
    assert await s.execute("printf '10%%\\r50%%\\r100%%\\n'") == "100%\n"
    if unicode:
        assert await s.execute("echo 'héllo wörld ✓'") == "héllo wörld ✓\n"
    numbers = await s.execute("seq 1 500")
    assert numbers == "".join(f"{i}\n" for i in range(1, 501))
    # Text that looks like a prompt does not end the output early.
    assert await s.execute("printf 'r1#\\nuser@host:~$ \\n$ \\n'") == "r1#\nuser@host:~$ \n$ \n"
    # An incomplete command (the shell asks for more) is interrupted.
    with pytest.raises(CommandError, match="incomplete"):
        await s.execute("echo 'unterminated")
    assert await s.execute("echo after") == "after\n"
    s.driver = "shell"
    with pytest.raises(CommandError) as info:
        await s.execute("frobnicate_xyz_42")
    assert info.value.command == "frobnicate_xyz_42" and "not found" in info.value.output
    assert await s.execute("echo still here") == "still here\n"


DEVICE_OUTPUT = "Cisco IOS Software, Version 15.2(4)M\nrouter1 uptime is 1 day\n"
TABLE = "\n".join(
    [
        "Interface  Status  Protocol Description",
        "Lo0        up      up       Description of my router>",
    ]
    + [f"Gi0/{i}      up      up       port {i}" for i in range(60)]
)


def make_device(**options: Any) -> VirtualDevice:
    """The emulated router the device checks expect."""
    commands: dict[str, Any] = {
        "show version": DEVICE_OUTPUT,
        "show interfaces description": TABLE,
        r"show interface (\S+)": lambda command, m: f"{m.group(1)} is up, line protocol is up",
        r"echo (.*)": lambda command, m: m.group(1),
    }
    options.setdefault("prompt", "router1#")
    return VirtualDevice("router1", commands=commands, **options)


async def check_device_execute(s: Session) -> None:
    """What execute guarantees against ``make_device()`` (any transport)."""
    assert await s.execute("show version") == DEVICE_OUTPUT
    assert await s.execute("show interface Gi0/3") == "Gi0/3 is up, line protocol is up\n"
    s.set_prompt(r"(?m)^router1#\Z")
    assert await s.execute("show interfaces description") == TABLE + "\n"
    s.set_prompt(None)
    assert await s.execute("  show version  ") == DEVICE_OUTPUT
    long = "y" * 200
    assert await s.execute(f"echo {long}") == long + "\n"
    with pytest.raises(CommandError, match="Invalid input") as info:
        await s.execute("show nonsense")
    assert info.value.output.endswith("% Invalid input detected at '^' marker.\n")
    assert await s.execute("") == ""


# -- local shells: pty and pipes ----------------------------------------------------------------

SHELLS = [
    pytest.param(["bash", "--norc", "--noprofile"], id="bash"),
    pytest.param(["dash"], id="dash"),
    pytest.param(["zsh", "-f"], id="zsh"),
]


def need_shell(name: str) -> None:
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed")


@pytest.mark.parametrize("argv", SHELLS)
async def test_execute_in_a_pty(argv: list[str]) -> None:
    need_shell(argv[0])
    async with aioexpect.spawn(argv[0], argv[1:], timeout=10, dimensions=(24, 80)) as s:
        await check_shell_execute(s)


@pytest.mark.parametrize("argv", SHELLS)
async def test_execute_over_pipes(argv: list[str]) -> None:
    need_shell(argv[0])
    async with aioexpect.spawn(argv[0], [*argv[1:], "-i"], pty=False, timeout=10) as s:
        await check_shell_execute(s)
        assert await s.execute("echo to-stderr >&2") == "to-stderr\n"


@pytest.mark.parametrize("argv", [SHELLS[0], SHELLS[2]])
async def test_execute_with_line_editors_and_the_generic_prompt(argv: list[str]) -> None:
    need_shell(argv[0])
    async with aioexpect.spawn(argv[0], argv[1:], timeout=10, dimensions=(24, 80)) as s:
        # The first command waits for the first prompt; readline and ZLE
        # echo with bracketed-paste switches, redraws and, past 80 columns,
        # their own line wrapping: all of it is removed.
        assert await s.execute("echo first") == "first\n"
        long = "z" * 170
        assert await s.execute(f"echo {long} end") == f"{long} end\n"
        assert await s.execute("printf 'x\\ny\\n'") == "x\ny\n"


@pytest.mark.parametrize("ps1", [r"\h:\W \u\$ ", r"\u@\h \W \$ "], ids=["macos", "gentoo"])
async def test_execute_with_a_prompt_that_has_spaces(ps1: str) -> None:
    env = {"PS1": ps1, "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TERM": "xterm"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as s:
        assert await s.execute("echo spaced") == "spaced\n"
        assert await s.execute("cd /usr; echo moved") == "moved\n"  # the prompt changes


async def test_execute_with_bash_s_login_shell_prompt() -> None:
    # RHEL's bash for a user without a profile ('su - postgres') shows its
    # default, '\s-\v\$ ', with the login shell's leading dash: '-bash-4.2$ '.
    # No prompt started with a dash, so every execute timed out.
    env = {"PS1": r"-bash-4.2\$ ", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TERM": "xterm"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=5) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("printf -- '-n%%\\n'") == "-n%\n"
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, driver="auto") as s:
        assert await s.execute("echo hi", timeout=5) == "hi\n"
        assert s.driver.name == "shell"  # the prompt is the shell's evidence
        with pytest.raises(CommandError, match="nosuchcommand_x"):
            await s.execute("nosuchcommand_x", timeout=5)


@pytest.mark.parametrize("host", ["mbp", "MacBook-Pro"])
async def test_a_short_host_s_prompt_in_a_directory_with_a_space(tmp_path: Path, host: str) -> None:
    # macOS bash's prompt, 'mbp:~ alice$ ': the changed prompt began with
    # its first six characters, 'mbp:~ ', the old directory among them, so
    # 'mbp:My Dir alice$ ' (no driver pattern takes the spaces) was found
    # by nothing: a time-out, then "not sent".  A long host name worked.
    (tmp_path / "My Dir").mkdir()
    env = {"PS1": host + r":\W alice\$ ", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    options: dict[str, Any] = {"cwd": tmp_path, "timeout": 5}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, **options) as s:
        assert await s.execute("echo a") == "a\n"
        assert await s.execute("cd 'My Dir'") == ""
        assert await s.execute("echo b") == "b\n"
        assert await s.execute("cd ~") == ""
        assert await s.execute("echo c") == "c\n"


#: Ubuntu's colour PS1, with a user and host of fixed width (``\u@\h`` would
#: make the widths below each machine's own).  Its invisible parts
#: (``\[...\]``) make readline wrap with ``\r\n\r``, not ``c\rc``.
UBUNTU_PS1 = r"\[\033[01;32m\]user@vm\[\033[00m\]:\[\033[01;34m\]\w\[\033[00m\]\$ "
#: Prompt widths at 80 columns: a row, one more (its '$' ends the row), a
#: row and two, two rows, one more, and two rows and ten.
WIDE_AT_80 = (80, 81, 82, 160, 161, 170)


@pytest.mark.parametrize(
    ("ps1", "columns", "width"),
    [
        *(pytest.param(r"user@vm:\w$ ", 80, w, id=f"plain-80-{w}") for w in WIDE_AT_80),
        *(pytest.param(UBUNTU_PS1, 80, w, id=f"colour-80-{w}") for w in WIDE_AT_80),
        *(pytest.param(UBUNTU_PS1, 20, w, id=f"colour-20-{w}") for w in (20, 21, 40, 41, 85)),
    ],
)
async def test_a_prompt_wider_than_the_terminal_is_one_prompt(
    tmp_path: Path, ps1: str, columns: int, width: int
) -> None:
    # readline wraps it at the margin: its rows above the last are no output
    # line, and the prompt learned is the whole one, so that a narrower one
    # (a directory with a space, which the generic pattern does not take)
    # is still found after it.  The coloured one leaked its rows into every
    # output, and then timed out; as wide as a row or two, or its '$' ending
    # one, it was found by nothing.  (No command line here ends at the
    # margin: see the next test.)
    env = {"PS1": ps1, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm"}
    wide = "d" * (width - len("user@vm:~/$ "))
    (tmp_path / wide).mkdir()
    (tmp_path / "with space").mkdir()
    argv = ["--norc", "--noprofile"]
    options: dict[str, Any] = {"cwd": tmp_path, "timeout": 10, "dimensions": (24, columns)}
    async with aioexpect.spawn("bash", argv, env=env, **options) as s:
        assert await s.execute("echo first") == "first\n"
        assert await s.execute(f"cd ~/{wide}") == ""
        assert await s.execute("echo hello") == "hello\n"
        assert await s.execute("cd ~/'with space'") == ""
        assert await s.execute("echo back") == "back\n"
        assert await s.execute(f"cd ~/{wide}; printf 'x\\r'") == "x"  # output, not a wrap
        # A line of output as wide as the terminal is output.
        assert await s.execute(f"printf '%0{columns}d\\n' 0") == "0" * columns + "\n"


@pytest.mark.parametrize(
    ("ps1", "prompt"), [(r"me\$ ", 4), (UBUNTU_PS1, len("user@vm:~$ "))], ids=["plain", "colour"]
)
async def test_a_command_line_ending_at_the_margin_leaves_no_echo(
    tmp_path: Path, ps1: str, prompt: int
) -> None:
    # readline redraws the last row of such a line (``\r\x1b[A``, then the
    # row again, the first one with the prompt): execute returned that row,
    # prompt and all, or the rows above it, as output.  One column short,
    # at the margin and one past it, on the first three rows.
    columns = 40
    env = {"PS1": ps1, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm"}
    options: dict[str, Any] = {"cwd": tmp_path, "timeout": 10, "dimensions": (24, columns)}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, **options) as s:
        for rows in (1, 2, 3):
            for end in (-1, 0, 1):
                for head in ("echo ", "echo 'a  b' "):
                    command = head + "x" * (rows * columns + end - prompt - len(head))
                    expected = command[5:].replace("'", "") + "\n"
                    assert await s.execute(command) == expected, (rows, end, head)


@pytest.mark.parametrize("width", [80, 81, 161])
async def test_a_coloured_prompt_at_the_margin_is_found_first(tmp_path: Path, width: int) -> None:
    # Its last row is no more than readline's wrap (and the space after
    # '$'): no prompt pattern sees the prompt, nor, on a fresh session, a
    # prompt learned before it.  It timed out.
    wide = tmp_path / ("d" * (width - len("user@vm:~/$ ")))
    wide.mkdir()
    env = {"PS1": UBUNTU_PS1, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm"}
    options: dict[str, Any] = {"cwd": wide, "timeout": 10, "dimensions": (24, 80)}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, **options) as s:
        assert await s.execute("echo first") == "first\n"
        assert await s.execute("echo second") == "second\n"


async def test_a_zsh_prompt_coloured_with_percent_f_is_found() -> None:
    # zsh writes five control sequences after the \r of PROMPT_SP before
    # the user name: %F{green}'s colour among them.
    need_shell("zsh")
    env = {"PS1": "%F{green}%n@%m%f:%F{blue}%~%f%# ", "PATH": "/usr/bin:/bin", "TERM": "xterm"}
    async with aioexpect.spawn("zsh", ["-f"], env=env, cwd="/tmp", timeout=10) as s:
        assert await s.execute("echo coloured") == "coloured\n"
        assert await s.execute("cd /usr; echo moved") == "moved\n"


async def test_execute_on_a_fresh_session_waits_for_the_first_prompt() -> None:
    # Typed ahead, the command would be echoed twice (by the terminal, then
    # by readline); execute waits for the prompt first.
    for _ in range(3):
        async with aioexpect.spawn("bash", ["--norc", "--noprofile"], timeout=10) as s:
            assert await s.execute("echo ready") == "ready\n"


# -- emulated devices over SSH and telnet ---------------------------------------------


async def test_execute_over_ssh() -> None:
    async with (
        serve_ssh(make_device(login=("admin", "pw"))) as server,
        aioexpect.connect_ssh(
            "127.0.0.1",
            server.port,
            username="admin",
            password="pw",
            known_hosts=server.known_hosts,
            timeout=10,
        ) as s,
    ):
        await check_device_execute(s)


async def test_execute_over_telnet() -> None:
    async with (
        serve_telnet(make_device(login=("admin", "pw"), banner="Authorised use only")) as server,
        aioexpect.connect_telnet(
            "127.0.0.1", server.port, username="admin", password="pw", timeout=10
        ) as s,
    ):
        await check_device_execute(s)


async def test_a_command_error_from_a_device_survives_pickle_and_copy() -> None:
    # Its required keyword-only evidence made it impossible to rebuild: a
    # ProcessPoolExecutor job that let it out broke the pool.
    async with (
        serve_telnet(make_device()) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver="ios", timeout=10) as s,
    ):
        with pytest.raises(CommandError) as info:
            await s.execute("show nonsense")
    error = info.value
    assert error.command == "show nonsense" and "Invalid input" in error.output
    for back in (pickle.loads(pickle.dumps(error)), copy.copy(error), copy.deepcopy(error)):
        assert type(back) is CommandError and str(back) == str(error)
        assert (back.command, back.output) == (error.command, error.output)


async def test_execute_before_logging_in_says_so_instead_of_timing_out() -> None:
    async with (
        serve_telnet(make_device(login=("admin", "pw"))) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, timeout=30) as s,
    ):
        with pytest.raises(aioexpect.AuthenticationError, match=r"asks 'Username:'.*log in"):
            await s.execute("show version")
        with pytest.raises(aioexpect.AuthenticationError):  # a retry types nothing into it
            await s.execute("show version")
        assert s.buffer.endswith("Username: ")
        await s.login("admin", "pw")  # the question waits: the dialog goes on from there
        assert "Version" in await s.execute("show version")


@pytest.mark.parametrize("question", ["Password: ", "[sudo] password for root: "])
async def test_a_password_question_after_a_command_is_named_by_the_next_execute(
    question: str,
) -> None:
    script = f"printf 'ok\\n$ '; read -r _; printf '{question}'; read -r _; printf '$ '; cat"
    async with aioexpect.spawn("sh", ["-c", script], timeout=30) as s:
        with pytest.raises(ExpectTimeout):
            await s.execute("sudo true", timeout=0.5)  # the question is no prompt
        with pytest.raises(aioexpect.AuthenticationError) as asked:
            await s.execute("echo next")
        assert f"asks {question.strip()!r}" in str(asked.value)  # from its line's start
        await s.send_secret("s3cret")
        await s.expect_exact("$ ")


#: An IOS-like device in a pty: ``enable`` asks ``Password:`` (echo off, as
#: getpass does) and raises the privilege level that ``show privilege`` reports.
ENABLE_DEVICE = """
import getpass, sys
prompt = "router1>"
while True:
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        break
    line = line.strip()
    if line == "enable":
        tries = 0
        while getpass.getpass("Password: ") != "s3cret":
            tries += 1
            if tries == 3:
                print("% Bad secrets")
                break
        else:
            prompt = "router1#"
    elif line == "show privilege":
        print("Current privilege level is", 15 if prompt.endswith("#") else 1)
    elif line and not line.startswith("terminal "):
        print("% Invalid input detected at '^' marker.")
"""


def enable_device(**options: Any) -> Any:
    return aioexpect.spawn(sys.executable, ["-c", ENABLE_DEVICE], driver="ios", **options)


async def test_execute_facing_a_password_question_says_how_to_answer_it() -> None:
    async with enable_device(timeout=30) as s:
        assert await s.execute("show privilege") == "Current privilege level is 1\n"
        with pytest.raises(ExpectTimeout) as info:
            await s.execute("enable", timeout=1)
        message = str(info.value)
        assert "waiting for the prompt of driver 'ios'" in message  # the evidence stays
        assert "last characters received: 'enable\\r\\nPassword: '" in message
        assert "asks 'Password:'" in message
        assert "send_secret(password), then expect_prompt()" in message
        assert info.value.before.endswith("Password: ")
        await s.send_secret("s3cret")  # the way out it names
        await s.expect_prompt()
        assert await s.execute("show privilege") == "Current privilege level is 15\n"


async def test_a_coloured_password_question_is_named_too() -> None:
    async with unique_bash() as s:
        asking = "printf '\\033[1;31mPassword:\\033[0m '; read -s q; echo got-$q"
        with pytest.raises(ExpectTimeout, match=r"asks .*Password:.*send_secret\(password\)"):
            await s.execute(asking, timeout=0.5)
        await s.send_secret("pw")
        assert (await s.expect_prompt()).before.endswith("got-pw\r\n")


def _docs_recipe() -> dict[str, Any]:
    """The privilege escalation recipe of docs/drivers.rst, as ``recipe(s, enable_password)``."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "drivers.rst").read_text()
    found = re.search(
        r"\nPrivilege escalation\n-+\n(?:.*\n)*?\.\. code-block:: python\n\n((?:    .*\n|\n)+)",
        text,
    )
    assert found, "drivers.rst has no privilege escalation recipe"
    code = textwrap.indent(textwrap.dedent(found.group(1)), "    ")
    namespace: dict[str, Any] = {}
    exec(f"async def recipe(s, enable_password):\n{code}", namespace)
    return namespace


@contextlib.asynccontextmanager
async def enable_session(where: str) -> AsyncIterator[Session]:
    """A session to a device whose ``enable`` asks a password: ENABLE_DEVICE
    in a pty (a real program, echo off by getpass), or a VirtualDevice with
    an ``enable`` dialog served over telnet or SSH."""
    if where == "pty":
        async with enable_device(timeout=30) as s:
            yield s
        return
    serve = serve_ssh if where == "ssh" else serve_telnet
    async with serve(enable_router()) as server, connect_to(serve, server) as s:
        yield s


@pytest.mark.parametrize("where", ["pty", "telnet", "ssh"])
async def test_the_privilege_escalation_recipe_in_the_docs_works(where: str) -> None:
    namespace = _docs_recipe()
    async with enable_session(where) as s:
        assert await s.execute("show privilege") == "Current privilege level is 1\n"
        await namespace["recipe"](s, "s3cret")
        assert await s.execute("show privilege") == "Current privilege level is 15\n"
        assert "s3cret" not in s.buffer


async def test_a_login_that_times_out_with_nothing_asked_owes_no_prompt() -> None:
    # The prompt was read already and nothing asks: every later execute
    # said "not sent ... may still be running" until something was sent.
    async with unique_bash() as s:
        assert await s.execute("echo ready") == "ready\n"
        with pytest.raises(ExpectTimeout):
            await s.login(password="x", timeout=0.3)
        assert await s.execute("echo after") == "after\n"
        assert await s.execute("echo again") == "again\n"


async def test_login_answers_enable_and_a_rejection_leaves_the_question_asked() -> None:
    async with enable_device(timeout=30) as s:
        await s.execute("show privilege")
        await s.sendline("enable")
        with pytest.raises(aioexpect.AuthenticationError, match="asked for the password again"):
            await s.login(password="wr0ng")  # the device asks again: at once
        assert s.buffer.endswith("Password: ")  # still asked, not taken away
        # The next execute names it instead of typing its command into it.
        with pytest.raises(aioexpect.AuthenticationError, match="asks 'Password:'"):
            await s.execute("show privilege")
        await s.login(password="s3cret")  # the question waits: login answers it
        assert await s.execute("show privilege") == "Current privilege level is 15\n"


async def test_expect_prompt_facing_a_login_question_says_to_log_in() -> None:
    async with (
        serve_telnet(make_device(login=("admin", "pw"))) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, timeout=30) as s,
    ):
        with pytest.raises(ExpectTimeout) as info:
            await s.expect_prompt(timeout=1)
        message = str(info.value)
        assert "last characters received:" in message and "Username: " in message
        assert "asks 'Username:'" in message and "login(username, password)" in message
        await s.login("admin", "pw")
        assert "Version" in await s.execute("show version")


async def test_a_question_named_in_a_time_out_or_end_of_file_is_redacted() -> None:
    # The peer shows a secret sent before on the question's line; then,
    # asked again, it ends.
    ask = "printf '%s Password: ' $pw"
    script = f"printf '$ '; read -r pw; {ask}; read -r _; {ask}"
    async with aioexpect.spawn("sh", ["-c", script], timeout=30) as s:
        await s.expect_prompt()
        await s.send_secret("hunter2")
        with pytest.raises(ExpectTimeout, match=r"asks '\*{8} Password:'") as timed_out:
            await s.expect_prompt(timeout=1)
        await s.sendline("again")
        with pytest.raises(aioexpect.ExpectEOF) as ended:
            await s.expect_prompt()
    assert "asked '******** Password:' (a login question) and then ended" in str(ended.value)
    for error in (timed_out.value, ended.value):
        assert "hunter2" not in str(error)


async def test_a_question_quoted_from_a_cut_line_shows_no_part_of_a_secret() -> None:
    # The question's line was cut to its last 300 characters, and stripped,
    # before the secret on it was masked: where the cut went through it (its
    # last 10 characters left), or it began with a space, part of it showed.
    secret = " Hunter2-SecretXYZ"
    pad = "x" * (300 - len(" Password: ") - 10)
    cut = f"printf '%s{pad} Password: ' \"$pw\""
    spaced = "printf '%s Password: ' \"$pw\""
    script = f"printf '$ '; IFS= read -r pw; {cut}; read -r _; {spaced}; read -r _; {cut}"
    async with aioexpect.spawn("sh", ["-c", script], timeout=30) as s:
        await s.expect_prompt()
        await s.send_secret(secret)
        with pytest.raises(ExpectTimeout, match=r"asks '\*{8}x+ Password:'") as timed_out:
            await s.expect_prompt(timeout=1)
        await s.sendline("on")
        with pytest.raises(aioexpect.AuthenticationError, match=r"asks '\*{8} Password:'") as asks:
            await s.execute("echo hi")  # (after the question stood a while)
        await s.sendline("on")
        with pytest.raises(aioexpect.ExpectEOF, match=r"asked '\*{8}x+ Password:'") as ended:
            await s.expect_prompt()
    for error in (timed_out.value, asks.value, ended.value):
        assert "SecretXYZ"[-4:] not in str(error)


async def test_late_output_that_pauses_like_a_question_is_read_on() -> None:
    # After a time-out, the answer goes on: "user:" at the end of a chunk, and
    # the rest a second later, is output, not a login question.
    script = (
        "printf '$ '; read -r _; printf 'name: web\\nuser:'; sleep 1; "
        "printf ' root\\n$ '; read -r _; printf 'next\\n$ '; cat"
    )
    async with aioexpect.spawn("sh", ["-c", script], timeout=10, driver="shell") as s:
        with pytest.raises(ExpectTimeout):
            await s.execute("cat app.yml", timeout=0.5)
        assert await s.execute("echo next") == "next\n"


async def test_telnet_login_errors_name_the_server() -> None:
    async with serve_telnet(make_device(login=("admin", "pw"))) as server:
        where = f"127.0.0.1:{server.port}"
        with pytest.raises(aioexpect.AuthenticationError, match=f"telnet login to {where}") as e:
            await aioexpect.connect_telnet(
                "127.0.0.1", server.port, username="admin", password="wrong-pw", timeout=10
            )
        assert (e.value.host, e.value.port) == ("127.0.0.1", server.port)
        assert "wrong-pw" not in str(e.value)
    with pytest.raises(TypeError, match="text session"):  # before connecting anywhere
        aioexpect.connect_telnet("127.0.0.1", 1, username="admin", encoding=None)


@pytest.mark.parametrize("name", ["ios", "nxos", "eos", "auto"])
async def test_execute_with_network_drivers_and_paging(name: str) -> None:
    device = make_device(page_length=20, banner="Cisco IOS Software, C2960")
    async with (
        serve_telnet(device) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver=name, timeout=10) as s,
    ):
        s.set_prompt(r"(?m)^router1#\Z")
        assert await s.execute("show interfaces description") == TABLE + "\n"
        s.set_prompt(None)
        await check_device_execute(s)


# -- corner cases against a scripted peer --------------------------------------------------------


@contextlib.asynccontextmanager
async def scripted(
    reply: Callable[[str], str],
    *,
    greeting: str = "",
    limit: int = 1 << 20,
    split: Callable[[bytes], list[bytes]] = lambda data: [data],
    **options: Any,
) -> AsyncIterator[Session]:
    """A session whose peer answers each line with ``reply(line)`` (echo
    included, if wanted), after sending ``greeting``; ``split`` cuts each
    answer into the chunks the session receives (with ``limit=0``)."""

    async def serve(peer: Any) -> None:
        pending = b""
        if greeting:
            await peer.write(greeting.encode())
        while True:
            data = await peer.read()
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, _, pending = pending.partition(b"\n")
                for chunk in split(reply(line.decode()).encode()):
                    await peer.write(chunk)

    async with played(serve, limit=limit, **options) as session:
        yield session


def echo_reply(prompt: str, outputs: dict[str, str]) -> Callable[[str], str]:
    def reply(line: str) -> str:
        return f"{line}\r\n{outputs.get(line, '')}{prompt}"

    return reply


async def test_execute_consumes_a_stale_prompt_first() -> None:
    reply = echo_reply("r1#", {"show clock": "12:00\r\n"})
    async with scripted(reply, greeting="banner\r\nr1#", timeout=5) as s:
        await s.expect("banner")  # the caller read part of it; the prompt waits
        assert await s.execute("show clock") == "12:00\n"
        assert s.buffer == ""


async def test_execute_after_the_caller_consumed_the_prompt() -> None:
    reply = echo_reply("r1#", {"show clock": "12:00\r\n"})
    async with scripted(reply, greeting="banner\r\nr1#", timeout=5) as s:
        await s.expect_exact("r1#")
        assert await s.execute("show clock") == "12:00\n"


@pytest.mark.parametrize("split", ["whole", "bytewise", "seed=0", "seed=1", "seed=2"])
async def test_execute_in_any_chunking(split: str) -> None:
    output = "Interface Status\r\nLo0 up up Description of my router>\r\nGi0/1 up up uplink\r\n"
    reply = echo_reply("router1#", {"show int desc": output})

    def cut(data: bytes) -> list[bytes]:
        return dict(splits(data, seeds=range(3)))[split]

    async with scripted(reply, greeting="router1#", limit=0, split=cut, timeout=5) as s:
        s.set_prompt(r"(?m)^router1#")
        assert await s.execute("show int desc") == output.replace("\r\n", "\n")


async def test_execute_without_echo() -> None:
    async with scripted(lambda line: "out\r\n$ ", greeting="$ ", timeout=5) as s:
        assert await s.execute("cmd") == "out\n"


async def test_execute_timeout_keeps_the_partial_output() -> None:
    async with scripted(lambda line: f"{line}\r\nhalf an answer", greeting="$ ", timeout=5) as s:
        with pytest.raises(ExpectTimeout) as info:
            await s.execute("slow", timeout=0.1)
        assert info.value.before.endswith("half an answer")
        assert s.buffer.endswith("half an answer")


async def test_execute_one_deadline_for_everything() -> None:
    async with scripted(lambda line: "", timeout=5) as s:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(ExpectTimeout):
            await s.execute("anything", timeout=0.2)  # no prompt ever
        assert loop.time() - start < 2


async def test_execute_rejects_bad_commands() -> None:
    async with scripted(lambda line: "", greeting="$ ") as s:
        with pytest.raises(ValueError, match="one line"):
            await s.execute("echo a\necho b")
        with pytest.raises(TypeError):
            await s.execute(b"ls")  # type: ignore[arg-type]


async def test_command_error_message_redacts_secrets() -> None:
    reply = echo_reply("r1#", {"enable secret hunter2": "% Invalid input detected\r\n"})
    async with scripted(reply, greeting="r1#", timeout=5) as s:
        s.add_secret("hunter2")
        with pytest.raises(CommandError) as info:
            await s.execute("enable secret hunter2")
        assert "hunter2" not in str(info.value) and "********" in str(info.value)
        assert info.value.command == "enable secret hunter2"


async def test_a_long_command_in_a_message_is_cut_at_whole_escapes_and_masks() -> None:
    # Cut in the middle, its message showed half of the tab's escape (a
    # backslash the command does not hold) and half of the secret's mask.
    command = "a" * 99 + "\t" + "m" * 200 + "hunter2" + "z" * 96
    short = ["x" * 201, "x" * 203]
    failing = dict.fromkeys([command, *short], "% Invalid input detected\r\n")
    reply = echo_reply("r1#", failing)
    async with scripted(reply, greeting="r1#", timeout=5) as s:
        s.add_secret("hunter2")
        with pytest.raises(CommandError) as info:
            await s.execute(command)
        assert f"command {'a' * 99 + '...' + 'z' * 96!r} failed" in str(info.value)
        # 201 to 203 characters show whole: cut, they would be no shorter.
        for line in short:
            with pytest.raises(CommandError) as info:
                await s.execute(line)
            assert f"command {line!r} failed" in str(info.value)


async def test_custom_error_patterns() -> None:
    reply = echo_reply("$ ", {"deploy": "step 1 ok\r\nFATAL: disk full\r\n"})
    async with scripted(reply, greeting="$ ", timeout=5) as s:
        assert await s.execute("deploy") == "step 1 ok\nFATAL: disk full\n"
        s.set_error_prompt([r"^FATAL: .*$"])
        with pytest.raises(CommandError, match="FATAL: disk full"):
            await s.execute("deploy")


async def test_error_patterns_are_checked_together_and_named_in_order() -> None:
    """The error patterns are looked for in one pass, but the error named is
    the first pattern's that matches, wherever it is; a later pattern with a
    group of its own (which one pass would renumber) is still found."""
    replies = {
        "deploy": "warning: slow\r\nFATAL: disk full\r\n",
        "sync": "ok\r\nbb\r\n",
        "true": "fine\r\n",
    }
    async with scripted(echo_reply("$ ", replies), greeting="$ ", timeout=5) as s:
        s.set_error_prompt([r"^(FATAL): .*$", r"^warning: .*$", r"^(b)\1$"])
        with pytest.raises(CommandError, match="FATAL: disk full"):
            await s.execute("deploy")
        with pytest.raises(CommandError, match="failed: bb"):
            await s.execute("sync")
        assert await s.execute("true") == "fine\n"


async def test_error_patterns_anchored_at_the_start_are_found_and_named_in_order() -> None:
    """Patterns anchored at the output's start (``\\A``, as the Cisco and
    VRP drivers' refusals) are searched apart from the others' one pass:
    each is still found there only, the first in order named, and an
    ``\\A`` that anchors one alternative only finds the other anywhere."""
    replies = {
        "deny": "\r\n% Access denied\r\n",
        "both": "% Access denied\r\nERROR: x\r\n",
        "err": "ok\r\nERROR: y\r\n",
        "later": "ok\r\n% Access denied\r\n",
        "alt": "ok\r\nlate oops\r\n",
        "fine": "fine\r\n",
    }
    async with scripted(echo_reply("$ ", replies), greeting="$ ", timeout=5) as s:
        s.set_error_prompt([r"\A\s*% Access denied[^\r\n]*", r"^ERROR: .*$", r"\Anever|oops"])
        for command, shown in [
            ("deny", "denied"),
            ("both", "denied"),
            ("err", "y"),
            ("alt", "oops"),
        ]:
            with pytest.raises(CommandError, match=shown):
                await s.execute(command)
        assert await s.execute("later") == "ok\n% Access denied\n"
        assert await s.execute("fine") == "fine\n"
        s.set_error_prompt([r"\A\s*% Access denied", r"\AERROR"])
        with pytest.raises(CommandError, match="Access denied"):
            await s.execute("deny")
        assert await s.execute("err") == "ok\nERROR: y\n"


async def test_execute_strip_ansi_session() -> None:
    reply = echo_reply("\x1b[1mr1#\x1b[0m", {"show x": "\x1b[32mgreen\x1b[0m\r\n"})
    async with scripted(reply, greeting="r1#", timeout=5, strip_ansi=True) as s:
        assert await s.execute("show x") == "green\n"


async def test_execute_a_colour_reset_prompt_cut_at_max_buffer() -> None:
    # A prompt whose PS1 ends in a colour reset, the reply crossing
    # max_buffer inside that reset: the prompt was refused while the reset's
    # tail waited past the cut, and once it was decoded to nothing no one
    # looked again: execute() timed out with the prompt in the buffer.
    prompt = "\x1b[1;32mh\x1b[0m$ \x1b[0m"
    reply = echo_reply(prompt, {"x": "line of output\r\n" * 3})
    cut = len(reply("x")) - 2  # (after the final reset's ESC[)
    async with scripted(
        reply, greeting=prompt, timeout=5, strip_ansi=True, driver="generic", max_buffer=cut
    ) as s:
        assert await s.execute("x") == "line of output\n" * 3


async def test_after_a_timeout_the_late_answer_is_skipped() -> None:
    answers = {"slow": "part one\r\n", "next": "next output\r\n"}

    def reply(line: str) -> str:
        if line == "slow":
            return "slow\r\npart one\r\n"  # and no prompt yet
        if line == "":
            return "part two\r\nr1#"  # the slow command finishes late
        return f"{line}\r\n{answers.get(line, '')}r1#"

    async with scripted(reply, greeting="r1#", timeout=5) as s:
        with pytest.raises(ExpectTimeout):
            await s.execute("slow", timeout=0.1)
        await s.sendline("")  # (the device finishes the slow command)
        assert await s.execute("next") == "next output\n"


async def test_output_without_a_final_line_end_runs_into_the_prompt() -> None:
    reply = echo_reply("r1#", {"show bare": "no line end", "show x": "x\r\n"})
    async with scripted(reply, greeting="r1#", timeout=5) as s:
        assert await s.execute("show x") == "x\n"
        assert await s.execute("show bare") == "no line end"  # "no line endr1#"
        assert await s.execute("show x") == "x\n"
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], timeout=10) as s:
        assert await s.execute("printf 'no newline'") == "no newline"
        assert await s.execute("echo next") == "next\n"
    if shutil.which("zsh") is not None:  # zsh marks the partial line (PROMPT_SP)
        async with aioexpect.spawn("zsh", ["-f"], timeout=10) as s:
            assert await s.execute("printf x") == "x"
            assert await s.execute("printf 'no newline'") == "no newline"
            assert await s.execute("echo next") == "next\n"
            for mark in ("", "<no-eol>"):  # PROMPT_EOL_MARK, as users set it
                await s.execute(f"PROMPT_EOL_MARK='{mark}'")
                assert await s.execute("printf x") == "x"
                assert await s.execute("printf 'no newline'") == "no newline"


async def test_one_word_glued_to_the_prompt_stays_output() -> None:
    """``printf x`` gives ``xbash-5.2# ``, which the generic pattern takes
    whole for a prompt; the learned prompt splits the word off again."""
    reply = echo_reply("r1#", {"show w": "word", "show ip": "10.0.0.1"})
    async with scripted(reply, greeting="r1#", timeout=5) as s:
        assert await s.execute("show w") == "word"  # "wordr1#"
        assert await s.execute("show ip") == "10.0.0.1"
        assert await s.execute("show w") == "word"
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], timeout=10) as s:
        first = await s.expect_prompt()
        for command, output in [("printf x", "x"), ("echo -n value", "value")]:
            assert await s.execute(command) == output
        assert await s.execute("echo -n 10.0.0.1") == "10.0.0.1"
        assert await s.execute("echo after") == "after\n"
        await s.sendline("printf x")
        m = await s.expect_prompt()
        assert m.after == first.after and m.group() == m.after
        assert m.before.endswith("x") and m.span() == (len(m.before), len(m.before + m.after))


@pytest.mark.parametrize(
    "shell",
    [["bash", "--norc", "--noprofile"], ["zsh", "-f"], ["dash"]],
    ids=["bash", "zsh", "dash"],
)
async def test_execute_after_set_winsize(shell: list[str]) -> None:
    """bash and zsh redraw their prompt on SIGWINCH, a few ms after the
    resize: that prompt is not taken for the end of the next command."""
    if shutil.which(shell[0]) is None:
        pytest.skip(f"{shell[0]} is not installed")
    async with aioexpect.spawn(shell[0], shell[1:], timeout=10) as s:
        await s.expect_prompt()
        for rows, cols in [(40, 120), (30, 100), (50, 132), (24, 80)]:
            s.set_winsize(rows, cols)
            assert await s.execute("stty size") == f"{rows} {cols}\n"
            assert await s.execute("echo ONE") == "ONE\n"


# A line editor that redraws its prompt after a resize only when it next reads
# (as bash does on a machine too busy to answer within REDRAW_WAIT): the
# redraw comes in front of the echo, alone or on the echo's line.
LATE_REDRAW = r"""
import os, signal, sys, termios, time
mode = sys.argv[1]
attrs = termios.tcgetattr(0)
attrs[3] &= ~(termios.ECHO | termios.ICANON)
termios.tcsetattr(0, termios.TCSANOW, attrs)
resized = []
signal.signal(signal.SIGWINCH, lambda *_: resized.append(1))
modes, prompt = "\x1b[?2004h", "dev1> "
def out(text):
    os.write(1, text.encode())
signal.signal(signal.SIGUSR1, lambda *_: out("\r\n%LINK-3-UPDOWN: changed state to up\r\n"))
out(modes + prompt)
line = b""
while True:
    ch = os.read(0, 1)
    if not ch:
        break
    if ch != b"\n":
        line += ch
        continue
    command, line = line.decode(), b""
    redraw = "\r\x1b[K\r" + prompt if resized and mode in ("alone", "glued") else ""
    resized.clear()
    if mode == "alone" and redraw:
        out(redraw)
        time.sleep(0.05)
        redraw = ""
    if command.startswith("enter "):  # a mode of the device: its prompt changes
        answer, prompt = "", f"dev1({command[6:]})> "
    elif command == "notify":  # a message of its own, after the prompt
        answer = ""
    else:
        answer = "".join(f"{x}\r\n" for x in os.popen(command).read().splitlines())
    echo = "" if mode == "silent" else command + "\r\n"
    out(redraw + echo + answer + modes + prompt)
"""


@pytest.mark.parametrize("mode", ["alone", "glued", "none", "silent"])
async def test_execute_after_a_redraw_later_than_the_wait(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redraw that comes after the command was sent is not taken for its
    answer (alone) nor left in it (on the echo's line), also when the
    command contains the prompt or changes it; a peer that does not redraw
    still gets its empty answers, also without an echo and with a message
    of its own right after the prompt."""
    # The device sleeps 50 ms between a lone redraw and the echo; a loaded
    # machine once made that longer than LATE_REDRAW_WAIT ('' for stty
    # size).  What is tested is the redraw's removal, so the wait is made
    # one the device always meets; a passing run never spends it.
    monkeypatch.setattr(_prompt, "LATE_REDRAW_WAIT", 5.0)
    async with aioexpect.spawn(sys.executable, ["-c", LATE_REDRAW, mode], timeout=10) as s:
        s.set_prompt(r"dev1(?:\(\w+\))?> \Z")
        await s.expect_prompt()
        for rows, cols in [(40, 120), (30, 100)]:
            s.set_winsize(rows, cols)
            assert await s.execute("stty size") == f"{rows} {cols}\n"
            assert await s.execute("echo ONE") == "ONE\n"
        s.set_winsize(50, 132)
        assert await s.execute("true") == ""
        s.set_winsize(50, 133)
        assert await s.execute("echo 'dev1> x'") == "dev1> x\n"
        s.set_winsize(50, 134)
        assert await s.execute("enter config") == ""
        assert await s.execute("echo TWO") == "TWO\n"
        assert s.buffer == ""
        s.set_winsize(50, 135)
        # A message of the device's own right after the prompt, once the
        # prompt has been read (sent at once after it, the two could come in
        # one read on a busy machine, and no prompt is "> \Z" then).
        pid = s.transport.get_extra_info("pid")

        def notify(session: aioexpect.Session, match: aioexpect.Match) -> None:
            stop()
            os.kill(pid, signal.SIGUSR1)

        stop = s.add_monitor(re.escape("\x1b[?2004hdev1(config)> "), notify)  # (not the redraw)
        assert await s.execute("notify", timeout=3) == ""
        # The message is the next command's: it came after this prompt.
        assert "%LINK-3-UPDOWN" in await s.execute("echo THREE")


@pytest.mark.parametrize(
    "shell",
    [["bash", "--norc", "--noprofile"], ["zsh", "-f"], ["dash"]],
    ids=["bash", "zsh", "dash"],
)
async def test_execute_with_the_terminal_echo_off(shell: list[str], tmp_path: Any) -> None:
    """``echo=False`` (the tip for less traffic): what execute returns is the
    output alone, also where it begins with an empty line, or with one
    ending in ``\\r\\r\\n``, or is much like the command."""
    if shutil.which(shell[0]) is None:
        pytest.skip(f"{shell[0]} is not installed")
    (tmp_path / "ls.sh").write_text("")
    async with aioexpect.spawn(shell[0], shell[1:], echo=False, cwd=tmp_path, timeout=10) as s:
        await s.expect_prompt()
        assert await s.execute("echo ONE") == "ONE\n"
        assert await s.execute("echo; echo x") == "\nx\n"
        assert await s.execute("printf '\\r\\nX\\n'") == "\nX\n"
        assert await s.execute("ls") == "ls.sh\n"
        assert await s.execute("true") == ""


async def test_bash_i_over_pipes_echoes_on_stderr_and_execute_drops_it() -> None:
    async with aioexpect.spawn("bash", ["--norc", "--noprofile", "-i"], pty=False) as s:
        assert await s.execute("echo piped") == "piped\n"
        assert await s.execute("echo 'echo piped'") == "echo piped\n"  # output, not echo


async def test_an_unrecognised_late_prompt_fails_one_execute_not_all() -> None:
    def reply(line: str) -> str:
        if line == "odd":
            return "odd\r\nodd output\r\n>>> "  # a prompt no pattern knows
        return f"{line}\r\n{line} output\r\nr1#"

    async with scripted(reply, greeting="r1#", timeout=5) as s:
        with pytest.raises(ExpectTimeout):
            await s.execute("odd", timeout=0.1)
        with pytest.raises(ExpectTimeout) as info:  # waiting for the late prompt
            await s.execute("next", timeout=0.1)
        assert info.value.before.endswith("odd output\r\n>>> ")
        assert str(info.value).startswith("command 'next' not sent: timed out waiting for")
        assert await s.execute("next") == "next output\n"
        assert await s.execute("again") == "again output\n"


async def test_a_silent_fresh_session_fails_one_execute_not_all() -> None:
    # A console that shows nothing until it is sent a line: nothing was sent
    # that could still be running, so only the first execute waits and fails.
    async with scripted(lambda line: f"{line}\r\n{line} output\r\nr1#", timeout=5) as s:
        with pytest.raises(ExpectTimeout, match="not sent") as info:
            await s.execute("first", timeout=0.1)
        assert "may still be running" not in str(info.value)
        assert await s.execute("second") == "second output\n"


async def test_a_prompt_pattern_matching_nothing_is_refused() -> None:
    """Only ``pattern.search("")`` was tried: ``\\b`` or a look-ahead, empty
    in context, was taken, and execute returned '' at once, the output left
    buffered; ``[]`` made every execute wait out its time-out; bytes were
    read as a sequence of ints ("not int")."""
    async with scripted(echo_reply("$ ", {"echo hi": "hi\r\n"}), greeting="$ ", timeout=5) as s:
        s.set_prompt(r"\$ ")
        for pattern in ("", r"x*", "^", r"\b", r"(?=\$ )", [r"\$ ", r"(?<=x)"], r"\Z"):
            for refuse in (s.set_prompt, s.set_error_prompt):
                with pytest.raises(ValueError, match="empty"):
                    refuse(pattern)
        for empty in ([], ()):
            with pytest.raises(ValueError, match="no patterns given"):
                s.set_prompt(empty)
        for given in (b"\\$ ", [b"\\$ "], re.compile(b"\\$ ")):
            with pytest.raises(TypeError, match="str patterns only, not bytes"):
                s.set_prompt(given)
        assert [p.pattern for p in s.prompt_patterns] == [r"\$ "]  # (each refused whole)
        assert await s.execute("echo hi") == "hi\n"
        assert s.buffer == ""
        s.set_error_prompt([])  # (no error patterns: every answer is output)
        assert s.error_patterns == ()


def test_a_driver_refuses_patterns_matching_nothing_but_may_leave_fields_empty() -> None:
    for field in ("prompt_patterns", "error_patterns", "pager_patterns", "guess_patterns"):
        with pytest.raises(ValueError, match="can match empty text"):
            drivers.Driver("mine", **{field: [r"(?=-- more --)"]})
    with pytest.raises(TypeError, match="not bytes"):
        drivers.Driver("mine", prompt_patterns=b"# ")
    assert drivers.Driver("mine", prompt_patterns=r"# ", error_patterns=[]).error_patterns == ()


# -- the cleaning itself (pure functions) ------------------------------------------------

BASH_WRAP = (  # bash 5.2, 80 columns, "echo " + 90 a's + " " + 20 b's
    "echo " + "a" * 66 + "\r" + "a" * 24 + " " + "b" * 20 + "\r\n\x1b[?2004l\r"
)
ZSH_REDRAW = (  # zsh 5.9 with ZLE, same command
    "e\x08echo " + "a" * 71 + " \r\x1b[Ka\r" + "a" * 19 + " " + "b" * 20 + "\x1b[?2004l\r\r\n"
)
LONG = "echo " + "a" * 90 + " " + "b" * 20
#: bash 5 at 40 columns, prompt ``me$ ``: a command line ending at the
#: margin, then readline's redraw of its last row (the first: with the
#: prompt; a later one: alone), back up from the next row.
BASH_AT_MARGIN = "echo " + "x" * 31 + " \r\x1b[Ame$ echo " + "x" * 30 + "\x1b[Kx\r\n"
BASH_AT_MARGIN_2 = (
    "echo " + "x" * 32 + "\r" + "x" * 40 + " \r\x1b[A" + "x" * 39 + "\x1b[Kx\r\n\x1b[?2004l\r"
)
ZSH_MARK = (
    "\x1b[1m\x1b[7m%\x1b[27m\x1b[1m\x1b[0m" + " " * 79 + "\r \r\r\x1b[0m\x1b[27m\x1b[24m\x1b[J"
)


@pytest.mark.parametrize(
    ("raw", "command", "expected"),
    [
        ("echo hi\r\nhi\r\n", "echo hi", "hi\n"),
        (BASH_WRAP + "out\r\n", LONG, "out\n"),
        (ZSH_REDRAW + "out\r\n", LONG, "out\n"),
        (BASH_AT_MARGIN + "out\r\n", "echo " + "x" * 31, "out\n"),
        (BASH_AT_MARGIN_2 + "out\r\n", "echo " + "x" * 71, "out\n"),
        ("\x1b[K\x1b[?2004hls\r\nx\r\n", "ls", "x\n"),  # leftovers before the echo
        ("hi\r\n", "echo hi", "hi\n"),  # no echo
        ("ls.txt\r\n", "ls", "ls.txt\n"),  # output that starts like the command
        ("show  run\r\n!\r\n", "show run", "!\n"),  # spaces do not matter
        ("\r\n", "", ""),  # just Enter
        ("ls\r\r\nx\r\n", "ls", "x\n"),  # echoed as typed (a quick path), \r\r\n
        ("echo  hi\nhi\n", "echo  hi", "hi\n"),  # as typed, spaces and all, over pipes
        # zsh's PROMPT_SP after output without a line end, and after one with
        ("printf x\r\r\nx" + ZSH_MARK, "printf x", "x"),
        ("echo x\r\r\nx\r\n" + ZSH_MARK, "echo x", "x\n"),
        # bash with the terminal's echo off: only readline's own line end
        ("\x1b[?2004l\r\r\nhi\r\n", "echo hi", "hi\n"),
        ("\x1b[?2004l\r\r\n\r\nx\r\n", "echo; echo x", "\nx\n"),
        ("\r\nx\r\n", "echo; echo x", "\nx\n"),  # dash, echo off: output's own
        ("x\r\r\nx\r\n", "echo hi", "x\nx\n"),  # a visible line is output
        ("\r\r\nX\r\n", "printf x", "\nX\n"),  # a blank line of output, \r\r\n and all
        ("\x1b[0m\r\r\nY\r\n", "printf y", "\nY\n"),
        ("\x1b[?2004l\r\r\nls.sh\r\n", "ls", "ls.sh\n"),  # no echo: no near match either
    ],
)
def test_echo_removal(raw: str, command: str, expected: str) -> None:
    from aioexpect._output import clean_output

    assert clean_output(raw, command) == expected


MESSAGE = "\r\n*Mar  1 00:01:02.345: %SYS-5-CONFIG_I: Configured from console by console\r\n"


@pytest.mark.parametrize(
    ("raw", "sent_at", "expected"),
    [
        (
            MESSAGE + "show clock\r\n10:00\r\n",
            len(MESSAGE),
            MESSAGE.replace("\r\n", "\n") + "10:00\n",
        ),
        # a message whose line end had not come when the command was sent
        ("\r\n%LINK-3-UPDOWN: up\r\nshow clock\r\n10:00\r\n", 20, "\n%LINK-3-UPDOWN: up\n10:00\n"),
        ("\r\n%LINK-3-UPDOWN: upshow clock\r\n10:00\r\n", 20, "\n%LINK-3-UPDOWN: up\n10:00\n"),
        # before the command: only the echo is looked for after it
        ("show clock\r\nshow clock\r\n10:00\r\n", 12, "show clock\n10:00\n"),
        ("\x1b[?2004hshow clock\r\n10:00\r\n", 8, "10:00\n"),  # nothing visible
        # ... a prompt's last space, or a line end, that came late: no message
        (" show clock\r\n10:00\r\n", 1, "10:00\n"),
        ("\r\nshow clock\r\n10:00\r\n", 2, "10:00\n"),
        ("\r\n\r\nshow clock\r\n10:00\r\n", 4, "10:00\n"),
        # ... also when the command is not echoed (it came before it was sent)
        (" 10:00\r\n", 1, "10:00\n"),
        ("\r\n10:00\r\n", 2, "10:00\n"),
        ("\x1b[?2004h\x1b[?2004l\r\r\n10:00\r\n", 8, "10:00\n"),  # readline, echo off
        (MESSAGE + "10:00\r\n", len(MESSAGE), MESSAGE.replace("\r\n", "\n") + "10:00\n"),
    ],
)
def test_the_echo_is_looked_for_after_what_came_before_the_command(
    raw: str, sent_at: int, expected: str
) -> None:
    from aioexpect._output import clean_output

    assert clean_output(raw, "show clock", sent_at) == expected


async def test_a_message_after_the_prompt_leaves_no_echo_in_the_next_answer() -> None:
    """IOS prints %SYS-5-CONFIG_I a moment after the prompt that follows
    ``end``.  The next execute returned that message, then its own echo,
    then its output: its echo was looked for at the start of the message.
    Now the message is kept in front of the output (it came after a prompt,
    as the next command's does), and the echo is gone."""
    logged = asyncio.Event()
    lines: list[str] = []

    async def device(peer: Any) -> None:
        await peer.write(b"r1#")
        async for command in typed_lines(peer):
            lines.append(command)
            answer = "10:00\r\n" if command == "show clock" else ""
            await peer.write(f"{command}\r\n{answer}r1#".encode())
            if command == "end":
                await logged.wait()  # (the session has read the prompt)
                await peer.write(MESSAGE.encode())

    async with played(device, driver="ios", timeout=5) as s:
        await s.execute("end")
        logged.set()
        await wait_until(lambda: "CONFIG_I" in s.buffer, "the message came")
        expected = MESSAGE.replace("\r\n", "\n") + "10:00\n"
        assert await s.execute("show clock") == expected
        assert await s.execute("show clock") == "10:00\n"
        assert lines == ["terminal length 0", "terminal width 0", "end"] + ["show clock"] * 2


@pytest.mark.parametrize("echo", [True, False], ids=["echo", "echo-off"])
@pytest.mark.parametrize("late", [" ", "\r\n"])
@pytest.mark.parametrize(
    ("driver", "prompt"), [("ios", "r1#"), ("junos", "admin@mx1>"), ("generic", "u@host:~$")]
)
async def test_what_shows_nothing_after_the_prompt_goes_with_the_next_echo(
    echo: bool, late: str, driver: str, prompt: str
) -> None:
    """A serial console server, or a telnet peer writing a byte at a time,
    sends a prompt's trailing space in a chunk of its own, after the prompt
    was matched.  That space was kept in front of the next command's echo
    and glued to its output: ``' hello\\n'`` (a line end alone: ``'\\nhello\\n'``).
    A device that does not echo (its echo off, pipes) kept it there too:
    it came before the command was sent, so it is never the output."""
    more = asyncio.Event()

    async def device(peer: Any) -> None:
        await peer.write(prompt.encode())
        async for command in typed_lines(peer):
            answer = command[5:] + "\r\n" if command.startswith("echo ") else ""
            shown = f"{command}\r\n" if echo else ""
            await peer.write(f"{shown}{answer}{prompt}".encode())
            if command == "echo first":
                await more.wait()  # (the session has read the prompt)
                await peer.write(late.encode())

    async with played(device, driver=driver, timeout=5) as s:
        assert await s.execute("echo first") == "first\n"
        more.set()
        await wait_until(lambda: s.buffer == late, "the rest of the prompt came")
        assert await s.execute("echo hello") == "hello\n"
        assert await s.execute("echo again") == "again\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb\r\n", "a\nb\n"),
        ("a\r\r\nb\n\rc", "a\nb\nc"),
        ("10%\r50%\r100%\r\n", "100%\n"),
        ("\x1b[1;31mred\x1b[0m plain\r\n", "red plain\n"),
        ("\x1b]0;title\x07text\r\n", "text\n"),
        ("abc\x08\x08X\r\n", "aXc\n"),
        ("--More--" + "\b" * 8 + " " * 8 + "\b" * 8 + "ab\r\n", "ab\n"),  # erased pager
        ("abcdef\x1b[3D\x1b[K!\r\n", "abc!\n"),
        ("a\tb  \r\n", "a\tb  \n"),  # trailing spaces of untouched lines stay
        ("\x1b[?2004l\ra  \r\nb  \r\n", "a  \nb  \n"),  # a \r at the line start moves nothing
        ("cut \x1b[1", "cut "),
    ],
)
def test_rendering(raw: str, expected: str) -> None:
    from aioexpect._output import render

    assert render(raw) == expected


@contextlib.asynccontextmanager
async def unique_bash(**options: Any) -> AsyncIterator[Session]:
    """bash in a pty at its unique prompt (``set_unique_prompt``)."""
    options.setdefault("timeout", 10)
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], **options) as s:
        await s.set_unique_prompt()
        yield s


async def test_output_glued_to_a_prompt_that_changed_with_the_directory(tmp_path: Path) -> None:
    # 'wroot@vm:/tmp/sub$ ' after 'root@vm:/tmp$ ': the generic pattern takes
    # it all for the prompt, and the learned one is not found (it changed).
    (tmp_path / "sub").mkdir()
    env = dict(os.environ, PS1=r"\u@\h:\w\$ ", TERM="xterm")
    async with aioexpect.spawn(
        "bash", ["--norc", "--noprofile"], env=env, cwd=tmp_path, timeout=10
    ) as s:
        await s.expect_prompt()
        assert await s.execute("printf x") == "x"
        assert await s.execute("cd sub && printf w") == "w"
        assert await s.execute("cd .. && printf abc") == "abc"
        assert await s.execute("echo done") == "done\n"


@pytest.mark.parametrize(
    "ps1",
    [
        r"\u@\h:\w\$ ",
        r"[\u@\h \W]\$ ",
        r"\[\e[01;32m\]\u@\h\[\e[00m\]:\[\e[01;34m\]\w\[\e[00m\]\$ ",
    ],
)
async def test_output_ending_in_a_space_glued_to_a_changed_prompt(tmp_path: Path, ps1: str) -> None:
    # 'w root@vm:/tmp/sub$ ': no pattern (anchored at a line start) found the
    # prompt, so this execute timed out and every later one too ("not sent").
    # The coloured prompt comes with a line editor's '\x1b[K' after two spaces.
    (tmp_path / "sub").mkdir()
    env = dict(os.environ, PS1=ps1, TERM="xterm")
    async with aioexpect.spawn(
        "bash", ["--norc", "--noprofile"], env=env, cwd=tmp_path, timeout=10
    ) as s:
        await s.expect_prompt()
        assert await s.execute("cd sub && printf 'w '") == "w "
        assert await s.execute("cd .. && printf 'a b'") == "a b"
        assert await s.execute("cd sub && printf 'w '") == "w "
        assert await s.execute("cd .. && printf 'a b  '") == "a b  "
        assert await s.execute("printf 'x '") == "x "
        assert await s.execute("echo done") == "done\n"


@pytest.mark.parametrize(
    "ps1", [r"\u@vmhost:\w\$ ", r"\[\e[01;32m\]\u@vmhost\[\e[00m\]:\[\e[01;34m\]\w\[\e[00m\]\$ "]
)
async def test_output_that_only_resembles_a_changed_prompt_is_output(
    tmp_path: Path, ps1: str
) -> None:
    # A chunk ending in 'root@vmhost:/srv 50% #' (or, under the coloured
    # prompt, in its colour code and '[####') was taken for the prompt of a
    # new directory: execute returned early, and every later one returned
    # the one before's output.
    user, sign = getpass.getuser(), "#" if os.geteuid() == 0 else "$"
    (tmp_path / "inputrc").write_text("set enable-bracketed-paste off\n")
    env = dict(os.environ, PS1=ps1, TERM="xterm", INPUTRC=str(tmp_path / "inputrc"))
    cases = [
        (f"copy to {user}@vmhost:/srv 50%% {sign}", f"copy to {user}@vmhost:/srv 50% {sign}"),
        (f"see {user}@vmhost: build {sign}", f"see {user}@vmhost: build {sign}"),
        # at a line's start, where a new directory may have spaces: the
        # prompt's space after its sign is missing
        (f"{user}@vmhost:/srv 50%% {sign}", f"{user}@vmhost:/srv 50% {sign}"),
        (
            f"start\\n{user}@vmhost: building 50%% {sign}",
            f"start\n{user}@vmhost: building 50% {sign}",
        ),
        (f"\\033[01;32m[{sign * 5}", f"[{sign * 5}"),  # (execute drops control sequences)
    ]
    async with aioexpect.spawn(
        "bash", ["--norc", "--noprofile"], env=env, cwd=tmp_path, timeout=10
    ) as s:
        await s.expect_prompt()
        for printed, shown in cases:
            # (the pause ends a chunk where the look-alike ends)
            out = await s.execute(f"printf '{printed}'; sleep 0.3; printf ' done\\n'")
            assert out == f"{shown} done\n"
            assert await s.execute("echo in-step") == "in-step\n"
        assert await s.execute("cd / && printf 'w '") == "w "  # (the change still found)
        (tmp_path / "a b").mkdir()  # and on a line of its own, with a space
        assert await s.execute(f"cd '{tmp_path}/a b'") == ""
        assert await s.execute("echo in-step") == "in-step\n"


async def test_a_new_directory_under_a_prompt_with_a_window_title(tmp_path: Path) -> None:
    # Ubuntu's PS1 starts with a window title that holds the directory: the
    # changed prompt's start was taken from the title, and a long new
    # directory with a space in it was never found (time-out, then "not sent").
    ps1 = r"\[\e]0;\u@\h: \w\a\]\[\e[01;32m\]\u@vmhost\[\e[00m\]:\[\e[01;34m\]\w\[\e[00m\]\$ "
    env = dict(os.environ, PS1=ps1, TERM="xterm")
    async with aioexpect.spawn(
        "bash", ["--norc", "--noprofile"], env=env, cwd=tmp_path, timeout=10
    ) as s:
        await s.expect_prompt()
        for n in (10, 100):
            directory = tmp_path / ("a b" + "c" * n)
            directory.mkdir()
            assert await s.execute(f"cd '{directory}'") == ""
            assert await s.execute("echo in-step") == "in-step\n"
            assert await s.execute("cd ..") == ""


async def test_a_prompt_as_wide_as_the_terminal(tmp_path: Path) -> None:
    # readline moves past the right margin with ' \r' after the prompt:
    # execute timed out, and every later one too.
    (tmp_path / "d" / "x y").mkdir(parents=True)
    env = dict(os.environ, PS1="p" * 77 + r"\W# ", TERM="xterm")  # 80 wide in 'd'
    async with aioexpect.spawn(
        "bash", ["--norc", "--noprofile"], env=env, cwd=tmp_path / "d", dimensions=(24, 80),
        timeout=10,
    ) as s:  # fmt: skip
        await s.expect_prompt()
        assert await s.execute("echo one") == "one\n"
        assert await s.execute("echo two") == "two\n"
        # ... and then a new directory, with a space (the wrap is no part of
        # the prompt learned before, whose middle is free on its own line)
        assert await s.execute("cd 'x y'") == ""
        assert await s.execute("echo three") == "three\n"


async def test_a_command_still_running_after_two_time_outs_is_not_typed_into() -> None:
    # The second time-out ("not sent") once gave up on the late answer: the
    # third execute was typed into the running command and returned its
    # late output, 'LATE'.
    async with unique_bash() as s:
        with pytest.raises(ExpectTimeout):
            await s.execute("sleep 1.5; echo LATE", timeout=0.2)
        with pytest.raises(ExpectTimeout, match=r"not sent.*may still be running"):
            await s.execute("echo NEXT1", timeout=0.2)
        assert await s.execute("echo NEXT2", timeout=10) == "NEXT2\n"
        assert await s.execute("echo NEXT3") == "NEXT3\n"


async def test_a_password_question_after_a_time_out_is_never_typed_into() -> None:
    # Under set_prompt (set_unique_prompt) the question went unnoticed, and
    # the third execute was sent as the password.
    async with unique_bash() as s:
        asking = "sleep 0.5; read -s -p 'Password: ' q; echo; echo got-$q"
        with pytest.raises(ExpectTimeout):
            await s.execute(asking, timeout=0.2)
        for _ in range(2):
            with pytest.raises(aioexpect.AuthenticationError, match="Password:") as info:
                await s.execute("echo second", timeout=10)
            # the way out of a password question (sudo, enable), not a login's
            assert "send_secret(password), then expect_prompt()" in str(info.value)
            assert "connect_telnet" not in str(info.value)
        await s.send_secret("s3cret")
        assert (await s.expect_prompt()).before.endswith("got-s3cret\r\n")
        assert await s.execute("echo third") == "third\n"


async def test_execute_after_a_cancelled_execute_skips_its_late_answer() -> None:
    async with unique_bash() as s:
        for pty_echo in (True, False):
            if not pty_echo:
                assert await s.execute("stty -echo") == ""
            running = asyncio.ensure_future(s.execute("read x; echo LATE-$x"))
            await wait_until(lambda: s.waiting_for is not None, "the command is sent")
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
            await s.sendline("go")  # what `read` waits for: the answer comes now
            assert await s.execute("echo NEXT") == "NEXT\n"
            assert await s.execute("echo AGAIN") == "AGAIN\n"


async def test_a_line_the_caller_sends_after_reading_a_cancelled_execute_is_answered_first():
    # The cancelled execute left its prompt owed at an old place: once the
    # caller had read past it, a line it sent was not waited for, and the
    # next execute was typed ahead and returned that line's answer.
    async with unique_bash() as s:
        running = asyncio.ensure_future(s.execute("sleep 0.3; echo slept"))
        await wait_until(lambda: s.waiting_for is not None, "the command is sent")
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await s.expect("slept")  # the caller reads that answer itself
        await s.expect_prompt()
        await s.sendline("sleep 0.3; echo MINE")  # then sends a line of its own
        assert [await s.execute(f"echo answer{i}") for i in range(3)] == [
            "answer0\n",
            "answer1\n",
            "answer2\n",
        ]


async def test_execute_after_buffer_full_skips_the_rest_of_that_output() -> None:
    async with unique_bash(max_buffer=50_000) as s:
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("seq 1 100000")  # 588,895 characters
        assert await s.execute("echo AFTER") == "AFTER\n"
        assert await s.execute("seq 1 3") == "1\n2\n3\n"
        # A caller who reads on takes over: execute does not wait again.
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("seq 1 100000")
        while (await s.expect([s.prompt_patterns[0], aioexpect.FULL_BUFFER])).index == 1:
            pass
        assert await s.execute("echo MINE") == "MINE\n"


@pytest.mark.parametrize("max_buffer", [16, 64, 200])
async def test_execute_after_buffer_full_recovers_with_a_small_max_buffer(max_buffer: int) -> None:
    # With max_buffer at most 200 (the tail kept for a prompt cut by the
    # buffer's end), nothing was dropped: every later execute raised
    # BufferFull again, for good.  The prompt lands across each cut in turn.
    for extra in range(12):
        big = "y" * extra + ("y" * 39 + "\r\n") * 10
        reply = echo_reply("r1#", {"big": big, "x": "ok\r\n"})
        async with scripted(reply, greeting="r1#", timeout=5, max_buffer=max_buffer) as s:
            with pytest.raises(aioexpect.BufferFull):
                await s.execute("big")
            assert await s.execute("x") == "ok\n", extra
            assert await s.execute("x") == "ok\n", extra


@pytest.mark.parametrize("end", ["\r\n", "\n", "\r"])  # (\r: a progress line drawn over)
async def test_a_long_prompt_cut_by_the_catch_up_is_found_whole(end: str) -> None:
    # The catch-up kept the last 150 characters (half of max_buffer): a
    # 170-character prompt cut there left its end at the buffer's start,
    # which passes for a line start, and that end was learned as the
    # prompt: every later execute returned 'ok\nadmin@r1:/srv/ddd' (the
    # prompt's start as output), or the next one timed out.  The prompt
    # lands across each cut in turn (the lines are 41 characters long).
    prompt = "admin@r1:/srv/" + "d" * 154 + "$ "
    for extra in range(41):
        big = "y" * extra + ("y" * 39 + end) * 40
        reply = echo_reply(prompt, {"big": big, "x": "ok\r\n"})
        async with scripted(reply, greeting=prompt, timeout=5, max_buffer=300) as s:
            with pytest.raises(aioexpect.BufferFull):
                await s.execute("big")
            assert await s.execute("x") == "ok\n", extra
            assert await s.execute("x") == "ok\n", extra


async def test_a_cancelled_catch_up_keeps_the_prompt_owed() -> None:
    async with unique_bash(max_buffer=50_000) as s:
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("seq 1 100000; read x; echo OLD-DONE-$x")
        catching = asyncio.ensure_future(s.execute("echo NEXT"))
        # It drops what does not fit, up to the end of seq's output, then waits.
        await wait_until(lambda: s.buffer.endswith("100000\r\n"), "seq's output was dropped")
        catching.cancel()
        with pytest.raises(asyncio.CancelledError):
            await catching
        await s.sendline("go")  # what `read` waits for
        assert await s.execute("echo AFTER") == "AFTER\n"


async def test_a_command_refused_before_sending_owes_nothing() -> None:
    async with unique_bash(timeout=5) as s:
        with pytest.raises(ValueError, match="canonical-mode limit"):
            await s.execute("echo " + "a" * 5000)
        assert await s.execute("echo ok") == "ok\n"


async def test_execute_after_the_caller_sent_something_reads_its_answer_first() -> None:
    """Ctrl-C at an idle prompt (the command to stop had just ended), or a
    password typed to su: the shell answers with a prompt, which is not the
    next command's."""
    async with unique_bash() as s:
        await s.sendintr()
        assert [await s.execute(f"echo {n}") for n in ("one", "two")] == ["one\n", "two\n"]
        await s.sendline("read -s secret; sleep 0.2; echo done")  # a su-like dialog
        await s.send_secret("hunter2")
        assert await s.execute("echo three") == "three\n"
        assert await s.execute("echo four") == "four\n"


@pytest.mark.parametrize("call", ["execute", "login", "set_unique_prompt"])
async def test_calls_that_send_then_read_refuse_a_busy_session_before_sending(call: str) -> None:
    """One reader per session: with another task waiting in expect, these
    sent their line first (a synced execute its command, set_unique_prompt
    the PS1 line: the shell's prompt changed, the session's not) and only
    their read raised BusyError, the answer left to the other reader."""
    async with opened(timeout=5) as (s, peer):
        s.set_prompt(r"\$ ")
        await peer.write(b"$ ")
        await s.expect_prompt()  # synced: execute would send at once
        watcher = asyncio.ensure_future(s.expect("ALARM"))
        await wait_until(lambda: s.waiting_for is not None, "the other task reads")
        refused = {
            "execute": lambda: s.execute("reload"),
            "login": lambda: s.login("admin", "pw"),
            "set_unique_prompt": s.set_unique_prompt,
        }[call]
        with pytest.raises(aioexpect.BusyError, match="ALARM"):
            await refused()
        await s.sendline("marker")
        assert await read_until(peer, b"\n") == b"marker\n"  # nothing before it
        await peer.write(b"ALARM")
        assert (await watcher).before == ""
        assert [p.pattern for p in s.prompt_patterns] == [r"\$ "]


async def test_execute_is_bounded_by_its_timeout_when_the_peer_reads_no_input() -> None:
    # A child at its prompt that never reads its input: a command longer than
    # the pipe holds waited for room for ever, past execute's timeout.
    script = "printf '$ '; exec sleep 60"
    async with aioexpect.spawn("sh", ["-c", script], pty=False, timeout=1) as s:
        await s.expect_prompt()
        command = "echo " + "x" * 2_000_000
        with pytest.raises(ExpectTimeout, match=r"not sent whole") as caught:
            await asyncio.wait_for(s.execute(command), 30)  # (the old code: wait_for's own)
        message = str(caught.value)
        assert "2000005 characters" in message
        assert len(message) < 600  # (not the whole command)
        # The rest of the line is still on its way: the next execute waits
        # for the prompt owed to it, and says so, rather than type after it.
        with pytest.raises(ExpectTimeout, match=r"'echo hi' not sent"):
            await asyncio.wait_for(s.execute("echo hi"), 30)
        # Tried again, the long command is refused with its middle cut from
        # the message (it held all 2 MB of it).
        with pytest.raises(ExpectTimeout, match=r"'echo x{95}\.\.\.x{100}' not sent") as again:
            await asyncio.wait_for(s.execute(command), 30)
        assert len(str(again.value)) < 1000


async def test_execute_after_a_send_cut_short_is_bounded_by_its_timeout() -> None:
    # A send cut short (a caller's own time-out) to a child that reads no
    # input: its rest still fills the pipe, and the next execute's short
    # command, sent untimed, waited behind it for ever, past its timeout.
    script = "printf '$ '; exec sleep 60"
    async with aioexpect.spawn("sh", ["-c", script], pty=False, timeout=1) as s:
        await s.expect_prompt()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(s.send("x" * 2_000_000), 0.5)
        with pytest.raises(ExpectTimeout, match=r"'echo hi' not sent"):
            await asyncio.wait_for(s.execute("echo hi"), 30)  # (the old code: wait_for's own)
