"""The buffer of unmatched data against a plain string model: every append,
consume, find, rfind, slice and tail agrees with it, whether the head grows in place,
batches stay separate chunks (bytes, or where growing is off), or
the head is partly consumed; and a long ``before`` is handed out, not copied."""

from __future__ import annotations

import random
import subprocess
import sys
from typing import Any

import pytest

from aioexpect._buffer import TRACING_COPIES, Buffer, grows_in_place

#: Where CPython's specialised ``+=`` should grow a str in place.
CPYTHON_WITH_GIL = sys.implementation.name == "cpython" and (
    getattr(sys, "_is_gil_enabled", lambda: True)()
)


def check_against_model(buf: Buffer, empty: Any, rng: random.Random, steps: int) -> None:
    model = empty
    alphabet = [
        empty[:0] + c for c in (("a", "b", "\n") if isinstance(empty, str) else (b"a", b"b", b"\n"))
    ]
    for _ in range(steps):
        action = rng.random()
        if action < 0.55:
            n = rng.choice((1, 1, 2, 5, 17, 40))
            piece = empty.join(rng.choice(alphabet) for _ in range(n))
            buf.append(piece)
            model += piece
        elif action < 0.75:
            cut = rng.choice((0, 1, 3, rng.randint(0, len(model) + 2)))
            assert buf.consume(cut) == model[:cut]
            model = model[cut:]
        else:
            start = rng.randint(-1, len(model) + 1)
            sub = model[rng.randint(0, len(model)) :][: rng.choice((1, 2, 3, 6))] or alphabet[0]
            assert buf.find(sub, start) == model.find(sub, max(start, 0)), (model, sub, start)
            assert buf.tail_from(start) == model[max(start, 0) :]
            end = rng.randint(0, len(model))
            assert buf.slice(start, end) == model[max(start, 0) : end], (model, start, end)
            char = alphabet[rng.randrange(len(alphabet))]
            assert buf.rfind(char, start) == model.rfind(char, max(start, 0)), (model, start)
        assert len(buf) == len(model)
    assert buf.text() == model


@pytest.mark.parametrize("grow", [True, False], ids=["grow", "chunks"])
@pytest.mark.parametrize("batch", [1, 8, 64])
def test_text_buffer_agrees_with_a_string(grow, batch):
    for seed in range(40):
        buf = Buffer("", batch=batch, pending=5)
        buf._grow = grow and buf._grow
        check_against_model(buf, "", random.Random(seed), 300)


@pytest.mark.parametrize("batch", [1, 8, 64])
def test_bytes_buffer_agrees_with_bytes(batch):
    for seed in range(40):
        check_against_model(Buffer(b"", batch=batch, pending=5), b"", random.Random(seed), 300)


def test_consumed_counts_everything_removed():
    buf = Buffer("", batch=4, pending=3)
    for i in range(50):
        buf.append(f"{i:03d}|")
    assert buf.consume(7) == "000|001"
    assert buf.consume(190) == "".join(f"{i:03d}|" for i in range(50))[7:197]
    assert buf.consumed == 197 and len(buf) == 3 and buf.text() == "49|"


@pytest.mark.parametrize("empty", ["", b""], ids=["text", "bytes"])
def test_lines_from_a_long_buffer(empty):
    """Many small consumes from a buffer of many settled chunks, as
    ``lines()`` over a large output: each returns its line, in order."""
    buf = Buffer(empty, batch=64, pending=4)
    lines = [f"line {i}\n" for i in range(3000)]
    if isinstance(empty, bytes):
        lines = [line.encode() for line in lines]  # type: ignore[misc]
    for i in range(0, len(lines), 3):
        buf.append(empty.join(lines[i : i + 3]))
    newline = lines[0][-1:]
    for i, line in enumerate(lines):
        at = buf.find(newline, 0)
        assert buf.consume(at + 1) == line, i
    assert len(buf) == 0 and buf.text() == empty


