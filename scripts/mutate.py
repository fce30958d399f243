"""``make mutate``: mutmut over the modules that carry the guarantees, one module at a time, each
against the tests that guard it, then the score per module.

mutmut runs each mutant against only the tests its stats saw reach the mutated function, but it reads
one test selection per project (``[tool.mutmut]`` in pyproject.toml), and a function every test
reaches (the transport's ``_request``, a connection ``setting``, the pacer) would otherwise run the
whole selection for each surviving mutant. So each module runs in its own copy of the project under
``.mutate/<module>/`` with its own selection (:data:`MODULES`), bounded by ``MUTATE_MODULE_TIMEOUT``
seconds; a module that runs out of time shows its unchecked mutants as such.

Usage: ``python scripts/mutate.py [--score | --resume | --recheck] [MODULE ...]``, MODULE a key of
:data:`MODULES`; ``--score`` prints the table again from the last runs, ``--resume`` runs only the
mutants a stopped run left unchecked, ``--recheck`` those and the survivors (after new tests).
"""

from __future__ import annotations

import collections
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutate"
PACKAGE = "airflow_provider_flipbook"
CAUGHT = ("killed", "timeout")


class Module(NamedTuple):
    """What to mutate (mutmut names: ``x_<function>``, ``xǁ<Class>ǁ<method>``) and the tests that guard it."""

    mutants: list[str]
    tests: list[str]


MODULES: dict[str, Module] = {
    "triggers/events.py": Module(
        [f"{PACKAGE}.triggers.events.*"],
        ["tests/triggers/test_events.py", "tests/triggers/test_base.py", "tests/sensors/test_base.py"],
    ),
    "hooks/connection.py": Module(  # the extras and the redaction of credentials
        [f"{PACKAGE}.hooks.connection.*"],
        ["tests/hooks/test_base.py", "tests/reliability/test_secrets.py"],
    ),
    "triggers/watchers.py": Module(  # the snapshot diff behind asset events, not the trigger's loop
        [f"{PACKAGE}.triggers.watchers.x_*", f"{PACKAGE}.triggers.flippingbook.x_*"],
        ["tests/triggers/test_watchers.py"],
    ),
    "hooks/exactly_once.py": Module(
        [f"{PACKAGE}.hooks.exactly_once.*"],
        [
            "tests/reliability/test_exactly_once.py",
            "tests/reliability/test_exactly_once_hook_calls.py",
            "tests/hooks/test_base.py",
        ],
    ),
    "utils/pacing.py": Module(
        [f"{PACKAGE}.utils.pacing.*", f"{PACKAGE}.utils.ratelimit.*"],
        ["tests/hooks/test_base.py", "tests/triggers/test_base.py", "tests/reliability/test_pacing_scale.py"],
    ),
    "hooks/base.py": Module(  # the transport and its retry rule
        [f"{PACKAGE}.hooks.base.*"],
        [
            "tests/hooks/test_base.py",
            "tests/hooks/test_against_sandbox.py::test_test_connection_succeeds_with_the_printed_connections",
            "tests/hooks/test_against_sandbox.py::test_test_connection_fails_with_the_vendors_error_and_no_credential",
            "tests/triggers/test_base.py",
            "tests/reliability/test_faults.py",
            "tests/reliability/test_secrets.py",
            "tests/reliability/test_exactly_once.py::test_a_create_whose_outcome_stays_unknown_is_resent_after_growing_waits",
            "tests/reliability/test_exactly_once.py::test_connection_refused_is_resent_without_a_lookup",
        ],
    ),
    "operators/upload.py": Module(  # the resume: what a retry does with the previous try's upload
        [
            f"{PACKAGE}.operators.upload.xǁUploadPdfOperatorǁ{method}__mutmut_*"
            for method in ("execute", "_resume", "execute_complete", "execute_when_free", "_converted")
        ],
        [
            "tests/operators/test_operators_and_sensors.py::test_upload_defers_and_completes",
            "tests/operators/test_operators_and_sensors.py::test_upload_waits_in_the_task",
            "tests/operators/test_operators_and_sensors.py::test_upload_without_waiting_returns_ids_and_pushes_them_first",
            "tests/operators/test_operators_and_sensors.py::test_a_retry_resumes_instead_of_uploading_again",
            "tests/operators/test_operators_and_sensors.py::test_a_retry_after_a_failed_conversion_uploads_afresh",
            "tests/operators/test_operators_and_sensors.py::test_total_pages_is_the_vendors_count_not_ours",
            "tests/operators/test_operators_and_sensors.py::test_deferred_upload_returns_the_whole_upload_without_defer_kwargs",
            "tests/operators/test_operators_and_sensors.py::test_a_refused_first_source_reaches_the_user",
            "tests/operators/test_ipaper_earlier_job.py",
            "tests/reliability/test_faults.py::test_task_dies_after_create_then_retries",
        ],
    ),
}


