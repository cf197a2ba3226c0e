"""``aioexpect.run()``: run a coroutine on uvloop when it is installed.

Only this entry point (and the CLI) chooses the loop; a library user's own
loop is never replaced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["in_background", "loop_factory", "run"]

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's ``new_event_loop`` when importable, else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def run(coro: Coroutine[Any, Any, T], *, debug: bool | None = None) -> T:
    """Run ``coro`` to completion in a new event loop (uvloop if available).

    Like ``asyncio.run``; uses ``asyncio.Runner`` with a loop factory, never
    the event-loop policy API.
    """
    if not asyncio.iscoroutine(coro):
        raise TypeError(f"aioexpect.run() needs a coroutine, not {type(coro).__name__}")
    with asyncio.Runner(loop_factory=loop_factory(), debug=debug) as runner:
        return runner.run(coro)


#: Tasks started by ``in_background``, until they end (the loop holds tasks weakly).
_background: set[asyncio.Task[Any]] = set()


def in_background(coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    """Run ``coro`` in a task of the running loop that lives until it ends,
    whether anything waits for it or not (a server's closing)."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task
