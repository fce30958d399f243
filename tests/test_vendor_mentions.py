"""Every vendor is named, in code, only in its own modules and the two registries (issue 23's target:
at most 3 others), by ``scripts/vendor_mentions.py``'s measure; and that measure sees every way of
naming a vendor, so it cannot pass by looking away."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from airflow_provider_flipbook.vendors import VENDORS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "airflow_provider_flipbook"
REGISTRIES = {"vendors.py", "sandbox/emulators.py"}
LEFT: dict[str, set[str]] = {}  # none left: every vendor is named only in its own modules and the registries


def _script():
    spec = importlib.util.spec_from_file_location("vendor_mentions", ROOT / "scripts" / "vendor_mentions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def measure():
    return _script()


def test_the_measure_counts_every_registered_vendor(measure):
    assert set(measure.VENDORS) == set(VENDORS)


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_a_vendor_is_named_only_in_its_own_modules_and_the_registries(measure, vendor):
    where = set(measure.mentions(PACKAGE)[vendor])
    assert len(where) <= 3, f"{vendor} is named in {len(where)} other modules: {sorted(where)}"
    stray = where - REGISTRIES - LEFT.get(vendor, set())
    assert not stray, (
        f"{vendor} is named in {sorted(stray)}: put the code in {vendor}'s own module of that layer "
        f"(<layer>/{vendor}.py) or derive it from the registry (vendors.py)"
    )


NAMING = {
    "constant.py": 'KIND = "flippingbook"\n',
    "dotted.py": 'HOOK = "pkg.hooks.flippingbook.FlippingBookHook"\n',
    "absolute_import.py": "import pkg.hooks.flippingbook\n",
    "from_import.py": "from pkg.hooks.flippingbook import FlippingBookHook\n",
    "relative_import.py": "from .flippingbook import Thing\n",
    "module_import.py": "from . import flippingbook\n",
    "reexport.py": "from pkg.hooks import FlippingBookHook\n",
    "class_name.py": "class OpenFlippingBookLink:\n    pass\n",
    "function_name.py": "def flippingbook_status():\n    return 1\n",
    "argument.py": "def f(flippingbook_conn_id):\n    return flippingbook_conn_id\n",
    "attribute.py": "def f(creds):\n    return creds.flippingbook_key\n",
    "keyword.py": "def f(g):\n    return g(flippingbook_conn_id=1)\n",
}
NOT_NAMING = {
    "docstring.py": '"""Works with flippingbook, FlippingBook and pkg.hooks.flippingbook."""\n',
    "comment.py": "X = 1  # flippingbook\n",
    "message.py": 'ERROR = "the FlippingBook API refused it"\n',
    "other.py": 'KIND = "flipsnack"\n',
    "flippingbook.py": 'KIND = "flippingbook"\n',  # its own: by name
    "_flippingbook_wire.py": 'KIND = "flippingbook"\n',
}


def test_the_measure_sees_every_way_of_naming_and_nothing_else(measure, tmp_path):
    for name, code in {**NAMING, **NOT_NAMING}.items():
        (tmp_path / name).write_text(code)
    (tmp_path / "flippingbook").mkdir()
    (tmp_path / "flippingbook" / "routes.py").write_text('KIND = "flippingbook"\n')  # its own package
    assert sorted(measure.mentions(tmp_path)["flippingbook"]) == sorted(NAMING)
    for name in NAMING:
        assert measure.named(ast.parse(NAMING[name]), "flippingbook"), name
