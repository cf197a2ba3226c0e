"""In-memory transport pair (placeholder until the local-adapters work lands)."""

from __future__ import annotations

from ._transport import Transport


def memory_pair() -> tuple[Transport, Transport]:
    raise NotImplementedError("memory transport not written yet")
