"""Prompt handling for a Session: expect_prompt, execute (the login dialog,
built on these, is ``_login``; ``set_unique_prompt`` is ``_unique_prompt``).

The per-session state (``_prompt_read``) says whether a prompt was seen
(*synced*) or is owed, for which driver the init commands ran, and the
continuation prompt ``set_unique_prompt`` installed.  Rules:

- Rule 1: nothing is read that the call does not need: ``driver="auto"`` is
  resolved from the text these calls consume up to and including the first
  prompt, never by reading ahead.
- Rule 2: every call has one deadline (its ``timeout``) for all its waits.
"""

from __future__ import annotations

import asyncio
import functools
import re
from typing import TYPE_CHECKING

from . import _output
from ._ansi import strip_ansi
from ._command_questions import command_question, question_unread
from ._error_search import first_error
from ._exceptions import AuthenticationError, BufferFull, CommandError, ExpectError, ExpectTimeout
from ._match import Match
from ._prompt_read import (
    Deadline,
    PromptState,
    auto_driver,
    evidence_of,
    guess_driver,
    in_step,
    more_within,
    owe,
    prompts_of,
    question_kind,
    question_line,
    questions,
    read_to_prompt,
    require_idle,
    require_prompts,
    shown_command,
    state_of,
    what_prompt,
)
from ._prompt_send import ALWAYS_FITS, REST_UNSENT, one_enter, rest_written, send_timed
from ._prompt_text import LEADING_CSI
from ._prompt_wrap import with_before
from ._reading import drop, take_all
from ._redact import escape
from ._stale import STALE_WAIT, late_answer, note_prompt, own_answer, report_dropped
from ._typed import (
    carry,
    counted,
    ends_at_prompt,
    forget,
    read_typed,
    still_owed,
    typed_due,
)
from ._typed_echo import past_earlier
from ._ways_out import WAYS_OUT

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["execute", "expect_prompt", "first_prompt"]

#: How long ``execute`` waits for the prompt a line editor redraws after
#: ``set_winsize`` (it comes within milliseconds; a plain ``sh`` sends none).
REDRAW_WAIT = 0.2
#: How long, after a redraw that came alone in front of the echo (late, on
#: a busy machine), ``execute`` waits for the rest of its answer behind it.
LATE_REDRAW_WAIT = 0.2
#: How long a login question must stand, nothing after it, before execute
#: says the peer asks it (output may pause at a line like ``user:``).
QUESTION_WAIT = 2.0
#: How long in all a catch-up reads on past its prompt for the answer of a
#: command typed ahead into the one it caught up with (``_past_typed_ahead``).
TYPED_AHEAD_WAIT = 1.0


async def expect_prompt(session: Session, timeout: float | None) -> Match:
    """Wait for the prompt; answer pagers on the way; settle ``driver="auto"``."""
    require_prompts(session)
    state = state_of(session)
    with counted(session, state, _untouched(session)) as typed:  # (lines sent: their prompts)
        before, m, _ = await read_to_prompt(session, Deadline(timeout))
    guess_driver(session, before + m.after, m.after)
    in_step(state)
    carry(session, state, typed, before + m.after)  # (the next execute reads the rest)
    return with_before(m, before)


async def first_prompt(session: Session, timeout: float | None, way_out: str | None = None) -> None:
    """Read a fresh session to its first prompt and consume it, as ``execute``
    does before its first command (``run_many`` before the job): a login
    question with nothing after it is an ``AuthenticationError`` whose
    message ends with ``way_out`` (``None``: what fits the question asked,
    from ``WAYS_OUT``), not a wait for the whole ``timeout``."""
    require_prompts(session)
    await _sync(session, state_of(session), Deadline(timeout), way_out)


# -- execute -------------------------------------------------------------------------


