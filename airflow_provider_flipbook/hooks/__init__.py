"""Hooks, one per vendor, all on the shared transport in :mod:`.base`.

Modules are imported lazily: DAG files that only import operators never pay for lxml, pypdf or
requests-toolbelt.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from airflow_provider_flipbook.hooks.base import FlipbookBaseHook
    from airflow_provider_flipbook.hooks.publishing import PublishingHook

HOOKS = {
    "flippingbook": "airflow_provider_flipbook.hooks.flippingbook.FlippingBookHook",
    "flipsnack": "airflow_provider_flipbook.hooks.flipsnack.FlipsnackHook",
    "ipaper": "airflow_provider_flipbook.hooks.ipaper.IPaperHook",
    "papyrs": "airflow_provider_flipbook.hooks.papyrs.PapyrsHook",
}
PUBLISHING_VENDORS = ("flippingbook", "flipsnack", "ipaper")


def hook_class(conn_type: str) -> Any:
    if conn_type not in HOOKS:
        raise ValueError(f"connection type {conn_type!r} is not one of {sorted(HOOKS)}")
    module, _, name = HOOKS[conn_type].rpartition(".")
    return getattr(importlib.import_module(module), name)


def hook_for(
    conn_id: str, *, vendors: tuple[str, ...] = PUBLISHING_VENDORS, connection: Any = None
) -> FlipbookBaseHook:
    """The vendor hook for a connection id, chosen by the connection's type."""
    from airflow_provider_flipbook._compat import AirflowException, BaseHook

    connection = connection or BaseHook.get_connection(conn_id)
    if connection.conn_type not in vendors:
        raise AirflowException(
            f"Connection {conn_id!r} has type {connection.conn_type!r}; expected one of {', '.join(vendors)}"
        )
    return hook_class(connection.conn_type)(conn_id, connection=connection)


def publishing_hook(conn_id: str, *, connection: Any = None) -> PublishingHook:
    """The FlippingBook, iPaper or Flipsnack hook for a connection id, as the publishing protocol."""
    return cast("PublishingHook", hook_for(conn_id, vendors=PUBLISHING_VENDORS, connection=connection))
