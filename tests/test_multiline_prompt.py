"""A prompt of two lines drawn by zsh (``%n@%m %~\\n%# ``, powerlevel10k's,
starship's, pure's; a blank line before it; lines its precmd hooks print):
zsh begins each prompt with its end-of-line mark (``PROMPT_SP``) and its
line editor's clearing to the screen's end, so the lines above the one the
patterns find are the prompt's, not the output's last lines.  Real zsh in a
pty and behind the in-process SSH server, and the marks as text
(``drawn_above``); and the shells where nothing says where a prompt begins
(dash, mksh, ksh93, zsh without either), which keep the documented limit."""

from __future__ import annotations

import asyncio
import functools
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect._output import clean_output
from aioexpect._prompt_text import drawn_above

from .test_execute_count_enter import bash_in_a_pty
from .test_ssh import connect as connect_ssh
from .test_ssh import ssh_server

#: zsh's PROMPTs: (PROMPT, RPROMPT, the prompt's first line in ``~/sub``).
PROMPTS = {
    "info-line": ("%n@%m %~\n%# ", "", "{user}@{host} ~/sub"),
    "coloured": ("%F{blue}%n@%m%f %F{green}%~%f\n%# ", "", "{user}@{host} ~/sub"),
    "right-prompt": ("%n@%m %~\n%# ", "%F{yellow}[%T]%f", "{user}@{host} ~/sub"),
    "branch": ("[${BRANCH}] %~\n%n@%m%# ", "", "[main] ~/sub"),
    "blank-line": ("\n%n@%m %~ %# ", "", ""),
}


def need(name: str) -> None:
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed")


def zsh_env(home: Path, prompt: str, rprompt: str = "", term: str = "xterm") -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "TERM": term,
        "PROMPT": prompt,
        "RPROMPT": rprompt,
        "BRANCH": "main",
    }


@asynccontextmanager
async def zsh(via: str, env: dict[str, str], **options: Any) -> AsyncIterator[aioexpect.Session]:
    """zsh (``-f``, ``prompt_subst`` on) in a pty of ours, or of the
    in-process SSH server's, started in ``$HOME``."""
    argv = ("zsh", "-f", "-i", "-c", "setopt prompt_subst; cd; exec zsh -f -i -o prompt_subst")
    options.setdefault("timeout", 10)
    if via == "pty":
        async with aioexpect.spawn(argv[0], list(argv[1:]), env=env, **options) as s:
            yield s
        return
    sessions: list[asyncio.Future[Any]] = []
    shell = functools.partial(bash_in_a_pty, sessions, argv=argv, env=env)
    async with ssh_server(shell) as server:
        async with connect_ssh(server, **options) as s:
            yield s
        await asyncio.wait_for(asyncio.gather(*sessions), 10)  # (zsh reaped)


async def first_line(s: aioexpect.Session, template: str) -> str:
    """``template`` (a prompt's first line) for this shell's user and host."""
    user = await s.execute("print -r -- $USERNAME")
    host = await s.execute("print -r -- ${HOST%%.*}")
    return template.format(user=user.strip(), host=host.strip())


async def check_two_lines(s: aioexpect.Session, line: str) -> None:
    """Every case's commands, with ``sub`` in the home; ``line``: the
    prompt's first line in ``~/sub``."""
    assert await s.execute("echo hi") == "hi\n"
    assert await s.execute("true") == ""
    assert await s.execute("cd sub") == ""  # (the first line changes)
    assert await s.execute("printf 'a\\n\\n'") == "a\n\n"  # (its own blank line)
    assert await s.execute("printf x") == "x"  # (glued to the end-of-line mark)
    assert await s.execute("BRANCH=dev") == ""  # (a part that changes)
    # Output whose last line is the prompt's first line, or looks like it.
    shown = line.replace("main", "dev")
    assert await s.execute(f"print -r -- '{shown}'") == f"{shown}\n"
    assert await s.execute(f"print -rn -- '{shown}'") == shown
    assert await s.execute("print -r -- '[main] ~'") == "[main] ~\n"
    assert await s.execute("cd") == ""
    assert await s.execute("echo done; echo twice") == "done\ntwice\n"


