"""``check_transport``: the conformance check every Transport passes (the
rules of ``aioexpect._transport``), shipped so users can run it on theirs."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .._exceptions import AioexpectError
from .._options import check_timeout
from .._transport import Transport
from ._subchecks import (
    LEFT_PENDING,
    abandon,
    check_back_pressure,
    check_basics,
    check_cancelled_reads,
    check_close,
    check_eof,
    check_large,
    check_push,
    check_push_close,
    standing,
)

__all__ = ["check_transport"]

OpenTransport = Callable[[], Awaitable[Transport]]
_T = TypeVar("_T")


async def check_transport(
    open_transport: OpenTransport,
    *,
    payload_size: int = 300_000,
    timeout: float = 30.0,
    seed: int = 0,
) -> None:
    """Check that the transports ``open_transport`` makes keep the contract.

    ``open_transport`` is an async callable returning a fresh, open
    ``aioexpect.Transport`` connected to a *line-echo peer*: each line
    written (ending in ``"\\n"``) comes back once, ending in ``"\\n"`` or
    ``"\\r\\n"``; the peer sends nothing else, and it ends the stream (so
    ``read()`` returns ``b""``) once ``write_eof()`` reached it; and it
    stops reading while it cannot write.  ``cat`` over pipes, ``cat`` on a
    pty with echo off, or an asyncio-streams TCP echo server are such
    peers.  It is called once per sub-check below, and every transport it
    returns is closed again, whatever happens.  The call, each sub-check
    and that close are each limited to ``timeout`` seconds (``math.inf``,
    or an int past a float's range: no limit); one that does not end when
    cancelled at its limit (a ``read()`` that swallows ``CancelledError``)
    is given as long again, then abandoned and told.

    The sub-checks:

    * **basics** -- ``kind`` and ``linesep`` are set, ``closed`` is false,
      unknown ``get_extra_info`` names give the default; a line makes the
      round trip; ``read(1)`` returns exactly one byte.
    * **large payload** -- ``payload_size`` bytes of numbered lines, written
      in random chunks by one task while another reads with random
      ``max_bytes``, come back complete, in order, without duplicates.
    * **cancelled reads** -- a pending ``read()`` cancelled before data
      arrived, reads cancelled 1 to 8 turns of the event loop after they
      started with data waiting for them, and many reads cancelled
      (``task.cancel()`` and ``asyncio.timeout``) while data streams in,
      lose and duplicate nothing.
    * **back-pressure** -- while nobody reads, writes stall before 64 MiB
      are written (the transport and the peer stop taking data); once
      reading starts, the first 2 MiB come back complete and in order.
    * **end of file** -- after ``write_eof()`` the echoed data arrives, then
      ``read()`` returns ``b""``, and ``b""`` again; a second
      ``write_eof()`` returns or raises aioexpect's errors, never ``OSError``.
    * **close** -- ``close()`` ends a pending ``read()`` (``ClosedError``,
      or ``b""``), does not stall the event loop, is idempotent (also when
      called twice at once); afterwards ``closed`` is true, ``read()`` and
      ``write()`` raise ``ClosedError``, and ``write_eof()`` and
      ``send_interrupt()`` raise it or return (never an ``OSError``).
    * **push delivery** (only if ``start_receiving`` returns true) -- data
      received before the call is delivered first, in order; after
      ``on_data`` returned false nothing more arrives until
      ``resume_receiving()``, then the rest does, complete; after
      ``write_eof()`` ``on_end(None)`` comes once, after all data.  Nothing
      comes during the ``start_receiving`` call itself.
    * **push, then close** -- after ``close()`` nothing is delivered, and
      ``read()`` raises ``ClosedError``.

    Throughout, ``read()`` must return ``bytes``, between 1 and
    ``max_bytes`` of them unless at end-of-file.  A failure raises
    ``AssertionError`` naming the sub-check: a broken rule, no progress
    within ``timeout`` (with where it stood: a cancelled ``read()`` that
    never ended, lines lost), a call that does not return
    (``open_transport``, ``close``: after a failure, both are told), or
    an exception that is not aioexpect's (an ``OSError``, a
    ``TimeoutError`` of the transport's own, a ``CancelledError`` when
    nothing cancelled the check).  One of aioexpect's errors (a ``ConnectionLostError`` when the
    peer goes away) propagates as it is, with a note naming the sub-check.
    A failing ``open_transport()`` is told as such; a coroutine for it, a TypeError.
    The random choices come from ``seed``, which failure messages quote.

    Example, in your own tests::

        async def open_mine() -> Transport:
            return await MyTransport.connect(echo_server_address)

        await aioexpect.testing.check_transport(open_mine)
    """
    _check_arguments(open_transport, payload_size)
    seconds = check_timeout(timeout)  # (asyncio.timeout(10**400) raises OverflowError)
    for name, check in _sub_checks(payload_size, seed):
        await _run(name, check, open_transport, seconds, seed)


def _check_arguments(open_transport: Any, payload_size: Any) -> None:
    if not callable(open_transport):
        hint = ""
        if inspect.iscoroutine(open_transport):  # (called instead of passed: never run)
            open_transport.close()  # (not "never awaited" too)
            hint = ": pass the function, not its call (check_transport(open_mine))"
        raise TypeError(
            "open_transport must be an async function returning a Transport,"
            f" not {type(open_transport).__name__}{hint}"
        )
    if isinstance(payload_size, bool) or not isinstance(payload_size, int) or payload_size <= 0:
        raise ValueError(f"payload_size must be a positive int, not {payload_size!r}")


def _sub_checks(
    payload_size: int, seed: int
) -> list[tuple[str, Callable[[Transport], Awaitable[None]]]]:
    """The sub-checks, named, in order."""
    return [
        ("basics", check_basics),
        ("large payload", lambda t: check_large(t, payload_size, random.Random(seed))),
        ("cancelled reads", lambda t: check_cancelled_reads(t, random.Random(seed))),
        ("back-pressure", check_back_pressure),
        ("end of file", check_eof),
        ("close", check_close),
        ("push delivery", lambda t: check_push(t, random.Random(seed))),
        ("push, then close", check_push_close),
    ]


async def _run(
    name: str,
    check: Callable[[Transport], Awaitable[None]],
    open_transport: OpenTransport,
    timeout: float | None,
    seed: int,
) -> None:
    """One sub-check on a fresh transport, which is closed again; opening,
    the sub-check and the close each within ``timeout``."""
    where = f"check_transport [{name}] (seed={seed})"
    opened = f"open_transport() did not return within {timeout} s"
    transport = await _bounded(lambda: _open(open_transport), where, opened, timeout)
    if not isinstance(transport, Transport):
        raise AssertionError(f"{where}: open_transport() returned {transport!r}, not a Transport")
    stuck = f"no progress within {timeout} s on {transport!r}"
    closed = f"close() did not return within {timeout} s"
    try:
        await _bounded(lambda: check(transport), where, stuck, timeout)
    except BaseException as failure:  # (re-raised: a cancellation too, once closed)
        try:
            await _bounded(transport.close, where, closed, timeout)
        except Exception as exc:
            if not isinstance(failure, Exception):
                raise failure from None  # (what stopped the run goes on, not the close's)
            # Both told, the sub-check's failure first: the close's must not hide it.
            first = str(failure) if isinstance(failure, AssertionError) else f"{where}: {failure!r}"
            then = str(exc).removeprefix(f"{where}: ")
            raise AssertionError(f"{first}; then {then}") from failure
        raise
    await _bounded(transport.close, where, closed, timeout)


async def _open(open_transport: OpenTransport) -> Transport:
    """``open_transport()``'s transport; its failure told as its own, not as
    a transport's (a connection refused, or not an async function)."""
    try:
        made: Any = open_transport()
        if not inspect.isawaitable(made):
            raise AssertionError(
                f"open_transport() returned {made!r}, which cannot be awaited:"
                " it must be an async function returning a Transport"
            )
        return await made  # type: ignore[no-any-return]
    except (AssertionError, AioexpectError):
        raise
    except Exception as exc:
        raise AssertionError(f"open_transport() raised {exc!r}") from exc


