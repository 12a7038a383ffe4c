"""Derived data kept next to the search terms it comes from: summed terms, clusters, intents.

Each command is a fresh process; without this, each one re-reads a million rows and re-derives what the last
one built. A result is stored under (account, kind, key), where the key hashes the parameters and the code
that computed it, and is valid only while the account's search terms are unchanged: the fingerprint is the
account's set of source sha256s with its row count and last rowid, so any import invalidates it.

Results are pickled into a BLOB in the store, written in one transaction. Two processes may compute the
same result at once; both write the same value and the later one wins. The store is the user's own file,
like the LangGraph checkpoints (also pickles), so unpickling it trusts nothing a stranger wrote.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sandbox.store import SandboxStore

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS derived_data (
    account TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (account, kind, key)
)
"""


class DerivedStore:
    """One account's derived data in a `SandboxStore`. `computed` lists the kinds this instance had to compute."""

    def __init__(self, store: SandboxStore, account: str) -> None:
        self._store = store
        self._account = account
        self.computed: list[str] = []
        self.reused: list[str] = []

    def fingerprint(self) -> str:
        """Changes whenever search terms are added to (or removed from) the account."""
        with self._store._connection() as conn:
            sources = [
                s for (s,) in conn.execute("SELECT source FROM search_term_sources WHERE account = ?", (self._account,))
            ]
            rows, last = conn.execute(
                "SELECT COUNT(*), MAX(rowid) FROM search_terms WHERE account = ?", (self._account,)
            ).fetchone()
        return _digest(sources, rows, last)

    def get_or_compute(
        self, kind: str, parameters: tuple[Any, ...], compute: Callable[[], T], *, code: Callable[..., Any]
    ) -> T:
        """The stored result for these parameters if the search terms are unchanged, else `compute()`, stored.

        `code` is the analysis `compute` runs: its module's source is part of the key."""
        key = _digest(parameters, _code_version(code))
        fingerprint = self.fingerprint()
        with self._store._connection() as conn:
            try:
                row = conn.execute(
                    "SELECT data FROM derived_data WHERE account = ? AND kind = ? AND key = ? AND fingerprint = ?",
                    (self._account, kind, key, fingerprint),
                ).fetchone()
            except sqlite3.OperationalError as error:  # no such table: nothing derived in this store yet
                if "no such table" not in str(error):
                    raise
                row = None
        if row is not None:
            self.reused.append(kind)
            return pickle.loads(row[0])
        value = compute()
        self.computed.append(kind)
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._store.transaction() as conn:
            conn.execute(_SCHEMA)
            if self.fingerprint() != fingerprint:
                return value  # a report was imported meanwhile: this result is already stale, keep it out
            conn.execute(
                "DELETE FROM derived_data WHERE account = ? AND fingerprint != ?", (self._account, fingerprint)
            )
            conn.execute(
                "INSERT OR REPLACE INTO derived_data (account, kind, key, fingerprint, data) VALUES (?, ?, ?, ?, ?)",
                (self._account, kind, key, fingerprint, blob),
            )
        return value

    def stored_kinds(self) -> list[str]:
        """The kinds stored for the account, valid or not (for tests and the benchmark)."""
        with self._store._connection() as conn:
            try:
                return [k for (k,) in conn.execute("SELECT kind FROM derived_data WHERE account = ?", (self._account,))]
            except sqlite3.OperationalError:
                return []


def _digest(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _code_version(code: Callable[..., Any]) -> str:
    """A hash of the analysis' source file, so a changed analysis never reads an old result."""
    module = sys.modules.get(getattr(code, "__module__", "") or "")
    path = getattr(module, "__file__", None)
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else ""
