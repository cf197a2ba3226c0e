"""VirtualDevice, serve_telnet and serve_ssh: the device's answers, the
servers' life cycle and host keys, and real clients (aioexpect, OpenSSH
``ssh`` and ``telnet`` in a pty) talking to them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest

import aioexpect
from aioexpect import EOF, AuthenticationError, ConnectError, HostKeyError
from aioexpect.testing import VirtualDevice, ask, serve_ssh, serve_telnet
from tests.helpers import localhost_on_both, wait_until

from .conftest import need
from .test_login import ssh_args


def exists(path: str) -> bool:
    return os.path.exists(path)


def read(path: str | Path) -> str:
    return Path(path).read_text()


def write(path: str | Path, text: str) -> None:
    Path(path).write_text(text)


def router(**options: Any) -> VirtualDevice:
    async def slow(command: str, m: re.Match[str]) -> str:
        await asyncio.sleep(0)
        return "done"

    commands: dict[Any, Any] = {
        "show version": "Cisco IOS Software\nuptime is 1 day",
        r"show interface (\S+)": lambda command, m: f"{m.group(1)} is up\n",
        re.compile("async"): slow,
        "show log": "\n".join(f"entry {i}" for i in range(25)),
    }
    return VirtualDevice("r1", commands=commands, **options)


# -- the device itself ---------------------------------------------------------------------


async def test_respond_uses_the_command_table() -> None:
    dev = router()
    assert await dev.respond("show version") == "Cisco IOS Software\nuptime is 1 day\n"
    assert await dev.respond("  show interface Gi0/1 ") == "Gi0/1 is up\n"
    assert await dev.respond("async") == "done\n"
    assert await dev.respond("") == ""


async def test_unknown_commands_are_invalid_input() -> None:
    dev = router(prompt="r1#")
    answer = await dev.respond("show versionx")  # the regex must match the whole line
    assert answer == "   ^\n% Invalid input detected at '^' marker.\n"
    assert dev.lookup("show versionx") is None and dev.lookup("show version") is not None


async def test_a_handler_must_return_text() -> None:
    dev = VirtualDevice("r1", commands={"bad": lambda c, m: 42})  # type: ignore[dict-item,return-value]
    with pytest.raises(TypeError, match="returned int"):
        await dev.respond("bad")


def test_device_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        VirtualDevice("")
    with pytest.raises(ValueError):
        VirtualDevice("r1", login=("admin",))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        VirtualDevice("r1", page_length=0)
    with pytest.raises(TypeError):
        VirtualDevice("r1", commands={b"x": "y"})
    with pytest.raises(TypeError, match="a response must be a str or a callable, not 3"):
        VirtualDevice("r1", commands={"x": 3})  # (typed: a dict[str, object] passes mypy)
    with pytest.raises(ValueError, match="bad command pattern 'show ip\\('"):
        VirtualDevice("r1", commands={"show ip(": "y"})
    with pytest.raises(TypeError, match="prompt must be a str"):
        VirtualDevice("r1", prompt=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="login must be"):
        VirtualDevice("r1", login="ab")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="commands must be a mapping"):
        VirtualDevice("r1", commands=["show version"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="page_length"):
        VirtualDevice("r1", page_length=True)
    with pytest.raises(TypeError, match="banner must be a str"):
        VirtualDevice("r1", banner=None)  # type: ignore[arg-type]
    dev = VirtualDevice("r1")
    with pytest.raises(TypeError):
        dev.prompt = 5  # type: ignore[assignment]
    # (it was AttributeError: 'int' object has no attribute 'strip')
    with pytest.raises(TypeError, match="a command must be a str, not int"):
        asyncio.run(dev.respond(5))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a command must be a str, not bytes"):
        dev.lookup(b"show version")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        dev.hostname = ""
    assert dev.render_prompt() == "r1#"


async def test_an_empty_line_reaches_a_handler_that_answers_it() -> None:
    """Enter alone (a ``[confirm]`` question's default) goes to the table;
    without an entry for it, the device shows its prompt again."""
    asked: list[str] = []

    def confirm(command: str, m: re.Match[str]) -> str:
        asked.append(command)
        return "confirmed"

    dev = VirtualDevice("r1", commands={"": confirm})
    assert await dev.respond("  ") == "confirmed\n" and asked == [""]
    assert await VirtualDevice("r2").respond("") == ""
    async with (
        serve_telnet(dev) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, timeout=10) as s,
    ):
        await s.expect_prompt()
        await s.sendline("")
        assert (await s.expect_prompt()).before == "\r\nconfirmed\r\n"


def test_prompt_repr_and_login_check() -> None:
    dev = VirtualDevice("edge9", prompt="{hostname}(config)#", login=("u", "p"))
    assert dev.render_prompt() == "edge9(config)#"
    assert "edge9" in repr(dev) and "p'" not in repr(dev)
    assert dev.check_login("u", "p") and not dev.check_login("u", "x")
    assert VirtualDevice("r2").render_prompt() == "r2#"


async def test_serving_needs_a_device() -> None:
    with pytest.raises(TypeError):
        serve_telnet("r1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        serve_ssh(object())  # type: ignore[arg-type]
    for port in (-1, 65536, True, "22"):
        for serve in (serve_telnet, serve_ssh):
            with pytest.raises(ValueError, match="port must be an int from 0 to 65535"):
                serve(VirtualDevice("r1"), port=port)  # type: ignore[arg-type]


# -- server life cycle -----------------------------------------------------------------------


async def test_telnet_server_await_close_and_wait_closed() -> None:
    server = await serve_telnet(router())
    assert server.kind == "telnet" and server.port > 0 and server.known_hosts is None
    assert "serving" in repr(server)
    async with aioexpect.connect_telnet("127.0.0.1", server.port, timeout=10) as s:
        await s.expect_prompt()
        server.close()
        server.close()  # idempotent
        await server.wait_closed()
        assert server.closed and "closed" in repr(server)
        await s.expect(EOF)  # the open connection was ended
    with pytest.raises(ConnectError):
        await aioexpect.connect_telnet("127.0.0.1", server.port, timeout=5)


async def test_serve_ssh_where_its_known_hosts_file_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The file was made after the listener opened: a temporary directory
    # that could not take it raised a bare FileNotFoundError and left the
    # port listening, out of reach (the descriptor check below each test
    # sees it).
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    with pytest.raises(ConnectError, match=r"known_hosts file in '.*/gone'") as error:
        await serve_ssh(VirtualDevice("r1"))
    assert isinstance(error.value.__cause__, FileNotFoundError)


async def test_ssh_server_known_hosts_file(tmp_path: Path) -> None:
    async with await serve_ssh(router()) as server:
        assert server.kind == "ssh" and server.port > 0
        path = server.known_hosts
        assert path is not None and exists(path)
        entry = server.known_hosts_entry
        assert entry is not None and entry.startswith(f"[127.0.0.1]:{server.port} ssh-ed25519 ")
        assert read(path).strip() == entry
        async with aioexpect.connect_ssh(
            "127.0.0.1", server.port, known_hosts=path, timeout=10
        ) as s:
            await s.expect_prompt()
    assert not exists(path)


def ipv6_loopback() -> None:
    """Skip unless ``::1`` can be listened on."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")


