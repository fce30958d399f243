"""What every vendor's checks share: the outcome of a check, the answers a check needs, the runner.

A vendor module (``doctor/<vendor>.py``) declares:

* ``Account``: a read-only view of one account built from the vendor's hook; each vendor answer a
  check needs is an :class:`answer` (fetched at first use, kept, a failure kept too), so checks are
  independent of their order and name what they read;
* ``CHECKS``: the checks, in the order they are reported, each a plain function
  ``check(account) -> Outcome``; its name is the assumption id of ``docs/vendor-conformance.md``;
* ``WRITE_CHECKS``: those of them that create something (run only with ``--write-test``);
* ``credentials_refused(error)``: advice when an error means the credential was refused, else None;
* ``account_refused(error, accepted)``: advice when an error is the account's own refusal (a plan or
  licence limit, a feature not enabled, a user without rights: the wire worked, the account said no),
  else None; ``accepted`` tells whether the credential was accepted by an earlier call.

:func:`run_checks` runs them: a refused credential or an unreachable vendor is reported once, by the
check that met it, and every later check says "not checked" with that reason; a check whose input
failed says which check reported the failure.
"""

from __future__ import annotations

import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from airflow_provider_flipbook.exceptions import (
    MalformedResponseError,
    RateLimitError,
    TransientApiError,
    VendorApiError,
)
from airflow_provider_flipbook.utils.ratelimit import SlidingWindow

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from types import ModuleType

    from airflow_provider_flipbook.doctor.recording import ResponseLog
    from airflow_provider_flipbook.hooks.base import FlipbookBaseHook

HOLDS, DIFFERS, NOT_CHECKED, ERROR, REFUSED = "holds", "differs", "not checked", "error", "refused"
RATE_HEADER = re.compile(r"^(x-)?rate-?limit|^retry-after$", re.IGNORECASE)
LIMIT_HEADER = re.compile(r"^(x-)?rate-?limit-?limit$", re.IGNORECASE)

T = TypeVar("T")
A = TypeVar("A")
H = TypeVar("H")


@dataclass(frozen=True)
class Outcome:
    """What one check found: a status and the shape it saw (keys, names, counts; never values)."""

    status: str
    seen: str


def holds(seen: str) -> Outcome:
    """Report that the assumption holds on this account."""
    return Outcome(HOLDS, seen)


def differs(seen: str) -> Outcome:
    """Report that the account answered, not as the code assumes."""
    return Outcome(DIFFERS, seen)


def not_checked(seen: str) -> Outcome:
    """Nothing to check it on (an empty account, an option not taken)."""
    return Outcome(NOT_CHECKED, seen)


def verdict(ok: bool, seen: str) -> Outcome:
    """Return ``holds`` if ``ok`` else ``differs``, with the same description."""
    return Outcome(HOLDS if ok else DIFFERS, seen)


@dataclass
class Check:
    """One assumption of the conformance table, as checked against an account."""

    id: str
    status: str
    seen: str


@dataclass
class Report:
    """Every check for one connection: what held, what differed, what could not be checked."""

    conn_id: str
    vendor: str = ""
    base_url: str = ""
    checks: list[Check] = field(default_factory=list)


class NotChecked(Exception):
    """Raised by a check (or an answer it needs) when there is nothing to check it on."""


class Blocked(Exception):
    """An answer a check needs failed earlier; ``cause`` is that failure, already reported once."""

    def __init__(self, name: str, cause: BaseException) -> None:
        super().__init__(name)
        self.name, self.cause = name, cause


class answer(Generic[A, T]):  # noqa: N801 - used like ``functools.cached_property``
    """A vendor answer on an ``Account``: fetched at first use and kept.

    A failure is kept as well, so a second check that needs it is told "blocked" instead of asking (and
    failing) again.
    """

    def __init__(self, fetch: Callable[[A], T]) -> None:
        self.fetch, self.name = fetch, fetch.__name__
        self.__doc__ = fetch.__doc__

    @overload
    def __get__(self, account: None, owner: type) -> answer[A, T]: ...

    @overload
    def __get__(self, account: A, owner: type) -> T: ...

    def __get__(self, account: A | None, owner: type) -> T | answer[A, T]:
        if account is None:
            return self
        memo: dict[str, tuple[bool, Any]] = account.__dict__.setdefault("_answers", {})
        if self.name not in memo:
            try:
                memo[self.name] = (True, self.fetch(account))
            except NotChecked:
                raise  # nothing failed: every check that needs it says the same, in its own line
            except Exception as error:
                memo[self.name] = (False, error)
                raise
        ok, value = memo[self.name]
        if ok:
            return value
        raise value if isinstance(value, Blocked) else Blocked(self.name, value)  # the root cause


