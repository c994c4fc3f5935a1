"""The package's shape: no import cycles, the bot on top, the emulator chosen in one place."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "smetabot"
EMULATOR = "smetabot.telegram.emulator"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every product module (the emulator is one unit) → the smetabot modules it imports,
    at run time or under TYPE_CHECKING, lazily or not."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        node = EMULATOR if name.startswith(EMULATOR) else name
        found = graph.setdefault(node, set())
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for item in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(item, ast.Import):
                targets = [alias.name for alias in item.names]
            elif isinstance(item, ast.ImportFrom):
                base = item.module or ""
                if item.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - item.level + 1]
                                    + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in item.names]
            for target in targets:
                if not target.startswith("smetabot"):
                    continue
                target = EMULATOR if target.startswith(EMULATOR) else target
                while target not in modules and target != EMULATOR and "." in target:
                    target = target.rpartition(".")[0]
                if target != node:
                    found.add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_outside_the_composition_root():
    graph = _imports()
    graph.pop("smetabot.app", None)  # the composition root imports everything, nothing it
    assert _cycles(graph) == []


def test_nothing_imports_the_app_but_the_cli():
    importers = sorted(m for m, deps in _imports().items() if "smetabot.app" in deps)
    assert importers == ["smetabot.cli"]


def test_only_the_bot_and_the_root_import_the_bot():
    importers = sorted(m for m, deps in _imports().items()
                       if any(d == "smetabot.bot" or d.startswith("smetabot.bot.") for d in deps)
                       and not m.startswith("smetabot.bot"))
    assert importers == ["smetabot.app"]


def test_one_module_chooses_the_emulator():
    importers = sorted(m for m, deps in _imports().items()
                       if EMULATOR in deps and m != EMULATOR)
    assert importers == ["smetabot.telegram.connect", "smetabot.web.sandbox"]
