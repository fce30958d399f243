"""CreateTrackedLinkOperator: a per-recipient tracked link on a FlippingBook publication."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_flipbook._compat import AirflowException, BaseOperator, task_state_store
from airflow_provider_flipbook.assets import scheme as asset_scheme
from airflow_provider_flipbook.links import ViewFlipbookLink
from airflow_provider_flipbook.utils.lineage import DeclaresLineage, record

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook


def publication_ref(publication: Any) -> dict[str, str]:
    """Return the create call's identifier for an id, a hash id, a viewer URL, or UploadPdfOperator's dict."""
    if isinstance(publication, dict):
        publication = publication.get("publication_id") or publication.get("id")
    text = str(publication or "").strip()
    if not text:
        raise AirflowException("publication is empty: give an id, hash id, URL or UploadPdfOperator's result")
    if text.lower().startswith(("http://", "https://")):
        return {"publication_url": text}
    if text.isdigit():
        return {"publication_hash_id": text}
    if re.fullmatch(r"[0-9a-fA-F]{32}", text):
        return {"publication_uid": text.lower()}
    raise AirflowException(f"publication {text!r} is neither a 32-hex id, a numeric hash id nor a URL")


class CreateTrackedLinkOperator(DeclaresLineage, BaseOperator):
    """Create (or, with ``reuse_existing``, find) a tracked link for one recipient.

    Works under dynamic task mapping::

        CreateTrackedLinkOperator.partial(task_id="links", publication=upload.output).expand(title=recipients)

    :param publication: id, hash id, viewer URL, or the dict UploadPdfOperator returns (templated)
    :param title: the link's title, e.g. the recipient (templated)
    :param notification_type: ``Email`` or ``Zapier``
    :param notify_on_first_view: notify on the first open
    :param notify_on_each_view: notify on each of the first 10 opens
    :param notify_on_download: notify on print or download
    :param not_opened_until: ISO 8601 date-time (naive means UTC); notify if the link was not opened by
        then (templated). Checked before any call and sent as ``YYYY-MM-DDTHH:MM:SSZ``.
    :param reuse_existing: return the active link with the same title on the same publication
        instead of creating a second one (the default, so a retried task never makes two)
    :param flippingbook_conn_id: the FlippingBook connection (templated)

    Lineage: input the publication, output the link (``flippingbook://<host>/tracked-link/<id>``,
    CREATE; no lifecycle when an existing link is reused).
    :return: ``{"link_id", "url_name", "url", "title", "publication_id", "reused"}``
    """

    template_fields = (
        "flippingbook_conn_id",
        "publication",
        "title",
        "notification_type",
        "not_opened_until",
    )
    operator_extra_links = (ViewFlipbookLink(),)

    def __init__(
        self,
        *,
        publication: Any,
        title: str,
        flippingbook_conn_id: str = "flippingbook_default",
        notification_type: str | None = None,
        notify_on_first_view: bool | None = None,
        notify_on_each_view: bool | None = None,
        notify_on_download: bool | None = None,
        not_opened_until: str | None = None,
        reuse_existing: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.publication, self.title, self.flippingbook_conn_id = publication, title, flippingbook_conn_id
        self.notification_type, self.not_opened_until = notification_type, not_opened_until
        self.notify_on_first_view, self.notify_on_each_view = notify_on_first_view, notify_on_each_view
        self.notify_on_download, self.reuse_existing = notify_on_download, reuse_existing

    def execute(self, context: Context) -> dict[str, Any]:
        """Find or create the link; push and return its ids and full URL.

        :param context: the task context.
        """
        from airflow_provider_flipbook.hooks import hook_for

        title = str(self.title or "").strip()
        if not title:
            raise AirflowException("title is empty")
        if self.notification_type not in (None, "Email", "Zapier"):
            raise AirflowException(
                f"notification_type must be Email or Zapier, got {self.notification_type!r}"
            )
        ref = publication_ref(self.publication)
        until = None
        if self.not_opened_until not in (None, ""):
            from airflow_provider_flipbook.hooks.flippingbook import iso8601

            try:
                until = iso8601(self.not_opened_until)
            except ValueError as error:
                raise AirflowException(f"not_opened_until: {error}") from None
        hook = cast("FlippingBookHook", hook_for(self.flippingbook_conn_id, vendors=("flippingbook",)))
        hook.journal = task_state_store(context)  # a retry after a lost answer looks before it creates
        link, same_title = None, None
        if self.reuse_existing:
            filters: dict[str, Any] = {k.replace("hash_id", "hashid"): v for k, v in ref.items()}
            same_title = [
                found
                for found in hook.iter_tracked_links(title=title, **filters)
                if found.get("title") == title
            ]
            link = next((found for found in same_title if "Active" in str(found.get("state"))), None)
        reused = link is not None
        if link is None:
            link = hook.create_tracked_link(
                title,
                notification_type=self.notification_type,
                on_view_trigger_single=self.notify_on_first_view,
                on_view_trigger=self.notify_on_each_view,
                on_download=self.notify_on_download,
                on_not_opened_until=until,
                # what the reuse lookup listed is what existed: the create need not look again
                before=None if same_title is None else [found.get("id") for found in same_title],
                **ref,
            )
        result = {
            "link_id": link["id"],
            "url_name": link.get("urlName"),
            "url": tracked_link_url(link),
            "title": link.get("title"),
            "publication_id": ((link.get("publication") or {}).get("id") or {}).get("id"),
            "reused": reused,
        }
        self.log.info("%s tracked link %r: %s", "Reusing" if reused else "Created", title, result["url"])
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key="flipbook_url", value=result["url"])
        publication = result["publication_id"] and asset_scheme("flippingbook").uri(
            host=hook.base_url, kind="publication", object_id=result["publication_id"]
        )
        self.declare(
            hook,
            record(
                vendor="flippingbook",
                host=hook.base_url,
                kind="tracked-link",
                object_id=result["link_id"],
                lifecycle=None if reused else "CREATE",
                ids={"link_id": result["link_id"], "publication_id": result["publication_id"]},
                inputs=[publication],
                public_url=result["url"],
                external_id=result["link_id"],
            ),
        )
        return result


def tracked_link_url(link: dict[str, Any]) -> str:
    """Return the full URL, right for custom domains too (see the FlippingBook hook)."""
    from airflow_provider_flipbook.hooks.flippingbook import tracked_link_url as url

    return url(link)


class RegisterFlippingBookWebhookOperator(BaseOperator):
    """Register a FlippingBook trigger that POSTs events to this provider's webhook receiver.

    The connection needs the extra ``webhook_token`` (see :mod:`airflow_provider_flipbook.plugins.flippingbook`);
    the receiver records the events on the asset ``flippingbook_webhooks.<conn id>`` (or ``webhook_asset``).

    :param api_base_url: the Airflow API server's base URL as FlippingBook reaches it (templated)
    :param events: vendor event names, e.g. ``["created", "updated", "convertationFailed"]`` (templated)
    :param publication_id: limit the trigger to one publication; None: account-wide (templated)
    :param flippingbook_conn_id: the FlippingBook connection (templated)
    :return: ``{"trigger_id", "events", "publication_id"}`` (never the receiver URL: it holds the token)
    """

    template_fields = ("flippingbook_conn_id", "api_base_url", "events", "publication_id")

    def __init__(
        self,
        *,
        api_base_url: str,
        events: list[str],
        publication_id: str | None = None,
        flippingbook_conn_id: str = "flippingbook_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.api_base_url, self.events, self.publication_id = api_base_url, events, publication_id
        self.flippingbook_conn_id = flippingbook_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        """Register the trigger; return its id and the receiver's URL.

        :param context: the task context.
        """
        from airflow_provider_flipbook.hooks import hook_for

        hook = cast("FlippingBookHook", hook_for(self.flippingbook_conn_id, vendors=("flippingbook",)))
        trigger_id = hook.register_webhook(
            self.api_base_url, list(self.events), publication_id=self.publication_id or None
        )
        self.log.info("FlippingBook trigger %s registered for %s", trigger_id, ", ".join(self.events))
        return {"trigger_id": trigger_id, "events": list(self.events), "publication_id": self.publication_id}


class RemoveFlippingBookWebhookOperator(BaseOperator):
    """Remove a trigger registered by :class:`RegisterFlippingBookWebhookOperator` (gone already is fine).

    :param trigger_id: the trigger's id, e.g. ``"{{ ti.xcom_pull('register')['trigger_id'] }}"`` (templated)
    :param flippingbook_conn_id: the FlippingBook connection (templated)
    :return: ``{"trigger_id", "removed"}``: ``removed`` is False if it was gone already
    """

    template_fields = ("flippingbook_conn_id", "trigger_id")

    def __init__(
        self, *, trigger_id: str, flippingbook_conn_id: str = "flippingbook_default", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.trigger_id, self.flippingbook_conn_id = trigger_id, flippingbook_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        """Delete the trigger (one already gone counts as removed).

        :param context: the task context.
        """
        from airflow_provider_flipbook.hooks import hook_for

        hook = cast("FlippingBookHook", hook_for(self.flippingbook_conn_id, vendors=("flippingbook",)))
        removed = hook.remove_webhook(str(self.trigger_id))
        self.log.info(
            "FlippingBook trigger %s %s", self.trigger_id, "removed" if removed else "was gone already"
        )
        return {"trigger_id": self.trigger_id, "removed": removed}
