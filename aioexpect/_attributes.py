"""The session's option attributes: ``timeout``, which may be set and is
checked as ``timeout=`` is, and those fixed when the session opens;
``pid``, a fact of its transport; and pexpect's settings that a session
does not have, which say what to do instead.

Each keeps its value in the session's ``_NAME``, which the session's own
code reads directly (no descriptor call on the way of every ``expect``).
"""

from __future__ import annotations

from typing import Any, Generic, Never, NoReturn, Self, TypeVar, overload

from ._options import check_timeout

__all__ = ["Fixed", "PexpectOnly", "PidAttribute", "TimeoutAttribute"]

_T = TypeVar("_T")


class TimeoutAttribute:
    """The default deadline of every wait, in seconds (``None``: for ever).
    Assign to change it (pexpect's ``child.timeout = 10``); the value is
    checked as ``timeout=`` is: a negative number or NaN is a
    ``ValueError``, anything but a number or ``None`` a ``TypeError``, and an
    int past a float's range (``10**400``) waits for ever."""

    @overload
    def __get__(self, session: None, owner: Any = None) -> Self: ...
    @overload
    def __get__(self, session: object, owner: Any = None) -> float | None: ...
    def __get__(self, session: object, owner: Any = None) -> Any:
        return self if session is None else session._default_timeout  # type: ignore[attr-defined]

    def __set__(self, session: object, timeout: float | None) -> None:
        # (unchecked, NaN waited for ever, 10**400 raised OverflowError
        # out of expect and a str a TypeError from inside it)
        session._default_timeout = check_timeout(timeout)  # type: ignore[attr-defined]

    def __delete__(self, session: object) -> NoReturn:
        # (Python's own message was the bare word "__delete__")
        raise AttributeError(
            "a session's timeout cannot be deleted: assign None to wait for "
            "ever, or a number of seconds"
        )


class Fixed(Generic[_T]):
    """An option the session was opened with, which it cannot change: the
    decoder, the buffer and the patterns compiled for it follow it
    (``s.encoding = None`` made ``expect(b"...")`` give text).  Assigning
    is an ``AttributeError``, and a type error to mypy."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, session: None, owner: Any = None) -> Self: ...
    @overload
    def __get__(self, session: object, owner: Any = None) -> _T: ...
    def __get__(self, session: object, owner: Any = None) -> Any:
        return self if session is None else getattr(session, "_" + self._name)

    def __set__(self, session: object, value: Never) -> NoReturn:
        raise AttributeError(
            f"a session's {self._name} cannot be changed once it is open: "
            f"give {self._name}= to the opener of a new session"
        )

    def __delete__(self, session: object) -> NoReturn:
        raise AttributeError(f"a session's {self._name} cannot be deleted: it was fixed at open")


class PidAttribute:
    """The local child's process id (``spawn``, pty or pipes), as pexpect's
    ``child.pid``: for ``os.kill(s.pid, signal.SIGUSR1)``, or psutil.
    ``None`` for SSH, telnet and streams, which have no child of this
    process.  It stays set after the child ended: do not signal it then
    (``exit_status`` / ``signal_status`` tell), the id may be reused."""

    @overload
    def __get__(self, session: None, owner: Any = None) -> Self: ...
    @overload
    def __get__(self, session: object, owner: Any = None) -> int | None: ...
    def __get__(self, session: object, owner: Any = None) -> Any:
        if session is None:
            return self
        pid = session.transport.get_extra_info("pid")  # type: ignore[attr-defined]
        return pid if isinstance(pid, int) else None

    def __set__(self, session: object, value: Never) -> NoReturn:
        raise AttributeError("a session's pid is its child's: it cannot be set")

    def __delete__(self, session: object) -> NoReturn:
        raise AttributeError("a session's pid is its child's: it cannot be deleted")


#: What to do instead of each pexpect setting a session does not have.
_INSTEAD = {
    "logfile_read": "the logfile is what the session reads (secrets redacted):"
    " assign s.logfile = f, or give logfile= to the opener",
    "logfile_send": "what is sent is in the logfile where the peer echoes it (a pty,"
    " most devices); every send is on the 'aioexpect' logger at DEBUG (secrets masked)",
    "ignorecase": "put (?i) in front of a pattern, or compile it with re.IGNORECASE",
    "searchwindowsize": "no window is needed: expect resumes its search where it"
    " stopped; max_buffer= (to the opener) bounds what is held",
    "maxread": "each read takes what has arrived; max_buffer= (to the opener) bounds what is held",
    "delaybeforesend": "nothing sleeps before a send: expect what the program prints"
    " when it is ready for input",
    "delayafterread": "nothing sleeps after a read: data is awaited, not polled",
    "delayafterclose": "close() waits by itself: up to 0.1 s for a child whose output"
    " ended, then SIGHUP, and SIGKILL a second later (close(force=True): at once)",
    "delayafterterminate": "close() waits by itself: SIGHUP, then SIGKILL a second"
    " later (close(force=True): at once), and the child is reaped",
}


class PexpectOnly:
    """A setting of pexpect's that a session does not have (``logfile_read``,
    ``ignorecase``, ...): assigning one was taken and did nothing, so a
    port's logging or settings vanished without a word.  Reading,
    assigning or deleting it is an ``AttributeError`` saying what to do
    instead.  (A descriptor for these names only: a ``__setattr__`` guarding
    every name would cost each attribute the session sets as it reads and
    sends, seven a round trip.)"""

    def __init__(self) -> None:
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def _error(self, session: object) -> AttributeError:
        return AttributeError(
            f"a session has no {self._name} (a pexpect setting): {_INSTEAD[self._name]}",
            name=self._name,
            obj=session,
        )

    @overload
    def __get__(self, session: None, owner: Any = None) -> Self: ...
    @overload
    def __get__(self, session: object, owner: Any = None) -> Never: ...
    def __get__(self, session: object, owner: Any = None) -> Any:
        if session is None:
            return self
        raise self._error(session)

    def __set__(self, session: object, value: Never) -> NoReturn:
        raise self._error(session)

    def __delete__(self, session: object) -> NoReturn:
        raise self._error(session)
