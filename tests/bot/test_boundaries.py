"""The shape the design promises, checked: the core imports no torch, no platform library,
nothing of the engine but its torch-free vocabulary (`engine.spec`), and no SQL outside the
store; dependencies point one way (adapters -> bot -> engine) and no module imports another
in a circle."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "engine", "adapters", "benchmarks")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules this module imports, anywhere in the file: `from a import b` is
    module a.b when there is one, else the package a (as Python resolves it)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                         for alias in node.names)
    return {m for m in names if m in known and m != name}


def graph() -> dict[str, set[str]]:
    """The project's modules and the project modules each imports."""
    known = modules()
    return {name: imports(name, path, set(known)) for name, path in known.items()}


def test_the_core_imports_only_the_engines_vocabulary():
    offenders = sorted(f"{module} imports {other}" for module, others in graph().items()
                       if module.startswith("bot") for other in others
                       if other.startswith("engine") and not other.startswith("engine.spec"))
    assert offenders == []


def test_dependencies_point_one_way():
    layer = {"adapters": 2, "bot": 1, "engine": 0}
    offenders = []
    for module, others in graph().items():
        top = module.split(".")[0]
        for other in others:
            if top in layer and layer.get(other.split(".")[0], -1) > layer[top]:
                offenders.append(f"{module} imports {other}")
    assert offenders == []


def test_the_engines_vocabulary_imports_nothing_heavy():
    spec = [name for name in modules() if name.startswith("engine.spec")]
    probe = (f"import importlib, sys\nfor m in {spec!r}: importlib.import_module(m)\n"
             "print(sorted(m for m in ('torch', 'diffusers', 'transformers', 'numpy') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_importing_every_module_of_the_core_leaves_torch_and_the_platforms_out():
    probe = """
import importlib, pkgutil, sys
import bot
for module in pkgutil.walk_packages(bot.__path__, "bot."):
    importlib.import_module(module.name)
print(sorted(m for m in ("torch", "diffusers", "telegram", "discord") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_sql_outside_the_store():
    sql = ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM")
    offenders = []
    for package in ("bot", "adapters", "engine"):
        for path in (ROOT / package).rglob("*.py"):
            if path.parent.name == "store":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(
                        word in node.value for word in sql) and ("FROM" in node.value
                                                                  or "SET" in node.value
                                                                  or "INTO" in node.value):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_import_circles():
    # Imports inside functions count too: a circle there is still a tangle to read.
    try:
        graphlib.TopologicalSorter(graph()).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"modules import each other in a circle: {exc.args[1]}") from None


def test_the_checks_see_the_whole_tree():
    """A rule over an empty graph passes for nothing: the graph must hold what is there."""
    found = graph()
    assert {"bot.service", "engine.spec.cards", "adapters.app"} <= found.keys()
    assert "engine.spec.params" in found["bot.service"]
