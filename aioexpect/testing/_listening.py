"""The names a client on this machine reaches a wildcard listener by."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterable


def reached_by(host: str, bound: Iterable[str]) -> list[str]:
    """The names a client on this machine reaches a listener on ``host`` by,
    ``bound`` the addresses it listens on: for a wildcard (``0.0.0.0``, ``::``,
    also as ``"0"`` spells it) the loopback address and ``localhost``, then
    ``host`` itself; any other host as it is."""
    loopbacks: dict[str, None] = {}
    for address in bound:
        with contextlib.suppress(ValueError):  # (not an IP address: never a wildcard)
            ip = ipaddress.ip_address(address)
            if ip.is_unspecified:
                loopbacks["127.0.0.1" if ip.version == 4 else "::1"] = None
    return [*loopbacks, "localhost", host] if loopbacks else [host]