@pytest.mark.parametrize(
    ("wildcard", "loopback", "names"),
    [
        ("0.0.0.0", "127.0.0.1", ["127.0.0.1", "localhost"]),
        ("0", "127.0.0.1", ["127.0.0.1"]),  # (0.0.0.0 as inet_aton spells it)
        ("::", "::1", ["::1"]),
    ],
)
async def test_ssh_server_on_a_wildcard_is_trusted_where_clients_reach_it(
    wildcard: str, loopback: str, names: list[str]
) -> None:
    # The known_hosts file named only [0.0.0.0]:port (or [::]:port), which no
    # client connects to: one connecting to 127.0.0.1 (::1) with it got
    # HostKeyError.  (Listening on every interface briefly, on a port of the OS's.)
    if loopback == "::1":
        ipv6_loopback()
    async with serve_ssh(router(), host=wildcard) as server:
        assert server.known_hosts is not None and server.known_hosts_entry is not None
        for name in names:  # (localhost is ::1 on some machines, 127.0.0.1 on others)
            async with aioexpect.connect_ssh(
                name, server.port, known_hosts=server.known_hosts, timeout=10
            ) as s:
                assert "Cisco IOS" in await s.execute("show version")
        port = server.port
        where = f"[{loopback}]:{port},[localhost]:{port},[{wildcard}]:{port}"
        assert server.known_hosts_entry.split()[0] == where
        assert read(server.known_hosts).strip() == server.known_hosts_entry


FORGOTTEN = """
import asyncio
from aioexpect.testing import VirtualDevice, serve_ssh
servers = []
async def main():
    servers.append(await serve_ssh(VirtualDevice("r1")))
    print(servers[0].known_hosts, flush=True)
asyncio.run(main())
"""


def run_with_tmpdir(script: str, tmp_path: Path) -> str:
    """What ``script`` prints, run by a Python of its own with ``tmp_path`` as TMPDIR."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env["PYTHONPATH"] = str(Path(__file__).parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_a_server_never_closed_leaves_no_known_hosts_file(tmp_path: Path) -> None:
    # It stayed in the temporary directory for good, one more each run of a
    # test that forgot to close its server (or failed before it could).
    path = run_with_tmpdir(FORGOTTEN, tmp_path)
    assert path.startswith(str(tmp_path)) and not exists(path)
    assert os.listdir(tmp_path) == []


FORKED = """
import asyncio, atexit, os
from aioexpect.testing import VirtualDevice, serve_ssh
async def main():
    server = await serve_ssh(VirtualDevice("r1"))
    pid = os.fork()
    if pid == 0:  # a forked child ending as Python ends: its exit handlers run
        atexit._run_exitfuncs()
        os._exit(0)
    os.waitpid(pid, 0)
    print(os.path.exists(server.known_hosts), flush=True)
    server.close()
    await server.wait_closed()
