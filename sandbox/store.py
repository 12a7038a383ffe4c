"""The offline sandbox: a SQLite store of ad accounts, and `SandboxAccount`, an `AdAccount` backed by it.

Entities are kept as JSON, one row per (account, kind, id), with real columns for what is queried
(ids, parents). Daily metrics and search terms are real tables, read with pandas.

Every write is a transaction. `SandboxStore.transaction()` nests: an inner `with` joins the
transaction already open on the same thread, so callers (the generator, `apply`) can compose
several writes into one all-or-nothing unit. Each operation opens its own connection, so a store
may be shared by the threads of a local API emulator.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pandas as pd

from ads.account import ApplyResult, ReadBack
from ads.account_plan import AdvertiserProfile
from ads.ad_copy import rsa_problems
from ads.changes import (
    AddCreativeVariants,
    AddNegativeKeywords,
    Change,
    CreateAdGroup,
    CreateSharedNegativeList,
    PauseEntity,
    ReallocateBudget,
    RemoveNegativeKeywords,
    RemoveSharedNegativeList,
    SetBudget,
)
from ads.entities import (
    AD_METRIC_COLUMNS,
    ASSET_LABEL_COLUMNS,
    DAILY_METRIC_COLUMNS,
    SEARCH_TERM_COLUMNS,
    Account,
    AccountEntity,
    AccountStructure,
    Ad,
    AdGroup,
    Budget,
    Campaign,
    Keyword,
    MatchType,
    NegativeKeyword,
    Platform,
    ReportPeriod,
    ResponsiveSearchAdCopy,
    SharedNegativeList,
    Status,
)
from ads.errors import ReadOnlyAccountError, SandboxMissingError, UnknownAccountError
from ads.keyword_matching import keyword_problems, normalise
from ads.limits import limit

STORE_MARKER = "adpilot-sandbox"
SCHEMA_VERSION = "1"
# Sandbox ids are numeric strings like Google's and Meta's; start high so they never look like account ids.
FIRST_ID = 100_000_000_001

_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS id_sequence (next_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entities (
    account TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, parent_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (account, kind, id)
);
CREATE INDEX IF NOT EXISTS entities_by_parent ON entities (account, kind, parent_id);
CREATE TABLE IF NOT EXISTS daily_metrics (
    account TEXT NOT NULL, date TEXT NOT NULL, campaign_id TEXT NOT NULL, ad_group_id TEXT NOT NULL,
    impressions INTEGER NOT NULL, clicks INTEGER NOT NULL, cost INTEGER NOT NULL,
    conversions REAL NOT NULL, conversion_value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS daily_metrics_by_date ON daily_metrics (account, date);
CREATE TABLE IF NOT EXISTS search_terms (
    account TEXT NOT NULL, start TEXT NOT NULL, "end" TEXT NOT NULL, source TEXT NOT NULL,
    search_term TEXT NOT NULL, campaign_id TEXT NOT NULL, campaign_name TEXT NOT NULL,
    ad_group_id TEXT NOT NULL, ad_group_name TEXT NOT NULL, keyword TEXT NOT NULL, match_type TEXT NOT NULL,
    impressions INTEGER NOT NULL, clicks INTEGER NOT NULL, cost INTEGER NOT NULL,
    conversions REAL NOT NULL, conversion_value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS search_terms_by_period ON search_terms (account, start, "end");
CREATE TABLE IF NOT EXISTS search_term_sources (
    account TEXT NOT NULL, source TEXT NOT NULL, rows INTEGER NOT NULL,
    has_conversions INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (account, source)
);
CREATE TABLE IF NOT EXISTS brand_kit_files (
    account TEXT NOT NULL, path TEXT NOT NULL, content BLOB NOT NULL, PRIMARY KEY (account, path)
);
CREATE TABLE IF NOT EXISTS brand_kit_index (digest TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS advertiser_profiles (account TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ad_metrics (
    account TEXT NOT NULL, date TEXT NOT NULL, campaign_id TEXT NOT NULL, ad_group_id TEXT NOT NULL,
    ad_id TEXT NOT NULL,
    impressions INTEGER NOT NULL, clicks INTEGER NOT NULL, cost INTEGER NOT NULL,
    conversions REAL NOT NULL, conversion_value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ad_metrics_by_date ON ad_metrics (account, date);
CREATE TABLE IF NOT EXISTS asset_labels (
    account TEXT NOT NULL, ad_group_id TEXT NOT NULL, ad_id TEXT NOT NULL, field_type TEXT NOT NULL,
    text TEXT NOT NULL, performance_label TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ground_truth (
    account TEXT NOT NULL, search_term TEXT NOT NULL, theme TEXT NOT NULL, is_waste INTEGER NOT NULL,
    waste_kind TEXT NOT NULL, is_brand INTEGER NOT NULL, is_injection INTEGER NOT NULL,
    PRIMARY KEY (account, search_term)
);
"""

GROUND_TRUTH_COLUMNS: tuple[str, ...] = (
    "search_term",
    "theme",
    "is_waste",
    "waste_kind",
    "is_brand",
    "is_injection",
)
WASTE_KINDS: tuple[str, ...] = ("", "jobs", "free", "diy", "wrong_product", "competitor")

# kind name in the table -> (model, the field that names its parent)
ENTITY_KINDS: dict[str, tuple[type[AccountEntity], str | None]] = {
    "campaign": (Campaign, None),
    "budget": (Budget, None),
    "ad_group": (AdGroup, "campaign_id"),
    "keyword": (Keyword, "ad_group_id"),
    "negative": (NegativeKeyword, "owner_id"),
    "shared_list": (SharedNegativeList, None),
    "ad": (Ad, "ad_group_id"),
}
E = TypeVar("E", bound=AccountEntity)
_KIND_OF_MODEL = {model: kind for kind, (model, _) in ENTITY_KINDS.items()}
# AccountStructure field for each kind
_STRUCTURE_FIELD = {
    "campaign": "campaigns",
    "budget": "budgets",
    "ad_group": "ad_groups",
    "keyword": "keywords",
    "negative": "negatives",
    "shared_list": "shared_lists",
    "ad": "ads",
}


