"""Reviewing conversations: review status, tags, message flags, intent/entity corrections and their exports.

Corrections are stored here and exported as files for a reviewed change to the training data (Rasa NLU YAML,
and a conversation as a Rasa test story); nothing is ever written into nlu/ or stories/. Every text here is
the masked text of the log: an operator can annotate it but not change it.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from bot.masking import mask_text
from console import domain
from console.db import Base
from console.index import Conversation, conversation_events

MAX_TAG = 32
MAX_NOTE = 500


class ReviewError(ValueError):
    """A review action that cannot be done; the message is for the operator (Chinese)."""


class ConversationTag(Base):
    __tablename__ = "console_conversation_tags"
    conversation_id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    tag = sa.Column(sa.String(MAX_TAG), primary_key=True)
    created_by = sa.Column(sa.String(64))
    created_at = sa.Column(sa.Float, nullable=False)


sa.Index("ix_console_conversation_tags_tag", ConversationTag.tag, ConversationTag.conversation_id)


class MessageFlag(Base):
    """An operator's flag on one message (an event of the log), with an optional note."""

    __tablename__ = "console_message_flags"
    event_id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    conversation_id = sa.Column(sa.Integer, nullable=False, index=True)
    event_timestamp = sa.Column(sa.Float)  # for retention
    note = sa.Column(sa.String(MAX_NOTE), nullable=False, default="")
    created_by = sa.Column(sa.String(64))
    created_at = sa.Column(sa.Float, nullable=False)


class Correction(Base):
    """The intent and entities a user message should have had (its masked text, annotated)."""

    __tablename__ = "console_corrections"
    event_id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    conversation_id = sa.Column(sa.Integer, nullable=False, index=True)
    event_timestamp = sa.Column(sa.Float)
    text = sa.Column(sa.Text, nullable=False)  # the masked text as stored in the log
    predicted_intent = sa.Column(sa.String(255))
    intent = sa.Column(sa.String(255), nullable=False)
    entities = sa.Column(sa.Text, nullable=False, default="[]")  # JSON [{start, end, value, entity}]
    created_by = sa.Column(sa.String(64))
    updated_at = sa.Column(sa.Float, nullable=False)

    @property
    def entity_list(self) -> list[dict[str, Any]]:
        return json.loads(self.entities or "[]")

    @property
    def annotated(self) -> str:
        return annotate(self.text, self.entity_list)


# ----------------------------------------------------------------------------------------------------
# Review status and tags


def set_review_status(session: Session, conversation: Conversation, status: str, username: str) -> None:
    if status not in ("unreviewed", "reviewed"):
        raise ReviewError("审核状态无效。")
    values = {"review_status": status, "reviewed_by": username if status == "reviewed" else None,
              "reviewed_at": time.time() if status == "reviewed" else None}
    session.execute(sa.update(Conversation).where(Conversation.id == conversation.id).values(**values))
    for key, value in values.items():
        setattr(conversation, key, value)


def normalise_tag(raw: str) -> str:
    """Tags are free text, normalised: full-width folded (NFKC), lower-case, spaces collapsed, at most 32 chars,
    and masked (an operator may type a citizen's phone number into a tag: the console keeps nothing raw)."""
    text = unicodedata.normalize("NFKC", raw or "").lower()
    text = re.sub(r"[\s,，;；#]+", " ", text).strip()
    return mask_text(text[:MAX_TAG].strip())


def add_tag(session: Session, conversation_id: int, raw: str, username: str) -> str:
    tag = normalise_tag(raw)
    if not tag:
        raise ReviewError("标签不能为空，请输入标签内容（最多 32 个字）。")
    exists = session.get(ConversationTag, (conversation_id, tag))
    if exists is None:
        session.add(ConversationTag(conversation_id=conversation_id, tag=tag, created_by=username,
                                    created_at=time.time()))
        session.flush()
    return tag


