"""好差评 in the console: ratings read from the masked log, the follow-up of a bad one with its deadline in working
days, the pages, and the dashboard's satisfaction by service."""

from __future__ import annotations

import random
import re
import time
from datetime import date, datetime

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from bot.clock import CHINA_TZ
from console.projection import refresh
from console.ratings import DONE, NONE, OPEN, Rating, working_days_after
from console.users import AuditEntry
from tests.console import seed
from tests.console.conftest import login_as

PHONE = "13912345678"


def _store(app: FastAPI, *conversations: seed.Conversation) -> None:
    with app.state.session_factory() as db:
        seed.write_conversations(db.get_bind(), conversations)
        refresh(db)
        db.commit()


def _ratings(app: FastAPI) -> list[Rating]:
    with app.state.session_factory() as db:
        return db.query(Rating).order_by(Rating.id).all()


def _at(day: str) -> float:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=CHINA_TZ).timestamp()


def test_deadlines_count_working_days_of_the_official_calendar() -> None:
    assert working_days_after(date(2026, 11, 2), 15) == date(2026, 11, 23)  # three plain weeks
    # Over National Day 2026 (1–7 October off, Saturday 10 October worked): 29, 30 Sep; 8, 9, 10, 12–16 Oct;
    # 19–23 Oct.
    assert working_days_after(date(2026, 9, 28), 15) == date(2026, 10, 23)


def test_a_bad_rating_opens_a_followup_and_its_comment_is_masked(console_app: FastAPI) -> None:
    rng = random.Random(3)
    bad = seed.job_fair_rated(rng, time.time() - 600, "wechat", "非常不满意", f"打了{PHONE}没人接，等了三天")
    good = seed.job_fair_rated(rng, time.time() - 300, "telegram", "满意")
    _store(console_app, bad, good)
    first, second = _ratings(console_app)
    assert (first.level, first.score, first.followup_status, first.service) == ("非常不满意", 1, OPEN,
                                                                               "job_fair_registration")
    assert PHONE not in first.comment and "没人接，等了三天" in first.comment
    assert first.deadline == working_days_after(datetime.fromtimestamp(first.rated_at, CHINA_TZ).date(), 15)
    assert (second.level, second.followup_status, second.deadline) == ("满意", NONE, None)


def test_a_changed_rating_updates_its_row(console_app: FastAPI) -> None:
    rng = random.Random(4)
    citizen = seed.job_fair_rated(rng, time.time() - 600, "rest", "不满意")
    rating = next(e["value"] for e in citizen.events if e.get("name") == "service_rating")
    citizen.user("改成满意", "rate_service", 0.9).action("action_record_rating")
    citizen.slot("service_rating", {**rating, "level": "满意", "score": 4})
    _store(console_app, citizen)
    (only,) = _ratings(console_app)
    assert only.level == "满意"
    assert only.followup_status == OPEN  # a follow-up once opened is still answered


def test_operators_see_overdue_followups_and_record_one(console_app: FastAPI, client: TestClient) -> None:
    rng = random.Random(5)
    overdue = seed.job_fair_rated(rng, _at("2026-09-01"), "wechat", "不满意", "流程太复杂")
    recent = seed.job_fair_rated(rng, time.time() - 600, "rest", "非常满意")
    _store(console_app, overdue, recent)
    login_as(client, username="duty")

    page = client.get("/ratings")
    assert page.status_code == 200
    deadline = working_days_after(date(2026, 9, 1), 15).isoformat()
    assert "已超期 1" in page.text and "流程太复杂" in page.text and deadline in page.text
    overdue_id = _ratings(console_app)[0].id
    only_overdue = client.get("/ratings?overdue=1")
    assert only_overdue.text.count('href="/ratings/') == 1

    detail = client.get(f"/ratings/{overdue_id}")
    assert "记录回访" in detail.text and "（已超期）" in detail.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', detail.text).group(1)
    empty = client.post(f"/ratings/{overdue_id}/followup", data={"csrf_token": token, "findings": "", "reply": "x"})
    assert empty.status_code == 400 and "请填写核实情况" in empty.text
    done = client.post(f"/ratings/{overdue_id}/followup", data={
        "csrf_token": token, "findings": f"高峰期排队，已增开窗口。市民电话{PHONE}", "answered_elsewhere": "1",
        "reply": "您好，您反映的问题已整改，感谢您的监督。"}, follow_redirects=True)
    assert done.status_code == 200 and "回访已记录" in done.text and "已回访" in done.text
    assert PHONE not in done.text
    (stored, _) = _ratings(console_app)
    assert (stored.followup_status, stored.handled_by, stored.replied_via) == (DONE, "duty", "elsewhere")
    assert "已通过电话等其他方式答复" in done.text
    with console_app.state.session_factory() as db:
        assert db.query(AuditEntry).filter_by(action="rating_followup").count() == 1
    again = client.post(f"/ratings/{overdue_id}/followup", data={
        "csrf_token": token, "findings": "再次", "reply": "再次", "answered_elsewhere": "1"})
    assert again.status_code == 409 and "没有待处理的回访" in again.text


def test_a_reply_that_cannot_be_delivered_leaves_the_followup_open(console_app: FastAPI, client: TestClient) -> None:
    """No sealed channel id for this citizen (seeded straight into the log): the operator is told, nothing recorded."""
    _store(console_app, seed.job_fair_rated(random.Random(6), time.time() - 600, "wechat", "不满意", "太慢"))
    login_as(client, username="duty")
    (rating,) = _ratings(console_app)
    detail = client.get(f"/ratings/{rating.id}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', detail.text).group(1)
    failed = client.post(f"/ratings/{rating.id}/followup", data={
        "csrf_token": token, "findings": "已核实", "reply": "您好，已处理。"})
    assert failed.status_code == 502
    assert "回复未能送达市民" in failed.text and "已通过其他方式答复市民" in failed.text
    assert "已核实" in failed.text  # what was typed is kept
    assert _ratings(console_app)[0].followup_status == OPEN


def test_the_dashboard_shows_satisfaction_by_service(console_app: FastAPI, client: TestClient) -> None:
    rng = random.Random(7)
    now = time.time()
    _store(console_app, *[seed.job_fair_rated(rng, now - 3600 + i * 60, "rest", level)
                          for i, level in enumerate(("非常满意", "满意", "基本满意", "不满意"))])
    login_as(client, username="duty")
    figures = client.get("/dashboard.json").json()
    (row,) = figures["satisfaction"]
    assert (row["label"], row["ratings"], row["satisfied_rate"]) == ("招聘会报名", 4, 0.75)
    assert row["average_score"] == pytest.approx(3.5)
    assert figures["open_followups"] == 1 and figures["overdue_followups"] == 0
    page = client.get("/dashboard")
    assert "好差评：各项业务满意度" in page.text and "75.0%" in page.text
