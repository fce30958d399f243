"""OnceStore: the claim PapyrsNotifier uses to post once per DAG run across processes."""

from airflow_provider_flipbook.utils.once import OnceStore


def test_one_claim_per_key_released_on_failure_taken_over_when_stale_and_final_when_done(tmp_path):
    store, other = OnceStore("t", folder=str(tmp_path)), OnceStore("t", folder=str(tmp_path))
    assert store.claim("run-1", ttl=600) is True
    assert other.claim("run-1", ttl=600) is False  # another process: already claimed
    assert other.claim("run-2", ttl=600) is True  # keys are independent
    store.release("run-1")  # the post failed: the next one may try
    assert other.claim("run-1", ttl=600) is True
    assert store.claim("run-1", ttl=0) is True  # a claim older than ttl (its holder died) is taken over
    store.done("run-1")
    assert other.claim("run-1", ttl=0) is False  # done is final, however old
    store.release("run-1")  # releasing a finished key changes nothing
    assert other.claim("run-1", ttl=0) is False
