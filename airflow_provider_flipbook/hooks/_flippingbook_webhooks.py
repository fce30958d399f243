"""FlippingBook's webhook triggers.

Create, update and delete them, and register this connection's receiver for chosen events (mixed into
:class:`~airflow_provider_flipbook.hooks.flippingbook.FlippingBookHook`, which owns the transport). The
receiver (:mod:`airflow_provider_flipbook.plugins.flippingbook`) and this module share where it lives
and what it records to.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from airflow_provider_flipbook._compat import mask_secret
from airflow_provider_flipbook.exceptions import InvalidInputError, NotFoundError
from airflow_provider_flipbook.hooks._flippingbook_wire import FB, HookPart

#: Where the API server mounts the webhook receiver.
WEBHOOK_URL_PREFIX = "/flipbook-webhooks"
#: The shortest ``webhook_token`` the receiver accepts.
MIN_TOKEN_LENGTH = 32


def webhook_path(conn_id: str, token: str) -> str:
    """Return the receiver's path on the API server (append it to the server's public base URL).

    :param conn_id: the FlippingBook connection
    :param token: its extra ``webhook_token``
    """
    return f"{WEBHOOK_URL_PREFIX}/flippingbook/{conn_id}/{token}"


def webhook_asset_name(conn_id: str, configured: str | None = None) -> str:
    """Name the asset a connection's webhook receiver records to.

    :param conn_id: the FlippingBook connection
    :param configured: its extra ``webhook_asset``; unset: ``flippingbook_webhooks.<conn id>``
    """
    return configured or f"flippingbook_webhooks.{conn_id}"


# Trigger events: the README's current names, then the 2019 names (still accepted, fire as registered).
TRIGGER_EVENTS = (
    *(
        "lead",
        "session",
        "notViewedUntil",
        "print",
        "created",
        "updated",
        "deleted",
        "convertationFailed",
        "link",
    ),
    *(
        "PublicationCreatedCompleted",
        "PublicationUpdatedCompleted",
        "PublicationCompleted",
        "PublicationFailed",
    ),
    *("PublicationDeleted", "page", "download", "TrackedPublicationLink-session"),
    *("TrackedPublicationLink-notViewedUntil", "TrackedPublicationLink-download"),
)
# Events that can concern a tracked link: their triggers are bound to links too (``triggerOn``).
LINK_TRIGGER_EVENTS = {
    *("session", "notViewedUntil", "link", "TrackedPublicationLink-session"),
    *("TrackedPublicationLink-notViewedUntil", "TrackedPublicationLink-download"),
}


class WebhookTriggers(HookPart):
    """The trigger calls and the webhook registration, on the hook's ``call``."""

    def create_trigger(
        self, endpoint: str, events: list[str], trigger_on: list[str], limit_to: dict[str, str] | None = None
    ) -> str:
        """``POST /fbonline/triggers``: a webhook trigger; returns its id. Not resent once it may have arrived.

        :param endpoint: the URL the vendor POSTs events to.
        :param events: event names, e.g. ``["created", "convertationFailed"]``.
        :param trigger_on: ``["publication"]`` or ``["trackedlink"]``.
        :param limit_to: ``{"parentObject", "parentObjectId"}``; None: every object of the account.
        """
        body = {
            "trigger": {"endpoint": endpoint, "events": events, "triggerOn": trigger_on, "limitTo": limit_to}
        }
        return self.call("POST", f"{FB}/triggers", json=body, operation="trigger.create", creates=True)["id"]

    def update_trigger(
        self,
        trigger_id: str,
        endpoint: str,
        events: list[str],
        trigger_on: list[str],
        limit_to: dict[str, str] | None = None,
    ) -> str:
        """``POST /fbonline/triggers/{id}``: replace a trigger's settings; returns its id.

        :param trigger_id: the trigger.
        :param endpoint: the URL the vendor POSTs events to.
        :param events: event names.
        :param trigger_on: ``["publication"]`` or ``["trackedlink"]``.
        :param limit_to: ``{"parentObject", "parentObjectId"}``; None: every object of the account.
        """
        body = {
            "trigger": {"endpoint": endpoint, "events": events, "triggerOn": trigger_on, "limitTo": limit_to}
        }
        return self.call("POST", f"{FB}/triggers/{trigger_id}", json=body, operation="trigger.update")["id"]

    def delete_trigger(self, trigger_id: str) -> None:
        """``DELETE /fbonline/triggers/{id}``.

        :param trigger_id: the trigger.
        """
        self.call("DELETE", f"{FB}/triggers/{trigger_id}", operation="trigger.delete")

    # -- webhooks into Airflow (the receiver in airflow_provider_flipbook.plugins.flippingbook) ----------

    def webhook_receiver_url(self, api_base_url: str) -> str:
        """Return this connection's receiver URL on the Airflow API server (it holds the ``webhook_token``).

        :param api_base_url: the API server's base URL as FlippingBook reaches it, e.g.
            ``https://airflow.example.com``
        """
        token = str(self.setting("webhook_token") or "")
        if len(token) < MIN_TOKEN_LENGTH:
            raise InvalidInputError(
                f"Connection {self.conn_id!r}: set the extra webhook_token to {MIN_TOKEN_LENGTH}+ random "
                "characters (flipbook-webhooks token prints one) before registering a webhook"
            )
        parts = urlsplit(api_base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise InvalidInputError(f"api_base_url must be an http(s) URL without query: {api_base_url!r}")
        url = api_base_url.rstrip("/") + webhook_path(self.conn_id, token)
        mask_secret(url)
        return url

    def register_webhook(
        self, api_base_url: str, events: list[str], *, publication_id: str | None = None
    ) -> str:
        """Register a FlippingBook trigger that POSTs ``events`` to this connection's receiver; returns its id.

        :param api_base_url: the Airflow API server's base URL, as FlippingBook reaches it
        :param events: vendor event names (``created``, ``updated``, ``convertationFailed``, ``deleted``,
            ``session``, ``notViewedUntil``, ``lead``, ``print``, ``link``; the 2019 names too)
        :param publication_id: limit the trigger to one publication (and its tracked links); None:
            account-wide
        """
        unknown = [e for e in events if e not in TRIGGER_EVENTS]
        if not events or unknown:
            raise InvalidInputError(
                f"events must be a non-empty list of {', '.join(TRIGGER_EVENTS)}; unknown: {unknown}"
            )
        endpoint = self.webhook_receiver_url(api_base_url)
        trigger_on = ["publication", "trackedlink"] if set(events) & LINK_TRIGGER_EVENTS else ["publication"]
        limit_to = (
            {"parentObject": "publication", "parentObjectId": publication_id} if publication_id else None
        )
        return self.create_trigger(endpoint, list(events), trigger_on, limit_to)

    def remove_webhook(self, trigger_id: str) -> bool:
        """Delete a trigger registered with :meth:`register_webhook`; False if it was already gone.

        :param trigger_id: the id :meth:`register_webhook` returned
        """
        try:
            self.delete_trigger(trigger_id)
        except NotFoundError:
            return False
        return True
