"""zsh's right prompt (``RPROMPT``, ``RPS1``), which many oh-my-zsh, prezto
and powerlevel themes set: zsh draws the prompt, then (in a write of its
own) ``ESC[K``, a move right to the margin, the right prompt, and a move
left back to the prompt's end.  The generic and shell drivers took it for
output after the prompt: no prompt found (``ExpectTimeout``); or, where a
read ended between the two writes, the prompt found and the right prompt
left in front of the next command's echo, in its answer."""

from __future__ import annotations

import asyncio
import functools
import itertools
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import aioexpect
from aioexpect import drivers
from aioexpect._ansi import AnsiStripper, strip_ansi
from aioexpect._buffer import Buffer
from aioexpect._matcher import Searcher
from aioexpect._output import clean_output
from aioexpect._prompt_text import changed_prompt
from aioexpect._receive import RIGHT_WAIT

from .helpers import opened
from .splits import splits
from .test_execute_count_enter import bash_in_a_pty
from .test_prompts import feed, visible
from .test_ssh import connect as connect_ssh
from .test_ssh import ssh_server

#: zsh 5.9's bytes at 80 columns (TERM=xterm), captured from a pty: PS1
#: ``%n@%m %~ %# `` and RPROMPT ``[%T]``, in zsh's three writes (the
#: PROMPT_SP mark and its spaces, the prompt, the right prompt), then the
#: bracketed paste switch (the prompt's write begins with ``\r``: here in
#: ``BEFORE``, as the patterns take it).
EOL_MARK = "\x1b[1m\x1b[7m#\x1b[27m\x1b[1m\x1b[0m" + " " * 79 + "\r \r"
PS1 = "\x1b[0m\x1b[27m\x1b[24m\x1b[Jroot@vm ~ # "
RIGHT = "\x1b[K\x1b[60C[23:27]\x1b[67D"
PASTE = "\x1b[?2004h"
#: powerlevel9k's right prompt (``status root_indicator background_jobs
#: history time``, in its ``compatible`` mode), as zsh 5.9 drew it, and
#: the modes zsh set after it.
P9K = (
    "\x1b[39m\x1b[0m\x1b[49m\x1b[30m⮂\x1b[39m\x1b[40m\x1b[32m \x1b[32m✔ \x1b[39m\x1b[33m\ue0b3"
    "\x1b[39m\x1b[40m\x1b[33m \x1b[33m⚡ \x1b[39m\x1b[38;5;244m⮂\x1b[39m\x1b[48;5;244m\x1b[30m 1 "
    "\x1b[39m\x1b[37m⮂\x1b[39m\x1b[47m\x1b[30m 03:16:46\x1b[K\x1b[00m\x1b[39m\x1b[49m"
)
P9K_MODES = "\x1b[?1h\x1b=" + PASTE
#: The right prompts zsh drew for other settings: coloured ``%F{yellow}%~
#: %*%f`` after a coloured PS1, transient_rprompt's (the same, erased with
#: ``ESC[K`` once Enter is pressed), vt100's (NUL padding), a user's ``%``,
#: one with characters of no width.
CAPTURED = {
    "plain": PS1 + RIGHT + PASTE,
    "coloured": "\x1b[0m\x1b[27m\x1b[24m\x1b[J\x1b[32mroot@vm\x1b[39m /tmp # "
    "\x1b[K\x1b[51C\x1b[33m/tmp 23:27:21\x1b[39m\x1b[64D" + PASTE,
    "transient": "\x1b[0m\x1b[27m\x1b[24m\x1b[J# \x1b[K\x1b[74C[~]\x1b[77D" + PASTE,
    "vt100": "\x1b[0m\x1b[27m\x1b[24m\x1b[J# \x1b[K" + "\x00" * 12 + "\x1b[74C[~]\x1b[77D" + PASTE,
    "user": "\x1b[0m\x1b[27m\x1b[24m\x1b[J% \x1b[K\x1b[74C[~]\x1b[77D" + PASTE,
    # (characters of no width, which zsh counts none: an emoji's variation
    # selector, ``✔️``, and a zero-width joiner)
    "zero-width": "\x1b[0m\x1b[27m\x1b[24m\x1b[J# \x1b[K\x1b[69C\u2714\ufe0f [~] a\u200db\x1b[77D"
    + PASTE,
    # (powerlevel9k's five segments, 38 runs of text and colours, an
    # ESC[K among them; with ZLE_RPROMPT_INDENT=0, to the last column,
    # then back with \r, zsh's colours reset, and a move right)
    "powerlevel9k": "\x1b[0m\x1b[27m\x1b[24m\x1b[J# \x1b[K\x1b[54C" + P9K + "\x1b[77D" + P9K_MODES,
    "indent0": "\x1b[0m\x1b[27m\x1b[24m\x1b[J# \x1b[K\x1b[75C[~]\r\x1b[2C" + PASTE,
    "indent0-p9k": "\x1b[0m\x1b[27m\x1b[24m\x1b[J# \x1b[K\x1b[55C"
    + P9K[: -len("\x1b[39m\x1b[49m")]
    + "\r\x1b[39m\x1b[49m\x1b[2C"
    + P9K_MODES,
}
BEFORE = "e\x08echo hi\x1b[?2004l\r\r\nhi\r\n" + EOL_MARK + "\r"


