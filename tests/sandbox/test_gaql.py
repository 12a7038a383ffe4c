"""The emulator's GAQL parser and evaluator, table-driven."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.gaql import (
    Condition,
    GaqlError,
    date_range,
    during_range,
    evaluate,
    parse_gaql,
)

TODAY = dt.date(2026, 11, 20)  # a Friday

ROWS = [
    {
        "campaign.id": 11,
        "campaign.name": "Boots",
        "campaign.status": "ENABLED",
        "segments.date": "2026-11-18",
        "metrics.clicks": 3,
        "metrics.cost_micros": 100,
    },
    {
        "campaign.id": 11,
        "campaign.name": "Boots",
        "campaign.status": "ENABLED",
        "segments.date": "2026-11-19",
        "metrics.clicks": 4,
        "metrics.cost_micros": 200,
    },
    {
        "campaign.id": 12,
        "campaign.name": "Tent's",
        "campaign.status": "PAUSED",
        "segments.date": "2026-10-05",
        "metrics.clicks": 5,
        "metrics.cost_micros": 300,
    },
    {
        "campaign.id": 13,
        "campaign.name": "Brand",
        "campaign.status": "REMOVED",
        "segments.date": "2026-11-20",
        "metrics.clicks": 1,
        "metrics.cost_micros": None,
    },
]


@pytest.mark.parametrize(
    ("text", "fields", "resource", "conditions", "limit"),
    [
        ("SELECT campaign.id FROM campaign", ("campaign.id",), "campaign", (), None),
        (
            "select campaign.id, campaign.name from campaign limit 5",
            ("campaign.id", "campaign.name"),
            "campaign",
            (),
            5,
        ),
        (
            "SELECT a.b FROM r WHERE a.b = 'x' AND c.d != 3",
            ("a.b",),
            "r",
            (Condition(field="a.b", operator="=", value="x"), Condition(field="c.d", operator="!=", value=3)),
            None,
        ),
        (
            "SELECT a.b FROM r WHERE a.s IN ('ENABLED', PAUSED) AND a.n NOT IN (1, 2)",
            ("a.b",),
            "r",
            (
                Condition(field="a.s", operator="IN", value=("ENABLED", "PAUSED")),
                Condition(field="a.n", operator="NOT IN", value=(1, 2)),
            ),
            None,
        ),
        (
            "SELECT a.b FROM r WHERE segments.date BETWEEN '2026-01-01' AND '2026-01-31' AND a.x >= 1.5",
            ("a.b",),
            "r",
            (
                Condition(field="segments.date", operator="BETWEEN", value=("2026-01-01", "2026-01-31")),
                Condition(field="a.x", operator=">=", value=1.5),
            ),
            None,
        ),
        (
            "SELECT a.b FROM r WHERE segments.date DURING last_30_days AND a.t LIKE '%boot%' AND a.u NOT LIKE 'x_'",
            ("a.b",),
            "r",
            (
                Condition(field="segments.date", operator="DURING", value="LAST_30_DAYS"),
                Condition(field="a.t", operator="LIKE", value="%boot%"),
                Condition(field="a.u", operator="NOT LIKE", value="x_"),
            ),
            None,
        ),
        (
            "SELECT a.b FROM r WHERE a.c IS NULL AND a.d IS NOT NULL",
            ("a.b",),
            "r",
            (Condition(field="a.c", operator="IS NULL"), Condition(field="a.d", operator="IS NOT NULL")),
            None,
        ),
        (
            r"SELECT a.b FROM r WHERE a.name = 'it\'s'",
            ("a.b",),
            "r",
            (Condition(field="a.name", operator="=", value="it's"),),
            None,
        ),
    ],
)
def test_parse(text, fields, resource, conditions, limit) -> None:
    query = parse_gaql(text)
    assert (query.fields, query.resource, query.conditions, query.limit) == (fields, resource, conditions, limit)


def test_parse_order_by() -> None:
    query = parse_gaql("SELECT a.b FROM r ORDER BY a.b DESC, a.c ASC, a.d")
    assert [(o.field, o.descending) for o in query.order_by] == [("a.b", True), ("a.c", False), ("a.d", False)]


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("campaign.id FROM campaign", "expected SELECT"),
        ("SELECT campaign.id campaign", "expected FROM"),
        ("SELECT campaign.id FROM campaign WHERE", "unexpected end"),
        ("SELECT campaign.id FROM campaign WHERE campaign.id ~ 3", "unexpected character"),
        ("SELECT campaign.id FROM campaign WHERE segments.date DURING LAST_9_YEARS", "unsupported date range"),
        ("SELECT campaign.id FROM campaign LIMIT -1", "LIMIT"),
        ("SELECT campaign.id FROM campaign LIMIT 5 5", "after the query"),
        ("SELECT campaign.id FROM campaign WHERE campaign.id NOT = 3", "expected IN or LIKE"),
    ],
)
def test_parse_errors_name_the_problem(text: str, complaint: str) -> None:
    with pytest.raises(GaqlError, match=complaint):
        parse_gaql(text)


@pytest.mark.parametrize(
    ("where", "ids"),
    [
        ("campaign.id = 11", [11, 11]),
        ("campaign.id = '12'", [12]),  # ids held as ints compare with quoted literals
        ("campaign.status != 'REMOVED'", [11, 11, 12]),
        ("campaign.status IN (ENABLED, PAUSED) AND campaign.id > 11", [12]),
        ("campaign.id NOT IN (11, 13)", [12]),
        ("campaign.name LIKE 'B%'", [11, 11, 13]),
        ("campaign.name LIKE 'Tent\\'s'", [12]),
        ("campaign.name NOT LIKE '%o%'", [12, 13]),
        ("segments.date DURING LAST_7_DAYS", [11, 11]),
        ("segments.date DURING TODAY", [13]),
        ("segments.date DURING LAST_MONTH", [12]),
        ("segments.date BETWEEN '2026-11-19' AND '2026-11-20'", [11, 13]),
        ("metrics.cost_micros IS NULL", [13]),
        ("metrics.cost_micros >= 200 AND metrics.cost_micros < 300", [11]),
    ],
)
def test_evaluate_filters(where: str, ids: list[int]) -> None:
    rows = evaluate(parse_gaql(f"SELECT campaign.id FROM campaign WHERE {where}"), ROWS, today=TODAY)
    assert [r["campaign.id"] for r in rows] == ids


def test_metrics_are_summed_over_the_unsegmented_fields_then_ordered_and_limited() -> None:
    query = parse_gaql(
        "SELECT campaign.id, metrics.clicks, metrics.cost_micros FROM campaign "
        "WHERE campaign.status != 'REMOVED' ORDER BY metrics.clicks DESC LIMIT 1"
    )
    assert evaluate(query, ROWS, today=TODAY) == [{"campaign.id": 11, "metrics.clicks": 7, "metrics.cost_micros": 300}]


def test_selecting_a_segment_keeps_rows_apart() -> None:
    query = parse_gaql(
        "SELECT campaign.id, segments.date, metrics.clicks FROM campaign WHERE campaign.id = 11 "
        "ORDER BY segments.date DESC"
    )
    assert [(r["segments.date"], r["metrics.clicks"]) for r in evaluate(query, ROWS, today=TODAY)] == [
        ("2026-11-19", 4),
        ("2026-11-18", 3),
    ]


def test_conditions_the_caller_applied_are_skipped() -> None:
    query = parse_gaql("SELECT campaign.id FROM campaign WHERE segments.date DURING TODAY")
    assert len(evaluate(query, ROWS, today=TODAY, skip=frozenset({"segments.date"}))) == len(ROWS)


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("TODAY", "2026-11-20", "2026-11-20"),
        ("YESTERDAY", "2026-11-19", "2026-11-19"),
        ("LAST_7_DAYS", "2026-11-13", "2026-11-19"),
        ("LAST_30_DAYS", "2026-10-21", "2026-11-19"),
        ("THIS_MONTH", "2026-11-01", "2026-11-20"),
        ("LAST_MONTH", "2026-10-01", "2026-10-31"),
        ("THIS_WEEK_MON_TODAY", "2026-11-16", "2026-11-20"),
        ("LAST_WEEK_MON_SUN", "2026-11-09", "2026-11-15"),
    ],
)
def test_during_ranges(name: str, start: str, end: str) -> None:
    assert during_range(name, TODAY) == (dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_date_range_intersects_every_date_condition() -> None:
    query = parse_gaql(
        "SELECT a.b FROM r WHERE segments.date DURING THIS_MONTH AND segments.date >= '2026-11-10' "
        "AND segments.date < '2026-11-15'"
    )
    assert date_range(query, TODAY) == (dt.date(2026, 11, 10), dt.date(2026, 11, 14))
    assert date_range(parse_gaql("SELECT a.b FROM r"), TODAY) is None
    with pytest.raises(GaqlError, match="not a date"):
        date_range(parse_gaql("SELECT a.b FROM r WHERE segments.date = 'soon'"), TODAY)
