"""Every benchmark runs at a tiny size, so the code cannot rot. No timing is asserted here."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = {
    "pacing_flippingbook",
    "rejections_flippingbook",
    "pacing_papyrs",
    "rejections_papyrs",
    "concurrency",
    "concurrency_failures",
    "requests_flippingbook",
    "requests_papyrs",
    "concurrency_requests",
    "memory_ipaper_upload_mb",
    "memory_flipsnack_upload_mb",
    "memory_download_mb",
    "wait_latency_s_poke",
    "wait_requests_deferrable",
    "parse_overhead_ms",
    "papyrs_requests",
    "pacing_two_hosts",
    "rejections_two_hosts",
    "triggerer_latency_s_max",
    "triggerer_requests_per_wait",
    "triggerer_peak_rss_mb",
    "triggerer_loop_stall_s",
    "triggerer_default_pool_wait_s",
    *(
        f"poll_{vendor}_3_{measure}"
        for vendor in ("flippingbook", "flipsnack", "ipaper")
        for measure in ("requests_per_interval", "latency_s", "429s", "peak_rss_mb", "loop_stall_s")
    ),
}


def test_benchmarks_run_at_a_tiny_size(tmp_path):
    output = tmp_path / "results.json"
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--output", str(output)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )
    results = json.loads(output.read_text())
    assert NAMES <= {r["name"] for r in results}
    for result in results:
        assert set(result) >= {"name", "ours", "baseline", "unit", "target"}
        assert isinstance(result["ours"], (int, float)) and isinstance(result["baseline"], (int, float))
    by_name = {r["name"]: r for r in results}
    assert by_name["papyrs_requests"]["ours"] == 2  # counted, not timed: page + one markdown call
    # Counted, not timed: a FlippingBook create costs a lookup and the create (exactly once), a Papyrs
    # one the create alone; one request more per create would make every batch that much slower.
    assert by_name["requests_flippingbook"]["ours"] == 2 and by_name["concurrency_requests"]["ours"] == 2
    assert by_name["requests_papyrs"]["ours"] == 1
    assert by_name["requests_flippingbook"]["baseline"] == 1
