"""Court and procuratorate (移动微法院: a party's cases, online hearings with consent, mediation agreements;
检察院 video hearings).

A case is shown only to its parties. A case number of someone else's case gets exactly the answer of a case number
nobody has (`case_not_found`, no details), and the attempt is recorded in `court_access_attempts` and logged for
operators. Consent to an online hearing (法释〔2021〕12号) is recorded once per hearing and person, a signature once
per party and agreement version (unique constraints, so parallel requests record one). Publishing a new version
voids earlier signatures (kept, marked void). Logs name internal person ids, case numbers and hearing ids only:
never a party's name.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.case_numbers import normalise_case_number
from bot.clock import CHINA_TZ
from services import idempotency, notifications
from services.auth import Principal
from services.clock import to_china_iso
from services.court_rules import CourtRules
from services.errors import ApiError
from services.masking import mask_name
from services.models import (
    CourtAccessAttempt,
    CourtCase,
    CourtHearing,
    CourtHearingConsent,
    CourtHearingInvitee,
    CourtMediationAgreement,
    CourtMediationSignature,
    CourtParty,
)
from services.notifications_topics import hearing_topic, mediation_topic
from services.sandbox_clock import sandbox_today, sandbox_utcnow

logger = logging.getLogger("services.court")

KIND_COURT = "court"
KIND_PROCURATORATE = "procuratorate"
MAX_PATH_INPUT = 200  # longer path parameters are refused before anything reads them
MAX_HEARING_ID_INPUT = 20
MAX_AGREEMENT_TEXT = 5000
INSERT_ATTEMPTS = 3

# --- case numbers (案号): the usual writings, one canonical form ------------------------------------------------------

def clean_case_number(rules: CourtRules, raw: str | None) -> str:
    case_number = normalise_case_number(raw)
    if case_number is None:
        raise ApiError(
            422,
            "invalid_case_number",
            f"您输入的案号格式不正确。案号一般写作“{rules.case_number_example}”：括号内是立案年份，后面依次是法院代字、"
            f"案件类型代字和序号，可以在法院的受理通知书或传票上找到，请核对后重新输入。",
            {"field": "case_number", "example": rules.case_number_example},
        )
    return case_number


def clean_hearing_id(raw: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()


# --- times ----------------------------------------------------------------------------------------------------------


def china_date_of(value: datetime) -> date:
    return value.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ).date()


def chinese_datetime(value: datetime) -> str:
    local = value.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ)
    return f"{local.year}年{local.month}月{local.day}日{local:%H:%M}"


# --- who may see what: one answer for "no such case" and "not yours" ------------------------------------------------


def case_not_found(rules: CourtRules) -> ApiError:
    # Identical for a case number nobody has and for someone else's case: it must reveal nothing.
    return ApiError(
        404,
        "case_not_found",
        f"未查询到您作为当事人的该案件。请核对案号是否输入正确；案件信息只向案件当事人提供。如有疑问，请拨打"
        f"{rules.hotline}诉讼服务热线。",
    )


def _record_refusal(session: Session, person_id: int, case_number: str, action: str, outcome: str) -> None:
    """For operators: who asked for which case and was refused (the citizen only hears "not found")."""
    session.add(
        CourtAccessAttempt(
            person_id=person_id, case_number=case_number, action=action, outcome=outcome,
            attempted_at=sandbox_utcnow(session),
        )
    )
    session.commit()
    logger.warning("court case %s: %s refused for person %s (%s)", case_number, action, person_id, outcome)


def party_case(
    session: Session, rules: CourtRules, person_id: int, case_number: str, action: str
) -> tuple[CourtCase, CourtParty]:
    """The case and the person's party in it, or 404 case_not_found (the same whether it exists or not)."""
    case = session.execute(select(CourtCase).where(CourtCase.case_number == case_number)).scalar_one_or_none()
    party = None
    if case is not None:
        party = session.execute(
            select(CourtParty).where(CourtParty.case_id == case.id, CourtParty.person_id == person_id)
        ).scalar_one_or_none()
    if case is None or party is None:
        _record_refusal(session, person_id, case_number, action, "no_such_case" if case is None else "not_a_party")
        raise case_not_found(rules)
    return case, party


