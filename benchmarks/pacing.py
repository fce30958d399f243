"""Batches inside the vendors' rate limits: paced hooks against a plain requests loop with a
fixed-interval retry on 429 (what a user writes without the provider)."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import tempfile
import time
from typing import TYPE_CHECKING

import requests

from benchmarks.common import Result, Sandbox

if TYPE_CHECKING:
    from collections.abc import Callable

FB = "/api/v1/fbonline"


def _fb_naive_call(
    session: requests.Session, url: str, key: str, body: dict, retry_every: float, max_attempts: int = 50
) -> tuple[bool, int]:
    rejections = 0
    for _ in range(max_attempts):
        answer = session.post(url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        if answer.status_code != 429:
            return answer.status_code == 200, rejections
        rejections += 1
        time.sleep(retry_every)
    return False, rejections


def _served(entries: list[dict]) -> int:
    """Requests the vendor served (a 429 is not counted against its limit, nor by the floor)."""
    return sum(1 for r in entries if r["status"] != 429)


def _side_by_side(
    name: str, speed: float, floor: Callable[[int], float], units: int, unit: str, ours, baseline
) -> list[Result]:
    """Run ``ours`` and ``baseline`` (each given the sandbox) on fresh sandboxes.

    ``floor(n)``: the vendor's fastest time for ``n`` requests. Pacing is judged against the floor of the
    requests each client actually sent, so a slow pacer and a client that sends more requests show
    apart: the second is the ``requests_*`` row (per ``unit``, of which the run makes ``units``)."""
    figures = {}
    for variant, run in (("ours", ours), ("baseline", baseline)):
        with Sandbox(speed) as sandbox:
            sandbox.use()
            started = time.perf_counter()
            run(sandbox)
            elapsed = time.perf_counter() - started
            log = sandbox.requests()
            rejected = sum(1 for r in log if r["status"] == 429)
            figures[variant] = (elapsed / floor(_served(log)), rejected, _served(log) / units)
    return [
        Result(
            f"pacing_{name}",
            round(figures["ours"][0], 3),
            round(figures["baseline"][0], 3),
            "elapsed / floor of the requests sent",
            "<= 1.10",
        ),
        Result(f"rejections_{name}", figures["ours"][1], figures["baseline"][1], "429 answers", "0"),
        Result(
            f"requests_{name}",
            round(figures["ours"][2], 2),
            round(figures["baseline"][2], 2),
            f"requests served per {unit}",
            "<= 2" if name == "flippingbook" else "<= 1.05",
            note="ours: a lookup before each create (exactly once)" if name == "flippingbook" else "",
        ),
    ]


def pacing_flippingbook(calls: int, speed: float) -> list[Result]:
    """One publication, then ``calls - 1`` tracked links. Floor: (requests - burst 10) / rate."""
    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook  # imported outside the clock

    def ours(sandbox: Sandbox) -> None:
        hook = FlippingBookHook()
        pid = hook.create_publication(name="Pacing")["id"]
        for n in range(calls - 1):
            hook.create_tracked_link(f"Reader {n}", publication_uid=pid)

    def baseline(sandbox: Sandbox) -> None:
        conn = sandbox.connections["flippingbook"]
        session, key, base = requests.Session(), conn["password"], conn["host"] + FB
        pid = session.post(
            f"{base}/publication",
            json={"name": "Pacing"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        ).json()["id"]
        for n in range(calls - 1):
            _fb_naive_call(
                session,
                f"{base}/tracked_links",
                key,
                {"title": f"Reader {n}", "publicationUid": pid},
                retry_every=1.0 / speed,
            )

    return _side_by_side(
        "flippingbook", speed, lambda n: max(n - 10, 1) / speed, calls, "created object", ours, baseline
    )


def papyrs_naive_post(session: requests.Session, url: str, body: dict, retry_every: float) -> dict:
    """The hand-written loop: POST, and on 429 sleep a fixed interval ("retry every 10 s")."""
    while (answer := session.post(url, json=body, timeout=30)).status_code == 429:
        time.sleep(retry_every)
    return answer.json()


def pacing_papyrs(writes: int, speed: float) -> list[Result]:
    """A page, then ``writes`` widget writes, at 6 requests per 60 s (scaled)."""
    from airflow_provider_flipbook.hooks.papyrs import PapyrsHook  # imported outside the clock

    def ours(sandbox: Sandbox) -> None:
        hook = PapyrsHook()
        page, known = hook.create_page("Pacing")["id"], []
        for n in range(writes):  # the widget ids known: no look before each create
            known.append(hook.create_widget(page, "paragraph", f"Paragraph {n}", known_widgets=known)["id"])

    def baseline(sandbox: Sandbox) -> None:
        session = requests.Session()
        session.headers["X-Auth-Token"] = sandbox.connections["papyrs"]["password"]
        base = sandbox.connections["papyrs"]["host"] + "/@home/api/v1"
        page = papyrs_naive_post(
            session, f"{base}/pages/create/", {"title": "Pacing", "json": [[]]}, 10.0 / speed
        )["id"]
        for n in range(writes):
            papyrs_naive_post(
                session,
                f"{base}/page/{page}/paragraph/create/",
                {"widget": {"val": f"Paragraph {n}"}},
                10.0 / speed,
            )

    # requests 1-6 at once, then 6 per window
    return _side_by_side(
        "papyrs",
        speed,
        lambda n: max(math.floor((n - 1) / 6), 1) * 60.0 / speed,
        writes + 1,
        "created object",
        ours,
        baseline,
    )


def _worker(variant: str, env: dict, pid: str, count: int, speed: float, queue, barrier) -> None:
    import os

    os.environ.update(env)
    failures = 0
    if variant == "ours":
        from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook  # after the env is set

        hook = FlippingBookHook()
        _ = hook.pacer, hook.session  # set up before the clock starts
        barrier.wait()
        for n in range(count):
            try:
                hook.create_tracked_link(f"{os.getpid()}-{n}", publication_uid=pid)
            except Exception:
                failures += 1
    else:
        import json

        conn = json.loads(env["AIRFLOW_CONN_FLIPPINGBOOK_DEFAULT"])
        session = requests.Session()
        barrier.wait()
        for n in range(count):  # retry on 429 every second, at most 5 times, as a hand-written loop would
            ok, _ = _fb_naive_call(
                session,
                conn["host"] + FB + "/tracked_links",
                conn["password"],
                {"title": f"{os.getpid()}-{n}", "publicationUid": pid},
                1.0 / speed,
                max_attempts=5,
            )
            failures += not ok
    queue.put((failures, time.time()))


def concurrency(processes: int, per_process: int, speed: float) -> list[Result]:
    """``processes`` workers share one FlippingBook key, each creating ``per_process`` tracked links.
    Floor: (requests sent - burst) / rate, as in :func:`pacing_flippingbook`."""
    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

    total = processes * per_process
    figures = {}
    for variant in ("ours", "baseline"):
        with Sandbox(speed) as sandbox:
            sandbox.use()
            pid = FlippingBookHook().create_publication(name="Shared")["id"]
            time.sleep(11 / speed)  # let the burst refill, so the floor is the same for both
            earlier = len(sandbox.requests())
            env = {k: v for k, v in os.environ.items() if k.startswith(("AIRFLOW", "PATH"))}
            context = multiprocessing.get_context("spawn")
            queue, barrier = context.Queue(), context.Barrier(processes + 1)
            workers = [
                context.Process(target=_worker, args=(variant, env, pid, per_process, speed, queue, barrier))
                for _ in range(processes)
            ]
            for worker in workers:
                worker.start()
            barrier.wait()  # every worker has imported and set up: the clock starts now
            started = time.time()
            outcomes = [queue.get() for _ in workers]
            for worker in workers:
                worker.join()
            failures = sum(f for f, _ in outcomes)
            elapsed = max(t for _, t in outcomes) - started
            log = sandbox.requests()[earlier:]
            floor = max(_served(log) - 10, 1) / speed
            figures[variant] = (elapsed / floor, failures, _served(log) / total)
    note = f"{processes} processes x {per_process} tracked links"
    return [
        Result(
            "concurrency",
            round(figures["ours"][0], 3),
            round(figures["baseline"][0], 3),
            "elapsed / floor of the requests sent",
            "<= 1.10",
            note=note,
        ),
        Result("concurrency_failures", figures["ours"][1], figures["baseline"][1], "failed calls", "0"),
        Result(
            "concurrency_requests",
            round(figures["ours"][2], 2),
            round(figures["baseline"][2], 2),
            "requests served per tracked link",
            "<= 2",
            note=f"{note}; ours: a lookup before each create (exactly once)",
        ),
    ]


def _host_worker(env: dict, calls: int, queue, barrier) -> None:
    """One "host": its own temp directory, so the host scope's file cannot be shared with the other."""
    import tempfile

    os.environ.update(env)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    from airflow_provider_flipbook.hooks.papyrs import PapyrsHook  # after the env is set

    hook = PapyrsHook()
    _ = hook.pacer, hook.session  # set up before the clock starts
    failures = 0
    barrier.wait()
    for _ in range(calls):
        try:
            hook.list_pages()
        except Exception:
            failures += 1
    queue.put((failures, time.time()))


