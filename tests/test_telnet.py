"""The telnet adapter and connect_telnet: the pure scanner, in-process
telnetlib3 servers, and raw TCP servers that send exactly the bytes a test
needs (hostile ones included)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import re
import socket
import struct
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import telnetlib3
from telnetlib3.telopt import BINARY, CHARSET

import aioexpect
from aioexpect import _telnet
from aioexpect._interact import following_size
from aioexpect._telnet import MAX_SUBNEGOTIATION, TelnetScanner
from aioexpect._telnet_options import PeerRemarks
from aioexpect.testing import VirtualDevice, check_transport, serve_telnet
from tests.helpers import full_listener, wait_until
from tests.splits import splits

Shell = Callable[[Any, Any], Awaitable[None]]
RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


# -- the scanner (pure) ----------------------------------------------------------------


class Recorder:
    def __init__(self, want: int = 1 << 30) -> None:
        self.data = bytearray()
        self.pieces = 0  # on_data calls
        self.commands: list[bytes] = []
        self.want = want

    def on_data(self, data: bytes) -> None:
        self.data += data
        self.pieces += 1

    def on_command(self, command: bytes) -> bool:
        self.commands.append(command)
        return len(self.commands) < self.want


def scan(stream: bytes, pieces: list[bytes] | None = None, **kwargs: Any) -> Recorder:
    rec = Recorder(**kwargs)
    scanner = TelnetScanner(rec.on_data, rec.on_command)
    for piece in pieces if pieces is not None else [stream]:
        scanner.feed(piece)
    return rec


STREAM = (
    b"Hello\r\n"
    b"\xff\xfd\x18"  # DO TTYPE
    b"a\xff\xffb"  # escaped IAC in data
    b"\xff\xf1"  # NOP: dropped
    b"\xff\xfa\x18\x01\xff\xf0"  # SB TTYPE SEND SE
    b"x\r\x00y"  # CR NUL
    b"\xff\xfa\x27\x00\xff\xff\x01\xff\xf0"  # SB with an escaped IAC inside
    b"\xff\xfb\x01"  # WILL ECHO
    b"tail\r"
)
EXPECTED_DATA = b"Hello\r\na\xffbx\rytail\r"
EXPECTED_COMMANDS = [
    b"\xff\xfd\x18",
    b"\xff\xfa\x18\x01\xff\xf0",
    b"\xff\xfa\x27\x00\xff\xff\x01\xff\xf0",
    b"\xff\xfb\x01",
]


def test_scanner_whole_bytewise_and_random_splits() -> None:
    for label, pieces in splits(STREAM):
        rec = scan(STREAM, pieces)
        assert bytes(rec.data) == EXPECTED_DATA, label
        assert rec.commands == EXPECTED_COMMANDS, label


def test_scanner_drops_nul_across_chunks_unless_binary() -> None:
    assert bytes(scan(b"", [b"a\r", b"\x00b"]).data) == b"a\rb"
    assert bytes(scan(b"", [b"a\r", b"\x00\x00b", b"\x00", b"login: \x00"]).data) == b"a\rblogin: "
    rec = Recorder()
    scanner = TelnetScanner(rec.on_data, rec.on_command)
    scanner.binary = True
    scanner.feed(b"a\r\x00b")
    assert bytes(rec.data) == b"a\r\x00b"


def test_scanner_drops_oversized_subnegotiation() -> None:
    huge = b"\xff\xfa\x18" + b"A" * (MAX_SUBNEGOTIATION + 10) + b"\xff\xf0after"
    for pieces in ([huge], [huge[i : i + 4096] for i in range(0, len(huge), 4096)]):
        rec = scan(huge, pieces)
        assert rec.commands == []
        assert bytes(rec.data) == b"after"


def test_scanner_command_inside_subnegotiation_is_part_of_it() -> None:
    # Only IAC SE ends a sub-negotiation (RFC 855): a command put in it, or
    # its IAC SE left off, cannot be told from a lone 0xff (see below)...
    rec = scan(b"\xff\xfa\x22\x01\xff\xfd\x01data\xff\xf0after")
    assert rec.commands == [b"\xff\xfa\x22\x01\xff\xff\xfd\x01data\xff\xf0"]
    assert bytes(rec.data) == b"after"


@pytest.mark.parametrize("option", [0x18, 0x20, 0x23, 0x24, 0x27, 0x2A])
def test_scanner_command_inside_a_subnegotiation_of_text_ends_it(
    option: int, caplog: pytest.LogCaptureFixture
) -> None:
    """...but in a sub-negotiation of text (TTYPE SEND, NEW-ENVIRON SEND,
    CHARSET REQUEST...), where no 0xff belongs, it can: the IAC SE left
    off, what followed (the login prompt, IAC DO ECHO) was part of it up
    to an IAC SE that never came, and no text came either."""
    caplog.set_level(logging.WARNING, logger="aioexpect")
    stream = b"\xff\xfa%c\x01\xff\xfd\x01login: " % option
    for label, pieces in splits(stream):
        rec = scan(stream, pieces)
        assert rec.commands == [b"\xff\xfd\x01"], label
        assert bytes(rec.data) == b"login: ", label
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert said and f"(option {option}): its IAC SE left off?" in said[0], said


#: A lone 0xff inside a sub-negotiation (RFC 855 wants it doubled): NAWS of
#: 255 columns, 0 0xff 0 24, and a terminal type with a 0xff in its name.
LONE_IAC_IN_SB = (
    b"before\xff\xfa\x1f\x00\xff\x00\x18\xff\xf0mid\xff\xfa\x18\x00ab\xffcd\xff\xf0after"
)


def test_scanner_keeps_a_lone_iac_inside_a_subnegotiation() -> None:
    """IAC and a byte that starts no command inside IAC SB ... IAC SE ended
    the SB, and the rest of it was in-band data: '\\x18' (24 rows), 'd'."""
    for label, pieces in splits(LONE_IAC_IN_SB):
        rec = scan(LONE_IAC_IN_SB, pieces)
        assert bytes(rec.data) == b"beforemidafter", label
        assert rec.commands == [
            b"\xff\xfa\x1f\x00\xff\xff\x00\x18\xff\xf0",  # (escaped for telnetlib3)
            b"\xff\xfa\x18\x00ab\xff\xffcd\xff\xf0",
        ], label


#: A lone 0xff followed by each byte a command starts with (but IAC and
#: SE): NAWS of 65531 columns (0xff 0xfb), and so on, 24 rows.
LONE_IAC_BEFORE_COMMANDS = b"".join(
    b"\xff\xfa\x1f\xff%c\x00\x18\xff\xf0%d," % (byte, byte) for byte in range(0xF1, 0xFF)
)


def test_scanner_keeps_a_lone_iac_before_a_command_byte_in_a_subnegotiation() -> None:
    """IAC and a command byte inside IAC SB ... IAC SE ended the SB there,
    read as a command ('0xff 0xfb 0x00': IAC WILL BINARY, acted on), and
    the rest of the SB was in-band data: '\\x18' (24 rows) in the text."""
    for label, pieces in splits(LONE_IAC_BEFORE_COMMANDS):
        rec = scan(LONE_IAC_BEFORE_COMMANDS, pieces)
        assert bytes(rec.data) == b"".join(b"%d," % byte for byte in range(0xF1, 0xFF)), label
        assert rec.commands == [
            b"\xff\xfa\x1f\xff\xff%c\x00\x18\xff\xf0" % byte for byte in range(0xF1, 0xFF)
        ], label


def test_scanner_says_when_a_subnegotiation_takes_what_follows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A lone 0xff in a sub-negotiation (or an IAC SE left off, which reads
    the same) makes what follows part of it up to an IAC SE: no text, and an
    expect timed out with nothing received, nothing said why.  So did one
    longer than MAX_SUBNEGOTIATION whose IAC SE never came (said at the IAC
    SE).  Each is said when it happens, once."""
    caplog.set_level(logging.WARNING, logger="aioexpect")
    rec = scan(b"\xff\xfa\x22\x01\xff\xfd\x01login: \xff\xfb\x01$ ")
    assert bytes(rec.data) == b"" and rec.commands == []
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 1 and "did not double (IAC 253)" in said[0], said
    assert "(option 34)" in said[0] and "up to its IAC SE" in said[0], said
    caplog.clear()
    rec = scan(b"\xff\xfa\x18" + b"A" * (MAX_SUBNEGOTIATION + 10) + b"login: ")
    assert bytes(rec.data) == b"" and rec.commands == []
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert said == [
        f"telnet: a sub-negotiation over {MAX_SUBNEGOTIATION} bytes: dropped,"
        " with what follows up to its IAC SE"
    ]


