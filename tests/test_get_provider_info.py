import json
from importlib import metadata
from pathlib import Path

import airflow
import jsonschema

from airflow_provider_flipbook.get_provider_info import get_provider_info
from airflow_provider_flipbook.vendors import VENDORS


def test_provider_info_validates_against_airflow_schema():
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_package_name_is_the_distribution_name():
    assert (
        get_provider_info()["package-name"]
        == metadata.distribution("airflow-provider-flipbook").metadata["Name"]
    )


def test_entry_point_is_registered():
    entry_points = metadata.entry_points(group="apache_airflow_provider")
    assert any(
        ep.value == "airflow_provider_flipbook.get_provider_info:get_provider_info" for ep in entry_points
    )


def test_airflow_discovers_the_four_connection_types():
    try:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime as Manager
    except ImportError:  # Airflow 3.1
        from airflow.providers_manager import ProvidersManager as Manager

    hooks = Manager().hooks
    for conn_type, vendor in VENDORS.items():
        assert hooks[conn_type] is not None, conn_type
        assert hooks[conn_type].hook_class_name == vendor.hook


PACKAGE = Path(__file__).resolve().parents[1] / "airflow_provider_flipbook"


def test_every_vendor_module_of_a_listed_layer_is_in_its_registry_line():
    """A vendor's own operator, sensor or trigger module (``<layer>/<conn type>.py``) is listed to
    Airflow under its integration: the registry line names it."""
    for conn_type, vendor in VENDORS.items():
        for section in ("operators", "sensors", "triggers"):
            if (PACKAGE / section / f"{conn_type}.py").exists():
                module = f"airflow_provider_flipbook.{section}.{conn_type}"
                assert module in vendor.modules.get(section, ()), (
                    f"{module}: not in vendors.py's {conn_type} line"
                )


def test_everything_the_provider_info_names_imports():
    """Every module, class and plugin the provider info lists exists (Airflow imports them by name)."""
    from importlib import import_module

    info = get_provider_info()
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                import_module(module)
    classes = [*info["notifications"], *info["extra-links"], *(p["plugin-class"] for p in info["plugins"])]
    classes += [c["hook-class-name"] for c in info["connection-types"]]
    for path in classes:
        module, _, name = path.rpartition(".")
        assert isinstance(getattr(import_module(module), name), type), path


def test_connection_forms_declare_fields_and_placeholders():
    types = {c["connection-type"]: c for c in get_provider_info()["connection-types"]}
    assert (
        types["flippingbook"]["ui-field-behaviour"]["placeholders"]["host"]
        == "https://api-tc.is.flippingbook.com"
    )
    assert types["flipsnack"]["ui-field-behaviour"]["relabeling"] == {
        "login": "API key",
        "password": "API secret",
        "host": "API base URL (optional)",
    }
    assert "upload_host" in types["flipsnack"]["conn-fields"]
    assert types["ipaper"]["ui-field-behaviour"]["placeholders"]["host"] == "https://ipaper.api.ipapercms.dk"
    assert "subsite" in types["papyrs"]["conn-fields"]
    for conn in types.values():
        assert "schema" in conn["ui-field-behaviour"]["hidden-fields"]


def test_airflow_cli_lists_the_provider_and_its_connection_types():
    import os
    import subprocess
    import sys

    airflow = Path(sys.executable).parent / "airflow"
    listed = subprocess.run(
        [str(airflow), "providers", "list"], capture_output=True, text=True, env=os.environ, check=True
    ).stdout
    assert "airflow-provider-flipbook" in listed
    hooks = subprocess.run(
        [str(airflow), "providers", "hooks"], capture_output=True, text=True, env=os.environ, check=True
    ).stdout
    for vendor in VENDORS.values():
        assert vendor.hook in hooks
