"""Drive a shell over SSH, with host-key checking on, against a server started here.

Run it: ``python3 examples/ssh_shell.py``.  It starts a tiny asyncssh server
on 127.0.0.1 (a port the OS picks) that emulates a shell, then:

1. refuses to talk to it while its host key is unknown (``HostKeyError``,
   and the server never sees a password);
2. trusts exactly its key, logs in, runs commands, resizes the terminal;
3. runs a single command (``command=``) and reads its exit status.
"""

from __future__ import annotations

import asyncio

import asyncssh

import aioexpect

USER, PASSWORD = "demo", "demo-Passw0rd"
PROMPT = "demo$ "


class DemoServer(asyncssh.SSHServer):
    attempts = 0  # how many passwords the server was shown

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        DemoServer.attempts += 1
        return (username, password) == (USER, PASSWORD)


async def demo_shell(process: asyncssh.SSHServerProcess[str]) -> None:
    """A pretend shell: a few commands, a prompt, and ``exit [N]``."""
    if process.command:  # command=: run it and leave
        process.stdout.write(f"ran {process.command!r}\n")
        process.exit(7)
        return
    cols, rows = process.term_size[:2]
    process.stdout.write(f"Welcome to the demo shell\r\n{PROMPT}")
    while True:
        try:
            line = (await process.stdin.readline()).strip()
        except asyncssh.TerminalSizeChanged as change:
            cols, rows = change.width, change.height
            continue
        if not line or line.startswith("exit"):
            process.exit(int(line.split()[1]) if len(line.split()) > 1 else 0)
            return
        if line == "whoami":
            process.stdout.write(f"{process.get_extra_info('username')}\r\n")
        elif line == "stty size":
            process.stdout.write(f"{rows} {cols}\r\n")
        elif line == "echo $TERM":
            process.stdout.write(f"{process.term_type}\r\n")
        else:
            process.stdout.write(f"demo: {line.split()[0]}: command not found\r\n")
        process.stdout.write(PROMPT)


async def main() -> None:
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.listen(
        "127.0.0.1", 0, server_host_keys=[host_key], server_factory=DemoServer,
        process_factory=demo_shell,
    )  # fmt: skip
    port = server.get_port()
    print(f"SSH server on 127.0.0.1:{port}")
    try:
        # 1. Unknown host key: nothing is sent.
        empty = asyncssh.import_known_hosts("")
        try:
            await aioexpect.connect_ssh(
                "127.0.0.1", port, username=USER, password=PASSWORD, known_hosts=empty
            )
        except aioexpect.HostKeyError as exc:
            print(f"1. refused: {type(exc).__name__}; passwords the server saw: "
                  f"{DemoServer.attempts}")  # fmt: skip

        # 2. Trust exactly this key (in real life: a known_hosts file you keep).
        entry = f"[127.0.0.1]:{port} {host_key.export_public_key().decode()}"
        known = asyncssh.import_known_hosts(entry)
        async with aioexpect.connect_ssh(
            "127.0.0.1", port, username=USER, password=PASSWORD, known_hosts=known,
            term_type="vt220", dimensions=(30, 100), timeout=10,
        ) as s:  # fmt: skip
            banner = await s.expect_exact(PROMPT)
            print(f"2. logged in; the banner said {banner.before.strip()!r}")
            for command in ("whoami", "echo $TERM", "stty size"):
                print(f"   {command:10} -> {(await s.execute(command)).strip()}")
            s.set_winsize(50, 132)
            print(f"   after set_winsize(50, 132): {(await s.execute('stty size')).strip()}")
            await s.sendline("exit 4")
            print(f"   shell exit status: {await s.wait()}")

        # 3. One command, its output and exit status.
        async with aioexpect.connect_ssh(
            "127.0.0.1", port, username=USER, password=PASSWORD, known_hosts=known,
            command="backup --all", term_type=None, timeout=10,
        ) as s:  # fmt: skip
            output = await s.read_all()
            print(f"3. command output {output.strip()!r}, exit status {await s.wait()}")
    finally:
        server.close()
        await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
