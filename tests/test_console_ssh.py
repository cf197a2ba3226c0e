"""The console served over SSH, driven by the OpenSSH client in a pty (itself
driven by aioexpect): public-key authentication, line editing, attach,
per-client exit, max_clients, login_timeout and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import _console_output, start_console_server
from tests.conftest import need
from tests.helpers import has_ipv6_loopback, localhost_on_both, opened, resize_seen, wait_until
from tests.test_console import PROGRAM, command
from tests.test_console_flood import EXPECTED, flooding, read_to, until_held_back
from tests.test_console_tcp import BURST, BURSTS, NOTE, PRINTS, WIDTH, flood

LIMIT = 10.0
#: The longest line a console takes, in bytes (docs/console.rst), as over TCP.
LINE_LIMIT = 64 * 1024


@dataclass
class Keys:
    dir: Path
    host_key: Path
    host_public: str
    client_key: Path
    stranger_key: Path
    authorized: Path

    def known_hosts(self, port: int) -> Path:
        path = self.dir / f"known_hosts_{port}"
        path.write_text(f"[127.0.0.1]:{port} {self.host_public}")
        return path


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    def private(name: str) -> tuple[Path, asyncssh.SSHKey]:
        key = asyncssh.generate_private_key("ssh-ed25519")
        path = tmp_path / name
        key.write_private_key(str(path))
        os.chmod(path, 0o600)
        return path, key

    host_path, host = private("host_key")
    client_path, client = private("client_key")
    stranger_path, _ = private("stranger_key")
    authorized = tmp_path / "authorized_keys"
    authorized.write_bytes(client.export_public_key())
    return Keys(
        tmp_path,
        host_path,
        host.export_public_key().decode(),
        client_path,
        stranger_path,
        authorized,
    )


@asynccontextmanager
async def ssh_console(keys: Keys, **options: Any) -> AsyncIterator[Any]:
    async with await start_console_server(
        ssh_host_keys=[str(keys.host_key)], authorized_client_keys=str(keys.authorized), **options
    ) as server:
        yield server


def ssh_args(keys: Keys, port: int, *, key: Path | None = None) -> list[str]:
    return [
        "-F",
        "/dev/null",
        "-tt",
        "-p",
        str(port),
        "-i",
        str(key or keys.client_key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"UserKnownHostsFile={keys.known_hosts(port)}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        "console@127.0.0.1",
    ]


def ssh_client(keys: Keys, port: int, *, key: Path | None = None) -> Any:
    ssh = need("ssh", "Debian openssh-client")
    return aioexpect.spawn(ssh, ssh_args(keys, port, key=key), timeout=LIMIT)


async def evaluate(s: aioexpect.Session, line: str) -> str:
    await s.sendline(line)
    out = (await s.expect_exact(">>> ")).before
    return str(out).split("\r\n", 1)[1]  # drop the echoed line


async def start_sleeping(s: aioexpect.Session, box: list[str]) -> None:
    """Start a statement that appends 'started' to box, then sleeps for a minute."""
    await s.expect_exact(">>> ")
    await s.sendline("box.append('started'); await asyncio.sleep(60); box.append('slept')")
    await wait_until(lambda: box == ["started"], "the statement runs")


async def test_openssh_client_gets_a_line_edited_console(keys: Keys) -> None:
    async with ssh_console(keys) as server, ssh_client(keys, server.port) as s:
        await s.expect_exact("top-level await")
        await s.expect_exact(">>> ")
        await s.send("6 * 8\x7f7\r")  # backspace, edited by asyncssh's line editor
        assert (await s.expect_exact(">>> ")).before.endswith("\r\n42\r\n")
        await s.send("\x10\r")  # Ctrl-P: the line history
        assert (await s.expect_exact(">>> ")).before.endswith("\r\n42\r\n")
        assert await evaluate(s, "await asyncio.sleep(0, result='awaited')") == "'awaited'\r\n"
        assert await evaluate(s, "type(sessions()).__name__") == "'SessionList'\r\n"
        await s.sendline("exit(3)")
        await s.expect(aioexpect.EOF)
        assert await s.wait() == 3


async def test_a_key_not_authorized_is_refused(keys: Keys) -> None:
    async with (
        ssh_console(keys) as server,
        ssh_client(keys, server.port, key=keys.stranger_key) as s,
    ):
        await s.expect("Permission denied")
        await s.expect(aioexpect.EOF)
        assert await s.wait() == 255


async def test_ctrl_c_at_the_prompt_and_ctrl_d_end_one_client_only(keys: Keys) -> None:
    async with (
        ssh_console(keys, locals={"shared": [1, 2]}) as server,
        ssh_client(keys, server.port) as a,
        ssh_client(keys, server.port) as b,
    ):
        await a.expect_exact(">>> ")
        await b.expect_exact(">>> ")
        await evaluate(a, "mine = 'a'")
        await a.send("half a line\x03")
        await a.expect_exact("KeyboardInterrupt")
        await a.expect_exact(">>> ")
        assert "NameError" in await evaluate(b, "mine")
        assert await evaluate(b, "shared") == "[1, 2]\r\n"
        await a.sendcontrol("d")
        await a.expect(aioexpect.EOF)
        assert await a.wait() == 0
        assert await evaluate(b, "'b goes on'") == "'b goes on'\r\n"
        await b.sendline("quit()")
        await b.expect(aioexpect.EOF)
        assert await b.wait() == 0


async def test_ctrl_c_interrupts_a_running_statement(keys: Keys) -> None:
    box: list[str] = []
    async with ssh_console(keys, locals={"box": box}) as server, ssh_client(keys, server.port) as s:
        await start_sleeping(s, box)
        await s.sendcontrol("c")
        await s.expect_exact("KeyboardInterrupt")
        await s.expect_exact(">>> ")
        assert box == ["started"]
        assert await evaluate(s, "'still served'") == "'still served'\r\n"


async def test_ctrl_c_drops_what_was_typed_ahead_of_the_statement_it_interrupts(
    keys: Keys,
) -> None:
    # The lines typed ahead ran after the KeyboardInterrupt, where python3 -i
    # in a pty runs none of them (a terminal's Ctrl-C flushes its input).
    box: list[str] = []
    async with ssh_console(keys, locals={"box": box}) as server, ssh_client(keys, server.port) as s:
        await start_sleeping(s, box)
        await s.sendline("box.append('typed ahead')")
        await s.expect_exact("box.append('typed ahead')\r\n")  # the line editor has it
        await s.send("box.append('half a line')")
        await s.expect_exact("box.append('half a line')")
        await s.sendcontrol("c")
        await s.expect_exact("KeyboardInterrupt")
        await s.send("\r")  # the line being typed, if it were left, would run now
        await s.sendline("print('E' + 'ND', box)")
        assert (await s.expect(r"END (.*)\r\n")).group(1) == "['started']"


async def test_without_a_terminal_lines_sent_ahead_of_an_interrupt_run(keys: Keys) -> None:
    # As for python3 -i < script: a pipe keeps what follows, a terminal's
    # flush has no part in it.
    box: list[str] = []
    async with (
        ssh_console(keys, locals={"box": box}) as server,
        console_connection(keys, server.port) as conn,
    ):
        process = await conn.create_process()  # no term_type: no terminal
        try:
            process.stdin.write("box.append('started'); await asyncio.sleep(60)\n")
            await wait_until(lambda: box == ["started"], "the statement runs")
            process.stdin.write("box.append('sent ahead')\n")
            process.send_signal("INT")
            await wait_until(lambda: box == ["started", "sent ahead"], "the next line runs")
        finally:
            process.close()


async def test_lines_typed_while_a_statement_runs_wait_in_order(keys: Keys) -> None:
    gate = asyncio.Event()
    async with (
        ssh_console(keys, locals={"gate": gate}) as server,
        ssh_client(keys, server.port) as s,
    ):
        await s.expect_exact(">>> ")
        await s.sendline("await gate.wait()")
        for n in (1, 2, 3):
            await s.sendline(f"{n} * 11")
            await s.expect_exact(f"{n} * 11\r\n")  # the line editor has it
        gate.set()
        for n in (1, 2, 3):
            await s.expect_exact(f"{n * 11}\r\n")
        await s.expect_exact(">>> ")


async def test_a_client_that_leaves_cancels_its_statement(keys: Keys) -> None:
    box: list[str] = []
    async with ssh_console(keys, locals={"box": box}) as server:
        async with ssh_client(keys, server.port) as s:
            await s.expect_exact(">>> ")
            await s.sendline("box.append('started'); await asyncio.sleep(60)")
            await wait_until(lambda: box == ["started"], "the statement runs")
            await s.close(force=True)  # the ssh client is killed
        await wait_until(lambda: server.clients == 0, "the client's console ended")
        assert box == ["started"]


async def test_lines_sent_ahead_by_a_client_that_left_do_not_run(keys: Keys) -> None:
    # Without a terminal they waited for the next prompt, and ran after the
    # client was gone (its statement interrupted): nothing a client that
    # left sent runs, as over TCP.
    box: list[str] = []
    async with ssh_console(keys, locals={"box": box}) as server:
        async with console_connection(keys, server.port) as conn:
            process = await conn.create_process()  # no term_type: no terminal
            process.stdin.write("box.append('started'); await asyncio.sleep(60)\n")
            process.stdin.write("box.append('sent ahead')\n")
            await wait_until(lambda: box == ["started"], "the statement runs")
        await wait_until(lambda: server.clients == 0, "the client's console ended")
        assert box == ["started"]


async def test_a_client_that_leaves_while_attached_ends_its_statement(keys: Keys) -> None:
    box: list[str] = []
    async with (
        aioexpect.spawn("cat", timeout=LIMIT) as cat,
        ssh_console(keys, locals={"cat": cat, "box": box}) as server,
    ):
        async with ssh_client(keys, server.port) as s:
            await s.expect_exact(">>> ")
            await s.sendline("await attach(cat); box.append('after'); await asyncio.sleep(60)")
            await s.expect_exact("Ctrl-] detaches")
            await s.close(force=True)  # the ssh client is killed while attached
        await wait_until(lambda: server.clients == 0, "the client's console ended")
        assert box in ([], ["after"])  # interrupted at attach's end or at the sleep


async def test_input_that_ends_lets_the_last_statement_finish(keys: Keys) -> None:
    ssh = need("ssh", "Debian openssh-client")
    async with ssh_console(keys) as server:
        args = ["-T" if a == "-tt" else a for a in ssh_args(keys, server.port)]
        async with aioexpect.spawn(ssh, args, pty=False, timeout=LIMIT) as s:
            await s.sendline("await asyncio.sleep(0.5); print('finished')")
            await s.sendeof()  # ssh host < script: the end of input, not of the client
            out = await s.read_all()
            assert "finished" in out and "KeyboardInterrupt" not in out
            assert await s.wait() == 0


async def test_a_block_sent_with_crlf_line_ends_without_a_terminal_goes_on_to_its_end(
    keys: Keys,
) -> None:
    # ssh -T host < a script written on Windows: as over TCP before 76fc3f1,
    # the block ran after its first body line (its \r left at its end), and
    # the next was an IndentationError.
    async with ssh_console(keys) as server, console_connection(keys, server.port) as conn:
        process = await conn.create_process(encoding=None)  # no term_type: no terminal
        process.stdin.write(b"if True:\r\n    y = 5\r\n    z = 6\r\n\r\ny, z\r\n")
        process.stdin.write_eof()
        async with asyncio.timeout(LIMIT):
            out = await process.stdout.read()
    assert out.endswith(b">>> ... ... ... >>> (5, 6)\n>>> \n"), out  # (\n: input ended)


@pytest.mark.parametrize("end", ["\r\n", "\n"])
async def test_a_last_line_with_no_line_end_runs_without_a_terminal(keys: Keys, end: str) -> None:
    # The input ended with no line end after its last statement: it was
    # dropped, where python3 -i runs it.
    async with ssh_console(keys) as server, console_connection(keys, server.port) as conn:
        process = await conn.create_process(encoding=None)
        process.stdin.write(f"y = 5{end}print('last', y)".encode())
        process.stdin.write_eof()
        async with asyncio.timeout(LIMIT):
            out = await process.stdout.read()
    assert b"last 5\n" in out, out


async def test_a_byte_that_is_not_utf8_keeps_the_connection(keys: Keys) -> None:
    async with ssh_console(keys) as server, ssh_client(keys, server.port) as s:
        await s.expect_exact(">>> ")
        await s.send(b"'caf\xe9' + '!'\r")  # Latin-1, as a misconfigured terminal sends
        await s.expect_exact("'caf\ufffd!'\r\n>>> ")
        assert await evaluate(s, "'still connected'") == "'still connected'\r\n"


async def test_a_lone_surrogate_in_what_is_shown_keeps_the_connection(keys: Keys) -> None:
    # The console's strict encoding of an error with a lone surrogate in it
    # ended the client's console: its SSH session closed.
    async with ssh_console(keys) as server, console_connection(keys, server.port) as conn:
        process = await conn.create_process(encoding=None)
        try:
            await read_to(process.stdout, b">>> ")
            process.stdin.write(rb"raise ValueError('\udc80')" + b"\n")
            assert (await read_to(process.stdout, b">>> ")).endswith(b"ValueError: \\udc80\n")
            process.stdin.write(b"'still connected'\n")
            assert await read_to(process.stdout, b">>> ") == b"'still connected'\n"
        finally:
            process.close()


@pytest.mark.parametrize("terminal", ["xterm", None])
async def test_a_long_line_runs_whole_and_one_past_the_limit_is_refused(
    keys: Keys, terminal: str | None
) -> None:
    # asyncssh's line editor cut every line at its default of 1024 characters
    # and ran what was left: a pasted number of 2000 digits was stored with
    # 1013, a long string literal was a SyntaxError.
    box: dict[str, Any] = {}
    enter = b"\r" if terminal else b"\n"
    async with (
        ssh_console(keys, locals={"box": box}) as server,
        console_connection(keys, server.port) as conn,
    ):
        process = await conn.create_process(term_type=terminal, term_size=(80, 24), encoding=None)
        try:
            await read_to(process.stdout, b">>> ")
            digits = "1234567890" * 200
            process.stdin.write(f"box['n'] = {digits}".encode() + enter)
            await read_to(process.stdout, b">>> ")
            assert box["n"] == int(digits)
            at_limit = "box['s'] = '" + "s" * (LINE_LIMIT - 13) + "'"
            assert len(at_limit) == LINE_LIMIT
            process.stdin.write(at_limit.encode() + enter)
            await read_to(process.stdout, b">>> ")
            assert box["s"] == "s" * (LINE_LIMIT - 13)
            past = "box['t'] = '" + "t" * LINE_LIMIT + "'"  # (the editor keeps one more)
            process.stdin.write(past.encode() + enter)
            said = await read_to(process.stdout, b">>> ")
            refused = b"aioexpect console: line too long (over 65536 bytes), ignored"
            assert said.rstrip(b"\r\n").endswith(refused)
            process.stdin.write(b"'t' in box, 6 * 7" + enter)
            assert (await read_to(process.stdout, b">>> ")).rstrip(b"\r\n").endswith(b"(False, 42)")
        finally:
            process.close()


async def test_attached_keys_are_raw_ctrl_c_reaches_the_session(keys: Keys) -> None:
    async with (
        aioexpect.spawn("cat", timeout=LIMIT) as cat,
        ssh_console(keys, locals={"cat": cat}) as server,
        ssh_client(keys, server.port) as s,
    ):
        await s.expect_exact(">>> ")
        await s.sendline("await attach(cat)")
        await s.expect_exact("Ctrl-] detaches")
        await s.send("typed over ssh\r")
        await s.expect_exact("typed over ssh\r\ntyped over ssh\r\n")
        await s.sendcontrol("c")  # not the line editor's: cat's terminal gets it
        await s.expect_exact(f"session #{cat.id} ended")
        await s.expect_exact(">>> ")
        assert await cat.wait() is None and cat.signal_status == 2
        assert await evaluate(s, "'editing is back'") == "'editing is back'\r\n"


async def test_an_attached_session_takes_the_ssh_clients_size_and_its_changes(
    keys: Keys,
) -> None:
    ssh = need("ssh", "Debian openssh-client")
    async with (
        aioexpect.spawn("sh", timeout=LIMIT, dimensions=(24, 80)) as sh,
        ssh_console(keys, locals={"sh": sh}) as server,
        aioexpect.spawn(ssh, ssh_args(keys, server.port), timeout=LIMIT, dimensions=(30, 100)) as s,
    ):
        await s.expect_exact(">>> ")
        await s.sendline("await attach(sh)")
        await s.expect_exact("Ctrl-] detaches")
        await s.sendline("stty size")
        await s.expect_exact("30 100\r\n")
        await resize_seen(s, 40, 120)  # ssh tells the server, which looks
        await s.send("\x1d")
        await s.expect_exact(">>> ")


async def test_attach_over_ssh_keeps_a_pending_read(keys: Keys) -> None:
    async with (
        aioexpect.spawn("cat", timeout=LIMIT) as cat,
        ssh_console(keys, locals={"cat": cat}) as server,
        ssh_client(keys, server.port) as s,
    ):
        program = asyncio.ensure_future(cat.expect("BACK-TO-THE-PROGRAM"))
        await s.expect_exact(">>> ")
        await s.sendline("await attach(cat)")
        await s.expect_exact("Ctrl-] detaches")
        await s.send("hello\r")
        await s.expect_exact("hello\r\nhello\r\n")
        await s.sendcontrol("]")
        await s.expect_exact(">>> ")
        await cat.sendline("BACK-TO-THE-PROGRAM")
        match = await program
        assert "hello" not in match.before


def console_connection(keys: Keys, port: int) -> Any:
    """An asyncssh connection to the console served on ``port``, as ``console``."""
    return asyncssh.connect(
        "127.0.0.1",
        port,
        username="console",
        client_keys=[str(keys.client_key)],
        known_hosts=str(keys.known_hosts(port)),
    )


async def test_an_ssh_client_that_does_not_read_loses_the_output_past_the_mark_and_is_told(
    keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # print cannot wait for the client: asyncssh's channel held all of it.
    # (One check without progress is enough here, not STALL's ten.)
    monkeypatch.setattr(_console_output, "STALL", _console_output.GRACE)
    done, held = asyncio.Event(), []
    shared = {"done": done, "held": held, "unsent": lambda: 0}
    async with (
        ssh_console(keys, locals=shared) as server,
        console_connection(keys, server.port) as conn,
    ):
        process = await conn.create_process(encoding=None)  # no terminal: bytes as written
        try:
            await read_to(process.stdout, b">>> ")
            process.stdin.write(flood("\n"))
            async with asyncio.timeout(LIMIT):
                await done.wait()  # (it did not wait for the client)
            out = (await read_to(process.stdout, b">>> ")).lstrip(b". ")
        finally:
            process.close()
    found = NOTE.search(out)
    assert found is not None, out[-200:]
    taken = out[: found.start()]
    assert taken == (b"x" * (WIDTH - 1) + b"\n") * (len(taken) // WIDTH)  # whole prints
    assert len(taken) <= BURST * WIDTH  # the burst, then nothing more
    assert len(taken) + int(found.group(1)) == PRINTS * WIDTH  # nothing lost unsaid


@pytest.mark.parametrize("burst", list(BURSTS))
async def test_an_ssh_client_that_reads_gets_all_of_a_burst_past_the_mark(
    keys: Keys, burst: str
) -> None:
    # A statement that prints past the mark without an await never lets the
    # loop send: its output was dropped however fast the client read
    # (3,000,001 bytes of 10 prints of 1 MB).
    statement, expected = BURSTS[burst]
    async with (
        ssh_console(keys) as server,
        console_connection(keys, server.port) as conn,
    ):
        process = await conn.create_process(encoding=None)  # no terminal: bytes as written
        try:
            await read_to(process.stdout, b">>> ")
            process.stdin.write(statement.encode() + b"\n\n")
            out = await read_to(process.stdout, b">>> ")
        finally:
            process.close()
    assert out.lstrip(b". ") == expected  # (after a block's continuation prompt)


async def test_an_ssh_client_that_does_not_read_holds_an_attached_flood_back(keys: Keys) -> None:
    async with (
        flooding() as s,
        ssh_console(keys, locals={"s": s}) as server,
        console_connection(keys, server.port) as conn,
    ):
        process = await conn.create_process(term_type="xterm", encoding=None)
        try:
            await read_to(process.stdout, b">>> ")
            process.stdin.write(b"await attach(s)\r")
            await read_to(process.stdout, b"Ctrl-] detaches\r\n")
            process.stdin.write(b"go\n")
            await until_held_back(s)
            got = await read_to(process.stdout, f"\r\nsession #{s.id} ended".encode())
        finally:
            process.close()
    assert got.replace(b"\r\n", b"\n").decode() == EXPECTED  # all of it, in order


#: A session's output in the pieces it arrives in, and what an SSH terminal
#: must get: the same, a pipe's lone ``\n`` as ``\r\n`` (as a pty would).
PIECES = [
    (b"a\r", b"a\r"),  # a line end split between two reads
    (b"\nb\n", b"\nb\r\n"),
    (b"x" * 80, b"x" * 80),  # ends at the terminal's last column
    (b"y" * 10 + b"\r\n", b"y" * 10 + b"\r\n"),
    (b"z" * 160, b"z" * 160),  # two rows, at the last column
]


async def test_an_attached_session_s_output_reaches_an_ssh_terminal_as_written(
    keys: Keys,
) -> None:
    # asyncssh's line editor put " \b" after a write that ended at a multiple
    # of the width, and made a split "\r" "\n" "\r\r\n": bytes the program
    # never wrote (in a flood, depending on where reads ended).
    async with (
        opened(timeout=LIMIT) as (s, peer),
        ssh_console(keys, locals={"s": s}) as server,
        console_connection(keys, server.port) as conn,
    ):
        process = await conn.create_process(term_type="xterm", term_size=(80, 24), encoding=None)
        try:
            await read_to(process.stdout, b">>> ")
            process.stdin.write(b"await attach(s)\r")
            await read_to(process.stdout, b"Ctrl-] detaches\r\n")
            got, expected = bytearray(), b""
            async with asyncio.timeout(LIMIT):
                for piece, shown in PIECES:
                    await peer.write(piece)
                    expected += shown
                    while len(got) < len(expected):  # that piece came as one write
                        got += await process.stdout.read(1 << 16)
                await peer.write_eof()
                end = f"\r\nsession #{s.id} ended".encode()
                while end not in got:
                    chunk = await process.stdout.read(1 << 16)
                    assert chunk, f"the end before {end!r}: {bytes(got)!r}"
                    got += chunk
        finally:
            process.close()
    assert bytes(got[: got.index(end)]) == expected


@pytest.mark.parametrize(
    ("asked", "refusal"),
    [
        ({"command": "6 * 7"}, "this console runs no commands: connect with a terminal\n"),
        (  # netconf: a program's channel; it was served a console, and ran 6 * 7
            {"subsystem": "netconf"},
            "this console runs no subsystems ('netconf' asked for): connect with a terminal\n",
        ),
    ],
)
async def test_a_command_or_a_subsystem_is_refused(
    keys: Keys, asked: dict[str, str], refusal: str
) -> None:
    async with ssh_console(keys) as server, console_connection(keys, server.port) as conn:
        process = await conn.create_process(**asked)
        with contextlib.suppress(BrokenPipeError):  # (refused already)
            process.stdin.write("6 * 7\n")
            process.stdin.write_eof()
        async with asyncio.timeout(LIMIT):
            out, err = await process.stdout.read(), await process.stderr.read()
            await process.wait_closed()
    assert (out, err, process.exit_status) == ("", refusal, 1)


async def test_max_clients_over_ssh(keys: Keys) -> None:
    async with ssh_console(keys, max_clients=1) as server, ssh_client(keys, server.port) as a:
        await a.expect_exact(">>> ")
        async with ssh_client(keys, server.port) as b:
            said = await b.expect(aioexpect.EOF)
            assert "refused: max_clients=1 reached" in said.before
            assert await b.wait() == 255
        assert await evaluate(a, "'a is served'") == "'a is served'\r\n"


async def test_a_session_over_max_clients_is_told_on_stderr(keys: Keys) -> None:
    # max_clients counts consoles: a second session channel on one connection counts too.
    client_key = asyncssh.read_private_key(str(keys.client_key))
    async with (
        ssh_console(keys, max_clients=1) as server,
        asyncssh.connect(
            "127.0.0.1",
            server.port,
            username="console",
            client_keys=[client_key],
            known_hosts=str(keys.known_hosts(server.port)),
        ) as conn,
    ):
        first = await conn.create_process(term_type="xterm")
        async with asyncio.timeout(LIMIT):
            await first.stdout.readuntil(">>> ")
            second = await conn.create_process(term_type="xterm")
            said = await second.stderr.read()
            assert said == "aioexpect console: refused: max_clients=1 reached\r\n"
            await second.wait_closed()
        assert second.exit_status == 1
        first.close()


async def test_refused_ssh_clients_held_to_be_told_are_bounded(keys: Keys) -> None:
    """Each refused SSH client is kept until authentication to be told why:
    at most TELLING of them at once; the others are closed at once."""
    from aioexpect._console_server import TELLING

    async with ssh_console(keys, max_clients=1, login_timeout=None) as server:
        opened = [await asyncio.open_connection("127.0.0.1", server.port)]
        await wait_until(lambda: server.clients == 1, "the first client holds the slot")
        for _ in range(TELLING + 4):  # never say a word: no key exchange, no authentication
            opened.append(await asyncio.open_connection("127.0.0.1", server.port))
        try:

            async def closed(reader: asyncio.StreamReader) -> bool:
                try:
                    async with asyncio.timeout(1.0):
                        while await reader.read(4096):
                            pass
                    return True
                except TimeoutError:
                    return False

            ends = await asyncio.gather(*(closed(reader) for reader, _ in opened[1:]))
            assert sum(ends) == 4
        finally:
            for _, writer in opened:
                writer.close()


async def test_login_timeout_over_ssh(keys: Keys) -> None:
    async with ssh_console(keys, login_timeout=0.3) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            async with asyncio.timeout(LIMIT):
                data = await reader.read()
                while chunk := await reader.read():
                    data += chunk
            assert data.startswith(b"SSH-2.0-")  # only the version line, then dropped
        finally:
            writer.close()
            await writer.wait_closed()


async def test_ssh_may_listen_beyond_loopback_keys_as_a_list(keys: Keys) -> None:
    client_public = asyncssh.import_public_key(keys.authorized.read_bytes())
    async with await start_console_server(
        host="0.0.0.0",
        ssh_host_keys=[str(keys.host_key)],
        authorized_client_keys=[client_public],
    ) as server:
        assert server.ssh and server.port
        async with ssh_client(keys, server.port) as s:
            await s.expect_exact(">>> ")
            await s.sendline("exit()")
            await s.expect(aioexpect.EOF)


async def answers_at(keys: Keys, address: str, port: int) -> None:
    """A client at ``address`` logs in, runs a statement and sees its value."""
    host_key = asyncssh.import_public_key(keys.host_public)
    async with (
        asyncio.timeout(LIMIT),
        asyncssh.connect(
            address,
            port,
            username="console",
            client_keys=[str(keys.client_key)],
            known_hosts=([host_key], [], []),
        ) as conn,
    ):
        process = await conn.create_process(encoding=None)  # no terminal: bytes as written
        process.stdin.write(b"6 * 7\n")
        await read_to(process.stdout, b"42")
        process.stdin.write_eof()
        await process.wait_closed()


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
@pytest.mark.parametrize("host", ["", None])
async def test_ssh_on_every_interface_listens_on_one_port_for_port_0(
    keys: Keys, host: str | None, address: str
) -> None:
    # Every interface is 0.0.0.0 and ::, each a listener of its own: with
    # port=0 each got a port of its own, asyncssh's get_port() told 0 for
    # that, and .port was 0, where nobody can connect.
    if address == "::1" and not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    async with ssh_console(keys, host=host) as server:
        assert server.port != 0
        assert server.address == f"ssh://*:{server.port}"
        await answers_at(keys, address, server.port)


@pytest.mark.parametrize("spelling", ["*:0", "[*]:0"])
async def test_serve_star_is_every_interface_on_one_port_over_ssh(
    keys: Keys, spelling: str, tmp_path: Path
) -> None:
    # The command line had no spelling for the API's host=None: ":0" is
    # loopback, "0.0.0.0:0" IPv4 only, "[::]:0" IPv6 only; "*" reached the
    # resolver as a name, which glibc happens to take for every address.
    if not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    args = ["console", "--serve", spelling, "--ssh-host-key", str(keys.host_key)]
    async with command([*args, "--authorized-keys", str(keys.authorized)], cwd=tmp_path) as proc:
        port = int((await proc.expect(r"served on ssh://\*:(\d+)")).group(1))
        for address in ("127.0.0.1", "::1"):
            await answers_at(keys, address, port)
        os.kill(proc.transport.get_extra_info("pid"), signal.SIGTERM)
        await proc.expect(aioexpect.EOF)
        assert await proc.wait() == 0


@contextlib.contextmanager
def taking_the_port(monkeypatch: pytest.MonkeyPatch, times: int) -> Iterator[list[socket.socket]]:
    """asyncssh.listen, with the port picked for every address taken on
    ``::`` (as a connection of this machine's may hold it) just before it is
    listened on there, ``times`` times: the sockets that took it."""
    real = asyncssh.listen
    taken: list[socket.socket] = []

    def listen(host: Any, port: int, **options: Any) -> Any:
        if port != 0 and len(taken) < times:
            sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            taken.append(sock)
            sock.bind(("::", port))
            sock.listen()
        return real(host, port, **options)

    monkeypatch.setattr(asyncssh, "listen", listen)
    try:
        yield taken
    finally:
        for sock in taken:
            sock.close()


async def test_ssh_on_every_interface_picks_another_port_if_one_is_taken(
    keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    with taking_the_port(monkeypatch, 2) as taken:
        async with ssh_console(keys, host=None) as server:
            assert len(taken) == 2  # (picked, taken, picked, taken, picked)
            assert server.port not in [sock.getsockname()[1] for sock in taken]
            for address in ("127.0.0.1", "::1"):
                await answers_at(keys, address, server.port)


async def test_ssh_on_every_interface_gives_up_when_the_port_is_taken_each_time(
    keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    with taking_the_port(monkeypatch, 1000) as taken:
        with pytest.raises(aioexpect.ConnectError, match=r"on \*:0: .*address already in use"):
            server = await start_console_server(
                host=None,
                ssh_host_keys=[str(keys.host_key)],
                authorized_client_keys=str(keys.authorized),
            )
            server.close()  # (not reached, unless it listened on no port anyone can reach)
            await server.wait_closed()
        assert len(taken) == 5  # (ONE_PORT_TRIES)


@pytest.mark.loop("asyncio")  # (whose resolver, unlike uvloop's, can be made to answer so)
async def test_ssh_on_a_name_of_two_addresses_listens_on_one_port(
    keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "localhost", where /etc/hosts gives it ::1 and 127.0.0.1 too (Debian's,
    # Fedora's): a listener on each, with a port of its own for port=0.
    if not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    localhost_on_both(monkeypatch)
    async with ssh_console(keys, host="localhost") as server:
        assert server.port != 0
        for address in ("::1", "127.0.0.1"):
            await answers_at(keys, address, server.port)


async def test_shutdown_with_ssh_clients_connected_shows_no_traceback(
    keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
    server = await start_console_server(
        ssh_host_keys=[str(keys.host_key)], authorized_client_keys=str(keys.authorized)
    )
    assert server.port is not None
    async with ssh_client(keys, server.port) as a, ssh_client(keys, server.port) as b:
        await a.expect_exact(">>> ")
        await b.expect_exact(">>> ")
        await b.sendline("await asyncio.sleep(60)")
        await evaluate(a, "'ready'")
        server.close()
        await server.wait_closed()
        for s in (a, b):
            rest = await s.read_all()
            assert "Traceback" not in rest
            await s.wait()
    assert not errors
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_ssh_argument_checks(keys: Keys, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ssh_host_keys"):
        await start_console_server(authorized_client_keys=str(keys.authorized))
    with pytest.raises(ValueError, match="path"):
        await start_console_server(
            ssh_host_keys=[str(keys.host_key)],
            authorized_client_keys=str(keys.authorized),
            path=tmp_path / "s",
        )
    with pytest.raises(ValueError, match=r"SSH keys from ssh_host_keys: .* No such file"):
        await start_console_server(
            ssh_host_keys=[str(tmp_path / "missing")], authorized_client_keys=str(keys.authorized)
        )
    with pytest.raises(ValueError, match=r"SSH keys from authorized_client_keys: .* No such file"):
        await start_console_server(
            ssh_host_keys=[str(keys.host_key)], authorized_client_keys=str(tmp_path / "missing")
        )
    with pytest.raises(ValueError, match="SSH keys from ssh_host_keys: Invalid private key"):
        await start_console_server(
            ssh_host_keys=[str(keys.authorized)], authorized_client_keys=str(keys.authorized)
        )
    with pytest.raises(ValueError, match="SSH keys"):  # nobody could log in
        await start_console_server(ssh_host_keys=[str(keys.host_key)], authorized_client_keys=[])
    with pytest.raises(ValueError, match="token"):
        await start_console_server(
            ssh_host_keys=[str(keys.host_key)],
            authorized_client_keys=str(keys.authorized),
            token="no-tokens-with-ssh",
        )


SHORT_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0Yml0cw==\n-----END OPENSSH PRIVATE KEY-----\n"
)


@pytest.mark.parametrize(
    ("where", "as_given"),
    [
        ("ssh_host_keys", lambda text: text),
        ("ssh_host_keys", lambda text: [text]),
        ("ssh_host_keys", lambda text: [SHORT_KEY]),  # (short enough to be a name)
        ("authorized_client_keys", lambda text: text),
    ],
    ids=["a-str", "in-a-list", "short-in-a-list", "authorized-a-str"],
)
async def test_a_key_given_as_its_text_is_not_in_the_error(
    keys: Keys, where: str, as_given: Any
) -> None:
    # A str is a key file's name: a private key's text given as one was
    # read as a name, and the error held the key whole ("... from
    # ssh_host_keys: [Errno 36] File name too long: '-----BEGIN OPENSSH
    # PRIVATE KEY-----\nb3BlbnNzaC1rZXk...").
    text = keys.client_key.read_text()
    options: dict[str, Any] = {
        "ssh_host_keys": [str(keys.host_key)],
        "authorized_client_keys": str(keys.authorized),
        where: as_given(text),
    }
    with pytest.raises(ValueError, match=f"cannot load the console's SSH keys from {where}: ") as e:
        await start_console_server(**options)
    said = []
    exc: BaseException | None = e.value
    while exc is not None:  # (nor in an exception it was raised from, shown or not)
        said.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    for line in [*text.splitlines(), *SHORT_KEY.splitlines()]:
        assert line and not [words for words in said if line in words]


async def test_a_key_file_not_found_is_named(keys: Keys, tmp_path: Path) -> None:
    # (a file's name is shown, a key's text is not)
    missing = str(tmp_path / "missing key")
    with pytest.raises(ValueError, match=re.escape(f"No such file or directory: '{missing}'")):
        await start_console_server(ssh_host_keys=[missing], authorized_client_keys=[])


async def test_run_serves_over_ssh_with_the_keys_read_before_the_program(
    keys: Keys, tmp_path: Path
) -> None:
    # aioexpect run loads the keys as it checks its options, before the
    # program starts, and hands the server the loaded keys.
    (tmp_path / "prog.py").write_text(PROGRAM)
    args = ["--serve", "127.0.0.1:0", "--ssh-host-key", str(keys.host_key)]
    args += ["--authorized-keys", str(keys.authorized)]
    async with command(["run", *args, "prog.py"], cwd=tmp_path) as proc:
        port = int((await proc.expect(r"served on ssh://127\.0\.0\.1:(\d+)")).group(1))
        async with console_connection(keys, port) as conn:
            process = await conn.create_process()  # no terminal
            process.stdin.write("hits.append('over ssh'); stop.set()\n")
            await proc.expect_exact("stopped ['over ssh']")
            process.close()
        assert await proc.wait() == 0


@pytest.mark.parametrize("subcommand", ["console", "run"])
async def test_authorized_keys_given_twice_allows_the_keys_of_both_files(
    keys: Keys, tmp_path: Path, subcommand: str
) -> None:
    # --authorized-keys was argparse's plain store: given twice, the last
    # file alone was read, the first dropped without a word (its keys refused).
    second_key = tmp_path / "second_key"
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(second_key))
    os.chmod(second_key, 0o600)
    second = tmp_path / "second_authorized_keys"
    second.write_bytes(key.export_public_key())
    args = [subcommand, "--serve", "127.0.0.1:0", "--ssh-host-key", str(keys.host_key)]
    args += ["--authorized-keys", str(keys.authorized), "--authorized-keys", str(second)]
    if subcommand == "run":
        (tmp_path / "prog.py").write_text(PROGRAM)
        args.append("prog.py")
    async with command(args, cwd=tmp_path) as proc:
        port = int((await proc.expect(r"served on ssh://127\.0\.0\.1:(\d+)")).group(1))
        for client_key in (keys.client_key, second_key):  # one from each file
            async with ssh_client(keys, port, key=client_key) as s:
                await s.expect_exact(">>> ")
                assert await evaluate(s, "6 * 7") == "42\r\n"
                await s.sendline("exit(3)")
                await s.expect(aioexpect.EOF)
                assert await s.wait() == 3
        async with ssh_client(keys, port, key=keys.stranger_key) as s:  # in neither
            await s.expect("Permission denied")
            await s.expect(aioexpect.EOF)
            assert await s.wait() == 255
        os.kill(proc.transport.get_extra_info("pid"), signal.SIGTERM)
        await proc.expect(aioexpect.EOF)
        if subcommand == "console":
            assert await proc.wait() == 0
        else:  # (the program's own end: SIGTERM's default)
            assert await proc.wait() is None and proc.signal_status == signal.SIGTERM
