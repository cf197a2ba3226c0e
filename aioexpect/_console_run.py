"""One statement of the console run as Python's REPL runs it.

aioconsole compiles each statement into the body of a coroutine function
(``__corofn``) that takes the console's names as its parameters and returns
them (its ``locals()``), with the statement's value if it is an expression.
Run so, the console's names were no module's globals: each statement had a
fresh globals dict, so ``global g`` (in a block, or in a function it
defines) bound ``g`` in a dict gone with the statement, and a function saw
the console's names only as they were when it was defined.  Its own runner
(``aexec``) also shows nothing of what a statement's blocks compute, and
keeps the names only once the statement ended well and its result was
shown.  Python's REPL (``python3 -m asyncio`` too) runs a statement as
module code, with the console's names as its globals, in ``'single'``
mode: every expression statement of it is shown, however deep in its
``for``, ``if``, ``with``, ``try`` or ``match`` blocks (not in a function
or class it defines); and the names it bound stay bound whatever ends it
(an error, an interrupt, a ``repr`` that raises).  ``run_statement`` runs
the statement aioconsole compiled that way, taken out of its function (its
lines still numbered as aioconsole's text numbers them).

``from m import *``, which aioconsole's function refuses, is compiled here
from the text typed (``star_import``), numbered as aioconsole would.
"""

from __future__ import annotations
import __future__

import ast
import functools
import importlib.metadata
import inspect
import operator
from collections.abc import Callable
from types import CodeType, FunctionType
from typing import Any

from ._console_trace import INDENT, WRAPPER_LINES
from ._exceptions import AioexpectError

__all__ = [
    "FUTURE_IMPORT",
    "RUNNERS",
    "TopLevel",
    "future_flags",
    "run_statement",
    "star_import",
    "statement_code",
]

#: The name aioconsole gives the function it wraps a statement in.
WRAPPER = "__corofn"
#: What shows a value: one of the statement's globals while it runs (the
#: console's names), never left among them.
SHOW = "__aioexpect_show__"
#: What aioconsole's function refuses and Python's REPL runs at its top level.
STAR_IMPORT = "import * only allowed at module level"
#: What aioconsole's function refuses of ``from __future__ import ...``.
FUTURE_IMPORT = "from __future__ imports must occur at the beginning of the file"
#: The compiler flags of every ``from __future__`` feature.
FUTURE_FLAGS: int = functools.reduce(
    operator.or_, (getattr(__future__, name).compiler_flag for name in __future__.all_feature_names)
)
_MISSING = object()


class TopLevel(list[ast.stmt]):
    """A statement compiled here, not by aioconsole (see ``star_import``)."""


def statement_code(wrapped: ast.AST, filename: str, flags: int = 0) -> CodeType:
    """The code of one statement as aioconsole compiled it (``wrapped``), or
    as ``star_import`` did, compiled as module code with the compiler
    ``flags`` of the ``from __future__`` imports typed before (as codeop
    carries them in Python's REPL)."""
    body = list(wrapped) if isinstance(wrapped, TopLevel) else _statements(wrapped)
    module = ast.fix_missing_locations(ast.Module(body, type_ignores=[]))
    flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    try:
        code: CodeType = compile(module, filename, "exec", flags, dont_inherit=True)
    except SyntaxError as error:  # (what only a function allows: see _as_typed)
        raise _as_typed(error) from None
    return code


def future_flags(code: CodeType) -> int:
    """The compiler flags of the ``from __future__`` imports ``code`` has,
    which codeop keeps for the statements after it."""
    return code.co_flags & FUTURE_FLAGS


async def run_statement(
    wrapped: ast.AST | CodeType, names: dict[str, Any], filename: str, write: Callable[[str], None]
) -> None:
    """Run one statement (its ``statement_code``, or as aioconsole compiled
    it, ``wrapped``) as module code whose globals are the console's
    ``names``; what it shows goes to ``write``, and ``_`` is the last value
    shown (``None`` if its ``repr`` raised), as ``sys.displayhook`` leaves it."""
    shown: list[Any] = []

    def show(value: Any) -> None:
        if value is not None:
            shown[:] = [None]
            write(repr(value) + "\n")
            shown[:] = [value]

    code = wrapped if isinstance(wrapped, CodeType) else statement_code(wrapped, filename)
    before = names.get(SHOW, _MISSING)
    names[SHOW] = show
    try:
        ran = FunctionType(code, names)()
        if code.co_flags & inspect.CO_COROUTINE:
            await ran
    finally:
        # (never left to what the statement defined: it would keep the console)
        if before is _MISSING:
            names.pop(SHOW, None)
        else:
            names[SHOW] = before
        if shown:
            names["_"] = shown[0]


