"""The layout's import rules hold: no import cycle between dr_infra's modules, no import pointing up a layer.

The layers, top to bottom (README "Where things live"): app > bdd > drill > verify > stack > targets > report >
errors/interrupts (and the ``dr_infra`` package itself). A module may import its own layer and the ones below it.
Every import counts, also one inside a function or under ``TYPE_CHECKING``: a lazy import hides a cycle from
Python's import machinery, not from a reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "dr_infra"
LAYERS = ("app", "bdd", "drill", "verify", "stack", "targets", "report", "errors", "interrupts", "prefork")
RANK = {name: index for index, name in enumerate(LAYERS)} | {
    "interrupts": LAYERS.index("errors"),
    "prefork": LAYERS.index("errors"),
    "": len(LAYERS),
}


def module_names(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of ``package`` under ``root`` by dotted name (a package by its own name, not ``__init__``)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, list[str]]]:
    """(module, names) of one import statement, relative imports resolved against ``module``."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, []
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = module.split(".")
            anchor = parts if is_package else parts[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        yield base, [alias.name for alias in node.names]


def import_graph(root: Path, package: str = PACKAGE) -> dict[str, set[str]]:
    """module -> the package's modules it imports (``from a import b`` is an import of ``a.b`` when that is one)."""
    modules = module_names(root, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for base, names in _imported(node, name, path.name == "__init__.py"):
                if base != package and not base.startswith(package + "."):
                    continue
                submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in modules]
                for target in submodules or [base]:
                    if target in modules and target != name:
                        graph[name].add(target)
    return graph


def layer(module: str) -> str:
    """``dr_infra.stack.provision`` -> ``stack``; the package itself -> ``""`` (the bottom)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``a -> b`` for every import of a higher layer (or of a folder that is in no layer)."""
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            here, there = layer(module), layer(target)
            if here == there:
                continue
            if here not in RANK or there not in RANK or RANK[there] < RANK[here]:
                found.append(f"{module} -> {target} ({here or PACKAGE} may not import {there or PACKAGE})")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: each strongly connected set of more than one module (Tarjan's algorithm), sorted."""
    tarjan = _Tarjan(graph)
    for node in sorted(graph):
        if node not in tarjan.index:
            tarjan.visit(node)
    return sorted(tarjan.found)


class _Tarjan:
    """Tarjan's strongly connected components: the walk's index and low-link of each node, its stack."""

    def __init__(self, graph: dict[str, set[str]]) -> None:
        self.graph = graph
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.stack: list[str] = []
        self.on_stack: set[str] = set()
        self.found: list[list[str]] = []

    def visit(self, node: str) -> None:
        self.index[node] = self.low[node] = len(self.index)
        self.stack.append(node)
        self.on_stack.add(node)
        for nxt in sorted(self.graph.get(node, ())):
            if nxt not in self.index:
                self.visit(nxt)
                self.low[node] = min(self.low[node], self.low[nxt])
            elif nxt in self.on_stack:
                self.low[node] = min(self.low[node], self.index[nxt])
        if self.low[node] == self.index[node]:
            component = self._pop_component(node)
            if len(component) > 1:
                self.found.append(sorted(component))

    def _pop_component(self, node: str) -> list[str]:
        component = []
        while True:
            member = self.stack.pop()
            self.on_stack.discard(member)
            component.append(member)
            if member == node:
                return component


def _write(root: Path, files: Iterable[tuple[str, str]]) -> None:
    for relative, text in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


# -- the rules on drdrill itself -----------------------------------------------------------------------------------


def test_dr_infra_has_no_import_cycle() -> None:
    found = cycles(import_graph(ROOT))
    assert not found, "import cycles (move the shared piece down into its own module):\n" + "\n".join(
        " <-> ".join(c) for c in found
    )


def test_no_import_points_up_a_layer() -> None:
    found = upward_imports(import_graph(ROOT))
    assert not found, (
        "imports pointing up a layer (app > bdd > drill > verify > stack > targets > report > errors):\n"
        + ("\n".join(found))
    )


def test_every_folder_of_dr_infra_is_a_layer() -> None:
    """A new folder must be placed in the order (here and in the README) before its imports can be judged."""
    folders = {layer(name) for name in module_names(ROOT)} - {""}
    assert folders <= set(LAYERS), f"folders in no layer: {sorted(folders - set(LAYERS))}"


# -- the checker finds what it must (it cannot pass by seeing nothing) ----------------------------------------------


def test_the_graph_sees_drdrills_real_imports() -> None:
    graph = import_graph(ROOT)
    assert "dr_infra.stack.handles" in graph["dr_infra.stack.user_stack"]
    assert "dr_infra.drill.restore_follow" in graph["dr_infra.drill.user_monitor"]
    assert "dr_infra.bdd.session" in graph["dr_infra.bdd.progress"]  # a lazy import inside a function counts


@pytest.mark.parametrize("relative", [False, True])
def test_a_cycle_is_found_also_through_a_lazy_or_relative_import(tmp_path: Path, relative: bool) -> None:
    back = "from . import a" if relative else "def f():\n    from dr_infra.stack import a\n"
    _write(
        tmp_path,
        [
            ("dr_infra/__init__.py", ""),
            ("dr_infra/stack/__init__.py", ""),
            ("dr_infra/stack/a.py", "from dr_infra.stack.b import thing\n"),
            ("dr_infra/stack/b.py", back + "\nthing = 1\n"),
            ("dr_infra/stack/c.py", "from dr_infra.stack import a\n"),
        ],
    )
    assert cycles(import_graph(tmp_path)) == [["dr_infra.stack.a", "dr_infra.stack.b"]]


def test_an_upward_import_is_found_and_a_downward_one_is_not(tmp_path: Path) -> None:
    _write(
        tmp_path,
        [
            ("dr_infra/__init__.py", ""),
            ("dr_infra/errors.py", ""),
            ("dr_infra/stack/__init__.py", ""),
            ("dr_infra/stack/provision.py", "from dr_infra.targets import base\nfrom dr_infra import errors\n"),
            ("dr_infra/targets/__init__.py", ""),
            ("dr_infra/targets/base.py", "import dr_infra.stack.provision\n"),
        ],
    )
    assert upward_imports(import_graph(tmp_path)) == [
        "dr_infra.targets.base -> dr_infra.stack.provision (targets may not import stack)"
    ]
