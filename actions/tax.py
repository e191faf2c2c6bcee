"""E-tax guidance (电子税务): filing deadlines, the late-payment surcharge, filing online, one's own obligations and a
payment deferral (延期缴纳税款). Guidance and status only: no return is filed here.

One intent (tax_service_query) covers the five kinds; `tax_kind` tells them apart by the message's words. The public
kinds are answered at once from the service (its clock decides "this month"); the personal ones start a form: the
obligations (identity → the company's credit code, or one's own 个人所得税), the deferral (identity → company → tax and
period, offered from the company's open obligations → months, at most 3 → reason → summary → the request number),
and the surcharge when the message lacks the amount or the days. A general tax question goes to the knowledge base,
never to a guess. Asked in the middle of another form, a public question is answered in place (answer_digression).
"""

from __future__ import annotations

import calendar
import re
import uuid
from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.form_base import YES_NO, GovFormValidationAction, SlotSpec, Updates, chat_user
from actions.identity import IDENTITY, IDENTITY_SPECS, IdentityMixin, identity_slots, is_verified
from actions.policy_questions import answer_question
from actions.slot_values import plain
from actions.validators.common import (
    CONFIRMED,
    DECLINED,
    Invalid,
    Valid,
    chinese_date,
    chinese_number,
    validate_confirmation,
    validate_id_number,
)
from actions.validators.tax import (
    ESTIMATED,
    PERSONAL,
    TAX_WORDS,
    find_tax_amount,
    find_tax_days,
    find_tax_months,
    tax_days,
    validate_tax_amount,
    validate_tax_company,
    validate_tax_days,
    validate_tax_months,
    validate_tax_period_choice,
    validate_tax_reason,
    validate_tax_taxpayer,
)
from actions.validators.work_resumption import (
    validate_company_code,
    validate_company_name,
)
from actions.wording import Wording
from integrations.services import ServiceRejected, ServiceUnavailable, idempotency_key
from integrations.services.tax import (
    Deadline,
    Deferral,
    Obligation,
    Obligations,
    ObligationSummary,
    Surcharge,
    Taxpayer,
)

GUIDANCE, OBLIGATIONS_SERVICE, DEFERRAL_SERVICE = "tax_guidance", "tax_obligations", "tax_deferral"  # console
OBLIGATIONS_FORM, DEFERRAL_FORM, SURCHARGE_FORM = "tax_obligations_form", "tax_deferral_form", "tax_surcharge_form"
SETTLED = "settled"  # fills a form's remaining questions when there is nothing more to ask
RUN = "form_run"  # a key of tax_obligations in the deferral form: this run of the form, for the idempotency key
# 《税收征收管理法》第三十一条: at most three months. The service applies its own configured limit again on submission
# (deferral_too_long, then the months are asked again).
MAX_DEFERRAL_MONTHS = 3
OBLIGATION_QUESTIONS = ["tax_credit_code"]
DEFERRAL_QUESTIONS = ["tax_credit_code", "tax_period", "tax_months", "tax_reason", "tax_confirm"]
SURCHARGE_QUESTIONS = ["tax_amount", "tax_days"]
TAX_SLOTS = ["tax_credit_code", "tax_company_said", "tax_obligations", "tax_period", "tax_months", "tax_reason",
             "tax_confirm", "tax_amount", "tax_days", "tax_result"]
# A refusal on submission that is about one answer: that question is asked again (then the summary again).
ANSWER_REFUSED = {"deferral_too_long": "tax_months", "invalid_reason": "tax_reason"}

# -- which of the five kinds a message asks for -------------------------------------------------------------------

MENU, DEADLINE, SURCHARGE, HOW_TO_FILE, OBLIGATIONS, DEFERRAL = (
    "menu", "deadline", "surcharge", "how_to_file", "obligations", "deferral")
KNOWLEDGE = "knowledge"  # a tax question the service cannot answer: the knowledge base answers (or says it can't)

