"""Provider metadata, read by Airflow through the ``apache_airflow_provider`` entry point.

Built from the vendor registry (:mod:`~airflow_provider_flipbook.vendors`): one integration, one
hook and one connection type per vendor. The connection forms (``conn-fields``,
``ui-field-behaviour``) come from :mod:`~airflow_provider_flipbook.connection_extras`, so the UI can
draw them without importing the hooks (Airflow 3.2+).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flipbook import connection_extras
from airflow_provider_flipbook.assets import asset_uri_entries
from airflow_provider_flipbook.vendors import PACKAGE, VENDORS

SECTIONS = ("operators", "sensors", "triggers")  # by integration; "notifications", "extra-links": classes


def get_provider_info() -> dict[str, Any]:
    """Return what Airflow's ProvidersManager reads: integrations, modules, extra links, connection types."""
    vendors = list(VENDORS.values())
    names = ", ".join(v.name.split()[0] for v in vendors)
    return {
        "package-name": "airflow-provider-flipbook",
        "name": f"Flipbook publishing ({names})",
        "description": "Publish PDFs as flipbooks and reports as intranet pages from Airflow, "
        "with a local sandbox of their APIs",
        "integrations": [
            {"integration-name": v.name, "external-doc-url": v.docs_url, "tags": ["service"]} for v in vendors
        ],
        "hooks": [{"integration-name": v.name, "python-modules": [v.hook_module]} for v in vendors],
        **{
            section: [
                {"integration-name": v.name, "python-modules": list(v.modules[section])}
                for v in vendors
                if v.modules.get(section)
            ]
            for section in SECTIONS
        },
        "plugins": [
            {"name": name, "plugin-class": path} for v in vendors for name, path in v.plugins.items()
        ],
        "asset-uris": asset_uri_entries(),
        "notifications": [path for v in vendors for path in v.modules.get("notifications", ())],
        "extra-links": [
            f"{PACKAGE}.links.ViewFlipbookLink",
            *(path for v in vendors for path in v.modules.get("extra-links", ())),
        ],
        "connection-types": [
            {
                "connection-type": v.conn_type,
                "hook-class-name": v.hook,
                "hook-name": v.name,
                "ui-field-behaviour": connection_extras.ui_field_behaviour(v.conn_type),
                "conn-fields": connection_extras.form_fields(v.conn_type),
            }
            for v in vendors
        ],
    }
