"""Where pacing is stored and who shares it: one pacer per vendor, endpoint and credential.

The pacers themselves (limits, booking, waiting) are in :mod:`~airflow_provider_flipbook.utils.ratelimit`;
this module picks their storage from the connection's ``pacing_scope`` and keeps one per process:

* ``process``: pyrate-limiter's in-memory bucket;
* ``host`` (the default): its SQLite bucket in a file in the temp directory, shared by every process
  on the machine (LocalExecutor workers, the triggerer, ``airflow dags test``);
* ``redis``: its Redis bucket on the server of an Airflow Redis connection, shared by every host;
  while Redis cannot be reached the process paces with the ``host`` scope instead.

A bucket shared by processes is booked under a lock across them (a file lock, a Redis lock): see
:class:`~airflow_provider_flipbook.utils.ratelimit.BucketPacer` for the overbooking it prevents.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import tempfile
import threading
import weakref
from typing import TYPE_CHECKING

from airflow_provider_flipbook.utils.ratelimit import (
    BucketPacer,
    HookPacer,
    Limit,
    Pacer,
    RedisPacer,
    parse_limit,
    rates,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

# 2 % slower than the limit: the server counts arrivals, and the first request of a window may arrive
# later than the last one (connection set-up), which would look like a burst.
PACING_MARGIN = 1.02

# How often a booking that found the host's booking lock held asks again. filelock's default, 50 ms,
# is fifty times what a booking holds it (about a millisecond): a process whose booking met another's
# (the triggerer's poll and an upload) slept 50 ms for nothing, 5 vendor s at the benchmarks' speed.
BOOKING_POLL_SECONDS = 0.001

_pacers: dict[tuple, Pacer] = {}
_pacers_lock = threading.Lock()


def paced_limits(documented: Sequence[Limit], rate_limit: str | None, speed: float) -> tuple[Limit, ...]:
    """Return the limits a hook paces to.

    The vendor's documented ones, or the connection's ``rate_limit`` override (``"calls/seconds"``),
    sped up by ``pacing_speed`` and slowed by :data:`PACING_MARGIN`.

    :param documented: the vendor's documented limits.
    :param rate_limit: the connection's override, or None.
    :param speed: the connection's ``pacing_speed`` (the sandbox's ``--speed``; 1 for a real vendor).
    """
    limits = (parse_limit(rate_limit),) if rate_limit else tuple(documented)
    return tuple(limit.scaled(speed / PACING_MARGIN) for limit in limits)


def host_pacer(name: str, limits: Sequence[Limit]) -> Pacer:
    """Make a pacer on pyrate-limiter's SQLite bucket in the temp directory, booked under a file lock.

    Every process on this host shares it.

    :param name: the file's name (a hash of the credential, never the credential).
    :param limits: the limits to pace to.
    """
    from filelock import FileLock
    from pyrate_limiter import SQLiteBucket

    folder = os.path.join(tempfile.gettempdir(), "airflow-provider-flipbook-pacing")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.sqlite")
    bucket = SQLiteBucket.init_from_file(rates(limits), table="pacing", db_path=path, use_file_lock=True)
    booking = FileLock(f"{path}.booking.lock")
    return BucketPacer(limits, bucket, serialize=lambda: booking.acquire(poll_interval=BOOKING_POLL_SECONDS))


def redis_pacer(name: str, limits: Sequence[Limit], redis_conn_id: str) -> Pacer:
    """Make a pacer on pyrate-limiter's Redis bucket on the server of an Airflow Redis connection.

    The Redis provider's connection; booked under a Redis lock (redis-py's) so that every host's clock
    reading and booking are ordered.

    :param name: the key's suffix (a hash of the credential, never the credential).
    :param limits: the limits to pace to.
    :param redis_conn_id: the Airflow Redis connection.
    """
    from airflow.providers.redis.hooks.redis import RedisHook
    from pyrate_limiter import RedisBucket

    client = RedisHook(redis_conn_id=redis_conn_id).get_conn()
    # Fail fast when the server is away (the host scope takes over) instead of hanging a task.
    client.connection_pool.connection_kwargs.update(socket_connect_timeout=3, socket_timeout=3)
    key = f"airflow-provider-flipbook:pacing:{name}"
    bucket = RedisBucket.init(rates(limits), client, key)
    return BucketPacer(
        limits, bucket, serialize=lambda: client.lock(f"{key}:booking", timeout=10, blocking_timeout=10)
    )


def shared_pacer(
    key: tuple, limits: Sequence[Limit], scope: str = "host", redis_conn_id: str = "redis_default"
) -> Pacer:
    """Return the one pacer of this process for ``key`` and ``scope``, made on first use.

    :param key: vendor, endpoint, a hash of the credential, the limits; files and Redis keys are named
        by a hash of it.
    :param limits: the limits to pace to.
    :param scope: ``process``, ``host`` or ``redis`` (who shares the budget).
    :param redis_conn_id: the Airflow Redis connection of the ``redis`` scope.
    """
    name = f"{str(key[0]).lower()}-{hashlib.sha256(repr(key).encode()).hexdigest()[:24]}"
    with _pacers_lock:
        cache_key = (key, scope, redis_conn_id if scope == "redis" else "")
        if cache_key not in _pacers:
            if scope == "redis":
                _pacers[cache_key] = RedisPacer(
                    limits,
                    lambda: redis_pacer(name, limits, redis_conn_id),
                    lambda: shared_pacer(key, limits, "host"),
                )
            elif scope == "host":
                _pacers[cache_key] = host_pacer(name, limits)
            else:
                _pacers[cache_key] = BucketPacer(limits)
        return _pacers[cache_key]


def hook_pacer(
    key: tuple,
    limits: Sequence[Limit],
    sleep: Callable[[float], None],
    scope: str = "host",
    redis_conn_id: str = "redis_default",
) -> HookPacer:
    """Return the shared pacer for ``key`` seen through one hook, which waits with ``sleep``.

    :param key: see :func:`shared_pacer`.
    :param limits: the limits to pace to.
    :param sleep: the hook's sleep (tests and triggers replace it).
    :param scope: see :func:`shared_pacer`.
    :param redis_conn_id: see :func:`shared_pacer`.
    """
    return HookPacer(shared_pacer(key, limits, scope, redis_conn_id), _held_weakly(sleep))


def _held_weakly(sleep: Callable[[float], None]) -> Callable[[float], None]:
    """Return a hook's bound ``sleep`` holding the hook weakly.

    The hook holds its pacer: a pacer holding the hook made a cycle, which left each finished wait's
    hook, session and connection pool (about 45 objects) to a full collection of the triggerer's heap.
    """
    if not inspect.ismethod(sleep):
        return sleep
    method = weakref.WeakMethod(sleep)

    def held(seconds: float) -> None:
        bound = method()
        if bound is None:  # the pacer outlived its hook: nothing is left to pace
            raise ReferenceError("the hook this pacer waited for is gone")
        bound(seconds)

    return held
