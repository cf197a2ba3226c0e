"""``LineIO``: the line discipline of a served ``VirtualDevice``, over any
connection that reads and writes text (telnet, an SSH channel, the answers
given to ``respond``)."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable

__all__ = ["LineIO"]


class LineIO:
    """A terminal line discipline over a connection: echo (when the client
    expects the server to echo), backspace, Ctrl-C, escape sequences ignored.

    ``read()`` returns text, ``""`` at end of file; ``send(text)`` writes it,
    or raises ``ConnectionError`` if the connection is gone.
    The echo of what one read brought is written at once, as a terminal's
    line discipline does, not a packet per character.  ``pty``: behind a
    pty (an SSH channel with one), where CR and LF each end a line, as a
    terminal's ICRNL makes them (``x\r\n`` is ``x``, then an empty line,
    as bash behind a real sshd reads it); elsewhere CR LF is one line end
    (telnet's, and a client's over a pipe), the LF dropped after a CR
    however late it comes, as inetutils telnetd drops it.  ``binary()``:
    whether the client sends in telnet's binary mode now (RFC 856), where
    telnetd passes CR and LF on as they are, and its pty reads each as a
    line end, as behind a pty here (a bare LF sent after the CR of an
    Enter answered long before is a line of its own: dropped, it got no
    answer).  CR NUL is one everywhere.
    ``ended_by()``: the name of the signal that ended the connection (an
    SSH ``signal`` request), once one has come; ``None`` until then.
    """

    def __init__(
        self,
        read: Callable[[], Awaitable[str]],
        send: Callable[[str], Awaitable[None]],
        echo: Callable[[], bool],
        *,
        pty: bool = False,
        binary: Callable[[], bool] = lambda: False,
        ended_by: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._read = read
        self.send = send
        self._echo = echo
        self.ended_by = ended_by
        self._pty = pty
        self._binary = binary
        self._pending = ""
        self._after_cr = False
        self._eof = False
        self._echoing: list[str] = []

    def _echo_later(self, text: str) -> None:
        self._echoing.append(text)

    async def _flush_echo(self) -> None:
        if self._echoing:
            text, self._echoing = "".join(self._echoing), []
            await self.send(text)

    async def _next_char(self) -> str | None:
        while not self._pending:
            if self._eof:
                return None
            await self._flush_echo()  # all of the last read's echo, in one write
            data = await self._read()
            if not data:
                self._eof = True
                return None
            self._pending = data
        ch, self._pending = self._pending[0], self._pending[1:]
        if self._after_cr and ch in self._after_cr_dropped():
            self._after_cr = False
            return await self._next_char()
        self._after_cr = ch == "\r"
        return ch

    async def _skip_escape(self) -> None:
        """Drop the rest of an escape sequence (arrow keys and such)."""
        ch = await self._next_char()
        if ch not in ("[", "O"):
            return
        while ch is not None:
            ch = await self._next_char()
            if ch is not None and "@" <= ch <= "~":
                return

    async def answer_key(self) -> str | None:
        """One key, as ``readkey`` reads it (Enter: ``""``; Ctrl-C:
        ``"\\x03"``); then the line end is echoed.  ``None`` at end of file."""
        ch = await self.readkey()
        if ch is None:
            return None
        if self._echo():
            self._echo_later("\r\n")
        await self._flush_echo()
        return "" if ch in "\r\n" else ch

    async def readline(self, *, secret: bool = False, interrupt: str = "") -> str | None:
        """One line, without its line end; ``None`` at end of file;
        ``interrupt`` if Ctrl-C abandons it."""
        chars: list[str] = []
        while True:
            ch = await self._next_char()
            if ch is None or (ch == "\x04" and not chars):
                return None
            echo = self._echo() and not secret
            if ch in "\r\n":
                if self._echo():
                    self._echo_later("\r\n")
                await self._flush_echo()
                return "".join(chars)
            if ch in "\x7f\b":
                if chars:
                    chars.pop()
                    if echo:
                        self._echo_later("\b \b")
            elif ch == "\x03":
                if self._echo():
                    self._echo_later("^C\r\n")
                await self._flush_echo()
                return interrupt
            elif ch == "\x1b":
                await self._skip_escape()
            elif ch == "\t" or unicodedata.category(ch) != "Cc":
                # Not isprintable(): every character but a C0 or C1 control
                # is typed text, so are the spaces and format characters a
                # terminal passes on (no-break space, U+3000, the ZWJ inside
                # an emoji, a soft hyphen).
                chars.append(ch)
                if echo:
                    self._echo_later(ch)

    def _after_cr_dropped(self) -> str:
        """What a CR read last makes one line end of, if it comes next."""
        return "\x00" if self._pty or self._binary() else "\n\x00"

    def unread(self) -> str:
        """What came but was not read yet (a ``\\n`` after a ``\\r`` just read aside)."""
        if self._after_cr and self._pending[:1] and self._pending[0] in self._after_cr_dropped():
            return self._pending[1:]
        return self._pending

    async def readkey(self) -> str | None:
        """One key press, not echoed (Enter: ``"\\r"`` or ``"\\n"``): an
        arrow key or such is skipped, whole, not taken for the keys its
        escape sequence is made of.  ``None`` at end of file, and for
        Ctrl-D (end of file, as at the start of a line)."""
        while True:
            ch = await self._next_char()
            if ch is None or ch == "\x04":
                return None
            if ch != "\x1b":
                return ch
            await self._skip_escape()