def test_scanner_stops_asking_once_the_consumer_has_had_enough() -> None:
    storm = b"\xff\xfd\x06" * 10_000 + b"END"
    rec = scan(storm, want=5)
    assert len(rec.commands) == 5
    assert bytes(rec.data) == b"END"


def test_scanner_hands_data_with_escaped_iacs_over_in_one_piece() -> None:
    """Binary data full of 0xFF bytes (each sent as IAC IAC) went to
    ``on_data`` one byte at a time, a Python call per pair: 1.5 MiB a
    second, the event loop held for 80 ms per 256 KiB read."""
    body = bytes(range(256)) * 64
    rec = Recorder()
    scanner = TelnetScanner(rec.on_data, rec.on_command)
    scanner.binary = True
    scanner.feed(body.replace(b"\xff", b"\xff\xff") + b"\xff\xf1tail\xff\xff")
    assert bytes(rec.data) == body + b"tail\xff"
    assert rec.pieces == 2  # (the NOP between)


def test_scanner_results_do_not_depend_on_the_splits() -> None:
    for seed in range(50):
        rng = random.Random(seed)
        garbage = bytes(rng.choice((255, 255, 250, 240, 251, 253, 0, 13, 65)) for _ in range(600))
        whole = scan(garbage)
        for label, pieces in splits(garbage, seeds=range(5)):
            rec = scan(garbage, pieces)
            assert (rec.data, rec.commands) == (whole.data, whole.commands), f"{seed} {label}"


def test_scanner_survives_random_garbage() -> None:
    for seed in range(50):
        rng = random.Random(seed)
        garbage = bytes(rng.choice((255, 255, 250, 240, 251, 253, 0, 13, 65)) for _ in range(2000))
        rec = scan(garbage + b"\x00\xff\xf0MARK")
        assert bytes(rec.data).endswith(b"MARK"), f"seed {seed}"


# -- servers ------------------------------------------------------------------------------


class HalfClosingServer(telnetlib3.TelnetServer):
    """telnetlib3's server hangs up as soon as the client half-closes, dropping
    the answers to what it read just before; this one lets the shell finish.
    It also stops reading while its reader is full: telnetlib3 gives the
    reader no transport, so it would buffer whatever the client sends; and a
    shell waiting in ``drain()`` is woken when the connection is lost."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.reader is not None
        self.reader.set_transport(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        asyncio.streams.FlowControlMixin.connection_lost(self, exc)

    def eof_received(self) -> bool:  # type: ignore[override]
        assert self.reader is not None
        self.reader.feed_eof()
        return True


class RefusesBinary(HalfClosingServer):
    """Answers the client's WILL BINARY with DONT: the client stays an NVT."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.writer is not None
        self.writer.always_dont.add(BINARY)


@contextlib.asynccontextmanager
async def telnet_server(shell: Shell, **options: Any) -> AsyncIterator[int]:
    """A telnetlib3 server on 127.0.0.1 port 0; yields the port."""
    options.setdefault("protocol_factory", HalfClosingServer)
    options.setdefault("encoding", False)
    options.setdefault("connect_maxwait", 0.05)
    server = await telnetlib3.create_server("127.0.0.1", 0, shell=shell, **options)  # type: ignore[arg-type]
    assert server.sockets
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def echo(reader: Any, writer: Any) -> None:
    """Send back what arrives, as it arrives (telnetlib3's ``readline``
    rescans its whole buffer per line: slow once megabytes wait)."""
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def raw_server(handler: RawHandler) -> AsyncIterator[int]:
    """A plain TCP server (no telnet at all) running ``handler`` per client."""
    tasks: set[asyncio.Task[Any]] = set()
    writers: list[asyncio.StreamWriter] = []

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        writers.append(writer)
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def connect(port: int, **options: Any) -> aioexpect._openers.Opener:
    options.setdefault("timeout", 10)
    return aioexpect.connect_telnet("127.0.0.1", port, **options)


# -- against telnetlib3 ------------------------------------------------------------------


async def test_echo_round_trip() -> None:
    async with telnet_server(echo) as port, connect(port) as s:
        assert s.transport.kind == "telnet"
        assert s.linesep == "\r\n"  # BINARY agreed: sent as CR, the Enter key
        assert s.transport.get_extra_info("peer") == f"127.0.0.1:{port}"
        await s.sendline("hello telnet")
        m = await s.expect("hello (\\w+)\r")
        assert m.group(1) == "telnet"


async def report_hex(reader: Any, writer: Any) -> None:
    """Server side: answer everything received up to ``END\\r`` in hex."""
    got = bytearray()
    while not got.endswith(b"END\r") and (chunk := await reader.read(4096)):
        got += chunk
    writer.write(got.hex().encode() + b"\r\n")
    await writer.drain()
    writer.close()


async def test_binary_agreed_8bit_text_and_iac_arrive_exactly() -> None:
    for encoding in ("utf-8", None):
        async with telnet_server(report_hex) as port, connect(port, encoding=encoding) as s:
            assert s.linesep == "\r\n"
            await s.sendline("héllo ✓ 漢字" if encoding else "héllo ✓ 漢字".encode())
            await s.send(b"\xff\r\x00\x13\n")
            await s.sendline("END" if encoding else b"END")
            m = await s.expect("([0-9a-f]+)\r\n" if encoding else rb"([0-9a-f]+)\r\n")
            sent = "héllo ✓ 漢字\r".encode() + b"\xff\r\x00\x13\nEND\r"
            assert bytes.fromhex(m.group(1).decode() if not encoding else m.group(1)) == sent


