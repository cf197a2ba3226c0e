"""Errors in the console shown as Python's own REPL shows them.

aioconsole runs each statement as the body of a coroutine function it
writes around it (``async def __corofn():`` on the line before), so a
traceback starts in the frames that run it, every line of the console's
code is counted one too many (the console runs the statement as module
code, but numbered as aioconsole's text: see ``_console_run``); a syntax
error is one line off too (and four columns: aioconsole indents the
statement).  These functions take that back.
"""

from __future__ import annotations

import ast
import io
import tokenize
import traceback
from collections.abc import Collection
from types import TracebackType

__all__ = ["statement_traceback", "typed_syntax_error", "without_form_feeds"]

#: The lines aioconsole adds before the statement (its function's ``def``).
WRAPPER_LINES = 1
#: What aioconsole puts before each line of the statement (see ``_indented``).
INDENT = 4
#: Said under an error the typed text does not have (Python's REPL accepts
#: it) when it is one of what Python allows only at a module's top level,
#: which the function around the statement refuses.
IN_A_FUNCTION = "aioconsole compiles each statement inside a function, where this is not allowed"
TOP_LEVEL_ONLY = ("import * only allowed at module level", "from __future__ imports must occur")
#: Said under any other: aioconsole refuses more than its function does.
NOT_HERE = "Python's REPL accepts this; aioconsole, which runs the console's statements, does not"
#: aioconsole's check for ``return`` and ``yield`` outside a ``def`` counts
#: a lambda as outside: typed text that compiles has its yield in a lambda.
YIELD_REFUSED = ("'yield' outside function", "'yield' in a lambda")


def statement_traceback(
    error: BaseException,
    tb: TracebackType | None,
    filename: str,
    runners: Collection[tuple[str, str]],
) -> str:
    """``error``'s traceback as the console's code (``filename``) raised
    it: its lines counted as typed, the statement ``in <module>``, without
    the frames that run a statement (``runners``: file and function names),
    wherever they are: an error raised again, or chained to one, in a later
    statement carries those of the statement that first raised it.  Chained
    errors and those of a group alike.

    Shown plainly if that fails: showing an error must never end the
    console."""
    try:
        shown = traceback.TracebackException(type(error), error, tb, compact=True)
        _as_typed(shown, filename, runners)
        return "".join(shown.format())
    # Anything, even SystemExit or CancelledError: nothing here awaits, so
    # what is raised comes from the error's own code (a __notes__ property)
    # or the traceback module, never from a cancellation of the console.
    except BaseException:
        return _plain(error, tb)


def _as_typed(
    shown: traceback.TracebackException, filename: str, runners: Collection[tuple[str, str]]
) -> None:
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
        one.stack[:] = [f for f in one.stack if (f.filename, f.name) not in runners]
        for frame in one.stack:
            if frame.filename != filename:
                continue
            if frame.lineno is not None:
                frame.lineno -= WRAPPER_LINES
            if frame.end_lineno is not None:
                frame.end_lineno -= WRAPPER_LINES
        chained = [one.__cause__, one.__context__, *(one.exceptions or ())]
        todo.extend(other for other in chained if other is not None)


def _plain(error: BaseException, tb: TracebackType | None) -> str:
    """``error`` as the traceback module shows it (lines as aioconsole
    numbered them); if even that fails (an error whose ``__notes__`` raises),
    its type and why; if that fails too, words that touch nothing of it."""
    try:
        return "".join(traceback.format_exception(type(error), error, tb))
    except BaseException as failure:  # (see statement_traceback)
        try:
            named = type(error).__qualname__
            return f"{named}: its traceback could not be shown ({failure!r})\n"
        except BaseException:
            return "<an error whose traceback could not be shown>\n"


