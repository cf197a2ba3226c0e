"""run_many and the openers at the file descriptor limit.

Each case runs in a subprocess whose ``RLIMIT_NOFILE`` is low (the suite
keeps its own), on the loop of the test, against emulated devices served
here; it prints what it saw as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

ROOT = Path(__file__).resolve().parent.parent

#: Run in the subprocess before the case: the loop, the limit, and a way to
#: use up every descriptor but ``free`` of them.
PRELUDE = """
import asyncio, errno, json, logging, os, resource, sys
import uvloop
import aioexpect

LOOP, LIMIT = sys.argv[1], int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
said = []
handler = logging.Handler()
handler.emit = lambda record: said.append(record.getMessage())
logging.getLogger("aioexpect").addHandler(handler)
logging.getLogger("aioexpect").setLevel(logging.WARNING)


def use_up(free):
    held = []
    try:
        while True:
            held.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pass
    for _ in range(free):
        os.close(held.pop())
    return held


def free_now():
    held = use_up(0)
    for fd in held:
        os.close(fd)
    return len(held)


def errnos(error):
    seen, chain = [], [error]
    while chain:
        exc = chain.pop()
        if exc is not None and all(exc is not s for s in seen):
            seen.append(exc)
            chain += [exc.__cause__, exc.__context__]
    return [getattr(exc, "errno", None) for exc in seen]


def main(case):
    # (a Runner with uvloop's factory, as conftest.py runs the tests: uvloop.run
    # is newer than uvloop's floor, 0.17)
    factory = asyncio.new_event_loop if LOOP == "asyncio" else uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        print(json.dumps(runner.run(case())))
"""


async def run_case(case: str, loop: str, limit: int, *args: str, **env: str) -> Any:
    """``case`` (the body of ``async def case()``, returning what to print)
    in a subprocess with the descriptor limit ``limit``; what it printed."""
    body = "\n".join("    " + line for line in case.strip().splitlines())
    script = f"{PRELUDE}\n\nasync def case():\n{body}\n\n\nmain(case)\n"
    environ = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    environ = {k: v for k, v in environ.items() if v}  # (env "": unset)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, loop, str(limit), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=environ,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


#: With none of these set, asyncssh looks the user's name up in the user database.
NO_USER = dict.fromkeys(("LOGNAME", "USER", "LNAME", "USERNAME"), "")


def device() -> VirtualDevice:
    return VirtualDevice("r1", commands={"show id": "id r1"}, login=("admin", "pw"))


async def test_run_many_past_the_descriptor_limit_runs_every_host(aio_loop: str) -> None:
    """concurrency=100 where about 30 sessions fit under a limit of 48: the
    hosts that find no descriptor wait for another's session to close and
    are tried again, rather than failing with EMFILE (most of them did); a
    warning says so once, naming the limit and the concurrency."""
    case = """
targets = [aioexpect.Host(f"telnet://admin:pw@127.0.0.1:{sys.argv[3]}") for _ in range(120)]
job = lambda s, h: s.execute("show id")
await aioexpect.run_many(targets[:1], job)  # (uvloop opens a descriptor of its own, once)
before = free_now()
results = await aioexpect.run_many(targets, job, concurrency=100, session_timeout=30)
return {
    "hosts": [r.host is t for r, t in zip(results, targets)],
    "outcomes": [r.value if r.ok else f"{type(r.error).__name__}: {r.error}" for r in results],
    "said": said,
    "free": [before, free_now()],
}
"""
    async with serve_telnet(device()) as server:
        seen = await run_case(case, aio_loop, 48, str(server.port))
    assert seen["hosts"] == [True] * 120
    failed = [o for o in seen["outcomes"] if o != "id r1\n"]
    assert not failed, f"{len(failed)} hosts failed, the first: {failed[0]}"
    warnings = [s for s in seen["said"] if "no file descriptor left" in s]
    assert len(warnings) == 1, seen["said"]
    assert "(ulimit -n) is 48" in warnings[0] and "concurrency=100" in warnings[0]
    before, after = seen["free"]
    assert after == before  # every session's descriptors given back


async def test_run_many_grows_back_once_descriptors_are_free_again(aio_loop: str) -> None:
    """The program holds all but 4 descriptors when the run starts, and lets
    them go as the 20th job starts: the run, shrunk to the few hosts that
    fit, grows back to run more at once (it stayed at 4 or fewer to its
    end), never past ``concurrency``, every host done, one warning."""
    case = """
targets = [aioexpect.Host(f"telnet://admin:pw@127.0.0.1:{sys.argv[3]}") for _ in range(200)]
await aioexpect.run_many(targets[:1], lambda s, h: s.execute("show id"))
held = use_up(4)
started, running, peak = [0], [0], {"held": 0, "freed": 0}
async def job(session, host):
    started[0] += 1
    if started[0] == 20:  # the program's descriptors, let go
        for fd in held:
            os.close(fd)
        held.clear()
    phase = "held" if held else "freed"
    running[0] += 1
    peak[phase] = max(peak[phase], running[0])
    try:
        for _ in range(4):
            await session.execute("show id")
    finally:
        running[0] -= 1
