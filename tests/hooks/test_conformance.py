"""docs/vendor-conformance.md stays true: every operation the hooks send has a row, every row an operation.

Operations are read from the hooks' source (AST), not imported: a string passed where a hook function
takes its ``operation`` (``_request``, ``error``, ``_upload``, FlippingBook's and Papyrs' ``call``),
``action`` (Flipsnack's ``call`` and ``signed``) or ``method`` (iPaper's ``call``; HTTP verbs are not
operations), the operation argument of an exception (``NotFoundError(self.vendor, "op", ...)``), and a
constant default of a parameter named ``operation``. An f-string operation is expanded over the values
listed in ``EXPANSIONS``; one built only from another operation's name (``f"{operation} source"``, an
error label for part of that operation's answer) is not a separate operation.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

from airflow_provider_flipbook.doctor import CHECK_IDS
from airflow_provider_flipbook.hooks.papyrs import WIDGET_KINDS

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "airflow_provider_flipbook" / "hooks"
TABLE = ROOT / "docs" / "vendor-conformance.md"
SECTIONS = {
    "base.py": "All vendors",
    "flippingbook.py": "FlippingBook",
    "flipsnack.py": "Flipsnack",
    "ipaper.py": "iPaper",
    "papyrs.py": "Papyrs",
}
VENDOR_OF_SECTION = {
    "FlippingBook": "flippingbook",
    "Flipsnack": "flipsnack",
    "iPaper": "ipaper",
    "Papyrs": "papyrs",
}
OPERATION_PARAMS = {"operation", "action", "method"}
HTTP_VERBS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
EXPANSIONS = {"kind": WIDGET_KINDS}  # f"{kind}.create": the widget kinds the hook accepts


def _params(tree: ast.AST) -> dict[str, list[str]]:
    """Function name -> its parameter names (without ``self``), for every def in a module."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
            found[node.name] = [n for n in names if n not in ("self", "cls")]
    return found


