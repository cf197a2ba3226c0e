"""The benchmark harness (``benchmarks/``): a contender that breaks, loses
data or hangs must fail its benchmark (exit status 1), never print a ratio or
a met target; a deliberate time cap is the only "did not finish".

Small sizes only: these check the harness's logic, not anyone's speed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