results = await aioexpect.run_many(targets, job, concurrency=16, session_timeout=30)
return {"ok": [r.ok for r in results], "peak": peak, "said": said}
"""
    async with serve_telnet(device()) as server:
        seen = await run_case(case, aio_loop, 64, str(server.port))
    assert seen["ok"] == [True] * 200
    assert len([s for s in seen["said"] if "no file descriptor left" in s]) == 1, seen["said"]
    assert seen["peak"]["held"] <= 4
    assert 4 < seen["peak"]["freed"] <= 16, seen["peak"]


async def test_run_many_at_a_lasting_shortage_grows_no_host_in_to_fail(aio_loop: str) -> None:
    """Descriptors stay short for the whole run: the room, shrunk once,
    looks for free ones as it grows back; hosts closing their sessions were
    counted as keeping theirs, though the hosts next in take them (a third
    or more of the openings, at times, found none and were tried again).
    Now only the first shortage's opening is (as before the room grew)."""
    case = """
logging.getLogger("aioexpect.many").setLevel(logging.DEBUG)
targets = [aioexpect.Host(f"telnet://admin:pw@127.0.0.1:{sys.argv[3]}") for _ in range(400)]
job = lambda s, h: s.execute("show id")
await aioexpect.run_many(targets[:1], job)
said.clear()
results = await aioexpect.run_many(targets, job, concurrency=100, session_timeout=30)
return {"ok": [r.ok for r in results], "retried": [s for s in said if "tried again later" in s]}
"""
    async with serve_telnet(device()) as server:
        seen = await run_case(case, aio_loop, 48, str(server.port))
    assert seen["ok"] == [True] * 400
    assert len(seen["retried"]) <= 3, seen["retried"]


async def test_run_many_hosts_waiting_for_a_place_are_next_in(aio_loop: str) -> None:
    """A place freed goes to the hosts waiting for one, first come first in.
    It went to the worker that had just freed it: its next host from the
    inventory came in at once, so the hosts that found no descriptor at the
    start waited for all 240 others (and ran last, their results last)."""
    case = """
targets = [aioexpect.Host(f"telnet://admin:pw@127.0.0.1:{sys.argv[3]}") for _ in range(300)]
await aioexpect.run_many(targets[:1], lambda s, h: s.execute("show id"))
started = []
async def job(session, host):
    started.append(next(i for i, t in enumerate(targets) if t is host))
    return await session.execute("show id")
results = await aioexpect.run_many(targets, job, concurrency=60, session_timeout=30)
return {"started": started, "ok": [r.ok for r in results], "said": said}
"""
    async with serve_telnet(device()) as server:
        seen = await run_case(case, aio_loop, 48, str(server.port))
    assert seen["ok"] == [True] * 300
    assert any("no file descriptor left" in s for s in seen["said"]), seen["said"]
    assert sorted(seen["started"]) == list(range(300))
    late = [(i, turn) for turn, i in enumerate(seen["started"]) if turn > i + 120]
    assert not late, f"(host, turn its job started): {late}"


async def test_run_many_cancelled_while_hosts_wait_for_a_place(aio_loop: str) -> None:
    """Cancelled with sessions open and hosts waiting for a descriptor: every
    session is closed, every descriptor given back, no task left behind."""
    case = """
targets = [aioexpect.Host(f"telnet://admin:pw@127.0.0.1:{sys.argv[3]}") for _ in range(60)]
await aioexpect.run_many(targets[:1], lambda s, h: s.execute("show id"))
before = free_now()
opened = []
async def job(session, host):
    opened.append(host)
    await asyncio.Event().wait()  # (until cancelled)
run = asyncio.ensure_future(aioexpect.run_many(targets, job, concurrency=60))
while not (said and len(opened) >= 10):
    await asyncio.sleep(0.01)
run.cancel()
try:
    await asyncio.wait_for(run, 30)
except asyncio.CancelledError:
    pass
left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
return [before, free_now(), len(left), len(opened)]
"""
    async with serve_telnet(device()) as server:
        before, after, tasks, opened = await run_case(case, aio_loop, 48, str(server.port))
    assert 10 <= opened < 60
    assert after == before and tasks == 0


async def test_run_many_with_no_descriptor_to_free_fails_each_host(aio_loop: str) -> None:
    """No descriptor left, and no host of the run holding one: nothing will
    free one, so each host fails at once, its error saying why."""
    case = """
targets = [f"telnet://admin:pw@127.0.0.1:{sys.argv[3]}"] * 6
held = use_up(0)
results = await aioexpect.run_many(targets, lambda s, h: s.execute("show id"), concurrency=3)
for fd in held:
    os.close(fd)
return [[r.ok, str(r.error), errno.EMFILE in errnos(r.error)] for r in results]
"""
    async with serve_telnet(device()) as server:
        seen = await run_case(case, aio_loop, 48, str(server.port))
    assert len(seen) == 6
    for ok, message, emfile in seen:
        assert not ok and emfile and "Too many open files" in message


