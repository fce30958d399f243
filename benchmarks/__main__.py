"""`make bench` (``python -m benchmarks [--smoke] [--only NAME ...]``): every benchmark against its
baseline in one run; prints a table, writes benchmarks/results.json and the figures in
benchmarks/README.md. ``--smoke`` runs each at a tiny size (the test suite does that)."""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
from pathlib import Path

from benchmarks.common import Result, setup_airflow_env

HERE = Path(__file__).resolve().parent
FULL = {
    "pacing_flippingbook": {"calls": 60, "speed": 10},
    "pacing_papyrs": {"writes": 20, "speed": 30},
    "concurrency": {"processes": 4, "per_process": 15, "speed": 10},
    "pacing_two_hosts": {"per_host": 15, "speed": 20},
    "triggerer_waits": {"waits": 500, "publications": 10, "pages": 1000, "speed": 50, "interval": 2.0},
    "account_poll": {"sizes": (100, 500, 2000)},
    "memory": {"sizes": {"ipaper": (20, 185), "flipsnack": (40, 400), "download": (40, 400)}},
    "wait": {"speed": 20, "interval": 0.2},
    "parse_overhead": {"repeats": 5},
    "papyrs_requests": {"sections": 40, "speed": 300},
    "lost_answer": {"variants": ("502", "504", "cut", "timeout"), "speed": 50},
}
SMOKE = {
    "pacing_flippingbook": {"calls": 12, "speed": 50},
    "pacing_papyrs": {"writes": 7, "speed": 300},
    "concurrency": {"processes": 2, "per_process": 6, "speed": 50},
    "pacing_two_hosts": {"per_host": 4, "speed": 300},
    "triggerer_waits": {"waits": 6, "publications": 2, "pages": 10, "speed": 100, "interval": 0.1},
    "account_poll": {"sizes": (3,), "in_process": True},
    "memory": {"sizes": {"ipaper": (1, 2), "flipsnack": (1, 2), "download": (1, 2)}},
    "wait": {"speed": 100, "interval": 0.1},
    "parse_overhead": {"repeats": 1},
    "papyrs_requests": {"sections": 3, "speed": 300},
    "lost_answer": {"variants": ("502",), "speed": 50},
}


def runners() -> dict:
    from benchmarks.account_poll import account_poll
    from benchmarks.lost_answer import lost_answer
    from benchmarks.memory import memory
    from benchmarks.pacing import concurrency, pacing_flippingbook, pacing_papyrs, pacing_two_hosts
    from benchmarks.papyrs_requests import papyrs_requests
    from benchmarks.parsing import parse_overhead
    from benchmarks.triggerer import triggerer_waits
    from benchmarks.waiting import wait

    return {
        "pacing_flippingbook": pacing_flippingbook,
        "pacing_papyrs": pacing_papyrs,
        "concurrency": concurrency,
        "pacing_two_hosts": pacing_two_hosts,
        "triggerer_waits": triggerer_waits,
        "account_poll": account_poll,
        "memory": memory,
        "wait": wait,
        "parse_overhead": parse_overhead,
        "papyrs_requests": papyrs_requests,
        "lost_answer": lost_answer,
    }


def judge(result: Result) -> bool | None:
    match = re.match(r"\s*(<=|==|<)?\s*([0-9.]+)", result.target)
    if not match:
        return None
    limit = float(match.group(2))
    return {"<=": result.ours <= limit, "<": result.ours < limit}.get(
        match.group(1) or "", result.ours == limit
    )


def table(results: list[Result]) -> str:
    lines = ["| benchmark | ours | baseline | unit | target | met |", "|---|---|---|---|---|---|"]
    for r in results:
        met = {True: "yes", False: "**no**", None: "n/a"}[r.ok]
        lines.append(f"| {r.name} | {r.ours} | {r.baseline} | {r.unit} | {r.target} | {met} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the code runs")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks")
    parser.add_argument("--output", default=str(HERE / "results.json"))
    parser.add_argument("--vendors", nargs="*", help="account_poll: only these vendors")
    parser.add_argument("--sizes", nargs="*", type=int, help="account_poll: only these numbers of waits")
    parser.add_argument("--ours-only", action="store_true", help="account_poll: skip the baseline")
    args = parser.parse_args()
    setup_airflow_env()
    sizes = SMOKE if args.smoke else FULL
    narrowed = {
        "vendors": args.vendors,
        "sizes": args.sizes and tuple(args.sizes),
        "baseline": not args.ours_only,
    }
    narrowed = {k: v for k, v in narrowed.items() if v is not None}
    sizes = {**sizes, "account_poll": {**sizes["account_poll"], **narrowed}}
    results: list[Result] = []
    started = time.monotonic()
    for name, run in runners().items():
        if args.only and name not in args.only:
            continue
        began = time.monotonic()
        for result in run(**sizes[name]):
            result.ok = judge(result)
            results.append(result)
        print(f"{name}: {time.monotonic() - began:.1f} s", flush=True)
    print(table(results))
    Path(args.output).write_text(json.dumps([r.record() for r in results], indent=2) + "\n")
    if not args.smoke and not args.only and not (args.vendors or args.sizes or args.ours_only):
        readme = HERE / "README.md"
        text = readme.read_text()
        figures = (
            f"<!-- figures -->\nLast run: {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
            f"Python {platform.python_version()}, {time.monotonic() - started:.0f} s in all.\n\n"
            f"{table(results)}\n<!-- /figures -->"
        )
        readme.write_text(re.sub(r"<!-- figures -->.*<!-- /figures -->", figures, text, flags=re.S))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
