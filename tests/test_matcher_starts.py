r"""Where a match can start (``Analysis.starts``) and the literal it holds
(``Analysis.needs``), against patterns built to mislead them: flags set
and cleared inline, case folding beyond ASCII (``ß``, ``\u017f``, the Kelvin
sign), look-arounds holding the literal, conditionals, backreferences,
``{0}`` and optional groups, atomic groups and possessive repeats, escapes
of every kind, and text with Unicode line breaks (``\x85``, ``\u2028``:
not line ends for ``re``'s ``^``) and backspaces, cut in chunks that split
the literals.  Each claim is checked at every place a match starts, and a
search that uses them finds, after every chunk, what the same search
without them finds."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from aioexpect import _matcher
from aioexpect._matcher import Buffer, _Scan
from aioexpect._scan import _analysed, analyse, known

#: Pieces of patterns: anchors and look-arounds (some holding literals), and
#: literals (escaped, one-character classes, case-folding ones), and the
#: items that consume an unknown amount.
ATOMS = [
    *[r"^", r"\A", r"(?m:^)", r"(?<=\n)", r"(?<=[\r\x08])", r"(?<=ab)", r"(?<=[kK])"],
    *[r"(?<=\x85)", r"(?<=\u2028)", r"(?<=ss)", r"(?<!a)", r"\b", r"(?=ab)", r"(?!x)"],
    *[r"(?=.*ab)", r"(?=[\s\S]*K)", r"$", r"\Z", r"\1", r"(?(1)ab|cd)", r"(?(1)ab)"],
    *[r"ab", r"x", r"\x41", r"\101", r"[a]", r"K", r"k", "ß", "\u017f", r"\u212a", "SS", r"s"],
    *[r"\N{KELVIN SIGN}", r"\n", r"\r", r"[\n]", r"o", r"core#", r"abcdefgh"],
    *[r".", r".*", r".{0,5}", r"\w+", r"\w{1,3}", r"[^x]", r"\s", r"\d"],
]
#: Repeats of an atom (not one repeated already) and, bounded, of a group:
#: no backtracking blow-up.
REPEATS = ["", "", "", "?", "*", "+", "{0}", "{1,3}", "{2}", "*+", "?+", "+?"]
GROUP_REPEATS = ["?", "{0}", "{2}", "?+", "{0,1}"]
GROUPS = [
    *["(%s)", "(?:%s)", "(?i:%s)", "(?-i:%s)", "(?s:%s)", "(?m:%s)", "(?>%s)", "(?:%s|)"],
    *["(?:%s|%s)", "(%s|%s)", "(?=%s)", "(?!%s)", "(?x: %s # note\n)"],
]
ZERO_WIDTH = ("^", "\\A", "(?<", "\\b", "(?=", "(?!", "$", "\\Z", "(?m:^)", "(?(")
FLAGS = [0, re.I, re.M, re.S, re.I | re.M, re.A, re.I | re.A, re.M | re.S]

#: Pieces of text: the literals above, whole and in part, line ends of every
#: kind, case-folding characters, and runs longer than the thresholds.
CHARS = [
    *["a", "b", "x", "A", "B", "K", "k", "s", "S", "ß", "\u017f", "\u212a", "SS", "ss", "ab"],
    *["\n", "\r", "\x08", "\x85", "\u2028", "\r\n", " ", "o", "c", "d", "1", "#", "core#"],
    *["abcdefgh", "abcdefg", "bcdefgh", "core"],
]


def pattern_text(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.25 and depth < 3:
            form = rng.choice(GROUPS)
            inner = [pattern_text(rng, depth + 1) for _ in range(form.count("%s"))]
            group = form % tuple(inner)
            parts.append(group + (rng.choice(GROUP_REPEATS) if rng.random() < 0.3 else ""))
        else:
            atom, repeat = rng.choice(ATOMS), rng.choice(REPEATS)
            if repeat and not atom.startswith(ZERO_WIDTH) and not any(c in atom for c in "*+{"):
                atom = (f"(?:{atom})" if len(atom) > 1 else atom) + repeat
            parts.append(atom)
    return "".join(parts)


def random_pattern(rng: random.Random, kind: type) -> re.Pattern[Any]:
    while True:
        text = pattern_text(rng)
        if rng.random() < 0.15:
            text = f"(?:{text})|(?:{pattern_text(rng)})"
        flags = rng.choice(FLAGS)
        try:
            if kind is bytes:
                locale = re.L if rng.random() < 0.3 else 0
                return re.compile(text.encode("latin-1"), flags & ~re.A | locale)
            return re.compile(text, flags)
        except (re.error, UnicodeEncodeError, ValueError):
            continue


def random_text(rng: random.Random, kind: type) -> Any:
    parts = []
    for _ in range(rng.randint(1, 30)):
        long = rng.random() < 0.1
        parts.append(rng.choice("axo") * rng.randint(60, 400) if long else rng.choice(CHARS))
    text = "".join(parts)
    if kind is str:
        return text
    if rng.random() < 0.5:
        return text.encode("latin-1", "replace")
    return bytes(rng.choice(b"ab\n\r\x08\x85\xdfsSkK x\xff#") for _ in range(rng.randint(1, 600)))


def chunks_of(rng: random.Random, text: Any) -> list[Any]:
    chunks, i = [], 0
    while i < len(text):
        chunks.append(text[i : i + rng.choice([1, 1, 2, 3, 7, 30, 100, 1000])])
        i += len(chunks[-1])
    return chunks


def assert_claims_hold(pattern: re.Pattern[Any], text: Any) -> None:
    """Every place a match starts is the text's start or after one of
    ``starts``, and holds ``needs``'s literal within its offset."""
    analysis = _analysed(pattern)
    starts, needs = analysis.starts, analysis.needs
    if starts is None and needs is None:
        return
    for at in range(len(text) + 1):
        m = pattern.match(text, at)
        if m is None:
            continue
        if starts is not None:
            assert at == 0 or text[at - 1 : at] in starts, (pattern, text, at)
        if needs is not None:
            literal, offset = needs
            end = min(m.end(), at + offset + len(literal))
            assert literal in text[at:end], (pattern, text, at)


