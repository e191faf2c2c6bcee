"""The masked conversation log: real Rasa events into MaskingSQLEventBroker on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.conversation_log import (
    TABLE_NAME,
    MaskingSQLEventBroker,
    iter_event_rows,
    iter_events,
    purge_older_than,
    sender_hashes,
)
from bot.masking import hash_sender_id
from tests.postgres import POSTGRES_ADMIN_URL, drop_database, postgres_or_skip

SENDER = "wechat:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
NAME, ID, PHONE, CODE, TOKEN = "陈明", "330106199503140023", "13812340001", "482913", "tok-9f8e7d6c5b4a"
SECRETS = [NAME, ID, PHONE, CODE, TOKEN, SENDER, "张三", "浙A12345", "6222021234567890123"]



@pytest.fixture(autouse=True)
def _no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their database explicitly; a developer's DATABASE_URL must not leak in."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PII_HASH_SECRET", "test-secret")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'log' / 'conversation_log.db'}"


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test run, dropped afterwards."""
    with postgres_or_skip("govbot_convlog_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def broker(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[MaskingSQLEventBroker]:
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    instance = MaskingSQLEventBroker(url)
    with instance.engine.begin() as connection:  # the Postgres database is shared by the module's tests
        connection.execute(sa.text(f"DELETE FROM {TABLE_NAME}"))
    yield instance
    instance.engine.dispose()


def conversation() -> list[dict]:
    """A rent-subsidy identity check with personal data in every kind of event."""
    ranking = [{"name": "inform", "confidence": 0.87}, {"name": "affirm", "confidence": 0.08}]
    return [
        SessionStarted(metadata={"chat_user": SENDER, "first_name": "Ming"}).as_dict(),
        ActionExecuted("action_listen").as_dict(),
        UserUttered(
            "我想申请租房补贴",
            intent={"name": "rent_subsidy_apply", "confidence": 0.9634},
            parse_data={"intent_ranking": [{"name": "rent_subsidy_apply", "confidence": 0.9634}]},
            input_channel="wechat",
        ).as_dict(),
        ActionExecuted("identity_form", policy="RulePolicy", confidence=1.0).as_dict(),
        ActiveLoop("identity_form").as_dict(),
        BotUttered("请问您的姓名是？", metadata={"utter_action": "utter_ask_person_name"}).as_dict(),
        ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0).as_dict(),
        UserUttered(  # a bare name: only its entity tells that it is personal
            NAME,
            intent={"name": "inform", "confidence": 0.87},
            entities=[
                {"entity": "person_name", "value": NAME, "start": 0, "end": 2, "extractor": "Gazetteer"}
            ],
            parse_data={"intent_ranking": ranking},
            input_channel="wechat",
            metadata={"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        ).as_dict(),
        SlotSet("person_name", NAME).as_dict(),
        UserUttered(
            f"身份证{ID}，手机 138-1234-0001，车牌浙A12345",
            intent={"name": "inform", "confidence": 0.7712},
            entities=[
                {"entity": "id_number", "value": ID, "start": 3, "end": 21},
                {"entity": "phone", "value": PHONE, "start": 25, "end": 38},
                {"entity": "plate_number", "value": "浙A12345", "start": 41, "end": 48},
            ],
            parse_data={"intent_ranking": [{"name": "inform", "confidence": 0.7712}]},
        ).as_dict(),
        SlotSet("id_number", ID).as_dict(),
        SlotSet("phone", PHONE).as_dict(),
        BotUttered(  # echoes the name (no pattern finds it) and the numbers, with payload buttons
            f"{NAME}您好，验证码已发送至{PHONE}，请输入6位验证码。",
            data={
                "buttons": [
                    {"title": f"重新发送到{PHONE}", "payload": f'/resend{{"phone":"{PHONE}"}}'},
                    {"title": "不是我", "payload": "/deny"},
                ]
            },
        ).as_dict(),
        UserUttered(CODE, intent={"name": "inform", "confidence": 0.55}).as_dict(),
        SlotSet("sms_code", CODE).as_dict(),
        SlotSet("identity_token", TOKEN).as_dict(),
        BotUttered(
            f"身份核验成功。{NAME}，您的补贴将发放到尾号0123的银行卡6222021234567890123，每月800元，热线12345。"
        ).as_dict(),
        UserUttered(
            '/inform{"person_name":"张三","id_number":"330106199503140023"}',
            intent={"name": "inform", "confidence": 1.0},
            entities=[{"entity": "person_name", "value": "张三"}, {"entity": "id_number", "value": ID}],
        ).as_dict(),
        ActionExecuted("action_submit_rent_subsidy", policy="TEDPolicy", confidence=0.8123).as_dict(),
    ]


def publish_all(broker: MaskingSQLEventBroker, events: list[dict], sender: str = SENDER) -> None:
    for event in events:
        broker.publish({"sender_id": sender, **event})
    broker.flush()


def raw_rows(broker: MaskingSQLEventBroker) -> list[dict]:
    broker.flush()
    with broker.engine.connect() as connection:
        rows = connection.execute(sa.text(f"SELECT * FROM {TABLE_NAME} ORDER BY id")).mappings().all()
    return [dict(row) for row in rows]


def assert_nothing_personal(rows: list[dict]) -> None:
    stored = json.dumps(rows, ensure_ascii=False, default=str)
    for secret in SECRETS:
        assert secret not in stored, secret
        assert json.dumps(secret)[1:-1] not in stored, secret  # nor as \\u escapes


def test_stored_rows_are_masked_and_intents_survive(broker: MaskingSQLEventBroker) -> None:
    events = conversation()
    publish_all(broker, events)
    rows = raw_rows(broker)
    assert len(rows) == len(events)
    assert_nothing_personal(rows)

    sender = hash_sender_id(SENDER)
    assert {row["sender_id"] for row in rows} == {sender}
    for row, original in zip(rows, events, strict=True):
        data = json.loads(row["data"])
        assert row["type_name"] == original["event"] == data["event"]
        assert row["timestamp"] == pytest.approx(original["timestamp"])
        assert data["timestamp"] == original["timestamp"]
        if original["event"] == "user":
            intent = original["parse_data"]["intent"]
            assert (row["intent_name"], row["intent_confidence"]) == (intent["name"], intent["confidence"])
            assert data["parse_data"]["intent"] == intent
            assert data["parse_data"].get("intent_ranking") == original["parse_data"].get("intent_ranking")
        if original["event"] == "action":
            assert row["action_name"] == original["name"] == data["name"]
            assert (data["policy"], data["confidence"]) == (original["policy"], original["confidence"])
        if original["event"] in ("slot", "active_loop"):
            assert data["name"] == original["name"]

    stored = [json.loads(row["data"]) for row in rows]
    assert stored[7]["text"] == "陈*"
    assert stored[7]["parse_data"]["entities"][0] | {"value": None} == {
        "entity": "person_name",
        "value": None,
        "start": 0,
        "end": 2,
        "extractor": "Gazetteer",
    }
    assert stored[8]["value"] == "陈*"
    assert stored[9]["text"] == "身份证330*************23，手机 138-****-0001，车牌浙A***45"
    assert [e["value"] for e in stored[9]["parse_data"]["entities"]] == [
        "330*************23",
        "138****0001",
        "浙A***45",
    ]
    assert stored[12]["text"] == "陈*您好，验证码已发送至138****0001，请输入6位验证码。"
    assert stored[12]["data"]["buttons"][0]["payload"] == '/resend{"phone":"138****0001"}'
    assert stored[13]["text"] == "******"  # a bare code, recognised because the bot had just asked for it
    assert stored[14]["value"] == stored[15]["value"] == "******"
    assert "每月800元，热线12345" in stored[16]["text"] and "尾号0123" in stored[16]["text"]
    assert stored[17]["text"] == '/inform{"person_name":"张*","id_number":"330*************23"}'
    assert stored[0]["metadata"]["chat_user"] == sender


def test_read_helpers(broker: MaskingSQLEventBroker) -> None:
    publish_all(broker, conversation())
    publish_all(
        broker, [UserUttered("你好", intent={"name": "greet", "confidence": 0.99}).as_dict()], "tg:42"
    )
    me, other = hash_sender_id(SENDER), hash_sender_id("tg:42")

    with broker.session_scope() as session:
        assert sender_hashes(session) == sorted([me, other])
        mine = list(iter_events(session, me))
        assert len(mine) == len(conversation()) and all(e["sender_id"] == me for e in mine)
        users = list(iter_events(session, me, event_types=["user"]))
        assert [e["parse_data"]["intent"]["name"] for e in users] == [
            "rent_subsidy_apply",
            "inform",
            "inform",
            "inform",
            "inform",
        ]
        rows = list(iter_event_rows(session, other))
        assert len(rows) == 1 and isinstance(rows[0][0], int) and rows[0][1]["text"] == "你好"
        assert list(iter_events(session, limit=2)) == mine[:2]
    assert broker.iter_events(other)[0]["parse_data"]["intent"] == {"name": "greet", "confidence": 0.99}


def test_retention_purges_old_events(broker: MaskingSQLEventBroker) -> None:
    old = UserUttered("旧消息", intent={"name": "greet", "confidence": 0.9}, timestamp=1_000.0).as_dict()
    new = UserUttered("新消息", intent={"name": "greet", "confidence": 0.9}, timestamp=1_000_000.0).as_dict()
    publish_all(broker, [old, new])
    with broker.session_scope() as session:
        assert purge_older_than(session, days=1, now=1_000_000.0) == 1
        assert [e["text"] for e in iter_events(session)] == ["新消息"]


async def test_rasa_tracker_store_streams_masked_events(broker: MaskingSQLEventBroker) -> None:
    """The way Rasa itself publishes: the tracker store streams new events with the sender id."""
    store = InMemoryTrackerStore(Domain.empty(), event_broker=broker)
    tracker = DialogueStateTracker.from_events(SENDER, [])
    for event in conversation()[1:]:
        tracker.update(_event_from_dict(event))
    await store.save(tracker)
    rows = raw_rows(broker)
    assert len(rows) >= 10
    assert_nothing_personal(rows)
    assert {row["sender_id"] for row in rows} == {hash_sender_id(SENDER)}
    assert ("inform", 0.87) in {(row["intent_name"], row["intent_confidence"]) for row in rows}


def _event_from_dict(data: dict):
    from rasa.shared.core.events import Event

    return Event.from_parameters(data)


def test_echo_memory_is_per_conversation(broker: MaskingSQLEventBroker) -> None:
    name_turn = UserUttered(
        "李雷",
        intent={"name": "inform", "confidence": 0.9},
        entities=[{"entity": "person_name", "value": "李雷"}],
    ).as_dict()
    publish_all(broker, [name_turn], "a")
    publish_all(broker, [BotUttered("李雷您好").as_dict()], "a")
    publish_all(broker, [BotUttered("李雷您好").as_dict()], "b")  # another user: nothing known about 李雷
    texts = [e["text"] for e in broker.iter_events()]
    assert texts == ["李*", "李*您好", "李雷您好"]


def test_database_error_does_not_break_the_conversation(
    broker: MaskingSQLEventBroker, caplog: pytest.LogCaptureFixture
) -> None:
    with broker.engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {TABLE_NAME}"))
    try:
        with caplog.at_level(logging.ERROR, logger="bot.conversation_log"):
            broker.publish({"sender_id": SENDER, **UserUttered(f"手机{PHONE}").as_dict()})
            broker.flush()
        assert "Could not store" in caplog.text and PHONE not in caplog.text
    finally:
        broker.Base.metadata.create_all(broker.engine)


# ------------------------------------------------------------------------------------------------
# configuration


def _write_endpoints(tmp_path: Path, body: str) -> str:
    path = tmp_path / "endpoints.yml"
    path.write_text(body, encoding="utf-8")
    return str(path)


async def test_loaded_by_rasa_from_endpoints_yml(tmp_path: Path, sqlite_url: str) -> None:
    path = _write_endpoints(
        tmp_path, f"event_broker:\n  type: bot.conversation_log.MaskingSQLEventBroker\n  url: {sqlite_url}\n"
    )
    endpoints = AvailableEndpoints.read_endpoints(path)
    broker = await EventBroker.create(endpoints.event_broker)
    assert isinstance(broker, MaskingSQLEventBroker)
    assert str(broker.engine.url) == sqlite_url
    broker.publish({"sender_id": SENDER, **UserUttered(f"我叫{NAME}").as_dict()})
    assert broker.iter_events()[0]["text"] == "我叫陈*"
    await broker.close()


async def test_database_url_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("DATABASE_URL", env_url)
    config = EndpointConfig(
        type="bot.conversation_log.MaskingSQLEventBroker", url=f"sqlite:///{tmp_path}/yaml.db"
    )
    broker = await EventBroker.create(config)
    assert str(broker.engine.url) == env_url
    await broker.close()


async def test_default_is_sqlite_under_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path / "var"))
    broker = await MaskingSQLEventBroker.from_endpoint_config(EndpointConfig(type="x"))
    broker.publish({"sender_id": SENDER, **UserUttered("你好").as_dict()})
    assert (tmp_path / "var" / "conversation_log.db").is_file()
    await broker.close()


