"""Console server (placeholder until the console work lands)."""

from __future__ import annotations

from typing import Any


async def start_console_server(**kwargs: Any) -> Any:
    raise NotImplementedError("console server not written yet")
