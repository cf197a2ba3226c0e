"""A ``linesep`` of CR LF to a pty in canonical mode with ICRNL off (``stty
-icrnl``), where a CR is no Enter and only the LF ends a line: ``execute``,
``set_unique_prompt`` and ``login`` send their line with the LF alone, so
the program reads the line without a CR.  The old code sent the CR LF whole,
and the program read ``cmd\\r``: bash ran ``true\\r`` (not found, status
127), a program reading a name read ``admin\\r``."""

from __future__ import annotations

import pytest

import aioexpect

ENV = {"PS1": "$ ", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TERM": "xterm"}
BASH = ["bash", "--norc", "--noprofile"]

#: A program reading lines (bash's read) in a pty with ICRNL off; it says
#: whether each line it read ended in CR, then runs it.
READ_LOOP = (
    "stty -icrnl; while printf '$ ' && IFS= read -r l; do"
    ' case "$l" in *$\'\\r\') echo "(read a CR)";; esac; eval "$l"; done'
)


@pytest.mark.parametrize("echoctl", ["echoctl", "-echoctl"])
async def test_bash_reads_each_command_without_its_cr(echoctl: str) -> None:
    async with aioexpect.spawn(BASH[0], BASH[1:], env=ENV, timeout=10) as s:
        await s.set_unique_prompt()  # (bash without its line editor: canonical mode)
        assert await s.execute(f"stty -icrnl {echoctl}") == ""
        s.linesep = "\r\n"
        assert await s.execute("true") == ""  # old: "bash: $'true\r': command not found"
        assert await s.execute("echo $?") == "0\n"
        assert await s.execute("eval $'true'; echo $?") == "0\n"
        assert await s.execute('x=1; echo "[$x]"') == "[1]\n"
        await s.set_unique_prompt()  # (its line, too)
        assert await s.execute("true; echo $?") == "0\n"


async def test_a_program_reading_lines_reads_no_cr() -> None:
    async with aioexpect.spawn(BASH[0], [*BASH[1:], "-c", READ_LOOP], env=ENV, timeout=10) as s:
        s.set_prompt(r"(?m)^\$ ")
        await s.expect_prompt()
        s.linesep = "\r\n"
        assert await s.execute("echo one") == "one\n"
        await s.sendline("echo typed")  # (sendline sends linesep as it is: a CR the line's)
        m = await s.expect_prompt()
        assert "(read a CR)" in m.before
        assert await s.execute("echo two") == "two\n"  # old: '(read a CR)\ntwo\n'
        await s.sendline("echo typed")  # (not read: one line, one prompt, execute drops it)
        assert await s.execute("echo three") == "three\n"


async def test_output_reading_as_the_command_and_a_caret_m_is_output() -> None:
    # execute's line end has no CR there, so no ^M is echoed: with the echo
    # off, a first line of output reading as the command and '^M' is output.
    # The old code (once it sent the LF alone) still took it for the echo
    # that a CR LF sent whole would have had, and returned ''.
    loop = READ_LOOP.replace("stty -icrnl", "stty -icrnl -echo")
    async with aioexpect.spawn(BASH[0], [*BASH[1:], "-c", loop], env=ENV, timeout=10) as s:
        s.set_prompt(r"(?m)^\$ ")
        await s.expect_prompt()
        s.linesep = "\r\n"
        command = "printf '%s^M\\n' \"$l\""
        assert await s.execute(command) == command + "^M\n"


#: A login as a shell script reads it (bash's read), ICRNL off.
LOGIN = (
    "stty -icrnl; printf 'Username: '; IFS= read -r user; printf 'Password: ';"
    ' IFS= read -r password; [ "$password" = pw ] && right=right || right=wrong;'
    ' printf \'got user [%s] and the %s password\\n\' "$user" "$right";'
    " while printf 'dev> ' && IFS= read -r l; do printf 'you said [%s]\\n' \"$l\"; done"
)


async def test_login_answers_are_read_without_a_cr() -> None:
    async with aioexpect.spawn(BASH[0], [*BASH[1:], "-c", LOGIN], env=ENV, timeout=10) as s:
        s.linesep = "\r\n"
        m = await s.login("admin", "pw")
        assert m.after == "dev> "
        assert "got user [admin] and the right password" in m.before  # old: [admin\r], wrong
        assert await s.execute("hello") == "you said [hello]\n"
