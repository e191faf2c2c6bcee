"""好差评 end to end through the REST channel: the invitation after a completed transaction, a bad rating with its
reason, the follow-up in the console and the operator's reply reaching the citizen; a good rating; leaving the
comment question by asking for something else."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI

from bot.masking import hash_sender_id
from bot.rating_levels import LEVELS
from console.projection import refresh
from console.rasa_client import RasaClient
from console.ratings import DONE, OPEN, Rating, record_followup
from console.users import create_user
from tests.e2e.stack import Chat, Stack

pytestmark = pytest.mark.e2e

PERSON = ("刘洋", "13800000004")


def register(chat: Chat, stack: Stack, fair_id: str, verified: bool = False) -> None:
    chat.trigger("job_fair_register", {"job_fair_id": fair_id})
    if not verified:
        chat.say(PERSON[0])
        chat.say(PERSON[1])
        chat.say(stack.sms_code(PERSON[1]))
    for answer in ("浙江大学", "计算机科学与技术", "本科", "2020"):
        if "请确认您的报名信息" in chat.text:
            break
        chat.say(answer)
    assert "请确认您的报名信息" in chat.text, chat.text
    chat.say("确认")
    assert "报名成功" in chat.text, chat.text


def the_rating(app: FastAPI, chat: Chat) -> Rating:
    def find() -> Rating | None:
        with app.state.session_factory() as db:
            refresh(db)
            db.commit()
            return db.query(Rating).filter_by(sender_hash=hash_sender_id(chat.conversation_id)).first()

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = find()
        if found and found.comment:
            return found
        time.sleep(0.3)
    raise AssertionError("the rating did not reach the console")




def test_a_bad_rating_is_followed_up_and_answered(stack: Stack, console_app: FastAPI) -> None:
    chat = stack.chat()
    register(chat, stack, "JF0006")
    assert "请您为本次“招聘会报名”服务做个评价" in chat.text, chat.text
    assert [b["title"] for b in chat.buttons] == list(LEVELS)

    chat.click("非常不满意")
    assert "请问您遇到了什么问题" in chat.text, chat.text
    chat.say("短信验证码等了好久，我的手机13800000004收了三次才到")
    assert "您的评价已记录" in chat.text and "15 个工作日内" in chat.text, chat.text
    chat.say("最近有哪些校园招聘会")  # the conversation goes on as usual
    assert "场招聘会" in chat.text, chat.text

    rating = the_rating(console_app, chat)
    assert (rating.level, rating.service, rating.followup_status) == ("非常不满意", "job_fair_registration", OPEN)
    assert "13800000004" not in rating.comment and "收了三次才到" in rating.comment
    with console_app.state.session_factory() as db:
        operator = create_user(db, "rating-duty", "correct horse battery staple", "operator")
        db.commit()
        rating = db.get(Rating, rating.id)
        record_followup(db, rating, operator, RasaClient(stack.rasa_url, stack.api_token),
                        "短信通道高峰期拥堵，已扩容。", "您好，您反映的验证码延迟问题已核实并整改，感谢您的监督。")
        db.commit()
        assert db.get(Rating, rating.id).followup_status == DONE
    delivered = [m.get("text") for m in chat.outbox()]
    assert "您好，您反映的验证码延迟问题已核实并整改，感谢您的监督。" in delivered


def test_a_good_rating_and_no_second_invitation(stack: Stack) -> None:
    chat = stack.chat()
    register(chat, stack, "JF0008")
    chat.click("非常满意")
    assert "感谢您的评价（非常满意）" in chat.text, chat.text
    assert chat.slot("service_rating")["level"] == "非常满意"
    chat.say("满意")  # a change of mind, typed
    assert "已将您对“招聘会报名”的评价更新为“满意”" in chat.text, chat.text


def test_asking_for_something_else_leaves_the_comment_question(stack: Stack) -> None:
    chat = stack.chat()
    register(chat, stack, "JF0010")
    chat.click("不满意")
    assert "请问您遇到了什么问题" in chat.text, chat.text
    chat.say("罗湖口岸现在能通关吗")
    assert "深圳罗湖口岸" in chat.text, chat.text
    rating = chat.slot("service_rating")
    assert rating["level"] == "不满意" and rating["comment"] is None