async def execute(session: Session, command: str, timeout: float | None) -> str:
    """Send ``command``, read up to the prompt, return the cleaned output."""
    if not isinstance(command, str):
        raise TypeError(f"execute takes a str command, not {type(command).__name__}")
    if "\n" in command or "\r" in command:
        raise ValueError("execute runs one line; send multi-line input with sendline()")
    require_prompts(session)
    require_idle(session)  # (a synced session would send before reading)
    deadline = Deadline(timeout)
    state = state_of(session)
    answer_due = state.late or state.owed is not None  # an execute's, an interact's
    # Cancelled or past max_buffer: not a time-out's (whose "not sent" owes
    # the prompt too, with the time-out still noted).
    overflowed = state.owed is not None and not state.late
    try:
        caught_up = await _sync(session, state, deadline, command=command)
    except ExpectTimeout as exc:
        asked = command_question(session, exc.before)
        if asked is not None:
            # A question a command asks ([confirm]): typed into it, this
            # command's first key would answer it, or its line be the file
            # name.  Nothing is taken: each next execute waits for the prompt
            # again, and says so again while the text still ends with it.
            owe(session)
            raise _not_sent(session, command, exc, asked) from None
        if ((answer_due or still_owed(session, state)) and _may_still_run(exc.before)) or state.cut:
            # Nothing, or whole lines: the last command may still be running.
            # The next execute waits for its prompt again rather than type
            # into it (a pager, a password question, a command reading input).
            # So while lines sent before owe their prompts (a send cut short: ``_typed``),
            # but for those read on to from a prompt: in step there (``_typed.left_owed``).
            if not state.synced:
                owe(session)
            why = " (the command before may still be running: wait, or stop it with sendintr())"
            why = REST_UNSENT if state.cut else why
            raise _not_sent(session, command, exc, why) from None
        # Text that ends in the middle of a line: a prompt no pattern knows.
        # The next execute does not wait for it again, or one unrecognised
        # prompt would fail every later command; what was received goes
        # with this error (its ``before``), not into the next command's output.
        in_step(state)
        take_all(session)
        raise _not_sent(session, command, exc) from None
    _not_into_a_question(session, command)
    # An answer was owed but no prompt was read for it (the caller read part
    # of it, or none had come): this command may be typed into it.  Not after
    # a time-out: the caller's own expect of the prompt (pexpect's way) is
    # not seen here, and a look past the next prompt would wait for nothing.
    state.ahead = state.ahead or (overflowed and not caught_up)  # (or set by a look: _at_prompt)
    try:
        await run_init(session, state, deadline)
        return await _run(session, state, command, deadline)
    except ExpectTimeout as exc:  # (the next execute says "not sent" the same way)
        asked = command_question(session, exc.before)
        if asked is None:
            raise
        raise ExpectTimeout(f"{exc}{asked}", before=exc.before, patterns=exc.patterns) from None


def _not_sent(session: Session, command: str, exc: ExpectTimeout, why: str = "") -> ExpectTimeout:
    """The error of an ``execute`` whose catch-up to a prompt timed out
    (``exc``): its command was not sent, for ``why``."""
    shown = shown_command(session, command)
    return ExpectTimeout(
        f"command {shown!r} not sent: {exc}{why}", before=exc.before, patterns=exc.patterns
    )


def _not_into_a_question(session: Session, command: str) -> None:
    """Refuse to send ``command`` where the text not read yet ends with a
    question a command asks: the caller read part of the answer themselves
    (its echo, with ``expect``), or more came after the prompt read.  As at
    a time-out at one: nothing is sent, the prompt is owed, the question is
    named; at once, as nothing but the caller can answer it."""
    asked = question_unread(session)
    if asked is None:
        return
    owe(session)
    before = session.buffer
    raise ExpectTimeout(
        f"command {shown_command(session, command)!r} not sent: the text received ends"
        f" with a question, not {what_prompt(session)}; last characters received:"
        f" {evidence_of(session, before)}{asked}",
        before=before,
        patterns=prompts_of(session),
    )


