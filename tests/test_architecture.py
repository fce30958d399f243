"""docs/architecture.md's "Who may import whom" holds: every import inside the package, read from the
source (module level and inside functions), against the table's rows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "airflow_provider_flipbook"
DOC = ROOT / "docs" / "architecture.md"
NAME = PACKAGE.name
TICKED = re.compile(r"`([^`]+)`")


def layers() -> set[str]:
    """The package's top-level modules and sub-packages, and ``__init__`` (the package itself)."""
    return {path.stem for path in PACKAGE.glob("*.py")} | {
        path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()
    }


def rules(text: str) -> dict[str, tuple[set[str], set[str]]]:
    """Layer -> (may import, must not import), from the table under "Who may import whom"."""
    section = text.split("## Who may import whom", 1)[1].split("\n## ", 1)[0]
    known, found = layers(), {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("Layer", "---"):
            continue
        allowed, forbidden = ({t for t in TICKED.findall(cell) if t in known} for cell in cells[1:])
        if "anything of the package" in cells[2]:
            forbidden = known
        for layer in TICKED.findall(cells[0]):
            found[layer] = (allowed, forbidden)
    return found


def layer_of(module: str) -> str | None:
    """The layer an absolute module name belongs to (None outside the package)."""
    parts = module.split(".")
    if parts[0] != NAME:
        return None
    if len(parts) == 1:
        return "__init__"
    return parts[1] if parts[1] in layers() else "__init__"  # a name imported from the package itself


def imports(path: Path) -> list[tuple[str, int]]:
    """The layers a module imports (absolute and relative), with line numbers."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            names = [f"{base}.{alias.name}" if base == NAME else base for alias in node.names]
        found += [(layer, node.lineno) for name in names if (layer := layer_of(name)) is not None]
    return found


def source_layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def test_every_layer_has_a_row():
    table = rules(DOC.read_text())
    missing = layers() - {"__init__"} - set(table)
    assert not missing, f"docs/architecture.md has no import rule for {sorted(missing)}"
    for layer, (allowed, forbidden) in table.items():
        assert not allowed & forbidden, f"{layer}: both allowed and forbidden: {allowed & forbidden}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_table(path):
    table = rules(DOC.read_text())
    source = source_layer(path)
    if source == "__init__":
        return
    allowed, forbidden = table[source]
    wrong = [
        f"line {line}: {target}"
        for target, line in imports(path)
        if target != source and (target not in allowed or target in forbidden)
    ]
    assert not wrong, f"{source} imports what docs/architecture.md does not allow it: {wrong}"


def test_the_checker_sees_relative_and_lazy_imports(tmp_path):
    """The rules are only as good as the import reader: it must see every form of import."""
    seen = {target for target, _ in imports(PACKAGE / "hooks" / "base.py")}
    assert {"exceptions", "utils", "hooks"} <= seen
    assert "connection_extras" in {target for target, _ in imports(PACKAGE / "hooks" / "connection.py")}
    lazy = PACKAGE / "operators" / "upload.py"
    assert "hooks" in {target for target, _ in imports(lazy)}  # imported inside execute()
    example = PACKAGE / "sandbox" / "__init__.py"
    assert {target for target, _ in imports(example)} == {"sandbox"}  # its lazy server import


# Issue 23's size limits: a module of the package has one job, the transport stays the transport
# alone, and the doctor's checks stay plain functions (no class grows into a dispatcher again).
MODULE_LINES, TRANSPORT_LINES, DOCTOR_CLASS_LINES = 800, 400, 200


def test_modules_stay_within_their_size_limits():
    sizes = {path: len(path.read_text().splitlines()) for path in PACKAGE.rglob("*.py")}
    assert {str(p.relative_to(ROOT)): n for p, n in sizes.items() if n > MODULE_LINES} == {}
    assert sizes[PACKAGE / "hooks" / "base.py"] <= TRANSPORT_LINES


def test_no_doctor_class_over_its_limit():
    too_long = {
        f"{path.name}:{node.name}": node.end_lineno - node.lineno + 1
        for path in (PACKAGE / "doctor").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > DOCTOR_CLASS_LINES
    }
    assert too_long == {}