class AccountAnswers(Generic[H]):
    """Base of a vendor's ``Account``: the hook its answers come from and the log that records them.

    :param hook: the vendor's hook on the checked connection
    :param log: every answer, for ``--record``
    """

    def __init__(self, hook: H, log: ResponseLog) -> None:
        self.hook, self.log = hook, log


def keys(value: Any) -> str:
    """Describe the shape of a JSON value: sorted keys of an object, or the length and item keys of a list."""
    if isinstance(value, dict):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    if isinstance(value, list):
        return f"list of {len(value)}" + (
            f" of {keys(value[0])}" if value and isinstance(value[0], dict) else ""
        )
    return type(value).__name__


def missing(present: Any, required: set[str]) -> str:
    """``"; missing [...]"`` for the required keys ``present`` lacks, else an empty string."""
    absent = sorted(required - set(present))
    return f"; missing {absent}" if absent else ""


# -- the runner ------------------------------------------------------------------------------------


def is_unreachable(error: BaseException) -> bool:
    """Tell whether the vendor did not answer usably even after the doctor's one retry.

    Then nothing can be learnt.
    """
    return isinstance(error, (TransientApiError, RateLimitError)) and not isinstance(
        error, MalformedResponseError
    )


def run_checks(
    vendor: ModuleType, hook: FlipbookBaseHook, log: ResponseLog, *, write_test: bool
) -> list[Check]:
    """Run one vendor module's checks against one hook, one line per check.

    :param vendor: the vendor's check module (``CHECKS``, ``WRITE_CHECKS``, ``Account``,
        ``credentials_refused``)
    :param hook: the vendor hook of the connection
    :param log: the :class:`~airflow_provider_flipbook.doctor.recording.ResponseLog` watching the hook
    :param write_test: also run the checks that create (and delete) something
    """
    name = hook.conn_type
    account = vendor.Account(hook, log)
    reported: dict[int, str] = {}  # id of a failure -> the check that reported it
    stopped: str | None = None  # after a refused credential or an unreachable vendor: why nothing runs
    results: list[Check] = []
    for check in vendor.CHECKS:
        check_id = f"{name}.{check.__name__}"
        if stopped is not None:
            results.append(Check(check_id, NOT_CHECKED, stopped))
            continue
        if check in vendor.WRITE_CHECKS and not write_test:
            results.append(Check(check_id, NOT_CHECKED, "needs --write-test"))
            continue
        try:
            outcome = check(account)
        except NotChecked as reason:
            outcome = not_checked(str(reason))
        except Blocked as blocked:
            where = reported.get(id(blocked.cause), "an earlier check")
            outcome = not_checked(f"needs {blocked.name}, which failed (see {where})")
        except Exception as error:
            reported[id(error)] = check_id
            accepted = any(r.status in (HOLDS, DIFFERS, REFUSED) for r in results)
            outcome, stopped = diagnose_error(vendor, hook, error, check_id, accepted=accepted)
        results.append(Check(check_id, outcome.status, outcome.seen))
    return results


def diagnose_error(
    vendor: ModuleType, hook: FlipbookBaseHook, error: BaseException, check_id: str, *, accepted: bool = False
) -> tuple[Outcome, str | None]:
    """One failure as one line with its advice; and, for a cause that stops every later check, why.

    :param accepted: an earlier call of this account got an answer (the credential is good)
    """
    if isinstance(error, VendorApiError) and (advice := vendor.account_refused(error, accepted)):
        return Outcome(REFUSED, f"the account refused: {str(error).rstrip('.')}. {advice}"), None
    if isinstance(error, VendorApiError) and (advice := vendor.credentials_refused(error)):
        return Outcome(
            ERROR, f"credentials refused: {str(error).rstrip('.')}. {advice}"
        ), "credentials refused"
    if is_unreachable(error):
        what = "unreachable" if getattr(error, "status", None) is None else "failing"
        return (
            Outcome(ERROR, f"{hook.vendor} is {what} at {hook.base_url}: {error}"),
            f"{hook.vendor} is {what} (see {check_id})",
        )
    if isinstance(error, VendorApiError):  # the vendor answered, not as assumed
        return differs(str(error)), None
    return Outcome(ERROR, f"{type(error).__name__}: {error}"), None  # a bug or a broken connection


