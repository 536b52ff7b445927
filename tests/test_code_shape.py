"""Issue 14: no app function over 60 lines without a reason in its docstring.

A function that must be longer says so in its docstring, with "over 60 lines"
and why (say, "Over 60 lines: one step per column, each read best beside the
others").
"""

import ast

from reliefhub import REPO_DIR

MOST_LINES = 60


def app_files() -> list:
    """Every Python file of the app: app.py, the pages and the package (not tests/)."""
    return [
        REPO_DIR / "app.py",
        *sorted((REPO_DIR / "app_pages").glob("*.py")),
        *sorted((REPO_DIR / "reliefhub").rglob("*.py")),
    ]


def test_no_app_function_is_over_60_lines_without_saying_why():
    too_long = []
    for path in app_files():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            lines = node.end_lineno - node.lineno + 1
            if lines > MOST_LINES and "over 60 lines" not in (ast.get_docstring(node) or "").lower():
                too_long.append(f"{path.relative_to(REPO_DIR)}:{node.lineno} {node.name} ({lines} lines)")
    assert too_long == []