async def test_binary_mode_sends_the_end_of_line_as_cr_even_split_across_writes() -> None:
    """linesep stays CR LF (the telnet end of line, and the telnetlib habit
    ``send("cmd\\r\\n")`` works); in binary mode it goes out as CR."""

    async with telnet_server(report_hex) as port, connect(port) as s:
        await s.send("telnetlib habit\r\n")
        await s.send("split\r")
        await s.send("\nlone\n")
        await s.send("cr\r")
        await s.send("\n")
        await s.send("\n")  # (a newline of its own: the line ending was complete)
        await s.sendline("END")
        m = await s.expect("([0-9a-f]+)\r\n")
        assert bytes.fromhex(m.group(1)) == b"telnetlib habit\rsplit\rlone\ncr\r\nEND\r"


async def test_a_telnetlib3_server_refusing_binary_gets_the_nvt() -> None:
    async with (
        telnet_server(echo, protocol_factory=RefusesBinary) as port,
        connect(port) as s,
    ):
        assert s.linesep == "\r\n"
        await s.sendline("hello ascii")
        await s.sendline("and again")
        await s.expect_exact("hello ascii\r\nand again\r\n")


class NoCharset(HalfClosingServer):
    """Declines CHARSET, which would otherwise make telnetlib3 use its
    encoding in both directions whatever BINARY says."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.writer is not None
        self.writer.always_dont.add(CHARSET)
        self.writer.always_wont.add(CHARSET)


async def test_utf8_shell_of_a_plain_telnetlib3_server() -> None:
    """Without CHARSET, telnetlib3 decodes what it reads as ASCII unless the
    client sends BINARY."""

    async def shout(reader: Any, writer: Any) -> None:
        while line := await reader.readline():
            writer.write(f"[{line.strip().upper()}]\r\n")
            await writer.drain()
        writer.close()

    options = {"encoding": "utf8", "connect_maxwait": 0.5, "protocol_factory": NoCharset}
    async with telnet_server(shout, **options) as port:
        async with connect(port) as s:
            await s.sendline("grüße ✓")
            await s.expect_exact("[GRÜSSE ✓]\r\n")


async def test_virtual_device_8bit_round_trip_one_prompt_per_line() -> None:
    device = VirtualDevice("r1", commands={r"say (.*)": lambda command, m: m.group(1)})
    async with serve_telnet(device) as server, connect(server.port) as s:
        await s.expect_prompt()
        assert s.linesep == "\r\n"
        assert await s.execute("say héllo ✓ 漢字") == "héllo ✓ 漢字\n"
        for word in ("one", "two", "three"):
            await s.sendline(f"say {word}")
        await s.sendline("say MARK")
        m = await s.expect("MARK\r\nr1#")
        assert (m.before + m.after).count("r1#") == 4, m.before


async def test_wait_waits_for_the_connection_to_end() -> None:
    # wait() on a live telnet session returned None at once, and never timed
    # out: a telnet session has no exit status, so wait() now waits for the
    # connection's end (the session's end of file), with the same deadline.
    device = VirtualDevice("r1", commands={"show x": "x\n"})
    async with serve_telnet(device) as server, connect(server.port, timeout=0.2) as s:
        await s.expect_prompt(timeout=10)
        with pytest.raises(aioexpect.ExpectTimeout, match=r"timed out waiting for telnet .* end"):
            await s.wait()
        assert await s.execute("show x", timeout=10) == "x\n"  # (still usable)
        await s.sendline("exit")  # the device closes the connection
        assert await s.wait(timeout=10) is None
        assert (s.exit_status, s.signal_status) == (None, None)


async def test_a_bytes_session_declines_charset_instead_of_rejecting_the_offer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # It said WILL CHARSET, then REJECTED the offer: telnetlib3's server
    # logged a warning (on stderr without logging set up) for every client.
    device = VirtualDevice("r1", commands={r"say (.*)": lambda command, m: m.group(1)})
    async with serve_telnet(device) as server:
        for encoding in (None, "utf-8"):
            async with connect(server.port, encoding=encoding) as s:
                await s.expect_prompt() if encoding else await s.expect_exact(b"r1#")
                await s.sendline(b"say \xc3\xa9" if encoding is None else "say \u00e9")
                await s.expect_exact(b"\xc3\xa9\r\n" if encoding is None else "\u00e9\r\n")
    assert "CHARSET" not in caplog.text and not [r for r in caplog.records if r.levelno >= 30]


async def test_naws_ttype_and_set_winsize() -> None:
    async def report(reader: Any, writer: Any) -> None:
        info = writer.get_extra_info
        writer.write(f"term={info('TERM')} rows={info('rows')} cols={info('cols')}\r\n")
        while await reader.readline():
            writer.write(f"size {info('rows')}x{info('cols')}\r\n")
        writer.close()

    async with (
        telnet_server(report, encoding="utf8", connect_maxwait=2.0) as port,
        connect(port, term_type="vt220", dimensions=(33, 111)) as s,
    ):
        await s.expect_exact("term=vt220 rows=33 cols=111")
        s.set_winsize(50, 132)
        await s.sendline("size?")
        await s.expect_exact("size 50x132")


async def test_utf8_text_from_a_charset_negotiating_server() -> None:
    async def greet(reader: Any, writer: Any) -> None:
        writer.write("Grüße, €uro\r\n")
        await writer.drain()
        writer.close()

    async with telnet_server(greet, encoding="utf8", connect_maxwait=2.0) as port:
        async with connect(port) as s:
            await s.expect_exact("Grüße, €uro")


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])  # BINARY agreed, and the NVT
async def test_telnet_transport_conformance(encoding: str) -> None:
    async with telnet_server(echo) as port:

        async def open_transport() -> _telnet.TelnetTransport:
            transport = await _telnet.open_telnet(
                "127.0.0.1",
                port,
                term_type="xterm",
                dimensions=(24, 80),
                connect_timeout=10,
                encoding=encoding,
            )
            assert isinstance(transport, _telnet.TelnetTransport)
            assert transport.linesep == "\r\n"
            return transport

        await check_transport(open_transport)


# -- exact bytes, against raw servers ---------------------------------------------------


async def collect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    got = await reader.readuntil(b"END\r\n")
    writer.write(got.hex().encode() + b"\r\n")
    await writer.drain()


async def test_outgoing_bytes_follow_the_nvt() -> None:
    # A silent peer that never speaks telnet: no option is offered to it.
    async with raw_server(collect) as port, connect(port) as s:
        assert s.linesep == "\r\n"
        await s.sendline("one")
        await s.sendline("a\rb")
        await s.send(b"\xff")
        await s.sendline("END")
        m = await s.expect("([0-9a-f]+)\r\n")
        assert bytes.fromhex(m.group(1)) == b"one\r\na\r\x00b\r\n\xff\xffEND\r\n"


async def test_the_nvt_end_of_line_split_across_writes_is_one_newline() -> None:
    """A CR ending a write goes out as CR NUL, the Enter key; the LF that
    starts the next write was sent too, CR NUL LF: two newlines for the
    server's terminal, where one write of CR LF gives one."""

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfb\x01")  # WILL ECHO: a telnet peer
        assert await reader.readexactly(6) == b"\xff\xfd\x01\xff\xfb\x00"  # DO ECHO, WILL BINARY
        writer.write(b"\xff\xfe\x00")  # DONT BINARY
        await collect(reader, writer)

    async with raw_server(refuse) as port, connect(port) as s:
        await s.send("one\r\n")
        await s.send("two\r")
        await s.send("\nthree\n")
        await s.send("four\r")
        await s.send("\n")
        await s.send("\n")  # (a newline of its own: the line ending was complete)
        await s.sendline("END")
        m = await s.expect("([0-9a-f]+)\r\n")
        assert bytes.fromhex(m.group(1)) == b"one\r\ntwo\r\x00three\nfour\r\x00\nEND\r\n"


