"""The ``aioexpect`` command line, run as a real subprocess (``python3 -m aioexpect``)
against local shells and emulated devices served in this process on 127.0.0.1."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import io
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest

import aioexpect
from aioexpect import _cli
from aioexpect._cli_output import Progress
from aioexpect._runner import Terminated, terminations
from aioexpect._urls import redact_url
from tests.helpers import refused_port, wait_until

ROOT = Path(__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AIOEXPECT_PASSWORD"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def cli(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aioexpect", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(**env),
        timeout=60,
        cwd=ROOT,
        check=False,
    )


async def acli(*args: str, pass_fds: tuple[int, ...] = (), **env: str) -> tuple[int, str, str]:
    """The CLI as a subprocess, awaited (so servers in this loop keep serving)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aioexpect", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=_env(**env), cwd=ROOT, pass_fds=pass_fds,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_version() -> None:
    done = cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"aioexpect {aioexpect.__version__}"


def test_no_subcommand_prints_help_and_fails() -> None:
    done = cli()
    assert done.returncode == 2
    assert "exec" in done.stderr and "demo" in done.stderr


def test_exec_runs_commands_in_order_and_prints_each_hosts_output() -> None:
    done = cli("exec", "spawn:sh", "spawn:sh -c 'exec sh'",
               "-c", "echo one-$((0 + 1))", "-c", "echo two-$((1 + 1))")  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("=== spawn:sh") == 2 and "ok" in out
    assert out.index("one-1") < out.index("two-2")
    assert out.count("one-1") == 2 and out.count("two-2") == 2
    assert "\r" not in out and "\x1b" not in done.stderr  # no progress bar off a terminal
    assert "2 hosts, 2 ok, 0 failed" in done.stderr


def test_exec_driver_auto_guesses() -> None:
    """--driver auto, as docs/cli.rst offers: the shell's prompt settles it."""
    done = cli("exec", "spawn:bash --norc --noprofile", "-c", "echo auto-ok", "--driver", "auto")
    assert done.returncode == 0, done.stderr
    assert "auto-ok" in done.stdout


def test_exec_json_reports_failures_and_exits_1() -> None:
    done = cli("exec", "--json", "spawn:sh", "spawn:/no/such/program", "-c", "echo json-ok")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert [sorted(d) for d in data] == [["error", "host", "ok", "outputs"]] * 2
    ok, bad = data
    assert ok["host"] == "spawn:sh" and ok["ok"] is True and ok["error"] is None
    assert [o.strip() for o in ok["outputs"]] == ["json-ok"]
    assert bad["ok"] is False and bad["outputs"] == []
    assert "SpawnError" in bad["error"] and "/no/such/program" in bad["error"]


async def interrupted(
    proc: asyncio.subprocess.Process, ready: Awaitable[None], signum: int = signal.SIGINT
) -> tuple[bytes, bytes]:
    """Ctrl-C (SIGINT, or ``signum``) to the CLI once ``ready`` is done; what
    it printed (it is killed if it does not end)."""
    try:
        await ready
        proc.send_signal(signum)
        return await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize(
    ("signum", "status", "said"),
    [
        (signal.SIGINT, 130, "aioexpect: interrupted"),
        (signal.SIGTERM, 143, "aioexpect: terminated (SIGTERM)"),
        (signal.SIGHUP, 129, "aioexpect: terminated (SIGHUP)"),
    ],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
async def test_exec_json_interrupted_shows_the_hosts_that_finished(
    tmp_path: Path, signum: int, status: int, said: str
) -> None:
    """SIGTERM (timeout(1), systemd, a CI runner) and SIGHUP killed the CLI
    at once: exit -15 or -1, nothing on stdout, not even the hosts that had
    finished, and nothing said.  They now end it as Ctrl-C does, sessions
    closed (the waiting shell is gone), with 128 + the signal's number."""
    pidfile = tmp_path / "shell.pid"
    waiting = f"spawn:sh -c 'echo $$ > {pidfile}; read never'"
    logdir = tmp_path / "logs"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aioexpect", "exec", "--json", "--concurrency", "1",
        "--logdir", str(logdir), "spawn:sh", waiting, "-c", "echo first",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=_env(), cwd=ROOT,
    )  # fmt: skip
    # One worker: the second host starts once the first one's result is in.
    started = wait_until(lambda: pidfile.exists() and pidfile.read_text().endswith("\n"), "2nd")
    out, err = await interrupted(proc, started, signum)
    assert proc.returncode == status, err
    assert err.decode().strip().splitlines()[-1] == said
    data = json.loads(out)
    assert [(d["host"], d["ok"]) for d in data] == [("spawn:sh", True)]
    assert "first" in data[0]["outputs"][0]
    with pytest.raises(ProcessLookupError):  # closed and reaped before the CLI ended
        os.kill(int(pidfile.read_text()), 0)


async def test_terminations_leave_a_signal_ignored_as_under_nohup_ignored() -> None:
    """The SIGHUP nohup ignores stays ignored: the SIGTERM sent after it
    (both read from the loop's wake-up descriptor in order) ends the block;
    the default action is back after it."""
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        pytest.skip("SIGTERM is handled by the test runner")
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        async with asyncio.timeout(30):
            with pytest.raises(Terminated) as ended, terminations():
                os.kill(os.getpid(), signal.SIGHUP)
                os.kill(os.getpid(), signal.SIGTERM)
                await asyncio.Event().wait()
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert ended.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


async def test_terminations_a_signal_during_the_last_synchronous_work_ends_the_block() -> None:
    """A SIGTERM that came while the block's last synchronous work ran (the
    printing of the results) was lost: no await took the cancellation, and
    the CLI went on to exit 0.  The block now ends with ``Terminated``, and
    the loop's callback, run after it, cancels nothing."""
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        pytest.skip("SIGTERM is handled by the test runner")
    with pytest.raises(Terminated) as ended, terminations():
        await asyncio.sleep(0)
        os.kill(os.getpid(), signal.SIGTERM)  # (delivered before kill() returns)
    assert ended.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    for _ in range(3):
        await asyncio.sleep(0)  # (a cancellation would be raised here)
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


