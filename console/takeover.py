"""Takeover: citizens who asked for a human wait in a queue; an operator takes the conversation (Rasa pauses it, the
assistant stays silent), replies through the citizen's own channel, and hands it back (Rasa resumes it).

The queue is fed from the masked conversation log: the log's one reader (console/projection.py) hands every new row
to `apply_rows`, and each `action_request_human` event becomes a waiting handoff; `close_stale_handoffs` (a periodic
job of the console) closes the ones nobody took and the ones Rasa answers again.

Replies are bot events appended through Rasa's HTTP API with `output_channel=latest`, so Rasa delivers them through
the channel the citizen last wrote from and stores them in the tracker, from where the event broker puts them,
masked, into the log like every other message.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.conversation_log import ConversationEvent, purge_unused_senders, sealed_sender
from bot.masking import hash_sender_id, mask_text
from bot.names import CHANNEL_LABELS
from bot.sealing import InvalidSeal, unseal
from bot.settings import ConsoleSettings
from console.db import Base
from console.rasa_client import RasaClient, RasaError, blocking
from console.users import User
from console.web import audit

if TYPE_CHECKING:
    from console.projection import LogRow

logger = logging.getLogger(__name__)

REQUEST_ACTION = "action_request_human"
WAITING, ACTIVE, CLOSED = "waiting", "active", "closed"
OPEN_STATUSES = (WAITING, ACTIVE)
STATUS_LABELS = {WAITING: "等待接管", ACTIVE: "人工处理中", CLOSED: "已结束"}
CLOSED_REASONS = {
    "handed_back": "已交还智能助手",
    "dismissed": "未接管，已关闭",
    "expired": "等待超时，已自动关闭",
    "session_restarted": "会话已重新开始（如市民长时间未发消息后再次留言），智能助手已恢复应答",
}
DELIVERABLE_CHANNELS = frozenset(CHANNEL_LABELS)  # channels with an output channel for messages outside a turn
MAX_REPLY_CHARS = 2000
MESSAGE_TYPES = ("user", "bot", "pause", "resume")
# Events after which Rasa answers again: a pause is undone by resume, restart and a new session.
CONTROL_TYPES = ("pause", "resume", "restart", "session_started")
RESTART_GRACE_SECONDS = 30  # the pause of a fresh takeover may not be in the log yet
SESSION_MARGIN_SECONDS = 300  # a session this close to its expiry is renewed when taken over

TAKEN_TEXT = "您好，工作人员已接入，接下来由人工为您服务。请直接在这里描述您的问题。"
HANDBACK_TEXT = (
    "本次人工服务已结束，感谢您的耐心等待。接下来由智能助手继续为您服务；如需再次联系工作人员，请回复“转人工”。"
)

# An operator's reply goes out to the citizen as typed, minus what a message should never carry: control
# characters (C0 and C1, escape sequences included) and the bidirectional overrides that make text read otherwise
# than it is. Every kind of line break becomes "\n"; tabs stay.
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb]")


@functools.cache
def max_wait_seconds() -> float:
    """Requests nobody took within this time are closed (TAKEOVER_MAX_WAIT_HOURS, default 72: a Friday evening
    request still waits for Monday morning). Read once per process: the jobs ask every round."""
    return ConsoleSettings.from_env(rasa_token=None).takeover_max_wait_hours * 3600


class Handoff(Base):
    """One request for a human, from the moment it is logged until it is handed back or closed."""

    __tablename__ = "handoffs"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    sender_hash = sa.Column(sa.String(64), nullable=False, index=True)
    request_event_id = sa.Column(sa.Integer, unique=True)  # the action_request_human row in conversation_events
    channel = sa.Column(sa.String(64))
    requested_at = sa.Column(sa.Float, nullable=False, index=True)
    status = sa.Column(sa.String(16), nullable=False, default=WAITING, index=True)
    operator = sa.Column(sa.String(64))  # username of the operator who has (or had) the conversation
    taken_at = sa.Column(sa.Float)
    closed_at = sa.Column(sa.Float)
    closed_reason = sa.Column(sa.String(32))

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel or "", self.channel or "未知渠道")

    @property
    def closed_label(self) -> str:
        return CLOSED_REASONS.get(self.closed_reason or "", "")


class HandoffRequest(Base):
    """Every action_request_human row handled: the first of a sender opens a handoff, later ones join it. The reader
    hands each row over once; this also keeps the one-time catch-up of migration 0002 from counting one twice."""

    __tablename__ = "handoff_requests"
    event_id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    handoff_id = sa.Column(sa.Integer, nullable=False, index=True)


class TakeoverError(Exception):
    """An operator's action could not be done; `str(error)` is the Chinese reason, `status` the HTTP status."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


