"""Telnet framing (RFC 854), pure: a received byte stream split into in-band
data and complete commands, with bounded memory whatever the peer sends.

The telnet adapter feeds it; telnetlib3 only ever sees complete option
commands and sub-negotiations.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

__all__ = ["MAX_SUBNEGOTIATION", "TelnetScanner"]

_log = logging.getLogger("aioexpect")

#: Longest sub-negotiation (IAC SB ... IAC SE) passed on; longer ones are dropped.
MAX_SUBNEGOTIATION = 1 << 14

IAC, SE, SB, WILL, DONT = 255, 240, 250, 251, 254
_DATA, _IAC, _OPT, _SB, _SB_IAC = range(5)
#: Options whose sub-negotiations hold text (TTYPE, TSPEED, XDISPLOC,
#: OLD-ENVIRON, NEW-ENVIRON, CHARSET): a 0xff is no part of one, so IAC and
#: a command in one is a command (see ``_in_sb``).
_TEXT_OPTIONS = frozenset({24, 32, 35, 36, 39, 42})
#: One option command (3 bytes) or a two-byte command other than SB and IAC IAC.
_COMMAND = re.compile(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xf9]", re.DOTALL)
_RUN = re.compile(rb"(?:\xff[\xfb-\xfe].|\xff[\xf0-\xf9])+", re.DOTALL)
#: In-band data: bytes other than IAC, and escaped IACs (IAC IAC).
#: Possessive: nothing to go back to, so re keeps no stack per pair (a
#: greedy one took 16 MiB for a 256 KiB read of IAC IACs).
_TEXT = re.compile(rb"[^\xff]*+(?:\xff\xff[^\xff]*+)*+")


class TelnetScanner:
    """Splits a received telnet stream into data and commands; pure, no I/O.

    ``feed(chunk)`` calls ``on_data(bytes)`` for in-band data (``IAC IAC``
    unescaped; NUL, the NVT's no-operation, dropped unless ``binary``, so CR
    NUL becomes CR) and
    ``on_command(bytes)`` for each complete ``IAC WILL/WONT/DO/DONT opt`` or
    ``IAC SB ... IAC SE`` (still escaped).  Other two-byte commands (NOP, GA,
    DM, ...) are dropped.  Commands may be split across chunks anywhere.
    Inside a sub-negotiation, IAC and a byte other than SE and IAC is a
    lone 0xff the peer did not double, kept: only IAC SE ends it; but in
    one of text (``_TEXT_OPTIONS``), IAC and a command ends it, dropped,
    and is read (see ``_in_sb``).

    ``on_command`` returns whether it wants more: once it says no, the rest
    of a run of back-to-back commands is skipped at C speed (a storm costs
    a regex scan, not a Python call per command).
    """

    __slots__ = (
        "_cmd",
        "_lone",
        "_on_command",
        "_on_data",
        "_sb",
        "_state",
        "binary",
        "dropped",
    )

    def __init__(
        self, on_data: Callable[[bytes], None], on_command: Callable[[bytes], bool]
    ) -> None:
        self._on_data = on_data
        self._on_command = on_command
        self._state = _DATA
        self._cmd = 0
        self._sb: bytearray | None = bytearray()
        self._lone = False  # (a lone 0xff in this sub-negotiation, told once)
        #: Whether the peer sends binary (NUL is data, not a no-operation).
        self.binary = False
        #: Sub-negotiations dropped for being longer than MAX_SUBNEGOTIATION.
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n:
            state = self._state
            if state == _DATA:
                i = self._text(data, i)
                if i == n:
                    return
                if (run := _RUN.match(data, i)) is not None:
                    i = self._run(run)
                    continue
                self._state, i = _IAC, i + 1
            elif state == _SB:
                j = data.find(b"\xff", i)
                if j != i:
                    self._sb_add(data[i:] if j < 0 else data[i:j])
                if j < 0:
                    return
                self._state, i = _SB_IAC, j + 1
            elif state == _IAC:
                i = self._after_iac(data[i], i + 1)
            elif state == _OPT:
                self._state = _DATA
                self._on_command(bytes((IAC, self._cmd, data[i])))
                i += 1
            else:  # _SB_IAC
                i = self._in_sb(data[i], i + 1)

    def _text(self, data: bytes, i: int) -> int:
        """Hand over the in-band data from ``i`` on, escaped IACs unescaped,
        in one piece (binary data full of 0xFF is no call per byte); return
        where it ends: the end of ``data``, or an IAC that starts a command
        (or ends ``data``, its command in the next chunk)."""
        j = data.find(b"\xff", i)
        if j < 0 or data[j + 1 : j + 2] != b"\xff":  # (the usual: find() is faster)
            end = len(data) if j < 0 else j
            if end > i:
                self._data(data[i:end])
            return end
        text = _TEXT.match(data, j)  # (never None: it matches empty text)
        end = j if text is None else text.end()
        self._data(data[i:end].replace(b"\xff\xff", b"\xff"))
        return end

    def _run(self, run: re.Match[bytes]) -> int:
        """Back-to-back complete commands: answer while wanted, skip the rest."""
        for command in _COMMAND.finditer(run.group()):
            if len(command.group()) == 3 and not self._on_command(command.group()):
                break
        return run.end()

    def _after_iac(self, byte: int, i: int) -> int:
        if byte == IAC:
            self._state = _DATA
            self._data(b"\xff")
        elif WILL <= byte <= DONT:
            self._state, self._cmd = _OPT, byte
        elif byte == SB:
            self._state, self._sb, self._lone = _SB, bytearray(), False
        else:
            self._state = _DATA  # NOP, GA, DM, AYT, a stray SE, ...: nothing to do
        return i

    def _in_sb(self, byte: int, i: int) -> int:
        if byte == IAC:
            self._state = _SB
            self._sb_add(b"\xff")
            return i
        if byte == SE:
            self._state = _DATA
            body, self._sb = self._sb, bytearray()
            if body is None:
                self.dropped += 1  # (told when it grew past the bound)
            elif body:
                escaped = bytes(body).replace(b"\xff", b"\xff\xff")
                self._on_command(b"\xff\xfa" + escaped + b"\xff\xf0")
            return i
        sb = self._sb
        if byte > SE and sb is not None and (not sb or sb[0] in _TEXT_OPTIONS):
            # IAC <command> inside a sub-negotiation of text (a terminal
            # type, a variable's name, a charset: no 0xff in it, doubled or
            # not): its IAC SE left off, or a command put in.  Read as the
            # part of it that came, this made what follows part of it up to
            # an IAC SE, which a server that leaves it off may never send:
            # its login prompt never came.  Dropped (as telnetlib3 does; BSD
            # telnet and curl act on the part that came), the command read.
            _log.warning(
                "telnet: a command (IAC %d) inside a sub-negotiation (option %s):"
                " its IAC SE left off? The sub-negotiation is dropped, the command read",
                byte,
                sb[0] if sb else "?",
            )
            self._sb = bytearray()
            self._state = _IAC
            return i - 1
        # IAC and any other byte: a lone 0xff the peer did not double (RFC
        # 855 says to), part of the sub-negotiation, which goes on to its
        # IAC SE, the one end the protocol gives it.  Followed by a command
        # byte too (a window 0xfffb wide: 0xff 0xfb), which cannot be told
        # from a command put in or an IAC SE left off: taken for one, the
        # rest of the SB was in-band data and its bytes a command
        # (``IAC WILL 0x00``: an offer of binary mode), acted on.  Said, as
        # what the server sends meanwhile is no text: an expect times out.
        if not self._lone:
            self._lone = True
            _log.warning(
                "telnet: a 0xff the server did not double (IAC %d) inside a sub-negotiation"
                " (option %s): read as part of it, with what follows up to its IAC SE",
                byte,
                self._sb[0] if self._sb else "?",
            )
        self._state = _SB
        self._sb_add(bytes((IAC, byte)))
        return i

    def _sb_add(self, chunk: bytes) -> None:
        sb = self._sb
        if sb is None:
            return
        if len(sb) + len(chunk) > MAX_SUBNEGOTIATION:
            self._sb = None  # discard the rest, up to IAC SE
            # (said now: its IAC SE may never come, what follows never text)
            _log.warning(
                "telnet: a sub-negotiation over %d bytes: dropped, with what follows"
                " up to its IAC SE",
                MAX_SUBNEGOTIATION,
            )
        else:
            sb += chunk

    def _data(self, chunk: bytes) -> None:
        if not self.binary and b"\x00" in chunk:
            # e.g. inetutils telnetd sends a stray NUL during negotiation
            chunk = chunk.replace(b"\x00", b"")
            if not chunk:
                return
        self._on_data(chunk)
