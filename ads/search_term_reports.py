"""Search-term report exports → a clean DataFrame with the columns `SEARCH_TERM_COLUMNS`.

Reads what people download from the Google Ads UI (CSV in UTF-8, or "Excel CSV": UTF-16, tab-separated),
in English or German, with the title and date-range lines above the header and "Total:" rows below the data,
and other tools' exports that carry the same facts under other column names (see `COLUMN_ALIASES`).
Money comes back as int micros: an imported account is treated as a Google-style account.

Speed: pandas' C parser reads every field as text; cleaning then works on each column's distinct values
(`pd.factorize`) rather than on rows, so a million rows cost little more than `pd.read_csv` itself.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import warnings
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ads.entities import CURRENCY_CODE, SEARCH_TERM_COLUMNS, CurrencyCode, MatchType, ReportPeriod
from ads.errors import ReportFormatError

# canonical name → header language → header names (normalised: lower case, single spaces), preferred first.
# Converted-currency columns come last, so the account-currency column wins when both are there.
COLUMN_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "search_term": {"en": ("search term", "search query", "query"), "de": ("suchbegriff", "suchanfrage")},
    "campaign_id": {"en": ("campaign id",), "de": ("kampagnen-id",)},
    "campaign_name": {"en": ("campaign", "campaign name"), "de": ("kampagne", "kampagnenname")},
    "ad_group_id": {"en": ("ad group id",), "de": ("anzeigengruppen-id",)},
    "ad_group_name": {"en": ("ad group", "ad group name"), "de": ("anzeigengruppe", "anzeigengruppenname")},
    "keyword": {"en": ("keyword", "search keyword", "keyword text"), "de": ("keyword", "keyword-text")},
    "match_type": {"en": ("match type", "search term match type"), "de": ("übereinstimmungstyp", "keyword-option")},
    "impressions": {"en": ("impr.", "impressions"), "de": ("impr.", "impressionen")},
    "clicks": {"en": ("clicks",), "de": ("klicks",)},
    "cost": {"en": ("cost", "spend", "cost (converted currency)"), "de": ("kosten", "kosten (umgerechnete währung)")},
    "conversions": {"en": ("conversions", "conv."), "de": ("conversions", "conv.")},
    "conversion_value": {
        "en": ("conv. value", "conversion value", "total conv. value", "conv. value (converted currency)"),
        "de": ("conv.-wert", "conversion-wert", "conv.-wert (umgerechnete währung)"),
    },
    "currency": {"en": ("currency code", "currency"), "de": ("währungscode", "währung")},
}
CONVERTED_CURRENCY_MARKERS = ("converted currency", "umgerechnete währung")
# (thousands separator, decimal separator) used by the UI in each header language
NUMBER_FORMATS = {"en": (",", "."), "de": (".", ",")}
MATCH_TYPE_WORDS = {
    MatchType.EXACT: ("exact", "genau"),
    MatchType.PHRASE: ("phrase", "wortgruppe"),
    MatchType.BROAD: ("broad", "weitgehend"),
}
TOTAL_ROW_PREFIXES = ("Total:", "total:", "TOTAL:", "Gesamt:", "gesamt:", "Summe:", "summe:")
REQUIRED_METRICS = ("impressions", "clicks", "cost")
MAX_PREAMBLE_LINES = 30
# Bounds that keep a hostile file cheap to refuse. pandas needs hundreds of times a line's size to parse it,
# so lines are measured before pandas sees them; Google's own exports stay far inside every bound.
MAX_LINE_BYTES = 1_000_000
MAX_FIELD_CHARS = 2_000
MAX_COLUMNS = 500
# The store's integers are SQLite's int64 (cost as micros); in float64, 2**63 is the first value that does not fit.
STORED_INTEGER_LIMIT = 2.0**63
LINE_SCAN_BYTES = 1 << 24
EMPTY_VALUES = ("", "--")
EMPTY_NUMBER_VALUES = ["", "--", " --"]
# metrics pandas parses as numbers when it can; cost is kept as text and parsed with Decimal into exact micros
PARSED_METRICS = ("impressions", "clicks", "conversions", "conversion_value")

MONTHS = {
    "january": 1,
    "jan": 1,
    "januar": 1,
    "jänner": 1,
    "jän": 1,
    "february": 2,
    "feb": 2,
    "februar": 2,
    "march": 3,
    "mar": 3,
    "märz": 3,
    "mär": 3,
    "maerz": 3,
    "mrz": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "mai": 5,
    "june": 6,
    "jun": 6,
    "juni": 6,
    "july": 7,
    "jul": 7,
    "juli": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "oktober": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
    "dezember": 12,
    "dez": 12,
}
_DATE = re.compile(
    r"(?P<iso>(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2}))"
    r"|(?P<d1>\d{1,2})\.?\s+(?P<m1>[^\W\d_]+)\.?\s+(?P<y1>\d{4})"  # 17. Januar 2024 / 17 January 2024
    r"|(?P<m2>[^\W\d_]+)\.?\s+(?P<d2>\d{1,2}),?\s+(?P<y2>\d{4})"  # January 17, 2024
)
_SKIPPED_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")
# digits grouped by threes, so that a German '12,50' read as English is an error, not 1250
NUMBER_PATTERNS = {
    "en": re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"),
    "de": re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"),
}


class SkippedRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int = Field(description="1-based line in the file.")
    reason: str


class ImportedReport(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    frame: pd.DataFrame = Field(description="Columns SEARCH_TERM_COLUMNS; cost in int micros.")
    period: ReportPeriod | None = None
    currency: CurrencyCode | None = None
    skipped: list[SkippedRow] = Field(default_factory=list)
    source_sha256: str = Field(description="Of the file's bytes, so that importing the same file twice adds nothing.")
    has_conversions: bool = Field(default=True, description="Whether the file had a conversions column.")


class _Header(NamedTuple):
    line_index: int  # 0-based line of the header in the file
    offset: int  # byte offset of the header line in the UTF-8 data
    delimiter: str
    names: list[str]
    columns: dict[str, int]  # canonical name → position
    language: str
    preamble: list[str]


def read_search_term_report(path: Path, *, skip_bad_rows: bool = False) -> ImportedReport:
    """Reads an export; raises ReportFormatError naming the file (and line and field) when it cannot."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReportFormatError(f"{path}: cannot read the file ({exc.strerror})") from exc
    data = _utf8(raw, path.name)
    _refuse_long_lines(data, path.name)
    header = _find_header(data, path.name)
    body = data[header.offset :]
    table, too_long = _read_table(body, header, path.name)
    rows = _RowLines(table, body, header, too_long, path.name)

    columns = header.columns
    distinct = _DistinctValues(table)
    total_rows = distinct.convert(0, lambda value: str(value).startswith(TOTAL_ROW_PREFIXES), bool)
    keep = ~total_rows & ~rows.blank
    problems = _Problems(rows.lines, keep)
    for field in sorted(columns.values()):
        if not pd.api.types.is_numeric_dtype(table[field]):
            long_values = distinct.convert(field, lambda value: len(str(value)) > MAX_FIELD_CHARS, bool)
            problems.add_value(long_values, header.names[field], table[field], f"over {MAX_FIELD_CHARS} characters")
    problems.add(rows.short, lambda i: f"wrong column count: expected {len(header.names)} fields, saw fewer")
    for line, fields in rows.too_long:
        problems.add_line(line, f"wrong column count: expected {len(header.names)} fields, saw {fields}")

    search_term = distinct.convert(columns["search_term"], _text, object)
    problems.add(search_term == "", lambda i: f"field '{header.names[columns['search_term']]}': empty")

    out: dict[str, Any] = {"search_term": search_term}
    for name in ("campaign_id", "campaign_name", "ad_group_id", "ad_group_name"):
        out[name] = distinct.convert(columns.get(name), _text, object)
    out["keyword"] = distinct.convert(columns.get("keyword"), _keyword_text, object)
    out["match_type"] = distinct.convert(columns.get("match_type"), _match_type, object)

    for name, to_metric in METRIC_CONVERTERS.items():
        position = columns.get(name)
        if position is None:
            out[name] = np.zeros(len(table))
            continue
        column = table[position]
        if pd.api.types.is_numeric_dtype(column):
            values = column.fillna(0).to_numpy(dtype=np.float64)
            invalid = (values < 0) | (np.floor(values) != values if to_metric is _integer else False)
        else:  # text: either cost, or a metric with a value pandas could not read; find which rows, exactly
            # pandas leaves a column it cannot hold in int64 as objects: the ints it could read, the rest as text
            parse = lambda text, to_metric=to_metric: to_metric(_number(str(text), header.language))  # noqa: E731
            values = distinct.convert(position, parse, np.float64)  # NaN where a value is not a number
            invalid = np.isnan(values)
        problems.add_value(invalid, header.names[position], column, "not a number")
        too_large = ~invalid & ((values >= STORED_INTEGER_LIMIT) if to_metric is not _float else ~np.isfinite(values))
        problems.add_value(too_large, header.names[position], column, "too large")
        out[name] = np.where(invalid | too_large, 0, values)
    if (currency_position := columns.get("currency")) is not None:
        problems.add_value(
            distinct.convert(currency_position, lambda value: not CURRENCY_CODE.fullmatch(_text(value) or "USD"), bool),
            header.names[currency_position],
            table[currency_position],
            "not an ISO 4217 currency code (three capital letters)",
        )

    good = problems.good()
    if problems.skipped and not skip_bad_rows:
        first_bad = problems.skipped[0]
        more = len(problems.skipped) - 1
        suffix = f" (and {more} more bad rows)" if more else ""
        raise ReportFormatError(f"{path.name}: line {first_bad.line}: {first_bad.reason}{suffix}")

    kept = np.flatnonzero(good)
    if len(kept) == 0:
        left = f" once {len(problems.skipped)} bad rows are skipped" if problems.skipped else ""
        raise ReportFormatError(f"{path.name}: no data rows under the header (line {header.line_index + 1}){left}")
    for name in ("impressions", "clicks", "cost"):
        if float(out[name][good].sum()) >= STORED_INTEGER_LIMIT:  # sums of the column must fit the store too
            raise ReportFormatError(f"{path.name}: field '{header.names[columns[name]]}': the rows add up to too much")
    # Total rows sit at the end: then a slice (a view) keeps the rest without copying every column
    rows_kept = slice(0, len(kept)) if len(kept) == 0 or kept[-1] == len(kept) - 1 else kept
    frame = pd.DataFrame({name: out[name][rows_kept] for name in SEARCH_TERM_COLUMNS})
    frame = frame.astype(
        {
            **{name: str for name in SEARCH_TERM_COLUMNS[:7]},
            "impressions": "int64",
            "clicks": "int64",
            "cost": "int64",
            "conversions": "float64",
            "conversion_value": "float64",
        }
    )
    currency = _currency(table, header, good, path.name)
    return ImportedReport(
        frame=frame,
        period=next(filter(None, map(_period, header.preamble)), None),
        currency=currency,
        skipped=problems.skipped,
        source_sha256=hashlib.sha256(raw).hexdigest(),
        has_conversions="conversions" in header.columns,
    )