def remove_tag(session: Session, conversation_id: int, raw: str) -> None:
    session.execute(
        sa.delete(ConversationTag).where(
            ConversationTag.conversation_id == conversation_id, ConversationTag.tag == normalise_tag(raw)
        )
    )


def tags_of(session: Session, conversation_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    if conversation_ids:
        query = (
            sa.select(ConversationTag.conversation_id, ConversationTag.tag)
            .where(ConversationTag.conversation_id.in_(list(conversation_ids)))
            .order_by(ConversationTag.tag)
        )
        for conversation_id, tag in session.execute(query):
            out[conversation_id].append(tag)
    return dict(out)


def all_tags(session: Session, limit: int = 200) -> list[str]:
    """The most used tags (for suggestions)."""
    query = (
        sa.select(ConversationTag.tag)
        .group_by(ConversationTag.tag)
        .order_by(sa.func.count().desc(), ConversationTag.tag)
        .limit(limit)
    )
    return [tag for (tag,) in session.execute(query)]


# ----------------------------------------------------------------------------------------------------
# Messages: flags and corrections


def _message(session: Session, conversation: Conversation, event_id: int, user_only: bool) -> dict[str, Any]:
    """The masked event `event_id` of this conversation."""
    for row_id, event in conversation_events(session, conversation):
        if row_id == event_id:
            if user_only and event.get("event") != "user":
                raise ReviewError("只能更正用户消息的意图和实体。")
            return event
    raise ReviewError("该消息不属于此会话，或已被删除。")


def flag_message(session: Session, conversation: Conversation, event_id: int, note: str, username: str) -> None:
    event = _message(session, conversation, event_id, user_only=False)
    flag = session.get(MessageFlag, event_id) or MessageFlag(event_id=event_id, conversation_id=conversation.id)
    flag.note = mask_text((note or "").strip()[:MAX_NOTE])  # typed by an operator: masked like the log
    flag.event_timestamp = event.get("timestamp")
    flag.created_by = username
    flag.created_at = time.time()
    session.add(flag)
    session.flush()


def unflag_message(session: Session, conversation: Conversation, event_id: int) -> None:
    session.execute(
        sa.delete(MessageFlag).where(MessageFlag.event_id == event_id, MessageFlag.conversation_id == conversation.id)
    )


def flags_of(session: Session, conversation_id: int) -> dict[int, MessageFlag]:
    rows = session.query(MessageFlag).filter(MessageFlag.conversation_id == conversation_id)
    return {flag.event_id: flag for flag in rows}


def corrections_of(session: Session, conversation_id: int) -> dict[int, Correction]:
    rows = session.query(Correction).filter(Correction.conversation_id == conversation_id)
    return {correction.event_id: correction for correction in rows}


_ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]+)\]\((?P<entity>[^()]*)\)")
_ENTITY_NAME = re.compile(r"[a-z][a-z0-9_]*")


def parse_annotated(annotated: str) -> tuple[str, list[dict[str, Any]]]:
    """"查[日本](country_region)的政策" → ("查日本的政策", [{start: 1, end: 3, value: "日本", entity: …}])."""
    plain, entities, position = [], [], 0
    for match in _ANNOTATION.finditer(annotated):
        plain.append(annotated[position : match.start()])
        start = sum(map(len, plain))
        entity = match.group("entity").strip()
        if not _ENTITY_NAME.fullmatch(entity):
            raise ReviewError(f"实体名“{entity[:30]}”格式不正确，应写作 [文字](实体名)，例如 [日本](country_region)。")
        value = match.group("text")
        plain.append(value)
        entities.append({"start": start, "end": start + len(value), "value": value, "entity": entity})
        position = match.end()
    plain.append(annotated[position:])
    return "".join(plain), entities


