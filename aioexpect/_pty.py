"""Pseudo-terminal adapter: a local child on a pty, as a Transport.

The child leads its own session with the pty slave as its controlling
terminal; the parent keeps only the non-blocking master.  Reading stops
above ``HIGH_WATER`` unread bytes (back-pressure) and resumes as ``read()``
drains.  ``EIO`` on the master means every slave descriptor is closed: that
is end-of-file, reported after everything the child wrote.  So is the
child's exit, once the master has nothing more to read: a process it
started that outlives it (a background job, or a program ignoring SIGHUP
when the child was killed) may keep the slave open for ever, and what such
a process writes after that is not delivered.  The master stays open until
``close()``, whose hang-up ends those processes.
"""

from __future__ import annotations

import fcntl
import functools
import os
import struct
import sys
import termios
from collections.abc import Sequence
from typing import Any

from ._canonical import CanonicalLine
from ._child import Child, start_child
from ._exceptions import ClosedError, ConnectionLostError, SpawnError
from ._local import LocalTransport
from ._pidfd import close_quietly
from ._transport import Transport

__all__ = ["CANONICAL_LINE_LIMIT", "PtyTransport", "open_pty"]

#: Longest line a Linux pty accepts in canonical mode, without its newline.
#: The line discipline's buffer (N_TTY_BUF_SIZE) holds 4096 bytes, one of
#: them kept for the newline.  Measured: ``wc -c`` on a pty counts 4096 for
#: a 4095-byte line plus "\n", and also 4096 for 4096 or 5000 bytes plus
#: "\n" (the excess is silently dropped).
CANONICAL_LINE_LIMIT = 4095
_DEFAULT_CONTROL = {termios.VEOF: b"\x04", termios.VINTR: b"\x03"}


async def open_pty(
    command: str,
    args: Sequence[str],
    *,
    env: dict[str, str] | None,
    cwd: str | None,
    echo: bool,
    dimensions: tuple[int, int],
) -> Transport:
    """Start ``command`` on a new pty of ``dimensions`` (rows, cols).

    ``echo=False`` turns the terminal's echo off before the child starts.
    Raises ``SpawnError`` (and leaks no descriptor) when it cannot start.
    """
    argv = [command, *args]
    try:
        master, slave = os.openpty()
    except OSError as exc:
        raise SpawnError(
            f"cannot start {command!r}: no pseudo-terminal: {exc.strerror}", command=command
        ) from exc
    try:
        _configure(slave, command, echo=echo, dimensions=dimensions)
        child = await start_child(
            argv, env=env, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, controlling_tty=slave
        )
        os.set_blocking(master, False)
    except BaseException:
        close_quietly(master)
        raise
    finally:
        close_quietly(slave)
    return PtyTransport(child, master)


def _configure(slave: int, command: str, *, echo: bool, dimensions: tuple[int, int]) -> None:
    rows, cols = dimensions
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if not echo:
            attrs = termios.tcgetattr(slave)
            attrs[3] &= ~termios.ECHO
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
    except (OSError, termios.error) as exc:
        raise SpawnError(
            f"cannot start {command!r}: cannot set up the pty: {exc}", command=command
        ) from exc


