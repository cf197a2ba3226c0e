"""Device drivers as data: ``aioexpect.drivers``."""

from __future__ import annotations

import re

from .._driver import Driver

__all__ = ["Driver", "get", "register"]

_PROMPT = re.compile(r"[\w.@:~/()\[\]\-]*[$#>%] ?$")

_REGISTRY: dict[str, Driver] = {
    "generic": Driver("generic", prompt_patterns=(_PROMPT,)),
}


def register(driver: Driver) -> Driver:
    """Add (or replace) a driver under its name; returns it."""
    if not isinstance(driver, Driver):
        raise TypeError(f"register() needs a Driver, not {type(driver).__name__}")
    _REGISTRY[driver.name] = driver
    return driver


def get(name: str) -> Driver:
    """The driver registered under ``name``; ``ValueError`` names the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"unknown driver {name!r}; known drivers: {known}") from None
