"""Pure-core units: incremental decoding, ANSI stripping, redaction, the
canonical-mode line count."""

from __future__ import annotations

import codecs
import random
import re
import sys
from typing import Any

import pytest

from aioexpect import _redact
from aioexpect._ansi import AnsiStripper, drop_up, strip_ansi
from aioexpect._canonical import MIN_CANON, NO_LINE, CanonicalLine, check_line_limit
from aioexpect._decode import Decoder
from aioexpect._echo import Echo
from aioexpect._redact import MASK, Redactor, escape, mask_around
from aioexpect._redact_stream import RedactingStream
from aioexpect._wrap import rows_start, unwrap

from .splits import splits

COLOURED = "\x1b]0;user@host: ~\x07\x1b[01;32muser@host\x1b[00m:\x1b[01;34m~\x1b[00m$ \x1b[?2004h"


def test_decoder_joins_split_characters_in_every_split():
    raw = "ascii, é, 漢字, 🙂 and a tail".encode()
    for label, chunks in splits(raw):
        dec = Decoder("utf-8")
        assert "".join(dec.decode(c) for c in chunks) + dec.flush() == raw.decode(), label


def test_decoder_flush_replaces_a_cut_character():
    dec = Decoder("utf-8", "replace")
    assert dec.decode("é".encode()[:1]) == ""
    assert dec.flush() == "\ufffd"


def test_decoder_takes_views_of_a_reused_buffer_and_keeps_no_reference():
    raw = "ascii, é, 漢字, 🙂 and a tail".encode()
    for label, chunks in splits(raw):
        dec, out = Decoder("utf-8"), []
        scratch = bytearray(len(raw))
        for chunk in chunks:
            scratch[: len(chunk)] = chunk
            out.append(dec.decode(memoryview(scratch)[: len(chunk)]))
            scratch[:] = b"\xff" * len(scratch)  # the adapter reuses its buffer
        assert "".join(out) + dec.flush() == raw.decode(), label


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1", "shift_jis", "UTF8"])
def test_decoder_other_codecs_split_anywhere(encoding: str) -> None:
    text = "plain é ü ñ" if encoding == "latin-1" else "plain 漢字 ok"
    raw = text.encode(encoding)
    for label, chunks in splits(raw):
        dec = Decoder(encoding)
        got = "".join(dec.decode(memoryview(c)) for c in chunks) + dec.flush()
        assert got == text, (encoding, label)


@pytest.mark.parametrize(
    ("encoding", "raw"),
    [
        ("utf-16", "plain 漢字 🙂".encode("utf-16-" + sys.byteorder[0] + "e")),  # no mark
        ("utf-16", codecs.BOM_UTF16_BE + "plain 漢字 🙂".encode("utf-16-be")),
        ("utf-32", "plain 漢字 🙂".encode("utf-32-" + sys.byteorder[0] + "e")),
        ("UTF32", codecs.BOM_UTF32_BE + "plain 漢字 🙂".encode("utf-32-be")),
    ],
    ids=["utf-16-no-mark", "utf-16-be-mark", "utf-32-no-mark", "utf-32-be-mark"],
)
def test_decoder_reads_utf_16_and_32_with_or_without_a_byte_order_mark(encoding, raw):
    # Without a mark, the machine's order, as bytes.decode reads it: Python's
    # incremental decoder raised a bare UnicodeError there, whatever the
    # handler, and the session ended with its text lost.
    assert raw.decode(encoding) == "plain 漢字 🙂"
    for label, chunks in splits(raw):
        for errors in ("strict", "replace"):
            dec = Decoder(encoding, errors)
            got = "".join(dec.decode(memoryview(c)) for c in chunks) + dec.flush()
            assert got == "plain 漢字 🙂", (label, errors)


def test_decoder_strict_errors_raise_and_replace_marks_each_bad_byte():
    with pytest.raises(UnicodeDecodeError):
        Decoder("utf-8", "strict").decode(b"ok \xff")
    dec = Decoder("utf-8", "replace")
    assert dec.decode(b"a\xffb\xe2\x82") == "a\ufffdb"  # the cut euro sign waits
    assert dec.decode(b"\xac") == "\u20ac"


def test_decoder_bytes_mode_and_bad_codecs():
    assert Decoder(None).decode(b"\xff") == b"\xff"
    with pytest.raises(ValueError, match="encoding"):
        Decoder("nope")
    with pytest.raises(ValueError, match="codec_errors"):
        Decoder("utf-8", "nope")
    # Handlers for encoding only: the first byte that did not decode ended
    # the session with a TypeError from inside the codec.
    for handler in ("xmlcharrefreplace", "namereplace"):
        with pytest.raises(ValueError, match=f"codec_errors='{handler}' is for encoding only"):
            Decoder("utf-8", handler)


def test_strip_ansi_whole():
    assert strip_ansi(COLOURED) == "user@host:~$ "
    assert strip_ansi(b"\x1b[31mred\x1b[0m") == b"red"
    assert strip_ansi("a\x1b(Bb\x1b=c\x1b[2J\x1b[Hd") == "abcd"


