"""What a model reads of a tool result: whole when short; the most important rows that fit when long."""

from __future__ import annotations

import json

from tools.registry import MAX_CONTENT_CHARS, ToolResult


def _terms(n: int) -> list[dict[str, object]]:
    return [{"search_term": f"hiking boots size {i} " + "x" * 60, "clicks": i, "cost": i * 1_000} for i in range(n)]


def test_a_short_result_is_whole() -> None:
    result = ToolResult(tool="search_terms", summary="3 terms.", data=_terms(3))
    assert json.loads(result.content()) == {"summary": "3 terms.", "data": _terms(3), "proposals": []}


def test_a_long_result_keeps_the_costliest_rows_that_fit_and_counts_the_rest() -> None:
    rows = _terms(2_000)[::-1][::2] + _terms(2_000)[::2]  # costly and cheap rows mixed
    content = ToolResult(tool="search_terms", summary="2,000 terms.", data=rows).content()
    body = json.loads(content)
    kept = body["data"]
    assert len(content) <= MAX_CONTENT_CHARS and 50 < len(kept) < 2_000
    assert body["omitted"] == 2_000 - len(kept) and f"{body['omitted']} of 2000 rows left out" in body["summary"]
    assert [row["cost"] for row in kept] == [i * 1_000 for i in range(1_999, 1_999 - len(kept), -1)]
    assert len(content) > MAX_CONTENT_CHARS - len(json.dumps(rows[0])) - 10  # no room was left for one more row


def test_rows_without_a_cost_keep_their_order_inside_a_record() -> None:
    budgets = [{"budget_name": f"budget {i}", "status": "on track " + "y" * 80} for i in range(500)]
    content = ToolResult(tool="budgets_and_pacing", summary="500 budgets.", data={"month": 11, "budgets": budgets})
    body = json.loads(content.content())
    assert body["data"]["month"] == 11 and body["data"]["budgets"] == budgets[: len(body["data"]["budgets"])]
    assert body["omitted"] == 500 - len(body["data"]["budgets"]) > 0
