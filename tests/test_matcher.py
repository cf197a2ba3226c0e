"""The pure matcher: earliest-match and lowest-index rules, incremental search
equal to a naive full rescan, sentinels, and no data lost or duplicated."""

from __future__ import annotations

import dataclasses
import random
import re
from typing import Any

import pytest

from aioexpect import (
    EOF,
    FULL_BUFFER,
    TIMEOUT,
    Match,
    _driver,
    _login,
    _matcher,
    _prompt_read,
    _prompt_text,
    _scan,
)
from aioexpect._match import new_match
from aioexpect._matcher import Buffer, Searcher, _Plan
from aioexpect._patterns import normalize, normalize_patterns
from aioexpect._reading import PeekBuffer
from aioexpect._scan import Reach, analyse, in_last_line, literal_prefix, reach_of
from aioexpect.drivers._builtin import GENERIC

from .splits import splits


def feed(chunks: list[Any], patterns: list[Any], *, exact: bool = False) -> tuple[list[Match], Any]:
    """Feed chunks one by one, matching (and consuming) after each, as the
    session does with one pending expect per match."""
    items = normalize_patterns(
        patterns, exact=exact, bytes_mode=isinstance(chunks[0], bytes), encoding="utf-8"
    )
    buf = Buffer(chunks[0][:0])
    matches: list[Match] = []
    searcher = Searcher(items, patterns)
    for chunk in chunks:
        buf.append(chunk)
        while (found := searcher.search(buf)) is not None:
            matches.append(searcher.match(buf, found))
            searcher = Searcher(items, patterns)
    return matches, buf.text()


def naive(data: str, patterns: list[str]) -> tuple[int, int, int] | None:
    best = None
    for i, p in enumerate(patterns):
        m = re.search(p, data)
        if m and (best is None or m.start() < best[1]):
            best = (i, m.start(), m.end())
    return best


CASES = [
    # (data, patterns, expected [(index, before, after)], rest)
    ("login: ", [r"login: "], [(0, "", "login: ")], ""),
    ("abc$ def$ ", [r"\$ "], [(0, "abc", "$ "), (0, "def", "$ ")], ""),
    ("xx END yy", ["END", "yy"], [(0, "xx ", "END"), (1, " ", "yy")], ""),
    ("Password: left", [r"[Pp]assword:\s"], [(0, "", "Password: ")], "left"),
    ("a1b22c333", [r"\d{3}"], [(0, "a1b22c", "333")], ""),
    ("héllo wörld\n", ["wörld"], [(0, "héllo ", "wörld")], "\n"),
]


@pytest.mark.parametrize(("data", "patterns", "expected", "rest"), CASES)
def test_cases_fed_whole_bytewise_and_split(data, patterns, expected, rest):
    for label, chunks in splits(data):
        matches, left = feed(chunks, patterns)
        got = [(m.index, m.before, m.after) for m in matches]
        assert got == expected, label
        assert left == rest, label


def test_earliest_match_wins_over_lower_index():
    matches, _ = feed(["one two three"], ["three", "two"])
    assert (matches[0].index, matches[0].before) == (1, "one ")


def test_ties_go_to_the_lowest_index():
    matches, _ = feed(["prompt# "], [r"#\s", r"#"])
    assert matches[0].index == 0
    matches, _ = feed(["prompt# "], [r"#", r"#\s"])
    assert matches[0].index == 0 and matches[0].after == "#"


def test_span_and_groups_are_relative_to_before_plus_after():
    matches, _ = feed(["junk\nuser@host:~$ "], [r"(?P<user>\w+)@(\w+):"])
    m = matches[0]
    assert m.span()[0] == len(m.before)
    assert (m.before + m.after)[slice(*m.span(1))] == "user"
    assert m.groups() == ("user", "host")
    assert m.groupdict() == {"user": "user"}
    assert m.group(2) == "host"


def test_a_match_is_subscripted_as_re_match_is():
    # pexpect's child.match is an re.Match: a port's m[1] was a TypeError.
    matches, _ = feed(["junk\nuser@host:~$ "], [r"(?P<user>\w+)@(\w+):"])
    m = matches[0]
    assert (m[0], m[1], m["user"], m[2]) == ("user@host:", "user", "user", "host")
    with pytest.raises(IndexError):
        m[3]
    with pytest.raises(TypeError):  # (not iterable, as re.Match is not)
        list(m)
    exact, _ = feed(["a+b"], ["a+b"], exact=True)
    assert exact[0][0] == "a+b"
    with pytest.raises(IndexError, match="only group 0"):
        exact[0][1]


def test_span_after_long_prefix_split_across_many_chunks():
    data = "x" * 5000 + "\n" + "y" * 700 + "MARK-42 tail"
    for label, chunks in splits(data, seeds=range(5)):
        matches, left = feed(chunks, [r"MARK-(\d+) "])
        m = matches[0]
        assert m.span() == (len(data) - len("MARK-42 tail"), len(data) - len("tail")), label
        assert m.group(1) == "42" and left == "tail"


def test_a_match_made_by_new_match_is_the_one_match_makes():
    """``new_match`` (the searcher's, without the frozen ``__init__``) makes
    the ``Match`` the class makes: every field, frozen all the same."""
    found = re.compile(r"(\d+)").search("ab 42", 1)
    for args in [(1, "x", "ab ", "42", found, 0, repr), (0, EOF, "rest", "", None, 0, None)]:
        made = new_match(*args)
        assert type(made) is Match and made == Match(*args)
        assert [getattr(made, f.name) for f in dataclasses.fields(Match)] == list(args)
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.before = "changed"  # type: ignore[misc]


