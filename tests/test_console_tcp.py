"""The console served over plain TCP and UNIX sockets, as its clients use it
beyond lines: Ctrl-C (the byte, or telnet's Interrupt Process), a client
that leaves in the middle of a statement, and one that does not read what
a statement prints, with raw asyncio clients and the real ``telnet``."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import pytest

import aioexpect
from aioexpect import _console_output
from aioexpect._console_output import GRACE, OUTPUT_CAP, OUTPUT_HIGH
from tests.conftest import need
from tests.helpers import wait_until
from tests.test_console_flood import read_to, slow_client
from tests.test_console_server import LIMIT, Client, connected, console

#: Ctrl-C as a client sends it: the byte (socat in raw mode), or telnet's
#: Interrupt Process followed by its request for a timing mark.
CTRL_C = {"byte": b"\x03", "telnet": b"\xff\xf4\xff\xfd\x06"}
#: What comes back before the interrupt is shown: telnet's timing mark.
ANSWER = {"byte": b"", "telnet": b"\xff\xfb\x06"}


async def sleeping(c: Client, started: asyncio.Event, then: bytes = b"") -> None:
    """Until the client's statement that sleeps for an hour runs (``then``
    sent right behind it, typed ahead)."""
    c.writer.write(b"started.set(); await asyncio.sleep(3600)\n" + then)
    async with asyncio.timeout(LIMIT):
        await started.wait()


@pytest.mark.parametrize("how", list(CTRL_C))
async def test_ctrl_c_interrupts_the_running_statement(how: str) -> None:
    # The 0x03 waited unread until the statement ended, then broke the next
    # line (invalid non-printable character U+0003); IAC IP was two U+FFFD.
    started = asyncio.Event()
    async with console(locals={"started": started}) as server, connected(server) as c:
        await c.prompt()
        await sleeping(c, started)
        c.writer.write(CTRL_C[how])
        assert await c.prompt() == ANSWER[how] + b"\nKeyboardInterrupt\n"
        assert await c.run("print('after')") == "after\n"


@pytest.mark.parametrize("how", list(CTRL_C))
async def test_ctrl_c_drops_the_line_being_typed(how: str) -> None:
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"print('never r")
        await c.writer.drain()
        c.writer.write(CTRL_C[how])
        assert await c.prompt() == ANSWER[how] + b"\nKeyboardInterrupt\n"
        assert await c.run("print('after')") == "after\n"


async def test_lines_sent_ahead_of_a_ctrl_c_run_after_it() -> None:
    # No terminal: what was sent stays, as over ssh -T.
    started = asyncio.Event()
    async with console(locals={"started": started}) as server, connected(server) as c:
        await c.prompt()
        await sleeping(c, started, then=b"print('ahead')\n")
        c.writer.write(b"\x03")
        assert await c.prompt() == b"\nKeyboardInterrupt\n"
        assert await c.prompt() == b"ahead\n"


async def test_ctrl_c_from_telnet_interrupts_and_telnet_shows_what_follows() -> None:
    # telnet shows no output after its Ctrl-C until its timing mark is
    # answered: unanswered, the console looked dead.
    telnet = need("telnet", "Debian telnet")
    started = asyncio.Event()
    async with (
        console(locals={"started": started}) as server,
        aioexpect.spawn(telnet, ["127.0.0.1", str(server.port)], timeout=LIMIT) as t,
    ):
        await t.expect_exact(">>> ")
        await t.sendline("started.set(); await asyncio.sleep(3600)")
        async with asyncio.timeout(LIMIT):
            await started.wait()
        await t.send("\x03")
        assert (await t.expect_exact(">>> ")).before.endswith("\r\nKeyboardInterrupt\r\n")
        await t.sendline("print('after')")
        assert (await t.expect_exact(">>> ")).before == "print('after')\r\nafter\r\n"


@pytest.mark.parametrize("command", [b"\xff\xf3", b"\xff\xee"], ids=["brk", "abort"])
async def test_telnet_s_break_interrupts_as_ctrl_c(command: bytes) -> None:
    # telnet's Ctrl-\\ sends IAC BRK, then IAC DO TM: the BRK stayed in the
    # input, and the next line was a SyntaxError (U+FFFD).  So did ABORT.
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"print('never r" + command + b"\xff\xfd\x06")
        assert await c.prompt() == ANSWER["telnet"] + b"\nKeyboardInterrupt\n"
        assert await c.run("print('after')") == "after\n"


@pytest.mark.parametrize(
    "command",
    [
        b"\xff\xf6",
        b"\xff\xf1",
        b"\xff\xf9",
        b"\xff\xfe\x01",
        b"\xff\xed",  # SUSP: telnet's Ctrl-Z
        b"\xff\xec",  # EOF
        b"\xff\xfa\x18\x00xterm\xff\xf0",  # a subnegotiation (terminal type)
        b"\xff\xfa\x1f\x00\x03\x00\x18\xff\xf0",  # NAWS of 3 columns: no Ctrl-C
        b"\xff\xfa\x1f\xff\xff\x00\x03\x00\xff\xf0",  # an escaped 0xff inside
        b"\xff\xfa\x1f\x00\xff\x00\x03\xff\xf0",  # a lone 0xff inside (RFC 855: doubled)
    ],
    ids=[
        "ayt",
        "nop",
        "ga",
        "dont",
        "susp",
        "eof",
        "sb-ttype",
        "sb-naws",
        "sb-iac-iac",
        "sb-lone-iac",
    ],
)
async def test_telnet_s_other_commands_are_taken_out_of_the_line(command: bytes) -> None:
    # Are You There (0xf6), NOP, Go Ahead, DONT ECHO, SUSP (telnet's Ctrl-Z),
    # EOF, subnegotiations: each stayed in the line (a SyntaxError, U+FFFD,
    # or a 0x03 taken for Ctrl-C); each is no input.
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"print('a" + command + b"b')\n")
        assert await c.prompt() == b"ab\n"


@pytest.mark.parametrize(
    ("offer", "answer"),
    [(b"\xff\xfd\x01", b"\xff\xfc\x01"), (b"\xff\xfb\x1f", b"\xff\xfe\x1f")],
    ids=["do-echo-wont", "will-naws-dont"],
)
async def test_telnet_s_other_negotiations_are_refused_and_taken_out(
    offer: bytes, answer: bytes
) -> None:
    # Unanswered, telnet may wait for the answer; in the line, it broke it.
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"print('a" + offer + b"b')\n")
        assert await c.prompt() == answer + b"ab\n"


async def test_iac_iac_is_a_literal_0xff_not_the_start_of_a_command() -> None:
    # IAC IAC then 0xf4 was taken for IAC IP: an interrupt.  The 0xff, and
    # the 0xf4 that is not UTF-8 either, are each replaced (U+FFFD).
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"print(len('\xff\xff\xf4'))\n")
        assert await c.prompt() == b"2\n"


async def in_parts(c: Any, *parts: bytes) -> bytes:
    """Send ``parts`` a moment apart (each in a read of its own, unless the
    server reads them together); the console's answer, to its next prompt."""
    for part in parts:
        c.writer.write(part)
        await c.writer.drain()
        await asyncio.sleep(0.05)
    return await c.prompt()


