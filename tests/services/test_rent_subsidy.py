"""Rent subsidy: policy from configuration, eligibility with reasons, exactly-once payout."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from bot.settings import SandboxSettings
from tests.services.helpers import (
    CHEN_XIAO,
    HUANG_HAI,
    LIN_YUE,
    LIU_YANG,
    WANG_FANG,
    ZHANG_WEI,
    ZHAO_MIN,
    error_of,
    verify,
)

APPLICATIONS = "/api/v1/rent-subsidy/applications"


def _apply(client, headers, key, commitment=True):  # type: ignore[no-untyped-def]
    return client.post(
        APPLICATIONS, json={"commitment": commitment}, headers={**headers, "Idempotency-Key": key}
    )


def _reason_codes(client, persona) -> list[str]:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/rent-subsidy/eligibility", headers=verify(client, persona)).json()
    assert body["eligible"] is False
    for reason in body["reasons"]:
        assert reason["message"] and reason["next_step"]
    return [reason["code"] for reason in body["reasons"]]


def test_policy_is_explained_from_configuration(client):
    policy = client.get("/api/v1/rent-subsidy/policy").json()
    assert policy["city"] == "杭州"
    assert policy["amounts"] == {"专科": 500, "本科": 800, "硕士": 1000, "博士": 1500}
    assert policy["months"] == 12
    assert policy["sample_data"] is True
    assert any("社会保险" in line for line in policy["conditions"])
    assert "无需上传材料" in policy["materials"]


def test_changing_the_config_file_changes_the_policy_and_the_amounts(make_client, tmp_path: Path):
    config = yaml.safe_load(SandboxSettings().rent_subsidy_config.read_text(encoding="utf-8"))
    config["amounts"]["本科"] = 900
    config["months"] = 6
    config["period"] = "2030"
    path = tmp_path / "rent_subsidy.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    client = make_client(rent_subsidy_config=path)
    assert client.get("/api/v1/rent-subsidy/policy").json()["amounts"]["本科"] == 900
    eligibility = client.get("/api/v1/rent-subsidy/eligibility", headers=verify(client, CHEN_XIAO)).json()
    assert (eligibility["monthly_amount"], eligibility["months"], eligibility["total_amount"]) == (
        900,
        6,
        5400,
    )
    assert eligibility["period"] == "2030"


def test_chen_xiao_is_eligible_without_uploading_anything(client):
    body = client.get("/api/v1/rent-subsidy/eligibility", headers=verify(client, CHEN_XIAO)).json()
    assert body["eligible"] is True
    assert body["reasons"] == []
    assert body["degree"] == "本科"
    assert (body["monthly_amount"], body["months"], body["total_amount"]) == (800, 12, 9600)
    assert body["payout_account_masked"] == "6222 **** **** 4567"
    assert body["already_applied"] is False


def test_each_persona_hears_why_they_are_not_eligible(client):
    assert _reason_codes(client, LIN_YUE) == ["owns_housing"]
    assert _reason_codes(client, HUANG_HAI) == ["no_social_insurance"]
    assert _reason_codes(client, ZHANG_WEI) == ["employer_not_local"]
    assert _reason_codes(client, LIU_YANG) == ["no_employment", "no_social_insurance"]
    assert _reason_codes(client, ZHAO_MIN) == [
        "no_employment",
        "no_social_insurance",
        "owns_housing",
        "degree_not_covered",
    ]


def test_owning_housing_is_explained_in_chinese(client):
    body = client.get("/api/v1/rent-subsidy/eligibility", headers=verify(client, LIN_YUE)).json()
    reason = body["reasons"][0]
    assert "住房" in reason["message"] and "杭州" in reason["message"]
    assert "不动产登记" in reason["next_step"]


def test_apply_pays_once_and_reports_the_application(client):
    headers = verify(client, CHEN_XIAO)
    first = _apply(client, headers, "key-1")
    assert first.status_code == 201
    application = first.json()
    assert application["application_no"].startswith("ZF")
    assert (application["status"], application["status_text"]) == ("paid", "已发放")
    assert application["amount"] == 9600
    assert application["paid_at"].endswith("+08:00")
    assert application["payout_account_masked"] == "6222 **** **** 4567"

    retried = _apply(client, headers, "key-1")  # the same message retried
    assert retried.status_code == 201
    assert retried.json() == application

    again = _apply(client, verify(client, CHEN_XIAO), "key-2")  # asking again later
    assert again.status_code == 200
    assert again.json()["application_no"] == application["application_no"]

    listed = client.get(APPLICATIONS, headers=headers).json()["items"]
    assert [item["application_no"] for item in listed] == [application["application_no"]]
    eligibility = client.get("/api/v1/rent-subsidy/eligibility", headers=headers).json()
    assert eligibility["already_applied"] is True
    assert [reason["code"] for reason in eligibility["reasons"]] == ["already_paid"]


def test_parallel_duplicate_requests_still_pay_once(client):
    headers = verify(client, WANG_FANG)
    keys = ["same-key"] * 4 + [f"other-key-{i}" for i in range(6)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda key: _apply(client, headers, key), keys))
    assert all(response.status_code in (200, 201) for response in responses), [r.text for r in responses]
    numbers = {response.json()["application_no"] for response in responses}
    assert len(numbers) == 1
    assert sum(1 for response in responses if response.status_code == 201) >= 1
    assert len(client.get(APPLICATIONS, headers=headers).json()["items"]) == 1
    assert responses[0].json()["amount"] == 1500 * 12


def test_commitment_must_be_confirmed(client):
    headers = verify(client, CHEN_XIAO)
    response = _apply(client, headers, "k", commitment=False)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "commitment_required"
    assert "本人承诺" in error["message"]
    missing = client.post(APPLICATIONS, json={}, headers={**headers, "Idempotency-Key": "k2"})
    assert error_of(missing)["code"] == "commitment_required"
    assert client.get(APPLICATIONS, headers=headers).json()["items"] == []


def test_applications_need_an_idempotency_key(client):
    response = client.post(APPLICATIONS, json={"commitment": True}, headers=verify(client, CHEN_XIAO))
    assert response.status_code == 400
    assert error_of(response)["code"] == "idempotency_key_required"


def test_not_eligible_application_is_refused_with_reasons(client):
    response = _apply(client, verify(client, LIN_YUE), "k")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "not_eligible"
    assert [reason["code"] for reason in error["details"]["reasons"]] == ["owns_housing"]


def test_a_person_only_sees_their_own_applications(client):
    _apply(client, verify(client, CHEN_XIAO), "k")
    assert client.get(APPLICATIONS, headers=verify(client, WANG_FANG)).json()["items"] == []


def test_another_citizen_cannot_replay_an_idempotency_key(client):
    """Keys are scoped to the verified person: 王芳 sending 陈晓's key gets her own application, not his."""
    chen = _apply(client, verify(client, CHEN_XIAO), "shared-key").json()
    wang = _apply(client, verify(client, WANG_FANG), "shared-key")
    assert wang.status_code == 201
    assert wang.json()["application_no"] != chen["application_no"] and wang.json()["degree"] == "博士"
