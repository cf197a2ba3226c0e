"""The ``console`` and ``run`` subcommands of the ``aioexpect`` command line.

``run`` serves the console into a program's own event loop without the
event-loop policy API: while the program runs, ``asyncio.Runner.run`` (which
``asyncio.run``, ``uvloop.run`` and ``aioexpect.run`` all go through) starts
the console server next to the program's main coroutine, in the main thread.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import runpy
import signal
import sys
import threading
import traceback
import types
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ._cli import _positive_float, _positive_int
from ._console_checks import Together, check_serving, load_key_files
from ._console_local import run_local_console
from ._console_server import ConsoleServer, start_console_server
from ._exceptions import ConnectError
from ._options import check_host
from ._runner import run

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["TOKEN_ENV", "register"]

#: Environment variable holding the token of a served console (never an option:
#: other users can read a process's arguments with ps).
TOKEN_ENV = "AIOEXPECT_CONSOLE_TOKEN"
#: ``--serve``'s host for every interface, IPv4 and IPv6 on one port (the
#: API's ``host=None``; SSH only), as ``server.address`` shows it.
EVERY_INTERFACE = "*"
#: How ``--serve`` takes an IPv6 address (``::1:8888`` is one too, without a port).
IN_BRACKETS = "an IPv6 address goes in brackets, as [::1]:PORT"
T = TypeVar("T")


def register(subparsers: Subparsers) -> None:
    """Add ``console`` and ``run``; each sets ``func`` to a handler taking the
    parsed arguments and returning the exit status.  ``run`` also sets
    ``program_interrupts``: a ``KeyboardInterrupt`` out of its handler is the
    program's, shown already, to be let out of ``main`` (see ``_run_program``)."""
    console = subparsers.add_parser(
        "console",
        help="an asyncio REPL with aioexpect preloaded (or serve one)",
        description="An asyncio Python console where top-level await works, with spawn, "
        "connect_ssh, connect_telnet, connect, run_many, sessions() and attach() preloaded. "
        "With --serve, --unix or --authorized-keys it is served to clients instead.",
        allow_abbrev=False,
    )
    _add_serving(console)
    console.set_defaults(func=console_command, parser=console)
    program = subparsers.add_parser(
        "run",
        help="run a Python program with the console served into it",
        description="Run FILE or -m MODULE with the aioexpect console served into its event "
        "loop (127.0.0.1, a free port, unless told otherwise; the address goes to stderr). "
        "Everything after FILE or MODULE belongs to the program.",
        allow_abbrev=False,
    )
    _add_serving(program)
    program.add_argument(
        "-m",
        dest="module",
        nargs=argparse.REMAINDER,
        metavar="MODULE",
        help="-m MODULE [ARGS...]: run a module, as python3 -m does",
    )
    program.add_argument("program", nargs=argparse.REMAINDER, metavar="FILE [ARGS...]")
    program.set_defaults(func=run_command, parser=program, program_interrupts=True)


def _add_serving(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "serving", f"A token, if any, comes from ${TOKEN_ENV} or --token-file."
    )
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--serve",
        metavar="HOST:PORT",
        help="serve on TCP (loopback only without SSH; port 0: any; "
        f"{EVERY_INTERFACE}:PORT: every interface, IPv4 and IPv6, SSH only)",
    )
    where.add_argument("--unix", metavar="PATH", help="serve on a UNIX socket (mode 0600)")
    group.add_argument("--token-file", metavar="FILE", help="clients must send its first line")
    group.add_argument(
        "--ssh-host-key", action="append", metavar="FILE", help="serve over SSH with this host key"
    )
    group.add_argument(
        "--authorized-keys",
        action="append",
        metavar="FILE",
        help="SSH public keys allowed to connect (repeatable: every file's keys are)",
    )
    group.add_argument(  # (None: not given, so that the local console can refuse it)
        "--max-clients",
        type=_positive_int,
        metavar="N",
        help="connections at once (64)",
    )
    group.add_argument(
        "--login-timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="time a client has to authenticate (30; inf: no limit)",
    )


