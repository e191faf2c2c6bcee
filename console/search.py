"""The conversation list's filters and Chinese full-text search over the conversation index (console/index.py).

`search_conversations` answers one list page: newest first, with the total, fast on 100,000 conversations
(indexed columns; SQLite FTS5 or a PostgreSQL GIN index for the text).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.masking import mask_text
from console.index import (
    CHANNELS,
    FLAGS,
    FTS_TABLE,
    LOW_CONFIDENCE,
    REVIEW_STATUSES,
    STALE_FORM_SECONDS,
    TIMEZONE,
    Conversation,
    ConversationIntent,
    SearchText,
    query_tokens,
)
from console.review import tags_of


@dataclass
class Filters:
    """The conversation list's filters (all optional). Dates are local (Asia/Shanghai), both inclusive."""

    date_from: date | None = None
    date_to: date | None = None
    channel: str | None = None
    intent: str | None = None
    outcome: str | None = None  # one of FLAGS
    max_confidence: float | None = None  # lowest NLU confidence at most this
    review_status: str | None = None
    tag: str | None = None
    q: str | None = None  # full-text query
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: dict[str, str]) -> Filters:
        """From a query string; invalid values are dropped with a Chinese note in `errors`."""
        f = cls()
        f.date_from = parse_date(params.get("date_from"), "开始日期", f.errors)
        f.date_to = parse_date(params.get("date_to"), "结束日期", f.errors)
        f.channel = _choice(params.get("channel"), CHANNELS, "渠道", f.errors)
        f.intent = (params.get("intent") or "").strip()[:255] or None
        f.outcome = _choice(params.get("outcome"), FLAGS, "结果", f.errors)
        f.review_status = _choice(params.get("review"), REVIEW_STATUSES, "审核状态", f.errors)
        # Masked like the log (and the tags) they are compared with: an operator who types a citizen's phone
        # number searches for 138****0001, and the page, its links and the access log never echo it raw.
        f.tag = mask_text((params.get("tag") or "").strip()[:64]) or None
        f.q = mask_text((params.get("q") or "").strip()[:200]) or None
        raw = (params.get("max_confidence") or "").strip()
        if raw:
            try:
                value = float(raw)
                if not 0 <= value <= 1:
                    raise ValueError
                f.max_confidence = value
            except ValueError:
                f.errors.append("最低置信度应为 0 到 1 之间的数字，已忽略。")
        return f

    def params(self) -> dict[str, str]:
        """Back to query parameters (for links and forms)."""
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "channel": self.channel or "",
            "intent": self.intent or "",
            "outcome": self.outcome or "",
            "max_confidence": "" if self.max_confidence is None else f"{self.max_confidence:g}",
            "review": self.review_status or "",
            "tag": self.tag or "",
            "q": self.q or "",
        }
        return {k: v for k, v in values.items() if v}


def parse_date(raw: str | None, label: str, errors: list[str]) -> date | None:
    """A local date from a form field; a bad one is dropped with a Chinese note in `errors`."""
    if not raw or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors.append(f"{label}格式应为 年-月-日（例如 2026-03-01），已忽略。")
        return None


def _choice(raw: str | None, allowed: Sequence[str], label: str, errors: list[str]) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    if value not in allowed:
        errors.append(f"{label}“{value[:20]}”不存在，已忽略。")
        return None
    return value


def local_day_start(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=TIMEZONE).timestamp()


@dataclass
class Page:
    rows: list[Conversation]
    total: int
    page: int
    per_page: int
    tags: dict[int, list[str]]
    now: float

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _outcome_condition(outcome: str, now: float) -> Any:
    if outcome == "low_confidence":
        return Conversation.min_confidence < LOW_CONFIDENCE
    if outcome == "abandoned_form":
        stale = sa.and_(Conversation.open_form.isnot(None), Conversation.last_at < now - STALE_FORM_SECONDS)
        return sa.or_(Conversation.abandoned_form.is_(True), stale)
    return getattr(Conversation, outcome).is_(True)


