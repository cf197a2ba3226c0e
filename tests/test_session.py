"""Session guarantees of SPEC §2 over the in-memory transport: nothing lost or
duplicated, cancellation safety, time-outs and EOF with evidence,
back-pressure at max_buffer, one reader, secrets, monitors."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import functools
import gc
import io
import logging
import math
import os
import random
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import aioexpect
from aioexpect import EOF, FULL_BUFFER, TIMEOUT, Session
from aioexpect._ansi import strip_ansi
from aioexpect._child import describe
from aioexpect._console import sessions
from aioexpect._monitor import Monitor
from aioexpect._patterns import normalize_patterns
from aioexpect._redact import MASK, Redactor, escape
from aioexpect.testing import memory_pair

from .helpers import Wrapper, opened, wait_until
from .splits import splits

log = logging.getLogger("test")


async def test_match_consumes_exactly_up_to_its_end():
    async with opened() as (s, peer):
        await peer.write(b"one $ two $ three")
        m = await s.expect(r"\$ ")
        assert (m.before, m.after) == ("one ", "$ ")
        assert s.buffer == "two $ three"
        m = await s.expect_exact("$ ")
        assert m.before == "two "
        assert s.buffer == "three"


async def test_nothing_lost_or_duplicated_in_random_chunks():
    data = "".join(f"row {i} {'x' * (i % 50)}\n" for i in range(2000)).encode()
    rng = random.Random(7)
    async with opened(timeout=10) as (s, peer):

        async def writer() -> None:
            i = 0
            while i < len(data):
                n = rng.randint(1, 3000)
                await peer.write(data[i : i + n])
                i += n
            await peer.write_eof()

        task = asyncio.create_task(writer())
        got = [line async for line in s.lines()]
        await task
    assert got == data.decode().splitlines()


async def test_lines_in_a_pty_drop_every_line_end() -> None:
    """A pty turns ``\n`` into ``\r\n``; a child's own ``\r\n`` arrives as
    ``\r\r\n``."""
    script = "printf 'unix\\nwindows\\r\\nlast'"
    async with aioexpect.spawn("sh", ["-c", script], timeout=10) as s:
        assert [line async for line in s.lines()] == ["unix", "windows", "last"]


async def test_lines_checks_its_timeout_at_the_call() -> None:
    # lines(timeout="x") returned its iterator and raised only when iterated;
    # every other method raises at the call, as expect does for the same value.
    script = "printf 'one\\ntwo\\n'"
    async with aioexpect.spawn("sh", ["-c", script], timeout=10) as s:
        for wrong in ("x", -1, math.nan, True):
            with pytest.raises((TypeError, ValueError)) as expected:
                await s.expect("one", timeout=wrong)
            with pytest.raises(type(expected.value)) as error:
                s.lines(timeout=wrong)  # (not iterated)
            assert str(error.value) == str(expected.value)
        assert [line async for line in s.lines(timeout=10)] == ["one", "two"]
    async with aioexpect.spawn("sh", ["-c", script], timeout=10) as s:
        assert [line async for line in s.lines(timeout=10**400)] == ["one", "two"]


@pytest.mark.parametrize(
    ("encoding", "sent", "lines"),
    [
        ("utf-8", b"a\r\nb\r\nc\r", ["a", "b", "c"]),
        ("utf-8", b"a\r\n\r", ["a", ""]),
        ("utf-8", b"a\r\n", ["a"]),
        (None, b"a\r\nb\r", [b"a", b"b"]),
    ],
)
async def test_the_last_line_at_end_of_file_drops_its_line_end_too(
    encoding: str | None, sent: bytes, lines: list[str | bytes]
) -> None:
    """A last line ended by a lone ``\r`` (a device's line end, cut by
    its ``\n`` never coming) kept it, unlike every line before; a lone line
    end left is an empty line, nothing left no line at all."""
    async with opened(encoding=encoding) as (s, peer):
        await peer.write(sent)
        await peer.write_eof()
        assert [line async for line in s.lines()] == lines


async def test_multibyte_character_split_across_chunks():
    async with opened() as (s, peer):
        raw = "naïve café → ok\n".encode()
        for i in range(len(raw)):
            await peer.write(raw[i : i + 1])
        assert await s.read_until("\n") == "naïve café → ok\n"


async def test_codec_errors_are_honoured():
    async with opened(codec_errors="backslashreplace") as (s, peer):
        await peer.write(b"bad \xff byte\n")
        assert await s.read_until("\n") == "bad \\xff byte\n"


async def test_strict_decoding_keeps_the_valid_text_and_says_why_it_stopped(caplog):
    async def check(s):
        with pytest.raises(aioexpect.ConnectionLostError, match="codec_errors='strict'") as info:
            await s.expect("end")
        assert "ok caf\u00e9 " in str(info.value)  # the evidence: what did decode
        assert s.buffer == "ok café "
        assert isinstance(info.value.__cause__, UnicodeDecodeError)

    async with opened(codec_errors="strict", timeout=5) as (s, peer):  # read() delivery
        await peer.write("ok café ".encode() + b"\xff more end")
        await check(s)
    script = "import sys; sys.stdout.buffer.write('ok café '.encode() + b'\\xff more end')"
    async with aioexpect.spawn(  # push delivery
        sys.executable, ["-c", script], pty=False, codec_errors="strict", timeout=5
    ) as s:
        await check(s)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("encoding", "pieces", "stay"),
    [
        ("utf-8", [b"ok \xe2\x82", b"X rest\n"], True),  # a character cut, then a bad byte
        ("utf-8", [b"ok \xe2\x82", b"X rest\n"], False),  # ... and the program ends
        ("utf-8", [b"ok \xe2\x82"], False),  # a character cut by the end of the output
        ("utf-16-le", [b"o\x00k\x00 \x00!"], False),  # an odd byte at the end
    ],
)
async def test_strict_decoding_split_across_reads_is_reported(caplog, encoding, pieces, stay):
    # A bad sequence that starts at the end of one read failed again while
    # the first failure was handled: the error escaped into the event loop,
    # the wait hung (or saw a clean end of file, the rest dropped).
    script = (
        "import sys, time\n"
        f"for piece in {pieces!r}:\n"
        "    sys.stdout.buffer.write(piece); sys.stdout.flush(); time.sleep(0.2)\n"
        + ("time.sleep(30)\n" if stay else "")
    )
    async with aioexpect.spawn(
        sys.executable,
        ["-c", script],
        pty=False,
        encoding=encoding,
        codec_errors="strict",
        timeout=10,
    ) as s:
        with pytest.raises(aioexpect.ConnectionLostError, match="codec_errors='strict'"):
            await s.expect(["rest", aioexpect.EOF])
        assert s.buffer == "ok "
        with pytest.raises(aioexpect.ConnectionLostError):  # every wait, not a clean end
            await s.read_all()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_strict_decoding_of_held_back_data_is_reported_with_nothing_lost():
    # Past max_buffer the bytes wait undecoded; a read that made room decoded
    # them and raised the raw UnicodeDecodeError, losing what it had taken.
    script = "import sys; sys.stdout.buffer.write(b'a' * 20 + b'\\xff' + b'bbbbb')"
    async with aioexpect.spawn(
        sys.executable, ["-c", script], pty=False, codec_errors="strict", max_buffer=10, timeout=5
    ) as s:
        await wait_until(lambda: len(s.buffer) == 10, "the buffer is full")
        got = [await s.read_some(), await s.read_some()]
        assert got == ["a" * 10, "a" * 10]
        with pytest.raises(aioexpect.ConnectionLostError, match="codec_errors='strict'"):
            await s.read_some()


async def test_a_handler_that_gives_up_keeps_the_text_before_and_is_named():
    # surrogateescape in a utf-32 unit whose bytes are not all >= 0x80 gives
    # up part-way: the text before was decoded strictly again, which raised
    # a second error; an AttributeError ended reading, the line before was
    # lost, and the message said codec_errors='strict'.
    async with opened(encoding="utf-32", codec_errors="surrogateescape", timeout=5) as (s, peer):
        await peer.write("one\n".encode("utf-32"))
        assert (await s.expect("one\n")).before == ""
        await peer.write("line kept\n".encode("utf-32-le") + b"\xff\xfe\x80 bad\n")
        assert (await s.expect("line kept\n")).before == ""
        with pytest.raises(aioexpect.ConnectionLostError, match="codec_errors='surrogateescape'"):
            await s.expect("bad")


@pytest.mark.parametrize(
    ("encoding", "pieces", "kept"),
    [
        ("cp1252", ["price: 5 € \u2013 ok\n".encode("cp1252") + b"\x81"], "price: 5 € \u2013 ok\n"),
        ("iso2022_jp", [b"x\x1b$B", b"K\\\x1b(B\n\xff"], "x本\n"),  # shifted a chunk before
        (
            "utf-16",
            ["ok\n".encode("utf-16") + b"\x00\xdc!\x00"],
            "ok\n",
        ),  # the mark, then a bad unit
        ("unicode_escape", [b"line kept\\n then \\x4g"], "line kept\n then "),
        ("utf-16", [b"o", b"\x00k\x00\n\x00\x00\xdc!\x00"], "ok\n"),  # no mark: little endian
    ],
    ids=["cp1252", "iso2022_jp", "utf-16", "unicode_escape", "utf-16-no-mark"],
)
async def test_the_text_before_a_bad_byte_is_kept_as_the_session_decodes_it(encoding, pieces, kept):
    # It was decoded again alone, by the codec's name for the error: cp1252's
    # is charmap (latin-1: '€' became '\x80'), the shift of an earlier chunk
    # and the byte order mark seen were lost ('xK\\', '\ufeffok'), and
    # 'unicodeescape' is no name at all (a LookupError lost the line).
    async with opened(encoding=encoding, codec_errors="strict", timeout=5) as (s, peer):
        for piece in pieces:
            await peer.write(piece)
        with pytest.raises(aioexpect.ConnectionLostError, match="codec_errors='strict'"):
            await s.expect("never")
        assert s.buffer == kept


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
async def test_a_peer_writing_no_byte_order_mark_is_read(encoding):
    # Python's incremental decoders raise a bare UnicodeError for a stream
    # without a mark, whatever the handler: under the default "replace" the
    # session ended at its first byte (ConnectionLostError), its text lost.
    native = f"{encoding}-{sys.byteorder[0]}e"
    async with opened(encoding=encoding, timeout=5) as (s, peer):
        await peer.write("hello\n".encode(native) + b"\x00\xdc"[: 2 if encoding == "utf-16" else 0])
        assert (await s.expect("hello\n")).before == ""
        await peer.write("still here\n".encode(native))
        m = await s.expect("still here\n")
        assert m.before == ("\ufffd" if encoding == "utf-16" else "")


async def test_a_bytes_pattern_that_is_not_the_sessions_text_is_named():
    # A bare UnicodeDecodeError from the codec named no pattern.
    async with opened(encoding="ascii", timeout=1) as (s, peer):
        for call in (s.expect, s.expect_exact):
            with pytest.raises(ValueError, match=r"pattern b'caf\\xc3\\xa9' is not ascii text"):
                await call([b"ok", b"caf\xc3\xa9"])
        await peer.write(b"ok")
        assert (await s.expect_exact(b"ok")).after == "ok"  # the session is still usable


async def test_a_handler_that_gives_up_at_the_end_of_the_output_is_named():
    # The stop at the end of the output (an odd last byte) said 'strict'.
    async with opened(encoding="utf-16", codec_errors="surrogateescape", timeout=5) as (s, peer):
        await peer.write("ok\n".encode("utf-16") + b"A")
        await peer.close()
        with pytest.raises(aioexpect.ConnectionLostError, match="codec_errors='surrogateescape'"):
            await s.expect("never")
        assert s.buffer == "ok\n"


@pytest.mark.parametrize("reader", ["read_all", "read_some", "lines", "expect_eof"])
async def test_strict_decoding_is_never_taken_for_the_end(reader):
    """The child goes on after the bad byte: a reader must not return as if
    the output had ended."""
    async with opened(codec_errors="strict", timeout=5) as (s, peer):
        await peer.write(b"one\nok \xff more\n")
        got = []
        with pytest.raises(aioexpect.ConnectionLostError, match="codec_errors='strict'"):
            if reader == "read_all":
                got.append(await s.read_all())
            elif reader == "read_some":
                for _ in range(10):  # the text before the bad byte, then the error
                    got.append(await s.read_some())
            elif reader == "lines":
                async for line in s.lines():
                    got.append(line)
            else:
                got.append(await s.expect(["never", aioexpect.EOF]))
        seen = "".join(line + "\n" for line in got) if reader == "lines" else "".join(got)
        assert seen + s.buffer == "one\nok "  # nothing lost, nothing twice
        assert s.exit_status is None


async def test_bytes_mode_session():
    async with opened(encoding=None) as (s, peer):
        await peer.write(b"\x00\xfe> ")
        m = await s.expect(rb"> ")
        assert m.before == b"\x00\xfe"
        await s.send("text is utf-8 encoded")
        assert await peer.read() == b"text is utf-8 encoded"


async def test_cancelled_expect_leaves_buffer_intact():
    async with opened() as (s, peer):
        await peer.write(b"partial ")
        task = asyncio.create_task(s.expect("never"))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert s.buffer == "partial "
        await peer.write(b"done")
        assert (await s.expect("done")).before == "partial "


async def test_cancel_racing_a_match_consumes_nothing():
    """The match is found by the pump, but the task is cancelled before it
    resumes: the data must still be there."""
    async with opened() as (s, peer):
        task = asyncio.create_task(s.expect("hit"))
        await asyncio.sleep(0)
        await peer.write(b"a hit b")
        for _ in range(5):  # let the pump deliver; the task is woken, not run
            if s._waiter is not None and s._waiter.future.done():
                break
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert s.buffer == "a hit b"
        assert (await s.expect("hit")).before == "a "


async def test_wait_for_and_asyncio_timeout_are_safe():
    async with opened() as (s, peer):
        await peer.write(b"abc")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(s.expect("zzz", timeout=None), 0.05)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await s.expect("zzz", timeout=None)
        assert s.buffer == "abc"


async def test_timeout_raises_with_evidence_and_keeps_data():
    async with opened() as (s, peer):
        await peer.write(b"x" * 300 + b"\x1b[0m\r\n tail")
        with pytest.raises(aioexpect.ExpectTimeout) as info:
            await s.expect(["never", "again"], timeout=0.05)
        err = info.value
        assert isinstance(err, TimeoutError)
        assert "'never'" in str(err) and "'again'" in str(err)
        assert "\\x1b[0m\\r\\n tail'" in str(err)  # escaped once, as repr does
        assert "x" * 201 not in str(err)
        assert err.before == "x" * 300 + "\x1b[0m\r\n tail"
        assert err.patterns == ("never", "again")
        assert s.buffer == err.before


async def test_timeout_sentinel_matches_instead_of_raising():
    async with opened() as (s, peer):
        await peer.write(b"rest")
        m = await s.expect(["never", TIMEOUT], timeout=0.01)
        assert (m.index, m.pattern, m.before, m.after) == (1, TIMEOUT, "rest", "")
        assert s.buffer == "rest"  # kept, as pexpect keeps it


async def test_a_pattern_half_arrived_at_a_timeout_sentinel_still_matches():
    # pexpect's polling loop: the TIMEOUT match consumed 'working DO', so
    # 'DONE' never matched and the loop ran into end of file.
    async with opened() as (s, peer):
        await peer.write(b"working DO")
        polls = 0
        while (m := await s.expect(["DONE", TIMEOUT, EOF], timeout=0.02)).index == 1:
            polls += 1
            assert m.before.startswith("working DO")
            if polls == 2:
                await peer.write(b"NE\n")
        assert (m.index, m.before, polls) == (0, "working ", 2)
        assert s.buffer == "\n"


async def test_zero_timeout_is_a_poll():
    async with opened() as (s, peer):
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.expect("x", timeout=0)
        await peer.write(b"x")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert (await s.expect("x", timeout=0)).after == "x"


async def test_each_wait_keeps_its_own_deadline():
    """The session keeps one timer from wait to wait and moves it only when a
    deadline comes sooner: a short timeout after a long one still expires on
    time, and a long one after a short one, or a wait with no timeout, is not
    cut short when the timer goes off at the earlier time."""
    async with opened() as (s, peer):
        await peer.write(b"a")
        await s.expect("a", timeout=30)  # leaves the timer 30 s ahead
        with pytest.raises(aioexpect.ExpectTimeout):
            async with asyncio.timeout(5):  # a TimeoutError here: not moved
                await s.expect("never", timeout=0.05)
        await peer.write(b"b")
        await s.expect("b", timeout=0.1)  # leaves the timer 0.1 s ahead
        waiting = asyncio.create_task(s.expect("c", timeout=1))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await peer.write(b"c")
        assert (await waiting).after == "c"
        await peer.write(b"d")
        await s.expect("d", timeout=0.1)
        waiting = asyncio.create_task(s.expect("e", timeout=None))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await peer.write(b"e")
        assert (await waiting).after == "e"


async def test_eof_is_reported_promptly_not_at_the_deadline():
    async with opened(timeout=None) as (s, peer):
        await peer.write(b"last words")
        await peer.write_eof()
        with pytest.raises(aioexpect.ExpectEOF) as info:
            await s.expect("never")
        assert isinstance(info.value, EOFError)
        assert info.value.before == "last words"
        m = await s.expect(["never", EOF])
        assert (m.index, m.before) == (1, "last words")
        assert await s.read_some() == ""
        assert await s.read_all() == ""


async def test_read_some_takes_at_most_size_and_leaves_the_rest():
    # pexpect's read_nonblocking(size): one character at a time, say, so as
    # not to read past a prompt.
    async with opened() as (s, peer), opened(encoding=None) as (b, bpeer):
        await peer.write("h\u00e9llo".encode())
        await peer.write_eof()
        assert await s.read_some(2) == "h\u00e9"  # characters
        assert s.buffer == "llo"
        assert await s.read_some(size=10) == "llo"
        assert await s.read_some(1) == ""  # end of file
        await bpeer.write("\u00e9".encode())
        assert await b.read_some(1) == b"\xc3"  # bytes
        for bad, error in ((0, ValueError), (True, TypeError), (1.5, TypeError)):
            with pytest.raises(error, match="size"):
                await b.read_some(bad)
        assert await b.read_some() == b"\xa9"  # (nothing lost to the bad calls)


async def test_text_pattern_beats_eof_when_data_matches():
    async with opened() as (s, peer):
        await peer.write(b"bye$ ")
        await peer.write_eof()
        await asyncio.sleep(0)
        m = await s.expect([EOF, r"\$ "])
        assert m.index == 1


async def test_buffer_full_raises_and_back_pressure_keeps_everything():
    ours, peer = memory_pair(limit=64)
    s = Session(ours, max_buffer=100, timeout=5)
    data = bytes(range(97, 123)) * 20  # 520 bytes, ASCII
    writer = asyncio.create_task(peer.write(data))
    with pytest.raises(aioexpect.BufferFull) as info:
        await s.expect("never")
    assert len(info.value.before) == 100
    assert not writer.done(), "the peer should be held back, not dropped"
    m = await s.expect(["never", FULL_BUFFER])
    assert (m.index, len(m.before)) == (1, 100)
    received = m.before
    while len(received) < len(data):
        received += (
            (await s.expect(FULL_BUFFER)).before
            if len(received) + 100 <= len(data)
            else await s.read_some()
        )
    await writer
    assert received == data.decode()
    await s.close()
    await peer.close()


codecs.register_error("aioexpect_test_long", lambda error: ("<?>" * 100, error.end))


@pytest.mark.parametrize("errors", ["backslashreplace", "aioexpect_test_long"])
@pytest.mark.parametrize("delivery", ["pump", "push"])
async def test_max_buffer_holds_when_a_byte_decodes_to_several_characters(errors, delivery):
    # Bytes were taken as the room in characters allowed, as if each decoded
    # to one: max_buffer=64 buffered 256 characters with backslashreplace,
    # 19,200 with a handler that writes 300 for a byte.
    data = b"ok " + b"\xff" * 200 + b" end"
    expected = data.decode("utf-8", errors)
    async with contextlib.AsyncExitStack() as stack:
        if delivery == "pump":
            s, peer = await stack.enter_async_context(
                opened(max_buffer=64, codec_errors=errors, timeout=5)
            )
            await peer.write(data)
            await peer.write_eof()
        else:
            script = f"import sys; sys.stdout.buffer.write({data!r})"
            s = await stack.enter_async_context(
                aioexpect.spawn(
                    sys.executable, ["-c", script], pty=False, max_buffer=64, codec_errors=errors
                )
            )
        pieces = []
        while True:
            m = await s.expect([FULL_BUFFER, EOF], timeout=5)
            assert len(m.before) <= 64
            pieces.append(m.before)
            if m.index == 1:
                break
        assert "".join(pieces) == expected  # (in order, nothing lost)
        assert all(len(piece) == 64 for piece in pieces[:-1])


async def _session_given(stack: contextlib.AsyncExitStack, data: bytes, delivery: str, **options):
    """A session that receives ``data``, then the end of file: over a memory
    pair (the pump) or from a child over pipes (push delivery)."""
    if delivery == "pump":
        s, peer = await stack.enter_async_context(opened(timeout=5, **options))
        await peer.write(data)
        await peer.write_eof()
        return s
    script = f"import sys; sys.stdout.buffer.write({data!r})"
    opener = aioexpect.spawn(sys.executable, ["-c", script], pty=False, timeout=5, **options)
    return await stack.enter_async_context(opener)


async def _read_to_eof_in_pieces(s: Session) -> str:
    """Everything to the end of file, read as max_buffer allows."""
    pieces = []
    while True:
        m = await s.expect([FULL_BUFFER, EOF])
        pieces.append(m.before)
        if m.index == 1:
            return "".join(pieces)


@pytest.mark.parametrize(
    ("data", "options"),
    [
        (b"x" * 60 + b"\xe2\x82", {"codec_errors": "backslashreplace"}),
        (b"x" * 60 + b"\x1b]0;title-never-ends", {"strip_ansi": True}),
    ],
    ids=["incomplete-character", "unfinished-escape"],
)
@pytest.mark.parametrize("delivery", ["pump", "push"])
async def test_what_the_end_of_file_flushes_past_max_buffer_is_read(data, options, delivery):
    # At the end of file the decoder gives its incomplete character (as
    # \xe2\x82) and the ANSI stripper its unfinished sequence; past
    # max_buffer that text waits.  On push delivery nothing moved it on once
    # the reader made room, since reading was not paused: the next expect
    # reported EOF, and '\\x82' or 'title-never-ends' was lost.
    expected = data.decode("utf-8", "backslashreplace")  # (the stripper gives it back as is)
    async with contextlib.AsyncExitStack() as stack:
        s = await _session_given(stack, data, delivery, max_buffer=64, **options)
        assert await _read_to_eof_in_pieces(s) == expected


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("delivery", ["pump", "push"])
async def test_divert_gives_the_text_past_max_buffer_to_the_sink_and_keeps_it(keep, delivery):
    # The console's attach (keep=True) with text decoded past max_buffer
    # waiting: it went to the sink only, and after the detach the program
    # read the 64 buffered characters and then EOF ('...\\xffNEEDLE\n' lost).
    data = b"A" * 10 + b"\xff" * 20 + b"NEEDLE\n"
    expected = data.decode("utf-8", "backslashreplace")  # 97 characters
    async with contextlib.AsyncExitStack() as stack:
        s = await _session_given(
            stack, data, delivery, max_buffer=64, codec_errors="backslashreplace"
        )
        await wait_until(lambda: len(s.buffer) == 64, "the buffer is full")
        sunk: list[str] = []
        with s.divert(sunk.append, keep=keep):
            pass
        assert "".join(sunk) == expected
        assert await _read_to_eof_in_pieces(s) == (expected if keep else "")


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (b"12345678$ more", r"\$ \Z"),  # it matched '12345678$ ', the buffer at the cut
        (b"12345678$ more", r"\$ $"),
        (b"12345678$ \nmore", r"\$ $"),
        (b"12345678$ \n", r"\$ $"),  # before the last line end: a match
        (b"12345678$ more", r"(?m)\$ $"),
        (b"12345678$ \nmore", r"(?m)\$ $"),  # before a line end: a match
        (b"12345678$ x more", r"\$ (?!x)"),
        (b"12345678$ y more", r"\$ (?!x)"),  # a match
        (b"12345678901234", r"\d+"),  # more digits follow
        (b"12345678$ more", r"\$"),  # the end plays no part: a match
    ],
)
@pytest.mark.parametrize("mode", ["str", "bytes"])
@pytest.mark.parametrize("delivery", ["pump", "push"])
async def test_the_end_of_a_buffer_cut_at_max_buffer_is_not_the_end_of_the_text(
    data, pattern, mode, delivery
):
    # The peer sent more than max_buffer at once.  The buffer's end at the
    # cut was taken for the end of what was received: expect(r'\$ \Z')
    # matched '12345678$ ' of '12345678$ more', where re.search finds
    # nothing.  A match is the one re.search finds in all that came, or,
    # where it ends past the cut or there is none, the full buffer; the
    # rest is then read as it came, nothing lost or repeated.
    cut = 10
    encode = (lambda text: text.encode()) if mode == "bytes" else (lambda text: text)
    text = encode(data.decode())
    regex = re.compile(encode(pattern))
    expected = regex.search(text)
    options = {"encoding": None} if mode == "bytes" else {}
    async with contextlib.AsyncExitStack() as stack:
        s = await _session_given(stack, data, delivery, max_buffer=cut, **options)
        if expected is not None and expected.end() <= cut:
            m = await s.expect([regex, FULL_BUFFER])
            assert (m.index, m.before, m.after) == (0, text[: expected.start()], expected.group())
        else:
            with pytest.raises(aioexpect.BufferFull):
                await s.expect(regex)
            m = await s.expect([regex, FULL_BUFFER])
            assert (m.index, m.before) == (1, text[:cut])
        received = m.before + m.after
        while (m := await s.expect([FULL_BUFFER, EOF])).index == 0:
            received += m.before
        assert received + m.before == text


@pytest.mark.parametrize(
    ("data", "options", "text"),
    [
        (b"12345678$ \x1b[1mmore", {"strip_ansi": True}, "12345678$ more"),
        (
            "12345678$ \u00e9t\u00e9".encode("cp1252"),
            {"encoding": "cp1252"},
            "12345678$ \u00e9t\u00e9",
        ),
    ],
    ids=["strip_ansi", "cp1252"],
)
@pytest.mark.parametrize("delivery", ["pump", "push"])
async def test_what_waits_past_max_buffer_is_looked_at_as_it_will_decode(
    data, options, text, delivery
):
    # The bytes past the cut wait undecoded: they are looked at through the
    # session's decoder and stripper, which they leave as they were.
    async with contextlib.AsyncExitStack() as stack:
        s = await _session_given(stack, data, delivery, max_buffer=10, **options)
        with pytest.raises(aioexpect.BufferFull):
            await s.expect(r"\$ \Z")
        assert (await s.expect(FULL_BUFFER)).before == text[:10]
        assert await _read_to_eof_in_pieces(s) == text[10:]


async def _session_then_idle(
    stack: contextlib.AsyncExitStack, data: bytes, delivery: str, **options
):
    """A session that receives ``data``, then nothing (no end of file: a
    shell waiting for input), over a memory pair or from a child."""
    if delivery == "pump":
        s, peer = await stack.enter_async_context(opened(timeout=5, **options))
        await peer.write(data)
        return s
    script = f"import sys; sys.stdout.buffer.write({data!r}); sys.stdout.flush(); sys.stdin.read()"
    opener = aioexpect.spawn(sys.executable, ["-c", script], pty=False, timeout=5, **options)
    return await stack.enter_async_context(opener)


def _drop(exc: UnicodeError) -> tuple[str, int]:
    """A codec_errors handler of the user's own: drops what does not decode."""
    assert isinstance(exc, UnicodeDecodeError)
    return "", exc.end


