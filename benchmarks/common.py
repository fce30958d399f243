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

    def __init__(self, speed: float, *options: str) -> None:
        self.speed = speed
        self.process = subprocess.Popen(
            [str(BIN / "flipbook-sandbox"), "--port", "0", "--speed", str(speed), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
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
                {**conn, "extra": {**conn["extra"], **extra}}
            )

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


class RedisUnavailable(RuntimeError):
    """redis-server is missing and could not be installed, or did not start."""


class RedisServer:
    """A throw-away ``redis-server`` on a free loopback port, data in a temporary folder.

    Installs Debian's package when the binary is missing and we may (root, apt-get, no prompt)."""

    def __init__(self) -> None:
        import shutil
        import socket

        binary = shutil.which("redis-server")
        if binary is None and os.geteuid() == 0 and shutil.which("apt-get"):
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "redis-server"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=600,
                check=False,
            )
            binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable(
                "redis-server is not installed and `apt-get install redis-server` was not possible"
            )
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = tempfile.mkdtemp(prefix="flipbook-redis-")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.folder,
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RedisUnavailable(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    @property
    def connection(self) -> str:
        """An Airflow connection, as the JSON an ``AIRFLOW_CONN_*`` variable takes."""
        return json.dumps({"conn_type": "redis", "host": "127.0.0.1", "port": self.port, "extra": {"db": 0}})

    def stop(self) -> None:
        import shutil

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