# --- the queue -------------------------------------------------------------------------------------------


def sync_handoffs(session: Session, now: float | None = None) -> int:
    """Read the log's new rows (into the index and this queue), then close stale handoffs. Returns how many handoffs
    this call opened."""
    from console.projection import refresh  # the projection imports this module

    now = time.time() if now is None else now
    created = refresh(session, now=now).handoffs
    close_stale_handoffs(session, now)
    return created


def apply_rows(session: Session, rows: list[LogRow], now: float) -> int:
    """New handoff requests among log rows handed over by the reader become waiting handoffs (one open handoff per
    sender: a second request while one is open joins it). Returns how many handoffs were opened."""
    requests = [row for row in rows if row.type_name == "action" and row.action_name == REQUEST_ACTION]
    handled = _handled(session, [row.id for row in requests])
    new_rows = [row for row in requests if row.id not in handled and row.sender_id]
    created, max_wait = 0, max_wait_seconds()
    open_handoffs = _open_handoffs(session, {row.sender_id for row in new_rows})
    for row in new_rows:
        handoff = open_handoffs.get(row.sender_id)
        stale = now - (row.timestamp or now) > max_wait
        if handoff is None or (handoff.status == CLOSED and not stale):
            handoff = _new_handoff(session, row.id, row.sender_id, row.timestamp or now, now, max_wait)
            session.add(handoff)
            session.flush()  # its id, for the request row
            created += 1
            open_handoffs[row.sender_id] = handoff  # later requests join it (an expired one: only other old requests)
        session.add(HandoffRequest(event_id=row.id, handoff_id=handoff.id))
    session.flush()
    return created


def close_stale_handoffs(session: Session, now: float | None = None) -> None:
    """Periodic job: close requests nobody took in time, and takeovers Rasa has ended by answering again."""
    now = time.time() if now is None else now
    _expire_waiting(session, now)
    _close_restarted(session, now)


def _handled(session: Session, event_ids: list[int]) -> set[int]:
    if not event_ids:
        return set()
    query = session.query(HandoffRequest.event_id).filter(HandoffRequest.event_id.in_(event_ids))
    return {event_id for (event_id,) in query}


def _open_handoffs(session: Session, senders: set[str]) -> dict[str, Handoff]:
    if not senders:
        return {}
    query = session.query(Handoff).filter(Handoff.sender_hash.in_(senders), Handoff.status.in_(OPEN_STATUSES))
    return {handoff.sender_hash: handoff for handoff in query}


def _new_handoff(
    session: Session, event_id: int, sender: str, requested_at: float, now: float, max_wait: float
) -> Handoff:
    stored = sealed_sender(session, sender)
    handoff = Handoff(sender_hash=sender, request_event_id=event_id, requested_at=requested_at, status=WAITING,
                      channel=stored[1] if stored else None)
    if now - requested_at > max_wait:  # an old request found late (first run on an existing log)
        handoff.status, handoff.closed_at, handoff.closed_reason = CLOSED, now, "expired"
    return handoff


def _expire_waiting(session: Session, now: float) -> None:
    # Read first: an UPDATE that matches nothing would still take SQLite's write lock every run.
    stale = session.query(Handoff).filter(Handoff.status == WAITING, Handoff.requested_at < now - max_wait_seconds())
    for handoff in stale:
        handoff.status, handoff.closed_at, handoff.closed_reason = CLOSED, now, "expired"


