"""The junos driver against an emulated JunOS router, over telnet and SSH on
127.0.0.1: the context line JunOS prints above its prompt (``{master:0}``,
``[edit]``, ``[edit interfaces ge-0/0/0]``) belongs to the prompt, not to
the output ``execute`` returns."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

import aioexpect
from aioexpect import Session
from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

VERSION = "Hostname: r1\nModel: mx960\nJunos: 21.4R1.12\n"
#: ``show | compare`` output: its own ``[edit ...]`` lines are output.
COMPARE = "[edit interfaces]\n+   ge-0/0/1 {\n+       description uplink;\n+   }\n[edit]\n+  foo;\n"
BANNER = "--- JUNOS 21.4R1.12 Kernel 64-bit  JNPR-12.1-20211030.8d5e5e4_buil"


def junos_router(role: str) -> VirtualDevice:
    """A JunOS router whose answers end with the blank line and the context
    line JunOS puts before its prompt: ``role`` (``{master:0}``, or ``""``
    on a router with one routing engine: the blank line alone) in
    operational mode, ``role`` and ``[edit ...]`` in configuration mode.
    One connection at a time."""
    level: list[str] = []  # [the configuration level] in configuration mode

    def context() -> str:
        if not level:
            return f"\n{role}\n" if role else "\n"  # (a blank line, then the prompt)
        where = f"[edit {level[-1]}]" if level[-1] else "[edit]"
        return f"\n{role}{where}\n"

    def answer(text: str) -> Any:
        return lambda command, m: text + context()

    def configure(command: str, m: re.Match[str]) -> str:
        level[:] = [""]
        device.prompt = "admin@{hostname}# "
        return "Entering configuration mode\n" + context()

    def edit(command: str, m: re.Match[str]) -> str:
        level[:] = [m[1] or ""]
        return context()

    def leave(command: str, m: re.Match[str]) -> str:
        level.clear()
        device.prompt = "admin@{hostname}> "
        return "Exiting configuration mode\n" + context()

    def shell(command: str, m: re.Match[str]) -> str:
        device.prompt = "root@{hostname}:RE:0% "  # (no blank line, no context)
        return ""

    def cli(command: str, m: re.Match[str]) -> str:
        device.prompt = "admin@{hostname}> "
        return context()

    device = VirtualDevice(
        "r1",
        prompt="admin@{hostname}> ",
        banner=BANNER + (f"\n{role}" if role else ""),
        commands={
            r"set cli screen-(?:length|width) 0": answer("Screen set to 0\n"),
            "show version": answer(VERSION),
            "configure": configure,
            r"set .+": answer(""),
            r"edit (.+)|top()": edit,
            r"show \| compare": answer(COMPARE),
            "exit configuration-mode": leave,
            "start shell": shell,
            "exit": cli,
            "printf two": lambda command, m: "a\nb\n",
            "printf blank": lambda command, m: "a\n\n",
        },
    )
    return device


@contextlib.asynccontextmanager
async def connected(transport: str, device: VirtualDevice, driver: str) -> AsyncIterator[Session]:
    if transport == "telnet":
        async with (
            serve_telnet(device) as server,
            aioexpect.connect_telnet("127.0.0.1", server.port, driver=driver, timeout=10) as s,
        ):
            yield s
    else:
        async with (
            serve_ssh(device) as server,
            aioexpect.connect_ssh(
                "127.0.0.1", server.port, known_hosts=server.known_hosts, driver=driver, timeout=10
            ) as s,
        ):
            yield s


#: (command, its output without the context line)
DIALOG = [
    ("show version", VERSION),
    ("configure", "Entering configuration mode\n"),
    ("set system host-name r1", ""),
    ("edit interfaces ge-0/0/0", ""),
    ("set description uplink", ""),
    ("top", ""),
    ("show | compare", COMPARE),
    ("exit configuration-mode", "Exiting configuration mode\n"),
    ("show version", VERSION),
    # The FreeBSD shell: its prompt has no blank line before it, and its
    # output's last line end (or blank line) is output.
    ("start shell", ""),
    ("printf two", "a\nb\n"),
    ("printf blank", "a\n\n"),
    ("printf two", "a\nb\n"),
    ("exit", ""),
    ("show version", VERSION),
]


@pytest.mark.parametrize("role", ["{master:0}", "{primary:node0}", ""])
@pytest.mark.parametrize("driver", ["junos", "auto"])
@pytest.mark.parametrize("transport", ["telnet", "ssh"])
async def test_execute_leaves_the_context_line_to_the_prompt(
    transport: str, driver: str, role: str
) -> None:
    async with connected(transport, junos_router(role), driver) as s:
        for command, output in DIALOG:
            assert await s.execute(command) == output, command
        assert s.driver.name == "junos" and s.buffer == ""


@pytest.mark.parametrize("transport", ["telnet", "ssh"])
async def test_generic_still_runs_junos_commands_context_line_and_all(transport: str) -> None:
    """``generic`` knows JunOS prompts, not their context lines: those stay
    in the output (the junos driver takes them)."""
    async with connected(transport, junos_router("{master:0}"), "generic") as s:
        assert await s.execute("show version") == VERSION + "\n{master:0}\n"
        assert await s.execute("configure") == "Entering configuration mode\n\n{master:0}[edit]\n"
        assert await s.execute("show | compare") == COMPARE + "\n{master:0}[edit]\n"


#: An IOS-like device whose banner ends with a blank line before its prompt.
FAKE_IOS = """
import sys
OUT = {"show clock": "12:00:00.000 UTC\\n", "show users": "admin vty0\\n"}
sys.stdout.write("Cisco IOS Software, C2900 Software\\n\\nrouter#")
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write(OUT.get(line.strip(), "") + "router#")
    sys.stdout.flush()
"""


async def test_a_blank_line_before_an_ios_prompt_is_not_learned_with_it() -> None:
    """While ``auto`` is undecided the junos patterns are in force, and one
    takes a blank line before any prompt shaped like JunOS's (``router#``);
    the prompt learned from it is the prompt's line alone, or every later
    output's last line end would pass for that blank line."""
    async with aioexpect.spawn(sys.executable, ["-c", FAKE_IOS], driver="auto", timeout=10) as s:
        assert await s.execute("show clock") == "12:00:00.000 UTC\n"
        assert await s.execute("show users") == "admin vty0\n"
        assert s.driver.name == "ios"