codecs.register_error("test_session.drop", _drop)


@pytest.mark.parametrize(
    ("data", "max_buffer", "options", "pattern", "text"),
    [
        # The read crossed max_buffer inside the prompt's colour reset.
        (b"\x1b[1m12$ \x1b[0m", 10, {"strip_ansi": True}, r"\$ \Z", "12$ "),
        (b"\x1b[1m12$ \x1b[0m", 10, {"strip_ansi": True}, r"\d+\$", "12$ "),
        # The buffer full at the cut, the reset past it.
        (b"12$ \x1b[0m", 4, {"strip_ansi": True}, r"\$ \Z", "12$ "),
        # Bytes that codec_errors drops, past a cut that left room.
        (
            "\u00e9\u00e9\u00e9$ ".encode() + b"\xff\xff\xff",
            10,
            {"codec_errors": "ignore"},
            r"\$ \Z",
            "\u00e9\u00e9\u00e9$ ",
        ),
        # A handler of the user's own is looked at as 'replace' would (it
        # may raise): the match refused, then offered again once it drops.
        (
            "\u00e9$ ".encode() + b"\xff",
            4,
            {"codec_errors": "test_session.drop"},
            r"\$ \Z",
            "\u00e9$ ",
        ),
    ],
    ids=["ansi-room", "ansi-room-digits", "ansi-full", "ignore", "own-handler"],
)
@pytest.mark.parametrize("delivery", ["pump", "push"])
async def test_a_match_before_what_shows_nothing_past_max_buffer_is_taken(
    data, max_buffer, options, pattern, text, delivery
):
    # What waited past the cut showed nothing (the rest of an escape
    # sequence, bytes dropped): the match was refused, and once those bytes
    # were decoded to nothing no one offered the buffer again: expect()
    # waited to its time-out with the prompt in the buffer (or, the buffer
    # full, raised BufferFull).  The text ends there for now, as it does
    # without max_buffer: the match is taken.
    expected = re.search(pattern, text)
    async with contextlib.AsyncExitStack() as stack:
        s = await _session_then_idle(stack, data, delivery, max_buffer=max_buffer, **options)
        m = await s.expect(pattern)
        assert (m.before, m.after) == (text[: expected.start()], expected.group())
        assert s.buffer == text[expected.end() :]


