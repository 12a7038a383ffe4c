"""Model answers kept on disk, so a second run over the same data asks the model nothing.

One SQLite table under `$ADPILOT_HOME`: every write is one transaction, and two processes may read and
write it at once (WAL, and a busy timeout instead of "database is locked").
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def cache_key(*parts: Any) -> str:
    """A stable key for an answer: the question and everything the answer depends on (model, profile, versions)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


class AnswerCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS answers (kind TEXT NOT NULL, key TEXT NOT NULL, answer TEXT NOT NULL, "
                "PRIMARY KEY (kind, key))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60.0)

    def get_many(self, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        connection = self._connect()
        try:
            for start in range(0, len(wanted), 500):  # below SQLite's limit on bound parameters
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, answer FROM answers WHERE kind = ? AND key IN ({marks})", [kind, *chunk]
                )
                found.update((key, json.loads(answer)) for key, answer in rows)
        finally:
            connection.close()
        return found

    def put_many(self, kind: str, answers: dict[str, dict[str, Any]]) -> None:
        if not answers:
            return
        connection = self._connect()
        try:
            with connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO answers (kind, key, answer) VALUES (?, ?, ?)",
                    [(kind, key, json.dumps(answer, ensure_ascii=False)) for key, answer in answers.items()],
                )
        finally:
            connection.close()
