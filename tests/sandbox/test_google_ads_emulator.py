"""The local Google Ads API, spoken to by the real google-ads client (GoogleAdsService over gRPC)."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.ads.googleads.errors import GoogleAdsException
from google.api_core.exceptions import ResourceExhausted

from ads.ad_copy import PLATFORM_RSA_LIMITS, rsa_problems
from ads.entities import (
    MatchType,
    ResponsiveSearchAdCopy,
)
from ads.google_ads import GoogleAdsAccount, GoogleAdsSettings, api_types
from ads.limits import limit
from sandbox.google_ads_emulator import GoogleAdsEmulator
from sandbox.store import SandboxAccount
from tests.google_ads_sample import CUSTOMER_ID, TODAY


@pytest.fixture(scope="module")
def service(google_ads_emulator: GoogleAdsEmulator):
    return GoogleAdsAccount(GoogleAdsSettings.load(environ=google_ads_emulator.client_settings())).google_ads_service


pytestmark = pytest.mark.usefixtures("fresh_google_ads_account")

T = api_types("v26")


def mutate(service, operations, *, partial_failure=False, validate_only=False):
    return service.mutate(
        request=T.services.MutateGoogleAdsRequest(
            customer_id=CUSTOMER_ID,
            mutate_operations=operations,
            partial_failure=partial_failure,
            validate_only=validate_only,
        )
    )


def negative(campaign_id: str, text: str):
    return T.services.MutateOperation(
        campaign_criterion_operation=T.services.CampaignCriterionOperation(
            create=T.resources.CampaignCriterion(
                campaign=f"customers/{CUSTOMER_ID}/campaigns/{campaign_id}",
                negative=True,
                keyword=T.common.KeywordInfo(text=text, match_type="EXACT"),
            )
        )
    )


def campaign_negatives(google_ads_sandbox: SandboxAccount) -> set[tuple[str, str]]:
    return {(n.owner_id, n.text) for n in google_ads_sandbox.structure().negatives if n.level == "campaign"}


def test_emulator_listens_on_loopback_and_names_its_customer(google_ads_emulator: GoogleAdsEmulator) -> None:
    assert google_ads_emulator.endpoint.startswith("127.0.0.1:") and int(google_ads_emulator.endpoint.split(":")[1]) > 0
    assert google_ads_emulator.customer_id == CUSTOMER_ID
    assert google_ads_emulator.client_settings()["GOOGLE_ADS_CUSTOMER_ID"] == CUSTOMER_ID


def test_search_returns_real_rows_filtered_ordered_and_limited(service) -> None:
    response = service.search(
        customer_id=CUSTOMER_ID,
        query=(
            "SELECT ad_group.id, ad_group.name, campaign.id FROM ad_group WHERE campaign.id = 11 "
            "ORDER BY ad_group.name DESC LIMIT 1"
        ),
    )
    rows = list(response.results)
    assert isinstance(rows[0], T.services.GoogleAdsRow)
    assert [(r.ad_group.id, r.ad_group.name, r.campaign.id) for r in rows] == [(32, "Trail runners", 11)]


def test_search_stream_sums_metrics_over_a_during_range(service) -> None:
    stream = service.search_stream(
        customer_id=CUSTOMER_ID,
        query=(
            "SELECT campaign.id, metrics.clicks, metrics.cost_micros FROM campaign "
            "WHERE segments.date DURING LAST_7_DAYS ORDER BY campaign.id"
        ),
    )
    rows = [row for batch in stream for row in batch.results]
    # LAST_7_DAYS excludes today: 7 days x 10 clicks per ad group; campaign 11 holds two ad groups
    assert [(r.campaign.id, r.metrics.clicks) for r in rows] == [(11, 140), (12, 70)]
    costs = {r.campaign.id: r.metrics.cost_micros for r in rows}
    assert costs[12] == sum(2_500_000 + i for i in range(32, 39))


def test_search_term_view_reports_keyword_segments(service) -> None:
    rows = list(
        service.search(
            customer_id=CUSTOMER_ID,
            query=(
                "SELECT search_term_view.search_term, segments.keyword.info.match_type, metrics.clicks "
                "FROM search_term_view "
                f"WHERE segments.date BETWEEN '{TODAY - dt.timedelta(days=1)}' AND '{TODAY}' "
                "AND search_term_view.search_term LIKE '%jobs%'"
            ),
        ).results
    )
    assert [
        (r.search_term_view.search_term, r.segments.keyword.info.match_type.name, r.metrics.clicks) for r in rows
    ] == [("hiking boot jobs", "PHRASE", 6)]


def test_an_unknown_field_is_a_query_error(service) -> None:
    with pytest.raises(GoogleAdsException) as caught:
        service.search(customer_id=CUSTOMER_ID, query="SELECT campaign.colour FROM campaign")
    error = caught.value.failure.errors[0]
    assert error.error_code.query_error.name == "QUERY_ERROR" and "campaign.colour" in error.message
    assert caught.value.error.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_another_customer_is_permission_denied(service) -> None:
    with pytest.raises(GoogleAdsException) as caught:
        service.search(customer_id="9999999999", query="SELECT customer.id FROM customer")
    assert caught.value.error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.failure.errors[0].error_code.authorization_error.name == "USER_PERMISSION_DENIED"


def test_quota_errors_on_demand_then_normal_service(google_ads_emulator: GoogleAdsEmulator, service) -> None:
    google_ads_emulator.fail_next_with_quota = 1
    with pytest.raises(ResourceExhausted) as caught:  # the SDK's gapic layer maps the gRPC status
        service.search(customer_id=CUSTOMER_ID, query="SELECT customer.id FROM customer")
    assert caught.value.grpc_status_code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert list(service.search(customer_id=CUSTOMER_ID, query="SELECT customer.id FROM customer").results)


def test_a_failing_operation_without_partial_failure_writes_nothing(
    service, google_ads_sandbox: SandboxAccount
) -> None:
    before = campaign_negatives(google_ads_sandbox)
    with pytest.raises(GoogleAdsException) as caught:
        mutate(service, [negative("11", "tent stakes"), negative("999", "cheap")])
    error = caught.value.failure.errors[0]
    assert error.error_code.mutate_error.name == "RESOURCE_NOT_FOUND"
    assert error.location.field_path_elements[0].field_name == "mutate_operations"
    assert error.location.field_path_elements[0].index == 1
    assert campaign_negatives(google_ads_sandbox) == before


def test_partial_failure_applies_the_good_operations(service, google_ads_sandbox: SandboxAccount) -> None:
    response = mutate(
        service,
        [negative("11", "tent stakes"), negative("11", "tent stakes"), negative("12", "cheap")],
        partial_failure=True,
    )
    assert response.partial_failure_error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    failure = T.errors.GoogleAdsFailure.deserialize(response.partial_failure_error.details[0].value)
    assert [e.location.field_path_elements[0].index for e in failure.errors] == [1]
    assert failure.errors[0].error_code.mutate_error.name == "RESOURCE_ALREADY_EXISTS"
    assert failure.errors[0].trigger.string_value == "tent stakes"
    names = [r.campaign_criterion_result.resource_name for r in response.mutate_operation_responses]
    assert names[0].startswith(f"customers/{CUSTOMER_ID}/campaignCriteria/11~") and names[1] == ""
    assert {("11", "tent stakes"), ("12", "cheap")} <= campaign_negatives(google_ads_sandbox)


def test_validate_only_reports_errors_and_writes_nothing(service, google_ads_sandbox: SandboxAccount) -> None:
    before = google_ads_sandbox.structure()
    response = mutate(service, [negative("11", "tent stakes")], validate_only=True)
    assert not response.partial_failure_error.code and not response.mutate_operation_responses
    assert google_ads_sandbox.structure() == before


def test_a_headline_over_30_characters_is_rejected_with_its_path(service) -> None:
    rsa = T.common.ResponsiveSearchAdInfo(
        headlines=[T.common.AdTextAsset(text=t) for t in ("Boots", "x" * 31, "Shop")],
        descriptions=[T.common.AdTextAsset(text="One."), T.common.AdTextAsset(text="Two.")],
    )
    operation = T.services.MutateOperation(
        ad_group_ad_operation=T.services.AdGroupAdOperation(
            create=T.resources.AdGroupAd(
                ad_group=f"customers/{CUSTOMER_ID}/adGroups/31",
                status="PAUSED",
                ad=T.resources.Ad(final_urls=["https://trailhead.example"], responsive_search_ad=rsa),
            )
        )
    )
    with pytest.raises(GoogleAdsException) as caught:
        mutate(service, [operation])
    error = caught.value.failure.errors[0]
    assert error.error_code.string_length_error.name == "TOO_LONG" and error.trigger.string_value == "x" * 31
    path = [(e.field_name, e.index) for e in error.location.field_path_elements]
    assert ("headlines", 1) in path and path[0] == ("mutate_operations", 0)


def test_a_new_shared_list_linked_through_a_temporary_id(service, google_ads_sandbox: SandboxAccount) -> None:
    temporary = f"customers/{CUSTOMER_ID}/sharedSets/-1"
    response = mutate(
        service,
        [
            T.services.MutateOperation(
                shared_set_operation=T.services.SharedSetOperation(
                    create=T.resources.SharedSet(resource_name=temporary, name="Competitors", type_="NEGATIVE_KEYWORDS")
                )
            ),
            T.services.MutateOperation(
                shared_criterion_operation=T.services.SharedCriterionOperation(
                    create=T.resources.SharedCriterion(
                        shared_set=temporary, keyword=T.common.KeywordInfo(text="rei", match_type="PHRASE")
                    )
                )
            ),
            T.services.MutateOperation(
                campaign_shared_set_operation=T.services.CampaignSharedSetOperation(
                    create=T.resources.CampaignSharedSet(
                        campaign=f"customers/{CUSTOMER_ID}/campaigns/12", shared_set=temporary
                    )
                )
            ),
        ],
    )
    assert not response.partial_failure_error.code
    structure = google_ads_sandbox.structure()
    (created,) = [s for s in structure.shared_lists if s.name == "Competitors"]
    assert created.campaign_ids == ("12",)
    assert [(n.text, n.match_type) for n in structure.negatives if n.owner_id == created.id] == [
        ("rei", MatchType.PHRASE)
    ]


def test_a_budget_update_follows_the_field_mask(service, google_ads_sandbox: SandboxAccount) -> None:
    from google.api_core.protobuf_helpers import field_mask

    budget = T.resources.CampaignBudget(
        resource_name=f"customers/{CUSTOMER_ID}/campaignBudgets/22", amount_micros=33_000_000
    )
    mutate(
        service,
        [
            T.services.MutateOperation(
                campaign_budget_operation=T.services.CampaignBudgetOperation(
                    update=budget, update_mask=field_mask(None, type(budget).pb(budget))
                )
            )
        ],
    )
    (updated,) = [b for b in google_ads_sandbox.structure().budgets if b.id == "22"]
    assert updated.daily_amount == 33_000_000 and updated.name == "Tents daily"


def rsa_operation(headlines: list[str], descriptions: list[str], path1: str = ""):
    rsa = T.common.ResponsiveSearchAdInfo(
        headlines=[T.common.AdTextAsset(text=t) for t in headlines],
        descriptions=[T.common.AdTextAsset(text=t) for t in descriptions],
        path1=path1,
    )
    return T.services.MutateOperation(
        ad_group_ad_operation=T.services.AdGroupAdOperation(
            create=T.resources.AdGroupAd(
                ad_group=f"customers/{CUSTOMER_ID}/adGroups/31",
                status="PAUSED",
                ad=T.resources.Ad(final_urls=["https://trailhead.example"], responsive_search_ad=rsa),
            )
        )
    )


def emulator_error(service, operation) -> str | None:
    """The emulator's error code for one operation sent with validate_only, or None when it accepts it."""
    try:
        mutate(service, [operation], validate_only=True)
    except GoogleAdsException as exc:
        code = exc.failure.errors[0].error_code
        return getattr(code, code._pb.WhichOneof("error_code")).name
    return None


