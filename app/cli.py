"""The `adpilot` command line (Typer + Rich). Every command takes --json for scripts."""

from __future__ import annotations

import json
import signal
import sys
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from ads.changes import AddNegativeKeywords, CreateSharedNegativeList
from ads.errors import AdpilotError
from ads.statuses import APPLIED_STATUSES
from app.settings import load_settings
from ops.proposal_rows import proposal_rows
from sandbox import GOOGLE_ACCOUNT as SANDBOX_ACCOUNT

if TYPE_CHECKING:
    from app.session import RunOutcome, Session

console = Console()
errors = Console(stderr=True)

CONTROL_CHARACTERS = dict.fromkeys([*range(32), 127])
AUDIT_STEPS = ("load_account", "search_terms", "creatives", "pacing", "gate", "apply_auto", "write_report")


class AdpilotGroup(TyperGroup):
    """Shows a user's error as one line on stderr and exits 1, whatever the command."""

    # typer's TyperGroup.invoke is typed with its private vendored click Context, the base of typer.Context
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except AdpilotError as error:
            # The message may quote a stranger's text (a field of an imported file): escaped, never read as markup.
            errors.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(error.exit_code) from None


app = typer.Typer(
    cls=AdpilotGroup,
    no_args_is_help=True,
    add_completion=False,
    help="adpilot: audits Google Ads and Meta accounts and proposes changes a policy gate controls.",
)
approvals_app = typer.Typer(cls=AdpilotGroup, no_args_is_help=True, help="Changes waiting for a person.")
changes_app = typer.Typer(cls=AdpilotGroup, help="The change log (`adpilot changes` shows it).")
sandbox_app = typer.Typer(cls=AdpilotGroup, no_args_is_help=True, help="The offline sandbox accounts.")
import_app = typer.Typer(cls=AdpilotGroup, no_args_is_help=True, help="Import reports exported from the platforms.")
search_terms_app = typer.Typer(cls=AdpilotGroup, no_args_is_help=True, help="Search-term analyses.")
app.add_typer(approvals_app, name="approvals")
app.add_typer(changes_app, name="changes")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(import_app, name="import")
app.add_typer(search_terms_app, name="search-terms")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AccountOption = Annotated[str, typer.Option("--account", "-a", help="Account name, e.g. sandbox:trailhead.")]


def _session() -> Session:
    # Imported here: the graphs, analyses and SDKs take seconds to load, and `--help` needs none of them.
    from app.session import Session

    return Session(load_settings())


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _model_line(session: Session) -> None:
    console.print(f"[dim]model: {session.model.label} · traces: {session.tracing.destination}[/]")


def _run_with_progress(label: str, steps: tuple[str, ...], run: Any, quiet: bool) -> RunOutcome:
    if quiet:
        return run(None)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=len(steps))

        def on_step(node: str) -> None:
            progress.update(task, advance=1, description=f"{label}: {node.replace('_', ' ')} done")

        return run(on_step)


def _proposal_table(rows: list[dict[str, Any]], title: str) -> Table:
    # Summaries and reasons hold search terms and names typed by strangers: masked, and escaped, never markup.
    from policies.screening import mask_sensitive

    rows = mask_sensitive(rows)
    table = Table(title=escape(title), show_lines=True, expand=True)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("change", ratio=3, overflow="fold")
    table.add_column("gate", ratio=2, overflow="fold")
    table.add_column("status", ratio=1, overflow="fold")
    colours = {"auto_apply": "green", "needs_approval": "yellow", "blocked": "red"}
    for r in rows:
        colour = colours.get(r["decision"], "white")
        table.add_row(
            r["id"],
            escape(r["summary"]),
            f"[{colour}]{r['decision'].replace('_', ' ')}[/]: [dim]{escape(r['reason'])}[/]",
            r["status"].replace("_", " ") + (f"\n[dim]{escape(r['message'])}[/]" if r["message"] else ""),
        )
    return table


def _audit_document(session: Session, outcome: RunOutcome) -> dict[str, Any]:
    """A run's proposals as `--json` prints them, with secrets and personal data masked."""
    from policies.screening import mask_sensitive

    account = session.open_account(outcome.values["account"]).account
    rows = mask_sensitive(proposal_rows(outcome.values, account.money))
    return {
        "model": session.model.label,
        "account": account.name,
        "thread": outcome.thread_id,
        "proposals": [
            {k: r[k] for k in ("id", "hash", "kind", "decision", "rule", "reason", "summary", "status", "change")}
            for r in rows
        ],
        "applied": [r["id"] for r in rows if r["status"] in APPLIED_STATUSES],
        "pending": [r["id"] for r in rows if r["status"] == "pending"],
        "blocked": [r["id"] for r in rows if r["decision"] == "blocked"],
        "failed": [r["id"] for r in rows if r["status"] == "failed"],
        "report": outcome.values.get("report", {}).get("html"),
        "notices": outcome.values.get("findings", {}).get("search_terms", {}).get("notices", []),
        # Proposals not made again: already in the account, or rejected and cooling off.
        "left_out": mask_sensitive(
            [line for finding in outcome.values.get("findings", {}).values() for line in finding.get("left_out", [])]
        ),
    }


def _audit(account: str, as_json: bool, *, demo: bool) -> None:
    session = _session()
    created = session.ensure_sandbox() if demo else False
    if not as_json:
        _model_line(session)
        if created:
            console.print(f"Created the sandbox accounts in {session.settings.sandbox_path}.")
    outcome = _run_with_progress(f"Auditing {account}", AUDIT_STEPS, lambda step: session.audit(account, step), as_json)
    document = _show_run(session, outcome, "Proposals for {account}", as_json)
    if not as_json:
        _print_notices(document["notices"])
        console.print(f"Report: {document['report']}")


def _print_notices(notices: list[str]) -> None:
    for notice in notices:
        console.print(f"[yellow]Note:[/] {escape(notice)}")


