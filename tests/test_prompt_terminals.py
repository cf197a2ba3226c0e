"""Prompts on other terminals and shells: the NULs with which zsh, bash's
readline and ``tput`` pad their sequences on vt100 and vt220 (terminfo's
delays), and ksh93's line editor drawing its first prompt again with
spaces and backspaces.  Real shells in a pty and behind the in-process SSH
server; the text rules (``render``) alone."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect._output import render
from aioexpect.drivers._builtin import SHELL

from .test_execute_count_enter import bash_in_a_pty
from .test_multiline_prompt import (
    PROMPTS,
    check_two_lines,
    first_line,
    need,
    zsh,
    zsh_env,
)
from .test_ssh import connect as connect_ssh
from .test_ssh import ssh_server
from .test_telnet import connect as connect_telnet
from .test_telnet import raw_server

#: zsh's one-line prompts: plain, bold and coloured (its colours padded
#: too on vt100), a user's ``%``.
ONE_LINE = {
    "plain": "%n@%m %~ %# ",
    "bold": "%B%n@%m%b %F{blue}%~%f %# ",
    "percent": "%n@%m %~ %% ",
}


@pytest.mark.parametrize("term", ["vt100", "vt220"])
@pytest.mark.parametrize("case", sorted(ONE_LINE))
@pytest.mark.parametrize("via", ["pty", "ssh"])
async def test_zsh_s_padded_prompts_are_found(
    tmp_path: Path, via: str, case: str, term: str
) -> None:
    # The old code found no prompt at all: NULs after ESC[K (vt100) or after
    # its colour reset (vt220) ended every match; every execute timed out.
    need("zsh")
    (tmp_path / "sub").mkdir()
    async with zsh(via, zsh_env(tmp_path, ONE_LINE[case], term=term)) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("true") == ""
        assert await s.execute("printf x") == "x"  # (glued to its end-of-line mark)
        assert await s.execute("cd sub") == ""
        assert await s.execute("printf 'a\\n\\n'") == "a\n\n"
        assert await s.execute("echo " + "a" * 90) == "a" * 90 + "\n"  # (wrapped: ESC[K)
        # Padding is no output; a program's own NULs are.
        assert await s.execute("tput bold; echo x; tput sgr0; tput el") == "x\n"
        assert await s.execute("printf 'a\\0b\\0\\n'") == "a\x00b\x00\n"


@pytest.mark.parametrize("term", ["vt100", "vt220"])
@pytest.mark.parametrize("case", ["info-line", "coloured", "right-prompt"])
async def test_zsh_s_padded_two_line_prompts(tmp_path: Path, case: str, term: str) -> None:
    # Its line editor's clearing (ESC[J, then 213 NULs on vt100) before the
    # prompt: the lines above the last are still the prompt's.
    need("zsh")
    (tmp_path / "sub").mkdir()
    prompt, rprompt, template = PROMPTS[case]
    async with zsh("pty", zsh_env(tmp_path, prompt, rprompt, term=term)) as s:
        await check_two_lines(s, await first_line(s, template))


@pytest.mark.parametrize("term", ["vt100", "vt220", "linux", "screen", "xterm"])
async def test_bash_s_prompt_after_a_long_line_on_any_terminal(term: str) -> None:
    # After a line wider than the terminal readline clears the rest of a
    # prompt with invisible parts: ESC[K, then 12 NULs on vt100, which the
    # old code's prompt did not end with (a time-out).
    need("bash")
    ps1 = "\\[\\e[1m\\]\\u@\\h\\[\\e[0m\\]:\\w\\$ "
    env = {"PATH": "/usr/bin:/bin", "TERM": term, "PS1": ps1, "HOME": "/"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile", "-i"], env=env, timeout=10) as s:
        long = "a" * 90
        assert await s.execute(f"echo {long}") == f"{long}\n"
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("tput clear; echo hi") == "hi\n"  # (ESC[J, 213 NULs)
        assert await s.execute("printf 'a\\0b'") == "a\x00b"


def test_padding_is_no_output_a_program_s_nuls_are() -> None:
    # The old code dropped every NUL: a program's too.
    assert render("\x1b[1m\x00\x00x\x1b[m\x0f\x00\x00y\x1b[K" + "\x00" * 12) == "xy"
    assert render("a\x00b\x00\r\n\x00\x00\r\n") == "a\x00b\x00\n\x00\x00\n"
    assert render("\x1b(B\x00\x00a\x1b[J" + "\x00" * 213 + "b\x00") == "ab\x00"
    assert render("50%\r\x00100%\r\nabc\r\x00\r\n") == "100%\nabc\n"  # (telnet's bare CR)
    assert render("\x1b[?2004l\r\x00\x00x\r\n") == "\x00\x00x\n"  # (a program's, at its start)


async def test_a_bare_carriage_return_s_nul_is_no_output() -> None:
    # Telnet's NVT sends a bare CR as CR NUL; a console reached through a
    # raw bridge (nc, a terminal server's port) passes it on as it is: that
    # NUL was taken for a program's, kept where it stood, and overwrote the
    # line's first character ('\x00100%', '\x00ne'), which was dropped
    # before padding was told from a program's NULs.
    need("bash")
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "PS1": "$ ", "HOME": "/"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile", "-i"], env=env, timeout=10) as s:
        assert await s.execute("printf '50%%\\r\\0'; printf '100%%\\n'") == "100%\n"
        assert await s.execute("printf 'one\\r\\0\\n'") == "one\n"
        assert await s.execute("printf 'a\\0\\rb\\n'") == "b\x00\n"  # (a program's, then a CR)
        # (bash's ESC[?2004l\r in front of the output: its NULs are the program's)
        assert await s.execute("printf '\\0\\0x\\n'") == "\x00\x00x\n"
        assert await s.execute("head -c 3 /dev/zero") == "\x00" * 3


async def test_telnet_s_bare_carriage_return_is_no_nul_in_answers() -> None:
    # The same from an NVT peer itself (binary refused): the transport drops
    # the NULs it sends.

    async def nvt_shell(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfb\x01")  # WILL ECHO: a telnet peer
        assert await reader.readexactly(6) == b"\xff\xfd\x01\xff\xfb\x00"  # DO ECHO, WILL BINARY
        writer.write(b"\xff\xfe\x00$ ")  # DONT BINARY: the NVT both ways
        while line := (await reader.readuntil(b"\r\n"))[:-2]:
            out = {b"progress": b"50%\r\x00100%\r\n", b"undone": b"one\r\x00\r\n"}[line]
            writer.write(line + b"\r\n" + out + b"$ ")

    async with raw_server(nvt_shell) as port, connect_telnet(port) as s:
        assert await s.execute("progress") == "100%\n"
        assert await s.execute("undone") == "one\n"


def test_what_may_come_before_and_after_a_prompt_as_text() -> None:
    # Padding before the prompt, of any length (ESC[J's); within and after
    # it, bounded; eight window titles or shell-integration marks in front;
    # zsh's continuation prompt, padded, is still none.
    title = "\x1b]0;alice@web1: ~\x07"
    found = (
        "\r\x1b[0m" + "\x00" * 8 + "\x1b[J" + "\x00" * 640 + "alice@web1:~$ \x1b[K" + "\x00" * 12,
        "\r\x1b[1m" + "\x00" * 25 + "alice@web1\x1b[m\x0f" + "\x00" * 25 + ":~$ ",
        f"\r\x1b]133;A\x07\x1b]7;file://web1/home\x07{title}\x1b[32malice@web1:~$ ",
        "\r" + "".join(f"\x1b]1337;CurrentDir=/{'d' * 180}{i}\x07" for i in range(8)) + "a:~$ ",
        "\r\x1b[1m\x00\x00a:~$\x1b[m" + "\x00" * 26 + " \x1b[K" + "\x00" * 26 + "\x1b[m\x1b[?2004h",
    )
    for text in found:
        assert any(p.search(text) for p in SHELL.prompt_patterns), repr(text)
    for text in ("\rquote> \x1b[K" + "\x00" * 12, "\x1b[J" + "\x00" * 12 + "dquote> "):
        assert not any(p.search(text) for p in SHELL.prompt_patterns), repr(text)


#: What shell integrations write in front of a prompt (iTerm2's, VS Code's,
#: WezTerm's, as their bash scripts do): before it (``PROMPT_COMMAND``), and
#: in ``PS1``.  (Not the mark they write after it, OSC 133's or 633's ``B``:
#: no prompt is found with it, as before; see the docs.)
INTEGRATIONS = {
    "iterm2": (
        r'printf "\e]133;D;%s\a\e]1337;RemoteHost=%s@%s\a\e]1337;CurrentDir=%s\a'
        r'\e]1337;ShellIntegrationVersion=14;shell=bash\a" "$?" alice web1 "$PWD"',
        r"\[\e]133;A\a\]\u@web1:\w\$ ",
    ),
    "vscode": (
        r'printf "\e]633;D;%s\a\e]633;P;Cwd=%s\a" "$?" "$PWD"',
        r"\[\e]0;\u@web1: \w\a\]\[\e]633;A\a\]\u@web1:\w\$ ",
    ),
    "wezterm": (
        r'printf "\e]133;D;%s;aid=%s\a\e]7;file://web1%s\a\e]133;A;cl=m;aid=%s\a"'
        r' "$?" "$$" "$PWD" "$$"',
        r"\[\e]133;P;k=i\a\]\[\e[32m\]\u@web1\[\e[0m\]:\w\$ ",
    ),
}


@pytest.mark.parametrize("name", sorted(INTEGRATIONS))
async def test_bash_s_prompt_behind_a_terminal_s_shell_integration_marks(name: str) -> None:
    # Four or five marks and titles in front of the prompt: with three at
    # most (taken to keep the patterns narrow with padding) none of these
    # prompts was found (a time-out), which were found before.
    need("bash")
    command, ps1 = INTEGRATIONS[name]
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "PS1": ps1, "HOME": "/", "USER": "alice"}
    env["PROMPT_COMMAND"] = command
    async with aioexpect.spawn("bash", ["--norc", "--noprofile", "-i"], env=env, timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("false") == ""
        assert await s.execute("cd /tmp") == ""
        assert await s.execute("printf 'a\\nb'") == "a\nb"


#: ksh93 with either editor, and as it starts in a terminal (emacs):
KSH_EDITORS = {"emacs": ["-i", "-o", "emacs"], "vi": ["-i", "-o", "vi"], "default": ["-i"]}


@asynccontextmanager
async def ksh93(via: str, argv: list[str], env: dict[str, str]) -> AsyncIterator[aioexpect.Session]:
    """ksh93 in a pty of ours, or of the in-process SSH server's."""
    if via == "pty":
        async with aioexpect.spawn("ksh93", argv, env=env, timeout=5) as s:
            yield s
        return
    sessions: list[asyncio.Future[Any]] = []
    shell = functools.partial(bash_in_a_pty, sessions, argv=("ksh93", *argv), env=env)
    async with ssh_server(shell) as server:
        async with connect_ssh(server, timeout=5) as s:
            yield s
        await asyncio.wait_for(asyncio.gather(*sessions), 10)  # (ksh93 reaped)


