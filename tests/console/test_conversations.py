"""The conversation pages through the real app: list with filters, detail with every turn, review actions,
downloads, audit entries, and no unmasked personal data anywhere."""

from __future__ import annotations

import re
import time

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from console.index import latest_conversation, refresh_index
from console.review import tags_of
from console.users import AuditEntry
from tests.console import seed
from tests.console.conftest import login_as

ROW = re.compile(r'data-conversation="(\d+)"')


@pytest.fixture(autouse=True)
def _hash_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_HASH_SECRET", "console-test-secret")


@pytest.fixture
def people(console_app: FastAPI) -> list[seed.Conversation]:
    """Every scenario once, in the last day, stored masked and indexed."""
    conversations = seed.one_of_each(start=time.time() - 6 * 3600, seed=21, gap=900)
    seed.write_conversations(console_app.state.engine, conversations)
    with console_app.state.session_factory() as session:
        refresh_index(session)
    return conversations


def _id(app: FastAPI, conversation: seed.Conversation) -> int:
    with app.state.session_factory() as session:
        return latest_conversation(session, conversation.sender_hash).id


def _by_kind(people: list[seed.Conversation], kind: str) -> seed.Conversation:
    return next(c for c in people if c.kind == kind)


def _listed(client: TestClient, query: str) -> set[int]:
    response = client.get(f"/conversations?{query}")
    assert response.status_code == 200, response.text
    return {int(i) for i in ROW.findall(response.text)}


def _audit(app: FastAPI, action: str) -> list[str]:
    with app.state.session_factory() as session:
        return [e.target for e in session.query(AuditEntry).filter(AuditEntry.action == action).order_by(AuditEntry.id)]


