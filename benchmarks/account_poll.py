"""Many conversion waits on one vendor account in one triggerer: one poll per account (ours) against
today's one loop per wait (baseline), for FlippingBook, Flipsnack and iPaper, side by side.

Set-up: the sandbox runs in this process; N publications are put straight into its state, each
converting until its own finish time. A triggerer process (spawned: its own peak RSS) then runs one
``PdfConversionTrigger`` per publication; the baseline is the same trigger polling alone
(``listing`` returns None). Meanwhile this process makes a call on the same credential every two
pacing slots (half the key's long-run rate), as the mapped upload that started the conversions
would: a caller at the full rate, or above it (a call a vendor second against iPaper's 0.8/s), would
measure its own queue, not the poll's. The conversions end as fast as that upload starts them: one
per ``calls_per_upload`` of its calls, spread over the window N such uploads take.

Until 4 Dec the conversions ended as fast as an upload at the key's *full* rate would start them,
while the same upload was also played at half the rate: one upload counted twice. For iPaper, whose
every end costs a call of its own (the paper's pages), that asked 99 % of what our pacer lets
through (48 calls a minute: the upload 25, the ends 17, the list 6), where queues have no bounded
tail: the upload's call waited 1.3-2.3 vendor s (one slot: 1.32) in most full runs.

Measured: status requests per poll interval (the sandbox's log, the waits' calls only), the worst
detection latency after a conversion ended, 429 answers, the triggerer's peak RSS and its largest
event-loop stall (a 10 ms ticker), and the longest wait of a call on the same credential. Times are
in the vendor's seconds (the sandbox's ``--speed`` shrinks them); a run is cut off after ``cap``
vendor seconds, and a wait not answered by then counts with the cap as its latency.

The speed shrinks the vendor's clock, not the CPU: a status call's round trip (the sandbox building
a 1000-publication page, our client decoding it) takes as many real milliseconds at any speed, so
counted at the speed's scale it would weigh 50 times what it weighs against the real vendor (at
speed 50, a 30 ms page counted as 1.5 vendor s; FlippingBook at 500 waits: 14.5 vendor s at speed
50, 10.9 at speed 10). A wait's latency therefore counts the time status calls were in flight from
the start of the round that answered it (:func:`_in_flight`) at 1x and the rest at the speed's
scale. Only from that round's start: the rounds start one interval apart, round trips included, so
a round trip before it delays no answer (counted at 1x, it shortened the interval by up to 3 vendor
s, and the worst latency fell below the interval). The round that answered is the last one the wait
read (``Round.started``); until 4 Dec it was taken to be the last round begun before the answer,
which is the next one when that began while the wait's own call queued behind it: a 98 ms list call
(a full collection in the triggerer) then counted as 9.8 vendor s: every iPaper latency over 13
vendor s at 2000 waits in three traced runs (read 13.9-19.9, from the wait's own round 4.1-10.1).
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import queue
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from airflow_provider_flipbook.connection_extras import declared
from benchmarks.common import WORK, Result

INTERVAL = 10.0  # vendor seconds between polls, as the operators' default
LEAD = 2 * INTERVAL  # vendor seconds from the waits' start to the first conversion's end
HOLD = 3600.0  # vendor seconds every end is held back at the seed, until the triggerer has started its waits
PROBE_SLOTS = 2  # the upload's calls: one every two pacing slots, half the key's long-run rate
SEED_PAGES = 2  # the seed PDF's pages (account_poll makes it)


@dataclass(frozen=True)
class VendorCase:
    vendor: str
    rate: float  # the vendor's long-run calls per second
    calls_per_upload: float  # how fast conversions can be started, as a mapped upload would
    speed: float
    page_size: int  # entries per page of the status list (0: one answer)
    confirm_calls: int  # calls a wait makes alone when its conversion has ended
    status_paths: tuple[str, ...]  # request-log paths of status calls (list and per object)
    probe: str  # a cheap call on the same credential: the hook method


CASES = {
    "flippingbook": VendorCase(
        "flippingbook", 1.0, 1, 50, 1000, 0, ("/flippingbook/api/v1/fbonline/publication",), "me"
    ),
    "flipsnack": VendorCase(
        "flipsnack",
        1.0,
        1,
        50,
        declared("flipsnack")["list_page_size"].default,  # no size is documented: the extra's default
        0,
        ("/flipsnack/v1/",),
        "user_stats",
    ),
    "ipaper": VendorCase(
        "ipaper",
        50 / 60,
        3,  # an upload is several calls; each conversion's end costs two more (list, paper's pages)
        100,
        0,
        2,
        (
            "/ipaper/V2/Ripper.asmx/GetProcessingPapers",
            "/ipaper/V2/Ripper.asmx/GetProcessingStatus",
            "/ipaper/V2/Paper.asmx/GetPaperStructure",
        ),
        "get_media_tree",
    ),
}


def _seed(server: Any, case: VendorCase, count: int, pdf: bytes, window: float) -> tuple[list[dict], list]:
    """``count`` publications converting now, the i-th ending ``HOLD + lead + window * i / count`` vendor
    seconds from now. Returns the waits' targets with their finish times (wall clock) and the seeded
    objects whose ``created`` sets when they end (see :func:`_start_clocks`)."""
    state = server.state_store
    emulator = state.vendors[case.vendor]
    # Flipsnack's collections are stored as uploads (the PDF read each time): 500 of them take longer
    # than the lead, so they are made before the clock starts, not while it runs.
    uploads = _flipsnack_uploads(emulator, count) if case.vendor == "flipsnack" else []
    lead, now, wall = LEAD, state.now(), time.time()
    targets, timed = [], []  # timed: the seeded objects whose "created" sets when they end
    for n in range(count):
        ends_in = HOLD + lead + window * n / count  # vendor seconds
        if case.vendor == "flippingbook":
            key = state.credentials.flippingbook_key
            body = {"name": f"Wait {n}", "data": base64.b64encode(pdf).decode(), "filename": "w.pdf"}
            answer = asyncio.run(emulator.pub_create(None, body, key))
            source = emulator.state.sources[answer["createdSource"]["id"]]
            conversion = 5 + 0.22 * max(source["pages"], 1)
            source["created"] = now + (ends_in - conversion) / state.speed
            timed.append(source)
            targets.append(
                {"publication_id": answer["id"], "version_id": source["id"], "new_publication": True}
            )
        elif case.vendor == "flipsnack":
            held, collection = uploads[n]
            item = collection["items"][0]
            conversion = float(held.options["conversion_seconds"]) + 0.1 * max(item["pages"], 1)
            item["created"] = now + (ends_in - conversion) / state.speed
            timed.append(item)
            targets.append({"publication_id": collection["hash"], "version_id": None})
        else:
            paper = _ipaper_paper(emulator, n)
            held = getattr(emulator, "state", emulator)  # the emulator holds its state (composition)
            if n == 0:
                _timed_jobs(held)
            guid = str(uuid.uuid4())
            held.jobs[guid] = {
                "guid": guid,
                "paper": paper,
                "created": now,
                "duration": ends_in,  # see _timed_jobs
                "pages": SEED_PAGES,
                "size": len(pdf),
                "error": None,
                "state": "Pending",
                "wall": wall,
            }
            timed.append(held.jobs[guid])
            targets.append({"publication_id": str(paper), "version_id": None})
        targets[-1]["finished"] = wall + ends_in / state.speed
    # Seeding takes a while (2000 FlippingBook publications: about 4 s, 200 vendor s at speed 50) and
    # the waits start only after it: counted from its start, the first conversions would end before
    # any wait exists, and their latency would measure the seeding. Every clock moves to its end.
    late = state.now() - now
    for seeded in timed:
        seeded["created"] += late
    for target in targets:
        target["finished"] += late
    return targets, timed


def _start_clocks(server: Any, timed: list, seeded_at: float) -> float:
    """Let the held conversions run: the first ends ``LEAD`` vendor seconds from now, not ``HOLD + LEAD``
    from the seed. Returns the shift (s) of every end, for the waits' finish times.

    All N waits start at once (a triggerer given 2000 deferred tasks together), while a mapped upload
    defers wait n only when upload n is done, as the ends come. Starting 2000 waits and reading each
    one's first round is a few hundred ms of the triggerer's CPU, which the speed counts 100-fold (50
    vendor s at 2000): with the first ends 20 vendor s after the start, the first waits' latency measured
    that start, not the poll.

    :param server: the sandbox
    :param timed: the seeded objects (``_seed``)
    :param seeded_at: ``time.time()`` when the seed ended
    """
    shift = (time.time() - seeded_at) - HOLD / server.state_store.speed
    for seeded in timed:
        seeded["created"] += shift
    return shift


def _timed_jobs(held: Any) -> None:
    """Let a seeded iPaper job last its own ``duration`` (vendor s) instead of the sandbox's 2 s +
    0.15 s a page: a job ending two hours into the run would otherwise be a 48,000-page paper, and
    every end check (``Paper.GetPaperStructure``) would read a 20 MB answer, measuring the seed rather
    than the poll. The seeds keep the PDF's pages, as the other vendors' seeds do.
    """
    by_pages = held.job_progress

    def progress(job: dict[str, Any]) -> int:
        if "duration" not in job:
            return by_pages(job)
        elapsed = held.shared.elapsed_real(job["created"]) - float(held.options["appear_delay"])
        return max(min(int(100 * elapsed / job["duration"]), 100), 0)

    held.job_progress = progress


def _flipsnack_uploads(emulator: Any, count: int) -> list[tuple[Any, dict]]:
    """``count`` collections stored as ``collection.create`` would, with the state that holds them."""
    held = getattr(emulator, "state", emulator)  # the emulator holds its state (composition)
    uploads = []
    for n in range(count):
        held.uploads = 0  # the monthly upload allowance does not concern a seed
        with (WORK / "poll-seed.pdf").open("rb") as stream:
            upload = SimpleNamespace(file=stream, filename="w.pdf")
            uploads.append((held, asyncio.run(held.store_upload({"title": f"Wait {n}"}, upload))))
    return uploads


def _ipaper_paper(emulator: Any, n: int) -> int:
    from airflow_provider_flipbook.sandbox.ipaper.wire import FormParams

    held = getattr(emulator, "state", emulator)  # the emulator holds its state (composition)
    root = min(node["id"] for node in held.nodes.values() if node["parent"] is None)
    # The emulator's methods return their answer (they raised it before the uniform sandbox).
    answer = emulator.Paper_CreatePaper(
        FormParams({"parentID": str(root), "name": f"Wait {n}", "urlName": f"wait-{n}"}, {})
    )
    if answer.data is None:
        raise RuntimeError(f"CreatePaper answered {answer.code}: {answer.message}")
    return int(answer.data.find(".//paper").get("id"))


def _triggerer(variant: str, env: dict, interval: float, cap: float, inbox: Any, outbox: Any) -> None:
    import resource

    os.environ.update(env)
    from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger

    class AloneTrigger(PdfConversionTrigger):
        """Today's one loop per wait: each wait polls the vendor for itself."""

        def listing(self, hook: Any) -> None:
            return None

        def listed_status(self, hook: Any, answer: Any) -> None:
            return None

    class Started(PdfConversionTrigger if variant == "ours" else AloneTrigger):  # type: ignore[misc,valid-type]
        """Counts the waits that have started: built their hook and (ours) read their first round."""

        ready: set[int] = set()
        all_ready = threading.Event()

        async def hook(self) -> Any:
            hook = await super().hook()
            if variant != "ours":
                self._ready()
            return hook

        round_started: float | None = None  # the last round this wait read: the one that answered it

        def listed_status(self, hook: Any, answer: Any) -> Any:
            self._ready()
            self.round_started = answer.started
            return super().listed_status(hook, answer)

        def _ready(self) -> None:
            Started.ready.add(id(self))
            if len(Started.ready) == len(targets):
                Started.all_ready.set()

    cls = Started
    calls = _timed_status_calls(env["BENCH_VENDOR"])

    async def warm_up() -> None:  # a long-lived triggerer has its imports and first connection behind it
        from airflow_provider_flipbook.hooks import ahook_for

        hook = await ahook_for(env["BENCH_CONN_ID"])
        await hook.acall(hook.pacing_key)

    asyncio.run(warm_up())
    outbox.put("ready")
    targets = inbox.get()

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        stalls, began, worst = [0.0], loop.time(), []

        async def ticker() -> None:
            while not done.is_set():
                before = loop.time()
                await asyncio.sleep(0.01)
                stalls.append(loop.time() - before - 0.01)
                if stalls[-1] > 0.05:
                    worst.append((round(stalls[-1], 3), round(before - began, 2)))

        async def wait(target: dict) -> tuple[float, float, float | None]:
            trigger = cls(
                conn_id=f"{target['vendor']}_default",
                publication_id=target["publication_id"],
                version_id=target["version_id"],
                poll_interval=interval,
                deadline=time.time() + 3600,
                summary=False,
                new_publication=target.get("new_publication", False),
            )
            async for event in trigger.run():
                assert event.payload["status"] == "success", event.payload
            return target["finished"] + shift[0], time.time(), trigger.round_started

        monitor = asyncio.create_task(ticker())
        watcher = asyncio.create_task(profile.watch_rounds(done)) if profile else None
        tasks = []
        for target in targets:  # as Airflow's TriggerRunner.create_triggers: it yields before each one
            await asyncio.sleep(0)
            tasks.append(asyncio.create_task(wait(target)))
        # The conversions' clocks start once every wait has started (see _start_clocks).
        await loop.run_in_executor(None, Started.all_ready.wait, cap)
        outbox.put("started")
        shift[0] = await loop.run_in_executor(None, inbox.get)
        finished, pending = await asyncio.wait(tasks, timeout=cap)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        done.set()
        await monitor
        if watcher:
            await watcher
        latencies = []
        for ended, answered, round_started in (t.result() for t in finished):
            flight = _in_flight(calls, max(ended, round_started or answered), answered)
            # Once multiplied by the speed, vendor seconds: the status calls' flight at 1x, the rest scaled.
            latencies.append(answered - ended - flight + flight / speed)
        if profile:
            profile.report(worst, latencies)
        return {"latencies": latencies, "unanswered": len(pending), "stall": max(stalls)}

    speed = float(env["BENCH_SPEED"])
    shift = [0.0]  # s every end moved when the clocks started
    profile = None
    if os.environ.get("BENCH_PROFILE"):  # what held the loop: see benchmarks/loop_profile.py
        from benchmarks.loop_profile import LoopProfile

        profile = LoopProfile(os.environ["BENCH_PROFILE"], variant)
        profile.start()
    try:
        figures = asyncio.run(main())
    finally:
        calls.restore()
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    outbox.put(figures)


