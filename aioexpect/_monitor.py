"""Monitors: callbacks fired each time a pattern appears in incoming data.

A monitor scans the stream on its own (the session's buffer and readers are
not involved) and keeps only the tail that could still start a match, with
the margin before it that look-behinds read.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._match import Monitored
from ._matcher import MARGIN, Buffer, Searcher
from ._patterns import normalize_patterns
from ._reading import describe
from ._scan import may_match_empty

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["Monitor", "add_monitor", "calling"]

#: A monitor whose pattern can span lines keeps at most this much history.
MAX_HISTORY = 64 * 1024

#: The callback's task, in the context the callback is called in, and so in
#: that of every task it starts: ``asyncio.wait_for`` (on 3.11) and
#: ``asyncio.shield`` run what they are given in a task of their own, where
#: ``current_task()`` is not the callback.  A list, filled once the task is
#: known: a plain function that starts a task and returns it made that task
#: (and its context) before we see it.
_CALLBACK: contextvars.ContextVar[list[asyncio.Task[Any]]] = contextvars.ContextVar(
    "aioexpect_monitor_callback"
)


def calling() -> tuple[asyncio.Task[Any] | None, ...]:
    """The tasks a cancellation from here must spare: the current one, and
    the monitor callback it runs for (``session.close()`` in a callback,
    bounded by ``wait_for``, runs in a task of its own)."""
    try:
        current = asyncio.current_task()
    except RuntimeError:  # (called outside the event loop)
        current = None
    return current, *_CALLBACK.get(())


class Monitor:
    """One ``add_monitor`` registration."""

    __slots__ = (
        "_buffer",
        "_callback",
        "_log",
        "_original",
        "_pattern",
        "_redact",
        "_registry",
        "_tasks",
        "removed",
    )

    def __init__(
        self,
        original: Any,
        pattern: Any,
        callback: Callable[..., Any],
        log: logging.Logger,
        redact: Callable[[Any], Any] | None = None,
        registry: list[Monitor] | None = None,
    ) -> None:
        self._original = original
        self._redact = redact  # the session's: a Match's repr masks its secrets
        self._pattern = pattern
        self._callback = callback
        self._log = log
        self._buffer: Buffer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        #: The session's monitors: it leaves them when removed and idle.
        self._registry = registry
        #: Its remover was called: it fires no more, not even for the rest
        #: of the chunk in hand.
        self.removed = False

    def feed(self, session: Any, text: Any) -> None:
        """Fire for each match in ``text`` (the session skips one removed
        before its chunk came)."""
        if self._buffer is None:
            self._buffer = Buffer(text[:0])
        buf = self._buffer
        buf.append(text)
        searcher = Searcher([self._pattern], [self._original])
        while (found := searcher.search(buf)) is not None:
            match = searcher.match(buf, found, self._redact)
            self._fire(session, match)
            if self.removed:  # (by its own callback)
                return
            searcher = Searcher([self._pattern], [self._original])
        # Keep what a later match could still start in (the scan's resume
        # point) and the margin before it that look-behinds read, as the
        # session's buffer does; bounded for patterns that may span lines.
        keep_from = max(_resume(searcher) - MARGIN, len(buf) - MAX_HISTORY)
        buf.consume(keep_from)

    def _fire(self, session: Any, match: Any) -> None:
        # Called in a context of its own, where _CALLBACK is set: a task the
        # callback starts copies it, a coroutine's task is given it.
        context = contextvars.copy_context()
        fired: list[asyncio.Task[Any]] = []
        context.run(_CALLBACK.set, fired)
        try:
            result = context.run(self._callback, session, match)
        except Exception as exc:
            self._failed(exc)
            return
        if inspect.iscoroutine(result):
            task = asyncio.get_running_loop().create_task(result, context=context)
        elif inspect.isawaitable(result):  # (a task or future is taken as it is;
            # another awaitable is wrapped in a task made here, in the context)
            task = context.run(asyncio.ensure_future, result)
        else:
            return
        fired.append(task)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if self.removed and not self._tasks:
            self.leave()
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        """Log the callback's failure with its traceback: as an exception,
        unless the callback's repr or the traceback holds one of the
        session's secrets (a ``functools.partial`` given the password, a
        message quoting what the match caught); then as text, masked."""
        if not self._log.isEnabledFor(logging.ERROR):
            return  # (nothing formatted for a record nobody takes)
        name, redact = repr(self._callback), self._redact
        if redact is not None:
            text = "".join(traceback.format_exception(exc)).rstrip("\n")
            masked_name, masked = redact(name), redact(text)
            if masked_name != name or masked != text:
                self._log.error("monitor callback %s failed\n%s", masked_name, masked)
                return
        self._log.error("monitor callback %s failed", name, exc_info=exc)

    def cancel(self, *, spare: tuple[asyncio.Task[Any] | None, ...] = ()) -> None:
        """Cancel its callbacks' tasks, but those in ``spare`` (``calling()``)."""
        for task in list(self._tasks):
            if task not in spare:
                task.cancel()

    def leave(self) -> None:
        """Out of the session's monitors, unless a callback of its own runs
        on (the session's close cancels it, then ``_done`` calls this)."""
        if self._registry is not None and not self._tasks:
            with contextlib.suppress(ValueError):
                self._registry.remove(self)


def add_monitor(
    session: Session, original: Monitored, callback: Callable[..., Any]
) -> Callable[[], None]:
    """Register a monitor for ``Session.add_monitor``, its pattern compiled
    as the session's patterns are; return its remover.  A closed session
    receives nothing more: ``ClosedError``, as for any other use."""
    session._check_open()
    items = normalize_patterns(
        original,
        exact=False,
        bytes_mode=session._decoder.bytes_mode,
        encoding=session._encoding,
        redact=session.redact,
    )
    if not callable(callback):
        raise TypeError("add_monitor needs a callable callback")
    if len(items) != 1 or not hasattr(items[0], "search"):
        raise TypeError("add_monitor takes one text pattern (str, bytes or re.Pattern)")
    if may_match_empty(items[0]):
        shown = describe([original], session._redactor.redact)
        raise ValueError(
            f"add_monitor: {shown} can match empty text, so it would match at"
            " every position of the data, over and over"
        )
    monitors = session._monitors
    monitor = Monitor(original, items[0], callback, session.log, session.redact, monitors)
    monitors.append(monitor)

    def remove() -> None:
        """No more matches, from now (the rest of the chunk in hand too).
        Its callbacks' tasks are cancelled, but the one calling this (a
        one-shot answer removes its monitor, then sends the answer)."""
        monitor.removed = True
        monitor.cancel(spare=calling())
        monitor.leave()

    return remove


def _resume(searcher: Searcher) -> int:
    return min((scan.resume for scan in searcher._scans), default=0)
