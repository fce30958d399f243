"""The README's import paths work: every ``from airflow_provider_flipbook... import ...`` line in its
examples imports what it names, and every module path it names in backticks exists (moving a class or a
module without updating the README fails here)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
IMPORT = re.compile(r"^\s*from (airflow_provider_flipbook[\w.]*) import ([\w, ]+)$", re.MULTILINE)
MODULE = re.compile(r"`(airflow_provider_flipbook(?:\.\w+)*)(?:\.\{([\w,]+)\})?`")


def imports() -> list[tuple[str, str]]:
    return [
        (module, name.strip())
        for module, names in IMPORT.findall(README.read_text())
        for name in names.split(",")
    ]


def modules() -> list[str]:
    found = []
    for base, alternatives in MODULE.findall(README.read_text()):
        found += [f"{base}.{part}" for part in alternatives.split(",")] if alternatives else [base]
    return found


def test_the_readme_has_examples_to_check():
    assert len(imports()) >= 8 and len(modules()) >= 8


@pytest.mark.parametrize(("module", "name"), imports())
def test_an_example_import_works(module, name):
    assert hasattr(importlib.import_module(module), name), f"README: {module} has no {name}"


@pytest.mark.parametrize("module", modules())
def test_a_named_module_exists(module):
    importlib.import_module(module)
