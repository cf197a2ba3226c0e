"""``expect_any``: the first of many sessions to match.

Invariant: only the winner's buffer is consumed.
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
    own timeouts; ``None`` waits for ever).  At the deadline a ``TIMEOUT``
    pattern of any session matches; if none has one, the first session's
    ``ExpectTimeout`` is raised.  Any other error of one wait (``ExpectEOF``,
    ``ClosedError``...) is raised at once.  Raised errors carry a note naming
    the session; the other waits are cancelled, their buffers intact.
    """
    searchers = _searchers(patterns_by_session)
    loop = asyncio.get_running_loop()
    delay = _common_timeout(timeout, [s for s, _ in searchers])
    end = None if delay is None else loop.time() + delay
    outcome: asyncio.Future[tuple[Session, Match]] = loop.create_future()
    timeouts: list[ExpectTimeout | None] = [None] * len(searchers)
    pending = len(searchers)

    async def watch(i: int, session: Session, searcher: Searcher) -> None:
        nonlocal pending
        try:
            left = None if end is None else max(0.0, end - loop.time())
            match = await session._expect(searcher, left, consume=False)
        except Exception as exc:
            exc.add_note(f"(raised by expect_any for {session!r})")
            if isinstance(exc, ExpectTimeout):
                timeouts[i] = exc  # a TIMEOUT pattern elsewhere may still match
            elif not outcome.done():
                outcome.set_exception(exc)
        else:
            if not outcome.done():  # no await since the match: nobody consumed meanwhile
                if match.index != searcher.timeout_index:  # (TIMEOUT consumes nothing)
                    session._consume_match(match)
                outcome.set_result((session, match))
        finally:
            pending -= 1
            first = next((t for t in timeouts if t is not None), None)
            if pending == 0 and first is not None and not outcome.done():
                for other in timeouts:  # what each of the others awaited, and got
                    if other is not None and other is not first:
                        first.add_note(f"also: {other} {' '.join(other.__notes__)}")
                outcome.set_exception(first)

    tasks = [loop.create_task(watch(i, s, searcher)) for i, (s, searcher) in enumerate(searchers)]
    try:
        return await outcome
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if outcome.done() and not outcome.cancelled():
            outcome.exception()  # retrieved: no "never retrieved" warning


def _searchers(patterns_by_session: Mapping[Session, Any]) -> list[tuple[Session, Searcher]]:
    if not isinstance(patterns_by_session, Mapping):
        raise TypeError("expect_any takes a mapping {session: patterns}")
    if not patterns_by_session:
        raise ValueError("expect_any needs at least one session")
    searchers = []
    for session, patterns in patterns_by_session.items():
        if not isinstance(session, Session):
            raise TypeError(f"expect_any keys must be Sessions, not {type(session).__name__}")
        given = originals(patterns)
        items = normalize_patterns(
            given, exact=False, bytes_mode=session.encoding is None, encoding=session.encoding
        )
        searchers.append((session, Searcher(items, given)))
    return searchers


def _common_timeout(
    timeout: float | types.EllipsisType | None, sessions: list[Session]
) -> float | None:
    if timeout is not ...:
        return check_timeout(timeout)
    finite = [s.timeout for s in sessions if s.timeout is not None]
    return min(finite) if finite else None
