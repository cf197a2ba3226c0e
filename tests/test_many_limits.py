"""run_many and the openers at the file descriptor limit.

Each case runs in a subprocess whose ``RLIMIT_NOFILE`` is low (the suite
keeps its own), on the loop of the test, against emulated devices served
here; it prints what it saw as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from aioexpect.testing import VirtualDevice

ROOT = Path(__file__).resolve().parent.parent

#: Run in the subprocess before the case: the loop, the limit, and a way to
#: use up every descriptor but ``free`` of them.
PRELUDE = """
import asyncio, errno, json, logging, os, resource, sys
import uvloop
import aioexpect

LOOP, LIMIT = sys.argv[1], int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
said = []
handler = logging.Handler()
handler.emit = lambda record: said.append(record.getMessage())
logging.getLogger("aioexpect").addHandler(handler)
logging.getLogger("aioexpect").setLevel(logging.WARNING)


def use_up(free):
    held = []
    try:
        while True:
            held.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pass
    for _ in range(free):
        os.close(held.pop())
    return held


def free_now():
    held = use_up(0)
    for fd in held:
        os.close(fd)
    return len(held)


def errnos(error):
    seen, chain = [], [error]
    while chain:
        exc = chain.pop()
        if exc is not None and all(exc is not s for s in seen):
            seen.append(exc)
            chain += [exc.__cause__, exc.__context__]
    return [getattr(exc, "errno", None) for exc in seen]


def main(case):
    run = asyncio.run if LOOP == "asyncio" else uvloop.run
    print(json.dumps(run(case())))
"""


async def run_case(case: str, loop: str, limit: int, *args: str, **env: str) -> Any:
    """``case`` (the body of ``async def case()``, returning what to print)
    in a subprocess with the descriptor limit ``limit``; what it printed."""
    body = "\n".join("    " + line for line in case.strip().splitlines())
    script = f"{PRELUDE}\n\nasync def case():\n{body}\n\n\nmain(case)\n"
    environ = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    environ = {k: v for k, v in environ.items() if v}  # (env "": unset)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, loop, str(limit), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=environ,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


#: With none of these set, asyncssh looks the user's name up in the user database.
NO_USER = dict.fromkeys(("LOGNAME", "USER", "LNAME", "USERNAME"), "")


def device() -> VirtualDevice:
    return VirtualDevice("r1", commands={"show id": "id r1"}, login=("admin", "pw"))


async def test_spawn_over_pipes_out_of_descriptors_leaks_none(aio_loop: str) -> None:
    """Two descriptors left: the output's pipe took them, the input's found
    none; the first pipe stayed open (two descriptors lost for good) and a
    bare OSError came out.  Now a SpawnError, and both are given back."""
    case = """
held = use_up(2)
try:
    await aioexpect.spawn("cat", pty=False)
except Exception as exc:
    error = exc
again = use_up(0)  # what is free now: the two, if given back
for fd in held + again:
    os.close(fd)
return [type(error).__name__, str(error), len(again)]
"""
    kind, message, free = await run_case(case, aio_loop, 48)
    assert kind == "SpawnError" and "no pipe: Too many open files" in message
    assert free == 2
