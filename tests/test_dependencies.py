"""Every third-party package the provider imports is declared in pyproject.toml (a package that only
arrives through Airflow can vanish with an Airflow release)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
# Imported lazily, only where something else brings them: Airflow 3.1's connection forms (the FAB
# provider), the pytest plugin (pytest itself), the OpenLineage helpers (the openlineage extra).
OPTIONAL = {"flask_appbuilder", "flask_babel", "wtforms", "pytest", "openlineage"}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [
        *project["dependencies"],
        *(r for extra in project["optional-dependencies"].values() for r in extra),
    ]
    return {
        re.split(r"[<>=;\[ ~!]", r, maxsplit=1)[0].strip().lower().replace("_", "-") for r in requirements
    }


def imported() -> dict[str, set[str]]:
    """Top-level third-party modules the package imports -> the files importing them."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "airflow_provider_flipbook").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "airflow_provider_flipbook":
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_declared():
    distributions = packages_distributions()
    names = declared()
    missing = {
        module: sorted(files)
        for module, files in imported().items()
        if module not in OPTIONAL
        and module != "airflow"  # apache-airflow
        and not {d.lower().replace("_", "-") for d in distributions.get(module, [module])} & names
    }
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
