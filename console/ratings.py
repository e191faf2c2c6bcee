"""好差评 in the console: every rating from the conversation log, and the follow-up of each bad one.

The assistant keeps a rating in slot `service_rating` (actions/rating.py); the log's one reader (console/projection)
hands each new row here. A rating of 不满意 or worse opens a follow-up due in 15 working days (国办发〔2019〕51号:
差评 are verified, rectified and answered); the operator records what was found and writes the reply, which reaches
the citizen through their own channel like a takeover reply, and is stored only when delivered.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import chinese_calendar
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.clock import CHINA_TZ, china_today
from bot.masking import mask_text
from bot.names import SERVICE_LABELS, label
from bot.rating_levels import BAD, LEVELS, SCORES
from console.db import Base
from console.rasa_client import RasaClient, RasaError, blocking
from console.takeover import TakeoverError, clean_reply, deliverable_channel, sender_for
from console.users import User
from console.web import audit

if TYPE_CHECKING:
    from console.projection import LogRow

logger = logging.getLogger(__name__)

RATING_SLOT = "service_rating"
FOLLOWUP_WORKING_DAYS = 15
NONE, OPEN, DONE = "none", "open", "done"
FOLLOWUP_LABELS = {NONE: "无需回访", OPEN: "待回访", DONE: "已回访"}
GOOD_LEVELS = tuple(level for level in LEVELS if level not in BAD)  # 好评: 非常满意, 满意, 基本满意
MAX_FINDINGS = 2000
UNDELIVERED_HINT = "如已通过电话等其他方式答复，请勾选“已通过其他方式答复市民”后再提交。"


class Rating(Base):
    __tablename__ = "console_ratings"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    rating_id = sa.Column(sa.String(32), nullable=False, unique=True)
    sender_hash = sa.Column(sa.String(64), nullable=False, index=True)
    event_id = sa.Column(sa.Integer, nullable=False)
    service = sa.Column(sa.String(64), nullable=False, index=True)
    reference = sa.Column(sa.String(64))
    level = sa.Column(sa.String(16), nullable=False)
    score = sa.Column(sa.Integer, nullable=False)
    comment = sa.Column(sa.Text)
    rated_at = sa.Column(sa.Float, nullable=False, index=True)
    followup_status = sa.Column(sa.String(16), nullable=False, index=True)
    deadline = sa.Column(sa.Date)
    findings = sa.Column(sa.Text)
    reply_text = sa.Column(sa.Text)
    replied_via = sa.Column(sa.String(16))  # channel | elsewhere (telephone, in person …)
    handled_by = sa.Column(sa.String(64))
    handled_at = sa.Column(sa.Float)

    @property
    def service_label(self) -> str:
        return label(SERVICE_LABELS, self.service)

    @property
    def followup_label(self) -> str:
        return FOLLOWUP_LABELS.get(self.followup_status, self.followup_status)

    def overdue(self, today: date | None = None) -> bool:
        return self.followup_status == OPEN and self.deadline is not None and (today or china_today()) > self.deadline


# --- working days -----------------------------------------------------------------------------------------


def is_working_day(day: date) -> bool:
    """China's official calendar (holidays and 调休 Saturdays); Monday to Friday for years it does not cover yet."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def working_days_after(start: date, days: int) -> date:
    """The `days`-th working day after `start` (the day of the rating itself does not count)."""
    day, left = start, days
    while left:
        day += timedelta(days=1)
        left -= is_working_day(day)
    return day


def local_date(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, CHINA_TZ).date()


# --- from the log -----------------------------------------------------------------------------------------


def _rating_of(row: LogRow) -> dict[str, Any] | None:
    if row.type_name != "slot":
        return None
    event = row.event()
    value = event.get("value")
    if event.get("name") != RATING_SLOT or not isinstance(value, dict):
        return None
    level, rating_id = value.get("level"), value.get("rating_id")
    if level not in SCORES or not isinstance(rating_id, str) or not rating_id:
        return None
    return value


def apply_rows(session: Session, rows: list[LogRow]) -> int:
    """Store the ratings among `rows` (in id order); returns how many follow-ups were opened."""
    opened = 0
    for row in rows:
        value = _rating_of(row)
        if value is not None and row.sender_id:
            opened += _store(session, row, value)
    return opened


def _store(session: Session, row: LogRow, value: dict[str, Any]) -> int:
    rating_id = str(value["rating_id"])[:32]
    rating = session.query(Rating).filter(Rating.rating_id == rating_id).one_or_none()
    level = value["level"]
    if rating is None:
        rating = Rating(rating_id=rating_id, sender_hash=row.sender_id, followup_status=NONE)
        session.add(rating)
    rating.event_id = row.id
    rating.service = str(value.get("service") or "")[:64]
    rating.reference = str(value["reference"])[:64] if value.get("reference") else None
    rating.level, rating.score = level, SCORES[level]
    rating.comment = value.get("comment") if isinstance(value.get("comment"), str) else rating.comment
    rating.rated_at = float(value.get("rated_at") or row.timestamp)
    if level in BAD and rating.followup_status == NONE:
        rating.followup_status = OPEN
        rating.deadline = working_days_after(local_date(rating.rated_at), FOLLOWUP_WORKING_DAYS)
        session.flush()
        return 1
    session.flush()
    return 0


