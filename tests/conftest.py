"""Shared fixtures: one generated sandbox per test session, copied into a fresh ADPILOT_HOME per test; the small
Google Ads and Meta accounts behind the local API emulators."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ads.google_ads import GoogleAdsAccount, GoogleAdsSettings
from ads.meta import MetaAccount
from sandbox.google_ads_emulator import GoogleAdsEmulator, start_google_ads_emulator
from sandbox.meta_emulator import MetaEmulator, start_meta_emulator
from sandbox.store import SandboxAccount
from tests.google_ads_sample import TODAY as SAMPLE_TODAY
from tests.google_ads_sample import Sleeps, sample_account, sample_structure
from tests.meta_sample import T0, Clock, connect_meta, tiny_meta_account, tiny_meta_structure

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def no_embedding_cache_between_tests() -> Iterator[None]:
    """`AppServices` points the process's embedding cache at its home; a later test must not read an earlier one's."""
    from tools import query_embeddings

    yield
    query_embeddings.use_cache(None)


@pytest.fixture(scope="session")
def sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sandbox.generator import generate_sandbox
    from sandbox.store import SandboxStore

    path = tmp_path_factory.mktemp("sandbox-template") / "sandbox.sqlite"
    generate_sandbox(SandboxStore.create(path), seed=7, rows=6000, today=TODAY)
    return path


@pytest.fixture
def home(tmp_path: Path, sandbox_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ADPILOT_HOME holding a fresh copy of the sandbox, with no model or Langfuse keys."""
    home = tmp_path / "adpilot-home"
    home.mkdir()
    shutil.copy(sandbox_template, home / "sandbox.sqlite")
    monkeypatch.setenv("ADPILOT_HOME", str(home))
    monkeypatch.setenv("ADPILOT_TODAY", TODAY.isoformat())
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "LANGFUSE_PUBLIC_KEY",
        "LANGFUSE_SECRET_KEY",
        "LANGFUSE_BASE_URL",
        "ADPILOT_POLICY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # so no stray .env of the developer is read
    return home


@pytest.fixture
def allow_all() -> Callable[[Any], Any]:
    """A gate that lets every change through, for tests of the apply mechanics themselves."""
    from policies.gate import Decision

    def allow(change: Any) -> Decision:
        return Decision(
            change_id=change.id,
            change_hash=change.hash,
            kind=change.kind,
            outcome="auto_apply",
            rule="test.allow_all",
            reason="the test allows every change",
        )

    return allow


# -- the small Google Ads account behind the local Google Ads API (one per test module) --


@pytest.fixture(scope="module")
def google_ads_sandbox(tmp_path_factory: pytest.TempPathFactory) -> SandboxAccount:
    return sample_account(tmp_path_factory.mktemp("google-ads") / "sandbox.sqlite")


@pytest.fixture(scope="module")
def google_ads_emulator(google_ads_sandbox: SandboxAccount) -> Iterator[GoogleAdsEmulator]:
    with start_google_ads_emulator(google_ads_sandbox, today=SAMPLE_TODAY) as running:
        yield running


@pytest.fixture
def fresh_google_ads_account(google_ads_sandbox: SandboxAccount, google_ads_emulator: GoogleAdsEmulator) -> None:
    """The sample structure back in the store, and no injected quota errors or recorded mutates left over."""
    google_ads_sandbox.store.save_account(sample_structure())
    google_ads_emulator.fail_next_with_quota = 0
    google_ads_emulator.mutate_requests.clear()


@pytest.fixture(scope="module")
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture(scope="module")
def google(google_ads_emulator: GoogleAdsEmulator, sleeps: Sleeps) -> GoogleAdsAccount:
    """The real google-ads client on the emulator, retrying quota errors with recorded (not real) sleeps."""
    settings = GoogleAdsSettings.load(
        environ={
            **google_ads_emulator.client_settings(),
            "GOOGLE_ADS_QUOTA_RETRIES": "3",
            "GOOGLE_ADS_QUOTA_BACKOFF_SECONDS": "0.5",
        }
    )
    return GoogleAdsAccount(settings, sleep=sleeps)


# -- the small Meta account behind the local Graph API (one per test module) --


@pytest.fixture(scope="module")
def meta_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetaEmulator]:
    with start_meta_emulator(tiny_meta_account(tmp_path_factory.mktemp("meta") / "sandbox.sqlite")) as server:
        yield server


@pytest.fixture
def fresh_meta_account(meta_emulator: MetaEmulator) -> None:
    """The tiny structure back in the store (ads a test created are gone), and no injected rate limits left over."""
    meta_emulator.sandbox.store.save_account(tiny_meta_structure())
    meta_emulator.fail_next_with_rate_limit = 0
    meta_emulator.fail_next_write_with_rate_limit = 0


@pytest.fixture
def meta_clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def meta(meta_emulator: MetaEmulator, tmp_path: Path, meta_clock: Clock) -> MetaAccount:
    return connect_meta(meta_emulator, tmp_path, meta_clock)
