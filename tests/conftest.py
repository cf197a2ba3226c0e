"""Test harness: every ``async def`` test runs once on asyncio's default loop
and once on uvloop, and must leave descriptors, child processes and tasks as
it found them.

No plugin is needed: ``pytest_pyfunc_call`` runs coroutine tests in an
``asyncio.Runner`` with the chosen loop factory.  Async set-up belongs in
``async with`` helpers inside the test (there are no async fixtures).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvloop

# Test modules import asyncssh themselves, under pytest's warnings as errors:
# its first import is the package's own, quiet on every asyncssh allowed.
import aioexpect._asyncssh  # noqa: F401

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def _warm_up_loops() -> None:
    """uvloop allocates process-wide descriptors with its first loop (and
    its first child watcher): do that once, before any baseline is taken."""

    async def spawn_once() -> None:
        proc = await asyncio.create_subprocess_exec("true")
        await proc.wait()
        # uvloop's first name lookup opens a pipe for the process's lifetime.
        await asyncio.get_running_loop().getaddrinfo("127.0.0.1", 0)

    for factory in LOOPS.values():
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(spawn_once())


_warm_up_loops()

#: ``nox -s stress``: the loop of every async test is stalled now and then,
#: up to this many milliseconds at a time, as a loaded CI machine stalls the
#: test process while the children and peers it talks to run on.  A test
#: that fails so relies on timing the library does not promise.
STALL_MS = float(os.environ.get("AIOEXPECT_TEST_STALL_MS", "0"))


def _stalling(factory: Callable[[], asyncio.AbstractEventLoop]) -> Callable[[], Any]:
    rng = random.Random(os.environ.get("AIOEXPECT_TEST_STALL_SEED"))

    def make() -> asyncio.AbstractEventLoop:
        loop = factory()

        def tick() -> None:  # (three times in ten, every 50 ms on average)
            if rng.random() < 0.3:
                time.sleep(rng.uniform(0, STALL_MS / 1000))
            loop.call_later(rng.uniform(0, 0.1), tick)

        loop.call_soon(tick)
        return loop

    return make


if STALL_MS > 0:
    LOOPS = {name: _stalling(factory) for name, factory in LOOPS.items()}

REQUIRE_INTEGRATION = os.environ.get("AIOEXPECT_REQUIRE_INTEGRATION") == "1"


def need(program: str, install_hint: str) -> str:
    """Return the path of ``program``; skip (or fail in CI) when it is missing."""
    path = shutil.which(program) or next(
        (p for p in (f"/usr/sbin/{program}", f"/sbin/{program}") if os.access(p, os.X_OK)),
        None,
    )
    if path is None:
        message = f"{program} not found: install {install_hint}"
        if REQUIRE_INTEGRATION:
            pytest.fail(message + " (AIOEXPECT_REQUIRE_INTEGRATION=1)")
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def aio_loop(request: pytest.FixtureRequest) -> str | None:
    """Name of the event loop an async test runs on (``None`` for sync tests)."""
    return getattr(request, "param", None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if inspect.iscoroutinefunction(metafunc.function):
        only = [m.args[0] for m in metafunc.definition.iter_markers("loop")]
        names = only or list(LOOPS)
        metafunc.parametrize("aio_loop", names, indirect=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "loop(name): run an async test on that loop only")


def _open_fds() -> set[int]:
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        with contextlib.suppress(OSError):
            os.fstat(fd)
            fds.add(fd)
    return fds


def _children() -> set[int]:
    kids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            kids.update(int(p) for p in (task / "children").read_text().split())
    return kids


def _describe_fd(fd: int) -> str:
    try:
        return f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}"
    except OSError:
        return str(fd)


async def _run_checked(func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    await func(**kwargs)
    me = asyncio.current_task()
    # Let tasks that are already finishing (callbacks scheduled by close())
    # run to completion: a bounded number of loop turns, no sleeping.
    for _ in range(50):
        others = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if not others:
            break
        await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    assert not leftover, f"test left tasks running: {leftover!r}"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func):
        return None
    loop_name = pyfuncitem.funcargs["aio_loop"]
    argnames = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in argnames}
    gc.collect()
    fds_before = _open_fds()
    kids_before = _children()
    with asyncio.Runner(loop_factory=LOOPS[loop_name]) as runner:
        runner.run(_run_checked(func, kwargs))
    gc.collect()
    leaked_fds = _open_fds() - fds_before
    leaked_kids = _children() - kids_before
    assert not leaked_fds, "test leaked descriptors: " + ", ".join(map(_describe_fd, leaked_fds))
    assert not leaked_kids, f"test left child processes: {sorted(leaked_kids)}"
    # What is still alive now outlives the test (modules, fixtures, caches).
    # Freezing it keeps the two collections above to what one test made:
    # walking every long-lived object twice per test cost a third of the
    # suite's time.
    gc.freeze()
    return True


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary ``$HOME`` so tests never read the developer's ~/.ssh."""
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path
