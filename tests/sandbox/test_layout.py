"""The sandbox's layout: one package per vendor built on one set of shared parts, small modules, the
same file roles in every vendor package, composition instead of inheritance, successes returned."""

import importlib
import inspect
from pathlib import Path

import pytest

import airflow_provider_flipbook.sandbox as sandbox_package
from airflow_provider_flipbook import vendors as registry
from airflow_provider_flipbook.sandbox.core.emulator import RouteGroup, VendorEmulator, VendorState
from airflow_provider_flipbook.sandbox.core.errors import SuccessRaised, VendorError
from airflow_provider_flipbook.sandbox.core.routing import declared_routes
from airflow_provider_flipbook.sandbox.emulators import EMULATORS
from airflow_provider_flipbook.sandbox.flippingbook.answers import FlippingBookError
from airflow_provider_flipbook.sandbox.flipsnack.answers import FlipsnackError
from airflow_provider_flipbook.sandbox.ipaper.answers import AsmxFault, ResultCode
from airflow_provider_flipbook.sandbox.papyrs.answers import PapyrsError

ROOT = Path(sandbox_package.__file__).parent
VENDORS = tuple(registry.VENDORS)  # the sandbox emulates every vendor the provider has
CORE_BASES = (VendorState, RouteGroup, VendorEmulator, VendorError)


def vendor_modules(vendor):
    """Every module of the vendor's package, by file name."""
    return {
        path.name: importlib.import_module(f"{sandbox_package.__name__}.{vendor}.{path.stem}")
        for path in sorted((ROOT / vendor).glob("*.py"))
        if path.name != "__init__.py"
    }


def classes_of(module):
    return [c for c in vars(module).values() if inspect.isclass(c) and c.__module__ == module.__name__]


def handler_owners(module):
    """The classes of the module that declare ``@route`` handlers."""
    return [c for c in classes_of(module) if any(hasattr(m, "_routes") for m in vars(c).values())]


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sandbox_module_is_over_350_lines(path):
    assert len(path.read_text().splitlines()) <= 350


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_vendor_package_has_the_same_file_roles(vendor):
    """state.py (its objects: a VendorState), answers.py (its envelope and its errors), routes.py (the
    emulator the registry lists), replay.py (its variants from a recording); any other group of handlers
    in a routes_<area>.py (a RouteGroup the emulator holds).
    """
    modules = vendor_modules(vendor)
    assert {"state.py", "answers.py", "routes.py", "replay.py"} <= set(modules), sorted(modules)
    emulator = next(e for e in EMULATORS if e.name == vendor)
    assert emulator.__module__ == modules["routes.py"].__name__
    assert emulator.state_class.__module__ == modules["state.py"].__name__
    assert issubclass(emulator.state_class, VendorState)
    assert [e for e in classes_of(modules["answers.py"]) if issubclass(e, VendorError)], f"{vendor}: no error"
    assert callable(modules["replay.py"].options_from)
    for name, module in modules.items():
        errors = [c for c in classes_of(module) if issubclass(c, VendorError)]
        assert not errors or name == "answers.py", f"{vendor}/{name} defines errors: {errors}"
        owners = handler_owners(module)
        if name.startswith("routes_"):
            groups = [c for c in classes_of(module) if issubclass(c, RouteGroup)]
            assert groups, f"{vendor}/{name} holds no route group"
        else:
            assert name == "routes.py" or not owners, f"{vendor}/{name} declares routes: {owners}"
        for owner in owners:
            assert issubclass(owner, (RouteGroup, VendorEmulator)), owner
            assert owner is emulator or owner in emulator.route_groups, f"{owner} is not held by {emulator}"


@pytest.mark.parametrize("vendor", VENDORS)
def test_vendor_classes_compose_and_never_inherit_from_one_another(vendor):
    """A vendor class derives from one shared base (or from none of the sandbox's): no chain of vendor
    classes, as FlippingBook's state, links, reader and emulator once were.
    """
    for name, module in vendor_modules(vendor).items():
        for cls in classes_of(module):
            ours = [
                base
                for base in cls.__mro__[1:]
                if base.__module__.startswith(sandbox_package.__name__) and base not in CORE_BASES
            ]
            assert not ours, f"{vendor}/{name}: {cls.__name__} inherits {ours}"


def test_an_emulator_and_its_route_groups_hold_one_state(flipbook_sandbox):
    for name, emulator in flipbook_sandbox.state_store.vendors.items():
        assert isinstance(emulator.state, VendorState), name
        assert emulator.options is emulator.state.options, name
        assert [type(g) for g in emulator.groups] == list(emulator.route_groups), name
        assert all(group.state is emulator.state for group in emulator.groups), name


@pytest.mark.parametrize("error", [FlippingBookError, FlipsnackError, ResultCode, AsmxFault, PapyrsError])
def test_every_vendor_error_derives_from_the_shared_base(error):
    assert issubclass(error, VendorError)


@pytest.mark.parametrize(
    ("error", "success", "failure"),
    [
        (FlippingBookError, (200, "InternalError", "fine"), (404, "ObjectNotFound", "gone")),
        (FlipsnackError, (20,), (38,)),
        (ResultCode, ("SUCCESS", "Paper created."), ("ERROR", "Unknown job.")),
        (AsmxFault, (200, "OK"), (500, "Missing parameter: name.")),
        (PapyrsError, (200, "OK"), (404, "No such user")),
    ],
    ids=["FlippingBookError", "FlipsnackError", "ResultCode", "AsmxFault", "PapyrsError"],
)
def test_a_success_is_returned_never_raised(error, success, failure):
    """iPaper once answered success by raising ``ResultCode("SUCCESS")`` (33 times): no vendor error
    can carry a success now, so a handler must return it.
    """
    with pytest.raises(SuccessRaised, match="success"):
        error(*success)
    assert isinstance(error(*failure), VendorError)


def test_every_vendor_declares_its_routes_the_same_way(flipbook_sandbox):
    emulators = flipbook_sandbox.state_store.vendors
    assert sorted(emulators) == sorted(VENDORS)
    counts = {}
    for name, emulator in emulators.items():
        routes = emulator.declared()
        targets = [(r.method, r.target) for r in routes]
        assert len(targets) == len(set(targets)), f"{name} declares a route twice"
        assert len(declared_routes(emulator)) <= len(routes)
        counts[name] = len(routes)
    assert min(counts.values()) >= 9, counts  # Flipsnack, the smallest, has nine actions


def test_the_handle_keeps_the_old_name_of_the_state(flipbook_sandbox):
    assert flipbook_sandbox.sandbox is flipbook_sandbox.state_store
    assert flipbook_sandbox.server.state_store is flipbook_sandbox.state_store
