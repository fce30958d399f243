"""``BENCH_PROFILE=FILE``: what held a benchmark triggerer's event loop, counted rather than guessed.

The machine is shared, so a stall figure alone says little. With ``BENCH_PROFILE`` set, a triggerer
process of the ``account_poll`` benchmark also records, on stderr and in ``FILE.<variant>`` (cProfile
of the loop thread, for ``python -m pstats``):

* every loop iteration whose own work (idle time in ``select`` excluded) passed 50 ms: how many
  callbacks it ran, how long they took, and how much of it was the garbage collector;
* every wake-up of the loop that came 50 ms late, with the CPU the process spent meanwhile (high: a
  thread of this process held the interpreter, e.g. a JSON page being parsed; low: the machine was busy);
* every pause of the garbage collector over 20 ms, in any thread, and its generation;
* every call in a pool thread over 20 ms of CPU, and what it was; the calls each pool ran;
* the tracked objects (what a full collection walks): by type 3 s in (and what the waits added), and
  counted every 5 s (a count takes about 10 ms of the loop; a growing count is what the rounds keep
  alive; the census at 3 s takes about 0.1 s: a stall there is the census's own);
* the collections of each generation, and the poll's rounds, each second.
"""

from __future__ import annotations

import asyncio
import collections
import cProfile
import gc
import selectors
import sys
import threading
import time
from asyncio import base_events, events
from concurrent.futures import thread
from typing import Any


class LoopProfile:
    """Instruments this process's event loop, collector and pool threads (see the module docstring).

    :param path: where the loop thread's cProfile goes (``.<label>`` appended)
    :param label: the variant, in the report's lines
    """

    def __init__(self, path: str, label: str) -> None:
        self.path, self.label = path, label
        self.iteration = {"handles": 0, "in_handles": 0.0, "gc": 0.0, "idle": 0.0}
        self.slow_iterations: list[tuple] = []
        self.late_wakeups: list[tuple] = []
        self.gc_pauses: list[tuple] = []
        self.slow_pool_calls: list[tuple] = []
        self.rounds: list[list[int]] = []
        self.collections: list[list[int]] = []
        self.tracked: list[tuple[int, int]] = []
        self.pool_items: collections.Counter[str] = collections.Counter()
        self.census = ""
        self._gc_started = 0.0
        self._began = time.monotonic()
        self._profiler = cProfile.Profile()

    def start(self) -> None:
        """Patch the loop's iteration, ``select``, the pool's work items and the collector's callbacks."""
        profile, iteration = self, self.iteration
        run_handle, run_once = events.Handle._run, base_events.BaseEventLoop._run_once
        select, run_item = selectors.EpollSelector.select, thread._WorkItem.run

        def timed_handle(handle: Any) -> None:
            before = time.perf_counter()
            run_handle(handle)
            iteration["handles"] += 1
            iteration["in_handles"] += time.perf_counter() - before

        def counted_iteration(loop: Any) -> None:
            iteration.update(handles=0, in_handles=0.0, gc=0.0, idle=0.0)
            before = time.perf_counter()
            run_once(loop)
            busy = time.perf_counter() - before - iteration["idle"]
            if busy > 0.05 and iteration["handles"]:
                profile.slow_iterations.append(
                    (
                        round(busy, 3),
                        iteration["handles"],
                        round(iteration["in_handles"], 3),
                        round(iteration["gc"], 3),
                    )
                )

        def idle(selector: Any, timeout: Any = None) -> Any:
            before, cpu = time.perf_counter(), time.process_time()
            try:
                return select(selector, timeout)
            finally:
                spent = time.perf_counter() - before
                iteration["idle"] += spent
                if timeout is not None and spent > timeout + 0.05:
                    profile.late_wakeups.append(
                        (round(spent - timeout, 3), round(time.process_time() - cpu, 3))
                    )

        def cpu_timed(item: Any) -> None:
            before = time.thread_time()
            profile.pool_items[threading.current_thread().name.rsplit("_", 1)[0]] += 1
            run_item(item)
            if (spent := time.thread_time() - before) > 0.02:
                cells = [c.cell_contents for c in getattr(item.fn, "__closure__", None) or ()]
                what = [c for c in cells if callable(c)] or [item.fn]
                profile.slow_pool_calls.append((round(spent, 3), repr(what)[:160]))

        events.Handle._run = timed_handle  # type: ignore[method-assign]
        base_events.BaseEventLoop._run_once = counted_iteration  # type: ignore[attr-defined]
        selectors.EpollSelector.select = idle  # type: ignore[method-assign]
        thread._WorkItem.run = cpu_timed  # type: ignore[method-assign]
        gc.callbacks.append(self._gc_timer)
        self._profiler.enable()

    def _gc_timer(self, phase: str, info: dict[str, Any]) -> None:  # any thread: no loop here
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        spent = time.perf_counter() - self._gc_started
        self.iteration["gc"] += spent
        if spent > 0.02:
            self.gc_pauses.append(
                (round(spent, 3), round(time.monotonic() - self._began, 2), info["generation"])
            )

    async def watch_rounds(self, done: asyncio.Event) -> None:
        """Take the census 3 s in, and note the account polls' rounds each second until ``done``.

        :param done: set when the run ends
        """
        from airflow_provider_flipbook.triggers.account_poll import active_polls

        seconds, before = 0, collections.Counter(type(o).__name__ for o in gc.get_objects())
        while not done.is_set():
            await asyncio.sleep(1)
            seconds += 1
            self.rounds.append([p.rounds for p in active_polls()])
            self.collections.append([generation["collections"] for generation in gc.get_stats()])
            if seconds % 5 == 0:
                self.tracked.append((seconds, len(gc.get_objects())))
            if seconds == 3:
                kinds = collections.Counter(type(o).__name__ for o in gc.get_objects())
                # No list of every object kept in this frame: it held each later round alive (600 MB).
                self.census = f"{kinds.total()} tracked objects: {kinds.most_common(8)}"
                self.census += f"; added since the waits began: {(kinds - before).most_common(16)}"

    def report(self, stalls: list[tuple[float, float]], latencies: list[float]) -> None:
        """Stop the cProfile (written to ``path.label``) and print the report to stderr.

        :param stalls: the ticker's stalls over 50 ms (seconds, when)
        :param latencies: each wait's latency (real seconds)
        """
        self._profiler.disable()
        self._profiler.dump_stats(f"{self.path}.{self.label}")
        ordered = sorted(latencies)
        spread = (
            [round(ordered[int(q * (len(ordered) - 1))], 3) for q in (0.5, 0.9, 0.99, 1)] if ordered else []
        )
        lines = {
            "stalls over 0.05 s (s, at s)": stalls,
            "iterations over 0.05 s of work (s, callbacks, s in them, s in gc)": self.slow_iterations,
            "late wake-ups (s late, process CPU s meanwhile)": self.late_wakeups,
            "gc pauses over 0.02 s (s, at s, generation)": self.gc_pauses,
            "pool calls over 0.02 s CPU": self.slow_pool_calls,
            "calls run per pool (asyncio_*: the default pool every provider shares)": dict(self.pool_items),
            "latency s at 50/90/99/100 %": spread,
            "rounds at each second": self.rounds,
            "collections of generations 0/1/2 at each second": self.collections,
            "tracked objects (at s, count)": self.tracked,
            "census at 3 s": self.census,
        }
        for name, value in lines.items():
            print(f"{self.label}: {name}: {value}", file=sys.stderr, flush=True)
