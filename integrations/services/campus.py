"""Client of the campus-recruitment service (24365 校园招聘)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from integrations.services.base import BaseServiceClient


@dataclass(frozen=True)
class JobFair:
    fair_id: str
    title: str
    city: str | None
    online: bool
    industries: list[str]
    majors: list[str]
    start_date: str
    end_date: str
    venue: str
    organizer: str
    capacity: int
    registered: int
    status: str  # open | full | past


@dataclass(frozen=True)
class Position:
    position_id: str
    title: str
    company: str
    city: str
    industry: str
    degree: str
    majors: list[str]
    salary: str
    headcount: int
    fair_id: str | None


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    page_size: int

    @property
    def has_more(self) -> bool:
        return self.page * self.page_size < self.total


@dataclass(frozen=True)
class Registration:
    registration_no: str
    fair_id: str
    title: str
    city: str | None
    online: bool
    venue: str
    start_date: str
    end_date: str
    status: str  # registered
    status_text: str
    name_masked: str
    school: str
    major: str
    degree: str
    graduation_year: int
    registered_at: str
    created: bool = False  # True only for the request that created it (HTTP 201)


def _build(cls: type, data: dict[str, Any], **extra: Any) -> Any:
    return cls(**{name: data.get(name) for name in cls.__dataclass_fields__ if name not in extra}, **extra)


def _page(cls: type, data: dict[str, Any]) -> Page:
    return Page(
        [_build(cls, item) for item in data["items"]],
        int(data["total"]),
        int(data["page"]),
        int(data["page_size"]),
    )


def _iso(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


class CampusClient(BaseServiceClient):
    service_name = "校园招聘服务"

    async def search_job_fairs(
        self,
        *,
        city: str | None = None,
        online: bool | None = None,
        industry: str | None = None,
        major: str | None = None,
        date_from: date | str | None = None,
        date_to: date | str | None = None,
        include_past: bool = False,
        page: int = 1,
        page_size: int = 5,
    ) -> Page:
        """Fairs ordered by start date; `Page.items` are JobFair."""
        params = {
            "city": city,
            "online": None if online is None else str(online).lower(),
            "industry": industry,
            "major": major,
            "date_from": _iso(date_from),
            "date_to": _iso(date_to),
            "include_past": str(include_past).lower(),
            "page": page,
            "page_size": page_size,
        }
        _, data = await self._request("GET", "/api/v1/campus/job-fairs", params=params)
        return _page(JobFair, data)

    async def get_job_fair(self, fair_id: str) -> JobFair:
        _, data = await self._request("GET", f"/api/v1/campus/job-fairs/{quote(fair_id.strip(), safe='')}")
        return _build(JobFair, data)

    async def search_positions(
        self,
        *,
        city: str | None = None,
        industry: str | None = None,
        major: str | None = None,
        degree: str | None = None,
        page: int = 1,
        page_size: int = 5,
    ) -> Page:
        """Positions open to the given degree (minimum degree ≤ it); `Page.items` are Position."""
        params = {"city": city, "industry": industry, "major": major, "degree": degree, "page": page,
                  "page_size": page_size}
        _, data = await self._request("GET", "/api/v1/campus/positions", params=params)
        return _page(Position, data)

    async def register(
        self,
        fair_id: str,
        *,
        token: str,
        chat_user: str,
        idempotency_key: str,
        name: str,
        school: str,
        major: str,
        degree: str,
        graduation_year: int,
    ) -> Registration:
        """Register for a fair; a repeat returns the existing registration (created=False).

        Raises ServiceRejected: fair_full, fair_past, unknown_fair, invalid_field (details["field"]).
        """
        body = {
            "name": name,
            "school": school,
            "major": major,
            "degree": degree,
            "graduation_year": graduation_year,
        }
        status, data = await self._request(
            "POST",
            f"/api/v1/campus/job-fairs/{quote(fair_id.strip(), safe='')}/registrations",
            json=body,
            token=token,
            chat_user=chat_user,
            idempotency_key=idempotency_key,
        )
        return _build(Registration, data, created=status == 201)

    async def list_registrations(self, *, token: str, chat_user: str) -> list[Registration]:
        _, data = await self._request("GET", "/api/v1/campus/registrations", token=token, chat_user=chat_user)
        return [_build(Registration, item) for item in data["items"]]
