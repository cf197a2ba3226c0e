"""Push delivery (``Transport.start_receiving``): the common chunk's short
way (``_receive.feed_plain``) reads exactly as ``feed``'s own way does.

A transport of the test's own pushes seeded random data in random pieces,
each as a view of one reused buffer that is scribbled over once ``on_data``
returns (as the local adapters' scratch buffer is reused), and keeps to
``on_data``'s answer (back-pressure) until ``resume_receiving``.  Between
pieces a seeded script changes what the short way must step aside for:
DEBUG records, a logfile, a secret, monitors (also from their callbacks),
``divert``.  The same script runs with the short way and without it (the
way every chunk took before it); everything observable must be the same.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import logging
import random
import re
from typing import Any

import pytest

import aioexpect
from aioexpect import EOF, FULL_BUFFER, Session, _reading
from aioexpect.testing import memory_pair

from .helpers import Wrapper

#: What the data is made of: text, multi-byte characters, a byte no UTF-8
#: character starts with, the start of a three-byte character alone, escape
#: sequences (whole, cut, a move up), a secret.
PIECES = [b"a", b"b", b"x", b"\n", b"ab", b"secret", "é".encode(), "€".encode(), b"\xff"]
PIECES += [b"\xe2\x82", b"\x1b[31m", b"\x1b[", b"\x1b[A", b"\r\n"]

codecs.register_error("aioexpect_test_wide", lambda e: (f"<{e.object[e.start]:02x}>", e.start + 1))


class Pushed(Wrapper):
    """Pushes what is queued to ``on_data`` as views of one reused buffer,
    pausing where ``on_data`` answers ``False``; logs every answer."""

    kind = "pushed"

    def __init__(self, inner: Any, seen: list[Any]) -> None:
        super().__init__(inner)
        self.queue: list[bytes] = []
        self.receivers: Any = None
        self.paused = self.ended = False
        self.seen = seen
        self.scratch = bytearray(64)

    def start_receiving(self, on_data, on_end) -> bool:  # type: ignore[no-untyped-def]
        self.receivers = (on_data, on_end)
        return True

    def resume_receiving(self) -> None:
        self.seen.append("resumed")
        self.paused = False
        asyncio.get_running_loop().call_soon(self.push)

    def push(self, end: bool = False) -> None:
        on_data, on_end = self.receivers
        while self.queue and not self.paused:
            chunk = self.queue.pop(0)
            self.scratch[: len(chunk)] = chunk
            more = on_data(memoryview(self.scratch)[: len(chunk)])
            self.scratch[:] = bytes(len(self.scratch))  # (kept only if copied)
            self.seen.append(("on_data", len(chunk), more))
            self.paused = not more
        if end and not self.queue and not self.ended:
            self.ended = True
            on_end(None)


def _shown(text: Any) -> Any:
    return re.sub(r"session\d+|#\d+", "#N", text) if isinstance(text, str) else text


async def _script(seed: int) -> list[Any]:
    """Everything a seeded run shows: reads, errors, on_data's answers,
    the state after each piece, the logfile, the records, the sink."""
    rng, seen = random.Random(seed), []
    ours, peer = memory_pair()
    transport = Pushed(ours, seen)
    encoding = rng.choice(["utf-8", "utf-8", "latin-1", "utf-16-le", None])
    options: dict[str, Any] = {"max_buffer": rng.choice([None, 4, 16, 64, 1000])}
    if encoding is not None:
        errors = ["replace", "backslashreplace", "strict", "ignore", "aioexpect_test_wide"]
        options["codec_errors"] = rng.choice(errors)
    options["strip_ansi"] = rng.random() < 0.2
    text = (lambda t: t) if encoding is not None else (lambda t: t.encode())
    s = Session(transport, timeout=None, encoding=encoding, **options)
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(_shown(record.getMessage()))  # type: ignore[method-assign]
    s.log.addHandler(handler)
    s.log.propagate = False
    s.log.setLevel(logging.INFO)
    logfile: Any = io.StringIO() if encoding is not None else io.BytesIO()
    removers: list[Any] = []
    diverted: list[Any] = []
    sunk: list[Any] = []

    def toggle_debug() -> None:
        s.log.setLevel(logging.DEBUG if s.log.level != logging.DEBUG else logging.INFO)

    def monitored(session: Session, match: Any) -> None:
        seen.append(("monitor", match.after))
        r = rng.random()
        if r < 0.2 and removers:
            removers.pop(0)()
        elif r < 0.35:
            removers.append(s.add_monitor(text(rng.choice("abx")), monitored))
        elif r < 0.45:
            toggle_debug()

    async def read() -> None:
        while True:
            try:
                if rng.random() < 0.3:
                    m = await s.expect_exact(text(rng.choice(["ab", "x", "b\n", "secret"])))
                else:
                    pattern = rng.choice(
                        [text("ab"), re.compile(text("a+b")), re.compile(text("x\n"))]
                    )
                    m = await s.expect([pattern, FULL_BUFFER, EOF])
                seen.append(("read", m.index, m.before, m.after))
                if m.index == 1:
                    seen.append(("rest", await s.read_some()))
                elif m.index == 2:
                    return
            except aioexpect.AioexpectError as exc:
                seen.append((type(exc).__name__, _shown(str(exc))))
                return

    reader = asyncio.create_task(read())
    data = b"".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 120)))
    at = 0
    while at < len(data):
        size = rng.randrange(1, 9)
        transport.queue.append(data[at : at + size])
        at += size
    for _ in range(len(transport.queue)):
        act = rng.random()
        if act < 0.06:
            toggle_debug()
        elif act < 0.1:
            removers.append(s.add_monitor(text(rng.choice("abx\n")), monitored))
        elif act < 0.12 and removers:
            removers.pop()()
        elif act < 0.15:
            s.logfile = logfile if s.logfile is None else None
        elif act < 0.16:
            s.add_secret(text("b"))
        elif act < 0.2 and not diverted:
            diverted.append(s.divert(sunk.append, keep=rng.random() < 0.5))
            diverted[-1].__enter__()
        elif act < 0.24 and diverted:
            diverted.pop().__exit__(None, None, None)
        if rng.random() < 0.6 and not transport.paused:
            transport.push()
        for _ in range(rng.randrange(0, 4)):
            await asyncio.sleep(0)
        seen.append(("state", len(s._held), len(s._surplus), s._paused, s.bytes_in))
    if diverted:
        diverted.pop().__exit__(None, None, None)
    for _ in range(500):  # (bounded: a reader left waiting fails the comparison)
        if reader.done():
            break
        if not transport.paused:
            transport.push(end=True)
        await asyncio.sleep(0)
    seen.append(("reader done", reader.done()))
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    seen += [("end", s.bytes_in, s.buffer), ("logfile", logfile.getvalue()), records, sunk]
    await s.close()
    await peer.close()
    return seen


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each chunk went the short way, from now on."""
    taken: list[bool] = []
    short = _reading.feed_plain

    def counted(session: Session, data: Any) -> bool:
        try:
            taken.append(short(session, data))
        except UnicodeDecodeError:  # (codec_errors="strict": taken, and stopped there)
            taken.append(True)
            raise
        return taken[-1]

    monkeypatch.setattr(_reading, "feed_plain", counted)
    return taken


@pytest.mark.parametrize("seed", range(80))
async def test_the_short_way_reads_as_feed_does(seed, monkeypatch):
    _counting(monkeypatch)
    got = await _script(seed)
    monkeypatch.setattr(_reading, "feed_plain", lambda session, data: False)
    assert got == await _script(seed)


def test_the_scripts_take_the_short_way_and_step_aside_from_it(monkeypatch):
    """The comparison means something: over the seeds, many chunks go the
    short way and many do not."""
    taken = _counting(monkeypatch)
    for seed in range(80):
        asyncio.run(_script(seed))
    assert taken.count(True) > 200 and taken.count(False) > 200
