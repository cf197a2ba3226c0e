"""asyncssh, imported here for every module of the package that uses it, so
that its first import is quiet on every asyncssh version allowed.

asyncssh before 2.16 imports ARC4 and TripleDES from where cryptography 43
and later deprecate them, and cryptography warns each time (from asyncssh's
``crypto/cipher.py``, at its first import only).  For those versions alone,
one filter ignoring exactly those two warnings is in place while asyncssh is
imported, then taken out again by itself: not ``catch_warnings``, which
restores the whole warnings state when it ends, and so would undo what
another thread set meanwhile (the first SSH connection may well be made in
a worker thread), or be undone by another thread's own ``catch_warnings``,
leaving the filter in place for good.  (One case is left: another thread's
``catch_warnings`` that opens during the import and closes after it restores
the filter with its own state; only on those old versions.)  On later
versions nothing is touched.
"""

from __future__ import annotations

import re
import warnings
from contextlib import suppress
from importlib.metadata import PackageNotFoundError, version
from typing import cast

__all__ = ["BEGIN_AUTH", "asyncssh", "public_key"]


def _version() -> tuple[int, ...]:
    try:
        text = version("asyncssh")
    except PackageNotFoundError:  # (not installed as a distribution: the import says)
        return ()
    return tuple(int(n) for n in re.findall(r"\d+", text)[:3])


def _quiet_import() -> None:
    from cryptography.utils import CryptographyDeprecationWarning

    warnings.filterwarnings(
        "ignore",
        message=r"(ARC4|TripleDES) has been moved to cryptography\.hazmat\.decrepit\.",
        category=CryptographyDeprecationWarning,
        module=r"asyncssh\.crypto\.cipher\Z",
    )
    ours = warnings.filters[0]
    try:
        import asyncssh  # noqa: F401
    finally:
        with suppress(ValueError):  # (someone reset the filters meanwhile: ours went)
            cast("list[object]", warnings.filters).remove(ours)  # (a list: typed Sequence)
        mutated = getattr(warnings, "_filters_mutated", None)
        if mutated is not None:  # (the interpreter's cache of filter decisions)
            mutated()


_VERSION = _version()
if _VERSION and _VERSION < (2, 16):
    _quiet_import()

import asyncssh  # noqa: E402
from asyncssh import public_key  # noqa: E402

#: asyncssh calls a client's ``begin_auth()`` from 2.20 on.
BEGIN_AUTH = not _VERSION or _VERSION >= (2, 20)
