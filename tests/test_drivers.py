"""Drivers: the dataclass, the registry, guessing (``driver="auto"``), init
commands, pagers and error patterns, over emulated devices on 127.0.0.1."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

import aioexpect
from aioexpect import CommandError, drivers
from aioexpect import _driver as driver_core
from aioexpect.drivers import Driver
from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

from .helpers import bare_shell, opened, played, typed_lines

SHIPPED = ["generic", "ios", "iosxr", "nxos", "eos", "junos", "vrp", "shell"]


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A private copy of the driver registry, so registrations do not leak."""
    monkeypatch.setattr(driver_core, "_REGISTRY", dict(driver_core._REGISTRY))
    yield


# -- the dataclass -------------------------------------------------------------------


def test_strings_are_compiled_multiline() -> None:
    d = Driver("x", prompt_patterns="^r1#", error_patterns=["^% ", re.compile("ERR")])
    assert all(isinstance(p, re.Pattern) for p in d.prompt_patterns + d.error_patterns)
    assert d.prompt_patterns[0].flags & re.MULTILINE
    assert d.prompt_patterns[0].search("banner\nr1#")
    assert d.error_patterns[1].pattern == "ERR"
    assert d.login_patterns == () and d.init_commands == ()


def test_driver_is_frozen_hashable_and_replaceable() -> None:
    ios = drivers.get("ios")
    with pytest.raises(AttributeError):
        ios.name = "other"  # type: ignore[misc]
    mine = ios.replace(name="myios", init_commands=["terminal length 0"])
    assert mine.name == "myios" and mine.init_commands == ("terminal length 0",)
    assert mine.prompt_patterns == ios.prompt_patterns
    assert len({ios, mine, ios.replace()}) == 2


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"prompt_patterns": [b"bytes"]}, TypeError),
        ({"prompt_patterns": [re.compile(b"x")]}, TypeError),
        ({"prompt_patterns": ["("]}, ValueError),
        ({"prompt_patterns": [""]}, ValueError),
        ({"init_commands": "terminal length 0"}, TypeError),
        ({"init_commands": ["two\nlines"]}, ValueError),
        ({"pager_response": b" "}, TypeError),
        ({"prompt_patterns": {"^r1#", "^r1>"}}, TypeError),  # (an order from run to run)
        ({"error_patterns": {"^% ": "ios"}}, TypeError),
    ],
)
def test_bad_driver_arguments(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        Driver("x", **kwargs)


def test_a_driver_needs_a_name() -> None:
    with pytest.raises(ValueError, match="name"):
        Driver("")
    with pytest.raises(TypeError, match="name"):
        Driver(5)  # type: ignore[arg-type]


# -- the registry --------------------------------------------------------------------


def test_shipped_drivers_are_registered_with_their_knowledge() -> None:
    assert drivers.names()[: len(SHIPPED)] == SHIPPED
    for name in SHIPPED:
        d = drivers.get(name)
        assert d.name == name
        assert d.prompt_patterns and d.login_patterns and d.password_patterns
        assert d.login_failure_patterns
    for name in SHIPPED[1:]:
        assert drivers.get(name).guess_patterns, name
    assert drivers.get("generic").guess_patterns == ()
    for name in ["ios", "iosxr", "nxos", "eos", "junos", "vrp"]:
        d = drivers.get(name)
        assert d.error_patterns and d.pager_patterns and d.init_commands, name
    assert "terminal length 0" in drivers.get("ios").init_commands
    assert "set cli screen-length 0" in drivers.get("junos").init_commands


def test_get_unknown_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown driver 'nope'.*generic.*ios") as info:
        drivers.get("nope")
    assert "auto" not in str(info.value)  # (get() takes no "auto")


async def test_an_unknown_driver_where_auto_is_taken_offers_it() -> None:
    # A netmiko name ("cisco_ios") got the list of known drivers only.
    said = r"unknown driver 'cisco_ios'; known drivers: .*ios.*; or \"auto\", which guesses"
    with pytest.raises(ValueError, match=said):
        async with opened(driver="cisco_ios"):
            pass
    async with opened() as (s, _):
        with pytest.raises(ValueError, match=said):
            s.driver = "cisco_ios"
    with pytest.raises(ValueError, match=said):
        await aioexpect.run_many(["spawn:true"], lambda s, h: None, driver="cisco_ios")
    with pytest.raises(TypeError):
        drivers.get(42)  # type: ignore[arg-type]


def test_register_adds_and_replaces(registry: None) -> None:
    mine = Driver("mine", prompt_patterns=[r"^mine> \Z"])
    assert drivers.register(mine) is mine
    assert drivers.get("mine") is mine and "mine" in drivers.names()
    other = mine.replace(init_commands=["x"])
    drivers.register(other)
    assert drivers.get("mine") is other
    with pytest.raises(TypeError):
        drivers.register("mine")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="guess the driver"):
        drivers.register(Driver("auto", prompt_patterns=[r"^x> \Z"]))
    assert "auto" not in drivers.names()


def test_a_replaced_driver_counts_as_registered_last(registry: None) -> None:
    # A dict keeps a replaced key's slot: the user's own ios stayed second,
    # behind a driver registered after the shipped ios, and lost the tie the
    # docs say the driver registered last wins.
    drivers.register(Driver("acme", guess_patterns=[r"\bACME\b"]))
    text = "Welcome to ACME core\r\nsw1# "
    assert drivers.guess(text) == drivers.get("acme")  # (a tie with ios's prompt shape)
    mine = drivers.register(drivers.get("ios").replace(guess_patterns=[r"\bACME core\b"]))
    assert drivers.names()[-2:] == ["acme", "ios"]
    assert drivers.guess(text) is mine  # a tie again: ios was registered last