def _texts(count: int, length: int = 10) -> list[str]:
    return [f"{i:03d}".ljust(length, "x") for i in range(count)]


L = PLATFORM_RSA_LIMITS


@pytest.mark.parametrize(
    ("headlines", "descriptions", "path1", "rejected_with"),
    [
        (_texts(L.min_headlines), _texts(L.min_descriptions), "", None),
        (_texts(L.min_headlines - 1), _texts(L.min_descriptions), "", "TOO_FEW"),
        (_texts(L.max_headlines), _texts(L.max_descriptions), "", None),
        (_texts(L.max_headlines + 1), _texts(L.min_descriptions), "", "TOO_MANY"),
        (_texts(L.min_headlines), _texts(L.min_descriptions - 1), "", "TOO_FEW"),
        (_texts(L.min_headlines), _texts(L.max_descriptions + 1), "", "TOO_MANY"),
        (_texts(L.min_headlines, L.headline_max_chars), _texts(L.min_descriptions, L.description_max_chars), "", None),
        (_texts(L.min_headlines, L.headline_max_chars + 1), _texts(L.min_descriptions), "", "TOO_LONG"),
        (_texts(L.min_headlines), _texts(L.min_descriptions, L.description_max_chars + 1), "", "TOO_LONG"),
        (_texts(L.min_headlines), _texts(L.min_descriptions), "p" * L.path_max_chars, None),
        (_texts(L.min_headlines), _texts(L.min_descriptions), "p" * (L.path_max_chars + 1), "TOO_LONG"),
    ],
)
def test_the_emulator_enforces_the_rsa_limits_of_the_ads_table(
    service, headlines: list[str], descriptions: list[str], path1: str, rejected_with: str | None
) -> None:
    assert emulator_error(service, rsa_operation(headlines, descriptions, path1)) == rejected_with
    copy = ResponsiveSearchAdCopy(
        headlines=tuple(headlines), descriptions=tuple(descriptions), path1=path1, final_url="https://trailhead.example"
    )
    assert bool(rsa_problems(copy)) == (rejected_with is not None)  # the store's check agrees with the platform's


@pytest.mark.parametrize(
    ("text", "rejected_with"),
    [
        ("k" * limit("keyword_max_chars"), None),
        ("k" * (limit("keyword_max_chars") + 1), "KEYWORD_TEXT_TOO_LONG"),
        (" ".join(["word"] * limit("negative_keyword_max_words")), None),
        (" ".join(["word"] * (limit("negative_keyword_max_words") + 1)), "KEYWORD_HAS_TOO_MANY_WORDS"),
    ],
)
def test_the_emulator_enforces_the_keyword_limits_of_the_ads_table(
    service, text: str, rejected_with: str | None
) -> None:
    assert emulator_error(service, negative("11", text)) == rejected_with
