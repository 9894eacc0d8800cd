"""The import graph of index/ and bot/ (issue 21): no module imports back up a chain that leads to it, and the
engine (index/) never imports Telegram, so it runs without the bot.

Every import counts, including those inside functions and under TYPE_CHECKING: a lazy import that closes
a circle still ties the two modules together.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "bot")


def _modules() -> dict[str, Path]:
    """Dotted name → file for every module in the project's packages ("index" for index/__init__.py)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return found


def _imported_names(path: Path, module: str) -> set[str]:
    """Every dotted name a module imports; `from a import b` names a.b as well as a (b may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _absolute(node: ast.ImportFrom, module: str) -> str:
    """The module a `from … import` reads from, with relative imports resolved against `module`."""
    if not node.level:
        return node.module or ""
    parent = module.rsplit(".", node.level)[0]
    return f"{parent}.{node.module}" if node.module else parent


def _graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (itself and its own package left out)."""
    modules = _modules()
    return {name: {n for n in _imported_names(path, name) if n in modules and not name.startswith(f"{n}.")} - {name}
            for name, path in modules.items()}


def test_the_graph_is_read() -> None:
    graph = _graph()
    assert "index.parse" in graph and "index.records" in graph["index.parse"]
    assert "bot.cli" in graph and graph["bot.cli"] & {n for n in graph if n.startswith("index.")}


def test_no_import_cycles_among_index_and_bot() -> None:
    try:
        TopologicalSorter(_graph()).prepare()
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


def test_index_does_not_import_telegram() -> None:
    modules = _modules()
    offenders = {name: sorted(n for n in _imported_names(path, name) if n.split(".")[0] == "telegram")
                 for name, path in modules.items() if name.split(".")[0] == "index"}
    assert not {name: found for name, found in offenders.items() if found}
