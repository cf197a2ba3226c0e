"""The spaced prompts (FreeBSD's ``root@fbsd:~ #``, macOS's ``alice@mbp ~ %``
and ``mbp:~ alice$``) wider than an 80-column terminal, as bash's readline
wraps them: ``\\r`` at the margin, then the character that ended the row
again.  No shipped driver found them, and every ``execute`` timed out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import aioexpect
from aioexpect._wrap import wraps_fit

from .helpers import bare_shell, played, typed_lines, wait_until

SHAPES = [
    pytest.param("root@fbsd:~/{d} # ", 12, id="freebsd"),
    pytest.param("alice@MacBook-Pro ~/{d} % ", 20, id="macos-zsh"),
    pytest.param("MacBook-Pro:~/{d} alice$ ", 14, id="macos-bash"),
]


@pytest.mark.parametrize(("shape", "before"), SHAPES)
@pytest.mark.parametrize("driver", ["generic", "shell", "auto"])
async def test_a_spaced_prompt_wrapped_at_the_margin(
    shape: str, before: int, driver: str, tmp_path: Any
) -> None:
    # (the directory's lengths that put the margin in the directory, at the
    # spaces, in the user, and past the prompt's end)
    for n in range(80 - before - 9, 80 - before + 2):
        env = {
            "PATH": "/usr/bin:/bin",
            "TERM": "xterm",
            "HOME": str(tmp_path),
            "PS1": shape.format(d="d" * n),
        }
        argv = ["bash", "--norc", "--noprofile"]
        async with aioexpect.spawn(argv[0], argv[1:], env=env, driver=driver, timeout=5) as s:
            assert await s.execute("echo hi") == "hi\n", n
            assert await s.execute("echo there") == "there\n", n
            assert s.driver.name in ("generic", "shell")


@pytest.mark.parametrize("driver", ["generic", "shell"])
async def test_a_progress_meter_is_output(driver: str, tmp_path: Any) -> None:
    """A meter's ``eta:00:01 10%``, written after ``\\r``, then a pause: the
    shape of macOS's bash prompt (``mbp:~ alice$``) with ``%`` for its sign
    took it for the prompt, and ``execute`` returned before the meter ran."""
    meter = 'for i in 1 2 3; do printf "\\reta:00:0%d %d0%%" $i $i; sleep 0.2; done; echo done\n'
    (tmp_path / "meter.sh").write_text(meter)
    async with bare_shell(tmp_path, "alice@host:~$ ", driver=driver, timeout=10) as s:
        assert await s.execute("sh meter.sh") == "eta:00:03 30%done\n"
        assert await s.execute("echo next") == "next\n"


#: Output shaped like a spaced prompt with a ``\r`` in it, as a line that a
#: command ends with before a pause: the patterns' allowance for readline's
#: wrap (``\r``, then the character that ended the row again) took each for
#: a wrapped prompt, where no row ended at the margin.
CARRIAGE_RETURNS = [
    ("x:y\\ry z$", "y z$"),
    ("host:file.iso\\r45%% user$", "45% user$.iso"),
    ("a:bb\\rcc dd#", "cc dd#"),
    ("me@box ~/dl\\rx %%", "x %box ~/dl"),
    ("me@box:/tmp\\r/x #", "/x #ox:/tmp"),
]


@pytest.mark.parametrize("driver", ["generic", "shell"])
async def test_output_with_a_carriage_return_is_no_wrapped_prompt(
    driver: str, tmp_path: Any
) -> None:
    """``execute`` returned ``""`` at the pause after each line, the rest of
    the answer left for the next command."""
    async with bare_shell(tmp_path, "alice@host:~$ ", driver=driver, timeout=10) as s:
        for line, shown in CARRIAGE_RETURNS:
            answer = await s.execute(f"printf '{line}'; sleep 0.3; echo; echo end")
            assert answer == f"{shown}\nend\n", line
        assert await s.execute("echo next") == "next\n"


async def test_such_output_between_commands_is_output(tmp_path: Any) -> None:
    """A background job's line shaped so, come while no command ran, is
    output of the next command (as other such lines are), not a prompt
    that the next command is not sent at."""
    async with bare_shell(tmp_path, "alice@host:~$ ", driver="generic", timeout=10) as s:
        await s.execute("(sleep 0.2; printf 'x:y\\ry z$') &")
        for _ in range(100):  # (until it came: at most 10 s)
            if s.buffer.endswith("y z$"):
                break
            await asyncio.sleep(0.1)
        assert "one\n" in await s.execute("echo one")
        assert await s.execute("echo two") == "two\n"


async def test_such_output_in_a_typed_ahead_answer_is_output() -> None:
    """A command typed into an overflowing answer: the look past that
    answer's prompt for the typed-ahead command's own took such a line
    (another character either side of its ``\\r``, before a pause) for a
    prompt, ``read_to_prompt`` did not, and the look gave up on the answer
    with the line consumed: the next command's answer held its rest
    (``'\\nb2\\nalice@host:~$ echo x\\nx\\n'``)."""
    prompt = b"alice@host:~$ "
    flood = b"".join(b"line %06d %s\r\n" % (i, b"x" * 40) for i in range(200))
    prompt_due, prompt_read = asyncio.Event(), asyncio.Event()

    async def device(peer: Any) -> None:
        await peer.write(prompt)
        async for command in typed_lines(peer):
            if command == "flood":
                await peer.write(b"flood\r\n" + flood)
            elif command == "echo b":  # typed into the flood
                await peer.write(flood)
                await prompt_due.wait()
                await peer.write(prompt)  # the flood's
                await prompt_read.wait()
                await peer.write(b"echo b\r\nb1\r\na:b\rcc dd# ")  # then a pause
                await asyncio.sleep(0.1)
                await peer.write(b"\r\nb2\r\n" + prompt)
            else:
                await peer.write(f"{command}\r\n{command[5:]}\r\n".encode() + prompt)

    async with played(device, max_buffer=4096, timeout=5, driver="shell") as s:
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("flood")
        await s.expect(aioexpect.FULL_BUFFER)  # the caller reads a piece itself
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("echo b")  # typed into the flood, which overflows it
        x = asyncio.ensure_future(s.execute("echo x"))
        prompt_due.set()
        await wait_until(lambda: s.buffer == "" or x.done(), "the flood's prompt was read")
        prompt_read.set()
        assert await x == "x\n"
        assert await s.execute("echo y") == "y\n"


async def test_such_output_in_the_answer_of_a_line_sent_is_output() -> None:
    """Two lines the caller sent, their prompts owed: reading on from the
    first's prompt to the second's took such a line (before a pause) for
    that prompt, ``read_to_prompt`` did not and gave up with the line
    consumed, and the next command's answer held the rest of the second
    line's (``'\\nb2\\nalice@host:~$ echo x\\nx\\n'``)."""
    prompt = b"alice@host:~$ "
    first_read = asyncio.Event()

    async def device(peer: Any) -> None:
        await peer.write(prompt)
        async for command in typed_lines(peer):
            if command == "slow":
                await first_read.wait()
                await peer.write(b"slow\r\nb1\r\na:b\rcc dd# ")  # then a pause
                await asyncio.sleep(0.05)
                await peer.write(b"\r\nb2\r\n" + prompt)
            else:
                await peer.write(f"{command}\r\n{command[5:]}\r\n".encode() + prompt)

    async with played(device, timeout=5, driver="shell") as s:
        await s.sendline("echo q")
        await s.sendline("slow")
        await wait_until(lambda: s.buffer.endswith(prompt.decode()), "the first prompt came")
        x = asyncio.ensure_future(s.execute("echo x"))
        await wait_until(lambda: s.buffer == "" or x.done(), "the first prompt was read")
        first_read.set()
        assert await x == "x\n"
        assert await s.execute("echo y") == "y\n"


