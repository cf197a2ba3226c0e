"""Running out of file descriptors (``EMFILE``: the process's limit,
``ulimit -n``; ``ENFILE``: the system's): telling it from an error, and
the words for it."""

from __future__ import annotations

import errno
import os
import resource

__all__ = ["exhausted", "free", "limit_words", "shortage"]

_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE})


def exhausted(error: BaseException) -> bool:
    """Whether ``error``, or one of its causes or contexts (an opener's
    ``ConnectError`` is raised from the ``OSError``), is an ``OSError`` for
    want of a descriptor."""
    chain: list[BaseException | None] = [error]
    seen: set[int] = set()
    while chain:
        exc = chain.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _EXHAUSTED:
            return True
        chain += [exc.__cause__, exc.__context__]
    return False


def shortage() -> OSError | None:
    """The error for want of a descriptor that opening one now gives, if
    it does (a failure that carries no ``errno``, such as a user name
    lookup that could not read the user database, may have been that)."""
    try:
        os.close(os.open(os.devnull, os.O_RDONLY))
    except OSError as exc:
        if exc.errno in _EXHAUSTED:
            return OSError(exc.errno, os.strerror(exc.errno))
    return None


def free() -> int | None:
    """How many more descriptors this process may open: its soft limit less
    those open (listed in ``/proc/self/fd``, or ``/dev/fd``), 0 with none
    left; ``None`` where that cannot be told (no limit, no such listing)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    for listing in ("/proc/self/fd", "/dev/fd"):
        try:
            open_now = len(os.listdir(listing)) - 1  # (less the listing's own)
        except OSError as exc:
            if exc.errno in _EXHAUSTED:
                return 0
            continue
        return max(0, soft - open_now)
    return None


def limit_words() -> str:
    """What the process's limit is, for a message: ``the limit of open
    files of this process (ulimit -n) is 256``."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    shown = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
    return f"the limit of open files of this process (ulimit -n) is {shown}"
