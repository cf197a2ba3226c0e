"""The console server over plain TCP and UNIX sockets, with real clients: a raw
asyncio client, socat and OpenBSD nc.  Token, loopback-only binding, socket
mode and symlink refusal, max_clients, login_timeout, per-client locals,
per-client exit, attach, and shutting down with clients connected."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import socket
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import ConnectError, start_console_server
from aioexpect._console_server import UNIX_PATH_MAX
from tests.conftest import need
from tests.helpers import wait_until

PROMPT = b">>> "
LIMIT = 10.0


class Client:
    """A raw asyncio client of a served console."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def prompt(self) -> bytes:
        """Everything up to the next prompt (the prompt excluded)."""
        async with asyncio.timeout(LIMIT):
            return (await self.reader.readuntil(PROMPT))[: -len(PROMPT)]

    async def run(self, line: str) -> str:
        """Send one line; return what it printed before the next prompt."""
        self.writer.write(line.encode() + b"\n")
        await self.writer.drain()
        return (await self.prompt()).decode()

    async def run_long(self, line: str) -> str:
        """``run`` for output past the stream's 64 KiB line limit; ``""`` if
        the server closed the connection."""
        self.writer.write(line.encode() + b"\n")
        await self.writer.drain()
        out = b""
        async with asyncio.timeout(LIMIT):
            while not out.endswith(PROMPT):
                chunk = await self.reader.read(65536)
                if not chunk:
                    return ""
                out += chunk
        return out[: -len(PROMPT)].decode()

    async def rest(self) -> bytes:
        """Everything until the server closes the connection."""
        async with asyncio.timeout(LIMIT):
            return await self.reader.read()


@asynccontextmanager
async def connected(server: Any, *, token: str | None = None) -> AsyncIterator[Client]:
    if server.path is not None:
        reader, writer = await asyncio.open_unix_connection(server.path)
    else:
        reader, writer = await asyncio.open_connection(server.host, server.port)
    client = Client(reader, writer)
    try:
        if token is not None:
            writer.write(token.encode() + b"\n")
        yield client
    finally:
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()


@asynccontextmanager
async def console(**options: Any) -> AsyncIterator[Any]:
    async with await start_console_server(**options) as server:
        yield server


async def test_the_server_opens_as_the_openers_do_awaited_or_with_async_with() -> None:
    async with start_console_server() as server:  # no await: like connect_ssh
        async with connected(server) as c:
            await c.prompt()
            assert await c.run("6 * 7") == "42\n"
    with pytest.raises(OSError):  # closed on exit
        await asyncio.open_connection(server.host, server.port)
    with pytest.raises(ValueError, match="max_clients"):  # checked when called
        start_console_server(max_clients=0)


# -- evaluation ---------------------------------------------------------------------


async def test_top_level_await_and_preloaded_names() -> None:
    async with console() as server, connected(server) as c:
        banner = await c.prompt()
        assert b"aioexpect" in banner and b"top-level await" in banner
        assert await c.run("await asyncio.sleep(0, result=41) + 1") == "42\n"
        names = "spawn, connect_ssh, connect_telnet, connect, run_many, sessions, attach"
        assert await c.run(f"all(map(callable, [{names}]))") == "True\n"
        assert (
            await c.run("spawn is aioexpect.spawn and run_many is aioexpect.run_many") == "True\n"
        )
        assert "ZeroDivisionError" in await c.run("1/0")
        assert await c.run("'still here'") == "'still here'\n"


async def typed(c: Client, line: str) -> str:
    """What ``line`` printed, the served console's file name (which names
    the client) shown as ``<console>``."""
    return re.sub(r'"<console [^"]*>"', '"<console>"', await c.run(line))


async def test_errors_show_as_python_s_own_repl_shows_them() -> None:
    # aioconsole wraps each statement in a function of its own: tracebacks
    # began in its aexec, named the statement __corofn and counted every
    # line (syntax errors too) one too many.
    async with console() as server, connected(server) as c:
        await c.prompt()
        assert await typed(c, "1/0") == (
            "Traceback (most recent call last):\n"
            '  File "<console>", line 1, in <module>\n'
            "ZeroDivisionError: division by zero\n"
        )
        await c.run("def f():\n    return {}[3]\n")
        out = await typed(c, "try:\n  f()\nexcept KeyError as e:\n  raise ValueError(7) from e\n")
        files = [line for line in out.splitlines() if line.startswith("  File")]
        assert files == [
            '  File "<console>", line 2, in <module>',
            '  File "<console>", line 2, in f',
            '  File "<console>", line 4, in <module>',
        ], out
        assert "aioconsole" not in out and out.endswith("ValueError: 7\n")
        out = await typed(c, "x = [1,\n 2,,]")
        assert out.startswith("... " + '  File "<console>", line 2\n') and "SyntaxError" in out
        assert await typed(c, "return 3") == (
            "  File \"<console>\", line 1\nSyntaxError: 'return' outside function\n"
        )
        assert await typed(c, "await asyncio.sleep(0, result=5)") == "5\n"
        # (a star import and a __future__ import, which aioconsole's function
        # refuses, run as in Python's REPL: see test_console_repl and
        # test_console_interrupt; an error only in aioconsole's text, at
        # the line typed: test_console_repl)