#: Run in a fresh interpreter: how much a long process has allocated and
#: freed decides where glibc places a growing block (see the module docs).
PEAK_PROBE = """
import tracemalloc
from aioexpect._buffer import Buffer
size = 8 << 20
chunks = [chr(97 + i % 26).encode() * (1 << 16) for i in range(size >> 16)]
buf = Buffer("")
tracemalloc.start()
for chunk in chunks:
    buf.append(chunk.decode())
before = buf.consume(size - 10)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
assert before == "".join(c.decode() for c in chunks)[:-10], "data differs"
assert buf.text() == chunks[-1][-10:].decode(), "rest differs"
print(peak / size)
"""


@pytest.mark.skipif(not CPYTHON_WITH_GIL, reason="CPython grows a unique str in place")
def test_a_long_before_is_handed_out_not_copied():
    """8 MiB in 64 KiB chunks, then everything but the last few characters
    is consumed at once: the peak of allocations stays near one copy of the
    text, where joining the chunks would need two."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK_PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    peak = float(out.stdout)
    assert grows_in_place(), "CPython no longer specialises the head's +="
    assert peak < 1.3, f"peak {peak:.2f}x the text"


@pytest.mark.skipif(not (CPYTHON_WITH_GIL and TRACING_COPIES), reason="3.11 and 3.12 only")
def test_a_profiled_python_3_11_keeps_chunks_apart():
    """Python 3.11 does not specialise ``+=`` while a profile function is
    set, so growing would copy the head each time: chunks stay apart (on
    3.12 too, where a tracer reading ``f_locals`` holds the head)."""
    buf, model = Buffer("", batch=1, pending=3), ""
    old = sys.getprofile()
    sys.setprofile(lambda *args: None)
    try:
        for i in range(50):
            buf.append(f"{i:03d}\n")
            model += f"{i:03d}\n"
    finally:
        sys.setprofile(old)
    assert buf._grow is False
    assert buf.consume(len(model) - 4) == model[:-4] and buf.text() == "049\n"


@pytest.mark.parametrize("empty", ["", b""])
def test_what_was_consumed_can_be_given_back(empty: Any) -> None:
    """A read that consumed text it could not use puts it back: the buffer
    is as it was, its offsets and ``consumed`` too, across chunks that wait."""
    rng = random.Random(7)
    for _ in range(200):
        buf = Buffer(empty, batch=8, pending=4)
        data = [bytes(rng.choices(b"abc\r\n", k=rng.randint(1, 9))) for _ in range(10)]
        pieces = data if isinstance(empty, bytes) else [d.decode() for d in data]
        for piece in pieces:
            buf.append(piece)
        whole = buf.text()
        first = buf.consume(rng.randint(0, len(whole) // 2))
        taken = buf.consume(rng.randint(0, len(whole) // 2))
        buf.give_back(taken)
        assert (buf.text(), len(buf), buf.consumed) == (
            whole[len(first) :],
            len(whole) - len(first),
            len(first),
        )
        assert first + buf.consume(len(buf)) == whole


@pytest.mark.parametrize("empty", ["", b""])
def test_what_is_given_back_past_a_limit_comes_off_the_end(empty: Any) -> None:
    """Given back past ``limit`` (``max_buffer``), the buffer keeps its first
    ``limit`` characters and hands the rest, off its end, to the caller:
    together they are the text as it was, in order, and ``consumed`` is as
    before the read."""
    rng = random.Random(11)
    for _ in range(200):
        buf = Buffer(empty, batch=8, pending=4)
        data = [bytes(rng.choices(b"abc\r\n", k=rng.randint(1, 9))) for _ in range(10)]
        for piece in data if isinstance(empty, bytes) else [d.decode() for d in data]:
            buf.append(piece)
        whole = buf.text()
        first = buf.consume(rng.randint(0, len(whole) // 2))
        taken = buf.consume(rng.randint(0, len(whole) // 2))
        limit = rng.randint(len(buf), len(whole))  # (never past it before)
        over = buf.give_back(taken, limit)
        assert len(buf) == min(limit, len(whole) - len(first)) == len(buf.text())
        assert buf.text() + over == whole[len(first) :]
        assert buf.consumed == len(first)
        buf.append(over)  # (the order it comes back in)
        assert first + buf.consume(len(buf)) == whole
