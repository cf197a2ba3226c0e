"""An asyncio echo server with the aioexpect console served into it.

The echo server is the one from the asyncio documentation; two lines add a
console, on loopback, behind a token, where you can look at (and change)
the running server's state while it serves clients::

    python3 examples/echo_server_console.py            # a demo that ends on its own
    python3 examples/echo_server_console.py --forever  # serve until Ctrl-C

With ``--forever``, connect to the console with the token it prints (or the
one in $AIOEXPECT_CONSOLE_TOKEN)::

    (echo "$TOKEN"; cat) | nc 127.0.0.1 PORT
    >>> stats
    >>> await asyncio.sleep(1); stats
    >>> exit()
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
from typing import Any

import aioexpect

stats: dict[str, int] = {"connections": 0, "bytes_echoed": 0}
clients: set[Any] = set()


async def handle_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    stats["connections"] += 1
    clients.add(peer)
    try:
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()
            stats["bytes_echoed"] += len(data)
    except ConnectionError:
        return
    finally:
        clients.discard(peer)
        writer.close()


async def console_says(port: int, token: str, statement: str) -> str:
    """What a console client sees when it evaluates ``statement``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(token.encode() + b"\n")  # the first line: the token
        await reader.readuntil(b">>> ")  # the banner and the first prompt
        writer.write(statement.encode() + b"\n")
        answer = await reader.readuntil(b">>> ")
        writer.write(b"exit()\n")  # ends this client only
        await reader.read()
        return answer[: -len(b">>> ")].decode().strip()
    finally:
        writer.close()
        await writer.wait_closed()


async def demo(echo_port: int, console_port: int, token: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", echo_port)
    writer.write(b"hello, echo\n")
    print("echo client got back:", (await reader.readline()).decode().strip())
    statement = "stats, len(clients)"
    print(f"console client: {statement} ->", await console_says(console_port, token, statement))
    writer.close()
    await writer.wait_closed()


async def main(forever: bool) -> None:
    server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
    echo_port = server.sockets[0].getsockname()[1]
    token = os.environ.get("AIOEXPECT_CONSOLE_TOKEN") or secrets.token_urlsafe(16)
    # The console: loopback only, behind a token, sharing these names.
    console = await aioexpect.start_console_server(
        locals={"stats": stats, "clients": clients, "server": server}, token=token
    )
    async with server, console:
        print(f"echo server on 127.0.0.1:{echo_port}, console on {console.address}")
        if forever:
            print(f"console token: {token}")
            await server.serve_forever()
        else:
            await demo(echo_port, console.port, token)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forever", action="store_true", help="serve until Ctrl-C")
    forever = parser.parse_args().forever
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(forever))
