"""Client of the rent-subsidy (租房补贴) service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.services.base import BaseServiceClient


@dataclass(frozen=True)
class RentSubsidyPolicy:
    city: str
    months: int
    amounts: dict[str, int]
    conditions: list[str]
    materials: str
    commitment_text: str
    period: str
    hotline: str


@dataclass(frozen=True)
class IneligibilityReason:
    code: str  # no_employment, employer_not_local, no_social_insurance, owns_housing, degree_not_covered, ...
    message: str
    next_step: str


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: list[IneligibilityReason]
    degree: str | None
    monthly_amount: int
    months: int
    total_amount: int
    payout_account_masked: str | None
    period: str
    already_applied: bool
    application_no: str | None


@dataclass(frozen=True)
class RentSubsidyApplication:
    application_no: str
    status: str  # "paid"
    status_text: str  # "已发放"
    amount: int
    monthly_amount: int
    months: int
    degree: str
    period: str
    applied_at: str
    paid_at: str | None
    payout_account_masked: str
    created: bool = False  # True only for the request that created it (HTTP 201)


def _reasons(items: list[dict[str, Any]]) -> list[IneligibilityReason]:
    return [IneligibilityReason(item["code"], item["message"], item["next_step"]) for item in items]


def _application(data: dict[str, Any], created: bool = False) -> RentSubsidyApplication:
    fields = {
        name: data.get(name) for name in RentSubsidyApplication.__dataclass_fields__ if name != "created"
    }
    return RentSubsidyApplication(**fields, created=created)


class RentSubsidyClient(BaseServiceClient):
    service_name = "租房补贴服务"

    async def get_policy(self) -> RentSubsidyPolicy:
        _, data = await self._request("GET", "/api/v1/rent-subsidy/policy")
        return RentSubsidyPolicy(
            city=data["city"],
            months=int(data["months"]),
            amounts={k: int(v) for k, v in data["amounts"].items()},
            conditions=list(data["conditions"]),
            materials=data["materials"],
            commitment_text=data["commitment_text"],
            period=str(data["period"]),
            hotline=str(data["hotline"]),
        )

    async def check_eligibility(self, *, token: str, chat_user: str) -> Eligibility:
        _, data = await self._request(
            "GET", "/api/v1/rent-subsidy/eligibility", token=token, chat_user=chat_user
        )
        return Eligibility(
            eligible=bool(data["eligible"]),
            reasons=_reasons(data["reasons"]),
            degree=data.get("degree"),
            monthly_amount=int(data["monthly_amount"]),
            months=int(data["months"]),
            total_amount=int(data["total_amount"]),
            payout_account_masked=data.get("payout_account_masked"),
            period=str(data["period"]),
            already_applied=bool(data.get("already_applied")),
            application_no=data.get("application_no"),
        )

    async def apply(
        self, *, token: str, chat_user: str, idempotency_key: str, commitment: bool = True
    ) -> RentSubsidyApplication:
        """Submit with the citizen's commitment; safe to retry with the same key (pays at most once).

        Raises ServiceRejected with code not_eligible (details["reasons"]) or commitment_required.
        """
        status, data = await self._request(
            "POST",
            "/api/v1/rent-subsidy/applications",
            json={"commitment": commitment},
            token=token,
            chat_user=chat_user,
            idempotency_key=idempotency_key,
        )
        return _application(data, created=status == 201)

    async def list_applications(self, *, token: str, chat_user: str) -> list[RentSubsidyApplication]:
        _, data = await self._request(
            "GET", "/api/v1/rent-subsidy/applications", token=token, chat_user=chat_user
        )
        return [_application(item) for item in data["items"]]
