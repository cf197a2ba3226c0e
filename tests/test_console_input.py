"""A served console's input beyond single lines: an over-long line inside a
block, over TCP and over SSH with a terminal."""

from __future__ import annotations

from typing import Any

from tests.test_console_flood import read_to
from tests.test_console_server import connected, console
from tests.test_console_ssh import Keys, console_connection, keys, ssh_console  # noqa: F401

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