# --- hearings -------------------------------------------------------------------------------------------------------


def _mode(hearing: CourtHearing, consent: CourtHearingConsent | None) -> str:
    if not hearing.online_possible or (consent is not None and not consent.agree):
        return "in_person"
    return "online" if consent is not None else "pending"


def _consent_text(consent: CourtHearingConsent | None) -> str | None:
    if consent is None:
        return None
    return "agreed" if consent.agree else "refused"


def hearing_dict(
    rules: CourtRules, hearing: CourtHearing, consent: CourtHearingConsent | None, case: CourtCase | None
) -> dict[str, Any]:
    court = hearing.kind == KIND_COURT
    mode = _mode(hearing, consent)
    joining = rules.joining_instructions if court else rules.hearing["procuratorate_joining_instructions"]
    return {
        "hearing_id": hearing.hearing_no,
        "kind": hearing.kind,
        "organ": hearing.organ,
        "case_number": case.case_number if case is not None else None,
        "subject": hearing.subject or (f"{case.cause}一案开庭审理" if case is not None else None),
        "scheduled_at": to_china_iso(hearing.scheduled_at),
        "place": hearing.place,
        "online_possible": hearing.online_possible,
        "mode": mode,
        "consent": _consent_text(consent),
        "consent_at": to_china_iso(consent.decided_at) if consent is not None else None,
        "how_it_works": rules.hearing["court_how_it_works" if court else "procuratorate_how_it_works"],
        "joining_instructions": joining if mode == "online" else "",
        "identity_recheck": rules.identity_recheck,
    }


def _case_ids(session: Session, person_id: int) -> list[int]:
    return list(session.execute(select(CourtParty.case_id).where(CourtParty.person_id == person_id)).scalars())


def _persons_hearings(session: Session, person_id: int) -> list[CourtHearing]:
    """Court hearings of the person's cases and procuratorate hearings she is invited to."""
    invited = select(CourtHearingInvitee.hearing_id).where(CourtHearingInvitee.person_id == person_id)
    return list(
        session.execute(
            select(CourtHearing)
            .where(or_(CourtHearing.case_id.in_(_case_ids(session, person_id)), CourtHearing.id.in_(invited)))
            .order_by(CourtHearing.scheduled_at, CourtHearing.id)
        ).scalars()
    )


def _consent(session: Session, hearing_id: int, person_id: int) -> CourtHearingConsent | None:
    return session.execute(
        select(CourtHearingConsent).where(
            CourtHearingConsent.hearing_id == hearing_id, CourtHearingConsent.person_id == person_id
        )
    ).scalar_one_or_none()


def _case_of(session: Session, hearing: CourtHearing) -> CourtCase | None:
    return session.get(CourtCase, hearing.case_id) if hearing.case_id is not None else None


def _upcoming(hearings: list[CourtHearing], today: date) -> list[CourtHearing]:
    """Hearings of today (even if already begun) and later."""
    return [hearing for hearing in hearings if china_date_of(hearing.scheduled_at) >= today]


def list_hearings(session: Session, rules: CourtRules, person_id: int) -> list[dict[str, Any]]:
    """The person's hearings of today and later, soonest first."""
    hearings = _upcoming(_persons_hearings(session, person_id), sandbox_today(session))
    return [
        hearing_dict(rules, hearing, _consent(session, hearing.id, person_id), _case_of(session, hearing))
        for hearing in hearings
    ]


def hearing_not_found() -> ApiError:
    return ApiError(
        404,
        "hearing_not_found",
        "未查询到邀请您参加的该场开庭或听证，请核对后重试；如有疑问，请拨打12368诉讼服务热线或12309检察服务热线。",
    )


def _persons_hearing(session: Session, person_id: int, hearing_no: str) -> CourtHearing:
    hearing = next((item for item in _persons_hearings(session, person_id) if item.hearing_no == hearing_no), None)
    if hearing is None:
        raise hearing_not_found()
    return hearing


@dataclass(frozen=True)
class _Call:
    """Who asked, under which idempotency key, for which (cleaned) request."""

    principal: Principal
    key: str
    payload_hash: str