@pytest.mark.parametrize("name", ["generic", "shell"])
@pytest.mark.parametrize("case", sorted(CAPTURED))
def test_a_prompt_with_a_right_prompt_is_found_in_any_split(case: str, name: str) -> None:
    # Where a chunk ends before the right prompt, the prompt is found
    # without it (as zsh's own writes may come); else with all of it.
    prompt = CAPTURED[case]
    patterns = drivers.get(name).prompt_patterns
    for label, chunks in splits(prompt):
        # (zsh's PROMPT_SP mark, a bold '#', passes for a bare prompt cut short)
        found = feed(patterns, [BEFORE, *chunks])
        assert found is not None, f"{case}/{name}: no prompt ({label})"
        before, after = found
        assert before == BEFORE, (label, before, after)
        assert prompt.startswith(after), (label, after)
    assert feed(patterns, [BEFORE + prompt]) == (BEFORE, prompt)


#: Output with cursor moves that is no prompt with a right prompt: a move
#: right alone (a table), a move left alone, both on a line that ends, a
#: right prompt with a line end in it, text after the move left.
NOT_RIGHT_PROMPTS = [
    "user@host:~$ \x1b[10Cfree text",
    "user@host:~$ free\x1b[4D",
    "user@host:~$ \x1b[10Cx\x1b[11D\r\n",
    "% \x1b[10Cx\r\ny\x1b[11D",
    "host% \x1b[10C[12:00]\x1b[17Dtyped",
    "45% \x1b[10C[12:00]\x1b[17D",
    "Downloading 45% \x1b[10C[12:00]\x1b[17D",
]


@pytest.mark.parametrize("text", NOT_RIGHT_PROMPTS, ids=range(len(NOT_RIGHT_PROMPTS)))
@pytest.mark.parametrize("name", ["generic", "shell"])
def test_output_with_cursor_moves_is_no_prompt(text: str, name: str) -> None:
    # (Whole: a read that ends before the moves ends at a prompt.)
    assert feed(drivers.get(name).prompt_patterns, ["out\r\n" + text]) is None


def test_a_right_prompt_in_front_of_the_echo_is_not_in_the_answer() -> None:
    raw = RIGHT + PASTE + BEFORE[: -len(EOL_MARK) - 1]
    assert clean_output(raw, "echo hi") == "hi\n"
    assert clean_output(raw, "echo hi", len(RIGHT)) == "hi\n"  # (came before the send)
    # Output, with no command's echo to come, keeps them; so does output
    # that begins so where nothing echoes (pipes, echo=False): it lost
    # its first line's text ('\nhi\n').
    for command in (None, "printf x"):
        assert clean_output("\x1b[5Cx\x1b[6D\r\nhi\r\n", command) == "     x\nhi\n"


