"""Secrets as escaping writes them any number of times: patterns that
``Redactor.redact`` masks with (apart from ``_redact``, whose fixed forms
the transcript and the records look for in every chunk).

A form of a secret escaped by ``repr``, ``ascii``, JSON or ``re.escape``,
once or any number of times in a row, mixed, whatever quote each took, is
its characters each as it is, after any backslashes (a quote escaped, or
``re.escape``'s), or as one or more backslashes and an escape (``\\xe9``,
``\\u00e9``, ``\\n``; those of its UTF-8 bytes, ``\\xc3\\xa9``, where a repr
was encoded and a repr made of the bytes), and each backslash of it a run
of one or more.  So one pattern finds a form at every depth, where a list
of its forms grew twofold with each depth (``ascii``'s and JSON's as many
again).

Invariant: a match kept holds a backslash (``found`` leaves one without:
the secret as it is, a fixed form, found as such), and no run of
backslashes is searched again from each one of it (a long run would cost
its length squared): a pattern starts at the first character of a form as
it is, or at the start of a run.  Nor does one look ahead for a backslash
to come: that cost each occurrence of a long secret's first character up
to the secret's length (seconds for a 10 KB key in 1 MB of text).
"""

from __future__ import annotations

import re
from typing import Any

from ._decode import as_utf8, encoded_within
from ._echo import Echo

__all__ = ["compiled", "escaped_form", "escaped_in"]

#: The escapes of a character other than ``\xNN``, ``\uNNNN`` and
#: ``\UNNNNNNNN`` (``repr``'s, ``ascii``'s and JSON's).
_NAMED = {0x0A: "n", 0x0D: "r", 0x09: "t", 0x08: "b", 0x0C: "f"}

#: A run of backslashes of a form: at its start where the form starts.
_RUN, _FIRST_RUN = r"\\++", r"(?<!\\)\\++"

#: A control character but a tab and a line end: where a text has none,
#: its echo is itself (``Echo.of``).
_CONTROLS: dict[type, re.Pattern[Any]] = {
    str: re.compile("[\x00-\x08\x0b-\x1f\x7f]"),
    bytes: re.compile(b"[\x00-\x08\x0b-\x1f\x7f]"),
}


def compiled(
    forms: list[str | bytes], encoding: str | None
) -> tuple[list[re.Pattern[str]], list[re.Pattern[bytes]]]:
    """The patterns of ``forms`` (``escaped_form``), to search a str with
    and a bytes."""
    forms = list(dict.fromkeys(forms))
    strs = [p for form in forms if (p := escaped_form(form, False, encoding)) is not None]
    raws = [p for form in forms if (p := escaped_form(form, True, encoding)) is not None]
    return [re.compile(p) for p in strs], [re.compile(p.encode("latin-1")) for p in raws]


def escaped_in(text: Any, patterns: list[Any], echo: Echo | None) -> list[tuple[int, int]]:
    """Where ``patterns`` match in ``text`` (``found``), also as a line
    editor's ``echo`` shows it: made here where none was (no part of a
    fixed form showed, as one of an escaped form may) and the text holds
    what an echo leaves out, a control character."""
    spans = found(text, patterns)
    if echo is None and _CONTROLS[bytes if isinstance(text, bytes) else str].search(text):
        echo = Echo.of(text)
    if echo is not None:  # (and a row drawn again: the copy of a part of it too)
        for at, end in found(echo.view, patterns):
            spans += [echo.span(at, end), *echo.copied(at, end)]
    return spans


