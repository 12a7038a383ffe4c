"""The offline planner: a deterministic chat model that needs no network and no keys.

It maps a marketer's request to whitelisted tools with a small table of intents, then answers
from the tools' (screened) summaries. It never computes a number itself: the tools do.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from rapidfuzz import fuzz

from agents.language import says_no, says_yes

# Asking for the terms that bring nothing; only search_terms filters on it.
NO_CONVERSIONS = (
    r"(no|without|zero|0) conversions?|(do|did|does)(n't| not) convert|never convert"
    r"|(keine|ohne|null) conversions?|nicht konvertier"
)
# (pattern, tools) in priority order; the first intent that matches decides the plan. English and German, as a
# marketer phrases it ("wasted spend", "headline numbers", "by campaign", "Passe die Budgets an").
INTENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"wast|negative|irrelevan|junk|exclude|useless|stop paying|\bblock\b|bad (search )?(terms|queries)"
        r"|low.quality (terms|queries|traffic)|verschwend|negativ|ausschlie|auszuschlie|ausschluss|unnütz|nutzlos"
        r"|sperren|blockier|schlechte (such)?(begriffe|anfragen)|geldverschwendung",
        ("search_terms", "mine_negative_keywords"),
    ),
    (
        r"\b(creative|ad|variant)s? tests?\b|a/?b tests?|which ads? (won|wins?|is best|works?)"
        r"|winning ads?|losing ads?|split tests?|(best|worst).performing ads?|which ads? (to|should i) pause"
        r"|anzeigentests?|welche anzeige gewinnt|tests? (gewonnen|verloren)|(beste|schlechteste|stärkste|schwächste)n? "
        r"anzeigen?|anzeigen?\b.*\bpausier",
        ("evaluate_creative_tests",),
    ),
    (r"\b(by|per|each|every) campaign|nach kampagnen?\b|pro kampagne|je kampagne", ("campaign_performance",)),
    (
        r"headline (numbers|figures)|key (numbers|figures|metrics)|\bkpis?\b|wichtigsten zahlen|kennzahlen"
        r"|summary|overview|zusammenfassung|überblick",
        ("account_overview",),
    ),
    (
        r"creative|ad copy|ad text|headline|descriptions?\b|\brsa\b|variant|new ads?\b(?! ?groups?)"
        r"|(write|rewrite|refresh|draft)\w* (some |new |better |fresh |the |my |our )?(ads?|copy)\b(?! ?groups?)"
        r"|überschrift|anzeigentext|anzeigentitel|beschreibung|neue anzeigen?\b|anzeigen (schreiben|texten)"
        r"|neue texte|anzeigenvariante",
        ("propose_creative_variants",),
    ),
    (
        r"(new|more|create|add|suggest|propose|missing)\b.*\bad ?groups?|uncovered|expand|new keywords"
        r"|keyword (gaps?|ideas|opportunit)|missing keywords|ad ?group (ideas|suggestions)"
        r"|neuen? anzeigengruppen?|anzeigengruppen? (anlegen|erstellen|hinzufügen)|neue keywords|fehlende keywords"
        r"|keyword.?lücken",
        ("propose_ad_groups",),
    ),
    (
        r"theme|cluster|topics|buckets|group\w*\b.*\b(quer|search|terms)|categori[sz]e|themen|gruppier|kategori",
        ("cluster_search_queries",),
    ),
    (
        r"\bintent|absicht|suchintention|\b(competitor|job|brand|free|diy|informational)s?( and \w+)? "
        r"(searches|queries|traffic|terms)|(wettbewerber|konkurrenz|marken|job)\w*[- ]?(suchen|anfragen|begriffe)",
        ("classify_search_intent",),
    ),
    (
        r"(budget|pacing|pace|overspend|underspend|month.end).*(fix|change|adjust|propos|should|increase|lower|raise"
        r"|reallocat|rebalanc|shift|move|recommend|suggest|anpass|änder|erhöh|senk|vorschl|umschicht|schichte|verschieb|empfehl)"
        r"|(fix|change|adjust|propos|increase|lower|raise|reallocat|rebalanc|shift|move|recommend|suggest|anpass"
        r"|änder|erhöh|senk|\bpasse|korrigier|optimier|verschieb|umschicht|schichte|empfehl).*(budget|pacing)",
        ("budgets_and_pacing", "propose_budget_changes"),
    ),
    (
        r"budget|pacing|pace|overspend|underspend|month.end|on track|forecast|projected|projection|ausgaben"
        r"|monatsende|im plan|im rahmen|hochrechnung|prognose|überzieh|ausgeschöpft",
        ("budgets_and_pacing",),
    ),
    (
        r"search terms?|quer(y|ies)|\bterms\b|search(ing|ed) for|people (type|typed|search|look)|triggered"
        r"|what (did )?(people|users|customers) (search|type|look)|suchbegriff|suchanfrage|begriffe|wonach \w*\s?such"
        r"|gesucht|suchen die (leute|nutzer|kunden)|" + NO_CONVERSIONS,
        ("search_terms",),
    ),
    (r"campaign|kampagne|performance|leistung|\broas\b|best.performing|top.performing", ("campaign_performance",)),
)
WINDOWS: tuple[tuple[str, str], ...] = (
    (r"last month|previous month|letzten monat|vormonat|vorigen monat", "last_month"),
    (
        r"this month|month to date|mtd|so far this month|diesen monat|dieses monats|dieser monat|im monat|monat bisher"
        r"|seit monatsanfang|laufenden monat",
        "this_month",
    ),
    (r"(last|past) (7 days|week|seven days)|letzten? (7 tage|woche|sieben tage)|vergangene woche", "last_7_days"),
    (r"(last|past) (30 days|thirty days|four weeks)|letzten (30|dreißig) tage(n)?|letzten vier wochen", "last_30_days"),
    (r"90 days|quarter|(3|three) months|90 tage|quartal|(3|drei) monate", "last_90_days"),
)
# A name as typed: after "campaign"/"Kampagne" up to the end of the clause, or between "the" and "campaign".
_TYPED = r"[\"'“„]?([^\"'”“?!.,;]+)"
CAMPAIGN = re.compile(r"(?:in|for|of|im|in der|für die|der) (?:the )?(?:campaign|kampagne)\s+" + _TYPED, re.IGNORECASE)
CAMPAIGN_BEFORE = re.compile(r"\bthe\s+[\"'“]?((?:[\w'’&|-]+\s+){0,3}?[\w'’&|-]+)[\"'”]?\s+campaign\b", re.I)
AD_GROUP = re.compile(
    r"(?:in|for|of|im|in der|für die|der) (?:the )?(?:ad ?group|anzeigengruppe)\s+" + _TYPED, re.IGNORECASE
)
AD_GROUP_BEFORE = re.compile(r"\bthe\s+[\"'“]?((?:[\w'’&|-]+\s+){0,3}?[\w'’&|-]+)[\"'”]?\s+ad ?group\b", re.I)
CONTAINS = re.compile(
    r"(?:contain(?:s|ing)?|with the word|including|mit dem wort)\s+[\"'“„]?([^\"'”“\s?!.,]+)"
    r"|[\"'“„]([^\"'”“]+)[\"'”“]\s+(?:enthalten|enthält)",
    re.IGNORECASE,
)
ACT = re.compile(
    r"\b(apply|approve|accept|reject|decline|discard|go with|genehmig\w*|freigeben|gib\b.{0,30}\bfrei"
    r"|übernehm\w*|anwenden|wende|umsetzen|setze|annehmen|nimm|ablehn\w*|lehne|verwerf\w*)\b",
    re.IGNORECASE,
)
REJECT = re.compile(r"reject|decline|discard|ablehn|lehne|verwerf", re.IGNORECASE)
WHY = re.compile(
    r"^\s*(why|warum|wieso|weshalb)\b|\bexplain\b|\bwhat is the reason|\breasoning\b|erklär|begründ", re.IGNORECASE
)
HELP = re.compile(
    r"^\s*(help|hilfe|\?|what can (you|i) (do|ask)|how do i use|was kannst du|was kann ich (dich )?fragen"
    r"|wie funktionierst du)\b",
    re.IGNORECASE,
)
THANKS = re.compile(
    r"^\s*(thanks?( you)?|thx|cheers|great|perfect|that'?s all|danke( schön| sehr)?|vielen dank|super|prima"
    r"|das war'?s)\b[\s,.!]*(that'?s (all|it)|for now|das war'?s|erstmal)?[\s,.!]*$",
    re.IGNORECASE,
)
SWITCH = re.compile(
    r"(what about|how about|and (for|on)|switch to|(?:the )?same (?:for|on)|wechsel\w* (zu|auf)"
    r"|wechsle (?:zu|zum|zur|auf|ins)|und (bei|für|auf)|was ist mit|wie sieht es)"
    r"\s+(?:the\s+|dem\s+|das\s+)?(?:account\s+|konto\s+)?[\"']?"
    r"(meta|facebook|instagram|google(?: ads)?|[\w:-]+:[\w:-]+)",
    re.IGNORECASE,
)
CHANGES = re.compile(
    r"what changed|what (was|were|has|have) (been )?changed|been changed|change ?log|recent changes"
    r"|(show|list|see)\w*( me)?( the| all)? (recent |latest )?changes\b(?! to)|changes (from|in|of|over|since|made)"
    r"\b.*\b(days?|weeks?|yesterday|today|so far)|what did (you|we|adpilot) (change|apply)|what was applied"
    r"|change history|geändert|änderungen|änderungsprotokoll|was hat sich|was wurde angewendet",
    re.IGNORECASE,
)
CHANGE_ID = re.compile(r"\b[0-9a-f]{10,64}\b")
ORDINALS = {
    "first": 0, "1st": 0, "erste": 0, "ersten": 0, "second": 1, "2nd": 1, "zweite": 1, "zweiten": 1,
    "third": 2, "3rd": 2, "dritte": 2, "dritten": 2, "last": -1, "letzte": -1, "letzten": -1,
}  # fmt: skip
NUMBERS = {"three": 3, "drei": 3, "four": 4, "vier": 4, "five": 5, "fünf": 5, "six": 6, "sechs": 6, "ten": 10}
THOSE_TERMS = re.compile(
    r"\b(those|these|the same) (search )?(terms|queries)\b|\bof (those|these|them)\b|diese(n)? (such)?begriffe"
    r"|\bdavon\b",
    re.I,
)
# A follow-up that only changes the period ("and last month?", "und im letzten Monat?") repeats the last question.
WINDOW_ONLY = re.compile(r"^\s*(and|und|what about|how about|was ist mit|wie war'?s|now|jetzt)\b", re.IGNORECASE)


def last_human(messages: Sequence[BaseMessage]) -> int:
    """The index of the person's last message, -1 when there is none."""
    return max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)