asyncio.run(main())
"""


def test_a_forked_child_leaves_its_parents_known_hosts_file(tmp_path: Path) -> None:
    # The child's exit removed the file of the server its parent still served.
    assert run_with_tmpdir(FORKED, tmp_path) == "True"
    assert os.listdir(tmp_path) == []


async def test_ssh_server_with_given_host_key(tmp_path: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_path = tmp_path / "host_key"
    key.write_private_key(str(key_path))
    public = key.export_public_key().decode().split()[1]
    for host_keys in ([key], [key_path]):
        async with serve_ssh(router(), host_keys=host_keys) as server:
            assert server.known_hosts_entry is not None
            assert server.known_hosts_entry.split()[2] == public
    with pytest.raises(ValueError, match="cannot read host key"):
        serve_ssh(router(), host_keys=[tmp_path / "missing"])
    with pytest.raises(TypeError):
        serve_ssh(router(), host_keys=str(key_path))


async def test_another_servers_key_is_rejected() -> None:
    async with serve_ssh(router()) as one, serve_ssh(router()) as two:
        assert one.known_hosts is not None
        write(one.known_hosts, read(one.known_hosts).replace(str(one.port), str(two.port)))
        with pytest.raises(HostKeyError):
            await aioexpect.connect_ssh("127.0.0.1", two.port, known_hosts=one.known_hosts)


async def test_a_busy_port_is_a_connect_error() -> None:
    async with serve_telnet(router()) as server:
        with pytest.raises(ConnectError, match="cannot serve telnet"):
            await serve_telnet(router(), port=server.port)


async def serving(server: Any) -> None:
    """Start ``server`` (a ``serve_*`` call) and close it again."""
    async with server:
        pass


@pytest.mark.parametrize("serve", [serve_telnet, serve_ssh])
async def test_the_host_must_name_one_address(serve: Any) -> None:
    # None and "" listened on every interface, IPv4 and IPv6 each on a port
    # of its own: the SSH server's .port was 0, the telnet one's one of the
    # two; 123 was asyncio's "argument of type 'int' is not iterable".
    with pytest.raises(TypeError, match="host must be a str, the address to listen on, not None"):
        await serving(serve(router(), host=None))
    with pytest.raises(TypeError, match="host must be a str, the address to listen on, not 123"):
        await serving(serve(router(), host=123))
    with pytest.raises(ValueError, match=r'"0\.0\.0\.0" for every IPv4 interface'):
        await serving(serve(router(), host=""))
    async with serve(router(), host="localhost") as server:
        assert server.port != 0


@pytest.mark.loop("asyncio")  # (whose resolver, unlike uvloop's, can be made to answer so)
@pytest.mark.parametrize("serve", [serve_telnet, serve_ssh])
async def test_a_host_of_several_addresses_listens_on_one_port(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "localhost", where /etc/hosts gives it ::1 and 127.0.0.1 too (Debian's,
    # Fedora's), was listened on with a port of its own on each: the SSH
    # server's .port was 0, the telnet one's that of one of the two.
    localhost_on_both(monkeypatch)
    async with serve(router(), host="localhost") as server:
        for address in ("::1", "127.0.0.1"):  # (each answers: SSH's banner, telnet's options)
            async with asyncio.timeout(10):
                reader, writer = await asyncio.open_connection(address, server.port)
                try:
                    assert await reader.read(1)
                finally:
                    writer.close()
                    await writer.wait_closed()


async def test_host_keys_must_be_private_keys() -> None:
    # A public key was served: every client's handshake then failed with
    # "the server hung up before the session was open"; an int was os.fspath's
    # "expected str, bytes or os.PathLike object".
    public = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
    with pytest.raises(ValueError, match="must be a private key, not a public ssh-ed25519 key"):
        await serving(serve_ssh(router(), host_keys=[public]))
    with pytest.raises(TypeError, match="host_keys must hold private keys or their paths, not int"):
        await serving(serve_ssh(router(), host_keys=[5]))  # type: ignore[list-item]


# -- the dialogue over telnet and SSH -----------------------------------------------------------


async def test_banner_prompt_and_exit_over_telnet() -> None:
    async with (
        serve_telnet(router(banner="Authorised use only\nline two")) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, timeout=10) as s,
    ):
        m = await s.expect_prompt()
        assert "Authorised use only\r\nline two\r\n" in m.before and m.after == "r1#"
        await s.sendline("exit")
        await s.expect(EOF)


async def test_line_editing_keys() -> None:
    async with (
        serve_telnet(router()) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, timeout=10) as s,
    ):
        await s.expect_prompt()
        await s.send("show verx\x7fsion\x1b[A\r\n")  # backspace, an arrow key
        m = await s.expect_prompt()
        assert "Cisco IOS Software\r\n" in m.before
        await s.send("show rubbish\x03")  # Ctrl-C abandons the line
        m = await s.expect_prompt()
        assert "Invalid" not in m.before


async def test_prompt_changes_made_by_a_handler() -> None:
    dev = VirtualDevice("r1")

    def configure(command: str, m: re.Match[str]) -> str:
        dev.prompt = "{hostname}(config)#"
        return ""

    def end(command: str, m: re.Match[str]) -> str:
        dev.prompt = "{hostname}#"
        return ""

    dev.add_command("configure terminal", configure)
    dev.add_command("end", end)
    async with (
        serve_ssh(dev) as server,
        aioexpect.connect_ssh("127.0.0.1", server.port, known_hosts=server.known_hosts) as s,
    ):
        await s.expect_prompt()
        await s.sendline("configure terminal")
        assert (await s.expect_prompt()).after == "r1(config)#"
        await s.sendline("end")
        assert (await s.expect_prompt()).after == "r1#"


@pytest.mark.parametrize("serve", [serve_ssh, serve_telnet], ids=["ssh", "telnet"])
async def test_a_mode_entered_on_one_connection_is_that_connections_only(serve: Any) -> None:
    dev = VirtualDevice("r1", prompt="{hostname}>")

    def configure(command: str, m: re.Match[str]) -> str:
        dev.prompt = "{hostname}(config)#"
        dev.hostname = "renamed"
        return ""

    dev.add_command("configure terminal", configure)
    dev.add_command("show prompt", lambda command, m: dev.render_prompt())

    async with serve(dev) as server:
        options = {"known_hosts": server.known_hosts} if serve is serve_ssh else {}

        def connect() -> Any:
            opener = aioexpect.connect_ssh if serve is serve_ssh else aioexpect.connect_telnet
            return opener("127.0.0.1", server.port, driver="ios", timeout=10, **options)

        async with connect() as a, connect() as b:
            await a.execute("configure terminal")
            assert await a.execute("show prompt") == "renamed(config)#\n"
            assert await b.execute("show prompt") == "r1>\n"
            await b.sendline("")
            assert (await b.expect_prompt()).after == "r1>"
            async with connect() as c:  # a new connection: the device's own
                assert await c.execute("show prompt") == "r1>\n"
        dev.prompt = "{hostname}(x)#"  # not from a handler: the device's, for every connection
        async with connect() as d:
            assert await d.execute("show prompt") == "r1(x)#\n"
    assert dev.render_prompt() == "r1(x)#"


async def test_paging_by_hand() -> None:
    async with (
        serve_telnet(router(page_length=10)) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, timeout=10) as s,
    ):
        await s.expect_prompt()
        await s.sendline("show log")
        m = await s.expect_exact(" --More-- ")
        assert m.before.count("entry") == 10
        await s.send("\r")  # one more line
        m = await s.expect_exact(" --More-- ")
        assert m.before.count("entry") == 1 and "entry 10" in m.before
        await s.send("q")
        m = await s.expect_prompt()
        assert "entry 11" not in m.before
        assert await s.execute("terminal length 0") == ""
        await s.sendline("show log")
        m = await s.expect_prompt()
        assert m.before.count("entry") == 25 and "More" not in m.before


@pytest.mark.parametrize("serve", [serve_ssh, serve_telnet], ids=["ssh", "telnet"])
async def test_arrow_keys_at_the_pager_are_ignored_and_ctrl_d_ends_it(serve: Any) -> None:
    # An arrow key's ESC and '[' each turned a page, and its 'A' (with the
    # 'q' after it) was typed into the next command line; Ctrl-D turned a
    # page too.
    dev = router(page_length=2)
    async with serve(dev) as server:
        options = {"known_hosts": server.known_hosts} if serve is serve_ssh else {}
        opener = aioexpect.connect_ssh if serve is serve_ssh else aioexpect.connect_telnet
        async with opener("127.0.0.1", server.port, timeout=10, **options) as s:
            await s.expect_exact("r1#")
            await s.sendline("show log")
            await s.expect_exact(" --More-- ")
            await s.send("\x1b[A\x1bOB\x1b[1;5C\r")  # Up, Down (SS3), Ctrl-Right; Enter
            m = await s.expect_exact(" --More-- ")
            assert m.before.lstrip("\b ") == "entry 2\r\n"  # (one line: Enter's)
            await s.send("\x1b[Bq")
            m = await s.expect_exact("r1#")
            assert m.before.lstrip("\b ") == ""
            await s.sendline("show version")
            m = await s.expect_exact("r1#")
            assert m.before == "show version\r\nCisco IOS Software\r\nuptime is 1 day\r\n"
            await s.sendline("show log")
            await s.expect_exact(" --More-- ")
            await s.send("\x04")
            m = await s.expect(EOF)
            assert m.before.lstrip("\b ") == ""


async def test_ssh_password_authentication() -> None:
    async with serve_ssh(router(login=("admin", "pw-1"))) as server:
        options: dict[str, Any] = {"known_hosts": server.known_hosts, "timeout": 10}
        async with aioexpect.connect_ssh(
            "127.0.0.1", server.port, username="admin", password="pw-1", **options
        ) as s:
            assert (await s.expect_prompt()).after == "r1#"
        with pytest.raises(AuthenticationError):
            await aioexpect.connect_ssh(
                "127.0.0.1", server.port, username="admin", password="nope", **options
            )


async def test_ssh_exec_request_runs_one_command() -> None:
    async with serve_ssh(router()) as server:
        options: dict[str, Any] = {"known_hosts": server.known_hosts, "timeout": 10}
        async with aioexpect.connect_ssh(
            "127.0.0.1", server.port, command="show version", **options
        ) as s:
            assert await s.read_all() == "Cisco IOS Software\r\nuptime is 1 day\r\n"
            assert await s.wait() == 0
        async with aioexpect.connect_ssh("127.0.0.1", server.port, command="nope", **options) as s:
            assert "Invalid input" in await s.read_all()
            assert await s.wait() == 1


async def test_ssh_exec_requests_take_the_built_ins_and_show_no_prompt() -> None:
    # An exec request went straight to the command table: the built-ins that
    # drivers and scripts send ('terminal length 0', 'exit') answered
    # '% Invalid input' with exit status 1, and the caret of an unknown
    # command stood a prompt's width in, under a prompt never shown.
    dev = router()
    dev.add_command("logout", "bye")  # (the table comes first, as over a shell)
    async with (
        serve_ssh(dev) as server,
        asyncssh.connect(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, username="u"
        ) as conn,
    ):
        for command in ("terminal length 0", "terminal width 132", "exit", " quit "):
            done = await conn.run(command)
            assert (done.stdout, done.stderr, done.exit_status) == ("", "", 0), command
        done = await conn.run("logout")
        assert (done.stdout, done.exit_status) == ("bye\r\n", 0)
        done = await conn.run("terminal length")
        invalid = "^\r\n% Invalid input detected at '^' marker.\r\n"
        assert (done.stdout, done.exit_status) == (invalid, 1)


# -- dialogs: handlers that ask ---------------------------------------------------------------


def enable_router(**options: Any) -> VirtualDevice:
    """An IOS-like device: ``enable`` asks ``Password:`` (not echoed, three
    tries), ``copy running-config startup-config`` asks for a file name and
    ``reload`` for ``[confirm]``, then hangs up; ``show privilege`` says 1 or 15."""
    dev = VirtualDevice("router1", prompt="{hostname}>", **options)

    async def enable(command: str, m: re.Match[str]) -> str:
        for _attempt in range(3):
            if await ask("Password: ", secret=True) == "s3cret":
                dev.prompt = "{hostname}#"
                return ""
        return "% Bad secrets"

    async def copy(command: str, m: re.Match[str]) -> str:
        name = await ask("Destination filename [startup-config]? ") or "startup-config"
        return f"Building configuration...\n[OK] {name}"

    async def reload(command: str, m: re.Match[str]) -> str:
        if (await ask("Proceed with reload? [confirm]")).strip() not in ("", "y"):
            return ""
        raise EOFError("reloading")  # the device restarts: the connection ends

    def privilege(command: str, m: re.Match[str]) -> str:
        return f"Current privilege level is {15 if dev.render_prompt().endswith('#') else 1}"

    dev.add_command("enable", enable)
    dev.add_command("copy running-config startup-config", copy)
    dev.add_command("reload", reload)
    dev.add_command("show privilege", privilege)
    return dev


def connect(serve: Any, server: Any, **options: Any) -> Any:
    """A session to ``server`` (started by ``serve``), ``driver="ios"``."""
    if serve is serve_ssh:
        options["known_hosts"] = server.known_hosts
    opener = aioexpect.connect_ssh if serve is serve_ssh else aioexpect.connect_telnet
    return opener("127.0.0.1", server.port, driver="ios", timeout=10, **options)


both = pytest.mark.parametrize("serve", [serve_ssh, serve_telnet], ids=["ssh", "telnet"])


#: Each built-in driver's prompt shape, and what its OS answers to its init
#: commands (the Cisco OSes and Arista: nothing).
DRIVER_PROMPTS = {"junos": "admin@{hostname}> ", "vrp": "<{hostname}>"}
INIT_ANSWERS = {
    "set cli screen-length 0": "Screen length set to 0\r\n",
    "set cli screen-width 0": "Screen width set to 0\r\n",
    "screen-length 0 temporary": (
        "Info: The configuration takes effect on the current user terminal interface only.\r\n"
    ),
}


@both
@pytest.mark.parametrize("driver", [d.name for d in aioexpect.drivers.BUILTIN if d.init_commands])
async def test_every_drivers_init_commands_are_built_in(
    serve: Any, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    # JunOS's and VRP's init commands answered '% Invalid input', which
    # neither driver counts as an error: a session went on quietly with
    # paging left on, on an error path no real device takes.
    dev = router(prompt=DRIVER_PROMPTS.get(driver, "{hostname}#"), page_length=5)
    transcript = io.StringIO()
    with caplog.at_level(logging.WARNING):
        async with serve(dev) as server:
            async with connect(serve, server, logfile=transcript) as s:
                s.driver = driver
                await s.login()
                assert await s.execute("show log") == "".join(f"entry {i}\n" for i in range(25))
            if serve is serve_ssh:  # an exec request answers them so too
                async with asyncssh.connect(
                    "127.0.0.1", server.port, known_hosts=server.known_hosts, username="u"
                ) as conn:
                    for command in aioexpect.drivers.get(driver).init_commands:
                        done = await conn.run(command)
                        answer = INIT_ANSWERS.get(command, "")
                        assert (done.stdout, done.exit_status) == (answer, 0), command
    text, prompt = transcript.getvalue(), dev.render_prompt()
    for command in aioexpect.drivers.get(driver).init_commands:
        assert f"{command}\r\n{INIT_ANSWERS.get(command, '')}{prompt}" in text, (command, text)
    assert "Invalid" not in text and "More" not in text, text  # no error; paging off
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_respond_gives_a_dialogs_answers_and_shows_it() -> None:
    dev = enable_router()
    answer = await dev.respond("copy running-config startup-config", answers=["backup"])
    assert answer == "Destination filename [startup-config]? backup\n" + (
        "Building configuration...\n[OK] backup\n"
    )
    answer = await dev.respond("enable", answers=["wr0ng", "s3cret"])
    assert answer == "Password: \nPassword: \n"  # secret: the answers are not shown
    assert await dev.respond("show privilege") == "Current privilege level is 15\n"
    dev = enable_router()
    with pytest.raises(EOFError, match="no answer left for 'Password: '"):
        await dev.respond("enable", answers=["wr0ng"])
    with pytest.raises(RuntimeError, match=r"respond\(command, answers="):
        await dev.respond("enable")  # no one to ask
    with pytest.raises(TypeError, match="not a str: put it in a list") as bad:
        await dev.respond("enable", answers="s3cret")  # type: ignore[arg-type]
    assert "s3cret" not in str(bad.value)  # (an answer is often a password)
    with pytest.raises(TypeError, match="not int") as bad:
        await dev.respond("enable", answers=31337)  # type: ignore[arg-type]
    assert "31337" not in str(bad.value)
    with pytest.raises(TypeError, match="not bytes") as bad:
        await dev.respond("enable", answers=["s3cret", b"x"])  # type: ignore[list-item]
    assert "s3cret" not in str(bad.value)
    with pytest.raises(TypeError):
        await ask(b"Password: ")  # type: ignore[arg-type]
    assert await dev.respond("show privilege", answers=[]) == "Current privilege level is 1\n"


@both
async def test_text_that_python_calls_unprintable_is_typed_text(serve: Any) -> None:
    # The line discipline kept only what str.isprintable() accepts: a no-break
    # space, U+3000, the ZWJ inside an emoji and a soft hyphen vanished from
    # the command line, and from its echo (execute then returned the echoed
    # line as output), and a telnet password holding one was refused.
    typed = [
        "B\u00fcro\u00a0West",
        "\u6771\u4eac\u3000\u672c\u793e",
        "dev \U0001f469\u200d\U0001f4bb",
        "a\u00adb",
    ]
    password = "correct\u00a0horse\u3000battery\u200dstaple\u00ad"
    echo = {r"echo (.*)": lambda c, m: m.group(1)}
    dev = VirtualDevice("r1", commands=echo, login=("admin", password))
    async with (
        serve(dev) as server,
        connect(serve, server, username="admin", password=password) as s,
    ):
        for text in typed:
            assert await s.execute(f"echo {text}") == text + "\n"


@both
async def test_enable_asks_a_password_that_is_not_echoed_and_asks_again(serve: Any) -> None:
    async with serve(enable_router()) as server, connect(serve, server) as s:
        assert await s.execute("show privilege") == "Current privilege level is 1\n"
        await s.sendline("enable")
        m = await s.expect(s.driver.password_patterns)
        assert (m.before, m.after) == ("enable\r\n", "Password: ")
        await s.send_secret("wr0ng")
        m = await s.expect(s.driver.password_patterns)
        assert (m.before, m.after) == ("\r\n", "Password: ")  # no echo, asked again
        await s.send_secret("s3cret")
        m = await s.expect_prompt()
        assert (m.before, m.after) == ("\r\n", "router1#")  # the new prompt, privileged
        assert await s.execute("show privilege") == "Current privilege level is 15\n"
        await s.sendline("enable")
        for password in ("a", "b", "c"):
            await s.expect(s.driver.password_patterns)
            await s.send_secret(password)
        m = await s.expect_prompt()
        assert m.before == "\r\n% Bad secrets\r\n" and m.after == "router1#"


@both
async def test_login_answers_enable_and_stops_at_the_second_question(serve: Any) -> None:
    async with serve(enable_router()) as server, connect(serve, server) as s:
        await s.execute("show privilege")
        await s.sendline("enable")
        with pytest.raises(AuthenticationError, match="asked for the password again"):
            await s.login(password="wr0ng")
        assert s.buffer.endswith("Password: ")  # still asked
        assert (await s.login(password="s3cret")).after == "router1#"
        assert await s.execute("show privilege") == "Current privilege level is 15\n"


@both
async def test_a_question_answered_with_text_or_enter_and_a_confirm_that_hangs_up(
    serve: Any,
) -> None:
    async with serve(enable_router()) as server, connect(serve, server) as s:
        await s.execute("show privilege")
        await s.sendline("copy running-config startup-config")
        await s.expect_exact("Destination filename [startup-config]? ")
        await s.sendline("backup-config")
        m = await s.expect_prompt()
        assert m.before == "backup-config\r\nBuilding configuration...\r\n[OK] backup-config\r\n"
        await s.sendline("copy running-config startup-config")
        await s.expect_exact("? ")
        await s.sendline("")  # Enter: the default
        assert "[OK] startup-config\r\n" in (await s.expect_prompt()).before
        await s.sendline("reload")
        await s.expect_exact("Proceed with reload? [confirm]")
        await s.sendline("n")
        assert (await s.expect_prompt()).before == "n\r\n"  # not confirmed: still there
        await s.sendline("reload")
        await s.expect_exact("[confirm]")
        await s.sendcontrol("c")  # Ctrl-C: not confirmed either
        assert (await s.expect_prompt()).before == "^C\r\n"
        await s.sendline("reload")
        await s.expect_exact("[confirm]")
        await s.sendline("")
        m = await s.expect(EOF)
        assert m.before == "\r\n"  # confirmed: the device went away


def confirming_router() -> VirtualDevice:
    """``reload`` asks ``[confirm]`` and takes one key, as IOS does: ``y``
    or Enter confirms (the device hangs up), any other key declines."""
    dev = VirtualDevice("router1")

    async def reload(command: str, m: re.Match[str]) -> str:
        if await ask("Proceed with reload? [confirm]", key=True) not in ("", "y"):
            return "declined"
        raise EOFError("reloading")

    dev.add_command("reload", reload)
    return dev


@both
async def test_a_confirm_question_takes_one_key(serve: Any) -> None:
    async with serve(confirming_router()) as server:
        async with connect(serve, server) as s:
            await s.expect_prompt()
            for key in ("n", "\x03"):  # no line end: the key alone answers
                await s.sendline("reload")
                await s.expect_exact("[confirm]")
                await s.send(key)
                m = await s.expect_prompt()
                assert m.before == "\r\ndeclined\r\n"  # (the key is not echoed)
            await s.sendline("reload")
            await s.expect_exact("[confirm]")
            await s.send("y")
            assert (await s.expect(EOF)).before == "\r\n"
        async with connect(serve, server) as s:
            await s.expect_prompt()
            await s.sendline("reload")
            await s.expect_exact("[confirm]")
            await s.sendline("")  # Enter (a whole line end: one key)
            assert (await s.expect(EOF)).before == "\r\n"
    assert await confirming_router().respond("reload", answers=["n"]) == (
        "Proceed with reload? [confirm]\ndeclined\n"
    )


async def test_respond_answers_a_key_question_with_one_key() -> None:
    # respond() returned a whole answer ("yes") as the key: over the network
    # the same typing answers "y", and the rest is the next command line.
    dev = confirming_router()
    declined = await dev.respond("reload", answers=["n"])
    assert declined == "Proceed with reload? [confirm]\ndeclined\n"
    for enter in ("", "\r", "\r\n"):  # Enter, as a client may send it: confirms
        with pytest.raises(EOFError, match="reloading"):
            await dev.respond("reload", answers=[enter])
    for answer in ("yes", "y\r", "no"):  # never one key on the wire: refused
        with pytest.raises(ValueError, match=r"asked with key=True, is one key .* not \d char"):
            await dev.respond("reload", answers=[answer])


def repeating_router() -> VirtualDevice:
    """``line`` and ``key`` ask a question and show the answer they got."""

    async def question(command: str, m: re.Match[str]) -> str:
        return repr(await ask("Q? ", secret=True, key=command == "key"))

    return VirtualDevice("r1", commands={"line|key": question})


@pytest.mark.parametrize(
    ("command", "typed", "read"),
    [
        ("line", "\r", "''"),  # Enter
        ("line", "a\r\n", "'a'"),
        ("line", "a\r\x00", "'a'"),  # telnet's CR NUL (refused: an Enter was added to it)
        ("line", "a", "'a'"),
        ("line", "", "''"),
        ("line", "ab\x7f", "'a'"),  # backspace deletes
        ("line", "a\x03", "'\\x03'"),  # Ctrl-C abandons the line
        ("line", "a\x1b[Db", "'ab'"),  # an arrow key is skipped
        ("line", "\x04", EOFError),  # Ctrl-D first: the client went away
        ("line", "a\nb", ValueError),  # typed: b would be the next command
        ("line", "a\x03b", ValueError),
        ("line", "a\r\r", ValueError),
        ("key", "\x04", EOFError),
        ("key", "\x1b[Ay", "'y'"),
        ("key", "\x1b", ValueError),  # the device waits for the rest of the sequence
    ],
)
async def test_respond_reads_answers_as_the_device_reads_what_is_typed(
    command: str, typed: str, read: Any
) -> None:
    # respond() took answers no client can type as they were: '\r' for ''
    # (Enter), 'a\nb' (over the network: 'a', then b as the next command),
    # 'ab\x7f' (over the network: 'a'), '\x04' (the client went away); and
    # refused 'a\r\x00', which telnet and SSH clients' typing reads as 'a'.
    dev = repeating_router()
    if isinstance(read, str):
        assert await dev.respond(command, answers=[typed]) == f"Q? \n{read}\n"
        return
    if command == "line" and read is ValueError:
        typed = "s3cret" + typed  # (never in the error: an answer may be a password)
    with pytest.raises(read) as error:
        await dev.respond(command, answers=[typed])
    assert "'Q? '" in str(error.value) and "s3cret" not in str(error.value)


@both
async def test_a_question_nobody_answers_waits_until_the_connection_ends(serve: Any) -> None:
    dev = VirtualDevice("r1")
    asked = asyncio.Event()
    ended: list[str] = []

    async def hold(command: str, m: re.Match[str]) -> str:
        asked.set()
        try:
            return await ask("Really? ")
        except EOFError:
            ended.append(command)
            if command == "shrug":
                return "never mind"  # (goes on: the connection ends all the same)
            raise

    dev.add_command("hold|shrug", hold)
    async with serve(dev) as server:
        async with connect(serve, server) as s:
            await s.expect_prompt()
            await s.sendline("hold")
            await s.expect_exact("Really? ")
            async with asyncio.timeout(10):
                await asked.wait()
            assert not ended
        # The client closed: the handler ends.
        await wait_until(lambda: ended == ["hold"], "the handler got EOFError")
        async with connect(serve, server) as s, connect(serve, server) as t:
            await s.sendline("hold")
            await t.sendline("shrug")
            await s.expect_exact("Really? ")
            await t.expect_exact("Really? ")
            # The server closing while they ask: EOFError in their handlers
            # too (not CancelledError: their clean-up runs), and no task left.
            server.close()
            async with asyncio.timeout(10):
                await server.wait_closed()
        assert sorted(ended) == ["hold", "hold", "shrug"]


@both
async def test_every_ask_after_the_end_raises_eof_error(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Over SSH, the second ask wrote its question to the closed channel: it
    # raised BrokenPipeError, logged at ERROR as a handler's failure.
    seen: list[str] = []

    async def asks_on(command: str, m: re.Match[str]) -> str:
        for question in ("Q1? ", "Q2? ", "Q3? "):
            try:
                await ask(question)
            except EOFError:
                seen.append(command)
        return "gone"

    dev = VirtualDevice("r1", commands={"left|closed": asks_on})
    async with serve(dev) as server:
        async with connect(serve, server) as s:
            await s.sendline("left")
            await s.expect_exact("Q1? ")
        await wait_until(lambda: seen == ["left"] * 3, "the asks after the client left ended")
        async with connect(serve, server) as s:
            await s.sendline("closed")
            await s.expect_exact("Q1? ")
            server.close()
            async with asyncio.timeout(10):
                await server.wait_closed()
    assert seen == ["left"] * 3 + ["closed"] * 3
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@both
async def test_a_handler_that_goes_on_after_eof_error_is_cancelled_at_close(serve: Any) -> None:
    # Since the close's cancellation became an EOFError in ask(), a handler
    # that caught it and went on (waiting elsewhere, or asking in a loop) was
    # never stopped: wait_closed() hung.
    seen: list[str] = []
    stop = asyncio.Event()  # (ends them if nothing else does: before the fix)

    async def goes_on(command: str, m: re.Match[str]) -> str:
        try:
            await ask("Waits? ")
        except EOFError:
            seen.append(f"{command}: EOFError")  # (its clean-up runs first)
        try:
            while command == "spin" and not stop.is_set():
                with contextlib.suppress(EOFError):
                    await ask("Again? ")
            await stop.wait()
        except asyncio.CancelledError:
            seen.append(f"{command}: cancelled")
            raise
        return "never"

    dev = VirtualDevice("r1", commands={"spin|wait": goes_on})
    async with serve(dev) as server:
        async with connect(serve, server) as s, connect(serve, server) as t:
            await s.sendline("spin")
            await t.sendline("wait")
            await s.expect_exact("Waits? ")
            await t.expect_exact("Waits? ")
            server.close()
            try:
                async with asyncio.timeout(10):
                    await server.wait_closed()
            finally:
                stop.set()
    assert sorted(seen) == [
        "spin: EOFError",
        "spin: cancelled",
        "wait: EOFError",
        "wait: cancelled",
    ]


def _docs_dialog() -> dict[str, Any]:
    """The two examples of the Dialogs section of docs/testing.rst, run."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "testing.rst").read_text()
    section = text.split("\nDialogs\n-------\n", 1)[1].split("\n- ", 1)[0]
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", section)
    assert len(blocks) == 2, "the Dialogs section has a device and a test"
    namespace: dict[str, Any] = {"aioexpect": aioexpect, "serve_telnet": serve_telnet}
    for block in blocks:
        exec(textwrap.dedent(block), namespace)
    return namespace