def _may_still_run(text: str) -> bool:
    """Whether what came since the last prompt (``text``) leaves the command
    before possibly still running: nothing visible, or whole lines only.  A
    last line without its end is rather a prompt no pattern knows."""
    shown = strip_ansi(text).rstrip(" \t")
    return not shown.strip() or shown.endswith(("\n", "\r"))


def _unread(session: Session, state: PromptState) -> str | None:
    """The command of the last ``execute``, if nothing was read nor sent
    since it sent it: timed out or cancelled before any of its answer came."""
    sent = state.sent
    if sent is None or session._sent_at != session._buffer.consumed:
        return None
    return sent[0] if (session._sent_at, session.bytes_out) == sent[1:] else None


async def _sync(
    session: Session,
    state: PromptState,
    deadline: Deadline,
    way_out: str | None = None,
    command: str | None = None,
) -> bool:
    """Get to a prompt before sending anything; return whether one was read.

    Prompts already buffered (and what precedes them) belong to earlier
    commands and are consumed.  A fresh session (no prompt seen here, nothing
    read by the caller) first waits for its prompt, so the command is not
    typed ahead of a starting shell; so does one whose last execute timed
    out with part of the answer buffered, and one owed a prompt: after a
    cancelled execute, an ``interact``, or anything the caller sent and has
    not read the answer of (``sendintr`` at a prompt, ``send_secret`` to
    ``su``; several lines: a prompt for each, ``_typed``).  The answer of
    an execute that gave up before any of it came may begin with the rest
    of an early one (``_stale.late_answer``); what answers a line the
    caller sent is not taken for such a rest.
    """
    late, carried, start = _unread(session, state), state.typed, session._buffer.consumed
    typed = _sent_since(session, state, late)
    shown = state.prompt_text  # (the prompt ``late`` was typed at)
    prompts = prompts_of(session)
    consumed: list[str] = []
    if state.resized:  # (cancelled, left so: the next execute waits for the redraw)
        try:
            before, m, _ = await read_to_prompt(session, deadline.within(REDRAW_WAIT))
            consumed.append(before + m.after)
            state.resized, state.redraw_due = False, False
        except ExpectTimeout:  # a shell that does not redraw, or a late redraw
            state.resized, state.redraw_due = False, True
    output = False  # (other than prompts)
    read = 0  # (prompts of commands: not a redraw's)
    while len(session._buffer) and ends_at_prompt(session, prompts):
        before, m, _ = await read_to_prompt(session, Deadline(0))
        read += 1
        if late is not None:  # its answer, maybe after an early one's rest
            consumed.append(await late_answer(session, state, late, (before, m), shown, deadline))
            late = None
            continue
        consumed.append(before + m.after)
        output = output or bool(strip_ansi(before).strip())
        if not before + m.after:
            break  # a prompt pattern that matches the empty string
    if consumed:
        text = "".join(consumed)
        if state.moved and command is not None and output:
            # The rest of an answer that ended early (see ``_stale``), come whole.
            report_dropped(session, command, text, "buffered before it")
        guess_driver(session, text, state.prompt_text)  # (the last prompt read)
        state.redraw_due = False
        await read_typed(session, state, deadline, typed, (read, text))
        await _at_prompt(session, state, deadline, command, state.ahead)
        return True
    if state.synced:
        if typed[0]:  # (the prompts of lines that expect_prompt read one of)
            await read_typed(session, state, deadline, typed, (0, ""))
            in_step(state)
        return False
    text = ""
    owed = state.owed is not None and state.owed == session._buffer.consumed
    due = owed or (state.late and bool(strip_ansi(session.buffer).strip()))
    caught_up = due or _untouched(session)
    if caught_up:
        try:
            before, m = await _catch_up(session, state, deadline, way_out)  # (cancelled: owed)
        except (ExpectTimeout, asyncio.CancelledError) as exc:
            await rest_written(session, typed, (carried, start), not isinstance(exc, ExpectTimeout))
            raise
        text = before + m.after
        if late is not None:
            text = await late_answer(session, state, late, (before, m), shown, deadline)
        guess_driver(session, text, state.prompt_text)
        await read_typed(session, state, deadline, typed, (1, text))
    else:  # (the caller consumed the first prompt, no evidence left)
        guess_driver(session, text, None)
    await _at_prompt(session, state, deadline, command, state.ahead and caught_up)
    return caught_up