async def test_a_print_that_fails_shows_no_frame_of_the_console_s_print() -> None:
    # print is the console's (to its client), not the builtin: a print to a
    # bad file, or of an object whose __str__ raised, showed a frame of
    # aioconsole's print between the statement and the error.
    async with console() as server, connected(server) as c:
        await c.prompt()
        assert await typed(c, "print(1, file=5)") == (
            "Traceback (most recent call last):\n"
            '  File "<console>", line 1, in <module>\n'
            "AttributeError: 'int' object has no attribute 'write'\n"
        )
        await c.run("class Bad:\n    def __str__(self):\n        return {}[0]\n")
        out = await typed(c, "print(Bad())")
        files = [line for line in out.splitlines() if line.startswith("  File")]
        assert files == [
            '  File "<console>", line 1, in <module>',
            '  File "<console>", line 3, in __str__',
        ], out
        assert out.endswith("KeyError: 0\n")


async def test_an_error_of_a_class_typed_in_the_console_is_named_as_typed() -> None:
    # aioconsole runs each statement inside its function __corofn, so a
    # class typed in the console was shown as __corofn.<locals>.E (whose
    # __str__ failing or not): Python's REPL says E, and f.<locals>.L for
    # one defined in a function f.
    async with console() as server, connected(server) as c:
        await c.prompt()
        await c.run("class E(Exception):\n    def __str__(self):\n        raise RuntimeError\n")
        await c.run("class R(Exception):\n    def __repr__(self):\n        raise RuntimeError\n")
        await c.run("async def failing():\n    raise E()\n")
        await c.run("def f():\n    class L(Exception):\n        pass\n    raise L(3)\n")
        await c.run("class S(SyntaxError):\n    pass\n")
        await c.run("class M(Exception):\n    __module__ = 'mine'\n")
        for line, last in [
            ("raise E()", "E: <exception str() failed>"),
            ("raise R()", "R"),
            ("await failing()", "E: <exception str() failed>"),
            ("f()", "f.<locals>.L: 3"),
            ("raise S('bad', ('<typed>', 1, 2, 'abc', 1, 3))", "S: bad"),
            ("raise M(1)", "mine.M: 1"),
            ("raise ValueError(1) from E()", "ValueError: 1"),
        ]:
            out = await c.run(line)
            assert out.endswith(f"\n{last}\n") and "__corofn" not in out, out
        out = await c.run("raise ExceptionGroup('g', [E(), R()])")
        assert "| E: <exception str() failed>\n" in out and "| R\n" in out, out
        assert "__corofn" not in out, out
        assert await c.run("E.__qualname__, E.__module__") == "('E', '__main__')\n"


async def test_an_error_of_a_class_whose_metaclass_names_it_oddly_is_shown_as_typed() -> None:
    # A metaclass may give a class a __qualname__ that is not a str: naming
    # a class typed in the console as typed took it for one, failed, and the
    # error was shown with aioconsole's frames (aexec, "line 2, in
    # __corofn"); where the traceback cannot be shown, without its name.
    async with console() as server, connected(server) as c:
        await c.prompt()
        await c.run(
            "class Meta(type):\n    def __getattribute__(cls, name):\n"
            "        return 42 if name == '__qualname__' else type.__getattribute__(cls, name)\n"
        )
        await c.run("class Q(Exception, metaclass=Meta):\n    pass\n")
        out = await c.run("raise Q(5)")
        assert out.startswith("Traceback (most recent call last):\n  File ") and out.endswith(
            ", line 1, in <module>\n42: 5\n"
        ), out
        assert out.count("\n") == 3, out
        if sys.version_info < (3, 13):  # (3.13's traceback module shows it)
            await c.run("class Odd(Q):\n    @property\n    def __notes__(self):\n        1/0\n")
            out = await c.run("raise Odd()")
            assert out == (
                "42: its traceback could not be shown (ZeroDivisionError('division by zero'))\n"
            ), out


async def test_long_chains_of_errors_are_shown_and_keep_the_client() -> None:
    # Rewriting the frames recursed once per chained error: a retry written
    # as recursion in an except block chains about a thousand, and showing
    # them raised RecursionError, which dropped the client and its names.
    async with console() as server, connected(server) as c:
        await c.prompt()
        await c.run("kept = 42")
        await c.run(
            "def retry():\n    try:\n        1/0\n    except ZeroDivisionError:\n        retry()\n"
        )
        out = await c.run_long("retry()")
        assert out.count("ZeroDivisionError: division by zero\n") > 100, out[-500:]
        assert "\nRecursionError: maximum recursion depth exceeded" in out
        assert "in __corofn" not in out and '", line 5, in retry\n' in out
        await c.run("e = None")
        await c.run(
            "for i in range(3000):\n    try:\n        raise ValueError(i) from e\n"
            "    except ValueError as x:\n        e = x\n"
        )
        out = await c.run_long("raise e")
        assert out.startswith("Traceback") and "ValueError: 0\n" in out, out[-500:]
        assert out.endswith("ValueError: 2999\n")
        await c.run("g = ValueError(7)")
        await c.run("for i in range(3000):\n    g = ExceptionGroup('g', [g])\n")
        out = await c.run_long("raise g")
        assert "ExceptionGroup: g (1 sub-exception)" in out and "max_group_depth" in out, out
        # An error the traceback module cannot show at all: the console goes on.
        await c.run("class Odd(Exception):\n    @property\n    def __notes__(self):\n        1/0\n")
        shown = await c.run("raise Odd()")
        if sys.version_info < (3, 13):
            assert shown.endswith(
                "Odd: its traceback could not be shown (ZeroDivisionError('division by zero'))\n"
            )
        else:  # (3.13's traceback module shows it, as its REPL does)
            assert "Ignored error getting __notes__: ZeroDivisionError" in shown, shown
        assert await c.run("kept") == "42\n"