async def test_the_dialog_examples_in_the_docs_work() -> None:
    namespace = _docs_dialog()
    await namespace["test_reload_is_confirmed"]()
    router = namespace["router"]
    async with serve_ssh(router) as server, connect(serve_ssh, server) as s:
        await s.expect_prompt()
        await s.sendline("reload")
        await s.expect_exact("[confirm]")
        await s.sendline("n")
        await s.expect_prompt()
        await s.sendline("enable")
        assert (await s.login(password="s3cret")).after == "edge1#"
    assert await router.respond("enable", answers=["wr0ng", "s3cret"]) == "Password: \n" * 2


async def test_an_ssh_exec_request_reads_its_answers_from_stdin() -> None:
    async with serve_ssh(enable_router()) as server:
        async with aioexpect.connect_ssh(
            "127.0.0.1",
            server.port,
            command="copy running-config startup-config",
            known_hosts=server.known_hosts,
            timeout=10,
        ) as s:
            await s.expect_exact("Destination filename [startup-config]? ")
            await s.sendline("backup")
            rest = await s.read_all()
            assert rest == "backup\r\nBuilding configuration...\r\n[OK] backup\r\n"  # a pty: echo
            assert await s.wait() == 0
        async with asyncssh.connect(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, username="u"
        ) as conn:  # no pty: no echo
            done = await conn.run("copy running-config startup-config", input="backup\n")
            assert done.stdout == (
                "Destination filename [startup-config]? "
                "Building configuration...\r\n[OK] backup\r\n"
            )
            proc = await conn.create_process("enable")
            assert await proc.stdout.readexactly(10) == "Password: "
            proc.stdin.write_eof()  # stdin ends unanswered: so does the handler
            done = await proc.wait()
            assert (done.stdout, done.exit_status) == ("", 0)