def test_ansi_stripper_handles_sequences_cut_anywhere():
    for label, chunks in splits(COLOURED * 3):
        stripper = AnsiStripper()
        out = "".join(stripper.feed(c) for c in chunks) + stripper.flush()
        assert out == "user@host:~$ " * 3, label


def test_ansi_stripper_lets_a_lone_escape_through_at_flush():
    stripper = AnsiStripper()
    assert stripper.feed("text\x1b") == "text"
    assert stripper.flush() == "\x1b"


# One of each kind of sequence, each followed by text, and a lone ESC at the end.
EVERY_KIND = (
    "a\x1b[1;31mb"  # CSI
    "\x1b]0;title\x07c"  # OSC ended by BEL
    "\x1b]0;user@host: ~\x1b\\$ "  # OSC ended by ST
    "\x1bP1$r0m\x1b\\d"  # DCS
    "\x1b_app\x1b\\e\x1bXsos\x1b\\f\x1b^pm\x1b\\g"  # APC, SOS, PM
    "see \x1b]8;;http://example.com/\x1b\\here\x1b]8;;\x1b\\ ok"  # hyperlink
    "\x1b(Bh\x1b7i\x9b2Kj\x1b"  # charset, other escape, 8-bit CSI, lone ESC
)


@pytest.mark.parametrize("kind", [str, bytes])
def test_ansi_stripper_gives_strip_ansi_of_the_whole_for_every_cut(kind):
    # A chunk ending right after an ST's ESC held back only that ESC: the
    # OSC/DCS before it went out raw and the ESC \ was stripped alone.
    whole = EVERY_KIND if kind is str else EVERY_KIND.encode()
    expected = strip_ansi(whole)
    visible = "abc$ defgsee here okhij\x1b"
    if kind is str:
        assert expected == visible
    else:  # 0x9b is no CSI in bytes: its character stays (see below)
        assert expected == visible.replace("j", "\x9b2Kj").encode()
    cuts = [(f"cut={i}", [whole[:i], whole[i:]]) for i in range(len(whole) + 1)]
    for label, chunks in [*cuts, *splits(whole, seeds=range(200))]:
        stripper = AnsiStripper(whole[:0])
        out = whole[:0].join(stripper.feed(c) for c in chunks) + stripper.flush()
        assert out == expected, label


@pytest.mark.parametrize("kind", [str, bytes])
def test_a_stripper_that_keeps_the_moves_up_differs_by_them_alone_at_every_cut(kind):
    # A session's stripper keeps ESC[A for its transcript, which knows
    # readline's copy of a row by it; drop_up gives what the session reads.
    # (the moves up kept, what is between them stripped)
    parts = ["a", "\x1b[A", "b" + EVERY_KIND, "\x1b[2A", "c\x1b[123456A\x1b[ A\x1b", "\x1b[3A", "f"]
    if kind is bytes:
        parts = [part.encode() for part in parts]
    whole = parts[0][:0].join(parts)
    kept = whole[:0].join(part if i % 2 else strip_ansi(part) for i, part in enumerate(parts))
    cuts = [(f"cut={i}", [whole[:i], whole[i:]]) for i in range(len(whole) + 1)]
    for label, chunks in [*cuts, *splits(whole, seeds=range(50))]:
        stripper = AnsiStripper(whole[:0], keep_up=True)
        out = whole[:0].join(stripper.feed(c) for c in chunks) + stripper.flush()
        assert out == kept, label
        assert drop_up(out) == strip_ansi(whole), label


def test_ansi_stripper_holds_back_what_it_strips_as_a_whole_at_the_end():
    # An OSC that never ends is text, so an 8-bit CSI inside it is a sequence.
    stripper = AnsiStripper()
    assert stripper.feed("x\x1b]0;a\x9b1mb") == "x"
    assert stripper.flush() == strip_ansi("\x1b]0;a\x9b1mb") == "\x1b]0;ab"


def test_strip_ansi_in_bytes_keeps_utf8_text_with_0x9b_bytes():
    # 0x9b in bytes was taken for an 8-bit CSI: "ě" (c4 9b) lost its second
    # byte and the text up to the next letter in @-~ with it.
    text = "děkuji, věc, Û:Ûm, Лm, tě12 kB\n".encode()
    assert b"\x9b" in text
    coloured = b"\x1b[1m" + text + b"\x1b[0m"
    assert strip_ansi(coloured) == text
    for label, chunks in splits(coloured):
        stripper = AnsiStripper(b"")
        assert b"".join(stripper.feed(c) for c in chunks) + stripper.flush() == text, label
    # In text, U+009B is the 8-bit CSI, stripped even when a chunk cuts it.
    stripper = AnsiStripper()
    assert stripper.feed("a\x9b3") + stripper.feed("1mb") + stripper.flush() == "ab"


