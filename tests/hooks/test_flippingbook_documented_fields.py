"""FlippingBook's own endpoint pages as test data (``tests/data/vendor-docs/flippingbook-online/``, one
table of request and answer fields per endpoint): every field the hook sends, every field it reads
from an answer, and every field the sandbox answers must appear in that endpoint's table, or be listed
below as a documented exception with its reason. A misreading made alike in hook, sandbox and test
fails here, because the tables come from the vendor.

The traffic is real HTTP against the sandbox. What the hook sends is the query string and JSON body of
each request; what it reads is recorded by handing it answers whose dictionaries note every key looked
up (``[]``, ``get``, ``in``).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

PAGES = Path(__file__).resolve().parents[1] / "data" / "vendor-docs" / "flippingbook-online"
# Fields outside an endpoint's table (matched as the last part of a dotted name), each with the
# document that allows it, or why it is read or answered anyway.
ENVELOPE = (
    "the general envelope (apidocs.flippingbook.com, General Information): every answer carries `success`"
)
EXCEPTIONS: dict[str, dict[str, str]] = {
    "sent": {},
    "read": {
        "success": ENVELOPE,
        "errors": "the general error envelope (General Information): `errors` may list several errors",
        "errorCode": "the 2019 error envelope (`errors[].errorCode`), read when present",
        "CreatedSource": "the 2019 PascalCase spelling of `createdSource`, read when present",
        "Success": "the 2019 PascalCase spelling of `success`, read when present",
        "progress": "the lowercase spelling of the page's `Progress`, read when present",
    },
    "answered": {
        "success": ENVELOPE,
        "lastModified": "listed on the 2019 pages (`CreatedSource.LastModified`); nothing reads it",
        "creationTime": "in real answers (peers' code [P]), not on the page; nothing reads it",
        "modificationTime": "in real answers (peers' code [P]), not on the page; nothing reads it",
        "isDemoPublication": "in real answers (peers' code [P]), not on the page; nothing reads it",
    },
}


HOOK_PAGES = {
    "GET-api-v1-auth-me.md",
    "GET-api-v1-auth-key.md",
    "POST-api-v1-auth-key.md",
    "GET-api-v1-fbonline-custom-domains.md",
    "GET-api-v1-fbonline-folders.md",
    "GET-api-v1-fbonline-publication.md",
    "POST-api-v1-fbonline-publication.md",
    "GET-api-v1-fbonline-publication-id-.md",
    "POST-api-v1-fbonline-publication-id-.md",
    "DELETE-api-v1-fbonline-publication-id-.md",
    "POST-api-v1-fbonline-publication-id-customize.md",
    "GET-api-v1-fbonline-publication-id-source.md",
    "POST-api-v1-fbonline-publication-id-source.md",
    "GET-api-v1-fbonline-publication-id-source-sourceId-.md",
    "GET-api-v1-fbonline-tracked-links.md",
    "POST-api-v1-fbonline-tracked-links.md",
    "GET-api-v1-fbonline-tracked-links-linkId-.md",
    "PUT-api-v1-fbonline-tracked-links-linkId-.md",
    "POST-api-v1-fbonline-triggers.md",
    "POST-api-v1-fbonline-triggers-id-.md",
    "DELETE-api-v1-fbonline-triggers-id-.md",
}


def excepted(kind: str, name: str) -> bool:
    return name.rsplit(".", 1)[-1] in EXCEPTIONS[kind]


@dataclass
class Endpoint:
    """One page: its method and path (as a pattern) and the field names of its tables."""

    page: str
    method: str
    path: re.Pattern[str]
    request: set[str] = field(default_factory=set)
    response: set[str] = field(default_factory=set)


def endpoints() -> list[Endpoint]:
    found = []
    for page in sorted(PAGES.glob("*.md")):
        if page.name == "README.md":
            continue
        lines = page.read_text().splitlines()
        method, template = next(line for line in lines if line.startswith("`")).strip("`").split(" ", 1)
        path = re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$")
        endpoint, table = Endpoint(page.name, method, path), None
        for line in lines:
            if line.startswith("#####"):
                table = endpoint.response if "Response" in line else endpoint.request
            match = re.match(r"^\|(?:<Badge>\w+</Badge> )?([A-Za-z_][\w.-]*)\|", line)
            if table is not None and match and match.group(1) != "Name":
                table.add(match.group(1))
        found.append(endpoint)
    return found


def documented(names: set[str]) -> set[str]:
    """Dotted names and each of their prefixes (``links.rel`` documents ``links`` too)."""
    return {".".join(name.split(".")[:n]) for name in names for n in range(1, name.count(".") + 2)}


def flatten(value: Any, prefix: str = "") -> set[str]:
    """Dotted key names of a JSON value; a list's items add their keys under the list's name."""
    names: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{prefix}{key}"
            names |= {name} | flatten(item, name + ".")
    elif isinstance(value, list):
        for item in value:
            names |= flatten(item, prefix)
    return names


class Noting(dict):
    """An answer's object that notes every key the hook looks up, as a dotted name."""

    def __init__(self, data: dict, prefix: str, reads: set[str]) -> None:
        super().__init__({k: wrap(v, f"{prefix}{k}.", reads) for k, v in data.items()})
        self._prefix, self._reads = prefix, reads

    def __getitem__(self, key: Any) -> Any:
        self._reads.add(f"{self._prefix}{key}")
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._reads.add(f"{self._prefix}{key}")
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._reads.add(f"{self._prefix}{key}")
        return super().__contains__(key)