def stripped(chunks: list[str]) -> str:
    """What a session's stripper (``strip_ansi=True``) gives for ``chunks``."""
    stripper = AnsiStripper("", keep_up=True, right_prompts=True)
    return "".join(stripper.feed(chunk) for chunk in chunks) + stripper.flush()


@pytest.mark.parametrize("case", sorted(CAPTURED))
def test_strip_ansi_drops_a_right_prompt_whole_in_any_split(case: str) -> None:
    # Its moves stripped, the right prompt's text was glued to the prompt
    # ('root@vm ~ # [23:27]'): output after it, the prompt not found.
    prompt = CAPTURED[case]
    shown = strip_ansi(prompt[: prompt.index("\x1b[K")])
    for label, chunks in splits(BEFORE + prompt):
        assert stripped(chunks) == strip_ansi(BEFORE) + shown, label


#: Moves and text that are no right prompt as zsh writes it: the cursor not
#: back where it was, no move left (a line end, the end of what came), no
#: ``ESC[K`` before; and one in the middle of output, glued to the text
#: after it, which overwrites it where the cursor came back.
KEPT = {
    "\x1b[K\x1b[10Cab\x1b[13D": "ab",
    "\x1b[K\x1b[10Cab\r\nc": "ab\r\nc",
    "\x1b[K\x1b[10Cab": "ab",
    "\x1b[10Cab\x1b[12D": "ab",
    "x\x1b[K\x1b[3C\x1b[1mab\x1b[0m\x1b[5Dy": "xy",
    "\x1b[K\x1b[10C界\x1b[12Dz": "z",
}


@pytest.mark.parametrize("text", sorted(KEPT))
def test_strip_ansi_keeps_moves_and_text_that_are_no_right_prompt(text: str) -> None:
    for label, chunks in splits(text):
        assert stripped(chunks) == KEPT[text], label


@pytest.mark.parametrize("pty", [True, False])
async def test_unechoed_output_that_begins_with_cursor_moves_is_kept(pty: bool) -> None:
    # (dash, with echo=False or over pipes: nothing echoes the command)
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "PS1": "user@host:~$ "}
    options: dict[str, Any] = {"echo": False} if pty else {"pty": False}
    async with aioexpect.spawn("dash", ["-i"], env=env, timeout=10, **options) as s:
        await s.expect_prompt()
        command = r"printf '\033[5Cx\033[6D\nhi\n'"
        assert await s.execute(command) == "     x\nhi\n"
        assert await s.execute("echo ok") == "ok\n"


def test_the_learned_prompt_searches_only_the_last_line() -> None:
    # The learned prompt (execute's, once it has seen one) that takes a
    # right prompt after it ended in two alternatives of ``\Z``: no longer
    # known to lie in the last line, it was searched over its whole width
    # (3,000 characters) at every chunk, for every user of generic and
    # shell: an execute with 200 lines of output took half as long again.
    pattern = changed_prompt("user@host:~$ ")
    assert pattern is not None
    searcher, buf = Searcher([pattern]), Buffer("")
    for _ in range(100):
        buf.append("a line of output, user@host:~$ in it\r\n")
        assert searcher.search(buf) is None
        assert searcher._scans[0].resume == len(buf)  # (no line of it searched again)
    for prompt in ("user@host:/tmp$ ", "user@host:/tmp$ " + RIGHT + PASTE):
        buf.append(prompt)
        found = searcher.search(buf)
        assert found is not None and buf.text()[found.start :] == prompt
        buf.append("\r\n")