def test_pages_need_a_login_and_posts_a_csrf_token(client: TestClient, people: list[seed.Conversation]) -> None:
    conversation_id = _id(client.app, people[0])
    for path in ("/conversations", f"/conversations/{conversation_id}", "/review"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
    for path in (f"/conversations/{conversation_id}/story.yml", "/review/corrections.yml"):
        assert client.post(path).status_code == 401, path
    assert client.post(f"/conversations/{conversation_id}/tags", data={"tag": "x"}).status_code == 401
    login_as(client, "operator")
    response = client.post(f"/conversations/{conversation_id}/tags", data={"tag": "x"})
    assert response.status_code == 403
    response = client.post(f"/conversations/{conversation_id}/tags", data={"tag": "x", "csrf_token": "forged"})
    assert response.status_code == 403
    with client.app.state.session_factory() as session:
        assert tags_of(session, [conversation_id]) == {}


def test_list_filters_through_the_page(client: TestClient, people: list[seed.Conversation]) -> None:
    login_as(client, "operator")
    ids = {c.kind: _id(client.app, c) for c in people}
    assert _listed(client, "") == set(ids.values())
    assert _listed(client, "intent=request_human") == {ids["handoff"]}
    assert _listed(client, "outcome=service_error") == {ids["service_error"]}
    assert _listed(client, "outcome=handoff&intent=request_human") == {ids["handoff"]}
    assert _listed(client, "max_confidence=0.45") == {ids["fallback"], ids["low_confidence"]}
    assert _listed(client, "q=入境管控措施") == {ids["entry_control_query"]}
    channel = people[0].channel
    assert _listed(client, f"channel={channel}") == {ids[c.kind] for c in people if c.channel == channel}
    page = client.get("/conversations?outcome=fallback")
    assert "未能理解" in page.text and "待审核" in page.text
    # bad values are ignored with a note, never an error page
    page = client.get("/conversations?date_from=2026-13-45&max_confidence=abc&channel=fax&page=-3")
    assert page.status_code == 200
    assert "开始日期格式应为" in page.text and "最低置信度应为" in page.text and "渠道“fax”不存在" in page.text
    assert {int(i) for i in ROW.findall(page.text)} == set(ids.values())


def test_detail_shows_every_turn_with_nlu_actions_slots_results_and_timing(
    client: TestClient, people: list[seed.Conversation]
) -> None:
    login_as(client, "operator", username="reviewer")
    rent = _by_kind(people, "rent_subsidy_completed")
    conversation_id = _id(client.app, rent)
    page = client.get(f"/conversations/{conversation_id}")
    assert page.status_code == 200
    text = page.text
    assert "我想申请租房补贴" in text or "租房补贴" in text
    assert "rent_subsidy_apply" in text and "备选" in text and "rent_subsidy_policy" in text  # top alternatives
    assert "person_name</code>＝" in text  # entities (masked values)
    assert "执行动作 <code>rent_subsidy_form</code>" in text and "表单开始" in text and "表单结束" in text
    assert "槽位 <code>id_number</code>" in text and "*" in text
    assert "办理结果：租房补贴申请" in text and "成功" in text and "ZF2026" in text
    assert "响应用时" in text and " 秒" in text
    turns = re.findall(r'id="turn-(\d+)"', text)
    assert len([t for t in turns if t != "0"]) == sum(1 for e in rent.events if e.get("event") == "user")
    assert _audit(client.app, "view_conversation") == [str(conversation_id)]
    error_page = _by_kind(people, "service_error")
    text = client.get(f"/conversations/{_id(client.app, error_page)}").text
    assert "办理结果：招聘会报名" in text and "服务异常" in text
    assert client.get("/conversations/999999").status_code == 404


def test_review_actions_change_what_the_list_shows(client: TestClient, people: list[seed.Conversation]) -> None:
    token = login_as(client, "operator")
    fallback = _by_kind(people, "fallback")
    conversation_id = _id(client.app, fallback)
    base = f"/conversations/{conversation_id}"

    def post(path: str, **data: str) -> str:
        response = client.post(base + path, data={**data, "csrf_token": token})
        assert response.status_code == 303, response.text
        return response.headers["location"]

    assert post("/review", status="reviewed").endswith("ok=reviewed")
    post("/tags", tag="  需要 新意图 ")
    assert _listed(client, "review=reviewed") == {conversation_id}
    assert _listed(client, "tag=需要 新意图") == {conversation_id}
    assert "需要 新意图" in client.get("/conversations?review=reviewed").text
    post("/tags/remove", tag="需要 新意图")
    assert _listed(client, "tag=需要 新意图") == set()

    page = client.get(base).text
    event_ids = [int(i) for i in re.findall(r'id="event-(\d+)"', page)]
    user_event = int(re.search(r'class="turn user" id="event-(\d+)"', page).group(1))
    assert post(f"/messages/{user_event}/flag", note="没听懂社保卡补办").endswith(f"#event-{user_event}")
    assert "已标记" in client.get(base).text
    post(f"/messages/{user_event}/correction", intent="out_of_scope", annotated="")
    page = client.get(base).text
    assert "已更正" in page and "out_of_scope" in page
    bad = client.post(base + f"/messages/{user_event}/correction",
                      data={"intent": "out_of_scope", "annotated": "完全不同的文字", "csrf_token": token})
    assert bad.status_code == 400 and "必须与原消息" in bad.text
    bot_event = next(i for i in event_ids if i != user_event)
    bad = client.post(base + f"/messages/{bot_event}/correction",
                      data={"intent": "greet", "annotated": "", "csrf_token": token})
    assert bad.status_code == 400 and "只能更正用户消息" in bad.text

    export = client.post("/review/corrections.yml", data={"csrf_token": token})
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    assert "- intent: out_of_scope" in export.text
    story = client.post(f"{base}/story.yml", data={"csrf_token": token})
    assert story.status_code == 200 and "intent: out_of_scope" in story.text
    assert _audit(client.app, "export") == ["corrections", str(conversation_id)]
    assert "out_of_scope" in client.get("/review").text


def test_no_unmasked_personal_data_in_any_page_or_export(client: TestClient, people: list[seed.Conversation]) -> None:
    token = login_as(client, "operator")
    raw_values = {value for c in people for value in c.personal | {c.sender}}
    assert any(value.isdigit() and len(value) == 11 for value in raw_values)  # phone numbers among them
    assert any(len(value) == 18 for value in raw_values)  # and ID numbers
    pages = [client.get("/conversations").text, client.get("/conversations?q=身份证").text]
    for conversation in people:
        conversation_id = _id(client.app, conversation)
        detail = client.get(f"/conversations/{conversation_id}").text
        pages += [detail, client.post(f"/conversations/{conversation_id}/story.yml", data={"csrf_token": token}).text]
        for event_id in re.findall(r'class="turn user" id="event-(\d+)"', detail):
            client.post(f"/conversations/{conversation_id}/messages/{event_id}/correction",
                        data={"intent": "inform", "annotated": "", "csrf_token": token})
        client.post(f"/conversations/{conversation_id}/review", data={"status": "reviewed", "csrf_token": token})
    pages += [client.get("/review").text, client.post("/review/corrections.yml", data={"csrf_token": token}).text]
    everything = "\n".join(pages)
    assert "*" in everything  # masked values are shown
    for raw in raw_values:
        assert raw not in everything, raw
