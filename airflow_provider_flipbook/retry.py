"""A task-level retry policy (Airflow 3.3, AIP-105) for this provider's errors.

The hooks already retry transient faults within a task. When those retries run out, this policy
decides what the *task's* next try should be:

* a rate-limit error with a ``Retry-After`` hint retries after that hint (capped), instead of the
  task's fixed ``retry_delay``, so a long cooldown does not burn a try early;
* bad input and a vendor's refusal (HTTP 4xx other than 429, or an error code in a 200 answer)
  fail at once: the next try would send the same request and get the same answer;
* everything else (5xx, timeouts, dropped connections, malformed answers) keeps the task's own
  ``retries`` and ``retry_delay``.

Use it per task or in ``default_args``: ``retry_policy=VendorRetryPolicy()``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk.definitions.retry_policy import RetryDecision, RetryPolicy

from airflow_provider_flipbook.exceptions import (
    InvalidInputError,
    MalformedResponseError,
    RateLimitError,
    TransientApiError,
    VendorApiError,
)


class VendorRetryPolicy(RetryPolicy):
    def __init__(self, max_delay_seconds: float = 3600.0) -> None:
        self.max_delay_seconds = max_delay_seconds

    def evaluate(self, exception: BaseException, try_number: int, max_tries: int,
                 context: Any = None) -> RetryDecision:
        if isinstance(exception, RateLimitError) and exception.retry_after:
            delay = min(exception.retry_after, self.max_delay_seconds)
            return RetryDecision.retry(timedelta(seconds=delay), reason=f"{exception.vendor} asked to wait {delay:g} s")
        if isinstance(exception, InvalidInputError):
            return RetryDecision.fail(reason="bad input: another try would fail the same way")
        if isinstance(exception, VendorApiError) and not isinstance(
                exception, (TransientApiError, RateLimitError, MalformedResponseError)):
            return RetryDecision.fail(reason=f"{exception.vendor} refused the request ({exception.code or exception.status})")
        return RetryDecision.default()

    def serialize(self) -> dict[str, Any]:
        return {"max_delay_seconds": self.max_delay_seconds}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> VendorRetryPolicy:
        return cls(**data)
