"""Exactly once: when a creating call may be resent, and how a lost answer is reconciled.

The transport (:meth:`~airflow_provider_flipbook.hooks.base.FlipbookBaseHook._request`) resends a
creating call only when :func:`safe_to_resend` says the vendor provably did nothing; otherwise the
caller gets :class:`~airflow_provider_flipbook.exceptions.OutcomeUnknownError`, and
:meth:`CreatesOnce.create_once` looks for what the call would have made before it sends it again.
With a :class:`Journal` (the task state store), what existed before and when the first attempt
began are written down first, so a retried task that died waiting for the answer adopts instead of
creating again, however late the retry comes.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

import requests
import urllib3

from airflow_provider_flipbook.exceptions import OutcomeUnknownError, RateLimitError, VendorApiError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

T = TypeVar("T")
K = TypeVar("K")


def never_sent(error: requests.RequestException) -> bool:
    """Whether the request provably never left: no connection (refused, unresolvable, connect timeout).

    :param error: what requests raised
    """
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason: Any = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, urllib3.exceptions.NewConnectionError)  # NameResolutionError is one too


def safe_to_resend(error: VendorApiError) -> bool:
    """Tell whether a creating call may be resent blindly: only if the vendor provably did nothing.

    That is, the request never left, or the vendor refused it for its rate (429, its own rate-limit
    code, 503 with Retry-After).

    :param error: the failed attempt
    """
    if isinstance(error, RateLimitError) or getattr(error, "unsent", False):
        return True
    return error.status == 503 and error.retry_after is not None


def repeatable_failure(error: VendorApiError) -> tuple[Any, ...] | None:
    """Tell a vendor's own 500 answer (not a gateway's): the same one twice will not heal by retrying.

    :param error: the failed attempt
    """
    if error.status != 500 or "HTML page" in error.message:
        return None
    return (error.status, error.code, error.message)


class Journal(Protocol):
    """What :meth:`CreatesOnce.create_once` needs of the task state store."""

    def get(self, key: str) -> Any:
        """Return the value stored under ``key``, or None.

        :param key: the entry's name.
        """

    def set(self, key: str, value: Any) -> Any:
        """Store ``value`` (JSON) under ``key``.

        :param key: the entry's name.
        :param value: what to store.
        """


class Attempt(NamedTuple):
    """What the first attempt of a create wrote down before sending it."""

    known: list[str]  # the identities (as keys) that existed before: not ours
    started: float | None  # when it began (epoch seconds, our clock); None in entries of older releases


def _key(identity: Any) -> str:
    """Write an identity as text, the same before and after a trip through the state store's JSON."""
    return json.dumps(identity, default=str)


def _journal_entry(operation: str, describe: str) -> str:
    return f"flipbook_create_{hashlib.sha256(f'{operation} {describe}'.encode()).hexdigest()[:16]}"