def _sent_since(session: Session, state: PromptState, late: str | None) -> tuple[int, str | None]:
    """What the caller sent and has read nothing of since owes a prompt
    (``owe``); how many, and the last line (``_typed.typed_due``).  ``late``:
    the last line ``execute`` sent, if that was the last thing sent."""
    typed = typed_due(session, state, _untouched(session))
    if session._sent_at == session._buffer.consumed:
        if late is None:
            # The caller sent, and read nothing since: what is buffered answers
            # that, not an execute that returned early (see ``_stale``).
            state.moved = False
        # Owed here, whatever an execute cancelled before left owed at a
        # place the caller has read past since.
        owe(session)
    return typed


async def _at_prompt(
    session: Session, state: PromptState, deadline: Deadline, command: str | None, ahead: bool
) -> None:
    """``_sync`` read to a prompt (or the caller did): in step; but first,
    if a command was typed ahead into the answer that prompt ends, past its
    own.  Cancelled before that look read a prompt, the typed-ahead answer
    is still owed (and ``PromptState.ahead`` still set): the next
    ``execute`` reads to its prompt before sending."""
    coming = False
    if ahead:
        state.synced, state.late, state.owed = False, False, session._buffer.consumed
        coming = await _past_typed_ahead(session, state, deadline, command)
    in_step(state)
    state.ahead = coming  # (the next command is typed into that answer)


async def _catch_up(
    session: Session, state: PromptState, deadline: Deadline, way_out: str | None
) -> tuple[str, Match]:
    """Read to the next prompt; return the text before it and its match.
    Past ``max_buffer`` (an earlier execute raised ``BufferFull`` for this
    output already, or a banner) what arrives is dropped, but for the tail
    where the prompt may begin (``_reading.drop``).  A login
    question instead (a device not logged in, ``sudo`` asking), with nothing
    after it for ``QUESTION_WAIT``, is an ``AuthenticationError`` rather than
    a time-out, saying ``way_out``; the question stays buffered, and the
    prompt still owed."""
    asks = questions(session)
    while True:
        try:
            before, m, is_prompt = await read_to_prompt(session, deadline, asks)
        except BufferFull:
            if not drop(session, "the text before the prompt"):
                raise  # (nothing buffered: nothing to free)
            if state.owed is not None:
                state.owed = session._buffer.consumed  # still owed, if cancelled now
            continue
        if is_prompt:
            return before, m
        if await more_after_question(session, deadline):
            continue  # output that only paused there ("user:"): read on
        state.owed = session._buffer.consumed  # a retry must not type into the dialog
        line = re.split(r"[\r\n]", before)[-1]  # the question's line from its start ("[sudo] ")
        question = line + session.buffer
        asked = question_line(session, before + session.buffer)
        if way_out is None:
            kind = question_kind(session, question) or "login"
            also = ", or answer it with send_secret()" if kind == "login" else ""
            way_out = WAYS_OUT[kind] + also
        raise AuthenticationError(f"the peer asks {asked!r} instead of showing a prompt: {way_out}")


