"""The public namespace: explicit ``__all__`` matching SPEC, private modules
behind it, and the pure core importing nothing but the standard library."""

from __future__ import annotations

import copy
import os
import pickle
import re
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest

import aioexpect
import aioexpect._exceptions
import aioexpect.drivers
import aioexpect.testing

SPEC_NAMES = {
    *("spawn", "connect_ssh", "connect_telnet", "connect", "Session", "run", "run_many"),
    *("expect_any", "start_console_server", "Match", "Host", "Account", "Result"),
    *("EOF", "TIMEOUT", "FULL_BUFFER", "AioexpectError", "ConnectError", "SpawnError"),
    *("HostKeyError", "AuthenticationError", "ConnectionLostError", "ExpectError"),
    *("ExpectTimeout", "ExpectEOF", "BufferFull", "CommandError", "ClosedError", "BusyError"),
}

CORE = [
    *("_exceptions", "_match", "_matcher", "_scan", "_decode", "_ansi", "_redact", "_echo"),
    *("_driver", "_options", "_output", "_telnet_scan", "_opening", "_wrap", "_attributes"),
    *("_patterns", "_redact_stream", "_prompt_text", "_urls", "_error_search", "_canonical"),
    *("_redact_escaped", "_starts"),
]


def test_all_is_explicit_and_complete():
    assert set(aioexpect.__all__) >= SPEC_NAMES
    for name in aioexpect.__all__:
        assert hasattr(aioexpect, name), name
    public = {n for n in dir(aioexpect) if not n.startswith("_")}
    # Only __all__ names and the public subpackages are visible.
    assert public - set(aioexpect.__all__) <= {"drivers", "testing", "annotations"}
    # What the calls give, to annotate with (were private: _openers.Opener...).
    assert {"Opener", "Sentinel", "ConsoleServer"} <= set(aioexpect.__all__)
    assert isinstance(aioexpect.EOF, aioexpect.Sentinel)
    assert "MemoryTransport" in aioexpect.testing.__all__


def test_subpackages_export_what_spec_names():
    assert {"Driver", "get", "register"} <= set(aioexpect.drivers.__all__)
    assert {"VirtualDevice", "serve_telnet", "serve_ssh", "check_transport", "memory_pair"} <= set(
        aioexpect.testing.__all__
    )
    # What check_transport checks, to subclass for a transport of one's own.
    assert aioexpect.testing.Transport.__module__ == "aioexpect._transport"


def test_exception_tree():
    e = aioexpect
    assert issubclass(e.ConnectError, e.AioexpectError) and issubclass(
        e.ConnectError, ConnectionError
    )
    for sub in (e.SpawnError, e.HostKeyError, e.AuthenticationError):
        assert issubclass(sub, e.ConnectError)
    assert issubclass(e.ConnectionLostError, ConnectionError)
    assert issubclass(e.ExpectTimeout, e.ExpectError) and issubclass(e.ExpectTimeout, TimeoutError)
    assert issubclass(e.ExpectEOF, e.ExpectError) and issubclass(e.ExpectEOF, EOFError)
    assert issubclass(e.BufferFull, e.ExpectError)
    for cls in (e.CommandError, e.ClosedError, e.BusyError, e.ExpectError):
        assert issubclass(cls, e.AioexpectError)


def test_exceptions_are_named_as_they_are_imported():
    # A traceback said aioexpect._exceptions.ExpectTimeout, a private path.
    for name in aioexpect._exceptions.__all__:
        assert getattr(aioexpect, name).__module__ == "aioexpect", name
    line = traceback.format_exception_only(aioexpect.ExpectTimeout("gave up"))[-1]
    assert line == "aioexpect.ExpectTimeout: gave up\n"
    assert type(pickle.loads(pickle.dumps(aioexpect.ClosedError("x")))) is aioexpect.ClosedError


