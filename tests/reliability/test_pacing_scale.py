"""The Redis pacing scope: one budget per credential across hosts, keys without the credential, and a
host-scope fallback (one warning per process) when Redis cannot be reached. Needs ``redis-server``:
installed from Debian's package when missing and possible; otherwise these tests skip, saying why."""

from __future__ import annotations

import json
import logging
import socket

import pytest

from airflow_provider_flipbook.hooks.papyrs import PapyrsHook
from airflow_provider_flipbook.utils.ratelimit import RedisPacer


@pytest.fixture(scope="module")
def redis_server():
    from benchmarks.common import RedisServer, RedisUnavailable

    try:
        server = RedisServer()
    except RedisUnavailable as error:
        pytest.skip(f"no Redis server for the redis pacing scope: {error}")
    yield server
    server.stop()


def papyrs_hook(sandbox, monkeypatch, redis_conn: str, **extras) -> PapyrsHook:
    monkeypatch.setenv("AIRFLOW_CONN_PACING_REDIS", redis_conn)
    conn = sandbox.connections()["papyrs"]
    conn = {
        **conn,
        "extra": {**conn["extra"], "pacing_scope": "redis", "pacing_redis_conn_id": "pacing_redis", **extras},
    }
    monkeypatch.setenv("AIRFLOW_CONN_PAPYRS_SCALE", json.dumps(conn))
    return PapyrsHook("papyrs_scale")


def test_two_hosts_share_one_budget_through_redis(redis_server):
    """Two processes with different temp directories (two "hosts") against the sandbox in reject mode:
    the Redis scope gets no 429; the host scope, which cannot see the other host, does."""
    from benchmarks.pacing import pacing_two_hosts

    pacing, rejections = pacing_two_hosts(per_host=6, speed=120)
    assert rejections.ours == 0, rejections
    assert rejections.baseline > 0, rejections  # the same run with the host scope: the test can fail
    assert "failed calls: 0 ours" in rejections.note
    assert pacing.ours >= 1.0  # never faster than the vendor's limit


def test_redis_keys_name_a_hash_never_the_credential(sandbox, monkeypatch, redis_server):
    import redis

    client = redis.Redis(port=redis_server.port)
    client.flushdb()
    hook = papyrs_hook(sandbox, monkeypatch, redis_server.connection)
    for _ in range(3):
        hook.list_pages()
    assert hook.pacer is not None and hook.pacer.shared.using_redis
    token = sandbox.connections()["papyrs"]["password"]
    keys = client.keys("*")
    assert len(keys) == 1 and keys[0].decode().startswith("airflow-provider-flipbook:pacing:papyrs-")
    members = client.zrange(keys[0], 0, -1)
    assert len(members) == 3  # the three calls are booked in Redis
    stored = b" ".join(keys + members).decode()
    assert token not in stored and token[-8:] not in stored


def test_unreachable_redis_falls_back_to_the_host_scope_with_one_warning(sandbox, monkeypatch, caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(RedisPacer, "warned", False)
    dead = json.dumps({"conn_type": "redis", "host": "127.0.0.1", "port": port})
    caplog.set_level(logging.WARNING)
    first = papyrs_hook(sandbox, monkeypatch, dead)
    second = papyrs_hook(sandbox, monkeypatch, dead, rate_limit="100/60")  # another pacer, same process
    for hook in (first, second, first):
        hook.list_pages()  # the task goes on, paced per host
    assert all(e.status == 200 for e in sandbox.requests("papyrs"))
    warnings = [r for r in caplog.records if "Redis pacing unavailable" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "pacing per host instead" in warnings[0].getMessage()
    assert first.pacer is not None and not first.pacer.shared.using_redis
