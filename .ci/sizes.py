"""The house limits of STYLE.md: no module over 600 lines, no function over
80, in the package.  Run by ``nox -s lint``; prints each breach, exits 1."""

from __future__ import annotations

import ast
import pathlib
import sys

MODULE_LINES = 600
FUNCTION_LINES = 80


def breaches(root: pathlib.Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if (n := len(text.splitlines())) > MODULE_LINES:
            found.append(f"{path}: {n} lines (limit {MODULE_LINES})")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > FUNCTION_LINES:
                    found.append(f"{path}:{node.lineno}: {node.name}() {n} lines")
    return found


if __name__ == "__main__":
    problems = breaches(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "aioexpect"))
    print("\n".join(problems) or "sizes: within the house limits")
    sys.exit(1 if problems else 0)