class PtyTransport(LocalTransport):
    """A child on a pseudo-terminal.  See the module docstring.

    ``write_eof()`` sends the terminal's EOF character (normally Ctrl-D): it
    may be repeated and writing goes on afterwards; like a keyboard Ctrl-D it
    ends input only at the start of a line (otherwise it sends the partial
    line).  ``send_interrupt()`` sends the interrupt character (Ctrl-C).
    """

    kind = "pty"
    linesep = "\n"

    def __init__(self, child: Child, master: int) -> None:
        self._open(child, master, master)
        self._end_at_exit()

    def _check_writable(self) -> int:
        if self._closed or self._wfd is None:
            raise ClosedError(f"pty {self._peer!r} is closed")
        if self._ended:
            raise ConnectionLostError(
                f"{self._peer!r} exited" if self._exited else f"{self._peer!r} closed its terminal"
            )
        return self._wfd

    async def write_eof(self) -> None:
        await self.write(self._control(termios.VEOF))

    async def send_interrupt(self) -> None:
        await self.write(self._control(termios.VINTR))

    def _control(self, index: int) -> bytes:
        """The terminal's special character ``index`` (VEOF, VINTR)."""
        fd = self._check_writable()
        try:
            char: Any = termios.tcgetattr(fd)[6][index]
        except termios.error:
            return _DEFAULT_CONTROL[index]
        if isinstance(char, int):
            char = bytes([char])
        return _DEFAULT_CONTROL[index] if not char or char[0] in _DISABLED else char

    # -- terminal ------------------------------------------------------------

    def set_winsize(self, rows: int, cols: int) -> None:
        fd = self._check_open_fd()
        try:
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        except OSError as exc:
            raise ConnectionLostError(f"cannot resize the pty of {self._peer!r}: {exc}") from exc

    def canonical_line_limit(self) -> int | None:
        """``CANONICAL_LINE_LIMIT`` while the terminal is in canonical mode
        (ICANON set, as a shell's ``stty cooked``), ``None`` in raw mode."""
        line = self.canonical_line()
        return None if line is None else line.limit

    def echoes_as_typed(self) -> bool:
        """Whether the terminal itself echoes what is written to it, as it
        comes (ICANON and ECHO set: a shell without its line editor, ``stty
        cooked``), not a program as it reads each line (a line editor, in
        raw mode, echoes a line at its prompt)."""
        if self._closed or self._rfd is None:
            return False
        try:
            lflag = termios.tcgetattr(self._rfd)[3]
        except termios.error:
            return False
        return bool(lflag & termios.ICANON and lflag & termios.ECHO)

    def canonical_line(self) -> CanonicalLine | None:
        """The limit and the line ends the terminal's flags give now."""
        if self._closed or self._rfd is None:
            return None
        try:
            iflag, _, _, lflag, _, _, chars = termios.tcgetattr(self._rfd)
        except termios.error:
            return None
        if not lflag & termios.ICANON:
            return None
        return _line_rules(_line_limit(self._rfd), iflag, lflag, tuple(chars))

    def _columns(self, default: Any) -> Any:
        # Asked of the pty itself: the program (stty cols) may have resized it.
        if self._closed or self._rfd is None:
            return default
        try:
            size = fcntl.ioctl(self._rfd, termios.TIOCGWINSZ, b"\0" * 8)
        except OSError:
            return default
        return struct.unpack("HHHH", size)[1] or default

    def _check_open_fd(self) -> int:
        if self._closed or self._rfd is None:
            raise ClosedError(f"pty {self._peer!r} is closed")
        return self._rfd

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``"peer"``: the command line (shortened); ``"pid"``; ``"fd"``: the
        master descriptor (``None`` once closed); ``"command"``: the argv tuple;
        ``"columns"``: the terminal's width (``default`` once closed)."""
        if name == "fd":
            return self._rfd
        if name == "columns":
            return self._columns(default)
        return super().get_extra_info(name, default)


_LINUX = sys.platform.startswith("linux")
#: A special character at one of these values is disabled: Linux's
#: ``_POSIX_VDISABLE`` is 0, the BSDs' and macOS's 0xff (their 0 is taken
#: for disabled too: a line end fewer, a line counted long).
_DISABLED = (0,) if _LINUX else (0, 0xFF)
#: ``stty extproc`` (an external program edits the line: telnetd's
#: LINEMODE): Python's termios lacks it; Linux's value on most machines, the
#: BSDs' and macOS's elsewhere.
_EXTPROC = getattr(termios, "EXTPROC", 0o200000 if _LINUX else 0x800)


def _line_limit(fd: int) -> int:
    if _LINUX:
        return CANONICAL_LINE_LIMIT
    try:  # BSD and macOS report their real MAX_CANON here (Linux says 255)
        return os.fpathconf(fd, "PC_MAX_CANON") - 1
    except (OSError, ValueError):
        return 254


