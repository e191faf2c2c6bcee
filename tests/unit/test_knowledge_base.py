"""The policy knowledge base: its data is complete and sourced, and a citizen's question gets the right entry, the
closest questions, or an honest "I don't know" (never an unrelated answer)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from actions.knowledge_base import ANSWER_THRESHOLD, SUGGEST_THRESHOLD, knowledge_base, load_entries
from actions.policy_questions import ActionAnswerPolicy
from tests.unit.conftest import tracker
from tests.unit.rendering import run

TOPICS = {
    "rent_subsidy", "entry_exit", "graduates", "health_code", "work_resumption", "vehicle_transfer", "tax", "courts",
    "general",
}


def test_the_knowledge_base_covers_every_topic_with_sourced_entries() -> None:
    entries = load_entries()
    assert len(entries) >= 300
    assert {entry.topic for entry in entries} == TOPICS
    assert len({entry.id for entry in entries}) == len(entries)
    for entry in entries:
        assert entry.source.issuer and entry.source.title, entry.id
        assert date(1990, 1, 1) <= entry.source.date <= date(2026, 12, 31), entry.id
        assert 30 <= len(entry.answer) <= 300, entry.id
        assert len(entry.alternatives) >= 3, entry.id
        assert not re.search(r"[*#`]|\]\(", entry.answer), entry.id  # plain text: chat channels show no markdown


def test_no_phrasing_belongs_to_two_entries() -> None:
    counts = Counter(phrasing for entry in load_entries() for phrasing in entry.phrasings)
    assert [phrasing for phrasing, count in counts.items() if count > 1] == []


def test_every_entry_is_found_by_its_own_question() -> None:
    """An entry whose own question finds another entry is unreachable or contradicts that one."""
    kb = knowledge_base()
    lost = [(entry.id, kb.search(entry.question, limit=1)[0].entry.id) for entry in kb.entries
            if kb.search(entry.question, limit=1)[0].entry.id != entry.id]
    assert lost == []


@pytest.mark.parametrize("question", [
    "我家小区的垃圾分类怎么投放",
    "医保卡里的钱能给家人用吗",
    "今天杭州天气怎么样",
    "asdfgh",
])
def test_questions_outside_the_knowledge_base_are_not_answered(question: str) -> None:
    found = knowledge_base().search(question, limit=1)
    assert not found or found[0].score < ANSWER_THRESHOLD


def test_thresholds_are_ordered() -> None:
    assert SUGGEST_THRESHOLD < ANSWER_THRESHOLD


async def test_an_answer_shows_its_source_and_date(domain: dict) -> None:
    entry = next(entry for entry in knowledge_base().entries if entry.topic == "tax")
    outcome = await run(ActionAnswerPolicy(), tracker(text=entry.question, intent="policy_question"), domain)
    text = outcome.messages[0]["text"]
    assert entry.answer in text and f"依据：{entry.source.citation}，{entry.source.date.year}年" in text


async def test_a_suggestion_button_answers_that_entry(domain: dict) -> None:
    entry = knowledge_base().entries[7]
    chosen = [{"entity": "policy_entry", "value": entry.id}]
    outcome = await run(
        ActionAnswerPolicy(), tracker(text="/policy_question", intent="policy_question", entities=chosen), domain
    )
    assert entry.answer in outcome.messages[0]["text"]


async def test_an_unknown_question_is_answered_honestly_with_where_to_ask(domain: dict) -> None:
    outcome = await run(ActionAnswerPolicy(), tracker(text="宠物狗办证要多少钱", intent="policy_question"), domain)
    text = outcome.messages[0]["text"]
    assert "12345" in text and "依据：" not in text  # no answer: at most the closest questions, to choose from