# -- guessing ----------------------------------------------------------------------------

GUESSES = [
    ("Cisco IOS Software, C2960 Software\r\n\r\nswitch1>", "ios"),
    ("\r\nUser Access Verification\r\n\r\nrouter1#", "ios"),
    ("router1#", "ios"),
    ("Cisco IOS XR Software, Version 7.3.2\r\nRP/0/RSP0/CPU0:edge1#", "iosxr"),
    ("RP/0/RP0/CPU0:xr9k#", "iosxr"),
    ("\r\nUser Access Verification\r\n\r\nUsername: u\r\nPassword: \r\nRP/0/RP0/CPU0:xr#", "iosxr"),
    ("Cisco Nexus Operating System (NX-OS) Software\r\nnexus1# ", "nxos"),
    ("Arista Networks EOS shell\r\n\r\nleaf1>", "eos"),
    ("--- JUNOS 21.4R1 Kernel 64-bit\r\n{master:0}\r\nadmin@mx1> ", "junos"),
    ("admin@srx1> ", "junos"),
    ("root@mx1:RE:0% ", "junos"),  # its FreeBSD shell
    ("\r\nroot@:RE:0% ", "junos"),  # ... with no host name set
    ("Huawei Versatile Routing Platform Software\r\n<HUAWEI>", "vrp"),
    ("<CE6850-1>", "vrp"),
    ("Linux web1 6.1.0-18-amd64 #1 SMP Debian\r\nLast login: Mon\r\nuser@web1:~$ ", "shell"),
    ("[root@db1 ~]# ", "shell"),
    ("bash-5.2$ ", "shell"),
    ("-bash-4.2$ ", "shell"),  # a login shell without a profile (RHEL)
    # the spaced shapes: FreeBSD's sh and csh, macOS's zsh and bash, Gentoo
    ("Last login: Mon\r\nroot@fbsd:~ # ", "shell"),
    ("Last login: Mon\r\nalice@MacBook-Pro ~ % ", "shell"),
    ("Last login: Mon\r\nMacBook-Pro:~ alice$ ", "shell"),
    ("alice@host ~/src $ ", "shell"),
    # "Last login:" is no evidence (Linux-based network OSes print it too):
    # the prompt's shape is (Arista EOS over SSH).
    ("Last login: Wed Apr  5 14:44:15 2017 from 10.0.0.5\r\nleaf1>", "ios"),
]


@pytest.mark.parametrize(("text", "expected"), GUESSES)
def test_guess_from_banner_and_prompt(text: str, expected: str) -> None:
    found = drivers.guess(text)
    assert found is not None
    assert found.name == expected


@pytest.mark.parametrize(
    "role", ["{master:0}", "{backup}", "{linecard:3}", "{primary:node0}", "{secondary-hold:node1}"]
)
def test_a_junos_context_line_is_evidence(role: str) -> None:
    """The routing-engine or cluster role JunOS prints above its prompt
    counts for junos as much as the prompt itself."""
    assert drivers.get("junos").guess_score(f"{role}\r\nadmin@r1> ") == 2


def test_guess_finds_nothing_in_plain_text() -> None:
    assert drivers.guess("hello world\r\n") is None
    assert drivers.guess("Last login: Mon Jan  1 10:00:00 2024 from 10.0.0.5\r\n") is None


def test_guess_prefers_more_evidence_then_the_latest_driver(registry: None) -> None:
    assert drivers.guess("Arista\r\nleaf1>") == drivers.get("eos")  # a tie with ios
    assert drivers.guess("bash-5.2# ") == drivers.get("shell")  # a tie with ios
    drivers.register(Driver("late", guess_patterns=["router1#"]))
    assert drivers.guess("router1#") == drivers.get("late")  # tie: the latest wins
    assert drivers.guess("hello\r\nrouter2#", prompt="router2#") == drivers.get("ios")
    assert drivers.guess("hello world\r\n") is None  # (yours too need evidence)
    assert drivers.guess("Cisco IOS Software\r\nrouter1#") == drivers.get("ios")


def test_guess_with_the_prompt_seen_takes_only_drivers_that_know_it() -> None:
    # Arista's bash says "Arista Networks EOS shell": eos won on the banner
    # alone, though none of its prompt patterns knows a bash prompt.
    text = "Arista Networks EOS shell\r\n[admin@switch ~]$ "
    assert drivers.guess(text) == drivers.get("eos")  # (the banner alone, as before)
    assert drivers.guess(text, prompt="[admin@switch ~]$ ") == drivers.get("shell")
    text = "Arista Networks EOS shell\r\n\r\nleaf1>"
    assert drivers.guess(text, prompt="leaf1>") == drivers.get("eos")
    # The drivers that know the prompt have no evidence: None (generic).
    assert drivers.guess("Arista Networks EOS\r\n$ ", prompt="$ ") is None
    assert drivers.guess("Huawei VRP\r\nuser@host:~$ ", prompt="user@host:~$ ") == (
        drivers.get("shell")
    )
    with pytest.raises(TypeError, match="prompt must be a str"):
        drivers.guess(text, prompt=b"leaf1>")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "banner",
    [
        "core-r1: replaced the Juniper MX480 in 2021. Authorized access only.",
        "Migrated from Juniper Junos to IOS XE in 2021",
        "Peering with Arista spines",
        "Uplinks to the Huawei NE40E",
    ],
)
def test_a_vendor_word_in_a_banner_does_not_outweigh_a_cisco_prompt(banner: str) -> None:
    """An IOS router whose banner names another vendor: junos, a candidate
    for any bare ``name#``, won the tie with ios's prompt shape on
    ``Juniper`` (and eos on ``Arista``); then IOS's ``% Invalid input`` was
    no CommandError, and JunOS's init commands were typed into IOS."""
    text = f"\r\n{banner}\r\n\r\ncore-r1#"
    found = drivers.guess(text, prompt="core-r1#")
    assert found is not None and found.name == "ios"
    # Two of a driver's patterns still outweigh the prompt's shape.
    text = "Arista Networks EOS\r\n\r\nleaf1>"
    assert drivers.guess(text, prompt="leaf1>") == drivers.get("eos")


