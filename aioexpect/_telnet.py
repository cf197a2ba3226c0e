"""Telnet adapter over telnetlib3 (placeholder until the telnet work lands)."""

from __future__ import annotations

from ._transport import Transport


async def open_telnet(
    host: str,
    port: int,
    *,
    term_type: str,
    dimensions: tuple[int, int],
    connect_timeout: float | None,
) -> Transport:
    raise NotImplementedError("telnet adapter not written yet")
