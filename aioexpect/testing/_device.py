"""``VirtualDevice``: an emulated network device for testing automation.

The device is data (hostname, prompt, a command table, optional login,
banner, pager); ``converse`` plays one connection's part of the dialogue over
a ``LineIO`` (``_lineio``: a terminal line discipline: echo, backspace, Ctrl-C,
``\\r``/``\\r\\n``/``\\r\\0`` line ends), which ``serve_telnet`` and
``serve_ssh`` build over their connections.  A handler holds a dialog with
``ask``, which talks to the connection being served in its task (or to the
answers given to ``respond``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hmac
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, cast

from ._lineio import LineIO

__all__ = [
    "CLOSING",
    "Commands",
    "Handler",
    "VirtualDevice",
    "ask",
    "builtin",
    "converse",
    "handler_failed",
    "serving",
]

#: A response: a fixed text, or ``fn(command, match)`` returning the text
#: (a coroutine function may be used too).
Handler = str | Callable[[str, re.Match[str]], str | Awaitable[str]]
#: The command table: regex (a str or a compiled ``re.Pattern[str]``, checked
#: when the device is made) -> response.  A table that mixes texts and
#: functions, kept in a variable as docs/testing.rst does, is a
#: ``dict[str, object]`` to mypy: its responses are checked when it is given.
Commands = Mapping[Any, Handler] | Mapping[Any, object]

_log = logging.getLogger("aioexpect.testing")
_EXIT = re.compile(r"exit|logout|quit")
#: The built-ins that set the terminal's page length or width, as the
#: drivers' init commands send them, and what each OS answers: Cisco's and
#: Arista's ``terminal length|width N`` nothing, JunOS's ``set cli
#: screen-length|screen-width N`` and Huawei VRP's ``screen-length N
#: temporary`` a line.  Group ``length``: the page length set (0: no paging).
_SETTINGS = {
    re.compile(r"terminal (?:length (?P<length>\d+)|width \d+)"): "",
    re.compile(r"set cli screen-length (?P<length>\d+)"): "Screen length set to {length}\n",
    re.compile(r"set cli screen-width (?P<width>\d+)"): "Screen width set to {width}\n",
    re.compile(r"screen-length (?P<length>\d+) temporary"): (
        "Info: The configuration takes effect on the current user terminal interface only.\n"
    ),
}
_ERASE_PAGER = "\b" * 10 + " " * 10 + "\b" * 10
#: The connection being served in this task: its device, and the settings
#: its handlers changed (``prompt``, ``hostname``), which hold for it alone.
_connection: contextvars.ContextVar[tuple[VirtualDevice, dict[str, str]] | None]
_connection = contextvars.ContextVar("aioexpect_virtual_connection", default=None)
#: Whom ``ask`` asks in this task: ``fn(question, secret, key) -> answer``.
_Asker = Callable[[str, bool, bool], Awaitable[str]]
_asker: contextvars.ContextVar[_Asker | None]
_asker = contextvars.ContextVar("aioexpect_virtual_asker", default=None)
#: The message with which a closing server cancels its connections' tasks:
#: a question being asked then raises ``EOFError`` instead (see ``serving``).
CLOSING = "aioexpect.testing: the server closes"


async def ask(question: str, *, secret: bool = False, key: bool = False) -> str:
    """Within a command handler (a coroutine function): send ``question``
    and return the line the client answers, without its line end and
    unstripped (Enter alone: ``""``; Ctrl-C: ``"\\x03"``).

    ``secret=True``: the answer is not echoed, as a device asking for a
    password does.  ``key=True``: the answer is the first key the client
    presses, not a line (``"y"``; Enter: ``""``), as IOS's ``[confirm]``
    takes it; it is not echoed, the line end that follows the question is.
    It waits as long as the client takes; if the connection ends first, or
    the server closes (or ``respond`` has no answer left), it raises
    ``EOFError``, which, left to propagate, ends the handler and the
    connection quietly.
    """
    if not isinstance(question, str):
        raise TypeError(f"a question must be a str, not {type(question).__name__}")
    asker = _asker.get()
    if asker is None:
        raise RuntimeError(
            "ask() is for the command handlers of a served VirtualDevice, "
            "or of respond(command, answers=[...])"
        )
    return await asker(question, secret, key)


class _Script:
    """The answers given to ``respond``, and the dialog as a terminal shows it."""

    def __init__(self, answers: Iterable[str]) -> None:
        # (the type only, never the value: an answer is often a password)
        if isinstance(answers, str):
            raise TypeError("answers must be an iterable of str, not a str: put it in a list")
        if not isinstance(answers, Iterable):
            raise TypeError(f"answers must be an iterable of str, not {type(answers).__name__}")
        self._answers = list(answers)
        for answer in self._answers:  # (not shown: an answer may be a password)
            if not isinstance(answer, str):
                raise TypeError(f"answers must be str, not {type(answer).__name__}")
        self._answers.reverse()
        self.transcript: list[str] = []

    async def __call__(self, question: str, secret: bool, key: bool) -> str:
        self.transcript.append(question)
        if not self._answers:
            raise EOFError(f"no answer left for {question!r}")
        answer = await _read_as_typed(question, self._answers.pop(), key)
        self.transcript.append(("" if secret or key else answer) + "\n")
        return answer


async def _read_as_typed(question: str, typed: str, key: bool) -> str:
    """``typed`` read by the reader that reads it over the network (``LineIO``).
    ``ValueError`` where no typing gives that answer: some of it would be
    left for the next command line, or it ends in an escape sequence (which
    the reader skips, waiting for its end).  (Errors name the question,
    never the answer: it may be a password.)"""
    # Last, read only if needed: the Enter of a line answer that no line end
    # (``\r``, telnet's ``\r\x00``) or Ctrl-C ended.  A key: "" is Enter.
    given = ["\r", typed] if typed and not key else [typed or "\r"]

    async def read() -> str:
        if not given:
            raise ValueError(f"an answer to {question!r} ends inside an escape sequence")
        return given.pop()

    async def send(text: str) -> None:  # (nothing is echoed)
        pass

    io = LineIO(read, send, echo=lambda: False)
    answer = await (io.answer_key() if key else io.readline(interrupt="\x03"))
    if answer is None:
        raise EOFError(f"Ctrl-D answered {question!r}, as from a client that went away")
    if io.unread():
        raise ValueError(
            f"an answer to {question!r}, asked with key=True, is one key (a character,"
            f" or '' for Enter), not {len(typed)} characters"
            if key
            else f"an answer to {question!r} goes on after its end (a line end or Ctrl-C):"
            " typed, the rest would be the next command line"
        )
    return answer


class VirtualDevice:
    """An emulated device: ``VirtualDevice("r1", prompt="r1#", commands={...})``.

    - ``prompt``: sent whenever the device waits for a command, each
      ``\\n`` in it as ``\\r\\n`` (as a terminal sends a prompt of more than
      one line, JunOS's ``[edit]`` above ``user@host#``, and as the answers
      go); ``{hostname}`` in it is replaced by the hostname.  ``""``: a device
      that never shows one, to test a client's time-out at a mute device.  A handler that sets
      ``device.prompt`` (or ``hostname``), e.g. to enter a configuration
      mode, changes it for its own connection only; set elsewhere, it
      changes the device's, for every connection that has not changed its own.
    - ``commands``: ``{regex: response}``.  A command line (stripped) is
      answered by the first regex that matches all of it (``re.fullmatch``);
      a response is a text, or ``fn(command, match)`` returning the text; a
      coroutine function may also ``await ask(question, secret=...)`` and
      read the answer, to hold a dialog.  A missing final line end is added.
      Unknown commands answer ``% Invalid input detected at '^' marker.``,
      as Cisco devices do.
    - ``login``: ``(username, password)`` or ``None`` (no login).  Checked
      by SSH password authentication over SSH, and by an in-band
      ``Username:`` / ``Password:`` dialog over telnet (three attempts).
    - ``banner``: shown before the login dialog (telnet) or the first prompt.
    - ``login_header``: the first line of the telnet login dialog (IOS's
      ``User Access Verification``, which ``driver="auto"`` counts for the
      Cisco drivers; ``""``: none).
    - ``page_length``: if set, longer output is paged with `` --More-- ``
      (space: next page, Enter: next line, ``q`` or Ctrl-C: stop, Ctrl-D:
      end of file; arrow keys are ignored), until the client runs
      ``terminal length 0``.

    Built in, unless the table says otherwise: ``exit``/``logout``/``quit``
    end the connection; what the shipped drivers' init commands send is
    answered as their OS does: ``terminal length N`` and ``terminal width
    N`` silently, JunOS's ``set cli screen-length N`` / ``screen-width N``
    with ``Screen length set to N``, VRP's ``screen-length N temporary``
    with its ``Info: ...`` line (a page length of 0 turns paging off).
    """

    def __init__(
        self,
        hostname: str,
        *,
        prompt: str = "{hostname}#",
        commands: Commands | None = None,
        login: tuple[str, str] | None = None,
        banner: str = "",
        page_length: int | None = None,
        login_header: str = "User Access Verification",
    ) -> None:
        for name, value in (("banner", banner), ("login_header", login_header)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, not {type(value).__name__}")
        if not isinstance(login, tuple | list | type(None)) or (
            login is not None
            and (len(login) != 2 or not all(isinstance(x, str) and x for x in login))
        ):
            raise ValueError("login must be (username, password), two non-empty strings, or None")
        if page_length is not None and (
            type(page_length) is not int or page_length <= 0  # (not a bool)
        ):
            raise ValueError(f"page_length must be a positive int or None, not {page_length!r}")
        if commands is not None and not isinstance(commands, Mapping):
            raise TypeError(f"commands must be a mapping {{regex: response}}, not {commands!r}")
        self._hostname = self._prompt = ""
        self.hostname = hostname
        self.prompt = prompt
        self.login = None if login is None else (login[0], login[1])
        self.banner = banner
        self.login_header = login_header
        self.page_length = page_length
        self._commands: list[tuple[re.Pattern[str], Handler]] = []
        for pattern, response in (commands or {}).items():
            self.add_command(pattern, cast(Handler, response))  # (which checks it)

    @property
    def hostname(self) -> str:
        return self._setting("hostname")

    @hostname.setter
    def hostname(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError(f"a VirtualDevice needs a non-empty str hostname, not {value!r}")
        self._change("hostname", value)

    @property
    def prompt(self) -> str:
        return self._setting("prompt")

    @prompt.setter
    def prompt(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a prompt must be a str, not {type(value).__name__}")
        self._change("prompt", value)

    def _own(self) -> dict[str, str] | None:
        """The settings of the connection being served, if it is this device's."""
        current = _connection.get()
        return current[1] if current is not None and current[0] is self else None

    def _setting(self, name: str) -> str:
        own = self._own()
        return own[name] if own is not None and name in own else str(getattr(self, "_" + name))

    def _change(self, name: str, value: str) -> None:
        own = self._own()
        if own is not None:
            own[name] = value
        else:
            setattr(self, "_" + name, value)

    def __repr__(self) -> str:
        login = "login" if self.login else "no login"
        return f"<VirtualDevice {self.hostname!r} {len(self._commands)} commands, {login}>"

    def add_command(self, pattern: str | re.Pattern[str], response: Handler) -> None:
        """Answer commands matching ``pattern`` with ``response`` (see the class)."""
        try:
            compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        except re.error as exc:
            raise ValueError(f"bad command pattern {pattern!r}: {exc}") from None
        if not isinstance(compiled, re.Pattern) or not isinstance(compiled.pattern, str):
            raise TypeError(f"a command pattern must be a str regex, not {pattern!r}")
        if not (isinstance(response, str) or callable(response)):
            raise TypeError(f"a response must be a str or a callable, not {response!r}")
        self._commands.append((compiled, response))

    def render_prompt(self) -> str:
        """The prompt as sent, ``{hostname}`` filled in."""
        return self.prompt.replace("{hostname}", self.hostname)

    def check_login(self, username: str, password: str) -> bool:
        """Whether ``username``/``password`` are this device's credentials."""
        if self.login is None:
            return True
        user_ok = hmac.compare_digest(username.encode(), self.login[0].encode())
        password_ok = hmac.compare_digest(password.encode(), self.login[1].encode())
        return user_ok and password_ok

    def lookup(self, command: str) -> tuple[Handler, re.Match[str]] | None:
        """The table entry answering ``command`` (stripped), if any."""
        if not isinstance(command, str):  # (not int's "has no attribute 'strip'")
            raise TypeError(f"a command must be a str, not {type(command).__name__}")
        for pattern, handler in self._commands:
            m = pattern.fullmatch(command.strip())
            if m is not None:
                return handler, m
        return None

    async def respond(self, command: str, *, answers: Iterable[str] | None = None) -> str:
        """The device's answer to one command line (no echo, no prompt).

        Useful to test handlers without a network.  ``answers``: the lines
        that answer the handler's ``ask`` questions, in order, each read as
        the device reads what a client types: a line may end in one line
        end (``"\\r"`` alone is Enter: ``""``), backspace deletes, Ctrl-C
        ends it (the answer is ``"\\x03"``), Ctrl-D first is ``EOFError``
        (a client that went away); a ``key=True`` question takes one key (a
        character, or ``""`` for Enter).  An answer no typing gives raises
        ``ValueError``: more after its end (``"a\\nb"``, ``"yes"`` to a key
        question: typed, the rest would be the next command line), or an
        escape sequence left open.  The result then starts with the dialog
        as a terminal shows it (each question, its answer unless secret or a
        key, a line end).  A question beyond them raises ``EOFError``, as
        from a client that went away.
        """
        if not isinstance(command, str):
            raise TypeError(f"a command must be a str, not {type(command).__name__}")
        if answers is None:
            return await self._respond(command)
        script = _Script(answers)
        token = _asker.set(script)
        try:
            result = await self._respond(command)
        finally:
            _asker.reset(token)
        return "".join(script.transcript) + result

    async def _respond(self, command: str) -> str:
        command = command.strip()
        entry = self.lookup(command)
        if entry is None:
            return self.invalid_input() if command else ""
        handler, m = entry
        if isinstance(handler, str):
            result: Any = handler
        else:
            try:
                result = handler(command, m)
            except StopIteration as exc:  # (left to leave this coroutine, a RuntimeError)
                raise _HandlerStopped(command) from exc
            if inspect.isawaitable(result):
                result = await result
        if not isinstance(result, str):
            raise TypeError(
                f"the handler for {command!r} returned {type(result).__name__}, not str"
            )
        return result if not result or result.endswith("\n") else result + "\n"

    def invalid_input(self, *, after_prompt: bool = True) -> str:
        """The answer to an unknown command, its caret under the command's
        start: past the prompt's last line (``admin@mx1#`` of JunOS's
        ``[edit]`` above it), unless ``after_prompt=False`` (an SSH exec
        request, where no prompt was shown)."""
        width = len(re.split(r"[\r\n]", self.render_prompt())[-1]) if after_prompt else 0
        caret = " " * width + "^"
        return f"{caret}\n% Invalid input detected at '^' marker.\n"


