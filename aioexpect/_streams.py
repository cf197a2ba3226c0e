"""asyncio StreamReader/StreamWriter adapter (placeholder)."""

from __future__ import annotations

import asyncio

from ._transport import Transport


def streams_transport(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Transport:
    raise NotImplementedError("streams adapter not written yet")
