"""Cleaning what ``execute`` returns: echo removal and terminal rendering.

Pure functions, no I/O.  ``clean_output(raw, command)`` drops the echoed
command line (also when the terminal wrapped it, or the line editor redrew it
with carriage returns, backspaces and control sequences), then renders each
line as a terminal would show it (``\\r`` and ``\\b`` move the cursor, erase
sequences erase, other control sequences vanish) and joins lines with ``\\n``.
"""

from __future__ import annotations

import re

__all__ = [
    "RIGHT_FIRST",
    "RIGHT_PROMPT",
    "RIGHT_TEXT",
    "clean_output",
    "echo_end",
    "render",
    "right_prompt_end",
]

# One token of terminal output: printable text, a control sequence, or a
# single control character.  An unfinished sequence at the end is dropped.
_TOKENS = re.compile(
    r"(?P<text>[^\x00-\x1f\x7f-\x9f]+)"
    r"|\x1b\[(?P<params>[0-?]*)[ -/]*(?P<final>[@-~])"
    r"|(?P<seq>\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b\[[0-?]*[ -/]*"  # a CSI cut short
    r"|\x1b[()*+][0-~]?|\x1b[ -/]*[0-~]?"  # charsets, keypad, other escapes
    r"|\x9b[0-?]*[ -/]*[@-~]?)"  # 8-bit CSI
    r"|(?P<ctl>[\x00-\x1f\x7f-\x9f])"
)
_SPACE = re.compile(r"\s+")
#: zsh's right prompt (``RPROMPT``, ``RPS1``), drawn after the prompt: a
#: move right to the margin (``ESC[60C``; vt100's NUL padding before it),
#: the text, coloured or not (``[23:27]``, ``~ 23:27:19``), then a move
#: left back to the prompt's end (``ESC[67D``), where the cursor waits;
#: with ``ZLE_RPROMPT_INDENT=0`` (powerlevel10k's advice) the text ends
#: in the last column, and ``\r`` and a move right (``ESC[12C``; zsh's
#: colours reset between) bring the cursor back.  Both moves, or it is no
#: right prompt.  ``RIGHT_TEXT``: colours (and powerlevel9k's ``ESC[K``)
#: and text, a possessive run of them that never takes the move left; up
#: to 40 runs (a run of text of up to 19 characters: a longer one takes
#: two), which a powerline theme's five segments, each with its colours
#: and separators, take (38 in powerlevel9k's ``status root_indicator
#: background_jobs history time``).  No run longer than a colour of 16
#: characters of parameters (``38;2;255;255;255``): this keeps the width
#: of ``drivers.UNIX_RIGHT_PROMPT``, and so how far back a prompt is
#: searched in a long line, within ``UNIX_PROMPT``'s.  (The same in
#: ``_ansi``'s stripper, which cannot import it.)
RIGHT_TEXT = r"(?:[^\x00-\x1f\x7f]{1,19}+|\x1b\[[\d;:]{0,16}[mK]){1,40}+"
RIGHT_PROMPT = (
    rf"\x00{{0,16}}\x1b\[\d{{1,4}}C{RIGHT_TEXT}"
    r"(?:\x1b\[\d{1,4}D|\r(?:\x1b\[[\d;:]{0,8}m){0,4}\x1b\[\d{1,4}C)"
)
#: A right prompt at the start of an answer: zsh writes it apart from the
#: prompt (``ESC[K`` first), so a read may end between the two, the prompt
#: is found, and the right prompt comes in front of the next command's echo;
#: so may the prompt's last space(s), where a read ended before them.
RIGHT_FIRST = r"\A {0,4}(?:\x1b\[[0-?]{0,24}[ -/]{0,2}[@-~]){0,4}"
_RIGHT_FIRST = re.compile(RIGHT_FIRST + RIGHT_PROMPT)
#: zsh's PROMPT_SP at the end of the output: its end-of-line mark (by
#: default ``%`` or ``#`` in bold inverse; PROMPT_EOL_MARK may change or
#: empty it), spaces to the margin, ``\r``, as many spaces as the mark has
#: characters, ``\r``, then the control sequences that open its prompt.
#: After output without a final line end the spaces wrap, so the rest would
#: be drawn on a line of its own and the ``\r`` not return to the output's
#: line: it is removed whole.  (The tail: terminals of up to 2,000 columns.)
#: Its attributes as the terminal spells them: ``ESC[m^O`` ends them on
#: ``linux``, NULs pad them on ``vt100``.
_EOL_TAIL = re.compile(r" {2,}\r( {0,16})\r(?:\r|\x0f|\x00|\x1b\[[0-?]*[ -/]*[@-~])*\Z")
_SGR = r"(?:\x1b\[[0-9;]*m\x0f?\x00*)*"
_EOL_REACH = 2048
#: Any control character but the line feed.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
#: What a terminal's padding may follow, besides a control sequence: NULs
#: (the padding itself) and shift in/out (vt100's ``ESC[m^O`` then its
#: ``$<2>``); also a carriage return after text (telnet's NVT sends a bare
#: CR as CR NUL: ``50%\r\x00100%``), not after a sequence (bash's ``ESC
#: [?2004l\r`` before a command's output, which may begin with NULs).
#: Padding is no output: NULs elsewhere are a program's.
_PADDED = "\x00\x0e\x0f"


