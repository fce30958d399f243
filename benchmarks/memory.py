"""Peak memory of big uploads and downloads: streamed (ours) against whole-file reads (baseline).

Each measurement runs in a fresh process: peak RSS (``ru_maxrss``) minus the RSS just before the
transfer, with the sandbox in another process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import WORK, Result, Sandbox

MB = 1024 * 1024


def sample(size_mb: int) -> Path:
    path = WORK / f"sample-{size_mb}mb.pdf"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from airflow_provider_flipbook.utils.pdf import "
                "make_sample_pdf as m; m(sys.argv[1], 8, 'Benchmark', pad_to_bytes=int(sys.argv[2]))",
                str(path),
                str(size_mb * MB),
            ],
            check=True,
        )
    return path


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure(case: str, variant: str, path: str, target: str) -> None:
    """Runs in a child process; prints the peak increase in MB."""
    import resource

    import requests

    env_conns = {k: json.loads(v) for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}
    from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook
    from airflow_provider_flipbook.hooks.ipaper import IPaperHook

    if case == "download":  # the package URL lives 60 s (scaled): ask for it here, as the sensor does
        target = FlipsnackHook().package_status(target)["resource_url"]
    before = rss_kb()
    if case == "ipaper":
        if variant == "ours":
            IPaperHook().process_pdf(int(target), lambda: open(path, "rb"))
        else:
            import base64

            conn = env_conns["AIRFLOW_CONN_IPAPER_DEFAULT"]
            with open(path, "rb") as handle:
                body = {
                    "paperID": target,
                    "xmlOptions": "<options/>",
                    "base64Pdf": base64.b64encode(handle.read()),
                    "plUsername": conn["login"],
                    "plPassword": conn["password"],
                }
            requests.post(
                conn["host"] + "/V2/Ripper.asmx/ProcessPDF", data=body, timeout=600
            ).raise_for_status()
    elif case == "flipsnack":
        hook = FlipsnackHook()
        if variant == "ours":
            hook.create_collection(open_file=lambda: open(path, "rb"), filename="big.pdf", title="Big")
        else:
            fields = hook.signed("collection.create", {"title": "Big"})
            with open(path, "rb") as handle:
                data = handle.read()
            answer = requests.post(
                hook.upload_url + "/v1/", data=fields, files={"file": ("big.pdf", data)}, timeout=600
            ).json()
            assert answer["code"] == 20, answer
    else:  # download
        out = WORK / f"download-{variant}.zip"
        if variant == "ours":
            with open(out, "wb") as handle:
                FlipsnackHook().download(target, handle.write)
        else:
            out.write_bytes(requests.get(target, timeout=600).content)
        out.unlink()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"mb": round((peak - before) / 1024, 1)}))


def child(case: str, variant: str, path: Path, target: str, env: dict) -> float:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", case, variant, str(path), target],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=900,
    )
    if result.returncode:
        raise RuntimeError(f"memory {case}/{variant} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["mb"]


def memory(sizes: dict[str, tuple[int, int]]) -> list[Result]:
    results = []
    with Sandbox(speed=100) as sandbox:
        sandbox.use()
        env = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}
        from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook
        from airflow_provider_flipbook.hooks.ipaper import IPaperHook

        for case, name in (
            ("ipaper", "memory_ipaper_upload_mb"),
            ("flipsnack", "memory_flipsnack_upload_mb"),
            ("download", "memory_download_mb"),
        ):
            small, large = sizes[case]
            for size in (small, large):
                path = sample(size)
                figures = {}
                for variant in ("ours", "baseline"):
                    if case == "ipaper":
                        ip = IPaperHook()
                        target = str(
                            ip.create_paper(
                                ip.root_paper_id, f"Big {size} {variant}", f"big-{size}-{variant}"
                            )
                        )
                    elif case == "download":
                        hook = FlipsnackHook()
                        collection = hook.create_collection(
                            open_file=lambda p=path: open(p, "rb"), filename="big.pdf"
                        )["collectionHash"]
                        while hook.conversion_status(collection)["state"] == "running":
                            time.sleep(0.2)
                        while hook.package_status(collection)["state"] == "running":
                            time.sleep(0.2)
                        target = collection
                    else:
                        target = ""
                    figures[variant] = child(case, variant, path, target, env)
                results.append(
                    Result(
                        f"{name}" + ("" if size == large else f"_at_{size}mb"),
                        figures["ours"],
                        figures["baseline"],
                        f"MB peak RSS increase ({size} MB file)",
                        "<= 64",
                    )
                )
    return results


if __name__ == "__main__":
    from benchmarks.common import setup_airflow_env

    setup_airflow_env()
    measure(*sys.argv[1:5])
