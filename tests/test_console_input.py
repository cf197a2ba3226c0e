"""A served console's input beyond single lines: what a client types ahead
of a running statement (its Ctrl-C and its end are seen behind up to the
held limit, and nothing is lost past it), an over-long line inside a
block, over TCP and over SSH with a terminal, and lines ended by CR
alone."""

from __future__ import annotations

import asyncio
import select
import socket
import struct
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect._console_streams import HELD_AHEAD, READ_AHEAD
from tests.conftest import need
from tests.helpers import wait_until
from tests.test_console_flood import read_to
from tests.test_console_server import LIMIT, connected, console
from tests.test_console_ssh import Keys, console_connection, keys, ssh_console  # noqa: F401
from tests.test_console_tcp import ANSWER, CTRL_C, PRINTING, leaving, sleeping

#: Lines typed ahead of a running statement, each ``WIDTH`` bytes, that note
#: their number in ``box`` as they run: many times the read-ahead in all,
#: and less than what is held ahead while a statement runs.
WIDTH = 1000
AHEAD = 9 * HELD_AHEAD // 10 // WIDTH
#: Lines past what is held ahead: the client is held back, but seen to go.
PAST = 2 * HELD_AHEAD // WIDTH


def typed_ahead(count: int) -> bytes:
    """``count`` lines of ``WIDTH`` bytes, line ``i`` appending ``i`` to box."""
    lines = (f"box.append({i})  # ".encode() for i in range(count))
    return b"".join(line.ljust(WIDTH - 1, b"#") + b"\n" for line in lines)


# -- typed ahead of a running statement ------------------------------------------------------


@pytest.mark.parametrize("how", list(CTRL_C))
async def test_ctrl_c_is_seen_behind_more_than_the_read_ahead(how: str) -> None:
    # Past 64 KiB typed ahead, the console stopped reading the client: its
    # Ctrl-C waited behind the lines, and the statement could not be stopped.
    started, box = asyncio.Event(), []
    async with console(locals={"started": started, "box": box}) as server, connected(server) as c:
        await c.prompt()
        await sleeping(c, started, then=typed_ahead(AHEAD))
        c.writer.write(CTRL_C[how])
        assert await c.prompt() == ANSWER[how] + b"\nKeyboardInterrupt\n"
        await wait_until(lambda: len(box) == AHEAD, "the lines typed ahead run", LIMIT)
        assert box == list(range(AHEAD))  # all of them, in order (no terminal: they stay)


async def test_a_client_that_leaves_is_seen_behind_more_than_the_read_ahead() -> None:
    started, ended = asyncio.Event(), []
    statement = (
        b"try:\n    started.set(); await asyncio.sleep(3600)\n"
        b"except BaseException as exc:\n    ended.append(type(exc).__name__); raise\n\n"
    )
    async with console(locals={"started": started, "ended": ended, "box": []}) as server:
        async with leaving(server, "reset") as c:
            c.writer.write(statement)
            async with asyncio.timeout(LIMIT):
                await started.wait()
            c.writer.write(typed_ahead(AHEAD))
            await c.writer.drain()
        await wait_until(lambda: bool(ended), "the statement ends", LIMIT)
        assert ended == ["CancelledError"]
        await wait_until(lambda: server.clients == 0, "the client's place is free", LIMIT)