def _show_run(session: Session, outcome: RunOutcome, title: str, as_json: bool) -> dict[str, Any]:
    """Print a run's proposals (a table, or the JSON document) and return the document."""
    document = _audit_document(session, outcome)
    if as_json:
        _print_json(document)
        return document
    account = session.open_account(document["account"]).account
    console.print(
        _proposal_table(proposal_rows(outcome.values, account.money), title.format(account=account.display_name))
    )
    console.print(
        f"[green]{len(document['applied'])} applied[/] · [yellow]{len(document['pending'])} waiting for approval[/] · "
        f"[red]{len(document['blocked'])} blocked[/]"
        + (f" · [red]{len(document['failed'])} failed[/]" if document["failed"] else "")
    )
    for line in document["left_out"]:
        console.print(f"[dim]Not proposed again: {escape(line)}[/]", highlight=False)
    if document["pending"]:
        console.print(
            "Review them with [bold]adpilot approvals list[/], then "
            "[bold]adpilot approvals approve ID[/] or [bold]adpilot approvals reject ID --reason TEXT[/]."
        )
    return document


@app.command()
def demo(as_json: JsonFlag = False) -> None:
    """The main job, offline: create the sandbox if missing, audit it, show the proposals and the report."""
    _audit(SANDBOX_ACCOUNT, as_json, demo=True)


@app.command()
def audit(account: AccountOption = SANDBOX_ACCOUNT, as_json: JsonFlag = False) -> None:
    """Audit an account: analyse, gate every proposal, apply what policy allows, hold the rest for approval."""
    _audit(account, as_json, demo=False)