@pytest.mark.parametrize("delivery", ["pump", "push"])
async def test_a_strict_stop_at_max_buffer_leaves_nothing_to_look_past(delivery):
    # Reading stops at the byte that does not decode: the text ends at
    # '123'.  The pump kept the bytes it had read past the cut, and the
    # match was judged with '67890' behind it: ConnectionLostError, where
    # push delivery (and the code before the read past the cut) gave '123'.
    async with contextlib.AsyncExitStack() as stack:
        data = b"123\xff567890"
        s = await _session_given(stack, data, delivery, max_buffer=5, codec_errors="strict")
        assert (await s.expect(r"\d+")).after == "123"
        with pytest.raises(aioexpect.ConnectionLostError, match="codec_errors='strict'"):
            await s.expect(r"\d+")


@pytest.mark.parametrize(
    ("data", "encoding", "errors", "pattern"),
    [
        (b"12345\xff67", "utf-8", "ignore", r"\d+"),  # '1234567': more digits follow
        (b"12345\x8167", "cp1252", "ignore", r"\d+"),  # (0x81 is not cp1252)
        (b"123$ \xff", "utf-8", "ignore", r"\$ \Z"),  # '123$ ': a match
        (b"12345\xff67", "utf-8", "replace", r"\d+"),  # '12345\ufffd67': a match
        (b"12345\xff", "utf-8", "backslashreplace", r"5(?!\\)"),  # '12345\\xff': none
    ],
)
@pytest.mark.parametrize("delivery", ["pump", "push"])
async def test_what_waits_past_max_buffer_is_looked_at_through_codec_errors(
    data, encoding, errors, pattern, delivery
):
    # The bytes past the cut were looked at with 'replace' whatever the
    # handler: under 'ignore', '12345' + '\xff67' took '\ufffd' for what
    # follows the digits, and r'\d+' matched '12345' of '1234567'.
    text = data.decode(encoding, errors)
    expected = re.search(pattern, text)
    options = {"encoding": encoding, "codec_errors": errors}
    async with contextlib.AsyncExitStack() as stack:
        s = await _session_given(stack, data, delivery, max_buffer=5, **options)
        m = await s.expect([pattern, FULL_BUFFER])
        if expected is not None and expected.end() <= 5:
            assert (m.index, m.before, m.after) == (0, text[: expected.start()], expected.group())
        else:
            assert (m.index, m.before) == (1, text[:5])
        assert m.before + m.after + await _read_to_eof_in_pieces(s) == text


@pytest.mark.parametrize(
    ("data", "max_buffer", "patterns", "exact"),
    [
        (b"xabbbbc", 5, [r"ab+c|b"], False),  # it took 'b' of 'abbbbc'
        (b"warning: ok now\n", 11, [r"warning: .*\n", r"ok"], False),  # it took 'ok'
        (b"login: root ok\n$ ", 12, [r"login: \w+ ok\n", "root"], False),
        (b"abcdef", 4, ["abcdef", "cd"], True),  # exact strings too
    ],
)
@pytest.mark.parametrize("delivery", ["pump", "push"])
async def test_a_match_that_starts_earlier_and_ends_past_max_buffer_wins(
    data, max_buffer, patterns, exact, delivery
):
    # Only the found match's own end was looked at past the cut: a match
    # of another pattern, or of the same one, that starts earlier and ends
    # past the cut was not looked for, and a later one was taken where
    # re.search over all that came finds the earlier one: the buffer is full.
    text = data.decode()
    async with contextlib.AsyncExitStack() as stack:
        s = await _session_given(stack, data, delivery, max_buffer=max_buffer)
        expect = s.expect_exact if exact else s.expect
        m = await expect([*patterns, FULL_BUFFER])
        assert (m.index, m.before) == (len(patterns), text[:max_buffer])
        assert await _read_to_eof_in_pieces(s) == text[max_buffer:]


async def test_second_reader_is_busy_but_sending_is_allowed():
    async with opened() as (s, peer):
        first = asyncio.create_task(s.expect("ping"))
        await asyncio.sleep(0)
        with pytest.raises(aioexpect.BusyError):
            await s.expect("other")
        with pytest.raises(aioexpect.BusyError):
            await s.read_some()
        await s.sendline("hello")
        assert await peer.read() == b"hello\n"
        await peer.write(b"ping")
        assert (await first).after == "ping"


async def test_closed_session_refuses_use_and_wakes_the_reader():
    async with opened() as (s, _peer):
        task = asyncio.create_task(s.expect("x", timeout=None))
        await asyncio.sleep(0)
        await s.close()
        await s.close()  # idempotent
        with pytest.raises(aioexpect.ClosedError):
            await task
        with pytest.raises(aioexpect.ClosedError):
            await s.send("x")
        with pytest.raises(aioexpect.ClosedError):
            await s.expect("x")
        assert s.closed


async def test_send_variants():
    async with opened() as (s, peer):
        await s.send("a")
        await s.send(b"b")
        await s.sendline("c")
        await s.sendline()
        await s.sendcontrol("c")
        await s.sendcontrol("]")
        assert await peer.read() == b"abc\n\n\x03\x1d"
        for key in "`{|}~?@[\\^_":  # (pexpect's aliases too: ` { | } ~)
            await s.sendcontrol(key)
        assert await peer.read() == b"\x00\x1b\x1c\x1d\x1e\x7f\x00\x1b\x1c\x1e\x1f"
        with pytest.raises(ValueError):
            await s.sendcontrol("cc")
        with pytest.raises(TypeError, match="one-character str, not bytes"):
            await s.sendcontrol(b"c")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await s.send(42)  # type: ignore[arg-type]
        await s.sendeof()
        assert await peer.read() == b""
        assert s.bytes_out == 18


async def test_bad_arguments_are_plain_errors_and_session_stays_usable():
    async with opened() as (s, peer):
        with pytest.raises(ValueError):
            await s.expect("(unclosed")
        with pytest.raises(TypeError):
            await s.expect("x", timeout="soon")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await s.expect("x", timeout=-1)
        with pytest.raises(ValueError, match="timeout"):  # no deadline compares with NaN
            await s.expect("x", timeout=float("nan"))
        with pytest.raises(TypeError):
            s.set_winsize(10, 10)
        with pytest.raises(TypeError, match="escape_character"):
            await s.interact(escape_character=5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="escape_character"):
            await s.interact(escape_character="")
        await peer.write(b"still fine")
        assert (await s.expect("fine")).before == "still "


async def test_read_helpers():
    async with opened() as (s, peer):
        await peer.write(b"a\r\nb\nc")
        assert await s.read_until("\n") == "a\r\n"
        assert await s.read_some() == "b\nc"
        await peer.write(b"more")
        await peer.write_eof()
        assert await s.read_all() == "more"


async def test_read_until_given_a_regex_names_itself():
    """The refusal said ``expect_exact takes plain strings``: a method the
    caller of ``read_until`` never called."""
    async with opened() as (s, peer):
        with pytest.raises(TypeError, match="read_until take plain strings"):
            await s.read_until(re.compile("x"))
        await peer.write(b"x")
        assert await s.read_until("x") == "x"


async def test_strip_ansi_option_removes_sequences_split_across_chunks():
    async with opened(strip_ansi=True) as (s, peer):
        for piece in (b"\x1b[1", b";32mgreen\x1b", b"[0m\x1b]0;title\x07 $ "):
            await peer.write(piece)
        m = await s.expect(r"\$ ")
        assert m.before == "green "


async def test_strip_ansi_title_cut_after_its_terminators_escape_leaves_the_prompt_first():
    # limit=0: each write waits until the session has read it, one chunk each.
    async with opened(strip_ansi=True, limit=0, timeout=5) as (s, peer):
        waiting = asyncio.create_task(s.expect(r"^\$ "))
        for piece in (b"\x1b]0;user@host: ~\x1b", b"\\$ "):
            await peer.write(piece)
        assert (await waiting).before == ""


async def test_strip_ansi_in_a_bytes_session_keeps_utf8_text():
    text = "děkuji, věc, Лm, tě12 kB\n".encode()  # ě is c4 9b, Л is d0 9b
    async with opened(strip_ansi=True, encoding=None, timeout=5) as (s, peer):
        await peer.write(b"\x1b[1m" + text + b"\x1b[0m")
        await peer.write_eof()
        assert await s.read_all() == text


async def test_bad_values_are_plain_errors_and_messages_say_what_was_awaited():
    ours, peer = memory_pair()
    with pytest.raises(TypeError, match="strip_ansi"):
        aioexpect.Session(ours, strip_ansi="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_buffer"):
        aioexpect.Session(ours, max_buffer=True)
    await ours.close()
    await peer.close()
    async with opened(timeout=5) as (s, peer):
        for line in (3, None):
            with pytest.raises(TypeError, match="str or bytes, not"):
                await s.sendline(line)  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="str or bytes, not"):
                await s.send_secret(line)  # type: ignore[arg-type]
        with pytest.raises(aioexpect.ExpectTimeout, match="waiting for any data"):
            await s.read_some(timeout=0.01)
        await s.send_secret("hunter2pass")
        with pytest.raises(aioexpect.ExpectTimeout) as info:
            await s.expect("wrong password for hunter2pass", timeout=0.01)
        assert "hunter2pass" not in str(info.value) and "********" in str(info.value)


async def test_a_second_close_waits_for_the_first():
    s = await aioexpect.spawn("sh", ["-c", "trap '' HUP; echo ready; exec sleep 30"], pty=False)
    await s.expect_exact("ready")
    first = asyncio.create_task(s.close())
    await asyncio.sleep(0)
    await s.close()  # returns once the child (which ignores SIGHUP) is gone
    assert s.transport.signal_status == 9
    await first
    async with aioexpect.spawn("cat") as s:
        for rows, cols in ((70000, 80), (True, 80), (0, 80)):
            with pytest.raises(ValueError, match="rows and cols"):
                s.set_winsize(rows, cols)
        s.set_winsize(30, 100)  # still usable


@pytest.mark.parametrize("turns", [0, 1, 2])
async def test_a_cancelled_close_is_cancelled_and_still_closes(turns, tmp_path):
    """However far ``close()`` got, cancelling the task that runs it raises
    CancelledError there (it is never swallowed), and the session is closed,
    its logfile too."""
    a, b = memory_pair()
    s = Session(a, logfile=tmp_path / "t.log")
    closing = asyncio.create_task(s.close())
    while not s.closed:  # close() has begun
        await asyncio.sleep(0)
    for _ in range(turns):
        await asyncio.sleep(0)
    assert not closing.done()
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert not s._logfile.active
    await s.close()  # idempotent, and finishes what was cut short
    b.abort()


async def test_patterns_from_any_iterable():
    async with opened(timeout=5) as (s, peer):
        await peer.write(b"before MATCH after EXACT end")
        m = await s.expect(p for p in ["nomatch", "MATCH"])
        assert (m.index, m.pattern, m.before) == (1, "MATCH", "before ")
        m = await s.expect_exact({"nomatch": 1, "EXACT": 2}.keys())
        assert (m.index, m.pattern, m.before) == (1, "EXACT", " after ")
        m = await aioexpect.expect_any({s: iter(["x", "end"])})
        assert m[1].index == 1 and s.buffer == ""


@pytest.mark.parametrize("encoding", ["utf-8", None])
@pytest.mark.parametrize("early", [True, False], ids=["eof-first", "eof-while-waiting"])
@pytest.mark.parametrize("cut", ["", "\x1b[1"], ids=["whole", "cut-sequence"])
async def test_strip_ansi_end_of_file_in_text_and_bytes_mode(encoding, early, cut):
    async with opened(strip_ansi=True, encoding=encoding, timeout=5) as (s, peer):
        await peer.write(b"\x1b[31mred\x1b[0m done\r\n" + cut.encode())

        async def end() -> None:
            await asyncio.sleep(0 if early else 0.05)
            await peer.write_eof()

        ending = asyncio.create_task(end())
        if early:
            await ending
        m = await s.expect(aioexpect.EOF)
        await ending
        text = "red done\r\n" + cut  # a sequence that never completed is let through
        assert m.before == (text if encoding else text.encode())


