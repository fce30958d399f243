"""In how many modules besides its own is each vendor named, in code? (issue 23's measure)

Named, for a vendor of the registry (``vendors.VENDORS``), by any of:

* a string constant equal to its connection type (``"ipaper"``);
* a dotted string with a part that names it (``"airflow_provider_flipbook.hooks.ipaper.IPaperHook"``);
* an import of one of its modules (absolute or relative, ``from . import ipaper`` too);
* an identifier that contains its name, in any case: a class, function, argument, variable,
  attribute or keyword (``IPaperHook``, ``OpenPapyrsPageLink``, ``creds.flipsnack_key``).

A vendor's own modules are those with its name in a path part (``hooks/ipaper.py``,
``hooks/_ipaper_wire.py``, ``sandbox/ipaper/...``, ``doctor/ipaper.py``, ``plugins/flippingbook_cli.py``).
Docstrings, comments and other text (messages, help) are not code and do not count.

    python scripts/vendor_mentions.py            # the package, one line per vendor
    python scripts/vendor_mentions.py -v tests   # also list the modules, for another tree
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from airflow_provider_flipbook.vendors import VENDORS as REGISTRY  # noqa: E402 - standard library only

VENDORS = tuple(REGISTRY)


def _owner(name: str) -> str:
    """The vendor a module name belongs to by its name: ``ipaper``, ``_ipaper_wire`` -> ``ipaper``."""
    return name.removesuffix(".py").strip("_").split("_")[0]


def _parts(dotted: str) -> set[str]:
    return {_owner(part) for part in dotted.split(".")}


def _identifiers(node: ast.AST) -> list[str]:
    """The names a node binds or reads (not string contents)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.keyword):
        return [node.arg or ""]
    if isinstance(
        node, ast.alias
    ):  # what an import brings in: ``import a.ipaper``, ``from a import IPaperHook``
        return [*node.name.split("."), node.asname or ""]
    return []


def named(tree: ast.AST, vendor: str) -> bool:
    """Whether a module's code names ``vendor``."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
            if text == vendor or (
                "." in text and " " not in text and any(vendor in part.lower() for part in text.split("."))
            ):
                return True
        elif isinstance(node, ast.Import) and any(vendor in _parts(a.name) for a in node.names):
            return True
        elif isinstance(node, ast.ImportFrom) and (
            vendor in _parts(node.module or "") or any(vendor in _parts(a.name) for a in node.names)
        ):
            return True
        if any(vendor in name.lower() for name in _identifiers(node)):
            return True
    return False


def own(path: Path, vendor: str) -> bool:
    """Whether a module (its path below the tree) is one of the vendor's own."""
    return any(_owner(part) == vendor for part in path.parts)


def modules(root: Path) -> Iterator[Path]:
    yield from sorted(p for p in root.rglob("*.py") if ".venv" not in p.parts)


def mentions(root: Path) -> dict[str, list[str]]:
    """Vendor -> the modules under ``root``, not its own, whose code names it."""
    found: dict[str, list[str]] = {vendor: [] for vendor in VENDORS}
    for path in modules(root):
        tree = ast.parse(path.read_text(), str(path))
        relative = path.relative_to(root)
        for vendor in VENDORS:
            if not own(relative, vendor) and named(tree, vendor):
                found[vendor].append(str(relative))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", default="airflow_provider_flipbook")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the modules")
    args = parser.parse_args(argv)
    for vendor, where in mentions(ROOT / args.tree).items():
        print(
            f"{vendor}: named in {len(where)} other modules"
            + (f": {', '.join(where)}" if args.verbose else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