async def test_errors_raised_again_show_no_frames_of_the_console() -> None:
    # Only the leading frames of the error shown were left out: an error
    # raised again, or chained to one, in a later statement still showed the
    # frames that ran the first statement (our runcode, aioconsole's aexec).
    async with console() as server, connected(server) as c:
        await c.prompt()
        await c.run("1/0")
        assert await typed(c, "import sys; raise sys.last_value") == (
            "Traceback (most recent call last):\n"
            '  File "<console>", line 1, in <module>\n'
            '  File "<console>", line 1, in <module>\n'
            "ZeroDivisionError: division by zero\n"
        )
        out = await typed(c, "raise RuntimeError('again') from sys.last_value")
        assert out.startswith(
            "Traceback (most recent call last):\n"
            '  File "<console>", line 1, in <module>\n'
            '  File "<console>", line 1, in <module>\n'
            "ZeroDivisionError: division by zero\n"
        ), out
        assert out.endswith("RuntimeError: again\n"), out
        await c.run("old = sys.last_value.__cause__")
        out = await typed(c, "raise ExceptionGroup('g', [old, ValueError(1)])")
        assert "ZeroDivisionError: division by zero" in out, out
        assert "aioconsole" not in out and "_console.py" not in out, out
        await c.run("class Shown:\n    def __repr__(self):\n        return 1/0\n")
        out = await typed(c, "Shown()")
        assert '  File "<console>", line 3, in __repr__\n' in out, out
        assert "aioconsole" not in out and "_console.py" not in out, out


async def test_a_statement_too_deep_to_compile_is_an_error_and_the_client_stays() -> None:
    # Only a SyntaxError (and ValueError, OverflowError) from compiling was
    # shown: a RecursionError or MemoryError ended the client with its names.
    async with console() as server, connected(server) as c:
        await c.prompt()
        await c.run("kept = 42")
        out = await c.run("-" * 3000 + "1")
        assert out.startswith("RecursionError: maximum recursion depth exceeded"), out
        assert out.count("\n") == 1, out  # no traceback, as python3 -i
        out = await c.run("-" * 10000 + "1")
        assert out.count("\n") == 1 and "Error" in out, out
        assert await c.run("kept") == "42\n"


async def test_a_backslash_after_an_unfinished_expression_continues_the_statement() -> None:
    # aioconsole took 'x = 1 + \\' for a syntax error (its wrapped text ends
    # differently); the next line then ran as a statement of its own.
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"total = 40 + \\\n2\n")
        assert await c.prompt() == b"... "
        assert await c.run("total") == "42\n"
        c.writer.write(b"await asyncio.sleep(0, result=40) + \\\n2\n")
        assert await c.prompt() == b"... 42\n"
        c.writer.write(b"x = 1 + \\\n\n")  # an empty line: as python3 -i, an error
        out = (await c.prompt()).decode()
        assert out.startswith("... ") and "\nSyntaxError: " in out, out
        assert await c.run("'still here'") == "'still here'\n"


async def test_a_block_typed_with_crlf_line_ends_goes_on_to_its_end() -> None:
    # A client that ends lines in CR LF (telnet, nc -C): the block ran after
    # its first body line, and the next was an IndentationError.
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"if True:\r\n    y = 5\r\n    z = 6\r\n\r\n")
        assert await c.prompt() == b"... ... ... "
        assert await c.run("y, z") == "(5, 6)\n"


async def test_a_last_line_with_no_line_end_runs() -> None:
    # The input ended with no line end after its last statement: it was
    # dropped, where python3 -i runs it (printf 'y = 5\ny' | python3 -i).
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"y = 5\r\nprint('last', y)")
        c.writer.write_eof()
        assert "last 5\n" in (await c.rest()).decode()


async def test_a_block_pasted_with_the_next_statement_is_its_error_at_that_line() -> None:
    # As python3 -i: 'invalid syntax' at the line after the block.  The
    # typed text was checked as a module (where it compiles), and the
    # wrapped text's error was shown at line 2 with a note blaming aioconsole.
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"def h():\n    return 1\nh()\n")
        out = re.sub(r'"<console [^"]*>"', '"<console>"', (await c.prompt()).decode())
        assert out.startswith('... ...   File "<console>", line 3\n    h()\n'), out
        assert out.endswith("SyntaxError: invalid syntax\n") and "aioconsole" not in out, out


@pytest.mark.parametrize(
    ("lines", "shown", "offset"),
    [
        ("1 +", "line 1\n    1 +\n       ^\n", 4),
        ("lambda", "line 1\n    lambda\n          ^\n", 7),
        ("def f(x):\n    return x +", "line 2\n    return x +\n              ^\n", 15),
        ("if 1:\n  pass\nelif", "line 3\n    elif\n        ^\n", 5),
    ],
)
async def test_an_error_at_the_end_of_what_was_typed_has_its_caret(
    lines: str, shown: str, offset: int
) -> None:
    # As python3 -i: the caret after the text.  The typed text was compiled
    # with no line end after it, which put such an error at column 0, with
    # no caret (and sys.last_value.offset 0).
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(lines.encode() + b"\n")
        out = re.sub(r'"<console [^"]*>"', '"<console>"', (await c.prompt()).decode())
        assert out.endswith(f'File "<console>", {shown}SyntaxError: invalid syntax\n'), out
        assert await c.run("import sys; sys.last_value.offset") == f"{offset}\n"


