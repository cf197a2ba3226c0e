"""Push delivery (``Transport.start_receiving``): the common chunk's short
way (``_receive.feed_plain``) reads exactly as ``feed``'s own way does.

A transport of the test's own pushes seeded random data in random pieces,
each as a view of one reused buffer that is scribbled over once ``on_data``
returns (as the local adapters' scratch buffer is reused), keeping to
``on_data``'s answer (back-pressure) until ``resume_receiving``.  The same
pieces go to a session that takes the short way and to one that a monitor
which never fires keeps off it; what each reader gets must be the same.
"""

from __future__ import annotations

import asyncio
import random
import re
from typing import Any

import pytest

import aioexpect
from aioexpect import EOF, FULL_BUFFER, Session, _reading
from aioexpect.testing import memory_pair

from .helpers import Wrapper

#: What the data is made of: text, multi-byte characters, a byte no UTF-8
#: character starts with, and the start of a three-byte character alone.
PIECES = [b"a", b"b", b"x", b"\n", "é".encode(), "€".encode(), b"\xff", b"\xe2\x82"]


class Pushed(Wrapper):
    """Pushes ``chunks`` to ``on_data`` from the loop, as views of one
    reused buffer, pausing where ``on_data`` answers ``False``."""

    kind = "pushed"

    def __init__(self, inner: Any, chunks: list[bytes]) -> None:
        super().__init__(inner)
        self.chunks = list(chunks)
        self.scratch = bytearray(max((len(c) for c in chunks), default=1))
        self.receivers: Any = None
        self.ended = False

    def start_receiving(self, on_data, on_end) -> bool:  # type: ignore[no-untyped-def]
        self.receivers = (on_data, on_end)
        asyncio.get_running_loop().call_soon(self._push)
        return True

    def resume_receiving(self) -> None:
        asyncio.get_running_loop().call_soon(self._push)

    def _push(self) -> None:
        on_data, on_end = self.receivers
        while self.chunks:
            chunk = self.chunks.pop(0)
            self.scratch[: len(chunk)] = chunk
            more = on_data(memoryview(self.scratch)[: len(chunk)])
            self.scratch[:] = b"\x00" * len(self.scratch)  # (kept only if copied)
            if not more:
                return
        if not self.ended:
            self.ended = True
            on_end(None)


def _case(seed: int) -> tuple[list[bytes], dict[str, Any], Any]:
    rng = random.Random(seed)
    data = b"".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 400)))
    chunks, at = [], 0
    while at < len(data):
        size = rng.randrange(1, 48)
        chunks.append(data[at : at + size])
        at += size
    options: dict[str, Any] = {"max_buffer": rng.choice([None, 8, 64, 1000])}
    if rng.random() < 0.2:  # a bytes session
        options["encoding"] = None
        pattern = rng.choice([b"ab", re.compile(b"a+b"), re.compile(rb"x\n")])
    else:
        options["codec_errors"] = rng.choice(["replace", "backslashreplace", "ignore", "strict"])
        pattern = rng.choice(["ab", re.compile("a+b"), re.compile(r"x\n")])
    return chunks, options, pattern


async def _read(chunks: list[bytes], options: dict[str, Any], pattern: Any, monitor: bool) -> Any:
    ours, peer = memory_pair()
    got: list[Any] = []
    async with Session(Pushed(ours, chunks), timeout=5, **options) as s:
        if monitor:  # (keeps every chunk off the short way)
            never = "never arrives" if s.encoding is not None else b"never arrives"
            s.add_monitor(never, lambda session, match: None)
        while True:
            try:
                m = await s.expect([pattern, FULL_BUFFER, EOF])
            except aioexpect.AioexpectError as exc:
                got.append((type(exc).__name__, re.sub(r"#\d+", "#N", str(exc))))
                break
            got.append((m.index, m.before, m.after))
            if m.index == 2:
                break
        got.append(("bytes_in", s.bytes_in))
    await peer.close()
    return got


@pytest.mark.parametrize("seed", range(60))
async def test_the_short_way_reads_as_feed_does(seed, monkeypatch):
    chunks, options, pattern = _case(seed)
    taken: list[bool] = []
    plain = _reading.feed_plain

    def counted(session: Session, data: Any) -> bool:
        try:
            result = plain(session, data)
        except UnicodeDecodeError:  # (codec_errors="strict": taken, and stopped there)
            taken.append(True)
            raise
        taken.append(result)
        return result

    monkeypatch.setattr(_reading, "feed_plain", counted)
    expected = await _read(chunks, options, pattern, monitor=True)
    assert not any(taken)  # (the monitor kept it off the short way)
    taken.clear()
    assert await _read(chunks, options, pattern, monitor=False) == expected
    if chunks and options["max_buffer"] in (None, 1000):
        assert any(taken)  # (the short way was taken)
