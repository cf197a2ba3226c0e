"""A netmiko fleet script, ported: enable, a config change, questions answered, a save.

Run it: ``python3 examples/netmiko_port.py``.  It serves five emulated IOS-like
routers on 127.0.0.1 (user and enable modes, configuration modes, a pager, an
enable password, a ``[confirm]`` question and ``copy running-config
startup-config`` asking for a file name), then runs on all of them the job a
netmiko user would write with ``ConnectHandler`` in a thread pool::

    def job(device):
        with ConnectHandler(**device) as conn:
            conn.enable()
            conn.send_config_set(CONFIG)
            conn.send_command_timing("clear counters")
            conn.send_command_timing("\\n")
            conn.save_config()
            return conn.find_prompt(), conn.send_command("show ip interface brief")

Two routers fail on purpose, each in its own way, and the others go on: one
was given the wrong enable secret, one refuses a configuration line.  See
docs/netmiko.rst for each step.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import aioexpect
from aioexpect import Account, Host
from aioexpect.testing import VirtualDevice, ask, serve_ssh, serve_telnet

ADMIN = Account("admin", password="fleet-secret-1")

# -- the emulated routers ------------------------------------------------------------

PROMPTS = {
    "user": "{hostname}>",
    "enable": "{hostname}#",
    "config": "{hostname}(config)#",
    "config-if": "{hostname}(config-if)#",
}
MODES = {prompt: mode for mode, prompt in PROMPTS.items()}


def make_router(name: str, enable_secret: str, *, knows_ntp: bool = True) -> VirtualDevice:
    """An IOS-like router: r1> (user), r1# (enable), r1(config)#, r1(config-if)#."""
    router = VirtualDevice(
        name,
        prompt=PROMPTS["user"],
        login=(ADMIN.username, ADMIN.password or ""),
        banner=f"{name}: authorised access only",
        page_length=12,  # --More-- until the ios driver's "terminal length 0"
    )
    running = [f"hostname {name}", "!"] + [
        f"interface GigabitEthernet0/{i}\n no shutdown\n!" for i in range(8)
    ]

    def mode() -> str:
        return MODES[router.prompt]  # this connection's: the handlers change it

    async def enable(command: str, m: re.Match[str]) -> str:
        if mode() != "user":
            return ""
        for _attempt in range(3):
            if await ask("Password: ", secret=True) == enable_secret:
                router.prompt = PROMPTS["enable"]
                return ""
        return "% Bad secrets"

    def configure(command: str, m: re.Match[str]) -> str:
        if mode() != "enable":
            return router.invalid_input()
        router.prompt = PROMPTS["config"]
        return "Enter configuration commands, one per line.  End with CNTL/Z."

    def in_config(new_mode: str | None = None) -> Callable[[str, re.Match[str]], str]:
        def handler(command: str, m: re.Match[str]) -> str:
            if mode() not in ("config", "config-if"):
                return router.invalid_input()
            running.append(command)
            if new_mode:
                router.prompt = PROMPTS[new_mode]
            return ""

        return handler

    def leave(command: str, m: re.Match[str]) -> str:
        if command == "exit" and mode() == "config-if":
            router.prompt = PROMPTS["config"]
        elif mode() in ("config", "config-if"):
            router.prompt = PROMPTS["enable"]
        elif command == "exit":
            raise EOFError("exit ends the connection")
        return ""

    async def clear_counters(command: str, m: re.Match[str]) -> str:
        if mode() != "enable":
            return router.invalid_input()
        key = await ask('Clear "show interface" counters on all interfaces [confirm]', key=True)
        return "" if key in ("", "y") else "% Not confirmed"

    async def copy_run_start(command: str, m: re.Match[str]) -> str:
        if mode() != "enable":
            return router.invalid_input()
        name = await ask("Destination filename [startup-config]? ")
        if name not in ("", "startup-config"):
            return f"% Error opening {name}"
        return "Building configuration...\n[OK]"

    def show_running(command: str, m: re.Match[str]) -> str:
        if mode() == "user":
            return router.invalid_input()
        return "Building configuration...\n\n!\n" + "\n".join(running) + "\nend"

    router.add_command("enable", enable)
    router.add_command(r"conf(igure)? t(erminal)?", configure)
    router.add_command(r"interface \S+", in_config("config-if"))
    router.add_command(r"description .+|(no )?shutdown", in_config())
    if knows_ntp:
        router.add_command(r"ntp server \S+", in_config())
    router.add_command("end|exit", leave)
    router.add_command("clear counters", clear_counters)
    router.add_command(r"copy run(ning-config)? start(up-config)?", copy_run_start)
    router.add_command(r"show run(ning-config)?", show_running)
    router.add_command(
        r"show ip int(erface)? br(ief)?",
        "Interface              IP-Address      OK? Method Status   Protocol\n"
        "GigabitEthernet0/0     10.0.0.1        YES manual up       up\n"
        "GigabitEthernet0/1     unassigned      YES unset  up       up",
    )
    return router


# -- the netmiko calls, ported (docs/netmiko.rst) ------------------------------------