def test_the_cisco_login_header_decides_no_tie_between_cisco_drivers() -> None:
    # NX-OS behind its login dialog: "User Access Verification" counted for
    # ios only, which with its prompt shape tied NX-OS's banner.
    text = (
        "\r\nUser Access Verification\r\nsw1 login: admin\r\nPassword: \r\n\r\n"
        "Cisco Nexus Operating System (NX-OS) Software\r\n"
        "TAC support: http://www.cisco.com/tac\r\nsw1# "
    )
    assert drivers.guess(text, prompt="sw1# ") == drivers.get("nxos")
    text = "\r\nUser Access Verification\r\n\r\nUsername: u\r\nPassword: \r\n\r\nr1#"
    assert drivers.guess(text, prompt="r1#") == drivers.get("ios")


UNIX_HOSTS = [
    ("Linux web1 6.1.0-13-amd64 #1 SMP Debian\r\n\r\nDebian GNU/Linux 12\r\n", "root@web1# "),
    ("Welcome to Ubuntu 22.04.3 LTS (GNU/Linux 5.15.0-88-generic x86_64)\r\n", "web1# "),
    ("CentOS Linux release 7.9\r\n", "web1# "),
    ("Welcome to Ubuntu 22.04\r\n", "admin@web1> "),
]


@pytest.mark.parametrize(("banner", "prompt"), UNIX_HOSTS)
def test_a_unix_banner_is_not_outweighed_by_a_network_prompt_shape(
    banner: str, prompt: str
) -> None:
    """A Linux host whose shell's prompt is shaped like a router's: the
    prompt's shape (junos's user@host#, ios's name#) tied the banner's
    distribution name and won, so JunOS's init commands were typed into
    bash, and a missing command was no CommandError."""
    assert drivers.guess(banner + prompt, prompt=prompt) == drivers.get("shell")


@pytest.mark.parametrize("prompt", ["core-r1#", "core-r1>", "admin>", "r1(config)#"])
def test_junos_does_not_take_a_bare_cisco_prompt_for_its_own(prompt: str) -> None:
    # JunOS shows the user in its prompts (admin@mx1>), root's alone may
    # lack a host name (root>, root@>).
    assert not any(p.search(prompt) for p in drivers.get("junos").prompt_patterns)


async def test_auto_on_an_ios_router_whose_banner_names_juniper() -> None:
    device, seen = recording_device(
        banner="r1: replaced the Juniper MX480 in 2021. Authorized access only."
    )

    def junos_init(command: str, match: re.Match[str]) -> str:
        seen.append(command)
        return ""

    device.add_command(r"set cli .*", junos_init)
    async with (
        serve_telnet(device) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver="auto", timeout=10) as s,
    ):
        await s.execute("show version")
        assert s.driver.name == "ios"
        assert seen == ["terminal length 0", "terminal width 0"]
        with pytest.raises(CommandError, match="Invalid input"):
            await s.execute("show ip bgp summry")


@pytest.mark.parametrize("first", ["expect_prompt", "execute"])
async def test_auto_picks_a_driver_that_knows_the_prompt_seen_on_a_real_bash(first: str) -> None:
    # eos was chosen for its banner, though it does not know the prompt:
    # its init commands were typed into bash ("terminal: command not
    # found", not even warned about) and a shell error was no CommandError.
    env = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": "/tmp"}
    start = "echo 'Arista Networks EOS shell'; echo; PS1='[admin@vm tmp]$ ' exec bash --norc"
    log = io.StringIO()
    async with aioexpect.spawn(
        "bash", ["-c", start], env=env, driver="auto", timeout=10, logfile=log
    ) as s:
        if first == "expect_prompt":
            m = await s.expect_prompt()
            assert m.after == "[admin@vm tmp]$ " and "Arista Networks EOS shell" in m.before
        assert await s.execute("echo hi") == "hi\n"
        assert s.driver.name == "shell"
        with pytest.raises(CommandError, match="nosuchcommand_x"):
            await s.execute("nosuchcommand_x")
    assert "terminal" not in log.getvalue()


