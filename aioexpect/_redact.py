"""Secrets: redaction of whole texts, and escaping for logs (a stream of
chunks is redacted by ``_redact_stream``, with this module's ``Redactor``).

Invariant: a registered secret never leaves ``Redactor.redact`` in clear,
as it is, as a line editor's echo shows it, or escaped any number of times
(``repr``, ``ascii``, JSON, ``re.escape``: ``_redact_escaped``).
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import re
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from ._decode import as_utf8, encoded_within
from ._echo import Echo
from ._redact_escaped import compiled, escaped_in

__all__ = ["MASK", "Redactor", "escape", "escape_cut", "mask_around", "masked", "merged"]

MASK = "********"

_ESCAPES = {i: f"\\x{i:02x}" for i in [*range(32), *range(0x7F, 0xA0)]} | {
    # the bytes of a bytes session that are not UTF-8 (``surrogateescape``)
    **{0xDC00 + i: f"\\x{i:02x}" for i in range(0x80, 0x100)},
    # what ends a line for str.splitlines and log viewers (as the C1 NEL,
    # 0x85, does), and what reorders the text shown after it (bidi controls):
    # a peer's text must neither forge a record nor disguise one
    **{i: f"\\u{i:04x}" for i in (0x061C, 0x200E, 0x200F, 0x2028, 0x2029)},
    **{i: f"\\u{i:04x}" for i in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]},
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


def escape(text: Any) -> str:
    """Text for a log record or message: control characters (C0, DEL, C1),
    line and paragraph separators and bidi controls escaped."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    return str(text).translate(_ESCAPES)