def wrap(value: Any, prefix: str, reads: set[str]) -> Any:
    if isinstance(value, dict):
        return Noting(value, prefix, reads)
    if isinstance(value, list):
        return [wrap(item, prefix, reads) for item in value]
    return value


@dataclass
class Exchange:
    method: str
    path: str
    sent: set[str]
    answered: set[str]
    read: set[str]


@pytest.fixture
def traffic(sandbox, monkeypatch) -> list[Exchange]:
    """Every FlippingBook request the test makes: fields sent, answered, and read by the hook."""
    seen: list[Exchange] = []
    plain_json = requests.Response.json

    def noted_json(response: requests.Response, **kwargs: Any) -> Any:
        body = plain_json(response, **kwargs)
        request = response.request
        url = urlsplit(request.url or "")
        if "/flippingbook/" not in url.path:
            return body
        sent = {name for name, _ in parse_qsl(url.query)}
        if request.body:
            sent |= flatten(json.loads(request.body))
        exchange = Exchange(
            request.method or "", url.path.split("/flippingbook", 1)[1], sent, flatten(body), set()
        )
        seen.append(exchange)
        return wrap(body, "", exchange.read)

    monkeypatch.setattr(requests.Response, "json", noted_json)
    return seen


def undocumented(traffic: list[Exchange]) -> dict[str, list[str]]:
    pages = endpoints()
    problems: dict[str, list[str]] = {}
    for exchange in traffic:
        page = next((p for p in pages if p.method == exchange.method and p.path.match(exchange.path)), None)
        where = f"{exchange.method} {exchange.path}"
        if page is None:
            problems.setdefault(where, []).append("no page documents this endpoint")
            continue
        for kind, names, table in (
            ("sent", exchange.sent, page.request),
            ("answered", exchange.answered, page.response),
            ("read", exchange.read, page.response),
        ):
            for name in sorted(names - documented(table)):
                if not excepted(kind, name):
                    problems.setdefault(f"{where} ({page.page})", []).append(f"{kind} {name}")
    return problems


def exercise(hook: FlippingBookHook, samples: dict[str, Path]) -> None:
    """Every FlippingBook operation the hook makes, against the sandbox."""
    hook.me()
    hook.list_api_keys()
    hook.list_custom_domains()
    hook.list_folders()
    pdf = samples["small"].read_bytes()
    created = hook.create_publication(
        name="Documented", description="fields", filename="small.pdf", data=base64.b64encode(pdf).decode()
    )
    publication_id = created["id"]
    list(hook.iter_publications(query="Documented"))
    hook.get_publication(publication_id)
    source_id = hook.add_source(publication_id, filename="small.pdf", data=pdf)
    hook.list_sources(publication_id)
    hook.get_source(publication_id, source_id)
    hook.conversion_status(publication_id, source_id)
    hook.update_publication(publication_id, description="updated")
    hook.customize_publication(publication_id, theme="Default")
    link = hook.create_tracked_link(
        "Documented link", publication_uid=publication_id, notification_type="Email"
    )
    list(hook.iter_tracked_links(title="Documented link"))
    hook.get_tracked_link(link["id"])
    hook.disable_tracked_link(link["id"])
    trigger = hook.create_trigger("https://example.com/hook", ["created"], ["publication"])
    hook.update_trigger(trigger, "https://example.com/hook", ["updated"], ["publication"])
    hook.delete_trigger(trigger)
    hook.delete_tracked_link(link["id"])
    hook.delete_publication(publication_id)
    hook.create_api_key()


def test_every_field_sent_read_or_answered_is_in_its_endpoints_table(sandbox, samples, traffic):
    exercise(FlippingBookHook(), samples)
    pages = endpoints()
    hit = {p.page for e in traffic for p in pages if p.method == e.method and p.path.match(e.path)}
    # Every endpoint the hook calls but DELETE /auth/key (it would revoke the sandbox's key).
    assert hit == HOOK_PAGES
    assert not undocumented(traffic), json.dumps(undocumented(traffic), indent=1)


def test_an_undocumented_field_is_caught(sandbox, samples, traffic):
    """Guards the test: a field no table lists, sent or read, is named."""
    hook = FlippingBookHook()
    hook.call("GET", "/api/v1/fbonline/folders", operation="folders.list", params={"colour": "blue"})
    hook.me().get("favouriteColour")
    assert undocumented(traffic) == {
        "GET /api/v1/fbonline/folders (GET-api-v1-fbonline-folders.md)": ["sent colour"],
        "GET /api/v1/auth/me (GET-api-v1-auth-me.md)": ["read favouriteColour"],
    }
