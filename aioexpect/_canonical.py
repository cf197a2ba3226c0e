"""The canonical-line check done before sending to a terminal: a line
longer than the terminal's canonical-mode limit would be cut by the kernel,
so it is refused with ``ValueError`` before anything is written."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from ._decode import Encoder

__all__ = [
    "MIN_CANON",
    "NO_LINE",
    "CanonicalLine",
    "PendingLine",
    "check_line_limit",
    "encode_send",
]


#: POSIX's smallest canonical-mode line limit (MAX_CANON): shorter lines
#: need no check against the terminal.
MIN_CANON = 255


@dataclasses.dataclass(frozen=True)
class CanonicalLine:
    """How a terminal in canonical mode reads a line: at most ``limit``
    bytes; after each byte of ``ends`` a new line starts (one was handed
    over, as by ``\\n``, or discarded, as by the kill character); each byte
    of ``dropped`` is thrown away uncounted (``\\r`` under IGNCR); the byte
    after ``literal`` (VLNEXT) is an ordinary one; each byte of ``doubled``
    takes two (0xff under PARMRK, which marks it so).  Unsure, a terminal is
    described as ending fewer lines: a line refused is better than one cut."""

    limit: int
    ends: bytes = b"\n"
    dropped: bytes = b""
    literal: bytes = b""
    doubled: bytes = b""


#: What a session knows of the terminal's unfinished line: its length when
#: last worked out from the terminal's rules, and the bytes sent since then
#: (at most MIN_CANON), not yet read by those rules.
PendingLine = tuple[int, bytes]
NO_LINE: PendingLine = (0, b"")


def encode_send(
    encoder: Encoder, pending: PendingLine, data: Any, rules: Callable[[], CanonicalLine | None]
) -> tuple[bytes, PendingLine]:
    """The bytes a send of ``data`` writes, and the terminal's unfinished
    line after them (see ``check_line_limit``); a send refused leaves the
    encoder as it was (``Encoder.encode``)."""
    raw, state = encoder.encode(data)
    try:
        return raw, check_line_limit(pending, raw, rules)
    except BaseException:
        encoder.undo(state)
        raise


def check_line_limit(
    pending: PendingLine, raw: bytes, rules: Callable[[], CanonicalLine | None]
) -> PendingLine:
    """The terminal's unfinished line after sending ``raw`` to it with
    ``pending`` already; ``ValueError`` if a line would exceed the
    canonical-mode limit.  The ``rules()`` are asked only when a line could
    (so the common short send costs no system call); until then the bytes
    are kept, as which of them end a line only the rules tell."""
    known, unread = pending
    if known + len(unread) + len(raw) <= MIN_CANON:
        return known, unread + raw
    line = rules()
    if line is None:  # raw mode: the peer reads bytes, not lines
        return NO_LINE
    # Each byte becomes its role: "\n" ends a line, D is dropped, L escapes
    # the next byte, W is stored twice, O is an ordinary one.
    table = bytearray(b"O" * 256)
    roles_of = (b"W", line.doubled), (b"L", line.literal), (b"D", line.dropped), (b"\n", line.ends)
    for role, chars in roles_of:
        for char in chars:
            table[char] = role[0]
    roles = (unread + raw).translate(table)
    if b"L" in roles:  # (an escaped byte is stored, as it is: its escape is not)
        roles = re.sub(rb"L([\s\S])", _escaped, roles)
    escaping = roles.endswith(b"L")  # (the next send's first byte is escaped)
    stored = roles[: len(roles) - escaping].replace(b"D", b"")
    *lines, tail = stored.split(b"\n")
    if known + _stored(stored) <= line.limit:  # (so is every line of it: none to look at)
        return (known if not lines else 0) + _stored(tail), line.literal if escaping else b""
    for piece in lines:
        if known + _stored(piece) > line.limit:
            raise ValueError(
                f"a line of {known + _stored(piece)} bytes exceeds the terminal's canonical-mode"
                f" limit of {line.limit}: the kernel would truncate it; send it in raw mode"
                " (e.g. `stty raw`) or split it"
            )
        known = 0
    if known + _stored(tail) > line.limit:
        # (under ``stty extproc`` no byte ends a line: "\n" is none)
        none = " (the terminal takes none: stty extproc)" if not line.ends else ""
        raise ValueError(
            f"{known + _stored(tail)} bytes without a line end{none} exceed the terminal's"
            f" canonical-mode limit of {line.limit}: the kernel would truncate the line"
        )
    return known + _stored(tail), line.literal if escaping else b""


def _escaped(m: re.Match[bytes]) -> bytes:
    return b"W" if m[1] == b"W" else b"O"  # (an escaped 0xff is marked all the same)


def _stored(roles: bytes) -> int:
    """How many bytes of the terminal's line buffer a line's ``roles`` take."""
    return len(roles) + roles.count(b"W")