@app.command()
def chat(
    account: AccountOption = SANDBOX_ACCOUNT,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Answer this one message and exit.")] = None,
    thread: Annotated[str | None, typer.Option("--thread", help="Continue this conversation.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Talk to the assistant about an account, in English or German. Without --message it is a multi-turn REPL
    (quit, exit or Ctrl-D leaves)."""
    session = _session()
    if not as_json:
        _model_line(session)

    def turn(text: str, thread_id: str | None) -> str:
        with console.status("thinking…", spinner="dots") if not as_json else nullcontext():
            outcome = session.chat(account, text, thread_id)
        acct = session.open_account(outcome.values["account"]).account
        rows = [r for r in proposal_rows(outcome.values, acct.money)]
        if as_json:
            _print_json(
                {
                    "model": session.model.label,
                    "thread": outcome.thread_id,
                    "reply": outcome.reply,
                    "proposals": [
                        {k: r[k] for k in ("id", "kind", "decision", "rule", "summary", "status")} for r in rows
                    ],
                    "tool_calls": outcome.tool_calls,
                    "language": outcome.values.get("language", "en"),
                }
            )
        else:
            console.print(f"[bold]adpilot[/]: {escape(outcome.reply)}", highlight=False)
            if rows:
                console.print(_proposal_table(rows, "Proposals in this conversation"))
            console.print(f"[dim]thread: {outcome.thread_id}[/]")
        return outcome.thread_id

    if message is not None:
        turn(message, thread)
        return
    console.print(
        "Hello! Ask about search terms, negatives, themes, ad groups, ad copy, budgets, campaigns or what changed, "
        'in English or German ("help" lists examples). Type quit or exit, or press Ctrl-D, to leave.'
    )
    while True:
        try:
            text = console.input("[bold cyan]you[/]: ") if sys.stdin.isatty() else sys.stdin.readline()
        except (EOFError, KeyboardInterrupt):
            text = ""
        if not text or text.strip().casefold() in ("quit", "exit", ":q", "bye", "tschüss"):
            console.print("Bye.")
            return
        if text.strip():
            thread = turn(text.strip(), thread)


@app.command("eval")
def eval_command(
    model: Annotated[
        str, typer.Option("--model", help="offline (the deterministic planner) or configured (OPENAI_* settings).")
    ] = "offline",
    sets: Annotated[
        list[Path] | None, typer.Option("--set", help="A golden set file (repeatable); default: evals/'s sets.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run the golden set through the chat and score it; exits 1 below a threshold in evals/thresholds.yaml."""
    from agents.models import ModelChoice, select_model
    from app.evaluation import DEFAULT_SETS, report_document, run_eval, write_reports
    from ops.tracing import configure_tracing

    settings = load_settings()
    if model not in ("offline", "configured"):
        raise AdpilotError(f"--model: '{model}' is neither 'offline' nor 'configured'")
    if model == "configured" and not settings.openai_api_key:
        raise AdpilotError("--model configured: no model is configured (set OPENAI_API_KEY, and OPENAI_BASE_URL)")
    choice: ModelChoice = select_model(
        api_key=settings.openai_api_key if model == "configured" else None,
        base_url=settings.openai_base_url,
        model_name=settings.openai_model,
    )
    tracing = configure_tracing(
        settings.home,
        public_key=settings.langfuse_public_key,
        secret_key=settings.langfuse_secret_key,
        base_url=settings.langfuse_base_url,
    )
    langfuse = bool(settings.langfuse_public_key and settings.langfuse_secret_key)
    if not as_json:
        console.print(f"[dim]model: {choice.label} · traces: {tracing.destination}[/]")
    with console.status("evaluating", spinner="dots") if not as_json else nullcontext() as status:

        def on_item(result: Any) -> None:
            if status is not None:
                status.update(f"evaluating: {result.part} {result.id} {'ok' if result.success else 'failed'}")

        run = run_eval(settings, choice, tracing, list(sets or DEFAULT_SETS), langfuse=langfuse, on_item=on_item)
    paths = write_reports(run, settings.home / "evals")
    if as_json:
        _print_json(report_document(run, paths))
    else:
        table = Table(title=f"adpilot eval ({escape(run.model)})")
        columns = ("part", "items", "task_success", "tool_precision", "tool_recall", "fact_accuracy")
        for column in (*columns, "tokens in/out", "p50/p95 s", "cost/correct"):
            table.add_column(column)
        for part in run.parts:
            per_correct = part.cost_per_correct_usd
            table.add_row(
                part.part,
                str(part.items),
                *(f"{getattr(part, c):.3f}" for c in columns[2:]),
                f"{part.tokens_in:,}/{part.tokens_out:,}",
                f"{part.latency_p50:.2f}/{part.latency_p95:.2f}",
                "n/a" if per_correct is None else f"${per_correct:.4f}",
            )
        console.print(table)
        for part in run.parts:
            kinds = ", ".join(f"{k} {n}" for k, n in part.errors.items()) or "none"
            console.print(f"[dim]{escape(part.part)} errors: {escape(kinds)}[/]", highlight=False)
        console.print(f"Reports: {escape(str(paths[1]))} and {escape(str(paths[0]))}", highlight=False)
    for line in run.below_threshold:
        errors.print(f"[bold red]below threshold:[/] {escape(line)}", highlight=False)
    if run.below_threshold:
        raise typer.Exit(1)


KindOption = Annotated[str | None, typer.Option("--kind", help="Only this kind, e.g. add_negative_keywords.")]


@approvals_app.command("list")
def approvals_list(
    account: Annotated[str | None, typer.Option("--account", "-a", help="Only this account.")] = None,
    kind: KindOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Every change waiting for a person, across audits and chats (each once, with its newest evidence)."""
    from policies.screening import mask_sensitive

    session = _session()
    pending = session.pending_approvals(account=account, kind=kind)
    if as_json:
        _print_json(
            [
                {
                    "id": p.change.id,
                    "hash": p.change.hash,
                    "kind": p.change.kind,
                    "account": p.account,
                    "thread": p.thread_id,
                    "summary": mask_sensitive(p.change.summary()),
                    "reason": mask_sensitive(p.decision.get("reason")),
                    "change": mask_sensitive(p.change.model_dump(mode="json")),
                }
                for p in pending
            ]
        )
        return
    if not pending:
        console.print("No changes are waiting for approval.")
        return
    table = Table(title="Waiting for approval")
    for column in ("id", "account", "change", "why it waits"):
        table.add_column(column, overflow="fold")
    for p in pending:
        summary, reason = mask_sensitive(p.change.summary()), mask_sensitive(p.decision.get("reason", ""))
        table.add_row(p.change.id, escape(p.account), escape(summary), escape(reason))
    console.print(table)


def _record_document(record: Any) -> dict[str, Any]:
    """`approvals show --json`: the change in full with where it stands, its versions and its log entries."""
    queued = record.queued
    return {
        "change": record.change.model_dump(mode="json"),
        "status": record.status,
        "decision": queued.decision if queued else None,
        "thread": queued.thread_id if queued else None,
        "versions": [
            v.model_dump(
                mode="json",
                include={
                    "change_id",
                    "change_hash",
                    "thread_id",
                    "proposed_at",
                    "proposed_on",
                    "status",
                    "closed_at",
                    "closed_by",
                    "reason",
                    "replaced_by",
                },
            )
            for v in record.versions
        ],
        "log": [e.model_dump(mode="json", exclude={"change"}) for e in record.entries],
    }


@approvals_app.command("show")
def approvals_show(change_id: str, as_json: JsonFlag = False) -> None:
    """One change on one screen, pending or answered: what it does, why, its evidence, the gate and what became of
    it. --json prints all of it."""
    from ops.proposal_rows import change_lines, state_lines
    from policies.screening import mask_sensitive

    session = _session()
    record = session.change_record(change_id)
    if as_json:
        _print_json(mask_sensitive(_record_document(record)))
        return
    change = record.change
    money = session.open_account(change.account).account.money

    def line(text: str, style: str = "") -> None:
        # Summaries, terms and copy are typed by strangers: masked, and printed as text, never as markup.
        console.print(mask_sensitive(text), style=style, markup=False, highlight=False)

    line(f"{change.summary()}  (id {change.id})", "bold")
    line(_standing(record))
    line(f"Why: {change.rationale}")
    if record.queued is not None:
        decision = record.queued.decision
        line(f"Gate: {decision.get('reason')} ({decision.get('rule')})")
    evidence = change.evidence
    period = f" {evidence.period_start} to {evidence.period_end}" if evidence.period_start else ""
    if evidence.metrics:
        line(f"Evidence{period}: " + " · ".join(evidence.lines(money)))
    for text in change_lines(change, money, limit=6):
        line(f"  {text}")  # wrapped, not cut: a person approves the whole asset and its sources; --json has the rest
    applied = next((e for e in record.entries if e.status in APPLIED_STATUSES and e.after), None)
    if applied is not None:
        line("Read back from the account:")
        for text in state_lines(applied.after, money)[:6]:
            line(f"  {text}")
    console.print(f"[dim]All of it: adpilot approvals show {change.id} --json[/]", highlight=False)


def _standing(record: Any) -> str:
    """Where a change stands, in one line: waiting since when, or what the change log last recorded, by whom."""
    versions = record.versions
    again = f"; proposed {len(versions)} times since {versions[0].proposed_on}" if len(versions) > 1 else ""
    if record.status in ("pending", "being answered") and record.queued is not None:
        waiting = "waiting for a person" if record.status == "pending" else record.status
        return f"Status: {waiting}, proposed {record.queued.proposed_on}{again}"
    entry = next((e for e in record.entries if e.status != "intent"), None)
    if entry is not None:
        by = entry.decided_by.removeprefix("person:")
        note = f": {entry.message}" if entry.message else ""
        when = f"{entry.recorded_at:%Y-%m-%d %H:%M} UTC"
        return f"Status: {entry.status.replace('_', ' ')} by {by} at {when}{note}{again}"
    if record.queued is not None and record.queued.replaced_by:
        return f"Status: proposed again as {record.queued.replaced_by[:10]} with fresh evidence{again}"
    return f"Status: {record.status.replace('_', ' ')}{again}"


def _answer(change_id: str, response: dict[str, Any], reviewer: str, as_json: bool) -> None:
    from ops.proposal_rows import state_lines

    session = _session()
    item, outcome = session.answer(change_id, response, reviewer=reviewer)
    review = outcome.values.get("reviews", {}).get(item.change.hash, {})
    # An edit answers with a new change, which the gate judged again: show what became of that one.
    answered = review.get("replaced_by", item.change.hash)
    result = outcome.values.get("results", {}).get(answered)
    decision = outcome.values.get("decisions", {}).get(answered, {})
    if as_json:
        document = {"id": item.change.id, "review": review, "result": result}
        if answered != item.change.hash:
            document |= {"new_id": answered[:10], "new_hash": answered, "decision": decision}
        _print_json(document)
        return
    if answered != item.change.hash:
        console.print(f"Edited {item.change.id} into a new change {answered[:10]}; the gate decided again:")
        console.print(f"  {decision.get('outcome', '').replace('_', ' ')}: {escape(str(decision.get('reason')))}")
    if result is None:
        if review.get("type") == "reject":
            console.print(f"Rejected {item.change.id}: {escape(item.change.summary())}")
        elif decision.get("outcome") == "needs_approval":
            console.print(f"It waits for approval: [bold]adpilot approvals show {answered[:10]}[/]")
        return
    colour = "green" if result["status"] in APPLIED_STATUSES else "red"
    console.print(f"[{colour}]{result['status'].replace('_', ' ')}[/]: {escape(item.change.summary())}")
    if result.get("message"):
        console.print(f"  {escape(result['message'])}")
    if result.get("after"):
        console.print("  read back from the account:")
        money = session.open_account(item.account).account.money
        for text in state_lines(result["after"], money):
            console.print(f"    {escape(text)}", highlight=False)


def _edit_file(path: Path) -> dict[str, Any]:
    """The fields an EDIT.json replaces; one line naming the file and the position when it does not parse."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AdpilotError(f"{path}: cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise AdpilotError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise AdpilotError(f"{path}: line {error.lineno}, column {error.colno}: {error.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("change"), dict):
        data = data["change"]  # the whole `approvals show --json` document, edited in place
    if not isinstance(data, dict):
        raise AdpilotError(f"{path}: expected a JSON object of the fields to replace, got {type(data).__name__}")
    return {k: v for k, v in data.items() if k not in ("hash", "id")}


@approvals_app.command("approve")
def approvals_approve(
    change_id: str,
    by: Annotated[str, typer.Option("--by", help="Who approves (recorded in the change log).")] = "cli user",
    as_json: JsonFlag = False,
) -> None:
    """Approve a pending change: it is applied through the one apply path and read back."""
    _answer(change_id, {"type": "accept"}, by, as_json)


@approvals_app.command("edit")
def approvals_edit(
    change_id: str,
    file: Annotated[Path, typer.Option("--file", help="EDIT.json: the fields to replace, named as in `show --json`.")],
    by: Annotated[str, typer.Option("--by", help="Who edits (recorded in the change log).")] = "cli user",
    as_json: JsonFlag = False,
) -> None:
    """Edit a pending change: the edit becomes a new change with a new id, and goes through the gate again."""
    _answer(change_id, {"type": "edit", "args": _edit_file(file)}, by, as_json)


@approvals_app.command("reject")
def approvals_reject(
    change_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the change log).")],
    by: Annotated[str, typer.Option("--by")] = "cli user",
    as_json: JsonFlag = False,
) -> None:
    """Reject a pending change, with a reason."""
    _answer(change_id, {"type": "reject", "reason": reason}, by, as_json)


@changes_app.callback(invoke_without_command=True)
def changes_default(ctx: typer.Context) -> None:
    """With no subcommand, show the change log."""
    if ctx.invoked_subcommand is None:
        changes_log(account=None, limit=50, as_json=False)


@changes_app.command("log")
def changes_log(
    account: Annotated[str | None, typer.Option("--account", "-a")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """The append-only change log, newest first."""
    from policies.screening import mask_sensitive

    session = _session()
    entries = session.change_log.entries(account=account, limit=limit)
    # The log keeps the raw text (it is the record of what was applied); what it shows has secrets and PII masked.
    if as_json:
        _print_json(mask_sensitive([e.model_dump(mode="json") for e in entries]))
        return
    if not entries:
        console.print("The change log is empty.")
        return
    table = Table(title="Change log")
    for column in ("#", "when (UTC)", "account", "change", "status", "decided by", "reason / note"):
        table.add_column(column, overflow="fold")
    for e in entries:
        summary = e.parsed_change().summary()
        table.add_row(
            str(e.id),
            f"{e.recorded_at:%Y-%m-%d %H:%M}",
            escape(mask_sensitive(e.account)),
            f"{e.change_id} {escape(mask_sensitive(summary))}",
            e.status,
            escape(mask_sensitive(e.decided_by)),
            escape(mask_sensitive(e.message)),
        )
    console.print(table)


@changes_app.command("rollback")
def changes_rollback(
    entry_id: Annotated[int, typer.Argument(help="The change log entry (#) to undo.")], as_json: JsonFlag = False
) -> None:
    """Propose the inverse of an applied change; it goes through the gate like any other proposal."""
    session = _session()
    _show_run(session, session.rollback(entry_id), f"Rollback of change log entry {entry_id}", as_json)


traces_app = typer.Typer(cls=AdpilotGroup, help="Local traces (when Langfuse is not configured).")
app.add_typer(traces_app, name="traces")


def _money(cost: float | None) -> str:
    return "-" if cost is None else f"${cost:.6f}"


@traces_app.callback(invoke_without_command=True)
def traces(ctx: typer.Context, limit: Annotated[int, typer.Option("--limit")] = 20, as_json: JsonFlag = False) -> None:
    """The newest local traces with each run's model calls: tokens, cost, cache hits (`traces show ID`: one)."""
    if ctx.invoked_subcommand is not None:
        return
    from ops.tracing import list_local_traces

    settings = load_settings()
    found = list_local_traces(settings.home, limit)
    if as_json:
        _print_json([t.model_dump(mode="json") | {"cache_hit_rate": t.cache_hit_rate} for t in found])
        return
    if not found:
        console.print(f"No local traces in {settings.home / 'traces'}.")
        return
    table = Table(title=f"Traces in {settings.home / 'traces'}")
    columns = ("trace id", "run", "started (UTC)", "seconds", "spans", "LLM calls", "tokens in/out", "cost", "cache")
    for column in columns:
        table.add_column(column)
    for t in found:
        rate = t.cache_hit_rate
        table.add_row(
            t.trace_id,
            t.name,
            f"{t.started:%Y-%m-%d %H:%M:%S}",
            f"{t.seconds:.2f}",
            str(t.spans),
            str(t.generations) + (f" ({t.fallbacks} fell back)" if t.fallbacks else ""),
            f"{t.tokens_in:,}/{t.tokens_out:,}",
            _money(t.cost),
            "-" if rate is None else f"{rate:.0%} hits",
        )
    console.print(table)


@traces_app.command("show")
def traces_show(trace_id: str, as_json: JsonFlag = False) -> None:
    """One local trace, span by span: each model call's model, route, tokens, cost, latency and cache hit."""
    from ops.tracing import read_local_trace

    summary, spans = read_local_trace(load_settings().home, trace_id)
    if as_json:
        _print_json({"trace": summary.model_dump(mode="json"), "spans": [s.model_dump(mode="json") for s in spans]})
        return
    table = Table(title=f"Trace {summary.trace_id} ({escape(summary.name)}, {summary.seconds:.2f} s)")
    for column in ("span", "type", "at s", "seconds", "model (route)", "tokens in/out", "cost", "note"):
        table.add_column(column, overflow="fold")
    for s in spans:
        generation = s.type == "generation"
        note = "cache hit" if s.cache_hit else ""
        if s.fallback:
            note = f"fell back: {s.fallback}"
        table.add_row(
            "  " * s.depth + escape(s.name),
            s.type,
            f"{s.offset:.2f}",
            f"{s.seconds:.3f}",
            escape(f"{s.model or '?'} ({s.route or '-'})") if generation else "",
            f"{s.tokens_in:,}/{s.tokens_out:,}" if generation else "",
            _money(s.cost) if generation else "",
            escape(note) + ("" if s.status != "ERROR" else " [red]error[/]"),
        )
    console.print(table)
    console.print(
        f"{summary.generations} model call(s): {summary.tokens_in:,} tokens in, {summary.tokens_out:,} out, "
        f"cost {_money(summary.cost)}, {summary.cache_hits} from the cache"
    )


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _hours(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} h"


@app.command()
def metrics(
    account: Annotated[str | None, typer.Option("--account", "-a", help="Only this account.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this day on (YYYY-MM-DD, the run's day).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The gate's decisions and what became of them: per rule and kind, per ISO week, with drift alerts."""
    from ops.change_log import ChangeLog
    from ops.policy_metrics import known_account, parse_since, policy_metrics, send_scores
    from policies.screening import mask_sensitive

    settings = load_settings()
    start = parse_since(since, settings.today)
    log = ChangeLog(settings.change_log_path)
    found = policy_metrics(log, account=account and known_account(log, account), since=start)
    scored = 0
    if settings.langfuse_public_key and settings.langfuse_secret_key and found.rows:
        from ops.tracing import configure_tracing

        tracing = configure_tracing(
            settings.home,
            public_key=settings.langfuse_public_key,
            secret_key=settings.langfuse_secret_key,
            base_url=settings.langfuse_base_url,
        )
        scored = send_scores(tracing.client, found)
        tracing.flush()
    if as_json:
        _print_json(mask_sensitive(found.model_dump(mode="json")) | {"langfuse_scores": scored})
        return
    if not found.rows:
        console.print("The gate has decided nothing yet" + (f" since {start}." if start else "."))
        return
    where = (f" for {escape(mask_sensitive(account))}" if account else "") + (f" since {start}" if start else "")
    counts = Table(title=f"Proposals and what became of them{where}")
    rates = Table(title=f"Rates{where}")
    names = ("proposals", "auto-applied", "approved", "rejected", "edited", "blocked", "unanswered", "not applied")
    for table, columns in (
        (counts, names),
        (rates, ("auto-apply", "approval", "rejection", "block", "policy hit", "answer median", "answer p90")),
    ):
        table.add_column("kind / rule")
        for column in columns:
            table.add_column(column, justify="right")
    for r in found.rows:
        what = "all" if r.kind == "all" else r.kind if r.rule == "all" else f"  {r.rule}"
        style = "bold" if r.rule == "all" else None
        numbers = (r.proposals, r.auto_applied, r.approved, r.rejected, r.edited, r.blocked, r.unanswered)
        counts.add_row(what, *(f"{n:,}" for n in (*numbers, r.not_applied)), style=style)
        shares = (r.auto_apply_rate, r.approval_rate, r.rejection_rate, r.block_rate, r.policy_hit_rate)
        hours = (r.answer_hours_median, r.answer_hours_p90)
        rates.add_row(what, *(_rate(v) for v in shares), *(_hours(v) for v in hours), style=style)
    console.print(counts)
    console.print(rates)
    weekly = Table(title="Weekly, all proposals")
    for column in ("ISO week", "proposals", "auto-apply", "approval", "rejection", "block", "answer median"):
        weekly.add_column(column, justify="left" if column == "ISO week" else "right")
    for r in (w for w in found.weekly if w.kind == "all"):
        week_rates = (r.auto_apply_rate, r.approval_rate, r.rejection_rate, r.block_rate)
        weekly.add_row(str(r.week), f"{r.proposals:,}", *(_rate(v) for v in week_rates), _hours(r.answer_hours_median))
    console.print(weekly)
    console.print(f"[dim]policies in force: {', '.join(found.policies)}[/]", highlight=False)
    for alert in found.alerts:
        console.print(f"[bold red]drift:[/] {escape(alert.message)}", highlight=False)
    if not found.alerts:
        console.print("No drift: every rate is within its band of the trailing weeks (or too few to tell).")
    if scored:
        console.print(f"[dim]{scored} rates sent to Langfuse as scores[/]")


@sandbox_app.command("create")
def sandbox_create(
    seed: Annotated[int, typer.Option("--seed")] = 7,
    rows: Annotated[int, typer.Option("--rows", min=1000)] = 24_000,
    as_json: JsonFlag = False,
) -> None:
    """Create (or re-create) the offline sandbox accounts with their ground truth."""
    session = _session()
    settings = session.settings
    with console.status("Generating the sandbox accounts…") if not as_json else nullcontext():
        names = session.create_sandbox(seed=seed, rows=rows)
    if as_json:
        _print_json({"store": str(settings.sandbox_path), "accounts": names, "seed": seed, "rows": rows})
        return
    console.print(f"Created {', '.join(names)} in {settings.sandbox_path} (seed {seed}, {rows:,} search-term rows).")


@sandbox_app.command("archetype")
def sandbox_archetype(
    name: Annotated[str, typer.Argument(help="lead-gen, local-no-conversions, pmax, ecommerce or null.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the export, profile.yaml and labels.csv.")],
    seed: Annotated[int, typer.Option("--seed", help="Seeds from 100 on are the held-out family.")] = 7,
    rows: Annotated[int | None, typer.Option("--rows", min=100, help="About this many distinct queries.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write an account archetype as a user has it: a search-term export, its profile and a specialist's labels."""
    import tempfile

    from sandbox.archetypes import ARCHETYPES, generate_archetype

    if name not in ARCHETYPES:
        raise AdpilotError(f"unknown archetype '{name}'; one of {', '.join(ARCHETYPES)}")
    with tempfile.TemporaryDirectory() as work_dir:
        archetype = generate_archetype(
            name, seed=seed, rows=rows, today=_session().settings.today, work_dir=Path(work_dir)
        )
    paths = archetype.write(out)
    if as_json:
        _print_json({"archetype": name, "account": archetype.account, **{k: str(v) for k, v in paths.items()}})
        return
    console.print(
        f"Wrote {escape(str(paths['export']))} ({len(archetype.labels):,} distinct queries), "
        f"{escape(str(paths['profile']))} and {escape(str(paths['labels']))}."
    )
    console.print(
        f"Try: ADPILOT_ACCOUNTS={escape(str(paths['profile']))} adpilot import search-terms "
        f"{escape(str(paths['export']))} --account {archetype.account}",
        highlight=False,
    )


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option("--host", help="A loopback address.")] = "127.0.0.1",
    google_port: Annotated[int, typer.Option("--google-port", help="0 picks a free port.")] = 0,
    meta_port: Annotated[int, typer.Option("--meta-port", help="0 picks a free port.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Serve the sandbox accounts through local Google Ads (gRPC) and Meta (Graph HTTP) API emulators."""
    session = _session()
    session.ensure_sandbox()
    with session.emulators(host=host, google_port=google_port, meta_port=meta_port) as served:
        if as_json:
            sys.stdout.write(json.dumps(served) + "\n")
            sys.stdout.flush()
        else:
            console.print(
                f"Google Ads API emulator on [bold]{served['google_ads']['endpoint']}[/] "
                f"(account {served['google_ads']['account']}; clients use gRPC local credentials, "
                "GOOGLE_ADS_LOCAL_CHANNEL=true)"
            )
            console.print(
                f"Meta Graph API emulator on [bold]{served['meta']['base_url']}[/] "
                f"(account {served['meta']['account']})"
            )
            console.print("Set these in the environment of adpilot (or your own client), then audit those accounts:")
            for name, value in {**served["google_ads"]["environment"], **served["meta"]["environment"]}.items():
                console.print(f"  export {name}={value}", highlight=False, markup=False)
            console.print("Ctrl-C stops both.")
        # Wait for Ctrl-C or a service manager's SIGTERM; both end here, so the servers stop cleanly.
        stop = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop)
        signal.sigwait(stop)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="0 picks a free port.")] = 8765,
    new_token: Annotated[
        str | None, typer.Option("--new-token", metavar="NAME", help="Print a new access token for NAME and exit.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The web app: the inbox, the chat, past reports and the change log, behind access tokens."""
    from app.scheduler import AuditScheduler, ScheduledAudits
    from app.web.server import BackgroundService, Listening, loopback, token_store
    from app.web.server import serve as serve_web

    session = _session()
    if new_token is not None:
        token = token_store(session).issue(new_token)
        if as_json:
            _print_json({"reviewer": new_token.strip(), "token": token})
        else:
            console.print(f"Access token for {escape(new_token.strip())} (shown once, stored hashed):", highlight=False)
            console.print(token, markup=False, highlight=False)
        return

    if not loopback(host):
        errors.print(f"warning: serving on {escape(host)} over plain HTTP; put it behind TLS before others reach it")

    def listening(at: Listening) -> None:
        if as_json:
            sys.stdout.write(json.dumps({"url": at.url, "token": at.token}) + "\n")
            sys.stdout.flush()
            return
        console.print(f"adpilot is serving on [bold]{at.url}[/] (Ctrl-C stops it)")
        if at.token:
            console.print(f"First access token, for {at.reviewer} (shown once, stored hashed):")
            console.print(at.token, markup=False, highlight=False)
        else:
            console.print("Sign in with your token; `adpilot serve --new-token NAME` makes one for a colleague.")

    def services(url: str) -> list[BackgroundService]:
        # The accounts' schedules run in this process, started with the app and stopped with it; notifications
        # link to ADPILOT_BASE_URL when set, else to the URL the app listens on.
        return [AuditScheduler(ScheduledAudits(session.settings, base_url=session.settings.base_url or url))]

    serve_web(session, host=host, port=port, on_listening=listening, services=services)


@import_app.command("search-terms")
def import_search_terms(
    file: Annotated[
        Path,
        typer.Argument(help="A search-term report: Google Ads UI export (CSV or Excel CSV) or another tool's CSV."),
    ],
    account: Annotated[str, typer.Option("--account", "-a", help="Name of the read-only account to load it into.")],
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="Skip unreadable rows and list them.")] = False,
    brand: Annotated[
        list[str] | None, typer.Option("--brand", help="A brand term negatives must never block (repeatable).")
    ] = None,
    final_url: Annotated[
        str | None, typer.Option("--final-url", help="Where new ad groups' ads lead (the report names no URL).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Load a search-term report as a read-only account; analyses and audits then run on it."""
    # The reader and the store alone: a session's graphs and models take seconds to load and an import needs none.
    from ads.search_term_reports import read_search_term_report
    from sandbox.imported import import_search_term_report
    from sandbox.store import SandboxStore

    settings = load_settings()
    report = read_search_term_report(file, skip_bad_rows=skip_bad_rows)  # before the store: a bad file creates none
    summary = import_search_term_report(
        SandboxStore.create(settings.sandbox_path),
        account,
        report,
        today=settings.today,
        brand_terms=tuple(brand or ()),
        final_url=final_url,
    )
    if as_json:
        _print_json(
            {
                "account": summary.account,
                "rows": summary.rows,
                "skipped": [s.model_dump() for s in summary.skipped],
                "period": summary.period.model_dump(mode="json"),
                "currency": summary.currency,
            }
        )
        return
    if summary.already_imported:
        console.print(f"{file} was already imported into {summary.account}; nothing added.")
    else:
        console.print(
            f"Imported {summary.rows:,} search-term rows into [bold]{summary.account}[/] "
            f"({summary.period.start} to {summary.period.end}, {summary.currency})."
        )
    if summary.period_assumed:
        console.print("[yellow]The file names no date range; assumed the 90 days up to today.[/]")
    for skipped in summary.skipped:
        console.print(f"[yellow]skipped line {skipped.line}:[/] {escape(skipped.reason)}")


@search_terms_app.command("clusters")
def search_term_clusters(
    account: AccountOption = SANDBOX_ACCOUNT,
    backend: Annotated[str, typer.Option("--backend", help="tfidf (default) or embeddings.")] = "tfidf",
    granularity: Annotated[
        float, typer.Option("--granularity", min=0.25, max=4.0, help="Below 1 for broader themes, above 1 for finer.")
    ] = 1.0,
    as_json: JsonFlag = False,
) -> None:
    """Every search term with its theme (cluster id and name), biggest themes first."""
    session = _session()
    with console.status("Clustering search terms…") if not as_json else nullcontext():
        clusters = session.clusters(account, backend=backend, granularity=granularity)
    names = {c.id: c.name for c in clusters.clusters}
    if as_json:
        _print_json(
            {
                "account": account,
                "backend": clusters.backend,
                "clusters": [c.model_dump() for c in clusters.clusters],
                "terms": [
                    {"search_term": t, "cluster_id": int(i), "cluster": names[int(i)]}
                    for t, i in clusters.assignments.itertuples(index=False)
                ],
            }
        )
        return
    table = Table(title=f"{len(clusters.clusters)} themes in {account}")
    for column in ("id", "theme", "queries", "clicks", "cost", "conv."):
        table.add_column(column)
    money = session.open_account(account).account.money
    for c in clusters.clusters:
        table.add_row(str(c.id), escape(c.name), f"{c.size:,}", f"{c.clicks:,}", money(c.cost), f"{c.conversions:,.1f}")
    console.print(table)
    # One write: a console.print per line costs ~0.2 ms, a minute for a million-row export's 300k terms.
    # Control characters (ESC included, which Rich lets through) go, so a term cannot move or recolour the terminal.
    # (A printable line holds none, and a check is faster than a translation.)
    lines = (
        f"{int(cluster_id):>4}  {names[int(cluster_id)][:40]:<40}  {term}"
        for term, cluster_id in clusters.assignments.itertuples(index=False)
    )
    console.file.write(
        "".join((line if line.isprintable() else line.translate(CONTROL_CHARACTERS)) + "\n" for line in lines)
    )


NEGATIVES_SHOWN = 20  # keywords listed per proposal; `--json` gives all


@search_terms_app.command("negatives")
def search_term_negatives(account: AccountOption = SANDBOX_ACCOUNT, as_json: JsonFlag = False) -> None:
    """The proposed negative keywords, each with the search terms it would block."""
    session = _session()
    result = session.run_tool(account, "mine_negative_keywords")
    if as_json:
        _print_json(
            {
                "account": account,
                "summary": result.summary,
                "notices": result.data["notices"],
                "proposals": [c.model_dump(mode="json") for c in result.proposals],
            }
        )
        return
    money = session.open_account(account).account.money
    console.print(escape(result.summary))
    _print_notices(result.data["notices"])
    for change in result.proposals:
        console.print(f"\n[bold]{escape(change.summary())}[/]  [dim]({change.id})[/]")
        assert isinstance(change, AddNegativeKeywords | CreateSharedNegativeList)  # the tool proposes negatives only
        # The costliest keywords of each proposal (they come costliest first); a big report proposes thousands.
        for keyword in change.keywords[:NEGATIVES_SHOWN]:
            label = f"[{keyword.text}]" if keyword.match_type.value == "exact" else f'"{keyword.text}"'
            why = keyword.basis.value + (f", {keyword.intent.replace('_', ' ')}" if keyword.intent else "")
            blocked = ", ".join(f"{q.search_term} ({money(q.cost)})" for q in keyword.blocks[:6])
            more = f" … +{len(keyword.blocks) - 6}" if len(keyword.blocks) > 6 else ""
            console.print(f"  {label} ({why}) blocks: {blocked}{more}", highlight=False, markup=False)
            if keyword.counter_evidence:
                spared = ", ".join(f"{q.search_term} ({q.conversions:g} conv.)" for q in keyword.counter_evidence)
                console.print(f"    spares converting: {spared}", highlight=False, markup=False)
        if len(change.keywords) > NEGATIVES_SHOWN:
            console.print(f"  … and {len(change.keywords) - NEGATIVES_SHOWN:,} more (see --json)", highlight=False)


# ---- scheduled audits --------------------------------------------------------------------------

schedule_app = typer.Typer(
    cls=AdpilotGroup, no_args_is_help=True, help="Scheduled audits: each account's `schedule` and `notify`."
)
app.add_typer(schedule_app, name="schedule")


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M %Z}" if moment else "–"


@schedule_app.command("list")
def schedule_list(as_json: JsonFlag = False) -> None:
    """The accounts with a schedule (ADPILOT_ACCOUNTS), their last run and their next."""
    from app.scheduler import ScheduledAudits

    audits = ScheduledAudits(load_settings())
    accounts = audits.accounts()
    if as_json:
        _print_json([a.model_dump(mode="json") for a in accounts])
        return
    if not accounts:
        console.print("No account has a schedule: add `schedule:` (a cron expression) to it in ADPILOT_ACCOUNTS.")
        return
    table = Table(title="Scheduled audits")
    for column in ("account", "schedule", "next run", "last run", "notify"):
        table.add_column(column, overflow="fold")
    for a in accounts:
        last = f"{_when(a.last_due)} ({a.last_outcome or 'running'})" if a.last_due else "never"
        targets = [*a.emails, *(f"webhook to {host}" for host in a.webhook_hosts)]
        table.add_row(
            escape(a.account),
            f"{escape(a.schedule)} ({a.time_zone})",
            _when(a.next_run.astimezone(ZoneInfo(a.time_zone)) if a.next_run else None),
            last,
            escape(", ".join(targets)) or "[yellow]nobody[/]",
        )
    console.print(table)


@schedule_app.command("run")
def schedule_run(
    now: Annotated[bool, typer.Option("--now", help="Audit every scheduled account now, due or not.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run the audits that are due (for a system cron, e.g. every 15 minutes), notify, then exit.

    Exits 1 when an audit failed or a notification could not be delivered."""
    from app.scheduler import ScheduledAudits

    audits = ScheduledAudits(load_settings())
    records = audits.run_due(everything=now)
    problems = [r for r in records if r.outcome == "failed" or not all(d.ok for d in r.deliveries)]
    if as_json:
        _print_json([r.model_dump(mode="json") for r in records])
        raise typer.Exit(1 if problems else 0)
    if not records:
        scheduled = len(audits.accounts())
        console.print(f"Nothing is due ({scheduled} scheduled account{'s' if scheduled != 1 else ''}).")
    for r in records:
        colour = "green" if r.outcome == "completed" else "red"
        console.print(f"[{colour}]{r.outcome}[/]: {escape(r.account)} (due {_when(r.due_at)})")
        if r.note:
            console.print(f"  [yellow]{escape(r.note)}[/]")
        if r.error:
            console.print(f"  [red]{escape(r.error)}[/]")
        if r.report:
            console.print(f"  report: {escape(r.report)}")
        for d in r.deliveries:
            sent = "[green]sent[/]" if d.ok else f"[red]not sent[/]: {escape(d.error or '')}"
            console.print(f"  notified {escape(d.target)}: {sent}")
    if problems:
        raise typer.Exit(1)


# ---- the advertiser's profile ------------------------------------------------------------------

profile_app = typer.Typer(
    cls=AdpilotGroup, no_args_is_help=True, help="What the business sells, where, under which names."
)
app.add_typer(profile_app, name="profile")


def _profile_yaml(account: str, profile: dict[str, Any], comments: list[str]) -> str:
    import yaml

    body = yaml.safe_dump({account: profile}, sort_keys=False, allow_unicode=True, width=100)
    return "".join(f"# {line}\n" for line in comments) + body


@profile_app.command("show")
def profile_show(account: AccountOption = SANDBOX_ACCOUNT, as_json: JsonFlag = False) -> None:
    """The profile in force for an account: the accounts file's (ADPILOT_ACCOUNTS), else the one a sandbox
    account carries."""
    from ads.errors import SandboxMissingError, UnknownAccountError

    services = _session().services
    opened = None
    if not account.startswith(("google-ads:", "meta:")):  # a platform account carries no profile: no call to it
        with suppress(SandboxMissingError, UnknownAccountError):
            opened = services.open_account(account)
    in_force = services.plan_in_force(account, opened)
    profile = in_force.plan.profile() if in_force.plan and in_force.source else None
    notice = None
    if profile is None:
        path = load_settings().accounts_path
        where = f"in {path}" if path else "(ADPILOT_ACCOUNTS names no accounts file)"
        notice = f"no profile for {account} {where}; draft one with `adpilot profile infer --account {account}`"
    if as_json:
        _print_json(
            {
                "account": account,
                "source": in_force.source,
                "source_path": str(in_force.source_path) if in_force.source_path else None,
                "profile": profile.model_dump(mode="json") if profile else None,
                "notice": notice,
            }
        )
        return
    if profile is None:
        console.print(escape(f"No profile: {notice}."), highlight=False)
        return
    filled = {k: v for k, v in profile.model_dump(mode="json").items() if v}
    sys.stdout.write(_profile_yaml(account, filled, [f"profile in force, from {in_force.describe()}"]))


@profile_app.command("infer")
def profile_infer(account: AccountOption = SANDBOX_ACCOUNT, as_json: JsonFlag = False) -> None:
    """Draft a profile from the account itself (keywords, ad groups, campaigns, landing pages, queries)."""
    session = _session()
    draft = session.draft_profile(account)
    profile = draft.profile.model_dump(mode="json")
    if as_json:
        _print_json(
            {
                "account": account,
                "profile": profile,
                "evidence": draft.evidence,
                "inferred_competitors": [c.model_dump() for c in draft.inferred_competitors],
            }
        )
        return
    comments = [
        f"A draft read from the account {account}: check it, correct it, and save it in the accounts file",
        "(ADPILOT_ACCOUNTS). not_offered and locations cannot be read from an account: fill them in.",
        *(f"{field}: {source}" for field, source in draft.evidence.items()),
        *(f"competitor {c.name}: {c.queries} queries with offer words" for c in draft.inferred_competitors),
    ]
    sys.stdout.write(_profile_yaml(account, profile, comments))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
