"""The local console (in a pty) answers Ctrl-C, SIGTERM and SIGHUP while a
statement runs without an ``await``, as ``python3 -i`` does: the loop's
signal handlers run only when the loop does, which such a statement never
lets it.  And ``from __future__`` imports, which aioconsole's function
refused, are taken as Python's REPL takes them, for the statements after
them too."""

from __future__ import annotations

import array
import errno
import fcntl
import os
import signal
import termios
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from tests.helpers import wait_until
from tests.test_console import LIMIT, PY, env, evaluate, local_console, read_out_of
from tests.test_console_server import connected, console

#: A Ctrl-C's traceback as ``python3 -i`` shows it: the statement's frame alone.
INTERRUPTED = (
    r'Traceback \(most recent call last\):\r\n  File "<console>", line \d, in <module>\r\n'
    r"KeyboardInterrupt\r\n>>> "
)
#: Statements that print a mark, then never await (nor end).
NEVER_AWAITING = {
    "a loop": ("while True:", "    n += 1", "    if n == 1: print('spinning')"),
    "a sleep": ("if 1:", "    print('spinning')", "    time.sleep(1000)"),
    "a loop after an await": (
        "if 1:",
        "    await asyncio.sleep(0)",
        "    print('spinning')",
        "    while True: n += 1",
    ),
}