async def test_a_split_end_of_line_is_one_enter_while_the_peer_talks_on() -> None:
    """Output already on its way while the Enter went out is no answer to
    it: on uvloop before 0.23 a write gives the loop one pass (to see a
    failed send), and ticks received in that pass made the LF of the next
    write a second key (CR NUL LF), on about one send in eight."""
    got = bytearray()

    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def talk() -> None:
            for _ in range(20_000):  # (bounded: 10 s at most)
                writer.write(b"tick\r\n")
                await asyncio.sleep(0.0005)

        talking = asyncio.ensure_future(talk())
        try:
            while data := await reader.read(4096):
                got.extend(data)
        finally:
            talking.cancel()

    async with raw_server(chatty) as port, connect(port) as s:
        for i in range(100):
            await s.send(f"c{i}\r")
            await s.send("\n")
            await asyncio.sleep(0.002)
        await s.sendline("END")
        await wait_until(lambda: got.endswith(b"END\r\n"), "END arrived")
    assert bytes(got) == b"".join(b"c%d\r\x00" % i for i in range(100)) + b"END\r\n"


@pytest.mark.parametrize("binary", [False, True], ids=["nvt", "binary"])
async def test_a_ctrl_j_after_an_enter_the_peer_answered_is_sent(binary: bool) -> None:
    """Merging a split CR LF dropped the LF of any later write after a CR,
    however much later: Enter, the device's answer, then Ctrl-J (a menu's
    'press Ctrl-J to continue', vi, readline) never reached it."""

    async def menu(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfb\x01")  # WILL ECHO: a telnet peer
        assert await reader.readexactly(6) == b"\xff\xfd\x01\xff\xfb\x00"  # DO ECHO, WILL BINARY
        writer.write(b"\xff\xfd\x00" if binary else b"\xff\xfe\x00")  # DO / DONT BINARY
        enter = await reader.readuntil(b"1\r")
        if not binary:
            enter += await reader.readexactly(1)  # (the NUL of CR NUL)
        writer.write(b"selected; press Ctrl-J to continue> ")
        writer.write((enter + await reader.readexactly(1)).hex().encode() + b"\r\n")
        await writer.drain()

    async with raw_server(menu) as port, connect(port) as s:
        await s.send("1\r")
        await s.expect_exact("to continue> ")
        await s.sendcontrol("j")
        m = await s.expect("([0-9a-f]+)\r\n")
        assert bytes.fromhex(m.group(1)) == (b"1\r\n" if binary else b"1\r\x00\n")


async def test_binary_on_the_wire_and_a_later_dont_binary() -> None:
    async def agree(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfb\x01")  # WILL ECHO: a telnet peer
        assert await reader.readexactly(6) == b"\xff\xfd\x01\xff\xfb\x00"  # DO ECHO, WILL BINARY
        writer.write(b"\xff\xfd\x00")  # DO BINARY
        got = await reader.readuntil(b"END\r")
        writer.write(b"\xff\xfe\x00" + got.hex().encode() + b"\r\n")  # DONT BINARY
        writer.write((await reader.readuntil(b"END\r\x00\r\n")).hex().encode() + b"\r\n")
        await writer.drain()

    async with raw_server(agree) as port, connect(port) as s:
        assert s.linesep == "\r\n"
        await s.sendline("a\rb\xe9")
        await s.send(b"\xff")
        await s.sendline("END")
        m = await s.expect("([0-9a-f]+)\r\n")
        assert bytes.fromhex(m.group(1)) == "a\rb\xe9\r".encode() + b"\xff\xffEND\r"
        await s.sendline("END\r")  # the NVT again: CR LF as it is, a bare CR as CR NUL
        m = await s.expect("([0-9a-f]+)\r\n")
        assert bytes.fromhex(m.group(1)) == b"END\r\x00\r\n"


async def test_a_server_that_talks_without_answering_binary_is_not_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Device shells often send their options and prompt and never answer
    WILL BINARY: in-band data ends the wait (made unbounded here, so waiting
    would hang the test) and the connection stays on the NVT."""
    monkeypatch.setattr(_telnet, "BINARY_ANSWER_WAIT", math.inf)

    async def shell(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfb\x01\xff\xfb\x03Username: ")  # WILL ECHO, WILL SGA
        await collect(reader, writer)

    async with raw_server(shell) as port, connect(port, timeout=None) as s:
        await s.expect_exact("Username: ")
        await s.sendline("admin")
        await s.sendline("END")
        m = await s.expect("([0-9a-f]+)\r\n")
        wire = bytes.fromhex(m.group(1))
        # DO ECHO, DO SGA, WILL BINARY, then WONT BINARY before any data.
        assert wire.endswith(b"\xff\xfc\x00admin\r\nEND\r\n"), wire


async def test_unanswered_binary_offer_is_withdrawn_before_any_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_telnet, "BINARY_ANSWER_WAIT", 0.05)

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfb\x01")  # WILL ECHO, then no answer to anything
        await collect(reader, writer)
        writer.write(b"\xff\xfd\x00")  # a late DO BINARY: refused, the NVT stays
        await collect(reader, writer)

    async with raw_server(mute) as port, connect(port) as s:
        assert s.linesep == "\r\n"
        await s.sendline("one")
        await s.sendline("END")
        m = await s.expect("([0-9a-f]+)\r\n")
        # DO ECHO, WILL BINARY, WONT BINARY: all before the first data byte.
        assert bytes.fromhex(m.group(1)) == b"\xff\xfd\x01\xff\xfb\x00\xff\xfc\x00one\r\nEND\r\n"
        await s.sendline("END")
        m = await s.expect("([0-9a-f]+)\r\n")
        assert bytes.fromhex(m.group(1)) == b"\xff\xfc\x00END\r\n"


async def test_a_silent_peer_delays_the_session_within_bounds() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    loop = asyncio.get_running_loop()
    async with raw_server(silent) as port:
        for timeout, bound in ((10, _telnet.FIRST_WORD_WAIT), (0.2, 0.05)):
            start = loop.time()
            async with connect(port, timeout=timeout) as s:
                waited = loop.time() - start
                assert bound * 0.9 <= waited < bound + 0.4, (timeout, waited)
                assert s.linesep == "\r\n"


async def test_opening_and_logging_in_share_one_deadline() -> None:
    # A silent peer and a login to do: the short wait for telnet options
    # comes out of the time-out, not on top of it (it once added 0.5 s).
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    loop = asyncio.get_running_loop()
    async with raw_server(silent) as port:
        start = loop.time()
        with pytest.raises(aioexpect.ConnectError, match="did not reach a prompt"):
            await connect(port, timeout=1.0, username="u", password="p")
        assert 1.0 <= loop.time() - start < 1.45  # (not 1.5; room for a loaded machine)


async def test_ascii_sessions_never_offer_binary_nor_wait() -> None:
    async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfd\x00")  # DO BINARY: refused
        await collect(reader, writer)

    loop = asyncio.get_running_loop()
    async with raw_server(ask) as port:
        start = loop.time()
        async with connect(port, encoding="ascii") as s:
            assert loop.time() - start < _telnet.FIRST_WORD_WAIT
            assert s.linesep == "\r\n"
            await s.sendline("END")
            m = await s.expect("([0-9a-f]+)\r\n")
            assert bytes.fromhex(m.group(1)) in (b"END\r\n", b"\xff\xfc\x00END\r\n")


async def test_incoming_cr_nul_iac_iac_and_split_utf8() -> None:
    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for piece in (b"a\r", b"\x00b\xff\xff", b"\r\ncaf\xc3", b"\xa9\r\n"):
            writer.write(piece)
            await writer.drain()
            await reader.readuntil(b"\n")  # one TCP segment per piece

    async with raw_server(send) as port:
        async with connect(port, encoding=None) as s:
            for _ in range(4):
                await s.sendline("next")
            assert await s.read_all() == b"a\rb\xff\r\ncaf\xc3\xa9\r\n"
        async with connect(port) as s:
            for _ in range(4):
                await s.sendline("next")
            assert await s.read_all() == "a\rb\ufffd\r\ncafé\r\n"


async def test_everything_sent_before_eof_arrives() -> None:
    size = 3 * _telnet.HIGH_WATER + 12345
    alphabet = bytes(b"abcdefghijklmno\n"[i % 16] for i in range(256))
    body = random.Random(1).randbytes(size).translate(alphabet).replace(b"\n", b"\r\n")

    async def dump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(body)
        await writer.drain()

    async with raw_server(dump) as port, connect(port, encoding=None) as s:
        assert await s.read_all() == body


async def test_sendeof_half_closes() -> None:
    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()
        writer.write(b"got %d bytes\r\n" % len(data))
        await writer.drain()

    async with raw_server(count) as port, connect(port) as s:
        await s.send("12345")
        await s.sendeof()
        await s.expect_exact("got 5 bytes")
        with pytest.raises(aioexpect.ClosedError):
            await s.send("x")


async def test_after_sendeof_a_new_size_is_recorded_and_requests_are_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """set_winsize() after sendeof() raised asyncio's bare RuntimeError
    (write after write_eof), and so did the size-following of interact()
    and the console's attach, from a timer callback.  Nothing can be sent
    now: the size is recorded (as a pty's), and a request from the server,
    which could not be answered, is not taken on (telnetlib3's answer
    failed inside it with the same RuntimeError)."""
    caplog.set_level(logging.DEBUG, logger="aioexpect")

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfd\x1fhello\r\n")  # DO NAWS
        got = await reader.read()  # up to the client's EOF
        writer.write(b"sizes=%d\r\n" % got.count(b"\xff\xfa\x1f"))
        writer.write(b"\xff\xfb\x00one\r\x00two\r\n")  # WILL BINARY, then the NVT
        await writer.drain()

    async with raw_server(server) as port, connect(port) as s:
        await s.expect_exact("hello")
        await s.sendeof()
        s.set_winsize(40, 100)
        assert s.transport.get_extra_info("columns") == 100
        with following_size(s, lambda: (50, 120), local=False):
            assert s.transport.get_extra_info("columns") == 120
        await s.expect_exact("sizes=1\r\n")  # the first, before the EOF
        m = await s.expect_exact("two\r\n")
        assert m.before == "one\r"
    assert "bad option command" not in caplog.text


async def test_reset_by_peer_is_connection_lost() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"bye\r\n")
        await writer.drain()
        await reader.readuntil(b"ok\r\n")
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async with raw_server(reset) as port, connect(port) as s:
        await s.expect_exact("bye")
        await s.sendline("ok")
        with pytest.raises(aioexpect.ConnectionLostError, match=f"127.0.0.1:{port}"):
            await s.expect_exact("never")
    # Waiting for a prompt: named in words, as a time-out or end of file
    # would be, not by the driver's whole prompt regex.
    async with raw_server(reset) as port, connect(port) as s:
        await s.expect_exact("bye")
        await s.sendline("ok")
        with pytest.raises(aioexpect.ConnectionLostError) as info:
            await s.execute("show clock")
        message = str(info.value)
        assert "waiting for the prompt of driver 'generic'" in message, message
        assert "\\x1b" not in message and f"127.0.0.1:{port}" in message


@contextlib.asynccontextmanager
async def says_and_hangs_up(data: bytes) -> AsyncIterator[int]:
    """A server that sends ``data`` and closes, in the step that accepts the
    client: its FIN is in before the client reads anything, and its kernel
    resets the connection when the client's replies reach it."""
    loop = asyncio.get_running_loop()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)

        async def serve() -> None:
            while True:
                conn, _ = await loop.sock_accept(listener)
                with conn:
                    conn.send(data)

        task = asyncio.create_task(serve())
        try:
            yield listener.getsockname()[1]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


REFUSAL = b"% Connection refused: too many sessions\r\n"
OFFERS = b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f"  # WILL ECHO, SGA; DO TTYPE, NAWS


async def test_a_server_that_refuses_and_hangs_up_at_once_ends_in_eof() -> None:
    """Our answers to its options reach the closed socket, whose reset made
    a later answer fail (EPIPE), and that ended the connection before its
    end of file was read: read_all() and expect(EOF) raised
    ConnectionLostError, logging in gave a ConnectError caused by it."""
    async with says_and_hangs_up(OFFERS + REFUSAL) as port:
        async with connect(port, encoding=None) as s:
            assert await s.read_all() == REFUSAL
        async with connect(port, encoding=None) as s:
            assert (await s.expect(aioexpect.EOF)).before == REFUSAL
            assert await s.wait() is None
        with pytest.raises(aioexpect.ConnectError) as info:
            async with connect(port, username="admin", password="secret"):
                pass
        assert isinstance(info.value.__cause__, aioexpect.ExpectEOF)
        assert "too many sessions" in str(info.value.__cause__)


def tcp_state(sock: Any) -> int:
    """The kernel's state of a TCP socket (Linux's TCP_INFO)."""
    return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0])


TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8


@pytest.mark.parametrize("ending", ["close", "reset"])
@pytest.mark.parametrize("delivery", ["pull", "push"])
async def test_what_the_kernel_holds_is_read_after_a_failed_write(
    delivery: str, ending: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails ends the transport: both loops stop reading and
    close the socket, and what the kernel held for a paused reader was lost
    (the end of a long output), the reading ended by ConnectionLostError,
    and the failed write itself returned as if sent.  Now the write raises;
    the rest is read, then the end: EOF when the peer closed (FIN) before
    our write drew its reset, the reset when it reset the connection."""
    monkeypatch.setattr(_telnet, "HIGH_WATER", 4096)  # (pull: paused after the first part)
    first, last = b"a" * 8192, b"b" * 8192 + b"END\r\n"
    more = asyncio.Event()

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(first)
        await more.wait()
        writer.write(last)
        await writer.drain()
        if ending == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

    async with raw_server(server) as port:
        if delivery == "pull":
            transport = await _telnet.open_telnet(
                "127.0.0.1", port, term_type="xterm", dimensions=(24, 80), connect_timeout=10
            )
            session = None
        else:  # (push: paused once the session holds max_buffer)
            session = await connect(port, encoding=None, max_buffer=4096)
            transport = session.transport
        try:
            protocol = transport._protocol  # type: ignore[attr-defined]
            sock = transport._transport.get_extra_info("socket")  # type: ignore[attr-defined]
            await wait_until(lambda: protocol.paused, "reading is paused")
            more.set()
            if ending == "close":
                await wait_until(lambda: tcp_state(sock) == TCP_CLOSE_WAIT, "the FIN is in")
                await transport.write(b"q")  # reaches the closed socket: a reset
            await wait_until(lambda: tcp_state(sock) == TCP_CLOSE, "the reset is in")
            with pytest.raises(aioexpect.ConnectionLostError):
                await transport.write(b"q")
            got = bytearray()
            with contextlib.ExitStack() as stack:
                if ending == "reset":
                    stack.enter_context(pytest.raises(aioexpect.ConnectionLostError))
                while chunk := await (transport.read() if session is None else session.read_some()):
                    got += chunk
            assert got == first + last
        finally:
            await (transport.close() if session is None else session.close())


# -- negotiation while our own data waits to be sent ------------------------------------------

LONG_SEND = 16 << 20  # more than the kernel takes while the server reads nothing


@contextlib.asynccontextmanager
async def long_send(s: aioexpect.Session) -> AsyncIterator[asyncio.Task[None]]:
    """``s`` sends LONG_SEND bytes of ``x``; yields once most of them wait
    in the transport's buffer (the server does not read yet)."""
    sending = asyncio.create_task(s.send("x" * LONG_SEND))
    try:
        # (the asyncio transport under the adapter: no event reports its buffer)
        buffered = s.transport._transport.get_write_buffer_size  # type: ignore[attr-defined]
        await wait_until(lambda: buffered() > 4 * _telnet.REPLY_LIMIT, "the send waits")
        yield sending
    finally:
        if not sending.done():
            sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)


