"""A served VirtualDevice reads what a client sends as a terminal would: an
interrupt sent out of band (an SSH ``signal`` request, telnet's ``IAC IP``)
is Ctrl-C where it comes, and behind a pty CR and LF each end a line."""

from __future__ import annotations

import asyncio
import re
import signal
from typing import Any

import pytest

import aioexpect
from aioexpect.testing import VirtualDevice, ask, serve_ssh, serve_telnet

from .conftest import need


def interrupted_router() -> tuple[VirtualDevice, asyncio.Event, asyncio.Event]:
    """``really`` asks a question; ``work`` works until told to go on (the
    second event), then asks.  Each shows the answer it got."""
    working, go_on = asyncio.Event(), asyncio.Event()

    async def really(command: str, m: re.Match[str]) -> str:
        return repr(await ask("Really? "))

    async def work(command: str, m: re.Match[str]) -> str:
        working.set()
        await go_on.wait()
        return repr(await ask("Go on? "))

    return VirtualDevice("r1", commands={"really": really, "work": work}), working, go_on


def exec_without_a_pty(server: Any, command: str = "really") -> Any:
    """A device's ``command``, asked for as an exec request (no pty)."""
    return aioexpect.connect_ssh(
        "127.0.0.1",
        server.port,
        known_hosts=server.known_hosts,
        command=command,
        request_pty=False,
        timeout=10,
    )


async def test_sendintr_over_ssh_with_a_pty_is_ctrl_c() -> None:
    dev, working, go_on = interrupted_router()
    async with serve_ssh(dev) as server:
        async with aioexpect.connect_ssh(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, timeout=10
        ) as s:
            assert s.transport.get_extra_info("pty") is True
            await s.expect_exact("r1#")
            await s.sendline("really")
            await s.expect_exact("Really? ")
            await s.sendintr()
            assert (await s.expect_exact("r1#")).before == "^C\r\n'\\x03'\r\n"
            # While a handler works (not in ask): typed ahead, its next ask reads it.
            await s.sendline("work")
            async with asyncio.timeout(10):
                await working.wait()
            await s.sendintr()
            go_on.set()
            assert (await s.expect_exact("r1#")).before.endswith("Go on? ^C\r\n'\\x03'\r\n")
            # At the prompt it abandons the line typed so far (not 'bogusreally').
            await s.send("bogus")
            await s.sendintr()
            await s.sendline("really")
            assert (await s.expect_exact("Really? ")).before == "bogus^C\r\nr1#really\r\n"


@pytest.mark.parametrize("where", ["shell", "exec request"])
async def test_sendintr_over_ssh_without_a_pty_ends_the_channel_as_sshd_s_shell(
    where: str,
) -> None:
    # Without a pty sendintr() sends an SSH signal request for INT, which the
    # device took for Ctrl-C: the question was answered '\x03' and the shell
    # went on, where behind a real sshd the shell (bash, not interactive
    # without a terminal) dies of it, at a question, a command or its prompt
    # alike (tests/integration/test_real_signals.py).
    dev, _, _ = interrupted_router()
    async with serve_ssh(dev) as server:
        opener = (
            exec_without_a_pty(server)
            if where == "exec request"
            else aioexpect.connect_ssh(
                "127.0.0.1",
                server.port,
                known_hosts=server.known_hosts,
                request_pty=False,
                timeout=10,
            )
        )
        async with opener as s:
            if where == "shell":
                await s.expect_exact("r1#")
                await s.sendline("really")
            await s.expect_exact("Really? ")
            await s.sendintr()
            assert await s.read_all() == ""
            assert await s.wait() is None
            assert s.signal_status == signal.SIGINT


