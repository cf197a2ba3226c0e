"""What ``aioexpect exec`` prints: each host's block in the order of the
targets, or JSON; a progress bar on a terminal; every message with URL
passwords masked.  A stdout whose reader has gone (``| head``) stops the
run; a stderr that can no longer be written (its terminal closed) is
given up, and nothing else changes."""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from typing import IO

from ._exceptions import CommandError, ExpectError
from ._many import Host, Result
from ._urls import MaskedURLError, redact_url

__all__ = [
    "OutputError",
    "Printer",
    "Progress",
    "ReaderGone",
    "drop_what_stderr_kept",
    "error_text",
    "escaping",
    "host_label",
    "masked",
    "say",
    "to_devnull",
    "usage_text",
]

#: A URL's password, or a ``user:password@host`` target's, in free text: up
#: to the last ``@`` of the word, as ``redact_url`` reads a URL: only ssh://
#: and telnet:// are a scheme, anything else before ``://`` may be a user
#: name whose password holds it (``admin://pw@h``): masked from its ``:``.
#: A match starts a word (not at the ``sh:`` of ``ssh://u@h``).
_SCHEME = r"[^\w\s:/@'\"]*(?i:ssh|telnet)://"
_SECRET = re.compile(rf"(?<![\w+.-])((?:{_SCHEME})?(?!{_SCHEME})[^\s:/@'\"]*:)\S*?(@)(?!\S*@)")


def masked(text: str) -> str:
    """``text`` with every password of a URL in it replaced by ``********``:
    a URL given where an option value belongs ends up in messages."""
    return _SECRET.sub(r"\1********\2", text)


def usage_text(error: Exception) -> str:
    """What a usage error says, masked, unless the URL helpers masked it
    already: masked again, the fix shown for ``ssh:admin@h`` (``write
    'ssh://admin@h'``) would come after ``ssh:********@h``."""
    return str(error) if isinstance(error, MaskedURLError) else masked(str(error))


def say(message: str) -> None:
    """``message`` as a line on stderr, if it can still be written there: a
    terminal closed on a disowned job must not end the run (the results go
    to stdout; the exit status tells the rest)."""
    with contextlib.suppress(OSError):
        print(message, file=sys.stderr)


def drop_what_stderr_kept() -> None:
    """What a stderr that is gone (its terminal closed) still holds goes to
    /dev/null, and so does what comes after: Python flushes it at exit and,
    when that fails, exits 120 in place of our status, which says how the
    hosts did (each write to it gave up on its own: the bar, ``say``, logging)."""
    try:
        sys.stderr.flush()
    except OSError:
        with contextlib.suppress(OSError, ValueError):  # (no descriptor behind it)
            to_devnull(sys.stderr.fileno())
            sys.stderr.flush()


def to_devnull(fd: int) -> None:
    """Descriptor ``fd`` opened on /dev/null: what is written to it is dropped."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@contextlib.contextmanager
def escaping(stream: IO[str]) -> Iterator[None]:
    """While in the block, a character that ``stream``'s encoding cannot
    encode is written as a backslash escape (``caf\\xe9``), in the same
    encoding: output in UTF-8 on standard output in an ASCII locale
    (``LC_ALL=C PYTHONUTF8=0``) failed to be written, after the commands
    had run.  (A stream that is no ``TextIOWrapper``, writes UTF-8, or
    has a handler of the user's own, ``PYTHONIOENCODING=ascii:replace``,
    is left alone.)"""
    errors = getattr(stream, "errors", None)
    if (
        not isinstance(stream, io.TextIOWrapper)
        or codecs.lookup(stream.encoding).name == "utf-8"
        or errors not in ("strict", "surrogateescape")
    ):
        yield
        return
    try:
        stream.reconfigure(errors="backslashreplace")  # (flushes: may fail, as a write)
    except (OSError, ValueError):  # (a full disk, a closed stream: its writes say so)
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            stream.reconfigure(errors=errors)


class OutputError(Exception):
    """Writing the results to stdout failed (a closed pipe, a full disk)."""


class ReaderGone(OutputError):
    """Writing the results to stdout failed because its reader has gone
    (``| head``: EPIPE)."""


def _output_error(exc: OSError | UnicodeError) -> OutputError:
    """The ``OutputError`` for a failed write: ``ReaderGone`` for EPIPE."""
    kind = ReaderGone if isinstance(exc, BrokenPipeError) else OutputError
    error = kind(getattr(exc, "strerror", None) or str(exc))
    error.__cause__ = exc
    return error


class CheckedOutput:
    """A text stream whose failed write or flush is an ``OutputError``
    (the command line then says so in one line, not in a traceback)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str, /) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise _output_error(exc) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise _output_error(exc) from exc


