"""Realistic masked conversation logs for the console's tests and benchmark.

Conversations are built as the Rasa events a real session produces (the same dicts a tracker store streams to
the event broker: `event.as_dict()` plus `sender_id`), then masked and stored exactly as
`bot.conversation_log.MaskingSQLEventBroker` stores them: its own `mask` (with its per-conversation memory of
revealed values) and its `_row_values`, or the broker itself (`seed_via_broker`).

Scenario builders (each returns a `Conversation` holding the raw events and the raw personal values it carries,
so tests can check that none of them ever reaches a page or an export):

    rent_subsidy_completed, entry_control_query, fallback, handoff, abandoned_form, service_error,
    low_confidence, job_fair_registered, port_status_query, small_talk

`write_conversations(engine, conversations)` stores a list; `bulk_seed(engines, n)` stores n conversations of a
realistic mix fast (masked templates re-used with fresh senders and times, executemany) for the benchmark.
"""

from __future__ import annotations

import csv
import io
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.conversation_log import (
    Base as LogBase,
)
from bot.conversation_log import (
    ConversationEvent,
    MaskingSQLEventBroker,
    _ConversationMemory,
    _row_values,
)
from bot.masking import hash_sender_id
from bot.rating_levels import LEVELS, SCORES

CHANNELS = ("rest", "webchat", "wechat", "telegram")
DAY = 86400.0

# Fictitious people: (name, ID number, phone). IDs follow GB 11643 (checksums valid), phones are mainland mobiles.
PEOPLE = (
    ("陈晓", "330106199503140023", "13800000001"),
    ("林悦", "330106199808120039", "13800000002"),
    ("刘洋", "110101200001011237", "13800000004"),
    ("王建国", "320102198807076514", "13912345678"),
    ("欧阳娜娜", "440305199612253322", "15088886666"),
    ("赵敏", "51010719990909472X", "18611112222"),
)
COUNTRIES = ("日本", "美国", "新加坡", "泰国", "英国", "韩国", "澳大利亚", "德国", "香港", "澳门")
PORTS = ("罗湖口岸", "拱北口岸", "浦东机场口岸", "皇岗口岸", "深圳湾口岸", "横琴口岸")
CITIES = ("杭州", "上海", "深圳", "成都", "武汉", "南京", "西安", "广州")
MAJORS = ("计算机科学与技术", "会计学", "机械工程", "汉语言文学", "临床医学")
SCHOOLS = ("浙江大学", "武汉大学", "四川大学", "中山大学", "南京大学")


