"""Awaitable-or-``async with`` wrappers shared by the openers and the servers.

``Opening``: ``await`` it for the resource, or ``async with`` it to have the
resource finished on exit (as ``asyncssh.connect`` does).  ``AsyncClosing``:
``async with server`` closes the server and waits until it has closed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, Self, TypeVar

__all__ = ["AsyncClosing", "Opening", "close_server"]

T = TypeVar("T")


class Opening(Coroutine[Any, Any, T]):
    """A resource being opened; nothing starts until awaited or entered.

    It is also a coroutine (``send``/``throw``/``close``, started on first
    use), so that ``asyncio.create_task()`` and ``asyncio.run()`` take it
    as they take an ``async def`` function's result.
    """

    __slots__ = ("_coro", "_finish", "_start", "_value")

    def __init__(
        self, start: Callable[[], Awaitable[T]], finish: Callable[[T], Awaitable[None]]
    ) -> None:
        self._start = start
        self._finish = finish
        self._value: T | None = None
        self._coro: Coroutine[Any, Any, T] | None = None

    def __await__(self) -> Generator[Any, None, T]:
        return self._open().__await__()

    async def _open(self) -> T:
        return await self._start()

    def _running(self) -> Coroutine[Any, Any, T]:
        if self._coro is None:
            self._coro = self._open()
        return self._coro

    def send(self, value: Any) -> Any:
        return self._running().send(value)

    def throw(self, *args: Any) -> Any:
        return self._running().throw(*args)

    def close(self) -> None:
        if self._coro is not None:
            self._coro.close()

    async def __aenter__(self) -> T:
        self._value = await self._start()
        return self._value

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        value, self._value = self._value, None
        if value is not None:
            await self._finish(value)


class AsyncClosing:
    """Mixin for servers with ``close()`` and ``await wait_closed()``."""

    def close(self) -> None:
        raise NotImplementedError

    async def wait_closed(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await close_server(self)


async def close_server(server: AsyncClosing) -> None:
    """``finish`` for an ``Opening`` of a server."""
    server.close()
    await server.wait_closed()
