"""Holes 10b and 10c: the review exports.

10b: citizen text went into the exported Rasa NLU YAML (a literal block, one `- example` per line) with only some
line breaks removed: a NEL (U+0085), which YAML and Python's splitlines() both treat as a line break, ended the
block and let a citizen write a training example, or a whole intent, of their own. Every citizen text must come
out as exactly one example that Rasa's own readers read back with the intent the operator chose and the citizen's
text (line breaks and control characters turned into spaces, surrounding spaces dropped: nothing else changed).

10c: the exports were GET requests: any page an operator visited could start a download in their name (and put an
export in the audit log). Exports are POSTs with the CSRF token now; the old GETs answer 405.
"""

from __future__ import annotations

import itertools
import random
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from rasa.shared.core.events import UserUttered
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from console.db import init_db, make_engine, session_factory
from console.index import conversation_events, latest_conversation, refresh_index
from console.review import annotate, correct_message, corrections_export, set_review_status, story_export
from console.users import AuditEntry
from tests.console import conftest as console_fixtures
from tests.console import seed

console_db_url = console_fixtures.console_db_url
console_settings = console_fixtures.console_settings
console_app = console_fixtures.console_app
client = console_fixtures.client
fast_password_hashing = console_fixtures.fast_password_hashing

INJECTED = "你好\x85- intent: stolen_intent\x85  examples: |\x85    - 注入的训练样例\x85- intent: other"
HOSTILE_TEXTS = [
    INJECTED,
    "第一行\u2028- intent: evil\u2029第二行",
    "回车\r- 另一个例子\r\n还有",
    "竖向制表\x0b换页\x0c文件分隔\x1c\x1d\x1e",
    "响铃\x07退格\x08转义\x1b[31m红色\x7f删除\x80\x9bC1控制符",
    "   前后都有空格   ",
    "- intent: greet",
    "nlu:\n- intent: evil\n  examples: |\n    - x",
    "\"双引号\" '单引号' {花括号} [方括号](country_region) #注释 &锚 *别名 !标签 %指令 @ ` | > ---",
    "...",
    "C:\\users\\u000a 反斜杠 \\n 不是换行",
    "\tTab 开头\t中间",
    "\ufeff字节序标记\ufffe\uffff非字符",
    "emoji 😀 与 \u3000全角空格 \u202e从右到左",
]
_seeds = itertools.count(1)  # one citizen per conversation


def visible(text: str) -> str:
    """The characters a reader sees: no line breaks, control or format characters, spaces or non-characters.
    Full-width brackets compare equal to ASCII ones (the export writes the citizen's brackets full-width so they
    can never become entity markup)."""
    text = text.replace("［", "[").replace("］", "]")
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "CZ" and ch not in "\ufffe\uffff")


def assert_clean_single_line(text: str) -> None:
    assert text == text.strip()
    assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in text), repr(text)
    assert len(text.splitlines()) == 1, repr(text)


@pytest.fixture(autouse=True)
def _hash_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_HASH_SECRET", "export-test-secret")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    init_db(engine)
    with session_factory(engine)() as db:
        yield db
    engine.dispose()


def corrected(session: Session, text: str, intent: str = "inform") -> None:
    """A reviewed conversation whose one user message (the citizen's `text`) an operator corrected to `intent`,
    submitting the form as the page prefills it."""
    conversation = seed._new("hostile", random.Random(next(_seeds)), time.time() - 600, "webchat")
    conversation.user(text, "nlu_fallback", 0.3).action("action_default_fallback")
    seed.write_conversations(session.get_bind(), [conversation])
    refresh_index(session)
    row = latest_conversation(session, conversation.sender_hash)
    event_id, event = next((i, e) for i, e in conversation_events(session, row) if e.get("event") == "user")
    correct_message(session, row, event_id, intent, annotate(event["text"], []), "op")
    set_review_status(session, row, "reviewed", "op")
    session.commit()


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=lambda text: repr(text)[:24])
def test_hostile_citizen_text_is_exactly_one_nlu_example(session: Session, text: str) -> None:
    corrected(session, text, "inform")
    export = corrections_export(session)
    examples = RasaYAMLReader().reads(export.content).intent_examples
    assert [m.get("intent") for m in examples] == ["inform"], export.content
    (example,) = examples
    assert_clean_single_line(example.get("text"))
    assert visible(example.get("text")) == visible(text)
    assert export.count == 1


