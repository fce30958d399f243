"""FlippingBook's trigger routes.

``/triggers`` (scoped by ``limitTo``) and the legacy account-wide ``/webhook`` registrations; what
fires them is :mod:`.webhooks`.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request

from airflow_provider_flipbook.sandbox.core.emulator import RouteGroup
from airflow_provider_flipbook.sandbox.core.routing import route
from airflow_provider_flipbook.sandbox.flippingbook.answers import FlippingBookError
from airflow_provider_flipbook.sandbox.flippingbook.state import FB, FlippingBookState


class TriggerRoutes(RouteGroup[FlippingBookState]):
    """Registering and removing triggers.

    Registering one starts the vendor's clock (:meth:`~.webhooks.WebhookOutbox.start`).
    """

    @route("POST", f"{FB}/triggers")
    @route("POST", f"{FB}/triggers/{{tid}}")
    def trigger_save(self, request: Request, body: dict[str, Any], key: str, tid: str | None = None) -> dict:
        trigger = body.get("trigger")
        if not isinstance(trigger, dict) or not trigger.get("endpoint") or not trigger.get("events"):
            raise FlippingBookError(400, "InvalidData", "trigger.endpoint and trigger.events are required")
        if tid is not None and tid not in self.state.triggers:
            raise FlippingBookError(404, "ObjectNotFound", "Trigger not found")
        tid = tid or f"tr_{secrets.token_hex(4)}"
        self.state.triggers[tid] = trigger
        self.state.outbox.start()
        return {"id": tid}

    @route("DELETE", f"{FB}/triggers/{{tid}}")
    def trigger_delete(self, request: Request, body: dict[str, Any], key: str, tid: str) -> dict:
        if self.state.triggers.pop(tid, None) is None:
            raise FlippingBookError(404, "ObjectNotFound", "Trigger not found")
        return {"id": tid}

    @route("GET", f"{FB}/webhook")
    def webhook_list(self, request: Request, body: dict[str, Any], key: str) -> dict:
        return {"webhooks": list(self.state.webhooks.values())}

    @route("POST", f"{FB}/webhook")
    @route("POST", f"{FB}/webhook/{{tid}}")
    def webhook_save(self, request: Request, body: dict[str, Any], key: str, tid: str | None = None) -> dict:
        if not body.get("events"):
            raise FlippingBookError(400, "InvalidData", "events is required")
        tid = tid or f"wh_{secrets.token_hex(4)}"
        self.state.webhooks[tid] = {
            "name": body.get("name"),
            "endpoint": body.get("endpoint"),
            "events": body["events"],
        }
        self.state.outbox.start()
        return {"id": tid}

    @route("DELETE", f"{FB}/webhook/{{tid}}")
    def webhook_delete(self, request: Request, body: dict[str, Any], key: str, tid: str) -> dict:
        self.state.webhooks.pop(tid, None)
        return {"id": tid}
