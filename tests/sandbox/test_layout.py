"""The sandbox's layout: one package per vendor built on one set of shared parts, small modules."""

import importlib
from pathlib import Path

import pytest

import airflow_provider_flipbook.sandbox as sandbox_package
from airflow_provider_flipbook import vendors as registry
from airflow_provider_flipbook.sandbox.core.errors import VendorError
from airflow_provider_flipbook.sandbox.core.routing import declared_routes
from airflow_provider_flipbook.sandbox.flippingbook.answers import FlippingBookError
from airflow_provider_flipbook.sandbox.flipsnack.answers import FlipsnackError
from airflow_provider_flipbook.sandbox.ipaper.answers import AsmxFault, ResultCode
from airflow_provider_flipbook.sandbox.papyrs.answers import PapyrsError

ROOT = Path(sandbox_package.__file__).parent
VENDORS = tuple(registry.VENDORS)  # the sandbox emulates every vendor the provider has


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sandbox_module_is_over_350_lines(path):
    assert len(path.read_text().splitlines()) <= 350


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_vendor_package_has_the_same_file_roles(vendor):
    """state.py (its objects), answers.py (its envelope and its errors), routes.py (the emulator), replay.py."""
    files = {path.name for path in (ROOT / vendor).glob("*.py")}
    assert {"state.py", "answers.py", "routes.py", "replay.py"} <= files, sorted(files)
    answers = importlib.import_module(f"{sandbox_package.__name__}.{vendor}.answers")
    errors = [v for v in vars(answers).values() if isinstance(v, type) and issubclass(v, VendorError)]
    assert [e for e in errors if e.__module__ == answers.__name__], f"{vendor}: no error class in answers.py"


@pytest.mark.parametrize("error", [FlippingBookError, FlipsnackError, ResultCode, AsmxFault, PapyrsError])
def test_every_vendor_error_derives_from_the_shared_base(error):
    assert issubclass(error, VendorError)


def test_every_vendor_declares_its_routes_the_same_way(flipbook_sandbox):
    emulators = flipbook_sandbox.state_store.vendors
    assert sorted(emulators) == sorted(VENDORS)
    counts = {}
    for name, emulator in emulators.items():
        routes = declared_routes(emulator)
        targets = [(r.method, r.target) for r in routes]
        assert len(targets) == len(set(targets)), f"{name} declares a route twice"
        counts[name] = len(routes)
    assert min(counts.values()) >= 9, counts  # Flipsnack, the smallest, has nine actions


def test_the_handle_keeps_the_old_name_of_the_state(flipbook_sandbox):
    assert flipbook_sandbox.sandbox is flipbook_sandbox.state_store
    assert flipbook_sandbox.server.state_store is flipbook_sandbox.state_store
