"""The shell driver's syntax errors: the shell's own (its name first, or a
script's name in the shell's own form) are a ``CommandError``; a program's
complaint that says ``syntax error`` (jq, mawk, bc, expr) is the output of a
command that ran, and so is a log line quoted by ``cat``.  A path the shell
could not run (missing, not executable, a directory) is one too."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

import aioexpect
from aioexpect import CommandError, drivers
from aioexpect._error_search import first_error

from .helpers import bare_shell
from .test_drivers import SHELLS_WITHOUT_LINE_NUMBERS

#: As bash, dash, zsh, ksh93, mksh and BusyBox's sh print them: at the
#: prompt, under ``-c`` and ``eval``, as a login shell, and running a script.
SHELLS_OWN = [
    "bash: syntax error near unexpected token `)'",
    'bash: 1+: syntax error: operand expected (error token is "+")',
    "bash: -c: line 2: syntax error: unexpected end of file",
    "bash: eval: line 1: syntax error near unexpected token `fi'",
    "-bash: syntax error near unexpected token `fi'",
    "/bin/bash: syntax error near unexpected token `fi'",
    'dash: 2: Syntax error: ")" unexpected',
    'dash: 1: eval: Syntax error: "(" unexpected',
    'sh: 1: Syntax error: "fi" unexpected',
    "zsh: parse error near `)'",
    "zsh:1: parse error near `fi'",
    "(eval):1: parse error near `a'",
    "ksh: syntax error: `)' unexpected",
    "ksh: syntax error at line 1: `fi' unexpected",
    "ksh: eval: syntax error at line 1: `end of file' unexpected",
    "E: mksh: syntax error: unexpected ')'",
    'sh: syntax error: unexpected ")"',
    'sh: eval: line 0: syntax error: unexpected "("',
    "sh: arithmetic syntax error",
    # a script's
    "deploy.sh: line 2: syntax error near unexpected token `fi'",
    "./deploy.sh: line 3: syntax error: unexpected end of file",
    "x.sh: line 3: syntax error in conditional expression",
    '/srv/deploy.sh: 3: Syntax error: end of file unexpected (expecting "then")',
    "deploy.sh:2: parse error near `fi'",
    "deploy.sh: syntax error at line 2: `fi' unexpected",
    "E: deploy.sh[2]: syntax error: unexpected 'fi'",
    # bash's in arithmetic, in a script and in a function under -c
    'deploy.sh: line 2: 1+: syntax error: operand expected (error token is "+")',
    'deploy.sh: line 1: let: x=1+: syntax error: operand expected (error token is "+")',
    'environment: line 1: 1 @ 2: syntax error: invalid arithmetic operator (error token is "@ 2")',
    # BusyBox's in arithmetic, in a script
    "./deploy.sh: line 2: arithmetic syntax error",
    # the shells' own words for a command they could not parse that say
    # neither "syntax error" nor "parse error": at the prompt, under -c, in
    # a script
    "bash: unexpected EOF while looking for matching `\"'",
    "bash: -c: line 1: unexpected EOF while looking for matching `\"'",
    "deploy.sh: line 2: unexpected EOF while looking for matching `''",
    "bash: unexpected EOF while looking for `]]'",
    "bash: unexpected argument `]]' to conditional binary operator",
    "bash: conditional binary operator expected",
    "bash: unexpected token `x' in conditional command",
    "bash: unexpected token `x', expected `)'",
    "ksh: 1+: more tokens expected",
    "deploy.sh: line 2: 1+: more tokens expected",
    "deploy.sh: line 2: 1 @ 2: arithmetic syntax error",
    "zsh: bad math expression: operand expected at end of string",
    "zsh:1: bad math expression: illegal character: @",
    "deploy.sh:2: bad math expression: operand expected at end of string",
    'zsh: unmatched "',
    'zsh:1: unmatched "',
    "deploy.sh:3: unmatched '",
    "zsh: closing brace expected",
    "E: mksh: no closing quote",
    "E: deploy.sh[3]: no closing quote",
    "W: mksh: 1+: unexpected 'end of expression'",
    "W: mksh: 1 @ 2: unexpected '@'",
    "W: deploy.sh[2]: 1+: unexpected 'end of expression'",
    'dash: 4: arithmetic expression: expecting primary: "1+"',
    'dash: 5: arithmetic expression: expecting EOF: "1 @ 2"',
    'deploy.sh: 2: arithmetic expression: expecting primary: "1+"',
]

#: Programs that ran and said so, and lines of a file shown.
PROGRAMS_OWN = [
    "jq: error: syntax error, unexpected $end (Unix shell quoting issues?) at <top-level>, line 1:",
    "jq: parse error: Invalid numeric literal at line 1, column 4",
    "mawk: line 1: syntax error at or near )",
    "(standard_in) 1: syntax error",
    "expr: syntax error: missing argument after '+'",
    'Parse error near line 1: near "from": syntax error',
    'ERROR:  syntax error at or near "x"',
    "Error: syntax error, unexpected newline",
    "2024-01-01 12:00:00 ERROR parser: syntax error at line 3",
    "x.c:3: parse error before `}'",
    "app.log: config: syntax error: bad key",
    # (the shells' other words, in another program's line)
    "grep: Unmatched ( or \\(",
    "W: GPG error: http://deb.example stable InRelease: unexpected 'x'",
    "calc: bad math expression: 1+",
    "2024-01-01 12:00:00 parser: unexpected EOF while looking for matching quote",
    "python3: more tokens expected",
    'jq: error: unmatched "',
    'note: zsh said: unmatched "',
]


@pytest.mark.parametrize("line", SHELLS_OWN)
def test_a_shell_s_own_syntax_error_is_found(line: str) -> None:
    assert first_error(drivers.get("shell").error_patterns, f"{line}\n") is not None


@pytest.mark.parametrize("line", PROGRAMS_OWN)
def test_a_program_s_syntax_error_is_output(line: str) -> None:
    """``^[^\\r\\n]*: [Ss]yntax error\\b`` found every one of these: jq's
    compile error, a log file's line, were a ``CommandError``."""
    assert first_error(drivers.get("shell").error_patterns, f"intro\n{line}\n") is None


