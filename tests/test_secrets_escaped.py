"""Secrets escaped any number of times, in what aioexpect masks once made
(a ``Result``'s repr, run_many's failure record, a ``Match``'s repr, a
monitor's failure record, ``redact``): ``repr`` four times and more, as
``ascii`` and JSON write them, and mixes of those (a repr's UTF-8 bytes
repr'd).  Three reprs were the deepest masked, and neither ``ascii``'s
``\\xe9``/``\\u20ac`` nor JSON's ``\\u00e9`` or ``\\"`` ever."""

from __future__ import annotations

import functools
import json
import logging
import re
import shutil

import pytest

from aioexpect import run_many
from aioexpect._redact import MASK, Redactor

from .helpers import opened, wait_until

SHELL = "spawn:bash --norc --noprofile" if shutil.which("bash") else "spawn:sh"


def _reprs(text: str, times: int, write=repr) -> str:
    for _ in range(times):
        text = write(text)
    return text


def _utf8_repr(text: str) -> str:
    return repr(text.encode())


def _only_masks(shown: str) -> None:
    """Nothing of the secret is left: masks, and the quotes and backslashes
    around them (and the b of a bytes repr)."""
    rest = re.sub("b(?=['\"])", "", shown.replace(MASK, ""))
    assert MASK in shown and set(rest) <= set("'\"\\"), shown


@pytest.mark.parametrize(
    ("secret", "escaped"),
    [
        ("x'y\"z-9", _reprs("x'y\"z-9", 4)),
        ("tab\there", _reprs("tab\there", 5)),
        ("pa'ss\\w\x01", _reprs("pa'ss\\w\x01", 7)),
        ("Pässwörd", ascii("Pässwörd")),
        ("€uro😀pw", ascii("€uro😀pw")),
        ("€uro😀pw", _reprs("€uro😀pw", 3, ascii)),
        ("Pässwörd", json.dumps("Pässwörd")),
        ("€uro😀pw", json.dumps("€uro😀pw")),  # (a surrogate pair: \ud83d\ude00)
        ('qu"o\\te', json.dumps('qu"o\\te')),
        ("Pä'ss", repr(json.dumps("Pä'ss"))),
        ("\u200bä'ss", _utf8_repr(repr("\u200bä'ss"))),  # (\u200b, then ä as \xc3\xa4)
    ],
)
def test_a_secret_escaped_any_number_of_times_is_masked(secret, escaped):
    r = Redactor("utf-8")
    r.add(secret)
    _only_masks(r.redact(escaped))
    _only_masks(r.redact(escaped.encode()).decode())  # (as bytes too)


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_secret_s_bytes_in_the_session_s_encoding_are_masked_at_any_depth(encoding):
    # A job's error quoting (!r) another's that quoted (!r) the password as
    # the session sends it: b'p\xe4ss' four reprs deep, in a latin-1 session.
    r = Redactor(encoding)
    r.add("päss'wörd")
    _only_masks(r.redact(_reprs(repr("päss'wörd".encode(encoding)), 3)))


async def _job(session, host, pw, how):
    session.add_secret(pw)
    if how == "retried":  # (each try's error kept, the list of them quoted)
        errors = []
        for _ in range(2):
            try:
                raise ValueError(f"device rejected {pw!r}")
            except ValueError as inner:
                errors.append(RuntimeError(f"login step failed: {inner!r}"))
        raise RuntimeError(f"giving up after 2 tries: {errors!r}")
    if how == "json":
        raise RuntimeError(f"POST /api/login {json.dumps({'pw': pw})} -> 401")
    raise RuntimeError(f"login refused for {pw!a}")


@pytest.mark.parametrize(
    ("pw", "how", "parts"),
    [
        ("x'y\"z-9", "retried", ["z-9"]),
        ("Pässwörd", "json", ["ssw", "u00e4"]),
        ('qu"ote-7', "json", ["ote-7"]),
        ("€uro-pw", "ascii", ["uro-pw", "u20ac"]),
    ],
)
async def test_a_result_and_run_many_s_record_mask_a_password_escaped_by_the_job(
    caplog, pw, how, parts
):
    # The Result's repr is one repr more than the job's error: four for
    # errors kept and quoted by a retry (repr of a list of errors quoting
    # errors quoting the password); JSON's and ascii's forms at any depth.
    caplog.set_level(logging.INFO, logger="aioexpect")
    [result] = await run_many([SHELL], functools.partial(_job, pw=pw, how=how))
    shown = repr(result)
    record = next(r.getMessage() for r in caplog.records if "failed after" in r.getMessage())
    for text in (shown, record):
        assert MASK in text and not [part for part in parts if part in text], text


