"""The transcript's redaction of a stream where most chunks hold no secret:
such a chunk goes out as it is (``RedactingStream._plain``), and every
chunk that may start, hold or end one, alone or with what came before, is
still searched.  These pin what that short way must not change."""

from __future__ import annotations

import io
import random
import subprocess
import sys

import pytest

from aioexpect._redact import MASK, Redactor
from aioexpect._redact_stream import RedactingStream

from .helpers import opened, wait_until
from .splits import splits

#: Output as a device prints it: no secret, none of its first characters.
PLAIN = "".join(f"item {k} value {300 + k:>6} ok\r\n" for k in range(8))


def _streamed(redactor: Redactor, chunks: list) -> str:
    stream = RedactingStream(redactor)
    return "".join(stream.feed(chunk) for chunk in chunks) + stream.flush()


def _every_cut(text):
    return [(f"cut={i}", [text[:i], text[i:]]) for i in range(1, len(text))]


def test_a_secret_whose_first_character_ends_a_chunk_after_plain_ones_is_masked():
    r = Redactor()
    r.add("hunter2")
    text = f"{PLAIN}pw hunter2 and {PLAIN}then hunter2"
    masked = f"{PLAIN}pw {MASK} and {PLAIN}then {MASK}"
    assert r.redact(text) == masked
    for label, chunks in [*_every_cut(text), *splits(text)]:
        assert _streamed(r, chunks) == masked, label
    # (the first character alone at a chunk's end, the plain chunks before)
    assert _streamed(r, [PLAIN, "pw h", "unter2\r\n", PLAIN]) == f"{PLAIN}pw {MASK}\r\n{PLAIN}"


def test_a_secret_is_found_as_a_terminal_echoes_it_whose_first_character_differs():
    # A control character's echo (ECHOCTL: '^A' for '\x01') starts with
    # '^', which the secret as given does not hold; so does its re.escape
    # form with a backslash.
    r = Redactor()
    r.add("\x01pw9")
    r.add("*key")
    text = f"{PLAIN}login ^Apw9 ok\r\npattern \\*key\r\n"
    masked = f"{PLAIN}login {MASK} ok\r\npattern {MASK}\r\n"
    assert r.redact(text) == masked
    for label, chunks in [*_every_cut(text), *splits(text)]:
        assert _streamed(r, chunks) == masked, label


def test_secrets_are_matched_with_their_case():
    r = Redactor()
    r.add("Hunter2")
    text = f"{PLAIN}hunter2 HUNTER2 Hunter2\r\n"
    for label, chunks in [*_every_cut(text), *splits(text)]:
        assert _streamed(r, chunks) == f"{PLAIN}hunter2 HUNTER2 {MASK}\r\n", label


def test_a_bytes_session_s_secret_cut_inside_its_first_character_is_masked():
    # The decoder holds the first byte of 'ä' while the chunk it ends
    # shows none of the secret: the next chunk completes it.
    r = Redactor()
    r.add("äpw9")
    data = f"{PLAIN}pw äpw9 ok\r\n".encode()
    masked = f"{PLAIN}pw {MASK} ok\r\n"
    for label, chunks in [*_every_cut(data), *splits(data)]:
        assert _streamed(r, chunks) == masked, label


def test_a_secret_added_between_two_chunks_is_masked_in_the_next():
    r = Redactor()
    r.add("other1")
    stream = RedactingStream(r)
    assert stream.feed(PLAIN) == PLAIN
    r.add("hunter2")
    assert stream.feed("pw hunter2 ok") + stream.flush() == f"pw {MASK} ok"


def test_plain_chunks_after_a_secret_on_the_line_still_find_readline_s_copy():
    # After a secret on the line, a row readline draws again repeats its
    # tail ('er2'): a chunk with none of its first characters and no ESC
    # is searched with the line kept.
    r = Redactor()
    r.add("hunter2")
    width = 12
    line = "$ echo hunter2"  # (14 characters: the row 'hunter2' wraps at 12)
    rows = [line[:width], line[width:]]
    text = rows[0] + f"{rows[1][0]}\r{rows[1]}" + " \r\x1b[A" + rows[1] + "\r\nout\r\n$ "
    masked = r.redact(text)
    assert "er2" not in masked.replace(MASK, "")
    for label, chunks in [*_every_cut(text), *splits(text)]:
        assert _streamed(r, chunks) == masked, label


