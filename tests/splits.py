"""Feeding data whole, one byte at a time and in seeded random splits
(the h11 ``tr()`` idea).  A failing case names its seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

SEEDS = range(20)


def splits(data: Any, *, seeds: range = SEEDS) -> Iterator[tuple[str, list[Any]]]:
    """Yield ``(label, chunks)``: whole, bytewise, then random splits."""
    yield "whole", [data]
    yield "bytewise", [data[i : i + 1] for i in range(len(data))]
    for seed in seeds:
        rng = random.Random(seed)
        chunks, i = [], 0
        while i < len(data):
            n = rng.randint(1, max(1, len(data) // 3))
            chunks.append(data[i : i + n])
            i += n
        yield f"seed={seed}", chunks