def _utf8(raw: bytes, name: str) -> bytes:
    """The file as UTF-8 without a BOM. Excel CSV is UTF-16; files re-saved by Excel on Windows may be cp1252."""
    try:
        if raw.startswith(codecs.BOM_UTF8):
            return raw[len(codecs.BOM_UTF8) :]
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return raw.decode("utf-16").encode("utf-8")
        if raw[1:200:2].count(0) > 50:  # UTF-16 LE without a BOM: every other byte of ASCII text is NUL
            return raw.decode("utf-16-le").encode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportFormatError(f"{name}: broken UTF-16 text at byte {exc.start}") from exc
    try:
        raw.decode("utf-8")
        return raw
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252").encode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportFormatError(f"{name}: not UTF-8, UTF-16 or Windows-1252 text (byte {exc.start})") from exc


def _refuse_long_lines(data: bytes, name: str) -> None:
    """Refuses a line over MAX_LINE_BYTES, scanning for line ends a slice at a time (pandas never sees it)."""
    view = np.frombuffer(data, dtype=np.uint8)
    line_start, lines_before = 0, 0  # where the current line starts; how many lines ended before it
    for start in range(0, len(data) + 1, LINE_SCAN_BYTES):
        ends = np.flatnonzero(view[start : start + LINE_SCAN_BYTES] == ord("\n")) + start
        if start + LINE_SCAN_BYTES >= len(data):
            ends = np.append(ends, len(data))  # the last line, with or without a line break
        lengths = np.diff(ends, prepend=line_start - 1) - 1
        too_long = np.flatnonzero(lengths > MAX_LINE_BYTES)
        if len(too_long) or (len(ends) == 0 and start + LINE_SCAN_BYTES - line_start > MAX_LINE_BYTES):
            line = lines_before + 1 + (int(too_long[0]) if len(too_long) else 0)
            raise ReportFormatError(f"{name}: line {line}: longer than {MAX_LINE_BYTES // 1_000_000} MB")
        if len(ends):
            line_start, lines_before = int(ends[-1]) + 1, lines_before + len(ends)


