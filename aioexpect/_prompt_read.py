"""Reading to a prompt, for ``_prompt`` (execute), ``_login`` and
``_unique_prompt``: the per-session prompt state (weakly keyed by the
session), the patterns in force (every registered driver's while
``driver="auto"`` is undecided), recognising a prompt (also one that output
without a final line end runs into; a prompt's text and the pattern of one
learned, changed: ``_prompt_text``), answering pagers on the way, and
naming what was awaited in the messages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import _driver, _shown
from ._ansi import strip_ansi
from ._driver import Driver
from ._exceptions import (
    BufferFull,
    BusyError,
    ConnectionLostError,
    ExpectEOF,
    ExpectError,
    ExpectTimeout,
)
from ._match import Match
from ._prompt_text import (
    MARGIN,
    changed_prompt,
    changed_prompt_start,
    drawn_above,
    may_be_drawn,
)
from ._prompt_wrap import at_margin, columns_of, fits, rows_above
from ._reading import describe, lost, tail_of
from ._redact import escape, escape_cut
from ._scan import pattern_body
from ._ways_out import WAYS_OUT
from ._wrap import WRAP, unwrap

if TYPE_CHECKING:
    from ._session import Session


@dataclasses.dataclass
class PromptState:
    synced: bool = False  # a prompt was seen, or the caller read past it
    late: bool = False  # the last execute timed out: its answer may follow
    #: A prompt is owed (an execute was cancelled or overflowed, or a person
    #: typed a line in ``interact``): how much had been consumed then.  It
    #: holds while nobody reads: a caller who reads on takes it over.
    owed: int | None = None
    init_done: list[Driver] = dataclasses.field(default_factory=list)  # (once each)
    continuation: re.Pattern[str] | None = None
    #: ``set_unique_prompt``'s prompt: a shell at it runs no line editor.
    unique: re.Pattern[str] | None = None
    #: The last prompt, as text: found also where output without a final
    #: line end runs into it (``printf x`` gives ``xbash-5.2# ``), which
    #: the drivers' patterns, anchored at a line start, do not match.
    seen: re.Pattern[str] | None = None
    seen_text: str = ""  # what ``seen`` finds
    #: ... and with its middle changed (a new directory), also where output
    #: ending in a space runs into it (``w root@vm:/tmp# ``): see ``changed_prompt``.
    changed: re.Pattern[str] | None = None
    #: The terminal was resized: a line editor may redraw its prompt.
    resized: bool = False
    #: ... and no redraw came within ``REDRAW_WAIT``: it may still come, in
    #: front of the next command's echo.
    redraw_due: bool = False
    prompt_text: str = ""  # the last prompt read, as received
    #: The last execute's prompt was unlike the one before it: a command
    #: changed it, or a line of output shaped like a prompt ended the answer
    #: early (the next answer may begin with the rest: see ``_stale``).
    moved: bool = False
    #: The last execute's answer began with its command's echo (``None``:
    #: no answer read yet).
    echoes: bool | None = None
    #: The prompt before the last unlike one (see ``moved``), as received.
    previous: str = ""
    #: ``execute`` has read its answer's prompt and waits a moment for what
    #: may follow it (``_stale``): cancelled now, it owes no prompt.
    waiting: bool = False
    #: The transport told a terminal's width (asked until it does): a prompt
    #: may be wrapped at its margin.
    terminal: bool = False
    #: The last line ``execute`` sent (its command), with ``Session._sent_at``
    #: and ``bytes_out`` after it: while both stand, nothing was read or sent
    #: since (it timed out or was cancelled before any of its answer came).
    sent: tuple[str, int, int] | None = None
    #: A send was cut short: its rest may still wait to be written
    #: (``_prompt_send.cut_short``), the next command with it.
    cut: bool = False
    #: That line may have been typed into an earlier answer still coming: one
    #: was due (owed, or late) when it was sent, but the caller had read part
    #: of it, no prompt, instead of ``execute`` catching up.  Two answers may
    #: be outstanding: a catch-up's prompt may not be the last
    #: (``_prompt._past_typed_ahead``).
    ahead: bool = False
    #: The prompts still owed to lines the caller typed once ``expect_prompt``
    #: read one (or an ``execute`` gave up reading them), the last of those
    #: lines, and ``consumed`` then (while nothing is read, the next
    #: ``execute`` reads them; kept until it does: ``_typed``).
    typed: tuple[int, str | None, int] | None = None
    #: ``bytes_out`` where ``read_typed`` stopped short of the prompts owed
    #: (the text read ending as the empty lines sent last do read at their
    #: prompts, or none within ``STALE_WAIT``): the command sent from there
    #: may find an empty line's echo and prompt in front of its answer.
    empties_at: int = -1
    #: ``consumed`` then: the same execute sends its command with nothing
    #: read since; read since (one cancelled before it sent, the next one's
    #: catch-up), the empty line's answer may be read already (``_typed_echo``).
    empties_read: int = -1
    #: The last question a command asks that execute named: where the text
    #: received then ended (counted from the session's start), and
    #: ``bytes_out`` then.  Sent more since, nothing received: answered.
    asked: tuple[int, int] | None = None


def in_step(state: PromptState) -> None:
    """A prompt was read on the caller's behalf (``expect_prompt``, a
    ``login``, ``set_unique_prompt``, a catch-up): no answer is due any
    more, and none was typed ahead into another."""
    state.synced, state.late, state.owed, state.ahead = True, False, None, False


_states: weakref.WeakKeyDictionary[Any, PromptState] = weakref.WeakKeyDictionary()


def state_of(session: Session) -> PromptState:
    state = _states.get(session)
    if state is None:
        state = _states[session] = PromptState()
    return state


def owe(session: Session) -> None:
    """The prompt that ends an answer is still to come: the next ``execute``
    reads to it before sending, unless the caller reads on meanwhile."""
    state = state_of(session)
    state.synced, state.owed = False, session._buffer.consumed


#: The characters of a command that a message or a log record shows, at
#: most: its middle goes (a command of megabytes, a file pasted whole).
SHOWN_COMMAND = 200


def shown_command(session: Session, command: str) -> str:
    """``command`` for a message: masked, escaped, and cut in the middle past
    ``SHOWN_COMMAND`` characters (masked first: no part of a secret shows)."""
    return escape_cut(session.redact(command), SHOWN_COMMAND)


class Deadline:
    """One deadline shared by every wait of a call (``None``: no deadline)."""

    __slots__ = ("_end", "_loop")

    def __init__(self, timeout: float | None) -> None:
        self._loop = asyncio.get_running_loop()
        self._end = None if timeout is None else self._loop.time() + timeout

    @property
    def end(self) -> float | None:
        """The deadline in the loop's time (``None``: none)."""
        return self._end

    def left(self) -> float | None:
        return None if self._end is None else max(0.0, self._end - self._loop.time())

    def within(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now, or this one if it comes first."""
        left = self.left()
        return Deadline(seconds if left is None else min(seconds, left))


# -- the patterns in force -------------------------------------------------------


def _union(field: str) -> list[re.Pattern[str]]:
    """A pattern field of every registered driver, duplicates removed."""
    seen: dict[tuple[str, int], re.Pattern[str]] = {}
    for driver in _driver.registered():
        for p in getattr(driver, field):
            seen.setdefault((p.pattern, p.flags), p)
    return list(seen.values())


def auto_driver(session: Session) -> bool:
    return bool(session._auto_driver)


def patterns_of(session: Session, field: str) -> list[re.Pattern[str]]:
    """A driver field, from every registered driver while ``auto`` is undecided."""
    if auto_driver(session):
        return _union(field)
    return list(getattr(session.driver, field))


def prompts_of(session: Session) -> list[re.Pattern[str]]:
    if session._prompt_override is not None:
        return list(session._prompt_override)
    prompts = _union("prompt_patterns") if auto_driver(session) else list(session.prompt_patterns)
    state = state_of(session)
    if state.seen is None:
        return prompts
    # (``seen`` last: ``read_to_prompt`` and ``_unglue`` count on it)
    return [*prompts, state.changed, state.seen] if state.changed else [*prompts, state.seen]


def _learn(session: Session, prompt: str, head: int = 0) -> None:
    """Remember a prompt the patterns found, if it is distinctive enough
    (three visible characters or more: not a bare ``$ ``) to be found
    anywhere at the end of the output; its first ``head`` characters are
    the lines readline drew above the one the patterns found (``_drawn``)."""
    state = state_of(session)
    # Not those lines (a line editor redraws the last line alone after a
    # resize: ``prompt_text`` is that line)...
    prompt = prompt[head:] if head else prompt
    state.prompt_text = prompt  # (for a late redraw, whatever the patterns)
    if session._prompt_override is not None:
        return
    # ... nor the blank line a pattern may take before it (JunOS's): as text
    # of its own, its line end would be any output's last one.
    prompt = prompt.lstrip("\r\n")
    if prompt == state.seen_text:
        return  # known already (the same prompt comes after every command)
    if len(strip_ansi(prompt).strip()) >= 3:
        state.seen = re.compile(re.escape(prompt) + r"\Z")  # re caches it
        state.seen_text = prompt
        state.changed = changed_prompt(prompt, columns_of(session) if WRAP in prompt else None)


def _drawn(session: Session, m: Match) -> tuple[Match, int]:
    """``m`` (a prompt) with the lines that a line editor (readline, zsh's)
    drew above the one the patterns found, which would be the output's last
    lines (a prompt of two lines, ``\\u@\\h:\\w\\n\\$ ``, Kali's, zsh's
    ``%n@%m %~\\n%# ``, powerlevel10k's; a blank line before it: see
    ``drawn_above``), and how long they are.  Not under ``set_prompt``, nor
    where the pattern took lines already (JunOS's).  ``group(0)`` is then
    the whole prompt, as in ``rows_above``; with no lines taken, ``m``."""
    before = m.before
    if session._prompt_override is not None or "\n" in m.after:
        return m, 0
    at_start = session._buffer.consumed == len(before) + len(m.after)
    start = drawn_above(before, m.after, at_start)
    if start == len(before):
        return m, 0
    whole = Match(m.index, m.pattern, before[:start], before[start:] + m.after, None, 0, m._redact)
    return whole, len(before) - start


def _unglue(session: Session, m: Match, seen_index: int) -> Match:
    """A prompt match that ends with the learned prompt but is longer holds
    output glued to it (``printf x`` gives ``xbash-5.2# ``, and the generic
    pattern takes it all): that part goes back to ``before``.  So does the
    part before a prompt that begins as the learned one and then differs
    (``cd /tmp && printf w`` gives ``wroot@vm:/tmp# `` after ``root@vm:~# ``).
    Output is glued to the prompt's own line only: lines a pattern matched
    above it (JunOS's ``{master:0}``, ``[edit]``) are the prompt's."""
    state = state_of(session)
    seen = state.seen
    if seen is None or m.pattern in (seen, state.changed) or session._prompt_override is not None:
        return m
    found = seen.search(m.after)
    if found is not None:
        if not found.start() or "\n" in m.after[: found.start()]:
            return m
        # span() offsets: found's positions count from the start of m.after
        before = m.before + m.after[: found.start()]
        return Match(seen_index, seen, before, found.group(), found, -len(m.before), m._redact)
    start = changed_prompt_start(state.seen_text, m.after)
    rest = m.after[start:]
    glued = start and "\n" not in m.after[:start]
    again = m.pattern.match(rest) if glued else None  # (``^`` matches at its start)
    if again is None or again.end() != len(rest):
        return m
    before = m.before + m.after[:start]
    return Match(m.index, m.pattern, before, rest, again, -len(before), m._redact)


def _pagers(session: Session) -> list[tuple[re.Pattern[str], str]]:
    drivers = _driver.registered() if auto_driver(session) else (session.driver,)
    out: dict[tuple[str, int], tuple[re.Pattern[str], str]] = {}
    for driver in drivers:
        for p in driver.pager_patterns:
            out.setdefault((p.pattern, p.flags), (p, driver.pager_response))
    return list(out.values())


def guess_driver(session: Session, text: str, prompt: str | None) -> None:
    """Settle ``driver="auto"`` from the text read up to the first prompt,
    ``prompt`` (as received; ``None``: unknown): only a driver that knows
    that prompt may be chosen.  A prompt of ``set_prompt``'s, which no
    driver need know, leaves the banner alone to decide."""
    if not auto_driver(session):
        return
    if prompt is not None and session._prompt_override is None:
        prompt = unwrap(prompt, columns_of(session))  # (as a pattern finds it: one row)
    else:
        prompt = None
    found = _driver.guess(strip_ansi(text), prompt=prompt)
    session.driver = found if found is not None else session.driver
    session.log.debug("driver=auto: using %s", session.driver.name)


def require_text(session: Session) -> None:
    if session.encoding is None:
        raise TypeError(
            "prompt handling needs a text session; this one was opened with encoding=None"
        )


def require_idle(session: Session) -> None:
    """Refuse a call that sends, then reads, while another task reads (one
    reader per session): its line sent first would change the peer (a
    prompt set, a command run) while the other reader took the answer, and
    only the read after it would be refused.  Nothing is sent."""
    waiter = session._waiter
    if waiter is not None:
        shown = describe(waiter.searcher.patterns, session._redactor.redact)
        raise BusyError(f"session #{session.id} already has a reader waiting for {shown}")


def require_prompts(session: Session) -> None:
    """Refuse waiting for a prompt where it cannot work: bytes, no pattern."""
    require_text(session)
    if (
        session._prompt_override is None
        and not auto_driver(session)  # (every driver's prompts, then)
        and not session.driver.prompt_patterns
    ):
        raise ValueError(
            f"driver {session.driver.name!r} has no prompt_patterns: execute, expect_prompt"
            " and login need them (give it some, or call set_prompt())"
        )


def evidence_of(session: Session, text: str) -> str:
    return repr(tail_of(session._redactor, text))  # repr escapes control characters, once


def buffer_evidence(session: Session, earlier: str = "") -> tuple[Any, str]:
    """The session's buffer, and the evidence of ``earlier`` then of it (a
    bytes session's shown as UTF-8)."""
    before = session.buffer
    text = before if isinstance(before, str) else before.decode("utf-8", "replace")
    return before, evidence_of(session, earlier + text)


def what_prompt(session: Session) -> str:
    if session._prompt_override is not None:
        shown = ", ".join(repr(p.pattern) for p in session._prompt_override)
        return f"the prompt set with set_prompt ({shown})"
    if auto_driver(session):
        return "the prompt of any driver (driver='auto')"
    return f"the prompt of driver {session.driver.name!r}"


async def expect_named(
    session: Session,
    patterns: list[re.Pattern[str]],
    deadline: Deadline,
    what: str,
    earlier: str = "",
    held: str = "",
) -> Match:
    """``session.expect`` with a message that names what was awaited in words
    (the patterns themselves stay on the exception's ``.patterns``); its
    evidence starts with ``earlier``, text this dialog already consumed, then
    ``held``, text consumed that the caller gives back at a failure
    (``give_back``), with which the error's ``before`` starts too."""
    try:
        return await session.expect(patterns, timeout=deadline.left())
    except ConnectionLostError as exc:
        cause = exc.__cause__ or exc
        raise lost(what, cause, evidence_of(session, earlier + held + session.buffer)) from cause
    except ExpectError as exc:
        if isinstance(exc, ExpectTimeout):
            reason = "timed out"
        elif isinstance(exc, ExpectEOF):
            reason = "end of file"
        elif isinstance(exc, BufferFull):
            reason = "max_buffer reached"
        else:  # pragma: no cover - the tree has no other kind
            raise
        message = f"{reason} waiting for {what}; last characters received: "
        shown = _shown.shown(session)  # (what interact() showed: the buffer goes on from it)
        before = held + exc.before if held else exc.before
        evidence = evidence_of(session, shown + earlier + before)
        evidence += _shown.NOTE if shown else ""
        # (Raised as made: held in a local, the error would hold this frame
        # through its traceback and the frame the error, a cycle that keeps
        # its ``before``, up to max_buffer, until the garbage collector runs.)
        raise type(exc)(message + evidence, before=before, patterns=exc.patterns) from None


def give_back(session: Session, text: str) -> None:
    """Put ``text``, the last text a read consumed, back into the buffer:
    output that only looked like a prompt, read past, and the page read
    since the last pager answered (its pager prompt left out: answered, it
    is not answered again) are unread again when the read fails (a time-out,
    end of file, ``max_buffer``, cancelled, also while that pager is
    answered), as if never consumed (``s.buffer`` holds it, the next read finds it).
    What that takes past ``max_buffer`` waits behind it, as text decoded
    past the bound does (``Session._surplus``, ahead of what came since):
    the bound holds, reading stays paused until the caller consumes."""
    over = session._buffer.give_back(text, session._max_buffer)
    if over:
        session._surplus = over + session._surplus


# -- reading up to the prompt ------------------------------------------------------


async def read_to_prompt(
    session: Session, deadline: Deadline, extra: list[re.Pattern[str]] | None = None
) -> tuple[str, Match, bool]:
    """Read up to the next prompt (or one of ``extra``), answering pagers.

    Returns the text before it (pager prompts left out), its match, and
    whether it was a prompt (``False``: one of ``extra``).
    """
    prompts = prompts_of(session)
    extra = extra or []
    pagers = _pagers(session)
    state = state_of(session)
    state.terminal = state.terminal or columns_of(session) is not None
    margin = [MARGIN] if state.terminal else []  # (a terminal's only: see ``at_margin``)
    patterns = [*prompts, *extra, *(p for p, _ in pagers), *margin]
    parts: list[str] = []
    sent = 0  # (parts[:sent]: read before a pager was answered, kept consumed)
    what = what_prompt(session)
    while True:
        # (text read past, refused as a prompt: the evidence's, unread again at a failure)
        earlier, held = ("".join(parts[:sent]), "".join(parts[sent:])) if parts else ("", "")
        try:
            m = await expect_named(session, patterns, deadline, what, earlier, held)
        except BaseException as exc:
            give_back(session, held)
            named = None
            if isinstance(exc, (ExpectTimeout, ExpectEOF)):
                named = _question_named(session, exc)
            if named is None:
                raise
            raise named from None
        if m.pattern is MARGIN:
            found = at_margin(session, "".join(parts), m, prompts)
            if found is None:  # output after all: read on, from the \r (a pattern may
                parts.append(m.before)  # look behind at it; MARGIN, after \r\n, cannot)
                give_back(session, m.after)
                continue
            m, parts = found, []  # (its before holds what was read before it)
        elif m.index < len(prompts):
            # (output shaped like a wrapped prompt, or like one drawn again)
            if not fits(session, m.after, state.seen_text) or _not_redrawn(m, parts):
                parts.append(m.before + m.after)
                continue
            m = rows_above(session, "".join(parts), _unglue(session, m, len(prompts) - 1))
            parts = []
        if m.index < len(prompts):
            m, head = _drawn(session, m) if may_be_drawn(m.before) else (m, 0)
            _learn(session, m.after, head)
        parts.append(m.before)
        if m.index < len(prompts) + len(extra):
            return "".join(parts), m, m.index < len(prompts)
        response = pagers[m.index - len(prompts) - len(extra)][1]
        session.log.debug("answering pager prompt %r", escape(session.redact(m.after)))
        try:
            await session.send(response)
        except BaseException:  # (cancelled: the key goes all the same, its prompt answered)
            give_back(session, "".join(parts[sent:]))  # (the page: as at a failure)
            raise
        sent = len(parts)


def _not_redrawn(m: Match, parts: list[str]) -> bool:
    """Whether ``m``, a prompt followed by spaces and backspaces (ksh93's
    editor drawing its first prompt again), is output instead: ksh93 starts
    that redraw with ``\\r``; a line's start after a line end is output's
    (``printf 'a\\n$  \\b'`` ended the answer at ``a``)."""
    if not m.after.endswith("\x08"):
        return False
    before = m.before or "".join(parts)
    return bool(before) and not before.endswith("\r")


def _question_named(session: Session, exc: ExpectError) -> ExpectError | None:
    """``exc`` (a time-out or end of file waiting for a prompt) saying what
    to do about the login question its text ends with; ``None`` if it ends
    with none.  The question is quoted from its line's start, redacted."""
    text = exc.before
    if not isinstance(text, str):
        return None
    kind = question_kind(session, text[-QUESTION_TAIL:])
    if kind is None:
        return None
    asked = question_line(session, text)
    if isinstance(exc, ExpectEOF):
        why = f"the peer asked {asked!r} (a login question) and then ended"
    else:
        why = f"the peer asks {asked!r}, which is no prompt: {WAYS_OUT[kind]}"
    return type(exc)(f"{exc}; {why}", before=exc.before, patterns=exc.patterns)


#: How much of the text's end a login question is looked for in (a question
#: is one short line: the shipped ones are at most about 100 characters).
QUESTION_TAIL = 300


def question_line(session: Session, text: str) -> str:
    """The last line of ``text`` (a question, from its line's start: ``[sudo]
    password for ann:``), at most ``QUESTION_TAIL`` characters, stripped and
    escaped for a message.  Secrets are masked before anything is cut away
    (the text's start, the lines above, spaces), so that no part of one a
    cut goes through is left in clear."""
    tail = tail_of(session._redactor, text, QUESTION_TAIL)
    return escape(re.split(r"[\r\n]", tail)[-1].strip())


def question_kind(session: Session, text: str) -> str | None:
    """``"password"`` or ``"login"`` if ``text`` ends with such a question of
    the session's driver, else ``None``.  Its patterns are searched in the
    text as received, as ``login`` searches them: a question is named as one
    ``login`` answers only if it does (the shipped patterns allow colours
    around the word: ``\x1b[1mPassword\x1b[0m:``)."""
    for kind in ("password", "login"):
        if any(p.search(text) for p in patterns_of(session, f"{kind}_patterns")):
            return kind
    return None


def at_prompt(session: Session, text: Any) -> bool:
    """Whether ``text`` (str: bytes mode has no prompts) ends with a prompt,
    nothing visible after it."""
    return isinstance(text, str) and next(prompts_ending(session, text), None) is not None


def prompts_ending(session: Session, tail: str) -> Iterator[str]:
    """The prompts that ``tail`` ends with, nothing visible after them: each
    pattern's last match there, if it ``fits`` (output such as ``a:bb\rcc
    dd# `` is no wrapped prompt, as ``read_to_prompt`` tells); and, as it
    finds one too, a coloured prompt that readline wrapped (``MARGIN``)."""
    prompts = prompts_of(session)
    for p in prompts:
        found = list(p.finditer(tail))  # (a tail: a few hundred characters)
        if found and not strip_ansi(tail[found[-1].end() :]).strip():
            prompt = found[-1].group(0)
            if fits(session, prompt, state_of(session).seen_text):
                yield prompt
    row = MARGIN.search(tail) if WRAP in tail else None
    if row is not None:
        m = Match(0, MARGIN, tail[: row.start()], row.group(), None, 0, None)
        whole = at_margin(session, "", m, prompts)
        if whole is not None:
            yield whole.after


def questions(session: Session) -> list[re.Pattern[str]]:
    """The driver's login and password questions, each found without
    consuming it (also under ``set_prompt``: a question is never a prompt to
    type the next command at; a prompt that looks like one matches first)."""
    asks = [*patterns_of(session, "login_patterns"), *patterns_of(session, "password_patterns")]
    return [peek(p) for p in asks]


def peek(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` found without consuming it: its match is empty, where it
    starts (re caches the compiled lookahead)."""
    return re.compile(f"(?=(?:{pattern_body(pattern)}))", pattern.flags)


async def more_within(session: Session, deadline: Deadline, wait: float, beyond: int = 0) -> bool:
    """Whether more than ``beyond`` characters are buffered within ``wait``
    seconds (nothing is consumed)."""
    more = re.compile(f"(?=[\\s\\S]{{{beyond + 1}}})")  # (empty) once enough is buffered
    try:
        await session.expect(more, timeout=deadline.within(wait).left())
    except ExpectError:
        return False
    return True