# Traditional characters a question may come in (緩繳稅款申請), as simplified ones.
TRADITIONAL = str.maketrans(
    "緩繳稅滯納報網個這幾號麼應費務還沒嗎該種業單電腦線遲請問額們時間過來會",
    "缓缴税滞纳报网个这几号么应费务还没吗该种业单电脑线迟请问额们时间过来会",
)
DEFERRAL_WORDS = re.compile(
    r"(?:延期|延缓|缓)\s*(?:缴|交|纳)|缓缴|缓交|延期.{0,4}(?:缴|交|纳)|(?:税款|缴税|交税|税).{0,4}(?:延期|缓)|申请延期|"
    r"延期$|晚点交|晚些交|晚[一两三四五六\d]个?月交|缓一缓|defer"
)
FILING_DEFERRAL = re.compile(r"延期申报|申报.{0,4}延期|期限.{0,2}延|征期.{0,2}延")  # of the return, not the payment
PAYMENT_WORDS = re.compile(r"缴纳|缴税|交税|缓缴|缓交|税款|defer")
DEFERRAL_INFO = re.compile(
    r"条件|资料|材料|多久|多长时间|最长|最多|上限|批下来|审批|批准|滞纳金|纳税信用|信用等级|什么情况|哪些情况|需要啥|需要什么|"
    r"要求|有影响|影响吗"
)
DEFERRAL_REQUEST = re.compile(
    r"我要|帮我|帮.{0,12}申请|给我们|替我|想申请|要申请|申请个|办个|现在就|申请一下|怎么申请|如何申请|怎么弄|怎么办理"
)
SURCHARGE_WORDS = re.compile(r"[滞迟]纳|罚息|加收|多交|加多少|万分之五|late payment|surcharge")
SURCHARGE_POLICY = re.compile(
    r"上限|封顶|最高|减免|免除|免征|免收|能不能免|可以免|不交滞纳金|以前年度|往年|罚款|会被罚|纳税信用|信用等级|税前扣除|入账|"
    r"发票|科目"
)
OBLIGATION_WORDS = re.compile(
    r"报了没|报了吗|报没报|申报了没|申报了吗|交了没|交了吗|缴了没|缴了吗|报完了|报齐了|办了没|办了吗|完成了吗|欠税|欠.{0,2}税|"
    r"没报|没交|没申报|未申报|没办|没缴|还有.{0,6}没|要报哪些|该报哪些|报哪些|哪些税|什么税|税种|纳税义务|申报义务|纳税情况|"
    r"申报情况|申报状态|纳税状态|申报记录|纳税记录|什么状态|状态怎么样|汇算.{0,6}(?:办|完成|状态)|我名下|按月报还是按季报|"
    r"一般纳税人还是小规模|my company|filing status|逾期了没|有没有逾期"
)
DATE_ASKED = re.compile(r"截止.{0,3}(?:哪|几|什么时候|多少)|哪天|哪一天|几号|几日|多少号|什么时候截止|最后一天是")
DEADLINE_WORDS = re.compile(
    r"截止|截至|期限|哪天|哪一天|几号|几日|多少号|申报期|征期|顺延|最后一天|最晚|延到|延长|往后|推迟|来得及|deadline|到几|拖到|"
    r"放假|节假日|周末|周六|周日|国庆|春节|五一|端午|中秋|元旦|清明|\d+号"
)
HOW_TO_FILE_WORDS = re.compile(
    r"网上|在线|线上|电子税务局|app|手机|电脑|怎么报|怎么申报|咋报|如何报|如何申报|怎么操作|咋操作|步骤|流程|教程|教我|教一下|"
    r"手把手|操作|登录|网址|三方协议|扣款|缴款|怎么交|在哪查|申报表|怎么填|零申报|file.{0,20}online|不会弄|怎么弄|具体怎么"
)
RULE_WORDS = re.compile(r"顺延|节假日|放假|周末|周六|周日|规则|每个月|每月|怎么算|怎么定")
PERSONAL_TAXES = re.compile(r"个人|本人|我自己|个税|个人所得税|汇算|综合所得")
COMPANY_WORDS = re.compile(r"公司|企业|单位|厂|法人|财务|会计|店|增值税|附加税|企业所得税|消费税|company")
COMPANY_ENTITIES = {"credit_code", "company_name"}


def normalised(text: str) -> str:
    return (text or "").translate(TRADITIONAL).lower().strip()


def tax_kind(text: str, entities: set[str] | frozenset[str] = frozenset()) -> str:
    """The kind of tax question: MENU, DEFERRAL, SURCHARGE, OBLIGATIONS, DEADLINE, HOW_TO_FILE or KNOWLEDGE."""
    value = normalised(text)
    if not value or value.startswith("/"):
        return MENU
    deferral = DEFERRAL_WORDS.search(value) and not (FILING_DEFERRAL.search(value) and not PAYMENT_WORDS.search(value))
    if deferral:
        asks_about = DEFERRAL_INFO.search(value) and not DEFERRAL_REQUEST.search(value)
        return KNOWLEDGE if asks_about else DEFERRAL
    if FILING_DEFERRAL.search(value) and "延期" in value:
        return KNOWLEDGE  # 延期申报: the knowledge base's matter
    if SURCHARGE_WORDS.search(value):
        return KNOWLEDGE if SURCHARGE_POLICY.search(value) else SURCHARGE
    # "这个月截止是哪天，我们企业还没报": the date is what is asked; the obligations are offered with the answer.
    if DEADLINE_WORDS.search(value) and DATE_ASKED.search(value):
        return DEADLINE
    if OBLIGATION_WORDS.search(value):
        return OBLIGATIONS
    if DEADLINE_WORDS.search(value):
        return DEADLINE
    if HOW_TO_FILE_WORDS.search(value):
        return HOW_TO_FILE
    if entities & COMPANY_ENTITIES:
        return OBLIGATIONS
    return KNOWLEDGE


def entity_names(tracker: Tracker) -> set[str]:
    return {e.get("entity") for e in tracker.latest_message.get("entities") or [] if e.get("entity")}


def message_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


# -- the month and the tax of a deadline question -------------------------------------------------------------------

YEAR_MONTH = re.compile(r"(?<!\d)(\d{4})\s*(?:年|[-/.])\s*(\d{1,2})(?!\d)")
MONTH = re.compile(r"(?<![\d个这上下本每])(\d{1,2}|十[一二]|[一二三四五六七八九十])\s*月")
RELATIVE_MONTHS = ((re.compile(r"下下个?月"), 2), (re.compile(r"下个?月"), 1), (re.compile(r"上上个?月"), -2),
                   (re.compile(r"上个?月"), -1), (re.compile(r"这个?月|本月|当月|这期|本期"), 0))
HOLIDAY_MONTHS = ((re.compile(r"元旦"), 1), (re.compile(r"清明"), 4), (re.compile(r"五一|劳动节"), 5),
                  (re.compile(r"国庆|十一长假|十一假期|十一放假|十一黄金周"), 10))
