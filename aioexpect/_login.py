"""The login dialog of ``Session.login`` (and of the openers given
credentials): answer username and password questions until the first prompt.

Rule: credentials are sent only when asked for, each once; a failure message
after sending, the end of the connection after the password (before any
prompt), or a question it cannot answer, raises ``AuthenticationError``
at once (with the last characters received, redacted); so does a second
request, once nothing has followed it for ``QUESTION_WAIT`` (output may
pause at ``Last login: ``) but what may end a question (its space, a colour
reset), within the call's deadline; after a message, once no output (and
no prompt) came for ``QUESTION_WAIT``, or more than a message of the day
has (``DOUBT_LINES``).
A username or password question it cannot answer stays buffered, and the
prompt owed: the next ``execute`` names it instead of typing into it.  A
yes/no question stays buffered too, from its line's start, for the caller
to expect and answer.
"""

from __future__ import annotations

import asyncio
import functools
import re
from typing import TYPE_CHECKING

from ._driver import SHORT_CONTROL, SHORT_CONTROL_CUT
from ._exceptions import AuthenticationError, BufferFull, ExpectEOF, ExpectTimeout
from ._match import Match
from ._opening import Progress
from ._prompt import QUESTION_WAIT, more_after_question, run_init
from ._prompt_read import (
    Deadline,
    evidence_of,
    expect_named,
    guess_driver,
    in_step,
    owe,
    patterns_of,
    peek,
    prompts_of,
    require_idle,
    require_prompts,
    state_of,
    what_prompt,
)
from ._prompt_send import enter, one_enter, send_timed
from ._prompt_text import YES_NO
from ._prompt_wrap import with_before
from ._reading import drop
from ._typed import forget

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["after_open", "login"]

#: "Press RETURN to get started": answered with a line end (a few times).
_PRESS_ENTER = re.compile(
    r"[Pp]ress (?:RETURN|ENTER|[Rr]eturn|[Ee]nter|any key)\b[^\r\n]{0,60}\s{0,8}\Z"
)
#: A yes/no question in a login dialog: the caller must answer it.
_QUESTION = re.compile(YES_NO)
#: What each answer is, as a time-out sending it says.
_ANSWERS = {"user": "the username", "password": "the password", "enter": "the Enter key"}
#: ... found without consuming it, from its line's start: after the error
#: the caller expects it as the error quotes it (``Continue connecting?
#: [yes/no]: ``), not only from its bracket.  Past ``_QUESTION_BEFORE``
#: characters of its line (a bound: a search of the whole line made each
#: chunk of a long line cost all of it), from its bracket.
_QUESTION_BEFORE = 256
_QUESTION_LINE = re.compile(
    rf"(?:(?<![^\r\n])(?=[^\r\n]{{0,{_QUESTION_BEFORE}}}?{_QUESTION.pattern})"
    rf"|(?={_QUESTION.pattern}))"
)


async def after_open(
    session: Session,
    credentials: tuple[str | None, str | None] | None,
    started: float,
    progress: Progress,
) -> None:
    """Called once by the openers after the session is built; ``started``:
    the loop time the opening began, whose time-out the login shares;
    ``progress``: the opening's, which the login keeps up to date."""
    if credentials is not None:
        timeout = session.timeout
        if timeout is not None:
            timeout = max(0.0, timeout - (asyncio.get_running_loop().time() - started))
        # (Session.login's checks are the opener's, and the password is
        # already among the session's secrets)
        await login(session, *credentials, timeout, progress)


