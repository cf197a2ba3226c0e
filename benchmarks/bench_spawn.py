"""Spawn churn: N short-lived children (``echo x``) in a pty, one after the
other; each is read to end-of-file and reaped.

Contenders: the raw limit (``subprocess.Popen`` on a fresh pty that becomes
the child's controlling terminal, as in every expect tool; then a blocking
read loop, or an ``add_reader`` loop with a pidfd reaper on asyncio and
uvloop), aioexpect on both loops, and pexpect (sync and ``async_=True``)
with its 100 ms ``delayafterclose`` turned off.
"""

from __future__ import annotations

import asyncio
import os
import sys
from functools import partial
from typing import Any

from _common import (
    LOOPS,
    Deadline,
    Table,
    parse_args,
    pty_child,
    read_to_eof,
    reap,
)

import aioexpect

ARGV = ["echo", "x"]
#: The time cap of a whole raw run, whose loops have no timeout of their own
#: (aioexpect's and pexpect's waits have theirs, 10 s each): a child that
#: never ends fails the run, never hangs it.  300 children take about 1.2 s.
CAP = 60.0


def raw_blocking(n: int, ctty: bool = True, cap: float = CAP) -> None:
    with Deadline(cap) as deadline:
        for _ in range(n):
            proc, fd = pty_child(ARGV, ctty=ctty)
            deadline.watch(proc)
            try:
                read_to_eof(fd)
            finally:
                os.close(fd)
                proc.wait()


async def raw_one() -> bytes:
    loop = asyncio.get_running_loop()
    proc, fd = pty_child(ARGV)
    os.set_blocking(fd, False)
    done: asyncio.Future[None] = loop.create_future()
    chunks: list[bytes] = []

    def readable() -> None:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:  # EIO: the child side closed
            data = b""
        if data:
            chunks.append(data)
        else:
            loop.remove_reader(fd)
            done.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await done
    finally:
        loop.remove_reader(fd)
        os.close(fd)
        await reap(proc)
    return b"".join(chunks)


async def raw_async(n: int, cap: float = CAP) -> None:
    async with asyncio.timeout(cap):  # one timer for the whole run
        for _ in range(n):
            assert await raw_one() == b"x\r\n"


async def aio_churn(n: int) -> None:
    for _ in range(n):
        async with aioexpect.spawn(ARGV[0], ARGV[1:], timeout=10) as s:
            out = await s.read_all()
            await s.wait()
        assert out == "x\r\n", out


def pexpect_spawn() -> Any:
    import pexpect

    child = pexpect.spawn(ARGV[0], ARGV[1:], encoding="utf-8", timeout=10)
    child.delayafterclose = child.ptyproc.delayafterclose = 0
    child.delayafterread = None
    return child


def pexpect_sync(n: int) -> None:
    import pexpect

    for _ in range(n):
        child = pexpect_spawn()
        child.expect(pexpect.EOF)
        child.close()


async def pexpect_async(n: int) -> None:
    import pexpect

    for _ in range(n):
        child = pexpect_spawn()
        await child.expect(pexpect.EOF, async_=True)
        child.close()


def main() -> None:
    args = parse_args(__doc__ or "")
    n = 40 if args.quick else 300
    repeat = args.repeat or (2 if args.quick else 3)
    table = Table("spawn churn", baseline="raw blocking")
    table.params = {"children": n, "best_of": repeat, "argv": " ".join(ARGV)}
    table.contend("raw blocking", partial(raw_blocking, n))
    note = "(no controlling terminal: subprocess may use vfork)"
    table.contend("raw blocking, no ctty", partial(raw_blocking, n, ctty=False), None, note)
    for loop in LOOPS:
        table.contend(f"raw {loop}", partial(raw_async, n), loop, vs="raw blocking")
        table.contend(f"aioexpect {loop}", partial(aio_churn, n), loop, vs=f"raw {loop}")
    table.contend("pexpect sync", partial(pexpect_sync, n))
    note = "(async_=True, asyncio)"
    table.contend("pexpect async", partial(pexpect_async, n), "asyncio", note, "raw asyncio")
    table.run(repeat)
    for loop in LOOPS:
        table.target(f"aioexpect {loop}", 1.15)
    sys.exit(table.report(args.json))


if __name__ == "__main__":
    main()