def this_turn(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The messages since the person's last message: this turn's tool calls, results and answers."""
    return list(messages[last_human(messages) + 1 :])


def thread_of(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    """The conversation's memory the chat graph hands the model as its `<data label="thread">` block."""
    for message in messages:
        text = str(message.content)
        if isinstance(message, SystemMessage) and '<data label="thread" rows="1">' in text:
            return dict(json.loads(text.split('<data label="thread" rows="1">', 1)[1].splitlines()[1]))
    return {}


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}


def _ordinal(text: str) -> int | None:
    match = re.search(r"\b(" + "|".join(ORDINALS) + r")\b|#(\d+)|\bnumber (\d+)|\bnr\.? ?(\d+)", text)
    if not match:
        return None
    if match.group(1):
        return ORDINALS[match.group(1)]
    return int(next(g for g in match.groups()[1:] if g)) - 1


def _change_ref(request: str, thread: dict[str, Any]) -> str | None:
    """The change a request refers to: an id typed out, an ordinal of the changes shown, "that negative" (the last
    negative shown), or "it" (the one the conversation is about)."""
    text = request.casefold()
    if match := CHANGE_ID.search(text):
        return match.group(0)
    shown = thread.get("shown", {}).get("change", [])
    index = _ordinal(text)
    if index is not None:
        return shown[index]["name"] if -len(shown) <= index < len(shown) else None
    if re.search(r"negative", text):
        negatives = [c for c in shown if c["line"].startswith("Add ") and "negative" in c["line"]]
        if negatives:
            return negatives[-1]["name"]
    return thread.get("focus") or (shown[0]["name"] if len(shown) == 1 else None)


