"""telnetlib-style automation (read_until / write / expect) with aioexpect.

Run it: ``python3 examples/telnetlib_style.py``.  It starts a small telnet
server with telnetlib3 on 127.0.0.1 (a port the OS picks) that asks for a
login and answers a few commands, then talks to it the way a telnetlib
script would -- ``read_until``, ``write``, ``expect`` -- each call awaited;
and where telnetlib's ``read_until`` returned a short read at its time-out,
shows the ``ExpectTimeout`` that leaves what had come buffered for the next
read.

The old telnetlib version of the client, for comparison::

    tn = telnetlib.Telnet(host, port, timeout=10)
    tn.read_until(b"login: ")
    tn.write(b"admin\\r\\n")
    tn.read_until(b"Password: ")
    tn.write(b"secret\\r\\n")
    tn.read_until(b"lab> ")
    tn.write(b"uptime\\r\\n")
    print(tn.read_until(b"lab> ").decode())
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import telnetlib3

import aioexpect

USER, PASSWORD, PROMPT = "admin", "secret", "lab> "


async def lab_shell(reader: Any, writer: Any) -> None:
    """The server side: a login dialog, then a prompt and three commands."""
    writer.write("\r\nlab switch (telnetlib3)\r\nlogin: ")
    user = (await reader.readline()).strip()
    writer.write("Password: ")
    password = (await reader.readline()).strip()
    if (user, password) != (USER, PASSWORD):
        writer.write("\r\nLogin incorrect\r\n")
        writer.close()
        return
    writer.write(f"\r\nWelcome, {user}\r\n{PROMPT}")
    while line := (await reader.readline()).strip():
        if line == "quit":
            writer.write("bye\r\n")
            break
        if line == "uptime":
            writer.write("up 41 days, 3 users, load average: 0.08\r\n")
        elif line.startswith("ping "):
            writer.write(f"5 packets to {line[5:]}: 5 received, 0% loss\r\n")
        else:
            writer.write(f"% unknown command: {line}\r\n")
        writer.write(PROMPT)
    await writer.drain()
    writer.close()


async def main() -> None:
    server = await telnetlib3.create_server("127.0.0.1", 0, shell=lab_shell, connect_maxwait=2.0)
    assert server.sockets
    port = server.sockets[0].getsockname()[1]
    print(f"telnet server on 127.0.0.1:{port}")
    try:
        tn = await aioexpect.connect_telnet("127.0.0.1", port, timeout=10)
        try:
            await tn.read_until("login: ")  # telnetlib: tn.read_until(b"login: ")
            await tn.sendline(USER)  # telnetlib: tn.write(b"admin\r\n")
            await tn.read_until("Password: ")
            await tn.send_secret(PASSWORD)  # like sendline, never logged
            await tn.read_until(PROMPT)
            print("logged in")

            await tn.send("uptime\r\n")  # write() with the line ending spelled out
            print("uptime:", (await tn.read_until(PROMPT)).removesuffix(PROMPT).strip())

            # telnetlib's expect(list): the earliest match wins, with a Match back.
            await tn.sendline("ping 192.0.2.1")
            m = await tn.expect([re.compile(r"(\d+)% loss"), r"% unknown"])
            print(f"ping: pattern #{m.index} matched, loss = {m.group(1)}%")
            await tn.read_until(PROMPT)

            # A time-out is an exception, and nothing is lost: telnetlib's
            # read_until returned (and consumed) what had come by then; here
            # it stays buffered, shown in exc.before, for the next read.
            await tn.sendline("uptime")
            try:
                await tn.read_until("never printed", timeout=1)
            except aioexpect.ExpectTimeout as exc:
                print(f"timed out as expected; still buffered: {exc.before!r}")
            print(f"the next read_until still gets it: {await tn.read_until(PROMPT)!r}")

            await tn.sendline("quit")
            print("rest of the session:", repr(await tn.read_all()))
        finally:
            await tn.close()
    finally:
        server.close()
        await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
