"""``aioexpect demo``: the README's "run the main job" command, needing no server."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from aioexpect._demo import demo

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k != "AIOEXPECT_PASSWORD"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "aioexpect", "demo", *args],
        capture_output=True, text=True, env=env, timeout=60, cwd=ROOT,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    return done, time.monotonic() - start


def test_demo_runs_the_main_job_and_exits_0() -> None:
    done, took = _run()
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for text in ("r1 (emulated IOS router)", "r2 (emulated JunOS router)",
                 "sw1 (emulated IOS switch, login dialog)", "local shell"):  # fmt: skip
        assert f"=== {text}  ok" in out
    assert "Version 15.9(3)M" in out and "JUNOS emulated r2" in out
    assert "GigabitEthernet0/0    10.0.0.1        up" in out
    assert "\n42\n" in out and "4 ok, 0 failed" in out
    assert "ssh://127.0.0.1:" in out and "telnet://127.0.0.1:" in out
    assert "Traceback" not in done.stderr and "WARNING" not in done.stderr
    assert took < 30  # a few seconds on an idle machine


def test_demo_json_has_one_object_per_target() -> None:
    done, _ = _run("--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [d["ok"] for d in data] == [True] * 4
    assert [len(d["outputs"]) for d in data] == [2] * 4
    assert data[-1]["outputs"][1].strip() == "42"
    assert all(d["error"] is None for d in data)


async def test_demo_in_process_cleans_up_after_itself() -> None:
    """The leak checks of conftest (descriptors, children, tasks) apply here."""
    out = io.StringIO()
    assert await demo(out=out, password="demo-s3cret") == 0
    text = out.getvalue()
    assert text.count("  ok  (") == 4 and "4 ok, 0 failed" in text
    assert "demo-s3cret" not in text