def clean_output(raw: str, command: str | None = None, sent_at: int = 0) -> str:
    """``raw`` without the echo of ``command`` (if echoed), rendered.

    With ``command=None`` nothing is taken for an echo.  ``sent_at``: where
    ``raw`` reached when the command was sent.  What came before (a message
    the device printed after its prompt) stays, in front of the output; the
    echo can only come after it, and is looked for there.  What came before
    and shows nothing (a prompt's last space, or a line end, that a serial
    console server sent in a chunk of its own after the prompt was matched)
    is no message: the echo is looked for across it and takes it along, as
    it did before ``sent_at``, or it would be glued to the output; without
    an echo it goes all the same, as it came before the command was sent.
    """
    if command is not None:
        first = right_prompt_end(raw)
        # (zsh's right prompt, come after its prompt was read: before the
        # send, or the echo follows; else output that begins so, unechoed)
        if first and (first <= sent_at or echo_end(raw[first:], command)):
            raw, sent_at = raw[first:], max(0, sent_at - first)
        if sent_at and not render(raw[:sent_at]).strip():
            end = echo_end(raw, command)
            if end:
                return render(_drop_eol_mark(raw[end:]))
            # (no echo across it: what shows the command, bash's readline
            # line end with the echo off, is looked for where it was sent)
            raw, sent_at = raw[sent_at:], 0
        end = echo_end(raw[sent_at:], command)
        if end:
            kept = raw[:sent_at]
            if not kept.endswith("\n") and render(kept).strip():
                kept += "\n"  # (its line ends where the echo began, gone with it)
            raw = kept + raw[sent_at + end :]
    return render(_drop_eol_mark(raw))


def _drop_eol_mark(raw: str) -> str:
    """``raw`` without zsh's PROMPT_SP at its end (see ``_EOL_TAIL``)."""
    base = max(0, len(raw) - _EOL_REACH)
    if " \r" not in raw[base:]:
        return raw  # (the mark's spaces end with a \r: most output has none)
    tail = _EOL_TAIL.search(raw, base)
    if tail is None:
        return raw
    width = len(tail.group(1))  # the mark's, which the second run of spaces erased
    if not width:
        return raw[: tail.start()]
    mark = re.compile(f"{_SGR}[^\\s\\x1b]{{{width}}}{_SGR}\\Z")  # (re caches it)
    found = mark.search(raw, base, tail.start())
    return raw if found is None else raw[: found.start()]


def render(raw: str) -> str:
    """Each line as a terminal shows it, lines joined with ``\\n``.

    Line endings (``\\r\\n``, ``\\r\\r\\n``, ``\\n\\r``) become ``\\n``; a
    ``\\r`` inside a line returns to its start and later text overwrites
    (progress bars), ``\\b`` steps back, ``ESC[K`` erases to the end of the
    line, cursor moves (``ESC[nD``/``C``/``G``) are followed; other control
    sequences and characters are removed, and the NULs that pad a sequence
    (vt100's ``ESC[K`` then 12 NULs); a NUL a program wrote (``printf
    'a\\0b'``) is kept where it stands.  A line the cursor moved on loses
    its trailing spaces (they are what erasing left behind).
    """
    text = raw.replace("\r\n", "\n")
    if _CONTROL.search(text) is None:
        return text  # the common case, in one pass
    return "\n".join(_render_line(line) for line in text.split("\n"))


def _render_line(line: str) -> str:
    line = line.rstrip("\r")
    if line.isprintable():
        return line
    cells: list[str] = []
    col = 0
    moved = padding = after_text = False
    for m in _TOKENS.finditer(line):
        text = m.group("text")
        if text is None and m.group("ctl") == "\x00" and not padding:
            text = "\x00"  # (a program's own: kept, where it stands)
        if text is not None:
            if col > len(cells):
                cells.extend(" " * (col - len(cells)))
            cells[col : col + len(text)] = text
            col += len(text)
            padding, after_text = False, True
            continue
        after_text_before, after_text = after_text, False
        if m.group("final") is not None:
            col, moved = _csi(cells, col, m.group("params"), m.group("final"), moved)
            padding = True
        elif m.group("seq") is not None:
            padding = True
        elif m.group("ctl") is not None:
            ch = m.group("ctl")
            padding = ch in _PADDED or (ch == "\r" and after_text_before)
            if ch == "\r":  # at the line start already, nothing moves
                col, moved = 0, moved or col > 0
            elif ch == "\b":
                col, moved = max(0, col - 1), moved or col > 0
            elif ch == "\t":
                cells[col : col + 1] = "\t"
                col += 1
    out = "".join(cells)
    return out.rstrip(" ") if moved else out


