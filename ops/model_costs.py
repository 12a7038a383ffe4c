"""What a model call costs: a price per model, in USD per million tokens (the table is in app.settings)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class ModelPrice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)

    def cost(self, input_tokens: int, output_tokens: int) -> dict[str, float]:
        """Langfuse's cost details of one call: input, output and total, in USD."""
        cost_in, cost_out = input_tokens * self.input / 1e6, output_tokens * self.output / 1e6
        return {"input": cost_in, "output": cost_out, "total": cost_in + cost_out}


def price_of(model: str, prices: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """The price listed for `model`, or for the longest listed name it starts with (gpt-4.1-mini-2025-04-14)."""
    names = [name for name in prices if model == name or model.startswith(f"{name}-")]
    return prices[max(names, key=len)] if names else None