@pytest.mark.parametrize("where", ["tcp", "unix"])
async def test_a_client_that_leaves_at_once_after_a_line_is_seen_to_go(
    where: str, tmp_path: Path
) -> None:
    # On uvloop 0.17 (libuv 1.43), a read that came short while the socket
    # hung up was taken for the end of input, and the reset behind it was
    # never read: the console waited for the connection to be lost, for
    # ever; the statement ran on and the client kept its place.  The client
    # is a plain socket, so that nothing runs between its line and its end.
    started, ended, box = asyncio.Event(), [], []
    options: dict[str, Any] = {"path": tmp_path / "c.sock"} if where == "unix" else {}
    statement = (
        b"try:\n    print('x'); started.set(); await asyncio.sleep(3600)\n"
        b"except BaseException as exc:\n    ended.append(type(exc).__name__); raise\n\n"
    )
    shared = {"started": started, "ended": ended, "box": box}
    async with console(locals=shared, **options) as server:
        loop = asyncio.get_running_loop()
        if where == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(server.path))
        else:
            sock = socket.create_connection((server.host, server.port), timeout=LIMIT)
        with sock:
            sock.setblocking(False)
            async with asyncio.timeout(LIMIT):
                said = b""
                while not said.endswith(b">>> "):
                    said += await loop.sock_recv(sock, 4096)
                await loop.sock_sendall(sock, statement)
                await started.wait()
            # The 'x' it leaves unread makes a UNIX socket's close a reset.
            readable = lambda: bool(select.select([sock], [], [], 0)[0])  # noqa: E731
            await wait_until(readable, "the statement's output reaches the client", LIMIT)
            sock.send(b"box.append(1)\n")
            linger = struct.pack("ii", 1, 0)  # (TCP: a reset)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        await wait_until(lambda: bool(ended), "the statement ends", LIMIT)
        assert ended == ["CancelledError"]
        await wait_until(lambda: server.clients == 0, "the client's place is free", LIMIT)
        assert box == []  # (what it sent never runs)


async def test_a_client_held_back_is_seen_to_go_by_a_statement_that_prints() -> None:
    # Past the held limit the client is not read: its reset is found by a
    # write that fails (as for a client that closed), and the statement
    # that printed on, for ever, unread, is interrupted.
    started, ended = asyncio.Event(), []
    async with console(locals={"started": started, "ended": ended, "box": []}) as server:
        async with leaving(server, "reset") as c:
            c.writer.write(PRINTING)
            async with asyncio.timeout(LIMIT):
                await started.wait()
            c.writer.write(typed_ahead(PAST))  # (never all taken: not drained)
            (writer,) = server._writers
            held_back = lambda: not writer.transport.is_reading()  # noqa: E731
            await wait_until(held_back, "the console holds the client back", LIMIT)
        await wait_until(lambda: bool(ended), "the statement ends", LIMIT)
        assert ended == ["CancelledError"]
        await wait_until(lambda: server.clients == 0, "the client's place is free", LIMIT)


async def test_a_script_sent_ahead_of_statements_that_wait_runs_whole() -> None:
    # Past the held limit the client is held back, its input never dropped:
    # 3 MB of statements that each give the loop a turn (and so let the
    # client be read on) all run, in order.
    box: list[int] = []
    count = 3 * HELD_AHEAD // WIDTH
    script = typed_ahead(count).replace(b"box.append", b"await asyncio.sleep(0); box.append")
    assert len(script) > 3 * HELD_AHEAD and READ_AHEAD < HELD_AHEAD
    async with console(locals={"box": box}) as server, connected(server) as c:
        await c.prompt()
        c.writer.write(script + b"print('E' + 'ND', len(box))\n")
        for _ in range(count):  # (a prompt after each, and nothing else)
            assert await c.prompt() == b""
        assert await c.prompt() == f"END {count}\n".encode()
        assert box == list(range(count))


# -- an over-long line ---------------------------------------------------------------------------


async def test_an_over_long_line_in_a_block_refuses_the_whole_block() -> None:
    # The refused line was an empty line to the console: it ended the block,
    # and what came before it ran (twice, in a loop).
    box: list[Any] = []
    block = b"for i in range(2):\n    box.append(i)\n    x = '" + b"y" * 70_000 + b"'\n"
    async with console(locals={"box": box}) as server, connected(server) as c:
        await c.prompt()
        c.writer.write(block)
        said = await read_to(c.reader, b">>> ")
        assert said == b"... ... aioexpect console: line too long (over 65536 bytes), ignored\n"
        assert await c.run("print(len(box))") == "0\n"
        assert await c.run("for i in range(2):\n    box.append(i)\n") == "... ... "
        assert box == [0, 1]  # (the console goes on)