async def test_a_form_feed_before_a_statement_counts_as_python_counts_it() -> None:
    # Ctrl-L typed at the prompt (a terminal's clear-screen habit) puts a
    # form feed before the statement; Python's tokenizer counts a line's
    # indent from its last one, and python3 -i runs such lines.  aioconsole
    # indents each line, which the form feed counted away: 'expected an
    # indented block after function definition'.  A string keeps its own.
    async with console() as server, connected(server) as c:
        await c.prompt()
        assert await c.run("\fx = 1") == ""
        assert await c.run("x") == "1\n"
        c.writer.write(b"if x:\n\f    y = 2\n  \f    print('in', y)\n\n")
        assert (await c.prompt()).decode() == "... ... ... in 2\n"
        assert await c.run('"""a\n\fb"""') == "... 'a\\n\\x0cb'\n"


async def test_yield_in_a_lambda_is_refused_with_words_that_are_true() -> None:
    # aioconsole refuses a yield in a lambda (python3 -i takes it); the note
    # said the statement ran inside a function, where a yield is allowed.
    async with console() as server, connected(server) as c:
        await c.prompt()
        assert await typed(c, "f = lambda: (yield)") == (
            '  File "<console>", line 1\n'
            "SyntaxError: 'yield' in a lambda\n"
            "Python's REPL accepts this; aioconsole, which runs the console's statements,"
            " does not\n"
        )
        assert await c.run("import sys; sys.last_value.offset") == "14\n"


@pytest.mark.parametrize(
    ("raised", "why"),
    [
        ("SystemExit(3)", "SystemExit(3)"),
        ("asyncio.CancelledError()", "CancelledError()"),
        ("Unshowable()", None),
    ],
)
async def test_an_error_whose_display_raises_anything_keeps_the_client(
    raised: str, why: str | None
) -> None:
    # Showing an error caught only an Exception: a __notes__ that raised
    # SystemExit or CancelledError ended the client and its names.
    async with console() as server, connected(server) as c:
        await c.prompt()
        await c.run("kept = 42")
        await c.run("class Unshowable(SystemExit):\n    def __repr__(self):\n        raise self\n")
        await c.run(
            f"class Odd(Exception):\n    @property\n    def __notes__(self):\n"
            f"        raise {raised}\n"
        )
        out = await c.run("raise Odd()")
        if why is None:  # why it failed cannot be shown either
            assert out == "<an error whose traceback could not be shown>\n"
        else:
            assert out.endswith(f"Odd: its traceback could not be shown ({why})\n"), out
        assert await c.run("kept") == "42\n"


async def test_a_lone_surrogate_is_shown_escaped_and_keeps_the_client() -> None:
    # aioconsole encoded what the console writes strictly: a lone surrogate
    # (os.fsdecode's, for a byte that is not UTF-8) in an error, a print or
    # exit() raised UnicodeEncodeError out of the console, and the client
    # was dropped.
    async with console() as server, connected(server) as c:
        await c.prompt()
        await c.run("kept = 42")
        assert await typed(c, r"raise ValueError('\udc80')") == (
            "Traceback (most recent call last):\n"
            '  File "<console>", line 1, in <module>\n'
            "ValueError: \\udc80\n"
        )
        assert await c.run(r"print('caf\udce9')") == "caf\\udce9\n"
        assert await c.run("kept") == "42\n"
        c.writer.write(rb"exit('\udc80')" + b"\n")
        assert await c.rest() == b"\\udc80\n"


async def test_bytes_that_are_not_utf8_and_an_over_long_line_keep_the_client() -> None:
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"'caf\xc3' + '!'\n")  # a cut character: replaced
        assert (await c.prompt()).decode() == "'caf\ufffd!'\n"
        c.writer.write(b"x = '" + b"y" * 100_000 + b"'\n")  # over the stream's 64 KiB limit
        assert b"line too long (over 65536 bytes), ignored" in await c.prompt()
        assert "NameError" in await c.run("x")  # the long line did not run, nor its tail
        assert await c.run("40 + 2") == "42\n"


async def test_sessions_lists_live_sessions() -> None:
    async with console() as server, connected(server) as c, aioexpect.spawn("cat") as cat:
        await c.prompt()
        waiting = asyncio.ensure_future(cat.expect("never-arrives"))
        try:
            await asyncio.sleep(0)
            table = await c.run("sessions()")
            header, *rows = table.splitlines()
            assert header.split()[:4] == ["id", "kind", "peer", "state"]
            assert header.endswith("waiting for")
            row = next(r for r in rows if r.startswith(f"#{cat.id} "))
            assert "pty" in row and "open" in row and "'never-arrives'" in row
            assert await c.run(f"sessions()[-1].id == {cat.id}") == "True\n"
        finally:
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)


# -- token ------------------------------------------------------------------------------


async def test_right_token_then_banner() -> None:
    async with console(token="s3cret-token") as server:
        async with connected(server, token="s3cret-token") as c:
            assert b"top-level await" in await c.prompt()
            assert await c.run("6 * 7") == "42\n"
        async with connected(server) as c:  # a CRLF client (telnet style) is fine too
            c.writer.write(b"s3cret-token\r\n")
            await c.prompt()