EXCEPTIONS = [
    n
    for n in aioexpect.__all__
    if isinstance(v := getattr(aioexpect, n), type) and issubclass(v, BaseException)
]
EVIDENCE: dict[str, dict[str, Any]] = {
    "ConnectError": {"host": "r1", "port": 22},
    "HostKeyError": {"host": "r1", "port": 22},
    "AuthenticationError": {"host": "r1", "port": 23},
    "SpawnError": {"command": "nosuch -x"},
    "CommandError": {"command": "show x", "output": "% Invalid input\n"},
    **{
        n: {"before": "tail of it", "patterns": ["r1#", aioexpect.EOF]}
        for n in ("ExpectError", "ExpectTimeout", "ExpectEOF", "BufferFull")
    },
}
COPIES = {
    "pickle": lambda e: pickle.loads(pickle.dumps(e)),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("name", EXCEPTIONS)
def test_every_exception_survives_pickle_and_copy_with_its_evidence(name: str, how: str) -> None:
    # CommandError, whose evidence is required, could not be rebuilt at all:
    # a ProcessPoolExecutor worker raising it broke the pool.
    exc = getattr(aioexpect, name)(f"{name} happened", **EVIDENCE.get(name, {}))
    back = COPIES[how](exc)
    assert type(back) is type(exc) and back.args == exc.args and str(back) == str(exc)
    assert vars(back) == vars(exc)
    for attribute, value in EVIDENCE.get(name, {}).items():
        assert getattr(back, attribute) == (tuple(value) if attribute == "patterns" else value)


def test_modules_behind_the_namespace_are_private():
    for name in aioexpect.__all__:
        module = getattr(getattr(aioexpect, name), "__module__", "aioexpect")
        if module.startswith("aioexpect."):
            assert module.split(".")[-1].startswith("_"), (name, module)


PROBE = """
import sys, types
pkg = types.ModuleType("aioexpect")
pkg.__path__ = [sys.argv[1]]
sys.modules["aioexpect"] = pkg
for name in sys.argv[2:]:
    __import__("aioexpect." + name)
deps = ("asyncio", "asyncssh", "telnetlib3", "aioconsole", "uvloop")
print(",".join(m for m in deps if m in sys.modules))
"""


def test_pure_core_never_imports_asyncio_or_dependencies():
    root = str(Path(aioexpect.__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, root, *CORE], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"the pure core imported {out.stdout.strip()}"


def test_version_is_exposed():
    assert aioexpect.__version__.count(".") >= 2


LAZY_PROBE = """
import sys
import traceback
import aioexpect
print(",".join(m for m in ("asyncssh", "telnetlib3", "aioconsole") if m in sys.modules))
"""


def test_importing_the_package_leaves_network_and_console_libraries_unloaded():
    # Scripts that only spawn local programs should not pay for asyncssh
    # (with cryptography), telnetlib3 and aioconsole: most of a cold import.
    out = subprocess.run(
        [sys.executable, "-c", LAZY_PROBE], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"import aioexpect loaded {out.stdout.strip()}"


def test_the_licence_text_ships_with_the_package() -> None:
    # The metadata said GPL-3.0-or-later but no copy of the licence went
    # with the wheel or the sdist, which the GPL itself requires.
    import tomllib

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["license"] == "GPL-3.0-or-later"
    (name,) = project["project"]["license-files"]
    text = (root / name).read_text()
    assert text.split()[:6] == ["GNU", "GENERAL", "PUBLIC", "LICENSE", "Version", "3,"]
    assert "END OF TERMS AND CONDITIONS" in text
    assert name in project["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


#: A user's file, type-checked against the package: mypy must flag each line
#: marked WRONG, and nothing else.
USER_FILE = r"""
import re
from collections.abc import Iterator
from pathlib import Path

import aioexpect
import aioexpect.testing
from aioexpect import EOF, FULL_BUFFER, TIMEOUT


class Prompts:  # an iterable of the user's own that keeps its order
    def __iter__(self) -> Iterator[str]:
        return iter([r"\$ ", "# "])


async def main(s: aioexpect.Session, other: aioexpect.Session) -> None:
    prompts = [r"\$ ", r"# "]
    await s.expect(r"\$ ")
    await s.expect(rb"\$ ")
    await s.expect(re.compile(r"\$ "))
    await s.expect(re.compile(rb"\$ "))
    await s.expect(EOF)
    await s.expect([r"\$ ", EOF, TIMEOUT, FULL_BUFFER])
    await s.expect((re.compile("a"), b"b"))
    await s.expect(prompts)
    await s.expect(p for p in prompts)
    await s.expect({"a": 1, "b": 2}.keys())
    await s.expect({1: r"\$ ", 2: "# "}.values())
    await s.expect(Prompts())
    s.set_prompt({"main": r"\$ "}.values())
    s.add_monitor([r"y/n"], print)
    await s.expect_exact("$ ")
    await s.expect_exact([b"$ ", "# ", EOF])
    s.set_prompt(r"\$ ")
    s.set_prompt([r"\$ ", re.compile("# ")])
    s.set_prompt(None)
    s.set_error_prompt([])
    remove = s.add_monitor(r"Password:", print)
    s.add_monitor(re.compile(rb"y/n"), print)
    remove()
    answer: str = await s.read_until("$ ")  # (Any: a text session's str)
    answer = answer.removesuffix("$ ")
    text: str | bytes = await s.read_until("x")
    text = await s.read_until(b"x")
    text = await s.read_some(10)
    text = await s.read_all()
    async for line in s.lines():
        text = line
    won, match = await aioexpect.expect_any({s: [r"\$ ", EOF], other: "ok"})
    waits = {s: r"\$ ", other: re.compile("# ")}  # (a dict of mixed patterns: object)
    won, match = await aioexpect.expect_any(waits)
    await s.expect(3.5)  # WRONG: a float is no pattern
    await s.expect([r"\$ ", 42])  # (a list[object]: its items are checked at the call)
    await s.expect_exact(re.compile("x"))  # WRONG: plain text only
    s.set_prompt(object())  # WRONG
    s.set_prompt(rb"\$ ")  # WRONG: a prompt is str
    s.set_error_prompt([EOF])  # WRONG: no sentinel
    s.add_monitor(7, print)  # WRONG
    s.add_monitor(EOF, print)  # WRONG: text patterns only


async def kept_in_variables(s: aioexpect.Session) -> None:
    # The documented idioms, each a list[object] or dict[str, object] to mypy,
    # and the names to annotate what the calls give.
    patterns = [r"[Pp]assword: ", EOF, TIMEOUT]
    index: int = (await s.expect(patterns)).index
    exact = ["$ ", EOF]
    await s.expect_exact(exact)
    commands = {
        "show version": "Cisco IOS Software, Version 15.2(7)E",
        r"show interface (\S+)": lambda command, m: f"{m.group(1)} is up",
    }
    aioexpect.testing.VirtualDevice("r1", commands=commands)
    aioexpect.testing.VirtualDevice("r1", commands=["show version"])  # WRONG: a mapping
    sentinel: aioexpect.Sentinel = EOF
    opener: aioexpect.Opener = aioexpect.spawn("ls", [Path("/tmp")])
    end: aioexpect.testing.MemoryTransport = aioexpect.testing.memory_pair()[0]
    async with aioexpect.start_console_server() as server:
        console: aioexpect.ConsoleServer = server
        await aioexpect.connect_telnet("127.0.0.1", server.port)


async def version(session: aioexpect.Session, host: aioexpect.Host) -> str:
    return await session.execute("show version")


async def versions(targets: list[aioexpect.Host]) -> dict[aioexpect.Host, str]:
    results = await aioexpect.run_many(targets, version)
    first: aioexpect.Result[aioexpect.Host, str] = results[0]
    length: int = len(first.value)
    wrong: int = first.value  # WRONG: the job returns a str
    await aioexpect.run_many(["spawn:bash"], version)  # WRONG: the job takes a Host
    # a list written in the call that mixes Host objects and URLs
    mixed = await aioexpect.run_many([targets[0], "ssh://u@h"], anywhere)
    either: str | aioexpect.Host = mixed[0].host
    await aioexpect.run_many([targets[0], "ssh://u@h"], version)  # WRONG: a URL is no Host
    return {r.host: r.value for r in results if r.ok}


async def anywhere(session: aioexpect.Session, host: str | aioexpect.Host) -> str:
    return await session.execute("uname")
"""


def test_mypy_flags_wrong_patterns_and_uses_of_what_is_read(tmp_path: Path) -> None:
    # Patterns were typed Any: mypy --strict let a float pattern, an int in
    # a list, a regex for expect_exact and an int monitor pass.  Any ordered
    # iterable a user may give (values(), a class of theirs) must pass.
    pytest.importorskip("mypy")
    (tmp_path / "user.py").write_text(USER_FILE)
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    mypy = [sys.executable, "-m", "mypy", "--strict", "--config-file", "mypy.ini"]
    checked = subprocess.run(
        [*mypy, "--no-incremental", "--cache-dir", os.devnull, "user.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # (its errors are the point)
    )
    flagged = {int(n) for n in re.findall(r"^user\.py:(\d+): error:", checked.stdout, re.M)}
    lines = USER_FILE.splitlines()
    wrong = {n for n, line in enumerate(lines, 1) if "# WRONG" in line}
    assert flagged == wrong, checked.stdout
