"""What a session receives or sends, redacted as a stream of chunks: the
``Redactor``'s masks, with a secret split across chunks masked as one chunk
would show it.  Apart from ``_redact``, which redacts whole texts: what is
held back between chunks, and readline's redrawing of a row, are the
stream's alone.

Invariant: a registered secret never leaves ``RedactingStream`` in clear,
also when it is split across chunks: the stream holds back a tail that
could be the start of a secret, with the secrets it overlaps or touches, so
any split gives what one chunk gives.
"""

from __future__ import annotations

import codecs
from typing import Any

from ._echo import blank, copy_start, cut_short, up_at
from ._redact import Redactor, masked, merged

__all__ = ["RedactingStream"]

#: How much a ``RedactingStream`` holds back at most of a row readline
#: may be drawing again (``_redrawn``), and keeps of a line that holds a
#: secret, to find its copy in that row (``_line``).
_LINE_REACH = 1 << 11
#: How much that shows nothing a ``RedactingStream`` holds back at most
#: after a secret (readline's ``" \r"`` and ``ESC[A``, colours): more goes
#: out, and a copy of the row after it is a mask of its own.
_BLANK_REACH = 1 << 6
#: How much a ``RedactingStream`` holds back at most beyond a secret's
#: length: a run of secrets (``pw`` typed over and over) goes out masked
#: in parts, rather than being held, and searched again, whole.  Every feed
#: searches what is held again, so this bounds the cost of a small read.
_HOLD_REACH = 1 << 9


def _line_end(text: str) -> int:
    """Where the first line of ``text`` ends (its length if it does not)."""
    end = text.find("\n")
    return end if end >= 0 else len(text)


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
        if self._plain(text):
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
        return masked(text[:cut], [(b, min(e, cut)) for b, e in stretches if b < cut])

    def _plain(self, text: Any) -> bool:
        """Whether ``text`` goes out as it is, the state as it was: nothing
        is held or kept from before (no secret on the line, no row readline
        may draw again), and ``text`` holds no control sequence and no
        secret's first character.  A secret shows in a text, also as its
        echo shows it (which only leaves characters out), with its first
        character; with none, the way below masks nothing, holds nothing
        back and keeps no line: most chunks of a session with a password
        (a command's output, a command sent) cost a few character searches.
        What is sent keeps no line and has no echo drawn over it: only its
        bytes' first characters count there."""
        if self._held or self._covered or self._waiting:
            return False
        redactor = self._redactor
        if self._sent:
            return text.__class__ is bytes and not any(b in text for b in redactor._byte_firsts)
        return (
            text.__class__ is str  # (a subclass goes the long way)
            and self._line is None
            and not (self._due or self._up_out)
            and "\x1b" not in text
            and not any(first in text for first in redactor._firsts)
        )

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
        stretches[:] = merged([*stretches, (start, stop)])  # (a copy, or not to be held)
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
            stretches = merged([*stretches, (found[0], found[1] if found[1] >= 0 else len(held))])
        self._due = False
        kept = [(b, min(e, len(held))) for b, e in stretches if b < len(held)]
        return masked(held, kept) if kept else held
