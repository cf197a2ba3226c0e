"""Pseudo-terminal adapter (placeholder until the local-adapters work lands)."""

from __future__ import annotations

from collections.abc import Sequence

from ._transport import Transport


async def open_pty(
    command: str,
    args: Sequence[str],
    *,
    env: dict[str, str] | None,
    cwd: str | None,
    echo: bool,
    dimensions: tuple[int, int],
) -> Transport:
    raise NotImplementedError("pty adapter not written yet")