@pytest.mark.parametrize("ps1", ["root@web1# ", "web1# ", "admin@web1> "])
async def test_auto_takes_a_real_bash_after_a_debian_banner_for_a_shell(ps1: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": "/tmp"}
    start = f"echo 'Debian GNU/Linux 12 (bookworm)'; echo; PS1='{ps1}' exec bash --norc"
    log = io.StringIO()
    async with aioexpect.spawn(
        "bash", ["-c", start], env=env, driver="auto", timeout=10, logfile=log
    ) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert s.driver.name == "shell"
        with pytest.raises(CommandError, match="nosuchcommand_x"):
            await s.execute("nosuchcommand_x")
    assert ps1 in log.getvalue()
    assert "set cli" not in log.getvalue() and "terminal" not in log.getvalue()


@pytest.mark.parametrize("ps1", ["root@fbsd:~ # ", "alice@mac ~ % "])
async def test_auto_takes_a_real_shell_with_a_spaced_prompt_for_a_shell(ps1: str) -> None:
    # FreeBSD's sh and csh show "root@fbsd:~ # ": no driver knew the shape,
    # so driver="auto" waited for a prompt until the time-out.  macOS's zsh
    # shows "alice@mac ~ % ": generic found it, and then a missing command
    # was output, not a CommandError (no evidence of a shell).
    env = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": "/tmp"}
    start = f"echo 'Last login: Mon Nov 23 10:00:00 on ttys000'; PS1='{ps1}' exec bash --norc"
    async with aioexpect.spawn("bash", ["-c", start], env=env, driver="auto", timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert s.driver.name == "shell"
        with pytest.raises(CommandError, match="nosuchcommand_x"):
            await s.execute("nosuchcommand_x")


async def test_auto_switches_the_session_driver_at_the_first_prompt() -> None:
    async with opened(driver="auto", timeout=5) as (s, peer):
        assert s.driver.name == "generic" and s._auto_driver
        await peer.write(b"Arista Networks EOS\r\nleaf1>")
        m = await s.expect_prompt()
        assert m.after == "leaf1>" and m.before == "Arista Networks EOS\r\n"
        assert s.driver.name == "eos" and not s._auto_driver


async def test_auto_reads_nothing_the_caller_did_not_ask_for() -> None:
    async with opened(driver="auto", timeout=5) as (s, peer):
        await peer.write(b"Huawei Versatile Routing Platform\r\n<HUAWEI>")
        m = await s.expect("Versatile")
        assert m.before == "Huawei "
        assert s._auto_driver and s.buffer == " Routing Platform\r\n<HUAWEI>"
        await s.expect_prompt()
        assert s.driver.name == "vrp" and s.buffer == ""


async def test_auto_uses_prompts_only_a_specific_driver_knows() -> None:
    async with opened(driver="auto", timeout=5) as (s, peer):
        await peer.write(b"\r\n[~HUAWEI-GigabitEthernet0/0/1]")
        m = await s.expect_prompt()
        assert m.after == "[~HUAWEI-GigabitEthernet0/0/1]"
        assert s.driver.name == "vrp"


async def test_auto_without_evidence_settles_on_generic() -> None:
    async with opened(driver="auto", timeout=5) as (s, peer):
        await peer.write(b"hello\r\n$ ")
        await s.expect_prompt()
        assert s.driver.name == "generic" and not s._auto_driver


async def test_session_driver_by_name_or_object(registry: None) -> None:
    mine = drivers.register(Driver("acme", prompt_patterns=[r"^acme> ?\Z"]))
    async with opened(driver="acme") as (s, _):
        assert s.driver is mine
        s.driver = "ios"
        assert s.driver.name == "ios"
        s.driver = mine
        assert s.driver is mine
    with pytest.raises(ValueError, match="unknown driver"):
        async with opened(driver="nope"):
            pass


# -- init commands, pagers, errors, against emulated devices ---------------------------------


def recording_device(**options: Any) -> tuple[VirtualDevice, list[str]]:
    seen: list[str] = []

    def record(command: str, match: re.Match[str]) -> str:
        seen.append(command)
        return ""

    commands: dict[str, Any] = {
        r"terminal (length|width) \d+": record,
        "show version": "Cisco IOS Software, Version 15.2\nuptime is 1 day",
        "show log": "\n".join(f"log line {i}" for i in range(40)),
    }
    return VirtualDevice("r1", commands=commands, **options), seen


async def test_init_commands_run_once_before_the_first_command() -> None:
    device, seen = recording_device()
    async with (
        serve_telnet(device) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver="ios", timeout=10) as s,
    ):
        assert (
            await s.execute("show version") == "Cisco IOS Software, Version 15.2\nuptime is 1 day\n"
        )
        assert seen == ["terminal length 0", "terminal width 0"]
        await s.execute("show version")
        assert seen == ["terminal length 0", "terminal width 0"]


async def test_auto_guess_then_init_commands_of_the_guessed_driver() -> None:
    device, seen = recording_device(banner="Cisco Nexus Operating System (NX-OS) Software")
    async with (
        serve_ssh(device) as server,
        aioexpect.connect_ssh(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, driver="auto", timeout=10
        ) as s,
    ):
        await s.execute("show version")
        assert s.driver.name == "nxos"
        assert seen == ["terminal length 0", "terminal width 511"]


async def test_auto_takes_nxos_behind_the_cisco_login_dialog() -> None:
    device, seen = recording_device(
        banner="Cisco Nexus Operating System (NX-OS) Software", login=("u", "pw")
    )
    async with (
        serve_telnet(device) as server,
        aioexpect.connect(f"telnet://u:pw@127.0.0.1:{server.port}", driver="auto", timeout=10) as s,
    ):
        await s.execute("show version")
        assert s.driver.name == "nxos"
        assert seen == ["terminal length 0", "terminal width 511"]


async def test_auto_behind_only_a_last_login_line_takes_a_cisco_prompt_for_one() -> None:
    # Arista EOS over SSH says "Last login: ..." and "leaf1>": the line
    # counted for shell, which won the tie with ios's prompt shape; then
    # "% Invalid input" was no CommandError and a paged command timed out
    # at " --More-- " (a shell's pagers are not answered).
    lines = "".join(f"Et{i}  connected  1  full  10G\n" for i in range(40))
    device = VirtualDevice(
        "leaf1",
        prompt="leaf1>",
        banner="Last login: Wed Apr  5 14:44:15 2017 from 10.0.0.5",
        page_length=20,
        commands={"show interfaces status": lines},
    )
    async with (
        serve_ssh(device) as server,
        aioexpect.connect_ssh(
            "127.0.0.1", server.port, known_hosts=server.known_hosts, driver="auto", timeout=10
        ) as s,
    ):
        with pytest.raises(CommandError, match="Invalid input"):
            await s.execute("show nonsense")
        assert s.driver.name == "ios"
        assert await s.execute("show interfaces status") == lines


async def test_failing_init_commands_only_warn(caplog: pytest.LogCaptureFixture) -> None:
    refuse = "% Invalid input detected at '^' marker."
    device = VirtualDevice(
        "old1", commands={r"terminal width \d+": refuse, "show version": "IOS 12.1"}
    )
    async with (
        serve_telnet(device) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver="ios", timeout=10) as s,
    ):
        assert await s.execute("show version") == "IOS 12.1\n"
    assert "init command 'terminal width 0' of driver ios failed" in caplog.text