# -- real clients in a pty ------------------------------------------------------------------------


async def test_openssh_client_runs_commands() -> None:
    ssh = need("ssh", "openssh-client")
    async with serve_ssh(router(banner="Welcome to r1")) as server:
        async with aioexpect.spawn(ssh, ssh_args(server, "anyone"), timeout=10) as s:
            m = await s.expect_prompt()
            assert "Welcome to r1" in m.before
            assert await s.execute("show interface Te1/1") == "Te1/1 is up\n"
            await s.sendline("exit")
            await s.expect(EOF)
            assert await s.wait() == 0
        argv = [*ssh_args(server, "anyone"), "show version"]
        async with aioexpect.spawn(ssh, argv, pty=False, timeout=10) as s:
            assert await s.read_all() == "Cisco IOS Software\r\nuptime is 1 day\r\n"


async def test_telnet_client_runs_commands() -> None:
    telnet = need("telnet", "the telnet package")
    async with serve_telnet(router(page_length=5)) as server:
        async with aioexpect.spawn(telnet, ["127.0.0.1", str(server.port)], timeout=10) as s:
            m = await s.expect_prompt()
            assert "Escape character is" in m.before
            expected = "".join(f"entry {i}\n" for i in range(25))
            assert await s.execute("show log") == expected
            await s.sendline("exit")
            m = await s.expect(EOF)
            assert "Connection closed by foreign host" in m.before