async def _past_typed_ahead(
    session: Session, state: PromptState, deadline: Deadline, command: str | None
) -> bool:
    """After a catch-up read to a prompt while the last command ``execute``
    sent may have been typed into the answer it caught up with
    (``PromptState.ahead``): that prompt may end the earlier answer, the
    typed-ahead command's own answer coming after it (two were outstanding).
    A prompt that follows, each piece within ``STALE_WAIT`` of the one
    before (nothing was sent since), ends that answer: read to it.  Nothing
    is read otherwise: a message after the prompt (syslog, ``wall``) with no
    prompt after it stays buffered, the early output of the next command,
    and no prompt is owed.  An answer past ``max_buffer`` is dropped on the
    way, as the catch-up drops it (``_reading.drop``: nobody was told of
    its size, but the command was typed into an answer given up on).
    Waits ``TYPED_AHEAD_WAIT`` at most, and returns whether that time ran
    out with the answer still coming (the next command is typed into it).
    Raises nothing but ``CancelledError``: the session is at a prompt then
    once a prompt was read here (whether more were typed ahead, none can
    tell), and before that the answer's prompt is still owed (``_at_prompt``)."""
    shown = "" if command is None else shown_command(session, command)
    session.log.debug(
        "execute(%r): the command before was typed into an earlier answer:"
        " looking for its answer after the prompt that ended that one",
        shown,
    )
    prompts = prompts_of(session)
    wait = deadline.within(TYPED_AHEAD_WAIT)
    try:
        while True:  # (more than one typed ahead: each answer's prompt in turn)
            while not ends_at_prompt(session, prompts):
                if await more_within(session, wait, STALE_WAIT, beyond=len(session._buffer)):
                    continue
                if not _full(session):  # (quiet, or an end of file: the next step says so)
                    return wait.left() == 0
                drop(session, "the answer of the command typed ahead")
                state.owed = session._buffer.consumed if state.owed is not None else None
            await read_to_prompt(session, Deadline(0))
            in_step(state)
    except ExpectError:
        return False  # (a prompt pattern found, but no prompt after all: left as it is)


def _full(session: Session) -> bool:
    """Whether the buffer holds ``max_buffer`` (reading waits for room)."""
    limit = session._max_buffer
    return limit is not None and len(session._buffer) >= limit


async def more_after_question(session: Session, deadline: Deadline) -> bool:
    """Whether more comes within ``QUESTION_WAIT`` after a login question
    (buffered, not consumed): output may pause at a line that only looks
    like one (``user:``, or ``Last login:`` before its date)."""
    return await more_within(session, deadline, QUESTION_WAIT, beyond=len(session._buffer))


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


async def run_init(session: Session, state: PromptState, deadline: Deadline) -> None:
    """Send the driver's init commands once per driver; failures only warn."""
    driver = session.driver
    if any(done is driver for done in state.init_done) or auto_driver(session):
        return
    state.init_done.append(driver)
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


async def _run(session: Session, state: PromptState, command: str, deadline: Deadline) -> str:
    # What came after the last prompt and is no prompt (a device's message,
    # IOS's %SYS-5-CONFIG_I after "end"): the command's echo comes after it.
    early = session.buffer if len(session._buffer) else ""
    sent = state.sent  # (more since its line: a buffer may be full, see send_timed)
    line = command + "\n" if session.linesep == "\n" else one_enter(session, command)
    if state.cut or len(command) + session.bytes_out - (sent[2] if sent else 0) > ALWAYS_FITS:
        what = f"command {shown_command(session, command)!r} ({len(command)} characters)"
        await send_timed(session, deadline, functools.partial(session.send, line), what)
    else:
        try:
            await session.send(line)  # refused (ValueError...): nothing was sent
        except asyncio.CancelledError:
            owe(session)  # the rest of the line is written all the same
            raise
    state.sent = (command, session._buffer.consumed, session.bytes_out)
    try:
        return await _answer(session, state, command, deadline, early)
    except ExpectTimeout:
        # The device may still answer: the next execute first waits for the
        # prompt that ends this answer (if any of it is buffered).
        state.synced, state.late = False, True
        raise
    except CommandError:
        raise  # the prompt came: in step
    except BaseException:
        # Cancelled, or more output than max_buffer: the answer is still on
        # its way, and the next execute first reads to its prompt; unless
        # that prompt was read (cancelled in the moment after it).
        if state.waiting:
            state.waiting = False
            in_step(state)
        else:
            owe(session)
        raise