def test_redactor_masks_every_secret_longest_first():
    r = Redactor()
    r.add("pass")
    r.add("password1")
    r.add(None)
    r.add("")
    assert r.redact("password1 and pass") == f"{MASK} and {MASK}"
    assert r.redact(b"pass") == MASK.encode()


def test_a_secret_is_masked_as_repr_writes_it_once_or_twice():
    # A quote, a backslash, a control character or (as bytes) a non-ASCII
    # one: repr escapes it, and the secret was found only as it is.
    secret = "p'a\\s\ts\u00e9"
    r = Redactor()
    r.add(secret)
    for shown in (
        repr(secret),
        repr(secret + '"'),  # (a ' escaped: single quotes)
        repr(repr(secret)),
        repr(RuntimeError(repr(secret))),
        repr(secret.encode()),
        repr([secret.encode()]),
    ):
        masked_text = r.redact(shown)
        assert MASK in masked_text and "s\\" not in masked_text.replace(MASK, ""), shown
    assert r.redact(b"x " + repr(secret).encode()) == b'x "' + MASK.encode() + b'"'
    plain = Redactor()
    plain.add("hunter2")  # (nothing repr escapes: no other form)
    assert plain._secrets == ["hunter2"]


def test_the_tail_after_a_long_run_of_secrets_is_a_mask_not_nothing():
    # Past the 64 KiB it looks back, the evidence was '': "nothing received".
    r = Redactor()
    r.add("hunter2")
    for run in (10, 16_000, 200_000):
        text = "login ok\n" + "hunter2" * run
        assert r.tail(text, 200).endswith(MASK), run
        assert r.tail(text.encode(), 200).endswith(MASK.encode()), run
    assert r.tail("x" * 300 + "hunter2" * 20_000 + " end", 200).endswith(f"{MASK} end")


def test_the_tail_masks_the_start_of_a_secret_whose_rest_is_still_to_come():
    # A time-out in the middle of an echoed secret quoted its start
    # ('...tail abc12'); the transcript holds it back, messages did not.
    r = Redactor()
    r.add("abc123XYZ")
    assert r.tail("output tail abc12", 200) == f"output tail {MASK}"
    assert r.tail(b"output tail abc12", 200) == f"output tail {MASK}".encode()
    assert r.tail("output tail ab", 200) == "output tail ab"  # (two: any text ends so)


def test_mask_around_keeps_what_the_caller_gave_whole():
    # A short or reused password must not mark where it stands in the host
    # or the user name (that would tell the reader the password).
    text = "Permission denied for user admin on host 127.0.0.1 (admin said: 1)"
    assert mask_around(text, "1", ["127.0.0.1", "admin"]) == (
        f"Permission denied for user admin on host 127.0.0.1 (admin said: {MASK})"
    )
    assert mask_around(text, "adm", ["127.0.0.1", "admin"]) == text
    # Equal to the user name: masked everywhere (which one is the password?)
    assert mask_around("bad password 'admin' for user admin", "admin", ["admin"]) == (
        f"bad password '{MASK}' for user {MASK}"
    )
    assert (
        mask_around("key /home/x/id: bad x", "x", ["/home/x/id"]) == f"key /home/x/id: bad {MASK}"
    )
    assert mask_around("pw s3cret!", "s3cret", ["host"]) == f"pw {MASK}!"
    assert mask_around("no secret", None, ["host"]) == "no secret"


def test_redacting_stream_never_emits_a_split_secret():
    r = Redactor()
    r.add("s3cr3t-token")
    data = "before s3cr3t-token middle s3cr3t-tok end s3cr3t-token"
    for label, chunks in splits(data):
        stream = RedactingStream(r)
        out = "".join(stream.feed(c) for c in chunks) + stream.flush()
        assert "s3cr3t-token" not in out, label
        assert out == r.redact(data), label


@pytest.mark.parametrize(
    "secrets", [["cisco", "cisco123"], ["secret12", "t12more"], ["abc", "cdef"], ["abc", "def"]]
)
def test_redacting_stream_splits_give_what_one_chunk_gives_with_secrets_that_meet(secrets):
    # A chunk ending inside the longer of two secrets that start alike or
    # overlap let its rest through ('pw ********123'), the first having
    # been masked before the stream looked for a secret's start.
    r = Redactor()
    for secret in secrets:
        r.add(secret)
    data = f"pw {''.join(secrets)} and {secrets[1]}, {secrets[0]}{secrets[1]}x{secrets[0]}"
    for label, chunks in splits(data):
        stream = RedactingStream(r)
        out = "".join(stream.feed(c) for c in chunks) + stream.flush()
        assert out == r.redact(data), label


