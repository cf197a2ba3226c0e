"""Flood: ``cat`` writes SIZE of varied lines through a pty (and pipes), then a
marker; how long until an expect sees the marker (regex and exact)?

Contenders, in one run: the raw limit (a blocking ``os.read`` loop, and an
``add_reader`` callback that drains the descriptor on asyncio and on uvloop,
bytes only, keeping every chunk), aioexpect on both loops (``max_buffer=None``), and pexpect
(sync and ``async_=True``), whose regex search rescans the whole buffer on
every read and is therefore capped in time and measured at a smaller size.
Every contender checks that what came before the marker is as long as it
must be (the data, plus one ``\\r`` per line over a pty): one that lost or
added data fails the run, whatever its time.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from _common import (
    LOOPS,
    Capped,
    Deadline,
    RssPeak,
    Table,
    best_of,
    mb,
    parse_args,
    pty_child,
    reap,
    run_on,
)

import aioexpect

MARKER = "END-OF-FLOOD 20240917"
REGEX = r"END-OF-FLOOD (\d+)"
READ = 1 << 18
#: What the names of the rows measured in an interpreter of their own end with.
ALONE = " (alone)"


def make_data(size: int) -> str:
    """A file of ``size`` bytes of varied log-like lines, then the marker line."""
    fd, path = tempfile.mkstemp(prefix="aioexpect-flood-", suffix=".txt")
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    lines = [
        f"{i:08d} {words[i % 8]:<8} status={i * 7919 % 100003:05x} "
        f"{'.' * (i % 37)}{words[(i * 3) % 8]}\n"
        for i in range(20000)
    ]
    block = "".join(lines).encode()
    with os.fdopen(fd, "wb") as f:
        written = 0
        while written < size:
            piece = block[: size - written]
            f.write(piece)
            written += len(piece)
        f.write(f"\n{MARKER}\n".encode())
    return path


def expected_before(path: str, pipes: bool) -> int:
    """The length of what comes before the marker in ``path``'s flood, in
    bytes and in characters alike (the data is ASCII): the file less its
    marker line, and over a pty one more ``\\r`` per ``\\n`` (the terminal's
    ONLCR).  Every contender checks it got that much: one that lost or added
    data fails, whatever its time."""
    size = os.path.getsize(path) - len(MARKER) - 1
    if pipes:
        return size
    newlines = 0
    with open(path, "rb") as f:  # in pieces: no 32 MiB peak in the memory probe
        while piece := f.read(1 << 20):
            newlines += piece.count(b"\n")
    return size + newlines - 1  # the marker line's own end is not before it


def check_size(who: str, got: int, want: int) -> int:
    """``got``, if it is ``want``; else RuntimeError: data lost or added."""
    if got != want:
        raise RuntimeError(f"{who} got {got} bytes before the marker, not {want}")
    return got


def open_child(path: str, pipes: bool) -> tuple[subprocess.Popen[bytes], int]:
    if not pipes:
        return pty_child(["cat", path])
    proc = subprocess.Popen(["cat", path], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    return proc, os.dup(proc.stdout.fileno())


def close_child(proc: subprocess.Popen[bytes], fd: int) -> None:
    os.close(fd)
    if proc.stdout is not None:
        proc.stdout.close()


# -- the raw limit -----------------------------------------------------------------


def raw_blocking(path: str, pipes: bool, want: int, cap: float = 300) -> int:
    """Read until the marker; return where it starts, checked against ``want``.
    ``TimeoutError`` after ``cap`` s."""
    marker = MARKER.encode()
    proc, fd = open_child(path, pipes)
    chunks, tail, start = [], b"", 0  # start: where ``tail`` starts in the output
    try:
        with Deadline(cap) as deadline:
            deadline.watch(proc)
            while True:
                data = os.read(fd, READ)
                if not data:
                    raise EOFError("marker not seen")
                chunks.append(data)
                window = tail + data
                at = window.find(marker)
                if at >= 0:
                    break
                tail = window[-len(marker) :]
                start += len(window) - len(tail)
    finally:
        close_child(proc, fd)
        proc.wait()
    return check_size("the raw loop", start + at, want)


async def raw_async(path: str, pipes: bool, want: int, join: bool = False, cap: float = 300) -> int:
    """An ``add_reader`` callback that reads until ``EAGAIN`` (a pty hands out
    about 4 KiB per read; draining takes several per wake-up): no coroutine
    per chunk.  ``join``: also join the chunks into one object at the end, as
    any API returning the data (``Match.before``) must.  Returns where the
    marker starts, checked against ``want``; ``TimeoutError`` after ``cap`` s."""
    loop = asyncio.get_running_loop()
    marker = MARKER.encode()
    proc, fd = open_child(path, pipes)
    os.set_blocking(fd, False)
    done: asyncio.Future[int] = loop.create_future()
    chunks: list[bytes] = []
    tail, start = b"", 0  # start: where ``tail`` starts in the output

    def readable() -> None:
        nonlocal tail, start
        while True:
            try:
                data = os.read(fd, READ)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(fd)
                done.set_exception(EOFError("marker not seen"))
                return
            chunks.append(data)
            window = tail + data
            at = window.find(marker)
            if at >= 0:
                loop.remove_reader(fd)
                done.set_result(start + at)
                return
            tail = window[-len(marker) :]
            start += len(window) - len(tail)

    loop.add_reader(fd, readable)
    try:
        async with asyncio.timeout(cap):
            at = await done
    except TimeoutError:
        proc.kill()  # it may be stuck anywhere (not only writing): reap it all the same
        raise
    finally:
        loop.remove_reader(fd)
        close_child(proc, fd)
        await reap(proc)
    if join:
        b"".join(chunks)
    return check_size("the raw loop", at, want)


# -- aioexpect -----------------------------------------------------------------------


async def aio_flood(
    path: str, pipes: bool, regex: bool, want: int, encoding: str | None = "utf-8", cap: float = 300
) -> int:
    """Expect the marker; ``ExpectTimeout`` (a ``TimeoutError``) after ``cap`` s.
    Returns the length of ``Match.before``, checked against ``want``."""
    opener = aioexpect.spawn(
        "cat", [path], pty=not pipes, max_buffer=None, timeout=cap, encoding=encoding
    )
    async with opener as s:
        if encoding is None:
            m = await (s.expect(REGEX.encode()) if regex else s.expect_exact(MARKER.encode()))
        else:
            m = await (s.expect(REGEX) if regex else s.expect_exact(MARKER))
        return check_size("aioexpect", len(m.before), want)


# -- pexpect -------------------------------------------------------------------------


def pexpect_child(path: str, pipes: bool, cap: float) -> Any:
    """pexpect, tuned in its favour: 64 KiB reads, no sleeps after reads or close."""
    import pexpect
    from pexpect.popen_spawn import PopenSpawn  # type: ignore[import-untyped]

    if pipes:
        child = PopenSpawn(["cat", path], encoding="utf-8", maxread=1 << 16, timeout=cap)
    else:
        child = pexpect.spawn("cat", [path], encoding="utf-8", maxread=1 << 16, timeout=cap)
        child.delayafterclose = child.ptyproc.delayafterclose = 0
    child.delayafterread = None
    return child


def pexpect_close(child: Any) -> None:
    if hasattr(child, "close"):
        child.close(force=True)
    else:  # PopenSpawn
        child.kill(9)
        child.wait()


def pexpect_sync(
    path: str, pipes: bool, regex: bool, want: int, cap: float, window: int | None
) -> None:
    child = pexpect_child(path, pipes, cap)
    try:
        if regex:
            child.expect(REGEX, searchwindowsize=window)
        else:
            child.expect_exact(MARKER)
        check_size("pexpect", len(child.before), want)
    finally:
        pexpect_close(child)


async def pexpect_async(path: str, regex: bool, want: int, cap: float) -> None:
    child = pexpect_child(path, False, cap)
    try:
        if regex:
            await child.expect(REGEX, async_=True)
        else:
            await child.expect_exact(MARKER, async_=True)
        check_size("pexpect", len(child.before), want)
    finally:
        pexpect_close(child)


def timed(fn: Callable[[], Any], cap: float, quadratic: bool = False) -> Callable[[], float]:
    """``fn`` timed once, for :meth:`Table.measure`.  ``quadratic``: pexpect's
    regex search, which rescans its whole buffer after every read, and its
    ``PopenSpawn`` over pipes (more than 20 s for 32 MiB, as the performance
    page records) may run into their timeout ``cap`` (:class:`Capped`: slow
    by design); any other contender's timeout is a failure."""
    import pexpect

    def run() -> float:
        start = time.perf_counter()
        try:
            fn()
        except pexpect.TIMEOUT as exc:
            if not quadratic:
                raise
            raise Capped(f"did not finish within {cap:.0f}s (pexpect timeout)") from exc
        return time.perf_counter() - start

    return run