async def test_a_match_s_repr_masks_a_password_a_device_shows_in_json():
    # A device (or an API behind it) that prints what it was sent as JSON:
    # the Match's repr quoted "P\u00e4ssw\u00f6rd" in clear.
    async with opened(timeout=5) as (s, peer):
        s.add_secret("Pässwörd")
        await peer.write(json.dumps({"password": "Pässwörd"}).encode() + b"\n")
        match = await s.expect_exact("}")
    assert (
        repr(match)
        == "Match(index=0, pattern='}', before='{\"password\": \"********\"', after='}')"
    )


async def test_a_monitor_s_failure_record_masks_a_password_its_callback_quotes_with_ascii(caplog):
    caplog.set_level(logging.DEBUG, logger="aioexpect")

    def answer(session, match):
        raise RuntimeError(f"cannot answer with {'Pässwörd'!a}")

    async with opened(timeout=5) as (s, peer):
        s.add_secret("Pässwörd")
        s.add_monitor("trigger", answer)
        await peer.write(b"trigger\n")
        await s.expect_exact("trigger\n")
        await wait_until(lambda: "failed" in caplog.text, "the callback fails")
    assert "xe4" not in caplog.text and "xf6rd" not in caplog.text
    assert f"cannot answer with '{MASK}'" in caplog.text


def test_what_escaping_leaves_as_it_was_is_masked_as_before():
    # An escaped form holds a backslash: where none is, nothing changes;
    # nor do the backslashes before a secret not escaped (a path), nor a
    # one-letter secret's masks (every occurrence, as before).
    r = Redactor("utf-8")
    r.add("hunter2")
    assert r.redact("C:\\Users\\hunter2\\x") == f"C:\\Users\\{MASK}\\x"
    assert r.redact("hunter2 and hunter2") == f"{MASK} and {MASK}"
    one = Redactor("utf-8")
    one.add("x")
    assert one.redact("max \\x78") == f"ma{MASK} \\{MASK}78"


def test_a_secret_sixteen_reprs_deep_is_masked_as_one_stretch():
    # Its backslash is a run of 65,536 there: one stretch of a match, which
    # starts at the run's start (not again at each backslash of it).
    r = Redactor("utf-8")
    r.add("a\\b")
    deep = _reprs("a\\b", 16)
    assert "a" + "\\" * 65536 + "b" in deep
    _only_masks(r.redact(deep))
    assert r.redact("\\" * 100_000 + "c") == "\\" * 100_000 + "c"


def test_a_long_secret_s_first_character_costs_no_look_for_a_backslash_to_come():
    # Each occurrence of a 30 KB key's first character looked ahead up to
    # 30,000 characters for a backslash (the pattern's way to leave the key
    # as it is to the fixed forms): 20 MB of it before the one backslash
    # cost minutes, where main's forms took a fraction of a second.
    key = "k" + "".join(chr(0x41 + (i * 7919) % 26) + str(i % 10) for i in range(15_000))[1:]
    r = Redactor("utf-8")
    r.add(key)
    text = "k" * 20_000_000 + "\\ " + _reprs(key + "'", 2)
    shown = r.redact(text)
    assert shown[:20_000_002] == text[:20_000_002]
    _only_masks(shown[20_000_002:])


def _readline_at_margin(width: int, typed: str) -> str:
    """bash's echo of ``typed`` after ``$ `` where the line ends at the
    margin: each wrap the next character, ``\\r`` and it again; then
    ``" \\r"``, a move up and the last row drawn again, the line end."""
    line = "$ " + typed
    assert len(line) % width == 0 and len(line) > width
    rows = [line[i : i + width] for i in range(0, len(line), width)]
    echo = rows[0] + "".join(f"{row[0]}\r{row}" for row in rows[1:]) + " \r\x1b[A"
    return f"{echo}{rows[-1][:-1]}\x1b[K{rows[-1][-1]}\r\n"


@pytest.mark.parametrize(
    ("secret", "escaped", "letters"),
    [
        ("q'w\"5", _reprs("q'w\"5", 3), "qw5"),
        ("Pässwörd", ascii("Pässwörd"), "Psword4f6"),
    ],
)
def test_a_row_readline_draws_again_shows_no_part_of_an_escaped_secret(secret, escaped, letters):
    # The form across the wrap was masked, but not the copy of its part on
    # the last row, which readline draws again: w"5 of q'w"5 three reprs
    # deep showed there (masked by main's forms of the third repr).
    r = Redactor("utf-8")
    r.add(secret)
    for on_first in range(1, len(escaped)):
        typed = "echo " + "a" * (33 - on_first) + escaped + "z" * (40 - len(escaped) + on_first)
        shown = r.redact(_readline_at_margin(40, typed))
        copy = shown.split("\x1b[A")[1]
        assert MASK in shown and not set(copy.replace(MASK, "")) & set(letters), (on_first, shown)
