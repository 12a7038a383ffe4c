"""The `AdAccount` protocol: what every account (sandbox, imported report, Google Ads, Meta) offers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ads.changes import Change
from ads.entities import Account, AccountStructure, ReportPeriod
from ads.statuses import ApplyStatus


class ApplyResult(BaseModel):
    """What happened to one change. `applied` is only ever set after a read-back confirmed it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    change_hash: str
    status: ApplyStatus
    message: str = ""
    resource_names: tuple[str, ...] = ()
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)


class ReadBack(BaseModel):
    """The account's current state for the things a change touches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    change_hash: str
    present: bool = Field(description="True when the account already holds what the change asks for.")
    state: dict[str, Any] = Field(default_factory=dict)
    resource_names: tuple[str, ...] = ()


@runtime_checkable
class AdAccount(Protocol):
    """Reads return DataFrames with the columns in `ads.entities` (*_COLUMNS); money in the account's unit."""

    @property
    def account(self) -> Account: ...

    def structure(self) -> AccountStructure: ...

    def daily_metrics(self, start: dt.date, end: dt.date) -> pd.DataFrame: ...

    def search_terms(self, start: dt.date, end: dt.date) -> pd.DataFrame: ...

    def apply(self, changes: Sequence[Change], *, validate_only: bool) -> list[ApplyResult]: ...

    def read_back(self, change: Change) -> ReadBack: ...


@runtime_checkable
class ImportedSearchTerms(Protocol):
    """An account whose search terms come from exported files: their real period, and whether they held
    conversions (the platforms' APIs always report both, so their readers need not say)."""

    def search_term_period(self) -> ReportPeriod | None: ...

    def search_terms_have_conversions(self) -> bool: ...


@runtime_checkable
class AdReports(Protocol):
    """An account that reports each ad's own metrics (AD_METRIC_COLUMNS) and, on Google Ads, its assets'
    performance labels (ASSET_LABEL_COLUMNS; empty where the platform has none). Imported reports do not."""

    def ad_metrics(self, start: dt.date, end: dt.date) -> pd.DataFrame: ...

    def asset_labels(self) -> pd.DataFrame: ...


@runtime_checkable
class QueuedChanges(Protocol):
    """An account that holds back changes the platform rate-limits (Meta's budget changes) until they may run."""

    def run_queued(self, now: dt.datetime | None = None) -> list[ApplyResult]: ...