_CR, _NL = 13, 10
#: Special characters whose effect is no line end; several are BSD's only.
_OTHERS = tuple(
    getattr(termios, name)
    for name in ("VDISCARD", "VDSUSP", "VSTATUS", "VERASE", "VREPRINT", "VWERASE")
    if hasattr(termios, name)
)


@functools.lru_cache(maxsize=16)  # (asked at each 255 bytes sent; worked out, 80,000 instructions)
def _line_rules(limit: int, iflag: int, lflag: int, chars: tuple[Any, ...]) -> CanonicalLine:
    """Which bytes end, drop or escape a line, read in the line discipline's
    order: IXON's stop and start, ISIG's signals (which discard the line
    unless NOFLSH), then ``\\r`` dropped (IGNCR) or made ``\\n`` (ICRNL),
    or ``\\n`` made ``\\r`` (INLCR); then the kill character discards the
    line, VLNEXT escapes the next byte, and ``\\n``, VEOF, VEOL, VEOL2 end
    it; a character at a ``_DISABLED`` value is none.  PARMRK stores a 0xff
    twice (ISTRIP makes it 0x7f first).  Under EXTPROC the line discipline
    does none of this (Linux: it stores every byte as it comes, and drops
    what exceeds its buffer until the program first reads): everything sent
    is one line.  Where unsure (a byte that is two special characters, one
    no line end), a byte ends no line: a line is counted long, never short."""
    if lflag & _EXTPROC:
        return CanonicalLine(limit, ends=b"")
    extended = bool(lflag & termios.IEXTEN)

    def char(name: str, active: object = True) -> int | None:
        value = chars[getattr(termios, name)] if active else 0
        code = value if isinstance(value, int) else value[0] if value else 0
        return None if code in _DISABLED else code

    others = {chars[i][0] for i in _OTHERS if isinstance(chars[i], bytes) and chars[i]}
    others |= {char("VSTART", iflag & termios.IXON), char("VSTOP", iflag & termios.IXON)}
    signals = {char(n, lflag & termios.ISIG) for n in ("VINTR", "VQUIT", "VSUSP")} - {None}
    enders = {_NL, char("VEOF"), char("VEOL"), char("VEOL2", extended), char("VKILL")}
    literal = char("VLNEXT", extended)
    ends, dropped = bytearray(), bytearray()
    for byte in {_CR, _NL, *enders, *signals}:
        if byte is None or byte in others or (byte in signals and lflag & termios.NOFLSH):
            continue  # consumed, or a signal that keeps the line
        if byte in signals:
            ends.append(byte)
        elif byte == _CR and iflag & termios.IGNCR:
            dropped.append(byte)
        elif (mapped := _mapped(byte, iflag)) in enders and mapped not in others | {literal}:
            ends.append(byte)
    if iflag & termios.ISTRIP:  # (a byte loses its top bit first: 0x8a is no VEOL of 0x8a)
        ends = bytearray(byte for byte in ends if byte < 0x80)
    if iflag & getattr(termios, "IUCLC", 0):  # (and A is a before it is compared)
        ends = bytearray(byte for byte in ends if not 65 <= byte <= 90)
    doubled = b"\xff" if iflag & termios.PARMRK and not iflag & termios.ISTRIP else b""
    if doubled:  # (an end at 0xff, stored twice too, is counted as none: long, not short)
        ends = bytearray(byte for byte in ends if byte != 0xFF)
    if literal is None or literal in others | signals | {_CR, _NL}:
        return CanonicalLine(limit, bytes(ends), bytes(dropped), doubled=doubled)
    return CanonicalLine(limit, bytes(ends), bytes(dropped), bytes([literal]), doubled)


def _mapped(byte: int, iflag: int) -> int:
    if byte == _CR and iflag & termios.ICRNL:
        return _NL
    if byte == _NL and iflag & termios.INLCR:
        return _CR
    return byte