async def test_pager_prompts_are_answered() -> None:
    device, _ = recording_device(page_length=8)
    expected = "".join(f"log line {i}\n" for i in range(40))
    async with serve_telnet(device) as server:
        # generic has no init commands, so the device pages; the pager is answered.
        async with aioexpect.connect_telnet("127.0.0.1", server.port, timeout=10) as s:
            assert await s.execute("show log") == expected
            await s.sendline("show log")
            m = await s.expect_prompt()
            assert "--More--" not in m.before and m.before.count("log line") == 40


async def test_a_cisco_asa_pages_and_refuses_as_ios_expects() -> None:
    """Cisco ASA's pager, ``<--- More --->``, was not answered: execute
    waited out its time-out in front of it.  Its refusal, ``ERROR: %
    Invalid input ...``, was output under ios (the ``%`` starts no line)."""
    prompt = b"ciscoasa# "
    keys: list[bytes] = []

    async def asa(peer: Any) -> None:
        await peer.write(prompt)
        async for typed in typed_lines(peer):
            await peer.write(typed.encode() + b"\r\n")
            if typed == "show running-config":
                await peer.write(b"line1\r\nline2\r\n<--- More --->")
                keys.append(await peer.read(1))
                await peer.write(b"\r              \rline3\r\n")
            elif typed == "show nonsense":
                await peer.write(
                    b"              ^\r\nERROR: % Invalid input detected at '^' marker.\r\n"
                )
            await peer.write(prompt)

    async with played(asa, driver="ios", timeout=5) as s:
        assert await s.execute("show running-config") == "line1\nline2\nline3\n"
        assert keys == [b" "]
        with pytest.raises(CommandError, match="Invalid input"):
            await s.execute("show nonsense")


async def test_a_driver_pager_response_is_what_is_sent(registry: None) -> None:
    mine = Driver(
        "pagey", prompt_patterns=[r"^dev> \Z"], pager_patterns=[r"<more> \Z"], pager_response="n"
    )
    async with opened(driver=mine, timeout=5) as (s, peer):
        task = __import__("asyncio").ensure_future(s.expect_prompt())
        await peer.write(b"one\r\n<more> ")
        assert await peer.read() == b"n"
        await peer.write(b"\r\ntwo\r\ndev> ")
        m = await task
        assert m.before == "one\r\n\r\ntwo\r\n" and m.after == "dev> "
        assert m.span() == (len(m.before), len(m.before) + 5)


ERRORS = [
    ("ios", "        ^\n% Invalid input detected at '^' marker.\n"),
    ("ios", "% Incomplete command.\n"),
    ("ios", '% Ambiguous command:  "sh"\n'),
    ("iosxr", "% Failed to commit one or more configuration items.\n"),
    ("nxos", "% Invalid command at '^' marker.\n"),
    ("eos", "% Unavailable command (not supported on this hardware platform)\n"),
    ("junos", "                 ^\nsyntax error, expecting <command>.\n"),
    ("junos", "unknown command.\n"),
    ("vrp", "Error: Unrecognized command found at '^' position.\n"),
    # VRP's other errors (only the syntax errors were known), NX-OS's in
    # capitals, IOS's refusals
    ("vrp", "Error: The interface does not exist.\n"),
    ("vrp", "Error: You do not have permission to run the command or the command is incomplete.\n"),
    ("vrp", "Error:Too many parameters found at '^' position.\n"),
    (
        "nxos",
        "ERROR: Ethernet1/1: Config not allowed, as first port in the port-grp is dedicated\n",
    ),
    ("nxos", "% Permission denied for the role\n"),
    ("ios", "% Access denied\n"),
    ("shell", "bash: frobnicate: command not found\n"),
    # a command-not-found handler's (Ubuntu's, SUSE's; Fedora's), sudo's
    ("shell", "frobnicate: command not found\n"),
    ("shell", "bash: frobnicate: command not found...\n"),
    ("shell", "sudo: frobnicate: command not found\n"),
    ("shell", "zsh: command not found: frobnicate\n"),
    ("shell", "sh: 1: frobnicate: not found\n"),
    # ksh93, mksh (R59: "E: ", "inaccessible or"), BusyBox's ash, a login shell
    ("shell", "ksh: frobnicate: not found\n"),
    ("shell", "ksh: frobnicate: not found [No such file or directory]\n"),
    ("shell", "mksh: frobnicate: not found\n"),
    ("shell", "E: mksh: frobnicate: inaccessible or not found\n"),
    ("shell", "sh: frobnicate: not found\n"),
    ("shell", "-sh: frobnicate: not found\n"),
    ("shell", "bash: syntax error near unexpected token `)'\n"),
    ("shell", 'dash: 2: Syntax error: "then" unexpected\n'),
    ("shell", "zsh: parse error near `)'\n"),
    ("generic", "% Invalid input detected at '^' marker.\n"),
    # Cisco ASA (guessed as ios: ciscoasa#) puts "ERROR: " in front
    ("ios", "ERROR: % Invalid input detected at '^' marker.\n"),
    ("generic", "ERROR: % Incomplete command\n"),
    ("generic", "Error: Wrong parameter found at '^' position.\n"),
]


