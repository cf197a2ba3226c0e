"""What ``run_many`` keeps of a host's outcome and how it shows it: a
failure's traceback as text, the frames dropped from the error; the
``Result``'s ``repr``, and the log record of its error, masked with the
session's secrets."""

from __future__ import annotations

from collections.abc import Callable
from traceback import format_exception
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._many import Result

__all__ = ["Masked", "masking", "without_frames"]


class Masked:
    """An error's text in a log record, masked as the record is formatted
    (where logging handles a ``__str__`` that fails, as it did the error's)."""

    __slots__ = ("error", "redact")

    def __init__(self, error: BaseException, redact: Callable[[Any], Any]) -> None:
        self.error, self.redact = error, redact

    def __str__(self) -> str:
        return str(self.redact(str(self.error)))


def masking(result: Result[Any, Any], redact: Callable[[Any], Any] | None) -> Result[Any, Any]:
    """``result``, whose ``repr`` masks with ``redact`` (the value or error it
    shows).  An attribute, not a field: ``dataclasses.asdict`` and ``astuple``,
    the signature and ``__match_args__`` take every field (``asdict(r)``
    would hold the redactor, a method that ``json.dumps`` refuses); a copy
    and a pickle keep it, ``dataclasses.replace`` (fields only) does not."""
    if redact is not None:
        object.__setattr__(result, "_redact", redact)  # (frozen)
    return result


def without_frames(error: BaseException) -> str:
    """``error``'s traceback as text, then dropped from it and from the
    errors in its chain or group: their frames hold the job's and the
    opening's locals (the closed session, its transport, over SSH the
    parsed known_hosts), which a ``Result`` kept alive (800 KB a failed
    host with a 1,000-line known_hosts)."""
    text = "".join(format_exception(error))
    chain: list[BaseException | None] = [error]
    seen: set[int] = set()
    while chain:
        exc = chain.pop()
        if exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            exc.__traceback__ = None
            chain += [exc.__cause__, exc.__context__]
            if isinstance(exc, BaseExceptionGroup):
                chain += exc.exceptions
    return text
