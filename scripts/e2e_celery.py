"""`make e2e-celery`: a real distributed run on this machine, started and stopped by one command.

PostgreSQL (metadata database) and Redis (Celery broker, and the provider's `redis` pacing scope) on
loopback with their data in a temporary folder; the sandbox in reject mode; Airflow with the
CeleryExecutor: API server, scheduler, dag-processor, triggerer and two Celery workers that behave as
two hosts (each its own TMPDIR and task-instance hostname, so the file-based `host` pacing scope
cannot help them). The three example DAGs must run green, then a batch DAG
(tests/e2e/celery/dags/flipbook_batch.py) of `--batch` uploads and as many Papyrs pages must end with
no rate-limit rejection, every object created exactly once, and tasks run on both workers.

Everything started here is stopped at the end, also on failure. Exit code 0 when every check passed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))  # benchmarks.common: the throw-away Redis server
EXAMPLE_DAGS = ("flipbook_publish", "catalog_nightly_refresh", "report_to_intranet")
BATCH_DAG = ROOT / "tests" / "e2e" / "celery" / "dags" / "flipbook_batch.py"
HOSTS = ("host-a", "host-b")
# Task-instance hostnames come from `[core] hostname_callable`: each worker names itself by this.
HOSTNAME_MODULE = 'import os\n\n\ndef hostname() -> str:\n    return os.environ["FLIPBOOK_E2E_HOST"]\n'


class CheckFailed(AssertionError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def restore_sigint() -> None:  # a child of a non-interactive shell may inherit SIGINT as ignored
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# -- services -------------------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def ensure_packages() -> None:
    """Debian's postgresql and redis-server, installed when missing (root, apt-get, no prompt)."""
    missing = [
        package
        for package, present in (
            ("postgresql", postgres_bin()),
            ("redis-server", shutil.which("redis-server")),
        )
        if not present
    ]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            f"missing {', '.join(missing)}: install them (apt-get install -y {' '.join(missing)})"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing {' '.join(missing)} with apt-get", flush=True)
    apt = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    if subprocess.run(apt, env=env, stdin=subprocess.DEVNULL, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, stdin=subprocess.DEVNULL, check=True)
        subprocess.run(apt, env=env, stdin=subprocess.DEVNULL, check=True)


@contextmanager
def postgres(folder: Path) -> Iterator[str]:
    """A throw-away cluster on a free loopback port; yields its SQLAlchemy URL."""
    bin_dir = postgres_bin()
    assert bin_dir is not None
    folder.mkdir()
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    subprocess.run(
        [*as_owner, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        + ["--no-sync"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = f"-p {port} -h 127.0.0.1 -k {folder} -F -c max_connections=200"
    pg_ctl = [*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data), "-w"]
    subprocess.run(
        [*pg_ctl, "-l", str(folder / "postgres.log"), "-o", options, "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "airflow"],
            check=True,
        )
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/airflow"
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], check=False, stdout=subprocess.DEVNULL)


class Sandbox:
    """`flipbook-sandbox` in reject mode, as a subprocess."""

    def __init__(self, speed: float, log: Path) -> None:
        self.process = subprocess.Popen(
            [
                str(BIN / "flipbook-sandbox"),
                "--port",
                "0",
                "--speed",
                str(speed),
                "--rate-limit-mode",
                "reject",
            ],
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        self.connections: dict[str, dict[str, Any]] = {}
        for _ in range(4):
            name, _, value = self.process.stdout.readline().strip().partition("=")
            self.connections[name.split("_")[2].lower()] = json.loads(value.strip("'"))
        self.url = self.connections["flippingbook"]["host"].rsplit("/", 1)[0]
        wait_for(lambda: requests.get(f"{self.url}/_sandbox/health", timeout=2).ok, 30, "the sandbox")

    def get(self, path: str) -> Any:
        return requests.get(f"{self.url}/_sandbox/{path}", timeout=30).json()

    def stop(self) -> None:
        stop_group(self.process, signal.SIGTERM, 20)


def wait_for(probe: Callable[[], object], seconds: float, what: str, every: float = 0.5) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if probe():
                return
        except (requests.RequestException, OSError, ValueError, KeyError):
            pass
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what} was not ready in {seconds:g} s")
        time.sleep(every)


def stop_group(process: subprocess.Popen, sig: signal.Signals, grace: float) -> None:
    """Signal a child's whole process group (it was started in its own session), then KILL what is left."""
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=grace)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


