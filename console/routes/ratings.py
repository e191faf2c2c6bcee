"""好差评 pages: the ratings with their follow-ups, and one rating with the follow-up form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.clock import china_today
from console import ratings
from console.index import conversation_at
from console.ratings import FOLLOWUP_LABELS, Rating
from console.routes.takeover import rasa_client
from console.takeover import TakeoverError
from console.users import User
from console.web import audit, audited_view, csrf_protect, current_user, get_db, posted_form, render

router = APIRouter()

NOT_FOUND_TEXT = "该评价不存在，可能已过保留期被删除。请返回评价列表。"
DONE_TEXT = "回访已记录。"


def _rating(db: Session, rating_pk: int) -> Rating:
    rating = ratings.get_rating(db, rating_pk)
    if rating is None:
        raise HTTPException(404, NOT_FOUND_TEXT)
    return rating


@router.get("/ratings")
def list_page(request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)) -> Response:
    params = request.query_params
    followup = params.get("followup") if params.get("followup") in FOLLOWUP_LABELS else None
    service = params.get("service") or None
    overdue = params.get("overdue") == "1"
    context: dict[str, Any] = {
        "ratings": ratings.listing(db, followup=followup, service=service, overdue=overdue),
        "services": ratings.services_rated(db),
        "followup_labels": FOLLOWUP_LABELS,
        "chosen": {"followup": followup or "", "service": service or "", "overdue": overdue},
        "open_count": ratings.open_count(db),
        "overdue_count": ratings.overdue_count(db),
        "today": china_today(),
    }
    return render(request, "ratings_list.html", context, user)


def _detail(request: Request, db: Session, user: User, rating: Rating, *, error: str = "",
            form: dict[str, str] | None = None, status: int = 200) -> Response:
    context: dict[str, Any] = {
        "rating": rating,
        "conversation_id": conversation_at(db, rating.sender_hash, rating.event_id),
        "today": china_today(),
        "done": DONE_TEXT if request.query_params.get("ok") == "1" else "",
        "error": error,
        "form": form or {},
        "max_reply": ratings.MAX_FINDINGS,
    }
    return render(request, "rating_detail.html", context, user, status_code=status)


@router.get("/ratings/{rating_pk}", dependencies=[Depends(audited_view)])
def detail_page(rating_pk: int, request: Request, user: User = Depends(current_user),
                db: Session = Depends(get_db)) -> Response:
    rating = _rating(db, rating_pk)
    audit(db, user, "view_rating", rating.sender_hash, f"评价 #{rating.id}")
    return _detail(request, db, user, rating)


@router.post("/ratings/{rating_pk}/followup", dependencies=[Depends(csrf_protect)])
def record_followup(
    rating_pk: int,
    request: Request,
    form: dict[str, str] = Depends(posted_form),
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    rating = _rating(db, rating_pk)
    try:
        ratings.record_followup(db, rating, user, rasa_client(request), form.get("findings", ""),
                                form.get("reply", ""), answered_elsewhere=form.get("answered_elsewhere") == "1")
    except TakeoverError as error:
        kept = {key: form.get(key, "")[: ratings.MAX_FINDINGS * 2] for key in ("findings", "reply")}
        return _detail(request, db, user, rating, error=str(error), form=kept, status=error.status)
    return RedirectResponse(f"/ratings/{rating.id}?ok=1", status_code=303)
