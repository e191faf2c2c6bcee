"""Sample court cases, hearings, mediation agreements and procuratorate hearings (services/seed/court.yml), dated
relative to the sandbox clock.

Called from services.seeding.seed_all in its transaction, after the people (the parties who can verify are persons
of services/seed/people.yml; nobody is added here). Idempotent: a case number or hearing id already present is left
alone with everything under it. Two processes seeding at once collide on the unique constraints, and the app's
seeding retry then finds the rows present.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import CHINA_TZ
from services.models import (
    CourtCase,
    CourtHearing,
    CourtHearingInvitee,
    CourtMediationAgreement,
    CourtMediationSignature,
    CourtParty,
    Person,
)
from services.sandbox_clock import sandbox_utcnow

SEED_FILE = Path(__file__).resolve().parent / "seed" / "court.yml"


@cache
def _load() -> dict[str, Any]:
    return yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def china_time_to_utc(day: date, clock: str) -> datetime:
    """A China wall-clock time on a day (10:00) as the naive UTC the database stores."""
    local = datetime.combine(day, time.fromisoformat(clock), tzinfo=CHINA_TZ)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def seed_court(session: Session, today: date) -> None:
    data = _load()
    person_ids = dict(session.execute(select(Person.id_number, Person.id)).all())
    known_cases = set(session.execute(select(CourtCase.case_number)).scalars())
    known_hearings = set(session.execute(select(CourtHearing.hearing_no)).scalars())
    now = sandbox_utcnow(session)
    for item in data["cases"]:
        if item["case_number"] not in known_cases:
            _add_case(session, item, person_ids, today, now)
    for item in data["procuratorate_hearings"]:
        if item["hearing_id"] not in known_hearings:
            hearing = _hearing(item, "procuratorate", item["organ"], None, today)
            session.add(hearing)
            session.flush()
            for invitee in item["invitees"]:
                session.add(
                    CourtHearingInvitee(
                        hearing_id=hearing.id, person_id=person_ids[invitee["id_number"]], role=invitee["role"]
                    )
                )


def _hearing(item: dict[str, Any], kind: str, organ: str, case_id: int | None, today: date) -> CourtHearing:
    return CourtHearing(
        hearing_no=item["hearing_id"],
        kind=kind,
        organ=organ,
        case_id=case_id,
        subject=item.get("subject"),
        scheduled_at=china_time_to_utc(today + timedelta(days=item["days_ahead"]), item["time"]),
        place=item["place"],
        online_possible=bool(item["online_possible"]),
    )


def _add_case(
    session: Session, item: dict[str, Any], person_ids: dict[str, int], today: date, now: datetime
) -> None:
    case = CourtCase(
        case_number=item["case_number"],
        court=item["court"],
        cause=item["cause"],
        stage=item["stage"],
        judge=item["judge"],
        filed_on=today - timedelta(days=item["filed_days_ago"]),
    )
    session.add(case)
    session.flush()
    parties: dict[str, CourtParty] = {}
    for party in item["parties"]:
        id_number = party.get("id_number")
        row = CourtParty(
            case_id=case.id,
            person_id=person_ids[id_number] if id_number else None,
            name=party["name"],
            kind="person" if id_number else party.get("kind", "person"),
            role=party["role"],
        )
        session.add(row)
        parties[party["role"]] = row
    for hearing in item.get("hearings", []):
        session.add(_hearing(hearing, "court", item["court"], case.id, today))
    mediation = item.get("mediation")
    if mediation:
        session.flush()
        _add_mediation(session, case, mediation, parties, today, now)


def _add_mediation(
    session: Session, case: CourtCase, item: dict[str, Any], parties: dict[str, CourtParty], today: date,
    now: datetime,
) -> None:
    pay_by = chinese_date(today + timedelta(days=item["pay_within_days"]))
    agreement = CourtMediationAgreement(
        case_id=case.id,
        version=1,
        text=item["text"].replace("{pay_by}", pay_by),
        published_at=now - timedelta(days=item["published_days_ago"]),
    )
    session.add(agreement)
    session.flush()
    for signed in item.get("signed_by", []):
        session.add(
            CourtMediationSignature(
                agreement_id=agreement.id,
                party_id=parties[signed["role"]].id,
                signed_at=now - timedelta(days=signed["signed_days_ago"]),
                void=False,
            )
        )