#: The shells installed here, each at its prompt in a pty.
SHELLS = [
    pytest.param(["bash", "--norc", "--noprofile"], id="bash"),
    pytest.param(["dash", "-i"], id="dash"),
    pytest.param(["zsh", "-f", "-i"], id="zsh"),
    *SHELLS_WITHOUT_LINE_NUMBERS,
]


@pytest.mark.parametrize("argv", SHELLS)
async def test_real_shells_syntax_errors_raise_and_a_program_s_does_not(
    argv: list[str], tmp_path: Any
) -> None:
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    (tmp_path / "bad.sh").write_text("echo a\nfi\n")
    complaint = "jq: error: syntax error, unexpected $end at <top-level>, line 1:"
    # (in a variable: mksh scrolls a line wider than the terminal, its echo then stays)
    env = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": str(tmp_path), "MSG": complaint}
    async with aioexpect.spawn(
        argv[0], argv[1:], env=env, cwd=str(tmp_path), driver="shell", timeout=10
    ) as s:
        await s.set_unique_prompt()
        for command in ("fi", ")", "sh -c fi", "bash bad.sh", "sh bad.sh"):
            with pytest.raises(CommandError, match=r"(?i)syntax|parse"):
                await s.execute(command)
        assert await s.execute("printf '%s\\n' \"$MSG\"") == complaint + "\n"
        assert await s.execute("echo ok") == "ok\n"


async def test_bash_s_arithmetic_error_in_a_script_raises(tmp_path: Any) -> None:
    """bash puts the expression between the script's line and ``syntax
    error`` (``sum.sh: line 2: 1+: syntax error: operand expected``): at the
    prompt (``bash: 1+: ...``) that raised, in a script it was output."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    (tmp_path / "sum.sh").write_text("f() {\n  echo $((1+))\n}\nf\n")
    async with bare_shell(tmp_path, "$ ", driver="shell", timeout=10) as s:
        for command in ("bash sum.sh", "bash -c 'f() { echo $((1 @ 2)); }; f'"):
            with pytest.raises(CommandError, match="syntax error"):
                await s.execute(command)
        assert await s.execute("echo ok") == "ok\n"


#: Commands that the shells installed here could not parse, and not one of
#: them says "syntax error" or "parse error": each shell's own at its
#: prompt (an unclosed quote, arithmetic), then the others' under ``-c``
#: and in a script.
NOT_SAID_SO = [
    "eval 'echo \"'",
    "echo $((1+))",
    "bash -c 'echo \"abc'",
    "bash bad.sh",
    "bash -c '[[ 1 -eq ]]'",
    "ksh -c 'echo $((1+))'",
    "ksh sum.sh",
    "zsh -fc 'echo $((1 @ 2))'",
    "zsh -f bad.sh",
    "zsh -f sum.sh",
    "mksh -c 'echo \"abc'",
    "mksh bad.sh",
    "mksh sum.sh",
    "dash sum.sh",
]


@pytest.mark.parametrize("argv", SHELLS)
async def test_real_shells_errors_in_other_words_raise(argv: list[str], tmp_path: Any) -> None:
    """bash's ``unexpected EOF while looking for matching `"'``, ksh93's
    ``more tokens expected``, zsh's ``bad math expression:`` and ``unmatched
    "``, mksh's ``no closing quote`` and ``unexpected 'end of expression'``,
    dash's ``arithmetic expression: expecting primary``: the shell driver
    returned them as output."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    (tmp_path / "bad.sh").write_text('echo a\necho "abc\n')
    (tmp_path / "sum.sh").write_text("echo a\necho $((1+))\n")
    env = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": str(tmp_path), "LC_ALL": "C"}
    async with aioexpect.spawn(
        argv[0], argv[1:], env=env, cwd=str(tmp_path), driver="shell", timeout=10
    ) as s:
        await s.set_unique_prompt()
        for command in NOT_SAID_SO:
            if shutil.which(command.split()[0]) is None and command.split()[0] != "eval":
                continue
            try:
                output = await s.execute(command)
            except CommandError:
                continue
            pytest.fail(f"{command!r} gave output {output!r}")
        assert await s.execute("echo ok") == "ok\n"