async def read_past_the_send(reader: asyncio.StreamReader) -> bytes:
    """Server side: read up to ``END\r`` (binary mode), all but the ``x`` sent."""
    got = bytearray()
    while not got.endswith(b"END\r") and (chunk := await reader.read(1 << 20)):
        got += chunk.replace(b"x", b"")
    return bytes(got)


async def test_replies_and_a_new_size_go_out_while_a_long_send_waits() -> None:
    """The replies to negotiation were held back while more than 64 KiB of
    the user's own data waited: DO BINARY, in answer to the server's WILL,
    was dropped while telnetlib3 took binary on anyway, so the server's NVT
    CR NUL reached the text as a NUL; a new size (NAWS) was lost too."""
    queued, reading = asyncio.Event(), asyncio.Event()

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfd\x1f\xff\xfd\x00\xff\xfb\x01")  # DO NAWS, DO BINARY, WILL ECHO
        await queued.wait()
        writer.write(b"\xff\xfb\x00mark\r\n")  # WILL BINARY, reading nothing yet
        await reading.wait()
        got = await read_past_the_send(reader)
        do_binary = b"\xff\xfd\x00" in got
        *_, naws = got.split(b"\xff\xfa\x1f")
        cols, rows = struct.unpack("!HH", naws[:4])
        writer.write(b"do-binary=%d naws=%dx%d\r\n" % (do_binary, rows, cols))
        # Binary if the client said DO; else the NVT, whose CR NUL is a CR.
        writer.write(b"one\r" + (b"" if do_binary else b"\x00") + b"two\r\n")
        await writer.drain()

    async with raw_server(server) as port, connect(port) as s:
        async with long_send(s) as sending:
            s.set_winsize(50, 132)
            queued.set()
            await s.expect_exact("mark\r\n")
            reading.set()
            await sending
        await s.sendline("END")
        m = await s.expect(r"do-binary=(\d) naws=(\d+x\d+)\r\n")
        assert m.groups() == ("1", "50x132")
        m = await s.expect_exact("two\r\n")
        assert m.before == "one\r"


async def test_requests_beyond_the_unread_replies_are_ignored_whole() -> None:
    """A peer that leaves more than 64 KiB of our replies unread has its
    requests ignored: neither answered nor taken on (a WILL BINARY taken
    on unanswered would keep the NUL of the NVT's CR NUL as text)."""
    term_type = "t" * 1000
    reply = len(term_type) + 6  # IAC SB TTYPE IS ... IAC SE
    queued, reading = asyncio.Event(), asyncio.Event()

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfd\x18\xff\xfd\x00")  # DO TTYPE, DO BINARY
        await queued.wait()
        writer.write(b"\xff\xfa\x18\x01\xff\xf0" * 100)  # SB TTYPE SEND, unread
        writer.write(b"\xff\xfb\x00mark\r\n")  # WILL BINARY
        await reading.wait()
        got = await read_past_the_send(reader)
        report = b"ttype=%d do-binary=%d\r\n"
        writer.write(report % (got.count(b"\xff\xfa\x18\x00"), b"\xff\xfd\x00" in got))
        writer.write(b"one\r\x00two\r\n")  # the NVT: no DO BINARY came
        await writer.drain()

    async with raw_server(server) as port, connect(port, term_type=term_type) as s:
        async with long_send(s) as sending:
            queued.set()
            await s.expect_exact("mark\r\n")
            reading.set()
            await sending
        await s.sendline("END")
        m = await s.expect(r"ttype=(\d+) do-binary=(\d)\r\n")
        answered = int(m.group(1))
        assert _telnet.REPLY_LIMIT // reply <= answered <= _telnet.REPLY_LIMIT // reply + 1
        assert m.group(2) == "0"
        m = await s.expect_exact("two\r\n")
        assert m.before == "one\r"


# -- hostile peers ---------------------------------------------------------------------------