def _close_restarted(session: Session, now: float) -> None:
    """Rasa starts a new session (which un-pauses) when a citizen writes after the session expiry, and a restart
    un-pauses too: the assistant answers again, so the takeover is over; the operator sees why. Detected as a
    citizen message after the latest control event, when that event is not a pause."""
    active = session.query(Handoff).filter(
        Handoff.status == ACTIVE, Handoff.taken_at < now - RESTART_GRACE_SECONDS
    )
    for handoff in active:
        latest = (
            session.query(ConversationEvent.id, ConversationEvent.type_name)
            .filter(ConversationEvent.sender_id == handoff.sender_hash)
            .filter(ConversationEvent.type_name.in_(CONTROL_TYPES))
            .order_by(ConversationEvent.id.desc())
            .first()
        )
        if latest is None or latest.type_name == "pause":
            continue
        answered = session.query(ConversationEvent.id).filter(
            ConversationEvent.sender_id == handoff.sender_hash,
            ConversationEvent.type_name == "user",
            ConversationEvent.id > latest.id,
        )
        if session.query(answered.exists()).scalar():
            handoff.status, handoff.closed_at, handoff.closed_reason = CLOSED, now, "session_restarted"


def queue(session: Session) -> list[Handoff]:
    """Open handoffs: the ones waiting longest first, then those being handled."""
    handoffs = session.query(Handoff).filter(Handoff.status.in_(OPEN_STATUSES)).all()
    return sorted(handoffs, key=lambda h: (h.status != WAITING, h.requested_at))


def recently_closed(session: Session, limit: int = 20) -> list[Handoff]:
    query = session.query(Handoff).filter(Handoff.status == CLOSED, Handoff.closed_at.isnot(None))
    return query.order_by(Handoff.closed_at.desc()).limit(limit).all()


def get_handoff(session: Session, handoff_id: int) -> Handoff | None:
    return session.get(Handoff, handoff_id)


# --- what was said (masked, from the log) -----------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    id: int  # row id in conversation_events: the page polls for ids after the last one it shows
    kind: str  # "user", "bot", "operator" or "event"
    text: str
    at: float
    operator: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "text": self.text, "at": self.at, "operator": self.operator}


def _session_start_id(session: Session, handoff: Handoff) -> int:
    """Row id where the request's conversation (Rasa session) begins: earlier sessions are other conversations."""
    query = session.query(sa.func.max(ConversationEvent.id)).filter(
        ConversationEvent.sender_id == handoff.sender_hash,
        ConversationEvent.type_name == "session_started",
    )
    if handoff.request_event_id is not None:
        query = query.filter(ConversationEvent.id <= handoff.request_event_id)
    return query.scalar() or 0


def messages(session: Session, handoff: Handoff, after_id: int = 0, limit: int = 500) -> list[Message]:
    """The conversation's messages (masked as stored) from the start of the request's session, oldest first."""
    start = max(_session_start_id(session, handoff), after_id)
    rows = (
        session.query(ConversationEvent.id, ConversationEvent.type_name, ConversationEvent.timestamp,
                      ConversationEvent.data)
        .filter(ConversationEvent.sender_id == handoff.sender_hash, ConversationEvent.id > start)
        .filter(ConversationEvent.type_name.in_(MESSAGE_TYPES))
        .order_by(ConversationEvent.id)
        .limit(limit)
    )
    found = [_message(row_id, kind, at, data) for row_id, kind, at, data in rows]
    return [m for m in found if m is not None]


def _message(row_id: int, kind: str, at: float | None, data: str) -> Message | None:
    event = json.loads(data)
    at = at or 0.0
    if kind == "pause":
        return Message(row_id, "event", "智能助手已暂停应答（人工接管）", at)
    if kind == "resume":
        return Message(row_id, "event", "智能助手已恢复应答", at)
    text = str(event.get("text") or "")
    buttons = (event.get("data") or {}).get("buttons") or []
    titles = [str(b.get("title", "")) for b in buttons if isinstance(b, dict) and b.get("title")]
    if titles:
        text = (text + "\n" if text else "") + "选项：" + " / ".join(titles)
    if not text:
        return None
    operator = (event.get("metadata") or {}).get("operator") if kind == "bot" else None
    if operator and not (event.get("metadata") or {}).get("handback"):
        return Message(row_id, "operator", text, at, str(operator))
    return Message(row_id, kind, text, at)


def recent_user_messages(session: Session, handoff: Handoff, count: int = 3) -> list[Message]:
    rows = (
        session.query(ConversationEvent.id, ConversationEvent.type_name, ConversationEvent.timestamp,
                      ConversationEvent.data)
        .filter(ConversationEvent.sender_id == handoff.sender_hash, ConversationEvent.type_name == "user")
        .order_by(ConversationEvent.id.desc())
        .limit(count)
    )
    found = [_message(row_id, kind, at, data) for row_id, kind, at, data in rows]
    return [m for m in reversed(found) if m is not None]


