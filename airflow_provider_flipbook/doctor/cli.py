"""flipbook-doctor: check the assumptions of ``docs/vendor-conformance.md`` against your own account.

Usage::

    flipbook-doctor --conn-id ID [--conn-id ID ...] [--json] [--write-test] [--record FILE]
    python -m airflow_provider_flipbook.doctor --conn-id ID ...

Each connection is loaded the way tasks load it (so ``AIRFLOW_CONN_*`` variables work) and probed
with read-only calls through the hook's own transport (pacing, redaction), but failing fast: one
retry, ``--timeout`` seconds per call (default 10), so an unreachable vendor is told within seconds.
Every check reports ``holds``, ``differs``, ``refused``, ``not checked`` or ``error`` with the shape it saw: keys,
element names and counts, never values. One cause gives one line: a refused credential or an
unreachable vendor is reported by the check that met it, and every later check says "not checked"
with the reason.

``--write-test`` also creates and deletes one tiny object (FlippingBook: a publication without a
source, which the vendor keeps in a "deleted" state for a while before removing it; Flipsnack: a
one-page collection, which uses one of the account's monthly API uploads even once deleted; iPaper: a
paper under the root, processed twice from a one-page PDF (to see whether a rerun keeps the page ids),
deleted once the jobs have left the processing list; Papyrs: a page with a Discussion widget, one
markdown widget and one discussion post, in a folder the subsite already has).

``--record FILE`` writes what the account answered (methods, paths, the shapes of the answers and
their enumerations; no credential, host, id or other value unless ``--record-values``): the sandbox
replays it (``flipbook-sandbox --replay FILE``).

Every check reports ``holds``, ``differs`` (the account answered, not as the code assumes: our wire
assumption is wrong), ``refused`` (the account itself said no: a plan or licence limit, a feature not
enabled, a user without the rights; the line names the vendor's code and what to do), ``not checked``
or ``error``.

Exit status, the first that applies:

* 2: an assumption differs (report it: the provider reads this account wrongly);
* 1: an error (unknown connection, refused credential, unreachable or failing vendor, a bug);
* 3: the account refused something (change the account or the connection, not the provider);
* 0: everything checked holds.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from airflow_provider_flipbook.doctor.checks import (
    DIFFERS,
    ERROR,
    HOLDS,
    NOT_CHECKED,
    REFUSED,
    Check,
    Report,
    run_checks,
)
from airflow_provider_flipbook.doctor.recording import ResponseLog, write_recording
from airflow_provider_flipbook.vendors import VENDORS

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import ModuleType

# The check module of each connection type, as the vendor registry names it.
VENDOR_CHECKS: dict[str, ModuleType] = {
    conn_type: importlib.import_module(vendor.doctor) for conn_type, vendor in VENDORS.items()
}
# The assumption ids each vendor's checks report, in order; docs/vendor-conformance.md lists the same.
CHECK_IDS: dict[str, tuple[str, ...]] = {
    vendor: tuple(check.__name__ for check in module.CHECKS) for vendor, module in VENDOR_CHECKS.items()
}
DEFAULT_TIMEOUT = 10.0


def fail_fast(timeout: float) -> dict[str, Any]:
    """Return the transport extras for the doctor: fail fast.

    One quick retry instead of the tasks' five back-offs, and no call longer than ``timeout`` seconds,
    so an unreachable vendor is found in about ``timeout`` seconds.

    :param timeout: seconds to wait for each answer, and for a call with its retry
    """
    return {
        "timeout": timeout,
        "max_retries": 1,
        "retry_min_wait": 0.5,
        "retry_max_wait": 2.0,
        "retry_deadline": timeout,
        "max_retry_after": timeout,
    }


def diagnose(
    conn_id: str, write_test: bool = False, *, timeout: float = DEFAULT_TIMEOUT, values: bool = False
) -> tuple[Report, Callable[[str], str], dict[str, Any] | None]:
    """Run every check for one connection.

    :param conn_id: the Airflow connection id
    :param write_test: also create and delete one tiny object
    :param timeout: seconds per call (see :func:`fail_fast`)
    :param values: keep every value in the recording
    :return: the report, the connection's redaction, and its part of a recording (None if unknown)
    """
    from airflow_provider_flipbook.hooks import hook_for

    report = Report(conn_id)
    try:
        hook = hook_for(conn_id, vendors=tuple(VENDORS))
        report.vendor, report.base_url = hook.conn_type, hook.base_url
        hook.__dict__["extras"] = {**hook.extras, **fail_fast(timeout)}
        upload = getattr(hook, "upload_url", None)
        log = ResponseLog(hook, [hook.base_url, *([upload] if upload else [])], values=values)
    except Exception as error:
        report.checks.append(Check(f"{conn_id}.connection", ERROR, f"{type(error).__name__}: {error}"))
        return report, lambda text: text, None
    report.checks = run_checks(VENDOR_CHECKS[hook.conn_type], hook, log, write_test=write_test)
    return report, hook.redact, log.vendor_part()


def exit_code(reports: Sequence[Report]) -> int:
    """2 if an assumption differs, else 1 for an error, else 3 if the account refused something, else 0."""
    statuses = {check.status for report in reports for check in report.checks}
    return 2 if DIFFERS in statuses else 1 if ERROR in statuses else 3 if REFUSED in statuses else 0


def render(reports: Sequence[Report]) -> str:
    """Render the reports as a table, one line per check, and a count of each status."""
    lines = []
    for report in reports:
        where = f", {report.base_url}" if report.base_url else ""
        lines.append(f"{report.conn_id} ({report.vendor or 'unknown'}{where})")
        width = max(len(c.id) for c in report.checks)
        lines += [f"  {c.id:<{width}}  {c.status:<11}  {c.seen}" for c in report.checks]
    counts = {
        s: sum(c.status == s for r in reports for c in r.checks)
        for s in (HOLDS, DIFFERS, REFUSED, NOT_CHECKED, ERROR)
    }
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flipbook-doctor`` command; return the exit status.

    :param argv: the arguments (default: the command line)
    """
    parser = argparse.ArgumentParser(prog="flipbook-doctor", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--conn-id", action="append", required=True, help="Airflow connection id (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument(
        "--write-test",
        action="store_true",
        help="also create and delete one tiny object per connection (see the module doc)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for each answer, its one retry included (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--record", metavar="FILE", help="write what the accounts answered, for the sandbox to replay"
    )
    parser.add_argument(
        "--record-values",
        action="store_true",
        help="keep every value in the recording (titles, names, ids: personal data), not only enumerations",
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    reports: list[Report] = []
    redactions: list[Callable[[str], str]] = []
    parts: dict[str, dict[str, Any]] = {}
    for conn_id in args.conn_id:
        with contextlib.redirect_stdout(sys.stderr):  # the hooks' retry warnings: stdout is the report's
            report, redaction, part = diagnose(
                conn_id, args.write_test, timeout=args.timeout, values=args.record_values
            )
        reports.append(report)
        redactions.append(redaction)
        if part is not None:
            earlier = parts.setdefault(report.vendor, {"answers": [], "observations": {}})
            earlier["answers"] += part["answers"]
            earlier["observations"].update(part["observations"])

    def redact(text: str) -> str:  # every connection's secrets, whichever report the text is in
        for one in redactions:
            text = one(text)
        return text

    for report in reports:  # before JSON encoding, which could escape a secret past a plain replace
        report.base_url = redact(report.base_url)
        for check in report.checks:
            check.seen = redact(check.seen)
    if args.record:
        write_recording(args.record, parts, redact, args.record_values)
    code = exit_code(reports)
    if args.json:
        print(redact(json.dumps({"exit_code": code, "connections": [asdict(r) for r in reports]}, indent=2)))
    else:
        print(redact(render(reports)))
    return code