def sleeping(pid: int) -> bool:
    """Whether process ``pid``'s main thread waits (here: for its terminal)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "S"


#: The local console run by a program on the loop it names (argv[1]).
ON_LOOP = (
    "import asyncio, sys, uvloop\n"
    "from aioexpect._console_local import run_local_console\n"
    "run = uvloop.run if sys.argv[1] == 'uvloop' else asyncio.run\n"
    "sys.exit(run(run_local_console()))\n"
)


def console_on(loop: str) -> Any:
    """The local console in a pty, on asyncio's loop or uvloop's."""
    return aioexpect.spawn(PY, ["-c", ON_LOOP, loop], env=env(), timeout=LIMIT)


async def typed(c: aioexpect.Session, *lines: str) -> None:
    """Type a block and the empty line that ends it."""
    for line in (*lines, ""):
        await c.sendline(line)


@pytest.mark.parametrize("statement", NEVER_AWAITING)
async def test_ctrl_c_interrupts_a_statement_that_never_awaits(statement: str) -> None:
    # The console took no Ctrl-C until the statement awaited: never, here.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "import time; n = 0")
        await evaluate(c, "s = await spawn('cat')")
        await typed(c, *NEVER_AWAITING[statement])
        await c.expect_exact("spinning\r\n")
        await c.sendintr()
        await c.expect(INTERRUPTED)
        # Its names, the console's and its sessions are there, and work.
        assert await evaluate(c, "n >= 0, type(s).__name__") == "(True, 'Session')\r\n"
        await evaluate(c, "await s.sendline('still here')")
        assert await evaluate(c, "(await s.expect_exact('still here')).group(0)") == (
            "'still here'\r\n"
        )
        # A statement that awaits is cancelled, as ever (the mark is printed
        # by a task of its own once the statement waits in its await).
        await typed(c, "async def mark():", "    print('waiting')")
        await c.sendline("await asyncio.gather(asyncio.sleep(30), mark())")
        await c.expect_exact("waiting\r\n")
        await c.sendintr()
        await c.expect_exact("\r\nKeyboardInterrupt\r\n>>> ")
        assert await evaluate(c, "6 * 7") == "42\r\n"
        await c.sendeof()
        assert await c.wait() == 0


async def test_ctrl_c_leaves_a_session_whose_execute_it_interrupts_in_step() -> None:
    # A statement that awaits runs aioexpect's code whenever its task
    # resumes it: a Ctrl-C then was a KeyboardInterrupt in the middle of
    # execute (its traceback down to clean_output, os.write...), not the
    # cancellation at its next await, and left its session's bookkeeping
    # half done: every later execute timed out waiting for a prompt.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "import itertools; s = await spawn('bash', ['--norc', '--noprofile'])")
        assert await evaluate(c, "print(await s.execute('echo ready'))") == "ready\r\n\r\n"
        for trial in range(8):  # (where each Ctrl-C falls is the luck of timing)
            await typed(
                c,
                "for n in itertools.count():",
                "    r = await s.execute('echo x')",
                "    if n == 1: print('spinning')",
            )
            await c.expect_exact("spinning\r\n")
            await c.sendintr()
            shown = str((await c.expect_exact(">>> ")).before)
            assert "aioexpect" not in shown and "asyncio" not in shown, shown
            answer = await evaluate(c, f"await s.execute('echo t{trial}', timeout=5)")
            assert answer == repr(f"t{trial}\n") + "\r\n", (trial, shown, answer)
        await c.sendeof()
        assert await c.wait() == 0


async def test_a_ctrl_c_the_statement_catches_is_answered_once() -> None:
    # Raised in the statement, the signal is not answered again by the
    # loop, whose handler still hears of it (the next line was interrupted).
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await typed(
            c,
            "try:",
            "    print('sleeping'); __import__('time').sleep(1000)",
            "except KeyboardInterrupt:",
            "    print('caught')",
        )
        await c.expect_exact("sleeping\r\n")
        await c.sendintr()
        await c.expect_exact("caught\r\n")
        assert (await c.expect_exact(">>> ")).before == ""
        assert await evaluate(c, "6 * 7") == "42\r\n"  # (not taken for a Ctrl-C again)
        await c.sendeof()
        assert await c.wait() == 0


async def test_ctrl_c_interrupts_a_statement_printing_to_a_paused_terminal() -> None:
    # Waiting for a terminal paused with Ctrl-S, the print left what a
    # Ctrl-C cut short to the loop, and the statement printed on.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "n = 0")
        await typed(c, "while True:", "    n += 1", "    print('x' * 100, n)")
        await c.expect_exact("x" * 100 + " 1\r\n")
        await c.send("\x13")  # Ctrl-S: the terminal takes nothing more
        pid = c.transport.get_extra_info("pid")
        await wait_until(lambda: sleeping(pid), "the console waits for its terminal")
        await c.sendintr()
        await c.send("\x11")  # Ctrl-Q
        found = await c.expect(INTERRUPTED)
        assert "During handling" not in str(found.before)  # (python3 -i: the interrupt alone)
        assert await evaluate(c, "n > 1") == "True\r\n"
        await c.sendeof()
        assert await c.wait() == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
async def test_a_signal_ends_the_console_while_a_statement_never_awaits(signum: int) -> None:
    # SIGTERM and SIGHUP ended the console only once the statement awaited:
    # never, here.  They end it as at its prompt: its sessions closed.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "s = await spawn('sleep', ['1004']); n = 0")
        pid = int(await evaluate(c, "s.transport.get_extra_info('pid')"))
        await typed(c, *NEVER_AWAITING["a loop"])
        await c.expect_exact("spinning\r\n")
        os.kill(c.transport.get_extra_info("pid"), signum)
        await c.expect(aioexpect.EOF)
        assert await c.wait() == 128 + signum
    with pytest.raises(ProcessLookupError):  # closed and reaped
        os.kill(pid, 0)


async def test_sigterm_ends_the_console_where_the_statement_catches_it() -> None:
    # Raised in the statement, a SIGTERM that a bare except: swallowed was
    # taken as answered: the loop's own answer skipped, the console ran on
    # (only SIGKILL ended it).  It ends it at the statement's next await.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "import time; n = 0")
        await typed(
            c,
            "while True:",
            "    try:",
            "        n += 1",
            "        if n == 1: print('spinning')",
            "        time.sleep(0.05)",  # (where it comes: in the try)
            "    except:",
            "        print('swallowed'); await asyncio.sleep(0.01)",
        )
        await c.expect_exact("spinning\r\n")
        os.kill(c.transport.get_extra_info("pid"), signal.SIGTERM)
        await c.expect_exact("swallowed")
        await c.expect(aioexpect.EOF)
        assert await c.wait() == 128 + signal.SIGTERM


async def test_from_future_imports_run_and_hold_for_the_statements_after() -> None:
    # aioconsole compiles a statement inside a function, where a __future__
    # import is a syntax error; Python's REPL takes it, and keeps its
    # compiler flags for the statements after it (codeop's).
    async with console() as server, connected(server) as c, connected(server) as other:
        await c.prompt()
        await other.prompt()
        assert await c.run("from __future__ import annotations") == ""
        assert await c.run("def f(a: undefined): pass\n") == "... "
        assert await c.run("f.__annotations__") == "{'a': 'undefined'}\n"
        assert await c.run("from __future__ import barry_as_FLUFL") == ""
        assert await c.run("1 <> 2") == "True\n"
        # ...and refuses what it refuses: aioconsole, parsing without it, ran this.
        assert (await c.run("1 != 2")).endswith(
            "SyntaxError: with Barry as BDFL, use '<>' instead of '!='\n"
        )
        assert await c.run("") == ""
        # As in Python's REPL, only at the start of what is typed; only known features.
        refused = await c.run("x = 1; from __future__ import annotations")
        assert refused.endswith(
            "SyntaxError: from __future__ imports must occur at the beginning of the file\n"
        ), refused
        assert "aioconsole" not in refused
        assert (await c.run("from __future__ import nothing")).endswith(
            "SyntaxError: future feature nothing is not defined\n"
        )
        # Another client's console is its own.
        other_error = await other.run("def g(a: undefined): pass\n")
        assert other_error.endswith("NameError: name 'undefined' is not defined\n"), other_error


async def test_a_second_ctrl_c_after_the_statement_got_one_interrupts_nothing(
    tmp_path: Path, aio_loop: str
) -> None:
    # A Ctrl-C that came once the statement was interrupted, while the
    # console showed its traceback, was answered by the loop after the
    # prompt: a second KeyboardInterrupt for the one statement (and the
    # line typed next dropped).  The traceback reads the statement's
    # source from a FIFO here: held there until the test writes it.
    source = tmp_path / "held.py"
    os.mkfifo(source)
    text = "import time\nprint('spinning')\ntime.sleep(1000)\n"
    async with console_on(aio_loop) as c:
        await c.expect_exact(">>> ")
        await evaluate(c, f"code = compile({text!r}, {str(source)!r}, 'exec')")
        await c.sendline("exec(code)")
        await c.expect_exact("spinning\r\n")
        await c.sendintr()
        await c.expect_exact("^C")
        opened: list[int] = []
        await wait_until(lambda: _open_writing(source, opened), "its traceback reads the FIFO")
        await c.sendintr()
        await c.expect_exact("^C")  # (the signal is sent as the terminal echoes it)
        os.write(opened[0], text.encode())
        os.close(opened[0])
        shown = str((await c.expect_exact(">>> ")).before)
        assert shown.count("KeyboardInterrupt") == 1, shown
        # A third, at the prompt, clears it, as ever; none is left for the next.
        await c.sendintr()
        assert (await c.expect_exact(">>> ")).before == "^C\r\nKeyboardInterrupt\r\n"
        assert await evaluate(c, "6 * 7") == "42\r\n"
        await c.sendeof()
        assert await c.wait() == 0


async def test_ctrl_cs_that_come_together_are_one_interrupt(aio_loop: str) -> None:
    # Ctrl-Cs typed at once are as many signals but one call of
    # Python's handler (as python3 -i: one KeyboardInterrupt); the loop
    # heard them all: after the one raised, the others cancelled the
    # statement that caught it (no 'after') or came as KeyboardInterrupts
    # at the prompt, dropping the line typed next.  They come while the
    # statement is in C code that checks no signal (sum), so that they
    # are one call of the handler, not by the luck of timing: under load
    # the terminal may send them apart, into a sleep that checks each.
    async with console_on(aio_loop) as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "import time")
        busy = f"print('busy'); sum(range({BUSY})); time.sleep(1000)"
        await typed(
            c,
            "try:",
            f"    {busy}",
            "except KeyboardInterrupt:",
            "    print('caught')",
            "    for _ in range(5): await asyncio.sleep(0.02)",  # (the loop runs)
            "    print('after')",
        )
        await c.expect_exact("busy\r\n")
        await c.send("\x03" * 5)
        await c.expect_exact("caught\r\n")
        assert (await c.expect_exact(">>> ")).before == "after\r\n"
        assert await evaluate(c, "6 * 7") == "42\r\n"
        await typed(c, "if 1:", f"    {busy}")
        await c.expect_exact("busy\r\n")
        await c.send("\x03" * 5)
        shown = str((await c.expect_exact(">>> ")).before)
        assert shown.count("KeyboardInterrupt") == 1, shown
        assert await evaluate(c, "6 * 7") == "42\r\n"
        await c.sendeof()
        assert await c.wait() == 0


#: What the statement sums in C while the Ctrl-Cs come (a second or two).
BUSY = 10**8


def _open_writing(fifo: Path, opened: list[int]) -> bool:
    """Open ``fifo`` for writing once a reader has it open (into ``opened``)."""
    try:
        opened.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as error:
        if error.errno != errno.ENXIO:
            raise
        return False
    return True


#: A program with its own handlers (asyncio.run's for SIGINT, its own for
#: SIGTERM and SIGHUP) that runs the local console, then looks at them.
HOSTING = """
import asyncio, os, signal, sys
import uvloop
from aioexpect._console_local import run_local_console
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

