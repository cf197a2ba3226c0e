"""run_many, Host/Account/Result and expect_any.

expect_any runs over in-memory transports (a peer we write to); run_many over
real children in a pty and emulated devices on 127.0.0.1 (port 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import gc
import inspect
import json
import logging
import math
import os
import pickle
import random
import re
import shutil
import tracemalloc
import warnings
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import aioexpect
from aioexpect import (
    EOF,
    TIMEOUT,
    Account,
    BusyError,
    ConnectError,
    ExpectEOF,
    ExpectTimeout,
    Host,
    Result,
    Session,
    SpawnError,
    expect_any,
    run_many,
)
from aioexpect._many import _plan
from aioexpect._many_logs import log_names
from aioexpect._session import live_sessions
from aioexpect.testing import VirtualDevice, memory_pair, serve_telnet

from .helpers import refused_port, silent_server, still_waiting, wait_until

SHELL = "spawn:bash --norc --noprofile" if shutil.which("bash") else "spawn:sh"


# -- the value types -------------------------------------------------------------------


def test_account_and_host_repr_hide_the_password() -> None:
    account = Account("admin", "s3cret-pw")
    host = Host("ssh://bob:url-pw@10.0.0.1:2222", account)
    assert "s3cret-pw" not in repr(account) and "********" in repr(account)
    assert "url-pw" not in repr(host) and "s3cret-pw" not in repr(host)
    result = Result("telnet://u:other-pw@h", ok=False, error=ValueError("x"))
    assert "other-pw" not in repr(result)
    assert "bob" in repr(host) and "admin" in repr(account)


def test_a_host_whose_password_holds_slashes_is_shown_masked() -> None:
    # A target with no scheme, its password '//s3cret': 'admin' is no scheme
    # aioexpect reads, so nothing after its ':' is shown (it was, in clear).
    host = Host("admin://s3cret@127.0.0.1:1")
    assert repr(host) == "Host(url='admin:********@127.0.0.1:1', account=None)"


def test_a_result_shows_a_host_target_as_its_repr_not_a_string() -> None:
    # A Host target was quoted as if it were a string:
    # Result(host="Host(url='ssh://10.0.0.1', ...)", ok=True, ...).
    host = Host("ssh://10.0.0.1", Account("admin", "s3cret-pw"))
    shown = repr(Result(host, ok=True, value=1))
    assert shown.startswith(f"Result(host={host!r}, ok=True, value=1,"), shown
    assert "Host(url='ssh://10.0.0.1', account=Account(username='admin'" in shown, shown
    assert "s3cret-pw" not in shown
    shown = repr(Result("ssh://u:url-pw@h", ok=True))
    assert shown.startswith("Result(host='ssh://u:********@h', ok=True,"), shown


@pytest.mark.parametrize(
    ("url", "what", "shown"),
    [
        ("telnet://admin:s3cr%E9t@127.0.0.1:1", "password", "telnet://admin:********@127.0.0.1:1"),
        ("ssh://admin:s3cr%FFt@127.0.0.1:1", "password", "ssh://admin:********@127.0.0.1:1"),
        ("telnet://j%F6rg@127.0.0.1:1", "user name", "telnet://j%F6rg@127.0.0.1:1"),
    ],
)
async def test_a_percent_escape_that_is_not_utf8_in_credentials_is_refused(
    url: str, what: str, shown: str
) -> None:
    """``%E9`` and ``%FF`` were each decoded as U+FFFD, silently: another
    password (or user name) than the one meant was sent, and a device whose
    password held U+FFFD took both.  Refused, the password not shown."""

    async def job(session: Session, host: object) -> None:
        raise AssertionError("no host is opened")

    for attempt in (lambda: aioexpect.connect(url), lambda: run_many([url], job)):
        with pytest.raises(ValueError) as info:
            await attempt()  # type: ignore[operator]
        error = info.value
        assert str(error).startswith(f"the {what} of {shown!r} holds a %-escape that is not UTF-8")
        for exc in (error, error.__context__, error.__cause__):
            said = "" if exc is None else f"{exc!s} {exc!r} {exc.args!r}"
            for secret in ("s3cr", "\ufffd", "\xe9", "\xff", "\\xe9", "\\xff"):
                assert secret not in said, said
        assert error.__context__ is None and error.__cause__ is None
    # UTF-8 escapes are decoded as before
    assert _plan("telnet://j%C3%B6rg:s3cr%C3%A9t@h").password == "s3cr\u00e9t"
    assert _plan("telnet://j%C3%B6rg:s3cr%C3%A9t@h").username == "j\u00f6rg"


def test_value_types_are_frozen_and_checked() -> None:
    with pytest.raises(AttributeError):
        Host("h").url = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Result("h", True).ok = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        Account("")
    with pytest.raises(TypeError):
        Host(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Host("h", ("u", "p"))  # type: ignore[arg-type]


def test_plan_merges_url_and_account_credentials() -> None:
    plan = _plan(Host("ssh://10.0.0.1:2222", Account("admin", "pw", key="id_ed25519")))
    assert (plan.kind, plan.host, plan.port) == ("ssh", "10.0.0.1", 2222)
    assert (plan.username, plan.password, plan.key) == ("admin", "pw", "id_ed25519")
    # The URL's credentials win; the account applies only to the user it names.
    plan = _plan(Host("telnet://bob:b%40b@h", Account("admin", "pw")))
    assert (plan.username, plan.password, plan.key, plan.port) == ("bob", "b@b", None, 23)
    plan = _plan(Host("ssh://admin@h", Account("admin", "pw")))
    assert (plan.username, plan.password) == ("admin", "pw")
    assert plan.logs_in is False and _plan("telnet://u:p@h").logs_in is True
    assert _plan("telnet://h").logs_in is False


def test_plan_accepts_bare_hosts_and_spawn_urls() -> None:
    assert _plan("router1").label == "router1:22"
    assert _plan("router1:2200").port == 2200
    assert _plan("ssh").label == "ssh:22"  # a host named as a scheme is, with no ':'
    assert _plan("ssh://[::1]:2222").label == "[::1]:2222"
    plan = _plan("spawn:python3 -c 'print(1)'")
    assert plan.kind == "spawn" and plan.argv == ("python3", "-c", "print(1)")


@pytest.mark.parametrize(
    ("target", "error", "text"),
    [
        ("ftp://u:hidden@h", ValueError, "unsupported URL scheme"),
        ("ssh://h:99999", ValueError, "bad port"),
        ("ssh://h/path", ValueError, "no path"),
        ("spawn:", ValueError, "no command"),
        (("h",), TypeError, "URL string or a Host"),
        ("ssh://u:hid#den@h", ValueError, "percent-encode"),
        ("\ufefftelnet://u:hidden@h", ValueError, r"'\\ufefftelnet:\*+@h' does not parse"),
        ("telnet//u:hidden@h", ValueError, "percent-encode"),
        # a scheme without its '//' is not a scheme-less target's user name
        ("telnet:u:hidden@h", ValueError, "has no '//' after 'telnet:'"),
        ("SSH:u:hidden@h:2222", ValueError, r"write 'ssh://u:\*+@h:2222'"),
    ],
)
def test_plan_rejects_bad_targets(target: Any, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text) as info:
        _plan(target)
    assert "hidden" not in str(info.value) and "hid#den" not in str(info.value)


def test_log_names_follow_host_and_port_and_stay_unique() -> None:
    plans = [_plan(t) for t in ("ssh://127.0.0.1:2222", "telnet://u:p@127.0.0.1:2222",
                                "ssh://[::1]:22", "spawn:bash --norc")]  # fmt: skip
    assert log_names(plans) == [
        "127.0.0.1_2222.log",
        "127.0.0.1_2222-2.log",
        "_1_22.log",
        "spawn_bash_--norc.log",
    ]


@pytest.mark.parametrize(
    ("targets", "names"),
    [
        # a suffix is never another target's own name, wherever that target comes
        (["spawn:sh", "spawn:sh", "spawn:sh-2"], ["spawn_sh", "spawn_sh-3", "spawn_sh-2"]),
        (["spawn:sh-2", "spawn:sh", "spawn:sh"], ["spawn_sh-2", "spawn_sh", "spawn_sh-3"]),
        (["spawn:sh", "spawn:sh", "spawn:sh-2", "spawn:sh-2"],
         ["spawn_sh", "spawn_sh-3", "spawn_sh-2", "spawn_sh-2-2"]),
        # nor one chosen earlier
        (["spawn:sh", "spawn:sh-2", "spawn:sh-2", "spawn:sh", "spawn:sh"],
         ["spawn_sh", "spawn_sh-2", "spawn_sh-2-2", "spawn_sh-3", "spawn_sh-4"]),
        # one file on a file system that ignores case (macOS, Windows)
        (["spawn:Sh", "spawn:sh", "spawn:sh-2", "spawn:SH-3"],
         ["spawn_Sh", "spawn_sh-4", "spawn_sh-2", "spawn_SH-3"]),
    ],
)  # fmt: skip
def test_log_names_never_collide(targets: list[str], names: list[str]) -> None:
    assert log_names([_plan(t) for t in targets]) == [name + ".log" for name in names]


def test_log_names_are_unique_ignoring_case_in_seeded_random_inventories() -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    words = ["sh", "Sh", "sh-2", "SH-2", "sh-3", "sh-2-2", "sh-1", "sh-02"]
    for _ in range(200):
        targets = [f"spawn:{rng.choice(words)}" for _ in range(rng.randrange(1, 12))]
        names = log_names([_plan(t) for t in targets])
        assert len({n.casefold() for n in names}) == len(names), (seed, targets, names)
        seen = set()
        for target, name in zip(targets, names, strict=True):  # the first keeps its own name
            if target.casefold() not in seen:
                assert name == f"spawn_{target.removeprefix('spawn:')}.log", (seed, targets)
            seen.add(target.casefold())


# -- run_many: arguments ----------------------------------------------------------------


async def _noop(session: Session, host: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"concurrency": 0}, ValueError, "concurrency"),
        ({"concurrency": 1.5}, ValueError, "concurrency"),
        ({"timeout": -1}, ValueError, "timeout"),
        ({"timeout": "5"}, TypeError, "timeout"),
        ({"username": "u"}, ValueError, "Account"),
        ({"password": "p"}, ValueError, "Account"),
        ({"logfile": "x.log"}, ValueError, "logdir"),
        ({"session_timout": 1}, TypeError, "unknown option.*session_timout"),
        ({"driver": "iso"}, ValueError, "unknown driver 'iso'"),
        ({"encoding": None}, ValueError, "encoding=None"),
        ({"timeout": float("nan")}, ValueError, "timeout must be positive"),
        ({"session_timeout": float("nan")}, ValueError, "timeout must be"),
        ({"max_buffer": 0}, ValueError, "max_buffer"),
        ({"known_hosts": "/no/kh"}, ValueError, "known_hosts: ./no/kh.: no such file"),
        ({"encoding": "rot13"}, ValueError, "not a text encoding"),
    ],
)
async def test_run_many_rejects_misuse_before_opening(
    kwargs: dict[str, Any], error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text):
        await run_many(["spawn:true"], _noop, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"dimensions": (0, 80)}, ValueError, r"dimensions must be \(rows, cols\)"),
        ({"dimensions": "24x80"}, ValueError, r"dimensions must be \(rows, cols\)"),
        ({"on_result": 3}, TypeError, "on_result must be a function or None, not 3"),
        ({"keepalive_interval": "x"}, ValueError, "keepalive_interval"),
        ({"window": 0}, ValueError, "window must be an int from 1"),
        ({"request_pty": "no"}, ValueError, "request_pty"),
        ({"request_pty": 1}, TypeError, "request_pty"),
    ],
)
async def test_run_many_refuses_a_value_every_host_would_refuse_before_opening(
    kwargs: dict[str, Any], error: type[Exception], text: str
) -> None:
    # Each was found only once a host ran: dimensions= failed every host
    # alike (each Result a ValueError, from every opener), and on_result=3
    # let the first host be opened and its job run, then broke the run with
    # a bare "'int' object is not callable"; a bad value of an asyncssh
    # option (connect_ssh refuses it when called) failed each SSH host
    # alike, after the spawn host's job had run.
    opened: list[Any] = []
    with pytest.raises(error, match=text):
        await run_many(["spawn:true", "ssh://127.0.0.1:1"], lambda s, h: opened.append(h), **kwargs)
    assert opened == []


async def test_run_many_refuses_a_known_hosts_of_a_wrong_type_before_opening() -> None:
    # It failed each SSH host alike, after connecting, with asyncssh's bare
    # "'int' object is not subscriptable".
    opened: list[Any] = []
    for known_hosts, error in ((12, TypeError), (([], []), ValueError)):
        with pytest.raises(error, match="known_hosts"):
            await run_many(
                ["spawn:true", "ssh://127.0.0.1:1"],
                lambda s, h: opened.append(h),
                known_hosts=known_hosts,
            )
    assert opened == []


async def test_an_account_key_of_a_wrong_type_is_a_type_error() -> None:
    # Before: taken, then each SSH host using it failed with an
    # AttributeError from inside asyncssh ("'int' object has no attribute
    # 'public_data'"); a list of keys (Account takes one) the same.
    text = r"Account key: a key is a file name, key data \(bytes\), an asyncssh key"
    for key in (3, ["/a/key"]):
        with pytest.raises(TypeError, match=text):
            Account("lab", key=key)


async def test_run_many_refuses_an_account_key_file_that_is_not_there_before_opening(
    tmp_path: Path,
) -> None:
    # Only client_keys= was checked up front: a typo in an Account's key
    # failed every SSH host that used it with a bare ValueError naming
    # client_keys, which retry recipes testing for ConnectError skipped.
    lab = Account("lab", key=str(tmp_path / "lab_ed25519"))
    opened: list[Any] = []
    targets = ["spawn:true", Host("ssh://127.0.0.1:1", lab)]
    with pytest.raises(ValueError, match=r"127\.0\.0\.1:1: the account's key: .*: no such file"):
        await run_many(targets, lambda session, host: opened.append(host))
    assert opened == []  # (not even the spawn: nothing opened)
    telnet = Host("telnet://127.0.0.1:1", lab)  # (no key over telnet: not checked)
    [result] = await run_many([telnet], _noop, session_timeout=5)
    assert isinstance(result.error, aioexpect.ConnectError)


WITHOUT_ASYNCSSH = """
import asyncio, sys
sys.modules["asyncssh"] = None  # what a broken install looks like to import
import aioexpect

