"""One poll per vendor account: waits on one credential share one list call per round, over real HTTP
against the sandbox; each wait keeps its own deadline, is cancellable alone, and a late joiner is
answered at the next round."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

import pytest

from airflow_provider_flipbook.hooks import ahook_for, hook_class
from airflow_provider_flipbook.hooks.event_loop import Listing
from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook
from airflow_provider_flipbook.triggers import account_poll
from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger

FB_LIST = "/flippingbook/api/v1/fbonline/publication"
FB = "/api/v1/fbonline"


def fb_requests(sandbox) -> tuple[list, list]:
    """(list calls, per-publication calls) of FlippingBook in the request log."""
    calls = [r for r in sandbox.requests("flippingbook") if r.method == "GET"]
    return [r for r in calls if r.path == FB_LIST], [r for r in calls if r.path.startswith(FB_LIST + "/")]


def conversion_waits(publications: list[dict], interval: float, deadline: float = 60, **kwargs: Any) -> list:
    return [
        PdfConversionTrigger(
            conn_id="flippingbook_default",
            publication_id=p["id"],
            version_id=p["createdSource"]["id"],
            poll_interval=interval,
            deadline=time.time() + deadline,
            summary=False,
            **kwargs,
        )
        for p in publications
    ]


async def events(triggers: list) -> list[dict]:
    async def first(trigger) -> dict:
        return [e.payload async for e in trigger.run()][0]

    return list(await asyncio.gather(*(first(t) for t in triggers)))


@pytest.fixture
def publications(sandbox, samples) -> list[dict]:
    data = base64.b64encode(samples["three"].read_bytes()).decode()
    hook = FlippingBookHook()
    created = [hook.create_publication(name=f"Poll {n}", data=data, filename="p.pdf") for n in range(12)]
    sandbox.state_store.log.clear()  # count only the waits' requests
    return created


def test_waits_on_one_account_share_one_list_call_per_round(sandbox, publications):
    started = time.monotonic()
    answers = asyncio.run(events(conversion_waits(publications, 0.1, new_publication=True)))
    elapsed = time.monotonic() - started
    assert [a["status"] for a in answers] == ["success"] * len(publications)
    lists, singles = fb_requests(sandbox)
    assert singles == [], "a first conversion is read from the publication list alone"
    assert 1 <= len(lists) <= elapsed / 0.1 + 2  # one list call per round (each one page), not one per wait


def test_a_later_version_is_asked_alone_and_fairly(sandbox, publications):
    """The list cannot tell a later version's conversion: each wait asks for its source itself."""
    answers = asyncio.run(events(conversion_waits(publications, 0.1)))
    assert [a["status"] for a in answers] == ["success"] * len(publications)
    _, singles = fb_requests(sandbox)
    asked = {r.path.split("/")[-3] for r in singles}
    assert asked == {p["id"] for p in publications}  # every wait asked, none left out


def test_a_vanished_publication_fails_through_its_own_call(sandbox, publications):
    FlippingBookHook().delete_publication(publications[0]["id"])
    (answer,) = asyncio.run(events(conversion_waits(publications[:1], 0.05, new_publication=True)))
    assert answer["status"] == "failed" and "vanished" in answer["message"]


def test_each_wait_keeps_its_own_deadline_and_leaves_alone(sandbox, publications, monkeypatch):
    hook = FlippingBookHook()
    never = hook.create_publication(name="Never converted")  # no source: never CompletedAllStages
    short, long = (
        PdfConversionTrigger(
            conn_id="flippingbook_default",
            publication_id=never["id"],
            poll_interval=0.05,
            deadline=time.time() + seconds,
            wait_first=False,
        )
        for seconds in (0.3, 60)
    )

    async def scenario() -> tuple[dict, int]:
        waiting = asyncio.create_task(events([long]))
        (timed_out,) = await events([short])
        assert not waiting.done()
        (poll,) = account_poll.active_polls()
        assert len(poll.subscribers) == 1  # the timed-out wait left; the other one stays
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0)
        return timed_out, len(account_poll.active_polls())

    timed_out, polls_left = asyncio.run(scenario())
    assert timed_out["status"] == "timeout" and "Empty" in timed_out["message"]
    assert polls_left == 0  # the poll stops with its last wait
    rounds = len(fb_requests(sandbox)[0])
    time.sleep(0.2)
    assert len(fb_requests(sandbox)[0]) == rounds  # and sends nothing after


