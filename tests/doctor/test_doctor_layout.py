"""The doctor's shape: checks are plain functions found through the vendor registry, never by building
names from strings; no class over 200 lines, no module over 800."""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_provider_flipbook.doctor as doctor_package
from airflow_provider_flipbook.doctor.cli import VENDOR_CHECKS
from airflow_provider_flipbook.vendors import VENDORS

MODULES = sorted(Path(doctor_package.__file__).parent.glob("*.py"))


def test_no_check_is_found_by_a_name_built_from_a_string():
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            called = getattr(node.func, "id", None)
            built = called == "getattr" and not isinstance(node.args[1], ast.Constant)
            assert not built and called not in ("eval", "exec"), f"{path.name}:{node.lineno} builds a name"


def test_no_class_over_200_lines_and_no_module_over_800():
    for path in MODULES:
        text = path.read_text()
        assert len(text.splitlines()) <= 800, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                assert (node.end_lineno or 0) - node.lineno < 200, (path.name, node.name)


def test_every_vendor_of_the_registry_has_its_checks():
    assert set(VENDOR_CHECKS) == set(VENDORS)
    for name, module in VENDOR_CHECKS.items():
        assert module.__name__ == VENDORS[name].doctor
        assert module.CHECKS and all(callable(check) for check in module.CHECKS)
        assert callable(module.credentials_refused) and isinstance(module.Account, type)
        assert callable(module.account_refused)
