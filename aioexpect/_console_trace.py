"""Errors in the console shown as Python's own REPL shows them.

aioconsole runs each statement as the body of a coroutine function it
writes around it (``async def __corofn():`` on the line before), so a
traceback starts in aioconsole's ``aexec``, every line of the console's
code is counted one too many, and the statement is ``in __corofn``; a
syntax error is one line off too.  These functions take that back.
"""

from __future__ import annotations

import ast
import traceback
from types import TracebackType

__all__ = ["statement_traceback", "typed_syntax_error"]

#: The function aioconsole wraps a statement in, and the lines it adds before it.
WRAPPER = "__corofn"
WRAPPER_LINES = 1


def statement_traceback(error: BaseException, tb: TracebackType | None, filename: str) -> str:
    """``error``'s traceback from the first frame of the console's own code
    (``filename``) on, its lines counted as typed, the statement ``in
    <module>``; chained errors alike."""
    start = tb
    while start is not None and start.tb_frame.f_code.co_filename != filename:
        start = start.tb_next
    shown = traceback.TracebackException(type(error), error, start or tb, compact=True)
    _as_typed(shown, filename, set())
    return "".join(shown.format())


def _as_typed(shown: traceback.TracebackException, filename: str, seen: set[int]) -> None:
    if id(shown) in seen:
        return
    seen.add(id(shown))
    for frame in shown.stack:
        if frame.filename != filename:
            continue
        if frame.lineno is not None:
            frame.lineno -= WRAPPER_LINES
        if frame.end_lineno is not None:
            frame.end_lineno -= WRAPPER_LINES
        if frame.name == WRAPPER:
            frame.name = "<module>"
    chained = [shown.__cause__, shown.__context__, *(shown.exceptions or ())]
    for other in chained:
        if other is not None:
            _as_typed(other, filename, seen)


def typed_syntax_error(source: str, filename: str, error: SyntaxError) -> SyntaxError:
    """The syntax error in ``source`` as Python finds it in the text typed
    (lines and columns as typed; top-level ``await`` allowed); ``error``,
    found in aioconsole's wrapped text, when the typed text compiles."""
    try:
        compile(source, filename, "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError as typed:
        return typed
    except (ValueError, OverflowError):  # a NUL in the text, and the like: keep aioconsole's
        return error
    return error