@pytest.mark.parametrize(
    ("prompt", "columns", "fits"),
    [
        ("root@fbsd:~/" + "d" * 69 + "\rd # ", 80, True),
        ("root@fbsd:~/" + "d" * 68 + " \r # ", 80, True),
        ("root@fbsd:~/" + "d" * 67 + " #\r# ", 80, True),
        ("root@fbsd:~/" + "d" * 69 + "\rd # ", 100, False),  # (not at the margin)
        ("root@fbsd:~/" + "d" * 69 + "\rx # ", 80, False),  # (another character)
        ("root@fbsd:~/" + "d" * 69 + "\rx # ", None, False),
        ("x:y\ry z$", None, True),  # (no width: the character only)
        ("x:y\ry z$", 80, False),
        ("router#", 80, True),
        ("\r\n{master:0}\r\nuser@mx1> ", 80, True),  # (line ends: no wrap)
    ],
)
def test_a_wrap_is_the_same_character_at_the_margin(
    prompt: str, columns: int | None, fits: bool
) -> None:
    assert wraps_fit(prompt, columns) is fits


@pytest.mark.parametrize(
    ("prompt", "fits"),
    [
        ("x\x1b[?2004hme@host:~/" + "d" * 29 + "# \r ", True),  # (x: output, glued)
        ("xme@host:~/" + "d" * 28 + "e# \r ", False),  # (not the prompt's row)
        ("me@host:~/" + "d" * 29 + "x\rx ", False),  # (not the prompt's row)
    ],
)
def test_a_wider_row_is_the_learned_prompt_with_output_glued(prompt: str, fits: bool) -> None:
    assert wraps_fit(prompt, 40, "me@host:~/" + "d" * 29 + "# ") is fits


