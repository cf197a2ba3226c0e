"""``check_transport``: the transport conformance check (placeholder)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .._transport import Transport


async def check_transport(open_transport: Callable[[], Awaitable[Transport]]) -> None:
    raise NotImplementedError("conformance check not written yet")
