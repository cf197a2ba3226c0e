"""The ``aioexpect`` command line: ``exec``, ``demo``, ``console``, ``run``, ``--version``.

``exec`` runs commands on many hosts through ``run_many`` (its arguments
checked by ``_cli_args``); ``console`` and ``run`` come from ``_console_cli``
(imported when the parser is built; if it is missing or broken those two
subcommands fail with a clear message).
Passwords are never taken from the command line's options.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import importlib
import logging
import os
import signal
import stat
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ._cli_args import (
    PASSWORD_ENV,
    UsageError,
    check_commands,
    check_files,
    check_key,
    hosts_from,
    load_drivers,
    read_hosts,
    warn,
)
from ._cli_output import (
    CheckedOutput,
    OutputError,
    Printer,
    Progress,
    ReaderGone,
    drop_what_stderr_kept,
    escaping,
    masked,
    say,
    to_devnull,
    usage_text,
)
from ._exceptions import CommandError, ExpectError, ExpectTimeout
from ._many import Host, Result, run_many
from ._options import resolve_driver
from ._output import clean_output
from ._runner import Terminated, is_open, run, terminations
from ._session import Session
from ._urls import redact_url
from ._version import __version__
from ._ways_out import WAYS_OUT

__all__ = ["build_parser", "main", "read_hosts"]

NO_PASSWORD_OPTION = (
    "passwords are not accepted as options (other users can read them with ps, and "
    f"they stay in the shell history): set the {PASSWORD_ENV} environment variable "
    "with --user, or put the credentials in the URLs of a --hosts file"
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit with status 2 and a short hint."""

    _given: tuple[str, ...] = ()

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._given = tuple(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        # Each argument the message quotes is masked as a URL first: the
        # masking of URLs in free text goes word by word, and a password
        # may hold a space ('ssh://admin:correct horse@h').
        for given in self._given:
            if "@" in given and (hidden := redact_url(given)) != given:
                message = message.replace(repr(given), repr(hidden)).replace(given, hidden)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {masked(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="aioexpect",
        description="Automate interactive sessions (shells, REPLs, routers) with asyncio.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"aioexpect {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log to stderr (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_exec(sub)
    demo = sub.add_parser(
        "demo",
        help="run commands on embedded emulated devices and a local shell",
        description="Start emulated SSH and telnet devices and a local shell inside "
        "this process, run a few commands on all of them with run_many, print the results.",
        allow_abbrev=False,
    )
    demo.add_argument("--json", action="store_true", help="print the results as JSON")
    demo.set_defaults(func=_demo, parser=demo)
    _add_console(sub)
    return parser


def _add_exec(sub: Any) -> None:
    p = sub.add_parser(
        "exec",
        help="run commands on many hosts",
        description="Run commands on many hosts at once and print each host's output. "
        f"Credentials come from the URLs, or from --user and ${PASSWORD_ENV}. "
        "Exits 1 if any host failed.",
        allow_abbrev=False,
    )
    p.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="ssh://[user@]host[:port], telnet://..., spawn:COMMAND (no scheme: ssh://)",
    )
    p.add_argument(
        "--hosts",
        action="append",
        default=[],
        metavar="FILE",
        help="read targets from FILE (one URL per line, # comments; - for stdin)",
    )
    p.add_argument(
        "-c",
        "--command",
        dest="commands",
        action="append",
        required=True,
        metavar="COMMAND",
        help="command to run on every host (repeat for several, run in order)",
    )
    p.add_argument("-u", "--user", help=f"user name (password from ${PASSWORD_ENV})")
    p.add_argument("-i", "--key", metavar="FILE", help="SSH client private key file")
    p.add_argument(
        "--concurrency",
        type=_positive_int,
        default=50,
        metavar="N",
        help="hosts at once (default 50)",
    )
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="bound on each host's whole run (default: none)",
    )
    p.add_argument(
        "--command-timeout",
        type=_positive_float,
        default=30.0,
        metavar="SECONDS",
        help="each wait: connecting, the prompt, each command (default 30)",
    )
    p.add_argument(
        "--driver", default="generic", help="device driver: a name, or auto (default generic)"
    )
    p.add_argument(
        "--drivers-from",
        action="append",
        default=[],
        metavar="FILE|MODULE",
        help="load your own drivers first: a .py file or a module that registers them",
    )
    p.add_argument("--logdir", metavar="DIR", help="write one transcript per host into DIR")
    p.add_argument(
        "--json",
        action="store_true",
        help='print a JSON list of {"host", "ok", "outputs", "error"}',
    )
    _add_host_key_options(p)
    p.set_defaults(func=_exec, parser=p)


def _add_host_key_options(p: Any) -> None:
    """--known-hosts or none; and the password options refused with a reason."""
    keys = p.add_mutually_exclusive_group()
    keys.add_argument(
        "--known-hosts", metavar="FILE", help="SSH known_hosts file (default ~/.ssh/known_hosts)"
    )
    keys.add_argument(
        "--insecure-no-host-key-check",
        action="store_true",
        help="INSECURE: accept any SSH host key (man-in-the-middle risk; test benches only)",
    )
    for flag in ("--password", "--passwd", "--pass"):
        p.add_argument(
            flag, dest="password_option", nargs="?", const="", default=None, help=argparse.SUPPRESS
        )


def _add_console(sub: Any) -> None:
    """``console`` and ``run`` from ``_console_cli``, or stand-ins that explain."""
    try:
        console_cli = importlib.import_module("aioexpect._console_cli")
        console_cli.register(sub)
    except Exception as exc:  # missing or broken: the rest of the CLI still works
        reason = f"{type(exc).__name__}: {exc}"
        for name, what in (("console", "the live async console"), ("run", "a program")):
            p = sub.add_parser(name, help=f"{what} (unavailable)", add_help=False)
            p.set_defaults(func=_unavailable(name, reason), any_arguments=True)


def _unavailable(name: str, reason: str) -> Callable[[argparse.Namespace], int]:
    def fail(args: argparse.Namespace) -> int:
        say(f"aioexpect {name}: not available in this installation ({reason})")
        return 2

    return fail


def _unrecognized(extra: Sequence[str]) -> str:
    """The options the parser did not know, without their values: a
    mistyped ``-p hunter2``, ``-phunter2`` or ``--pwd=hunter2`` must not
    print the password."""
    shown = []
    for arg in extra:
        if arg.startswith("--"):
            name, eq, _ = arg.partition("=")
            shown.append(name + ("=..." if eq else ""))
        elif arg.startswith("-"):
            shown.append(arg[:2] + ("..." if len(arg) > 2 else ""))
    hidden = len(extra) - len(shown)
    if hidden:
        shown.append(f"and {hidden} more argument{'s' if hidden > 1 else ''} (not shown)")
    return " ".join(shown)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``aioexpect`` and ``python -m aioexpect``; returns the exit status."""
    try:
        return _main(argv)
    finally:
        drop_what_stderr_kept()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    if extra and not getattr(args, "any_arguments", False):
        # the subcommand's usage, not the top level's: that is where the option belongs
        getattr(args, "parser", parser).error(f"unrecognized arguments: {_unrecognized(extra)}")
    if args.verbose:
        level = logging.DEBUG if args.verbose > 1 else logging.INFO
        logging.basicConfig(level=level, format="%(name)s: %(levelname)s: %(message)s")
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    args.stdout_closed = _occupy_standard_fds()
    try:
        status = func(args)
        if asyncio.iscoroutine(status):
            status = run(status)
    except KeyboardInterrupt:
        if getattr(args, "program_interrupts", False):
            raise  # `run`: the program's Ctrl-C, shown; Python exits as after python3 FILE
        say("aioexpect: interrupted")
        return 130
    except Terminated as exc:  # `exec`: SIGTERM, SIGHUP, handled as Ctrl-C is
        say(f"aioexpect: terminated ({exc})")
        return 128 + exc.signum
    except (BrokenPipeError, OutputError) as exc:
        with contextlib.suppress(OSError):  # (a stdout with no descriptor: replaced in-process)
            to_devnull(sys.stdout.fileno())  # let nothing more be written (Python flushes at exit)
        if not isinstance(exc, ReaderGone | BrokenPipeError):
            say(f"aioexpect: cannot write the output: {exc}")
            return 1
        # `aioexpect exec ... | head`: stopped quietly, with the status a
        # shell reports for a command that SIGPIPE ended there (141)
        return 128 + signal.SIGPIPE
    return int(status or 0)


def _occupy_standard_fds() -> bool:
    """Open /dev/null on any of descriptors 0 to 2 that is closed
    (``aioexpect exec ... >&-``): a socket or pipe opened later would take
    its number, and output meant for stdout would go there (uvloop aborts).
    Whether stdout was closed (by us, or by Python, which found it so): not
    so for a ``sys.stdout`` replaced in-process (``redirect_stdout``), which
    does not write to descriptor 1."""
    stdout_closed = sys.stdout is None
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        if not is_open(fd):
            if fd == 1 and not stdout_closed:
                with contextlib.suppress(OSError, ValueError):  # (a StringIO: no descriptor)
                    stdout_closed = sys.stdout.fileno() == 1
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:  # (the lowest free number: fd itself)
                os.dup2(opened, fd)
                os.close(opened)
        if getattr(sys, name) is None:  # Python found it closed at start
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))  # noqa: SIM115
    return stdout_closed


# -- exec ----------------------------------------------------------------------------


def _exec(args: argparse.Namespace) -> Any:
    if args.password_option is not None:
        say(f"aioexpect exec: error: {NO_PASSWORD_OPTION}")
        return 2
    try:
        for source in args.drivers_from:
            load_drivers(source)
        resolve_driver(args.driver)  # "auto", or a ValueError naming the known ones
        args.commands = check_commands(args.commands)
        check_files(args)
        hosts = hosts_from(args)
        check_key(args.key, hosts)
    except (UsageError, ValueError) as exc:
        say(f"aioexpect exec: error: {usage_text(exc)}")
        return 2
    return _exec_async(args, hosts)


#: What a command line user can do about a question a command asks instead
#: of ending at a prompt, by the kind of the API's advice (``WAYS_OUT``)
#: that it replaces: methods to call, which they cannot.
_CANNOT = "aioexpect exec cannot answer it"
_WAYS_OUT = {
    "password": (
        f"{_CANNOT}; for enable, log in with an account at that privilege level (the"
        " device then starts at it), for sudo with one that sudo asks no password of;"
        " or write a script that answers it with the API (docs/drivers.rst, Privilege"
        " escalation)"
    ),
    "login": (
        f"{_CANNOT} (it answers a login dialog on opening only, on telnet targets given"
        " credentials); write a script that answers it with the API (docs/drivers.rst,"
        " How login works)"
    ),
    "confirm": (
        f"{_CANNOT}; run a form of the command that asks nothing, or write a script"
        " that answers it with the API (docs/drivers.rst, What execute does)"
    ),
}


def _for_command_line(exc: ExpectError) -> ExpectError:
    """``exc``, if its message ends with the API's advice about a question
    (``WAYS_OUT``: the library puts it last), as a copy that says what a
    command line user can do instead; the quote of the question and the
    evidence before it stay, as do ``before`` and ``patterns``."""
    message = str(exc)
    for kind, advice in WAYS_OUT.items():
        at = message.rfind(advice)
        if at >= 0:
            told = copy.copy(exc)
            told.args = (message[:at] + _WAYS_OUT[kind],)
            return told
    return exc


class _Commands:
    """The exec job: the commands, in order, on one host's session.

    Each command's output is kept as it ends (a failed one's too: what it
    printed until then), and the error names the command.  When run_many's
    ``timeout`` (``--timeout``) cancels the job, its error is made after the
    job has gone: the job keeps what the running command printed so far and
    its name, and ``named`` adds that name to the error.
    """

    def __init__(self, hosts: list[Host], commands: list[str]) -> None:
        self.commands = commands
        self.outputs: dict[int, list[str]] = {id(h): [] for h in hosts}
        self.cancelled: dict[int, str] = {}  # host -> the command running when cancelled

    async def __call__(self, session: Session, host: Host) -> None:
        out = self.outputs[id(host)]
        for command in self.commands:
            try:
                out.append(await session.execute(command))
            except CommandError as exc:
                out.append(exc.output)
                raise
            except ExpectError as exc:  # timed out, end of file: what came is its output
                out.append(_so_far(exc.before, command))
                told = _for_command_line(exc)
                told.add_note(f"command {command!r}")
                raise told from None
            except asyncio.CancelledError:  # --timeout (or Ctrl-C): the same, kept here
                out.append(_so_far(session.buffer, command))
                self.cancelled[id(host)] = command
                raise
        # Nothing returned: run_many keeps every Result until the end, and
        # the outputs are to go once the host's block is printed.

    def named(self, result: Result[Host, None]) -> Result[Host, None]:
        """``result``, its error naming the command the job was cancelled in."""
        command = self.cancelled.get(id(result.host))
        if command is not None and isinstance(result.error, ExpectTimeout):
            result.error.add_note(f"command {command!r}")
        return result


def _so_far(received: Any, command: str) -> str:
    """What a command that did not finish printed: ``received`` (since it
    was sent) without its echo."""
    return clean_output(received, command) if isinstance(received, str) else ""


async def _exec_async(args: argparse.Namespace, hosts: list[Host]) -> int:
    commands: list[str] = args.commands
    job = _Commands(hosts, commands)
    known_hosts: Any = args.known_hosts or ()
    if args.insecure_no_host_key_check:
        known_hosts = None
        warn("SSH host keys are not checked (--insecure-no-host-key-check)")
        logging.getLogger("aioexpect").addFilter(_said_once)
    progress = Progress(len(hosts), sys.stderr) if _draws_progress() else None
    printer = Printer(hosts, job.outputs, commands, sys.stdout, progress, as_json=args.json)
    if args.stdout_closed:  # (>&-: /dev/null is on it) the hosts run, and the status says so
        printer.failed = OutputError("standard output is closed")
    under_logs = progress.under_logs() if progress is not None else contextlib.nullcontext()
    escaped = contextlib.nullcontext() if args.json else escaping(sys.stdout)  # (JSON: ASCII)
    # SIGTERM, SIGHUP: as Ctrl-C, until the results are out
    with terminations(), under_logs, escaped:
        try:
            results = await run_many(
                hosts,
                job,
                concurrency=args.concurrency,
                timeout=args.timeout,
                session_timeout=args.command_timeout,
                driver=args.driver,
                logdir=args.logdir,
                known_hosts=known_hosts,
                on_result=lambda result: printer.add(job.named(result)),
            )
        except ValueError as exc:
            say(f"aioexpect exec: error: {usage_text(exc)}")
            return 2
        except asyncio.CancelledError:  # Ctrl-C, SIGTERM, SIGHUP: the hosts that finished
            printer.interrupted()  # are shown all the same
            raise
        finally:
            if progress is not None:
                progress.clear()
        printer.finish(results)
        printer.stop_if_unread()  # then quiet, as a command SIGPIPE ended: no last line
        failed = sum(not r.ok for r in results)
        plural = "" if len(results) == 1 else "s"
        say(f"aioexpect: {len(results)} host{plural}, {len(results) - failed} ok, {failed} failed")
        printer.check()
        return 1 if failed else 0


def _said_once(record: logging.LogRecord) -> bool:
    """Drop the per-connection "host key checking is OFF" warnings: said once."""
    return not str(record.msg).startswith("SSH host key checking is OFF")


def _draws_progress() -> bool:
    """Whether to draw the progress bar (on stderr): when stderr is a
    terminal, whatever stdout is (a terminal: the bar is erased before each
    block and drawn again after it; a file: unseen meanwhile), except a pipe
    or a socket, whose reader (``| grep``, ``| tee``, ``| less``) may print
    its lines onto the same terminal while the bar is on it."""
    try:
        if not sys.stderr.isatty():
            return False
        mode = os.fstat(sys.stdout.fileno()).st_mode
    except (OSError, ValueError):  # no descriptor behind it (replaced, closed)
        return False
    return not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode))


def _demo(args: argparse.Namespace) -> Any:
    from ._demo import demo

    return demo(as_json=args.json, out=CheckedOutput(sys.stdout))