def _full(fd: int) -> bool:
    """Whether a write to the pipe end ``fd`` would block (nobody reads it)."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return not poller.poll(0)


@contextlib.contextmanager
def _unread_pipe() -> Iterator[int]:
    """The write end of a pipe nobody reads: standard output that fills up."""
    r, w = os.pipe()
    try:
        yield w
    finally:
        os.close(r)
        os.close(w)


@pytest.mark.loop("asyncio")  # (the CLI's loop is its own)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_exec_blocked_on_a_full_stdout_ends_at_the_signal(signum: int) -> None:
    """The loop's signal handler acts only when the loop polls; with the CLI
    blocked writing to a pipe nobody reads (the write restarted after the
    signal), SIGTERM and SIGHUP were swallowed, and it ran on until SIGKILL.
    It now ends at once, as the default action ends it."""
    with _unread_pipe() as stdout:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "aioexpect", "exec", "spawn:sh", "-c", "seq 1 60000",
            stdout=stdout, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL, env=_env(), cwd=ROOT,
        )  # fmt: skip
        _, err = await interrupted(proc, wait_until(lambda: _full(stdout), "stdout full"), signum)
    assert proc.returncode == -signum, err


@pytest.mark.loop("asyncio")  # (the CLI's loop is its own)
async def test_exec_a_second_sigterm_ends_the_closing_at_once(tmp_path: Path) -> None:
    """The first SIGTERM closes the sessions, then prints the hosts that
    finished; to a pipe nobody reads, that printing blocks, and the second
    SIGTERM was swallowed as the first would have been: the CLI never
    ended.  The second one now ends it at once (as a second Ctrl-C does)."""
    pidfile = tmp_path / "shell.pid"
    waiting = f"spawn:sh -c 'echo $$ > {pidfile}; read never'"
    with _unread_pipe() as stdout:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "aioexpect", "exec", "--json", "--concurrency", "1",
            "spawn:sh", waiting, "-c", "seq 1 60000",
            stdout=stdout, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL, env=_env(), cwd=ROOT,
        )  # fmt: skip

        async def closing_blocked() -> None:  # the JSON (over 64 KiB) comes at the end
            await wait_until(lambda: pidfile.exists() and pidfile.read_text().endswith("\n"), "2nd")
            assert not _full(stdout)
            proc.send_signal(signal.SIGTERM)
            await wait_until(lambda: _full(stdout), "the JSON fills stdout")

        _, err = await interrupted(proc, closing_blocked(), signal.SIGTERM)
    assert proc.returncode == -signal.SIGTERM, err
    with pytest.raises(ProcessLookupError):  # closed by the first SIGTERM
        os.kill(int(pidfile.read_text()), 0)


async def test_exec_text_interrupted_shows_the_hosts_that_finished(tmp_path: Path) -> None:
    # The second host never finishes; the third does: its output is shown all the same.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aioexpect", "exec", "--logdir", str(tmp_path),
        "spawn:sh", "spawn:sh -c 'read never'", "spawn:sh", "-c", "echo done-$((6*7))",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=_env(), cwd=ROOT,
    )  # fmt: skip
    logs = [tmp_path / "spawn_sh.log", tmp_path / "spawn_sh-2.log"]

    def both_answered() -> bool:  # the output, then the prompt after it
        texts = [log.read_text() if log.exists() else "" for log in logs]
        return all(re.search(r"done-42\r?\n.*[$#] ", text) for text in texts)

    def closed() -> bool:  # a host's transcript is closed once its job has ended
        held = set()
        for fd in Path(f"/proc/{proc.pid}/fd").iterdir():
            with contextlib.suppress(OSError):  # (closed meanwhile)
                held.add(os.readlink(fd))
        return not held & {str(log) for log in logs}

    async def finished() -> None:
        await wait_until(both_answered, "both shells answered")
        await wait_until(closed, "both hosts ended")

    out, err = await interrupted(proc, finished())
    assert proc.returncode == 130, err
    assert out.decode().count("=== spawn:sh  ok") == 2, (out, err)
    assert out.decode().count("\ndone-42\n") == 2, (out, err)
    assert "read never" not in out.decode()


def test_exec_a_failed_command_keeps_its_output_and_is_named() -> None:
    done = cli("exec", "spawn:sh", "-c", "echo first", "-c", "echo partial; sleep 5",
               "--command-timeout", "1")  # fmt: skip
    assert done.returncode == 1
    assert "--- echo partial; sleep 5\npartial\n!!! ExpectTimeout" in done.stdout
    assert done.stdout.rstrip().endswith("(command 'echo partial; sleep 5')")
    done = cli("exec", "--json", "spawn:sh", "-c", "echo first", "-c", "exit")
    [host] = json.loads(done.stdout)
    assert host["outputs"] == ["first\n", ""]
    assert host["error"].startswith("ExpectEOF") and host["error"].endswith("(command 'exit')")


@pytest.mark.parametrize(
    ("command", "question", "advice"),
    [
        ("enable", "Password: ", "for enable, log in with an account at that privilege level"),
        ("reload", "Proceed with reload? [confirm]", "run a form of the command that asks"),
    ],
    ids=["password", "confirm"],
)
def test_exec_says_what_a_command_line_user_can_do_about_a_question(
    command: str, question: str, advice: str
) -> None:
    # The message said to call send_secret(password) and expect_prompt(),
    # which a command line user cannot.
    device = f"printf 'r1>'; read -r _; printf '{question}'; read -r _"
    done = cli("exec", f"spawn:sh -c {device!r}", "-c", command, "--command-timeout", "1")
    assert done.returncode == 1, done.stderr
    message = done.stdout.rstrip().splitlines()[-1]
    # The evidence and the question's quote stay; the advice is exec's.
    assert message.startswith("!!! ExpectTimeout: timed out waiting for the prompt")
    assert f"last characters received: '{command}\\r\\n{question}'" in message
    assert f"the peer asks {question.strip()!r}, which is no prompt: " in message
    assert "aioexpect exec cannot answer it; " in message
    assert advice in message and "write a script" in message and "docs/drivers.rst" in message
    assert "send_secret" not in message and "expect_prompt()" not in message
    assert message.endswith(f"(command {command!r})")


def test_exec_timeout_keeps_the_running_commands_output_and_names_it() -> None:
    """--timeout (the whole run) cuts a command short as --command-timeout
    does: what it printed is its output, and the error names it."""
    command = "echo partial; exec sleep 60"
    args = ["exec", "spawn:sh", "-c", "echo first", "-c", command, "--timeout", "5"]

    def start(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "aioexpect", *args, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True, env=_env(), cwd=ROOT,
        )  # fmt: skip

    text, as_json = start(), start("--json")  # both at once: each waits out its --timeout
    with text, as_json:
        out, err = text.communicate(timeout=60)
        assert text.returncode == 1, err
        assert f"--- {command}\npartial\n!!! ExpectTimeout" in out
        assert "did not finish within 5 s" in out
        assert out.rstrip().endswith(f"(command {command!r})")
        out, err = as_json.communicate(timeout=60)
        assert as_json.returncode == 1, err
        [host] = json.loads(out)
        assert host["outputs"] == ["first\n", "partial\n"]
        assert host["error"].startswith("ExpectTimeout")
        assert host["error"].endswith(f"(command {command!r})")


@pytest.mark.parametrize(
    "args",
    [
        ["ssh://admin:hunter2@h", "exec", "-c", "x"],  # a URL for the subcommand
        ["exec", "--hosts", "ssh://admin:hunter2@h", "-c", "x"],  # ... for a file name
        ["exec", "--timeout", "ssh://admin:hunter2@h", "-c", "x"],
        ["exec", "--concurrency", "admin:hunter2@h", "-c", "x"],
        ["exec", "--concurrency", "admin://hunter2@h", "-c", "x"],  # '//' in the password
        ["exec", "--driver", "ssh://admin:hunter2@h", "-c", "x"],
        ["exec", "-c", "x", "--key", "ssh://admin:hunter2@127.0.0.1:1", "ssh://u@127.0.0.1:1"],
        # a space in the password: the masking of free text goes by words
        ["exec", "--concurrency", "ssh://admin:hunter2 horse@127.0.0.1:1", "-c", "x"],
        ["exec", "--timeout", "admin:correct hunter2@h", "-c", "x"],
    ],
)
def test_a_url_where_an_option_value_belongs_is_shown_masked(args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode in (1, 2)
    assert "hunter2" not in done.stdout + done.stderr
    assert ":********@" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("invalid choice: 'ssh://admin:hunter2@h'", "invalid choice: 'ssh://admin:********@h'"),
        ("admin:hunter2@host", "admin:********@host"),  # no scheme
        ("telnet://u:p@ss@h:23 and x", "telnet://u:********@h:23 and x"),  # '@' in it
        ("ssh://:hunter2@h", "ssh://:********@h"),  # no user name
        ("'ssh://admin:hunter2'x@h'", "'ssh://admin:********@h'"),  # a quote in it
        ("ssh://u@h:22 at 12:30 @home, value 10:20", "ssh://u@h:22 at 12:30 @home, value 10:20"),
        # only ssh:// and telnet:// are a scheme, as redact_url reads them:
        # before another '://' may be a user name, its password holding it
        ("'admin://hunter2@h'", "'admin:********@h'"),
        ("'admin:x://hunter2@h'", "'admin:********@h'"),
        ("(TELNET://u@h and =ssh://v@k)", "(TELNET://u@h and =ssh://v@k)"),
    ],
)
def test_messages_mask_passwords(text: str, shown: str) -> None:
    from aioexpect._cli_output import masked

    assert masked(text) == shown


@pytest.mark.parametrize("as_json", [False, True])
def test_demo_output_that_cannot_be_written(as_json: bool) -> None:
    # It ended in a traceback (OSError: No space left on device).
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "aioexpect", "demo", *(["--json"] if as_json else [])],
            stdout=full, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
            timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == "aioexpect: cannot write the output: No space left on device\n"


def test_exec_output_that_cannot_be_written() -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "aioexpect", "exec", "spawn:sh", "-c", "echo x"],
            stdout=full, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
            timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "aioexpect: 1 host, 1 ok, 0 failed",
        "aioexpect: cannot write the output: No space left on device",
    ]
    with open("/dev/full", "w") as full:  # standard error full: the status still says it
        done = subprocess.run(
            [sys.executable, "-m", "aioexpect", "exec", "spawn:sh", "-c", "echo x"],
            stdout=subprocess.PIPE, stderr=full, text=True, env=_env(), cwd=ROOT,
            timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 0 and "\nx\n" in done.stdout
    # A reader that stops early (`| head -1`): quiet, whatever the number of
    # hosts, with the status of a command that SIGPIPE ended (128 + 13).
    proc = subprocess.Popen(
        [sys.executable, "-m", "aioexpect", "exec", *["spawn:sh"] * 3, "-c", "seq 1 20000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == "", err
    # --json, written at the end, to a reader gone by then: the same.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "aioexpect", "exec", "--json", "spawn:sh", "-c", "true"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
            timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def test_exec_command_error_fails_the_host_and_keeps_its_output() -> None:
    done = cli("exec", "--json", "--driver", "shell", "spawn:sh",
               "-c", "echo first", "-c", "no_such_command_xyz")  # fmt: skip
    data = json.loads(done.stdout)
    assert done.returncode == 1
    [host] = data
    assert host["ok"] is False and "CommandError" in host["error"]
    assert host["outputs"][0].strip() == "first"
    assert "no_such_command_xyz" in host["outputs"][1]


def test_exec_reads_hosts_files_with_comments(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("# the inventory\n\nspawn:sh   # a local shell\n  \nspawn:sh -c 'exec sh'\n")
    done = cli("exec", "--json", "--hosts", str(hosts), "-c", "echo from-file")
    assert done.returncode == 0, done.stderr
    assert [d["host"] for d in json.loads(done.stdout)] == ["spawn:sh", "spawn:sh -c 'exec sh'"]
    done = cli("exec", "--json", "--hosts", "-", "-c", "echo x", stdin="spawn:sh\n# no\n")
    assert [d["host"] for d in json.loads(done.stdout)] == ["spawn:sh"]
    assert _cli.read_hosts(["a # c", "#x", " b", "ssh://u:p#w@h"]) == ["a", "b", "ssh://u:p#w@h"]


def test_exec_refuses_passwords_as_options() -> None:
    for args in (["--password", "hunter2"], ["--password=hunter2"], ["--passwd", "hunter2"]):
        done = cli("exec", "spawn:sh", "-c", "true", *args)
        assert done.returncode == 2
        assert "AIOEXPECT_PASSWORD" in done.stderr and "ps" in done.stderr
        assert "hunter2" not in done.stderr + done.stdout


def test_a_mistyped_option_is_named_without_its_value() -> None:
    for args in (["-p", "hunter2"], ["-phunter2"], ["--pwd=hunter2"], ["--passw", "hunter2"]):
        done = cli("exec", "spawn:sh", "-c", "true", *args)
        assert done.returncode == 2
        assert "unrecognized arguments: " + args[0][:2] in done.stderr
        assert "hunter2" not in done.stderr + done.stdout
        assert done.stderr.startswith("usage: aioexpect exec ")  # exec's options, not the top's


def test_hosts_file_with_a_bom_and_a_user_the_url_overrides(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_bytes("spawn:sh\r\n".encode("utf-8-sig"))
    done = cli("exec", "--hosts", str(hosts), "-c", "echo from-bom-file")
    assert done.returncode == 0, done.stderr
    assert "from-bom-file" in done.stdout
    done = cli("exec", "telnet://alice@127.0.0.1:1", "--user", "u", "-c", "true",
               "--command-timeout", "5")  # fmt: skip
    assert done.returncode == 1
    assert "--user and its credentials are not used for 1 target(s)" in done.stderr


def test_exec_refuses_a_scheme_without_its_slashes_as_a_usage_error() -> None:
    # Nothing listens there: the old reading (user "ssh", the user name taken
    # for a password, $AIOEXPECT_PASSWORD unused) dialled and failed with 1.
    # The URL is shown as the library's message has it: exec masked it again,
    # and the user name became a password (ssh:********@...).
    with refused_port() as port:
        for target, shown, fix in [
            (f"ssh:admin@127.0.0.1:{port}", "", f"ssh://admin@127.0.0.1:{port}"),
            (
                f"telnet:admin:s3cret@127.0.0.1:{port}",
                f"telnet:admin:********@127.0.0.1:{port}",
                f"telnet://admin:********@127.0.0.1:{port}",
            ),
        ]:
            done = cli("exec", target, "-c", "true", AIOEXPECT_PASSWORD="pw")
            assert done.returncode == 2, done
            said = f"URL {(shown or target)!r} has no '//' after"
            assert said in done.stderr and f"write {fix!r}" in done.stderr
            assert "warning" not in done.stderr and "s3cret" not in done.stderr
            assert done.stdout == ""


def test_exec_shows_no_password_holding_the_slashes_of_a_scheme(tmp_path: Path) -> None:
    # A target with no scheme whose password holds '://': exec printed the
    # whole URL, from a chmod 600 --hosts file too (nothing listens on port 1).
    hosts = tmp_path / "hosts"
    hosts.write_text("admin:x://S3cr3tPW@127.0.0.1:1\n")
    hosts.chmod(0o600)
    for args, shown in [
        (["admin://S3cr3tPW@127.0.0.1:1"], "scheme 'admin' in 'admin:********@127.0.0.1:1': use"),
        (["--hosts", str(hosts)], "URL 'admin:********@127.0.0.1:1' does not parse"),
    ]:
        done = cli("exec", *args, "-c", "true")
        assert done.returncode == 2, done
        assert shown in done.stderr
        assert "S3cr3tPW" not in done.stdout + done.stderr and "x://" not in done.stderr


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["exec", "-c", "true"], "no targets"),
        (["exec", "spawn:sh"], "-c"),
        (["exec", "gopher://h", "-c", "true"], "unsupported URL scheme"),
        (["exec", "spawn:sh", "-c", "x", "--concurrency", "0"], "at least 1"),
        (["exec", "spawn:sh", "-c", "x", "--timeout", "abc"], "not a number of seconds: 'abc'"),
        (["exec", "spawn:sh", "-c", "x", "--concurrency", "x"], "not a whole number: 'x'"),
        (["exec", "spawn:sh", "-c", "x", "--hosts", "/no/such/file"], "cannot read hosts"),
        (["exec", "h", "-c", "x", "--key", "/no/such/key"], "--key '/no/such/key': no such file"),
        (["exec", "h", "-c", "x", "--known-hosts", "/no/kh"], "--known-hosts '/no/kh': no such"),
        (["exec", "h", "-c", "x", "--known-hosts", "f", "--insecure-no-host-key-check"], "not"),
        (["exec", "spawn:sh", "-c", "x", "--driver", "nosuch"], "unknown driver 'nosuch'"),
        (["exec", "spawn:sh", "-c", "x", "--drivers-from", "/no/d.py"], "'/no/d.py': FileNotF"),
        (
            ["exec", "spawn:sh", "-c", "x", "--drivers-from", "no_such_mod"],
            "'no_such_mod': ModuleNotFoundError: No module named 'no_such_mod' "
            "(give a file path (no_such_mod.py), or put its directory on PYTHONPATH)",
        ),
        (
            ["exec", "spawn:sh", "-c", "x", "--drivers-from", "no_such_pkg.drivers"],
            "(put the directory holding no_such_pkg on PYTHONPATH)",
        ),
        (["exec", "spawn:sh", "-c", "true", "-c", "echo a\necho b"], "give each line its own -c"),
    ],
)
def test_exec_usage_errors_exit_2(args: list[str], text: str) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert text in done.stderr


def test_exec_refuses_text_that_is_not_utf8_before_any_host_is_contacted() -> None:
    """A byte that is not UTF-8 in a command, a target, a user name or the
    password (a Latin-1 script or terminal): Python keeps it as a lone
    surrogate, which no session sends.  Each host failed on it after
    connecting (a bare UnicodeEncodeError for a command: exit status 1)."""
    with refused_port() as port:
        target = f"ssh://127.0.0.1:{port}"
        for args, env, said in [
            (["spawn:sh", "-c", "echo caf\udce9"], {}, "-c 'echo caf\\udce9' holds byte 0xE9"),
            ([f"ssh://b\udce9@127.0.0.1:{port}", "-c", "true"], {}, "holds byte 0xE9"),
            ([target, "-u", "b\udce9", "-c", "true"], {}, "--user 'b\\udce9' holds byte 0xE9"),
            (
                [target, "-u", "admin", "-c", "true"],
                {"AIOEXPECT_PASSWORD": "pa\udce9ss"},
                "$AIOEXPECT_PASSWORD holds a byte that is not UTF-8",
            ),
        ]:
            done = cli("exec", *args, **env)
            assert done.returncode == 2, done
            assert said in done.stderr and "not UTF-8" in done.stderr, done.stderr
            assert done.stdout == "" and "pa\udce9ss" not in done.stderr
    # a program's arguments are bytes, given as they came (a file name in Latin-1)
    ran = subprocess.run(
        [sys.executable, "-m", "aioexpect", "exec", "spawn:sh -c 'echo caf\udce9; exec sh'",
         "-c", "true"],
        capture_output=True, env=_env(), cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran


def _cli_bytes(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The CLI as ``cli`` runs it, its standard input and outputs bytes."""
    return subprocess.run(
        [sys.executable, "-m", "aioexpect", *args],
        input=stdin, capture_output=True, env=env or _env(), cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip


def _python(program: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``program`` run by this Python in a process of its own, from the checkout."""
    return subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip


def _ascii_locale() -> dict[str, str]:
    """The environment of an ASCII locale (``LC_ALL=C``, UTF-8 mode off),
    where Python reads arguments and the environment as ASCII, keeping
    each other byte as a lone surrogate; the test is skipped where not."""
    env = _env(LC_ALL="C", PYTHONUTF8="0")
    found = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.getfilesystemencoding())"],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    ).stdout.strip()  # fmt: skip
    if found != "ascii":
        pytest.skip(f"LC_ALL=C PYTHONUTF8=0 gives Python {found!r} here, not an ASCII locale")
    return env


def test_a_password_that_is_not_utf8_is_never_shown(tmp_path: Path) -> None:
    """A byte that is not UTF-8 in a target's password: the usage error
    showed the byte (part of the password) and the target masked word by
    word, which left a password holding a space whole."""
    url = b"telnet://admin:correct horse\xe9@127.0.0.1:1"
    hosts = tmp_path / "hosts"
    hosts.write_bytes(b"# routers\r\n" + url + b"\r\n")
    hosts.chmod(0o600)
    for args, stdin, where in [
        ([os.fsdecode(url)], None, ""),
        (["--hosts", str(hosts)], None, f" (hosts file {str(hosts)!r}, line 2)"),
        (["--hosts", "-"], url + b"\n", " (standard input, line 1)"),
    ]:
        done = _cli_bytes("exec", *args, "-c", "true", stdin=stdin)
        said = (done.stdout + done.stderr).decode("utf-8", "backslashreplace")
        assert done.returncode == 2, said
        for shown in ("correct", "horse", "0xE9", "\\xe9", "\\udce9", "\xe9"):
            assert shown not in said, said
        assert (
            f"the password of target 'telnet://admin:********@127.0.0.1:1'{where} "
            "holds a byte that is not UTF-8"
        ) in said


async def test_exec_refuses_a_percent_escape_that_is_not_utf8_in_credentials(
    tmp_path: Path,
) -> None:
    """``p%E9ss`` and ``p%FFss`` were each sent as ``p\ufffdss``: a device
    whose password is that took both.  A usage error now, the password not
    shown and no host contacted, on the command line as in a hosts file."""
    from aioexpect.testing import VirtualDevice, serve_telnet

    login = ("admin", "p\ufffdss")
    device = VirtualDevice("r1", prompt="r1#", commands={"show": "ok"}, login=login)
    async with serve_telnet(device) as telnet:
        hosts = tmp_path / "hosts"
        for url, what in [
            (f"telnet://admin:p%E9ss@127.0.0.1:{telnet.port}", "password"),
            (f"telnet://admin:p%FFss@127.0.0.1:{telnet.port}", "password"),
            (f"telnet://adm%E9n:p%EF%BF%BDss@127.0.0.1:{telnet.port}", "user name"),
        ]:
            hosts.write_text("# routers\n" + url + "\n")
            hosts.chmod(0o600)
            for args, where in [([url], ""), (["--hosts", str(hosts)], ", line 2)")]:
                status, out, err = await acli("exec", *args, "-c", "show")
                assert status == 2, err
                assert out == "" and "ok" not in err, (out, err)
                said = f"the {what} of {redact_url(url)!r} holds a %-escape that is not UTF-8"
                assert said in err and where in err, err  # (a hosts file's line named)
                assert "p%" not in err and "\ufffd" not in err, err
        # (the password's UTF-8 escapes are what the device takes)
        url = f"telnet://admin:p%EF%BF%BDss@127.0.0.1:{telnet.port}"
        status, out, err = await acli("exec", url, "-c", "show")
        assert status == 0 and "--- show\nok\n" in out, (out, err)


def test_exec_hosts_file_in_utf16_or_with_a_control_character_is_named(tmp_path: Path) -> None:
    """A hosts file saved as UTF-16 was "target '\\udcff\\udcfet\\x00e...'
    holds byte 0xFF"; a NUL or a form feed in a line was refused without
    its file and line.  Each is a usage error that says where and what."""
    hosts = tmp_path / "hosts"
    for data in ["telnet://127.0.0.1:1\n".encode("utf-16"), codecs.BOM_UTF16_BE + b"\0t"]:
        hosts.write_bytes(data)
        done = _cli_bytes("exec", "--hosts", str(hosts), "-c", "true")
        assert done.returncode == 2, done
        assert f"hosts file {str(hosts)!r} is UTF-16: save it as UTF-8".encode() in done.stderr
    for line, shown in [
        (b"telnet://admin:s3cr\0t@127.0.0.1:1", "'telnet://admin:********@127.0.0.1:1'"),
        (b"telnet://127.0.0.1:1\ftelnet://127.0.0.1:2", "'telnet://127.0.0.1:1\\x0ctelnet://"),
    ]:
        hosts.write_bytes(b"# routers\n" + line + b"\n")
        hosts.chmod(0o600)
        for args, stdin, where in [
            (["--hosts", str(hosts)], None, f"hosts file {str(hosts)!r}"),
            (["--hosts", "-"], hosts.read_bytes(), "standard input"),
        ]:
            done = _cli_bytes("exec", *args, "-c", "true", stdin=stdin)
            said = done.stderr.decode()
            assert done.returncode == 2 and b"s3cr" not in done.stderr, said
            assert f"target {shown}" in said and f"({where}, line 2) holds a control" in said


def test_exec_hosts_file_errors_are_the_command_lines_with_the_line_named(tmp_path: Path) -> None:
    """A hosts line that run_many cannot plan (a scheme, a port, a path, a
    spawn: command) was refused, once all targets were gathered, without
    its file and line; and one lacking the // after its scheme showed its
    user name masked as a password (ssh:********@...), which the command
    line shows.  Each says what the command line says, then where."""
    hosts = tmp_path / "hosts"
    for target in [
        "ssh:admin:s3cret@127.0.0.1:1",
        "ftp://admin:s3cret@127.0.0.1:1",
        "ssh://admin:s3cret@127.0.0.1:99999",
        "ssh://admin:s3cret@127.0.0.1:1/path",
        "telnet://admin:s3/cret@127.0.0.1:1",
        "spawn:sh -c 'echo",
    ]:
        hosts.write_text(f"# routers\n{target}  # the lab\n")
        hosts.chmod(0o600)
        given = cli("exec", target, "-c", "true")
        said = given.stderr.splitlines()[-1]
        assert given.returncode == 2 and said.startswith("aioexpect exec: error: "), given
        for args, stdin, where in [
            (["--hosts", str(hosts)], None, f"hosts file {str(hosts)!r}"),
            (["--hosts", "-"], hosts.read_text(), "standard input"),
        ]:
            done = cli("exec", *args, "-c", "true", stdin=stdin)
            assert done.returncode == 2 and done.stdout == "", done
            assert done.stderr == f"{said} ({where}, line 2)\n"
            assert "s3" not in done.stderr, done.stderr  # (the password)


def test_exec_hosts_spawn_lines_go_to_their_program_as_bytes(tmp_path: Path) -> None:
    """``--hosts``: a ``spawn:`` line's program gets its bytes, as one
    given as an argument does.  Standard input read as strict UTF-8 refused
    a file name in Latin-1 that worked before (exit status 2)."""
    (tmp_path / os.fsdecode(b"caf\xe9")).write_text("")
    line = b"spawn:sh -c 'test -e " + bytes(tmp_path) + b"/caf\xe9 && exec sh'"
    data = codecs.BOM_UTF8 + b"# hosts\r\n\r\n" + line + b"  # a comment\r\n"
    (tmp_path / "hosts").write_bytes(data)
    for args, stdin in [(["--hosts", "-"], data), (["--hosts", str(tmp_path / "hosts")], None)]:
        done = _cli_bytes("exec", "--json", *args, "-c", "echo hi", stdin=stdin)
        assert done.returncode == 0, done
        assert [d["outputs"] for d in json.loads(done.stdout)] == [["hi\n"]]


def test_exec_hosts_spawn_lines_in_utf8_in_an_ascii_locale(tmp_path: Path) -> None:
    """``LC_ALL=C``: a ``spawn:`` line of standard input in UTF-8 was read
    as text and its program could not be given it (the host failed)."""
    env = _ascii_locale()
    (tmp_path / "caf\u00e9").write_text("")
    line = f"spawn:sh -c 'test -e {tmp_path}/caf\u00e9 && exec sh'\n".encode()
    done = _cli_bytes("exec", "--json", "--hosts", "-", "-c", "echo hi", stdin=line, env=env)
    assert done.returncode == 0, done
    assert [d["outputs"] for d in json.loads(done.stdout)] == [["hi\n"]]


async def test_exec_takes_utf8_as_text_in_an_ascii_locale() -> None:
    """``LC_ALL=C``: Python reads arguments and the environment as ASCII,
    so ``-c 'echo café'``, ``-u jörg`` and a password ``pässwörd`` were
    refused as "holds byte 0xC3, which is not UTF-8".  What is not UTF-8
    as bytes still is, its first byte that is not named (0xE9 after a
    valid é, not the 0xC3 that starts it)."""
    from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

    env = _ascii_locale()
    user, password = "j\u00f6rg", "p\u00e4ssw\u00f6rd"
    device = VirtualDevice(
        "r1", prompt="r1#", commands={r"echo (.*)": lambda _, m: m.group(1)}, login=(user, password)
    )
    async with serve_ssh(device) as ssh, serve_telnet(device) as telnet:
        status, out, err = await acli(
            "exec", _url(ssh), _url(telnet), "--known-hosts", ssh.known_hosts, "--json",
            "-u", user, "-c", "echo caf\u00e9", AIOEXPECT_PASSWORD=password, **env,
        )  # fmt: skip
    assert status == 0, err
    assert [[o.strip() for o in d["outputs"]] for d in json.loads(out)] == [["caf\u00e9"]] * 2
    done = _cli_bytes("exec", "spawn:sh", "-c", os.fsdecode(b"echo caf\xc3\xa9\xe9"), env=env)
    assert done.returncode == 2, done
    assert b"holds byte 0xE9, which is not UTF-8" in done.stderr


def test_exec_output_an_ascii_stdout_cannot_encode_is_escaped_not_lost() -> None:
    """``LC_ALL=C``: standard output takes ASCII only, and a block holding
    ``café`` failed to be written after the commands had run on every
    host (exit status 1, "cannot write the output").  Escaped, it is shown."""
    env = _ascii_locale()
    done = _cli_bytes("exec", "spawn:sh", "spawn:sh", "-c", "echo caf\u00e9", env=env)
    assert done.returncode == 0, done
    assert done.stdout.count(b"--- echo caf\\xe9\ncaf\\xe9\n") == 2, done
    assert done.stdout.count(b"=== spawn:sh  ok  (") == 2, done
    assert b"cannot write" not in done.stderr, done


def test_exec_output_keeps_the_error_handler_the_user_chose() -> None:
    """``PYTHONIOENCODING=ascii:replace``: the user's handler writes ``?``,
    and the escaping of a strict stdout (above) did not keep it."""
    env = {**_ascii_locale(), "PYTHONIOENCODING": "ascii:replace"}
    done = _cli_bytes("exec", "spawn:sh", "-c", "echo caf\u00e9", env=env)
    assert done.returncode == 0, done
    assert b"--- echo caf?\ncaf?\n" in done.stdout, done


def test_exec_in_process_names_the_byte_a_lone_surrogate_stands_for() -> None:
    """``main()`` given text in-process that holds a letter and a byte kept
    as Python keeps it (U+DCE9: byte 0xE9), in an ASCII locale: its bytes
    were taken as the surrogate's own UTF-8 encoding, and byte 0xED named."""
    program = (
        "import contextlib, io, sys\n"
        "from aioexpect import _cli\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err):\n"
        "    status = _cli.main(['exec', 'spawn:sh', '-c', 'echo \\u00e9\\udce9'])\n"
        "print(status, ascii(err.getvalue()))\n"
    )
    done = _python(program, _ascii_locale())
    assert done.stdout.startswith("2 "), done
    assert "holds byte 0xE9, which is not UTF-8" in done.stdout, done


def test_exec_hosts_from_standard_input_are_read_as_utf8_as_a_file_is() -> None:
    """``--hosts -``: bytes that are not UTF-8 were taken for a host name
    (in a UTF-8 locale, Python reads standard input with surrogateescape)
    and dialled, where a hosts file given by name is refused."""
    for data, status, said in [
        (b"spawn:sh\n\xff\xfe\n", 2, "(standard input, line 2) holds byte 0xFF"),
        ("\ufeffspawn:sh -c 'echo caf\u00e9; exec sh'\n".encode(), 0, ""),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "aioexpect", "exec", "--hosts", "-", "-c", "echo x"],
            input=data, capture_output=True, env=_env(), cwd=ROOT, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == status, done
        assert said.encode() in done.stderr
    assert "caf\u00e9" in done.stdout.decode()


def test_exec_refuses_an_empty_logdir(tmp_path: Path) -> None:
    """``--logdir "$DIR"`` with DIR unset: the transcripts went to the current directory."""
    done = subprocess.run(
        [sys.executable, "-m", "aioexpect", "exec", "spawn:sh", "-c", "true", "--logdir", ""],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done
    assert "--logdir '' names no directory" in done.stderr
    assert os.listdir(tmp_path) == []


def test_drivers_that_call_sys_exit_are_a_usage_error(tmp_path: Path) -> None:
    """A drivers file's ``sys.exit(3)`` ended the command silently with its status."""
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(3)\n")
    done = cli("exec", "spawn:sh", "-c", "true", "--drivers-from", str(tmp_path / "exits.py"))
    assert done.returncode == 2
    assert "exits.py': called sys.exit(3)" in done.stderr
    (tmp_path / "bare.py").write_text("raise SystemExit\n")
    done = cli("exec", "spawn:sh", "-c", "true", "--drivers-from", str(tmp_path / "bare.py"))
    assert done.returncode == 2  # (its message was empty: "'bare.py': SystemExit: ")
    assert "bare.py': called sys.exit(None)" in done.stderr


def test_exec_in_process_with_stdout_redirected_and_descriptor_1_closed() -> None:
    """``main()`` called with ``sys.stdout`` redirected (``redirect_stdout``)
    in a program whose descriptor 1 is closed: taken for ``>&-``, the
    output was dropped and ``sys.stdout.fileno()`` raised
    ``io.UnsupportedOperation``."""
    program = (
        "import contextlib, io, os, sys\n"
        "from aioexpect import _cli\n"
        "os.close(1)\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    status = _cli.main(['exec', 'spawn:sh', '-c', 'echo in-process'])\n"
        "print('status', status, repr(out.getvalue()), file=sys.stderr)\n"
    )
    done = _python(program, _env())
    assert done.returncode == 0, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("status 0 '=== spawn:sh  ok") and "in-process" in last, done.stderr


def test_exec_with_stdout_closed_says_it_cannot_write_the_output() -> None:
    """``aioexpect exec ... >&-``: the results went to /dev/null and the
    status was 0.  Now the hosts run all the same, as for a full disk,
    and the status is 1, with the reason after the last line."""
    done = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "aioexpect",
         "exec", "spawn:sh", "-c", "echo closed"],
        capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done
    assert done.stderr.splitlines()[-2:] == [
        "aioexpect: 1 host, 1 ok, 0 failed",
        "aioexpect: cannot write the output: standard output is closed",
    ]


def test_drivers_from_a_module_name_is_imported_from_pythonpath(tmp_path: Path) -> None:
    (tmp_path / "acme_drivers.py").write_text(ACME_DRIVER)
    (tmp_path / "broken_drivers.py").write_text("import no_such_dependency\n")
    path = os.pathsep.join([str(ROOT), str(tmp_path)])
    done = cli("exec", "spawn:sh", "-c", "true", "--drivers-from", "acme_drivers", PYTHONPATH=path)
    assert done.returncode == 0, done.stderr
    done = cli("exec", "spawn:sh", "-c", "x", "--drivers-from", "broken_drivers", PYTHONPATH=path)
    assert done.returncode == 2
    assert "No module named 'no_such_dependency'" in done.stderr
    assert "PYTHONPATH" not in done.stderr  # found: what it imports is the matter


def test_drivers_from_a_missing_submodule_of_a_package_that_is_found(tmp_path: Path) -> None:
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "broken.py").write_text("import mypkg.gone\n")
    path = os.pathsep.join([str(ROOT), str(tmp_path)])

    def error(module: str) -> str:
        done = cli("exec", "spawn:sh", "-c", "x", "--drivers-from", module, PYTHONPATH=path)
        assert done.returncode == 2
        assert done.stderr.startswith(f"aioexpect exec: error: --drivers-from {module!r}: ")
        return done.stderr

    # The package is importable: what is missing is the submodule, not a path.
    submodules = [
        ("aioexpect.nosuch", "aioexpect", "nosuch"),
        ("mypkg.nosub", "mypkg", "nosub"),
        ("mypkg.nosub.deeper", "mypkg", "nosub"),
    ]
    for module, parent, child in submodules:
        stderr = error(module)
        assert f"module {parent!r} has no submodule {child!r}" in stderr
        assert "PYTHONPATH" not in stderr
    assert str(package) in error("mypkg.nosub")  # where it was looked for
    # Found, and failing on an import of its own: its error, not "not found".
    stderr = error("mypkg.broken")
    assert "No module named 'mypkg.gone'" in stderr
    assert f"(imported by {package / 'broken.py'}, line 1)" in stderr
    assert f"(imported by {package / 'broken.py'}, line 1)" in error(str(package / "broken.py"))
    assert "has no submodule" not in stderr and "PYTHONPATH" not in stderr
    # A plain module has no submodules (Python's message says so).
    stderr = error("os.nosuch")
    assert "'os' is not a package" in stderr and "PYTHONPATH" not in stderr
    # The top-level package itself not found: that is when PYTHONPATH helps.
    assert "(put the directory holding nopkg on PYTHONPATH)" in error("nopkg.sub")


def test_exec_logdir_has_one_transcript_per_host(tmp_path: Path) -> None:
    done = cli("exec", "spawn:sh", "--logdir", str(tmp_path / "logs"), "-c", "echo logged-$((3*3))")
    assert done.returncode == 0, done.stderr
    [log] = (tmp_path / "logs").iterdir()
    assert log.name == "spawn_sh.log" and "logged-9" in log.read_text()


def test_exec_does_not_pass_its_password_variable_on_to_a_local_program(tmp_path: Path) -> None:
    """A spawn: target's program inherited $AIOEXPECT_PASSWORD: 'env' printed
    it into the output, the transcript and the -vv log.  Now the program
    gets every variable but that one."""
    secret = "env-pa55-w0rd"
    done = cli("-vv", "exec", "--logdir", str(tmp_path), "spawn:sh", "-c", "env",
               AIOEXPECT_PASSWORD=secret, AIOEXPECT_OTHER="still-there")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [log] = tmp_path.iterdir()
    assert "AIOEXPECT_OTHER=still-there" in done.stdout  # the child's environment, printed
    assert "AIOEXPECT_PASSWORD" not in done.stdout
    assert secret not in done.stdout + done.stderr + log.read_text()


def test_exec_logdir_gives_each_host_its_own_transcript_when_names_look_alike(
    tmp_path: Path,
) -> None:
    """The second ``sh``'s ``-2`` would be the name of the program ``sh-2``'s."""
    for name in ("sh", "sh-2"):
        (tmp_path / name).symlink_to("/bin/sh")
    targets = [f"spawn:{tmp_path}/sh", f"spawn:{tmp_path}/sh", f"spawn:{tmp_path}/sh-2"]
    logdir = tmp_path / "logs"
    done = cli("exec", *targets, "--logdir", str(logdir), "--json", "-c", "echo marker-$$")
    assert done.returncode == 0, done.stderr
    markers = [host["outputs"][0].strip() for host in json.loads(done.stdout)]
    logs = [(logdir / name).read_text() for name in os.listdir(logdir)]
    # each host's transcript holds its own output, alone
    assert len(set(markers)) == 3
    assert sorted(re.findall(r"marker-\d+", log) for log in logs) == sorted([m] for m in markers)


@pytest.mark.parametrize("url", ["ssh://u:hunter2@127.0.0.1:1", "u:hunter2@127.0.0.1:1"])
def test_exec_warns_about_a_password_in_a_command_line_url(url: str) -> None:
    done = cli("exec", url, "-c", "true", "--command-timeout", "5")
    assert done.returncode == 1
    assert "visible to other users" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    assert "u:********@127.0.0.1:1" in done.stdout


def test_a_hosts_file_that_is_not_text_is_named(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_bytes(b"spawn:sh\n\xff\xfe\n")
    done = cli("exec", "--hosts", str(hosts), "-c", "true")
    assert done.returncode == 2
    assert f"(hosts file {str(hosts)!r}, line 2) holds byte 0xFF" in done.stderr


async def test_exec_draws_a_progress_bar_on_a_terminal() -> None:
    async with aioexpect.spawn(
        sys.executable,
        ["-m", "aioexpect", "exec", "spawn:sh", "spawn:sh", "-c", "echo bar-done"],
        env=_env(),
        cwd=ROOT,
        timeout=60,
    ) as session:
        m = await session.expect(r"\] (\d)/2  ok \d  failed 0")
        assert m.group(1) in "012"
        rest = await session.read_all()
        assert "\r\x1b[K" in m.before + m.after + rest  # the bar is erased before output
        assert rest.count("bar-done") >= 2 and "2 ok, 0 failed" in rest
        assert await session.wait() == 0


def _stderr_on_a_terminal(
    args: list[str],
    stdout: Any,
    columns: int = 0,
    env: dict[str, str] | None = None,
    python: tuple[str, ...] = ("-m", "aioexpect"),
) -> tuple[int, str]:
    """The CLI (or what ``python`` runs) with its stderr on a pty ``columns``
    wide (0: size never set) and ``stdout`` as given: its exit status and
    what it wrote on the terminal."""
    master, slave = os.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    try:
        proc = subprocess.Popen(
            [sys.executable, *python, *args],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=slave, env=env or _env(), cwd=ROOT,
        )  # fmt: skip
    finally:
        os.close(slave)
    shown = b""
    try:
        while select.select([master], [], [], 60)[0]:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the CLI has closed the terminal
                break
            if not data:
                break
            shown += data
        return proc.wait(timeout=60), shown.decode()
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_exec_in_process_gives_the_log_handlers_their_emit_back(tmp_path: Path) -> None:
    """``main()`` called twice in-process with ``-v`` and the bar on a
    terminal: during each run the handlers writing where the bar is (the
    root's, ``logging.lastResort``) write under it; after it, each has the
    class's ``emit`` again, not one wrapped in another run after run."""
    program = (
        "import logging, sys\n"
        "from aioexpect import _cli\n"
        "args = ['-v', 'exec', 'spawn:sh', '-c', 'echo twice']\n"
        "statuses = [_cli.main(args), _cli.main(args)]\n"
        "handlers = [*logging.getLogger().handlers, logging.lastResort]\n"
        "print('statuses', statuses, 'handlers', len(handlers), 'wrapped',\n"
        "      [type(h).__name__ for h in handlers if 'emit' in vars(h)])\n"
    )
    with open(tmp_path / "out", "w") as out:
        status, shown = _stderr_on_a_terminal([], out, python=("-c", program))
    text = (tmp_path / "out").read_text()
    assert status == 0, (shown, text)
    assert "] 1/1  ok 1  failed 0" in shown and "aioexpect" in shown  # the bar, a log line
    assert text.count("twice") >= 2, text
    assert text.splitlines()[-1] == "statuses [0, 0] handlers 2 wrapped []", (shown, text)


def test_exec_in_process_with_a_full_stdout_says_so() -> None:
    """``main()`` with ``sys.stdout`` redirected in-process to a stream whose
    write fails (a full disk): the status is 1 and the reason is said.
    Letting nothing more be written to descriptor 1 raised
    ``io.UnsupportedOperation`` (such a stream has no descriptor)."""
    program = (
        "import contextlib, errno, io, sys\n"
        "from aioexpect import _cli\n"
        "class Full(io.TextIOBase):\n"
        "    def writable(self): return True\n"
        "    def write(self, text): raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "with contextlib.redirect_stdout(Full()):\n"
        "    status = _cli.main(['exec', 'spawn:sh', '-c', 'echo full'])\n"
        "print('status', status, file=sys.stderr)\n"
    )
    done = _python(program, _env())
    assert done.returncode == 0, done.stderr
    assert "aioexpect: cannot write the output: No space left on device" in done.stderr
    assert done.stderr.splitlines()[-1] == "status 1", done.stderr


def test_exec_draws_the_progress_bar_on_stderr_with_stdout_in_a_file(tmp_path: Path) -> None:
    args = ["exec", "--json", "spawn:sh", "spawn:sh", "-c", "echo bar-done"]
    with open(tmp_path / "out.json", "w") as out:
        status, shown = _stderr_on_a_terminal(args, out)
    assert status == 0, shown
    assert "] 2/2  ok 2  failed 0" in shown and "\r\x1b[K" in shown
    assert "2 hosts, 2 ok, 0 failed" in shown
    text = (tmp_path / "out.json").read_text()
    assert [d["outputs"] for d in json.loads(text)] == [["bar-done\n"]] * 2
    assert "\x1b" not in text and "\r" not in text  # nothing of the bar in the JSON


@pytest.mark.parametrize("mode", ["--json", "-v"])
def test_exec_goes_on_when_the_terminal_of_its_stderr_goes_away(tmp_path: Path, mode: str) -> None:
    """A terminal window closed on a disowned job, with the results going to
    a file: the progress bar that can no longer be drawn stops, and the run
    goes on; every host's result is on stdout, the status is the hosts'.
    (-v: each log line fails too.)  Standard error is buffered, as outside
    the tests: Python flushes it again at exit, and exits 120 if that fails."""
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    gate = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # (Linux: opening read-write never blocks)
    later = f"spawn:sh -c 'read go < {fifo}; exec sh'"  # starts once the terminal is gone
    env = {k: v for k, v in _env().items() if k != "PYTHONUNBUFFERED"}
    args = ["exec", "spawn:sh", later, later, "--concurrency", "1", "-c", "echo done-$$"]
    args = [*args, "--json"] if mode == "--json" else ["-v", *args]
    master, slave = os.openpty()
    with open(tmp_path / "out", "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aioexpect", *args], stdin=subprocess.DEVNULL, stdout=out,
            stderr=slave, env=env, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    os.close(slave)
    try:
        shown = b""
        while b"1/3" not in shown and select.select([master], [], [], 60)[0]:
            try:
                shown += os.read(master, 4096)  # until the first host is counted
            except OSError:  # EIO: the CLI has ended
                break
        assert b"1/3" in shown, (shown, proc.wait(timeout=60), (tmp_path / "out").read_text())
        os.close(master)
        master = -1
        os.write(gate, b"go\ngo\n")  # (sh reads a pipe a byte at a time: a line each)
        status = proc.wait(timeout=60)
    finally:
        os.close(gate)
        if master != -1:
            os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = (tmp_path / "out").read_text()
    if mode == "--json":
        assert [host["ok"] for host in json.loads(text)] == [True] * 3, text
    else:
        assert text.count("  ok  (") == 3, text
    assert len(set(re.findall(r"done-\d+", text))) == 3, text
    assert status == 0, text


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_exec_results_and_status_do_not_depend_on_stderr() -> None:
    """Every write to stderr failing (ENOSPC): its warning, log lines and
    last line are lost, and that is all."""
    env = {k: v for k, v in _env().items() if k != "PYTHONUNBUFFERED"}  # (as above)
    args = ["-v", "exec", "spawn:sh", "spawn:sh -c 'exit 3'", "--json", "-c", "echo fine"]
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "aioexpect", *args, "--insecure-no-host-key-check"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=full, text=True,
            env=env, cwd=ROOT, timeout=60, check=False,
        )  # fmt: skip
    hosts = json.loads(done.stdout)
    assert [(h["ok"], h["outputs"]) for h in hosts] == [(True, ["fine\n"]), (False, [])]
    assert done.returncode == 1  # a host failed


def test_exec_progress_bar_fits_columns_or_the_terminal(tmp_path: Path) -> None:
    """$COLUMNS first (as shutil has it), then the width of the bar's terminal."""
    no_columns = {k: v for k, v in _env().items() if k != "COLUMNS"}
    for columns, terminal, width in [("55", 120, 15), ("", 120, 40), ("", 48, 10)]:
        env = {**no_columns, "COLUMNS": columns} if columns else no_columns
        with open(tmp_path / "out", "w") as out:
            status, shown = _stderr_on_a_terminal(
                ["exec", "spawn:sh", "-c", "true"], out, terminal, env
            )
        assert status == 0, shown
        assert f"[{'#' * width}] 1/1  ok 1" in shown, (columns, terminal, shown)


@pytest.mark.parametrize("columns", [120, 80, 45, 41, 40, 35, 30, 20, 12, 9, 4, 1])
@pytest.mark.parametrize(("total", "ok", "failed"), [(3, 0, 0), (1000, 999, 1), (1000, 0, 1000)])
def test_the_progress_bar_fits_a_narrow_columns(
    columns: int, total: int, ok: int, failed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line wider than the terminal wraps, and ``\\r\\x1b[K`` then clears only
    its last row: the bar shrinks, then the counts, then nothing is drawn."""
    monkeypatch.setenv("COLUMNS", str(columns))
    out = io.StringIO()
    progress = Progress(total, out)
    progress.ok, progress.failed = ok, failed
    progress.draw()
    drawn = out.getvalue().split("\r\x1b[K")
    assert drawn[0] == "" and len(drawn) == 3
    line = drawn[-1]
    assert len(line) < columns, line  # (the last column free: some terminals wrap there)
    counts = f"{ok + failed}/{total}  ok {ok}  failed {failed}"
    if columns >= 40:
        assert line.startswith("[") and line.endswith(f"] {counts}")
    elif line:
        assert f"{ok + failed}/{total}" in line


def test_exec_log_lines_do_not_start_on_the_progress_bar(tmp_path: Path) -> None:
    """-v on a terminal: a log line was written after the bar, on its line
    (``[....] 0/2  ok 0  failed 0aioexpect.many: INFO: ...``), and stayed so."""
    args = ["-v", "exec", "--json", "spawn:no/such/program", "spawn:sh", "-c", "true"]
    with open(tmp_path / "out.json", "w") as out:
        status, shown = _stderr_on_a_terminal(args, out)
    assert status == 1, shown
    lines = shown.split("aioexpect.many: INFO: ")
    assert len(lines) >= 2 and "] 0/2  ok 0  failed 0" in lines[0], shown
    for before in lines[:-1]:  # what the terminal shows before each: nothing on its line
        assert before.rsplit("\n", 1)[-1].rsplit("\r\x1b[K", 1)[-1] == "", shown
    assert "] 2/2  ok 1  failed 1" in shown


def test_exec_draws_the_progress_bar_again_after_each_log_line(tmp_path: Path) -> None:
    """-vv on a terminal: the bar erased before a log line came back only
    when the next host was done; for most of a run, none was seen."""
    args = ["-vv", "exec", "--json", "spawn:sh", "-c", "echo one", "-c", "echo two"]
    with open(tmp_path / "out.json", "w") as out:
        status, shown = _stderr_on_a_terminal(args, out)
    assert status == 0, shown
    between = re.split(r"aioexpect\.\w+: DEBUG: [^\r\n]*\r?\n", shown)
    assert len(between) >= 4, shown  # records sent, received: a few
    for after in between[1:-1]:  # what the terminal shows after each record but the last
        assert re.search(r"\] [01]/1  ok \d  failed 0", after), shown


def test_exec_draws_no_progress_bar_with_stdout_into_a_pipe() -> None:
    """A pipe's reader (grep, less) may print on the same terminal: no bar in its lines."""
    args = ["exec", "spawn:sh", "-c", "echo piped"]
    read_end, write_end = os.pipe()
    with open(read_end) as piped:
        try:
            status, shown = _stderr_on_a_terminal(args, write_end)
        finally:
            os.close(write_end)
        assert "piped" in piped.read()
    assert status == 0, shown
    assert "\x1b" not in shown and "1 host, 1 ok, 0 failed" in shown


def test_console_and_run_explain_when_the_console_module_is_broken(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = _cli.importlib.import_module

    def broken(name: str, package: str | None = None) -> Any:
        if name == "aioexpect._console_cli":
            raise ImportError("simulated breakage")
        return real(name, package)

    monkeypatch.setattr(_cli.importlib, "import_module", broken)
    for command in ("console", "run"):
        assert _cli.main([command, "--serve", "x"]) == 2
        err = capsys.readouterr().err
        assert f"aioexpect {command}: not available" in err and "simulated breakage" in err


# -- exec against emulated devices served by this process ---------------------------------

USER, PASSWORD = "netops", "pa55-w0rd-x"


@contextlib.asynccontextmanager
async def devices(*kinds: str) -> AsyncIterator[list[Any]]:
    """One emulated router per kind ("ssh" or "telnet") on 127.0.0.1."""
    from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

    async with contextlib.AsyncExitStack() as stack:
        servers = []
        for i, kind in enumerate(kinds):
            device = VirtualDevice(
                f"r{i}",
                prompt=f"r{i}#",
                commands={r"show version": f"r{i} version 1.0", r"show secret": "secret 42"},
                login=(USER, PASSWORD),
            )
            serve = serve_ssh if kind == "ssh" else serve_telnet
            servers.append(await stack.enter_async_context(serve(device)))
        yield servers


def _url(server: Any) -> str:
    return f"{server.kind}://127.0.0.1:{server.port}"


async def test_exec_with_user_and_password_from_the_environment(tmp_path: Path) -> None:
    logdir = tmp_path / "logs"
    async with devices("ssh", "telnet") as (ssh, telnet):
        status, out, err = await acli(
            "exec", _url(ssh), _url(telnet), "--user", USER, "--known-hosts", ssh.known_hosts,
            "--logdir", str(logdir), "--json", "-c", "show version", "-c", "show secret",
            AIOEXPECT_PASSWORD=PASSWORD,
        )  # fmt: skip
    assert status == 0, err
    data = json.loads(out)
    assert [d["host"] for d in data] == [_url(ssh), _url(telnet)]
    assert all(d["ok"] and d["error"] is None for d in data)
    assert [[o.strip() for o in d["outputs"]] for d in data] == [
        ["r0 version 1.0", "secret 42"],
        ["r1 version 1.0", "secret 42"],
    ]
    logs = sorted(os.listdir(logdir))
    assert logs == sorted([f"127.0.0.1_{ssh.port}.log", f"127.0.0.1_{telnet.port}.log"])
    for name in logs:
        text = (logdir / name).read_text()
        assert "secret 42" in text and PASSWORD not in text
    assert PASSWORD not in out + err


async def test_exec_failed_hosts_exit_1_and_passwords_stay_hidden(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    async with devices("ssh", "telnet", "ssh") as (ssh0, telnet1, ssh2):
        hosts.write_text(
            f"ssh://{USER}:{PASSWORD}@127.0.0.1:{ssh0.port}\n"
            f"telnet://{USER}:wr0ng-pw@127.0.0.1:{telnet1.port}  # wrong password\n"
            f"ssh://{USER}:{PASSWORD}@127.0.0.1:{ssh2.port}   # key not in known_hosts\n"
        )
        hosts.chmod(0o600)
        status, out, err = await acli(
            "exec", "--hosts", str(hosts), "--known-hosts", ssh0.known_hosts, "-c", "show version"
        )
    assert status == 1
    assert "r0 version 1.0" in out
    assert "AuthenticationError" in out and "HostKeyError" in out
    assert out.count("FAILED") == 2 and "3 hosts, 1 ok, 2 failed" in err
    assert PASSWORD not in out + err and "wr0ng-pw" not in out + err
    assert f"{USER}:********@127.0.0.1:{ssh0.port}" in out
    assert "warning" not in err  # the file is private


async def test_exec_key_and_known_hosts_files_starting_with_a_tilde(tmp_path: Path) -> None:
    """'--known-hosts=~/kh' and '--key=~/id' (no shell expands a '~' after
    '=') were refused as "no such file": the check looked for a file named
    '~/kh', where ssh and the connection itself read $HOME/kh."""
    import asyncssh

    asyncssh.generate_private_key("ssh-ed25519").write_private_key(tmp_path / "id")
    async with devices("ssh") as [server]:
        (tmp_path / "kh").write_text(f"{server.known_hosts_entry}\n")
        status, out, err = await acli(
            "exec", _url(server), "--user", USER, "--known-hosts=~/kh", "--key=~/id",
            "-c", "show version", AIOEXPECT_PASSWORD=PASSWORD, HOME=str(tmp_path),
        )  # fmt: skip
    assert status == 0, err
    assert "r0 version 1.0" in out
    done = cli("exec", "h", "-c", "x", "--known-hosts=~/nokh", HOME=str(tmp_path))
    assert done.returncode == 2 and "--known-hosts '~/nokh': no such file" in done.stderr


@pytest.mark.parametrize("form", ["openssh", "pkcs1-pem", "pkcs8-pem"])
async def test_exec_an_encrypted_key_is_one_usage_error_saying_to_use_the_agent(
    tmp_path: Path, form: str
) -> None:
    """exec takes no passphrase: an encrypted --key failed every SSH host
    alike, after the run began (status 1), with asyncssh's "Passphrase must
    be specified to import encrypted private keys".  Now one usage error,
    before any host is contacted, saying what to do."""
    import asyncssh

    from tests.helpers import silent_server

    key = asyncssh.generate_private_key(
        "ssh-ed25519" if form == "openssh" else "ecdsa-sha2-nistp256"
    )
    (tmp_path / "id_enc").write_bytes(key.export_private_key(form, passphrase="open sesame"))
    async with silent_server() as (port, accepted):
        status, out, err = await acli(
            "exec", f"ssh://{USER}@127.0.0.1:{port}", f"ssh://{USER}@127.0.0.1:{port}",
            "--insecure-no-host-key-check", "--key=~/id_enc", "-c", "show version",
            HOME=str(tmp_path),
        )  # fmt: skip
        assert not accepted.is_set()
    assert status == 2, out + err
    assert out == ""
    assert err.count("\n") == 1, err
    assert "--key '~/id_enc' is encrypted, and exec takes no passphrase" in err
    assert f"`ssh-add {tmp_path / 'id_enc'}`" in err and "leave --key out" in err


async def test_exec_an_encrypted_key_no_ssh_target_uses_is_not_refused(tmp_path: Path) -> None:
    """spawn: and telnet targets take no key: with an encrypted --key they
    ran (status 0), as they did before the check, which refused them all
    (status 2) and loaded asyncssh for them."""
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "id_enc").write_bytes(key.export_private_key("openssh", passphrase="pp"))
    done = cli("exec", "spawn:sh", "--key", str(tmp_path / "id_enc"), "-c", "echo hi")
    assert done.returncode == 0, done.stderr
    assert "hi" in done.stdout
    async with devices("telnet") as [server]:
        status, out, err = await acli(
            "exec", _url(server), "--user", USER, "--key", str(tmp_path / "id_enc"),
            "-c", "show version", AIOEXPECT_PASSWORD=PASSWORD,
        )  # fmt: skip
    assert status == 0, out + err
    assert "r0 version 1.0" in out


async def test_exec_a_key_given_through_a_pipe_is_read_by_the_connection_alone() -> None:
    """``--key <(pass show lab-key)``: the check for an encrypted key read
    the pipe first, and the SSH connection then found it empty ("Invalid
    private key", the host FAILED), where it logged in before the check."""
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh")
    read_end, write_end = os.pipe()
    os.write(write_end, key)  # (a small key: the pipe's buffer holds it)
    os.close(write_end)
    try:
        async with devices("ssh") as [server]:
            status, out, err = await acli(
                "exec", _url(server), "--user", USER, "--known-hosts", server.known_hosts,
                f"--key=/dev/fd/{read_end}", "-c", "show version",
                pass_fds=(read_end,), AIOEXPECT_PASSWORD=PASSWORD,
            )  # fmt: skip
    finally:
        os.close(read_end)
    assert status == 0, out + err
    assert "r0 version 1.0" in out


@pytest.fixture
def agent_with_encrypted_key(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A real ssh-agent to which ``ssh-add`` gave an encrypted key, as
    cli.rst says (the passphrase through SSH_ASKPASS); yields its socket
    and the key."""
    import asyncssh

    from tests.conftest import need

    agent, add = (need(p, "Debian openssh-client") for p in ("ssh-agent", "ssh-add"))
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file, askpass, sock = tmp_path / "id_enc", tmp_path / "askpass", tmp_path / "agent.sock"
    key_file.write_bytes(key.export_private_key("openssh", passphrase="open sesame"))
    key_file.chmod(0o600)
    askpass.write_text("#!/bin/sh\necho 'open sesame'\n")
    askpass.chmod(0o700)
    proc = subprocess.Popen([agent, "-D", "-a", str(sock)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # printed once the socket is bound
        asks = {"SSH_AUTH_SOCK": str(sock), "SSH_ASKPASS": str(askpass)}
        subprocess.run(
            [add, str(key_file)], env=_env(**asks, SSH_ASKPASS_REQUIRE="force"),
            stdin=subprocess.DEVNULL, capture_output=True, check=True, timeout=30,
        )  # fmt: skip
        yield str(sock), key
    finally:
        proc.terminate()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


async def test_exec_offers_the_agents_keys_so_an_encrypted_key_works_through_it(
    tmp_path: Path, agent_with_encrypted_key: tuple[str, Any]
) -> None:
    """The way cli.rst gives for an encrypted key: ssh-add it and run exec
    without --key (a server that takes that key only)."""
    import asyncssh

    sock, key = agent_with_encrypted_key

    class KeyOnly(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def public_key_auth_supported(self) -> bool:
            return True

        def validate_public_key(self, username: str, offered: asyncssh.SSHKey) -> bool:
            return bool(offered.public_data == key.public_data)

    async def shell(process: asyncssh.SSHServerProcess[str]) -> None:
        with contextlib.suppress(asyncssh.Error, ConnectionError):
            process.stdout.write("r0#")
            while line := await process.stdin.readline():
                answer = "r0 version 1.0\r\n" if line.strip() == "show version" else ""
                process.stdout.write(answer + "r0#")
        process.exit(0)

    server = await asyncssh.create_server(
        KeyOnly, "127.0.0.1", 0, process_factory=shell,
        server_host_keys=[asyncssh.generate_private_key("ssh-ed25519")],
    )  # fmt: skip
    try:
        url = f"ssh://{USER}@127.0.0.1:{server.get_port()}"
        args = ("exec", url, "--insecure-no-host-key-check", "-c", "show version")
        status, out, err = await acli(*args, HOME=str(tmp_path), SSH_AUTH_SOCK=sock)
        assert status == 0, out + err
        assert "r0 version 1.0" in out
        status, out, err = await acli(*args, HOME=str(tmp_path), SSH_AUTH_SOCK="")  # no agent
        assert status == 1 and "AuthenticationError" in out, out + err
    finally:
        server.close()
        await server.wait_closed()


async def test_exec_login_question_hint_fits_the_transport(tmp_path: Path) -> None:
    from tests.helpers import serve_ssh_asking

    # Over SSH the user and $AIOEXPECT_PASSWORD served the SSH login, and the
    # device asks again after it; the telnet target names no user.
    async with serve_ssh_asking(USER, PASSWORD) as port, devices("telnet") as [telnet]:
        status, out, err = await acli(
            "exec", f"ssh://{USER}@127.0.0.1:{port}", _url(telnet),
            "--insecure-no-host-key-check", "-c", "show version",
            AIOEXPECT_PASSWORD=PASSWORD, HOME=str(tmp_path),
        )  # fmt: skip
    assert status == 1, err
    errors = [line for line in out.splitlines() if line.startswith("!!! ")]
    assert len(errors) == 2, out
    ssh_error, telnet_error = sorted(errors, key=lambda line: str(port) not in line)
    for line in errors:
        assert "AuthenticationError" in line and "asks 'Username:'" in line
    assert "serve the SSH login, and this question came after it" in ssh_error
    assert "no credentials" not in ssh_error and "--user" in ssh_error
    assert "this telnet target has no credentials" in telnet_error and "--user" in telnet_error
    assert PASSWORD not in out + err


async def test_exec_insecure_flag_warns_once(tmp_path: Path) -> None:
    async with devices("ssh", "ssh") as servers:
        status, out, err = await acli(
            "exec", *map(_url, servers), "--user", USER, "--insecure-no-host-key-check",
            "-c", "show version", AIOEXPECT_PASSWORD=PASSWORD, HOME=str(tmp_path),
        )  # fmt: skip
    assert status == 0, err
    assert err.count("not checked") == 1 and "OFF" not in err
    assert "r0 version 1.0" in out and "r1 version 1.0" in out


async def test_exec_checks_host_keys_by_default(tmp_path: Path) -> None:
    async with devices("ssh") as [server]:
        status, out, err = await acli(
            "exec", _url(server), "--user", USER, "-c", "show version",
            AIOEXPECT_PASSWORD=PASSWORD, HOME=str(tmp_path),
        )  # fmt: skip
    assert status == 1
    assert "HostKeyError" in out and PASSWORD not in out + err


ACME_DRIVER = """
from aioexpect import drivers
drivers.register(drivers.Driver(
    "acme",
    prompt_patterns=[drivers.prompt_pattern(r"acme-\\w+>")],
    error_patterns=[r"^ERROR: .*$"],
    guess_patterns=[r"ACME OS \\d"],
))
"""


@pytest.mark.parametrize("driver", ["acme", "auto"])
async def test_exec_uses_your_own_driver_from_a_file(tmp_path: Path, driver: str) -> None:
    from aioexpect.testing import VirtualDevice, serve_telnet

    (tmp_path / "acme_driver.py").write_text(ACME_DRIVER)
    device = VirtualDevice(
        "acme-1",
        prompt="{hostname}>",
        banner="ACME OS 7.1",
        commands={"show x": "x is fine", "bad": "ERROR: no such thing"},
    )
    async with serve_telnet(device) as server:
        status, out, err = await acli(
            "exec", _url(server), "--drivers-from", str(tmp_path / "acme_driver.py"),
            "--driver", driver, "--json", "-c", "show x", "-c", "bad",
        )  # fmt: skip
    assert status == 1, err
    [result] = json.loads(out)
    assert result["outputs"][0] == "x is fine\n"
    assert "ERROR: no such thing" in result["error"]


#: The CLI with tracemalloc on from after its imports; its peak (bytes) is
#: the last line on stderr.
TRACED_CLI = """
import sys, tracemalloc
from aioexpect import _cli
tracemalloc.start()
status = _cli.main(sys.argv[1:])
print(tracemalloc.get_traced_memory()[1], file=sys.stderr)
sys.exit(status)
"""


@pytest.mark.loop("asyncio")  # (the CLI's loop is its own)
@pytest.mark.parametrize("commands", [["show big"], ["show big", "show bad"]], ids=["ok", "failed"])
async def test_exec_text_output_lets_go_of_each_block_printed(
    tmp_path: Path, commands: list[str]
) -> None:
    """Each host's outputs were kept until the end (in the job's outputs, the
    job's return value in run_many's results, the printer's finished list),
    even in text once its block was printed: the peak grew by one host's
    output per host (600 hosts of 140 KB: 122 MB); a failed host's error
    kept its closed session and its output too.  Now a block printed is let
    go of: the peak for 4 times as many hosts is about the same."""
    from aioexpect.testing import VirtualDevice, serve_telnet

    big = "\n".join(f"line {i} " + "y" * 60 for i in range(2000))  # 140 KB
    device = VirtualDevice("r1", commands={"show big": big, "show bad": big + "\n% Error"})
    args = [arg for command in commands for arg in ("-c", command)]
    peaks = {}
    async with serve_telnet(device) as server:
        for n in (20, 80):
            hosts = tmp_path / "hosts"
            hosts.write_text(f"{_url(server)}\n" * n)
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", TRACED_CLI, "exec", "--hosts", str(hosts),
                "--concurrency", "2", *args,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                stdin=asyncio.subprocess.DEVNULL, env=_env(), cwd=ROOT,
            )  # fmt: skip
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == len(commands) - 1, err
            assert out.decode().count(f"=== {_url(server)}  ") == n
            assert out.decode().count("\nline 1999 " + "y" * 60 + "\n") == n * len(commands)
            peaks[n] = int(err.decode().splitlines()[-1])
    # Kept, the 60 more hosts' outputs would add at least 60 * len(big) * len(commands).
    assert peaks[80] < peaks[20] + 20 * len(big), peaks


@pytest.mark.loop("asyncio")  # (the CLI's loop is its own)
async def test_exec_stops_once_the_reader_of_its_output_has_gone() -> None:
    """`aioexpect exec ... | head -1`: the CLI went on to run every host
    after head had exited (200 hosts: 10 s), then said "200 hosts, 200 ok,
    0 failed" and exited 1.  Now the first block it cannot write stops the
    run (the hosts still running are cancelled, their sessions closed),
    nothing is said, and the status is 141, as a shell gives a command that
    SIGPIPE ended."""
    from aioexpect.testing import VirtualDevice, serve_telnet

    # Blocks print in the order of the hosts: the first host is the quick
    # one, on a server of its own (one device for all let the second host's
    # command be answered first on a loaded machine, and the first wait at
    # the gate until its 30 s time-out).
    gate, ran = asyncio.Event(), []

    async def quick(command: str, match: re.Match[str]) -> str:
        return "quick done"

    async def slow(command: str, match: re.Match[str]) -> str:
        ran.append(command)
        await gate.wait()  # the first host's block is out meanwhile
        return "slow done"

    loop = asyncio.get_running_loop()
    read_end, write_end = os.pipe()
    async with (
        serve_telnet(VirtualDevice("r1", commands={"slow": quick})) as first_server,
        serve_telnet(VirtualDevice("r2", commands={"slow": slow})) as server,
    ):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "aioexpect", "exec", _url(first_server), *[_url(server)] * 39,
            "-c", "slow", "--concurrency", "2",
            stdout=write_end, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL, env=_env(), cwd=ROOT,
        )  # fmt: skip
        os.close(write_end)
        try:
            with open(read_end, "rb") as piped:  # (closed by the transport)
                reader = asyncio.StreamReader()
                pipe, _ = await loop.connect_read_pipe(
                    lambda: asyncio.StreamReaderProtocol(reader), piped
                )
                first = await asyncio.wait_for(reader.readline(), 60)
                pipe.close()  # head -1 exits
            gate.set()
            assert proc.stderr is not None
            err = await asyncio.wait_for(proc.stderr.read(), 60)
            status = await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert first.startswith(f"=== {_url(first_server)}  ok".encode()), first
    assert len(ran) < 10, (len(ran), err)  # of 39
    assert status == 141, err
    assert err == b"", err
