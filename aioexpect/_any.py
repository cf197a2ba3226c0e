"""``expect_any``: the first of many sessions to match.

Invariants: only the winner's buffer is consumed; when several sessions match
at once (at the call, or their ``TIMEOUT`` patterns at the one deadline), the
first in the mapping wins.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Mapping
from typing import Any

from ._exceptions import ExpectTimeout
from ._match import Match
from ._matcher import Searcher, normalize_patterns
from ._options import check_timeout, originals
from ._reading import SharedDeadline, Watched
from ._session import Session

__all__ = ["expect_any"]


async def expect_any(
    patterns_by_session: Mapping[Session, Any],
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
    # Held by ``divert`` while one of the sessions is attached, as a
    # session's own deadline is; one for every round (see ``_round``).
    deadline = SharedDeadline(loop)
    searchers = _searchers(patterns_by_session, deadline)
    delay = _common_timeout(timeout, [s for s, _ in searchers])
    start: float | types.EllipsisType | None = delay
    try:
        while True:
            won = await _round(loop, searchers, deadline, start)
            if won is not None:
                return won
            # Another reader took the winner's match meanwhile: again, with
            # fresh searches and the same deadline (a ``divert`` holds it).
            searchers, start = _searchers(patterns_by_session, deadline), ...
    finally:
        deadline.cancel()


async def _round(
    loop: asyncio.AbstractEventLoop,
    searchers: list[tuple[Session, Searcher]],
    deadline: SharedDeadline,
    start: float | types.EllipsisType | None,
) -> tuple[Session, Match] | None:
    """One wait on every session: the winner (consumed), or ``None`` if
    another reader took its match before it could be.  ``start``: the
    deadline's delay, to start it with; ``...``: it runs already."""
    #: The winner: its session, searcher, match, and how much of its buffer
    #: had been consumed then (the match is consumed by the caller, below).
    outcome: asyncio.Future[tuple[Session, Searcher, Match, int]] = loop.create_future()

    async def watch(session: Session, searcher: Searcher) -> None:
        # No deadline here: one timer for all (below), so that sessions whose
        # TIMEOUT falls due together are not ordered by their timers' luck.
        try:
            match = await session._expect(searcher, None, consume=False)
        except Exception as exc:
            if not outcome.done():
                outcome.set_exception(_noted(exc, session))
        else:
            if not outcome.done():
                outcome.set_result((session, searcher, match, session._buffer.consumed))

    # Started in mapping order, each checks its buffer before it waits: of
    # matches already there at the call, the first session's wins.
    tasks = [loop.create_task(watch(s, searcher)) for s, searcher in searchers]
    if start is not ...:
        deadline.start(start)
    try:
        ends: list[asyncio.Future[Any]] = [outcome, deadline.expired]
        await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if outcome.done() and not outcome.cancelled():
            outcome.exception()  # retrieved: no "never retrieved" warning
    if not outcome.done():
        return await _at_deadline(searchers)
    session, searcher, match, consumed = outcome.result()
    if session._buffer.consumed != consumed:  # another reader took from it meanwhile
        return None
    # Consumed here, with no await until the return: a cancellation of
    # expect_any up to now has left every buffer as it was.
    _commit(session, searcher, match)
    return session, match


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


def _searchers(
    patterns_by_session: Mapping[Session, Any], deadline: SharedDeadline
) -> list[tuple[Session, Searcher]]:
    if not isinstance(patterns_by_session, Mapping):
        raise TypeError("expect_any takes a mapping {session: patterns}")
    if not patterns_by_session:
        raise ValueError("expect_any needs at least one session")
    searchers: list[tuple[Session, Searcher]] = []
    for session, patterns in patterns_by_session.items():
        if not isinstance(session, Session):
            raise TypeError(f"expect_any keys must be Sessions, not {type(session).__name__}")
        given = originals(patterns)
        items = normalize_patterns(
            given, exact=False, bytes_mode=session.encoding is None, encoding=session.encoding
        )
        searchers.append((session, Watched(items, given, deadline)))
    return searchers


def _common_timeout(
    timeout: float | types.EllipsisType | None, sessions: list[Session]
) -> float | None:
    if timeout is not ...:
        return check_timeout(timeout)
    finite = [s.timeout for s in sessions if s.timeout is not None]
    return min(finite) if finite else None
