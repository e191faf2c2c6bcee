"""The conversation index: one row per conversation, built incrementally from the masked conversation log.

A conversation is one sender's session: `action_session_start` / `session_started` begin a new one. Its id is
the id of its first `conversation_events` row (stable, unique, no allocation needed), its events are the
sender's rows with ids from there up to `last_event_id`.

The log's one reader (console/projection.py) hands new rows, in id order, to `apply_rows`, which updates channel,
times, turns, intents, the lowest NLU confidence, outcome flags and the search tokens; rows committed late (with
ids below rows already read) come the same way and update the conversation they belong to. `refresh_index(session)`
runs that reader.

Outcomes: completed / service_error from slot `transaction_result` (bot.names.TRANSACTION_RESULT_SLOT),
fallback (nlu_fallback or action_default_fallback), handoff (action_request_human), abandoned form (a form became
active and ended without its submit action, or is still active with no activity for 30 minutes). Automatic flags
are the outcomes plus low confidence (< 0.5).

Full-text search over the masked user and bot texts is portable: texts become CJK unigrams + bigrams and
lower-case ASCII words, stored space-separated in `console_search_text`; SQLite indexes them with an FTS5
table, PostgreSQL with a GIN index on to_tsvector('simple', tokens) (both made by the migrations,
bot/log_migrations/baseline.py). A query matches when all its tokens do.
"""

from __future__ import annotations

import functools
import json
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from bot.clock import CHINA_TZ
from bot.conversation_log import ConversationEvent
from bot.names import CHANNEL_LABELS, TRANSACTION_RESULT_SLOT
from console.db import Base, insert_ignore
from console.turns import is_external

if TYPE_CHECKING:
    from console.projection import LogRow

TIMEZONE = CHINA_TZ  # the console's days, times and ranges are China time
LOW_CONFIDENCE = 0.5
STALE_FORM_SECONDS = 30 * 60
BATCH_EVENTS = 20_000
STORIES_DIR = Path(__file__).resolve().parents[1] / "stories"

OUTCOMES = ("completed", "fallback", "handoff", "abandoned_form", "service_error")
FLAGS = (*OUTCOMES, "low_confidence")
FLAG_LABELS = {
    "completed": "办理成功",
    "fallback": "未能理解",
    "handoff": "转人工",
    "abandoned_form": "表单中断",
    "service_error": "服务异常",
    "low_confidence": "低置信度",
}
REVIEW_STATUSES = ("unreviewed", "reviewed")
REVIEW_LABELS = {"unreviewed": "待审核", "reviewed": "已审核"}
CHANNELS = tuple(CHANNEL_LABELS)

SESSION_START_ACTION = "action_session_start"
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_default_fallback"
HANDOFF_ACTION = "action_request_human"
# Used when the stories folder cannot be read (the rules are the source of truth, see submit_actions).
KNOWN_SUBMIT_ACTIONS = {
    "rent_subsidy_form": {"action_submit_rent_subsidy"},
    "rent_status_form": {"action_rent_subsidy_status"},
    "entry_control_form": {"action_entry_control_answer"},
    "port_status_form": {"action_port_status_answer"},
    "job_fair_registration_form": {"action_submit_job_fair_registration"},
    "job_registrations_form": {"action_list_job_fair_registrations"},
    "health_code_apply_form": {"action_submit_health_code"},
    "health_code_query_form": {"action_health_code_query"},
    "health_code_check_in_form": {"action_submit_health_check_in"},
    "health_code_appeal_form": {"action_submit_health_code_appeal"},
    "work_resumption_form": {"action_submit_work_resumption"},
    "work_resumption_status_form": {"action_work_resumption_status"},
    "vehicle_transfer_form": {"action_submit_vehicle_transfer"},
    "vehicle_transfer_status_form": {"action_vehicle_transfer_status"},
    "tax_obligations_form": {"action_tax_obligations"},
    "tax_deferral_form": {"action_submit_tax_deferral"},
    "tax_surcharge_form": {"action_tax_surcharge"},
    "court_case_form": {"action_court_cases"},
    "court_hearing_form": {"action_court_hearing"},
    "mediation_sign_form": {"action_sign_mediation"},
}


# ----------------------------------------------------------------------------------------------------
# Tables


