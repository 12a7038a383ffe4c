"""The SQLite sandbox store and SandboxAccount, on a small hand-built account."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from ads.account import AdAccount
from ads.account_plan import AdvertiserProfile, ProfileHolder
from ads.changes import (
    AddCreativeVariants,
    AddNegativeKeywords,
    CreateAdGroup,
    KeywordSpec,
    NegativeSpec,
    PauseEntity,
    RemoveNegativeKeywords,
    SetBudget,
)
from ads.entities import (
    DAILY_METRIC_COLUMNS,
    SEARCH_TERM_COLUMNS,
    Account,
    AccountStructure,
    Ad,
    AdGroup,
    Budget,
    Campaign,
    Keyword,
    MatchType,
    MetaAdCopy,
    NegativeKeyword,
    Platform,
    ResponsiveSearchAdCopy,
    SharedNegativeList,
    Status,
)
from ads.errors import ReadOnlyAccountError, SandboxMissingError, UnknownAccountError
from sandbox.store import SandboxStore

NAME = "sandbox:test"
RSA = ResponsiveSearchAdCopy(
    headlines=("Hiking Boots", "Shop Hiking Boots", "Easy Returns"),
    descriptions=("Boots for every trail.", "Order today."),
    final_url="https://x.example/",
)


def _structure(
    name: str = NAME, *, read_only: bool = False, platform: Platform = Platform.GOOGLE_ADS
) -> AccountStructure:
    return AccountStructure(
        account=Account(name=name, id="1234567890", display_name="Test", platform=platform, read_only=read_only),
        campaigns=(Campaign(id="10", name="Boots", channel="search", budget_id="20", monthly_target=300_000_000),),
        budgets=(
            Budget(id="20", name="Boots budget", level="campaign", daily_amount=10_000_000, campaign_ids=("10",)),
        ),
        ad_groups=(AdGroup(id="30", campaign_id="10", name="Men's Boots"),),
        keywords=(Keyword(id="40", ad_group_id="30", text="mens hiking boots", match_type=MatchType.EXACT),),
        negatives=(
            NegativeKeyword(id="50", level="campaign", owner_id="10", text="Jobs", match_type=MatchType.PHRASE),
        ),
        shared_lists=(SharedNegativeList(id="60", name="Account negatives", campaign_ids=("10",)),),
        ads=(Ad(id="70", ad_group_id="30", copy=RSA),),
    )


@pytest.fixture
def store(tmp_path: Path) -> SandboxStore:
    return SandboxStore.create(tmp_path / "nested" / "sandbox.sqlite")


@pytest.fixture
def account(store: SandboxStore):
    return store.save_account(_structure())


def _negatives(*texts: str, target: str = "10", level: str = "campaign") -> AddNegativeKeywords:
    return AddNegativeKeywords(
        account=NAME,
        rationale="waste",
        level=level,
        target_id=target,
        keywords=tuple(NegativeSpec(text=t, match_type=MatchType.PHRASE) for t in texts),
    )


# -- opening ---------------------------------------------------------------------------------------


def test_create_makes_parent_dirs_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "sandbox.sqlite"
    SandboxStore.create(path).save_account(_structure())
    SandboxStore.create(path)  # again: must keep what is there
    assert SandboxStore(path).open_account(NAME).structure() == _structure()


def test_missing_store_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.sqlite"
    with pytest.raises(SandboxMissingError, match=f"{path} is missing"):
        SandboxStore(path)


def test_corrupt_and_foreign_files_are_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(SandboxMissingError, match="corrupt"):
        SandboxStore(garbage)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(SandboxMissingError, match="not an adpilot store"):
        SandboxStore(foreign)
    with pytest.raises(SandboxMissingError, match="not an adpilot store"):
        SandboxStore.create(foreign)
    with pytest.raises(SandboxMissingError, match="not a file"):
        SandboxStore(tmp_path)


def test_unknown_account_lists_known_ones(store: SandboxStore) -> None:
    store.save_account(_structure())
    store.save_account(_structure("sandbox:other"))
    with pytest.raises(UnknownAccountError, match=r"unknown account 'x' \(known: sandbox:other, sandbox:test\)"):
        store.open_account("x")


# -- entities and transactions ----------------------------------------------------------------------


def test_round_trip_and_protocol(account) -> None:
    assert isinstance(account, AdAccount)
    assert account.structure() == _structure()
    assert account.structure().ads[0].copy_ == RSA


def test_save_account_replaces_entities(store: SandboxStore, account) -> None:
    smaller = _structure().model_copy(update={"negatives": (), "ads": ()})
    store.save_account(smaller)
    assert store.open_account(NAME).structure() == smaller


def test_write_upserts_and_removes(account) -> None:
    budget = account.structure().budgets[0].model_copy(update={"daily_amount": 1})
    group = AdGroup(id=account.new_id(), campaign_id="10", name="New")
    account.write(upserts=[budget, group], removals=[account.structure().negatives[0]])
    structure = account.structure()
    assert structure.budgets[0].daily_amount == 1
    assert [g.name for g in structure.ad_groups] == ["Men's Boots", "New"]
    assert structure.negatives == ()


def test_failing_write_leaves_nothing(account) -> None:
    group = AdGroup(id="31", campaign_id="10", name="Half")
    with pytest.raises(TypeError):
        account.write(upserts=[group, account.account])  # an Account is no storable entity
    assert [g.id for g in account.structure().ad_groups] == ["30"]


def test_transaction_rolls_back_everything_on_error(store: SandboxStore, account) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        account.write(upserts=[AdGroup(id="31", campaign_id="10", name="Half")])
        account.add_search_terms(pd.DataFrame({"search_term": ["x"]}), dt.date(2026, 1, 1), dt.date(2026, 1, 1))
        raise RuntimeError("boom")
    assert len(account.structure().ad_groups) == 1
    assert account.search_term_period() is None


def test_new_ids_are_numeric_and_unique(store: SandboxStore) -> None:
    ids = [store.new_id() for _ in range(20)]
    assert len(set(ids)) == 20 and all(i.isdigit() for i in ids)


# -- metrics and search terms ----------------------------------------------------------------------


def test_daily_metrics_window(account) -> None:
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2026-01-30", periods=4),
            "campaign_id": "10",
            "ad_group_id": "30",
            "impressions": [10, 20, 30, 40],
            "clicks": [1, 2, 3, 4],
            "cost": [100, 200, 300, 400],
            "conversions": [0.0, 0.5, 1.0, 0.0],
            "conversion_value": [0.0, 5.0, 10.0, 0.0],
        }
    )
    account.add_daily_metrics(frame)
    got = account.daily_metrics(dt.date(2026, 1, 31), dt.date(2026, 2, 1))
    assert tuple(got.columns) == DAILY_METRIC_COLUMNS
    assert got["cost"].tolist() == [200, 300] and str(got["cost"].dtype) == "int64"
    assert got["date"].tolist() == [pd.Timestamp("2026-01-31"), pd.Timestamp("2026-02-01")]


def _terms(*rows: tuple[str, int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "search_term": [r[0] for r in rows],
            "campaign_id": "10",
            "campaign_name": "Boots",
            "ad_group_id": "30",
            "ad_group_name": "Men's Boots",
            "keyword": "mens hiking boots",
            "match_type": "exact",
            "impressions": 10,
            "clicks": [r[1] for r in rows],
            "cost": [r[2] for r in rows],
            "conversions": 0.0,
            "conversion_value": 0.0,
        }
    )


def test_search_terms_aggregate_days_inside_the_window(account) -> None:
    for day, clicks in ((1, 2), (2, 3), (3, 7)):
        date = dt.date(2026, 1, day)
        account.add_search_terms(_terms(("boots", clicks, clicks * 1000), ("other", 1, 5)), date, date)
    got = account.search_terms(dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert tuple(got.columns) == SEARCH_TERM_COLUMNS
    boots = got.set_index("search_term").loc["boots"]
    assert (boots["clicks"], boots["cost"], boots["impressions"]) == (5, 5000, 20)
    assert str(got["cost"].dtype) == "int64"
    assert account.search_term_period().model_dump() == {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 1, 3)}


def test_a_report_period_only_counts_in_windows_that_hold_it(account) -> None:
    account.add_search_terms(_terms(("boots", 9, 900)), dt.date(2026, 1, 1), dt.date(2026, 1, 31), source="r")
    assert account.search_terms(dt.date(2026, 1, 1), dt.date(2026, 1, 15)).empty
    assert account.search_terms(dt.date(2025, 12, 1), dt.date(2026, 2, 1))["clicks"].tolist() == [9]


def test_add_search_terms_is_idempotent_per_source(account) -> None:
    day = dt.date(2026, 1, 1)
    frame = _terms(("boots", 1, 10), ("tent", 2, 20))
    assert account.add_search_terms(frame, day, day, source="sha-a") == 2
    assert account.add_search_terms(frame, day, day, source="sha-a") == 0
    assert account.add_search_terms(frame, day, day, source="sha-b") == 2
    assert account.search_terms(day, day).set_index("search_term")["clicks"].to_dict() == {"boots": 2, "tent": 4}


def test_ground_truth_round_trip(store: SandboxStore, account) -> None:
    truth = pd.DataFrame(
        {
            "search_term": ["boots jobs", "boots"],
            "theme": ["jobs", "boots"],
            "is_waste": [True, False],
            "waste_kind": ["jobs", ""],
            "is_brand": [False, False],
            "is_injection": [False, False],
        }
    )
    store.save_ground_truth(NAME, truth)
    got = store.ground_truth(NAME)
    pd.testing.assert_frame_equal(got, truth.sort_values("search_term", ignore_index=True), check_dtype=False)
    assert got["is_waste"].dtype == bool


def test_a_profile_is_kept_per_account_replaced_whole_and_removed_with_it(store: SandboxStore, account) -> None:
    profile = AdvertiserProfile(business="Boots", offers=("hiking boots",), competitors=("bootco",))
    assert account.advertiser_profile() is None
    store.save_profile(NAME, profile)
    assert isinstance(account, ProfileHolder) and account.advertiser_profile() == profile
    store.save_profile(NAME, AdvertiserProfile(offers=("boots",)))
    assert store.profile(NAME) == AdvertiserProfile(offers=("boots",))
    store.remove_account(NAME)
    assert store.profile(NAME) is None
    with pytest.raises(UnknownAccountError):
        store.save_profile(NAME, profile)  # no profile for an account the store does not hold


def test_a_store_made_before_profiles_has_none(store: SandboxStore, account) -> None:
    with store.transaction() as conn:
        conn.execute("DROP TABLE advertiser_profiles")
    assert account.advertiser_profile() is None
    SandboxStore.create(store.path).save_profile(NAME, AdvertiserProfile(offers=("boots",)))  # create adds it
    assert account.advertiser_profile() == AdvertiserProfile(offers=("boots",))


# -- apply and read back ---------------------------------------------------------------------------


def test_negatives_are_compared_in_the_matcher_s_normal_form(account) -> None:
    # "Jobs" (phrase) is on campaign 10; punctuation, curly apostrophes and case do not make a new negative
    results = account.apply(
        [_negatives("JOBS!"), _negatives("men\u2019s t-shirt", "Men's T Shirt")], validate_only=True
    )
    assert results[0].message == "negative 'JOBS!' (phrase) is already on campaign 10"
    assert results[1].message == "negative 'Men's T Shirt' (phrase) is listed twice"


def test_validate_only_checks_and_writes_nothing(account) -> None:
    bad_rsa = ResponsiveSearchAdCopy(
        headlines=("A headline that is far too long for RSA", "Same", "same"),
        descriptions=("Only one",),
        final_url="https://x.example/",
    )
    changes = [
        _negatives("free", "diy"),
        _negatives("jobs"),  # already there as "Jobs" (phrase)
        _negatives("free", target="999"),
        AddCreativeVariants(account=NAME, rationale="r", ad_group_id="30", ad=bad_rsa),
        SetBudget(account=NAME, rationale="r", budget_id="20", from_amount=8_000_000, to_amount=12_000_000),
        SetBudget(account=NAME, rationale="r", budget_id="20", from_amount=10_000_000, to_amount=12_000_000),
    ]
    before = account.structure()
    results = account.apply(changes, validate_only=True)
    assert [r.status for r in results] == ["validated", "failed", "failed", "failed", "failed", "validated"]
    assert [r.change_hash for r in results] == [c.hash for c in changes]
    assert "negative 'jobs' (phrase) is already on campaign 10" in results[1].message
    assert "campaign 999 does not exist" in results[2].message
    assert results[3].message == (
        "RSA: 1 descriptions; a responsive search ad needs 2–4; "
        'RSA: headline 1 "A headline that is far too long for RSA" has 39 characters; the limit is 30; '
        'RSA: headline 3 "same" repeats headline 2'
    )
    assert results[4].message == "budget Boots budget is now 10000000, the change expected 8000000"
    assert account.structure() == before


def test_apply_each_kind(account) -> None:
    create = CreateAdGroup(
        account=NAME,
        rationale="r",
        campaign_id="10",
        name="Trekking Poles",
        keywords=(KeywordSpec(text="trekking poles", match_type=MatchType.PHRASE),),
        ad=RSA,
    )
    variant_copy = RSA.model_copy(update={"headlines": ("Boots On Sale", "Shop Boots", "Easy Returns")})
    changes = [
        _negatives("free"),
        create,
        AddCreativeVariants(account=NAME, rationale="r", ad_group_id="30", ad=variant_copy),
        SetBudget(account=NAME, rationale="r", budget_id="20", from_amount=10_000_000, to_amount=12_000_000),
    ]
    results = account.apply(changes, validate_only=False)
    assert [r.status for r in results] == ["applied"] * 4, [r.message for r in results]
    structure = account.structure()

    negative = next(n for n in structure.negatives if n.text == "free")
    assert results[0].resource_names == (f"customers/1234567890/campaignCriteria/10~{negative.id}",)

    group = next(g for g in structure.ad_groups if g.name == "Trekking Poles")
    assert group.status is Status.PAUSED
    assert [(k.text, k.match_type) for k in structure.keywords if k.ad_group_id == group.id] == [
        ("trekking poles", MatchType.PHRASE)
    ]
    assert [a.status for a in structure.ads if a.ad_group_id == group.id] == [Status.PAUSED]
    assert f"customers/1234567890/adGroups/{group.id}" in results[1].resource_names

    variant = next(a for a in structure.ads if a.copy_ == variant_copy)
    assert variant.ad_group_id == "30" and variant.status is Status.PAUSED
    assert structure.budgets[0].daily_amount == 12_000_000
    assert results[3].before == {"daily_amount": 10_000_000} and results[3].after == {"daily_amount": 12_000_000}


def test_failing_change_does_not_undo_the_others_and_reapply_is_already_applied(account) -> None:
    changes = [_negatives("free"), _negatives("x", target="999"), _negatives("diy")]
    assert [r.status for r in account.apply(changes, validate_only=False)] == ["applied", "failed", "applied"]
    assert {n.text for n in account.structure().negatives} == {"Jobs", "free", "diy"}
    assert [r.status for r in account.apply(changes, validate_only=False)] == [
        "already_applied",
        "failed",
        "already_applied",
    ]
    assert len(account.structure().negatives) == 3


def test_stale_set_budget_is_refused_on_apply(account) -> None:
    stale = SetBudget(account=NAME, rationale="r", budget_id="20", from_amount=9_000_000, to_amount=12_000_000)
    result = account.apply([stale], validate_only=False)[0]
    assert result.status == "failed" and "is now 10000000" in result.message
    assert account.structure().budgets[0].daily_amount == 10_000_000


def test_read_back(account) -> None:
    change = _negatives("free", "jobs")
    before = account.read_back(change)
    assert not before.present and before.state["missing"] == ["free"]
    account.apply([_negatives("free")], validate_only=False)
    after = account.read_back(change)
    assert after.present and after.change_hash == change.hash and len(after.resource_names) == 2
    budget = SetBudget(account=NAME, rationale="r", budget_id="20", from_amount=5, to_amount=10_000_000)
    assert account.read_back(budget).present and account.read_back(budget).state == {"daily_amount": 10_000_000}


def test_change_for_another_account_fails(account) -> None:
    change = _negatives("free").model_copy(update={"account": "sandbox:other"})
    assert account.apply([change], validate_only=True)[0].status == "failed"


def test_read_only_account_refuses_apply(store: SandboxStore) -> None:
    imported = store.save_account(_structure("report:x", read_only=True))
    for validate_only in (True, False):
        with pytest.raises(ReadOnlyAccountError, match="report:x"):
            imported.apply([_negatives("free")], validate_only=validate_only)


def test_meta_account_takes_meta_ads_only_and_uses_plain_ids(store: SandboxStore) -> None:
    meta = store.save_account(_structure("sandbox:meta", platform=Platform.META))
    meta_copy = MetaAdCopy(primary_text="Trail gear", headline="Gear up", link_url="https://x.example/")
    other_rsa = RSA.model_copy(update={"path1": "boots"})
    rsa = AddCreativeVariants(account="sandbox:meta", rationale="r", ad_group_id="30", ad=other_rsa)
    ad = AddCreativeVariants(account="sandbox:meta", rationale="r", ad_group_id="30", ad=meta_copy)
    failed, applied = meta.apply([rsa, ad], validate_only=False)
    assert failed.status == "failed" and "Meta account" in failed.message
    assert applied.status == "applied" and applied.resource_names[0].isdigit()


# -- the inverse changes a rollback proposes -------------------------------------------------------


def _remove(
    *texts: str, target: str = "10", level: str = "campaign", match_type: MatchType = MatchType.PHRASE
) -> RemoveNegativeKeywords:
    return RemoveNegativeKeywords(
        account=NAME,
        rationale="rolls back",
        level=level,
        target_id=target,
        keywords=tuple(KeywordSpec(text=t, match_type=match_type) for t in texts),
    )


def _pause(level: str, entity_id: str) -> PauseEntity:
    return PauseEntity(account=NAME, rationale="rolls back", level=level, entity_id=entity_id)


def test_remove_negatives_validates_applies_and_is_idempotent(account) -> None:
    account.apply([_negatives("free", "diy")], validate_only=False)
    remove = _remove("FREE", "diy", "never added")  # case and absent keywords do not matter
    assert [r.status for r in account.apply([remove, _remove("free", target="999")], validate_only=True)] == [
        "validated",
        "failed",
    ]
    assert {n.text for n in account.structure().negatives} == {"Jobs", "free", "diy"}  # validate wrote nothing
    before = account.read_back(remove)
    assert not before.present and len(before.resource_names) == 2
    assert before.resource_names[0].startswith("customers/1234567890/campaignCriteria/10~")
    result = account.apply([remove], validate_only=False)[0]
    assert result.status == "applied", result.message
    assert result.after == {"target_exists": True, "still_present": []}
    assert {n.text for n in account.structure().negatives} == {"Jobs"}
    assert account.apply([remove], validate_only=False)[0].status == "already_applied"


def test_removing_a_negative_that_is_not_there_is_already_applied(account) -> None:
    wrong_match = _remove("jobs", match_type=MatchType.EXACT)  # the campaign holds "Jobs" as phrase
    results = account.apply([_remove("never added"), wrong_match], validate_only=False)
    assert [r.status for r in results] == ["already_applied", "already_applied"]
    assert [n.text for n in account.structure().negatives] == ["Jobs"]


def test_removing_from_a_place_that_does_not_exist_fails(account) -> None:
    result = account.apply([_remove("free", target="999", level="ad_group")], validate_only=False)[0]
    assert result.status == "failed" and result.message == "ad group 999 does not exist"


def test_pause_ad_group_and_ad(account) -> None:
    changes = [_pause("ad_group", "30"), _pause("ad", "70")]
    assert [r.status for r in account.apply(changes, validate_only=True)] == ["validated", "validated"]
    assert account.structure().ad_groups[0].status is Status.ENABLED
    results = account.apply(changes, validate_only=False)
    assert [r.status for r in results] == ["applied", "applied"]
    assert results[0].before == {"status": "enabled"} and results[0].after == {"status": "paused"}
    assert results[1].resource_names == ("customers/1234567890/adGroupAds/30~70",)
    structure = account.structure()
    assert structure.ad_groups[0].status is Status.PAUSED and structure.ads[0].status is Status.PAUSED
    assert structure.keywords[0].status is Status.ENABLED  # pausing the group leaves its keywords as they were
    assert [r.status for r in account.apply(changes, validate_only=False)] == ["already_applied"] * 2


def test_pausing_what_does_not_exist_fails(account) -> None:
    account.write(upserts=[Ad(id="71", ad_group_id="30", copy=RSA, status=Status.REMOVED)])
    results = account.apply([_pause("ad", "999"), _pause("ad", "71"), _pause("ad_group", "70")], validate_only=False)
    assert [(r.status, r.message) for r in results] == [
        ("failed", "ad 999 does not exist"),
        ("failed", "ad 71 does not exist"),
        ("failed", "ad group 70 does not exist"),
    ]


def test_read_back_gives_the_created_ids_a_rollback_pauses(account) -> None:
    group = CreateAdGroup(
        account=NAME,
        rationale="r",
        campaign_id="10",
        name="Women's Boots",
        keywords=(KeywordSpec(text="womens boots", match_type=MatchType.PHRASE),),
        ad=RSA,
    )
    variant = AddCreativeVariants(account=NAME, rationale="r", ad_group_id="30", ad=RSA)
    account.apply([group], validate_only=False)
    created = next(g for g in account.structure().ad_groups if g.name == "Women's Boots")
    assert account.read_back(group).state["ad_group_id"] == created.id
    assert account.read_back(variant).state["ad_id"] == "70"