async def zsh_writing(
    peer: Any,
    commands: list[tuple[str, str]],
    mark: list[str],
    ps1: str,
    right: str,
    cut: int = 0,
) -> None:
    """A scripted zsh: its first prompt, then for each command typed its
    echo and output, each write of zsh's apart (its end-of-line mark in
    the pieces ``mark`` gives, the prompt, the right prompt, paste on).
    ``cut``: where in the prompt and right prompt (``\\r`` first) a read
    ends too, as under load (0: none)."""
    prompt = "\r" + ps1 + right
    ends = sorted({0, cut, len(ps1) + 1, len(prompt)})
    writes = [prompt[a:b] for a, b in itertools.pairwise(ends) if a < b]
    for chunk in (EOL_MARK, *writes, PASTE):
        await peer.write(chunk.encode())
    for command, out in commands:
        typed = b""
        while not typed.endswith(b"\n"):
            typed += await peer.read()
        echo = f"{command[0]}\x08{command}\x1b[?2004l\r\r\n{out}"
        for chunk in (echo, *mark, *writes, PASTE):
            await peer.write(chunk.encode())


async def test_a_right_prompt_written_apart_from_the_prompt() -> None:
    # zsh writes the right prompt after the prompt: with each write read on
    # its own, the prompt is found before it, and the right prompt came in
    # front of the next echo: 'echo hi' returned 'echo hi' padded to the
    # margin, '[23:27]', then 'hi'.
    async with opened(limit=0, timeout=5) as (s, peer):
        commands = [("echo hi", "hi\r\n"), ("echo two", "two\r\n"), ("true", "")]
        task = asyncio.ensure_future(zsh_writing(peer, commands, [EOL_MARK], PS1, RIGHT))
        m = await s.expect_prompt()
        assert visible(m.after) == "root@vm ~ #"
        for command, out in commands:
            assert await s.execute(command) == out.replace("\r\n", "\n")
        await task


#: (PS1, RPROMPT) as zsh wrote them: plain, and a bare sign with a
#: coloured right prompt.
WRITTEN = {
    "plain": (PS1, RIGHT),
    "bare": ("\x1b[0m\x1b[27m\x1b[24m\x1b[J# ", "\x1b[K\x1b[72C\x1b[31m0\x1b[39m [~]\x1b[77D"),
}


@pytest.mark.parametrize("strip", [False, True])
@pytest.mark.parametrize("setting", sorted(WRITTEN))
async def test_a_prompt_or_right_prompt_cut_anywhere(setting: str, strip: bool) -> None:
    # A read that ends inside zsh's write of the prompt, or of the right
    # prompt, at any character: the same answers.
    ps1, right = WRITTEN[setting]
    commands = [("echo hi", "hi\r\n"), ("cd /tmp", ""), ("printf 'a\\nb'", "a\r\nb")]
    for cut in range(1, len(ps1) + len(right) + 1):
        async with opened(limit=0, timeout=5, strip_ansi=strip) as (s, peer):
            task = asyncio.ensure_future(zsh_writing(peer, commands, [EOL_MARK], ps1, right, cut))
            try:
                m = await s.expect_prompt()
                assert visible(m.after) == visible(ps1).strip(), cut
                for command, out in commands:
                    assert await s.execute(command) == out.replace("\r\n", "\n"), (cut, command)
                await task
            finally:
                task.cancel()


ZSH_ENV = {"PATH": "/usr/bin:/bin", "TERM": "xterm"}
#: (PS1, RPROMPT, commands run first)
SETTINGS = {
    "plain": ("%n@%m %~ %# ", "[%T]", []),
    "coloured": ("%F{green}%n@%m%f %~ %# ", "%F{yellow}%~ %*%f", []),
    "transient": ("%n@%m %~ %# ", "[%~]", ["setopt transient_rprompt"]),
    "bare": ("%# ", "%F{red}%?%f [%~]", []),
    # (more than 6 runs of text and colours: never found before)
    "colours": ("%n@%m %~ %# ", "%F{red}a%f %F{green}b%f %F{blue}%~%f", []),
    # (powerlevel10k's advice: the right prompt to the last column, the
    # cursor brought back with \r and a move right)
    "indent0": ("%n@%m %~ %# ", "%F{red}%?%f [%~]", []),
}
#: Settings made in the environment.
SETTINGS_ENV = {"indent0": {"ZLE_RPROMPT_INDENT": "0"}}