class _HandlerStopped(RuntimeError):
    """A handler raised ``StopIteration``, which no ``await`` can pass on
    (it means "returned" there): raised instead, from it, and shown to the
    client as the handler's own exception, as any other is."""

    def __init__(self, command: str) -> None:
        super().__init__(
            f"the handler for {command!r} raised StopIteration, which cannot leave a coroutine"
        )


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


async def converse(device: VirtualDevice, io: LineIO, *, in_band_login: bool) -> None:
    """Play the device for one connection until ``exit`` or end of file
    (what its handlers change of the device holds for it alone)."""
    with serving(device, io):
        await _converse(device, io, in_band_login=in_band_login)


@contextlib.contextmanager
def serving(device: VirtualDevice, io: LineIO) -> Iterator[None]:
    """Within: one connection of ``device`` is served over ``io`` (see
    ``converse``); its handlers' ``ask`` questions go to it."""

    ended = False  # (an ask raised EOFError: so does every later one)

    async def asker(question: str, secret: bool, key: bool) -> str:
        nonlocal ended
        if not ended:
            try:
                return await _ask(io, question, secret, key)
            except EOFError:
                ended = True
                raise
        # Not sent (over SSH, a write to the closed channel raised
        # BrokenPipeError); the loop runs first, so that a handler asking on
        # in a loop does not hold it, and the server's close ends it.
        await asyncio.sleep(0)
        raise EOFError(f"the connection had ended when {question!r} was asked")

    token = _connection.set((device, {}))
    asking = _asker.set(asker)
    try:
        yield
    finally:
        _asker.reset(asking)
        _connection.reset(token)