@pytest.mark.parametrize(("name", "output"), ERRORS)
def test_error_patterns_recognise_real_error_messages(name: str, output: str) -> None:
    assert any(p.search(output) for p in drivers.get(name).error_patterns)


@pytest.mark.parametrize(
    "output",
    [
        "Interface Status Protocol Description\nGi0/1 up up uplink % used\n",
        "the error rate is low\n",
        "ls: cannot access 'x': No such file or directory\n",
        "Errors: 0\n",
    ],
)
def test_generic_errors_leave_ordinary_output_alone(output: str) -> None:
    assert not any(p.search(output) for p in drivers.get("generic").error_patterns)


@pytest.mark.parametrize(
    ("name", "output"),
    [
        ("vrp", "Error: 0\n"),
        ("vrp", "  Input:  0 packets, 0 bytes, Errors: 0\n"),
        ("vrp", "Info: The max number of VTY users is 10.\n"),
        ("nxos", "  0 input error  0 short frame  0 overrun\n"),
        ("nxos", "2024 Jan  1 10:00:00 n9k %ETHPORT-5-IF_DOWN_ERROR_DISABLED: ERROR: x\n"),
        ("ios", "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up\n"),
        ("generic", "Error: The file does not exist.\n"),  # a Unix program's own
        ("generic", "ERROR: worker 3 died\n"),
        # The broad ones below the first line: a log file shown, a banner in
        # the configuration; a field with no value
        ("nxos", "INFO: backup started\nERROR: could not reach 10.0.0.9, retrying\n"),
        ("nxos", "banner motd #\nERROR: lab box, do not use\n#\n"),
        ("vrp", "Info: backup started\nError: host 10.0.0.9 unreachable, retried\n"),
        ("vrp", 'header login information "\nError: unauthorised access prohibited\n"\n'),
        ("vrp", "Error: N/A\n"),
        ("vrp", "Status: Normal\nError: None\n"),
        ("vrp", "Error: none\n"),
        ("vrp", "Error: -\n"),
        ("ios", "banner motd ^C\n% Access denied to unauthorised users: disconnect now\n^C\n"),
        ("ios", "! script output\n% Permission denied lines are logged by AAA\n"),
        ("generic", "! script output\n% Access denied lines are logged\n"),
        # a program's own "not found" (it ran), not the shell's
        ("shell", "grep: frobnicate: No such file or directory\n"),
        ("shell", "publish: frobnicate: not found\n"),
        ("shell", "ssh: frobnicate: not found\n"),
        ("shell", "host frobnicate.example: not found\n"),
        # a log that reports one (sudo's, in auth.log or the journal)
        (
            "shell",
            "Mar  3 10:00:00 web1 sudo:    alice : command not found ; TTY=pts/1 ;"
            " PWD=/home/alice ; USER=root ; COMMAND=frobnicate\n",
        ),
    ],
)
def test_error_patterns_leave_ordinary_output_alone(name: str, output: str) -> None:
    assert not any(p.search(output) for p in drivers.get(name).error_patterns)


@pytest.mark.parametrize(
    ("name", "output"),
    [
        # A refusal is the first line of the answer, maybe after blank lines
        ("nxos", "\nERROR: Ethernet1/1: Config not allowed\n"),
        ("vrp", "\n  Error: The interface does not exist.\n"),
        ("vrp", "Error: None of the interfaces is up.\n"),  # ("None" begins it)
        ("ios", "\n% Access denied\n"),
        # VRP's syntax errors, and the Cisco ones, on any line: below the
        # caret under the command, or after output
        ("vrp", "              ^\nError: Unrecognized command found at '^' position.\n"),
        ("vrp", "Info: x\nError:Too many parameters found at '^' position.\n"),
        ("nxos", "sw1\n% Invalid command at '^' marker.\n"),
    ],
)
def test_error_patterns_find_refusals_where_devices_print_them(name: str, output: str) -> None:
    assert any(p.search(output) for p in drivers.get(name).error_patterns)


ANSWERS = [  # (driver, prompt, command, answer, refused), as a device prints them
    ("nxos", "sw1#", "show file bootflash:b.log", "INFO: started\r\nERROR: no route\r\n", False),
    ("vrp", "<HUAWEI>", "more flash:/b.log", "Info: started\r\nError: host unreachable\r\n", False),
    ("vrp", "<HUAWEI>", "display interface Gi0/0/1 | include Error", "Error: N/A\r\n", False),
    (
        "ios",
        "r1#",
        "show running-config | section banner",
        "banner ^C\r\n% Access denied\r\n",
        False,
    ),
    ("nxos", "sw1(config-if)#", "switchport", "ERROR: Ethernet1/1: Config not allowed\r\n", True),
    ("vrp", "[~HUAWEI]", "interface Gi0/0/9", "Error: The interface does not exist.\r\n", True),
    ("ios", "r1#", "show running-config", "% Access denied\r\n", True),
]


