"""``expect_any``: the first of many sessions to match.

Invariants: only the winner's buffer is consumed; when several sessions match
at once (at the call, or their ``TIMEOUT`` patterns at the one deadline), the
first in the mapping wins.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from ._deadlines import SharedDeadline, shared_deadline
from ._exceptions import ExpectTimeout
from ._match import Match
from ._matcher import Searcher
from ._options import check_timeout, originals
from ._patterns import normalize_patterns
from ._session import Session

__all__ = ["expect_any"]


async def expect_any(
    patterns_by_session: Mapping[Session, Any],  # (values: each session's expect's; Any, so
    # that a dict of mixed patterns needs no annotation: its type would be object)
    *,
    timeout: float | types.EllipsisType | None = ...,
) -> tuple[Session, Match]:
    """Wait on many sessions at once; return ``(session, match)`` for the first
    that matches.  Only the winner's buffer is consumed; the others keep theirs.

    ``timeout`` is one deadline for all (default: the smallest of the sessions'
    own timeouts; ``None`` waits for ever), suspended while one of the
    sessions is attached (``divert``).  When several sessions match at
    once (at the call, or ``TIMEOUT`` patterns at the deadline), the first in
    the mapping wins.  At the deadline, if no session has a ``TIMEOUT``
    pattern, the first session's ``ExpectTimeout`` is raised.  Any other error
    of one wait (``ExpectEOF``, ``ClosedError``...) is raised at once.  Raised
    errors carry a note naming the session; the other waits are cancelled,
    their buffers intact.
    """
    loop = asyncio.get_running_loop()
    # Read once (a generator of patterns gives them once): each wait again
    # builds its searcher from these.
    given = {s: originals(patterns) for s, patterns in _items(patterns_by_session)}
    searchers = {s: _searcher(s, patterns) for s, patterns in given.items()}
    delay = _common_timeout(timeout, list(searchers))
    # Held by ``divert`` while one of the sessions is attached, as a
    # session's own deadline is, from the call to the return (a session
    # between two of its waits too).
    deadline = SharedDeadline(loop)
    with shared_deadline(list(searchers), deadline):
        deadline.start(delay)
        try:
            while True:
                won = await _round(loop, searchers, deadline, given)
                if won is not None:
                    return won
                # Taken by another reader while the others were stopped: again.
                searchers = {s: _searcher(s, patterns) for s, patterns in given.items()}
        finally:
            deadline.cancel()


async def _round(
    loop: asyncio.AbstractEventLoop,
    searchers: dict[Session, Searcher],
    deadline: SharedDeadline,
    given: dict[Session, list[Any]],
) -> tuple[Session, Match] | None:
    """Wait on every session: the winner (consumed), or ``None`` if another
    reader took its match while the other waits were being stopped (the
    winner is consumed only once they are: a cancellation up to then loses
    nothing; a reader that begins on one of them meanwhile is a second
    reader when the next round starts, ``BusyError``).  A match another
    reader takes before the winner is picked is waited for again on that
    session alone: the others go on waiting."""

    async def watch(session: Session, searcher: Searcher) -> tuple[Match, int]:
        # No deadline here: one timer for all (below), so that sessions whose
        # TIMEOUT falls due together are not ordered by their timers' luck.
        match = await session._expect(searcher, None, consume=False)
        return match, session._buffer.consumed  # (consumed by the caller, below)

    # Started in mapping order, each checks its buffer before it waits: of
    # matches already there at the call, the first session's wins.
    tasks = {s: loop.create_task(watch(s, searcher)) for s, searcher in searchers.items()}
    winner: tuple[Session, Match, int] | None = None
    try:
        while winner is None and not deadline.expired.done():
            ends: list[asyncio.Future[Any]] = [*tasks.values(), deadline.expired]
            await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
            winner = _first_done(tasks, searchers, given, loop, watch)
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    if winner is None:
        return await _at_deadline(list(searchers.items()))
    session, match, consumed = winner
    if session._buffer.consumed != consumed:  # taken by another reader meanwhile
        return None
    # Consumed here, with no await until the return: a cancellation of
    # expect_any up to now has left every buffer as it was.
    _commit(session, searchers[session], match)
    return session, match


def _first_done(
    tasks: dict[Session, asyncio.Task[tuple[Match, int]]],
    searchers: dict[Session, Searcher],
    given: dict[Session, list[Any]],
    loop: asyncio.AbstractEventLoop,
    watch: Callable[[Session, Searcher], Coroutine[Any, Any, tuple[Match, int]]],
) -> tuple[Session, Match, int] | None:
    """The first session in mapping order whose wait ended with a match still
    there (a wait that failed raises its error, noted); one whose match was
    taken by another reader waits again."""
    for session, task in tasks.items():
        if not task.done():
            continue
        error = task.exception()
        if error is not None:
            raise _noted(error, session) if isinstance(error, Exception) else error
        match, consumed = task.result()
        if session._buffer.consumed == consumed:
            return session, match, consumed
        searchers[session] = _searcher(session, given[session])
        tasks[session] = loop.create_task(watch(session, searchers[session]))
    return None


async def _at_deadline(searchers: list[tuple[Session, Searcher]]) -> tuple[Session, Match]:
    """The deadline passed with no winner: look at every session once more,
    in mapping order, without waiting (no await suspends here).  As at the
    call, the first session with a match (or an error) that arrived in time
    wins; then the first with a ``TIMEOUT`` pattern; else the first
    session's ``ExpectTimeout`` is raised, with a note for each other."""
    timed_out: list[tuple[Session, Match]] = []
    errors: list[Exception] = []
    for session, searcher in searchers:
        try:
            match = await session._expect(searcher, 0, consume=False)
        except ExpectTimeout as exc:
            errors.append(_noted(exc, session))
        except Exception as exc:
            _noted(exc, session)
            raise
        else:
            if match.index == searcher.timeout_index:
                timed_out.append((session, match))
            else:
                _commit(session, searcher, match)
                return session, match
    if timed_out:
        return timed_out[0]
    first = errors[0]
    for other in errors[1:]:  # what each of the others awaited, and got
        first.add_note(f"also: {other} {' '.join(other.__notes__)}")
    raise first


def _noted(exc: Exception, session: Session) -> Exception:
    exc.add_note(f"(raised by expect_any for {session!r})")
    return exc


def _commit(session: Session, searcher: Searcher, match: Match) -> None:
    """Consume the winner's match (a TIMEOUT match consumes nothing)."""
    if match.index != searcher.timeout_index:
        session._consume_match(match)


def _items(patterns_by_session: Mapping[Session, Any]) -> list[tuple[Session, Any]]:
    if not isinstance(patterns_by_session, Mapping):
        raise TypeError("expect_any takes a mapping {session: patterns}")
    if not patterns_by_session:
        raise ValueError("expect_any needs at least one session")
    for session in patterns_by_session:
        if not isinstance(session, Session):
            raise TypeError(f"expect_any keys must be Sessions, not {type(session).__name__}")
    return list(patterns_by_session.items())


def _searcher(session: Session, patterns: list[Any]) -> Searcher:
    items = normalize_patterns(
        patterns,
        exact=False,
        bytes_mode=session.encoding is None,
        encoding=session.encoding,
        redact=session.redact,
    )
    return Searcher(items, patterns)


def _common_timeout(
    timeout: float | types.EllipsisType | None, sessions: list[Session]
) -> float | None:
    if timeout is not ...:
        return check_timeout(timeout)
    finite = [s.timeout for s in sessions if s.timeout is not None]
    return min(finite) if finite else None
