"""CI's offline evaluation: the whole golden set through `adpilot eval --model offline`, against its thresholds."""

from __future__ import annotations

import json
from pathlib import Path

from app.evaluation import DEFAULT_SETS, load_set
from tests.cli_runner import run


def test_the_golden_set_is_big_bilingual_multi_turn_and_holds_back_a_fifth() -> None:
    golden, held_out = (load_set(path) for path in DEFAULT_SETS)
    items = [*golden.items, *held_out.items]
    assert len(items) >= 150 and len(held_out.items) / len(items) >= 0.2
    assert {i.lang for i in golden.items} == {i.lang for i in held_out.items} == {"en", "de"}
    assert sum(len(i.turns) > 1 for i in items) >= 20
    assert not {i.id for i in golden.items} & {i.id for i in held_out.items}


def test_the_offline_eval_meets_its_thresholds(home: Path) -> None:
    code, out, err = run("eval", "--model", "offline", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert [p["part"] for p in document["parts"]] == ["golden", "held_out", "all"]
    assert not any("exception" in p["errors"] for p in document["parts"])
    assert document["below_threshold"] == []
