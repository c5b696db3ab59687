"""Persistent state of the emulated resource: SQLite in WAL mode plus files under the data folder.

::

    DATA_DIR/
      state.sqlite3          resources, jobs, usage records (this module)
      storage/, projects/    documents, imported data, models, exported models (``layout``)

Every resource (project, trained model, deployment, exported model) is a JSON document keyed by kind,
project and name: the service's own JSON shape is the schema, so a field is declared once, where it is
serialized. Each thread gets its own connection; writes are transactions with ``synchronous=FULL``, so
what was acknowledged survives a crash or ``kill -9``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL, project TEXT NOT NULL, name TEXT NOT NULL, created REAL NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, project, name));
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, project TEXT NOT NULL, scope TEXT NOT NULL, created REAL NOT NULL,
    status TEXT NOT NULL, body TEXT NOT NULL, input TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_scope ON jobs (kind, project, scope);
CREATE TABLE IF NOT EXISTS usage (
    id TEXT PRIMARY KEY, key_id TEXT NOT NULL, month TEXT NOT NULL, meter TEXT NOT NULL, quantity REAL NOT NULL,
    received REAL NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS usage_by_month ON usage (month, key_id, meter);
"""


class Store:
    """One data folder's database and file tree; safe to share between threads."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir).resolve()  # absolute: Flask's send_file reads relative paths from the package
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._path = self.data_dir / "state.sqlite3"
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._connection().executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            # check_same_thread=False only so that ``close`` may close every thread's connection; each is
            # still used by the one thread that opened it.
            db = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.row_factory = sqlite3.Row
            self._local.db = db
            with self._lock:
                self._opened.append(db)
        return db

    def close(self) -> None:
        """Close every thread's connection now, not whenever the garbage collector gets to them.

        Call it once no thread uses the store any more (the app's workers have stopped).
        """
        with self._lock:
            opened, self._opened = self._opened, []
        for db in opened:
            db.close()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``: writers queue instead of failing on upgrade)."""
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self._connection().execute(sql, params).fetchall()

    # resources ---------------------------------------------------------------------------------------

    def get(self, kind: str, project: str, name: str) -> dict[str, Any] | None:
        rows = self.query("SELECT body FROM resources WHERE kind=? AND project=? AND name=?", (kind, project, name))
        return json.loads(rows[0]["body"]) if rows else None

    def put(self, kind: str, project: str, name: str, body: dict[str, Any], *, created: float = 0.0) -> None:
        """Insert or replace; ``created`` orders listings and is kept when the resource is replaced."""
        self.modify(kind, project, name, lambda _: body, created=created)

    def modify(
        self,
        kind: str,
        project: str,
        name: str,
        change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
        *,
        created: float = 0.0,
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Read, change and write one resource in a single transaction; returns it before and after.

        Concurrent writers of the same resource (a PATCH and a training job stamping ``lastTrainedDateTime``)
        then never overwrite each other's change. ``change`` gets the stored body (None if absent) and returns
        the new one, or None to leave the resource as it is; an exception it raises aborts the write.
        """
        with self.transaction() as db:
            key = (kind, project, name)
            rows = db.execute("SELECT body FROM resources WHERE kind=? AND project=? AND name=?", key).fetchall()
            before = json.loads(rows[0]["body"]) if rows else None
            after = change(before)
            if after is not None:
                db.execute(
                    "INSERT INTO resources (kind, project, name, created, body) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (kind, project, name) DO UPDATE SET body=excluded.body",
                    (*key, created, json.dumps(after)),
                )
        return before, after

    def delete(self, kind: str, project: str, name: str) -> bool:
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM resources WHERE kind=? AND project=? AND name=?", (kind, project, name))
            return cursor.rowcount > 0

    def listing(self, kind: str, project: str = "") -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT body FROM resources WHERE kind=? AND project=? ORDER BY created, name", (kind, project)
        )
        return [json.loads(row["body"]) for row in rows]

    def delete_project(self, project: str) -> None:
        """Forget a project and everything in it: its resources and its jobs."""
        with self.transaction() as db:
            db.execute("DELETE FROM resources WHERE project=? OR (kind='project' AND name=?)", (project, project))
            db.execute("DELETE FROM jobs WHERE project=? AND kind != 'deletion'", (project,))

    # files -------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to an empty resource: no rows, no files (the database file itself stays open)."""
        with self.transaction() as db:
            for table in ("resources", "jobs", "usage"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - table names are constants above
        for child in self.data_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