def _as_typed(error: SyntaxError) -> SyntaxError:
    """``error``, found compiling the statement as module code, at its place
    in the text typed.  aioconsole, which compiled it inside its function,
    took it (``nonlocal x`` in a function defined in a block that binds
    ``x``); its lines are numbered, and indented, as in aioconsole's text:
    Python's REPL says ``line 4`` where that says ``line 5``."""
    lines = (error.lineno, error.end_lineno)
    lineno, end_lineno = (None if n is None else max(1, n - WRAPPER_LINES) for n in lines)
    columns = (error.offset, error.end_offset)
    offset, end_offset = (None if n is None else max(1, n - INDENT) for n in columns)
    place = (error.filename, lineno, offset, error.text, end_lineno, end_offset)
    return type(error)(error.msg, place)


def star_import(source: str, filename: str, flags: int = 0) -> TopLevel | None:
    """``source``, which aioconsole refused for its ``import *`` or its
    ``from __future__ import ...`` (its function's error), compiled as
    Python's REPL compiles it (with the compiler ``flags`` of the
    ``__future__`` imports typed before), its lines numbered as in
    aioconsole's text; ``None`` if it does not compile so (aioconsole's
    error stands)."""
    flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    try:
        tree = compile(source + "\n", filename, "single", flags | ast.PyCF_ONLY_AST, True)
        assert isinstance(tree, ast.Interactive)
        compile(tree, filename, "single", flags, dont_inherit=True)
    except Exception:  # (a SyntaxError, or what else compiling raises)
        return None
    ast.increment_lineno(tree, WRAPPER_LINES)
    return TopLevel(_Shown().visit(statement) for statement in tree.body)


def _statements(wrapped: ast.AST) -> list[ast.stmt]:
    """The statement aioconsole wrapped in its function, its expression
    statements showing their values: the statement's own, which aioconsole
    returns, and those of its blocks, which it drops."""
    function = next((n for n in ast.walk(wrapped) if isinstance(n, ast.AsyncFunctionDef)), None)
    if function is None or function.name != WRAPPER or not _returns_names(function.body[-1]):
        # (never run: taken otherwise, its names or its value would be wrong)
        raise AioexpectError(
            f"aioconsole {_version()} compiles a statement into a function this console"
            f" cannot run: not 'async def {WRAPPER}' ending in 'return (value, locals())',"
            " as aioconsole 0.7.1 to 0.8.2 write it"
        )
    *statements, last = function.body
    assert isinstance(last, ast.Return) and isinstance(last.value, ast.Tuple)  # (checked)
    value = last.value.elts[0]
    body = [_Shown().visit(statement) for statement in statements]
    if not (isinstance(value, ast.Constant) and value.value is None):
        body.append(_shown(ast.copy_location(ast.Expr(value), value)))
    return body or [ast.copy_location(ast.Pass(), last)]


def _returns_names(last: ast.stmt) -> bool:
    """Whether ``last`` is ``return (value, locals())``."""
    if not (isinstance(last, ast.Return) and isinstance(last.value, ast.Tuple)):
        return False
    if len(last.value.elts) != 2:
        return False
    names = last.value.elts[1]
    return (
        isinstance(names, ast.Call)
        and isinstance(names.func, ast.Name)
        and names.func.id == "locals"
        and not names.args
        and not names.keywords
    )


def _version() -> str:
    try:
        return importlib.metadata.version("aioconsole")
    except importlib.metadata.PackageNotFoundError:  # (imported, but not installed as a package)
        return "(of unknown version)"


def _shown(statement: ast.Expr) -> ast.Expr:
    call = ast.Call(ast.Name(SHOW, ast.Load()), [statement.value], [])
    return ast.Expr(ast.copy_location(call, statement.value), **_where(statement))


def _where(node: ast.AST) -> dict[str, Any]:
    fields = ("lineno", "col_offset", "end_lineno", "end_col_offset")
    return {field: getattr(node, field) for field in fields if hasattr(node, field)}


class _Shown(ast.NodeTransformer):
    """Every expression statement of the statement's blocks shows its value;
    none of a function or class it defines (their own code)."""

    def visit_Expr(self, node: ast.Expr) -> ast.Expr:
        return _shown(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        return node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AsyncFunctionDef:
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        return node


#: The frames that run a statement here (file, function): never shown in
#: its tracebacks.
RUNNERS = frozenset(
    {
        (run_statement.__code__.co_filename, name)
        for name in ("run_statement", "show", "statement_code")
    }
)
