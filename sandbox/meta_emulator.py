"""A local Graph API (Meta Marketing API) server for the real facebook-business SDK, backed by a SandboxAccount.

It serves what `ads.meta.MetaAccount` uses: the ad account node and its edges (campaigns, adsets, ads,
adcreatives, insights), an ad set's ads, object reads `GET /vN/<id>?fields=…` (with `creative{…}` expansion),
form-encoded updates `POST /vN/<id>`, creation of creatives and ads, and `DELETE /vN/<id>`. Lists page in Graph's
shape (`data`, `paging.cursors.after`, `paging.next`). `execution_options=["validate_only"]` checks and writes
nothing. Errors come back as Graph error bodies: a missing or invalid token (104 / 190), a bad appsecret_proof
or parameter (100, with `blame_field_specs`), permission (200, for `read_only_token` writing) and rate limits
(17, on demand through `fail_next_with_rate_limit`).

Creatives are not stored in the sandbox (an Ad holds its copy); the emulator gives each ad's creative an id
on first sight and keeps the ones created through the API in memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pandas as pd

from ads.entities import AccountStructure, Ad, AdGroup, Budget, Campaign, MetaAdCopy, Status
from ads.meta import DEFAULT_API_VERSION, META_STATUS, STATUS_FROM_META, meta_ad_copy, meta_creative_spec
from sandbox.store import SandboxAccount

MIN_DAILY_BUDGET = 100  # minor units; Meta's floor depends on currency and bid strategy, 1.00 is typical
CONVERSION_ACTION = "offsite_conversion.fb_pixel_purchase"
DEFAULT_PAGE_SIZE = 25
FIELDS = {
    "account": {"id", "account_id", "name", "currency", "timezone_name", "account_status"},
    "campaign": {"id", "name", "status", "effective_status", "objective", "account_id", "daily_budget"},
    "adset": {"id", "name", "campaign_id", "status", "effective_status", "account_id", "daily_budget"},
    "ad": {"id", "name", "adset_id", "campaign_id", "status", "effective_status", "account_id", "creative"},
    "creative": {"id", "name", "body", "title", "object_story_spec", "call_to_action_type", "account_id"},
    "insights": {
        "date_start",
        "date_stop",
        "account_id",
        "campaign_id",
        "campaign_name",
        "adset_id",
        "adset_name",
        "ad_id",
        "ad_name",
        "impressions",
        "clicks",
        "spend",
        "actions",
        "action_values",
    },
}
NODE_TYPE_NAMES = {
    "account": "AdAccount",
    "campaign": "Campaign",
    "adset": "AdSet",
    "ad": "Ad",
    "creative": "AdCreative",
    "insights": "AdsInsights",
}


class GraphError(Exception):
    """A Graph API error, rendered as Graph renders it."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        http_status: int = 400,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        field: str | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.error: dict[str, Any] = {
            "message": message,
            "type": error_type,
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(9),
            "is_transient": transient,
        }
        if subcode is not None:
            self.error["error_subcode"] = subcode
        if field is not None:
            self.error["error_data"] = {"blame_field_specs": [field.split(".")]}


def _invalid(field: str, message: str, subcode: int | None = None) -> GraphError:
    return GraphError(100, f"(#100) {message}", field=field, subcode=subcode)