async def test_secret_never_reaches_logfile_logs_messages_or_repr(caplog):
    log = io.StringIO()
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    async with opened(logfile=log) as (s, peer):
        await s.send_secret("hunter2")
        assert await peer.read() == b"hunter2\n"
        for piece in (b"echo: hun", b"ter2\r\nPassword ok\r\n"):  # echoed, split
            await peer.write(piece)
        m = await s.expect("ok")
        assert "hunter2" in m.before and "hunter2" not in repr(m) and "********" in repr(m)
        await peer.write(b"code hunter2 end")
        m = await s.expect(["hunter2", aioexpect.EOF])  # the secret as the pattern too
        assert "hunter2" not in repr(m) and m.after == "hunter2"
        await peer.write(b"code hunter2 end")
        m = await s.expect(re.compile("hunter2", re.I))  # compiled: masked as text
        assert "hunter2" not in repr(m) and "re.compile('********', re.IGNORECASE)" in repr(m)
        for bad in ("two\nlines", "cr\rhere", b"two\nlines"):
            with pytest.raises(ValueError, match="one line"):
                await s.send_secret(bad)
        await peer.write(b"hunter2 again")
        with pytest.raises(aioexpect.ExpectTimeout) as info:
            await s.expect("never", timeout=0.01)
        assert "hunter2" not in str(info.value)
        assert "hunter2" in info.value.before  # the data itself is kept as it arrived
        assert "hunter2" not in repr(s)
    assert "hunter2" not in log.getvalue()
    assert "********" in log.getvalue()
    assert "hunter2" not in caplog.text
    assert "send ********" in caplog.text
    assert "recv echo: ********\\r\\nPassword ok\\r\\n" in caplog.text  # received, redacted


@pytest.mark.parametrize(
    ("encoding", "secret"), [("ascii", "pässwörd9"), ("latin-1", "pw€uro9"), ("utf-8", "pw\udcff9")]
)
async def test_a_secret_the_encoding_cannot_encode_is_not_in_the_error(encoding, secret):
    # The codec's UnicodeEncodeError held the whole secret in its args (and
    # named one of its characters); nothing is sent, the session goes on.
    async with opened(encoding=encoding, timeout=5) as (s, peer):
        with pytest.raises(ValueError, match="cannot encode") as info:
            await s.send_secret(secret)
        error = info.value
        shown = [str(error), repr(error.args), repr(vars(error))]
        shown += [repr(getattr(e, "args", ())) for e in (error.__context__, error.__cause__)]
        assert not any(secret[:3] in text or secret[-3:] in text for text in shown), shown
        await s.sendline("next")
        assert await peer.read() == b"next\n"


def _error_shows(error: BaseException) -> str:
    """What an error holds in text: its message, args and chain's."""
    chain = [error, error.__context__, error.__cause__]
    return " ".join(f"{e} {e.args!r}" for e in chain if e is not None)


async def test_a_pattern_error_masks_the_secret_the_pattern_holds():
    # A password with a regex metacharacter, given as a pattern (or a
    # pattern of the wrong kind), was quoted whole in the ValueError or
    # TypeError, and re.error (its __context__) held it too.
    secret = "pa(ss[w0rd"
    async with opened(timeout=5) as (s, _peer):
        s.add_secret(secret)
        s.add_secret("pässwörd9")
        calls = {
            "expect": lambda: s.expect(["ok", f"at {secret}"]),
            "expect_any": lambda: aioexpect.expect_any({s: secret}),
            "add_monitor": lambda: s.add_monitor(secret, lambda *_: None),
            "set_prompt": lambda: s.set_prompt([secret]),
            "set_error_prompt": lambda: s.set_error_prompt(secret),
        }
        for name, call in calls.items():
            with pytest.raises(ValueError, match=r"bad regular expression '(at )?\*{8}'") as info:
                result = call()
                if asyncio.iscoroutine(result):
                    await result
            assert "ss[w0" not in _error_shows(info.value), name
    async with opened(timeout=5, encoding="ascii") as (s, _peer):
        s.add_secret("pässwörd9")
        with pytest.raises(ValueError, match=r"pattern b'\*{8}' is not ascii text") as info:
            await s.expect("pässwörd9".encode())
        assert "ssw" not in _error_shows(info.value)
    async with opened(timeout=5, encoding=None) as (s, _peer):
        await s.send_secret(b"hunter2pw")
        with pytest.raises(TypeError, match=r"use bytes, not '\*{8}'") as info:
            await s.expect("hunter2pw")
        assert "hunter2" not in _error_shows(info.value)


async def test_secret_in_a_monitor_match_a_busy_error_and_info_is_masked(caplog):
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    seen: list[str] = []

    def failing(session, match):
        seen.append(repr(match))
        raise RuntimeError(f"callback failed on {match!r}")

    async with opened() as (s, peer):
        await s.send_secret("hunter2")
        s.add_monitor(r"token=(\S+)", failing)
        await peer.write(b"token=hunter2\n")
        waiting = asyncio.ensure_future(s.expect("hunter2-zz"))  # the secret in the pattern
        await wait_until(lambda: s.waiting_for is not None, "the first reader waits")
        with pytest.raises(aioexpect.BusyError) as info:
            await s.expect("x")
        assert "hunter2" not in str(info.value) and "********-zz" in str(info.value)
        assert s.info()["waiting_for"] == ["********-zz"]
        assert s.waiting_for == ["hunter2-zz"]  # the patterns as given
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
    assert seen and "hunter2" not in seen[0] and "token=********" in seen[0]
    assert "hunter2" not in caplog.text and "callback failed on" in caplog.text


async def test_a_failed_monitor_callback_is_logged_with_the_secrets_masked(caplog):
    # The record named the callback by its repr (a functools.partial shows
    # the password given to it) and carried the exception, whose message
    # quoted what the match caught: both reached the log in clear.
    caplog.set_level(logging.DEBUG, logger="aioexpect")

    def answer(password, session, match):
        raise RuntimeError(f"cannot answer {match[1]}")

    async def answer_later(password, session, match):
        raise RuntimeError(f"cannot answer {match[1]} either")

    async with opened(timeout=5) as (s, peer):
        await s.send_secret("hunter2pass")
        s.add_monitor(r"token=(\S+)", functools.partial(answer, "hunter2pass"))
        s.add_monitor(r"token=(\S+)", functools.partial(answer_later, "hunter2pass"))
        s.add_monitor(r"plain=(\S+)", answer_later)  # (no secret: an exception record)
        await peer.write(b"token=hunter2pass\nplain=x\n")
        await s.expect("plain=x\n")
        await wait_until(lambda: caplog.text.count("failed") >= 3, "each callback fails")
    assert "hunter2" not in caplog.text
    assert caplog.text.count("RuntimeError: cannot answer ********") == 2
    kinds = [(r.getMessage().startswith("monitor callback <function"), r.exc_info is not None)
             for r in caplog.records if "failed" in r.getMessage()]  # fmt: skip
    assert sorted(kinds) == [(False, False), (False, False), (True, True)]


async def test_secrets_with_quotes_backslashes_or_length_stay_masked(caplog):
    # Masked after repr() had escaped them, they were not found any more;
    # Python's repr of a compiled pattern cuts it at 200 characters; and the
    # evidence was cut before masking, leaving part of a long secret.
    secret = 'it\'s "q\\uoted"'
    long_secret = "L" * 50 + "-long-secret-" + "M" * 50
    async with opened(timeout=5) as (s, peer):
        s.add_secret(secret)
        s.add_secret(long_secret)
        waiting = asyncio.ensure_future(s.expect_exact([secret + "zz"]))
        await wait_until(lambda: s.waiting_for is not None, "the first reader waits")
        with pytest.raises(aioexpect.BusyError) as busy:
            await s.expect("x")
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        long_pattern = re.compile("x" * 250 + long_secret)  # repr of re.Pattern cuts at 200
        await peer.write(("x" * 250 + long_secret).encode())
        m = await s.expect(long_pattern)
        await peer.write(f"echo {long_secret} and {secret}".encode())
        with pytest.raises(aioexpect.ExpectTimeout) as timed_out:
            await s.expect_exact(secret + "!", timeout=0.05)
        await peer.write(f" {long_secret} then".encode())
        with pytest.raises(aioexpect.ExpectTimeout) as prompt_timed_out:
            await s.expect_prompt(timeout=0.05)
    shown = [str(busy.value), repr(m), str(timed_out.value), str(prompt_timed_out.value)]
    for text in shown:
        assert "q\\\\uoted" not in text and "quoted" not in text, text
        assert "-long-secret-" not in text and "LLLLLLLLL" not in text, text
    assert "********" in shown[0] and "********" in shown[1]


async def test_a_secret_repr_escapes_is_masked_in_a_failed_callback_s_record(caplog):
    # A quote, a backslash or a tab in the password: the callback's repr
    # (a functools.partial given it) and a message that quotes its repr
    # hold it as repr escapes it, which masking the password as it is did
    # not find; the record showed it.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    secret = "pa'ss\\w\td"

    def answer(password, session, match):
        raise RuntimeError(f"cannot answer with {password!r}")

    async with opened(timeout=5) as (s, peer):
        s.add_secret(secret)
        s.add_monitor("token", functools.partial(answer, secret))
        await peer.write(b"token\n")
        await s.expect("token\n")
        await wait_until(lambda: "failed" in caplog.text, "the callback fails")
    record = caplog.text
    for shown in (secret, repr(secret)[1:-1], repr(repr(secret))[1:-1], "ss\\\\w"):
        assert shown not in record, record
    assert "partial(" in record and MASK in record


async def test_a_pattern_error_shows_no_part_of_a_secret(caplog):
    # A list in the list of patterns was quoted by its repr, unmasked; and
    # re.error's message quotes the part of the pattern it stopped at,
    # which was a part of the secret the pattern held (bad escape \q).
    async with opened(timeout=5) as (s, _peer):
        for secret in ("pa'ss\\w\td", "ab\\qcd9", "k9zy-a", "sec ret"):
            s.add_secret(secret)
        with pytest.raises(TypeError, match=r"unsupported pattern \[\"\*{8}\"\]") as info:
            await s.expect([["pa'ss\\w\td"]])
        assert "ss\\" not in _error_shows(info.value)
        for pattern, part in [("ab\\qcd9", "\\q"), ("[k9zy-a]", "y-a"), ("(?P<sec ret>x)", "c r")]:
            with pytest.raises(ValueError, match="bad regular expression") as info:
                await s.expect(pattern)
            assert part not in _error_shows(info.value), pattern
            assert "may quote a part of a secret" in str(info.value)
        with pytest.raises(ValueError, match="bad character range z-a") as info:
            await s.expect("[z-a]")  # (no secret: the reason, as re gives it)


async def test_a_pattern_built_with_re_escape_of_a_secret_is_masked():
    secret = "p.a(ss+w0rd"
    async with opened(timeout=5) as (s, peer):
        s.add_secret(secret)
        with pytest.raises(aioexpect.ExpectTimeout) as timed_out:
            await s.expect(re.escape(secret) + r"\Z", timeout=0.05)
        await peer.write(b"ok")
        m = await s.expect(re.compile("ok|" + re.escape(secret)))
    for text in (str(timed_out.value), repr(m)):  # (.patterns: the caller's own objects)
        assert "ss\\\\+w0rd" not in text and "w0rd" not in text, text
    assert "'********\\\\Z'" in str(timed_out.value)


async def test_debug_log_says_what_was_received_without_a_logfile(caplog):
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    async with opened() as (s, peer):
        await peer.write(b"Router1#\x1b[K")
        await s.expect_exact("#")
        await peer.write_eof()
        await s.expect(aioexpect.EOF)
    received = [r.getMessage() for r in caplog.records if r.getMessage().startswith("recv")]
    assert "".join(m.removeprefix("recv ") for m in received) == "Router1#\\x1b[K"


async def test_log_records_escape_control_characters(caplog):
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    async with opened() as (s, peer):
        await s.send("ls\r\n\x1b[A")
        await peer.read()
    record = next(r for r in caplog.records if r.getMessage().startswith("send"))
    assert record.name.startswith("aioexpect.session")
    assert "\x1b" not in record.getMessage() and "\\x1b" in record.getMessage()


async def test_log_records_escape_c1_controls_line_separators_and_bidi_controls(caplog):
    """A peer's NEL (0x85), 8-bit CSI (0x9b), U+2028 and a right-to-left
    override reached the ``recv`` record as they were: the first and third
    end a line for ``str.splitlines`` and log viewers (a forged record), the
    CSI drives some terminals, the override shows the rest backwards."""
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    forged = "a\x85b\x9b31mc\u2028d\u2029e\u202ef\u2066g"
    async with opened() as (s, peer):
        await peer.write(forged.encode())
        await s.expect("g")
        await s.send(forged)
        await peer.read()
    shown = [r.getMessage() for r in caplog.records if r.getMessage()[:5] in ("recv ", "send ")]
    for message in shown:
        assert len(message.splitlines()) == 1, message
        assert not set(message) & set("\x85\x9b\u2028\u2029\u202e\u2066"), message
    expected = "a\\x85b\\x9b31mc\\u2028d\\u2029e\\u202ef\\u2066g"
    assert "".join(m[5:] for m in shown if m.startswith("recv ")) == expected
    assert "".join(m[5:] for m in shown if m.startswith("send ")) == expected


async def test_logfile_path_receives_transcript(tmp_path):
    path = tmp_path / "t.log"
    async with opened(logfile=path) as (s, peer):
        await peer.write(b"hello log\n")
        await s.expect("log")
        assert path.read_text() == "hello log\n"  # on disk as it comes (tail -f)
    assert path.read_text() == "hello log\n"
    assert path.stat().st_mode & 0o777 == 0o600  # what devices said is the user's alone
    async with opened(logfile=path) as (s, peer):  # appended to
        await peer.write(b"again\n")
        await s.expect("again")
    assert path.read_text() == "hello log\nagain\n"


