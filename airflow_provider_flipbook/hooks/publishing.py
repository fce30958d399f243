"""The contract between the flipbook vendors' hooks and the operator, sensor and trigger that use them.

FlippingBook, iPaper and Flipsnack each implement :class:`PublishingHook` in their own hook module,
with their whole publishing flow inside; :class:`~airflow_provider_flipbook.operators.UploadPdfOperator`
and :class:`~airflow_provider_flipbook.sensors.PdfConversionSensor` only pick the hook by connection
type and speak this protocol. Statuses and summaries are TypedDicts: they travel as JSON in trigger
events and XComs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypedDict

from typing_extensions import NotRequired

from airflow_provider_flipbook.utils.pdf import PdfLimits

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_flipbook.hooks.event_loop import Listing
    from airflow_provider_flipbook.hooks.exactly_once import Journal
    from airflow_provider_flipbook.utils.files import PdfSource
    from airflow_provider_flipbook.utils.pdf import PdfFacts

__all__ = [
    "ConversionStatus",
    "PdfLimits",
    "PublicationBusy",
    "PublicationSummary",
    "Published",
    "PublishRequest",
    "PublishingHook",
]

ConversionState = Literal["running", "success", "failed"]
CONVERSION_STATES: tuple[ConversionState, ...] = ("running", "success", "failed")


class PublicationSummary(TypedDict, total=False):
    """What a user wants to know of a publication: ids, URL and page count."""

    publication_id: str | None
    hash_id: str | None
    name: str | None
    url: str | None
    total_pages: int | None
    state: str | None


class ConversionStatus(TypedDict):
    """One answer of a hook's status call: poke, reschedule, in-task wait and trigger all read it."""

    state: ConversionState
    detail: str
    publication: NotRequired[PublicationSummary]


class Published(TypedDict):
    """What a publish call created: the operator adds vendor, conn id, name and page count."""

    publication_id: str
    version_id: str | None
    url: str | None
    created: NotRequired[bool]  # a new publication; False: a new version of an existing one (lineage)


@dataclass(frozen=True)
class PublishRequest:
    """A publish call's inputs.

    Each vendor reads the fields it has and refuses the ones it cannot honour in
    :meth:`PublishingHook.check_request`, before anything is sent.
    """

    name: str
    publication_id: str | None = None  # add a version to this publication instead of creating one
    description: str | None = None
    folder: str | None = None  # FlippingBook
    domain: str | None = None  # FlippingBook
    parent_category_id: int | None = None  # iPaper; None: the account's root
    url_name: str | None = None  # iPaper
    title: str | None = None  # Flipsnack; defaults to name
    pdf_password: str | None = None  # iPaper
    poll_interval: float = 10.0  # for waits inside the flow (iPaper: an earlier job on the paper)
    wait_timeout: float = 3600.0
    wait_in_task: bool = True  # False: raise PublicationBusy instead of waiting (a deferrable task)


class PublicationBusy(Exception):
    """The vendor is busy with an earlier job on the publication: wait, then publish again.

    Raised by ``publish_pdf`` with ``wait_in_task=False`` (iPaper runs one job per paper); nothing was
    sent yet.

    :param publication_id: the busy publication.
    :param detail: what the vendor is busy with.
    :param wait_trigger: the dotted path of the vendor's trigger that waits until the publication is
        free; built with ``conn_id``, ``poll_interval``, ``deadline`` and ``wait_target`` as keywords.
    :param wait_target: what that trigger waits on, e.g. ``{"paper_id": "42"}``.
    """

    def __init__(
        self, publication_id: str, detail: str, wait_trigger: str, wait_target: dict[str, str]
    ) -> None:
        super().__init__(detail)
        self.publication_id, self.detail = publication_id, detail
        self.wait_trigger, self.wait_target = wait_trigger, wait_target


class PublishingHook(Protocol):
    """A flipbook vendor: publish a PDF (new, or a new version), follow its conversion, summarise it."""

    conn_id: str
    conn_type: str
    vendor: str
    publication_kind: str  # what the vendor calls a publication (its asset URI's kind)
    pdf_limits: PdfLimits
    journal: Journal | None

    def check_request(self, request: PublishRequest) -> None:
        """Refuse what this vendor cannot do, before any remote call.

        :param request: what the operator was asked to publish.
        """

    def publish_pdf(self, source: PdfSource, facts: PdfFacts, request: PublishRequest) -> Published:
        """Upload the PDF; every creating call in it takes effect once (``create_once``).

        :param source: the PDF, opened per attempt.
        :param facts: what the local check found (size, pages, encryption).
        :param request: the name, the publication to add a version to, the vendor's options.
        """
        ...

    def conversion_status(
        self, publication_id: str, version_id: str | None = None, *, summary: bool = True
    ) -> ConversionStatus:
        """Where the conversion of ``version_id`` (or the publication's latest) stands.

        :param publication_id: the publication.
        :param version_id: what ``publish_pdf`` returned as ``version_id``; None: the latest.
        :param summary: read the publication's summary when it is done (skip when known).
        """
        ...

    #: The vendor's list call that carries conversion states for a whole account (account poll).
    status_listing: ClassVar[Listing | None]

    def listed_conversion_status(
        self,
        entry: Mapping[str, Any] | None,
        publication_id: str,
        version_id: str | None = None,
        *,
        new_publication: bool = False,
    ) -> ConversionStatus | None:
        """Read :meth:`conversion_status` from the publication's entry in ``status_listing``.

        The entry is None when not listed. Return None when the list cannot tell: then ask
        :meth:`conversion_status`.

        :param entry: the publication's entry in the listing, or None when it is not listed.
        :param publication_id: the publication.
        :param version_id: what ``publish_pdf`` returned as ``version_id``; None: the latest.
        :param new_publication: the upload created the publication.
        """
        ...

    def publication_summary(self, publication_id: str) -> PublicationSummary:
        """Return the publication's ids, URL and page count.

        :param publication_id: the publication.
        """
        ...

    def find_publications(self, name: str) -> list[PublicationSummary]:
        """Publications whose name (FlippingBook, iPaper) or title (Flipsnack) is exactly ``name``.

        :param name: the name to look for.
        """
        ...


class WatchableHook(Protocol):
    """What a publication watcher (``triggers/watchers.py``) reads of a publishing hook."""

    conn_type: str
    vendor: str
    #: The publication events its listings tell.
    publication_events: ClassVar[tuple[str, ...]]
    #: What a publication gone from the listings while converting was (``deleted`` or ``failed``).
    vanished_while_converting: ClassVar[str]

    @property
    def publication_watch_listings(self) -> tuple[Listing, ...]:
        """The list calls a publication watcher subscribes to (on the account poll)."""
        ...

    def watch_publications(
        self, rounds: Mapping[str, list[dict[str, Any]]], previous: Mapping[str, Any] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Each listed publication as a watcher compares it: ``state``, ``version``, ``name``, ``url``.

        :param rounds: this poll's answers by listing name
        :param previous: the last poll's snapshots
        """
        ...


def check_status(status: ConversionStatus, operation: str) -> ConversionStatus:
    """Return a status as the contract says, or raise naming what was seen (a hook bug, not a vendor's)."""
    if status.get("state") not in CONVERSION_STATES:
        raise ValueError(f"{operation}: status {status!r} has no state in {CONVERSION_STATES}")
    return status
