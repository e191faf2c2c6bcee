"""GET /dashboard (charts) and GET /dashboard.json (the same figures for scripts), for any logged-in user."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from bot.names import STATUS_LABELS
from bot.rating_levels import LEVELS
from console import charts
from console.dashboard import (
    PERCENTILES,
    STATUSES,
    DateRange,
    Figures,
    cached_figures,
    intent_label,
)
from console.users import User
from console.web import current_user, get_db, render

router = APIRouter()

QUICK_RANGES = (7, 30, 90)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)) -> HTMLResponse:
    date_range, errors = DateRange.from_params(dict(request.query_params))
    figures = cached_figures(db, date_range, request.app.state.session_factory)
    quick = [{"days": days, "href": "/dashboard?" + urlencode(DateRange.last_days(days).params())}
             for days in QUICK_RANGES]
    context = {"figures": figures, "range": date_range, "errors": errors, "charts": build_charts(figures),
               "quick": quick, "percentiles": PERCENTILES, "intent_label": intent_label, "rating_levels": LEVELS}
    return render(request, "dashboard.html", context, user)


@router.get("/dashboard.json")
def dashboard_json(request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)) -> JSONResponse:
    date_range, errors = DateRange.from_params(dict(request.query_params))
    figures = cached_figures(db, date_range, request.app.state.session_factory)
    return JSONResponse({**figures.as_dict(), "errors": errors})


def _count(value: int) -> str:
    return charts.format_number(value)


def build_charts(figures: Figures) -> dict[str, Markup]:
    """Every chart of the page as inline SVG."""
    total = figures.conversations
    out: dict[str, Any] = {
        "containment": charts.percent_tile(
            "自助解决率", figures.containment_rate, colour="#2da44e",
            detail=f"{_count(figures.contained)} / {_count(total)} 个会话未转人工" if total else ""),
        "handoff": charts.percent_tile(
            "转人工率", figures.handoff_rate, colour="#d4a72c",
            detail=f"{_count(figures.handoffs)} / {_count(total)} 个会话" if total else ""),
        "fallback": charts.percent_tile(
            "未能理解率", figures.fallback_rate, colour="#cf222e",
            detail=f"{_count(figures.fallbacks)} / {_count(total)} 个会话" if total else ""),
        "per_day": charts.bar_chart(
            [d.strftime("%m-%d") for d, _ in figures.per_day],
            [("会话数", [n for _, n in figures.per_day])],
            title="每日会话数", width=1100, height=260, css_class="bar-chart per-day"),
        "intents": charts.horizontal_bars(
            [(intent_label(name), n) for name, n in figures.top_intents],
            title="用户消息意图排行", width=420, label_width=120, css_class="hbar-chart intents"),
        "transactions": charts.stacked_bars(
            [(r.label, [r.completed, r.rejected, r.error]) for r in figures.transactions],
            [STATUS_LABELS[s] for s in STATUSES],
            title="各项业务办理结果", width=420, label_width=110,
            css_class="stacked-chart transactions"),
    }
    latency = figures.latency
    out["latency"] = charts.horizontal_bars(
        [(f"P{p}", round(latency.percentiles[p] * 1000)) for p in PERCENTILES] if latency else [],
        title="每轮响应时间（毫秒）", unit=" 毫秒", width=420, label_width=60, css_class="hbar-chart latency")
    return out