@pytest.mark.parametrize("kind", ["link", "dangling link", "fifo", "fifo being read", "directory"])
async def test_a_logfile_path_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    """A symbolic link at the path (planted in a shared directory) had the
    transcript appended to its target, a file of the user's, or created where
    it pointed; a FIFO nobody read blocked the event loop for ever in open(),
    and one being read got the transcript.  Now each is a ValueError naming
    the path, before the child starts, and nothing is written anywhere."""
    path = tmp_path / "t.log"
    target = tmp_path / "target.txt"
    target.write_text("the user's own\n")
    why = "not a regular file"
    with contextlib.ExitStack() as cleanup:
        if kind == "link":
            path.symlink_to(target)
            why = "symbolic link"
        elif kind == "dangling link":
            path.symlink_to(tmp_path / "nowhere")
            why = "symbolic link"
        elif kind == "directory":
            path.mkdir()
            why = "it is a directory"
        else:
            os.mkfifo(path)
            if kind == "fifo being read":
                reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
                cleanup.callback(os.close, reader)
        with pytest.raises(ValueError, match=why) as refused:
            await aioexpect.spawn("cat", logfile=path)
        assert f"cannot open logfile {str(path)!r}: " in str(refused.value)
        if kind == "fifo being read":
            with contextlib.suppress(BlockingIOError):  # (no writer left: end of file)
                assert os.read(reader, 100) == b""  # nothing came
    assert target.read_text() == "the user's own\n"
    assert not (tmp_path / "nowhere").exists()


async def test_a_logfile_path_reused_is_made_private_and_one_of_another_user_refused(tmp_path):
    """The file appended to kept its mode: 0644 left the transcript readable
    by everyone.  One owned by another user (who can read it whatever its
    mode, and set it back) is refused."""
    path = tmp_path / "t.log"
    path.write_text("earlier\n")
    path.chmod(0o644)
    async with opened(logfile=path) as (s, peer):
        await peer.write(b"later\n")
        await s.expect("later")
    assert path.read_text() == "earlier\nlater\n"
    assert path.stat().st_mode & 0o777 == 0o600
    device = os.stat(os.devnull).st_mode
    async with opened(logfile=os.devnull):  # a character device: taken, as it is
        pass
    assert os.stat(os.devnull).st_mode == device
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    os.chown(path, 65534, 65534)
    with pytest.raises(ValueError, match="belongs to another user") as refused:
        await aioexpect.spawn("cat", logfile=path)
    assert repr(str(path)) in str(refused.value)
    assert path.read_text() == "earlier\nlater\n"


@pytest.mark.parametrize("kind", ["read-only", "closed", "ascii", "full-disk"])
async def test_a_logfile_that_fails_stops_the_transcript_not_the_session(tmp_path, caplog, kind):
    # The failure once killed reading: the chunk was dropped and every wait
    # raised ConnectionLostError; a full disk raised OSError from close().
    path = tmp_path / "t.log"
    path.write_text("")
    logfile: object = {
        "read-only": lambda: open(path),  # noqa: SIM115
        "closed": io.StringIO,
        "ascii": lambda: open(path, "w", encoding="ascii"),  # noqa: SIM115
        "full-disk": lambda: "/dev/full",
    }[kind]()
    if kind == "closed":
        logfile.close()  # type: ignore[attr-defined]
    try:
        async with opened(logfile=logfile) as (s, peer):
            await peer.write("caf\u00e9 data 1\n".encode())
            assert (await s.expect("data 1")).before == "caf\u00e9 "
            await peer.write(b"data 2\n")
            assert (await s.expect("data 2")).before == "\n"
    finally:
        if hasattr(logfile, "close"):
            logfile.close()
    warnings = [r.getMessage() for r in caplog.records if "transcript stops" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "\u00e9" not in warnings[0] and "\\xe9" not in warnings[0]  # (no device text)
    if kind == "ascii":
        assert "cannot be written (its encoding 'ascii')" in warnings[0]


async def test_a_logfile_with_write_alone_gets_the_whole_transcript(caplog):
    class Lines:  # a file-like object with no flush()
        def __init__(self) -> None:
            self.text = ""

        def write(self, text: str) -> None:
            self.text += text

    log = Lines()
    async with opened(logfile=log) as (s, peer):
        for piece in (b"one\n", b"two\n"):
            await peer.write(piece)
            await s.expect_exact(piece.decode())
    assert log.text == "one\ntwo\n"
    assert "transcript stops" not in caplog.text


class AsyncFile:
    """An aiofiles-style file: its write() and flush() are coroutines."""

    def __init__(self) -> None:
        self.written: list[str] = []

    async def write(self, text: str) -> None:
        self.written.append(text)

    async def flush(self) -> None:
        pass


async def test_a_logfile_whose_write_is_a_coroutine_is_refused(tmp_path):
    # Taken, its write() only made coroutines that nothing awaited: the
    # whole transcript was lost without a word.
    class AsyncFlush(io.StringIO):
        async def flush(self) -> None:  # type: ignore[override]
            pass

    for logfile, method in ((AsyncFile(), "write"), (AsyncFlush(), "flush")):
        a, b = memory_pair()
        with pytest.raises(TypeError, match=rf"logfile needs a synchronous {method}\(\)"):
            Session(a, logfile=logfile)
        a.abort()
        b.abort()
        with pytest.raises(TypeError, match=rf"logfile needs a synchronous {method}\(\)"):
            await aioexpect.spawn("cat", logfile=logfile)
    path = tmp_path / "t.log"
    async with opened(logfile=path) as (s, peer):
        with pytest.raises(TypeError, match=r"logfile needs a synchronous write\(\)"):
            s.logfile = AsyncFile()
        assert s.logfile == path  # (unchanged)
        await peer.write(b"kept\n")
        await s.expect_exact("kept\n")
    assert path.read_text() == "kept\n"


async def test_a_logfile_that_gives_an_awaitable_stops_the_transcript_with_one_warning(caplog):
    # A write() that is no coroutine function but gives one (a callable
    # object's): the check cannot tell; what it gives is closed (no
    # "never awaited" warning) and the transcript stops, as for a write
    # that fails.
    class Writer:
        def __init__(self) -> None:
            self.file = AsyncFile()

        def __call__(self, text: str) -> Any:
            return self.file.write(text)

    class Logfile:
        def __init__(self) -> None:
            self.write = Writer()

    log = Logfile()
    async with opened(logfile=log) as (s, peer):
        for piece in (b"one\n", b"two\n"):
            await peer.write(piece)
            await s.expect_exact(piece.decode())
    gc.collect()
    assert log.write.file.written == []
    warnings = [r.getMessage() for r in caplog.records if "transcript stops" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert (
        "cannot be written (logfile needs a synchronous write(), it gave an awaitable)"
        in (warnings[0])
    )


async def test_a_bytes_sessions_transcript_keeps_every_byte(tmp_path, caplog):
    # It was decoded as UTF-8 with replacement: binary data came out as U+FFFD.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    path, text = tmp_path / "t.log", io.StringIO()
    data = bytes(range(256)) + b"\xc3"  # (a character cut at the end, too)
    for logfile in (path, text):
        async with opened(encoding=None, logfile=logfile) as (s, peer):
            await s.send_secret(b"pw\xff")
            await peer.write(data[:100])
            await peer.write(data[100:] + b" pw\xff!")
            await s.expect_exact(b"!")
    assert path.read_bytes() == data + b" ********!"
    assert text.getvalue() == (data + b" ********!").decode("utf-8", "replace")
    messages = [r.getMessage() for r in caplog.records]
    received = "".join(m.removeprefix("recv ") for m in messages if m.startswith("recv"))
    assert "\\xff\\xc3 ********!" in received and "transcript stops" not in caplog.text


async def test_logfile_set_on_the_session_as_pexpect_does(tmp_path):
    # 's.logfile = sys.stdout' (pexpect's idiom) was taken silently and
    # nothing reached the file.
    path, later = tmp_path / "t.log", io.StringIO()
    async with opened(logfile=path) as (s, peer):
        assert s.logfile == path
        await peer.write(b"one\n")
        await s.expect_exact("one\n")
        s.logfile = later  # the path's file is closed, the transcript goes on here
        await peer.write(b"two\n")
        await s.expect_exact("two\n")
        with pytest.raises(TypeError, match="logfile must be a path or a file object"):
            s.logfile = 5
        with pytest.raises(ValueError, match="cannot open logfile"):
            s.logfile = tmp_path / "missing" / "t.log"
        assert s.logfile is later  # (unchanged by the refusals)
        s.logfile = None
        await peer.write(b"three\n")
        await s.expect_exact("three\n")
    assert (path.read_text(), later.getvalue()) == ("one\n", "two\n")
    with pytest.raises(aioexpect.ClosedError):
        s.logfile = later


@pytest.mark.parametrize("attach", ["logfile", "debug"])
async def test_a_transcript_attached_mid_secret_gets_none_of_it(caplog, attach):
    # Received text went through the redacting stream only while something
    # logged, so the first half of an echo split across reads was never held
    # back: a logfile set (or DEBUG turned on) between the halves got the
    # second half in clear ('ter2').
    later = io.StringIO()
    async with opened() as (s, peer):
        await s.send_secret("hunter2")
        await peer.write(b"echo: hun")
        await wait_until(lambda: s.buffer.endswith("hun"), "the first half arrived")
        if attach == "logfile":
            s.logfile = later
        else:
            caplog.set_level(logging.DEBUG, logger="aioexpect")
        await peer.write(b"ter2\r\nok\r\n")
        m = await s.expect_exact("ok\r\n")
        assert "hunter2" in m.before  # (the data itself is kept as it arrived)
    transcript = later.getvalue() if attach == "logfile" else caplog.text
    assert "ter2" not in transcript and "********" in transcript


#: bash's echo of a command line that ends at the margin of a terminal of
#: 40 columns, a token across the wrap (8 characters on the first row, 12
#: on the second): readline wraps with the next character, ``\r`` and that
#: character again, then moves up a row (``ESC[A``) and draws the second
#: row again, ``ESC[K`` before its last character.
AT_WRAP = "QhVbWcXeYdZfAgBhCiDj"
_ROWS = ("$ echo " + "a" * 25 + AT_WRAP[:8], AT_WRAP[8:] + "z" * 28)
REDRAWN_ROW = (
    f"{_ROWS[0]}{_ROWS[1][0]}\r{_ROWS[1]} \r\x1b[A{_ROWS[1][:-1]}\x1b[K{_ROWS[1][-1]}"
    "\r\n\x1b[?2004l\rout\r\n\x1b[?2004h$ "
)


@pytest.mark.parametrize("encoding", ["utf-8", None])
@pytest.mark.parametrize("ending", ["prompt", "eof"])
async def test_readline_s_copy_of_a_row_is_masked_in_a_strip_ansi_transcript(
    caplog, encoding, ending
):
    # The session stripped the sequences before its transcript saw the
    # text: without the move up, readline's copy of the row was not known,
    # and the logfile and the DEBUG records showed the token's last 12
    # characters in it ('zzz \rYdZfAgBhCiDjzzz'), in one read or cut
    # anywhere.  (At an end of file the row, held for its line end, goes
    # out then.)
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    row = "z" * 28
    if ending == "prompt":
        text, masked = REDRAWN_ROW, f"$ echo {'a' * 25}{MASK}{row} \r{MASK}{row}\r\n\rout\r\n$ "
    else:  # (the row's line end never came: held until the end of file)
        text = REDRAWN_ROW[: REDRAWN_ROW.index("\r\n")]
        masked = f"$ echo {'a' * 25}{MASK}{row} \r{MASK}{row}"
    data = text.encode()
    shown = strip_ansi(text if encoding else data)  # (what it reads as ever, the token in it)
    pieces = [AT_WRAP[i : i + 8] for i in range(len(AT_WRAP) - 7)]
    for cut in range(len(data) + 1):
        log = io.StringIO()
        caplog.clear()
        options = {"strip_ansi": True, "encoding": encoding, "timeout": 5}
        async with opened(limit=0, logfile=log, secrets=[AT_WRAP], **options) as (s, peer):
            for part in (data[:cut], data[cut:]):
                if part:
                    await peer.write(part)
            if ending == "eof":
                await peer.write_eof()
                assert await s.read_all() == shown, cut
            else:
                m = await s.expect(r"\n\$ " if encoding else rb"\n\$ ")
                assert m.before + m.after == shown, cut
        assert log.getvalue() == masked, cut
        assert [p for p in pieces if p in caplog.text] == [], cut


async def test_readline_s_copy_of_a_row_wider_than_2_kib_is_masked_in_1_kib_reads(caplog):
    # At 2,200 columns the row readline draws again is more than the
    # transcript holds for it (2 KiB): in 1 KiB reads (an SSH or telnet
    # peer's packets) the logfile and the DEBUG records showed the token's
    # last 20 characters at the start of the copy.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    token, width = AT_WRAP + "EkFlGmHnIo", 2200
    rows = ("$ echo " + "a" * (width - 17) + token[:10], token[10:] + "z" * (width - 20))
    text = f"{rows[0]}{rows[1][0]}\r{rows[1]} \r\x1b[A{rows[1][:-1]}\x1b[K{rows[1][-1]}\r\n$ "
    log = io.StringIO()
    async with opened(limit=0, logfile=log, secrets=[token], timeout=5) as (s, peer):
        data = text.encode()
        for at in range(0, len(data), 1024):
            await peer.write(data[at : at + 1024])
        await s.expect(r"\n\$ ")
    for shown in (log.getvalue(), caplog.text):
        assert [token[i : i + 8] for i in range(23) if token[i : i + 8] in shown] == []
    assert f"\x1b[A{MASK}{'z' * 30}" in log.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", None])
async def test_a_strip_ansi_transcript_without_a_secret_is_the_stripped_text_at_every_cut(
    encoding,
):
    # The transcript is fed the text with its moves up, which the stripper
    # keeps for it: without a secret, what it logs is the stripped text as
    # before, and so is what the session reads, however the reads cut it.
    text = (
        "a\x1b[1;31mb\x1b]0;title\x07c\x1b[2A\x1bP1$r0m\x1b\\d\x1b[A\x1b[12345Ae"
        "\x1b(B\x1b[Kf\x9b2Ag\x1b\x1b[Ah " + REDRAWN_ROW
    )
    data = text.encode()
    shown = strip_ansi(text if encoding else data)
    for cut in range(len(data) + 1):
        log = io.StringIO()
        async with opened(limit=0, strip_ansi=True, logfile=log, encoding=encoding) as (s, peer):
            for part in (data[:cut], data[cut:]):
                if part:
                    await peer.write(part)
            await peer.write_eof()
            assert await s.read_all(timeout=5) == shown, cut
        assert log.getvalue() == (shown if encoding else shown.decode()), cut


async def test_a_bytes_session_s_secret_split_inside_a_character_is_masked(tmp_path, caplog):
    # Each chunk was decoded on its own for the transcript: 'p\xc3' and
    # '\xa4ssw\xc3\xb6rt12' never made the secret, and both went out in clear.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    path = tmp_path / "t.log"
    secret = "p\u00e4ssw\u00f6rt12"
    async with opened(encoding=None, logfile=path) as (s, peer):
        await s.send_secret(secret)
        echo = secret.encode() + b"\r\nok\r\n"
        for cut in (2, 7, len(echo)):  # (the first two inside '\u00e4' and '\u00f6')
            await peer.write(echo[len(s.buffer) : cut])
            await wait_until(lambda n=cut: len(s.buffer) == n, "a chunk of its own")
        await s.expect_exact(b"ok\r\n")
    logged = path.read_bytes()
    assert logged == b"********\r\nok\r\n"  # (what was received: the echo masked)
    assert "ssw" not in caplog.text and "rt12" not in caplog.text


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-8"])
async def test_a_bytes_secret_is_masked_as_the_session_s_encoding_reads_it(caplog, encoding):
    # A bytes secret was looked for as UTF-8 only: in a latin-1 session its
    # echo reached the logfile, the DEBUG records and the evidence in clear.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    secret = b"p\xe4ss-w\xf6rd" if encoding != "utf-8" else "päss-wörd".encode()
    later = io.StringIO()
    async with opened(encoding=encoding, logfile=later, timeout=0.2) as (s, peer):
        await s.send_secret(secret)
        await peer.write(secret + b"\r\n")
        with pytest.raises(aioexpect.ExpectTimeout) as info:
            await s.expect_exact("never")
        assert "********" in str(info.value)
    clear = secret.decode(encoding)
    for text in (later.getvalue(), caplog.text, str(info.value), repr(s)):
        assert clear not in text and "ss-w" not in text, text


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
async def test_a_str_secret_is_masked_in_the_bytes_the_session_s_encoding_sends(caplog, encoding):
    # The bytes form of a str secret was UTF-8 only: in a latin-1 session
    # the DEBUG 'send' record (of the encoded bytes), a bytes pattern's
    # description and redact(bytes) showed it (escaped, readable).
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    async with opened(encoding=encoding, timeout=0.2) as (s, _):
        s.add_secret("pässwörd")
        await s.sendline("token pässwörd")
        pattern = "login pässwörd ok".encode(encoding)
        with pytest.raises(aioexpect.ExpectTimeout) as info:
            await s.expect_exact(pattern)
        seen = [caplog.text, str(info.value), repr(s.info()["waiting_for"])]
        seen.append(repr(s.redact("token pässwörd".encode(encoding))))
    for text in seen:
        assert "p\\xe4ssw" not in text and "pässw" not in text, text
    assert "send token ********" in caplog.text
    assert b"********" in s.redact(pattern)


@pytest.mark.parametrize(
    ("encoding", "secret", "text"),
    [
        ("utf-16", "hunter2", "login hunter2 now"),
        ("utf-32", "hunter2", "login hunter2 now"),
        ("iso2022_jp", "秘密鍵", "私の秘密鍵です"),
        ("iso2022_jp", "鍵2", "秘密鍵2です"),
    ],
)
async def test_a_str_secret_is_masked_inside_a_longer_text_of_a_bom_or_stateful_encoding(
    caplog, encoding, secret, text
):
    # The secret was encoded alone: with utf-16's byte order mark first, or
    # iso2022_jp's shift sequences around it, neither of which stands inside
    # a longer text, so the DEBUG 'send' record and redact(bytes) showed it.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    encoder = codecs.getincrementalencoder(encoding)()
    encoder.encode(secret[0])
    inside = encoder.encode(secret)  # its bytes as they stand within the text
    assert inside in text.encode(encoding)
    async with opened(encoding=encoding, timeout=0.2) as (s, _):
        s.add_secret(secret)
        await s.send(text)
        shown = s.redact(text.encode(encoding))
    assert inside not in shown and b"********" in shown
    assert escape(inside) not in caplog.text and "********" in caplog.text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig", "iso2022_jp"])
async def test_a_codec_s_byte_order_mark_is_written_once_not_before_every_send(encoding):
    # Each send was encoded alone: utf-16, utf-32 and utf-8-sig put a byte
    # order mark before every one, which the peer read as a U+FEFF inside
    # its input ('ab\ufeffcd\n').  The mark now comes once, first; a
    # stateful codec still ends each send in its initial state.
    pieces = ["ab", "日本", "cd"]
    async with opened(encoding=encoding, timeout=2) as (s, peer):
        await s.send(pieces[0])
        await s.send(pieces[1])
        await s.sendline(pieces[2])
        await s.sendeof()
        wire = b""
        while chunk := await peer.read():
            wire += chunk
    assert wire.decode(encoding) == "ab日本cd\n"
    script = (
        "import sys; data = sys.stdin.buffer.read(); "
        f"sys.stdout.buffer.write(ascii(data.decode({encoding!r})).encode({encoding!r}))"
    )
    async with aioexpect.spawn(
        sys.executable, ["-c", script], pty=False, encoding=encoding, timeout=10
    ) as s:
        for piece in pieces:
            await s.send(piece)
        await s.sendeof()
        assert await s.read_all() == ascii("ab日本cd")


@pytest.mark.parametrize("encoding", ["iso2022_jp", "hz", "utf-16"])
async def test_a_send_refused_by_its_codec_leaves_the_next_send_whole(encoding):
    # One encoder serves the session (68ed937): a send refused halfway left
    # iso2022_jp or hz shifted, and the next send lost its shift sequence
    # (the peer read 'K\\' for '本'); a first utf-16 send refused took the
    # byte order mark with it.
    async with opened(encoding=encoding, timeout=2) as (s, peer):
        with pytest.raises(UnicodeEncodeError):
            await s.send("日本\udcff")
        await s.sendline("本")
        await s.sendeof()
        wire = b""
        while chunk := await peer.read():
            wire += chunk
    assert wire.decode(encoding) == "本\n"
    assert wire == "本\n".encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "secret", "text"),
    [
        ("shift_jis_2004", "s3cretト", "cat s3cret.txt"),
        ("euc_jis_2004", "aか", "cat data"),
        ("big5hkscs", "passÊ", "passwd alice"),
    ],
)
async def test_a_secret_s_bytes_forms_are_all_of_it(caplog, encoding, secret, text):
    # These encoders hold back a last character that a combining mark could
    # follow: the secret's form was short of it ('s3cret', even 'a'), and
    # what was sent was masked where it only began like the secret.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    async with opened(encoding=encoding, timeout=0.2) as (s, _):
        s.add_secret(secret)
        await s.sendline(text)
        assert s.redact(text.encode(encoding)) == text.encode(encoding)
        assert s.redact(f"{text} {secret}".encode(encoding)).endswith(b" ********")
    assert f"send {text}\\n" in caplog.text and "********" not in caplog.text


