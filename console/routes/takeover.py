"""Takeover pages: the queue of citizens waiting for a human, and one conversation with a reply box."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from console import takeover
from console.index import conversation_at
from console.rasa_client import RasaClient
from console.takeover import ACTIVE, WAITING, Handoff, TakeoverError
from console.users import User
from console.web import audit, audited_view, csrf_protect, current_user, get_db, posted_form, render

router = APIRouter()

DONE_TEXTS = {  # ?ok=<code> after an action: fixed texts, nothing from the query is echoed
    "taken": "已接管：智能助手暂停应答，市民的新消息会显示在下方。",
    "sent": "回复已送达市民。",
    "handed_back": "已交还智能助手，并已通知市民。",
    "dismissed": "已关闭该请求。",
}
NOT_FOUND_TEXT = "该接管请求不存在，可能已过保留期被删除。请返回接管队列。"


def rasa_client(request: Request) -> RasaClient:
    """One client per app (tests may put their own on app.state.rasa_client)."""
    client = getattr(request.app.state, "rasa_client", None)
    if client is None:
        settings = request.app.state.settings
        client = request.app.state.rasa_client = RasaClient(settings.rasa_url, settings.rasa_token)
    return client


def waited(seconds: float) -> str:
    """A duration as operators say it: 刚刚, 5 分钟, 2 小时 10 分钟, 3 天."""
    minutes = int(max(seconds, 0) // 60)
    if minutes < 1:
        return "不到 1 分钟"
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} 小时" + (f" {rest} 分钟" if rest else "")
    return f"{hours // 24} 天" + (f" {hours % 24} 小时" if hours % 24 else "")


def _handoff(db: Session, handoff_id: int) -> Handoff:
    handoff = takeover.get_handoff(db, handoff_id)
    if handoff is None:
        raise HTTPException(404, NOT_FOUND_TEXT)
    return handoff


def _conversation_id(db: Session, handoff: Handoff) -> int | None:
    """The conversation list's id of the request's conversation, when the index has it (link to its detail)."""
    if handoff.request_event_id is None:
        return None
    return conversation_at(db, handoff.sender_hash, handoff.request_event_id)


@router.get("/takeover")
def queue_page(request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)) -> Response:
    now = time.time()
    entries = [
        {"handoff": h, "recent": takeover.recent_user_messages(db, h), "waited": waited(now - h.requested_at)}
        for h in takeover.queue(db)
    ]
    context = {
        "waiting": [e for e in entries if e["handoff"].status == WAITING],
        "active": [e for e in entries if e["handoff"].status == ACTIVE],
        "closed": takeover.recently_closed(db),
    }
    return render(request, "takeover_queue.html", context, user)


def _detail(
    request: Request, db: Session, user: User, handoff: Handoff, *, error: str = "", warning: str = "",
    reply_text: str = "", status: int = 200,
) -> Response:
    found = takeover.messages(db, handoff)
    context: dict[str, Any] = {
        "handoff": handoff,
        "messages": found,
        "last_id": found[-1].id if found else 0,
        "waited": waited(time.time() - handoff.requested_at),
        "conversation_id": _conversation_id(db, handoff),
        "is_holder": handoff.status == ACTIVE and handoff.operator == user.username,
        "done": DONE_TEXTS.get(request.query_params.get("ok", ""), ""),
        "error": error,
        "warning": warning,
        "reply_text": reply_text,
        "max_reply": takeover.MAX_REPLY_CHARS,
    }
    return render(request, "takeover_detail.html", context, user, status_code=status)


@router.get("/takeover/{handoff_id}", dependencies=[Depends(audited_view)])
def detail_page(
    handoff_id: int, request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)
) -> Response:
    handoff = _handoff(db, handoff_id)
    audit(db, user, "view_conversation", handoff.sender_hash, f"人工接管 #{handoff.id}")
    return _detail(request, db, user, handoff)


@router.get("/api/takeover/{handoff_id}/messages")
def new_messages(
    handoff_id: int, after: int = 0, user: User = Depends(current_user), db: Session = Depends(get_db)
) -> JSONResponse:
    """What the open detail page polls: messages after row id `after`, and the handoff's status."""
    handoff = _handoff(db, handoff_id)
    found = takeover.messages(db, handoff, after_id=max(after, 0))
    return JSONResponse(
        {
            "status": handoff.status,
            "status_label": handoff.status_label,
            "operator": handoff.operator,
            "messages": [m.as_json() for m in found],
        }
    )


def _after_action(
    request: Request, db: Session, user: User, handoff: Handoff, done: str, warning: str | None
) -> Response:
    if warning:
        return _detail(request, db, user, handoff, warning=warning)
    return RedirectResponse(f"/takeover/{handoff.id}?ok={done}", status_code=303)


def _failed(request: Request, db: Session, user: User, handoff: Handoff, error: TakeoverError,
            reply_text: str = "") -> Response:
    db.refresh(handoff)
    return _detail(request, db, user, handoff, error=str(error), reply_text=reply_text, status=error.status)


@router.post("/takeover/{handoff_id}/take", dependencies=[Depends(csrf_protect)])
def take(
    handoff_id: int,
    request: Request,
    form: dict[str, str] = Depends(posted_form),
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    handoff = _handoff(db, handoff_id)
    transfer = form.get("transfer") == "1"
    try:
        warning = takeover.take(db, handoff, user, rasa_client(request), transfer=transfer)
    except TakeoverError as error:
        return _failed(request, db, user, handoff, error)
    return _after_action(request, db, user, handoff, "taken", warning)


@router.post("/takeover/{handoff_id}/reply", dependencies=[Depends(csrf_protect)])
def reply(
    handoff_id: int,
    request: Request,
    form: dict[str, str] = Depends(posted_form),
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    handoff = _handoff(db, handoff_id)
    text = form.get("text", "")
    try:
        takeover.reply(db, handoff, user, rasa_client(request), text)
    except TakeoverError as error:
        return _failed(request, db, user, handoff, error, reply_text=text[: takeover.MAX_REPLY_CHARS * 2])
    return _after_action(request, db, user, handoff, "sent", None)


@router.post("/takeover/{handoff_id}/handback", dependencies=[Depends(csrf_protect)])
def hand_back(
    handoff_id: int, request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)
) -> Response:
    handoff = _handoff(db, handoff_id)
    try:
        warning = takeover.hand_back(db, handoff, user, rasa_client(request))
    except TakeoverError as error:
        return _failed(request, db, user, handoff, error)
    return _after_action(request, db, user, handoff, "handed_back", warning)


@router.post("/takeover/{handoff_id}/dismiss", dependencies=[Depends(csrf_protect)])
def dismiss(
    handoff_id: int, request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)
) -> Response:
    handoff = _handoff(db, handoff_id)
    try:
        takeover.dismiss(db, handoff, user)
    except TakeoverError as error:
        return _failed(request, db, user, handoff, error)
    return _after_action(request, db, user, handoff, "dismissed", None)