async def test_serve_telnet_keeps_nothing_of_past_connections() -> None:
    """A long test run does not keep every connection it made (telnetlib3's
    own server queues each client for ``wait_for_client()``: not used)."""
    import gc

    from telnetlib3.server import TelnetServer

    def alive() -> int:
        gc.collect()
        return sum(isinstance(o, TelnetServer) for o in gc.get_objects())

    device = VirtualDevice("r1", prompt="r1#")
    earlier = alive()  # (left by other tests, if any)
    async with serve_telnet(device) as server:
        for _ in range(5):
            async with aioexpect.connect_telnet("127.0.0.1", server.port, timeout=10) as s:
                await s.expect_exact("r1#")
        # (the last one may still be on its way out)
        await wait_until(lambda: alive() <= earlier + 1, "past connections are let go", limit=5)


async def test_a_failing_handler_is_shown_and_logged_over_a_shell_and_an_exec_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Over an exec request it exited 0, its error logged at DEBUG only.
    dev = VirtualDevice("r1")

    async def boom(command: str, m: re.Match[str]) -> str:
        await ask("Name? ")
        raise ValueError("handler bug")

    dev.add_command("boom", boom)
    shown = "% Error in the command handler: ValueError('handler bug')\r\n"
    async with serve_ssh(dev) as server:
        async with connect(serve_ssh, server) as s:
            await s.expect_prompt()
            await s.sendline("boom")
            await s.expect_exact("Name? ")
            await s.sendline("x")
            assert (await s.expect_prompt()).before == "x\r\n" + shown
        async with asyncssh.connect(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, username="u"
        ) as conn:
            done = await conn.run("boom", input="x\n")
            assert (done.stdout, done.stderr, done.exit_status) == ("Name? ", shown, 1)
    failed = [r for r in caplog.records if "the handler of 'boom' failed" in r.getMessage()]
    assert [r.levelname for r in failed] == ["ERROR", "ERROR"]


