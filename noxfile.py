"""Developer tasks: ``nox -s tests``, ``lint``, ``typecheck``, ``docs``, ``bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (unit, real programs in a pty, in-process servers, and the
    integration tier against a real sshd/telnetd when they are installed)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


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
    """mypy --strict over the package."""
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
