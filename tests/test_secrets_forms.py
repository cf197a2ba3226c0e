"""Secrets in the forms aioexpect's own output may hold them: reprs it makes
of what the caller gave (a monitor's callback, a pattern it refuses, a
``Result``'s value or error) masked once made, with bytes in the session's
encoding; a pager prompt's record; and what the transcript holds back of
output that may start a secret's form (a backslash), let out at the end."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import aioexpect
from aioexpect import run_many
from aioexpect._redact import MASK, Redactor
from aioexpect.drivers import Driver

from .helpers import opened, wait_until

SHELL = "spawn:bash --norc --noprofile" if shutil.which("bash") else "spawn:sh"


def _reprs(text: str, times: int) -> str:
    for _ in range(times):
        text = repr(text)
    return text


def _only_masks(shown: str) -> None:
    assert MASK in shown and set(shown.replace(MASK, "")) <= set("'\"\\"), shown


@pytest.mark.parametrize("secret", ["x'y\"z-9", "tab\there", "pa'ss\\w\x01"])
def test_a_secret_is_masked_in_three_reprs_in_a_row(secret):
    # Two were masked; the third (a Result's repr of a job's error that
    # quotes another's repr, itself quoting the password) showed a secret
    # holding both quotes or a control character in clear.
    r = Redactor("utf-8")
    r.add(secret)
    for times in (1, 2, 3):
        shown = r.redact(_reprs(secret, times))
        assert MASK in shown, (times, shown)
        assert set(shown.replace(MASK, "")) <= set("'\"\\"), (times, shown)  # (quotes left)


async def test_a_result_s_repr_masks_a_password_three_reprs_deep():
    # RuntimeError(f"...{inner!r}") of ValueError(f"...{pw!r}"): the
    # Result's repr of it is the third repr; bytes of its UTF-8 likewise.
    async def job(session, host, pw, raw):
        session.add_secret(pw)
        try:
            raise ValueError(f"rejected {pw!r} or {pw.encode() if raw else pw!r}")
        except ValueError as inner:
            raise RuntimeError(f"login step failed: {inner!r}") from None

    for pw, raw in [("x'y\"z-9", False), ("tab\there", False), ("Pässwörd", True)]:
        [result] = await run_many([SHELL], functools.partial(job, pw=pw, raw=raw))
        shown = repr(result)
        assert shown.count(MASK) == 2, shown
        assert "xc3" not in shown and "ere" not in shown and "z-9" not in shown, shown


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
async def test_a_password_s_bytes_in_the_session_s_encoding_are_masked_in_reprs(caplog, encoding):
    # Only the bytes of its UTF-8 were: a monitor's callback given the
    # password as the session sends it (b'p\xe4ssw\xf6rd'), and a pattern
    # refused that held it, showed it in clear in a latin-1 session.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    password = "pässwörd€"[: 8 if encoding == "latin-1" else 9]
    raw = password.encode(encoding)

    def answer(session, match, pw):
        raise RuntimeError("cannot answer")

    async with opened(encoding=encoding, timeout=5) as (s, peer):
        s.add_secret(password)
        s.add_monitor("trigger", functools.partial(answer, pw=raw))
        await peer.write(b"trigger\n")
        await s.expect_exact("trigger\n")
        await wait_until(lambda: "failed" in caplog.text, "the callback fails")
        with pytest.raises(TypeError, match="unsupported pattern") as refused:
            await s.expect([[raw]])
    assert repr(raw)[2:-1] not in caplog.text
    assert f"pw=b'{MASK}'" in caplog.text
    assert str(refused.value).startswith(f"unsupported pattern [b'{MASK}']")


async def test_a_pager_prompt_s_record_masks_a_secret(caplog):
    # The record quoted the pager prompt as it came.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    pagey = Driver("pagey", prompt_patterns=[r"^dev> \Z"], pager_patterns=[r"<more \w+> \Z"])
    async with opened(driver=pagey, timeout=5) as (s, peer):
        s.add_secret("s3cr3t")
        task = asyncio.ensure_future(s.expect_prompt())
        await peer.write(b"one\r\n<more s3cr3t> ")
        assert await peer.read() == b" "
        await peer.write(b"\r\ndev> ")
        await task
    pager = [r.getMessage() for r in caplog.records if "pager" in r.getMessage()]
    assert pager == [f"answering pager prompt '<more {MASK}> '"]
    assert "s3cr3t" not in caplog.text


@pytest.mark.parametrize("secret", ["'quoted", "\x01ctl", "ébc", "*star"])
@pytest.mark.parametrize("end", ["eof", "close"])
async def test_a_backslash_held_as_a_secret_s_start_reaches_the_logfile_at_the_end(secret, end):
    # A form of each secret starts with a backslash (repr's \', \x01 or
    # \xc3; re.escape's \*), so a backslash that ends what came is held
    # back until the next chunk shows it is none; at the end of the
    # session it goes out: nothing of the transcript is lost.
    log = io.StringIO()
    async with opened(logfile=log, secrets=[secret], timeout=5) as (s, peer):
        await peer.write(b"C:\\")
        await s.expect_exact("C:\\")
        assert log.getvalue() == "C:"  # (held: it may start a secret's form)
        if end == "eof":
            await peer.close()
            await s.expect(aioexpect.EOF)
            assert log.getvalue() == "C:\\"
    assert log.getvalue() == "C:\\"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
async def test_an_ordinary_password_holds_back_no_backslash_in_a_session_writing_a_byte_mark(
    encoding,
):
    # Its bytes as str.encode writes them start with a byte order mark
    # (b'\xff\xfeh\x00...'): their repr, a form of hunter2, started with the
    # mark's backslash, so a C:\ that ended a read was held back until the
    # next.  Those bytes are masked still, by the bytes after the mark.
    log = io.StringIO()
    async with opened(logfile=log, encoding=encoding, secrets=["hunter2"], timeout=5) as (s, peer):
        await peer.write("C:\\".encode(encoding))
        await s.expect_exact("C:\\")
        assert log.getvalue() == "C:\\"
    r = Redactor(encoding)
    r.add("hunter2")
    raw = "hunter2".encode(encoding)
    for times in (1, 2, 3):
        shown = r.redact(_reprs(repr(raw), times - 1))
        assert MASK in shown and "h" not in shown.replace(MASK, ""), (times, shown)


async def test_what_only_starts_a_secret_s_third_repr_is_neither_held_back_nor_looked_for(caplog):
    # The transcript and the send records looked for the secret three reprs
    # deep too, which only a repr aioexpect makes holds (a Result's): eight
    # more forms of q'w"8, each looked for in every chunk holding a q (a
    # fourth more a round trip), and what ended a read or a send as the
    # start of one (a q and four backslashes) was held back until the next.
    # Those reprs are masked still.
    secret, start = "q'w\"8", "dir q" + "\\" * 4
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    log = io.StringIO()
    async with opened(logfile=log, secrets=[secret], timeout=5) as (s, peer):
        await s.send(start)
        await peer.write(start.encode())
        await s.expect_exact(start)
        assert log.getvalue() == start
        sent = [r.getMessage() for r in caplog.records if r.getMessage().startswith("send")]
        assert sent == [f"send {start}"]
        _only_masks(s.redact(_reprs(secret, 3)))


def test_a_secret_s_escaped_forms_are_made_when_first_masked_and_once_for_all_sessions():
    from aioexpect import _redact

    secret, other = "v'w\"7", "x'y\"6"
    first, second = Redactor("utf-8"), Redactor("utf-8")
    first.add(secret)
    second.add(secret)
    assert first._kept[0].escaped is None  # (nothing made for the transcript)
    third = _reprs(secret, 3)
    assert not [needle for needle in first._needles(third) if needle in third]
    _only_masks(first.redact(third))
    _only_masks(second.redact(third))
    assert first._escaped[1][0] is second._escaped[1][0] is first._kept[0].escaped[0][0]
    first.add(other)  # (added later: looked for escaped too)
    _only_masks(first.redact(_reprs(other, 3)))
    assert _redact._FORMS[(str, secret, "utf-8")] is first._kept[0]


def test_a_first_redact_cut_short_leaves_later_ones_masking_every_secret(monkeypatch):
    # The third repr's forms went into a redactor set before they were made:
    # Ctrl-C then (a Result's repr printed) left it empty, and every later
    # redact showed each secret in clear, hunter2 too.  So with the escaped
    # forms' patterns, made where a text holds a backslash: cut short while
    # making the second secret's (the first's made).
    from aioexpect import _redact_escaped

    made = _redact_escaped.escaped_form
    calls = []

    def cut_short(form, *args):
        calls.append(form)
        if "5" in str(form) and calls.count(form) == 1:
            raise KeyboardInterrupt
        return made(form, *args)

    # Secrets of this test alone: a secret's forms are made once per process
    # and shared, so those of one another test masked first are not made here.
    first, second = "hunter-cut-short", "q'w\"5-cut-short"
    monkeypatch.setattr(_redact_escaped, "escaped_form", cut_short)
    r = Redactor("utf-8")
    r.add(first)
    r.add(second)
    with pytest.raises(KeyboardInterrupt):
        r.redact("C:\\")
    assert first in calls  # (the first secret's made, the second's begun)
    assert r.redact(f"{first} and {second}") == f"{MASK} and {MASK}"
    _only_masks(r.redact(_reprs(second, 3)))


def test_a_redact_while_another_thread_makes_the_third_repr_s_forms_masks_all(monkeypatch):
    # A session's redact in two threads at once (a Result's repr, a record
    # formatted by a handler's thread): the one that came second found the
    # forms being made and, taking those made so far, masked nothing.
    r = Redactor("utf-8")
    r.add("hunter2")
    r.add("v'w\"7")
    with _another_thread_making_the_forms(monkeypatch, r):
        assert r.redact("C:\\ login hunter2") == f"C:\\ login {MASK}"
        _only_masks(r.redact(_reprs("v'w\"7", 3)))  # (not the patterns made so far)
    r.add("q'w\"5")  # (added after: masked by the next redact, in either thread)
    assert r.redact("hunter2 q'w\"5") == f"{MASK} {MASK}"


def test_a_secret_added_while_another_thread_makes_the_escaped_forms_is_masked(monkeypatch):
    # The patterns made were counted as of the secrets held when done, not
    # when begun: one added meanwhile (add_secret in the loop's thread, a
    # Result's repr in another) was counted as made, never made, and shown
    # three reprs deep by every later redact.
    r = Redactor("utf-8")
    r.add("v'w\"7")
    with _another_thread_making_the_forms(monkeypatch, r):
        r.add("q'w\"5")
    _only_masks(r.redact(_reprs("q'w\"5", 3)))
    _only_masks(r.redact(_reprs("v'w\"7", 3)))


@contextlib.contextmanager
def _another_thread_making_the_forms(monkeypatch: Any, r: Redactor) -> Iterator[None]:
    """Another thread's ``r.redact`` (of a text with a backslash) held inside
    its making of the escaped forms for the block; it ends after it."""
    from aioexpect import _redact

    made = _redact._escaped_forms
    inside, done = threading.Event(), threading.Event()

    def held(forms: Any) -> Any:
        if threading.current_thread() is other and not inside.is_set():
            inside.set()
            done.wait(10)
        return made(forms)

    monkeypatch.setattr(_redact, "_escaped_forms", held)
    other = threading.Thread(target=r.redact, args=("C:\\",))
    other.start()
    try:
        assert inside.wait(10)
        yield
    finally:
        done.set()
        other.join(10)
    assert not other.is_alive()