@pytest.mark.parametrize("secret", ["hunter2", "x" * 300])
def test_a_long_run_of_secrets_goes_out_masked_as_it_comes(secret):
    # A run of secrets touching each other was held back whole (one mask at
    # the end), and searched again with every chunk: quadratic, and nothing
    # reached the transcript until the run ended.
    r = Redactor()
    r.add(secret)
    stream = RedactingStream(r)
    out = [stream.feed(secret * 1000) for _ in range(20)]
    assert all(part and set(part) == {"*"} for part in out)  # (each chunk: masks only)
    assert set(stream.flush() + "".join(out)) == {"*"}
    run = secret * 20_000 + " end"
    shown = r.tail(run, 200)  # (looked for within a bounded reach: a shorter tail)
    assert shown.endswith(" end") and set(shown[:-4]) <= {"*"}


def _every_occurrence(text, needles):
    """The stretches secrets cover, found the plain way: each character an
    occurrence covers marked, and each run of marked characters one."""
    covered = [False] * len(text)
    for needle in needles:
        for at in range(len(text) - len(needle) + 1):
            if text.startswith(needle, at):
                covered[at : at + len(needle)] = [True] * len(needle)
    return [(m.start(), m.end()) for m in re.finditer("1+", "".join("01"[c] for c in covered))]


def test_runs_of_periodic_secrets_cover_what_every_occurrence_covers():
    # A run of a periodic secret ('x' * 300 in a run of x) is found in long
    # strides, not one occurrence at a time; seeded random secrets built
    # from repeats, and texts from the same letters, cover alike.
    rng = random.Random(1)
    for _ in range(3000):
        letters = rng.choice(["ab", "abc", "a", "xy1"])
        r = Redactor()
        for _ in range(rng.randint(1, 3)):
            unit = "".join(rng.choice(letters) for _ in range(rng.randint(1, 4)))
            r.add((unit * 4)[: rng.randint(1, 12)])
        text = "".join(rng.choice(letters + "z") for _ in range(rng.randint(0, 60)))
        for form in (text, text.encode()):
            want = _every_occurrence(form, r._needles(form))
            assert r.stretches(form) == want, (r._secrets, text)


def test_a_secret_s_period_is_worked_out_once_not_for_each_occurrence():
    # (O(len**2) each time: a transcript holding the secret line after line
    # paid it per line; the cache had slipped onto another function)
    secret = "ab" * 20 + "c"
    r = Redactor()
    r.add(secret)
    _redact._period.cache_clear()
    assert r.redact(f"{secret} x " * 200) == f"{MASK} x " * 200
    info = _redact._period.cache_info()
    assert info.misses == 1 and info.hits >= 199, info


def test_prefix_at_end_is_the_longest_tail_that_starts_a_secret():
    # Checked against every tail, longest first, on seeded texts and
    # secrets that repeat their letters (where a tail may start a secret at
    # several places): str and bytes.
    rng = random.Random(2)
    for _ in range(5000):
        r = Redactor()
        for _ in range(rng.randint(1, 3)):
            r.add("".join(rng.choice("ab.") for _ in range(rng.randint(1, 7))))
        text = "".join(rng.choice("ab.\\z") for _ in range(rng.randint(0, 14)))
        for form in (text, text.encode()):
            want = max(
                (n for s in r._needles(form) for n in range(1, len(s)) if form.endswith(s[:n])),
                default=0,
            )
            assert r.prefix_at_end(form) == want, (r._secrets, form)


@pytest.mark.parametrize("encoding", [None, "utf-8", "latin-1"])
def test_a_redacting_stream_of_sent_bytes_gives_what_one_send_gives(encoding):
    # The 'send' records were redacted one send at a time: a secret sent in
    # pieces (key by key, or cut inside a character) showed in them.
    r = Redactor(encoding)
    for secret in ("pässwörd", "cisco", "cisco123"):
        r.add(secret)
    data = "x pässwörd cisco123 ciscopässwörd cisc y".encode(encoding or "utf-8")
    for label, chunks in splits(data):
        stream = RedactingStream(r, sent=True)
        out = b"".join(stream.feed(c) for c in chunks) + stream.flush()
        assert out == r.redact(data), label
    stream = RedactingStream(r, sent=True)
    out = [stream.feed(b"cisco123" * 1000) for _ in range(5)]  # a long run: out as it comes
    assert all(part and set(part) == {ord("*")} for part in out)


def test_a_long_stretch_of_overlapping_secrets_cut_anywhere_shows_nothing():
    # Sent out masked in parts, the rest of the stretch is masked with it
    # later: a part of it held over two feeds once went out in clear ('b').
    r = Redactor()
    r.add("aa")
    r.add("ab")
    text = "ab" * 4800 + "a" * 3600
    for cut in range(1, len(text), 499):
        stream = RedactingStream(r)
        out = stream.feed(text[:cut]) + stream.feed(text[cut:]) + stream.flush()
        assert set(out) == {"*"}, cut


