"""The runtime dependencies at their declared floors: what each floor needs,
and that the floors ``nox -s mindeps`` installs are the ones pyproject.toml
declares.  The behaviour the floors must keep is tested where it lives
(test_stages, test_telnet, test_console); the session runs those files too."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def test_asyncssh_first_import_is_quiet_and_leaves_the_filters() -> None:
    # asyncssh < 2.16 with cryptography >= 43 warns twice (ARC4, TripleDES)
    # at its first import: under -W error (a user's pytest with
    # filterwarnings=error) the import failed.  A fresh interpreter, as only
    # the first import can warn.
    code = (
        "import warnings\n"
        "before = list(warnings.filters)\n"
        "import aioexpect.testing, aioexpect._ssh, aioexpect._demo\n"
        "assert warnings.filters == before, 'a global filter was left'\n"
        "import asyncssh\n"
        "print('imported', asyncssh.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout == "imported asyncssh\n"


WARNINGS_SET_DURING_THE_IMPORT = """
import importlib.abc, logging, sys, threading, warnings
started, acted = threading.Event(), threading.Event()

class Pause(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "asyncssh":
            started.set()
            acted.wait(10)
        return None

class AppWarning(UserWarning):
    pass

sys.meta_path.insert(0, Pause())
worker = threading.Thread(target=lambda: __import__("aioexpect._ssh"))
worker.start()
started.wait(10)
warnings.simplefilter("error", AppWarning)
logging.captureWarnings(True)
acted.set()
worker.join()
assert warnings.showwarning.__module__ == "logging", "captureWarnings undone"
try:
    warnings.warn("mine", AppWarning)
except AppWarning:
    print("kept")
"""


def test_the_quiet_import_keeps_what_another_thread_sets_meanwhile() -> None:
    # The first SSH connection, in a worker thread, imported asyncssh inside
    # catch_warnings(), which put back the whole warnings state it found:
    # a filter and logging.captureWarnings() set by the main thread during
    # the import were undone.  The import is held until they are set.
    done = subprocess.run(
        [sys.executable, "-c", WARNINGS_SET_DURING_THE_IMPORT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "kept\n", "")


def test_the_floors_pinned_are_the_floors_declared() -> None:
    # nox -s mindeps installs .ci/minimum-versions.txt: a floor raised in
    # pyproject.toml alone would leave it testing a version no longer allowed.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floors = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        (lowest,) = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        floors[requirement.name] = lowest
    pins = {}
    for line in (ROOT / ".ci" / "minimum-versions.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (pinned,) = [Version(s.version) for s in requirement.specifier if s.operator == "=="]
            pins[requirement.name] = pinned
    assert pins == floors