def _plain_latin(name: str) -> codecs.CodecInfo | None:
    # A text codec that reads step by step (all a session needs) but has no
    # incremental encoder.
    if name != "plainlatin_noinc":
        return None
    codec = codecs.lookup("latin-1")
    return codecs.CodecInfo(
        codec.encode, codec.decode, name=name, incrementaldecoder=codec.incrementaldecoder
    )


async def test_a_secret_in_a_codec_without_an_incremental_encoder_is_still_added():
    # add_secret raised a bare LookupError from the search for its forms.
    codecs.register(_plain_latin)
    try:
        async with opened(encoding="plainlatin_noinc", timeout=0.2) as (s, _):
            s.add_secret("hunter2")
            assert s.redact(b"pw hunter2") == b"pw ********"
    finally:
        codecs.unregister(_plain_latin)


def sent_records(caplog) -> list[str]:
    """The DEBUG 'send' records, without their 'send '."""
    messages = [r.getMessage() for r in caplog.records]
    return [m.removeprefix("send ") for m in messages if m.startswith("send ")]


@pytest.mark.parametrize(
    ("encoding", "secret", "typed"),
    [
        ("utf-8", "hunter2", "pw hunter2\r"),  # key by key, as interact forwards them
        ("utf-8", "pässwörd", "pw pässwörd\r".encode()),  # bytes: cut inside a character
        ("latin-1", "pässwörd", "pw pässwörd\r"),
        (None, b"p\xe4ss-w\xf6rd", b"pw p\xe4ss-w\xf6rd\r"),  # a bytes session, not UTF-8
    ],
)
async def test_a_secret_sent_in_pieces_is_masked_in_the_send_records(
    caplog, encoding, secret, typed
):
    # Each 'send' record was redacted on its own: typed one key at a time,
    # a known secret showed whole once the records were read one after
    # another ('send h', 'send u', ...), and escaped in a latin-1 session.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    for label, pieces in splits(typed, seeds=range(8)):
        caplog.clear()
        async with opened(encoding=encoding) as (s, _):
            s.add_secret(secret)
            for piece in pieces:
                await s.send(piece)
        assert "".join(sent_records(caplog)) == "pw ********\\r", label


async def test_what_is_held_of_a_secret_goes_out_at_the_next_send_or_at_close(caplog):
    # Held back while it may start a secret, whether or not DEBUG is on then
    # (it may be turned on between two parts of a secret); let out, masked
    # where it is one, with the next send, before send_secret's mask, and
    # at the latest when the session closes.
    async with opened() as (s, _):
        s.add_secret("hunter2")
        await s.send("hun")  # not logged, but held back all the same
        caplog.set_level(logging.DEBUG, logger="aioexpect")
        await s.send("ter2 hun")
        await s.sendcontrol("c")
        await s.send("hun")
        await s.send_secret("ter2")  # (hun + ter2: the known secret, masked as one)
        await s.send("x hu")
        await s.send_secret("pw")
        await s.send("hunt")
        assert sent_records(caplog) == [
            "******** ",
            "hun\\x03",
            "********",
            "********",
            "x ",
            "hu",  # (let out before the secret: hupw is none)
            "********",
        ]
    assert sent_records(caplog)[-1] == "hunt"


async def test_a_prompt_holding_a_secret_reaches_the_transcript_when_it_is_matched(caplog):
    # The redacting stream held a line back from its secret on until its
    # line end: expect() had matched 'Password for user-TOKEN: ', but the
    # logfile and the DEBUG records stopped at 'Password for user-', and
    # what came after it ('Still waiting... ') waited there until close().
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    token = "ghp_" + "Q7x" * 12
    transcript = io.StringIO()
    async with opened(logfile=transcript, secrets=[token]) as (s, peer):
        await peer.write(f"connecting with {token}\r\nPassword for user-{token}: ".encode())
        await s.expect(r"Password for \S+: ")
        shown = "connecting with ********\r\nPassword for user-********: "
        assert transcript.getvalue() == shown
        received = [r.getMessage() for r in caplog.records if r.getMessage().startswith("recv ")]
        assert "".join(m.removeprefix("recv ") for m in received) == escape(shown)
        await peer.write(b"Still waiting... ")
        await s.expect_exact("waiting... ")
        assert transcript.getvalue() == shown + "Still waiting... "


@pytest.mark.parametrize("pty", [False, True])
async def test_a_secret_on_the_command_line_is_masked_where_it_shows(caplog, pty):
    # A password among a program's arguments (mysql -pSECRET, sshpass -p
    # SECRET) showed in repr, info(), sessions() and wait()'s time-out once
    # the peer was shown whole; transport errors quoted it too, and where
    # the command line is cut short, a part of it.
    secret = "Tr0ub4dor&3"
    script = "exec 0<&- 1>&- 2>&-; sleep 5"
    async with aioexpect.spawn("sh", ["-c", script, f"--password={secret}"], pty=pty) as s:
        s.add_secret(secret)
        shown = [repr(s), s.info()["peer"], repr(sessions())]
        with pytest.raises(aioexpect.ExpectTimeout) as info:
            await s.wait(timeout=0.1)
        shown.append(str(info.value))
        with pytest.raises(aioexpect.ConnectionLostError) as lost:
            for _ in range(1000):  # (a pty takes some before it finds no reader)
                await s.sendline("x" * 100)
        shown.append(str(lost.value))
    assert "--password=********" in shown[0]
    for text in shown:
        assert "Tr0" not in text, text


def test_a_command_line_cut_short_shows_no_part_of_a_secret():
    redactor = Redactor()
    redactor.add("Tr0ub4dor&3")
    for filler in range(40, 60):
        shown = describe(["sshpass", "-p", "Tr0ub4dor&3", "x" * filler], redactor=redactor)
        assert shown.startswith("sshpass -p '********' ") and "Tr0" not in shown
        shown = describe(["x" * filler, "-pTr0ub4dor&3"], redactor=redactor)
        assert "Tr0" not in shown and (len(shown) <= 60 or shown.endswith("..."))


def test_a_secret_holding_a_quote_is_masked_on_the_command_line():
    # Quoting splits it ('-pit'"'"'sS3cret!'), and the joined line no longer
    # held it as one run: repr, info() and errors showed it whole.
    redactor = Redactor()
    redactor.add("it'sS3cret!")
    redactor.add("two words")
    assert describe(["mysql", "-pit'sS3cret!"], redactor=redactor) == "mysql '-p********'"
    assert "S3cret" not in describe(["x", "it'sS3cret!", "y"], redactor=redactor)
    assert describe(["say", "two", "words"], redactor=redactor) == "say ********"


async def test_overlapping_secrets_show_no_part_of_either():
    later = io.StringIO()
    async with opened(logfile=later) as (s, peer):
        await s.send_secret("secret12")
        await s.send_secret("t12moresecret")
        await peer.write(b"xxsecret12moresecret yy\r\n")
        await s.expect_exact("yy\r\n")
        assert "secre" not in repr(s) and "more" not in repr(s)
    assert "xx******** yy" in later.getvalue() and "secre" not in later.getvalue()


