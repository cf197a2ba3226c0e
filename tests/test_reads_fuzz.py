"""SPEC §2 (nothing lost or duplicated, cancellation-safe) over every real
transport: a peer prints numbered lines in seeded random pieces at an
irregular pace (multi-byte characters cut between pieces, ANSI colours)
while seeded random reads are timed out or cancelled at random moments.
What the reads that succeeded took, then ``read_all()``, is exactly what
the peer sent; a read that failed took nothing, and the next one works."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import EOF, FULL_BUFFER, TIMEOUT, BufferFull, ExpectEOF, Session
from aioexpect._ansi import strip_ansi
from tests.helpers import serve
from tests.test_ssh import connect as connect_ssh
from tests.test_ssh import ssh_server
from tests.test_telnet import connect as connect_telnet
from tests.test_telnet import telnet_server

Plan = list[tuple[bytes, float]]

#: The child of pipes and pty: writes each piece, then pauses for its delay.
CHILD = """
import json, os, sys, time
for piece, delay in json.loads(sys.argv[1]):
    os.write(1, bytes.fromhex(piece))
    time.sleep(delay)
"""

WORDS = ("alpha", "é", "café", "→", "漢字", "🙂", "ok", "$ ", "x" * 30)
REGEXES = (r"\d{3}", r"\n", r"→|漢", r"caf.", r"\$ ", r"🙂", r"y+\n", r"never-here")
EXACT = ("\n", "é", "字", "ok", "0", "$ ", "never-here")


def output(rng: random.Random, colours: bool) -> tuple[str, Plan]:
    """What the peer prints, and how: (piece, pause after it) pairs, cut
    anywhere, inside a character or an escape sequence too."""
    lines = []
    for i in range(rng.randint(15, 45)):
        words = [f"{i:03d}", *rng.choices(WORDS, k=rng.randint(0, 5))]
        if colours:
            words = [
                f"\x1b[{rng.randint(0, 37)}m{w}\x1b[0m" if rng.random() < 0.3 else w for w in words
            ]
        if rng.random() < 0.05:
            words.append("y" * rng.randint(100, 400))  # (past a small max_buffer)
        lines.append(" ".join(words))
    text = "\n".join(lines) + rng.choice(("\n", ""))
    data, plan, at = text.encode(), [], 0
    while at < len(data):
        size = rng.choice((1, 2, 3, 5, 9, 17, 30, 64, 150))
        plan.append((data[at : at + size], rng.choice((0.0, rng.uniform(0, 0.004)))))
        at += size
    return text, plan


async def play(write: Callable[[bytes], Any], drain: Callable[[], Any], plan: Plan) -> None:
    for piece, delay in plan:  # (the peer's pace: the point of the test, not a wait)
        write(piece)
        await drain()
        await asyncio.sleep(delay)


@contextlib.asynccontextmanager
async def spawned(plan: Plan, pty: bool, **options: Any) -> AsyncIterator[Session]:
    arg = json.dumps([(piece.hex(), delay) for piece, delay in plan])
    async with aioexpect.spawn(sys.executable, ["-c", CHILD, arg], pty=pty, **options) as s:
        yield s


@contextlib.asynccontextmanager
async def over_tcp(plan: Plan, **options: Any) -> AsyncIterator[Session]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await play(writer.write, writer.drain, plan)

    async with serve(handler) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with Session.from_streams(reader, writer, **options) as s:
            yield s


@contextlib.asynccontextmanager
async def over_ssh(plan: Plan, **options: Any) -> AsyncIterator[Session]:
    async def handler(process: asyncssh.SSHServerProcess[bytes]) -> None:
        with contextlib.suppress(asyncssh.Error, OSError):
            await play(process.stdout.write, process.stdout.drain, plan)
        process.exit(0)

    async with ssh_server(handler) as server, connect_ssh(server, **options) as s:
        yield s


@contextlib.asynccontextmanager
async def over_telnet(plan: Plan, **options: Any) -> AsyncIterator[Session]:
    async def shell(reader: Any, writer: Any) -> None:
        with contextlib.suppress(ConnectionError):
            await play(writer.write, writer.drain, plan)
        writer.close()

    async with telnet_server(shell) as port, connect_telnet(port, **options) as s:
        yield s


OPENERS = {
    "pipes": lambda plan, **options: spawned(plan, False, **options),
    "pty": lambda plan, **options: spawned(plan, True, **options),
    "tcp": over_tcp,
    "ssh": over_ssh,
    "telnet": over_telnet,
}


class Ledger:
    """What the reads took, checked against what the peer sent as it goes."""

    def __init__(self, expected: Any, seed: int) -> None:
        self.expected, self.at, self.seed = expected, 0, seed

    def took(self, text: Any, what: str) -> None:
        comes = self.expected[self.at : self.at + len(text)]
        assert text == comes, (
            f"seed={self.seed} {what}: took {text[:80]!r} at {self.at}, {comes[:80]!r} came"
        )
        self.at += len(text)

    def took_line(self, line: Any, what: str) -> None:
        nl, cr = ("\n", "\r") if isinstance(line, str) else (b"\n", b"\r")
        end = self.expected.find(nl, self.at)
        comes = self.expected[self.at : len(self.expected) if end < 0 else end]
        assert line == comes.rstrip(cr), (
            f"seed={self.seed} {what}: line {line[:80]!r} of {comes[:80]!r}"
        )
        self.at = len(self.expected) if end < 0 else end + 1

    def buffered(self, s: Session, what: str) -> None:
        buffer, comes = s.buffer, self.expected[self.at : self.at + len(s.buffer)]
        assert buffer == comes, (
            f"seed={self.seed} {what}: {buffer[:80]!r} buffered, {comes[:80]!r} next"
        )


def a_read(s: Session, rng: random.Random, lines: Any, encode: Any, timeout: float) -> Any:
    """(what, coroutine) of a seeded random read; ``lines``: the ``lines()`` iterator."""
    kind = rng.choice(("expect", "exact", "until", "some", "lines", "list"))
    if kind == "expect":
        return kind, s.expect(encode(rng.choice(REGEXES)), timeout=timeout)
    if kind == "exact":
        return kind, s.expect_exact(encode(rng.choice(EXACT)), timeout=timeout)
    if kind == "until":
        return kind, s.read_until(encode(rng.choice(EXACT)), timeout=timeout)
    if kind == "some":
        return kind, s.read_some(rng.choice((None, 1, 5, 100)), timeout=timeout)
    if kind == "lines":
        return kind, anext(lines)
    patterns = [encode(p) for p in rng.sample(REGEXES[:-1], rng.randint(1, 2))]
    patterns += rng.sample((TIMEOUT, EOF, FULL_BUFFER), rng.randint(0, 3))
    rng.shuffle(patterns)
    return kind, s.expect(patterns, timeout=timeout)


async def cut_short(read: Any, rng: random.Random, s: Session, encode: Any) -> Any:
    """Await ``read`` under a seeded way of giving up on it: its own
    ``timeout`` (already in it), ``wait_for``, ``asyncio.timeout``, a cancel
    after a delay or some turns of the loop, or a cancel in the turn after
    the next data arrives, the one the read is woken in if that data
    decided it (the race of a match and a cancellation)."""
    how, delay = rng.randrange(6), rng.uniform(0, 0.02)
    if how == 0:
        return await read
    if how == 1:
        return await asyncio.wait_for(read, delay)
    if how == 2:
        async with asyncio.timeout(delay):
            return await read
    task = asyncio.ensure_future(read)
    if how == 5:
        soon = asyncio.get_running_loop().call_soon
        remove = s.add_monitor(encode(r"\S"), lambda *_: soon(task.cancel))
        try:
            return await task
        finally:
            remove()
    if how == 3:
        await asyncio.sleep(delay)
    for _ in range(rng.randrange(6) if how == 4 else 0):
        await asyncio.sleep(0)
    task.cancel()
    return await task


async def fuzz(transport: str, seed: int) -> None:
    rng = random.Random(seed)
    colours, strip, binary = rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.2
    max_buffer = rng.choice((None, None, 24, 64, 200))
    text, plan = output(rng, colours)
    if transport == "pty":
        text = text.replace("\n", "\r\n")
    expected: Any = strip_ansi(text) if strip else text
    encode: Any = str.encode if binary else str
    if binary:
        expected = expected.encode()
    options = {"timeout": 10, "strip_ansi": strip, "max_buffer": max_buffer}
    ledger = Ledger(expected, seed)
    async with OPENERS[transport](plan, encoding=None if binary else "utf-8", **options) as s:
        lines, end = None, False
        for step in range(150):
            timeout = rng.choice((rng.uniform(0, 0.02), 10))
            lines = lines or s.lines(timeout=timeout)
            kind, read = a_read(s, rng, lines, encode, timeout)
            what = f"step {step} ({kind})"
            try:
                got = await cut_short(read, rng, s, encode)
            except (asyncio.CancelledError, TimeoutError, BufferFull, ExpectEOF):
                # (ExpectTimeout is a TimeoutError; a BusyError fails the test)
                lines = None if kind == "lines" else lines
                ledger.buffered(s, what + " that failed")
                continue
            except StopAsyncIteration:
                break
            if kind == "lines":
                ledger.took_line(got, what)
            elif kind in ("until", "some"):
                ledger.took(got, what)
                end = kind == "some" and not got  # (empty at end of file)
            elif got.pattern is not TIMEOUT:  # (which leaves the buffer as it is)
                ledger.took(got.before + got.after, what)
                end = got.pattern is EOF
            ledger.buffered(s, what)
            if end:
                break
        if lines is not None:
            await lines.aclose()
        while True:
            try:
                ledger.took(await s.read_all(), "read_all")
                break
            except BufferFull:
                ledger.took(await s.read_some(), "read_some after BufferFull")
    assert ledger.at == len(expected), f"seed={seed}: {expected[ledger.at :]!r} never read"


@pytest.mark.parametrize("transport", list(OPENERS))
async def test_reads_cut_short_at_random_lose_and_repeat_nothing(
    transport: str, aio_loop: str, fresh_home: Path
) -> None:
    # (seeds of their own for each transport and loop: 20 in all)
    first = 2 * (list(OPENERS).index(transport) + 5 * (aio_loop == "uvloop"))
    for seed in range(first, first + 2):
        async with asyncio.timeout(30):
            await fuzz(transport, seed)
