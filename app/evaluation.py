"""`adpilot eval`: the golden set (evals/) run through the real chat path, scored and reported.

Each item runs on a fresh chat thread in a fresh ADPILOT_HOME holding a copy of one sandbox generated for the run
(the set's seed, rows and "today"), so what one item applies cannot change another's answer. The facts an answer
must contain are read from the tools on that same sandbox just before the turn, never written into the set.
With Langfuse configured, each set is a Langfuse dataset, the run an experiment, and the scores Langfuse scores.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ads.errors import AdpilotError
from agents.models import ModelChoice
from agents.offline_planner import this_turn
from app.session import Session
from app.settings import Settings
from ops.model_costs import ModelPrice
from ops.proposal_rows import proposal_rows
from ops.tracing import Tracing
from sandbox.generator import generate_sandbox
from sandbox.store import SandboxStore

EVALS_DIR = Path(__file__).resolve().parents[1] / "evals"
DEFAULT_SETS = (EVALS_DIR / "golden.yaml", EVALS_DIR / "held_out.yaml")
THRESHOLDS = EVALS_DIR / "thresholds.yaml"
METRICS = ("task_success", "tool_precision", "tool_recall", "fact_accuracy")


class EvalError(AdpilotError):
    """A golden set or thresholds file that cannot be read."""


# ---- the set, as data -----------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedCall(_Strict):
    name: str
    args: dict[str, Any] = Field(default_factory=dict, description="Key arguments; others may be anything.")


class Fact(_Strict):
    """Something the reply must contain: a literal text, or a value read from a tool on the item's sandbox."""

    text: str | None = None
    tool: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    account: str | None = None  # default: the item's account
    path: str = ""  # into {"data": …, "proposals": […], "summary": …}, dotted, list indexes as numbers
    kind: Literal["text", "number", "money", "count"] = "text"


class GateCheck(_Strict):
    """After an acting turn: where the `pending`-th change that waited for a person before turn `turn` (0-based;
    default this one; -1 for the last) now stands."""

    pending: int = 0
    turn: int | None = None
    status: tuple[str, ...]


class Turn(_Strict):
    user: str  # `{pending0}` … is replaced by the id of that pending change before the turn
    tools: tuple[ExpectedCall, ...] | None = None  # None: not scored; () : the turn must call no tool
    forbid: tuple[str, ...] = ()  # tools this turn must not call
    must: tuple[Fact, ...] = ()
    must_not: tuple[str, ...] = ()  # texts the reply must not contain (case-insensitive)
    proposes: tuple[str, ...] = ()  # change kinds this turn must newly propose
    gate: GateCheck | None = None
    language: Literal["en", "de"] | None = None  # default: the item's


class Item(_Strict):
    id: str
    lang: Literal["en", "de"]
    account: str = "sandbox:trailhead"
    tags: tuple[str, ...] = ()
    turns: tuple[Turn, ...] = Field(min_length=1)


class SandboxSpec(_Strict):
    seed: int = 7
    rows: int = 6000
    today: dt.date


class GoldenSet(_Strict):
    name: str
    description: str = ""
    sandbox: SandboxSpec
    items: tuple[Item, ...] = Field(min_length=1)


def load_set(path: Path) -> GoldenSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise EvalError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise EvalError(f"{path}, line {mark.line + 1 if mark else '?'}: not valid YAML") from None
    try:
        golden = GoldenSet.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise EvalError(f"{path}: {where}: {first['msg']}") from None
    seen = Counter(item.id for item in golden.items)
    if duplicates := [i for i, n in seen.items() if n > 1]:
        raise EvalError(f"{path}: item id '{duplicates[0]}' is used twice")
    return golden


def load_thresholds(path: Path | None = None) -> dict[str, dict[str, float]]:
    path = path or THRESHOLDS
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise EvalError(f"{path}: cannot read the thresholds ({error})") from None
    if not isinstance(data, dict):
        raise EvalError(f"{path}: expected a mapping of set name to minimums")
    for part, minimums in data.items():
        if not isinstance(minimums, dict) or not all(
            m in METRICS and isinstance(v, int | float) and 0 <= v <= 1 for m, v in minimums.items()
        ):
            raise EvalError(f"{path}: '{part}': each minimum is one of {', '.join(METRICS)}, between 0 and 1")
    return data


# ---- numbers in text ------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.,])\d[\d.,]*\d(?![\w])|(?<![\w.,])\d(?![\w])")


