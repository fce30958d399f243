"""Connection extras and the connection forms built from them.

The transport's extras are declared here (:data:`TRANSPORT`), each vendor's own in its registry line
(:mod:`~airflow_provider_flipbook.vendors`). Hooks read them through :func:`declared`; the provider
info builds the connection forms from :func:`form_fields` (Airflow 3.2+), the hooks answer Airflow
3.1's form questions with :func:`form_widgets` and :func:`field_behaviour`, and a test checks the
README's table against :func:`markdown_table`.

Kept free of heavy imports: Airflow reads the provider info (and so these declarations) without
importing the hooks.

Every extra is optional. Missing, ``null`` and blank all mean "the default": Airflow's connection
form saves a field left empty as ``null``. So no form field carries a ``default`` (the form would
save and pin it): the default is the field's suggestion (``examples``) and is in its description.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flipbook.vendors import VENDORS, Extra, vendor

if TYPE_CHECKING:
    from collections.abc import Mapping

TRANSPORT: tuple[Extra, ...] = (
    Extra("timeout", float, 60.0, "Seconds to wait for each answer.", "Timeout (s)", form=True),
    Extra(
        "max_retries", int, 5, "Retries of a call on 5xx, timeouts and rate limits.", "Max retries", form=True
    ),
    Extra("retry_min_wait", float, 1.0, "First back-off wait, in seconds (exponential, with jitter)."),
    Extra("retry_max_wait", float, 60.0, "Longest back-off wait, in seconds."),
    Extra("max_retry_after", float, 300.0, "Longest wait a vendor's Retry-After may ask for, in seconds."),
    Extra("retry_deadline", float, 900.0, "Give up retrying a call after this many seconds."),
    Extra(
        "rate_limit",
        str,
        None,
        'Replaces the vendor\'s documented limit, as "calls/seconds".',
        "Rate limit",
        form=True,
        example="6/60",
    ),
    Extra("pacing", bool, True, "false turns client-side pacing off."),
    Extra(
        "pacing_scope",
        str,
        "host",
        "Who shares one credential's pacing: process, host (a locked file) or redis (every host).",
        choices=("process", "host", "redis"),
    ),
    Extra("pacing_redis_conn_id", str, "redis_default", "The Airflow Redis connection of the redis scope."),
    Extra("pacing_speed", float, 1.0, "Divides every pacing period (the sandbox sets it to its speed)."),
)


def declared(conn_type: str) -> dict[str, Extra]:
    """Every extra a connection type understands, by name: the vendor's own, then the transport's."""
    return {extra.name: extra for extra in (*vendor(conn_type).extras, *TRANSPORT)}


def unknown(conn_type: str, extras: Mapping[str, Any]) -> list[str]:
    """Extras a connection sets that its type does not understand (a typo, most likely)."""
    return sorted(set(extras) - set(declared(conn_type)))


def form_fields(conn_type: str) -> dict[str, Any]:
    """Return the ``conn-fields`` of the provider info.

    No ``default`` (the form would save and pin it): the default is the suggestion (``examples``) and
    is in the description; choices without ``null``.
    """
    fields = {}
    for extra in declared(conn_type).values():
        if not extra.form:
            continue
        kind = {float: "number", int: "integer", bool: "boolean"}.get(extra.kind, "string")
        schema: dict[str, Any] = {"type": [kind, "null"]}
        if extra.default not in (None, "") or extra.example is not None:
            schema["examples"] = [extra.default if extra.default not in (None, "") else extra.example]
        if extra.choices:
            schema["enum"] = list(extra.choices)
        fields[extra.name] = {
            "label": extra.label or extra.name,
            "description": form_help(extra),
            "schema": schema,
        }
    return fields


def form_help(extra: Extra) -> str:
    """Return an extra's help text in the form, ending with its default (or an example where it has none).

    The help text is the one place every version of the form shows the default (a box left empty means
    the default).
    """
    if extra.default not in (None, ""):
        return f"{extra.help} Default: {_shown(extra.default)}."
    if extra.example is not None:
        return f"{extra.help} For example: {_shown(extra.example)}."
    return extra.help


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def ui_field_behaviour(conn_type: str) -> dict[str, Any]:
    """Return the ``ui-field-behaviour`` of the provider info: the vendor's labels for the standard fields."""
    form = vendor(conn_type).form
    return {
        "hidden-fields": list(form.hidden),
        "relabeling": dict(form.relabeling),
        "placeholders": dict(form.placeholders),
    }


# Airflow 3.1 draws the connection form from the hook class (``get_connection_form_widgets``,
# ``get_ui_field_behaviour``; 3.2+ reads the provider info and never asks the hook). It reads only
# ``hook_class.__dict__``, so every hook class declares both methods itself; they answer with these.


def form_widgets(conn_type: str) -> dict[str, Any]:
    """Return :func:`form_fields` as the wtforms fields Airflow 3.1 draws.

    Each has its label, help text (with the default) and choices. Airflow 3.1 asks for them only where
    wtforms imports (this provider depends on it) and swaps in its own stand-ins for these names; no
    FAB widget or translation is needed.

    :param conn_type: the hook's connection type
    """
    from wtforms import IntegerField, StringField
    from wtforms.validators import Optional, any_of

    widgets: dict[str, Any] = {}
    for name, field in form_fields(conn_type).items():
        schema = field["schema"]
        validators = [Optional(), *([any_of(schema["enum"])] if "enum" in schema else [])]
        # Numbers are text fields: the hook parses them (and reads a blank one as the default).
        kind = IntegerField if "integer" in schema["type"] else StringField
        widgets[name] = kind(field["label"], validators=validators, description=field["description"])
    return widgets


def field_behaviour(conn_type: str) -> dict[str, Any]:
    """Return :func:`ui_field_behaviour` as Airflow 3.1 asks for it.

    Its form places these on the standard fields only; the extras' defaults are in their help text.

    :param conn_type: the hook's connection type
    """
    behaviour = ui_field_behaviour(conn_type)
    return {
        "hidden_fields": behaviour["hidden-fields"],
        "relabeling": behaviour["relabeling"],
        "placeholders": behaviour["placeholders"],
    }


def markdown_table() -> str:
    """Return the README's table of extras (a test keeps the README equal to it)."""
    rows = ["| Extra | Types | Type | Default | What |", "|---|---|---|---|---|"]
    owners: dict[str, list[str]] = {}
    for spec in VENDORS.values():
        for extra in spec.extras:
            owners.setdefault(extra.name, []).append(spec.conn_type)
    for extra in (*TRANSPORT, *(e for spec in VENDORS.values() for e in spec.extras)):
        default = "" if extra.default in (None, "") else f"`{extra.default}`"
        types = ", ".join(owners.get(extra.name, ["all"]))
        rows.append(f"| `{extra.name}` | {types} | {extra.kind.__name__} | {default} | {extra.help} |")
    return "\n".join(rows)
