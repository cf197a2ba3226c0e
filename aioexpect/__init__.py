"""aioexpect: automate interactive sessions (shells, REPLs, routers) with asyncio.

Everything public is importable from here (plus ``aioexpect.testing`` and
``aioexpect.drivers``); the modules behind it are private.
"""

from __future__ import annotations

from . import drivers as drivers  # registers the shipped drivers
from ._any import expect_any
from ._console_server import ConsoleServer, start_console_server
from ._exceptions import (
    AioexpectError,
    AuthenticationError,
    BufferFull,
    BusyError,
    ClosedError,
    CommandError,
    ConnectError,
    ConnectionLostError,
    ExpectEOF,
    ExpectError,
    ExpectTimeout,
    HostKeyError,
    SpawnError,
)
from ._many import Account, Host, Result, run_many
from ._match import EOF, FULL_BUFFER, TIMEOUT, Match, Sentinel
from ._openers import Opener, connect, connect_ssh, connect_telnet, spawn
from ._runner import run
from ._session import Session
from ._version import __version__

__all__ = [
    "EOF",
    "FULL_BUFFER",
    "TIMEOUT",
    "Account",
    "AioexpectError",
    "AuthenticationError",
    "BufferFull",
    "BusyError",
    "ClosedError",
    "CommandError",
    "ConnectError",
    "ConnectionLostError",
    "ConsoleServer",
    "ExpectEOF",
    "ExpectError",
    "ExpectTimeout",
    "Host",
    "HostKeyError",
    "Match",
    "Opener",
    "Result",
    "Sentinel",
    "Session",
    "SpawnError",
    "__version__",
    "connect",
    "connect_ssh",
    "connect_telnet",
    "expect_any",
    "run",
    "run_many",
    "spawn",
    "start_console_server",
]