async def test_telnetlib3_remarks_on_what_the_peer_sends_stay_off_stderr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """telnetlib3 warned on its own logger about what the server sent, the
    server's bytes included: where logging is not configured (a script,
    ``aioexpect exec``) Python's last resort printed that to stderr.  Its
    remarks are DEBUG records of ``aioexpect.telnet`` now, escaped."""
    caplog.set_level(logging.DEBUG, logger="aioexpect.telnet")

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # WILL ECHO; TTYPE IS (the server's, not ours to hear); WONT LOGOUT, unasked
        writer.write(b"\xff\xfb\x01\xff\xfa\x18\x00EVIL\x1b[2J\xff\xf0\xff\xfc\x12after\r\n")
        await writer.drain()
        await reader.read()

    async with raw_server(server) as port, connect(port, encoding=None) as s:
        await s.expect(b"after")
    loud = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING]
    assert not loud, loud
    remarks = [r.getMessage() for r in caplog.records if r.name == "aioexpect.telnet"]
    assert any("ignoring TTYPE IS from server" in m for m in remarks), remarks
    assert not any("\x1b" in m for m in remarks), remarks
    PeerRemarks().warning("a remark on %s", "\x1b[2J")  # (escaped here too)
    assert caplog.records[-1].getMessage() == "telnetlib3: a remark on \\x1b[2J"
    assert caplog.records[-1].levelno == logging.DEBUG


async def test_garbage_iac_sequences_never_crash() -> None:
    rng = random.Random(7)
    garbage = bytes(
        rng.choice((255, 255, 255, 250, 240, 251, 252, 253, 254, 1, 3, 24, 31, 39, 0, 13))
        for _ in range(200_000)
    )

    async def hostile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(garbage + b"\x00\xff\xf0MARK\r\n")
        await writer.drain()
        await reader.readuntil(b"alive")  # CR LF or CR: the garbage may agree BINARY
        writer.write(b"echo alive")
        await writer.drain()

    async with raw_server(hostile) as port, connect(port, encoding=None) as s:
        await s.expect_exact(b"MARK\r\n")
        await s.sendline("alive")
        await s.expect_exact(b"echo alive")


async def test_negotiation_storm_is_answered_only_within_a_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    storm = b"\xff\xfd\x06" * 300_000  # DO TIMING-MARK, each asks for a reply

    async def hostile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(storm + b"AFTER\r\n")  # and read nothing meanwhile
        await writer.drain()
        got = await reader.readuntil(b"REPORT\r\n")
        writer.write(b"replies=%d\r\n" % got.count(b"\xff\xfb\x06"))
        await writer.drain()

    loop = asyncio.get_running_loop()
    start = loop.time()
    async with raw_server(hostile) as port, connect(port) as s:
        await s.expect_exact("AFTER")
        await s.sendline("REPORT")
        m = await s.expect(r"replies=(\d+)")
        replies = int(m.group(1))
        assert 1 <= replies <= _telnet.BURST + _telnet.RATE * (loop.time() - start) + 1
    storms = [r for r in caplog.records if "negotiation storm" in r.getMessage()]
    assert len(storms) == 1  # said once, not each time a token comes back


