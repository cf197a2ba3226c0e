"""Prompt recognition on realistic output, fed whole, byte by byte and in
seeded random splits; expect_prompt, set_prompt and set_unique_prompt on real
shells in a pty."""

from __future__ import annotations

import asyncio
import gc
import re
import shutil
from collections.abc import Sequence
from typing import Any

import pytest

import aioexpect
from aioexpect import ExpectTimeout, Session, _prompt, drivers
from aioexpect._ansi import strip_ansi
from aioexpect._driver import compile_patterns
from aioexpect._matcher import Buffer, Searcher
from aioexpect._transport import Transport
from aioexpect.testing import memory_pair

from .helpers import Wrapper, opened
from .splits import splits

UNIX = ("generic", "shell")
COLOURED = "\x1b[01;32muser@host\x1b[00m:\x1b[01;34m~/dir\x1b[00m$ "
TITLED = "\x1b]0;user@host: ~/dir\x07" + COLOURED
LS = "ls -l\r\ntotal 4\r\n-rw-r--r-- 1 user user 3 Jan  1 00:00 notes#\r\n"
IOS_OUT = (
    "show interfaces description\r\n"
    "Interface  Status  Protocol Description\r\n"
    "Lo0        up      up       Description of my router>\r\n"
    "Gi0/1      up      up       uplink # to core\r\n"
)

