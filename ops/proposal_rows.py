"""Proposals as rows: each change with its decision, review and result, as the CLI, the report and --json show them.

Kept apart from the report so the CLI can show a run without loading the analyses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ads.changes import (
    MONEY_METRICS,
    AddCreativeVariants,
    AddNegativeKeywords,
    AssetSources,
    Change,
    CreateAdGroup,
    CreateSharedNegativeList,
    ReallocateBudget,
    RemoveNegativeKeywords,
    format_count,
    keyword_label,
    parse_change,
)
from ads.entities import ResponsiveSearchAdCopy
from ads.statuses import ProposalStatus

STATUS_ORDER: dict[ProposalStatus, int] = {
    "applied": 0,
    "already_applied": 0,
    "queued": 1,
    "pending": 2,
    "approved": 3,
    "edited": 3,
    "rejected": 4,
    "failed": 5,
    "blocked": 6,
}


def proposal_rows(state: Mapping[str, Any], money: Callable[[int], str]) -> list[dict[str, Any]]:
    """One row per proposal with its decision, review and result: what the CLI, the report and --json show.

    Applied changes come first, then what waits for a person, then what was refused."""
    decisions, results, reviews = state.get("decisions", {}), state.get("results", {}), state.get("reviews", {})
    rows = []
    for data in state.get("proposals", []):
        change = parse_change(data)
        decision = decisions.get(change.hash, {})
        result = results.get(change.hash)
        review = reviews.get(change.hash)
        if result:
            status = result["status"]
        elif review:
            status = {"accept": "approved", "edit": "edited", "reject": "rejected"}[review["type"]]
        else:
            status = {"needs_approval": "pending", "blocked": "blocked"}.get(decision.get("outcome", ""), "undecided")
        rows.append(
            {
                "id": change.id,
                "hash": change.hash,
                "kind": change.kind,
                "decision": decision.get("outcome", "undecided"),
                "rule": decision.get("rule", ""),
                "reason": decision.get("reason", ""),
                "summary": change.summary(),
                "rationale": change.rationale,
                "status": status,
                "message": (result or {}).get("message", ""),
                "blocks": [
                    {
                        "keyword": k.text,
                        "match_type": k.match_type.value,
                        "terms": [
                            {
                                "term": q.search_term,
                                "clicks": q.clicks,
                                "cost": money(q.cost),
                                "conversions": q.conversions,
                            }
                            for q in k.blocks
                        ],
                    }
                    for k in getattr(change, "keywords", ())
                    if hasattr(k, "blocks")
                ],
                "change": change.model_dump(mode="json"),
            }
        )
    return sorted(rows, key=lambda r: (STATUS_ORDER.get(r["status"], 7), r["kind"]))


def state_lines(state: Mapping[str, Any], money: Callable[[int], str], indent: str = "") -> list[str]:
    """A read-back's state, one field a line: money as currency, counts as counts, lists and objects indented."""
    lines = []
    for name, value in state.items():
        label = f"{indent}{name.replace('_', ' ')}"
        if isinstance(value, Mapping) and name in MONEY_METRICS:  # an amount per budget id
            lines += [f"{label}:", *(f"{indent}  {k}: {_value(name, v, money)}" for k, v in value.items())]
        elif isinstance(value, Mapping):
            lines += [f"{label}:", *state_lines(value, money, indent + "  ")]
        elif isinstance(value, list | tuple):
            flat = all(not isinstance(v, Mapping | list | tuple) for v in value)
            if flat:
                lines.append(f"{label}: {', '.join(str(v) for v in value) or 'none'}")
            else:
                lines.append(f"{label}:")
                for item in value:
                    fields = item if isinstance(item, Mapping) else {"value": item}
                    shown = ", ".join(f"{k.replace('_', ' ')} {_value(k, v, money)}" for k, v in fields.items())
                    lines.append(f"{indent}  - {shown}")
        else:
            lines.append(f"{label}: {_value(name, value, money)}")
    return lines


def field_text(name: str, value: Any, money: Callable[[int], str]) -> str:
    """One read-back field's value as a person reads it, for a before/after table (`state_lines` for a state)."""
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        first, *rest = state_lines({name: value}, money)
        return "; ".join(filter(None, [first.split(":", 1)[1].strip(), *(line.strip() for line in rest)]))
    return _value(name, value, money)


def _value(name: str, value: Any, money: Callable[[int], str]) -> str:
    # Meta answers amounts as digit strings; other strings (ids above all) are shown as they are.
    if name in MONEY_METRICS and isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return money(round(value)) if name in MONEY_METRICS else format_count(value)


