"""Papyrs API hook (JSON, ``X-Auth-Token`` header; the token never goes in a URL).

Base URLs: ``https://<site>.papyrs.com/@<subsite>/api/v1`` for subsite calls and
``https://<site>.papyrs.com/api/v1`` for site-wide ones (people invites, subsites). The
connection's extra ``subsite`` picks the subsite; without it, subsite calls go to ``@home``.

Errors: any non-2xx is an error; the documented body is ``{"error": ..., "status": ...}``. The
people endpoints document ``{"success": false, "error": ...}`` for a failure without saying its
HTTP status, so ``success: false`` in a 2xx answer is an error too, with the vendor's message.
Writes are POST (deletes too). A widget update returns a new ``id`` and ``version_of_id``.
Paragraph/heading widgets: the body is ``{"widget": {"val": ...}}`` (the documented example POST);
``format``, ``styleclass`` and ``heading`` go in the request URL ("The following additional
parameters can be added to the request URL"). ``markdown/create`` takes the same body (its own
example is missing from the document) and answers one widget or a list of them.
Pacing: 6 requests per 60 s per token (the documented default; set extra ``rate_limit`` if
Papyrs raised yours).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

import requests
from requests_toolbelt import MultipartEncoder

from airflow_provider_flipbook import connection_extras
from airflow_provider_flipbook.exceptions import InvalidInputError, NotFoundError
from airflow_provider_flipbook.hooks.base import FlipbookBaseHook
from airflow_provider_flipbook.utils.paging import paged
from airflow_provider_flipbook.utils.ratelimit import SlidingWindow

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

WIDGET_KINDS = ("paragraph", "heading", "attachment")
# How far our clock may run ahead of the vendor's when a lost create is looked for by ``created_at``.
CLOCK_SKEW = 120.0
MAX_COPY_ROUNDS = (
    1000  # folder/copy answers "more" until done; a vendor that never stops must not loop forever
)


class _Token(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["X-Auth-Token"] = self._token
        return request


class PapyrsHook(FlipbookBaseHook):
    """Papyrs's pages, widgets, search, people, folders, discussions and subsites.

    Widgets: text, heading, attachment, markdown.

    Connection: host = the site URL (``https://<site>.papyrs.com``), password = API token,
    extra ``subsite`` (leave out for site-wide calls, ``home`` is used for subsite calls).

    :param conn_id: the Papyrs connection (default ``papyrs_default``).
    :param subsite: the subsite of page calls, instead of the connection's extra ``subsite``.
    """

    conn_name_attr = "papyrs_conn_id"
    default_conn_name = "papyrs_default"
    conn_type = "papyrs"
    hook_name = "Papyrs"
    vendor = "Papyrs"
    default_limits = (SlidingWindow(6, 60.0),)
    host_meaning = "Papyrs site URL (https://<site>.papyrs.com)"

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:  # Airflow 3.1; 3.2+ reads conn-fields
        """Return the connection form's extra fields, for Airflow 3.1 (3.2+ reads the provider info)."""
        return connection_extras.form_widgets(cls.conn_type)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:  # Airflow 3.1; 3.2+ reads ui-field-behaviour
        """Return the connection form's labels and hidden fields for Airflow 3.1 (3.2+: the provider info)."""
        return connection_extras.field_behaviour(cls.conn_type)

    def __init__(self, conn_id: str | None = None, *, subsite: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        self._subsite = subsite

    @property
    def subsite(self) -> str:
        """The subsite of page calls: the constructor's, else the extra ``subsite`` (``home``)."""
        return (self._subsite or self.setting("subsite")).lstrip("@")

    def api_url(self, path: str, *, site_wide: bool = False) -> str:
        """Return the URL of an API path: on the subsite, or site-wide.

        :param path: the path below ``api/v1/``, e.g. ``pages/all/``.
        :param site_wide: leave the subsite out (people invites, subsites).
        """
        prefix = "" if site_wide else f"/@{self.subsite}"
        return f"{self.base_url}{prefix}/api/v1/{path.lstrip('/')}"

    def site_url(self) -> str:
        """Return the subsite's own URL, ``<site>/@<subsite>``."""
        return f"{self.base_url}/@{self.subsite}"

    def _auth(self) -> requests.auth.AuthBase:
        return _Token(self._require(self.connection.password, "password", "Papyrs API token"))

    # -- generic call ---------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        site_wide: bool = False,
        json: Any = None,
        params: dict[str, Any] | None = None,
        operation: str | None = None,
        allow_empty: bool = False,
        creates: bool = False,
    ) -> Any:
        """Call any endpoint, e.g. ``call("GET", "pages/all/")``; returns the parsed JSON.

        :param method: the HTTP method (the vendor's writes are all POST).
        :param path: the path below ``api/v1/``.
        :param site_wide: call it on the site, not the subsite.
        :param json: the JSON body.
        :param params: query parameters (the documented "additional parameters" of the URL).
        :param operation: the name errors carry (default: from the path).
        :param allow_empty: an empty 2xx body is a valid answer (deletes; their body is undocumented).
        :param creates: resent only when it provably never reached the vendor (see ``_request``).
        """
        operation = operation or path.strip("/").split("/")[0] + "." + path.strip("/").split("/")[-1]
        return self._request(
            operation,
            method,
            self.api_url(path, site_wide=site_wide),
            lambda r: self._parse(r, operation, allow_empty),
            json=json,
            params=params,
            creates=creates,
        )

    def _parse(self, response: requests.Response, operation: str, allow_empty: bool = False) -> Any:
        if response.status_code >= 300:
            code, message = self._describe_error(response)
            cls = NotFoundError if response.status_code == 404 else None
            if cls:
                raise cls(self.vendor, operation, self.redact(message), status=404, code=code)
            raise self.error(operation, message or response.reason, status=response.status_code, code=code)
        if not response.content and allow_empty:
            return None
        body = self._json(response, operation)
        if isinstance(body, dict) and body.get("success") is False:
            raise self.error(
                operation,
                str(body.get("error") or "the answer says success: false"),
                status=response.status_code,
            )
        return body

    def _describe_error(self, response: requests.Response) -> tuple[Any, str]:
        try:
            body = response.json()
        except ValueError:
            return None, self._text_excerpt(response)
        if isinstance(body, dict):
            return body.get("status", response.status_code), str(body.get("error") or "")
        return None, self._text_excerpt(response)

    def _probe(self) -> str:
        return f"{len(self.list_pages())} pages visible in @{self.subsite}"

    # -- pages -------------------------------------------------------------------------------

    def list_pages(self) -> list[dict[str, Any]]:
        """``pages/all``: the subsite's pages, newest first (a bare list)."""
        return self.call("GET", "pages/all/", operation="pages.all")

    def get_page(self, page_id: str) -> dict[str, Any]:
        """``pages/get``: the page, with its ``json`` (a list of columns of widgets).

        :param page_id: the page.
        """
        page = self.call("GET", f"pages/get/{page_id}/", operation="pages.get")
        if not isinstance(page, dict) or not isinstance(page.get("json", []), list):
            seen = sorted(page) if isinstance(page, dict) else type(page).__name__
            raise self.error("pages.get", f"expected a page with a 'json' list of columns, got {seen}")
        return page

    def create_page(
        self,
        title: str,
        columns: list[list[dict[str, Any]]] | None = None,
        *,
        layout: Any = None,
        category: str | None = None,
        existing: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a page; with ``category``, in that folder, checked on the answer.

        The document names no folder field for ``pages/create``: the extra ``page_folder_field`` says
        which one to send (``category``, the folder path as peers send it and as pages carry it, or
        ``folder_id``, the name ``pages/copy`` documents, looked up in ``folder/tree``). A page that
        lands elsewhere (the vendor ignored the field) is deleted again and the task fails saying so,
        so it is never left in the wrong folder nor made twice by a retry or ``if_exists="replace"``.

        :param title: the page's title.
        :param columns: the page's ``json``: a list of columns, each a list of widget dicts.
        :param layout: the page's layout (default: the subsite's).
        :param category: the folder path (``"HR/Policies"``); none for the subsite's main folder.
        :param existing: the pages listed just before, if the caller has them (saves a request).
        :param fields: further fields sent as given.
        """
        folder = (category or "").strip("/")
        body = {
            "title": title,
            "json": columns if columns is not None else [[]],
            "layout": layout,
            **self._folder_fields(folder),
            **fields,
        }

        def ours() -> list[dict[str, Any]]:
            """List our pages with this title in this folder.

            The ones ``existing`` lists are not ours; without it, neither is any page created before the
            first attempt (``created_at``, allowing for skew).
            """
            return [
                page
                for page in self.list_pages()
                if page.get("title") == title and self.page_folder(page) == folder
            ]

        page = self.create_once(
            "pages.create",
            lambda: self.call(
                "POST",
                "pages/create/",
                json={k: v for k, v in body.items() if v is not None},
                operation="pages.create",
                creates=True,
            ),
            describe=f"page title {title!r} in folder {folder or '/'!r}",
            lookup=ours,
            identity=lambda page: page.get("id"),
            adopt=lambda found: self.get_page(found[0]["id"]),
            before=[page.get("id") for page in existing or []],
            created=None if existing is not None else created_at,
            clock_skew=CLOCK_SKEW,
        )
        landed = self.page_folder(page) if isinstance(page, dict) else None
        if folder and landed != folder:
            if isinstance(page, dict) and page.get("id"):
                self.delete_page(page["id"])
            seen = f"in folder {landed!r}" if landed is not None else f"with keys {sorted(page or {})}"
            raise self.error(
                "pages.create",
                f"the page was asked for folder {folder!r} (sent as {self.setting('page_folder_field')!r}) "
                f"and came back {seen}: it was deleted again. Papyrs documents no folder field for "
                "pages/create: try the connection extra page_folder_field (category or folder_id)",
            )
        return page

    def _folder_fields(self, folder: str) -> dict[str, Any]:
        """Return the field that puts a new page in ``folder``, as the extra ``page_folder_field`` says."""
        if not folder:
            return {}
        if self.setting("page_folder_field") == "category":
            return {"category": folder}
        ids = [f.get("id") for f in self.folder_tree() if str(f.get("path", "")).strip("/") == folder]
        if len(ids) != 1:
            raise InvalidInputError(
                f"Papyrs folder {folder!r} is {'ambiguous' if ids else 'not in folder/tree'}: with "
                "page_folder_field=folder_id the folder must exist once (create it in Papyrs first)"
            )
        return {"folder_id": ids[0]}

    def page_folder(self, page: dict[str, Any]) -> str | None:
        """Return the folder path a page carries (``category``, as peers read it); None if it carries none.

        :param page: a page as ``pages/all``, ``pages/get`` or ``pages/create`` answer it.
        """
        category = page.get("category")
        if category is None and page.get("folder_id") is not None:
            paths = {str(f.get("id")): str(f.get("path", "")) for f in self.folder_tree()}
            category = paths.get(str(page["folder_id"]))
        return category.strip("/") if isinstance(category, str) else None

    def copy_page(self, page_id: str, **fields: Any) -> dict[str, Any]:
        """``pages/copy``: a copy of the page; the answer is passed on unread (the page documents none).

        :param page_id: the page to copy.
        :param fields: title, tags (comma-separated), folder_id, path.
        """
        return self.call("POST", f"pages/copy/{page_id}/", json=fields, creates=True, operation="pages.copy")

    def delete_page(self, page_id: str) -> None:
        """``pages/delete``.

        :param page_id: the page.
        """
        self.call("POST", f"pages/delete/{page_id}/", operation="pages.delete", allow_empty=True)

    def iter_records(self, page_id: str, items_per_page: int = 250) -> Iterator[dict[str, Any]]:
        """``pages/records``, paged: the form records submitted on the page.

        :param page_id: the page.
        :param items_per_page: records per request (at most 250).
        """

        def fetch(offset: int, count: int) -> list[dict[str, Any]]:
            batch = (
                self.call(
                    "GET",
                    f"pages/records/{page_id}/",
                    operation="pages.records",
                    params={"page": offset // count, "items_per_page": count},
                )
                or []
            )
            if not isinstance(batch, list):
                raise self.error("pages.records", f"expected a list of records, got {type(batch).__name__}")
            return batch

        return iter(paged(fetch, items_per_page))  # a short page ends it; a repeated page or the cap warns

    # -- widgets -----------------------------------------------------------------------------

    def create_widget(
        self,
        page_id: str,
        kind: str,
        val: str,
        *,
        format: str = "html",
        styleclass: str | None = None,
        heading: str | None = None,
        known_widgets: list[Any] | None = None,
    ) -> dict[str, Any]:
        """Add a paragraph or heading widget to a page, once.

        After a lost answer the page's one new widget is adopted (attachments are files:
        :meth:`create_attachment`).

        :param page_id: the page.
        :param kind: ``paragraph`` or ``heading``.
        :param val: the widget's content.
        :param format: ``html`` or ``text`` (how ``val`` is read).
        :param styleclass: the widget's style (see the document's lists).
        :param heading: the heading size, ``h0`` to ``h4``.
        :param known_widgets: the page's widget ids, if the caller knows them (saves a request).
        """
        _text_kind(kind, "create_attachment")
        return self.create_once(
            f"{kind}.create",
            lambda: self.call(
                "POST",
                f"page/{page_id}/{_kind(kind)}/create/",
                json={"widget": {"val": val}},
                params=_options(format, styleclass, heading),
                operation=f"{kind}.create",
                creates=True,
            ),
            describe=f"the widgets of page {page_id}",
            lookup=lambda: page_widgets(self.get_page(page_id)),
            identity=lambda widget: widget.get("id"),
            adopt=lambda found: found[0],
            before=known_widgets,
        )

    def get_widget(self, page_id: str, kind: str, widget_id: str) -> dict[str, Any]:
        """``page/<id>/<kind>/get``: one widget.

        :param page_id: the page.
        :param kind: ``paragraph``, ``heading`` or ``attachment``.
        :param widget_id: the widget (its latest id, or the ``version_of_id`` of its first).
        """
        return self.call("GET", f"page/{page_id}/{_kind(kind)}/get/{widget_id}/", operation=f"{kind}.get")

    def update_widget(
        self,
        page_id: str,
        kind: str,
        widget_id: str,
        val: str,
        *,
        format: str = "html",
        styleclass: str | None = None,
        heading: str | None = None,
    ) -> dict[str, Any]:
        """Update a widget; return it with its new ``id`` and ``version_of_id``.

        Resend ``styleclass``: the vendor resets it otherwise. Like ``format``, they go in the URL (as
        for create). Attachments are files: :meth:`add_to_attachment`.

        :param page_id: the page.
        :param kind: ``paragraph``, ``heading`` or ``attachment``.
        :param widget_id: the widget (its latest id, or the ``version_of_id`` of its first).
        :param val: the widget's new content.
        :param format: ``html`` or ``text`` (how ``val`` is read).
        :param styleclass: the widget's style.
        :param heading: the heading size, ``h0`` to ``h4``.
        """
        _text_kind(kind, "add_to_attachment")
        return self.call(
            "POST",
            f"page/{page_id}/{_kind(kind)}/update/{widget_id}/",
            json={"widget": {"val": val}},
            params=_options(format, styleclass, heading),
            operation=f"{kind}.update",
        )

    def delete_widget(self, page_id: str, kind: str, widget_id: str) -> None:
        """``page/<id>/<kind>/delete``.

        :param page_id: the page.
        :param kind: ``paragraph``, ``heading`` or ``attachment``.
        :param widget_id: the widget (its latest id, or the ``version_of_id`` of its first).
        """
        self.call(
            "POST",
            f"page/{page_id}/{_kind(kind)}/delete/{widget_id}/",
            operation=f"{kind}.delete",
            allow_empty=True,
        )

    def create_markdown(
        self, page_id: str, markdown: str, *, page: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Add all widgets of a markdown document in one request; always return a list.

        Once only: a lost answer adopts the page's new widgets.

        :param page_id: the page.
        :param markdown: the markdown source.
        :param page: the page as just read or created, if the caller has it (saves a request).
        """
        if not markdown.strip():
            raise ValueError("markdown is empty")

        def create() -> list[dict[str, Any]]:
            result = self.call(
                "POST",
                f"page/{page_id}/markdown/create/",
                json={"widget": {"val": markdown}},
                operation="markdown.create",
                creates=True,
            )
            widgets = result if isinstance(result, list) else [result]
            if not widgets or not all(isinstance(w, dict) and "id" in w for w in widgets):
                seen = sorted(result) if isinstance(result, dict) else type(result).__name__
                raise self.error(
                    "markdown.create", f"expected a widget or a list of widgets, got keys {seen}"
                )
            return widgets

        return self.create_once(
            "markdown.create",
            create,
            describe=f"the widgets of page {page_id}",
            several=True,
            lookup=lambda: page_widgets(self.get_page(page_id)),
            identity=lambda widget: widget.get("id"),
            adopt=lambda found: found,
            before=None if page is None else [w.get("id") for w in page_widgets(page)],
        )

    def _upload(
        self,
        url_path: str,
        operation: str,
        filename: str,
        open_file: Callable[[], BinaryIO],
        content_type: str,
    ) -> dict[str, Any]:
        encoders: list[MultipartEncoder] = []

        def body() -> MultipartEncoder:
            encoders.append(MultipartEncoder(fields={"file": (filename, open_file(), content_type)}))
            return encoders[-1]

        return self._request(
            operation,
            "POST",
            self.api_url(url_path),
            lambda r: self._parse(r, operation),
            body=body,
            headers=lambda: {"Content-Type": encoders[-1].content_type},
            creates=True,
        )

    def create_attachment(
        self,
        page_id: str,
        filename: str,
        open_file: Callable[[], BinaryIO],
        content_type: str = "application/octet-stream",
        *,
        known_widgets: list[Any] | None = None,
    ) -> dict[str, Any]:
        """Upload one file as a new attachment widget (streamed multipart), once.

        A lost answer adopts the page's one new attachment.

        :param page_id: the page.
        :param filename: the file's name.
        :param open_file: opens the file (called per attempt).
        :param content_type: the file's media type.
        :param known_widgets: the page's widget ids, if the caller knows them (saves a request).
        """
        return self.create_once(
            "attachment.create",
            lambda: self._upload(
                f"page/{page_id}/attachment/create/", "attachment.create", filename, open_file, content_type
            ),
            describe=f"the attachments of page {page_id}",
            lookup=lambda: [
                w for w in page_widgets(self.get_page(page_id)) if w.get("classname") == "Attachment"
            ],
            identity=lambda widget: widget.get("id"),
            adopt=lambda found: found[0],
            before=known_widgets,
        )

    def add_to_attachment(
        self,
        page_id: str,
        widget_id: str,
        filename: str,
        open_file: Callable[[], BinaryIO],
        content_type: str = "application/octet-stream",
    ) -> dict[str, Any]:
        """Add a file to an attachment widget (streamed multipart); returns the widget's new version.

        :param page_id: the page.
        :param widget_id: the attachment widget.
        :param filename: the file's name.
        :param open_file: opens the file (called per attempt).
        :param content_type: the file's media type.
        """
        return self._upload(
            f"page/{page_id}/attachment/update/{widget_id}/",
            "attachment.update",
            filename,
            open_file,
            content_type,
        )

    # -- search, people, folders, discussions, subsites -------------------------------------------

    def search(self, query: str) -> list[dict[str, Any]]:
        """``search/query``: the ``results`` of Papyrs' own search (pages, files, people, forms, comments).

        :param query: the search text.
        """
        return (self.call("GET", "search/query/", params={"q": query}, operation="search.query") or {}).get(
            "results", []
        )

    def list_people(self, *, site_wide: bool = False) -> list[dict[str, Any]]:
        """``people/all``: the people directory, newest first.

        :param site_wide: the whole site instead of the subsite.
        """
        return self.call("GET", "people/all/", site_wide=site_wide, operation="people.all")

    def invite_person(
        self,
        email_address: str,
        *,
        name: str | None = None,
        auto_join: bool = True,
        skip_welcome_email: bool = False,
    ) -> dict[str, Any]:
        """``people/invite`` (site-wide): invite a user; ``success: false`` raises with the vendor's error.

        :param email_address: the new user's address.
        :param name: the user's name (default: the address).
        :param auto_join: add the user to the auto-join subsites.
        :param skip_welcome_email: send no welcome email (it carries the password link).
        """
        body = {
            "email_address": email_address,
            "name": name,
            "auto_join": auto_join,
            "skip_welcome_email": skip_welcome_email,
        }
        return self.call(
            "POST",
            "people/invite/",
            site_wide=True,
            creates=True,
            operation="people.invite",
            json={k: v for k, v in body.items() if v is not None},
        )

    def delete_person(self, user_id: str) -> None:
        """``people/delete`` (site-wide): delete a user from the site, every subsite included.

        :param user_id: the user.
        """
        self.call(
            "POST", f"people/delete/{user_id}/", site_wide=True, operation="people.delete", allow_empty=True
        )

    def add_to_subsite(self, user_id: str, role: str | None = None, skip_welcome_email: bool = False) -> dict:
        """``people/add_to_subsite``: add an existing user to this subsite.

        :param user_id: the user.
        :param role: ``viewer``, ``editor`` or ``admin`` (default: the subsite's).
        :param skip_welcome_email: send no email about it.
        """
        body = {"role": role, "skip_welcome_email": skip_welcome_email}
        return self.call(
            "POST",
            f"people/add_to_subsite/{user_id}/",
            operation="people.add_to_subsite",
            json={k: v for k, v in body.items() if v is not None},
        )

    def remove_from_subsite(self, user_id: str) -> dict:
        """``people/remove_from_subsite``.

        :param user_id: the user.
        """
        return self.call(
            "POST", f"people/remove_from_subsite/{user_id}/", operation="people.remove_from_subsite"
        )

    def set_permission(self, user_id: str, role: str) -> dict:
        """``people/set_permission`` on this subsite.

        :param user_id: the user.
        :param role: ``admin``, ``editor`` or ``viewer``.
        """
        return self.call(
            "POST",
            f"people/set_permission/{user_id}/",
            json={"role": role},
            operation="people.set_permission",
        )

    def set_notifications(self, user_id: str, notifications: str) -> dict:
        """``people/set_notifications`` on this subsite.

        :param user_id: the user.
        :param notifications: ``off``, ``on`` or ``digest``.
        """
        return self.call(
            "POST",
            f"people/set_notifications/{user_id}/",
            json={"notifications": notifications},
            operation="people.set_notifications",
        )

    def folder_tree(self) -> list[dict[str, Any]]:
        """``folder/tree``: the subsite's folders (``id``, ``path``)."""
        return self.call("GET", "folder/tree/", operation="folder.tree")

    def delete_folder(self, *, folder_id: str | None = None, path: str | None = None) -> Any:
        """``folder/delete``: a folder and its empty subfolders.

        :param folder_id: the folder, by id.
        :param path: the folder, by path (one of the two, never both).
        """
        if bool(folder_id) == bool(path):
            raise ValueError("delete_folder takes either folder_id or path")
        body = {"folder_id": folder_id} if folder_id else {"path": path}
        return self.call("POST", "folder/delete/", json=body, operation="folder.delete")

    def copy_folder(self, *, source: dict[str, str], target: dict[str, str]) -> Any:
        """Copy a folder with its pages.

        The call is repeated with the returned ``more`` until the vendor says it is done. A round that
        may have reached the vendor is not resent.

        :param source: ``{"copy_folder_id": ...}`` or ``{"copy_path": ...}``.
        :param target: ``{"target_folder_id": ...}`` or ``{"target_path": ...}``.
        """
        body: dict[str, Any] = {**source, **target}
        for _ in range(MAX_COPY_ROUNDS):
            # Copies pages: a round that may have reached the vendor is not resent (OutcomeUnknownError).
            result = self.call("POST", "folder/copy/", json=body, operation="folder.copy", creates=True) or {}
            if not result.get("more"):
                return result
            if result["more"] == body.get("more"):  # the vendor did not move on: it would never end
                raise self.error("folder.copy", f"the answer's 'more' did not change ({result['more']!r})")
            body = {**body, "more": result["more"]}
        raise self.error(
            "folder.copy", f"still 'more' after {MAX_COPY_ROUNDS} rounds: the copy may be incomplete"
        )

    def post_to_discussion(self, page_id: str, message: str) -> dict[str, Any]:
        """``feed/post``: a comment on a page with a Discussion widget; never sent twice.

        :param page_id: the page.
        :param message: the comment.
        """
        return self.call(
            "POST", f"feed/post/{page_id}/", json={"msg": message}, creates=True, operation="feed.post"
        )

    def list_subsites(self) -> list[dict[str, Any]]:
        """``subsites/all`` (site-wide, site owners only)."""
        return self.call("POST", "subsites/all/", site_wide=True, operation="subsites.all")

    def create_subsite(self, title: str, description: str | None = None) -> dict[str, Any]:
        """``subsites/create`` (site-wide): a new, empty subsite.

        :param title: the subsite's title.
        :param description: its description.
        """
        body = {"title": title, **({"description": description} if description else {})}
        return self.call(
            "POST", "subsites/create/", site_wide=True, json=body, creates=True, operation="subsites.create"
        )


