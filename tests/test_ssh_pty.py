"""Whether an SSH session has a pty follows what asyncssh asked the server
for: ``term_type``, and ``request_pty`` (given, or ``RequestTTY`` in the SSH
config file).  The flag was ``term_type is not None``; against the
in-process asyncssh server of test_ssh.py, with a temporary $HOME."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect._ssh_pty import pty_wanted
from tests.helpers import silent_server
from tests.test_ssh import connect, ssh_server


@pytest.fixture(autouse=True)
def _isolated(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return fresh_home


async def events(process: asyncssh.SSHServerProcess[bytes]) -> None:
    """Says whether the channel has a pty, then what comes: a byte, a
    signal, a new size, the end of input."""
    pty = process.get_terminal_type() is not None
    process.stdout.write(b"pty=yes\n" if pty else b"pty=no\n")
    with contextlib.suppress(asyncssh.Error, OSError):
        while True:
            try:
                data = await process.stdin.read(1)
            except asyncssh.SignalReceived as sig:
                process.stdout.write(f"signal {sig.signal}\n".encode())
                continue
            except asyncssh.TerminalSizeChanged as change:
                process.stdout.write(f"size {change.height}x{change.width}\n".encode())
                continue
            if not data:
                process.stdout.write(b"end of input\n")
                break
            process.stdout.write(b"byte %r\n" % data)
    process.exit(0)


#: The options, the SSH config file's RequestTTY (None: no file), and
#: whether the channel gets a pty.
CASES: dict[str, tuple[dict[str, Any], str | None, bool]] = {
    "default": ({}, None, True),
    "request_pty=False": ({"request_pty": False}, None, False),
    "force, term_type=None": ({"term_type": None, "request_pty": "force"}, None, True),
    "True, term_type=None": ({"term_type": None, "request_pty": True}, None, False),
    "auto, a shell": ({"request_pty": "auto"}, None, True),
    "auto, command=": ({"request_pty": "auto", "command": "run"}, None, False),
    "RequestTTY no": ({}, "no", False),
    "RequestTTY no, request_pty=()": ({"request_pty": ()}, "no", False),
    "RequestTTY no, request_pty=True": ({"request_pty": True}, "no", True),
    "RequestTTY force, term_type=None": ({"term_type": None}, "force", True),
    "RequestTTY auto, command=": ({"command": "run"}, "auto", False),
    "options= of asyncssh's": ({"options": {"request_pty": False}}, None, False),
    # (the keyword replaces the object's, as in asyncssh: its 'no' is not refused)
    "request_pty=False, options= with 'no'": (
        {"request_pty": False, "options": {"request_pty": "no"}},
        None,
        False,
    ),
    "auto, subsystem=": ({"request_pty": "auto", "subsystem": "x"}, None, False),
    "RequestTTY auto, options= with a subsystem": ({"options": {"subsystem": "x"}}, "auto", False),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_pty_flag_is_what_the_server_was_asked_for(case: str, tmp_path: Path) -> None:
    # request_pty=False (or RequestTTY no, or 'auto' with a command or a
    # subsystem) left the flag True: sendeof() wrote Ctrl-D and sendintr() Ctrl-C as data
    # to a command without a terminal (cat never ended), set_winsize() was
    # taken.  'force' with term_type=None (a pty) left it False: channel
    # EOF, which OpenSSH ignores on a pty, a signal request, and
    # set_winsize() refused.
    options, request_tty, pty = CASES[case]
    options = dict(options)
    if request_tty is not None:
        config = tmp_path / "ssh_config"
        config.write_text(f"Host *\n  RequestTTY {request_tty}\n")
        options["config"] = [str(config)]
    if "options" in options:  # (made here: it reads the temporary $HOME's ~/.ssh/config)
        options["options"] = asyncssh.SSHClientConnectionOptions(**options["options"])
    async with ssh_server(events) as server, connect(server, **options) as s:
        await s.expect_exact(f"pty={'yes' if pty else 'no'}\n")
        assert s.transport.get_extra_info("pty") is pty
        if pty:
            s.set_winsize(30, 100)
            await s.expect_exact("size 30x100\n")
        else:
            with pytest.raises(TypeError, match="no pty"):
                s.set_winsize(30, 100)
        await s.sendintr()
        await s.expect_exact("byte b'\\x03'\n" if pty else "signal INT\n")
        await s.sendeof()
        await s.expect_exact("byte b'\\x04'\n" if pty else "end of input\n")


@pytest.mark.parametrize(
    "conn", [object(), SimpleNamespace(_options=object())], ids=["no _options", "another shape"]
)
def test_without_asyncssh_s_private_options_its_defaults_decide(conn: object) -> None:
    # RequestTTY (and an options= object's subsystem) are read from
    # asyncssh's private conn._options; an asyncssh without it, or shaped
    # otherwise, leaves asyncssh's defaults (request_pty True, no
    # subsystem), and open_ssh asks the server for what this says.
    assert pty_wanted(conn, {}, "xterm", None) is True
    assert pty_wanted(conn, {}, None, None) is False
    assert pty_wanted(conn, {"request_pty": False}, "xterm", None) is False
    assert pty_wanted(conn, {"request_pty": "force"}, None, "run") is True
    assert pty_wanted(conn, {"request_pty": "auto"}, "xterm", None) is True
    assert pty_wanted(conn, {"request_pty": "auto"}, "xterm", "run") is False
    assert pty_wanted(conn, {"request_pty": "auto", "subsystem": "x"}, "xterm", None) is False


async def terminal_shell(process: asyncssh.SSHServerProcess[bytes]) -> None:
    """A shell answering each line with a prompt (``echo`` runs): behind a
    pty CR and LF each end a line (ICRNL) and lines are echoed; without
    one only LF does."""
    pty = process.get_terminal_type() is not None
    end = "\r\n" if pty else "\n"
    process.stdout.write(b"$ ")
    pending = ""
    with contextlib.suppress(asyncssh.Error, OSError):
        while data := await process.stdin.read(1024):
            pending += data.decode().replace("\r", "\n") if pty else data.decode()
            while "\n" in pending:
                line, pending = pending.split("\n", 1)
                out = line + end if pty else ""
                if line.startswith("echo "):
                    out += line.removeprefix("echo ") + end
                process.stdout.write(f"{out}$ ".encode())
    process.exit(0)


@pytest.mark.parametrize(
    "options",
    [{"term_type": None, "request_pty": "force"}, {"request_pty": False}],
    ids=["force, term_type=None", "request_pty=False"],
)
async def test_execute_after_cr_lf_counts_the_lines_the_channel_makes(
    options: dict[str, Any],
) -> None:
    # 'echo a\r\n' is two lines behind a pty, each with its prompt, one
    # without.  Behind the forced pty the flag said none, and execute
    # counted one line each: 'echo ok' returned '\n'.  Without a pty, the
    # flag saying one, the prompts counted too many cost STALE_WAIT: right
    # all the same (kept as a check of that side).
    async with ssh_server(terminal_shell) as server, connect(server, **options) as s:
        s.set_prompt(r"\$ ")
        await s.expect_prompt()
        await s.send("echo a\r\necho b\r\n")
        assert await s.execute("echo ok", timeout=5) == "ok\n"
        assert await s.execute("echo two", timeout=5) == "two\n"


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        ("no", ValueError, r"request_pty must be True, False, 'force' or 'auto', not 'no' \("),
        ("yes", ValueError, r"not 'yes' \(RequestTTY's yes and no are True and False here\)"),
        ("Force", ValueError, r"request_pty must be True, False, 'force' or 'auto', not 'Force'$"),
        ("", ValueError, r"not ''$"),
        (1, TypeError, r"request_pty must be True, False, 'force' or 'auto', not int"),
        (None, TypeError, r"not NoneType"),
    ],
)
async def test_a_bad_request_pty_is_refused_by_the_call(
    value: Any, error: type[Exception], words: str
) -> None:
    # asyncssh took any value, any other true one for True: request_pty='no'
    # (as the config file writes it) asked for a pty.  Refused now, before
    # anything is dialled, by connect_ssh and by connect.
    async with silent_server() as (port, accepted):
        with pytest.raises(error, match=words):
            aioexpect.connect_ssh("127.0.0.1", port, known_hosts=None, request_pty=value)
        with pytest.raises(error, match=words):
            aioexpect.connect(f"ssh://127.0.0.1:{port}", known_hosts=None, request_pty=value)
        # In an options= object of asyncssh's it was taken, as asyncssh takes
        # it (options.request_pty, 'no' a pty), by every entry point.
        options = asyncssh.SSHClientConnectionOptions(request_pty=value)
        url = f"ssh://127.0.0.1:{port}"
        refusals = []
        with pytest.raises(error, match=words) as refused:
            aioexpect.connect_ssh("127.0.0.1", port, known_hosts=None, options=options)
        refusals.append(refused.value)
        with pytest.raises(error, match=words) as refused:
            aioexpect.connect(url, known_hosts=None, options=options)
        refusals.append(refused.value)
        with pytest.raises(error, match=words) as refused:
            await aioexpect.run_many(
                [url], _never_run, known_hosts=None, options=options, timeout=5
            )
        refusals.append(refused.value)
        assert all(str(e).startswith("options.request_pty must be") for e in refusals)
        await asyncio.sleep(0)
        assert not accepted.is_set()


async def _never_run(session: aioexpect.Session, host: str) -> None:
    raise AssertionError("run_many ran a job")
