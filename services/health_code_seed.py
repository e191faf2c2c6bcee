"""Sample health codes (services/seed/health_codes.yml), dated relative to the sandbox clock.

Called from services.seeding.seed_all in its transaction. Idempotent: a person who already has a code, or is
already on the risk list, is left alone. Two processes seeding at once collide on the unique constraints, and
the app's seeding retry then finds the rows present.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from itertools import cycle
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.health_code_policy import HealthCodePolicy
from services.models import HealthCheckIn, HealthCode, HealthRiskPerson, Person
from services.sandbox_clock import sandbox_utcnow

SEED_FILE = Path(__file__).resolve().parent / "seed" / "health_codes.yml"


@cache
def _load() -> dict[str, Any]:
    return yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))


def seed_health_codes(session: Session, policy: HealthCodePolicy, today: date) -> None:
    data = _load()
    person_ids = dict(session.execute(select(Person.id_number, Person.id)).all())
    _seed_risk_list(session, data["risk_list"], person_ids, today)
    with_code = set(session.execute(select(HealthCode.person_id)).scalars())
    now = sandbox_utcnow(session)
    temperatures = cycle(data["sample_temperatures"])
    for item in data["codes"]:
        person_id = person_ids[item["id_number"]]
        if person_id not in with_code:
            _add_code(session, policy, item, person_id, today, now, temperatures)


def _seed_risk_list(
    session: Session, items: list[dict[str, Any]], person_ids: dict[str, int], today: date
) -> None:
    known = {tuple(row) for row in session.execute(select(HealthRiskPerson.person_id, HealthRiskPerson.category))}
    for item in items:
        person_id = person_ids[item["id_number"]]
        if (person_id, item["category"]) not in known:
            session.add(
                HealthRiskPerson(
                    person_id=person_id,
                    category=item["category"],
                    listed_on=today - timedelta(days=item["listed_days_ago"]),
                )
            )


def _add_code(
    session: Session,
    policy: HealthCodePolicy,
    item: dict[str, Any],
    person_id: int,
    today: date,
    now: datetime,
    temperatures: Any,
) -> None:
    """The code plus its consecutive normal check-ins, the last one yesterday (sample history)."""
    streak = int(item["check_ins"])
    issued_at = now - timedelta(days=item["issued_days_ago"])
    colour = item["colour"]
    session.add(
        HealthCode(
            person_id=person_id,
            colour=colour,
            reason_code=item["reason"],
            area=item.get("area"),
            streak=streak,
            required_days=policy.required_days(colour),
            last_check_in_date=today - timedelta(days=1) if streak else None,
            issued_at=issued_at,
            updated_at=now - timedelta(days=1) if streak else issued_at,
        )
    )
    for number in range(1, streak + 1):
        days_ago = streak - number + 1
        session.add(
            HealthCheckIn(
                person_id=person_id,
                check_in_date=today - timedelta(days=days_ago),
                temperature=next(temperatures),
                symptoms=[],
                normal=True,
                streak_after=number,
                colour_after=colour,
                created_at=now - timedelta(days=days_ago),
            )
        )
