"""A fifth vendor built from docs/architecture.md's "How to add a vendor" alone, registered only here.

Acme Flipbooks is a made-up vendor: a bearer token, ``GET /me``, ``GET/POST /flipbooks`` (the name is
its natural key), ``PUT /flipbooks/<id>/pdf`` and a conversion that ends after a second of the
vendor's clock. Following the recipe: a registry line (``vendors.VENDORS``), a hook on the shared
transport implementing the publishing protocol, an asset scheme, and a sandbox emulator added to
``sandbox.emulators.EMULATORS``. Nothing else of the provider is touched: the generic contract (hook
lookup, ``test_connection``, provider info and connection forms, the publishing protocol through the
upload operator, its deferrable wait and its exactly-once create) runs against it over real HTTP.
"""

from __future__ import annotations

import json
import sys
import types
from typing import Any, ClassVar

import pytest
import requests
from fastapi import Request  # FastAPI reads route annotations at run time
from fastapi.responses import JSONResponse, Response

from airflow_provider_flipbook import connection_extras, vendors
from airflow_provider_flipbook.assets.base import AssetScheme
from airflow_provider_flipbook.exceptions import InvalidInputError, NotFoundError
from airflow_provider_flipbook.hooks.base import FlipbookBaseHook
from airflow_provider_flipbook.hooks.publishing import (
    ConversionStatus,
    PdfLimits,
    PublicationSummary,
    Published,
    PublishRequest,
)
from airflow_provider_flipbook.sandbox.core.emulator import Credential, VendorEmulator, VendorState, token
from airflow_provider_flipbook.sandbox.core.errors import SuccessRaised, VendorError
from airflow_provider_flipbook.sandbox.core.routing import answered, route
from airflow_provider_flipbook.sandbox.emulators import EMULATORS
from airflow_provider_flipbook.sandbox.server import SandboxServer
from airflow_provider_flipbook.utils.ratelimit import SlidingWindow
from tests.conftest import run_deferred

# -- 1. the hook (hooks/acme.py) ----------------------------------------------------------------------


class _Bearer(requests.auth.AuthBase):
    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request