@pytest.mark.parametrize("name", ["TERM", "HUP", "KILL", "USR1", "INT"])
async def test_an_ssh_signal_that_ends_a_program_ends_the_devices_channel(name: str) -> None:
    # Without a pty, a signal request other than INT was ignored: the shell
    # answered on, where sshd's shell ends, its exit that signal.
    dev, _, _ = interrupted_router()
    number = int(getattr(signal, f"SIG{name}"))
    async with serve_ssh(dev) as server:
        async with aioexpect.connect_ssh(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, request_pty=False, timeout=10
        ) as s:
            await s.expect_exact("r1#")
            s.transport._chan.send_signal(name)  # (aioexpect sends INT only: sendintr)
            await s.expect(aioexpect.EOF)
            assert await s.wait() is None
            assert s.signal_status == number
        # An exec request's question, too; and a name that is no signal is ignored.
        async with exec_without_a_pty(server) as s:
            await s.expect_exact("Really? ")
            s.transport._chan.send_signal("NOSUCH")
            s.transport._chan.send_signal(name)
            assert await s.read_all() == ""
            assert await s.wait() is None
            assert s.signal_status == number


async def test_an_ssh_signal_while_an_exec_requests_handler_works_ends_it_so() -> None:
    # Sent while a handler worked outside ask(), a TERM was never read (an
    # exec request reads no command line after its handler): the channel
    # exited 0, the signal dropped, where sshd's command ends with it.
    working, go_on = asyncio.Event(), asyncio.Event()

    async def slow(command: str, m: re.Match[str]) -> str:
        working.set()
        await go_on.wait()
        return "done"

    dev = VirtualDevice("r1", commands={"slow": slow})
    async with serve_ssh(dev) as server:
        async with exec_without_a_pty(server, "slow") as s:
            await working.wait()
            s.transport._chan.send_signal("TERM")
            # (one connection's requests are taken in order: once another
            # channel's command has answered, the signal has come)
            assert (await s.transport._conn.run("show clock")).exit_status == 1
            go_on.set()
            assert await s.read_all() == "done\r\n"  # (it finishes first, as in a shell)
            assert await s.wait() is None
            assert s.signal_status == signal.SIGTERM


def asking_router() -> tuple[VirtualDevice, asyncio.Event, asyncio.Event, list[str]]:
    """``slow`` works until told to go on (the second event), then answers
    ``done``; ``work`` then asks; ``really`` asks.  The messages of the
    ``EOFError`` their questions raised are in the list."""
    working, go_on = asyncio.Event(), asyncio.Event()
    said: list[str] = []

    async def asked(question: str) -> str:
        try:
            return await ask(question)
        except EOFError as exc:
            said.append(str(exc))
            raise

    async def slow(command: str, m: re.Match[str]) -> str:
        working.set()
        await go_on.wait()
        return "done" if command == "slow" else await asked("Go on? ")

    async def really(command: str, m: re.Match[str]) -> str:
        return await asked("Really? ")

    commands = {"slow": slow, "work": slow, "really": really}
    return VirtualDevice("r1", commands=commands), working, go_on, said


async def signal_while_working(s: aioexpect.Session, working: asyncio.Event, name: str) -> None:
    """Send ``name`` to the channel while its handler works; return once it came."""
    async with asyncio.timeout(10):
        await working.wait()
    s.transport._chan.send_signal(name)
    # (one connection's requests are taken in order: once another channel's
    # command has answered, the signal has come)
    assert (await s.transport._conn.run("show clock")).exit_status == 1


@pytest.mark.parametrize("command", ["slow", "work"])
async def test_an_ssh_signal_while_a_shell_handler_works_shows_nothing_after_its_output(
    command: str,
) -> None:
    # A TERM that came while a handler worked outside ask() was acted on
    # only when the device next read: after the handler's output came one
    # more prompt (or the question it asked next), where sshd's shell shows
    # nothing more once the signal came (tests/integration/test_real_signals.py).
    dev, working, go_on, said = asking_router()
    async with serve_ssh(dev) as server:
        async with aioexpect.connect_ssh(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, request_pty=False, timeout=10
        ) as s:
            await s.expect_exact("r1#")
            await s.sendline(command)
            await signal_while_working(s, working, "TERM")
            go_on.set()
            assert await s.read_all() == ("done\r\n" if command == "slow" else "")
            assert await s.wait() is None
            assert s.signal_status == signal.SIGTERM
    assert said == (
        []
        if command == "slow"
        else ["a TERM signal had ended the connection when 'Go on? ' was asked"]
    )


