from datetime import timedelta

import pytest

retry_policy = pytest.importorskip(
    "airflow.sdk.definitions.retry_policy", reason="task retry policies (AIP-105) arrive in Airflow 3.3"
)
RetryAction = retry_policy.RetryAction

from airflow_provider_flipbook.exceptions import (  # noqa: E402
    InvalidInputError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    TransientApiError,
    VendorApiError,
)
from airflow_provider_flipbook.retry import VendorRetryPolicy  # noqa: E402


def decide(error, policy=None):
    return (policy or VendorRetryPolicy()).evaluate(error, try_number=1, max_tries=3)


def test_rate_limit_with_a_hint_retries_after_it():
    decision = decide(RateLimitError("Papyrs", "pages.all", "slow", status=429, retry_after=45))
    assert decision.action == RetryAction.RETRY and decision.retry_delay == timedelta(seconds=45)
    capped = decide(RateLimitError("Papyrs", "pages.all", "slow", retry_after=99999), VendorRetryPolicy(600))
    assert capped.retry_delay == timedelta(seconds=600)


def test_refusals_and_bad_input_fail_at_once():
    assert decide(InvalidInputError("not a PDF")).action == RetryAction.FAIL
    assert (
        decide(VendorApiError("iPaper", "Paper.CreatePaper", "taken", code="ERROR")).action
        == RetryAction.FAIL
    )
    assert (
        decide(NotFoundError("FlippingBook", "publication.get", "gone", status=404)).action
        == RetryAction.FAIL
    )


def test_transient_faults_keep_the_tasks_own_retries():
    for error in (
        TransientApiError("Flipsnack", "x", "503", status=503),
        MalformedResponseError("iPaper", "x", "no code"),
        RateLimitError("FlippingBook", "x", "429"),
        RuntimeError("anything else"),
    ):
        assert decide(error).action == RetryAction.DEFAULT


def test_round_trip():
    assert VendorRetryPolicy.deserialize(VendorRetryPolicy(120).serialize()).max_delay_seconds == 120