def _split(text: str, delimiter: str) -> list[str]:
    """The cells of the first record in `text`; one cell when the csv module refuses a field over its limit
    (128 KiB; such a field is refused later, by its length)."""
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        return [text]


def _normalise(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").replace("_", " ").lower().split())


def _language(names: list[str]) -> str:
    """The header's language: the one more of its names belong to only."""
    votes = dict.fromkeys(NUMBER_FORMATS, 0)
    for name in names:
        languages = [
            lang for lang in NUMBER_FORMATS if any(name in by_lang[lang] for by_lang in COLUMN_ALIASES.values())
        ]
        if len(languages) == 1:
            votes[languages[0]] += 1
    return max(votes, key=lambda lang: (votes[lang], lang == "en"))


def _resolve(names: list[str], language: str) -> dict[str, int]:
    positions: dict[str, int] = {}
    for canonical, by_lang in COLUMN_ALIASES.items():
        aliases = by_lang[language] + tuple(a for lang, names_ in by_lang.items() if lang != language for a in names_)
        for alias in aliases:
            if alias in names:
                positions[canonical] = names.index(alias)
                break
    return positions


def _find_header(data: bytes, name: str) -> _Header:
    """The first line whose cells name a search term and a metric; the delimiter is the one that splits it best."""
    known = {alias for by_lang in COLUMN_ALIASES.values() for aliases in by_lang.values() for alias in aliases}
    offset, preamble = 0, list[str]()
    closest: tuple[int, int, list[str]] = (0, 0, [])  # (recognised names, cells, cells) of the likeliest header
    for line_index in range(MAX_PREAMBLE_LINES):
        if offset >= len(data):
            break
        end = data.find(b"\n", offset)
        end = len(data) if end < 0 else end
        line = data[offset:end].decode("utf-8").rstrip("\r")
        splits = []
        for delimiter in ("\t", ",", ";"):
            cells = [cell.strip() for cell in _split(line, delimiter)]
            names = [_normalise(cell) for cell in cells]
            splits.append((sum(n in known for n in names), len(cells), delimiter, cells, names))
        recognised, width, delimiter, cells, names = max(splits, key=lambda split: split[:2])
        if width > MAX_COLUMNS:
            raise ReportFormatError(f"{name}: line {line_index + 1}: {width} columns; at most {MAX_COLUMNS}")
        language = _language(names)
        columns = _resolve(names, language)
        if "search_term" in columns and any(metric in columns for metric in REQUIRED_METRICS):
            _refuse_duplicate_columns(cells, names, f"{name}: line {line_index + 1}")
            return _Header(line_index, offset, delimiter, cells, columns, language, preamble)
        closest = max(closest, (recognised, width, cells), key=lambda c: c[:2])
        preamble.append(line)
        offset = end + 1
    found = ", ".join(repr(cell) for cell in closest[2][:20]) or "none"
    raise ReportFormatError(
        f"{name}: not a search-term report: columns found: {found}; "
        "needed: a search term column ('Search term') and at least one of 'Impr.', 'Clicks', 'Cost'"
    )


def _refuse_duplicate_columns(cells: list[str], names: list[str], where: str) -> None:
    """Two columns for one field make the report ambiguous; only a converted-currency twin is expected."""
    for canonical, by_lang in COLUMN_ALIASES.items():
        aliases = {alias for names_ in by_lang.values() for alias in names_}
        found = [position for position, cell in enumerate(names) if cell in aliases]
        converted = [p for p in found if any(marker in names[p] for marker in CONVERTED_CURRENCY_MARKERS)]
        for twins in (converted, [p for p in found if p not in converted]):
            if len(twins) > 1:
                first, second = twins[:2]
                raise ReportFormatError(
                    f"{where}: columns {first + 1} and {second + 1} ('{cells[first]}', '{cells[second]}') "
                    f"both hold the {canonical.replace('_', ' ')}; keep one"
                )


def _read_table(body: bytes, header: _Header, name: str) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """The table under the header, columns numbered by position. pandas' C parser reads the counting metrics as
    numbers; the search term and cost stay text (cost is parsed exactly later), the rest become categoricals.
    Lines with too many fields are left out and returned as (record number, fields seen)."""
    # the last column stays text: an empty last field is how a line with too few fields shows (see _RowLines)
    last = len(header.names) - 1
    numeric = {header.columns[metric] for metric in PARSED_METRICS if metric in header.columns} - {last}
    text = {header.columns["search_term"], header.columns.get("cost")}
    # the columns kept as categoricals are the ones with few distinct values (names, labels, currency);
    # unused ones (CTR, Avg. CPC, …) stay plain text, which pandas makes fastest when values are many
    categorical = set(header.columns.values()) - numeric - text
    dtype = {
        position: "category" if position in categorical else str
        for position in range(len(header.names))
        if position not in numeric
    }
    thousands, decimal = NUMBER_FORMATS[header.language]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            table = pd.read_csv(
                io.BytesIO(body),
                sep=header.delimiter,
                header=None,
                skiprows=1,
                names=range(len(header.names)),
                index_col=False,
                dtype=dtype,
                keep_default_na=False,
                na_values={p: EMPTY_NUMBER_VALUES for p in numeric},
                thousands=thousands,
                decimal=decimal,
                skip_blank_lines=False,
                on_bad_lines="warn",
                encoding="utf-8",
                low_memory=False,
            )
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ReportFormatError(f"{name}: cannot parse the table: {exc}") from exc
    too_long = [(int(m[1]), int(m[3])) for w in caught for m in _SKIPPED_LINE.finditer(str(w.message))]
    return table, too_long


class _RowLines:
    """Where each table row sits in the file, and which rows are blank lines or lines with too few fields.

    pandas numbers records, not lines, and pads a line that has too few fields with empty strings. So a row
    whose last field is empty is re-split with the csv module (few rows, in the exports seen) to tell a
    short line from a blank one or a genuinely empty last field.
    """

    def __init__(self, table: pd.DataFrame, body: bytes, header: _Header, too_long: list[tuple[int, int]], name: str):
        n, width = len(table), len(header.names)
        # record numbers: the header is record 1; every record pandas left out moves the later rows down
        left_out = np.sort(np.array([record for record, _ in too_long], dtype=np.int64))
        virtual = np.arange(n, dtype=np.int64) + 2
        records = virtual + np.searchsorted(left_out - np.arange(len(left_out)), virtual, side="right")
        physical_lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
        embedded = np.zeros(n, dtype=np.int64)  # line breaks inside quoted fields
        if physical_lines != n + 1 + len(left_out):
            for position in table.columns:
                embedded += table[position].astype(str).str.count("\n").to_numpy(dtype=np.int64)
            if physical_lines != n + 1 + len(left_out) + int(embedded.sum()):
                raise ReportFormatError(f"{name}: rows and lines do not line up (an unclosed quote?)")
        body_lines = records + np.concatenate(([0], np.cumsum(embedded)[:-1]))[:n]  # 1-based, in the body
        self.lines = body_lines + header.line_index
        self.too_long = [(record + header.line_index, fields) for record, fields in too_long]
        self.blank = np.zeros(n, dtype=bool)
        self.short = np.zeros(n, dtype=bool)
        if n == 0:
            return
        candidates = np.flatnonzero((table[len(header.names) - 1] == "").to_numpy(dtype=bool))
        if len(candidates) == 0:
            return
        newlines = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == ord("\n"))
        bounds = np.concatenate(([0], newlines + 1, [len(body)]))
        for row in candidates:
            first = body_lines[row] - 1
            text = body[bounds[first] : bounds[min(first + embedded[row] + 1, len(bounds) - 1)]].decode("utf-8")
            cells = _split(text, header.delimiter)
            if not "".join(cells).strip():
                self.blank[row] = True
            elif len(cells) < width:
                self.short[row] = True