# -- Airflow --------------------------------------------------------------------------------------


class Deployment:
    def __init__(self, work: Path, env: dict[str, str], stack: ExitStack) -> None:
        self.work, self.env, self.stack = work, env, stack
        self.api = f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}"
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.headers: dict[str, str] = {}

    def airflow(self, *args: str) -> None:
        subprocess.run([str(BIN / "airflow"), *args], env=self.env, check=True, stdout=subprocess.DEVNULL)

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = (self.work / "logs" / f"{name}.log").open("w")
        process = subprocess.Popen(
            [str(BIN / "airflow"), *args],
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=restore_sigint,
            start_new_session=True,
        )
        self.processes.append((name, process))
        self.stack.callback(self.stop, name, process)  # last started, first stopped: workers first

    @staticmethod
    def stop(name: str, process: subprocess.Popen) -> None:
        stop_group(process, signal.SIGTERM, 30)
        print(f"  stopped {name} (exit {process.returncode})", flush=True)

    def log_tail(self, name: str, lines: int = 30) -> str:
        text = (self.work / "logs" / f"{name}.log").read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_healthy(self, password: str) -> None:
        def healthy() -> bool:
            for name, process in self.processes:
                if process.poll() is not None:
                    raise CheckFailed(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            health = requests.get(f"{self.api}/api/v2/monitor/health", timeout=5).json()
            workers_ready = all(" ready." in (self.work / "logs" / f"{h}.log").read_text() for h in HOSTS)
            return workers_ready and all(
                health.get(c, {}).get("status") == "healthy"
                for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")
            )

        wait_for(healthy, 240, "the Airflow components", every=2)
        token = requests.post(
            f"{self.api}/auth/token", json={"username": "admin", "password": password}, timeout=10
        )
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = requests.request(
            method, f"{self.api}/api/v2/{path}", headers=self.headers, timeout=30, **kwargs
        )
        answer.raise_for_status()
        return answer.json()

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        wait_for(lambda: self.call("GET", f"dags/{dag_id}"), 180, f"DAG {dag_id} (parsed)", every=2)
        self.call("PATCH", f"dags/{dag_id}", json={"is_paused": False})
        return self.call("POST", f"dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})[
            "dag_run_id"
        ]

    def wait_run(self, dag_id: str, run_id: str, seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            run = self.call("GET", f"dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed"):
                return run
            time.sleep(3)
        raise CheckFailed(f"{dag_id} run {run_id} did not finish in {seconds:g} s")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})[
            "task_instances"
        ]

    def active_runs(self) -> list[dict[str, Any]]:
        runs = self.call("GET", "dags/~/dagRuns", params={"state": ["queued", "running"], "limit": 100})
        return runs["dag_runs"]


