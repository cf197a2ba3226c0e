"""Lines sent ahead of an ``execute``'s command, and their answers.

The caller may type several lines (``sendline``: a configuration, a few
shell commands) and then call ``execute``: each line owes its answer, and
its prompt.  ``Session._sends`` remembers the last ``SENDS`` sends (an
append each, of at most their last ``SEND_KEPT`` characters, a longer
one's earlier lines as their count, ``count_long``; a secret line as
``None``, never its text; older ones as their count, ``fold``),
forgotten once an answer is found in step (``forget``).
Two rules keep those answers out of the command's:

- Rule 1 (count): the lines sent with nothing read since are unanswered.
  Before sending, ``execute`` reads on past the prompt it caught up with
  to one for each (``read_typed``), as long as each piece comes within
  ``STALE_WAIT`` of the one before, and not once the last line's echo was
  read after a prompt (a device, or a line editor, echoes a line when it
  reads it at its prompt: the lines before it were answered; not where
  the terminal echoes what is typed, see ``_echoed``).  A line that
  brings no prompt of its own (an answer to a question) costs that wait.
- Rule 2 (echo): in a session that echoes, an answer begins with its
  command's echo.  Text read up to a prompt that begins instead with the
  echo of a line sent before (and not with its own) ends that line's
  answer: it is dropped, with a WARNING saying how much, and the answer is
  read on to the next prompt (``past_earlier``, ``_typed_echo``).  Text that begins with
  no such echo is the answer, as ever.

Neither tells anything where lines are not echoed after their prompt and
prompts are not told apart: a shell without a line editor, whose terminal
echoes what is typed at once (``set_unique_prompt``), needs Rule 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ._ansi import strip_ansi
from ._exceptions import AioexpectError, ExpectError, ExpectTimeout
from ._prompt_read import (
    Deadline,
    PromptState,
    at_prompt,
    evidence_of,
    in_step,
    more_within,
    prompts_of,
    read_to_prompt,
    state_of,
    what_prompt,
)
from ._prompt_text import CSI
from ._prompt_wrap import fits
from ._stale import STALE_WAIT

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from ._session import Session

__all__ = [
    "at_terminal",
    "carry",
    "count_long",
    "counted",
    "cr_echoed",
    "cr_enters",
    "ends_at_prompt",
    "fold",
    "interrupted",
    "forget",
    "left_owed",
    "put_back",
    "read_typed",
    "still_owed",
    "typed_due",
    "written",
]

#: What may follow an echoed line on its line.
_ECHO_LINE_END = re.compile(rf"(?:{CSI}| )*\r*\n")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: ... where CR and LF each end one (``at_terminal``, ``cr_enters``).
_ENTER = re.compile(r"\r|\n")
#: ... where only LF does, a CR before it being the line's (``stty -icrnl``).
_LF = re.compile(r"\r?\n")


class _Ends(NamedTuple):
    """What ``Session._sends`` keeps of a send longer than ``SEND_KEPT``
    (``count_long``): how many lines it ends before its end
    kept, that end (less a ``\\n`` that ends one of them), and whether the
    first is an LF it begins with (no line's end after a CR, ``_lines``)."""

    ends: int
    kept: Any
    lf: bool


def at_terminal(session: Session) -> bool:
    """Whether the peer reads what is sent through a terminal (a pty; SSH
    with one), which takes CR and LF each for a line's end: canonical mode
    makes CR a LF (ICRNL), a line editor takes either for Enter.  There
    ``x\\r\\n`` is two lines, each with its prompt (bash: ``x``, then an empty
    one).  Elsewhere CR LF is one line end: telnet's (the NVT's), or a
    program's reading a pipe (one line, ending in CR)."""
    transport = session.transport
    return transport.kind == "pty" or (
        transport.kind == "ssh" and bool(transport.get_extra_info("pty"))
    )


def cr_enters(session: Session) -> bool:
    """Whether a CR ends a line at the terminal (``at_terminal``): in
    canonical mode, as its flags say now (ICRNL); a line editor (raw mode)
    and a remote pty take it for Enter.  Without ICRNL (``stty -icrnl``) a
    CR is the line's, and only the LF after it ends the line."""
    line = session.transport.canonical_line()
    return line is None or b"\r" in line.ends


def cr_echoed(session: Session) -> bool:
    """Whether a line's CR LF ``linesep`` goes whole to the terminal, a CR
    no Enter there (``cr_enters``): the CR is the line's, echoed as ``^M``
    after it (ECHOCTL, ``echo_end``).  Never with the default ``"\\n"``."""
    linesep = session.linesep
    return linesep != "\n" and "\r\n" in linesep and at_terminal(session) and not cr_enters(session)


#: How a send's LF right after a send that ended with CR is read, told the
#: ``bytes_out`` after the send: whether it ends no line (the CR's did).
Joined = Callable[[int], bool]


def _line_ends(session: Session) -> tuple[re.Pattern[str], Joined]:
    """How the peer reads lines (for ``_lines``): what ends one, and
    whether an LF starting a send after a CR ending the one before ends one
    of its own.  At a terminal (``at_terminal``) CR and LF each end one,
    or, where a CR is no Enter (``cr_enters``), LF only, a CR before it the
    line's: a split changes nothing.  Elsewhere CR LF is one line end, also
    split across two sends: a pipe's reader reads one line; telnet says
    what it sent (``lf_dropped``: the LF goes as a key of its own once the
    peer answered the CR, and the peer reads an empty line)."""
    if at_terminal(session):
        return (_ENTER if cr_enters(session) else _LF), _never
    dropped = getattr(session.transport, "lf_dropped", None)
    return _LINE_BREAK, _always if dropped is None else dropped


def _never(_: int) -> bool:
    return False


def _always(_: int) -> bool:
    return True


def _lines(
    sends: Iterable[tuple[Any, int, int]], ends: tuple[re.Pattern[str], Joined]
) -> tuple[int, list[str | None]]:
    """How many lines ``sends`` end, and those lines (a secret one as
    ``None``; one begun and not ended left out; those ``_Ends`` counts, but
    the first, as one empty line); a Ctrl-C drops the line begun before it.
    ``ends``: how the peer reads lines (``_line_ends``)."""
    breaks, joined = ends
    lines: list[str | None] = []
    count = 0
    begun = ""
    after_cr = False  # (the last send ended with CR: an LF that starts the next may end no line)
    for data, _, sent in sends:
        if data is None:
            lines.append(None)
            count += 1
            begun, after_cr = "", False
            continue
        if isinstance(data, _Ends):
            many = data.ends - 1 if after_cr and data.lf and joined(sent) else data.ends
            lines += [begun, ""][:many]
            count += many
            begun, data, after_cr = "", data.kept, False  # (kept from inside the send)
            if data is None:  # (folded into a secret line, counted: ``fold``)
                lines[-1:] = [None]
                continue
        if not isinstance(data, str):
            data = bytes(data).decode("utf-8", "replace")
        if data:  # (an empty send writes nothing: an LF after it still follows the CR)
            if after_cr and data[0] == "\n" and joined(sent):
                data = data[1:]  # (a CR LF split across sends: one line end)
            after_cr = data[-1:] == "\r"
        *ended, begun = breaks.split(begun + data)
        lines += ended
        count += len(ended)
        begun = begun.rpartition("\x03")[2]
    return count, lines


def count_long(session: Session, data: Any) -> None:
    """The last send, of ``data``, was longer than the end kept of it
    (``SEND_KEPT``): every line it ends owes its answer, as those of a
    short send do, its earlier lines too (kept as their count, none to
    echo: ``_Ends``; a number, however long the send).  A bulk send whose
    answers lag behind it (a shell reads and answers a line at a time; a
    send cut short, whose rest is still written) has them all still to
    come; counted in its end only, the next ``execute`` read to that many
    prompts and returned an earlier line's answer as its own."""
    kept, consumed, sent = session._sends[-1]
    if not isinstance(data, (str, bytes, bytearray)):
        data = bytes(data)
    end = len(data) - len(kept)
    breaks: Any = ("\r", "\n") if isinstance(data, str) else (b"\r", b"\n")
    cr, lf = breaks
    terminal = at_terminal(session)
    ends = data.count(lf, 0, end)
    if not terminal or cr_enters(session):
        ends += data.count(cr, 0, end)
    if not terminal:  # (CR LF: one line end)
        ends -= data.count(cr + lf, 0, end)
        if data[end - 1 : end] == cr and kept[:1] == lf:
            kept = kept[1:]  # (the end of a line counted: '\r' last, '\n' first kept)
    if not ends:
        return
    session._sends[-1] = (_Ends(ends, kept, not terminal and data[:1] == lf), consumed, sent)


def fold(session: Session) -> None:
    """The record of sends is full (``SENDS``): its oldest falls off, the
    lines it ends folded into the count of the next (``_Ends``), if nothing
    was read between them (else no count spans the two: ``typed_due``).
    Dropped, 300 lines sent one at a time to a peer answering behind them
    counted 256: the next ``execute`` returned an earlier line's answer."""
    sends = session._sends
    old, (data, consumed, sent) = sends.popleft(), sends[0]
    if old[1] != consumed:
        return
    breaks, joined = _line_ends(session)
    ended = _lines((old,), (breaks, joined))[0]
    first = old[0].kept if isinstance(old[0], _Ends) else old[0]
    after_cr = first is not None and first[-1:] in ("\r", b"\r")
    ends, kept = (data.ends, data.kept) if isinstance(data, _Ends) else (0, data)
    if after_cr and joined(sent):  # (a CR LF split across the two: one line end)
        if isinstance(data, _Ends) and data.lf:
            ends -= 1
        elif kept is not None and kept[:1] in ("\n", b"\n"):
            kept = kept[1:]
    if data is None:
        ends = 1  # (a secret line, still ``None``)
    if ended or kept is not data:
        sends[0] = (_Ends(ended + ends, kept, False), consumed, sent)


def forget(session: Session) -> None:
    """An answer was found in step: what was sent before it was answered,
    an interrupt too (``interrupted``: counted again after ``interact``,
    which reads nothing into the buffer, it cost the next ``execute`` a wait)."""
    session._sends.clear()
    session._intr = (-1, -1)


def typed_due(session: Session, state: PromptState, due: bool) -> tuple[int, str | None]:
    """How many prompts ``execute`` is owed before it sends: one for each
    line sent since its last command with nothing read since, and one for
    the first prompt if ``due`` (a fresh session), with those
    ``expect_prompt`` left (``carry``); and the last of those lines
    (``None``: none, or a secret).  An answer owed before those lines (an
    ``execute`` given up on) adds none: they may answer its question (a
    password), with no prompt of their own.  Those left stay in
    ``state.typed`` until ``read_typed`` or ``carry`` takes them: a call
    given up on before, reading nothing (cancelled waiting for a redraw,
    out of time catching up, an ``expect_prompt`` that read no prompt),
    leaves them owed."""
    sends, consumed = session._sends, session._buffer.consumed
    carried = state.typed
    count, last = (0, None) if carried is None or carried[2] != consumed else carried[:2]
    if not sends or sends[-1][1] != consumed:
        if count and session._intr[0] == consumed:
            return count + 1, None  # (interrupted since: see below)
        return count, last  # (the usual case: read since the last send)
    after = -1 if state.sent is None else state.sent[2]
    ended, lines = _lines(_since(sends, consumed, after), _line_ends(session))
    if session._intr[0] == consumed and session._intr[1] > after:
        # Interrupted with lines owed: a Ctrl-C may flush the lines the
        # peer has not read yet (no prompt for them), kill the command
        # running, or come at a prompt (one more): each line owes one
        # prompt at most, the interrupt one.  Read to that many while
        # they come within STALE_WAIT (no echo ends it early: ``None``).
        return count + ended + 1 + (1 if due else 0), None
    if not ended:
        return count, last
    return count + ended + (1 if due else 0), _last(lines)


def interrupted(session: Session) -> None:
    """``sendintr`` sent an interrupt: with something sent since the last
    read (lines owed, perhaps), how many prompts they bring is unknown
    (``typed_due``).  Counted as before, a Ctrl-C at a prompt gave one
    prompt more, and the next ``execute`` an earlier line's answer.  So
    with prompts still owed by an ``execute`` out of time catching up to
    them (``still_owed``): its next one returned ``'^C\n'``."""
    sends, consumed = session._sends, session._buffer.consumed
    if (sends and sends[-1][1] == consumed) or still_owed(session, state_of(session)):
        session._intr = (consumed, session.bytes_out)


def _last(lines: list[str | None]) -> str | None:
    """The last of ``lines``; if it is empty (spaces at most), the run of
    empty lines that ends them, joined by line ends (``_empties``), or
    ``None`` where an empty line comes before that run: its echo after its
    prompt looks the same (``"echo a\r\n"`` to a terminal is two lines, the
    second empty), and which of them was read last, none can tell."""
    last = lines[-1]
    if last is None or last.strip():
        return last
    run = 1
    for line in reversed(lines[:-1]):
        if line is None or line.strip():
            break
        run += 1
    if any(line is not None and not line.strip() for line in lines[:-run]):
        return None
    return "\n" * (run - 1)


def _empties(last: str | None) -> int:
    """How many empty lines end the lines sent (``_last``): 0 if none."""
    return 0 if last is None or last.strip() else last.count("\n") + 1


@contextlib.contextmanager
def counted(session: Session, state: PromptState, due: bool) -> Iterator[tuple[int, str | None]]:
    """``typed_due``'s count (``due``: a fresh session), for a read to the
    first of those prompts (``expect_prompt``'s): given up on (out of time,
    cancelled) having read a pager's page and answered it, they stay owed
    (``put_back``; having read nothing, the count is still in ``state.typed``)."""
    taken = (state.typed, session._buffer.consumed)
    typed = typed_due(session, state, due)
    try:
        yield typed
    except BaseException:
        put_back(session, state, typed, *taken)
        raise


def _since(sends: Any, consumed: int, after: int) -> list[tuple[Any, int, int]]:
    """The sends made with ``consumed`` read and after ``after`` bytes sent:
    the end of ``sends`` (both only grow), read from there, not the whole
    history at each call."""
    recent = []
    for send in reversed(sends):
        if send[1] != consumed or send[2] <= after:
            break
        recent.append(send)
    recent.reverse()
    return recent


def carry(session: Session, state: PromptState, typed: tuple[int, str | None], text: str) -> None:
    """``expect_prompt`` read ``text`` up to one of the prompts ``typed``
    (from ``typed_due``) counts: the rest are left to the next ``execute``,
    unless ``text`` shows the last line read at its prompt."""
    due, last = typed
    left = due > 1 and not _echoed(session, last, text)
    state.typed = (due - 1, last, session._buffer.consumed) if left else None


def _after_prompt(session: Session, text: str, line: str) -> tuple[int, int]:
    """Where ``line`` is echoed in ``text`` right after a prompt on its own
    line (at the first such place): that line's start, and the echo's
    (0, 0: nowhere).  A line is echoed so when it is read at its prompt."""
    at = text.find(line, 1)
    while at > 0:
        if _ECHO_LINE_END.match(text, at + len(line)) is not None:
            start = max(text.rfind("\n", 0, at), text.rfind("\r", 0, at)) + 1
            if at > start and at_prompt(session, text[start:at]):
                return start, at
        at = text.find(line, at + 1)
    return 0, 0


def _empties_read(text: str, many: int, unique: re.Pattern[str] | None) -> bool:
    """Whether ``text`` ends with ``many`` empty lines read at their
    prompts, in a row: each the prompt it ends with, as shown, then only a
    line end (the echo of an empty line read at it), and that prompt.  A
    line of output shaped like a prompt is no echo of one, unless it is the
    very prompt; nor is an echo after ``set_unique_prompt``'s prompt over
    SSH or telnet (``unique``: the terminal echoes as typed, see ``_echoed``)."""
    rows = text.rsplit("\n", many + 1)
    if len(rows) <= many:
        return False
    prompt = _shown(rows[-1])
    if not prompt or (unique is not None and unique.search(rows[-1]) is not None):
        return False
    return all(_shown(row) == prompt for row in rows[-many - 1 : -1])


def _shown(row: str) -> str:
    """A row of text as a terminal shows it, what a CR went back over left
    out, spaces around taken off (a prompt's, or an echo's)."""
    return str(strip_ansi(row)).rstrip("\r").rpartition("\r")[2].strip()


def _echoed(session: Session, line: str | None, text: str) -> bool:
    """Whether ``text`` shows ``line`` echoed after a prompt: read at it.
    Never where the terminal echoes what is typed (a local pty in canonical
    mode: a shell without its line editor): there a line is echoed as it is
    sent, after whatever prompt came before, read or not (five lines sent
    to bash, the last echoed after the second prompt: three were owed).
    Where the terminal's modes cannot be read (SSH, telnet), an echo after
    ``set_unique_prompt``'s prompt is taken to be one: it turned the line
    editor off (bash, zsh; dash has none).  After another prompt (a program
    started from there with its own line editor, ``python3``, a nested
    shell), the echo is read at it, as elsewhere."""
    if line is None:
        return False
    empty = not line.strip()
    if empty and not text:
        return False
    echoes_as_typed = getattr(session.transport, "echoes_as_typed", None)
    if echoes_as_typed is not None and echoes_as_typed():
        return False
    if empty:
        unique = state_of(session).unique if echoes_as_typed is None else None
        return _empties_read(text, _empties(line), unique)
    start, at = _after_prompt(session, text, line)
    if not at:
        return False
    unique = state_of(session).unique if echoes_as_typed is None else None
    return unique is None or unique.search(text, start, at) is None


async def read_typed(
    session: Session,
    state: PromptState,
    deadline: Deadline,
    typed: tuple[int, str | None],
    read: tuple[int, str],
) -> None:
    """Rule 1: read on to the prompts still owed to the lines the caller
    typed (``typed``, from ``typed_due``), ``read`` being how many prompts
    were read already and the text up to the last.  Raises nothing but
    ``CancelledError`` and ``ExpectTimeout`` out of time (``left_owed``);
    either way the rest are left to the next ``execute`` (``put_back``),
    which reads on to them from the prompt read, as this one did."""
    due, last = typed
    count, text = read
    prompts = prompts_of(session)
    many = _empties(last) if count < due else 0  # (the usual case: none owed)
    if many == due and _ECHO_LINE_END.match(text):  # (empty lines alone, sent at a prompt:
        text = text.rpartition("\n")[2] + text  # the first read at that one, shown as the last)
    state.typed = None  # (taken: what is still owed is put back)
    out_of_time = False
    try:
        while count < due:
            if _echoed(session, last, text):
                if not many:
                    return  # (its echo read at its prompt: the lines before were answered)
                break  # (a row of output may be the very prompt: see ``_bare``)
            state.synced, state.owed = False, session._buffer.consumed  # (if cancelled)
            coming = await _prompt_coming(session, state, deadline, prompts)
            if not coming:
                out_of_time = coming is None
                break  # (a line with no prompt of its own, a slow one, an end of file)
            previous = state.prompt_text  # (the prompt a line is echoed after)
            try:
                before, m, _ = await read_to_prompt(session, Deadline(0))
            except ExpectError:
                break  # (a prompt pattern found, but no prompt after all: left as it is)
            if many and text:  # (empty lines last: their rows read in a row)
                previous = "\n".join(text.rsplit("\n", many + 1)[-many - 1 :])
            count, text = count + 1, previous + before + m.after
        else:
            return
    except asyncio.CancelledError:
        put_back(session, state, (due - count, last), None)
        in_step(state)  # (at the prompt read: the next execute reads on from there)
        raise
    # Stopped short, the command sent next: the answers still owed may come
    # in front of its echo, an empty line's a bare line end (Rule 2's
    # ``_bare``); not where the text read ends with the prompt twice, glued
    # (read as one): lines answered with no echo (``stty -echo``).
    glued = bool(state.prompt_text) and text.endswith(state.prompt_text * 2)
    state.empties_at = -1 if out_of_time or glued else session.bytes_out
    state.empties_read = session._buffer.consumed
    left_owed(session, state, (due - count, last), out_of_time)


async def _prompt_coming(
    session: Session, state: PromptState, deadline: Deadline, prompts: list[re.Pattern[str]]
) -> bool | None:
    """Whether a prompt is buffered, or comes with each piece of output
    within ``STALE_WAIT`` of the one before; ``None``: the deadline came
    first.  After a send cut short, the peer reads none of its lines while
    its rest waits to be written: that wait (by the deadline) is no line's
    (see ``send_timed``)."""
    while not ends_at_prompt(session, prompts):
        # (told before the wait, not by the time left after it: a timer may
        # go off a rounding error early, the deadline not quite reached)
        left = deadline.left()
        by_deadline = left is not None and left <= STALE_WAIT
        if await more_within(session, deadline, STALE_WAIT, len(session._buffer)):
            continue
        if state.cut:
            if await written(session, state, deadline):
                continue
            return None
        return None if by_deadline and not session._eof else False
    return True


def ends_at_prompt(session: Session, prompts: list[re.Pattern[str]]) -> bool:
    """Whether the buffer ends with a prompt, as ``read_to_prompt`` takes one
    (a prompt pattern's match that ``fits``: output shaped like a wrapped
    prompt is none), so that what reads on to it with no time left finds it."""
    found = (p.search(session.buffer) for p in prompts)
    return any(m is not None and fits(session, m.group()) for m in found)


async def written(session: Session, state: PromptState, deadline: Deadline) -> bool:
    """Whether what a send cut short left queued is written by the deadline
    (an empty write returns once it is); if so, nothing is cut short any more."""
    try:
        async with asyncio.timeout_at(deadline.end):
            await session.transport.write(b"")
    except TimeoutError:
        return False
    except AioexpectError:
        pass  # (nothing goes any more: the next send says why)
    state.cut = False
    return True


def put_back(
    session: Session,
    state: PromptState,
    typed: tuple[int, str | None],
    carried: tuple[int, str | None, int] | None,
    taken_at: int = -1,
) -> None:
    """``execute`` was cancelled catching up to the prompts ``typed`` (from
    ``typed_due``, which took ``carried`` with ``taken_at`` consumed; less
    those read) owes: they stay owed to the next ``execute``.  Nothing read
    since, ``typed_due`` counts them again, and ``carried`` is put back (as
    out of time: ``rest_written``).  Else they are owed from here, also
    where what was read was a pager's page whose answer is the last send."""
    consumed = session._buffer.consumed
    if consumed == taken_at:
        state.typed = carried
    elif typed[0]:
        state.typed = (*typed, consumed)


def left_owed(
    session: Session, state: PromptState, typed: tuple[int, str | None], out_of_time: bool
) -> None:
    """``read_typed`` stopped short of the prompts ``typed`` (from
    ``typed_due``, less those read) owes.  None came within ``STALE_WAIT``
    (a line with no prompt of its own, a slow one, an end of file): they
    are taken for answered.  ``out_of_time``, they stay owed to the next
    ``execute``, and this one sends nothing: ``ExpectTimeout`` (after a
    send cut short whose rest is still queued, ``send_timed`` raises it,
    saying so).  Sent, the command would be typed into their answers, and
    take the first for its own.  The session is left at the prompt read,
    as ``expect_prompt`` leaves it (``carry``): the next ``execute`` reads
    on to them by this rule, not to a prompt it waits for to the end (a
    line that brings none, ``read x``'s answer, would fail every one)."""
    if not out_of_time:
        return
    state.typed = (*typed, session._buffer.consumed)
    if state.cut:
        return
    in_step(state)
    before = session.buffer
    raise ExpectTimeout(
        f"timed out waiting for {what_prompt(session)}, {typed[0]} still owed to lines sent"
        " before (with sendline(), or by a send cut short), each read to before anything"
        f" is sent; last characters received: {evidence_of(session, before)}",
        before=before,
        patterns=prompts_of(session),
    )


def still_owed(session: Session, state: PromptState) -> bool:
    """Whether prompts owed to lines sent before are left for the next
    ``execute`` (``state.typed``, with nothing read since)."""
    return state.typed is not None and state.typed[2] == session._buffer.consumed
