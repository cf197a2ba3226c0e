"""One statement of the console run as Python's REPL runs it.

aioconsole compiles each statement into the body of a coroutine function
(``__corofn``) that takes the console's names as its parameters and returns
them (its ``locals()``), with the statement's value if it is an expression.
Its own runner (``aexec``) shows nothing of what a statement's blocks
compute, and keeps the names only once the statement ended well and its
result was shown.  Python's REPL compiles a statement in ``'single'`` mode:
every expression statement of it is shown, however deep in its ``for``,
``if``, ``with``, ``try`` or ``match`` blocks (not in a function or class
it defines), in the statement's own frame; and the names it bound stay
bound whatever ends it (an error, an interrupt, a ``repr`` that raises).
``run_statement`` runs aioconsole's function that way.
"""

from __future__ import annotations

import ast
import importlib.metadata
from collections.abc import Callable
from types import CodeType, TracebackType
from typing import Any

from ._exceptions import AioexpectError

__all__ = ["RUNNERS", "run_statement"]

#: The name aioconsole gives the function it wraps a statement in.
WRAPPER = "__corofn"
#: What shows a value in that function (one of its globals, never one of
#: the console's names, which are its parameters).
SHOW = "__aioexpect_show__"


async def run_statement(
    wrapped: ast.AST, names: dict[str, Any], filename: str, write: Callable[[str], None]
) -> None:
    """Run one statement as aioconsole compiled it (``wrapped``), with the
    console's ``names``, which it updates in place; what it shows goes to
    ``write``, and ``_`` is the last value shown (``None`` if its ``repr``
    raised), as ``sys.displayhook`` leaves it."""
    shown: list[Any] = []

    def show(value: Any) -> None:
        if value is not None:
            shown[:] = [None]
            write(repr(value) + "\n")
            shown[:] = [value]

    function = _function(wrapped)
    function.args.args = [ast.arg(name) for name in names]
    scope: dict[str, Any] = {SHOW: show}
    module = ast.fix_missing_locations(ast.Module([function], type_ignores=[]))
    exec(compile(module, filename, "exec"), scope)
    run = scope[WRAPPER]
    try:
        _, bound = await run(**names)
    except BaseException as error:  # (raised again: only the names are taken)
        kept = _names_at(error.__traceback__, run.__code__)
        if kept is not None:
            _update(names, kept, shown)
        raise
    finally:
        # The functions and classes the statement defined keep ``scope`` (their
        # globals) as long as they live, maybe past the client (a task left
        # running): not its console, which ``show`` would keep (``write``).
        del scope[SHOW]
    _update(names, bound, shown)


def _function(wrapped: ast.AST) -> ast.AsyncFunctionDef:
    """aioconsole's function for the statement, with its expression
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
        last.value.elts[0] = ast.copy_location(ast.Constant(None), value)
    function.body = [*body, last]
    return function


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


def _names_at(tb: TracebackType | None, code: CodeType) -> dict[str, Any] | None:
    """The names of the statement's frame (running ``code``) as the error
    left it, from its traceback; ``None`` if it never ran."""
    while tb is not None:
        if tb.tb_frame.f_code is code:
            return dict(tb.tb_frame.f_locals)
        tb = tb.tb_next
    return None


def _update(names: dict[str, Any], bound: dict[str, Any], shown: list[Any]) -> None:
    names.clear()
    names.update(bound)
    if shown:
        names["_"] = shown[0]


#: The frames that run a statement here (file, function): never shown in
#: its tracebacks.
RUNNERS = frozenset(
    {(run_statement.__code__.co_filename, name) for name in ("run_statement", "show")}
)
