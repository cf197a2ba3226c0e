"""The ``aioexpect`` command line (placeholder until the CLI work lands)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from ._version import __version__

    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        print(f"aioexpect {__version__}")
        return 0
    print("aioexpect: command line not written yet", file=sys.stderr)
    return 2
