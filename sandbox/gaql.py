"""A small Google Ads Query Language (GAQL) parser and evaluator for the local API emulator.

Supported: `SELECT f1, f2 FROM resource [WHERE cond AND cond ...] [ORDER BY f [ASC|DESC], ...] [LIMIT n]`
with the operators = != > >= < <= IN, NOT IN, LIKE, NOT LIKE, BETWEEN … AND …, IS NULL, IS NOT NULL and
`segments.date DURING <range>`. Rows are flat dicts keyed by field path ("campaign.id"). As in the real
API, selecting `metrics.*` without a segment sums the metrics over the other selected fields.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ads.errors import AdpilotError


class GaqlError(AdpilotError):
    """A query the parser or evaluator cannot handle; the message names the token or field."""


Operator = Literal[
    "=",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "IN",
    "NOT IN",
    "LIKE",
    "NOT LIKE",
    "BETWEEN",
    "DURING",
    "IS NULL",
    "IS NOT NULL",
]


class Condition(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    operator: Operator
    value: Any = None


class Ordering(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    descending: bool = False


class GaqlQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    fields: tuple[str, ...]
    resource: str
    conditions: tuple[Condition, ...] = ()
    order_by: tuple[Ordering, ...] = ()
    limit: int | None = None

    def referenced_fields(self) -> set[str]:
        return {*self.fields, *(c.field for c in self.conditions), *(o.field for o in self.order_by)}


DATE_RANGES = (
    "TODAY",
    "YESTERDAY",
    "LAST_7_DAYS",
    "LAST_14_DAYS",
    "LAST_30_DAYS",
    "THIS_MONTH",
    "LAST_MONTH",
    "THIS_WEEK_MON_TODAY",
    "LAST_WEEK_MON_SUN",
)

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|(?P<number>-?\d+(?:\.\d+)?)(?![\w.])"
    r"|(?P<op>>=|<=|!=|=|<|>)|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w.]*))"
)
_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "LIMIT",
    "IN",
    "NOT",
    "LIKE",
    "BETWEEN",
    "DURING",
    "IS",
    "NULL",
}


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise GaqlError(f"GAQL: unexpected character {text[position:].lstrip()[:1]!r} at offset {position}")
        position = match.end()
        kind = match.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        raw = match.group(kind)
        if kind == "string":
            tokens.append(("value", re.sub(r"\\(.)", r"\1", raw[1:-1])))
        elif kind == "number":
            tokens.append(("value", float(raw) if "." in raw else int(raw)))
        elif kind == "word" and raw.upper() in _KEYWORDS:
            tokens.append(("keyword", raw.upper()))
        else:
            tokens.append((kind, raw))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.position = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise GaqlError("GAQL: unexpected end of query")
        self.position += 1
        return token

    def accept(self, keyword: str) -> bool:
        if self.peek() == ("keyword", keyword):
            self.position += 1
            return True
        return False

    def expect(self, kind: str, value: Any = None) -> Any:
        token = self.take()
        if token[0] != kind or (value is not None and token[1] != value):
            raise GaqlError(f"GAQL: expected {value or kind}, found {token[1]!r}")
        return token[1]

    def field(self) -> str:
        return self.expect("word")

    def literal(self) -> Any:
        kind, value = self.take()
        if kind in ("value", "word"):  # a bare word is an enum literal such as ENABLED
            return value
        raise GaqlError(f"GAQL: expected a value, found {value!r}")

    def parse(self) -> GaqlQuery:
        self.expect("keyword", "SELECT")
        fields = [self.field()]
        while self.peek() == ("punct", ","):
            self.take()
            fields.append(self.field())
        self.expect("keyword", "FROM")
        resource = self.field()
        conditions: list[Condition] = []
        if self.accept("WHERE"):
            conditions.append(self.condition())
            while self.accept("AND"):
                conditions.append(self.condition())
        order_by: list[Ordering] = []
        if self.accept("ORDER"):
            self.expect("keyword", "BY")
            order_by.append(self.ordering())
            while self.peek() == ("punct", ","):
                self.take()
                order_by.append(self.ordering())
        limit = None
        if self.accept("LIMIT"):
            limit = self.expect("value")
            if not isinstance(limit, int) or limit < 0:
                raise GaqlError(f"GAQL: LIMIT must be a non-negative integer, found {limit!r}")
        if (extra := self.peek()) is not None:
            raise GaqlError(f"GAQL: unexpected {extra[1]!r} after the query")
        return GaqlQuery(
            fields=tuple(fields), resource=resource, conditions=tuple(conditions), order_by=tuple(order_by), limit=limit
        )

    def ordering(self) -> Ordering:
        field = self.field()
        if self.accept("DESC"):
            return Ordering(field=field, descending=True)
        self.accept("ASC")
        return Ordering(field=field)

    def condition(self) -> Condition:
        field = self.field()
        kind, value = self.take()
        if kind == "op":
            return Condition(field=field, operator=value, value=self.literal())
        if value == "NOT":
            following = self.take()[1]
            if following == "IN":
                return Condition(field=field, operator="NOT IN", value=self.value_list())
            if following == "LIKE":
                return Condition(field=field, operator="NOT LIKE", value=self.expect("value"))
            raise GaqlError(f"GAQL: expected IN or LIKE after NOT, found {following!r}")
        if value == "IN":
            return Condition(field=field, operator="IN", value=self.value_list())
        if value == "LIKE":
            return Condition(field=field, operator="LIKE", value=self.expect("value"))
        if value == "BETWEEN":
            low = self.literal()
            self.expect("keyword", "AND")
            return Condition(field=field, operator="BETWEEN", value=(low, self.literal()))
        if value == "DURING":
            name = self.expect("word").upper()
            if name not in DATE_RANGES:
                raise GaqlError(f"GAQL: unsupported date range {name!r} (supported: {', '.join(DATE_RANGES)})")
            return Condition(field=field, operator="DURING", value=name)
        if value == "IS":
            negated = self.accept("NOT")
            self.expect("keyword", "NULL")
            return Condition(field=field, operator="IS NOT NULL" if negated else "IS NULL")
        raise GaqlError(f"GAQL: unsupported operator {value!r} after {field}")

    def value_list(self) -> tuple[Any, ...]:
        self.expect("punct", "(")
        values = [self.literal()]
        while self.peek() == ("punct", ","):
            self.take()
            values.append(self.literal())
        self.expect("punct", ")")
        return tuple(values)


def parse_gaql(text: str) -> GaqlQuery:
    return _Parser(text).parse()


def during_range(name: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The inclusive dates a DURING constant covers; like the API, LAST_N_DAYS excludes today."""
    yesterday = today - dt.timedelta(days=1)
    first_of_month = today.replace(day=1)
    monday = today - dt.timedelta(days=today.weekday())
    if name == "TODAY":
        return today, today
    if name == "YESTERDAY":
        return yesterday, yesterday
    if name.startswith("LAST_") and name.endswith("_DAYS"):
        return today - dt.timedelta(days=int(name.split("_")[1])), yesterday
    if name == "THIS_MONTH":
        return first_of_month, today
    if name == "LAST_MONTH":
        last_month_end = first_of_month - dt.timedelta(days=1)
        return last_month_end.replace(day=1), last_month_end
    if name == "THIS_WEEK_MON_TODAY":
        return monday, today
    if name == "LAST_WEEK_MON_SUN":
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    raise GaqlError(f"GAQL: unsupported date range {name!r}")


