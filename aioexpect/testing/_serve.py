"""``serve_telnet`` / ``serve_ssh`` (placeholder until the drivers work lands)."""

from __future__ import annotations

from typing import Any


async def serve_telnet(device: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("serve_telnet not written yet")


async def serve_ssh(device: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("serve_ssh not written yet")
