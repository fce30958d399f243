"""DAG parse overhead: importing the provider and parsing the three example DAGs, over importing
``airflow.sdk`` alone, per DAG file; the baseline is a DAG file that imports its vendor libraries
(requests, lxml, pypdf, requests-toolbelt) at the top, as hand-written DAGs usually do."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.common import WORK, Result

DAGS = Path(__file__).resolve().parents[1] / "dags"
PROBE = r"""
import json, runpy, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
for path in sys.argv[1:]:
    runpy.run_path(path)
t2 = time.perf_counter()
heavy = [m for m in ("lxml", "pypdf", "requests_toolbelt", "fastapi") if m in sys.modules]
print(json.dumps({"sdk": t1 - t0, "dags": t2 - t1, "heavy": heavy}))
"""
NAIVE = """
import requests, requests_toolbelt, pypdf
from lxml import etree
import pendulum
from airflow.sdk import dag, task

@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1))
def naive_{n}():
    @task
    def publish():
        return requests.get("https://example.invalid")
    publish()

naive_{n}()
"""


def parse_overhead(repeats: int) -> list[Result]:
    ours_files = [str(p) for p in sorted(DAGS.glob("*.py"))]
    WORK.mkdir(parents=True, exist_ok=True)
    naive_files = []
    for n in range(len(ours_files)):
        path = WORK / f"naive_dag_{n}.py"
        path.write_text(NAIVE.replace("{n}", str(n)))
        naive_files.append(str(path))
    figures, heavy = {}, []
    for variant, files in (("ours", ours_files), ("baseline", naive_files)):
        per_dag = []
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, "-c", PROBE, *files], capture_output=True, text=True, check=True
            )
            probe = json.loads(out.stdout.strip().splitlines()[-1])
            per_dag.append(probe["dags"] * 1000 / len(files))
            if variant == "ours":
                heavy = probe["heavy"]
        figures[variant] = statistics.median(per_dag)
    return [
        Result(
            "parse_overhead_ms",
            round(figures["ours"], 1),
            round(figures["baseline"], 1),
            "ms per DAG file over airflow.sdk",
            "<= 50",
            note=f"heavy modules imported while parsing: {heavy or 'none'}",
        )
    ]
