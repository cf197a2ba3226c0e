"""Listening on one port, for a host that names several addresses; the names
a client on this machine reaches a wildcard listener by."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar


class _Listener(Protocol):
    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


_L = TypeVar("_L", bound=_Listener)


async def one_port(
    listen: Callable[[int], Awaitable[_L]], addresses: Callable[[_L], Iterable[Any]], port: int
) -> _L:
    """``listen(port)``'s listener, on one port whatever the host names.

    A host of several addresses (``localhost``, where it is ``::1`` and
    ``127.0.0.1``) was listened on with a port of its own on each for port
    0, so that ``.port`` told one of them (0 for SSH): listened on again,
    each on the first one's port.  (``OSError``, as from ``listen``, if that
    port is taken on another of the addresses.)"""
    listener = await listen(port)
    ports = [address[1] for address in addresses(listener)]
    if len(set(ports)) > 1:
        listener.close()
        await listener.wait_closed()
        listener = await listen(ports[0])
    return listener


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