@pytest.mark.parametrize("editor", sorted(KSH_EDITORS))
@pytest.mark.parametrize("prompt", ["$ ", "user@host:~$ ", "vm:~> "])
@pytest.mark.parametrize("via", ["pty", "ssh"])
async def test_ksh93_s_first_prompt_drawn_again_is_found(
    via: str, prompt: str, editor: str
) -> None:
    # Its editor draws the first prompt again (\r ESC[J \r, the prompt,
    # spaces to the last column and backspaces back): the old code found
    # none, and the first execute timed out.  (The test waits for that
    # redraw to be buffered: one read may end before it, and a command sent
    # before the editor reads be echoed twice, as before; see the docs.)
    need("ksh93")
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "PS1": prompt, "HOME": "/", "ENV": ""}
    async with ksh93(via, KSH_EDITORS[editor], env) as s:
        redrawn = asyncio.Event()
        s.add_monitor(r"\x08{8}", lambda *_: redrawn.set())
        await asyncio.wait_for(redrawn.wait(), 5)
        m = await s.expect_prompt()
        assert m.before.endswith("\r\x1b[J\r") and m.after.startswith(prompt)
        assert await s.execute("echo hi") == "hi\n"


async def test_output_shaped_like_a_prompt_drawn_again_is_output() -> None:
    # A line shaped like a prompt, then spaces and backspaces, where a read
    # ends: taken for ksh93's first prompt drawn again, it ended the answer
    # ('a\n'; the rest went to the next command's).  ksh93 starts its
    # redraw with a carriage return, never right after a line end.
    need("bash")
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "PS1": "\\u@h:\\w\\$ ", "HOME": "/"}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile", "-i"], env=env, timeout=10) as s:
        command = "printf 'a\\nuser@h:~$  \\b'; sleep 0.3; echo done"
        assert await s.execute(command) == "a\nuser@h:~$ done\n"
        assert await s.execute("echo next") == "next\n"