def _readings(token: str) -> set[float]:
    """The values a number as written may mean, in English (1,234.5) or German (1.234,5) notation."""
    token = token.rstrip(".,")
    values: set[float] = set()
    for thousands, decimal in ((",", "."), (".", ",")):
        body = token
        if decimal in body:
            body, _, fraction = body.rpartition(decimal)
            if not fraction.isdigit() or decimal in body:
                continue
        else:
            fraction = ""
        groups = body.split(thousands)
        if len(groups) > 1 and not (groups[0] and all(len(g) == 3 for g in groups[1:])):
            continue
        values.add(float("".join(groups) + (f".{fraction}" if fraction else "")))
    return values


def numbers_in(text: str) -> set[float]:
    return {v for token in _NUMBER.findall(text) for v in _readings(token)}


def _shown(value: float) -> set[float]:
    """How a value may be shown: rounded to 2, 1 or 0 decimals."""
    return {round(value, 2), round(value, 1), float(round(value))}


# ---- running an item ------------------------------------------------------------------------


class TurnResult(BaseModel):
    user: str
    reply: str = ""
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    expected_calls: int = 0
    matched_expected: int = 0
    scored_calls: int = 0  # this turn's calls, when its tools are scored
    matched_calls: int = 0
    facts: int = 0
    facts_found: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    errors: list[str] = Field(default_factory=list)  # "type: detail"


class ItemResult(BaseModel):
    id: str
    part: str
    lang: str
    tags: list[str] = Field(default_factory=list)
    turns: list[TurnResult] = Field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(not t.errors for t in self.turns)

    def scores(self) -> dict[str, float]:
        """The item's own figures (what Langfuse gets as scores)."""
        expected = sum(t.expected_calls for t in self.turns)
        scored = sum(t.scored_calls for t in self.turns)
        facts = sum(t.facts for t in self.turns)
        return {
            "task_success": float(self.success),
            "tool_precision": sum(t.matched_calls for t in self.turns) / scored if scored else 1.0,
            "tool_recall": sum(t.matched_expected for t in self.turns) / expected if expected else 1.0,
            "fact_accuracy": sum(t.facts_found for t in self.turns) / facts if facts else 1.0,
        }


def _arg_matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and isinstance(actual, str):
        e, a = expected.casefold(), actual.casefold()
        return e == a or e in a or a in e  # "Tents" and "Search | Tents" name the same campaign
    return bool(expected == actual)


def _call_matches(expected: ExpectedCall, actual: dict[str, Any]) -> bool:
    args = actual.get("args") or {}
    return expected.name == actual["name"] and all(
        key in args and _arg_matches(value, args[key]) for key, value in expected.args.items()
    )


def _lookup(root: Any, path: str) -> Any:
    value = root
    for part in filter(None, path.split(".")):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


_GERMAN = frozenset("der die das und ist nicht für mit sie ihre ihr ich ein eine den dem im auf zu von wurde".split())
_ENGLISH = frozenset("the and is not for with you your i a an to of in on was are this that".split())


def reply_language(text: str) -> str | None:
    """'de' or 'en' by their commonest words, None when the text has too few of either to tell."""
    words = re.findall(r"[a-zäöüß]+", text.casefold())
    german, english = sum(w in _GERMAN for w in words), sum(w in _ENGLISH for w in words)
    if german + english < 3:
        return None
    return "de" if german > english else "en"


def _texts(value: Any) -> Iterable[str]:
    """Every text in a tool's result (its content and its artifact), numbers included."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        for part in value:
            yield from _texts(part)
    elif value is not None:
        yield str(value)


def own_words(reply: str, quoted: Iterable[str]) -> str:
    """The reply without the lines it quotes from the tools' results (their summaries and rows are English
    whatever the person's language): the language of a reply is the language of what the model wrote."""
    sources = [q.casefold() for q in quoted]
    kept = []
    for line in reply.splitlines():
        body = re.sub(r"^\s*(?:[-•*]|\d+\.)\s*", "", line).strip().casefold()
        bare = re.sub(r"\s*\([^()]*\)$", "", body)  # a quoted row with the id the reply gives it: "… (change 5fe6…)"
        if not any(text and text in source for text in (body, bare) for source in sources):
            kept.append(line)
    return "\n".join(kept)


