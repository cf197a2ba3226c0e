"""Every ``examples/*.py`` runs stand-alone: exit status 0, something printed,
and (where known) a line that shows it did its job.

Examples are discovered with a glob, so a new one is tested without editing
this file; add its markers to ``MARKERS`` to check more than "it printed".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
#: Seconds an example may take (they should finish in a few).
LIMIT = 60

#: Substrings the example's standard output must contain (what shows it did
#: its job, where that does not depend on timing).
MARKERS: dict[str, tuple[str, ...]] = {
    "echo_server_console.py": ("echo client got back: hello, echo",),
    "inventory.py": (
        "ISR4451-X/K9",
        "password in clear text in the configuration: core1, access1",
        "transcripts where the password shows as ********: 2",
        "password found in a transcript: no",
    ),
    "netmiko_port.py": ("3 of 5 routers configured and saved",),
    "shell_automation.py": ("6 * 7 = 42",),
    "ssh_shell.py": ("refused: HostKeyError",),
    "telnetlib_style.py": (
        "logged in",
        # What an ExpectTimeout left buffered, read afterwards.
        "the next read_until still gets it: 'up 41 days, 3 users, load average: 0.08\\r\\nlab> '",
    ),
    "virtual_router.py": ("driver guessed: ios",),
    "watch_processes.py": ("warnings seen by the monitors: 3",),
}


def test_examples_exist() -> None:
    assert EXAMPLES, f"no examples found in {ROOT / 'examples'}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path: Path) -> None:
    env = dict(os.environ)
    # The checkout's aioexpect, even when another one is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("AIOEXPECT_PASSWORD", None)
    proc = subprocess.run(
        [sys.executable, str(path)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=LIMIT,
        check=False,
    )
    report = f"stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-2000:]}"
    assert proc.returncode == 0, f"{path.name} exited with {proc.returncode}\n{report}"
    assert proc.stdout.strip(), f"{path.name} printed nothing\n{report}"
    for marker in MARKERS.get(path.name, ()):
        assert marker in proc.stdout, f"{path.name} did not print {marker!r}\n{report}"
