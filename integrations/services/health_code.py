"""Client of the health-code (健康码) service: apply with a health declaration, query, daily check-in, appeal.

Every call needs a verified identity (token + the chat user it was issued to). Changes carry an idempotency key,
so a retried message never issues, counts or files twice; dates are ISO strings (China calendar days).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from integrations.services.base import BaseServiceClient

PREFIX = "/api/v1/health-code"


@dataclass(frozen=True)
class HealthCodeRules:
    abnormal_temperature: float  # 37.3: at or above is abnormal
    temperature_range: tuple[float, float]  # plausible readings accepted, e.g. (34.0, 43.0)
    days_to_green: dict[str, int]  # {"yellow": 7, "red": 14}
    symptoms: dict[str, str]  # code → Chinese name: fever 发热, cough 咳嗽, fatigue 乏力
    key_areas: list[str]  # sample list
    no_smartphone: str
    hotline: str


@dataclass(frozen=True)
class HealthCode:
    name_masked: str  # 林*
    colour: str  # green / yellow / red
    colour_text: str  # 绿码 / 黄码 / 红码
    reason_code: str  # declared_healthy, turned_green, key_area_travel, fever, symptoms, abnormal_check_in,
    #                   contact_with_case, fever_with_key_area, close_contact, suspected, confirmed
    reason: str  # the reason in plain words
    what_to_do: str  # isolation and next steps for this reason
    how_to_turn_green: str | None  # None when green
    streak: int  # consecutive normal daily check-ins (0 once a day was missed)
    required_days: int  # to turn green: 7 (yellow), 14 (red), 0 (green)
    streak_text: str  # "已连续打卡 5/7 天" ("" for a green code without check-ins)
    checked_in_today: bool
    last_check_in_date: str | None
    earliest_green_date: str | None  # None when green; assumes a normal check-in every day
    today: str  # the sandbox's (or service's) date
    issued_at: str
    updated_at: str
    no_smartphone: str  # what to do without a smartphone (the code is never the only pass)
    already_applied: bool = False  # apply only: the person already had this code (HTTP 200)
    created: bool = False  # apply only: this request issued the code (HTTP 201)


@dataclass(frozen=True)
class CheckInResult:
    code: HealthCode  # the code after the check-in (colour possibly changed)
    check_in_date: str
    already_checked_in: bool  # a second check-in the same day: this is the first one's result, not counted
    normal: bool
    result_text: str  # 正常 / 异常
    temperature: float
    symptoms: list[str]
    advice: str
    streak_reset: bool  # a missed day had broken the streak before this check-in
    previous_colour: str
    colour_changed: bool


@dataclass(frozen=True)
class Appeal:
    appeal_no: str
    status: str  # under_review
    status_text: str  # 审核中
    colour: str  # the colour disputed
    colour_text: str
    reason: str
    submitted_at: str
    message: str
    expected_reply: str
    already_open: bool = False  # an open appeal existed: this is it (HTTP 200)


def _build(cls: type, data: dict[str, Any], **extra: Any) -> Any:
    """The dataclass from the fields the service sent; unknown fields (a newer service) are ignored."""
    names = {field.name for field in fields(cls)} - set(extra)
    return cls(**{name: data.get(name) for name in names if name in data}, **extra)


def _code(data: dict[str, Any], created: bool = False) -> HealthCode:
    return _build(HealthCode, data, already_applied=bool(data.get("already_applied")), created=created)


def _check_in(data: dict[str, Any]) -> CheckInResult:
    return _build(CheckInResult, data, code=_code(data))


class HealthCodeClient(BaseServiceClient):
    service_name = "健康码服务"

    async def get_rules(self) -> HealthCodeRules:
        _, data = await self._request("GET", f"{PREFIX}/rules")
        low, high = data["temperature_range"]
        return HealthCodeRules(
            abnormal_temperature=float(data["abnormal_temperature"]),
            temperature_range=(float(low), float(high)),
            days_to_green={k: int(v) for k, v in data["days_to_green"].items()},
            symptoms=dict(data["symptoms"]),
            key_areas=list(data["key_areas"]),
            no_smartphone=data["no_smartphone"],
            hotline=str(data["hotline"]),
        )

    async def apply(
        self,
        *,
        token: str,
        chat_user: str,
        idempotency_key: str,
        symptoms: list[str],
        temperature: float,
        key_area_travel: bool,
        contact_with_case: bool,
        area: str | None = None,
    ) -> HealthCode:
        """Declare and get a code; someone who has one gets it back (already_applied). Safe to retry with the key.

        symptoms: codes fever / cough / fatigue (or 发热 / 咳嗽 / 乏力), [] for none. Raises ServiceRejected:
        invalid_temperature, invalid_symptoms, invalid_area (422), unauthorized (401), insufficient_level (403).
        """
        body = {
            "symptoms": list(symptoms),
            "temperature": temperature,
            "key_area_travel": key_area_travel,
            "area": area,
            "contact_with_case": contact_with_case,
        }
        status, data = await self._request(
            "POST", f"{PREFIX}/applications", json=body, token=token, chat_user=chat_user,
            idempotency_key=idempotency_key,
        )
        return _code(data, created=status == 201)

    async def get_code(self, *, token: str, chat_user: str) -> HealthCode:
        """The current code. Raises ServiceRejected `no_health_code` (404) if the person has none yet."""
        _, data = await self._request("GET", f"{PREFIX}/code", token=token, chat_user=chat_user)
        return _code(data)

    async def check_in(
        self, *, token: str, chat_user: str, idempotency_key: str, temperature: float, symptoms: list[str]
    ) -> CheckInResult:
        """Today's check-in (one per China calendar day). Raises ServiceRejected no_health_code (404),
        invalid_temperature / invalid_symptoms (422)."""
        status, data = await self._request(
            "POST", f"{PREFIX}/check-ins", json={"temperature": temperature, "symptoms": list(symptoms)},
            token=token, chat_user=chat_user, idempotency_key=idempotency_key,
        )
        return _check_in(data)

    async def appeal(self, *, token: str, chat_user: str, idempotency_key: str, reason: str) -> Appeal:
        """File an appeal (2–500 characters); an open one is returned instead of a second (already_open).
        Raises ServiceRejected no_health_code (404), invalid_reason (422)."""
        _, data = await self._request(
            "POST", f"{PREFIX}/appeals", json={"reason": reason}, token=token, chat_user=chat_user,
            idempotency_key=idempotency_key,
        )
        return _build(Appeal, data, already_open=bool(data.get("already_open")))

    async def list_appeals(self, *, token: str, chat_user: str) -> list[Appeal]:
        _, data = await self._request("GET", f"{PREFIX}/appeals", token=token, chat_user=chat_user)
        return [_build(Appeal, item, already_open=False) for item in data["items"]]

    async def dev_clock(self) -> str:
        """Development sandbox only (404 otherwise): the sandbox's date, ISO."""
        _, data = await self._request("GET", "/dev/clock")
        return str(data["today"])

    async def dev_advance_clock(self, days: int) -> str:
        """Development sandbox only: move the sandbox's date forward; returns the new date.
        Not retried (no idempotency key): a repeat would move the clock twice."""
        _, data = await self._request("POST", "/dev/clock", json={"advance_days": days})
        return str(data["today"])