def _csi(cells: list[str], col: int, params: str, final: str, moved: bool) -> tuple[int, bool]:
    """Apply the cursor and erase sequences that shape a line's text."""
    if final not in "KDCG":
        return col, moved
    try:
        n = int(params) if params else 0
    except ValueError:
        return col, moved
    if final == "K":
        if n == 0:
            del cells[col:]
        elif n == 1:
            cells[: min(col + 1, len(cells))] = " " * min(col + 1, len(cells))
        elif n == 2:
            cells[:] = " " * len(cells)
    elif final == "D":
        col = max(0, col - max(n, 1))
    elif final == "C":
        col += max(n, 1)
    else:
        col = max(n, 1) - 1
    return col, True


def _squash(text: str, out: list[str]) -> None:
    """Append ``text``'s visible characters to ``out``, whitespace dropped;
    a backspace removes the last one (line editors redraw that way)."""
    for m in _TOKENS.finditer(text):
        chunk = m.group("text")
        if chunk is not None:
            out.extend(_SPACE.sub("", chunk))
        elif m.group("ctl") == "\b" and out:
            out.pop()


def _redrawn(text: str) -> bool:
    """Whether a line editor moved the cursor while echoing ``text``."""
    return "\b" in text or "\x1b" in text or re.search(r"\r[^\r\n]", text) is not None


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


def right_prompt_end(raw: str) -> int:
    """Where zsh's right prompt ends if ``raw`` begins with one (see
    ``_RIGHT_FIRST``), or 0."""
    if not raw.startswith(("\x1b", "\x00", " ")):
        return 0
    found = _RIGHT_FIRST.match(raw)
    return found.end() if found else 0


def echo_end(raw: str, command: str, cr: bool = False) -> int:
    """Where the echo of ``command`` ends in ``raw`` (after its line feed), or 0.

    The echo is the first lines of ``raw`` whose visible characters, spaces
    ignored, are the command's.  Line editors that wrap the line at the
    terminal's margin or redraw it may repeat a few characters; when the
    text shows such redrawing, a near match (the command's characters, in
    order, plus at most a tenth more) also counts.  Without an echo (the
    terminal's echo off), the line end bash's readline writes all the same
    (``_READLINE_LINE_END``) is taken for it, and nothing after it is.
    ``cr``: where a CR is no Enter (``stty -icrnl``) the CR of a CR LF
    ``linesep`` sent whole (by ``sendline``: ``execute`` sends the LF
    alone) is the line's, and the terminal echoes it as ``^M`` (ECHOCTL);
    else a first line reading so is output (``cr_echoed``).
    """
    first = right_prompt_end(raw)
    if first:  # (zsh's right prompt, after the prompt was read: not the echo's)
        rest = echo_end(raw[first:], command, cr)
        return first + rest if rest else 0
    nl = raw.find("\n")
    if nl >= 0 and raw[:nl].rstrip("\r") == command:
        return nl + 1  # the common case: echoed as typed
    if cr and nl >= 0 and raw[:nl].rstrip("\r") == command + "^M":
        return nl + 1  # (its CR the line's: see above)
    end = _READLINE_LINE_END.match(raw)
    return end.end() if end else _typed_line_end(raw, command)


#: What bash's readline writes for Enter when the terminal's echo is off:
#: bracketed paste off, ``\r``, its line feed (``\r\n`` on the terminal).
#: Only this exact form: a blank first line of output looks alike otherwise.
_READLINE_LINE_END = re.compile(r"\A\x1b\[\?2004l\r\r\n")


#: readline's redraw of the rows of a line that ends at the terminal's
#: margin: back to a row's start and up (``\r\x1b[A``), then the row(s)
#: again, the first with the prompt; what comes after it up to the line
#: end repeats what was echoed.
_ROW_REDRAW = re.compile(r"\r\x1b\[[0-9]*A")


def _typed_line_end(raw: str, command: str) -> int:
    """``echo_end`` past its common case: the command's characters over one
    or more lines, maybe redrawn (a redraw of rows, ``_ROW_REDRAW``, only
    repeats them: it is not counted)."""
    target: list[str] = []
    _squash(command, target)
    slack = max(4, len(target) // 10)
    seen: list[str] = []
    start = 0
    while True:
        nl = raw.find("\n", start)
        if nl < 0:
            return 0
        up = _ROW_REDRAW.search(raw, start, nl)
        _squash(raw[start : nl if up is None else up.start()], seen)
        if seen == target:
            return nl + 1
        extra = len(seen) - len(target)
        if 0 < extra <= slack and _redrawn(raw[:nl]) and _is_subsequence(target, seen):
            return nl + 1
        if extra > slack:
            return 0
        start = nl + 1