class AcmeHook(FlipbookBaseHook):
    """Acme Flipbooks: flipbooks made from PDFs."""

    conn_name_attr = "acme_conn_id"
    default_conn_name = "acme_default"
    conn_type = "acme"
    hook_name = "Acme Flipbooks"
    vendor = "Acme"
    publication_kind = "flipbook"
    default_base_url: ClassVar[str] = "https://api.acme.example"
    default_limits = (SlidingWindow(20, 1.0),)
    pdf_limits = PdfLimits(10 * 1024 * 1024, 100, accepts_password=False)
    status_listing = None

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return connection_extras.form_widgets(cls.conn_type)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return connection_extras.field_behaviour(cls.conn_type)

    def _auth(self) -> requests.auth.AuthBase:
        return _Bearer(self._require(self.connection.password, "password", "Acme API token"))

    def _parse(self, response: requests.Response, operation: str) -> Any:
        if response.status_code == 404:
            raise NotFoundError(self.vendor, operation, "not found", status=404)
        if response.status_code >= 300:
            raise self.error(operation, self._text_excerpt(response), status=response.status_code)
        return self._json(response, operation)

    def call(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        return self._request(
            operation, method, self.base_url + path, lambda r: self._parse(r, operation), **kwargs
        )

    def _probe(self) -> str:
        return f"account {self.call('GET', '/me', 'me')['account']}"

    def check_request(self, request: PublishRequest) -> None:
        if request.folder or request.domain or request.parent_category_id or request.url_name:
            raise InvalidInputError("Acme takes a name and a description only")

    def publish_pdf(self, source: Any, facts: Any, request: PublishRequest) -> Published:
        flipbook_id = request.publication_id or self.create_once(
            "flipbooks.create",
            lambda: self.call(
                "POST", "/flipbooks", "flipbooks.create", json={"name": request.name}, creates=True
            )["id"],
            lookup=lambda: self.find_publications(request.name),
            identity=lambda found: found["publication_id"],
            adopt=lambda found: found[0]["publication_id"],
            describe=f"flipbook named {request.name!r}",
        )
        with source.open() as stream:
            version = self.call("PUT", f"/flipbooks/{flipbook_id}/pdf", "flipbooks.pdf", data=stream.read())
        return {
            "publication_id": str(flipbook_id),
            "version_id": str(version["version"]),
            "url": version["url"],
            "created": not request.publication_id,
        }

    def conversion_status(
        self, publication_id: str, version_id: str | None = None, *, summary: bool = True
    ) -> ConversionStatus:
        flipbook = self.call("GET", f"/flipbooks/{publication_id}", "flipbooks.get")
        state = {"converting": "running", "ready": "success", "failed": "failed"}[flipbook["state"]]
        status: ConversionStatus = {"state": state, "detail": flipbook["state"]}
        if summary and state == "success":
            status["publication"] = self._summary(flipbook)
        return status

    def listed_conversion_status(
        self, entry: Any, publication_id: str, version_id: str | None = None, **_: Any
    ) -> None:
        return None  # no status_listing: the account poll asks conversion_status

    def publication_summary(self, publication_id: str) -> PublicationSummary:
        return self._summary(self.call("GET", f"/flipbooks/{publication_id}", "flipbooks.get"))

    def find_publications(self, name: str) -> list[PublicationSummary]:
        found = self.call("GET", "/flipbooks", "flipbooks.list", params={"name": name})["flipbooks"]
        return [self._summary(f) for f in found]

    @staticmethod
    def _summary(flipbook: dict[str, Any]) -> PublicationSummary:
        return {
            "publication_id": str(flipbook["id"]),
            "name": flipbook["name"],
            "url": flipbook.get("url"),
            "total_pages": flipbook.get("pages"),
            "state": flipbook["state"],
        }


# -- 2. the registry line (vendors.py) -------------------------------------------------------------

ACME = vendors.Vendor(
    conn_type="acme",
    name="Acme Flipbooks",
    hook=f"{__name__}.AcmeHook",
    docs_url="https://docs.acme.example/",
    publishing=True,
    form=vendors.Form(
        hidden=("schema", "login", "port"),
        relabeling={"password": "API token"},
        placeholders={"host": "https://api.acme.example"},
    ),
    doctor=f"{__name__}",
    extras=(vendors.Extra("theme", str, "plain", "The flipbooks' theme.", "Theme", form=True),),
)

# -- 3. the asset scheme (assets/acme.py) ------------------------------------------------------------

SCHEME = AssetScheme("acme", kinds=("flipbook",))


# -- 4. the sandbox (sandbox/acme/: answers.py, state.py, routes.py) ----------------------------------


class AcmeError(VendorError):
    """answers.py: Acme's error answer, ``{"error": message}`` with a 4xx/5xx status."""

    def __init__(self, status: int, message: str) -> None:
        if status < 400:
            raise SuccessRaised(status)
        super().__init__(message)
        self.status, self.message = status, message

    def response(self) -> Response:
        return JSONResponse({"error": self.message}, self.status)


class AcmeState(VendorState):
    """state.py: Acme's objects, flipbooks converting for a second of the vendor's clock."""

    def reset(self) -> None:
        self.flipbooks: dict[str, dict[str, Any]] = {}
        self.options: dict[str, Any] = {}

    def counts(self) -> dict[str, int]:
        return {"flipbooks": len(self.flipbooks)}

    def view(self, flipbook: dict[str, Any]) -> dict[str, Any]:
        if flipbook["state"] == "converting" and self.shared.elapsed_real(flipbook["since"]) >= 1.0:
            flipbook["state"] = "ready"
        return {k: v for k, v in flipbook.items() if k != "since"}

    def found(self, flipbook_id: str) -> dict[str, Any]:
        if flipbook_id not in self.flipbooks:
            raise AcmeError(404, "no such flipbook")
        return self.flipbooks[flipbook_id]


class AcmeEmulator(VendorEmulator[AcmeState]):
    """routes.py: Acme's API at ``/acme``, its bearer-token transport and its routes over its state."""

    name = "acme"
    state_class = AcmeState
    credentials = (Credential("token", lambda: token("acm")),)

    def connection(self) -> dict[str, Any]:
        return {
            "conn_type": self.name,
            "host": self.public,
            "password": self.credential("token"),
            "extra": {"pacing_speed": self.shared.speed},
        }

    def error_body(self, status: int, code: str = "") -> tuple[bytes, str]:
        return json.dumps({"error": code or "server error"}).encode(), "application/json"

    def routes(self) -> None:
        for declared in self.declared():
            self.app.add_api_route(
                declared.target, self.transport(declared.handler), methods=[declared.method]
            )

    def transport(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {self.credential('token')}":
                return AcmeError(401, "bad token").response()
            result = await answered(handler, request, **request.path_params)
            return result if isinstance(result, Response) else JSONResponse(result)

        return endpoint

    @route("GET", "/me")
    def me(self, request: Request) -> dict[str, Any]:
        return {"account": "acme-sandbox"}

    @route("GET", "/flipbooks")
    def listed(self, request: Request) -> dict[str, Any]:
        name = request.query_params.get("name", "")
        return {
            "flipbooks": [
                self.state.view(f) for f in self.state.flipbooks.values() if f["name"] == name or not name
            ]
        }

    @route("POST", "/flipbooks")
    async def create(self, request: Request) -> dict[str, Any]:
        flipbook_id, body = str(self.shared.next_id()), await request.json()
        self.state.flipbooks[flipbook_id] = {"id": flipbook_id, "name": body["name"], "state": "empty"}
        return {"id": flipbook_id}

    @route("PUT", "/flipbooks/{flipbook_id}/pdf")
    async def upload(self, request: Request, flipbook_id: str) -> dict[str, Any]:
        flipbook, pdf = self.state.found(flipbook_id), await request.body()
        if not pdf.startswith(b"%PDF"):
            raise AcmeError(400, "not a PDF")
        flipbook.update(
            state="converting",
            since=self.shared.now(),
            pages=pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages"),
            version=flipbook.get("version", 0) + 1,
            url=f"{self.public}/view/{flipbook_id}",
        )
        return {"version": flipbook["version"], "url": flipbook["url"]}

    @route("GET", "/flipbooks/{flipbook_id}")
    def one(self, request: Request, flipbook_id: str) -> dict[str, Any]:
        return self.state.view(self.state.found(flipbook_id))


# -- registered only for these tests --------------------------------------------------------------------


@pytest.fixture(scope="module")
def acme(tmp_path_factory) -> Any:
    """The fifth vendor registered on both sides, its sandbox running and its connection in the env."""
    patch = pytest.MonkeyPatch()
    patch.setitem(vendors.VENDORS, "acme", ACME)
    asset_module = types.ModuleType("airflow_provider_flipbook.assets.acme")
    asset_module.SCHEME = SCHEME  # type: ignore[attr-defined]
    patch.setitem(sys.modules, asset_module.__name__, asset_module)
    EMULATORS.append(AcmeEmulator)
    try:
        with SandboxServer(speed=20) as server:
            for conn_type, conn in server.connections().items():
                patch.setenv(f"AIRFLOW_CONN_{conn_type.upper()}_DEFAULT", json.dumps(conn))
            yield server
    finally:
        EMULATORS.remove(AcmeEmulator)
        patch.undo()


def test_the_hook_is_found_by_connection_type_and_tests_its_connection(acme):
    from airflow_provider_flipbook.hooks import hook_class, hook_for, publishing_hook

    assert hook_class("acme") is AcmeHook
    hook = hook_for("acme_default", vendors=("acme",))
    assert isinstance(hook, AcmeHook) and isinstance(publishing_hook("acme_default"), AcmeHook)
    assert hook.test_connection() == (True, f"Connected to Acme at {acme.url}/acme: account acme-sandbox")
    wrong = AcmeHook(connection=_connection(acme, password="acm-wrong-token-000"))
    ok, message = wrong.test_connection()
    assert not ok and "401" in message and "acm-wrong-token-000" not in message


def test_provider_info_and_connection_forms_list_it(acme):
    import airflow
    import jsonschema

    from airflow_provider_flipbook.get_provider_info import get_provider_info

    info = get_provider_info()
    schema = json.loads(
        (__import__("pathlib").Path(airflow.__file__).parent / "provider_info.schema.json").read_text()
    )
    jsonschema.validate(info, schema)
    (entry,) = [c for c in info["connection-types"] if c["connection-type"] == "acme"]
    assert entry["hook-class-name"] == f"{__name__}.AcmeHook" and entry["hook-name"] == "Acme Flipbooks"
    assert set(entry["conn-fields"]) == {"theme", "timeout", "max_retries", "rate_limit"}
    assert AcmeHook.get_ui_field_behaviour()["relabeling"] == {"password": "API token"}
    assert AcmeHook("acme_default").setting("theme") == "plain"
    assert {"integration-name": "Acme Flipbooks", "python-modules": [__name__]} in info["hooks"]


def test_the_upload_operator_publishes_and_waits_without_a_change(acme, samples, context):
    from airflow_provider_flipbook.operators import UploadPdfOperator

    result = UploadPdfOperator(
        task_id="acme",
        conn_id="acme_default",
        pdf=str(samples["three"]),
        name="Report",
        wait_for_conversion=True,
        poll_interval=0.05,
    ).execute(context)
    assert (result["vendor"], result["total_pages"], result["conversion"]) == ("acme", 3, "ready")
    assert result["url"] == f"{acme.url}/acme/view/{result['publication_id']}"
    assert acme.state_store.state()["acme"] == {"flipbooks": 1}

    deferred = UploadPdfOperator(
        task_id="acme_deferred",
        conn_id="acme_default",
        pdf=str(samples["three"]),
        name="Deferred",
        wait_for_conversion=True,
        deferrable=True,
        poll_interval=0.05,
    )
    assert run_deferred(deferred, {"ti": None, "task_state_store": None})["conversion"] == "ready"
    with pytest.raises(InvalidInputError, match="name and a description only"):
        UploadPdfOperator(
            task_id="bad", conn_id="acme_default", pdf=str(samples["three"]), folder="x"
        ).execute({"ti": None, "task_state_store": None})  # a fresh task: nothing to resume


def test_a_lost_create_answer_is_adopted_not_created_twice(acme, samples, context):
    """The sandbox's fault injection works for any registered emulator; create_once reconciles."""
    from airflow_provider_flipbook.operators import UploadPdfOperator

    before, logged = acme.state_store.state()["acme"]["flipbooks"], len(acme.state_store.log)
    acme.state_store.add_fault(vendor="acme", kind="lost_answer", route="^POST /flipbooks", lost_as="502")
    result = UploadPdfOperator(
        task_id="lost", conn_id="acme_default", pdf=str(samples["small"]), name="Lost once"
    ).execute(context)
    assert acme.state_store.state()["acme"]["flipbooks"] == before + 1
    creates = [e for e in list(acme.state_store.log)[logged:] if e.vendor == "acme" and e.method == "POST"]
    assert [e.status for e in creates] == [502]  # sent once; the flipbook it made was adopted
    assert result["publication_id"] in {
        f["id"] for f in acme.state_store.vendors["acme"].state.flipbooks.values()
    }


def _connection(server: SandboxServer, **override: Any) -> Any:
    from airflow.sdk import Connection

    conn = {**server.connections()["acme"], **override}
    return Connection(conn_id="acme_x", **{**conn, "extra": json.dumps(conn["extra"])})