def mine(signum, frame):
    print("mine", signal.Signals(signum).name, flush=True)

async def main():
    before = {s: signal.getsignal(s) for s in SIGNALS}
    code = await run_local_console()
    print("ended", code, [s.name for s in SIGNALS if signal.getsignal(s) is before[s]])
    os.kill(os.getpid(), signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGHUP)

signal.signal(signal.SIGTERM, mine)
signal.signal(signal.SIGHUP, mine)
(uvloop.run if sys.argv[1] == "uvloop" else asyncio.run)(main())
"""


async def test_the_program_s_signal_handlers_are_back_after_the_console(aio_loop: str) -> None:
    # The loop's removal of the console's handlers left the defaults: a
    # program that ran the console lost its own (SIGTERM then killed it,
    # and asyncio.run's Ctrl-C handler was gone).
    async with aioexpect.spawn(PY, ["-c", HOSTING, aio_loop], env=env(), timeout=LIMIT) as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "6 * 7")
        await c.sendeof()
        await c.expect_exact("ended 0 ['SIGINT', 'SIGTERM', 'SIGHUP']\r\n")
        await c.expect_exact("mine SIGTERM\r\n")
        await c.expect_exact("mine SIGHUP\r\n")
        await c.expect(aioexpect.EOF)
        assert await c.wait() == 0


#: A library's coroutine that works between its awaits (as asyncssh's and
#: telnetlib3's do, resumed by the statement's task): a module of its own.
LIBRARY = """
import asyncio

