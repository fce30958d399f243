"""A task-level retry policy (Airflow 3.3+, AIP-105) for this provider's errors.

The hooks already retry transient faults within a task. When those retries run out, this policy
decides what the *task's* next try should be:

* a rate-limit error with a ``Retry-After`` hint retries after that hint (capped), instead of the
  task's fixed ``retry_delay``, so a long cooldown does not burn a try early;
* bad input and a vendor's refusal (HTTP 4xx other than 429, or an error code in a 200 answer)
  fail at once: the next try would send the same request and get the same answer;
* everything else (5xx, timeouts, dropped connections, malformed answers) keeps the task's own
  ``retries`` and ``retry_delay``.

Use it per task or in ``default_args``: ``retry_policy=VendorRetryPolicy()``. Code that must also run
below Airflow 3.3 (where there are no retry policies) uses ``**vendor_retry_policy_args()`` instead:
the policy on 3.3+, nothing below, so the task's own ``retries`` and ``retry_delay`` apply.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow_provider_flipbook._compat import AIRFLOW_VERSION, HAS_RETRY_POLICY
from airflow_provider_flipbook.exceptions import (
    InvalidInputError,
    MalformedResponseError,
    RateLimitError,
    TransientApiError,
    VendorApiError,
)


def vendor_retry_policy_args(max_delay_seconds: float = 3600.0) -> dict[str, Any]:
    """``{"retry_policy": VendorRetryPolicy(...)}`` on Airflow 3.3+, ``{}`` below: for ``default_args``."""
    return {"retry_policy": VendorRetryPolicy(max_delay_seconds)} if HAS_RETRY_POLICY else {}


def __getattr__(name: str) -> Any:
    if name == "VendorRetryPolicy":  # only reached where the class below was not defined
        raise ImportError(
            f"VendorRetryPolicy needs Airflow 3.3+ (task retry policies); this is Airflow "
            f"{AIRFLOW_VERSION}: use **vendor_retry_policy_args() in default_args instead"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if HAS_RETRY_POLICY:  # Airflow 3.3+; below there is no base class to build on
    from airflow.sdk.definitions.retry_policy import RetryDecision, RetryPolicy

    class VendorRetryPolicy(RetryPolicy):
        """Retry after the vendor's Retry-After; fail refusals and bad input at once.

        The rest is left to the task's ``retries``.

        :param max_delay_seconds: the longest wait a vendor's Retry-After may ask for.
        """

        def __init__(self, max_delay_seconds: float = 3600.0) -> None:
            self.max_delay_seconds = max_delay_seconds

        def evaluate(
            self, exception: BaseException, try_number: int, max_tries: int, context: Any = None
        ) -> RetryDecision:
            """Retry after Retry-After, fail a refusal or bad input now, default otherwise.

            :param exception: what the try raised.
            :param try_number: the try that failed.
            :param max_tries: the task's tries.
            :param context: the task context.
            """
            if isinstance(exception, RateLimitError) and exception.retry_after:
                delay = min(exception.retry_after, self.max_delay_seconds)
                return RetryDecision.retry(
                    timedelta(seconds=delay), reason=f"{exception.vendor} asked to wait {delay:g} s"
                )
            if isinstance(exception, InvalidInputError):
                return RetryDecision.fail(reason="bad input: another try would fail the same way")
            if isinstance(exception, VendorApiError) and not isinstance(
                exception, (TransientApiError, RateLimitError, MalformedResponseError)
            ):
                return RetryDecision.fail(
                    reason=f"{exception.vendor} refused the request ({exception.code or exception.status})"
                )
            return RetryDecision.default()

        def serialize(self) -> dict[str, Any]:
            """Return the policy's arguments, as JSON."""
            return {"max_delay_seconds": self.max_delay_seconds}

        @classmethod
        def deserialize(cls, data: dict[str, Any]) -> VendorRetryPolicy:
            """Rebuild the policy :meth:`serialize` describes.

            :param data: what :meth:`serialize` returned.
            """
            return cls(**data)