def _remember(session: Session, call: _Call, response: idempotency.StoredResponse) -> idempotency.StoredResponse:
    idempotency.remember_separately(session, call.principal.scope, call.key, call.payload_hash, response)
    return response


def _consent_response(
    session: Session, rules: CourtRules, hearing: CourtHearing, consent: CourtHearingConsent, status: int
) -> idempotency.StoredResponse:
    body = hearing_dict(rules, hearing, consent, _case_of(session, hearing))
    return idempotency.StoredResponse(status, {**body, "already_recorded": status == 200})


def _recorded(
    session: Session, rules: CourtRules, call: _Call, hearing: CourtHearing, consent: CourtHearingConsent, agree: bool
) -> idempotency.StoredResponse:
    """A decision already recorded: the same one again is fine (200); a different one cannot be made here (409)."""
    if consent.agree == agree:
        return _remember(session, call, _consent_response(session, rules, hearing, consent, 200))
    court = hearing.kind == KIND_COURT
    template = rules.hearing["change_consent_court" if court else "change_consent_procuratorate"]
    raise ApiError(
        409,
        "consent_already_recorded",
        template.format(decision="同意" if consent.agree else "不同意"),
        {"consent": _consent_text(consent)},
    )


def give_consent(
    session: Session, rules: CourtRules, principal: Principal, key: str, hearing_id: str, agree: bool | None
) -> idempotency.StoredResponse:
    """Record the person's decision on taking part online, once; 201 the first time, 200 for the same again."""
    if agree is None:
        raise ApiError(
            422, "invalid_field", "请告诉我们您是否同意以在线（视频）方式参加：同意或不同意。",
            {"field": "agree", "fields": ["agree"]},
        )
    hearing_no = clean_hearing_id(hearing_id)
    payload = {"op": "court_consent", "hearing_id": hearing_no, "agree": agree}
    call = _Call(principal, key, idempotency.request_hash(payload))
    stored = idempotency.replay(session, principal.scope, key, call.payload_hash)
    if stored is not None:
        return stored
    hearing = _persons_hearing(session, principal.person_id, hearing_no)
    existing = _consent(session, hearing.id, principal.person_id)
    if existing is not None:
        return _recorded(session, rules, call, hearing, existing, agree)
    if not hearing.online_possible:
        raise ApiError(
            422,
            "online_not_available",
            f"这场{'开庭' if hearing.kind == KIND_COURT else '听证'}不提供在线（视频）方式，请按通知的时间到"
            f"{hearing.place}参加。",
            {"place": hearing.place},
        )
    if hearing.scheduled_at <= sandbox_utcnow(session):
        raise ApiError(
            422,
            "hearing_over",
            f"这场{'开庭' if hearing.kind == KIND_COURT else '听证'}已于{chinese_datetime(hearing.scheduled_at)}"
            f"开始，不能再选择参加方式。如有疑问，请联系{hearing.organ}。",
        )
    return _insert_consent(session, rules, call, hearing, agree)


def _insert_consent(
    session: Session, rules: CourtRules, call: _Call, hearing: CourtHearing, agree: bool
) -> idempotency.StoredResponse:
    person_id = call.principal.person_id
    for _attempt in range(INSERT_ATTEMPTS):
        consent = CourtHearingConsent(
            hearing_id=hearing.id, person_id=person_id, agree=agree, decided_at=sandbox_utcnow(session)
        )
        # Built before the add: reading the clock would autoflush the insert outside the try below.
        response = _consent_response(session, rules, hearing, consent, 201)
        session.add(consent)
        idempotency.remember(session, call.principal.scope, call.key, call.payload_hash, response)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # a parallel request won: the same key, or another decision of the same person
            stored = idempotency.replay(session, call.principal.scope, call.key, call.payload_hash)
            if stored is not None:
                return stored
            existing = _consent(session, hearing.id, person_id)
            if existing is not None:
                return _recorded(session, rules, call, hearing, existing, agree)
            continue
        logger.info("hearing %s: consent %s recorded for person %s", hearing.hearing_no,
                    "agreed" if agree else "refused", person_id)
        return response
    raise RuntimeError("consent could not be recorded")  # the generic 500 handler reports it