@pytest.mark.parametrize(
    ("secrets", "text", "masked"),
    [  # a login password and an enable secret; two pairs that overlap
        (["cisco", "cisco123"], "pw cisco123 end\r\n", "pw ******** end\r\n"),
        (["secret12", "t12more"], "x secret12more y\r\n", "x ******** y\r\n"),
        (["abc", "cdef"], "x abcdef y\r\n", "x ******** y\r\n"),
    ],
)
async def test_a_secret_that_starts_with_or_overlaps_another_is_masked_at_any_split(
    caplog, secrets, text, masked
):
    # Masked first and held back after: a chunk ending inside the longer
    # secret ('pw cisco', 'pw cisco1') let its rest through ('********123').
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    for cut in range(1, len(text)):
        caplog.clear()
        transcript = io.StringIO()
        async with opened(logfile=transcript, secrets=secrets) as (s, peer):
            for chunk in (text[:cut], text[cut:]):  # each one read on its own
                await peer.write(chunk.encode())
                await wait_until(lambda c=chunk: s.buffer.endswith(c), "the chunk arrived")
            await s.expect_exact(text)
        received = "".join(
            r.getMessage().removeprefix("recv ")
            for r in caplog.records
            if r.getMessage().startswith("recv ")
        )
        assert transcript.getvalue() == masked, cut  # what one chunk gives
        assert received == masked.replace("\r\n", "\\r\\n"), cut


@pytest.mark.parametrize("filler", [169, 183, 200])
async def test_evidence_shows_no_part_of_a_long_secret_where_masks_shortened_it(filler):
    # Masked from 200 + len(secret) characters, then cut to 200: the masks
    # made the text shorter, and the cut reached back into the secret that
    # the window's start went through ('e-42', with 183 dots).
    secret = "correct-horse-battery-staple-42"
    async with opened(secrets=[secret]) as (s, peer):
        await peer.write(f"zz{secret}{'.' * filler}{secret}.....".encode())
        with pytest.raises(aioexpect.ExpectTimeout) as timed_out:
            await s.expect("never", timeout=0.05)
    shown = str(timed_out.value).split("last characters received: ")[1]
    # The last 200 characters of it all, masked:
    assert shown == repr(f"zz********{'.' * filler}********....."[-200:])
    assert not any(secret[i:] in shown for i in range(len(secret) - 3))


@pytest.mark.parametrize("given", [bytearray(b"pw-1234"), memoryview(b"pw-1234"), b"pw-1234"])
async def test_a_bytes_like_secret_is_taken_as_bytes(given):
    # A bytearray or memoryview was half added (AttributeError), and from then
    # on redact(), every time-out's message and close() raised TypeError.
    transcript = io.StringIO()
    async with opened(logfile=transcript, secrets=[given]) as (s, peer):
        s.add_secret(given)
        await peer.write(b"login pw-1234 ok\n")
        with pytest.raises(aioexpect.ExpectTimeout) as timed_out:
            await s.expect("never", timeout=0.05)
        assert "pw-1234" not in str(timed_out.value) and "********" in str(timed_out.value)
        assert s.redact("x pw-1234") == "x ********"
        assert s.redact(b"x pw-1234") == b"x ********"
    assert transcript.getvalue() == "login ******** ok\n"


@pytest.mark.parametrize("bad", [5, 0, ["pw"], 1.5])
async def test_a_secret_of_another_type_is_a_type_error_that_changes_nothing(bad):
    async with opened(secrets=["hunter2"]) as (s, peer):
        with pytest.raises(TypeError, match="a secret is str or bytes"):
            s.add_secret(bad)
        await peer.write(b"hunter2 5 pw\n")
        with pytest.raises(aioexpect.ExpectTimeout, match=r"'\*{8} 5 pw\\n'"):
            await s.expect("never", timeout=0.05)
        assert s.redact("hunter2 5 pw") == "******** 5 pw"
    ours, peer = memory_pair()
    with pytest.raises(TypeError, match="a secret is str or bytes"):
        Session(ours, secrets=["ok", bad])
    await ours.close()
    await peer.close()


@pytest.mark.parametrize("one", ["hunter2", b"hunter2", bytearray(b"hunter2")])
async def test_secrets_given_one_secret_instead_of_a_list_is_a_type_error(one):
    # A str was taken as the list of its characters: each one became a
    # secret, and "the answer is 42" came out as "******** a********sw...".
    ours, peer = memory_pair()
    with pytest.raises(TypeError, match="a list of secrets, not a single one"):
        Session(ours, secrets=one)
    with pytest.raises(TypeError, match="a list of secrets, not int"):
        Session(ours, secrets=5)
    await ours.close()
    await peer.close()


async def test_close_awaits_the_pump_also_when_flushing_the_logs_fails():
    # The pump was awaited after the flush: a flush that raised (a user's
    # logging filter, or the half-added secret above) left it running.
    class Broken(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            raise LookupError("this filter is broken")

    ours, peer = memory_pair()
    s = Session(ours, secrets=["hunter2"])
    s.log.setLevel(logging.DEBUG)
    await s.send("hun")  # (held back from the records: it may start the secret)
    s.log.addFilter(Broken())
    with pytest.raises(LookupError, match="this filter is broken"):
        await s.close()
    me = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not me and not t.done()] == []
    await peer.close()


async def test_an_int_timeout_past_a_float_waits_for_ever():
    # float(10**400) raised OverflowError out of expect, spawn and the
    # Session itself; 1e300 and inf waited for ever.
    async with opened(timeout=10**400) as (s, peer):
        assert s.timeout == math.inf
        waiting = asyncio.ensure_future(s.expect("go", timeout=10**400))
        await wait_until(lambda: s.waiting_for is not None, "expect is waiting")
        await peer.write(b"go")
        assert (await waiting).after == "go"
        waiting = asyncio.ensure_future(s.expect("on"))  # (the session's default)
        await wait_until(lambda: s.waiting_for is not None, "expect is waiting")
        await peer.write(b"on")
        assert (await waiting).after == "on"
    async with aioexpect.spawn("echo", ["spawned"], timeout=10**400) as s:
        assert (await s.expect(EOF, timeout=10**400)).before == "spawned\r\n"


async def test_assigning_the_timeout_is_checked_as_timeout_is():
    # s.timeout took anything: NaN made expect wait for ever, 10**400 raised
    # a bare OverflowError out of expect and left its waiter behind (every
    # later wait a BusyError), a str a TypeError from inside expect.
    async with opened(timeout=5) as (s, peer):
        for wrong, error in ((math.nan, ValueError), (-1.0, ValueError), ("5", TypeError)):
            with pytest.raises(error, match="timeout must be a number of seconds"):
                s.timeout = wrong
            assert s.timeout == 5.0
        s.timeout = 10**400  # as timeout=10**400: for ever
        assert s.timeout == math.inf
        waiting = asyncio.ensure_future(s.expect("go"))
        await wait_until(lambda: s.waiting_for == ["go"], "expect is waiting")
        await peer.write(b"go")
        assert (await waiting).after == "go"
        s.timeout = 0  # (looks at what is buffered only)
        with pytest.raises(aioexpect.ExpectTimeout):
            await s.expect("never")
        assert s.waiting_for is None
        s.timeout = None
        assert s.timeout is None
        waiting = asyncio.ensure_future(s.expect("on"))
        await wait_until(lambda: s.waiting_for == ["on"], "expect is waiting")
        await peer.write(b"on")
        assert (await waiting).after == "on"


async def test_pexpects_minus_one_timeout_is_told_to_be_left_out():
    # timeout=-1 (pexpect's "the default timeout") was a ValueError that did
    # not say so: a port had to guess why.
    hint = '-1 is pexpect\'s "the default", leave timeout out'
    async with opened(timeout=5) as (s, peer):
        for timeout in (-1, -1.0):
            with pytest.raises(ValueError, match=re.escape(hint)):
                await s.expect("ok", timeout=timeout)
        with pytest.raises(ValueError, match=r"not -2$"):  # (no hint: not pexpect's)
            await s.expect("ok", timeout=-2)
        await peer.write(b"ok")
        assert (await s.expect("ok")).after == "ok"  # (the session goes on)
    with pytest.raises(ValueError, match=re.escape(hint)):
        await aioexpect.spawn("cat", timeout=-1)


async def test_encoding_and_max_buffer_are_fixed_once_open():
    # s.encoding = None was taken, and expect(b"...") then gave text: the
    # decoder, the buffer and the patterns follow the encoding opened with.
    async with opened(max_buffer=100) as (s, peer):
        with pytest.raises(AttributeError, match="encoding= to the opener"):
            s.encoding = None  # type: ignore[assignment]
        with pytest.raises(AttributeError, match="max_buffer= to the opener"):
            s.max_buffer = 10  # type: ignore[assignment]
        assert (s.encoding, s.max_buffer) == ("utf-8", 100)
        await peer.write(b"ok")
        assert (await s.expect(b"ok")).after == "ok"


#: pexpect's settings a session does not have, a value a port assigns, and
#: words of the advice the error gives instead.
PEXPECT_ONLY = [
    ("logfile_read", io.StringIO(), "s.logfile = f"),
    ("logfile_send", io.StringIO(), "'aioexpect' logger at DEBUG"),
    ("ignorecase", True, "re.IGNORECASE"),
    ("searchwindowsize", 100, "max_buffer="),
    ("maxread", 2000, "max_buffer="),
    ("delaybeforesend", 0.05, "expect what the program prints"),
    ("delayafterread", None, "awaited, not polled"),
    ("delayafterclose", 0, "close() waits by itself"),
    ("delayafterterminate", 0, "close() waits by itself"),
]


class LabelledSession(Session):
    """A subclass with attributes of its own, one of them a pexpect name."""

    ignorecase = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = "r1"


@pytest.mark.parametrize(
    ("name", "value", "advice"), PEXPECT_ONLY, ids=[n for n, _, _ in PEXPECT_ONLY]
)
async def test_pexpects_settings_a_session_lacks_say_what_to_do_instead(name, value, advice):
    # s.logfile_read = f, s.ignorecase = True, s.delaybeforesend = 0.05 (a
    # pexpect port's settings) were taken and did nothing: the port's
    # logging or setting vanished without a word.
    async with opened() as (s, peer):
        with pytest.raises(AttributeError, match=f"a session has no {name} ") as info:
            setattr(s, name, value)
        assert advice in str(info.value)
        assert not hasattr(s, name)  # (reading it: the same error)
        with pytest.raises(AttributeError, match=re.escape(advice)):
            delattr(s, name)
        s.note = "mine"  # (other names are the user's, as before)
        s.logfile = transcript = io.StringIO()  # (the logfile's advice works)
        await peer.write(b"seen\n")
        await s.expect_exact("seen\n")
        assert (s.note, transcript.getvalue()) == ("mine", "seen\n")


async def test_a_subclass_keeps_its_own_attributes_pexpects_names_too():
    ours, peer = memory_pair()
    mine = LabelledSession(ours)
    mine.ignorecase = True
    assert (mine.label, mine.ignorecase) == ("r1", True)
    await mine.close()
    await peer.close()


async def test_deleting_an_attribute_says_what_to_do_and_changes_nothing():
    # ``del s.timeout`` raised AttributeError("__delete__"): Python's bare
    # word for a descriptor without a deleter.
    async with opened(timeout=5, max_buffer=100) as (s, peer):
        with pytest.raises(AttributeError, match="assign None to wait for ever"):
            del s.timeout
        for name in ("encoding", "max_buffer"):
            with pytest.raises(AttributeError, match=f"{name} cannot be deleted"):
                delattr(s, name)
        with pytest.raises(AttributeError, match="pid is its child's: it cannot be deleted"):
            del s.pid
        with pytest.raises(AttributeError, match="assign None to stop the transcript"):
            del s.logfile
        assert (s.timeout, s.encoding, s.max_buffer, s.pid, s.logfile) == (
            5.0,
            "utf-8",
            100,
            None,
            None,
        )
        await peer.write(b"ok")
        assert (await s.expect("ok")).after == "ok"


UNORDERED = [
    {"beta", "alpha", "gamma"},
    frozenset({"beta", "alpha"}),
    {"beta": 1, "alpha": 2},
    {"beta": 1, "alpha": 2}.items(),
]


@pytest.mark.parametrize("patterns", UNORDERED, ids=lambda p: type(p).__name__)
async def test_a_set_or_mapping_of_patterns_is_a_type_error(patterns):
    # A set was taken in its hash order: Match.index (and which error pattern
    # execute named) changed with PYTHONHASHSEED.  Ordered iterables still do
    # (a dict's keys() too, in the dict's order).
    kind = type(patterns).__name__
    async with opened(timeout=5) as (s, peer):
        for call in (s.expect, s.expect_exact):
            with pytest.raises(TypeError, match=f"list or tuple, not a {kind}: their order"):
                await call(patterns)
        with pytest.raises(TypeError, match="list or tuple"):
            await aioexpect.expect_any({s: patterns})
        for set_patterns in (s.set_prompt, s.set_error_prompt):
            with pytest.raises(TypeError, match="list or tuple"):
                set_patterns(patterns)
        with pytest.raises(TypeError, match="list or tuple"):
            s.add_monitor(patterns, lambda session, match: None)
        await peer.write(b"xx alpha beta gamma delta epsilon\n")
        assert (await s.expect(["beta", "alpha"])).index == 1
        assert (await s.expect_exact(p for p in ["zeta", "beta"])).index == 1
        assert (await s.expect({1: "epsilon", 2: "delta"}.values())).index == 1
        assert (await s.expect({"zeta": 1, "epsilon": 2}.keys())).index == 1


@pytest.mark.parametrize("name", ["MINE", "EOF"])
async def test_a_sentinel_made_anew_is_no_pattern(name):
    # Sentinel is public to annotate with.  One made with Sentinel(...) (and
    # Sentinel("EOF") is not aioexpect.EOF) went on as a text pattern and
    # failed inside the search: "object of type 'Sentinel' has no len()".
    made = aioexpect.Sentinel(name)
    refused = rf"Sentinel\('{name}'\) is no pattern: the sentinels are aioexpect\.EOF"
    async with opened(timeout=5) as (s, peer):
        for call in (s.expect, s.expect_exact):
            for patterns in (made, ["x", made]):
                with pytest.raises(TypeError, match=refused):
                    await call(patterns)
        with pytest.raises(TypeError, match=refused):
            await aioexpect.expect_any({s: made})
        await peer.write(b"x")
        assert (await s.expect(["y", "x", EOF])).index == 1


