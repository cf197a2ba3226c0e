"""ANSI/VT100 control sequences: stripping, whole or incrementally.

``AnsiStripper`` holds back an escape sequence that is cut at the end of a
chunk, so a sequence split across chunks is still removed.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["AnsiStripper", "strip_ansi"]

_SEQ = (
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC (title, hyperlinks)
    r"|[PX^_][^\x1b]*\x1b\\"  # DCS, SOS, PM, APC
    r"|[()*+][0-~]"  # charset designation
    r"|[ -/]*[0-OQ-WYZ\\`-~])"  # other escapes (not the CSI/OSC/DCS introducers)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_PARTIAL = (
    r"(?:\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[PX^_][^\x1b]*\x1b?|[()*+]|[ -/]*)?"
    r"|\x9b[0-?]*[ -/]*)\Z"
)
_TEXT = (re.compile(_SEQ), re.compile(_PARTIAL))
_BYTES = (re.compile(_SEQ.encode()), re.compile(_PARTIAL.encode()))
#: A cut sequence longer than this is let through rather than held for ever.
MAX_HOLD = 4096


def strip_ansi(text: Any) -> Any:
    """``text`` (str or bytes) without terminal control sequences."""
    seq = (_BYTES if isinstance(text, bytes) else _TEXT)[0]
    return seq.sub(text[:0], text)


class AnsiStripper:
    """Strips control sequences from a stream of chunks."""

    __slots__ = ("_empty", "_held")

    def __init__(self, empty: str | bytes = "") -> None:
        self._empty = empty  # what the chunks are: str, or bytes in bytes mode
        self._held: Any = None

    def feed(self, chunk: Any) -> Any:
        if self._held:
            chunk = self._held + chunk
            self._held = None
        seq, partial = _BYTES if isinstance(chunk, bytes) else _TEXT
        escape = b"\x1b" if isinstance(chunk, bytes) else "\x1b"
        last = chunk.rfind(escape, max(0, len(chunk) - MAX_HOLD))
        if last >= 0 and partial.match(chunk, last) and not seq.match(chunk, last):
            self._held = chunk[last:]
            chunk = chunk[:last]
        return seq.sub(chunk[:0], chunk)

    def flush(self) -> Any:
        held, self._held = self._held, None
        return held or self._empty