@pytest.mark.parametrize(("name", "prompt", "command", "answer", "refused"), ANSWERS)
async def test_output_that_merely_reads_like_a_refusal_is_no_command_error(
    name: str, prompt: str, command: str, answer: str, refused: bool
) -> None:
    """A log file, a banner in the configuration, a field with no value:
    output whose line below the first merely reads like a device's refusal
    was a CommandError.  A refusal, the answer's first line, still is."""

    async def device(peer: Any) -> None:
        await peer.write(prompt.encode())
        async for typed in typed_lines(peer):
            shown = answer if typed == command else ""
            await peer.write(f"{typed}\r\n{shown}{prompt}".encode())

    async with played(device, driver=name, timeout=5) as s:
        if not refused:
            assert await s.execute(command) == answer.replace("\r\n", "\n")
            return
        with pytest.raises(CommandError) as info:
            await s.execute(command)
        assert info.value.output == answer.replace("\r\n", "\n")


SHELLS_WITHOUT_LINE_NUMBERS = [
    # (ksh93's line editor redraws the line it echoes: "nosuchfile \x08_x")
    pytest.param(["ksh", "-i", "+o", "emacs", "+o", "vi"], id="ksh"),
    pytest.param(["mksh", "-i"], id="mksh"),
    pytest.param(["busybox", "sh", "-i"], id="busybox"),
]


@pytest.mark.parametrize("argv", SHELLS_WITHOUT_LINE_NUMBERS)
async def test_a_missing_command_is_a_command_error_on_ksh_mksh_and_busybox(
    argv: list[str], tmp_path: Any
) -> None:
    """ksh93, mksh and BusyBox's ash name no line number (``ksh: x: not
    found``, where dash says ``dash: 1: x: not found``): the shell driver
    returned their message as output."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    async with bare_shell(tmp_path, "u@vm:~$ ", argv, driver="shell", timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        with pytest.raises(CommandError, match=r"nosuchcommand_x: .*not found"):
            await s.execute("nosuchcommand_x")
        assert await s.execute("grep -s x nosuchfile_x; echo $?") == "2\n"


GENTOO_PS1 = r"\[\033[01;32m\]\u@\h\[\033[01;34m\] \w \$\[\033[00m\] "


async def test_gentoo_s_coloured_default_prompt(tmp_path: Any) -> None:
    """Gentoo's coloured ``user@host ~ $`` (a colour before the space): no
    shipped driver knew it, and every ``execute`` timed out,
    ``driver="auto"`` too."""
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "HOME": str(tmp_path), "PS1": GENTOO_PS1}
    argv = ["bash", "--norc", "--noprofile"]
    async with aioexpect.spawn(argv[0], argv[1:], env=env, cwd="/", driver="auto", timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        assert s.driver.name == "shell"
        assert await s.execute("cd /usr/bin") == ""  # (a prompt with another directory)
        assert await s.execute("pwd") == "/usr/bin\n"
        with pytest.raises(CommandError, match="nosuchcommand_x"):
            await s.execute("nosuchcommand_x")
        assert await s.execute("cd; echo $HOME") == f"{tmp_path}\n"


#: A script's lines, and a volume's, that start with a path, then `` #`` or
#: `` $``: cut after the sign, BusyBox's ``/ # `` and SUSE's ``host:~ # ``.
COMMANDS_IN_A_FILE = [
    "/usr/local/bin/backup.sh # nightly copy to the NAS",
    "db1:/var/lib/mysql # persist",
    "/usr/bin/java $JAVA_OPTS -jar app.jar",
    "exit 0",
]
#: Prints a file, pausing after a line's first `` #`` or `` $`` as a slow
#: producer would (a read ends there).
SLOW_CAT = """while IFS= read -r l; do
  case $l in
    *' #'*) printf '%s #' "${l%% #*}"; sleep 0.3; printf '%s\\n' "${l#* #}" ;;
    *' $'*) printf '%s $' "${l%% \\$*}"; sleep 0.3; printf '%s\\n' "${l#* \\$}" ;;
    *) printf '%s\\n' "$l" ;;
  esac