@dataclass(frozen=True)
class _Snapshot:
    """The sandbox account at the moment of a request, indexed by Graph id."""

    structure: AccountStructure
    campaigns: dict[str, Campaign]
    ad_sets: dict[str, AdGroup]
    ads: dict[str, Ad]
    budgets: dict[str, Budget]

    @classmethod
    def of(cls, structure: AccountStructure) -> _Snapshot:
        return cls(
            structure,
            {c.id: c for c in structure.campaigns},
            {s.id: s for s in structure.ad_groups},
            {a.id: a for a in structure.ads},
            {b.id: b for b in structure.budgets},
        )

    def campaign_budget(self, campaign: Campaign) -> Budget | None:
        """The campaign-level budget (campaign budget optimisation) of a campaign, if it has one."""
        held = self.budgets.get(campaign.budget_id or "")
        if held is not None and held.level == "campaign":
            return held
        return next((b for b in self.budgets.values() if b.level == "campaign" and campaign.id in b.campaign_ids), None)

    def ad_set_budget(self, ad_set: AdGroup) -> Budget | None:
        held = self.budgets.get(ad_set.budget_id or "")
        if held is not None and held.level == "ad_set":
            return held
        return next((b for b in self.budgets.values() if b.level == "ad_set" and ad_set.id in b.ad_group_ids), None)


