"""The exception tree of aioexpect; every error the public API raises is here.

::

    AioexpectError
    ├── ConnectError              could not open (also a ConnectionError)
    │   ├── SpawnError            the local command could not be started
    │   ├── HostKeyError          unknown or changed SSH host key
    │   └── AuthenticationError   credentials or login dialog rejected
    ├── ConnectionLostError       the peer vanished mid-session (also a ConnectionError)
    ├── ExpectError               an expect gave up; .before, .patterns
    │   ├── ExpectTimeout         also a TimeoutError
    │   ├── ExpectEOF             also an EOFError
    │   └── BufferFull            max_buffer reached without a match
    ├── CommandError              execute() saw an error pattern; .command, .output
    ├── ClosedError               used after close()
    └── BusyError                 a second concurrent wait on one session

Bad arguments raise plain ``TypeError`` / ``ValueError``.  Dependencies'
exceptions (asyncssh, telnetlib3, ``OSError``) are translated where they enter,
with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AioexpectError",
    "AuthenticationError",
    "BufferFull",
    "BusyError",
    "ClosedError",
    "CommandError",
    "ConnectError",
    "ConnectionLostError",
    "ExpectEOF",
    "ExpectError",
    "ExpectTimeout",
    "HostKeyError",
    "SpawnError",
]


class AioexpectError(Exception):
    """Base class of every error raised by aioexpect."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own rebuilds as cls(*args), which drops the keyword-only
        # evidence and fails where it is required (CommandError): pickle (a
        # ProcessPoolExecutor worker's error came back as BrokenProcessPool),
        # copy and deepcopy.  Made without __init__, its attributes restored.
        return _rebuilt, (type(self), self.args), vars(self)


def _rebuilt(cls: type[AioexpectError], args: tuple[Any, ...]) -> AioexpectError:
    exc = cls.__new__(cls, *args)
    # (OSError's __new__, under ConnectError and ExpectTimeout, leaves .args
    # to the __init__ that is not called here)
    exc.args = args
    return exc


class ConnectError(AioexpectError, ConnectionError):
    """A session could not be opened; ``.host`` and ``.port`` name the peer."""

    def __init__(self, message: str, *, host: str | None = None, port: int | None = None) -> None:
        super().__init__(message)
        self.host = host
        self.port = port


class SpawnError(ConnectError):
    """The local command could not be started; ``.command`` names it."""

    def __init__(self, message: str, *, command: str = "") -> None:
        super().__init__(message)
        self.command = command


class HostKeyError(ConnectError):
    """The SSH server's host key is unknown or has changed.

    Raised before any credential is sent.
    """


class AuthenticationError(ConnectError):
    """Credentials or an in-band login dialog were rejected."""


class ConnectionLostError(AioexpectError, ConnectionError):
    """The peer vanished in the middle of a session."""


class ExpectError(AioexpectError):
    """An expect gave up.

    ``.before`` holds the unmatched data exactly as it arrived (it also stays
    in the session's buffer); ``.patterns`` the patterns that were awaited.
    """

    def __init__(self, message: str, *, before: Any = "", patterns: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.before = before
        self.patterns = tuple(patterns)


class ExpectTimeout(ExpectError, TimeoutError):
    """No pattern matched before the deadline."""


class ExpectEOF(ExpectError, EOFError):
    """The peer reached end-of-file before any pattern matched."""


class BufferFull(ExpectError):
    """``max_buffer`` characters arrived without a match (nothing was dropped)."""


class CommandError(AioexpectError):
    """``execute()`` saw one of the driver's error patterns in the output."""

    def __init__(self, message: str, *, command: str, output: str) -> None:
        super().__init__(message)
        self.command = command
        self.output = output


class ClosedError(AioexpectError):
    """The session (or transport) was used after ``close()``."""


class BusyError(AioexpectError):
    """A second task tried to wait on a session that already has a reader."""


# Tracebacks and reprs name them as users import them: aioexpect.ExpectTimeout,
# not aioexpect._exceptions.ExpectTimeout (pickle finds them there too).
for _name in __all__:
    globals()[_name].__module__ = "aioexpect"
del _name