@pytest.mark.parametrize("driver", ["generic", "shell", "auto"])
@pytest.mark.parametrize("case", sorted(PROMPTS))
@pytest.mark.parametrize("via", ["pty", "ssh"])
async def test_zsh_s_two_line_prompts_are_not_output(
    tmp_path: Path, via: str, case: str, driver: str
) -> None:
    # The old code: the first line ended every answer ('hi\nroot@vm ~\n',
    # 'root@vm ~\n' for 'true'; '\n' alone with a blank line before it).
    need("zsh")
    prompt, rprompt, template = PROMPTS[case]
    (tmp_path / "sub").mkdir()
    async with zsh(via, zsh_env(tmp_path, prompt, rprompt), driver=driver) as s:
        line = await first_line(s, template)
        await check_two_lines(s, line)
        await s.sendline("echo z")
        m = await s.expect_prompt()  # its match holds the whole prompt
        assert "\r\nz\r\n" in m.before and m.after.count("\n") == 1


@pytest.mark.parametrize("term", ["xterm-256color", "screen", "linux", "dumb"])
async def test_on_every_terminal_zsh_spells_its_marks(tmp_path: Path, term: str) -> None:
    # Its resets as the terminal spells them (standout off is ESC[23m on
    # screen, reset ESC[m^O on linux), and no clearing at all on a dumb one:
    # its end-of-line mark alone.  (The old code, on linux, one-line prompts
    # too: 'printf x' gave ' #', its mark's ^O unknown.)
    need("zsh")
    (tmp_path / "sub").mkdir()
    prompt, _, template = PROMPTS["info-line"]
    async with zsh("pty", zsh_env(tmp_path, prompt, term=term)) as s:
        await check_two_lines(s, await first_line(s, template))


@pytest.mark.parametrize(
    "options", ["unsetopt prompt_sp", "unsetopt prompt_cr", "PROMPT_EOL_MARK=''"]
)
async def test_zsh_s_options(tmp_path: Path, options: str) -> None:
    # Without its end-of-line mark its line editor still clears to the
    # screen's end before the prompt.
    need("zsh")
    (tmp_path / "sub").mkdir()
    prompt, _, template = PROMPTS["info-line"]
    async with zsh("pty", zsh_env(tmp_path, prompt)) as s:
        assert await s.execute(options) == ""
        line = await first_line(s, template)
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("cd sub") == ""
        assert await s.execute(f"print -r -- '{line}'") == f"{line}\n"
        if options != "unsetopt prompt_sp":  # (else the prompt overwrites it: \r)
            assert await s.execute("printf x") == "x"


#: Shells whose line editor, if any, says nothing of where a prompt begins,
#: and how to start them interactive (ksh93's emacs mode draws its first
#: prompt over with spaces and backspaces, which no pattern takes; zsh
#: without its line editor still draws its end-of-line mark, but no
#: PROMPT_CR after it: it reads as a line a program erased).
UNMARKED = {
    "dash": ["-i"],
    "mksh": ["-i"],
    "ksh93": ["-i", "+o", "emacs", "+o", "vi"],
    "zsh": ["-f", "-i", "+Z"],
}


@pytest.mark.parametrize("shell", sorted(UNMARKED))
async def test_where_nothing_says_where_a_prompt_begins(tmp_path: Path, shell: str) -> None:
    # What the docs say is not found: its first line is the output's last
    # (a line of output reads the same); the ways out are set_prompt with
    # both lines and set_unique_prompt.
    need(shell)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm", "ENV": ""}
    async with aioexpect.spawn(shell, UNMARKED[shell], env=env, timeout=10) as s:
        await s.execute("PS1=\"$(printf 'alice@web1 ~\\n$ ')\"")
        assert await s.execute("echo hi") == "hi\nalice@web1 ~\n"
        s.set_prompt(r"(?m)^.*alice@web1 ~\r*\n\$ \Z")
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("echo 'alice@web1 ~'") == "alice@web1 ~\n"
        s.set_prompt(None)
        await s.set_unique_prompt()
        assert await s.execute("echo hi") == "hi\n"


