"""``check_transport``: the conformance check every Transport passes (the
rules of ``aioexpect._transport``), shipped so users can run it on theirs."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from .._transport import Transport
from ._subchecks import (
    check_back_pressure,
    check_basics,
    check_cancelled_reads,
    check_close,
    check_eof,
    check_large,
    check_push,
    check_push_close,
)

__all__ = ["check_transport"]

OpenTransport = Callable[[], Awaitable[Transport]]


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
    returns is closed again, whatever happens.

    The sub-checks, each limited to ``timeout`` seconds:

    * **basics** -- ``kind`` and ``linesep`` are set, ``closed`` is false,
      unknown ``get_extra_info`` names give the default; a line makes the
      round trip; ``read(1)`` returns exactly one byte.
    * **large payload** -- ``payload_size`` bytes of numbered lines, written
      in random chunks by one task while another reads with random
      ``max_bytes``, come back complete, in order, without duplicates.
    * **cancelled reads** -- a pending ``read()`` cancelled before data
      arrived, and many reads cancelled (``task.cancel()`` and
      ``asyncio.timeout``) while data streams in, lose and duplicate nothing.
    * **back-pressure** -- while nobody reads, writes stall before 64 MiB
      are written (the transport and the peer stop taking data); once
      reading starts, the first 2 MiB come back complete and in order.
    * **end of file** -- after ``write_eof()`` the echoed data arrives, then
      ``read()`` returns ``b""``, and ``b""`` again.
    * **close** -- ``close()`` ends a pending ``read()`` (``ClosedError``,
      or ``b""``), does not stall the event loop, is idempotent (also when
      called twice at once); afterwards ``closed`` is true and ``read()``
      and ``write()`` raise ``ClosedError``.
    * **push delivery** (only if ``start_receiving`` returns true) -- data
      received before the call is delivered first, in order; after
      ``on_data`` returned false nothing more arrives until
      ``resume_receiving()``, then the rest does, complete; after
      ``write_eof()`` ``on_end(None)`` comes once, after all data.
    * **push, then close** -- after ``close()`` nothing is delivered, and
      ``read()`` raises ``ClosedError``.

    Throughout, ``read()`` must return ``bytes``, between 1 and
    ``max_bytes`` of them unless at end-of-file.  A failure raises
    ``AssertionError`` naming the sub-check; the random choices come from
    ``seed``, which failure messages quote.

    Example, in your own tests::

        async def open_mine() -> Transport:
            return await MyTransport.connect(echo_server_address)

        await aioexpect.testing.check_transport(open_mine)
    """
    if payload_size <= 0:
        raise ValueError(f"payload_size must be positive, not {payload_size!r}")
    checks: list[tuple[str, Callable[[Transport], Awaitable[None]]]] = [
        ("basics", check_basics),
        ("large payload", lambda t: check_large(t, payload_size, random.Random(seed))),
        ("cancelled reads", lambda t: check_cancelled_reads(t, random.Random(seed))),
        ("back-pressure", check_back_pressure),
        ("end of file", check_eof),
        ("close", check_close),
        ("push delivery", lambda t: check_push(t, random.Random(seed))),
        ("push, then close", check_push_close),
    ]
    for name, check in checks:
        await _run(name, check, open_transport, timeout, seed)


async def _run(
    name: str,
    check: Callable[[Transport], Awaitable[None]],
    open_transport: OpenTransport,
    timeout: float,
    seed: int,
) -> None:
    transport = await open_transport()
    if not isinstance(transport, Transport):
        raise AssertionError(f"open_transport() returned {transport!r}, not a Transport")
    try:
        async with asyncio.timeout(timeout):
            await check(transport)
    except TimeoutError:
        raise AssertionError(
            f"check_transport [{name}]: no progress within {timeout} s on {transport!r}"
            f" (seed={seed})"
        ) from None
    except AssertionError as exc:
        raise AssertionError(f"check_transport [{name}] (seed={seed}): {exc}") from exc
    finally:
        async with asyncio.timeout(timeout):
            await transport.close()