def test_exact_patterns_are_not_regexes():
    matches, _ = feed(["a.b a+b"], ["a+b"], exact=True)
    assert (matches[0].before, matches[0].after) == ("a.b ", "a+b")
    assert matches[0].span() == (4, 7)
    with pytest.raises(IndexError):
        matches[0].group(1)


def test_one_exact_string_gets_the_searcher_its_plan_gives():
    """``Searcher.of``'s short way for ``expect_exact(text)`` in a text
    session (no ``normalize``, no plan) makes what the long way makes."""

    def state(searcher: Searcher) -> tuple[Any, ...]:
        scans = [(type(s), {k: getattr(s, k) for k in type(s).__slots__}) for s in searcher._scans]
        indexes = searcher.eof_index, searcher.timeout_index, searcher.full_index
        return searcher.patterns, indexes, searcher._skip_empty, scans

    for text in ["ping 1\r\n", "x", "caf\u00e9 \\d+ $"]:
        long = Searcher.__new__(Searcher)
        long._start(_Plan(normalize((text,), True, False, "utf-8")), [text])
        assert state(Searcher.of([text], True, False, "utf-8")) == state(long)
    with pytest.raises(ValueError, match="empty"):
        Searcher.of([""], True, False, "utf-8")
    with pytest.raises(TypeError, match="bytes-mode"):
        Searcher.of(["x"], True, True, None)


def test_bytes_patterns_in_bytes_mode():
    matches, left = feed([b"\x00\xffdata\r\n> "], [rb"> $"])
    assert matches[0].before == b"\x00\xffdata\r\n" and left == b""


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ([], ValueError),
        ([""], ValueError),
        (["("], ValueError),
        ([42], TypeError),
        (42, TypeError),
    ],
)
def test_bad_patterns_raise_plain_errors(bad, error):
    with pytest.raises(error):
        normalize_patterns(bad, exact=False, bytes_mode=False, encoding="utf-8")


def test_mode_mismatch_is_a_type_error():
    with pytest.raises(TypeError, match="bytes-mode"):
        normalize_patterns(["x"], exact=False, bytes_mode=True, encoding=None)
    with pytest.raises(TypeError):
        normalize_patterns([re.compile(b"x")], exact=False, bytes_mode=False, encoding="utf-8")
    with pytest.raises(TypeError):
        normalize_patterns([re.compile("x")], exact=True, bytes_mode=False, encoding="utf-8")


def test_text_session_accepts_bytes_patterns_decoded():
    (item,) = normalize_patterns([b"caf\xc3\xa9"], exact=True, bytes_mode=False, encoding="utf-8")
    assert item == "café"


def test_sentinels_are_indexed_not_searched():
    searcher = Searcher(
        normalize_patterns(
            ["x", EOF, TIMEOUT, FULL_BUFFER], exact=False, bytes_mode=False, encoding="utf-8"
        )
    )
    assert (searcher.eof_index, searcher.timeout_index, searcher.full_index) == (1, 2, 3)
    buf = Buffer("")
    buf.append("abc")
    assert searcher.search(buf) is None
    m = searcher.sentinel_match(buf, 1)
    assert (m.before, m.after, m.pattern, len(buf)) == ("abc", "", EOF, 0)


@pytest.mark.parametrize(
    ("pattern", "reach"),
    [
        (r"MARK-\d+", Reach.LINE),
        (r"foo", Reach.BOUNDED),
        (r"a{2,5}b", Reach.BOUNDED),
        (r"foo.*bar", Reach.LINE),
        (r"(?s)foo.*bar", Reach.ANY),
        (r"foo[\s\S]*bar", Reach.ANY),
        (r"[^\n]+\$ ", Reach.LINE),
        (r"[^a]+", Reach.ANY),
        (r"\s+x", Reach.ANY),
        (r"\w+(?=\n)", Reach.LINE),
        (r"(?m)^[\w.@-]+[#>] ?$", Reach.LINE),
        (r"(a|b\n)+", Reach.ANY),
        (r"(\d+)\r?\n", Reach.LINE),
        (r"\n(\d+)\r\nEND", Reach.LINE),
        (r"(\d+\r\n)", Reach.ANY),
        # What a look-around looks at counts: the search must keep it in view.
        (r"foo(?=.*Q)", Reach.LINE),
        (r"foo(?=[\s\S]*Q)", Reach.ANY),
        (r"(?<=x{300})foo", Reach.BOUNDED),
    ],
)
def test_reach_classification(pattern, reach):
    assert reach_of(re.compile(pattern))[0] is reach