def test_tail_is_the_end_of_the_masked_text_with_no_part_of_a_secret():
    r = Redactor()
    r.add("correct-horse-battery-staple-42")
    r.add("cdef")
    for data in [
        "zz" + "correct-horse-battery-staple-42" * 3 + "." * n + "cdefcd" for n in range(40)
    ]:
        for size in (1, 10, 30, 60):
            assert r.tail(data, size) == r.redact(data)[-size:], (data, size)
            assert r.tail(data.encode(), size) == r.redact(data.encode())[-size:]


#: A 100-character token, and echoes of ``export API_TOKEN=<token>`` typed
#: at a prompt of two characters on a terminal of 80 columns (as bash 5.2
#: and zsh 5.9 wrote them).  readline wraps the line at the margin with the
#: next character, \r and that character again; zsh with " \r", ESC[K,
#: then the same.
TOKEN = "".join(random.Random(23).choices("abcdefghijkLMNOPQRSTUV0123456789", k=141))
READLINE_WRAP = (
    "$ export API_TOKEN=" + TOKEN[:62] + "\r" + TOKEN[61:100] + "\r\n\x1b[?2004l\r\x1b[?2004h$ "
)
ZSH_WRAP = (
    "% export API_TOKEN="
    + TOKEN[:61]
    + " \r\x1b[K"
    + TOKEN[61]
    + "\r"
    + TOKEN[61:100]
    + "\x1b[?2004l\r\r\n% "
)
#: 141 characters end the line at the margin of its second row: readline
#: goes up a row and draws that row again (the last 80 of the token).
READLINE_AT_MARGIN = (
    "$ export API_TOKEN="
    + TOKEN[:62]
    + "\r"
    + TOKEN[61:141]
    + " \r\x1b[A"
    + TOKEN[61:140]
    + "\x1b[K"
    + TOKEN[140]
    + "\r\n\x1b[?2004l\r\x1b[?2004h$ "
)

#: 100 characters and a word that end the line at the margin of its second
#: row (bash 5.2): the row readline draws again holds the last 27
#: characters of the token, and the word after them.
READLINE_ROW_AFTER = (
    "$ echo "
    + TOKEN[:74]
    + "\r"
    + TOKEN[73:100]
    + " "
    + "x" * 52
    + " \r\x1b[A"
    + TOKEN[73:100]
    + " "
    + "x" * 51
    + "\x1b[Kx\r\n\x1b[?2004l\r"
    + TOKEN[:100]
    + " "
    + "x" * 52
    + "\r\n\x1b[?2004h$ "
)


def _pieces_shown(text: str, secret: str) -> list[str]:
    return [secret[i : i + 8] for i in range(len(secret) - 7) if secret[i : i + 8] in text]


@pytest.mark.parametrize(
    ("echo", "length", "masked"),
    [
        (READLINE_WRAP, 100, "$ export API_TOKEN=********\r\n\x1b[?2004l\r\x1b[?2004h$ "),
        (ZSH_WRAP, 100, "% export API_TOKEN=********\x1b[?2004l\r\r\n% "),
        (READLINE_AT_MARGIN, 141, "$ export API_TOKEN=********\r\n\x1b[?2004l\r\x1b[?2004h$ "),
        # (the word after the token went out before readline drew its row
        # again: it stays, there and in the copy, and the copy of the part
        # of the token is masked where it stands)
        (
            READLINE_ROW_AFTER,
            100,
            f"$ echo {MASK} {'x' * 52} \r\x1b[A{MASK} {'x' * 51}\x1b[Kx\r\n"
            f"\x1b[?2004l\r{MASK} {'x' * 52}\r\n\x1b[?2004h$ ",
        ),
        # other editors and terminals: a line end, cursor moves, padding
        ("a " + TOKEN[:40] + "\r\n" + TOKEN[40:100] + " b", 100, "a ******** b"),
        (
            "a " + TOKEN[:9] + "\x1b[C\x1b[1D" + TOKEN[9:70] + "\x00\x00" + TOKEN[70:100],
            100,
            "a ********",
        ),
    ],
    ids=["readline", "zsh", "readline-at-margin", "readline-row-after", "crlf", "cursor-moves"],
)
def test_a_secret_a_line_editor_wrapped_is_masked_whatever_the_split(echo, length, masked):
    # The echo of a secret longer than the terminal is wide came with the
    # editor's wrap inside it: four of its five twenty-character pieces
    # showed in the transcript, the one it was cut in was not recognised.
    r = Redactor()
    r.add(TOKEN[:length])
    assert r.redact(echo) == masked
    assert r.redact(echo.encode()) == masked.encode()
    assert _pieces_shown(r.tail(echo, 60), TOKEN) == []
    cuts = [(f"cut={i}", [echo[:i], echo[i:]]) for i in range(1, len(echo))]
    for label, chunks in [*cuts, *splits(echo)]:
        stream = RedactingStream(r)
        out = "".join(stream.feed(c) for c in chunks) + stream.flush()
        assert out == masked, label


