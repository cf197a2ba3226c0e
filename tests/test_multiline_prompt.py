"""zsh's prompts as terminals other than xterm spell them, and a prompt of
two lines drawn by zsh's line editor."""

from __future__ import annotations

from aioexpect._output import clean_output


def test_zsh_s_end_of_line_mark_as_a_linux_console_spells_it() -> None:
    # Its bold inverse ends with ESC[m^O there (NUL-padded on vt100): the
    # old code left the mark, which then overwrote the output ('x' was ' #').
    for spaces, off, pad in ((" " * 79, "\x1b[m\x0f", ""), (" " * 79, "\x1b[m", "\x00" * 8)):
        mark = f"\x1b[1m{pad}\x1b[7m{pad}#{off}{pad}\x1b[1m{pad}{off}{pad}"
        raw = f"printf x\r\nx{mark}{spaces}\r \r\r{off}{pad}\x1b[27m\x1b[24m\x1b[J{pad}"
        assert clean_output(raw, "printf x") == "x"