# --- the real sender id ----------------------------------------------------------------------------------


def real_sender_id(session: Session, sender_hash: str) -> str | None:
    """The channel user id behind a hashed sender (unsealed), or None when it was never stored, was removed by
    retention, or cannot be opened (PII_SEAL_KEY changed). Callers must audit why they need it."""
    stored = sealed_sender(session, sender_hash)
    if stored is None:
        return None
    try:
        sender_id = unseal(stored[0])
    except InvalidSeal:
        logger.warning("The sealed id of %s cannot be opened: was PII_SEAL_KEY changed?", sender_hash)
        return None
    if hash_sender_id(sender_id) != sender_hash:  # a row copied to another sender must not redirect replies
        logger.warning("The sealed id stored for %s belongs to another sender; ignored.", sender_hash)
        return None
    return sender_id


# --- operator actions ------------------------------------------------------------------------------------


def sender_for(session: Session, sender_hash: str) -> str:
    """The citizen's channel id behind a hashed sender, to reply through their channel; TakeoverError if none."""
    sender_id = real_sender_id(session, sender_hash)
    if sender_id is None:
        raise TakeoverError("找不到该会话在渠道中的用户标识（可能早于接管功能上线、已过保留期，或密钥已更换），"
                            "无法通过原渠道联系市民。")
    return sender_id


def deliverable_channel(tracker: dict[str, Any]) -> str:
    """The channel Rasa will deliver through (the citizen's latest); refused when replies cannot reach it."""
    channel = tracker.get("latest_input_channel")
    if not channel:
        raise TakeoverError("该会话在智能助手中已不存在（可能已过期），无法通过原渠道回复市民。您可以关闭此请求。")
    if channel not in DELIVERABLE_CHANNELS:
        raise TakeoverError(f"该会话来自“{channel}”渠道，控制台无法通过它回复市民。")
    return channel


def _require(handoff: Handoff, *statuses: str) -> None:
    if handoff.status not in statuses:
        if handoff.status == CLOSED:
            raise TakeoverError("该请求已结束，无法再进行此操作。")
        if handoff.status == WAITING:
            raise TakeoverError("请先接管该会话。")
        raise TakeoverError(f"该会话正在由 {handoff.operator} 处理。")


def _require_holder(handoff: Handoff, user: User) -> None:
    _require(handoff, ACTIVE)
    if handoff.operator != user.username:
        raise TakeoverError(f"该会话正在由 {handoff.operator} 处理；如需改由您处理，请先点击“改由我接管”。")


def _session_expires_soon(client: RasaClient, tracker: dict[str, Any]) -> bool:
    """True when the citizen's next message would start a new Rasa session (which would un-pause it)."""
    expiry = blocking(client.session_expiration_seconds())
    # Like Rasa: the latest user message in the tracker's order (not the largest timestamp).
    users = [e for e in tracker.get("events") or [] if e.get("event") == "user"]
    last_user = users[-1].get("timestamp") if users else None
    return bool(expiry) and last_user is not None and time.time() - last_user > expiry - SESSION_MARGIN_SECONDS


def take(session: Session, handoff: Handoff, user: User, client: RasaClient, transfer: bool = False) -> str | None:
    """Pause the conversation in Rasa and make `user` its operator; returns a warning for the operator, if any.

    The claim is committed first, atomically (two operators clicking at once: one wins), and undone when Rasa
    cannot pause the conversation."""
    if handoff.status == ACTIVE and handoff.operator == user.username:
        return None
    allowed = (WAITING, ACTIVE) if transfer else (WAITING,)
    _require(handoff, *allowed)
    sender_id = sender_for(session, handoff.sender_hash)
    try:
        tracker = blocking(client.tracker(sender_id))
        channel = deliverable_channel(tracker)
        new_session = _session_expires_soon(client, tracker)
    except RasaError as error:
        raise TakeoverError(str(error), 502) from error
    previous = (handoff.status, handoff.operator, handoff.taken_at)
    claimed = (
        session.query(Handoff)
        .filter(Handoff.id == handoff.id, Handoff.status == previous[0], _same_operator(previous[1]))
        .update({"status": ACTIVE, "operator": user.username, "taken_at": time.time(), "channel": channel},
                synchronize_session=False)
    )
    session.commit()
    session.refresh(handoff)
    if not claimed:
        raise TakeoverError(f"该请求刚刚已由 {handoff.operator or '其他工作人员'} 处理，请刷新页面。")
    try:
        blocking(client.pause(sender_id, new_session=new_session))
    except RasaError as error:
        handoff.status, handoff.operator, handoff.taken_at = previous
        session.commit()
        raise TakeoverError(str(error), 502) from error
    detail = f"从 {previous[1]} 转为本人处理" if previous[0] == ACTIVE else "接管会话，智能助手暂停应答"
    audit(session, user, "takeover", handoff.sender_hash, f"接管 #{handoff.id}：{detail}")
    if previous[0] == ACTIVE:
        return None
    try:
        blocking(client.send(sender_id, TAKEN_TEXT, user.username, channel=channel))
    except RasaError as error:
        return f"已接管，但接入提示未能发送给市民：{error}"
    return None