async def test_a_telnet_command_cut_between_reads_is_taken_whole() -> None:
    # The client's writes are apart, as a slow network may deliver them
    # (the server may still read them together: either way, one command).
    async with console() as server, connected(server) as c:
        await c.prompt()
        assert (
            await in_parts(c, b"print('a\xff", b"\xfd", b"\x01b\xff", b"\xf6c')\n")
            == b"\xff\xfc\x01abc\n"
        )


#: A subnegotiation (NAWS) in a statement, in parts a read may cut it into:
#: inside it; inside its escaped 0xff (255 columns, RFC 1073: the 255
#: doubled, IAC IAC), where the first 0xff is no IAC SE's, the rest no input;
#: after a lone 0xff a peer did not double (the rest of the SB no input either).
SUBNEGOTIATION_CUT = {
    "inside": (b"print('a\xff\xfa\x1f\x00", b"\x03\x00\x18\xff", b"\xf0b')\n"),
    "inside its escaped 0xff": (b"print('a\xff\xfa\x1f\x00\xff", b"\xff\x00\x18\xff", b"\xf0b')\n"),
    "after a lone 0xff": (b"print('a\xff\xfa\x1f\x00\xff", b"\x00\x18\xff", b"\xf0b')\n"),
}


@pytest.mark.parametrize("cut", SUBNEGOTIATION_CUT)
async def test_a_subnegotiation_cut_between_reads_is_taken_whole(cut: str) -> None:
    async with console() as server, connected(server) as c:
        await c.prompt()
        assert await in_parts(c, *SUBNEGOTIATION_CUT[cut]) == b"ab\n"


