"""Watch several local programs at once: pipes, monitors, expect_any, lines().

Run it: ``python3 examples/watch_processes.py``.  It shows, with local
programs only:

1. ``sort`` over plain pipes (``pty=False``): send lines, ``sendeof()``,
   ``read_all()``;
2. three worker processes at different speeds, watched together: a
   monitor (``add_monitor``) counts every ``WARNING`` line whether or not
   anyone is expecting, ``expect_any`` returns the first worker to finish,
   and ``lines()`` reads the others' remaining lines as they come.
"""

from __future__ import annotations

import sys

import aioexpect

#: A worker: four progress lines, a warning after the third, then "done".
WORKER = """
import sys, time
name, delay = sys.argv[1], float(sys.argv[2])
for step in range(4):
    time.sleep(delay)
    print(f"{name} step {step}", flush=True)
    if step == 2:
        print(f"{name} WARNING disk almost full", flush=True)
print(f"{name} done", flush=True)
"""


async def sort_over_pipes() -> None:
    async with aioexpect.spawn("sort", pty=False, timeout=10) as sort:
        for word in ("pear", "apple", "fig"):
            await sort.sendline(word)
        await sort.sendeof()  # closes sort's stdin: it sorts, prints, exits
        print("sorted:", (await sort.read_all()).split())
        print("sort exited with status", await sort.wait())


async def watch_workers() -> None:
    warnings: list[str] = []

    def on_warning(session: aioexpect.Session, match: aioexpect.Match) -> None:
        warnings.append(f"{match.group(1)}: {match.group(2)}")

    workers = [
        await aioexpect.spawn(sys.executable, ["-c", WORKER, f"worker-{i}", str(0.05 * (i + 1))])
        for i in range(3)
    ]
    try:
        for w in workers:
            w.add_monitor(r"(worker-\d) WARNING ([^\r\n]*)\r?\n", on_warning)
        # The first worker to print its "done" line, whichever it is.
        first, match = await aioexpect.expect_any(
            dict.fromkeys(workers, r"(worker-\d) done"), timeout=10
        )
        print("first done:", match.group(1))
        # The others: their remaining lines, as they come, until each exits.
        for w in workers:
            if w is not first:
                async for line in w.lines():
                    print("  ", line)
        print(f"warnings seen by the monitors: {len(warnings)}")
        for text in sorted(warnings):
            print("  ", text)
    finally:
        for w in workers:
            await w.close()


async def main() -> None:
    await sort_over_pipes()
    await watch_workers()


if __name__ == "__main__":
    aioexpect.run(main())
