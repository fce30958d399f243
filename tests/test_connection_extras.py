"""Connection extras declared once (connection_extras.py): parsing, the form, the README's table."""

import re
import sys
from pathlib import Path

import pytest

from airflow_provider_flipbook import connection_extras
from airflow_provider_flipbook.hooks import hook_class
from airflow_provider_flipbook.vendors import VENDORS


def test_the_readme_table_is_the_declarations():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = re.search(r"<!-- extras -->\n(.*?)\n<!-- /extras -->", readme, re.S)
    assert block, "README.md has no <!-- extras --> block"
    assert block.group(1) == connection_extras.markdown_table(), (
        "regenerate it from connection_extras.markdown_table()"
    )


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_null_and_blank_mean_the_default(raw):
    for extra in connection_extras.TRANSPORT:
        assert extra.parse(raw, "c") == extra.default


@pytest.mark.parametrize("raw, expected", [("false", False), ("Off", False), ("1", True), (True, True)])
def test_booleans_from_the_form_or_json(raw, expected):
    assert connection_extras.declared("papyrs")["pacing"].parse(raw, "c") is expected


def test_a_wrong_type_or_choice_names_the_extra_and_the_value():
    with pytest.raises(ValueError, match="'timeout' must be a number, got 'soon'"):
        connection_extras.declared("papyrs")["timeout"].parse("soon", "c")
    with pytest.raises(ValueError, match="'pacing_scope' must be one of process, host, redis, got 'cluster'"):
        connection_extras.declared("papyrs")["pacing_scope"].parse("cluster", "c")
    assert connection_extras.declared("ipaper")["credential_fields"].parse("PL", "c") == "pl"


def test_unknown_extras_are_reported():
    assert connection_extras.unknown("flipsnack", {"upload_host": "x", "max_retry": 3}) == ["max_retry"]


@pytest.mark.parametrize("conn_type", sorted(VENDORS))
def test_every_setting_a_hook_reads_is_declared(conn_type):
    """The hooks read extras only through setting(), which refuses an undeclared name."""
    import inspect

    source = inspect.getsource(inspect.getmodule(hook_class(conn_type)))
    # every module of the provider the hook class is built from (transport, settings, mixins)
    modules = {
        c.__module__ for c in hook_class(conn_type).__mro__ if c.__module__.startswith("airflow_provider")
    }
    base = "".join(inspect.getsource(sys.modules[name]) for name in sorted(modules))
    read = set(re.findall(r'setting\("(\w+)"\)', base))
    assert read and read <= set(connection_extras.declared(conn_type)), read - set(
        connection_extras.declared(conn_type)
    )
    assert "extras.get(" not in source, "read extras through setting(), not the raw dict"
