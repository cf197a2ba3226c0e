"""``aioexpect demo``: the main job against embedded devices, with nothing to install.

Starts emulated devices on 127.0.0.1 (two over SSH, one over telnet with an
in-band login) and uses a local shell, runs a few commands on all of them
with ``run_many`` and prints the results.  Finishes in a few seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from ._asyncssh import asyncssh
from ._many import Account, Host, Result, run_many
from ._session import Session
from ._urls import redact_url

__all__ = ["demo"]

DEVICE_COMMANDS = ("show version", "show interfaces brief")
SHELL_COMMANDS = ("uname -s", "echo $((6 * 7))")
#: What the job returns: each command with its output.
Outputs = list[tuple[str, str]]

_INTERFACES = {
    "r1": [("GigabitEthernet0/0", "10.0.0.1", "up"), ("GigabitEthernet0/1", "unassigned", "down")],
    "r2": [("ge-0/0/0", "10.0.0.2", "up"), ("ge-0/0/1", "10.1.0.2", "up")],
    "sw1": [("Vlan1", "192.168.0.10", "up"), ("Vlan20", "192.168.20.1", "up")],
}
_VERSIONS = {
    "r1": "Cisco IOS Software, emulated router r1, Version 15.9(3)M (aioexpect demo)",
    "r2": "JUNOS emulated r2 [21.4R3] (aioexpect demo)",
    "sw1": "Cisco IOS Software, emulated switch sw1, Version 15.2(7)E (aioexpect demo)",
}


def _device(name: str, prompt: str, account: tuple[str, str]) -> Any:
    from .testing import VirtualDevice

    rows = _INTERFACES[name]

    def interfaces(command: str, match: re.Match[str]) -> str:
        lines = [f"{'Interface':<22}{'IP-Address':<16}Status"]
        lines += [f"{i:<22}{ip:<16}{state}" for i, ip, state in rows]
        return "\n".join(lines)

    return VirtualDevice(
        name,
        prompt=prompt,
        commands={
            r"show version": _VERSIONS[name],
            r"show interfaces brief": interfaces,
            r"show clock": lambda command, match: time.strftime("%H:%M:%S UTC", time.gmtime()),
        },
        login=account,
        banner=f"{name}: authorised access only (aioexpect demo device)",
    )


#: name, what it is, its prompt (``{user}`` filled in), how it is served.
_FLEET = (
    ("r1", "emulated IOS router", "r1#", "ssh"),
    ("r2", "emulated JunOS router", "{user}@r2>", "ssh"),
    ("sw1", "emulated IOS switch, login dialog", "sw1#", "telnet"),
)


@contextlib.asynccontextmanager
async def _devices(account: tuple[str, str]) -> AsyncIterator[tuple[dict[Host, str], str]]:
    """Serve the emulated devices; yield their targets (and a local shell), each
    with a description, and known_hosts lines trusting the SSH devices' keys."""
    from .testing import serve_ssh, serve_telnet

    user, password = account
    async with contextlib.AsyncExitStack() as stack:
        hosts: dict[Host, str] = {}
        known = []
        for name, what, prompt, scheme in _FLEET:
            serve = serve_ssh if scheme == "ssh" else serve_telnet
            device = _device(name, prompt.format(user=user), account)
            server = await stack.enter_async_context(serve(device))
            url = f"{scheme}://127.0.0.1:{server.port}"
            hosts[Host(url, Account(user, password))] = f"{name} ({what})"
            if server.known_hosts_entry is not None:
                known.append(server.known_hosts_entry)
        hosts[Host(_shell_url())] = "local shell"
        yield hosts, "\n".join(known) + "\n"


def _shell_url() -> str:
    return "spawn:bash --norc --noprofile" if shutil.which("bash") else "spawn:sh"


async def _job(session: Session, host: Host) -> Outputs:
    commands = SHELL_COMMANDS if host.url.startswith("spawn:") else DEVICE_COMMANDS
    return [(command, await session.execute(command)) for command in commands]


class Output(Protocol):
    """Where the demo prints (``sys.stdout``, or any text stream)."""

    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...


async def demo(
    *, as_json: bool = False, out: Output | None = None, password: str | None = None
) -> int:
    """Run the demo; print the results; return 0 if every target worked.

    ``password`` is the devices' (``None``: a fresh random one); never printed.
    """
    out = sys.stdout if out is None else out
    account = ("demo", password or secrets.token_urlsafe(12))
    start = time.monotonic()
    async with _devices(account) as (hosts, known_hosts):
        if not as_json:
            print(f"aioexpect demo: run_many over {len(hosts)} targets in this process", file=out)
            for host, what in hosts.items():
                print(f"  {what:<44} {redact_url(host.url)}", file=out)
            print(file=out)
        results = await run_many(
            list(hosts),
            _job,
            concurrency=len(hosts),
            timeout=20,
            session_timeout=10,
            known_hosts=asyncssh.import_known_hosts(known_hosts),  # SSH targets only
            env=_shell_env(),  # the local shell only
        )
    failed = sum(not r.ok for r in results)
    if as_json:
        json.dump([_as_dict(r, hosts) for r in results], out, indent=2)
        out.write("\n")
    else:
        for result in results:
            _print_result(result, hosts, out)
        took = time.monotonic() - start
        print(f"{len(results) - failed} ok, {failed} failed in {took:.2f} s", file=out)
    out.flush()
    return 1 if failed else 0


def _shell_env() -> dict[str, str]:
    """The local shell's environment: a plain terminal and a plain prompt."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PS1", "PROMPT_COMMAND"))}
    env.update(TERM="dumb", PS1="demo$ ")
    return env


def _as_dict(result: Result[Host, Outputs], names: dict[Host, str]) -> dict[str, Any]:
    error = None if result.error is None else f"{type(result.error).__name__}: {result.error}"
    return {
        "name": names[result.host],
        "host": redact_url(result.host.url),
        "ok": result.ok,
        "outputs": [output for _, output in result.value or []],
        "error": error,
    }


def _print_result(result: Result[Host, Outputs], names: dict[Host, str], out: Output) -> None:
    status = "ok" if result.ok else "FAILED"
    print(f"=== {names[result.host]}  {status}  ({result.duration:.2f}s)", file=out)
    for command, output in result.value or []:
        print(f"--- {command}", file=out)
        print(output.rstrip("\n"), file=out)
    if result.error is not None:
        print(f"!!! {type(result.error).__name__}: {result.error}", file=out)
    print(file=out)
