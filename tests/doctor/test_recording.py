"""flipbook-doctor --record: what the account answered, as shapes; no credential, no personal data."""

from __future__ import annotations

import json

from airflow_provider_flipbook.doctor.recording import json_shape, merge, template
from tests.doctor.helpers import CONN_IDS, run, secrets_of, set_options

PERSONAL = (
    "first",
    "second",
    "doctor link",
    "doctor page",
    "Reports",
    "Ada",
    "Grace",
    "publisher@example.com",
)


def record(capsys, tmp_path, *extra: str) -> tuple[int, dict, str]:
    path = tmp_path / "recording.json"
    code, output = run(
        capsys, *[a for c in CONN_IDS for a in ("--conn-id", c)], "--record", str(path), *extra
    )
    text = path.read_text()
    return code, json.loads(text), text


def answers(recording: dict, vendor: str) -> dict[tuple, dict]:
    return {
        (a["method"], a["path"], a.get("action", ""), a["status"]): a
        for a in recording["vendors"][vendor]["answers"]
    }


def test_a_recording_holds_shapes_and_enumerations_and_no_secret_or_value(seeded, capsys, tmp_path):
    code, recording, text = record(capsys, tmp_path, "--write-test")
    assert code == 0
    assert recording["format"] == "flipbook-doctor-recording" and recording["version"] == 1
    assert set(recording["vendors"]) == {"flippingbook", "flipsnack", "ipaper", "papyrs"}
    for secret in secrets_of(seeded):  # credentials and every Flipsnack signature sent
        assert secret not in text
    for value in PERSONAL:
        assert value not in text, value
    assert seeded.url not in text and "127.0.0.1" not in text  # no host
    source = answers(recording, "flippingbook")[
        ("GET", "/api/v1/fbonline/publication/{id}/source/{id}", "", 200)
    ]
    fields = source["shape"]["properties"]["source"]["properties"]
    assert {"id", "state", "Progress"} <= set(fields)
    assert fields["state"]["enum"] == ["CompletedAllStages"]  # an enumeration is kept
    assert "enum" not in fields["id"]  # an id is not
    items = answers(recording, "flipsnack")[("GET", "/v1/", "collection.getCollection", 200)]
    assert "items" in items["shape"]["properties"]["data"]["properties"]
    tree = answers(recording, "ipaper")[("POST", "/V2/Paper.asmx/GetAllPapers", "", 200)]
    assert tree["shape"]["tag"] == "result" and tree["shape"]["children"]["code"]["text"]["enum"]
    assert recording["vendors"]["ipaper"]["observations"] == {
        "ipaper.page_ids": "fresh",
        "ipaper.root_paper": "url",
    }
    assert recording["vendors"]["papyrs"]["observations"] == {
        "papyrs.discussion_widget": {"kept": True},
        "papyrs.category": {"field": "category", "honoured": True},
    }
    pages = answers(recording, "papyrs")[("GET", "/@{subsite}/api/v1/pages/all/", "", 200)]
    assert set(pages["shape"]["items"]["properties"]) >= {"id", "title", "category", "created_at"}


def test_record_values_keeps_values_but_never_a_secret(seeded, capsys, tmp_path):
    set_options(seeded, {"flippingbook": {"progress_key": "progress"}})
    code, recording, text = record(capsys, tmp_path, "--record-values")
    assert code == 0 and recording["values"] is True
    assert "doctor page" in text and "Reports" in text
    for secret in secrets_of(seeded):
        assert secret not in text


def test_paths_lose_ids_and_the_subsite():
    assert template("/api/v1/fbonline/publication/123/source/ab12cd34") == (
        "/api/v1/fbonline/publication/{id}/source/{id}"
    )
    assert template("/@home/api/v1/pages/get/42/") == "/@{subsite}/api/v1/pages/get/{id}/"
    assert template("/V2/Paper.asmx/GetAllPapers") == "/V2/Paper.asmx/GetAllPapers"
    assert template("/v1/") == "/v1/"


def test_shapes_of_one_place_merge():
    first = json_shape({"state": "Queued", "id": "p1", "title": "Annual report"})
    second = json_shape({"state": "CompletedAllStages", "id": "p2", "extra": None})
    merged = merge(first, second)
    assert merged is not None
    assert merged["properties"]["state"]["enum"] == ["Queued", "CompletedAllStages"]
    assert set(merged["properties"]) == {"state", "id", "title", "extra"}
    assert "enum" not in merged["properties"]["title"]
    assert json_shape([{"a": 1}, {"b": "x"}]) == {
        "type": "array",
        "seen": 2,
        "items": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}},
    }