def test_a_late_joiner_is_answered_at_the_next_round(sandbox):
    async def scenario() -> tuple[list[int], list[int]]:
        hook = await ahook_for("flippingbook_default")
        listing = hook.status_listing
        early_rounds, late_rounds = [], []
        async with account_poll.subscribe(hook, listing, interval=0.2) as early:
            early_rounds.append((await early.next()).number)
            await asyncio.sleep(0.05)  # mid-interval
            async with account_poll.subscribe(hook, listing, interval=0.2) as late:
                late_rounds.append((await late.next()).number)
                early_rounds.append((await early.next()).number)
        return early_rounds, late_rounds

    early, late = asyncio.run(scenario())
    assert early == [1, 2] and late == [2]
    assert len(fb_requests(sandbox)[0]) == 2  # the joiner cost no call of its own


def test_connections_share_a_poll_only_with_the_same_account(sandbox, monkeypatch):
    conn = sandbox.connections()["flippingbook"]
    monkeypatch.setenv("AIRFLOW_CONN_FB_SAME", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW_CONN_FB_OTHER", json.dumps({**conn, "password": "another-key"}))

    async def scenario() -> list[int]:
        hooks = [await ahook_for(c) for c in ("flippingbook_default", "fb_same", "fb_other")]
        async with (
            account_poll.subscribe(hooks[0], hooks[0].status_listing, interval=5) as one,
            account_poll.subscribe(hooks[1], hooks[1].status_listing, interval=5) as two,
            account_poll.subscribe(hooks[2], hooks[2].status_listing, interval=5),
        ):
            assert one.poll is two.poll
            return sorted(len(p.subscribers) for p in account_poll.active_polls())

    assert asyncio.run(scenario()) == [1, 2]


def test_the_key_holds_no_secret(sandbox):
    async def key() -> tuple:
        hook = await ahook_for("flippingbook_default")
        return account_poll.account_key(hook, hook.status_listing)

    secret = sandbox.connections()["flippingbook"]["password"]
    assert secret not in repr(asyncio.run(key()))


def test_a_subscriber_reads_every_rounds_full_listing(sandbox, publications):
    """What a watcher sees: each round, the whole paged list (pages of 5 here: three requests)."""

    async def rounds() -> list[account_poll.Round]:
        hook = await ahook_for("flippingbook_default")
        small_pages = Listing("publications", "publications_page", "id", page_size=5)
        seen = []
        async with account_poll.subscribe(hook, small_pages, interval=0.05) as watcher:
            for _ in range(2):
                seen.append(await watcher.next())
        return seen

    first, second = asyncio.run(rounds())
    ids = {p["id"] for p in publications}
    assert {e["id"] for e in first.entries} == ids == set(second.by_key)
    assert len(fb_requests(sandbox)[0]) == 2 * 3  # 12 entries in pages of 5, twice


@pytest.mark.parametrize("page_size, requests", [(6, 2), (12, 1), (5, 3), (13, 1)])
def test_a_round_asks_for_no_page_after_the_total(sandbox, publications, page_size, requests):
    """The list's documented ``total`` ends a round at its last page: 12 publications in pages of 6
    are two requests, never a third, empty one."""

    async def one_round() -> account_poll.Round:
        hook = await ahook_for("flippingbook_default")
        listing = Listing("publications", "publications_page", "id", page_size=page_size)
        async with account_poll.subscribe(hook, listing, interval=5) as watcher:
            return await watcher.next()

    answer = asyncio.run(one_round())
    assert {e["id"] for e in answer.entries} == {p["id"] for p in publications}
    assert len(fb_requests(sandbox)[0]) == requests


def test_a_failed_list_call_reaches_every_wait_of_the_round(sandbox, publications):
    sandbox.fault("flippingbook", route="GET /api/v1/fbonline/publication", status=400, count=1)
    triggers = [
        PdfConversionTrigger(
            conn_id="flippingbook_default",
            publication_id=p["id"],
            poll_interval=0.5,  # the first round half a second on: all three have joined
            deadline=time.time() + 30,
        )
        for p in publications[:3]
    ]
    answers = asyncio.run(events(triggers))
    assert [a["status"] for a in answers] == ["error"] * 3
    assert len(fb_requests(sandbox)[0]) == 1


def test_ipaper_waits_read_the_processing_list(sandbox, samples, context):
    from airflow_provider_flipbook.operators import UploadPdfOperator

    uploads = [
        UploadPdfOperator(
            task_id=f"u{n}", conn_id="ipaper_default", pdf=str(samples["long"]), name=f"Poll paper {n}"
        ).execute(context)
        for n in range(3)
    ]
    triggers = [
        PdfConversionTrigger(
            conn_id="ipaper_default",
            publication_id=u["publication_id"],
            version_id=u["version_id"],
            poll_interval=0.1,
            deadline=time.time() + 60,
            wait_first=False,
            summary=False,
        )
        for u in uploads
    ]
    before = len(sandbox.requests("ipaper"))
    started = time.monotonic()
    answers = asyncio.run(events(triggers))
    rounds = (time.monotonic() - started) / 0.1 + 2
    assert [a["status"] for a in answers] == ["success"] * 3
    calls = [r.path.rsplit("/", 1)[-1] for r in sandbox.requests("ipaper")[before:]]
    lists = calls.count("GetProcessingPapers")
    assert lists <= rounds + 3  # one list per round, plus one per wait once its paper left it
    assert len(calls) - lists <= 3 * 2  # alone: only to confirm the end (status and/or structure)


def test_a_round_wakes_its_subscribers_a_batch_per_loop_iteration(sandbox):
    """Hundreds of waits woken in one loop iteration would hold the triggerer's loop past its
    blocked-loop threshold: a round wakes at most DELIVERY_BATCH of them per iteration."""

    async def scenario() -> Counter:
        hook = await ahook_for("flippingbook_default")
        iteration, woken = [0], Counter()
        stop = asyncio.Event()

        async def count_iterations() -> None:
            while not stop.is_set():
                iteration[0] += 1
                await asyncio.sleep(0)

        async def subscriber() -> None:
            async with account_poll.subscribe(
                hook, hook.status_listing, interval=5, first_due=time.time() + 0.2
            ) as s:
                await s.next()
                woken[iteration[0]] += 1

        counter = asyncio.create_task(count_iterations())
        await asyncio.gather(*(subscriber() for _ in range(100)))
        stop.set()
        await counter
        return woken

    woken = asyncio.run(scenario())
    assert sum(woken.values()) == 100
    assert max(woken.values()) <= 20  # account_poll.DELIVERY_BATCH


def test_waits_started_together_share_one_connection_fetch_and_start_a_batch_per_iteration(
    sandbox, publications, monkeypatch
):
    """A mapped upload defers its waits together and the triggerer starts them in one loop iteration:
    they fetch the connection once between them (Airflow's lookup and masking cost about a
    millisecond each on the loop), and at most STARTS_PER_ITERATION of them build a hook per iteration."""
    from airflow_provider_flipbook import _compat
    from airflow_provider_flipbook.hooks import event_loop
    from airflow_provider_flipbook.triggers import base

    fetches, built = Counter(), Counter()
    fetch, build = _compat.aget_connection, base.ahook_for
    iteration = [0]

    async def counted_fetch(conn_id: str) -> Any:
        fetches[conn_id] += 1
        return await fetch(conn_id)

    async def counted_build(*args: Any, **kwargs: Any) -> Any:
        built[iteration[0]] += 1
        return await build(*args, **kwargs)

    monkeypatch.setattr(_compat, "aget_connection", counted_fetch)
    monkeypatch.setattr(base, "ahook_for", counted_build)

    async def scenario() -> list[dict]:
        stop = asyncio.Event()

        async def count_iterations() -> None:
            while not stop.is_set():
                iteration[0] += 1
                await asyncio.sleep(0)

        counter = asyncio.create_task(count_iterations())
        waits = conversion_waits(publications * 5, 0.1, new_publication=True)  # 60 waits
        answers = await events(waits)
        stop.set()
        await counter
        return answers

    answers = asyncio.run(scenario())
    assert [a["status"] for a in answers] == ["success"] * 60
    assert fetches == {"flippingbook_default": 1}
    assert sum(built.values()) == 60 and max(built.values()) <= event_loop.STARTS_PER_ITERATION


def test_a_wait_is_woken_only_when_its_entry_changes(sandbox):
    """Thousands of waits woken every round to read an unchanged entry kept the loop busy: a wait that
    names its object is woken at its first round and when its entry changes; a watcher (no key) and
    a wait whose entry cannot tell (``every_round``) at every round."""
    never = FlippingBookHook().create_publication(name="Never converted")  # its entry never changes

    async def scenario() -> dict[str, int]:
        hook = await ahook_for("flippingbook_default")
        listing = hook.status_listing
        async with (
            account_poll.subscribe(hook, listing, interval=0.05) as watcher,
            account_poll.subscribe(hook, listing, interval=0.05, key=never["id"]) as keyed,
            account_poll.subscribe(hook, listing, interval=0.05, key=never["id"]) as asks_alone,
        ):
            asks_alone.every_round = True
            delivered: Counter = Counter()
            for name, subscription in (("keyed", keyed), ("asks_alone", asks_alone)):
                deliver = subscription.deliver

                def counted(answer: Any, name: str = name, deliver: Any = deliver) -> None:
                    delivered[name] += 1
                    deliver(answer)

                subscription.deliver = counted  # type: ignore[method-assign]
            for _ in range(4):
                await watcher.next()
            return dict(delivered)

    assert asyncio.run(scenario()) == {"keyed": 1, "asks_alone": 4}


def hold_conversions(sandbox, publications) -> dict[str, dict]:
    """Every publication converting until the test ends it: its source, by publication id."""
    fb = sandbox.state_store.vendors["flippingbook"].state
    sources = {p["id"]: fb.sources[p["createdSource"]["id"]] for p in publications}
    for pid, source in sources.items():
        source.update(created=sandbox.state_store.now() + 1e6, applied=False)
        fb.publications[pid].update(state=["Empty"], modified=fb.publications[pid]["created"])
    return sources


def wait_on(publications: list[dict], publication_id: str) -> PdfConversionTrigger:
    (wait,) = conversion_waits(
        [p for p in publications if p["id"] == publication_id],
        interval=0.2,
        deadline=20,
        new_publication=True,
    )
    wait.wait_first = False
    return wait


@pytest.mark.parametrize("order, rounds", [("created", 2), ("newest", 2), ("modified", 3)])
def test_a_publication_that_moves_to_a_page_already_read_is_answered_at_the_next_round(
    sandbox, publications, monkeypatch, order, rounds
):
    """The list's order is not documented (the sandbox plays three). In pages of 5, a conversion on the
    last page ends while the second round reads its first page: where the order puts the last modified
    first, the publication moves to the page already read and that round does not list it. The round
    is steady (12 publications, as before), so the wait looks again at the next round, which lists it
    first, instead of asking alone: no request beyond the list's."""
    sandbox.state_store.set_options("flippingbook", {"list_order": order})
    sources = hold_conversions(sandbox, publications)
    moved = FlippingBookHook().publications_page(10, 5)[0]["id"]  # on the last page of three
    sandbox.state_store.log.clear()
    monkeypatch.setattr(
        FlippingBookHook, "status_listing", Listing("publications", "publications_page", "id", 5)
    )
    read_page, first_pages = FlippingBookHook.publications_page, []

    def page_then_end(hook: FlippingBookHook, offset: int, count: int, **filters: str) -> Any:
        answer = read_page(hook, offset, count, **filters)
        first_pages.append(offset == 0)
        if sum(first_pages) == 2 and offset == 0:  # between the second round's first and second page
            sources[moved]["created"] = sandbox.state_store.now() - 1e6
        return answer

    monkeypatch.setattr(FlippingBookHook, "publications_page", page_then_end)
    (event,) = asyncio.run(events([wait_on(publications, moved)]))
    assert event["status"] == "success"
    lists, alone = fb_requests(sandbox)
    assert [parse_qs(r.query)["offset"] for r in lists] == [["0"], ["5"], ["10"]] * rounds
    assert alone == []


@pytest.mark.parametrize("replaced", [False, True])
def test_a_publication_gone_from_the_list_is_asked_for_alone(sandbox, publications, monkeypatch, replaced):
    """Deleted between two rounds (as a failed first conversion deletes it): the list got shorter, so
    the wait asks at once. Deleted while another publication was created (the same length: a steady
    round), it looks once more at the next round and then asks: never waits on a publication the list
    lost."""
    hold_conversions(sandbox, publications)
    gone = publications[3]["id"]
    monkeypatch.setattr(
        FlippingBookHook, "status_listing", Listing("publications", "publications_page", "id", 5)
    )
    read_page, first_pages = FlippingBookHook.publications_page, []

    def page_then_delete(hook: FlippingBookHook, offset: int, count: int, **filters: str) -> Any:
        answer = read_page(hook, offset, count, **filters)
        first_pages.append(offset == 0)
        if offset == 10 and sum(first_pages) == 1:  # after the first round, by another client
            other = FlippingBookHook()
            other.delete_publication(gone)
            if replaced:
                other.call("POST", f"{FB}/publication", operation="publication.create", json={"name": "New"})
        return answer

    monkeypatch.setattr(FlippingBookHook, "publications_page", page_then_delete)
    (event,) = asyncio.run(events([wait_on(publications, gone)]))
    assert event["status"] == "failed"
    lists, alone = fb_requests(sandbox)
    assert len(lists) == 3 * (3 if replaced else 2)
    assert len(alone) == 1


@pytest.mark.parametrize("vendor", ["flippingbook", "flipsnack"])
def test_a_rounds_json_listing_stays_out_of_the_collectors_reach(sandbox, samples, vendor):
    """Decoded as dicts and lists, each round of a 2000-entry list moved thousands of objects into
    the collector's oldest generation, and every few seconds that set off a full collection of the
    triggerer's whole heap (about 0.1 s with the loop held): a round keeps its entries as JSON
    (objects the collector does not track), decoded when a wait reads its own."""
    if vendor == "flippingbook":
        data = base64.b64encode(samples["three"].read_bytes()).decode()
        ids = [FlippingBookHook().create_publication(name=f"Kept {n}", data=data)["id"] for n in range(2)]
    else:
        ids = [
            FlipsnackHook().create_collection(
                open_file=lambda: samples["three"].open("rb"), title=f"Kept {n}"
            )["collectionHash"]
            for n in range(2)
        ]

    async def first_round() -> account_poll.Round:
        hook = await ahook_for(f"{vendor}_default")
        async with account_poll.subscribe(hook, hook.status_listing, interval=5) as subscription:
            return await subscription.next()

    answer = asyncio.run(first_round())
    assert sorted(answer.by_key) == sorted(str(i) for i in ids)
    assert not gc.is_tracked(answer.by_key)
    assert not any(gc.is_tracked(entry) for entry in answer.listed)
    key = hook_class(vendor).status_listing.key  # type: ignore[union-attr]
    for listed_id in ids:  # read back as the dicts the vendor's answer holds
        entry = answer.entry(listed_id)
        assert isinstance(entry, dict) and str(entry[key]) == str(listed_id)
    assert [str(e[key]) for e in answer.entries] == [str(i) for i in ids]


def test_a_wait_keeps_no_round_once_it_has_read_it(sandbox):
    """A wait whose entry does not change sleeps for many rounds: holding the round it last read (every
    entry of the account) kept one whole listing alive per wait."""
    never = FlippingBookHook().create_publication(name="Never converted")  # its entry never changes

    async def rounds_alive() -> tuple[list[int], int]:
        wait = PdfConversionTrigger(
            conn_id="flippingbook_default",
            publication_id=never["id"],
            poll_interval=0.05,
            deadline=time.time() + 30,
            new_publication=True,
        )
        waiting = asyncio.create_task(wait.run().__anext__())
        hook = await ahook_for("flippingbook_default")
        async with account_poll.subscribe(hook, hook.status_listing, interval=0.05) as watcher:
            for _ in range(6):
                latest = (await watcher.next()).number
            gc.collect()  # earlier tests' unreachable rounds (in cycles) are not what is measured
            alive = sorted(o.number for o in gc.get_objects() if type(o) is account_poll.Round)
        assert not waiting.done()  # still waiting on its unchanged entry
        waiting.cancel()
        return alive, latest

    alive, latest = asyncio.run(rounds_alive())
    assert alive and min(alive) >= latest - 1  # the poll's latest round (and the next, if begun) only


def test_triggers_on_one_loop_share_a_hook_per_connection_while_one_holds_it(sandbox, monkeypatch):
    """A thousand waits on one account hold one hook (session, pool, pacer), not a thousand."""
    import gc
    import os
    import weakref

    from airflow_provider_flipbook.hooks import event_loop

    monkeypatch.setattr(event_loop, "CONNECTION_REUSE_SECONDS", 0.0)  # each call fetches afresh

    async def shared_while_held() -> tuple[bool, bool, bool]:
        first = await ahook_for("flippingbook_default")
        again = await ahook_for("flippingbook_default")
        other = await ahook_for("ipaper_default")
        changed = json.loads(os.environ["AIRFLOW_CONN_FLIPPINGBOOK_DEFAULT"])
        changed["password"] = "another-key"
        monkeypatch.setenv("AIRFLOW_CONN_FLIPPINGBOOK_DEFAULT", json.dumps(changed))
        rotated = await ahook_for("flippingbook_default")
        gone = weakref.ref(rotated)
        shared, separate = again is first and other is not first, rotated is not first
        del first, again, rotated
        gc.collect()
        return shared, separate, gone() is None

    shared, rebuilt_for_a_changed_connection, freed = asyncio.run(shared_while_held())
    assert shared, "two triggers on one connection built two hooks"
    assert rebuilt_for_a_changed_connection, "a changed connection (a rotated key) kept the old hook"
    assert freed, "the shared hook outlived every trigger that held it"