async def test_ctrl_c_while_attached_goes_to_the_session() -> None:
    async with (
        aioexpect.spawn("cat", pty=False, timeout=LIMIT) as cat,
        console(locals={"cat": cat}) as server,
        connected(server) as c,
    ):
        await c.prompt()
        c.writer.write(b"await attach(cat)\n")
        async with asyncio.timeout(LIMIT):
            await c.reader.readuntil(b"Ctrl-] detaches\r\n")
            c.writer.write(b"a\x03b\n")
            assert await c.reader.readuntil(b"\n") == b"a\x03b\n"
            c.writer.write(b"c" + CTRL_C["telnet"] + b"d\n")  # (its timing mark answered)
            assert await c.reader.readuntil(b"\n") == ANSWER["telnet"] + b"c\x03d\n"
            c.writer.write(b"\x1d")
            assert b"detached" in await c.prompt()


# -- a client that leaves ----------------------------------------------------------------


@asynccontextmanager
async def leaving(server: Any, how: str) -> AsyncIterator[Client]:
    """A client at its prompt, which closes its connection (``close``) or
    resets it (``reset``) when the block ends, and is gone then."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        client = Client(reader, writer)
        await client.prompt()
        yield client
        if how == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()


#: A statement that prints until it is stopped, and says what stopped it.
PRINTING = b"""\
try:
    started.set()
    while True:
        print('tick')
        await asyncio.sleep(0.01)
except BaseException as exc:
    ended.append(type(exc).__name__)
    raise

"""


@pytest.mark.parametrize("how", ["close", "reset"])
async def test_a_client_that_leaves_has_its_printing_statement_interrupted_quietly(
    how: str, caplog: pytest.LogCaptureFixture
) -> None:
    # On asyncio the statement printed on for ever, each print logging
    # about four 'socket.send() raised exception.' warnings to the
    # program's root logger; on uvloop the print raised RuntimeError
    # ('unable to perform operation on <TCPTransport closed=True ...>').
    caplog.set_level(logging.WARNING)
    started, ended = asyncio.Event(), []
    async with console(locals={"started": started, "ended": ended}) as server:
        async with leaving(server, how) as c:
            c.writer.write(PRINTING)
            async with asyncio.timeout(LIMIT):
                await started.wait()
        await wait_until(lambda: bool(ended), "the statement ends", LIMIT)
        assert ended == ["CancelledError"]  # interrupted, as Ctrl-C would
        await wait_until(lambda: server.clients == 0, "the client's place is free", LIMIT)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_client_that_resets_has_its_silent_statement_interrupted() -> None:
    started, ended = asyncio.Event(), []
    statement = PRINTING.replace(b"print('tick')", b"pass")
    async with console(locals={"started": started, "ended": ended}) as server:
        async with leaving(server, "reset") as c:
            c.writer.write(statement)
            async with asyncio.timeout(LIMIT):
                await started.wait()
        await wait_until(lambda: bool(ended), "the statement ends", LIMIT)
        assert ended == ["CancelledError"]


async def test_lines_sent_ahead_by_a_client_that_left_do_not_run() -> None:
    started, ended = asyncio.Event(), []
    async with console(locals={"started": started, "ended": ended}) as server:
        async with leaving(server, "close") as c:
            c.writer.write(PRINTING + b"ended.append('ran after')\n")
            async with asyncio.timeout(LIMIT):
                await started.wait()
        await wait_until(lambda: server.clients == 0, "the client's console ends", LIMIT)
        assert ended == ["CancelledError"]


async def test_a_client_that_ends_its_input_gets_all_of_its_last_statement_s_output() -> None:
    # nc -N: the end of input is not the client gone.
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(b"for k in range(20):\n    print('tick', k)\n    await asyncio.sleep(0)\n\n")
        c.writer.write_eof()
        out = (await c.rest()).decode()
        assert "".join(f"tick {k}\n" for k in range(20)) in out


# -- a client that does not read -------------------------------------------------------------

WIDTH = 1_000_000  # bytes a print
PRINTS = 40
#: Prints made at once, past the mark, before the statement waits long
#: enough for the console to see that the client takes nothing.
BURST = 10
NOTE = re.compile(
    rb"\[aioexpect console: (\d+) bytes of output dropped: the client was not reading\]\n"
)
#: Statements that print past the mark without an ``await`` (so the loop
#: never sends any meanwhile), and what a client that reads gets of each.
BURSTS = {
    "one": ("print('x' * 10_000_000)", b"x" * 10_000_000 + b"\n"),
    "many": ("for i in range(100): print('y' * 99_999)", (b"y" * 99_999 + b"\n") * 100),
    "wide": ("for i in range(10): print('w' * 999_999)", (b"w" * 999_999 + b"\n") * 10),
}


@pytest.fixture(autouse=True)
def _one_check_stalls(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that takes nothing in one check is taken for one that does
    not read, so that these tests need not wait ``STALL`` (ten checks)."""
    monkeypatch.setattr(_console_output, "STALL", GRACE)