# (id, drivers that must recognise it, text before the prompt, the prompt)
PROMPTS: list[tuple[str, Sequence[str], str, str]] = [
    ("debian", UNIX, LS, "user@host:~$ "),
    ("debian-dir", UNIX, LS, "user@host:~/dir$ "),
    ("rhel", UNIX, LS, "[user@host ~]$ "),
    ("rhel-root", UNIX, LS, "[root@db1 /var/log]# "),
    ("root", UNIX, LS, "root@host:~# "),
    ("fqdn", UNIX, LS, "admin@s-x-a6.a.bc.de.fg:/$ "),
    ("bash-default", UNIX, LS, "bash-5.2$ "),
    ("bash-root", UNIX, LS, "bash-5.2# "),
    ("bash-login", UNIX, LS, "-bash-4.2$ "),  # RHEL, a user without a profile
    ("dash", UNIX, "hi\r\n", "$ "),
    ("sh-root", UNIX, "hi\r\n", "# "),
    # a bare sign in inverse video, and all of a bare prompt (not zsh's
    # end-of-line mark, whose inverse ends right after the sign)
    ("inverse-sign", UNIX, "hi\r\n", "\x1b[7m$\x1b[0m "),
    ("inverse-prompt", UNIX, "hi\r\n", "\x1b[7m# \x1b[0m"),
    ("zsh", UNIX, LS, "host% "),
    ("venv", UNIX, LS, "(venv) user@host:~/proj$ "),
    ("macos-bash", UNIX, LS, "MacBook-Pro:~ alice$ "),
    ("macos-zsh", UNIX, LS, "alice@MacBook-Pro ~ % "),
    ("gentoo", UNIX, LS, "alice@host ~/src $ "),
    ("freebsd-root", UNIX, LS, "root@fbsd:~ # "),  # sh's and csh's default
    ("freebsd-user", UNIX, LS, "alice@fbsd:/usr/src $ "),
    # Gentoo's, coloured as it comes
    ("gentoo-coloured", UNIX, LS, "\x1b[01;32malice@host\x1b[01;34m ~/src $\x1b[00m "),
    # FreeBSD's shape coloured as Debian colours its prompt (the colour
    # changes around the ':'), and Debian's own
    ("freebsd-coloured", UNIX, LS, "\x1b[01;32mroot@fbsd\x1b[00m:\x1b[01;34m~/d\x1b[00m # "),
    ("debian-coloured", UNIX, LS, "\x1b[01;32mroot@deb\x1b[00m:\x1b[01;34m~/d\x1b[00m# "),
    # a directory deeper than 64 characters, at a terminal wide enough not
    # to wrap the prompt
    ("freebsd-deep", UNIX, LS, "root@fbsd:/usr/" + "d" * 100 + " # "),
    ("coloured", UNIX, LS, COLOURED),
    ("titled", UNIX, LS, TITLED),
    ("bracketed-paste", UNIX, LS + "\x1b[?2004l\r", "\x1b[?2004huser@host:~$ "),
    # as wide as the terminal: readline moves to the next line with ' \r'
    ("wrapped", UNIX, LS, "root@host:/srv/" + "d" * 63 + "#  \r"),
    (
        "zsh-redraw",
        UNIX,
        "hi\r\n\x1b[1m\x1b[7m%\x1b[27m\x1b[1m\x1b[0m" + " " * 79 + "\r \r\r",
        "\x1b[0m\x1b[27m\x1b[24m\x1b[Jhost% \x1b[K\x1b[?2004h",
    ),
    ("ios-user", ("generic", "ios", "nxos", "eos"), IOS_OUT, "Router>"),
    ("ios-enable", ("generic", "ios", "nxos", "eos"), IOS_OUT, "Router#"),
    ("ios-config", ("generic", "ios", "iosxr", "nxos", "eos"), IOS_OUT, "MyHost-A1(config)# "),
    ("ios-config-if", ("generic", "ios", "nxos", "eos"), IOS_OUT, "sw-core-01(config-if)#"),
    # aaa group server tacacs+ NAME: IOS's, NX-OS's and EOS's modes
    ("ios-tacacs", ("generic", "ios", "nxos", "eos"), IOS_OUT, "R1(config-sg-tacacs+)#"),
    ("nxos-tacacs", ("generic", "nxos"), IOS_OUT, "n9k-1(config-tacacs+)# "),
    ("eos-tacacs", ("generic", "eos"), IOS_OUT, "leaf1(config-sg-tacacs+-TAC1)#"),
    ("iosxr", ("generic", "iosxr"), IOS_OUT, "RP/0/RSP0/CPU0:ios#"),
    ("iosxr-config", ("generic", "iosxr"), IOS_OUT, "RP/0/RP0/CPU0:edge-1(config)#"),
    ("nxos", ("generic", "nxos"), IOS_OUT, "n9k-1(config-if)# "),
    ("eos-session", ("generic", "eos"), IOS_OUT, "leaf1(s1)(config-s-s1)#"),
    # a host name that starts with a digit (NX-OS and EOS take one)
    ("cisco-digit", ("ios", "iosxr", "nxos", "eos"), IOS_OUT, "1R#"),
    ("nxos-digit", ("ios", "iosxr", "nxos", "eos"), IOS_OUT, "9k-core(config-if)# "),
    ("eos-digit", ("ios", "nxos", "eos"), IOS_OUT, "7050-leaf1(s1)(config-s-s1)#"),
    ("iosxr-digit", ("generic", "iosxr"), IOS_OUT, "RP/0/RSP0/CPU0:9k-pe1(config)#"),
    # junos: the context line above the prompt (and the blank line before
    # it) is the prompt's; generic knows the prompt line only.
    ("junos", ("junos",), "ge-0/0/0 up up\r\n", "\r\n{master:0}\r\nadmin@mx1> "),
    ("junos-generic", ("generic",), "ge-0/0/0 up up\r\n\r\n{master:0}\r\n", "admin@mx1> "),
    ("junos-edit", ("junos",), "set x\r\n", "\r\n[edit]\r\nadmin@mx1# "),
    ("junos-edit-generic", ("generic",), "\r\n[edit]\r\n", "admin@mx1# "),
    ("junos-level", ("junos",), "top\r\n", "\r\n[edit interfaces ge-0/0/0 unit 0]\r\nu@r1# "),
    ("junos-both", ("junos",), "\r\n", "\r\n{backup:1}[edit]\r\nadmin@mx1# "),
    ("junos-srx", ("junos",), "x\r\n", "\r\n{secondary-hold:node1}\r\nroot@srx> "),
    ("junos-no-blank", ("junos",), "--- JUNOS 21.4R1 Kernel\r\n", "{master:0}\r\nadmin@mx1> "),
    ("junos-lf", ("junos",), "ge-0/0/0 up up\n", "\n{linecard:2}\nadmin@ex1> "),
    ("junos-compare", ("junos",), "[edit]\r\n+  x;\r\n", "\r\n[edit]\r\nadmin@mx1# "),
    ("junos-shell", ("generic", "junos"), "uptime\r\n 1:00AM up 1 day\r\n", "root@mx1:RE:0% "),
    # a router with no host name set (root@>: the user, then nothing)
    ("junos-unnamed", ("junos",), "ge-0/0/0 up up\r\n", "\r\nroot@> "),
    ("junos-unnamed-root", ("junos",), "ge-0/0/0 up up\r\n", "\r\nroot> "),
    ("junos-unnamed-shell", ("generic", "junos"), "uptime\r\n", "root@:RE:0% "),
    # one routing engine, operational mode: the blank line alone
    ("junos-no-context", ("junos",), "ge-0/0/0 up up\r\n", "\r\nadmin@mx1> "),
    ("vrp-user", ("generic", "vrp"), "display version\r\nHuawei VRP\r\n", "<HUAWEI>"),
    ("vrp-system", ("vrp",), "\r\n", "[HUAWEI]"),
    ("vrp-uncommitted", ("vrp",), "\r\n", "[~HUAWEI-GigabitEthernet0/0/1]"),
    ("vrp-ce", ("generic", "vrp"), "\r\n", "<CE6850-1>"),
]


