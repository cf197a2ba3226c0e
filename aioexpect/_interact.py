"""Connecting a person to a session: ``Session.interact`` and the console's
``attach`` share ``bridge``.

While bridged, received data goes to the person (``Session.divert``) and what
they type goes to the session, until the escape character or end-of-file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import termios
import tty
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import _prompt, _prompt_read
from ._reading import EVIDENCE

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["bridge", "interact_terminal"]


async def bridge(
    session: Session,
    read_input: Callable[[], Awaitable[bytes]],
    write_output: Callable[[Any], None],
    escape_character: str | None,
    *,
    keep: bool = False,
) -> None:
    """Pump input to the session and its output back until escape or EOF.

    ``read_input`` returns ``b""`` at end of input.  The session's buffered
    data is written out first (with ``keep``, a copy: the program still
    finds it); nothing is lost when the bridge ends.
    """
    escape = escape_character.encode() if escape_character else None
    seen = _Seen(session._empty, lambda tail: _prompt_read.at_prompt(session, tail))

    def show(data: Any) -> None:
        seen.output(data)
        write_output(data)

    try:
        with session.divert(show, keep=keep):
            typing = asyncio.ensure_future(_forward(session, read_input, escape, seen))
            ended = asyncio.ensure_future(session._eof_event.wait())
            try:
                await asyncio.wait({typing, ended}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (typing, ended):
                    task.cancel()
                await asyncio.gather(typing, ended, return_exceptions=True)
            if typing.done() and not typing.cancelled() and typing.exception() is not None:
                raise typing.exception()  # type: ignore[misc]
    finally:
        # A command the person started may still answer: execute() knows.
        _prompt.interacted(session, seen.tail, seen.typed, seen.sent)


class _Seen:
    """What a bridge showed last (``tail``), whether a line was typed since
    the output last ended at a prompt (``typed``), and whether anything was
    typed at all (``sent``)."""

    def __init__(self, empty: Any, at_prompt: Callable[[Any], bool]) -> None:
        self.tail: Any = empty
        self.typed = False
        self.sent = False
        self._at_prompt = at_prompt

    def output(self, data: Any) -> None:
        self.tail = (self.tail + data)[-EVIDENCE:]
        if self.typed and self._at_prompt(self.tail):
            self.typed = False  # what was typed has been answered

    def input(self, data: bytes) -> None:
        self.sent = self.sent or bool(data)
        self.typed = self.typed or b"\r" in data or b"\n" in data


async def _forward(
    session: Session,
    read_input: Callable[[], Awaitable[bytes]],
    escape: bytes | None,
    seen: _Seen,
) -> None:
    while True:
        data = await read_input()
        if not data:
            return
        if escape is not None and escape in data:
            data = data.split(escape, 1)[0]
            if data:
                seen.input(data)
                await session.send(data)
            return
        seen.input(data)
        await session.send(data)


async def interact_terminal(session: Session, escape_character: Any) -> None:
    """``Session.interact``: the process's stdin/stdout, raw mode on a tty."""
    if escape_character is not None:
        if not isinstance(escape_character, str):
            kind = type(escape_character).__name__
            raise TypeError(f"escape_character must be a str or None, not {kind}")
        if not escape_character:
            raise ValueError("escape_character must not be empty (None: no escape character)")
    fd_in = sys.stdin.fileno()
    fd_out = sys.stdout.fileno()
    sys.stdout.flush()

    def write_output(data: Any) -> None:
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
        while raw:
            try:
                n = os.write(fd_out, raw)
            except BlockingIOError:
                continue
            raw = raw[n:]

    with _raw_terminal(fd_in):
        await bridge(session, _stdin_reader(fd_in), write_output, escape_character)


def _stdin_reader(fd: int) -> Callable[[], Awaitable[bytes]]:
    loop = asyncio.get_running_loop()

    async def read() -> bytes:
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        try:
            loop.add_reader(fd, wake)
        except (OSError, ValueError):  # a regular file: always readable
            return os.read(fd, 4096)
        try:
            await ready
        finally:
            loop.remove_reader(fd)
        return os.read(fd, 4096)

    return read


@contextlib.contextmanager
def _raw_terminal(fd: int) -> Iterator[None]:
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    # TCSADRAIN, not the default TCSAFLUSH: input typed ahead is kept.
    tty.setraw(fd, termios.TCSADRAIN)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
