"""Client of the court and procuratorate service (移动微法院: a party's cases, online hearings with consent,
mediation agreements; 检察院 video hearings).

Every personal call needs a verified identity (token + the chat user it was issued to). A case number of someone
else's case is rejected exactly like one nobody has (`case_not_found`). The consent and the signature carry an
idempotency key, so a retried message never records twice; the reads are retried freely. Times are aware
`datetime`s in China time (+08:00), as the service sends them. The service reads case numbers in their usual
writings (bot.case_numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from integrations.services.base import BaseServiceClient

PREFIX = "/api/v1/court"
@dataclass(frozen=True)
class CourtRules:
    faq: dict[str, str]  # online_refusal, online_how, identity_check, mediation_effect, litigation_fee, case_stages,
    # procuratorate_hearing, reschedule: ready-made answers, each naming its basis
    hotline: str  # 12368
    joining_instructions: str  # how to join an online hearing
    identity_recheck: str  # identity is checked again (face recognition) before a hearing
    in_court_note: str  # attending in person
    procuratorate_note: str  # procuratorate video hearings: consent, or attend / write instead


@dataclass(frozen=True)
class CourtCase:
    case_number: str  # (2020)浙0106民初1234号
    court: str
    cause: str  # 案由
    role: str  # the person's role: 原告 / 被告 / 第三人 / 申请人 …
    stage: str  # filed / pretrial / hearing_scheduled / mediation / judged / closed
    stage_name: str  # 已立案 … 已结案
    next_step: str  # one sentence
    next_date: datetime | None  # the next hearing, if one is scheduled
    judge: str
    other_parties: tuple[str, ...]  # persons masked (赵**), organisations as registered
    has_hearing: bool  # a hearing today or later
    has_mediation: bool  # a mediation agreement exists


@dataclass(frozen=True)
class Hearing:
    hearing_id: str  # H0001
    kind: str  # court / procuratorate
    organ: str  # 杭州市西湖区人民法院 / 杭州市西湖区人民检察院
    case_number: str | None  # court hearings
    subject: str | None  # what it is about
    scheduled_at: datetime
    place: str  # where to attend in person
    online_possible: bool
    mode: str  # online / in_person / pending (consent not given yet)
    consent: str | None  # agreed / refused / None
    consent_at: datetime | None
    how_it_works: str
    joining_instructions: str  # empty unless the hearing is online (consent agreed)
    identity_recheck: str
    already_recorded: bool = False  # give_consent only: the same decision was recorded before (HTTP 200)


@dataclass(frozen=True)
class MediationParty:
    role: str
    name: str  # persons masked (陈*), organisations as registered
    signed: bool  # signed the current version
    signed_at: datetime | None


@dataclass(frozen=True)
class Mediation:
    case_number: str
    court: str
    version: int  # sign this version; a newer one voids earlier signatures
    text: str  # the full agreement text
    published_at: datetime
    parties: tuple[MediationParty, ...]
    signed_by_me: bool
    my_signed_at: datetime | None
    all_signed: bool
    waiting_for: tuple[str, ...]  # e.g. ("被告杭州优选汇电子商务有限公司",)
    next_step: str
    voided_versions: int  # earlier versions (their signatures are void)
    already_signed: bool = False  # sign_mediation only: signed this version before (HTTP 200)
    created: bool = False  # sign_mediation only: this request recorded the signature (HTTP 201)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _rules(data: dict[str, Any]) -> CourtRules:
    return CourtRules(
        faq=dict(data["faq"]),
        hotline=str(data["hotline"]),
        joining_instructions=data["joining_instructions"],
        identity_recheck=data["identity_recheck"],
        in_court_note=data["in_court_note"],
        procuratorate_note=data["procuratorate_note"],
    )


def _case(data: dict[str, Any]) -> CourtCase:
    return CourtCase(
        case_number=data["case_number"],
        court=data["court"],
        cause=data["cause"],
        role=data["role"],
        stage=data["stage"],
        stage_name=data["stage_name"],
        next_step=data["next_step"],
        next_date=_time(data.get("next_date")),
        judge=data["judge"],
        other_parties=tuple(data.get("other_parties") or ()),
        has_hearing=bool(data["has_hearing"]),
        has_mediation=bool(data["has_mediation"]),
    )


def hearing_from_json(data: dict[str, Any]) -> Hearing:
    """A hearing as the service sends it (or as a slot keeps it: the same JSON)."""
    return Hearing(
        hearing_id=data["hearing_id"],
        kind=data["kind"],
        organ=data["organ"],
        case_number=data.get("case_number"),
        subject=data.get("subject"),
        scheduled_at=datetime.fromisoformat(data["scheduled_at"]),
        place=data["place"],
        online_possible=bool(data["online_possible"]),
        mode=data["mode"],
        consent=data.get("consent"),
        consent_at=_time(data.get("consent_at")),
        how_it_works=data["how_it_works"],
        joining_instructions=data.get("joining_instructions") or "",
        identity_recheck=data["identity_recheck"],
        already_recorded=bool(data.get("already_recorded")),
    )


def mediation_from_json(data: dict[str, Any], created: bool | None = None) -> Mediation:
    """An agreement as the service sends it (or as a slot keeps it, `created` included)."""
    return Mediation(
        case_number=data["case_number"],
        court=data["court"],
        version=int(data["version"]),
        text=data["text"],
        published_at=datetime.fromisoformat(data["published_at"]),
        parties=tuple(
            MediationParty(item["role"], item["name"], bool(item["signed"]), _time(item.get("signed_at")))
            for item in data["parties"]
        ),
        signed_by_me=bool(data.get("signed_by_me")),
        my_signed_at=_time(data.get("my_signed_at")),
        all_signed=bool(data["all_signed"]),
        waiting_for=tuple(data.get("waiting_for") or ()),
        next_step=data["next_step"],
        voided_versions=int(data.get("voided_versions") or 0),
        already_signed=bool(data.get("already_signed")),
        created=bool(data.get("created")) if created is None else created,
    )


def _case_path(case_number: str) -> str:
    return f"{PREFIX}/cases/{quote(case_number, safe='')}"


class CourtClient(BaseServiceClient):
    service_name = "法院诉讼服务"

    async def get_rules(self) -> CourtRules:
        """Public: ready-made FAQ answers (online hearing consent, mediation, fees, stages, 检察听证, postponing),
        the hotline and the hearing notes."""
        _, data = await self._request("GET", f"{PREFIX}/rules")
        return _rules(data)

    async def list_cases(self, *, token: str, chat_user: str) -> list[CourtCase]:
        """The cases the verified person is a party to, the most recently filed first."""
        _, data = await self._request("GET", f"{PREFIX}/cases", token=token, chat_user=chat_user)
        return [_case(item) for item in data["items"]]

    async def get_case(self, *, token: str, chat_user: str, case_number: str) -> CourtCase:
        """One of the person's cases by case number (any usual writing).

        Raises ServiceRejected: invalid_case_number (422, details["example"]); case_not_found (404, the same for a
        case nobody has and for someone else's case).
        """
        _, data = await self._request("GET", _case_path(case_number), token=token, chat_user=chat_user)
        return _case(data)

    async def list_hearings(self, *, token: str, chat_user: str) -> list[Hearing]:
        """The person's court hearings and procuratorate hearings of today and later, soonest first."""
        _, data = await self._request("GET", f"{PREFIX}/hearings", token=token, chat_user=chat_user)
        return [hearing_from_json(item) for item in data["items"]]

    async def give_consent(
        self, *, token: str, chat_user: str, idempotency_key: str, hearing_id: str, agree: bool
    ) -> Hearing:
        """Agree (or not) to take part online; recorded once. Safe to retry with the same key; the same decision
        again returns the hearing with `already_recorded`.

        Raises ServiceRejected: hearing_not_found (404); consent_already_recorded (409, a different decision was
        recorded before: the message says how to change it, details["consent"]); hearing_over (422, it has begun);
        online_not_available (422, in person only); invalid_field (422); idempotency_conflict (409).
        """
        _, data = await self._request(
            "POST",
            f"{PREFIX}/hearings/{quote(hearing_id, safe='')}/consent",
            json={"agree": bool(agree)},
            token=token,
            chat_user=chat_user,
            idempotency_key=idempotency_key,
        )
        return hearing_from_json(data)

    async def list_mediations(self, *, token: str, chat_user: str) -> list[Mediation]:
        """The agreements of the person's cases (with `signed_by_me`), the most recently published first."""
        _, data = await self._request("GET", f"{PREFIX}/mediations", token=token, chat_user=chat_user)
        return [mediation_from_json(item) for item in data["items"]]

    async def get_mediation(self, *, token: str, chat_user: str, case_number: str) -> Mediation:
        """The current agreement of one of the person's cases: full text and who has signed.

        Raises ServiceRejected: invalid_case_number (422); case_not_found (404); no_mediation (404, her case has
        no agreement).
        """
        _, data = await self._request(
            "GET", f"{_case_path(case_number)}/mediation", token=token, chat_user=chat_user
        )
        return mediation_from_json(data)

    async def sign_mediation(
        self, *, token: str, chat_user: str, idempotency_key: str, case_number: str, version: int
    ) -> Mediation:
        """Sign the version the citizen read; recorded once per party and version (`created`). Safe to retry with
        the same key; signed before → `already_signed`.

        Raises ServiceRejected: invalid_case_number (422); case_not_found (404); no_mediation (404);
        agreement_version_changed (409, the text changed: show it again; details["current_version"]);
        invalid_field (422); idempotency_conflict (409).
        """
        status, data = await self._request(
            "POST",
            f"{_case_path(case_number)}/mediation/signature",
            json={"version": int(version)},
            token=token,
            chat_user=chat_user,
            idempotency_key=idempotency_key,
        )
        return mediation_from_json(data, created=status == 201)
