r"""Patterns that start only at a line start (every driver's prompt:
``(?:^|(?<=[\r\x08]))``): a long line arriving in small chunks is not
searched again per chunk where no match can start, and what the matcher
finds is still what ``re.search`` over the whole text finds."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from aioexpect import _driver, _matcher, _prompt_text
from aioexpect._matcher import Buffer, Searcher
from aioexpect._scan import UNTOLD, analyse, needs_of

from .test_matcher import naive


def drivers_patterns() -> list[re.Pattern[str]]:
    """Every registered driver's prompts and pagers, each once."""
    found: dict[str, re.Pattern[str]] = {}
    for driver in _driver._REGISTRY.values():
        for pattern in (*driver.prompt_patterns, *driver.pager_patterns):
            found.setdefault(pattern.pattern, pattern)
    return list(found.values())


CHANGED = _prompt_text.changed_prompt("admin@core-1:~$ ")
assert CHANGED is not None

#: What users write: anchored at line starts in the ways ``re`` allows (some
#: matching empty, some spanning lines, some not at the end), and not.
USER = [
    r"(?m)^\$ ",
    r"^[\w.-]+[#>] ?\Z",
    r"(?m)^(\w+)=(\d+)$",
    r"(?<=\r)OK",
    r"(?:\A|(?<=[\r\n]))> ?",
    r"(?<=\x08)x",
    r"(?m)^$",
    r"(?m)^",
    r"(?im)^login:",
    r"(?m)^.*done",
    r"(?ms)^a.*?b",
    r"\A\w+",
    r"(?<=[\r\n])\s*#",
    r"(?m)(?<=\n)(?!x)\w{1,3}\Z",
    r"(?m)(?:^|(?<=[\r\x08]))(?:\x1b\[[0-9;]*m){0,4}[\w@:~-]{1,40}[$#] ?\Z",
    r"(?m)(?:^|(?<=\r))(?<=[a\n\r])b",
    r"(?m)(?<=o.{300})^Q",
    r"\$ ",
    r"[#>] ?\Z",
    r"\w{1,3}@core[#>] ?\Z",
    r"(?:ab|cab)d",
    r"[ab]{2}x=\d+\r",
    r"(?:ut|uter|out)#",
    r"(?s)\d.{0,50}done",
]

#: Pieces of text: line ends of every kind, prompts, and lines longer than
#: the chunks, the windows and the patterns' tails.
PIECES = [
    *["\r\n", "\n", "\r", "\x08", " ", "router# ", "$ ", "login:", "LOGIN:", "OK", "done"],
    *["a", "b", "Q", "x=12", ">", "#", "<HUAWEI>", " --More-- ", "\x1b[0m", "admin@core-1:~$ "],
    *["admin@core#", "cab", "d", "adm"],
    *["x" * 70, "y" * 300, "z" * 5000],
]


def chunks_of(rng: random.Random) -> list[str]:
    """Random pieces, cut anywhere: a character to thousands."""
    text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
    chunks, i = [], 0
    while i < len(text):
        n = rng.choice([1, 2, 7, 30, 100, 1000])
        chunks.append(text[i : i + rng.randint(1, n)])
        i += len(chunks[-1])
    return chunks


def groups(rng: random.Random, kind: type) -> list[Any]:
    """A few patterns waited for together: a driver's, a user's, mixed."""
    shipped, user = drivers_patterns(), [re.compile(p) for p in USER]
    pool = rng.choice([shipped, user, [*shipped, *user, CHANGED]])
    chosen = rng.sample(pool, rng.randint(1, min(4, len(pool))))
    if kind is bytes:  # (the same patterns, of bytes)
        return [re.compile(p.pattern.encode("latin-1"), p.flags & ~re.UNICODE) for p in chosen]
    return chosen


@pytest.mark.parametrize("kind", [str, bytes], ids=["text", "bytes"])
@pytest.mark.parametrize("anchored", [_matcher.ANCHORED, 0], ids=["default", "always"])
def test_a_search_that_skips_what_holds_no_line_start_finds_what_re_finds(
    anchored, kind, monkeypatch
):
    """A differential test: random patterns (the drivers' prompts and
    pagers, a learned prompt, users' patterns) over random text with long
    lines, in random chunks.  After every chunk the matcher finds what
    ``re.search`` over all the text finds (earliest, then lowest index),
    and nothing is lost or found twice (in bytes too)."""
    monkeypatch.setattr(_matcher, "ANCHORED", anchored)
    empty = kind()
    for seed in range(150 if kind is str else 50):
        rng = random.Random(seed)
        patterns = groups(rng, kind)
        searcher, buf, text, taken, data = Searcher(patterns), Buffer(empty), empty, [], empty
        for piece in chunks_of(rng):
            chunk = piece.encode("latin-1") if kind is bytes else piece
            buf.append(chunk)
            text, data = text + chunk, data + chunk
            for _ in range(len(text) + 2):  # (each match consumes, or ends the loop)
                expected = naive(text, patterns)
                found = searcher.search(buf)
                got = found and (found.index, found.start, found.end)
                assert got == expected, f"seed={seed} {patterns} text={text!r}"
                if found is None:
                    break
                m = searcher.match(buf, found)
                assert m.after == text[found.start : found.end]
                taken.append(m.before + m.after)
                text = text[found.end :]
                searcher = Searcher(patterns)
                if found.start == found.end:  # (found again at once: enough)
                    break
        assert empty.join(taken) + buf.text() == data, f"seed={seed}"


