"""The runtime dependencies at their declared floors: what each floor needs,
and that the floors ``nox -s mindeps`` installs are the ones pyproject.toml
declares.  The behaviour the floors must keep is tested where it lives
(test_stages, test_telnet, test_console); the session runs those files too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
