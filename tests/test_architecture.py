"""The one-way data flow, as imports: the generator never imports the batch jobs or the exporter, and the
batch jobs never import the exporter. Read from the source (every `import`, also inside functions)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

FORBIDDEN = {
    "generator": ("slodrift.report", "slodrift.exporter", "slodrift.demo"),
    "report": ("slodrift.exporter", "slodrift.demo"),
    "exporter": ("slodrift.demo",),
    # the demo reads the generator's names and talks to Prometheus; it runs the exporter as a program
    "demo": ("slodrift.exporter",),
    "slodrift": ("slodrift.generator", "slodrift.report", "slodrift.exporter", "slodrift.demo"),
}
ALLOWED = {Path("slodrift/cli.py")}  # the command gathers the packages


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_go_one_way(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel in ALLOWED:
            continue
        for line, module in imports(path):
            if module.startswith(FORBIDDEN[package]):
                bad.append(f"{rel}:{line}: imports {module}")
    assert not bad, "\n".join(bad)


def test_the_spec_loader_does_not_depend_on_the_test_builders():
    """spec -> model -> rule and test builders: loading a spec checks label synthesis through
    generator.matching, never through generator.testgen (issue 18 review)."""
    bad = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in sorted((ROOT / "generator" / "spec").rglob("*.py"))
        for line, module in imports(path)
        if module.startswith(("slodrift.generator.testgen", "slodrift.generator.rules"))
    ]
    assert not bad, "\n".join(bad)


def test_the_check_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from slodrift.report import scoring\n    import slodrift.exporter.cli\n")
    assert imports(source) == [(2, "slodrift.report"), (3, "slodrift.exporter.cli")]


def test_tests_import_helpers_not_conftest():
    """pytest advises against importing conftest (it may be imported twice under different names)."""
    bad = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line, module in imports(path)
        if module == "tests.conftest" or module.startswith("tests.conftest.")
    ]
    assert not bad, "import from tests/helpers.py instead: " + ", ".join(bad)


PACKAGES = ("generator", "report", "exporter", "demo", "slodrift")


def modules() -> list[Path]:
    return [
        p.relative_to(ROOT)
        for package in PACKAGES
        for p in sorted((ROOT / package).rglob("*.py"))
        if p.name not in ("__init__.py", "__main__.py")
    ]


def test_the_readme_layout_names_every_module():
    """The README's layout (under "Development") is where a reader finds which module does what; a module
    it does not name is one nobody will find from there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Development\n", 1)[1].split("```\n", 2)[1]  # its first code block
    missing = [str(m) for m in modules() if not re.search(rf"\b{re.escape(m.stem)}\b", layout)]
    assert len(modules()) > 100
    assert not missing, "name these in the README's layout (## Development): " + ", ".join(missing)


def test_no_module_is_over_500_lines():
    """Small modules with one job (issue 18); split a module that grows past this along its seams."""
    long = {
        str(m): n for m in modules() if (n := len((ROOT / m).read_text(encoding="utf-8").splitlines())) > 500
    }
    assert not long, long


_MUTATORS = {
    "append",
    "extend",
    "update",
    "setdefault",
    "add",
    "pop",
    "popitem",
    "clear",
    "remove",
    "discard",
}
_MUTATORS |= {"insert", "sort", "reverse", "cache_clear"}
_CONTAINERS = (ast.Dict, ast.List, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)


def hidden_state(path: Path) -> list[str]:
    """What in a module keeps state between calls: a `global` statement, a functools cache, or a
    module-level dict, list or set that some code mutates."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    containers = set()
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            value = node.value
            called = isinstance(value, ast.Call) and getattr(value.func, "id", None) in (
                "dict",
                "list",
                "set",
            )
            if isinstance(value, _CONTAINERS) or called:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                containers |= {t.id for t in targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.append(f"{node.lineno}: global {', '.join(node.names)}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for d in node.decorator_list:
                name = ast.unparse(d.func if isinstance(d, ast.Call) else d)
                if name.rsplit(".", 1)[-1] in ("cache", "lru_cache", "cached_property"):
                    found.append(f"{d.lineno}: @{name} on {node.name}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in containers and node.func.attr in _MUTATORS:
                found.append(f"{node.lineno}: {owner.id}.{node.func.attr}(...)")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for t in targets:
                if (
                    isinstance(t, ast.Subscript)
                    and isinstance(t.value, ast.Name)
                    and t.value.id in containers
                ):
                    found.append(f"{node.lineno}: {t.value.id}[...] changed")
    return sorted(found, key=lambda hit: int(hit.split(":")[0]))


# The shipped JSON Schemas never change while the process runs: their validators are built once.
STATE_ALLOWED = {"slodrift/schemas.py": ["@cache on _ecma_pattern", "@cache on validator"]}


def test_no_module_keeps_hidden_state():
    """No hidden module-level mutable state (issue 18): a second `render` in the same process does
    exactly the work of the first, and state lives in objects whose owner is plain to see."""
    found = {str(m): hits for m in modules() if (hits := hidden_state(ROOT / m))}
    assert {m: [hit.split(": ", 1)[1] for hit in hits] for m, hits in found.items()} == STATE_ALLOWED, found


def test_the_state_check_sees_caches_globals_and_mutated_containers(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "import functools\nSEEN = {}\nNAMES: list[str] = []\nFIXED = {'a': 1}\n"
        "@functools.lru_cache(maxsize=8)\ndef f(x):\n    SEEN[x] = 1\n    return FIXED['a']\n"
        "def g():\n    global COUNT\n    NAMES.append('x')\n"
    )
    assert hidden_state(source) == [
        "5: @functools.lru_cache on f",
        "7: SEEN[...] changed",
        "10: global COUNT",
        "11: NAMES.append(...)",
    ]