@pytest.mark.parametrize("pty", [False, True], ids=["no pty", "pty"])
async def test_ask_s_eof_error_names_the_signal_that_ended_the_connection(pty: bool) -> None:
    # It said "the client went away without answering 'Really? '".
    dev, _, _, said = asking_router()
    async with serve_ssh(dev) as server:
        async with aioexpect.connect_ssh(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, request_pty=pty, timeout=10
        ) as s:
            await s.expect_exact("r1#")
            await s.sendline("really")
            await s.expect_exact("Really? ")
            s.transport._chan.send_signal("HUP")
            await s.expect(aioexpect.EOF)
            assert s.signal_status == signal.SIGHUP
    assert said == ["a HUP signal ended the connection while 'Really? ' was asked"]


async def test_an_ssh_signal_that_is_no_signal_is_ignored() -> None:
    dev, _, _ = interrupted_router()
    async with serve_ssh(dev) as server:
        async with aioexpect.connect_ssh(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, request_pty=False, timeout=10
        ) as s:
            await s.expect_exact("r1#")
            s.transport._chan.send_signal("NOSUCH")
            await s.sendline("really")
            await s.expect_exact("Really? ")
            await s.sendline("yes")
            assert (await s.expect_exact("r1#")).before == "'yes'\r\n"


async def test_a_telnet_clients_interrupt_process_is_ctrl_c() -> None:
    # telnet's 'send ip' (IAC IP) was swallowed: the question stayed unanswered.
    telnet = need("telnet", "the telnet package")
    dev, _, _ = interrupted_router()
    async with serve_telnet(dev) as server:
        async with aioexpect.spawn(telnet, ["127.0.0.1", str(server.port)], timeout=10) as s:
            await s.expect_exact("r1#")
            await s.sendline("really")
            await s.expect_exact("Really? ")
            await s.send("\x1d")  # telnet's escape: its own prompt
            await s.expect_exact("telnet> ")
            await s.sendline("send ip")
            assert (await s.expect_exact("r1#")).before.endswith("^C\r\n'\\x03'\r\n")
            await s.sendline("exit")
            await s.expect(aioexpect.EOF)


@pytest.mark.parametrize(
    ("serve", "pty"),
    [(serve_ssh, True), (serve_ssh, False), (serve_telnet, False)],
    ids=["ssh, pty", "ssh, no pty", "telnet"],
)
async def test_cr_lf_ends_two_lines_behind_a_pty_only(serve: Any, pty: bool) -> None:
    # Behind a pty the device read 'show version\r\n' as one line, where
    # a real terminal (bash behind OpenSSH's sshd) reads 'show version' and
    # then an empty line, with a prompt each; execute counts it so (two
    # prompts owed: it waited for the second, which never came).  Over
    # telnet (the NVT's CR LF) and SSH without a pty it is one line end.
    dev, _, _ = interrupted_router()
    dev.add_command("show version", "v1")
    async with serve(dev) as server:
        if serve is serve_ssh:
            opening = aioexpect.connect_ssh(
                "127.0.0.1",
                server.port,
                known_hosts=server.known_hosts,
                request_pty=pty,
                timeout=10,
            )
        else:
            opening = aioexpect.connect_telnet("127.0.0.1", server.port, timeout=10)
        async with opening as s:
            await s.expect_exact("r1#")
            await s.send("show version\r\n")
            await s.send("really\r")
            m = await s.expect_exact("Really? ")
            echo = serve is serve_telnet or pty
            shown = "show version\r\nv1\r\n" if echo else "v1\r\n"
            extra = "r1#\r\n" if pty else ""  # (the empty line's echo and prompt)
            assert m.before == shown + extra + ("r1#really\r\n" if echo else "r1#")
            # An answer too: its LF is an empty command line, behind a pty.
            await s.send("yes\r\n")
            await s.send("show version\r")
            m = await s.expect_exact("v1\r\n")
            answered = "yes\r\n'yes'\r\n" if echo else "'yes'\r\n"
            command = "r1#show version\r\n" if echo else "r1#"
            assert m.before == answered + ("r1#\r\n" if pty else "") + command