async def test_a_statement_s_ainput_reads_the_next_line_after_an_over_long_one() -> None:
    # It returned '' (the refused line's line end) to the statement.
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"got = await ainput('? ')\n")
        c.writer.write(b"y" * 70_000 + b"\n" + b"short\n")
        said = await read_to(c.reader, b">>> ")
        assert said == b"? aioexpect console: line too long (over 65536 bytes), ignored\n"
        assert await c.run("got") == "'short'\n"


# -- lines ended by CR alone -------------------------------------------------------------------


@pytest.mark.parametrize("end", [b"\r", b"\r\x00", b"\r\n"], ids=["cr", "cr-nul", "cr-lf"])
async def test_lines_ended_by_cr_cr_nul_or_cr_lf_run(end: bytes) -> None:
    # socat in raw mode and telnet in character mode end lines with CR (or
    # CR NUL): the console never ran them.
    async with console() as server, connected(server) as c:
        await c.prompt()
        block = [b"if True:", b"    y = 5", b"    z = 6", b"", b"y, z"]
        c.writer.write(end.join(block) + end)
        assert await c.prompt() == b"... ... ... "
        assert await c.prompt() == b"(5, 6)\n"


async def test_a_cr_s_lf_in_a_later_read_is_not_a_line_of_its_own() -> None:
    # The CR ends the line at once (the console waits for no more); the LF
    # that comes after it is still part of that line end: an empty line of
    # its own would have ended the block, or reached an attached session.
    async with (
        aioexpect.spawn("cat", pty=False, timeout=LIMIT) as cat,
        console(locals={"cat": cat}) as server,
        connected(server) as c,
    ):
        await c.prompt()
        c.writer.write(b"if True:\r")
        async with asyncio.timeout(LIMIT):
            assert await c.reader.readuntil(b"... ") == b"... "
            c.writer.write(b"\n    y = 5\r")
            assert await c.reader.readuntil(b"... ") == b"... "
            c.writer.write(b"\n\r\n")  # the CR's LF, then the empty line that ends the block
            assert await c.prompt() == b""
            c.writer.write(b"await attach(cat)\r")
            await c.reader.readuntil(b"Ctrl-] detaches\r\n")
            c.writer.write(b"\ny is 5\n")
            assert await c.reader.readuntil(b"\n") == b"y is 5\n"
            c.writer.write(b"\x1d")
            assert b"detached" in await c.prompt()
        assert await c.run("y") == "5\n"


async def test_socat_sending_cr_line_ends_gets_a_console() -> None:
    # socat's "cr" option: what the reviewer's raw client sent, a real one.
    socat = need("socat", "Debian socat")
    async with (
        console() as server,
        aioexpect.spawn(
            socat, ["-", f"TCP:127.0.0.1:{server.port},cr"], pty=False, timeout=LIMIT
        ) as s,
    ):
        await s.expect_exact(">>> ")
        await s.sendline("for k in range(3):")
        await s.sendline("    print(k * 7)")
        await s.sendline("")
        await s.expect_exact("... ... 0\n7\n14\n>>> ")
        await s.sendline("exit()")
        await s.expect(aioexpect.EOF)
        assert await s.wait() == 0


@pytest.mark.parametrize("end", [b"\r", b"\r\x00"], ids=["cr", "cr-nul"])
async def test_lines_ended_by_cr_run_over_ssh_without_a_terminal(
    keys: Keys,  # noqa: F811
    end: bytes,
) -> None:
    async with ssh_console(keys) as server, console_connection(keys, server.port) as conn:
        process = await conn.create_process(encoding=None)  # no term_type: no terminal
        process.stdin.write(end.join([b"if True:", b"    y = 5", b"", b"y * 2"]) + end)
        process.stdin.write_eof()
        async with asyncio.timeout(LIMIT):
            out = await process.stdout.read()
    assert out.endswith(b">>> ... ... >>> 10\n>>> \n"), out


