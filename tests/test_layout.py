"""The package layout holds: no import cycles between jobcore's modules or the pages',
modules under 400 lines and functions under 50 (a page's module-level code counts as one
function), and the job system starts without the heavy or optional libraries (anthropic,
torch, cryptography).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50
# Modules not split yet, each at most this long: the ceiling only goes down (split them,
# then take them off the list).
NOT_SPLIT_YET: dict[str, int] = {}
# Pages whose module-level code is not in functions yet, and its lines at most.
PAGES_NOT_SPLIT_YET: dict[str, int] = {}


def _sources() -> list[Path]:
    """Every module of jobcore (migrations aside) and of the pages."""
    return [p for base in ("jobcore", "app_pages") for p in sorted((ROOT / base).rglob("*.py"))
            if "migrations" not in p.parts]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module -> the jobcore and page modules it imports at module level (not under
    TYPE_CHECKING).
    """
    modules = {_module_name(p): p for p in _sources()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.parse(path.read_text()).body:
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            found |= {t for t in targets if t in modules and t != name}
        graph[name] = found
    return graph


def test_no_import_cycles_between_jobcore_or_page_modules():
    graph = _imports()
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for other in sorted(graph[module]):
            if state.get(other) == 1:
                cycles.append([*path[path.index(other):], other])
            elif other not in state:
                visit(other, [*path, other])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_job_system_imports_without_anthropic_torch_or_cryptography():
    code = ("import sys; import jobcore.jobs.runner, jobcore.jobs.store, jobcore.jobs.ticks, "
            "jobcore.jobs.registry, jobcore.jobs.base; "
            "print(sorted(m for m in ('anthropic', 'torch', 'cryptography', "
            "'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"


def test_modules_stay_under_400_lines():
    too_long = {}
    for path in _sources():
        name = str(path.relative_to(ROOT))
        lines = len(path.read_text().splitlines())
        if lines > NOT_SPLIT_YET.get(name, MAX_MODULE_LINES):
            too_long[name] = lines
    assert too_long == {}
    assert all((ROOT / name).exists() for name in NOT_SPLIT_YET)


def _page_body_lines(tree: ast.Module) -> int:
    """The lines of a page's module-level code besides imports, definitions and docstring."""
    return sum(node.end_lineno - node.lineno + 1 for node in tree.body
               if not isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                        ast.AsyncFunctionDef, ast.ClassDef))
               and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)))


def test_functions_stay_under_50_lines_pages_included():
    too_long = {}
    for path in _sources():
        name = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long[f"{name}:{node.name}"] = lines
        if path.parent.name == "app_pages":
            body = _page_body_lines(tree)
            if body > PAGES_NOT_SPLIT_YET.get(name, MAX_FUNCTION_LINES):
                too_long[f"{name}:<module>"] = body
    assert too_long == {}
