"""What a prompt looks like as text, with no session: the control sequences
a line editor puts around it (``CSI``, ``OSC``, ``END``, ``MARGIN``), and,
from a prompt learned, the pattern that finds it changed (a new directory),
alone or glued to output (``changed_prompt``, ``changed_prompt_start``);
and the lines a line editor (readline, zsh's) drew above a prompt's last
one (``drawn_above``).
Apart from ``_prompt_read``, which reads to a prompt: this is pure text
work, run once per prompt learned or found, not per read.
"""

from __future__ import annotations

import functools
import re

from ._ansi import strip_ansi
from ._matcher import search_alone
from ._output import RIGHT_PROMPT
from ._scan import Analysis, analyse, known
from ._wrap import unwrap

__all__ = [
    "CONFIRM",
    "CSI",
    "END",
    "LEADING_CSI",
    "MARGIN",
    "OSC",
    "YES_NO",
    "alike",
    "alike_needed",
    "changed_prompt",
    "changed_prompt_start",
    "drawn_above",
    "may_be_drawn",
    "PASTE_ON",
    "HEAD_REACH",
]

#: A control sequence (CSI: colours, modes, erasing), and the NULs a
#: terminal's padding may add (``_builtin._PAD``).
CSI = r"\x1b\[[0-?]{0,24}[ -/]{0,2}[@-~]\x00{0,26}"
#: Control sequences at a text's start (a line editor's modes before a prompt).
LEADING_CSI = re.compile(rf"\A(?:{CSI})+")
#: A window title (OSC), which a prompt may begin with.
OSC = r"\x1b\][^\x07\x1b\r\n]{0,200}(?:\x07|\x1b\\)"
#: After a prompt's last character: spaces and control sequences, and
#: readline's wrap at the margin: `` \r`` after a prompt as wide as the
#: terminal, ``c\rc`` where a space ``c`` starts the next row (see ``_wrap``).
END = rf"(?:{CSI}| ){{0,8}}(?:(?<= )\r ?)?\Z"
#: The last row of a prompt with invisible parts that readline wrapped:
#: its ``WRAP`` (its ``\r\n`` looked behind: a pattern of the last line,
#: searched with the driver's), then the row (``d\x1b[0m # ``: the patterns
#: do not find a prompt's tail; at most a space where the prompt's last
#: character or space ends a row).  Output may end so too:
#: ``_prompt_wrap.at_margin`` decides; refused, the ``\r`` and its row are left.
#: A ``\r`` in the row is let through for it to judge: past a second margin
#: within the last colour readline wraps the plain way (``dd\rd\x1b[0m # ``).
#: Bounded (a row, its colours with it): searched in the buffer's tail only.
MARGIN = re.compile(r"(?<=\r\n)\r(?:[^\r\n][^\n]{0,255})?\Z")
#: zsh's right prompt at a prompt's end (``_output.RIGHT_PROMPT``), and the
#: modes after it (bracketed paste on).
RIGHT_END = rf"{RIGHT_PROMPT}(?:{CSI}){{0,4}}\Z"

#: A yes/no question where it ends the text: ``[yes/no]``, ``(y/n)``,
#: ``[y/N]:``, no first (PackageKit's ``[N/y]``), ``[confirm]``,
#: ``(yes/no/[fingerprint])?`` (the login dialog's: ``login`` raises at
#: one), JunOS's ``[yes,no] (no)`` (its default in parentheses after the
#: bracket: what the bracket's end may be followed by, up to 40
#: characters, holds it).
YES_NO = (
    r"[\[(](?:[Yy](?:es)?[/,][Nn]o?|[Nn]o?[/,][Yy](?:es)?|confirm)\b"
    rf"[^\r\n]{{0,40}}?[\])]{{1,2}} ?[?:]?{END}"
)
#: A question a command asks, where it ends the text: a yes/no one, or a
#: default offered in brackets, then ``?``, as IOS asks for a file name or
#: an address (``Destination filename [startup-config]?``, ``Address or
#: name of remote host []?``).  ``execute`` sends nothing into one.
CONFIRM = re.compile(rf"(?:{YES_NO})|\[[^\[\]\r\n]{{0,80}}\] ?\?{END}")

