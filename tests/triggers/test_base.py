"""The trigger base and the public seam it stands on (``ahook_for``, ``hook.acall``), through a tiny
trigger over real HTTP against the sandbox."""

from __future__ import annotations

import ast
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_flipbook.hooks import ahook_for
from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.triggers.base import StatusPollingTrigger

TRIGGERS = Path(__file__).resolve().parents[2] / "airflow_provider_flipbook" / "triggers"


class PublicationStateTrigger(StatusPollingTrigger):
    """Succeeds once a FlippingBook publication has a converted source (alone: no listing)."""

    vendors = ("flippingbook",)

    def check(self, hook: Any) -> dict[str, Any]:
        state = hook.get_publication(self.target["publication_id"])["state"]
        return {"state": "success" if "CompletedAllStages" in state else "running", "detail": state}


def first_event(trigger: StatusPollingTrigger) -> dict:
    async def run() -> list:
        return [event.payload async for event in trigger.run()]

    events = asyncio.run(run())
    assert len(events) == 1, events
    return events[0]


def test_an_incomplete_trigger_is_refused_when_its_class_is_defined():
    with pytest.raises(TypeError, match="NoCheck must implement check"):

        class NoCheck(StatusPollingTrigger):
            pass

    with pytest.raises(TypeError, match="HalfListed must implement both listing"):

        class HalfListed(StatusPollingTrigger):
            def check(self, hook: Any) -> dict[str, Any]:
                return {}

            def listing(self, hook: Any) -> Any:
                return hook.status_listing