def _asks_serving(args: argparse.Namespace) -> bool:
    """Whether ``console`` is to be served (``run`` always serves)."""
    return bool(
        args.serve is not None
        or args.unix is not None
        or args.authorized_keys is not None
        or args.ssh_host_key
    )


def _serving_options(args: argparse.Namespace) -> dict[str, Any]:
    """``start_console_server`` options from the command line, every one
    named, checked before anything starts (``check_serving``), refused in
    the command line's words (the API's named its parameters: ``path=``,
    ``authorized_client_keys=``).  The token and the limits always apply,
    whatever the address: without ``--serve``, ``--unix`` or SSH it is
    loopback, a free port."""
    host, port = _host_port(args.serve) if args.serve is not None else ("127.0.0.1", 0)
    if host is None and args.authorized_keys is None:
        raise ValueError(
            f"--serve {args.serve!r}: every interface is for SSH only (--ssh-host-key with"
            " --authorized-keys): plain TCP serves the console on loopback only (anyone who"
            " reaches it runs code in this process)"
        )
    token = _token(args.token_file)
    if args.unix == "":  # (bound, "" was an abstract socket)
        raise ValueError("--unix '': the file name of the UNIX socket to serve on is empty")
    return check_serving(
        {
            "host": host,
            "port": port,
            "path": args.unix,
            "token": token,
            "ssh_host_keys": args.ssh_host_key,
            "authorized_client_keys": args.authorized_keys,
            "max_clients": 64 if args.max_clients is None else args.max_clients,
            "login_timeout": 30.0 if args.login_timeout is None else args.login_timeout,
        },
        load_key_files,
        "a UNIX socket (--unix PATH), or SSH (--ssh-host-key with --authorized-keys)",
        _together(args),
    )


def _together(args: argparse.Namespace) -> Together:
    """``check_options``'s refusals of options that do not go together, as
    the command line gives them."""
    given = "--token-file" if args.token_file is not None else f"${TOKEN_ENV}"
    return Together(
        "--ssh-host-key needs --authorized-keys (the keys that may log in)",
        "--authorized-keys needs --ssh-host-key (the server's own key)",
        "SSH serving is on TCP (--serve HOST:PORT): no --unix with it",
        f"SSH serving authenticates with keys: no token ({given}) with it",
    )


def _host_port(text: str) -> tuple[str | None, int]:
    """``--serve``'s host and port: ``HOST:PORT``, ``[HOST]:PORT`` (an IPv6
    address needs them), ``:PORT`` or ``PORT`` (loopback), ``*:PORT`` (every
    interface: ``None``, as the API takes it); anything else a usage error
    saying why (``[*:0`` was ``*``, ``::1]:0`` was ``::1``: brackets were
    stripped, matched or not)."""
    host, port = _split_serve(text)
    if not (port.isascii() and port.isdigit()):  # (int() takes " 8", "+8", "8_0", "٨")
        why = f"{port!r} is not a port number" if port else "no port"
        raise ValueError(f"--serve {text!r}: {why} (HOST:PORT; port 0: any free one)")
    if len(port.lstrip("0")) > 5 or int(port) > 65535:
        raise ValueError(f"--serve {text!r}: the port must be from 0 to 65535")
    if host == EVERY_INTERFACE:
        return None, int(port)
    try:
        check_host(host)
    except ValueError as exc:
        raise ValueError(f"--serve {text!r}: {exc}") from None
    return host, int(port)


def _split_serve(text: str) -> tuple[str, str]:
    """``--serve``'s host (its brackets, if any, taken off: an IPv6
    address needs them, any host may have them, as ``[*]:PORT``; none is
    loopback) and port, as text."""

    def bad(why: str) -> ValueError:
        return ValueError(f"--serve {text!r}: {why}")

    if text.startswith("["):
        address, closed, rest = text[1:].partition("]")
        if not closed:
            raise bad(f"'[' without ']': {IN_BRACKETS}")
        host, port = address, rest[1:]
        if not host:
            raise bad(f"no host in the brackets: {IN_BRACKETS}")
        if not rest.startswith(":"):
            raise bad("no :PORT after the ']', as in [::1]:PORT")
    else:
        host, sep, port = text.rpartition(":")
        if not sep:
            return "127.0.0.1", text
        if ":" in host.strip("[]"):
            raise bad(IN_BRACKETS)
    if "[" in host or "]" in host:
        raise bad(f"a bracket out of place: {IN_BRACKETS}")
    return host or "127.0.0.1", port