def _text_condition(session: Session, query: str) -> Any:
    tokens = query_tokens(query)
    if not tokens:
        return None
    # Tokens are only Han characters and [0-9a-z] (see _runs), so quoting them is safe; ASCII words match as
    # prefixes (a reference number's first digits find it).
    if session.get_bind().dialect.name == "postgresql":
        terms = " & ".join(f"'{t}':*" if t.isascii() else f"'{t}'" for t in tokens)
        match = sa.text(
            "to_tsvector('simple', console_search_text.tokens) @@ to_tsquery('simple', :search_q)"
        ).bindparams(search_q=terms)
        # OFFSET 0 keeps the subquery from being flattened into a join: PostgreSQL then runs the GIN search once
        # (hashed subplan) instead of recomputing to_tsvector row by row while it walks the newest-first index.
        return Conversation.id.in_(sa.select(SearchText.conversation_id).where(match).offset(0))
    # FTS5: each token quoted (a phrase of one token), all of them required.
    match = " ".join(f'"{t}"*' if t.isascii() else f'"{t}"' for t in tokens)
    fts = sa.text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :search_q").bindparams(search_q=match)
    return Conversation.id.in_(fts)


def filter_conditions(session: Session, filters: Filters, now: float | None = None) -> list[Any]:
    """SQL conditions on Conversation for the filters (also used by the dashboard)."""
    from console.review import ConversationTag  # review.py builds on this module

    now = now or time.time()
    conditions: list[Any] = []
    if filters.date_from:
        conditions.append(Conversation.started_at >= local_day_start(filters.date_from))
    if filters.date_to:
        conditions.append(Conversation.started_at < local_day_start(filters.date_to + timedelta(days=1)))
    if filters.channel:
        conditions.append(Conversation.channel == filters.channel)
    if filters.intent:
        intents = sa.select(ConversationIntent.conversation_id).where(ConversationIntent.intent == filters.intent)
        conditions.append(Conversation.id.in_(intents))
    if filters.outcome:
        conditions.append(_outcome_condition(filters.outcome, now))
    if filters.max_confidence is not None:
        conditions.append(Conversation.min_confidence <= filters.max_confidence)
    if filters.review_status:
        conditions.append(Conversation.review_status == filters.review_status)
    if filters.tag:
        from console.review import normalise_tag

        tagged = sa.select(ConversationTag.conversation_id).where(ConversationTag.tag == normalise_tag(filters.tag))
        conditions.append(Conversation.id.in_(tagged))
    if filters.q:
        text_condition = _text_condition(session, filters.q)
        if text_condition is not None:
            conditions.append(text_condition)
    return conditions


def search_conversations(
    session: Session, filters: Filters | None = None, page: int = 1, per_page: int = 50, now: float | None = None
) -> Page:
    """One page of conversations matching the filters, newest first, with the total count and their tags."""
    now = now or time.time()
    filters = filters or Filters()
    per_page = max(1, min(per_page, 200))
    page = max(1, page)
    conditions = filter_conditions(session, filters, now)
    ordered = (
        session.query(Conversation)
        .filter(*conditions)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    count = sa.select(sa.func.count()).select_from(Conversation).where(*conditions)
    if filters.q and query_tokens(filters.q):
        # The text search dominates: run it once, the total coming with the page as a window count.
        found = ordered.add_columns(sa.func.count().over()).all()
        rows = [conversation for conversation, _ in found]
        total = found[0][1] if found else (0 if page == 1 else session.execute(count).scalar_one())
    else:
        # Without it a count is a quick scan and the page walks the newest-first index: two cheap queries
        # (a window count would sort every matching row).
        total = session.execute(count).scalar_one()
        rows = ordered.all()
    return Page(rows, total, page, per_page, tags_of(session, [r.id for r in rows]), now)


