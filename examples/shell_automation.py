"""Drive a local bash in a pseudo-terminal: expect, sendline, read the output.

Run it: ``python3 examples/shell_automation.py``.  It starts
``bash --norc --noprofile``, gives it a prompt that cannot be mistaken for
output, runs a few commands and prints what they printed.
"""

from __future__ import annotations

import os

import aioexpect

PROMPT = "[aioexpect-demo]$ "


async def main() -> None:
    # TERM=dumb: no colours and no bracketed-paste escape codes in the output.
    env = dict(os.environ, TERM="dumb")
    async with aioexpect.spawn("bash", ["--norc", "--noprofile"], env=env, timeout=10) as shell:
        # Wait for bash's own prompt first: a line typed before bash reads
        # is echoed by the terminal and then again by bash's line editor.
        await shell.expect(r"[$#] ")
        # A prompt of our own, which no output can be mistaken for.
        await shell.sendline(f"PS1='{PROMPT}'; PS2=''")
        await shell.expect_exact(PROMPT)  # the echoed command line ends with it...
        await shell.expect_exact(PROMPT)  # ...and then bash prints the new prompt

        async def run(command: str) -> str:
            """Send one command; return what it printed (without the echo)."""
            await shell.sendline(command)
            await shell.expect_exact(command + "\r\n")  # the terminal echoes it
            match = await shell.expect_exact(PROMPT)
            output: str = match.before  # text, since the session decodes UTF-8
            return output.replace("\r\n", "\n").rstrip("\n")

        print("kernel:", await run("uname -s"))
        print("6 * 7 =", await run("echo $((6 * 7))"))
        print("words:", await run("printf '%s\\n' gamma alpha beta | sort | paste -sd,"))

        # A regex pattern with a group, like pexpect's expect().
        await shell.sendline("echo status=$?")
        match = await shell.expect(r"status=(\d+)\r\n")
        await shell.expect_exact(PROMPT)
        print("last exit status:", match.group(1))

        await shell.sendline("exit 3")
        await shell.expect(aioexpect.EOF)
        print("bash exited with status", await shell.wait())


if __name__ == "__main__":
    aioexpect.run(main())