async def enable(session: aioexpect.Session, secret: str) -> None:
    """conn.enable(): at a prompt that was read (here: run_many read the first)."""
    await session.sendline("enable")
    await session.login(password=secret)  # AuthenticationError if refused


async def send_config_set(session: aioexpect.Session, lines: list[str]) -> list[str]:
    """conn.send_config_set(lines): one execute per line; the prompt changes are fine."""
    outputs = [await session.execute("configure terminal")]
    try:
        for line in lines:
            outputs.append(await session.execute(line))  # CommandError if refused
    finally:
        await session.execute("end")
    return outputs


async def clear_counters(session: aioexpect.Session) -> None:
    """A [confirm] question: execute would wait for a prompt that does not come."""
    await session.sendline("clear counters")
    await session.expect_exact("[confirm]")
    await session.sendline("")  # Enter confirms
    await session.expect_prompt()


async def save_config(session: aioexpect.Session) -> str:
    """conn.save_config(): IOS asks for the file name first."""
    await session.sendline("copy running-config startup-config")
    await session.expect_exact("Destination filename [startup-config]?")
    await session.sendline("")  # Enter keeps the default
    answer = await session.expect_prompt()
    return str(answer.before).strip()  # as received: "Building configuration...\r\n[OK]"


async def find_prompt(session: aioexpect.Session) -> str:
    """conn.find_prompt(), at a prompt that was read."""
    await session.sendline("")
    return str((await session.expect_prompt()).after).strip()


# -- the job, run on every router ------------------------------------------------

CONFIG = [
    "interface GigabitEthernet0/1",
    "description uplink to core",
    "exit",
    "ntp server 10.0.0.99",
]
#: netmiko's "secret" per device: Host and Account have no field for it.
ENABLE_SECRETS: dict[Host, str] = {}


async def job(session: aioexpect.Session, host: Host) -> dict[str, str]:
    await enable(session, ENABLE_SECRETS[host])
    await send_config_set(session, CONFIG)
    await clear_counters(session)
    saved = await save_config(session)
    return {
        "prompt": await find_prompt(session),
        "saved": saved.splitlines()[-1],
        "show ip interface brief": await session.execute("show ip interface brief"),
        "description": ", ".join(
            re.findall(r"description (.+)", await session.execute("show run"))
        ),
    }


# -- the fleet, and the run ------------------------------------------------------

FLEET = [  # name, transport, its enable secret, the one we give, whether it knows "ntp server"
    ("r1", "ssh", "en4ble-1", "en4ble-1", True),
    ("r2", "ssh", "en4ble-2", "en4ble-2", True),
    ("r3", "telnet", "en4ble-3", "en4ble-3", True),
    ("r4", "ssh", "en4ble-4", "not-the-secret", True),
    ("r5", "ssh", "en4ble-5", "en4ble-5", False),
]


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aioexpect-netmiko-") as tmp:
        async with contextlib.AsyncExitStack() as stack:
            targets: list[Host] = []
            names: dict[Host, str] = {}
            known = []
            for name, transport, secret, given, knows_ntp in FLEET:
                serve = serve_ssh if transport == "ssh" else serve_telnet
                router = make_router(name, secret, knows_ntp=knows_ntp)
                server = await stack.enter_async_context(serve(router))
                host = Host(f"{transport}://127.0.0.1:{server.port}", ADMIN)
                targets.append(host)
                names[host] = name
                ENABLE_SECRETS[host] = given
                if server.known_hosts_entry:
                    known.append(server.known_hosts_entry)

            results = await aioexpect.run_many(
                targets,
                job,
                driver="ios",  # netmiko's device_type="cisco_ios"
                known_hosts=write_known_hosts(Path(tmp), known),
                session_timeout=5,  # each wait (netmiko's read_timeout)
                timeout=30,  # each host's whole run
                logdir=Path(tmp, "logs"),  # netmiko's session_log, one file per host
                concurrency=10,  # the thread pool's max_workers
            )
        report(results, names, Path(tmp, "logs"))


def write_known_hosts(directory: Path, entries: list[str]) -> str:
    """A known_hosts file trusting the emulated routers' host keys."""
    path = directory / "known_hosts"
    path.write_text("\n".join(entries) + "\n")
    return str(path)


def report(
    results: list[aioexpect.Result[Host, dict[str, str]]], names: dict[Host, str], logdir: Path
) -> None:
    for r in results:
        if r.ok:
            print(f"=== {names[r.host]}  ok  ({r.duration:.2f}s)")
            for key, value in r.value.items():
                print(f"--- {key}\n{value.rstrip()}")
        else:
            print(f"=== {names[r.host]}  FAILED  {type(r.error).__name__}: {r.error}")
    done = sum(r.ok for r in results)
    print(f"\n{done} of {len(results)} routers configured and saved")
    transcripts = [p.read_text() for p in logdir.iterdir()]
    secrets = [ADMIN.password or ""] + [secret for _name, _kind, secret, *_rest in FLEET]
    leaked = any(secret in text for secret in secrets for text in transcripts)
    print(f"{len(transcripts)} transcripts; a password in one: {'yes' if leaked else 'no'}")


if __name__ == "__main__":
    aioexpect.run(main())