class _Problems:
    """The first reason each kept row is bad for, in the order the checks are added."""

    def __init__(self, lines: np.ndarray, keep: np.ndarray):
        self._lines, self._keep = lines, keep
        self._bad = np.zeros(len(lines), dtype=bool)
        self._reasons: dict[int, tuple[int, str]] = {}  # line → (row or -1, reason)

    def add(self, mask: np.ndarray, reason: Callable[[int], str]) -> None:
        new = np.flatnonzero(np.asarray(mask, dtype=bool) & self._keep & ~self._bad)
        self._bad[new] = True
        for row in new:
            self._reasons[int(self._lines[row])] = (int(row), reason(int(row)))

    def add_value(self, mask: np.ndarray, field: str, values: pd.Series, problem: str) -> None:
        """Rows whose value in `values` has `problem`; the reason quotes the start of the value."""
        self.add(mask, lambda i: f"field '{field}': {problem}: {values.iloc[i]!r:.40}")

    def add_line(self, line: int, reason: str) -> None:
        self._reasons.setdefault(line, (-1, reason))

    def good(self) -> np.ndarray:
        return self._keep & ~self._bad

    @property
    def skipped(self) -> list[SkippedRow]:
        return [SkippedRow(line=line, reason=reason) for line, (_, reason) in sorted(self._reasons.items())]


