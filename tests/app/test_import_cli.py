"""Importing search-term reports and analysing them from the CLI; imported accounts are read-only."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run

FIXTURES = Path(__file__).resolve().parents[1] / "ads" / "fixtures"


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
