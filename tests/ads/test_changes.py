"""Changes are values: their hash covers every field, and their evidence reads as a person expects."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ads.changes import Evidence, NegativeSpec, SetBudget, parse_change
from ads.entities import MoneyUnit, format_money


def budget(**update: object) -> SetBudget:
    return SetBudget(
        **{
            "account": "sandbox:x",
            "rationale": "pacing",
            "budget_id": "b1",
            "from_amount": 100_000_000,
            "to_amount": 110_000_000,
            **update,
        }
    )


def test_the_hash_covers_every_field_and_survives_a_round_trip() -> None:
    change = budget()
    assert budget().hash == change.hash and change.id == change.hash[:10]
    assert budget(to_amount=111_000_000).hash != change.hash
    assert budget(rationale="other words").hash != change.hash
    dumped = change.model_dump(mode="json") | {"hash": "forged", "id": "forged"}
    assert parse_change(dumped) == change and parse_change(dumped).hash == change.hash


def test_negatives_are_exact_or_phrase_only() -> None:
    with pytest.raises(ValidationError, match="exact or phrase"):
        NegativeSpec(text="jobs", match_type="broad")


def test_evidence_lines_show_money_in_currency() -> None:
    evidence = Evidence(metrics={"cost": 6_205_480_000, "clicks": 6107, "days_left": 8})
    money = lambda amount: format_money(amount, MoneyUnit.MICROS, "USD")  # noqa: E731
    assert evidence.lines(money) == ["cost: 6,205.48 USD", "clicks: 6,107", "days left: 8"]
    counts = Evidence(metrics={"impressions": 52_760.0, "ctr": 0.01198, "conversions": 3599.0, "score": 1.1429})
    assert counts.lines(money) == ["impressions: 52,760", "ctr: 0.01198", "conversions: 3,599", "score: 1.143"]
    assert "104.00 USD" in budget(to_amount=104_000_000).summary()