# --- mediation agreements -------------------------------------------------------------------------------------------


def _current_agreement(session: Session, case_id: int) -> CourtMediationAgreement | None:
    return session.execute(
        select(CourtMediationAgreement)
        .where(CourtMediationAgreement.case_id == case_id)
        .order_by(CourtMediationAgreement.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def _display_name(party: CourtParty) -> str:
    return mask_name(party.name) if party.kind == "person" else party.name


def _signatures(session: Session, agreement: CourtMediationAgreement) -> dict[int, CourtMediationSignature]:
    rows = session.execute(
        select(CourtMediationSignature).where(
            CourtMediationSignature.agreement_id == agreement.id, CourtMediationSignature.void.is_(False)
        )
    ).scalars()
    return {row.party_id: row for row in rows}


def _parties(session: Session, case_id: int) -> list[CourtParty]:
    return list(
        session.execute(select(CourtParty).where(CourtParty.case_id == case_id).order_by(CourtParty.id)).scalars()
    )


def mediation_dict(
    session: Session, rules: CourtRules, case: CourtCase, agreement: CourtMediationAgreement,
    viewer: CourtParty | None,
) -> dict[str, Any]:
    """The agreement as a party (viewer) sees it, or as nobody in particular (viewer None: no personal fields)."""
    signatures = _signatures(session, agreement)
    parties = _parties(session, case.id)
    waiting = [f"{party.role}{_display_name(party)}" for party in parties if party.id not in signatures]
    mine = signatures.get(viewer.id) if viewer is not None else None
    values = {"version": agreement.version, "waiting": "、".join(waiting), "court": case.court,
              "days": rules.review_days}
    if not waiting:
        next_step = rules.mediation["all_signed"]
    elif viewer is None:
        next_step = rules.mediation["waiting"]
    elif mine is not None:
        next_step = rules.mediation["waiting_others"]
    else:
        others = [f"{party.role}{_display_name(party)}" for party in parties
                  if party.id not in signatures and party.id != viewer.id]
        other_values = {**values, "waiting": "、".join(others)}
        values["others"] = rules.mediation["others_waiting" if others else "others_signed"].format(**other_values)
        next_step = rules.mediation["me_to_sign"]
    body: dict[str, Any] = {
        "case_number": case.case_number,
        "court": case.court,
        "version": agreement.version,
        "text": agreement.text,
        "published_at": to_china_iso(agreement.published_at),
        "parties": [
            {
                "role": party.role,
                "name": _display_name(party),
                "signed": party.id in signatures,
                "signed_at": to_china_iso(signatures[party.id].signed_at) if party.id in signatures else None,
            }
            for party in parties
        ],
        "all_signed": not waiting,
        "waiting_for": waiting,
        "next_step": next_step.format(**values),
        "voided_versions": agreement.version - 1,
    }
    if viewer is not None:
        body["signed_by_me"] = mine is not None
        body["my_signed_at"] = to_china_iso(mine.signed_at) if mine is not None else None
    return body


def no_mediation() -> ApiError:
    return ApiError(
        404,
        "no_mediation",
        "该案件目前没有待您签署或已签署的调解协议。调解协议拟定后，法院会通知您阅读并签署。",
    )


def get_mediation(session: Session, rules: CourtRules, person_id: int, raw_case_number: str) -> dict[str, Any]:
    case_number = clean_case_number(rules, raw_case_number)
    case, party = party_case(session, rules, person_id, case_number, "mediation")
    agreement = _current_agreement(session, case.id)
    if agreement is None:
        raise no_mediation()
    return mediation_dict(session, rules, case, agreement, party)


def list_mediations(session: Session, rules: CourtRules, person_id: int) -> list[dict[str, Any]]:
    """Every agreement of the person's cases, the most recently published first."""
    items = []
    rows = session.execute(
        select(CourtCase, CourtParty)
        .join(CourtParty, CourtParty.case_id == CourtCase.id)
        .where(CourtParty.person_id == person_id)
    ).all()
    for case, party in rows:
        agreement = _current_agreement(session, case.id)
        if agreement is not None:
            items.append((agreement.published_at, agreement.id, mediation_dict(session, rules, case, agreement, party)))
    return [body for *_, body in sorted(items, key=lambda item: (item[0], item[1]), reverse=True)]


def _version_changed(current: int) -> ApiError:
    return ApiError(
        409,
        "agreement_version_changed",
        f"调解协议的内容已经更新（现为第{current}版），您看到的版本已作废。请重新阅读最新的协议全文，确认无误后再签署。",
        {"current_version": current},
    )


def sign_mediation(
    session: Session, rules: CourtRules, principal: Principal, key: str, raw_case_number: str, version: int | None
) -> idempotency.StoredResponse:
    """Record the person's signature of the current version, once per party and version."""
    case_number = clean_case_number(rules, raw_case_number)
    if version is None or version < 1:
        raise ApiError(
            422, "invalid_field", "请注明您阅读并同意签署的调解协议版本号。",
            {"field": "version", "fields": ["version"]},
        )
    payload = {"op": "court_mediation_signature", "case_number": case_number, "version": version}
    call = _Call(principal, key, idempotency.request_hash(payload))
    stored = idempotency.replay(session, principal.scope, key, call.payload_hash)
    if stored is not None:
        return stored
    case, party = party_case(session, rules, principal.person_id, case_number, "signature")
    agreement = _current_agreement(session, case.id)
    if agreement is None:
        raise no_mediation()
    if agreement.version != version:
        raise _version_changed(agreement.version)
    if party.id in _signatures(session, agreement):
        return _remember(session, call, _signature_response(session, rules, case, agreement, party, 200))
    return _insert_signature(session, rules, call, case, agreement, party)


def _signature_response(
    session: Session, rules: CourtRules, case: CourtCase, agreement: CourtMediationAgreement, party: CourtParty,
    status: int,
) -> idempotency.StoredResponse:
    body = mediation_dict(session, rules, case, agreement, party)
    return idempotency.StoredResponse(status, {**body, "already_signed": status == 200})


def _insert_signature(
    session: Session, rules: CourtRules, call: _Call, case: CourtCase, agreement: CourtMediationAgreement,
    party: CourtParty,
) -> idempotency.StoredResponse:
    for _attempt in range(INSERT_ATTEMPTS):
        session.add(
            CourtMediationSignature(
                agreement_id=agreement.id, party_id=party.id, signed_at=sandbox_utcnow(session), void=False
            )
        )
        try:
            session.flush()  # the unique (agreement, party) decides a race here, before the response is built
            response = _signature_response(session, rules, case, agreement, party, 201)
            idempotency.remember(session, call.principal.scope, call.key, call.payload_hash, response)
            session.commit()
        except IntegrityError:
            session.rollback()  # a parallel request won: the same key, or another signature of the same party
            stored = idempotency.replay(session, call.principal.scope, call.key, call.payload_hash)
            if stored is not None:
                return stored
            current = _current_agreement(session, case.id)
            if current is None or current.id != agreement.id:
                raise _version_changed(current.version if current else agreement.version) from None
            if party.id in _signatures(session, agreement):
                return _remember(session, call, _signature_response(session, rules, case, agreement, party, 200))
            continue
        logger.info("mediation %s v%s: signed by party %s", case.case_number, agreement.version, party.id)
        return response
    raise RuntimeError("signature could not be recorded")  # the generic 500 handler reports it


def publish_version(session: Session, rules: CourtRules, raw_case_number: str, text: str) -> dict[str, Any]:
    """Development: the court issues a revised agreement (version + 1); every earlier signature becomes void."""
    case_number = clean_case_number(rules, raw_case_number)
    case = session.execute(select(CourtCase).where(CourtCase.case_number == case_number)).scalar_one_or_none()
    if case is None:
        raise case_not_found(rules)
    for _attempt in range(INSERT_ATTEMPTS):
        current = _current_agreement(session, case.id)
        agreement = CourtMediationAgreement(
            case_id=case.id,
            version=(current.version if current else 0) + 1,
            text=text,
            published_at=sandbox_utcnow(session),
        )
        session.add(agreement)
        try:
            session.flush()
            earlier = select(CourtMediationAgreement.id).where(
                CourtMediationAgreement.case_id == case.id, CourtMediationAgreement.version < agreement.version
            )
            session.execute(
                update(CourtMediationSignature)
                .where(CourtMediationSignature.agreement_id.in_(earlier))
                .values(void=True)
                .execution_options(synchronize_session=False)
            )
            # The parties who watch the agreement are told in this same transaction (services/notifications.py).
            detail = f"调解协议已更新为第{agreement.version}版，此前的签署已失效，请重新阅读并签署"
            notifications.record(session, mediation_topic(case.case_number), "revised", detail)
            session.commit()
        except IntegrityError:
            session.rollback()  # another version was published at the same moment: publish after it
            continue
        logger.info("mediation %s: version %s published", case.case_number, agreement.version)
        return mediation_dict(session, rules, case, agreement, None)
    raise RuntimeError("mediation version could not be published")


# --- cases ----------------------------------------------------------------------------------------------------------


def case_dict(session: Session, rules: CourtRules, case: CourtCase, party: CourtParty) -> dict[str, Any]:
    stage = rules.stage(case.stage)
    today = sandbox_today(session)
    hearings = _upcoming(
        list(
            session.execute(
                select(CourtHearing).where(CourtHearing.case_id == case.id).order_by(CourtHearing.scheduled_at)
            ).scalars()
        ),
        today,
    )
    agreement = _current_agreement(session, case.id)
    next_date = None
    next_step = stage.next_step
    if case.stage == "hearing_scheduled":
        if hearings:
            hearing = hearings[0]
            next_date = to_china_iso(hearing.scheduled_at)
            mode = _mode(hearing, _consent(session, hearing.id, party.person_id))
            next_step = stage.next_step.format(
                when=chinese_datetime(hearing.scheduled_at), place=hearing.place, mode_text=rules.mode_text[mode]
            )
        else:
            next_step = stage.description
    elif case.stage == "mediation" and agreement is not None:
        next_step = mediation_dict(session, rules, case, agreement, party)["next_step"]
    others = [_display_name(other) for other in _parties(session, case.id) if other.id != party.id]
    return {
        "case_number": case.case_number,
        "court": case.court,
        "cause": case.cause,
        "role": party.role,
        "stage": case.stage,
        "stage_name": stage.name,
        "next_step": next_step,
        "next_date": next_date,
        "judge": case.judge,
        "other_parties": others,
        "has_hearing": bool(hearings),
        "has_mediation": agreement is not None,
    }


def list_cases(session: Session, rules: CourtRules, person_id: int) -> list[dict[str, Any]]:
    """The cases the person is a party to, the most recently filed first."""
    rows = session.execute(
        select(CourtCase, CourtParty)
        .join(CourtParty, CourtParty.case_id == CourtCase.id)
        .where(CourtParty.person_id == person_id)
        .order_by(CourtCase.filed_on.desc(), CourtCase.id.desc())
    ).all()
    return [case_dict(session, rules, case, party) for case, party in rows]


def get_case(session: Session, rules: CourtRules, person_id: int, raw_case_number: str) -> dict[str, Any]:
    case_number = clean_case_number(rules, raw_case_number)
    case, party = party_case(session, rules, person_id, case_number, "case")
    return case_dict(session, rules, case, party)


def reschedule_hearing(session: Session, raw_hearing_id: str, scheduled_at: datetime, place: str | None) -> None:
    """Development: the court or procuratorate moves a hearing (naive UTC time, as stored). Whoever watches it is
    told (services/notifications.py), in the same transaction."""
    hearing = session.execute(
        select(CourtHearing).where(CourtHearing.hearing_no == clean_hearing_id(raw_hearing_id))
    ).scalar_one_or_none()
    if hearing is None:
        raise hearing_not_found()
    hearing.scheduled_at = scheduled_at
    if place:
        hearing.place = place
    what = "开庭" if hearing.kind == KIND_COURT else "听证"
    detail = f"{what}时间调整为{chinese_datetime(hearing.scheduled_at)}，地点：{hearing.place}"
    notifications.record(session, hearing_topic(hearing.hearing_no), "rescheduled", detail)
    session.commit()
    logger.info("hearing %s rescheduled", hearing.hearing_no)