class Counter:
    def __init__(self):
        self.started = self.ended = 0

    async def step(self):
        self.started += 1
        for _ in range(20000):
            pass
        self.ended += 1
        await asyncio.sleep(0)
"""


async def test_ctrl_c_is_not_raised_inside_a_library_s_coroutine(
    tmp_path: Path, aio_loop: str
) -> None:
    # A statement awaiting a library's coroutine (asyncssh.connect, a
    # telnetlib3 reader) got its KeyboardInterrupt inside the library's code,
    # wherever that was between two awaits: its objects left half updated
    # (here: a step started and never ended).  It is cancelled at the
    # library's next await instead, as in aioexpect's and asyncio's code.
    installed = tmp_path / "site-packages"  # (installed, as a library is)
    installed.mkdir()
    (installed / "steady.py").write_text(LIBRARY)
    async with console_on(aio_loop) as c:
        await c.expect_exact(">>> ")
        await evaluate(c, f"import sys; sys.path.insert(0, {str(installed)!r})")
        await evaluate(c, "import steady; counter = steady.Counter()")
        for _ in range(3):
            await typed(
                c,
                "while True:",
                "    await counter.step()",
                "    if counter.ended == 1: print('spinning')",
            )
            await c.expect_exact("spinning\r\n")
            await c.sendintr()
            shown = str((await c.expect_exact(">>> ")).before)
            assert "steady.py" not in shown, shown
            assert shown.endswith("\r\nKeyboardInterrupt\r\n"), shown
            assert await evaluate(c, "counter.started - counter.ended") == "0\r\n"
            await evaluate(c, "counter = steady.Counter()")
        await c.sendeof()
        assert await c.wait() == 0


#: The user's own module (not installed: no site-packages, nor the standard
#: library's) whose async code runs on without an await.
MINE = """
import contextlib

