"""The benchmark harness (``benchmarks/``): a contender that breaks, loses
data or hangs must fail its benchmark (exit status 1), never print a ratio or
a met target; a deliberate time cap is the only "did not finish".

Small sizes only: these check the harness's logic, not anyone's speed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import aioexpect

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
if str(BENCH) not in sys.path:  # the benchmarks import their helpers as ``_common``
    sys.path.insert(0, str(BENCH))

import _common  # noqa: E402


def _target_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip().startswith("target ")]


# -- _common.Table: what counts as a failure ---------------------------------------------


def test_a_timeout_without_a_cap_fails_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    async def lost_reply() -> None:  # a reply that never comes: ExpectTimeout
        async with aioexpect.spawn("cat", echo=False, timeout=0.2) as s:
            await s.sendline("ping 1")
            await s.expect_exact("pong 1")

    table = _common.Table("lost reply", baseline="raw")
    table.add("raw", 1.0)
    table.contend("aioexpect", lost_reply, "asyncio", vs="raw")
    table.run(1)
    table.target("aioexpect", 1.15)
    assert table.report() == 1
    assert table.failed == ["aioexpect"]
    out = capsys.readouterr().out
    assert "FAILED: ExpectTimeout" in out
    assert "did not finish" not in out
    assert [line.split()[-1] for line in _target_lines(out)] == ["MISSED"]


def test_a_deliberate_cap_is_reported_not_failed(capsys: pytest.CaptureFixture[str]) -> None:
    def quadratic() -> None:
        raise _common.Capped("did not finish within 20s (pexpect timeout)")

    table = _common.Table("capped", baseline="raw")
    table.add("raw", 1.0)
    table.contend("pexpect regex", quadratic, vs="raw")
    table.run(1)
    assert table.report() == 0
    assert table.failed == []
    assert "pexpect regex" in capsys.readouterr().out
    assert table.rows[-1].seconds is None
    assert table.rows[-1].note == "did not finish within 20s (pexpect timeout)"


def test_sizes_are_printed_in_mebibytes() -> None:
    assert _common.mb(32 * 2**20) == "32.0MiB"  # 33.6 MB
    assert _common.mb(34_200_000) == "32.6MiB"


def test_flood_only_pexpects_quadratic_regex_may_be_capped(tmp_path: Path) -> None:
    import bench_flood as bf

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody writes it: pexpect times out
    table = _common.Table("flood", baseline="raw pty blocking")
    for name, quadratic in (("pexpect regex", True), ("pexpect exact", False)):
        fn = partial(bf.pexpect_sync, str(fifo), False, quadratic, 0, 0.2, None)
        table.measure(name, bf.timed(fn, 0.2, quadratic))
    assert table.failed == ["pexpect exact"]
    capped, failed = table.rows
    assert capped.note.startswith("did not finish within"), capped.note
    assert failed.note.startswith("FAILED: TIMEOUT"), failed.note


# -- bench_run_many: a client run with failed sessions -----------------------------------


def _client_result(seconds: float, ok: int, failed: int) -> dict[str, float | int]:
    return {"seconds": seconds, "ok": ok, "failed": failed, "cpu": seconds / 2,
            "rss_delta": 1 << 20, "peak_rss": 1 << 25}  # fmt: skip


@pytest.mark.parametrize(("ok", "failed"), [(0, 10), (9, 0)], ids=["failed", "missing"])
def test_run_many_failed_sessions_fail_the_run(
    capsys: pytest.CaptureFixture[str], ok: int, failed: int
) -> None:
    import bench_run_many

    best = {
        "asyncssh loop": _client_result(2.0, 10, 0),
        "run_many": _client_result(0.1, ok, failed),  # fast, because it failed
    }
    assert bench_run_many.report(best, 10, 5, 1, None, as_json=False) == 1
    out = capsys.readouterr().out
    targets = _target_lines(out)
    assert len(targets) == 2
    assert all(line.endswith("MISSED") for line in targets)
    row = next(line for line in out.splitlines() if line.strip().startswith("run_many "))
    assert "FAILED" in row
    assert "x vs" not in row  # no ratio


def test_run_many_keeps_a_run_without_failures() -> None:
    import bench_run_many

    best: dict[str, dict[str, float | int]] = {}
    slow, failed_fast, fast = (
        _client_result(2.0, 10, 0),
        _client_result(0.1, 0, 10),
        _client_result(1.5, 10, 0),
    )
    bench_run_many.keep_best(best, "run_many", failed_fast, 10)
    bench_run_many.keep_best(best, "run_many", slow, 10)
    assert best["run_many"] is slow
    bench_run_many.keep_best(best, "run_many", failed_fast, 10)
    assert best["run_many"] is slow
    bench_run_many.keep_best(best, "run_many", fast, 10)
    assert best["run_many"] is fast


def test_fleet_failed_sessions_fail_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    import bench_fleet

    def run(seconds: float, failed: int) -> dict[str, float | int]:
        return {"seconds": seconds, "failed": failed, "cpu": seconds / 2, "rss_delta": 1 << 20}

    best = {(name, 5): run(1.0, 0) for name in bench_fleet.CLIENTS}
    best["aioexpect ssh", 5] = run(0.1, 5)  # fast, because its sessions failed
    bench_fleet.keep_best(best, ("aioexpect telnet", 5), run(0.1, 1))  # not kept
    assert bench_fleet.report(best, (5,), 1, as_json=False) == 1
    out = capsys.readouterr().out
    ssh = [line for line in _target_lines(out) if "aioexpect ssh" in line]
    telnet = [line for line in _target_lines(out) if "aioexpect telnet" in line]
    assert len(ssh) == 2 and all(line.endswith("MISSED") for line in ssh)
    assert len(telnet) == 2 and all(line.endswith(" ok") for line in telnet)
    row = next(line for line in out.splitlines() if line.strip().startswith("aioexpect ssh x5"))
    assert "FAILED: 5 sessions FAILED" in row
    assert "x vs" not in row  # no ratio


# -- bench_flood: failures in its helper interpreters -------------------------------------


def test_flood_memory_probe_failure_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import bench_flood

    empty = tmp_path / "empty"  # no marker: every expect ends in ExpectEOF
    empty.touch()
    table = _common.Table("flood", baseline="raw pty blocking")
    bench_flood.memory_rows(table, str(empty), 0, 5.0)
    assert table.report() == 1
    memory = [line for line in _target_lines(capsys.readouterr().out) if "memory" in line]
    assert len(memory) == 2
    assert all("FAILED" in line and line.endswith("MISSED") for line in memory)


def test_flood_pipes_alone_failures_fail_the_run(tmp_path: Path) -> None:
    import bench_flood

    empty = tmp_path / "empty"  # no marker: every contender ends at end-of-file
    empty.touch()
    table = _common.Table("flood", baseline="raw pty blocking")
    bench_flood.pipes_alone_rows(table, str(empty), 5.0, 1)
    assert "aioexpect pipes asyncio exact (alone)" in table.failed
    assert table.report() == 1


def test_flood_helper_out_of_time_is_a_failure(tmp_path: Path) -> None:
    import bench_flood

    # A fresh interpreter cannot even import aioexpect in 10 ms.
    with pytest.raises(bench_flood.HelperFailed, match="did not finish within"):
        bench_flood.run_helper(["--probe", str(tmp_path / "x"), "asyncio", "exact", "5"], 0.01)


# -- bench_flood: every contender checks it got all the data ------------------------------


def _flood_contenders(
    path: str, want: dict[bool, int]
) -> list[tuple[str, Callable[[], Any], str | None]]:
    import bench_flood as bf

    return [
        ("raw pty blocking", partial(bf.raw_blocking, path, False, want[False]), None),
        ("raw pipes blocking", partial(bf.raw_blocking, path, True, want[True]), None),
        ("raw pty asyncio", partial(bf.raw_async, path, False, want[False]), "asyncio"),
        ("raw pipes uvloop", partial(bf.raw_async, path, True, want[True], join=True), "uvloop"),
        ("aioexpect pty regex", partial(bf.aio_flood, path, False, True, want[False]), "asyncio"),
        ("aioexpect pipes exact", partial(bf.aio_flood, path, True, False, want[True]), "uvloop"),
        (
            "aioexpect pty bytes",
            partial(bf.aio_flood, path, False, False, want[False], encoding=None),
            "uvloop",
        ),
        ("pexpect pty", partial(bf.pexpect_sync, path, False, False, want[False], 5, None), None),
    ]


def _flood_table(lose: bool) -> tuple[_common.Table, dict[bool, int]]:
    """Every flood contender run once on a small flood, whose file loses a
    chunk after the expected sizes are taken if ``lose``; the table, and
    the sizes expected over a pty and over pipes."""
    import bench_flood as bf

    path = bf.make_data(1 << 16)
    try:
        want = {pipes: bf.expected_before(path, pipes) for pipes in (False, True)}
        if lose:
            data = Path(path).read_bytes()
            Path(path).write_bytes(data[:1000] + data[5000:])  # a chunk lost on the way
        table = _common.Table("flood", baseline="raw pty blocking")
        for name, fn, loop in _flood_contenders(path, want):
            table.contend(name, fn, loop)
        table.run(1)
    finally:
        os.unlink(path)
    return table, want


def test_flood_contenders_get_every_byte() -> None:
    table, _want = _flood_table(lose=False)
    assert [r.note for r in table.rows if r.seconds is None] == []
    assert table.failed == []


def test_flood_contender_that_loses_data_fails(capsys: pytest.CaptureFixture[str]) -> None:
    table, want = _flood_table(lose=True)
    assert len(table.failed) == len(table.rows) == 8
    assert table.report() == 1
    assert "FAILED: RuntimeError: aioexpect got" in capsys.readouterr().out
    for row in table.rows:
        pipes = "pipes" in row.name
        assert row.note.endswith(f"bytes before the marker, not {want[pipes]}"), row.note


# -- the raw loops are bounded in time ----------------------------------------------------


def test_deadline_ends_a_blocking_read() -> None:
    proc, fd = _common.pty_child(["sleep", "60"])  # never writes, never ends
    try:
        with pytest.raises(TimeoutError, match="did not finish within"):
            with _common.Deadline(0.2) as deadline:
                deadline.watch(proc)
                os.read(fd, 1)
    finally:
        os.close(fd)
        proc.wait()


@pytest.mark.parametrize("pipes", [False, True], ids=["pty", "pipes"])
def test_flood_raw_loops_are_bounded(tmp_path: Path, pipes: bool) -> None:
    import bench_flood as bf

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody writes it: cat waits in open() for ever
    with pytest.raises(TimeoutError):
        bf.raw_blocking(str(fifo), pipes, 0, 0.2)
    for loop in _common.LOOPS:
        with pytest.raises(TimeoutError):
            _common.run_on(loop, partial(bf.raw_async, str(fifo), pipes, 0, cap=0.2))


# -- run_all.py -------------------------------------------------------------------------------


def test_run_all_refuses_an_unknown_benchmark() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--quick", "pingpnog"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "unknown benchmark pingpnog" in done.stderr
    assert "pingpong" in done.stderr and "flood" in done.stderr  # the choices
    assert done.stdout == ""  # nothing ran
