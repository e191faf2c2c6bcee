"""Idempotent insertion of the sample data in services/seed/*.yml: rows that already exist are left alone."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.clock import china_today
from services.court_seed import seed_court
from services.health_code_policy import HealthCodePolicy
from services.health_code_seed import seed_health_codes
from services.immigration import normalize_name
from services.models import (
    CompanyContact,
    Country,
    CountryAlias,
    Employment,
    Enterprise,
    JobFair,
    Person,
    Port,
    PortAlias,
    Position,
    Property,
    SocialInsurance,
)
from services.sandbox_clock import sandbox_today
from services.tax_rules import TaxRules
from services.tax_seed import seed_tax
from services.vehicle_transfer_seed import seed_vehicles

SEED_DIR = Path(__file__).resolve().parent / "seed"
logger = logging.getLogger("services.seeding")


@cache
def _load(name: str) -> dict[str, Any]:
    # Cached: the files are read-only data, and tests create many apps in one process.
    return yaml.safe_load((SEED_DIR / name).read_text(encoding="utf-8"))


def _existing(session: Session, column: Any) -> set[Any]:
    return set(session.execute(select(column)).scalars())


def seed_people(session: Session) -> None:
    data = _load("people.yml")
    known = {row.credit_code: row for row in session.execute(select(Enterprise)).scalars()}
    for item in data["enterprises"]:
        enterprise = known.get(item["credit_code"])
        if enterprise is None:
            session.add(
                Enterprise(
                    name=item["name"],
                    credit_code=item["credit_code"],
                    registered_city=item["city"],
                    industry=item.get("industry"),
                    staff_count=item.get("staff"),
                )
            )
        else:
            _fill_enterprise_facts(enterprise, item)
    session.flush()
    enterprise_ids = dict(session.execute(select(Enterprise.credit_code, Enterprise.id)).all())
    known_people = _existing(session, Person.id_number)
    for item in data["people"]:
        if item["id_number"] not in known_people:
            _add_person(session, item, enterprise_ids)
    session.flush()
    _seed_company_contacts(session, data["enterprises"], enterprise_ids)


def _fill_enterprise_facts(enterprise: Enterprise, item: dict[str, Any]) -> None:
    """Enterprises seeded before migration 0004 have no industry or staff count yet; values present are kept."""
    if enterprise.industry is None and item.get("industry"):
        enterprise.industry = item["industry"]
    if enterprise.staff_count is None and item.get("staff") is not None:
        enterprise.staff_count = item["staff"]


def _seed_company_contacts(session: Session, enterprises: list[dict[str, Any]], enterprise_ids: dict[str, int]) -> None:
    """Who may act for each enterprise (separate from _add_person: existing people get their roles too)."""
    person_ids = dict(session.execute(select(Person.id_number, Person.id)).all())
    columns = select(CompanyContact.enterprise_id, CompanyContact.person_id, CompanyContact.role)
    known = {tuple(row) for row in session.execute(columns)}
    for item in enterprises:
        roles = [("legal_representative", item["legal_representative"])] if item.get("legal_representative") else []
        roles += [("contact", id_number) for id_number in item.get("contacts", [])]
        for role, id_number in roles:
            row = (enterprise_ids[item["credit_code"]], person_ids[id_number], role)
            if row not in known:
                known.add(row)
                session.add(CompanyContact(enterprise_id=row[0], person_id=row[1], role=role))


def _add_person(session: Session, item: dict[str, Any], enterprise_ids: dict[str, int]) -> None:
    person = Person(
        name=item["name"],
        id_number=item["id_number"],
        phone=item["phone"],
        degree=item.get("degree"),
        major=item.get("major"),
        school=item.get("school"),
        graduation_year=item.get("graduation_year"),
        bank_account=item.get("bank_account"),
    )
    session.add(person)
    session.flush()
    for job in item.get("employments", []):
        session.add(
            Employment(
                person_id=person.id,
                enterprise_id=enterprise_ids[job["credit_code"]],
                start_date=job["start"],
                end_date=job.get("end"),
            )
        )
    for record in item.get("social_insurance", []):
        session.add(
            SocialInsurance(
                person_id=person.id,
                city=record["city"],
                start_date=record["start"],
                end_date=record.get("end"),
            )
        )
    for home in item.get("properties", []):
        session.add(Property(person_id=person.id, city=home["city"], address=home["address"]))
    # Vehicles are seeded by services/vehicle_transfer_seed.py (their dates follow the sandbox clock).


def seed_countries(session: Session) -> None:
    data = _load("countries.yml")
    known = {row.name: row for row in session.execute(select(Country)).scalars()}
    known_aliases = _existing(session, CountryAlias.alias)
    for item in data["countries"]:
        country = known.get(item["name"])
        if country is None:
            country = Country(
                name=item["name"],
                english_name=item["en"],
                entry_status=item["status"],
                quarantine_days=item.get("quarantine"),
                test_requirement=item["test"],
                visa_status=item["visa"],
                flights=item["flights"],
                notes=item.get("notes") or "",
                updated_at=item["updated"],
                source=data["source"],
            )
            session.add(country)
        _fill_country_english(country, item, data["source_en"])
    session.flush()
    for item in data["countries"]:
        for alias in {normalize_name(a) for a in [item["en"], *item.get("aka", [])]}:
            if alias not in known_aliases:
                known_aliases.add(alias)
                session.add(CountryAlias(alias=alias, country_name=item["name"]))


def _fill_country_english(country: Country, item: dict[str, Any], source_en: str) -> None:
    """Countries seeded before migration 0008 have no English text yet; English already there is kept."""
    if country.test_requirement_en is None:
        country.test_requirement_en = item["test_en"]
        country.visa_status_en = item["visa_en"]
        country.flights_en = item["flights_en"]
        country.notes_en = item.get("notes_en") or ""
        country.source_en = source_en


def seed_ports(session: Session) -> None:
    data = _load("ports.yml")
    known = {row.name: row for row in session.execute(select(Port)).scalars()}
    known_aliases = _existing(session, PortAlias.alias)
    for item in data["ports"]:
        port = known.get(item["name"])
        if port is None:
            port = Port(
                name=item["name"],
                city=item["city"],
                province=item["province"],
                kind=item["kind"],
                passenger_status=item["passenger"],
                cargo_status=item["cargo"],
                hours=str(item["hours"]),
                notes=item.get("notes") or "",
                updated_at=item["updated"],
            )
            session.add(port)
        _fill_port_english(port, item)
    session.flush()
    for item in data["ports"]:
        for alias in {normalize_name(a) for a in item.get("aka", [])}:
            if alias not in known_aliases:
                known_aliases.add(alias)
                session.add(PortAlias(alias=alias, port_name=item["name"]))


def _fill_port_english(port: Port, item: dict[str, Any]) -> None:
    """Ports seeded before migration 0008 have no English text yet; English already there is kept."""
    if port.english_name is None:
        port.english_name = item["en"]
        port.city_en = item["city_en"]
        port.hours_en = item["hours_en"]
        port.notes_en = item.get("notes_en") or ""


def seed_campus(session: Session, today: date) -> None:
    data = _load("campus.yml")
    known_fairs = _existing(session, JobFair.fair_id)
    for item in data["fairs"]:
        if item["id"] in known_fairs:
            continue
        start = today + timedelta(days=item["start_offset"])
        session.add(
            JobFair(
                fair_id=item["id"],
                title=item["title"],
                city=item.get("city"),
                online=bool(item["online"]),
                industries=item["industries"],
                majors=item["majors"],
                start_date=start,
                end_date=start + timedelta(days=item["days"] - 1),
                venue=item["venue"],
                organizer=item["organizer"],
                capacity=item["capacity"],
                registered=item["registered"],
            )
        )
    session.flush()
    known_positions = _existing(session, Position.position_id)
    for item in data["positions"]:
        if item["id"] not in known_positions:
            session.add(
                Position(
                    position_id=item["id"],
                    title=item["title"],
                    company=item["company"],
                    city=item["city"],
                    industry=item["industry"],
                    degree=item["degree"],
                    majors=item["majors"],
                    salary=item["salary"],
                    headcount=item["headcount"],
                    fair_id=item.get("fair"),
                )
            )


def seed_all(
    session: Session, health_code_policy: HealthCodePolicy, tax_rules: TaxRules, today: date | None = None
) -> None:
    """Insert whatever sample data is missing, in one transaction, by the rules the app serves."""
    seed_people(session)
    seed_countries(session)
    seed_ports(session)
    seed_campus(session, today or china_today())
    session.flush()
    # Health-code dates follow the sandbox clock, which development and tests can move forward.
    seed_health_codes(session, health_code_policy, today or sandbox_today(session))
    # Tax obligations are due by the deadline rules of the configuration, relative to the sandbox clock.
    seed_tax(session, tax_rules, today or sandbox_today(session))
    seed_vehicles(session, _load("people.yml")["people"], today or sandbox_today(session))
    # Court cases, hearings (in N days at a China wall-clock time) and agreements, relative to the sandbox clock.
    seed_court(session, today or sandbox_today(session))
    session.commit()
    logger.info("seed data checked")
