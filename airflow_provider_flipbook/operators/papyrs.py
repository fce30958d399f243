"""PapyrsMarkdownPageOperator: publish a markdown report as an intranet page."""

from __future__ import annotations

import functools
import mimetypes
import os
from typing import TYPE_CHECKING, Any

from airflow_provider_flipbook._compat import AirflowException, BaseOperator, task_state_store
from airflow_provider_flipbook.links import XComLink
from airflow_provider_flipbook.utils.lineage import DeclaresLineage, record
from airflow_provider_flipbook.utils.urls import public_url

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import Context

    from airflow_provider_flipbook.hooks.papyrs import PapyrsHook

STATE_KEY = "papyrs_page"
MARKDOWN_FILE_SUFFIXES = (".md", ".markdown", ".txt")


class OpenPapyrsPageLink(XComLink):
    """The Papyrs page's URL, from the page task's XCom."""

    name = "Open page"
    key = "page_url"


class PapyrsMarkdownPageOperator(DeclaresLineage, BaseOperator):
    """Create a Papyrs page from markdown with the fewest requests the API allows.

    Requests: ``pages/create`` and one ``markdown/create`` (never one per paragraph), plus one
    streamed upload per attachment and one discussion post if asked. Markdown may be a string (templated),
    or a file path, URI or ObjectStoragePath (a single line ending in .md, .markdown or .txt).

    ``if_exists="replace"`` replaces the pages with the same title in the same folder: the new page
    is created and filled first, then the old ones are deleted, so readers never see an empty page
    and a failure leaves the old page in place. The page id and URL change. ``"add"`` (default)
    always adds a page.

    Progress is kept in the task state store, so a retry finishes the same page instead of
    creating a second one.

    Lineage: inputs the markdown file (when it is one) and the attachments, output the page
    (``papyrs://<site>/@<subsite>/page/<id>``): CREATE, or OVERWRITE naming the page it replaced
    (which is reported DROPped).

    :param title: the page's title (templated).
    :param markdown: the page's content: markdown text, or a file path, URI or ObjectStoragePath of
        one (a single line ending in .md, .markdown or .txt) (templated).
    :param papyrs_conn_id: the Papyrs connection (templated).
    :param subsite: the subsite (templated; default: the connection's extra ``subsite``).
    :param folder: the folder path, e.g. ``"Reports/2026"`` (templated; default: the main folder).
    :param attachments: files to attach, each a path, URI or ObjectStoragePath (templated).
    :param discussion_post: a message to post to the page's discussion (templated).
    :param if_exists: ``add`` (default) or ``replace`` the pages with this title in this folder.
    :return: ``{"page_id", "url", "title", "widgets", "attachments", "replaced", "post_id"}``
    """

    template_fields = (
        "papyrs_conn_id",
        "title",
        "markdown",
        "subsite",
        "folder",
        "attachments",
        "discussion_post",
    )
    template_fields_renderers = {"markdown": "md"}
    operator_extra_links = (OpenPapyrsPageLink(),)

    def __init__(
        self,
        *,
        title: str,
        markdown: Any,
        papyrs_conn_id: str = "papyrs_default",
        subsite: str | None = None,
        folder: str | None = None,
        attachments: list[Any] | None = None,
        discussion_post: str | None = None,
        if_exists: str = "add",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if if_exists not in ("add", "replace"):
            raise ValueError("if_exists must be 'add' or 'replace'")
        self.title, self.markdown, self.papyrs_conn_id = title, markdown, papyrs_conn_id
        self.subsite, self.folder, self.attachments = subsite, folder, attachments or []
        self.discussion_post, self.if_exists = discussion_post, if_exists

    def _markdown_text(self) -> str:
        from airflow_provider_flipbook.utils.files import storage_path

        self._markdown_source: Any = None
        value = self.markdown
        if isinstance(value, os.PathLike) or (
            isinstance(value, str)
            and "\n" not in value.strip()
            and " " not in value.strip()
            and value.strip().lower().endswith(MARKDOWN_FILE_SUFFIXES)
        ):
            path = storage_path(value)
            if not path.exists():
                raise AirflowException(f"markdown file {path} does not exist")
            value = path.read_text()
            self._markdown_source = path
        if not isinstance(value, str) or not value.strip():
            raise AirflowException("markdown is empty: nothing to publish")
        return value

    def _attachment_paths(self) -> list[Any]:
        from airflow_provider_flipbook.utils.files import storage_path

        paths = []
        for item in self.attachments:
            path = storage_path(item)
            if not path.exists():
                raise AirflowException(f"attachment {path} does not exist")
            paths.append(path)
        return paths

    @staticmethod
    def _unknown_post(progress: dict[str, Any]) -> str:
        return (
            f"Papyrs feed.post: the answer to the discussion post on page {progress.get('url')} was lost, and "
            "Papyrs cannot list a discussion to check it. Look at the page: if the post is there, mark this "
            "task success; if not, clear the task's state (or rerun the DAG) to post it."
        )

    def _to_replace(
        self, hook: PapyrsHook, title: str, pages: list[dict[str, Any]], ours: str | None
    ) -> list[str]:
        """Return the ids of the pages with this title in this folder (``if_exists="replace"``)."""
        folder = (self.folder or "").strip("/")
        namesakes = [p for p in pages if p.get("title") == title and p["id"] != ours]
        if unplaced := [p["id"] for p in namesakes if hook.page_folder(p) is None]:
            # Without the folder, "the same page" cannot be told: replacing could delete another
            # folder's page or keep ours twice.
            raise AirflowException(
                f"Papyrs pages {unplaced} titled {title!r} carry no folder (category) in pages/all: "
                "if_exists='replace' cannot tell which one to replace; nothing was changed"
            )
        return [p["id"] for p in namesakes if hook.page_folder(p) == folder]

    def _create_page(
        self, hook: PapyrsHook, title: str, pages: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        """Create a new empty page (with a Discussion widget if a post is asked for), in the folder."""
        from airflow_provider_flipbook.hooks.papyrs import page_widgets

        columns: list[list[dict[str, Any]]] = [[]]
        if self.discussion_post:
            columns.append([{"classname": "Discussion"}])
        page = hook.create_page(title, columns, category=self.folder, existing=pages)
        if self.discussion_post and not any(w.get("classname") == "Discussion" for w in page_widgets(page)):
            # The Discussion widget's spec is undocumented ({"classname": "Discussion"} is a guess):
            # a page that came back without it could never take the post.
            hook.delete_page(page["id"])
            raise AirflowException(
                "Papyrs created the page without the Discussion widget asked for as "
                '{"classname": "Discussion"} (the widget spec is not documented), so the discussion '
                f"post could not be made; the page was deleted again. Widgets seen: "
                f"{sorted({str(w.get('classname')) for w in page_widgets(page)})}"
            )
        return page

    def _attach(
        self,
        hook: PapyrsHook,
        page_id: str,
        attachments: list[Any],
        known: list[Any] | None,
        progress: dict[str, Any],
        save: Callable[[], None],
    ) -> None:
        """One streamed upload per attachment not attached by an earlier try."""
        for path in attachments:
            if str(path) in progress["attachments"]:
                continue
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            attachment = hook.create_attachment(
                page_id, path.name, functools.partial(path.open, "rb"), kind, known_widgets=known
            )
            if known is not None:
                known.append(attachment.get("id"))
            progress["attachments"].append(str(path))
            save()

    def _post(
        self, hook: PapyrsHook, page_id: str, progress: dict[str, Any], save: Callable[[], None]
    ) -> None:
        """Post the discussion post, at most once.

        Papyrs cannot list a discussion, so a post whose answer was lost cannot be looked for; fail,
        naming the page to check, rather than post it twice.
        """
        from airflow_provider_flipbook.exceptions import OutcomeUnknownError

        if progress.get("post_sent"):
            raise AirflowException(self._unknown_post(progress))
        progress["post_sent"] = True
        save()
        try:
            progress["post_id"] = hook.post_to_discussion(page_id, self.discussion_post or "").get("id")
        except OutcomeUnknownError:
            raise AirflowException(self._unknown_post(progress)) from None
        save()

    def _delete(self, hook: PapyrsHook, pages: list[str]) -> None:
        """Delete the replaced pages, once the new one is complete."""
        from airflow_provider_flipbook.exceptions import NotFoundError

        for old in pages:
            try:
                hook.delete_page(old)
            except NotFoundError:  # a concurrent run replaced it first: the outcome wanted is there
                self.log.info("Page %s is already gone", old)
                continue
            self.log.info("Replaced page %s", old)

    def execute(self, context: Context) -> dict[str, Any]:
        """Create the page (or resume the previous try's), fill it, attach, post, then replace.

        :param context: the task context.
        """
        from airflow_provider_flipbook.hooks.papyrs import PapyrsHook, page_widgets

        title = str(self.title or "").strip()
        if not title:
            raise AirflowException("title is empty")
        markdown = self._markdown_text()
        attachments = self._attachment_paths()
        hook = PapyrsHook(self.papyrs_conn_id, subsite=self.subsite)
        if hook.connection.conn_type != "papyrs":
            raise AirflowException(f"Connection {self.papyrs_conn_id!r} is not a papyrs connection")
        store = task_state_store(context)  # None below Airflow 3.3: no resume
        hook.journal = store  # a retry after a lost answer looks before it creates again
        progress: dict[str, Any] = (store.get(STATE_KEY) if store is not None else None) or {}

        def save() -> None:
            if store is not None:
                store.set(STATE_KEY, progress)

        pages = hook.list_pages() if self.if_exists == "replace" else None
        existing = self._to_replace(hook, title, pages, progress.get("page_id")) if pages is not None else []
        created = None
        if not progress.get("page_id"):
            page = created = self._create_page(hook, title, pages)
            progress.update(page_id=page["id"], url=page.get("url"), attachments=[])
            save()
            self.log.info("Created Papyrs page %r (id %s) at %s", title, page["id"], page.get("url"))
        else:
            self.log.info(
                "Resuming the previous try's page %r (id %s) at %s",
                title,
                progress["page_id"],
                progress.get("url"),
            )
        page_id = progress["page_id"]
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key="page_id", value=page_id)
            ti.xcom_push(key="page_url", value=public_url(progress.get("url")))
        known: list[Any] | None = None  # the page's widget ids while this try knows them all
        if "widgets" not in progress:
            widgets = hook.create_markdown(page_id, markdown, page=created)
            progress["widgets"] = len(widgets)
            save()
            if created is not None:
                known = [w.get("id") for w in page_widgets(created)] + [w.get("id") for w in widgets]
        self._attach(hook, page_id, attachments, known, progress, save)
        if self.discussion_post and "post_id" not in progress:
            self._post(hook, page_id, progress, save)
        # A retry's namesakes list the page its first try made and lost the answer to, now adopted.
        existing = [old for old in existing if old != page_id]
        self._delete(hook, existing)
        self.declare(
            hook,
            record(
                vendor="papyrs",
                host=hook.base_url,
                subsite=hook.subsite,
                kind="page",
                object_id=page_id,
                lifecycle="OVERWRITE" if existing else "CREATE",
                ids={"page_id": page_id, "replaced": existing},
                inputs=[self._markdown_source, *attachments],
                public_url=progress.get("url"),
                external_id=page_id,
                previous=existing,
            ),
        )
        return {
            "page_id": page_id,
            "url": progress.get("url"),
            "title": title,
            "widgets": progress["widgets"],
            "attachments": [os.path.basename(a) for a in progress["attachments"]],
            "replaced": existing,
            "post_id": progress.get("post_id"),
        }