class ItemRunner:
    """Runs items through `Session.chat`, each in a fresh home copied from one generated sandbox."""

    def __init__(self, settings: Settings, model: ModelChoice, tracing: Tracing, spec: SandboxSpec, work: Path):
        self.settings, self.model, self.tracing, self.spec = settings, model, tracing, spec
        self.work = work
        self.template = work / "sandbox.sqlite"
        generate_sandbox(SandboxStore.create(self.template), seed=spec.seed, rows=spec.rows, today=spec.today)

    def run(self, item: Item, part: str) -> ItemResult:
        result = ItemResult(id=item.id, part=part, lang=item.lang, tags=list(item.tags))
        home = Path(tempfile.mkdtemp(prefix="item-", dir=self.work))
        try:
            shutil.copy(self.template, home / "sandbox.sqlite")
            settings = self.settings.model_copy(update={"home": home, "today_override": self.spec.today})
            session = Session(settings, model=self.model, tracing=self.tracing)
            try:
                thread: str | None = None
                history: list[list[dict[str, Any]]] = []  # the changes pending before each turn
                for turn in item.turns:
                    outcome, turn_result = self._turn(session, item, turn, thread, history)
                    result.turns.append(turn_result)
                    thread = outcome or thread
                    if outcome is None:
                        break  # the turn raised: the rest of the conversation cannot follow
            finally:
                session.checkpointer.conn.close()
        finally:
            shutil.rmtree(home, ignore_errors=True)
        return result

    def _turn(
        self, session: Session, item: Item, turn: Turn, thread: str | None, history: list[list[dict[str, Any]]]
    ) -> tuple[str | None, TurnResult]:
        before = self._rows(session, item, thread)
        pending = [r for r in before if r["status"] == "pending"]
        history.append(pending)
        text = re.sub(
            r"\{pending(\d+)\}",
            lambda m: pending[int(m.group(1))]["id"] if int(m.group(1)) < len(pending) else "0000000000",
            turn.user,
        )
        result = TurnResult(user=text)
        expected_facts = []
        for fact in turn.must:
            try:
                expected_facts.append((fact, self._expected(session, item, fact)))
            except Exception as error:  # the tools refuse the fact's arguments or path: counted as a miss, named
                result.facts += 1
                result.errors.append(f"fact_unavailable: {fact.tool}{fact.args} {fact.path}: {type(error).__name__}")
        started = time.perf_counter()
        try:
            outcome = session.chat(item.account, text, thread)
        except Exception as error:
            result.seconds = time.perf_counter() - started
            result.errors.append(f"exception: {type(error).__name__}: {str(error)[:200]}")
            return None, result
        result.seconds = time.perf_counter() - started
        messages: list[BaseMessage] = outcome.values.get("messages", [])
        turn_messages = this_turn(messages)
        result.reply = outcome.reply
        result.tool_calls = [
            {"name": c["name"], "args": c.get("args", {})}
            for m in turn_messages
            if isinstance(m, AIMessage)
            for c in m.tool_calls
        ]
        for m in turn_messages:
            usage = getattr(m, "usage_metadata", None) if isinstance(m, AIMessage) else None
            if usage:
                result.tokens_in += int(usage.get("input_tokens", 0))
                result.tokens_out += int(usage.get("output_tokens", 0))
        self._score_calls(turn, result)
        self._score_reply(item, turn, result, messages, expected_facts)
        after = self._rows(session, item, outcome.thread_id)
        gate_pending = history[turn.gate.turn] if turn.gate and turn.gate.turn is not None else pending
        self._score_proposals(turn, result, before, after, gate_pending)
        return outcome.thread_id, result

    def _rows(self, session: Session, item: Item, thread: str | None) -> list[dict[str, Any]]:
        if thread is None:
            return []
        values = session.graphs["chat"].get_state({"configurable": {"thread_id": thread}}).values
        money = session.open_account(values.get("account", item.account)).account.money
        # "the last one" counts the changes as the reply numbered them: those it showed first, in its order
        shown = {c["hash"]: i for i, c in enumerate(values.get("shown", {}).get("change", []))}
        return sorted(proposal_rows(values, money), key=lambda row: shown.get(row["hash"], len(shown)))

    def _expected(self, session: Session, item: Item, fact: Fact) -> Any:
        if fact.tool is None:
            return fact.text
        account = fact.account or item.account
        tool = session.run_tool(account, fact.tool, fact.args)
        root = {
            "data": tool.data,
            "summary": tool.summary,
            "proposals": [c.model_dump(mode="json") for c in tool.proposals],
        }
        value = _lookup(root, fact.path)
        if fact.kind == "count":
            return len(value)
        if fact.kind == "money":
            shown = session.open_account(account).account.money(int(value))
            return max(numbers_in(shown))
        return value

    @staticmethod
    def _score_calls(turn: Turn, result: TurnResult) -> None:
        calls = result.tool_calls
        for name in turn.forbid:
            if any(c["name"] == name for c in calls):
                result.errors.append(f"forbidden_tool: {name}")
        if turn.tools is None:
            return
        result.expected_calls = len(turn.tools)
        result.scored_calls = len(calls)
        matched: set[int] = set()
        for expected in turn.tools:
            index = next((i for i, c in enumerate(calls) if i not in matched and _call_matches(expected, c)), None)
            if index is None:
                same_name = any(c["name"] == expected.name for c in calls)
                result.errors.append(f"{'wrong_args' if same_name else 'missing_tool'}: {expected.name}")
            else:
                matched.add(index)
        result.matched_expected = result.matched_calls = len(matched)
        if not turn.tools and calls:
            result.errors.append(f"extra_tool: {calls[0]['name']}")

    @staticmethod
    def _score_reply(
        item: Item, turn: Turn, result: TurnResult, messages: list[BaseMessage], facts: list[tuple[Fact, Any]]
    ) -> None:
        reply = result.reply
        if not reply.strip():
            result.errors.append("empty_reply")
        folded = reply.casefold()
        values = numbers_in(reply)
        for fact, expected in facts:
            result.facts += 1
            if fact.kind == "text":
                found = str(expected).casefold() in folded
            else:
                found = bool(_shown(float(expected)) & values)
            if found:
                result.facts_found += 1
            else:
                result.errors.append(f"missing_fact: {expected}")
        for text in turn.must_not:
            result.facts += 1
            if text.casefold() in folded:
                result.errors.append(f"forbidden_fact: {text}")
            else:
                result.facts_found += 1
        # Every number the reply states must come from something the thread saw: the tools' results (what the
        # model was sent and the rows they kept aside) or the user. A number written "44,323" is grounded when
        # any of its readings is (44323 in English notation, 44.323 in German).
        tool_texts = [text for m in messages if isinstance(m, ToolMessage) for text in _texts((m.content, m.artifact))]
        seen = " ".join([*tool_texts, *(str(m.content) for m in messages if isinstance(m, HumanMessage))])
        grounds = {g for v in numbers_in(seen) for u in (v, v / 1e6, v / 100, v * 100) for g in {u, *_shown(u)}}
        invented = [
            token
            for token in _NUMBER.findall(reply)
            if (readings := _readings(token)) and max(readings) > 31 and not readings & grounds
        ]  # small counts and days are the model's
        if invented:
            result.errors.append(f"ungrounded_number: {invented[0]}")
        expected_language = turn.language or item.lang
        if (said := reply_language(own_words(reply, tool_texts))) is not None and said != expected_language:
            result.errors.append(f"wrong_language: {said} for {expected_language}")

    @staticmethod
    def _score_proposals(
        turn: Turn,
        result: TurnResult,
        before: list[dict[str, Any]],
        after: list[dict[str, Any]],
        pending: list[dict[str, Any]],
    ) -> None:
        hashes = [r["hash"] for r in after]
        if len(hashes) != len(set(hashes)):
            result.errors.append("duplicate_proposal")
        new_kinds = {r["kind"] for r in after if r["hash"] not in {b["hash"] for b in before}}
        for kind in turn.proposes:
            if kind not in new_kinds:
                result.errors.append(f"missing_proposal: {kind}")
        if turn.gate is not None:
            if not -len(pending) <= turn.gate.pending < len(pending):
                result.errors.append(f"gate_mismatch: no pending change {turn.gate.pending} to answer")
                return
            target = pending[turn.gate.pending]["hash"]
            status = next((r["status"] for r in after if r["hash"] == target), "gone")
            if status not in turn.gate.status:
                result.errors.append(f"gate_mismatch: {status}, expected {'/'.join(turn.gate.status)}")