# -- memory probe (a fresh interpreter per measurement) ---------------------------------


def memory_probe(path: str, loop: str, regex: bool, cap: float) -> None:
    """In a fresh interpreter: the peak RSS growth of one aioexpect flood,
    after a small one on the same kind of loop, so that importing the loop
    and aioexpect's modules is not counted as the flood's memory."""
    warm_up = make_data(1 << 16)
    try:
        run_on(
            loop,
            partial(aio_flood, warm_up, False, regex, expected_before(warm_up, False), cap=cap),
        )
    finally:
        os.unlink(warm_up)
    want = expected_before(path, False)
    with RssPeak() as peak:  # a timeout or a size mismatch fails: the exit status says it
        retained = run_on(loop, partial(aio_flood, path, False, regex, want, cap=cap))
    print(json.dumps({"delta": peak.delta, "retained": retained}))


class HelperFailed(Exception):
    """A helper interpreter (``--probe``, ``--pipes-alone``) failed."""


def run_helper(args: list[str], timeout: float) -> Any:
    """Run this script with ``args`` in a fresh interpreter; return the JSON
    of its last line of output.  HelperFailed if it exits with an error,
    runs out of time or prints no result."""
    argv = [sys.executable, __file__, *args]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr.strip().splitlines() or ["no error output"])[-1]  # the exception
        why = f"exit status {exc.returncode}: {last[-200:]}"
    except subprocess.TimeoutExpired:
        why = f"did not finish within {timeout:.0f}s"
    except (IndexError, ValueError) as exc:  # no line, or no JSON
        why = f"no result ({exc})"
    raise HelperFailed(f"{args[0]} helper: {why}")