async def main():
    async def job(s, host):
        return await s.execute("echo local")
    for option in ("sesion_timeout", "keepalive_interval"):  # a typo; asyncssh's own
        try:
            await aioexpect.run_many(["spawn:sh"], job, **{option: 1})
        except TypeError as exc:
            print("TypeError:", exc)
    [result] = await aioexpect.run_many(["spawn:sh"], job)
    print("local:", str(result.value or result.error).strip())

asyncio.run(main())
"""


def test_run_many_without_asyncssh_names_options_and_why_and_runs_local_hosts() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", WITHOUT_ASYNCSSH],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    why = "(asyncssh, which has options of its own, fails to import: import of asyncssh halted;"
    said = "TypeError: run_many got unknown option(s):"
    assert out.stdout.splitlines() == [
        f"{said} sesion_timeout {why} None in sys.modules)",
        f"{said} keepalive_interval {why} None in sys.modules)",
        "local: local",
    ], out.stdout + out.stderr[-2000:]


async def test_run_many_driver_auto() -> None:
    async def job(s: Session, host: Any) -> str:
        return await s.execute("echo auto")

    (result,) = await run_many(["spawn:bash --norc --noprofile"], job, driver="auto", timeout=10)
    assert result.ok and result.value == "auto\n", result.error


async def test_run_many_refuses_a_scheme_without_its_slashes_before_dialling() -> None:
    from aioexpect.testing import serve_ssh

    # A device that admits what the '//'-less URL was taken for: SSH as user
    # "telnet" with password "admin:s3cret" (the job ran, "you are telnet").
    device = VirtualDevice("r1", login=("telnet", "admin:s3cret"), commands={"whoami": "telnet"})
    ran: list[Any] = []

    async def job(session: Session, host: Any) -> None:
        ran.append(await session.execute("whoami"))

    async with serve_ssh(device) as server:
        url = f"telnet:admin:s3cret@127.0.0.1:{server.port}"
        with pytest.raises(ValueError, match="has no '//' after 'telnet:'") as info:
            await run_many([SHELL, url], job, known_hosts=server.known_hosts, on_result=ran.append)
    assert f"write 'telnet://admin:********@127.0.0.1:{server.port}'" in str(info.value)
    assert "s3cret" not in str(info.value) and ran == []


async def test_run_many_checks_every_target_first() -> None:
    with pytest.raises(ValueError, match="unsupported URL scheme"):
        await run_many([SHELL, "gopher://h"], _noop)
    with pytest.raises(TypeError, match="list of URLs"):
        await run_many("ssh://h", _noop)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="job"):
        await run_many([SHELL], None)  # type: ignore[arg-type]
    assert await run_many([], _noop) == []


# -- expect_any -------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def memory_sessions(n: int, **options: Any) -> AsyncIterator[list[tuple[Session, Any]]]:
    """``n`` sessions over in-memory transports, each with the peer to write to."""
    pairs = [memory_pair() for _ in range(n)]
    sessions = [Session(a, **options) for a, _ in pairs]
    try:
        yield [(s, peer) for s, (_, peer) in zip(sessions, pairs, strict=True)]
    finally:
        for s in sessions:
            await s.close()
        for _, peer in pairs:
            await peer.close()


async def _leave(session: Session, peer: Any, text: str) -> None:
    """Make ``session`` hold exactly ``text`` unread (sent after a marker)."""
    await peer.write(f"<mark>{text}".encode())
    await session.expect_exact("<mark>")
    assert session.buffer == text


async def test_expect_any_returns_the_first_to_match_and_leaves_the_others_alone() -> None:
    async with memory_sessions(3) as pairs:
        (a, pa), (b, pb), (c, pc) = pairs
        await _leave(a, pa, "almost rea")
        await _leave(c, pc, "nothing here")
        waiting = asyncio.create_task(
            expect_any({a: r"ready\n", b: [r"ok (\d+)", "never"], c: "ready"}, timeout=10)
        )
        while b.waiting_for is None:  # all three are waiting now
            await asyncio.sleep(0)
        await pb.write(b"status: ok 42\nrest")
        session, match = await waiting
        assert session is b
        assert (match.index, match.group(1), match.before) == (0, "42", "status: ")
        assert b.buffer == "\nrest"
        assert a.buffer == "almost rea" and c.buffer == "nothing here"
        assert a.waiting_for is None and c.waiting_for is None
        # The losers can be read as usual afterwards: nothing lost, nothing busy.
        await pa.write(b"dy\n")
        assert (await a.expect(r"ready\n")).before == "almost "


async def test_expect_any_tie_goes_to_the_first_session_only_it_is_consumed() -> None:
    async with memory_sessions(2) as pairs:
        (a, pa), (b, pb) = pairs
        await _leave(a, pa, "go A")
        await _leave(b, pb, "go B")
        session, match = await expect_any({a: "go", b: "go"}, timeout=5)
        assert session is a and match.after == "go"
        assert a.buffer == " A" and b.buffer == "go B"


async def test_expect_any_timeout_keeps_every_buffer() -> None:
    async with memory_sessions(2) as pairs:
        (a, pa), (b, _pb) = pairs
        await _leave(a, pa, "partial")
        with pytest.raises(ExpectTimeout) as info:
            await expect_any({a: "never", b: "nope"}, timeout=0.05)
        with pytest.raises(ValueError, match="timeout"):  # NaN: no deadline compares with it
            await expect_any({a: "never"}, timeout=float("nan"))
        assert any("expect_any" in note for note in info.value.__notes__)
        assert a.buffer == "partial" and b.buffer == ""
        # Every session's wait is told, not the first one's alone.
        assert "'never'" in str(info.value) and "'partial'" in str(info.value)
        also = [note for note in info.value.__notes__ if note.startswith("also:")]
        assert len(also) == 1 and "'nope'" in also[0] and repr(b) in also[0]


async def test_expect_any_timeout_pattern_matches_at_the_deadline() -> None:
    async with memory_sessions(2) as pairs:
        (a, _pa), (b, pb) = pairs
        await _leave(b, pb, "idle")
        session, match = await expect_any({a: "x", b: ["y", TIMEOUT]}, timeout=0.05)
        assert session is b and match.pattern is TIMEOUT and match.before == "idle"
        assert b.buffer == "idle"  # (a TIMEOUT match consumes nothing)
        assert a.buffer == ""


async def test_expect_any_cancelled_at_any_step_loses_no_match() -> None:
    # The winner's match was consumed before the caller had it: cancelled
    # in between, 'xx ready\n' was gone from the buffer and from the result.
    for steps in range(16):
        (a_end, a_peer), (b_end, b_peer) = memory_pair(), memory_pair()
        a, b = Session(a_end), Session(b_end)
        try:
            waiting = asyncio.ensure_future(expect_any({a: r"ready\n", b: "never"}, timeout=10))
            while b.waiting_for is None:
                await asyncio.sleep(0)
            await a_peer.write(b"xx ready\nrest")
            for _ in range(steps):
                await asyncio.sleep(0)
            waiting.cancel()
            try:
                session, m = await waiting
            except asyncio.CancelledError:
                assert a.buffer == "xx ready\nrest", steps  # all of it still there
            else:
                assert (session, m.before + m.after, a.buffer) == (a, "xx ready\n", "rest")
        finally:
            for s in (a, b):
                await s.close()
            for peer in (a_peer, b_peer):
                await peer.close()


async def test_expect_any_timeout_tie_goes_to_the_first_session_every_time() -> None:
    # Both TIMEOUT patterns fall due at the one deadline: the first in the
    # mapping wins, whichever that is, on every round (not by the timers' luck).
    async with memory_sessions(2) as pairs:
        (a, pa), (b, pb) = pairs
        await _leave(a, pa, "idle A")
        await _leave(b, pb, "idle B")
        for first, second in [(a, b), (b, a)]:
            winners = []
            for _ in range(20):
                session, match = await expect_any(
                    {first: ["zz", TIMEOUT], second: ["yy", TIMEOUT]}, timeout=0.02
                )
                assert match.pattern is TIMEOUT
                winners.append(session)
            assert winners == [first] * 20
        assert a.buffer == "idle A" and b.buffer == "idle B"


async def test_expect_any_ties_at_the_call_go_to_the_first_session_sentinels_too() -> None:
    # Everything is there before the call: a real match in one session, an
    # end of file met by an EOF pattern in the other.  The first wins.
    async with memory_sessions(2) as pairs:
        (a, pa), (b, pb) = pairs
        await pb.close()
        for _ in range(20):
            await _leave(a, pa, "go A")
            session, match = await expect_any({b: ["x", EOF], a: ["go", TIMEOUT]}, timeout=5)
            assert session is b and match.pattern is EOF
            assert a.buffer == "go A"
            session, match = await expect_any({a: ["go", TIMEOUT], b: ["x", EOF]}, timeout=5)
            assert session is a and match.after == "go" and a.buffer == " A"


async def test_expect_any_deadline_is_suspended_while_one_of_its_sessions_is_attached() -> None:
    # As a single read's is (console attach diverts the session): the
    # deadline ran on, and b's TIMEOUT won while a person was attached to a.
    async with memory_sessions(2) as pairs:
        (a, pa), (b, _pb) = pairs
        for attached in (a, b):
            waiting = asyncio.create_task(
                expect_any({a: "resume", b: ["never", TIMEOUT]}, timeout=0.1)
            )
            while b.waiting_for is None:
                await asyncio.sleep(0)
            got: list[str] = []
            with attached.divert(got.append, keep=True):
                await asyncio.sleep(0.4)  # longer than the deadline
                assert not waiting.done()
            if attached is a:  # after the attach, the program's read goes on
                await pa.write(b"resume")
                session, match = await waiting
                assert session is a and match.after == "resume"
            else:  # and its deadline with it
                session, match = await waiting
                assert session is b and match.pattern is TIMEOUT
        assert a.buffer == "" and b.buffer == ""


async def waiting_on(last: Session, patterns: Any, timeout: float | None) -> asyncio.Task[Any]:
    """``expect_any(patterns)`` started, once it waits on ``last`` (the last
    session of ``patterns``: on all of them)."""
    waiting = asyncio.create_task(expect_any(patterns, timeout=timeout))
    while last.waiting_for is None:
        await asyncio.sleep(0)
    return waiting


async def won_and_taken(a: Session, pa: Any) -> None:
    """``a`` wins a pending ``expect_any`` on ``"go"``, and another reader
    takes its match before expect_any can."""
    await pa.write(b"go")
    while not (a.waiting_for is None and "go" in a.buffer):  # a won
        await asyncio.sleep(0)
    assert (await a.expect_exact("go", timeout=0)).after == "go"  # ... and lost it


async def test_expect_any_retried_after_another_reader_is_still_suspended_by_an_attach() -> None:
    # Another reader took the winner's match: expect_any waited again with a
    # deadline of its own, which the attach to b (begun before) did not hold.
    async with memory_sessions(2) as pairs:
        (a, pa), (b, _pb) = pairs
        waiting = await waiting_on(b, {a: "go", b: ["never", TIMEOUT]}, timeout=0.1)
        got: list[str] = []
        with b.divert(got.append, keep=True):
            await won_and_taken(a, pa)
            await asyncio.sleep(0.4)  # longer than the deadline
            assert not waiting.done()
        session, match = await waiting
        assert session is b and match.pattern is TIMEOUT


async def test_expect_any_keeps_waiting_on_the_others_while_the_winner_s_match_is_taken() -> None:
    # Between two rounds the other sessions had no reader for a few loop
    # turns: an attach to b begun then did not hold the deadline (b's
    # TIMEOUT won while a person was attached), and a second reader could
    # take b's slot and make expect_any raise BusyError.
    async with memory_sessions(2) as pairs:
        (a, pa), (b, _pb) = pairs
        waiting = await waiting_on(b, {a: "go", b: ["never", TIMEOUT]}, timeout=0.3)
        await won_and_taken(a, pa)
        for _ in range(20):  # b is waited on all along
            assert b.waiting_for == ["never", TIMEOUT]
            await asyncio.sleep(0)
        with pytest.raises(BusyError):
            await b.expect("x", timeout=0)
        got: list[str] = []
        with b.divert(got.append, keep=True):
            await asyncio.sleep(0.6)  # longer than the deadline
            assert not waiting.done()
        await pa.write(b"go")  # a wins again, and keeps it
        session, match = await waiting
        assert session is a and match.after == "go"


async def test_expect_any_waits_again_with_patterns_given_as_a_generator() -> None:
    # A wait again (the winner's match taken by another reader) read the
    # caller's patterns again: a generator, read once, gave none, and a
    # valid call raised 'expect needs at least one pattern'.
    async with memory_sessions(2) as pairs:
        (a, pa), (b, _pb) = pairs
        patterns = {a: (p for p in ["go", "later"]), b: ["never", TIMEOUT]}
        waiting = await waiting_on(b, patterns, timeout=5)
        await won_and_taken(a, pa)
        await pa.write(b"later")
        session, match = await waiting
        assert session is a and match.after == "later"


async def test_expect_any_default_timeout_is_the_smallest_session_timeout() -> None:
    async with memory_sessions(1, timeout=0.05) as short, memory_sessions(1) as long:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(ExpectTimeout):
            await expect_any({long[0][0]: "x", short[0][0]: "y"})
        assert loop.time() - start < 5


async def test_expect_any_eof_is_reported_at_once_or_matched() -> None:
    async with memory_sessions(2) as pairs:
        (a, pa), (b, _pb) = pairs
        await pa.write(b"bye")
        await pa.close()
        with pytest.raises(ExpectEOF) as info:
            await expect_any({b: "x", a: "never"}, timeout=30)
        assert info.value.before == "bye" and a.buffer == "bye"
        session, match = await expect_any({b: "x", a: ["never", EOF]}, timeout=30)
        assert session is a and match.pattern is EOF and match.before == "bye"
        assert a.buffer == ""


async def test_expect_any_cancelled_leaves_sessions_usable() -> None:
    async with memory_sessions(2) as pairs:
        (a, pa), (b, pb) = pairs
        await _leave(a, pa, "keep me")
        task = asyncio.create_task(expect_any({a: "x", b: "y"}, timeout=None))
        while b.waiting_for is None:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert a.buffer == "keep me" and a.waiting_for is None and b.waiting_for is None
        await pb.write(b"y")
        assert (await b.expect("y", timeout=5)).after == "y"


async def test_expect_any_busy_session_and_bad_arguments() -> None:
    async with memory_sessions(2) as pairs:
        (a, _), (b, _) = pairs
        reader = asyncio.create_task(a.expect("z", timeout=None))
        while a.waiting_for is None:
            await asyncio.sleep(0)
        with pytest.raises(BusyError):
            await expect_any({b: "y", a: "x"}, timeout=5)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        with pytest.raises(ValueError):
            await expect_any({})
        with pytest.raises(TypeError):
            await expect_any({"not a session": "x"})  # type: ignore[dict-item]
        with pytest.raises(TypeError):
            await expect_any([(a, "x")])  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await expect_any({a: "x"}, timeout=-1)


# -- run_many over local shells ------------------------------------------------------------


async def test_run_many_returns_results_in_input_order_and_isolates_failures() -> None:
    async def job(session: Session, host: Any) -> str:
        if isinstance(host, Host) and host.url.endswith("sh"):
            raise RuntimeError("the job broke")
        return await session.execute("echo $((6 * 7))")

    targets: list[Any] = [SHELL, "spawn:/nonexistent/program", Host("spawn:sh"), SHELL]
    results = await run_many(targets, job, concurrency=2, session_timeout=10)
    assert [r.host for r in results] == targets
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[0].value.strip() == "42" and results[3].value.strip() == "42"
    assert isinstance(results[1].error, SpawnError) and results[1].value is None
    assert isinstance(results[2].error, RuntimeError)
    assert all(r.duration > 0 for r in results)
    assert live_sessions() == []


async def test_a_failed_hosts_result_keeps_its_error_and_traceback_not_its_session() -> None:
    """A failure's error kept its traceback, whose frames held the job's and
    run_many's locals: the closed session and its transport (over SSH the
    parsed known_hosts too), as long as the Result lived.  Now the error,
    its message and its chain stay, the traceback as text, and nothing
    holds the session."""
    sessions: list[weakref.ref[Session]] = []

    async def job(session: Session, host: Any) -> None:
        sessions.append(weakref.ref(session))
        output = await session.execute("echo no-version-here")
        try:
            {"Version": 1}[output.strip()]
        except KeyError as exc:
            raise ValueError("no version in the output") from exc

    results = await run_many([SHELL, "spawn:sh"], job, session_timeout=10)
    gc.collect()
    assert len(sessions) == 2 and [ref() for ref in sessions] == [None, None]
    for r in results:
        assert isinstance(r.error, ValueError) and str(r.error) == "no version in the output"
        assert isinstance(r.error.__cause__, KeyError)  # its chain, for the record
        assert r.traceback is not None and "traceback" not in repr(r)
        assert '{"Version": 1}[output.strip()]' in r.traceback  # where the job broke
        assert r.traceback.rstrip().endswith("ValueError: no version in the output")
        assert r.traceback.count(", in job\n") == 2
    assert (await run_many(["spawn:sh"], _noop))[0].traceback is None


async def test_a_spawned_program_does_not_inherit_the_password_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """$AIOEXPECT_PASSWORD, aioexpect exec's password, was in the environment
    of every spawn: target's program.  Now it is not, unless env= gives it;
    the other variables are inherited as before."""
    monkeypatch.setenv("AIOEXPECT_PASSWORD", "env-pa55-w0rd")
    monkeypatch.setenv("AIOEXPECT_OTHER", "still-there")

    async def printenv(session: Session, host: Any) -> str:
        return await session.execute("env")

    given = {"PATH": os.environ["PATH"], "AIOEXPECT_PASSWORD": "given"}
    [inherited, explicit] = [
        (await run_many(["spawn:sh"], printenv, env=env, session_timeout=10))[0]
        for env in (None, given)
    ]
    assert inherited.ok and explicit.ok, (inherited.error, explicit.error)
    assert "AIOEXPECT_OTHER=still-there" in inherited.value
    assert "env-pa55-w0rd" not in inherited.value and "AIOEXPECT_PASSWORD" not in inherited.value
    assert "AIOEXPECT_PASSWORD=given" in explicit.value


async def test_run_many_consumes_the_first_prompt_before_the_job() -> None:
    async def job(session: Session, host: Any) -> tuple[str, str]:
        buffered = session.buffer
        await session.sendline("echo marker-$((1 + 1))")
        m = await session.expect(r"marker-(\d)")
        return buffered, m.group(1)

    [result] = await run_many([SHELL], job, session_timeout=10)
    assert result.ok, result.error
    buffered, digit = result.value
    assert not re.search(r"[$#] ?$", buffered)  # the prompt is gone
    assert digit == "2"


async def test_run_many_concurrency_is_a_hard_cap() -> None:
    peak = 0
    active = 0
    full = asyncio.Event()

    async def job(session: Session, host: Any) -> int:
        nonlocal peak, active
        active += 1
        peak = max(peak, len(live_sessions()))
        if active == 3:
            full.set()
        await asyncio.wait_for(full.wait(), 10)  # hold until the cap is reached
        await session.execute("true")
        active -= 1
        return peak

    results = await run_many(["spawn:sh"] * 9, job, concurrency=3, session_timeout=10)
    assert all(r.ok for r in results), [r.error for r in results]
    assert peak == 3


async def test_run_many_timeout_bounds_each_hosts_whole_run() -> None:
    async def job(session: Session, host: Any) -> None:
        if host == "spawn:sh":
            await session.expect("never printed", timeout=None)

    loop = asyncio.get_running_loop()
    start = loop.time()
    slow, fast = await run_many(["spawn:sh", SHELL], job, timeout=0.5)
    assert loop.time() - start < 5
    assert fast.ok and not slow.ok
    assert isinstance(slow.error, ExpectTimeout)
    assert "did not finish within 0.5 s" in str(slow.error)
    assert 0.4 < slow.duration < 5


@pytest.mark.parametrize("forever", [10**400, math.inf, None], ids=["10**400", "inf", "None"])
async def test_run_many_with_an_int_timeout_past_a_float_waits_for_ever(forever: Any) -> None:
    # Its check passed, then every host failed with OverflowError (from
    # asyncio.timeout), as expect and expect_any raised it.
    async def job(session: Session, host: Any) -> str:
        return await session.execute("echo $((6 * 7))", timeout=forever)

    [result] = await run_many([SHELL], job, timeout=forever, session_timeout=forever)
    assert result.ok, result.error
    assert result.value.strip() == "42"


async def test_run_many_with_an_int_session_timeout_past_a_float_connects_as_with_inf() -> None:
    # session_timeout is the openers' timeout, which connect_ssh and
    # connect_telnet gave asyncio as it was: each host failed with
    # OverflowError where math.inf gives a refusal's ConnectError, or waits.
    with refused_port() as port:
        targets = [f"ssh://u:p@127.0.0.1:{port}", f"telnet://127.0.0.1:{port}"]
        results = await run_many(targets, _noop, session_timeout=10**400)
    for result in results:
        assert isinstance(result.error, ConnectError) and str(port) in str(result.error), result
    async with silent_server() as (port, accepted):
        waiting = run_many([f"ssh://127.0.0.1:{port}"], _noop, session_timeout=10**400)
        await still_waiting(waiting, accepted)


async def test_expect_any_with_an_int_timeout_past_a_float_waits_for_ever() -> None:
    async with memory_sessions(2) as pairs:
        (a, pa), (b, _pb) = pairs
        waiting = asyncio.ensure_future(expect_any({a: "go", b: "go"}, timeout=10**400))
        await wait_until(lambda: a.waiting_for is not None, "expect_any is waiting")
        await pa.write(b"go")
        session, match = await waiting
        assert session is a and match.after == "go"


async def test_run_many_silent_peers_and_refusals_fail_within_bounds() -> None:
    import socket

    with socket.socket() as listener:  # accepts into the backlog, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        ssh, telnet = await run_many(
            [f"ssh://127.0.0.1:{port}", f"telnet://127.0.0.1:{port}"], _noop, timeout=0.3
        )
    # SSH waits for the server's banner, telnet for its first option command
    # (up to _telnet.FIRST_WORD_WAIT, to negotiate BINARY): not connected.
    for silent in (ssh, telnet):
        assert isinstance(silent.error, ConnectError), silent
        assert "not connected within 0.3 s" in str(silent.error)
    assert ssh.duration < 5 and telnet.duration < 5
    [refused] = await run_many([f"ssh://127.0.0.1:{port}"], _noop, timeout=5)
    assert isinstance(refused.error, ConnectError) and str(port) in str(refused.error)


async def test_run_many_job_cancelling_itself_is_that_hosts_failure() -> None:
    async def job(session: Session, host: Any) -> None:
        raise asyncio.CancelledError

    results = await run_many(["spawn:sh", "spawn:sh"], job)
    assert [type(r.error) for r in results] == [asyncio.CancelledError] * 2


def _docs_patterns() -> Any:
    """The common patterns of docs/many.rst, as ``patterns(inventory, job)``."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "many.rst").read_text()
    found = re.search(r"\nCommon patterns:\n\n\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)
    assert found, "many.rst has no common patterns"
    namespace: dict[str, Any] = {"aioexpect": aioexpect}
    exec(f"async def patterns(inventory, job):\n{found.group(1)}", namespace)
    return namespace["patterns"]


async def test_the_common_patterns_in_the_docs_work_whatever_the_hosts_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The patterns of docs/many.rst's Errors section, run: its last one
    gathered the failures into an ExceptionGroup, which refuses a job's
    own CancelledError (a BaseException) with a TypeError, the evidence
    lost.  Every error is in the group now."""
    patterns = _docs_patterns()

    async def job(session: Session, host: Any) -> str:
        if isinstance(host, Host):
            raise asyncio.CancelledError  # its own, not run_many's
        return await session.execute("echo fine")

    with refused_port() as port:
        refused = f"telnet://127.0.0.1:{port}"
        with pytest.raises(BaseExceptionGroup, match="hosts failed") as info:
            await patterns(["spawn:sh", Host("spawn:sh"), refused], job)
        with pytest.raises(ExceptionGroup, match="hosts failed"):  # (for except*)
            await patterns(["spawn:sh", refused], job)
    kinds = [type(error) for error in info.value.exceptions]
    assert kinds == [asyncio.CancelledError, ConnectError]
    assert str(port) in str(info.value.exceptions[1])
    # The errors carry no frames: the pattern prints where each job broke.
    assert "raise asyncio.CancelledError  # its own" in capsys.readouterr().out


async def test_run_many_cancelled_closes_every_session() -> None:
    started = asyncio.Event()

    async def job(session: Session, host: Any) -> None:
        started.set()
        await session.expect("never", timeout=None)

    task = asyncio.create_task(run_many(["spawn:sh"] * 4, job, concurrency=2))
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert live_sessions() == []


async def test_run_many_cancelled_while_a_finished_host_closes_still_reports_it() -> None:
    # The job had run (its value computed), but Ctrl-C while its session
    # closed lost the result: aioexpect exec showed nothing of that host.
    seen: list[Result] = []
    ended = asyncio.Event()

    async def job(session: Session, host: Any) -> str:
        await session.execute("trap '' HUP")  # (so its close waits out the grace)
        ended.set()
        return "ran"

    task = asyncio.create_task(run_many(["spawn:sh"], job, on_result=seen.append))
    await asyncio.wait_for(ended.wait(), 10)
    await asyncio.sleep(0.1)
    assert seen == [] and not task.done()  # closing: the child holds out
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [(r.ok, r.value) for r in seen] == [(True, "ran")]
    assert live_sessions() == []


async def test_run_many_on_result_and_plain_function_jobs() -> None:
    seen: list[Result] = []

    def job(session: Session, host: Any) -> str:
        return f"sync job for {host}"

    results = await run_many(["spawn:sh", "spawn:/no/such"], job, on_result=seen.append)
    assert sorted(map(id, seen)) == sorted(map(id, results))
    assert results[0].value == "sync job for spawn:sh"


async def test_run_many_awaits_an_async_on_result_and_raises_its_error_as_itself() -> None:
    seen: list[Any] = []

    async def record(result: Result) -> None:
        await asyncio.sleep(0)
        seen.append(result.host)

    async def job(session: Session, host: Any) -> None:
        pass

    await run_many(["spawn:sh", "spawn:sh"], job, on_result=record)
    assert seen == ["spawn:sh", "spawn:sh"]

    def boom(result: Result) -> None:
        raise RuntimeError("on_result boom")

    with pytest.raises(RuntimeError, match="on_result boom"):  # not an ExceptionGroup
        await run_many(["spawn:sh"], job, on_result=boom)
    assert live_sessions() == []

    def group(result: Result) -> None:  # its own group stays one
        raise ExceptionGroup("mine", [KeyError("a"), KeyError("b")])

    with pytest.raises(ExceptionGroup, match="mine") as info:
        await run_many(["spawn:sh"], job, on_result=group)
    assert len(info.value.exceptions) == 2


async def test_a_job_raising_a_base_exception_gets_its_session_closed() -> None:
    class Abort(BaseException):
        pass

    children: list[int] = []

    async def job(session: Session, host: Any) -> None:
        children.append(session.transport.get_extra_info("pid"))
        raise Abort("stop everything")

    with pytest.raises(Abort, match="stop everything"):
        await run_many(["spawn:sh"], job)
    assert live_sessions() == []
    assert children and children[0] is not None
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left to the GC
        os.kill(children[0], 0)


async def test_run_many_logdir_writes_one_transcript_per_host(tmp_path: Path) -> None:
    async def job(session: Session, host: Any) -> str:
        return await session.execute("echo transcript-$((2 + 3))")

    logdir = tmp_path / "logs"
    results = await run_many(["spawn:sh", "spawn:sh"], job, logdir=logdir)
    assert all(r.ok for r in results)
    names = sorted(os.listdir(logdir))
    assert names == ["spawn_sh-2.log", "spawn_sh.log"]
    for name in names:
        assert "transcript-5" in (logdir / name).read_text()
        assert (logdir / name).stat().st_mode & 0o777 == 0o600
    (logdir / names[0]).write_text("stale, from an earlier run")
    await run_many(["spawn:sh", "spawn:sh"], job, logdir=logdir)  # fresh for each run
    assert "stale" not in (logdir / names[0]).read_text()


async def test_run_many_transcripts_replace_what_is_there_and_never_follow_a_link(
    tmp_path: Path,
) -> None:
    """A transcript's name already taken: a regular file (world-readable, and
    a hard link to another file) is replaced by a new one of mode 0600, the
    other file untouched; a symbolic link (planted in a shared directory) or
    a directory fails that host alone, with a ConnectError naming the path.
    Transcripts were opened with O_TRUNC: the link's target was truncated and
    got the transcript, the old file kept its mode 0644 (its other name was
    emptied), and a directory failed the host with a bare IsADirectoryError."""

    async def job(session: Session, host: Any) -> str:
        return await session.execute("echo secret-$((2 + 3))")

    victim = tmp_path / "victim.txt"
    victim.write_text("the user's own\n")
    other = tmp_path / "other.txt"
    other.write_text("another name of the same file\n")
    other.chmod(0o644)
    os.link(other, tmp_path / "spawn_sh.log")
    (tmp_path / "spawn_sh-2.log").symlink_to(victim)
    (tmp_path / "spawn_sh-3.log").mkdir()
    results = await run_many(["spawn:sh"] * 3, job, logdir=tmp_path)
    assert results[0].ok
    fresh = tmp_path / "spawn_sh.log"
    assert "secret-5" in fresh.read_text() and fresh.stat().st_mode & 0o777 == 0o600
    assert other.read_text() == "another name of the same file\n"
    refused = {"spawn_sh-2.log": "symbolic link", "spawn_sh-3.log": "a directory"}
    for result, (name, why) in zip(results[1:], refused.items(), strict=True):
        assert not result.ok and isinstance(result.error, ConnectError)
        message = str(result.error)
        assert message.startswith("spawn:sh: cannot open transcript ")
        assert repr(str(tmp_path / name)) in message and why in message
    assert victim.read_text() == "the user's own\n"
    assert (tmp_path / "spawn_sh-2.log").is_symlink()


async def test_run_many_passes_each_opener_only_its_options() -> None:
    """known_hosts (SSH only) and env (spawn only) in one mixed call."""

    async def job(session: Session, host: Any) -> str:
        return await session.execute("echo $AIOEXPECT_TEST_VAR")

    [shell, ssh] = await run_many(
        ["spawn:sh", "ssh://127.0.0.1:1"],
        job,
        env={"AIOEXPECT_TEST_VAR": "from-env", "PATH": "/usr/bin:/bin"},
        known_hosts=None,
        keepalive_interval=30,
        session_timeout=10,
    )
    assert shell.ok and shell.value.strip() == "from-env", shell.error
    assert isinstance(ssh.error, ConnectError)  # refused, not a TypeError about env=


# -- run_many over emulated devices (SSH and telnet on 127.0.0.1) ------------------------

USER, PASSWORD = "netops", "pa55-w0rd-x"


def _router(name: str, *, login: tuple[str, str] | None = (USER, PASSWORD)) -> Any:
    from aioexpect.testing import VirtualDevice

    return VirtualDevice(
        name,
        prompt=f"{name}#",
        commands={r"show version": f"{name} version 1.0", r"show secret": "the secret is 42"},
        login=login,
        banner=f"{name} banner: authorised access only",
    )


@contextlib.asynccontextmanager
async def fleet(*kinds: str, **device: Any) -> AsyncIterator[list[Any]]:
    """Serve one emulated router per kind ("ssh" or "telnet"); yield the servers."""
    from aioexpect.testing import serve_ssh, serve_telnet

    async with contextlib.AsyncExitStack() as stack:
        servers = []
        for i, kind in enumerate(kinds):
            serve = serve_ssh if kind == "ssh" else serve_telnet
            servers.append(await stack.enter_async_context(serve(_router(f"r{i}", **device))))
        yield servers


def _url(server: Any) -> str:
    return f"{server.kind}://127.0.0.1:{server.port}"


async def _show_version(session: Session, host: Any) -> str:
    return await session.execute("show version")


async def test_run_many_logs_in_over_ssh_and_telnet_with_accounts() -> None:
    async with fleet("ssh", "telnet", "ssh") as servers:
        ssh0, telnet1, ssh2 = servers
        account = Account(USER, PASSWORD)
        targets: list[Any] = [
            Host(_url(ssh0), account),
            Host(_url(telnet1), account),
            f"ssh://{USER}:{PASSWORD}@127.0.0.1:{ssh2.port}",  # credentials in the URL
        ]
        results = await run_many(
            targets, _show_version, known_hosts=[ssh0.known_hosts, ssh2.known_hosts]
        )
    assert [r.error for r in results] == [None, None, None]
    assert [r.value.strip() for r in results] == ["r0 version 1.0", "r1 version 1.0",
                                                 "r2 version 1.0"]  # fmt: skip
    assert [r.host for r in results] == targets


async def test_run_many_reports_bad_credentials_and_host_keys_per_host(fresh_home: Path) -> None:
    async with fleet("ssh", "telnet", "ssh") as servers:
        ssh0, telnet1, ssh2 = servers
        wrong = Account(USER, "wrong-password")
        results = await run_many(
            [Host(_url(ssh0), wrong), Host(_url(telnet1), wrong), Host(_url(ssh2), wrong)],
            _show_version,
            known_hosts=ssh0.known_hosts,  # does not know ssh2's key
            session_timeout=10,
        )
    bad_ssh, bad_telnet, unknown_key = results
    assert isinstance(bad_ssh.error, aioexpect.AuthenticationError)
    assert isinstance(bad_telnet.error, aioexpect.AuthenticationError)
    assert isinstance(unknown_key.error, aioexpect.HostKeyError)
    for r in results:
        assert "wrong-password" not in str(r.error) + repr(r)


async def test_failed_ssh_hosts_results_hold_a_few_kilobytes_each(tmp_path: Path) -> None:
    """Each failed host's Result held about 800 KB with a 1,000-line
    known_hosts file: its error's frames kept the connection's options,
    the file parsed for it among them (and the session, where one was
    open).  What 16 failed hosts keep is now far less than one of them
    kept."""
    async with fleet("ssh") as [server]:
        known_hosts = tmp_path / "known_hosts"
        key = " ".join(server.known_hosts_entry.split()[1:3])  # trusted for other hosts
        known_hosts.write_text("".join(f"host{i}.example.com {key}\n" for i in range(1000)))
        target = Host(_url(server), Account(USER, PASSWORD))
        options: dict[str, Any] = {"known_hosts": str(known_hosts), "session_timeout": 10}
        await run_many([target], _show_version, **options)  # (what is loaded once, loaded)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            results = await run_many([target] * 16, _show_version, concurrency=4, **options)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert [type(r.error) for r in results] == [aioexpect.HostKeyError] * 16
    assert held < 400_000, f"{held / 16 / 1000:.0f} KB a failed host"


async def test_run_many_telnet_without_credentials_waits_for_the_prompt() -> None:
    async with fleet("telnet", login=None) as [server]:

        async def job(session: Session, host: Any) -> tuple[str, str]:
            return session.buffer, await session.execute("show version")

        [result] = await run_many([_url(server)], job, session_timeout=10)
    assert result.ok, result.error
    buffered, output = result.value
    assert "banner" not in buffered and "r0#" not in buffered
    assert output.strip() == "r0 version 1.0"


async def test_run_many_mixed_inventory_gets_each_opener_its_options(tmp_path: Path) -> None:
    async with fleet("ssh", "telnet") as servers:
        ssh0, telnet1 = servers
        account = Account(USER, PASSWORD)
        results = await run_many(
            [Host(_url(ssh0), account), Host(_url(telnet1), account), SHELL],
            _show_version,
            known_hosts=ssh0.known_hosts,  # SSH only
            keepalive_interval=15,  # an asyncssh option: SSH only
            env={"PATH": "/usr/bin:/bin", "TERM": "dumb"},  # spawn only
            cwd=str(tmp_path),  # spawn only
            dimensions=(30, 100),  # every opener
            driver="generic",
            session_timeout=10,
        )
    ssh_result, telnet_result, shell_result = results
    assert ssh_result.ok and telnet_result.ok, (ssh_result.error, telnet_result.error)
    # The shell ran too (show is not a command there: the output says so).
    assert shell_result.ok and "show" in shell_result.value


async def test_run_many_transcripts_are_named_after_host_and_port_and_redacted(
    tmp_path: Path,
) -> None:
    async with fleet("ssh", "telnet") as servers:
        ssh0, telnet1 = servers

        async def job(session: Session, host: Any) -> str:
            return await session.execute("show secret")

        account = Account(USER, PASSWORD)
        results = await run_many(
            [Host(_url(s), account) for s in servers],
            job,
            logdir=tmp_path,
            known_hosts=ssh0.known_hosts,
        )
    assert all(r.ok for r in results), [r.error for r in results]
    names = sorted(os.listdir(tmp_path))
    assert names == sorted([f"127.0.0.1_{ssh0.port}.log", f"127.0.0.1_{telnet1.port}.log"])
    for name in names:
        text = (tmp_path / name).read_text()
        assert "the secret is 42" in text
        assert PASSWORD not in text


async def test_run_many_account_key_authenticates_over_ssh(tmp_path: Path) -> None:
    import asyncssh

    client_key = asyncssh.generate_private_key("ssh-ed25519")
    key_path = tmp_path / "id_ed25519"
    client_key.write_private_key(str(key_path))
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())

    async def shell(process: asyncssh.SSHServerProcess[str]) -> None:
        process.stdout.write(f"hello {process.get_extra_info('username')}\r\nkeyhost# ")
        await process.stdin.readline()
        process.stdout.write("\r\nkeyed\r\nkeyhost# ")
        await process.stdin.read()
        process.exit(0)

    host_key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(
        asyncssh.SSHServer, "127.0.0.1", 0, server_host_keys=[host_key],
        authorized_client_keys=authorized, process_factory=shell,
    )  # fmt: skip
    try:
        port = server.get_port()

        async def job(session: Session, host: Any) -> str:
            await session.sendline("anything")
            return (await session.expect(r"keyed")).after

        results = await run_many(
            [Host(f"ssh://127.0.0.1:{port}", Account("keyuser", key=str(key_path))),
             Host(f"ssh://127.0.0.1:{port}", Account("keyuser"))],
            job, known_hosts=None, client_keys=None, session_timeout=10,
        )  # fmt: skip
    finally:
        server.close()
        await server.wait_closed()
    with_key, without = results
    assert with_key.ok and with_key.value == "keyed", with_key.error
    assert isinstance(without.error, aioexpect.AuthenticationError)


# -- before the job: opening, login and first prompt are all "connecting" -----------------


def _no_prompt(result: Result, port: int | None, *causes: type[BaseException]) -> None:
    """``result`` failed with a plain ConnectError naming the peer, what was
    awaited and what came, caused by one of ``causes``."""
    error = result.error
    assert type(error) is ConnectError, result  # not an AuthenticationError either
    assert (error.host, error.port) == (None if port is None else "127.0.0.1", port)
    assert "waiting for" in str(error) and "prompt" in str(error)
    assert "last characters received" in str(error)
    assert isinstance(error.__cause__, causes), repr(error.__cause__)


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client leaves


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    return None  # (serve closes the connection)


async def test_run_many_silent_telnet_is_a_connect_error_with_or_without_credentials() -> None:
    from tests.helpers import serve

    async with serve(_silent) as port:
        url = f"telnet://127.0.0.1:{port}"
        targets: list[Any] = [url, Host(url, Account(USER, PASSWORD))]
        results = await run_many(targets, _noop, session_timeout=1.5)
    for result in results:
        _no_prompt(result, port, ExpectTimeout)


async def test_run_many_device_never_prompting_is_a_connect_error_over_ssh_and_telnet() -> None:
    from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

    mute = VirtualDevice("mute", prompt="", login=(USER, PASSWORD), login_header="")
    async with serve_ssh(mute) as ssh, serve_telnet(mute) as telnet:
        account = Account(USER, PASSWORD)  # accepted: only the prompt is missing
        targets = [Host(_url(ssh), account), Host(_url(telnet), account)]
        results = await run_many(targets, _noop, session_timeout=1.5, known_hosts=ssh.known_hosts)
    _no_prompt(results[0], ssh.port, ExpectTimeout)
    _no_prompt(results[1], telnet.port, ExpectTimeout)


async def test_run_many_hang_up_before_the_prompt_is_a_connect_error_in_the_job_not() -> None:
    from tests.helpers import serve

    async def job(session: Session, host: Any) -> str:
        return await session.execute("exit")

    lost = (ExpectEOF, aioexpect.ConnectionLostError)
    async with serve(_hang_up) as port:
        url = f"telnet://127.0.0.1:{port}"
        targets: list[Any] = [url, Host(url, Account(USER, PASSWORD)), "spawn:true", SHELL]
        results = await run_many(targets, job, session_timeout=10)
    nocreds, creds, exited, in_job = results
    _no_prompt(nocreds, port, *lost)
    _no_prompt(creds, port, *lost)
    _no_prompt(exited, None, *lost)  # a program that ends before its first prompt
    assert isinstance(in_job.error, ExpectEOF), in_job  # the job's own failure keeps its class


async def test_run_many_login_question_without_credentials_is_an_authentication_error() -> None:
    async with fleet("telnet") as [server]:
        # No session_timeout: only seeing the question can end the wait before
        # run_many's timeout.
        [result] = await run_many([_url(server)], _show_version, session_timeout=None, timeout=30)
    error = result.error
    assert isinstance(error, aioexpect.AuthenticationError), result
    assert (error.host, error.port) == ("127.0.0.1", server.port)
    assert "Username:" in str(error) and str(server.port) in str(error)
    # The way out, for telnet: credentials, which log in before the job.
    assert "this telnet target has no credentials" in str(error)
    assert "the URL's user:password" in str(error) and "--user" in str(error)


async def test_run_many_login_question_after_ssh_authentication_names_the_way_out() -> None:
    from tests.helpers import serve_ssh_asking

    async with serve_ssh_asking(USER, PASSWORD) as port:
        url = f"ssh://127.0.0.1:{port}"
        # Credentials (which serve the SSH login) from an Account, and from the URL.
        targets = [Host(url, Account(USER, PASSWORD)), f"ssh://{USER}:{PASSWORD}@127.0.0.1:{port}"]
        results = await run_many(
            targets, _show_version, known_hosts=None, session_timeout=None, timeout=30
        )
    for result in results:
        error = result.error
        assert isinstance(error, aioexpect.AuthenticationError), result
        assert (error.host, error.port) == ("127.0.0.1", port)
        message = str(error)
        assert "asks 'Username:'" in message and PASSWORD not in message
        # Not "give it credentials": it has them, and they served the SSH login.
        assert "no credentials" not in message
        assert "serve the SSH login, and this question came after it" in message
        assert "telnet targets only" in message and "connect_ssh() and call login()" in message


async def test_run_many_login_question_of_a_spawned_program_names_the_way_out() -> None:
    script = "printf 'Password: '; read -r _"
    [result] = await run_many([f"spawn:sh -c {script!r}"], _noop, timeout=30)
    error = result.error
    assert isinstance(error, aioexpect.AuthenticationError), result
    assert "asks 'Password:'" in str(error) and "spawn: targets take no credentials" in str(error)


async def test_run_many_timeout_before_the_first_prompt_is_a_connect_error() -> None:
    # In the words of the wait it cut short, which is the cause, as
    # session_timeout's own gives ("did not reach a prompt: timed out ...").
    script = "echo hello there; exec cat"
    [result] = await run_many([f"spawn:sh -c {script!r}"], _noop, timeout=0.5, session_timeout=30)
    error = result.error
    assert type(error) is ConnectError, result
    waited = "timed out waiting for the prompt of driver 'generic'"
    expected = f"no prompt within 0.5 s: {waited}; last characters received: 'hello there\\r\\n'"
    assert str(error) == f"spawn:sh -c {script!r}: {expected}"
    cause = error.__cause__
    assert isinstance(cause, ExpectTimeout) and str(cause).startswith(waited), cause
    assert cause.before == "hello there\r\n"


async def test_a_password_equal_to_the_host_is_masked_in_what_run_many_says(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A host's label ("127.0.0.1:PORT failed after ...") showed a host equal
    # to its password, where every other message masks it.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    device = VirtualDevice("r1", login=("admin", "right"))
    async with serve_telnet(device) as server:
        url = f"telnet://admin:127.0.0.1@127.0.0.1:{server.port}"
        [result] = await run_many([url], lambda s: s.execute("show version"), timeout=5)
    assert isinstance(result.error, aioexpect.AuthenticationError)
    assert "127.0.0.1" not in str(result.error)
    said = [r.getMessage() for r in caplog.records if "failed after" in r.getMessage()]
    assert said and not [m for m in said if "127.0.0.1" in m]


async def test_a_job_s_own_error_is_logged_with_the_password_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The INFO record of a failed host quoted the job's exception as it was;
    # one that quotes what the device printed (the password, echoed or in a
    # configuration) put it in the log in clear.  The Result keeps the error.
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    device = VirtualDevice(
        "r1", prompt="r1#", login=("admin", "s3cret-pw"), commands={"show run": "secret s3cret-pw"}
    )

    async def job(session: Session, host: Host) -> None:
        output = await session.execute("show run")
        raise RuntimeError(f"cannot parse {output!r}")

    async with serve_telnet(device) as server:
        url = f"telnet://127.0.0.1:{server.port}"
        [result] = await run_many([Host(url, Account("admin", "s3cret-pw"))], job, timeout=5)
    assert "s3cret-pw" in str(result.error)  # (the job's own, as it raised it)
    said = [r.getMessage() for r in caplog.records if "failed after" in r.getMessage()]
    assert len(said) == 1 and "RuntimeError: cannot parse 'secret ********" in said[0]
    assert "s3cret" not in caplog.text


async def test_a_result_s_repr_and_record_mask_the_password_as_repr_escapes_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A Result's repr showed the job's value and error unmasked; and a
    # password with a quote or a backslash, quoted by repr in the job's
    # error, was not found in the "failed after" record (masked as given).
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    password = "pa'ss\\w\"d\u00e9"
    device = VirtualDevice("r1", prompt="r1#", login=("admin", password))

    async def failing(session: Session, host: Host) -> None:
        raise RuntimeError(f"job saw {password!r}")

    async def returning(session: Session, host: Host) -> dict[str, str]:
        return {"pw": password}

    async with serve_telnet(device) as server:
        target = Host(f"telnet://127.0.0.1:{server.port}", Account("admin", password))
        [failed] = await run_many([target], failing, timeout=5)
        [done] = await run_many([target], returning, timeout=5)
    assert done.value == {"pw": password}  # (the data: as the job returned it)
    assert str(failed.error) == f"job saw {password!r}"
    said = [r.getMessage() for r in caplog.records if "failed after" in r.getMessage()]
    assert len(said) == 1 and "RuntimeError: job saw '********'" in said[0], said
    for text in (repr(failed), repr(done), *said):
        assert "ss\\\\w" not in text and "pa\\'ss" not in text and "pa'ss" not in text, text
        assert "********" in text, text


async def test_a_result_s_fields_are_the_documented_ones_its_repr_masked_still() -> None:
    # The redactor that masks a Result's repr was a field: asdict(r) held
    # it (json.dumps refused the method), astuple had seven items, and the
    # constructor's signature took it.  A pickle and a copy mask still.
    password = "pa'ss\\w"
    device = VirtualDevice("r1", prompt="r1#", login=("admin", password))

    async def returning(session: Session, host: str) -> str:
        return f"saw {password!r}"

    async with serve_telnet(device) as server:
        url = f"telnet://admin:{quote(password, safe='')}@127.0.0.1:{server.port}"
        [done] = await run_many([url], returning, timeout=5)
    assert done.ok, done
    documented = ["host", "ok", "value", "error", "duration", "traceback"]
    assert [f.name for f in dataclasses.fields(done)] == documented
    assert list(inspect.signature(Result).parameters) == documented
    assert json.loads(json.dumps(dataclasses.asdict(done)))["value"] == done.value
    assert len(dataclasses.astuple(done)) == 6
    for shown in (done, pickle.loads(pickle.dumps(done)), copy.deepcopy(done)):
        assert shown == done and "value='saw \"********\"'" in repr(shown), repr(shown)


async def test_a_kept_failure_record_does_not_keep_the_session_alive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The masked error in the INFO record held the session's bound redact,
    # so a handler that keeps its records (caplog here, MemoryHandler) kept
    # every failed host's closed session, its buffer and transport, alive.
    caplog.set_level(logging.INFO, logger="aioexpect")
    sessions: list[weakref.ref[Session]] = []

    async def job(session: Session, host: str) -> None:
        sessions.append(weakref.ref(session))
        raise RuntimeError("boom")

    results = await run_many(["spawn:sh"] * 2, job, timeout=5)
    assert [r.ok for r in results] == [False, False]
    assert len([r for r in caplog.records if "failed after" in r.getMessage()]) == 2
    gc.collect()
    assert [ref() for ref in sessions] == [None, None]


async def test_a_job_that_forgets_an_await_fails_and_a_lambda_still_works() -> None:
    # `return session.execute(...)` in an async job was a success, its value
    # a coroutine never run (a RuntimeWarning at exit the only sign).
    device = VirtualDevice("r1", prompt="r1#", commands={"show clock": "12:00"})
    async with serve_telnet(device) as server:
        url = f"telnet://127.0.0.1:{server.port}"
        forgetful, careful = Host(url), Host(url)

        async def job(session: Session, host: Host) -> Any:
            if host is forgetful:
                return session.execute("show clock")  # no await
            return await session.execute("show clock")

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = await run_many([forgetful, careful], job, timeout=10)
            # A lambda that returns the coroutine: awaited once, as before.
            ran = await run_many([url], lambda s, h: s.execute("show clock"), timeout=10)
            gc.collect()
    bad, good = results
    assert not bad.ok and isinstance(bad.error, TypeError) and bad.value is None
    message = str(bad.error)
    assert "did not await: a missing 'await'?" in message and "Session.execute" in message
    assert good.ok and good.value == "12:00\n", good.error  # the other host unaffected
    assert ran[0].ok and ran[0].value == "12:00\n", ran[0].error
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]  # closed


async def test_a_job_may_return_an_awaitable_that_is_no_coroutine() -> None:
    # 517babf failed every job whose value could still be awaited: an object
    # whose await gives itself (a pool's) and a future shared by the hosts,
    # which it also cancelled for all of them.
    class SelfAwaiting:
        def __await__(self) -> Any:
            return self
            yield  # (a generator: await gives self)

    pool = SelfAwaiting()
    shared: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    device = VirtualDevice("r1", prompt="r1#", commands={})
    async with serve_telnet(device) as server:
        url = f"telnet://127.0.0.1:{server.port}"

        async def job(session: Session, host: str) -> Any:
            return pool if host == url else shared

        results = await run_many([url, url + "/"], job, timeout=10)
    assert [r.ok for r in results] == [True, True], [r.error for r in results]
    assert results[0].value is pool and results[1].value is shared
    assert not shared.cancelled()
    shared.cancel()