def host_label(host: Host | str) -> str:
    """How a target is shown: its URL with any password masked."""
    return redact_url(host.url if isinstance(host, Host) else host)


def error_text(error: BaseException | None) -> str | None:
    """``"ErrorType: message"`` (and what was being done, its notes), masked."""
    if error is None:
        return None
    notes = "".join(f" ({note})" for note in getattr(error, "__notes__", ()))
    return masked(f"{type(error).__name__}: {error}{notes}")


class Printer:
    """Prints each host's block in input order as soon as its turn comes.

    In text, a host's outputs and result are let go of once its block is
    printed (or once nothing more can be), so that what is held depends on
    the hosts running and those waiting for their turn, not on the number
    of targets (run_many keeps each ``Result``, made small, to the end).
    JSON is written at the end: it keeps everything until then."""

    def __init__(
        self,
        hosts: list[Host],
        outputs: dict[int, list[str]],
        commands: list[str],
        out: IO[str],
        progress: Progress | None,
        *,
        as_json: bool,
    ) -> None:
        self.hosts, self.outputs, self.commands = hosts, outputs, commands
        self.out, self.progress, self.as_json = out, progress, as_json
        self.index = {id(h): i for i, h in enumerate(hosts)}
        self.done: dict[int, Result[Host, None]] = {}
        self.next = 0
        self.failed: OutputError | None = None

    def add(self, result: Result[Host, None]) -> None:
        if self.progress is not None:
            self.progress.count(result)
        if not self.as_json and self.failed is not None:  # no block will be printed
            self.outputs.pop(id(result.host), None)
            if result.error is not None:
                _drop_evidence(result.error)
            return
        self.done[self.index[id(result.host)]] = result
        if not self.as_json:
            self._safely(self._show_ready)
            self.stop_if_unread()

    def _show_ready(self) -> None:
        """The blocks whose turn has come."""
        if self.progress is not None and self.next in self.done:
            self.progress.clear()
        while self.next in self.done:
            self._block(self.done.pop(self.next))
            self.next += 1
        self.out.flush()
        if self.progress is not None:
            self.progress.draw()

    def interrupted(self) -> None:
        """After Ctrl-C (or SIGTERM, SIGHUP): the hosts that finished (text:
        those not shown yet, in order, though hosts before them did not finish)."""
        if self.progress is not None:
            self.progress.clear()
        if self.as_json:
            self.finish([self.done[i] for i in sorted(self.done)])
            return

        def rest() -> None:
            for i in sorted(i for i in self.done if i >= self.next):
                self._block(self.done[i])
            self.out.flush()

        self._safely(rest)

    def _safely(self, write: Callable[[], None]) -> None:
        """``write()`` to stdout, unless writing failed before.  Its failure
        is kept for ``stop_if_unread`` and ``check``.  (The bar on stderr
        never fails here: it gives up drawing by itself.)"""
        if self.failed is not None:
            return
        try:
            write()
        except (OSError, UnicodeError) as exc:  # a closed pipe, a full disk, an ASCII-only stdout
            self.failed = _output_error(exc)

    def stop_if_unread(self) -> None:
        """Raise ``ReaderGone`` if writing failed because the reader has
        gone (``| head``: EPIPE).  What is left would be printed for
        nobody, so the run stops, as a command in a shell's pipeline stops
        at SIGPIPE: raised in run_many's callback, it cancels the hosts
        still running (each session closed) and comes out of run_many.
        Another failure (a full disk) lets every host finish: their
        commands are run all the same, and the exit status says how they did."""
        if isinstance(self.failed, ReaderGone):
            raise self.failed

    def check(self) -> None:
        """Raise ``OutputError`` if writing the output failed."""
        if self.failed is not None:
            raise self.failed

    def _block(self, result: Result[Host, None]) -> None:
        host = result.host
        status = "ok" if result.ok else "FAILED"
        print(f"=== {host_label(host)}  {status}  ({result.duration:.2f}s)", file=self.out)
        outputs = self.outputs.pop(id(host), [])
        for command, output in zip(self.commands, outputs, strict=False):
            print(f"--- {command}", file=self.out)
            if output:
                print(output.rstrip("\n"), file=self.out)
        if result.error is not None:
            print(f"!!! {error_text(result.error)}", file=self.out)
            _drop_evidence(result.error)

    def finish(self, results: list[Result[Host, None]]) -> None:
        if not self.as_json:
            return
        data = [
            {
                "host": host_label(r.host),
                "ok": r.ok,
                "outputs": self.outputs.get(id(r.host), []),
                "error": error_text(r.error),
            }
            for r in results
        ]

        def dump() -> None:
            json.dump(data, self.out, indent=2)
            self.out.write("\n")
            self.out.flush()

        self._safely(dump)


