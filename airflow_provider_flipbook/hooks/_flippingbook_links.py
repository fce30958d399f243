"""FlippingBook's tracked links: list, get, create once, update, delete.

Mixed into :class:`~airflow_provider_flipbook.hooks.flippingbook.FlippingBookHook`, which owns the
transport.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flipbook.exceptions import NotFoundError
from airflow_provider_flipbook.hooks._flippingbook_wire import FB, HookPart, drop_none, iso8601
from airflow_provider_flipbook.utils.paging import paged

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator


class TrackedLinks(HookPart):
    """The tracked-link calls, on the hook's ``call``."""

    def iter_tracked_links(
        self,
        *,
        title: str | None = None,
        publication_uid: str | None = None,
        publication_hashid: str | None = None,
        publication_url: str | None = None,
        page_size: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """``GET /fbonline/tracked_links``, paged: the account's tracked links.

        :param title: links with this title.
        :param publication_uid: links to this publication (its id).
        :param publication_hashid: links to this publication (its hash id).
        :param publication_url: links to this publication (its URL).
        :param page_size: links per request.
        """
        filters = drop_none(
            {
                "title": title,
                "publication-uid": publication_uid,
                "publication-hashid": publication_hashid,
                "publication-url": publication_url,
            }
        )

        def fetch(offset: int, count: int) -> list[dict[str, Any]]:
            body = self.call(
                "GET",
                f"{FB}/tracked_links",
                operation="tracked_link.list",
                params={**filters, "count": count, "offset": offset},
            )
            return body.get("links", [])

        return iter(paged(fetch, page_size))

    def get_tracked_link(self, link_id: str) -> dict[str, Any]:
        """``GET /fbonline/tracked_links/{linkId}``: one link; "not found" if it is gone.

        :param link_id: the link.
        """
        links = (
            self.call("GET", f"{FB}/tracked_links/{link_id}", operation="tracked_link.get").get("links") or []
        )
        if not links:
            raise NotFoundError(self.vendor, "tracked_link.get", f"no tracked link {link_id}")
        return links[0]

    def create_tracked_link(
        self,
        title: str,
        *,
        publication_uid: str | None = None,
        publication_hash_id: str | None = None,
        publication_url: str | None = None,
        notification_type: str | None = None,
        on_view_trigger_single: bool | None = None,
        on_view_trigger: bool | None = None,
        on_download: bool | None = None,
        on_not_opened_until: str | dt.datetime | None = None,
        before: Iterable[Any] | None = None,
    ) -> dict[str, Any]:
        """Create a tracked link, once (a lost answer adopts the new link with this title).

        :param title: the link's title (e.g. the recipient).
        :param publication_uid: the publication, by id.
        :param publication_hash_id: the publication, by hash id.
        :param publication_url: the publication, by URL.
        :param notification_type: ``Email`` or ``Zapier``.
        :param on_view_trigger_single: notify on the first view.
        :param on_view_trigger: notify on each of the first views.
        :param on_download: notify on a download or print.
        :param on_not_opened_until: a date-time (ISO 8601 string or datetime; naive means UTC).
        :param before: the ids of every link with this title and publication filter that the caller
            has just listed: saves the lookup before the create (one request at the vendor's rate).
        """
        body = drop_none(
            {
                "title": title,
                "publicationUid": publication_uid,
                "publicationHashId": publication_hash_id,
                "publicationUrl": publication_url,
                "notificationType": notification_type,
                "onViewTriggerSingle": on_view_trigger_single,
                "onViewTrigger": on_view_trigger,
                "onDownload": on_download,
                "onNotOpenedUntil": iso8601(on_not_opened_until) if on_not_opened_until is not None else None,
            }
        )

        def create() -> dict[str, Any]:
            links = self._field(
                self.call(
                    "POST", f"{FB}/tracked_links", json=body, operation="tracked_link.create", creates=True
                ),
                "links",
                "tracked_link.create",
                list,
            )
            if not links or not isinstance(links[0], dict):
                raise self.error("tracked_link.create", "the answer's 'links' is empty")
            return links[0]

        return self.create_once(
            "tracked_link.create",
            create,
            describe=f"tracked link title {title!r}",
            lookup=lambda: [
                link
                for link in self.iter_tracked_links(
                    title=title,
                    publication_uid=publication_uid,
                    publication_hashid=publication_hash_id,
                    publication_url=publication_url,
                )
                if link.get("title") == title
            ],
            identity=lambda link: link.get("id"),
            adopt=lambda found: found[0],
            before=before,
        )

    def update_tracked_link(
        self, link_id: str, *, new_state: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """``PUT /fbonline/tracked_links/{linkId}``; returns the link.

        :param link_id: the link.
        :param new_state: ``Disable``, ``Enable`` or ``Delete`` (irreversible).
        :param fields: other fields of the page, as named there.
        """
        body = drop_none({**fields, "newState": new_state})
        links = self.call(
            "PUT", f"{FB}/tracked_links/{link_id}", json=body, operation="tracked_link.update"
        ).get("links") or [{}]
        return links[0]

    def disable_tracked_link(self, link_id: str) -> dict[str, Any]:
        """Disable a link at once (``newState: Disable``); returns the link.

        :param link_id: the link.
        """
        return self.update_tracked_link(link_id, new_state="Disable")

    def enable_tracked_link(self, link_id: str) -> dict[str, Any]:
        """Enable a disabled link again (``newState: Enable``); returns the link.

        :param link_id: the link.
        """
        return self.update_tracked_link(link_id, new_state="Enable")

    def delete_tracked_link(self, link_id: str) -> None:
        """Delete a link, irreversibly (``newState: Delete``).

        :param link_id: the link.
        """
        self.update_tracked_link(link_id, new_state="Delete")
