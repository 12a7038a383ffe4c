import csv
import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ads.entities import SEARCH_TERM_COLUMNS, ReportPeriod
from ads.errors import ReportFormatError
from ads.search_term_reports import read_search_term_report

FIXTURES = Path(__file__).parent / "fixtures"


def _excel_csv(tmp_path: Path) -> Path:
    """The English UI export re-written the way "Excel CSV" downloads are: UTF-16 LE with a BOM, tab-separated."""
    text = (FIXTURES / "google_ui_en.csv").read_text(encoding="utf-8-sig")
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\r\n").writerows(csv.reader(io.StringIO(text)))
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xff\xfe" + out.getvalue().encode("utf-16-le"))
    return path


def test_google_ui_csv_drops_total_rows_and_parses_numbers():
    report = read_search_term_report(FIXTURES / "google_ui_en.csv")
    frame = report.frame
    assert list(frame.columns) == list(SEARCH_TERM_COLUMNS)
    assert frame["search_term"].tolist() == [
        "waterproof hiking boots",
        "hiking boots women",
        "tent repair kit",
        "backpacking jobs",
        "boots, size 12",
    ]
    first = frame.iloc[0]
    assert (first.impressions, first.clicks, first.cost) == (19_771, 1_204, 2_196_450_000)
    assert (first.conversions, first.conversion_value) == (31.5, 4410.0)
    assert frame.loc[3, "conversions"] == 0.0  # " --"
    assert frame["campaign_name"].iloc[0] == "Search - Boots" and frame["keyword"].tolist()[:2] == [
        "hiking boots",
        "hiking boots women",
    ]
    assert str(frame["cost"].dtype) == "int64" and str(frame["clicks"].dtype) == "int64"
    assert report.period == ReportPeriod(start=dt.date(2024, 1, 17), end=dt.date(2024, 2, 15))
    assert report.currency == "USD"
    assert report.skipped == []


def test_match_type_labels_become_contract_values():
    frame = read_search_term_report(FIXTURES / "google_ui_en.csv").frame
    assert frame["match_type"].tolist() == ["phrase", "exact", "broad", "broad", "exact"]


def test_cost_becomes_exact_micros_rounding_half_up():
    frame = read_search_term_report(FIXTURES / "google_ui_en.csv").frame
    assert frame.loc[2, "cost"] == 5_615_000  # "5.6149999" → 5,614,999.9 micros → 5,615,000


def test_excel_csv_utf16_tab_separated_reads_the_same(tmp_path):
    excel = read_search_term_report(_excel_csv(tmp_path))
    plain = read_search_term_report(FIXTURES / "google_ui_en.csv")
    assert excel.frame.equals(plain.frame)
    assert (excel.period, excel.currency) == (plain.period, plain.currency)


def test_performance_max_export_has_empty_campaign_and_ad_group():
    report = read_search_term_report(FIXTURES / "pmax.csv")
    assert report.frame["search_term"].tolist() == ["trail running shoes", "ultralight tent"]
    assert set(report.frame["campaign_name"]) == {""} and set(report.frame["ad_group_name"]) == {""}
    assert report.frame["match_type"].tolist() == ["", ""]
    assert report.frame["cost"].tolist() == [38_200_000, 9_750_000]
    assert report.period == ReportPeriod(start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30))
    assert report.currency == "EUR"


def test_german_export_headers_number_format_and_period():
    report = read_search_term_report(FIXTURES / "german.csv")
    frame = report.frame
    assert frame["search_term"].tolist() == ["wanderschuhe wasserdicht", "zelt 2 personen", "rucksack kostenlos"]
    assert frame["impressions"].tolist() == [19_771, 1_012, 431]
    assert frame["clicks"].tolist() == [1_204, 88, 9]
    assert frame["cost"].tolist() == [2_196_450_000, 82_720_000, 10_000_000]
    assert frame["conversions"].tolist() == [31.5, 4.0, 0.0]
    assert frame["match_type"].tolist() == ["phrase", "exact", "broad"]
    assert report.period == ReportPeriod(start=dt.date(2024, 1, 17), end=dt.date(2024, 2, 15))
    assert report.currency == "EUR"


def test_other_tools_column_names_map_through_aliases():
    report = read_search_term_report(FIXTURES / "other_tool.csv")
    frame = report.frame
    assert frame["search_term"].tolist() == ["winter jacket sale", "free jacket pattern diy"]
    assert frame["ad_group_name"].tolist() == ["Winter jackets"] * 2
    assert frame["cost"].tolist() == [45_500_000, 13_200_000]
    assert frame["conversion_value"].tolist() == [270.0, 0.0]
    assert report.period is None and report.currency is None


def test_missing_columns_message_names_found_and_needed():
    with pytest.raises(ReportFormatError) as caught:
        read_search_term_report(FIXTURES / "missing_columns.csv")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("missing_columns.csv:")
    assert "'Campaign', 'Campaign type', 'Clicks', 'Cost'" in message
    assert "Search term" in message and "Impr." in message


def test_bad_row_raises_naming_line_and_field():
    with pytest.raises(ReportFormatError, match=r"^bad_rows\.csv: line 5: field 'Clicks': not a number: 'many'"):
        read_search_term_report(FIXTURES / "bad_rows.csv")


def test_skip_bad_rows_lists_each_skipped_line():
    report = read_search_term_report(FIXTURES / "bad_rows.csv", skip_bad_rows=True)
    assert report.frame["search_term"].tolist() == ["hiking boots", "tent pegs", "sleeping bag"]
    assert [(row.line, row.reason.split(":")[0]) for row in report.skipped] == [
        (5, "field 'Clicks'"),
        (7, "field 'Search term'"),
        (8, "wrong column count"),
    ]


def test_short_line_and_blank_line(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("Search term,Clicks,Impr.\nboots,1,10\n\ntents,2\njackets,3,30\n", encoding="utf-8")
    with pytest.raises(ReportFormatError, match=r"line 4: wrong column count"):
        read_search_term_report(path)
    report = read_search_term_report(path, skip_bad_rows=True)
    assert report.frame["search_term"].tolist() == ["boots", "jackets"]
    assert [row.line for row in report.skipped] == [4]


def test_line_numbers_count_line_breaks_inside_quoted_fields(tmp_path):
    path = tmp_path / "multiline.csv"
    path.write_text('Search term,Clicks\n"two\nlines",1\nboots,x\n', encoding="utf-8")
    with pytest.raises(ReportFormatError, match=r"line 4: field 'Clicks'"):
        read_search_term_report(path)


def test_same_bytes_same_sha256(tmp_path):
    copy = tmp_path / "copy.csv"
    copy.write_bytes((FIXTURES / "google_ui_en.csv").read_bytes())
    first = read_search_term_report(FIXTURES / "google_ui_en.csv").source_sha256
    assert read_search_term_report(copy).source_sha256 == first
    copy.write_bytes(copy.read_bytes() + b"\n")
    assert read_search_term_report(copy).source_sha256 != first


@settings(max_examples=60, deadline=None)
@given(units=st.integers(0, 10**7), fraction=st.text("0123456789", min_size=0, max_size=9))
def test_cost_micros_equal_decimal_rounding(tmp_path_factory, units, fraction):
    text = f"{units:,}" + (f".{fraction}" if fraction else "")
    path = tmp_path_factory.mktemp("cost") / "cost.csv"
    path.write_text(f'Search term,Cost\nboots,"{text}"\n', encoding="utf-8")
    expected = (Decimal(text.replace(",", "")) * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert read_search_term_report(path).frame["cost"].tolist() == [int(expected)]
