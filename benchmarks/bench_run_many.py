"""run_many against a bare asyncssh loop, over emulated SSH devices.

A separate server process serves N emulated devices (``VirtualDevice`` over
``serve_ssh``, one port each, password login).  Then, each in its own client
process (so memory is measured separately), on uvloop:

- ``asyncssh loop``: the hand-written baseline — ``concurrency`` workers, each
  ``asyncssh.connect``, a shell channel with a pty, ``readuntil(prompt)``,
  then per command ``write`` + ``readuntil(prompt)``;
- ``run_many``: ``aioexpect.run_many(targets, job, concurrency=...)`` where
  the job calls ``session.execute`` for each command (prompt detection by
  the generic driver's patterns, output cleaning, transcript-grade
  bookkeeping).

Both do the same work: N sessions, 10 commands each, 200 at a time.  The
report gives sessions per second, the ratio to the baseline (target: within
1.15x), the CPU time each client used (the fairer figure on a busy machine,
where wall time also measures the neighbours) and the peak memory of each
client (the growth of its resident set during the run, and its lifetime
peak).

    python3 benchmarks/bench_run_many.py [--quick] [--json] [--repeat N]

``--quick``: 100 devices, concurrency 50.  Each contender's time is the best
of 2 runs (``--quick``: 3; ``--repeat N``), the order alternating between
rounds.  Bounded: every wait has a deadline, and the server exits when its
standard input closes or after 15 minutes at most.  A client run in which a
session failed (or that did not finish every device) is never the best one;
if every run of a contender failed, its row is FAILED, with no ratio, its
targets are missed and the benchmark exits with status 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from _common import RssPeak, Table, mb, parse_args, peak_rss  # noqa: E402

USER, PASSWORD = "bench", "bench-password"
COMMANDS = [f"show item {k}" for k in range(10)]
SERVER_LIFETIME = 900.0
CLIENT_DEADLINE = 600.0
LOOP = "uvloop"


# -- the server process ------------------------------------------------------------------


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _item(command: str, match: Any) -> str:
    k = int(match.group(1))
    return "\n".join(f"item {k} line {j}: value {k * 100 + j:>8}  status ok" for j in range(12))


async def serve(count: int) -> None:
    """Serve ``count`` devices; print their ports; exit when stdin closes."""
    import asyncssh

    from aioexpect.testing import VirtualDevice, serve_ssh

    key = asyncssh.generate_private_key("ssh-ed25519")
    async with contextlib.AsyncExitStack() as stack:
        ports = []
        for i in range(count):
            device = VirtualDevice(
                f"d{i}", prompt=f"d{i}#", commands={r"show item (\d+)": _item},
                login=(USER, PASSWORD),
            )  # fmt: skip
            server = await stack.enter_async_context(serve_ssh(device, host_keys=[key]))
            ports.append(server.port)
        print(json.dumps({"ports": ports}), flush=True)
        loop = asyncio.get_running_loop()
        closed = asyncio.Event()
        loop.add_reader(sys.stdin.fileno(), lambda: closed.set() if not os.read(0, 4096) else None)
        try:
            await asyncio.wait_for(closed.wait(), SERVER_LIFETIME)
        except TimeoutError:
            print("bench server: lifetime reached, stopping", file=sys.stderr)
        finally:
            loop.remove_reader(sys.stdin.fileno())
            print(json.dumps({"cpu": _cpu()}), flush=True)


# -- the clients ---------------------------------------------------------------------------


async def bare_asyncssh(ports: list[int], concurrency: int) -> tuple[int, int]:
    """The baseline: a worker pool over plain asyncssh; returns (ok, failed)."""
    import asyncssh

    ok = failed = 0
    todo = iter(enumerate(ports))

    async def one(i: int, port: int) -> None:
        prompt = f"d{i}#"
        async with asyncssh.connect(
            "127.0.0.1", port, username=USER, password=PASSWORD, known_hosts=None
        ) as conn:
            process = await conn.create_process(term_type="xterm", term_size=(80, 24))
            await process.stdout.readuntil(prompt)
            for command in COMMANDS:
                process.stdin.write(command + "\n")
                await process.stdout.readuntil(prompt)
            process.close()

    async def worker() -> None:
        nonlocal ok, failed
        for i, port in todo:
            try:
                async with asyncio.timeout(60):
                    await one(i, port)
                ok += 1
            except Exception as exc:
                failed += 1
                print(f"asyncssh loop: d{i}: {exc!r}", file=sys.stderr)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(ports))):
            group.create_task(worker())
    return ok, failed


async def with_run_many(ports: list[int], concurrency: int) -> tuple[int, int]:
    import aioexpect
    from aioexpect import Account, Host

    account = Account(USER, PASSWORD)
    targets = [Host(f"ssh://127.0.0.1:{port}", account) for port in ports]

    async def job(session: aioexpect.Session, host: Host) -> int:
        for command in COMMANDS:
            await session.execute(command)
        return len(COMMANDS)

    results = await aioexpect.run_many(
        targets, job, concurrency=concurrency, timeout=60, known_hosts=None
    )
    for r in results:
        if not r.ok:
            print(f"run_many: {r.host!r}: {r.error!r}", file=sys.stderr)
    failed = sum(not r.ok for r in results)
    return len(results) - failed, failed


CLIENTS = {"asyncssh loop": bare_asyncssh, "run_many": with_run_many}


def client(name: str, ports_file: str, concurrency: int) -> None:
    """One contender in this process; prints its measurements as JSON."""
    import logging

    from _common import run_on

    logging.getLogger("aioexpect").setLevel(logging.ERROR)  # known_hosts=None warns each time
    _raise_fd_limit()
    ports = json.loads(Path(ports_file).read_text())["ports"]
    contender = CLIENTS[name]

    async def timed() -> tuple[float, int, int]:
        start = time.perf_counter()
        async with asyncio.timeout(CLIENT_DEADLINE):
            ok, failed = await contender(ports, concurrency)
        return time.perf_counter() - start, ok, failed

    cpu_start = _cpu()
    with RssPeak() as memory:
        seconds, ok, failed = run_on(LOOP, timed)
    cpu = _cpu() - cpu_start
    print(json.dumps({"seconds": seconds, "ok": ok, "failed": failed, "cpu": cpu,
                      "rss_delta": memory.delta, "peak_rss": peak_rss()}))  # fmt: skip


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the driver ----------------------------------------------------------------------------


def _python(*args: str, **kwargs: Any) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def run_client(name: str, ports_file: str, concurrency: int, home: str) -> dict[str, Any]:
    """One contender's measurements; ``{"seconds": None, "error": ...}`` if its
    process failed or ran out of time."""
    env = dict(os.environ, HOME=home)  # no ~/.ssh keys or known_hosts of the user
    try:
        done = subprocess.run(
            _python("--client", name, ports_file, str(concurrency)),
            capture_output=True, text=True, env=env, timeout=CLIENT_DEADLINE + 60, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"seconds": None, "error": f"did not finish within {CLIENT_DEADLINE + 60:.0f}s"}
    if done.returncode != 0:
        print(f"{name} client failed:\n{done.stderr[-3000:]}", file=sys.stderr)
        return {"seconds": None, "error": f"client exit status {done.returncode}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    errors = done.stderr.strip().splitlines()
    if errors:
        print(f"{name}: {len(errors)} lines on stderr, first: {errors[0]}", file=sys.stderr)
    return result


def failure(r: dict[str, Any], hosts: int) -> str | None:
    """Why the client run ``r`` failed, or None: every one of the ``hosts``
    sessions must have run its commands."""
    if r["seconds"] is None:
        return str(r["error"])
    if r["failed"] or r["ok"] != hosts:
        return f"{r['failed']} of {hosts} sessions failed, {r['ok']} ok"
    return None


def keep_best(best: dict[str, dict[str, Any]], name: str, r: dict[str, Any], hosts: int) -> None:
    """Keep ``r`` as ``name``'s result if it beats the one kept: a run without
    failures beats any with them (a run whose sessions failed fast is fast),
    then the faster one."""
    old = best.get(name)
    if failure(r, hosts) is not None:
        best.setdefault(name, r)  # kept only while no run of it succeeded
    elif old is None or failure(old, hosts) is not None or r["seconds"] < old["seconds"]:
        best[name] = r


def main() -> int:
    args = parse_args(__doc__.splitlines()[0] if __doc__ else "run_many benchmark")
    hosts, concurrency = (100, 50) if args.quick else (1000, 200)
    repeat = args.repeat or (3 if args.quick else 2)
    with tempfile.TemporaryDirectory(prefix="bench-run-many-") as tmp:
        server = subprocess.Popen(
            _python("--serve", str(hosts)), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            if not line:
                raise RuntimeError("the device server did not start")
            ports_file = str(Path(tmp, "ports.json"))
            Path(ports_file).write_text(line)
            best: dict[str, dict[str, Any]] = {}
            runs = 0
            for turn in range(repeat):
                names = list(CLIENTS) if turn % 2 == 0 else list(reversed(CLIENTS))
                for name in names:  # alternate the order, so drift hits both alike
                    keep_best(best, name, run_client(name, ports_file, concurrency, tmp), hosts)
                    runs += 1
        finally:
            try:
                rest = server.communicate(timeout=60)[0]  # closes its stdin: it stops
            except subprocess.TimeoutExpired:
                server.kill()
                rest = server.communicate()[0]
    server_cpu = json.loads(rest.strip().splitlines()[-1])["cpu"] if rest.strip() else None
    per_session = None if server_cpu is None else round(1000 * server_cpu / (runs * hosts), 1)
    return report(best, hosts, concurrency, repeat, per_session, as_json=args.json)


def report(
    best: dict[str, dict[str, Any]],
    hosts: int,
    concurrency: int,
    repeat: int,
    server_ms: float | None,
    *,
    as_json: bool,
) -> int:
    """Print the table; return the exit status: 1 if a client run failed (a
    failed run shows no ratio, and its targets read MISSED)."""
    table = Table(
        f"run_many: {hosts} emulated SSH devices, {len(COMMANDS)} commands each",
        baseline="asyncssh loop",
        params={"hosts": hosts, "concurrency": concurrency, "commands": len(COMMANDS),
                "loop": LOOP, "best_of": repeat, "server": "separate process",
                "server_cpu_ms_per_session": server_ms},
    )  # fmt: skip
    failed = {name: why for name, r in best.items() if (why := failure(r, hosts)) is not None}
    table.failed += list(failed)
    for name, r in best.items():
        if name in failed:  # no time: no ratio, and its targets MISSED
            table.add(name, None, f"FAILED: {failed[name]}")
            continue
        table.add(
            name,
            r["seconds"],
            sessions_per_s=f"{r['ok'] / r['seconds']:.0f}",
            cpu_ms_per_session=f"{1000 * r['cpu'] / max(1, r['ok']):.1f}",
            peak_memory=mb(r["rss_delta"]),
            peak_rss=mb(r["peak_rss"]),
        )
    for name, r in best.items():  # CPU time: what the client itself costs, load or not
        cpu = None if name in failed else r["cpu"]
        table.add(
            f"{name} (client CPU)",
            cpu,
            "FAILED" if cpu is None else "",
            vs="asyncssh loop (client CPU)",
        )
    table.target("run_many", 1.15, "run_many vs a bare asyncssh loop, wall time")
    table.target("run_many (client CPU)", 1.15, "run_many vs a bare asyncssh loop, client CPU")
    return table.report(as_json)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        _raise_fd_limit()
        from _common import run_on

        run_on(LOOP, lambda: serve(int(sys.argv[2])))
    elif sys.argv[1:2] == ["--client"]:
        client(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(main())