def test_a_trigger_polls_until_success_and_survives_serialization(sandbox, samples):
    import base64

    created = FlippingBookHook().create_publication(
        name="Base trigger", data=base64.b64encode(samples["three"].read_bytes()).decode(), filename="b.pdf"
    )
    trigger = PublicationStateTrigger(
        conn_id="flippingbook_default",
        poll_interval=0.05,
        deadline=time.time() + 30,
        publication_id=created["id"],
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == f"{__name__}.PublicationStateTrigger"
    again = PublicationStateTrigger(**kwargs)
    event = first_event(again)
    assert event["status"] == "success" and event["publication_id"] == created["id"]
    assert "CompletedAllStages" in event["result"]["detail"]
    polls = [r for r in sandbox.requests("flippingbook") if r.path.endswith(created["id"])]
    assert len(polls) >= 2  # it waited an interval first (wait_first), then polled until done


def test_the_deadline_gives_a_timeout_event_with_the_last_status(sandbox):
    empty = FlippingBookHook().create_publication(name="Never converted")
    event = first_event(
        PublicationStateTrigger(
            conn_id="flippingbook_default",
            poll_interval=0.05,
            deadline=time.time() + 0.3,
            wait_first=False,
            publication_id=empty["id"],
        )
    )
    assert event["status"] == "timeout" and "Empty" in event["message"]


def test_an_error_is_one_error_event_not_a_crash(sandbox):
    event = first_event(
        PublicationStateTrigger(
            conn_id="flippingbook_default",
            poll_interval=0.05,
            deadline=time.time() + 30,
            wait_first=False,
            publication_id="f" * 32,
        )
    )
    assert event["status"] == "error" and "NotFoundError" in event["message"]


def test_a_connection_of_another_type_is_refused_in_the_event(sandbox):
    event = first_event(
        PublicationStateTrigger(
            conn_id="papyrs_default", poll_interval=0.05, deadline=time.time() + 5, publication_id="x"
        )
    )
    assert event["status"] == "error" and "expected one of flippingbook" in event["message"]


def test_acall_books_each_request_once_for_calls_sharing_one_hook(sandbox, monkeypatch):
    """Many calls at once through one hook (the account poll's case): the slot booked on the loop is
    the one the request takes, for each thread of the pool: never a second booking."""

    async def scenario() -> tuple[int, int]:
        hook = await ahook_for("flippingbook_default")
        shared = hook.pacer.shared
        bookings = []
        book = shared.try_acquire

        def counted() -> float:
            wait = book()
            bookings.extend([1] if wait == 0 else [])  # a slot taken (not a "wait n s" answer)
            return wait

        monkeypatch.setattr(shared, "try_acquire", counted)
        await asyncio.gather(*(hook.acall(hook.me) for _ in range(12)))
        return len(bookings), len(sandbox.requests("flippingbook"))

    bookings, requests = asyncio.run(scenario())
    assert requests == 12
    assert bookings == 12  # one slot per request: the one booked on the loop
    assert not [r for r in sandbox.requests("flippingbook") if r.status == 429]


def test_acall_needs_a_hook_made_for_the_event_loop(sandbox):
    with pytest.raises(
        RuntimeError, match=r"^FlippingBookHook\.acall needs a hook built with on_event_loop=True"
    ):
        asyncio.run(FlippingBookHook().acall(lambda: None))


def test_async_for_builds_a_hook_for_the_loop_whose_acall_passes_every_argument(sandbox):
    created = FlippingBookHook().create_publication(name="Async seam")

    async def scenario() -> tuple[FlippingBookHook, dict[str, Any]]:
        hook = await FlippingBookHook.async_for()
        found = await hook.acall(
            lambda *, publication_id: hook.get_publication(publication_id), publication_id=created["id"]
        )
        return hook, found

    hook, found = asyncio.run(scenario())
    assert (hook.conn_id, hook.on_event_loop, hook.connection.conn_id) == (
        "flippingbook_default",
        True,
        "flippingbook_default",
    )
    assert hook.extras == sandbox.connections()["flippingbook"]["extra"]
    assert found["id"] == created["id"] and found["name"] == "Async seam"


@pytest.fixture
def fast_conn(sandbox, monkeypatch) -> str:
    conn = sandbox.connections()["flippingbook"]
    # pacing off: the only waits left are the back-off's
    extra = {**conn["extra"], "retry_min_wait": 0.01, "retry_max_wait": 10, "max_retries": 4, "pacing": False}
    monkeypatch.setenv("AIRFLOW_CONN_FB_SEAM", json.dumps({**conn, "extra": extra}))
    return "fb_seam"


def test_a_hook_on_the_loop_tries_each_request_once_and_acall_backs_off_growing(
    sandbox, fast_conn, monkeypatch
):
    sandbox.fault("flippingbook", route="GET /api/v1/auth/me", status=503, count=3)
    waits: list[float] = []

    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        # asyncio.sleep is one attribute for every loop in the process: the in-process sandbox's
        # uvicorn loop (another thread) sleeps 0.1 s per tick too. Only this scenario's waits count.
        if asyncio.get_running_loop() is scenario_loop:
            waits.append(seconds)
            seconds = 0
        await real_sleep(seconds)

    async def scenario() -> Any:
        nonlocal scenario_loop
        scenario_loop = asyncio.get_running_loop()
        hook = await ahook_for(fast_conn, vendors=("flippingbook",))
        return await hook.acall(hook.me)

    scenario_loop: asyncio.AbstractEventLoop | None = None
    monkeypatch.setattr(asyncio, "sleep", sleep)
    assert asyncio.run(scenario())
    # exponential from retry_min_wait 0.01 s, jitter up to 0.01 s: 0.01-0.02, 0.02-0.03, 0.04-0.05
    assert len(waits) == 3, waits
    assert [r.status for r in sandbox.requests("flippingbook")] == [503, 503, 503, 200]  # each tried once
    assert 0.01 <= waits[0] <= 0.02 and 0.02 <= waits[1] <= 0.03 and 0.04 <= waits[2] <= 0.05, waits


def test_no_trigger_touches_a_hooks_private_attributes():
    """Triggers speak to hooks through public methods only (the seam): no ``hook._x``, no ``__dict__``."""
    offences = []
    for module in TRIGGERS.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            name = node.attr if isinstance(node, ast.Attribute) else ""
            dunder = name.startswith("__") and name.endswith("__") and name != "__dict__"
            if name.startswith("_") and not dunder:
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls", "super")):
                    offences.append(f"{module.name}:{node.lineno} .{node.attr}")
    assert offences == []


class ListedButUntoldTrigger(PublicationStateTrigger):
    """Reads the account poll, but the list never tells (like a later version's conversion): each
    round it asks alone, ``running`` twice, then ``success``."""

    answers: list[str] = []

    def listing(self, hook: Any) -> Any:
        return hook.status_listing

    def listed_key(self) -> Any:
        return self.target["publication_id"]

    def listed_status(self, hook: Any, answer: Any) -> dict[str, Any] | None:
        return None

    def check(self, hook: Any) -> dict[str, Any]:
        self.answers.append("asked")
        done = len(self.answers) > 2
        return {"state": "success" if done else "running", "detail": f"call {len(self.answers)}"}


def test_a_wait_the_list_cannot_answer_asks_alone_at_every_round(sandbox):
    """Its entry never changes (a publication never converted), yet it is woken at every round."""
    never = FlippingBookHook().create_publication(name="Never converted")
    event = first_event(
        ListedButUntoldTrigger(
            conn_id="flippingbook_default",
            poll_interval=0.05,
            deadline=time.time() + 20,
            wait_first=False,
            publication_id=never["id"],
        )
    )
    assert event["status"] == "success" and ListedButUntoldTrigger.answers == ["asked"] * 3


def test_waits_never_import_or_check_a_hook_class_on_the_loop(sandbox, monkeypatch):
    """The first wait imports the vendor's hook module in a thread; the others, even while that import
    runs (the module is in sys.modules already, half done: importing it again would block the loop on
    the import lock), build their hooks from the class it found."""
    import threading

    import airflow_provider_flipbook.hooks as hooks

    monkeypatch.setattr(hooks, "_loaded_hooks", {})
    on_loop: list[str] = []
    check = hooks._checked_class

    def recorded(*args: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            on_loop.append(args[0])
        return check(*args)

    monkeypatch.setattr(hooks, "_checked_class", recorded)
    events = [
        first_event(
            PublicationStateTrigger(
                conn_id=conn_id, poll_interval=0.05, deadline=time.time() + 5, publication_id="f" * 32
            )
        )
        for conn_id in ("flippingbook_default", "flippingbook_default", "papyrs_default")
    ]
    assert [e["status"] for e in events] == ["error"] * 3  # not found twice, then the wrong type
    assert "expected one of flippingbook" in events[2]["message"]
    assert on_loop == []


def test_waits_asking_the_same_at_once_share_one_request(sandbox):
    """Ten waits on one publication, polling alone, ask together each round: one request a round."""
    empty = FlippingBookHook().create_publication(name="Never converted")
    waits = [
        PublicationStateTrigger(
            conn_id="flippingbook_default",
            poll_interval=0.05,
            deadline=time.time() + 0.5,
            wait_first=False,
            publication_id=empty["id"],
        )
        for _ in range(10)
    ]

    async def run_all() -> list[dict]:
        async def one(trigger: StatusPollingTrigger) -> dict:
            return [event.payload async for event in trigger.run()][0]

        return list(await asyncio.gather(*(one(t) for t in waits)))

    started = time.monotonic()
    events = asyncio.run(run_all())
    elapsed = time.monotonic() - started
    assert [e["status"] for e in events] == ["timeout"] * 10
    polls = [r for r in sandbox.requests("flippingbook") if r.path.endswith(empty["id"])]
    assert 1 <= len(polls) <= elapsed / 0.05 + 2  # one per round, not one per wait and round


def test_a_shared_call_outlives_a_cancelled_caller_but_not_the_last_one():
    """One of two callers cancelled: the other still gets the answer; both cancelled: the call stops."""
    from airflow_provider_flipbook.hooks.event_loop import shared_call

    async def scenario() -> tuple[str, bool, int]:
        started, release = [], asyncio.Event()

        async def call() -> str:
            started.append(1)
            await release.wait()
            return "answer"

        first = asyncio.ensure_future(shared_call("k", call))
        second = asyncio.ensure_future(shared_call("k", call))
        await asyncio.sleep(0)
        first.cancel()
        await asyncio.sleep(0)
        release.set()
        answer = await second

        release.clear()
        third = asyncio.ensure_future(shared_call("k", call))
        fourth = asyncio.ensure_future(shared_call("k", call))
        await asyncio.sleep(0)
        third.cancel()
        fourth.cancel()
        await asyncio.gather(third, fourth, return_exceptions=True)
        await asyncio.sleep(0)
        # the shared task was cancelled: no task is left waiting on `release`
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return answer, first.cancelled(), len(started) * 10 + len(leftover)

    answer, first_cancelled, counts = asyncio.run(scenario())
    assert answer == "answer" and first_cancelled
    assert counts == 20  # two calls made (one per burst), nothing left running
