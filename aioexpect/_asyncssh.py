"""asyncssh, imported here for every module of the package that uses it, so
that its first import is quiet on every asyncssh version allowed.

asyncssh before 2.16 imports ARC4 and TripleDES from where cryptography 43
and later deprecate them, and cryptography warns each time (from asyncssh's
``crypto/cipher.py``, at its first import only).  Those two warnings, and
nothing else, are ignored while asyncssh is imported; the filter is gone
afterwards (``catch_warnings``), so a user's own filters are as they were.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning

__all__ = ["asyncssh", "public_key"]

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        message=r"(ARC4|TripleDES) has been moved to cryptography\.hazmat\.decrepit\.",
        category=CryptographyDeprecationWarning,
        module=r"asyncssh\.crypto\.cipher\Z",
    )
    import asyncssh
    from asyncssh import public_key