class MetaEmulator:
    """The server; start it with `start_meta_emulator`. Tests may set the `fail_next_*_with_rate_limit` counters."""

    def __init__(self, account: SandboxAccount, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = account
        self.app_id = str(10**14 + secrets.randbelow(10**14))
        self.app_secret = secrets.token_hex(16)
        self.access_token = "EAAemulator" + secrets.token_urlsafe(24)
        self.read_only_token = "EAAreadonly" + secrets.token_urlsafe(24)
        self.page_id = str(10**14 + secrets.randbelow(10**14))
        self.fail_next_with_rate_limit = 0  # the next N requests fail with code 17
        self.fail_next_write_with_rate_limit = 0  # the next N POST/DELETE requests fail with code 17
        self.writes = 0  # successful writes to the sandbox, so tests can prove validate_only wrote nothing
        self.fail_writes_to: set[str] = set()  # the next real (not validate_only) write to these nodes fails, once
        self._creatives: dict[str, dict[str, Any]] = {}
        self._creative_of_ad: dict[str, str] = {}
        self._names: dict[str, str] = {}  # ad names: the sandbox's Ad has none
        self._lock = threading.Lock()
        self._current_path = ""
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="meta-emulator", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def account_id(self) -> str:
        return f"act_{self.sandbox.account.id}"

    def client_settings(self) -> dict[str, str]:
        """The META_* environment a client needs to reach this server (see ads.meta.MetaSettings.from_env)."""
        return {
            "META_APP_ID": self.app_id,
            "META_APP_SECRET": self.app_secret,
            "META_ACCESS_TOKEN": self.access_token,
            "META_GRAPH_URL": self.base_url,
            "META_API_VERSION": DEFAULT_API_VERSION,
            "META_AD_ACCOUNT_ID": self.account_id,
            "META_PAGE_ID": self.page_id,
        }

    def start(self) -> MetaEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetaEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling (no HTTP here, so it can be reasoned about on its own) --

    def handle(self, method: str, path: str, params: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            with self._lock:
                self._current_path = path  # for paging.next; requests are handled one at a time
                return 200, self._route(method, path, params)
        except GraphError as error:
            return error.http_status, {"error": error.error}

    def _route(self, method: str, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        parts = [p for p in path.split("/") if p]
        if len(parts) not in (2, 3) or not re.fullmatch(r"v\d+\.\d+", parts[0]):
            raise GraphError(2500, f"Unknown path components: {path}", error_type="OAuthException")
        self._check_token(params, writing=method != "GET")
        if self.fail_next_with_rate_limit > 0 or (method != "GET" and self.fail_next_write_with_rate_limit > 0):
            if self.fail_next_with_rate_limit > 0:
                self.fail_next_with_rate_limit -= 1
            else:
                self.fail_next_write_with_rate_limit -= 1
            raise GraphError(
                17, "(#17) User request limit reached", error_type="OAuthException", subcode=2446079, transient=True
            )
        node, edge = parts[1], (parts[2] if len(parts) == 3 else None)
        snapshot = _Snapshot.of(self.sandbox.structure())
        kind = self._kind_of(node, snapshot)
        validate_only = "validate_only" in _json_param(params, "execution_options", default=[])
        if method == "GET":
            if edge is None:
                return _select(self._node(kind, node, snapshot), kind, params.get("fields"))
            return self._edge(kind, node, edge, snapshot, params)
        if method == "POST" and edge is None:
            if node in self.fail_writes_to and not validate_only:
                self.fail_writes_to.discard(node)
                raise GraphError(2, "An unexpected error has occurred. Please retry your request later.")
            return self._update(kind, node, snapshot, params, validate_only)
        if method == "POST" and kind == "account" and edge in ("adcreatives", "ads"):
            return (self._create_creative if edge == "adcreatives" else self._create_ad)(
                snapshot, params, validate_only
            )
        if method == "DELETE" and edge is None and kind in ("ad", "creative"):
            return self._delete(kind, node, snapshot)
        raise GraphError(
            100,
            f"(#100) Unsupported {method} request on {NODE_TYPE_NAMES[kind]} edge '{edge}'",
            error_type="GraphMethodException",
            subcode=33,
        )

    def _check_token(self, params: Mapping[str, str], *, writing: bool) -> None:
        token = params.get("access_token")
        if not token:
            raise GraphError(104, "An access token is required to request this resource.")
        if token not in (self.access_token, self.read_only_token):
            raise GraphError(190, "Invalid OAuth access token - Cannot parse access token", subcode=463)
        proof = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(params.get("appsecret_proof", ""), proof):
            raise _invalid("appsecret_proof", "Invalid appsecret_proof provided in the API argument")
        if writing and token == self.read_only_token:
            raise GraphError(
                200,
                "(#200) Requires ads_management permission to manage the object",
                http_status=403,
                error_type="OAuthException",
            )

    def _kind_of(self, node: str, snapshot: _Snapshot) -> str:
        if node == self.account_id:
            return "account"
        for kind, index in (
            ("campaign", snapshot.campaigns),
            ("adset", snapshot.ad_sets),
            ("ad", snapshot.ads),
            ("creative", self._creatives),
        ):
            if node in index:
                return kind
        raise GraphError(
            100,
            f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded due "
            "to missing permissions, or does not support this operation",
            error_type="GraphMethodException",
            subcode=33,
        )

    # -- reads --

    def _node(self, kind: str, node: str, snapshot: _Snapshot) -> dict[str, Any]:
        account = self.sandbox.account
        common = {"account_id": account.id}
        if kind == "account":
            return {
                "id": self.account_id,
                "account_id": account.id,
                "name": account.display_name,
                "currency": account.currency,
                "timezone_name": account.time_zone,
                "account_status": 1,
            }
        if kind == "campaign":
            campaign = snapshot.campaigns[node]
            budget = snapshot.campaign_budget(campaign)
            return {
                **common,
                "id": campaign.id,
                "name": campaign.name,
                "status": META_STATUS[campaign.status],
                "effective_status": META_STATUS[campaign.status],
                "objective": "OUTCOME_SALES",
                "daily_budget": str(budget.daily_amount) if budget else None,
            }
        if kind == "adset":
            ad_set = snapshot.ad_sets[node]
            budget = snapshot.ad_set_budget(ad_set)
            return {
                **common,
                "id": ad_set.id,
                "name": ad_set.name,
                "campaign_id": ad_set.campaign_id,
                "status": META_STATUS[ad_set.status],
                "effective_status": META_STATUS[ad_set.status],
                "daily_budget": str(budget.daily_amount) if budget else None,
            }
        if kind == "ad":
            ad = snapshot.ads[node]
            parent = snapshot.ad_sets.get(ad.ad_group_id)
            return {
                **common,
                "id": ad.id,
                "name": self._names.get(ad.id, f"Ad {ad.id}"),
                "adset_id": ad.ad_group_id,
                "campaign_id": parent.campaign_id if parent else None,
                "status": META_STATUS[ad.status],
                "effective_status": META_STATUS[ad.status],
                "creative": self._creative_for(ad),
            }
        return {**common, **self._creatives[node]}

    def _creative_for(self, ad: Ad) -> dict[str, Any]:
        if ad.id not in self._creative_of_ad:
            if not isinstance(ad.copy_, MetaAdCopy):
                return {"id": ad.id}
            self._creative_of_ad[ad.id] = self._register_creative(f"Creative for ad {ad.id}", ad.copy_)
        return self._creatives[self._creative_of_ad[ad.id]]

    def _register_creative(self, name: str, copy: MetaAdCopy) -> str:
        creative_id = self.sandbox.new_id()
        self._creatives[creative_id] = {
            "id": creative_id,
            "name": name,
            "body": copy.primary_text,
            "title": copy.headline,
            "call_to_action_type": copy.call_to_action,
            "object_story_spec": meta_creative_spec(copy, self.page_id),
        }
        return creative_id

    def _edge(self, kind: str, node: str, edge: str, snapshot: _Snapshot, params: Mapping[str, str]) -> dict[str, Any]:
        live = lambda entity: entity.status is not Status.REMOVED  # noqa: E731 - edges leave out deleted objects
        if kind == "account" and edge == "insights":
            return self._page(self._insights(snapshot, params), "insights", params)
        if kind == "account" and edge == "adcreatives":
            for ad in snapshot.ads.values():
                self._creative_for(ad)
            items = sorted(self._creatives)
            return self._page([self._node("creative", i, snapshot) for i in items], "creative", params)
        members = {
            ("account", "campaigns"): ("campaign", [c.id for c in snapshot.campaigns.values() if live(c)]),
            ("account", "adsets"): ("adset", [s.id for s in snapshot.ad_sets.values() if live(s)]),
            ("account", "ads"): ("ad", [a.id for a in snapshot.ads.values() if live(a)]),
            ("campaign", "adsets"): (
                "adset",
                [s.id for s in snapshot.ad_sets.values() if live(s) and s.campaign_id == node],
            ),
            ("adset", "ads"): ("ad", [a.id for a in snapshot.ads.values() if live(a) and a.ad_group_id == node]),
        }.get((kind, edge))
        if members is None:
            raise GraphError(2500, f"Unknown path components: /{node}/{edge}")
        member_kind, ids = members
        return self._page([self._node(member_kind, i, snapshot) for i in ids], member_kind, params)

    def _page(self, items: list[dict[str, Any]], kind: str, params: Mapping[str, str]) -> dict[str, Any]:
        limit = _int_param(params, "limit", default=DEFAULT_PAGE_SIZE, minimum=1)
        offset = _decode_cursor(params.get("after"))
        page = [_select(item, kind, params.get("fields")) for item in items[offset : offset + limit]]
        body: dict[str, Any] = {"data": page}
        if page:
            after = base64.urlsafe_b64encode(str(offset + len(page)).encode()).decode()
            body["paging"] = {
                "cursors": {"before": base64.urlsafe_b64encode(str(offset).encode()).decode(), "after": after}
            }
            if offset + len(page) < len(items):
                query = {k: v for k, v in params.items() if k not in ("access_token", "appsecret_proof")}
                body["paging"]["next"] = f"{self.base_url}{self._current_path}?{urlencode({**query, 'after': after})}"
        if kind != "insights":
            body["summary"] = {"total_count": len(items)}
        return body

    def _insights(self, snapshot: _Snapshot, params: Mapping[str, str]) -> list[dict[str, Any]]:
        level = params.get("level", "adset")
        if level not in ("ad", "adset", "campaign"):
            raise _invalid("level", f"Param level must be one of ad, adset, campaign in this emulator, not '{level}'")
        time_range = _json_param(params, "time_range", default=None)
        try:
            since = pd.Timestamp(time_range["since"]).date()
            until = pd.Timestamp(time_range["until"]).date()
        except (TypeError, KeyError, ValueError):
            raise _invalid(
                "time_range", "Param time_range must be {'since': 'YYYY-MM-DD', 'until': 'YYYY-MM-DD'}"
            ) from None
        increment = params.get("time_increment", "all_days")
        if increment not in ("1", "all_days"):
            raise _invalid("time_increment", "Param time_increment must be 1 or all_days in this emulator")
        frame = self.sandbox.ad_metrics(since, until) if level == "ad" else self.sandbox.daily_metrics(since, until)
        keys = ["campaign_id"] + {"ad": ["ad_group_id", "ad_id"], "adset": ["ad_group_id"]}.get(level, [])
        if increment == "1":
            keys = ["date", *keys]
        sums = frame.groupby(keys, as_index=False)[
            ["impressions", "clicks", "cost", "conversions", "conversion_value"]
        ].sum()
        rows = []
        for row in sums.itertuples(index=False):
            day = row.date.date().isoformat() if increment == "1" else None
            ad_set = snapshot.ad_sets.get(getattr(row, "ad_group_id", ""))
            campaign = snapshot.campaigns.get(row.campaign_id)
            item = {
                "account_id": self.sandbox.account.id,
                "campaign_id": row.campaign_id,
                "campaign_name": campaign.name if campaign else None,
                "date_start": day or since.isoformat(),
                "date_stop": day or until.isoformat(),
                "impressions": str(row.impressions),
                "clicks": str(row.clicks),
                "spend": f"{row.cost / 100:.2f}",
            }
            if level in ("ad", "adset"):
                item |= {"adset_id": row.ad_group_id, "adset_name": ad_set.name if ad_set else None}
            if level == "ad":
                ad = snapshot.ads.get(row.ad_id)
                item |= {"ad_id": row.ad_id, "ad_name": self._names.get(row.ad_id, f"Ad {row.ad_id}") if ad else None}
            if row.conversions:
                item["actions"] = [{"action_type": CONVERSION_ACTION, "value": repr(float(row.conversions))}]
                item["action_values"] = [{"action_type": CONVERSION_ACTION, "value": repr(float(row.conversion_value))}]
            rows.append(item)
        return rows

    # -- writes --

    def _update(
        self, kind: str, node: str, snapshot: _Snapshot, params: Mapping[str, str], validate_only: bool
    ) -> dict[str, Any]:
        if kind not in ("campaign", "adset", "ad"):
            raise GraphError(
                100, f"(#100) {NODE_TYPE_NAMES[kind]} {node} cannot be updated here", error_type="GraphMethodException"
            )
        nodes: dict[str, Mapping[str, Campaign | AdGroup | Ad]] = {
            "campaign": snapshot.campaigns,
            "adset": snapshot.ad_sets,
            "ad": snapshot.ads,
        }
        entity = nodes[kind][node]
        upserts: list[Any] = []
        changes: dict[str, Any] = {}
        if "status" in params:
            status = params["status"]
            if status not in STATUS_FROM_META:
                raise _invalid("status", f"Param status must be one of {', '.join(STATUS_FROM_META)}, not '{status}'")
            changes["status"] = STATUS_FROM_META[status]
        if "name" in params and kind != "ad":
            changes["name"] = params["name"]
        if "name" in params and kind == "ad" and not validate_only:
            self._names[node] = params["name"]
        if "daily_budget" in params:
            if isinstance(entity, Ad):
                raise _invalid("daily_budget", "Param daily_budget is not a field of Ad")
            upserts += self._budget_upserts(entity, snapshot, _budget_amount(params["daily_budget"]))
        if changes:
            upserts.append(entity.model_copy(update=changes))
        if not validate_only and upserts:
            self.sandbox.write(upserts=upserts)
            self.writes += 1
        return {"success": True}

    def _budget_upserts(self, entity: Campaign | AdGroup, snapshot: _Snapshot, amount: int) -> list[Any]:
        if isinstance(entity, Campaign):
            budget = snapshot.campaign_budget(entity)
            if budget is None:
                raise _invalid(
                    "daily_budget",
                    f"Campaign {entity.id} uses ad set budgets; turning on campaign "
                    "budget optimisation is not supported by this emulator",
                    subcode=1885621,
                )
            return [budget.model_copy(update={"daily_amount": amount})]
        campaign = snapshot.campaigns.get(entity.campaign_id)
        if campaign is not None and snapshot.campaign_budget(campaign) is not None:
            raise _invalid(
                "daily_budget",
                f"Ad set {entity.id} is in a campaign with campaign budget optimization; "
                "its budget is set on the campaign",
                subcode=1885621,
            )
        budget = snapshot.ad_set_budget(entity)
        if budget is not None:
            return [budget.model_copy(update={"daily_amount": amount})]
        budget = Budget(
            id=self.sandbox.new_id(),
            name=entity.name,
            level="ad_set",
            daily_amount=amount,
            campaign_ids=(entity.campaign_id,),
            ad_group_ids=(entity.id,),
        )
        return [budget, entity.model_copy(update={"budget_id": budget.id})]

    def _create_creative(self, snapshot: _Snapshot, params: Mapping[str, str], validate_only: bool) -> dict[str, Any]:
        copy = self._creative_copy(_json_param(params, "object_story_spec", default=None), "object_story_spec")
        if validate_only:
            return {"success": True}
        creative_id = self._register_creative(params.get("name") or "Creative", copy)
        return {"id": creative_id}

    def _creative_copy(self, spec: Any, field: str) -> MetaAdCopy:
        if not isinstance(spec, dict):
            raise _invalid(field, f"Param {field} must be a JSON object with page_id and link_data")
        if spec.get("page_id") != self.page_id:
            raise _invalid(f"{field}.page_id", f"Invalid page_id '{spec.get('page_id')}': the token cannot post as it")
        link = (spec.get("link_data") or {}).get("link", "")
        if not re.match(r"https?://[^\s/]+\.[^\s]+", str(link)):
            raise _invalid(f"{field}.link_data.link", f"Param link_data.link must be an http(s) URL, not '{link}'")
        copy = meta_ad_copy({"object_story_spec": spec})
        if copy is None:
            raise _invalid(f"{field}.link_data", "Param link_data needs message, name and link")
        return copy

    def _create_ad(self, snapshot: _Snapshot, params: Mapping[str, str], validate_only: bool) -> dict[str, Any]:
        ad_set_id = params.get("adset_id", "")
        if ad_set_id not in snapshot.ad_sets:
            raise _invalid("adset_id", f"Param adset_id '{ad_set_id}' is not an ad set of {self.account_id}")
        status = params.get("status", "ACTIVE")
        if status not in ("ACTIVE", "PAUSED"):
            raise _invalid("status", f"Param status must be ACTIVE or PAUSED for a new ad, not '{status}'")
        creative = _json_param(params, "creative", default=None)
        if not isinstance(creative, dict):
            raise _invalid("creative", "Param creative must be {'creative_id': …} or a creative spec")
        if "creative_id" in creative:
            creative_id = str(creative["creative_id"])
            if creative_id not in self._creatives:
                raise _invalid("creative.creative_id", f"Creative {creative_id} does not exist")
            copy = meta_ad_copy(self._creatives[creative_id])
            assert copy is not None  # the emulator registers link-ad creatives only
        else:
            creative_id = None
            copy = self._creative_copy(creative.get("object_story_spec"), "creative.object_story_spec")
        if validate_only:
            return {"success": True}
        ad = Ad(id=self.sandbox.new_id(), ad_group_id=ad_set_id, status=STATUS_FROM_META[status], copy_=copy)
        self._creative_of_ad[ad.id] = creative_id or self._register_creative(f"Creative for ad {ad.id}", copy)
        self._names[ad.id] = params.get("name") or f"Ad {ad.id}"
        self.sandbox.write(upserts=[ad])
        self.writes += 1
        return {"id": ad.id}

    def _delete(self, kind: str, node: str, snapshot: _Snapshot) -> dict[str, Any]:
        if kind == "creative":
            self._creatives.pop(node)
        else:
            self.sandbox.write(upserts=[snapshot.ads[node].model_copy(update={"status": Status.REMOVED})])
            self.writes += 1
        return {"success": True}


def _select(item: dict[str, Any], kind: str, fields: str | None) -> dict[str, Any]:
    """Graph's field selection: `id` always, the named fields when set, `creative{a,b}` expands a sub-object."""
    wanted = _parse_fields(fields) if fields else {"id": None}
    unknown = sorted(set(wanted) - FIELDS[kind])
    if unknown:
        raise _invalid(
            unknown[0], f"Tried accessing nonexisting field ({unknown[0]}) on node type ({NODE_TYPE_NAMES[kind]})"
        )
    selected = {"id": item["id"]} if "id" in item else {}
    if kind == "insights":  # Graph always reports the period of an insights row
        selected |= {"date_start": item["date_start"], "date_stop": item["date_stop"]}
    for name, sub in wanted.items():
        value = item.get(name)
        if value is None:
            continue  # Graph leaves out fields that have no value (e.g. daily_budget under campaign budget)
        if isinstance(value, dict) and name == "creative":
            value = _select(value, "creative", sub) if sub else {"id": value["id"]}
        selected[name] = value
    return selected


def _parse_fields(spec: str) -> dict[str, str | None]:
    """'a,b{c,d},e' → {'a': None, 'b': 'c,d', 'e': None}."""
    fields: dict[str, str | None] = {}
    depth, start = 0, 0
    for i, char in enumerate(spec + ","):
        depth += (char == "{") - (char == "}")
        if char == "," and depth == 0:
            part = spec[start:i].strip()
            start = i + 1
            if part:
                name, _, rest = part.partition("{")
                fields[name.strip()] = rest[:-1] if rest else None
    return fields


def _json_param(params: Mapping[str, str], name: str, *, default: Any) -> Any:
    if name not in params:
        return default
    try:
        return json.loads(params[name])
    except json.JSONDecodeError:
        raise _invalid(name, f"Param {name} must be JSON") from None


def _int_param(params: Mapping[str, str], name: str, *, default: int, minimum: int) -> int:
    try:
        value = int(params.get(name, default))
    except ValueError:
        raise _invalid(name, f"Param {name} must be an integer") from None
    if value < minimum:
        raise _invalid(name, f"Param {name} must be at least {minimum}")
    return value


def _budget_amount(raw: str) -> int:
    if not raw.isdigit() or int(raw) <= 0:
        raise _invalid("daily_budget", f"Param daily_budget must be a positive integer in minor units, not '{raw}'")
    if int(raw) < MIN_DAILY_BUDGET:
        raise _invalid(
            "daily_budget", f"Param daily_budget {raw} is below the minimum of {MIN_DAILY_BUDGET}", subcode=1885272
        )
    return int(raw)


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        raise _invalid("after", f"Invalid cursor '{cursor}'") from None


def _handler_for(emulator: MetaEmulator) -> type[BaseHTTPRequestHandler]:
    class GraphHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                params.update(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            status, body = emulator.handle(method, url.path, params)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._serve("DELETE")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
            pass

    return GraphHandler


def start_meta_emulator(account: SandboxAccount, *, host: str = "127.0.0.1", port: int = 0) -> MetaEmulator:
    """Serve `account` on host:port (0 = a free port) in a background thread; stop() or use as a context manager."""
    return MetaEmulator(account, host, port).start()


__all__ = ["GraphError", "MetaEmulator", "start_meta_emulator"]
