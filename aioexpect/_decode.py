"""Incremental decoding of received bytes.

A multi-byte character split across chunks is held back until its last byte
arrives; ``flush()`` at end-of-file releases (or replaces, per
``codec_errors``) whatever incomplete sequence is left.
"""

from __future__ import annotations

import codecs
from typing import Any

__all__ = ["Decoder", "check_codec"]


def check_codec(encoding: str | None, errors: str) -> None:
    """``ValueError`` for an unknown encoding or error handler."""
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}") from None
    try:
        codecs.lookup_error(errors)
    except LookupError:
        raise ValueError(f"unknown codec_errors handler {errors!r}") from None


class Decoder:
    """Bytes in, text out (or bytes out when ``encoding`` is ``None``)."""

    __slots__ = ("_decode", "bytes_mode")

    def __init__(self, encoding: str | None, errors: str = "replace") -> None:
        check_codec(encoding, errors)
        self.bytes_mode = encoding is None
        self._decode: Any = (
            None if encoding is None else codecs.getincrementaldecoder(encoding)(errors).decode
        )

    def decode(self, data: bytes) -> Any:
        if self._decode is None:
            return bytes(data)
        return self._decode(data)

    def flush(self) -> Any:
        """End of input: whatever an incomplete sequence decodes to."""
        if self._decode is None:
            return b""
        return self._decode(b"", True)