#: A line's start, and the control sequences a line editor may put there
#: (bash's bracketed paste mode: ``\x1b[?2004h``).
_LINE_START = rf"(?:\A|(?<=[\r\n]))(?:{CSI}){{0,4}}"


def _visible_end(text: str, count: int) -> int | None:
    """Where in ``text`` its first ``count`` characters that are not part
    of a control sequence end (``None``: it has fewer)."""
    at = 0
    for m in re.finditer(rf"{CSI}|.", text, re.DOTALL):
        if len(m.group()) == 1:
            count -= 1
            at = m.end()
            if not count:
                return at
    return None


def changed_prompt(prompt: str, columns: int | None = None) -> re.Pattern[str] | None:
    """The learned ``prompt`` with its middle free: its first characters
    (``root@``, as ``changed_prompt_start`` counts them, control
    sequences not counted) and its last (``#``, then spaces and control
    sequences, as a line editor may add: a ``\x1b[K``), at the end of the
    last line, the last such start in it.  It finds the prompt of a new
    directory after output that ends in a space (``cd /tmp && printf 'w '``),
    which no driver pattern, anchored at a line start, can.  Its middle is
    free at a line's start (a directory with spaces: no driver pattern takes
    it); glued to output it holds no more spaces than the learned one's (a
    directory, not ``copy to root@vm:/srv 50% #`` in a command's output).
    Not for a prompt of several lines (JunOS's context line above it): the
    driver's patterns find it changed.  ``columns``: the terminal's width
    (a prompt that readline wrapped is one row: see ``unwrap``)."""
    prompt = unwrap(prompt, columns)
    if "\n" in prompt:
        return None
    # A window title (and the modes before it) is found anywhere: it holds
    # the directory, which changes.
    prompt = re.sub(rf"\A(?:(?:{CSI}){{0,4}}{OSC})+", "", prompt)
    # Nor is zsh's right prompt (a time, the directory): its place is kept.
    prompt = re.sub(RIGHT_END, "", prompt)
    head_end = _visible_end(prompt, _head_size(strip_ansi(prompt)))
    end = re.search(rf"[^ \x1b](?:{CSI}| )*\Z", prompt)
    if head_end is None or end is None or end.start() < head_end:
        return None
    spaces = min(3, prompt.count(" ", head_end, end.start()))
    # Its last character, and at least as many spaces after it as the
    # learned one has: output ending in ``50% #`` is not ``... # ``.
    last = re.escape(prompt[end.start()]) + f"(?:{CSI}){{0,4}} " * prompt.count(" ", end.start())
    changed = re.compile(_changed(re.escape(prompt[:head_end]), spaces, last))
    known(changed, _shape(head_end, spaces, last))
    return search_alone(changed)  # (one host's: see ``search_alone``)


def _changed(head: str, spaces: int, last: str) -> str:
    """``changed_prompt``'s pattern, for a ``head`` (a pattern)."""
    free = rf"(?:(?!{head})[^\r\n]){{0,200}}"  # (the last such start)
    word = rf"(?:(?!{head})[^\r\n ]){{0,200}}"
    glued = rf"{word}(?: {word}){{0,{spaces}}}" if spaces else word
    title = rf"(?:{OSC}(?:{CSI}){{0,4}}){{0,2}}"
    # (``\Z`` last, outside the alternation: so it is known to lie in the
    # last line, and only that is searched per chunk, not its whole width)
    ends = rf"(?:{CSI}| ){{0,8}}(?:(?:(?<= )\r ?)?|{RIGHT_PROMPT}(?:{CSI}){{0,4}})\Z"
    return rf"(?:{_LINE_START}{title}{head}{free}|{head}{glued}){last}{ends}"


@functools.lru_cache(maxsize=256)
def _shape(size: int, spaces: int, last: str) -> Analysis:
    """The analysis (``_scan``) of ``changed_prompt``'s pattern for a head
    of ``size`` characters, which is all literals and holds no line end:
    the same for any such head, parsed once for the hosts whose prompts
    have its shape rather than once for each (each its own pattern)."""
    return analyse(re.compile(_changed("a" * size, spaces, last)))


