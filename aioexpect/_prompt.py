"""Prompt handling for a Session: expect_prompt, execute (the login dialog,
built on these, is ``_login``; ``set_unique_prompt`` is ``_unique_prompt``).

Per-session state lives here (weakly keyed by the session): whether a prompt
was seen (*synced*), for which driver the init commands ran, and the
continuation prompt ``set_unique_prompt`` installed.  Rules:

- Rule 1: nothing is read that the call does not need: ``driver="auto"`` is
  resolved from the text these calls consume up to and including the first
  prompt, never by reading ahead.
- Rule 2: every call has one deadline (its ``timeout``) for all its waits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import weakref
from typing import TYPE_CHECKING, Any

from . import _driver, _output
from ._ansi import strip_ansi
from ._driver import Driver
from ._exceptions import (
    AuthenticationError,
    BufferFull,
    CommandError,
    ConnectionLostError,
    ExpectEOF,
    ExpectError,
    ExpectTimeout,
)
from ._match import Match
from ._matcher import alternation, pattern_body
from ._reading import EVIDENCE, drop, lost, tail_of, take_all
from ._redact import escape

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["execute", "expect_prompt"]

#: How long ``execute`` waits for the prompt a line editor redraws after
#: ``set_winsize`` (it comes within milliseconds; a plain ``sh`` sends none).
REDRAW_WAIT = 0.2
#: How long a login question must stand, nothing after it, before execute
#: says the peer asks it (output may pause at a line like ``user:``).
QUESTION_WAIT = 2.0
END = r"(?:\x1b\[[0-?]{0,24}[ -/]{0,2}[@-~]| ){0,8}\Z"


@dataclasses.dataclass
class _State:
    synced: bool = False  # a prompt was seen, or the caller read past it
    late: bool = False  # the last execute timed out: its answer may follow
    #: A prompt is owed (an execute was cancelled or overflowed, or a person
    #: typed a line in ``interact``): how much had been consumed then.  It
    #: holds while nobody reads: a caller who reads on takes it over.
    owed: int | None = None
    init_for: Driver | None = None
    continuation: re.Pattern[str] | None = None
    #: The last prompt, as text: found also where output without a final
    #: line end runs into it (``printf x`` gives ``xbash-5.2# ``), which
    #: the drivers' patterns, anchored at a line start, do not match.
    seen: re.Pattern[str] | None = None
    seen_text: str = ""  # what ``seen`` finds
    #: The terminal was resized: a line editor may redraw its prompt.
    resized: bool = False
    #: ... and no redraw came within ``REDRAW_WAIT``: it may still come, in
    #: front of the next command's echo.
    redraw_due: bool = False
    prompt_text: str = ""  # the last prompt read, as received


_states: weakref.WeakKeyDictionary[Any, _State] = weakref.WeakKeyDictionary()


def state_of(session: Session) -> _State:
    state = _states.get(session)
    if state is None:
        state = _states[session] = _State()
    return state


class Deadline:
    """One deadline shared by every wait of a call (``None``: no deadline)."""

    __slots__ = ("_end", "_loop")

    def __init__(self, timeout: float | None) -> None:
        self._loop = asyncio.get_running_loop()
        self._end = None if timeout is None else self._loop.time() + timeout

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
    seen = state_of(session).seen
    return prompts if seen is None else [*prompts, seen]


def _learn(session: Session, prompt: str) -> None:
    """Remember a prompt the patterns found, if it is distinctive enough
    (three visible characters or more: not a bare ``$ ``) to be found
    anywhere at the end of the output."""
    state = state_of(session)
    state.prompt_text = prompt  # (for a late redraw, whatever the patterns)
    if session._prompt_override is not None:
        return
    if prompt == state.seen_text:
        return  # known already (the same prompt comes after every command)
    if len(strip_ansi(prompt).strip()) >= 3:
        state.seen = re.compile(re.escape(prompt) + r"\Z")  # re caches it
        state.seen_text = prompt


def _unglue(session: Session, m: Match, seen_index: int) -> Match:
    """A prompt match that ends with the learned prompt but is longer holds
    output glued to it (``printf x`` gives ``xbash-5.2# ``, and the generic
    pattern takes it all): that part goes back to ``before``.  So does the
    part before a prompt that begins as the learned one and then differs
    (``cd /tmp && printf w`` gives ``wroot@vm:/tmp# `` after ``root@vm:~# ``)."""
    state = state_of(session)
    seen = state.seen
    if seen is None or m.pattern is seen or session._prompt_override is not None:
        return m
    found = seen.search(m.after)
    if found is not None:
        if not found.start():
            return m
        # span() offsets: found's positions count from the start of m.after
        before = m.before + m.after[: found.start()]
        return Match(seen_index, seen, before, found.group(), found, -len(m.before), m._redact)
    start = _changed_prompt_start(state.seen_text, m.after)
    rest = m.after[start:]
    again = m.pattern.match(rest) if start else None  # (``^`` matches at its start)
    if again is None or again.end() != len(rest):
        return m
    before = m.before + m.after[:start]
    return Match(m.index, m.pattern, before, rest, again, -len(before), m._redact)


def _changed_prompt_start(learned: str, text: str) -> int:
    """Where in ``text`` (a prompt match) a prompt starts that begins as the
    ``learned`` one (its user and host, say, before a directory that
    changed), if not at 0: a good part of it alike, and more than at 0."""
    need = max(3, min(8, len(learned) // 2))
    if _alike(learned, text) >= need:
        return 0  # the prompt itself, changed further on
    for start in range(1, len(text) - need + 1):
        if _alike(learned, text[start:]) >= need:
            return start
    return 0


def _alike(a: str, b: str) -> int:
    """The length of the longest common prefix of ``a`` and ``b``."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _pagers(session: Session) -> list[tuple[re.Pattern[str], str]]:
    drivers = _driver.registered() if auto_driver(session) else (session.driver,)
    out: dict[tuple[str, int], tuple[re.Pattern[str], str]] = {}
    for driver in drivers:
        for p in driver.pager_patterns:
            out.setdefault((p.pattern, p.flags), (p, driver.pager_response))
    return list(out.values())


def guess_driver(session: Session, text: str) -> None:
    """Settle ``driver="auto"`` from the text read up to the first prompt."""
    if not auto_driver(session):
        return
    found = _driver.guess(strip_ansi(text))
    session.driver = found if found is not None else session.driver
    session.log.debug("driver=auto: using %s", session.driver.name)


def require_text(session: Session) -> None:
    if session.encoding is None:
        raise TypeError(
            "prompt handling needs a text session; this one was opened with encoding=None"
        )


def evidence_of(session: Session, text: str) -> str:
    return repr(tail_of(session._redactor, text))  # repr escapes control characters, once


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
) -> Match:
    """``session.expect`` with a message that names what was awaited in words
    (the patterns themselves stay on the exception's ``.patterns``); its
    evidence starts with ``earlier``, text this dialog already consumed."""
    try:
        return await session.expect(patterns, timeout=deadline.left())
    except ConnectionLostError as exc:
        cause = exc.__cause__ or exc
        raise lost(what, cause, evidence_of(session, earlier + session.buffer)) from cause
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
        evidence = evidence_of(session, earlier + exc.before)
        error = type(exc)(message + evidence, before=exc.before, patterns=exc.patterns)
        raise error from None


# -- reading up to the prompt ------------------------------------------------------


async def _read_to_prompt(
    session: Session, deadline: Deadline, extra: list[re.Pattern[str]] | None = None
) -> tuple[str, Match, bool]:
    """Read up to the next prompt (or one of ``extra``), answering pagers.

    Returns the text before it (pager prompts left out), its match, and
    whether it was a prompt (``False``: one of ``extra``).
    """
    prompts = prompts_of(session)
    extra = extra or []
    pagers = _pagers(session)
    patterns = [*prompts, *extra, *(p for p, _ in pagers)]
    parts: list[str] = []
    what = what_prompt(session)
    while True:
        m = await expect_named(session, patterns, deadline, what)
        if m.index < len(prompts):
            m = _unglue(session, m, len(prompts) - 1)
            _learn(session, m.after)
        parts.append(m.before)
        if m.index < len(prompts) + len(extra):
            return "".join(parts), m, m.index < len(prompts)
        response = pagers[m.index - len(prompts) - len(extra)][1]
        session.log.debug("answering pager prompt %r", escape(m.after))
        await session.send(response)


def with_before(m: Match, before: str) -> Match:
    """``m`` with a longer ``before`` (``span()`` stays relative to before + after)."""
    if before == m.before:
        return m
    shift = len(before) - len(m.before)
    return dataclasses.replace(m, before=before, _offset=m._offset - shift)


async def expect_prompt(session: Session, timeout: float | None) -> Match:
    """Wait for the prompt; answer pagers on the way; settle ``driver="auto"``."""
    require_text(session)
    before, m, _ = await _read_to_prompt(session, Deadline(timeout))
    guess_driver(session, before + m.after)
    state_of(session).synced = True
    return with_before(m, before)


# -- execute -------------------------------------------------------------------------


async def execute(session: Session, command: str, timeout: float | None) -> str:
    """Send ``command``, read up to the prompt, return the cleaned output."""
    if not isinstance(command, str):
        raise TypeError(f"execute takes a str command, not {type(command).__name__}")
    if "\n" in command or "\r" in command:
        raise ValueError("execute runs one line; send multi-line input with sendline()")
    require_text(session)
    deadline = Deadline(timeout)
    state = state_of(session)
    answer_due = state.late or state.owed is not None  # an execute's, an interact's
    try:
        await _sync(session, state, deadline)
    except ExpectTimeout as exc:
        shown = escape(session.redact(command))
        if answer_due and _may_still_run(exc.before):
            # Nothing, or whole lines: the last command may still be running.
            # The next execute waits for its prompt again rather than type
            # into it (a pager, a password question, a command reading input).
            state.synced, state.owed = False, session._buffer.consumed
            raise ExpectTimeout(
                f"command {shown!r} not sent: {exc} (the command before may still be"
                " running: wait, or stop it with sendintr())",
                before=exc.before,
                patterns=exc.patterns,
            ) from None
        # Text that ends in the middle of a line: a prompt no pattern knows.
        # The next execute does not wait for it again, or one unrecognised
        # prompt would fail every later command; what was received goes
        # with this error (its ``before``), not into the next command's output.
        state.synced, state.late, state.owed = True, False, None
        take_all(session)
        raise ExpectTimeout(
            f"command {shown!r} not sent: {exc}",
            before=exc.before,
            patterns=exc.patterns,
        ) from None
    await run_init(session, state, deadline)
    return await _run(session, state, command, deadline)


def _may_still_run(text: str) -> bool:
    """Whether what came since the last prompt (``text``) leaves the command
    before possibly still running: nothing visible, or whole lines only.  A
    last line without its end is rather a prompt no pattern knows."""
    shown = strip_ansi(text).rstrip(" \t")
    return not shown.strip() or shown.endswith(("\n", "\r"))


def owe(session: Session) -> None:
    """The prompt that ends an answer is still to come: the next ``execute``
    reads to it before sending, unless the caller reads on meanwhile."""
    state = state_of(session)
    state.synced, state.owed = False, session._buffer.consumed


def interacted(session: Session, tail: Any, typed: bool, sent: bool) -> None:
    """After ``interact``/``attach``: a line typed since the output last
    ended at a prompt, or output that does not end at one, means a command
    may still answer.  Otherwise what was sent before, by the person
    (``sent``) or by the program, was answered if the output shown ended at
    a prompt: it is not taken for the caller's unanswered send."""
    if isinstance(tail, str) and (typed or (tail and not at_prompt(session, tail))):
        owe(session)
    elif sent or tail:
        session._sent_at = None


def at_prompt(session: Session, text: Any) -> bool:
    """Whether ``text`` (str: bytes mode has no prompts) ends with a prompt,
    nothing visible after it."""
    if not isinstance(text, str):
        return False
    for p in prompts_of(session):
        found = list(p.finditer(text))  # (a tail: a few hundred characters)
        if found and not strip_ansi(text[found[-1].end() :]).strip():
            return True
    return False


async def _sync(session: Session, state: _State, deadline: Deadline) -> None:
    """Get to a prompt before sending anything.

    Prompts already buffered (and what precedes them) belong to earlier
    commands and are consumed.  A fresh session (no prompt seen here, nothing
    read by the caller) first waits for its prompt, so the command is not
    typed ahead of a starting shell; so does one whose last execute timed
    out with part of the answer buffered, and one owed a prompt: after a
    cancelled execute, an ``interact``, or anything the caller sent and has
    not read the answer of (``sendintr`` at a prompt, ``send_secret`` to
    ``su``).
    """
    if session._sent_at == session._buffer.consumed and state.owed is None:
        owe(session)  # the caller sent, and read nothing since
    prompts = prompts_of(session)
    consumed: list[str] = []
    if state.resized:
        state.resized, state.redraw_due = False, False
        try:
            before, m, _ = await _read_to_prompt(session, deadline.within(REDRAW_WAIT))
            consumed.append(before + m.after)
        except ExpectTimeout:  # a shell that does not redraw, or a late redraw
            state.redraw_due = True
    while len(session._buffer) and any(p.search(session.buffer) for p in prompts):
        before, m, _ = await _read_to_prompt(session, Deadline(0))
        consumed.append(before + m.after)
        if not before + m.after:
            break  # a prompt pattern that matches the empty string
    if consumed:
        guess_driver(session, "".join(consumed))
        state.synced, state.late, state.redraw_due = True, False, False
        return
    if state.synced:
        return
    text = ""
    owed = state.owed is not None and state.owed == session._buffer.consumed
    late = owed or (state.late and bool(strip_ansi(session.buffer).strip()))
    if late or _untouched(session):
        text = await _catch_up(session, state, deadline)  # (cancelled: still owed)
    guess_driver(session, text)  # the caller consumed the first prompt: no evidence left
    state.synced, state.late, state.owed = True, False, None


async def _catch_up(session: Session, state: _State, deadline: Deadline) -> str:
    """Read to the next prompt.  Past ``max_buffer`` (an earlier execute raised
    ``BufferFull`` for this output already) what arrives is dropped, but for
    the last ``EVIDENCE`` characters, where the prompt may begin.  A login
    question instead (a device not logged in, ``sudo`` asking), with nothing
    after it for ``QUESTION_WAIT``, is an ``AuthenticationError`` rather than
    a time-out; the question stays buffered, and the prompt still owed."""
    questions = _questions(session)
    while True:
        try:
            before, m, is_prompt = await _read_to_prompt(session, deadline, questions)
        except BufferFull:
            if not drop(session, keep=EVIDENCE):  # a max_buffer too small for any prompt
                raise
            if state.owed is not None:
                state.owed = session._buffer.consumed  # still owed, if cancelled now
            continue
        if is_prompt:
            return str(before + m.after)
        if await _more(session, deadline, QUESTION_WAIT, beyond=len(session._buffer)):
            continue  # output that only paused there ("user:"): read on
        state.owed = session._buffer.consumed  # a retry must not type into the dialog
        asked = escape(session.redact(session.buffer.strip()))
        raise AuthenticationError(
            f"the peer asks {asked!r} instead of showing a prompt: log in (login(), or"
            " a user name: connect_telnet's, run_many's Account, the CLI's --user)"
            " or answer it (send_secret())"
        )


def _questions(session: Session) -> list[re.Pattern[str]]:
    """The driver's login and password questions, each found without
    consuming it (also under ``set_prompt``: a question is never a prompt to
    type the next command at; a prompt that looks like one matches first)."""
    asks = [*patterns_of(session, "login_patterns"), *patterns_of(session, "password_patterns")]
    return [re.compile(f"(?=(?:{pattern_body(p)}))", p.flags) for p in asks]  # (re caches)


def resized(session: Session) -> None:
    """Called by ``set_winsize``: bash's readline and zsh's ZLE redraw their
    prompt on SIGWINCH, a few milliseconds later; the next ``execute``
    waits for that prompt (``REDRAW_WAIT`` at most) before it sends, or the
    redraw could pass for the end of the command's output; a later redraw is
    taken out of the answer (``_past_redraw``)."""
    state_of(session).resized = True


def _untouched(session: Session) -> bool:
    """Whether the caller has read nothing from the session yet.

    Exact where the buffer counts what was consumed; otherwise: nothing
    received yet, or visible text (a banner) but no prompt.
    """
    consumed = getattr(session._buffer, "consumed", None)
    if isinstance(consumed, int):
        return consumed == 0
    return session.bytes_in == 0 or bool(strip_ansi(session.buffer).strip())


async def run_init(session: Session, state: _State, deadline: Deadline) -> None:
    """Send the driver's init commands once per driver; failures only warn."""
    driver = session.driver
    if state.init_for is driver or auto_driver(session):
        return
    state.init_for = driver
    for command in driver.init_commands:
        try:
            await _run(session, state, command, deadline)
        except CommandError as exc:
            session.log.warning(
                "init command %r of driver %s failed: %s", command, driver.name, exc
            )
        except ExpectError as exc:  # no prompt after it: say which command that was
            raise type(exc)(
                f"init command {command!r} of driver {driver.name}: {exc}",
                before=exc.before,
                patterns=exc.patterns,
            ) from None


async def _run(session: Session, state: _State, command: str, deadline: Deadline) -> str:
    try:
        await session.sendline(command)  # refused (ValueError...): nothing was sent
    except asyncio.CancelledError:
        owe(session)  # the rest of the line is written all the same
        raise
    try:
        return await _answer(session, state, command, deadline)
    except ExpectTimeout:
        # The device may still answer: the next execute first waits for the
        # prompt that ends this answer (if any of it is buffered).
        state.synced, state.late = False, True
        raise
    except CommandError:
        raise  # the prompt came: in step
    except BaseException:
        # Cancelled, or more output than max_buffer: the answer is still on
        # its way, and the next execute first reads to its prompt.
        owe(session)
        raise


async def _answer(session: Session, state: _State, command: str, deadline: Deadline) -> str:
    """Read the answer to ``command`` (sent) up to the prompt; clean it."""
    extra = [state.continuation] if state.continuation is not None else []
    last_prompt = state.prompt_text  # what a late redraw repeats (the answer may change it)
    raw, _m, is_prompt = await _read_to_prompt(session, deadline, extra)
    if state.redraw_due:
        state.redraw_due = False
        prompts = (last_prompt, state.prompt_text)
        raw, is_prompt = await _past_redraw(
            session, (raw, is_prompt), prompts, command, deadline, extra
        )
    # Over pipes no terminal echoes, but bash -i echoes on its stderr: the
    # same echo rule serves both.
    output = _output.clean_output(raw, command)
    shown = escape(session.redact(command))
    if not is_prompt:
        await _interrupt(session, deadline)
        raise CommandError(
            f"command {shown!r} is incomplete: the shell asked for more input (cancelled)",
            command=command,
            output=output,
        )
    found = _first_error(session.error_patterns, output)
    if found is not None:
        line = escape(session.redact(found.group(0).strip()))
        raise CommandError(f"command {shown!r} failed: {line}", command=command, output=output)
    return output


async def _past_redraw(
    session: Session,
    answer: tuple[str, bool],
    prompts: tuple[str, str],
    command: str,
    deadline: Deadline,
    extra: list[re.Pattern[str]],
) -> tuple[str, bool]:
    """The answer without a prompt redrawn late (after ``REDRAW_WAIT``, on a
    busy machine) in front of the echo: alone (a prompt after nothing but
    the redraw's carriage return and erasing, with more data behind it), or
    on the echo's line (``\\r\\x1b[K<prompt><command>``, which is not an
    echo by itself).  ``prompts``: the one shown before the command, which
    the redraw repeats, and the one that ended the answer."""
    raw, is_prompt = answer
    redrawn = is_prompt and "\r" in raw and "\n" not in raw and not strip_ansi(raw).strip()
    if redrawn and await _more(session, deadline, REDRAW_WAIT):
        raw, _m, is_prompt = await _read_to_prompt(session, deadline, extra)
    line_end = raw.find("\n")
    # As received, or as redrawn: without the modes set in front of it (bash's
    # bracketed paste), or without any control sequence.
    forms = (form for p in prompts for form in (p, _LEADING_CSI.sub("", p), strip_ansi(p)))
    for text in dict.fromkeys(forms):
        # The first one: nothing visible may come before it.
        at = raw.find(text, 0, line_end) if text and line_end > 0 else -1
        rest = raw[at + len(text) :]
        if at >= 0 and not strip_ansi(raw[:at]).strip() and _output.echo_end(rest, command):
            return rest, is_prompt
    return raw, is_prompt


_LEADING_CSI = re.compile(r"\A(?:\x1b\[[0-?]*[ -/]*[@-~])+")


async def _more(session: Session, deadline: Deadline, wait: float, beyond: int = 0) -> bool:
    """Whether more than ``beyond`` characters are buffered within ``wait``
    seconds (nothing is consumed)."""
    more = re.compile(f"(?=[\\s\\S]{{{beyond + 1}}})")  # (empty) once enough is buffered
    try:
        await session.expect(more, timeout=deadline.within(wait).left())
    except ExpectError:
        return False
    return True


def _first_error(patterns: tuple[re.Pattern[str], ...], output: str) -> re.Match[str] | None:
    """The match of the first of ``patterns``, in their order, that matches
    ``output``.  Most output has no error: one pass of their alternation
    says so, at a third of the cost of three."""
    if len(patterns) > 1:
        together = alternation(patterns)
        if together is not None and together.search(output) is None:
            return None
    for pattern in patterns:
        found = pattern.search(output)
        if found is not None:
            return found
    return None


async def _interrupt(session: Session, deadline: Deadline) -> None:
    """Ctrl-C, then the prompt.  A shell reading without a line editor (zsh
    with ZLE off, as ``set_unique_prompt`` leaves it) drops the line but
    prints no prompt until the next one: an empty line is sent if none came
    within a second."""
    await session.sendintr()
    try:
        await _read_to_prompt(session, deadline.within(1.0))
    except ExpectTimeout:
        await session.sendline("")
        await _read_to_prompt(session, deadline)