@pytest.mark.parametrize("first", ["wrong", "s3cret-token-but-longer", "", "box.append(1)"])
async def test_wrong_token_is_told_and_closes_before_anything_is_shown_or_run(first: str) -> None:
    box: list[int] = []
    async with console(token="s3cret-token", locals={"box": box}) as server:
        async with connected(server) as c:
            c.writer.write(f"{first}\nbox.append(2)\n".encode())
            # Why, and nothing else: no banner, no prompt, no output.
            assert await c.rest() == b"aioexpect console: wrong token\r\n"
        assert box == []
        async with connected(server, token="s3cret-token") as c:  # the server goes on
            await c.prompt()
            assert await c.run("box") == "[]\n"


async def test_login_timeout_drops_a_silent_client() -> None:
    async with console(token="t0ken", login_timeout=0.2) as server:
        async with connected(server) as c:
            loop = asyncio.get_running_loop()
            start = loop.time()
            assert await c.rest() == b"aioexpect console: no token within the login time-out\r\n"
            assert loop.time() - start < 5
        async with connected(server, token="t0ken") as c:
            await c.prompt()


@pytest.mark.parametrize("forever", [10**400, math.inf], ids=["10**400", "inf"])
async def test_a_login_timeout_past_a_float_waits_for_ever(forever: Any) -> None:
    # 10**400 passed the check, then asyncio.timeout raised OverflowError in
    # each client's handler; NaN passed it too.
    async with console(token="t0ken", login_timeout=forever) as server:
        async with connected(server, token="t0ken") as c:
            await c.prompt()
            assert await c.run("6 * 7") == "42\n"
    with pytest.raises(ValueError, match="login_timeout"):
        await start_console_server(login_timeout=math.nan)


async def test_login_timeout_nan_is_refused_and_inf_waits_for_ever() -> None:
    # NaN was taken, and every client was told "no token within the login
    # time-out" at once, even one that sent the token with its connection.
    with pytest.raises(ValueError, match="login_timeout"):
        async with console(token="t0ken", login_timeout=math.nan):
            pass
    async with console(token="t0ken", login_timeout=math.inf) as server:
        async with connected(server) as silent:
            async with connected(server, token="t0ken") as other:
                await other.prompt()
                assert await other.run("6 * 7") == "42\n"
            silent.writer.write(b"t0ken\n")
            await silent.prompt()


# -- where it listens ------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "", None, "::", "192.0.2.1", "8.8.8.8"])
async def test_non_loopback_without_ssh_is_refused_before_binding(host: str | None) -> None:
    # 192.0.2.1 is not on this machine: binding it would fail with ConnectError,
    # so a ValueError shows the check came first.  In the API's words (the
    # command line names its options instead).
    with pytest.raises(ValueError, match="loopback") as refused:
        await start_console_server(host=host)
    assert str(refused.value).endswith(
        "use 127.0.0.1, ::1 or localhost, a UNIX socket (path=), or SSH (authorized_client_keys=)"
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost"])
async def test_loopback_addresses_are_served(host: str) -> None:
    async with console(host=host) as server, connected(server) as c:
        assert server.host is not None and server.host.startswith(("127.", "::1"))
        await c.prompt()
        assert await c.run("1 + 1") == "2\n"


async def test_port_in_use_is_a_connect_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConnectError, match=str(port)):
            await start_console_server(port=port)


async def test_unix_socket_mode_0600_and_removed_on_close(tmp_path: Path) -> None:
    path = tmp_path / "console.sock"
    umask = os.umask(0o022)
    os.umask(umask)
    async with console(path=path) as server:
        assert server.path == str(path) and not hasattr(server, "port")  # (no port: a path)
        st = os.lstat(path)
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert os.umask(umask) == umask  # the process umask was restored
        async with connected(server) as c:
            await c.prompt()
            assert await c.run("'over unix'") == "'over unix'\n"
    assert not path.exists()


async def test_unix_socket_refuses_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.write_text("keep me")
    link = tmp_path / "console.sock"
    link.symlink_to(target)
    with pytest.raises(ValueError, match="symbolic link"):
        await start_console_server(path=link)
    dangling = tmp_path / "dangling.sock"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="symbolic link"):
        await start_console_server(path=dangling)
    assert target.read_text() == "keep me" and link.is_symlink()
    assert not (tmp_path / "nowhere").exists()


async def test_unix_socket_refuses_a_file_and_a_live_socket(tmp_path: Path) -> None:
    regular = tmp_path / "file"
    regular.write_text("data")
    with pytest.raises(ValueError, match="not a socket"):
        await start_console_server(path=regular)
    path = tmp_path / "console.sock"
    async with console(path=path):
        with pytest.raises(ConnectError, match="listening"):
            await start_console_server(path=path)


async def test_a_unix_socket_path_too_long_is_a_connect_error_that_says_so(
    tmp_path: Path,
) -> None:
    # Python refuses the path before bind(), in an OSError with no strerror:
    # the error said "cannot serve the console on ...: None".
    def at(length: int) -> Path:
        assert len(bytes(tmp_path)) < length - 2, "a shorter base directory"
        return tmp_path / ("s" * (length - len(bytes(tmp_path)) - 1))

    longest, over = at(UNIX_PATH_MAX), at(UNIX_PATH_MAX + 1)
    async with console(path=longest) as server, connected(server) as c:
        await c.prompt()
        assert await c.run("'at the limit'") == "'at the limit'\n"
    with pytest.raises(ConnectError) as caught:
        await start_console_server(path=over)
    assert str(caught.value) == (
        f"cannot serve the console on {over}: the path is {UNIX_PATH_MAX + 1} bytes long,"
        f" and a UNIX socket's has {UNIX_PATH_MAX} at most"
    )
    assert not over.exists()