async def _ask(io: LineIO, question: str, secret: bool, key: bool) -> str:
    """Ask ``question`` over ``io``: the answer, or ``EOFError`` if the
    client goes away, a signal ends the connection (not asked then, if it
    came first) or the server closes (see ``_closing``)."""
    if (name := io.ended_by()) is not None:
        raise EOFError(f"a {name} signal had ended the connection when {question!r} was asked")
    try:
        await io.send(_crlf(question))
        if key:
            answer = await io.answer_key()
        else:
            answer = await io.readline(secret=secret, interrupt="\x03")
    except asyncio.CancelledError as exc:
        if not _closing(exc):
            raise
        raise EOFError(f"the server closed while {question!r} was asked") from None
    except ConnectionError:
        raise EOFError(f"the client went away before {question!r} was asked") from None
    if answer is None:
        if (name := io.ended_by()) is not None:
            raise EOFError(f"a {name} signal ended the connection while {question!r} was asked")
        raise EOFError(f"the client went away without answering {question!r}")
    return answer


def _closing(exc: asyncio.CancelledError) -> bool:
    """Whether ``exc`` is the server closing, and nothing else cancelling this
    task: then it is no longer cancelled, and ``ask`` raises ``EOFError``,
    so that a handler's ``except EOFError:`` clean-up runs as when the client
    goes away (the connection's reads end at once after the close)."""
    task = asyncio.current_task()
    if task is None or exc.args != (CLOSING,):
        return False
    return task.uncancel() == 0


