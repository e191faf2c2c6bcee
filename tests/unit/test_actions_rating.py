"""好差评 in the chat: the invitation after a completed transaction, a rating by button or in words, the comment
after a bad one, and leaving the comment question by asking for something else."""

from __future__ import annotations

from typing import Any

import pytest

from actions import notifications
from actions.rating import (
    SKIPPED,
    ActionRecordRating,
    ActionRecordRatingComment,
    ValidateRatingCommentForm,
)
from actions.transaction_followup import ActionTransactionFollowup
from bot.rating_levels import LEVELS, comment_in, parse
from tests.unit.conftest import entity, tracker
from tests.unit.rendering import run

DONE = {"service": "rent_subsidy", "status": "completed", "reference": "ZF20260001"}


@pytest.fixture(autouse=True)
def no_watch(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The progress watch is the notifications' own business (tested there); here: that it is asked for."""
    watched: list[tuple[str, str]] = []

    async def watch(tracker: Any, service: str, reference: str) -> list:
        watched.append((service, reference))
        return []

    monkeypatch.setattr(notifications, "watch", watch)
    return watched


async def test_a_completed_transaction_is_followed_up_once(domain: dict, no_watch: list) -> None:
    first = await run(ActionTransactionFollowup(), tracker(slots={"transaction_result": DONE}), domain)
    assert "请您为本次“租房补贴申请”服务做个评价" in first.text
    assert [b["title"] for b in first.buttons] == list(LEVELS)
    assert first.buttons[3]["payload"] == '/rate_service{"rating_level":"不满意"}'
    assert first.slots["rating_pending"] == {"service": "rent_subsidy", "reference": "ZF20260001"}
    assert no_watch == [("rent_subsidy", "ZF20260001")]

    again = await run(ActionTransactionFollowup(), tracker(slots={"transaction_result": DONE, **first.slots}), domain)
    assert again.messages == [] and again.events == []  # the same application shown again: not asked twice


@pytest.mark.parametrize("result", [
    None,
    {"service": "rent_subsidy", "status": "rejected", "reference": None},
    {"service": "rent_subsidy", "status": "error", "reference": None},
    {"service": "entry_control", "status": "completed", "reference": None},  # a lookup, nothing to rate
])
async def test_nothing_completed_nothing_asked(domain: dict, no_watch: list, result: dict | None) -> None:
    outcome = await run(ActionTransactionFollowup(), tracker(slots={"transaction_result": result}), domain)
    assert outcome.messages == [] and no_watch == []


async def test_a_good_rating_by_button(domain: dict) -> None:
    pending = {"rating_pending": {"service": "rent_subsidy", "reference": "ZF20260001"}}
    outcome = await run(ActionRecordRating(), tracker(
        '/rate_service{"rating_level":"满意"}', "rate_service", entities=[entity("rating_level", "满意")],
        slots=pending), domain)
    rating = outcome.slots["service_rating"]
    assert (rating["level"], rating["score"], rating["reference"], rating["comment"]) == ("满意", 4, "ZF20260001",
                                                                                         None)
    assert outcome.slots["rating_pending"] is None
    assert "感谢您的评价（满意）" in outcome.text
    assert not any(e.get("event") == "followup" for e in outcome.events)


async def test_a_bad_rating_asks_what_went_wrong(domain: dict) -> None:
    pending = {"rating_pending": {"service": "rent_subsidy", "reference": "ZF20260001"}}
    outcome = await run(ActionRecordRating(), tracker(
        "不满意", "rate_service", entities=[entity("rating_level", "不满意")], slots=pending), domain)
    assert outcome.slots["service_rating"]["level"] == "不满意"
    assert {"event": "followup", "name": "rating_comment_form", "timestamp": None} in outcome.events


async def test_a_bad_rating_with_its_reason_in_one_message(domain: dict) -> None:
    pending = {"rating_pending": {"service": "rent_subsidy", "reference": "ZF20260001"}}
    text = "差评，验证码收了三次才收到"
    outcome = await run(ActionRecordRating(), tracker(text, "rate_service", slots=pending), domain)
    rating = outcome.slots["service_rating"]
    assert (rating["level"], rating["comment"]) == ("不满意", text)
    assert "15 个工作日内" in outcome.text
    assert not any(e.get("event") == "followup" for e in outcome.events)


async def test_a_rating_changed_later_keeps_its_id(domain: dict) -> None:
    first = await run(ActionRecordRating(), tracker(
        "满意", "rate_service", slots={"rating_pending": {"service": "rent_subsidy", "reference": "R1"}}), domain)
    changed = await run(ActionRecordRating(), tracker("非常满意", "rate_service", slots=first.slots), domain)
    assert changed.slots["service_rating"]["rating_id"] == first.slots["service_rating"]["rating_id"]
    assert changed.slots["service_rating"]["level"] == "非常满意"
    assert "已将您对“租房补贴申请”的评价更新为“非常满意”" in changed.text


async def test_a_rating_with_nothing_to_rate(domain: dict) -> None:
    outcome = await run(ActionRecordRating(), tracker("满意", "rate_service"), domain)
    assert "目前没有待评价的办件" in outcome.text and outcome.events == []


async def test_asking_to_rate_shows_the_buttons_again(domain: dict) -> None:
    pending = {"rating_pending": {"service": "rent_subsidy", "reference": "R1"}}
    outcome = await run(ActionRecordRating(), tracker("我要评价", "rate_service", slots=pending), domain)
    assert [b["title"] for b in outcome.buttons] == list(LEVELS)


def _in_comment_form(text: str, intent: str, confidence: float = 0.95) -> Any:
    rated = {"service_rating": {"rating_id": "r1", "service": "rent_subsidy", "level": "不满意"}}
    return tracker(text, intent, confidence, slots=rated, form="rating_comment_form", requested="rating_comment")


async def test_the_comment_is_taken_as_written(domain: dict) -> None:
    said = _in_comment_form("材料清单写得不清楚，来回补了两次", "out_of_scope")
    outcome = await run(ValidateRatingCommentForm(), said, domain)
    assert outcome.slots["rating_comment"] == "材料清单写得不清楚，来回补了两次"
    assert outcome.slots["requested_slot"] is None


@pytest.mark.parametrize("text,intent", [("跳过", "inform"), ("不用了", "deny"), ("算了", "cancel")])
async def test_the_comment_can_be_skipped(domain: dict, text: str, intent: str) -> None:
    outcome = await run(ValidateRatingCommentForm(), _in_comment_form(text, intent), domain)
    assert outcome.slots["rating_comment"] == SKIPPED


async def test_another_request_leaves_the_comment_question(domain: dict) -> None:
    outcome = await run(ValidateRatingCommentForm(), _in_comment_form("我要申请健康码", "health_code_apply"), domain)
    assert outcome.rejected  # the rules then start the health code; nothing waits for a comment


async def test_the_comment_joins_the_rating(domain: dict) -> None:
    slots = {"rating_comment": "等了很久", "service_rating": {"rating_id": "r1", "service": "rent_subsidy",
                                                              "level": "不满意", "comment": None}}
    outcome = await run(ActionRecordRatingComment(), tracker(slots=slots), domain)
    assert outcome.slots["service_rating"]["comment"] == "等了很久"
    assert outcome.slots["rating_comment"] is None
    assert "工作人员会在 15 个工作日内核实" in outcome.text
    skipped = await run(ActionRecordRatingComment(), tracker(slots={**slots, "rating_comment": SKIPPED}), domain)
    assert "service_rating" not in skipped.slots


@pytest.mark.parametrize("text,level", [
    ("非常满意", "非常满意"), ("很不满意", "非常不满意"), ("不太满意", "不满意"), ("差评！太慢", "不满意"),
    ("五星好评", "非常满意"), ("给个好评", "满意"), ("还行吧", "基本满意"), ("一星", "非常不满意"),
    ("不滿意", "不满意"), ("我想评价一下", None), ("谢谢", None),
])
def test_levels_as_people_write_them(text: str, level: str | None) -> None:
    assert parse(text) == level


def test_a_level_alone_is_no_comment() -> None:
    assert comment_in("非常满意！") is None and comment_in("满意吧") is None
    assert comment_in("不满意，要填的东西太多") == "不满意，要填的东西太多"


@pytest.mark.parametrize("text,intent,rated,level", [
    ("满意", "affirm", True, "满意"),
    ("★★★★★", "nlu_fallback", True, "非常满意"),
    ("4颗星吧", "out_of_scope", True, "满意"),
    ("一般般吧，中评", "out_of_scope", True, "基本满意"),
    ("差评以后会有人回访吗", "policy_question", False, None),  # a question about 好差评, not a rating
    ("我对审核结果不满意，要转人工", "request_human", False, None),
    ("不好意思，再问一下", "out_of_scope", False, None),
    ("服务不错，谢谢", "thank", False, None),
    ("好的", "affirm", False, None),
])
def test_rating_words_in_the_nlu(text: str, intent: str, rated: bool, level: str | None) -> None:
    from rasa.shared.nlu.training_data.message import Message

    from nlu.components.rating_words import RatingWords

    component = RatingWords({"general_intents": ["affirm", "thank", "out_of_scope", "policy_question",
                                                 "nlu_fallback"], "confidence": 0.9})
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.6}, "entities": []})
    component.process([message])
    assert (message.get("intent")["name"] == "rate_service") == rated
    assert [e["value"] for e in message.get("entities") or []] == ([level] if rated else [])


@pytest.mark.parametrize("text", ["想了解一下政务服务好差评制度", "差评的回访期限是多久", "评了不满意之后的处理流程"])
def test_words_about_the_rating_system_are_no_rating(text: str) -> None:
    from rasa.shared.nlu.training_data.message import Message

    from nlu.components.rating_words import RatingWords

    message = Message(data={"text": text, "intent": {"name": "policy_question", "confidence": 0.6}, "entities": []})
    RatingWords({"general_intents": ["policy_question"], "confidence": 0.9}).process([message])
    assert message.get("intent")["name"] == "policy_question"
