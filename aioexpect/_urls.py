"""Target URLs as text: their scheme (``ssh://``, ``telnet://``, ``spawn:``,
none), parsing with clear errors, and masking their passwords.  Pure: the
openers, ``run_many``'s planning and the command line share one reading,
so that no two of them take a URL for different things or show different
parts of it.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote, urlsplit

from . import _options

__all__ = [
    "MaskedURLError",
    "parse_url",
    "redact_url",
    "unquote_credential",
    "unsupported_scheme",
    "url_scheme",
]


class MaskedURLError(ValueError):
    """A ``ValueError`` whose message shows its URLs masked by ``redact_url``
    already, to be shown as it is: the command line's own masking, of URLs
    in any text, takes the user name of ``ssh:admin@h`` for a password."""


def url_scheme(url: str) -> str:
    """A target's scheme, lower case: ``"spawn"`` for ``spawn:COMMAND``, ``""``
    for none (no ``://``: ``router1``, ``admin@10.0.0.1:2222``, which
    ``run_many`` takes as ``ssh://`` and ``connect`` refuses), else the word
    before ``://``.  ``ssh:`` or ``telnet:`` without the ``//`` is a
    ``ValueError`` (password masked): taken as having no scheme, the scheme
    became the user name and the user name the password, sent over SSH."""
    if url[:6].lower() == "spawn:":
        return "spawn"
    scheme, sep, rest = url.partition(":")
    if sep and scheme.lower() in ("ssh", "telnet") and not rest.startswith("//"):
        scheme, host = scheme.lower(), rest.lstrip("/")
        fixed = redact_url(f"{scheme}://{host}")
        typed = url[: len(url) - len(host)] + fixed[len(scheme) + 3 :]  # masked as fixed is
        # ("ssh:2222" may mean the host named ssh: say how to write that too)
        named = (
            f", or {scheme}://{scheme}:{host} for a host named {scheme}" if host.isdigit() else ""
        )
        raise MaskedURLError(f"URL {typed!r} has no '//' after '{scheme}:': write {fixed!r}{named}")
    return url.partition("://")[0].lower() if "://" in url else ""


#: What can be a URL's scheme (RFC 3986): a letter, then letters, digits, + - or .
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def unsupported_scheme(url: str, scheme: str) -> ValueError:
    """The error for a URL whose scheme, the word before ``://``, is none of
    aioexpect's.  After the ``://`` may be a password (``admin://pw@h``, a
    target with none), and a word that cannot be a scheme may hold the start
    of one (``admin:x://pw@h``): the URL is shown as ``redact_url`` masks
    such a one, from its first ``:`` (the host named, among many targets)."""
    if _SCHEME.fullmatch(scheme):
        return ValueError(
            f"unsupported URL scheme {scheme!r} in {redact_url(url)!r}: use ssh://, telnet:// "
            "or spawn:"
        )
    return ValueError(
        f"URL {redact_url(url)!r} does not parse: what comes before '://' is no scheme "
        "(in a password, write '/' as %2F); use ssh://, telnet:// or spawn:"
    )


def parse_url(url: str) -> SplitResult:
    """``urlsplit``, with a clear ``ValueError`` (password masked) for a bad
    port, a control character, and for a user name or password holding an unencoded ``/``, ``?``
    or ``#``, which ``urlsplit`` would take for the end of the host."""
    if _options.has_control(url):
        # (urlsplit deletes a tab or line end anywhere: another password
        # than the one given would be tried, or another host dialled)
        raise ValueError(
            f"URL {redact_url(url)!r} holds a control character (a tab, a line end...): "
            "no host, user name or password can hold one"
        )
    _, sep, rest = url.partition("://")
    if sep and any(c in rest.rpartition("@")[0] for c in "/?#[]"):
        # (urlsplit's own message for a bracket there quotes the password)
        raise ValueError(
            f"the user name or password in {redact_url(url)!r} holds '/', '?', '#', '[' or ']':"
            " percent-encode it (%2F, %3F, %23, %5B, %5D) or pass it as an argument"
        )
    parts, why = _split(url)
    if parts is None:  # "Invalid IPv6 URL", and the like: name the URL
        # (the NFKC check quotes the host part, user name and password too;
        # raised outside the handler, whose error would be its __context__)
        netloc = re.split("[/?#]", url.partition("://")[2], maxsplit=1)[0]
        why = why.replace(netloc, redact_url(netloc)) if netloc else why
        raise ValueError(f"bad URL {redact_url(url)!r}: {why}")
    before, bracket, rest = parts.netloc.rpartition("@")[2].partition("[")
    if bracket and (before or rest.partition("]")[2][:1] not in ("", ":")):
        # (urlsplit dials the address in brackets and drops what is around it)
        raise ValueError(f"bad URL {redact_url(url)!r}: text around the [address] is not :port")
    try:
        if parts.port == 0:
            raise ValueError("port 0 names no service")
    except ValueError as exc:
        raise ValueError(f"bad port in URL {redact_url(url)}: {exc}") from None
    return parts


def unquote_credential(url: str, text: str | None, what: str) -> str | None:
    """A user name or password (``what``) of ``url`` as written there
    (``text``), its %-escapes decoded as UTF-8; a ``MaskedURLError`` (the URL
    masked, neither the text nor its bytes shown) if they are not UTF-8:
    decoded leniently, ``p%E9ss`` and ``p%FFss`` were each sent as
    ``p\ufffdss``, another password than the one meant."""
    if text is None:
        return None
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        pass  # (raised below: the error, holding the bytes, is not its __context__)
    raise MaskedURLError(
        f"the {what} of {redact_url(url)!r} holds a %-escape that is not UTF-8:"
        " percent-encode each character's UTF-8 bytes"
    )


def _split(url: str) -> tuple[SplitResult | None, str]:
    """``urlsplit(url)``, or ``None`` and its error's message."""
    try:
        return urlsplit(url), ""
    except ValueError as exc:
        return None, str(exc)


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``********``: whatever follows
    the user name's ``:`` up to the last ``@``.  Read from the text, not
    parsed, so that a URL that does not parse (a password holding ``#``, a
    mistyped scheme) is masked too.  ``spawn:`` commands are left as they are.
    Only ``ssh://`` and ``telnet://`` are taken for a scheme: before another
    ``://`` may be a user name, its password holding the ``://``
    (``admin://pw@h``, ``admin:x://pw@h``), so that is masked from its first ``:``."""
    if url[:6].lower() == "spawn:":
        return url
    at = url.rfind("@")
    scheme, sep, _ = url.partition("://")
    start = len(scheme) + 3 if sep and scheme.lower() in ("ssh", "telnet") else 0
    colon = url.find(":", start, at)
    if at < 0 or colon < 0:
        return url
    return f"{url[: colon + 1]}********{url[at:]}"