# -- the run -------------------------------------------------------------------------------


def contenders(
    table: Table,
    path: str,
    wants: dict[bool, int],
    cap: float,
    kinds: tuple[bool, ...] = (False, True),
) -> None:
    """The raw limit and aioexpect, over a pty and over pipes (``kinds``:
    whether over pipes), on every loop; ``wants``: the ``expected_before``
    of each kind."""
    for pipes in kinds:
        kind, want = "pipes" if pipes else "pty", wants[pipes]
        table.contend(f"raw {kind} blocking", partial(raw_blocking, path, pipes, want, cap))
        for loop in LOOPS:
            raw = f"raw {kind} {loop}"
            fn = partial(raw_async, path, pipes, want, cap=cap)
            table.contend(raw, fn, loop, vs=f"raw {kind} blocking")
            fn = partial(raw_async, path, pipes, want, join=True, cap=cap)
            table.contend(f"{raw} + one join", fn, loop, "(the floor for one result)", vs=raw)
            for regex in (True, False):
                name = f"aioexpect {kind} {loop} {'regex' if regex else 'exact'}"
                fn = partial(aio_flood, path, pipes, regex, want, cap=cap)
                table.contend(name, fn, loop, vs=raw)
            if not pipes:
                fn = partial(aio_flood, path, False, False, want, encoding=None, cap=cap)
                name = f"aioexpect pty {loop} exact bytes-mode"
                table.contend(name, fn, loop, "(encoding=None)", vs=raw)


def targets(table: Table) -> None:
    """Within 1.10x of the raw loop on the same event loop; the pipes rows
    also as measured alone."""
    whats = [(loop, what) for loop in LOOPS for what in ("regex", "exact")]
    names = [f"aioexpect {kind} {loop} {what}" for kind in ("pty", "pipes") for loop, what in whats]
    names += [f"aioexpect pipes {loop} {what}{ALONE}" for loop, what in whats]
    for name in names:
        table.target(name, 1.10)


# -- the pipes rows alone (a fresh interpreter) ---------------------------------------


def pipes_alone_probe(path: str, cap: float, repeat: int) -> None:
    """In a fresh interpreter, only the pipes rows: after the pty rows the
    raw loop's 64 KiB chunks land on heap pages those rows left behind, while
    aioexpect's 32 MiB result is always mapped afresh (glibc maps anything
    over 32 MiB), so both are measured here where neither finds warm memory."""
    table = Table("flood, pipes alone", baseline="raw pipes blocking", statistic="median")
    contenders(table, path, {True: expected_before(path, True)}, cap, kinds=(True,))
    table.run(repeat)
    rows = [
        {"name": r.name, "seconds": r.seconds, "median": r.median, "note": r.note, "vs": r.vs}
        for r in table.rows
    ]
    print(json.dumps({"rows": rows, "failed": table.failed}))


def pipes_alone_rows(table: Table, path: str, cap: float, repeat: int) -> None:
    """The rows of ``pipes_alone_probe``; its failed rows fail this table too,
    and so does the helper itself failing."""
    try:
        got = run_helper(["--pipes-alone", path, str(cap), str(repeat)], timeout=600)
    except HelperFailed as exc:
        table.failed.append("pipes alone")
        table.add("pipes alone", None, f"FAILED: {exc}")
        return
    for r in got["rows"]:
        vs = r["vs"] and r["vs"] + ALONE
        row = table.add(r["name"] + ALONE, r["seconds"], r["note"], vs=vs)
        row.median = r["median"]
        if row.median is not None:  # None: it failed (see its note)
            row.extra["median"] = f"{row.median:.4f}s"
    table.failed += [name + ALONE for name in got["failed"]]