@asynccontextmanager
async def zsh(via: str, setting: str, home: str, **options: Any) -> AsyncIterator[Any]:
    ps1, rprompt, _ = SETTINGS[setting]
    env = ZSH_ENV | {"HOME": home, "PS1": ps1, "RPROMPT": rprompt} | SETTINGS_ENV.get(setting, {})
    if via == "pty":
        async with aioexpect.spawn("zsh", ["-f", "-i"], env=env, timeout=10, **options) as s:
            yield s
    else:
        sessions: list[asyncio.Future[Any]] = []
        shell = functools.partial(bash_in_a_pty, sessions, argv=("zsh", "-f", "-i"), env=env)
        async with ssh_server(shell) as server:
            async with connect_ssh(server, **options) as s:
                assert s.transport.get_extra_info("pty")
                yield s
            await asyncio.wait_for(asyncio.gather(*sessions), 10)  # (zsh reaped)


@pytest.mark.parametrize("strip", [False, True])
@pytest.mark.parametrize("driver", ["generic", "shell", "auto"])
@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("via", ["pty", "ssh"])
async def test_zsh_with_a_right_prompt(
    via: str, setting: str, driver: str, strip: bool, tmp_path: Any
) -> None:
    # The old code: 'timed out waiting for the prompt of driver ...'; with
    # strip_ansi=True, the moves stripped, the right prompt's text was
    # glued to the prompt, output after it: the same.
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    async with zsh(via, setting, str(tmp_path), driver=driver, strip_ansi=strip) as s:
        m = await s.expect_prompt()
        if strip:  # (its text gone with it, the prompt's alone)
            assert "[" not in m.after and "\x1b" not in m.after, m.after
        for command in SETTINGS[setting][2]:
            assert await s.execute(command) == ""
        for _ in range(2):
            assert await s.execute("echo hi") == "hi\n"
            assert await s.execute("printf 'a\\nb'") == "a\nb"
            assert await s.execute("cd /tmp") == ""
            assert await s.execute("printf '%s\\n' 'user@host:~$ x' '45%'") == (
                "user@host:~$ x\n45%\n"
            )
            assert await s.execute("cd") == ""
            assert await s.execute("true") == ""
            # (typed over the right prompt, which zsh then erases)
            assert await s.execute("echo " + "y" * 70) == "y" * 70 + "\n"


async def test_set_unique_prompt_still_turns_the_right_prompt_off(tmp_path: Any) -> None:
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    async with zsh("pty", "coloured", str(tmp_path)) as s:
        await s.expect_prompt()
        await s.set_unique_prompt()
        assert s.prompt_patterns[0].pattern.startswith(r"\[aioexpect")
        await s.sendline("echo one")
        m = await s.expect_prompt()
        assert "\x1b[" not in m.after + s.buffer and m.before.endswith("one\r\n")
        assert await s.execute("echo hi") == "hi\n"


async def test_zsh_s_end_of_line_mark_read_in_pieces_is_no_prompt() -> None:
    # As root, zsh's PROMPT_SP mark is a bold inverse '#', then spaces to
    # the margin, in one write; a read that ended inside it (under load)
    # found the prompt '# ' there: 'cd /tmp' returned at the mark, and the
    # next answer was shifted by one (the old code: 'echo two' returned '').
    ps1 = "\x1b[0m\x1b[27m\x1b[24m\x1b[J# "
    right = "\x1b[K\x1b[69C\x1b[31m0\x1b[39m [~]\x1b[77D"
    for cut in (9, 14, 18, 22, 23, 24):  # (after the '#', its colours, a space or two)
        async with opened(limit=0, timeout=5) as (s, peer):
            commands = [("cd /tmp", ""), ("echo two", "two\r\n"), ("true", "")]
            mark = [EOL_MARK[:cut], EOL_MARK[cut:]]
            task = asyncio.ensure_future(zsh_writing(peer, commands, mark, ps1, right))
            await s.expect_prompt()
            for command, out in commands:
                assert await s.execute(command) == out.replace("\r\n", "\n"), cut
            await task