async def test_rasa_sql_broker_style_options(tmp_path: Path) -> None:
    config = EndpointConfig(
        type="bot.conversation_log.MaskingSQLEventBroker",
        dialect="sqlite",
        db=str(tmp_path / "pieces.db"),
        echo_memory_seconds=0,
    )
    broker = await EventBroker.create(config)
    assert broker.engine.url.database == str(tmp_path / "pieces.db")
    await broker.close()


@pytest.mark.postgres
def test_postgres_database_is_created_on_first_start(postgres_url: str) -> None:
    name = f"govbot_convlog_test_{uuid.uuid4().hex[:10]}"
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    broker = MaskingSQLEventBroker(url)
    try:
        broker.publish({"sender_id": SENDER, **UserUttered(f"手机{PHONE}").as_dict()})
        assert broker.iter_events()[0]["text"] == "手机138****0001"
    finally:
        broker.engine.dispose()
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        drop_database(admin, name)
        admin.dispose()


def test_bare_reply_to_a_requested_personal_slot_is_masked(broker: MaskingSQLEventBroker) -> None:
    """NLU may miss an entity: the form's requested_slot still tells what the bare reply is."""
    ask = SlotSet("requested_slot", "person_name").as_dict()
    events = [
        ask,
        UserUttered("补贴多少钱", intent={"name": "rent_subsidy_policy", "confidence": 0.8}).as_dict(),
        ask,
        UserUttered(NAME, intent={"name": "inform", "confidence": 0.4}).as_dict(),  # no entity found
        SlotSet("requested_slot", "id_number").as_dict(),
        UserUttered("33010619950314", intent={"name": "inform", "confidence": 0.6}).as_dict(),  # too short
        SlotSet("requested_slot", "city").as_dict(),
        UserUttered("杭州", intent={"name": "inform", "confidence": 0.9}).as_dict(),
        BotUttered(f"{NAME}，请确认您的信息").as_dict(),
    ]
    publish_all(broker, events)
    texts = [e.get("text") for e in broker.iter_events() if e["event"] in ("user", "bot")]
    assert texts == ["补贴多少钱", "陈*", "330*********14", "杭州", "陈*，请确认您的信息"]
    assert_nothing_personal(raw_rows(broker))