def pacing_two_hosts(per_host: int, speed: float) -> list[Result]:
    """One Papyrs token used from two "hosts" at once (two processes, each its own TMPDIR) against the
    sandbox in reject mode: the Redis scope (ours) against the host scope. Minimum: the 6-per-60-s
    floor for all the calls, the first 6 at once."""
    from benchmarks.common import RedisServer

    total = 2 * per_host
    minimum = math.floor((total - 1) / 6) * 60.0 / speed
    figures = {}
    with RedisServer() as redis:
        for variant, scope in (("ours", "redis"), ("baseline", "host")):
            with Sandbox(speed, "--rate-limit-mode", "reject") as sandbox:
                conn = sandbox.connections["papyrs"]
                conn = {
                    **conn,
                    "extra": {
                        **conn["extra"],
                        "pacing_scope": scope,
                        "pacing_redis_conn_id": "flipbook_pacing_redis",
                    },
                }
                base_env = {k: v for k, v in os.environ.items() if k.startswith(("AIRFLOW", "PATH"))}
                base_env |= {
                    "AIRFLOW_CONN_PAPYRS_DEFAULT": json.dumps(conn),
                    "AIRFLOW_CONN_FLIPBOOK_PACING_REDIS": redis.connection,
                }
                context = multiprocessing.get_context("spawn")
                queue, barrier = context.Queue(), context.Barrier(3)
                folders = [tempfile.mkdtemp(prefix=f"flipbook-host{n}-") for n in range(2)]
                workers = [
                    context.Process(
                        target=_host_worker, args=({**base_env, "TMPDIR": folder}, per_host, queue, barrier)
                    )
                    for folder in folders
                ]
                for worker in workers:
                    worker.start()
                barrier.wait()
                started = time.time()
                outcomes = [queue.get() for _ in workers]
                for worker in workers:
                    worker.join()
                for folder in folders:
                    shutil.rmtree(folder, ignore_errors=True)
                rejected = sum(1 for r in sandbox.requests() if r["status"] == 429)
                failures = sum(f for f, _ in outcomes)
                elapsed = max(t for _, t in outcomes) - started
                figures[variant] = (elapsed / minimum if minimum else 1.0, rejected, failures)
    note = f"2 hosts x {per_host} calls, speed {speed:g}"
    return [
        Result(
            "pacing_two_hosts",
            round(figures["ours"][0], 3),
            round(figures["baseline"][0], 3),
            "elapsed / minimum",
            "<= 1.10",
            note=f"{note}; baseline: host scope",
        ),
        Result(
            "rejections_two_hosts",
            figures["ours"][1],
            figures["baseline"][1],
            "429 answers",
            "0",
            note=f"failed calls: {figures['ours'][2]} ours, {figures['baseline'][2]} baseline",
        ),
    ]