async def _converse(device: VirtualDevice, io: LineIO, *, in_band_login: bool) -> None:
    if device.banner:
        await io.send(_crlf(device.banner.rstrip("\n") + "\n"))
    if in_band_login and device.login is not None and not await _login(device, io):
        return
    page_length = device.page_length
    while io.ended_by() is None:  # (a signal ends it: no prompt more, as sshd's shell)
        await io.send(_crlf(device.render_prompt()))
        line = await io.readline()
        if line is None:
            return
        command = line.strip()
        done = builtin(device, command)
        if done is not None:
            m, answer = done
            if m.re is _EXIT:
                return
            length = m.groupdict().get("length")
            if length is not None:
                page_length = int(length) or None
            if answer:
                await io.send(_crlf(answer))
            continue
        try:
            output = await device.respond(command)
        except EOFError:  # from ask(): the client went away (or the handler hung up)
            return
        except Exception as exc:
            output = handler_failed(device, command, exc)
        if not await _page(io, _crlf(output), page_length):
            return


def builtin(device: VirtualDevice, command: str) -> tuple[re.Match[str], str] | None:
    """``command`` (stripped) as a built-in, and its answer ("" but for a
    setting whose OS says it was set), unless the device's table answers
    it: ``exit``/``logout``/``quit``, or one of ``_SETTINGS`` (group
    ``length``: a page length set).  Over a shell and an exec request alike."""
    if device.lookup(command) is not None:
        return None
    m = _EXIT.fullmatch(command)
    if m is not None:
        return m, ""
    for pattern, answer in _SETTINGS.items():
        m = pattern.fullmatch(command)
        if m is not None:
            return m, answer.format_map(m.groupdict())
    return None


