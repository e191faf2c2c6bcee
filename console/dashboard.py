"""The dashboard's figures, aggregated in SQL over the conversation index and the conversation log.

Which time counts: conversation figures (per day, containment, fallback and handoff rates) go by the time the
conversation started; message figures (top intents, transactions, latency) by the time of the user message or
result. Days are China days (bot.clock.CHINA_TZ); a range is a pair of local dates, both inclusive.

- containment rate: conversations without a handoff (`action_request_human`) / all conversations
- fallback rate / handoff rate: conversations with at least one fallback / handoff, over all conversations
- top intents: user messages per predicted intent
- transactions: slot `transaction_result` events per service and status (completed / rejected / error)
- turn latency: from a user message to the last bot reply before the sender's next message (turns without a
  reply do not count); percentiles by nearest rank

Every figure is one aggregate query (no Python loop over events); `cached_figures` keeps the result for
CACHE_SECONDS and then refreshes it in the background.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import CHINA_TZ
from bot.conversation_log import ConversationEvent
from bot.names import (
    INTENT_LABELS,
    RESULT_STATUSES,
    SERVICE_LABELS,
    TRANSACTION_RESULT_SLOT,
    label,
)
from console import ratings
from console.index import Conversation
from console.search import local_day_start, parse_date

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_INTENTS = 10
CACHE_SECONDS = 30.0
PERCENTILES = (50, 90, 99)
STATUSES = RESULT_STATUSES
RESULT_SLOT = TRANSACTION_RESULT_SLOT
# The JSON's name of CHINA_TZ (UTC+8 all year, as Asia/Shanghai has been since 1991).
TIMEZONE_NAME = "Asia/Shanghai"
LATE_REPLY_SECONDS = 300  # a reply this long after the range's end still closes a turn that began inside it

def intent_label(name: str) -> str:
    return label(INTENT_LABELS, name)


def service_label(name: str) -> str:
    return label(SERVICE_LABELS, name)


# ----------------------------------------------------------------------------------------------------
# Date range


def today_local(now: float | None = None) -> date:
    return datetime.fromtimestamp(now if now is not None else time.time(), CHINA_TZ).date()


@dataclass(frozen=True)
class DateRange:
    """Local (Asia/Shanghai) dates, both inclusive."""

    start: date
    end: date

    @classmethod
    def last_days(cls, days: int = DEFAULT_DAYS, now: float | None = None) -> DateRange:
        end = today_local(now)
        return cls(end - timedelta(days=days - 1), end)

    @classmethod
    def from_params(cls, params: dict[str, str], now: float | None = None) -> tuple[DateRange, list[str]]:
        """From `date_from` / `date_to` (YYYY-MM-DD); bad or missing values fall back to the last 30 days, with
        a note in Chinese for each one dropped."""
        errors: list[str] = []
        default = cls.last_days(now=now)
        start = parse_date(params.get("date_from"), "开始日期", errors)
        end = parse_date(params.get("date_to"), "结束日期", errors)
        if start and end and start > end:
            errors.append("开始日期晚于结束日期，已互换。")
            start, end = end, start
        if start and not end:
            end = min(start + timedelta(days=DEFAULT_DAYS - 1), max(default.end, start))
        elif end and not start:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        start, end = start or default.start, end or default.end
        if (end - start).days + 1 > MAX_DAYS:
            errors.append(f"时间范围最长 {MAX_DAYS} 天，已缩短为结束日期前的 {MAX_DAYS} 天。")
            start = end - timedelta(days=MAX_DAYS - 1)
        return cls(start, end), errors

    @property
    def since(self) -> float:
        return local_day_start(self.start)

    @property
    def until(self) -> float:
        return local_day_start(self.end + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def params(self) -> dict[str, str]:
        return {"date_from": self.start.isoformat(), "date_to": self.end.isoformat()}


# ----------------------------------------------------------------------------------------------------
# Figures


@dataclass
class ServiceResults:
    service: str
    completed: int = 0
    rejected: int = 0
    error: int = 0

    @property
    def total(self) -> int:
        return self.completed + self.rejected + self.error

    @property
    def success_rate(self) -> float | None:
        return self.completed / self.total if self.total else None

    @property
    def label(self) -> str:
        return service_label(self.service)


@dataclass
class Latency:
    turns: int
    percentiles: dict[int, float]  # 50 → seconds


@dataclass
class Figures:
    range: DateRange
    conversations: int = 0
    handoffs: int = 0
    fallbacks: int = 0
    per_day: list[tuple[date, int]] = field(default_factory=list)
    user_messages: int = 0
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    transactions: list[ServiceResults] = field(default_factory=list)
    latency: Latency | None = None
    satisfaction: list[ratings.ServiceSatisfaction] = field(default_factory=list)  # 好差评 per service
    open_followups: int = 0  # bad ratings not answered yet (whatever the range)
    overdue_followups: int = 0  # of those, past their deadline
    computed_at: float = 0.0

    @property
    def contained(self) -> int:
        return self.conversations - self.handoffs

    def _rate(self, count: int) -> float | None:
        return count / self.conversations if self.conversations else None

    @property
    def containment_rate(self) -> float | None:
        return self._rate(self.contained)

    @property
    def fallback_rate(self) -> float | None:
        return self._rate(self.fallbacks)

    @property
    def handoff_rate(self) -> float | None:
        return self._rate(self.handoffs)

    @property
    def empty(self) -> bool:
        return not (self.conversations or self.user_messages or self.transactions or self.satisfaction)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly figures (GET /dashboard.json)."""
        return {
            "date_from": self.range.start.isoformat(),
            "date_to": self.range.end.isoformat(),
            "timezone": TIMEZONE_NAME,
            "conversations": self.conversations,
            "conversations_per_day": [{"date": d.isoformat(), "conversations": n} for d, n in self.per_day],
            "contained": self.contained,
            "handoffs": self.handoffs,
            "fallbacks": self.fallbacks,
            "containment_rate": self.containment_rate,
            "fallback_rate": self.fallback_rate,
            "handoff_rate": self.handoff_rate,
            "user_messages": self.user_messages,
            "top_intents": [
                {"intent": name, "label": intent_label(name), "messages": n} for name, n in self.top_intents
            ],
            "transactions": [
                {"service": r.service, "label": r.label, "completed": r.completed, "rejected": r.rejected,
                 "error": r.error, "total": r.total, "success_rate": r.success_rate}
                for r in self.transactions
            ],
            "latency": None if self.latency is None else {
                "turns": self.latency.turns,
                **{f"p{p}": self.latency.percentiles.get(p) for p in PERCENTILES},
            },
            "satisfaction": [
                {"service": s.service, "label": s.label, "ratings": s.total, "levels": s.counts,
                 "satisfied_rate": s.satisfied_rate, "average_score": s.average}
                for s in self.satisfaction
            ],
            "open_followups": self.open_followups,
            "overdue_followups": self.overdue_followups,
            "computed_at": self.computed_at,
        }