async def test_unix_socket_replaces_a_stale_socket(tmp_path: Path) -> None:
    path = tmp_path / "console.sock"
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(path))
    assert path.exists()
    async with console(path=path) as server, connected(server) as c:
        await c.prompt()


# -- clients ------------------------------------------------------------------------------


async def test_a_client_refused_for_its_token_frees_its_slot_at_once() -> None:
    # Told why and half-closed, it once kept its max_clients slot for as long
    # as it kept its end open (up to 10 s): the right client was refused.
    async with console(token="s3cret-token", max_clients=1) as server:
        async with connected(server) as wrong:
            wrong.writer.write(b"wrong\n")
            assert await wrong.reader.readline() == b"aioexpect console: wrong token\r\n"
            await wait_until(lambda: server.clients == 0, "the slot is free", limit=2.0)
            async with connected(server, token="s3cret-token") as right:
                assert b"top-level await" in await right.prompt()
            wrong.writer.write_eof()
            assert await wrong.rest() == b""  # closed once it stopped sending


async def test_clients_that_reset_before_sending_a_token_leave_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """On uvloop, telling them why raised RuntimeError in a task nobody
    awaited: a traceback on the program's stderr per connection."""
    caplog.set_level(logging.INFO)
    async with console(token="s3cret-token", max_clients=1) as server:
        for _ in range(5):
            sock = socket.create_connection(("127.0.0.1", server.port))
            await asyncio.sleep(0.05)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            sock.close()  # a reset
            await wait_until(lambda: server.clients == 0, "the slot is free", limit=2.0)
        async with connected(server, token="s3cret-token") as right:
            assert b"top-level await" in await right.prompt()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert caplog.text.count("left without sending a token") == 5


async def test_max_clients() -> None:
    async with console(max_clients=2) as server:
        async with connected(server) as a, connected(server) as b:
            await a.prompt()
            await b.prompt()
            async with connected(server) as c:
                c.writer.write(b"typed ahead\n" * 1000)  # unread, it must not cost the reason
                assert await c.rest() == b"aioexpect console: refused: max_clients=2 reached\r\n"
            assert await a.run("'a still served'") == "'a still served'\n"
            b.writer.write(b"exit()\n")
            assert await b.rest() == b""
            async with connected(server) as d:  # room again
                await d.prompt()


async def test_a_refused_client_that_typed_ahead_still_reads_why(tmp_path: Path) -> None:
    # Closed with that input unread, the connection would be reset, and the
    # reset can destroy the line before the client reads it.
    async with console(path=tmp_path / "c.sock", max_clients=1) as server:
        async with connected(server) as a:
            await a.prompt()
            async with connected(server) as c:
                c.writer.write(b"6 * 7\n" * 20)
                await asyncio.sleep(0.3)  # the server has refused and written meanwhile
                assert await c.rest() == b"aioexpect console: refused: max_clients=1 reached\r\n"


async def test_each_client_has_its_own_locals_on_top_of_the_shared_ones() -> None:
    shared: dict[str, Any] = {"config": {"mode": "test"}, "level": 1}
    async with console(locals=shared) as server:
        async with connected(server) as a, connected(server) as b:
            await a.prompt()
            await b.prompt()
            assert await a.run("mine = 'a'; level = 99; level") == "99\n"
            assert "NameError" in await b.run("mine")
            assert await b.run("level") == "1\n"  # a's rebinding stays a's
            assert shared["level"] == 1
            shared["level"] = 2  # the program changes a shared name: seen live
            shared["added"] = "later"
            assert await b.run("level, added") == "(2, 'later')\n"
            assert await a.run("level") == "99\n"
            await a.run("config['seen_by'] = 'a'")  # shared objects are shared
            assert await b.run("config") == "{'mode': 'test', 'seen_by': 'a'}\n"


@pytest.mark.parametrize(
    "ending", ["exit()", "quit()", "raise SystemExit(3)", "import sys; sys.exit()", "EOF"]
)
async def test_ending_one_client_leaves_the_others_and_the_program(ending: str) -> None:
    async with console() as server:
        async with connected(server) as a, connected(server) as b:
            await a.prompt()
            await b.prompt()
            if ending == "EOF":
                a.writer.write_eof()
            else:
                a.writer.write(ending.encode() + b"\n")
            assert PROMPT not in await a.rest()
            assert await b.run("'b goes on'") == "'b goes on'\n"
            assert server.clients == 1
        async with connected(server) as c:
            await c.prompt()


async def test_attach_round_trip_and_the_program_continues() -> None:
    async with (
        aioexpect.spawn("cat", timeout=LIMIT) as cat,
        aioexpect.spawn("cat", timeout=LIMIT) as other,
        console(locals={"cat": cat}) as server,
        connected(server) as c,
    ):
        # The program waits on `cat` with a deadline shorter than the attach.
        program = asyncio.ensure_future(cat.expect("PROGRAM-GOES-ON", timeout=1.0))
        await c.prompt()
        c.writer.write(b"await attach(cat)\n")
        async with asyncio.timeout(LIMIT):
            await c.reader.readuntil(b"Ctrl-] detaches\r\n")
            c.writer.write(b"typed by a person\n")
            # the pty echoes the line and cat prints it again: both come back
            await c.reader.readuntil(b"typed by a person\r\ntyped by a person\r\n")
            for n in range(3):  # other sessions keep running meanwhile
                await other.sendline(f"other {n}")
                await other.expect(f"other {n}\r\nother {n}\r\n")
            await asyncio.sleep(1.2)  # past the program's deadline: suspended
            assert not program.done()
            assert cat.info()["state"] == "attached"
            c.writer.write(b"\x1d")
            detached = await c.prompt()
        assert b"detached" in detached
        assert cat.info()["state"] == "open"
        await cat.sendline("PROGRAM-GOES-ON")
        match = await program
        assert match.after == "PROGRAM-GOES-ON"
        assert "typed by a person" not in match.before  # the person's text went to the person
        assert await c.run("'console goes on'") == "'console goes on'\n"