def _core(name: str) -> str:
    """A campaign's own name without its network or funnel prefix: "Search | Tents" → "Tents"."""
    return re.split(r"\s+[|:]\s+|\s+-\s+", name)[-1]


def _mentioned(names: Sequence[str], text: str) -> str | None:
    """The longest of the account's names (or a campaign's core name) the text holds as words, spelling slips
    allowed only when nothing is written exactly ("Men's Rain Jackets" is not "Women's Rain Jackets")."""
    folded = text.casefold()
    spellings = sorted(
        ((spelling, name) for name in names for spelling in {name, _core(name)}), key=lambda p: -len(p[0])
    )
    for spelling, name in spellings:
        if len(spelling) >= 4 and re.search(r"(?<![\w'’])" + re.escape(spelling.casefold()) + r"(?![\w'’])", folded):
            return name
    for spelling, name in spellings:
        if len(spelling) >= 5 and fuzz.partial_ratio(spelling.casefold(), folded) >= 92:
            return name
    return None


def _resolve(typed: str, names: Sequence[str], *, name_first: bool) -> str:
    """A name as typed after "campaign X…" (`name_first`: the rest of the clause may follow) or before
    "… X campaign": the account's name it starts (or ends) with, or the one name that holds it ("Daypack"), else
    the typed name itself, which the tool refuses with the closest names ("Generic - Tents" is not "Search | Tents",
    nor "Four Seasons Tentz" "Four Season Tents": a slip is asked about, not guessed)."""
    words = typed.split()
    for n in range(len(words), 0, -1):
        part = " ".join(words[:n] if name_first else words[-n:]).casefold()
        exact = [name for name in names if part in (name.casefold(), _core(name).casefold())]
        holding = [name for name in names if n == len(words) and len(part) >= 4 and part in name.casefold()]
        if exact or len(holding) == 1:
            return (exact or holding)[0]
    return " ".join(words[:4]) if name_first else typed


