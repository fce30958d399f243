"""Shared pieces: a sandbox in its own process, connections for it, and result records."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

WORK = Path(__file__).resolve().parent / ".work"
BIN = Path(sys.executable).parent


def setup_airflow_env() -> None:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="flipbook-bench-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


@dataclass
class Result:
    name: str
    ours: float
    baseline: float | None
    unit: str
    target: str
    ok: bool | None = None
    note: str = ""

    def record(self) -> dict:
        return asdict(self)


class Sandbox:
    """`flipbook-sandbox` as a subprocess, so its memory and CPU never count as the client's."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.process = subprocess.Popen([str(BIN / "flipbook-sandbox"), "--port", "0", "--speed", str(speed)],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.env: dict[str, str] = {}
        for _ in range(4):
            name, _, value = self.process.stdout.readline().strip().partition("=")
            self.env[name] = value.strip("'")
        self.connections = {k.split("_")[2].lower(): json.loads(v) for k, v in self.env.items()}
        self.url = self.connections["flippingbook"]["host"].rsplit("/", 1)[0]
        self.process.stdout.readline()
        import requests

        deadline = time.monotonic() + 30
        while True:  # the lines come out before uvicorn listens
            try:
                requests.get(f"{self.url}/_sandbox/health", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def use(self, **extra: object) -> None:
        """Point this process's default connections at the sandbox (with extra connection extras)."""
        for name, conn in self.connections.items():
            os.environ[f"AIRFLOW_CONN_{name.upper()}_DEFAULT"] = json.dumps(
                {**conn, "extra": {**conn["extra"], **extra}})

    def requests(self) -> list[dict]:
        import requests

        return requests.get(f"{self.url}/_sandbox/requests", timeout=30).json()

    def state(self) -> dict:
        import requests

        return requests.get(f"{self.url}/_sandbox/state", timeout=30).json()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value