@pytest.mark.parametrize("seed", range(20))
def test_any_split_gives_what_one_chunk_gives(seed):
    # Seeded texts of what the short way must not miss: the secret as it
    # is, cut, in upper case, escaped, echoed (^A), among line ends,
    # readline's redraws (' \r', ESC[A, ESC[K), backspaces and colours;
    # as text and as bytes.
    rng = random.Random(seed)
    alphabet = "abHhnéz2.^\\ \r\n\b\x01\x1b[AK#%"
    for case in range(150):
        r = Redactor()
        secret = "".join(rng.choice("abHhné2.\x01\\z") for _ in range(rng.randint(2, 8)))
        r.add(secret)
        forms = [secret, secret.upper(), secret[1:], "\\" + secret, secret.replace("\x01", "^A")]
        parts = []
        for _ in range(rng.randint(1, 12)):
            k = rng.random()
            if k < 0.35:
                parts.append(rng.choice(forms))
            elif k < 0.55:
                parts.append(rng.choice(["\r\n", "\x1b[A", " \r\x1b[A", "\x1b[K", "\b", " \r"]))
            else:
                parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))))
        text = "".join(parts)
        data = text.encode() if rng.random() < 0.3 else text
        cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 8))))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert _streamed(r, chunks) == _streamed(r, [data]), (seed, case, secret, text, cuts)


async def test_a_session_s_logfile_gets_no_secret_split_after_plain_output():
    log = io.StringIO()
    async with opened(logfile=log, secrets=["hunter2"], timeout=5) as (s, peer):
        for chunk in (PLAIN, "pw h", "unter2 ok\r\n", PLAIN, "$ "):
            await peer.write(chunk.encode())
            await wait_until(lambda n=chunk: s.buffer.endswith(n), "a chunk of its own")
        await s.expect_exact("$ ")
    assert log.getvalue() == f"{PLAIN}pw {MASK} ok\r\n{PLAIN}$ "


@pytest.mark.parametrize("encoding", [None, "utf-8", "latin-1"])
def test_a_secret_sent_key_by_key_between_plain_sends_is_masked(encoding):
    # What is sent goes out as it is when it holds none of the first bytes
    # of the secret's forms; ``ä`` starts it as b"\xc3" in UTF-8 and as
    # b"\xe4" in latin-1, and each of them must hold the key back.
    r = Redactor(encoding)
    r.add("äpfel9")
    raw = "äpfel9".encode(encoding or "utf-8")
    plain = b"show item 1\n"
    masked = plain.decode() + MASK + "\n" + plain.decode()
    for cut in range(1, len(raw)):
        stream = RedactingStream(r, sent=True)
        parts = [plain, raw[:cut], raw[cut:], b"\n", plain]
        shown = b"".join(stream.feed(part) for part in parts) + stream.flush()
        assert shown.decode(encoding or "utf-8") == masked, cut


def test_the_forms_of_a_secret_are_shared_and_forgotten_with_the_last_redactor():
    import gc

    from aioexpect import _redact

    first, second = Redactor("utf-8"), Redactor("utf-8")
    first.add("s3cret-ü")
    second.add("s3cret-ü")
    assert first._kept[0] is second._kept[0]  # (made once for both)
    assert second.redact("pw s3cret-ü") == f"pw {MASK}"
    del first, second
    gc.collect()
    assert not [key for key in list(_redact._FORMS) if "s3cret-ü" in key]


def test_a_str_and_a_bytes_secret_alike_are_told_apart_under_python_b():
    # Their forms were kept by (secret, encoding): "hunter2" and b"hunter2"
    # hash alike, and the look-up compared them, which ``python -bb`` (as a
    # test run may) raises for: adding the second one raised BytesWarning.
    script = (
        "from aioexpect._redact import MASK, Redactor\n"
        "text, raw = Redactor(), Redactor()\n"
        "text.add('hunter2')\n"
        "raw.add(b'hunter2')\n"
        "print(raw.redact(b'pw hunter2') == b'pw ' + MASK.encode(), text.redact('pw hunter2'))\n"
    )
    argv = [sys.executable, "-bb", "-c", script]
    result = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"True pw {MASK}\n"


@pytest.mark.parametrize(
    ("secret", "encoding"),
    [(b"\xff\xfe", "utf-16"), (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32")],
)
def test_a_bytes_secret_that_its_encoding_decodes_to_nothing_is_still_masked(secret, encoding):
    # A byte order mark alone decodes to '' in its own codec: adding it was
    # an IndexError from inside the redactor, and the session's other
    # secrets were never added.
    r = Redactor(encoding)
    r.add(secret)
    r.add("hunter2")
    assert r.redact(b"pw " + secret + b" ok") == b"pw " + MASK.encode() + b" ok"
    assert r.redact("pw hunter2") == f"pw {MASK}"
