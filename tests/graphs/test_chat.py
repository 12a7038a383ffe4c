"""The chat graph with the offline planner and with a scripted model that misbehaves."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agents.models import ModelChoice
from app.session import SANDBOX_ACCOUNT, RunOutcome, Session
from app.settings import load_settings
from ops.tracing import configure_tracing


class ScriptedModel(GenericFakeChatModel):
    """GenericFakeChatModel cannot bind tools; this one ignores them and replays its script."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self


def scripted_session(home: Path, script: list[AIMessage]) -> tuple[Session, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    model = ModelChoice(ScriptedModel(messages=iter(script)), "scripted", offline=True)
    return Session(load_settings(), model=model, tracing=configure_tracing(home, span_exporter=exporter)), exporter


def call(name: str, args: dict[str, Any], n: int) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{n}", "type": "tool_call"}


def test_offline_planner_finds_waste_in_a_campaign_and_gates_the_negatives(home: Path) -> None:
    session = Session(load_settings())
    campaign = next(
        c.name for c in session.open_account(SANDBOX_ACCOUNT).structure().campaigns if "brand" not in c.name.casefold()
    )
    outcome = session.chat(SANDBOX_ACCOUNT, f"Which search terms are wasting money in campaign {campaign}?")
    tool_messages = [m for m in outcome.values["messages"] if isinstance(m, ToolMessage)]
    assert {m.name for m in tool_messages} == {"search_terms", "mine_negative_keywords"}
    assert all('<data label="' in m.content and m.content.endswith("</data>") for m in tool_messages)
    assert "negative" in outcome.reply
    for proposal in outcome.values["proposals"]:
        assert proposal["kind"] in ("add_negative_keywords", "create_shared_negative_list")
        assert proposal["hash"] in outcome.values["decisions"]


@pytest.mark.parametrize(
    ("request_text", "tool"),
    [
        ("group last month's queries into themes", "cluster_search_queries"),
        ("what new ad groups should I create?", "propose_ad_groups"),
        ("are my budgets on track this month?", "budgets_and_pacing"),
        ("write new headlines for weak ads", "propose_creative_variants"),
    ],
)
def test_offline_planner_maps_common_requests_to_tools(home: Path, request_text: str, tool: str) -> None:
    outcome = Session(load_settings()).chat(SANDBOX_ACCOUNT, request_text)
    called = [m.name for m in outcome.values["messages"] if isinstance(m, ToolMessage)]
    assert tool in called
    assert outcome.reply


def test_conversation_continues_on_its_thread(home: Path) -> None:
    session = Session(load_settings())
    first = session.chat(SANDBOX_ACCOUNT, "how is the account doing?")
    second = session.chat(SANDBOX_ACCOUNT, "are my budgets on track?", first.thread_id)
    humans = [m for m in second.values["messages"] if m.type == "human"]
    assert second.thread_id == first.thread_id and len(humans) == 2


def test_unknown_tools_and_bad_arguments_go_back_to_the_model_and_are_traced(home: Path) -> None:
    script = [
        AIMessage(content="", tool_calls=[call("delete_campaign", {"id": "1"}, 1)]),
        AIMessage(content="", tool_calls=[call("search_terms", {"limit": "lots"}, 2)]),
        AIMessage(content="", tool_calls=[call("propose_budget_changes", {}, 3)]),
        AIMessage(content="Done."),
    ]
    session, exporter = scripted_session(home, script)
    outcome = session.chat(SANDBOX_ACCOUNT, "do something")
    results = {m.tool_call_id: m for m in outcome.values["messages"] if isinstance(m, ToolMessage)}
    assert results["call_1"].status == "error" and "not a valid tool" in results["call_1"].content
    assert results["call_2"].status == "error" and "limit" in results["call_2"].content
    assert results["call_3"].status == "success"
    assert outcome.reply == "Done."
    names = [s.name for s in exporter.get_finished_spans()]
    assert "tool.rejected" in names and "tool.error" in names
    # Budget proposals from the chat took the same gate as the audit's.
    assert all(p["hash"] in outcome.values["decisions"] for p in outcome.values["proposals"])


def test_injected_search_terms_stay_data(home: Path) -> None:
    script = [
        AIMessage(content="", tool_calls=[call("search_terms", {"contains": "ignore", "limit": 50}, 1)]),
        AIMessage(content="ok"),
    ]
    session, _ = scripted_session(home, script)
    outcome = session.chat(SANDBOX_ACCOUNT, "show me odd search terms")
    message = next(m for m in outcome.values["messages"] if isinstance(m, ToolMessage))
    assert '<data label="search_terms"' in message.content and message.content.endswith("</data>")
    assert "ignore" in message.content.casefold()  # still there, as data
    assert "injection:" in message.content  # and flagged as an injection attempt


# ---- conversations: references, acting through the gate, names, German, dedupe ---------------------------------


def converse(session: Session, *messages: str) -> list[Any]:
    """Each message as the next turn of one thread; the outcome of every turn."""
    outcomes, thread = [], None
    for message in messages:
        outcome = session.chat(SANDBOX_ACCOUNT, message, thread)
        thread = outcome.thread_id
        outcomes.append(outcome)
    return outcomes


WASTE_IN_TENTS = "which search terms are wasting money in the Tents campaign?"


def first_waiting(outcome: RunOutcome, where: Callable[[dict[str, Any]], bool] = lambda change: True) -> int:
    """Where the first change that waits for a person (and matches `where`) is in the list the reply numbered (the
    gate may block some)."""
    decisions = outcome.values["decisions"]
    return next(
        i
        for i, c in enumerate(outcome.values["shown"]["change"])
        if decisions[c["hash"]]["outcome"] == "needs_approval" and where(c)
    )


@dataclass
class TentsThread:
    """A chat whose first turn asked for the waste in the Tents campaign; later turns go on its thread."""

    session: Session
    waste: RunOutcome

    def say(self, message: str) -> RunOutcome:
        return self.session.chat(SANDBOX_ACCOUNT, message, self.waste.thread_id)

    @property
    def shown(self) -> list[dict[str, Any]]:
        """The changes the first reply numbered, as "the first one" counts them."""
        return list(self.waste.values["shown"]["change"])

    def waiting(self, where: Callable[[dict[str, Any]], bool] = lambda change: True) -> int:
        return first_waiting(self.waste, where)


@pytest.fixture
def tents(home: Path) -> TentsThread:
    session = Session(load_settings())
    return TentsThread(session, session.chat(SANDBOX_ACCOUNT, WASTE_IN_TENTS))


def test_nothing_a_chat_proposes_applies_by_itself(tents: TentsThread) -> None:
    # The gate's origin.chat rule turns what an audit would auto-apply into a question (tests/policies/test_gate.py).
    decisions = tents.waste.values["decisions"]
    assert decisions and {d["outcome"] for d in decisions.values()} <= {"needs_approval", "blocked"}
    assert not tents.waste.values.get("results") and not tents.session.change_log.entries()


def test_references_resolve_from_the_thread_and_acting_waits_for_a_yes(tents: TentsThread) -> None:
    n = tents.waiting()
    why = tents.say("why that negative?")
    ask = tents.say(f"apply number {n + 1}")
    waste, shown = tents.waste, tents.shown
    assert waste.tool_calls[0] == {
        "name": "search_terms",
        "args": {"campaign": "Search | Tents", "without_conversions": True},  # the name resolved
    }
    # The reply lists the rows it says it shows, and numbers the proposals the way "the first one" counts them.
    terms = waste.values["shown"]["search_term"]
    assert len(terms) == 10 and all(t["line"] in waste.reply for t in terms)
    assert f"1. {shown[0]['line']} (change {shown[0]['name']})" in waste.reply
    negatives = [c for c in shown if "negative" in c["line"]]
    assert why.tool_calls == [{"name": "explain_proposal", "args": {"change": None}}]
    assert negatives[-1]["name"] in why.reply or shown[0]["name"] in why.reply
    assert "under rule" in why.reply
    first = shown[n]["name"]
    assert ask.tool_calls == [{"name": "answer_proposal", "args": {"change": first, "action": "approve"}}]
    assert "yes" in ask.reply and tents.session.change_log.answer(shown[n]["hash"]) is None  # nothing done yet
    yes = tents.say("yes")
    assert yes.tool_calls == [{"name": "answer_proposal", "args": {"change": first, "action": "approve"}}]
    answer = tents.session.change_log.answer(shown[n]["hash"])
    assert answer is not None and answer.answered_by == "chat user"  # the approvals path claimed the answer
    entry = tents.session.change_log.entries(change=shown[n]["hash"], limit=1)[0]
    assert entry.decided_by == "person:chat user" and entry.status in yes.reply


def test_a_yes_to_a_later_change_is_reported_and_the_others_still_wait(tents: TentsThread) -> None:
    later = tents.waiting(lambda change: change["hash"] != tents.shown[tents.waiting()]["hash"])
    tents.say(f"apply number {later + 1}")
    yes = tents.say("yes")
    change = tents.shown[later]
    entry = tents.session.change_log.entries(change=change["hash"], limit=1)[0]
    assert entry.status == "applied" and f"change {change['name']} is applied" in yes.reply
    assert "Shall I" not in yes.reply  # the reply reports the answer, not the question again
    still = {p.change.hash for p in tents.session.pending_approvals()}
    assert tents.shown[tents.waiting()]["hash"] in still and change["hash"] not in still
    # The other changes are still answered through the approvals path, from another run.
    other = next(c for c in tents.shown if c["hash"] in still)
    _, outcome = Session(load_settings()).answer(other["hash"], {"type": "accept"}, reviewer="someone")
    assert outcome.values["results"][other["hash"]]["status"] == "applied"


def test_a_yes_without_a_question_or_a_turn_later_does_not_act(tents: TentsThread) -> None:
    n = tents.waiting()
    ask, other, yes = (tents.say(m) for m in (f"apply number {n + 1}", "how is pacing?", "yes"))
    first = tents.shown[n]
    assert ask.values["confirm"]["hash"] == first["hash"]
    assert all(c["name"] != "answer_proposal" for c in yes.tool_calls)
    assert tents.session.change_log.answer(first["hash"]) is None


def test_acting_through_the_chat_still_passes_the_gate(tents: TentsThread, home: Path) -> None:
    from policies.gate import load_policy

    n = tents.waiting(lambda change: "shared negative list" in change["line"])
    ask = tents.say(f"apply number {n + 1}")
    first = tents.shown[n]
    # The policy tightens before the person says yes: the gate, asked again on the apply path, refuses it.
    strict = home / "strict.yaml"
    default = Path(__import__("policies").__file__).with_name("default.yaml").read_text()
    strict.write_text(default.replace("shared_list_max_keywords: 5000", "shared_list_max_keywords: 1"))
    tents.session.services.policy = load_policy(strict)
    yes = tents.session.chat(SANDBOX_ACCOUNT, "yes", ask.thread_id)
    latest = tents.session.change_log.entries(change=first["hash"], limit=1)[0]
    assert latest.status == "blocked" and "blocked" in yes.reply and "gate" in yes.reply


def test_unknown_names_are_refused_with_the_closest(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.chat(SANDBOX_ACCOUNT, "Which search terms are wasting money in campaign Generic - Tents?")
    assert 'No campaign matches "Generic - Tents"; did you mean "Search | Tents"?' in outcome.reply
    assert not outcome.values.get("proposals")
    outcome = session.chat(SANDBOX_ACCOUNT, "show search terms in ad group Four Seasons Tentz")
    assert 'No ad group matches "Four Seasons Tentz"; did you mean "Four Season Tents"' in outcome.reply


def test_creatives_for_a_named_ad_group_show_the_copy_with_the_count_asked_for(home: Path) -> None:
    outcome = Session(load_settings()).chat(SANDBOX_ACCOUNT, "write 3 new headlines for Four Season Tents")
    assert outcome.tool_calls == [
        {"name": "propose_creative_variants", "args": {"ad_group": "Four Season Tents", "count": 3}}
    ]
    [change] = [p for p in outcome.values["proposals"] if p["kind"] == "add_creative_variants"]
    assert change["ad_group_name"] == "Four Season Tents" and len(change["ad"]["headlines"]) == 3
    assert all(headline in outcome.reply for headline in change["ad"]["headlines"])


def test_what_about_meta_switches_the_thread_and_asks_the_last_question_again(home: Path) -> None:
    session = Session(load_settings())
    pacing, meta, later = converse(session, "are my budgets on track?", "what about Meta?", "how is the account doing?")
    assert [c["name"] for c in meta.tool_calls] == ["switch_account", "budgets_and_pacing"]
    assert meta.values["account"] == "sandbox:trailhead-meta" and "(Meta)" in meta.reply
    assert "Trailhead Outfitters (Meta)" in later.reply  # the next turn stays on Meta


def test_german_requests_get_german_replies(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.chat(SANDBOX_ACCOUNT, "Welche Suchbegriffe verschwenden Geld in der Kampagne Search | Tents?")
    assert [c["name"] for c in outcome.tool_calls] == ["search_terms", "mine_negative_keywords"]
    assert outcome.tool_calls[0]["args"]["campaign"] == "Search | Tents"
    assert outcome.values["language"] == "de" and outcome.reply.startswith("Das habe ich gefunden:")
    assert "Auswertungen der Werkzeuge sind auf Englisch" in outcome.reply
    follow = session.chat(SANDBOX_ACCOUNT, f"genehmige nr. {first_waiting(outcome) + 1}", outcome.thread_id)
    assert follow.tool_calls[0]["name"] == "answer_proposal" and "Soll ich Änderung" in follow.reply


def test_the_change_log_answers_what_changed(tents: TentsThread) -> None:
    approved = tents.shown[tents.waiting()]
    tents.say(f"apply number {tents.waiting() + 1}")
    tents.say("yes")
    changed = tents.say("what changed yesterday?")
    assert changed.tool_calls == [{"name": "recent_changes", "args": {"since": "2026-11-19"}}]
    assert approved["name"] in changed.reply and "applied" in changed.reply


def test_one_proposal_per_change_whatever_the_number_of_turns(tents: TentsThread) -> None:
    tents.say(WASTE_IN_TENTS)
    last = tents.say(WASTE_IN_TENTS)
    hashes = [p["hash"] for p in last.values["proposals"]]
    assert hashes and len(hashes) == len(set(hashes)) == len(tents.waste.values["proposals"])


def test_big_results_reach_the_model_shortened_with_the_costliest_rows(home: Path) -> None:
    from tools.registry import MAX_CONTENT_CHARS

    script = [
        AIMessage(content="", tool_calls=[call("search_terms", {"limit": 200, "window": "last_90_days"}, 1)]),
        AIMessage(content="ok"),
    ]
    session, _ = scripted_session(home, script)
    outcome = session.chat(SANDBOX_ACCOUNT, "all the search terms")
    message = next(m for m in outcome.values["messages"] if isinstance(m, ToolMessage))
    rows = [json.loads(line) for line in message.content.splitlines() if line.startswith("{")]
    [body] = rows
    assert body["omitted"] > 0 and "rows left out" in body["summary"]
    costs = [r["cost"] for r in body["data"]]
    assert costs == sorted(costs, reverse=True) and len(message.content) < MAX_CONTENT_CHARS * 1.5