async def spin():
    print('spinning')
    while True:
        pass

async def spinning():
    yield 1
    print('spinning')
    while True:
        pass
    yield 2

@contextlib.asynccontextmanager
async def held():
    print('spinning')
    while True:
        pass
    yield
"""
#: Statements that run the user's own async code, which never awaits.
AWAITING_MINE = {
    "a coroutine": "await mine.spin()",
    "an async generator": "async for _ in mine.spinning(): pass",
    "an async context manager": "async with mine.held(): pass",
}


@pytest.mark.parametrize("statement", AWAITING_MINE)
async def test_ctrl_c_interrupts_the_user_s_own_coroutine_that_never_awaits(
    tmp_path: Path, aio_loop: str, statement: str
) -> None:
    # Only code installed (site-packages, the standard library) is spared
    # a KeyboardInterrupt between its awaits: every coroutine from a file
    # other than the console's was, and a Ctrl-C left the user's own module
    # spinning, as did SIGTERM (python3 -m asyncio interrupts it).
    (tmp_path / "mine.py").write_text(MINE)
    async with console_on(aio_loop) as c:
        await c.expect_exact(">>> ")
        await evaluate(c, f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import mine")
        line = AWAITING_MINE[statement]
        await (typed(c, line) if ": " in line else c.sendline(line))  # (a block: ended)
        await c.expect_exact("spinning\r\n")
        await c.sendintr()
        shown = str((await c.expect_exact(">>> ")).before)
        assert "mine.py" in shown and shown.endswith("\r\nKeyboardInterrupt\r\n"), shown
        assert await evaluate(c, "6 * 7") == "42\r\n"
        await c.sendeof()
        assert await c.wait() == 0


#: Where a Ctrl-C typed at once with the line after it comes: the prompt, a
#: block's second prompt, a statement waiting in an await.
TYPED_WITH = {
    "the prompt": (),
    "a block": ("if 1:", "... "),
    "a statement": ("print('waiting'); await asyncio.sleep(30)", "waiting\r\n"),
}


@pytest.mark.parametrize("where", TYPED_WITH)
async def test_a_line_typed_with_a_ctrl_c_runs_after_it(aio_loop: str, where: str) -> None:
    # The line reached aioconsole's reader before the loop answered the
    # signal: the answer dropped it with what was typed ahead (the
    # statement's case, about one time in two), or the console had read it
    # first and ran it before the KeyboardInterrupt (the block's: its
    # second line, an IndentationError, every time).  python3 -i runs it
    # after the KeyboardInterrupt.  Which comes first is the luck of timing.
    async with console_on(aio_loop) as c:
        await c.expect_exact(">>> ")
        terminal = (await evaluate(c, "import os; os.ttyname(0)")).strip().strip("'")
        for trial in range(6):
            if TYPED_WITH[where]:
                line, answer = TYPED_WITH[where]
                await c.sendline(line)
                await c.expect_exact(answer)
            if where == "a statement":  # (a line typed ahead of the Ctrl-C goes, as ever)
                await c.sendline("ahead = 1")
                await c.expect_exact("ahead = 1\r\n")
                await read_out_of(terminal)
            await c.send(f"\x03print('kept', {trial})\n")
            shown = str((await c.expect_exact(f"kept {trial}\r\n>>> ")).before)
            assert shown.endswith("\r\nKeyboardInterrupt\r\n>>> "), (trial, shown)
            assert "Error" not in shown, (trial, shown)
        assert await evaluate(c, "'ahead' in dir()") == "False\r\n"
        await c.sendeof()
        assert await c.wait() == 0


#: An audit hook that sends the console a SIGINT (as a Ctrl-C does) while
#: it compiles a statement that says ``MARK``: there, at once, as for a
#: Ctrl-C that comes while a large statement compiles.
INTERRUPTING_COMPILE = (
    "def interrupting(event, args):",
    "    if event == 'compile' and isinstance(args[0], bytes) and b'MARK' in args[0] and armed:",
    "        armed.clear()",
    "        os.kill(os.getpid(), signal.SIGINT)",
)


async def test_a_ctrl_c_while_a_statement_compiles_interrupts_it(aio_loop: str) -> None:
    # Heard while the console compiled the statement (its own code, not the
    # statement's), the Ctrl-C was left to the loop, which answered it at
    # the statement's first await: one that never awaits ran to its end
    # (here its sleep, to the test's limit), a Ctrl-C lost meanwhile.
    # python3 -i gives a KeyboardInterrupt there.
    async with console_on(aio_loop) as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "import os, signal, sys, time; armed = []")
        await typed(c, *INTERRUPTING_COMPILE)
        await c.expect_exact(">>> ")
        await evaluate(c, "sys.addaudithook(interrupting)")
        for statement in ("print('MARK ran'); time.sleep(60)", "await asyncio.sleep(0); 'MARK'"):
            await evaluate(c, "armed.append(True)")
            shown = await evaluate(c, statement)
            assert shown.endswith("KeyboardInterrupt\r\n"), shown
            assert "MARK" not in shown and await evaluate(c, "armed") == "[]\r\n", shown
        assert await evaluate(c, "6 * 7") == "42\r\n"  # (no Ctrl-C left for it)
        await c.sendeof()
        assert await c.wait() == 0


#: A function that holds the loop, run as a callback of its own (not the
#: statement's code: a Ctrl-C then is the loop's to answer), until the test
#: writes to the FIFO named ``held``; and a statement that has it run.
HOLDING = (
    "def hold():",
    "    with open(held, 'rb') as fifo:",
    "        fifo.read(1)",
)
HELD = "handle = asyncio.get_running_loop().call_soon(hold); await asyncio.sleep(30)"


async def test_what_is_typed_after_a_ctrl_c_reaches_the_statement_reading_it(
    tmp_path: Path, aio_loop: str
) -> None:
    # What came after the Ctrl-C, taken out of aioconsole's reader by the
    # interrupt's answer, was held aside for the console's prompt: a
    # statement typed with it that reads the next line (ainput, as input()
    # in python3 -i) waited for a line it never got, and that line ran as
    # a statement after it (on uvloop every time, here; asyncio answered
    # first).  The loop is held while the Ctrl-C and the lines come, so
    # that they reach the reader before the signal's answer.
    held = tmp_path / "held"
    os.mkfifo(held)
    async with console_on(aio_loop) as c:
        await c.expect_exact(">>> ")
        terminal = (await evaluate(c, "import aioconsole, os; os.ttyname(0)")).strip().strip("'")
        await evaluate(c, f"held = {str(held)!r}")
        await typed(c, *HOLDING)
        await c.expect_exact(">>> ")
        for trial in range(3):
            await c.sendline(HELD)
            await c.expect_exact(HELD + "\r\n")
            opened: list[int] = []
            await wait_until(lambda o=opened: _open_writing(held, o), "the loop held by the FIFO")
            keys = f"\x03x = await aioconsole.ainput(); print('got', repr(x))\nline {trial}\n"
            await c.send(keys)
            after = len(keys) - 1  # (all but the Ctrl-C: it is the signal)
            await wait_until(lambda n=after: _queued(terminal) == n, "the typing queued")
            os.write(opened[0], b"x")
            os.close(opened[0])
            shown = str((await c.expect_exact(">>> ")).before)
            assert shown.endswith("\r\nKeyboardInterrupt\r\n"), (trial, shown)
            ran = str((await c.expect_exact(">>> ")).before)
            assert ran.endswith(f"got 'line {trial}'\r\n"), (trial, ran)
        await c.sendeof()
        assert await c.wait() == 0


def _queued(terminal: str) -> int:
    """How many bytes wait in ``terminal``'s input queue, unread."""
    fd = os.open(terminal, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        waiting = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, waiting)
        return waiting[0]
    finally:
        os.close(fd)
