"""Awaitable-or-``async with`` wrappers shared by the openers and the servers.

``Opening``: ``await`` it for the resource, or ``async with`` it to have the
resource finished on exit (as ``asyncssh.connect`` does), each block its
own, also where one ``Opening`` serves several at once (tasks, nesting).
``AsyncClosing``: ``async with server`` closes the server and waits until
it has closed.  ``check_flag``: the one check of a boolean option.
``Progress``: how far an opening got, for a time-out's message.
``one_port``: a server's listener on one port, whatever its host names.
"""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

__all__ = ["AsyncClosing", "Opening", "Progress", "check_flag", "close_server", "one_port"]

T = TypeVar("T")


def check_flag(name: str, value: object) -> None:
    """A flag is ``True`` or ``False``: ``force="no"`` is truthy, and
    ``TypeError`` rather than the opposite of what was meant."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {value!r}")


class Progress:
    """How far one opening got, in words that follow "timed out"
    ("connecting", "in key exchange"): its own time-out says so, and so
    does one that stops it from outside (``run_many``'s ``timeout=``),
    which cancels it before it can.  The stage may be given as a function,
    asked when the words are wanted (asyncssh reports the server's version
    and the key exchange by no callback); empty words: not known.  Once
    made, the ``session``; while it waits for something (a login dialog),
    what (``awaited``) and the text the wait already consumed (``seen``,
    which comes before the session's buffer): the evidence."""

    __slots__ = ("_stage", "awaited", "seen", "session")

    def __init__(self) -> None:
        self._stage: str | Callable[[], str] = "connecting"
        self.session: Any = None
        self.awaited: str | None = None
        self.seen: list[str] = []

    def reached(
        self,
        stage: str | Callable[[], str],
        awaited: str | None = None,
        seen: list[str] | None = None,
    ) -> None:
        self._stage = stage
        self.awaited = awaited
        self.seen = [] if seen is None else seen

    @property
    def stage(self) -> str:
        return self._stage() if callable(self._stage) else self._stage

    def timed_out(self) -> str:
        """The words with "timed out" before them."""
        stage = self.stage
        return f"timed out {stage}" if stage else "timed out"


#: The ``async with`` blocks entered in this context (a task's; the tasks it
#: starts inherit it), innermost last: a token per block, which
#: ``Opening.__aexit__`` looks up in its own opened values.
_entered: ContextVar[tuple[object, ...]] = ContextVar("aioexpect_entered", default=())


class Opening(Coroutine[Any, Any, T]):
    """A resource being opened; nothing starts until awaited or entered.

    It is also a coroutine (``send``/``throw``/``close``, started on first
    use), so that ``asyncio.create_task()`` and ``asyncio.run()`` take it
    as they take an ``async def`` function's result.
    """

    __slots__ = ("_coro", "_finish", "_opened", "_start")

    def __init__(
        self, start: Callable[[], Awaitable[T]], finish: Callable[[T], Awaitable[None]]
    ) -> None:
        self._start = start
        self._finish = finish
        self._opened: dict[object, T] = {}  # per block still open, in order entered
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
        value = await self._start()
        token = object()
        self._opened[token] = value
        _entered.set((*_entered.get(), token))
        return value

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Each block finishes what it opened: with one value kept for all,
        # two tasks sharing an opener had the first to leave close the
        # other's session, and its own leaked.
        entered = _entered.get()
        token = next((t for t in reversed(entered) if t in self._opened), None)
        if token is not None:
            _entered.set(tuple(t for t in entered if t is not token))
        elif self._opened:
            # Left in another task than it was entered in, which does not
            # inherit its token (a test fixture's teardown): the block
            # entered last, as nested blocks leave.
            token = next(reversed(self._opened))
        else:
            return
        await self._finish(self._opened.pop(token))


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


class _Listener(Protocol):
    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


_L = TypeVar("_L", bound=_Listener)

#: Times ``one_port`` picks a port for every address before it gives up.
ONE_PORT_TRIES = 5


async def one_port(
    listen: Callable[[int], Awaitable[_L]], addresses: Callable[[_L], Iterable[Any]], port: int
) -> _L:
    """``listen(port)``'s listener, on one port whatever the host names.

    A host of several addresses (``localhost``, where it is ``::1`` and
    ``127.0.0.1``; every interface, ``0.0.0.0`` and ``::``) was listened on
    with a port of its own on each for port 0, so that ``.port`` told one
    of them (0 for SSH): listened on again, each on the first one's port.
    That port may be in use on another of the addresses (by a connection
    of this machine's, whose ports come from the same range): then from
    port 0 again, ``ONE_PORT_TRIES`` times in all (then ``OSError``, as
    from ``listen``)."""
    tries = 1
    while True:
        listener = await listen(port)
        ports = [address[1] for address in addresses(listener)]
        if len(set(ports)) == 1:
            return listener
        listener.close()
        await listener.wait_closed()
        try:
            return await listen(ports[0])
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or tries >= ONE_PORT_TRIES:
                raise
        tries += 1