YEAR_WORDS = {"明年": 1, "今年": 0, "去年": -1}


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + delta
    return index // 12, index % 12 + 1


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has none (as the service counts)."""
    year, month = shift_month(day.year, day.month, months)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month_number(token: str) -> int | None:
    number = int(token) if token.isdigit() else chinese_number(token)
    return number if number is not None and 1 <= number <= 12 else None


def target_month(text: str, today: date) -> tuple[int, int] | None:
    """The month a deadline question is about, read against the service's today; None: the current month.

    "2020年10月" as said; "下个月" from today; "10月" or "国庆那个月" without a year: the coming one if it is at most
    seven months ahead, else the last one (今年/明年/去年 say which)."""
    value = normalised(text)
    if found := YEAR_MONTH.search(value):
        month = int(found.group(2))
        return (int(found.group(1)), month) if 1 <= month <= 12 else None
    month = next((m for found in MONTH.finditer(value) if (m := _month_number(found.group(1)))), None)
    if month is None:
        for pattern, delta in RELATIVE_MONTHS:
            if pattern.search(value):
                return shift_month(today.year, today.month, delta) if delta else None
        month = next((m for pattern, m in HOLIDAY_MONTHS if pattern.search(value)), None)
    if month is None:
        return None
    said_year = next((delta for word, delta in YEAR_WORDS.items() if word in value), None)
    if said_year is not None:
        return today.year + said_year, month
    ahead = (month - today.month) % 12
    if ahead <= 7:
        return today.year + (1 if month < today.month else 0), month
    return today.year - (1 if month > today.month else 0), month


def tax_named(text: str) -> str | None:
    """The tax a message names, as said (the service knows the usual names and aliases, and lists them otherwise)."""
    found = TAX_WORDS.search(normalised(text))
    return found.group().upper() if found and found.group().lower() == "vat" else found.group() if found else None


# -- the service's objects in slots (JSON: dates as YYYY-MM-DD, money as strings) -----------------------------------


def revive(cls: type, data: dict[str, Any]) -> Any:
    """A flat dataclass back from plain(): its date and Decimal fields parsed."""
    values = {}
    for item in fields(cls):
        value = data.get(item.name)
        kind = str(item.type)
        if isinstance(value, str) and kind.startswith("date"):
            value = date.fromisoformat(value)
        elif isinstance(value, str) and kind.startswith("Decimal"):
            value = Decimal(value)
        values[item.name] = value
    return cls(**values)


def obligations_of(data: dict[str, Any]) -> Obligations:
    return Obligations(
        taxpayer=revive(Taxpayer, data["taxpayer"]),
        today=date.fromisoformat(data["today"]),
        items=tuple(revive(Obligation, item) for item in data["items"]),
        summary=revive(ObligationSummary, data["summary"]),
        hotline=data["hotline"],
    )


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}元"


def choice_key(item: Obligation) -> str:
    return f"{item.tax}|{item.period}"


# -- the public answers -------------------------------------------------------------------------------------------


def how_to_file_part(deadline: Deadline, words: Wording) -> str:
    steps = "\n".join(f"{number}. {step}" for number, step in enumerate(deadline.how_to_file.steps, 1))
    return words.part(
        "utter_tax_how_to_file_steps", title=deadline.how_to_file.title, steps=steps, tips=deadline.how_to_file.tips
    )


def deadline_status(deadline: Deadline, words: Wording) -> str:
    if deadline.days_left is not None and deadline.days_left > 0:
        return words.part(
            "utter_tax_deadline_days_left", today=chinese_date(deadline.today), days=deadline.days_left
        )
    if deadline.days_left == 0:
        return words.part("utter_tax_deadline_today")
    if deadline.passed and deadline.next_deadline is None:  # a past month (the current one names the next period)
        return words.part("utter_tax_deadline_past", today=chinese_date(deadline.today))
    return ""


def deadline_notes(deadline: Deadline, words: Wording, with_rule: bool) -> str:
    notes = [words.part("utter_tax_note", note=note) for note in (deadline.note, deadline.calendar_note) if note]
    if with_rule:
        notes.append(words.part("utter_tax_deadline_rule", rule=deadline.rule))
    return "".join(notes)


async def deadline_of(text: str) -> Deadline:
    """The deadline the message asks for: the service's current month unless another month is named."""
    tax = tax_named(text)
    current = await services.tax().get_deadline(tax=tax)
    wanted = target_month(text, current.today)
    if wanted is None or wanted == (current.today.year, current.today.month):
        return current
    return await services.tax().get_deadline(month=f"{wanted[0]:04d}-{wanted[1]:02d}", tax=tax)


def tell_unknown_tax(text: str, error: ServiceRejected, dispatcher: CollectingDispatcher) -> None:
    """A tax the service does not know: the ones it knows, each a button asking the same question about it."""
    said = tax_named(text) or ""
    allowed = [str(name) for name in error.details.get("allowed") or []]
    buttons = [{"title": name, "payload": text.replace(said, name) if said else f"{name}申报期限"} for name in allowed]
    dispatcher.utter_message(response="utter_tax_unknown_tax", tax=said, allowed="、".join(allowed), buttons=buttons)


