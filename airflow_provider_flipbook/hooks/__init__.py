"""Hooks, one per vendor, all on the shared transport in :mod:`.base`; chosen by connection type.

Which hook serves which connection type is declared in the vendor registry
(:mod:`~airflow_provider_flipbook.vendors`). Modules are imported lazily: DAG files that only import
operators never pay for lxml, pypdf or requests-toolbelt.
"""

from __future__ import annotations

import importlib
import weakref
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_flipbook.vendors import publishing_types, vendor

if TYPE_CHECKING:
    from airflow_provider_flipbook.hooks.base import FlipbookBaseHook
    from airflow_provider_flipbook.hooks.publishing import PublishingHook


def hook_class(conn_type: str) -> type[FlipbookBaseHook]:
    """Return the hook class of a connection type (imports its module).

    :param conn_type: an Airflow connection type of this provider
    """
    module, _, name = vendor(conn_type).hook.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _checked_class(conn_id: str, conn_type: str | None, vendors: tuple[str, ...]) -> Any:
    from airflow_provider_flipbook._compat import AirflowException

    if conn_type is None or conn_type not in vendors:
        raise AirflowException(
            f"Connection {conn_id!r} has type {conn_type!r}; expected one of {', '.join(vendors)}"
        )
    return hook_class(conn_type)


def hook_for(
    conn_id: str, *, vendors: tuple[str, ...] | None = None, connection: Any = None
) -> FlipbookBaseHook:
    """Return the vendor hook for a connection id, chosen by the connection's type.

    :param conn_id: the Airflow connection id
    :param vendors: the connection types the caller can work with; default: the publishing ones
    :param connection: the connection, when the caller has fetched it already
    """
    from airflow_provider_flipbook._compat import BaseHook

    vendors = publishing_types() if vendors is None else vendors
    connection = connection or BaseHook.get_connection(conn_id)
    return _checked_class(conn_id, connection.conn_type, vendors)(conn_id, connection=connection)


# Hook classes (by dotted path) whose module a thread has imported already: later waits build theirs
# on the loop. (A
# module that is still being imported is in sys.modules too, and importing it again from the loop
# would block the loop on the import lock until the thread is done.)
_loaded_hooks: dict[str, type[FlipbookBaseHook]] = {}


async def ahook_for(conn_id: str, *, vendors: tuple[str, ...] | None = None) -> FlipbookBaseHook:
    """Return :func:`hook_for` in async code (a trigger).

    The connection and its extras are fetched without blocking the event loop; call the hook's methods
    through its ``acall``. Callers on one event loop share one hook per connection while any of them
    holds it and the connection is unchanged.

    :param conn_id: the Airflow connection
    :param vendors: the connection types accepted; default: the publishing ones
    """
    import asyncio

    from airflow_provider_flipbook.hooks.event_loop import provider_pool, shared_connection

    vendors = publishing_types() if vendors is None else vendors
    connection, extras = await shared_connection(conn_id)
    known = connection.conn_type in vendors and _loaded_hooks.get(vendor(connection.conn_type).hook)
    if known:
        cls: type[FlipbookBaseHook] = known
    else:  # the first use imports the vendor's module (lxml, pypdf...): in a thread, not on the loop
        cls = await asyncio.get_running_loop().run_in_executor(
            provider_pool(), _checked_class, conn_id, connection.conn_type, vendors
        )
        _loaded_hooks[vendor(str(connection.conn_type)).hook] = cls  # checked: a known type
    shared = _loop_hooks.setdefault(asyncio.get_running_loop(), weakref.WeakValueDictionary())
    hook = shared.get((conn_id, cls))
    if hook is None or hook.extras != extras or not _same_connection(hook.connection, connection):
        hook = shared[(conn_id, cls)] = cls(conn_id, connection=connection, extras=extras, on_event_loop=True)
    return hook


# The hooks that triggers on one event loop hold, one per connection id and hook class, kept only while
# a trigger holds it: a thousand waits on one account share one hook (its HTTP session, connection pool
# and pacer) instead of building a thousand, which the triggerer's garbage collector then walks.
_loop_hooks: weakref.WeakKeyDictionary[
    Any, weakref.WeakValueDictionary[tuple[str, type], FlipbookBaseHook]
] = weakref.WeakKeyDictionary()
_CONNECTION_FIELDS = ("conn_type", "host", "login", "password", "schema", "port", "extra")


def _same_connection(held: Any, fetched: Any) -> bool:
    """Whether a connection fetched again is the one a shared hook was built from."""
    return held is fetched or all(
        getattr(held, f, None) == getattr(fetched, f, None) for f in _CONNECTION_FIELDS
    )


def publishing_hook(conn_id: str, *, connection: Any = None) -> PublishingHook:
    """Return the hook of a publishing vendor (FlippingBook, iPaper, Flipsnack...) as the publishing protocol.

    :param conn_id: the Airflow connection id
    :param connection: the connection, when the caller has fetched it already
    """
    return cast("PublishingHook", hook_for(conn_id, vendors=publishing_types(), connection=connection))