async def test_a_logfile_that_cannot_be_opened_is_a_value_error(tmp_path):
    """Before the child starts (the baseline fixture sees no child left)."""
    path = tmp_path / "missing" / "t.log"
    with pytest.raises(ValueError, match=r"cannot open logfile .*missing/t\.log'"):
        await aioexpect.spawn("cat", logfile=path)


async def test_monitors_fire_whether_or_not_anyone_expects():
    seen: list[str] = []
    async_seen: list[str] = []

    async def on_alarm(session: Session, match: aioexpect.Match) -> None:
        async_seen.append(match.group(1))

    async with opened() as (s, peer):
        s.add_monitor(r"ALARM (\d+)", lambda session, m: seen.append(m.group(1)))
        remove = s.add_monitor(r"ALARM (\d+)", on_alarm)
        for piece in (b"x ALARM 1", b"1 y AL", b"ARM 22 z", b" ALARM 3 "):
            await peer.write(piece)
        await s.expect("ALARM 3 ")
        for _ in range(3):
            await asyncio.sleep(0)
        assert seen == ["11", "22", "3"]
        assert async_seen == ["11", "22", "3"]
        remove()
        await peer.write(b"ALARM 4 ")
        await s.expect("ALARM 4 ")
        assert seen[-1] == "4" and async_seen[-1] == "3"


@pytest.mark.parametrize("pattern", [r"\d*", r"(error)?", r"\b", r"(?=ALARM)", "", r"x|"])
async def test_a_monitor_pattern_that_can_match_empty_text_is_refused(pattern):
    # It would match at one place over and over: the loop stuck for good.
    async with opened() as (s, peer):
        with pytest.raises(ValueError, match="empty"):
            s.add_monitor(pattern, lambda session, m: None)
        await peer.write(b"ALARM 1\n")
        assert (await s.expect_exact("1\n")).before == "ALARM "  # still usable


async def test_a_monitor_added_to_a_closed_session_is_refused():
    """Nothing arrives after close: a monitor taken then would never fire,
    and nothing said so (set_winsize, divert and the rest raise)."""
    async with opened() as (s, _peer):
        await s.close()
        with pytest.raises(aioexpect.ClosedError, match="closed"):
            s.add_monitor("ALARM", lambda session, m: None)


async def test_every_monitor_sees_the_chunk_that_one_removes_or_adds_a_monitor_in():
    """A one-shot monitor that removes itself leaves the next one its chunk;
    one added by a callback sees only what arrives after it; one removed by
    another's callback fires no more, not even for the rest of the chunk."""
    seen: list[str] = []
    async with opened() as (s, peer):

        def once(session: Session, m: aioexpect.Match) -> None:
            seen.append("once")
            remove_once()
            session.add_monitor("login", lambda session, m: seen.append("late"))
            remove_third()

        remove_once = s.add_monitor("login", once)
        s.add_monitor("login", lambda session, m: seen.append("counter"))
        remove_third = s.add_monitor("login", lambda session, m: seen.append("removed"))
        await peer.write(b"login: login: ")
        await s.expect_exact("login: login: ")
        assert seen == ["once", "counter", "counter"]
        await peer.write(b"login: ")
        await s.expect_exact("login: ")
        assert seen[3:] == ["counter", "late"]


async def test_a_coroutine_monitor_that_removes_itself_still_sends_its_answer():
    async with opened() as (s, peer):

        async def answer(session: Session, m: aioexpect.Match) -> None:
            remove()  # one-shot: stop watching first
            await asyncio.sleep(0.01)
            await session.sendline("yes")

        remove = s.add_monitor(r"Continue\? ", answer)
        await peer.write(b"Continue? ")
        assert await asyncio.wait_for(peer.read(), 5) == b"yes\n"
        await peer.write(b"Continue? ")  # removed: nothing more is sent
        await s.expect_exact("Continue? Continue? ")
        for _ in range(3):
            await asyncio.sleep(0)
        assert s._monitors == []


class _Awaitable:
    """An awaitable that is neither a coroutine nor a future."""

    def __init__(self, coro: Awaitable[None]) -> None:
        self._coro = coro

    def __await__(self) -> Any:
        return self._coro.__await__()


@pytest.mark.parametrize(
    "bound",
    [
        lambda close: close,
        # (on 3.11 both run close() in a task of their own, not the callback's)
        lambda close: asyncio.wait_for(close, 5),
        asyncio.shield,
    ],
    ids=["plain", "wait_for", "shield"],
)
@pytest.mark.parametrize(
    "given",
    [
        lambda callback: callback,
        # A plain function that starts the work and returns its task: made
        # before the monitor sees it, that task was not spared from a close
        # bounded by wait_for or shield.
        lambda callback: lambda session, m: asyncio.ensure_future(callback(session, m)),
        # One that returns an awaitable object: its wrapping task was made
        # outside the callback's context.
        lambda callback: lambda session, m: _Awaitable(callback(session, m)),
    ],
    ids=["coroutine-function", "returns-a-task", "returns-an-awaitable"],
)
async def test_a_monitor_that_closes_its_session_goes_on_after_close(
    bound: Callable[[Awaitable[None]], Awaitable[None]],
    given: Callable[[Callable[..., Any]], Callable[..., Any]],
):
    """An "on FATAL, hang up and report" monitor: close() cancelled every
    callback's task, the one calling it too, so the code after ``await
    session.close()`` never ran (and a cancelled callback is not logged),
    also when the close is bounded as usual.  The other monitors' callbacks
    are still cancelled."""
    outcome: list[str] = []
    reported, other_ended = asyncio.Event(), asyncio.Event()

    async def on_fatal(session: Session, m: aioexpect.Match) -> None:
        try:
            await bound(session.close())
        except asyncio.CancelledError:
            outcome.append("cancelled in close()")
            raise
        finally:
            reported.set()
        outcome.append(f"reported, closed={session.closed}")

    async def waiting(session: Session, m: aioexpect.Match) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            other_ended.set()

    async with opened() as (s, peer):
        s.add_monitor("FATAL", given(waiting))
        s.add_monitor("FATAL", given(on_fatal))
        await peer.write(b"FATAL\n")
        async with asyncio.timeout(5):
            await reported.wait()
            await other_ended.wait()
        assert outcome == ["reported, closed=True"]


@pytest.mark.parametrize(
    ("pattern", "pieces"),
    [
        (r"(?<=\n)ok\Z", [b"status\n", b"ok"]),  # a prompt-like pattern: last line only
        (r"(?<=xy)ab", [b"z" * 2000 + b"xy", b"ab"]),  # a literal prefix found in place
        (r"(?<=\n)\w+: ok", [b"x\n" + b"y" * 300, b": ok"]),  # a line longer than the margin
    ],
)
async def test_monitors_keep_the_context_a_look_behind_needs(pattern, pieces):
    """A monitor keeps only what a later match could start in, plus the
    characters before it that a look-behind reads."""
    seen: list[str] = []
    async with opened() as (s, peer):
        s.add_monitor(pattern, lambda session, m: seen.append(m.group(0)))
        for piece in pieces:
            await peer.write(piece)
            await s.expect_exact(piece.decode()[-2:])
        assert len(seen) == 1


@pytest.mark.parametrize(
    "pattern",
    [r"ALARM (\d+)\n", r"(?<=x\n)ALARM (\d+)\n", r"(?<=\n)ALARM (\d+)\r?\n", r"ALARM (\d+)(?=\n)"],
)
def test_a_monitor_fires_once_per_match_over_any_chunking(pattern):
    """What a monitor keeps for look-behinds is never matched twice.  (The
    patterns end where the data says so: an unbounded ``\\d+`` at the end
    matches what has arrived, so chunking would change it.)"""
    data = "".join(f"{'x' * (i * 37 % 300)}\nALARM {i}\n" for i in range(60))
    expected = [m.group(1) for m in re.finditer(pattern, data)]
    for label, chunks in splits(data, seeds=range(8)):
        seen: list[str] = []
        items = normalize_patterns(pattern, exact=False, bytes_mode=False, encoding="utf-8")
        monitor = Monitor(pattern, items[0], lambda s, m, seen=seen: seen.append(m.group(1)), log)
        for chunk in chunks:
            monitor.feed(None, chunk)
        assert seen == expected, label


async def test_dropped_session_warns_and_is_collected():
    ours, peer = memory_pair()
    session = Session(ours)
    await peer.write(b"x")
    await session.expect("x", timeout=30)  # its deadline timer is still set
    name = session.log.name
    with pytest.warns(ResourceWarning, match="unclosed session"):
        del session
        gc.collect()
    for _ in range(3):
        await asyncio.sleep(0)
    assert ours.closed
    # Its logger goes as close()'s does: a daemon dropping sessions kept one each.
    assert name not in logging.Logger.manager.loggerDict
    await peer.close()


def test_a_session_closed_after_its_loop_ended_lets_its_logger_go() -> None:
    async def opened() -> tuple[Session, Any]:
        ours, peer = memory_pair()
        return Session(ours), peer

    session, _peer = asyncio.run(opened())
    name = session.log.name
    asyncio.run(session.close())
    assert session.closed
    assert name not in logging.Logger.manager.loggerDict


async def test_divert_suspends_a_pending_readers_deadline():
    async with opened() as (s, peer):
        reader = asyncio.create_task(s.expect("resume", timeout=0.2))
        await asyncio.sleep(0)
        got: list[str] = []
        with s.divert(got.append):
            await peer.write(b"for the person ")
            await asyncio.sleep(0.3)  # longer than the reader's timeout
            assert not reader.done()
        assert got == ["for the person "]
        await peer.write(b"resume")
        assert (await reader).before == ""


def test_session_needs_a_running_loop():
    ours, _peer = memory_pair()
    with pytest.raises(RuntimeError, match="running event loop"):
        Session(ours)


async def test_bad_options_are_plain_errors():
    ours, peer = memory_pair()
    with pytest.raises(ValueError):
        Session(ours, encoding="no-such-codec")
    with pytest.raises(ValueError):
        Session(ours, max_buffer=0)
    with pytest.raises(ValueError):
        Session(ours, driver="no-such-driver")
    with pytest.raises(TypeError):
        Session(object())  # type: ignore[arg-type]
    await ours.close()
    await peer.close()


async def test_peeked_match_consumes_nothing_until_committed():
    from aioexpect._matcher import Searcher
    from aioexpect._patterns import normalize_patterns

    async with opened() as (s, peer):
        await peer.write(b"abc MATCH def")
        items = normalize_patterns(["MATCH"], exact=False, bytes_mode=False, encoding="utf-8")
        m = await s._expect(Searcher(items, ["MATCH"]), 1, consume=False)
        assert (m.before, m.after, m.span()) == ("abc ", "MATCH", (4, 9))
        assert s.buffer == "abc MATCH def"
        s._consume_match(m)
        assert s.buffer == " def"


async def test_data_pushed_while_receiving_starts_is_kept() -> None:
    """A transport of one's own that hands over what it already holds
    during ``start_receiving()`` (the contract says soon after; a session
    must still not lose it): the session took it for closed, dropped the
    greeting and was never resumed, so nothing later arrived either."""

    class Eager(Wrapper):
        kind = "eager"
        task: asyncio.Task[None] | None = None

        def start_receiving(self, on_data, on_end) -> bool:  # type: ignore[no-untyped-def]
            on_data(b"login: ")  # (what it held already, handed over at once)

            async def forward() -> None:
                while data := await self.inner.read():
                    on_data(data)
                on_end(None)

            self.task = asyncio.create_task(forward())
            return True

        async def close(self, *, force: bool = False) -> None:
            await self.inner.close(force=force)
            if self.task is not None:
                self.task.cancel()
                await asyncio.gather(self.task, return_exceptions=True)

    ours, peer = memory_pair()
    async with Session(Eager(ours), timeout=2) as s:
        assert (await s.expect_exact("login: ")).before == ""
        await peer.write(b"later\n")
        assert (await s.expect_exact("later")).before == ""
    await peer.close()


async def test_close_force_and_divert_keep_take_true_or_false_only() -> None:
    # close(force="no") closed the session, forcing (a truthy string), where
    # every other flag raises TypeError; divert(keep=1) kept a copy.
    async with opened() as (s, peer):
        for wrong in ("no", 1, None):
            with pytest.raises(TypeError, match="force must be True or False"):
                await s.close(force=wrong)  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="keep must be True or False"):
                with s.divert(lambda data: None, keep=wrong):  # type: ignore[arg-type]
                    pass
        assert not s.closed
        await peer.write(b"still open")
        await s.expect("still open")


async def test_a_timeout_over_many_patterns_names_the_first_and_counts_the_rest():
    # An expect of 10,000 patterns made a message of 89 KB.
    patterns = [f"never-{n}" for n in range(1000)]
    async with opened() as (s, peer):
        await peer.write(b"some output")
        with pytest.raises(aioexpect.ExpectTimeout) as info:
            await s.expect_exact(patterns, timeout=0.01)
        message = str(info.value)
        assert "'never-0', 'never-1'" in message and "'never-19', ... and 980 more" in message
        assert "never-20'" not in message and len(message) < 2000
        assert await s.read_some() == "some output"  # (the session is usable, nothing lost)


async def test_patterns_of_a_str_or_bytes_subclass_are_shown_and_time_out_as_plain_ones() -> None:
    # The redactor chose its table by the exact type: a StrEnum member
    # or any str subclass as a pattern made repr(match), the time-out's
    # message and redact() raise a bare KeyError, and the time-out was lost.
    import enum

    class Prompt(enum.StrEnum):
        SHELL = r"\$ "

    class Text(str):
        pass

    async with opened(timeout=5) as (s, peer):
        await peer.write(b"ok $ ")
        m = await s.expect([Prompt.SHELL])
        assert "after='$ '" in repr(m)
        with pytest.raises(aioexpect.ExpectTimeout, match="waiting for 'never'"):
            await s.expect(Text("never"), timeout=0.01)
        assert s.redact(Text("x")) == "x"
    async with opened(encoding=None, timeout=5) as (s, peer):
        with pytest.raises(aioexpect.ExpectTimeout, match="waiting for b'never'"):
            await s.expect(type("Raw", (bytes,), {})(b"never"), timeout=0.01)