class _DistinctValues:
    """Each column's distinct values, found once (categoricals already know them; text columns are factorized),
    so that cleaning works on distinct values, not on rows."""

    def __init__(self, table: pd.DataFrame):
        self._table = table
        self._distinct: dict[int, tuple[np.ndarray, list[Any]]] = {}

    def convert(self, position: int | None, convert: Callable[[str], Any], dtype: Any) -> np.ndarray:
        """`convert` applied once to each distinct value of the column at `position`, spread over its rows."""
        if position is None:
            return np.full(len(self._table), "" if dtype is object else 0, dtype=dtype)
        if position not in self._distinct:
            column = self._table[position]
            if isinstance(column.dtype, pd.CategoricalDtype):
                codes, distinct = column.cat.codes.to_numpy(), column.cat.categories
            else:
                codes, distinct = pd.factorize(column.fillna(""))
            # a missing value (NaN, code -1) reads as an empty field: the extra last entry
            self._distinct[position] = (codes, [*np.asarray(distinct, dtype=object).tolist(), ""])
        codes, distinct = self._distinct[position]
        return np.array([convert(value) for value in distinct], dtype=dtype).take(codes)


def _text(value: str) -> str:
    value = value.strip()
    return "" if value in EMPTY_VALUES else value


def _keyword_text(value: str) -> str:
    """The keyword without its match-type marks: [boots] and "boots" are both 'boots'."""
    value = _text(value)
    if len(value) > 1 and (value[0], value[-1]) in {("[", "]"), ('"', '"')}:
        return value[1:-1].strip()
    return value


