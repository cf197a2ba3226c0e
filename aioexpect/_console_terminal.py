"""The local console's input from its terminal (the served consoles' input
is ``_console_streams``'s)."""

from __future__ import annotations

import asyncio
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
    that fails (EIO) is the end of input.

    What is typed after the Ctrl-C stays, as the terminal keeps it: it may
    reach the reader before the loop answers the signal (a line typed with
    it, at once), and was dropped with the rest, or read by the prompt
    first and run before the ``KeyboardInterrupt`` (in the block the Ctrl-C
    cleared).  Python's handler hears the signal first (the ``Witness``:
    ``heard``), in the main thread before the next Python function runs,
    ``feed_data`` included, once the read that follows the signal returns:
    what the reader is fed from then on came after the Ctrl-C, and stays
    when the answer drops the rest (``drop_typed_ahead``); a line of it
    read before that answer is held until it comes (``settled``), so that
    it goes to the prompt after the ``KeyboardInterrupt``.  A read that
    took its line out of the terminal just before the signal, and had not
    fed it yet (microseconds), counts as after it too: kept, never lost."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._fed = 0  # (every byte the terminal gave the reader)
        # Each count has one writer, the handler or the loop: a handler
        # that ran midway through ``+= 1`` of the other's loses no update.
        self._heard = 0  # (Ctrl-Cs Python's handler heard)
        self._answered = 0  # (those the loop has answered, or skipped)
        self._mark: int | None = None  # (``_fed`` as the last one was heard)
        self._waiting: asyncio.Future[None] | None = None  # (a line held: for the answers)
        #: A line read before a Ctrl-C's answer (or what came after it, where
        #: the reader has ended): given out before the reader's.
        self._held = b""
        feed = self._feed = reader.feed_data

        def counted(data: bytes) -> None:
            self._fed += len(data)
            feed(data)

        reader.feed_data = counted  # (its protocol feeds it so)

    def heard(self) -> None:
        """A Ctrl-C, heard by Python's handler (any code may run meanwhile:
        nothing here but a mark and a count)."""
        self._mark = self._fed
        self._heard += 1

    def settled(self) -> None:
        """The loop has answered one Ctrl-C heard (or skipped it)."""
        self._answered += 1
        waiting = self._waiting
        if self._answered == self._heard and waiting is not None and not waiting.done():
            waiting.set_result(None)

    def drop_typed_ahead(self) -> None:
        """What the reader holds goes (the terminal flushes what it still
        holds; an end of input that came stays), but what came after the
        Ctrl-C (see the class): a line taken before the Ctrl-C is in the
        reader by then, since the loop reads the terminal as soon as a line
        is there.  Without a mark (no handler of ours heard it) all goes."""
        taken = [self._held]
        while step := self._take_held():
            taken.append(step)
        held = b"".join(taken)
        after = 0 if self._mark is None else self._fed - self._mark
        kept = held[len(held) - min(max(after, 0), len(held)) :]
        # Back into the reader, in order, where a statement's ainput() reads
        # it too (held aside, it went to the prompt after the line that
        # waited for it); an end of input that came stays after it.
        if kept and not self._reader.at_eof():
            self._feed(kept)  # (not counted: the terminal gave it once)
            kept = b""
        self._held = kept

    def _take_held(self) -> bytes:
        """What the reader holds, taken without waiting (``b""``: nothing,
        or the end of input, which stays): its ``read()`` returns at its
        first step when it holds something, and where it would wait instead
        it is closed there, having taken nothing (an asyncio StreamReader
        has no other public way)."""
        step = self._reader.read(READ_AHEAD)  # (any size: taken until none is left)
        try:
            step.send(None)
        except StopIteration as taken:
            return bytes(taken.value)
        except (RuntimeError, OSError):  # a statement's ainput() waits: none held; or EIO
            return b""
        step.close()
        return b""

    async def readline(self) -> bytes:
        while True:
            line = await self._line()
            if self._answered == self._heard:
                return line
            # A Ctrl-C heard, not answered: its answer first (it cancels the
            # reader's statement, or the prompt), the line after it.
            self._held = line + self._held
            self._waiting = asyncio.get_running_loop().create_future()
            try:
                await self._waiting
            finally:
                self._waiting = None

    async def _line(self) -> bytes:
        end = self._held.find(b"\n") + 1
        if end:
            line, self._held = self._held[:end], self._held[end:]
            return line
        try:
            rest = bytes(await self._reader.readline())
        except OSError:  # the terminal is gone (EIO): the end, not a traceback
            rest = b""
        line, self._held = self._held + rest, b""
        return line

    async def read(self, n: int = -1) -> bytes:
        if self._held:
            data = self._held if n < 0 else self._held[:n]
            self._held = self._held[len(data) :]
            return data
        try:
            return bytes(await self._reader.read(n))
        except OSError:
            return b""
