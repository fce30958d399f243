"""Connection extras, declared once: the hooks read them from here, the provider info builds the
connection forms from here, and a test checks the README's table against :func:`markdown_table`.

Kept free of heavy imports: Airflow reads the provider info (and so these declarations) without
importing the hooks.

Every extra is optional. Missing, ``null`` and blank all mean "the default": Airflow's connection
form saves a field left empty as ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KIND_NAMES = {float: "a number", int: "an integer", str: "text", bool: "true or false"}


@dataclass(frozen=True)
class Extra:
    """One connection extra: its name, type, default and help; ``form`` puts it in the UI form."""

    name: str
    kind: type
    default: Any
    help: str
    label: str = ""
    choices: tuple[str, ...] = ()
    form: bool = False
    example: Any = None  # the form's suggestion where there is no default

    def parse(self, raw: Any, conn_id: str) -> Any:
        """The extra's value from a connection's JSON, typed; ``ValueError`` naming it if unusable."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return self.default
        value = raw.strip() if isinstance(raw, str) else raw
        try:
            if self.kind is bool:
                if isinstance(value, bool):
                    return value
                if str(value).lower() in ("true", "1", "yes", "on"):
                    return True
                if str(value).lower() in ("false", "0", "no", "off"):
                    return False
                raise ValueError(value)
            typed = self.kind(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"Connection {conn_id!r}: extra {self.name!r} must be {KIND_NAMES[self.kind]}, got {raw!r}"
            ) from None
        if self.choices and str(typed).lower() not in self.choices:
            raise ValueError(
                f"Connection {conn_id!r}: extra {self.name!r} must be one of {', '.join(self.choices)}, got {raw!r}"
            )
        return str(typed).lower() if self.choices else typed


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

VENDOR: dict[str, tuple[Extra, ...]] = {
    "flippingbook": (
        Extra(
            "webhook_token",
            str,
            None,
            "The secret last segment of this connection's webhook receiver URL (32+ characters); "
            "unset: no receiver.",
        ),
        Extra(
            "webhook_asset",
            str,
            None,
            "Name of the asset the webhook receiver records events to; unset: flippingbook_webhooks.<conn id>.",
        ),
    ),
    "flipsnack": (
        Extra(
            "upload_host",
            str,
            None,
            "Host of collection.create uploads. Unset: derived from the host (api.example.com gives "
            "upload.example.com; the sandbox's .../flipsnack gives .../flipsnack-upload); any other "
            "host needs it.",
            "Upload host",
            form=True,
            example="https://upload.flipsnack.com",
        ),
        Extra(
            "processing_poll_interval",
            float,
            10.0,
            "Seconds between tries of a call refused while the collection converts (code 38).",
        ),
        Extra(
            "processing_timeout",
            float,
            3600.0,
            "Give up waiting for a converting collection after this many seconds.",
        ),
    ),
    "ipaper": (
        Extra(
            "viewer_base_url",
            str,
            "",
            "Your iPaper viewer's address, put before a paper's path (/demos/21/); iPaper's API gives "
            "only the path. Unset: tasks show no flipbook link.",
            "Viewer base URL",
            form=True,
            example="https://<account>.ipapercms.dk",
        ),
        Extra(
            "root_paper_id",
            int,
            None,
            "The account's top category; looked up as the paper at URL / when unset.",
            "Root category id",
            form=True,
        ),
        Extra(
            "credential_fields",
            str,
            "all",
            "Which form fields carry the login: all, pl or plain.",
            "Credential fields",
            choices=("all", "pl", "plain"),
            form=True,
        ),
        Extra(
            "processing_appear_timeout",
            float,
            300.0,
            "Seconds after which a GUID-less upload that changed nothing counts as failed.",
        ),
    ),
    "papyrs": (
        Extra(
            "subsite",
            str,
            "home",
            "Subsite of page calls; site-wide calls leave it out.",
            "Subsite",
            form=True,
        ),
        Extra(
            "page_folder_field",
            str,
            "category",
            "How a new page's folder is sent (undocumented): category (the folder path) or folder_id.",
            choices=("category", "folder_id"),
        ),
    ),
}


def declared(conn_type: str) -> dict[str, Extra]:
    """Every extra a connection type understands, by name: the vendor's own, then the transport's."""
    return {extra.name: extra for extra in (*VENDOR[conn_type], *TRANSPORT)}


def unknown(conn_type: str, extras: Mapping[str, Any]) -> list[str]:
    """Extras a connection sets that its type does not understand (a typo, most likely)."""
    return sorted(set(extras) - set(declared(conn_type)))


def form_fields(conn_type: str) -> dict[str, Any]:
    """The ``conn-fields`` of the provider info: no ``default`` (the form would save and pin it), the
    default as the suggestion (``examples``) and in the description; choices without ``null``."""
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
        described = (
            f"{extra.help} Default: {extra.default}." if extra.default not in (None, "") else extra.help
        )
        fields[extra.name] = {"label": extra.label or extra.name, "description": described, "schema": schema}
    return fields


def markdown_table() -> str:
    """The README's table of extras (a test keeps the README equal to it)."""
    rows = ["| Extra | Types | Type | Default | What |", "|---|---|---|---|---|"]
    owners: dict[str, list[str]] = {}
    for conn_type, extras in VENDOR.items():
        for extra in extras:
            owners.setdefault(extra.name, []).append(conn_type)
    for extra in (*TRANSPORT, *(e for extras in VENDOR.values() for e in extras)):
        default = "" if extra.default in (None, "") else f"`{extra.default}`"
        types = ", ".join(owners.get(extra.name, ["all"]))
        rows.append(f"| `{extra.name}` | {types} | {extra.kind.__name__} | {default} | {extra.help} |")
    return "\n".join(rows)
