"""A prompt of two lines (``\\u@\\h:\\w\\n\\$ ``, Kali's) or with a blank line
before it: the lines above the one the patterns find are the prompt's, not
the output's last lines.  Real shells in a pty, and scripted peers over the
memory transport for what a shell cannot show exactly (banners, a device's
blank line, chunks)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import drivers
from aioexpect._ansi import strip_ansi
from aioexpect._prompt_text import lines_above

from .helpers import played, typed_lines, wait_until
from .splits import splits

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
    env = {"PS1": ps1, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm"}
    options: dict[str, Any] = {"cwd": tmp_path, "timeout": 5, "driver": driver}
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, **options) as s:
        await check_two_lines(s)
        await s.sendline("echo z")
        m = await s.expect_prompt()  # its match holds the whole prompt
        assert strip_ansi(m.before).endswith("z\r\n")
        assert m.after.count("\n") == 1 and m.after.endswith("$ ")


#: Shells with no line editor that says where the prompt begins: its first
#: line (or blank line) is the one above the first prompt, seen again.
PLAIN = {
    "bash-info-line": ("bash", ["--norc", "--noprofile", "--noediting"], r"alice@web1:\w\n$ "),
    "bash-blank-line": ("bash", ["--norc", "--noprofile", "--noediting"], r"\nalice@web1:\w$ "),
    "dash": ("dash", [], "alice@web1\n$ "),
    "zsh-info-line": ("zsh", ["-f"], "alice@web1:%~\n$ "),
    "zsh-blank-line": ("zsh", ["-f"], "\nalice@web1:%~$ "),
    "zsh-kali": ("zsh", ["-f"], "┌──(alice㉿web1)-[%~]\n└─$ "),
}


@pytest.mark.parametrize("case", sorted(PLAIN))
async def test_two_line_prompts_of_shells_without_readline(tmp_path: Path, case: str) -> None:
    # dash, bash --noediting, zsh (whose PROMPT_SP comes before the first
    # line): the same as with readline.  After 'printf x' the blank line is
    # x's line end: bash's and dash's blank line is then not known to be
    # the prompt's any more (zsh's PROMPT_SP shows where its line begins).
    shell, argv, ps1 = PLAIN[case]
    need_shell(shell)
    (tmp_path / "sub").mkdir()
    env = {"PS1": ps1, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm"}
    driver = KALI if "kali" in case else "generic"
    options: dict[str, Any] = {"cwd": tmp_path, "timeout": 5, "driver": driver}
    async with aioexpect.spawn(shell, argv, env=env, **options) as s:
        await check_two_lines(s, glued=not case.startswith("bash-blank"))


@pytest.mark.parametrize("editing", [True, False], ids=["readline", "noediting"])
async def test_set_prompt_spanning_both_lines(tmp_path: Path, editing: bool) -> None:
    # The way out where the first line is not found again (it begins with
    # the directory, and no readline draws it): the pattern in the docs.
    (tmp_path / "sub").mkdir()
    env = {
        "PS1": r"[\w]\nalice@web1$ ",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TERM": "xterm",
    }
    argv = ["--norc", "--noprofile"] + ([] if editing else ["--noediting"])
    async with aioexpect.spawn("bash", argv, env=env, cwd=tmp_path, timeout=5) as s:
        s.set_prompt(r"(?m)^.*\[.*\]\r*\nalice@web1\$ \Z")
        await check_two_lines(s, glued=False)


# -- scripted peers ----------------------------------------------------------------------


def device(greeting: str, reply: Callable[[str], str]) -> Callable[[Any], Any]:
    """A peer that sends ``greeting``, then echoes each line and sends
    ``reply(line)`` (output and prompt); for ``split ...`` one byte at a
    time (the session, with ``limit=0``, reads each before the next)."""

    async def play(peer: Any) -> None:
        await peer.write(greeting.encode())
        async for line in typed_lines(peer):
            command = line.removeprefix("split ")
            data = f"{line}\r\n{reply(command)}".encode()
            for _, chunks in splits(data, seeds=range(0)):
                if (len(chunks) > 1) == (command != line):  # (bytewise, or whole)
                    for chunk in chunks:
                        await peer.write(chunk)

    return play


@pytest.mark.parametrize("greeting", ["r1# ", "Welcome\r\nto r1\r\nr1# "])
async def test_lines_like_no_first_prompt_line_stay_output(greeting: str) -> None:
    # A prompt of one line, nothing above the first: 'hi' above every
    # prompt is output, however often.  A banner's last line (more came
    # before it) is output where a command prints it last.
    async with played(device(greeting, lambda line: f"{line[5:]}\r\nr1# "), timeout=5) as s:
        for _ in range(3):
            assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("echo to r1") == "to r1\n"


async def test_a_device_s_blank_line_before_every_prompt() -> None:
    # Its blank line is the prompt's (the output's own blank line stays)
    # until a prompt comes without one: from then on it is output.
    blank = True

    def reply(line: str) -> str:
        out = {"show a": "a\r\n", "show gap": "a\r\n\r\n", "show b": "b\r\n"}[line]
        return out + ("\r\n" if blank else "") + "r1# "

    async with played(device("\r\nr1# ", reply), limit=0, timeout=5) as s:
        assert await s.execute("show a") == "a\n"
        assert await s.execute("show gap") == "a\n\n"
        assert await s.execute("split show a") == "a\n"
        blank = False
        assert await s.execute("show b") == "b\n"
        blank = True
        assert await s.execute("show a") == "a\n\n"


async def test_a_device_s_two_line_prompt_found_again_changed_or_glued() -> None:
    # The line above the first prompt, with nothing before it, is the
    # prompt's where it is seen again: as it was, changed after its host's
    # name ('alice@r1:'), or with output glued to it.
    where = "/"

    def reply(line: str) -> str:
        nonlocal where
        where = line[3:] if line.startswith("cd ") else where
        return {"show x": "x\r\n", "glued": "x"}.get(line, "") + f"alice@r1:{where}\r\n$ "

    async with played(device("alice@r1:/\r\n$ ", reply), limit=0, timeout=5) as s:
        assert await s.execute("show x") == "x\n"
        assert await s.execute("cd /tmp") == ""
        assert await s.execute("split show x") == "x\n"
        assert await s.execute("glued") == "x"
        assert await s.execute("split cd /srv") == ""
        assert await s.execute("show x") == "x\n"


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


# -- the rules, as text ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "head", "expected"),
    [
        ("out\r\nalice@r1:/srv\r\n", "alice@r1:/tmp", (5, "alice@r1:/srv")),
        ("out\r\nxalice@r1:/tmp\r\n", "alice@r1:/tmp", (6, "alice@r1:/tmp")),
        ("out\r\n\r\n", "", (5, "")),
        # output: alike in its host alone, glued to a changed first line, a
        # line that shows where a blank one was (no blank one looked for then)
        ("out\r\nalice@r1 is up\r\n", "alice@r1:/tmp", (21, "alice@r1:/tmp")),
        ("out\r\nxalice@r1:/srv\r\n", "alice@r1:/tmp", (21, "alice@r1:/tmp")),
        ("x\r\nout\r\n", "", (8, None)),
        # the line a command was typed on, after the last prompt: no line
        ("\r\n", "", (2, "")),
    ],
)
def test_the_line_above_a_prompt(before: str, head: str, expected: tuple[int, str]) -> None:
    assert lines_above(before, "$ ", head, True, False) == expected


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("alice@r1:/\r\n", "alice@r1:/"),
        ("\r\n", ""),
        # zsh: PROMPT_SP, then the first line
        ("\x1b[7m%\x1b[0m" + " " * 79 + "\r \r\r\x1b[J[r1]\r\n", "[r1]"),
        ("Welcome\r\nalice@r1:/\r\n", None),  # (a banner's line, or the prompt's?)
        ("ok\r\n", None),  # (too short to tell)
    ],
)
def test_the_line_above_the_first_prompt(before: str, expected: str | None) -> None:
    assert lines_above(before, "$ ", None, False, True) == (len(before), expected)
    assert lines_above(before, "$ ", None, True, True) == (len(before), None)  # (asked)


def test_readline_says_where_its_prompt_begins() -> None:
    # After bracketed paste on: the prompt's lines, whatever they show.
    drawn = "printf x\r\n\x1b[?2004l\rx\x1b[?2004h[/srv]\r\r\n"
    at = drawn.index("[/srv]")
    assert lines_above(drawn, "alice@r1$ ", "alice@r1", True, False) == (at, "alice@r1")
    # In front of the prompt's own line: none above it is the prompt's.
    assert lines_above("alice@r1\r\n", "\x1b[?2004halice@r1$ ", "alice@r1", True, False) == (
        10,
        "alice@r1",
    )
    # Switched off since: a line was read, what follows is output.
    read = "\x1b[?2004hx\r\n\x1b[?2004l\ry\r\n"
    assert lines_above(read, "$ ", None, True, False) == (len(read), None)
    # Switched on after the last prompt, before the echo: zsh's, late.
    late = "\x1b[K\x1b[?2004hecho a\r\na\r\n"
    assert lines_above(late, "host% ", None, True, False) == (len(late), None)
    # ... but the session's first prompt, drawn by readline, has its lines.
    first = "\x1b[?2004halice@r1:~\r\r\n"
    assert lines_above(first, "$ ", None, False, True) == (8, None)