def handler_failed(device: VirtualDevice, command: str, exc: Exception) -> str:
    """Log the exception a command handler raised (called where it is
    caught); return what the client is shown instead of an answer."""
    _log.exception("%r: the handler of %r failed", device, command)
    shown = exc.__cause__ if isinstance(exc, _HandlerStopped) else exc
    return f"% Error in the command handler: {shown!r}\n"


async def _page(io: LineIO, output: str, page_length: int | None) -> bool:
    """Send ``output`` a page at a time; ``False`` if the client went away
    (or pressed Ctrl-D at the pager)."""
    lines = output.splitlines(keepends=True)
    if page_length is None or len(lines) <= page_length:
        await io.send(output)
        return True
    i, step = 0, page_length
    while i < len(lines):
        await io.send("".join(lines[i : i + step]))
        i += step
        if i >= len(lines) or io.ended_by() is not None:
            break
        await io.send(" --More-- ")
        key = await io.readkey()
        await io.send(_ERASE_PAGER)
        if key is None:
            return False
        if key in "qQ\x03":
            break
        step = 1 if key in "\r\n" else page_length
    return True


async def _login(device: VirtualDevice, io: LineIO) -> bool:
    """The in-band login dialog (telnet): three attempts."""
    if device.login_header:
        await io.send(f"\r\n{device.login_header}\r\n\r\n")
    for _attempt in range(3):
        await io.send("Username: ")
        username = await io.readline()
        if username is None:
            return False
        await io.send("Password: ")
        password = await io.readline(secret=True)
        if password is None:
            return False
        if device.check_login(username.strip(), password):
            await io.send("\r\n")
            return True
        await io.send("% Login invalid\r\n\r\n")
    await io.send("% Bad passwords\r\n")
    return False
