"""Asset watchers: the edge-triggered diff (pure), then the triggers over real HTTP against the sandbox:
one event per poll listing every transition, nothing in a steady state, no repeat after a restart
(with the asset state store; a new baseline without it), one list call per account per interval."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time
from typing import Any

import pytest

from airflow_provider_flipbook.events import batch_payload, payload_events
from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook
from airflow_provider_flipbook.hooks.ipaper import IPaperHook
from airflow_provider_flipbook.triggers.flippingbook import TrackedLinkEventTrigger, link_transitions
from airflow_provider_flipbook.triggers.watchers import PublicationEventTrigger, publication_transitions

NOW = "2026-12-03T12:00:00Z"
FB_LIST = "/flippingbook/api/v1/fbonline/publication"


def pub(state: str, version: str = "a.pdf|2|t1", name: str = "Catalogue") -> dict[str, Any]:
    return {"state": state, "version": version, "name": name, "url": f"https://x/view/{name}/"}


HOOKS = {"flippingbook": FlippingBookHook, "flipsnack": FlipsnackHook, "ipaper": IPaperHook}


def diff(previous, current, events=("converted", "failed", "deleted"), vendor="flippingbook", **kw):
    items, _ = publication_transitions(
        previous,
        current,
        vendor=vendor,
        vanished_while_converting=HOOKS[vendor].vanished_while_converting,
        events=list(events),
        filters=kw.pop("filters", {}),
        observed_at=NOW,
        **kw,
    )
    return items


# -- the diff ---------------------------------------------------------------------------------------


def test_the_first_poll_is_a_baseline_unless_existing_objects_are_asked_for():
    current = {"p1": pub("converted"), "p2": pub("converting"), "p3": pub("failed")}
    assert diff(None, current) == []
    assert sorted((i["event"], i["object_id"]) for i in diff(None, current, emit_existing=True)) == [
        ("converted", "p1"),
        ("failed", "p3"),
    ]


def test_each_transition_is_one_event_with_a_stable_id_and_a_steady_state_none():
    before, after = {"p1": pub("converting")}, {"p1": pub("converted")}
    first = diff(before, after)
    assert [(i["event"], i["object_id"], i["url"]) for i in first] == [
        ("converted", "p1", "https://x/view/Catalogue/")
    ]
    assert diff(before, after)[0]["event_id"] == first[0]["event_id"]  # seen again: the same id
    assert first[0]["observed_at"] == NOW
    assert set(first[0]) >= {"event", "vendor", "object_id", "url", "observed_at", "event_id"}
    state = after
    for _ in range(10):  # ten intervals of nothing new
        assert diff(state, dict(state)) == []


def test_several_transitions_in_one_poll_travel_as_one_payload():
    before = {f"p{n}": pub("converting", name=f"C{n}") for n in range(3)}
    after = {f"p{n}": pub("converted", name=f"C{n}") for n in range(3)}
    items = diff(before, after)
    payload = batch_payload(items)
    assert payload["count"] == 3 and payload["event"] == "batch"
    assert sorted(i["object_id"] for i in payload_events(payload)) == ["p0", "p1", "p2"]
    assert len({i["event_id"] for i in items}) == 3
    single = batch_payload(items[:1])
    assert single["event_id"] == items[0]["event_id"] and single["events"] == items[:1]


def test_a_later_version_is_updated_or_converted_as_asked():
    before, after = {"p1": pub("converted", "a.pdf|2|t1")}, {"p1": pub("converted", "a.pdf|3|t2")}
    assert [i["event"] for i in diff(before, after, events=["updated", "converted"])] == ["updated"]
    assert [i["event"] for i in diff(before, after, events=["converted"])] == ["converted"]
    assert diff(before, after, events=["deleted"]) == []
    again = diff(after, {"p1": pub("converted", "a.pdf|2|t3")}, events=["converted"])
    assert again[0]["event_id"] != diff(before, after, events=["converted"])[0]["event_id"]


def test_vanishing_is_failed_before_the_first_conversion_on_flippingbook_and_deleted_otherwise():
    before = {"p1": pub("converting"), "p2": pub("converted")}
    assert sorted((i["event"], i["object_id"]) for i in diff(before, {})) == [
        ("deleted", "p2"),
        ("failed", "p1"),
    ]
    for other in ("flipsnack", "ipaper"):
        gone = diff(before, {}, vendor=other)
        assert sorted((i["event"], i["object_id"]) for i in gone) == [("deleted", "p1"), ("deleted", "p2")]
    assert [i["event"] for i in diff(before, {"p1": pub("converting"), "p2": pub("deleted")})] == ["deleted"]
    assert diff({"p2": pub("deleted")}, {}) == []  # gone from the list after being deleted: reported once


def test_a_listed_failure_is_failed_and_an_object_first_seen_deleted_is_not_reported():
    assert [(i["event"], i["object_id"]) for i in diff({"p1": pub("converting")}, {"p1": pub("failed")})] == [
        ("failed", "p1")
    ]
    assert diff({}, {"p9": pub("deleted")}) == []  # never seen alive: nothing of ours was deleted


def test_each_conversion_of_a_new_version_has_its_own_id():
    first = diff({"p1": pub("converting", "v1")}, {"p1": pub("converted", "v1")})
    second = diff({"p1": pub("converting", "v2")}, {"p1": pub("converted", "v2")})
    assert first[0]["event_id"] != second[0]["event_id"]  # consumers de-duplicate on it


def test_a_deletion_has_one_id_whether_flagged_or_gone_from_the_list():
    """Watchers of one account may see a deletion as the flag or, a round later, as the object gone."""
    before = {"p0": pub("converted"), "p1": pub("converted")}
    flagged = diff(before, {"p0": pub("converted"), "p1": pub("deleted", "later")})
    gone = diff(before, {"p0": pub("converted")})  # p1 gone, looked at after p0, still listed
    assert [(i["event"], i["object_id"]) for i in gone] == [("deleted", "p1")]
    assert flagged[0]["event_id"] == gone[0]["event_id"]


def test_an_object_vanishing_while_converting_is_deleted_by_default():
    items, _ = publication_transitions(
        {"p1": {"state": "converting", "version": None}},
        {},
        vendor="flipsnack",
        events=["deleted", "failed"],
        filters={},
        observed_at=NOW,
    )
    assert [(i["event"], i["object_id"]) for i in items] == [("deleted", "p1")]
    flagged = diff({"p1": pub("converting")}, {"p1": pub("deleted")}, vendor="flipsnack")
    assert items[0]["event_id"] == flagged[0]["event_id"]  # one deletion, one id


def test_only_watched_objects_are_kept_and_small():
    current = {"p1": pub("converted", name="Spring catalogue"), "p2": pub("converted", name="Report")}
    _, kept = publication_transitions(
        None,
        current,
        vendor="flippingbook",
        events=["converted"],
        filters={"name": "catalogue"},
        observed_at=NOW,
    )
    assert kept == {"p1": {"state": "converted", "version": "a.pdf|2|t1"}}
    # renamed out of the filter: still listed, so not "deleted"; no longer watched
    items, kept = publication_transitions(
        kept,
        {**current, "p1": pub("converted", name="Spring")},
        vendor="flippingbook",
        events=["deleted", "converted"],
        filters={"name": "catalogue"},
        observed_at=NOW,
    )
    assert items == [] and kept == {}


def test_filters_by_id_and_name():
    before = {"p1": pub("converting", name="Spring catalogue"), "p2": pub("converting", name="Report")}
    after = {"p1": pub("converted", name="Spring catalogue"), "p2": pub("converted", name="Report")}
    assert [i["object_id"] for i in diff(before, after, filters={"name": "catalogue"})] == ["p1"]
    assert [i["object_id"] for i in diff(before, after, filters={"publication_id": ["p2", "p9"]})] == ["p2"]
    assert [i["object_id"] for i in diff(before, after, filters={"title": "Catalogue"})] == ["p1"]
    assert (
        diff(before, after, filters={"name": "catalogue", "publication_id": "p2"}) == []
    )  # every filter holds


def link(visits=0, last=None, until=None, name="To Ann", publication="p1") -> dict[str, Any]:
    return {
        "visits": visits,
        "last_viewed": last,
        "until": until,
        "name": name,
        "publication": publication,
        "url": "u",
    }


def links(previous, current, events=("opened", "not_opened"), now="2026-12-03T12:00:00+00:00", **kw):
    return link_transitions(
        previous,
        current,
        events=list(events),
        filters=kw.pop("filters", {}),
        observed_at=NOW,
        now=dt.datetime.fromisoformat(now),
        **kw,
    )


def test_a_link_is_opened_when_visits_grow_and_not_opened_once_when_its_date_passes():
    items, state = links(None, {"l1": link(visits=2, last="t1"), "l2": link(until="2026-12-03T11:00:00Z")})
    assert items == [] and state["l2"]["not_opened_reported"]  # baseline: the past date is absorbed
    items, state = links(state, {"l1": link(visits=3, last="t2"), "l2": link(until="2026-12-03T11:00:00Z")})
    assert [(i["event"], i["object_id"], i["visits"]) for i in items] == [("opened", "l1", 3)]
    fresh = {"l3": link(until="2026-12-03T13:00:00Z")}
    items, state = links(state, fresh)
    assert items == []
    items, state = links(state, fresh, now="2026-12-03T13:00:01+00:00")
    assert [(i["event"], i["object_id"]) for i in items] == [("not_opened", "l3")]
    for _ in range(10):
        items, state = links(state, fresh, now="2026-12-03T14:00:00+00:00")
        assert items == []


def test_a_link_is_opened_by_a_new_visit_or_a_moved_last_view_alone():
    _, state = links(None, {"l1": link(), "l2": link(visits=4, last="t1")})
    items, state = links(state, {"l1": link(visits=1), "l2": link(visits=4, last="t2")})
    assert [(i["event"], i["object_id"], i["visits"]) for i in items] == [
        ("opened", "l1", 1),
        ("opened", "l2", 4),
    ]
    assert state["l1"]["visits"] == 1 and state["l2"]["last_viewed"] == "t2"
    items, state = links(state, {"l1": link(visits=1), "l2": link(visits=4, last="t2")})
    assert items == []


def test_a_visited_link_is_never_not_opened_and_existing_ones_are_reported_when_asked():
    current = {"l1": link(visits=1, until="2026-12-03T11:00:00Z"), "l2": link(until="2026-12-03T11:00:00Z")}
    items, _ = links(None, current, emit_existing=True)
    assert [(i["event"], i["object_id"]) for i in items] == [("opened", "l1"), ("not_opened", "l2")]
    items, _ = links(None, current, events=("opened",), emit_existing=True)
    assert [(i["event"], i["object_id"]) for i in items] == [("opened", "l1")]


def test_a_link_event_names_the_link_its_publication_and_when_it_was_seen():
    _, state = links(None, {"l1": link()})
    (item,) = links(state, {"l1": link(visits=1, last="t1", publication="p7")})[0]
    assert {k: item[k] for k in ("event", "vendor", "object_id", "url", "observed_at", "publication_id")} == {
        "event": "opened",
        "vendor": "flippingbook",
        "object_id": "l1",
        "url": "u",
        "observed_at": NOW,
        "publication_id": "p7",
    }


@pytest.mark.parametrize(
    "until",
    ["2026-12-03T12:00:00Z", "2026-12-03T14:00:00+02:00", "2026-12-03T12:00:00"],  # naive: UTC
    ids=["at-now", "other-offset", "naive"],
)
def test_a_not_opened_date_is_due_from_its_instant_on(until):
    _, state = links(None, {})
    items, _ = links(state, {"l1": link(until=until)})
    assert [(i["event"], i["object_id"]) for i in items] == [("not_opened", "l1")]
    items, _ = links(state, {"l1": link(until=until)}, now="2026-12-03T11:59:59+00:00")
    assert items == []


def test_links_are_filtered_by_link_id_publication_and_title():
    before = {"l1": link(publication="p1", name="To Ann"), "l2": link(publication="p2", name="To Bob")}
    after = {"l1": link(1, publication="p1", name="To Ann"), "l2": link(1, publication="p2", name="To Bob")}
    for filters, expected in (
        ({"publication_id": "p2"}, ["l2"]),
        ({"link_id": ["l2", "l9"]}, ["l2"]),
        ({"title": "bob"}, ["l2"]),
        ({"title": "ann"}, ["l1"]),
    ):
        _, state = links(None, before, filters=filters)
        items, kept = links(state, after, filters=filters)
        assert [i["object_id"] for i in items] == expected == list(kept), filters


def test_the_watchers_refuse_unknown_events_and_filters_at_parse_time():
    with pytest.raises(ValueError, match="events"):
        PublicationEventTrigger(conn_id="x", events=["opened"])
    with pytest.raises(ValueError, match="events"):
        TrackedLinkEventTrigger(conn_id="x", events=[])
    with pytest.raises(ValueError, match="filters"):
        PublicationEventTrigger(conn_id="x", events=["converted"], publication="p1")
    one = PublicationEventTrigger(conn_id="x", events=["deleted", "converted"], name="Cat")
    two = PublicationEventTrigger(conn_id="x", events=["converted", "deleted"], name="Cat")
    assert one.serialize() == two.serialize() and one.watermark_key() == two.watermark_key()
    assert PublicationEventTrigger(conn_id="x", events=["converted"]).watermark_key() != one.watermark_key()
    path, kwargs = TrackedLinkEventTrigger(conn_id="x", events="opened", title="Ann").serialize()
    assert path.endswith("triggers.flippingbook.TrackedLinkEventTrigger") and kwargs["title"] == "Ann"


@pytest.mark.parametrize(
    ("vendor", "event"), [("flipsnack", "updated"), ("ipaper", "updated"), ("ipaper", "failed")]
)
def test_a_publication_watcher_refuses_events_the_vendors_listings_cannot_tell(vendor, event):
    """Asked of a hook whose listings never show it, an event fails the watcher at its first poll,
    naming what the vendor's listings do tell, instead of never firing."""
    trigger = PublicationEventTrigger(conn_id=f"{vendor}_default", events=["converted", event])
    hook = HOOKS[vendor].__new__(HOOKS[vendor])  # the class's declarations; the poll never starts
    with pytest.raises(ValueError, match=rf"\['{event}'\].*tell converted"):
        trigger.transitions(hook, None, {})
    assert event in HOOKS["flippingbook"].publication_events


