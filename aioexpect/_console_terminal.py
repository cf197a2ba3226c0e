"""The local console's input from its terminal (the served consoles' input
is ``_console_streams``'s)."""

from __future__ import annotations

from typing import Any

from ._console_streams import READ_AHEAD

__all__ = ["TerminalInput"]


class TerminalInput:
    """The local console's input from its terminal: aioconsole's standard
    input reader, which ``aioconsole.ainput()`` in a statement reads too, so
    nothing here reads ahead of it.  That reader takes lines out of the
    terminal as they come: an interrupt drops what it holds, the lines typed
    ahead of the statement it ends, as a terminal's Ctrl-C flushes its input
    (they had left it, and ran after the ``KeyboardInterrupt``).  A terminal
    that fails (EIO) is the end of input."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def drop_typed_ahead(self) -> None:
        """What the reader holds goes (the terminal flushes what it still
        holds; an end of input that came stays).  A line it took before the
        Ctrl-C is in it by then: the loop reads the terminal as soon as a
        line is there, and the signal's handler runs later."""
        while self._take_held():
            pass

    def _take_held(self) -> bool:
        """Whether something held was taken, without waiting: the reader's
        ``read()`` returns at its first step when it holds something, and
        where it would wait instead it is closed there, having taken nothing
        (an asyncio StreamReader has no other public way)."""
        step = self._reader.read(READ_AHEAD)  # (any size: taken until none is left)
        try:
            step.send(None)
        except StopIteration as taken:
            return bool(taken.value)  # (b"": the end of input)
        except (RuntimeError, OSError):  # a statement's ainput() waits: none held; or EIO
            return False
        step.close()
        return False

    async def readline(self) -> bytes:
        try:
            return bytes(await self._reader.readline())
        except OSError:  # the terminal is gone (EIO): the end, not a traceback
            return b""

    async def read(self, n: int = -1) -> bytes:
        try:
            return bytes(await self._reader.read(n))
        except OSError:
            return b""