def flood(line_end: str) -> bytes:
    """A statement that prints a line of ``WIDTH`` bytes PRINTS times (one
    write each; its last byte ``line_end``, or none when empty) without
    waiting for the client, noting what waits for it after each; after
    ``BURST`` of them, it waits well past the console's ``GRACE``."""
    return f"""\
for k in range({PRINTS}):
    print('x' * {WIDTH - len(line_end)} + {line_end!r}, end='')
    held.append(unsent())
    await asyncio.sleep({4 * GRACE} if k == {BURST - 1} else 0)
else:
    done.set()

""".encode()


def unsent(server: Any) -> int:
    """What waits for the server's one client in its connection."""
    (writer,) = server._writers
    return int(writer.transport.get_write_buffer_size())


async def unread_flood(how: str, tmp_path: Any, line_end: str) -> bytes:
    """What a client that reads nothing while ``flood(line_end)`` runs gets
    once it reads, after the statement; the write buffer must have stayed
    under the mark (but for one write)."""
    done, held = asyncio.Event(), []
    options: dict[str, Any] = {"path": tmp_path / "c.sock"} if how == "unix" else {}

    shared = {"done": done, "held": held, "unsent": lambda: unsent(server)}
    async with (
        console(locals=shared, **options) as server,
        slow_client(server, rcvbuf=1 << 16) as (reader, writer),
    ):
        writer.write(flood(line_end))
        async with asyncio.timeout(LIMIT):
            await done.wait()  # (it did not wait for the client)
        assert max(held) <= BURST * WIDTH  # the burst, then nothing more
        out = await read_to(reader, b">>> ")  # now the client reads
    return out.lstrip(b". ")  # (after the block's continuation prompts)


