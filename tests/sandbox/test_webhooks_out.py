"""The sandbox plays FlippingBook's side of triggers: conversions end, views, leads, prints and deletions
fire every registered trigger as a POST, in each payload shape, with retries. Raw HTTP only: this
judges the sandbox, not our hooks."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from airflow_provider_flipbook.utils.pdf import make_sample_pdf


class Receiver:
    """A loopback endpoint that records every POST and answers ``fail_first`` of them with 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.calls.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(raw)}
                )
                status = 500 if len(receiver.calls) <= receiver.fail_first else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook/secret-token-123"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.calls

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def fb(flipbook_sandbox):
    flipbook_sandbox.reset()
    conn = flipbook_sandbox.connections()["flippingbook"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {conn['password']}"
    base = conn["host"] + "/api/v1/fbonline"
    yield session, base, flipbook_sandbox
    flipbook_sandbox.reset()


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def pdf_data(tmp_path, pages: int = 2) -> str:
    path = tmp_path / "doc.pdf"
    make_sample_pdf(path, pages, "Webhook doc")
    return base64.b64encode(path.read_bytes()).decode()


def register(session, base, endpoint: str, events: list[str], limit_to: dict | None = None) -> str:
    body = {
        "trigger": {"endpoint": endpoint, "events": events, "triggerOn": ["publication"], "limitTo": limit_to}
    }
    answer = session.post(f"{base}/triggers", json=body)
    answer.raise_for_status()
    return answer.json()["id"]


def test_conversion_end_fires_created_then_updated_without_anyone_reading(fb, receiver, tmp_path):
    session, base, sandbox = fb
    register(session, base, receiver.url, ["created", "updated"])
    pub = session.post(f"{base}/publication", json={"name": "Hooked", "data": pdf_data(tmp_path)}).json()
    calls = receiver.wait(1)
    assert [c["body"]["event"] for c in calls] == ["created"]
    first = calls[0]
    assert first["headers"]["X-FlippingBook-Event"] == "created"
    assert first["body"]["objectId"] == pub["id"] and first["body"]["scope"] == "publication"
    assert first["path"] == "/hook/secret-token-123"
    session.post(
        f"{base}/publication/{pub['id']}/source", json={"data": pdf_data(tmp_path, 3)}
    ).raise_for_status()
    calls = receiver.wait(2)
    assert [c["body"]["event"] for c in calls] == ["created", "updated"]
    assert calls[1]["body"]["additionalInfo"]["sourceId"] != first["body"]["additionalInfo"]["sourceId"]


def test_failed_first_conversion_fires_convertation_failed(fb, receiver, tmp_path):
    session, base, sandbox = fb
    register(session, base, receiver.url, ["convertationFailed", "created"])
    bad = base64.b64encode(b"not a pdf at all").decode()
    pub = session.post(f"{base}/publication", json={"name": "Broken", "data": bad}).json()
    calls = receiver.wait(1)
    assert [(c["body"]["event"], c["body"]["objectId"]) for c in calls] == [("convertationFailed", pub["id"])]


def test_views_leads_prints_and_deletion_fire_within_scope(fb, receiver, tmp_path):
    session, base, sandbox = fb
    other = Receiver()
    try:
        pub = session.post(f"{base}/publication", json={"name": "Viewed", "data": pdf_data(tmp_path)}).json()
        register(
            session,
            base,
            receiver.url,
            ["session", "lead", "print", "deleted"],
            {"parentObject": "publication", "parentObjectId": pub["id"]},
        )
        register(
            session,
            base,
            other.url,
            ["session"],
            {"parentObject": "publication", "parentObjectId": "elsewhere"},
        )
        link = session.post(
            f"{base}/tracked_links", json={"title": "To Ann", "publicationUid": pub["id"]}
        ).json()["links"][0]
        viewer = sandbox.url + "/flippingbook"
        assert requests.get(
            f"{viewer}/link/{link['urlName']}", allow_redirects=False, timeout=10
        ).status_code in (
            302,
            307,
        )
        requests.post(
            f"{viewer}/view/{pub['hashId']}/lead", json={"email": "ann@example.com"}, timeout=10
        ).raise_for_status()
        requests.post(f"{viewer}/view/{pub['hashId']}/print", timeout=10).raise_for_status()
        session.delete(f"{base}/publication/{pub['id']}").raise_for_status()
        calls = receiver.wait(4)
        events = sorted((c["body"]["event"], c["body"]["scope"]) for c in calls)
        assert events == [
            ("deleted", "publication"),
            ("lead", "publication"),
            ("print", "publication"),
            ("session", "trackedLink"),
        ]
        lead = next(c["body"] for c in calls if c["body"]["event"] == "lead")
        assert lead["objectId"] is None and lead["additionalInfo"]["publicationId"] == pub["id"]
        assert lead["additionalInfo"]["data"] == [
            {"Name": "email", "Type": "text", "Value": "ann@example.com"}
        ]
        assert other.calls == [], "a trigger limited to another publication fired"
    finally:
        other.close()


def test_not_viewed_until_fires_once_when_the_date_passes_unopened(fb, receiver, tmp_path):
    session, base, sandbox = fb
    pub = session.post(f"{base}/publication", json={"name": "Unread", "data": pdf_data(tmp_path)}).json()
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
    link = session.post(
        f"{base}/tracked_links",
        json={"title": "Late", "publicationUid": pub["id"], "onNotOpenedUntil": soon},
    ).json()["links"][0]
    body = {
        "trigger": {
            "endpoint": receiver.url,
            "events": ["notViewedUntil"],
            "triggerOn": ["trackedlink"],
            "limitTo": None,
        }
    }
    session.post(f"{base}/triggers", json=body).raise_for_status()
    calls = receiver.wait(1, timeout=10)
    time.sleep(0.5)
    assert [(c["body"]["event"], c["body"]["objectId"]) for c in calls] == [("notViewedUntil", link["id"])]


@pytest.mark.parametrize("shape", ["header", "envelope"])
def test_the_undocumented_payload_is_played_in_each_shape(fb, receiver, tmp_path, shape):
    session, base, sandbox = fb
    sandbox.state_store.set_options("flippingbook", {"webhook_shape": shape})
    register(session, base, receiver.url, ["PublicationCreatedCompleted"])  # a 2019 name fires as registered
    pub = session.post(f"{base}/publication", json={"name": "Shaped", "data": pdf_data(tmp_path)}).json()
    call = receiver.wait(1)[0]
    if shape == "header":
        assert (
            "event" not in call["body"]
            and call["headers"]["X-FlippingBook-Event"] == "PublicationCreatedCompleted"
        )
        assert call["body"]["objectId"] == pub["id"]
    else:
        assert "X-FlippingBook-Event" not in call["headers"]
        assert call["body"]["EventData"]["Event"] == "PublicationCreatedCompleted"
        assert call["body"]["EventData"]["ObjectId"] == pub["id"]


def test_a_failed_delivery_is_sent_again_with_the_same_body(fb, tmp_path):
    session, base, sandbox = fb
    flaky = Receiver(fail_first=2)
    try:
        register(session, base, flaky.url, ["created"])
        session.post(
            f"{base}/publication", json={"name": "Retried", "data": pdf_data(tmp_path)}
        ).raise_for_status()
        calls = flaky.wait(3)
        assert len(calls) == 3 and calls[0]["body"] == calls[1]["body"] == calls[2]["body"]
        deadline = time.monotonic() + 10
        while not (deliveries := requests.get(f"{sandbox.url}/_sandbox/webhooks", timeout=10).json())[0][
            "delivered"
        ]:
            assert time.monotonic() < deadline, deliveries  # the 200 is noted once the answer is back
            time.sleep(0.05)
        assert [a["status"] for a in deliveries[0]["attempts"]] == [500, 500, 200]
        assert deliveries[0]["delivered"] and "secret-token-123" not in json.dumps(deliveries)
    finally:
        flaky.close()
