"""Ping-pong: N ``sendline``/``expect`` round trips with ``cat`` in a pty.

The terminal's echo is off, so each line comes back once, from ``cat``.
Contenders: the raw limit (blocking ``os.write``/``os.read``, and an
``add_reader`` callback state machine on asyncio and uvloop, which writes the
next line from the callback: no coroutine, no future per round trip),
a coroutine awaiting one future per round trip (the floor of any
coroutine API), aioexpect on both loops (exact and regex), and pexpect (sync and
``async_=True``) with its 50 ms ``delaybeforesend`` turned off.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from functools import partial
from typing import Any

from _common import LOOPS, Deadline, Table, parse_args, pty_child, reap

import aioexpect

READ = 1 << 16
#: The time cap of a whole raw run, whose loop has no timeout of its own
#: (aioexpect's and pexpect's waits have theirs, 30 s each): a lost reply
#: fails the run, never hangs it.  5,000 round trips take about half a second.
CAP = 60.0


def line(i: int) -> str:
    return f"ping {i}"


# -- the raw limit -----------------------------------------------------------------


def raw_blocking(n: int, cap: float = CAP) -> None:
    proc, fd = pty_child(["cat"], echo=False)
    try:
        with Deadline(cap) as deadline:
            deadline.watch(proc)
            for i in range(n):
                os.write(fd, f"{line(i)}\n".encode())
                want, got = f"{line(i)}\r\n".encode(), b""
                while not got.endswith(want):
                    got += os.read(fd, READ)
    finally:
        os.close(fd)
        proc.wait()


async def raw_async(n: int, cap: float = CAP) -> None:
    loop = asyncio.get_running_loop()
    proc, fd = pty_child(["cat"], echo=False)
    os.set_blocking(fd, False)
    done: asyncio.Future[None] = loop.create_future()
    state: dict[str, Any] = {"i": 0, "got": b"", "want": f"{line(0)}\r\n".encode()}

    def readable() -> None:
        try:
            data = os.read(fd, READ)
        except BlockingIOError:
            return
        except OSError as exc:
            loop.remove_reader(fd)
            done.set_exception(EOFError(str(exc)))
            return
        state["got"] += data
        if not state["got"].endswith(state["want"]):
            return
        i = state["i"] = state["i"] + 1
        if i == n:
            loop.remove_reader(fd)
            done.set_result(None)
            return
        state["got"], state["want"] = b"", f"{line(i)}\r\n".encode()
        os.write(fd, f"{line(i)}\n".encode())

    loop.add_reader(fd, readable)
    os.write(fd, f"{line(0)}\n".encode())
    try:
        async with asyncio.timeout(cap):  # one timer for the whole run
            await done
    finally:
        loop.remove_reader(fd)
        os.close(fd)
        await reap(proc)


async def raw_coroutine(n: int, cap: float = CAP) -> None:
    """The floor for any coroutine API: one future per round trip, resolved by
    the reader callback, awaited by a coroutine that writes the next line."""
    loop = asyncio.get_running_loop()
    proc, fd = pty_child(["cat"], echo=False)
    os.set_blocking(fd, False)
    state: dict[str, Any] = {"got": b"", "want": b"", "fut": None}

    def readable() -> None:
        try:
            data = os.read(fd, READ)
        except BlockingIOError:
            return
        except OSError as exc:
            data, fut = b"", state["fut"]
            if fut is not None and not fut.done():
                fut.set_exception(EOFError(str(exc)))
            loop.remove_reader(fd)
        state["got"] += data
        fut = state["fut"]
        if fut is not None and not fut.done() and state["got"].endswith(state["want"]):
            fut.set_result(None)

    loop.add_reader(fd, readable)
    try:
        async with asyncio.timeout(cap):  # one timer for the whole run
            for i in range(n):
                state["got"], state["want"] = b"", f"{line(i)}\r\n".encode()
                state["fut"] = loop.create_future()
                os.write(fd, f"{line(i)}\n".encode())
                await state["fut"]
    finally:
        loop.remove_reader(fd)
        os.close(fd)
        await reap(proc)


# -- aioexpect ------------------------------------------------------------------------


async def aio_pingpong(n: int, regex: bool) -> None:
    async with aioexpect.spawn("cat", echo=False, timeout=30) as s:
        if regex:
            pattern = re.compile(r"ping (\d+)\r\n")
            for i in range(n):
                await s.sendline(line(i))
                m = await s.expect(pattern)
                assert m.group(1) == str(i)
        else:
            for i in range(n):
                await s.sendline(line(i))
                await s.expect_exact(f"{line(i)}\r\n")


# -- pexpect ---------------------------------------------------------------------------


def pexpect_child() -> Any:
    import pexpect

    child = pexpect.spawn("cat", echo=False, encoding="utf-8", timeout=30)
    child.delaybeforesend = None
    child.delayafterread = None
    child.delayafterclose = child.ptyproc.delayafterclose = 0
    return child


def pexpect_sync(n: int, regex: bool) -> None:
    child = pexpect_child()
    try:
        pattern = re.compile(r"ping (\d+)\r\n")
        for i in range(n):
            child.sendline(line(i))
            if regex:
                child.expect(pattern)
            else:
                child.expect_exact(f"{line(i)}\r\n")
    finally:
        child.close(force=True)


async def pexpect_async(n: int) -> None:
    child = pexpect_child()
    try:
        for i in range(n):
            child.sendline(line(i))
            await child.expect_exact(f"{line(i)}\r\n", async_=True)
    finally:
        child.close(force=True)


def main() -> None:
    args = parse_args(__doc__ or "")
    n = 500 if args.quick else 5000
    repeat = args.repeat or (2 if args.quick else 5)
    table = Table("pingpong", baseline="raw blocking")
    table.params = {"round_trips": n, "best_of": repeat, "child": "cat, echo off"}
    table.contend("raw blocking", partial(raw_blocking, n))
    for loop in LOOPS:
        table.contend(f"raw {loop}", partial(raw_async, n), loop, vs="raw blocking")
        note = "(one future per round trip: the floor of any coroutine API)"
        table.contend(f"raw {loop} coroutine", partial(raw_coroutine, n), loop, note, f"raw {loop}")
        for regex in (False, True):
            name = f"aioexpect {loop} {'regex' if regex else 'exact'}"
            table.contend(name, partial(aio_pingpong, n, regex), loop, vs=f"raw {loop}")
    table.contend("pexpect sync exact", partial(pexpect_sync, n, False))
    table.contend("pexpect sync regex", partial(pexpect_sync, n, True))
    note = "(async_=True, asyncio)"
    table.contend("pexpect async exact", partial(pexpect_async, n), "asyncio", note, "raw asyncio")
    table.run(repeat)
    for loop in LOOPS:
        for kind in ("exact", "regex"):
            table.target(f"aioexpect {loop} {kind}", 1.15)
    table.add(
        "pexpect sync default delay",
        None,
        f"not run: its default delaybeforesend=0.05s alone would add {n * 0.05:.0f}s",
    )
    sys.exit(table.report(args.json))


if __name__ == "__main__":
    main()
