"""``make mutate``: mutmut over the modules that carry the guarantees, one module at a time, then the
score per module.

Each module is one ``mutmut run`` over its mutants (named by the globs below), bounded by
``MUTATE_MODULE_TIMEOUT`` seconds; mutmut runs each mutant against only the tests its stats saw reach
the mutated function (``[tool.mutmut]`` in pyproject.toml chooses the tests). A module that ran out
of time shows its unchecked mutants as such; ``python scripts/mutate.py --score`` prints the table
again from ``mutants/``.

Usage: ``python scripts/mutate.py [--score] [MODULE ...]`` with MODULE a key of :data:`MODULES`.
"""

from __future__ import annotations

import collections
import fnmatch
import os
import signal
import subprocess
import sys
import time

PACKAGE = "airflow_provider_flipbook"
# module -> the mutants that guard a guarantee there (mutmut names: x_<function>, xǁ<Class>ǁ<method>)
MODULES: dict[str, list[str]] = {
    "triggers/events.py": [f"{PACKAGE}.triggers.events.*"],
    "hooks/connection.py": [f"{PACKAGE}.hooks.connection.*"],  # redaction, settings
    "triggers/watchers.py": [f"{PACKAGE}.triggers.watchers.x_*"],  # the snapshot diff, not the trigger
    "triggers/flippingbook.py": [f"{PACKAGE}.triggers.flippingbook.x_*"],  # the tracked-link diff
    "hooks/exactly_once.py": [f"{PACKAGE}.hooks.exactly_once.*"],
    "utils/pacing.py": [f"{PACKAGE}.utils.pacing.*"],
    "utils/ratelimit.py": [f"{PACKAGE}.utils.ratelimit.*"],
    "hooks/base.py": [f"{PACKAGE}.hooks.base.*"],
    "operators/upload.py": [  # the resume: what a retry does with the previous try's upload
        f"{PACKAGE}.operators.upload.xǁUploadPdfOperatorǁ{method}__mutmut_*"
        for method in ("execute", "_resume", "execute_complete", "execute_when_free", "_converted")
    ],
}
CAUGHT = ("killed", "timeout")


def mutmut(*args: str) -> list[str]:
    """mutmut's command line, from the environment that runs this script."""
    return [sys.executable, "-m", "mutmut", *args]


def run(module: str, children: str, timeout: float) -> float:
    """Run one module's mutants; return the seconds it took."""
    started = time.monotonic()
    # its own process group: mutmut's fork server and workers stop with it
    process = subprocess.Popen(
        mutmut("run", "--max-children", children, *MODULES[module]), start_new_session=True
    )
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
        print(f"{module}: stopped after {timeout:.0f} s; its unchecked mutants are listed as such")
    return time.monotonic() - started


def score() -> None:
    """Print killed / total per module, and every mutant not caught."""
    results = subprocess.run(mutmut("results", "--all", "true"), capture_output=True, text=True, check=True)
    status = dict(line.strip().rsplit(": ", 1) for line in results.stdout.splitlines() if ": " in line)
    total = collections.Counter[str]()
    for module, globs in MODULES.items():
        mine = {name: s for name, s in status.items() if any(fnmatch.fnmatchcase(name, g) for g in globs)}
        counts = collections.Counter(mine.values())
        caught = sum(counts[s] for s in CAUGHT)
        total.update(counts)
        print(f"{module}: {caught}/{len(mine)} caught {dict(counts)}")
        for name in sorted(n for n, s in mine.items() if s not in CAUGHT):
            print(f"    {mine[name]}: {name}")
    caught = sum(total[s] for s in CAUGHT)
    print(f"mutation score: {caught}/{sum(total.values())} caught {dict(total)}")


def main(argv: list[str]) -> None:
    """Run the named modules (default: all), then print the score."""
    names = [a for a in argv if not a.startswith("--")]
    if unknown := [n for n in names if n not in MODULES]:
        sys.exit(f"unknown module(s) {unknown}; choose from {list(MODULES)}")
    if "--score" not in argv:
        children = os.environ.get("MUTATE_CHILDREN", "2")
        timeout = float(os.environ.get("MUTATE_MODULE_TIMEOUT", "1800"))
        for module in names or MODULES:
            print(f"{module}: {run(module, children, timeout):.0f} s")
    score()


if __name__ == "__main__":
    main(sys.argv[1:])
