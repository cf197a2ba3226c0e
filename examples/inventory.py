"""Inventory a fleet: model, version, serial number and uptime of every device.

Starts a small fleet of emulated devices on 127.0.0.1 (SSH and telnet, Cisco-
and Juniper-like), then runs one job on all of them with ``aioexpect.run_many``
(at most 4 at a time), parses ``show version``, and prints an inventory table.
The job also audits the Cisco devices' local accounts: two of them keep
the password in clear text in their configuration, and print it.  Two targets
fail on purpose — a wrong password and a port nobody listens on — to show
that a failing host is reported and never stops the others.  One transcript
per host goes to a temporary directory, with the password masked where the
devices printed it (``password 0 ********``).

    python3 examples/inventory.py
"""

from __future__ import annotations

import contextlib
import re
import socket
import tempfile
from pathlib import Path

import aioexpect
from aioexpect import Account, Host
from aioexpect.testing import VirtualDevice, serve_ssh, serve_telnet

ADMIN = Account("admin", password="fleet-secret-1")

# name, kind, transport, model, version, serial, uptime
FLEET = [
    ("core1", "ios", "ssh", "ISR4451-X/K9", "16.12.4", "FDO2213A0KL", "41 weeks, 2 days"),
    ("core2", "ios", "ssh", "ISR4451-X/K9", "16.12.4", "FDO2213A0KM", "41 weeks, 2 days"),
    ("edge1", "junos", "ssh", "mx204", "21.4R3-S2", "JN1234AB5CDE", "122 days, 4:01"),
    ("edge2", "junos", "ssh", "mx204", "21.4R3-S2", "JN1234AB5CDF", "3 days, 17:45"),
    ("access1", "ios", "telnet", "WS-C2960X-48FPS-L", "15.2(7)E4", "FOC1932X0AB", "2 years"),
    ("access2", "ios", "telnet", "WS-C2960X-48FPS-L", "15.2(7)E4", "FOC1932X0AC", "9 weeks"),
]
#: The Cisco devices whose configuration keeps the password in clear text.
CLEARTEXT = {"core1", "access1"}


def ios_version(name: str, model: str, version: str, serial: str, uptime: str) -> str:
    return (
        f"Cisco IOS XE Software, Version {version}\n"
        "Technical Support: http://www.cisco.com/techsupport\n"
        f"{name} uptime is {uptime}\n"
        f"cisco {model} (1RU) processor with 1795999K/6147K bytes of memory.\n"
        f"Processor board ID {serial}\n"
        "Configuration register is 0x2102\n"
    )


def junos_version(name: str, model: str, version: str, serial: str, uptime: str) -> str:
    return (
        f"Hostname: {name}\nModel: {model}\nJunos: {version}\n"
        f"Chassis serial number: {serial}\nSystem booted: up {uptime}\n"
    )


def ios_users(name: str) -> str:
    how = f"password 0 {ADMIN.password}" if name in CLEARTEXT else "secret 9 $9$nhEmQVczB7dqsO$X"
    return f"username {ADMIN.username} privilege 15 {how}\n"


def make_device(name: str, kind: str, *facts: str) -> VirtualDevice:
    render = ios_version if kind == "ios" else junos_version
    commands = {r"show version": render(name, *facts)}
    if kind == "ios":
        commands[r"show running-config \| include \^username"] = ios_users(name)
    return VirtualDevice(
        name,
        prompt=f"{name}#" if kind == "ios" else f"admin@{name}>",
        commands=commands,
        login=(ADMIN.username, ADMIN.password or ""),
        banner=f"{name}: authorised access only",
    )


# -- the job: what you would run against a real fleet -------------------------------

PARSERS = {
    "model": [r"^cisco (\S+)", r"^Model: (\S+)"],
    "version": [r"Version ([\w.()\-]+)", r"^Junos: (\S+)"],
    "serial": [r"^Processor board ID (\S+)", r"^Chassis serial number: (\S+)"],
    "uptime": [r"uptime is (.+)$", r"^System booted: up (.+)$"],
}


