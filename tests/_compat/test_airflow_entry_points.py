"""Every way Airflow itself reaches our hooks: ``HookClass(**{conn_name_attr: conn_id})``, ``airflow
connections test``, the REST endpoint behind the UI's Test button, ``airflow providers hooks``, and
connections as the UI form saves them (empty fields as ``null``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_flipbook.connection_extras import declared, form_help
from airflow_provider_flipbook.hooks import hook_class
from airflow_provider_flipbook.vendors import VENDORS

AIRFLOW = str(Path(sys.executable).parent / "airflow")
TYPES = tuple(VENDORS)
# Exactly what the connection form saves for the extra fields left empty (3.3: `null`; text fields
# cleared by hand: `""`); the sandbox's own URLs are kept where the form would hold them.
FORM_NULLS = {
    "flippingbook": {"timeout": None, "max_retries": None, "rate_limit": None},
    "flipsnack": {"upload_host": None, "timeout": None, "max_retries": None, "rate_limit": None},
    "ipaper": {
        "viewer_base_url": None,
        "credential_fields": None,
        "timeout": None,
        "max_retries": None,
        "rate_limit": None,
    },
    "papyrs": {"subsite": None, "timeout": None, "max_retries": None, "rate_limit": None},
}
FORM_BLANKS = {conn_type: dict.fromkeys(extras, "") for conn_type, extras in FORM_NULLS.items()}


def form_connection(sandbox: Any, conn_type: str, extras: dict[str, Any], **override: Any) -> dict[str, Any]:
    conn = dict(sandbox.connections()[conn_type], **override)
    conn["extra"] = {**extras, "pacing_speed": conn["extra"]["pacing_speed"]}
    return conn


@pytest.mark.parametrize("conn_type", TYPES)
def test_hooks_are_built_the_way_airflow_builds_them(conn_type):
    cls = hook_class(conn_type)
    assert cls(**{cls.conn_name_attr: "mine"}).conn_id == "mine"
    assert getattr(cls(**{cls.conn_name_attr: "mine"}), cls.conn_name_attr) == "mine"
    assert cls("mine").conn_id == cls(conn_id="mine").conn_id == "mine"
    assert cls().conn_id == cls.default_conn_name
    with pytest.raises(TypeError, match="unexpected keyword arguments: colour"):
        cls(colour="blue")
    with pytest.raises(TypeError, match="differ"):
        cls("one", **{cls.conn_name_attr: "two"})


@pytest.mark.parametrize("conn_type", TYPES)
@pytest.mark.parametrize("extras", [FORM_NULLS, FORM_BLANKS], ids=["null", "blank"])
def test_form_saved_connections_use_the_defaults(sandbox, monkeypatch, conn_type, extras):
    monkeypatch.setenv(
        "AIRFLOW_CONN_FORM_SAVED", json.dumps(form_connection(sandbox, conn_type, extras[conn_type]))
    )
    cls = hook_class(conn_type)
    hook = cls(**{cls.conn_name_attr: "form_saved"})
    assert (hook.timeout, hook.max_retries, hook.limits) == (60.0, 5, cls("form_saved").limits)
    assert hook.limits == tuple(
        limit.scaled(hook.setting("pacing_speed") / 1.02) for limit in cls.default_limits
    )
    ok, message = hook.test_connection()
    assert ok, message
    if conn_type == "ipaper":
        assert set(hook.credentials()) == {"plUsername", "plPassword", "username", "password"}
    if conn_type == "flipsnack":
        assert hook.upload_url == sandbox.url + "/flipsnack-upload"  # derived from its host
    if conn_type == "papyrs":
        assert hook.subsite == "home"


def test_unknown_credential_fields_fail_clearly_before_any_call(sandbox, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_FORM_SAVED",
        json.dumps(form_connection(sandbox, "ipaper", {"credential_fields": "null"})),
    )
    ok, message = hook_class("ipaper")("form_saved").test_connection()
    assert not ok and "credential_fields" in message and "'null'" in message
    assert sandbox.requests("ipaper") == []


# -- through Airflow's own entry points, in a separate process as a user would run them -------------


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__TEST_CONNECTION="Enabled",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__API_AUTH__JWT_ISSUER="flipbook-tests",
        AIRFLOW__API_AUTH__JWT_SECRET="flipbook-tests-jwt-secret-0123456789",
    )
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


def test_cli_connection_test_succeeds_with_form_saved_connections(sandbox, airflow_env):
    """One process per type: `airflow connections test` against the sandbox, extras as the form saves them."""
    for conn_type in TYPES:
        env = dict(
            airflow_env,
            AIRFLOW_CONN_FORM_SAVED=json.dumps(form_connection(sandbox, conn_type, FORM_NULLS[conn_type])),
        )
        done = run([AIRFLOW, "connections", "test", "form_saved"], env)
        assert done.returncode == 0 and "Connection success!" in done.stdout, (
            conn_type,
            done.stdout,
            done.stderr,
        )


def test_cli_connection_test_fails_clearly_with_wrong_credentials(sandbox, airflow_env):
    env = dict(
        airflow_env,
        AIRFLOW_CONN_WRONG=json.dumps(
            form_connection(sandbox, "flippingbook", FORM_NULLS["flippingbook"], password="not-the-key")
        ),
    )
    done = run([AIRFLOW, "connections", "test", "wrong"], env)
    assert "Connection failed!" in done.stdout and "FlippingBook" in done.stdout, done.stdout
    assert "not-the-key" not in done.stdout + done.stderr


REST_SCRIPT = """
import json, sys
from fastapi.testclient import TestClient
from airflow.api_fastapi.app import create_app, get_auth_manager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

