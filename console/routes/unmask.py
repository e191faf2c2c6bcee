"""Unmask one conversation: an admin, with a stated reason, sees the raw messages once; every unmask is audited.

The console stores nothing unmasked. The raw text exists only in Rasa's live tracker (which expires), reached
with the conversation's sealed (channel-namespaced) sender id; the page shows it, secrets excepted
(console.unmasking), and keeps nothing.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from console.rasa_client import RasaError, blocking
from console.routes.conversations import detail_page, load_conversation
from console.routes.takeover import rasa_client
from console.takeover import real_sender_id
from console.unmasking import raw_rows
from console.users import User
from console.web import audit, csrf_protect, get_db, posted_form, render, require_admin

router = APIRouter()

MIN_REASON_CHARS = 4
REASON_MISSING = f"请填写解除脱敏的理由（至少 {MIN_REASON_CHARS} 个字），该理由会记入审计日志。"
SENDER_GONE = "无法解除脱敏：该会话的用户标识已按保留期删除，或密钥（PII_SEAL_KEY）已更换。"
TRACKER_GONE = "无法解除脱敏：实时会话记录已过期或已删除（原始内容只在实时会话中保留）。"
SLACK_SECONDS = 5.0  # the log's timestamps and the tracker's are written a moment apart


@router.post("/conversations/{conversation_id}/unmask", dependencies=[Depends(csrf_protect)])
def unmask(
    conversation_id: int,
    request: Request,
    form: dict[str, str] = Depends(posted_form),
    user: User = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Response:
    conversation = load_conversation(db, conversation_id)
    reason = form.get("reason", "").strip()
    if len(reason) < MIN_REASON_CHARS:
        return detail_page(request, db, user, conversation_id, error=REASON_MISSING, status=400)
    sender_id = real_sender_id(db, conversation.sender_id)
    if sender_id is None:
        return detail_page(request, db, user, conversation_id, error=SENDER_GONE, status=404)
    try:
        tracker = blocking(rasa_client(request).tracker(sender_id))
    except RasaError as error:
        return detail_page(request, db, user, conversation_id, error=str(error), status=502)
    rows = raw_rows(tracker, conversation.started_at - SLACK_SECONDS, conversation.last_at + SLACK_SECONDS)
    if not rows:
        return detail_page(request, db, user, conversation_id, error=TRACKER_GONE, status=404)
    audit(db, user, "unmask", str(conversation.id), reason)
    context = {"conversation": conversation, "rows": rows, "reason": reason, "unmasked_at": datetime.now()}
    return render(request, "conversation_unmasked.html", context, user)