async def test_ssh_out_of_descriptors_is_not_blamed_on_the_user_name(aio_loop: str) -> None:
    """asyncssh looks the local user's name up (in the user database, with
    no USER or LOGNAME set) for each connection: with no descriptor left
    that fails, and the error blamed the name (``uid 0 has none ...; set
    LOGNAME or USER``), not the limit it ran into."""
    case = """
import aioexpect._ssh  # (imported while descriptors are left)
held = use_up(0)
try:
    await aioexpect.connect_ssh(
        "127.0.0.1", int(sys.argv[3]), username="admin", password="pw",
        known_hosts=None, client_keys=None, timeout=30,
    )
except Exception as exc:
    error = exc
finally:
    for fd in held:
        os.close(fd)
return [type(error).__name__, str(error), errno.EMFILE in errnos(error)]
"""
    async with serve_ssh(device()) as server:
        kind, message, emfile = await run_case(case, aio_loop, 48, str(server.port), **NO_USER)
    assert kind == "ConnectError" and emfile, message
    assert "ulimit -n) is 48" in message
    assert "set LOGNAME or USER" not in message


async def test_ssh_user_name_lookup_that_failed_only_then_is_a_connect_error(
    aio_loop: str,
) -> None:
    """asyncssh looks the user's name up in a thread: a lookup that failed
    there (its descriptors used up) and works by the time the error is
    translated was let out as asyncssh's bare ``ValueError``, which
    ``run_many`` then reported as the host's; it is a ``ConnectError`` that
    says so, chained to an EMFILE (for run_many to try the host again)."""
    case = """
import getpass, pwd
calls = []
def getuser():  # the first lookup (asyncssh's) fails, as with no descriptor left
    calls.append(1)
    if len(calls) == 1:
        raise KeyError("getpwuid(): uid not found")
    return pwd.getpwuid(os.getuid()).pw_name
getpass.getuser = getuser
try:
    await aioexpect.connect_ssh(
        "127.0.0.1", int(sys.argv[3]), username="admin", password="pw",
        known_hosts=None, client_keys=None, timeout=30,
    )
except Exception as exc:
    error = exc
return [type(error).__name__, str(error), errno.EMFILE in errnos(error)]
"""
    async with serve_ssh(device()) as server:
        kind, message, emfile = await run_case(case, aio_loop, 1024, str(server.port), **NO_USER)
    assert kind == "ConnectError", message
    assert "though it can now" in message and emfile


async def test_ssh_error_of_its_own_is_not_taken_for_want_of_a_descriptor(
    aio_loop: str,
) -> None:
    """An SSH opening's error that is not the user name lookup's (an
    unreachable host's, with an errno of its own; a name that does not
    encode, with none) met while no descriptor was left: it was chained to
    an EMFILE (run_many then tried the host again as if it had found none)
    and its message blamed the user database.  The lookup's own failure
    still is both."""
    case = """
from aioexpect._ssh_errors import translate
errors = [
    OSError(errno.EHOSTUNREACH, os.strerror(errno.EHOSTUNREACH)),
    UnicodeEncodeError("ascii", "r\u00e9seau", 1, 2, "ordinal not in range(128)"),
    ValueError("Unknown local username: set one of LOGNAME, USER, LNAME, or USERNAME"),
]
held = use_up(0)
try:
    seen = [translate(error, "192.0.2.1", 22, None) for error in errors]
finally:
    for fd in held:
        os.close(fd)
return [[str(s), errno.EMFILE in errnos(e)] for s, e in zip(seen, errors)]
"""
    unreachable, unencoded, lookup = await run_case(case, aio_loop, 48, **NO_USER)
    for message, emfile in (unreachable, unencoded):
        assert not emfile, message
        assert "descriptor" not in message and "user" not in message, message
    assert "No route to host" in unreachable[0] and "can't encode" in unencoded[0]
    message, emfile = lookup
    assert emfile and "no file descriptor was left to read the user database" in message


async def test_spawn_over_pipes_out_of_descriptors_leaks_none(aio_loop: str) -> None:
    """Two descriptors left: the output's pipe took them, the input's found
    none; the first pipe stayed open (two descriptors lost for good) and a
    bare OSError came out.  Now a SpawnError, and both are given back."""
    case = """
held = use_up(2)
try:
    await aioexpect.spawn("cat", pty=False)
except Exception as exc:
    error = exc
again = use_up(0)  # what is free now: the two, if given back
for fd in held + again:
    os.close(fd)
return [type(error).__name__, str(error), len(again)]
"""
    kind, message, free = await run_case(case, aio_loop, 48)
    assert kind == "SpawnError" and "no pipe: Too many open files" in message
    assert free == 2
