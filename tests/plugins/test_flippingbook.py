"""The webhook receiver through Airflow's own API server app (plugins mounted by Airflow's plugin
manager, served by uvicorn on loopback): the sandbox fires real trigger calls at it; wrong tokens,
replays, forged events and bad bodies get their 4xx and record nothing."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from typing import Any

import pytest
import requests

TOKEN = "tok-" + "a1b2c3d4" * 5
CONN = "wh_fb"


@pytest.fixture(scope="module")
def api_server(flipbook_sandbox):
    import uvicorn
    from airflow.models.asset import AssetActive, AssetModel
    from airflow.utils import db
    from airflow.utils.session import create_session

    from airflow_provider_flipbook.sandbox.server import free_port

    db.resetdb()
    with create_session() as session:
        for name in (f"flippingbook_webhooks.{CONN}",):
            asset = AssetModel(name=name, uri=f"flipbook-tests://{name}", group="asset")
            session.add(asset)
            session.flush()
            session.add(AssetActive.for_asset(asset))
    conn = dict(flipbook_sandbox.connections()["flippingbook"])
    conn["extra"] = {**conn["extra"], "webhook_token": TOKEN}
    saved = {k: os.environ.get(k) for k in (f"AIRFLOW_CONN_{CONN.upper()}", "AIRFLOW_CONN_WH_NOASSET")}
    os.environ[f"AIRFLOW_CONN_{CONN.upper()}"] = json.dumps(conn)
    os.environ["AIRFLOW_CONN_WH_NOASSET"] = json.dumps(
        {**conn, "extra": {**conn["extra"], "webhook_asset": "nope"}}
    )
    from airflow.api_fastapi.app import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app("core"), host="127.0.0.1", port=port, log_level="info", access_log=True)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the API server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def recorded() -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.name == f"flippingbook_webhooks.{CONN}")
            .order_by(AssetEvent.id)
        )
        return [row["payload"] for row in rows]


def receiver(api: str, token: str = TOKEN, conn: str = CONN) -> str:
    return f"{api}/flipbook-webhooks/flippingbook/{conn}/{token}"


def hook():
    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

    return FlippingBookHook(CONN)


def wait_for(count: int, timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(found := recorded()) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_wrong_tokens_and_unknown_receivers_are_404_without_side_effects(api_server, flipbook_sandbox):
    before, calls = recorded(), len(flipbook_sandbox.requests("flippingbook"))
    body = {"event": "created", "objectId": "0" * 32, "scope": "publication"}
    for url in (
        receiver(api_server, TOKEN[:-1] + "x"),
        receiver(api_server, TOKEN[:20]),
        receiver(api_server, conn="no_such_conn"),
        receiver(api_server, conn="flipsnack_default"),
    ):
        answer = requests.post(url, json=body, timeout=10)
        assert answer.status_code == 404, (url, answer.text)
    assert recorded() == before
    assert len(flipbook_sandbox.requests("flippingbook")) == calls, "a refused call reached the vendor"


def test_bad_bodies_are_refused_before_anything_happens(api_server, flipbook_sandbox):
    before, calls = recorded(), len(flipbook_sandbox.requests("flippingbook"))
    url = receiver(api_server)
    assert requests.post(url, data=b"<xml/>", timeout=10).status_code == 400
    assert requests.post(url, data=b"", timeout=10).status_code == 400
    huge = json.dumps({"event": "lead", "additionalInfo": {"x": "y" * 70_000}})
    assert requests.post(url, data=huge, timeout=10).status_code == 413
    chunked = requests.post(url, data=iter([huge[:40_000].encode(), huge[40_000:].encode()]), timeout=10)
    assert chunked.status_code == 413  # no Content-Length: counted while read
    assert recorded() == before
    assert len(flipbook_sandbox.requests("flippingbook")) == calls


def test_a_vendor_call_is_verified_recorded_once_and_replays_are_duplicates(
    api_server, flipbook_sandbox, tmp_path
):
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    flipbook_sandbox.state_store.set_options("flippingbook", {"webhook_shape": "flat"})
    before = len(recorded())
    trigger_id = hook().register_webhook(api_server, ["created", "convertationFailed"])
    try:
        make_sample_pdf(tmp_path / "a.pdf", 2, "Hooked")
        data = base64.b64encode((tmp_path / "a.pdf").read_bytes()).decode()
        pub = hook().call("POST", "/api/v1/fbonline/publication", json={"name": "Hooked", "data": data})
        found = wait_for(before + 1)
        assert len(found) == before + 1
        item = found[-1]
        assert item["event"] == "converted" and item["object_id"] == pub["id"] and item["verified"] is True
        assert (
            item["url"].startswith(flipbook_sandbox.url) and item["events"][0]["event_id"] == item["event_id"]
        )
        delivery = next(
            d
            for d in flipbook_sandbox.state_store.vendors["flippingbook"].state.outbox.deliveries
            if d["body"].get("objectId") == pub["id"]
        )
        replay = requests.post(
            receiver(api_server),
            json=delivery["body"],
            headers={"X-FlippingBook-Event": "created"},
            timeout=10,
        )
        assert replay.status_code == 200 and replay.json()["duplicate"] is True
        assert len(recorded()) == before + 1
    finally:
        assert hook().remove_webhook(trigger_id) is True
    assert hook().remove_webhook(trigger_id) is False


def test_every_payload_shape_is_read(api_server, flipbook_sandbox, tmp_path):
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    make_sample_pdf(tmp_path / "b.pdf", 2, "Shapes")
    data = base64.b64encode((tmp_path / "b.pdf").read_bytes()).decode()
    pub = hook().call("POST", "/api/v1/fbonline/publication", json={"name": "Shapes", "data": data})
    deadline = time.monotonic() + 20
    while "CompletedAllStages" not in hook().get_publication(pub["id"])["state"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    url, before = receiver(api_server), len(recorded())
    header = requests.post(
        url,
        json={"scope": "publication", "objectId": pub["id"], "additionalInfo": {"sourceId": "s1"}},
        headers={"X-FlippingBook-Event": "created"},
        timeout=10,
    )
    envelope = requests.post(
        url,
        json={
            "Trigger": {"Id": "t1"},
            "EventData": {"Event": "PublicationUpdatedCompleted", "ObjectId": pub["id"]},
        },
        timeout=10,
    )
    unknown = requests.post(url, json={"something": "else"}, timeout=10)
    assert [r.status_code for r in (header, envelope, unknown)] == [200, 200, 200], [
        r.text for r in (header, envelope, unknown)
    ]
    found = recorded()[before:]
    assert [(p["event"], p["shape"], p["verified"]) for p in found] == [
        ("converted", "header", True),
        ("updated", "envelope", True),
        ("unknown", "unknown", False),
    ]


def test_an_event_the_api_contradicts_is_refused(api_server):
    before = recorded()
    forged = {"event": "created", "scope": "publication", "objectId": "f" * 32}
    answer = requests.post(receiver(api_server), json=forged, timeout=10)
    assert answer.status_code == 422 and "not confirmed" in answer.text
    assert recorded() == before


def test_an_undeclared_asset_is_503_so_the_vendor_retries(api_server):
    answer = requests.post(
        receiver(api_server, conn="wh_noasset"), json={"event": "lead", "additionalInfo": {}}, timeout=10
    )
    assert answer.status_code == 503 and "not declared" in answer.text


def test_the_token_never_reaches_the_api_server_log(api_server, capfd, caplog):
    requests.post(
        receiver(api_server), json={"event": "lead", "additionalInfo": {"n": time.time()}}, timeout=10
    )
    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert "/flipbook-webhooks/flippingbook/" in logged, "the access log was not captured"
    assert TOKEN not in logged


def test_register_and_remove_from_the_command_line(api_server, flipbook_sandbox, capsys, monkeypatch):
    from airflow_provider_flipbook.plugins.flippingbook_cli import main

    assert main(["token"]) == 0
    assert len(capsys.readouterr().out.strip()) >= 32
    fb = flipbook_sandbox.state_store.vendors["flippingbook"].state
    args = [
        "register",
        "--conn-id",
        CONN,
        "--api-url",
        api_server,
        "--event",
        "lead",
        "--publication-id",
        "p1",
    ]
    assert main(args) == 0
    trigger_id = capsys.readouterr().out.strip()
    assert fb.triggers[trigger_id]["limitTo"] == {"parentObject": "publication", "parentObjectId": "p1"}
    assert fb.triggers[trigger_id]["endpoint"] == receiver(api_server)
    assert TOKEN not in capsys.readouterr().out
    assert main(["remove", "--conn-id", CONN, "--trigger-id", trigger_id]) == 0
    assert trigger_id not in fb.triggers and "removed" in capsys.readouterr().out


def test_registering_checks_its_input_before_any_call(api_server, flipbook_sandbox):
    from airflow_provider_flipbook.exceptions import InvalidInputError

    calls = len(flipbook_sandbox.requests("flippingbook"))
    with pytest.raises(InvalidInputError, match="unknown"):
        hook().register_webhook(api_server, ["created", "converted"])
    with pytest.raises(InvalidInputError, match="api_base_url"):
        hook().register_webhook("ftp://airflow", ["created"])
    with pytest.raises(InvalidInputError, match="webhook_token"):
        from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

        FlippingBookHook("flippingbook_default").register_webhook(api_server, ["created"])
    assert len(flipbook_sandbox.requests("flippingbook")) == calls


def test_calls_arriving_together_are_one_asset_event(api_server):
    """Airflow gives asset events that arrive together to one run and drops the later ones from it."""
    from concurrent.futures import ThreadPoolExecutor

    before = len(recorded())
    bodies = [{"event": "lead", "additionalInfo": {"uniqueKey": f"k{n}-{time.time()}"}} for n in range(3)]
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda b: requests.post(receiver(api_server), json=b, timeout=10), bodies))
    assert [a.status_code for a in answers] == [200] * 3 and all(a.json()["recorded"] for a in answers)
    found = recorded()[before:]
    assert len(found) == 1 and found[0]["count"] == 3, found
    assert sorted(i["event_id"] for i in found[0]["events"]) == sorted(a.json()["event_id"] for a in answers)