def _uid(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def raw_sender(channel: str, rng: random.Random) -> str:
    """A channel user id of the kind each channel really passes to Rasa (hashed before it is stored)."""
    if channel == "wechat":
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
        return "oUpF8" + "".join(rng.choice(alphabet) for _ in range(23))
    if channel == "telegram":
        return str(rng.randint(100_000_000, 7_999_999_999))
    if channel == "webchat":
        return _uid(rng)
    return f"citizen-{rng.randint(1, 10**9)}"


@dataclass
class Conversation:
    """One session of one sender, as Rasa events (raw, unmasked) with a running clock."""

    sender: str
    channel: str
    clock: float
    events: list[dict[str, Any]] = field(default_factory=list)
    personal: set[str] = field(default_factory=set)  # raw personal values this conversation carries
    kind: str = ""
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def sender_hash(self) -> str:
        return hash_sender_id(self.sender)

    def _add(self, event: dict[str, Any], gap: float) -> None:
        self.clock += gap
        event["timestamp"] = self.clock
        event["sender_id"] = self.sender
        self.events.append(event)

    def start(self) -> Conversation:
        self._add(ActionExecuted("action_session_start").as_dict(), 0)
        self._add(SessionStarted().as_dict(), 0.001)
        self._add(ActionExecuted("action_listen").as_dict(), 0.001)
        return self

    def user(
        self,
        text: str,
        intent: str,
        confidence: float,
        entities: Sequence[tuple[str, str]] = (),
        alternatives: Sequence[tuple[str, float]] = (),
        think: float | None = None,
    ) -> Conversation:
        """A user message; `entities` as (entity, value) found in `text`; `alternatives` = the next intents."""
        found = []
        for name, value in entities:
            start = text.index(value)
            found.append(
                {"entity": name, "start": start, "end": start + len(value), "value": value,
                 "extractor": "RegexEntityExtractor" if name in ("id_number", "phone") else "GazetteerEntityExtractor"}
            )
        rest = max(0.0, 1.0 - confidence)
        ranking = [{"name": intent, "confidence": confidence}]
        ranking += [{"name": n, "confidence": round(min(c, rest), 4)} for n, c in alternatives]
        event = UserUttered(
            text,
            intent={"name": intent, "confidence": confidence},
            entities=found,
            parse_data={"intent_ranking": ranking},
            input_channel=self.channel,
            message_id=_uid(self.rng),
        ).as_dict()
        self._add(event, think if think is not None else self.rng.uniform(4, 25))
        return self

    def action(self, name: str, policy: str = "RulePolicy") -> Conversation:
        self._add(ActionExecuted(name, policy=policy, confidence=1.0).as_dict(), self.rng.uniform(0.02, 0.15))
        return self

    def bot(self, text: str, utter_action: str | None = None, buttons: Sequence[str] = ()) -> Conversation:
        data = {"buttons": [{"title": b, "payload": b} for b in buttons]} if buttons else {}
        metadata = {"utter_action": utter_action} if utter_action else {}
        self._add(BotUttered(text, data=data, metadata=metadata).as_dict(), self.rng.uniform(0.05, 0.6))
        return self

    def slot(self, name: str, value: Any) -> Conversation:
        self._add(SlotSet(name, value).as_dict(), 0.001)
        return self

    def loop(self, name: str | None) -> Conversation:
        self._add(ActiveLoop(name).as_dict(), 0.001)
        return self

    def listen(self) -> Conversation:
        return self.action("action_listen")

    def ask(self, slot: str, text: str) -> Conversation:
        """The form that has just run (and activated) asks for its next slot: requested_slot, then the question."""
        self.slot("requested_slot", slot)
        return self.bot(text, f"utter_ask_{slot}").listen()


# ----------------------------------------------------------------------------------------------------
# Scenario builders


def _new(kind: str, rng: random.Random, start: float, channel: str | None) -> Conversation:
    channel = channel or rng.choice(CHANNELS)
    return Conversation(raw_sender(channel, rng), channel, start, kind=kind, rng=rng).start()


def _verify_identity(c: Conversation, form: str, person: tuple[str, str, str], code: str) -> None:
    """The identity part shared by every transaction form (just activated): name, ID number, phone, SMS code."""
    name, id_number, phone = person
    c.personal.update({name, id_number, phone, code})
    c.ask("person_name", "请问您的姓名是？（请填写与身份证一致的姓名）")
    c.user(name, "inform", 0.91, [("person_name", name)], [("greet", 0.03)])
    c.action(form).slot("person_name", name).slot("requested_slot", "id_number")
    c.bot("请输入您的18位居民身份证号码。", "utter_ask_id_number").listen()
    c.user(f"身份证号{id_number}", "inform", 0.95, [("id_number", id_number)])
    c.action(form).slot("id_number", id_number).slot("requested_slot", "phone")
    c.bot("请输入您本人实名登记的11位手机号码，我们将向该号码发送短信验证码。", "utter_ask_phone").listen()
    c.user(f"手机{phone}", "inform", 0.94, [("phone", phone)])
    masked_phone = phone[:3] + "****" + phone[-4:]
    c.action(form).slot("phone", phone).slot("verification_id", "vrf-" + _uid(c.rng)[:12])
    c.slot("requested_slot", "sms_code")
    c.bot(f"验证码已发送至{masked_phone}，请输入您收到的6位短信验证码（5分钟内有效）。", "utter_ask_sms_code").listen()
    c.user(code, "inform", 0.62, alternatives=[("job_fair_register", 0.2)], think=c.rng.uniform(20, 60))
    c.action(form).slot("sms_code", code).slot("identity_token", "tok-" + _uid(c.rng)[:16])


def rent_subsidy_completed(
    rng: random.Random, start: float, channel: str | None = None, person: tuple[str, str, str] | None = None
) -> Conversation:
    """Greeting, a rent subsidy application through identity check and commitment, submitted."""
    c = _new("rent_subsidy_completed", rng, start, channel)
    person = person or rng.choice(PEOPLE)
    if rng.random() < 0.5:
        c.user(rng.choice(("你好", "您好", "在吗")), "greet", 0.99).action("utter_greet")
        c.bot("您好！我是政务服务助手，7×24小时在线。请直接告诉我您要办什么。", "utter_greet").listen()
    c.user(rng.choice(("我想申请租房补贴", "怎么领租房补贴啊", "刚毕业来杭州工作，想办一下租房补贴")),
           "rent_subsidy_apply", round(rng.uniform(0.86, 0.99), 4), alternatives=[("rent_subsidy_policy", 0.06)])
    c.action("rent_subsidy_form").loop("rent_subsidy_form")
    code = f"{rng.randint(0, 999999):06d}"
    _verify_identity(c, "rent_subsidy_form", person, code)
    amount = rng.choice((800, 1000, 1500))
    c.slot("rent_eligibility", {"degree": "本科", "monthly_amount": amount, "months": 12})
    c.slot("requested_slot", "rent_commitment").action("action_ask_rent_commitment")
    c.bot(f"经系统核验，您符合租房补贴申请条件：补贴标准每月{amount}元，共12个月，合计{amount * 12}元。"
          "请确认是否作出承诺并提交申请？", buttons=("确认承诺并提交", "暂不申请")).listen()
    c.user("确认", "affirm", 0.98)
    reference = f"ZF2026{rng.randint(0, 99999999):08d}"
    c.action("rent_subsidy_form").slot("rent_commitment", "confirmed")
    c.slot("transaction_result", {"service": "rent_subsidy", "status": "completed", "reference": reference})
    c.loop(None).slot("requested_slot", None).action("action_submit_rent_subsidy")
    c.bot(f"您的租房补贴申请已提交，补贴已发放。\n申请编号：{reference}\n如需查询进度，请随时回复“查询补贴进度”。")
    c.slot("rent_commitment", None).listen()
    if rng.random() < 0.5:
        c.user("谢谢", "thank", 0.99).action("utter_thank").bot("不客气，很高兴能帮到您！", "utter_thank").listen()
    return c


def entry_control_query(rng: random.Random, start: float, channel: str | None = None) -> Conversation:
    """A question about a country's entry controls, answered by the entry control form."""
    c = _new("entry_control_query", rng, start, channel)
    country = rng.choice(COUNTRIES)
    text = rng.choice((f"去{country}要隔离吗", f"{country}现在入境需要核酸检测吗", f"请问{country}的入境政策是什么"))
    c.user(text, "entry_control_query", round(rng.uniform(0.8, 0.98), 4), [("country_region", country)],
           [("port_status_query", 0.05)])
    c.action("entry_control_form").loop("entry_control_form").slot("country_region", country)
    c.loop(None).slot("requested_slot", None).action("action_entry_control_answer")
    c.bot(f"{country}入境管控措施（示例数据）：\n入境前无需核酸检测，入境后无需隔离。以上信息仅供参考，"
          "出行前请以目的地官方发布为准。")
    c.slot("transaction_result", {"service": "entry_control", "status": "completed", "reference": None}).listen()
    return c


def port_status_query(rng: random.Random, start: float, channel: str | None = None) -> Conversation:
    c = _new("port_status_query", rng, start, channel)
    port = rng.choice(PORTS)
    c.user(f"{port}今天开了吗", "port_status_query", round(rng.uniform(0.8, 0.97), 4), [("port", port)])
    c.action("port_status_form").loop("port_status_form").slot("port", port)
    c.loop(None).slot("requested_slot", None).action("action_port_status_answer")
    c.bot(f"{port}：旅客通关正常，开放时间 6:30-24:00。")
    c.slot("transaction_result", {"service": "port_status", "status": "completed", "reference": None}).listen()
    return c


def fallback(rng: random.Random, start: float, channel: str | None = None) -> Conversation:
    """An out-of-domain question: NLU fallback with clarification, then the core fallback."""
    c = _new("fallback", rng, start, channel)
    c.user(rng.choice(("我家楼下的路灯坏了找谁修", "社保卡丢了怎么补办", "公积金能提取多少")), "nlu_fallback", 0.45,
           alternatives=[("out_of_scope", 0.31), ("rent_subsidy_policy", 0.12), ("help", 0.05)])
    c.action("action_clarify").bot("抱歉，我不太确定您的意思。您是想“了解租房补贴政策”吗？请点击选择，或换个说法告诉我。",
                                   buttons=("了解租房补贴政策", "都不是，转人工")).listen()
    c.user("都不是", "deny", 0.52, alternatives=[("cancel", 0.3)])
    c.action("action_default_fallback", policy="RulePolicy")
    c.bot("抱歉，我没有理解您的意思。您可以换个说法，或回复“帮助”查看我能办理的业务；如需人工服务，请回复“转人工”。",
          "utter_default").listen()
    return c


def handoff(rng: random.Random, start: float, channel: str | None = None) -> Conversation:
    """The citizen asks for a person."""
    c = _new("handoff", rng, start, channel)
    c.user(rng.choice(("补贴申请被驳回了，我要投诉", "你们这个系统太难用了")), "request_human", 0.71,
           alternatives=[("rent_subsidy_status", 0.2)])
    c.action("action_request_human")
    c.bot("好的，已为您登记转人工服务请求，工作人员会尽快在本对话中回复您（工作日 9:00-17:00）。"
          "紧急事项也可拨打12345政务服务便民热线。")
    c.slot("handoff_requested", True).listen()
    c.user("转人工", "request_human", 0.99)
    return c


def abandoned_form(
    rng: random.Random, start: float, channel: str | None = None, cancel: bool | None = None
) -> Conversation:
    """A rent subsidy status query left half-way: cancelled, or simply no answer any more."""
    c = _new("abandoned_form", rng, start, channel)
    name, _, _ = person = rng.choice(PEOPLE)
    c.personal.add(name)
    c.user("我的补贴到账没有", "rent_subsidy_status", 0.88, alternatives=[("rent_subsidy_apply", 0.07)])
    c.action("rent_status_form").loop("rent_status_form")
    c.ask("person_name", "请问您的姓名是？（请填写与身份证一致的姓名）")
    c.user(name, "inform", 0.9, [("person_name", name)])
    c.action("rent_status_form").slot("person_name", person[0]).slot("requested_slot", "id_number")
    c.bot("请输入您的18位居民身份证号码。", "utter_ask_id_number").listen()
    if cancel if cancel is not None else rng.random() < 0.5:
        c.user("算了不办了", "cancel", 0.93)
        c.action("action_cancel_transaction")
        c.bot("好的，已为您取消“租房补贴进度查询”，您填写的信息不会被提交。如需重新办理，请随时告诉我。")
        c.loop(None).slot("requested_slot", None).listen()
    return c


def service_error(rng: random.Random, start: float, channel: str | None = None) -> Conversation:
    """A job fair registration whose submission fails in the back end."""
    c = _new("service_error", rng, start, channel)
    city = rng.choice(CITIES)
    c.user(f"{city}最近有什么招聘会", "job_fair_search", 0.93, [("city", city)], [("job_search", 0.04)])
    c.action("action_search_job_fairs")
    c.slot("result_list", {"kind": "fairs", "page": 1, "total": 2,
                           "items": [{"id": "JF001", "title": f"{city}高校毕业生春季双选会"},
                                     {"id": "JF002", "title": "24365线上招聘会"}]})
    c.bot(f"为您找到2场招聘会：\n1. {city}高校毕业生春季双选会\n2. 24365线上招聘会",
          buttons=("报名第1场", "报名第2场")).listen()
    c.user("报名第一个", "job_fair_register", 0.9, alternatives=[("job_fair_registrations", 0.05)])
    c.action("job_fair_registration_form").loop("job_fair_registration_form").slot("job_fair_id", "JF001")
    _verify_identity(c, "job_fair_registration_form", rng.choice(PEOPLE), f"{rng.randint(0, 999999):06d}")
    c.slot("school", rng.choice(SCHOOLS)).slot("reg_major", rng.choice(MAJORS)).slot("reg_degree", "本科")
    c.slot("graduation_year", "2026").slot("fair_registration_confirm", "confirmed")
    c.slot("transaction_result", {"service": "job_fair_registration", "status": "error", "reference": None})
    c.loop(None).slot("requested_slot", None).action("action_submit_job_fair_registration")
    c.bot("抱歉，招聘会报名系统暂时无法访问，您的报名尚未提交。请稍后再试，或回复“转人工”由工作人员协助您。").listen()
    return c


def job_fair_registered(rng: random.Random, start: float, channel: str | None = None) -> Conversation:
    c = _new("job_fair_registered", rng, start, channel)
    c.user("我想报名线上双选会", "job_fair_register", 0.95)
    c.action("job_fair_registration_form").loop("job_fair_registration_form").slot("job_fair_id", "JF002")
    _verify_identity(c, "job_fair_registration_form", rng.choice(PEOPLE), f"{rng.randint(0, 999999):06d}")
    major = rng.choice(MAJORS)
    c.slot("school", rng.choice(SCHOOLS)).slot("requested_slot", "reg_major")
    c.bot("请问您所学的专业是？例如：计算机科学与技术、会计学。", "utter_ask_reg_major").listen()
    c.user(major, "inform", 0.83, [("major", major)])
    reference = f"BM2026{rng.randint(0, 999999):06d}"
    c.action("job_fair_registration_form").slot("reg_major", major).slot("reg_degree", "本科")
    c.slot("transaction_result", {"service": "job_fair_registration", "status": "completed", "reference": reference})
    c.loop(None).slot("requested_slot", None).action("action_submit_job_fair_registration")
    c.bot(f"报名成功！报名编号：{reference}。请按时参加招聘会。").listen()
    return c


def job_fair_rated(rng: random.Random, start: float, channel: str | None = None, level: str = "不满意",
                   comment: str | None = None) -> Conversation:
    """A registration, the invitation to rate it (好差评), a rating and, after a bad one, the citizen's comment.
    Not among SCENARIOS: the console's rating tests build it with the level they need."""
    c = job_fair_registered(rng, start, channel)
    reference = next(e["value"]["reference"] for e in c.events if e.get("name") == "transaction_result")
    c.action("action_transaction_followup")
    c.bot("请您为本次“招聘会报名”服务做个评价，点选下方一项即可。", "utter_ask_rating", buttons=LEVELS)
    c.slot("rating_pending", {"service": "job_fair_registration", "reference": reference}).listen()
    c.user(f'/rate_service{{"rating_level":"{level}"}}', "rate_service", 1.0, think=8)
    rating = {"rating_id": uuid.UUID(int=rng.getrandbits(128)).hex, "service": "job_fair_registration",
              "reference": reference, "comment": None, "level": level, "score": SCORES[level], "rated_at": c.clock}
    c.action("action_record_rating").slot("service_rating", rating).slot("rating_pending", None)
    if comment is not None:
        c.action("rating_comment_form").loop("rating_comment_form")
        c.ask("rating_comment", "很抱歉这次没有让您满意。请问您遇到了什么问题？")
        c.user(comment, "out_of_scope", 0.61)
        c.action("rating_comment_form").slot("rating_comment", comment).loop(None).slot("requested_slot", None)
        c.action("action_record_rating_comment").slot("service_rating", {**rating, "comment": comment})
        c.slot("rating_comment", None).bot("很抱歉“招聘会报名”没有让您满意，您的评价已记录。").listen()
    else:
        c.bot("感谢您的评价！").listen()
    return c


def low_confidence(rng: random.Random, start: float, channel: str | None = None) -> Conversation:
    """A vague question the NLU barely recognises, answered anyway."""
    c = _new("low_confidence", rng, start, channel)
    c.user(rng.choice(("那个补贴的钱大概啥时候能到账啊", "钱啥时候发")), "rent_subsidy_status", 0.41,
           alternatives=[("rent_subsidy_policy", 0.33), ("rent_subsidy_apply", 0.18)])
    c.action("action_rent_subsidy_policy")
    c.bot("杭州市新就业人员租房补贴政策（示例数据）：审核通过后一般于次月15日前发放至本人社保卡银行账户。")
    c.slot("transaction_result", {"service": "rent_subsidy_policy", "status": "completed", "reference": None})
    c.listen()
    return c


def small_talk(rng: random.Random, start: float, channel: str | None = None) -> Conversation:
    c = _new("small_talk", rng, start, channel)
    c.user("你是机器人吗", "bot_challenge", 0.97).action("utter_bot_challenge")
    c.bot("我是政务服务智能助手，不是真人工作人员。如需人工服务，请回复“转人工”。", "utter_bot_challenge").listen()
    c.user("拜拜", "goodbye", 0.99).action("utter_goodbye").bot("感谢您的使用，再见！", "utter_goodbye").listen()
    return c


Builder = Callable[..., Conversation]
SCENARIOS: dict[str, Builder] = {
    "rent_subsidy_completed": rent_subsidy_completed,
    "entry_control_query": entry_control_query,
    "port_status_query": port_status_query,
    "fallback": fallback,
    "handoff": handoff,
    "abandoned_form": abandoned_form,
    "service_error": service_error,
    "job_fair_registered": job_fair_registered,
    "low_confidence": low_confidence,
    "small_talk": small_talk,
}
# A realistic mix: mostly queries and transactions that work, some failures.
MIX: dict[str, float] = {
    "rent_subsidy_completed": 0.18, "entry_control_query": 0.22, "port_status_query": 0.1, "fallback": 0.1,
    "handoff": 0.06, "abandoned_form": 0.08, "service_error": 0.04, "job_fair_registered": 0.08,
    "low_confidence": 0.06, "small_talk": 0.08,
}


# ----------------------------------------------------------------------------------------------------
# Storing


def masker() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The broker's own `mask` (with a fresh per-conversation memory), without its engine and writer thread."""
    state = SimpleNamespace(_memory=_ConversationMemory(3600, 10_000))
    return lambda event: MaskingSQLEventBroker.mask(state, event)


def masked_rows(conversations: Iterable[Conversation]) -> list[dict[str, Any]]:
    """`conversation_events` rows, exactly as the broker writes them."""
    mask = masker()
    return [_row_values(mask(event)) for c in conversations for event in c.events]


def write_conversations(bind: sa.engine.Engine | sa.engine.Connection, conversations: Iterable[Conversation]) -> int:
    """Mask and store conversations (creating the log table if needed); returns the number of rows."""
    rows = masked_rows(conversations)
    engine = bind if isinstance(bind, sa.engine.Engine) else bind.engine
    LogBase.metadata.create_all(engine)
    if rows:
        if isinstance(bind, sa.engine.Connection):
            bind.execute(ConversationEvent.__table__.insert(), rows)
        else:
            with bind.begin() as connection:
                connection.execute(ConversationEvent.__table__.insert(), rows)
    return len(rows)


def seed_via_broker(url: str, conversations: Iterable[Conversation]) -> None:
    """Store conversations through a real MaskingSQLEventBroker (publish, background writer, flush)."""
    broker = MaskingSQLEventBroker(url)
    try:
        for conversation in conversations:
            for event in conversation.events:
                broker.publish(event)
        broker.flush()
    finally:
        broker._pending.put(None)
        broker._writer.join(timeout=10)
        broker.engine.dispose()


def one_of_each(start: float | None = None, seed: int = 7, gap: float = 600.0) -> list[Conversation]:
    """Every scenario once (a known cast for exact filter tests), one every `gap` seconds from `start`."""
    rng = random.Random(seed)
    start = start if start is not None else time.time() - DAY
    return [builder(rng, start + i * gap) for i, builder in enumerate(SCENARIOS.values())]


def random_conversations(n: int, *, seed: int = 1, days: float = 90, end: float | None = None) -> list[Conversation]:
    """n conversations of the realistic mix, started at random times over the last `days` days."""
    rng = random.Random(seed)
    end = end if end is not None else time.time()
    kinds, weights = zip(*MIX.items(), strict=True)
    return [
        SCENARIOS[rng.choices(kinds, weights)[0]](rng, end - rng.uniform(0, days * DAY))
        for _ in range(n)
    ]


# ----------------------------------------------------------------------------------------------------
# Bulk seeding for the benchmark


@dataclass
class _Template:
    channel: str
    offsets: list[float]  # each event's time after the conversation's start
    events: list[dict[str, Any]]  # masked, sender_id removed


def _templates(count: int, seed: int) -> list[_Template]:
    """`count` masked conversations of the mix, to be replayed with fresh senders and start times."""
    out = []
    for conversation in random_conversations(count, seed=seed, days=0, end=0.0):
        mask = masker()
        events = [mask(e) for e in conversation.events]
        start = events[0]["timestamp"]
        out.append(_Template(conversation.channel, [e.pop("timestamp") - start for e in events], events))
        for event in events:
            event.pop("sender_id", None)
    return out


def bulk_rows(n: int, *, seed: int = 1, days: float = 90, end: float | None = None,
              templates: int = 600, chunk: int = 5000) -> Iterator[list[dict[str, Any]]]:
    """Rows for n conversations in chunks of `chunk` conversations, in time order (as a live log grows)."""
    rng = random.Random(seed)
    end = end if end is not None else time.time()
    pool = _templates(templates, seed)
    starts = sorted(end - rng.uniform(0, days * DAY) for _ in range(n))
    for first in range(0, n, chunk):
        rows: list[dict[str, Any]] = []
        # Conversations of one chunk overlap in time: interleave their events as they would arrive.
        timed: list[tuple[float, int, dict[str, Any]]] = []
        for index, start in enumerate(starts[first : first + chunk]):
            template = rng.choice(pool)
            sender = hash_sender_id(raw_sender(template.channel, rng))
            for offset, event in zip(template.offsets, template.events, strict=True):
                timed.append((start + offset, index, {**event, "sender_id": sender, "timestamp": start + offset}))
        timed.sort(key=lambda item: (item[0], item[1]))
        rows = [_row_values(event) for _, _, event in timed]
        yield rows


_COPY_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "intent_confidence", "action_name", "data")