# ---- a run: figures, report, thresholds -----------------------------------------------------


class PartSummary(BaseModel):
    part: str
    items: int
    turns: int
    task_success: float
    tool_precision: float
    tool_recall: float
    fact_accuracy: float
    tokens_in: int
    tokens_out: int
    latency_p50: float
    latency_p95: float
    cost_usd: float | None  # None: no price for the model in the settings' price table
    cost_per_correct_usd: float | None
    errors: dict[str, int]


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def summarise(part: str, results: list[ItemResult], price: ModelPrice | None) -> PartSummary:
    turns = [t for r in results for t in r.turns]
    scored = sum(t.scored_calls for t in turns)
    expected = sum(t.expected_calls for t in turns)
    facts = sum(t.facts for t in turns)
    successes = sum(r.success for r in results)
    tokens_in, tokens_out = sum(t.tokens_in for t in turns), sum(t.tokens_out for t in turns)
    spent = price.cost(tokens_in, tokens_out)["total"] if price else None
    seconds = [t.seconds for t in turns]
    return PartSummary(
        part=part,
        items=len(results),
        turns=len(turns),
        task_success=successes / len(results) if results else 0.0,
        tool_precision=sum(t.matched_calls for t in turns) / scored if scored else 1.0,
        tool_recall=sum(t.matched_expected for t in turns) / expected if expected else 1.0,
        fact_accuracy=sum(t.facts_found for t in turns) / facts if facts else 1.0,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_p50=_quantile(seconds, 0.5),
        latency_p95=_quantile(seconds, 0.95),
        cost_usd=spent,
        cost_per_correct_usd=spent / successes if successes and spent is not None else None,
        errors=dict(Counter(e.split(":")[0] for t in turns for e in t.errors).most_common()),
    )


