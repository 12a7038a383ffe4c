"""A local Google Ads API for the real google-ads client, backed by a sandbox account.

It serves `GoogleAdsService` (Search, SearchStream with the GAQL subset of sandbox/gaql.py, and Mutate) on
127.0.0.1 with gRPC local credentials: no certificate, loopback only, and the client's access token still
arrives as call credentials. Requests and responses are the SDK's own proto-plus types. Errors are real
`GoogleAdsFailure`s in the trailing metadata, or in `partial_failure_error` when partial failure is on.
Search returns every row in one page. Mutates create negatives, ad groups with keywords and RSAs and shared
sets; remove negative keyword criteria and shared sets (with their keywords and campaign links); update budgets
and the status of ad groups and ads. They are validated against the current account plus the earlier operations
of the same request (temporary ids such as `customers/1/adGroups/-1` resolve) and written in one
`SandboxAccount.write`.

    with start_google_ads_emulator(account) as emulator:
        settings = GoogleAdsSettings.load(environ=emulator.client_settings())
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.protobuf.field_mask_pb2 import FieldMask
from google.rpc import status_pb2

from ads.ad_copy import ad_text_length
from ads.entities import (
    AccountEntity,
    AccountStructure,
    Ad,
    AdGroup,
    Budget,
    Campaign,
    Keyword,
    MatchType,
    NegativeKeyword,
    ResponsiveSearchAdCopy,
    SharedNegativeList,
    Status,
)
from ads.google_ads import api_types, newest_api_version
from ads.keyword_matching import normalise
from ads.limits import limit
from sandbox.gaql import GaqlError, GaqlQuery, date_range, evaluate, parse_gaql
from sandbox.store import SandboxAccount

STREAM_BATCH_ROWS = 10_000
CHANNEL_TYPES = {"search": "SEARCH", "performance_max": "PERFORMANCE_MAX"}
METRICS = (
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
    "metrics.conversions",
    "metrics.conversions_value",
)
SEARCH_TERM_VIEW_FIELDS = {
    "search_term_view.search_term",
    "search_term_view.status",
    "search_term_view.resource_name",
    "campaign.id",
    "campaign.name",
    "ad_group.id",
    "ad_group.name",
    "segments.keyword.info.text",
    "segments.keyword.info.match_type",
    "segments.date",
    *METRICS,
}
AD_GROUP_AD_ASSET_VIEW_FIELDS = {
    "ad_group_ad_asset_view.resource_name",
    "ad_group_ad_asset_view.ad_group_ad",
    "ad_group_ad_asset_view.asset",
    "ad_group_ad_asset_view.field_type",
    "ad_group_ad_asset_view.performance_label",
    "ad_group_ad_asset_view.enabled",
    "asset.id",
    "asset.resource_name",
    "asset.type",
    "asset.text_asset.text",
    "ad_group_ad.ad.id",
    "ad_group.id",
    "campaign.id",
}
# operation kind -> (negative level, resource collection, result field) of a negative keyword criterion
_NEGATIVE_CRITERIA = {
    "campaign_criterion_operation": ("campaign", "campaignCriteria", "campaign_criterion_result"),
    "ad_group_criterion_operation": ("ad_group", "adGroupCriteria", "ad_group_criterion_result"),
    "shared_criterion_operation": ("shared_list", "sharedCriteria", "shared_criterion_result"),
}
E = TypeVar("E", bound=AccountEntity)
_RESOURCE_NAME = re.compile(r"customers/(\d+)/(\w+)/(-?\d+(?:~-?\d+)?)")


class OperationError(Exception):
    """One operation's failure: an error code, a message, the offending value, the path below the operation."""

    def __init__(self, kind: str, code: str, message: str, trigger: str = "", path: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.kind, self.code, self.message, self.trigger, self.path = kind, code, message, trigger, path


class _Abort(Exception):
    def __init__(self, status: grpc.StatusCode, errors: list[OperationError]) -> None:
        super().__init__(errors[0].message)
        self.status, self.errors = status, errors


class _Mutation:
    """The account as the operations of one request see it: the stored entities plus the earlier operations."""

    def __init__(self, emulator: GoogleAdsEmulator) -> None:
        structure = emulator.account.structure()
        self.customer_id = emulator.customer_id
        self.entities: dict[tuple[type, str], AccountEntity] = {}
        for group in (
            structure.campaigns,
            structure.budgets,
            structure.ad_groups,
            structure.keywords,
            structure.negatives,
            structure.shared_lists,
            structure.ads,
        ):
            for entity in group:
                self.entities[(type(entity), entity.id)] = entity
        self.temporary: dict[str, str] = {}
        self.upserts: dict[tuple[type, str], AccountEntity] = {}
        self.removals: dict[tuple[type, str], AccountEntity] = {}

    def put(self, entity: AccountEntity) -> None:
        self.entities[(type(entity), entity.id)] = entity
        self.upserts[(type(entity), entity.id)] = entity

    def remove(self, entity: AccountEntity) -> None:
        key = (type(entity), entity.id)
        del self.entities[key]
        self.upserts.pop(key, None)
        self.removals[key] = entity

    def find(self, kind: type[E], resource_name: str, collection: str, path: tuple[Any, ...]) -> E:
        match = _RESOURCE_NAME.fullmatch(resource_name or "")
        if not match or match.group(1) != self.customer_id or match.group(2) != collection:
            raise OperationError(
                "mutate_error", "RESOURCE_NOT_FOUND", f"Resource was not found: {resource_name!r}.", resource_name, path
            )
        entity_id = self.temporary.get(match.group(3), match.group(3))
        entity = self.entities.get((kind, entity_id))
        if not isinstance(entity, kind) or getattr(entity, "status", None) is Status.REMOVED:
            raise OperationError(
                "mutate_error", "RESOURCE_NOT_FOUND", f"Resource was not found: {resource_name!r}.", resource_name, path
            )
        return entity

    def find_child(
        self, kind: type, resource_name: str, collection: str, path: tuple[Any, ...], parent_of: Callable[[Any], str]
    ) -> Any:
        """An entity named `customers/C/<collection>/<parent id>~<id>`, whose parent must be the one named."""
        match = _RESOURCE_NAME.fullmatch(resource_name or "")
        parent, _, entity_id = match.group(3).partition("~") if match else ("", "", "")
        entity = self.entities.get((kind, entity_id))
        if (
            not match
            or match.group(1) != self.customer_id
            or match.group(2) != collection
            or entity is None
            or parent_of(entity) != parent
            or getattr(entity, "status", None) is Status.REMOVED
        ):
            raise OperationError(
                "mutate_error", "RESOURCE_NOT_FOUND", f"Resource was not found: {resource_name!r}.", resource_name, path
            )
        return entity

    def negative_exists(self, level: str, owner_id: str, text: str, match_type: MatchType) -> bool:
        key = normalise(text)
        return any(
            isinstance(e, NegativeKeyword)
            and e.level == level
            and e.owner_id == owner_id
            and normalise(e.text) == key
            and e.match_type is match_type
            for e in self.entities.values()
        )

    def keyword_exists(self, ad_group_id: str, text: str, match_type: MatchType) -> bool:
        key = normalise(text)
        return any(
            isinstance(e, Keyword)
            and e.ad_group_id == ad_group_id
            and normalise(e.text) == key
            and e.match_type is match_type
            and e.status is not Status.REMOVED
            for e in self.entities.values()
        )

    def resource(self, collection: str, *ids: str) -> str:
        return f"customers/{self.customer_id}/{collection}/{'~'.join(ids)}"


class GoogleAdsEmulator:
    def __init__(
        self,
        account: SandboxAccount,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_version: str | None = None,
        developer_token: str = "emulator-developer-token",
        access_token: str = "emulator-access-token",
        today: dt.date | None = None,
    ) -> None:
        self.account = account
        self.customer_id = account.account.id
        self.api_version = api_version or newest_api_version()
        self.developer_token = developer_token
        self.access_token = access_token
        self.today = today or dt.date.today()
        self.fail_next_with_quota = 0  # the next N requests fail with RESOURCE_EXHAUSTED
        self.mutate_requests: list[Any] = []  # every MutateGoogleAdsRequest received, in order
        self._types = api_types(self.api_version)
        self._lock = threading.Lock()
        self._catalogue = self._field_catalogue()
        services = self._types.services
        handlers = {
            "Search": grpc.unary_unary_rpc_method_handler(
                self._search,
                request_deserializer=services.SearchGoogleAdsRequest.deserialize,
                response_serializer=services.SearchGoogleAdsResponse.serialize,
            ),
            "SearchStream": grpc.unary_stream_rpc_method_handler(
                self._search_stream,
                request_deserializer=services.SearchGoogleAdsStreamRequest.deserialize,
                response_serializer=services.SearchGoogleAdsStreamResponse.serialize,
            ),
            "Mutate": grpc.unary_unary_rpc_method_handler(
                self._mutate,
                request_deserializer=services.MutateGoogleAdsRequest.deserialize,
                response_serializer=services.MutateGoogleAdsResponse.serialize,
            ),
        }
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self._server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    f"google.ads.googleads.{self.api_version}.services.GoogleAdsService", handlers
                ),
            )
        )
        bound = self._server.add_secure_port(
            f"{host}:{port}", grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP)
        )
        self.endpoint = f"{host}:{bound}"
        self._server.start()

    def client_settings(self) -> dict[str, str]:
        """The GOOGLE_ADS_* variables a GoogleAdsAccount needs to reach this emulator."""
        return {
            "GOOGLE_ADS_DEVELOPER_TOKEN": self.developer_token,
            "GOOGLE_ADS_ACCESS_TOKEN": self.access_token,
            "GOOGLE_ADS_CUSTOMER_ID": self.customer_id,
            "GOOGLE_ADS_ENDPOINT": self.endpoint,
            "GOOGLE_ADS_LOCAL_CHANNEL": "true",
            "GOOGLE_ADS_API_VERSION": self.api_version,
        }

    def stop(self) -> None:
        self._server.stop(grace=None).wait()

    def __enter__(self) -> GoogleAdsEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the wire -------------------------------------------------------------------------

    def _failure(self, errors: list[OperationError], operation_index: int | None = None) -> Any:
        t = self._types
        built = []
        for error in errors:
            path = (
                []
                if operation_index is None
                else [t.errors.ErrorLocation.FieldPathElement(field_name="mutate_operations", index=operation_index)]
            )
            for element in error.path:
                name, index = element if isinstance(element, tuple) else (element, None)
                path.append(t.errors.ErrorLocation.FieldPathElement(field_name=name, index=index))
            built.append(
                t.errors.GoogleAdsError(
                    error_code=t.errors.ErrorCode(**{error.kind: error.code}),
                    message=error.message,
                    trigger=t.common.Value(string_value=error.trigger) if error.trigger else None,
                    location=t.errors.ErrorLocation(field_path_elements=path) if path else None,
                )
            )
        return t.errors.GoogleAdsFailure(errors=built, request_id=uuid.uuid4().hex)

    def _abort(self, context: grpc.ServicerContext, abort: _Abort, failure: Any = None) -> None:
        failure = failure or self._failure(abort.errors)
        context.set_trailing_metadata(
            (
                (
                    f"google.ads.googleads.{self.api_version}.errors.googleadsfailure-bin",
                    type(failure).serialize(failure),
                ),
                ("request-id", failure.request_id),
            )
        )
        context.abort(abort.status, abort.errors[0].message)

    def _check(self, context: grpc.ServicerContext, customer_id: str) -> None:
        """Quota on demand, then credentials, then access to the customer, as the API checks them."""
        with self._lock:
            exhausted = self.fail_next_with_quota > 0
            self.fail_next_with_quota -= exhausted
        if exhausted:
            raise _Abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                [OperationError("quota_error", "RESOURCE_EXHAUSTED", "Too many requests. Retry in a few seconds.")],
            )
        metadata = dict(context.invocation_metadata())
        if metadata.get("authorization") != f"Bearer {self.access_token}":
            raise _Abort(
                grpc.StatusCode.UNAUTHENTICATED,
                [OperationError("authentication_error", "OAUTH_TOKEN_INVALID", "Oauth token is invalid.")],
            )
        if metadata.get("developer-token") != self.developer_token:
            raise _Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                [
                    OperationError(
                        "authorization_error", "DEVELOPER_TOKEN_NOT_APPROVED", "The developer token is not approved."
                    )
                ],
            )
        if customer_id != self.customer_id:
            raise _Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                [
                    OperationError(
                        "authorization_error",
                        "USER_PERMISSION_DENIED",
                        f"User doesn't have permission to access customer {customer_id}.",
                        customer_id,
                    )
                ],
            )

    def _search(self, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            self._check(context, request.customer_id)
            query, rows = self._query(request.query)
        except _Abort as abort:
            self._abort(context, abort)
        return self._types.services.SearchGoogleAdsResponse(
            results=rows, total_results_count=len(rows), field_mask=FieldMask(paths=list(query.fields))
        )

    def _search_stream(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            self._check(context, request.customer_id)
            query, rows = self._query(request.query)
        except _Abort as abort:
            self._abort(context, abort)
        request_id = uuid.uuid4().hex
        for start in range(0, max(len(rows), 1), STREAM_BATCH_ROWS):
            yield self._types.services.SearchGoogleAdsStreamResponse(
                results=rows[start : start + STREAM_BATCH_ROWS],
                field_mask=FieldMask(paths=list(query.fields)),
                request_id=request_id,
            )

    # -- reads ----------------------------------------------------------------------------

    def _query(self, text: str) -> tuple[GaqlQuery, list[Any]]:
        try:
            query = parse_gaql(text)
            if query.resource not in self._catalogue:
                raise GaqlError(
                    f"the emulator does not serve resource {query.resource!r} (it serves: "
                    f"{', '.join(sorted(self._catalogue))})"
                )
            unknown = sorted(query.referenced_fields() - self._catalogue[query.resource])
            if unknown:
                raise GaqlError(f"Unrecognized field in the query: {unknown[0]!r} (resource {query.resource}).")
            flat, skip = self._rows(query)
            selected = evaluate(query, flat, today=self.today, skip=skip)
        except GaqlError as exc:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT, [OperationError("query_error", "QUERY_ERROR", str(exc))]
            ) from None
        row_type = self._types.services.GoogleAdsRow
        paths = [(field, field.split(".")) for field in query.fields]
        rows = []
        for values in selected:
            message = row_type.pb()()
            for field, path in paths:
                if values.get(field) is not None:
                    _set_field(message, path, values[field])
            rows.append(row_type.wrap(message))
        return query, rows

    def _rows(self, query: GaqlQuery) -> tuple[list[dict[str, Any]], frozenset[str]]:
        """Flat rows for the query's resource, and the conditions already applied while fetching them."""
        resource = query.resource
        with_metrics = any(f.startswith(("metrics.", "segments.date")) for f in query.referenced_fields())
        if resource == "search_term_view":
            if "segments.date" in query.fields:
                raise GaqlError(
                    "the emulator reports search_term_view over a date range; segments.date in SELECT is not supported"
                )
            start, end = date_range(query, self.today) or (dt.date(1970, 1, 1), self.today)
            return self._search_term_rows(start, end), frozenset({"segments.date"})
        structure = self.account.structure()
        campaigns = {c.id: c for c in structure.campaigns}
        ad_groups = {g.id: g for g in structure.ad_groups}
        if resource in ("campaign", "ad_group") and with_metrics:
            start, end = date_range(query, self.today) or (dt.date(1970, 1, 1), self.today)
            frame = self.account.daily_metrics(start, end)
            rows = []
            for record in frame.itertuples(index=False):
                base = (
                    _campaign_row(self, campaigns[record.campaign_id])
                    if resource == "campaign"
                    else self._ad_group_row(ad_groups[record.ad_group_id], campaigns)
                )
                rows.append(
                    {
                        **base,
                        "segments.date": record.date.date().isoformat(),
                        "metrics.impressions": int(record.impressions),
                        "metrics.clicks": int(record.clicks),
                        "metrics.cost_micros": int(record.cost),
                        "metrics.conversions": float(record.conversions),
                        "metrics.conversions_value": float(record.conversion_value),
                    }
                )
            return rows, frozenset()
        if resource == "ad_group_ad" and with_metrics:
            return self._ad_metric_rows(query, structure), frozenset()
        if resource == "ad_group_ad_asset_view":
            return self._asset_view_rows(structure), frozenset()
        return self._entity_rows(structure)[resource](), frozenset()

    def _ad_metric_rows(self, query: GaqlQuery, structure: AccountStructure) -> list[dict[str, Any]]:
        """One row per day and ad, from the sandbox's ad metrics (RSAs only, like `ad_group_ad` rows)."""
        start, end = date_range(query, self.today) or (dt.date(1970, 1, 1), self.today)
        campaigns = {c.id: c for c in structure.campaigns}
        ad_groups = {g.id: g for g in structure.ad_groups}
        ads = {
            a.id: self._ad_row(a, ad_groups, campaigns)
            for a in structure.ads
            if isinstance(a.copy_, ResponsiveSearchAdCopy) and a.ad_group_id in ad_groups
        }
        return [
            {
                **ads[record.ad_id],
                "segments.date": record.date.date().isoformat(),
                "metrics.impressions": int(record.impressions),
                "metrics.clicks": int(record.clicks),
                "metrics.cost_micros": int(record.cost),
                "metrics.conversions": float(record.conversions),
                "metrics.conversions_value": float(record.conversion_value),
            }
            for record in self.account.ad_metrics(start, end).itertuples(index=False)
            if record.ad_id in ads
        ]

    def _asset_view_rows(self, structure: AccountStructure) -> list[dict[str, Any]]:
        """An RSA's text assets with their performance labels; a text's asset id is stable (Google dedupes
        identical text assets)."""
        ads = {a.id: a for a in structure.ads if isinstance(a.copy_, ResponsiveSearchAdCopy)}
        groups = {g.id: g for g in structure.ad_groups}
        rows = []
        for label in self.account.asset_labels().itertuples(index=False):
            ad = ads.get(label.ad_id)
            if ad is None or ad.ad_group_id not in groups:
                continue
            asset_id = str(zlib.crc32(label.text.encode()))
            field_type = label.field_type.upper()
            rows.append(
                {
                    "ad_group_ad_asset_view.resource_name": self._name(
                        "adGroupAdAssetViews", ad.ad_group_id, ad.id, asset_id, field_type
                    ),
                    "ad_group_ad_asset_view.ad_group_ad": self._name("adGroupAds", ad.ad_group_id, ad.id),
                    "ad_group_ad_asset_view.asset": self._name("assets", asset_id),
                    "ad_group_ad_asset_view.field_type": field_type,
                    "ad_group_ad_asset_view.performance_label": label.performance_label.upper(),
                    "ad_group_ad_asset_view.enabled": ad.status is Status.ENABLED,
                    "asset.id": int(asset_id),
                    "asset.resource_name": self._name("assets", asset_id),
                    "asset.type": "TEXT",
                    "asset.text_asset.text": label.text,
                    "ad_group_ad.ad.id": int(ad.id),
                    "ad_group.id": int(ad.ad_group_id),
                    "campaign.id": int(groups[ad.ad_group_id].campaign_id),
                }
            )
        return rows

    def _entity_rows(self, structure: AccountStructure) -> dict[str, Callable[[], list[dict[str, Any]]]]:
        """Per resource, a function that makes its flat rows."""
        campaigns = {c.id: c for c in structure.campaigns}
        ad_groups = {g.id: g for g in structure.ad_groups}
        return {
            "customer": lambda: [self._customer_row()],
            "campaign": lambda: [_campaign_row(self, c) for c in structure.campaigns],
            "campaign_budget": lambda: [self._budget_row(b) for b in structure.budgets],
            "ad_group": lambda: [self._ad_group_row(g, campaigns) for g in structure.ad_groups],
            "ad_group_criterion": lambda: [
                *(
                    self._ad_group_criterion_row(
                        k.id, k.ad_group_id, k.text, k.match_type, False, k.status, ad_groups, campaigns
                    )
                    for k in structure.keywords
                ),
                *(
                    self._ad_group_criterion_row(
                        n.id, n.owner_id, n.text, n.match_type, True, Status.ENABLED, ad_groups, campaigns
                    )
                    for n in structure.negatives
                    if n.level == "ad_group"
                ),
            ],
            "campaign_criterion": lambda: [
                self._campaign_criterion_row(n, campaigns) for n in structure.negatives if n.level == "campaign"
            ],
            "shared_set": lambda: [self._shared_set_row(s, structure) for s in structure.shared_lists],
            "shared_criterion": lambda: [
                self._shared_criterion_row(n, {s.id: s for s in structure.shared_lists}, structure)
                for n in structure.negatives
                if n.level == "shared_list"
            ],
            "campaign_shared_set": lambda: [
                {
                    **_campaign_row(self, campaigns[c]),
                    **self._shared_set_row(s, structure),
                    "campaign_shared_set.resource_name": self._name("campaignSharedSets", c, s.id),
                    "campaign_shared_set.campaign": self._name("campaigns", c),
                    "campaign_shared_set.shared_set": self._name("sharedSets", s.id),
                    "campaign_shared_set.status": "ENABLED",
                }
                for s in structure.shared_lists
                for c in s.campaign_ids
                if c in campaigns
            ],
            "ad_group_ad": lambda: [
                self._ad_row(a, ad_groups, campaigns)
                for a in structure.ads
                if isinstance(a.copy_, ResponsiveSearchAdCopy) and a.ad_group_id in ad_groups
            ],
        }

    def _field_catalogue(self) -> dict[str, set[str]]:
        """The fields each resource offers, read off the rows of a one-of-everything account."""
        copy = ResponsiveSearchAdCopy(
            headlines=("a", "b", "c"), descriptions=("d", "e"), path1="p", path2="q", final_url="https://example.com"
        )
        sample = AccountStructure(
            account=self.account.account,
            campaigns=(Campaign(id="1", name="c", channel="search", budget_id="2"),),
            budgets=(Budget(id="2", name="b", level="campaign", daily_amount=1),),
            ad_groups=(AdGroup(id="3", campaign_id="1", name="g"),),
            keywords=(Keyword(id="4", ad_group_id="3", text="k", match_type=MatchType.EXACT),),
            negatives=(
                NegativeKeyword(id="5", level="campaign", owner_id="1", text="n", match_type=MatchType.EXACT),
                NegativeKeyword(id="6", level="shared_list", owner_id="7", text="n", match_type=MatchType.EXACT),
            ),
            shared_lists=(SharedNegativeList(id="7", name="l", campaign_ids=("1",)),),
            ads=(Ad(id="8", ad_group_id="3", copy_=copy),),
        )
        catalogue = {name: set().union(*build()) for name, build in self._entity_rows(sample).items()}
        for resource in ("campaign", "ad_group", "ad_group_ad"):
            catalogue[resource] |= {"segments.date", *METRICS}
        catalogue["ad_group_ad_asset_view"] = AD_GROUP_AD_ASSET_VIEW_FIELDS
        catalogue["search_term_view"] = SEARCH_TERM_VIEW_FIELDS
        return catalogue

    def _name(self, collection: str, *ids: str) -> str:
        return f"customers/{self.customer_id}/{collection}/{'~'.join(ids)}"

    def _customer_row(self) -> dict[str, Any]:
        account = self.account.account
        return {
            "customer.resource_name": f"customers/{self.customer_id}",
            "customer.id": int(self.customer_id),
            "customer.descriptive_name": account.display_name,
            "customer.currency_code": account.currency,
            "customer.time_zone": account.time_zone,
            "customer.manager": False,
        }

    def _budget_row(self, budget: Budget) -> dict[str, Any]:
        return {
            "campaign_budget.resource_name": self._name("campaignBudgets", budget.id),
            "campaign_budget.id": int(budget.id),
            "campaign_budget.name": budget.name,
            "campaign_budget.amount_micros": budget.daily_amount,
            "campaign_budget.status": "ENABLED",
        }

    def _ad_group_row(self, group: AdGroup, campaigns: dict[str, Campaign]) -> dict[str, Any]:
        return {
            **_campaign_row(self, campaigns[group.campaign_id]),
            "ad_group.resource_name": self._name("adGroups", group.id),
            "ad_group.id": int(group.id),
            "ad_group.name": group.name,
            "ad_group.status": group.status.name,
            "ad_group.campaign": self._name("campaigns", group.campaign_id),
            "ad_group.type": "SEARCH_STANDARD",
        }

    def _ad_group_criterion_row(
        self,
        criterion_id: str,
        ad_group_id: str,
        text: str,
        match_type: MatchType,
        negative: bool,
        status: Status,
        ad_groups: dict[str, AdGroup],
        campaigns: dict[str, Campaign],
    ) -> dict[str, Any]:
        return {
            **self._ad_group_row(ad_groups[ad_group_id], campaigns),
            "ad_group_criterion.resource_name": self._name("adGroupCriteria", ad_group_id, criterion_id),
            "ad_group_criterion.criterion_id": int(criterion_id),
            "ad_group_criterion.ad_group": self._name("adGroups", ad_group_id),
            "ad_group_criterion.negative": negative,
            "ad_group_criterion.status": status.name,
            "ad_group_criterion.type": "KEYWORD",
            "ad_group_criterion.keyword.text": text,
            "ad_group_criterion.keyword.match_type": match_type.name,
        }

    def _campaign_criterion_row(self, negative: NegativeKeyword, campaigns: dict[str, Campaign]) -> dict[str, Any]:
        return {
            **_campaign_row(self, campaigns[negative.owner_id]),
            "campaign_criterion.resource_name": self._name("campaignCriteria", negative.owner_id, negative.id),
            "campaign_criterion.criterion_id": int(negative.id),
            "campaign_criterion.campaign": self._name("campaigns", negative.owner_id),
            "campaign_criterion.negative": True,
            "campaign_criterion.status": "ENABLED",
            "campaign_criterion.type": "KEYWORD",
            "campaign_criterion.keyword.text": negative.text,
            "campaign_criterion.keyword.match_type": negative.match_type.name,
        }

    def _shared_set_row(self, shared: SharedNegativeList, structure: Any) -> dict[str, Any]:
        members = sum(1 for n in structure.negatives if n.level == "shared_list" and n.owner_id == shared.id)
        return {
            "shared_set.resource_name": self._name("sharedSets", shared.id),
            "shared_set.id": int(shared.id),
            "shared_set.name": shared.name,
            "shared_set.type": "NEGATIVE_KEYWORDS",
            "shared_set.status": "ENABLED",
            "shared_set.member_count": members,
        }

    def _shared_criterion_row(
        self, negative: NegativeKeyword, lists: dict[str, SharedNegativeList], structure: Any
    ) -> dict[str, Any]:
        return {
            **self._shared_set_row(lists[negative.owner_id], structure),
            "shared_criterion.resource_name": self._name("sharedCriteria", negative.owner_id, negative.id),
            "shared_criterion.criterion_id": int(negative.id),
            "shared_criterion.shared_set": self._name("sharedSets", negative.owner_id),
            "shared_criterion.type": "KEYWORD",
            "shared_criterion.keyword.text": negative.text,
            "shared_criterion.keyword.match_type": negative.match_type.name,
        }

    def _ad_row(self, ad: Ad, ad_groups: dict[str, AdGroup], campaigns: dict[str, Campaign]) -> dict[str, Any]:
        copy = ad.copy_
        assert isinstance(copy, ResponsiveSearchAdCopy)  # the caller keeps the RSAs only
        return {
            **self._ad_group_row(ad_groups[ad.ad_group_id], campaigns),
            "ad_group_ad.resource_name": self._name("adGroupAds", ad.ad_group_id, ad.id),
            "ad_group_ad.ad_group": self._name("adGroups", ad.ad_group_id),
            "ad_group_ad.status": ad.status.name,
            "ad_group_ad.ad.id": int(ad.id),
            "ad_group_ad.ad.resource_name": self._name("ads", ad.id),
            "ad_group_ad.ad.type": "RESPONSIVE_SEARCH_AD",
            "ad_group_ad.ad.final_urls": [copy.final_url],
            "ad_group_ad.ad.responsive_search_ad.headlines": [{"text": h} for h in copy.headlines],
            "ad_group_ad.ad.responsive_search_ad.descriptions": [{"text": d} for d in copy.descriptions],
            "ad_group_ad.ad.responsive_search_ad.path1": copy.path1 or None,
            "ad_group_ad.ad.responsive_search_ad.path2": copy.path2 or None,
        }

    def _search_term_rows(self, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
        frame = self.account.search_terms(start, end)
        return [
            {
                "search_term_view.search_term": r.search_term,
                "search_term_view.status": "NONE",
                "search_term_view.resource_name": self._name("searchTermViews", r.campaign_id, r.ad_group_id),
                "campaign.id": int(r.campaign_id),
                "campaign.name": r.campaign_name,
                "ad_group.id": int(r.ad_group_id),
                "ad_group.name": r.ad_group_name,
                "segments.keyword.info.text": r.keyword or None,
                "segments.keyword.info.match_type": r.match_type.upper() or None,
                "metrics.impressions": int(r.impressions),
                "metrics.clicks": int(r.clicks),
                "metrics.cost_micros": int(r.cost),
                "metrics.conversions": float(r.conversions),
                "metrics.conversions_value": float(r.conversion_value),
            }
            for r in frame.itertuples(index=False)
        ]

    # -- mutates --------------------------------------------------------------------------

    def _mutate(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.mutate_requests.append(request)
        try:
            self._check(context, request.customer_id)
        except _Abort as abort:
            self._abort(context, abort)
        t = self._types
        with self._lock:
            mutation = _Mutation(self)
            responses, errors = [], []
            if len(request.mutate_operations) > limit("google_ads_mutate_operations_per_request"):
                self._abort(
                    context,
                    _Abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        [
                            OperationError(
                                "request_error",
                                "TOO_MANY_MUTATE_OPERATIONS",
                                "Too many mutate operations in one request.",
                            )
                        ],
                    ),
                )
            for index, operation in enumerate(request.mutate_operations):
                try:
                    result_field, resource_name = self._operation(mutation, operation)
                    responses.append(
                        t.services.MutateOperationResponse({result_field: {"resource_name": resource_name}})
                    )
                except OperationError as error:
                    errors.append((index, error))
                    responses.append(t.services.MutateOperationResponse())
            if errors and not request.partial_failure:
                failure = self._failure([e for _, e in errors])
                for built, (index, _) in zip(failure.errors, errors, strict=True):
                    built.location.field_path_elements.insert(
                        0, t.errors.ErrorLocation.FieldPathElement(field_name="mutate_operations", index=index)
                    )
                self._abort(context, _Abort(grpc.StatusCode.INVALID_ARGUMENT, [e for _, e in errors]), failure)
            if not request.validate_only and (mutation.upserts or mutation.removals):
                self.account.write(upserts=list(mutation.upserts.values()), removals=list(mutation.removals.values()))
        response = t.services.MutateGoogleAdsResponse(
            mutate_operation_responses=[] if request.validate_only else responses
        )
        if errors:
            packed = any_pb2.Any()
            failures = [self._failure([error], index) for index, error in errors]
            combined = t.errors.GoogleAdsFailure(
                errors=[e for f in failures for e in f.errors], request_id=failures[0].request_id
            )
            packed.Pack(t.errors.GoogleAdsFailure.pb(combined))
            response.partial_failure_error = status_pb2.Status(
                code=grpc.StatusCode.INVALID_ARGUMENT.value[0],
                message=f"Multiple errors in 'details'. First error: {errors[0][1].message}",
                details=[packed],
            )
        return response

    def _operation(self, mutation: _Mutation, operation: Any) -> tuple[str, str]:
        kind = type(operation).pb(operation).WhichOneof("operation")
        inner = getattr(operation, kind) if kind else None
        action = type(inner).pb(inner).WhichOneof("operation") if inner is not None else None
        handlers: dict[tuple[str | None, str | None], Callable[[_Mutation, Any, tuple[Any, ...]], tuple[str, str]]] = {
            ("campaign_criterion_operation", "create"): self._create_campaign_criterion,
            ("ad_group_criterion_operation", "create"): self._create_ad_group_criterion,
            ("shared_criterion_operation", "create"): self._create_shared_criterion,
            ("ad_group_operation", "create"): self._create_ad_group,
            ("ad_group_ad_operation", "create"): self._create_ad_group_ad,
            ("campaign_criterion_operation", "remove"): self._remove_negative,
            ("ad_group_criterion_operation", "remove"): self._remove_negative,
            ("shared_criterion_operation", "remove"): self._remove_negative,
            ("ad_group_operation", "update"): self._update_status,
            ("ad_group_ad_operation", "update"): self._update_status,
            ("campaign_budget_operation", "update"): self._update_campaign_budget,
            ("shared_set_operation", "create"): self._create_shared_set,
            ("shared_set_operation", "remove"): self._remove_shared_set,
            ("campaign_shared_set_operation", "create"): self._create_campaign_shared_set,
        }
        handler = handlers.get((kind, action))
        if handler is None:
            raise OperationError(
                "mutate_error",
                "MUTATE_NOT_ALLOWED",
                f"The emulator does not support {kind or 'an empty operation'}.{action}.",
            )
        result_field, resource_name = handler(mutation, inner, (kind, action))
        return result_field, resource_name

    @staticmethod
    def _keyword(info: Any, path: tuple[Any, ...]) -> tuple[str, MatchType]:
        text = info.keyword.text
        if not text.strip():
            raise OperationError(
                "criterion_error",
                "INVALID_KEYWORD_TEXT",
                "The keyword text is empty.",
                text,
                (*path, "keyword", "text"),
            )
        if len(text) > limit("keyword_max_chars"):
            raise OperationError(
                "criterion_error",
                "KEYWORD_TEXT_TOO_LONG",
                "Keyword text is too long.",
                text,
                (*path, "keyword", "text"),
            )
        if len(text.split()) > limit("negative_keyword_max_words"):
            raise OperationError(
                "criterion_error",
                "KEYWORD_HAS_TOO_MANY_WORDS",
                "Keyword has too many words.",
                text,
                (*path, "keyword", "text"),
            )
        name = info.keyword.match_type.name
        if name not in ("EXACT", "PHRASE", "BROAD"):
            raise OperationError(
                "field_error", "REQUIRED", "The keyword match type is required.", "", (*path, "keyword", "match_type")
            )
        return text, MatchType(name.lower())

    def _duplicate(self, text: str, path: tuple[Any, ...]) -> OperationError:
        return OperationError(
            "mutate_error",
            "RESOURCE_ALREADY_EXISTS",
            f"The keyword {text!r} already exists at this level.",
            text,
            (*path, "keyword", "text"),
        )

    def _create_campaign_criterion(self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]) -> tuple[str, str]:
        criterion = operation.create
        campaign = mutation.find(Campaign, criterion.campaign, "campaigns", (*path, "campaign"))
        if not criterion.negative:
            raise OperationError(
                "field_error",
                "INVALID_VALUE",
                "The emulator supports negative keyword campaign criteria only.",
                "",
                (*path, "negative"),
            )
        text, match_type = self._keyword(criterion, path)
        negative = self._add_negative(mutation, "campaign", campaign.id, text, match_type, path)
        return "campaign_criterion_result", mutation.resource("campaignCriteria", campaign.id, negative.id)

    def _add_negative(
        self, mutation: _Mutation, level: str, owner_id: str, text: str, match_type: MatchType, path: tuple[Any, ...]
    ) -> NegativeKeyword:
        if mutation.negative_exists(level, owner_id, text, match_type):
            raise self._duplicate(text, path)
        negative = NegativeKeyword(
            id=self.account.new_id(), level=level, owner_id=owner_id, text=text, match_type=match_type
        )
        mutation.put(negative)
        return negative

    def _create_ad_group_criterion(self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]) -> tuple[str, str]:
        criterion = operation.create
        group = mutation.find(AdGroup, criterion.ad_group, "adGroups", (*path, "ad_group"))
        text, match_type = self._keyword(criterion, path)
        if criterion.negative:
            entity: NegativeKeyword | Keyword = self._add_negative(
                mutation, "ad_group", group.id, text, match_type, path
            )
        else:
            if mutation.keyword_exists(group.id, text, match_type):
                raise self._duplicate(text, path)
            status = Status.PAUSED if criterion.status.name == "PAUSED" else Status.ENABLED
            entity = Keyword(
                id=self.account.new_id(), ad_group_id=group.id, text=text, match_type=match_type, status=status
            )
            mutation.put(entity)
        return "ad_group_criterion_result", mutation.resource("adGroupCriteria", group.id, entity.id)

    def _create_shared_criterion(self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]) -> tuple[str, str]:
        criterion = operation.create
        shared = mutation.find(SharedNegativeList, criterion.shared_set, "sharedSets", (*path, "shared_set"))
        text, match_type = self._keyword(criterion, path)
        members = sum(
            1
            for e in mutation.entities.values()
            if isinstance(e, NegativeKeyword) and e.level == "shared_list" and e.owner_id == shared.id
        )
        if members >= limit("shared_negative_list_max_keywords"):
            raise OperationError(
                "resource_count_limit_exceeded_error",
                "RESOURCE_LIMIT",
                f"Shared set {shared.name!r} is full.",
                text,
                (*path, "shared_set"),
            )
        negative = self._add_negative(mutation, "shared_list", shared.id, text, match_type, path)
        return "shared_criterion_result", mutation.resource("sharedCriteria", shared.id, negative.id)

    def _create_ad_group(self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]) -> tuple[str, str]:
        group = operation.create
        campaign = mutation.find(Campaign, group.campaign, "campaigns", (*path, "campaign"))
        if not group.name.strip():
            raise OperationError("field_error", "REQUIRED", "The ad group name is required.", "", (*path, "name"))
        if any(
            isinstance(e, AdGroup)
            and e.campaign_id == campaign.id
            and e.name == group.name
            and e.status is not Status.REMOVED
            for e in mutation.entities.values()
        ):
            raise OperationError(
                "ad_group_error",
                "DUPLICATE_ADGROUP_NAME",
                f"An ad group named {group.name!r} already exists in the campaign.",
                group.name,
                (*path, "name"),
            )
        entity = AdGroup(
            id=self.account.new_id(),
            campaign_id=campaign.id,
            name=group.name,
            status=Status.PAUSED if group.status.name == "PAUSED" else Status.ENABLED,
        )
        temporary = _RESOURCE_NAME.fullmatch(group.resource_name or "")
        if temporary and temporary.group(3).startswith("-"):
            mutation.temporary[temporary.group(3)] = entity.id
        mutation.put(entity)
        return "ad_group_result", mutation.resource("adGroups", entity.id)

    def _create_ad_group_ad(self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]) -> tuple[str, str]:
        ad_group_ad = operation.create
        group = mutation.find(AdGroup, ad_group_ad.ad_group, "adGroups", (*path, "ad_group"))
        ad = ad_group_ad.ad
        rsa = ad.responsive_search_ad
        rsa_path = (*path, "ad", "responsive_search_ad")
        for field, low, high, max_chars in (
            ("headlines", limit("rsa_min_headlines"), limit("rsa_max_headlines"), limit("rsa_headline_max_chars")),
            (
                "descriptions",
                limit("rsa_min_descriptions"),
                limit("rsa_max_descriptions"),
                limit("rsa_description_max_chars"),
            ),
        ):
            assets = getattr(rsa, field)
            if not low <= len(assets) <= high:
                raise OperationError(
                    "collection_size_error",
                    "TOO_FEW" if len(assets) < low else "TOO_MANY",
                    f"An RSA needs {low}-{high} {field}, got {len(assets)}.",
                    "",
                    (*rsa_path, field),
                )
            for position, asset in enumerate(assets):
                if ad_text_length(asset.text) > max_chars:
                    raise OperationError(
                        "string_length_error",
                        "TOO_LONG",
                        f"Too long: {field[:-1]} is over {max_chars} characters.",
                        asset.text,
                        (*rsa_path, (field, position), "text"),
                    )
        for field in ("path1", "path2"):
            if ad_text_length(getattr(rsa, field)) > limit("rsa_path_max_chars"):
                raise OperationError(
                    "string_length_error", "TOO_LONG", f"Too long: {field}.", getattr(rsa, field), (*rsa_path, field)
                )
        if not ad.final_urls:
            raise OperationError(
                "field_error", "REQUIRED", "The ad needs a final URL.", "", (*path, "ad", "final_urls")
            )
        copy = ResponsiveSearchAdCopy(
            headlines=tuple(h.text for h in rsa.headlines),
            descriptions=tuple(d.text for d in rsa.descriptions),
            path1=rsa.path1,
            path2=rsa.path2,
            final_url=ad.final_urls[0],
        )
        entity = Ad(
            id=self.account.new_id(),
            ad_group_id=group.id,
            copy_=copy,
            status=Status.ENABLED if ad_group_ad.status.name == "ENABLED" else Status.PAUSED,
        )
        mutation.put(entity)
        return "ad_group_ad_result", mutation.resource("adGroupAds", group.id, entity.id)

    def _remove_negative(self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]) -> tuple[str, str]:
        """A campaign, ad group or shared-set negative keyword criterion, by resource name."""
        kind = path[0]
        level, collection, result_field = _NEGATIVE_CRITERIA[kind]
        negative = mutation.find_child(
            NegativeKeyword, operation.remove, collection, path, lambda n: n.owner_id if n.level == level else ""
        )
        mutation.remove(negative)
        return result_field, operation.remove

    def _update_status(self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]) -> tuple[str, str]:
        """The status of an ad group or an ad group ad: the only field the emulator updates on them."""
        update = operation.update
        if path[0] == "ad_group_operation":
            entity = mutation.find(AdGroup, update.resource_name, "adGroups", (*path, "resource_name"))
            result_field = "ad_group_result"
        else:
            entity = mutation.find_child(
                Ad, update.resource_name, "adGroupAds", (*path, "resource_name"), lambda ad: ad.ad_group_id
            )
            result_field = "ad_group_ad_result"
        paths = set(operation.update_mask.paths) - {"resource_name"}
        if not paths:
            raise OperationError(
                "field_mask_error", "FIELD_MASK_MISSING", "The update mask is empty.", "", ("update_mask",)
            )
        if paths != {"status"}:
            raise OperationError(
                "field_mask_error",
                "FIELD_NOT_FOUND",
                f"The emulator updates only the status here, not {sorted(paths - {'status'})}.",
                "",
                ("update_mask",),
            )
        status = update.status.name
        if status not in ("ENABLED", "PAUSED"):
            raise OperationError(
                "field_error",
                "INVALID_VALUE",
                f"Status {status} cannot be set by an update (use a remove operation).",
                status,
                (*path, "status"),
            )
        mutation.put(entity.model_copy(update={"status": Status(status.lower())}))
        return result_field, update.resource_name

    def _update_campaign_budget(self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]) -> tuple[str, str]:
        update = operation.update
        budget = mutation.find(Budget, update.resource_name, "campaignBudgets", (*path, "resource_name"))
        paths = set(operation.update_mask.paths)
        if not paths - {"resource_name"}:
            raise OperationError(
                "field_mask_error", "FIELD_MASK_MISSING", "The update mask is empty.", "", ("update_mask",)
            )
        changes: dict[str, Any] = {}
        if "amount_micros" in paths:
            if update.amount_micros <= 0:
                raise OperationError(
                    "range_error",
                    "TOO_LOW",
                    "The budget amount must be above zero.",
                    str(update.amount_micros),
                    (*path, "amount_micros"),
                )
            changes["daily_amount"] = update.amount_micros
        if "name" in paths:
            changes["name"] = update.name
        mutation.put(budget.model_copy(update=changes))
        return "campaign_budget_result", mutation.resource("campaignBudgets", budget.id)

    def _create_shared_set(self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]) -> tuple[str, str]:
        shared = operation.create
        if shared.type_.name != "NEGATIVE_KEYWORDS":
            raise OperationError(
                "field_error",
                "INVALID_VALUE",
                "The emulator supports negative keyword lists only.",
                shared.type_.name,
                (*path, "type"),
            )
        lists = [e for e in mutation.entities.values() if isinstance(e, SharedNegativeList)]
        if any(e.name == shared.name for e in lists):
            raise OperationError(
                "shared_set_error",
                "DUPLICATE_NAME",
                f"A list named {shared.name!r} exists.",
                shared.name,
                (*path, "name"),
            )
        entity = SharedNegativeList(id=self.account.new_id(), name=shared.name)
        temporary = _RESOURCE_NAME.fullmatch(shared.resource_name or "")
        if temporary and temporary.group(3).startswith("-"):
            mutation.temporary[temporary.group(3)] = entity.id
        mutation.put(entity)
        return "shared_set_result", mutation.resource("sharedSets", entity.id)

    def _remove_shared_set(self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]) -> tuple[str, str]:
        """Google marks a removed SharedSet REMOVED, and its criteria and campaign links go with it."""
        shared = mutation.find(SharedNegativeList, operation.remove, "sharedSets", (*path, "remove"))
        for negative in [e for e in mutation.entities.values() if isinstance(e, NegativeKeyword)]:
            if negative.level == "shared_list" and negative.owner_id == shared.id:
                mutation.remove(negative)
        mutation.remove(shared)
        return "shared_set_result", operation.remove

    def _create_campaign_shared_set(
        self, mutation: _Mutation, operation: Any, path: tuple[Any, ...]
    ) -> tuple[str, str]:
        link = operation.create
        campaign = mutation.find(Campaign, link.campaign, "campaigns", (*path, "campaign"))
        shared = mutation.find(SharedNegativeList, link.shared_set, "sharedSets", (*path, "shared_set"))
        if campaign.id in shared.campaign_ids:
            raise OperationError(
                "mutate_error",
                "RESOURCE_ALREADY_EXISTS",
                f"Campaign {campaign.id} already uses list {shared.name!r}.",
                link.shared_set,
                (*path, "shared_set"),
            )
        mutation.put(shared.model_copy(update={"campaign_ids": (*shared.campaign_ids, campaign.id)}))
        return "campaign_shared_set_result", mutation.resource("campaignSharedSets", campaign.id, shared.id)