async def login(
    session: Session,
    username: str | None,
    password: str | None,
    timeout: float | None,
    progress: Progress | None = None,
) -> Match:
    """Answer username/password questions until the first prompt; return its match.

    Rejected credentials raise ``AuthenticationError`` as soon as the device
    says so, or once a question asked again has stood ``QUESTION_WAIT``; a
    yes/no question raises it at once.  ``progress`` (an opening's): what
    the dialog waits for and has consumed, for a time-out from outside.
    """
    require_prompts(session)
    require_idle(session)
    deadline = Deadline(timeout)
    state = state_of(session)
    seen: list[str] = []  # what each step of the dialog consumed
    sent: dict[str, int] = {"user": 0, "password": 0, "enter": 0}
    if progress is not None:
        progress.reached("in the login dialog", _awaited(session), seen)
    try:
        m = await _dialog(session, username, password, deadline, seen, sent)
    except BaseException:
        # No prompt came (rejected, timed out, cancelled) after the dialog
        # began: the next execute must not type its command into the
        # question still asked (an ``enable`` asking ``Password:`` again),
        # but read to a prompt first.  Nothing asked nor sent: nothing owed.
        if seen or any(sent.values()):
            owe(session)
        raise
    guess_driver(session, "".join(seen), m.after)
    in_step(state)
    forget(session)  # (its lines were answered: none is taken for one sent ahead)
    if progress is not None and session.driver.init_commands:
        stage = f"running the init commands of driver {session.driver.name!r}"
        progress.reached(stage, what_prompt(session))
    await run_init(session, state, deadline)
    return m


def _awaited(session: Session) -> str:
    return f"a login or password question, or {what_prompt(session)}"


async def _dialog(
    session: Session,
    username: str | None,
    password: str | None,
    deadline: Deadline,
    seen: list[str],
    sent: dict[str, int],
) -> Match:
    groups: dict[str, list[re.Pattern[str]]] = {
        "prompt": prompts_of(session),
        "user": patterns_of(session, "login_patterns"),
        "password": patterns_of(session, "password_patterns"),
        "enter": [_PRESS_ENTER],
        "question": [_QUESTION_LINE],
        "failure": patterns_of(session, "login_failure_patterns"),
    }
    doubted: str | None = None  # a question asked again, with more after it
    since, doubt_end = 0, 0.0  # (how much of ``seen`` came before; see DOUBT_TIME)
    dropped = [0, 0]  # lines and characters dropped since then (not in ``seen``)
    while True:
        # Failure messages count only once credentials were sent: a banner
        # may well say "access denied" to intruders.
        active = [k for k in groups if k != "failure" or sent["user"] + sent["password"]]
        # A question it cannot answer (again, or without the credential) is
        # left buffered: after the error, the next execute names it rather
        # than type into it, and send_secret() can still answer it.  (So is
        # a yes/no question, always: see _QUESTION_LINE.)
        stuck = {k for k in ("user", "password") if _refusal(k, sent, username, password)}
        patterns = [peek(p) if k in stuck else p for k in active for p in groups[k]]
        kinds = [k for k in active for _ in groups[k]]
        try:
            doubt = None if doubted is None else (since, doubt_end)
            m = await _expect_dropping(session, patterns, deadline, seen, doubt, dropped)
        except (ExpectTimeout, ExpectEOF) as exc:
            _check_no_prompt(session, exc, "".join(seen), sent, doubted)
            raise
        seen.append(m.before + m.after)
        kind = kinds[m.index]
        held = kind == "question"  # (left buffered from its line's start: see _QUESTION_LINE)
        if held and "failure" in active and _rejects(session, groups["failure"]):
            kind = "failure"  # ("% Login invalid. Retry? [y/n]": the rejection is the news)
        if kind == "prompt":
            text = "".join(seen)
            return with_before(m, text[: len(text) - len(m.after)])
        if kind in stuck and sent["user"] + sent["password"]:  # asked again?
            asked = len(session._buffer)  # the question, left buffered, ends it
            on_a_new_line = await _output_after(session, deadline, asked)
            if on_a_new_line is not None:
                # A question asked again, then a message, is a rejection
                # unless a prompt comes; output along its line shows it was
                # no question ("Last login: " and the date).
                question = await session.expect(re.compile(f"[\\s\\S]{{{asked}}}"), timeout=0)
                seen.append(question.after)
                if on_a_new_line and doubted is None:
                    doubted = _refusal(kind, sent, username, password)
                    since = sum(map(len, seen))
                    # (from the first time: a question asked again and again
                    # must not start the count of seconds again each time)
                    doubt_end = asyncio.get_running_loop().time() + DOUBT_TIME
                continue
        shown = session.buffer if kind in stuck or held else ""  # (buffered)
        _check_turn(session, kind, sent, username, password, "".join(seen) + shown)
        sent[kind] += 1
        # (each answer one line, also where a terminal takes a CR LF linesep
        # for two: its second Enter would answer the next question, empty)
        if kind == "user":
            send = functools.partial(session.send, one_enter(session, username or ""))
        elif kind == "password":
            send = functools.partial(session._send_secret, password or "", enter(session))
        else:
            send = functools.partial(session.send, enter(session))
        await send_timed(session, deadline, send, _ANSWERS[kind])  # (to a peer reading none)