PROPERTY_PATTERNS = [
    [r"ab+c"],
    [r"a.*c", r"b\d"],
    [r"(?s)a.*?c"],
    [r"\n\w+\n"],
    [r"c$", r"bb"],
    [r"(?<=a)b{2}"],
    [r"\bab\b", r"ca+"],
    [r"[^c]{3,}c"],
    [r"(\d+)\r?\n", r"c c"],
    [r"\n(\w+)\n"],
    [r"a\nb+c\n"],
    [r"1 (.*)\n"],
    [r"ab(?!b)", r"[bc](?!\n)c"],
    [r"c(?=1 a)", r"\bb b"],
    [r"b[\s\S]*1"],
    [r"b+ ?\Z", r"(?<=\n)c\Z"],
    # Last-line patterns, searched as one alternation: mixed flags, a group
    # (left out of it), ties, a verbose pattern with a trailing comment.
    [r"b ?\Z", r"(?i)B\s?\Z", r"(?<=c)1\Z"],
    [r"c ?\Z", r"(b)\1\Z", r"b\Z"],
    [r"\w+\Z", r"[abc]+\Z", r"b\Z"],
    [r"(?x) b \  ? \Z  # a comment", r"1\Z"],
    [r"1 a\Z", r"\n1\Z"],
    # Look-arounds wider than the margin (tuned down to 2 below).
    [r"c(?=.*1)", r"b(?=[^c]{3}a)"],
    [r"(?<=a b)c", r"a(?![^1]{0,6}1)c"],
    [r"c(?=[\s\S]*1 1)"],
    # Only at the end of the text: searched in their last characters only.
    # (Never an empty match here: the search would find it again and again.)
    [r"b(?=b{0,2} ?\Z)", r"1\Z", r"c ?$"],
    [r"(?:^|(?<=\n))[abc]{1,6}[1 ]{1,2}\Z", r"[a1](?=[b ]{0,5}\Z)|(?<=\n)c\Z"],
    [r"(?:b\Z|a)c", r"(?m)c$", r"(?m)(?-m:b$)", r"(?!b\Z)c"],
    [r"b\s{0,3}\Z", r"(?:a\n?|c\Z)\Z", r"\n(?<=c\n)\Z"],
    [r"(?s)a.{0,30}\Z", r"1(?=( ?)\Z)", r"(?:a\Z)?b"],
]


@pytest.mark.parametrize(
    "tuning",
    [
        {},
        {"PREFILTER": 0},
        {"STEP": 2, "PREFILTER": 0},
        {"STEP": 9},
        {"MARGIN": 2},
        {"STEP": 4, "MARGIN": 3, "PREFILTER": 0},
    ],
    ids=["default", "prefilter=0", "step=2,prefilter=0", "step=9", "margin=2", "step=4,margin=3"],
)
@pytest.mark.parametrize("patterns", PROPERTY_PATTERNS, ids=str)
def test_incremental_search_equals_naive_rescan(patterns, tuning, monkeypatch):
    """After every chunk, the incremental search finds exactly what a naive
    ``re.search`` over the whole buffer finds (earliest, then lowest index).
    Tuned down, what only large arrivals do runs on every chunk: a regex's
    literal prefix is looked for first (``PREFILTER``), and the data is
    searched in windows first (``STEP``), so a window that ends just before
    a look-ahead's evidence is exercised on every seed."""
    for name, value in tuning.items():
        monkeypatch.setattr(_matcher, name, value)
    for seed in range(60):
        rng = random.Random(seed)
        data = "".join(rng.choice("abbc \n1") for _ in range(rng.randint(0, 300)))
        items = normalize_patterns(patterns, exact=False, bytes_mode=False, encoding="utf-8")
        buf, text = Buffer(""), ""
        searcher = Searcher(items)
        i = 0
        while i < len(data):
            n = rng.randint(1, 40)
            chunk, i = data[i : i + n], i + n
            buf.append(chunk)
            text += chunk
            while True:
                expected = naive(text, patterns)
                found = searcher.search(buf)
                got = None if found is None else (found.index, found.start, found.end)
                assert got == expected, f"seed={seed} text={text!r}"
                if found is None:
                    break
                m = searcher.match(buf, found)
                text = text[found.end :]
                assert m.before + m.after + text == (m.before + m.after) + buf.text()
                searcher = Searcher(items)


@pytest.mark.parametrize(
    ("pattern", "n"),
    [
        (r"foo(?=.*Q)", 300),
        (r"foo(?=[\s\S]*Q)", 300),
        (r"foo(?=.{300}Q)", 300),
        (r"(?<=o.{700})Q", 700),
    ],
)
def test_look_arounds_reaching_past_the_margin_match_across_chunks(pattern, n):
    [m], left = feed(["foo", "y" * n, "Q", "rest"], [pattern])
    assert m.after == ("Q" if pattern.startswith("(?<=") else "foo")
    assert m.before + m.after + left == "foo" + "y" * n + "Qrest"


def test_nothing_lost_or_duplicated_across_matches():
    data = "".join(f"line {i} $ " for i in range(300))
    for label, chunks in splits(data, seeds=range(5)):
        matches, left = feed(chunks, [r"\$ "])
        assert "".join(m.before + m.after for m in matches) + left == data, label
        assert len(matches) == 300, label


def fed_far(pattern: str, chunk: str, rounds: int, near: int) -> tuple[Searcher, Buffer]:
    """Feed ``chunk`` ``rounds`` times, searching after each: nothing may
    match, and the search must resume within ``near`` characters of the end
    (the work per chunk stays bounded, however long the buffer grows)."""
    items = normalize_patterns([pattern], exact=False, bytes_mode=False, encoding="utf-8")
    searcher = Searcher(items)
    buf = Buffer("")
    for _ in range(rounds):
        buf.append(chunk)
        assert searcher.search(buf) is None
        assert len(buf) - searcher._scans[0].resume <= near
    return searcher, buf


def test_line_suffix_patterns_resume_near_the_end():
    r"""``(\d+)\r?\n`` may match a newline, but only in its bounded suffix:
    it must not rescan the buffer on every chunk."""
    searcher, buf = fed_far(r"END (\d+)\r?\n", "0123456789 the quick brown fox\r\n" * 40, 500, 2048)
    buf.append("END 42\r\n")
    found = searcher.search(buf)
    assert found is not None and found.re_match is not None
    assert found.re_match.group(1) == "42"