@pytest.mark.parametrize(
    "text",
    [
        f"connecting with {TOKEN[:40]}\r\nPassword for user-{TOKEN[:40]}: ",
        f"token: {TOKEN[:40]} " + "".join(f"\r{i:5d}%" for i in range(50)),
        f"$ echo {TOKEN[:40]}\r\n{TOKEN[:40]}\r\n\x1b[?2004h\x1b[1m$ \x1b[0m",
    ],
    ids=["prompt", "progress", "echo"],
)
def test_a_line_holding_a_secret_goes_out_as_it_comes(text):
    # The stream held a line back from its secret on until its line end:
    # the logfile and the DEBUG records stopped at 'Password for user-'
    # while the session had matched the whole prompt, and what came after
    # it waited for close().  Only what may still change is held: the start
    # of a secret, a sequence cut short, a row readline may draw again.
    r = Redactor()
    r.add(TOKEN[:40])
    for label, chunks in splits(text):
        stream = RedactingStream(r)
        assert "".join(stream.feed(c) for c in chunks) == r.redact(text), label
        assert stream.flush() == "", label


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("status \x1b[h\r\nunter2 ok\r\n$ ", "status \x1b[h\r\nunter2 ok\r\n$ "),
        ("mode \x1b[?1;2h\x1b[1munter2\r\n", "mode \x1b[?1;2h\x1b[1munter2\r\n"),
        ("charset \x1b(h\x00unter2\r\n", "charset \x1b(h\x00unter2\r\n"),
        (
            "\x1b[1mhunter2\x1b[0m and \x1b[1mhun\x1b[0mter2",
            f"\x1b[1m{MASK}\x1b[0m and \x1b[1m{MASK}",
        ),
    ],
    ids=["set-mode", "private-mode", "charset", "bold"],
)
def test_a_control_sequence_cut_by_a_read_is_not_taken_for_what_shows(text, masked):
    # A sequence cut after ESC[ went out, and its last character (the h of
    # ESC[h) was then read as the first of 'hunter2': a split gave
    # 'status \x1b[******** ok' where the text in one chunk gave no mask.
    r = Redactor()
    r.add("hunter2")
    assert r.redact(text) == masked
    cuts = [(f"cut={i}", [text[:i], text[i:]]) for i in range(1, len(text))]
    for label, chunks in [*cuts, *splits(text)]:
        stream = RedactingStream(r)
        assert "".join(stream.feed(c) for c in chunks) + stream.flush() == masked, label


def _readline_at_margin(width: int, typed: str, after_up: str = "", after_copy: str = "") -> str:
    """bash's echo of ``typed`` after the prompt ``$ `` where the line ends
    at the margin: each wrap the next character, ``\\r`` and it again; then
    ``" \\r"``, a move up and the last row drawn again (``ESC[K`` before
    its last character), the line end.  (``after_up``, ``after_copy``: a
    run of what shows nothing there.)"""
    line = "$ " + typed
    assert len(line) % width == 0 and len(line) > width
    rows = [line[i : i + width] for i in range(0, len(line), width)]
    last = rows[-1]
    echo = rows[0] + "".join(f"{row[0]}\r{row}" for row in rows[1:]) + " \r\x1b[A"
    return f"{echo}{after_up}{last[:-1]}\x1b[K{last[-1]}{after_copy}\r\n"


#: A 30-character token across the wrap of a command line of two rows that
#: ends at the margin, 10 characters of it on the first row.
WIDE_TOKEN = TOKEN[:30]


def _two_rows(width: int, token: str, on_first: int, **runs: str) -> str:
    before = "echo " + "a" * (width - 2 - 5 - on_first)
    after = "z" * (width - len(token) + on_first)
    return _readline_at_margin(width, before + token + after, **runs) + "out\r\n$ "


@pytest.mark.parametrize(
    ("token", "text"),
    [
        (WIDE_TOKEN, _two_rows(2200, WIDE_TOKEN, 10)),
        (WIDE_TOKEN[:18], _two_rows(40, WIDE_TOKEN[:18], 6, after_up="\x1b[0m" * 600)),
        (WIDE_TOKEN[:18], _two_rows(40, WIDE_TOKEN[:18], 6, after_copy="\x1b[0m" * 600)),
    ],
    ids=["row-of-2200", "blank-run-before-the-copy", "blank-run-after-the-copy"],
)
def test_readline_s_copy_of_a_row_past_what_the_stream_holds_is_masked(token, text):
    # The stream holds the row readline draws again up to 2 KiB: past that
    # it let it out and forgot the line, and the copy of the token's tail
    # at the row's start showed ('\x1b[AZfAgBhCiDj...' at 2,200 columns in
    # 1 KiB reads, an SSH peer's packets; also after or before 2 KiB of
    # what shows nothing).  Where the copy is not seen whole, a row that
    # starts with a secret's tail is masked there.
    r = Redactor()
    r.add(token)
    masked = r.redact(text)
    assert _pieces_shown(masked, token) == []
    up = text.index("\x1b[A")
    kib = [("1 KiB reads", [text[i : i + 1024] for i in range(0, len(text), 1024)])]
    around = [up + d for d in range(-40, 40)] + [up + 2048 + d for d in range(-40, 40)]
    cuts = [(f"cut={i}", [text[:i], text[i:]]) for i in around if 0 < i < len(text)]
    for label, chunks in [*kib, *cuts, *splits(text, seeds=range(5))]:
        stream = RedactingStream(r)
        out = "".join(stream.feed(c) for c in chunks) + stream.flush()
        assert _pieces_shown(out, token) == [], label
        assert out == masked, label


