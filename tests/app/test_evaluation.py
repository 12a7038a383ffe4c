"""`adpilot eval`: the runner on a tiny set with known answers, its arithmetic, its reports and its exit code."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from agents.models import select_model
from app.evaluation import (
    EvalError,
    load_set,
    load_thresholds,
    numbers_in,
    reply_language,
    run_eval,
)
from app.settings import load_settings
from ops.tracing import configure_tracing
from tests.cli_runner import run
from tests.local_servers import serve_langfuse

TINY = """\
name: tiny
sandbox: {seed: 7, rows: 6000, today: 2026-11-20}
items:
- id: passes
  lang: en
  turns:
  - user: Are my budgets on track?
    tools: [{name: budgets_and_pacing}]
    must:
    - {tool: budgets_and_pacing, path: data.account_month_to_date, kind: money}
    - {text: Tents budget}
    must_not: [ignore previous instructions]
- id: fails
  lang: en
  turns:
  - user: How is the account doing?
    tools: [{name: account_overview}, {name: help}]
    must:
    - {text: words no reply holds}
- id: thanks
  lang: de
  turns:
  - user: Danke, das war's.
    tools: []
"""
# By hand: 3 items, 3 turns; "passes" and "thanks" pass, so task success is 2/3. Calls made: budgets_and_pacing and
# account_overview, both expected (precision 2/2); calls expected: those two and help (recall 2/3). Facts: the
# month-to-date spend, "Tents budget" and the absence of the injected text are found, "words no reply holds" is
# not (3/4). Error types: help is missing, one fact is missing. The offline planner uses no tokens and costs 0.


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


def test_a_tiny_set_scores_what_it_should(home: Path, tiny: Path) -> None:
    settings = load_settings()
    model = select_model(api_key=None, base_url=None, model_name="unused")
    outcome = run_eval(settings, model, configure_tracing(home), [tiny], thresholds={"tiny": {"task_success": 0.9}})

    [part] = outcome.parts
    assert (part.items, part.turns) == (3, 3)
    assert part.task_success == pytest.approx(2 / 3)
    assert part.tool_precision == 1.0
    assert part.tool_recall == pytest.approx(2 / 3)
    assert part.fact_accuracy == pytest.approx(3 / 4)
    assert part.errors == {"missing_tool": 1, "missing_fact": 1}
    assert (part.tokens_in, part.tokens_out, part.cost_usd, part.cost_per_correct_usd) == (0, 0, 0.0, 0.0)
    assert outcome.below_threshold == ["tiny: task_success 0.667 is below the threshold 0.900"]
    passed, failed, thanked = outcome.items
    assert passed.success and not failed.success and thanked.success
    assert passed.turns[0].tool_calls == [{"name": "budgets_and_pacing", "args": {}}]
    assert failed.turns[0].errors == ["missing_tool: help", "missing_fact: words no reply holds"]
    assert thanked.turns[0].tool_calls == [] and thanked.turns[0].reply.startswith("Gern geschehen")
    # Each item ran in a home of its own, removed afterwards: the eval's home keeps only the reports.
    assert not list((home / "evals").glob("run-*"))


def test_the_cli_writes_both_reports_and_exits_1_below_a_threshold(
    home: Path, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text("tiny: {task_success: 0.5, tool_recall: 0.9}\n", encoding="utf-8")
    monkeypatch.setattr("app.evaluation.THRESHOLDS", thresholds)
    code, out, err = run("eval", "--set", str(tiny), "--json")
    assert code == 1, err
    document = json.loads(out)
    [part] = document["parts"]
    assert part["part"] == "tiny" and part["task_success"] == pytest.approx(2 / 3)
    report = json.loads(Path(document["reports"]["json"]).read_text(encoding="utf-8"))
    assert [i["id"] for i in report["items"]] == ["passes", "fails", "thanks"]
    markdown = Path(document["reports"]["markdown"]).read_text(encoding="utf-8")
    assert "| tiny | 3 | 3 | 0.667 |" in markdown and "`fails` (tiny): `missing_tool: help`" in markdown
    assert err.strip() == "below threshold: tiny: tool_recall 0.667 is below the threshold 0.900"
    assert report["below_threshold"] == ["tiny: tool_recall 0.667 is below the threshold 0.900"]
    thresholds.write_text("tiny: {task_success: 0.5}\n", encoding="utf-8")
    assert run("eval", "--set", str(tiny))[0] == 0


def test_a_bad_set_is_refused_in_one_line_naming_the_field(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.replace("lang: en\n  turns:\n  - user: How", "lang: fr\n  turns:\n  - user: How"), "utf-8")
    code, _, err = run("eval", "--set", str(bad))
    assert code == 1 and err.count("\n") == 1
    assert f"{bad}: items.1.lang:" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nitems: [\n", encoding="utf-8")
    with pytest.raises(EvalError, match=r"broken.yaml, line \d+: not valid YAML"):
        load_set(broken)
    twice = tmp_path / "twice.yaml"
    twice.write_text(TINY.replace("id: fails", "id: passes"), encoding="utf-8")
    with pytest.raises(EvalError, match="item id 'passes' is used twice"):
        load_set(twice)
    assert not (home / "evals").exists() or not list((home / "evals").glob("eval-*"))


def test_thresholds_must_be_known_metrics_between_0_and_1(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.yaml"
    path.write_text("golden: {task_success: 1.5}\n", encoding="utf-8")
    with pytest.raises(EvalError, match="'golden': each minimum is one of task_success"):
        load_thresholds(path)
    path.write_text("golden: {recall: 0.5}\n", encoding="utf-8")
    with pytest.raises(EvalError, match="'golden'"):
        load_thresholds(path)


def test_numbers_are_read_in_english_and_german_notation() -> None:
    assert {23336.83, 1200.0, 16322.0} <= numbers_in("spent 23,336.83 USD on 16,322 clicks, 1,200 of them")
    assert {23336.83, 16322.0} <= numbers_in("23.336,83 USD ausgegeben, 16.322 Klicks")
    assert numbers_in("28.18 USD per conversion") >= {28.18}
    assert numbers_in("no figures here") == set()


def test_reply_language_by_common_words() -> None:
    assert reply_language("Here is what I found: the account spent 10 USD on the tents") == "en"
    assert reply_language("Das Konto hat für die Zelte 10 USD ausgegeben, und das ist nicht viel") == "de"
    assert reply_language("OK") is None


def test_the_configured_model_must_be_configured(home: Path) -> None:
    code, _, err = run("eval", "--model", "configured")
    assert code == 1 and "no model is configured" in err
    code, _, err = run("eval", "--model", "gpt")
    assert code == 1 and "'gpt' is neither" in err


def test_with_langfuse_the_set_is_a_dataset_each_run_an_experiment_and_the_scores_langfuse_scores(
    home: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_langfuse() as (base_url, langfuse):
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-test-eval")
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-test")
        monkeypatch.setenv("LANGFUSE_BASE_URL", base_url)
        code, out, err = run("eval", "--set", str(tiny), "--json")
        assert code == 0, err
        first_run = {s["name"] for s in langfuse.scores}
        assert run("eval", "--set", str(tiny), "--json")[0] == 0  # a second run: the same dataset, a new experiment
    document = json.loads(out)
    assert document["langfuse"]  # the experiment the report points to
    # The set is one dataset; its items are upserted by stable ids, so the second run added none.
    assert list(langfuse.datasets) == ["adpilot-tiny"]
    dataset = langfuse.datasets["adpilot-tiny"]
    assert dataset["metadata"] == {"sandbox": {"seed": 7, "rows": 6000, "today": "2026-11-20"}}
    assert sorted(langfuse.items) == ["adpilot-tiny-fails", "adpilot-tiny-passes", "adpilot-tiny-thanks"]
    assert load_set(tiny).items[0].model_dump(mode="json") == langfuse.items["adpilot-tiny-passes"]["input"]
    # Each item ran as the experiment's item: its trace names the dataset item and the experiment.
    roots = [s for s in langfuse.spans if "langfuse.experiment.item.id" in s["attributes"]]
    assert {s["attributes"]["langfuse.experiment.item.id"] for s in roots} == set(langfuse.items)
    assert {s["attributes"]["langfuse.experiment.dataset.id"] for s in roots} == {dataset["id"]}
    assert len({s["attributes"]["langfuse.experiment.id"] for s in roots}) == 2  # one experiment per run
    # The scores: each item's figures on its trace, the part's figures on the run; the same numbers as the report.
    assert {"task_success", "tool_precision", "tool_recall", "fact_accuracy"} | {
        f"tiny.{m}" for m in ("task_success", "tool_precision", "tool_recall", "fact_accuracy")
    } == first_run
    item_scores = {(s["traceId"], s["name"]): s["value"] for s in langfuse.scores if "." not in s["name"]}
    assert sorted(v for (_, name), v in item_scores.items() if name == "task_success") == [0, 0, 1, 1, 1, 1]
    assert sorted(v for (_, name), v in item_scores.items() if name == "tool_recall") == [0.5, 0.5, 1, 1, 1, 1]
    run_scores = [s for s in langfuse.scores if s["name"] == "tiny.task_success"]
    assert [s["value"] for s in run_scores] == pytest.approx([2 / 3, 2 / 3])
    assert all(s.get("datasetRunId") for s in run_scores)
    assert langfuse.auth == {"Basic " + base64.b64encode(b"pk-lf-test-eval:sk-lf-test").decode()}