def _values(node: ast.expr, where: str, problems: list[str]) -> list[str]:
    """The operation names a constant or f-string stands for; variables stand for none."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [] if node.value in HTTP_VERBS else [node.value]
    if isinstance(node, ast.JoinedStr):
        names = {
            p.value.id
            for p in node.values
            if isinstance(p, ast.FormattedValue) and isinstance(p.value, ast.Name)
        }
        if (
            names and names <= OPERATION_PARAMS
        ):  # f"{operation} source": a label of an operation named elsewhere
            return []
        parts: list[tuple[str, ...]] = []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                parts.append((str(piece.value),))
            elif (
                isinstance(piece, ast.FormattedValue)
                and isinstance(piece.value, ast.Name)
                and piece.value.id in EXPANSIONS
            ):
                parts.append(tuple(EXPANSIONS[piece.value.id]))
            else:
                problems.append(
                    f"{where}: cannot expand the f-string operation {ast.unparse(node)!r}; "
                    "add its placeholder to EXPANSIONS in this test"
                )
                return []
        return ["".join(combo) for combo in itertools.product(*parts)]
    return []


def hook_operations() -> tuple[dict[str, set[str]], list[str]]:
    """Section name -> operation names found in that hook module; and the problems found."""
    base = _params(ast.parse((HOOKS / "base.py").read_text()))
    operations: dict[str, set[str]] = {}
    problems: list[str] = []
    for filename, section in SECTIONS.items():
        tree = ast.parse((HOOKS / filename).read_text())
        signatures = {**base, **_params(tree)}
        found = operations.setdefault(section, set())
        for node in ast.walk(tree):
            where = f"{filename}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.FunctionDef):  # def download(..., operation="download")
                args = node.args.args[len(node.args.args) - len(node.args.defaults) :]
                for arg, default in zip(args, node.args.defaults, strict=True):
                    if arg.arg == "operation":
                        found.update(_values(default, where, problems))
                for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True):
                    if arg.arg == "operation" and default is not None:
                        found.update(_values(default, where, problems))
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name.endswith("Error") and len(node.args) >= 2:  # NotFoundError(self.vendor, "op", ...)
                found.update(_values(node.args[1], where, problems))
                continue
            if not (isinstance(node.func, ast.Attribute) and name in signatures):
                continue
            params = signatures[name]
            bound = dict(zip(params, node.args, strict=False))
            bound.update({k.arg: k.value for k in node.keywords if k.arg})
            for param, value in bound.items():
                if param in OPERATION_PARAMS:
                    found.update(_values(value, where, problems))
            first = node.args[0] if node.args else None
            if (
                name == "call"
                and isinstance(first, ast.Constant)
                and first.value in HTTP_VERBS
                and "operation" not in bound
            ):
                problems.append(
                    f"{where}: {ast.unparse(node)[:80]} has no operation=...: its name would be "
                    "derived from the path and could not be checked against the table"
                )
    return operations, problems


def table() -> tuple[dict[str, dict[str, list[str]]], dict[str, set[str]]]:
    """Section -> {operation: cells} from the operation tables; section -> assumption ids."""
    rows: dict[str, dict[str, list[str]]] = {}
    assumptions: dict[str, set[str]] = {}
    section, header = "", ""
    for line in TABLE.read_text().splitlines():
        if line.startswith("## "):
            section, header = line[3:].strip(), ""
            continue
        if not line.startswith("|"):
            header = "" if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = cells[0]
            continue
        match = re.fullmatch(r"`([^`]+)`", cells[0])
        if match is None:
            continue
        if header == "operation":
            rows.setdefault(section, {})[match.group(1)] = cells
        elif header == "id":
            assumptions.setdefault(section, set()).add(match.group(1))
    return rows, assumptions


def test_every_hook_operation_has_a_row_and_every_row_an_operation():
    operations, problems = hook_operations()
    assert not problems, "\n".join(problems)
    rows, _ = table()
    missing = {s: sorted(ops - set(rows.get(s, {}))) for s, ops in operations.items()}
    missing = {s: ops for s, ops in missing.items() if ops}
    assert not missing, f"operations without a row in docs/vendor-conformance.md: {missing}"
    stale = {s: sorted(set(r) - operations.get(s, set())) for s, r in rows.items()}
    stale = {s: ops for s, ops in stale.items() if ops}
    assert not stale, f"rows in docs/vendor-conformance.md naming no operation the hooks send: {stale}"


def test_the_parser_finds_operations_of_every_kind():
    """Guards the test itself: one operation of each way of naming them is found."""
    operations, _ = hook_operations()
    assert {"download"} <= operations["All vendors"]
    assert {"auth.me", "tracked_link.get", "publication.list"} <= operations["FlippingBook"]
    assert {"collection.create", "collection.getList", "user.getStats"} <= operations["Flipsnack"]
    assert {"Paper.GetAllPapers", "Ripper.ProcessPDF"} <= operations["iPaper"]
    assert {"paragraph.create", "heading.update", "attachment.delete", "people.invite"} <= operations[
        "Papyrs"
    ]
    assert "GET" not in set().union(*operations.values())


def test_every_row_is_complete_and_has_a_verdict():
    rows, _ = table()
    for section, by_operation in rows.items():
        for operation, cells in by_operation.items():
            assert len(cells) == 8, (section, operation, len(cells))
            assert all(cells), (section, operation, "an empty cell")
            verdict = cells[-1]
            assert re.search(r"\bfollows\b|\bcontradicts\b|\bsilent\b|^as `", verdict), (
                section,
                operation,
                verdict,
            )


def test_the_doctor_checks_exactly_the_listed_assumptions():
    _, assumptions = table()
    listed = {VENDOR_OF_SECTION[s]: ids for s, ids in assumptions.items()}
    checked = {vendor: {f"{vendor}.{name}" for name in names} for vendor, names in CHECK_IDS.items()}
    assert listed == checked