def workdir(name: str) -> Path:
    """Where one module runs."""
    return WORK / name.replace("/", "-").removesuffix(".py")


def project_copy(name: str) -> Path:
    """The project copied for one module (over the last copy: mutmut keeps the verdicts of unchanged
    functions), its pyproject choosing that module's tests."""
    module, where = MODULES[name], workdir(name)
    skip = shutil.ignore_patterns(".*", "__pycache__", "mutants", "*.egg-info")
    for part in ("airflow_provider_flipbook", "tests", "dags", "docs", "benchmarks", "scripts"):
        shutil.rmtree(where / part, ignore_errors=True)
        shutil.copytree(ROOT / part, where / part, ignore=skip)
    for part in ("README.md", "Makefile", "uv.lock"):
        shutil.copy2(ROOT / part, where / part)
    selection = (
        "pytest_add_cli_args_test_selection = [\n" + "".join(f'    "{t}",\n' for t in module.tests) + "]"
    )
    pyproject = (ROOT / "pyproject.toml").read_text()
    pyproject, found = re.subn(
        r"pytest_add_cli_args_test_selection = \[.*?\]", lambda _: selection, pyproject, flags=re.S
    )
    assert found == 1, "pyproject.toml: [tool.mutmut] pytest_add_cli_args_test_selection not found"
    (where / "pyproject.toml").write_text(pyproject)
    return where


def mutmut(*args: str) -> list[str]:
    """mutmut's command line, from the environment that runs this script."""
    return [sys.executable, "-m", "mutmut", *args]


def verdicts(name: str) -> dict[str, str]:
    """The last run's verdict on each of the module's mutants (``not checked`` before any)."""
    where = workdir(name)
    if not (where / "mutants").is_dir():
        return {}
    results = subprocess.run(
        mutmut("results", "--all", "true"), cwd=where, capture_output=True, text=True, check=True
    )
    status = dict(line.strip().rsplit(": ", 1) for line in results.stdout.splitlines() if ": " in line)
    globs = MODULES[name].mutants
    return {m: s for m, s in status.items() if any(fnmatch.fnmatchcase(m, g) for g in globs)}


def run(name: str, children: str, timeout: float, resume: str | None) -> float:
    """Run one module's mutants in its own copy; return the seconds it took.

    :param resume: ``--resume``: only those not checked yet; ``--recheck``: those and the survivors.
    """
    started = time.monotonic()
    again = ("not checked", "survived") if resume == "--recheck" else ("not checked",)
    unchecked = [m for m, s in verdicts(name).items() if s in again] if resume else []
    where = project_copy(name)
    # its own process group: mutmut's fork server and workers stop with it
    process = subprocess.Popen(
        mutmut("run", "--max-children", children, *(unchecked or MODULES[name].mutants)),
        cwd=where,
        start_new_session=True,
    )
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
        print(f"{name}: stopped after {timeout:.0f} s; its unchecked mutants are listed as such")
    return time.monotonic() - started


def score(names: list[str]) -> None:
    """Print caught / total per module, and every mutant not caught."""
    total = collections.Counter[str]()
    for name in names:
        mine = verdicts(name)
        if not mine:
            print(f"{name}: not run")
            continue
        counts = collections.Counter(mine.values())
        total.update(counts)
        print(f"{name}: {sum(counts[s] for s in CAUGHT)}/{len(mine)} caught {dict(counts)}")
        for mutant in sorted(m for m, s in mine.items() if s not in CAUGHT):
            print(f"    {mine[mutant]}: {mutant}")
    print(f"mutation score: {sum(total[s] for s in CAUGHT)}/{sum(total.values())} caught {dict(total)}")


def main(argv: list[str]) -> None:
    """Run the named modules (default: all), then print the score."""
    names = [a for a in argv if not a.startswith("--")] or list(MODULES)
    if unknown := [n for n in names if n not in MODULES]:
        sys.exit(f"unknown module(s) {unknown}; choose from {list(MODULES)}")
    if "--score" not in argv:
        children = os.environ.get("MUTATE_CHILDREN", "2")
        timeout = float(os.environ.get("MUTATE_MODULE_TIMEOUT", "1800"))
        for name in names:
            resume = next((a for a in argv if a in ("--resume", "--recheck")), None)
            print(f"{name}: {run(name, children, timeout, resume):.0f} s", flush=True)
    score(names)


if __name__ == "__main__":
    main(sys.argv[1:])