def airflow_env(
    work: Path, database: str, broker_port: int, sandbox: Sandbox, pacing_redis: str, scope: str
) -> dict[str, str]:
    api_port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(work / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(work / "dags"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__PARALLELISM": "16",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(work / "passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{broker_port}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database,
        # Every component must sign and check the same tokens (task JWTs, log fetching).
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        # Only the runs triggered here: no cron runs on unpausing, no asset-triggered runs. (Two
        # report_to_intranet runs at once race on if_exists="replace": one deletes the page the other
        # just deleted, Papyrs answers 404.)
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "FLIPBOOK_SAMPLES": str(work / "samples"),
        "FLIPBOOK_ARCHIVE": str(work / "archive"),
        "FLIPBOOK_REPORTS": str(work / "reports"),
        "AIRFLOW_CONN_FLIPBOOK_PACING_REDIS": pacing_redis,
    }
    for vendor, conn in sandbox.connections.items():
        extra = {**conn["extra"], "pacing_scope": scope, "pacing_redis_conn_id": "flipbook_pacing_redis"}
        env[f"AIRFLOW_CONN_{vendor.upper()}_DEFAULT"] = json.dumps({**conn, "extra": extra})
    return env


# -- the run --------------------------------------------------------------------------------------


class Phases:
    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings.append((name, time.monotonic() - started))


def run(args: argparse.Namespace, work: Path, phases: Phases, summary: dict[str, Any]) -> None:
    stack = ExitStack()
    try:
        run_started(args, work, phases, summary, stack)
    finally:
        with phases("teardown: stop everything"):
            for sig in (signal.SIGTERM, signal.SIGINT):  # a second Ctrl-C must not cut the teardown short
                signal.signal(sig, signal.SIG_IGN)
            stack.close()


def run_started(
    args: argparse.Namespace, work: Path, phases: Phases, summary: dict[str, Any], stack: ExitStack
) -> None:
    from benchmarks.common import RedisServer

    with phases("services: PostgreSQL, Redis, sandbox"):
        ensure_packages()
        database = stack.enter_context(postgres(work / "postgres"))
        redis = stack.enter_context(RedisServer())
        sandbox = Sandbox(args.speed, work / "logs" / "sandbox.log")
        stack.callback(sandbox.stop)
    pacing_redis = json.dumps(
        {"conn_type": "redis", "host": "127.0.0.1", "port": redis.port, "extra": {"db": 1}}
    )
    env = airflow_env(work, database, redis.port, sandbox, pacing_redis, args.pacing_scope)
    deployment = Deployment(work, env, stack)
    with phases("airflow: migrate, pools, DAG files, samples"):
        (work / "dags").mkdir()
        for dag_file in [*sorted((ROOT / "dags").glob("*.py")), BATCH_DAG]:
            shutil.copy(dag_file, work / "dags")
        subprocess.run(
            [str(BIN / "python"), "-m", "airflow_provider_flipbook.sandbox.samples", env["FLIPBOOK_SAMPLES"]],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        from airflow_provider_flipbook.utils.pdf import make_sample_pdf

        long_pdf = work / "samples" / "long-report.pdf"
        make_sample_pdf(long_pdf, 400, "Long report")  # converts for seconds: the sensor defers
        password = secrets.token_urlsafe(12)
        (work / "passwords.json").write_text(json.dumps({"admin": password}))
        deployment.airflow("db", "migrate")
        for pool in ("flippingbook", "flipsnack", "ipaper", "papyrs"):
            deployment.airflow("pools", "set", pool, "2", f"{pool} credential")
    with phases("airflow: start components until healthy"):
        deployment.start("api-server", "api-server")
        deployment.start("scheduler", "scheduler")
        deployment.start("dag-processor", "dag-processor")
        deployment.start("triggerer", "triggerer")
        lib = work / "lib"
        lib.mkdir()
        (lib / "flipbook_e2e_host.py").write_text(HOSTNAME_MODULE)
        for host in HOSTS:
            tmp = work / host / "tmp"
            tmp.mkdir(parents=True)
            host_env = {
                **env,
                "TMPDIR": str(tmp),
                "FLIPBOOK_E2E_HOST": host,
                "PYTHONPATH": str(lib),
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "flipbook_e2e_host.hostname",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            }
            deployment.start(
                host,
                "celery",
                "worker",
                "--celery-hostname",
                f"{host}@%h",
                "--concurrency",
                str(args.concurrency),
                env=host_env,
            )
        deployment.wait_healthy(password)
    with phases("example DAGs (three, at once)"):
        confs = {"flipbook_publish": {"pdf": str(long_pdf)}}
        runs = {dag_id: deployment.trigger(dag_id, confs.get(dag_id, {})) for dag_id in EXAMPLE_DAGS}
        for dag_id, run_id in runs.items():
            state = deployment.wait_run(dag_id, run_id, args.timeout)["state"]
            summary.setdefault("example DAGs", {})[dag_id] = state
        # Unpausing a scheduled DAG (or an asset event) may start more runs: let them end, then pause.
        wait_for(lambda: not deployment.active_runs(), args.timeout, "the example DAGs' other runs", every=3)
        for dag_id in EXAMPLE_DAGS:
            deployment.call("PATCH", f"dags/{dag_id}", json={"is_paused": True})
            for other in deployment.call("GET", f"dags/{dag_id}/dagRuns")["dag_runs"]:
                check(other["state"] == "success", f"{dag_id} run {other['dag_run_id']}: {other['state']}")
        check(
            all(s == "success" for s in summary["example DAGs"].values()),
            f"example DAGs: {summary['example DAGs']}",
        )
    before = sandbox.get("state")
    with phases(f"batch DAG ({args.batch} uploads, {args.batch} Papyrs pages)"):
        started = time.monotonic()
        run_id = deployment.trigger("flipbook_batch", {"count": args.batch})
        batch = deployment.wait_run("flipbook_batch", run_id, args.timeout)
        summary["batch wall time (s)"] = round(time.monotonic() - started, 1)
        # Papyrs allows 6 calls per 60 s per token (divided by the sandbox speed); a page takes 2 calls.
        summary["Papyrs rate-limit floor for the batch (s)"] = (2 * args.batch - 1) // 6 * 60 / args.speed
    with phases("checks"):
        after, log = sandbox.get("state"), sandbox.get("requests")
        instances = deployment.task_instances("flipbook_batch", run_id)
        hosts = Counter(ti["hostname"] for ti in instances if ti["task_id"] in ("upload", "papyrs_page"))
        rejected = Counter(entry["vendor"] for entry in log if entry["status"] == 429)
        created = {
            "flippingbook publications": after["flippingbook"]["publications"]
            - before["flippingbook"]["publications"],
            "papyrs pages": after["papyrs"]["pages"] - before["papyrs"]["pages"],
        }
        tries = Counter(ti["try_number"] for ti in instances)
        summary |= {
            "batch state": batch["state"],
            "task instances per host": dict(hosts),
            "task tries": dict(tries),
            "sandbox requests": len(log),
            "rate-limit rejections (429)": dict(rejected) or 0,
            "objects created by the batch": created,
        }
        check(batch["state"] == "success", f"batch run: {batch['state']}")
        check(not rejected, f"rate-limit rejections from the sandbox: {dict(rejected)}")
        check(
            created == {"flippingbook publications": args.batch, "papyrs pages": args.batch},
            f"objects created: {created}",
        )
        check(set(hosts) == set(HOSTS), f"batch tasks per host: {dict(hosts)} (want both {HOSTS})")
        check(not [e for e in log if e["credential_in_url"]], "a credential appeared in a request URL")


def interrupted(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=40, help="uploads and Papyrs pages in the batch DAG")
    # The speed divides the pacer's 2 % margin too (1.2 s of Papyrs' 60 s window at speed 1). At 20 it
    # is 60 ms, less than a loaded 2-core host's scheduling jitter between booking a call and its
    # arrival (one 429 seen in CI); at 4 it is 300 ms.
    parser.add_argument("--speed", type=float, default=4.0, help="sandbox speed (divides rate-limit windows)")
    parser.add_argument("--concurrency", type=int, default=4, help="task slots per Celery worker")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for each DAG run")
    parser.add_argument(
        "--pacing-scope",
        default="redis",
        choices=("redis", "host", "process"),
        help="the connections' pacing scope; `host` shows what the check catches (rejections)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) on success")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flipbook-e2e-celery-"))
    work.chmod(0o755)  # the postgres user must reach its data folder
    (work / "logs").mkdir()
    phases, summary = Phases(), {}
    started, failure = time.monotonic(), None
    signal.signal(signal.SIGTERM, interrupted)  # a CI timeout still stops everything
    try:
        run(args, work, phases, summary)
    except (CheckFailed, subprocess.CalledProcessError, requests.RequestException) as error:
        failure = error
    except KeyboardInterrupt:
        failure = KeyboardInterrupt("interrupted")
    total = time.monotonic() - started
    print("\n== e2e-celery summary")
    for name, seconds in phases.timings:
        if seconds:
            print(f"  {name:<58} {seconds:7.1f} s")
    print(f"  {'total, teardown included':<58} {total:7.1f} s")
    for key, value in summary.items():
        print(f"  {key}: {value}")
    if failure is not None:
        print(f"\nFAILED: {failure}\nlogs kept in {work}/logs", flush=True)
        return 1
    if args.keep:
        print(f"logs kept in {work}/logs")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("OK: e2e-celery passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