#: Hooks that print lines above a prompt: (the hook, PROMPT, its first line).
HOOKS = {
    "blank-line": ("precmd() { print }", "%n@%m %~ %# ", ""),
    "first-line": ("precmd() { print -rP -- '%n@%m %~' }", "%# ", "{user}@{host} ~/sub"),
}


@pytest.mark.parametrize("case", sorted(HOOKS))
async def test_lines_zsh_s_hooks_print_are_the_prompt_s(tmp_path: Path, case: str) -> None:
    # zsh runs precmd after its end-of-line mark (pure's and many themes'
    # first line, the usual blank line): the old code, 'hi\n\n'.
    need("zsh")
    (tmp_path / "sub").mkdir()
    hook, prompt, template = HOOKS[case]
    async with zsh("pty", zsh_env(tmp_path, prompt)) as s:
        assert await s.execute(hook) == ""
        assert await s.execute("echo hi") == "hi\n"
        await check_two_lines(s, await first_line(s, template))


#: Output that erases a line as zsh's end-of-line mark does (a progress
#: meter's \r spaces \r), or ends with colour resets and a clearing, then
#: lines: (the command, its answer).
ERASING = {
    "progress": ("printf 'get          \\r   \\rdone\\nl2\\nl3\\n'", "done\nl2\nl3\n"),
    "wide": ("printf 'get          \\r                \\rdone\\nl2\\n'", "done\nl2\n"),
    "resets": ("printf '\\033[0m\\033[0m\\033[J\\nkept1\\nkept2\\n'", "\nkept1\nkept2\n"),
    "glued": ("printf 'k0\\033[m\\033[m\\033[Jk1\\nk2\\n'", "k0k1\nk2\n"),
}