def _typed(request: str, after: re.Pattern[str], before: re.Pattern[str]) -> tuple[str, bool] | None:
    if match := after.search(request):
        return match.group(1).strip(), True
    if match := before.search(request):
        return match.group(1).strip(), False
    return None


def _scope(request: str, thread: dict[str, Any]) -> dict[str, str]:
    """The campaign and ad group a request names: after or before "campaign"/"ad group" as typed (resolved to the
    account's name when it is one or a slip of one, else left for the tool to refuse), else the shown campaign or a
    name of the account that the request mentions."""
    campaigns, ad_groups = thread.get("campaigns", []), thread.get("ad_groups", [])
    scope: dict[str, str] = {}
    if typed := _typed(request, CAMPAIGN, CAMPAIGN_BEFORE):
        named = _resolve(typed[0], campaigns, name_first=typed[1])
        shown = [c["name"] for c in thread.get("shown", {}).get("campaign", [])]
        scope["campaign"] = next((c for c in shown if named.casefold() in c.casefold()), named)
    if typed := _typed(request, AD_GROUP, AD_GROUP_BEFORE):
        scope["ad_group"] = _resolve(typed[0], ad_groups, name_first=typed[1])
    if not scope and (name := _mentioned([*ad_groups, *campaigns], request)):
        scope["ad_group" if name in ad_groups else "campaign"] = name
    if (index := _ordinal(request.casefold())) is not None and re.search(r"campaign|kampagne", request, re.I):
        shown = thread.get("shown", {}).get("campaign", [])
        if -len(shown) <= index < len(shown):
            scope["campaign"] = shown[index]["name"]
    return scope