def test_search_is_incremental_not_quadratic():
    """32 MB would take minutes with a rescan per chunk; count the work
    instead of timing it: each chunk's search touches only a bounded window."""
    line = "".join(chr(97 + i % 26) for i in range(79)) + "\n"
    searcher, buf = fed_far(r"MARK-\d+", line * 50, 2000, 4096)
    buf.append("MARK-7\n")
    found = searcher.search(buf)
    assert found is not None and found.start == len(buf) - 7


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        (r"END-OF-FLOOD (\d+)", "END-OF-FLOOD "),
        (r"\bEND\b", "END"),
        (r"^ab", "ab"),
        (r"(?<=x)ab(?!c)", "ab"),
        (r"a\nb+", "a\n"),
        (r"ab*", "a"),
        (r"a|b", ""),
        (r"[ab]c", ""),
        (r"(?i)abc", ""),
        (r"(?i:a)bc", ""),
        (r"(ab)c", ""),
        (rb"\x00ok\d", b"\x00ok"),
    ],
)
def test_literal_prefix(pattern, prefix):
    assert literal_prefix(re.compile(pattern)) == prefix


@pytest.mark.parametrize(
    ("pattern", "last_line"),
    [
        (r"router#\Z", True),
        (r"[\w.-]+[#>] ?\Z", True),
        (r"(?<=\n)\w+\$ \Z", True),
        (r"(?:^|(?<=\r))\S+# ?\Z", True),
        (r"router#$", False),  # $ also matches before a final newline
        (r"\n\w+#\Z", False),  # matches a newline
        (r"\s*#\Z", False),
        (r"(?s).#\Z", False),
        (r"a\Z|b", False),
        (r"x(?:a\Z|b\Z)", True),  # every branch ends the buffer
        (r"x(?:(?:a|b)\Z|(c)\Z)", True),
        (r"x(?:a\Z|\n\Z)", False),  # one branch matches a newline
        (r"x(?:a\Z|b)", False),  # one branch need not end the buffer
    ],
)
def test_in_last_line(pattern, last_line):
    assert in_last_line(re.compile(pattern)) is last_line


@pytest.mark.parametrize(
    ("pattern", "lines"),
    [
        (r"router#\Z", 1),
        (r"\[edit\]\r?\n\w+# ?\Z", 2),
        (r"(?m)(?:^(?:\r?\n)?|(?<=\r))\[edit\]\r?\n\w+# ?\Z", 3),
        (r"(?s)\w.{0,3}#\Z", 4),
        (r"x(?=\n\n\n)\n\Z", 2),  # (a look-ahead consumes nothing)
        (r"x\Z|\n\Z", 2),  # (a \Z in every branch)
        (r"x\Z|y", 0),  # (not in every branch: not known)
        (r"\s+#\Z", 0),  # any number of newlines
        (r"\[edit\]\n\w+#$", 0),  # not at the end of the buffer
        (r"(\n)\1#\Z", 0),  # a back-reference: not known
    ],
)
def test_lines_a_match_lies_in(pattern, lines):
    assert analyse(re.compile(pattern)).lines == lines


@pytest.mark.parametrize(
    ("pattern", "tail"),
    [
        (r"router#\Z", 7),
        (r"router#$", 8),  # $ also holds before a final newline
        (r"(?=ab ?\Z)", 3),  # a prompt looked for without consuming it
        (r"(?<=x{3})a\Z", 4),  # what a look-behind looks at counts
        (r"(?:a\Z|bc\Z)", 2),
        (r"(?:a\Z|bc$)", 3),
        (r"(?m)(?-m:a$)", 2),
        (r"(?:a\Z){1,2}", 2),
        (r"(?(1)a\Z|b\Z)(x)?", None),  # a conditional: not known
        (r"(?m)a$", None),  # the end of any line
        (r"(?:a\Z)?b", None),
        (r"a\Z|b", None),
        (r"(?!a\Z)b", None),
        (r"[\w.-]+# ?\Z", None),  # unbounded
    ],
)
def test_how_far_before_the_end_a_match_starts(pattern, tail):
    assert analyse(re.compile(pattern)).tail == tail


def test_a_prompt_of_a_few_lines_searches_only_its_last_lines():
    """JunOS prints a context line (and a blank line) above its prompt; its
    pattern, bounded and ending at the end of the buffer, holds two
    newlines: only the last three lines are searched, however far its width
    (the context line may be long) would reach back."""
    line = "ge-0/0/0.0   up   up   inet   10.0.0.1/30\r\n"
    pattern = r"(?m)(?:^(?:\r?\n)?|(?<=\r))\[edit[^\]\r\n]{0,500}\]\r?\n[\w@.-]{1,64}# ?\Z"
    searcher, buf = fed_far(pattern, line * 50, 40, 3 * len(line))
    prompt = "\r\n[edit interfaces ge-0/0/0]\r\nadmin@r1# "
    buf.append(prompt)
    found = searcher.search(buf)
    assert found is not None and buf.text()[found.start : found.end] == prompt


def test_a_prompt_pattern_searches_only_the_last_line():
    """A driver's prompt ends at the end of the buffer and holds no newline:
    however much output precedes it, only the last line is searched (a
    bounded pattern would otherwise keep its width and a margin)."""
    chunk = "router# show version\r\n" + "uptime is 3 weeks, router# is up\r\n" * 50
    searcher, buf = fed_far(r"[\w.-]{1,64}# ?\Z", chunk, 40, 40)
    buf.append("router# ")
    found = searcher.search(buf)
    assert found is not None and buf.text()[found.start : found.end] == "router# "