@pytest.mark.parametrize(
    "pattern",
    [*drivers_patterns(), CHANGED, *map(re.compile, USER)],
    ids=lambda pattern: pattern.pattern[:24],
)
def test_a_match_starts_only_where_the_analysis_says(pattern):
    """Where ``analyse(pattern).starts`` names characters, every place a
    match starts, in random text, is the text's start or just after one."""
    starts = analyse(pattern).starts
    if starts is None:
        return
    for seed in range(30):
        text = "".join(chunks_of(random.Random(seed)))[:3000]
        for at in range(len(text) + 1):
            if pattern.match(text, at) is not None:
                assert at == 0 or text[at - 1] in starts, (seed, at)


@pytest.mark.parametrize(
    ("pattern", "starts"),
    [
        (r"(?:^|(?<=[\r\x08]))x", ("\x08", "\n", "\r")),  # MULTILINE: see below
        (r"^x", ()),  # the start of the text only
        (r"\Ax", ()),
        (r"(?:\A|(?<=[\r\n]))x", ("\n", "\r")),
        (r"(?m:^)x", ("\n",)),
        (r"(?<=ab)x", ("b",)),
        (r"\b(?m:^)x", ("\n",)),  # zero-width items before it
        (r"(?i)(?<=[\r])x", ("\r",)),
        (r"(^|\r)x", None),  # the \r is in the match
        (r"(?:^)*x", None),  # maybe not at all
        (r"(?<=\s)x", None),  # too many
        (r"(?<=[^a])x", None),
        (r"(?<![a])x", None),
        (r"(?i)(?<=[ab])x", None),  # and A, B
        (r"(?:^x|y)", None),
        (r"x", None),
        (r"", None),
    ],
)
def test_line_starts_of_a_pattern(pattern, starts):
    flags = re.MULTILINE if pattern.startswith("(?:^") else 0
    assert analyse(re.compile(pattern, flags)).starts == starts


def test_bytes_patterns_have_bytes_line_starts():
    assert analyse(re.compile(rb"(?m)(?:^|(?<=\r))x")).starts == (b"\n", b"\r")


def test_a_long_line_is_not_searched_again_where_no_prompt_can_start():
    """An answer of one long line, in small chunks: once past a prompt's
    reach from the line's start, a chunk with no line start in it is not
    searched (a search per chunk went back ``tail`` characters: an
    8,000-character line in 100-character chunks cost 60 ms an execute).
    The prompt after it is found."""
    searcher, buf = Searcher([_driver.get("generic").prompt_patterns[0]]), Buffer("")
    buf.append("show thing\r\n")
    assert searcher.search(buf) is None
    for _ in range(200):
        buf.append("x" * 100)
        assert searcher.search(buf) is None
    # (no line start since the line's, more than a prompt's reach back)
    assert searcher._scans[0].resume == len(buf)
    buf.append("\r\nrouter# ")
    found = searcher.search(buf)
    assert found is not None and (found.start, found.end) == (len(buf) - 8, len(buf))


def test_a_learned_analysis_never_tells_where_a_match_starts():
    """``known`` takes a pattern's analysis from another of its shape: not
    its line starts, which a literal character of a look-behind decides."""
    from aioexpect._scan import known

    shape = re.compile(r"(?<=a)x\Z")
    changed = re.compile(r"(?<=b)x\Z")
    known(changed, analyse(shape))
    assert analyse(shape).starts == ("a",)
    assert analyse(changed).starts is None


@pytest.mark.parametrize(
    "pattern",
    [*drivers_patterns(), CHANGED, *map(re.compile, USER)],
    ids=lambda pattern: pattern.pattern[:24],
)
def test_a_match_holds_the_literal_the_analysis_says(pattern):
    """Where ``analyse(pattern).needs`` names a literal, every match, in
    random text, holds it, beginning at most that far after its start."""
    needs = needs_of(pattern)
    if needs is None:
        return
    literal, offset = needs
    for seed in range(30):
        text = "".join(chunks_of(random.Random(seed)))[:3000]
        for at in range(len(text) + 1):
            m = pattern.match(text, at)
            if m is not None:
                assert literal in text[at : min(m.end(), at + offset + len(literal))], (seed, at)


def test_a_long_line_is_not_searched_again_where_a_learned_prompt_cannot_be():
    """A learned prompt with its middle free (``changed_prompt``) is not
    searched over its whole width (4,594) per chunk of a long line that
    does not hold its first characters (where each chunk's search went
    back that far, it cost about half of what such an answer still cost).
    Its analysis was told (``known``): its literal comes from its own parse."""
    assert analyse(CHANGED).needs is UNTOLD
    searcher, buf = Searcher([CHANGED]), Buffer("")
    buf.append("show thing\r\n")
    for _ in range(200):
        buf.append("x" * 100)
        assert searcher.search(buf) is None
    literal, offset = needs_of(CHANGED)  # (its literal at most offset in)
    assert len(buf) - searcher._scans[0].resume <= offset + len(literal) < analyse(CHANGED).width
    buf.append("\r\nadmin@core-1:/tmp$ ")
    found = searcher.search(buf)
    assert found is not None and found.start == len(buf) - 19