class EvalRun(BaseModel):
    model: str
    started: dt.datetime
    seconds: float
    langfuse: str | None = None  # the experiment's URL or name, when the run went to Langfuse
    parts: list[PartSummary]
    below_threshold: list[str]
    items: list[ItemResult]


def below_thresholds(parts: Iterable[PartSummary], thresholds: dict[str, dict[str, float]]) -> list[str]:
    failures = []
    for part in parts:
        for metric, minimum in thresholds.get(part.part, thresholds.get("default", {})).items():
            value = getattr(part, metric)
            if value < minimum:
                failures.append(f"{part.part}: {metric} {value:.3f} is below the threshold {minimum:.3f}")
    return failures


def markdown_report(run: EvalRun) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3f}" if not math.isnan(value) else "n/a"
        return "n/a" if value is None else str(value)

    columns = [
        "part", "items", "turns", "task_success", "tool_precision", "tool_recall", "fact_accuracy",
        "tokens_in", "tokens_out", "latency_p50", "latency_p95", "cost_usd", "cost_per_correct_usd",
    ]  # fmt: skip
    lines = [
        f"# adpilot eval, {run.started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Model: {run.model}. {sum(p.items for p in run.parts)} items in {run.seconds:.1f} s."
        + (f" Langfuse experiment: {run.langfuse}." if run.langfuse else ""),
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(cell(getattr(p, c)) for c in columns) + " |" for p in run.parts),
        "",
        "## Error types",
        "",
        *(f"- {p.part}: " + (", ".join(f"{k} {n}" for k, n in p.errors.items()) or "none") for p in run.parts),
        "",
        "## Below threshold" if run.below_threshold else "All thresholds met.",
        *(f"- {line}" for line in run.below_threshold),
        "",
        "## Failed items",
        "",
    ]
    for item in run.items:
        if not item.success:
            first = next(e for t in item.turns for e in t.errors)
            # Replies quote search terms: shown as code, with backticks and newlines taken out.
            shown = first.replace("`", "'").replace("\n", " ")
            lines.append(f"- `{item.id}` ({item.part}): `{shown}`")
    return "\n".join(lines) + "\n"


