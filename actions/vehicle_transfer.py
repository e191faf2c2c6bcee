"""Vehicle registration transfer with the electronic archive (机动车档案电子化网上转递, e.g. 南宁 → 青岛).

Apply: verify the owner → the plate (from the request if named there) and the last 6 characters of the VIN, checked by
the service at once: a plate the person does not own and a wrong VIN tail get the service's one answer, which reveals
nothing, and the citizen may correct either (the form base offers the ways out after repeated failures); a vehicle that
may not transfer is refused with every reason and what to do first, and nothing more is asked; a vehicle with an open
application gets that application back → the destination city (buttons with the cities served) → the service's
pre-check with that destination → the summary (the vehicle, from and to, the stages with their time limits, no trip
back to the origin, the paper file stays there) → the application number.
Status: the person's applications with every stage, its time limit and date, and the one inspection at the destination.
The rules' questions asked inside the form (要多久, 要回南宁验车吗, 纸质档案要自己带吗…) are answered from the service's
rules (their ready-made `faq`); any other question goes to the knowledge base like in every form.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions import services
from actions.form_base import (
    QUESTION,
    YES_NO,
    GovFormValidationAction,
    SlotSpec,
    Updates,
    chat_user,
    latest_intent,
)
from actions.identity import IDENTITY, IDENTITY_SPECS, IdentityMixin, identity_slots, is_verified
from actions.slot_values import plain
from actions.validators.common import (
    CONFIRMED,
    DECLINED,
    Invalid,
    Valid,
    chinese_date,
    validate_confirmation,
)
from actions.validators.vehicle import (
    validate_city_name,
    validate_plate_number,
    validate_vin_tail,
)
from actions.wording import Wording
from integrations.services import ServiceRejected, ServiceUnavailable, idempotency_key
from integrations.services.vehicle_transfer import (
    Application,
    Destination,
    RefusalReason,
    Stage,
    StageProgress,
    TransferRules,
    VehicleCheck,
    refusal_reasons,
)

SERVICE, STATUS_SERVICE = "vehicle_transfer", "vehicle_transfer_status"  # transaction_result services (console)
SETTLED = "settled"  # fills the form's remaining questions when there is nothing more to ask
RUN = "form_run"  # a key of vt_vehicle: this run of the form, for the application's idempotency key
QUESTIONS = ["plate_number", "vin_tail", "vt_city", "vt_confirm"]
VEHICLE_SLOTS = [*QUESTIONS, "vt_vehicle", "vt_rules", "vt_result"]
DESTINATION_REFUSALS = {"destination_not_served", "destination_same_as_registration"}

PLATE_SPEC = SlotSpec(validate_plate_number, "utter_explain_plate_number", entity="plate_number")
SPECS = {
    "plate_number": PLATE_SPEC,
    "vin_tail": SlotSpec(validate_vin_tail, "utter_explain_vin_tail"),
    "vt_city": SlotSpec(validate_city_name, "utter_explain_vt_city", entity="city", free_text=True),
    "vt_confirm": SlotSpec(validate_confirmation, "utter_explain_vt_confirm", intents=YES_NO),
}

# Which city of a message is the destination ("从南宁迁到青岛"): the one after 到/入/去…, else any not after 从/出.
TOWARDS = re.compile(r"[到至去往入转迁]\s*$")
AWAY_FROM = re.compile(r"[从由出自]\s*$")
# A VIN tail written in a message that answers something else ("车架号后六位123456").
VIN_MENTION = re.compile(r"车架号|車架號|识别代号|識別代號|VIN|后\s*[6六]\s*位", re.IGNORECASE)

# The rules' questions answered inside the form: the service's ready-made answer (faq) or refusal reason.
ANSWERED = "answered"  # vt_result: a rule question that started the form was answered; nothing is asked
# Intents a rule question may be read as ("转籍还要回南宁验车吗" is often taken for the status query).
RULE_INTENTS = frozenset({"policy_question", "out_of_scope", "nlu_fallback", "vehicle_transfer_apply",
                          "vehicle_transfer_status"})
OWN = re.compile(r"我的|我那|我家|我这")
APPLY_WORDS = re.compile(r"帮我办|我要办|我想办|申请|给我办|办理一下|怎么办理|怎么转")
RULE_TOPICS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("reason", "mortgaged", re.compile(r"贷款|车贷|抵押|按揭|解押")),
    ("reason", "seized", re.compile(r"查封")),
    ("faq", "violations", re.compile(r"违章|违法|罚款|扣分|事故")),
    ("faq", "paper_file", re.compile(r"纸质|提档|档案袋|邮寄|档案.{0,4}带|带.{0,4}档案")),
    ("faq", "inspection", re.compile(r"验车|查验|回原籍|回老家|回原地|跑回|回去")),
    ("faq", "duration", re.compile(r"多久|多长时间|几天|多少天|时限|多快|什么时候能办")),
    ("faq", "documents", re.compile(r"材料|证件|带什么|要带|证明")),
)


# -- the service's objects in slots (JSON: dates as YYYY-MM-DD) ------------------------------------------------------


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def rules_of(data: dict[str, Any] | None) -> TransferRules | None:
    if not data:
        return None
    return TransferRules(
        reasons=tuple(RefusalReason(**reason) for reason in data["reasons"]),
        stages=tuple(Stage(**stage) for stage in data["stages"]),
        destinations=tuple(Destination(**destination) for destination in data["destinations"]),
        faq=dict(data["faq"]),
        plate_example=data["plate_example"],
        hotline=data["hotline"],
    )


def application_of(data: dict[str, Any]) -> Application:
    stages = tuple(
        StageProgress(**stage | {"date": _day(stage["date"]), "due": _day(stage["due"])}) for stage in data["stages"]
    )
    return Application(
        **data
        | {"submitted_on": date.fromisoformat(data["submitted_on"]), "today": date.fromisoformat(data["today"]),
           "stages": stages}
    )


def bare_city(name: str) -> str:
    return "".join(name.split()).removesuffix("市")


def checked_city(vehicle: dict[str, Any] | None) -> str | None:
    """The destination the vehicle was last checked for, if any."""
    return ((vehicle or {}).get("destination") or {}).get("city")


def served(rules: TransferRules, name: str) -> Destination | None:
    """The served destination named in what was typed ("青岛", "山东省青岛市", "我搬到青岛了")."""
    return next((item for item in rules.destinations if item.city in name), None)


async def fetch_rules() -> TransferRules | None:
    try:
        return await services.vehicle_transfer().get_rules()
    except ServiceUnavailable:
        return None


# -- what the citizen reads -----------------------------------------------------------------------------------------


def vehicle_text(plate: str, vehicle_type: str | None, brand_model: str | None, words: Wording) -> str:
    """桂A12345（小型汽车，大众牌轿车）; just the plate when the registry names neither."""
    description = "，".join(item for item in (vehicle_type, brand_model) if item)
    return words.part("utter_vt_vehicle", plate=plate, description=description) if description else plate


def limit_text(days: int | None, words: Wording) -> str:
    return words.part("utter_vt_stage_limit", days=days) if days else ""


def due_text(due: date | None, words: Wording) -> str:
    return words.part("utter_vt_stage_due", due=chinese_date(due)) if due else ""


def stage_line(number: int, stage: StageProgress, today: date, words: Wording) -> str:
    limit = limit_text(stage.time_limit_days, words)
    if stage.status == "done":
        return words.part("utter_vt_stage_done", number=number, stage_name=stage.name, limit=limit,
                          date=chinese_date(stage.date or today))
    if stage.status == "current" and stage.code == "awaiting_owner":
        return words.part("utter_vt_stage_waiting_for_you", number=number, stage_name=stage.name)
    return words.part(
        "utter_vt_stage_current" if stage.status == "current" else "utter_vt_stage_pending",
        number=number, stage_name=stage.name, limit=limit, due=due_text(stage.due, words),
    )


def application_card(application: Application, words: Wording) -> str:
    """The application with every stage, its time limit and date, and what the owner does next."""
    stages = "\n".join(
        stage_line(number, stage, application.today, words) for number, stage in enumerate(application.stages, 1)
    )
    if application.completed:
        next_step = words.part("utter_vt_next_completed", destination_city=application.destination_city,
                               destination_office=application.destination_office)
    else:
        next_step = words.part(
            "utter_vt_next_owner_now" if application.stage == "awaiting_owner" else "utter_vt_next_owner_later",
            owner_step=application.owner_step, paper_file=application.paper_file,
        )
    return words.part(
        "utter_vt_application",
        application_no=application.application_no,
        vehicle=vehicle_text(application.plate, application.vehicle_type, application.brand_model, words),
        origin_city=application.origin_city,
        destination_city=application.destination_city,
        destination_office=application.destination_office,
        submitted_on=chinese_date(application.submitted_on),
        progress_text=application.progress_text,
        stages=stages,
        next_step=next_step,
    )


def tell_refusal(
    reasons: tuple[RefusalReason, ...], vehicle: str, dispatcher: CollectingDispatcher, words: Wording
) -> None:
    """Every reason the vehicle may not transfer, each with what to do first."""
    listed = "\n".join(
        words.part("utter_vt_refusal_reason", number=number, reason_name=reason.name, message=reason.message,
                   next_step=reason.next_step)
        for number, reason in enumerate(reasons, 1)
    )
    dispatcher.utter_message(response="utter_vt_refused", vehicle=vehicle, count=len(reasons), reasons=listed)


def application_key(tracker: Tracker, request: dict[str, str]) -> str:
    """One key per run of the form and answers: a retried confirmation never applies twice."""
    run = (tracker.get_slot("vt_vehicle") or {}).get(RUN, "")
    answers = "|".join(request[name] for name in sorted(request))
    return idempotency_key(tracker.sender_id, SERVICE, f"{run}|{answers}")


def destination_entity(tracker: Tracker) -> str | None:
    """The destination among the cities of the message (the NLU marks every city, the origin too)."""
    text = tracker.latest_message.get("text") or ""
    cities = [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "city" and e.get("value")]

    def before(found: dict[str, Any]) -> str:
        start = found.get("start")
        return text[max(0, start - 3):start] if isinstance(start, int) else ""

    towards = [found for found in cities if TOWARDS.search(before(found))]
    others = [found for found in cities if not AWAY_FROM.search(before(found))]
    chosen = (towards or others or [None])[-1]
    return str(chosen["value"]) if chosen else None


# -- the application form ---------------------------------------------------------------------------------------------


class ValidateVehicleTransferForm(IdentityMixin, GovFormValidationAction):
    """Identity, the vehicle (checked at once), the destination (checked again), the confirmation."""

    own_intents = frozenset({"vehicle_transfer_apply"})
    level = IDENTITY
    specs = {**IDENTITY_SPECS, **SPECS}

    def name(self) -> str:
        return "validate_vehicle_transfer_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        if tracker.get_slot("vt_result") == ANSWERED:
            return []
        return identity_slots(tracker, IDENTITY) + QUESTIONS

    def settle(self, result: Any) -> Updates:
        """Nothing more to ask: fill the remaining questions so the form ends, and say why in vt_result."""
        return {"vt_city": SETTLED, "vt_confirm": SETTLED, "vt_result": result}

    # -- what a message gives ---------------------------------------------------------------------------------------

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        candidates, from_entities = super().extract(tracker, requested)
        text = tracker.latest_message.get("text") or ""
        if "vt_city" in from_entities:
            city = destination_entity(tracker)
            if city:
                candidates["vt_city"] = city
            else:  # only the origin was named ("迁出南宁")
                del candidates["vt_city"]
                from_entities.discard("vt_city")
        vin_given = isinstance(validate_vin_tail(text), Valid)
        if requested != "vin_tail" and vin_given and (VIN_MENTION.search(text) or "plate_number" in from_entities):
            candidates["vin_tail"] = text  # "桂A12345，车架号后六位123456" answers both
            from_entities.add("vin_tail")
        if requested == "vin_tail" and "plate_number" in from_entities and not vin_given:
            candidates.pop("vin_tail", None)  # a corrected plate, typed where the VIN was asked
        if tracker.get_slot("vt_vehicle"):
            # The vehicle already checked stays the one of this application.
            for slot in ("plate_number", "vin_tail"):
                candidates.pop(slot, None)
        if requested == "vt_city" and not tracker.get_slot("vt_vehicle") and "vt_city" not in from_entities:
            candidates.pop("vt_city", None)  # "重试": check the vehicle first
        if requested == "vt_confirm":
            current = tracker.get_slot("vt_city") or ""
            changed = "vt_city" in from_entities and current not in candidates["vt_city"]
            if not self.ready_to_confirm(tracker) or (changed and "vt_confirm" not in from_entities):
                candidates.pop("vt_confirm", None)  # check (again) and show the summary first
        return candidates, from_entities

    @staticmethod
    def ready_to_confirm(tracker: Tracker) -> bool:
        vehicle = tracker.get_slot("vt_vehicle")
        return bool(vehicle and tracker.get_slot("vt_rules") and checked_city(vehicle) == tracker.get_slot("vt_city"))

    # -- a rule question inside the form: the service's own answer ----------------------------------------------------

    async def before_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str | None
    ) -> Updates | None:
        updates = await super().before_validation(dispatcher, tracker, requested)
        if updates is None and requested is None and self.asks_a_rule(tracker):
            # "车有违章没处理还能转籍吗" read as a request: the rule is the answer, and no identity is asked for.
            answered = await self.answer_rule_question(dispatcher, tracker, first=True)
            return None if answered is None else answered | {"vt_result": ANSWERED}
        if updates is not None or not requested or latest_intent(tracker)[0] not in RULE_INTENTS:
            return updates
        if latest_intent(tracker)[0] != "policy_question":
            # read as this service or another matter: a question about its rules is still a question
            return await self.answer_rule_question(dispatcher, tracker) if self.asks_a_rule(tracker) else None
        candidates, from_entities = self.extract(tracker, requested)
        if self._fills(requested, candidates, from_entities) or not self._is_digression(tracker, requested):
            return None
        return await self.answer_rule_question(dispatcher, tracker)

    @staticmethod
    def asks_a_rule(tracker: Tracker) -> bool:
        """A question about the rules, without a vehicle named or a request to apply."""
        text = tracker.latest_message.get("text") or ""
        plate = any(e.get("entity") == "plate_number" for e in tracker.latest_message.get("entities") or [])
        return bool(QUESTION.search(text)) and not plate and not APPLY_WORDS.search(text) and not OWN.search(text)

    @staticmethod
    async def answer_rule_question(
        dispatcher: CollectingDispatcher, tracker: Tracker, first: bool = False
    ) -> Updates | None:
        """要多久 / 要回南宁验车吗 / 纸质档案要自己带吗 / 有违章能转吗 / 贷款车能转吗, from the service's rules; None
        when the rules do not answer it (the knowledge base then does, as in every form)."""
        text = tracker.latest_message.get("text") or ""
        topic = next(((kind, key) for kind, key, words in RULE_TOPICS if words.search(text)), None)
        if topic is None:
            return None
        updates: Updates = {}
        rules = rules_of(tracker.get_slot("vt_rules"))
        if rules is None:
            rules = await fetch_rules()
            if rules is None:
                return None
            updates["vt_rules"] = plain(rules)
        kind, key = topic
        if kind == "faq":
            answer = rules.faq.get(key)
        else:
            reason = next((item for item in rules.reasons if item.code == key), None)
            answer = f"{reason.message}{reason.next_step}" if reason else None
        if not answer:
            return None
        dispatcher.utter_message(
            response="utter_vt_rule_answer_first" if first else "utter_vt_rule_answer",
            answer=answer,
            hotline=rules.hotline,
        )
        return updates

    # -- the vehicle and the destination, checked by the service --------------------------------------------------

    async def after_vin_tail(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates | Invalid:
        """The VIN answered to its question: the vehicle is checked at once (a mismatch is explained like any
        invalid answer, so a repeated one offers the ways out). Otherwise after_validation checks it."""
        ready = is_verified(tracker, IDENTITY) and tracker.get_slot("plate_number")
        if tracker.get_slot(REQUESTED_SLOT) != "vin_tail" or not ready or tracker.get_slot("vt_result"):
            return {"vin_tail": value}
        return await self.check_vehicle(value, dispatcher, tracker, domain)

    async def after_vt_city(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates | Invalid:
        updates: Updates = {}
        rules = rules_of(tracker.get_slot("vt_rules"))
        if rules is None:
            rules = await fetch_rules()
            if rules is None:
                return {"vt_city": value}  # the service judges it at the pre-check
            updates["vt_rules"] = plain(rules)
        destination = served(rules, value)
        if destination is None:
            cities = "、".join(item.city for item in rules.destinations)
            return Invalid("utter_invalid_vt_city_not_served", {"city": value, "cities": cities})
        registered = (tracker.get_slot("vt_vehicle") or {}).get("registered_city")
        if registered and bare_city(registered) == destination.city:
            return Invalid("utter_invalid_vt_city_same_as_registration", {"city": destination.city})
        return updates | {"vt_city": destination.city}

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        updates = await super().after_validation(dispatcher, tracker, domain)
        tracker.slots.update(updates)
        if identity_slots(tracker, IDENTITY) or tracker.get_slot("vt_result"):
            return updates
        plate, vin = tracker.get_slot("plate_number"), tracker.get_slot("vin_tail")
        if plate and vin and not tracker.get_slot("vt_vehicle") and tracker.get_slot(REQUESTED_SLOT) != "vin_tail":
            # Named before the identity was verified, or the check is retried: its mismatch is explained here.
            checked = await self.check_vehicle(vin, dispatcher, tracker, domain)
            if isinstance(checked, Invalid):
                checked = {"vin_tail": None} | self._explain_failure(
                    "vin_tail", {"vin_tail": checked}, dispatcher, tracker, domain
                )
            updates |= checked
            tracker.slots.update(checked)
        vehicle, city = tracker.get_slot("vt_vehicle"), tracker.get_slot("vt_city")
        if tracker.get_slot("vt_result") or not vehicle:
            return updates
        if city and checked_city(vehicle) != city:
            checked = await self.check_destination(city, dispatcher, tracker, domain)
            updates |= checked
            tracker.slots.update(checked)
        if tracker.get_slot("vt_vehicle") and not tracker.get_slot("vt_rules") and not tracker.get_slot("vt_result"):
            rules = await fetch_rules()
            if rules is not None:
                updates["vt_rules"] = plain(rules)
        return updates

    async def _check(self, tracker: Tracker, vin: str, city: str | None) -> VehicleCheck:
        return await services.vehicle_transfer().check_vehicle(
            token=tracker.get_slot("identity_token"),
            chat_user=chat_user(tracker),
            plate=tracker.get_slot("plate_number"),
            vin_tail=vin,
            destination_city=city,
        )

    async def check_vehicle(
        self, vin: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates | Invalid:
        """Is it the person's vehicle, and may it transfer? Nothing is said about a vehicle that is not theirs."""
        try:
            check = await self._check(tracker, vin, None)
        except ServiceUnavailable:
            # plate and VIN are kept; the city question explains and offers to retry (action_ask_vt_city)
            return {"vin_tail": vin, services.RESULT_SLOT: services.result(SERVICE, "error")}
        except ServiceRejected as error:
            if error.code == "vehicle_not_found":  # the same answer for an unknown plate, another's, a wrong VIN
                return Invalid("utter_invalid_vehicle_not_found", {"reason": error.message.rstrip("。")})
            services.tell_refused(dispatcher, error)
            slot = "plate_number" if error.details.get("field") == "plate" else "vin_tail"
            return {slot: None, services.RESULT_SLOT: services.result(SERVICE, "rejected")}
        words = Wording(domain, tracker)
        outcome = await self.look_at(check, dispatcher, tracker, words)
        if outcome is not None:
            return {"vin_tail": vin} | outcome
        dispatcher.utter_message(
            response="utter_vt_vehicle_found",
            vehicle=vehicle_text(check.plate, check.vehicle_type, check.brand_model, words),
            origin_city=bare_city(check.registered_city),
        )
        return {"vin_tail": vin, "vt_vehicle": plain(check) | {RUN: uuid.uuid4().hex}}

    async def check_destination(
        self, city: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        """The pre-check with the destination, just before the summary."""
        try:
            check = await self._check(tracker, tracker.get_slot("vin_tail"), city)
        except ServiceUnavailable:
            # the answers are kept; the summary explains and offers to retry (action_ask_vt_confirm)
            return {services.RESULT_SLOT: services.result(SERVICE, "error")}
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            rejected = {services.RESULT_SLOT: services.result(SERVICE, "rejected")}
            if error.code in DESTINATION_REFUSALS:
                return rejected | {"vt_city": None}
            if error.code == "vehicle_not_found":
                return rejected | {"vin_tail": None, "vt_vehicle": None, "vt_city": None}
            return rejected | self.settle("rejected")
        outcome = await self.look_at(check, dispatcher, tracker, Wording(domain, tracker))
        if outcome is not None:
            return outcome
        run = (tracker.get_slot("vt_vehicle") or {}).get(RUN) or uuid.uuid4().hex
        return {"vt_vehicle": plain(check) | {RUN: run}}

    async def look_at(
        self, check: VehicleCheck, dispatcher: CollectingDispatcher, tracker: Tracker, words: Wording
    ) -> Updates | None:
        """An open application (given back, not made twice) or a refusal end the form; None: go on."""
        if check.open_application is not None:
            return await self.existing(check, dispatcher, tracker)
        if not check.may_transfer:
            tell_refusal(check.reasons, vehicle_text(check.plate, check.vehicle_type, check.brand_model, words),
                         dispatcher, words)
            return self.settle("refused") | {
                "vt_vehicle": plain(check),
                services.RESULT_SLOT: services.result(SERVICE, "rejected"),
            }
        return None

    async def existing(self, check: VehicleCheck, dispatcher: CollectingDispatcher, tracker: Tracker) -> Updates:
        """The vehicle's open application, with its progress (action_submit_vehicle_transfer shows it)."""
        summary = check.open_application
        try:
            applications = await services.vehicle_transfer().list_applications(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker)
            )
        except (ServiceUnavailable, ServiceRejected):
            applications = []
        found = next((item for item in applications if item.application_no == summary.application_no), None)
        if found is not None:
            return self.settle(plain(replace(found, already_applied=True)))
        dispatcher.utter_message(
            response="utter_vt_open_application",
            plate=check.plate,
            application_no=summary.application_no,
            destination_city=summary.destination_city,
            stage_name=summary.stage_name,
        )
        return self.settle("existing")

    # -- the application --------------------------------------------------------------------------------------------

    async def after_vt_confirm(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        if value == DECLINED:
            dispatcher.utter_message(response="utter_vt_declined")
            return {"vt_confirm": DECLINED, "vt_result": "declined"}
        request = {
            "plate": tracker.get_slot("plate_number"),
            "vin_tail": tracker.get_slot("vin_tail"),
            "destination_city": tracker.get_slot("vt_city"),
        }
        try:
            application = await services.vehicle_transfer().apply(
                token=tracker.get_slot("identity_token"),
                chat_user=chat_user(tracker),
                idempotency_key=application_key(tracker, request),
                **request,
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_submission_kept")
            return {"vt_confirm": None, services.RESULT_SLOT: services.result(SERVICE, "error")}
        except ServiceRejected as error:
            rejected = {services.RESULT_SLOT: services.result(SERVICE, "rejected")}
            if error.code == "vehicle_not_transferable":  # something changed since the pre-check
                vehicle = tracker.get_slot("vt_vehicle") or {}
                words = Wording(domain, tracker)
                shown = vehicle_text(request["plate"], vehicle.get("vehicle_type"), vehicle.get("brand_model"), words)
                tell_refusal(refusal_reasons(error.details), shown, dispatcher, words)
                return rejected | {"vt_confirm": DECLINED, "vt_result": "refused"}
            services.tell_refused(dispatcher, error)
            if error.code in DESTINATION_REFUSALS:
                return rejected | {"vt_city": None, "vt_confirm": None}
            return rejected | {"vt_confirm": DECLINED, "vt_result": "rejected"}
        return {
            "vt_confirm": CONFIRMED,
            "vt_result": plain(application),
            services.RESULT_SLOT: services.result(SERVICE, "completed", application.application_no),
        }


# -- the questions that name the service's data ---------------------------------------------------------------------


class ActionAskVtCity(Action):
    """Ask for the destination with the cities served as buttons, or, if the vehicle could not be checked, say so
    and offer to retry."""

    def name(self) -> str:
        return "action_ask_vt_city"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        vehicle = tracker.get_slot("vt_vehicle")
        if not vehicle:
            dispatcher.utter_message(response="utter_vt_check_unavailable")
            return []
        rules = rules_of(tracker.get_slot("vt_rules"))
        if rules is None:
            dispatcher.utter_message(response="utter_ask_vt_city_any")
            return []
        origin = bare_city(vehicle.get("registered_city") or "")
        cities = [item.city for item in rules.destinations if item.city != origin]
        buttons = [{"title": city, "payload": f'/inform{{"city": "{city}"}}'} for city in cities]
        dispatcher.utter_message(response="utter_ask_vt_city", cities="、".join(cities), buttons=buttons)
        return []


class ActionAskVtConfirm(Action):
    """Sum up the application (the vehicle, from and to, the stages and their time limits, no trip back, the paper
    file stays at the origin) and ask for the confirmation."""

    def name(self) -> str:
        return "action_ask_vt_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        vehicle = tracker.get_slot("vt_vehicle") or {}
        rules = rules_of(tracker.get_slot("vt_rules"))
        destination = vehicle.get("destination")
        if rules is None or not destination or destination.get("city") != tracker.get_slot("vt_city"):
            dispatcher.utter_message(response="utter_vt_check_unavailable")
            return []
        words = Wording(domain, tracker)
        stages = "\n".join(
            words.part("utter_vt_rule_stage", number=number, stage_name=stage.name,
                       limit=limit_text(stage.time_limit_days, words))
            for number, stage in enumerate(rules.stages, 1)
        )
        dispatcher.utter_message(
            response="utter_ask_vt_confirm",
            vehicle=vehicle_text(vehicle["plate"], vehicle.get("vehicle_type"), vehicle.get("brand_model"), words),
            origin_city=bare_city(vehicle["registered_city"]),
            origin_office=vehicle["origin_office"],
            destination_city=destination["city"],
            destination_office=destination["office"],
            address=destination["address"],
            hours=destination["hours"],
            stages=stages,
        )
        return []


# -- the results --------------------------------------------------------------------------------------------------


class ActionSubmitVehicleTransfer(Action):
    """After the application form: show the application (new, or the open one), then forget the form's answers."""

    def name(self) -> str:
        return "action_submit_vehicle_transfer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        result = tracker.get_slot("vt_result")
        if isinstance(result, dict) and result.get("application_no"):
            application = application_of(result)
            card = application_card(application, Wording(domain, tracker))
            dispatcher.utter_message(
                response="utter_vt_applied_before" if application.already_applied else "utter_vt_applied",
                application=card,
            )
        return [SlotSet(slot, None) for slot in VEHICLE_SLOTS]


class ValidateVehicleTransferStatusForm(IdentityMixin, GovFormValidationAction):
    """Identity only; a plate in the request ("桂A12345的转籍到哪了") narrows the list to that vehicle."""

    level = IDENTITY
    specs = {**IDENTITY_SPECS, "plate_number": PLATE_SPEC}

    def name(self) -> str:
        return "validate_vehicle_transfer_status_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        if tracker.get_slot("vt_result") == ANSWERED:
            return []
        return identity_slots(tracker, IDENTITY)

    async def before_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str | None
    ) -> Updates | None:
        updates = await super().before_validation(dispatcher, tracker, requested)
        if updates is None and requested is None and ValidateVehicleTransferForm.asks_a_rule(tracker):
            answered = await ValidateVehicleTransferForm.answer_rule_question(dispatcher, tracker, first=True)
            return None if answered is None else answered | {"vt_result": ANSWERED}
        return updates


class ActionVehicleTransferStatus(Action):
    """The verified person's applications (or the named vehicle's), newest first, with every stage."""

    def name(self) -> str:
        return "action_vehicle_transfer_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        cleared: list[EventType] = [SlotSet(slot, None) for slot in VEHICLE_SLOTS]
        if tracker.get_slot("vt_result") == ANSWERED:  # a rule question, answered by the form
            return cleared
        try:
            applications = await services.vehicle_transfer().list_applications(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker)
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_verified_no_repeat")
            return [*cleared, services.result_event(STATUS_SERVICE, "error")]
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            return [*cleared, services.result_event(STATUS_SERVICE, "rejected")]
        plate = tracker.get_slot("plate_number")
        if plate:
            applications = [item for item in applications if item.plate == plate]
        if not applications:
            if plate:
                dispatcher.utter_message(response="utter_vt_applications_none_for_plate", plate=plate)
            else:
                dispatcher.utter_message(response="utter_vt_applications_none")
        else:
            words = Wording(domain, tracker)
            listing = "\n\n".join(application_card(item, words) for item in applications)
            dispatcher.utter_message(response="utter_vt_applications", count=len(applications),
                                     applications=listing)
        return [*cleared, services.result_event(STATUS_SERVICE, "completed")]


async def answer_unsure_rule_question(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> bool:
    """The NLU was unsure, most likely of this service: a question about its rules is answered from them."""
    if not ValidateVehicleTransferForm.asks_a_rule(tracker):
        return False
    return await ValidateVehicleTransferForm.answer_rule_question(dispatcher, tracker, first=True) is not None
