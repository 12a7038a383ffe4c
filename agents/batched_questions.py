"""Many small questions to a configured model, asked in batches: screened, cached, under a token budget.

The intent judge and the cluster namer both ask "here are N items in a data block, answer each by its
index". This is that loop once: cached answers are reused, each batch is sent only while the budget
allows it, and every answer is validated on its own, so one bad item (or a bad or failed reply) costs
that item, never the audit.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, TypeVar

import openai
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from pydantic import AfterValidator, BaseModel, ValidationError

from agents.llm_cache import AnswerCache

CHARS_PER_TOKEN = 3  # fewer than the ~4 of English text, so the estimate errs on the high side


MAX_TEXT_CHARS = 300


def _printable(value: str) -> str:
    value = " ".join(value.split())
    if not value.isprintable() or len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"is not one printable line of at most {MAX_TEXT_CHARS} characters")
    return value


# A model's words shown to people: one printable line (markup is escaped where it is shown). Checked here
# rather than as a schema `maxLength`, which OpenAI's strict structured outputs refuse.
ModelText = Annotated[str, AfterValidator(_printable)]


class ScreenedText(Protocol):
    """What `policies.screening.screen` returns (passed in: agents/ sits above policies/)."""

    @property
    def text(self) -> str: ...

    @property
    def flags(self) -> tuple[str, ...]: ...


class TokenBudget:
    """Tokens one run (an audit, a chat turn) may spend on all its model calls: chat turns, intent judging,
    naming and copy. A call is made only when its estimate fits what is left."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self._lock = threading.Lock()

    def reserve(self, estimate: int) -> bool:
        with self._lock:
            if self.spent + estimate > self.limit:
                return False
            self.spent += estimate
            return True

    def settle(self, estimate: int, used: int | None) -> None:
        """Replace a reservation by what the reply says it used (kept at the estimate when it says nothing)."""
        if used is not None:
            with self._lock:
                self.spent += used - estimate


def estimate_tokens(messages: Sequence[BaseMessage], answer_tokens: int, *extra: Any) -> int:
    """A call's tokens, erring high: its messages (and `extra`, e.g. tool definitions) and the answer's."""
    chars = sum(len(str(m.content)) for m in messages) + sum(len(json.dumps(e, default=str)) for e in extra)
    return chars // CHARS_PER_TOKEN + answer_tokens


def reported_tokens(reply: Any) -> int | None:
    """The tokens a reply says it used (0 for one read from the response cache); None when it says nothing."""
    usage = reply.usage_metadata if isinstance(reply, AIMessage) else None
    return usage["total_tokens"] if usage else None


@dataclass
class ModelAccess:
    """What a configured model's helpers share within one run: the model, its cache, its budget, screening."""

    model: BaseChatModel
    model_name: str
    cache: AnswerCache
    budget: TokenBudget
    render_data: Callable[[str, Any], str]  # policies.screening.data_block
    screen: Callable[[str], ScreenedText]  # policies.screening.screen
    callbacks: Callable[[], list[BaseCallbackHandler]] | None = None  # for calls made outside a graph run


Answer = TypeVar("Answer", bound=BaseModel)


@dataclass
class BatchOutcome(Generic[Answer]):
    answers: dict[int, Answer]  # by position in the questions asked
    from_cache: int
    sent: int  # questions sent to the model
    unasked: int  # questions never sent: the token budget was spent, or the model failed
    requests: int
    failure: str = ""


def ask_in_batches(
    access: ModelAccess,
    *,
    kind: str,
    system_prompt: str,
    context: str,
    questions: Sequence[dict[str, Any]],
    keys: Sequence[str],
    reply_schema: type[BaseModel],
    answer_schema: type[Answer],
    batch_size: int,
    answer_tokens: int,
) -> BatchOutcome[Answer]:
    """Answers to `questions` (rows for a data block), each cached under its key in `keys`.

    `reply_schema` is the structured output asked for: a model whose `answers` field is a list of
    `answer_schema`, each with the `index` of its row in the batch; both forbid extra fields and leave none
    optional, as strict structured outputs require."""
    cached = access.cache.get_many(kind, keys)
    answers: dict[int, Answer] = {}
    for position, key in enumerate(keys):
        if key in cached:
            try:
                answers[position] = answer_schema.model_validate({**cached[key], "index": position})
            except ValidationError:
                pass  # written by another version: ask again
    from_cache = len(answers)
    pending = [position for position in range(len(questions)) if position not in answers]
    outcome: BatchOutcome[Answer] = BatchOutcome(answers, from_cache, 0, 0, 0)
    # The schema goes to the server as JSON, so the reply is parsed without validation and each answer is
    # validated alone below (given the pydantic class, the client would reject a whole batch for one bad answer).
    schema = {"name": reply_schema.__name__, "schema": reply_schema.model_json_schema(), "strict": True}
    structured = access.model.with_structured_output(schema, method="json_schema", include_raw=True)
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        rows = [{"index": index, **questions[position]} for index, position in enumerate(batch)]
        messages = [SystemMessage(system_prompt), HumanMessage(f"{context}\n\n{access.render_data(kind, rows)}")]
        estimate = estimate_tokens(messages, answer_tokens * len(batch))
        if not access.budget.reserve(estimate):
            outcome.unasked = len(pending) - start
            break
        outcome.requests += 1
        try:
            reply = structured.invoke(messages, config=_config(access, kind))
        except (openai.OpenAIError, ValueError) as error:  # a failing server must not stop the audit
            access.budget.settle(estimate, None)
            outcome.unasked = len(pending) - start
            outcome.failure = f"{type(error).__name__}: {str(error)[:120]}"
            break
        raw = reply.get("raw") if isinstance(reply, dict) else None
        access.budget.settle(estimate, reported_tokens(raw))
        outcome.sent += len(batch)
        fresh: dict[str, dict[str, Any]] = {}
        for item in _reply_items(raw):
            try:
                answer = answer_schema.model_validate(item)
            except ValidationError:
                continue  # ignore what does not validate; the question keeps its offline answer
            index = getattr(answer, "index", -1)
            if 0 <= index < len(batch) and batch[index] not in answers:
                answers[batch[index]] = answer
                fresh[keys[batch[index]]] = answer.model_dump(mode="json", exclude={"index"})
        access.cache.put_many(kind, fresh)
    return outcome


def _reply_items(raw: Any) -> list[Any]:
    """The `answers` list of a reply, read from its JSON content or its tool call, item by item unvalidated."""
    if not isinstance(raw, AIMessage):
        return []
    payload: Any = raw.tool_calls[0]["args"] if raw.tool_calls else None
    if payload is None and isinstance(raw.content, str):
        try:
            payload = json.loads(raw.content)
        except json.JSONDecodeError:
            return []
    items = payload.get("answers") if isinstance(payload, dict) else None
    return items if isinstance(items, list) else []


def _config(access: ModelAccess, kind: str) -> RunnableConfig:
    # Inside a graph run the call inherits the run's Langfuse callback; outside one it gets its own.
    config: RunnableConfig = {"run_name": kind, "tags": [kind]}
    if access.callbacks is not None and var_child_runnable_config.get() is None:
        config["callbacks"] = access.callbacks()
    return config
