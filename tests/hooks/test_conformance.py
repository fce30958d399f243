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
from airflow_provider_flipbook.hooks import hook_class
from airflow_provider_flipbook.hooks.papyrs import WIDGET_KINDS
from airflow_provider_flipbook.vendors import VENDORS

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "airflow_provider_flipbook" / "hooks"
TABLE = ROOT / "docs" / "vendor-conformance.md"
# The table has one section per hook module, titled with the hook's vendor name.
VENDOR_OF_SECTION = {hook_class(conn_type).vendor: conn_type for conn_type in VENDORS}
SECTIONS = {"base.py": "All vendors", **{f"{t}.py": section for section, t in VENDOR_OF_SECTION.items()}}
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


def _source(filename: str) -> str:
    """A hook module's source with its vendor's private parts (``ipaper.py`` + ``_ipaper_*.py``)."""
    parts = [HOOKS / filename, *sorted(HOOKS.glob(f"_{filename.removesuffix('.py')}_*.py"))]
    return "\n".join(path.read_text() for path in parts)


def hook_operations() -> tuple[dict[str, set[str]], list[str]]:
    """Section name -> operation names found in that hook module; and the problems found."""
    base = _params(ast.parse((HOOKS / "base.py").read_text()))
    operations: dict[str, set[str]] = {}
    problems: list[str] = []
    for filename, section in SECTIONS.items():
        tree = ast.parse(_source(filename))
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


def table(text: str | None = None) -> tuple[dict[str, dict[str, list[str]]], dict[str, set[str]]]:
    """Section -> {operation: cells} from the operation tables; section -> assumption ids."""
    rows: dict[str, dict[str, list[str]]] = {}
    assumptions: dict[str, set[str]] = {}
    section, header = "", ""
    for line in (TABLE.read_text() if text is None else text).splitlines():
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


# -- the fields each row says are read, against the code's own reads -----------------------------------

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
TICKED = re.compile(r"`([^`]+)`")
# Where a hook reads an answer: d["key"], d.get("key"), node.xpath("a/b"), text(node, "paper/@url") ...


def _docstring(node: ast.AST) -> int | None:
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return id(body[0].value)
    return None


def _reads(function: ast.AST, constants: dict[str, set[str]]) -> set[str]:
    """The names a function reads: string constants used as keys, call arguments (``.get``, XPath,
    ``text``), compared or listed values, and the module constants it uses; split into identifiers
    when they hold no space (``"paper/@id"`` -> paper, id). Messages (f-strings, text with spaces) and
    docstrings are not reads."""
    skip = {_docstring(function)} | {
        id(value) for node in ast.walk(function) if isinstance(node, ast.JoinedStr) for value in node.values
    }
    found: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id in constants:
            found |= constants[node.id]
        values: list[ast.expr] = []
        if isinstance(node, ast.Subscript):
            values = [node.slice]
        elif isinstance(node, ast.Call):
            values = [*node.args, *(k.value for k in node.keywords)]
        elif isinstance(node, ast.Compare):
            values = [node.left, *node.comparators]
        elif isinstance(node, ast.Set | ast.Tuple | ast.List):
            values = list(node.elts)
        for value in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and id(value) not in skip:
                found.add(value.value)
    return {token for text in found if not re.search(r"\s", text) for token in IDENTIFIER.findall(text)}


def _module(path: Path) -> tuple[dict[str, list[ast.AST]], dict[str, set[str]]]:
    """A module's functions (by name; methods and functions may share one) and its constants' strings."""
    tree = ast.parse(_source(path.name))
    functions: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.setdefault(node.name, []).append(node)
    constants: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            strings = {
                c.value
                for c in ast.walk(node.value)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
            constants.update({t.id: strings for t in targets if isinstance(t, ast.Name)})
    return functions, constants


def _reachable(functions: dict[str, list[ast.AST]], names: list[str]) -> set[str]:
    """``names`` and every function of the module they call or pass on (by name), transitively."""
    seen: set[str] = set()
    todo = [name for name in names if name in functions]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for function in functions[name]:
            for node in ast.walk(function):
                used = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
                if used in functions and used not in seen:
                    todo.append(used)
    return seen


def claimed_but_not_read(text: str | None = None) -> dict[str, list[str]]:
    """Row -> the backticked names under "response fields read" that its methods never read."""
    rows, _ = table(text)
    shared, shared_constants = _module(HOOKS / "base.py")
    problems: dict[str, list[str]] = {}
    for filename, section in SECTIONS.items():
        own, constants = _module(HOOKS / filename)
        functions = {name: shared.get(name, []) + own.get(name, []) for name in {*shared, *own}}
        constants = {**shared_constants, **constants}
        for operation, cells in rows.get(section, {}).items():
            methods = [m.split("(")[0].split(".")[-1] for m in TICKED.findall(cells[1])]
            unknown = [m for m in methods if m not in functions]
            read = {
                token
                for name in _reachable(functions, methods)
                for function in functions[name]
                for token in _reads(function, constants)
            }
            claimed = {token for span in TICKED.findall(cells[5]) for token in IDENTIFIER.findall(span)}
            missing = sorted(claimed - read) + [f"method {m}()" for m in unknown]
            if missing:
                problems[f"{section} {operation}"] = missing
    return problems


def test_every_field_a_row_says_is_read_is_read_by_its_methods():
    problems = claimed_but_not_read()
    assert not problems, (
        "docs/vendor-conformance.md claims reads the code does not make (fix the row, or name the "
        f"method that reads it): {problems}"
    )


def test_the_read_check_would_catch_a_claimed_field():
    """Guards the check itself: ``thumbnailUrl`` (never read) claimed on the getList row is caught."""
    claimed = TABLE.read_text().replace(
        "| `collections`, `collectionCount`;", "| `collections`, `thumbnailUrl`;", 1
    )
    assert claimed_but_not_read(claimed) == {"Flipsnack collection.getList": ["thumbnailUrl"]}


def test_the_doctor_checks_exactly_the_listed_assumptions():
    _, assumptions = table()
    listed = {VENDOR_OF_SECTION[s]: ids for s, ids in assumptions.items()}
    checked = {vendor: {f"{vendor}.{name}" for name in names} for vendor, names in CHECK_IDS.items()}
    assert listed == checked
