"""The local console (``python3 -m aioexpect console``) driven through a pty by
aioexpect itself, and the ``console --serve`` and ``run`` subcommands as real
processes."""

from __future__ import annotations

import array
import asyncio
import fcntl
import os
import re
import signal
import sys
import termios
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect._console import SessionList, sessions
from aioexpect._console_trace import typed_syntax_error, without_form_feeds
from tests.helpers import has_ipv6_loopback, wait_until

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 15.0
PY = sys.executable


def env(**extra: str) -> dict[str, str]:
    values = dict(os.environ)
    values["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), values.get("PYTHONPATH")]))
    values.pop("AIOEXPECT_CONSOLE_TOKEN", None)
    values.update(extra)
    return values


def local_console() -> Any:
    return aioexpect.spawn(
        PY, ["-m", "aioexpect", "console"], env=env(), cwd=str(ROOT), timeout=LIMIT
    )


def command(args: list[str], *, cwd: Path = ROOT, **extra: str) -> Any:
    return aioexpect.spawn(
        PY, ["-m", "aioexpect", *args], pty=False, env=env(**extra), cwd=str(cwd), timeout=LIMIT
    )


async def evaluate(s: aioexpect.Session, line: str) -> str:
    """Send a line to a console in a pty; return its output (echo removed)."""
    await s.sendline(line)
    out = str((await s.expect_exact(">>> ")).before)
    return out.split("\r\n", 1)[1] if "\r\n" in out else ""


@asynccontextmanager
async def tcp_client(port: int) -> AsyncIterator[tuple[asyncio.StreamReader, Any]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()


async def served_port(s: aioexpect.Session) -> int:
    match = await s.expect(r"console served on 127\.0\.0\.1:(\d+)")
    return int(match.group(1))


# -- the local console ------------------------------------------------------------------


async def test_local_console_awaits_lists_sessions_and_exits_with_a_status() -> None:
    async with local_console() as c:
        await c.expect_exact("top-level await")
        await c.expect_exact(">>> ")
        assert await evaluate(c, "await asyncio.sleep(0, result=6 * 7)") == "42\r\n"
        await evaluate(c, "s = await spawn('cat')")
        table = await evaluate(c, "sessions()")
        header, row = table.splitlines()[:2]
        assert header.split()[:4] == ["id", "kind", "peer", "state"]
        assert row.split()[1:4] == ["pty", "cat", "open"]
        assert "NameError" not in await evaluate(
            c, "connect_ssh, connect_telnet, connect, run_many"
        )
        await c.sendline("exit(3)")
        await c.expect(aioexpect.EOF)
        assert await c.wait() == 3


async def test_local_console_attach_round_trip_and_the_program_continues() -> None:
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "s = await spawn('cat')")
        # "the program": a task in the console's process waiting on the session
        await evaluate(c, "waiting = asyncio.ensure_future(s.expect('PING', timeout=1.0))")
        await c.sendline("await attach(s)")
        await c.expect_exact("Ctrl-] detaches")
        await c.send("hello from a person\r")  # raw terminal: keys go straight to cat
        await c.expect_exact("hello from a person\r\nhello from a person\r\n")
        await asyncio.sleep(1.2)  # past the waiting task's deadline: suspended
        await c.sendcontrol("]")
        await c.expect_exact("detached")
        await c.expect_exact(">>> ")
        assert await evaluate(c, "waiting.done()") == "False\r\n"
        await evaluate(c, "await s.sendline('PING')")
        assert await evaluate(c, "(await waiting).after") == "'PING'\r\n"
        await c.sendeof()
        await c.expect(aioexpect.EOF)
        assert await c.wait() == 0


async def test_local_console_says_it_drops_keys_that_came_with_the_escape() -> None:
    # Typed in raw mode, they had no echo: run unseen, they would surprise.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "s = await spawn('cat')")
        await c.sendline("await attach(s)")
        await c.expect_exact("Ctrl-] detaches")
        await c.send("\x1dxyz")
        await c.expect_exact("detached")
        await c.expect_exact("(3 bytes typed after Ctrl-] dropped)")
        await c.expect_exact(">>> ")
        assert await evaluate(c, "'goes on'") == "'goes on'\r\n"
        await c.sendeof()
        await c.expect(aioexpect.EOF)


async def test_local_console_ctrl_c_interrupts_a_statement() -> None:
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await c.sendline("await asyncio.sleep(60)")
        await c.expect_exact("await asyncio.sleep(60)\r\n")
        await c.sendintr()
        await c.expect_exact("KeyboardInterrupt")
        await c.expect_exact(">>> ")
        # the interrupt left no stale cancellation behind: deadlines still work
        await evaluate(c, "s = await spawn('cat')")
        out = await evaluate(c, "await s.expect('never', timeout=0.05)")
        assert "ExpectTimeout" in out
        assert await evaluate(c, "'alive'") == "'alive'\r\n"
        await c.sendeof()
        assert await c.wait() == 0


async def read_out_of(terminal: str) -> None:
    """Until the console has read all that waits in its ``terminal``'s input
    queue (the device's path: ``os.ttyname(0)`` in the console)."""
    fd = os.open(terminal, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        waiting = array.array("i", [0])

        def read_by_the_console() -> bool:
            fcntl.ioctl(fd, termios.FIONREAD, waiting)
            return waiting[0] == 0

        await wait_until(read_by_the_console, "the console read what was typed")
    finally:
        os.close(fd)


async def test_local_console_ctrl_c_drops_a_line_typed_ahead() -> None:
    # A terminal's Ctrl-C flushes its input, and python3 -i runs none of what
    # was typed ahead; the console had read the line out of the terminal
    # already (aioconsole's reader takes input as it comes), and ran it
    # after the KeyboardInterrupt.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        terminal = (await evaluate(c, "import os; os.ttyname(0)")).strip().strip("'")
        await c.sendline("await asyncio.sleep(60)")
        await c.expect_exact("await asyncio.sleep(60)\r\n")
        await c.sendline("print('TYPED' + '-AHEAD')")
        await c.expect_exact("print('TYPED' + '-AHEAD')\r\n")  # echoed: in the terminal
        await read_out_of(terminal)
        await c.sendintr()
        await c.expect_exact("KeyboardInterrupt")
        await c.expect_exact(">>> ")
        await c.sendline("print('E' + 'ND')")
        assert "TYPED-AHEAD" not in (await c.expect_exact("END\r\n")).before
        await c.sendeof()
        assert await c.wait() == 0


async def test_local_console_statement_reads_a_line_with_aioconsoles_ainput() -> None:
    # The console's read-ahead kept a read pending on aioconsole's standard
    # input reader, the one aioconsole.ainput() reads: the statement failed
    # (RuntimeError: readuntil() called while another coroutine is already
    # waiting), and the line meant for it then ran as a statement.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "import aioconsole")
        await c.sendline("x = await aioconsole.ainput('name? ')")
        await c.expect_exact("name? ")
        await c.sendline("hello")
        assert "Error" not in (await c.expect_exact(">>> ")).before
        assert await evaluate(c, "x") == "'hello'\r\n"
        await c.sendline("y = await ainput('again? ')")  # the console's own
        await c.expect_exact("again? ")
        await c.sendline("there")
        await c.expect_exact(">>> ")
        assert await evaluate(c, "y") == "'there'\r\n"
        await c.sendeof()
        assert await c.wait() == 0


@pytest.mark.parametrize("how", ["SIGHUP", "SIGTERM", "SIGTERM twice", "SIGINT with SIGTERM"])
async def test_local_console_ended_by_a_signal_closes_its_sessions(how: str) -> None:
    # A child that ignores SIGHUP outlived a console whose terminal closed;
    # a second signal while the sessions closed killed the console first; a
    # Ctrl-C arriving with SIGTERM was taken for a Ctrl-C alone.
    signum = signal.SIGHUP if how == "SIGHUP" else signal.SIGTERM
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(
            c, "s = await spawn('sh', ['-c', 'trap \"\" HUP; echo trapped; exec sleep 1002'])"
        )
        await evaluate(c, "await s.expect_exact('trapped')")  # (a SIGHUP before the trap ends it)
        pid = int(await evaluate(c, "s.transport.get_extra_info('pid')"))
        console_pid = c.transport.get_extra_info("pid")
        if how == "SIGINT with SIGTERM":
            await c.sendline("await asyncio.sleep(30)")
            await c.expect_exact("await asyncio.sleep(30)\r\n")
            os.kill(console_pid, signal.SIGINT)
        os.kill(console_pid, signum)
        if how == "SIGTERM twice":
            await asyncio.sleep(0.3)  # the sessions are closing (a 1 s grace)
            os.kill(console_pid, signum)
        await c.expect(aioexpect.EOF)
        assert await c.wait() == 128 + signum
    with pytest.raises(ProcessLookupError):  # killed (after the grace period) and reaped
        os.kill(pid, 0)


async def test_local_console_closes_a_session_of_a_threads_loop_there_and_its_own() -> None:
    # close() in another running loop raises RuntimeError: the console's
    # end, closing every live session here, stopped at one a thread's loop
    # had opened, with a traceback and status 1, and its own sessions after
    # that one outlived it.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "import threading; there = asyncio.new_event_loop()")
        await evaluate(c, "threading.Thread(target=there.run_forever, daemon=True).start()")
        await evaluate(c, "HUP = ['-c', 'trap \"\" HUP; echo trapped; exec sleep 1003']")
        await evaluate(c, "there_ = lambda coro: asyncio.run_coroutine_threadsafe(coro, there)")
        await evaluate(c, "a = there_(spawn('sh', HUP)).result(10)")
        await evaluate(c, "there_(a.expect_exact('trapped')).result(10)")
        await evaluate(c, "b = await spawn('sh', HUP)")
        await evaluate(c, "await b.expect_exact('trapped')")
        pids = [int(await evaluate(c, f"{name}.pid")) for name in "ab"]
        await c.sendeof()
        tail = str((await c.expect(aioexpect.EOF)).before)
        status = await c.wait()
    left = []
    for pid in pids:  # killed (after the grace period) and reaped, each in its loop
        with suppress(ProcessLookupError):
            os.kill(pid, 0)
            left.append(pid)
            os.kill(pid, signal.SIGKILL)  # (the test fails, nothing is left behind)
    assert (status, left) == (0, []), tail
    assert "Traceback" not in tail


async def test_local_console_goes_on_when_showing_an_error_raises_keyboard_interrupt() -> None:
    # Showing an error caught only an Exception: a KeyboardInterrupt from
    # the error's __notes__ ended the console (and a served console's
    # program) with status 130.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await c.sendline("def notes(self): raise KeyboardInterrupt")
        await c.expect_exact("... ")
        await evaluate(c, "")
        await evaluate(c, "Odd = type('Odd', (Exception,), {'__notes__': property(notes)})")
        out = await evaluate(c, "raise Odd()")
        assert "its traceback could not be shown (KeyboardInterrupt())" in out
        assert await evaluate(c, "'alive'") == "'alive'\r\n"
        await c.sendeof()
        assert await c.wait() == 0


async def test_local_console_shows_where_a_result_whose_repr_raises_was_typed() -> None:
    # aioconsole shows a statement's result in a function of its own (left
    # out of tracebacks): an error its repr raised had no frame of the
    # statement, where python3 -i shows 'File "<stdin>", line 1, in <module>'.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        for line in ("class Bad:", "    def __repr__(self):", "        raise ValueError('no')"):
            await c.sendline(line)
            await c.expect_exact("... ")
        await evaluate(c, "")
        for typed, printed, line in [
            ("Bad()", "", 1),
            ("print('first'); Bad()", "first\r\n", 1),
            ("await asyncio.sleep(0, Bad())", "", 1),
            ("x = (1,\r2); Bad()", "", 2),  # (the statement's own line, as python3 -i says)
        ]:
            before, _, last = typed.rpartition("\r")
            if before:
                await c.sendline(before)
                await c.expect_exact("... ")
            assert await evaluate(c, last) == (
                f"{printed}Traceback (most recent call last):\r\n"
                f'  File "<console>", line {line}, in <module>\r\n'
                '  File "<console>", line 3, in __repr__\r\n'
                "ValueError: no\r\n"
            )
        assert await evaluate(c, "1/0") == (  # (the others as they were)
            "Traceback (most recent call last):\r\n"
            '  File "<console>", line 1, in <module>\r\n'
            "ZeroDivisionError: division by zero\r\n"
        )
        await c.sendeof()
        assert await c.wait() == 0


async def test_local_console_shows_a_warning_of_the_typed_line_once() -> None:
    # Finding where each statement starts compiled the typed text once more,
    # and showed its warnings again: an invalid escape warned twice at line 1
    # (aioconsole's compiling of the text as wrapped warns at line 2).
    typed_line = re.compile(r"<console>:1: \w*Warning: invalid escape sequence '\\d'")
    async with local_console() as c:
        await c.expect_exact(">>> ")
        await evaluate(c, "import warnings; warnings.simplefilter('always')")
        out = await evaluate(c, "'\\d'")
        assert len(typed_line.findall(out)) == 1, out
        assert out.endswith("'\\\\d'\r\n"), out
        await c.sendeof()
        assert await c.wait() == 0


async def test_local_console_shows_a_lone_surrogate_escaped_and_goes_on() -> None:
    # aioconsole encoded what the console writes strictly: the traceback of
    # an error with a lone surrogate in it (os.fsdecode's) ended the console
    # with its own traceback and status 1, as did exit() with one.
    async with local_console() as c:
        await c.expect_exact(">>> ")
        out = await evaluate(c, r"raise ValueError('\udc80')")
        assert out.endswith("ValueError: \\udc80\r\n"), out
        assert await evaluate(c, r"print('\udc80')") == "\\udc80\r\n"
        assert await evaluate(c, "'alive'") == "'alive'\r\n"
        await c.sendline(r"exit('\udc80')")
        tail = str((await c.expect(aioexpect.EOF)).before)
        assert await c.wait() == 1
    assert tail.endswith("\r\n\\udc80\r\n"), tail


async def test_local_console_prints_with_flush_and_no_warning() -> None:
    # print(..., flush=True) called the console's flush, a coroutine: the
    # program's stderr said "coroutine 'Console.flush' was never awaited".
    status, out, err = await piped_console(
        ["-m", "aioexpect", "console"], b"print('flushed', flush=True)\n"
    )
    assert (status, err) == (0, "")
    assert b"\n>>> flushed\n>>> \n" in out


async def piped_console(args: list[str], typed: bytes) -> tuple[int | None, bytes, str]:
    """The local console run by ``python3 args`` with ``typed`` on its
    standard input, a pipe: its exit status, output and standard error."""
    proc = await asyncio.create_subprocess_exec(
        PY,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env(),
        cwd=str(ROOT),
    )
    try:
        async with asyncio.timeout(LIMIT):
            out, err = await proc.communicate(typed)
    finally:
        if proc.returncode is None:  # (hung: the test fails, nothing is left behind)
            proc.kill()
            await proc.wait()
    return proc.returncode, out, err.decode()


#: The local console on asyncio's own loop (``aioexpect console`` takes uvloop).
ON_ASYNCIO = (
    "import asyncio, sys\n"
    "from aioexpect._console_local import run_local_console\n"
    "sys.exit(asyncio.run(run_local_console()))"
)


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
async def test_local_console_under_w_error_ends_at_the_end_of_its_input(loop: str) -> None:
    # aioconsole's transports on the standard streams were never closed:
    # each was a ResourceWarning as the loop closed, which under -W error
    # uvloop's close never got past (the console answered, then hung, deaf
    # to Ctrl-C); asyncio's loop ended, showing the warnings.
    program = ["-m", "aioexpect", "console"] if loop == "uvloop" else ["-c", ON_ASYNCIO]
    status, out, err = await piped_console(["-X", "dev", "-W", "error", *program], b"print(6*7)\n")
    # (-X dev turns on asyncio's debug mode, which reports any step slower
    # than 0.1 s: a loaded machine's, not a warning of the console's)
    shown = re.sub(r"(?m)^Executing <.*> took \d+\.\d+ seconds\n", "", err)
    assert (status, shown) == (0, "")
    assert b"\n>>> 42\n>>> \n" in out


async def test_local_console_under_w_error_ends_at_exit_in_a_terminal() -> None:
    args = ["-X", "dev", "-W", "error", "-m", "aioexpect", "console"]
    async with aioexpect.spawn(PY, args, env=env(), cwd=str(ROOT), timeout=LIMIT) as c:
        await c.expect_exact(">>> ")
        assert await evaluate(c, "print(6 * 7)") == "42\r\n"
        await c.sendline("exit()")
        tail = str((await c.expect(aioexpect.EOF)).before)
        assert await c.wait() == 0
    assert "Warning" not in tail


def test_a_syntax_error_s_typed_text_too_deep_to_compile_keeps_the_error() -> None:
    # Recompiling the typed text could raise RecursionError or MemoryError
    # (only ValueError and OverflowError were caught) inside showsyntaxerror.
    error = SyntaxError("'yield' outside function", ("<console>", 2, 5, None))
    source = "x = " + "-" * 10000 + "1"
    assert typed_syntax_error(source, "<console>", error) is error


def test_session_list_is_a_list_with_a_table_repr() -> None:
    assert repr(SessionList()) == "(no live sessions)"
    assert isinstance(sessions(), list)


# -- console --serve ---------------------------------------------------------------------


async def test_console_serve_stops_on_sigint_with_clients_and_no_traceback() -> None:
    async with command(["console", "--serve", "127.0.0.1:0"]) as proc:
        port = await served_port(proc)
        async with tcp_client(port) as (r1, w1), tcp_client(port) as (r2, w2):
            await r1.readuntil(b">>> ")
            await r2.readuntil(b">>> ")
            w2.write(b"await asyncio.sleep(60)\n")
            w1.write(b"6 * 7\n")
            assert await r1.readuntil(b">>> ") == b"42\n>>> "
            await proc.sendintr()
            rest = await proc.read_all()
            assert "Traceback" not in rest
            assert await proc.wait() == 0
            async with asyncio.timeout(LIMIT):
                assert b"Traceback" not in await r1.read() + await r2.read()


async def test_console_serve_stopped_by_sigterm_ends_with_status_0() -> None:
    # As by Ctrl-C (above): stopping a server is its normal end, so that a
    # service manager's stop is not reported as a failure (docs/console.rst).
    async with command(["console", "--serve", "127.0.0.1:0"]) as proc:
        port = await served_port(proc)
        async with tcp_client(port) as (reader, _writer):
            await reader.readuntil(b">>> ")
            assert proc.pid is not None
            os.kill(proc.pid, signal.SIGTERM)
            assert "Traceback" not in await proc.read_all()
            assert await proc.wait() == 0
            async with asyncio.timeout(LIMIT):
                assert b"Traceback" not in await reader.read()


#: ``console --serve`` with a signal sent the moment its address is told,
#: by the process itself: whoever reads it may stop the server at once.
SIGNALLED_AT_ONCE = """\
import os, signal, sys
from aioexpect import _console_cli
from aioexpect._cli import main
told = _console_cli._announce
def and_signalled(server):
    told(server)
    os.kill(os.getpid(), signal.{signame})
_console_cli._announce = and_signalled
sys.exit(main(["console", "--serve", "127.0.0.1:0"]))
"""


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
async def test_console_serve_signalled_as_soon_as_it_is_announced_ends_with_status_0(
    signame: str,
) -> None:
    # The address was told before the handlers were in place: a SIGTERM
    # sent on reading it killed the process (by SIGTERM), a SIGINT was a
    # KeyboardInterrupt (status 130); by a client reading stderr, about
    # one time in six.
    args = ["-c", SIGNALLED_AT_ONCE.format(signame=signame)]
    spawned = aioexpect.spawn(PY, args, pty=False, env=env(), cwd=str(ROOT), timeout=LIMIT)
    async with spawned as proc:
        out = await proc.read_all()
        status = await proc.wait()
    assert "aioexpect: console served on 127.0.0.1:" in out
    assert "Traceback" not in out and "interrupted" not in out, out
    assert (status, proc.signal_status) == (0, None), out


async def test_console_serve_token_from_the_environment() -> None:
    args = ["console", "--serve", "127.0.0.1:0"]
    async with command(args, AIOEXPECT_CONSOLE_TOKEN="env-token") as proc:
        port = await served_port(proc)
        async with tcp_client(port) as (reader, writer):
            writer.write(b"wrong\n")
            async with asyncio.timeout(LIMIT):
                assert await reader.read() == b"aioexpect console: wrong token\r\n"
        async with tcp_client(port) as (reader, writer):
            writer.write(b"env-token\n6 * 7\n")
            async with asyncio.timeout(LIMIT):
                await reader.readuntil(b">>> ")
                assert await reader.readuntil(b">>> ") == b"42\n>>> "
        await proc.sendintr()
        assert await proc.wait() == 0


async def test_console_serve_refuses_a_public_address() -> None:
    async with command(["console", "--serve", "0.0.0.0:0"]) as proc:
        out = await proc.read_all()
        assert "loopback" in out and "Traceback" not in out
        assert await proc.wait() == 2


@pytest.mark.parametrize("subcommand", ["console", "run"])
async def test_serve_on_every_interface_without_ssh_is_refused_saying_why(
    subcommand: str, tmp_path: Path
) -> None:
    # "*" was taken for a host name: refused as one that "does not resolve".
    (tmp_path / "p.py").write_text('open("ran", "w")\n')
    args = [subcommand, "--serve", "*:0", *(["p.py"] if subcommand == "run" else [])]
    async with command(args, cwd=tmp_path, AIOEXPECT_CONSOLE_TOKEN="t0ken") as proc:
        out = await proc.read_all()
        assert await proc.wait() == 2
    assert out == (
        f"aioexpect {subcommand}: --serve '*:0': every interface is for SSH only"
        " (--ssh-host-key with --authorized-keys): plain TCP serves the console on loopback"
        " only (anyone who reaches it runs code in this process)\n"
    ), out
    assert not (tmp_path / "ran").exists()


#: Where the command line's words are the API's: its refusals named path=,
#: authorized_client_keys=, ssh_host_keys and token=, which nobody typed.
API_WORDS = ("path", "authorized_client_keys", "ssh_host_keys", "token=")
NOT_LOOPBACK = (
    "plain TCP serves the console on loopback only (anyone who reaches it runs code in this"
    " process): use 127.0.0.1, ::1 or localhost, a UNIX socket (--unix PATH), or SSH"
    " (--ssh-host-key with --authorized-keys)"
)
SSH = ["--ssh-host-key", "host_key", "--authorized-keys", "authorized_keys"]


@pytest.mark.parametrize(
    ("options", "environment", "message"),
    [
        (
            ["--serve", "192.0.2.1:0"],
            {},
            f"host '192.0.2.1' is not a loopback address; {NOT_LOOPBACK}",
        ),
        (["--serve", "[::]:8022"], {}, f"host '::' is not a loopback address; {NOT_LOOPBACK}"),
        (SSH[:2], {}, "--ssh-host-key needs --authorized-keys (the keys that may log in)"),
        (SSH[2:], {}, "--authorized-keys needs --ssh-host-key (the server's own key)"),
        (
            [*SSH, "--unix", "c.sock"],
            {},
            "SSH serving is on TCP (--serve HOST:PORT): no --unix with it",
        ),
        (
            [*SSH, "--serve", ":0", "--token-file", "authorized_keys"],
            {},
            "SSH serving authenticates with keys: no token (--token-file) with it",
        ),
        (
            [*SSH, "--serve", ":0"],
            {"AIOEXPECT_CONSOLE_TOKEN": "t0ken"},
            "SSH serving authenticates with keys: no token ($AIOEXPECT_CONSOLE_TOKEN) with it",
        ),
        (
            ["--serve", ":0"],
            {"AIOEXPECT_CONSOLE_TOKEN": "t0\rken"},
            "$AIOEXPECT_CONSOLE_TOKEN holds a line break: the token is one line",
        ),
    ],
)
@pytest.mark.parametrize("subcommand", ["console", "run"])
async def test_serving_refusals_name_the_command_line_s_options(
    options: list[str],
    environment: dict[str, str],
    message: str,
    subcommand: str,
    tmp_path: Path,
) -> None:
    # They were the API's: "use ... a UNIX socket (path=), or SSH
    # (authorized_client_keys=)", "ssh_host_keys needs authorized_client_keys",
    # "no path= and no token= with it", "token must be a non-empty str".
    write_ssh_keys(tmp_path)
    (tmp_path / "p.py").write_text('open("ran", "w")\n')
    args = [subcommand, *options, *(["p.py"] if subcommand == "run" else [])]
    async with command(args, cwd=tmp_path, **environment) as proc:
        out = await proc.read_all()
        assert await proc.wait() == 2
    assert out == f"aioexpect {subcommand}: {message}\n", out
    assert not [word for word in API_WORDS if word in out]
    assert not (tmp_path / "ran").exists()


IN_BRACKETS = "an IPv6 address goes in brackets, as [::1]:PORT"
NO_PORT = "(HOST:PORT; port 0: any free one)"


@pytest.mark.parametrize(
    ("spelling", "why"),
    [
        # (each was served, over SSH here: "[*:0" on every interface, "::1]:0"
        # and "::1:0" on ::1, "[]:0" on 127.0.0.1; int() took the odd ports)
        ("[*:0", f"'[' without ']': {IN_BRACKETS}"),
        ("[::1", f"'[' without ']': {IN_BRACKETS}"),
        ("::1]:0", IN_BRACKETS),
        ("::1:0", IN_BRACKETS),  # (an IPv6 address too, with no port)
        ("[]:0", f"no host in the brackets: {IN_BRACKETS}"),
        ("[::1]", "no :PORT after the ']', as in [::1]:PORT"),
        ("[::1]]:0", "no :PORT after the ']', as in [::1]:PORT"),
        ("a]:0", f"a bracket out of place: {IN_BRACKETS}"),
        ("127.0.0.1:", f"no port {NO_PORT}"),
        ("", f"no port {NO_PORT}"),
        ("127.0.0.1: 0", f"' 0' is not a port number {NO_PORT}"),
        ("127.0.0.1:+0", f"'+0' is not a port number {NO_PORT}"),
        ("127.0.0.1:0_0", f"'0_0' is not a port number {NO_PORT}"),
        ("*", f"'*' is not a port number {NO_PORT}"),
        ("127.0.0.1:65536", "the port must be from 0 to 65535"),
        pytest.param(
            "127.0.0.1:" + "9" * 5000, "the port must be from 0 to 65535", id="5000-digits"
        ),
        (" 127.0.0.1:0", "host must not hold spaces: ' 127.0.0.1'"),
    ],
)
async def test_a_malformed_serve_address_is_a_usage_error_saying_why(
    spelling: str, why: str, tmp_path: Path
) -> None:
    write_ssh_keys(tmp_path)
    async with command(["console", "--serve", spelling, *SSH], cwd=tmp_path) as proc:
        out = await proc.read_all()
        assert await proc.wait() == 2
    assert out == f"aioexpect console: --serve {spelling!r}: {why}\n", out


@pytest.mark.parametrize(
    ("spelling", "served"),
    [
        (":0", "127.0.0.1"),
        ("0", "127.0.0.1"),
        ("127.0.0.1:0", "127.0.0.1"),
        ("localhost:0", "127.0.0.1"),
        ("[127.0.0.1]:0", "127.0.0.1"),
        ("127.0.0.1:00", "127.0.0.1"),
        ("[::1]:0", "[::1]"),
    ],
)
async def test_a_well_formed_serve_address_is_served(spelling: str, served: str) -> None:
    if "::1" in spelling and not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    async with command(["console", "--serve", spelling]) as proc:
        port = int((await proc.expect(rf"console served on {re.escape(served)}:(\d+)")).group(1))
        async with asyncio.timeout(LIMIT):
            reader, writer = await asyncio.open_connection(served.strip("[]"), port)
            writer.write(b"6 * 7\n")
            await reader.readuntil(b">>> ")
            assert await reader.readuntil(b">>> ") == b"42\n>>> "
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGTERM)
        assert "Traceback" not in await proc.read_all()
        assert await proc.wait() == 0


# -- run ------------------------------------------------------------------------------------

PROGRAM = """\
import asyncio, sys

hits = []
stop = None

async def main():
    global stop
    stop = asyncio.Event()
    print("ready", sys.argv[1:], flush=True)
    await stop.wait()
    print("stopped", hits, flush=True)

asyncio.run(main())
"""


async def test_run_serves_the_console_into_a_program(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(PROGRAM)
    args = ["run", "--serve", "127.0.0.1:0", "prog.py", "--serve", "mine", "-v"]
    async with command(args, cwd=tmp_path) as proc:
        port = await served_port(proc)
        await proc.expect_exact("ready ['--serve', 'mine', '-v']")  # the program's options
        async with tcp_client(port) as (reader, writer):
            await reader.readuntil(b">>> ")
            writer.write(b"hits.append(len(sessions())); stop.set()\n")
            await proc.expect_exact("stopped [0]")
        assert await proc.wait() == 0


async def test_run_a_module_with_its_exit_status(tmp_path: Path) -> None:
    (tmp_path / "mymod.py").write_text(
        PROGRAM.replace('print("stopped", hits, flush=True)', "raise SystemExit(len(hits) + 4)")
    )
    async with command(["run", "-m", "mymod", "a", "b"], cwd=tmp_path) as proc:
        port = await served_port(proc)
        await proc.expect_exact("ready ['a', 'b']")
        async with tcp_client(port) as (reader, writer):
            await reader.readuntil(b">>> ")
            writer.write(b"hits.append(1); stop.set()\n")
            assert await proc.wait() == 5


async def test_run_keeps_the_token_from_the_program_and_its_children(tmp_path: Path) -> None:
    # The token read from the environment was left there: the program, and
    # every child it spawned, inherited it ("env" in a transcript showed it).
    (tmp_path / "prog.py").write_text(
        "import os, subprocess, sys\n"
        "print('program:', os.environ.get('AIOEXPECT_CONSOLE_TOKEN'), flush=True)\n"
        "child = subprocess.run([sys.executable, '-c', 'import os;"
        ' print(os.environ.get("AIOEXPECT_CONSOLE_TOKEN"))\'], capture_output=True, text=True)\n'
        "print('child:', child.stdout.strip(), flush=True)\n"
    )
    async with command(["run", "prog.py"], cwd=tmp_path, AIOEXPECT_CONSOLE_TOKEN="t0ken") as proc:
        assert await proc.wait() == 0
        output = await proc.read_all()
    assert "program: None" in output and "child: None" in output, output
    assert "t0ken" not in output


@pytest.mark.parametrize("where", ["file", "environment"])
async def test_run_without_an_address_still_asks_for_the_token(where: str, tmp_path: Path) -> None:
    # Without --serve or --unix, run served on 127.0.0.1 with no token at
    # all: a client that did not know it ran code in the program.
    (tmp_path / "prog.py").write_text(PROGRAM)
    (tmp_path / "tok").write_text("the-token\n")
    if where == "file":
        spawned = command(["run", "--token-file", "tok", "prog.py"], cwd=tmp_path)
    else:
        spawned = command(["run", "prog.py"], cwd=tmp_path, AIOEXPECT_CONSOLE_TOKEN="the-token")
    async with spawned as proc:
        port = await served_port(proc)
        async with tcp_client(port) as (reader, writer):
            writer.write(b"hits.append('intruder'); stop.set()\n")
            async with asyncio.timeout(LIMIT):
                assert await reader.read() == b"aioexpect console: wrong token\r\n"
        async with tcp_client(port) as (reader, writer):
            writer.write(b"the-token\nhits.append('owner'); stop.set()\n")
            await proc.expect_exact("stopped ['owner']")  # the intruder's line never ran
        assert await proc.wait() == 0


async def test_run_without_an_address_keeps_max_clients(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(PROGRAM)
    async with command(["run", "--max-clients", "1", "prog.py"], cwd=tmp_path) as proc:
        port = await served_port(proc)
        async with tcp_client(port) as (reader, writer):
            await reader.readuntil(b">>> ")
            async with tcp_client(port) as (other, _):
                async with asyncio.timeout(LIMIT):
                    assert (
                        await other.read()
                        == b"aioexpect console: refused: max_clients=1 reached\r\n"
                    )
            writer.write(b"stop.set()\n")
            await proc.expect_exact("stopped []")
        assert await proc.wait() == 0


SIDE_EFFECT = """\
import asyncio, pathlib

pathlib.Path("top-level ran").touch()

async def main():
    pathlib.Path("main ran").touch()

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--serve", "0.0.0.0:0"], "loopback"),
        (["--serve", "127.0.0.1:99999"], "port"),
        (["--authorized-keys", "ak"], "--authorized-keys needs --ssh-host-key"),
        (["--ssh-host-key", "missing", "--authorized-keys", "ak"], "--ssh-host-key 'missing'"),
        (["--ssh-host-key", "ak"], "--ssh-host-key needs --authorized-keys"),
    ],
)
@pytest.mark.parametrize("program", ["loop", "no loop"])
async def test_run_refuses_bad_serving_options_before_the_program_starts(
    options: list[str], message: str, program: str, tmp_path: Path
) -> None:
    # They were checked when the program's asyncio.run started the server:
    # its top-level code had run by then (and one with no event loop never
    # heard of them, exit 0).
    text = SIDE_EFFECT if program == "loop" else 'open("top-level ran", "w")\n'
    (tmp_path / "prog.py").write_text(text)
    (tmp_path / "ak").write_text("")
    async with command(["run", *options, "prog.py"], cwd=tmp_path) as proc:
        out = await proc.read_all()
        assert await proc.wait() == 2
    assert message in out and "Traceback" not in out
    assert not [name for name in os.listdir(tmp_path) if name.endswith("ran")]


async def test_run_hands_a_failing_program_s_error_to_its_own_excepthook(tmp_path: Path) -> None:
    # python3 FILE calls sys.excepthook (a program's error reporter may be
    # there); aioexpect run printed the traceback itself.
    (tmp_path / "hooked.py").write_text(
        "import sys\n\ndef hook(kind, value, tb):\n"
        "    print('hooked', kind.__name__, value, tb.tb_frame.f_code.co_filename)\n\n"
        "sys.excepthook = hook\nraise RuntimeError('on purpose')\n"
    )
    async with command(["run", "hooked.py"], cwd=tmp_path) as proc:
        out = await proc.read_all()
        assert await proc.wait() == 1
    assert "hooked RuntimeError on purpose hooked.py" in out and "Traceback" not in out


async def test_run_shows_a_failing_program_s_traceback_as_python_does(tmp_path: Path) -> None:
    (tmp_path / "failing.py").write_text(
        "import asyncio\n\nasync def main():\n    raise RuntimeError('on purpose')\n\n"
        "asyncio.run(main())\n"
    )
    async with command(["run", "failing.py"], cwd=tmp_path) as proc:
        out = await proc.read_all()
        assert await proc.wait() == 1
    trace = out[out.index("Traceback") :]
    assert trace.endswith("RuntimeError: on purpose\n")
    files = [line.split('"')[1] for line in trace.splitlines() if line.startswith('  File "')]
    assert files[0] == "failing.py" and files[-1] == "failing.py"
    assert not [f for f in files if "aioexpect" in f or "runpy" in f], files


INTERRUPTED = """\
import asyncio, atexit, sys

def hook(kind, value, tb):
    files = set()
    for error in (value, value.__context__):
        tb = error.__traceback__
        while tb is not None:
            files.add(tb.tb_frame.f_code.co_filename)
            tb = tb.tb_next
    ours = sorted(f for f in files if "aioexpect" in f or "runpy" in f)
    print("hooked", kind.__name__, "interrupted.py" in files, ours, flush=True)

async def main():
    print("ready", flush=True)
    await asyncio.sleep(60)

sys.excepthook = hook
atexit.register(print, "atexit ran")
asyncio.run(main())
"""


async def test_run_ctrl_c_goes_to_the_program_s_excepthook_and_ends_as_python_does(
    tmp_path: Path,
) -> None:
    # Ctrl-C in the program printed only "aioexpect: interrupted" (status
    # 130): no hook, no traceback.  python3 FILE calls the hook, runs the
    # atexit handlers, then dies of SIGINT (which tells a calling shell).
    (tmp_path / "interrupted.py").write_text(INTERRUPTED)
    async with command(["run", "interrupted.py"], cwd=tmp_path) as proc:
        await proc.expect_exact("ready")
        await proc.sendintr()
        out = await proc.read_all()
        assert await proc.wait() is None and proc.signal_status == signal.SIGINT, out
    assert "aioexpect: interrupted" not in out and "Traceback" not in out
    hooked = [line for line in out.splitlines() if line.startswith("hooked")]
    assert hooked == ["hooked KeyboardInterrupt True []"], out  # once, our frames left out
    assert out.rstrip().endswith("atexit ran")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.py"], "no such file"),
        (["run", "-m", "no_such_module_here"], "no module"),
        (["run"], "FILE or -m MODULE"),
        (["run", "--login-timeout", "nan", "p.py"], "--login-timeout: must be a positive number"),
        (["run", "--login-timeout", "0", "p.py"], "--login-timeout: must be a positive number"),
        (["run", "--max-clients", "0", "p.py"], "--max-clients: must be at least 1, not 0"),
        (["run", "--max-clients", "x", "p.py"], "--max-clients: not a whole number: 'x'"),
        (["console", "--serve", "127.0.0.1:0", "--login-timeout", "nan"], "must be a positive"),
    ],
)
async def test_run_usage_errors(args: list[str], message: str, tmp_path: Path) -> None:
    async with command(args, cwd=tmp_path) as proc:
        out = await proc.read_all()
        assert message in out and "Traceback" not in out
        assert await proc.wait() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # Python's bare "[Errno 2] No such file or directory: 'missing'"
        (
            ["console", "--serve", "127.0.0.1:0", "--token-file", "missing"],
            "--token-file 'missing': No such file",
        ),
        (["run", "--token-file", "missing", "p.py"], "--token-file 'missing': No such file"),
        (["console", "--unix", "c.sock", "--token-file", "."], "--token-file '.': Is a directory"),
        # (a UnicodeDecodeError's message)
        (["console", "--serve", "127.0.0.1:0", "--token-file", "latin1"], "'latin1': not UTF-8"),
        # (the API's "token must be a non-empty str", naming neither)
        (
            ["run", "--token-file", "empty", "p.py"],
            "--token-file 'empty': its first line, the token, is empty",
        ),
        # (read by nobody: the local console started, the option ignored)
        (["console", "--token-file", "missing"], "--token-file applies to a served console"),
        # (a traceback: FileNotFoundError from os.lstat(""), the console served)
        (["console", "--unix", ""], "--unix '': the file name of the UNIX socket to serve on"),
    ],
)
async def test_token_file_and_unix_errors_name_the_option(
    args: list[str], message: str, tmp_path: Path
) -> None:
    (tmp_path / "latin1").write_bytes(b"caf\xe9\n")
    (tmp_path / "empty").write_text("\nsecond line\n")
    (tmp_path / "p.py").write_text('open("ran", "w")\n')
    async with command(args, cwd=tmp_path) as proc:
        out = await proc.read_all()
        assert await proc.wait() == 2
    assert message in out and "Traceback" not in out and "Errno" not in out
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--max-clients", "3"],
        ["--login-timeout", "5"],
        ["--login-timeout", "inf"],
    ],
)
async def test_serving_limits_without_serving_are_usage_errors(args: list[str]) -> None:
    # The local console started, the limit given to nothing, without a word.
    async with command(["console", *args]) as proc:
        await proc.sendeof()  # (a local console started ends at once, exit 0)
        out = await proc.read_all()
        assert await proc.wait() == 2
    assert f"aioexpect console: {args[0]} applies to a served console" in out
    assert ">>>" not in out and "Traceback" not in out


def write_ssh_keys(at: Path) -> None:
    """``host_key``, ``authorized_keys`` (the public half of a client key),
    and ``not_a_key``, a file of text."""
    import asyncssh

    host = asyncssh.generate_private_key("ssh-ed25519")
    host.write_private_key(str(at / "host_key"))
    client = asyncssh.generate_private_key("ssh-ed25519")
    (at / "authorized_keys").write_bytes(client.export_public_key())
    (at / "not_a_key").write_text("hello\n")


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        # (all of them "cannot load the console's SSH keys: [Errno 2] ...",
        # or asyncssh's words alone, naming neither the option nor the file)
        (
            ["--ssh-host-key", "missing", "--authorized-keys", "authorized_keys"],
            "--ssh-host-key 'missing': No such file or directory",
        ),
        (
            ["--ssh-host-key", "host_key", "--ssh-host-key", "missing"],
            "--ssh-host-key 'missing': No such file or directory",
        ),
        (
            ["--ssh-host-key", "not_a_key", "--authorized-keys", "authorized_keys"],
            "--ssh-host-key 'not_a_key': cannot load it as an SSH private key",
        ),
        (
            ["--ssh-host-key", "host_key", "--authorized-keys", "missing"],
            "--authorized-keys 'missing': No such file or directory",
        ),
        (
            ["--ssh-host-key", "host_key", "--authorized-keys", "not_a_key"],
            "--authorized-keys 'not_a_key': cannot load it as an authorized_keys file",
        ),
        # (given twice, the first file was dropped unread, missing or not;
        # and asyncssh's list of files takes one of no key after one of keys)
        (
            [
                "--ssh-host-key",
                "host_key",
                "--authorized-keys",
                "missing",
                "--authorized-keys",
                "authorized_keys",
            ],
            "--authorized-keys 'missing': No such file or directory",
        ),
        (
            [
                "--ssh-host-key",
                "host_key",
                "--authorized-keys",
                "authorized_keys",
                "--authorized-keys",
                "not_a_key",
            ],
            "--authorized-keys 'not_a_key': cannot load it as an authorized_keys file",
        ),
    ],
)
@pytest.mark.parametrize("subcommand", ["console", "run"])
async def test_ssh_key_file_errors_name_the_option_and_the_file(
    keys: list[str], message: str, subcommand: str, tmp_path: Path
) -> None:
    write_ssh_keys(tmp_path)
    if "--authorized-keys" not in keys:
        keys = [*keys, "--authorized-keys", "authorized_keys"]
    (tmp_path / "p.py").write_text('open("ran", "w")\n')
    args = [subcommand, "--serve", "127.0.0.1:0", *keys]
    async with command([*args, "p.py"] if subcommand == "run" else args, cwd=tmp_path) as proc:
        out = await proc.read_all()
        assert await proc.wait() == 2
    assert f"aioexpect {subcommand}: {message}" in out
    assert "Traceback" not in out and "Errno" not in out
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("prefix", ["", "f", "rf", "b"])
def test_a_form_feed_inside_a_multi_line_string_is_kept(prefix: str) -> None:
    # Only a form feed in a line's indent is the console's to drop: from
    # Python 3.12 an f-string is tokens of its own, not one STRING, and the
    # one in f"""a\n\fb""" was dropped there (its value changed).
    source = f'if 1:\n\f    x = {prefix}"""a\n\fb"""\n\f    y = 1'
    assert without_form_feeds(source) == f'if 1:\n    x = {prefix}"""a\n\fb"""\n    y = 1'