def _set_field(message: Any, path: list[str], value: Any) -> None:
    """Sets a GAQL field path on a protobuf message; enums come as names, repeated messages as dicts."""
    *parents, leaf = path
    for part in parents:
        message = getattr(message, part)
    field = message.DESCRIPTOR.fields_by_name[leaf]
    if field.is_repeated:
        container = getattr(message, leaf)
        if field.message_type:
            for item in value:
                container.add(**item)
        else:
            container.extend(value)
    elif field.enum_type is not None:
        setattr(message, leaf, field.enum_type.values_by_name[value].number)
    else:
        setattr(message, leaf, value)


def _campaign_row(emulator: GoogleAdsEmulator, campaign: Campaign) -> dict[str, Any]:
    return {
        "campaign.resource_name": emulator._name("campaigns", campaign.id),
        "campaign.id": int(campaign.id),
        "campaign.name": campaign.name,
        "campaign.status": campaign.status.name,
        "campaign.advertising_channel_type": CHANNEL_TYPES.get(campaign.channel, "UNKNOWN"),
        "campaign.campaign_budget": emulator._name("campaignBudgets", campaign.budget_id)
        if campaign.budget_id
        else None,
    }


def start_google_ads_emulator(
    account: SandboxAccount, *, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> GoogleAdsEmulator:
    """Starts an emulator for `account` (customer id = the account id) on a free port unless `port` is given."""
    return GoogleAdsEmulator(account, host=host, port=port, **options)
