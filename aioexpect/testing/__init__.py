"""Helpers for testing automation and transports: ``aioexpect.testing``.

- ``VirtualDevice``, ``serve_telnet``, ``serve_ssh``: emulated devices served
  on loopback to real clients, for testing your own automation; ``ask``: a
  command handler's question to the client (``enable``'s ``Password:``).
- ``memory_pair``: two in-memory transports (``MemoryTransport``) wired to
  each other.
- ``check_transport``: the conformance check every transport passes; run it
  on your own, a subclass of ``Transport`` (the contract, with its rules).
"""

from __future__ import annotations

from .._memory import MemoryTransport, memory_pair
from .._transport import Transport
from ._conformance import check_transport
from ._device import VirtualDevice, ask
from ._serve import DeviceServer, serve_ssh, serve_telnet

__all__ = [
    "DeviceServer",
    "MemoryTransport",
    "Transport",
    "VirtualDevice",
    "ask",
    "check_transport",
    "memory_pair",
    "serve_ssh",
    "serve_telnet",
]