def escaped_form(form: str | bytes, in_bytes: bool, encoding: str | None = None) -> str | None:
    """The pattern of ``form`` (a secret's text, or the bytes that encode
    it) escaped any number of times, in a str (``in_bytes`` false) or, as
    latin-1 writes those, in bytes: there, a character of a text past ASCII
    is its bytes (UTF-8, and the session's ``encoding``) when as it is; in a
    str, a byte of the bytes past ASCII is never as it is.  ``None`` for
    a form that escaping leaves as it is (one letter: found as it is)."""
    units = [_unit(u, isinstance(form, bytes), in_bytes, encoding) for u in form]
    parts: list[str] = []
    run = False  # (backslashes of the form before this character)
    for code, (shown, escapes) in zip(form, units, strict=True):
        if code in (0x5C, "\\"):
            run = True
            continue
        lead = _RUN if parts else _FIRST_RUN
        ways = []
        for text in shown:
            literal = re.escape(text)
            if run:
                ways.append(lead + literal)
            elif parts:
                ways.append(r"\\*+" + literal)
            else:  # (the first: as it is, or after a backslash: \' or re.escape's \*)
                ways += [literal] if len(form) > 1 else []
                ways += [lead + literal] if literal != text or text in "'\"" else []
        if escapes:
            ways.append(f"{lead}(?:{'|'.join(escapes)})")
        if not ways:
            return None
        parts.append(f"(?:{'|'.join(ways)})")
        run = False
    if run:
        parts.append(_RUN if parts else _FIRST_RUN)
    return "".join(parts)


def _unit(
    unit: str | int, raw: bool, in_bytes: bool, encoding: str | None
) -> tuple[list[str], list[str]]:
    """A character (or byte) of a form: as it is (the texts that show it
    so), and its escapes but their first backslashes (patterns): of the
    character, and of the bytes that encode it, each (not where one of
    those is a backslash or the first shows as it is)."""
    code = unit if isinstance(unit, int) else ord(unit)
    encoded: list[bytes] = []
    if code >= 0x80 and not raw:
        encoded = [as_utf8(chr(code))]
        if encoding is not None and (more := encoded_within(encoding, "a", chr(code))):
            encoded += [more] if more not in encoded else []
    if not in_bytes:
        shown = [chr(code)] if code < 0x80 or not raw else []
    else:
        shown = [b.decode("latin-1") for b in encoded] or [chr(code)]
    if 0x20 <= code < 0x7F:  # (printable ASCII: as it is, but re.escape's \*)
        return shown, []
    escapes = [f"(?i:{'|'.join(_escapes(code))})"]
    escapes += [_bytes_escaped(b) for b in encoded if b"\\" not in b and not 0x20 <= b[0] < 0x7F]
    return shown, escapes


def _bytes_escaped(raw: bytes) -> str:
    """``raw`` as the repr of bytes writes it, but its first backslash."""
    ways = [f"(?i:x{raw[0]:02x})"]
    for byte in raw[1:]:
        printable = 0x20 <= byte < 0x7F
        ways.append(rf"\\*+{re.escape(chr(byte))}" if printable else f"{_RUN}(?i:x{byte:02x})")
    return "".join(ways)


def _escapes(code: int) -> list[str]:
    """``code``'s escapes but their backslash: ``repr``'s and ``ascii``'s
    (``\\xe9``, ``\\u20ac``, ``\\U0001f600``, ``\\n``) and JSON's
    (``\\u00e9``, ``\\ud83d\\ude00``, ``\\b``)."""
    shown = [_NAMED[code]] if code in _NAMED else []
    shown += [f"x{code:02x}"] if code < 0x100 else []
    if code < 0x10000:
        return [*shown, f"u{code:04x}"]
    high, low = divmod(code - 0x10000, 0x400)
    return [*shown, f"U{code:08x}", f"u{0xD800 + high:04x}{_RUN}u{0xDC00 + low:04x}"]


def found(text: Any, patterns: list[Any]) -> list[tuple[int, int]]:
    """Where ``patterns`` (of ``escaped_form``) match in ``text``: each
    match, those that overlap too (a secret found again inside another's
    stretch, or itself, ``abab`` in ``ababab``)."""
    spans = []
    backslash = b"\\" if isinstance(text, bytes) else "\\"
    for pattern in patterns:
        match = pattern.search(text)
        while match:
            if text.find(backslash, *match.span()) >= 0:  # (else the secret as it is)
                spans.append(match.span())
            match = pattern.search(text, match.start() + 1)
    return spans