def change_lines(change: Change, money: Callable[[int], str], limit: int = 8) -> list[str]:
    """What a change does, in at most about `limit` lines: the negatives with what each blocks, the keywords and
    copy of a new ad group or variant. The summary line says the rest (a budget's amounts, what a pause touches)."""
    lines: list[str] = []
    match change:
        case AddNegativeKeywords() | CreateSharedNegativeList():
            for keyword in change.keywords[:limit]:
                cost = sum(q.cost for q in keyword.blocks)
                clicks = sum(q.clicks for q in keyword.blocks)
                conversions = sum(q.conversions for q in keyword.blocks)
                example = keyword.blocks[0].search_term if keyword.blocks else keyword.text
                first = f"; e.g. {example}" if example != keyword.text else ""  # an exact one blocks itself
                terms = f"{len(keyword.blocks):,} term{'s' if len(keyword.blocks) != 1 else ''}"
                lines.append(
                    f"{keyword_label(keyword)} ({keyword.basis.value}): blocks {terms}, "
                    f"{money(cost)}, {clicks:,} clicks, {format_count(conversions)} conv.{first}"
                )
            lines += _more(len(change.keywords) - limit, "negatives")
        case RemoveNegativeKeywords():
            lines.append(", ".join(keyword_label(k) for k in change.keywords[:limit]))
            lines += _more(len(change.keywords) - limit, "negatives")
        case CreateAdGroup():
            lines.append("keywords: " + ", ".join(keyword_label(k) for k in change.keywords[:limit]))
            lines += _more(len(change.keywords) - limit, "keywords")
            lines += _grounded_copy_lines(change)
        case AddCreativeVariants():
            lines += _grounded_copy_lines(change)
        case ReallocateBudget():
            for leg in change.legs:
                lines.append(
                    f"{leg.budget_name or leg.budget_id}: {money(leg.from_amount)} → {money(leg.to_amount)} a day "
                    f"({leg.relative_change:+.0%})"
                )
            gained = change.evidence.metrics.get("expected_conversions_gained")
            total = sum(leg.from_amount for leg in change.legs)
            lines.append(
                f"total {money(total)} → {money(sum(leg.to_amount for leg in change.legs))} a day, applied whole or not"
                + (f"; about {format_count(gained)} more conversions expected" if gained is not None else "")
            )
    return lines


def _grounded_copy_lines(change: CreateAdGroup | AddCreativeVariants) -> list[str]:
    """Each asset with the kit chunks it rests on, then the link; a keyword draft (no assets) as its copy."""
    if not change.assets:
        return _copy_lines(change.ad)
    return [*(_asset_line(a) for a in change.assets), *_copy_lines(change.ad)[2:], *_sources_lines(change)]


def _asset_line(asset: AssetSources) -> str:
    """One asset with what it rests on, so a person can check each claim against its chunk."""
    basis = ", ".join(f"{s.doc} §{s.chunk}" for s in asset.sources) or (
        "call to action" if asset.generic else "no source"
    )
    return f"{asset.asset}: {asset.text} — {basis}"


def _sources_lines(change: CreateAdGroup | AddCreativeVariants) -> list[str]:
    """One line on what the copy rests on: the brand-kit chunks cited, and how many assets are calls to action."""
    if not change.assets:
        return []
    cited = dict.fromkeys(f"{s.doc} §{s.chunk}" for a in change.assets for s in a.sources)
    grounded = sum(1 for a in change.assets if a.sources)
    generic = sum(1 for a in change.assets if a.generic)
    return [
        f"sources: {grounded} of {len(change.assets)} assets rest on the brand kit ({', '.join(cited) or 'none'}); "
        f"{generic} call{'s' if generic != 1 else ''} to action"
    ]


def _copy_lines(ad: Any) -> list[str]:
    if isinstance(ad, ResponsiveSearchAdCopy):
        return [
            f"headlines ({len(ad.headlines)}): " + " | ".join(ad.headlines),
            f"descriptions ({len(ad.descriptions)}): " + " | ".join(ad.descriptions),
            f"final URL: {ad.final_url}",
        ]
    return [f"headline: {ad.headline}", f"primary text: {ad.primary_text}", f"link: {ad.link_url}"]


def _more(count: int, what: str) -> list[str]:
    return [f"… +{count:,} more {what} (--json shows all)"] if count > 0 else []