def compute(session: Session, date_range: DateRange) -> Figures:
    """All figures for the range, straight from the database."""
    figures = Figures(date_range, computed_at=time.time())
    figures.conversations, figures.handoffs, figures.fallbacks = _conversation_counts(session, date_range)
    figures.per_day = _per_day(session, date_range)
    figures.user_messages, figures.top_intents = _top_intents(session, date_range)
    figures.transactions = _transactions(session, date_range)
    figures.latency = _latency(session, date_range)
    figures.satisfaction = ratings.satisfaction(session, date_range.since, date_range.until)
    figures.open_followups = ratings.open_count(session)
    figures.overdue_followups = ratings.overdue_count(session)
    return figures


def _in_range(column: Any, date_range: DateRange) -> Any:
    return sa.and_(column >= date_range.since, column < date_range.until)


def _count_if(condition: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _conversation_counts(session: Session, date_range: DateRange) -> tuple[int, int, int]:
    query = sa.select(
        sa.func.count(), _count_if(Conversation.handoff.is_(True)), _count_if(Conversation.fallback.is_(True))
    ).where(_in_range(Conversation.started_at, date_range))
    total, handoffs, fallbacks = session.execute(query).one()
    return int(total), int(handoffs), int(fallbacks)


def _local_day(session: Session, column: Any) -> Any:
    """Days since 1970-01-01 in local time (Asia/Shanghai has kept UTC+8 without summer time since 1991)."""
    offset = datetime.now(CHINA_TZ).utcoffset() or timedelta(0)
    shifted = (column + offset.total_seconds()) / 86400
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.floor(shifted), sa.BigInteger)  # PostgreSQL's cast rounds; floor first
    return sa.cast(shifted, sa.Integer)  # SQLite's cast truncates (timestamps are positive)


