"""Whether an SSH session channel has a pty.

asyncssh decides it from ``term_type`` and its ``request_pty`` option:
``connect_ssh``'s keyword passed on to it, else ``RequestTTY`` in the SSH
config file (``~/.ssh/config``, or ``config=``) for the host it reached,
else ``True``.  ``True`` asks for one when there is a terminal type,
``False`` never, ``"force"`` always (with ``term_type=None`` too), ``"auto"``
for a shell only (not for ``command=``).  ``open_ssh`` decides it here, the
same way, and asks asyncssh for exactly that: the transport's pty flag
(Ctrl-D or channel EOF, Ctrl-C or a signal request, whether ``set_winsize``
works, how many lines CR LF is) is what the server was asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["check_request_pty", "check_request_pty_of", "pty_wanted"]

_TAKEN = "request_pty must be True, False, 'force' or 'auto'"


def check_request_pty_of(options: Mapping[str, Any]) -> None:
    """``request_pty`` in the options ``connect_ssh`` got: the keyword, else
    the one of an ``options=`` object of asyncssh's (``SSHClientConnectionOptions``
    keeps the value it was given, or the config file's, as ``request_pty``
    on every asyncssh allowed), which asyncssh takes as it takes the
    keyword; a keyword given, even ``()``, replaces the object's."""
    if "request_pty" in options:
        check_request_pty(options["request_pty"])
    else:
        check_request_pty(getattr(options.get("options"), "request_pty", ()), "options.")


def check_request_pty(value: Any, where: str = "") -> None:
    """``request_pty`` as ``connect_ssh`` got it: a ``TypeError`` or
    ``ValueError`` now (``where``: what holds it, before its name).  asyncssh
    takes any value, and any other true one as ``True``: ``"no"`` (as the
    config file writes it) asked for a pty.  ``()`` is asyncssh's default,
    "as the SSH config file says"."""
    if isinstance(value, tuple) and not value:
        return
    if isinstance(value, bool) or value in ("force", "auto"):
        return
    if not isinstance(value, str):
        raise TypeError(f"{where}{_TAKEN}, not {type(value).__name__}")
    also = " (RequestTTY's yes and no are True and False here)"
    shown = also if value.lower() in ("yes", "no", "true", "false") else ""
    raise ValueError(f"{where}{_TAKEN}, not {value!r}{shown}")


def pty_wanted(
    conn: Any, given: Mapping[str, Any], term_type: str | None, command: str | None
) -> bool:
    """Whether the session channel about to be opened on ``conn`` gets a
    pty, as asyncssh's ``create_session`` decides it; ``given``: the
    options ``asyncssh.connect`` was given.

    What the config file says (or an ``options=`` object of the caller's)
    is known only once connected, in the connection's options: asyncssh
    reads the file for the host it reached (after canonicalizing its name,
    maybe), and says it nowhere public.  Its private ``_options`` (the
    same on every asyncssh version allowed) is read with care: missing,
    asyncssh's default is taken, and the channel is opened as decided
    here all the same.
    """
    settled = getattr(conn, "_options", None)
    value = given.get("request_pty", ())
    if isinstance(value, tuple) and not value:
        value = getattr(settled, "request_pty", True)
    subsystem = given.get("subsystem", ())
    if isinstance(subsystem, tuple) and not subsystem:
        subsystem = getattr(settled, "subsystem", None)
    if value == "force":
        return True
    if value == "auto":
        return bool(term_type and not (command or subsystem))
    return bool(value) and bool(term_type)