client = TestClient(create_app())
token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="tester", role="admin"))
results = [client.post("/api/v2/connections/test", json=body, headers={"Authorization": f"Bearer {token}"})
           for body in json.loads(sys.argv[1])]
print(json.dumps([[r.status_code, r.json()] for r in results]))
"""


def test_rest_test_endpoint_behind_the_ui_button(sandbox, airflow_env):
    """``POST /api/v2/connections/test`` on Airflow's own API app: each type right, then wrong credentials."""
    bodies = []
    for conn_type in TYPES:
        conn = form_connection(sandbox, conn_type, FORM_NULLS[conn_type])
        body = {
            "connection_id": f"{conn_type}_form",
            "conn_type": conn_type,
            "host": conn["host"],
            "login": conn.get("login"),
            "password": conn["password"],
            "extra": json.dumps(conn["extra"]),
        }
        bodies += [body, dict(body, password="wrong-" + conn["password"][:4])]
    done = run([sys.executable, "-c", REST_SCRIPT, json.dumps(bodies)], airflow_env)
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    for conn_type, (right, wrong) in zip(TYPES, zip(answers[::2], answers[1::2], strict=True), strict=True):
        assert right[0] == 200 and right[1]["status"] is True, (conn_type, right)
        assert wrong[0] == 200 and wrong[1]["status"] is False, (conn_type, wrong)
        assert hook_class(conn_type).vendor in wrong[1]["message"], (conn_type, wrong)


def test_cli_lists_the_four_hooks(airflow_env):
    done = run([AIRFLOW, "providers", "hooks", "-o", "json"], airflow_env)
    assert done.returncode == 0, done.stderr
    listed = {row["connection_type"]: row for row in json.loads(done.stdout)}
    for conn_type in TYPES:
        cls = hook_class(conn_type)
        assert listed[conn_type]["class"] == f"{cls.__module__}.{cls.__name__}"
        assert listed[conn_type]["conn_id_attribute_name"] == cls.conn_name_attr


FORM_SCRIPT = """
import importlib.util, json, sys, types

if sys.argv[1] == "3.1" and importlib.util.find_spec("wtforms") is None:
    # Without FAB installed, Airflow 3.1 draws no extra fields at all; with it, it swaps these names for
    # its own stand-ins before asking the hooks. Empty modules let it do that here.
    for name, attrs in {"wtforms": ["StringField", "IntegerField", "PasswordField", "BooleanField"],
                        "wtforms.fields": ["StringField", "IntegerField", "BooleanField"],
                        "wtforms.fields.simple": ["StringField", "BooleanField"],
                        "wtforms.validators": ["Optional", "any_of"], "flask_babel": ["lazy_gettext"],
                        "flask_appbuilder": [], "flask_appbuilder.fieldwidgets":
                            ["BS3TextFieldWidget", "BS3TextAreaFieldWidget", "BS3PasswordFieldWidget"]}.items():
        sys.modules[name] = types.ModuleType(name)
        for attr in attrs:
            setattr(sys.modules[name], attr, None)
    sys.modules["wtforms"].fields = sys.modules["wtforms.fields"]
    sys.modules["wtforms"].validators = sys.modules["wtforms.validators"]

from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

print(json.dumps({m.connection_type: m.model_dump(mode="json") for m in HookMetaService.hook_meta_data()
                  if m.connection_type in sys.argv[2:]}))
"""


def test_connection_forms_as_the_ui_gets_them(airflow_env):
    """The form metadata the UI reads (``/ui/connections/hook_meta``), on this Airflow: 3.1 from the hooks'
    methods, 3.2+ from ``conn-fields``. Relabelled and hidden fields, extras with suggestions, no null choice."""
    from airflow_provider_flipbook._compat import READS_CONN_FIELDS

    done = run(
        [sys.executable, "-c", FORM_SCRIPT, "3.2+" if READS_CONN_FIELDS else "3.1", *TYPES], airflow_env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    forms = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(forms) == set(TYPES)
    assert forms["flipsnack"]["standard_fields"]["login"]["title"] == "API key"
    assert forms["flippingbook"]["standard_fields"]["login"]["hidden"] is True
    assert forms["papyrs"]["standard_fields"]["host"]["placeholder"] == "https://<site>.papyrs.com"
    expected = {
        "flippingbook": set(),
        "flipsnack": {"upload_host"},
        "ipaper": {"viewer_base_url", "credential_fields", "root_paper_id"},
        "papyrs": {"subsite"},
    }
    for conn_type, form in forms.items():
        extras = form["extra_fields"]
        assert set(extras) == expected[conn_type] | {"timeout", "max_retries", "rate_limit"}, conn_type
        for name, field in extras.items():
            assert field["value"] is None, (conn_type, name)  # nothing pinned: empty means the default
            # The default (or an example) is in the help text under the box, on every version.
            shown = field.get("description") or field["schema"].get("description")
            assert shown == form_help(declared(conn_type)[name]), (conn_type, name, field)
            assert None not in (field["schema"].get("enum") or []), (conn_type, name)
    timeout = forms["papyrs"]["extra_fields"]["timeout"]
    assert (timeout.get("description") or timeout["schema"]["description"]).endswith("Default: 60.")
    credential_fields = forms["ipaper"]["extra_fields"]["credential_fields"]["schema"]
    assert credential_fields["enum"] == ["all", "pl", "plain"]
    if READS_CONN_FIELDS:
        assert forms["flipsnack"]["extra_fields"]["upload_host"]["schema"]["examples"] == [
            "https://upload.flipsnack.com"
        ]
        assert forms["papyrs"]["extra_fields"]["subsite"]["schema"]["examples"] == ["home"]
