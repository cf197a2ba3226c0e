"""SSH adapter over asyncssh (placeholder until the SSH work lands)."""

from __future__ import annotations

from typing import Any

from ._transport import Transport


async def open_ssh(
    host: str,
    port: int,
    *,
    username: str | None,
    password: str | None,
    client_keys: Any,
    known_hosts: Any,
    command: str | None,
    term_type: str,
    dimensions: tuple[int, int],
    connect_timeout: float | None,
    **asyncssh_options: Any,
) -> Transport:
    raise NotImplementedError("SSH adapter not written yet")
