"""Retention: the conversation log keeps `days` days (default 180, RETENTION_DAYS); older events are deleted,
with the index and review rows of conversations left without events."""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.conversation_log import ConversationEvent
from console.index import Conversation, delete_conversations, reindex_tokens
from console.ratings import purge as purge_ratings
from console.review import delete_review_data
from console.takeover import purge as purge_takeovers


@dataclass(frozen=True)
class PurgeResult:
    events: int
    conversations: int

    def __str__(self) -> str:
        return f"已删除 {self.events} 条会话事件、{self.conversations} 个会话（保留期外）。"


def purge(session: Session, days: float, *, now: float | None = None) -> PurgeResult:
    """Delete events older than `days` days and what the console derived from them. The caller commits."""
    if days <= 0:
        raise ValueError("retention days must be positive")
    cutoff = (now if now is not None else time.time()) - days * 86400
    events = session.execute(sa.delete(ConversationEvent).where(ConversationEvent.timestamp < cutoff)).rowcount
    # Every event of a conversation that ended before the cutoff is gone.
    emptied = [cid for (cid,) in session.execute(sa.select(Conversation.id).where(Conversation.last_at < cutoff))]
    delete_conversations(session, emptied)
    delete_review_data(session, emptied, before=cutoff)
    # Conversations that straddle the cutoff keep their newer events; their search tokens are rebuilt from those.
    straddling = session.query(Conversation).filter(Conversation.started_at < cutoff, Conversation.last_at >= cutoff)
    for conversation in straddling:
        reindex_tokens(session, conversation)
    purge_ratings(session, cutoff)  # follow-ups still open stay until they are answered
    purge_takeovers(session, cutoff)  # closed handoffs and the sealed ids of senders with no event left
    return PurgeResult(events or 0, len(emptied))
