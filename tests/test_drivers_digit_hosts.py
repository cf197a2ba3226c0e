"""Cisco and Arista host names that start with a digit (``9k-core``, ``1R``:
NX-OS and EOS take them): the ios, iosxr, nxos and eos drivers did not find
their prompts, and every ``execute`` timed out, ``driver="auto"`` too.  A
number, an address or a time on a line of its own stays output."""

from __future__ import annotations

import re
from typing import Any

import pytest

import aioexpect
from aioexpect import drivers
from aioexpect.testing import VirtualDevice, serve_telnet

from .helpers import bare_shell

NXOS_BANNER = "Cisco Nexus Operating System (NX-OS) Software"


def nexus(hostname: str, banner: str = "") -> VirtualDevice:
    device = VirtualDevice(hostname, banner=banner)

    def configure(command: str, m: re.Match[str]) -> str:
        device.prompt = "{hostname}(config)#"
        return ""

    def end(command: str, m: re.Match[str]) -> str:
        device.prompt = "{hostname}#"
        return ""

    device.add_command("show clock", "10:00:00.000 UTC")
    device.add_command("configure terminal", configure)
    device.add_command("interface .*", "")
    device.add_command("end", end)
    return device


@pytest.mark.parametrize(
    ("driver", "banner", "chosen"),
    [
        ("nxos", "", "nxos"),
        ("ios", "", "ios"),
        ("eos", "", "eos"),
        ("iosxr", "", "iosxr"),
        ("auto", NXOS_BANNER, "nxos"),
        ("auto", "", "ios"),  # (IOS's prompt shape: the weaker evidence)
    ],
)
async def test_a_host_name_that_starts_with_a_digit(driver: str, banner: str, chosen: str) -> None:
    async with (
        serve_telnet(nexus("9k-core", banner)) as server,
        aioexpect.connect_telnet("127.0.0.1", server.port, driver=driver, timeout=10) as s,
    ):
        assert await s.execute("show clock") == "10:00:00.000 UTC\n"
        assert s.driver.name == chosen
        assert await s.execute("configure terminal") == ""
        assert await s.execute("interface ethernet1/1") == ""
        assert await s.execute("end") == ""
        with pytest.raises(aioexpect.CommandError):
            await s.execute("show nonsense")
        assert await s.execute("show clock") == "10:00:00.000 UTC\n"


def test_guessing_takes_a_digit_first_prompt_for_cisco() -> None:
    assert drivers.guess("\r\n1R#", prompt="1R#") is drivers.get("ios")
    nxos = drivers.guess(f"{NXOS_BANNER}\r\n9k-core#", prompt="9k-core#")
    assert nxos is drivers.get("nxos")
    assert drivers.guess("\r\n100#", prompt="100#") is None


#: Numbers, addresses and times shaped like ``host#`` or ``host>``.
NUMERIC = ["100#", "10.0.0.1>", "12:00:01#", "1/1/1>", "2024-01-01#", "3.14>", "65535#"]


async def test_numeric_lines_in_output_end_no_answer(tmp_path: Any) -> None:
    """cat of 20,000 such lines, in bash in a pty, reads to the real prompt
    (``9k-core#``): a prompt pattern that took them would cut it short."""
    text = "".join(f"{NUMERIC[i % len(NUMERIC)]}\n" for i in range(20_000))
    (tmp_path / "numbers").write_text(text)
    async with bare_shell(tmp_path, "9k-core# ", driver="nxos", timeout=30) as s:
        assert await s.execute("cat numbers") == text
        assert await s.execute("echo next") == "next\n"