async def _expect_dropping(
    session: Session,
    patterns: list[re.Pattern[str]],
    deadline: Deadline,
    seen: list[str],
    doubt: tuple[int, float] | None,
    dropped: list[int],
) -> Match:
    """The next of ``patterns``, after ``seen``; past ``max_buffer`` (a
    banner longer than it), what does not fit is dropped but for the tail
    where a question or the prompt may begin (``_reading.drop``), as the
    first ``execute`` does: logged as a count, never kept nor shown.
    ``doubt``: after a question asked again (``since``, ``end``: see
    ``_expect_while_output``), which counts what is dropped in ``dropped``."""
    what = _awaited(session)
    while True:
        earlier = "".join(seen)
        try:
            if doubt is None:
                return await expect_named(session, patterns, deadline, what, earlier)
            since, end = doubt
            return await _expect_while_output(
                session, patterns, deadline, what, earlier, (since, dropped), end
            )
        except BufferFull:
            gone = drop(session, "the login dialog's text")
            if not gone:
                raise  # (nothing buffered: nothing to free)
            if doubt is not None:
                dropped[0] += gone.count("\n")
                dropped[1] += len(gone)


def _check_no_prompt(
    session: Session,
    exc: ExpectTimeout | ExpectEOF,
    seen: str,
    sent: dict[str, int],
    doubted: str | None,
) -> None:
    """Raise ``AuthenticationError`` if the dialog's end without a prompt
    (``exc``, after ``seen``) is a rejection; the time-out or end of file
    it is otherwise."""
    evidence = evidence_of(session, seen + exc.before)
    if doubted is not None:
        # Asked again, then output, but no prompt: the rejection it looked like.
        raise AuthenticationError(f"{doubted}, then no prompt came: {evidence}") from None
    if isinstance(exc, ExpectEOF) and sent["password"]:
        # A peer that hangs up without a word (a terminal server, PAM with
        # no message) says no so: the error a caller handles for rejected
        # credentials, not an end of file.
        raise AuthenticationError(
            "the peer ended the connection after the password, before any prompt"
            f" (rejected credentials, or a lost connection); last characters received: {evidence}"
        ) from exc


def _rejects(session: Session, failures: list[re.Pattern[str]]) -> bool:
    """Whether the question's line, buffered from its start, says that the
    login was rejected (``Login incorrect. Try again? [yes/no]``): asked
    after credentials, that is what to report, not a question to answer
    by hand with the same wrong password."""
    line = _LINE.match(session.buffer)
    return line is not None and any(p.search(line.group()) for p in failures)


_LINE = re.compile(r"[^\r\n]*")


async def _output_after(session: Session, deadline: Deadline, asked: int) -> bool | None:
    """Where output goes on after a question (buffered, not consumed, at the
    end of ``asked`` characters): on a line after it (``True``) or along its
    line (``False``); ``None`` once nothing has come for ``QUESTION_WAIT``
    (or at the deadline) but what may end a question, which a chunk's end
    may have cut off (a space, a colour reset): the question stands."""
    while await more_after_question(session, deadline):
        buffer = session.buffer
        if _STILL_ASKED.match(buffer, asked) is None:
            return _NEXT_LINE.match(buffer, asked) is not None
    return None


#: After a question asked again and a message, how much more output
#: ``login`` reads waiting for a prompt, at most: far more than any message
#: of the day, however slow its line (lines: colours may make a line of
#: art long); but a peer that keeps talking (a console printing its log)
#: must not hold a call without a time-out.
DOUBT_LINES = 200
DOUBT_CHARS = 262_144
#: ... and only once it has gone on for so many seconds: a list of hundreds
#: of pending updates comes in a moment, before its prompt.
DOUBT_TIME = 5.0