@pytest.mark.parametrize("how", ["tcp", "unix"])
async def test_a_client_that_does_not_read_loses_the_output_past_the_mark_and_is_told(
    how: str, tmp_path: Any
) -> None:
    # print cannot wait for the client: the server held all of it (257 MB
    # in 3 s for a loop of 1 MB prints), without bound.
    out = await unread_flood(how, tmp_path, "\n")
    found = NOTE.search(out)
    assert found is not None, out[-200:]
    taken = out[: found.start()]
    assert taken == (b"x" * (WIDTH - 1) + b"\n") * (len(taken) // WIDTH)  # whole prints
    assert len(taken) <= BURST * WIDTH
    assert len(taken) + int(found.group(1)) == PRINTS * WIDTH  # nothing lost unsaid
    assert out[found.end() :] == b""  # then the prompt


@pytest.mark.parametrize("burst", list(BURSTS))
async def test_a_client_that_reads_gets_all_of_a_burst_past_the_mark(burst: str) -> None:
    # A statement that prints past the mark without an await never lets the
    # loop send: its output was dropped however fast the client read (the
    # line end of a 10 MB print, 900,001 bytes of 100 prints of 100 kB).
    statement, expected = BURSTS[burst]
    async with console() as server, connected(server) as c:
        await c.prompt()
        c.writer.write(statement.encode() + b"\n\n")
        out = await read_to(c.reader, b">>> ")
    assert out.lstrip(b". ") == expected  # (after a block's continuation prompt)


async def test_a_client_that_pauses_after_the_output_is_told_nothing_and_loses_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A client that took nothing for STALL after the statement had printed
    # (and ended) was taken as one that does not read on the timer alone: it
    # was told "0 bytes of output dropped" once it read, and what came next
    # was dropped until it had drained.  Only a write while it takes nothing
    # is dropped.
    monkeypatch.setattr(_console_output, "GRACE", 0.1)
    monkeypatch.setattr(_console_output, "STALL", 0.1)
    async with console() as server, slow_client(server, rcvbuf=1 << 16) as (reader, writer):
        writer.write(b"print('x' * 12_000_000)\n")
        await wait_until(lambda: unsent(server) >= OUTPUT_HIGH, "output waits", LIMIT)
        await asyncio.sleep(0.5)  # checks without progress: stalled
        assert unsent(server) >= OUTPUT_HIGH  # (it did take nothing)
        assert await read_to(reader, b">>> ") == b"x" * 12_000_000 + b"\n"
        writer.write(b"print('after')\n")
        assert await read_to(reader, b">>> ") == b"after\n"


async def test_a_burst_past_the_cap_to_a_client_that_does_not_read_is_bounded() -> None:
    # Within one statement, the client cannot show that it reads: the
    # memory held is bounded all the same.
    done, held = asyncio.Event(), []
    statement = b"""\
for k in range(100):
    print('z' * 999_999)
    held.append(unsent())
else:
    done.set()

"""
    shared = {"done": done, "held": held, "unsent": lambda: unsent(server)}
    async with console(locals=shared) as server, connected(server) as c:
        await c.prompt()
        c.writer.write(statement)
        async with asyncio.timeout(LIMIT):
            await done.wait()
        assert max(held) < OUTPUT_CAP + WIDTH  # the cap, and one write past it
        out = bytearray()  # (read_to would search all of it for each chunk)
        async with asyncio.timeout(LIMIT):
            while not out.endswith(b">>> "):
                chunk = await c.reader.read(1 << 20)
                assert chunk, "the end before the prompt"
                out += chunk
    found = NOTE.search(out)
    assert found is not None, out[-200:]
    taken = out[: found.start()].lstrip(b". ")  # (after the block's continuation prompts)
    assert set(taken) == set(b"z\n")
    # Nothing lost unsaid (but a line end may be the note's own).
    assert len(taken) + int(found.group(1)) - 100 * WIDTH in (0, 1)


async def test_the_note_of_what_was_dropped_is_a_line_of_its_own() -> None:
    out = await unread_flood("tcp", None, "")  # (no line ends)
    found = NOTE.search(out)
    assert found is not None, out[-200:]
    taken = out[: found.start()]
    assert taken == b"x" * (len(taken) - 1) + b"\n"  # (that line end is the note's)
    assert len(taken) - 1 + int(found.group(1)) == PRINTS * WIDTH


async def test_ctrl_c_while_the_output_is_dropped_is_followed_by_the_note_then_a_prompt() -> None:
    dropping = asyncio.Event()
    statement = b"""\
while True:
    before = unsent()
    print('x' * 999_999)
    if before >= high and unsent() == before:  # (dropped)
        dropping.set()
    await asyncio.sleep(0)

"""
    shared = {"dropping": dropping, "unsent": lambda: unsent(server), "high": OUTPUT_HIGH}
    async with (
        console(locals=shared) as server,
        slow_client(server, rcvbuf=1 << 16) as (reader, writer),
    ):
        writer.write(statement)
        async with asyncio.timeout(LIMIT):
            await dropping.wait()
        writer.write(b"\x03")  # (its KeyboardInterrupt is dropped too, and counted)
        out = await read_to(reader, b">>> ")  # the next prompt was not lost
    found = NOTE.search(out)
    assert found is not None, out[-200:]
    assert out[found.end() :] == b""


async def test_a_client_that_reads_in_steps_loses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # An SSH client's window opens in steps (OpenSSH's: 128 KiB): one that
    # reads 50 KB a second took nothing in a one-second check, and lost
    # output, told it was not reading.  Here, checks every 0.1 s, and a
    # client that takes a step every 0.4 s: it must be let be.
    monkeypatch.setattr(_console_output, "GRACE", 0.1)
    monkeypatch.setattr(_console_output, "STALL", 1.0)
    done = asyncio.Event()
    statement = (
        b"for k in range(31):\n"
        b"    print('s' * 99_999 if k else 'b' * 9_000_000)\n"
        b"    await asyncio.sleep(0.05)\n"
        b"else:\n"
        b"    done.set()\n\n"
    )
    want = b"b" * 9_000_000 + b"\n" + (b"s" * 99_999 + b"\n") * 30
    async with (
        console(locals={"done": done}) as server,
        slow_client(server, rcvbuf=1 << 16) as (reader, writer),
    ):
        # (the server's kernel buffer fixed small: autotuned to megabytes, it
        # tells the loop of room only once half of it is sent, and steps of
        # the client become one step of megabytes, as an SSH window's are)
        (server_writer,) = server._writers
        server_socket = server_writer.transport.get_extra_info("socket")
        server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
        writer.write(statement)
        got = bytearray()
        async with asyncio.timeout(LIMIT):
            while not done.is_set():
                await asyncio.sleep(0.4)
                got += await reader.readexactly(128 * 1024)
            got += await read_to(reader, b">>> ")
    assert b"dropped" not in got
    assert got.lstrip(b". ").removesuffix(b">>> ") == want