def _copy_rows(engine: sa.engine.Engine, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY (CSV): several times faster than a multi-row INSERT for millions of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerows([row[c] for c in _COPY_COLUMNS] for row in rows)
    buffer.seek(0)
    nullable = ", ".join(c for c in _COPY_COLUMNS if c != "data")  # None is written as "" → NULL
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {ConversationEvent.__tablename__} ({', '.join(_COPY_COLUMNS)}) FROM STDIN "
                f"WITH (FORMAT csv, FORCE_NULL ({nullable}))",
                buffer,
            )
        raw.commit()
    finally:
        raw.close()


def bulk_seed(engines: Sequence[sa.engine.Engine], n: int, **options: Any) -> int:
    """Store n conversations of the realistic mix into every engine (same rows); returns rows per engine.
    SQLite: executemany in one transaction per chunk; PostgreSQL: COPY."""
    total = 0
    for engine in engines:
        LogBase.metadata.create_all(engine)
    for rows in bulk_rows(n, **options):
        for engine in engines:
            if engine.dialect.name == "postgresql":
                _copy_rows(engine, rows)
            else:
                with engine.begin() as connection:
                    connection.execute(ConversationEvent.__table__.insert(), rows)
        total += len(rows)
    return total


def all_texts(rows: Iterable[dict[str, Any]]) -> str:
    """Every stored data column joined (for leak scans in tests)."""
    return "\n".join(json.loads(row["data"]).get("text") or "" for row in rows)


# ----------------------------------------------------------------------------------------------------
# Throw-away PostgreSQL databases (tests and benchmark)

def reset_postgres(url: str) -> None:
    """Empty a test database (every table, the FTS index included)."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