def plan(
    request: str, available: Sequence[str], thread: dict[str, Any] | None = None, *, window: str | None = None
) -> list[dict[str, Any]]:
    """Tool calls for a request, using only tools in `available`; `thread` is the conversation's memory, `window`
    a period the person named in a follow-up."""
    thread = thread or {}
    text = request.casefold()
    names: list[str] = []
    for pattern, tools in INTENTS:
        if re.search(pattern, text):
            names.extend(t for t in tools if t not in names)
            break
    names = [n for n in names if n in available] or [n for n in ("account_overview",) if n in available]
    window = window or next((w for pattern, w in WINDOWS if re.search(pattern, text)), None)
    scope = _scope(request, thread)
    if THOSE_TERMS.search(request) and thread.get("search"):
        scope = {k: v for k, v in thread["search"].items() if k in ("campaign", "ad_group")} | scope
        window = window or thread["search"].get("window")
    calls = []
    for name in names:
        args: dict[str, Any] = {}
        if window and name not in ("budgets_and_pacing", "propose_budget_changes", "propose_creative_variants"):
            args["window"] = window
        if name == "search_terms":
            args |= scope
            if contains := CONTAINS.search(request):
                args["contains"] = next(g for g in contains.groups() if g).strip()
            if re.search(NO_CONVERSIONS, text) or "mine_negative_keywords" in names:
                args["without_conversions"] = True
        if name == "mine_negative_keywords" and "campaign" in scope:
            args["campaign"] = scope["campaign"]
        if name == "propose_creative_variants":
            if "ad_group" in scope:
                args["ad_group"] = scope["ad_group"]
            count = re.search(
                r"\b(\d+|" + "|".join(NUMBERS) + r")\s+(?:new\s+|neue\s+)?(headlines|überschriften|anzeigentitel)",
                text,
            )
            if count:
                args["count"] = min(15, max(3, int(NUMBERS.get(count.group(1)) or count.group(1))))
        calls.append(_call(name, args))
    return calls


def _previous_question(earlier: Sequence[str]) -> str | None:
    """The person's last question before this message that asked for something (not a yes, an answer or a why)."""
    questions = [q for q in earlier if not (SWITCH.search(q) or ACT.search(q) or WHY.search(q) or says_yes(q))]
    return questions[-1] if questions else None


def converse(
    request: str, available: Sequence[str], thread: dict[str, Any], earlier: Sequence[str] = ()
) -> list[dict[str, Any]] | str:
    """The conversational turns before the intent table: help, thanks, a yes or no to a pending answer, acting on a
    proposal, "why?", another account, the change log, the last question again for another period (`earlier`: the
    person's earlier messages). A reply (str) when a reference resolves to nothing or nothing is asked."""
    language = thread.get("language", "en")
    confirm = thread.get("confirm")
    if HELP.search(request):
        return [_call("help", {})]
    if THANKS.match(request):
        return say(language, "welcome")
    if confirm and says_yes(request):
        note = {"note": confirm["note"]} if confirm.get("note") else {}
        return [_call("answer_proposal", {"change": confirm["id"], "action": confirm["action"], **note})]
    if confirm and says_no(request):
        return say(language, "left_as_is", change=confirm["id"])
    if ACT.search(request):
        ref = _change_ref(request, thread)
        if ref is None:
            return say(language, "which_change")
        action = "reject" if REJECT.search(request) else "approve"
        said = re.split(r",|:|\bbecause\b|\bweil\b|\bsince\b", request, maxsplit=1)
        args = {"change": ref, "action": action} | (
            {"note": said[1].strip()} if len(said) > 1 and said[1].strip() else {}
        )
        return [_call("answer_proposal", args)]
    if WHY.search(request):
        has_ref = CHANGE_ID.search(request.casefold()) or _ordinal(request.casefold()) is not None
        return [_call("explain_proposal", {"change": _change_ref(request, thread) if has_ref else None})]
    if match := SWITCH.search(request):
        return [_call("switch_account", {"account": match.group(match.lastindex or 0)})]
    if CHANGES.search(request):
        today = dt.date.fromisoformat(thread["today"]) if thread.get("today") else dt.date.today()
        text = request.casefold()
        if "yesterday" in text or "gestern" in text:
            return [_call("recent_changes", {"since": (today - dt.timedelta(days=1)).isoformat()})]
        if "today" in text or "heute" in text:
            return [_call("recent_changes", {"since": today.isoformat()})]
        days = re.search(r"(\d+) (days|tage)", text)
        return [_call("recent_changes", {"days": int(days.group(1))} if days else {})]
    text = request.casefold()
    window = next((w for pattern, w in WINDOWS if re.search(pattern, text)), None)
    previous = _previous_question(earlier)
    if window and previous and WINDOW_ONLY.match(request) and not any(re.search(p, text) for p, _ in INTENTS):
        return plan(previous, available, thread, window=window)
    return plan(request, available, thread)


MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "found": "Here is what I found:",
        "proposed": "I proposed {n} change(s):",
        "gate": 'Nothing proposed in a chat is applied until you approve it (say "apply the first one", or '
        "`adpilot approvals list`); the policy gate decides again then, and blocks what is outside the policy.",
        "failed": "Some tools could not run: {errors}",
        "nothing": "I could not find anything to report for that request.",
        "more": "… and {n} more.",
        "confirm": 'Shall I {action} change {change} ({summary})? Say "yes" to confirm or "no" to leave it.',
        "approve": "approve",
        "reject": "reject",
        "left_as_is": "OK, I left change {change} as it is.",
        "which_change": "Which change do you mean? I have not shown a proposal it could refer to; "
        "name its id (see `adpilot approvals list`).",
        "answered": "Done: {summary}",
        "help": "You can ask me, for example:",
        "welcome": "You're welcome. Ask me anything else about the account, or type quit to leave.",
        "english_note": "",
    },
    "de": {
        "found": "Das habe ich gefunden:",
        "proposed": "Ich habe {n} Änderung(en) vorgeschlagen:",
        "gate": 'Was im Chat vorgeschlagen wird, wird erst nach Ihrer Freigabe angewendet (sagen Sie "genehmige die '
        'erste"); die Richtlinienprüfung entscheidet dann erneut und blockiert, was außerhalb der Richtlinie liegt.',
        "failed": "Einige Werkzeuge konnten nicht laufen: {errors}",
        "nothing": "Dazu habe ich nichts gefunden.",
        "more": "… und {n} weitere.",
        "confirm": 'Soll ich Änderung {change} {action} ({summary})? Antworten Sie "ja" zum Bestätigen oder '
        '"nein", um sie so zu lassen.',
        "approve": "genehmigen",
        "reject": "ablehnen",
        "left_as_is": "In Ordnung, Änderung {change} bleibt, wie sie ist.",
        "which_change": "Welche Änderung meinen Sie? Ich habe noch keinen Vorschlag gezeigt, auf den sich das "
        "beziehen kann; nennen Sie ihre ID (siehe `adpilot approvals list`).",
        "answered": "Erledigt: {summary}",
        "help": "Sie können mich zum Beispiel fragen:",
        "welcome": "Gern geschehen. Fragen Sie mich gern noch etwas zum Konto, oder tippen Sie quit zum Beenden.",
        "english_note": "(Die Auswertungen der Werkzeuge sind auf Englisch.)",
    },
}
HELP_EXAMPLES = {
    "en": (
        "which search terms are wasting money in campaign Search | Tents?",
        "show search terms for ad group Four Season Tents",
        "group last month's queries into themes",
        "what new ad groups should I create?",
        "write 3 new headlines for Four Season Tents",
        "are my budgets on track this month?",
        "how did my campaigns do last month?",
        "what changed yesterday?",
        "what about Meta?",
        "apply the first one / reject it, too broad / why?",
    ),
    "de": (
        "Welche Suchbegriffe verschwenden Geld in der Kampagne Search | Tents?",
        "Zeige die Suchbegriffe der Anzeigengruppe Four Season Tents",
        "Gruppiere die Suchanfragen vom letzten Monat in Themen",
        "Welche neuen Anzeigengruppen soll ich anlegen?",
        "Schreibe 3 neue Überschriften für Four Season Tents",
        "Liegen meine Budgets diesen Monat im Plan?",
        "Wie liefen meine Kampagnen letzten Monat?",
        "Was wurde gestern geändert?",
        "Was ist mit Meta?",
        "Genehmige die erste / lehne sie ab, zu breit / warum?",
    ),
}


def say(language: str, key: str, **values: Any) -> str:
    return MESSAGES.get(language, MESSAGES["en"])[key].format(**values)