def write_reports(run: EvalRun, directory: Path) -> tuple[Path, Path]:
    """The JSON and Markdown reports, each written whole or not at all."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"eval-{run.started:%Y%m%dT%H%M%S}-{os.getpid()}"
    written = []
    for suffix, text in ((".json", run.model_dump_json(indent=2)), (".md", markdown_report(run))):
        path = directory / f"{stem}{suffix}"
        partial = path.with_suffix(suffix + ".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
        written.append(path)
    return written[0], written[1]


def run_eval(
    settings: Settings,
    model: ModelChoice,
    tracing: Tracing,
    sets: list[Path],
    *,
    langfuse: bool = False,
    thresholds: dict[str, dict[str, float]] | None = None,
    on_item: Callable[[ItemResult], None] | None = None,
) -> EvalRun:
    """Run every item of `sets`; with `langfuse`, each set as a Langfuse dataset and the run as an experiment."""
    goldens = [(path.stem, load_set(path)) for path in sets]
    thresholds = load_thresholds() if thresholds is None else thresholds
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    results: list[ItemResult] = []
    experiment: str | None = None
    (settings.home / "evals").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="run-", dir=settings.home / "evals") as work:
        runners: dict[SandboxSpec, ItemRunner] = {}
        for part, golden in goldens:
            if golden.sandbox not in runners:
                runners[golden.sandbox] = ItemRunner(
                    settings, model, tracing, golden.sandbox, Path(tempfile.mkdtemp(dir=work))
                )
            runner = runners[golden.sandbox]

            def run_one(item: Item, part: str = part, runner: ItemRunner = runner) -> ItemResult:
                result = runner.run(item, part)
                if on_item:
                    on_item(result)
                return result

            if langfuse:
                found, experiment = run_langfuse_experiment(tracing, part, golden, run_one, model.label, started)
            else:
                found = [run_one(item) for item in golden.items]
            results.extend(found)
    price = settings.model_price(None if model.offline else settings.openai_model)
    parts = [summarise(part, [r for r in results if r.part == part], price) for part, _ in goldens]
    if len(parts) > 1:
        parts.append(summarise("all", results, price))
    return EvalRun(
        model=model.label,
        started=started,
        seconds=time.perf_counter() - clock,
        langfuse=experiment,
        parts=parts,
        below_threshold=below_thresholds(parts, thresholds),
        items=results,
    )


# ---- Langfuse: the set as a dataset, the run as an experiment -------------------------------


def run_langfuse_experiment(
    tracing: Tracing,
    part: str,
    golden: GoldenSet,
    run_one: Callable[[Item], ItemResult],
    model_label: str,
    started: dt.datetime,
) -> tuple[list[ItemResult], str]:
    """Upsert the set as dataset `adpilot-<part>` (item ids are stable), then run it as one experiment whose
    item scores and run scores are Langfuse scores."""
    from langfuse import Evaluation

    client = tracing.client
    name = f"adpilot-{part}"
    client.create_dataset(
        name=name, description=golden.description, metadata={"sandbox": golden.sandbox.model_dump(mode="json")}
    )
    for item in golden.items:
        client.create_dataset_item(
            dataset_name=name,
            id=f"{name}-{item.id}",
            input=item.model_dump(mode="json"),
            metadata={"lang": item.lang, "tags": list(item.tags)},
        )
    dataset = client.get_dataset(name)

    def task(*, item: Any, **kwargs: Any) -> dict[str, Any]:
        return run_one(Item.model_validate(item.input)).model_dump(mode="json")

    def item_scores(*, output: dict[str, Any], **kwargs: Any) -> list[Evaluation]:
        result = ItemResult.model_validate(output)
        errors = "; ".join(e for t in result.turns for e in t.errors)
        return [Evaluation(name=k, value=v, comment=errors or None) for k, v in result.scores().items()]

    def run_scores(*, item_results: list[Any], **kwargs: Any) -> list[Evaluation]:
        summary = summarise(part, [ItemResult.model_validate(r.output) for r in item_results], None)
        return [Evaluation(name=f"{part}.{m}", value=getattr(summary, m)) for m in METRICS]

    run_name = f"{model_label} {started:%Y-%m-%dT%H:%M:%S}"
    outcome = dataset.run_experiment(
        name=f"adpilot eval {part}",
        run_name=run_name,
        description=f"adpilot eval of {part} with {model_label}",
        task=task,
        evaluators=[item_scores],
        run_evaluators=[run_scores],
        max_concurrency=1,  # items share the process's model and tracing; one at a time keeps latency honest
        metadata={"model": model_label},
    )
    found = [ItemResult.model_validate(r.output) for r in outcome.item_results]
    if len(found) != len(golden.items):
        raise EvalError(f"Langfuse experiment on {name}: {len(golden.items) - len(found)} item(s) did not run")
    return found, outcome.experiment_url or run_name


def report_document(run: EvalRun, paths: tuple[Path, Path]) -> dict[str, Any]:
    """What `adpilot eval --json` prints: the figures per part, not every item (those are in the JSON report)."""
    return {
        "model": run.model,
        "seconds": round(run.seconds, 2),
        "langfuse": run.langfuse,
        "parts": [p.model_dump(mode="json") for p in run.parts],
        "below_threshold": run.below_threshold,
        "reports": {"json": str(paths[0]), "markdown": str(paths[1])},
    }
