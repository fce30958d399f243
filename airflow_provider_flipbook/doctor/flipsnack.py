"""Flipsnack: the assumptions of ``docs/vendor-conformance.md`` checked against an account."""

from __future__ import annotations

import uuid
from typing import Any

from airflow_provider_flipbook._compat import AirflowException
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
    tiny_pdf,
    two_pages,
    verdict,
)
from airflow_provider_flipbook.exceptions import VendorApiError
from airflow_provider_flipbook.hooks.flipsnack import ITEM_KEYS, ITEM_STATUSES, OK, FlipsnackHook


class Account(AccountAnswers[FlipsnackHook]):
    """The answers the checks read, each fetched once, at first use."""

    def collections(self, start: int, end: int, **filters: Any) -> Any:
        """``collection.getList`` from ``start`` to ``end`` (inclusive), ``data`` as answered."""
        return self.hook.call("collection.getList", **filters, **{"from": start, "to": end})

    @answer
    def stats(self) -> tuple[dict[str, Any], Any]:
        """``user.getStats``: its ``data`` and the whole envelope as answered."""
        data = self.hook.user_stats()
        return data, self.log.last_json()

    @answer
    def listing(self) -> dict[str, Any]:
        """Fetch the first two collections, ``data`` of ``collection.getList``."""
        data = self.collections(0, 1)
        return data if isinstance(data, dict) else {}

    @answer
    def first(self) -> dict[str, Any]:
        """Return the first collection of the list."""
        collections = self.listing.get("collections") or []
        if not collections:
            raise NotChecked("the account has no collection")
        return collections[0]


def credentials_refused(error: VendorApiError) -> str | None:
    """Advice when ``error`` means the key or the signature was refused (codes 41, 44), else None."""
    if error.code == 41:
        return (
            "Set the connection's login to your Flipsnack API key (a key stops working when the "
            "account's Enterprise subscription ends)."
        )
    if error.code == 44:
        return (
            "The signature was refused: set the connection's password to the API secret that goes with "
            "the key (if it is right, the vendor signs differently than documented: report it)."
        )
    return None


UPLOADS_USED_UP = 33


def account_refused(error: VendorApiError, accepted: bool) -> str | None:
    """Advice when the account refused: code 33 (uploads per month exceeded), else None.

    :param error: what the call raised
    :param accepted: an earlier call was answered
    """
    if error.code == UPLOADS_USED_UP:
        return (
            f"The account's API uploads for this month are used up (code {error.code}): wait for next "
            "month or ask Flipsnack to raise the limit (user.getStats shows the uploads left)."
        )
    return None


def auth(account: Account) -> Outcome:
    """Check that the key (login) and secret (password) sign requests as documented.

    ``user.getStats`` answers 20.
    """
    account.stats  # noqa: B018 - the call is the check: a refusal raises
    return holds(f"user.getStats answered code {OK}")


def envelope(account: Account) -> Outcome:
    """Answers are ``{"code": 20, "status", "data"}``."""
    body = account.stats[1]
    ok = isinstance(body, dict) and {"code", "status", "data"} <= set(body) and str(body["code"]) == str(OK)
    return verdict(ok, f"user.getStats {keys(body)}")


def user_stats(account: Account) -> Outcome:
    """``user.getStats`` carries ``api_uploads_left`` (the connection test shows it)."""
    stats = account.stats[0]
    return verdict("api_uploads_left" in stats, f"data {keys(stats)}")


def list_fields(account: Account) -> Outcome:
    """Check that ``collection.getList`` answers a ``collections`` list of objects.

    The objects carry ``collectionHash`` and ``collectionTitle`` (lookups by title read both);
    ``collectionCount`` is not read.
    """
    data = account.listing
    collections = data.get("collections")
    if not isinstance(collections, list):
        return differs(f"collection.getList data {keys(data)}: no 'collections' list")
    absent = missing(collections[0], {"collectionHash", "collectionTitle"}) if collections else ""
    return verdict(not absent, f"collection.getList data {keys(data)}; {keys(collections)}{absent}")


def paging(account: Account) -> Outcome:
    """``from``/``to`` is an inclusive index range: ``from=0,to=0`` and ``from=1,to=1`` give one each."""
    if len(account.listing.get("collections") or []) < 2:
        raise NotChecked("fewer than two collections")
    first, second = ((account.collections(i, i) or {}).get("collections") or [] for i in (0, 1))
    outcome = two_pages(first, second, "collectionHash", "from=0,to=0", "from=1,to=1")
    return Outcome(outcome.status, f"{outcome.seen}; inclusive range")


def page_size(account: Account) -> Outcome:
    """Check that a range of ``list_page_size`` collections is not cut shorter.

    ``list_page_size`` is the extra, what the hooks ask for; lists end at the first short page.
    """
    count, asked = account.listing.get("collectionCount"), account.hook.list_page_size
    return page_not_capped(
        lambda offset, size: (account.collections(offset, offset + size - 1) or {}).get("collections") or [],
        asked,
        "collection.getList (extra list_page_size)",
        count if isinstance(count, int) else None,
        lambda cap: account.log.observe("flipsnack.page_size", {"asked": asked, "answered": cap}),
    )


