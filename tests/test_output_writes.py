"""Every file a command writes goes through ``myoxai/io/outputs.py`` (issue 24, "one safe writer").

An AST scan of the package: a call that creates or writes a file — ``open(…, "w"/"a"/"x"/"+")``,
``Path.open("w")``, ``write_text``, ``write_bytes``, ``savefig``, ``save_file``, ``tofile``,
``os.open`` — is allowed only in ``io/outputs.py``, lexically inside ``with atomic_output(…) as tmp``
(it writes the helper's temporary file), or at one of the internal temporary files listed below
with the reason it is not a user path.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "myoxai"
WRITER = "io/outputs.py"
INTERNAL = {
    **{("bench/fuzz.py", f"_target_{k}"): "mutated inputs in the fuzzer's own temporary folder"
       for k in ("xdf", "myo_text", "kanoga_text", "model")},
    ("bench/sweep.py", "build_corpus"): "the sweep's hostile inputs in its own temporary folder",
    ("bench/sweep.py", "_unstamped_1ch"): "the sweep's hostile inputs in its own temporary folder",
    ("bench/live.py", "write"): "the GUI probe's JSON in the parent's temporary folder",
}
"""(module, enclosing function) → why the file written there is not a user's path."""
KNOWN_GAPS: dict[tuple[str, str], str] = {}
"""Writes of user paths that do not go through the helper yet, named so they are not forgotten."""
WRITE_METHODS = {"write_text", "write_bytes", "savefig", "save_file", "tofile", "savetxt", "savez"}


def _mode(call: ast.Call, position: int) -> str | None:
    for kw in call.keywords:
        if kw.arg == "mode" and isinstance(kw.value, ast.Constant):
            return str(kw.value.value)
    if len(call.args) > position and isinstance(call.args[position], ast.Constant):
        return str(call.args[position].value)
    return None


def _writes(call: ast.Call) -> str | None:
    """What kind of write ``call`` is, or None."""
    f = call.func
    if isinstance(f, ast.Name) and f.id == "open":
        mode = _mode(call, 1)
        return "open(…, 'w')" if mode and set(mode) & set("wax+") else None
    if isinstance(f, ast.Attribute):
        if f.attr in WRITE_METHODS:
            return f.attr
        if f.attr == "open":
            is_os = isinstance(f.value, ast.Name) and f.value.id == "os"
            if is_os:
                return "os.open"
            mode = _mode(call, 0)
            return ".open('w')" if mode and set(mode) & set("wax+") else None
    return None


def _violations(path: Path) -> list[str]:
    rel = path.relative_to(PACKAGE).as_posix()
    if rel == WRITER:
        return []
    tree = ast.parse(path.read_text())
    found: list[str] = []

    def visit(node: ast.AST, func: str, in_atomic: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = node.name
        if isinstance(node, ast.With):
            for item in node.items:
                c = item.context_expr
                if isinstance(c, ast.Call) and getattr(c.func, "attr", getattr(c.func, "id", "")) == "atomic_output":
                    in_atomic = True
        if isinstance(node, ast.Call):
            kind = _writes(node)
            if kind and not in_atomic and (rel, func) not in INTERNAL and (rel, func) not in KNOWN_GAPS:
                found.append(f"{rel}:{node.lineno} {kind} in {func}()")
        for child in ast.iter_child_nodes(node):
            visit(child, func, in_atomic)

    visit(tree, "<module>", False)
    return found


def test_no_file_is_written_outside_the_output_helper():
    bad = [v for p in sorted(PACKAGE.rglob("*.py")) for v in _violations(p)]
    assert not bad, "files written outside myoxai/io/outputs.py:\n" + "\n".join(bad)


def test_the_scan_sees_each_kind_of_write(tmp_path, monkeypatch):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom pathlib import Path\n"
                      "def f(p, fig):\n"
                      "    open(p, 'w')\n    open(p, mode='ab')\n    Path(p).open('w')\n    Path(p).write_text('x')\n"
                      "    Path(p).write_bytes(b'')\n    fig.savefig(p)\n    os.open(p, os.O_WRONLY)\n"
                      "    open(p)\n    open(p, 'rb')\n"
                      "    with atomic_output(p) as tmp:\n        tmp.write_text('ok')\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    assert len(_violations(sample)) == 7