def _per_day(session: Session, date_range: DateRange) -> list[tuple[date, int]]:
    day = _local_day(session, Conversation.started_at).label("day")
    query = (
        sa.select(day, sa.func.count())
        .where(_in_range(Conversation.started_at, date_range))
        .group_by(day)
    )
    counts = {int(number): int(n) for number, n in session.execute(query)}
    epoch = date(1970, 1, 1)
    return [(d, counts.get((d - epoch).days, 0)) for d in date_range.days()]


def _top_intents(session: Session, date_range: DateRange) -> tuple[int, list[tuple[str, int]]]:
    """(user messages in the range, the TOP_INTENTS most predicted intents): one scan, grouped by intent."""
    count = sa.func.count().label("n")
    query = (
        sa.select(ConversationEvent.intent_name, count)
        .where(ConversationEvent.type_name == "user", _in_range(ConversationEvent.timestamp, date_range))
        .group_by(ConversationEvent.intent_name)
    )
    groups = [(name, int(n)) for name, n in session.execute(query)]
    named = sorted(((name, n) for name, n in groups if name is not None), key=lambda item: (-item[1], item[0]))
    return sum(n for _, n in groups), named[:TOP_INTENTS]


def _result_fields(session: Session, data: Any) -> tuple[Any, Any, Any]:
    """(slot name, service, status) read in SQL from the event JSON in column `data`."""
    if session.get_bind().dialect.name == "postgresql":
        doc = sa.cast(data, postgresql.JSONB)
        return doc["name"].astext, doc["value"]["service"].astext, doc["value"]["status"].astext
    return (
        sa.func.json_extract(data, "$.name"),
        sa.func.json_extract(data, "$.value.service"),
        sa.func.json_extract(data, "$.value.status"),
    )


def _valid_json(session: Session, data: Any) -> list[Any]:
    """SQLite's json_extract fails on a malformed row; skip such rows (PostgreSQL's log is written as JSON)."""
    return [] if session.get_bind().dialect.name == "postgresql" else [sa.func.json_valid(data) == 1]


def _transactions(session: Session, date_range: DateRange) -> list[ServiceResults]:
    candidates = (
        sa.select(ConversationEvent.data)
        .where(
            ConversationEvent.type_name == "slot",
            _in_range(ConversationEvent.timestamp, date_range),
            ConversationEvent.data.like(f'%"{RESULT_SLOT}"%'),  # cheap pre-filter before parsing JSON
            *_valid_json(session, ConversationEvent.data),
        )
        .subquery()
    )
    name, service, status = _result_fields(session, candidates.c.data)
    query = (
        sa.select(service.label("service"), status.label("status"), sa.func.count())
        .where(name == RESULT_SLOT, service.isnot(None))
        .group_by(service, status)
    )
    results: dict[str, ServiceResults] = {}
    for svc, st, n in session.execute(query):
        row = results.setdefault(str(svc), ServiceResults(str(svc)))
        if st in STATUSES:
            setattr(row, st, getattr(row, st) + int(n))
    return sorted(results.values(), key=lambda r: (-r.total, r.service))


