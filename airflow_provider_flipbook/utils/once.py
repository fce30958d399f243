"""Once per key: the first to ``claim`` a key acts; the scopes are the pacer's (``pacing_scope``).

* ``host`` (:class:`OnceStore`): a SQLite file in the temp directory (next to the host pacer's),
  written under SQLite's own lock (``BEGIN IMMEDIATE``), so task processes, the triggerer and
  ``airflow dags test`` of one host all see one table.
* ``redis`` (:class:`RedisOnceStore`): one Redis key per claim on the server of an Airflow Redis
  connection, set with ``NX`` (atomic), so every host of a deployment sees it: what a deployment with
  workers on several hosts sets for its pacing already. Airflow's own stores offer no such claim to
  tasks (variables, XComs and the 3.3 state stores are written last-writer-wins).

A claim whose holder neither finished nor gave up within ``ttl`` (a process killed mid-way) can be
taken over; a holder that fails ``release``-s it so the next one tries.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
import time
import uuid
from contextlib import closing
from typing import Any, Protocol

FOLDER = "airflow-provider-flipbook"
KEEP_DONE = 7 * 24 * 3600.0  # finished keys are forgotten after a week
log = logging.getLogger(__name__)


class Claims(Protocol):
    """What a caller of :func:`once_store` uses."""

    def claim(self, key: str, ttl: float) -> bool:
        """Claim ``key``: True for the one caller that may act on it now.

        :param key: what must happen once
        :param ttl: seconds after which an unfinished claim is taken over
        """

    def done(self, key: str) -> None:
        """Mark ``key`` as done for good.

        :param key: a key this caller claimed
        """

    def release(self, key: str) -> None:
        """Give a claim up (the action failed): the next caller may try.

        :param key: a key this caller claimed
        """


class OnceStore:
    """Claims keyed by a string, in one SQLite file.

    :param name: the file's name (one file per purpose)
    :param folder: where the file lives (default: a folder in the system's temp directory)
    """

    def __init__(self, name: str, folder: str | None = None) -> None:
        folder = folder or os.path.join(tempfile.gettempdir(), FOLDER)
        os.makedirs(folder, exist_ok=True)
        self.path = os.path.join(folder, f"{name}.sqlite")
        with closing(self._connect()) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, state TEXT NOT NULL, at REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30.0, isolation_level=None)

    def claim(self, key: str, ttl: float) -> bool:
        """Claim ``key``: True for the one caller that may act on it now.

        :param key: what must happen once
        :param ttl: seconds after which an unfinished claim is taken over
        """
        now = time.time()
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM claims WHERE state = 'done' AND at < ?", (now - KEEP_DONE,))
                row = db.execute("SELECT state, at FROM claims WHERE key = ?", (key,)).fetchone()
                if row is not None and (row[0] == "done" or now - row[1] < ttl):
                    return False
                db.execute("INSERT OR REPLACE INTO claims VALUES (?, 'claimed', ?)", (key, now))
                return True
            finally:
                db.execute("COMMIT")

    def done(self, key: str) -> None:
        """Mark ``key`` as done for good.

        :param key: a key this caller claimed
        """
        with closing(self._connect()) as db:
            db.execute("UPDATE claims SET state = 'done', at = ? WHERE key = ?", (time.time(), key))

    def release(self, key: str) -> None:
        """Give a claim up (the action failed): the next caller may try.

        :param key: a key this caller claimed
        """
        with closing(self._connect()) as db:
            db.execute("DELETE FROM claims WHERE key = ? AND state = 'claimed'", (key,))


class RedisOnceStore:
    """Claims as Redis keys (``SET NX`` with the ttl), shared by every host that reaches the server.

    :param name: the keys' prefix (one per purpose)
    :param client: a redis-py client
    """

    # Delete the claim only while it is still this holder's (not taken over after its ttl).
    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def __init__(self, name: str, client: Any) -> None:
        self.prefix, self.client = f"airflow-provider-flipbook:once:{name}:", client
        self.token = f"claimed:{uuid.uuid4().hex}"

    def claim(self, key: str, ttl: float) -> bool:
        """Claim ``key``: True for the one caller, on any host, that may act on it now.

        :param key: what must happen once (a hash: keys are visible to whoever reads the server)
        :param ttl: seconds after which an unfinished claim expires and may be taken over
        """
        return bool(self.client.set(self.prefix + key, self.token, nx=True, px=max(1, int(ttl * 1000))))

    def done(self, key: str) -> None:
        """Mark ``key`` as done for good (kept a week).

        :param key: a key this caller claimed
        """
        self.client.set(self.prefix + key, "done", ex=int(KEEP_DONE))

    def release(self, key: str) -> None:
        """Give a claim up (the action failed): the next caller may try.

        :param key: a key this caller claimed
        """
        self.client.eval(self._RELEASE, 1, self.prefix + key, self.token)


def once_store(name: str, scope: str = "host", redis_conn_id: str = "redis_default") -> Claims:
    """Return the claims of ``scope``: ``redis`` (every host), or else ``host``.

    ``redis`` falls back to the host's file, with a warning, when the server cannot be reached; the
    ``process`` scope claims per host too (a claim per process would post once per task).

    :param name: one store per purpose
    :param scope: the connection's ``pacing_scope``
    :param redis_conn_id: the Airflow Redis connection of the ``redis`` scope
    """
    if scope == "redis":
        try:
            from airflow.providers.redis.hooks.redis import RedisHook

            client = RedisHook(redis_conn_id=redis_conn_id).get_conn()
            client.connection_pool.connection_kwargs.update(socket_connect_timeout=3, socket_timeout=3)
            client.ping()
            return RedisOnceStore(name, client)
        except Exception as error:  # redis' errors, a missing connection or package
            log.warning(
                "Redis claims unavailable (%s: %s); claiming per host instead, so another host may "
                "act on the same key",
                type(error).__name__,
                error,
            )
    return OnceStore(name)
