"""The import graph of index/ and bot/ (issue 21): no module imports back up a chain that leads to it, and the
engine (index/) never imports Telegram, so it runs without the bot.

bot/ is grouped by capability (see bot/__init__.py): chat/, alerts/ and sources/ do not import each other except
through the interface modules named in INTERFACES; the shared leaves and config import no capability package;
index/ never imports bot/.

Every import counts, including those inside functions and under TYPE_CHECKING: a lazy import that closes
a circle still ties the two modules together.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "bot")
CAPABILITIES = ("bot.chat", "bot.alerts", "bot.sources")
# The only modules a capability package may import from another one: importer package → allowed modules.
INTERFACES = {"bot.alerts": {"bot.sources.intake"}}
# Imported by the capability packages; they import only each other, config and index/ (never a capability).
SHARED = ("bot.access", "bot.config", "bot.conversations", "bot.events", "bot.messages")


def _modules() -> dict[str, Path]:
    """Dotted name → file for every module in the project's packages and their sub-packages, recursively
    ("bot.alerts" for bot/alerts/__init__.py)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _package(module: str) -> str | None:
    """The capability package a module belongs to, if any."""
    return next((p for p in CAPABILITIES if module == p or module.startswith(f"{p}.")), None)


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
    # sub-packages are walked: a module two levels down is in the graph, with its imports
    assert "bot.alerts.service" in graph and "bot.alerts.store" in graph["bot.alerts.service"]
    assert {"bot.chat", "bot.alerts", "bot.sources"} <= set(graph)


def test_capability_packages_meet_only_through_named_interfaces() -> None:
    graph, crossings = _graph(), []
    for module, imported in graph.items():
        source = _package(module)
        for name in imported:
            target = _package(name)
            if source and target and target != source and name not in INTERFACES.get(source, set()):
                crossings.append(f"{module} -> {name}")
    assert not crossings, "capability packages import each other: " + ", ".join(sorted(crossings))
    # each interface module exists and is a leaf of its own package towards the importer (no way back)
    for source, allowed in INTERFACES.items():
        for name in allowed:
            assert name in graph
            assert not {n for n in graph[name] if _package(n) == source}, f"{name} imports back into {source}"


def test_shared_leaves_and_config_import_no_capability_package() -> None:
    graph = _graph()
    offenders = {m: sorted(n for n in graph[m] if _package(n) or n in ("bot.app", "bot.cli")) for m in SHARED}
    assert not {m: found for m, found in offenders.items() if found}
    # the interface between capabilities is a leaf: no bot/ or index/ import at all
    assert not graph["bot.events"]


def test_index_does_not_import_bot() -> None:
    modules = _modules()
    offenders = {name: sorted(n for n in _imported_names(path, name) if n.split(".")[0] == "bot")
                 for name, path in modules.items() if name.split(".")[0] == "index"}
    assert not {name: found for name, found in offenders.items() if found}


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
