"""Incremental decoding of received bytes.

A multi-byte character split across chunks is held back until its last byte
arrives; ``flush()`` at end-of-file releases (or replaces, per
``codec_errors``) whatever incomplete sequence is left.
"""

from __future__ import annotations

import codecs
import string
import sys
from typing import Any, ClassVar

__all__ = ["Decoder", "Encoder", "as_utf8", "ascii_compatible", "check_codec", "encoded_within"]

#: The built-in ``codec_errors`` handlers that never raise on decoding.
_NEVER_RAISE = frozenset({"replace", "ignore", "backslashreplace", "surrogateescape"})
#: Line ends, letters and digits: what an ASCII-compatible codec writes as ASCII.
_ASCII_SAMPLE = "\r\n" + string.ascii_letters + string.digits


def check_codec(encoding: str | None, errors: str) -> None:
    """``ValueError`` for an unknown encoding or error handler."""
    if encoding is not None:
        try:
            info = codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}") from None
        if not getattr(info, "_is_text_encoding", True):  # rot13, hex, base64, zlib...
            raise ValueError(f"{encoding!r} is not a text encoding (bytes to str)")
    try:
        handler = codecs.lookup_error(errors)
    except LookupError:
        raise ValueError(f"unknown codec_errors handler {errors!r}") from None
    if not _handles_decoding(handler):
        # (xmlcharrefreplace, namereplace: the first byte that did not
        # decode ended the session with a TypeError from inside the codec)
        raise ValueError(f"codec_errors={errors!r} is for encoding only, not for decoding")
    if encoding is not None and not _decodes_as_it_comes(encoding, errors):
        # (idna holds all up to a dot, and takes no handler but "strict": the
        # session's output never came, and close() raised a bare UnicodeError)
        raise ValueError(
            f"{encoding!r} with codec_errors={errors!r} cannot decode output as it arrives"
        )


def _handles_decoding(handler: Any) -> bool:
    """Whether an error handler takes a byte that does not decode: it
    replaces it, or gives up (as ``strict`` does, which stops reading)."""
    error = UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
    try:
        result = handler(error)
    except UnicodeDecodeError:
        return True
    except Exception:
        return False
    return isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], str)


