"""Fleet: many SSH and telnet sessions at once, aioexpect against bare loops.

A separate server process emulates a router shell (prompt ``router#``, ten
lines of output per command) on two 127.0.0.1 ports: SSH (asyncssh, password
login) and telnet (a plain asyncio server speaking just enough telnet, with
an in-band ``Username:``/``Password:`` login).  Each contender then runs in
its own client process (so its memory is measured alone), on uvloop, with
all its sessions open at the same time; each session logs in and runs ten
commands, waiting for the prompt after each:

- ``bare asyncssh``: ``asyncssh.connect`` + ``create_process`` with a pty,
  ``write`` + ``stdout.readuntil(prompt)`` -- the limit;
- ``bare telnetlib3``: ``telnetlib3.open_connection`` in bytes mode,
  ``write`` + ``reader.readuntil(prompt)`` -- the limit;
- ``aioexpect``: ``connect_ssh`` / ``connect_telnet``, ``sendline`` +
  ``expect_exact(prompt)``, the same dialog;
- ``aioexpect execute`` (for information): ``login()`` and ``execute()``,
  i.e. prompt detection by the driver and output cleaning on top.

Printed: wall time, the ratio aioexpect/bare (target: within 1.15x), CPU
per session, and peak memory per session (the client's RSS growth divided
by the number of sessions), for 200 sessions and for 1,000.

    python3 benchmarks/bench_fleet.py [--quick] [--json] [--repeat N]

``--quick``: 50 and 200 sessions.  Bounded: every client has a deadline, the
server exits when its standard input closes or after 20 minutes at most.  A
run in which a session failed is never the best one; if every run of a
contender failed, its row is FAILED, with no ratio, and its targets are
missed (and, but for the ``execute`` rows, the benchmark exits with status 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from _common import RssPeak, Table, mb, parse_args, run_on  # noqa: E402

USER, PASSWORD = "bench", "bench-Password"
PROMPT = "router#"
COMMANDS = [f"show interface Gi0/{k}" for k in range(10)]
SERVER_LIFETIME = 1200.0
CLIENT_DEADLINE = 300.0
#: aioexpect's timeout (connect and each wait): as patient as the bare clients,
#: which wait for ever -- a thousand handshakes at once queue at the server.
WAIT = CLIENT_DEADLINE / 2
LOOP = "uvloop"
_IAC_COMMAND = re.compile(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xf9]|\xff\xfa.*?\xff\xf0", re.DOTALL)


def answer(command: str) -> str:
    """What the router prints for ``command``: ten lines."""
    return "\r\n".join(
        f"{command}: line {j} counters {1000 * j + len(command):>8} packets  up/up"
        for j in range(10)
    )


# -- the server process ---------------------------------------------------------------------


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def ssh_router(process: Any) -> None:
    """The shell of one SSH session (asyncssh's line editor echoes input)."""
    import asyncssh

    process.stdout.write(f"\r\nWelcome\r\n{PROMPT}")
    with contextlib.suppress(asyncssh.Error, OSError):
        async for line in process.stdin:
            command = line.strip()
            if command == "exit":
                break
            if command:
                process.stdout.write(answer(command) + "\r\n")
            process.stdout.write(PROMPT)
    process.exit(0)


class TelnetLines:
    """Lines from a telnet client: option commands dropped, CR LF / CR NUL ends."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.raw = b""
        self.text = b""

    async def line(self) -> bytes:
        while True:
            end = self.text.find(b"\r")
            if end >= 0 and end + 1 < len(self.text):
                line, self.text = self.text[:end], self.text[end + 2 :]
                return line
            data = await self.reader.read(4096)
            if not data:
                raise EOFError
            self.raw += data
            cut = self.raw.rfind(b"\xff")  # keep a command split across reads
            keep = self.raw[cut:] if cut >= 0 and len(self.raw) - cut < 3 else b""
            usable = self.raw[: len(self.raw) - len(keep)]
            self.text += _IAC_COMMAND.sub(b"", usable).replace(b"\xff\xff", b"\xff")
            self.raw = keep


async def telnet_router(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One telnet session: WILL ECHO + SGA (character mode), login, shell."""
    lines = TelnetLines(reader)
    writer.write(b"\xff\xfb\x01\xff\xfb\x03")
    with contextlib.suppress(EOFError, OSError):
        while True:
            writer.write(b"\r\nUsername: ")
            user = await lines.line()
            writer.write(user + b"\r\nPassword: ")
            password = await lines.line()
            if (user.decode(), password.decode()) == (USER, PASSWORD):
                break
            writer.write(b"\r\n% Login invalid\r\n")
        writer.write(f"\r\n{PROMPT}".encode())
        while True:
            command = (await lines.line()).decode().strip()
            if command == "exit":
                break
            out = command + ("\r\n" + answer(command) if command else "")
            writer.write(f"{out}\r\n{PROMPT}".encode())
            await writer.drain()
    writer.close()


async def serve() -> None:
    """Serve SSH and telnet; print the ports; exit when stdin closes."""
    import asyncssh

    class Auth(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return (username, password) == (USER, PASSWORD)

    key = asyncssh.generate_private_key("ssh-ed25519")
    ssh = await asyncssh.listen(
        "127.0.0.1", 0, server_host_keys=[key], server_factory=Auth,
        process_factory=ssh_router, backlog=2048,
    )  # fmt: skip
    telnet = await asyncio.start_server(telnet_router, "127.0.0.1", 0, backlog=2048)
    ports = {"ssh": ssh.get_port(), "telnet": telnet.sockets[0].getsockname()[1]}
    print(json.dumps(ports), flush=True)
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    loop.add_reader(0, lambda: closed.set() if not os.read(0, 4096) else None)
    try:
        await asyncio.wait_for(closed.wait(), SERVER_LIFETIME)
    except TimeoutError:
        print("bench_fleet server: lifetime reached, stopping", file=sys.stderr)
    finally:
        loop.remove_reader(0)
        ssh.close()
        telnet.close()
        print(json.dumps({"cpu": _cpu()}), flush=True)


# -- the clients: one session each ------------------------------------------------------------


async def bare_ssh(port: int) -> None:
    import asyncssh

    async with asyncssh.connect(
        "127.0.0.1", port, username=USER, password=PASSWORD, known_hosts=None
    ) as conn:
        process = await conn.create_process(term_type="xterm", term_size=(80, 24))
        await process.stdout.readuntil(PROMPT)
        for command in COMMANDS:
            process.stdin.write(command + "\n")
            await process.stdout.readuntil(PROMPT)
        process.close()


async def bare_telnet(port: int) -> None:
    import telnetlib3

    reader: Any
    writer: Any  # bytes mode (encoding=False): a TelnetReader and a TelnetWriter
    reader, writer = await telnetlib3.open_connection(
        "127.0.0.1", port, encoding=False, client_factory=telnetlib3.TelnetClient,
        term="xterm", connect_minwait=0, connect_maxwait=1.0,
    )  # fmt: skip
    try:
        prompt = PROMPT.encode()
        await reader.readuntil(b"Username: ")
        writer.write(USER.encode() + b"\r\n")
        await reader.readuntil(b"Password: ")
        writer.write(PASSWORD.encode() + b"\r\n")
        await reader.readuntil(prompt)
        for command in COMMANDS:
            writer.write(command.encode() + b"\r\n")
            await reader.readuntil(prompt)
    finally:
        writer.close()


async def aio_ssh(port: int) -> None:
    import aioexpect

    async with aioexpect.connect_ssh(
        "127.0.0.1", port, username=USER, password=PASSWORD, known_hosts=None, timeout=WAIT
    ) as s:
        await s.expect_exact(PROMPT)
        for command in COMMANDS:
            await s.sendline(command)
            await s.expect_exact(PROMPT)


async def aio_telnet(port: int) -> None:
    import aioexpect

    async with aioexpect.connect_telnet("127.0.0.1", port, timeout=WAIT) as s:
        await s.expect_exact("Username: ")
        await s.sendline(USER)
        await s.expect_exact("Password: ")
        await s.send_secret(PASSWORD)
        await s.expect_exact(PROMPT)
        for command in COMMANDS:
            await s.sendline(command)
            await s.expect_exact(PROMPT)


async def aio_ssh_execute(port: int) -> None:
    import aioexpect

    async with aioexpect.connect_ssh(
        "127.0.0.1", port, username=USER, password=PASSWORD, known_hosts=None, timeout=WAIT
    ) as s:
        await s.expect_prompt()
        for command in COMMANDS:
            await s.execute(command)


async def aio_telnet_execute(port: int) -> None:
    import aioexpect

    async with aioexpect.connect_telnet(
        "127.0.0.1", port, username=USER, password=PASSWORD, timeout=WAIT
    ) as s:
        for command in COMMANDS:
            await s.execute(command)


CLIENTS: dict[str, tuple[str, Callable[[int], Awaitable[None]]]] = {
    "bare asyncssh": ("ssh", bare_ssh),
    "aioexpect ssh": ("ssh", aio_ssh),
    "aioexpect ssh execute": ("ssh", aio_ssh_execute),
    "bare telnetlib3": ("telnet", bare_telnet),
    "aioexpect telnet": ("telnet", aio_telnet),
    "aioexpect telnet execute": ("telnet", aio_telnet_execute),
}


async def fleet(one: Callable[[int], Awaitable[None]], port: int, sessions: int) -> int:
    """Run ``sessions`` sessions at once; return how many failed."""

    async def guarded(i: int) -> bool:
        try:
            async with asyncio.timeout(CLIENT_DEADLINE / 2):
                await one(port)
            return True
        except Exception as exc:
            print(f"session {i}: {exc!r}", file=sys.stderr)
            return False

    results = await asyncio.gather(*(guarded(i) for i in range(sessions)))
    return results.count(False)


def client(name: str, port: int, sessions: int) -> None:
    """One contender in this process; prints its measurements as JSON."""
    import logging

    logging.getLogger("aioexpect").setLevel(logging.ERROR)  # known_hosts=None warns each time
    logging.getLogger("asyncssh").setLevel(logging.ERROR)
    logging.getLogger("telnetlib3").setLevel(logging.ERROR)
    _raise_fd_limit()
    import asyncssh  # noqa: F401  (imports are not what is measured)
    import telnetlib3  # noqa: F401

    import aioexpect  # noqa: F401

    one = CLIENTS[name][1]

    async def timed() -> tuple[float, int]:
        start = time.perf_counter()
        async with asyncio.timeout(CLIENT_DEADLINE):
            failed = await fleet(one, port, sessions)
        return time.perf_counter() - start, failed

    cpu_start = _cpu()
    with RssPeak() as memory:
        seconds, failed = run_on(LOOP, timed)
    print(json.dumps({"seconds": seconds, "failed": failed, "cpu": _cpu() - cpu_start,
                      "rss_delta": memory.delta}))  # fmt: skip


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the driver ------------------------------------------------------------------------------


def _python(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def run_client(name: str, port: int, sessions: int, home: str) -> dict[str, Any]:
    env = dict(os.environ, HOME=home)  # none of the user's ~/.ssh keys or config
    env.pop("SSH_AUTH_SOCK", None)
    done = subprocess.run(
        _python("--client", name, str(port), str(sessions)), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, env=env, timeout=CLIENT_DEADLINE + 60, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{name} client failed ({done.returncode}):\n{done.stderr[-3000:]}")
    errors = done.stderr.strip().splitlines()
    if errors:
        print(f"{name} x{sessions}: {len(errors)} lines on stderr: {errors[0]}", file=sys.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(sizes: tuple[int, ...], repeat: int) -> dict[tuple[str, int], dict[str, Any]]:
    """Start the server, run every contender at every size; keep each best run."""
    best: dict[tuple[str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as home:
        server = subprocess.Popen(
            _python("--serve"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            if not line:
                raise RuntimeError("the router server did not start")
            ports = json.loads(line)
            for sessions in sizes:
                for _ in range(repeat):
                    for name, (proto, _one) in CLIENTS.items():  # interleaved: fair drift
                        if sessions > sizes[0] and name.endswith("execute"):
                            continue
                        try:
                            r = run_client(name, ports[proto], sessions, home)
                        except (RuntimeError, subprocess.TimeoutExpired) as exc:
                            r = {"seconds": None, "error": str(exc)[-300:]}
                        keep_best(best, (name, sessions), r)
        finally:
            try:
                server.communicate(timeout=60)  # closes its stdin: it stops
            except subprocess.TimeoutExpired:
                server.kill()
                server.communicate()
    return best


def failure(r: dict[str, Any]) -> str | None:
    """Why the client run ``r`` failed, or None."""
    if r["seconds"] is None:
        return str(r["error"])
    return f"{r['failed']} sessions FAILED" if r["failed"] else None


def keep_best(
    best: dict[tuple[str, int], dict[str, Any]], key: tuple[str, int], r: dict[str, Any]
) -> None:
    """Keep ``r`` for ``key`` if it beats the run kept: a run without failures
    beats any with them (sessions that failed early make a run fast), then
    the faster one."""
    old = best.get(key)
    if failure(r) is not None:
        best.setdefault(key, r)  # kept only while no run of it succeeded
    elif old is None or failure(old) is not None or r["seconds"] < old["seconds"]:
        best[key] = r


def main() -> None:
    args = parse_args(__doc__.splitlines()[0] if __doc__ else "fleet benchmark")
    sizes = (50, 200) if args.quick else (200, 1000)
    repeat = args.repeat or 1
    sys.exit(report(measure(sizes, repeat), sizes, repeat, as_json=args.json))


def report(
    best: dict[tuple[str, int], dict[str, Any]],
    sizes: tuple[int, ...],
    repeat: int,
    *,
    as_json: bool,
) -> int:
    """Print the table; return the exit status: 1 if a run failed (a failed
    run shows no ratio, and its targets read MISSED; the ``execute`` rows are
    for information and do not fail the benchmark)."""
    table = Table(
        f"fleet: SSH and telnet sessions at once, login + {len(COMMANDS)} commands each",
        baseline=f"bare asyncssh x{sizes[0]}",
        params={"sessions": "/".join(map(str, sizes)), "commands": len(COMMANDS),
                "loop": LOOP, "best_of": repeat, "server": "separate process"},
    )  # fmt: skip
    for (name, sessions), r in best.items():
        proto = CLIENTS[name][0]
        bare = "bare asyncssh" if proto == "ssh" else "bare telnetlib3"
        vs = None if name.startswith("bare") else f"{bare} x{sessions}"
        why = failure(r)
        if why is not None:  # no time: no ratio, and its targets MISSED
            table.add(f"{name} x{sessions}", None, f"FAILED: {why}", vs=vs)
            if not name.endswith("execute"):
                table.failed.append(name)
            continue
        table.add(
            f"{name} x{sessions}", r["seconds"], vs=vs,
            sessions_per_s=f"{sessions / r['seconds']:.0f}",
            cpu_ms_per_session=f"{1000 * r['cpu'] / sessions:.1f}",
            memory_per_session=f"{r['rss_delta'] / sessions / 1024:.0f}KiB",
            peak_memory=mb(r["rss_delta"]),
        )  # fmt: skip
    for sessions in sizes:
        for proto, bare in (("ssh", "bare asyncssh"), ("telnet", "bare telnetlib3")):
            name = f"aioexpect {proto} x{sessions}"
            table.target(name, 1.15, f"{name} wall time")
            mine, limit = best.get((name.rsplit(" ", 1)[0], sessions)), best.get((bare, sessions))
            if not mine or not limit or failure(mine) or failure(limit):
                table.check(
                    f"{name} client CPU", False, "not measured: a run FAILED (target <= 1.15x)"
                )
            elif mine["cpu"] and limit["cpu"]:
                ratio = mine["cpu"] / limit["cpu"]
                table.check(
                    f"{name} client CPU", ratio <= 1.15, f"{ratio:.2f}x <= 1.15x", ratio=ratio
                )
    return table.report(as_json)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        _raise_fd_limit()
        run_on(LOOP, serve)
    elif sys.argv[1:2] == ["--client"]:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