def annotate(text: str, entities: Sequence[dict[str, Any]]) -> str:
    """The text with Rasa entity markup; brackets of the text itself become full-width so they stay text."""
    def clean(part: str) -> str:
        return part.replace("[", "［").replace("]", "］")

    spans = sorted(
        (e for e in entities if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)),
        key=lambda e: e["start"],
    )
    out, position = [], 0
    for entity in spans:
        start, end = entity["start"], entity["end"]
        if start < position or not 0 <= start < end <= len(text):
            continue  # overlapping or out of range: shown without markup
        out.append(clean(text[position:start]))
        out.append(f"[{clean(text[start:end])}]({entity.get('entity')})")
        position = end
    out.append(clean(text[position:]))
    return "".join(out)


def correct_message(
    session: Session, conversation: Conversation, event_id: int, intent: str, annotated: str, username: str
) -> Correction:
    """Store what a user message should have been classified as. The annotated text must be the message's
    masked text plus entity markup; intent and entities must exist in the domain."""
    event = _message(session, conversation, event_id, user_only=True)
    text = str(event.get("text") or "")
    if not example_text(text) or example_text(text).startswith("/"):
        raise ReviewError("这条消息是按钮点击或空消息（不是用户输入的文字），无需更正，也不能作为训练样例。")
    intent = (intent or "").strip()
    if intent not in domain.trainable_intents():
        raise ReviewError(f"意图“{intent[:40]}”不在领域定义（domain/）中，请从列表中选择。")
    plain, entities = parse_annotated((annotated or "").strip() or text)
    if _comparable(plain) != _comparable(text):
        raise ReviewError("标注后的文字必须与原消息（已脱敏）一致，只能添加 [文字](实体名) 标注，不能修改内容。")
    known = set(domain.entities())
    unknown = sorted({e["entity"] for e in entities} - known)
    if unknown:
        names = "、".join(sorted(known))
        raise ReviewError(f"实体“{'、'.join(unknown)}”不在领域定义（domain/）中。可用的实体：{names}。")
    entities = _align(text, plain, entities)
    parse_data = event.get("parse_data") or {}
    correction = session.get(Correction, event_id) or Correction(event_id=event_id, conversation_id=conversation.id)
    correction.event_timestamp = event.get("timestamp")
    correction.text = text
    correction.predicted_intent = (parse_data.get("intent") or {}).get("name")
    correction.intent = intent
    correction.entities = json.dumps(entities, ensure_ascii=False)
    correction.created_by = username
    correction.updated_at = time.time()
    session.add(correction)
    session.flush()
    return correction


def _comparable(text: str) -> str:
    """Full-width brackets of an exported/prefilled text compare equal to the original ones."""
    return text.replace("［", "[").replace("］", "]").strip()