async def answer_deadline(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> str:
    """The month's deadline, why (the holidays that moved it), and how to file online. Returns the status."""
    text = message_text(tracker)
    try:
        deadline = await deadline_of(text)
    except ServiceUnavailable as error:
        dispatcher.utter_message(response="utter_tax_unavailable", service=error.service)
        return "error"
    except ServiceRejected as error:
        if error.code == "unknown_tax":
            tell_unknown_tax(text, error, dispatcher)
        else:
            services.tell_refused(dispatcher, error)
        return "rejected"
    words = Wording(domain, tracker)
    dispatcher.utter_message(
        response="utter_tax_deadline",
        explanation=deadline.explanation,
        deadline_status=deadline_status(deadline, words),
        notes=deadline_notes(deadline, words, bool(RULE_WORDS.search(normalised(text)))),
        how_to_file=how_to_file_part(deadline, words),
        hotline=deadline.hotline,
    )
    return "completed"


async def answer_how_to_file(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> str:
    try:
        deadline = await services.tax().get_deadline()
    except ServiceUnavailable as error:
        dispatcher.utter_message(response="utter_tax_unavailable", service=error.service)
        return "error"
    words = Wording(domain, tracker)
    dispatcher.utter_message(
        response="utter_tax_how_to_file",
        how_to_file=how_to_file_part(deadline, words),
        explanation=deadline.explanation,
        hotline=deadline.hotline,
    )
    return "completed"


async def answer_surcharge(
    amount: str, days: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> str:
    """The surcharge worked out, with the formula; `days` as in tax_days ("10" or "约30")."""
    try:
        worked = await services.tax().surcharge(amount=amount, days=tax_days(days))
    except ServiceUnavailable as error:
        dispatcher.utter_message(
            response="utter_tax_surcharge_unavailable", service=error.service, amount=amount, days=tax_days(days)
        )
        return "error"
    except ServiceRejected as error:
        services.tell_refused(dispatcher, error)
        return "rejected"
    tell_surcharge(worked, days.startswith(ESTIMATED), dispatcher, Wording(domain, tracker))
    return "completed"


def tell_surcharge(worked: Surcharge, estimated: bool, dispatcher: CollectingDispatcher, words: Wording) -> None:
    dispatcher.utter_message(
        response="utter_tax_surcharge",
        amount=money(worked.amount),
        days=worked.days,
        estimate=words.part("utter_tax_days_estimated") if estimated else "",
        surcharge=money(worked.surcharge),
        total=money(worked.total),
        formula=worked.formula,
        rate_text=worked.rate_text,
        basis=worked.basis,
        hotline=worked.hotline,
    )


def surcharge_numbers(text: str) -> tuple[str | None, str | None]:
    """The amount ("50000.00") and days ("10", "约30") a message names, each None when missing or unusable."""
    amount = find_tax_amount(text)
    days = find_tax_days(text)
    amount_value = f"{amount:.2f}" if isinstance(amount, Decimal) else None
    days_value = validate_tax_days(text) if isinstance(days, tuple) else None
    return amount_value, days_value.value if isinstance(days_value, Valid) else None


async def answer_digression(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> bool:
    """A tax question in the middle of another form: a public one is answered in place; for the personal ones (and
    a surcharge without its numbers, which needs questions of its own) the form says to finish it first."""
    kind = tax_kind(message_text(tracker), entity_names(tracker))
    if kind == DEADLINE:
        await answer_deadline(dispatcher, tracker, domain)
        return True
    if kind == HOW_TO_FILE:
        await answer_how_to_file(dispatcher, tracker, domain)
        return True
    if kind == KNOWLEDGE:
        answer_question(dispatcher, tracker)
        return True
    if kind == SURCHARGE:
        amount, days = surcharge_numbers(message_text(tracker))
        if amount and days:
            await answer_surcharge(amount, days, dispatcher, tracker, domain)
            return True
    return False


# -- obligations ----------------------------------------------------------------------------------------------------


def item_line(item: Obligation, words: Wording) -> str:
    deferral = words.part("utter_tax_item_deferral", deferral_no=item.deferral_no) if item.deferral_no else ""
    due = chinese_date(item.due_date, weekday=True)
    if item.status == "filed":
        amount = words.part("utter_tax_item_tax_amount", amount=money(item.tax_amount)) if item.tax_amount else ""
        filed_on = chinese_date(item.filed_on) if item.filed_on else ""
        return words.part(
            "utter_tax_item_filed", period_text=item.period_text, tax=item.tax, filed_on=filed_on, amount=amount
        )
    if item.status == "overdue":
        amount = ""
        if item.tax_amount is not None and item.surcharge is not None and item.amount_due is not None:
            amount = words.part(
                "utter_tax_item_overdue_amount",
                tax_amount=money(item.tax_amount),
                surcharge=money(item.surcharge),
                amount_due=money(item.amount_due),
            )
        return words.part(
            "utter_tax_item_overdue",
            period_text=item.period_text,
            tax=item.tax,
            overdue_days=item.overdue_days,
            due_date=chinese_date(item.due_date),
            amount=amount,
            deferral=deferral,
        )
    amount = words.part("utter_tax_item_amount_due", amount=money(item.amount_due)) if item.amount_due else ""
    return words.part(
        "utter_tax_item_unfiled", period_text=item.period_text, tax=item.tax, due_date=due, amount=amount,
        deferral=deferral,
    )


def taxpayer_part(taxpayer: Taxpayer, words: Wording) -> str:
    if taxpayer.kind != "enterprise":
        return words.part("utter_tax_taxpayer_person", name_masked=taxpayer.name_masked or "")
    registration = ""
    if taxpayer.taxpayer_kind_text:
        registration = words.part(
            "utter_tax_registration",
            taxpayer_kind_text=taxpayer.taxpayer_kind_text,
            vat_cycle_text=taxpayer.vat_cycle_text or "",
            tax_office=taxpayer.tax_office or "",
        )
    return words.part(
        "utter_tax_taxpayer_company",
        company=taxpayer.name or "",
        credit_code=taxpayer.credit_code or "",
        role_text=taxpayer.role_text or "",
        registration=registration,
    )


def show_obligations(listing: Obligations, dispatcher: CollectingDispatcher, words: Wording) -> None:
    items = "\n".join(item_line(item, words) for item in listing.items)
    dispatcher.utter_message(
        response="utter_tax_obligations_company" if listing.taxpayer.kind == "enterprise"
        else "utter_tax_obligations_personal",
        taxpayer=taxpayer_part(listing.taxpayer, words),
        items=f"\n\n{items}" if items else "",
        summary=listing.summary.text,
        hotline=listing.hotline,
    )


async def fetch_obligations(tracker: Tracker, taxpayer: str) -> Obligations:
    return await services.tax().list_obligations(
        token=tracker.get_slot("identity_token"),
        chat_user=chat_user(tracker),
        credit_code=None if taxpayer == PERSONAL else taxpayer,
    )


def without_id_numbers(candidates: dict[str, str], from_entities: set[str]) -> None:
    """An ID number with an X at the end also looks like a credit code to the NLU's regex: never take it as one."""
    code = candidates.get("tax_credit_code")
    if code and "tax_credit_code" in from_entities and isinstance(validate_id_number(code), Valid):
        del candidates["tax_credit_code"]
        from_entities.discard("tax_credit_code")


def taxpayer_in_request(tracker: Tracker) -> str | None:
    """Whose obligations the request itself names: a valid credit code, PERSONAL ("我个人的个税"), or None."""
    code = next(tracker.get_latest_entity_values("credit_code"), None)
    if code and not isinstance(validate_id_number(str(code)), Valid):
        checked = validate_company_code(str(code))
        return checked.value if isinstance(checked, Valid) else None
    text = normalised(message_text(tracker))
    if PERSONAL_TAXES.search(text) and not COMPANY_WORDS.search(text) and not entity_names(tracker) & COMPANY_ENTITIES:
        return PERSONAL
    return None


# -- the forms ------------------------------------------------------------------------------------------------------


class TaxForm(IdentityMixin, GovFormValidationAction):
    """Identity, then the taxpayer (checked by the service at once), then the form's own questions."""

    level = IDENTITY
    questions: list[str] = OBLIGATION_QUESTIONS
    service = OBLIGATIONS_SERVICE

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        return identity_slots(tracker, IDENTITY) + self.questions

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        candidates, from_entities = super().extract(tracker, requested)
        without_id_numbers(candidates, from_entities)
        # The taxpayer is the one of the request or of the answer to its question: a code met later (in the reason,
        # say) must not replace the company already checked.
        if tracker.get_slot("tax_credit_code") and requested != "tax_credit_code":
            candidates.pop("tax_credit_code", None)
        if tracker.get_slot("tax_obligations") or tracker.get_slot("tax_result"):
            candidates.pop("tax_company_said", None)
        if requested in self.questions[1:] and not self.ready(tracker):
            candidates.pop(requested, None)  # "重试": check the company first
        return candidates, from_entities

    @staticmethod
    def ready(tracker: Tracker) -> bool:
        return bool(tracker.get_slot("tax_obligations"))

    def settle(self, result: Any) -> Updates:
        """Nothing more to ask: fill the remaining questions so the form ends, and say why in tax_result."""
        return {slot: SETTLED for slot in self.questions[1:]} | {"tax_result": result}

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        updates = await super().after_validation(dispatcher, tracker, domain)
        code = tracker.get_slot("tax_credit_code")
        if identity_slots(tracker, IDENTITY) or not code or tracker.get_slot("tax_result") or self.ready(tracker):
            return updates
        return updates | await self.check_taxpayer(code, dispatcher, tracker, domain)

    async def check_taxpayer(
        self, code: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        try:
            listing = await fetch_obligations(tracker, code)
        except ServiceUnavailable:
            # The code is kept: the next question (or the result) says the service is down and offers to retry.
            return {services.RESULT_SLOT: services.result(self.service, "error")}
        except ServiceRejected as error:
            # The same answer for an unknown company and someone else's: passed on, and the code asked again.
            dispatcher.utter_message(response="utter_tax_company_refused", reason=error.message)
            return {"tax_credit_code": None, "tax_company_said": None,
                    services.RESULT_SLOT: services.result(self.service, "rejected")}
        return self.checked(listing, dispatcher, tracker, domain)

    def checked(
        self, listing: Obligations, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        return {"tax_obligations": plain(listing)}


class ValidateTaxObligationsForm(TaxForm):
    """Identity, then whose obligations: a company's credit code, or one's own 个人所得税 (a button)."""

    specs = {
        **IDENTITY_SPECS,
        "tax_credit_code": SlotSpec(validate_tax_taxpayer, "utter_explain_tax_taxpayer", entity="credit_code"),
        "tax_company_said": SlotSpec(
            validate_company_name, "utter_explain_tax_taxpayer", entity="company_name", free_text=True
        ),
    }

    def name(self) -> str:
        return "validate_tax_obligations_form"

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        candidates, from_entities = super().extract(tracker, requested)
        active = (tracker.active_loop or {}).get("name") == self.form_name()
        if not active and "tax_credit_code" not in candidates and taxpayer_in_request(tracker) == PERSONAL:
            candidates["tax_credit_code"] = PERSONAL  # "我的个税汇算办了没": no company to ask for
            from_entities.add("tax_credit_code")
        return candidates, from_entities


class ValidateTaxDeferralForm(TaxForm):
    """Identity, company (its open obligations offered), tax and period, months, reason, then the summary."""

    questions = DEFERRAL_QUESTIONS
    service = DEFERRAL_SERVICE
    specs = {
        **IDENTITY_SPECS,
        "tax_credit_code": SlotSpec(validate_tax_company, "utter_explain_tax_company", entity="credit_code"),
        "tax_company_said": SlotSpec(
            validate_company_name, "utter_explain_tax_company", entity="company_name", free_text=True
        ),
        "tax_period": SlotSpec(validate_tax_period_choice, "utter_explain_tax_period"),
        "tax_months": SlotSpec(validate_tax_months, "utter_explain_tax_months"),
        "tax_reason": SlotSpec(validate_tax_reason, "utter_explain_tax_reason", free_text=True, prose=True),
        "tax_confirm": SlotSpec(validate_confirmation, "utter_explain_tax_confirm", intents=YES_NO),
    }

    def name(self) -> str:
        return "validate_tax_deferral_form"

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        candidates, from_entities = super().extract(tracker, requested)
        active = (tracker.active_loop or {}).get("name") == self.form_name()
        months = find_tax_months(message_text(tracker))
        if not active and isinstance(months, int) and 1 <= months <= MAX_DEFERRAL_MONTHS:
            candidates["tax_months"] = f"{months}个月"  # "申请延期两个月": not asked again
            from_entities.add("tax_months")
        return candidates, from_entities

    def checked(
        self, listing: Obligations, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        data = plain(listing) | {RUN: uuid.uuid4().hex}
        if any(item.status == "unfiled" for item in listing.items):
            return {"tax_obligations": data}
        words = Wording(domain, tracker)
        dispatcher.utter_message(
            response="utter_tax_deferral_nothing",
            company=listing.taxpayer.name or "",
            overdue=overdue_note(listing, words),
        )
        return {"tax_obligations": data} | self.settle("nothing")

    async def after_tax_period(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates | Invalid:
        listing = obligations_of(tracker.get_slot("tax_obligations"))
        found = chosen_obligation(text, listing)
        if isinstance(found, Invalid):
            return found
        if found.status == "filed":
            return Invalid("utter_invalid_tax_period_filed", {
                "period_text": found.period_text, "tax": found.tax,
                "filed_on": chinese_date(found.filed_on) if found.filed_on else "",
            })
        if found.status == "overdue":
            return Invalid("utter_invalid_tax_period_overdue", {
                "period_text": found.period_text, "tax": found.tax, "due_date": chinese_date(found.due_date),
            })
        if found.deferral_no:  # asked before: the request already made, not a second one
            return self.settle({"open": found.deferral_no}) | {"tax_period": choice_key(found)}
        return {"tax_period": choice_key(found)}

    async def after_tax_months(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        if int(value) > MAX_DEFERRAL_MONTHS:
            dispatcher.utter_message(response="utter_tax_deferral_too_long", months=value)
            return {"tax_months": None}
        return {"tax_months": value}

    async def after_tax_confirm(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        if value == DECLINED:
            dispatcher.utter_message(response="utter_tax_deferral_declined")
            return {"tax_confirm": DECLINED, "tax_result": "declined"}
        request = deferral_request(tracker)
        try:
            deferral = await services.tax().request_deferral(
                token=tracker.get_slot("identity_token"),
                chat_user=chat_user(tracker),
                idempotency_key=deferral_key(tracker, request),
                **request,
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_submission_kept")
            return {"tax_confirm": None, services.RESULT_SLOT: services.result(DEFERRAL_SERVICE, "error")}
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            rejected = {services.RESULT_SLOT: services.result(DEFERRAL_SERVICE, "rejected")}
            if slot := ANSWER_REFUSED.get(error.code):
                return rejected | {slot: None, "tax_confirm": None}
            return rejected | {"tax_confirm": DECLINED, "tax_result": "rejected"}
        return {
            "tax_confirm": CONFIRMED,
            "tax_result": plain(deferral),
            services.RESULT_SLOT: services.result(DEFERRAL_SERVICE, "completed", deferral.deferral_no),
        }


def chosen_obligation(text: str, listing: Obligations) -> Obligation | Invalid:
    """The company's obligation a reply names: a tax and/or a period ("增值税 2026年11月", "11月的附加税", "增值税")."""
    value = normalised(text)
    said = tax_named(value)
    candidates = [item for item in listing.items if item.status == "unfiled"] if not said else list(listing.items)
    if said:
        known = {item.tax for item in listing.items}
        tax = next((name for name in known if said in name or name in said), None)
        if tax is None:
            return Invalid("utter_invalid_tax_period_not_found", {"said": text.strip()})
        candidates = [item for item in candidates if item.tax == tax]
    period = target_month(value, listing.today) if YEAR_MONTH.search(value) or MONTH.search(value) else None
    if period is not None:
        code = f"{period[0]:04d}-{period[1]:02d}"
        candidates = [item for item in candidates if item.period == code]
    elif said:  # a tax alone: its open period if there is just one, else the latest
        open_ones = [item for item in candidates if item.status == "unfiled"]
        candidates = open_ones or candidates[:1]
    if not candidates:
        return Invalid("utter_invalid_tax_period_not_found", {"said": text.strip()})
    if len(candidates) > 1:
        return Invalid("utter_invalid_tax_period_ambiguous")
    return candidates[0]


def overdue_note(listing: Obligations, words: Wording) -> str:
    overdue = [item for item in listing.items if item.status == "overdue"]
    if not overdue:
        return ""
    names = "、".join(f"{item.period_text}{item.tax}" for item in overdue)
    return words.part("utter_tax_period_overdue_note", count=len(overdue), items=names)


def chosen_item(tracker: Tracker) -> Obligation | None:
    data, chosen = tracker.get_slot("tax_obligations"), tracker.get_slot("tax_period")
    if not data or not chosen:
        return None
    return next((item for item in obligations_of(data).items if choice_key(item) == chosen), None)


def deferral_request(tracker: Tracker) -> dict[str, Any]:
    tax, period = str(tracker.get_slot("tax_period")).split("|")
    return {
        "credit_code": tracker.get_slot("tax_credit_code"),
        "tax": tax,
        "period": period,
        "months": int(tracker.get_slot("tax_months")),
        "reason": tracker.get_slot("tax_reason"),
    }


def deferral_key(tracker: Tracker, request: dict[str, Any]) -> str:
    """One key per run of the form and answers: a retried confirmation never asks twice, and another run or other
    answers never meet an earlier request's key (the service then answers with the open request, if any)."""
    answers = "|".join(str(request[name]) for name in sorted(request))
    run = (tracker.get_slot("tax_obligations") or {}).get(RUN, "")
    return idempotency_key(tracker.sender_id, DEFERRAL_SERVICE, f"{run}|{answers}")


class ValidateTaxSurchargeForm(GovFormValidationAction):
    """The amount owed and the days late, when the question did not say them; no identity needed."""

    specs = {
        "tax_amount": SlotSpec(validate_tax_amount, "utter_explain_tax_amount"),
        "tax_days": SlotSpec(validate_tax_days, "utter_explain_tax_days"),
    }

    def name(self) -> str:
        return "validate_tax_surcharge_form"

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        """Both numbers from any message ("5万，晚了10天"), the asked one also as a bare number."""
        candidates, from_entities = super().extract(tracker, requested)
        text = message_text(tracker)
        for slot, finder in (("tax_amount", find_tax_amount), ("tax_days", find_tax_days)):
            if slot != requested and not tracker.get_slot(slot) and finder(text) is not None:
                candidates[slot] = text
        return candidates, from_entities


# -- the questions that show the service's data -------------------------------------------------------------------


class ActionAskTaxCreditCode(Action):
    """Ask whose obligations (a company's code, or one's own 个人所得税 with a button) or which company defers."""

    def name(self) -> str:
        return "action_ask_tax_credit_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        deferral = (tracker.active_loop or {}).get("name") == DEFERRAL_FORM
        said = tracker.get_slot("tax_company_said")
        if said:
            dispatcher.utter_message(
                response="utter_ask_tax_credit_code_deferral_named" if deferral else "utter_ask_tax_credit_code_named",
                company=said,
            )
        else:
            dispatcher.utter_message(
                response="utter_ask_tax_credit_code_deferral" if deferral else "utter_ask_tax_credit_code"
            )
        return []


class ActionAskTaxPeriod(Action):
    """The company's open obligations to choose from (buttons), with those that can no longer be deferred."""

    def name(self) -> str:
        return "action_ask_tax_period"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        data = tracker.get_slot("tax_obligations")
        if not data:
            dispatcher.utter_message(response="utter_tax_check_unavailable")
            return []
        listing = obligations_of(data)
        words = Wording(domain, tracker)
        open_items = [item for item in listing.items if item.status == "unfiled"]
        choices = "\n".join(
            words.part(
                "utter_tax_period_choice",
                tax=item.tax,
                period_text=item.period_text,
                due_date=chinese_date(item.due_date, weekday=True),
                deferral=words.part("utter_tax_item_deferral", deferral_no=item.deferral_no) if item.deferral_no
                else "",
            )
            for item in open_items
        )
        buttons = [{"title": f"{item.tax} {item.period_text}", "payload": f"{item.tax} {item.period_text}"}
                   for item in open_items]
        dispatcher.utter_message(
            response="utter_ask_tax_period",
            company=listing.taxpayer.name or "",
            role_text=listing.taxpayer.role_text or "",
            choices=choices,
            overdue=overdue_note(listing, words),
            buttons=buttons,
        )
        return []


class ActionAskTaxConfirm(Action):
    """Sum up the deferral request and ask for the confirmation."""

    def name(self) -> str:
        return "action_ask_tax_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        item = chosen_item(tracker)
        data = tracker.get_slot("tax_obligations") or {}
        if item is None:
            dispatcher.utter_message(response="utter_tax_check_unavailable")
            return []
        months = int(tracker.get_slot("tax_months"))
        dispatcher.utter_message(
            response="utter_ask_tax_confirm",
            company=data.get("taxpayer", {}).get("name") or "",
            credit_code=tracker.get_slot("tax_credit_code"),
            tax=item.tax,
            period_text=item.period_text,
            due_date=chinese_date(item.due_date, weekday=True),
            months=months,
            requested_until=chinese_date(add_months(item.due_date, months)),
            reason=tracker.get_slot("tax_reason"),
        )
        return []


class ActionAskTaxAmount(Action):
    """Ask for the amount owed, with the rate as the service applies it (when it can be asked)."""

    def name(self) -> str:
        return "action_ask_tax_amount"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        rule = ""
        try:
            sample = await services.tax().surcharge(amount="10000", days=1)  # the rate, as configured
            rule = Wording(domain, tracker).part(
                "utter_tax_surcharge_rule", rate_text=sample.rate_text, rate_percent=sample.rate_percent
            )
        except (ServiceUnavailable, ServiceRejected):
            pass  # asked without the rate; the answer explains it
        dispatcher.utter_message(response="utter_ask_tax_amount", rule=rule)
        return []


# -- the actions -----------------------------------------------------------------------------------------------------


def cleared() -> list[EventType]:
    return [SlotSet(slot, None) for slot in TAX_SLOTS]


class ActionTaxService(Action):
    """tax_service_query: the public kinds answered here, the personal ones (and a surcharge without its numbers)
    started as a form, a question the service cannot answer passed to the knowledge base."""

    def name(self) -> str:
        return "action_tax_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = message_text(tracker)
        kind = tax_kind(text, entity_names(tracker))
        if kind == MENU:
            dispatcher.utter_message(response="utter_tax_menu")
            return []
        if kind == KNOWLEDGE:
            answer_question(dispatcher, tracker)
            return []
        if kind == DEADLINE:
            return [services.result_event(GUIDANCE, await answer_deadline(dispatcher, tracker, domain))]
        if kind == HOW_TO_FILE:
            return [services.result_event(GUIDANCE, await answer_how_to_file(dispatcher, tracker, domain))]
        if kind == SURCHARGE:
            amount, days = surcharge_numbers(text)
            if amount and days:
                status = await answer_surcharge(amount, days, dispatcher, tracker, domain)
                return [services.result_event(GUIDANCE, status)]
            return [*cleared(), FollowupAction(SURCHARGE_FORM)]
        if kind == OBLIGATIONS:
            return await self.obligations(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_tax_deferral_intro")
        return [*cleared(), FollowupAction(DEFERRAL_FORM)]

    @staticmethod
    async def obligations(
        dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Verified, and the request says whose: answered at once; else the form asks what it needs."""
        taxpayer = taxpayer_in_request(tracker)
        if taxpayer is None or not is_verified(tracker, IDENTITY):
            if not is_verified(tracker, IDENTITY):
                dispatcher.utter_message(response="utter_tax_obligations_intro")
            return [*cleared(), FollowupAction(OBLIGATIONS_FORM)]
        status = await tell_obligations(taxpayer, dispatcher, tracker, domain)
        return [*cleared(), services.result_event(OBLIGATIONS_SERVICE, status)]


async def tell_obligations(
    taxpayer: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> str:
    try:
        listing = await fetch_obligations(tracker, taxpayer)
    except ServiceUnavailable as error:
        services.tell_unavailable(dispatcher, error, "utter_service_unavailable_verified_no_repeat")
        return "error"
    except ServiceRejected as error:
        dispatcher.utter_message(response="utter_tax_company_refused", reason=error.message)
        return "rejected"
    show_obligations(listing, dispatcher, Wording(domain, tracker))
    return "completed"


class ActionTaxObligations(Action):
    """After the obligations form: the list with each status (asked again if the form could not reach the service),
    then the form's answers forgotten."""

    def name(self) -> str:
        return "action_tax_obligations"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        data = tracker.get_slot("tax_obligations")
        code = tracker.get_slot("tax_credit_code")
        if data:
            show_obligations(obligations_of(data), dispatcher, Wording(domain, tracker))
            return [*cleared(), services.result_event(OBLIGATIONS_SERVICE, "completed")]
        if code and code != SETTLED and is_verified(tracker, IDENTITY):
            status = await tell_obligations(code, dispatcher, tracker, domain)
            return [*cleared(), services.result_event(OBLIGATIONS_SERVICE, status)]
        return cleared()


class ActionSubmitTaxDeferral(Action):
    """After the deferral form: the request recorded (or the open one for that tax and period), then the form's
    answers forgotten."""

    def name(self) -> str:
        return "action_submit_tax_deferral"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        result = tracker.get_slot("tax_result")
        words = Wording(domain, tracker)
        events = cleared()
        if isinstance(result, dict) and result.get("deferral_no"):
            deferral = revive(Deferral, result)
            if deferral.already_open:
                show_open_deferral(deferral, dispatcher, words)
            else:
                dispatcher.utter_message(
                    response="utter_tax_deferral_submitted",
                    deferral=deferral_record(deferral, words),
                    approval_note=deferral.approval_note,
                )
        elif isinstance(result, dict) and result.get("open"):
            events.append(await self.show_open(result["open"], dispatcher, tracker, words))
        return events

    @staticmethod
    async def show_open(
        deferral_no: str, dispatcher: CollectingDispatcher, tracker: Tracker, words: Wording
    ) -> EventType:
        item = chosen_item(tracker)
        try:
            requests = await services.tax().list_deferrals(
                token=tracker.get_slot("identity_token"),
                chat_user=chat_user(tracker),
                credit_code=tracker.get_slot("tax_credit_code"),
            )
        except (ServiceUnavailable, ServiceRejected):
            requests = []
        found = next((request for request in requests if request.deferral_no == deferral_no), None)
        if found is not None:
            show_open_deferral(found, dispatcher, words)
        else:  # the service cannot be asked now: what the obligations list said
            dispatcher.utter_message(
                response="utter_tax_deferral_open_short",
                period_text=item.period_text if item else "",
                tax=item.tax if item else "",
                deferral_no=deferral_no,
            )
        return services.result_event(DEFERRAL_SERVICE, "completed", deferral_no)


def deferral_record(deferral: Deferral, words: Wording) -> str:
    filed_by = (words.part("utter_tax_filed_by", name_masked=deferral.submitted_by_masked)
                if deferral.submitted_by_masked else "")
    return words.part(
        "utter_tax_deferral_record",
        deferral_no=deferral.deferral_no,
        company=deferral.company_name,
        tax=deferral.tax,
        period_text=deferral.period_text,
        due_date=chinese_date(deferral.due_date, weekday=True),
        months=deferral.months,
        requested_until=chinese_date(deferral.requested_until),
        reason=deferral.reason,
        status_text=deferral.status_text,
        submitted_on=chinese_date(deferral.submitted_on),
        filed_by=filed_by,
        decide_by=chinese_date(deferral.decide_by),
    )


def show_open_deferral(deferral: Deferral, dispatcher: CollectingDispatcher, words: Wording) -> None:
    dispatcher.utter_message(
        response="utter_tax_deferral_open",
        period_text=deferral.period_text,
        tax=deferral.tax,
        deferral=deferral_record(deferral, words),
    )


class ActionTaxSurcharge(Action):
    """After the surcharge form: the surcharge worked out, then the numbers forgotten."""

    def name(self) -> str:
        return "action_tax_surcharge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        amount, days = tracker.get_slot("tax_amount"), tracker.get_slot("tax_days")
        if not amount or not days:
            return cleared()
        status = await answer_surcharge(amount, days, dispatcher, tracker, domain)
        return [*cleared(), services.result_event(GUIDANCE, status)]

