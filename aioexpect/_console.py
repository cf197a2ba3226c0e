"""The console itself, whatever carries it: an aioconsole REPL with aioexpect
preloaded, ``sessions()``, per-client ``exit()`` and ``attach(session)``.

Each console has its own locals on top of the shared ones: before every
statement it sees the shared names it has not rebound itself, as they are now.
"""

from __future__ import annotations
import __future__

import ast
import asyncio
import builtins
import codeop
import contextlib
import functools
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from types import CodeType, TracebackType
from typing import Any, NoReturn

import aioconsole

from ._console_output import TERMINAL_WRITERS, AttachedOutput, TerminalOutput
from ._console_run import (
    FUTURE_IMPORT,
    STAR_IMPORT,
    future_flags,
    run_statement,
    star_import,
    statement_code,
)
from ._console_run import RUNNERS as STATEMENT_RUNNERS
from ._console_signals import RUNNERS as SIGNAL_RUNNERS
from ._console_signals import Delivered, Ended, runs
from ._console_streams import Interrupted, Refused
from ._console_trace import statement_traceback, typed_syntax_error, without_form_feeds
from ._exceptions import BusyError
from ._interact import bridge, check_escape, following_size, refuse_line_end
from ._session import Session, live_sessions

__all__ = ["Console", "SessionList", "sessions"]

PS1 = ">>> "
PS2 = "... "
#: Names every console defines for itself; never taken from the shared locals.
OWN_NAMES = ("attach", "exit", "quit", "print", "help", "ainput")
_MISSING = object()
#: The ``__future__`` import that changes how later statements parse (``<>``).
BARRY = __future__.barry_as_FLUFL.compiler_flag

RawMode = Callable[[], AbstractContextManager[None]]


class SessionList(list[Session]):
    """The live sessions; its ``repr`` is a table (id, kind, peer, state,
    bytes in and out, buffered characters, what a reader is waiting for)."""

    def __repr__(self) -> str:
        if not self:
            return "(no live sessions)"
        head = ("id", "kind", "peer", "state", "in", "out", "buffered", "waiting for")
        rows = [head] + [_row(s.info()) for s in self]
        widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
        lines = []
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
        return "\n".join(lines)


def sessions() -> SessionList:
    """The live sessions of this process, oldest first (a table when shown)."""
    return SessionList(live_sessions())


def _row(info: Mapping[str, Any]) -> tuple[str, ...]:
    waiting = info.get("waiting_for")
    shown = "-" if waiting is None else ", ".join(_pattern(p) for p in waiting)
    peer = str(info.get("peer", ""))
    return (
        f"#{info['id']}",
        str(info["kind"]),
        peer if len(peer) <= 40 else peer[:37] + "...",
        str(info["state"]),
        str(info["bytes_in"]),
        str(info["bytes_out"]),
        str(info["buffered"]),
        shown,
    )


def _pattern(pattern: Any) -> str:
    text = getattr(pattern, "pattern", pattern)
    return repr(text) if isinstance(text, str | bytes) else str(text)


def preloads() -> dict[str, Any]:
    """What every console starts with, before the shared locals."""
    import aioexpect

    return {
        "__name__": "__main__",  # (as in Python's REPL: a class typed is __main__.E)
        "__doc__": None,
        "__builtins__": builtins,  # (as in Python's REPL; the statement's globals)
        "aioexpect": aioexpect,
        "asyncio": asyncio,
        "spawn": aioexpect.spawn,
        "connect_ssh": aioexpect.connect_ssh,
        "connect_telnet": aioexpect.connect_telnet,
        "connect": aioexpect.connect,
        "run_many": aioexpect.run_many,
        "sessions": sessions,
    }


def banner() -> str:
    from ._version import __version__

    python = sys.version.split()[0]
    return (
        f"aioexpect {__version__} console, Python {python}: top-level await works.\n"
        "Preloaded: spawn, connect_ssh, connect_telnet, connect, run_many, aioexpect,"
        " asyncio.\n"
        "sessions() lists the live sessions; await attach(session) hands one to you"
        " until Ctrl-].\n"
        "exit() or Ctrl-D ends this console."
    )