class CreatesOnce:
    """The hook's ``create_once`` and ``journaled``; mixed into the transport's base hook."""

    journal: Journal | None = None  # where create_once writes down what it is about to create

    def _now(self) -> float:
        """Return the wall clock (epoch seconds) that dates a create's first attempt; tests swap it."""
        return time.time()

    if TYPE_CHECKING:  # what it uses of the transport (FlipbookBaseHook)
        _sleep: Callable[[float], None]

        @property
        def log(self) -> Any:  # noqa: D102 - declared for the type checker, see FlipbookBaseHook
            ...  # the hook's logger (its type differs between Airflow versions)

        @property
        def max_retries(self) -> int: ...  # noqa: D102

        def error(self, operation: str, message: str, **kwargs: Any) -> VendorApiError: ...  # noqa: D102

        def _backoff(self, attempt: int) -> float: ...

    def create_once(  # noqa: C901 - one loop over look, send, adopt; its states are in the docstring
        self,
        operation: str,
        create: Callable[[], T],
        *,
        lookup: Callable[[], Iterable[K]],
        identity: Callable[[K], Any],
        adopt: Callable[[list[K]], T],
        describe: str,
        several: bool = False,
        before: Iterable[Any] | None = None,
        created: Callable[[K], float | None] | None = None,
        clock_skew: float = 0.0,
    ) -> T:
        """Run a creating call so that it takes effect once, also when its answer is lost.

        ``lookup`` lists what the vendor holds under the call's natural key (a name, a title, a
        URL, the widgets of a page); what it lists before the call is not ours. After an answer is
        lost, the new objects are adopted; none means nothing was created, so the call is sent
        again. One call makes one object unless ``several``: two new ones then cannot be told apart
        from a colleague's, and the task fails naming them rather than guessing.

        ``created`` serves a vendor whose list is not taken before the call (``before=[]``): objects
        made before the first attempt of this create (less ``clock_skew``) are not ours, whenever the
        lookup runs. That bound is fixed once, at the first attempt: in the ``journal`` when there is
        one (so a retry minutes later still finds what the lost call made), else for this call.

        With a ``journal`` (the task state store), what existed before and when the first attempt began
        are written down before the call is sent, so a retry of a task that died waiting for the
        answer looks before it sends.

        :param operation: the call's name, for messages and the journal
        :param create: sends the call once (``creates=True``)
        :param lookup: what the vendor holds under the call's natural key
        :param identity: one listed object's identity (JSON-able)
        :param adopt: the result from the new objects found after a lost answer
        :param describe: the natural key, in words (also keys the journal entry)
        :param several: one call may make several objects
        :param before: the identities the caller already knows exist (saves the first lookup)
        :param created: a listed object's creation time (epoch seconds, the vendor's clock; None if
            it carries none, which fails a reconciliation naming it)
        :param clock_skew: how far our clock may run ahead of the vendor's, in seconds
        """
        entry = _journal_entry(operation, describe)
        earlier = self.journaled(operation, describe)
        sent = earlier is not None  # an earlier try may have sent it: look before sending
        if earlier is not None:
            known, started = set(earlier.known), earlier.started
        else:
            known = (
                {_key(value) for value in before}
                if before is not None
                else {_key(identity(x)) for x in lookup()}
            )
            started = self._now()
            if self.journal is not None:
                self.journal.set(entry, {"known": sorted(known), "started": started})
        if started is None:  # an entry from a release that did not date it: as that release did
            started = self._now()

        def made_since_the_first_attempt() -> list[K]:
            new = [item for item in lookup() if _key(identity(item)) not in known]
            if created is None:
                return new
            if undated := [str(identity(item)) for item in new if created(item) is None]:
                raise self.error(
                    operation,
                    f"the answer was lost, and {undated} matching {describe} carry no creation time "
                    "to tell whether one is ours: check them",
                )
            return [item for item in new if (created(item) or 0.0) >= started - clock_skew]

        attempts, last = self.max_retries + 1, None
        for number in range(1, attempts + 1):
            new = made_since_the_first_attempt() if sent else []
            if len(new) > 1 and not several:
                found = sorted(str(identity(item)) for item in new)
                raise self.error(
                    operation,
                    f"the answer was lost and {len(new)} new objects match {describe}: "
                    f"{found}; check which one is ours",
                )
            if new:
                self.log.warning(
                    "%s may have been done by an earlier attempt: found it at the vendor (%s: %s); "
                    "adopting it",
                    operation,
                    describe,
                    [identity(item) for item in new],
                )
                result = adopt(new)
                break
            try:
                result = create()
                break
            except OutcomeUnknownError as error:
                sent = True
                fingerprint = repeatable_failure(error)
                if fingerprint is not None and fingerprint == last:
                    raise self.error(
                        operation,
                        f"{error.message} (the same answer again; nothing was created)",
                        status=error.status,
                        code=error.code,
                    ) from None
                if number == attempts:
                    raise
                last = fingerprint
                self.log.warning(
                    "%s; looking for it at the vendor (%s) before sending it again, %s of %s",
                    error,
                    describe,
                    number,
                    self.max_retries,
                )
                self._sleep(self._backoff(number))
        if self.journal is not None:
            self.journal.set(entry, {})
        return result

    def journaled(self, operation: str, describe: str) -> Attempt | None:
        """Return what an earlier try of this task wrote down before sending this call; None if nothing.

        :param operation: the call's name, as given to :meth:`create_once`
        :param describe: the natural key, as given to :meth:`create_once`
        """
        entry = self.journal.get(_journal_entry(operation, describe)) if self.journal is not None else None
        return Attempt(list(entry["known"]), entry.get("started")) if entry else None