class _TimedCalls(list[tuple[float, float]]):
    """The wall-clock spans of the status calls' round trips, and how to stop recording them."""

    def __init__(self, owner: type, originals: dict[str, Any]) -> None:
        super().__init__()
        self.owner, self.originals = owner, originals

    def restore(self) -> None:
        for name, method in self.originals.items():
            if method is None:  # inherited
                delattr(self.owner, name)
            else:
                setattr(self.owner, name, method)


def _timed_status_calls(vendor: str) -> _TimedCalls:
    """Record each status call's round trip: the list's page and a wait's own status call.

    The hook's methods run in the provider's pool after the pacer let them through, so their spans
    hold no pacing wait (vendor time), only the request, the sandbox's answer and our decoding.
    """
    from airflow_provider_flipbook.hooks import hook_class

    owner = hook_class(vendor)
    names = {"conversion_status"} | ({owner.status_listing.page} if owner.status_listing else set())
    calls = _TimedCalls(owner, {name: owner.__dict__.get(name) for name in names})

    def timed(method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            began = time.time()
            try:
                return method(*args, **kwargs)
            finally:
                calls.append((began, time.time()))

        return call

    for name in names:
        setattr(owner, name, timed(getattr(owner, name)))
    return calls


def _in_flight(calls: list[tuple[float, float]], since: float, until: float) -> float:
    """Seconds within ``[since, until]`` when at least one status call was in flight (spans merged).

    :param since: the start of the round that answered the wait, or its conversion's end if later
        (a wait polling alone read no round: ``until``, none)
    """
    spans = sorted((max(a, since), min(b, until)) for a, b in list(calls) if b > since and a < until)
    total, reached = 0.0, since
    for began, ended in spans:
        if ended > reached:
            total += ended - max(began, reached)
            reached = ended
    return total


def _upload_rate(case: VendorCase) -> float:
    """The upload's calls per vendor second: one every ``PROBE_SLOTS`` pacing slots."""
    return case.rate / PROBE_SLOTS


def _run(case: VendorCase, count: int, variant: str, pdf: bytes, in_process: bool = False) -> dict[str, Any]:
    from airflow_provider_flipbook.hooks import hook_class
    from airflow_provider_flipbook.sandbox.server import SandboxServer

    speed = case.speed
    window = count * case.calls_per_upload / _upload_rate(case)  # vendor seconds
    baseline_round = count / case.rate
    cap = LEAD + window + 2 * INTERVAL + 1.5 * baseline_round  # vendor seconds: every baseline wait can end
    with SandboxServer(speed=speed) as server:
        conns = server.connections()
        env = {k: v for k, v in os.environ.items() if k.startswith(("AIRFLOW", "PATH"))}
        env["BENCH_CONN_ID"] = f"{case.vendor}_default"
        env["BENCH_VENDOR"], env["BENCH_SPEED"] = case.vendor, str(speed)
        for name, conn in conns.items():
            env[f"AIRFLOW_CONN_{name.upper()}_DEFAULT"] = json.dumps(conn)
        os.environ.update(env)
        args = (variant, env, INTERVAL / speed, cap / speed)
        if in_process:  # the smoke run: a thread, no fresh interpreter importing Airflow for each run
            inbox, outbox = queue.Queue(), queue.Queue()
            process: Any = threading.Thread(target=_triggerer, args=(*args, inbox, outbox), daemon=True)
        else:  # a fresh process: its own peak RSS, its own interpreter lock
            context = multiprocessing.get_context("spawn")
            inbox, outbox = context.Queue(), context.Queue()
            process = context.Process(target=_triggerer, args=(*args, inbox, outbox))
        process.start()
        assert outbox.get(timeout=120) == "ready"
        hook = hook_class(case.vendor)(f"{case.vendor}_default")
        probe, probes = getattr(hook, case.probe), []
        pacer = hook.pacer
        assert pacer is not None
        paced = pacer.acquire
        pacer.acquire = lambda: probes.append(paced()) or 0.0  # type: ignore[method-assign]
        seeded, timed = _seed(server, case, count, pdf, window)
        seeded_at = time.time()
        targets = [{**t, "vendor": case.vendor} for t in seeded]
        server.state_store.log.clear()
        started = time.time()
        inbox.put(targets)

        def probing() -> Any:  # until the triggerer says something
            while process.is_alive() and outbox.empty():
                probe()
                time.sleep(1 / _upload_rate(case) / speed)
            return outbox.get(timeout=cap / speed + 120)

        assert probing() == "started"
        inbox.put(_start_clocks(server, timed, seeded_at))
        figures = probing()
        ended = time.time()
        process.join(timeout=60)
        log = list(server.state_store.log)
        # Flipsnack refuses with codes 31 and 32 (per second, per minute) in an HTTP 200 answer.
        answered = server.state_store.vendors["flipsnack"].state.answered
        refused_codes = answered[31] + answered[32] if case.vendor == "flipsnack" else 0
    status = [r for r in log if r.path in case.status_paths and "query=" not in r.query and r.at >= started]
    if case.vendor == "flippingbook":
        status += [r for r in log if r.path.startswith(case.status_paths[0] + "/") and r.at >= started]
    if case.vendor == "flipsnack":
        status = [r for r in log if "collection.get" in r.query and r.at >= started]
    intervals = max((ended - started) * speed / INTERVAL, 1.0)
    latency = max(figures["latencies"], default=0.0) * speed  # vendor seconds
    if figures["unanswered"]:
        latency = max(latency, cap - LEAD - window)  # at least: the last conversion ended then
    return {
        "per_interval": len(status) / intervals,
        "latency": latency,
        "unanswered": figures["unanswered"],
        "rejected": sum(1 for r in log if r.status == 429) + refused_codes,
        "rss_mb": figures["rss_mb"],
        "stall": figures["stall"],
        "probe": max(probes, default=0.0) * speed,
    }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def account_poll(
    sizes: tuple[int, ...],
    vendors: tuple[str, ...] = tuple(CASES),
    baseline: bool = True,
    in_process: bool = False,
) -> list[Result]:
    """The ``poll_*`` rows.

    :param sizes: numbers of waits
    :param vendors: the vendors to run (default: every flipbook vendor)
    :param baseline: run the one-loop-per-wait baseline too (off: its figures are left empty)
    :param in_process: run the triggerer in a thread of this process (the smoke run: it checks the
        code runs; RSS and stall figures then mean nothing)
    """
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "poll-seed.pdf"
    make_sample_pdf(path, SEED_PAGES, "Wait")
    pdf = path.read_bytes()
    results = []
    for vendor in vendors:
        case = CASES[vendor]
        for count in sizes:
            ours = _run(case, count, "ours", pdf, in_process)
            base = _run(case, count, "baseline", pdf, in_process) if baseline else defaultdict(lambda: None)
            slot = 1 / case.rate
            pages = -(-count // case.page_size) if case.page_size else 1
            ended_per_interval = INTERVAL * _upload_rate(case) / case.calls_per_upload
            requests = min(pages + case.confirm_calls * ended_per_interval, INTERVAL * case.rate * 1.02)
            latency = INTERVAL + (pages + case.confirm_calls) / case.rate
            note = (
                f"{count} waits on {count} {vendor} publications, one key, poll every {INTERVAL:g} s, "
                f"sandbox speed {case.speed:g}; unanswered at the cut-off: {ours['unanswered']} ours, "
                f"{base['unanswered']} baseline"
            )
            name = f"poll_{vendor}_{count}"
            results += [
                Result(
                    f"{name}_requests_per_interval",
                    round(ours["per_interval"], 2),
                    _rounded(base["per_interval"], 2),
                    f"status requests per {INTERVAL:g} s",
                    f"<= {requests:.1f} (list pages + the ends' own calls)",
                    note=note,
                ),
                Result(
                    f"{name}_latency_s",
                    round(ours["latency"], 1),
                    _rounded(base["latency"], 1),
                    "vendor s after the conversion ended (worst wait)",
                    f"<= {latency:.1f} (interval + the list's and the end's calls)",
                ),
                Result(
                    f"{name}_429s",
                    ours["rejected"],
                    base["rejected"],
                    "429 answers (Flipsnack: codes 31/32)",
                    "== 0",
                ),
                Result(
                    f"{name}_peak_rss_mb", round(ours["rss_mb"], 1), _rounded(base["rss_mb"], 1), "MB", "n/a"
                ),
                Result(
                    f"{name}_loop_stall_s",
                    round(ours["stall"], 3),
                    _rounded(base["stall"], 3),
                    "largest event-loop stall (s)",
                    "< 0.1",
                ),
                Result(
                    f"{name}_upload_call_wait_s",
                    round(ours["probe"], 2),
                    _rounded(base["probe"], 2),
                    "vendor s a call on the same key waited for pacing (worst)",
                    f"<= {1.1 * slot:.2f} (one pacing slot)",
                ),
            ]
    return results
