"""Signals that come while the local console's statement runs its own code.

The console's loop answers SIGINT (Ctrl-C), SIGTERM and SIGHUP through
``add_signal_handler``: its handler runs once the loop runs again, which a
statement that never awaits (``while True: pass``, ``time.sleep(1000)``)
never lets it do: the console was deaf to them until it ended.  Python
itself runs a signal's handler in the main thread at the next bytecode, in
whatever code runs then; ``Delivered`` puts one there in place of the
loop's (a no-op that only wakes it: the loop still hears of the signal
through its wake-up descriptor), which raises in the statement only when
the statement's own code (or what it called) is what runs: ``Ctrl-C`` is a
``KeyboardInterrupt`` there, as in ``python3 -i``, and SIGTERM or SIGHUP
``Ended``, which ends the console.  Anywhere else (the loop waiting, the
console's own code, a statement waiting in an ``await``) it does nothing,
and the loop's answer comes as before; after a ``KeyboardInterrupt``
raised, the loop's answer to that same signal is skipped (an ``Ended``'s
still comes: it ends the console also where the statement caught it), and
so is its answer to one more that comes before the console's next prompt
and finds the statement over: it interrupts nothing (``python3 -i`` shows
one ``KeyboardInterrupt`` per interrupt the statement got), where it was
a second ``KeyboardInterrupt`` after the statement's traceback.  Signals
that come together (``Ctrl-C`` typed three times at once) are one call of
Python's handler, and one interrupt, as in ``python3 -i``: the loop hears
each, and answers only those the handler heard (one more that came while
the handler ran is the same one).
Only the main thread runs Python's signal handlers: in another, nothing is
put in place.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import os
import signal
import sysconfig
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

__all__ = ["RUNNERS", "Delivered", "Ended", "Witness", "runs"]


class Ended(BaseException):
    """SIGTERM or SIGHUP (``.signum``) came while a statement ran its own
    code: raised in it, it ends the console, as the signal does at its prompt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Witness(Protocol):
    """Told of each signal Python's handler hears (``heard``, at once, in
    whatever code runs then) and of the loop's answer to it, whatever that
    does (``settled``, after it): the local console's terminal input keeps
    what came after a ``Ctrl-C`` (see ``TerminalInput``)."""

    def heard(self) -> None: ...

    def settled(self) -> None: ...


class Delivered:
    """The signals of one console, raised in its statement while that runs
    its own code (``runs_statement``, given the frame a signal came in)."""

    def __init__(
        self,
        runs_statement: Callable[[FrameType | None], bool],
        statement_over: Callable[[], bool],
    ) -> None:
        self._runs_statement = runs_statement
        self._statement_over = statement_over
        #: What the loop's answer to each signal heard here does, in order
        #: (``RAISED``, ``LATE``, ``ANSWER``): signals that came together
        #: are one call of the handler and as many answers of the loop.
        self._heard: dict[int, collections.deque[str]] = {}
        #: Raised in the statement since the console's last prompt.
        self._struck: set[int] = set()
        #: The signals installed, each with its Python-level handler before.
        self._installed: dict[int, Any] = {}
        self._witnesses: dict[int, Witness] = {}

    def prompted(self) -> None:
        """The console reads its next line: a signal now is no late one."""
        self._struck.clear()

    def take(self, signum: int) -> bool:
        """Whether ``signum`` came and waits for the loop's answer: taken,
        it is answered here, as if raised in the statement (the loop's
        answer skipped).  A ``Ctrl-C`` heard while the console compiled a
        statement waited for its first ``await`` (in ``python3 -i`` a
        ``KeyboardInterrupt``); ``runcode`` takes it before it runs."""
        heard = self._heard.get(signum)
        if not heard or ANSWER not in heard:
            return False
        heard[heard.index(ANSWER)] = RAISED
        self._struck.add(signum)
        return True

    def install(
        self,
        signum: int,
        answer: Callable[[], None],
        raising: Callable[[], BaseException],
        *,
        instead: bool = True,
        witness: Witness | None = None,
    ) -> None:
        """The loop calls ``answer`` for ``signum`` (as ``add_signal_handler``
        does); while the statement runs its own code, the exception
        ``raising`` gives is raised in it, ``instead`` of the loop's answer
        or (not ``instead``) as well: an answer that must come even where
        the statement catches what was raised (a bare ``except:`` swallowing
        the ``Ended`` of a SIGTERM would leave the console running).
        ``witness`` is told of each one heard and answered (main thread only)."""
        loop = asyncio.get_running_loop()
        main = threading.current_thread() is threading.main_thread()
        before = signal.getsignal(signum) if main else None
        loop.add_signal_handler(signum, self._answer, signum, answer)
        # What the host program had is put back by remove: the loop's
        # removal leaves the default (asyncio.run's own Ctrl-C handler lost).
        # Not the loop's own (the loop's handler then was the program's,
        # which no loop tells: ignoring the signal would be worse).
        self._installed[signum] = None if before == signal.getsignal(signum) else before
        if main:
            # (after the loop's: its wake-up descriptor stays, its no-op goes)
            self._heard[signum] = collections.deque()
            if witness is not None:
                self._witnesses[signum] = witness
            signal.signal(signum, self._delivering(raising, instead))

    def remove(self, signum: int) -> None:
        """Back to what ``signum`` did before ``install``: the loop's handler
        removed, then the Python-level one there before put back."""
        if signum in self._installed:
            before = self._installed.pop(signum)
            self._heard.pop(signum, None)
            self._witnesses.pop(signum, None)
            asyncio.get_running_loop().remove_signal_handler(signum)
            if before is not None:
                signal.signal(signum, before)

    def _delivering(
        self, raising: Callable[[], BaseException], instead: bool
    ) -> Callable[[int, Any], None]:
        def delivered(signum: int, frame: FrameType | None) -> None:
            heard = self._heard.get(signum)
            if heard is None or _handling(frame):  # (one more with the one handled)
                return
            witness = self._witnesses.get(signum)
            if witness is not None:
                witness.heard()
            if self._runs_statement(frame):
                heard.append(RAISED if instead else ANSWER)
                if instead:
                    self._struck.add(signum)
                raise raising()
            heard.append(LATE if signum in self._struck else ANSWER)

        return delivered

    def _answer(self, signum: int, answer: Callable[[], None]) -> None:
        heard = self._heard.get(signum)
        if heard is None:  # (no handler of ours: not the main thread's)
            answer()
            return
        if not heard:  # (one that came with another, which was answered)
            return
        done = heard.popleft()
        try:
            if done == RAISED:  # (raised in the statement already)
                return
            if done == LATE and self._statement_over():  # (after the statement got one)
                return
            answer()
        finally:
            witness = self._witnesses.get(signum)
            if witness is not None:
                witness.settled()


