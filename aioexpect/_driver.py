"""``Driver``: device knowledge as data (prompt, error and login patterns), and
the registry of named drivers with its guessing from a banner and a prompt.

Pure data, no I/O: the session and the prompt helpers read it.  Strings given
to the constructor are compiled (``re.MULTILINE``), so every pattern field is a
tuple of ``re.Pattern[str]``.  The shipped drivers live in
``aioexpect.drivers`` and register themselves here when it is imported.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ._patterns import check_ordered, reason, same
from ._patterns import compiled as regex_of
from ._scan import may_match_empty

__all__ = [
    "SHORT_CONTROL",
    "SHORT_CONTROL_CUT",
    "Driver",
    "compile_patterns",
    "get",
    "guess",
    "register",
    "register_shipped",
    "registered",
]

Patterns = tuple[re.Pattern[str], ...]

#: A short control sequence, as the shipped drivers' prompts and questions
#: may hold them: CSI (colours, modes), charset (``tput sgr0``'s
#: ``\x1b(B``), keypad, save/restore cursor, shift in/out, bell.  One
#: definition: the login dialog must take for the question's end what the
#: drivers' question patterns allow after it.
SHORT_CONTROL = r"\x1b\[[0-?]{0,24}[ -/]{0,2}[@-~]|\x1b[()][0-~]|\x1b[=>78]|[\x07\x0e\x0f]"
#: ... the start of one, cut short by a chunk's end.
SHORT_CONTROL_CUT = r"\x1b(?:\[[0-?]{0,24}[ -/]{0,2}|[()])?"


def compile_patterns(
    patterns: Any, *, empty_ok: bool = False, redact: Callable[[Any], Any] = same
) -> Patterns:
    r"""Compile strings (as multiline regexes) and keep compiled patterns as they are.

    A pattern that can match empty text, alone or in context (``""``,
    ``x*``, ``^``, ``\b``, ``(?=\$ )``), would match at once wherever the
    search starts: ``ValueError``, as an empty collection is unless
    ``empty_ok`` (a driver's field may be empty; ``set_prompt([])`` would
    wait for a prompt nothing can match).  Bytes: ``TypeError``, not a
    sequence of ints.  ``redact``: a pattern as a message shows it (a
    session's secrets masked).
    """
    if isinstance(patterns, str | re.Pattern):
        patterns = (patterns,)
    elif isinstance(patterns, bytes | bytearray):  # (else taken for a sequence of ints)
        raise TypeError(f"str patterns only, not bytes: {redact(bytes(patterns))!r}")
    elif not isinstance(patterns, Iterable):
        kind = type(patterns).__name__
        raise TypeError(f"patterns must be a str, re.Pattern or a sequence of them, not {kind}")
    check_ordered(patterns)
    out = tuple(_compile(p, redact) for p in patterns)
    if not out and not empty_ok:
        raise ValueError("no patterns given (an empty collection): nothing could ever match")
    return out


def _compile(p: Any, redact: Callable[[Any], Any]) -> re.Pattern[str]:
    """``p`` compiled; an error quotes it redacted, raised outside any
    handler (``re.error``, its ``__context__``, held the pattern)."""
    compiled: re.Pattern[str] | None
    if isinstance(p, re.Pattern):
        if not isinstance(p.pattern, str):
            raise TypeError(f"str patterns only, not bytes: {redact(p.pattern)!r}")
        compiled = p
    elif isinstance(p, str):
        compiled, why = regex_of(p, re.MULTILINE)
        if compiled is None:
            raise ValueError(f"bad regular expression {redact(p)!r}: {reason(p, why, redact)}")
    elif isinstance(p, bytes | bytearray):
        raise TypeError(f"str patterns only, not bytes: {redact(bytes(p))!r}")
    else:
        raise TypeError(f"a driver pattern must be a str or re.Pattern, not {type(p).__name__}")
    if may_match_empty(compiled):
        raise ValueError(
            f"pattern {redact(compiled.pattern)!r} can match empty text, so it would match at"
            " once, anywhere"
        )
    return compiled


def _check_commands(commands: Iterable[str]) -> tuple[str, ...]:
    if isinstance(commands, str):
        raise TypeError("init_commands must be a sequence of commands, not one string")
    out = tuple(commands)
    for command in out:
        if not isinstance(command, str) or "\n" in command or "\r" in command:
            raise ValueError(f"an init command must be one line of text, not {command!r}")
    return out


PatternsIn = Iterable[str | re.Pattern[str]] | str | re.Pattern[str]


@dataclass(frozen=True, init=False)
class Driver:
    """What one kind of device looks like.

    - ``prompt_patterns``: the command prompt (``execute`` and
      ``expect_prompt`` wait for it);
    - ``error_patterns``: searched in the output of ``execute`` (one
      string: ``\\A`` anchors at its first line); a match raises
      ``CommandError``;
    - ``login_patterns`` / ``password_patterns``: the questions of an in-band
      login dialog, answered by ``login()``;
    - ``login_failure_patterns``: the dialog's way of saying no;
    - ``guess_patterns``: evidence in a banner or first prompt that a device
      is of this kind (``driver="auto"``); more matching patterns, more
      confidence;
    - ``init_commands``: sent once the first prompt was seen (by ``login``
      and ``execute``), e.g. ``terminal length 0``;
    - ``pager_patterns``: pager prompts (``--More--``) answered with
      ``pager_response`` whenever they show up while waiting for the prompt.

    Pattern arguments may be strings (compiled with ``re.MULTILINE``),
    compiled patterns, or sequences of both; the fields are always tuples of
    compiled patterns.
    """

    name: str
    prompt_patterns: Patterns
    error_patterns: Patterns
    login_patterns: Patterns
    password_patterns: Patterns
    login_failure_patterns: Patterns
    guess_patterns: Patterns
    init_commands: tuple[str, ...]
    pager_patterns: Patterns
    pager_response: str
    description: str = field(compare=False)

    def __init__(
        self,
        name: str,
        *,
        prompt_patterns: PatternsIn = (),
        error_patterns: PatternsIn = (),
        login_patterns: PatternsIn = (),
        password_patterns: PatternsIn = (),
        login_failure_patterns: PatternsIn = (),
        guess_patterns: PatternsIn = (),
        init_commands: Iterable[str] = (),
        pager_patterns: PatternsIn = (),
        pager_response: str = " ",
        description: str = "",
    ) -> None:
        if not isinstance(name, str) or not name:
            raise (ValueError if name == "" else TypeError)("a driver needs a non-empty name")
        setattr_ = object.__setattr__
        setattr_(self, "name", name)
        for key, value in (
            ("prompt_patterns", prompt_patterns),
            ("error_patterns", error_patterns),
            ("login_patterns", login_patterns),
            ("password_patterns", password_patterns),
            ("login_failure_patterns", login_failure_patterns),
            ("guess_patterns", guess_patterns),
            ("pager_patterns", pager_patterns),
        ):
            setattr_(self, key, compile_patterns(value, empty_ok=True))
        setattr_(self, "init_commands", _check_commands(init_commands))
        if not isinstance(pager_response, str):
            raise TypeError("pager_response must be a str")
        setattr_(self, "pager_response", pager_response)
        setattr_(self, "description", str(description))

    def replace(self, **changes: Any) -> Driver:
        """A copy with some fields changed: ``get("ios").replace(name="mine", ...)``."""
        return dataclasses.replace(self, **changes)

    def guess_score(self, text: str) -> int:
        """How many of ``guess_patterns`` occur in ``text``."""
        return sum(1 for p in self.guess_patterns if p.search(text))


_REGISTRY: dict[str, Driver] = {}
#: The drivers ``aioexpect.drivers`` ships, by identity (a replacement made
#: with ``replace()`` is the user's own): they lose guessing ties to yours.
_SHIPPED: list[Driver] = []
#: The shipped drivers of a host's shell: the prompt's shape breaks no tie
#: they are in (see ``guess``).
_SHELLS: list[Driver] = []


def register(driver: Driver) -> Driver:
    """Add (or replace) a driver under its name; returns it.

    A replacement counts as registered last, as a new driver does: it wins
    the guessing ties the one it replaces lost, and ``names()`` lists it last.
    """
    if not isinstance(driver, Driver):
        raise TypeError(f"register() needs a Driver, not {type(driver).__name__}")
    if driver.name == "auto":
        raise ValueError('"auto" is not a driver name: driver="auto" means guess the driver')
    # (a dict keeps a replaced key's slot: taken out first, it goes to the end)
    _REGISTRY.pop(driver.name, None)
    _REGISTRY[driver.name] = driver
    return driver


def register_shipped(driver: Driver, *, shell: bool = False) -> None:
    """Register one of the drivers ``aioexpect.drivers`` ships; ``shell``:
    it drives a host's shell (see ``guess``)."""
    _SHIPPED.append(register(driver))
    if shell:
        _SHELLS.append(driver)


def _shipped(driver: Driver) -> bool:
    return any(driver is shipped for shipped in _SHIPPED)


def _shell(driver: Driver) -> bool:
    return any(driver is shell for shell in _SHELLS)


def get(name: str) -> Driver:
    """The driver registered under ``name``; ``ValueError`` names the known ones."""
    if not isinstance(name, str):
        raise TypeError(f"a driver name must be a str, not {type(name).__name__}")
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"unknown driver {name!r}; known drivers: {known}") from None