def test_a_prompt_ending_in_branches_searches_only_the_last_line():
    """A learned prompt may end in one of two ways, each at the end of the
    buffer (a bare end, or zsh's right prompt after it): only the last line
    is searched, as for one ending (it searched its whole width back)."""
    chunk = "router# show version\r\n" + "uptime is 3 weeks, router# is up\r\n" * 50
    pattern = r"router#(?: \Z| \x1b\[\d{1,4}C[^\r\n\x1b]{1,64}\x1b\[\d{1,4}D\Z)"
    searcher, buf = fed_far(pattern, chunk, 40, 40)
    buf.append("router# ")
    found = searcher.search(buf)
    assert found is not None and buf.text()[found.start : found.end] == "router# "


def test_a_literal_prefix_keeps_even_a_multiline_pattern_incremental():
    r"""``foo[\s\S]*bar`` may span any number of lines, so without its prefix
    every chunk would rescan from where the expect began; until ``foo``
    arrives there is nothing to rescan."""
    chunk = "the quick brown fox jumps over the lazy dog\n" * 40
    searcher, buf = fed_far(r"foo[\s\S]*bar", chunk, 500, 2)
    buf.append("fo")
    assert searcher.search(buf) is None
    buf.append("o\nand then bar!")
    found = searcher.search(buf)
    assert found is not None and found.re_match is not None
    assert found.re_match.group() == "foo\nand then bar"


@pytest.mark.parametrize(
    "pattern",
    [
        r"[xz](?!y)",  # a window ending at "x" would take it; "y" follows
        r"[xz]\w*!",  # a line longer than a window
        r"[xz].{0,40000}!",  # bounded, wider than a window
        r"(?<=a)[xz]",
    ],
)
def test_a_large_arrival_is_searched_in_windows_with_the_same_result(pattern):
    """Data far longer than ``STEP`` arriving at once is ruled out window by
    window; a window's tentative match is confirmed against all the data."""
    step = _matcher.STEP
    text = "a" * (step - 1) + "xy" + "a" * (2 * step) + "\n" + "b" * step + "z!" + "c" * 50
    expected = re.search(pattern, text)
    assert expected is not None
    for first in (0, 100, step // 2):
        items = normalize_patterns([pattern], exact=False, bytes_mode=False, encoding="utf-8")
        searcher, buf = Searcher(items), Buffer("")
        buf.append(text[:first])
        searcher.search(buf)
        buf.append(text[first:])
        found = searcher.search(buf)
        assert found is not None, (pattern, first)
        assert (found.start, found.end) == expected.span(), (pattern, first)


class CountingBuffer(Buffer):
    """A buffer that counts the characters its copies hand out: what a
    search copies (and then searches) of it."""

    def __init__(self) -> None:
        super().__init__("")
        self.copied = 0

    def tail_from(self, pos: int) -> Any:
        text = super().tail_from(pos)
        self.copied += len(text)
        return text

    def slice(self, pos: int, end: int) -> Any:
        text = super().slice(pos, end)
        self.copied += len(text)
        return text


#: Lines after the match: far more than any window.
FAR = ("x" * 19 + "\n") * (8 << 20 >> 4)


@pytest.mark.parametrize(
    ("pattern", "head"),
    [
        (r"\r?\n", "x" * 19),  # one line of many: what expect in a loop reads
        (r"x+\n", "x" * 19),  # unbounded within its line
        (r"a(?=[^\n]*!)", "a" + "x" * 40000 + "!"),  # a look-ahead past a window
        (r"ab|a[^\n]*c", "a" + "y" * 9 + "ab" + "y" * 70000 + "c"),  # a window's match is not it
        (r"x+", "x" * 100000 + "\n"),  # a greedy match over several windows
        (r"q\d{0,9}(?!\d)", "q" + "0" * 5 + "!"),
    ],
    ids=lambda value: value if len(value) < 20 else f"{value[:10]}...({len(value)})",
)
def test_a_match_early_in_a_large_buffer_copies_only_what_decides_it(pattern, head):
    """An expect in a large buffered output (reading it line by line) finds
    what a search of all of it finds, copying and searching a few windows
    around its match, not all the data after it: each expect would cost
    the size of the buffer, and reading the buffer quadratic time."""
    text = head + FAR
    expected = re.search(pattern, text)
    assert expected is not None
    for before in ("", "z" * (_matcher.STEP + 100)):  # found at once, or after a window
        buf = CountingBuffer()
        buf.append(before)
        buf.append(text)
        items = normalize_patterns([pattern, EOF], exact=False, bytes_mode=False, encoding="utf-8")
        found = Searcher(items).search(buf)
        assert found is not None
        span = (found.start - len(before), found.end - len(before))
        assert span == expected.span(), pattern
        assert buf.copied <= 4 * (found.end + _matcher.STEP + _matcher.MARGIN), buf.copied


def test_a_peeked_match_copies_only_what_it_covers():
    """``expect_any`` reads its winner's match through a ``PeekBuffer``,
    consuming nothing: reading it copies the match, not all that follows."""
    buf = CountingBuffer()
    buf.append("x" * 19 + "\n" + FAR)
    items = normalize_patterns([r"\n"], exact=False, bytes_mode=False, encoding="utf-8")
    searcher = Searcher(items)
    found = searcher.search(buf)
    assert found is not None
    buf.copied = 0
    m = searcher.match(PeekBuffer(buf), found)
    assert (m.before, m.after) == ("x" * 19, "\n")
    assert buf.copied == 20
    assert len(buf) == 20 + len(FAR)  # (nothing consumed)


def test_buffer_tail_and_consume():
    buf = Buffer("")
    for piece in ("abc", "def", "ghi"):
        buf.append(piece)
    assert buf.tail_from(4) == "efghi"
    assert buf.consume(2) == "ab"
    assert buf.text() == "cdefghi" and len(buf) == 7
    assert buf.consume(7) == "cdefghi" and len(buf) == 0
    assert buf.tail_from(0) == ""


def test_buffer_find_equals_str_find_over_any_chunking():
    """``find`` searches chunks in place and only joins around boundaries:
    checked against ``str.find`` on the joined text, for patterns shorter
    and longer than the chunks, from every start, after a consume too."""
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 40)))
        buf, at = Buffer(""), 0
        while at < len(text):
            step = rng.choice((1, 1, 2, 3, 7, 20))
            buf.append(text[at : at + step])
            at += step
        if text and rng.random() < 0.3:
            cut = rng.randint(0, len(text))
            assert buf.consume(cut) == text[:cut]
            text = text[cut:]
        for sub in ("a", "ab", "aba", "b\nb", "abab", "a" * 5, text[3:12] or "zz"):
            for start in range(len(text) + 2):
                assert buf.find(sub, start) == text.find(sub, start), (text, sub, start)