# -- checks every vendor shares -----------------------------------------------------------------------


def announced_limits(hook: FlipbookBaseHook, headers: dict[str, str]) -> Outcome:
    """No rate-limit header announces less than the vendor's documented limit, which we pace at.

    :param hook: the vendor hook (its ``default_limits`` are the documented ones)
    :param headers: the rate-limit headers of every answer so far, lower-case names
    """
    limits = hook.default_limits  # as documented, before any speed-up or extra rate_limit
    documented = max(limit.calls if isinstance(limit, SlidingWindow) else limit.burst for limit in limits)
    described = ", ".join(
        f"{w.calls} per {w.period:g} s"
        if isinstance(w, SlidingWindow)
        else f"burst {w.burst} then {w.rate:g}/s"
        for w in limits
    )
    if not headers:
        return holds(f"no rate-limit headers; pacing at the documented {described}")
    names = ", ".join(sorted(headers))
    announced = [
        int(m.group()) for k, v in headers.items() if LIMIT_HEADER.search(k) and (m := re.search(r"\d+", v))
    ]
    if announced and min(announced) < documented:
        return differs(
            f"headers {names} announce a limit of {min(announced)} below the documented "
            f"{documented}: set the connection extra rate_limit"
        )
    return holds(f"headers seen: {names}; none announces less than the documented {documented}")


def two_pages(first: Sequence[Any], second: Sequence[Any], key: str, size: str, offset: str) -> Outcome:
    """Two pages of size 1: one item each, and different items (the offset is honoured)."""
    if len(first) != 1:
        return differs(f"{size} answered {len(first)} items: the page size is not honoured")
    if len(second) != 1:
        return differs(f"{offset} answered {len(second)} items though there are two or more")
    if first[0].get(key) == second[0].get(key):
        return differs(f"{offset} answered the same item as the first page: the offset is ignored")
    return holds(f"{size} gave one item, {offset} a different one")


def page_not_capped(
    fetch: Callable[[int, int], Sequence[Any]],
    size: int,
    what: str,
    total: int | None = None,
    observe: Callable[[int], None] | None = None,
) -> Outcome:
    """Check that a page of the size the hooks ask for is not silently cut shorter.

    The hooks end a list at the first short page, so a vendor capping pages below that size would make
    every list look shorter.

    :param fetch: ``fetch(offset, count)``, one page
    :param size: the page size the hook asks for
    :param what: the list, for the message
    :param total: the vendor's own count of the list, when it gives one
    :param observe: told the cap (the length of a short page) when the vendor caps pages
    """
    page = fetch(0, size)
    if not page:
        raise NotChecked(f"{what} is empty")
    if len(page) > size:
        return differs(f"{what}: asked for {size}, got {len(page)}: the page size is ignored")
    if len(page) == size:
        return holds(f"{what}: a page of {size} came back full")
    if total is not None:
        capped, seen = len(page) < total, f"{what}: a page of {size} gave {len(page)} of {total}"
    else:
        capped = bool(fetch(len(page), 1))
        seen = f"{what}: a page of {size} gave " + (
            f"{len(page)}, yet there are more" if capped else f"all {len(page)}"
        )
    if capped and observe is not None:
        observe(len(page))
    return verdict(
        not capped,
        seen + (": the vendor caps pages below the size asked; lists stop early" if capped else ""),
    )


@contextmanager
def tiny_pdf() -> Iterator[str]:
    """Write a one-page PDF in a temporary folder, removed afterwards."""
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    with tempfile.TemporaryDirectory(prefix="flipbook-doctor-") as folder:
        path = str(Path(folder) / "flipbook-doctor.pdf")
        make_sample_pdf(path, 1, "flipbook-doctor")
        yield path