def test_the_start_of_a_copy_held_when_the_stream_ends_is_masked():
    # Past 2 KiB of what shows nothing after the move up, the row went out
    # and the copy of the token's tail came after it: what came of it is
    # held, as what follows may make it the copy, and masked at the end.
    token = WIDE_TOKEN[:18]
    text = _two_rows(40, token, 6, after_up="\x1b[0m" * 600)
    copy = text.index(token[6:], text.index("\x1b[A"))
    r = Redactor()
    r.add(token)
    for size in range(1, 12):
        stream = RedactingStream(r)
        out = stream.feed(text[:copy]) + stream.feed(text[copy : copy + size])
        assert token[6 : 6 + size] not in out
        assert stream.flush() == MASK, size


class CountingEcho(Echo):
    """An echo that counts the characters it is made of: what a stream
    searches as the terminal shows it."""

    looked = 0

    @classmethod
    def of(cls, text: Any, open_end: bool = False) -> Echo | None:
        CountingEcho.looked += len(text)
        return super().of(text, open_end)


@pytest.mark.parametrize(
    "line",
    [
        f"token: {TOKEN[:100]} " + "progress." * 220 + "\r\n",
        f"token: {TOKEN[:100]} " + "".join(f"\r{i:5d}%" for i in range(300)) + "\r\n",
        f"$ {TOKEN[:100]} \r\x1b[A" + "y" * 1800 + "\r\n",  # (a row drawn again: held)
        f"$ {TOKEN[:100]}" + " \r\x1b[K" * 300 + "\r\n",  # (nothing shown after it)
    ],
    ids=["long-line", "progress", "redrawn", "blank"],
)
def test_small_reads_of_a_line_holding_a_secret_search_it_once(line, monkeypatch):
    # Every read searched all that was held of a line that holds a secret
    # (up to 2 KiB) again: 16-character reads of such lines cost 50 to 200
    # times what the same lines cost without the secret.  Counted, not
    # timed: what the stream makes an echo of, against what it is fed.
    monkeypatch.setattr(_redact, "Echo", CountingEcho)
    monkeypatch.setattr(CountingEcho, "looked", 0)
    r = Redactor()
    r.add(TOKEN[:100])
    data = line * 20
    stream = RedactingStream(r)
    out = "".join(stream.feed(data[i : i + 16]) for i in range(0, len(data), 16))
    assert out + stream.flush() == r.redact(data)
    looked = (CountingEcho.looked - len(data)) / len(data)  # (less redact's: once)
    assert looked < 4, f"each character searched {looked:.1f} times"


def test_redrawing_inside_a_secret_is_masked_not_between_two():
    # What is drawn between two secrets that touch in the echo (a line
    # end) stays; so does text that only looks like a secret across it.
    r = Redactor()
    r.add("hunter2")
    assert r.redact("hunter2\r\nhunter2\r\n") == f"{MASK}\r\n{MASK}\r\n"
    assert r.redact("hunt\r\nerr2 hunter\x1b[0m") == "hunt\r\nerr2 hunter\x1b[0m"
    assert r.redact("\x1b[1mhunt\x1b[0mer2\r\n") == f"\x1b[1m{MASK}\r\n"


def test_a_secret_with_control_characters_is_masked_as_the_terminal_echoes_it():
    # A pty echoes control characters as ^X (ECHOCTL): 'ab^AcdSECRETxyz'
    # was not recognised in the transcript.
    r = Redactor()
    r.add("ab\x01cdSECRET\x1bxyz\x7f")
    r.add(b"pw\x03!")
    for shown in ("ab^AcdSECRET^[xyz^?", "ab\x01cdSECRET\x1bxyz\x7f", "pw^C!", "pw\x03!"):
        assert r.redact(f"<{shown}>") == f"<{MASK}>", shown
        assert r.redact(f"<{shown}>".encode()) == f"<{MASK}>".encode(), shown
    r = Redactor()
    r.add("tab\there")  # (a tab is echoed as it is)
    assert r.redact("tab^Ihere") == "tab^Ihere"


def test_escape_shows_control_characters():
    assert escape("a\r\n\x1b[0m\x00") == "a\\r\\n\\x1b[0m\\x00"
    assert escape(b"\xff") == "\\xff"


# A terminal where \n and ^U end a line, \r is dropped and ^V escapes.
RULES = CanonicalLine(600, ends=b"\n\x15", dropped=b"\r", literal=b"\x16")


