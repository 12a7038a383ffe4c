"""The factory of a run's services: from a `RunContext` (account, reviewer, today) and the `Settings`, the opened
account, the policy, the change log, tracing and the model every graph node works with.

Every front door uses it: the CLI's `Session`, the web app, and the graphs `langgraph dev` serves (app/studio.py).
What is slow to build or must be one per process (the model, tracing, the change log, platform clients) is
built once here; what a run reads from the account is built per run, so a resumed run sees the account as it is.
"""

from __future__ import annotations

import functools

from ads.account import AdAccount
from ads.account_plan import AccountPlan, PlanInForce, ProfileHolder, load_account_plans, plan_in_force
from ads.errors import SandboxMissingError, UnknownAccountError
from agents.batched_questions import ModelAccess, TokenBudget
from agents.cluster_namer import ClusterNamer
from agents.copy_writer import LLMCopyWriter
from agents.intent_judge import IntentJudge
from agents.llm_cache import AnswerCache, EmbeddingCache, ResponseCache
from agents.model_guard import GuardedChatModel
from agents.models import ModelChoice, Route, select_model
from app.settings import Settings
from graphs.context import RunContext, RunServices
from ops.change_log import ChangeLog
from ops.tracing import Tracing, configure_tracing
from policies.gate import Policy, load_policy
from policies.screening import data_block, screen
from sandbox import GOOGLE_ACCOUNT, META_ACCOUNT
from sandbox.derived import DerivedStore
from sandbox.store import SandboxAccount, SandboxStore
from tools import query_embeddings


class AppServices:
    """A `graphs.context.ServiceFactory` over one set of settings."""

    def __init__(self, settings: Settings, *, model: ModelChoice | None = None, tracing: Tracing | None = None) -> None:
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        self.policy: Policy = load_policy(settings.policy_path)
        self.plans: dict[str, AccountPlan] = (
            load_account_plans(settings.accounts_path) if settings.accounts_path else {}
        )
        self.model = model or select_model(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            model_name=settings.openai_model,
            fast_model_name=settings.fast_model,
            cache=ResponseCache(self.answer_cache) if settings.openai_api_key else None,
            max_retries=settings.openai_max_retries,
            timeout=settings.openai_timeout_seconds,
        )
        self.tracing = tracing or configure_tracing(
            settings.home,
            public_key=settings.langfuse_public_key,
            secret_key=settings.langfuse_secret_key,
            base_url=settings.langfuse_base_url,
            prices=settings.model_prices,
        )
        self.change_log = ChangeLog(settings.change_log_path)
        query_embeddings.use_cache(EmbeddingCache(settings.llm_cache_path))
        self._accounts: dict[str, AdAccount] = {}

    def __call__(self, context: RunContext) -> RunServices:
        opened = self.open_account(context.account)
        today = context.today or self.settings.today
        derived = None
        if isinstance(opened, SandboxAccount) and opened.account.read_only:
            # an imported report keeps what each command derives from it, for the next command to reuse
            derived = DerivedStore(opened.store, opened.account.name)
            if context.today is None and (period := opened.search_term_period()):
                today = period.end  # an imported report is analysed as of its own last day
        # One budget for all the run's model calls: its chat turns, intent judging, naming and copy.
        budget = TokenBudget(self.token_limit)
        access = self._model_access(budget)
        return RunServices(
            account=opened,
            policy=self.policy,
            change_log=self.change_log,
            today=today,
            reports_dir=self.settings.reports_dir,
            tracing=self.tracing,
            model=self.model.model
            if self.model.offline
            else GuardedChatModel(
                inner=self.model.model,
                budget=budget,
                model_name=self.model.name,
                metadata={"route": Route.STRONG.value},
            ),
            reviewer=context.reviewer,
            plan=self.plan_in_force(context.account, opened).plan,
            copy_writer=None if self.model.offline else LLMCopyWriter(self.model.model, data_block, budget),
            intent_judge=IntentJudge(access) if access else None,
            cluster_namer=ClusterNamer(access) if access else None,
            derived=derived,
            accounts=tuple(dict.fromkeys([GOOGLE_ACCOUNT, META_ACCOUNT, *self.plans, opened.account.name])),
        )

    def store(self) -> SandboxStore:
        return SandboxStore(self.settings.sandbox_path)

    def plan_in_force(self, name: str, account: AdAccount | None = None) -> PlanInForce:
        """The accounts file's plan for the account `name` (or for the name it is opened under, `account`), with the
        profile a sandbox account carries where the file gives it none."""
        file_plan = self.plans.get(account.account.name, self.plans.get(name)) if account else self.plans.get(name)
        carried = account.advertiser_profile() if isinstance(account, ProfileHolder) else None
        return plan_in_force(file_plan, self.settings.accounts_path, carried, self.settings.sandbox_path)

    def open_account(self, name: str) -> AdAccount:
        """The account called `name`, opened once per process (a platform client is slow to build)."""
        if name not in self._accounts:
            self._accounts[name] = self._open_account(name)
        return self._accounts[name]

    def _open_account(self, name: str) -> AdAccount:
        if name.startswith(("google-ads:", "meta:")):
            from app.connectors import open_platform_account  # the SDKs load only when a platform is used

            return open_platform_account(name, self.settings)
        try:
            return self.store().open_account(name)
        except SandboxMissingError:
            if name.startswith("sandbox:"):
                raise
            raise UnknownAccountError(
                f"unknown account '{name}': no local store at {self.settings.sandbox_path} "
                "(run `adpilot sandbox create` or `adpilot import search-terms`)"
            ) from None

    @functools.cached_property
    def answer_cache(self) -> AnswerCache:
        """The models' answers and responses on disk (the file exists only once a model is configured)."""
        return AnswerCache(self.settings.llm_cache_path)

    @property
    def token_limit(self) -> int:
        """Tokens one run may spend: ADPILOT_MAX_TOKENS_PER_RUN, else the policy's."""
        if self.settings.max_tokens_per_run is not None:
            return self.settings.max_tokens_per_run
        return self.policy.models.max_tokens_per_run

    def _model_access(self, budget: TokenBudget) -> ModelAccess | None:
        """The fast route's model, its answer cache and the run's budget, for the intent judge and the namer."""
        if self.model.offline:
            return None
        model, name = self.model.route(Route.FAST)
        return ModelAccess(
            model=model,
            model_name=name,
            cache=self.answer_cache,
            budget=budget,
            render_data=data_block,
            screen=screen,
            callbacks=self.tracing.callbacks,
        )
