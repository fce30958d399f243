"""Asset URI schemes, one module per vendor, registered through the provider info's ``asset-uris``.

Each module exposes ``sanitize_uri`` (Airflow's handler), ``create_asset`` (the factory for
hook-level lineage) and ``convert_asset_to_openlineage``; the URI forms are in their docstrings and
in :mod:`.base`.
"""

from __future__ import annotations

import importlib
from typing import Any

from airflow_provider_flipbook.vendors import VENDORS

# One scheme per vendor, named as its connection type, in assets/<conn type>.py.
SCHEMES = tuple(VENDORS)


def scheme(vendor: str) -> Any:
    """Return the :class:`~.base.AssetScheme` of a vendor (its connection type)."""
    return importlib.import_module(f"{__name__}.{vendor}").SCHEME


def asset_uri_entries() -> list[dict[str, Any]]:
    """Return the provider info's ``asset-uris``: one entry per scheme."""
    return [
        {
            "schemes": [vendor],
            "handler": f"{__name__}.{vendor}.sanitize_uri",
            "factory": f"{__name__}.{vendor}.create_asset",
            "to_openlineage_converter": f"{__name__}.{vendor}.convert_asset_to_openlineage",
        }
        for vendor in SCHEMES
    ]
