"""In how many modules besides its own is each vendor named, in code? (issue 23's measure)

Named: a string constant equal to the vendor's connection type, a dotted string naming one of its
modules (``"airflow_provider_flipbook.hooks.ipaper.IPaperHook"``), or an import of one of its
modules. A vendor's own modules are those with its name as a path part (``hooks/ipaper.py``,
``hooks/_ipaper_wire.py``, ``sandbox/ipaper/...``, ``doctor/ipaper.py``, ``notifications/papyrs.py``). Docstrings and comments
are not code and do not count.

    python scripts/vendor_mentions.py            # the package, one line per vendor
    python scripts/vendor_mentions.py -v tests   # also list the modules, for another tree
    python scripts/vendor_mentions.py --no-reexports   # leave out layer __init__ re-exports
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
VENDORS = ("flippingbook", "flipsnack", "ipaper", "papyrs")


def _owner(name: str) -> str:
    """The vendor a module name belongs to by its name: ``ipaper``, ``_ipaper_wire`` -> ``ipaper``."""
    return name.removesuffix(".py").strip("_").split("_")[0]


def _parts(dotted: str) -> set[str]:
    return {_owner(part) for part in dotted.split(".")}


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
            if node.value == vendor or (
                "." in node.value and " " not in node.value and vendor in _parts(node.value)
            ):
                return True
        elif isinstance(node, ast.Import) and any(vendor in _parts(a.name) for a in node.names):
            return True
        elif isinstance(node, ast.ImportFrom):
            if vendor in _parts(node.module or "") or any(a.name == vendor for a in node.names):
                return True
    return False


def own(path: Path, vendor: str) -> bool:
    return any(_owner(part) == vendor for part in path.parts)


def modules(root: Path) -> Iterator[Path]:
    yield from sorted(p for p in root.rglob("*.py") if ".venv" not in p.parts)


def reexports_only(tree: ast.Module) -> bool:
    """A package ``__init__`` that only re-exports its modules' public names (imports, ``__all__``)."""
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return all(
        isinstance(n, ast.Import | ast.ImportFrom)
        or (isinstance(n, ast.Assign) and [getattr(t, "id", "") for t in n.targets] == ["__all__"])
        for n in body
    )


def mentions(root: Path, reexports: bool = True) -> dict[str, list[str]]:
    """Vendor -> the modules under ``root``, not its own, whose code names it (``reexports``: count
    package ``__init__`` files that only re-export their modules' names)."""
    found: dict[str, list[str]] = {vendor: [] for vendor in VENDORS}
    for path in modules(root):
        tree = ast.parse(path.read_text(), str(path))
        if not reexports and path.name == "__init__.py" and reexports_only(tree):
            continue
        relative = path.relative_to(root)
        for vendor in VENDORS:
            if not own(relative, vendor) and named(tree, vendor):
                found[vendor].append(str(relative))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", default="airflow_provider_flipbook")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the modules")
    parser.add_argument(
        "--no-reexports", action="store_true", help="leave out package __init__ files that only re-export"
    )
    args = parser.parse_args(argv)
    for vendor, where in mentions(ROOT / args.tree, reexports=not args.no_reexports).items():
        print(
            f"{vendor}: named in {len(where)} other modules"
            + (f": {', '.join(where)}" if args.verbose else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
