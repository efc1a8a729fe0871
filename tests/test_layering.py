"""The house: apps stack as ARCHITECTURE.md orders them and import only downward.

Every import of every module is read from its source (function-level imports too, so a cycle
cannot hide inside a function), and there is no list of exceptions.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bottom to top (ARCHITECTURE.md). cvi_portal wires everything and sits on top.
ORDER = ["core", "audit", "districts", "protocols", "notifications", "responses", "reviews", "cvi_portal"]
RANK = {app: rank for rank, app in enumerate(ORDER)}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module this file imports, absolute, with the line it is on."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # `from . import sms` imports the module notifications.sms
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _sources():
    for app in ORDER:
        yield from sorted((ROOT / app).rglob("*.py"))


def test_the_apps_are_the_ones_architecture_names():
    for app in ORDER:
        assert (ROOT / app / "__init__.py").exists(), f"{app}/ is missing"


def test_no_module_imports_from_an_app_above_its_own():
    upward = []
    for path in _sources():
        app = path.relative_to(ROOT).parts[0]
        for target, line in _imports(path):
            other = target.split(".")[0]
            if other in RANK and RANK[other] > RANK[app]:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target} ({other} is above {app})")
    assert upward == []


def test_the_shared_kit_imports_no_app():
    kit = [f"{path.relative_to(ROOT)}:{line} imports {target}" for path in sorted((ROOT / "core").rglob("*.py"))
           for target, line in _imports(path) if target.split(".")[0] in RANK and target.split(".")[0] != "core"]
    assert kit == []


def _graph(app: str) -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in sorted((ROOT / app).rglob("*.py"))}
    return {name: {target for target, _ in _imports(path) if target in modules and target != name}
            for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle in the graph, or [] (depth-first search, colouring the path)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


@pytest.mark.parametrize("app", [app for app in ORDER if app != "cvi_portal"])
def test_no_import_circle_inside_an_app(app):
    # Package __init__ modules re-export their children; importing a child imports its parent.
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in _graph(app).items()}
    assert _cycle(graph) == []


def test_the_layering_check_sees_function_level_and_relative_imports(tmp_path, monkeypatch):
    # The checker itself: a relative import inside a function must count.
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "districts").mkdir()
    source = tmp_path / "districts" / "thing.py"
    source.write_text("def f():\n    from ..responses import services\n    from . import models\n")
    assert {target for target, _ in _imports(source)} >= {"responses.services", "districts.models"}


def _portal_import(node) -> bool:
    if isinstance(node, ast.ImportFrom):
        return bool(node.level) or (node.module or "").split(".")[0] in RANK
    return isinstance(node, ast.Import) and any(alias.name.split(".")[0] in RANK for alias in node.names)


def test_no_function_level_import_of_a_portal_module():
    # An import inside a function is how a cycle hides; every portal import sits at the top.
    hidden = []
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            for node in ast.walk(function):
                if _portal_import(node):
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hidden == []
