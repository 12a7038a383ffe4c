"""The Google Ads connector: `GoogleAdsAccount`, an `AdAccount` over the official google-ads client.

Settings come from a `google-ads.yaml` file and/or `GOOGLE_ADS_*` variables that app.settings passes in (the
variables win):
developer_token, customer_id, login_customer_id (a manager account), and either client_id + client_secret +
refresh_token (OAuth, against Google) or access_token (a token with no expiry, never refreshed); plus
api_version (default: the newest version the installed package ships), endpoint, local_channel.

Reaching the local emulator (sandbox/google_ads_emulator.py): set GOOGLE_ADS_ENDPOINT=127.0.0.1:PORT,
GOOGLE_ADS_ACCESS_TOKEN=<the emulator's token> and GOOGLE_ADS_LOCAL_CHANNEL=true. The connector then opens
the gRPC channel with `grpc.local_channel_credentials()`: no TLS certificate, the access token is still sent
as call credentials, and gRPC itself refuses anything that is not a loopback address. Everything else (the
developer-token / login-customer-id headers, GoogleAdsException) is the SDK's own.

Reads use GoogleAdsService.SearchStream with GAQL. Every change is applied through GoogleAdsService.Mutate:
one request type for every resource, temporary resource names for a new ad group's keywords and ad, and
operation indexes in partial failures that map straight back to the change they came from. The inverses a
rollback proposes are `remove` operations on the negatives' criteria (found by reading them first) and
status-only updates (PAUSED) of an ad group or an ad group ad.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import grpc
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ads.account import ApplyResult, ReadBack
from ads.changes import (
    AddCreativeVariants,
    AddNegativeKeywords,
    Change,
    CreateAdGroup,
    CreateSharedNegativeList,
    KeywordSpec,
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
    AccountStructure,
    Ad,
    AdCopy,
    AdGroup,
    Budget,
    Campaign,
    Keyword,
    MatchType,
    MoneyUnit,
    NegativeKeyword,
    Platform,
    ResponsiveSearchAdCopy,
    SharedNegativeList,
    Status,
)
from ads.errors import ConfigurationError, PlatformError
from ads.keyword_matching import normalise
from ads.limits import limit

ACCOUNT_PREFIX = "google-ads:"
GOOGLE_ADS_ENDPOINT = "googleads.googleapis.com"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
CHANNEL_TYPES = {"SEARCH": "search", "PERFORMANCE_MAX": "performance_max"}


def newest_api_version() -> str:
    """The newest API version the installed google-ads package ships (e.g. 'v26')."""
    import google.ads.googleads as package

    versions = [m.name for m in pkgutil.iter_modules(package.__path__) if re.fullmatch(r"v\d+", m.name)]
    return max(versions, key=lambda name: int(name[1:]))


def api_types(version: str) -> ModuleType:
    """`google.ads.googleads.<version>`, whose .services/.resources/.common/.enums/.errors hold the types."""
    return importlib.import_module(f"google.ads.googleads.{version}")


class GoogleAdsSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    developer_token: str
    customer_id: str
    login_customer_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    access_token: str | None = None
    api_version: str = Field(default_factory=newest_api_version)
    endpoint: str = GOOGLE_ADS_ENDPOINT
    local_channel: bool = False
    timeout_seconds: float = 120.0
    quota_retries: int = Field(default=5, ge=0, description="Retries of a RESOURCE_EXHAUSTED request.")
    quota_backoff_seconds: float = Field(default=2.0, ge=0, description="First retry delay; doubles each time.")
    max_operations_per_request: int = Field(default=limit("google_ads_mutate_operations_per_request"), gt=0)

    @field_validator("customer_id", "login_customer_id")
    @classmethod
    def _digits(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = value.replace("-", "").strip()
        if not digits.isdigit():
            raise ValueError(f"a customer id is 10 digits (dashes allowed), got {value!r}")
        return digits

    @classmethod
    def load(
        cls, path: Path | None = None, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> GoogleAdsSettings:
        """From `path` (or GOOGLE_ADS_CONFIGURATION_FILE_PATH), then the GOOGLE_ADS_* variables in `environ`
        (passed in by app.settings, never read from the process here), then `overrides`; each overrides the one
        before. ConfigurationError names every missing value."""
        environ = environ or {}
        path = path or (
            Path(environ["GOOGLE_ADS_CONFIGURATION_FILE_PATH"])
            if environ.get("GOOGLE_ADS_CONFIGURATION_FILE_PATH")
            else None
        )
        values: dict[str, Any] = {}
        if path is not None:
            try:
                loaded = yaml.safe_load(path.read_text()) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigurationError(
                    f"{path}: cannot read Google Ads settings ({exc.__class__.__name__})"
                ) from None
            if not isinstance(loaded, dict):
                raise ConfigurationError(f"{path}: Google Ads settings must be a mapping of keys to values")
            values.update({k: v for k, v in loaded.items() if k in cls.model_fields and v not in (None, "")})
        for name in cls.model_fields:
            if environ.get(f"GOOGLE_ADS_{name.upper()}"):
                values[name] = environ[f"GOOGLE_ADS_{name.upper()}"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        missing = [name for name in ("developer_token", "customer_id") if not values.get(name)]
        if not values.get("access_token"):
            missing += [name for name in ("client_id", "client_secret", "refresh_token") if not values.get(name)]
        if missing:
            source = f"{path} or " if path else ""
            raise ConfigurationError(
                f"Google Ads settings missing: {', '.join(missing)} (set them in {source}GOOGLE_ADS_* variables; "
                "access_token may replace client_id/client_secret/refresh_token)"
            )
        try:
            settings = cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigurationError(f"Google Ads setting {first['loc'][0]}: {first['msg']}") from None
        if settings.local_channel and not settings.endpoint.startswith(tuple(f"{h}:" for h in LOOPBACK_HOSTS)):
            raise ConfigurationError(
                f"Google Ads setting local_channel: only for a loopback endpoint, not {settings.endpoint!r}"
            )
        return settings


class _Operation(NamedTuple):
    change_index: int
    operation: Any  # a MutateOperation
    label: str  # what a person recognises: the keyword, the ad group, the budget
    assets: dict[str, tuple[str, ...]] = {}  # "headlines"/"descriptions" → texts, to name the asset an error points at


def _quote(text: str) -> str:
    """A GAQL string literal; untrusted text stays a value."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _keyword_label(text: str, match_type: MatchType) -> str:
    return f"[{text}]" if match_type is MatchType.EXACT else f'"{text}"' if match_type is MatchType.PHRASE else text


def _key(text: str, match_type: MatchType | str) -> tuple[str, str]:
    return normalise(text), str(MatchType(str(match_type).lower()))


