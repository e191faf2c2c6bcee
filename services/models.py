"""Database tables of the sandbox. The schema itself is created by the Alembic migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import declarative_base

Base = declarative_base()


# --- population registry and the records behind the rent-subsidy check -------------------------------


class Person(Base):
    __tablename__ = "persons"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    id_number = Column(String(18), nullable=False, unique=True)
    phone = Column(String(11), nullable=False, index=True)
    degree = Column(String(10))
    major = Column(String(50))
    school = Column(String(50))
    graduation_year = Column(Integer)
    bank_account = Column(String(32))


class Enterprise(Base):
    __tablename__ = "enterprises"

    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)
    credit_code = Column(String(18), nullable=False, unique=True)
    registered_city = Column(String(20), nullable=False)
    # Registry facts the work-resumption filing needs; NULL for enterprises seeded before migration 0004.
    industry = Column(String(50))
    staff_count = Column(Integer)


class Employment(Base):
    __tablename__ = "employments"

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False)
    start_date = Column(Date, nullable=False)
    end_date = Column(Date)


class SocialInsurance(Base):
    __tablename__ = "social_insurance"

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    city = Column(String(20), nullable=False)
    start_date = Column(Date, nullable=False)
    end_date = Column(Date)


class Property(Base):
    __tablename__ = "properties"

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    city = Column(String(20), nullable=False)
    address = Column(String(200), nullable=False)


class Vehicle(Base):
    __tablename__ = "vehicles"
    # A unique index rather than a unique column: SQLite cannot add a UNIQUE column (migration 0005).
    __table_args__ = (Index("uq_vehicles_vin", "vin", unique=True),)

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    plate = Column(String(10), nullable=False, unique=True)
    registered_city = Column(String(20), nullable=False)
    # Registry facts the archive transfer checks (机动车档案电子化转递); NULL for vehicles seeded before 0005.
    vin = Column(String(17))  # 车辆识别代号, 17 characters (GB 16735)
    vehicle_type = Column(String(20))  # 小型汽车 …
    brand_model = Column(String(50))
    registered_on = Column(Date)
    inspection_valid_until = Column(Date)  # 检验有效期至; earlier than today: overdue
    mileage_km = Column(Integer)
    mortgaged = Column(Boolean, nullable=False, default=False, server_default=false())
    seized = Column(Boolean, nullable=False, default=False, server_default=false())
    stolen = Column(Boolean, nullable=False, default=False, server_default=false())
    open_violations = Column(Integer, nullable=False, default=0, server_default="0")  # 未处理的交通违法记录
    open_accidents = Column(Integer, nullable=False, default=0, server_default="0")  # 未处理的交通事故


# --- identity verification -----------------------------------------------------------------------------


class SmsVerification(Base):
    __tablename__ = "sms_verifications"

    id = Column(String(32), primary_key=True)
    phone = Column(String(11), nullable=False, index=True)
    chat_user = Column(String(200), nullable=False, index=True)
    name = Column(String(50), nullable=False)
    person_id = Column(Integer, ForeignKey("persons.id"))
    level = Column(String(10), nullable=False)
    code_hash = Column(String(64), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, nullable=False, index=True)
    expires_at = Column(DateTime, nullable=False)
    consumed_at = Column(DateTime)


class SmsOutbox(Base):
    """The SMS the sandbox "sent". Only in development does the text carry the code (read via /dev/sms-outbox)."""

    __tablename__ = "sms_outbox"

    id = Column(Integer, primary_key=True)
    phone = Column(String(11), nullable=False, index=True)
    text = Column(Text, nullable=False)
    sent_at = Column(DateTime, nullable=False)


class RateCounter(Base):
    """One fixed-window budget of services/limits.py, e.g. the failed identity checks of one phone today."""

    __tablename__ = "rate_counters"

    scope = Column(String(40), primary_key=True)
    # A keyed hash of the phone, ID number or chat user: the table must not become a list of who was tried.
    subject_hash = Column(String(64), primary_key=True)
    window_start = Column(DateTime, primary_key=True)
    count = Column(Integer, nullable=False, default=0)
    expires_at = Column(DateTime, nullable=False, index=True)


class AccessToken(Base):
    __tablename__ = "access_tokens"

    # Only a hash is stored, so a database dump does not hand out live tokens.
    token_hash = Column(String(64), primary_key=True)
    person_id = Column(Integer, ForeignKey("persons.id"))
    name = Column(String(50), nullable=False)
    phone = Column(String(11), nullable=False)
    chat_user = Column(String(200), nullable=False)
    level = Column(String(10), nullable=False)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    scope = Column(String(200), primary_key=True)
    key = Column(String(200), primary_key=True)
    request_hash = Column(String(64), nullable=False)
    status_code = Column(Integer, nullable=False)
    response_body = Column(JSON, nullable=False)
    created_at = Column(DateTime, nullable=False)


# --- rent subsidy --------------------------------------------------------------------------------------


class RentSubsidyApplication(Base):
    __tablename__ = "rent_subsidy_applications"
    # The exactly-once guarantee: one application (and payout) per person per period, enforced by the database
    # so that concurrent duplicates cannot both succeed.
    __table_args__ = (UniqueConstraint("person_id", "period", name="uq_rent_subsidy_person_period"),)

    id = Column(Integer, primary_key=True)
    application_no = Column(String(20), nullable=False, unique=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False)
    period = Column(String(10), nullable=False)
    degree = Column(String(10), nullable=False)
    monthly_amount = Column(Integer, nullable=False)
    months = Column(Integer, nullable=False)
    amount = Column(Integer, nullable=False)
    status = Column(String(20), nullable=False)
    payout_account = Column(String(32), nullable=False)
    created_at = Column(DateTime, nullable=False)
    paid_at = Column(DateTime)


# --- immigration information ---------------------------------------------------------------------------


class Country(Base):
    __tablename__ = "countries"

    name = Column(String(30), primary_key=True)
    english_name = Column(String(80), nullable=False)
    entry_status = Column(String(20), nullable=False)
    quarantine_days = Column(Integer)
    test_requirement = Column(Text, nullable=False)
    visa_status = Column(Text, nullable=False)
    flights = Column(Text, nullable=False)
    notes = Column(Text, nullable=False, default="")
    updated_at = Column(Date, nullable=False)
    source = Column(String(200), nullable=False)
    # The same measures in English, for foreign travellers (migration 0008; empty until seeded).
    test_requirement_en = Column(Text)
    visa_status_en = Column(Text)
    flights_en = Column(Text)
    notes_en = Column(Text)
    source_en = Column(String(200))


class CountryAlias(Base):
    __tablename__ = "country_aliases"

    alias = Column(String(80), primary_key=True)  # normalised: lower case, no spaces
    country_name = Column(String(30), ForeignKey("countries.name"), nullable=False)


class Port(Base):
    __tablename__ = "ports"

    name = Column(String(50), primary_key=True)
    city = Column(String(20), nullable=False)
    province = Column(String(20), nullable=False)
    kind = Column(String(10), nullable=False)
    passenger_status = Column(String(20), nullable=False)
    cargo_status = Column(String(20), nullable=False)
    hours = Column(String(100), nullable=False)
    notes = Column(Text, nullable=False, default="")
    updated_at = Column(Date, nullable=False)
    # The port in English, for foreign travellers (migration 0008; empty until seeded).
    english_name = Column(String(100))
    city_en = Column(String(50))
    hours_en = Column(String(100))
    notes_en = Column(Text)


class PortAlias(Base):
    __tablename__ = "port_aliases"

    alias = Column(String(80), primary_key=True)
    port_name = Column(String(50), ForeignKey("ports.name"), nullable=False)


# --- campus recruitment --------------------------------------------------------------------------------


class JobFair(Base):
    __tablename__ = "job_fairs"

    fair_id = Column(String(10), primary_key=True)
    title = Column(String(100), nullable=False)
    city = Column(String(20))
    online = Column(Boolean, nullable=False, default=False)
    industries = Column(JSON, nullable=False)
    majors = Column(JSON, nullable=False)
    start_date = Column(Date, nullable=False, index=True)
    end_date = Column(Date, nullable=False)
    venue = Column(String(200), nullable=False)
    organizer = Column(String(100), nullable=False)
    capacity = Column(Integer, nullable=False)
    registered = Column(Integer, nullable=False, default=0)


class Position(Base):
    __tablename__ = "positions"

    position_id = Column(String(10), primary_key=True)
    title = Column(String(100), nullable=False)
    company = Column(String(100), nullable=False)
    city = Column(String(20), nullable=False)
    industry = Column(String(20), nullable=False)
    degree = Column(String(10), nullable=False)
    majors = Column(JSON, nullable=False)
    salary = Column(String(20), nullable=False)
    headcount = Column(Integer, nullable=False)
    fair_id = Column(String(10), ForeignKey("job_fairs.fair_id"))


class FairRegistration(Base):
    __tablename__ = "fair_registrations"
    __table_args__ = (UniqueConstraint("fair_id", "phone", name="uq_fair_registration_phone"),)

    id = Column(Integer, primary_key=True)
    registration_no = Column(String(20), nullable=False, unique=True)
    fair_id = Column(String(10), ForeignKey("job_fairs.fair_id"), nullable=False)
    phone = Column(String(11), nullable=False, index=True)
    person_id = Column(Integer, ForeignKey("persons.id"))
    name = Column(String(50), nullable=False)
    school = Column(String(50), nullable=False)
    major = Column(String(50), nullable=False)
    degree = Column(String(10), nullable=False)
    graduation_year = Column(Integer, nullable=False)
    chat_user = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False)


# --- health code (健康码) and the sandbox clock -----------------------------------------------------------


class SandboxClock(Base):
    """One row (id 1): how many days the sandbox runs ahead of the real China date (development and tests)."""

    __tablename__ = "sandbox_clock"

    id = Column(Integer, primary_key=True)
    offset_days = Column(Integer, nullable=False, default=0)
    updated_at = Column(DateTime, nullable=False)


class HealthCode(Base):
    __tablename__ = "health_codes"
    # One code per person: a second application returns the existing code, enforced by the database.
    __table_args__ = (UniqueConstraint("person_id", name="uq_health_code_person"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False)
    colour = Column(String(10), nullable=False)  # green / yellow / red
    reason_code = Column(String(40), nullable=False)
    area = Column(String(50))  # the key area declared, shown in the reason
    streak = Column(Integer, nullable=False, default=0)  # consecutive normal daily check-ins
    required_days = Column(Integer, nullable=False, default=0)  # to turn green; 0 when green
    last_check_in_date = Column(Date)  # China calendar day (sandbox clock)
    issued_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class HealthDeclaration(Base):
    __tablename__ = "health_declarations"

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    symptoms = Column(JSON, nullable=False)
    temperature = Column(Float, nullable=False)
    key_area_travel = Column(Boolean, nullable=False)
    area = Column(String(50))
    contact_with_case = Column(Boolean, nullable=False)
    colour = Column(String(10), nullable=False)
    reason_code = Column(String(40), nullable=False)
    created_at = Column(DateTime, nullable=False)


class HealthCheckIn(Base):
    __tablename__ = "health_check_ins"
    # One check-in per person and China calendar day: a repeat (or a parallel retry) cannot count twice.
    __table_args__ = (UniqueConstraint("person_id", "check_in_date", name="uq_health_check_in_person_day"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False)
    check_in_date = Column(Date, nullable=False)
    temperature = Column(Float, nullable=False)
    symptoms = Column(JSON, nullable=False)
    normal = Column(Boolean, nullable=False)
    streak_after = Column(Integer, nullable=False)
    colour_after = Column(String(10), nullable=False)
    created_at = Column(DateTime, nullable=False)


class HealthCodeAppeal(Base):
    __tablename__ = "health_code_appeals"
    # At most one open appeal per person (a partial unique index works on SQLite and PostgreSQL alike).
    __table_args__ = (
        Index(
            "uq_health_appeal_open",
            "person_id",
            unique=True,
            sqlite_where=text("status = 'under_review'"),
            postgresql_where=text("status = 'under_review'"),
        ),
    )

    id = Column(Integer, primary_key=True)
    appeal_no = Column(String(20), nullable=False, unique=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    colour = Column(String(10), nullable=False)  # the colour the citizen disputes
    reason = Column(Text, nullable=False)
    status = Column(String(20), nullable=False)
    created_at = Column(DateTime, nullable=False)
    closed_at = Column(DateTime)


class HealthRiskPerson(Base):
    """The sandbox's confirmed / suspected / close-contact list (sample data), consulted when a code is issued."""

    __tablename__ = "health_risk_persons"
    __table_args__ = (UniqueConstraint("person_id", "category", name="uq_health_risk_person_category"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False)
    category = Column(String(20), nullable=False)  # confirmed / suspected / close_contact
    listed_on = Column(Date, nullable=False)


# --- enterprise work resumption (企业复工申报) ------------------------------------------------------------


class CompanyContact(Base):
    """Who may act for an enterprise: its legal representative or a registered contact."""

    __tablename__ = "company_contacts"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "person_id", "role", name="uq_company_contact_enterprise_person_role"),
    )

    id = Column(Integer, primary_key=True)
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    role = Column(String(30), nullable=False)  # legal_representative / contact


