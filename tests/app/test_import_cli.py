"""Importing search-term reports and analysing them from the CLI; imported accounts are read-only."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sandbox.store import SandboxStore
from tests.cli_runner import run

FIXTURES = Path(__file__).resolve().parents[1] / "ads" / "fixtures"
HEADER = "Search term,Match type,Campaign,Ad group,Clicks,Impr.,Cost,Currency code\n"
ROW = "hiking boots,Exact match,Boots,Hiking,12,300,9.50,USD\n"


def _row(
    term: str = "trail boots", clicks: str = "3", impressions: str = "90", cost: str = "1.20", currency="USD"
) -> str:
    return f"{term},Broad match,Boots,Hiking,{clicks},{impressions},{cost},{currency}\n"


# (case, file text, what the one error line says). Each refuses the whole file, with or without --skip-bad-rows.
FILE_PROBLEMS = [
    ("line over 1 MB", HEADER + ROW + _row("x" * 1_100_000), ["line 3", "longer than 1 MB"]),
    (
        "too many columns",
        HEADER.rstrip("\n") + "".join(f",extra {i}" for i in range(600)) + "\n" + ROW,
        ["line 1", "608 columns", "at most 500"],
    ),
    ("200,000 columns", HEADER.rstrip("\n") + ",x" * 200_000 + "\n" + ROW, ["line 1", "200008 columns"]),
    ("duplicate column", HEADER.replace("Impr.", "Clicks") + ROW, ["line 1", "'Clicks'", "columns 5 and 6"]),
    ("two names for one field", HEADER.replace("Ad group", "Query") + ROW, ["line 1", "'Search term'", "'Query'"]),
    ("header only", HEADER, ["no data rows"]),
    ("only a total row", HEADER + "Total: account,--,--,--,12,300,9.50,USD\n", ["no data rows"]),
    (
        "clicks overflow",
        HEADER + ROW + _row(clicks="99999999999999999999999"),
        ["line 3", "field 'Clicks'", "too large"],
    ),
    (
        "impressions overflow",
        HEADER + _row(impressions="9223372036854775808"),
        ["line 2", "field 'Impr.'", "too large"],
    ),
    ("cost overflow", HEADER + ROW + _row(cost="99999999999999999999.99"), ["line 3", "field 'Cost'", "too large"]),
    (
        "field over 2,000 characters",
        HEADER + ROW + _row("y" * 2_500),
        ["line 3", "field 'Search term'", "over 2000 characters"],
    ),
    (
        "markup as currency",
        HEADER + _row(currency="USD</text><script>alert(4)</script>"),
        ["line 2", "field 'Currency code'"],
    ),
    ("a 200 KB term and an empty last field", HEADER + ROW + _row("z" * 200_000, currency=""), ["line 3", "over 2000"]),
    ("markup in a number", HEADER + _row(clicks="[/bold]"), ["line 2", "field 'Clicks'", "'[/bold]'"]),
    ("a currency symbol", HEADER + ROW.replace("USD", "$"), ["line 2", "field 'Currency code'", "'$'"]),
]
# Row-level problems: --skip-bad-rows imports the other rows
ROW_PROBLEMS = {
    "clicks overflow",
    "impressions overflow",
    "cost overflow",
    "field over 2,000 characters",
    "markup as currency",
    "a currency symbol",
    "markup in a number",
    "a 200 KB term and an empty last field",
}


def _stored(home: Path) -> tuple[list[str], int]:
    with sqlite3.connect(home / "sandbox.sqlite") as conn:
        names = [name for (name,) in conn.execute("SELECT name FROM accounts ORDER BY name")]
        return names, conn.execute("SELECT COUNT(*) FROM search_terms").fetchone()[0]


@pytest.mark.parametrize(("case", "text", "message"), FILE_PROBLEMS, ids=[case for case, _, _ in FILE_PROBLEMS])
def test_a_malformed_file_is_refused_in_one_line_and_stores_nothing(
    home: Path, tmp_path: Path, case: str, text: str, message: list[str]
) -> None:
    path = tmp_path / "report.csv"
    path.write_text(text, encoding="utf-8")
    assert run("import", "search-terms", str(FIXTURES / "google_ui_en.csv"), "--account", "acme")[0] == 0
    before = _stored(home)
    flags = [()] if case in ROW_PROBLEMS else [(), ("--skip-bad-rows",)]
    for flag in flags:
        code, out, err = run("import", "search-terms", str(path), "--account", "acme", *flag)
        assert code != 0 and out == ""
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: report.csv: ")
        assert all(part in err for part in message), err
        assert _stored(home) == before
    (home / "sandbox.sqlite").unlink()
    code, _, _ = run("import", "search-terms", str(path), "--account", "fresh")
    assert code != 0 and not (home / "sandbox.sqlite").exists()


@pytest.mark.parametrize("case", sorted(ROW_PROBLEMS))
def test_skip_bad_rows_skips_a_row_with_a_number_or_field_out_of_bounds(home: Path, tmp_path: Path, case: str) -> None:
    path = tmp_path / "report.csv"
    text = dict((c, t) for c, t, _ in FILE_PROBLEMS)[case]
    path.write_text(text + _row("tent"), encoding="utf-8")
    code, out, _ = run("import", "search-terms", str(path), "--account", "acme", "--skip-bad-rows", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["rows"] == len(text.splitlines()) - 1 and len(summary["skipped"]) == 1


def test_a_formula_like_term_is_stored_as_data_and_shown_as_text(home: Path, tmp_path: Path) -> None:
    term = '=HYPERLINK("http://x.example/[bold]steal[/bold]","boots")'
    path = tmp_path / "report.csv"
    path.write_text(HEADER + ROW + _row('"' + term.replace('"', '""') + '"', cost="40.00"), encoding="utf-8")
    assert run("import", "search-terms", str(path), "--account", "acme")[0] == 0
    account = SandboxStore(home / "sandbox.sqlite").open_account("acme")
    period = account.search_term_period()
    assert period and term in set(account.search_terms(period.start, period.end)["search_term"])
    code, out, _ = run("search-terms", "clusters", "--account", "acme", "--json")
    assert code == 0 and term in {t["search_term"] for t in json.loads(out)["terms"]}


def test_a_term_with_terminal_escapes_is_listed_without_them(home: Path, tmp_path: Path) -> None:
    term = "boots \x1b[2J\x1b[31mred\x07 sale"
    path = tmp_path / "report.csv"
    path.write_text(HEADER + ROW + _row(term, cost="40.00"), encoding="utf-8")
    assert run("import", "search-terms", str(path), "--account", "acme")[0] == 0
    code, out, _ = run("search-terms", "clusters", "--account", "acme")
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "boots [2J[31mred sale" in out  # the text stays, only the control characters go


def test_import_is_idempotent_and_reports_period_and_currency(home: Path) -> None:
    code, out, _ = run("import", "search-terms", str(FIXTURES / "google_ui_en.csv"), "--account", "acme", "--json")
    assert code == 0
    first = json.loads(out)
    assert first["account"] == "acme" and first["rows"] > 0 and first["skipped"] == []
    assert first["period"] == {"start": "2024-01-17", "end": "2024-02-15"} and first["currency"] == "USD"
    code, out, _ = run("import", "search-terms", str(FIXTURES / "google_ui_en.csv"), "--account", "acme", "--json")
    assert code == 0 and json.loads(out)["rows"] == 0


def test_a_bad_row_imports_nothing_unless_skipped(home: Path) -> None:
    code, _, err = run("import", "search-terms", str(FIXTURES / "bad_rows.csv"), "--account", "acme")
    assert code == 1 and "bad_rows.csv: line" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("search-terms", "clusters", "--account", "acme")
    assert code == 1 and "unknown account 'acme'" in err  # nothing was half-written
    code, out, _ = run(
        "import", "search-terms", str(FIXTURES / "bad_rows.csv"), "--account", "acme", "--skip-bad-rows", "--json"
    )
    report = json.loads(out)
    assert code == 0 and report["skipped"] and all(s["line"] > 1 for s in report["skipped"])


def test_missing_columns_fail_with_found_and_needed(home: Path) -> None:
    code, _, err = run("import", "search-terms", str(FIXTURES / "missing_columns.csv"), "--account", "acme")
    assert code == 1 and "missing_columns.csv" in err and len(err.strip().splitlines()) == 1


def test_imported_accounts_are_analysed_but_never_changed(home: Path) -> None:
    run("import", "search-terms", str(FIXTURES / "google_ui_en.csv"), "--account", "acme")
    code, out, _ = run("search-terms", "clusters", "--account", "acme", "--json")
    clusters = json.loads(out)
    assert code == 0 and clusters["terms"]
    assert {t["cluster_id"] for t in clusters["terms"]} == {c["id"] for c in clusters["clusters"]}
    code, out, _ = run("search-terms", "negatives", "--account", "acme", "--json")
    assert code == 0 and "proposals" in json.loads(out)
    code, out, _ = run("audit", "--account", "acme", "--json")
    document = json.loads(out)
    assert code == 0 and document["applied"] == [] and document["pending"] == []
    assert all(p["decision"] == "blocked" for p in document["proposals"])


def test_sandbox_search_term_commands(home: Path) -> None:
    code, out, _ = run("search-terms", "negatives", "--json")
    negatives = json.loads(out)
    assert code == 0 and negatives["proposals"]
    for proposal in negatives["proposals"]:
        assert all(k["blocks"] for k in proposal["keywords"])  # each negative lists the terms it blocks
    code, out, _ = run("search-terms", "clusters", "--granularity", "0.5")
    assert code == 0 and "themes in sandbox:trailhead" in out