def _match_type(label: str) -> str:
    """'Phrase match (close variant)' → 'phrase'; German labels too; anything else → ''."""
    label = label.lower()
    return next((str(kind) for kind, words in MATCH_TYPE_WORDS.items() if any(w in label for w in words)), "")


def _number(text: str, language: str) -> Decimal | None:
    """The exact value of a UI number ('2,196', '1.234,56'; ' --' means 0), or None when it is not one."""
    text = text.strip().replace("\u00a0", "").replace("\u202f", "")
    if text in EMPTY_VALUES:
        return Decimal(0)
    if not NUMBER_PATTERNS[language].fullmatch(text):
        return None
    thousands, decimal = NUMBER_FORMATS[language]
    return Decimal(text.replace(thousands, "").replace(decimal, "."))


def _integer(value: Decimal | None) -> int | None:
    return int(value) if value is not None and value == value.to_integral_value() else None


def _micros(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# metric column → what its exact value becomes in the frame (None: not a valid value for it)
METRIC_CONVERTERS: dict[str, Callable[[Decimal | None], int | float | None]] = {
    "impressions": _integer,
    "clicks": _integer,
    "cost": _micros,
    "conversions": _float,
    "conversion_value": _float,
}


def _currency(table: pd.DataFrame, header: _Header, good: np.ndarray, name: str) -> str | None:
    position = header.columns.get("currency")
    cost_position = header.columns.get("cost")
    if position is None:
        return None
    if cost_position is not None and any(
        m in _normalise(header.names[cost_position]) for m in CONVERTED_CURRENCY_MARKERS
    ):
        return None  # costs are in the manager's currency, not the one this column names
    codes = {code.strip() for code in pd.unique(table[position].to_numpy()[good])} - set(EMPTY_VALUES)
    if len(codes) > 1:
        raise ReportFormatError(
            f"{name}: field '{header.names[position]}': several currencies {sorted(codes)}; "
            "export one currency at a time"
        )
    return codes.pop() if codes else None


def _period(line: str) -> ReportPeriod | None:
    """'January 17, 2024 - February 15, 2024', '17. Januar 2024 - 15. Februar 2024' or ISO dates."""
    dates = []
    for match in _DATE.finditer(line.lower()):
        if match["iso"]:
            year, month, day = int(match["iy"]), int(match["im"]), int(match["id"])
        else:
            month_name = (match["m1"] or match["m2"]).rstrip(".")
            if month_name not in MONTHS:
                return None
            year, month, day = int(match["y1"] or match["y2"]), MONTHS[month_name], int(match["d1"] or match["d2"])
        try:
            dates.append(dt.date(year, month, day))
        except ValueError:
            return None
    if len(dates) != 2 or dates[1] < dates[0]:
        return None
    return ReportPeriod(start=dates[0], end=dates[1])
