"""The layering of docs/architecture.md holds: every import, at any depth, goes downwards.

The allowed dependencies live in one place, the table between the ``layering-table``
markers of docs/architecture.md; this test reads it from there. Every ``import`` and
``from … import`` of every module of ``src/roundtable`` and ``workers`` counts,
including those inside functions and ``TYPE_CHECKING`` blocks (the document says why).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "architecture.md"
LAYERS = ("foundation", "domain", "application", "edge")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. roundtable.mail.outbox
    target: str  # the imported module, e.g. roundtable.mail.doorbell
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def read_table(text: str) -> tuple[dict[str, str], dict[str, set[str]]]:
    """The layer of each package and what it may import, layer names expanded."""
    match = re.search(r"<!-- layering-table:begin -->(.*?)<!-- layering-table:end -->", text, re.S)
    assert match, "docs/architecture.md has lost its layering table markers"
    layer_of: dict[str, str] = {}
    raw: dict[str, list[str]] = {}
    for row in match.group(1).strip().splitlines()[2:]:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        assert len(cells) == 3, f"a layering table row needs three cells: {row!r}"
        package, layer, allowed = cells[0].strip("`"), cells[1], cells[2]
        assert layer in LAYERS, f"{package}: unknown layer {layer!r}"
        assert package not in layer_of, f"{package} appears twice in the table"
        layer_of[package] = layer
        raw[package] = [item.strip().strip("`") for item in allowed.split(",") if item.strip()]
    may_import: dict[str, set[str]] = {}
    for package, items in raw.items():
        allowed_set: set[str] = set()
        for item in items:
            if item in LAYERS:
                allowed_set |= {p for p, layer in layer_of.items() if layer == item}
            else:
                assert item in layer_of, f"{package} may import {item!r}, which has no row"
                allowed_set.add(item)
        may_import[package] = allowed_set - {package}
    return layer_of, may_import


def modules() -> Iterator[tuple[str, Path]]:
    for base in (SRC / "roundtable", ROOT / "workers"):
        for path in sorted(base.rglob("*.py")):
            relative = path.relative_to(SRC if base.is_relative_to(SRC) else ROOT)
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def is_module(name: str) -> bool:
    """Whether ``name`` is a module or package of ours (not a name defined inside one)."""
    parts = name.split(".")
    base = SRC if parts[0] == "roundtable" else ROOT
    path = base.joinpath(*parts)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(module: str, path: Path) -> Iterator[Import]:
    """Every import in the file, at any depth, resolved to the module it loads."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = {f"{base}.{alias.name}" for alias in node.names}
            for target in sorted({t if is_module(t) else base for t in targets}):
                yield Import(module, target, node.lineno)


def package_of(module: str) -> str | None:
    """``<name>`` of ``roundtable.<name>`` (``roundtable`` for the root), ``workers``, or None."""
    parts = module.split(".")
    if parts[0] == "workers":
        return "workers"
    if parts[0] != "roundtable":
        return None
    return parts[1] if len(parts) > 1 and is_module(".".join(parts[:2])) else "roundtable"


def package_graph() -> dict[str, dict[str, list[Import]]]:
    graph: dict[str, dict[str, list[Import]]] = {}
    for module, path in modules():
        source = package_of(module)
        assert source is not None
        graph.setdefault(source, {})
        for imported in imports_of(module, path):
            target = package_of(imported.target)
            if target is not None and target != source:
                graph[source].setdefault(target, []).append(imported)
    return graph


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as a list of nodes, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


TABLE = read_table(DOC.read_text(encoding="utf-8"))
GRAPH = package_graph()


def test_every_package_has_a_row_in_the_table() -> None:
    layer_of, _ = TABLE
    missing = sorted(set(GRAPH) - set(layer_of))
    assert not missing, f"packages without a row in docs/architecture.md: {missing}"


def test_every_import_is_allowed_by_the_table() -> None:
    _, may_import = TABLE
    wrong = [
        str(imported)
        for source, targets in sorted(GRAPH.items())
        for target, found in sorted(targets.items())
        if target not in may_import.get(source, set())
        for imported in found
    ]
    assert not wrong, "imports that break the layering of docs/architecture.md:\n" + "\n".join(
        wrong
    )


def test_the_table_itself_has_no_cycle() -> None:
    _, may_import = TABLE
    assert find_cycle(may_import) is None


def test_no_cycle_between_packages() -> None:
    edges = {source: set(targets) for source, targets in GRAPH.items()}
    assert find_cycle(edges) is None


def test_the_library_never_imports_the_workers() -> None:
    offending = [
        str(imported)
        for source, targets in GRAPH.items()
        if source != "workers"
        for imported in targets.get("workers", [])
    ]
    assert not offending, offending


def test_nothing_below_the_edge_imports_web_or_cli() -> None:
    layer_of, _ = TABLE
    offending = [
        str(imported)
        for source, targets in GRAPH.items()
        if layer_of.get(source) != "edge"
        for target in ("web", "cli")
        for imported in targets.get(target, [])
    ]
    assert not offending, offending


# The reader itself: an import hidden in a function or a TYPE_CHECKING block is found,
# and a row the table lacks or an upward import is reported.

_SAMPLE = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from roundtable.delivery.deliver import Outcome
def later():
    from roundtable import web
    import workers.tasks
"""


def test_imports_inside_functions_and_type_checking_blocks_are_found(tmp_path: Path) -> None:
    path = tmp_path / "sample.py"
    path.write_text(_SAMPLE, encoding="utf-8")
    found = {package_of(i.target) for i in imports_of("roundtable.people.sample", path)}
    assert {"delivery", "web", "workers"} <= found


@pytest.mark.parametrize(
    ("edges", "cycle"),
    [({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True), ({"a": {"b"}, "b": {"c"}, "c": set()}, False)],
)
def test_cycles_are_found(edges: dict[str, set[str]], cycle: bool) -> None:
    assert (find_cycle(edges) is not None) is cycle


def test_a_table_with_a_dangling_name_is_refused() -> None:
    text = (
        "<!-- layering-table:begin -->\n| package | layer | may import |\n|---|---|---|\n"
        "| `people` | domain | `nowhere` |\n<!-- layering-table:end -->"
    )
    with pytest.raises(AssertionError, match="nowhere"):
        read_table(text)
