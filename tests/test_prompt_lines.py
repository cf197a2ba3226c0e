"""A prompt of two lines (``\\u@\\h:\\w\\n\\$ ``, Kali's) or with a blank line
before it, drawn by bash's readline: the lines above the one the patterns
find are the prompt's, not the output's last lines.  Without readline's
evidence nothing changes: a one-line banner stays a banner, and every later
output keeps its last line.  Real shells in a pty, the in-process servers,
and scripted peers over the memory transport for what a shell cannot show
exactly."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import drivers
from aioexpect._ansi import strip_ansi
from aioexpect._prompt_text import drawn_above
from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

from .helpers import played, typed_lines, wait_until

#: The generic driver, and Kali's last line ``└─$`` (which it may not know).
KALI = drivers.get("generic").replace(
    name="kali-test",
    prompt_patterns=[*drivers.get("generic").prompt_patterns, drivers.prompt_pattern("└─[$#]")],
)

#: bash's PS1s, each with the driver that knows its last line.
BASH_PS1S = {
    "info-line": (r"alice@web1:\w\n$ ", "generic"),
    "directory-first": (r"[\w]\nalice@web1$ ", "generic"),
    "blank-line": (r"\nalice@web1:\w$ ", "generic"),
    "kali": ("┌──(alice㉿web1)-[\\w]\\n└─$ ", KALI),
}


def need_shell(name: str) -> None:
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed")


def shell_env(tmp_path: Path, ps1: str) -> dict[str, str]:
    return {"PS1": ps1, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm"}


async def check_two_lines(s: aioexpect.Session, *, glued: bool = True) -> None:
    """The commands of every case, in a home with ``sub`` in it."""
    assert await s.execute("echo hi") == "hi\n"
    assert await s.execute("true") == ""
    assert await s.execute("cd sub") == ""  # (the first line changes)
    assert await s.execute("printf 'a\\n\\n'") == "a\n\n"  # (its own blank line)
    if glued:
        assert await s.execute("printf x") == "x"
    assert await s.execute("cd ..") == ""
    assert await s.execute("echo done") == "done\n"


@pytest.mark.parametrize("case", sorted(BASH_PS1S))
async def test_bash_s_two_line_prompts_are_not_output(tmp_path: Path, case: str) -> None:
    # readline draws the lines above the last one after switching bracketed
    # paste on: they were the output's last lines, with no warning
    # ('hi\nalice@web1:~\n', and 'alice@web1:~\n' for 'true'; '\n' alone
    # with a blank line before the prompt).
    ps1, driver = BASH_PS1S[case]
    (tmp_path / "sub").mkdir()
    options: dict[str, Any] = {"cwd": tmp_path, "timeout": 5, "driver": driver}
    argv = ["--norc", "--noprofile"]
    async with aioexpect.spawn("bash", argv, env=shell_env(tmp_path, ps1), **options) as s:
        await check_two_lines(s)
        await s.sendline("echo z")
        m = await s.expect_prompt()  # its match holds the whole prompt
        assert strip_ansi(m.before).endswith("z\r\n")
        assert m.after.count("\n") == 1 and m.after.endswith("$ ")


@pytest.mark.parametrize("editing", [True, False], ids=["readline", "noediting"])
async def test_set_prompt_spanning_both_lines(tmp_path: Path, editing: bool) -> None:
    # The way out where readline does not say where the prompt begins
    # (--noediting; dash, zsh, devices alike): the pattern in the docs.
    (tmp_path / "sub").mkdir()
    env = shell_env(tmp_path, r"[\w]\nalice@web1$ ")
    argv = ["--norc", "--noprofile"] + ([] if editing else ["--noediting"])
    async with aioexpect.spawn("bash", argv, env=env, cwd=tmp_path, timeout=5) as s:
        s.set_prompt(r"(?m)^.*\[.*\]\r*\nalice@web1\$ \Z")
        await check_two_lines(s, glued=False)


async def test_without_readline_the_first_line_stays_output(tmp_path: Path) -> None:
    # What the docs say is not found: dash draws no switch, so its first
    # line is the output's last (set_unique_prompt is the way out).
    need_shell("dash")
    env = shell_env(tmp_path, "alice@web1\n$ ")
    async with aioexpect.spawn("dash", [], env=env, cwd=tmp_path, timeout=5) as s:
        assert await s.execute("echo hi") == "hi\nalice@web1\n"
        await s.set_unique_prompt()
        assert await s.execute("echo hi") == "hi\n"


# -- banners: nothing lost where no readline drew the prompt ----------------------------

#: A device whose one-line banner is its own name, and answers whose last
#: line begins or ends with it (the reverted rules dropped or cut them).
BANNER_COMMANDS = {
    r"show version \| include uptime": "core1 uptime is 5 weeks, 2 days",
    r"show running-config \| include hostname": "hostname core1",
    r"show motd": "core1",
    r"show clock": "*10:00:00.000 UTC Mon Nov 23 2026",
}


@pytest.mark.parametrize("kind", ["telnet", "ssh"])
@pytest.mark.parametrize("driver", ["generic", "ios"])
async def test_a_device_s_one_line_banner_takes_no_output(kind: str, driver: str) -> None:
    device = VirtualDevice("core1", prompt="core1#", banner="core1", commands=BANNER_COMMANDS)
    serve = serve_ssh if kind == "ssh" else serve_telnet
    async with serve(device) as server:
        options: dict[str, Any] = {"driver": driver, "timeout": 5}
        if kind == "ssh":
            opener = aioexpect.connect_ssh(
                "127.0.0.1", server.port, known_hosts=server.known_hosts, **options
            )
        else:
            opener = aioexpect.connect_telnet("127.0.0.1", server.port, **options)
        async with opener as s:
            for command in ("show clock", *(c.replace("\\", "") for c in BANNER_COMMANDS)):
                assert await s.execute(command) == await device.respond(command)


async def test_a_one_line_greeting_before_dash_takes_no_output() -> None:
    # sshd's 'Last login: ...' (or a setlocale warning) before a dash.
    need_shell("dash")
    line = "Last login: Mon Nov 23 07:00:01 2026 from 10.0.0.5"
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "PS1": "vm$ ", "HOME": "/tmp"}
    argv = ["-c", f"echo '{line}'; exec dash -i"]
    async with aioexpect.spawn("sh", argv, env=env, timeout=5) as s:
        last = "Last login: Sun Nov 22 from 10.0.0.7"
        assert await s.execute(f"printf 'users:\\n{last}\\n'") == f"users:\n{last}\n"
        assert await s.execute(f"echo 'previous: {line}'") == f"previous: {line}\n"
        assert await s.execute(f"echo '{line}'") == f"{line}\n"


async def test_expect_prompt_keeps_the_pattern_s_groups_after_a_banner() -> None:
    grp = drivers.get("generic").replace(
        name="grp", prompt_patterns=[re.compile(r"(?m)^(?P<host>[\w.-]+)#\s*\Z")]
    )
    device = VirtualDevice(
        "r1",
        prompt="r1#",
        banner="Authorized access only",
        commands={"show motd": "Authorized access only"},
    )
    async with (
        serve_telnet(device) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver=grp, timeout=5) as s,
    ):
        assert (await s.expect_prompt()).group("host") == "r1"
        await s.sendline("show motd")
        m = await s.expect_prompt()
        assert m.group("host") == "r1"
        assert m.before.endswith("Authorized access only\r\n")


async def test_a_device_s_blank_line_stays_output() -> None:
    # A device opening with a blank line: its answers keep their last one.
    run = "Building configuration...\n\nhostname r1\nend\n\n"
    device = VirtualDevice("r1", prompt="r1#", banner="\n", commands={"show run": run})
    async with (
        serve_telnet(device) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver="ios", timeout=5) as s,
    ):
        for _ in range(2):
            assert await s.execute("show run") == run


# -- readline's evidence, over scripted peers and as text -------------------------------


async def test_bracketed_paste_switched_on_after_the_prompt_says_nothing() -> None:
    # zsh (or a device) switches it on after its prompt: come late, after
    # the prompt was read, it is in front of the next command's echo, and
    # what follows it is no prompt's.
    late = "\x1b[K\x1b[?2004h"
    more = asyncio.Event()

    async def play(peer: Any) -> None:
        await peer.write(b"host% ")
        async for command in typed_lines(peer):
            await peer.write(f"{command}\r\n{command[5:]}\r\nhost% ".encode())
            await more.wait()  # (the session has read the prompt)
            more.clear()
            await peer.write(late.encode())

    async with played(play, timeout=5) as s:
        for word in ("a", "b", "a"):
            assert await s.execute(f"echo {word}") == f"{word}\n"
            more.set()
            await wait_until(lambda: s.buffer == late, "the switch came")


def test_readline_says_where_its_prompt_begins() -> None:
    # After bracketed paste on: the prompt's lines, whatever they show.
    drawn = "printf x\r\n\x1b[?2004l\rx\x1b[?2004h[/srv]\r\r\n"
    assert drawn_above(drawn, "alice@r1$ ", False) == drawn.index("[/srv]")
    # In front of the prompt's own line: none above it is the prompt's.
    assert drawn_above("alice@r1\r\n", "\x1b[?2004halice@r1$ ", False) == 10
    # Switched off since: a line was read, what follows is output.
    read = "\x1b[?2004hx\r\n\x1b[?2004l\ry\r\n"
    assert drawn_above(read, "$ ", False) == len(read)
    # Switched on after the last prompt, before the echo: zsh's, late.
    late = "\x1b[K\x1b[?2004hecho a\r\na\r\n"
    assert drawn_above(late, "host% ", False) == len(late)
    # ... but the session's first prompt, drawn by readline, has its lines.
    assert drawn_above("\x1b[?2004halice@r1:~\r\r\n", "$ ", True) == 8
    # More than four lines after it: output.
    many = "\x1b[?2004h" + "a\r\n" * 5
    assert drawn_above("x\r\n" + many, "$ ", False) == len(many) + 3
    # No switch at all (dash, a device): nothing.
    assert drawn_above("core1\r\n", "core1#", True) == 7
