"""Development-only hooks, mounted only when GOVBOT_ENV is `development` (services/app.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from services import identity
from services.deps import get_session

router = APIRouter(prefix="/dev", tags=["development"])


@router.get("/sms-outbox", summary="查看短信发件箱（仅开发环境）")
def sms_outbox(
    phone: str | None = Query(None), session: Session = Depends(get_session)
) -> list[dict[str, Any]]:
    return identity.outbox(session, phone)