class GoogleAdsAccount:
    """One Google Ads customer account. Implements `ads.account.AdAccount`."""

    def __init__(self, settings: GoogleAdsSettings, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._settings = settings
        self._sleep = sleep
        self._types = api_types(settings.api_version)
        self._temporary_ids = 0

    @classmethod
    def from_name(
        cls,
        name: str,
        settings: GoogleAdsSettings | None = None,
        *,
        variables: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> GoogleAdsAccount:
        """`google-ads:123-456-7890` → that customer; when `settings` are not given, they are loaded from the
        GOOGLE_ADS_* `variables` (and the google-ads.yaml they name) that app.settings passes in."""
        match = re.fullmatch(r"google-ads:(\d{3}-?\d{3}-?\d{4})", name)
        if not match:
            raise ConfigurationError(
                f"not a Google Ads account name: '{name}' (expected google-ads:<10-digit customer id>)"
            )
        customer_id = match.group(1).replace("-", "")
        if settings is None:
            settings = GoogleAdsSettings.load(environ=variables or {}, customer_id=customer_id)
        return cls(settings.model_copy(update={"customer_id": customer_id}), **kwargs)

    @property
    def customer_id(self) -> str:
        return self._settings.customer_id

    # -- the client -----------------------------------------------------------------------

    @cached_property
    def _credentials(self) -> Any:
        from google.oauth2.credentials import Credentials

        s = self._settings
        if s.access_token:
            return Credentials(token=s.access_token)
        return Credentials(
            token=None,
            refresh_token=s.refresh_token,
            client_id=s.client_id,
            client_secret=s.client_secret,
            token_uri="https://oauth2.googleapis.com/token",
        )

    @cached_property
    def google_ads_service(self) -> Any:
        """The GoogleAdsService client, built once (the SDK takes most of a second to build one)."""
        s = self._settings
        if not s.local_channel:
            from google.ads.googleads.client import GoogleAdsClient

            client = GoogleAdsClient(
                credentials=self._credentials,
                developer_token=s.developer_token,
                endpoint=s.endpoint,
                login_customer_id=s.login_customer_id,
                version=s.api_version,
                use_proto_plus=True,
            )
            return client.get_service("GoogleAdsService")
        import google.auth.transport.grpc
        import google.auth.transport.requests
        from google.ads.googleads.interceptors import (
            ExceptionInterceptor,
            MetadataInterceptor,
        )

        channel = google.auth.transport.grpc.secure_authorized_channel(
            self._credentials,
            google.auth.transport.requests.Request(),
            s.endpoint,
            ssl_credentials=grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP),
        )
        channel = grpc.intercept_channel(
            channel,
            MetadataInterceptor(s.developer_token, s.login_customer_id),
            ExceptionInterceptor(s.api_version, use_proto_plus=True),
        )
        module = importlib.import_module(f"google.ads.googleads.{s.api_version}.services.services.google_ads_service")
        client_class = module.GoogleAdsServiceClient
        return client_class(transport=client_class.get_transport_class()(channel=channel))

    def _call(self, what: str, request: Callable[[], Any]) -> Any:
        """Runs `request`, retrying quota exhaustion with exponential backoff; other failures → PlatformError."""
        from google.ads.googleads.errors import GoogleAdsException
        from google.api_core.exceptions import GoogleAPICallError

        attempts = self._settings.quota_retries + 1
        for attempt in range(attempts):
            try:
                return request()
            except GoogleAdsException as exc:
                raise PlatformError(f"Google Ads {what}: {describe_failure(exc)}") from exc
            except (GoogleAPICallError, grpc.RpcError) as exc:
                # the SDK's gapic layer turns a bare gRPC status into a GoogleAPICallError
                code = exc.grpc_status_code if isinstance(exc, GoogleAPICallError) else exc.code()
                if code is not grpc.StatusCode.RESOURCE_EXHAUSTED or attempt == attempts - 1:
                    raise PlatformError(f"Google Ads {what}: {self._describe_status(code, exc, attempts)}") from exc
            self._sleep(self._settings.quota_backoff_seconds * 2**attempt)
        raise AssertionError("unreachable")

    def _describe_status(self, code: grpc.StatusCode | None, exc: Exception, attempts: int) -> str:
        details = getattr(exc, "message", None) or (exc.details() if isinstance(exc, grpc.RpcError) else str(exc))
        if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
            return f"quota exhausted (RESOURCE_EXHAUSTED) after {attempts} attempt(s): {details}"
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return f"network failure reaching {self._settings.endpoint} ({code.name}): {details}"
        return f"{code.name if code else 'error'}: {details}"

    def _search(self, query: str, *, raw: bool = False) -> Iterator[Any]:
        """GoogleAdsRows; `raw` gives the protobuf messages, several times faster to read for large reports."""

        def run() -> list[Any]:
            stream = self.google_ads_service.search_stream(
                customer_id=self.customer_id, query=query, timeout=self._settings.timeout_seconds
            )
            if raw:
                return [row for batch in stream for row in type(batch).pb(batch).results]
            return [row for batch in stream for row in batch.results]

        yield from self._call("search", run)

    def _resource(self, collection: str, resource_id: str) -> str:
        return f"customers/{self.customer_id}/{collection}/{resource_id}"

    # -- reads ------------------------------------------------------------------------------

    @cached_property
    def account(self) -> Account:
        rows = list(
            self._search(
                "SELECT customer.id, customer.descriptive_name, customer.currency_code, customer.time_zone "
                "FROM customer"
            )
        )
        if not rows:
            raise PlatformError(f"Google Ads customer {self.customer_id} returned no customer row")
        customer = rows[0].customer
        return Account(
            name=f"{ACCOUNT_PREFIX}{self.customer_id}",
            id=self.customer_id,
            display_name=customer.descriptive_name or self.customer_id,
            platform=Platform.GOOGLE_ADS,
            currency=customer.currency_code or "USD",
            time_zone=customer.time_zone or "UTC",
        )

    def structure(self) -> AccountStructure:
        campaigns = [
            Campaign(
                id=str(r.campaign.id),
                name=r.campaign.name,
                channel=CHANNEL_TYPES[r.campaign.advertising_channel_type.name],
                status=Status(r.campaign.status.name.lower()),
                budget_id=r.campaign.campaign_budget.rsplit("/", 1)[-1] or None,
            )
            for r in self._search(
                "SELECT campaign.id, campaign.name, campaign.status, campaign.advertising_channel_type, "
                "campaign.campaign_budget FROM campaign WHERE campaign.status != 'REMOVED' "
                "AND campaign.advertising_channel_type IN ('SEARCH', 'PERFORMANCE_MAX') ORDER BY campaign.id"
            )
        ]
        budgets = [
            Budget(
                id=str(r.campaign_budget.id),
                name=r.campaign_budget.name,
                level="campaign",
                daily_amount=r.campaign_budget.amount_micros,
                campaign_ids=tuple(c.id for c in campaigns if c.budget_id == str(r.campaign_budget.id)),
            )
            for r in self._search(
                "SELECT campaign_budget.id, campaign_budget.name, campaign_budget.amount_micros FROM campaign_budget "
                "WHERE campaign_budget.status != 'REMOVED' ORDER BY campaign_budget.id"
            )
        ]
        ad_groups = [
            AdGroup(
                id=str(r.ad_group.id),
                campaign_id=str(r.campaign.id),
                name=r.ad_group.name,
                status=Status(r.ad_group.status.name.lower()),
            )
            for r in self._search(
                "SELECT ad_group.id, ad_group.name, ad_group.status, campaign.id FROM ad_group "
                "WHERE ad_group.status != 'REMOVED' ORDER BY ad_group.id"
            )
        ]
        keywords: list[Keyword] = []
        negatives: list[NegativeKeyword] = []
        for r in self._search(
            "SELECT ad_group_criterion.criterion_id, ad_group_criterion.keyword.text, "
            "ad_group_criterion.keyword.match_type, ad_group_criterion.status, ad_group_criterion.negative, "
            "ad_group.id FROM ad_group_criterion WHERE ad_group_criterion.type = 'KEYWORD' "
            "AND ad_group_criterion.status != 'REMOVED' ORDER BY ad_group_criterion.criterion_id"
        ):
            criterion = r.ad_group_criterion
            match_type = MatchType(criterion.keyword.match_type.name.lower())
            if criterion.negative:
                negatives.append(
                    NegativeKeyword(
                        id=str(criterion.criterion_id),
                        level="ad_group",
                        owner_id=str(r.ad_group.id),
                        text=criterion.keyword.text,
                        match_type=match_type,
                    )
                )
            else:
                keywords.append(
                    Keyword(
                        id=str(criterion.criterion_id),
                        ad_group_id=str(r.ad_group.id),
                        text=criterion.keyword.text,
                        match_type=match_type,
                        status=Status(criterion.status.name.lower()),
                    )
                )
        # Campaign negatives and shared-list negatives are the same query over two resources.
        for level, resource, owner, condition in (
            ("campaign", "campaign_criterion", "campaign", "campaign_criterion.negative = TRUE"),
            ("shared_list", "shared_criterion", "shared_set", "shared_set.type = 'NEGATIVE_KEYWORDS'"),
        ):
            for r in self._search(
                f"SELECT {resource}.criterion_id, {resource}.keyword.text, {resource}.keyword.match_type, "
                f"{owner}.id FROM {resource} WHERE {resource}.type = 'KEYWORD' AND {condition} "
                f"ORDER BY {resource}.criterion_id"
            ):
                criterion = getattr(r, resource)
                negatives.append(
                    NegativeKeyword(
                        id=str(criterion.criterion_id),
                        level=level,
                        owner_id=str(getattr(r, owner).id),
                        text=criterion.keyword.text,
                        match_type=MatchType(criterion.keyword.match_type.name.lower()),
                    )
                )
        links: dict[str, list[str]] = {}
        for r in self._search(
            "SELECT campaign.id, shared_set.id FROM campaign_shared_set "
            "WHERE campaign_shared_set.status = 'ENABLED' ORDER BY campaign.id"
        ):
            links.setdefault(str(r.shared_set.id), []).append(str(r.campaign.id))
        shared_lists = [
            SharedNegativeList(
                id=str(r.shared_set.id), name=r.shared_set.name, campaign_ids=tuple(links.get(str(r.shared_set.id), ()))
            )
            for r in self._search(
                "SELECT shared_set.id, shared_set.name FROM shared_set WHERE shared_set.type = 'NEGATIVE_KEYWORDS' "
                "AND shared_set.status = 'ENABLED' ORDER BY shared_set.id"
            )
        ]
        ads = [self._ad(r) for r in self._search(_ADS_QUERY + " ORDER BY ad_group_ad.ad.id")]
        return AccountStructure(
            account=self.account,
            campaigns=tuple(campaigns),
            budgets=tuple(budgets),
            ad_groups=tuple(ad_groups),
            keywords=tuple(keywords),
            negatives=tuple(negatives),
            shared_lists=tuple(shared_lists),
            ads=tuple(ads),
        )

    @staticmethod
    def _ad(row: Any) -> Ad:
        ad = row.ad_group_ad.ad
        rsa = ad.responsive_search_ad
        copy = ResponsiveSearchAdCopy(
            headlines=tuple(h.text for h in rsa.headlines),
            descriptions=tuple(d.text for d in rsa.descriptions),
            path1=rsa.path1,
            path2=rsa.path2,
            final_url=ad.final_urls[0] if ad.final_urls else "",
        )
        return Ad(
            id=str(ad.id),
            ad_group_id=str(row.ad_group.id),
            status=Status(row.ad_group_ad.status.name.lower()),
            copy_=copy,
        )

    def daily_metrics(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Columns DAILY_METRIC_COLUMNS, one row per day and ad group; cost in micros."""
        rows = [
            (
                r.segments.date,
                str(r.campaign.id),
                str(r.ad_group.id),
                r.metrics.impressions,
                r.metrics.clicks,
                r.metrics.cost_micros,
                r.metrics.conversions,
                r.metrics.conversions_value,
            )
            for r in self._search(
                "SELECT segments.date, campaign.id, ad_group.id, metrics.impressions, metrics.clicks, "
                "metrics.cost_micros, metrics.conversions, metrics.conversions_value FROM ad_group "
                f"WHERE segments.date BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'",
                raw=True,
            )
        ]
        frame = pd.DataFrame(rows, columns=list(DAILY_METRIC_COLUMNS))
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
        ).sort_values(["date", "campaign_id", "ad_group_id"], ignore_index=True)

    def ad_metrics(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Columns AD_METRIC_COLUMNS: `ad_group_ad` metrics per day and RSA; cost in micros."""
        rows = [
            (
                r.segments.date,
                str(r.campaign.id),
                str(r.ad_group.id),
                str(r.ad_group_ad.ad.id),
                r.metrics.impressions,
                r.metrics.clicks,
                r.metrics.cost_micros,
                r.metrics.conversions,
                r.metrics.conversions_value,
            )
            for r in self._search(
                "SELECT segments.date, campaign.id, ad_group.id, ad_group_ad.ad.id, metrics.impressions, "
                "metrics.clicks, metrics.cost_micros, metrics.conversions, metrics.conversions_value FROM ad_group_ad "
                "WHERE ad_group_ad.ad.type = 'RESPONSIVE_SEARCH_AD' AND "
                f"segments.date BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'",
                raw=True,
            )
        ]
        frame = pd.DataFrame(rows, columns=list(AD_METRIC_COLUMNS))
        frame["date"] = pd.to_datetime(frame["date"])
        return frame.astype(
            {
                "campaign_id": str,
                "ad_group_id": str,
                "ad_id": str,
                "impressions": "int64",
                "clicks": "int64",
                "cost": "int64",
                "conversions": "float64",
                "conversion_value": "float64",
            }
        ).sort_values(["date", "campaign_id", "ad_group_id", "ad_id"], ignore_index=True)

    def asset_labels(self) -> pd.DataFrame:
        """Columns ASSET_LABEL_COLUMNS: each RSA headline's and description's performance label
        (`ad_group_ad_asset_view`), lower case as in `AssetPerformanceLabel`."""
        field_types = self._types.enums.AssetFieldTypeEnum.AssetFieldType
        labels = self._types.enums.AssetPerformanceLabelEnum.AssetPerformanceLabel
        rows = [
            (
                str(r.ad_group.id),
                str(r.ad_group_ad.ad.id),
                field_types(r.ad_group_ad_asset_view.field_type).name.lower(),
                r.asset.text_asset.text,
                labels(r.ad_group_ad_asset_view.performance_label).name.lower(),
            )
            for r in self._search(
                "SELECT ad_group.id, ad_group_ad.ad.id, ad_group_ad_asset_view.field_type, "
                "ad_group_ad_asset_view.performance_label, asset.text_asset.text FROM ad_group_ad_asset_view "
                "WHERE ad_group_ad_asset_view.field_type IN ('HEADLINE', 'DESCRIPTION') "
                "AND ad_group_ad_asset_view.enabled = TRUE",
                raw=True,
            )
        ]
        return pd.DataFrame(rows, columns=list(ASSET_LABEL_COLUMNS), dtype=str)

    def search_terms(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Columns SEARCH_TERM_COLUMNS, summed over [start, end] per term, ad group, keyword and match type."""
        enum = self._types.enums.KeywordMatchTypeEnum.KeywordMatchType
        match_types = {enum[m.name.upper()].value: m.value for m in MatchType}
        rows = [
            (
                r.search_term_view.search_term,
                str(r.campaign.id),
                r.campaign.name,
                str(r.ad_group.id),
                r.ad_group.name,
                r.segments.keyword.info.text,
                match_types.get(r.segments.keyword.info.match_type, ""),
                r.metrics.impressions,
                r.metrics.clicks,
                r.metrics.cost_micros,
                r.metrics.conversions,
                r.metrics.conversions_value,
            )
            for r in self._search(
                "SELECT search_term_view.search_term, campaign.id, campaign.name, ad_group.id, ad_group.name, "
                "segments.keyword.info.text, segments.keyword.info.match_type, metrics.impressions, metrics.clicks, "
                "metrics.cost_micros, metrics.conversions, metrics.conversions_value FROM search_term_view "
                f"WHERE segments.date BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'",
                raw=True,
            )
        ]
        frame = pd.DataFrame(rows, columns=list(SEARCH_TERM_COLUMNS))
        keys = ["search_term", "campaign_id", "ad_group_id", "keyword", "match_type"]
        frame = frame.groupby(keys, as_index=False, sort=True).agg(
            campaign_name=("campaign_name", "first"),
            ad_group_name=("ad_group_name", "first"),
            impressions=("impressions", "sum"),
            clicks=("clicks", "sum"),
            cost=("cost", "sum"),
            conversions=("conversions", "sum"),
            conversion_value=("conversion_value", "sum"),
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

    # -- read-back --------------------------------------------------------------------------

    def read_back(self, change: Change) -> ReadBack:
        if isinstance(change, AddNegativeKeywords):
            found = self._negatives_at(change.level, change.target_id)
            present = [k for k in change.keywords if _key(k.text, k.match_type) in found]
            missing = [k for k in change.keywords if _key(k.text, k.match_type) not in found]
            return ReadBack(
                change_hash=change.hash,
                present=not missing,
                state={
                    "present": [_keyword_label(k.text, k.match_type) for k in present],
                    "missing": [_keyword_label(k.text, k.match_type) for k in missing],
                },
                resource_names=tuple(found[_key(k.text, k.match_type)] for k in present),
            )
        if isinstance(change, CreateSharedNegativeList):
            return self._read_back_new_list(change)
        if isinstance(change, CreateAdGroup):
            return self._read_back_ad_group(change)
        if isinstance(change, AddCreativeVariants):
            if not isinstance(change.ad, ResponsiveSearchAdCopy):
                return ReadBack(change_hash=change.hash, present=False, state={"error": "not a responsive search ad"})
            matching = [name for name, copy in self._ads_in(change.ad_group_id) if _same_copy(copy, change.ad)]
            # adGroupAds/<ad group id>~<ad id>: the ad id is what a rollback pauses
            ad_id = matching[0].rsplit("~", 1)[-1] if matching else None
            return ReadBack(
                change_hash=change.hash,
                present=bool(matching),
                state={"matching_ads": len(matching), "ad_id": ad_id},
                resource_names=tuple(matching),
            )
        if isinstance(change, RemoveNegativeKeywords):
            return self._read_back_removal(change)
        if isinstance(change, RemoveSharedNegativeList):
            return self._read_back_list_removal(change)
        if isinstance(change, PauseEntity):
            return self._read_back_pause(change)
        if isinstance(change, ReallocateBudget):
            return self._read_back_reallocation(change)
        return self._read_back_budget(change)

    def _negatives_at(self, level: str, owner_id: str) -> dict[tuple[str, str], str]:
        """(normalised text, match type) → resource name of the negatives at one place."""
        owner = str(int(owner_id)) if owner_id.isdigit() else "0"
        resource, where = {
            "campaign": (
                "campaign_criterion",
                f"campaign.id = {owner} AND campaign_criterion.negative = TRUE AND campaign_criterion.type = 'KEYWORD'",
            ),
            "ad_group": (
                "ad_group_criterion",
                f"ad_group.id = {owner} AND ad_group_criterion.negative = TRUE "
                "AND ad_group_criterion.type = 'KEYWORD' "
                "AND ad_group_criterion.status != 'REMOVED'",
            ),
            "shared_list": ("shared_criterion", f"shared_set.id = {owner} AND shared_criterion.type = 'KEYWORD'"),
        }[level]
        rows = self._search(
            f"SELECT {resource}.resource_name, {resource}.keyword.text, {resource}.keyword.match_type "
            f"FROM {resource} WHERE {where}"
        )
        found = {}
        for row in rows:
            criterion = getattr(row, resource)
            found[_key(criterion.keyword.text, criterion.keyword.match_type.name)] = criterion.resource_name
        return found

    def _read_back_new_list(self, change: CreateSharedNegativeList) -> ReadBack:
        """Present once a negative keyword list of that name holds every keyword and is on every campaign."""
        lists = self._search(
            "SELECT shared_set.id, shared_set.name, shared_set.resource_name FROM shared_set "
            "WHERE shared_set.type = 'NEGATIVE_KEYWORDS' AND shared_set.status = 'ENABLED'"
        )
        shared = next((r.shared_set for r in lists if normalise(r.shared_set.name) == normalise(change.name)), None)
        labels = [_keyword_label(k.text, k.match_type) for k in change.keywords]
        if shared is None:
            state = {"shared_list_id": None, "missing": labels, "unattached_campaigns": list(change.campaign_ids)}
            return ReadBack(change_hash=change.hash, present=False, state=state)
        found = self._negatives_at("shared_list", str(shared.id))
        attached = {
            str(r.campaign.id)
            for r in self._search(
                "SELECT campaign.id FROM campaign_shared_set "
                f"WHERE shared_set.id = {shared.id} AND campaign_shared_set.status = 'ENABLED'"
            )
        }
        keys = [_key(k.text, k.match_type) for k in change.keywords]
        missing = [label for label, key in zip(labels, keys, strict=True) if key not in found]
        unattached = [c for c in change.campaign_ids if c not in attached]
        return ReadBack(
            change_hash=change.hash,
            present=not missing and not unattached,
            state={"shared_list_id": str(shared.id), "missing": missing, "unattached_campaigns": unattached},
            resource_names=(shared.resource_name, *(found[key] for key in dict.fromkeys(keys) if key in found)),
        )

    def _read_back_removal(self, change: RemoveNegativeKeywords) -> ReadBack:
        """Present once none of the keywords is left at a place that still exists (a vanished place is reported)."""
        found = self._negatives_at(change.level, change.target_id)
        wanted = {_key(k.text, k.match_type): k for k in reversed(change.keywords)}  # the first spelling wins
        remaining = [key for key in dict.fromkeys(_key(k.text, k.match_type) for k in change.keywords) if key in found]
        exists = bool(remaining) or self._target_exists(change.level, change.target_id)
        return ReadBack(
            change_hash=change.hash,
            present=exists and not remaining,
            state={
                "target_exists": exists,
                "still_present": [_keyword_label(wanted[key].text, wanted[key].match_type) for key in remaining],
            },
            resource_names=tuple(found[key] for key in remaining),
        )

    def _read_back_list_removal(self, change: RemoveSharedNegativeList) -> ReadBack:
        """Present once no live SharedSet has the list's id (removing one detaches it from its campaigns too)."""
        owner = str(int(change.shared_list_id)) if change.shared_list_id.isdigit() else "0"
        lists = list(
            self._search(
                "SELECT shared_set.resource_name, shared_set.member_count FROM shared_set "
                f"WHERE shared_set.id = {owner} AND shared_set.status = 'ENABLED'"
            )
        )
        if not lists:
            return ReadBack(change_hash=change.hash, present=True, state={"list_exists": False})
        attached = [
            str(r.campaign.id)
            for r in self._search(
                "SELECT campaign.id FROM campaign_shared_set "
                f"WHERE shared_set.id = {owner} AND campaign_shared_set.status = 'ENABLED'"
            )
        ]
        shared = lists[0].shared_set
        return ReadBack(
            change_hash=change.hash,
            present=False,
            state={"list_exists": True, "negatives": shared.member_count, "attached_campaigns": attached},
            resource_names=(shared.resource_name,),
        )

    def _target_exists(self, level: str, target_id: str) -> bool:
        resource = {"campaign": "campaign", "ad_group": "ad_group", "shared_list": "shared_set"}[level]
        owner = str(int(target_id)) if target_id.isdigit() else "0"
        return bool(
            list(
                self._search(
                    f"SELECT {resource}.id FROM {resource} WHERE {resource}.id = {owner} "
                    f"AND {resource}.status != 'REMOVED'"
                )
            )
        )

    def _read_back_pause(self, change: PauseEntity) -> ReadBack:
        entity = str(int(change.entity_id)) if change.entity_id.isdigit() else "0"
        resource, where = {
            "ad_group": ("ad_group", f"ad_group.id = {entity}"),
            "ad": ("ad_group_ad", f"ad_group_ad.ad.id = {entity}"),
        }[change.level]
        rows = list(
            self._search(
                f"SELECT {resource}.resource_name, {resource}.status FROM {resource} "
                f"WHERE {where} AND {resource}.status != 'REMOVED'"
            )
        )
        if not rows:
            return ReadBack(change_hash=change.hash, present=False, state={"status": None})
        found = getattr(rows[0], resource)
        return ReadBack(
            change_hash=change.hash,
            present=found.status.name == "PAUSED",
            state={"status": found.status.name.lower()},
            resource_names=(found.resource_name,),
        )

    def _ads_in(self, ad_group_id: str) -> list[tuple[str, AdCopy]]:
        owner = str(int(ad_group_id)) if ad_group_id.isdigit() else "0"
        rows = self._search(_ADS_QUERY + f" AND ad_group.id = {owner}")
        return [(r.ad_group_ad.resource_name, self._ad(r).copy_) for r in rows]

    def _read_back_ad_group(self, change: CreateAdGroup) -> ReadBack:
        campaign = str(int(change.campaign_id)) if change.campaign_id.isdigit() else "0"
        groups = list(
            self._search(
                "SELECT ad_group.id, ad_group.resource_name, ad_group.status FROM ad_group "
                f"WHERE campaign.id = {campaign} "
                f"AND ad_group.name = {_quote(change.name)} AND ad_group.status != 'REMOVED'"
            )
        )
        if not groups:
            return ReadBack(change_hash=change.hash, present=False, state={"ad_group": None})
        group = groups[0].ad_group
        found = {
            _key(r.ad_group_criterion.keyword.text, r.ad_group_criterion.keyword.match_type.name)
            for r in self._search(
                "SELECT ad_group_criterion.keyword.text, ad_group_criterion.keyword.match_type FROM ad_group_criterion "
                f"WHERE ad_group.id = {group.id} AND ad_group_criterion.negative = FALSE "
                "AND ad_group_criterion.status != 'REMOVED'"
            )
        }
        missing = [
            _keyword_label(k.text, k.match_type) for k in change.keywords if _key(k.text, k.match_type) not in found
        ]
        ads = [name for name, copy in self._ads_in(str(group.id)) if _same_copy(copy, change.ad)]
        return ReadBack(
            change_hash=change.hash,
            present=not missing and bool(ads),
            state={
                "ad_group_id": str(group.id),
                "status": group.status.name.lower(),
                "missing_keywords": missing,
                "ad_present": bool(ads),
            },
            resource_names=(group.resource_name, *ads),
        )

    def _read_back_budget(self, change: SetBudget) -> ReadBack:
        budget = str(int(change.budget_id)) if change.budget_id.isdigit() else "0"
        rows = list(
            self._search(
                "SELECT campaign_budget.resource_name, campaign_budget.amount_micros "
                f"FROM campaign_budget WHERE campaign_budget.id = {budget}"
            )
        )
        if not rows:
            return ReadBack(change_hash=change.hash, present=False, state={"daily_amount": None})
        amount = rows[0].campaign_budget.amount_micros
        return ReadBack(
            change_hash=change.hash,
            present=amount == change.to_amount,
            state={"daily_amount": amount},
            resource_names=(rows[0].campaign_budget.resource_name,),
        )

    def _read_back_reallocation(self, change: ReallocateBudget) -> ReadBack:
        ids = ", ".join(str(int(leg.budget_id)) if leg.budget_id.isdigit() else "0" for leg in change.legs)
        rows = self._search(
            "SELECT campaign_budget.id, campaign_budget.resource_name, campaign_budget.amount_micros "
            f"FROM campaign_budget WHERE campaign_budget.id IN ({ids})"
        )
        found = {str(r.campaign_budget.id): r.campaign_budget for r in rows}
        amounts = {
            leg.budget_id: found[leg.budget_id].amount_micros if leg.budget_id in found else None for leg in change.legs
        }
        return ReadBack(
            change_hash=change.hash,
            present=all(amounts[leg.budget_id] == leg.to_amount for leg in change.legs),
            state={"daily_amounts": amounts},
            resource_names=tuple(found[leg.budget_id].resource_name for leg in change.legs if leg.budget_id in found),
        )

    # -- apply ------------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change], *, validate_only: bool) -> list[ApplyResult]:
        """validate_only: one validate-only request. Otherwise: validate, mutate with partial failure, read back."""
        results: dict[int, ApplyResult] = {}
        operations: list[_Operation] = []
        for index, change in enumerate(changes):
            try:
                planned = self._plan(index, change)
            except PlatformError as exc:
                results[index] = ApplyResult(change_hash=change.hash, status="failed", message=str(exc))
                continue
            if isinstance(planned, ApplyResult):
                results[index] = planned
            else:
                operations += planned
        atomic = {i for i, c in enumerate(changes) if isinstance(c, ReallocateBudget)}
        failures = self._send(operations, atomic, validate_only=True)
        if validate_only:
            for index in {op.change_index for op in operations}:
                results[index] = _result(changes[index], failures, index, "validated")
            return [results[i] for i in range(len(changes))]
        for index in failures:
            results[index] = _result(changes[index], failures, index, "failed")
        to_send = [op for op in operations if op.change_index not in failures]
        resource_names: dict[int, list[str]] = {}
        failures = self._send(to_send, atomic, validate_only=False, resource_names=resource_names)
        for index in {op.change_index for op in to_send}:
            change = changes[index]
            if index in failures:
                results[index] = _result(change, failures, index, "failed")
                continue
            try:
                confirmed = self.read_back(change)
            except PlatformError as exc:
                results[index] = ApplyResult(
                    change_hash=change.hash, status="failed", message=f"sent, but the read-back failed: {exc}"
                )
                continue
            results[index] = ApplyResult(
                change_hash=change.hash,
                status="applied" if confirmed.present else "failed",
                message="" if confirmed.present else f"sent, but the read-back did not confirm it: {confirmed.state}",
                resource_names=tuple(resource_names.get(index, ())) or confirmed.resource_names,
                before=_before(change),
                after=confirmed.state,
            )
        return [results[i] for i in range(len(changes))]

    def _send(
        self,
        operations: list[_Operation],
        atomic: set[int],
        *,
        validate_only: bool,
        resource_names: dict[int, list[str]] | None = None,
    ) -> dict[int, list[str]]:
        """The changes in `atomic` (reallocations) each go in a request of their own with partial failure off,
        so Google applies all their operations or none; the rest share requests with partial failure on."""
        failures = self._mutate(
            [op for op in operations if op.change_index not in atomic],
            validate_only=validate_only,
            resource_names=resource_names,
        )
        for index in sorted(atomic):
            own = [op for op in operations if op.change_index == index]
            if own:
                failures |= self._mutate(
                    own, validate_only=validate_only, resource_names=resource_names, partial_failure=False
                )
        return failures

    def _plan(self, index: int, change: Change) -> list[_Operation] | ApplyResult:
        """The operations a change needs, or its result when nothing should be sent."""
        if change.account != f"{ACCOUNT_PREFIX}{self.customer_id}":
            return ApplyResult(
                change_hash=change.hash,
                status="failed",
                message=f"change is for account {change.account!r}, not {ACCOUNT_PREFIX}{self.customer_id}",
            )
        if isinstance(change, AddCreativeVariants) and not isinstance(change.ad, ResponsiveSearchAdCopy):
            return ApplyResult(
                change_hash=change.hash,
                status="failed",
                message="Google Ads takes responsive search ads, not Meta ad copy",
            )
        if isinstance(change, ReallocateBudget) and (
            any(leg.level != "campaign" for leg in change.legs) or change.unit is not MoneyUnit.MICROS
        ):
            return ApplyResult(
                change_hash=change.hash,
                status="failed",
                message="Google Ads budgets are campaign budgets in micros",
            )
        if isinstance(change, SetBudget) and (change.level != "campaign" or change.unit is not MoneyUnit.MICROS):
            return ApplyResult(
                change_hash=change.hash,
                status="failed",
                message="Google Ads budgets are campaign budgets in micros, "
                f"not {change.level.replace('_', ' ')} budgets in {change.unit.value} units",
            )
        current = self.read_back(change)
        if current.present:
            return ApplyResult(
                change_hash=change.hash,
                status="already_applied",
                message="the account already holds it",
                resource_names=current.resource_names,
                after=current.state,
            )
        if isinstance(change, SetBudget):
            amount = current.state.get("daily_amount")
            if amount is not None and amount != change.from_amount:
                return ApplyResult(
                    change_hash=change.hash,
                    status="failed",
                    message=f"budget {change.budget_id} is now {amount}, the change expected {change.from_amount}",
                )
        if isinstance(change, ReallocateBudget):
            amounts = current.state["daily_amounts"]
            stale = [leg for leg in change.legs if amounts[leg.budget_id] != leg.from_amount]
            if stale:
                return ApplyResult(
                    change_hash=change.hash,
                    status="failed",
                    message="; ".join(
                        f"budget {leg.budget_id} is now {amounts[leg.budget_id]}, the change expected {leg.from_amount}"
                        for leg in stale
                    ),
                )
            return [self._budget_operation(index, leg.budget_id, leg.to_amount, leg.budget_name) for leg in change.legs]
        if isinstance(change, AddNegativeKeywords):
            missing = [k for k in change.keywords if _keyword_label(k.text, k.match_type) in current.state["missing"]]
            return [
                _Operation(
                    index,
                    self._negative_operation(change, k),
                    f"negative keyword {_keyword_label(k.text, k.match_type)}",
                )
                for k in missing
            ]
        if isinstance(change, CreateSharedNegativeList):
            return self._new_list_operations(index, change, current)
        if isinstance(change, RemoveSharedNegativeList):
            services = self._types.services
            operation = services.MutateOperation(
                shared_set_operation=services.SharedSetOperation(remove=current.resource_names[0])
            )
            return [_Operation(index, operation, f"shared negative list {change.name or change.shared_list_id!r}")]
        if isinstance(change, CreateAdGroup):
            return self._ad_group_operations(index, change)
        if isinstance(change, RemoveNegativeKeywords | PauseEntity) and not current.resource_names:
            place_id = change.target_id if isinstance(change, RemoveNegativeKeywords) else change.entity_id
            return ApplyResult(
                change_hash=change.hash,
                status="failed",
                message=f"{change.level.replace('_', ' ')} {place_id} does not exist",
            )
        if isinstance(change, RemoveNegativeKeywords):
            return [
                _Operation(index, self._remove_negative_operation(change.level, name), f"negative keyword {label}")
                for name, label in zip(current.resource_names, current.state["still_present"], strict=True)
            ]
        if isinstance(change, PauseEntity):
            return [self._pause_operation(index, change, current.resource_names[0])]
        if isinstance(change, AddCreativeVariants):
            assert isinstance(change.ad, ResponsiveSearchAdCopy)  # Meta copy was refused above
            return [
                self._ad_operation(
                    index,
                    self._resource("adGroups", change.ad_group_id),
                    change.ad,
                    change.paused,
                    f"responsive search ad in ad group {change.ad_group_name or change.ad_group_id}",
                )
            ]
        assert isinstance(change, SetBudget)
        return [self._budget_operation(index, change.budget_id, change.to_amount, change.budget_name)]

    def _negative_operation(self, change: AddNegativeKeywords, keyword: KeywordSpec) -> Any:
        t = self._types
        info = t.common.KeywordInfo(text=keyword.text, match_type=keyword.match_type.name)
        if change.level == "campaign":
            return t.services.MutateOperation(
                campaign_criterion_operation=t.services.CampaignCriterionOperation(
                    create=t.resources.CampaignCriterion(
                        campaign=self._resource("campaigns", change.target_id), negative=True, keyword=info
                    )
                )
            )
        if change.level == "ad_group":
            return t.services.MutateOperation(
                ad_group_criterion_operation=t.services.AdGroupCriterionOperation(
                    create=t.resources.AdGroupCriterion(
                        ad_group=self._resource("adGroups", change.target_id), negative=True, keyword=info
                    )
                )
            )
        return t.services.MutateOperation(
            shared_criterion_operation=t.services.SharedCriterionOperation(
                create=t.resources.SharedCriterion(
                    shared_set=self._resource("sharedSets", change.target_id), keyword=info
                )
            )
        )

    def _new_list_operations(self, index: int, change: CreateSharedNegativeList, current: ReadBack) -> list[_Operation]:
        """SharedSet, its SharedCriterion keywords and a CampaignSharedSet per campaign, in one request (a temporary
        id names the new list); where an earlier attempt left the list, only what it still lacks."""
        t = self._types
        operations = []
        if current.state["shared_list_id"] is None:
            self._temporary_ids += 1
            shared_set = self._resource("sharedSets", f"-{self._temporary_ids}")
            create = t.resources.SharedSet(resource_name=shared_set, name=change.name, type_="NEGATIVE_KEYWORDS")
            operation = t.services.MutateOperation(shared_set_operation=t.services.SharedSetOperation(create=create))
            operations.append(_Operation(index, operation, f"shared negative list {change.name!r}"))
        else:
            shared_set = self._resource("sharedSets", current.state["shared_list_id"])
        for keyword in change.keywords:
            label = _keyword_label(keyword.text, keyword.match_type)
            if label in current.state["missing"]:
                info = t.common.KeywordInfo(text=keyword.text, match_type=keyword.match_type.name)
                criterion = t.resources.SharedCriterion(shared_set=shared_set, keyword=info)
                operation = t.services.MutateOperation(
                    shared_criterion_operation=t.services.SharedCriterionOperation(create=criterion)
                )
                operations.append(_Operation(index, operation, f"negative keyword {label} in {change.name!r}"))
        for campaign in current.state["unattached_campaigns"]:
            link = t.resources.CampaignSharedSet(campaign=self._resource("campaigns", campaign), shared_set=shared_set)
            operation = t.services.MutateOperation(
                campaign_shared_set_operation=t.services.CampaignSharedSetOperation(create=link)
            )
            operations.append(_Operation(index, operation, f"list {change.name!r} on campaign {campaign}"))
        return operations

    def _remove_negative_operation(self, level: str, resource_name: str) -> Any:
        services = self._types.services
        field, operation = {
            "campaign": ("campaign_criterion_operation", services.CampaignCriterionOperation),
            "ad_group": ("ad_group_criterion_operation", services.AdGroupCriterionOperation),
            "shared_list": ("shared_criterion_operation", services.SharedCriterionOperation),
        }[level]
        return services.MutateOperation(**{field: operation(remove=resource_name)})

    def _pause_operation(self, index: int, change: PauseEntity, resource_name: str) -> _Operation:
        from google.api_core.protobuf_helpers import field_mask

        t = self._types
        resource, field = ("AdGroup", "ad_group") if change.level == "ad_group" else ("AdGroupAd", "ad_group_ad")
        entity = getattr(t.resources, resource)(resource_name=resource_name, status="PAUSED")
        update = getattr(t.services, f"{resource}Operation")(
            update=entity, update_mask=field_mask(None, type(entity).pb(entity))
        )
        label = f"{change.level.replace('_', ' ')} {change.entity_name or change.entity_id}"
        return _Operation(index, t.services.MutateOperation(**{f"{field}_operation": update}), label)

    def _ad_group_operations(self, index: int, change: CreateAdGroup) -> list[_Operation]:
        t = self._types
        self._temporary_ids += 1
        ad_group = self._resource("adGroups", f"-{self._temporary_ids}")  # a temporary id, valid within one request
        status = "PAUSED" if change.paused else "ENABLED"
        operations = [
            _Operation(
                index,
                t.services.MutateOperation(
                    ad_group_operation=t.services.AdGroupOperation(
                        create=t.resources.AdGroup(
                            resource_name=ad_group,
                            name=change.name,
                            status=status,
                            type_="SEARCH_STANDARD",
                            campaign=self._resource("campaigns", change.campaign_id),
                        )
                    )
                ),
                f"ad group {change.name!r}",
            )
        ]
        operations += [
            _Operation(
                index,
                t.services.MutateOperation(
                    ad_group_criterion_operation=t.services.AdGroupCriterionOperation(
                        create=t.resources.AdGroupCriterion(
                            ad_group=ad_group,
                            status="ENABLED",
                            keyword=t.common.KeywordInfo(text=k.text, match_type=k.match_type.name),
                        )
                    )
                ),
                f"keyword {_keyword_label(k.text, k.match_type)}",
            )
            for k in change.keywords
        ]
        operations.append(
            self._ad_operation(
                index, ad_group, change.ad, change.paused, f"responsive search ad in ad group {change.name!r}"
            )
        )
        return operations

    def _ad_operation(
        self, index: int, ad_group: str, copy: ResponsiveSearchAdCopy, paused: bool, label: str
    ) -> _Operation:
        t = self._types
        rsa = t.common.ResponsiveSearchAdInfo(
            headlines=[t.common.AdTextAsset(text=h) for h in copy.headlines],
            descriptions=[t.common.AdTextAsset(text=d) for d in copy.descriptions],
            path1=copy.path1,
            path2=copy.path2,
        )
        operation = t.services.MutateOperation(
            ad_group_ad_operation=t.services.AdGroupAdOperation(
                create=t.resources.AdGroupAd(
                    ad_group=ad_group,
                    status="PAUSED" if paused else "ENABLED",
                    ad=t.resources.Ad(final_urls=[copy.final_url], responsive_search_ad=rsa),
                )
            )
        )
        return _Operation(index, operation, label, {"headlines": copy.headlines, "descriptions": copy.descriptions})

    def _budget_operation(self, index: int, budget_id: str, amount: int, name: str) -> _Operation:
        from google.api_core.protobuf_helpers import field_mask

        t = self._types
        budget = t.resources.CampaignBudget(
            resource_name=self._resource("campaignBudgets", budget_id), amount_micros=amount
        )
        operation = t.services.MutateOperation(
            campaign_budget_operation=t.services.CampaignBudgetOperation(
                update=budget, update_mask=field_mask(None, type(budget).pb(budget))
            )
        )
        return _Operation(index, operation, f"budget {name or budget_id}")

    def _chunks(self, operations: list[_Operation]) -> Iterator[list[_Operation]]:
        """Requests of at most max_operations_per_request; a change's operations stay together when they fit."""
        size = self._settings.max_operations_per_request
        chunk: list[_Operation] = []
        by_change: dict[int, list[_Operation]] = {}
        for op in operations:
            by_change.setdefault(op.change_index, []).append(op)
        for group in by_change.values():
            if chunk and len(chunk) + len(group) > size:
                yield chunk
                chunk = []
            for op in group:
                chunk.append(op)
                if len(chunk) == size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def _mutate(
        self,
        operations: list[_Operation],
        *,
        validate_only: bool,
        resource_names: dict[int, list[str]] | None = None,
        partial_failure: bool = True,
    ) -> dict[int, list[str]]:
        """Sends `operations` (with partial failure unless told); returns the failure messages per change index."""
        from google.ads.googleads.errors import GoogleAdsException

        failures: dict[int, list[str]] = {}
        for chunk in self._chunks(operations):
            request = self._types.services.MutateGoogleAdsRequest(
                customer_id=self.customer_id,
                mutate_operations=[op.operation for op in chunk],
                partial_failure=partial_failure,
                validate_only=validate_only,
            )

            def mutate(request: Any = request) -> Any:
                return self.google_ads_service.mutate(request=request, timeout=self._settings.timeout_seconds)

            try:
                response = self._call("mutate", mutate)
            except PlatformError as exc:
                cause = exc.__cause__
                located = _failures_by_operation(cause.failure, chunk) if isinstance(cause, GoogleAdsException) else {}
                for index in dict.fromkeys(op.change_index for op in chunk):  # the whole request failed
                    failures.setdefault(index, []).extend(located.get(index, [str(exc)]))
                continue
            for index, messages in self._partial_failures(response, chunk).items():
                failures.setdefault(index, []).extend(messages)
            if resource_names is not None:
                for op, result in zip(chunk, response.mutate_operation_responses, strict=True):
                    name = _result_resource_name(result)
                    if name:
                        resource_names.setdefault(op.change_index, []).append(name)
        return failures

    def _partial_failures(self, response: Any, chunk: list[_Operation]) -> dict[int, list[str]]:
        status = response.partial_failure_error
        if not status or not status.code:
            return {}
        failures: dict[int, list[str]] = {}
        for detail in status.details:
            failure = self._types.errors.GoogleAdsFailure.deserialize(detail.value)
            for index, messages in _failures_by_operation(failure, chunk).items():
                failures.setdefault(index, []).extend(messages)
        return failures


_ADS_QUERY = (
    "SELECT ad_group_ad.resource_name, ad_group_ad.status, ad_group_ad.ad.id, ad_group.id, ad_group_ad.ad.final_urls, "
    "ad_group_ad.ad.responsive_search_ad.headlines, ad_group_ad.ad.responsive_search_ad.descriptions, "
    "ad_group_ad.ad.responsive_search_ad.path1, ad_group_ad.ad.responsive_search_ad.path2 FROM ad_group_ad "
    "WHERE ad_group_ad.ad.type = 'RESPONSIVE_SEARCH_AD' AND ad_group_ad.status != 'REMOVED'"
)


def _same_copy(found: Any, wanted: ResponsiveSearchAdCopy) -> bool:
    return (
        isinstance(found, ResponsiveSearchAdCopy)
        and found.headlines == wanted.headlines
        and found.descriptions == wanted.descriptions
        and found.final_url == wanted.final_url
    )


def _error_code(error: Any) -> str:
    """'string_length_error.TOO_LONG' for a GoogleAdsError."""
    code = error.error_code
    kind = type(code).pb(code).WhichOneof("error_code")
    return f"{kind}.{getattr(code, kind).name}" if kind else "UNKNOWN"


def _error_text(error: Any) -> str:
    trigger = error.trigger.string_value if error.trigger else ""
    return f"{_error_code(error)}: {error.message}" + (f" ({trigger!r})" if trigger else "")


def describe_failure(exc: Any) -> str:
    """One line for a GoogleAdsException: gRPC status, then each error's code and message."""
    return f"{exc.error.code().name}: " + "; ".join(_error_text(e) for e in exc.failure.errors)


def _failures_by_operation(failure: Any, chunk: list[_Operation]) -> dict[int, list[str]]:
    """Each error mapped to the change whose operation it points at, naming the keyword or asset."""
    failures: dict[int, list[str]] = {}
    for error in failure.errors:
        path = list(error.location.field_path_elements)
        if not path or path[0].field_name != "mutate_operations" or path[0].index >= len(chunk):
            continue
        op = chunk[path[0].index]
        label = op.label
        asset = next((e for e in path if e.field_name in op.assets), None)
        if asset is not None and asset.index < len(op.assets[asset.field_name]):
            label += f", {asset.field_name[:-1]} {op.assets[asset.field_name][asset.index]!r}"
        failures.setdefault(op.change_index, []).append(f"{label}: {_error_text(error)}")
    return failures


def _result_resource_name(result: Any) -> str:
    kind = type(result).pb(result).WhichOneof("response")
    return getattr(result, kind).resource_name if kind else ""


def _result(change: Change, failures: dict[int, list[str]], index: int, ok_status: str) -> ApplyResult:
    messages = failures.get(index)
    if messages:
        return ApplyResult(change_hash=change.hash, status="failed", message="; ".join(messages))
    return ApplyResult(change_hash=change.hash, status=ok_status)


def _before(change: Change) -> dict[str, Any]:
    if isinstance(change, SetBudget):
        return {"daily_amount": change.from_amount}
    if isinstance(change, ReallocateBudget):
        return {"daily_amounts": {leg.budget_id: leg.from_amount for leg in change.legs}}
    return {}