@pytest.mark.parametrize(
    ("line", "printed"),
    [
        pytest.param("x:y\\ry z$", "x:y\ry z$", id="refused-wrap"),
        pytest.param("abc\\n\\r", "abc\r\n\r", id="refused-margin"),
    ],
)
async def test_a_time_out_after_output_read_past_quotes_it(
    line: str, printed: str, tmp_path: Any
) -> None:
    """Output taken for a prompt's wrap and refused (the ``\\r`` of ``x:y\\ry
    z$`` is no wrap; ``\\r\\n\\r`` where no prompt follows), then a pause past
    the time-out: the refused text was consumed, and the error said ``last
    characters received: ''``, its ``before`` and the buffer empty."""
    async with bare_shell(tmp_path, "alice@host:~$ ", driver="generic", timeout=10) as s:
        with pytest.raises(aioexpect.ExpectTimeout) as caught:
            await s.execute(f"printf '{line}'; read -r w; echo end", timeout=1)
        assert caught.value.before.endswith("\n" + printed)
        assert repr(printed)[1:-1] + '"' in str(caught.value)
        assert s.buffer == caught.value.before  # (unread again: nothing dropped)
        await s.sendline("w")
        assert await s.execute("echo next") == "next\n"


@pytest.mark.parametrize(
    "ps1",
    [
        pytest.param("\\[\\e[32m\\]root@fbsd:~/{d}\\[\\e[0m\\] # ", id="coloured"),
        pytest.param(
            "\\[\\e[1;32m\\]me@host\\[\\e[0m\\]:\\[\\e[34m\\]~/{d}\\[\\e[0m\\]\\$ ", id="debian"
        ),
        pytest.param("root@fbsd:~/{d} # ", id="plain"),
        pytest.param("me@host:~/{d}# ", id="unspaced"),
    ],
)
async def test_a_coloured_prompt_wrapped_at_the_margin(ps1: str, tmp_path: Any) -> None:
    """A prompt with invisible parts (colours) wrapped by readline in a
    40-column terminal: ``\\r\\n\\r`` ends its full row, and the rest of the
    prompt follows (``...ddd\\r\\n\\rd\\x1b[0m # ``).  Only a wrap right
    before the prompt's last space was found: with a character of the
    prompt after it, every ``execute`` timed out, also after output without
    a final line end (``printf x``).  So did ``printf x`` before an unspaced
    prompt one column wider than the terminal (``xme@host:~/ddd# \\r ``):
    the row before the wrap, with ``x``, was wider than the terminal."""
    # (the directory's lengths that put the margin before, in and after the sign)
    for n in range(40 - 12 - 3, 40 - 12 + 3):
        env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "HOME": str(tmp_path)}
        env["PS1"] = ps1.format(d="d" * n)
        argv = ["bash", "--norc", "--noprofile"]
        async with aioexpect.spawn(
            argv[0], argv[1:], env=env, driver="generic", dimensions=(24, 40), timeout=5
        ) as s:
            assert await s.execute("echo hi") == "hi\n", n
            assert await s.execute("printf x") == "x", n
            assert await s.execute("echo there") == "there\n", n