def escape_cut(text: str, most: int) -> str:
    """``escape(text)``, its middle cut (``...``) where that is longer than
    ``most`` characters: at whole escapes and masks, so that no half of a
    ``\\x1b`` reads as a backslash or as text, nor half a mask as a ``*``."""
    shown = escape(text)
    if len(shown) <= most + 3:  # (the cut would not make it shorter)
        return shown
    head = _fitting(text, range(len(text)), most // 2)
    tail = len(text) - _fitting(text, range(len(text) - 1, -1, -1), most // 2)
    if text[head - 1 : head + 1] == "**":  # (a mask cut: all of its run goes)
        head = len(text[:head].rstrip("*"))
    if text[tail - 1 : tail + 1] == "**":
        tail = len(text) - len(text[tail:].lstrip("*"))
    return f"{escape(text[:head])}...{escape(text[tail:])}"


def _fitting(text: str, order: Iterable[int], most: int) -> int:
    """How many characters of ``text``, taken in ``order``, escape to at most ``most``."""
    count = size = 0
    for i in order:
        size += len(text[i].translate(_ESCAPES))
        if size > most:
            break
        count += 1
    return count


def mask_around(text: str, secret: str | None, shown: Iterable[str | None]) -> str:
    """``text`` with ``secret`` masked, except inside the ``shown`` strings
    (the host, the user name, a key's path: what the caller gave, not
    secret) that hold more than it: a short password that is also part of
    ``127.0.0.1`` or the user name must not mark where it stands in them.
    A shown string equal to the secret is masked (nothing tells which
    occurrence is which)."""
    if not secret:
        return text
    keep = sorted({s for s in shown if s and secret in s and s != secret}, key=len, reverse=True)
    if not keep:
        return text.replace(secret, MASK)
    pieces = re.split(f"({'|'.join(map(re.escape, keep))})", text)
    return "".join(p if i % 2 else p.replace(secret, MASK) for i, p in enumerate(pieces))


class Redactor:
    """The secrets of one session; replaces each with ``********``.

    ``redact`` masks a secret also as escaping writes it any number of
    times (``_escaped``: ``repr``, ``ascii``, JSON), as a ``repr`` that
    aioexpect makes of what it was given may hold it (a ``Result``'s of a
    job's error quoting another's); the transcript, the records of what is
    sent and received and ``tail`` look for its fixed forms alone
    (``_forms``): each is looked for in every chunk that holds its first
    character, in every session."""

    __slots__ = (
        "_byte_firsts",
        "_bytes",
        "_encoding",
        "_escaped",
        "_firsts",
        "_kept",
        "_probes",
        "_secrets",
        "armed",
    )

    def __init__(self, encoding: str | None = None) -> None:
        self._secrets: list[str] = []
        #: The secrets as bytes hold them: as UTF-8 (a bytes session's), and
        #: as the text session's encoding writes them (what it sends).
        self._bytes: list[bytes] = []
        #: The text session's encoding: a bytes secret is found in its text
        #: as that decodes it.
        self._encoding = encoding
        #: Parts of the secrets (str, bytes) that a line editor's echo of one
        #: shows as they are (``_probes``).
        self._probes: dict[type, list[Any]] = {str: [], bytes: []}
        #: The first characters of the secrets (str), once each: a text
        #: holds a secret, also as an echo shows it, only where it holds
        #: one of them (``RedactingStream._plain``).
        self._firsts: tuple[str, ...] = ()
        #: And those of their bytes (``RedactingStream._plain`` of what is sent).
        self._byte_firsts: tuple[bytes, ...] = ()
        #: Whether it holds a secret (``bool(redactor)``, as a plain attribute:
        #: the session reads it for every chunk it receives).
        self.armed = False
        #: The forms of each secret added (``_forms``), shared with the other
        #: sessions that hold the same one while any of them lives.
        self._kept: list[_Forms] = []
        #: The patterns of the secrets' escaped forms (``redact``), for str
        #: and for bytes, with how many of ``_kept`` they are of: made when
        #: first asked for, and anew for secrets added since.
        self._escaped: tuple[int, list[re.Pattern[str]], list[re.Pattern[bytes]]] = (0, [], [])

    def add(self, secret: Any) -> None:
        """Add ``secret``: str, or bytes (a bytearray or memoryview as its
        bytes); empty or ``None``, nothing.  Anything else is a ``TypeError``
        that leaves the secrets as they were (one half added broke every
        later ``redact``)."""
        if isinstance(secret, bytearray | memoryview):
            secret = bytes(secret)
        if not isinstance(secret, str | bytes | None):
            raise TypeError(f"a secret is str or bytes, not {type(secret).__name__}")
        if not secret:
            return
        self._take(_forms(secret, self._encoding))

    def _take(self, forms: _Forms) -> None:
        if forms in self._kept:  # (a secret added again, sent again: nothing new)
            return
        self._kept.append(forms)
        self._secrets = sorted(dict.fromkeys([*self._secrets, *forms.texts]), key=len, reverse=True)
        self._bytes = sorted(dict.fromkeys([*self._bytes, *forms.raws]), key=len, reverse=True)
        self._probes = {str: _probes(self._secrets), bytes: _probes(self._bytes)}
        self._firsts = tuple(dict.fromkeys(secret[0] for secret in self._secrets))
        self._byte_firsts = tuple(dict.fromkeys(raw[:1] for raw in self._bytes))
        self.armed = bool(self._secrets)

    def add_all(self, secrets: Any) -> None:
        """``Session(secrets=...)``: an iterable of secrets.  A single str or
        bytes is refused, as spawn refuses it for ``args``: taken as an
        iterable, each of its characters would be a secret."""
        if isinstance(secrets, str | bytes | bytearray | memoryview):
            raise TypeError("secrets must be a list of secrets, not a single one")
        if not isinstance(secrets, Iterable):
            raise TypeError(f"secrets must be a list of secrets, not {type(secrets).__name__}")
        for secret in secrets:
            self.add(secret)

    def __bool__(self) -> bool:
        return self.armed

    def given(self, text: str) -> str:
        """``text`` that the caller gave (a peer's host and port), shown
        whole: a secret that is part of it is not pointed at (the password
        ``1`` in ``127.0.0.1:2210``); one that is all of it is masked.  (A
        command line is no such text: the local transports mask it.)"""
        return MASK if text in self._secrets else text

    def redact(self, text: Any) -> Any:
        """``text`` (str or bytes) with every secret masked, also as escaping
        writes it any number of times (``_escaped``): where secrets overlap
        (``secret12`` and ``t12more`` in ``secret12more``), the whole
        stretch they cover is one mask, so no part of either shows."""
        if not self.armed:
            return text
        echo = self._echo(text)
        stretches = self._stretches(text, echo)
        # (an escaped form holds a backslash; the others are found above)
        if (b"\\" if isinstance(text, bytes) else "\\") in text:
            made = self._patterns()
            spans = escaped_in(text, made[2] if isinstance(text, bytes) else made[1], echo)
            stretches = merged(stretches + spans) if spans else stretches
        return masked(text, stretches) if stretches else text

    def _patterns(self) -> tuple[int, list[re.Pattern[str]], list[re.Pattern[bytes]]]:
        """``_escaped``, with the secrets added since it was made: a new
        tuple, set once whole (one filled in place was seen empty or in
        part, masking nothing of some secrets, by a ``redact`` in another
        thread meanwhile, a ``Result``'s repr, and by every later one where
        its making was cut short, Ctrl-C)."""
        made = self._escaped
        count = len(self._kept)  # (those made now: another thread may add one meanwhile)
        if made[0] != count:
            strs, raws = [*made[1]], [*made[2]]
            for forms in self._kept[made[0] : count]:
                more = _escaped_forms(forms)
                strs += [p for p in more[0] if p not in strs]
                raws += [p for p in more[1] if p not in raws]
            made = self._escaped = (count, strs, raws)
        return made

    def stretches(self, text: Any) -> list[tuple[int, int]]:
        """Where secrets stand in ``text``: ``(start, end)`` of each stretch
        they cover, in order; overlapping or touching ones are one stretch
        (one mask).  Also where a line editor's echo shows one, wrapped at
        the terminal's margin or redrawn (``Echo``)."""
        return self._stretches(text, self._echo(text))

    def _echo(self, text: Any, open_end: bool = False) -> Echo | None:
        """``text`` as a terminal shows it (``Echo``), where it may hold a
        secret that only shows so: where it holds a part of one as it is
        (``_probes``).  (The echo costs far more than looking for them.)"""
        probes = self._probes[bytes if isinstance(text, bytes) else str]  # (a subclass too)
        return Echo.of(text, open_end) if any(p in text for p in probes) else None

    def _stretches(self, text: Any, echo: Echo | None) -> list[tuple[int, int]]:
        spans = [span for needle in self._needles(text) for span in _runs(text, needle)]
        if echo is not None:
            spans += self._echoed(echo)
        return merged(spans)

    def _echoed(self, echo: Echo) -> list[tuple[int, int]]:
        """Where secrets stand in ``echo.text`` as its view shows them, each
        one apart: what was drawn between two that touch (a line end) is
        not part of them, and shows between their masks."""
        spans: list[tuple[int, int]] = []
        for needle in self._needles(echo.view):
            size, period = len(needle), _period(needle)
            for at, end in _runs(echo.view, needle):
                start, stop = echo.span(at, end)
                if stop - start != end - at:  # (else in the text as it is: found there)
                    spans += [echo.span(i, i + size) for i in range(at, end - size + 1, period)]
                spans += echo.copied(at, end)  # (a row drawn again: a part of it again)
        return spans

    def tail(self, text: Any, n: int) -> Any:
        """The last ``n`` characters of ``redact(text)``, masked from a
        window at the end of ``text`` (which may be long).  A secret that
        the window's start cuts through lies within the window's first
        ``len(secret) - 1`` characters (as its echo shows them): what is
        shown starts past them (and past any mask there), and the window
        grows until that is ``n`` characters or it holds all of ``text``."""
        needles = self._needles(text)
        if not needles:
            return text[-n:]
        longest = max(map(len, needles))
        width = n + longest
        while True:
            start = max(0, len(text) - width)
            window = text[start:]
            echo = self._echo(window)
            # (in the echo of the window: a wrapped secret is longer in it,
            # and the start of a sequence cut off leaves a few characters)
            skip = longest if echo is None else echo.reach(longest + 16)
            skip = skip if start else 0
            stretches = self._stretches(window, echo)
            crossed = False  # a stretch of secrets ends past ``skip``
            for begin, end in stretches:
                if begin < skip < end:
                    skip, crossed = end, True
            # (the stretches past ``skip`` are those of ``window[skip:]``)
            kept = [(b - skip, e - skip) for b, e in stretches if b >= skip]
            shown = masked(window[skip:], kept)
            # (not past _TAIL_REACH: a long run of secrets masks to one mask,
            # and a shorter tail beats searching all of a long text)
            if len(shown) >= n or not start or width > _TAIL_REACH:
                mask = MASK.encode() if isinstance(text, bytes) else MASK
                if crossed and len(shown) < n:  # (its end is a secret's: not nothing)
                    shown = mask + shown
                # A secret's start, the rest still to come (an echo cut by a
                # time-out): masked too, from three characters on.
                partial = self._prefix_at_end(shown, 3)
                if partial:
                    shown = shown[:-partial] + mask
                return shown[-n:]
            width *= 2

    def _needles(self, text: Any) -> list[Any]:
        """The secrets as ``text`` would hold them (str or bytes)."""
        return self._bytes if isinstance(text, bytes) else self._secrets

    def prefix_at_end(self, text: Any) -> int:
        """Length of the longest tail of ``text`` (str or bytes) that starts
        some secret, also as a line editor's echo (``Echo``) shows it:
        ``abc\\r`` or ``ab\\x1b[`` starts ``abcdef``."""
        return self._prefix_at_end(text)

    def _prefix_at_end(self, text: Any, least: int = 1) -> int:
        """``prefix_at_end``, 0 where the tail has fewer than ``least``
        characters (as its echo shows them).  The echo is that of the end
        alone: twice the longest secret and some, room for what is drawn
        in one at a wrap or two."""
        best = self._prefix(text)
        best = best if best >= least else 0
        start = max(0, len(text) - 2 * len(self._needles(text)[0]) - 64) if self else len(text)
        echo = Echo.of(text[start:], open_end=True)
        if echo is not None and (shown := self._prefix(echo.view)) >= least:
            at = echo.span(len(echo.view) - shown, len(echo.view))[0]
            best = max(best, len(echo.text) - at)
        return best

    def _prefix(self, text: Any) -> int:
        best = 0
        for secret in self._needles(text):
            # Where the secret's first character stands among the last
            # ``len(secret) - 1``: most chunks hold it nowhere there.
            first, end = secret[:1], len(text)
            at = text.find(first, max(end - len(secret) + 1, 0))
            while at >= 0 and end - at > best:
                if secret.startswith(text[at:]):
                    best = end - at
                    break
                at = text.find(first, at + 1)
        return best


class _Forms:
    """A secret as texts and bytes may hold it (``_forms``)."""

    __slots__ = ("__weakref__", "escaped", "raws", "source", "texts")

    def __init__(self, texts: list[str], raws: list[bytes], source: tuple[Any, str | None]) -> None:
        self.texts = texts
        self.raws = raws
        #: The secret and the session's encoding, whose ``escaped`` forms
        #: (``_escaped_forms``) are made from them when first asked for.
        self.source = source
        self.escaped: tuple[list[re.Pattern[str]], list[re.Pattern[bytes]]] | None = None


#: The forms of the secrets that live sessions hold, by type, secret and
#: encoding: a run over many hosts with one account makes them once, not
#: once a session (tens of microseconds each).  An entry goes with the last
#: redactor that holds it: no secret is kept past its sessions.  (The type
#: first: ``"pw"`` and ``b"pw"``, of one hash, are told apart by it, never
#: compared, which ``python -b`` warns of.)
_FORMS: weakref.WeakValueDictionary[tuple[type, Any, str | None], _Forms] = (
    weakref.WeakValueDictionary()
)


def _forms(secret: str | bytes, encoding: str | None) -> _Forms:
    """``secret`` as texts and bytes hold it, made once while a session
    holds it (``_FORMS``)."""
    key = (secret.__class__, secret, encoding)
    forms = _FORMS.get(key)
    if forms is None:
        forms = _FORMS[key] = _make_forms(secret, encoding)
    return forms


def _texts(secret: str | bytes, encoding: str | None) -> list[str]:
    """``secret`` as texts hold it."""
    if isinstance(secret, bytes):
        # As a bytes session's transcript decodes it (UTF-8, the rest as
        # lone surrogates); and as a text session's encoding does.
        texts = [secret.decode("utf-8", "surrogateescape")]
        if encoding is not None:
            # (not where it decodes to nothing: a byte order mark alone,
            # b"\xff\xfe" in utf-16, is no text a session can show)
            texts += [text for text in [secret.decode(encoding, "replace")] if text]
        return texts
    return [secret]


def _make_forms(secret: str | bytes, encoding: str | None) -> _Forms:
    texts = _texts(secret, encoding)
    # Also as re.escape writes it: a pattern built from the secret
    # (``re.escape(password)``) shows it so in messages and ``repr``;
    # and as a terminal echoes its control characters (``ECHOCTL``:
    # ``^A`` for ``\x01``), which a pty does by default.
    plain = [form for text in texts for form in (text, re.escape(text))]
    raws = {form: _encoded(form, encoding) for form in plain}
    # And as ``repr`` writes those (once, or twice: an exception's repr
    # of a message that quotes one), where it escapes a character of them
    # (a quote, a backslash, a control character), as str or as the bytes
    # that encode it (UTF-8 and the session's encoding: ``p\\xe4ss`` in
    # latin-1): a callback's or an error's repr that is masked once made
    # (a monitor's, a job's in run_many's records), and what a device
    # prints (``print(repr(password))``).  (Deeper, and as ``ascii`` and
    # JSON write it, in what is masked once made: ``_escaped_forms``.)
    forms = [*plain]
    for form in plain:
        forms += _repr_forms(form, raws[form], 2)
    forms += [shown for text in texts if (shown := text.translate(_ECHOCTL)) != text]
    raw_forms = [raw for form in forms for raw in raws.get(form) or _encoded(form, encoding)]
    return _Forms(forms, raw_forms, (secret, encoding))


def _encoded(form: str, encoding: str | None) -> list[bytes]:
    """``form`` as bytes: UTF-8, and in the session's ``encoding`` where it
    writes it (``pässwörd`` is ``p\\xe4ssw\\xf6rd`` in latin-1)."""
    forms = [as_utf8(form)]
    if encoding is not None:
        with contextlib.suppress(UnicodeError):  # (else never sent in it)
            forms.append(form.encode(encoding))
        # As it stands inside a longer text: without the byte order mark
        # that utf-16 and utf-32 put first, and, in a stateful encoding
        # (iso2022_jp), after ASCII or after its own kind of character,
        # with no shift back at its end.
        forms += [raw for c in ("a", form[0]) if (raw := encoded_within(encoding, c, form))]
    return list(dict.fromkeys(forms))


#: A control character as a terminal's echo shows it (``ECHOCTL``): ``^``
#: and the letter, ``^?`` for DEL; a tab as it is, a line end as one.
_ECHOCTL = {i: f"^{chr(i + 0x40)}" for i in range(32) if chr(i) not in "\t\n\r"} | {0x7F: "^?"}

#: How far back ``Redactor.tail`` looks, at most, for its characters.
_TAIL_REACH = 1 << 16


def _quoted(text: Any) -> list[str]:
    """``text`` (str or bytes) as ``repr`` writes it between its quotes,
    both ways: a ``'`` in it as it is (in double quotes, which ``repr``
    takes for a text that holds a ``'`` and no ``"``), or escaped."""
    if isinstance(text, bytes):
        shown = "".join(repr(text[i : i + 1])[2:-1] for i in range(len(text)))
    else:
        shown = "".join(repr(c)[1:-1] for c in text)
    return [shown, shown.replace("'", "\\'")]


#: The byte order marks that ``str.encode`` puts first in utf-8-sig,
#: utf-16 and utf-32 (a text holds the bytes of a secret without one).
_MARKS = (
    codecs.BOM_UTF8,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
)


def _repr_forms(text: str, raws: list[bytes], depth: int) -> list[str]:
    """``text`` as ``repr`` writes it, ``depth`` times in a row or fewer,
    as str and as the bytes ``raws`` that encode it (``p\\xc3\\xa9``):
    those that differ from it.  Not of bytes that are a byte order mark
    and others of ``raws`` (``str.encode``'s in utf-16: ``\\xff\\xfe`` and
    those the session sends): their ``repr`` holds the others', masked
    with it, and its backslash would hold back a ``C:\\`` that ends a read
    whatever the secret (``hunter2`` too)."""
    raws = _unmarked(raws)
    level = list(dict.fromkeys(_quoted(text) + [q for raw in raws for q in _quoted(raw)]))
    shown = level
    for _ in range(depth - 1):
        level = list(dict.fromkeys(q for form in level for q in _quoted(form)))
        shown = shown + level
    return [form for form in dict.fromkeys(shown) if form != text]


def _unmarked(raws: list[bytes]) -> list[bytes]:
    """``raws`` but those that are a byte order mark and another of them."""
    return [r for r in raws if not any(r.startswith(m) and r[len(m) :] in raws for m in _MARKS)]


def _escaped_forms(forms: _Forms) -> tuple[list[re.Pattern[str]], list[re.Pattern[bytes]]]:
    """Patterns of ``forms``' secret as escaping writes it any number of
    times (``escaped_form``), in str and in bytes: its texts, their echo
    (``^A``) and the bytes of the session's encoding that encode them.
    Made once, when a session first masks a text with a backslash
    (``Redactor.redact``), and kept with them."""
    if forms.escaped is None:
        secret, encoding = forms.source
        texts = _texts(secret, encoding)
        texts += [shown for text in texts if (shown := text.translate(_ECHOCTL)) != text]
        utf8 = [as_utf8(text) for text in texts]  # (each character's, escaped, is one way)
        raws = _unmarked([raw for text in texts for raw in _encoded(text, encoding)])
        forms.escaped = compiled([*texts, *[raw for raw in raws if raw not in utf8]], encoding)
    return forms.escaped


@functools.lru_cache(maxsize=64)  # (a secret's, found again and again)
def _period(needle: Any) -> int:
    """The smallest shift at which ``needle`` occurs again in itself
    (``len(needle)`` if none does)."""
    for shift in range(1, len(needle)):
        if needle.startswith(needle[shift:]):
            return shift
    return len(needle)


def _probes(needles: list[Any]) -> list[Any]:
    """Parts of ``needles``, one of which the echo of each shows as it is,
    also wrapped (on a terminal of at least 40 columns): its first and last
    few characters (of which one wrap leaves one whole), and, in one of 40
    characters or more, each twenty (one stands whole in a row between two
    wraps)."""
    probes = []
    for needle in needles:
        size = len(needle)
        if size > 1:
            head = min(4, size // 2)
            probes += [needle[:head], needle[-head:]]
            probes += [needle[at : at + 20] for at in range(0, size - 19 if size >= 40 else 0, 20)]
    return list(dict.fromkeys(probes))


def _runs(text: Any, needle: Any) -> Iterator[tuple[int, int]]:
    """Where each run of ``needle`` stands in ``text`` (``_run_end``)."""
    at = text.find(needle)
    while at >= 0:
        end = _run_end(text, needle, at)
        yield at, end
        # (the next one that starts before the run's last one ends inside
        # the run: it adds nothing)
        at = text.find(needle, max(at + 1, end - len(needle) + 1))


def _run_end(text: Any, needle: Any, at: int) -> int:
    """The end of the run of ``needle`` found at ``at``, each one a period
    after the one before (``xxxx`` in a long run of ``x``; ``hunter2``
    over and over): found in long strides, as one stretch, rather than
    one occurrence at a time, which cost ``len(needle)`` per character in
    a run of a periodic secret."""
    size = len(needle)
    period = _period(needle)
    unit = needle[size - period :]  # (what each next occurrence adds)
    end, stride, growing = at + size, 1, True
    while stride:  # (strides doubling while they fit, then halving)
        fits = text.startswith(unit * stride, end)
        if fits:
            end += period * stride
        growing = growing and fits
        stride = stride * 2 if growing else stride // 2
    return end


def merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` in order, those that overlap or touch as one."""
    if len(spans) < 2:  # (most texts: nothing to sort)
        return spans
    together: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if together and start <= together[-1][1]:
            together[-1] = (together[-1][0], max(together[-1][1], end))
        else:
            together.append((start, end))
    return together


def masked(text: Any, stretches: list[tuple[int, int]]) -> Any:
    """``text`` with each of ``stretches`` (in order, apart) one mask."""
    mask = MASK.encode() if isinstance(text, bytes) else MASK
    parts, done = [], 0
    for start, end in stretches:
        parts += [text[done:start], mask]
        done = end
    parts.append(text[done:])
    return text[:0].join(parts)