def registered() -> tuple[Driver, ...]:
    """Every registered driver, in registration order."""
    return tuple(_REGISTRY.values())


def guess(text: str, *, prompt: str | None = None) -> Driver | None:
    """The registered driver whose ``guess_patterns`` best explain ``text``.

    The score is the number of a driver's guess patterns found in ``text``;
    the highest score wins, ties go to the driver registered last (so your
    own drivers win ties with the shipped ones).  ``None`` when no pattern
    of any driver matches.

    ``prompt``: the prompt that ended ``text`` (as one row).  Given, only
    drivers with a prompt pattern that finds it are candidates: a driver
    that does not know the prompt the device shows would wait for it in
    vain after every command (and type its init commands into whatever
    shows it), whatever the banner says.  ``None`` when no candidate scores.
    Between shipped drivers, a tie goes first to the one with more of its
    patterns found in the prompt itself: the prompt's shape is what the
    device shows of itself, where one word in a banner (``replaced the
    Juniper MX480``, ``peering with Arista spines``) is often about another
    device.  Your own drivers win ties with the shipped ones all the same.
    Not so in a tie with the shell's driver: a Unix banner (``Debian
    GNU/Linux``) is the host's own, printed by the system whose shell then
    shows the prompt, and every network OS's prompt shape (``web1#``,
    ``root@web1#``, ``admin@web1>``) is a shell's too.
    """
    if prompt is not None and not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str or None, not {type(prompt).__name__}")
    tied: list[Driver] = []  # the best, in registration order
    best = (0, False)
    for driver in _REGISTRY.values():
        if prompt is not None and not any(p.search(prompt) for p in driver.prompt_patterns):
            continue
        score = driver.guess_score(text)
        if not score:
            continue
        ranked = (score, not _shipped(driver))
        if ranked > best:
            best, tied = ranked, [driver]
        elif ranked == best:
            tied.append(driver)
    if not tied:
        return None
    if prompt is None or any(map(_shell, tied)):
        return tied[-1]
    # (max() keeps the first of equals: reversed, the last registered)
    return max(reversed(tied), key=lambda driver: driver.guess_score(prompt))