#: A device that ends each answer with ``\n\r`` before its prompt (a pty
#: makes it ``\r\n\r``), as some do to be at a line's start whatever came.
DEVICE = r"""
import sys
sys.stdout.write("dev> ")
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write(line.strip().upper() + "\n\rdev> ")
    sys.stdout.flush()
"""


@pytest.mark.parametrize("prompt", [r"(?<=\r)dev> \Z", r"(?:\A|(?<=[\r\n]))dev> \Z"])
async def test_a_prompt_after_a_carriage_return_that_starts_a_line(
    prompt: str, tmp_path: Any
) -> None:
    """``\\r\\n\\rdev> `` is no wrapped prompt (no row is as wide as the
    terminal): the prompt after the ``\\r``, which a set_prompt pattern
    looks behind at, is found.  The wrap check took the ``\\r`` from the
    buffer with the rest of the line before it, and a pattern that looks
    behind at it never matched: every execute after the first timed out."""
    (tmp_path / "device.py").write_text(DEVICE)
    async with aioexpect.spawn(
        "python3", [str(tmp_path / "device.py")], dimensions=(24, 40), timeout=5
    ) as s:
        await s.expect_exact("dev> ")
        s.set_prompt(prompt)
        for command in ("one", "two", "three"):
            assert await s.execute(command) == command.upper() + "\n"


@pytest.mark.parametrize(
    ("columns", "lengths"),
    [pytest.param(40, range(66, 74), id="40"), pytest.param(80, range(146, 154), id="80")],
)
@pytest.mark.parametrize(
    "ps1",
    [
        pytest.param("\\[\\e[32m\\]root@fbsd:~/{d}\\[\\e[0m\\] # ", id="coloured"),
        pytest.param("\\[\\e[32m\\]me@host ~/{d}\\[\\e[0m\\] $ ", id="spaced"),
    ],
)
async def test_a_coloured_prompt_wrapped_twice(
    ps1: str, columns: int, lengths: range, tmp_path: Any
) -> None:
    """A coloured prompt over three rows: readline ends the first with
    ``\\r\\n\\r`` and the second, within the last colour, the plain way
    (``...ddd\\r\\n\\rddd...dd\\rd\\x1b[0m # ``).  ``MARGIN`` took no row
    with a ``\\r`` in it, and the patterns find no prompt in that row
    alone: every ``execute`` timed out, at 40 columns as at 80 (the
    directory's lengths put the second margin before, in and after the
    sign)."""
    for n in lengths:
        env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "HOME": str(tmp_path)}
        env["PS1"] = ps1.format(d="d" * n)
        argv = ["bash", "--norc", "--noprofile"]
        async with aioexpect.spawn(
            argv[0], argv[1:], env=env, driver="generic", dimensions=(24, columns), timeout=5
        ) as s:
            assert await s.execute("echo hi") == "hi\n", n
            assert await s.execute("printf x") == "x", n
            assert await s.execute("echo there") == "there\n", n
