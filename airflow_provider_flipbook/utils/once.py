"""Once per key, across every process of this host: the first to :meth:`OnceStore.claim` a key acts.

A SQLite file in the temp directory (next to the host pacer's), written under SQLite's own lock
(``BEGIN IMMEDIATE``), so task processes, the triggerer and ``airflow dags test`` all see one table.
A claim whose holder neither finished nor gave up within ``ttl`` (a process killed mid-way) can be
taken over; a holder that fails :meth:`release`-s it so the next one tries.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from contextlib import closing

FOLDER = "airflow-provider-flipbook"
KEEP_DONE = 7 * 24 * 3600.0  # finished keys are forgotten after a week


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
