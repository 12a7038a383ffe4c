"""Imported search-term reports, kept in the local store as read-only accounts.

Analyses and audits run on them like on any account; the store refuses every change to them.
UI exports carry names but seldom ids, so campaigns and ad groups get stable ids made from their names,
and the report's keyword column becomes the account's positive keywords (negatives must never block them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pandas as pd
from pydantic import BaseModel

from ads.entities import Account, AccountStructure, AdGroup, Campaign, Keyword, MatchType, Platform, ReportPeriod
from ads.errors import AdpilotError, UnknownAccountError
from ads.search_term_reports import ImportedReport, SkippedRow
from sandbox.store import SandboxStore

RESERVED_PREFIXES = ("sandbox:", "google-ads:", "meta:")
FINAL_URL = re.compile(r"https?://[^\s/]+\S*")


class ImportSummary(BaseModel):
    account: str
    rows: int
    skipped: list[SkippedRow]
    period: ReportPeriod
    period_assumed: bool
    currency: str
    already_imported: bool


def _stable_id(prefix: str, name: pd.Series) -> pd.Series:
    # hashed once per distinct name: a million rows name a few hundred campaigns
    codes, names = pd.factorize(name, use_na_sentinel=False)
    ids = [f"{prefix}{hashlib.sha1(n.encode()).hexdigest()[:12]}" if n else "" for n in names]
    return pd.Series(pd.Index(ids, dtype=object).take(codes), index=name.index, dtype=object)


def _structure(account: Account, frame: pd.DataFrame) -> AccountStructure:
    campaigns = frame.loc[frame["campaign_id"] != "", ["campaign_id", "campaign_name"]].drop_duplicates("campaign_id")
    groups = frame.loc[frame["ad_group_id"] != "", ["ad_group_id", "ad_group_name", "campaign_id"]].drop_duplicates(
        "ad_group_id"
    )
    keywords = frame.loc[
        (frame["keyword"] != "") & (frame["ad_group_id"] != ""), ["ad_group_id", "keyword", "match_type"]
    ].drop_duplicates()
    return AccountStructure(
        account=account,
        campaigns=tuple(
            Campaign(id=r.campaign_id, name=r.campaign_name, channel="search")
            for r in campaigns.itertuples(index=False)
        ),
        ad_groups=tuple(
            AdGroup(id=r.ad_group_id, campaign_id=r.campaign_id, name=r.ad_group_name)
            for r in groups.itertuples(index=False)
        ),
        keywords=tuple(
            Keyword(
                id=f"{r.ad_group_id}:{r.match_type}:{r.keyword}",
                ad_group_id=r.ad_group_id,
                text=r.keyword,
                match_type=MatchType(r.match_type)
                if r.match_type in MatchType.__members__.values()
                else MatchType.BROAD,
            )
            for r in keywords.itertuples(index=False)
        ),
    )


def import_search_term_report(
    store: SandboxStore,
    name: str,
    report: ImportedReport,
    *,
    today: dt.date,
    brand_terms: tuple[str, ...] = (),
    final_url: str | None = None,
) -> ImportSummary:
    """Add a report to the read-only account `name` (created if new) in one transaction; re-imports add nothing."""
    if not name or name.startswith(RESERVED_PREFIXES):
        raise AdpilotError(f"account name '{name}' is reserved; pick a name without {', '.join(RESERVED_PREFIXES)}")
    if final_url is not None and not FINAL_URL.fullmatch(final_url):
        raise AdpilotError(f"--final-url '{final_url}' is not an http(s) URL such as https://example.com/roofing")
    frame = report.frame.copy()
    frame["campaign_id"] = frame["campaign_id"].where(
        frame["campaign_id"] != "", _stable_id("c", frame["campaign_name"])
    )
    frame["ad_group_id"] = frame["ad_group_id"].where(
        frame["ad_group_id"] != "", _stable_id("g", frame["campaign_name"] + "\u241f" + frame["ad_group_name"])
    )
    period = report.period or ReportPeriod(start=today - dt.timedelta(days=89), end=today)
    account = Account(
        name=name,
        id=name,
        display_name=name,
        platform=Platform.GOOGLE_ADS,
        currency=report.currency or "USD",
        brand_terms=brand_terms,
        read_only=True,
        final_url=final_url,
    )
    with store.transaction():
        try:
            existing = store.open_account(name)
        except UnknownAccountError:
            existing = None
        if existing is not None and not existing.account.read_only:
            raise AdpilotError(f"account '{name}' exists and is not an imported report; pick another name")
        new = _structure(account, frame)
        if existing is not None:
            old = existing.structure()
            new = new.model_copy(
                update={
                    field: tuple({e.id: e for e in (*getattr(old, field), *getattr(new, field))}.values())
                    for field in ("campaigns", "ad_groups", "keywords")
                }
                | {
                    "account": account.model_copy(
                        update={
                            "brand_terms": brand_terms or old.account.brand_terms,
                            "final_url": final_url or old.account.final_url,
                        }
                    )
                }
            )
        rows = store.save_account(new).add_search_terms(
            frame, period.start, period.end, source=report.source_sha256, has_conversions=report.has_conversions
        )
    return ImportSummary(
        account=name,
        rows=rows,
        skipped=report.skipped,
        period=period,
        period_assumed=report.period is None,
        currency=account.currency,
        already_imported=rows == 0 and not frame.empty,
    )
