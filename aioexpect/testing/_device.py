"""``VirtualDevice`` (placeholder until the drivers work lands)."""

from __future__ import annotations

from typing import Any


class VirtualDevice:
    def __init__(self, hostname: str, **kwargs: Any) -> None:
        raise NotImplementedError("VirtualDevice not written yet")