def answer(results: Sequence[ToolMessage], language: str = "en") -> str:
    """A reply built from the tools' screened summaries, the items they show and the proposals, framed in the
    person's language (the tools' own summaries are English)."""
    lines: list[str] = []
    proposals: list[dict[str, Any]] = []
    failed = []
    for message in results:
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        if message.status == "error":
            failed.append(f"{message.name}: {str(message.content)[:200]}")
            continue
        if confirm := artifact.get("confirm"):
            action = say(language, confirm["action"])
            lines.append(say(language, "confirm", action=action, change=confirm["id"], summary=confirm["summary"]))
            continue
        if answered := artifact.get("answered"):
            lines.append(say(language, "answered", summary=answered["summary"]))
            continue
        if artifact.get("help"):
            lines += [say(language, "help"), *(f"  • {e}" for e in HELP_EXAMPLES.get(language, HELP_EXAMPLES["en"]))]
            continue
        summary = str(artifact.get("summary", ""))
        if summary and f"- {summary}" not in lines:  # two tools refusing one name say it once
            lines.append(f"- {summary}")
        shown = [i for i in artifact.get("shown", []) if i["line"] not in summary]  # not what the summary lists
        lines += [f"  {n}. {i['line']}" for n, i in enumerate(shown[:SHOWN_IN_REPLY], 1)]
        if len(shown) > SHOWN_IN_REPLY:
            lines.append("  " + say(language, "more", n=len(shown) - SHOWN_IN_REPLY))
        proposals += artifact.get("listed", [])
    parts = [say(language, "found"), *lines] if any(line.startswith("- ") for line in lines) else lines
    if proposals:
        parts.append(say(language, "proposed", n=len(proposals)))
        parts += [f"  {n}. {p['line']} (change {p['name']})" for n, p in enumerate(proposals, 1)]
        parts.append(say(language, "gate"))
    if failed:
        parts.append(say(language, "failed", errors="; ".join(failed)))
    if parts and language != "en" and say(language, "english_note"):
        parts.append(say(language, "english_note"))
    return "\n".join(parts) or say(language, "nothing")


SHOWN_IN_REPLY = 25


class OfflinePlanner(BaseChatModel):
    """Deterministic `BaseChatModel` with tool calling; used when no model API is configured."""

    model_name: str = "adpilot-offline-planner"  # traces name the model like any other
    tool_names: tuple[str, ...] = ()

    @property
    def _llm_type(self) -> str:
        return "adpilot-offline-planner"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,  # the planner picks its tools itself
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        names = tuple(convert_to_openai_tool(t)["function"]["name"] for t in tools)
        return self.model_copy(update={"tool_names": names})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        human = last_human(messages)
        tool_results = [m for m in this_turn(messages) if isinstance(m, ToolMessage)]
        thread = thread_of(messages)
        language = thread.get("language", "en")
        earlier = [str(m.content) for m in messages[:human] if isinstance(m, HumanMessage)]
        if human >= 0 and not tool_results:
            planned = converse(str(messages[human].content), self.tool_names, thread, earlier)
            message = AIMessage(content=planned) if isinstance(planned, str) else AIMessage("", tool_calls=planned)
        elif (replan := self._after_switch(str(messages[human].content), earlier, tool_results, thread)) is not None:
            message = AIMessage(content="", tool_calls=replan)
        else:
            message = AIMessage(content=answer(tool_results, language))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _after_switch(
        self, request: str, earlier: list[str], results: list[ToolMessage], thread: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        """After "what about Meta?" switched accounts: the previous question again, on the new account."""
        if len(results) != 1 or results[0].name != "switch_account":
            return None
        artifact = results[0].artifact if isinstance(results[0].artifact, dict) else {}
        if not artifact.get("switched"):
            return None
        rest = SWITCH.sub("", request)
        if any(re.search(pattern, rest.casefold()) for pattern, _ in INTENTS):
            return plan(rest, self.tool_names, thread)
        previous = _previous_question(earlier)
        again = converse(previous, self.tool_names, thread) if previous else []
        return again if isinstance(again, list) and again else plan("", self.tool_names, thread)