def parse(text: str) -> dict[str, str]:
    facts = {}
    for field, patterns in PARSERS.items():
        for pattern in patterns:
            m = re.search(pattern, text, re.MULTILINE)
            if m:
                facts[field] = m.group(1).strip()
                break
    return facts


async def inventory(session: aioexpect.Session, host: Host) -> dict[str, str]:
    """Runs on each device once it is logged in and at its first prompt."""
    version = await session.execute("show version")
    facts = parse(version)
    if version.startswith("Cisco IOS"):  # an audit: is a password kept in clear text?
        users = await session.execute("show running-config | include ^username")
        facts["cleartext"] = "yes" if " password 0 " in users else "no"
    return facts


# -- the fleet, and the run ----------------------------------------------------------------


def free_port() -> int:
    """A port with nobody listening on it (bound, then released at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aioexpect-inventory-") as tmp:
        async with contextlib.AsyncExitStack() as stack:
            targets, names, known = [], {}, []
            for name, kind, transport, *facts in FLEET:
                serve = serve_ssh if transport == "ssh" else serve_telnet
                server = await stack.enter_async_context(serve(make_device(name, kind, *facts)))
                host = Host(f"{transport}://127.0.0.1:{server.port}", ADMIN)
                targets.append(host)
                names[host] = name
                if server.known_hosts_entry:
                    known.append(server.known_hosts_entry)
            # Two that fail on purpose: a wrong password, and nobody listening.
            wrong = Host(targets[0].url, Account("admin", password="not-the-password"))
            targets.insert(2, wrong)
            names[wrong] = "core1 (bad password)"
            gone = Host(f"ssh://127.0.0.1:{free_port()}", ADMIN)
            targets.append(gone)
            names[gone] = "retired1"

            known_hosts = write_known_hosts(Path(tmp), known)
            logdir = Path(tmp, "logs")

            def progress(result: aioexpect.Result[Host, dict[str, str]]) -> None:
                print(f"  {'done' if result.ok else 'FAILED':<6} {names[result.host]}")

            print(f"Inventorying {len(targets)} devices, 4 at a time:")
            results = await aioexpect.run_many(
                targets,
                inventory,
                concurrency=4,  # a hard cap on open sessions
                timeout=20,  # per device, for the whole run
                session_timeout=5,  # each wait: connect, login, prompt, command
                known_hosts=str(known_hosts),  # reaches SSH targets only
                logdir=logdir,
                on_result=progress,
            )

        report(results, names, logdir)


def write_known_hosts(directory: Path, entries: list[str]) -> Path:
    """A known_hosts file trusting the emulated devices' host keys."""
    path = directory / "known_hosts"
    path.write_text("\n".join(entries) + "\n")
    return path


def report(
    results: list[aioexpect.Result[Host, dict[str, str]]], names: dict[Host, str], logdir: Path
) -> None:
    print(f"\n{'device':<22}{'model':<20}{'version':<12}{'serial':<14}uptime")
    for r in results:
        if r.ok:
            f = r.value
            print(f"{names[r.host]:<22}{f['model']:<20}{f['version']:<12}"
                  f"{f['serial']:<14}{f['uptime']}")  # fmt: skip
    cleartext = [names[r.host] for r in results if r.ok and r.value.get("cleartext") == "yes"]
    print(f"\npassword in clear text in the configuration: {', '.join(cleartext)}")
    failed = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} inventoried, {len(failed)} failed:")
    for r in failed:
        print(f"  {names[r.host]:<22}{type(r.error).__name__}: {r.error}")
    logs = sorted(p.name for p in logdir.iterdir())
    print(f"\n{len(logs)} transcripts (one per host) in {logdir}, e.g. {logs[0]}")
    texts = [(logdir / n).read_text() for n in logs]
    masked = sum("password 0 ********" in text for text in texts)
    leaked = any(ADMIN.password and ADMIN.password in text for text in texts)
    print(f"transcripts where the password shows as ********: {masked}")
    print(f"password found in a transcript: {'yes' if leaked else 'no'}")


if __name__ == "__main__":
    aioexpect.run(main())
