"""Review actions on a conversation (status, tags, flags, corrections) and the downloads (test story, NLU YAML).

Every one is a POST with the CSRF token, the downloads too: an export is audited in the operator's name, so no
foreign page may start one (the old GET addresses answer 405)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from console.index import Conversation
from console.review import (
    Correction,
    Export,
    ReviewError,
    add_tag,
    correct_message,
    corrections_export,
    delete_corrections,
    flag_message,
    remove_tag,
    set_review_status,
    story_export,
    unflag_message,
)
from console.routes.conversations import detail_page, labels, load_conversation
from console.users import User
from console.web import audit, csrf_protect, current_user, get_db, posted_form, render

router = APIRouter()
CSRF = [Depends(csrf_protect)]
Form = Depends(posted_form)


def _back(conversation_id: int, done: str, anchor: str = "") -> Response:
    target = f"/conversations/{conversation_id}?ok={done}" + (f"#{anchor}" if anchor else "")
    return RedirectResponse(target, status_code=303)


def _download(export: Export) -> Response:
    disposition = f"attachment; filename=\"{export.filename}\"; filename*=UTF-8''{quote(export.filename)}"
    return Response(
        export.content.encode("utf-8"),
        media_type="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@router.post("/conversations/{conversation_id}/review", dependencies=CSRF)
def review_status(
    conversation_id: int,
    request: Request,
    form: dict[str, str] = Form,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    conversation = load_conversation(db, conversation_id)
    status = form.get("status", "reviewed")
    try:
        set_review_status(db, conversation, status, user.username)
    except ReviewError as error:
        return detail_page(request, db, user, conversation_id, str(error), 400)
    audit(db, user, "review", str(conversation_id), status)
    return _back(conversation_id, status)


@router.post("/conversations/{conversation_id}/tags", dependencies=CSRF)
def tag_add(
    conversation_id: int,
    request: Request,
    form: dict[str, str] = Form,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    conversation = load_conversation(db, conversation_id)
    try:
        tag = add_tag(db, conversation.id, form.get("tag", ""), user.username)
    except ReviewError as error:
        return detail_page(request, db, user, conversation_id, str(error), 400)
    audit(db, user, "tag", str(conversation_id), f"添加标签：{tag}")
    return _back(conversation_id, "tagged")


@router.post("/conversations/{conversation_id}/tags/remove", dependencies=CSRF)
def tag_remove(
    conversation_id: int, form: dict[str, str] = Form, user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    conversation = load_conversation(db, conversation_id)
    tag = form.get("tag", "")
    remove_tag(db, conversation.id, tag)
    audit(db, user, "tag", str(conversation_id), f"移除标签：{tag[:32]}")
    return _back(conversation_id, "untagged")


@router.post("/conversations/{conversation_id}/messages/{event_id}/flag", dependencies=CSRF)
def message_flag(
    conversation_id: int,
    event_id: int,
    request: Request,
    form: dict[str, str] = Form,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    conversation = load_conversation(db, conversation_id)
    try:
        flag_message(db, conversation, event_id, form.get("note", ""), user.username)
    except ReviewError as error:
        return detail_page(request, db, user, conversation_id, str(error), 400)
    audit(db, user, "flag", f"{conversation_id}/{event_id}")
    return _back(conversation_id, "flagged", f"event-{event_id}")


@router.post("/conversations/{conversation_id}/messages/{event_id}/unflag", dependencies=CSRF)
def message_unflag(
    conversation_id: int, event_id: int, user: User = Depends(current_user), db: Session = Depends(get_db)
) -> Response:
    unflag_message(db, load_conversation(db, conversation_id), event_id)
    audit(db, user, "flag", f"{conversation_id}/{event_id}", "取消标记")
    return _back(conversation_id, "unflagged", f"event-{event_id}")


@router.post("/conversations/{conversation_id}/messages/{event_id}/correction", dependencies=CSRF)
def message_correct(
    conversation_id: int,
    event_id: int,
    request: Request,
    form: dict[str, str] = Form,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    conversation = load_conversation(db, conversation_id)
    try:
        correction = correct_message(
            db, conversation, event_id, form.get("intent", ""), form.get("annotated", ""), user.username
        )
    except ReviewError as error:
        return detail_page(request, db, user, conversation_id, str(error), 400)
    audit(db, user, "correct", f"{conversation_id}/{event_id}", f"意图：{correction.intent}")
    return _back(conversation_id, "corrected", f"event-{event_id}")


@router.post("/conversations/{conversation_id}/messages/{event_id}/correction/delete", dependencies=CSRF)
def message_uncorrect(
    conversation_id: int, event_id: int, user: User = Depends(current_user), db: Session = Depends(get_db)
) -> Response:
    delete_corrections(db, load_conversation(db, conversation_id), event_id)
    audit(db, user, "correct", f"{conversation_id}/{event_id}", "删除更正")
    return _back(conversation_id, "uncorrected", f"event-{event_id}")


@router.post("/conversations/{conversation_id}/story.yml", dependencies=CSRF)
def story_download(
    conversation_id: int, user: User = Depends(current_user), db: Session = Depends(get_db)
) -> Response:
    export = story_export(db, load_conversation(db, conversation_id))
    audit(db, user, "export", str(conversation_id), f"测试故事 {export.filename}")
    return _download(export)


@router.get("/review")
def review_page(request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)) -> Response:
    """Every correction, with whether its conversation is reviewed (only those are exported)."""
    rows = (
        db.query(Correction, Conversation.review_status)
        .join(Conversation, Conversation.id == Correction.conversation_id)
        .order_by(Correction.updated_at.desc())
        .limit(500)
        .all()
    )
    context = {"rows": rows, "exportable": sum(1 for _, status in rows if status == "reviewed"), **labels()}
    return render(request, "review_corrections.html", context, user)


@router.post("/review/corrections.yml", dependencies=CSRF)
def corrections_download(user: User = Depends(current_user), db: Session = Depends(get_db)) -> Response:
    export = corrections_export(db)
    audit(db, user, "export", "corrections", f"NLU 更正 {export.count} 条")
    return _download(export)
