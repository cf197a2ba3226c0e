"""Run every ``benchmarks/bench_*.py`` as a subprocess (``nox -s bench``).

``--quick``, ``--json`` and ``--pin`` are passed through.  Each benchmark runs in its own
interpreter, with a time limit, so one that misbehaves cannot hang the run.
Exits 1 if a benchmark failed (a missed performance target is reported, not
a failure: timings on a shared machine are noisy).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument("--json", action="store_true", help="one JSON list of all results")
    parser.add_argument("--pin", action="store_true", help="run on one CPU, children too")
    parser.add_argument("only", nargs="*", help="names of benchmarks to run (e.g. flood)")
    args = parser.parse_args()
    limit = 120 if args.quick else 900
    scripts = sorted(HERE.glob("bench_*.py"))
    names = [s.stem.removeprefix("bench_") for s in scripts]
    unknown = [name for name in args.only if name not in names]
    if unknown:  # a typo must not run nothing and pass
        what = "benchmark" if len(unknown) == 1 else "benchmarks"
        parser.error(f"unknown {what} {', '.join(unknown)} (choose from {', '.join(names)})")
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    flags = (("--quick", args.quick), ("--json", args.json), ("--pin", args.pin))
    passthrough = [f for f, on in flags if on]
    results, failed = [], []
    for script in scripts:
        start = time.perf_counter()
        if not args.json:
            print(f"--- {script.name} {' '.join(passthrough)}", flush=True)
        try:
            proc = subprocess.run(
                [sys.executable, str(script), *passthrough],
                check=False,
                capture_output=args.json,
                text=True,
                timeout=limit,
            )
        except subprocess.TimeoutExpired:
            failed.append(f"{script.name}: did not finish within {limit}s")
            continue
        if proc.returncode != 0:
            failed.append(f"{script.name}: exit status {proc.returncode}")
            if args.json:
                sys.stderr.write(proc.stderr)
        elif args.json:
            results.append(json.loads(proc.stdout))
        else:
            print(f"    ({time.perf_counter() - start:.1f}s)", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