def date_range(query: GaqlQuery, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The dates the query's `segments.date` conditions allow, or None when it has none."""
    start, end = dt.date.min, dt.date.max
    constrained = False
    for condition in query.conditions:
        if condition.field != "segments.date":
            continue
        constrained = True
        if condition.operator == "DURING":
            low, high = during_range(condition.value, today)
        elif condition.operator == "BETWEEN":
            low, high = (_as_date(v) for v in condition.value)
        elif condition.operator in ("=", ">=", ">", "<=", "<"):
            day = _as_date(condition.value)
            low = day + dt.timedelta(days=1) if condition.operator == ">" else day
            high = day - dt.timedelta(days=1) if condition.operator == "<" else day
            if condition.operator in (">", ">="):
                high = dt.date.max
            if condition.operator in ("<", "<="):
                low = dt.date.min
        else:
            raise GaqlError(f"GAQL: segments.date does not support {condition.operator}")
        start, end = max(start, low), min(end, high)
    return (start, end) if constrained else None


def _as_date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise GaqlError(f"GAQL: {value!r} is not a date (YYYY-MM-DD)") from None


def _comparable(row_value: Any, literal: Any) -> tuple[Any, Any]:
    """Compares ids held as ints with literals written as strings, and the other way round."""
    if isinstance(row_value, bool) or isinstance(literal, bool):
        return str(row_value).upper(), str(literal).upper()
    if isinstance(row_value, (int, float)) and isinstance(literal, str):
        try:
            return row_value, float(literal)
        except ValueError:
            return str(row_value), literal
    if isinstance(row_value, str) and isinstance(literal, (int, float)):
        return row_value, str(literal)
    return row_value, literal


def _like(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _matches(row: dict[str, Any], condition: Condition, today: dt.date) -> bool:
    value = row.get(condition.field)
    op = condition.operator
    if op == "IS NULL":
        return value is None
    if op == "IS NOT NULL":
        return value is not None
    if value is None:
        return False
    if op == "DURING":
        low, high = during_range(condition.value, today)
        return low.isoformat() <= str(value) <= high.isoformat()
    if op == "BETWEEN":
        lower, upper = (_comparable(value, v) for v in condition.value)
        return lower[1] <= lower[0] <= upper[1]
    if op in ("IN", "NOT IN"):
        inside = any(left == right for left, right in (_comparable(value, v) for v in condition.value))
        return inside if op == "IN" else not inside
    if op in ("LIKE", "NOT LIKE"):
        found = _like(str(condition.value)).fullmatch(str(value)) is not None
        return found if op == "LIKE" else not found
    left, right = _comparable(value, condition.value)
    return {
        "=": left == right,
        "!=": left != right,
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
    }[op]


def _aggregate(query: GaqlQuery, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    metrics = [f for f in query.fields if f.startswith("metrics.")]
    if not metrics:
        return rows
    keys = [f for f in query.fields if not f.startswith("metrics.")]
    keys += [o.field for o in query.order_by if o.field not in keys and not o.field.startswith("metrics.")]
    totals: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = tuple(_hashable(row.get(k)) for k in keys)
        total = totals.setdefault(key, {**{k: row.get(k) for k in keys}, **{m: 0 for m in metrics}})
        for metric in metrics:
            total[metric] += row.get(metric) or 0
    return list(totals.values())


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, (list, dict)) else value


def evaluate(
    query: GaqlQuery, rows: Iterable[dict[str, Any]], *, today: dt.date, skip: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Filters, aggregates, orders and limits `rows`. Conditions on fields in `skip` were applied by the caller."""
    conditions = [c for c in query.conditions if c.field not in skip]
    kept = [row for row in rows if all(_matches(row, c, today) for c in conditions)]
    kept = _aggregate(query, kept)
    for ordering in reversed(query.order_by):

        def key(row: dict[str, Any], field: str = ordering.field) -> tuple[bool, Any]:
            # unset values sort first ascending, like the API's
            return row.get(field) is not None, row.get(field) if row.get(field) is not None else 0

        kept.sort(key=key, reverse=ordering.descending)
    return kept[: query.limit] if query.limit is not None else kept