async def test_attach_shows_what_the_program_buffered_and_leaves_it_there() -> None:
    async with (
        aioexpect.spawn("sh", ["-c", "printf 'READY> '; exec cat"], timeout=LIMIT) as s,
        console(locals={"s": s}) as server,
        connected(server) as c,
        connected(server) as d,
    ):
        await wait_until(lambda: s.buffer == "READY> ", "the program's prompt is buffered")
        await c.prompt()
        await d.prompt()
        c.writer.write(b"await attach(s)\n")
        async with asyncio.timeout(LIMIT):
            await c.reader.readuntil(b"Ctrl-] detaches\r\nREADY> ")
            # A second attach is refused before it says anything.
            out = await d.run("await attach(s)")
            assert "BusyError" in out and "attached to" not in out
            c.writer.write(b"\x1d")
            assert b"detached" in await c.prompt()
        assert (await s.expect_exact("READY> ", timeout=1)).before == ""


async def test_what_a_client_sends_after_the_escape_is_the_consoles_next_input() -> None:
    # nc sends a line at once: "^]print(...)" and its line end in one read.
    # What followed the escape was dropped without a word: the statement
    # never ran.  A line end alone (what sent the escape) adds nothing.
    async with (
        aioexpect.spawn("cat", timeout=LIMIT) as cat,
        console(locals={"cat": cat}) as server,
        connected(server) as c,
    ):
        await c.prompt()
        for typed, shown in (
            (b"\x1dprint('TYPED' + '-AHEAD')\n", b"TYPED-AHEAD\n"),
            (b"\x1d\n", b""),
        ):
            c.writer.write(b"await attach(cat)\n")
            async with asyncio.timeout(LIMIT):
                await c.reader.readuntil(b"Ctrl-] detaches\r\n")
                c.writer.write(typed)
                await c.reader.readuntil(b"detached\n")
                assert await c.prompt() == b""
                if shown:
                    assert await c.prompt() == shown
        assert await c.run("'console goes on'") == "'console goes on'\n"
        await cat.sendline("still usable")
        await cat.expect_exact("still usable\r\nstill usable\r\n")


async def test_attach_refuses_a_line_end_to_detach_from_a_client_that_sends_lines() -> None:
    # nc sends lines: with escape_character="\n" the first line's end
    # detached, its text sent without it (the shell never ran it), so no
    # line could be sent; interact() refuses it where its input is lines.
    async with (
        aioexpect.spawn("sh", pty=False, timeout=LIMIT) as sh,
        console(locals={"sh": sh}) as server,
        connected(server) as c,
    ):
        await c.prompt()
        out = await c.run("await attach(sh, escape_character='\\n')")
        assert "ValueError: escape_character '\\n' would" in out, out
        assert "attached to" not in out
        await sh.sendline("echo still-$((1+1))")  # (nothing of the attach sent)
        await sh.expect_exact("still-2\n")
        assert sh.buffer == ""


async def test_attach_refuses_a_bad_target() -> None:
    async with console() as server, connected(server) as c:
        await c.prompt()
        assert "ValueError: no live session #9999" in await c.run("await attach(9999)")
        assert "TypeError" in await c.run("await attach('cat')")


async def test_attach_takes_one_key_to_detach_as_interact_does() -> None:
    # 'ab' was taken, and typing a then b never detached (the escape was
    # found only within one read): the console's user had no way back.
    async with (
        aioexpect.spawn("cat", timeout=LIMIT) as cat,
        console(locals={"cat": cat}) as server,
        connected(server) as c,
    ):
        await c.prompt()
        out = await c.run("await attach(cat, escape_character='ab')")
        assert "ValueError: escape_character must be one character (a key), not 'ab'" in out
        assert "TypeError" in await c.run("await attach(cat, escape_character=None)")
        assert cat.info()["state"] == "open"
        await cat.sendline("still mine")
        await cat.expect_exact("still mine\r\nstill mine\r\n")


async def test_attach_types_in_the_sessions_encoding() -> None:
    """As ``interact`` does (they share the bridge): a Latin-1 device's
    output reaches the client in UTF-8, and the client's UTF-8 reaches the
    device in Latin-1.  Typing é sent c3 a9, the UTF-8 bytes as they came."""
    shell = "stty -echo; printf 'READY\\351> '; head -c 2 | od -An -tx1; exec cat"
    async with (
        aioexpect.spawn("sh", ["-c", shell], encoding="latin-1", timeout=LIMIT) as s,
        console(locals={"s": s}) as server,
        connected(server) as c,
    ):
        await c.prompt()
        c.writer.write(b"await attach(s)\n")
        async with asyncio.timeout(LIMIT):
            await c.reader.readuntil("READY\xe9> ".encode())
            c.writer.write("\xe9\n".encode())
            await c.reader.readuntil(b" e9 0a\r\n")
            c.writer.write(b"\x1d")
            assert b"detached" in await c.prompt()