def pexpect_rows(table: Table, path: str, small: str, wants: dict[bool, int], cap: float) -> None:
    """pexpect's rows; only its regex without a search window may be capped."""
    pty, pipes = wants[False], wants[True]
    rows: list[tuple[str, Callable[[], Any], str, bool]] = [
        (
            "pexpect pty sync exact",
            partial(pexpect_sync, path, False, False, pty, cap, None),
            "",
            False,
        ),
        (
            "pexpect pty sync regex",
            partial(pexpect_sync, path, False, True, pty, cap, None),
            "",
            True,
        ),
        (
            "pexpect pty sync regex window=4096",
            partial(pexpect_sync, path, False, True, pty, cap, 4096),
            "(searchwindowsize=4096)",
            False,
        ),
        (  # (PopenSpawn over 32 MiB does not finish in 20 s: a cap, as documented)
            "pexpect pipes sync exact",
            partial(pexpect_sync, path, True, False, pipes, cap, None),
            "(PopenSpawn)",
            True,
        ),
        (
            "pexpect pty async exact",
            partial(run_on, "asyncio", partial(pexpect_async, path, False, pty, cap)),
            "(async_=True, asyncio)",
            False,
        ),
        (
            "pexpect pty async regex",
            partial(run_on, "asyncio", partial(pexpect_async, path, True, pty, cap)),
            "(async_=True, asyncio)",
            True,
        ),
    ]
    for name, fn, note, quadratic in rows:
        vs = "raw pipes blocking" if "pipes" in name else "raw pty blocking"
        table.measure(name, timed(fn, cap, quadratic), note, vs=vs)
    # The quadratic rescan, shown at a size where it finishes.
    size, want = f"size={mb(os.path.getsize(small))}", expected_before(small, False)
    fn = partial(best_of, partial(raw_blocking, small, False, want, cap), 1)
    table.measure("raw pty blocking (small)", fn, size)
    fn = timed(partial(pexpect_sync, small, False, True, want, cap, None), cap, quadratic=True)
    table.measure("pexpect pty sync regex (small)", fn, size, vs="raw pty blocking (small)")


def memory_rows(table: Table, path: str, want: int, cap: float) -> None:
    """Peak memory: no more than the retained text (``want``, which the probe
    checks it got) plus 32 MiB."""
    for loop, regex in (("asyncio", True), ("uvloop", False)):
        kind = "regex" if regex else "exact"
        what = f"memory aioexpect pty {loop} {kind}"
        try:
            got = run_helper(["--probe", path, loop, kind, str(cap)], timeout=cap + 60)
        except HelperFailed as exc:  # a FAILED row, and the target missed, never left out
            table.failed.append(what)
            table.add(what, None, f"FAILED: {exc}")
            table.check(what, False, "FAILED (target: peak RSS <= retained + 32MiB)")
            continue
        limit = want + 32 * 2**20
        detail = f"peak RSS +{mb(got['delta'])} <= {mb(want)} retained + 32MiB"
        table.check(what, got["delta"] <= limit, detail, delta=got["delta"], limit=limit)


def main() -> None:
    args = parse_args(__doc__ or "")
    size = (4 if args.quick else 32) * 2**20
    # Over a pty the kernel's scheduling of cat spreads single runs by 25%:
    # ratios are of medians over interleaved rounds (best times are shown too).
    repeat = args.repeat or (1 if args.quick else 7)
    cap = 10.0 if args.quick else 20.0
    path, small = make_data(size), make_data(size // 16)
    table = Table("flood", baseline="raw pty blocking", statistic="median")
    table.params = {"size": mb(size), "rounds": repeat, "cap": f"{cap:.0f}s"}
    try:
        wants = {pipes: expected_before(path, pipes) for pipes in (False, True)}
        contenders(table, path, wants, cap)
        table.run(repeat)
        pipes_alone_rows(table, path, cap, repeat)
        targets(table)
        pexpect_rows(table, path, small, wants, cap)
        memory_rows(table, path, wants[False], cap)
    finally:
        os.unlink(path)
        os.unlink(small)
    sys.exit(table.report(args.json))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--probe":
        memory_probe(sys.argv[2], sys.argv[3], sys.argv[4] == "regex", float(sys.argv[5]))
    elif len(sys.argv) == 5 and sys.argv[1] == "--pipes-alone":
        pipes_alone_probe(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
