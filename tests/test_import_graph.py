"""The layers point one way (docs/architecture.md): the import graph of ``src/modelmeter`` has no cycle and no
module reaches into another module's private ``_name`` helpers.

The graph is read from the source with ``ast``, imports inside functions included (a lazy import is still a
dependency); only imports under ``if TYPE_CHECKING:`` are exempt, since they never run. Private *modules* of
the package (``_units``, ``_api``) may be imported; private *names* of another module may not, neither as
``from m import _name`` nor as ``m._name``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


@dataclass
class Graph:
    edges: dict[str, set[str]] = field(default_factory=dict)  # module -> modules it imports
    private: list[str] = field(default_factory=list)  # "importer: what" for each private cross-module use

    def cycles(self) -> list[list[str]]:
        """The strongly connected components with more than one module (each one is a cycle or several)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[list[str]] = []

        def visit(v: str) -> None:  # Tarjan; the graph is small (a hundred modules), recursion is fine
            index[v] = low[v] = len(index)
            stack.append(v)
            on_stack.add(v)
            for w in sorted(self.edges.get(v, ())):
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

        for v in sorted(self.edges):
            if v not in index:
                visit(v)
        return found


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except the bodies of ``if TYPE_CHECKING:`` (their ``else`` still runs)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def build_graph(root: Path, package: str) -> Graph:
    """The import graph of ``root/package`` (``root`` is the folder holding the package)."""
    files = {_module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    modules = {name for name, _ in files}
    graph = Graph()
    for (name, is_package), path in files.items():
        here = name.split(".") if is_package else name.split(".")[:-1]
        targets = graph.edges.setdefault(name, set())
        bound: dict[str, str] = {}  # local name -> module of ours it is bound to
        nodes = list(_runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))))
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == package:
                        parts = alias.name.split(".")  # `import a.b.c` runs a, a.b and a.b.c
                        targets.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
                        if alias.asname:
                            bound[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                source = ".".join(base + ([node.module] if node.module else []))
                if source.split(".")[0] != package:
                    continue
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    if sub in modules:  # `from pkg import module` runs pkg/__init__.py too, unless pkg is ours
                        targets.add(sub)
                        if not name.startswith(source + "."):  # an ancestor package is initialised already
                            targets.add(source)
                        bound[alias.asname or alias.name] = sub
                    else:
                        targets.add(source)
                        if _private(alias.name) and source != name:
                            graph.private.append(f"{name}: from {source} import {alias.name}")
        for node in nodes:  # `module._name` through a module bound by an import above
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _private(node.attr):
                target = bound.get(node.value.id)
                if target is not None and target != name:
                    graph.private.append(f"{name}: {node.value.id}.{node.attr} ({target})")
        # an ancestor package is initialised before its modules run: an edge to it is no dependency
        targets.difference_update({t for t in targets if name == t or name.startswith(t + ".")})
        targets &= modules
    return graph


def test_modelmeter_has_no_import_cycle():
    cycles = build_graph(SRC, "modelmeter").cycles()
    assert cycles == [], "import cycles (a lazy import counts): " + "; ".join(" <-> ".join(c) for c in cycles)


def test_modelmeter_imports_no_private_name_of_another_module():
    assert build_graph(SRC, "modelmeter").private == []


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_graph_sees_a_cycle_through_a_function_level_import(tmp_path: Path):
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/low.py": "def f():\n    from .high import g  # the deliberate cycle: low reaches up\n    return g\n",
            "pkg/high.py": "from .low import f\n\ndef g():\n    return f\n",
            "pkg/other.py": "from pkg import low\n",
        },
    )
    assert build_graph(root, "pkg").cycles() == [["pkg.high", "pkg.low"]]


def test_the_graph_sees_a_cycle_through_a_package_init(tmp_path: Path):
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "from ..low import f\n",  # importing pkg.sub.thing runs this first
            "pkg/sub/thing.py": "",
            "pkg/low.py": "from .sub import thing\n\ndef f():\n    return thing\n",
        },
    )
    assert build_graph(root, "pkg").cycles() == [["pkg.low", "pkg.sub"]]


def test_the_graph_exempts_type_checking_imports_only(tmp_path: Path):
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/low.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .high import g\n",
            "pkg/high.py": "from .low import f\n",
        },
    )
    assert build_graph(root, "pkg").cycles() == []
    runs = "import typing\nif typing.TYPE_CHECKING:\n    pass\nelse:\n    from . import high\n"  # the else runs
    (root / "pkg/low.py").write_text(runs)
    assert build_graph(root, "pkg").cycles() == [["pkg.high", "pkg.low"]]


def test_the_graph_sees_private_names_across_modules(tmp_path: Path):
    b = "from . import _units, a\nfrom .a import _helper\n\n\ndef g():\n    return a._helper, _units.scale\n"
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/_units.py": "def scale():\n    return 1\n",  # a private module of the package: fine
            "pkg/a.py": "def _helper():\n    return _helper\n",  # its own private name: fine
            "pkg/b.py": b,
        },
    )
    assert build_graph(root, "pkg").private == ["pkg.b: from pkg.a import _helper", "pkg.b: a._helper (pkg.a)"]