def test_buffer_find_across_a_seam_and_inside_a_large_chunk():
    buf = Buffer("")
    buf.append("x" * 100 + "EN")
    buf.append("D" + "y" * 1_000_000 + "END")
    assert buf.find("END", 0) == 100
    assert buf.find("END", 101) == 100 + 3 + 1_000_000
    assert buf.find("END", 100 + 3 + 1_000_000 + 1) == -1
    data = Buffer(b"")
    for piece in (b"ab", b"c", b"\x00d"):
        data.append(piece)
    assert data.find(b"c\x00", 0) == 2 and data.find(b"bc\x00d", 1) == 1


def test_a_drivers_prompts_and_pagers_are_one_search_with_the_same_result():
    """A driver's prompt and pager patterns all match in the last line only:
    one alternation searches for them all, once per chunk, and finds what
    a naive search of each finds (earliest, then lowest index)."""
    generic = _driver.get("generic")
    changed = _prompt_text.changed_prompt("core-1# ")
    learned = re.compile(r"core-1# \Z")
    patterns = [*generic.prompt_patterns, changed, learned, *generic.pager_patterns]
    # The learned prompt, a literal, and the same prompt with its middle
    # free (a new directory) are one host's and searched alone: in the
    # alternation they would make one per host in a run over many.
    kinds = ["_Scan", "_Scan", "_LastLine"]
    assert [type(scan).__name__ for scan in Searcher(patterns)._scans] == kinds
    transcript = (
        "show version\r\nuptime 3 weeks\r\n --More-- \r\x1b[K more\r\n"
        "core-1# show clock\r\n<core-2>\r\n12:00\r\ncore-1# "
    )
    for label, chunks in splits(transcript):
        searcher, buf, text, got = Searcher(patterns), Buffer(""), "", []
        for chunk in chunks:
            buf.append(chunk)
            text += chunk
            while True:
                expected = naive(text, patterns)
                found = searcher.search(buf)
                assert (found and (found.index, found.start, found.end)) == expected, label
                if found is None:
                    break
                got.append(searcher.match(buf, found).index)
                text = text[found.end :]
                searcher = Searcher(patterns)
        assert got[-1] == 0, label  # the generic prompt, before the learned one (a tie)


def test_every_host_of_a_run_shares_one_alternation_of_the_drivers_patterns():
    """Compiling the alternation of a driver's prompts and pagers takes
    milliseconds: a host's own prompt patterns are kept out of it, so that
    a run over many hosts compiles it once, not once per host."""
    generic = _driver.get("generic")

    def fused(prompt: str) -> Any:
        learned = re.compile(re.escape(prompt) + r"\Z")
        own = [_prompt_text.changed_prompt(prompt), learned]
        patterns = [*generic.prompt_patterns, *own, *generic.pager_patterns]
        *alone, together = Searcher(patterns)._scans
        assert [scan.search(Buffer(f"x\r\n{prompt}")) is not None for scan in alone] == [True, True]
        return together.fused

    assert fused("core-1# ") is fused("edge-7# ") is fused("d44#")


@pytest.mark.parametrize(
    "prompt",
    [
        "core-1# ",
        "dev44#",
        "root@vm:/srv/my dir# ",
        "[admin@edge-7 ~]$ ",
        "a*.+?(){}|^$\\b> ",
        "\tuser\x00:x% ",
        "r\u00e9seau-\u6f22\U0001f642:~$ ",
        "\x1b[01;32muser@host\x1b[00m:\x1b[01;34m~\x1b[00m$ \x1b[?2004h",
        "\x1b]0;user@host: ~\x07user@host:~$ ",
    ],
)
def test_a_changed_prompt_s_analysis_is_that_of_its_own_parse(prompt):
    """The search plan of a host's changed prompt comes from a pattern of
    the same shape, parsed once for all hosts whose prompts have it (its
    first characters all literals, none a line end): it must be what a
    parse of the host's own pattern gives, and find that host's prompt,
    not another host's of the same shape.  Where a match starts and the
    literal it holds are not the shape's: its own parse tells them."""
    changed = _prompt_text.changed_prompt(prompt)
    assert changed is not None
    told, parsed = analyse(changed), _scan._analysed(changed)
    assert told._replace(starts=None, needs=None) == parsed._replace(starts=None, needs=None)
    assert told.starts is None and told.needs is _scan.UNTOLD
    assert _scan.needs_of(changed) == parsed.needs
    head = prompt.replace("\x1b]0;user@host: ~\x07", "")
    other = "".join("z" if c.isalnum() else c for c in head)
    for text, found in [(prompt, True), (other, False)]:
        buf = Buffer("")
        buf.append(f"out\r\n{text}")
        assert (Searcher([changed]).search(buf) is not None) is found, text


