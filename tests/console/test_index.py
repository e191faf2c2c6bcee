"""The conversation index on seeded masked logs: exact filter results, incremental refreshes, Chinese search,
retention. Every test runs on SQLite and on the local PostgreSQL (a throw-away database)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation_log import ConversationEvent
from console import index
from console.db import init_db, make_engine, session_factory
from console.index import Conversation, ConversationIntent, SearchText, refresh_index
from console.retention import purge
from console.review import add_tag, set_review_status
from console.search import Filters, search_conversations
from tests.console import seed
from tests.postgres import postgres_or_skip

DAY = 86400


@pytest.fixture(autouse=True)
def _hash_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_HASH_SECRET", "console-test-secret")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_or_skip("govbot_console_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'log.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        seed.reset_postgres(url)
    engine = make_engine(url)
    init_db(engine)
    yield session_factory(engine)
    engine.dispose()


def _local(day: date, hour: int) -> float:
    return datetime(day.year, day.month, day.day, hour, tzinfo=index.TIMEZONE).timestamp()


FIRST_DAY = (datetime.now(index.TIMEZONE) - timedelta(days=20)).date()


def cast() -> list[seed.Conversation]:
    """Ten conversations with known channels and outcomes, one per local day from FIRST_DAY, 10:00."""
    rng = random.Random(42)
    builders = [
        (seed.rent_subsidy_completed, "wechat", {}),
        (seed.entry_control_query, "webchat", {}),
        (seed.fallback, "telegram", {}),
        (seed.handoff, "rest", {}),
        (seed.abandoned_form, "wechat", {"cancel": True}),
        (seed.abandoned_form, "rest", {"cancel": False}),  # left open: stale after 30 minutes
        (seed.service_error, "webchat", {}),
        (seed.low_confidence, "telegram", {}),
        (seed.small_talk, "rest", {}),
        (seed.port_status_query, "wechat", {}),
    ]
    return [
        builder(rng, _local(FIRST_DAY + timedelta(days=i), 10), channel, **options)
        for i, (builder, channel, options) in enumerate(builders)
    ]


EXPECTED_OUTCOMES = {  # scenario position in cast() → automatic flags
    0: {"completed"},
    1: {"completed"},
    2: {"fallback", "low_confidence"},
    3: {"handoff"},
    4: {"abandoned_form"},
    5: {"abandoned_form"},
    6: {"service_error"},
    7: {"completed", "low_confidence"},
    8: set(),
    9: {"completed"},
}


def _seed_and_index(factory: sessionmaker, conversations: list[seed.Conversation]) -> dict[str, int]:
    """Store and index; returns sender hash → conversation id."""
    with factory() as session:
        seed.write_conversations(session.get_bind(), conversations)
        refresh_index(session)
        return {row.sender_id: row.id for row in session.query(Conversation)}


def _found(session: Session, ids: dict[str, int], **filters: object) -> set[int]:
    page = search_conversations(session, Filters(**filters), per_page=200)
    assert page.total == len(page.rows)
    return {row.id for row in page.rows}


def _ids(ids: dict[str, int], conversations: list[seed.Conversation], positions: object) -> set[int]:
    return {ids[conversations[i].sender_hash] for i in positions}


def test_each_filter_returns_exactly_the_matching_conversations(factory: sessionmaker) -> None:
    people = cast()
    ids = _seed_and_index(factory, people)
    assert len(ids) == len(people)
    with factory() as session:
        for position, flags in EXPECTED_OUTCOMES.items():
            row = session.get(Conversation, ids[people[position].sender_hash])
            assert set(row.flags()) == flags, (position, people[position].kind)
        for outcome in index.FLAGS:
            expected = {i for i, flags in EXPECTED_OUTCOMES.items() if outcome in flags}
            assert _found(session, ids, outcome=outcome) == _ids(ids, people, expected), outcome
        for channel in index.CHANNELS:
            expected = {i for i, c in enumerate(people) if c.channel == channel}
            assert _found(session, ids, channel=channel) == _ids(ids, people, expected), channel
        assert _found(session, ids, intent="request_human") == _ids(ids, people, [3])
        assert _found(session, ids, intent="inform") == _ids(ids, people, [0, 4, 5, 6])
        assert _found(session, ids, intent="cancel") == _ids(ids, people, [4])
        assert _found(session, ids, max_confidence=0.45) == _ids(ids, people, [2, 7])
        assert _found(session, ids, max_confidence=0.62) == _ids(ids, people, [0, 2, 6, 7])
        # local dates, both ends inclusive
        assert _found(session, ids, date_from=FIRST_DAY + timedelta(days=3), date_to=FIRST_DAY + timedelta(days=5)) \
            == _ids(ids, people, [3, 4, 5])
        assert _found(session, ids, date_from=FIRST_DAY + timedelta(days=9)) == _ids(ids, people, [9])
        assert _found(session, ids, date_to=FIRST_DAY) == _ids(ids, people, [0])
        # combined filters
        assert _found(session, ids, channel="wechat", outcome="completed") == _ids(ids, people, [0, 9])
        assert _found(session, ids, channel="rest", outcome="abandoned_form", intent="rent_subsidy_status") \
            == _ids(ids, people, [5])
        assert _found(session, ids, channel="telegram", outcome="handoff") == set()
        # paging: newest first, and the total is kept past the last page
        pages = [search_conversations(session, Filters(), page=n, per_page=4) for n in (1, 2, 3, 4)]
        assert [p.total for p in pages] == [10] * 4 and pages[0].pages == 3
        listed = [row.id for p in pages for row in p.rows]
        assert listed == [ids[c.sender_hash] for c in reversed(people)]
        assert pages[3].rows == []


def test_review_status_and_tag_filters(factory: sessionmaker) -> None:
    people = cast()
    ids = _seed_and_index(factory, people)
    with factory() as session:
        for position in (2, 5):
            set_review_status(session, session.get(Conversation, ids[people[position].sender_hash]), "reviewed", "op")
        add_tag(session, ids[people[2].sender_hash], "  意图 错误 ", "op")
        add_tag(session, ids[people[6].sender_hash], "意图  错误", "op")
        add_tag(session, ids[people[6].sender_hash], "ＶＩＰ", "op")  # full-width folds to "vip"
        session.commit()
        assert _found(session, ids, review_status="reviewed") == _ids(ids, people, [2, 5])
        assert _found(session, ids, review_status="unreviewed") == _ids(ids, people, set(range(10)) - {2, 5})
        assert _found(session, ids, tag="意图 错误") == _ids(ids, people, [2, 6])
        assert _found(session, ids, tag="VIP") == _ids(ids, people, [6])
        assert _found(session, ids, tag="意图 错误", review_status="reviewed") == _ids(ids, people, [2])
        page = search_conversations(session, Filters(tag="vip"))
        assert page.tags == {ids[people[6].sender_hash]: ["vip", "意图 错误"]}


def _all_text(session: Session, conversation_id: int) -> str:
    row = session.get(Conversation, conversation_id)
    return " ".join(
        str(event.get("text") or "")
        for _, event in index.conversation_events(session, row)
        if event.get("event") in ("user", "bot")
    )


def test_chinese_full_text_search_over_masked_user_and_bot_texts(factory: sessionmaker) -> None:
    people = cast()
    ids = _seed_and_index(factory, people)
    with factory() as session:
        texts = {cid: _all_text(session, cid) for cid in ids.values()}
        for query in ("租房补贴", "入境管控措施", "口岸", "招聘会", "补", "验证码", "转人工", "身份证号", "陈*"):
            wanted = index.query_tokens(query)
            expected = {cid for cid, text in texts.items() if all(token in text for token in wanted)}
            assert expected, query  # every query finds something in this cast
            assert _found(session, ids, q=query) == expected, query
        # the user's own words, whichever conversation they are in
        entry = people[1]
        country = next(e["value"] for e in entry.events if e.get("event") == "slot" and e["name"] == "country_region")
        assert ids[entry.sender_hash] in _found(session, ids, q=country)
        # a reference number by its first digits (ASCII words match as prefixes), case-insensitive
        reference = next(e["value"]["reference"] for e in people[0].events
                         if e.get("event") == "slot" and e["name"] == "transaction_result")
        assert _found(session, ids, q=reference[:8].lower()) == _ids(ids, people, [0])
        # full-width and mixed queries normalise like the texts
        assert _found(session, ids, q="ＺＦ2026") == _ids(ids, people, [0])
        # raw personal values were masked before storage: not findable
        for raw in ("陈晓", "330106199503140023", "13800000001", "林悦"):
            assert _found(session, ids, q=raw) == set(), raw
        assert _found(session, ids, q="日本签证美国") == set()
        # with a text query the total comes with the page; past the last page it is still right
        matching = _found(session, ids, q="租房补贴")
        pages = [search_conversations(session, Filters(q="租房补贴"), page=n, per_page=1) for n in (1, 20)]
        assert [p.total for p in pages] == [len(matching)] * 2 and pages[1].rows == []
        assert _found(session, ids, q="  ") == set(ids.values())  # no tokens: no text condition
        assert _found(session, ids, q="租房补贴", outcome="completed") == _ids(ids, people, [0, 7]) & {
            cid for cid, text in texts.items() if "租房" in text and "补贴" in text
        }


def _snapshot(session: Session) -> tuple[list, list, list]:
    conversations = [
        tuple(getattr(row, column.name) for column in Conversation.__table__.columns)
        for row in session.query(Conversation).order_by(Conversation.id)
    ]
    intents = sorted(session.execute(sa.select(ConversationIntent.conversation_id, ConversationIntent.intent)).all())
    tokens = sorted(
        (cid, tuple(sorted(text.split()))) for cid, text in session.execute(sa.select(SearchText.__table__))
    )
    return conversations, intents, tokens


def test_incremental_refreshes_equal_one_full_build(factory: sessionmaker, tmp_path: Path) -> None:
    people = cast()
    rows = seed.masked_rows(people)
    with factory() as session:
        engine = session.get_bind()
        counts = []
        for start in range(0, len(rows), 37):  # slices cut conversations (and turns) in the middle
            with engine.begin() as connection:
                connection.execute(ConversationEvent.__table__.insert(), rows[start : start + 37])
            counts.append(refresh_index(session, batch_size=16))
            assert refresh_index(session) == 0  # nothing new: nothing read, nothing changed
        assert sum(counts) == len(rows)
        incremental = _snapshot(session)
    full_engine = make_engine(f"sqlite:///{tmp_path / 'full.db'}")
    init_db(full_engine)
    with session_factory(full_engine)() as session:
        with full_engine.begin() as connection:
            connection.execute(ConversationEvent.__table__.insert(), rows)
        refresh_index(session)
        assert _snapshot(session) == incremental
    full_engine.dispose()
    assert len(incremental[0]) == len(people)


def test_a_new_session_of_the_same_sender_is_a_new_conversation(factory: sessionmaker) -> None:
    rng = random.Random(3)
    first = seed.entry_control_query(rng, time.time() - 2 * 3600, "wechat")
    second = seed.handoff(rng, time.time() - 600, "wechat")
    for event in second.events:
        event["sender_id"] = first.sender
    with factory() as session:
        seed.write_conversations(session.get_bind(), [first, second])
        refresh_index(session)
        rows = session.query(Conversation).order_by(Conversation.id).all()
        assert [r.sender_id for r in rows] == [first.sender_hash] * 2
        assert [r.intent_list for r in rows] == [["entry_control_query"], ["request_human"]]
        assert [r.flags() for r in rows] == [["completed"], ["handoff"]]
        assert rows[1].turns == 2 and rows[0].turns == 1
        # each conversation's events stop where the next one starts
        events = [index.conversation_events(session, r) for r in rows]
        assert len(events[0]) + len(events[1]) == len(first.events) + len(second.events)
        assert index.latest_conversation(session, first.sender_hash).id == rows[1].id
        assert index.conversation_of_event(session, first.sender_hash, rows[1].id - 1).id == rows[0].id


def test_abandoned_forms_cancelled_or_left_open_for_30_minutes(factory: sessionmaker) -> None:
    now = time.time()
    rng = random.Random(5)
    open_form = seed.abandoned_form(rng, now - 300, "webchat", cancel=False)
    cancelled = seed.abandoned_form(rng, now - 300, "webchat", cancel=True)
    submitted = seed.rent_subsidy_completed(rng, now - 600, "webchat")
    with factory() as session:
        seed.write_conversations(session.get_bind(), [open_form, cancelled, submitted])
        refresh_index(session)
        rows = {c.kind + str(i): index.latest_conversation(session, c.sender_hash)
                for i, c in enumerate([open_form, cancelled, submitted])}
        assert rows["abandoned_form0"].open_form == "rent_status_form"
        assert rows["abandoned_form0"].flags(now) == []  # the citizen may still answer
        assert rows["abandoned_form1"].flags(now) == ["abandoned_form"]  # cancelled: at once
        assert rows["rent_subsidy_completed2"].flags(now) == ["completed"]  # submitted by its action
        assert rows["rent_subsidy_completed2"].open_form is None

        def abandoned(at: float) -> set[int]:
            page = search_conversations(session, Filters(outcome="abandoned_form"), now=at)
            return {r.id for r in page.rows}

        assert abandoned(now) == {rows["abandoned_form1"].id}
        later = now + 31 * 60
        assert rows["abandoned_form0"].flags(later) == ["abandoned_form"]
        assert abandoned(later) == {rows["abandoned_form0"].id, rows["abandoned_form1"].id}


def test_a_form_ended_without_its_submit_action_is_abandoned(factory: sessionmaker) -> None:
    """Handing over to a person in the middle of a form ends the form without submitting it."""
    now = time.time()
    c = seed._new("handoff_in_form", random.Random(8), now - 200, "telegram")
    c.user("我要申请租房补贴", "rent_subsidy_apply", 0.95).action("rent_subsidy_form").loop("rent_subsidy_form")
    c.ask("person_name", "请问您的姓名是？")
    c.user("转人工", "request_human", 0.97).action("action_request_human")
    c.bot("好的，已为您登记转人工服务请求。").slot("handoff_requested", True).loop(None).listen()
    with factory() as session:
        seed.write_conversations(session.get_bind(), [c])
        refresh_index(session)
        row = session.query(Conversation).one()
        assert row.flags(now) == ["handoff", "abandoned_form"]
        assert row.open_form is None


def test_rows_committed_late_are_indexed(factory: sessionmaker) -> None:
    """PostgreSQL with several writers commits ids out of order: a skipped id is picked up later."""
    conversation = seed.handoff(random.Random(9), time.time() - 300, "rest")
    rows = [{**row, "id": i + 1} for i, row in enumerate(seed.masked_rows([conversation]))]
    late = next(i for i, row in enumerate(rows) if row["type_name"] == "user" and i > 5)
    table = ConversationEvent.__table__
    with factory() as session:
        engine = session.get_bind()
        with engine.begin() as connection:
            connection.execute(table.insert(), rows[:3])
        refresh_index(session)
        with engine.begin() as connection:
            connection.execute(table.insert(), rows[3:late] + rows[late + 1 :])
        refresh_index(session)
        assert session.query(Conversation).one().turns == 1
        with engine.begin() as connection:
            connection.execute(table.insert(), [rows[late]])
        refresh_index(session)
        session.expire_all()
        row = session.query(Conversation).one()
        assert row.turns == 2 and row.events == len(rows)


def test_purge_deletes_old_events_and_emptied_conversations(factory: sessionmaker) -> None:
    now = time.time()
    rng = random.Random(11)
    old = seed.handoff(rng, now - 200 * DAY, "rest")
    kept = seed.entry_control_query(rng, now - 10 * DAY, "webchat")
    with factory() as session:
        seed.write_conversations(session.get_bind(), [old, kept])
        refresh_index(session)
        old_id = index.latest_conversation(session, old.sender_hash).id
        add_tag(session, old_id, "投诉", "op")
        session.commit()
        result = purge(session, 180, now=now)
        session.commit()
        assert result.events == len(old.events) and result.conversations == 1
        assert session.get(Conversation, old_id) is None
        assert search_conversations(session, Filters(tag="投诉")).total == 0
        assert search_conversations(session, Filters(q="转人工")).total == 0
        remaining = search_conversations(session, Filters())
        assert [r.sender_id for r in remaining.rows] == [kept.sender_hash]
        assert session.query(ConversationEvent).count() == len(kept.events)
