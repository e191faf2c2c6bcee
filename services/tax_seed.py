"""Sample tax registrations and filing obligations (services/seed/tax.yml), dated relative to the sandbox clock.

Called from services.seeding.seed_all in its transaction. Idempotent: an enterprise that is registered keeps its
registration, and a taxpayer who already has obligations is left alone (so a restart does not add a second, shifted
history). Two processes seeding at once collide on the unique constraints, and the app's seeding retry then finds
the rows present.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.models import Enterprise, Person, TaxObligation, TaxRegistration
from services.tax_rules import TaxRules, shift_month

SEED_FILE = Path(__file__).resolve().parent / "seed" / "tax.yml"


@cache
def _load() -> dict[str, Any]:
    return yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))


def fen(amount: str | None) -> int | None:
    return None if amount is None else int(Decimal(str(amount)) * 100)


def seed_tax(session: Session, rules: TaxRules, today: date) -> None:
    data = _load()
    enterprise_ids = dict(session.execute(select(Enterprise.credit_code, Enterprise.id)).all())
    person_ids = dict(session.execute(select(Person.id_number, Person.id)).all())
    registered = set(session.execute(select(TaxRegistration.enterprise_id)).scalars())
    with_enterprise_obligations = set(session.execute(select(TaxObligation.enterprise_id)).scalars())
    with_person_obligations = set(session.execute(select(TaxObligation.person_id)).scalars())
    for item in data["enterprises"]:
        enterprise_id = enterprise_ids[item["credit_code"]]
        if enterprise_id not in registered:
            session.add(
                TaxRegistration(
                    enterprise_id=enterprise_id,
                    taxpayer_kind=item["taxpayer_kind"],
                    vat_cycle=item["vat_cycle"],
                    tax_office=item["tax_office"],
                )
            )
        if enterprise_id not in with_enterprise_obligations:
            for period in item["periods"]:
                _add_monthly(session, rules, enterprise_id, period, today)
    for item in data["people"]:
        person_id = person_ids[item["id_number"]]
        if person_id not in with_person_obligations:
            for reconciliation in item["reconciliations"]:
                _add_reconciliation(session, rules, person_id, reconciliation, today)


def _add_monthly(session: Session, rules: TaxRules, enterprise_id: int, item: dict[str, Any], today: date) -> None:
    """VAT and 附加税费 of one month, `periods_ago` months before the period due in the current filing month."""
    filing_year, filing_month = shift_month(*rules.current_filing_month(today), 1 - item["periods_ago"])
    year, month = shift_month(filing_year, filing_month, -1)
    due = rules.deadline(filing_year, filing_month).deadline
    filed_on = date(filing_year, filing_month, min(item["filed_day"], due.day)) if item["state"] == "filed" else None
    amounts = item.get("amounts") or {"增值税": None, "附加税费": None}
    for tax, amount in amounts.items():
        session.add(
            TaxObligation(
                enterprise_id=enterprise_id,
                tax=tax,
                period=f"{year:04d}-{month:02d}",
                cycle="monthly",
                filing_start=date(filing_year, filing_month, 1),
                due_date=due,
                tax_amount_fen=fen(amount),
                filed_on=filed_on,
            )
        )


def _add_reconciliation(session: Session, rules: TaxRules, person_id: int, item: dict[str, Any], today: date) -> None:
    """个人综合所得年度汇算 of the tax year `years_ago` years before this one."""
    tax_year = today.year - item["years_ago"]
    start, end = rules.reconciliation.window(tax_year)
    filed_on = None
    if item.get("filed_on"):
        month, day = (int(part) for part in str(item["filed_on"]).split("-"))
        filed_on = date(tax_year + 1, month, day)
        if filed_on > today:  # not yet, by the sandbox clock
            filed_on = None
    session.add(
        TaxObligation(
            person_id=person_id,
            tax=rules.reconciliation.tax,
            period=str(tax_year),
            cycle="annual",
            filing_start=start,
            due_date=end,
            tax_amount_fen=fen(item.get("amount")),
            filed_on=filed_on,
        )
    )