def test_many_hostile_texts_in_one_file_stay_apart(session: Session) -> None:
    for text in HOSTILE_TEXTS:
        corrected(session, text, "out_of_scope")
    corrected(session, "我想申请租房补贴", "rent_subsidy_apply")
    examples = RasaYAMLReader().reads(corrections_export(session).content).intent_examples
    intents = [m.get("intent") for m in examples]
    assert intents.count("rent_subsidy_apply") == 1 and set(intents) == {"out_of_scope", "rent_subsidy_apply"}
    texts = [visible(m.get("text")) for m in examples if m.get("intent") == "out_of_scope"]
    assert sorted(texts) == sorted({visible(text) for text in HOSTILE_TEXTS})


def test_an_entity_in_hostile_text_keeps_its_span(session: Session) -> None:
    text = "查\x85询[日本](x)\u2028的入境政策"
    conversation = seed._new("entity", random.Random(2), time.time() - 600, "webchat")
    conversation.user(text, "nlu_fallback", 0.3)
    seed.write_conversations(session.get_bind(), [conversation])
    refresh_index(session)
    row = latest_conversation(session, conversation.sender_hash)
    event_id, event = next((i, e) for i, e in conversation_events(session, row) if e.get("event") == "user")
    start = event["text"].index("日本")
    annotated = annotate(event["text"], [{"start": start, "end": start + 2, "entity": "country_region"}])
    correct_message(session, row, event_id, "entry_control_query", annotated, "op")
    set_review_status(session, row, "reviewed", "op")
    session.commit()
    (example,) = RasaYAMLReader().reads(corrections_export(session).content).intent_examples
    (entity,) = example.get("entities")
    assert entity["entity"] == "country_region" and entity["value"] == "日本"
    assert example.get("text")[entity["start"] : entity["end"]] == "日本"


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=lambda text: repr(text)[:24])
def test_hostile_citizen_text_is_exactly_one_story_step(session: Session, text: str) -> None:
    conversation = seed._new("story", random.Random(3), time.time() - 600, "webchat")
    conversation.user(text, "nlu_fallback", 0.3).action("action_default_fallback")
    conversation.user("谢谢", "thank", 0.99).action("utter_thank")
    seed.write_conversations(session.get_bind(), [conversation])
    refresh_index(session)
    row = latest_conversation(session, conversation.sender_hash)
    export = story_export(session, row)
    steps = YAMLStoryReader(domain=None).read_from_string(export.content)
    assert len(steps) == 1, export.content
    users = [event for event in steps[0].events if isinstance(event, UserUttered)]
    assert [user.intent_name for user in users] == ["nlu_fallback", "thank"], export.content
    assert_clean_single_line(users[0].text)
    assert visible(users[0].text) == visible(text)


# --- 10c: exports are POSTs with the CSRF token ----------------------------------------------------------


def exportable(app: FastAPI) -> None:
    with app.state.session_factory() as db:
        corrected(db, "我想问一下补贴什么时候到账", "rent_subsidy_status")


def exports_audited(app: FastAPI) -> int:
    with app.state.session_factory() as db:
        return db.query(AuditEntry).filter_by(action="export").count()


EXPORTS = ("/review/corrections.yml", "/conversations/1/story.yml")


def test_a_foreign_page_cannot_start_an_export(console_app: FastAPI, client: TestClient) -> None:
    exportable(console_app)
    console_fixtures.login_as(client, "operator")
    for path in EXPORTS:
        # What <a href> or a top-level navigation from another site sends along with the operator's cookie.
        response = client.get(path, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
        assert response.status_code == 405, path
        assert "attachment" not in response.headers.get("content-disposition", "")
        assert client.post(path).status_code == 403, path  # a cross-site form has no CSRF token
    assert exports_audited(console_app) == 0


def test_exports_are_posted_with_the_token_from_the_pages(console_app: FastAPI, client: TestClient) -> None:
    exportable(console_app)
    csrf = console_fixtures.login_as(client, "operator")
    for page, path in (("/review", EXPORTS[0]), ("/conversations/1", EXPORTS[1])):
        html = client.get(page).text
        form = html.split(f'action="{path}"', 1)
        assert len(form) == 2 and 'method="post"' in form[0].rsplit("<form", 1)[1], f"{page}: no POST form"
        assert f'name="csrf_token" value="{csrf}"' in form[1].split("</form>", 1)[0]
        assert f'href="{path}"' not in html
        response = client.post(path, data={"csrf_token": csrf})
        assert response.status_code == 200 and response.headers["content-disposition"].startswith("attachment")
    assert exports_audited(console_app) == 2