def test_ksh93_s_redraw_as_text() -> None:
    # Its spaces and backspaces after the prompt, at any width; other
    # shells' prompts and output as they were.
    for prompt, width in (("$ ", 80), ("user@host:~$ ", 80), ("vm:~> ", 40), ("$ ", 160)):
        spaces = width - 1 - len(prompt.rstrip())
        text = f"{prompt}\r\x1b[J\r{prompt.rstrip()}" + " " * spaces + "\x08" * (spaces - 1)
        found = [p.search(text) for p in SHELL.prompt_patterns]
        assert any(m is not None and m.group().startswith(prompt) for m in found)
    for text in ("done\r\n", "a b\x08\x08", "ab 45%  \x08\x08"):
        assert not any(p.search(text) for p in SHELL.prompt_patterns)


#: A shell whose editor draws its prompt again late, once the line typed at
#: the first one arrives (ksh93's redraw on a busy machine), then pauses
#: before its echo: a read may end between the two.
LATE_REDRAW = r"""
import os, sys, termios, time
attrs = termios.tcgetattr(0)
attrs[3] &= ~(termios.ECHO | termios.ICANON)
termios.tcsetattr(0, termios.TCSANOW, attrs)
os.write(1, b"$ ")
first = os.read(0, 1)
os.write(1, b"\r\x1b[J\r$" + b" " * 78 + b"\x08" * 77)
time.sleep(0.05)
line = first
while True:
    while not line.endswith(b"\n"):
        line += os.read(0, 1)
    os.write(1, line.rstrip(b"\n") + b"\r\n" + line[5:].rstrip(b"\n") + b"\r\n$ ")
    line = b""
"""


async def test_a_prompt_drawn_again_in_front_of_the_echo_is_no_answer() -> None:
    # Its spaces and backspaces end a read before the echo: that is the
    # prompt drawn again, not the end of the answer ('' without this, and
    # each next answer the one before).
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm"}
    async with aioexpect.spawn("python3", ["-c", LATE_REDRAW], env=env, timeout=5) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("echo ho") == "ho\n"