def _decodes_as_it_comes(encoding: str, errors: str) -> bool:
    """Whether a line in ``encoding`` decodes as soon as it has arrived."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors)
        return bool(decoder.decode("a\n".encode(encoding)) == "a\n")
    except (LookupError, UnicodeError):
        return False


#: Codecs (by their canonical names) whose encoder keeps no state between
#: sends: each send is encoded alone, without an incremental encoder's
#: state to save and restore.
_STATELESS = frozenset({"utf-8", "ascii", "iso8859-1"})


class Encoder:
    """What ``send`` writes for ``data``: str encoded, bytes-like copied.

    One incremental encoder serves the session's life, so that a codec that
    starts its text with a byte order mark (utf-16, utf-32, utf-8-sig) writes
    it once, before the first text sent, where the peer's decoder looks for
    it; encoding each send alone put one before every send, which the peer
    read as a U+FEFF in its input.  Each send still ends the codec's shift
    state (iso2022), as encoding it alone did.  A codec with no incremental
    encoder encodes each send alone, as before.
    """

    __slots__ = ("_encoder", "_encoding")

    def __init__(self, encoding: str | None) -> None:
        self._encoding = encoding or "utf-8"
        codec = codecs.lookup(self._encoding)
        factory = None if codec.name in _STATELESS else codec.incrementalencoder
        self._encoder: Any = None if factory is None else factory()

    def encode(self, data: Any, errors: str = "strict") -> tuple[bytes, Any]:
        """The bytes for ``data``, and what ``undo`` takes to leave the
        encoder as it was before them: a send refused (a character the
        codec cannot encode, or a line too long) must leave no trace: an
        iso2022 send refused halfway left it shifted, and the next send's
        first characters were garbled; a first utf-16 send refused took the
        byte order mark with it.  ``errors``: what a character the codec
        has none for becomes (``interact`` sends keys with ``codec_errors``)."""
        if type(data) is str and self._encoder is None:  # (the common case)
            return data.encode(self._encoding, errors), None
        if isinstance(data, bytes | bytearray | memoryview):
            return bytes(data), None
        if not isinstance(data, str):
            raise TypeError(f"send takes str or bytes, not {type(data).__name__}")
        if self._encoder is None:
            return data.encode(self._encoding, errors), None
        state = self._encoder.getstate()
        self._encoder.errors = errors
        try:
            return bytes(self._encoder.encode(data, True)), state
        except BaseException:
            self._encoder.setstate(state)
            raise
        finally:
            self._encoder.errors = "strict"

    def undo(self, state: Any) -> None:
        """Back to the state ``encode`` returned (``None``: nothing to undo)."""
        if state is not None:
            self._encoder.setstate(state)


def ascii_compatible(encoding: str) -> bool:
    """Whether ``encoding`` (a known codec) writes line ends, letters and
    digits as ASCII does, after what the session's encoder writes once at
    the start (a byte order mark): UTF-8, Latin-1, Shift-JIS and GB18030 do;
    UTF-16, UTF-32 and the EBCDIC code pages do not."""
    encoder = Encoder(encoding)
    try:
        encoder.encode("a")
        return encoder.encode(_ASCII_SAMPLE)[0] == _ASCII_SAMPLE.encode()
    except UnicodeError:
        return False


def encoded_within(encoding: str, context: str, form: str) -> bytes | None:
    """``form``'s bytes after ``context`` in the session's encoding, if
    they are all of it: an encoder may hold back a character that a
    combining mark could follow (``shift_jis_2004``), or everything up to
    a dot (``idna``); a form short of the secret would mask what is not.
    (``None`` too for a codec that cannot encode it, or step by step.)"""
    try:
        encoder = codecs.getincrementalencoder(encoding)()
        decoder = codecs.getincrementaldecoder(encoding)()
        head = encoder.encode(context)
        raw = encoder.encode(form)
        whole = decoder.decode(head + raw) == context + form
    except (LookupError, UnicodeError):
        return None
    return raw if raw and whole else None


def as_utf8(secret: str) -> bytes:
    """A secret as a bytes session sees it (``Redactor.add`` keeps a bytes
    secret's non-UTF-8 bytes as lone surrogates)."""
    try:
        return secret.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # (another lone surrogate, in a str secret)
        return secret.encode("utf-8", "replace")


class _ByteOrderDecoder:
    """utf-16 or utf-32 as ``bytes.decode`` reads them: a byte order mark at
    the start says the order (and is no text); without one, the machine's
    order holds.  Python's own incremental decoders raise a plain
    ``UnicodeError`` there, whatever the error handler: a peer that writes
    no mark ended the session, its text lost, under ``codec_errors="replace"``
    too.  ``marks``: the order each mark says.  The state is ``(bytes held,
    order)``: 0 not known yet, 1 little endian, 2 big endian."""

    width = 2
    name = "utf-16"
    marks: ClassVar[dict[bytes, int]] = {codecs.BOM_UTF16_LE: 1, codecs.BOM_UTF16_BE: 2}

    def __init__(self, errors: str = "strict") -> None:
        self.errors = errors
        self._head = b""  # the first bytes, until a mark can be looked for
        self._order = 0
        self._inner: Any = None  # the codec of the order found

    def decode(self, data: bytes, final: bool = False) -> str:
        if self._inner is None:
            self._head += data
            if len(self._head) < self.width and not final:
                return ""
            data, self._head = self._head, b""
            self._order = self.marks.get(data[: self.width], 0)
            if self._order:
                data = data[self.width :]
            else:
                self._order = 1 if sys.byteorder == "little" else 2
            self._start(self._order)
        return str(self._inner.decode(data, final))

    def _start(self, order: int) -> None:
        suffix = "-le" if order == 1 else "-be"
        self._inner = codecs.getincrementaldecoder(self.name + suffix)(self.errors)

    def reset(self) -> None:
        self._head, self._order, self._inner = b"", 0, None

    def getstate(self) -> tuple[bytes, int]:
        if self._inner is None:
            return self._head, 0
        return self._inner.getstate()[0], self._order

    def setstate(self, state: tuple[bytes, int]) -> None:
        held, order = state
        self.reset()
        if not order:
            self._head = held
            return
        self._order = order
        self._start(order)
        self._inner.setstate((held, 0))


class _Utf32Decoder(_ByteOrderDecoder):
    width = 4
    name = "utf-32"
    marks: ClassVar[dict[bytes, int]] = {codecs.BOM_UTF32_LE: 1, codecs.BOM_UTF32_BE: 2}


#: The codecs (by their canonical names) that read a byte order mark.
_BYTE_ORDER_DECODERS: dict[str, type[_ByteOrderDecoder]] = {
    "utf-16": _ByteOrderDecoder,
    "utf-32": _Utf32Decoder,
}


class Decoder:
    """Bytes in, text out (or bytes out when ``encoding`` is ``None``).

    ``decode`` takes any bytes-like object and keeps no reference to it, so
    an adapter may pass a view of a buffer it reuses.
    """

    __slots__ = ("_errors", "_generic", "_pending", "bytes_mode")

    def __init__(self, encoding: str | None, errors: str = "replace") -> None:
        check_codec(encoding, errors)
        self.bytes_mode = encoding is None
        self._errors = errors
        self._pending = b""  # UTF-8: the start of a character split across chunks
        self._generic: Any = None
        name = None if encoding is None else codecs.lookup(encoding).name
        if name in _BYTE_ORDER_DECODERS:
            self._generic = _BYTE_ORDER_DECODERS[name](errors)
        elif encoding is not None and name != "utf-8":
            self._generic = codecs.getincrementaldecoder(encoding)(errors)

    @property
    def errors(self) -> str:
        """The ``codec_errors`` handler's name."""
        return self._errors

    def decode(self, data: bytes | memoryview) -> Any:
        """The text ``data`` completes.  With ``errors="strict"`` (or a
        handler that gives up), a ``UnicodeDecodeError`` whose ``valid``
        attribute is the text before the bad bytes (which must not be lost
        with them), and ``handler`` the handler's name."""
        if self._generic is not None:
            chunk = data if type(data) is bytes else bytes(data)
            state = self._generic.getstate()
            try:
                return self._generic.decode(chunk)
            except UnicodeDecodeError as exc:
                self._stopped(exc, self._before(state, chunk))
                raise
        if self.bytes_mode:
            return bytes(data)
        # UTF-8 (the common case): decode straight from the caller's buffer;
        # only an incomplete last character is copied and held back.
        if self._pending:
            data = self._pending + data
        try:
            text, used = codecs.utf_8_decode(data, self._errors, False)
        except UnicodeDecodeError as exc:
            self._stopped(exc, codecs.utf_8_decode(exc.object[: exc.start], self._errors)[0])
            raise
        self._pending = bytes(data[used:]) if used < len(data) else b""
        return text

    def peek(self, data: bytes) -> Any:
        """The text ``data`` would give now, the decoder left as it is:
        through the session's handler where it never raises, else what does
        not decode is replaced (a look ahead: ``strict`` stops there, a
        handler of the user's own may raise)."""
        if self.bytes_mode:
            return data
        errors = self._errors if self._errors in _NEVER_RAISE else "replace"
        if self._generic is None:
            return codecs.utf_8_decode(self._pending + data, errors, False)[0]
        decoder = type(self._generic)(errors)
        decoder.setstate(self._generic.getstate())
        try:
            return decoder.decode(data)
        except UnicodeDecodeError:  # (a codec that gives up even so)
            return ""

    def _stopped(self, exc: UnicodeDecodeError, valid: Any) -> None:
        exc.valid = valid  # type: ignore[attr-defined]
        exc.handler = self._errors  # type: ignore[attr-defined]

    def _before(self, state: Any, chunk: bytes) -> str:
        """The text of ``chunk`` before the bytes that stopped decoding, as
        the session's decoder makes it from ``state``, a byte at a time:
        decoding the bytes again alone lost its state (the byte order mark
        seen, an iso2022 shift), and the codec's own name for the error
        (cp1252's is charmap: latin-1) garbled the text, or was no name at
        all (unicodeescape: a LookupError)."""
        decoder = type(self._generic)(self._errors)
        decoder.setstate(state)
        text = []
        for at in range(len(chunk)):
            try:
                text.append(decoder.decode(chunk[at : at + 1]))
            except UnicodeDecodeError:
                break
        return "".join(text)

    def flush(self) -> Any:
        """End of input: whatever an incomplete sequence decodes to.  With
        ``errors="strict"``, an incomplete one is a ``UnicodeDecodeError``
        whose ``valid`` attribute is the (empty) text before it."""
        if self.bytes_mode:
            return b""
        try:
            if self._generic is not None:
                return self._generic.decode(b"", True)
            pending, self._pending = self._pending, b""
            return codecs.utf_8_decode(pending, self._errors, True)[0]
        except UnicodeDecodeError as exc:
            self._stopped(exc, "")
            raise