def wrapped(prompt: str, width: int = 80) -> str:
    """``prompt`` as readline draws it wider than the terminal: ``\\r`` at
    the margin, then the character that ended the row again."""
    return prompt[:width] + "\r" + prompt[width - 1 :]


# The spaced shapes wrapped at 80 columns: at the space before the sign (or
# the user), in the directory, in the user.  (At the sign, ``...dd #\r# ``,
# a read that ends before the ``\r`` finds the prompt there, as it did.)
WRAPPED_SHAPES = (
    ("root@fbsd:~/{d} # ", (67, 68, 69)),
    ("alice@MacBook-Pro ~/{d} % ", (59, 60, 61)),
    ("MacBook-Pro:~/{d} alice$ ", (63, 64, 65, 66, 70)),
)
PROMPTS += [
    (f"wrapped-{shape[:5]}-{n}", UNIX, LS, wrapped(shape.format(d="d" * n)))
    for shape, lengths in WRAPPED_SHAPES
    for n in lengths
]

# Output that looks a little like a prompt: no driver may take it for one,
# however it is split.
NOT_PROMPTS = [
    "Lo0 up up Description of my router>\r\n",
    "Gi0/1 up up link to core#\r\n",
    "Progress: 50%\r\n  100%\r\n",
    "Downloading file.iso 45%\r\n",
    "copied to /tmp/x 100%\r\n",
    "fetch\r\n45%\r",
    "fetch\r\n45% \r\r\n",
    "=> done\r\n>>> \r\n",
    "  # comment\r\n",
    "interface Gi0/1 # shut\r\n",
    "a -> b\r\n",
    # a leading dash: options and arrows, not bash's login-shell prompt
    "-n%\r\n",
    "--> x>\r\n",
    "-bash: foo: command not found\r\n",
    "-bash-completion$\r\n",
    # a git remote or a mount point and a comment: not FreeBSD's prompt
    "git@github.com:me/dotfiles.git # my dotfiles\r\n",
    "backup@nas:vol1 % used\r\n",
    # a path, then more than a sign: an export, a mount
    "/srv/nfs 10.0.0.0/24(rw,sync) # exports\r\n",
    # zsh's PROMPT_SP mark as root (a bold inverse '#', then spaces to the
    # margin): a read that ended inside it found the prompt '# ' there
    "hi\r\n\x1b[1m\x1b[7m#\x1b[27m\x1b[1m\x1b[0m" + " " * 79 + "\r \r",
    "nas:/vol/home /home nfs defaults 0 0 # mounts\r\n",
    # a path, then a sign: a command in a script, a volume, a file's name
    # (cut after the sign, BusyBox's '/ # ' and SUSE's 'host:~ # ' shapes)
    "/usr/local/bin/backup.sh # nightly\r\n",
    "db1:/var/lib/mysql # persist\r\n",
    "/usr/bin/java $JAVA_OPTS -jar app.jar\r\n",
    "~/bin/sync.sh # hourly\r\n",
    "/srv/music/Album #1/01.flac\r\n",
    "Last login: Mon Jan  1 00:00:00 2024 from 10.0.0.1\r\n",
    # numbers, addresses, times: a host name that starts with a digit holds a letter
    "100#\r\n",
    "10.0.0.1>\r\n",
    "12:00:01#\r\n",
    "1/1/1>\r\n",
    "2024-01-01#\r\n",
    # ... and no ':' or '/': an IPv6 address, a time, a port
    "2001:db8::1#\r\n",
    "12:00:01AM#\r\n",
    "1/1/1:1g>\r\n",
    # progress lines: the shape of macOS's bash prompt, but '%' for its sign
    "eta:00:05 45%\r\n",
    "sda1:ext4 98%\r\n",
    "\reta:00:05 45%\reta:00:04 46%\r\n",
    # JunOS's context lines, without a prompt after them
    "\r\n{master:0}\r\n",
    "[edit interfaces]\r\n+   ge-0/0/1 {\r\n\r\n{master:0}[edit system]\r\n",
    # zsh's continuation prompts: the shell waits for the rest of a command
    "% echo 'abc\r\nquote> ",
    "% if true\r\nthen> ",
    "% echo $(ls\r\ncmdsubst> ",
    "e\x08echo 'abc\x1b[?2004l\r\r\n\r\x1b[0m\x1b[27m\x1b[24m\x1b[Jquote> \x1b[K\x1b[?2004h",
]