class WorkResumptionFiling(Base):
    __tablename__ = "work_resumption_filings"
    # One filing per enterprise and planned date, enforced by the database so that concurrent duplicates
    # (two contacts, a retried message) cannot both be recorded.
    __table_args__ = (
        UniqueConstraint("enterprise_id", "planned_date", name="uq_work_resumption_enterprise_date"),
    )

    id = Column(Integer, primary_key=True)
    filing_no = Column(String(20), nullable=False, unique=True)
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)  # who filed
    planned_date = Column(Date, nullable=False)
    returning_staff = Column(Integer, nullable=False)
    key_area_staff = Column(Integer, nullable=False)
    supplies_days = Column(Integer, nullable=False)
    isolation_rooms = Column(Integer, nullable=False)
    review_level_code = Column(String(20), nullable=False)
    review_level = Column(String(50), nullable=False)
    review_deadline = Column(Date, nullable=False)
    status = Column(String(20), nullable=False)
    filed_on = Column(Date, nullable=False)  # the sandbox's China date of the filing
    created_at = Column(DateTime, nullable=False)


# --- vehicle registration transfer (机动车档案电子化网上转递) ------------------------------------------------


class VehicleTransferApplication(Base):
    __tablename__ = "vehicle_transfer_applications"
    # One open application per vehicle (a partial unique index works on SQLite and PostgreSQL alike), so a retried
    # or repeated application cannot be recorded twice. The stages are computed from submitted_on and the clock.
    __table_args__ = (
        Index(
            "uq_vehicle_transfer_open",
            "vehicle_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id = Column(Integer, primary_key=True)
    application_no = Column(String(20), nullable=False, unique=True)
    vehicle_id = Column(Integer, ForeignKey("vehicles.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    # What the owner was told when applying (the offices as configured then).
    origin_city = Column(String(20), nullable=False)
    origin_office = Column(String(100), nullable=False)
    destination_city = Column(String(20), nullable=False)
    destination_office = Column(String(100), nullable=False)
    destination_address = Column(String(200), nullable=False)
    status = Column(String(20), nullable=False)  # open (the sandbox has no withdrawal yet)
    submitted_on = Column(Date, nullable=False)  # the sandbox's China date of the application
    created_at = Column(DateTime, nullable=False)


# --- e-tax guidance (电子税务: guidance and status only; no real returns are filed) ------------------------------


class TaxRegistration(Base):
    """An enterprise's tax registration facts (税务登记): VAT taxpayer kind and filing cycle."""

    __tablename__ = "tax_registrations"

    id = Column(Integer, primary_key=True)
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, unique=True)
    taxpayer_kind = Column(String(20), nullable=False)  # small_scale / general
    vat_cycle = Column(String(10), nullable=False)  # monthly / quarterly
    tax_office = Column(String(100), nullable=False)


class TaxObligation(Base):
    """One return to file: an enterprise's (by credit code) or a person's (annual reconciliation), per tax and period.

    The status is not stored: 已申报 when filed_on is set, else 逾期 or 未申报 by the due date and the sandbox clock.
    """

    __tablename__ = "tax_obligations"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "tax", "period", name="uq_tax_obligation_enterprise"),
        UniqueConstraint("person_id", "tax", "period", name="uq_tax_obligation_person"),
    )

    id = Column(Integer, primary_key=True)
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"))  # exactly one of enterprise_id / person_id
    person_id = Column(Integer, ForeignKey("persons.id"))
    tax = Column(String(20), nullable=False)  # 增值税, 附加税费, 个人所得税
    period = Column(String(10), nullable=False)  # 2026-11 (monthly), 2025 (annual)
    cycle = Column(String(10), nullable=False)  # monthly / annual
    filing_start = Column(Date, nullable=False)
    due_date = Column(Date, nullable=False)
    tax_amount_fen = Column(Integer)  # in fen (分), so money is never a float; NULL: not known before filing
    filed_on = Column(Date)  # filed and paid (the sandbox does not tell the two apart)


class TaxDeferral(Base):
    """A request to defer payment (延期缴纳税款); the sandbox records it, a provincial tax office would decide."""

    __tablename__ = "tax_deferrals"
    # One open request per obligation (= enterprise, tax and period): asking again returns it.
    __table_args__ = (
        Index(
            "uq_tax_deferral_open",
            "obligation_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id = Column(Integer, primary_key=True)
    deferral_no = Column(String(20), nullable=False, unique=True)
    obligation_id = Column(Integer, ForeignKey("tax_obligations.id"), nullable=False)
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False)  # who asked
    months = Column(Integer, nullable=False)
    reason = Column(Text, nullable=False)
    requested_until = Column(Date, nullable=False)  # the original due date moved by `months`
    status = Column(String(20), nullable=False)  # pending (the sandbox never decides)
    submitted_on = Column(Date, nullable=False)  # the sandbox's China date
    created_at = Column(DateTime, nullable=False)


# --- court and procuratorate (移动微法院: cases, online hearings, mediation; 检察院 video hearings) ------------------


class CourtCase(Base):
    """A court case (案件); the stage is the court's record (the sandbox does not move it on)."""

    __tablename__ = "court_cases"

    id = Column(Integer, primary_key=True)
    case_number = Column(String(40), nullable=False, unique=True)  # canonical: (2020)浙0106民初1234号
    court = Column(String(100), nullable=False)
    cause = Column(String(100), nullable=False)  # 案由
    stage = Column(String(30), nullable=False)  # filed / pretrial / hearing_scheduled / mediation / judged / closed
    judge = Column(String(50), nullable=False)
    filed_on = Column(Date, nullable=False)


class CourtParty(Base):
    """A party to a case (当事人). person_id only for parties of the population registry (who can verify)."""

    __tablename__ = "court_parties"
    __table_args__ = (UniqueConstraint("case_id", "person_id", name="uq_court_party_case_person"),)

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("court_cases.id"), nullable=False, index=True)
    person_id = Column(Integer, ForeignKey("persons.id"), index=True)
    name = Column(String(100), nullable=False)
    kind = Column(String(20), nullable=False)  # person / organisation (a person's name is masked for the others)
    role = Column(String(20), nullable=False)  # 原告 / 被告 / 第三人 / 申请人 …


class CourtHearing(Base):
    """A court hearing (开庭) of a case, or a procuratorate hearing (检察听证) with its invitees."""

    __tablename__ = "court_hearings"

    id = Column(Integer, primary_key=True)
    hearing_no = Column(String(20), nullable=False, unique=True)  # the public hearing_id, e.g. H0001
    kind = Column(String(20), nullable=False)  # court / procuratorate
    organ = Column(String(100), nullable=False)  # 杭州市西湖区人民法院 / 杭州市西湖区人民检察院
    case_id = Column(Integer, ForeignKey("court_cases.id"), index=True)  # court hearings only
    subject = Column(String(200))  # procuratorate hearings: what it is about
    scheduled_at = Column(DateTime, nullable=False)  # naive UTC
    place = Column(String(200), nullable=False)  # where to attend in person
    online_possible = Column(Boolean, nullable=False, default=False)


class CourtHearingInvitee(Base):
    """Who is invited to a procuratorate hearing (a court hearing's participants are the case's parties)."""

    __tablename__ = "court_hearing_invitees"
    __table_args__ = (UniqueConstraint("hearing_id", "person_id", name="uq_court_invitee_hearing_person"),)

    id = Column(Integer, primary_key=True)
    hearing_id = Column(Integer, ForeignKey("court_hearings.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    role = Column(String(20), nullable=False)  # 被害人 / 申请人 …


class CourtHearingConsent(Base):
    """A person's decision on taking part online (法释〔2021〕12号): recorded once, enforced by the database."""

    __tablename__ = "court_hearing_consents"
    __table_args__ = (UniqueConstraint("hearing_id", "person_id", name="uq_court_consent_hearing_person"),)

    id = Column(Integer, primary_key=True)
    hearing_id = Column(Integer, ForeignKey("court_hearings.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    agree = Column(Boolean, nullable=False)
    decided_at = Column(DateTime, nullable=False)


class CourtMediationAgreement(Base):
    """One version of a case's mediation agreement (调解协议); the highest version is the current one."""

    __tablename__ = "court_mediation_agreements"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_court_agreement_case_version"),)

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("court_cases.id"), nullable=False)
    version = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)
    published_at = Column(DateTime, nullable=False)


class CourtMediationSignature(Base):
    """A party's signature of one agreement version: once per party and version (unique), void once a newer version
    is published (kept, not deleted)."""

    __tablename__ = "court_mediation_signatures"
    __table_args__ = (UniqueConstraint("agreement_id", "party_id", name="uq_court_signature_agreement_party"),)

    id = Column(Integer, primary_key=True)
    agreement_id = Column(Integer, ForeignKey("court_mediation_agreements.id"), nullable=False)
    party_id = Column(Integer, ForeignKey("court_parties.id"), nullable=False, index=True)
    signed_at = Column(DateTime, nullable=False)
    void = Column(Boolean, nullable=False, default=False, server_default=false())


class CourtAccessAttempt(Base):
    """A refused look-up of a case (not a party, or no such case), for operators; the citizen hears only "not found"."""

    __tablename__ = "court_access_attempts"

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    case_number = Column(String(40), nullable=False)
    action = Column(String(20), nullable=False)  # case / mediation / signature
    outcome = Column(String(20), nullable=False)  # not_a_party / no_such_case
    attempted_at = Column(DateTime, nullable=False)