async def _expect_while_output(
    session: Session,
    patterns: list[re.Pattern[str]],
    deadline: Deadline,
    what: str,
    earlier: str,
    since: tuple[int, list[int]],
    end: float,
) -> Match:
    """``expect_named``, but ``ExpectTimeout`` once no output has come for
    ``QUESTION_WAIT``, not only at the deadline: after a question asked again
    and a message, a prompt may follow (a long message of the day on a slow
    line), but a silent peer must not hold a call without a time-out; nor
    one that goes on talking: past ``DOUBT_LINES`` lines or ``DOUBT_CHARS``
    characters since the question (``earlier`` from the first of ``since``,
    the lines and characters dropped past ``max_buffer`` in its second, and
    what is buffered), once the loop's clock has passed ``end``, the same."""
    start, (lines, chars) = since
    lines, chars = lines + earlier.count("\n", start), chars + len(earlier) - start
    counted = 0  # (of the buffer, which only grows here)
    clock = asyncio.get_running_loop().time
    while True:
        new = session._buffer.tail_from(counted)
        counted += len(new)
        lines, chars = lines + new.count("\n"), chars + len(new)
        if (lines > DOUBT_LINES or chars > DOUBT_CHARS) and clock() >= end:
            raise ExpectTimeout(
                f"no prompt in {DOUBT_LINES} lines or {DOUBT_CHARS} characters",
                before=session.buffer,
                patterns=patterns,
            )
        more = re.compile(f"(?=[\\s\\S]{{{len(session._buffer) + 1}}})")
        wait = deadline.within(QUESTION_WAIT)
        m = await expect_named(session, [*patterns, more], wait, what, earlier)
        if m.index < len(patterns):
            return m


#: Spaces and control sequences on a line, as many as there are: those the
#: drivers' question patterns allow after a question (a bell, ``tput
#: sgr0``'s charset reset), not only colours.
_BLANKS = rf"(?:{SHORT_CONTROL}|[^\S\r\n])*"
#: What a question's pattern allows after it, but in any number: spaces
#: and control sequences, the last one maybe cut short by a chunk's end,
#: and readline's `` \r`` at the end.  Output that is only this leaves the
#: question standing: only a visible character goes on along its line.
_STILL_ASKED = re.compile(rf"{_BLANKS}(?:{SHORT_CONTROL_CUT}|(?<= )\r)?\Z")
#: ... and a line end after it: output on a line of its own.
_NEXT_LINE = re.compile(rf"{_BLANKS}[\r\n]")


def _check_turn(
    session: Session,
    kind: str,
    sent: dict[str, int],
    username: str | None,
    password: str | None,
    seen: str,
) -> None:
    """Raise ``AuthenticationError`` if the dialog cannot go on."""
    evidence = evidence_of(session, seen)
    if kind == "failure":
        raise AuthenticationError(f"login rejected; last characters received: {evidence}")
    if kind == "question":
        raise AuthenticationError(
            f"the login dialog asked a question login() cannot answer: {evidence}"
        )
    if kind == "enter" and sent["enter"] >= 3:
        raise AuthenticationError(f"the login dialog keeps asking for a key: {evidence}")
    refusal = _refusal(kind, sent, username, password)
    if refusal is not None:
        raise AuthenticationError(f"{refusal}: {evidence}")


def _refusal(
    kind: str, sent: dict[str, int], username: str | None, password: str | None
) -> str | None:
    """Why a ``kind`` question ("user", "password") cannot be answered now, if so."""
    if kind == "user":
        if username is None:
            return "asked for a username, but none was given"
        if sent["user"] or sent["password"]:
            return "login rejected (asked for the username again)"
    if kind == "password":
        if password is None:
            return "asked for a password, but none was given"
        if sent["password"]:
            return (
                "login rejected (asked for the password again; wrong password, or the device"
                " wants it changed)"
            )
    return None