async def test_a_right_prompt_after_a_prompt_like_the_one_before_is_no_output() -> None:
    # Prompts read now whole (the right prompt with them), now alone (a
    # read that ended before zsh's write of the right prompt): after a
    # prompt taken for new ('cd /tmp', or only its right prompt read), an
    # answer that ended at one like the one before waits for what follows
    # it; the right prompt there was taken for output, the answer for one
    # that may hold the end of the one before, and the next execute waited
    # for a prompt after it that never came (the flake of
    # test_zsh_with_a_right_prompt; the old code: 'command 'true' not sent:
    # timed out waiting for the prompt').
    ps1 = "\x1b[0m\x1b[27m\x1b[24m\x1b[J# "

    def right(where: str) -> str:
        return f"\x1b[K\x1b[69C\x1b[31m0\x1b[39m [{where}]\x1b[77D"

    async with opened(limit=0, timeout=5) as (s, peer):

        async def shell(commands: list[tuple[str, str, str, bool]]) -> None:
            await peer.write((EOL_MARK + "\r" + ps1 + right("~") + PASTE).encode())
            for command, out, where, whole in commands:
                typed = b""
                while not typed.endswith(b"\n"):
                    typed += await peer.read()
                await peer.write(f"{command[0]}\x08{command}\x1b[?2004l\r\r\n{out}".encode())
                prompt = EOL_MARK + "\r" + ps1
                chunks = [prompt + right(where) + PASTE] if whole else [prompt, right(where), PASTE]
                for chunk in chunks:
                    await peer.write(chunk.encode())

        commands = [
            ("echo hi", "hi\r\n", "~", False),
            ("cd /tmp", "", "/tmp", True),
            ("echo two", "two\r\n", "/tmp", False),
            ("true", "", "/tmp", True),
            ("echo three", "three\r\n", "/tmp", False),
        ]
        task = asyncio.ensure_future(shell(commands))
        try:
            await s.expect_prompt()
            for command, out, _, _ in commands:
                assert await s.execute(command) == out.replace("\r\n", "\n"), command
            await task
        finally:
            task.cancel()  # (on a failure, the peer waits for a command)


@pytest.mark.parametrize("rprompt", ["", "[~]"])
async def test_an_answer_cut_short_then_a_prompt_with_a_right_prompt(
    rprompt: str, caplog: pytest.LogCaptureFixture
) -> None:
    # 'echo x' ends early, at a line shaped like another host's prompt; the
    # rest of its answer comes in front of the next prompt.  The bare
    # prompt '# ' read without its right prompt the first time, with it
    # the next: compared as shown, '#' and '# [~]' were unlike, so the
    # late prompt was taken for another than the one the early answer
    # missed; the next answer was the rest ('more'), with no warning, and
    # the one after it the answer before, its echo first (the old code:
    # 'echo two\ntwo\n' for 'true').  As without a right prompt: the rest,
    # a warning that it may be, and the answers in step again.
    right = f"\x1b[K\x1b[74C{rprompt}\x1b[{74 + len(rprompt)}D" if rprompt else ""
    ps1 = "\x1b[0m\x1b[27m\x1b[24m\x1b[J# "
    script = [("echo x", ["x\r\nalice@web1:~$ ", "more\r\n"]), ("echo two", ["two\r\n"])]
    script.append(("true", []))
    async with opened(limit=0, timeout=5) as (s, peer):

        async def shell() -> None:
            for chunk in (EOL_MARK, "\r" + ps1, right, PASTE):
                await peer.write(chunk.encode())
            for command, outs in script:
                typed = b""
                while not typed.endswith(b"\n"):
                    typed += await peer.read()
                echo = f"{command[0]}\x08{command}\x1b[?2004l\r\r\n"
                prompt = EOL_MARK + "\r" + ps1 + right + PASTE
                for chunk in (echo, *outs, prompt):
                    await peer.write(chunk.encode())

        task = asyncio.ensure_future(shell())
        try:
            await s.expect_prompt()
            answers = [await s.execute(command) for command, _ in script]
            await task
        finally:
            task.cancel()  # (on a failure, the peer waits for a command)
    assert answers == ["x\n", "more\n", ""]
    assert "its answer may be, or begin with, the end of the answer before" in caplog.text


