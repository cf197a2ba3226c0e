"""One connection of a served ``VirtualDevice``, over telnet or an SSH
channel: its reads and writes made a ``LineIO``, the device's conversation
over it (``_serve`` starts the servers and ends them).

An interrupt that comes out of band is Ctrl-C in the stream, where it came,
as a terminal's line discipline makes the key of one: an SSH ``signal``
request for ``INT`` on a channel with a pty (``sendintr()`` types Ctrl-C
there itself), telnet's ``IAC IP`` (``_serve``'s ``_TelnetConnection``
puts it in the stream).  An
SSH ``signal`` request for a signal that ends a program (TERM, HUP, KILL...;
INT too without a pty) ends the channel, reported to the client as its
``exit-signal``, as sshd's shell ends: nothing more is read, no prompt nor
question shown (a handler working outside ``ask()`` finishes first, its
output sent).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .._asyncssh import asyncssh
from ._device import _crlf, builtin, converse, handler_failed, serving
from ._lineio import LineIO

if TYPE_CHECKING:
    from ._serve import DeviceServer

__all__ = ["INTERRUPT", "ssh_process", "telnet_session"]

_log = logging.getLogger("aioexpect.testing")
_READ = 4096
#: What an interrupt out of band reads as: Ctrl-C.
INTERRUPT = "\x03"


async def telnet_session(server: DeviceServer, reader: Any, writer: Any) -> None:
    """One telnet connection's conversation (telnetlib3's reader and writer)."""

    async def read() -> str:
        data = ""
        # (a packet holding only the first bytes of a character decodes to
        # "": not the end of file, which is "" at EOF only)
        while not data and not server.closed and not reader.at_eof():
            data = await reader.read(_READ)
        return data

    async def send(text: str) -> None:
        writer.write(text)
        await writer.drain()

    io = LineIO(read, send, echo=lambda: bool(writer.will_echo), binary=lambda: writer.inbinary)
    await converse(server.device, io, in_band_login=True)


async def ssh_process(server: DeviceServer, proc: asyncssh.SSHServerProcess[str]) -> None:
    """One SSH channel, to its end: its exit status, 0 unless it failed, or
    the signal that ended it (``_ENDING``)."""
    status = 0
    came = _ending_signals(proc)
    try:
        status = await _ssh_session(server, proc, came)
    except Exception as exc:
        _log.debug("SSH connection to %r ended: %r", server.device, exc)
    finally:
        if came:
            proc.exit_with_signal(came[0])
        else:
            proc.exit(status)


#: The signals of an SSH ``signal`` request (RFC 4254 6.10) that end the
#: device's channel, as their default action ends a program (a shell without
#: a terminal, sshd's): its exit is that signal (``exit-signal``).  INT as
#: well without a pty (sshd's non-interactive bash dies of it, whatever it
#: was doing); behind one it is Ctrl-C (``INTERRUPT``).  A name not in the
#: RFC is ignored, as sshd refuses it.
_ENDING = frozenset(
    ["ABRT", "ALRM", "FPE", "HUP", "ILL", "KILL", "PIPE", "QUIT", "SEGV", "TERM", "USR1", "USR2"]
)


def _ending_signals(proc: asyncssh.SSHServerProcess[str]) -> list[str]:
    """The signals that end ``proc`` (``_ENDING``), as they come: the
    device acts on the first when it next shows a prompt or a question,
    or reads."""
    came: list[str] = []
    received = proc.signal_received
    ending = _ENDING if proc.term_type is not None else _ENDING | {"INT"}

    def noted(name: str) -> None:
        if name in ending:
            came.append(name)
        received(name)

    proc.signal_received = noted  # type: ignore[method-assign,assignment]
    return came


async def _ssh_session(
    server: DeviceServer, proc: asyncssh.SSHServerProcess[str], ended: list[str]
) -> int:
    """One SSH channel: an exec request runs one command (its handler's
    questions read stdin); a shell converses.  Once a signal that ends it
    has come (in ``ended``), its input has ended."""
    device = server.device

    async def send(text: str) -> None:
        try:
            proc.stdout.write(text)  # (BrokenPipeError once the channel closed)
            await proc.stdout.drain()
        except asyncssh.Error as exc:  # (the connection lost: as the contract says)
            raise ConnectionResetError(str(exc)) from exc

    async def read() -> str:
        data = ""
        # (as over telnet, a packet holding only part of a character reads "")
        while not data and not ended and not server.closed and not proc.stdin.at_eof():
            try:
                data = await proc.stdin.read(_READ)
            except asyncssh.SignalReceived as received:  # (ending ones: in ``ended``)
                if received.signal == "INT" and pty:
                    return INTERRUPT
            except (asyncssh.TerminalSizeChanged, asyncssh.BreakReceived):
                pass
            except asyncssh.Error:  # (ConnectionLost: the client is gone, as at its end of file)
                return ""
        return data

    pty = proc.term_type is not None
    io = LineIO(read, send, echo=lambda: pty, pty=pty, ended_by=lambda: ended[0] if ended else None)
    if proc.command is None:
        await converse(device, io, in_band_login=False)
        return 0
    command = proc.command.strip()
    done = builtin(device, command)
    if done is not None:  # (exit: the request ends anyway; a page length: nothing is paged here)
        if done[1]:
            await send(_crlf(done[1]))
        return 0
    if device.lookup(command) is None and command:
        await send(_crlf(device.invalid_input(after_prompt=False)))
        return 1
    with serving(device, io):
        try:
            output = await device.respond(command)
        except EOFError:  # from ask(): stdin ended (or the handler hung up)
            return 0
        except Exception as exc:  # as over a shell, on stderr, and a failure
            proc.stderr.write(_crlf(handler_failed(device, command, exc)))
            return 1
    await send(_crlf(output))
    return 0