def _latency(session: Session, date_range: DateRange) -> Latency | None:
    """Turn latency percentiles in one query: number each sender's user/bot events by turn (a running count of
    user messages), take last bot reply − user message per turn, then rank the turns."""
    e = ConversationEvent
    is_user = e.type_name == "user"
    events = (
        sa.select(
            e.sender_id,
            e.type_name,
            e.timestamp,
            sa.func.sum(sa.case((is_user, 1), else_=0))
            .over(partition_by=e.sender_id, order_by=e.id, rows=(None, 0))
            .label("turn"),
        )
        .where(
            e.type_name.in_(("user", "bot")),
            e.timestamp >= date_range.since,
            e.timestamp < date_range.until + LATE_REPLY_SECONDS,
        )
        .subquery()
    )
    asked = sa.func.min(sa.case((events.c.type_name == "user", events.c.timestamp)))
    answered = sa.func.max(sa.case((events.c.type_name == "bot", events.c.timestamp)))
    turns = (
        sa.select((answered - asked).label("latency"))
        .where(events.c.turn > 0)
        .group_by(events.c.sender_id, events.c.turn)
        .having(sa.and_(answered.isnot(None), asked < date_range.until))
        .subquery()
    )
    ranked = sa.select(
        turns.c.latency,
        sa.func.row_number().over(order_by=turns.c.latency).label("rank"),
        sa.func.count().over().label("n"),
    ).subquery()
    columns = [sa.func.max(ranked.c.n)]
    for p in PERCENTILES:
        # nearest rank: the smallest latency whose rank is ≥ p % of n
        columns.append(sa.func.min(sa.case((ranked.c.rank * 100 >= ranked.c.n * p, ranked.c.latency))))
    row = session.execute(sa.select(*columns)).one()
    if not row[0]:
        return None
    return Latency(int(row[0]), {p: float(v) for p, v in zip(PERCENTILES, row[1:], strict=True)})


# ----------------------------------------------------------------------------------------------------
# Cache
#
# On 100,000 conversations the message figures scan a few hundred thousand rows (about 1–3 s on SQLite). So the
# figures of a range are kept for CACHE_SECONDS, and once they are older the next view still gets them at once
# while one background thread recomputes them: only the very first view of a range waits for the queries.


@dataclass
class _Entry:
    figures: Figures
    refreshing: bool = False


_cache: dict[tuple[str, date, date], _Entry] = {}
_cache_lock = threading.Lock()
MAX_CACHED_RANGES = 64


def cached_figures(
    session: Session, date_range: DateRange, factory: sessionmaker | None = None, max_age: float = CACHE_SECONDS
) -> Figures:
    """The range's figures, at most `max_age` seconds old, or older while a refresh runs in the background
    (with `factory`, a sessionmaker for that thread; without one a stale entry is recomputed right here)."""
    key = (session.get_bind().url.render_as_string(hide_password=True), date_range.start, date_range.end)
    with _cache_lock:
        entry = _cache.get(key)
        fresh = entry is not None and time.time() - entry.figures.computed_at < max_age
        refresh_later = entry is not None and not fresh and factory is not None
        if refresh_later and not entry.refreshing:
            entry.refreshing = True
            threading.Thread(target=_refresh, args=(key, factory, date_range), name="dashboard-refresh",
                             daemon=True).start()
    if fresh or refresh_later:
        return entry.figures
    figures = compute(session, date_range)
    _store(key, figures)
    return figures


def _refresh(key: tuple[str, date, date], factory: sessionmaker, date_range: DateRange) -> None:
    try:
        with factory() as session:
            _store(key, compute(session, date_range))
    except Exception:  # the stale figures stay; the next view tries again
        logger.exception("dashboard figures could not be refreshed")
        with _cache_lock:
            if key in _cache:
                _cache[key].refreshing = False


def _store(key: tuple[str, date, date], figures: Figures) -> None:
    with _cache_lock:
        if key not in _cache and len(_cache) >= MAX_CACHED_RANGES:  # many ranges tried: start over
            _cache.clear()
        _cache[key] = _Entry(figures)


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
