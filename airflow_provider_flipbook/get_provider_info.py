"""Provider metadata, read by Airflow through the ``apache_airflow_provider`` entry point.

Connection forms are declared here (``conn-fields``, ``ui-field-behaviour``), so the UI can draw
them without importing the hooks (Airflow 3.2+). Airflow 3.1 asks the hooks instead
(``get_connection_form_widgets``, ``get_ui_field_behaviour``); they build their answer from this.

The form saves a field left empty as ``null``, and the hooks read ``null`` as "use the default".
So no field carries a ``default`` (it would be saved and pinned); the default is shown as the
field's suggestion (``examples``, a drop-down on text fields) and in its description. Choice fields
list only real choices: clearing one saves ``null``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flipbook import connection_extras
from airflow_provider_flipbook.assets import asset_uri_entries

PACKAGE = "airflow_provider_flipbook"


def _connection(conn_type: str, hook: str, name: str, behaviour: dict[str, Any]) -> dict[str, Any]:
    return {
        "connection-type": conn_type,
        "hook-class-name": f"{PACKAGE}.hooks.{conn_type}.{hook}",
        "hook-name": name,
        "ui-field-behaviour": behaviour,
        "conn-fields": connection_extras.form_fields(
            conn_type
        ),  # the extras, declared once in connection_extras.py
    }


def connection_type(conn_type: str) -> dict[str, Any]:
    """One entry of ``connection-types``: what the hooks' form methods answer on Airflow 3.1."""
    return next(c for c in get_provider_info()["connection-types"] if c["connection-type"] == conn_type)


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-flipbook",
        "name": "Flipbook publishing (FlippingBook, Flipsnack, iPaper, Papyrs)",
        "description": "Publish PDFs as flipbooks and reports as intranet pages from Airflow, "
        "with a local sandbox of all four APIs",
        "integrations": [
            {"integration-name": name, "external-doc-url": url, "tags": ["service"]}
            for name, url in (
                ("FlippingBook Online", "https://apidocs.flippingbook.com/"),
                ("Flipsnack", "https://developers.flipsnack.com/"),
                ("iPaper", "https://docs.ipaper.io/"),
                ("Papyrs", "https://about.papyrs.com/@docs/API"),
            )
        ],
        "hooks": [
            {"integration-name": "FlippingBook Online", "python-modules": [f"{PACKAGE}.hooks.flippingbook"]},
            {"integration-name": "Flipsnack", "python-modules": [f"{PACKAGE}.hooks.flipsnack"]},
            {"integration-name": "iPaper", "python-modules": [f"{PACKAGE}.hooks.ipaper"]},
            {"integration-name": "Papyrs", "python-modules": [f"{PACKAGE}.hooks.papyrs"]},
        ],
        "operators": [
            {
                "integration-name": "FlippingBook Online",
                "python-modules": [f"{PACKAGE}.operators.upload", f"{PACKAGE}.operators.flippingbook"],
            },
            {"integration-name": "Papyrs", "python-modules": [f"{PACKAGE}.operators.papyrs"]},
        ],
        "sensors": [
            {"integration-name": "FlippingBook Online", "python-modules": [f"{PACKAGE}.sensors.conversion"]},
            {"integration-name": "Flipsnack", "python-modules": [f"{PACKAGE}.sensors.flipsnack"]},
        ],
        "triggers": [
            {"integration-name": "FlippingBook Online", "python-modules": [f"{PACKAGE}.triggers.conversion"]},
            {"integration-name": "Flipsnack", "python-modules": [f"{PACKAGE}.triggers.flipsnack"]},
        ],
        "plugins": [
            {
                "name": "flipbook_webhooks",
                "plugin-class": f"{PACKAGE}.plugins.webhooks.FlipbookWebhooksPlugin",
            }
        ],
        "asset-uris": asset_uri_entries(),
        "extra-links": [f"{PACKAGE}.links.ViewFlipbookLink", f"{PACKAGE}.links.OpenPapyrsPageLink"],
        "connection-types": [
            _connection(
                "flippingbook",
                "FlippingBookHook",
                "FlippingBook Online",
                {
                    "hidden-fields": ["schema", "login", "port"],
                    "relabeling": {"password": "API key", "host": "API base URL (optional)"},
                    "placeholders": {
                        "host": "https://api-tc.is.flippingbook.com",
                        "password": "FlippingBook API key",
                    },
                },
            ),
            _connection(
                "flipsnack",
                "FlipsnackHook",
                "Flipsnack",
                {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "login": "API key",
                        "password": "API secret",
                        "host": "API base URL (optional)",
                    },
                    "placeholders": {
                        "host": "https://api.flipsnack.com",
                        "login": "Flipsnack API key",
                        "password": "Flipsnack API secret key",
                        "upload_host": "https://upload.flipsnack.com",
                    },
                },
            ),
            _connection(
                "ipaper",
                "IPaperHook",
                "iPaper",
                {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "login": "User e-mail or APIKey",
                        "password": "Password or API key",
                        "host": "API base URL (optional)",
                    },
                    "placeholders": {
                        "host": "https://ipaper.api.ipapercms.dk",
                        "login": "APIKey",
                        "viewer_base_url": "https://<account>.ipapercms.dk",
                    },
                },
            ),
            _connection(
                "papyrs",
                "PapyrsHook",
                "Papyrs",
                {
                    "hidden-fields": ["schema", "login", "port"],
                    "relabeling": {"host": "Site URL", "password": "API token"},
                    "placeholders": {
                        "host": "https://<site>.papyrs.com",
                        "password": "Papyrs API token",
                        "subsite": "home",
                    },
                },
            ),
        ],
    }
