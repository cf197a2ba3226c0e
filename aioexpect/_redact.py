"""Secrets: redaction of whole texts and of streams, and escaping for logs.

Invariant: a registered secret never leaves ``Redactor.redact`` or
``RedactingStream`` in clear, also when it is split across chunks: the
stream holds back a tail that could be the start of a secret, with the
secrets it overlaps or touches, so any split gives what one chunk gives.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ._decode import as_utf8, encoded_within
from ._echo import Echo, blank, copy_start, cut_short, up_at

__all__ = ["MASK", "Redactor", "RedactingStream", "escape", "mask_around"]

MASK = "********"

_ESCAPES = {i: f"\\x{i:02x}" for i in range(32)} | {
    # the bytes of a bytes session that are not UTF-8 (``surrogateescape``)
    **{0xDC00 + i: f"\\x{i:02x}" for i in range(0x80, 0x100)},
    0x7F: "\\x7f",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


def escape(text: Any) -> str:
    """Text for a log record or message: control characters escaped."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    return str(text).translate(_ESCAPES)


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
    """The secrets of one session; replaces each with ``********``."""

    __slots__ = ("_bytes", "_encoding", "_probes", "_secrets", "armed")

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
        #: Whether it holds a secret (``bool(redactor)``, as a plain attribute:
        #: the session reads it for every chunk it receives).
        self.armed = False

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
        if isinstance(secret, bytes):
            # As a bytes session's transcript decodes it (UTF-8, the rest as
            # lone surrogates); and as a text session's encoding does.
            texts = [secret.decode("utf-8", "surrogateescape")]
            if self._encoding is not None:
                texts.append(secret.decode(self._encoding, "replace"))
        else:
            texts = [secret]
        # Also as re.escape writes it: a pattern built from the secret
        # (``re.escape(password)``) shows it so in messages and ``repr``;
        # and as a terminal echoes its control characters (``ECHOCTL``:
        # ``^A`` for ``\x01``), which a pty does by default.
        forms = [form for text in texts for form in (text, re.escape(text))]
        forms += [shown for text in texts if (shown := text.translate(_ECHOCTL)) != text]
        raws = [raw for form in forms for raw in self._encoded(form)]
        self._secrets = sorted(dict.fromkeys(self._secrets + forms), key=len, reverse=True)
        self._bytes = sorted(dict.fromkeys(self._bytes + raws), key=len, reverse=True)
        self._probes = {str: _probes(self._secrets), bytes: _probes(self._bytes)}
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

    def _encoded(self, form: str) -> list[bytes]:
        """``form`` as bytes: UTF-8, and in the session's encoding where it
        writes it (``pässwörd`` is ``p\\xe4ssw\\xf6rd`` in latin-1)."""
        forms = [as_utf8(form)]
        if self._encoding is not None:
            with contextlib.suppress(UnicodeError):  # (else never sent in it)
                forms.append(form.encode(self._encoding))
            # As it stands inside a longer text: without the byte order mark
            # that utf-16 and utf-32 put first, and, in a stateful encoding
            # (iso2022_jp), after ASCII or after its own kind of character,
            # with no shift back at its end.
            encoding = self._encoding
            forms += [raw for c in ("a", form[0]) if (raw := encoded_within(encoding, c, form))]
        return list(dict.fromkeys(forms))

    def __bool__(self) -> bool:
        return self.armed

    def given(self, text: str) -> str:
        """``text`` that the caller gave (a peer's host and port), shown
        whole: a secret that is part of it is not pointed at (the password
        ``1`` in ``127.0.0.1:2210``); one that is all of it is masked.  (A
        command line is no such text: the local transports mask it.)"""
        return MASK if text in self._secrets else text

    def redact(self, text: Any) -> Any:
        """``text`` (str or bytes) with every secret masked: where secrets
        overlap (``secret12`` and ``t12more`` in ``secret12more``), the
        whole stretch they cover is one mask, so no part of either shows."""
        stretches = self.stretches(text)
        return _masked(text, stretches) if stretches else text

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
        return _merged(spans)

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
            shown = _masked(window[skip:], kept)
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


