"""An answer that begins with the end of the one before.

A line of output shaped like a prompt (``router>``) that happens to end a
chunk ends ``execute`` early: the rest of that answer, and the real prompt,
arrive after it returned.  The next ``execute`` reads them first.  Its own
answer begins at its command's echo after that real prompt; what comes
before it is the end of the earlier answer, which is dropped with a warning
naming it (the logfile has it as received).  The echo may have been written
twice, too: by the terminal, as the command was typed while the earlier one
still ran, and again by the line editor after the prompt.  Without an echo
after that prompt (a shell with no line editor), which output is whose
cannot be told: a warning says the answer may be mixed, and nothing is
dropped (nor is anything said if the output after that prompt comes
later than ``STALE_WAIT``: a slow command).  An
execute that gave up (timed out, cancelled) before any of its answer came
leaves that answer to the next one, which catches up with it the same way
(``late_answer``).

Looked for only where the cascade can happen, so that other answers pay
nothing: after an answer that ended at a prompt unlike the one before it
(``PromptState.moved``), in a session whose answers begin with their echo
(``PromptState.echoes``), for a command with visible characters; and the
prompt in front of the echo must be the one before the unlike one
(``PromptState.previous``), the prompt the early answer should have ended at,
or one like it (the early command may have changed directory).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._ansi import strip_ansi
from ._match import Match
from ._output import RIGHT_FIRST, RIGHT_PROMPT, right_prompt_end
from ._prompt_read import (
    Deadline,
    PromptState,
    evidence_of,
    more_within,
    read_to_prompt,
    shown_command,
)
from ._prompt_text import CSI, LEADING_CSI, alike, alike_needed

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["STALE_WAIT", "late_answer", "note_prompt", "own_answer", "report_dropped", "unrelated"]

#: How long an answer that ended at the prompt before the unlike one waits
#: for its echo after it: the echo there means that prompt ended the earlier
#: answer (the rest of which came first).
STALE_WAIT = 0.2
#: Prompts ahead of the echo that one answer reads past (each a line of the
#: earlier output shaped like a prompt, and the real one).
_MAX_STALE = 8
#: zsh's right prompt (``_output.RIGHT_PROMPT``), which zsh writes apart
#: from its prompt: what follows a prompt read without it begins with it,
#: and is no output (the answer taken for one that holds the end of the
#: one before, the next execute waited for a prompt after it that never
#: came).  A start of one (up to its move right) is waited past.
_RIGHT_START = re.compile(rf"{RIGHT_FIRST}\x00{{0,16}}\x1b\[\d{{1,4}}C")
_RIGHT_REACH = 512
_RIGHT = re.compile(RIGHT_PROMPT)
#: What may follow an echoed command on its line.
_ECHO_LINE_END = re.compile(rf"(?:{CSI}| )*\r*\n")


def unrelated(before: str, after: str) -> bool:
    """Whether prompt ``after`` is unlike ``before`` (as received): the two
    lines (JunOS's context line above aside) do not start alike, as they do
    in a new mode (``r1#``, ``r1(config-if)#``) or directory (the same
    ``user@host:``).  Taken for unlike when in doubt: that costs a look for
    an echo, the other way an answer shifted by one."""
    if before == after:
        return False  # (the usual case: the same prompt after every command)
    old, new = _line(before), _line(after)
    if old == new:
        return False
    hosts = _USER_HOST.search(old), _USER_HOST.search(new)
    if hosts[0] is not None and hosts[1] is not None:
        # The same user@host: a new directory; another: another host (a
        # line of output naming it), however alike their names.
        return hosts[0].group() != hosts[1].group()
    names = _name(old), _name(new)
    if names[0] is not None and names[1] is not None and names[0] != names[1]:
        return True  # another host (``core2#`` under ``core1#``), however alike
    if min(len(old), len(new)) <= 1:
        return True  # a bare ``$``: no start to share with another
    return alike(old, new) < min(alike_needed(old), len(old) - 1, len(new) - 1)


#: ``user@host``, the host after the last ``@`` (the user may be
#: ``alice@corp.example.com``, or hold a ``+``); a directory may follow it
#: (``:~``, `` /etc]``).
_USER_HOST = re.compile(r"(?:[^\s@:\[\](){}<>#$%]{1,64}@){1,4}[\w.-]{1,64}")
#: A prompt's leading word, where devices and shells put the host's name
#: (``core1#``, ``r1(config-if-1)#``, ``web1$``, ``alice@web1:~$``): from a
#: letter at the line's start to the first of ``#>$%:``, a bracket or a
#: space, and to its last letter or digit (psql's ``db=>`` and ``db->``:
#: ``db``).  A prompt that starts with a number or a bracket (``[501] $``,
#: ``0 $``, ``12:05 $``) starts with a count, not a name; so does what
#: follows the name after a dot (``sw1.3>``: a command counter,
#: ``_COUNTER``).  What follows it in brackets may be a status, a time, a
#: history number or a directory (``web1[1]$``, ``web1[!42]$``,
#: ``web1[tmp]$``), which change on the same host; a host there
#: (``admin[web1]$``) cannot be told from them, and counts as the same
#: (a silent shift there costs less than one everywhere else).
_NAME = re.compile(r"[^\W\d_](?:[^\s#>$%(:)\]\[{}<]{0,63}[^\W_])?")
#: A command counter at the end of a name (``sw1.3``), unless the name ends
#: in dotted numbers (``vm-10.0.0.5``: an address, whose last number tells
#: hosts apart).
_COUNTER = re.compile(r"\.\d+\Z")
_ADDRESS = re.compile(r"\d\.\d+\.\d+\Z")
_NUMBER = re.compile(r"\d+")


def _name_span(line: str) -> tuple[int, int] | None:
    """Where the leading name of a prompt's ``line`` stands (``_NAME``)."""
    m = _NAME.match(line)
    if m is None:
        return None
    counter = _COUNTER.search(m.group())
    if counter is None or _ADDRESS.search(m.group()):
        return m.span()
    return m.start(), m.end() - len(counter.group())


def _name(line: str) -> str | None:
    span = _name_span(line)
    return None if span is None else line[span[0] : span[1]]


def _line(prompt: str) -> str:
    """A prompt's own line, as shown (no control sequences, no right
    prompt, no spaces around), any number in it alike (a history number,
    the last status, a mode's ``config-if-1``) but in its leading name and
    its ``user@host``, where it tells hosts apart (``web1``, ``web2``)."""
    if "\x1b[" in prompt:  # (zsh's right prompt: not the prompt's line, read or not)
        prompt = _RIGHT.sub("", prompt)
    line = str(strip_ansi(prompt)).strip().rpartition("\n")[2].strip()
    host = _USER_HOST.search(line)
    kept = [span for span in (_name_span(line), host and host.span()) if span is not None]
    shown, at = [], 0
    for start, end in sorted(kept):
        start = max(start, at)  # (the two may overlap: ``alice@web1``)
        shown += [_NUMBER.sub("0", line[at:start]), line[start:end]]
        at = max(at, end)
    return "".join(shown) + _NUMBER.sub("0", line[at:])


async def own_answer(
    session: Session,
    state: PromptState,
    answer: tuple[str, Match, bool],
    command: str,
    deadline: Deadline,
    extra: list[re.Pattern[str]],
) -> tuple[str, bool, bool]:
    """``answer`` (the text read up to a prompt, the prompt's match, whether
    it was a prompt) without the end of an earlier answer in front of its
    echo, reading on past a prompt that the echo comes after; and whether
    there was such an end."""
    raw, m, is_prompt = answer
    if not (state.moved and state.echoes and is_prompt and command.strip()):
        return raw, is_prompt, False
    previous = state.previous
    dropped: list[str] = []
    after = ""  # what followed a prompt like ``previous``, if not the echo
    try:
        for _ in range(_MAX_STALE):
            at = _echo_after(raw, command, previous)
            if at:
                dropped.append(raw[:at])
                raw = raw[at:]
                break
            if unrelated(previous, m.after):
                break  # the prompt that ends this answer
            after = await _after_prompt(session, state, command, deadline)
            if not after.startswith(command):
                break  # (the same)
            dropped.append(raw + m.after)
            raw, m, is_prompt = await read_to_prompt(session, deadline, extra)
            if not is_prompt:
                break
    finally:  # (timed out or cancelled after a drop, too)
        if dropped:
            report_dropped(session, command, "".join(dropped), "before its echo")
    if not dropped and not unrelated(previous, m.after):
        _no_echo(session, state, command, (raw, m.after, after))
    return raw, is_prompt, bool(dropped)


def _no_echo(
    session: Session, state: PromptState, command: str, seen: tuple[str, str, str]
) -> None:
    """After an answer that ended at the prompt the early answer missed (or
    one like it) with no echo after it (dash, zsh, which redraw no echo or
    another one): ``seen`` is the answer, that prompt, and what followed it
    within ``STALE_WAIT``.  Output after that prompt, in the answer or right
    after it, means the answer may be the early one's rest: a warning, and
    the next ``execute`` reads to the prompt after that output first.  Which
    output is whose, only the echo could tell.  (Output in the answer alone
    may be that rest too, the next command slower than ``STALE_WAIT``; but
    it is also what a return to a first shell with a message looks like,
    ``echo logout; exit``: no warning.)"""
    raw, prompt, after = seen
    previous = state.previous
    if _output_in(command, after):
        _report_mixed(session, command, raw + prompt + after)
        state.synced, state.late = False, True
    elif _prompt_then_output(raw, previous):
        _report_mixed(session, command, raw + prompt + after)


async def late_answer(
    session: Session,
    state: PromptState,
    command: str,
    answer: tuple[str, Match],
    shown: str,
    deadline: Deadline,
) -> str:
    """Catch up with the answer to ``command``, which an ``execute`` sent
    at prompt ``shown`` and gave up on (timed out, cancelled) before any of
    it was read; ``answer``: the text up to the first prompt since, and its
    match.  After an early answer, that prompt may be the one the early
    answer missed, after its rest: the rest is dropped with a warning, as
    from an answer read in time (``own_answer``), and the late answer read
    on to its own prompt.  Returns all that was read."""
    before, m = answer
    try:
        raw, _, dropped = await own_answer(session, state, (before, m, True), command, deadline, [])
    except BaseException:
        if not state.waiting:  # (cancelled, timed out) inside the answer: still owed
            state.synced, state.owed = False, session._buffer.consumed
        state.waiting = False
        raise
    note_prompt(state, state.previous if dropped else shown)
    return raw + state.prompt_text


def note_prompt(state: PromptState, before: str) -> None:
    """After an answer: whether its prompt is unlike ``before``, the one in
    front of it (``PromptState.moved``)."""
    state.moved = unrelated(before, state.prompt_text)
    if state.moved:
        state.previous = before


def report_dropped(session: Session, command: str, text: str, where: str) -> None:
    """A WARNING naming ``text``, the end of an earlier answer that
    ``execute(command)`` dropped (found ``where``)."""
    session.log.warning(
        "execute(%r): %d characters %s, the end of the answer before, were dropped"
        " (that execute returned early, at a line of its output shaped like a"
        " prompt; set_prompt() or set_unique_prompt() avoids it): %s",
        shown_command(session, command),
        len(text),
        where,
        evidence_of(session, text),
    )


async def _after_prompt(
    session: Session, state: PromptState, command: str, deadline: Deadline
) -> str:
    """What follows the prompt just read within ``STALE_WAIT``, control
    sequences at its start left out (nothing is consumed): ``command``'s
    echo, other output (a message, say), or nothing.  Cancelled meanwhile,
    the session is at that prompt (``PromptState.waiting``): none is owed."""
    wait = deadline.within(STALE_WAIT)
    state.waiting = True  # (left so if cancelled: ``_prompt._run`` reads it)
    while True:
        head = session.buffer[: len(command) + _RIGHT_REACH]
        first = right_prompt_end(head)  # (zsh's right prompt: no output)
        text = LEADING_CSI.sub("", head[first:])[: len(command) + 64]
        if not first and _RIGHT_START.match(head):
            pass  # (the start of one: wait for the rest)
        elif text.startswith(command) or (text and not command.startswith(text)):
            break  # the echo; or other output
        if not await more_within(session, wait, STALE_WAIT, beyond=len(session._buffer)):
            break
    state.waiting = False
    return text


def _output_in(command: str, text: str) -> bool:
    """Whether ``text`` (after a prompt) shows output: not the start of
    ``command``'s echo, nor only spaces and control sequences."""
    return not command.startswith(text) and bool(strip_ansi(text).strip())


def _prompt_then_output(raw: str, previous: str) -> bool:
    """Whether a line of ``raw`` past its first is the ``previous`` prompt
    (as shown, any number in it alike) followed by output."""
    prompt = str(strip_ansi(previous)).rpartition("\n")[2].lstrip("\r")
    if not prompt.strip():
        return False
    line = re.compile(r"[\r\n]" + re.escape(_NUMBER.sub("0", prompt)) + r"[^\S\r\n]*\S")
    return line.search(_NUMBER.sub("0", str(strip_ansi(raw)))) is not None


def _report_mixed(session: Session, command: str, text: str) -> None:
    """A WARNING that ``execute(command)``'s answer (``text``, with the
    prompt and what followed it) may hold the end of an earlier one."""
    session.log.warning(
        "execute(%r): its answer may be, or begin with, the end of the answer before"
        " (that execute returned early, at a line of its output shaped like a prompt):"
        " output came after the prompt before that one, with no echo of the command"
        " to tell which output is whose, so the next answer may hold the rest of this"
        " one; set_prompt() or set_unique_prompt() avoids it: %s",
        shown_command(session, command),
        evidence_of(session, text),
    )


def _echo_after(raw: str, command: str, previous: str) -> int:
    """Where in ``raw`` (past its start) ``command`` is echoed right after
    the ``previous`` prompt (or one like it: the early command may have
    changed directory), on a line of its own; 0 if nowhere."""
    start = 1
    while True:
        at = raw.find(command, start)
        if at < 0:
            return 0
        start = at + 1
        if _ECHO_LINE_END.match(raw, at + len(command)) is None:
            continue
        line_start = max(raw.rfind("\n", 0, at), raw.rfind("\r", 0, at)) + 1
        if not unrelated(previous, raw[line_start:at]):
            return at