done < "$1"
"""


@pytest.mark.parametrize("name", ["generic", "shell", "auto"])
async def test_a_path_then_a_sign_in_output_is_no_prompt(name: str, tmp_path: Any) -> None:
    """A command in a script (``/usr/local/bin/backup.sh # nightly``), a
    volume (``db1:/var/lib/mysql # persist``), printed by real bash and cut
    after the sign, passed for BusyBox's ``/ # `` or SUSE's ``host:~ #``:
    ``execute`` returned the lines before it, and the next one the rest."""
    (tmp_path / "lines").write_text("\n".join(COMMANDS_IN_A_FILE) + "\n")
    (tmp_path / "slow.sh").write_text(SLOW_CAT)
    async with bare_shell(tmp_path, "u@vm:~$ ", driver=name, timeout=10) as s:
        assert await s.execute("sh slow.sh lines") == "\n".join(COMMANDS_IN_A_FILE) + "\n"
        assert await s.execute("echo next") == "next\n"


@pytest.mark.parametrize(
    "message",
    [
        "ksh: nosuchcmd: not found",
        "E: mksh: nosuchcmd: inaccessible or not found",
        "sh: nosuchcmd: not found",
        "-sh: nosuchcmd: not found",
    ],
)
async def test_a_shell_s_not_found_without_a_line_number_is_a_command_error(message: str) -> None:
    """The same over a scripted peer, for a machine without those shells."""

    async def shell(peer: Any) -> None:
        await peer.write(b"u@vm:~$ ")
        async for typed in typed_lines(peer):
            await peer.write(f"{typed}\r\n{message}\r\nu@vm:~$ ".encode())

    async with played(shell, driver="shell", timeout=5) as s:
        with pytest.raises(CommandError) as info:
            await s.execute("nosuchcmd")
        assert info.value.output == message + "\n"


async def test_error_pattern_raises_command_error_with_evidence() -> None:
    device = VirtualDevice("r1", commands={"show secret-ish": "ok"})
    async with (
        serve_telnet(device) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver="ios", timeout=10) as s,
    ):
        with pytest.raises(CommandError) as info:
            await s.execute("show nothing")
        err = info.value
        assert err.command == "show nothing"
        assert err.output.endswith("% Invalid input detected at '^' marker.\n")
        assert "Invalid input" in str(err) and "show nothing" in str(err)
        assert await s.execute("show secret-ish") == "ok\n"  # the session goes on
        s.set_error_prompt(r"^ok$")
        with pytest.raises(CommandError):
            await s.execute("show secret-ish")
        s.set_error_prompt(None)
        assert await s.execute("show secret-ish") == "ok\n"


def test_prompt_pattern_follows_the_shipped_rules() -> None:
    p = re.compile(drivers.prompt_pattern(r"acme-[\w-]+[>#]"), re.MULTILINE)
    assert p.search("banner\r\n\x1b[1macme-core-1#\x1b[0m ")
    assert p.search("\x08\x08acme-1> ")
    assert not p.search("acme-1# show run")  # not the end of what arrived
    assert not p.search("see acme-1#")  # not the start of a line
    with pytest.raises(ValueError, match=r"bad prompt regex 'acme\(\[': unterminated"):
        drivers.prompt_pattern("acme([")
    with pytest.raises(ValueError):
        drivers.prompt_pattern("")


async def test_a_registered_driver_of_your_own_end_to_end(registry: None) -> None:
    acme = drivers.register(
        Driver(
            "acme",
            prompt_patterns=[drivers.prompt_pattern(r"acme-[\w-]+[>#]")],
            error_patterns=[r"^ERROR: .*$"],
            guess_patterns=[r"ACME OS \d"],
            init_commands=["cli pager off"],
        )
    )
    seen: list[str] = []

    def pager_off(command: str, m: re.Match[str]) -> str:
        seen.append(command)
        return ""

    device = VirtualDevice(
        "acme-1",
        prompt="{hostname}> ",
        banner="ACME OS 7",
        commands={"cli pager off": pager_off, "show x": "x", "bad": "ERROR: no"},
    )
    async with (
        serve_telnet(device) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver="auto", timeout=10) as s,
    ):
        assert await s.execute("show x") == "x\n"
        assert s.driver is acme and seen == ["cli pager off"]
        with pytest.raises(CommandError, match="ERROR: no"):
            await s.execute("bad")


async def test_a_driver_without_prompt_patterns_is_named_when_used() -> None:
    async with aioexpect.spawn("cat", timeout=5) as s:
        s.driver = Driver("bare")
        for call in (s.execute("ls"), s.expect_prompt(), s.login("u", "p")):
            with pytest.raises(ValueError, match="driver 'bare' has no prompt_patterns"):
                await call
        await s.sendline("still usable")
        await s.expect_exact("still usable")


async def test_init_commands_run_once_per_driver_also_after_a_switch_back(registry: None) -> None:
    sent: list[str] = []

    def note(command: str, m: re.Match[str]) -> str:
        sent.append(command)
        return ""

    acme = Driver("acme", prompt_patterns=[drivers.prompt_pattern(r"r1#")], init_commands=["a"])
    other = acme.replace(name="other", init_commands=["b"])
    device = VirtualDevice("r1", commands={"a": note, "b": note, "x": "y"})
    async with (
        serve_telnet(device) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver=acme, timeout=10) as s,
    ):
        for driver in (acme, other, acme, other):
            s.driver = driver
            assert await s.execute("x") == "y\n"
    assert sent == ["a", "b"]


@pytest.mark.parametrize("header", ["", "ACME login"])
async def test_auto_picks_your_driver_behind_an_emulated_telnet_login(
    registry: None, header: str
) -> None:
    """The emulated login dialog says IOS's "User Access Verification",
    which counts for ios, unless the device says otherwise."""
    acme = drivers.register(
        Driver(
            "acme",
            prompt_patterns=[drivers.prompt_pattern(r"acme-\w+>")],
            error_patterns=[r"^ERROR: .*$"],
            guess_patterns=[r"ACME OS \d"],
        )
    )
    device = VirtualDevice(
        "acme-1",
        prompt="{hostname}>",
        banner="ACME OS 7.1",
        login=("u", "pw"),
        login_header=header,
        commands={"bad": "ERROR: no"},
    )
    async with (
        serve_telnet(device) as server,
        aioexpect.connect(f"telnet://u:pw@127.0.0.1:{server.port}", driver="auto", timeout=10) as s,
    ):
        assert s.driver is acme
        with pytest.raises(CommandError, match="ERROR: no"):
            await s.execute("bad")
