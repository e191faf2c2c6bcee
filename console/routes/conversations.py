"""Conversation list (filters, paging) and conversation detail (every turn, masked)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from console import domain
from console.index import (
    CHANNEL_LABELS,
    CHANNELS,
    FLAG_LABELS,
    FLAGS,
    REVIEW_LABELS,
    conversation_events,
    get_conversation,
)
from console.review import all_tags, annotate, corrections_of, flags_of, tags_of
from console.search import Filters, search_conversations
from console.turns import build_turns
from console.users import User
from console.web import audit, audited_view, current_user, get_db, render

router = APIRouter()

PER_PAGE = 50
FLAG_STYLES = {
    "completed": "ok",
    "fallback": "warn",
    "handoff": "info",
    "abandoned_form": "warn",
    "service_error": "bad",
    "low_confidence": "warn",
}
DONE_TEXTS = {  # ?ok=<code> after a change (fixed texts: nothing from the query string is echoed)
    "reviewed": "已标记为已审核。",
    "unreviewed": "已改回待审核。",
    "tagged": "标签已添加。",
    "untagged": "标签已移除。",
    "flagged": "消息已标记。",
    "unflagged": "已取消标记。",
    "corrected": "更正已保存，审核通过后可在“标注更正”页导出。",
    "uncorrected": "更正已删除。",
}
NOT_FOUND_TEXT = "该会话不存在，可能已超过保留期被删除。请返回会话列表。"


def labels() -> dict[str, Any]:
    """Labels and badge styles every page of this area uses."""
    return {
        "flag_labels": FLAG_LABELS,
        "flag_styles": FLAG_STYLES,
        "review_labels": REVIEW_LABELS,
        "channel_labels": CHANNEL_LABELS,
    }


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or "1"), 100_000))
    except ValueError:
        return 1


@router.get("/conversations")
def conversation_list(request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)) -> Response:
    params = dict(request.query_params)
    filters = Filters.from_params(params)
    page = search_conversations(db, filters, _page_number(params.get("page")), PER_PAGE)
    context = {
        "page": page,
        "filters": filters,
        "channels": CHANNELS,
        "intents": domain.intents(),
        "outcomes": FLAGS,
        "tags": all_tags(db),
        **labels(),
    }
    return render(request, "conversations_list.html", context, user)


def load_conversation(db: Session, conversation_id: int) -> Any:
    conversation = get_conversation(db, conversation_id)
    if conversation is None:
        raise HTTPException(404, NOT_FOUND_TEXT)
    return conversation


def detail_page(
    request: Request, db: Session, user: User, conversation_id: int, error: str = "", status: int = 200
) -> Response:
    """The detail page (also re-rendered with an error by the review actions). Every view is audited."""
    conversation = load_conversation(db, conversation_id)
    turns = build_turns(conversation_events(db, conversation))
    corrections = corrections_of(db, conversation.id)
    audit(db, user, "view_conversation", str(conversation.id))
    prefill = {  # the correction form: the saved correction, else the NLU's own entities as markup
        t.user.event_id: corrections[t.user.event_id].annotated
        if t.user.event_id in corrections
        else annotate(t.user.text, t.user.entities)
        for t in turns
        if t.user is not None
    }
    context = {
        "conversation": conversation,
        "turns": turns,
        "tags": tags_of(db, [conversation.id]).get(conversation.id, []),
        "flags": flags_of(db, conversation.id),
        "corrections": corrections,
        "prefill": prefill,
        "intents": domain.trainable_intents(),
        "entities": domain.entities(),
        "error": error,
        "done": DONE_TEXTS.get(request.query_params.get("ok", ""), ""),
        **labels(),
    }
    return render(request, "conversation_detail.html", context, user, status_code=status)


@router.get("/conversations/{conversation_id}", dependencies=[Depends(audited_view)])
def conversation_detail(
    conversation_id: int, request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)
) -> Response:
    return detail_page(request, db, user, conversation_id)