class Conversation(Base):
    __tablename__ = "console_conversations"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)  # = its first event's id
    sender_id = sa.Column(sa.String(64), nullable=False)
    last_event_id = sa.Column(sa.Integer, nullable=False)
    channel = sa.Column(sa.String(32))
    started_at = sa.Column(sa.Float, nullable=False)
    last_at = sa.Column(sa.Float, nullable=False)
    turns = sa.Column(sa.Integer, nullable=False, default=0)  # user messages
    events = sa.Column(sa.Integer, nullable=False, default=0)
    intents = sa.Column(sa.Text, nullable=False, default="")  # comma-separated, in order of first appearance
    min_confidence = sa.Column(sa.Float)
    completed = sa.Column(sa.Boolean, nullable=False, default=False)
    fallback = sa.Column(sa.Boolean, nullable=False, default=False)
    handoff = sa.Column(sa.Boolean, nullable=False, default=False)
    abandoned_form = sa.Column(sa.Boolean, nullable=False, default=False)
    service_error = sa.Column(sa.Boolean, nullable=False, default=False)
    open_form = sa.Column(sa.String(255))  # the active form, or one that ended and waits for its submit action
    form_closed = sa.Column(sa.Boolean, nullable=False, default=False)  # open_form ended: submit action next
    last_action = sa.Column(sa.String(255))
    review_status = sa.Column(sa.String(16), nullable=False, default="unreviewed")
    reviewed_by = sa.Column(sa.String(64))
    reviewed_at = sa.Column(sa.Float)

    @property
    def low_confidence(self) -> bool:
        return self.min_confidence is not None and self.min_confidence < LOW_CONFIDENCE

    def is_abandoned(self, now: float | None = None) -> bool:
        stale = self.open_form is not None and self.last_at < (now or time.time()) - STALE_FORM_SECONDS
        return bool(self.abandoned_form) or stale

    def flags(self, now: float | None = None) -> list[str]:
        """The automatic flags, in FLAGS order."""
        found = {name for name in ("completed", "fallback", "handoff", "service_error") if getattr(self, name)}
        if self.is_abandoned(now):
            found.add("abandoned_form")
        if self.low_confidence:
            found.add("low_confidence")
        return [name for name in FLAGS if name in found]

    @property
    def intent_list(self) -> list[str]:
        return [name for name in (self.intents or "").split(",") if name]


sa.Index("ix_console_conversations_sender", Conversation.sender_id, Conversation.id)
sa.Index("ix_console_conversations_started", Conversation.started_at)
sa.Index("ix_console_conversations_channel", Conversation.channel, Conversation.started_at)
sa.Index("ix_console_conversations_review", Conversation.review_status, Conversation.started_at)


class ConversationIntent(Base):
    __tablename__ = "console_conversation_intents"
    conversation_id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    intent = sa.Column(sa.String(255), primary_key=True)


sa.Index("ix_console_conversation_intents_intent", ConversationIntent.intent, ConversationIntent.conversation_id)


class SearchText(Base):
    """Search tokens of a conversation's masked user and bot texts (see `text_tokens`). Its full-text index (FTS_TABLE
    and its triggers on SQLite, a GIN index on PostgreSQL) is made by the migrations: the model cannot declare it."""

    __tablename__ = "console_search_text"
    conversation_id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    tokens = sa.Column(sa.Text, nullable=False, default="")


FTS_TABLE = "console_search_fts"



# ----------------------------------------------------------------------------------------------------
# Search tokens

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RUN = re.compile(rf"[{_HAN}]+|[0-9a-z]+")
MAX_WORD = 40


def _runs(text: str) -> list[str]:
    return _TOKEN_RUN.findall(unicodedata.normalize("NFKC", text).lower())


@functools.lru_cache(maxsize=8192)  # bot replies repeat a lot
def text_tokens(text: str) -> frozenset[str]:
    """Index tokens of a text: every Han character and every pair of neighbours, and ASCII words/numbers."""
    tokens: set[str] = set()
    for run in _runs(text):
        if run[0] >= "\u3400":
            tokens.update(run)
            tokens.update(run[i : i + 2] for i in range(len(run) - 1))
        elif len(run) <= MAX_WORD:
            tokens.add(run)
    return frozenset(tokens)


def query_tokens(query: str) -> list[str]:
    """Tokens a search must all find: bigrams of each Han run (the character itself for a single one)."""
    tokens: list[str] = []
    for run in _runs(query):
        if run[0] >= "\u3400":
            tokens += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        else:
            tokens.append(run[:MAX_WORD])
    return list(dict.fromkeys(tokens))


# ----------------------------------------------------------------------------------------------------
# Forms and their submit actions


