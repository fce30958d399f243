"""Flipsnack's status listing for the account poll (``collection.getList``), over real HTTP against the
sandbox, in every shape its cut-off page leaves open: how many requests a round costs, that no
collection is missed, and that waits still end where the list cannot tell."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs

import pytest

from airflow_provider_flipbook._compat import AirflowException
from airflow_provider_flipbook.hooks import ahook_for
from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook
from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger

COLLECTIONS = 5
PAGE = 2  # extra list_page_size: 5 collections are 3 pages, the last one short


def actions(sandbox) -> list[str]:
    return [parse_qs(r.query)["action"][0] for r in sandbox.requests("flipsnack")]


@pytest.fixture
def collections(sandbox, samples, monkeypatch) -> list[str]:
    conn = sandbox.connections()["flipsnack"]
    # Paced at half the sandbox's speed: at full speed its 5-per-second window is 20 ms, and a late
    # request's retry (code 31) would count twice here.
    extra = {**conn["extra"], "list_page_size": PAGE, "pacing_speed": conn["extra"]["pacing_speed"] / 2}
    conn = {**conn, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_FLIPSNACK_PAGED", json.dumps(conn))
    hook = FlipsnackHook()
    hashes = [
        hook.create_collection(open_file=lambda: samples["three"].open("rb"), title=f"Listed {n}")[
            "collectionHash"
        ]
        for n in range(COLLECTIONS)
    ]
    sandbox.state_store.log.clear()  # count only the listing's requests,
    sandbox.state_store.limits.clear()  # paced alone (the uploads were paced on another pacer)
    return hashes


def listed(conn_id: str = "flipsnack_paged") -> list[str]:
    async def fetch() -> list[str]:
        hook = await ahook_for(conn_id)
        return [hook.status_listing.key_of(e) for e in await hook.status_listing.fetch(hook)]

    return asyncio.run(fetch())


@pytest.mark.parametrize(
    "count, cap, requests",
    [
        ("total", None, 3),  # 2 + 2 + 1: the count says the list ends there, no empty page is asked for
        ("range", None, 3),  # a count of the range tells nothing: the short third page ends it
        ("absent", None, 3),
        ("total", 1, COLLECTIONS),  # pages cut to one: the count says more follow, so paging goes on
    ],
)
def test_a_round_lists_every_collection_in_the_fewest_requests(sandbox, collections, count, cap, requests):
    sandbox.state_store.set_options("flipsnack", {"list_count": count, "list_cap": cap})
    assert listed() == collections
    assert actions(sandbox) == ["collection.getList"] * requests


def test_a_full_last_page_costs_no_empty_page_when_the_count_is_the_total(sandbox, collections):
    FlipsnackHook().delete_collection(collections.pop())  # 4 collections: two full pages
    sandbox.state_store.log.clear()
    sandbox.state_store.limits.clear()
    assert listed() == collections
    assert actions(sandbox) == ["collection.getList"] * 2
    sandbox.state_store.log.clear()
    sandbox.state_store.set_options("flipsnack", {"list_count": "range"})
    assert listed() == collections
    assert actions(sandbox) == ["collection.getList"] * 3  # the count cannot tell: an empty third page


def test_the_page_size_is_the_connection_extra(sandbox, collections, monkeypatch):
    sandbox.state_store.set_options("flipsnack", {"list_count": "absent"})
    assert listed("flipsnack_default") == collections  # the default, 1000: one request
    ranges = [(q["from"][0], q["to"][0]) for q in (parse_qs(r.query) for r in sandbox.requests("flipsnack"))]
    assert ranges == [("0", "999")]
    conn = sandbox.connections()["flipsnack"]
    monkeypatch.setenv(
        "AIRFLOW_CONN_FS_ZERO", json.dumps({**conn, "extra": {**conn["extra"], "list_page_size": 0}})
    )
    with pytest.raises(AirflowException, match="'list_page_size' must be at least 1, got 0"):
        listed("fs_zero")


@pytest.mark.parametrize("list_items", [True, False])
def test_waits_end_from_the_list_or_else_ask_for_their_collection(sandbox, collections, list_items):
    """Where getList's entries carry no item list, each wait asks getCollection; otherwise nothing but the list."""
    sandbox.state_store.set_options("flipsnack", {"list_items": list_items})
    flipsnack = sandbox.state_store.vendors["flipsnack"].state
    for collection in collections:  # every conversion has ended, on the sandbox's own clock
        for item in flipsnack.collections[collection]["items"]:
            item["created"] = flipsnack.shared.now() - 3600
    waits = [
        PdfConversionTrigger(
            conn_id="flipsnack_paged",
            publication_id=collection,
            poll_interval=0.5,  # one round for all: every wait has joined by then
            deadline=time.time() + 60,
            summary=False,
        )
        for collection in collections
    ]

    async def events() -> list[dict]:
        async def first(trigger) -> dict:
            return [e.payload async for e in trigger.run()][0]

        return list(await asyncio.gather(*(first(w) for w in waits)))

    assert [e["status"] for e in asyncio.run(events())] == ["success"] * COLLECTIONS
    calls = actions(sandbox)
    # A loaded machine may start another round while the last waits join or ask alone (and cut it
    # short when the last wait leaves): the first round is the list's three pages, no round asks more.
    rounds: list[list[str]] = []
    for request in sandbox.requests("flipsnack"):
        query = parse_qs(request.query)
        if query["action"] == ["collection.getList"]:
            if query["from"] == ["0"]:
                rounds.append([])
            rounds[-1].append(query["from"][0])
    assert rounds[0] == ["0", "2", "4"]
    assert all(pages == ["0", "2", "4"][: len(pages)] for pages in rounds)
    assert calls.count("collection.getCollection") == (0 if list_items else COLLECTIONS)