def list_count(account: Account) -> Outcome:
    """Check whether ``collection.getList``'s ``collectionCount`` counts every collection listed.

    Not the range asked: ``from=0,to=0`` answers more than 1 when the account has two. The account poll
    then stops at the last page; otherwise it asks for one page more each round (nothing is missed).
    """
    if not (account.collections(1, 1) or {}).get("collections"):
        raise NotChecked("fewer than two collections")
    count = (account.collections(0, 0) or {}).get("collectionCount")
    counts = "absent" if count is None else "total" if isinstance(count, int) and count > 1 else "range"
    account.log.observe("flipsnack.list_count", {"counts": counts})
    if counts == "total":
        return holds(f"from=0,to=0 answered collectionCount {count}: the whole list's length")
    return differs(
        f"from=0,to=0 answered collectionCount {count!r}: not the whole list's length, so it is not "
        "read; lists end at the first short page (the account poll asks one page more each round)"
    )


def list_items(account: Account) -> Outcome:
    """Check whether ``collection.getList`` lists each collection's items with their status.

    As getCollection does: the account poll reads conversions from the list (without them, every wait
    asks getCollection).
    """
    first = account.first
    key = next((k for k in ITEM_KEYS if isinstance(first.get(k), list)), None)
    account.log.observe("flipsnack.list_items", {"listed": key is not None})
    if key is None:
        return differs(
            f"collection.getList entries {keys(first)}: no item list under {' or '.join(ITEM_KEYS)}; "
            "every conversion wait asks collection.getCollection each round"
        )
    statuses = {str(item.get("status", "")).lower() for item in first[key] if isinstance(item, dict)}
    ok = bool(statuses) and statuses <= ITEM_STATUSES
    return verdict(
        ok, f"collection.getList entries carry {key} {keys(first[key])}; statuses {sorted(statuses)}"
    )


def query(account: Account) -> Outcome:
    """Check that ``query`` finds a collection by its title.

    A lost upload is looked up that way, so a quota is never spent twice. Whether it also narrows the
    list is reported (if not, lookups read it all).
    """
    first = account.first
    title = first.get("collectionTitle")
    if not title:
        raise NotChecked("the first collection has no title")
    found = (account.collections(0, account.hook.list_page_size - 1, query=title) or {}).get(
        "collections"
    ) or []
    finds_title = any(c.get("collectionHash") == first.get("collectionHash") for c in found)
    if not finds_title:
        account.log.observe("flipsnack.query", {"finds_title": False})
        return differs(
            f"query=<the first collection's title> answered {len(found)} collection(s), not that one: "
            "a lost upload would not be found, and would be sent again"
        )
    nonsense = f"flipbook-doctor-{uuid.uuid4().hex}"
    narrowed = (account.collections(0, 0, query=nonsense) or {}).get("collections") or []
    account.log.observe("flipsnack.query", {"finds_title": True, "narrows": not narrowed})
    return holds(
        f"query=<title> finds the collection; a query matching nothing answered {len(narrowed)} "
        + (
            "(the filter narrows the list)"
            if not narrowed
            else "(the filter is ignored: lookups read the list)"
        )
    )


def items(account: Account) -> Outcome:
    """Check that ``collection.getCollection`` lists items under ``items`` (or ``flipbooks``).

    Each with ``status`` ``processing``/``complete``/``failed``.
    """
    collection = account.hook.get_collection(account.first["collectionHash"])
    key = next((k for k in ITEM_KEYS if isinstance(collection.get(k), list)), None)
    if key is None:
        return differs(f"collection {keys(collection)}: no item list under {' or '.join(ITEM_KEYS)}")
    statuses = {str(item.get("status", "")).lower() for item in collection[key] if isinstance(item, dict)}
    ok = bool(statuses) and statuses <= ITEM_STATUSES
    return verdict(
        ok, f"collection {keys(collection)}; {key} {keys(collection[key])}; statuses {sorted(statuses)}"
    )


def upload_host(account: Account) -> Outcome:
    """Check that the host uploads go to answers as a Flipsnack API.

    The host is the extra ``upload_host``, or derived from the API host; an unsigned GET there creates
    nothing.
    """
    try:
        account.hook.probe_upload_host()
    except AirflowException as error:  # not derivable, unreachable, or not Flipsnack: say which
        return differs(str(error))
    return holds("the upload host answered a GET with a Flipsnack envelope (code)")


def rate_limit(account: Account) -> Outcome:
    """No rate-limit header announces less than the documented 5 per second and 60 per minute."""
    return announced_limits(account.hook, account.log.rate_headers)


def write_test(account: Account) -> Outcome:
    """Check that a one-page PDF uploads and the collection deletes again (uses one monthly API upload)."""
    with tiny_pdf() as path:
        created = account.hook.create_collection(
            open_file=lambda: open(path, "rb"),
            filename="flipbook-doctor.pdf",
            title=f"flipbook-doctor write test {uuid.uuid4().hex[:8]}",
        )
    collection_hash = created["collectionHash"]
    try:
        account.hook.delete_collection(collection_hash)
    except VendorApiError as error:
        return differs(
            f"created collection {collection_hash} but could not delete it ({error}): delete it by hand"
        )
    return holds(f"created {keys(created)} and deleted it (one monthly upload used)")


CHECKS = (
    auth,
    envelope,
    user_stats,
    list_fields,
    paging,
    page_size,
    list_count,
    query,
    items,
    list_items,
    upload_host,
    rate_limit,
    write_test,
)
WRITE_CHECKS = frozenset({write_test})
