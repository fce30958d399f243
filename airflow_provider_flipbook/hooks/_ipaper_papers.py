"""iPaper's Paper service.

The account's root, the paper tree, creating papers once by URL, settings, publication periods,
preview tokens, and what the asset watchers read of the listings (mixed into :class:`~airflow_provider_flipbook.hooks.ipaper.IPaperHook`, which
owns the transport, the Ripper service and the publish flow).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, cast

from airflow_provider_flipbook._compat import AirflowException
from airflow_provider_flipbook.hooks._ipaper_wire import period, text
from airflow_provider_flipbook.hooks.event_loop import Listing

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from lxml import etree


class IPaperPapers:
    """Paper service calls, on the hook's ``call``."""

    if TYPE_CHECKING:  # what these calls use of IPaperHook
        conn_id: str
        create_once: Any

        def setting(self, name: str) -> Any: ...

        def call(
            self,
            method: str,
            *,
            stream_field: tuple[str, Callable[[], BinaryIO]] | None = None,
            creates: bool = False,
            **params: Any,
        ) -> etree._Element: ...

        def _items(self, data: etree._Element, path: str, method: str) -> list[Any]: ...

        def _int_at(self, data: etree._Element, path: str, method: str) -> int: ...

        status_listing: ClassVar[Listing | None]

        def public_url(self, relative: str, paper_id: int) -> str | None: ...

    @cached_property
    def root_paper_id(self) -> int:
        """The account's root category: extra ``root_paper_id``, else the id of URL ``/``.

        iPaper documents no "paper 0 = root"; its sample tree's top category has URL ``/``.
        """
        configured: int | None = self.setting("root_paper_id")
        if configured is not None:
            return configured
        found = self.get_paper_id_from_url("/")
        if found is None:
            raise AirflowException(
                f"Connection {self.conn_id!r} (iPaper): the account's root category could not be looked up "
                "(Paper.GetPaperIDFromUrl found nothing at URL '/'). Set the connection extra "
                '{"root_paper_id": <id>} to the id of your top category, as shown in the iPaper CMS.'
            )
        return found

    def get_all_papers(self, paper_id: int | None = None) -> etree._Element:
        """Return the category/paper tree below ``paper_id`` (default: the account's root).

        :param paper_id: the category (default: the account's root).
        """
        data = self.call("Paper.GetAllPapers", paperID=self.root_paper_id if paper_id is None else paper_id)
        self._items(data, "category|paper", "Paper.GetAllPapers")  # the tree's top: a category (or a paper)
        return data

    def iter_papers(self, paper_id: int | None = None) -> Iterator[dict[str, str]]:
        """Yield the attributes of every ``<paper>`` below ``paper_id`` (categories left out).

        :param paper_id: the category (default: the account's root).
        """
        for node in self.get_all_papers(paper_id).xpath(".//paper"):
            yield {k: node.get(k) for k in node.keys()}

    def create_paper(self, parent_id: int, name: str, url_name: str) -> int:
        """``Paper.CreatePaper``, once: a lost answer adopts the paper at the new URL; returns its id.

        :param parent_id: the category.
        :param name: the paper's name.
        :param url_name: its URL name (unique under the category).
        """
        return self._create_once_by_url(
            "Paper.CreatePaper", parent_id, url_name, parentID=parent_id, name=name, urlName=url_name
        )

    def create_category(self, parent_id: int, name: str, url_name: str) -> int:
        """``Paper.CreateCategory``, once (reconciled by URL as :meth:`create_paper`); returns its id.

        :param parent_id: the parent category.
        :param name: the category's name.
        :param url_name: its URL name.
        """
        return self._create_once_by_url(
            "Paper.CreateCategory", parent_id, url_name, paperID=parent_id, name=name, urlName=url_name
        )

    def _create_once_by_url(self, method: str, parent_id: int, url_name: str, **params: Any) -> int:
        """Create a paper or category once, by its URL.

        A paper's URL is unique in the account: after a lost answer, the paper at our URL is ours.
        """
        url = f"{self.get_paper_url(parent_id).rstrip('/')}/{url_name}/"

        def at_url() -> list[int]:
            found = self.get_paper_id_from_url(url)
            return [] if found is None else [found]

        return self.create_once(
            method,
            lambda: self._int_at(self.call(method, creates=True, **params), "paper/@id", method),
            lookup=at_url,
            identity=lambda paper_id: paper_id,
            adopt=lambda found: found[0],
            describe=f"paper URL {url}",
        )

    def delete_paper(self, paper_id: int) -> None:
        """``Paper.DeletePaper``.

        :param paper_id: the paper or category.
        """
        self.call("Paper.DeletePaper", paperID=paper_id)

    def move_paper(self, paper_id: int, destination_parent_id: int) -> None:
        """``Paper.MovePaper``.

        :param paper_id: the paper.
        :param destination_parent_id: the category to move it into.
        """
        self.call("Paper.MovePaper", sourcePaperID=paper_id, destinationParentID=destination_parent_id)

    def change_paper_url(self, paper_id: int, new_url: str) -> None:
        """``Paper.ChangePaperUrl``.

        :param paper_id: the paper.
        :param new_url: the new relative URL (unique in the account).
        """
        self.call("Paper.ChangePaperUrl", paperID=paper_id, newUrl=new_url)

    def get_paper_id_from_url(self, url: str) -> int | None:
        """None when no paper has that URL (the vendor answers SUCCESS with no data).

        :param url: the relative URL, starting and ending with ``/``.
        """
        data = self.call("Paper.GetPaperIDFromUrl", url=url)
        if data.tag != "data" or not len(data):
            return None
        return self._int_at(data, "paper/@id", "Paper.GetPaperIDFromUrl")

    def get_paper_url(self, paper_id: int) -> str:
        """``Paper.GetPaperUrlFromID``: the paper's relative URL, e.g. ``/demos/21/``.

        :param paper_id: the paper.
        """
        return text(self.call("Paper.GetPaperUrlFromID", paperID=paper_id), "paper/@url")

    def get_paper_structure(self, paper_id: int, include_indexed_text: bool = False) -> etree._Element:
        """``Paper.GetPaperStructure``: the paper's pages and page images.

        :param paper_id: the paper.
        :param include_indexed_text: add the text iPaper indexed from each page.
        """
        return self.call("Paper.GetPaperStructure", paperID=paper_id, includeIndexedText=include_indexed_text)

    def create_preview_token(self, paper_id: int, validity_minutes: int = 60, ip: str = "") -> str:
        """``Paper.CreatePreviewToken``: a token that opens an unpublished paper.

        :param paper_id: the paper.
        :param validity_minutes: how long the token works.
        :param ip: the only address it works from (empty: any).
        """
        return text(
            self.call("Paper.CreatePreviewToken", paperID=paper_id, validityMinutes=validity_minutes, ip=ip),
            "token",
        )

    def set_publication_period(self, paper_id: int, start: str, end: str) -> None:
        """Dates as ``YYYY-MM-DD HH:MM:SS`` (the format GetAllPapers reports).

        :param paper_id: the paper.
        :param start: from when it is published.
        :param end: until when.
        """
        self.call("Paper.SetPublicationPeriod", paperID=paper_id, **period(start, end))

    def clear_publication_period(self, paper_id: int) -> None:
        """``Paper.ClearPublicationPeriod``.

        :param paper_id: the paper.
        """
        self.call("Paper.ClearPublicationPeriod", paperID=paper_id)

    def get_setting_descriptions(self) -> list[dict[str, str]]:
        """``Paper.GetSettingDescriptions``: every setting's name, type and default."""
        data = self.call("Paper.GetSettingDescriptions")
        return [
            dict(node.attrib)
            for node in self._items(data, "settings/setting", "Paper.GetSettingDescriptions")
        ]

    def get_setting(self, paper_id: int, setting: str) -> str:
        """``Paper.GetSetting``: one setting's value as text.

        :param paper_id: the paper.
        :param setting: the setting's name, e.g. ``iconPdf``.
        """
        return text(
            self.call("Paper.GetSetting", paperID=paper_id, setting=setting), f"*[local-name()='{setting}']"
        )

    def set_setting(self, paper_id: int, setting: str, value: Any) -> None:
        """``Paper.SetSetting``.

        :param paper_id: the paper.
        :param setting: the setting's name.
        :param value: its new value (booleans sent as ``true``/``false``).
        """
        self.call("Paper.SetSetting", paperID=paper_id, setting=setting, value=value)

    # -- watching: what the asset watchers read from the listings (triggers/watchers.py) ---------

    #: The publication events its listings tell (the processing list does not say whether a job
    #: failed: a paper leaving it is ``converted``), and what a paper gone while converting was.
    publication_events: ClassVar[tuple[str, ...]] = ("converted", "deleted")
    vanished_while_converting: ClassVar[str] = "deleted"

    #: The account's paper tree, whole (one request): to see papers leave it.
    paper_listing: ClassVar[Listing] = Listing("papers", "list_papers", "id")

    def list_papers(self) -> list[dict[str, str]]:
        """Every paper below the account's root, as attribute dicts (one request)."""
        return list(self.iter_papers())

    @property
    def publication_watch_listings(self) -> tuple[Listing, ...]:
        """The list calls a publication watcher needs.

        The processing list (the waits share it) and the paper tree.
        """
        return (cast("Listing", self.status_listing), self.paper_listing)

    def watch_publications(
        self, rounds: Mapping[str, list[dict[str, Any]]], previous: Mapping[str, Any] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Return each paper as a watcher compares it.

        ``converting`` while in the processing list, ``converted`` once it left it (iPaper does not
        list a job's outcome there), else ``idle``.
        ``version`` is the processing entry last seen (the same job, the same version).

        :param rounds: this poll's answers by listing name
        :param previous: the last poll's snapshots (which papers were converting)
        """
        processing = {
            str(p["paper-id"]): p
            for p in rounds[cast("Listing", self.status_listing).name]
            if p.get("paper-id")
        }
        found = {}
        for paper in rounds[self.paper_listing.name]:
            pid = str(paper.get("id"))
            before = (previous or {}).get(pid) or {}
            if pid in processing:  # a job seen for the first time counts one more version
                counted = before.get("version") if before.get("state") == "converting" else None
                state, version = "converting", counted or str(int(before.get("version") or 0) + 1)
            elif before.get("state") in ("converting", "converted"):
                state, version = "converted", before.get("version")
            else:
                state, version = "idle", before.get("version")
            url = paper.get("url")
            found[pid] = {
                "state": state,
                "version": version,
                "name": paper.get("name"),
                "url": self.public_url(url, int(pid)) if url else None,
            }
        return found
