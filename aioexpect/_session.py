"""The Session: the only place that combines time, bytes and patterns.

A background *pump* (``_reading``) feeds the pure core (decoder, optional
ANSI stripper, buffer) and offers each chunk to the one pending reader
(``_receive``):

- Rule 1: data is consumed only by the reading task itself, after it resumed;
  so a cancelled or timed-out wait never loses or duplicates data.
- Rule 2: the pump stops reading once ``max_buffer`` characters are
  unmatched (back-pressure); consuming lets it go on.
- Rule 3: the pump holds the session only weakly, so a dropped session is
  collected, warns with ``ResourceWarning`` and aborts its transport.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import os
import types
import warnings
import weakref
from collections.abc import AsyncIterator, Callable
from typing import IO, Any

from . import _closing, _login, _loops, _options, _prompt, _prompt_send, _reading, _unique_prompt
from ._ansi import AnsiStripper
from ._attributes import Fixed, PexpectOnly, PidAttribute, TimeoutAttribute
from ._canonical import NO_LINE, encode_send
from ._deadlines import EXPIRED, Alarm, Waiter
from ._decode import Decoder, Encoder
from ._driver import Driver, compile_patterns
from ._exceptions import BusyError, ClosedError
from ._match import EOF, Data, ExactPatterns, Match, Monitored, Patterns, PromptPatterns
from ._matcher import Buffer, Found, Searcher
from ._monitor import Monitor, add_monitor
from ._receive import check
from ._redact import MASK, Redactor, escape
from ._redact_stream import RedactingStream
from ._transport import Transport
from ._typed import count_long, fold, interrupted

__all__ = ["DEFAULT_MAX_BUFFER", "DEFAULT_TIMEOUT", "Session", "live_sessions"]

_get_running_loop = asyncio._get_running_loop  # (no error where none runs)

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BUFFER = 16 * 1024 * 1024
#: How many sends a session remembers for ``execute`` (``_typed``), and
#: how much of each (its end; a longer one's earlier lines as their count).
SENDS = 256
SEND_KEPT = 4096
#: (a tuple: a union written in the call is made anew at every send)
_TEXT = (str, bytes)

Timeout = float | None | types.EllipsisType

_log = logging.getLogger("aioexpect")
_ids = itertools.count(1)
_live = _closing.live


def live_sessions() -> list[Session]:
    """The sessions of this process that are not closed, oldest first."""
    return sorted((s for s in _live if not s.closed), key=lambda s: s.id)


class Session:
    """An interactive session over one transport (pty, pipes, SSH, telnet,
    streams or memory).

    Usually made by an opener (``spawn``, ``connect_ssh``, ``connect_telnet``,
    ``connect``) or ``Session.from_streams``; ``Session(transport, ...)``
    wraps any ``Transport``.  Every call that waits is a coroutine and takes
    ``timeout=`` (``...``: the session's default; ``None``: for ever).

    Guarantees: nothing received is lost or duplicated (chunk boundaries,
    cancellations, time-outs); at most ``max_buffer`` characters are held,
    then reading pauses; one reader at a time (``BusyError``); end-of-file is
    reported when it happens; secrets never reach logs, messages or ``repr``."""

    logfile = _options.LogfileAttribute()  # (settable: ``s.logfile = sys.stdout``)
    timeout = TimeoutAttribute()
    encoding: Fixed[str | None] = Fixed("The codec opened with (``None``: bytes); read-only.")
    max_buffer: Fixed[int | None] = Fixed("Unmatched characters before reading pauses; read-only.")
    pid = PidAttribute()
    # pexpect's settings a session does not have: an AttributeError saying
    # what to do instead (assigning one did nothing).
    logfile_read = PexpectOnly()
    logfile_send = PexpectOnly()
    ignorecase = PexpectOnly()
    searchwindowsize = PexpectOnly()
    maxread = PexpectOnly()
    delaybeforesend = PexpectOnly()
    delayafterread = PexpectOnly()
    delayafterclose = PexpectOnly()
    delayafterterminate = PexpectOnly()

    #: The timer that lets go of a right prompt held under ``strip_ansi``
    #: (``_receive.RIGHT_WAIT``), while one runs.
    _let_go: asyncio.TimerHandle | None = None

    def __init__(
        self,
        transport: Transport,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        encoding: str | None = "utf-8",
        codec_errors: str = "replace",
        max_buffer: int | None = DEFAULT_MAX_BUFFER,
        strip_ansi: bool = False,
        logfile: IO[Any] | str | os.PathLike[str] | None = None,
        driver: str | Driver = "generic",
        secrets: Any = (),
    ) -> None:
        self._closed = True  # until construction completes: __del__ stays quiet
        if not isinstance(transport, Transport):
            raise TypeError(f"Session needs a Transport, not {type(transport).__name__}")
        self._default_timeout = _options.check_session_options(
            timeout, encoding, codec_errors, max_buffer, strip_ansi, logfile, driver
        )
        self.id = next(_ids)
        self.transport = transport
        self._encoding = encoding
        self.linesep: str = transport.linesep
        self._max_buffer = max_buffer
        self.log = _log.getChild(f"session{self.id}")
        self._decoder = Decoder(encoding, codec_errors)
        self._encoder = Encoder(encoding)  # (one for the session: a BOM once)
        self._empty: Data = b"" if encoding is None else ""
        self._ansi = (
            AnsiStripper(self._empty, keep_up=True, right_prompts=True) if strip_ansi else None
        )
        self._buffer = Buffer(self._empty)
        self._redactor = Redactor(encoding)
        self._redactor.add_all(secrets)
        self._driver, self._auto_driver = _options.resolve_driver(driver)
        self._prompt_override: tuple[Any, ...] | None = None
        self._error_override: tuple[Any, ...] | None = None
        self._monitors: list[Monitor] = []
        self._sink: Callable[[Any], None] | None = None
        self._sink_full = False  # the sink (interact's terminal) is behind: reading pauses
        self._waiter: Waiter | None = None
        self._alarm = Alarm()
        self._eof = False
        self._error: BaseException | None = None
        self._pending_line = NO_LINE
        self._sent_at: int | None = None  # what was consumed at the last send
        #: The last sends, for ``execute`` (``_typed``): what was sent (``None``:
        #: a secret line), what was consumed then, and ``bytes_out`` after it.
        self._sends: collections.deque[tuple[Any, int, int]] = collections.deque(maxlen=SENDS)
        #: What was consumed and ``bytes_out`` at an interrupt sent with lines owed.
        self._intr = (-1, -1)
        self.bytes_in = self.bytes_out = 0
        self._logfile = _options.Logfile(logfile, self.log)
        self._transcript = RedactingStream(self._redactor)
        self._sent_log = RedactingStream(self._redactor, sent=True)  # the send records
        self._space = asyncio.Event()
        self._ended = asyncio.Event()  # end of file, or closed: ends a bridge (interact)
        try:
            self._loop = loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "a Session needs a running event loop (create it in a coroutine)"
            ) from None
        self._held = b""  # received, not yet decoded (no room; the pump: AHEAD)
        self._surplus: Any = self._empty  # decoded past max_buffer: ahead of _held
        self._paused = False  # push delivery: the transport was told to stop (no room)
        self._end: tuple[BaseException | None] | None = None  # push: EOF behind _held
        self._pump_task: asyncio.Task[None] | None = None
        self._closed = False  # (open before receiving: data may come at once)
        try:
            pushed = transport.start_receiving(*_reading.receivers(weakref.ref(self)))
        except BaseException:
            self._closed = True
            raise
        if not pushed:
            self._pump_task = loop.create_task(
                _reading.pump(transport, weakref.ref(self), self._space),
                name=f"aioexpect-pump-{self.id}",
            )
        _live.add(self)

    @classmethod
    def from_streams(
        cls, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, **options: Any
    ) -> Session:
        """A session over any asyncio ``StreamReader``/``StreamWriter`` pair.
        ``close()`` closes the writer, then the reader's own transport (a
        child's stdout, read meanwhile), within a second; the process stays
        yours to wait for.  Reading gives all the peer sent, then EOF, or
        ``ConnectionLostError`` for a reset, also after a failed send (not under TLS)."""
        from ._streams import streams_transport

        _options.check_keywords("Session.from_streams()", options, cls.__init__)
        return cls(streams_transport(reader, writer), **options)

    def __repr__(self) -> str:
        info = _reading.info(self)  # (a secret equal to the peer masked)
        return (
            f"<Session #{self.id} {info['kind']} {info['peer']!r} "
            f"{info['state']}, {info['buffered']} buffered>"
        )

    def __del__(self) -> None:
        if getattr(self, "_closed", True):
            return
        warnings.warn(f"unclosed session {self!r}", ResourceWarning, source=self, stacklevel=1)
        _closing.abandon(self)

    # -- state ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    @property
    def buffer(self) -> Any:
        """Unread data received so far (not consumed by reading it here)."""
        return self._buffer.text()

    @property
    def driver(self) -> Driver:
        """The session's ``Driver``; assign one, or a name such as ``"ios"``, to change it."""
        return self._driver

    @driver.setter
    def driver(self, driver: str | Driver) -> None:
        self._driver, self._auto_driver = _options.resolve_driver(driver)

    @property
    def prompt_patterns(self) -> tuple[Any, ...]:
        """``set_prompt``'s patterns if set, else the driver's."""
        if self._prompt_override is not None:
            return self._prompt_override
        return self._driver.prompt_patterns

    @property
    def error_patterns(self) -> tuple[Any, ...]:
        """``set_error_prompt``'s patterns if set, else the driver's."""
        if self._error_override is not None:
            return self._error_override
        return self._driver.error_patterns

    @property
    def exit_status(self) -> int | None:
        """The child's or remote command's exit status once known, else ``None``."""
        return self.transport.exit_status

    @property
    def signal_status(self) -> int | None:
        """The number of the signal that ended the child, if one did."""
        return self.transport.signal_status

    @property
    def waiting_for(self) -> list[Any] | None:
        """The patterns of the pending read, if one is pending."""
        return None if self._waiter is None else list(self._waiter.searcher.patterns)

    def info(self) -> dict[str, Any]:
        """A snapshot for ``sessions()``: kind, peer, state, bytes in/out, waiting."""
        return _reading.info(self)

    def add_secret(self, secret: str | bytes) -> None:
        """Redact ``secret`` from the logfile, logs, messages and ``repr``
        (bytes, also a bytearray or memoryview; else ``TypeError``)."""
        self._redactor.add(secret)

    def redact(self, text: Any) -> Any:
        """``text`` (str or bytes) with the session's secrets as ``********``."""
        return self._redactor.redact(text)

    # -- sending ---------------------------------------------------------------

    async def send(self, data: str | bytes) -> None:
        """Write ``data``; return once the transport accepted it."""
        await self._send(data, secret=False)

    async def sendline(self, line: str | bytes = "") -> None:
        """Send ``line`` followed by ``self.linesep``."""
        if type(line) is str:  # (the common one, without a call)
            await self._send(line + self.linesep, secret=False)
        else:
            await self._send(_options.with_linesep(line, self.linesep), secret=False)

    async def send_secret(self, text: str | bytes) -> None:
        """Like ``sendline``; the text is redacted everywhere, even if echoed."""
        await self._send_secret(text, self.linesep)

    async def _send_secret(self, text: str | bytes, linesep: str) -> None:
        """``send_secret`` with ``linesep`` (``login``'s: one Enter on a terminal)."""
        line = _options.secret_line(text, linesep, self._encoding)
        self._redactor.add(text)
        await self._send(line, secret=True)

    async def sendcontrol(self, char: str) -> None:
        """Send a control character: ``sendcontrol("c")`` sends ``\\x03``."""
        code = _options.control_code(char)
        await self._send(code, secret=False)  # (the terminal's rules say if it ends a line)

    async def sendeof(self) -> None:
        """End of input: Ctrl-D on a pty, stdin closed on pipes, EOF on SSH.

        Where the end of input is a state (pipes, SSH without a pty, telnet
        and streams: a half-close) a second call does nothing, whatever the
        peer did since, and ``send`` raises ``ClosedError``.  A peer that
        ended normally (a child that exited or closed its stdin, a command
        whose channel closed) is no error: it returns, and what the peer
        wrote can still be read.  A connection reset or dropped raises
        ``ConnectionLostError``; so does Ctrl-D on a pty (also over SSH), a
        key typed again at each call, once the child is gone."""
        self._check_open()
        await _prompt_send.sent_key(self, self.transport.write_eof())  # (line handed over)

    async def sendintr(self) -> None:
        """Interrupt: Ctrl-C on a terminal, SIGINT to a piped child's process
        group, an SSH ``signal`` request without a pty; once the peer is gone,
        ``ConnectionLostError`` (as ``send``).  bash idle at its prompt may act
        on a Ctrl-C only at the next key: send a line end if no prompt comes."""
        self._check_open()
        try:
            await _prompt_send.sent_key(self, self.transport.send_interrupt())  # (line discarded)
        finally:
            interrupted(self)  # (the prompts owed to lines sent before: unknown now)

    async def _send(self, data: str | bytes, *, secret: bool) -> None:
        if self._closed or _get_running_loop() is not self._loop:
            self._check_open()
        rules = self.transport.canonical_line
        raw, self._pending_line = encode_send(self._encoder, self._pending_line, data, rules)
        if self._redactor.armed:  # (the records, joined, must not show a secret either)
            _options.record_sent(self.log, self._sent_log, raw, secret=secret)
        elif self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("send %s", MASK if secret else escape(raw))
        cut: BaseException | None = None
        try:
            await self.transport.write(raw)
        except asyncio.CancelledError as exc:  # (cut short, the rest still goes: a send,
            cut = exc  # whose line owes its answer as any)
        self.bytes_out += len(raw)
        self._sent_at = consumed = self._buffer.consumed
        # (an immutable copy, bounded: not a caller's memoryview or buffer)
        long = not secret and len(data) > SEND_KEPT
        kept: Any = None if secret else data[-SEND_KEPT:] if long else data
        if kept is not None and not isinstance(kept, _TEXT):
            kept = bytes(kept)
        sends = self._sends
        if len(sends) == SENDS:  # (the oldest falls off: its lines kept as their count)
            fold(self)
        sends.append((kept, consumed, self.bytes_out))
        if long:  # (its earlier lines kept as their count)
            count_long(self, data)
        if cut is not None:
            _prompt_send.cut_short(self)
            raise cut

    # -- waiting ----------------------------------------------------------------

    async def expect(self, patterns: Patterns, *, timeout: Timeout = ...) -> Match:
        """Wait for the earliest match of ``patterns`` (ties: lowest index)."""
        given = _options.originals(patterns)
        searcher = Searcher.of(given, False, self._decoder.bytes_mode, self._encoding, self)
        return await self._expect(searcher, timeout)

    async def expect_exact(self, patterns: ExactPatterns, *, timeout: Timeout = ...) -> Match:
        """Like ``expect`` with plain substrings (no regex)."""
        if type(patterns) is str and patterns and not self._decoder.bytes_mode:
            searcher = Searcher.one_string(patterns)  # (the common one: a line sent)
        else:
            given = _options.originals(patterns)
            searcher = Searcher.of(given, True, self._decoder.bytes_mode, self._encoding, self)
        return await self._expect(searcher, timeout)

    # (What is read is Any, as Match.before is: a union would make every text
    # session narrow it before using it.)

    async def read_until(self, text: Data, *, timeout: Timeout = ...) -> Any:
        """Everything up to and including ``text`` (telnetlib style)."""
        m = await self.expect_exact(text, timeout=timeout)
        return m.before + m.after

    async def read_some(self, size: int | None = None, *, timeout: Timeout = ...) -> Any:
        """What is buffered, at least one chunk (waits for it); empty at
        end-of-file.  ``size``: at most that many characters (bytes in a
        bytes session), the rest staying buffered."""
        limit = _options.check_read_size(size)
        searcher = _reading.AnyData()
        found = await self._wait(searcher, self._timeout(timeout))
        if isinstance(found, Found):
            return _reading.take_all(self, limit)
        if found == 0:
            return self._empty
        raise _reading.failure(self, searcher, found)

    async def read_all(self, *, timeout: Timeout = ...) -> Any:
        """Everything until end-of-file (``BufferFull`` past ``max_buffer``)."""
        return (await self.expect(EOF, timeout=timeout)).before

    def lines(self, *, timeout: Timeout = ...) -> AsyncIterator[Any]:
        """Each line (without its line ending) until end-of-file, the last one
        also without a line ending."""
        if timeout is not ...:  # (checked at the call, as every other method's is)
            timeout = _options.check_timeout(timeout)
        return _reading.lines(self, timeout)

    async def expect_prompt(self, *, timeout: Timeout = ...) -> Match:
        """Wait for the prompt (``set_prompt``'s patterns or the driver's)."""
        return await _prompt.expect_prompt(self, self._timeout(timeout))

    async def execute(self, command: str, *, timeout: Timeout = ...) -> str:
        """Run ``command`` and return its output (see the docs for the
        cleaning, and for what is read first: lines sent before it too)."""
        return await _prompt.execute(self, command, self._timeout(timeout))

    async def login(
        self, username: str | None = None, password: str | None = None, *, timeout: Timeout = ...
    ) -> Match:
        """Answer username/password prompts; return the first prompt's match."""
        _options.check_credentials(username, password)
        if password is not None:
            self._redactor.add(password)
        return await _login.login(self, username, password, self._timeout(timeout))

    def set_prompt(self, patterns: PromptPatterns | None) -> None:
        """Override the driver's prompt patterns; ``None`` restores them."""
        self._prompt_override = (
            None if patterns is None else compile_patterns(patterns, redact=self.redact)
        )

    def set_error_prompt(self, patterns: PromptPatterns | None) -> None:
        """Override the driver's error patterns (``[]``: none); ``None`` restores them."""
        self._error_override = (
            None
            if patterns is None
            else compile_patterns(patterns, empty_ok=True, redact=self.redact)
        )

    async def set_unique_prompt(self, *, timeout: Timeout = ...) -> None:
        """Set PS1/PS2 of a POSIX shell to a unique marker (as pxssh does)."""
        await _unique_prompt.set_unique_prompt(self, self._timeout(timeout))

    async def _expect(self, searcher: Searcher, timeout: Timeout, *, consume: bool = True) -> Match:
        found = await self._wait(
            searcher, self._default_timeout if timeout is ... else self._timeout(timeout)
        )
        if isinstance(found, Found):
            return self._take(searcher, found, consume)
        return self._sentinel(searcher, found, consume)

    def _take(self, searcher: Searcher, found: Found, consume: bool) -> Match:
        redact = self._redactor.redact
        if not consume:
            return searcher.match(_reading.PeekBuffer(self._buffer), found, redact)
        match = searcher.match(self._buffer, found, redact)
        _reading.space_freed(self)
        return match

    def _consume_match(self, match: Match) -> None:
        """Consume what a peeked (``consume=False``) match covers."""
        self._buffer.consume(len(match.before) + len(match.after))
        _reading.space_freed(self)

    def _sentinel(self, searcher: Searcher, index: int | None, consume: bool) -> Match:
        if index is not None and index >= 0:
            # TIMEOUT leaves the buffer as it is (as pexpect does): a pattern
            # half arrived at the deadline still matches in the next expect.
            consume = consume and index != searcher.timeout_index
            buf = self._buffer if consume else _reading.PeekBuffer(self._buffer)
            match = searcher.sentinel_match(buf, index, self._redactor.redact)
            _reading.space_freed(self)
            return match
        raise _reading.failure(self, searcher, index)

    async def _wait(self, searcher: Searcher, timeout: float | None) -> Any:
        """Wait until the searcher finds something; return a ``Found`` or a
        sentinel index (see ``_receive.check``), or the TIMEOUT index (maybe ``None``)
        at the deadline.  Raises ``BusyError`` and ``ClosedError``.
        """
        if self._closed or _get_running_loop() is not self._loop:
            self._check_open()
        if self._waiter is not None:
            raise BusyError(
                f"session #{self.id} already has a reader waiting for "
                + _reading.describe(self._waiter.searcher.patterns, self._redactor.redact)
            )
        result = check(self, searcher)
        if result is not None:
            return result
        if timeout is not None and timeout <= 0:
            return searcher.timeout_index
        loop = self._loop  # (the running one: ``_check_open`` saw to it)
        waiter = Waiter(searcher, loop.create_future())
        self._waiter = waiter
        try:  # (from here on, whatever fails leaves no waiter behind: no BusyError for ever)
            # The one place that times a wait: the session's alarm resolves
            # the future (cheaper per expect than an asyncio.timeout() scope,
            # and divert() can suspend it).
            if timeout is not None:
                self._alarm.set(loop, loop.time() + timeout, waiter)
            result = await waiter.future
        finally:
            self._waiter = None
            self._alarm.clear()
            if not waiter.future.done():
                waiter.future.cancel()
        if result is EXPIRED:
            return searcher.timeout_index
        return result

    def _timeout(self, timeout: Timeout) -> float | None:
        if timeout is ...:
            return self._default_timeout
        return _options.check_timeout(timeout)

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"session #{self.id} is closed")
        if _get_running_loop() is not self._loop:  # (a running loop is not closed)
            _loops.check_loop(self._loop, self.id)

    # -- monitors, diverting, interact --------------------------------------------

    def add_monitor(self, pattern: Monitored, callback: Callable[..., Any]) -> Callable[[], None]:
        """Call ``callback(session, match)`` each time ``pattern`` arrives.

        Runs whether or not anyone is expecting; a coroutine function (or
        an awaitable returned) is run as a task.  Returns its remover.  A
        pattern that can match empty text would match everywhere: ``ValueError``;
        a closed session: ``ClosedError``."""
        return add_monitor(self, pattern, callback)

    def divert(
        self, sink: Callable[[Any], None], *, keep: bool = False
    ) -> contextlib.AbstractContextManager[None]:
        """While active, received data goes to ``sink`` instead of the buffer
        (as it came: under ``strip_ansi``, with its control sequences).

        Used by ``interact`` and the console's ``attach``.  What is buffered goes
        to ``sink`` first: consumed, or with ``keep`` a copy, left for the program
        (reading goes on even when that copy fills ``max_buffer``: the sink takes
        what comes).  A pending read's deadline is suspended meanwhile, so the
        program that was waiting continues where it was."""
        self._check_open()
        return _reading.divert(self, sink, keep)

    async def interact(self, *, escape_character: str | None = "\x1d") -> None:
        """Connect the user's terminal to the session until the escape
        character (default Ctrl-]) or end-of-file."""
        from ._interact import interact_terminal

        await interact_terminal(self, escape_character)

    def set_winsize(self, rows: int, cols: int) -> None:
        """Resize the terminal (pty, SSH and telnet sessions)."""
        self._check_open()
        _options.check_size(rows, cols)
        self.transport.set_winsize(rows, cols)
        _prompt.resized(self)

    # -- closing -------------------------------------------------------------------

    async def close(self, *, force: bool = False) -> None:
        """Close the transport (idempotent); kills and reaps a child.  A
        second call waits for the first to finish (``force=True`` kills at once)."""
        await _closing.close(self, force)

    async def wait(self, *, timeout: Timeout = ...) -> int | None:
        """Wait for the child or remote command to end and return its exit status
        (``None``: a signal ended it, see ``signal_status``); telnet and streams:
        for the connection's end, then ``None``.  ``ExpectTimeout`` at the deadline."""
        return await _reading.wait_for_end(self, self._timeout(timeout))

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
