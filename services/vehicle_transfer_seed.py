"""Sample vehicles (the `vehicles` of services/seed/people.yml), dated relative to the sandbox clock.

Called from services.seeding.seed_all in its transaction, after the people. Idempotent: a plate already present
is left alone, except that a vehicle seeded before migration 0005 (no VIN yet) gets its registry facts filled in.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.models import Person, Vehicle


def seed_vehicles(session: Session, people: list[dict[str, Any]], today: date) -> None:
    person_ids = dict(session.execute(select(Person.id_number, Person.id)).all())
    known = {vehicle.plate: vehicle for vehicle in session.execute(select(Vehicle)).scalars()}
    for person in people:
        for item in person.get("vehicles", []):
            vehicle = known.get(item["plate"])
            if vehicle is None:
                vehicle = Vehicle(person_id=person_ids[person["id_number"]], plate=item["plate"])
                vehicle.registered_city = item["city"]
                _fill_facts(vehicle, item, today)
                session.add(vehicle)
            elif vehicle.vin is None:
                _fill_facts(vehicle, item, today)


def _fill_facts(vehicle: Vehicle, item: dict[str, Any], today: date) -> None:
    vehicle.vin = item["vin"]
    vehicle.vehicle_type = item["type"]
    vehicle.brand_model = item["model"]
    vehicle.registered_on = today - timedelta(days=item["registered_days_ago"])
    vehicle.inspection_valid_until = today + timedelta(days=item["inspection_due_in_days"])
    vehicle.mileage_km = item.get("mileage_km")
    vehicle.mortgaged = bool(item.get("mortgaged"))
    vehicle.seized = bool(item.get("seized"))
    vehicle.stolen = bool(item.get("stolen"))
    vehicle.open_violations = int(item.get("violations", 0))
    vehicle.open_accidents = int(item.get("accidents", 0))