#: A command the shell could not run, named by a path: bash and zsh said so
#: in words the driver did not know (``No such file or directory``,
#: ``permission denied``), and returned it as output, where dash's ``not
#: found`` raised.  (name, path, what is there: nothing, a file that is not
#: executable, a directory.)
NOT_RUN = [("missing", None), ("plain.sh", "echo a\n"), ("dir", "")]


@pytest.mark.parametrize("argv", SHELLS)
async def test_real_shells_cannot_run_a_path_and_a_builtin_s_complaint_is_output(
    argv: list[str], tmp_path: Any
) -> None:
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    (tmp_path / "plain.sh").write_text("echo a\n")
    (tmp_path / "dir").mkdir()
    env = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": str(tmp_path), "LC_ALL": "C"}
    async with aioexpect.spawn(
        argv[0], argv[1:], env=env, cwd=str(tmp_path), driver="shell", timeout=10
    ) as s:
        await s.set_unique_prompt()
        for name, _ in NOT_RUN:
            with pytest.raises(CommandError, match=f"failed: .*{name}"):
                await s.execute(f"./{name}")
        # A builtin's (cd's) and a program's complaints: the command ran.
        assert "nowhere" in await s.execute("cd ./nowhere || true")
        assert "missing" in await s.execute("cat ./missing || true")
        assert await s.execute("echo ok") == "ok\n"


#: A redirection's file the shell could not open: the docs promised a
#: CommandError (bar mksh's warning), but dash's and BusyBox's words
#: (``sh: 3: cannot create ./x/y: Directory nonexistent``, ``sh: can't open
#: ./missing: no such file``) and ksh93's ``cannot create [...]`` were output.
REDIRECTIONS = ["echo hi > ./nowhere/x", "cat < ./missing", "echo hi > ./dir"]


@pytest.mark.parametrize("argv", SHELLS)
async def test_real_shells_cannot_open_a_redirection_s_file(argv: list[str], tmp_path: Any) -> None:
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    (tmp_path / "dir").mkdir()
    env = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": str(tmp_path), "LC_ALL": "C"}
    async with aioexpect.spawn(
        argv[0], argv[1:], env=env, cwd=str(tmp_path), driver="shell", timeout=10
    ) as s:
        await s.set_unique_prompt()
        for command in REDIRECTIONS:
            if argv[0] == "mksh":  # (its warning, W: mksh: x: open: ..., documented)
                assert "mksh" in await s.execute(command)
                continue
            with pytest.raises(CommandError, match="failed: "):
                await s.execute(command)
        # The '.' builtin's complaint is output, as cd's is (bash's and
        # zsh's words are the same as for a path they could not run).
        if argv[0] in ("dash", "busybox", "ksh"):
            assert "missing" in await s.execute(". ./missing || true")
        assert await s.execute("echo ok") == "ok\n"


@pytest.mark.parametrize(
    "line",
    [
        "bash: cd: /x: No such file or directory",
        "cd: no such file or directory: /x",
        "dash: 1: cd: can't cd to /x",
        "cat: x: Permission denied",
        "deploy.sh: line 3: ./x: No such file or directory",
        "ssh: connect to host x: Permission denied",
    ],
)
def test_a_builtin_s_or_a_program_s_complaint_is_no_shell_error(line: str) -> None:
    assert first_error(drivers.get("shell").error_patterns, f"{line}\n") is None