# -- SSH --------------------------------------------------------------------------------


async def test_an_over_long_line_in_a_block_over_ssh_refuses_the_whole_block(
    keys: Keys,  # noqa: F811
) -> None:
    # Through asyncssh's line editor (which cuts the line one past the limit).
    box: list[Any] = []
    async with (
        ssh_console(keys, locals={"box": box}) as server,
        console_connection(keys, server.port) as conn,
    ):
        process = await conn.create_process(term_type="xterm", term_size=(80, 24), encoding=None)
        try:
            await read_to(process.stdout, b">>> ")
            process.stdin.write(b"for i in range(2):\r    box.append(i)\r    x = '")
            process.stdin.write(b"y" * 70_000 + b"'\r")
            said = await read_to(process.stdout, b">>> ")
            refused = b"aioexpect console: line too long (over 65536 bytes), ignored"
            assert said.rstrip(b"\r\n").endswith(refused)
            process.stdin.write(b"print(len(box))\r")
            assert (await read_to(process.stdout, b">>> ")).endswith(b"\r\n0\r\n")
        finally:
            process.close()


@pytest.mark.parametrize("terminal", ["xterm", None])
async def test_ssh_ctrl_c_is_seen_behind_more_than_the_read_ahead(
    keys: Keys,  # noqa: F811
    terminal: str | None,
) -> None:
    # Past 64 KiB typed ahead, SSHInput stopped reading the channel: the
    # client's Ctrl-C (the line editor's, or a signal) was never seen while
    # the statement ran.
    box: list[Any] = []
    started = asyncio.Event()
    enter = b"\r" if terminal else b"\n"
    async with (
        ssh_console(keys, locals={"box": box, "started": started}) as server,
        console_connection(keys, server.port) as conn,
    ):
        process = await conn.create_process(term_type=terminal, term_size=(80, 24), encoding=None)
        try:
            await read_to(process.stdout, b">>> ")
            process.stdin.write(b"started.set(); await asyncio.sleep(3600)" + enter)
            async with asyncio.timeout(LIMIT):
                await started.wait()
            process.stdin.write(typed_ahead(AHEAD).replace(b"\n", enter))
            if terminal:
                process.stdin.write(b"\x03")  # the line editor's Ctrl-C: what was typed goes
            else:
                process.send_signal("INT")  # no terminal: what was sent stays
            await read_to(process.stdout, b"KeyboardInterrupt")
            expected = [] if terminal else list(range(AHEAD))
            process.stdin.write(b"print('E' + 'ND')" + enter)
            await read_to(process.stdout, b"END")
            assert box == expected
        finally:
            process.close()


@pytest.mark.parametrize("lines", [AHEAD, PAST], ids=["held", "past"])
async def test_an_ssh_client_that_leaves_is_seen_behind_more_than_the_read_ahead(
    keys: Keys,  # noqa: F811
    lines: int,
) -> None:
    # Its channel closed was never seen: held back, it is seen all the same.
    started, ended = asyncio.Event(), []
    statement = (
        b"try:\n    started.set(); await asyncio.sleep(3600)\n"
        b"except BaseException as exc:\n    ended.append(type(exc).__name__); raise\n\n"
    )
    shared = {"started": started, "ended": ended, "box": []}
    async with ssh_console(keys, locals=shared) as server:
        async with console_connection(keys, server.port) as conn:
            process = await conn.create_process(encoding=None)  # no terminal
            process.stdin.write(statement)
            async with asyncio.timeout(LIMIT):
                await started.wait()
            process.stdin.write(typed_ahead(lines))
        await wait_until(lambda: bool(ended), "the statement ends", LIMIT)
        assert ended == ["CancelledError"]
        await wait_until(lambda: server.clients == 0, "the client's place is free", LIMIT)