def assert_same_as_without(pattern: re.Pattern[Any], text: Any, rng: random.Random) -> None:
    """After every chunk, the scan finds what the same scan finds without
    ``starts`` and ``needs`` (the search as it was), match after match; a
    learned prompt's analysis (``known``) too."""
    learned = rng.random() < 0.3
    if learned:
        known(pattern, _analysed(pattern))
    analysis = analyse(pattern)
    plain = _analysed(pattern)._replace(starts=None, needs=None)
    skipping, searching = _Scan(0, pattern, analysis), _Scan(0, pattern, plain)
    one, two = Buffer(text[:0]), Buffer(text[:0])
    for chunk in chunks_of(rng, text):
        one.append(chunk)
        two.append(chunk)
        for _ in range(len(text) + 2):  # (each match consumes, or ends the loop)
            got, expected = skipping.search(one), searching.search(two)
            spans = [found and (found.start, found.end) for found in (got, expected)]
            assert spans[0] == spans[1], (pattern, text, learned)
            if got is None or expected is None:
                break
            one.consume(got.end)
            two.consume(expected.end)
            skipping, searching = _Scan(0, pattern, analysis), _Scan(0, pattern, plain)
            if got.start == got.end:
                break


@pytest.mark.parametrize("kind", [str, bytes], ids=["text", "bytes"])
@pytest.mark.parametrize("threshold", ["default", "always"])
def test_where_a_match_starts_and_what_it_holds_mislead_no_search(kind, threshold, monkeypatch):
    if threshold == "always":  # (every search skips what it can, a learned one too)
        monkeypatch.setattr(_matcher, "ANCHORED", 0)
        monkeypatch.setattr(_matcher, "PREFILTER", 0)
    for seed in range(250):
        rng = random.Random(seed)
        pattern = random_pattern(rng, kind)
        text = random_text(rng, kind)
        assert_claims_hold(pattern, text)
        assert_same_as_without(pattern, text, rng)


@pytest.mark.parametrize(
    ("pattern", "flags", "starts", "needs"),
    [
        (r"(?-i:ß)x", re.I, None, ("ß", 0)),  # (x folds: not needed)
        (r"(?i)ß", 0, None, None),  # (ss, SS)
        (r"(?i:K)ab", 0, None, ("ab", 1)),  # (K folds to the Kelvin sign)
        (r"(?=abc)x", 0, None, None),  # (x: the prefix; abc is not in the match)
        (r"(?<=abc)x", 0, ("c",), None),
        (r"a{0}b", 0, None, ("b", 0)),
        (r"(?:ab)?c", 0, None, ("c", 2)),
        (r"(a)?(?(1)b|c)d", 0, None, ("d", 2)),
        (r"(a)\1xyz", 0, None, ("xyz", 2)),
        (r"\w+:\s(?:foo|barfoo)", 0, None, None),  # (after an unbounded repeat)
        (r"(?:x|(?<=\n))y", re.M, None, ("y", 1)),
        (r"(?<=\n)?y", 0, None, ("y", 0)),
        (r"(?i)(?<=[\u212a])x", 0, None, None),
        (r"(?m)(?>^)x", 0, ("\n",), ("x", 0)),
        (r"(?<=\x85)x", 0, ("\x85",), None),  # (a look-behind names \x85; x: the prefix)
        (r"(?m)^\x85?x", 0, ("\n",), ("x", 1)),  # (not a line end for ^)
    ],
)
def test_the_analysis_of_misleading_patterns(pattern, flags, starts, needs):
    analysis = _analysed(re.compile(pattern, flags))
    assert (analysis.starts, analysis.needs) == (starts, needs)