def changed_prompt_start(learned: str, text: str) -> int:
    """Where in ``text`` (a prompt match) a prompt starts that begins as the
    ``learned`` one (its user and host, say, before a directory that
    changed), if not at 0: a good part of it alike, and more than at 0."""
    need = _head_size(learned)
    if alike(learned, text) >= need:
        return 0  # the prompt itself, changed further on
    for start in range(1, len(text) - need + 1):
        if alike(learned, text[start:]) >= need:
            return start
    return 0


def alike_needed(learned: str) -> int:
    """How many first characters of the ``learned`` prompt a changed one shares."""
    return max(3, min(8, len(learned) // 2))


def _head_size(learned: str) -> int:
    """How many first characters of the ``learned`` prompt begin a changed
    one (``changed_prompt``): ``alike_needed``'s, but not past the end of
    its host (its first ``:``, or the space before the directory), and no
    fewer than three.  The directory follows it, and changes: with a short
    host (``mbp:~ alice$ ``, macOS) half the prompt holds the ``~``, and
    ``mbp:My Dir alice$ `` was not found."""
    ends = (learned.find(":") + 1, learned.find(" "))
    return max(3, min([alike_needed(learned), *(end for end in ends if end > 0)]))


def alike(a: str, b: str) -> int:
    """The length of the longest common prefix of ``a`` and ``b``."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


# -- the lines a line editor drew above a prompt's last one ---------------------------

#: readline switches bracketed paste on as it starts to read a line, right
#: before it draws the prompt (bash 5.1 and later, unless turned off), and
#: off once the line is read.
PASTE_ON, _PASTE_OFF = "\x1b[?2004h", "\x1b[?2004l"
#: How far above a prompt's last line readline's lines are looked for:
#: characters, and lines.
HEAD_REACH, _HEAD_LINES = 1024, 4


#: zsh as it starts to draw a prompt, once the command ended: the end of
#: its PROMPT_SP mark (spaces to the margin, ``\r``, as many spaces as the
#: mark has characters, ``\r``; see ``_output._EOL_TAIL``; an empty mark:
#: ``\r\r``), which its hooks' output follows (``precmd() { print }``, a
#: blank line; a theme's first line), then PROMPT_CR's ``\r``.  A line
#: erased the same way (a progress meter's ``\r`` spaces ``\r``, a pager's
#: prompt) is no mark unless what follows is zsh's: see ``_zsh``.
_SP_END = re.compile(r"(?<= {8})\r(?: {1,16}\r(?!\n)|\r(?=\r))")
_MARK_END = " " * 8 + "\r"  # (what ``_SP_END`` needs: the cheap test)
#: ... and, whatever its options, its line editor's reset of the attributes
#: then standout and underline off, as the terminal spells them (``ESC[0m
#: ESC[27m ESC[24m`` on ``xterm``, ``ESC[23m`` on ``screen``, ``ESC[m^O`` on
#: ``linux``, ``ESC[m`` and NUL padding on ``vt100`` and ``ansi``), and its
#: clearing to the screen's end (``ESC[J``), which the prompt follows.  Its
#: spelling only: a program's colour resets and ``ESC[J`` at its end (``tput
#: ed``) are no prompt's start.  (Output that ends with exactly this, in the
#: last lines before another shell's prompt, would lend them to it.)
_ZLE_CLEARS = re.compile(
    r"\x1b\[0?m\x0f?\x00*\x1b\[(?:2[37])?m\x00*\x1b\[(?:24)?m\x00*\x1b\[J\x00*"
)


def may_be_drawn(before: str) -> bool:
    """Whether ``drawn_above`` may find lines drawn above a prompt that
    ``before`` comes in front of: the cheap test, for every prompt found
    (exact: the signs ``_pasting`` and ``_zsh`` need, in their reach; a
    device's prompt after its output has none)."""
    if not before.endswith(("\n", "\r", "\x1b[J", "\x00")):
        return False
    base = max(0, len(before) - HEAD_REACH)
    return (
        before.find(PASTE_ON, base) >= 0
        or before.find(_MARK_END, base) >= 0
        or before.find("\x1b[J", base) >= 0
    )


def drawn_above(before: str, prompt: str, at_start: bool) -> int:
    """Where in ``before``, the text in front of ``prompt`` (a prompt's last
    line, which the patterns found), the lines a line editor drew above it
    begin (``len(before)``: none; nor where more than ``_HEAD_LINES`` lines
    would be): readline's (``_pasting``), or zsh's (``_zsh``).  Nothing a
    command prints comes after where they begin (``printf x`` gives
    ``x%  ...\\r \\r\\r\\x1b[J~\\r\\n% ``).  Not where ``before`` ends within a
    line, but for zsh's PROMPT_CR and line editor's clearing after its hooks'
    lines (``\\r \\r[~]\\r\\n\\r``, the clearing then in ``prompt``): with no
    line after where it began, ``prompt`` is the prompt's only line
    (``\\r\\x1b[Jhost% ``)."""
    if before.endswith("\n"):
        at = _pasting(before, prompt, at_start)
        at = _zsh(before, prompt) if at is None else at
    elif before.endswith(("\r", "\x1b[J", "\x00")):  # (a terminal's padding: 213 NULs on vt100)
        # (cheaply first: no line end after the last space and \r, no mark
        # with lines after it: a one-line prompt's)
        last = before.rfind(" \r", max(0, len(before) - HEAD_REACH))
        at = _zsh(before, prompt) if last >= 0 and before.find("\n", last) >= 0 else None
        at = None if at is None or before.find("\n", at) < 0 else at
    else:
        return len(before)
    if at is None or before.count("\n", at) > _HEAD_LINES:
        return len(before)
    return at


def _zsh(before: str, prompt: str) -> int | None:
    """Where in ``before`` zsh last began to draw ``prompt``: after its
    PROMPT_SP mark (``_SP_END``) where PROMPT_CR's ``\r`` follows it, right
    after it or after its hooks' last line (``_ZLE_CLEARS`` after that, but
    on a dumb terminal); else after its line editor's clearing alone (no
    mark).  Without PROMPT_CR's ``\r`` (no line editor: ``unsetopt zle``)
    the mark reads as a line erased in a command's output (a progress
    meter's ``\r`` spaces ``\r``, then its last lines): no prompt's start."""
    base = max(0, len(before) - HEAD_REACH)
    if before.find(_MARK_END, base) < 0 and before.find("\x1b[J", base) < 0:
        return None  # (the cheap test first: bash, dash, devices)
    marks = [m.end() for m in _SP_END.finditer(before, base)]  # (a tail: a few at most)
    clears = [m.span() for m in _ZLE_CLEARS.finditer(before, base)]
    if not clears and _ZLE_CLEARS.match(prompt):
        clears = [(len(before), len(before))]  # (the pattern took it: a hook's lines above)
    mark = marks[-1] if marks else None
    if clears:
        start, end = clears[-1]
        between = before[mark:start] if mark is not None and mark <= start else ""
        return mark if between == "\r" or between.endswith("\n\r") else end
    if mark is None:
        return None
    after = before[mark:]  # (PROMPT_CR's \r: not a line end's, nor a blank line's)
    cr = (after.startswith("\r") and not after.startswith("\r\n")) or _HOOKS_CR.search(after)
    return mark if cr else None


#: PROMPT_CR's ``\r`` after the last line zsh's hooks print.
_HOOKS_CR = re.compile(r"\n\r(?!\n)")


def _pasting(before: str, prompt: str, at_start: bool) -> int | None:
    """Where in ``before`` the lines readline drew above ``prompt`` begin:
    right after it switched bracketed paste on, if not off since (it would
    have read a line then).  Nothing a command prints comes between: its
    output ended before (``printf x`` gives ``x\\x1b[?2004h[~]\\r\\r\\n# ``).
    ``None``: none (readline switched it on in front of ``prompt``; no
    switch, as from dash, zsh, ``bash --noediting`` or a device; zsh
    switches it on after its prompt, and the command's echo may come after
    that, on its line).  ``at_start``: ``before`` begins the session (else
    a prompt ended just before it, on the line a command was then typed on)."""
    modes = LEADING_CSI.match(prompt)
    if modes is not None and PASTE_ON in modes.group():
        return None
    at = before.rfind(PASTE_ON, max(0, len(before) - HEAD_REACH))
    if at < 0 or (not at_start and before.rfind("\n", 0, at) < 0):
        return None
    at += len(PASTE_ON)
    return None if before.find(_PASTE_OFF, at) >= 0 else at
