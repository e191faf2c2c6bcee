"""Review data and exports: tags, corrections (validated against domain/), NLU YAML and test story exports that
Rasa reads and `rasa data validate` accepts, with no unmasked personal data."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy.orm import Session

from console import domain
from console.db import init_db, make_engine, session_factory
from console.index import Conversation, conversation_events, latest_conversation, refresh_index
from console.review import (
    ReviewError,
    add_tag,
    correct_message,
    corrections_export,
    normalise_tag,
    parse_annotated,
    set_review_status,
    story_export,
)
from tests.console import seed

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _hash_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_HASH_SECRET", "console-test-secret")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    init_db(engine)
    with session_factory(engine)() as db:
        yield db
    engine.dispose()


def _stored(session: Session, conversations: list[seed.Conversation]) -> list[Conversation]:
    seed.write_conversations(session.get_bind(), conversations)
    refresh_index(session)
    return [latest_conversation(session, c.sender_hash) for c in conversations]


def _user_messages(session: Session, conversation: Conversation) -> list[tuple[int, dict]]:
    return [(i, e) for i, e in conversation_events(session, conversation) if e.get("event") == "user"]


def test_tags_are_free_text_normalised() -> None:
    assert normalise_tag("  意图   错误 ") == "意图 错误"
    assert normalise_tag("ＶＩＰ，投诉") == "vip 投诉"
    assert normalise_tag("#Fallback") == "fallback"
    assert len(normalise_tag("长" * 100)) == 32
    assert normalise_tag(" \t ") == ""


def test_tag_must_not_be_empty(session: Session) -> None:
    (row,) = _stored(session, [seed.small_talk(random.Random(1), time.time() - 600)])
    with pytest.raises(ReviewError, match="标签不能为空"):
        add_tag(session, row.id, "  ，  ", "op")
    assert add_tag(session, row.id, "好评", "op") == add_tag(session, row.id, " 好评 ", "op") == "好评"


def test_annotations_parse_to_rasa_entity_spans() -> None:
    assert parse_annotated("查[日本](country_region)和[罗湖口岸](port)") == (
        "查日本和罗湖口岸",
        [
            {"start": 1, "end": 3, "value": "日本", "entity": "country_region"},
            {"start": 4, "end": 8, "value": "罗湖口岸", "entity": "port"},
        ],
    )
    with pytest.raises(ReviewError, match="实体名"):
        parse_annotated("[日本](Country Region)")


def test_corrections_keep_the_masked_text_and_use_domain_names(session: Session) -> None:
    (row,) = _stored(session, [seed.rent_subsidy_completed(random.Random(2), time.time() - 900)])
    messages = _user_messages(session, row)
    id_message = next((i, e) for i, e in messages if e["text"].startswith("身份证号"))
    event_id, event = id_message
    masked = event["text"]
    assert "*" in masked
    with pytest.raises(ReviewError, match="意图"):
        correct_message(session, row, event_id, "apply_for_everything", masked, "op")
    with pytest.raises(ReviewError, match="意图"):  # the fallback is predicted, never trained
        correct_message(session, row, event_id, "nlu_fallback", masked, "op")
    with pytest.raises(ReviewError, match="一致"):  # typing the real number instead of the masked one
        correct_message(session, row, event_id, "inform", "身份证号[330106199503140023](id_number)", "op")
    with pytest.raises(ReviewError, match="passport"):
        correct_message(session, row, event_id, "inform", f"身份证号[{masked[4:]}](passport)", "op")
    bot_event = next(i for i, e in conversation_events(session, row) if e.get("event") == "bot")
    with pytest.raises(ReviewError, match="用户消息"):
        correct_message(session, row, bot_event, "inform", "", "op")
    with pytest.raises(ReviewError, match="不属于"):
        correct_message(session, row, 10**6, "inform", "", "op")
    correction = correct_message(session, row, event_id, "inform", f"身份证号[{masked[4:]}](id_number)", "op")
    assert correction.entity_list == [{"start": 4, "end": len(masked), "value": masked[4:], "entity": "id_number"}]
    assert correction.predicted_intent == "inform"


def test_button_payloads_are_not_training_examples(session: Session) -> None:
    c = seed._new("buttons", random.Random(6), time.time() - 300, "webchat")
    c.user("/rent_subsidy_policy", "rent_subsidy_policy", 1.0).action("action_rent_subsidy_policy")
    (row,) = _stored(session, [c])
    ((event_id, _),) = _user_messages(session, row)
    with pytest.raises(ReviewError, match="按钮"):
        correct_message(session, row, event_id, "rent_subsidy_policy", "", "op")


def _correct_everything(session: Session) -> tuple[list[seed.Conversation], list[Conversation]]:
    """A reviewed fallback conversation and entry query with corrections, plus an unreviewed one."""
    rng = random.Random(4)
    people = [
        seed.fallback(rng, time.time() - 3000, "wechat"),
        seed.entry_control_query(rng, time.time() - 2000, "webchat"),
        seed.rent_subsidy_completed(rng, time.time() - 1000, "telegram"),
        seed.handoff(rng, time.time() - 500, "rest"),
    ]
    rows = _stored(session, people)
    fallback, entry, rent, handoff = rows
    first_id, first = _user_messages(session, fallback)[0]
    correct_message(session, fallback, first_id, "out_of_scope", first["text"], "op")
    second_id, _ = _user_messages(session, fallback)[1]
    correct_message(session, fallback, second_id, "deny", "", "op")
    entry_id, entry_event = _user_messages(session, entry)[0]
    country = entry_event["parse_data"]["entities"][0]["value"]
    text = entry_event["text"]
    start = text.index(country)
    annotated = f"{text[:start]}[{country}](country_region){text[start + len(country):]}"
    correct_message(session, entry, entry_id, "entry_control_query", annotated, "op")
    for event_id, event in _user_messages(session, rent):
        if event["text"].startswith("手机"):
            correct_message(session, rent, event_id, "inform", f"手机[{event['text'][2:]}](phone)", "op")
    handoff_id, handoff_event = _user_messages(session, handoff)[0]
    correct_message(session, handoff, handoff_id, "rent_subsidy_status", handoff_event["text"], "op")  # unreviewed
    for row in (fallback, entry, rent):
        set_review_status(session, row, "reviewed", "op")
    session.commit()
    return people, rows


def test_nlu_export_holds_the_reviewed_corrections_with_entities(session: Session) -> None:
    people, rows = _correct_everything(session)
    export = corrections_export(session)
    assert export.count == 4
    data = RasaYAMLReader().reads(export.content)
    examples = {(m.get("intent"), m.get("text")): m.get("entities") or [] for m in data.intent_examples}
    assert {intent for intent, _ in examples} == {"out_of_scope", "deny", "entry_control_query", "inform"}
    assert "rent_subsidy_status" not in export.content  # the unreviewed conversation's correction stays out
    (entry_key,) = [key for key in examples if key[0] == "entry_control_query"]
    (entity,) = examples[entry_key]
    assert entity["entity"] == "country_region"
    assert entry_key[1][entity["start"] : entity["end"]] == entity["value"]
    (phone_key,) = [key for key in examples if key[0] == "inform"]
    assert "****" in phone_key[1] and examples[phone_key][0]["entity"] == "phone"
    known_entities = set(domain.entities())
    assert all(e["entity"] in known_entities for entities in examples.values() for e in entities)
    _assert_no_personal_data(export.content, people)


def test_story_export_replays_the_conversation_with_corrected_labels(session: Session) -> None:
    people, rows = _correct_everything(session)
    export = story_export(session, rows[0])
    assert export.filename.startswith("test_")
    steps = YAMLStoryReader(domain=None).read_from_string(export.content)[0].events
    users = [e for e in steps if isinstance(e, UserUttered)]
    actions = [e.action_name for e in steps if isinstance(e, ActionExecuted)]
    assert [u.intent_name for u in users] == ["out_of_scope", "deny"]  # corrected, not nlu_fallback
    assert actions == ["action_clarify", "action_default_fallback"]
    story = story_export(session, rows[2])  # a form: activation, deactivation, submit
    assert "active_loop: rent_subsidy_form" in story.content and "active_loop: null" in story.content
    _assert_no_personal_data(export.content + story.content, people)


def _assert_no_personal_data(text: str, people: list[seed.Conversation]) -> None:
    for conversation in people:
        for raw in conversation.personal | {conversation.sender}:
            assert raw not in text, raw


def test_exports_pass_rasa_data_validate(session: Session, tmp_path: Path) -> None:
    _, rows = _correct_everything(session)
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu_corrections.yml").write_text(corrections_export(session).content, encoding="utf-8")
    for row in rows[:3]:
        export = story_export(session, row)
        (data / export.filename).write_text(export.content, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--domain", "domain", "--data", str(data),
         "--config", "config.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    # It really read our files: the intents and actions they use are not reported as unused.
    for name in ("out_of_scope", "entry_control_query", "rent_subsidy_apply"):
        assert f"The intent '{name}' is not used" not in output
    assert "No story structure conflicts found" in output
