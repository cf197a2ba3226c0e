"""Statements in the console run as in Python's own REPL (``python3 -i``,
``python3 -m asyncio``): what a statement's blocks compute is shown, the
names it bound stay bound whatever ends it, and an error raised again
shows where it was first raised.  Over a served console (TCP) and the
local one in a pty."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import fcntl
import gc
import os
import re
import signal
import struct
import termios
from collections.abc import AsyncIterator
from typing import Any

import pytest

import aioexpect
from aioexpect import AioexpectError
from aioexpect._console_run import run_statement
from tests.helpers import wait_until
from tests.test_console import LIMIT, PY, ROOT, env, evaluate, local_console
from tests.test_console_server import Client, connected, console, typed

BAD = ("class Bad:", "    def __repr__(self): raise ValueError('no')")
REPR_ERROR = '  File "<console>", line 2, in __repr__\nValueError: no\n'


async def block(c: Client, *lines: str) -> str:
    """Type a block and the empty line that ends it; what it printed after
    its continuation prompts (the served console's file name as ``<console>``)."""
    c.writer.write("".join(line + "\n" for line in (*lines, "")).encode())
    await c.writer.drain()
    out = (await c.prompt()).decode()
    assert out.startswith("... " * len(lines)), out
    return re.sub(r'"<console [^"]*>"', '"<console>"', out[4 * len(lines) :])


async def test_the_expressions_of_a_statement_s_blocks_are_shown() -> None:
    # aioconsole runs a statement as a function's body, where nothing of
    # 'for i in range(2): i' was shown; Python's REPL compiles it in
    # 'single' mode, which shows every expression statement of its blocks.
    async with console() as server, connected(server) as c:
        await c.prompt()
        assert await block(c, "for i in range(2): i") == "0\n1\n"
        assert await block(c, "if 1:", "    3", "    None", "    's'") == "3\n's'\n"
        assert await block(c, "while False: pass", "else: 8") == "8\n"
        assert await block(c, "try: 1/0", "except ZeroDivisionError: 'caught'") == "'caught'\n"
        assert await block(c, "with open(__import__('os').devnull): 11") == "11\n"
        assert await block(c, "match 3:", "    case 3: 12") == "12\n"
        # Awaits in them still work: each result is shown, as python3 -m asyncio does.
        assert await block(c, "async def twice(x): return 2 * x") == ""
        assert await block(c, "for i in range(3): await twice(i)") == "0\n2\n4\n"
        assert await block(c, "for t in (1, 2): await asyncio.sleep(0, result=t)") == "1\n2\n"
        # Not those of a function or a class it defines (their own code).
        assert await block(c, "def g():", "    6") == ""
        assert await c.run("g()") == ""
        assert await block(c, "class A:", "    5") == ""
        # '_' is the last value shown, and stays so after a statement that shows none.
        assert await c.run("_") == "2\n"
        assert await c.run("x = 5; None") == ""
        assert await c.run("_") == "2\n"


async def test_a_statement_s_names_stay_bound_whatever_ends_it() -> None:
    # aioconsole kept them only once the statement had ended well and its
    # result was shown: after each of these, the name was not defined.
    async with console() as server, connected(server) as c:
        await c.prompt()
        await block(c, *BAD)
        assert "ValueError: no" in await c.run("(z := Bad())")
        assert await c.run("type(z).__name__") == "'Bad'\n"
        assert "ZeroDivisionError" in await block(c, "for k in range(3):", "    y = k", "    1/0")
        assert await c.run("y") == "0\n"
        assert "ZeroDivisionError" in await block(c, "if 1: w = 1; del y; 1/0")
        assert await c.run("w, 'y' in dir()") == "(1, False)\n"


async def test_an_error_of_a_repr_raised_again_shows_where_it_was_first_raised() -> None:
    # The repr ran in aioconsole's function, after the statement's own had
    # returned: raised again, the error had no frame of the first statement.
    async with console() as server, connected(server) as c:
        await c.prompt()
        await block(c, *BAD)
        first = 'Traceback (most recent call last):\n  File "<console>", line 1, in <module>\n'
        assert await typed(c, "Bad()") == first + REPR_ERROR
        again = await typed(c, "import sys; raise sys.last_value")
        assert again == first + '  File "<console>", line 1, in <module>\n' + REPR_ERROR
        in_block = await block(c, "for i in [1]:", "    Bad()")
        assert in_block == first.replace("line 1", "line 2") + REPR_ERROR


async def test_the_console_s_names_are_the_globals_of_what_it_runs() -> None:
    # aioconsole runs each statement with a fresh globals dict: 'global g'
    # bound g there, gone with the statement (NameError after), and a
    # function saw only the names bound before it was defined.
    async with console() as server, connected(server) as c:
        await c.prompt()
        await block(c, "def f():", "    global g", "    g = 1")
        assert await c.run("f(); g") == "1\n"
        assert await block(c, "if True:", "    global h", "    h = 2") == ""
        assert await c.run("h") == "2\n"
        await block(c, "def k(): return later")
        assert await c.run("later = 5") == ""
        assert await c.run("k(), globals()['later'], 'later' in dir()") == "(5, 5, True)\n"
        await block(c, "def bump():", "    global later", "    later += 1")
        assert await c.run("bump(); later, k()") == "(6, 6)\n"


async def test_the_console_s_names_have_the_builtins_as_python_s_repl_s_have() -> None:
    # As the statement's globals they had no '__builtins__' (the statement
    # ran with the builtins all the same): naming it was a NameError.
    async with console() as server, connected(server) as c:
        await c.prompt()
        shown = await c.run("__builtins__ is __import__('builtins'), '__builtins__' in dir()")
        assert shown == "(True, True)\n"
        assert await c.run("exec('b = len', globals()); b is len") == "True\n"


async def test_what_only_a_function_allows_is_a_syntax_error_where_typed() -> None:
    # aioconsole compiles the statement inside its function, where this
    # compiles; as module code it does not, at aioconsole's line (5).
    async with console() as server, connected(server) as c:
        await c.prompt()
        lines = ("if True:", "    x = 1", "    def f():", "        nonlocal x", "        x = 2")
        assert await block(c, *lines) == (
            "  File \"<console>\", line 4\nSyntaxError: no binding for nonlocal 'x' found\n"
        )
        assert await c.run("import sys; sys.last_value.lineno, sys.last_value.offset") == (
            "(4, 9)\n"
        )
        assert await c.run("'x' in dir(), 'f' in dir()") == "(False, False)\n"  # (nothing ran)


async def test_a_star_import_runs_as_in_python_s_repl() -> None:
    # aioconsole's function refused it: "import * only allowed at module level".
    async with console() as server, connected(server) as c:
        await c.prompt()
        assert await typed(c, "from os.path import *") == ""
        assert await c.run("join('a', 'b')") == "'a/b'\n"
        assert await typed(c, "x = 1; from string import *; 3") == "3\n"
        assert await c.run("digits, x, _") == "('0123456789', 1, 3)\n"
        out = await typed(c, 's = """\nabc\n"""; from os import *; 1/0')
        assert out.endswith(
            '  File "<console>", line 3, in <module>\nZeroDivisionError: division by zero\n'
        ), out
        assert await c.run("s, sep") == "('\\nabc\\n', '/')\n"
        assert "SyntaxError" in await typed(c, "from os import *; return")


@pytest.mark.parametrize(
    "compiled",
    [
        "async def __corofn():\n    x = 1\n    return (locals(), None)\n",
        "async def __corofn():\n    x = 1\n    return locals()\n",
        "async def __statement():\n    x = 1\n    return (None, locals())\n",
    ],
)
async def test_a_statement_compiled_as_aioconsole_does_not_is_a_clear_error(compiled: str) -> None:
    # The console takes apart the function aioconsole compiles a statement
    # into.  Another aioconsole could write it otherwise: that ran anyway,
    # to an AssertionError (none under python -O), a KeyError, or the
    # names shown as the statement's value and then a TypeError.
    names = {"a": 1}
    written: list[str] = []
    wrapped = ast.parse(compiled, "<console>", "single")
    with pytest.raises(AioexpectError, match=r"^aioconsole \S+ compiles a statement into a fu"):
        await run_statement(wrapped, names, "<console>", written.append)
    assert names == {"a": 1}
    assert written == []


class Marker:
    """A value a client binds, whose end the test can see (a weak reference)."""


async def test_what_a_client_defined_keeps_its_names_as_globals_until_it_goes() -> None:
    # The client's names are the globals of the functions it defines, as a
    # module's are of its functions in Python: one the program keeps, or a
    # task left running, sees them (later ones too) after the client left;
    # and they go with the last of them.
    kept: list[Any] = []
    async with console(locals={"kept": kept, "Marker": Marker}) as server:
        async with connected(server) as c:
            await c.prompt()
            await block(c, "def defined(): return later")
            assert await c.run("mine = Marker(); later = 'bound after'") == ""
            assert await c.run("import weakref; kept[:] = [defined, weakref.ref(mine)]") == ""
        defined, mine = kept
        assert defined() == "bound after"
        del defined
        kept.clear()

        def gone() -> bool:
            gc.collect()
            return mine() is None

        await wait_until(gone, "the client's names are gone")


async def test_the_local_console_keeps_the_names_of_a_statement_ctrl_c_interrupted() -> None:
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await c.sendline("while True: m = 1; print('in'); await asyncio.sleep(0.01)")
        await c.expect_exact("... ")
        await c.sendline("")
        await c.expect_exact("in\r\n")  # (m is bound)
        await c.sendintr()
        await c.expect_exact("KeyboardInterrupt")
        await c.expect_exact(">>> ")
        assert await evaluate(c, "m") == "1\r\n"
        await c.sendline("for s in ('a', 'b'): s.upper()")
        await c.expect_exact("... ")
        assert await evaluate(c, "") == "'A'\r\n'B'\r\n"
        await c.sendeof()
        assert await c.wait() == 0


async def test_the_local_console_shows_what_a_statement_prints_while_it_runs(tmp_path: Any) -> None:
    # Written through aioconsole's transport, what the terminal did not take
    # at once waited for the loop, which a statement that prints without an
    # await never lets run: shown only once it ended, and held in memory
    # meanwhile.  python3 -i writes it at once.  This statement prints more
    # than a pty holds, then a mark, and waits (30 s at most) for the file
    # the test creates once it has seen the mark.
    go = tmp_path / "go"
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await c.sendline("import os, time; t = time.monotonic()")
        await c.expect_exact(">>> ")
        await c.sendline(
            f"print('a' * 300_000); print('MARK'); exec(\"while not os.path.exists({str(go)!r})"
            " and time.monotonic() - t < 30: time.sleep(0.01)\"); print('DONE')"
        )
        await c.expect_exact("MARK\r\n")
        go.touch()
        await c.expect_exact("DONE\r\n")
        await c.expect_exact(">>> ")
        await c.sendeof()
        assert await c.wait() == 0


async def test_the_local_console_leaves_its_terminal_blocking_as_it_found_it() -> None:
    # aioconsole's transports make stdin, stdout and stderr non-blocking (in
    # a terminal, one open file, the shell's too) and left them so: what ran
    # in the terminal after the console found them non-blocking.
    script = (
        "import os, subprocess, sys; subprocess.run([sys.executable, '-m', 'aioexpect',"
        " 'console']); print('blocking:', [os.get_blocking(fd) for fd in (0, 1, 2)])"
    )
    async with aioexpect.spawn(PY, ["-c", script], env=env(), cwd=str(ROOT), timeout=LIMIT) as c:
        await c.expect_exact(">>> ")
        await c.sendline("print('x' * 100_000)")
        await c.expect_exact(">>> ")
        await c.sendeof()
        found = await c.expect(r"blocking: \[.*\]")
        assert found.group(0) == "blocking: [True, True, True]"
        assert await c.wait() == 0


def unread(fd: int) -> int:
    """How many bytes wait in pipe ``fd``."""
    return int(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0])