async def test_close_with_clients_connected_shows_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
    server = await start_console_server(token="tok")
    async with connected(server, token="tok") as idle, connected(server, token="tok") as busy:
        async with connected(server) as unauthenticated:
            await idle.prompt()
            await busy.prompt()
            busy.writer.write(b"await asyncio.sleep(60)\n")
            await busy.writer.drain()
            await idle.run("'ready'")
            assert server.clients == 3
            server.close()
            await server.wait_closed()
            for c in (idle, busy, unauthenticated):
                rest = await c.rest()
                assert b"Traceback" not in rest
    assert server.clients == 0
    assert not errors
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_server_attributes_and_repeated_close() -> None:
    server = await start_console_server()
    assert isinstance(server.port, int) and server.port > 0
    assert server.path is None
    assert f"127.0.0.1:{server.port}" in repr(server)
    server.close()
    server.close()
    await server.wait_closed()
    await server.wait_closed()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", server.port)


async def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="token"):
        await start_console_server(token="")
    with pytest.raises(ValueError, match="token"):
        await start_console_server(token="two\nlines")
    with pytest.raises(TypeError, match="token"):
        await start_console_server(token=b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_clients"):
        await start_console_server(max_clients=0)
    with pytest.raises(ValueError, match="login_timeout"):
        await start_console_server(login_timeout=-1)
    with pytest.raises(ValueError, match="port"):
        await start_console_server(port=70000)
    with pytest.raises(ValueError, match="authorized_client_keys"):
        await start_console_server(ssh_host_keys=["key"])
    with pytest.raises(TypeError, match="locals"):
        await start_console_server(locals=[("a", 1)])  # type: ignore[arg-type]
    for where in ({"port": 8888}, {"host": "::1"}):
        with pytest.raises(ValueError, match="do not apply"):
            await start_console_server(path="/tmp/never-made.sock", **where)


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        # (ValueErrors for a value of the wrong type)
        ({"login_timeout": "3"}, TypeError, "login_timeout must be a positive number"),
        ({"login_timeout": True}, TypeError, "login_timeout must be a positive number"),
        ({"max_clients": "3"}, TypeError, "max_clients must be a positive int"),
        # (os's own, once awaited: "expected str, bytes or os.PathLike object,
        # not int" and "embedded null byte")
        ({"path": 3}, TypeError, "path must be a str or a path, not int"),
        ({"path": "con\0sole.sock"}, ValueError, "path holds a NUL"),
        # ("does not resolve"/"is not a loopback address", once awaited)
        ({"host": 3}, TypeError, "host must be a str, not int"),
        ({"host": " 127.0.0.1"}, ValueError, "host must not hold spaces"),
    ],
)
async def test_a_bad_argument_is_refused_by_the_call(
    options: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        start_console_server(**options)


async def test_an_empty_path_is_refused_by_the_call() -> None:
    # bind("") made a socket in the abstract namespace; the server listened
    # on it, and os.lstat("") then raised FileNotFoundError, the listener
    # left open (a descriptor the harness finds after the test).
    with pytest.raises(ValueError, match="path must not be empty"):
        start_console_server(path="")


async def test_a_path_given_as_bytes_is_served_and_shown_as_a_str(tmp_path: Path) -> None:
    path = tmp_path / "console.sock"
    async with console(path=bytes(path)) as server:
        assert server.address == f"unix:{path}"  # (was "unix:b'...'")
        async with connected(server) as c:
            await c.prompt()
            assert await c.run("6 * 7") == "42\n"
    assert not path.exists()


# -- real clients: socat and nc -------------------------------------------------------------


async def test_socat_client_with_token() -> None:
    socat = need("socat", "Debian socat")
    async with console(token="tok-socat") as server:
        async with aioexpect.spawn(
            socat, ["-", f"TCP:127.0.0.1:{server.port}"], pty=False, timeout=LIMIT
        ) as s:
            await s.sendline("tok-socat")
            await s.expect_exact(">>> ")
            await s.sendline("sum(range(10))")
            await s.expect_exact("45\n>>> ")
            await s.sendline("exit()")
            await s.expect(aioexpect.EOF)
            assert await s.wait() == 0


async def test_nc_client_wrong_token_is_told_and_nothing_runs() -> None:
    nc = need("nc", "Debian netcat-openbsd")
    async with console(token="tok-nc") as server:
        async with aioexpect.spawn(
            nc, ["-N", "127.0.0.1", str(server.port)], pty=False, timeout=LIMIT
        ) as s:
            await s.sendline("not-the-token")
            await s.sendline("print('evaluated')")
            await s.sendeof()
            assert await s.read_all() == "aioexpect console: wrong token\r\n"
            async with asyncio.timeout(LIMIT):
                await s.wait()


async def test_nc_client_over_unix_socket(tmp_path: Path) -> None:
    nc = need("nc", "Debian netcat-openbsd")
    path = tmp_path / "c.sock"
    async with console(path=path) as server:
        async with aioexpect.spawn(
            nc, ["-N", "-U", str(server.path)], pty=False, timeout=LIMIT
        ) as s:
            await s.expect_exact(">>> ")
            await s.sendline("'via nc -U'")
            await s.expect_exact("'via nc -U'\n>>> ")
            await s.sendeof()
            await s.expect(aioexpect.EOF)
            await s.wait()
