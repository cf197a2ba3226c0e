"""Pipes adapter (placeholder until the local-adapters work lands)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from ._transport import Transport


async def open_pipes(
    command: str,
    args: Sequence[str],
    *,
    env: dict[str, str] | None,
    cwd: str | None,
    stderr: int | IO[Any] | None,
) -> Transport:
    raise NotImplementedError("pipes adapter not written yet")
