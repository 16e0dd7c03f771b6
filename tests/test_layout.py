"""The runtime's layout: no import cycle in ``bridge/``, no reaching into the repository.

The import graph is read from the source (every ``import`` and ``from ... import``,
including those under ``TYPE_CHECKING`` and inside functions), so a cycle is
caught even where Python would tolerate it at run time.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

BRIDGE = Path(__file__).resolve().parents[1] / "bridge"
PACKAGE = "neuro_bridge"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(BRIDGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The package's modules that *path* (module *module*) imports."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from pkg import mod` depends on the submodule; `from mod import name` on mod.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """Map each module of the package to the package modules it imports."""
    paths = {_module_name(p): p for p in sorted((BRIDGE / PACKAGE).rglob("*.py"))}
    known = set(paths)
    return {name: _imports(path, name, known) for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle as ``[a, b, ..., a]``, or None."""
    done: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> list[str] | None:
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_stack:
                return [*stack[stack.index(target) :], target]
            if target not in done:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        on_stack.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "neuro_bridge.protocol" in graph["neuro_bridge.api"]
    assert "neuro_bridge.mock.config" in graph["neuro_bridge.mock.session"]
    assert "neuro_bridge.schema" in graph["neuro_bridge.protocol._wire"]  # from pkg import mod
    assert "neuro_bridge.mock" not in graph["neuro_bridge.mock.session"]


def test_bridge_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("graph", "has_cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, False),
    ],
)
def test_find_cycle(graph: dict[str, set[str]], has_cycle: bool) -> None:
    assert (find_cycle(graph) is not None) is has_cycle


def test_the_runtime_never_reaches_into_the_repository() -> None:
    # The samples are projects of their own: the runtime never finds one by path.
    for path in sorted((BRIDGE / PACKAGE).rglob("*")):
        if path.is_file() and path.suffix in {".py", ".pyi", ".typed", ".txt", ".json"}:
            assert "sample_games" not in path.read_text(encoding="utf-8"), path


def test_the_readme_has_no_repository_relative_links() -> None:
    # The README is the package's page on PyPI, where relative links and images break.
    text = (BRIDGE.parent / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(
        r"""(?:src|href)=["']([^"']+)["']""", text
    )
    for target in targets:
        assert target.startswith(("https://", "http://", "#", "mailto:")), target
