"""Device drivers as data: ``aioexpect.drivers``.

A :class:`Driver` says what a kind of device looks like (prompt, errors, login
dialog, pager, commands to run first).  Shipped: ``generic`` (the default),
``shell``, ``ios``, ``iosxr``, ``nxos``, ``eos``, ``junos`` and ``vrp``.
``register()`` adds your own, ``get()`` looks one up, ``guess()`` picks the
one whose guess patterns best explain a banner and prompt, among those that
know the prompt (``driver="auto"``).
"""

from __future__ import annotations

import re

from .._driver import Driver, get, guess, register, register_shipped, registered
from ._builtin import BUILTIN
from ._builtin import SHELL as _SHELL
from ._builtin import prompt_pattern as _prompt_pattern

__all__ = ["Driver", "get", "guess", "names", "prompt_pattern", "register"]


def prompt_pattern(body: str) -> str:
    """A prompt regex in the style of the shipped drivers, around ``body``.

    ``body`` must match at the start of a line (the buffer start, or after
    ``\\n``, ``\\r`` or backspaces) with terminal control sequences allowed
    before it, and be followed only by up to two spaces and control
    sequences, then the end of what was received::

        Driver("acme", prompt_patterns=[prompt_pattern(r"acme-[\\w-]+[>#]")])
    """
    if not isinstance(body, str) or not body:
        raise ValueError("prompt_pattern needs a non-empty regex")
    try:
        re.compile(body)  # (its own error, not one deep inside the wrapped regex)
    except re.error as exc:
        raise ValueError(f"bad prompt regex {body!r}: {exc}") from None
    return _prompt_pattern(body)


def names() -> list[str]:
    """The names of the registered drivers, in registration order."""
    return [driver.name for driver in registered()]


for _driver in BUILTIN:
    register_shipped(_driver, shell=_driver is _SHELL)
del _driver
