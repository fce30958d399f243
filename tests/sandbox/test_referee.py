"""The sandbox is a referee: it is written from the vendors' documents and imports nothing from the code
it judges (hooks, operators, sensors, triggers), so a wrong guess there cannot make it agree."""

import ast
from pathlib import Path

import pytest

import airflow_provider_flipbook.sandbox as sandbox_package

# The doctor too: the sandbox reads the doctor's recordings with its own code (sandbox/core/replay.py).
JUDGED = tuple(
    f"airflow_provider_flipbook.{name}" for name in ("hooks", "operators", "sensors", "triggers", "doctor")
)
# The operators' PDF check (pages, encryption, XFA): the sandbox counts pages with its own reader.
JUDGED_NAMES = {
    f"airflow_provider_flipbook.utils.pdf.{name}" for name in ("inspect_pdf", "PdfFacts", "has_xfa")
}
ROOT = Path(sandbox_package.__file__).parent
MODULES = sorted(ROOT.rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    package = "airflow_provider_flipbook.sandbox"
    if path.is_relative_to(ROOT):  # relative imports resolve against the module's own package
        package = ".".join([package, *path.parent.relative_to(ROOT).parts])
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the sandbox package
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_every_sandbox_module_is_checked():
    assert {str(p.relative_to(ROOT)) for p in MODULES} >= {
        "flippingbook/routes.py",
        "flipsnack/routes.py",
        "ipaper/routes.py",
        "papyrs/routes.py",
        "core/routing.py",
        "server.py",
    }


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_sandbox_module_imports_nothing_it_referees(path):
    judged = sorted(
        name
        for name in imported_modules(path)
        if name in JUDGED or name in JUDGED_NAMES or name.startswith(tuple(f"{j}." for j in JUDGED))
    )
    assert not judged, f"{path.name} imports {judged}: the sandbox must sign and parse with its own code"


def test_the_check_would_catch_an_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f():\n    from airflow_provider_flipbook.hooks.flipsnack import sign\n"
        "from ..triggers import base\n"
    )
    assert {
        "airflow_provider_flipbook.hooks.flipsnack",
        "airflow_provider_flipbook.triggers",
    } <= imported_modules(bad)
