"""House rules on size (DEVELOPERS.md "Code layout rules"): no module over 400 lines and
no function over 60 lines in the packages. Checked with ``ast`` on the source files, so
the rule cannot drift from the code; the message lists every offender to split by job.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("heterostructures", "workflows")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def source_files() -> list[Path]:
    """Every Python module of the packages, in a stable order."""
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def function_lengths(path: Path) -> list[tuple[int, str, int]]:
    """(``def`` line, name, lines) of every function of a module, ``def`` to last line.

    Decorators are not counted: they are declarations outside the body (a click command's
    options, like a workchain's ``spec.input`` calls, would otherwise make every command
    with many options "long" without a line of logic).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lengths = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = node.lineno
            lengths.append((start, node.name, (node.end_lineno or node.lineno) - start + 1))
    return sorted(lengths)


def long_modules(paths: list[Path], limit: int = MAX_MODULE_LINES) -> list[str]:
    """``path: N lines`` of each module longer than ``limit`` lines."""
    counts = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in paths}
    return [f"{path}: {n} lines" for path, n in counts.items() if n > limit]


def long_functions(paths: list[Path], limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``path:line name: N lines`` of each function longer than ``limit`` lines."""
    return [
        f"{path}:{start} {name}: {n} lines"
        for path in paths
        for start, name, n in function_lengths(path)
        if n > limit
    ]


def test_the_checker_counts_decorated_and_nested_functions(tmp_path: Path) -> None:
    """Hand-counted module: a decorated 2-line function (decorator not counted) holding a
    1-line nested one."""
    module = tmp_path / "made_up.py"
    module.write_text("@staticmethod\ndef outer():\n    def inner(): return 1\n")
    assert function_lengths(module) == [(2, "outer", 2), (3, "inner", 1)]
    assert long_functions([module], limit=1) == [f"{module}:2 outer: 2 lines"]
    assert long_modules([module], limit=2) == [f"{module}: 3 lines"]
    assert long_modules([module], limit=3) == []


def test_no_module_is_over_400_lines() -> None:
    offenders = long_modules(source_files())
    assert not offenders, "split these modules by job:\n" + "\n".join(offenders)


def test_no_function_is_over_60_lines() -> None:
    offenders = long_functions(source_files())
    assert not offenders, "split these functions:\n" + "\n".join(offenders)
