"""Client of the enterprise work-resumption filing (企业复工申报, 备案制 + 承诺制) service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from integrations.services.base import BaseServiceClient


@dataclass(frozen=True)
class NegativeListEntry:
    name: str  # "KTV等歌舞娱乐场所"
    industries: tuple[str, ...]  # registered industries it covers: ("KTV", "歌舞厅", ...)
    reason: str
    next_step: str


@dataclass(frozen=True)
class ReviewLevel:
    code: str  # "street" | "district"
    level: str  # "街道（乡镇）复工备案窗口"
    working_days: int
    max_staff: int | None  # None: the open-ended last tier


@dataclass(frozen=True)
class WorkResumptionRules:
    today: date  # the sandbox's date
    min_days_ahead: int
    earliest_planned_date: date
    min_supplies_days: int
    staff_per_isolation_room: int
    min_isolation_rooms: int
    negative_list: tuple[NegativeListEntry, ...]
    review_levels: tuple[ReviewLevel, ...]
    commitment_text: str
    hotline: str

    def rooms_needed(self, returning_staff: int) -> int:
        """Isolation rooms the rules ask for (the service decides; this lets the chat say it up front)."""
        per_room = self.staff_per_isolation_room
        return max(self.min_isolation_rooms, -(-returning_staff // per_room))


@dataclass(frozen=True)
class Refusal:
    code: str  # "industry_not_allowed"
    message: str
    next_step: str


@dataclass(frozen=True)
class Company:
    credit_code: str
    name: str
    industry: str | None
    staff_count: int | None
    role: str  # "legal_representative" | "contact"
    role_text: str  # "法定代表人" | "登记联系人"
    may_file: bool  # False: on the negative list, `refusal` says why and what to do
    refusal: Refusal | None
    review_level: ReviewLevel
    earliest_planned_date: date


@dataclass(frozen=True)
class Filing:
    filing_no: str  # "FG202612010001"
    status: str  # "submitted"
    status_text: str  # "已备案（待审核）"
    credit_code: str
    company_name: str
    planned_date: date
    returning_staff: int
    key_area_staff: int
    supplies_days: int
    isolation_rooms: int
    review_level_code: str
    review_level: str
    review_deadline: date
    filed_on: date
    filed_at: str  # ISO 8601, +08:00
    filed_by_masked: str | None  # "王**"
    created: bool = False  # True only for the request that created it (HTTP 201)


def _review_level(data: dict[str, Any]) -> ReviewLevel:
    max_staff = data.get("max_staff")
    return ReviewLevel(
        data["code"], data["level"], int(data["working_days"]), None if max_staff is None else int(max_staff)
    )


def _rules(data: dict[str, Any]) -> WorkResumptionRules:
    return WorkResumptionRules(
        today=date.fromisoformat(data["today"]),
        min_days_ahead=int(data["min_days_ahead"]),
        earliest_planned_date=date.fromisoformat(data["earliest_planned_date"]),
        min_supplies_days=int(data["min_supplies_days"]),
        staff_per_isolation_room=int(data["staff_per_isolation_room"]),
        min_isolation_rooms=int(data["min_isolation_rooms"]),
        negative_list=tuple(
            NegativeListEntry(item["name"], tuple(item["industries"]), item["reason"], item["next_step"])
            for item in data["negative_list"]
        ),
        review_levels=tuple(_review_level(item) for item in data["review_levels"]),
        commitment_text=data["commitment_text"],
        hotline=str(data["hotline"]),
    )


def _company(data: dict[str, Any]) -> Company:
    refusal = data.get("refusal")
    return Company(
        credit_code=data["credit_code"],
        name=data["name"],
        industry=data.get("industry"),
        staff_count=data.get("staff_count"),
        role=data["role"],
        role_text=data["role_text"],
        may_file=bool(data["may_file"]),
        refusal=Refusal(refusal["code"], refusal["message"], refusal["next_step"]) if refusal else None,
        review_level=_review_level(data["review_level"]),
        earliest_planned_date=date.fromisoformat(data["earliest_planned_date"]),
    )


_DATE_FIELDS = ("planned_date", "review_deadline", "filed_on")


def _filing(data: dict[str, Any], created: bool = False) -> Filing:
    fields = {name: data.get(name) for name in Filing.__dataclass_fields__ if name != "created"}
    fields.update({name: date.fromisoformat(data[name]) for name in _DATE_FIELDS})
    return Filing(**fields, created=created)


class WorkResumptionClient(BaseServiceClient):
    service_name = "企业复工申报服务"

    async def get_rules(self) -> WorkResumptionRules:
        """Public rules, with the earliest planned date by the service's clock (tell the citizen before asking)."""
        _, data = await self._request("GET", "/api/v1/work-resumption/rules")
        return _rules(data)

    async def check_company(self, *, token: str, chat_user: str, credit_code: str) -> Company:
        """The company, if this verified person may act for it.

        Raises ServiceRejected with code invalid_credit_code (details["reason"]: "format" | "checksum") or
        company_not_found_or_not_authorised (404; the same for an unknown company and someone else's).
        """
        _, data = await self._request(
            "GET",
            f"/api/v1/work-resumption/companies/{quote(credit_code, safe='')}",
            token=token,
            chat_user=chat_user,
        )
        return _company(data)

    async def file(
        self,
        *,
        token: str,
        chat_user: str,
        idempotency_key: str,
        credit_code: str,
        planned_date: date,
        returning_staff: int,
        key_area_staff: int,
        supplies_days: int,
        isolation_rooms: int,
        commitment: bool = True,
    ) -> Filing:
        """File with the commitment; safe to retry with the same key. A company and planned date filed before
        returns that filing (`created` False).

        Raises ServiceRejected with code invalid_credit_code, company_not_found_or_not_authorised,
        industry_not_allowed (details: reason, next_step), planned_date_too_early (details:
        earliest_planned_date), insufficient_supplies, insufficient_isolation_rooms (details: rooms_needed),
        invalid_field (details: field), commitment_required, idempotency_conflict.
        """
        body = {
            "credit_code": credit_code,
            "planned_date": planned_date.isoformat(),
            "returning_staff": returning_staff,
            "key_area_staff": key_area_staff,
            "supplies_days": supplies_days,
            "isolation_rooms": isolation_rooms,
            "commitment": commitment,
        }
        status, data = await self._request(
            "POST",
            "/api/v1/work-resumption/filings",
            json=body,
            token=token,
            chat_user=chat_user,
            idempotency_key=idempotency_key,
        )
        return _filing(data, created=status == 201)

    async def list_filings(self, *, token: str, chat_user: str, credit_code: str | None = None) -> list[Filing]:
        """Filings of the companies this person may act for (or of one of them), newest first."""
        _, data = await self._request(
            "GET",
            "/api/v1/work-resumption/filings",
            params={"credit_code": credit_code},
            token=token,
            chat_user=chat_user,
        )
        return [_filing(item) for item in data["items"]]
