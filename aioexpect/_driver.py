"""``Driver``: device knowledge as data (prompt, error and login patterns).

Pure data, no I/O: the session and the prompt helpers read it.  Strings given
to the constructor are compiled, so every pattern field is a tuple of
``re.Pattern[str]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Driver", "compile_patterns"]

Patterns = tuple[re.Pattern[str], ...]


def compile_patterns(patterns: Iterable[str | re.Pattern[str]] | str | re.Pattern[str]) -> Patterns:
    """Compile strings (as multiline regexes) and keep compiled patterns as they are."""
    if isinstance(patterns, str | re.Pattern):
        patterns = (patterns,)
    out = []
    for p in patterns:
        if isinstance(p, re.Pattern):
            if not isinstance(p.pattern, str):
                raise TypeError(f"driver patterns must be str patterns, not {p.pattern!r}")
            out.append(p)
        elif isinstance(p, str):
            out.append(re.compile(p, re.MULTILINE))
        else:
            raise TypeError(f"a driver pattern must be a str or re.Pattern, not {type(p).__name__}")
    return tuple(out)


_PATTERN_FIELDS = (
    "prompt_patterns",
    "error_patterns",
    "login_patterns",
    "password_patterns",
    "login_failure_patterns",
    "guess_patterns",
    "pager_patterns",
)


@dataclass(frozen=True)
class Driver:
    """What one kind of device looks like.

    ``pager_patterns`` map to the text sent when a pager prompt (``--More--``)
    appears; ``pager_response`` is that text.
    """

    name: str
    prompt_patterns: Patterns = ()
    error_patterns: Patterns = ()
    login_patterns: Patterns = ()
    password_patterns: Patterns = ()
    login_failure_patterns: Patterns = ()
    guess_patterns: Patterns = ()
    init_commands: tuple[str, ...] = ()
    pager_patterns: Patterns = ()
    pager_response: str = " "
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a driver needs a non-empty name")
        for name in _PATTERN_FIELDS:
            value: Any = getattr(self, name)
            object.__setattr__(self, name, compile_patterns(value))
        if isinstance(self.init_commands, str):
            raise TypeError("init_commands must be a sequence of commands, not one string")
        object.__setattr__(self, "init_commands", tuple(self.init_commands))