def _entity_row(account: str, entity: AccountEntity) -> tuple[str, str, str, str, str]:
    kind = _KIND_OF_MODEL.get(type(entity))
    if kind is None:
        raise TypeError(f"a sandbox store cannot hold {type(entity).__name__}")
    parent_field = ENTITY_KINDS[kind][1]
    parent = getattr(entity, parent_field) if parent_field else ""
    return account, kind, entity.id, parent, entity.model_dump_json(by_alias=True)


class SandboxStore:
    """A SQLite file holding sandbox and imported accounts."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        if not self.path.exists():
            raise SandboxMissingError(f"sandbox store {self.path} is missing")
        if not self.path.is_file():
            raise SandboxMissingError(f"sandbox store {self.path} is not a file")
        try:
            with self._connection() as conn:
                info = dict(conn.execute("SELECT key, value FROM store_info").fetchall())
        except sqlite3.DatabaseError as error:
            reason = "not an adpilot store" if "no such table" in str(error) else f"corrupt ({error})"
            raise SandboxMissingError(f"sandbox store {self.path} is {reason}") from None
        if info.get("marker") != STORE_MARKER:
            raise SandboxMissingError(f"sandbox store {self.path} is not an adpilot store")
        if info.get("schema_version") != SCHEMA_VERSION:
            raise SandboxMissingError(
                f"sandbox store {self.path} has schema version {info.get('schema_version')}, expected {SCHEMA_VERSION}"
            )

    @classmethod
    def create(cls, path: Path) -> SandboxStore:
        """Creates the file and its schema; opening an existing store is fine, a foreign file is refused."""
        path = Path(path)
        if path.exists() and path.stat().st_size > 0:
            store = cls(path)
            with store.transaction() as conn:  # tables added since the store was made (all IF NOT EXISTS)
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            return store
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path)
        try:
            with conn:
                conn.executescript(_SCHEMA)
                conn.executemany(
                    "INSERT OR IGNORE INTO store_info (key, value) VALUES (?, ?)",
                    [("marker", STORE_MARKER), ("schema_version", SCHEMA_VERSION)],
                )
                if conn.execute("SELECT COUNT(*) FROM id_sequence").fetchone()[0] == 0:
                    conn.execute("INSERT INTO id_sequence (next_id) VALUES (?)", (FIRST_ID,))
        finally:
            conn.close()
        return cls(path)

    # -- connections and transactions -------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """The transaction open on this thread if there is one (so reads see its writes), else a fresh connection."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        conn = self._open()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, ROLLBACK on error. Nested use on one thread joins the outer transaction."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        conn = self._open()
        conn.execute("BEGIN IMMEDIATE")
        self._local.conn = conn
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._local.conn = None
            conn.close()

    # -- accounts ---------------------------------------------------------------------------

    def _load_account(self, conn: sqlite3.Connection, name: str) -> Account:
        row = conn.execute("SELECT data FROM accounts WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(name for (name,) in conn.execute("SELECT name FROM accounts ORDER BY name"))
            raise UnknownAccountError(f"unknown account '{name}' (known: {known or 'none'})")
        return Account.model_validate_json(row[0])

    def open_account(self, name: str) -> SandboxAccount:
        with self._connection() as conn:
            return SandboxAccount(self, self._load_account(conn, name))

    def save_account(self, structure: AccountStructure) -> SandboxAccount:
        """Inserts or replaces an account and all its entities; its metrics and search terms are kept."""
        name = structure.account.name
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO accounts (name, data) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET data = excluded.data",
                (name, structure.account.model_dump_json()),
            )
            conn.execute("DELETE FROM entities WHERE account = ?", (name,))
            rows = [
                _entity_row(name, entity) for field in _STRUCTURE_FIELD.values() for entity in getattr(structure, field)
            ]
            conn.executemany("INSERT INTO entities (account, kind, id, parent_id, data) VALUES (?, ?, ?, ?, ?)", rows)
        return SandboxAccount(self, structure.account)

    def remove_account(self, name: str) -> None:
        """Deletes an account with everything it holds (entities, metrics, search terms, ground truth)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM accounts WHERE name = ?", (name,))
            tables = ("entities", "daily_metrics", "ad_metrics", "asset_labels", "search_terms", "search_term_sources")
            for table in (*tables, "ground_truth", "brand_kit_files", "advertiser_profiles"):
                conn.execute(f"DELETE FROM {table} WHERE account = ?", (name,))

    def new_id(self) -> str:
        """A numeric-string id unique in the store."""
        with self.transaction() as conn:
            (value,) = conn.execute("UPDATE id_sequence SET next_id = next_id + 1 RETURNING next_id - 1").fetchone()
        return str(value)

    # -- ground truth -----------------------------------------------------------------------

    def ground_truth(self, name: str) -> pd.DataFrame:
        """One row per distinct search term the generator planted.

        Columns: its theme, and whether it is waste, brand, injection.
        """
        with self._connection() as conn:
            self._load_account(conn, name)
            frame = pd.read_sql_query(
                "SELECT search_term, theme, is_waste, waste_kind, is_brand, is_injection FROM ground_truth "
                "WHERE account = ? ORDER BY search_term",
                conn,
                params=(name,),
            )
        return frame.astype({"is_waste": bool, "is_brand": bool, "is_injection": bool})

    # -- brand kits -------------------------------------------------------------------------

    def save_brand_kit(self, name: str, files: Mapping[str, bytes]) -> None:
        """Replaces the account's brand kit files (relative path -> content)."""
        with self.transaction() as conn:
            self._load_account(conn, name)
            conn.execute("DELETE FROM brand_kit_files WHERE account = ?", (name,))
            conn.executemany(
                "INSERT INTO brand_kit_files (account, path, content) VALUES (?, ?, ?)",
                [(name, path, content) for path, content in files.items()],
            )

    def brand_kit_files(self, name: str) -> dict[str, bytes]:
        with self._connection() as conn:
            try:
                rows = conn.execute("SELECT path, content FROM brand_kit_files WHERE account = ?", (name,)).fetchall()
            except sqlite3.OperationalError:  # a store made before brand kits: no kit
                return {}
        return {path: bytes(content) for path, content in rows}

    # -- advertiser profiles ----------------------------------------------------------------

    def save_profile(self, name: str, profile: AdvertiserProfile) -> None:
        """Replaces the profile the account carries: what the generator knows its advertiser to be."""
        with self.transaction() as conn:
            self._load_account(conn, name)
            conn.execute(
                "INSERT OR REPLACE INTO advertiser_profiles (account, data) VALUES (?, ?)",
                (name, profile.model_dump_json()),
            )

    def profile(self, name: str) -> AdvertiserProfile | None:
        with self._connection() as conn:
            if not _has_table(conn, "advertiser_profiles"):  # a store made before profiles: none
                return None
            row = conn.execute("SELECT data FROM advertiser_profiles WHERE account = ?", (name,)).fetchone()
        return AdvertiserProfile.model_validate_json(row[0]) if row else None

    def kit_index(self, digest: str) -> bytes | None:
        """A kit's search index as it was kept, by the kit's digest."""
        with self._connection() as conn:
            try:
                row = conn.execute("SELECT data FROM brand_kit_index WHERE digest = ?", (digest,)).fetchone()
            except sqlite3.OperationalError:
                return None
        return bytes(row[0]) if row else None

    def save_kit_index(self, digest: str, data: bytes) -> None:
        with self.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS brand_kit_index (digest TEXT PRIMARY KEY, data BLOB NOT NULL)")
            conn.execute("INSERT OR REPLACE INTO brand_kit_index (digest, data) VALUES (?, ?)", (digest, data))

    def save_ground_truth(self, name: str, truth: pd.DataFrame) -> None:
        missing = [column for column in GROUND_TRUTH_COLUMNS if column not in truth.columns]
        if missing:
            raise ValueError(f"ground truth lacks columns {missing}")
        unknown_kinds = set(truth["waste_kind"]) - set(WASTE_KINDS)
        if unknown_kinds:
            raise ValueError(f"unknown waste_kind values {sorted(unknown_kinds)}")
        frame = truth.loc[:, list(GROUND_TRUTH_COLUMNS)].astype(
            {"search_term": str, "theme": str, "is_waste": int, "waste_kind": str, "is_brand": int, "is_injection": int}
        )
        rows = [(name, *values) for values in frame.itertuples(index=False, name=None)]
        with self.transaction() as conn:
            self._load_account(conn, name)
            conn.execute("DELETE FROM ground_truth WHERE account = ?", (name,))
            conn.executemany("INSERT INTO ground_truth VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


class SandboxAccount:
    """An account in a `SandboxStore`; implements `ads.account.AdAccount`."""

    def __init__(self, store: SandboxStore, account: Account) -> None:
        self._store = store
        self._account = account

    @property
    def account(self) -> Account:
        return self._account

    @property
    def store(self) -> SandboxStore:
        return self._store

    def __repr__(self) -> str:
        return f"SandboxAccount({self._account.name!r}, store={str(self._store.path)!r})"

    # -- reads ------------------------------------------------------------------------------

    def brand_kit_files(self) -> dict[str, bytes]:
        """The brand kit the sandbox generated for this account (empty when it has none)."""
        return self._store.brand_kit_files(self._account.name)

    def advertiser_profile(self) -> AdvertiserProfile | None:
        """The profile the sandbox generated for this account (None for an imported report)."""
        return self._store.profile(self._account.name)

    def kit_index(self, digest: str) -> bytes | None:
        return self._store.kit_index(digest)

    def save_kit_index(self, digest: str, data: bytes) -> None:
        self._store.save_kit_index(digest, data)

    def structure(self) -> AccountStructure:
        with self._store._connection() as conn:
            return self._structure(conn)

    def _structure(self, conn: sqlite3.Connection) -> AccountStructure:
        grouped: dict[str, list[AccountEntity]] = {field: [] for field in _STRUCTURE_FIELD.values()}
        rows = conn.execute("SELECT kind, data FROM entities WHERE account = ? ORDER BY rowid", (self._account.name,))
        for kind, data in rows:
            grouped[_STRUCTURE_FIELD[kind]].append(ENTITY_KINDS[kind][0].model_validate_json(data))
        return AccountStructure(account=self._account, **{field: tuple(items) for field, items in grouped.items()})

    def daily_metrics(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Columns DAILY_METRIC_COLUMNS; `date` is datetime64, money in the account's unit."""
        columns = ", ".join(DAILY_METRIC_COLUMNS)
        with self._store._connection() as conn:
            frame = pd.read_sql_query(
                f"SELECT {columns} FROM daily_metrics WHERE account = ? AND date BETWEEN ? AND ? "
                "ORDER BY date, campaign_id, ad_group_id",
                conn,
                params=(self._account.name, start.isoformat(), end.isoformat()),
            )
        frame["date"] = pd.to_datetime(frame["date"])
        return frame.astype(
            {
                "campaign_id": str,
                "ad_group_id": str,
                "impressions": "int64",
                "clicks": "int64",
                "cost": "int64",
                "conversions": "float64",
                "conversion_value": "float64",
            }
        )

    def ad_metrics(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Columns AD_METRIC_COLUMNS, one row per day and ad; empty for a store made before ads had metrics."""
        columns = ", ".join(AD_METRIC_COLUMNS)
        with self._store._connection() as conn:
            if not _has_table(conn, "ad_metrics"):
                return _typed_metrics(pd.DataFrame(columns=list(AD_METRIC_COLUMNS)))
            frame = pd.read_sql_query(
                f"SELECT {columns} FROM ad_metrics WHERE account = ? AND date BETWEEN ? AND ? "
                "ORDER BY date, campaign_id, ad_group_id, ad_id",
                conn,
                params=(self._account.name, start.isoformat(), end.isoformat()),
            )
        return _typed_metrics(frame)

    def asset_labels(self) -> pd.DataFrame:
        """Columns ASSET_LABEL_COLUMNS: the performance label of each asset of each ad (Google Ads only)."""
        with self._store._connection() as conn:
            if not _has_table(conn, "asset_labels"):
                return pd.DataFrame(columns=list(ASSET_LABEL_COLUMNS), dtype=str)
            return pd.read_sql_query(
                f"SELECT {', '.join(ASSET_LABEL_COLUMNS)} FROM asset_labels WHERE account = ? ORDER BY rowid",
                conn,
                params=(self._account.name,),
            ).astype(str)

    def search_terms(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Rows whose period lies inside [start, end], summed per (term, campaign, ad group, keyword, match type)."""
        with self._store._connection() as conn:
            frame = pd.read_sql_query(
                "SELECT search_term, campaign_id, MAX(campaign_name) AS campaign_name, ad_group_id, "
                "MAX(ad_group_name) AS ad_group_name, keyword, match_type, SUM(impressions) AS impressions, "
                "SUM(clicks) AS clicks, SUM(cost) AS cost, SUM(conversions) AS conversions, "
                "SUM(conversion_value) AS conversion_value FROM search_terms "
                'WHERE account = ? AND start >= ? AND "end" <= ? '
                "GROUP BY search_term, campaign_id, ad_group_id, keyword, match_type "
                "ORDER BY search_term, campaign_id, ad_group_id, keyword, match_type",
                conn,
                params=(self._account.name, start.isoformat(), end.isoformat()),
            )
        return frame.loc[:, list(SEARCH_TERM_COLUMNS)].astype(
            {
                "impressions": "int64",
                "clicks": "int64",
                "cost": "int64",
                "conversions": "float64",
                "conversion_value": "float64",
            }
        )

    def search_terms_have_conversions(self) -> bool:
        """False when an imported report had no conversions column: its zeros say nothing."""
        with self._store._connection() as conn:
            missing = conn.execute(
                "SELECT 1 FROM search_term_sources WHERE account = ? AND has_conversions = 0", (self._account.name,)
            ).fetchone()
        return missing is None

    def search_term_period(self) -> ReportPeriod | None:
        with self._store._connection() as conn:
            first, last = conn.execute(
                'SELECT MIN(start), MAX("end") FROM search_terms WHERE account = ?', (self._account.name,)
            ).fetchone()
        if first is None:
            return None
        return ReportPeriod(start=dt.date.fromisoformat(first), end=dt.date.fromisoformat(last))

    # -- low-level writes (generator, importers, API emulators) -----------------------------

    def new_id(self) -> str:
        return self._store.new_id()

    def write(self, upserts: Sequence[AccountEntity] = (), removals: Sequence[AccountEntity] = ()) -> None:
        """Inserts or updates `upserts` and deletes `removals`, in one transaction."""
        name = self._account.name
        with self._store.transaction() as conn:
            self._store._load_account(conn, name)
            conn.executemany(
                "INSERT INTO entities (account, kind, id, parent_id, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (account, kind, id) DO UPDATE SET parent_id = excluded.parent_id, data = excluded.data",
                [_entity_row(name, entity) for entity in upserts],
            )
            conn.executemany(
                "DELETE FROM entities WHERE account = ? AND kind = ? AND id = ?",
                [_entity_row(name, entity)[:3] for entity in removals],
            )

    def add_daily_metrics(self, frame: pd.DataFrame) -> None:
        missing = [column for column in DAILY_METRIC_COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(f"daily metrics lack columns {missing}")
        dates = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d").tolist()
        values = [_column_values(frame, column) for column in DAILY_METRIC_COLUMNS[1:]]
        rows = [(self._account.name, *row) for row in zip(dates, *values, strict=False)]
        with self._store.transaction() as conn:
            self._store._load_account(conn, self._account.name)
            conn.executemany(
                f"INSERT INTO daily_metrics (account, {', '.join(DAILY_METRIC_COLUMNS)}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def add_ad_metrics(self, frame: pd.DataFrame) -> None:
        missing = [column for column in AD_METRIC_COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(f"ad metrics lack columns {missing}")
        dates = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d").tolist()
        values = [_column_values(frame, column) for column in AD_METRIC_COLUMNS[1:]]
        rows = [(self._account.name, *row) for row in zip(dates, *values, strict=False)]
        with self._store.transaction() as conn:
            self._store._load_account(conn, self._account.name)
            conn.executemany(
                f"INSERT INTO ad_metrics (account, {', '.join(AD_METRIC_COLUMNS)}) VALUES ({', '.join('?' * 10)})",
                rows,
            )

    def set_asset_labels(self, frame: pd.DataFrame) -> None:
        """Replaces the account's asset labels with `frame` (columns ASSET_LABEL_COLUMNS)."""
        missing = [column for column in ASSET_LABEL_COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(f"asset labels lack columns {missing}")
        rows = [
            (self._account.name, *row)
            for row in frame.loc[:, list(ASSET_LABEL_COLUMNS)].astype(str).itertuples(index=False, name=None)
        ]
        with self._store.transaction() as conn:
            self._store._load_account(conn, self._account.name)
            conn.execute("DELETE FROM asset_labels WHERE account = ?", (self._account.name,))
            conn.executemany(
                f"INSERT INTO asset_labels (account, {', '.join(ASSET_LABEL_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)", rows
            )

    def add_search_terms(
        self, frame: pd.DataFrame, start: dt.date, end: dt.date, source: str = "", *, has_conversions: bool = True
    ) -> int:
        """Adds rows covering [start, end]. A non-empty `source` already added adds nothing. Returns rows added.

        Columns missing from `frame` (other than search_term) are stored empty or zero; `has_conversions` False
        records that the source's zero conversions mean "not reported"."""
        if end < start:
            raise ValueError(f"search-term period ends ({end}) before it starts ({start})")
        if "search_term" not in frame.columns:
            raise ValueError("search terms lack the column 'search_term'")
        values = [_column_values(frame, column) for column in SEARCH_TERM_COLUMNS]
        prefix = (self._account.name, start.isoformat(), end.isoformat(), source)
        rows = [(*prefix, *row) for row in zip(*values, strict=False)]
        with self._store.transaction() as conn:
            self._store._load_account(conn, self._account.name)
            if source:
                seen = conn.execute(
                    "SELECT 1 FROM search_term_sources WHERE account = ? AND source = ?", (self._account.name, source)
                ).fetchone()
                if seen:
                    return 0
                conn.execute(
                    "INSERT INTO search_term_sources (account, source, rows, has_conversions) VALUES (?, ?, ?, ?)",
                    (self._account.name, source, len(rows), int(has_conversions)),
                )
            conn.executemany(
                f'INSERT INTO search_terms (account, start, "end", source, {", ".join(SEARCH_TERM_COLUMNS)}) '
                f"VALUES ({', '.join('?' * (4 + len(SEARCH_TERM_COLUMNS)))})",
                rows,
            )
        return len(rows)

    # -- changes ----------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change], *, validate_only: bool) -> list[ApplyResult]:
        """Validates each change; unless `validate_only`, applies each valid one in its own transaction."""
        if self._account.read_only:
            raise ReadOnlyAccountError(f"account '{self._account.name}' is read-only (an imported report)")
        if validate_only:
            with self._store._connection() as conn:
                structure = self._structure(conn)
            results = []
            for change in changes:
                problems = self._problems(structure, change)
                results.append(
                    ApplyResult(
                        change_hash=change.hash,
                        status="failed" if problems else "validated",
                        message="; ".join(problems),
                    )
                )
            return results
        return [self._apply_one(change) for change in changes]

    def _apply_one(self, change: Change) -> ApplyResult:
        # The presence check, the checks and the write share one write transaction: of two processes applying
        # the same change at once, the second finds it present.
        with self._store.transaction() as conn:
            before = self.read_back(change)
            if before.present:
                return ApplyResult(
                    change_hash=change.hash,
                    status="already_applied",
                    before=before.state,
                    after=before.state,
                    resource_names=before.resource_names,
                    message="the account already holds this change",
                )
            structure = self._structure(conn)  # read inside the write lock: nothing can change in between
            problems = self._problems(structure, change)
            if problems:
                return ApplyResult(
                    change_hash=change.hash, status="failed", message="; ".join(problems), before=before.state
                )
            upserts, removals = self._writes_for(structure, change)
            self.write(upserts=upserts, removals=removals)
        after = self.read_back(change)
        if not after.present:
            return ApplyResult(
                change_hash=change.hash,
                status="failed",
                before=before.state,
                after=after.state,
                message="written, but the read-back does not show the change",
            )
        return ApplyResult(
            change_hash=change.hash,
            status="applied",
            before=before.state,
            after=after.state,
            resource_names=after.resource_names,
        )

    def _problems(self, structure: AccountStructure, change: Change) -> list[str]:
        """Why the change cannot be applied to this structure; empty when it can."""
        if change.account != self._account.name:
            return [f"the change is for account '{change.account}', not '{self._account.name}'"]
        match change:
            case AddNegativeKeywords():
                return self._negative_problems(structure, change)
            case CreateSharedNegativeList():
                return self._new_list_problems(structure, change)
            case CreateAdGroup():
                campaign = _find(structure.campaigns, change.campaign_id)
                if campaign is None or campaign.status is Status.REMOVED:
                    return [f"campaign {change.campaign_id} does not exist"]
                problems = [problem for keyword in change.keywords for problem in keyword_problems(keyword.text)]
                problems += [f"RSA: {problem}" for problem in rsa_problems(change.ad)]
                if self._account.platform is not Platform.GOOGLE_ADS:
                    problems.append("ad groups with keywords exist only in Google Ads accounts")
                if any(
                    group.campaign_id == campaign.id
                    and group.name == change.name
                    and group.status is not Status.REMOVED
                    for group in structure.ad_groups
                ):
                    problems.append(f"ad group '{change.name}' already exists in campaign {campaign.name}")
                return problems
            case AddCreativeVariants():
                group = _find(structure.ad_groups, change.ad_group_id)
                if group is None or group.status is Status.REMOVED:
                    return [f"ad group {change.ad_group_id} does not exist"]
                if isinstance(change.ad, ResponsiveSearchAdCopy):
                    if self._account.platform is not Platform.GOOGLE_ADS:
                        return ["a responsive search ad cannot run in a Meta account"]
                    return [f"RSA: {problem}" for problem in rsa_problems(change.ad)]
                if self._account.platform is not Platform.META:
                    return ["a Meta ad cannot run in a Google Ads account"]
                return []
            case SetBudget():
                budget = _find(structure.budgets, change.budget_id)
                if budget is None:
                    return [f"budget {change.budget_id} does not exist"]
                problems = []
                if budget.level != change.level:
                    problems.append(f"budget {budget.name} is a {budget.level} budget, the change says {change.level}")
                if budget.daily_amount != change.from_amount:
                    problems.append(
                        f"budget {budget.name} is now {budget.daily_amount}, the change expected {change.from_amount}"
                    )
                return problems
            case ReallocateBudget():
                problems = []
                for leg in change.legs:
                    budget = _find(structure.budgets, leg.budget_id)
                    if budget is None:
                        problems.append(f"budget {leg.budget_id} does not exist")
                    elif budget.level != leg.level:
                        problems.append(f"budget {budget.name} is a {budget.level} budget, the leg says {leg.level}")
                    elif budget.daily_amount != leg.from_amount:
                        problems.append(
                            f"budget {budget.name} is now {budget.daily_amount}, the leg expected {leg.from_amount}"
                        )
                return problems
            case RemoveNegativeKeywords():
                # negatives that are not there are already removed: only a missing place is a problem
                if not _target_exists(structure, change.level, change.target_id):
                    return [f"{change.level.replace('_', ' ')} {change.target_id} does not exist"]
                return []
            case RemoveSharedNegativeList():
                # a list that is gone is already removed (the read-back says so): nothing here can be wrong
                return []
            case PauseEntity():
                if _live(structure, change.level, change.entity_id) is None:
                    return [f"{change.level.replace('_', ' ')} {change.entity_id} does not exist"]
                return []
        return [f"unsupported change kind {type(change).__name__}"]

    def _negative_problems(self, structure: AccountStructure, change: AddNegativeKeywords) -> list[str]:
        if not _target_exists(structure, change.level, change.target_id):
            return [f"{change.level.replace('_', ' ')} {change.target_id} does not exist"]
        existing = _negatives_at(structure, change.level, change.target_id)
        problems = []
        seen: set[tuple[str, MatchType]] = set()
        for keyword in change.keywords:
            key = (normalise(keyword.text), keyword.match_type)
            if key in existing:
                problems.append(
                    f"negative '{keyword.text}' ({keyword.match_type}) is already on "
                    f"{change.level.replace('_', ' ')} {change.target_name or change.target_id}"
                )
            elif key in seen:
                problems.append(f"negative '{keyword.text}' ({keyword.match_type}) is listed twice")
            problems += [f"negative {problem}" for problem in keyword_problems(keyword.text)]
            seen.add(key)
        if change.level == "shared_list" and len(existing) + len(seen) > limit("shared_negative_list_max_keywords"):
            problems.append(
                f"shared list {change.target_id} would exceed {limit('shared_negative_list_max_keywords')} keywords"
            )
        return problems

    def _new_list_problems(self, structure: AccountStructure, change: CreateSharedNegativeList) -> list[str]:
        problems = []
        if self._account.platform is not Platform.GOOGLE_ADS:
            problems.append("shared negative keyword lists exist only in Google Ads accounts")
        if _shared_list_named(structure, change.name) is not None:
            problems.append(f"shared list '{change.name}' already exists")
        if len(structure.shared_lists) >= limit("shared_negative_lists_per_account"):
            problems.append(f"the account holds {limit('shared_negative_lists_per_account')} shared lists already")
        live = {c.id for c in structure.campaigns if c.status is not Status.REMOVED}
        problems += [f"campaign {c} does not exist" for c in change.campaign_ids if c not in live]
        keys = _keys(change)
        if len(set(keys)) != len(keys):
            problems.append("a negative is listed twice")
        if len(keys) > limit("shared_negative_list_max_keywords"):
            problems.append(f"{len(keys)} keywords exceed {limit('shared_negative_list_max_keywords')} per list")
        return problems + [f"negative {p}" for k in change.keywords for p in keyword_problems(k.text)]

    def _writes_for(
        self, structure: AccountStructure, change: Change
    ) -> tuple[list[AccountEntity], list[AccountEntity]]:
        """The entities a valid change adds or replaces, and those it deletes."""
        new_id = self._store.new_id
        match change:
            case AddNegativeKeywords():
                return [
                    NegativeKeyword(
                        id=new_id(),
                        level=change.level,
                        owner_id=change.target_id,
                        text=keyword.text,
                        match_type=keyword.match_type,
                    )
                    for keyword in change.keywords
                ], []
            case CreateSharedNegativeList():
                shared = SharedNegativeList(id=new_id(), name=change.name, campaign_ids=change.campaign_ids)
                return [
                    shared,
                    *(
                        NegativeKeyword(
                            id=new_id(), level="shared_list", owner_id=shared.id, text=k.text, match_type=k.match_type
                        )
                        for k in change.keywords
                    ),
                ], []
            case CreateAdGroup():
                group = AdGroup(
                    id=new_id(),
                    campaign_id=change.campaign_id,
                    name=change.name,
                    status=Status.PAUSED if change.paused else Status.ENABLED,
                )
                keywords = [
                    Keyword(id=new_id(), ad_group_id=group.id, text=spec.text, match_type=spec.match_type)
                    for spec in change.keywords
                ]
                ad = Ad(
                    id=new_id(),
                    ad_group_id=group.id,
                    copy_=change.ad,
                    status=Status.PAUSED if change.paused else Status.ENABLED,
                )
                return [group, *keywords, ad], []
            case AddCreativeVariants():
                return [
                    Ad(
                        id=new_id(),
                        ad_group_id=change.ad_group_id,
                        copy_=change.ad,
                        status=Status.PAUSED if change.paused else Status.ENABLED,
                    )
                ], []
            case SetBudget():
                budget = _find(structure.budgets, change.budget_id)
                assert budget is not None  # _problems refused the change otherwise
                return [budget.model_copy(update={"daily_amount": change.to_amount})], []
            case ReallocateBudget():
                # Every leg in the one write transaction of _apply_one: all of them or none.
                legs = [(_find(structure.budgets, leg.budget_id), leg.to_amount) for leg in change.legs]
                return [b.model_copy(update={"daily_amount": amount}) for b, amount in legs if b is not None], []
            case RemoveNegativeKeywords():
                at_target = _negatives_at(structure, change.level, change.target_id)
                return [], [at_target[key] for key in dict.fromkeys(_keys(change)) if key in at_target]
            case RemoveSharedNegativeList():
                # The list, its keywords and so its links to campaigns, in the one write transaction of _apply_one.
                removed = _find(structure.shared_lists, change.shared_list_id)
                assert removed is not None  # the read-back found it gone otherwise, and nothing was written
                held = [n for n in structure.negatives if n.level == "shared_list" and n.owner_id == removed.id]
                return [], [removed, *held]
            case PauseEntity():
                live = _live(structure, change.level, change.entity_id)
                assert live is not None  # _problems refused the change otherwise
                return [live.model_copy(update={"status": Status.PAUSED})], []
        raise TypeError(f"unsupported change kind {type(change).__name__}")

    def read_back(self, change: Change) -> ReadBack:
        """Whether the account holds what the change asks for, with the current state of what it touches."""
        structure = self.structure()
        match change:
            case AddNegativeKeywords():
                at_target = _negatives_at(structure, change.level, change.target_id)
                wanted = {(normalise(k.text), k.match_type): k for k in change.keywords}
                found = [at_target[key] for key in wanted if key in at_target]
                return ReadBack(
                    change_hash=change.hash,
                    present=len(found) == len(wanted),
                    state={
                        "negatives": [{"text": n.text, "match_type": str(n.match_type)} for n in found],
                        "missing": [k.text for key, k in wanted.items() if key not in at_target],
                    },
                    resource_names=tuple(self._resource_name("negative", n) for n in found),
                )
            case CreateSharedNegativeList():
                shared = _shared_list_named(structure, change.name)
                if shared is None:
                    return ReadBack(change_hash=change.hash, present=False, state={"shared_list_id": None})
                at_list = _negatives_at(structure, "shared_list", shared.id)
                found = [at_list[key] for key in dict.fromkeys(_keys(change)) if key in at_list]
                missing = [k.text for k in change.keywords if (normalise(k.text), k.match_type) not in at_list]
                unattached = [c for c in change.campaign_ids if c not in shared.campaign_ids]
                return ReadBack(
                    change_hash=change.hash,
                    present=not missing and not unattached,
                    state={"shared_list_id": shared.id, "missing": missing, "unattached_campaigns": unattached},
                    resource_names=(
                        self._resource_name("shared_list", shared),
                        *(self._resource_name("negative", n) for n in found),
                    ),
                )
            case CreateAdGroup():
                group = next(
                    (
                        g
                        for g in structure.ad_groups
                        if g.campaign_id == change.campaign_id
                        and g.name == change.name
                        and g.status is not Status.REMOVED
                    ),
                    None,
                )
                if group is None:
                    return ReadBack(change_hash=change.hash, present=False, state={})
                keywords = [k for k in structure.keywords if k.ad_group_id == group.id]
                ads = [a for a in structure.ads if a.ad_group_id == group.id]
                return ReadBack(
                    change_hash=change.hash,
                    present=True,
                    state={
                        "ad_group_id": group.id,
                        "status": str(group.status),
                        "keywords": [{"text": k.text, "match_type": str(k.match_type)} for k in keywords],
                        "ads": [{"id": a.id, "status": str(a.status)} for a in ads],
                    },
                    resource_names=(
                        self._resource_name("ad_group", group),
                        *(self._resource_name("keyword", k) for k in keywords),
                        *(self._resource_name("ad", a) for a in ads),
                    ),
                )
            case AddCreativeVariants():
                ad = next(
                    (
                        a
                        for a in structure.ads
                        if a.ad_group_id == change.ad_group_id
                        and a.copy_ == change.ad
                        and a.status is not Status.REMOVED
                    ),
                    None,
                )
                if ad is None:
                    return ReadBack(change_hash=change.hash, present=False, state={})
                return ReadBack(
                    change_hash=change.hash,
                    present=True,
                    state={"ad_id": ad.id, "status": str(ad.status)},
                    resource_names=(self._resource_name("ad", ad),),
                )
            case SetBudget():
                budget = _find(structure.budgets, change.budget_id)
                if budget is None:
                    return ReadBack(change_hash=change.hash, present=False, state={})
                return ReadBack(
                    change_hash=change.hash,
                    present=budget.daily_amount == change.to_amount,
                    state={"daily_amount": budget.daily_amount},
                    resource_names=(self._resource_name("budget", budget),),
                )
            case ReallocateBudget():
                amounts = {leg.budget_id: _find(structure.budgets, leg.budget_id) for leg in change.legs}
                state = {k: (b.daily_amount if b is not None else None) for k, b in amounts.items()}
                return ReadBack(
                    change_hash=change.hash,
                    present=all(state[leg.budget_id] == leg.to_amount for leg in change.legs),
                    state={"daily_amounts": state},
                    resource_names=tuple(self._resource_name("budget", b) for b in amounts.values() if b is not None),
                )
            case RemoveNegativeKeywords():
                # present (= removed) only where the place still exists, so a vanished target is reported, not hidden
                exists = _target_exists(structure, change.level, change.target_id)
                at_target = _negatives_at(structure, change.level, change.target_id)
                remaining = [at_target[key] for key in dict.fromkeys(_keys(change)) if key in at_target]
                return ReadBack(
                    change_hash=change.hash,
                    present=exists and not remaining,
                    state={
                        "target_exists": exists,
                        "still_present": [{"text": n.text, "match_type": str(n.match_type)} for n in remaining],
                    },
                    resource_names=tuple(self._resource_name("negative", n) for n in remaining),
                )
            case RemoveSharedNegativeList():
                shared = _find(structure.shared_lists, change.shared_list_id)
                held = _negatives_at(structure, "shared_list", change.shared_list_id) if shared else {}
                return ReadBack(
                    change_hash=change.hash,
                    present=shared is None,
                    state={
                        "list_exists": shared is not None,
                        "negatives": len(held),
                        "attached_campaigns": list(shared.campaign_ids) if shared else [],
                    },
                    resource_names=(self._resource_name("shared_list", shared),) if shared else (),
                )
            case PauseEntity():
                entity = _live(structure, change.level, change.entity_id)
                if entity is None:
                    return ReadBack(change_hash=change.hash, present=False, state={"status": None})
                return ReadBack(
                    change_hash=change.hash,
                    present=entity.status is Status.PAUSED,
                    state={"status": str(entity.status)},
                    resource_names=(self._resource_name(change.level, entity),),
                )
        raise TypeError(f"unsupported change kind {type(change).__name__}")

    def _resource_name(self, kind: str, entity: AccountEntity) -> str:
        """Google-style resource names for Google accounts; plain ids for Meta."""
        if self._account.platform is not Platform.GOOGLE_ADS:
            return entity.id
        customer = f"customers/{self._account.id}"
        match kind, entity:
            case "negative", NegativeKeyword(level="campaign"):
                return f"{customer}/campaignCriteria/{entity.owner_id}~{entity.id}"
            case "negative", NegativeKeyword(level="ad_group"):
                return f"{customer}/adGroupCriteria/{entity.owner_id}~{entity.id}"
            case "negative", NegativeKeyword():
                return f"{customer}/sharedCriteria/{entity.owner_id}~{entity.id}"
            case "shared_list", _:
                return f"{customer}/sharedSets/{entity.id}"
            case "ad_group", _:
                return f"{customer}/adGroups/{entity.id}"
            case "keyword", Keyword():
                return f"{customer}/adGroupCriteria/{entity.ad_group_id}~{entity.id}"
            case "ad", Ad():
                return f"{customer}/adGroupAds/{entity.ad_group_id}~{entity.id}"
            case "budget", _:
                return f"{customer}/campaignBudgets/{entity.id}"
        raise TypeError(f"no resource name for {kind} {type(entity).__name__}")


# Storage type of each report column; text columns default to "", numbers to 0.
_COLUMN_TYPES = {
    "impressions": "int64",
    "clicks": "int64",
    "cost": "int64",
    "conversions": "float64",
    "conversion_value": "float64",
}


def _column_values(frame: pd.DataFrame, column: str) -> list:
    """A column as Python values of its storage type (fast to bind, unlike itertuples)."""
    dtype = _COLUMN_TYPES.get(column, str)
    default = "" if dtype is str else 0
    if column not in frame.columns:
        return [default] * len(frame)
    return frame[column].fillna(default).astype(dtype).tolist()


def _has_table(conn: sqlite3.Connection, table: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None
    )


def _typed_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.astype({**{c: str for c in ("campaign_id", "ad_group_id", "ad_id")}, **_COLUMN_TYPES})


def _find(entities: Sequence[E], entity_id: str) -> E | None:
    return next((entity for entity in entities if entity.id == entity_id), None)


def _target_exists(structure: AccountStructure, level: str, target_id: str) -> bool:
    """Whether the campaign, ad group or shared list that holds negatives at `level` is in the account."""
    owners: dict[str, Sequence[Campaign | AdGroup | SharedNegativeList]] = {
        "campaign": structure.campaigns,
        "ad_group": structure.ad_groups,
        "shared_list": structure.shared_lists,
    }
    return _find(owners[level], target_id) is not None


def _shared_list_named(structure: AccountStructure, name: str) -> SharedNegativeList | None:
    return next((s for s in structure.shared_lists if normalise(s.name) == normalise(name)), None)


def _live(structure: AccountStructure, level: str, entity_id: str) -> AdGroup | Ad | None:
    """The ad group or ad with this id, unless it is absent or removed."""
    entity: AdGroup | Ad | None = (
        _find(structure.ad_groups, entity_id) if level == "ad_group" else _find(structure.ads, entity_id)
    )
    return entity if entity is not None and entity.status is not Status.REMOVED else None


def _keys(
    change: AddNegativeKeywords | RemoveNegativeKeywords | CreateSharedNegativeList,
) -> list[tuple[str, MatchType]]:
    return [(normalise(k.text), k.match_type) for k in change.keywords]


def _negatives_at(
    structure: AccountStructure, level: str, owner_id: str
) -> dict[tuple[str, MatchType], NegativeKeyword]:
    """The negatives at one place, keyed the way the platforms compare them."""
    return {
        (normalise(n.text), n.match_type): n for n in structure.negatives if n.level == level and n.owner_id == owner_id
    }


__all__ = ["GROUND_TRUTH_COLUMNS", "WASTE_KINDS", "SandboxAccount", "SandboxStore"]