def _drop_evidence(error: BaseException) -> None:
    """What a host's error (and those in its chain) holds beyond its message,
    dropped once its block is printed: run_many keeps each Result until it
    returns, and the error's traceback would keep the frames of the job and
    of run_many (the host's closed session, its buffer and transport; the
    job's outputs), its ``.before`` or ``.output`` a copy of the output."""
    seen: set[int] = set()
    chain: list[BaseException | None] = [error]
    while chain:
        exc = chain.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        exc.__traceback__ = None
        if isinstance(exc, ExpectError):
            exc.before = exc.before[:0]
        elif isinstance(exc, CommandError):
            exc.output = ""
        chain += (exc.__cause__, exc.__context__)


#: The narrowest progress bar worth drawing (cells); narrower, only the counts are.
_MIN_BAR = 5


class Progress:
    """A one-line progress bar on a terminal: ``[####....] 3/10  ok 2  failed 1``.

    A bar that can no longer be drawn (its terminal closed on a disowned job)
    is no longer drawn, and that is all: raised, the error would end the run
    and lose the results, which go to stdout, not here."""

    def __init__(self, total: int, out: IO[str]) -> None:
        self.total, self.out = total, out
        self.ok = self.failed = 0
        self.gone = self.shown = False
        self.draw()

    def count(self, result: Result[Host, None]) -> None:
        if result.ok:
            self.ok += 1
        else:
            self.failed += 1
        self.draw()

    def draw(self) -> None:
        if not self.gone:
            self._write("\r\x1b[K" + self._line(self._columns()))
            self.shown = True

    def _line(self, columns: int) -> str:
        """The bar and the counts in fewer than ``columns`` columns (the last
        is left free: some terminals wrap as soon as it is written, and a line
        that wraps is only erased in part): the bar is 10 to 40 cells as the
        width allows, then shorter, then gone; then only ``done/total``
        is left, then nothing."""
        done = self.ok + self.failed
        counts = f"{done}/{self.total}  ok {self.ok}  failed {self.failed}"
        room = columns - 1
        width = min(max(10, min(40, columns - 40)), room - len(counts) - 3)
        if width >= _MIN_BAR:
            filled = width * done // max(1, self.total)
            return f"[{'#' * filled}{'.' * (width - filled)}] {counts}"
        return next((text for text in (counts, f"{done}/{self.total}") if len(text) <= room), "")

    def _columns(self) -> int:
        """``$COLUMNS`` when set (as :func:`shutil.get_terminal_size` has it),
        else the width of the terminal the bar is drawn on (stdout may be a
        file), else stdout's, else 80."""
        columns = os.environ.get("COLUMNS", "")
        if columns.isdecimal() and int(columns) > 0:
            return int(columns)
        try:
            drawn_on = os.get_terminal_size(self.out.fileno()).columns
        except (OSError, ValueError):
            drawn_on = 0  # (0 too from a terminal whose size was never set)
        return drawn_on or shutil.get_terminal_size((80, 24)).columns

    def clear(self) -> None:
        self._write("\r\x1b[K")
        self.shown = False

    @contextlib.contextmanager
    def under_logs(self) -> Iterator[None]:
        """While in the block, a log record written where the bar is (``-v``'s
        lines, a warning, on standard error) erases the bar first, so as not
        to start on its line, and draws it again below (``-vv`` writes many
        records while no host is done)."""
        handlers = [
            handler
            for handler in (*logging.getLogger().handlers, logging.lastResort)
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.out
        ]
        own = [(handler, vars(handler).get("emit")) for handler in handlers]  # (mostly none)
        for handler in handlers:
            handler.emit = self._under_bar(handler.emit)  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            for handler, emit in own:
                if emit is None:
                    del handler.emit  # (the class's again)
                else:
                    handler.emit = emit  # type: ignore[method-assign]

    def _under_bar(
        self, emit: Callable[[logging.LogRecord], None]
    ) -> Callable[[logging.LogRecord], None]:
        """``emit``, writing its record where the bar was, and the bar again below it."""

        def emit_under_bar(record: logging.LogRecord) -> None:
            shown = self.shown  # (not once the run is over: the last line comes)
            self.clear()
            try:
                emit(record)
            finally:
                if shown:
                    self.draw()

        return emit_under_bar

    def _write(self, text: str) -> None:
        if self.gone:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except OSError:  # EIO from a closed terminal, EPIPE: it will not come back
            self.gone = True


# -- demo ----------------------------------------------------------------------------