def _same_operator(operator: str | None) -> Any:
    return Handoff.operator.is_(None) if operator is None else Handoff.operator == operator


def clean_reply(text: str) -> str:
    """The reply as it will reach the citizen (see _CONTROL_CHARS), refused when empty or too long."""
    text = _CONTROL_CHARS.sub("", _LINE_BREAKS.sub("\n", text or "")).strip()
    if not text:
        raise TakeoverError("请输入要发送给市民的内容。", 400)
    if len(text) > MAX_REPLY_CHARS:
        raise TakeoverError(f"回复过长（最多 {MAX_REPLY_CHARS} 字），请精简或分几次发送。", 400)
    return text


def reply(session: Session, handoff: Handoff, user: User, client: RasaClient, text: str) -> None:
    """Send the operator's text to the citizen through their channel; it is stored only when delivered."""
    text = clean_reply(text)
    _require_holder(handoff, user)
    sender_id = sender_for(session, handoff.sender_hash)
    try:
        blocking(client.send(sender_id, text, user.username, channel=handoff.channel))
    except RasaError as error:
        raise TakeoverError(str(error), 502) from error
    audit(session, user, "takeover_reply", handoff.sender_hash, f"接管 #{handoff.id}：回复 {mask_text(text)[:200]}")


def hand_back(session: Session, handoff: Handoff, user: User, client: RasaClient) -> str | None:
    """Resume the assistant, tell the citizen, close the handoff; returns a warning when the notice failed."""
    _require(handoff, ACTIVE)
    if handoff.operator != user.username and user.role != "admin":
        raise TakeoverError(f"该会话正在由 {handoff.operator} 处理，只有该工作人员或管理员可以交还。")
    sender_id = sender_for(session, handoff.sender_hash)
    try:
        blocking(client.resume(sender_id, slots={"handoff_requested": False}))
    except RasaError as error:
        raise TakeoverError(str(error), 502) from error
    handoff.status, handoff.closed_at, handoff.closed_reason = CLOSED, time.time(), "handed_back"
    audit(session, user, "handback", handoff.sender_hash, f"接管 #{handoff.id}：交还智能助手")
    session.commit()
    try:
        blocking(client.send(sender_id, HANDBACK_TEXT, user.username, {"handback": True}, channel=handoff.channel))
    except RasaError as error:
        return f"已交还智能助手，但通知消息未能送达市民：{error}"
    return None


def dismiss(session: Session, handoff: Handoff, user: User) -> None:
    """Close a waiting request without taking it (the citizen left, or was helped another way)."""
    _require(handoff, WAITING)
    handoff.status, handoff.closed_at, handoff.closed_reason = CLOSED, time.time(), "dismissed"
    handoff.operator = user.username
    audit(session, user, "takeover_dismiss", handoff.sender_hash, f"接管 #{handoff.id}：关闭请求")


def purge(session: Session, cutoff: float) -> int:
    """Retention: closed handoffs requested before `cutoff`, and the sealed ids of senders with no event left
    (call after deleting old events; the caller commits). Returns how many handoffs were deleted."""
    old = session.query(Handoff.id).filter(Handoff.status == CLOSED, Handoff.requested_at < cutoff)
    session.query(HandoffRequest).filter(HandoffRequest.handoff_id.in_(old.subquery().select())).delete(
        synchronize_session=False
    )
    deleted = session.query(Handoff).filter(Handoff.status == CLOSED, Handoff.requested_at < cutoff).delete(
        synchronize_session=False
    )
    purge_unused_senders(session)
    return deleted