async def _answer(
    session: Session, state: PromptState, command: str, deadline: Deadline, early: str
) -> str:
    """Read the answer to ``command`` (sent) up to the prompt; clean it.
    ``early``: what was buffered when it was sent, which the answer begins
    with (unless the end of an earlier answer was dropped from it)."""
    extra = [state.continuation] if state.continuation is not None else []
    last_prompt = state.prompt_text  # what a late redraw repeats (the answer may change it)
    raw, m, is_prompt = await read_to_prompt(session, deadline, extra)
    state.ahead = False  # (its prompt, or a question of ``extra``, came)
    # (ksh93's editor draws its first prompt again, spaces and backspaces
    # after it: late, after the first was read, it comes before the echo)
    if state.redraw_due or (is_prompt and "\n" not in raw and m.after.endswith("\x08")):
        state.redraw_due = False
        prompts = (last_prompt, state.prompt_text)
        raw, is_prompt = await _past_redraw(
            session, (raw, is_prompt), prompts, command, deadline, extra
        )
    else:
        sent_at = len(early) if early and raw.startswith(early) else 0
        raw, m, is_prompt, prompt = await past_earlier(
            session, state, (raw, m, is_prompt), command, sent_at, deadline, extra
        )
        if prompt is not None:  # the answers to lines sent before it, dropped
            last_prompt, early = prompt, ""
        else:
            raw, is_prompt, dropped = await own_answer(
                session, state, (raw, m, is_prompt), command, deadline, extra
            )
            if dropped:  # this answer came after the prompt the early one missed
                last_prompt = state.previous
    note_prompt(state, last_prompt)
    forget(session)  # (found in step: what was sent before it was answered)
    sent_at = len(early) if early and raw.startswith(early) else 0
    # (Its line end has no CR of its own, no ^M echoed: one_enter sends the
    # LF alone where CR is no Enter.)
    state.echoes = bool(_output.echo_end(raw[sent_at:], command))
    # Over pipes no terminal echoes, but bash -i echoes on its stderr: the
    # same echo rule serves both.
    output = _output.clean_output(raw, command, sent_at)
    if not is_prompt:
        await _interrupt(session, deadline)
        shown = shown_command(session, command)
        raise CommandError(
            f"command {shown!r} is incomplete: the shell asked for more input (cancelled)",
            command=command,
            output=output,
        )
    found = first_error(session.error_patterns, output)
    if found is not None:
        line = escape(session.redact(found.group(0).strip()))
        shown = shown_command(session, command)
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
    if redrawn and await more_within(session, deadline, LATE_REDRAW_WAIT):
        raw, _m, is_prompt = await read_to_prompt(session, deadline, extra)
    line_end = raw.find("\n")
    # As received, or as redrawn: without the modes set in front of it (bash's
    # bracketed paste), or without any control sequence.
    forms = (form for p in prompts for form in (p, LEADING_CSI.sub("", p), strip_ansi(p)))
    for text in dict.fromkeys(forms):
        # The first one: nothing visible may come before it.
        at = raw.find(text, 0, line_end) if text and line_end > 0 else -1
        rest = raw[at + len(text) :]
        if at >= 0 and not strip_ansi(raw[:at]).strip() and _output.echo_end(rest, command):
            return rest, is_prompt
    return raw, is_prompt


async def _interrupt(session: Session, deadline: Deadline) -> None:
    """Ctrl-C, then the prompt.  A shell reading without a line editor (zsh
    with ZLE off, as ``set_unique_prompt`` leaves it) drops the line but
    prints no prompt until the next one: an empty line is sent if none came
    within a second."""
    await session.sendintr()
    try:
        await read_to_prompt(session, deadline.within(1.0))
    except ExpectTimeout:
        await session.send(one_enter(session, ""))  # (one Enter: see there)
        await read_to_prompt(session, deadline)