def feed(patterns: Sequence[re.Pattern[str]], chunks: list[str]) -> tuple[str, str] | None:
    """Offer chunks to a searcher as the session does; the first match."""
    buf = Buffer("")
    searcher = Searcher(list(patterns))
    for chunk in chunks:
        buf.append(chunk)
        found = searcher.search(buf)
        if found is not None:
            m = searcher.match(buf, found)
            return m.before, m.after
    return None


def visible(text: str) -> str:
    plain: str = strip_ansi(text)
    return plain.replace("\r", "").strip()


CASES = [
    (case_id, name, before, prompt) for case_id, names, before, prompt in PROMPTS for name in names
]


@pytest.mark.parametrize(
    ("case_id", "name", "before", "prompt"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_realistic_prompts_are_recognised(
    case_id: str, name: str, before: str, prompt: str
) -> None:
    patterns = drivers.get(name).prompt_patterns
    for label, chunks in splits(before + prompt):
        found = feed(patterns, chunks)
        assert found is not None, f"{case_id}/{name}: no prompt ({label})"
        got_before, after = found
        where = f"{case_id}/{name} ({label}): before={got_before!r} after={after!r}"
        assert got_before == before, where
        assert prompt.startswith(after), where
        assert visible(after) == visible(prompt), where


@pytest.mark.parametrize("text", NOT_PROMPTS, ids=range(len(NOT_PROMPTS)))
@pytest.mark.parametrize("name", drivers.names())
def test_output_lines_are_not_prompts(text: str, name: str) -> None:
    patterns = drivers.get(name).prompt_patterns
    for label, chunks in splits(text):
        assert feed(patterns, chunks) is None, f"{name} took {text!r} for a prompt ({label})"


# Pager prompts, as devices print them: every driver but the shell's
# answers them, however they are split (the shell's pagers, less and more,
# are not answered blindly).
PAGERS = [
    " --More-- ",  # Cisco IOS, Arista
    "  ---- More ----",  # Huawei
    "---(more 42%)---",  # JunOS
    "--More--(50%)",  # more(1)
    "<--- More --->",  # Cisco ASA
]
#: (Unanchored, a pager prompt is found wherever a chunk ends after one.)
NOT_PAGERS = ["-- more lines --\r\n", "<-- More to come -->\r\n"]


@pytest.mark.parametrize("text", PAGERS)
@pytest.mark.parametrize("name", [n for n in drivers.names() if n != "shell"])
def test_pager_prompts_are_found(text: str, name: str) -> None:
    patterns = drivers.get(name).pager_patterns
    for label, chunks in splits("line1\r\nline2\r\n" + text):
        found = feed(patterns, chunks)
        assert found is not None, (name, label)
        assert found[0].rstrip(" ") == "line1\r\nline2\r\n", (name, label, found)
        # (where a chunk ends after a shorter pager prompt, that one is found:
        # ``--More--`` of ``--More--(50%)``, but never a part of another)
        assert found[1].strip()[:1] == text.strip()[:1], (name, label, found)
        assert text.strip().startswith(found[1].strip()), (name, label, found)


@pytest.mark.parametrize("text", NOT_PAGERS)
@pytest.mark.parametrize("name", drivers.names())
def test_output_lines_are_not_pagers(text: str, name: str) -> None:
    patterns = drivers.get(name).pager_patterns
    for label, chunks in splits(text):
        assert feed(patterns, chunks) is None, (name, label)


def test_specific_drivers_do_not_take_each_others_prompts() -> None:
    assert feed(drivers.get("ios").prompt_patterns, ["user@host:~$ "]) is None
    assert feed(drivers.get("shell").prompt_patterns, ["<HUAWEI>"]) is None
    assert feed(drivers.get("vrp").prompt_patterns, ["Router#"]) is None
    assert feed(drivers.get("generic").prompt_patterns, ["[HUAWEI]"]) is None


def test_set_prompt_patterns_ignore_lookalikes_in_output() -> None:
    text = IOS_OUT + "router>\r\nrouter#\r\nMyRouter uptime is 1 day\r\nMyRouter#"
    for pattern in (r"MyRouter#", r"^MyRouter[>#] ?\Z", re.compile(r"(?m)^MyRouter#$")):
        patterns = compile_patterns(pattern)
        for label, chunks in splits(text):
            found = feed(patterns, chunks)
            assert found == (text[: -len("MyRouter#")], "MyRouter#"), (pattern, label)


# Login and password questions, coloured as some devices show them (the colour
# may end before the colon): every driver's question patterns find them,
# however they are split; the same words in output are no question.
QUESTIONS = [
    ("password", "Password: "),
    ("password", "\x1b[1mPassword:\x1b[0m "),
    ("password", "\x1b[1mPassword\x1b[0m: "),
    ("password", "\x1b[1;31mPassword\x1b[m\x1b[37m : "),
    ("password", "[sudo] password for \x1b[1mann\x1b[0m: "),
    ("password", "\x1b[1mPassword\x1b[0m for ann: "),
    ("login", "\r\nweb1 \x1b[32mlogin\x1b[0m: "),
    ("login", "\x1b[32mUsername\x1b[0m \x1b[1m: "),
    ("login", "\x1b[1mlogin as\x1b[m: "),
    # Any case, the username's and the password's alike; a default offered.
    ("login", "USERNAME: "),
    ("login", "LOGIN: "),
    ("login", "User Name : "),
    ("login", "Login Name: "),
    ("login", "Username (admin): "),
    ("password", "PASSWORD: "),
    ("password", "Passwd: "),
    ("password", "\x1b[1mPASSWD\x1b[0m: "),
]
NOT_QUESTIONS = [
    "\x1b[1mPassword\x1b[0m: changed\r\n",
    "Last \x1b[1mlogin\x1b[0m: Mon Jan  1 00:00:00 2024\r\n",
    "LAST LOGIN: Mon Jan  1 00:00:00 2024\r\n",
    "Username (admin): alice\r\n",
    "USERS: ",
    "superuser: ",
    "\x1b[1mPasswords\x1b[0m: ",
    "\x1b[1mPASSWDS\x1b[0m: ",
    "\x1b[1mPass\x1b[0mword: ",  # (a colour inside the word: not taken, nor named)
]


@pytest.mark.parametrize(("kind", "text"), QUESTIONS, ids=range(len(QUESTIONS)))
@pytest.mark.parametrize("name", drivers.names())
def test_coloured_questions_are_found(kind: str, text: str, name: str) -> None:
    patterns = getattr(drivers.get(name), f"{kind}_patterns")
    for label, chunks in splits(text):
        found = feed(patterns, chunks)
        assert found is not None, f"{name}: no {kind} question in {text!r} ({label})"
        assert visible(found[1]).endswith(":"), (name, label, found)


@pytest.mark.parametrize("text", NOT_QUESTIONS, ids=range(len(NOT_QUESTIONS)))
@pytest.mark.parametrize("name", drivers.names())
def test_question_words_in_output_are_no_question(text: str, name: str) -> None:
    d = drivers.get(name)
    assert feed(d.login_patterns + d.password_patterns, [text]) is None, (name, text)


# -- expect_prompt over a peer we script --------------------------------------------------


async def test_expect_prompt_returns_the_prompt_match() -> None:
    async with opened(timeout=5) as (s, peer):
        await peer.write(b"Welcome\r\nuser@host:~$ ")
        m = await s.expect_prompt()
        assert (m.before, m.after) == ("Welcome\r\n", "user@host:~$ ")
        assert m.span() == (9, 22) and m.index == 0
        assert s.buffer == ""


@pytest.mark.parametrize("case", ["debian", "titled", "ios-config", "junos", "junos-generic"])
async def test_expect_prompt_bytewise_and_in_random_splits(case: str) -> None:
    _, names, before, prompt = next(p for p in PROMPTS if p[0] == case)
    data = (before + prompt).encode()
    for label, chunks in splits(data, seeds=range(3)):
        # limit=0: each write waits until the session read it, so the
        # session sees exactly these chunks.
        async with opened(limit=0, timeout=5, driver=names[0]) as (s, peer):
            writer = asyncio.ensure_future(_write_all(peer, chunks))
            m = await s.expect_prompt()
            await writer
            assert m.before == before, label
            assert visible(m.after) == visible(prompt), label


async def _write_all(peer: Any, chunks: list[bytes]) -> None:
    for chunk in chunks:
        await peer.write(chunk)


class Terminal(Wrapper):
    """A memory pair's end that tells a terminal's width, as a pty, SSH or
    telnet session does."""

    def __init__(self, end: Transport, columns: int) -> None:
        super().__init__(end)
        self._columns = columns

    def abort(self) -> None:
        self.inner.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._columns if name == "columns" else self.inner.get_extra_info(name, default)


#: bash at 20 columns after ``echo out``, Ubuntu's colour PS1 (``user@vm``),
#: in a directory of 68, 69 and 70 characters: prompts of 80 characters
#: (the space ends the fourth row), 81 (the '#' does: the space alone on the
#: fifth) and 82.  readline wraps its rows with ``\r\n\r`` or ``c\rc``.
WRAPPED_OUT = "\x1b[?2004l\rout\r\n"
WRAPPED_HEAD = (
    "\x1b[?2004h\x1b[01;32muser@vm\x1b[00m:\x1b[01;34m~/dddddddddd\r\n\r"
    "ddddddddddddddddddddd\rddddddddddddddddddddd\r"
)
WRAPPED = {
    80: WRAPPED_HEAD + "dddddddddddddddddd\x1b[00m# \r\n\r",
    81: WRAPPED_HEAD + "ddddddddddddddddddd\x1b[00m#\r\n\r ",
    82: WRAPPED_HEAD + "dddddddddddddddddddd\x1b[00m\r\n\r# ",
}


@pytest.mark.parametrize("width", sorted(WRAPPED))
async def test_a_prompt_wrapped_with_line_ends_in_any_split(width: int) -> None:
    # Its rows above the last were output, and where the '#' or the space
    # after it ended a row no pattern found it.  Split at a wrap that is
    # not its end, it is read on; split after a '#' at the margin, the
    # prompt is found (as readline, which waits there, would have it).
    prompt = WRAPPED[width]
    data = (WRAPPED_OUT + prompt).encode()
    for label, chunks in splits(data, seeds=range(5)):
        ours, peer = memory_pair(0)
        async with Session(Terminal(ours, 20), timeout=5) as s:
            writer = asyncio.ensure_future(_write_all(peer, chunks))
            m = await s.expect_prompt()
            await writer
            assert m.before == WRAPPED_OUT, label
            assert visible(m.after) == visible(prompt), label
        await peer.close()


async def test_output_as_wide_as_the_terminal_is_no_row_of_the_prompt() -> None:
    prompt = "\x1b[?2004h\x1b[01;32muser@vm\x1b[00m:\x1b[01;34m~\x1b[00m# "
    before = "\x1b[?2004l\r" + "0" * 20 + "\r\n"
    ours, peer = memory_pair()
    async with Session(Terminal(ours, 20), timeout=5) as s:
        await peer.write((before + prompt).encode())
        m = await s.expect_prompt()
        assert (m.before, m.after) == (before, prompt)
    await peer.close()


async def test_set_prompt_overrides_and_none_restores() -> None:
    async with opened(timeout=5) as (s, peer):
        s.set_prompt(r"READY> ")
        await peer.write(b"router#\r\nREADY> ")
        m = await s.expect_prompt()
        assert (m.before, m.after) == ("router#\r\n", "READY> ")
        s.set_prompt(None)
        await peer.write(b"x\r\nrouter#")
        assert (await s.expect_prompt()).after == "router#"


async def test_expect_prompt_timeout_carries_evidence() -> None:
    async with opened(timeout=5) as (s, peer):
        await peer.write(b"no prompt here\r\n")
        with pytest.raises(ExpectTimeout, match="no prompt here") as info:
            await s.expect_prompt(timeout=0.05)
        assert info.value.before == "no prompt here\r\n"
        assert s.buffer == "no prompt here\r\n"


async def test_a_flood_before_the_first_prompt_leaves_no_garbage_behind() -> None:
    """Each ``max_buffer`` of a flood dropped while waiting for the first
    prompt raised a ``BufferFull`` holding it (``.before``), which a cycle
    (its traceback, the frame that raised it, that frame's local) kept
    until the cyclic garbage collector ran: a flooding telnet host grew the
    client by 700 MiB in 3 s once the search kept up with it.  Each is
    freed as soon as it is handled."""

    def full_errors() -> int:
        return sum(isinstance(o, aioexpect.BufferFull) for o in gc.get_objects())

    gc.collect()
    baseline = full_errors()
    gc.disable()  # (only what no cycle holds is freed meanwhile)
    try:
        async with opened(timeout=5, max_buffer=1000) as (s, peer):

            async def flood() -> None:
                for _ in range(40):
                    await peer.write(b"flood line without any prompt in it\r\n" * 30)
                await peer.write(b"\r\nrouter# ")

            flooding = asyncio.ensure_future(flood())
            await _prompt.first_prompt(s, 5)
            await flooding
            assert s.buffer == ""
        assert full_errors() == baseline
    finally:
        gc.enable()


async def test_prompt_helpers_need_a_text_session() -> None:
    async with opened(encoding=None) as (s, _):
        with pytest.raises(TypeError, match="text session"):
            await s.expect_prompt()
        with pytest.raises(TypeError, match="text session"):
            await s.execute("ls")


# -- set_unique_prompt on real shells ------------------------------------------------------

SHELLS = [
    pytest.param(["bash", "--norc", "--noprofile"], id="bash"),
    pytest.param(["dash"], id="dash"),
    pytest.param(["sh"], id="sh"),
    pytest.param(["zsh", "-f"], id="zsh"),
]
NOISY_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "TERM": "xterm",
    "PS1": r"\[\e]0;\u@\h: \w\a\]\[\e[01;32m\]\u@\h\[\e[00m\]:\w\$ ",
    "PROMPT_COMMAND": r"printf '\033]0;busy title\007'",
}


@pytest.mark.parametrize("argv", SHELLS)
async def test_set_unique_prompt_gives_clean_output(argv: list[str], tmp_path: Any) -> None:
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    env = dict(NOISY_ENV, HOME=str(tmp_path))
    async with aioexpect.spawn(argv[0], argv[1:], env=env, timeout=10) as s:
        await s.set_unique_prompt()
        assert s.prompt_patterns[0].pattern.startswith(r"\[aioexpect")
        await s.sendline("echo one; echo two")
        m = await s.expect_prompt()
        assert "\x1b" not in m.before + m.after + s.buffer, m.before
        assert m.before.endswith("one\r\ntwo\r\n")
        assert await s.execute("printf 'a\\nb'") == "a\nb"
        assert await s.execute("echo " + "x" * 150) == "x" * 150 + "\n"
        assert await s.execute("true") == ""


async def test_set_unique_prompt_is_the_way_out_of_zsh_s_right_prompt(tmp_path: Any) -> None:
    """zsh's right prompt (RPROMPT) comes after the prompt (the drivers
    find it there: tests/test_rprompt.py); set_unique_prompt, which the
    troubleshooting page names where they do not, turns it off."""
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "HOME": str(tmp_path)}
    env |= {"PS1": "%n@%m %~ %# ", "RPROMPT": "[%T]"}
    async with aioexpect.spawn("zsh", ["-f", "-i"], env=env, timeout=10) as s:
        await s.expect(r"\[\d{1,2}:\d{2}\]")  # (the right prompt: shown)
        await s.set_unique_prompt()
        for _ in range(3):
            assert await s.execute("echo hi") == "hi\n"