async def _bounded(
    step: Callable[[], Awaitable[_T]], where: str, stuck: str, timeout: float | None
) -> _T:
    """``step()`` within ``timeout``, its failure told as the sub-check's
    ``where``: an ``AssertionError`` (``stuck`` if the time ran out, adding
    where the sub-check stood if it said), or one of aioexpect's errors as
    it is, with a note naming the sub-check.

    The step runs in a task of its own, waited for, not awaited: a
    transport that swallows the cancellation with which the time is up
    (a read() that retries when cancelled) would hold an ``await`` for
    ever.  A step that has not ended ``timeout`` after being cancelled is
    abandoned, and that is told too."""
    context = contextvars.copy_context()  # (to read, from here, what the step says in it)
    context.run(standing.set, None)
    task = asyncio.create_task(_call(step), context=context)
    try:
        await asyncio.wait([task], timeout=timeout)
    except asyncio.CancelledError:  # (from whoever runs the check: the step ends first)
        await _stop(task, timeout)
        raise
    if not task.done():
        said = context.get(standing)  # (now: it may change as the step unwinds)
        stood = f"; {said()}" if said is not None else ""
        if not await _stop(task, timeout):
            stood += f"; nor did it end within {timeout} s of being cancelled: {LEFT_PENDING}"
        raise AssertionError(f"{where}: {stuck}{stood}") from _outcome(task)
    if task.cancelled():  # (nobody cancelled it: the transport raised CancelledError)
        raise AssertionError(f"{where}: CancelledError escaped, though nothing cancelled the check")
    exc = task.exception()
    if exc is None:
        return task.result()
    if isinstance(exc, AssertionError):
        raise AssertionError(f"{where}: {exc}") from exc
    if isinstance(exc, AioexpectError):
        exc.add_note(f"(raised during {where})")
        raise exc
    # A TimeoutError of the transport's own lands here too, not as ours.
    raise AssertionError(
        f"{where}: {exc!r} escaped, which is not an aioexpect error (a transport"
        " raises ClosedError or ConnectionLostError; OSError and library"
        " exceptions never escape it)"
    ) from exc


async def _call(step: Callable[[], Awaitable[_T]]) -> _T:
    return await step()


async def _stop(task: asyncio.Task[_T], grace: float | None) -> bool:
    """Cancel ``task`` and give it ``grace`` seconds to end: whether it did
    (if not, or if this wait is cancelled, it is abandoned)."""
    task.cancel()
    try:
        await asyncio.wait([task], timeout=grace)
    finally:
        if not task.done():
            abandon(task)
    return task.done()


def _outcome(task: asyncio.Task[Any]) -> BaseException | None:
    """What ``task``, cancelled at its time limit, made of it, to chain:
    its exception (a ``ClosedError``...), ``None`` if it took it as asked
    or is still pending."""
    if task.done() and not task.cancelled():
        return task.exception()
    return None
