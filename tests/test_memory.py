"""memory_pair: a write waiting for room, ended by either end's close, and
the limit checked when the pair is made."""

from __future__ import annotations

import asyncio

import pytest

from aioexpect import ClosedError, ConnectionLostError, Session
from aioexpect.testing import memory_pair

from .helpers import read_all


async def test_a_write_waiting_for_room_ends_when_its_own_end_closes() -> None:
    # Closing the end a write was waiting on did not end the write: a send
    # stayed pending after session.close(), until the other end read.
    ours, peer = memory_pair(limit=0)
    s = Session(ours, timeout=10)
    send = asyncio.create_task(s.send("hello"))
    await asyncio.sleep(0)  # (the send is made, and waits for a read)
    assert not send.done()
    await s.close()
    with pytest.raises(ClosedError, match="closed while writing"):
        await asyncio.wait_for(send, 10)
    assert await read_all(peer) == b"hello"  # what it wrote is still delivered
    await peer.close()


async def test_a_write_waiting_for_room_ends_when_the_peer_closes() -> None:
    # The peer's close returned the waiting write as if it had been written,
    # its data dropped unread: ConnectionLostError now, as the docs say.
    ours, peer = memory_pair(limit=0)
    write = asyncio.create_task(ours.write(b"hello"))
    await asyncio.sleep(0)
    assert not write.done()
    await peer.close()
    with pytest.raises(ConnectionLostError, match="closed before reading"):
        await asyncio.wait_for(write, 10)
    await ours.close()


async def test_a_write_read_before_the_peer_closes_was_written() -> None:
    ours, peer = memory_pair(limit=0)
    write = asyncio.create_task(ours.write(b"hello"))
    await asyncio.sleep(0)
    assert await peer.read() == b"hello"
    await peer.close()  # before the write's task has run again
    await asyncio.wait_for(write, 10)
    await ours.close()


async def test_the_limit_is_checked_when_the_pair_is_made() -> None:
    # limit=-1 made every write wait for ever, and None or "x" failed only
    # at the first write, with a comparison's TypeError.
    with pytest.raises(ValueError, match="limit must not be negative"):
        memory_pair(-1)
    for wrong in ("x", 1.5, True):
        with pytest.raises(TypeError, match="limit must be an int or None"):
            memory_pair(wrong)  # type: ignore[arg-type]
    ours, peer = memory_pair(None)  # unbounded: a write never waits
    await asyncio.wait_for(ours.write(b"x" * (4 << 20)), 10)
    await ours.write_eof()
    assert len(await read_all(peer)) == 4 << 20
    await ours.close()
    await peer.close()