async def test_set_unique_prompt_then_output_that_looks_like_prompts() -> None:
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], timeout=10) as s:
        await s.set_unique_prompt()
        text = "router>\nLo0 up up Description of my router>\n$ \n# \nuser@host:~$ "
        command = "printf '" + text.replace("\n", "\\n") + "'"
        assert await s.execute(command) == text


@pytest.mark.parametrize("name", drivers.names())
def test_searched_patterns_are_bounded(name: str) -> None:
    # Bounded patterns are searched again only near the end of the buffer:
    # linear time, also on output that is one very long line.
    from aioexpect._scan import Reach, reach_of

    d = drivers.get(name)
    for p in d.prompt_patterns + d.pager_patterns + d.login_patterns + d.password_patterns:
        reach, width, _pre, _post = reach_of(p)
        assert reach is Reach.BOUNDED and width < 4096, (name, p.pattern)


async def test_a_coloured_freebsd_shaped_prompt_in_bash(tmp_path: Any) -> None:
    # FreeBSD's 'root@fbsd:~ #' coloured as Debian colours its prompt: the
    # colour changes around the ':'.  The old code: 'timed out waiting for
    # the prompt of driver ...'.
    (tmp_path / "d").mkdir()
    ps1 = r"\[\e[01;32m\]root@fbsd\[\e[00m\]:\[\e[01;34m\]\w\[\e[00m\] # "
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "HOME": str(tmp_path), "PS1": ps1}
    for driver in ("generic", "shell"):
        argv = ["--norc", "--noprofile"]
        options: dict[str, Any] = {"env": env, "cwd": str(tmp_path), "driver": driver}
        async with aioexpect.spawn("bash", argv, timeout=10, **options) as s:
            m = await s.expect_prompt()
            assert visible(m.after) == "root@fbsd:~ #"
            assert await s.execute("cd ~/d") == ""
            assert await s.execute("echo hi") == "hi\n"
            assert await s.execute("printf 'a\\nb'") == "a\nb"
