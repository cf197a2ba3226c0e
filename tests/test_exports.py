"""The public namespace: explicit ``__all__`` matching SPEC, private modules
behind it, and the pure core importing nothing but the standard library."""

from __future__ import annotations

import subprocess
import sys

import aioexpect
import aioexpect.drivers
import aioexpect.testing

SPEC_NAMES = set(
    """spawn connect_ssh connect_telnet connect Session run run_many expect_any
    start_console_server Match Host Account Result EOF TIMEOUT FULL_BUFFER
    AioexpectError ConnectError SpawnError HostKeyError AuthenticationError
    ConnectionLostError ExpectError ExpectTimeout ExpectEOF BufferFull CommandError
    ClosedError BusyError""".split()
)

CORE = ["_exceptions", "_match", "_matcher", "_scan", "_decode", "_ansi", "_redact", "_driver"]


def test_all_is_explicit_and_complete():
    assert SPEC_NAMES <= set(aioexpect.__all__)
    for name in aioexpect.__all__:
        assert hasattr(aioexpect, name), name
    public = {n for n in dir(aioexpect) if not n.startswith("_")}
    # Only __all__ names and the public subpackages are visible.
    assert public - set(aioexpect.__all__) <= {"drivers", "testing", "annotations"}


def test_subpackages_export_what_spec_names():
    assert {"Driver", "get", "register"} <= set(aioexpect.drivers.__all__)
    assert {"VirtualDevice", "serve_telnet", "serve_ssh", "check_transport", "memory_pair"} <= set(
        aioexpect.testing.__all__
    )


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


def test_modules_behind_the_namespace_are_private():
    for name in aioexpect.__all__:
        module = getattr(getattr(aioexpect, name), "__module__", "aioexpect")
        if module.startswith("aioexpect."):
            assert module.split(".")[-1].startswith("_"), (name, module)


def test_pure_core_never_imports_asyncio_or_dependencies():
    code = (
        "import sys, importlib.util, pathlib\n"
        "root = pathlib.Path(%r)\n"
        "import types; pkg = types.ModuleType('aioexpect'); pkg.__path__ = [str(root)]\n"
        "sys.modules['aioexpect'] = pkg\n"
        "for name in %r:\n"
        "    __import__('aioexpect.' + name)\n"
        "bad = sorted(m for m in ('asyncio', 'asyncssh', 'telnetlib3', 'aioconsole', 'uvloop')"
        " if m in sys.modules)\n"
        "print(','.join(bad))\n"
    ) % (str(__import__("pathlib").Path(aioexpect.__file__).parent), CORE)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the pure core imported {out.stdout.strip()}"


def test_version_is_exposed():
    assert aioexpect.__version__.count(".") >= 2