def test_last_line_patterns_stay_incremental_on_a_long_line():
    """A last line longer than ``PREFILTER`` is not searched whole per chunk:
    what each chunk's search copies (and searches) is bounded by the chunk
    and the patterns' width, not by the line."""
    patterns = [r"[\w.-]{1,64}# ?\Z", r"[\w.-]{1,64}> ?\Z", r"[\w.-]{1,64}\$ ?\Z"]
    items = normalize_patterns(patterns, exact=False, bytes_mode=False, encoding="utf-8")
    searcher, buf = Searcher(items), CountingBuffer()
    for _ in range(300):
        buf.append("y" * 997 + " = ")
        buf.copied = 0
        assert searcher.search(buf) is None
        assert buf.copied <= 3 * (1000 + _matcher.PREFILTER)  # (the line: 300,000)
    buf.append("router# ")
    found = searcher.search(buf)
    assert found is not None and (found.index, found.start) == (0, len(buf) - 8)


def shipped_end_patterns() -> dict[str, list[re.Pattern[str]]]:
    """The shipped patterns that can only match at the end of the text,
    as a login, a first prompt or an ``execute`` waits for them together."""
    generic = _driver.get("generic")
    questions = [*generic.login_patterns, *generic.password_patterns]
    return {
        "prompts": [*generic.prompt_patterns, *generic.pager_patterns, _login._PRESS_ENTER],
        "junos": [*_driver.get("junos").prompt_patterns],
        "questions": [*map(_prompt_read.peek, questions), _login._QUESTION_LINE],
        "user": [re.compile(r"[$#] $"), re.compile(r"(?=\w{1,9}@\w{1,9}:~[$#] ?\Z)")],
    }


