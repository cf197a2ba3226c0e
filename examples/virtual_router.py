"""Serve an emulated router and automate it, with no server to install.

Run it: ``python3 examples/virtual_router.py``.  It puts a ``VirtualDevice``
on 127.0.0.1 (a port the OS picks) over SSH and over telnet, then logs in,
lets ``driver="auto"`` recognise it, runs commands (the driver switches the
pager off; the device pages otherwise), parses their output and shows how a
rejected command and rejected credentials look.
"""

from __future__ import annotations

import re

import aioexpect
from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

INTERFACES = {"Gi0/0": "up", "Gi0/1": "down", "Gi0/2": "up", "Lo0": "up"}


def show_interface(command: str, match: re.Match[str]) -> str:
    """A command handler: called with the command and its regex match."""
    name = match.group(1)
    if name not in INTERFACES:
        return f"% Invalid interface {name}"
    return f"{name} is {INTERFACES[name]}, line protocol is {INTERFACES[name]}"


def brief(command: str, match: re.Match[str]) -> str:
    lines = ["Interface  Status"]
    lines += [f"{name:<10} {state}" for name, state in INTERFACES.items()]
    return "\n".join(lines)


def make_router() -> VirtualDevice:
    return VirtualDevice(
        "edge1",
        prompt="edge1#",
        banner="Cisco IOS Software, C2960 Software (emulated)",
        login=("admin", "s3cret"),
        page_length=3,  # pages with --More-- until "terminal length 0"
        commands={
            "show version": "Cisco IOS Software, Version 15.2(7)E\nedge1 uptime is 4 weeks",
            "show ip interface brief": brief,
            r"show interface (\S+)": show_interface,
        },
    )


async def over_ssh(router: VirtualDevice) -> None:
    async with serve_ssh(router) as server:
        print(f"SSH device on 127.0.0.1:{server.port}")
        async with aioexpect.connect_ssh(
            "127.0.0.1",
            server.port,
            username="admin",
            password="s3cret",
            known_hosts=server.known_hosts,  # trust exactly this server's key
            driver="auto",
            timeout=10,
        ) as router_session:
            version = await router_session.execute("show version")
            print(f"  driver guessed: {router_session.driver.name}")
            print(f"  version line: {version.splitlines()[0]}")
            table = await router_session.execute("show ip interface brief")
            up = [line.split()[0] for line in table.splitlines()[1:] if line.endswith("up")]
            print(f"  interfaces up: {', '.join(up)}")
            try:
                await router_session.execute("show running-config all")
            except aioexpect.CommandError as exc:
                print(f"  rejected command: {exc.command!r} -> {exc.output.splitlines()[-1]}")


async def over_telnet(router: VirtualDevice) -> None:
    async with serve_telnet(router) as server:
        print(f"telnet device on 127.0.0.1:{server.port}")
        url = f"telnet://admin:s3cret@127.0.0.1:{server.port}"
        async with aioexpect.connect(url, driver="generic", timeout=10) as router_session:
            # generic sends no "terminal length 0": the device pages, and the
            # pager prompts are answered on the way to the prompt.
            table = await router_session.execute("show ip interface brief")
            print(f"  {len(table.splitlines())} lines through the pager")
            print(f"  {await router_session.execute('show interface Gi0/1')}", end="")
        try:
            await aioexpect.connect_telnet(
                "127.0.0.1", server.port, username="admin", password="wrong", timeout=10
            )
        except aioexpect.AuthenticationError as exc:
            print(f"  wrong password: {type(exc).__name__}")


async def main() -> None:
    router = make_router()
    await over_ssh(router)
    await over_telnet(router)


if __name__ == "__main__":
    aioexpect.run(main())