def test_the_watchers_are_what_asset_watcher_accepts():
    from airflow.sdk import Asset, AssetWatcher

    trigger = PublicationEventTrigger(conn_id="flippingbook_default", events=["converted"])
    asset = Asset("flipbooks", watchers=[AssetWatcher(name="converted", trigger=trigger)])
    assert asset.watchers[0].trigger is trigger


# -- the triggers against the sandbox ------------------------------------------------------------------


class MemoryAccessor:
    """One asset's state store, as the triggerer injects it on 3.3 (aget/aset), kept across restarts."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = value


class Store:
    def __init__(self, *accessors: MemoryAccessor) -> None:
        self._by_name = {f"asset{n}": a for n, a in enumerate(accessors)}


def publish(samples, name: str) -> dict[str, Any]:
    data = base64.b64encode(samples["three"].read_bytes()).decode()
    return FlippingBookHook().call("POST", "/api/v1/fbonline/publication", json={"name": name, "data": data})


async def collect(trigger, seconds: float, during=None) -> list[dict[str, Any]]:
    """Run a watcher for ``seconds`` (``during`` runs in a thread meanwhile); its payloads."""
    payloads: list[dict[str, Any]] = []

    async def run() -> None:
        async for event in trigger.run():
            payloads.append(event.payload)

    task = asyncio.get_running_loop().create_task(run())
    if during is not None:
        await asyncio.sleep(0.3)  # the baseline first
        await asyncio.to_thread(during)
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return payloads


def converted_watcher(store=None, **kwargs) -> PublicationEventTrigger:
    trigger = PublicationEventTrigger(
        conn_id="flippingbook_default", events=["converted"], poll_interval=0.2, **kwargs
    )
    trigger.asset_state_store = store
    return trigger


def test_transitions_at_once_reach_one_payload_and_a_steady_state_none(sandbox, samples):
    def three() -> None:
        for n in range(3):
            publish(samples, f"Batch {n}")

    payloads = asyncio.run(collect(converted_watcher(), 3.0, during=three))
    items = [i for p in payloads for i in payload_events(p)]
    assert sorted(i["name"] for i in items) == ["Batch 0", "Batch 1", "Batch 2"]  # each exactly once
    assert len({i["event_id"] for i in items}) == 3
    assert len(payloads) <= 2  # together (one poll may see the last conversion end a little later)
    # the rest of the 3 s were more than 10 quiet intervals of 0.2 s: nothing more came


def test_a_restart_with_the_state_store_neither_repeats_nor_loses(sandbox, samples):
    store = Store(MemoryAccessor(), MemoryAccessor())  # one trigger row serving two assets
    first = asyncio.run(collect(converted_watcher(store), 1.5, during=lambda: publish(samples, "Before")))
    assert [i["name"] for p in first for i in payload_events(p)] == ["Before"]
    publish(samples, "While down")  # converts while no triggerer runs
    time.sleep(0.5)
    second = asyncio.run(collect(converted_watcher(store), 1.5))
    assert [i["name"] for p in second for i in payload_events(p)] == ["While down"]
    third = asyncio.run(collect(converted_watcher(store), 1.0))
    assert third == []
    kept = [a.values for a in store._by_name.values()]
    assert kept[0] == kept[1] and kept[0], "both assets of the trigger row keep the same watermark"


def test_a_restart_without_a_state_store_takes_a_new_baseline(sandbox, samples):
    """Below Airflow 3.3: what converted while the triggerer was down is not reported; nothing repeats."""
    first = asyncio.run(collect(converted_watcher(), 1.5, during=lambda: publish(samples, "Seen")))
    assert [i["name"] for p in first for i in payload_events(p)] == ["Seen"]
    publish(samples, "Missed")
    time.sleep(0.5)
    assert asyncio.run(collect(converted_watcher(), 1.0)) == []


def test_two_watchers_on_one_credential_cost_one_list_call_per_interval(sandbox, samples):
    publish(samples, "Existing")
    time.sleep(0.3)

    async def both() -> tuple[list, list, float]:
        started = time.monotonic()
        converted, deleted = await asyncio.gather(
            collect(converted_watcher(), 2.0),
            collect(
                PublicationEventTrigger(
                    conn_id="flippingbook_default", events=["deleted"], poll_interval=0.2
                ),
                2.0,
            ),
        )
        return converted, deleted, time.monotonic() - started

    sandbox.state_store.log.clear()
    _, _, elapsed = asyncio.run(both())
    lists = [r for r in sandbox.requests("flippingbook") if r.method == "GET" and r.path == FB_LIST]
    assert 0 < len(lists) <= elapsed / 0.2 + 2, f"{len(lists)} list calls in {elapsed:.1f} s for two watchers"


def test_a_tracked_link_opened_and_one_left_unopened(sandbox, samples):
    import requests

    created = publish(samples, "Links")
    hook = FlippingBookHook()
    deadline = time.monotonic() + 10
    while "CompletedAllStages" not in hook.get_publication(created["id"])["state"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1.5)
    read = hook.create_tracked_link("Ann", publication_uid=created["id"])
    hook.create_tracked_link("Bob", publication_uid=created["id"], on_not_opened_until=soon)
    trigger = TrackedLinkEventTrigger(
        conn_id="flippingbook_default", events=["opened", "not_opened"], poll_interval=0.2
    )
    viewer = f"{sandbox.url}/flippingbook/link/{read['urlName']}"
    payloads = asyncio.run(collect(trigger, 2.5, during=lambda: requests.get(viewer, timeout=10)))
    items = sorted((i["event"], i["name"]) for p in payloads for i in payload_events(p))
    assert items == [("not_opened", "Bob"), ("opened", "Ann")]


@pytest.mark.parametrize(
    ("conn_id", "sample"),
    [("flipsnack_default", "three"), ("ipaper_default", "long")],
    ids=["flipsnack", "ipaper"],
)
def test_flipsnack_and_ipaper_conversions_are_watched_too(sandbox, samples, context, conn_id, sample):
    from airflow_provider_flipbook.operators import UploadPdfOperator

    uploaded: list[dict[str, Any]] = []

    def upload() -> None:
        operator = UploadPdfOperator(task_id="u", conn_id=conn_id, pdf=str(samples[sample]), name="Watched")
        uploaded.append(operator.execute(context))

    trigger = PublicationEventTrigger(conn_id=conn_id, events=["converted"], poll_interval=0.2)
    payloads = asyncio.run(collect(trigger, 6.0, during=upload))
    items = [i for p in payloads for i in payload_events(p)]
    assert [(i["event"], i["vendor"], str(i["object_id"])) for i in items] == [
        ("converted", conn_id.split("_")[0], str(uploaded[0]["publication_id"]))
    ]
