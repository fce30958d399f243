"""Papyrs: the assumptions of ``docs/vendor-conformance.md`` checked against an account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    verdict,
)
from airflow_provider_flipbook.exceptions import VendorApiError
from airflow_provider_flipbook.hooks.papyrs import PapyrsHook, created_at, page_widgets

PAGE_SIZE = 250  # what iter_records asks for
MARKDOWN = "# flipbook-doctor\n\nA paragraph written by the doctor's write test."
DISCUSSION = {"classname": "Discussion"}  # as the markdown page operator asks for one (undocumented)


@dataclass
class Written:
    """What the write test made and saw.

    The page as created and as listed, the markdown answer, and the discussion post's (None: not tried,
    the page came without its Discussion widget).
    """

    folder: str
    created: dict[str, Any]
    listed: dict[str, Any] | None
    widgets: list[dict[str, Any]] | VendorApiError
    post: dict[str, Any] | VendorApiError | None


class Account(AccountAnswers[PapyrsHook]):
    """The answers the checks read, each fetched once, at first use."""

    def records(self, page_id: str, number: int, size: int) -> Any:
        """One page of ``pages/records``, as answered."""
        return self.hook.call(
            "GET",
            f"pages/records/{page_id}/",
            operation="pages.records",
            params={"page": number, "items_per_page": size},
        )

    @answer
    def pages(self) -> Any:
        """``pages/all``, as answered."""
        return self.hook.list_pages()

    @answer
    def first_page(self) -> dict[str, Any]:
        """Fetch the first page of the subsite."""
        if not isinstance(self.pages, list) or not self.pages:
            raise NotChecked("the subsite has no page")
        return self.pages[0]

    @answer
    def written(self) -> Written:
        """Run the write test: a page with a Discussion widget, written, read back, then deleted.

        The page (in an existing folder, if there is one) has a Discussion widget, as the markdown page
        operator makes it, then one markdown widget and one discussion post, read back through
        ``pages/all``, then deleted. The hook itself deletes a page that lands in another folder than
        asked, and fails saying where it landed.
        """
        folders = [self.hook.page_folder(p) for p in self.pages if isinstance(p, dict)]
        folder = next((f for f in folders if f), "")
        hook = self.hook
        field = hook.setting("page_folder_field")
        try:
            created = hook.create_page(
                "flipbook-doctor write test", [[DISCUSSION]], category=folder or None, existing=self.pages
            )
        except VendorApiError:
            if folder:  # the hook deletes a page that landed in another folder, and says so
                self.log.observe("papyrs.category", {"field": field, "honoured": False})
            raise
        try:
            widgets: list[dict[str, Any]] | VendorApiError
            try:
                widgets = hook.create_markdown(created["id"], MARKDOWN, page=created)
            except VendorApiError as error:
                widgets = error
            post: dict[str, Any] | VendorApiError | None = None
            if any(w.get("classname") == "Discussion" for w in page_widgets(created)):
                try:
                    post = hook.post_to_discussion(created["id"], "flipbook-doctor write test")
                except VendorApiError as error:
                    post = error
            listed = next((p for p in hook.list_pages() if p.get("id") == created["id"]), None)
        finally:
            hook.delete_page(created["id"])
        return Written(folder, created, listed, widgets, post)


def credentials_refused(error: VendorApiError) -> str | None:
    """Advice when ``error`` means the token was refused (HTTP 401 or 403), else None."""
    if error.status in (401, 403):
        return (
            "Set the connection's password to a Papyrs API token, and check the extra subsite "
            "(the token's user must be a member of that subsite)."
        )
    return None


def account_refused(error: VendorApiError, accepted: bool) -> str | None:
    """Return advice when the account refused, else None.

    Refused: HTTP 403 after the token was accepted (its user lacks the rights for this call in the
    subsite).

    :param error: what the call raised
    :param accepted: an earlier call was answered (so the token itself is good)
    """
    if error.status == 403 and accepted:
        return (
            "The token was accepted by an earlier call, so its user lacks the rights for this one: make "
            "them an Editor or Admin of the subsite."
        )
    return None


def auth(account: Account) -> Outcome:
    """Check that the token is accepted as ``X-Auth-Token`` on the subsite's URL."""
    account.pages  # noqa: B018 - the call is the check: a refusal raises
    status = account.log.last.status_code if account.log.last is not None else "?"
    return holds(f"pages/all answered HTTP {status}")


def list_shape(account: Account) -> Outcome:
    """Check that ``pages/all`` answers a bare list of objects with ``id`` and ``title``.

    And with the folder (``category``, or ``folder_id`` as the extra ``page_folder_field`` says) and
    ``created_at`` that ``if_exists="replace"`` and a lost create are looked up by.
    """
    pages = account.pages
    if not isinstance(pages, list) or not all(isinstance(p, dict) for p in pages):
        return differs(f"pages/all {keys(pages)}: not a list of objects")
    folder = account.hook.setting("page_folder_field")
    absent = sorted({k for p in pages for k in {"id", "title", folder, "created_at"} - set(p)})
    undated = [p.get("id") for p in pages if "created_at" in p and created_at(p) is None]
    seen = f"pages/all {keys(pages)}" + (f"; missing {absent}" if absent else "")
    if undated:
        seen += f"; created_at not ISO 8601 on {len(undated)} page(s)"
    return verdict(not absent and not undated, seen)


