"""What the pages show, as plain data: changes, answers and log entries shaped for the templates.

Every value here may hold a stranger's text; `render` in app.web.app masks it all before a template sees it,
and the templates' autoescaping covers the rest.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from typing import Any

from ads.ad_copy import named_assets
from ads.changes import AddCreativeVariants, Change, CreateAdGroup, parse_change
from ops.change_log import AnswerRecord, LogEntry
from ops.proposal_rows import field_text, proposal_rows

Money = Callable[[int], str]


def shown_fields(change: Change) -> dict[str, Any]:
    """A change as a person edits it: its JSON form without the evidence, which the page shows as tables
    and an edit cannot set."""
    return change.model_dump(mode="json", exclude={"evidence"})


def change_view(change: Change, decision: dict[str, Any], money: Money) -> dict[str, Any]:
    """One change with the gate's decision and its evidence as tables."""
    row = proposal_rows({"proposals": [change.model_dump(mode="json")], "decisions": {change.hash: decision}}, money)[0]
    ad = change.ad if isinstance(change, AddCreativeVariants | CreateAdGroup) else None
    return {
        "id": change.id,
        "hash": change.hash,
        "kind": change.kind,
        "account": change.account,
        "summary": row["summary"],
        "rationale": row["rationale"],
        "outcome": decision.get("outcome", "undecided"),
        "rule": row["rule"],
        "reason": row["reason"],
        "metrics": change.evidence.lines(money),
        "period": " to ".join(p for p in (change.evidence.period_start, change.evidence.period_end) if p),
        "blocks": row["blocks"],
        "assets": [{"name": name, "text": text} for name, text in named_assets(ad) if text] if ad else [],
        "keywords": [
            {"text": k.text, "match_type": k.match_type.value}
            for k in (change.keywords if isinstance(change, CreateAdGroup) else ())
        ],
        "form": edit_form(change),
    }


# Form inputs are named `field.NAME`; a field holding a list or an object is edited as JSON, a long text in a
# text area.
FIELD_PREFIX = "field."


def edit_form(change: Change) -> list[dict[str, Any]]:
    """One input per field of the change's model (its evidence aside), with the schema's description as help."""
    shown = shown_fields(change)
    inputs = []
    for name, info in type(change).model_fields.items():
        if name not in shown:
            continue
        value = shown[name]
        kind = (
            "bool"
            if isinstance(value, bool)
            else "number"
            if isinstance(value, int | float)
            else "text"
            if isinstance(value, str)
            else "json"
        )
        text = (
            json.dumps(value, indent=2, ensure_ascii=False)
            if kind == "json"
            else str(value).lower()
            if kind == "bool"
            else str(value)
        )
        inputs.append({"name": name, "kind": kind, "value": text, "help": info.description or ""})
    return inputs


def edit_fields_from_form(change: Change, form: Mapping[str, str]) -> dict[str, Any]:
    """The fields a person changed in the edit form, typed as the change holds them; only those are the edit.

    Raises ValueError naming the field when a value cannot be read as its type; the change's schema checks the rest."""
    original = shown_fields(change)
    edited: dict[str, Any] = {}
    for key, text in form.items():
        name = key.removeprefix(FIELD_PREFIX)
        if not key.startswith(FIELD_PREFIX) or name not in original:
            continue
        was = original[name]
        try:
            if isinstance(was, bool):
                value: Any = {"true": True, "false": False}[text.strip().lower()]
            elif isinstance(was, int):
                value = int(text.replace(",", "").strip())
            elif isinstance(was, float):
                value = float(text.replace(",", "").strip())
            elif isinstance(was, str):
                value = text
            else:
                value = json.loads(text)
        except (KeyError, ValueError) as error:
            detail = (
                f": line {error.lineno}, column {error.colno}: {error.msg}"
                if isinstance(error, json.JSONDecodeError)
                else ""
            )
            raise ValueError(f"field {name}: not a {_type_name(was)}{detail}") from None
        if value != was:
            edited[name] = value
    if not edited:
        raise ValueError(f"the edit changes no field of change {change.id}; it stays pending as it was")
    return edited


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "whole number"
    if isinstance(value, float):
        return "number"
    return "JSON value"


def change_diff(before: Change, after: Change) -> list[dict[str, str]]:
    """The lines an edit changes, as a unified diff of the two changes' JSON forms."""
    old = json.dumps(shown_fields(before), indent=2, ensure_ascii=False).splitlines()
    new = json.dumps(shown_fields(after), indent=2, ensure_ascii=False).splitlines()
    lines = list(difflib.unified_diff(old, new, before.id, after.id, n=2, lineterm=""))
    return [
        {"kind": {"+": "add", "-": "remove", "@": "hunk"}.get(line[:1], "same"), "text": line} for line in lines[2:]
    ]


def answer_view(change: Change, values: dict[str, Any], money: Callable[[int], str]) -> dict[str, Any]:
    """What became of an answered change in its run: its review, and for an edit the new change's decision."""
    review = values.get("reviews", {}).get(change.hash, {})
    answered = review.get("replaced_by", change.hash)
    result = values.get("results", {}).get(answered) or {}
    decision = values.get("decisions", {}).get(answered, {})
    new = None
    if answered != change.hash:
        replaced = next((p for p in values.get("proposals", []) if p.get("hash") == answered), None)
        new = {
            "id": answered[:10],
            "hash": answered,
            "outcome": decision.get("outcome", ""),
            "reason": decision.get("reason", ""),
        }
        if replaced is not None:
            new["summary"] = parse_change(replaced).summary()
    return {
        "id": change.id,
        "hash": change.hash,
        "summary": change.summary(),
        "review": {"type": review.get("type", ""), "by": review.get("by", ""), "reason": review.get("reason", "")},
        "status": result.get("status", ""),
        "message": result.get("message", ""),
        "readback": readback_rows(result.get("before") or {}, result.get("after") or {}, money),
        "new": new,
    }


def readback_rows(before: dict[str, Any], after: dict[str, Any], money: Callable[[int], str]) -> list[dict[str, str]]:
    """Each field read back from the account, before and after, money as currency and counts as counts."""
    return [
        {
            "field": key.replace("_", " "),
            "before": field_text(key, before.get(key), money),
            "after": field_text(key, value, money),
        }
        for key, value in after.items()
    ]


def entry_view(entry: LogEntry, money: Callable[[int], str]) -> dict[str, Any]:
    return {
        "entry": entry.id,
        "recorded_at": f"{entry.recorded_at:%Y-%m-%d %H:%M:%S}",
        "account": entry.account,
        "change_id": entry.change_id,
        "change_hash": entry.change_hash,
        "kind": entry.kind,
        "summary": entry.parsed_change().summary(),
        "status": entry.status,
        "decided_by": entry.decided_by,
        "message": entry.message,
        "readback": readback_rows(entry.before, entry.after, money),
    }


def answer_record_view(record: AnswerRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"describe": record.describe(), "reason": record.reason, "type": record.type}