@pytest.mark.parametrize("shell", ["dash", "zsh"])
@pytest.mark.parametrize("case", sorted(ERASING))
async def test_output_that_erases_a_line_keeps_its_last_lines(
    tmp_path: Path, shell: str, case: str
) -> None:
    # No zsh mark without PROMPT_CR's \r after it, nor a clearing but as
    # zsh spells it.  (The branch before: on dash 'done\nl2\nl3\n' was 'p',
    # '\nkept1\nkept2\n' was '', 'k0k1\nk2\n' was 'k0'.)
    need(shell)
    command, answer = ERASING[case]
    args = ["-f", "-i"] if shell == "zsh" else ["-i"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm", "ENV": ""}
    env["PS1" if shell == "dash" else "PROMPT"] = "w1$ " if shell == "dash" else "%n@%m %~\n%# "
    async with aioexpect.spawn(shell, args, env=env, timeout=10) as s:
        assert await s.execute(command) == answer


async def test_one_line_prompts_stay_as_they_were(tmp_path: Path) -> None:
    # The mark in front of a prompt's only line takes no output.
    need("zsh")
    async with zsh("pty", zsh_env(tmp_path, "%n@%m %~ %# ")) as s:
        assert await s.execute("print -l a b") == "a\nb\n"
        assert await s.execute("printf 'a\\n\\n'") == "a\n\n"
        await s.sendline("echo z")
        m = await s.expect_prompt()
        assert "\n" not in m.after


# -- the marks, as text ------------------------------------------------------------------

#: What zsh writes in front of a prompt's first line (TERM=xterm), its
#: end-of-line mark first.
MARK = "\x1b[1m\x1b[7m%\x1b[27m\x1b[1m\x1b[0m" + " " * 79 + "\r \r"
DRAWS = "\r\x1b[0m\x1b[27m\x1b[24m\x1b[J"


def test_zsh_says_where_its_prompt_begins() -> None:
    # After its end-of-line mark: the prompt's, its line editor's clearing too.
    drawn = f"echo hi\x1b[?2004l\r\r\nhi\r\n{MARK}{DRAWS}alice@web1 ~\r\n"
    assert drawn_above(drawn, "% ", False) == drawn.index(DRAWS)
    # Output glued to the mark stays in front of it.
    glued = f"printf x\x1b[?2004l\r\r\nx{MARK}{DRAWS}alice@web1 ~\r\n"
    assert drawn_above(glued, "% ", False) == glued.index(DRAWS)
    # A blank first line; no clearing on a dumb terminal, the mark alone.
    blank = f"hi\r\n{MARK}{DRAWS}\r\n"
    assert drawn_above(blank, "alice@web1 ~ % ", False) == blank.index(DRAWS)
    dumb = "hi\r\n%" + " " * 79 + "\r \r\ralice@web1 ~\r\n"
    assert drawn_above(dumb, "% ", False) == dumb.index("\ralice")
    # No mark (unsetopt prompt_sp): from the clearing on.
    cleared = f"hi\r\n{DRAWS}alice@web1 ~\r\n"
    assert drawn_above(cleared, "% ", False) == cleared.index("alice")
    # A hook's lines (precmd) come between the mark and the clearing, which
    # then ends the text in front of the prompt's last line.
    hooked = f"hi\r\n{MARK}[~]\r\n{DRAWS}"
    assert drawn_above(hooked, "alice@web1 % ", False) == hooked.index("[~]")
    hooked = f"hi\r\n{MARK}[~]\r\n\r"  # (the clearing taken by the pattern)
    assert drawn_above(hooked, f"{DRAWS[1:]}alice@web1 % ", False) == hooked.index("[~]")
    # ... but with no line between, the prompt is one line.
    assert drawn_above(f"hi\r\n{MARK}{DRAWS}", "alice@web1 % ", False) == len(
        f"hi\r\n{MARK}{DRAWS}"
    )
    # More than four lines after it: output (no prompt of zsh's).
    many = f"{DRAWS}" + "a\r\n" * 5
    assert drawn_above(many, "% ", False) == len(many)
    # Spaces and a line end in output, a colour reset then a line, a pager's
    # prompt erased then a line of spaces: no mark.
    erased = "---(more)---\r" + " " * 40 + "\r   \r\nb\r\n"
    for output in ("a  \r\r\nb\r\n", "a" + " " * 20 + "\r\r\nb\r\n", "\x1b[0mb\r\n", erased):
        assert drawn_above(output, "$ ", False) == len(output)
    # A line erased as the mark is (a progress meter's, a mark printed by a
    # command, a pty's \r before each line end), then lines; resets that
    # are not zsh's clearing; zsh without its line editor (no PROMPT_CR's
    # \r after the mark): output, all of it.
    spaces = "get" + " " * 10
    for output in (
        f"{spaces}\r   \rdone\r\nl2\r\n",
        f"{spaces}\r \r\r\nl2\r\n",
        f"{spaces}\r \r\r\n\r\nl2\r\n",
        "\x1b[0m\x1b[0m\x1b[J\r\nkept\r\n",
        "k0\x1b[m\x1b[m\x1b[Jk1\r\n",
        f"hi\r\n{MARK}alice@web1 ~\r\n",
    ):
        assert drawn_above(output, "$ ", False) == len(output)


def test_zsh_s_end_of_line_mark_as_a_linux_console_spells_it() -> None:
    # Its bold inverse ends with ESC[m^O there (NUL-padded on vt100): the
    # old code left the mark, which then overwrote the output ('x' was ' #').
    for spaces, off, pad in ((" " * 79, "\x1b[m\x0f", ""), (" " * 79, "\x1b[m", "\x00" * 8)):
        mark = f"\x1b[1m{pad}\x1b[7m{pad}#{off}{pad}\x1b[1m{pad}{off}{pad}"
        raw = f"printf x\r\nx{mark}{spaces}\r \r\r{off}{pad}\x1b[27m\x1b[24m\x1b[J{pad}"
        assert clean_output(raw, "printf x") == "x"