@functools.cache
def submit_actions() -> dict[str, frozenset[str]]:
    """form → the actions the rules run right after it completes (`active_loop: null` then `action: …`)."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted(STORIES_DIR.glob("*.yml")) if STORIES_DIR.is_dir() else []:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in content.get("rules") or []:
            steps = rule.get("steps") or []
            for index, step in enumerate(steps):
                if isinstance(step, dict) and "active_loop" in step and step["active_loop"] is None:
                    form = _form_before(steps[:index]) or _condition_form(rule)
                    action = next((s["action"] for s in steps[index + 1 :] if isinstance(s, dict) and "action" in s),
                                  None)
                    if form and action:
                        found[form].add(action)
    merged = {form: set(actions) for form, actions in KNOWN_SUBMIT_ACTIONS.items()}
    for form, actions in found.items():
        merged[form] = actions
    return {form: frozenset(actions) for form, actions in merged.items()}


def _form_before(steps: list[Any]) -> str | None:
    actions = [s["action"] for s in steps if isinstance(s, dict) and "action" in s]
    return actions[-1] if actions else None


def _condition_form(rule: dict[str, Any]) -> str | None:
    for step in rule.get("condition") or []:
        if isinstance(step, dict) and step.get("active_loop"):
            return step["active_loop"]
    return None


# ----------------------------------------------------------------------------------------------------
# Building the index


@dataclass
class _State:
    """A conversation while events are applied to it (mirrors the Conversation columns)."""

    id: int
    sender_id: str
    last_event_id: int
    started_at: float
    last_at: float
    channel: str | None = None
    turns: int = 0
    events: int = 0
    intents: str = ""
    min_confidence: float | None = None
    completed: bool = False
    fallback: bool = False
    handoff: bool = False
    abandoned_form: bool = False
    service_error: bool = False
    open_form: str | None = None
    form_closed: bool = False
    last_action: str | None = None
    # not columns:
    is_new: bool = field(default=True, repr=False)
    new_intents: list[str] = field(default_factory=list, repr=False)
    new_tokens: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def load(cls, row: Any) -> _State:
        """From a Core row of _STATE_COLUMNS (not ORM objects: the index writes with Core statements, so ORM
        copies in the caller's Session would go stale)."""
        return cls(**dict(row._mapping), is_new=False)

    def columns(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_COLUMNS}

    def abandon_form(self) -> None:
        if self.open_form:
            self.abandoned_form = True
        self.open_form, self.form_closed = None, False


_NOT_COLUMNS = frozenset({"is_new", "new_intents", "new_tokens"})
_STATE_COLUMNS = [Conversation.__table__.c[f.name] for f in fields(_State) if f.name not in _NOT_COLUMNS]


def _starts_session(row: LogRow) -> bool:
    return row.type_name == "session_started" or (row.type_name == "action" and row.action_name == SESSION_START_ACTION)


def _continues_start(state: _State, row: LogRow) -> bool:
    """`session_started` right after `action_session_start` belongs to the conversation that action began."""
    return row.type_name == "session_started" and state.events == 1 and state.last_action == SESSION_START_ACTION


def _apply(state: _State, row: LogRow) -> None:
    """Update one conversation with one event (events of a sender come in id order)."""
    state.last_event_id = max(state.last_event_id, row.id)
    state.last_at = max(state.last_at, row.timestamp or state.last_at)
    state.events += 1
    kind = row.type_name
    if kind == "user":
        if not is_external(row.intent_name):  # a progress notification the notifier triggered is not a turn
            _apply_user(state, row)
    elif kind == "action":
        _apply_action(state, row.action_name or "")
    elif kind == "slot":
        if row.data and f'"{TRANSACTION_RESULT_SLOT}"' in row.data:
            event = row.event()
            if event.get("name") == TRANSACTION_RESULT_SLOT and isinstance(event.get("value"), dict):
                status = event["value"].get("status")
                state.completed = state.completed or status == "completed"
                state.service_error = state.service_error or status == "error"
    elif kind == "active_loop":
        _apply_loop(state, row.event().get("name"))
    elif kind == "bot":
        state.new_tokens |= text_tokens(str(row.event().get("text") or ""))


def _apply_user(state: _State, row: LogRow) -> None:
    event = row.event()
    state.turns += 1
    if state.open_form and state.form_closed:  # the form ended and no submit action followed
        state.abandon_form()
    state.channel = state.channel or event.get("input_channel") or None
    intent = row.intent_name
    if intent:
        known = state.intents.split(",") if state.intents else []
        if intent not in known:
            state.intents = ",".join([*known, intent])
            state.new_intents.append(intent)
        state.fallback = state.fallback or intent == FALLBACK_INTENT
    if row.intent_confidence is not None:
        confidence = float(row.intent_confidence)
        state.min_confidence = confidence if state.min_confidence is None else min(state.min_confidence, confidence)
    state.new_tokens |= text_tokens(str(event.get("text") or ""))


def _apply_action(state: _State, name: str) -> None:
    if name == FALLBACK_ACTION:
        state.fallback = True
    elif name == HANDOFF_ACTION:
        state.handoff = True
    if state.open_form and state.form_closed:
        if name in submit_actions().get(state.open_form, ()):
            state.open_form, state.form_closed = None, False  # completed as the rules intend
        elif name == "action_listen":
            state.abandon_form()
    state.last_action = name


def _apply_loop(state: _State, form: str | None) -> None:
    if form:
        if state.open_form and state.open_form != form:
            state.abandon_form()  # another form took over before this one was submitted
        state.open_form, state.form_closed = form, False
    elif state.open_form and not state.form_closed:
        if state.last_action != state.open_form:
            state.abandon_form()  # ended by another action (cancel, handoff), not by filling its slots
        elif submit_actions().get(state.open_form):
            state.form_closed = True
        else:
            state.open_form = None  # a form without a submit action in the rules: done when filled


def refresh_index(session: Session, *, batch_size: int = BATCH_EVENTS, max_batches: int | None = None) -> int:
    """Read the conversation log's new rows (into the index and the takeover queue); returns how many were read.
    Commits after every batch."""
    from console.projection import refresh  # the projection imports this module

    return refresh(session, batch_size=batch_size, max_batches=max_batches).rows


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _latest_conversations(session: Session, senders: list[str]) -> dict[str, _State]:
    latest: dict[str, _State] = {}
    for chunk in _chunks(senders):
        newest = (
            sa.select(sa.func.max(Conversation.id))
            .where(Conversation.sender_id.in_(chunk))
            .group_by(Conversation.sender_id)
        )
        for row in session.execute(sa.select(*_STATE_COLUMNS).where(Conversation.id.in_(newest))):
            latest[row.sender_id] = _State.load(row)
    return latest


def _conversation_before(session: Session, sender: str, event_id: int) -> _State | None:
    query = (
        sa.select(*_STATE_COLUMNS)
        .where(Conversation.sender_id == sender, Conversation.id < event_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    row = session.execute(query).first()
    return _State.load(row) if row is not None else None


def _new_state(row: LogRow) -> _State:
    return _State(id=row.id, sender_id=row.sender_id, last_event_id=row.id, started_at=row.timestamp or 0.0,
                  last_at=row.timestamp or 0.0)


def apply_rows(session: Session, rows: list[LogRow]) -> None:
    """Index log rows handed over by the reader (console/projection.py): new ones and late ones, in id order."""
    by_sender: dict[str, list[LogRow]] = defaultdict(list)
    for row in rows:
        by_sender[row.sender_id].append(row)
    latest = _latest_conversations(session, list(by_sender))
    touched: dict[int, _State] = {}
    for sender, sender_rows in by_sender.items():
        current = latest.get(sender)
        for row in sender_rows:
            if current is not None and row.id < current.id:  # a late row of an earlier conversation
                earlier = _conversation_before(session, sender, row.id)
                if earlier is not None:
                    earlier = touched.setdefault(earlier.id, earlier)
                    _apply(earlier, row)
                continue
            if current is None or (_starts_session(row) and not _continues_start(current, row)):
                if current is not None:
                    current.abandon_form()  # the session ended with a form still open
                current = _new_state(row)
            touched[current.id] = current
            _apply(current, row)
    _write(session, list(touched.values()))


def _write(session: Session, states: list[_State]) -> None:
    new = [s for s in states if s.is_new]
    old = [s for s in states if not s.is_new]
    if new:
        session.execute(Conversation.__table__.insert(), [s.columns() for s in new])
    if old:
        table = Conversation.__table__
        names = [name for name in old[0].columns() if name != "id"]
        statement = table.update().where(table.c.id == sa.bindparam("_id")).values(
            {name: sa.bindparam(f"_{name}") for name in names}
        )
        session.execute(statement, [{f"_{k}": v for k, v in s.columns().items()} for s in old])
    intents = [{"conversation_id": s.id, "intent": i} for s in states for i in s.new_intents]
    if intents:
        session.execute(insert_ignore(session, ConversationIntent.__table__, ["conversation_id", "intent"]), intents)
    _write_tokens(session, [s for s in states if s.new_tokens])


def _write_tokens(session: Session, states: list[_State]) -> None:
    existing: dict[int, str] = {}
    old_ids = [s.id for s in states if not s.is_new]
    for chunk in _chunks(old_ids):
        query = sa.select(SearchText.conversation_id, SearchText.tokens).where(SearchText.conversation_id.in_(chunk))
        existing.update(dict(session.execute(query).all()))
    inserts, updates = [], []
    for s in states:
        if s.id in existing:
            merged = set(existing[s.id].split()) | s.new_tokens
            updates.append({"_id": s.id, "_tokens": " ".join(merged)})
        else:
            inserts.append({"conversation_id": s.id, "tokens": " ".join(s.new_tokens)})
    if inserts:
        session.execute(SearchText.__table__.insert(), inserts)
    if updates:
        table = SearchText.__table__
        statement = table.update().where(table.c.conversation_id == sa.bindparam("_id"))
        session.execute(statement.values(tokens=sa.bindparam("_tokens")), updates)


# ----------------------------------------------------------------------------------------------------
# Lookups (the list's filters and search are in console/search.py)


def get_conversation(session: Session, conversation_id: int) -> Conversation | None:
    return session.get(Conversation, conversation_id)


def conversation_of_event(session: Session, sender_id: str, event_id: int) -> Conversation | None:
    """The conversation a stored event belongs to (None until the index has seen its sender)."""
    return (
        session.query(Conversation)
        .filter(Conversation.sender_id == sender_id, Conversation.id <= event_id)
        .order_by(Conversation.id.desc())
        .first()
    )


def latest_conversation(session: Session, sender_id: str) -> Conversation | None:
    return (
        session.query(Conversation).filter(Conversation.sender_id == sender_id).order_by(Conversation.id.desc()).first()
    )


def conversation_events(session: Session, conversation: Conversation) -> list[tuple[int, dict[str, Any]]]:
    """(row id, masked event) of one conversation, in storage order."""
    next_start = (
        sa.select(sa.func.min(Conversation.id))
        .where(Conversation.sender_id == conversation.sender_id, Conversation.id > conversation.id)
        .scalar_subquery()
    )
    query = (
        sa.select(ConversationEvent.id, ConversationEvent.data)
        .where(
            ConversationEvent.sender_id == conversation.sender_id,
            ConversationEvent.id >= conversation.id,
            # up to the next conversation (the index may not have seen the newest rows yet)
            ConversationEvent.id < sa.func.coalesce(next_start, 2**31 - 1),
        )
        .order_by(ConversationEvent.id)
    )
    out = []
    for event_id, data in session.execute(query):
        try:
            event = json.loads(data or "{}")
        except ValueError:
            event = {}
        out.append((event_id, event if isinstance(event, dict) else {}))
    return out


def delete_conversations(session: Session, ids: Sequence[int]) -> None:
    """Remove conversations from the index (retention); review data is removed by console.review."""
    for chunk in _chunks(list(ids)):
        session.execute(sa.delete(ConversationIntent).where(ConversationIntent.conversation_id.in_(chunk)))
        session.execute(sa.delete(SearchText).where(SearchText.conversation_id.in_(chunk)))
        session.execute(sa.delete(Conversation).where(Conversation.id.in_(chunk)))


def reindex_tokens(session: Session, conversation: Conversation) -> None:
    """Rebuild one conversation's search tokens from the events still stored (after a partial purge)."""
    tokens: set[str] = set()
    for _, event in conversation_events(session, conversation):
        if event.get("event") in ("user", "bot"):
            tokens |= text_tokens(str(event.get("text") or ""))
    table = SearchText.__table__
    session.execute(
        table.update().where(table.c.conversation_id == conversation.id).values(tokens=" ".join(sorted(tokens)))
    )


def conversation_at(session: Session, sender_hash: str, event_id: int) -> int | None:
    """The id of the conversation (in the list) that holds the sender's event `event_id`, when the index has it."""
    row = (
        session.query(Conversation.id)
        .filter(Conversation.sender_id == sender_hash, Conversation.id <= event_id)
        .order_by(Conversation.id.desc())
        .first()
    )
    return row[0] if row else None