def page_json(account: Account) -> Outcome:
    """``pages/get`` answers a page whose ``json`` is a list of columns, each a list of widget objects."""
    page = account.hook.get_page(account.first_page["id"])
    columns = page.get("json")
    ok = isinstance(columns, list) and all(
        isinstance(column, list) and all(isinstance(w, dict) for w in column) for column in columns
    )
    widgets = [w for column in columns for w in column] if ok and isinstance(columns, list) else []
    return verdict(
        ok, f"page {keys(page)}; json {keys(columns)}" + (f"; widgets {keys(widgets)}" if widgets else "")
    )


def error_envelope(account: Account) -> Outcome:
    """Check that an unknown page answers HTTP 404 with ``{"error", "status"}``."""
    try:
        account.hook.get_page("999999999999")
    except VendorApiError as error:
        body = account.log.last_json()
        ok = error.status == 404 and isinstance(body, dict) and {"error", "status"} <= set(body)
        return verdict(ok, f"HTTP {error.status} with {keys(body)}")
    return differs("a page id that cannot exist answered 2xx")


def records_paging(account: Account) -> Outcome:
    """``pages/records`` honours ``page`` and ``items_per_page``: page size 1 twice gives two records."""
    page_id = account.first_page["id"]
    first = account.records(page_id, 0, 1)
    if not isinstance(first, list):
        return differs(f"pages/records {keys(first)}, not a list")
    if len(first) > 1:
        return differs(f"items_per_page=1 answered {len(first)} records: the page size is ignored")
    if not first:
        raise NotChecked("the first page has no form record")
    second = account.records(page_id, 1, 1)
    if not second:
        raise NotChecked("the first page has a single form record")
    if second == first:
        return differs("page=1 answered the same record as page=0: page is ignored")
    return holds(f"page size 1 honoured; page=0 and page=1 differ; record {keys(first[0])}")


def page_size(account: Account) -> Outcome:
    """Check that a page of 250 records (what the hooks ask for) is not cut shorter.

    Lists end at a short page.
    """
    page_id = account.first_page["id"]
    return page_not_capped(
        lambda offset, size: account.records(page_id, offset // size, size) or [], PAGE_SIZE, "pages/records"
    )


def rate_limit(account: Account) -> Outcome:
    """No rate-limit header announces less than the documented 6 per 60 s."""
    return announced_limits(account.hook, account.log.rate_headers)


def write_test(account: Account) -> Outcome:
    """Check that a page can be created and deleted again."""
    created = account.written.created
    return holds(f"created {keys(created)} and deleted it")


def category(account: Account) -> Outcome:
    """Check that a page created with ``category`` lands in that folder.

    Else ``if_exists="replace"`` finds none and duplicates. Checked in a folder the subsite already has
    (the doctor creates none).
    """
    written = account.written
    if not written.folder:
        raise NotChecked("the subsite has no folder to create the test page in (the doctor creates none)")
    if written.listed is None:
        return differs("the created page is not in pages/all")
    landed = account.hook.page_folder(written.listed)
    field = account.hook.setting("page_folder_field")
    account.log.observe("papyrs.category", {"field": field, "honoured": landed == written.folder})
    return verdict(
        landed == written.folder,
        f"created in an existing folder (sent as {field}); pages/all lists it "
        + ("there" if landed == written.folder else f"elsewhere: the vendor ignores {field}"),
    )


def markdown_body(account: Account) -> Outcome:
    """``markdown/create`` takes ``{"widget": {"val": <markdown>}}`` and answers a widget or a list."""
    widgets = account.written.widgets
    if isinstance(widgets, VendorApiError):
        return differs(f"the markdown body was refused: {widgets}")
    return holds(f"answered {len(widgets)} widget(s) {keys(widgets)}" + missing(widgets[0], {"id"}))


def discussion_widget(account: Account) -> Outcome:
    """Check that a page created with ``{"classname": "Discussion"}`` in its ``json`` keeps that widget.

    The spec is undocumented; the markdown page operator asks for it to post to the page.
    """
    created = account.written.created
    kinds = sorted({str(w.get("classname")) for w in page_widgets(created)})
    account.log.observe("papyrs.discussion_widget", {"kept": "Discussion" in kinds})
    return verdict("Discussion" in kinds, f"the page was created with widgets {kinds}")


def discussion_post(account: Account) -> Outcome:
    """``feed/post`` takes ``{"msg": <text>}`` on a page with a Discussion widget."""
    post = account.written.post
    if post is None:
        raise NotChecked("the page came without its Discussion widget (see papyrs.discussion_widget)")
    if isinstance(post, VendorApiError):
        return differs(f"the post was refused: {post}")
    return holds(f"answered {keys(post)}")


CHECKS = (
    auth,
    list_shape,
    page_json,
    error_envelope,
    records_paging,
    page_size,
    rate_limit,
    category,
    write_test,
    markdown_body,
    discussion_widget,
    discussion_post,
)
WRITE_CHECKS = frozenset({write_test, category, markdown_body, discussion_widget, discussion_post})
