"""The import graph of ``myoxai/`` (read from the source, lazy imports included): no cycle between modules,
and no import up the layers of docs/architecture.md (commands → gui/bench → live → engine/evaluation →
adapt/explain → models → dsp/io/sources → leaves)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "myoxai"

LEAVES = {"errors", "config", "cliargs"}
LOW = LEAVES | {"dsp", "io", "sources"}
MODELS_AND_BELOW = LOW | {"models"}
# top-level part of myoxai -> the parts it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "": set(),  # myoxai/__init__.py
    "errors": set(),
    "cliargs": {"errors"},
    "config": {"errors"},
    "dsp": LEAVES,
    "io": LEAVES,
    "sources": LEAVES | {"io"},
    "testing": LEAVES | {"io", "sources"},
    "models": LEAVES | {"dsp", "io"},
    "adapt": MODELS_AND_BELOW,
    "explain": MODELS_AND_BELOW,
    "engine": MODELS_AND_BELOW | {"adapt", "explain"},
    "evaluation": MODELS_AND_BELOW | {"adapt", "explain"},
    "live": MODELS_AND_BELOW | {"adapt", "explain", "engine"},
    "gui": MODELS_AND_BELOW | {"adapt", "explain", "engine", "live"},
    "bench": MODELS_AND_BELOW | {"adapt", "explain", "engine", "live", "evaluation", "gui", "testing"},
}
TOP = {"commands", "cli", "__main__", "api"}  # may import everything (api: thin wrappers for scripts)


def _modules() -> dict[str, Path]:
    mods = {}
    for f in PACKAGE.rglob("*.py"):
        parts = f.relative_to(PACKAGE.parent).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return mods


def import_graph() -> dict[str, set[str]]:
    """module -> the myoxai modules it imports anywhere in its body (``from a import b`` counts a.b if it is one)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, f in mods.items():
        package = m if f.name == "__init__.py" else m.rpartition(".")[0]
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            else:
                continue
            for name in names:
                while name not in mods and "." in name:
                    name = name.rpartition(".")[0]
                if name in mods and name != m:
                    graph[m].add(name)
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles between modules; a package's ``__init__`` re-exporting its own submodules is not one."""
    faces = {m for m in graph if (PACKAGE.parent / m.replace(".", "/") / "__init__.py").exists()}
    edges = {m: {n for n in targets if not (n in faces and m.startswith(n + "."))} for m, targets in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []
    stack: list[str] = []

    def visit(v: str) -> None:
        state[v] = 1
        stack.append(v)
        for w in sorted(edges[v]):
            if state.get(w) == 1:
                cycles.append(stack[stack.index(w):] + [w])
            elif w not in state:
                visit(w)
        stack.pop()
        state[v] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    return cycles


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for m, targets in graph.items():
        src = _part(m)
        if src in TOP:
            continue
        assert src in ALLOWED, f"{m}: a new top-level part of myoxai; give it a layer in ALLOWED"
        for t in sorted(targets):
            dst = _part(t)
            if dst != src and dst not in ALLOWED[src] and not (dst == "" and t == "myoxai"):
                bad.append(f"{m} imports {t} ({src or 'myoxai'} may import only {sorted(ALLOWED[src])})")
    return bad


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_no_import_goes_up_the_layers():
    bad = upward_imports(import_graph())
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("graph, expect", [
    ({"myoxai.a": {"myoxai.b"}, "myoxai.b": {"myoxai.a"}}, [["myoxai.a", "myoxai.b", "myoxai.a"]]),
    ({"myoxai.a": {"myoxai.b"}, "myoxai.b": set()}, []),
])
def test_the_cycle_finder_finds_cycles(graph, expect):
    assert find_cycles(graph) == expect


def test_the_layer_check_catches_an_upward_import():
    assert upward_imports({"myoxai.engine.engine": {"myoxai.gui.app"}}) != []
    assert upward_imports({"myoxai.gui.app": {"myoxai.live.setup"}}) == []


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_the_engine_core_stays_small_and_no_module_is_a_house():
    core = sum(_lines(f) for f in (PACKAGE / "engine").glob("*.py"))
    assert core < 1500, f"myoxai/engine/ is the pipeline core: {core} lines; features go to myoxai/live/"
    big = [f"{f.relative_to(PACKAGE)}: {n}" for f in PACKAGE.rglob("*.py") if (n := _lines(f)) > 400]
    assert not big, f"modules over 400 lines: {big}"


def test_no_product_module_looks_like_a_test_file():
    named = [str(f.relative_to(PACKAGE)) for f in PACKAGE.rglob("*.py")
             if f.name.startswith("test_") or f.stem.endswith("_test")]
    assert not named, f"pytest would collect these as tests: {named}"