@pytest.mark.parametrize("kind", ["prompts", "junos", "questions", "user"])
@pytest.mark.parametrize(
    "line", ["flood line without any prompt in it\r\n", "B" * 1000], ids=["lines", "no-newline"]
)
def test_a_pattern_that_ends_the_text_searches_only_its_last_characters(kind, line):
    """A flooding host, before its first prompt: a pattern that can only
    match at the end of the text (a prompt, a question peeked at) searches
    each arrival only as far back as a match could start, not all of it in
    windows (2.8 s of a 3 s flood went to those windows, 40 to 60 ms per
    256 KiB read).  The prompt that ends the flood is found where a search
    of all the text finds it."""
    patterns = shipped_end_patterns()[kind]
    searcher, buf = Searcher(patterns), CountingBuffer()
    arrival = line * (256 * 1024 // len(line))
    for _ in range(4):
        buf.append(arrival)
        buf.copied = 0
        assert searcher.search(buf) is None
        assert buf.copied <= 16 * 1024, buf.copied  # (of 256 KiB each)
    end = {"questions": "\r\nPassword: ", "junos": "\r\n\r\n{master:0}\r\nadmin@r1> "}
    buf.append(end.get(kind, "\r\nadmin@core-1:~$ "))
    found = searcher.search(buf)
    text = buf.text()
    expected = naive(text, patterns)
    assert found is not None and (found.index, found.start, found.end) == expected
    m = searcher.match(buf, found)
    assert (m.before, m.after) == (text[: found.start], text[found.start : found.end])


#: Prompt-like output: the pieces that make the shipped prompts, questions
#: and pagers, and lines longer than a window and than most of the patterns.
PIECES = [
    *["router#", "admin@core-1:~$", "<HUAWEI>", "admin@r1>", "{master:0}", "%", "#", "$ "],
    *[" ", "  ", "\r\n", "\n", "\r", "\x08", "\t", "\x1b[0m", "\x1b]0;title\x07"],
    *[" --More-- ", "Password:", "login: ", "[yes/no]? ", "Press RETURN", "ann@vm:~$ "],
    *["\r\n\r\n{master:0}\r\nadmin@r1> ", "x" * 300, "y" * 2500],
]


def prompt_like_chunks(rng: random.Random) -> list[str]:
    """Chunks of ``PIECES``, most ending where a piece ends (where a prompt
    may end the text), some cut anywhere: a character to thousands."""
    chunks = []
    for _ in range(rng.randint(1, 40)):
        chunk = "".join(rng.choice(PIECES) for _ in range(rng.choice([1, 2, 3, 8, 30])))
        cut = rng.randint(0, len(chunk)) if rng.random() < 0.3 else len(chunk)
        chunks += [part for part in (chunk[:cut], chunk[cut:]) if part]
    return chunks


def test_patterns_that_end_the_text_find_what_a_search_of_all_of_it_finds(monkeypatch):
    """The shipped prompts, pagers and questions (each group waited for
    together) over random prompt-like output: after every chunk the matcher
    finds what ``re.search`` over the whole text finds (earliest, then
    lowest index), with the same ``before`` and ``after``, and nothing is
    lost or found twice."""
    monkeypatch.setattr(_matcher, "STEP", 512)  # (windows, on texts this short)
    for kind, patterns in shipped_end_patterns().items():
        for seed in range(20):
            rng = random.Random(seed)
            searcher, buf, text, taken, data = Searcher(patterns), Buffer(""), "", [], ""
            for chunk in prompt_like_chunks(rng):
                buf.append(chunk)
                text, data = text + chunk, data + chunk
                while True:
                    expected = naive(text, patterns)
                    found = searcher.search(buf)
                    got = found and (found.index, found.start, found.end)
                    assert got == expected, f"{kind} seed={seed} text={text!r}"
                    if found is None:
                        break
                    m = searcher.match(buf, found)
                    assert m.before + m.after == text[: found.end]
                    assert m.after == text[found.start : found.end]
                    taken.append(m.before + m.after)
                    text = text[found.end :]
                    searcher = Searcher(patterns)
                    if found.start == found.end:  # (a peek: found again until more comes)
                        break
            assert "".join(taken) + buf.text() == data, f"{kind} seed={seed}"


@pytest.mark.parametrize(
    ("patterns", "text", "expected"),
    [
        ([r"(?i)AB\Z", r"c\Z"], "xab", "ab"),  # inline flags, other flags
        ([r"(?i)(?m)^ab\Z", r"(?i)C\Z"], "x\nAB", "AB"),  # the same flags
        ([r"a  # a comment", r"b # another"], "xb", "b"),  # verbose, all of them
        ([r"(a)\1", r"b"], "xaa", "aa"),  # a group in the first pattern keeps its number
        ([r"(?:^|(?<=\r))a\Z", r"(?:^|(?<=\r))b\Z"], "x\rb", "b"),  # a head shared
        ([r"(?:x)a|c", r"(?:x)b"], "c", "c"),  # its own alternatives: none shared
        ([r"(?:ab)+c", r"(?:ab)+d"], "ababd", "ababd"),  # a repeated group: none shared
        ([r"(?:[)]|q)a", r"(?:[)]|q)b"], ")b", ")b"),  # a ) in a class is no group's end
        ([r"(?:\)|q)a", r"(?:\)|q)b"], ")b", ")b"),  # nor is an escaped one
    ],
    ids=[
        "mixed-flags",
        "same-flags",
        "verbose",
        "first-group",
        "shared-head",
        "own-alternatives",
        "repeated-head",
        "class",
        "escape",
    ],
)
def test_alternation_matches_where_its_patterns_do(patterns, text, expected):
    flags = re.VERBOSE if "comment" in patterns[0] else 0
    regexes = [re.compile(p, flags) for p in patterns]
    fused = _matcher.alternation(regexes)
    assert fused is not None
    m = fused.search(text)
    assert m is not None and m.group() == expected
    assert _matcher.alternation(regexes) is fused  # cached


@pytest.mark.parametrize(
    "patterns",
    [
        [re.compile(r"a"), re.compile(r"(b)\1")],  # the group's number would change
        [re.compile(r"a", re.VERBOSE), re.compile(r"b")],  # verbose, not in every one
    ],
    ids=["later-group", "mixed-verbose"],
)
def test_alternation_refuses_what_it_cannot_write(patterns):
    assert _matcher.alternation(patterns) is None


def test_a_drivers_prompts_are_searched_from_each_line_start_once():
    """Every built-in prompt begins at a line start (``(?:^|(?<=[\\r\\x08\\x00]))``):
    their alternation tries it once at a position, not once a pattern (a
    line with no line end yet, searched as it grows, cost three times as
    much with a third prompt pattern, zsh's right prompt), and finds every
    prompt each of them does."""
    regexes = list(GENERIC.prompt_patterns)
    fused = _matcher.alternation(regexes)
    assert fused is not None and fused.pattern.count(r"(?<=[\r\x08\x00])") == 1
    for text in (
        "x\r\nrouter# ",
        "a\r\n<HUAWEI>",
        "ok\nuser@host:~$ ",
        "done\r\n% \x1b[K\x1b[9C1\x1b[10D",
        "\x1b[J" + "\x00" * 213 + "user@host:~$ \x1b[K" + "\x00" * 12,
    ):
        starts = [m.start() for r in regexes if (m := r.search(text)) is not None]
        found = fused.search(text)
        assert found is not None and found.start() == min(starts), text


def test_alternation_of_bytes_patterns():
    fused = _matcher.alternation([re.compile(rb"\xffok\Z"), re.compile(rb"# \Z")])
    assert fused is not None and fused.search(b"x\xffok") is not None


def test_plans_of_a_run_over_many_hosts_stay_cached():
    """Each host's prompt list ends with its own learned prompt.  A run of
    1,000 hosts, 200 at a time, 11 expects each, analyses each host's list
    once: the plan cache (cleared whole when full) holds every session in
    flight."""
    generic = _driver.get("generic")
    built = []
    real_plan = _matcher._Plan

    def counting(patterns: Any) -> Any:
        built.append(1)
        return real_plan(patterns)

    _matcher._PLANS._entries.clear()
    _matcher._Plan = counting  # type: ignore[misc]
    try:
        for batch in range(0, 1000, 200):
            lists = [
                [*generic.prompt_patterns, re.compile(re.escape(f"host-{h}#") + r"\Z")]
                for h in range(batch, batch + 200)
            ]
            for _ in range(11):
                for patterns in lists:
                    Searcher(patterns)
    finally:
        _matcher._Plan = real_plan  # type: ignore[misc]
    assert len(built) == 1000


def test_an_alternation_too_deep_to_compile_is_refused_not_raised():
    """Each pattern compiles alone; together they exceed the parser's depth.
    The error patterns are then tried one by one."""

    def nested(depth: int) -> re.Pattern[str] | None:
        try:
            return re.compile("(?:" * depth + "a" + ")" * depth, re.M)
        except RecursionError:
            return None

    low, high = 1, 5000  # the deepest nesting this stack compiles: low
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if nested(middle) is not None else (low, middle)
    deep = nested(low)
    assert deep is not None
    assert _matcher.alternation([re.compile("error", re.M), deep]) is None