def created_at(page: dict[str, Any]) -> float | None:
    """Read a page's ``created_at`` (ISO 8601, UTC, as the document says dates are) as a timestamp."""
    try:
        return datetime.fromisoformat(str(page["created_at"]).replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError):
        return None


def page_widgets(page: dict[str, Any]) -> list[dict[str, Any]]:
    """Every widget of a page, from its ``json``: a list of columns, each a list of widgets."""
    columns = page.get("json") or []
    return [w for column in columns if isinstance(column, list) for w in column if isinstance(w, dict)]


def _options(format: str, styleclass: str | None, heading: str | None) -> dict[str, str]:
    """Widget options for the request URL, where the document puts them."""
    return {
        k: v
        for k, v in {"format": format, "styleclass": styleclass, "heading": heading}.items()
        if v is not None
    }


def _text_kind(kind: str, instead: str) -> None:
    """Refuse, before any call, a JSON widget body for an attachment: the document takes a file."""
    if kind == "attachment":
        raise InvalidInputError(
            f"attachment widgets take a file in a multipart 'file' field, not a value: use {instead}()"
        )


def _kind(kind: str) -> str:
    if kind not in WIDGET_KINDS:
        raise ValueError(f"widget kind must be one of {WIDGET_KINDS}, got {kind!r}")
    return kind
