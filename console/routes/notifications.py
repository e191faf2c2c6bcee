"""进度提醒: what became of the notifications sent when a watched transaction changed state (bot/notifier).

Operators see every recent notification with its status and reason, the undeliverable ones highlighted (a WeChat
follower outside the 48-hour window without a template, a blocked Telegram bot, a channel not configured), each
with a link to its conversation, so that someone can reach the citizen another way.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from bot.names import CHANNEL_LABELS, SERVICE_LABELS, label
from bot.notifier import store
from bot.notifier.models import (
    DELIVERED,
    DELIVERED_TEMPLATE,
    FAILED,
    OPTED_OUT,
    PROBLEMS,
    QUEUED,
    SENDING,
    UNDELIVERABLE,
    Notification,
)
from console.index import Conversation
from console.users import User
from console.web import current_user, get_db, render

router = APIRouter()

SHOWN = 200
WEEK = 7 * 24 * 3600
# The conversation a notification went into may be a session it started itself, a moment after it was received.
SESSION_SLACK = 120.0
STATUS_LABELS = {
    QUEUED: "等待发送", SENDING: "发送中", DELIVERED: "已送达", DELIVERED_TEMPLATE: "已改发模板消息",
    UNDELIVERABLE: "无法送达", OPTED_OUT: "已退订，未发送", FAILED: "发送失败",
}
BADGES = {DELIVERED: "ok", DELIVERED_TEMPLATE: "warn", UNDELIVERABLE: "bad", FAILED: "bad", OPTED_OUT: "info"}


def _conversations(db: Session, rows: list[Notification]) -> dict[int, int]:
    """Notification id → the id of its conversation in the list, when the index has one."""
    found: dict[int, int] = {}
    for row in rows:
        if not row.sender_hash:
            continue
        conversation = db.execute(
            sa.select(Conversation.id)
            .where(Conversation.sender_id == row.sender_hash,
                   Conversation.started_at <= row.received_at + SESSION_SLACK)
            .order_by(Conversation.started_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        if conversation is not None:
            found[row.id] = conversation
    return found


def _entry(row: Notification, conversation_id: int | None) -> dict[str, Any]:
    return {
        "row": row,
        "service": label(SERVICE_LABELS, row.service),
        "channel": label(CHANNEL_LABELS, row.channel or "") or "—",
        "status": STATUS_LABELS.get(row.status, row.status),
        "badge": BADGES.get(row.status, ""),
        "problem": row.status in PROBLEMS,
        "conversation_id": conversation_id,
    }


@router.get("/notifications")
def list_page(request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)) -> Response:
    problems_only = request.query_params.get("problems") == "1"
    rows = store.recent(db, SHOWN, problems_only=problems_only)
    links = _conversations(db, rows)
    week = store.counts(db, time.time() - WEEK)
    context = {
        "entries": [_entry(row, links.get(row.id)) for row in rows],
        "problems_only": problems_only,
        "shown": SHOWN,
        "week": {
            "delivered": week.get(DELIVERED, 0) + week.get(DELIVERED_TEMPLATE, 0),
            "problems": sum(week.get(status, 0) for status in PROBLEMS),
            "opted_out": week.get(OPTED_OUT, 0),
            "waiting": week.get(QUEUED, 0) + week.get(SENDING, 0),
        },
    }
    return render(request, "notifications.html", context, user)