def _token(path: str | None) -> str | None:
    """The token: ``--token-file``'s first line, else ``$TOKEN_ENV``'s,
    taken out of the environment once read: the program ``run`` runs, and
    every child it or a console client spawns, would inherit it (an ``env``
    in a transcript showed it).  A file that cannot be read is a usage error
    naming the option and the file (it was Python's bare "[Errno 2] ...",
    naming neither)."""
    if path is None:
        token = os.environ.pop(TOKEN_ENV, None) or None
        if token is not None and ("\n" in token or "\r" in token):
            raise ValueError(f"${TOKEN_ENV} holds a line break: the token is one line")
        return token
    try:
        with open(path, encoding="utf-8") as f:
            token = f.readline().rstrip("\r\n")
    except OSError as exc:
        raise ValueError(f"--token-file {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"--token-file {path!r}: not UTF-8 text") from None
    if not token:
        raise ValueError(f"--token-file {path!r}: its first line, the token, is empty")
    return token


def _fail(command: str, exc: BaseException) -> int:
    print(f"aioexpect {command}: {exc}", file=sys.stderr)
    return 2 if isinstance(exc, ValueError | TypeError | OSError) else 1


# -- console -------------------------------------------------------------------------

#: The options that only a served console takes, and their ``args`` names.
_SERVING_ONLY = [
    ("--token-file", "token_file"),
    ("--max-clients", "max_clients"),
    ("--login-timeout", "login_timeout"),
]


def console_command(args: argparse.Namespace) -> int:
    """``aioexpect console``: the local console, or serve it until SIGINT/SIGTERM."""
    if not _asks_serving(args):
        # (each was left unused, the local console started)
        for option, value in _SERVING_ONLY:
            if getattr(args, value) is not None:
                why = "applies to a served console: add --serve, --unix or --authorized-keys"
                return _fail("console", ValueError(f"{option} {why}"))
        return run(run_local_console())
    try:
        options = _serving_options(args)
    except (ValueError, TypeError, OSError) as exc:
        return _fail("console", exc)
    try:
        return run(_serve_until_signal(options))
    except (ValueError, TypeError, ConnectError) as exc:
        return _fail("console", exc)


async def _serve_until_signal(options: dict[str, Any]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    async with await start_console_server(**options) as server:
        # Handled before the address is told: whoever read it may stop the
        # server at once (a SIGTERM then ended the process by the signal).
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            _announce(server)
            await stop.wait()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
    return 0


def _announce(server: ConsoleServer) -> None:
    print(f"aioexpect: console served on {server.address}", file=sys.stderr, flush=True)


# -- run -------------------------------------------------------------------------------


def run_command(args: argparse.Namespace) -> int:
    """``aioexpect run``: the program, with the console served into its loop."""
    try:
        options = _serving_options(args)
    except (ValueError, TypeError, OSError) as exc:
        return _fail("run", exc)
    program = list(args.program)
    if program[:1] == ["--"]:
        program = program[1:]
    if args.module is not None:
        if not args.module:
            return _fail("run", ValueError("-m needs a module name"))
        return _run_program(options, module=args.module[0], argv=args.module[1:])
    if not program:
        return _fail("run", ValueError("name a FILE or -m MODULE to run"))
    return _run_program(options, file=program[0], argv=program[1:])


def _run_program(
    options: dict[str, Any], *, argv: list[str], file: str | None = None, module: str | None = None
) -> int:
    if file is not None and not os.path.exists(file):
        return _fail("run", ValueError(f"no such file: {file}"))
    if module is not None and not _module_exists(module):
        return _fail("run", ValueError(f"no module named {module!r}"))
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    try:
        with _console_in_runners(options):
            if module is not None:
                sys.argv = [module, *argv]
                sys.path.insert(0, os.getcwd())
                runpy.run_module(module, run_name="__main__", alter_sys=True)
            else:
                assert file is not None
                sys.argv = [file, *argv]
                sys.path.insert(0, os.path.dirname(os.path.abspath(file)))
                runpy.run_path(file, run_name="__main__")
    except SystemExit as exc:
        return _exit_status(exc)
    except Exception as exc:  # the program's own: to its sys.excepthook, as python3 does
        _report(_without_our_frames(exc))
        return 1
    except KeyboardInterrupt as exc:
        # Ctrl-C in the program: shown as above, then out through main, for
        # Python to end the process as after ``python3 FILE`` (atexit
        # handlers run, then it dies of SIGINT, which a calling shell sees).
        _report(_without_our_frames(exc))
        sys.excepthook = _skipping(exc, sys.excepthook)
        raise
    finally:
        sys.argv, sys.path = saved_argv, saved_path
    return 0


def _skipping(shown: BaseException, hook: Callable[..., Any]) -> Callable[..., Any]:
    """``hook``, except for ``shown``, which Python hands it once more as it leaves."""

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if value is not shown:
            hook(kind, value, tb)

    return excepthook


def _report(exc: BaseException) -> None:
    """``exc`` through ``sys.excepthook`` (the program may have set its own);
    a hook that fails has its own error shown, then ``exc``, as python3 does."""
    try:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    except Exception as failure:
        print("Error in sys.excepthook:", file=sys.stderr)
        hook_tb = failure.__traceback__.tb_next if failure.__traceback__ else None
        traceback.print_exception(type(failure), failure, hook_tb, chain=False)
        print("\nOriginal exception was:", file=sys.stderr)
        traceback.print_exception(exc)


def _without_our_frames(exc: BaseException) -> BaseException:
    """``exc`` and the errors chained to it (a ``CancelledError`` before
    ``asyncio.run``'s ``KeyboardInterrupt``) without our frames."""
    seen: set[int] = set()
    todo = [exc]
    while todo:  # a walk: a chain can be as long as the recursion limit
        one = todo.pop()
        if id(one) not in seen:
            seen.add(id(one))
            one.with_traceback(_program_frames(one.__traceback__))
            inner = one.exceptions if isinstance(one, BaseExceptionGroup) else ()
            todo.extend(e for e in (one.__cause__, one.__context__, *inner) if e is not None)
    return exc


def _program_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """``tb`` without the frames of ``aioexpect run`` itself and of runpy
    (as ``python3 FILE`` shows no frame of its own)."""
    kept = []
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name not in (__file__, runpy.__file__) and not name.startswith("<frozen runpy"):
            kept.append(tb)
        tb = tb.tb_next
    trimmed = None
    for frame in reversed(kept):
        trimmed = types.TracebackType(trimmed, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return trimmed


def _module_exists(name: str) -> bool:
    sys.path.insert(0, os.getcwd())
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
    finally:
        sys.path.pop(0)


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


@contextlib.contextmanager
def _console_in_runners(options: dict[str, Any]) -> Iterator[None]:
    """While active, every ``asyncio.Runner.run`` in the main thread serves
    the console next to its coroutine, with ``__main__``'s globals shared."""
    original = asyncio.Runner.run
    main_thread = threading.main_thread()

    def serving_run(self: asyncio.Runner, coro: Any, *, context: Any = None) -> Any:
        if threading.current_thread() is not main_thread or not asyncio.iscoroutine(coro):
            return original(self, coro, context=context)
        return original(self, _with_console(coro, options), context=context)

    asyncio.Runner.run = serving_run  # type: ignore[method-assign]
    try:
        yield
    finally:
        asyncio.Runner.run = original  # type: ignore[method-assign]


async def _with_console(coro: Coroutine[Any, Any, T], options: dict[str, Any]) -> T:
    main = sys.modules.get("__main__")
    shared = vars(main) if main is not None else {}
    try:
        server = await start_console_server(locals=shared, **options)
    except (ValueError, TypeError, ConnectError) as exc:
        coro.close()
        print(f"aioexpect run: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    except BaseException:
        coro.close()
        raise
    _announce(server)
    try:
        return await coro
    finally:
        server.close()
        await server.wait_closed()