async def test_unterminated_subnegotiation_stays_bounded() -> None:
    flood = 8 << 20

    async def hostile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"visible\r\n\xff\xfa\x18")
        chunk = b"A" * 65536
        for _ in range(flood // len(chunk)):
            writer.write(chunk)
            await writer.drain()

    tracemalloc.start()
    try:
        async with raw_server(hostile) as port, connect(port) as s:
            await s.expect_exact("visible\r\n")
            assert await s.read_all() == ""  # the SB swallows everything, bounded
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < flood // 2, f"peak {peak} bytes for an {flood}-byte sub-negotiation"


async def test_long_terminated_subnegotiation_is_dropped_and_data_follows() -> None:
    async def hostile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfa\x18" + b"\x01" * (4 * MAX_SUBNEGOTIATION) + b"\xff\xf0after\r\n")
        await writer.drain()

    async with raw_server(hostile) as port, connect(port) as s:
        assert await s.read_all() == "after\r\n"


async def test_a_lone_iac_inside_a_subnegotiation_stays_out_of_the_text() -> None:
    async def hostile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(LONE_IAC_IN_SB + LONE_IAC_BEFORE_COMMANDS + b"\r\n")
        await writer.drain()

    expected = "beforemidafter" + "".join(f"{byte}," for byte in range(0xF1, 0xFF))
    async with raw_server(hostile) as port, connect(port) as s:
        assert await s.read_all() == expected + "\r\n"


async def test_a_terminal_type_request_without_its_iac_se_leaves_the_login_prompt() -> None:
    # (the old code timed out: the prompt was part of the sub-negotiation)
    async def hostile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfa\x18\x01\xff\xfd\x01login: ")
        await writer.drain()
        while await reader.read(4096):  # (the replies read: no reset)
            pass

    async with raw_server(hostile) as port, connect(port, timeout=5) as s:
        m = await s.expect("login: ")
        assert m.before == ""


# -- connecting ----------------------------------------------------------------------------


async def test_refused_connection_is_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(aioexpect.ConnectError) as info:
        await connect(port)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert (info.value.host, info.value.port) == ("127.0.0.1", port)


async def test_connect_timeout_is_connect_error() -> None:
    with full_listener() as port:  # (the SYN is dropped: connecting waits)
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(aioexpect.ConnectError, match="timed out"):
            await connect(port, timeout=0.3)
        assert loop.time() - start < 2.0


async def test_bad_arguments_are_plain_errors() -> None:
    with pytest.raises(ValueError, match="port"):
        await aioexpect.connect_telnet("127.0.0.1", 70000)
    with pytest.raises(ValueError, match="term_type"):
        await aioexpect.connect_telnet("127.0.0.1", 23, term_type="vt\u00e9")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16", "utf-32", "cp500"])
async def test_encodings_that_do_not_write_ascii_as_ascii_are_refused(encoding: str) -> None:
    """Telnet rewrites the CR, LF and NUL bytes it sends and receives: in
    UTF-16 they are halves of characters (send("\u0d41\\nmore") lost a
    byte on the wire).  Refused before connecting, by URL too."""
    async with raw_server(collect) as port:
        with pytest.raises(ValueError, match=f"{encoding!r} cannot be used over telnet"):
            await connect(port, encoding=encoding)
        with pytest.raises(ValueError, match="utf-8"):
            await aioexpect.connect(f"telnet://127.0.0.1:{port}", encoding=encoding)


@pytest.mark.parametrize("encoding", ["shift_jis", "gb18030", "utf-8-sig"])
async def test_ascii_compatible_multibyte_encodings_go_out_as_encoded(encoding: str) -> None:
    async with raw_server(collect) as port, connect(port, encoding=encoding) as s:
        await s.sendline("\u8868\u793a \u5341")  # Shift-JIS: 0x5c (a backslash) second
        await s.sendline("END")
        m = await s.expect("([0-9a-f]+)\r\n")
        sent = "\u8868\u793a \u5341\r\nEND\r\n".encode(encoding)
        assert bytes.fromhex(m.group(1)) == sent


# -- URLs and login -------------------------------------------------------------------------


async def login_dialog(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        writer.write(b"Username: ")
        user = (await reader.readuntil(b"\r\n")).strip()
        writer.write(b"Password: ")
        password = (await reader.readuntil(b"\r\n")).strip()
        if (user, password) == (b"admin", b"Pa55-w0rd"):
            break
        writer.write(b"\r\n% Login invalid\r\n\r\n")
    writer.write(b"\r\nrouter#")
    while line := await reader.readuntil(b"\r\n"):
        writer.write(b"\r\nyou said " + line.strip() + b"\r\nrouter#")


async def test_url_without_credentials() -> None:
    async with telnet_server(echo) as port:
        async with aioexpect.connect(f"telnet://127.0.0.1:{port}", timeout=10) as s:
            await s.sendline("plain url")
            await s.expect_exact("plain url")


async def test_url_credentials_log_in() -> None:
    async with raw_server(login_dialog) as port:
        url = f"telnet://admin:Pa55-w0rd@127.0.0.1:{port}"
        async with aioexpect.connect(url, timeout=10) as s:
            assert "Pa55-w0rd" not in repr(s)
            await s.sendline("show version")
            await s.expect_exact("you said show version")


async def test_a_secret_inside_the_peer_the_caller_gave_is_not_pointed_at() -> None:
    # The password 1 showed the peer as '********27.0.0.********:PORT' in
    # repr, info() and sessions(): where the password stands in the address.
    async with telnet_server(echo) as port:
        async with aioexpect.connect_telnet("127.0.0.1", port, timeout=10) as s:
            s.add_secret("1")
            peer = f"127.0.0.1:{port}"
            assert repr(s).startswith(f"<Session #{s.id} telnet {peer!r} ")
            assert s.info()["peer"] == peer
            s.add_secret(peer)  # all of it: masked
            assert s.info()["peer"] == "********" and peer not in repr(s)


async def test_url_with_wrong_password_is_authentication_error() -> None:
    async with raw_server(login_dialog) as port:
        url = f"telnet://admin:not-it@127.0.0.1:{port}"
        with pytest.raises(aioexpect.AuthenticationError) as info:
            await aioexpect.connect(url, timeout=10)
        assert "not-it" not in str(info.value)


# -- closing ----------------------------------------------------------------------------------


async def test_close_is_idempotent_and_wakes_a_pending_read() -> None:
    async with telnet_server(echo) as port:
        transport = await _telnet.open_telnet(
            "127.0.0.1", port, term_type="xterm", dimensions=(24, 80), connect_timeout=10
        )
        reader = asyncio.create_task(transport.read())
        await asyncio.sleep(0)
        await transport.close()
        await transport.close()
        assert transport.closed
        with pytest.raises(aioexpect.ClosedError):
            await reader
        with pytest.raises(aioexpect.ClosedError):
            await transport.write(b"x")


@contextlib.asynccontextmanager
async def stuffed(port: int) -> AsyncIterator[aioexpect.Session]:
    """A session to a peer that never reads, with megabytes still queued in
    our write buffer: a gentle close would wait the whole grace."""
    async with connect(port, encoding="ascii") as s:
        writer = asyncio.create_task(s.transport.write(b"x" * (16 << 20)))
        await asyncio.sleep(0)
        try:
            assert not writer.done(), "16 MiB were taken by a peer that does not read"
            yield s
        finally:
            s.transport.abort()  # (a failed test has not closed it)
            with contextlib.suppress(aioexpect.ClosedError):
                await writer


async def deaf(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads nothing, until the connection ends (raw_server aborts it)."""
    writer.transport.pause_reading()
    await reader.read()


async def test_a_second_close_during_the_first_waits_for_it_and_force_aborts() -> None:
    # The second returned at once, with the socket still open, and the first
    # went on for its whole grace.
    async with raw_server(deaf) as port, stuffed(port) as s:
        first = asyncio.create_task(s.close())
        await asyncio.sleep(0)
        assert not first.done()  # waiting for the peer to take what is queued
        await s.close(force=True)
        assert first.done()
        await first


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_cancelled_close_leaves_nothing_open() -> None:
    # The socket stayed open for as long as the peer did: every later
    # close() returned at once.
    async with raw_server(deaf) as port, stuffed(port) as s:
        before = open_fds()
        first = asyncio.create_task(s.close())
        await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await s.close()
        assert open_fds() == before - 1


async def test_a_password_equal_to_the_host_or_port_is_masked_where_they_show() -> None:
    # security.rst: a password *equal* to the host or the port is masked
    # where aioexpect shows them.  The telnet opener's own words ("telnet
    # login to HOST:PORT failed") and the session's repr showed it whole.
    device = VirtualDevice("r1", login=("admin", "127.0.0.1"))
    async with serve_telnet(device) as server:
        port = str(server.port)
        for password in ("127.0.0.1", port):
            wrong = aioexpect.connect_telnet(
                "127.0.0.1", server.port, username="nobody", password=password, timeout=5
            )
            with pytest.raises(aioexpect.AuthenticationError) as info:
                await wrong
            assert password not in str(info.value) and "********" in str(info.value)
        async with aioexpect.connect_telnet(
            "127.0.0.1", server.port, username="admin", password="127.0.0.1", timeout=5
        ) as s:
            assert "127.0.0.1" not in repr(s) and port in repr(s)
            assert "127.0.0.1" not in str(s.info())
    with socket.socket() as probe:  # a port nothing listens on, refused
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    refused = aioexpect.connect_telnet("127.0.0.1", closed, password=str(closed), timeout=5)
    with pytest.raises(aioexpect.ConnectError) as info:
        await refused
    assert str(closed) not in str(info.value) and "127.0.0.1:********" in str(info.value)


async def test_a_size_of_255_is_sent_with_its_iac_escaped() -> None:
    """A width or height of 255 is an IAC byte inside NAWS's subnegotiation
    (RFC 1073), doubled on the wire: IAC SB NAWS 0 255 255 ... IAC SE.  The
    server reads each NAWS whole and unescaped, the first (the reply to DO
    NAWS) and a later ``set_winsize``'s alike."""
    sizes: list[tuple[int, int]] = []

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfd\x1fready\r\n")  # DO NAWS
        got = b""
        for _ in range(100):  # (bounded: two NAWS come)
            if len(re.findall(rb"\xff\xfa\x1f(?:[^\xff]|\xff\xff)*\xff\xf0", got)) == 2:
                break
            got += await reader.read(4096)
        for body in re.findall(rb"\xff\xfa\x1f((?:[^\xff]|\xff\xff)*)\xff\xf0", got):
            cols, rows = struct.unpack("!HH", body.replace(b"\xff\xff", b"\xff"))
            sizes.append((rows, cols))
        writer.write(b"done\r\n")
        await writer.drain()

    async with raw_server(server) as port, connect(port, dimensions=(24, 255)) as s:
        await s.expect_exact("ready\r\n")
        s.set_winsize(255, 80)
        await s.expect_exact("done\r\n")
    assert sizes == [(24, 255), (255, 80)]
