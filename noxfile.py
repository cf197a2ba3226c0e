"""Developer tasks: ``nox -s tests``, ``lint``, ``typecheck``, ``docs``, ``bench``,
``stress``, ``mindeps``."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (unit, real programs in a pty, in-process servers, and the
    integration tier against a real sshd/telnetd when they are installed)."""
    session.install("-e", ".[test]")
    # Most tests wait (for a child, a peer, a time-out) rather than compute:
    # in two or more processes (pytest-xdist, one per CPU, at most four) the
    # suite takes about half as long.  ``nox -s tests -- -n 0``: one process.
    parallel = ("-n", "auto", "--maxprocesses", "4")
    session.run("python", "-m", "pytest", *parallel, *session.posargs)


@nox.session
def stress(session: nox.Session) -> None:
    """The test suite with each test's event loop stalled at random (up to
    200 ms at a time; ``AIOEXPECT_TEST_STALL_MS`` sets it): what a loaded CI
    machine does.  A test failing here but not under ``tests`` depends on
    timing the library does not promise, or the library on timing it should
    not (a timeout firing with the data already in, say)."""
    session.install("-e", ".[test]")
    env = {"AIOEXPECT_TEST_STALL_MS": os.environ.get("AIOEXPECT_TEST_STALL_MS", "200")}
    session.run("python", "-m", "pytest", *session.posargs, env=env)


#: The test files that use asyncssh, telnetlib3, aioconsole or uvloop's own
#: behaviour (spawning, sockets): what the floors must pass.
MINDEPS_TESTS = [
    *("test_dependencies", "test_ssh", "test_stages", "test_login", "test_openers"),
    *("test_telnet", "test_many", "test_cli", "test_demo", "test_examples"),
    *("test_console", "test_console_close", "test_console_flood", "test_console_server"),
    *("test_console_input", "test_console_ssh", "test_console_tcp", "test_virtual_device"),
    *("test_virtual_device_close", "test_pty", "test_spawn", "test_pipes", "test_streams"),
    *("test_streams_tls", "test_many_limits", "test_loops", "test_console_repl"),
]


@nox.session
def mindeps(session: nox.Session) -> None:
    """The tests that touch the runtime dependencies, with each at the floor
    pyproject.toml declares (pinned in .ci/minimum-versions.txt): a floor
    must work, not only install.  The other test tools are the newest."""
    session.install("-e", ".[test]", "-c", ".ci/minimum-versions.txt")
    tests = [f"tests/{name}.py" for name in MINDEPS_TESTS]
    parallel = ("-n", "auto", "--maxprocesses", "4")
    session.run(
        "python", "-m", "pytest", *parallel, "-p", "no:cacheprovider", *tests, *session.posargs
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (check and format), the import-linter layer contracts and the
    house size limits (.ci/sizes.py)."""
    session.install("-e", ".[lint]")
    sources = ("aioexpect", "tests", "examples", "benchmarks", ".ci")
    session.run("ruff", "check", *sources, "noxfile.py")
    session.run("ruff", "format", "--check", *sources)
    session.run("lint-imports")
    session.run("python", ".ci/sizes.py", "aioexpect")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package and the examples (each a user's program)."""
    session.install("-e", ".[typecheck]")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Sphinx (furo), warnings as errors."""
    session.install("-e", ".[docs]")
    session.run(
        "python", "-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against pexpect and the raw I/O limit, printed as ratios.
    ``nox -s bench -- --quick`` for a short run."""
    session.install("-e", ".[bench]")
    session.run("python", "benchmarks/run_all.py", *session.posargs)
