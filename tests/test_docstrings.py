"""Public methods of hooks, operators, sensors, triggers and notifiers say what each parameter is: a
docstring with ``:param name:`` for every parameter but ``**kwargs`` (the base class's arguments; an
operator's ``__init__`` in its class docstring, as Airflow documents operators, or its own). Methods marked ``@override`` are documented where they are declared.
ruff's D rules check that docstrings exist and are well formed; this checks the parameters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "airflow_provider_flipbook"
LAYERS = ("hooks", "operators", "sensors", "triggers", "notifications")
MODULES = sorted(p for layer in LAYERS for p in (PACKAGE / layer).glob("*.py") if p.name != "__init__.py")


def _decorators(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    return {d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", "") for d in function.decorator_list}


def undocumented(path: Path) -> list[str]:
    """``Class.method: missing`` for every public method whose docstring misses a parameter."""
    problems = []
    for cls in ast.parse(path.read_text()).body:
        if not isinstance(cls, ast.ClassDef) or cls.name.startswith("_"):
            continue
        for function in cls.body:
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if function.name.startswith("_") and function.name != "__init__":
                continue
            if _decorators(function) & {"override", "property", "cached_property", "setter"}:
                continue
            arguments = function.args
            names = [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]]
            names += [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
            names = [n for n in names if n not in ("self", "cls", "kwargs")]  # kwargs: the base class's
            docstring = ast.get_docstring(function)
            if function.name == "__init__":  # the class docstring (Airflow's way) or the constructor's
                docstring = "\n".join(filter(None, [ast.get_docstring(cls), docstring])) or None
            if docstring is None:
                problems.append(f"{cls.name}.{function.name}: no docstring")
                continue
            missing = [n for n in names if f":param {n}:" not in docstring]
            if missing:
                problems.append(f"{cls.name}.{function.name}: no :param: for {', '.join(missing)}")
    return problems


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_public_methods_document_every_parameter(path):
    problems = undocumented(path)
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_missing_parameter(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "class Hook:\n"
        "    def get(self, key, default=None):\n"
        '        """Read.\n\n        :param key: the key.\n        """\n'
        "    def _private(self, x): ...\n"
    )
    assert undocumented(module) == ["Hook.get: no :param: for default"]
