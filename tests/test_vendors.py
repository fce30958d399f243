"""The vendor registry (vendors.py) is the one list: hooks, forms and provider info follow it."""

import subprocess
import sys

import pytest

from airflow_provider_flipbook import connection_extras
from airflow_provider_flipbook.get_provider_info import get_provider_info
from airflow_provider_flipbook.hooks import hook_class
from airflow_provider_flipbook.vendors import VENDORS, publishing_types, vendor


@pytest.mark.parametrize("conn_type", sorted(VENDORS))
def test_each_hook_is_the_one_its_registry_line_names(conn_type):
    spec = vendor(conn_type)
    cls = hook_class(conn_type)
    assert f"{cls.__module__}.{cls.__name__}" == spec.hook
    assert (cls.conn_type, cls.hook_name) == (conn_type, spec.name)
    assert cls.default_conn_name == f"{conn_type}_default"
    assert cls.conn_name_attr == f"{conn_type}_conn_id"


@pytest.mark.parametrize("conn_type", sorted(VENDORS))
def test_publishing_vendors_implement_the_protocol(conn_type):
    methods = (
        "check_request",
        "publish_pdf",
        "conversion_status",
        "publication_summary",
        "find_publications",
    )
    implemented = all(callable(getattr(hook_class(conn_type), name, None)) for name in methods)
    assert implemented == (conn_type in publishing_types())


def test_an_unknown_connection_type_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="'acme' is not one of \\['flippingbook', 'flipsnack'"):
        hook_class("acme")


@pytest.mark.parametrize("conn_type", sorted(VENDORS))
def test_airflow_31_form_answers_come_from_the_registry(conn_type):
    """Airflow 3.1 asks the hook class (and reads only its own ``__dict__``); the answer is the registry's."""
    cls = hook_class(conn_type)
    assert "get_ui_field_behaviour" in cls.__dict__ and "get_connection_form_widgets" in cls.__dict__
    behaviour = cls.get_ui_field_behaviour()
    form = vendor(conn_type).form
    assert behaviour["hidden_fields"] == list(form.hidden)
    assert behaviour["relabeling"] == dict(form.relabeling)
    assert behaviour["placeholders"] == dict(form.placeholders)


def test_airflow_31_widgets_are_the_form_extras():
    pytest.importorskip(
        "flask_appbuilder", reason="Airflow 3.1's FAB UI draws widgets; 3.2+ reads conn-fields"
    )
    for conn_type in VENDORS:
        widgets = hook_class(conn_type).get_connection_form_widgets()
        assert set(widgets) == set(connection_extras.form_fields(conn_type)), conn_type


def test_provider_info_has_one_connection_type_and_hook_per_vendor():
    info = get_provider_info()
    assert [c["connection-type"] for c in info["connection-types"]] == list(VENDORS)
    assert [c["hook-class-name"] for c in info["connection-types"]] == [v.hook for v in VENDORS.values()]
    assert {i["integration-name"] for i in info["integrations"]} == {v.name for v in VENDORS.values()}


def test_registry_and_provider_info_import_no_hook():
    """Airflow reads the provider info without importing hooks (or requests, lxml, pypdf)."""
    probe = (
        "import sys; from airflow_provider_flipbook.get_provider_info import get_provider_info; "
        "get_provider_info(); "
        "print(sorted(m for m in sys.modules if m.startswith('airflow_provider_flipbook.hooks') "
        "or m.split('.')[0] in ('requests', 'lxml', 'pypdf', 'airflow')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
