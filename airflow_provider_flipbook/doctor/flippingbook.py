"""FlippingBook Online: the assumptions of ``docs/vendor-conformance.md`` checked against an account."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from airflow_provider_flipbook.doctor.checks import (
    AccountAnswers,
    NotChecked,
    Outcome,
    announced_limits,
    answer,
    differs,
    holds,
    keys,
    missing,
    page_not_capped,
    two_pages,
    verdict,
)
from airflow_provider_flipbook.exceptions import VendorApiError
from airflow_provider_flipbook.hooks import flippingbook as wire
from airflow_provider_flipbook.hooks.flippingbook import FB, SOURCE_STATES, FlippingBookHook

PAGE_SIZE = 100  # what iter_publications and iter_tracked_links ask for


class Account(AccountAnswers[FlippingBookHook]):
    """The answers the checks read, each fetched once, at first use."""

    def publications_page(self, count: int, offset: int) -> dict[str, Any]:
        """One page of ``publication.list``, the body as answered."""
        return self.hook.call(
            "GET",
            f"{FB}/publication",
            params={"count": count, "offset": offset},
            operation="publication.list",
        )

    @answer
    def me(self) -> dict[str, Any]:
        """``auth.me``."""
        return self.hook.me()

    @answer
    def listing(self) -> dict[str, Any]:
        """Fetch the first two publications, as ``publication.list`` answers them."""
        return self.publications_page(2, 0)

    @answer
    def publication(self) -> dict[str, Any]:
        """Fetch the first publication, as ``publication.get`` answers it (what the hooks read)."""
        first = self.listing.get("publications") or []
        if not first:
            raise NotChecked("the account has no publication")
        return self.hook.get_publication(first[0]["id"])

    @answer
    def source(self) -> dict[str, Any]:
        """Fetch the first publication's newest source, as ``source.get`` answers it."""
        publication_id = self.publication["id"]
        sources = self.hook.list_sources(publication_id)
        if not sources:
            raise NotChecked("the first publication has no source")
        self.hook.get_source(publication_id, sources[-1]["id"])
        return self.log.last_json().get("source") or {}  # as answered, before the hook's own renaming

    @answer
    def domains(self) -> dict[str, Any]:
        """``custom_domains.list``."""
        return self.hook.list_custom_domains()

    @answer
    def link(self) -> dict[str, Any]:
        """Fetch the first tracked link."""
        links = self.hook.call(
            "GET", f"{FB}/tracked_links", params={"count": 1, "offset": 0}, operation="tracked_link.list"
        ).get("links")
        if not links:
            raise NotChecked("the account has no tracked link")
        return links[0]


def credentials_refused(error: VendorApiError) -> str | None:
    """Advice when ``error`` means the API key was refused (HTTP 401, or ``InvalidApiKey``), else None."""
    if error.status == 401 or error.code == "InvalidApiKey":
        return "Set the connection's password to a FlippingBook Online API key (Account > API keys)."
    return None


def account_refused(error: VendorApiError, accepted: bool) -> str | None:
    """Advice when the account refused (HTTP 403 with any code but ``InvalidApiKey``), else None.

    The documents name no code for a plan limit, a feature outside the plan or a key without rights:
    every such 403 is read as one, whatever its code.

    :param error: what the call raised
    :param accepted: an earlier call was answered
    """
    if error.status == 403 and error.code != "InvalidApiKey":
        return (
            f"FlippingBook refused this for the account (code {error.code or 'none'}): the plan or the "
            "key's rights do not include it. Check the subscription and the API key's rights, or ask "
            "FlippingBook support to enable it."
        )
    return None


def auth(account: Account) -> Outcome:
    """Check that the API key is accepted as ``Authorization: Bearer``; ``auth/me`` answers an ``id``."""
    me = account.me
    return verdict("id" in me, f"auth/me {keys(me)}")


def envelope(account: Account) -> Outcome:
    """Answers carry ``success: true`` and ``publication.list`` its ``publications`` list."""
    body = account.listing
    ok = body.get("success") is True and isinstance(body.get("publications"), list)
    return verdict(ok, f"publication.list {keys(body)}")


