"""Client of the entry/exit information service (出入境信息一键通).

Every answer carries its facts in Chinese and, in the `*_en` fields, in English for foreign travellers (None where the
service has no translation: say the Chinese then, rather than nothing).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from integrations.services.base import BaseServiceClient, ServiceRejected


@dataclass(frozen=True)
class CountryMeasures:
    country: str
    english_name: str
    entry_status: str  # allowed | restricted | suspended
    entry_status_text: str
    quarantine_days: int | None
    test_requirement: str
    visa_status: str
    flights: str
    notes: str
    updated_at: str
    source: str
    entry_status_text_en: str | None = None
    test_requirement_en: str | None = None
    visa_status_en: str | None = None
    flights_en: str | None = None
    notes_en: str | None = None
    source_en: str | None = None


@dataclass(frozen=True)
class CountrySummary:
    country: str
    english_name: str
    entry_status: str


@dataclass(frozen=True)
class PortStatus:
    port: str
    city: str
    province: str
    kind: str  # air | land | sea
    passenger_status: str  # open | limited | suspended
    passenger_status_text: str
    cargo_status: str
    cargo_status_text: str
    hours: str
    notes: str
    updated_at: str
    source: str
    english_name: str | None = None
    city_en: str | None = None
    passenger_status_text_en: str | None = None
    cargo_status_text_en: str | None = None
    hours_en: str | None = None
    notes_en: str | None = None
    source_en: str | None = None


def english_suggestions(error: ServiceRejected) -> list[str]:
    """The English names of an unknown name's suggestions, in the order of `error.suggestions` (the Chinese names
    where the service gave none)."""
    english = list(error.details.get("suggestions_en") or [])
    return [english[i] if i < len(english) and english[i] else name for i, name in enumerate(error.suggestions)]


def _build(cls: type, data: dict[str, Any]) -> Any:
    return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


class ImmigrationClient(BaseServiceClient):
    """Public, slowly changing information: a found country or port is kept a few seconds, so the form's
    validation (which needs the canonical name) and the answer right after it make one request, not two."""

    service_name = "出入境信息服务"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recent: dict[str, tuple[float, Any]] = {}

    async def _get_cached(self, path: str) -> dict[str, Any]:
        now = time.monotonic()
        hit = self._recent.get(path)
        if hit is not None and hit[0] > now:
            return hit[1]
        _, data = await self._request("GET", path)  # errors are raised, never kept
        if len(self._recent) > 1_000:
            self._recent = {key: value for key, value in self._recent.items() if value[0] > now}
        self._recent[path] = (now + self.config.immigration_cache_seconds, data)
        return data

    async def get_country(self, name: str) -> CountryMeasures:
        """Measures for a country/region by Chinese name or alias (美利坚, US…).

        Unknown names raise ServiceRejected(code="unknown_country") whose `.suggestions` lists candidates.
        """
        data = await self._get_cached(f"/api/v1/immigration/countries/{quote(name.strip(), safe='')}")
        return _build(CountryMeasures, data)

    async def search_countries(self, q: str = "") -> list[CountrySummary]:
        _, data = await self._request("GET", "/api/v1/immigration/countries", params={"q": q or None})
        return [_build(CountrySummary, item) for item in data["items"]]

    async def get_port(self, name: str) -> PortStatus:
        """Port status by name or alias; unknown → ServiceRejected(code="unknown_port") with suggestions."""
        data = await self._get_cached(f"/api/v1/immigration/ports/{quote(name.strip(), safe='')}")
        return _build(PortStatus, data)

    async def list_ports(
        self, *, passenger_status: str | None = None, city: str | None = None, kind: str | None = None
    ) -> list[PortStatus]:
        params = {"passenger_status": passenger_status, "city": city, "kind": kind}
        _, data = await self._request("GET", "/api/v1/immigration/ports", params=params)
        return [_build(PortStatus, item) for item in data["items"]]