def typed_syntax_error(
    source: str, filename: str, error: SyntaxError, flags: int = 0
) -> SyntaxError:
    """The syntax error in ``source`` as Python finds it in the text typed
    (lines and columns as typed; top-level ``await`` allowed); if the typed
    text compiles, ``error`` (found in aioconsole's wrapped text: ``from os
    import *``, a ``__future__`` import, ``yield`` in a lambda) moved back
    to the lines typed, with a note saying why the console refuses it.
    ``flags``: the compiler flags of the ``__future__`` imports typed before."""
    try:
        # One statement, as Python's REPL compiles it: a block pasted with no
        # blank line before the next statement is its error, at that line.
        # Ended by a line end, as typed: without one, an error at the very
        # end of the text ('1 +', 'lambda') is at column 0, and has no caret.
        single = source + "\n"
        flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        compile(single, filename, "single", flags, dont_inherit=True)
    except SyntaxError as typed:
        return typed
    except Exception:  # a NUL in the text, too deep to compile: keep aioconsole's
        return error
    return _moved_back(source, error)


def _moved_back(source: str, error: SyntaxError) -> SyntaxError:
    if error.lineno is None or error.lineno <= WRAPPER_LINES:
        return error  # nothing of the typed text to point at
    lineno, offset = _typed_place(source, error.lineno, error.offset)
    end_lineno, end_offset = error.end_lineno, error.end_offset
    if end_lineno is not None and end_lineno > WRAPPER_LINES:
        end_lineno, end_offset = _typed_place(source, end_lineno, end_offset)
    lines = source.split("\n")
    text = None if error.text is None or lineno > len(lines) else lines[lineno - 1]
    place = (error.filename, lineno, offset, text, end_lineno, end_offset)
    message, note = error.msg, NOT_HERE
    if message.startswith(TOP_LEVEL_ONLY):
        note = IN_A_FUNCTION
    elif message == YIELD_REFUSED[0]:
        message = YIELD_REFUSED[1]
    moved = type(error)(message, place)  # IndentationError stays one
    moved.add_note(note)
    return moved


def _typed_place(source: str, lineno: int, offset: int | None) -> tuple[int, int | None]:
    """Line and column in ``source`` of ``lineno``/``offset`` in aioconsole's text."""
    lineno -= WRAPPER_LINES
    if offset is not None and offset > INDENT and _indented(source, lineno):
        offset -= INDENT
    return lineno, offset


def _indented(source: str, lineno: int) -> bool:
    """Whether aioconsole indented line ``lineno`` of ``source``: all lines
    but empty ones and those that go on a multi-line string."""
    lines = source.split("\n")
    if not 0 < lineno <= len(lines) or not lines[lineno - 1]:
        return False
    return lineno not in _going_on_strings(source)


def _going_on_strings(source: str, *, f_strings: bool = False) -> set[int]:
    """The numbers of the lines of ``source`` that go on a multi-line
    string, as aioconsole finds them (``STRING`` tokens: an f-string is one
    up to Python 3.11), or with ``f_strings`` as Python reads them (an
    f-string is tokens of its own from 3.12 on)."""
    going_on: set[int] = set()
    starts: list[int] = []  # (the lines of the f-strings open here, nested too)
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING:
                going_on.update(range(token.start[0] + 1, token.end[0] + 1))
            elif f_strings and token.type == _FSTRING_START:
                starts.append(token.start[0])
            elif f_strings and token.type == _FSTRING_END and starts:
                going_on.update(range(starts.pop() + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):  # as aioconsole: the lines seen so far
        pass
    return going_on


#: An f-string's first and last tokens, from Python 3.12 on (none before).
_FSTRING_START: int = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END: int = getattr(tokenize, "FSTRING_END", -1)


def without_form_feeds(source: str) -> str:
    """``source`` with the form feeds in each line's indent dropped, the
    indent counted from the last, as Python's tokenizer counts it (lines
    that go on a string keep theirs).  aioconsole puts four spaces before
    each line, which a form feed counted away: a statement typed after
    ``Ctrl-L`` (a terminal's clear-screen habit) was an IndentationError."""
    if "\f" not in source:
        return source
    lines, going_on = source.split("\n"), _going_on_strings(source, f_strings=True)
    for number, line in enumerate(lines, 1):
        text = line.lstrip(" \t\f")
        indent = line[: len(line) - len(text)]
        if "\f" in indent and number not in going_on:
            lines[number - 1] = indent.rpartition("\f")[2] + text
    return "\n".join(lines)
