"""Many deferred conversion waits in one triggerer process, against the sandbox.

Ours: PdfConversionTrigger (pacing and back-off awaited on the event loop, the HTTP call in the
provider's own small pool). Baseline: the same trigger with the usual ``asyncio.to_thread(check)``
loop, where the synchronous hook sleeps for pacing inside asyncio's default pool.

Each variant runs in a fresh process (its own peak RSS). Measured there: detection latency after each
conversion finished, status requests per wait, the largest event-loop stall (a 10 ms ticker), and how
long another provider's trigger waits for a default-pool thread (a probe calling ``to_thread`` every
0.1 s). All waits share one FlippingBook key, so a poll round of ``waits`` requests takes
``waits / rate`` s at the vendor's rate: the latency target is one poll interval plus that.
"""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import os
import time
from typing import Any

from benchmarks.common import WORK, Result, Sandbox


def conversion_seconds(pages: int, speed: float) -> float:
    """The sandbox's FlippingBook model: queued 3 s, preview 2 + 0.02/page, L1 0.2/page."""
    return (3 + 2 + 0.02 * pages + 0.2 * pages) / speed


def _baseline_trigger_class() -> type:
    from airflow.triggers.base import TriggerEvent

    from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger

    class ToThreadConversionTrigger(PdfConversionTrigger):
        """What a trigger usually does: the synchronous hook (it sleeps to pace) in the default pool."""

        async def run(self):  # type: ignore[override]
            from airflow_provider_flipbook.hooks import hook_for

            hook = await asyncio.to_thread(hook_for, self.conn_id)  # a plain hook: it sleeps to pace
            while True:
                status = await asyncio.to_thread(self.check, hook)
                if status["state"] != "running":
                    yield TriggerEvent({"status": status["state"], **self.target})
                    return
                await asyncio.sleep(self.poll_interval)

    return ToThreadConversionTrigger


def _triggerer(variant: str, env: dict, waits_per_target: int, interval: float, inbox, outbox) -> None:
    import resource

    os.environ.update(env)
    from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger

    cls = PdfConversionTrigger if variant == "ours" else _baseline_trigger_class()
    outbox.put("ready")
    targets = inbox.get()  # [(publication_id, source_id, finished_at), ...]
    triggers = [
        (
            cls(
                conn_id="flippingbook_default",
                publication_id=pid,
                version_id=sid,
                poll_interval=interval,
                deadline=time.time() + 600,
                wait_first=False,
                summary=False,
            ),
            finished,
        )
        for pid, sid, finished in targets
        for _ in range(waits_per_target)
    ]

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        stalls, probes = [0.0], [0.0]

        async def ticker() -> None:  # how late the loop wakes a 10 ms sleeper
            while not done.is_set():
                before = loop.time()
                await asyncio.sleep(0.01)
                stalls.append(loop.time() - before - 0.01)

        async def probe() -> None:  # another provider's trigger asking the default pool for a thread
            while not done.is_set():
                before = time.perf_counter()
                await asyncio.to_thread(time.perf_counter)
                probes.append(time.perf_counter() - before)
                await asyncio.sleep(0.1)

        async def wait(trigger, finished: float) -> float:
            async for event in trigger.run():
                assert event.payload["status"] == "success", event.payload
            return time.time() - finished

        monitors = [asyncio.create_task(ticker()), asyncio.create_task(probe())]
        latencies = await asyncio.gather(*(wait(t, f) for t, f in triggers))
        done.set()
        await asyncio.gather(*monitors)
        return {"latencies": latencies, "stall": max(stalls), "probe": max(probes)}

    profile = None
    if os.environ.get("BENCH_PROFILE"):  # what held the loop: see benchmarks/loop_profile.py
        from benchmarks.loop_profile import LoopProfile

        profile = LoopProfile(os.environ["BENCH_PROFILE"], f"triggerer-{variant}")
        profile.start()
    figures = asyncio.run(main())
    if profile:
        profile.report([], [])
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    outbox.put(figures)


def triggerer_waits(waits: int, publications: int, pages: int, speed: float, interval: float) -> list[Result]:
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    WORK.mkdir(parents=True, exist_ok=True)
    pdf = WORK / f"triggerer-{pages}.pdf"
    if not pdf.exists():
        make_sample_pdf(pdf, pages, "Triggerer")
    data = base64.b64encode(pdf.read_bytes()).decode()
    per_target = max(waits // publications, 1)
    total = per_target * publications
    figures: dict[str, dict[str, Any]] = {}
    for variant in ("ours", "baseline"):
        with Sandbox(speed) as sandbox:
            sandbox.use()
            env = {k: v for k, v in os.environ.items() if k.startswith(("AIRFLOW", "PATH"))}
            context = multiprocessing.get_context("spawn")
            inbox, outbox = context.Queue(), context.Queue()
            process = context.Process(
                target=_triggerer, args=(variant, env, per_target, interval, inbox, outbox)
            )
            process.start()
            assert outbox.get(timeout=120) == "ready"
            from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

            hook = FlippingBookHook()
            targets = []
            for n in range(publications):  # within FlippingBook's burst of 10: created at once
                created = hook.create_publication(name=f"Triggerer {n}", data=data, filename="t.pdf")
                targets.append(
                    (
                        created["id"],
                        created["createdSource"]["id"],
                        time.time() + conversion_seconds(pages, speed),
                    )
                )
            inbox.put(targets)
            result = outbox.get(timeout=900)
            process.join(timeout=60)
            ids = [pid for pid, _, _ in targets]
            status_calls = sum(  # per publication, or the account poll's list (no name query)
                1
                for r in sandbox.requests()
                if r["method"] == "GET"
                and (
                    any(pid in r["path"] for pid in ids)
                    or (r["path"].endswith("/fbonline/publication") and "query=" not in r["query"])
                )
            )
            result["requests_per_wait"] = status_calls / total
            result["rejected"] = sum(1 for r in sandbox.requests() if r["status"] == 429)
            figures[variant] = result
    rate = speed / 1.02  # FlippingBook's 1 call/s, sped up, with the hooks' 2 % margin
    target = interval + total / rate
    ours, base = figures["ours"], figures["baseline"]
    note = (
        f"{total} waits on {publications} conversions, one key, speed {speed:g}, poll every {interval:g} s; "
        f"429s: {ours['rejected']} ours, {base['rejected']} baseline"
    )
    return [
        Result(
            "triggerer_latency_s_max",
            round(max(ours["latencies"]), 3),
            round(max(base["latencies"]), 3),
            "s after the conversion finished (worst wait)",
            f"<= {target:.2f} (interval + waits / rate)",
            note=note,
        ),
        Result(
            "triggerer_requests_per_wait",
            round(ours["requests_per_wait"], 2),
            round(base["requests_per_wait"], 2),
            "status requests per wait",
            "n/a",
        ),
        Result(
            "triggerer_peak_rss_mb",
            round(ours["rss_mb"], 1),
            round(base["rss_mb"], 1),
            "MB (triggerer process)",
            "n/a",
        ),
        Result(
            "triggerer_loop_stall_s",
            round(ours["stall"], 3),
            round(base["stall"], 3),
            "largest event-loop stall (s)",
            "< 0.1",
        ),
        Result(
            "triggerer_default_pool_wait_s",
            round(ours["probe"], 3),
            round(base["probe"], 3),
            "longest wait of another trigger for a default-pool thread (s)",
            "< 0.1",
        ),
    ]