#: What a program may write that looks like the start of a right prompt
#: (``ESC[K``, a move right, text), then wait for input.
ASKING = "Name:\x1b[K\x1b[5Center value"


async def test_strip_ansi_shows_what_looks_like_a_right_prompt_begun_when_nothing_follows() -> None:
    # The stripper held the text after ESC[K and a move right until the
    # right prompt's end showed; a program that writes that shape, then
    # waits, never sent it: expect('enter value') timed out (the old code:
    # "timed out waiting for 'enter value'; last characters received:
    # 'Name:'").  With nothing more come for a moment, it is shown.
    script = r"printf 'Name:\033[K\033[5Center value'; read x; echo got $x"
    async with aioexpect.spawn("sh", ["-c", script], timeout=5, strip_ansi=True) as s:
        m = await s.expect("enter value")
        assert m.before == "Name:"
        await s.sendline("v")
        await s.expect("got v")


async def test_strip_ansi_what_was_held_is_shown_once() -> None:
    # At the end of the stream (the hold given up there, not twice), and
    # while diverted (interact, attach): the sink got it as it came, the
    # monitors see it stripped, and the buffer does not get it after.
    async with opened(timeout=5, strip_ansi=True) as (s, peer):
        await peer.write(ASKING.encode())
        await peer.close()
        m = await s.expect(aioexpect.EOF)
        assert m.before == "Name:enter value"
    async with opened(timeout=5, strip_ansi=True) as (s, peer):
        seen: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        s.add_monitor("enter value", lambda _, m: seen.set_result(m.group()))
        shown: list[str] = []
        with s.divert(shown.append):
            await peer.write(ASKING.encode())
            assert await asyncio.wait_for(seen, 5) == "enter value"
        assert "".join(shown) == ASKING and s.buffer == ""
        await peer.write(b"\r\nmore\r\n")
        m = await s.expect("more")
        assert m.before == "\r\n"


async def test_strip_ansi_a_right_prompt_in_pieces_written_at_once_still_goes() -> None:
    # zsh's right prompt, its write read in pieces that come one right
    # after the other: still dropped whole (the hold is let go only when
    # nothing more comes).
    async with opened(limit=0, timeout=5, strip_ansi=True) as (s, peer):
        for chunk in ("\r" + PS1, RIGHT[:9], RIGHT[9:], PASTE):
            await peer.write(chunk.encode())
        m = await s.expect_prompt()
        assert m.after == "root@vm ~ # " and s.buffer == ""


async def test_strip_ansi_what_was_held_stays_for_the_program_through_an_attach() -> None:
    # divert(keep=True) (the console's attach) leaves what was buffered for
    # the program: what the stripper held with it is its too.  The hold,
    # let go while attached, went to the monitors only, and the program's
    # expect missed it (the old code: "m.before == 'pre Name:\r\n'").
    async with opened(timeout=5, strip_ansi=True) as (s, peer):
        await peer.write(b"pre " + ASKING.encode())
        await s.expect("pre ")
        shown: list[str] = []
        with s.divert(shown.append, keep=True):
            await asyncio.sleep(3 * RIGHT_WAIT)  # (the hold's time passes while attached)
        assert "".join(shown) == ASKING
        m = await s.expect("enter value")
        assert m.before == "Name:"


def test_the_stripper_reads_right_prompts_as_the_prompt_patterns_do() -> None:
    # The right prompt's text is written twice, in _output (the prompt
    # patterns) and in _ansi (the stripper), modules of one layer that may
    # not import each other: the two must not drift apart, or a right
    # prompt found would be kept under strip_ansi (or one dropped, unfound).
    from aioexpect import _ansi, _output

    assert _ansi._RIGHT_TEXT == _output.RIGHT_TEXT
