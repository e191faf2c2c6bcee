"""好差评 end to end through the REST channel: the invitation after a completed transaction, a bad rating with its
reason, the follow-up in the console and the operator's reply reaching the citizen; a good rating; leaving the
comment question by asking for something else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI

from bot.masking import hash_sender_id
from bot.rating_levels import LEVELS
from bot.settings import ConsoleSettings
from console.projection import refresh
from console.rasa_client import RasaClient
from console.ratings import DONE, OPEN, Rating, record_followup
from console.users import create_user
from tests.e2e.stack import ROOT, Chat, Stack

pytestmark = pytest.mark.e2e

SEAL_KEY = "rating-e2e-seal-key"
PERSON = ("刘洋", "13800000004")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make test` (it trains first) or `make train`")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PII_SEAL_KEY", SEAL_KEY)  # the console must open what the Rasa server sealed
        running = Stack(tmp_path_factory.mktemp("rating-stack"), extra_env={"PII_SEAL_KEY": SEAL_KEY})
        try:
            yield running.start()
        finally:
            running.stop_all()


@pytest.fixture
def console_db_url(stack: Stack) -> str:
    return f"sqlite:///{stack.var_dir / 'conversation_log.db'}"


@pytest.fixture
def console_settings(console_settings: ConsoleSettings, stack: Stack) -> ConsoleSettings:
    return replace(console_settings, rasa_url=stack.rasa_url, rasa_token=stack.api_token)


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


def outbox(stack: Stack, sender: str) -> list[dict]:
    response = httpx.get(f"{stack.rasa_url}/webhooks/rest/outbox", params={"sender": sender}, timeout=10)
    response.raise_for_status()
    return response.json()


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
    delivered = [m.get("text") for m in outbox(stack, chat.sender)]
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