async def test_a_handler_raising_stop_iteration_is_shown_as_its_own_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The client was shown RuntimeError('coroutine raised StopIteration'),
    # Python's word for it leaving respond(), a coroutine.
    def first_match(command: str, m: re.Match[str]) -> str:
        return next(line for line in ["a"] if line == "b")

    dev = VirtualDevice("r1", commands={"first": first_match})
    with pytest.raises(RuntimeError, match="the handler for 'first' raised StopIteration") as got:
        await dev.respond("first")
    assert isinstance(got.value.__cause__, StopIteration)
    shown = "% Error in the command handler: StopIteration()\r\n"
    async with serve_telnet(dev) as server, connect(serve_telnet, server) as s:
        await s.expect_prompt()
        await s.sendline("first")
        assert (await s.expect_prompt()).before == "first\r\n" + shown
    async with (
        serve_ssh(dev) as server,
        asyncssh.connect(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, username="u"
        ) as conn,
    ):
        done = await conn.run("first")
        assert (done.stdout, done.stderr, done.exit_status) == ("", shown, 1)
    failed = [r for r in caplog.records if "the handler of 'first' failed" in r.getMessage()]
    assert len(failed) == 2


@contextlib.asynccontextmanager
async def raw_client(serve: Any, server: Any) -> AsyncIterator[Any]:
    """A client writing bytes as given, packet by packet: ``write(data)``,
    ``synced()`` (returns once the server has taken in what came before,
    by a request it answers: telnet ``IAC DO 99``, a refused SSH channel),
    ``read_until(text)`` (what came until ``text``, which it takes)."""
    got = bytearray()
    if serve is serve_telnet:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        chunks: Callable[[], Awaitable[bytes]] = functools.partial(reader.read, 4096)
        write: Callable[[bytes], None] = writer.write

        async def synced() -> None:
            writer.write(b"\xff\xfd\x63")
            await read_until(b"\xff\xfc\x63")  # (IAC WONT 99)

        closing: Callable[[], Any] = writer.close
    else:
        conn = await asyncssh.connect(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, username="u"
        )
        stdin, stdout, _ = await conn.open_session(term_type="vt100", encoding=None)
        chunks, write = functools.partial(stdout.read, 4096), stdin.write

        async def synced() -> None:
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.open_connection("127.0.0.1", 9)  # (no forwarding)

        closing = conn.close

    async def read_until(text: bytes) -> bytes:
        async with asyncio.timeout(10):
            while text not in got:
                chunk = await chunks()
                assert chunk, f"the server hung up; got {bytes(got)!r}"
                got.extend(chunk)
        before, _, after = bytes(got).partition(text)
        got[:] = after
        return before

    client = types.SimpleNamespace(write=write, synced=synced, read_until=read_until)
    try:
        yield client
    finally:
        closing()


