"""The person's terminal in ``interact``: written without blocking the event
loop (``Output``), read (``stdin_reader``), and put in raw mode, or line mode
for a peer without a terminal of its own; its mode is given back when
``interact`` ends, also when a signal ends or stops the program meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import termios
import tty
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from ._ansi import AnsiStripper, open_sequence
from ._reading import SINK_HIGH, sink_caught_up
from ._receive import offer

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["CTRL_C", "Output", "line_terminal", "raw_terminal", "stdin_reader"]

_log = logging.getLogger("aioexpect")

CTRL_C = b"\x03"


class Output:
    """The person's terminal, written without blocking the event loop: what
    it cannot take yet waits here, and past ``SINK_HIGH`` bytes waiting the session
    stops reading (back-pressure, as at ``max_buffer``) until it caught up.
    The descriptor is non-blocking meanwhile (restored by ``close``)."""

    LOW = 1 << 16

    def __init__(self, session: Session, fd: int) -> None:
        self._session, self._fd = session, fd
        self._loop = asyncio.get_running_loop()
        self._pending = bytearray()
        self._drained: asyncio.Future[None] | None = None
        self._draining = False
        self._blocking = os.get_blocking(fd)
        os.set_blocking(fd, False)
        # Under strip_ansi: the start of a sequence that what the terminal
        # took ends inside, however long (``open_sequence``; see ``give_back``).
        self._taken: bytes | None = None if session._ansi is None else b""

    def write(self, data: Any) -> None:
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else bytes(data)
        if not self._pending:
            raw = raw[self._write_some(raw) :]
            if not raw:
                return
            try:
                self._loop.add_writer(self._fd, self._on_writable)
            except (OSError, ValueError):  # (a regular file, which never blocks)
                os.set_blocking(self._fd, True)
                raw = raw[self._write_some(raw) :]
        self._pending += raw
        if len(self._pending) >= SINK_HIGH:
            self._session._sink_full = True

    def _write_some(self, data: bytes | bytearray) -> int:
        try:
            written = os.write(self._fd, data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:  # the terminal is gone: nobody to show it to
            return len(data)
        if self._taken is not None and written:
            if self._taken:
                data, end = self._taken + data[:written], len(self._taken) + written
            else:
                end = written
            self._taken = open_sequence(data, end, text=self._session.encoding is not None)
        return written

    def _on_writable(self) -> None:
        del self._pending[: self._write_some(self._pending)]
        if len(self._pending) < self.LOW and not self._draining:
            sink_caught_up(self._session)
        if not self._pending:
            self._loop.remove_writer(self._fd)
            if self._drained is not None and not self._drained.done():
                self._drained.set_result(None)

    async def drain(self) -> None:
        """Until everything shown was written; the session does not read
        meanwhile (what it would read is for after the bridge)."""
        if self._pending:
            self._draining = self._session._sink_full = True
            self._drained = self._loop.create_future()
            await self._drained

    def give_back(self) -> Any:
        """What the terminal has not taken (the bridge failed or was
        cancelled) goes to the session's buffer, where the program finds it:
        the bridge ends in a moment (``divert`` gave it the buffer, empty:
        this text comes before anything read after it).  Returns that text
        as the buffer got it (``None``: nothing waited)."""
        if not self._pending:
            return None
        self._loop.remove_writer(self._fd)
        raw, self._pending = bytes(self._pending), bytearray()
        # (written as UTF-8: see ``write``; the rest of a character the
        # terminal got the start of comes back as U+FFFD)
        data = raw if self._session.encoding is None else raw.decode("utf-8", "replace")
        if self._taken is not None:  # (shown as it came) stripped, the rest of a
            # sequence the terminal took the start of too; one cut at its end
            # is what the session's stripper holds: it goes there
            taken = (
                self._taken if isinstance(data, bytes) else self._taken.decode("utf-8", "replace")
            )
            stripper = AnsiStripper(data[:0])
            stripper.feed(taken)
            data = stripper.feed(data)
        self._session._buffer.append(data)
        offer(self._session)
        return data

    def close(self) -> None:
        """Restore the descriptor (``bridge`` gave back what waited)."""
        if self._pending:
            self._loop.remove_writer(self._fd)
        self.blocking(True)

    def blocking(self, as_before: bool) -> None:
        """The descriptor as it was (``as_before``), or non-blocking again: the
        flag is the open terminal's, which a shell and the programs it runs
        share while this one is stopped or after it ended."""
        os.set_blocking(self._fd, self._blocking if as_before else False)


def stdin_reader(fd: int) -> Callable[[], Awaitable[bytes]]:
    loop = asyncio.get_running_loop()

    async def read() -> bytes:
        while True:
            ready: asyncio.Future[None] = loop.create_future()

            def wake(ready: asyncio.Future[None] = ready) -> None:
                if not ready.done():
                    ready.set_result(None)

            try:
                loop.add_reader(fd, wake)
            except (OSError, ValueError):  # a regular file: always readable
                return _read_input(fd) or b""
            try:
                await ready
            finally:
                loop.remove_reader(fd)
            data = _read_input(fd)
            if data is not None:
                return data

    return read


def _read_input(fd: int) -> bytes | None:
    """A read of the person's input; ``b""`` (its end) if the terminal is
    gone: EIO, as a terminal hanging up, or a pty master whose other side
    closed, gives it.  ``None``: nothing to read after all (a change of the
    terminal's mode woke the reader, or another reader of the terminal, a
    shell while this program was stopped, took what there was)."""
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return None
    except OSError as exc:
        if exc.errno != errno.EIO:
            raise
        return b""


def line_terminal(
    fd: int, escape_character: str | None, output: Output
) -> AbstractContextManager[bool]:
    """For a peer without a terminal: the person's terminal edits and echoes
    lines (Enter sends ``\\n``, output ``\\n`` shows as a line end); no
    signals for this process: Ctrl-C (and the escape character) end the line
    at once, to be acted on.  An escape character that is one of the
    terminal's own keys (erase, kill, end of file, stop output...) is taken
    from that key: it would never reach the bridge.  ``\\r``, Enter's key,
    comes as typed (the terminal would make it ``\\n``): Enter leaves, as in
    raw mode, and Ctrl-J ends a line."""

    def line_mode() -> None:
        mode = termios.tcgetattr(fd)
        mode[3] &= ~termios.ISIG  # lflag
        mode[6][termios.VEOL2] = CTRL_C
        key = escape_character.encode() if escape_character is not None else b""
        if len(key) == 1:  # (a key of more bytes ends nothing: it waits for Enter)
            off = _disabled_key(fd)
            for slot in _TERMINAL_KEYS:
                if mode[6][slot] == key:
                    mode[6][slot] = off
            mode[6][termios.VEOL] = key
        if key == b"\r":  # iflag: CR as typed, and NL as typed (a line's end)
            mode[0] &= ~(termios.ICRNL | termios.IGNCR | termios.INLCR)
        termios.tcsetattr(fd, termios.TCSADRAIN, mode)

    return _terminal_mode(fd, line_mode, output)


#: The keys a terminal in line mode acts on itself (ISIG's are off there).
_TERMINAL_KEYS = tuple(
    getattr(termios, name)
    for name in [
        "VEOF",
        "VERASE",
        "VKILL",
        "VWERASE",
        "VLNEXT",
        "VREPRINT",
        "VSTOP",
        "VSTART",
        "VDISCARD",
        "VSTATUS",
    ]
    if hasattr(termios, name)
)


def _disabled_key(fd: int) -> bytes:
    """The value that turns a terminal key off (``_POSIX_VDISABLE``)."""
    try:
        return bytes([os.fpathconf(fd, "PC_VDISABLE")])
    except (OSError, ValueError):
        return b"\0"  # (Linux's)


def raw_terminal(fd: int, output: Output) -> AbstractContextManager[bool]:
    # TCSADRAIN, not the default TCSAFLUSH: input typed ahead is kept.
    return _terminal_mode(fd, lambda: tty.setraw(fd, termios.TCSADRAIN), output)


@contextlib.contextmanager
def _terminal_mode(fd: int, change: Callable[[], object], output: Output) -> Iterator[bool]:
    """``change()`` the mode of ``fd`` if it is a terminal; restored after,
    and meanwhile around a signal that ends or stops the program (with the
    blocking flag ``output`` changed: ``_given_back_at_signals``).

    A terminal that hangs up (its window closed, the connection to it
    dropped) has ended its input, and has no mode left to change or
    restore: ``False`` if it hung up before the change (between ``isatty``
    and here), and nothing to restore if it hung up meanwhile.
    """
    if not os.isatty(fd):
        yield True
        return
    try:
        saved = _retrying(lambda: termios.tcgetattr(fd))
        _retrying(change)
        ours = _retrying(lambda: termios.tcgetattr(fd))
    except termios.error as exc:
        _log.debug("interact: the terminal hung up (%s): its input has ended", exc.args[-1])
        yield False
        return

    def put(mode: list[Any], as_before: bool) -> None:
        # (TCSANOW: in a signal handler, not waiting for output that a
        # terminal paused with Ctrl-S holds; hung up: nothing to put)
        if as_before:
            output.blocking(True)
            if _in_background(fd):  # (given back at the stop; the mode is
                return  # the foreground's: setting it would stop this one, SIGTTOU)
        with contextlib.suppress(termios.error):
            _retrying(lambda: termios.tcsetattr(fd, termios.TCSANOW, mode))
        if not as_before:  # (after: in the background, that stopped it until
            output.blocking(False)  # fg, the shell reading the terminal meanwhile)

    try:
        with _given_back_at_signals(lambda: put(saved, True), lambda: put(ours, False)):
            yield True
    finally:
        try:
            _retrying(lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved))
        except termios.error as exc:
            _log.debug("interact: the terminal hung up (%s): no mode to restore", exc.args[-1])


def _in_background(fd: int) -> bool:
    """Whether the terminal ``fd``, this process's controlling terminal, has
    another process group in its foreground (a shell's job continued with
    ``bg``, or ended while stopped, ``kill %1``).  ``False`` for another
    terminal, where job control does not apply, and one that hung up."""
    try:
        return os.tcgetpgrp(fd) != os.getpgrp()
    except OSError:
        return False


#: Signals whose default action ends the program, running no ``finally``.
_ENDING = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


@contextlib.contextmanager
def _given_back_at_signals(give: Callable[[], None], take: Callable[[], None]) -> Iterator[None]:
    """The terminal given back (``give``) when a signal at its default action
    ends the program (``_ENDING``), then that action; and when SIGTSTP stops
    it (sent from outside: the keyboard's are off), then the stop, and taken
    again (``take``) once continued, as a full-screen program does.  Also at
    SIGCONT (a stop by SIGSTOP, which cannot be caught, may have left the
    shell's mode).  In the background (continued by ``bg``, or ended
    there), the mode is the foreground's: ``take`` stops at SIGTTOU until
    ``fg`` (the terminal blocking meanwhile), ``give`` leaves it.  Only
    signals at their default disposition, on the main thread; each set
    back to it after, unless replaced meanwhile."""

    def end(signum: int, _frame: object) -> None:
        give()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def stop(signum: int, _frame: object) -> None:
        give()
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)  # (stopped here, until continued)
        signal.signal(signum, stop)
        take()  # (in the background: SIGTTOU stops it again until in the foreground)

    handlers: dict[int, Callable[[int, object], None]] = dict.fromkeys(_ENDING, end)
    handlers[signal.SIGTSTP] = stop
    handlers[signal.SIGCONT] = lambda _signum, _frame: take()
    ours = [s for s in handlers if signal.getsignal(s) == signal.SIG_DFL]
    with contextlib.suppress(ValueError):  # (off the main thread: none taken)
        ours = [s for s in ours if signal.signal(s, handlers[s]) == signal.SIG_DFL]
    try:
        yield
    finally:
        for signum in (s for s in ours if signal.getsignal(s) is handlers[s]):  # (not another's)
            signal.signal(signum, signal.SIG_DFL)


_T = TypeVar("_T")


def _retrying(call: Callable[[], _T]) -> _T:
    """``call()`` again when a signal interrupted it (``TCSADRAIN`` waits for
    the output to drain: ``termios`` does not retry on ``EINTR`` itself)."""
    while True:
        try:
            return call()
        except termios.error as exc:
            if exc.args[0] != errno.EINTR:
                raise