def publication_fields(account: Account) -> Outcome:
    """``publication.get`` carries ``state`` (required: read as flags) and the fields of the summary."""
    publication = account.publication
    read = {"id", "hashId", "name", "totalPages"}
    absent = missing(publication, read) + (
        "" if {"canonicalLink", "url"} & set(publication) else "; no canonicalLink or url"
    )
    if not isinstance(publication.get("state"), str):
        return differs(f"publication {keys(publication)}: no 'state' string (the status reads it)")
    flags = sorted(flag.strip() for flag in publication["state"].split(","))
    return verdict(not absent, f"publication {keys(publication)}; state flags {flags}{absent}")


def paging(account: Account) -> Outcome:
    """``count`` and ``offset`` are honoured: two pages of size 1 give two different publications."""
    if len(account.listing.get("publications") or []) < 2:
        raise NotChecked("fewer than two publications")
    first, second = (account.publications_page(1, offset).get("publications") or [] for offset in (0, 1))
    outcome = two_pages(first, second, "id", "count=1", "offset=1")
    total = "total present" if "total" in account.listing else "no total"
    return Outcome(outcome.status, f"{outcome.seen}; {total}")


def page_size(account: Account) -> Outcome:
    """Check that a page of 100 (what the hooks ask for) is not cut shorter: lists end at a short page."""
    total = account.listing.get("total")
    return page_not_capped(
        lambda offset, count: account.publications_page(count, offset).get("publications") or [],
        PAGE_SIZE,
        "publication.list",
        total if isinstance(total, int) else None,
    )


def source_fields(account: Account) -> Outcome:
    """Check that ``source.get`` carries ``id`` and a ``state`` among the page's six.

    ``stage`` and ``Progress`` (or ``progress``) are shown while running if present (optional).
    """
    source = account.source
    state = source.get("state")
    progress = next((k for k in ("Progress", "progress") if k in source), None)
    seen = f"source {keys(source)}; state {state!r}; progress under {progress or 'no key (optional)'}"
    if state not in SOURCE_STATES:
        return differs(f"{seen}: not one of {sorted(SOURCE_STATES)}")
    return verdict("id" in source, seen + missing(source, {"id"}))


def custom_domain(account: Account) -> Outcome:
    """``custom-domains`` answers ``customDomainsEnabled`` and ``customDomains``."""
    body = account.domains
    if not {"customDomainsEnabled", "customDomains"} <= set(body):
        return differs(f"custom-domains {keys(body)}")
    enabled = "on" if body.get("customDomainsEnabled") else "off"
    return holds(
        f"custom-domains {keys(body)}; custom domains {enabled} ({len(body.get('customDomains') or [])} domain(s))"
    )


def tracked_link_url(account: Account) -> Outcome:
    """Check a tracked link's URL: the vendor's ``url``, else ``urlName`` under its publication's host.

    With custom domains on, that host is one of them (or FlippingBook's own).
    """
    link = account.link
    if link.get("url"):
        return holds(f"the vendor gives the link's url (link {keys(link)}): nothing is built")
    try:
        built = wire.tracked_link_url(link)
    except VendorApiError as error:
        return differs(str(error))
    host = urlsplit(built).hostname or ""
    domains = account.domains
    names = {str(d).lower() for d in domains.get("customDomains") or [] if isinstance(d, str)}
    if domains.get("customDomainsEnabled") and host not in names and not host.endswith("flippingbook.com"):
        return differs(
            f"the link's URL is built on {host}, which is neither FlippingBook's nor one of your "
            f"{len(names)} custom domain(s): open one link by hand before trusting the URLs"
        )
    return holds(f"link {keys(link)}; URL built on {host} from urlName")


def rate_limit(account: Account) -> Outcome:
    """No rate-limit header announces less than the documented burst of 10, then 1 per second."""
    return announced_limits(account.hook, account.log.rate_headers)


def write_test(account: Account) -> Outcome:
    """Check that a publication without a source can be created and deleted.

    The vendor keeps it "deleted" a while.
    """
    created = account.hook.create_publication(name="flipbook-doctor write test")
    account.hook.delete_publication(created["id"])
    return holds(
        f"created {keys(created)} and deleted it (kept in a 'deleted' state for a while by the vendor)"
    )


CHECKS = (
    auth,
    envelope,
    publication_fields,
    paging,
    page_size,
    source_fields,
    custom_domain,
    tracked_link_url,
    rate_limit,
    write_test,
)
WRITE_CHECKS = frozenset({write_test})