@both
async def test_a_character_split_between_packets_arrives_whole(serve: Any) -> None:
    # A packet holding only the first byte of "é" (c3 a9) read as "": the
    # server took it for the end of file and hung up.
    got: list[str] = []

    async def name(command: str, m: re.Match[str]) -> str:
        got.append(await ask("Name? "))
        got.append(await ask("Sure? [confirm]", key=True))
        return "ok"

    dev = VirtualDevice("r1", commands={"name": name, "x.*": lambda c, m: f"cmd={c!r}"})
    async with serve(dev) as server, raw_client(serve, server) as client:
        await client.read_until(b"r1#")
        for first, rest, answered in (
            (b"x\xc3", b"\xa9\r", b"cmd='x\xc3\xa9'"),  # (with a byte before it: it worked)
            (b"\xc3", b"\xa9x\r", b"Invalid input"),  # a command: 'éx'
            (b"name\r", b"", b"Name? "),
            (b"\xc3", b"\xa9\r", b"Sure? [confirm]"),  # an answer
            (b"\xc3", b"\xa9", b"ok\r\n"),  # a key
        ):
            client.write(first)
            await client.synced()  # (the server read it alone)
            client.write(rest)
            await client.read_until(answered)
    assert got == ["é", "é"]


# -- a prompt of more than one line ----------------------------------------------------

JUNOS_PROMPT = "\n[edit]\nadmin@{hostname}# "
SHOWN = "\r\n[edit]\r\nadmin@mx1# "
INVALID = " " * len("admin@mx1# ") + "^\n% Invalid input detected at '^' marker.\n"


async def test_the_caret_of_an_unknown_command_is_past_the_prompt_s_last_line() -> None:
    """JunOS's ``[edit]`` above ``admin@mx1#``: the caret stood as far
    right as the whole prompt is long, not under the command's start."""
    device = VirtualDevice("mx1", prompt=JUNOS_PROMPT)
    assert await device.respond("show nonsense") == INVALID
    device.prompt = "{hostname}>"
    assert await device.respond("x") == "    ^\n% Invalid input detected at '^' marker.\n"


async def test_a_prompt_of_more_than_one_line_goes_as_a_terminal_sends_it() -> None:
    """Its ``\\n`` went as a lone line feed, where a device's terminal (and
    the device's own answers) send ``\\r\\n``: a prompt pattern written for
    the real device (``\\[edit\\]\\r\\n``) never matched."""
    device = VirtualDevice("mx1", prompt=JUNOS_PROMPT)
    async with serve_telnet(device) as telnet, await serve_ssh(device) as ssh:
        async with (
            aioexpect.connect_telnet("127.0.0.1", telnet.port, timeout=5) as t,
            aioexpect.connect_ssh(
                "127.0.0.1", ssh.port, known_hosts=ssh.known_hosts, timeout=5
            ) as s,
        ):
            for session in (t, s):
                m = await session.expect_exact(SHOWN)
                assert m.before == ""
                await session.sendline("show nonsense")
                m = await session.expect_exact(SHOWN)
                assert m.before == "show nonsense\r\n" + INVALID.replace("\n", "\r\n")