@pytest.mark.parametrize(
    ("data", "pending"),
    [
        (b"a" * 590 + b"\r" * 50 + b"\n" + b"b" * 600, 600),  # \r: not counted
        (b"a" * 500 + b"\x15" + b"b" * 580 + b"\x16", 580),  # ^U ends, a last ^V waits
        (b"a" * 300 + b"\x16\n" + b"b" * 200 + b"\x16\x16\n" + b"c" * 7, 7),
    ],
)
def test_a_line_is_counted_alike_however_the_sends_cut_it(data: bytes, pending: int) -> None:
    """The bytes short sends keep are read by the terminal's rules later,
    escapes and all: any split gives the count one send gives, and no more
    than MIN_CANON bytes go by without them."""
    for label, chunks in splits(data):
        state, asked, since = NO_LINE, 0, 0

        def rules() -> CanonicalLine:
            nonlocal asked
            asked += 1
            return RULES

        for chunk in chunks:
            before = asked
            state = check_line_limit(state, chunk, rules)
            since = 0 if asked > before else since + len(chunk)
            assert since <= MIN_CANON, label
        check_line_limit(state, b"z" * (600 - pending), rules)  # (the line fills up)
        with pytest.raises(ValueError, match="limit of 600"):
            check_line_limit(state, b"z" * (601 - pending), rules)


#: A terminal that marks 0xff (PARMRK): it stores it twice, also escaped.
MARKED = CanonicalLine(600, doubled=b"\xff", literal=b"\x16")


def test_a_marked_byte_counts_twice_wherever_the_send_is_cut() -> None:
    data = b"\xff" * 200 + b"\x16\xff" * 50 + b"\x16a" * 99  # 400 + 100 + 99 bytes
    for label, chunks in splits(data):
        state = NO_LINE
        for chunk in chunks:
            state = check_line_limit(state, chunk, lambda: MARKED)
        check_line_limit(state, b"z\n", lambda: MARKED)  # (the line fills up)
        with pytest.raises(ValueError, match="a line of 601 bytes"):
            check_line_limit(state, b"\xff\n", lambda: MARKED)
        assert check_line_limit(state, b"z", lambda: MARKED)[0] == 600, label


def test_a_line_over_the_limit_is_refused_wherever_the_send_is_cut() -> None:
    data = b"a" * 300 + b"\x16\n" + b"b" * 300 + b"\n"  # one line of 601 bytes
    for _, chunks in splits(data):
        state = NO_LINE
        with pytest.raises(ValueError, match="limit of 600"):
            for chunk in chunks:
                state = check_line_limit(state, chunk, lambda: RULES)


def test_short_sends_ask_the_terminal_nothing() -> None:
    """Up to MIN_CANON bytes no line can be too long: no system call."""

    def rules() -> CanonicalLine:
        raise AssertionError("the terminal was asked")

    state = NO_LINE
    for _ in range(MIN_CANON // 3):
        state = check_line_limit(state, b"ls\n", rules)
    assert check_line_limit(state, b"ls\n", lambda: RULES) == (0, b"")


# -- readline's wraps at the margin (a prompt wider than the terminal) -----------------

#: Ubuntu's colour prompt at 20 columns: wrapped with \r\n\r, then c\rc.
COLOUR_ROWS = (
    "\x1b[01;32muser@vm\x1b[00m:\x1b[01;34m~/dddddddddd\r\n\r"
    "ddddddddddddddddddddd\rdddddddddddddddddddd\x1b[00m\r\n\r# "
)


def test_the_rows_of_a_wrapped_prompt_are_found_above_its_last() -> None:
    text = "\x1b[?2004l\rout\r\n" + COLOUR_ROWS[:-2]
    start = rows_start(text, len(text), "# ", 20)
    assert text[start:].startswith("\x1b[01;32muser@vm")
    assert unwrap(COLOUR_ROWS, 20) == (
        "\x1b[01;32muser@vm\x1b[00m:\x1b[01;34m~/" + "d" * 50 + "\x1b[00m# "
    )


@pytest.mark.parametrize(
    "text",
    [
        "0" * 20 + "\r\n",  # output as wide as the terminal: a line end alone
        "0" * 20 + "\r\n\x1b[?2004h",  # ... then the prompt's modes
        "0" * 19 + "\r\n\r",  # a line end and \r after a row narrower
        "0" * 21 + "\r\n\r",  # ... or wider
    ],
)
def test_output_is_no_row_of_a_prompt(text: str) -> None:
    assert rows_start(text, len(text), "# ", 20) == len(text)


def test_a_line_end_and_return_in_a_prompt_is_a_wrap_only_after_a_full_row() -> None:
    several = "{master:0}\r\n\ruser@r1> "  # (a device that ends lines so)
    assert unwrap(several, 80) == several
    assert unwrap(COLOUR_ROWS) == COLOUR_ROWS.replace("d\rd", "d")  # (no width: no \r\n\r)