#: A control character as a terminal's echo shows it (``ECHOCTL``): ``^``
#: and the letter, ``^?`` for DEL; a tab as it is, a line end as one.
_ECHOCTL = {i: f"^{chr(i + 0x40)}" for i in range(32) if chr(i) not in "\t\n\r"} | {0x7F: "^?"}

#: How much a ``RedactingStream`` holds back at most of a row readline
#: may be drawing again (``_redrawn``), and keeps of a line that holds a
#: secret, to find its copy in that row (``_line``).
_LINE_REACH = 1 << 11
#: How much that shows nothing a ``RedactingStream`` holds back at most
#: after a secret (readline's ``" \r"`` and ``ESC[A``, colours): more goes
#: out, and a copy of the row after it is a mask of its own.
_BLANK_REACH = 1 << 6
#: How far back ``Redactor.tail`` looks, at most, for its characters.
_TAIL_REACH = 1 << 16
#: How much a ``RedactingStream`` holds back at most beyond a secret's
#: length: a run of secrets (``pw`` typed over and over) goes out masked
#: in parts, rather than being held, and searched again, whole.  Every feed
#: searches what is held again, so this bounds the cost of a small read.
_HOLD_REACH = 1 << 9


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


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` in order, those that overlap or touch as one."""
    if len(spans) < 2:  # (most texts: nothing to sort)
        return spans
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _line_end(text: str) -> int:
    """Where the first line of ``text`` ends (its length if it does not)."""
    end = text.find("\n")
    return end if end >= 0 else len(text)


def _masked(text: Any, stretches: list[tuple[int, int]]) -> Any:
    """``text`` with each of ``stretches`` (in order, apart) one mask."""
    mask = MASK.encode() if isinstance(text, bytes) else MASK
    parts, done = [], 0
    for start, end in stretches:
        parts += [text[done:start], mask]
        done = end
    parts.append(text[done:])
    return text[:0].join(parts)


class RedactingStream:
    """Redacts a stream of chunks: the text a session receives, for its
    transcript; or, with ``sent``, the bytes it sends, for its ``send``
    records (a secret typed key by key, as ``interact`` forwards it).  A
    session feeds it everything while it has a secret, whether or not
    anything logs then: a logfile attached (or DEBUG turned on) between two
    parts of a secret must get neither part.

    What is received goes out as it comes but for what may change with
    the next chunk: the start of a secret, a control sequence cut short,
    and, once readline moves up a row on a line that holds a secret, the
    row it may be drawing again (up to its line end).  Each chunk is
    searched with what is held, which stays short but in that row."""

    __slots__ = (
        "_covered",
        "_decoder",
        "_due",
        "_held",
        "_line",
        "_redactor",
        "_sent",
        "_up_out",
        "_waiting",
    )

    def __init__(self, redactor: Redactor, *, sent: bool = False) -> None:
        self._redactor = redactor
        #: Sent bytes stay bytes, searched for the secrets' bytes (UTF-8 and
        #: the session's encoding, ``latin-1`` say): what the ``send``
        #: records show of what is not secret is as before, and a character
        #: cut between two sends is cut in a secret's bytes alike.
        self._sent = sent
        self._held: Any = b"" if sent else ""
        #: How many of the first characters held belong to a stretch of
        #: secrets whose start went out masked already.
        self._covered = 0
        #: What went out of the line received last, from (at the latest)
        #: the first secret on it; ``None`` while it holds none.  A row
        #: readline draws again may repeat a part of a secret there, which
        #: shows as a secret only next to the rest of it.
        self._line: str | None = None
        #: Whether it went out with a move up a row after its secret, the
        #: row after it held (``_redrawn``) with its line end.
        self._up_out = False
        #: Whether what is held is a row that readline may be drawing
        #: again, from its start: nothing goes out until its line end.
        self._waiting = False
        #: Whether such a row went out without its line end (``_given_up``)
        #: before it showed the copy of a secret's tail it may start with.
        self._due = False
        #: A bytes session's chunks are decoded as one stream (bytes that are
        #: not UTF-8 as lone surrogates, which ``_options.write_log`` turns back): a
        #: character split between two chunks, within a secret, must not
        #: keep the secret from being found.
        self._decoder: codecs.IncrementalDecoder | None = None

    def feed(self, chunk: str | bytes) -> Any:
        """What may go out now, masked (str; bytes with ``sent``)."""
        if isinstance(chunk, bytes) and not self._sent:
            if self._decoder is None:
                self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
            chunk = self._decoder.decode(chunk)
        if self._waiting and "\n" not in chunk and len(self._held) + len(chunk) <= _LINE_REACH:
            # (what ``_redrawn`` holds goes on until its line end: nothing in
            # it can go out before, and searching it again each time cost
            # as much as a line per chunk)
            self._held += chunk
            return self._held[:0]
        text = self._held + chunk
        if not self._redactor:
            self._held = text[:0]
            return text
        # Held back, as received: a tail that could start a secret, with any
        # secret it overlaps or touches (a longer secret that starts with a
        # shorter one, ``cisco`` and ``cisco123``; one that overlaps another,
        # ``abc`` and ``cdef``: masked now, the next chunk's rest would show),
        # so that every split gives what the text in one chunk gives.
        stretches = self._stretches(text, open_end=True)
        cut = held = len(text) - self._redactor._prefix_at_end(text)
        redrawn = len(text)
        if not self._sent:
            redrawn = self._redrawn(text, stretches)
            last = stretches[-1][1] if stretches else len(text)
            if stretches and len(text) - last <= _BLANK_REACH and blank(text, last):
                # (a secret at the end but for what shows nothing: readline
                # may be drawing its row again, which is masked with it)
                held = min(held, last)
            # (not in a control sequence, ended or not: a character after
            # it, ``h`` in ``ESC[h``, would be taken for one that shows)
            cut = held = cut_short(text, min(held, redrawn))
        for start, end in stretches:
            if start < cut <= end:
                cut = start
        if cut:  # (else the stretch begun before is held still: it goes on)
            self._covered = 0
        if len(text) - cut > _HOLD_REACH:
            # A long stretch of secrets (one typed over and over) goes out
            # masked up to a secret's length from the end (or the start of
            # one that may go on there: wrapped, its echo is longer); what is
            # held starts with the rest of the stretch, masked with it later.
            cut = max(cut, min(held, len(text) - len(self._redactor._needles(text)[0])))
            for start, end in stretches:
                if start < cut < end:
                    self._covered = end - cut
        if not self._sent and (self._due or ("\x1b" in text and (stretches or self._line))):
            cut = self._given_up(text, cut, stretches)  # (a move up: its ESC)
        self._held = text[cut:]
        self._waiting = cut == redrawn < len(text) and "\n" not in self._held
        if not self._sent:
            self._keep_line(text, cut, stretches)
        return _masked(text[:cut], [(b, min(e, cut)) for b, e in stretches if b < cut])

    def _stretches(self, text: Any, open_end: bool = False) -> list[tuple[int, int]]:
        """``Redactor.stretches`` of ``text`` (as its echo shows it, but in
        what is sent), with the start of a stretch that was cut
        (``_covered``) one of them.  Where ``text`` moves up a row on the
        line that went out with a secret, that line is searched with it,
        for a copy of a part of the secret (``Echo.copied``)."""
        redactor, shift = self._redactor, 0
        if self._sent:
            stretches = redactor._stretches(text, None)
        else:
            line = self._line
            if line is not None and (self._up_out or up_at(text, 0, _line_end(text)) >= 0):
                text, shift = line + text, len(line)
            stretches = redactor._stretches(text, redactor._echo(text, open_end))
        if shift:  # (one that went out masked and goes on here: masked again)
            stretches = [(max(b - shift, 0), e - shift) for b, e in stretches if e > shift]
        if not self._covered:
            return stretches
        end = self._covered
        while stretches and stretches[0][0] <= end:
            end = max(end, stretches.pop(0)[1])
        return [(0, end), *stretches]

    def _redrawn(self, text: str, stretches: list[tuple[int, int]]) -> int:
        """Where the stream holds back a row that readline may be drawing
        again, until its line end: from where it moves up a row after a
        secret on the line (``Echo.copied`` finds the copy of a part of
        the secret only with the line end), or from the last secret before
        that (its copy may follow it with nothing shown between them: one
        mask).  Not past ``_LINE_REACH``."""
        line = text.rfind("\n") + 1
        on_line = [start for start, end in stretches if end > line]
        if self._line is not None and not line:
            up = up_at(text)
        elif on_line:
            up = up_at(text, max(line, on_line[0] + 1))
        else:
            return len(text)
        if up < 0:
            return len(text)
        start = max((s for s in on_line if s < up), default=up)
        return start if len(text) - start <= _LINE_REACH else len(text)

    def _given_up(self, text: str, cut: int, stretches: list[tuple[int, int]]) -> int:
        """Where the row after a move up on a line with a secret goes out
        and ``Echo.copied`` cannot see all of it (past ``_LINE_REACH``: it
        goes out without its line end, or the line kept lost its start),
        the copy of a secret's tail it starts with (the part of the secret
        on the row drawn again) is masked (in ``stretches``); what may still
        become one is held (the ``cut`` returned; masked if the stream ends
        there), and while nothing shows, the next text is looked at."""
        line, kept = text.rfind("\n", 0, cut) + 1, self._line
        cropped = kept is not None and len(kept) >= _LINE_REACH
        row, fixed = (0, True) if self._due else (-1, cropped)
        if row < 0 and kept is not None and (cropped or not line):  # (on the line kept)
            row = up_at(text, 0, text.find("\n", 0, cut) if line else cut)
        if row < 0 and (line or kept is None):  # (on the last line, after its secret)
            first = next((b for b, e in stretches if line < e and b < cut), -1)
            row, fixed = (up_at(text, max(first, line), cut) if first >= 0 else -1), False
        # (with its line end, but for a line cropped, Echo.copied sees it)
        if row < 0 or (not fixed and "\n" in text[cut:]):
            return cut
        end = text.find("\n", row, cut)
        found = copy_start(
            text[row : end if end >= 0 else cut], self._redactor._needles(text), end >= 0
        )
        if found is None:
            self._due = False
            return cut
        start, stop = row + found[0], (row + found[1] if found[1] >= 0 else cut)
        crossed = any(b < cut and e > start for b, e in stretches)  # (not held apart)
        self._due = found[1] < 0 and cut - start <= _LINE_REACH and not crossed
        if self._due:
            return start
        stretches[:] = _merged([*stretches, (start, stop)])  # (a copy, or not to be held)
        return cut

    def _keep_line(self, text: str, cut: int, stretches: list[tuple[int, int]]) -> None:
        """``_line`` and ``_up_out`` once ``text[:cut]`` went out."""
        line = text.rfind("\n", 0, cut) + 1
        kept = self._line if not line else None
        start = 0
        if kept is None:
            self._up_out = False
            # (from its first secret: one wrapped with a line end starts on
            # the line before)
            start = next((b for b, e in stretches if line < e and b < cut), -1)
            if start < 0:
                self._line = None
                return
        self._up_out = self._up_out or up_at(text, max(start, line), cut) >= 0
        if self._up_out and "\n" not in text[cut:]:
            # (let go without its line end: past _LINE_REACH, given up)
            self._line, self._up_out = None, False
        else:
            self._line = ((kept or "") + text[start:cut])[-_LINE_REACH:]

    def flush(self, before: Any = None) -> Any:
        """What is held, let out: at the end, or (sent bytes) ``before`` a
        secret sent whole (``send_secret``, whose record is one mask), masked
        where the two hold a secret together (``hun`` before ``ter2``, with
        the secret ``hunter2``)."""
        held, self._held = self._held, self._held[:0]
        if self._decoder is not None:  # (the end: a character cut short)
            held += self._decoder.decode(b"", final=True)
        text = held if before is None else held + before
        stretches = self._stretches(text)
        self._covered, self._line, self._up_out, self._waiting = 0, None, False, False
        if self._due and (found := copy_start(held, self._redactor._needles(held))):
            stretches = _merged([*stretches, (found[0], found[1] if found[1] >= 0 else len(held))])
        self._due = False
        kept = [(b, min(e, len(held))) for b, e in stretches if b < len(held)]
        return _masked(held, kept) if kept else held
