"""kb's modules import one another in one direction: no cycles, counting
imports inside functions too, and no layer imports a layer above it."""
from __future__ import annotations

import ast
from pathlib import Path

import kb

ROOT = Path(kb.__file__).parent


def module_names() -> dict[str, Path]:
    names = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        names[name] = path
    return names


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every kb module ``name`` imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {target for target in found if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    names = module_names()
    return {name: imports_of(name, path, set(names)) for name, path in names.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_module_of_kb_is_part_of_an_import_cycle():
    assert cycles(import_graph()) == []


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path):
    (tmp_path / "a.py").write_text("from kb.b import thing\n")
    (tmp_path / "b.py").write_text("def later():\n    from kb import a\n    from . import c\n")
    (tmp_path / "c.py").write_text("import kb.a\n")
    known = {"kb.a", "kb.b", "kb.c"}
    graph = {f"kb.{n}": imports_of(f"kb.{n}", tmp_path / f"{n}.py", known) for n in "abc"}
    assert graph == {"kb.a": {"kb.b"}, "kb.b": {"kb.a", "kb.c"}, "kb.c": {"kb.a"}}
    assert cycles(graph) == [["kb.a", "kb.b", "kb.c"]]


# Layers from the bottom up; a module may import its own layer or those below.
LAYERS = (
    ("kb.errors", "kb.config", "kb.extensions", "kb.unit_of_work", "kb.markdown", "kb.classifier", "kb.mail", "kb.reference"),
    ("kb.models",),
    ("kb.policy", "kb.search"),
    ("kb.services", "kb.database"),
    ("kb.importers",),
    ("kb.web", "kb.cli", "kb.server"),
)
# Shared by the blueprints, not blueprints themselves.
WEB_SHARED = {"kb.web.hooks", "kb.web.forms", "kb.web.story_form", "kb.web.uploads", "kb.web.errors", "kb.web.openapi",
              "kb.web.params", "kb.web.signing_in"}


def layer_of(name: str) -> int | None:
    for number, prefixes in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return number
    return None


def blueprint_of(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) < 3 or parts[:2] != ["kb", "web"] or ".".join(parts[:3]) in WEB_SHARED:
        return None
    return ".".join(parts[:3])


def test_no_module_imports_a_layer_above_its_own():
    upward = [(source, target) for source, targets in import_graph().items() for target in targets
              if None not in (layer_of(source), layer_of(target)) and layer_of(target) > layer_of(source)]
    assert upward == []


def test_no_blueprint_imports_another():
    crossing = [(source, target) for source, targets in import_graph().items() for target in targets
                if blueprint_of(source) and blueprint_of(target) and blueprint_of(source) != blueprint_of(target)]
    assert crossing == []
