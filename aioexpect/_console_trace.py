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
    <module>``; chained errors alike.  Shown plainly if that fails: showing
    an error must never end the console."""
    start = tb
    while start is not None and start.tb_frame.f_code.co_filename != filename:
        start = start.tb_next
    try:
        shown = traceback.TracebackException(type(error), error, start or tb, compact=True)
        _as_typed(shown, filename)
        return "".join(shown.format())
    except Exception:  # a bug of ours, or one the traceback module hits
        return _plain(error, start or tb)


def _as_typed(shown: traceback.TracebackException, filename: str) -> None:
    """Rewrite the frames of ``shown`` and of every error chained to it.  A
    walk, not a recursion: a retry written as recursion in an ``except``
    block chains about as many errors as the recursion limit allows."""
    seen: set[int] = set()
    todo = [shown]
    while todo:
        one = todo.pop()
        if id(one) in seen:
            continue
        seen.add(id(one))
        for frame in one.stack:
            if frame.filename != filename:
                continue
            if frame.lineno is not None:
                frame.lineno -= WRAPPER_LINES
            if frame.end_lineno is not None:
                frame.end_lineno -= WRAPPER_LINES
            if frame.name == WRAPPER:
                frame.name = "<module>"
        chained = [one.__cause__, one.__context__, *(one.exceptions or ())]
        todo.extend(other for other in chained if other is not None)


def _plain(error: BaseException, tb: TracebackType | None) -> str:
    """``error`` as the traceback module shows it (lines as aioconsole
    numbered them); if even that fails (an error whose ``__notes__`` raises),
    its type and why."""
    try:
        return "".join(traceback.format_exception(type(error), error, tb))
    except Exception as failure:
        return f"{type(error).__qualname__}: its traceback could not be shown ({failure!r})\n"


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
