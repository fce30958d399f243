"""A listing page's entries are kept as JSON the garbage collector does not track, and decoded when
read; everything else in the body, and any body without the listing's shape, decodes as usual (so
the vendor's own checks still see, and name, what came back)."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from airflow_provider_flipbook.utils.listing_json import decode_body, decode_entry, entries_at, key_reader

PAGE = {
    "code": 20,
    "data": {
        "collections": [
            {"collectionHash": "a1", "items": [{"status": "processing", "pages": 2}], "size": 1.5},
            {"collectionHash": "b2", "items": [], "nested": {"deep": [1, None, True]}},
        ],
        "collectionCount": 7,
    },
}


def lazily(body: Any, path: tuple[str, ...] = ("data", "collections")) -> Any:
    content = json.dumps(body).encode()
    with entries_at(path):
        return decode_body(content, lambda: pytest.fail("decoded in full inside entries_at"))


def test_entries_at_the_path_stay_json_out_of_the_collectors_reach():
    decoded = lazily(PAGE)
    entries = decoded["data"]["collections"]
    assert not any(gc.is_tracked(entry) for entry in entries)
    assert [decode_entry(entry) for entry in entries] == PAGE["data"]["collections"]
    assert {**decoded, "data": {**decoded["data"], "collections": []}} == {
        **PAGE,
        "data": {**PAGE["data"], "collections": []},
    }


def test_outside_a_listing_bodies_decode_as_usual():
    assert decode_body(b'{"data": {"collections": []}}', lambda: "in full") == "in full"
    with entries_at(("publications",)):
        pass
    assert decode_body(b"{}", lambda: "in full") == "in full"  # the block left nothing behind


@pytest.mark.parametrize(
    "body",
    [
        {"code": 20, "data": {"collections": {"a1": {"collectionHash": "a1"}}}},  # an object, not an array
        {"code": 20, "data": {"collections": None}},
        {"code": 20, "data": None},
        {"code": 20, "data": {"items": [{"collectionHash": "a1"}]}},  # no such key
        [{"collectionHash": "a1"}],  # no envelope
        "maintenance",
    ],
    ids=["object", "null", "no-data", "other-key", "bare-array", "string"],
)
def test_a_body_without_the_listings_shape_decodes_as_json_does(body):
    """The vendor's page method then fails as before, naming the keys it saw."""
    assert lazily(body) == body


def test_a_body_that_is_not_json_is_a_value_error():
    with entries_at(("publications",)), pytest.raises(ValueError):
        decode_body(b"<html>busy</html>", lambda: pytest.fail("decoded in full"))


def test_entries_are_keyed_as_dict_entries_are():
    raw = lazily({"publications": [{"id": 7}, {"name": "no id"}, {"id": "x-1"}]}, ("publications",))
    read = key_reader("id")
    keys = [read(entry) for entry in raw["publications"]]
    assert keys == ["7", "None", "x-1"] == [read(decode_entry(entry)) for entry in raw["publications"]]
    assert key_reader("paper-id")(lazily({"p": [{"paper-id": 3}]}, ("p",))["p"][0]) == "3"


def test_an_entry_that_is_not_an_object_names_what_was_seen():
    (entry,) = lazily({"publications": ["just text"]}, ("publications",))["publications"]
    with pytest.raises(ValueError, match="not a JSON object: b'\"just text\"'"):
        key_reader("id")(entry)