#: What the loop's answer to a signal does: nothing, it was raised in the
#: statement; nothing if the statement is over, it came after one was; its own.
RAISED, LATE, ANSWER = "raised", "late", "answer"


def _handling(frame: FrameType | None) -> bool:
    """Whether ``frame`` is in a signal handler of ours (Python runs the
    handler of one more signal at its next bytecode, even there)."""
    while frame is not None:
        if frame.f_code is _DELIVERED:
            return True
        frame = frame.f_back
    return False


def runs(code: Any, frame: FrameType | None, passing: frozenset[tuple[str, str]]) -> bool:
    """Whether ``code`` runs in ``frame`` or in one that called it, and
    nothing of asyncio's or aioexpect's own (but the functions ``passing``
    names, file and function) runs on its behalf meanwhile: a statement
    that awaits runs their code each time its task resumes it (an
    ``execute`` reading its answer), which a ``KeyboardInterrupt`` cut
    midway (its session's bookkeeping half done: every later ``execute``
    timed out), where the loop's answer cancels it at its next ``await``.
    So too where the coroutine the task resumed (the innermost) is an
    installed library's (``INSTALLED``: asyncssh's, telnetlib3's), its
    objects cut midway as well.  The coroutines around it wait in an
    ``await``, where a cancellation would come too; the user's own (typed,
    or of a module of theirs) and what any of them calls without an
    ``await`` (``time.sleep``, a library's function) are interrupted, as in
    ``python3 -i``."""
    resumed = False  # (the innermost coroutine met: the ones after it await)
    while frame is not None and code is not None:
        if frame.f_code is code:
            return True
        where = frame.f_code.co_filename
        if (where, frame.f_code.co_name) not in passing:
            if where.startswith(LIBRARIES):
                return False
            if not resumed and frame.f_code.co_flags & AWAITED:
                resumed = True
                if _installed(where):
                    return False
        frame = frame.f_back
    return False


#: The code of what a statement awaits: coroutines, async generators.
AWAITED = inspect.CO_COROUTINE | inspect.CO_ITERABLE_COROUTINE | inspect.CO_ASYNC_GENERATOR
#: Where installed code is: the standard library's and the interpreter's
#: package directories (with their ``/``), and any site-packages or
#: dist-packages directory (a virtual environment's, the user's).
INSTALLED = tuple(
    os.path.join(path, "")
    for path in sorted(
        {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    )
    if path
)
PACKAGE_DIRECTORIES = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")


def _installed(where: str) -> bool:
    """Whether the file ``where`` is installed code, not the user's own."""
    return where.startswith(INSTALLED) or any(part in where for part in PACKAGE_DIRECTORIES)


#: Where asyncio's and aioexpect's own code is (directories, with their ``/``).
LIBRARIES = tuple(
    os.path.join(os.path.dirname(where or ""), "") for where in (asyncio.__file__, __file__)
)


#: The frame that raises in the statement (file, function): never shown in
#: its traceback, as Python's own handler has none.
RUNNERS = frozenset({(Delivered._delivering.__code__.co_filename, "delivered")})
_DELIVERED = next(
    c for c in Delivered._delivering.__code__.co_consts if getattr(c, "co_name", "") == "delivered"
)
