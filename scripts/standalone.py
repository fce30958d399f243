"""`make standalone`: the example DAGs under `airflow standalone` (UI, scheduler, triggerer) against the sandbox.

Ctrl-C stops standalone (SIGINT, which it handles cleanly) and then the sandbox.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / ".demo" / "standalone"


def main() -> int:
    bin_dir = Path(sys.executable).parent
    os.environ.update(
        AIRFLOW_HOME=str(HOME),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PARALLELISM="4",
        FLIPBOOK_SAMPLES=str(ROOT / ".demo" / "samples"),
        FLIPBOOK_ARCHIVE=str(ROOT / ".demo" / "archive"),
        FLIPBOOK_REPORTS=str(ROOT / ".demo" / "reports"),
        PATH=f"{bin_dir}:{os.environ.get('PATH', '')}",  # standalone starts its parts as `airflow`
    )
    from airflow_provider_flipbook.sandbox import SandboxServer
    from airflow_provider_flipbook.sandbox.samples import write_samples

    write_samples(ROOT / ".demo" / "samples")
    subprocess.run(["airflow", "db", "migrate"], check=True, stdout=subprocess.DEVNULL)
    for pool in ("flippingbook", "flipsnack", "ipaper", "papyrs"):
        subprocess.run(
            ["airflow", "pools", "set", pool, "2", f"{pool} credential"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    with SandboxServer(port=8765, speed=float(os.environ.get("FLIPBOOK_SANDBOX_SPEED", "5"))) as sandbox:
        for name, conn in sandbox.connections().items():
            os.environ[f"AIRFLOW_CONN_{name.upper()}_DEFAULT"] = json.dumps(conn)
        print(
            f"Sandbox on {sandbox.url}; starting airflow standalone (UI on http://localhost:8080, user admin, "
            f"password in {HOME}/simple_auth_manager_passwords.json.generated). Ctrl-C to stop.",
            flush=True,
        )
        child = subprocess.Popen(
            ["airflow", "standalone"], preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
        )
        try:
            return child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGINT)
            return child.wait()


if __name__ == "__main__":
    sys.exit(main())
