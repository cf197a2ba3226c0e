"""Shared helpers for the benchmarks: timing, memory, event loops, result tables.

Every ``bench_*.py`` builds a :class:`Table` of rows (one per contender), then
calls :meth:`Table.report`, which prints ratios against a named baseline row
as plain text, or JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import psutil  # type: ignore[import-untyped]

LOOPS = ("asyncio", "uvloop")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run from a checkout: benchmark the source next to us
    sys.path.insert(1, ROOT)


def parse_args(description: str) -> argparse.Namespace:
    """``--quick`` (small sizes, a few seconds), ``--json`` (machine-readable)
    and ``--pin`` (this process and its children on one CPU: on a multi-core
    machine, where the kernel places the child, its terminal's worker and
    the reader changes each run's time by 25%)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    parser.add_argument("--repeat", type=int, default=None, help="best of N runs")
    parser.add_argument("--pin", action="store_true", help="run on one CPU, children too")
    args = parser.parse_args()
    if args.pin:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    return args


def pinned() -> int | None:
    """The one CPU this process may run on, on a machine with more."""
    cpus = os.sched_getaffinity(0)
    return next(iter(cpus)) if len(cpus) == 1 and (os.cpu_count() or 1) > 1 else None


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """The ``new_event_loop`` of the named loop: ``"asyncio"`` or ``"uvloop"``."""
    if name == "asyncio":
        return asyncio.new_event_loop
    if name == "uvloop":
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    raise ValueError(f"unknown event loop {name!r}; expected one of {LOOPS}")


def run_on(loop: str, fn: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``await fn()`` to completion on a fresh loop of the named kind."""

    async def main() -> Any:
        return await fn()

    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        return runner.run(main())


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Smallest wall time (seconds) of ``repeat`` calls of the sync ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def best_of_async(fn: Callable[[], Awaitable[Any]], loop: str, repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` runs of ``await fn()``, each timed inside
    a fresh loop of the named kind (loop start-up and shutdown not counted)."""

    async def timed() -> float:
        start = time.perf_counter()
        await fn()
        return time.perf_counter() - start

    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        best = min(best, run_on(loop, timed))
    return best


def pty_child(
    argv: list[str], *, echo: bool = True, ctty: bool = True
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``argv`` with a pty as stdin/stdout/stderr; return (process, master fd).

    The raw baselines' way: no shell; the slave is closed here, so reading the
    master gives ``EIO`` once the child is gone.  ``ctty``: the pty becomes
    the child's controlling terminal (setsid + TIOCSCTTY in a preexec hook,
    as every expect tool must do); without it, ``start_new_session`` only,
    which lets ``subprocess`` use vfork.
    """
    master, slave = os.openpty()
    if not echo:
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(slave, termios.TCSANOW, attrs)

    def acquire() -> None:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    options: dict[str, Any] = {"preexec_fn": acquire} if ctty else {"start_new_session": True}
    try:
        proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, **options)
    finally:
        os.close(slave)
    return proc, master


def read_to_eof(fd: int, size: int = 1 << 18) -> None:
    """Blocking read of a pty master or pipe until EOF (``EIO`` on a pty)."""
    try:
        while os.read(fd, size):
            pass
    except OSError:
        pass


async def reap(proc: subprocess.Popen[bytes]) -> int:
    """Wait for ``proc`` without blocking the loop: a pidfd reader where the
    platform has one, else a worker thread."""
    loop = asyncio.get_running_loop()
    if not hasattr(os, "pidfd_open"):
        return await loop.run_in_executor(None, proc.wait)
    pidfd = os.pidfd_open(proc.pid)
    done = loop.create_future()
    loop.add_reader(pidfd, done.set_result, None)
    try:
        await done
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
    return proc.wait()


def rss() -> int:
    """Current resident set size of this process, in bytes."""
    return int(psutil.Process().memory_info().rss)


def peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes (getrusage)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


class RssPeak:
    """``with RssPeak() as p: ...`` then ``p.delta``: the peak RSS reached inside
    the block minus the RSS on entry (bytes), sampled every ``interval`` s by a
    thread, and bounded below by the growth of getrusage's lifetime peak."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss())

    def __enter__(self) -> RssPeak:
        gc.collect()
        self.start = self.peak = rss()
        self._lifetime = peak_rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())
        if peak_rss() > self._lifetime:  # a new lifetime peak was set in the block
            self.peak = max(self.peak, peak_rss())

    @property
    def delta(self) -> int:
        return max(0, self.peak - self.start)


@dataclass
class Row:
    name: str
    seconds: float | None  # None: not run (see note)
    note: str = ""
    vs: str | None = None  # the row it is compared with (default: the table's)
    extra: dict[str, Any] = field(default_factory=dict)
    median: float | None = None  # of the rounds of ``Table.run``


@dataclass
class Table:
    """Results of one benchmark; ratios are ``seconds / baseline.seconds``,
    or of the medians with ``statistic="median"``."""

    title: str
    baseline: str
    statistic: str = "best"
    rows: list[Row] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pending: list[tuple[str, Callable[[], Any], str | None, str, str | None]] = field(
        default_factory=list, repr=False
    )

    def add(
        self, name: str, seconds: float | None, note: str = "", vs: str | None = None, **extra: Any
    ) -> Row:
        row = Row(name, seconds, note, vs, extra)
        self.rows.append(row)
        return row

    def contend(
        self,
        name: str,
        fn: Callable[[], Any],
        loop: str | None = None,
        note: str = "",
        vs: str | None = None,
    ) -> None:
        """Register a contender for ``run``: ``fn()``, or ``await fn()`` on ``loop``."""
        self.pending.append((name, fn, loop, note, vs))

    def run(self, repeat: int, slow: float = 5.0) -> None:
        """Time the registered contenders round-robin, ``repeat`` rounds, and
        add a row with each one's best time: interleaving spreads the noise of
        a shared machine evenly over the contenders.  One that took more than
        ``slow`` seconds is not repeated (it is far off anyway)."""
        best: dict[str, float] = {}
        times: dict[str, list[float]] = {}
        cpu: dict[str, float] = {}  # this process's CPU time (not the child's)
        errors: dict[str, Exception] = {}
        for _ in range(repeat):
            for name, fn, loop, _note, _vs in self.pending:
                if name in errors or best.get(name, 0.0) > slow:
                    continue
                start = time.process_time()
                try:
                    t = best_of(fn, 1) if loop is None else best_of_async(fn, loop, 1)
                except Exception as exc:
                    errors[name] = exc
                    continue
                used = time.process_time() - start
                best[name] = min(t, best.get(name, t))
                times.setdefault(name, []).append(t)
                cpu[name] = min(used, cpu.get(name, used))
        for name, _fn, _loop, note, vs in self.pending:
            if name in errors:
                self.measure(name, partial(_raise, errors[name]), note, vs=vs)
            else:
                row = self.add(name, best[name], note, vs=vs)
                row.median = statistics.median(times[name])
                row.extra["cpu"] = f"{cpu[name]:.3f}s"
                row.extra["median"] = f"{row.median:.4f}s"
        self.pending.clear()

    def measure(
        self, name: str, measure: Callable[[], float], note: str = "", vs: str | None = None
    ) -> Row:
        """Add a row timed by ``measure()``; if it raises, a row marked FAILED,
        unless it raised :class:`Capped`: slow by design, not broken.  Any other
        timeout (aioexpect's ``ExpectTimeout`` for a reply that never came, a
        raw loop's own time cap) is a failure: it may hide lost data."""
        try:
            seconds = measure()
        except Capped as exc:
            return self.add(name, None, f"{note} {exc}".strip(), vs=vs)
        except Exception as exc:
            self.failed.append(name)
            return self.add(name, None, f"FAILED: {type(exc).__name__}: {exc}"[:300], vs=vs)
        return self.add(name, seconds, note, vs=vs)

    def ratio(
        self, name: str, baseline: str | None = None, statistic: str | None = None
    ) -> float | None:
        """``name``'s time over ``baseline``'s (default: the row's ``vs``, else
        the table's baseline), of the table's ``statistic`` unless given."""
        rows = {r.name: r for r in self.rows}
        row = rows.get(name)
        den_row = rows.get(baseline or (row.vs if row and row.vs else self.baseline))
        how = statistic or self.statistic
        num, den = _time(row, how), _time(den_row, how)
        return None if not num or not den else num / den

    def target(self, name: str, limit: float, what: str = "") -> None:
        """Record whether ``name``'s ratio (against its ``vs``) is within ``limit``."""
        ratio = self.ratio(name)
        ok = ratio is not None and ratio <= limit
        row = next((r for r in self.rows if r.name == name), None)
        if ratio is not None:
            detail = f"{ratio:.2f}x <= {limit:.2f}x"
            if self.statistic == "median":
                detail += f" (medians; best times: {self.ratio(name, statistic='best'):.2f}x)"
        else:
            detail = f"{(row.note if row else '') or 'not run'} (target <= {limit:.2f}x)"
        self.check(what or name, ok, detail, ratio=ratio, limit=limit)

    def check(self, what: str, ok: bool, detail: str, **facts: Any) -> None:
        """Record a target and whether it was met."""
        self.targets.append({"what": what, "ok": ok, "detail": detail, **facts})

    def report(self, as_json: bool = False) -> int:
        """Print the table; return the exit status (1 if a contender failed)."""
        if as_json:
            data = {
                "title": self.title,
                "baseline": self.baseline,
                "statistic": self.statistic,
                "params": self.params,
                "machine": machine(),
                "rows": [asdict(r) | {"ratio": self.ratio(r.name)} for r in self.rows],
                "targets": self.targets,
            }
            print(json.dumps(data, indent=2))
            return 1 if self.failed else 0
        width = max([len(r.name) for r in self.rows] + [10])
        shown = "medians" if self.statistic == "median" else "best times"
        print(f"\n== {self.title} ==  (baseline: {self.baseline}; ratios of {shown})")
        if self.params:
            print("   " + ", ".join(f"{k}={v}" for k, v in self.params.items()))
        cpu = pinned()
        if cpu is not None:
            print(f"   pinned to CPU {cpu} (--pin), with the children it starts")
        for r in self.rows:
            ratio = self.ratio(r.name)
            secs = "      -   " if r.seconds is None else f"{r.seconds:9.4f}s"
            rat = "      " if ratio is None else f"{ratio:6.2f}x"
            vs = f"vs {r.vs or self.baseline}" if ratio is not None else ""
            extra = " ".join(f"{k}={v}" for k, v in r.extra.items())
            print(f"  {r.name:<{width}} {secs} {rat} {vs}  {extra} {r.note}".rstrip())
        for t in self.targets:
            print(f"  target {t['what']}: {t['detail']} {'ok' if t['ok'] else 'MISSED'}")
        sys.stdout.flush()
        return 1 if self.failed else 0


def _raise(exc: Exception) -> float:
    raise exc


class Capped(Exception):
    """Raised by a contender that is given up on at a deliberate time cap
    (pexpect's regex, which rescans its whole buffer after every read): the
    row says "did not finish", and the run does not fail."""


class Deadline:
    """``with Deadline(seconds) as d: d.watch(proc); ...``: bounds a raw
    blocking loop without a cost per read.  When the time is up, a timer
    thread kills the watched child, which ends the loop's blocking read (EOF,
    or ``EIO`` on a pty), and the block raises :class:`TimeoutError` in place
    of what that read raised.  A child watched after that is killed at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._proc = proc
            if self.expired:
                proc.kill()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._proc is not None:
                self._proc.kill()  # a no-op once the child is reaped

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        self._timer.cancel()
        with self._lock:
            expired = self.expired
        if expired:
            raise TimeoutError(f"did not finish within {self.seconds:g}s") from exc


def machine() -> str:
    """One line describing the machine and interpreter, for the docs."""
    cpu = pinned()
    return (
        f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} CPUs"
        f"{'' if cpu is None else f' (pinned to CPU {cpu})'}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def mb(nbytes: int) -> str:
    """``nbytes`` in mebibytes (2**20 bytes), labelled as such."""
    return f"{nbytes / 2**20:.1f}MiB"


def _time(row: Row | None, statistic: str) -> float | None:
    if row is None:
        return None
    if statistic == "median" and row.median is not None:
        return row.median
    return row.seconds