# --- views --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceSatisfaction:
    service: str
    counts: dict[str, int]  # level -> ratings

    @property
    def label(self) -> str:
        return label(SERVICE_LABELS, self.service)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def satisfied_rate(self) -> float | None:
        """The share of 好评 (基本满意 or better), as 好差评 reports it."""
        return sum(self.counts.get(level, 0) for level in GOOD_LEVELS) / self.total if self.total else None

    @property
    def average(self) -> float | None:
        return sum(SCORES[level] * n for level, n in self.counts.items()) / self.total if self.total else None


def satisfaction(session: Session, since: float, until: float) -> list[ServiceSatisfaction]:
    """Ratings per service and level in [since, until), the services with most ratings first."""
    rows = session.execute(
        sa.select(Rating.service, Rating.level, sa.func.count())
        .where(Rating.rated_at >= since, Rating.rated_at < until)
        .group_by(Rating.service, Rating.level)
    ).all()
    by_service: dict[str, dict[str, int]] = {}
    for service, level, count in rows:
        by_service.setdefault(service, {})[level] = count
    found = [ServiceSatisfaction(service, counts) for service, counts in by_service.items()]
    return sorted(found, key=lambda s: (-s.total, s.service))


def overdue_count(session: Session, today: date | None = None) -> int:
    today = today or china_today()
    return session.query(Rating).filter(Rating.followup_status == OPEN, Rating.deadline < today).count()


def open_count(session: Session) -> int:
    return session.query(Rating).filter(Rating.followup_status == OPEN).count()


def listing(session: Session, *, followup: str | None = None, service: str | None = None,
            overdue: bool = False, limit: int = 200) -> list[Rating]:
    """Ratings for the list page: open follow-ups by deadline first, then the newest."""
    query = session.query(Rating)
    if followup in FOLLOWUP_LABELS:
        query = query.filter(Rating.followup_status == followup)
    if service:
        query = query.filter(Rating.service == service)
    if overdue:
        query = query.filter(Rating.followup_status == OPEN, Rating.deadline < china_today())
    open_first = sa.case((Rating.followup_status == OPEN, 0), else_=1)
    return query.order_by(open_first, Rating.deadline, Rating.rated_at.desc()).limit(limit).all()


def services_rated(session: Session) -> list[str]:
    return [s for (s,) in session.execute(sa.select(Rating.service).distinct().order_by(Rating.service))]


def get_rating(session: Session, rating_pk: int) -> Rating | None:
    return session.get(Rating, rating_pk)


# --- the follow-up ---------------------------------------------------------------------------------------------


def record_followup(session: Session, rating: Rating, user: User, client: RasaClient, findings: str,
                    reply: str, *, answered_elsewhere: bool = False) -> None:
    """Close the follow-up: what was found (kept masked) and the reply, sent through the citizen's channel first.

    Nothing is recorded when the reply cannot be delivered, so an operator never believes a citizen was answered.
    WeChat delivers only within 48 hours of the citizen's last message: an operator who answered by telephone
    instead says so (`answered_elsewhere`) and the reply is recorded without being sent."""
    if rating.followup_status != OPEN:
        raise TakeoverError("该评价没有待处理的回访，或已由其他工作人员处理。请刷新页面。")
    findings = (findings or "").strip()
    if not findings:
        raise TakeoverError("请填写核实情况（例如原因和整改措施）。", 400)
    if len(findings) > MAX_FINDINGS:
        raise TakeoverError(f"核实情况最多 {MAX_FINDINGS} 字，请精简。", 400)
    text = clean_reply(reply)
    if not answered_elsewhere:
        _send(session, rating, user, client, text)
    claimed = (
        session.query(Rating)
        .filter(Rating.id == rating.id, Rating.followup_status == OPEN)
        .update({"followup_status": DONE, "findings": mask_text(findings), "reply_text": mask_text(text),
                 "replied_via": "elsewhere" if answered_elsewhere else "channel", "handled_by": user.username,
                 "handled_at": time.time()}, synchronize_session=False)
    )
    session.refresh(rating)
    if not claimed:  # two operators at once: the reply went out twice at most, recorded once
        logger.warning("Follow-up of rating %s was recorded by someone else meanwhile.", rating.id)
    how = "已通过其他方式答复" if answered_elsewhere else "已通过原渠道回复"
    audit(session, user, "rating_followup", rating.sender_hash,
          f"差评回访 #{rating.id}（{rating.service_label}，{how}）：{mask_text(findings)[:200]}")


def _send(session: Session, rating: Rating, user: User, client: RasaClient, text: str) -> None:
    try:
        sender_id = sender_for(session, rating.sender_hash)
        channel = deliverable_channel(blocking(client.tracker(sender_id)))
        blocking(client.send(sender_id, text, user.username, metadata={"rating_followup": rating.rating_id},
                             channel=channel))
    except (RasaError, TakeoverError) as error:
        raise TakeoverError(f"回复未能送达市民：{error} {UNDELIVERED_HINT}", 502) from error


def purge(session: Session, cutoff: float) -> int:
    """Retention: ratings older than the cutoff go, except follow-ups still open."""
    return session.execute(
        sa.delete(Rating).where(Rating.rated_at < cutoff, Rating.followup_status != OPEN)
    ).rowcount or 0