def _align(text: str, plain: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entity spans on the stored text (the operator's copy may differ in surrounding whitespace only)."""
    offset = len(plain) - len(plain.lstrip()) - (len(text) - len(text.lstrip()))
    out = []
    for entity in entities:
        start, end = entity["start"] - offset, entity["end"] - offset
        out.append({**entity, "start": start, "end": end, "value": text[start:end]})
    return out


def delete_corrections(session: Session, conversation: Conversation, event_id: int) -> None:
    session.execute(
        sa.delete(Correction).where(Correction.event_id == event_id, Correction.conversation_id == conversation.id)
    )


# ----------------------------------------------------------------------------------------------------
# Exports


@dataclass
class Export:
    filename: str
    content: str
    count: int


# Characters that end a line for YAML or for Python's str.splitlines() (which Rasa's reader splits a block of
# examples with: NEL U+0085, U+2028, U+2029, VT, FF, FS/GS/RS …), or that YAML refuses to read at all (control
# characters, lone surrogates, the non-characters U+FFFE/U+FFFF; a BOM is only allowed at the start): in citizen
# text each run of them becomes one space. Everything else is printable in YAML and left as the citizen wrote it.
_NOT_IN_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]+")


def example_text(text: str) -> str:
    """The citizen's text as one line of training data: line breaks and unreadable characters become single
    spaces, surrounding spaces go (Rasa strips them too). Nothing else changes."""
    return _NOT_IN_ONE_LINE.sub(" ", text).strip()


def _example(text: str, entities: list[dict[str, Any]]) -> str:
    """One example line, with entity markup (brackets of the text itself are written full-width by `annotate`,
    so citizen text can never be read as markup)."""
    return example_text(annotate(text, entities))


def _yaml_key(name: str) -> str:
    """An intent name as a YAML scalar: plain when it is a plain name (always, for names from domain/)."""
    return name if re.fullmatch(r"[A-Za-z0-9_]+", name) else json.dumps(name, ensure_ascii=False)


def corrections_export(session: Session) -> Export:
    """Corrections of reviewed conversations as Rasa NLU training data (YAML, version 3.1)."""
    query = (
        session.query(Correction)
        .join(Conversation, Conversation.id == Correction.conversation_id)
        .filter(Conversation.review_status == "reviewed")
        .order_by(Correction.intent, Correction.event_id)
    )
    by_intent: dict[str, list[str]] = defaultdict(list)
    count = 0
    for correction in query:
        example = _example(correction.text, correction.entity_list)
        if example and example not in by_intent[correction.intent]:
            by_intent[correction.intent].append(example)
            count += 1
    lines = [  # the Chinese header also keeps the file non-ASCII: Rasa decodes escapes in ASCII-only YAML
        "# 运营后台导出的意图/实体更正（来自已审核会话，文本已脱敏）。",
        "# 请在合并到训练数据前人工复核；本文件不会自动写入训练数据。",
        'version: "3.1"',
        "nlu:" if by_intent else "nlu: []",
    ]
    for intent in sorted(by_intent):
        lines += [f"- intent: {_yaml_key(intent)}", "  examples: |"]
        lines += [f"    - {example}" for example in by_intent[intent]]
    return Export("nlu_corrections.yml", "\n".join(lines) + "\n", count)


_SKIPPED_ACTIONS = frozenset({"action_listen", "action_session_start"})


def story_export(session: Session, conversation: Conversation) -> Export:
    """One conversation as a Rasa test story (corrected intents and entities where an operator gave them)."""
    corrections = corrections_of(session, conversation.id)
    steps: list[dict[str, Any]] = []
    for event_id, event in conversation_events(session, conversation):
        kind = event.get("event")
        if kind == "user":
            correction = corrections.get(event_id)
            if correction is not None:
                text, intent, entities = correction.text, correction.intent, correction.entity_list
            else:
                parse_data = event.get("parse_data") or {}
                text = str(event.get("text") or "")
                intent = (parse_data.get("intent") or {}).get("name") or "nlu_fallback"
                entities = [e for e in parse_data.get("entities") or event.get("entities") or []
                            if e.get("entity") in set(domain.entities())]
            steps.append({"user": _example(text, entities) or " ", "intent": intent})
        elif kind == "action" and event.get("name") and event["name"] not in _SKIPPED_ACTIONS:
            steps.append({"action": event["name"]})
        elif kind == "active_loop":
            steps.append({"active_loop": event.get("name")})
    story = {"story": f"会话 {conversation.id} 的测试故事（运营后台导出，已脱敏）", "steps": steps}
    header = (
        "# 运营后台导出的测试故事：用户消息已脱敏，意图和实体已按人工更正调整。\n"
        "# 放入 tests/ 目录后运行 rasa test core；不会自动写入训练数据。\n"
    )
    body = yaml.safe_dump({"version": "3.1", "stories": [story]}, allow_unicode=True, sort_keys=False, width=1000)
    return Export(f"test_conversation_{conversation.id}.yml", header + body, len(steps))


# ----------------------------------------------------------------------------------------------------
# Retention


def delete_review_data(session: Session, conversation_ids: Sequence[int], before: float | None = None) -> None:
    """Remove review rows of deleted conversations, and flags/corrections of messages older than `before`."""
    ids = list(conversation_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for table in (ConversationTag, MessageFlag, Correction):
            session.execute(sa.delete(table).where(table.conversation_id.in_(chunk)))
    if before is not None:
        for table in (MessageFlag, Correction):
            session.execute(sa.delete(table).where(table.event_timestamp < before))