class _Exit:
    """``exit``/``quit`` of one console: ends that console only (the builtins
    would close the process's stdin)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Use {self.name}() or Ctrl-D (i.e. EOF) to exit"

    def __call__(self, code: Any = None) -> NoReturn:
        raise SystemExit(code)


class Console(aioconsole.AsynchronousConsole):  # type: ignore[misc]
    """One REPL over one reader/writer pair (bytes in, bytes out).

    ``shared`` is read live (see the module docstring); ``raw_mode`` switches
    the client's terminal to character mode while attached; ``size`` gives
    its size (rows, columns; ``None``: unknown), which an attached session
    takes and follows (``local``: this process's terminal, on SIGWINCH);
    ``interrupts`` makes SIGINT interrupt the statement or input line (local
    console only).
    """

    def __init__(
        self,
        reader: Any,
        writer: Any,
        *,
        shared: Mapping[str, Any] | None = None,
        raw_mode: RawMode | None = None,
        size: Callable[[], tuple[int, int] | None] | None = None,
        local: bool = False,
        interrupts: bool = False,
        filename: str = "<console>",
    ) -> None:
        self._shared: Mapping[str, Any] = {} if shared is None else shared
        namespace = preloads()
        namespace.update(self._shared)
        super().__init__(streams=(reader, writer), locals=namespace, filename=filename)
        self.reader, self.writer = reader, writer
        self.streams = None
        self._own: set[str] = set()
        self._raw_mode: RawMode = raw_mode or contextlib.nullcontext
        self._size = size or (lambda: None)  # (None: a size nobody knows, nothing followed)
        self._local = local
        self._interrupts = interrupts
        self._interrupted = False
        self._stopping = False
        self._source = ""
        self._future = 0  # (the compiler flags of the __future__ imports typed)
        self._running: CodeType | None = None  # (the statement's code, while it runs)
        #: SIGINT while a statement runs its own code is raised in it (see Delivered).
        self.signals = Delivered(
            lambda frame: runs(self._running, frame, RUNNERS), lambda: self._running is None
        )
        self.exit_code = 0
        self.locals.update(attach=self.attach, exit=_Exit("exit"), quit=_Exit("quit"))

    # -- the loop ---------------------------------------------------------------

    async def run(self, banner_text: str | None = None) -> int:
        """Read, evaluate, print until EOF or ``exit()``; return the exit code."""
        self.write((banner() if banner_text is None else banner_text) + "\n")
        if self._interrupts:
            interrupt = functools.partial(self._interrupt, asyncio.current_task())
            # (the local terminal's input keeps what was typed after a Ctrl-C)
            witness = self.reader if hasattr(self.reader, "settled") else None
            self.signals.install(signal.SIGINT, interrupt, self._interrupted_here, witness=witness)
        try:
            await self._loop()
        finally:
            self.signals.remove(signal.SIGINT)
        await self.flush()
        return self.exit_code

    async def _loop(self) -> None:
        more = False
        while True:
            try:
                try:
                    self.signals.prompted()
                    line = await self.raw_input(PS2 if more else PS1)
                except EOFError:
                    self.write("\n")
                    return
                more = await self.push(line)
                if self._interrupted:  # the statement caught the interrupt itself
                    self._clear_interrupt()
            except SystemExit as exc:
                self.exit_code = _exit_code(exc, self)
                return
            except Interrupted:
                await self._interrupt_shown()
                more = False
            except Refused:  # (the reader said why): nothing of its statement runs
                self.resetbuffer()
                more = False
            except asyncio.CancelledError:
                if not self._interrupted or self._stopping:
                    raise
                self._clear_interrupt()
                await self._interrupt_shown()
                more = False

    def _clear_interrupt(self) -> None:
        """Undo our own ``cancel()``, so later deadlines work as usual."""
        self._interrupted = False
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            task.uncancel()

    async def _interrupt_shown(self) -> None:
        """Say so, and wait for the client to take it before the next prompt,
        as aioconsole does: one whose output was dropped meanwhile (it was not
        reading) is told so first, and not after a prompt it lost."""
        self.write("\nKeyboardInterrupt\n")
        self.resetbuffer()
        await self.flush()

    def stop(self, task: asyncio.Task[Any]) -> None:
        """End the console (``task`` runs it) as if its input ended: the
        cancellation is not taken for a Ctrl-C, even one that came with it."""
        self._stopping = True
        task.cancel()

    def _interrupt(self, task: asyncio.Task[Any] | None) -> None:
        """Ctrl-C: SIGINT on the local console; over SSH, the client's Ctrl-C
        while a statement runs, or the client gone.  What was typed ahead
        goes, where the reader can tell (see ``drop_typed_ahead``)."""
        drop = getattr(self.reader, "drop_typed_ahead", None)
        if drop is not None:
            drop()
        if task is not None and not self._interrupted:
            self._interrupted = True
            task.cancel()

    def _interrupted_here(self) -> BaseException:
        """Ctrl-C while the statement runs its own code: a ``KeyboardInterrupt``
        in it, as in ``python3 -i``; what was typed ahead goes, as ever."""
        drop = getattr(self.reader, "drop_typed_ahead", None)
        if drop is not None:
            drop()
        return KeyboardInterrupt()

    async def runcode(self, code: Any) -> None:
        """Run one statement with the shared names refreshed, as Python's REPL
        runs it (see ``run_statement``); a traceback for anything it raises
        except ``SystemExit`` and a real cancellation."""
        pulled = self._pull_shared()
        try:
            with self._watching(functools.partial(self._interrupt, asyncio.current_task())):
                for statement in code:  # (one at a time: ``a; b`` is two)
                    compiled = statement_code(statement, self.filename, self._future)
                    self._future |= future_flags(compiled)  # (as codeop keeps them)
                    self._running = compiled
                    try:
                        if self._interrupts and self.signals.take(signal.SIGINT):
                            raise self._interrupted_here()  # (came while it compiled)
                        await run_statement(compiled, self.locals, self.filename, self.write)
                    finally:
                        self._running = None
        except (SystemExit, Ended):
            raise
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            self.showtraceback()
        except BaseException:
            self.showtraceback()
        finally:
            self._note_rebound(pulled)
        await self.flush()

    async def runsource(
        self, source: str, filename: str = "<console>", symbol: str = "single"
    ) -> bool:
        """Run ``source`` if it is a whole statement; ``True`` if it needs
        more lines.  Whatever stops it compiling is shown as Python's REPL
        shows it, and the console goes on."""
        if _goes_on(source, filename, symbol, self._future):
            return True
        source = without_form_feeds(source)
        self._source = source  # for showsyntaxerror: aioconsole's error is in its wrapped text
        try:
            if self._future & BARRY:  # (aioconsole parses without it: 1 != 2 ran)
                _compiler(self._future)(source, filename, symbol)
            code = self.compile(source, filename, symbol)
        # A SyntaxError, and what else compiling raises: a NUL in the text
        # (ValueError), a statement too deeply nested (RecursionError,
        # MemoryError; also where aioconsole's own check of the tree recurses).
        except Exception as error:
            code = _top_level(error, source, filename, self._future)
            if code is None:
                self.showsyntaxerror(filename)
                return False
        if code is None:
            return True
        await self.runcode(code)
        return False

    def showtraceback(self) -> None:
        """The statement's traceback as Python's REPL shows it (see
        ``_console_trace``), never through ``sys.excepthook``."""
        kind, error, tb = sys.exc_info()
        if kind is None or error is None:
            return
        _remember(kind, error, tb)
        self.write(statement_traceback(error, tb, self.filename, RUNNERS))

    def showsyntaxerror(self, filename: str | None = None) -> None:
        """Why the statement does not compile, without a traceback."""
        kind, error, _ = sys.exc_info()
        if kind is None or error is None:
            return
        if isinstance(error, SyntaxError):
            kind, error = (
                SyntaxError,
                typed_syntax_error(self._source, self.filename, error, self._future),
            )
        _remember(kind, error, None)
        self.write("".join(traceback.format_exception_only(kind, error)))

    def _watching(self, callback: Callable[[], None] | None) -> AbstractContextManager[None]:
        """Interrupts and the client's end call ``callback`` meanwhile, where
        the client's reader can tell (see ``SSHInput``)."""
        watching = getattr(self.reader, "watching", None)
        return contextlib.nullcontext() if watching is None else watching(callback)

    def _pull_shared(self) -> dict[str, Any]:
        pulled = {}
        for name, value in list(self._shared.items()):
            if name not in self._own and name not in OWN_NAMES:
                self.locals[name] = pulled[name] = value
        return pulled

    def _note_rebound(self, pulled: Mapping[str, Any]) -> None:
        for name, value in pulled.items():
            if self.locals.get(name, _MISSING) is not value:
                self._own.add(name)

    @functools.wraps(print)
    def print(self, *args: Any, **kwargs: Any) -> None:
        # To the client unless file= says otherwise, as aioconsole's.  There
        # flush=True has nothing to add (what the connection takes is sent
        # at once; runcode drains the rest) and called this class's flush, a
        # coroutine: a RuntimeWarning, "never awaited".
        kwargs.setdefault("file", self)
        if kwargs["file"] is self:
            kwargs.pop("flush", None)
        builtins.print(*args, **kwargs)

    def write(self, data: str) -> None:
        """``data`` in UTF-8, a lone surrogate (``os.fsdecode``'s) escaped as
        Python's stderr does (``\\udc80``): encoded strictly, it ended the console."""
        self.writer.write(data.encode("utf-8", "backslashreplace"))

    async def flush(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()

    # -- attach -------------------------------------------------------------------

    async def attach(self, session: Session | int, *, escape_character: str = "\x1d") -> None:
        """Hand ``session`` (or its id) to this console's user until the escape
        character (default Ctrl-]), then give it back to the program."""
        target = _find_session(session)
        if escape_character is None:  # (the console's user would have no way back)
            raise TypeError("escape_character must be one character (a key) for attach()")
        check_escape(escape_character)
        lines = getattr(self.reader, "raw_lines", False)  # (as sent, no raw mode)
        refuse_line_end(escape_character, lines, "your client sends them: nc, ssh -T")
        if target._sink is not None:
            raise BusyError(f"session #{target.id} is already attached")
        name = _key_name(escape_character)
        # Character mode first, so nothing typed after the message is lost;
        # no output processing then: line ends are written as \r\n.
        with self._raw_mode():
            kind = target.transport.kind
            self.write(f"attached to session #{target.id} ({kind}); {name} detaches\r\n")
            await self.flush()
            # What the program has buffered is shown, and stays its own.  An
            # interrupt is the session's meanwhile (read() gives it as ^C).
            following = following_size(target, self._size, local=self._local)
            output = AttachedOutput(target, self.writer)
            try:
                with self._watching(None), following:
                    after = await bridge(
                        target, self._read_input, output.write, escape_character, keep=True
                    )
            finally:
                await output.close()
        ended = "ended" if target.info()["state"] in ("eof", "closed") else "detached"
        self.write(f"\nsession #{target.id} {ended}\n")
        self._typed_after(after, name)
        await self.flush()

    def _typed_after(self, after: bytes, name: str) -> None:
        """What came after the escape in its read is the console's input:
        given back to a client that sends lines (``nc`` sends ``^]sessions()``
        and its line end at once); typed key by key through a line editor or
        the local terminal, it has had no echo, and is dropped with a word
        rather than run unseen.  A line end alone was what sent the escape."""
        if not after.strip(b"\r\n"):
            return
        give_back = getattr(self.reader, "give_back", None)
        if give_back is None or not give_back(after):
            self.write(f"({len(after)} bytes typed after {name} dropped)\n")

    async def _read_input(self) -> bytes:
        data = await self.reader.read(4096)
        return data.encode() if isinstance(data, str) else bytes(data)


#: The frames that run each statement (file, function), never shown in its
#: tracebacks: ours (``print``'s too, which Python's is builtin and has none).
RUNNERS = frozenset(
    {
        (Console.runcode.__code__.co_filename, "runcode"),
        (Console.runcode.__code__.co_filename, "print"),
        (Console.runcode.__code__.co_filename, "write"),
        *STATEMENT_RUNNERS,
        # (a Ctrl-C raised in a print waiting for the terminal: in python3 -i, print's)
        *((TerminalOutput.write.__code__.co_filename, name) for name in TERMINAL_WRITERS),
        *SIGNAL_RUNNERS,
    }
)


def _goes_on(source: str, filename: str, symbol: str, flags: int) -> bool:
    """Whether Python's REPL waits for more lines after ``source`` (with
    top-level ``await`` and the ``__future__`` imports' ``flags``).
    aioconsole, which compiles the statement inside its function, takes
    some such for errors: after ``x = 1 + \\`` it refused the line, and the
    next ran on its own."""
    try:
        with warnings.catch_warnings():  # (aioconsole's compile gives them)
            warnings.simplefilter("ignore")
            return _compiler(flags)(source, filename, symbol) is None
    except Exception:  # an error, which aioconsole's compile finds and shows as ours
        return False


def _compiler(flags: int) -> codeop.CommandCompiler:
    """Python's REPL's compiler, with top-level ``await`` and the
    ``__future__`` imports' ``flags``."""
    compiler = codeop.CommandCompiler()
    compiler.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT | flags
    return compiler


def _top_level(error: Exception, source: str, filename: str, flags: int) -> list[Any] | None:
    """``from m import *`` and ``from __future__ import ...``, which
    aioconsole refuses, as Python's REPL runs them; so too, once
    ``barry_as_FLUFL`` is imported, what aioconsole cannot parse without it."""
    refused = getattr(error, "msg", None) in (STAR_IMPORT, FUTURE_IMPORT)
    top = star_import(source, filename, flags) if refused or flags & BARRY else None
    return None if top is None else [top]


def _remember(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """Where Python's REPL leaves the last error shown (``pdb.pm()`` looks there)."""
    sys.last_type, sys.last_value, sys.last_traceback = kind, error, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = error


def _find_session(session: Session | int) -> Session:
    if isinstance(session, Session):
        return session
    if isinstance(session, int) and not isinstance(session, bool):
        for candidate in live_sessions():
            if candidate.id == session:
                return candidate
        raise ValueError(f"no live session #{session}; sessions() lists them")
    raise TypeError(f"attach takes a Session or a session id, not {type(session).__name__}")


def _key_name(char: str) -> str:
    if len(char) == 1 and ord(char) < 32:
        return "Ctrl-" + chr(ord(char) + 64)
    return repr(char)


def _exit_code(exc: SystemExit, console: Console) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    console.write(f"{code}\n")
    return 1