@contextlib.asynccontextmanager
async def console_filling(typed: bytes) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    """The local console in a process, typed ``typed``, its stdout and stderr
    a pipe (its read end given) that the test does not read: given once
    what it prints fills it (but for a page: the banner's, not filled by
    what came after it); killed after."""
    read_end, write_end = os.pipe()
    try:
        process = await asyncio.create_subprocess_exec(
            *(PY, "-m", "aioexpect", "console"),
            stdin=asyncio.subprocess.PIPE,
            stdout=write_end,
            stderr=write_end,
            env=env(),
            cwd=str(ROOT),
        )
    finally:
        os.close(write_end)
    try:
        assert process.stdin is not None
        process.stdin.write(typed)
        await process.stdin.drain()
        size = fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ) - os.sysconf("SC_PAGESIZE")
        await wait_until(lambda: unread(read_end) >= size, "the pipe is full", LIMIT)
        yield process, read_end
    finally:
        os.close(read_end)
        if process.returncode is None:
            process.kill()
            await process.wait()


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler of its own for ``signum`` (its
    caught signals in /proc: a mask, bit ``signum - 1``); not if it ended."""
    try:
        with open(f"/proc/{pid}/status") as status:
            caught = next(line for line in status if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(int(caught.split()[1], 16) >> (signum - 1) & 1)


async def test_the_local_console_ends_on_sigterm_while_its_output_takes_nothing() -> None:
    # Waiting for a terminal or a pipe that took nothing (a terminal paused
    # with Ctrl-S, a pager not reading), the console was deaf to SIGTERM,
    # whose handler waits for the loop.  Here its stdout is a pipe the test
    # does not read, full with what a statement prints; SIGTERM, again if
    # one came in the instant before the console waited (see
    # TerminalOutput._wait), ends it as it ends one at its prompt.  Sent
    # again only while the console catches it: once it is ending, its
    # handlers put back, one more would kill it (the default's -15).
    async with console_filling(b"print('x' * 10_000_000)\n") as (process, _):

        async def ended() -> int:
            while True:
                if catches(process.pid, signal.SIGTERM):
                    process.send_signal(signal.SIGTERM)
                with contextlib.suppress(TimeoutError):
                    return await asyncio.wait_for(process.wait(), 1)

        assert await asyncio.wait_for(ended(), LIMIT) == 128 + signal.SIGTERM


async def test_the_local_console_waits_for_its_output_with_descriptors_past_1023() -> None:
    # A console that opened a thousand sessions holds descriptors past 1023,
    # which select() refuses ("filedescriptor out of range"): waiting for a
    # full pipe with it, a print raised ValueError and its statement stopped.
    setup = (
        "import os, resource; soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE);"
        " resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard));"
        " fds = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]\n"
    )
    typed = setup.encode() + b"print('x' * 1_000_000); print('MARK')\n"
    async with console_filling(typed) as (_, read_end):
        os.set_blocking(read_end, False)
        out = b""

        async def marked() -> None:
            nonlocal out
            while b"MARK\n" not in out and b"Error" not in out:
                try:
                    out += os.read(read_end, 1 << 20)
                except BlockingIOError:
                    await asyncio.sleep(0.01)

        await asyncio.wait_for(marked(), LIMIT)
        assert b"Error" not in out and out.count(b"x") >= 1_000_000
