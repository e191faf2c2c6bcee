"""The console's FastAPI app: routers of every area, static files, security headers, error pages, periodic jobs."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.settings import ConsoleSettings
from console.db import init_db, make_engine, session_factory, session_scope
from console.web import render, resolve_viewer

logger = logging.getLogger(__name__)

ROUTERS = ("auth", "admin", "conversations", "review", "dashboard", "takeover", "ratings", "notifications", "unmask")
# The log's one reader feeds the index and the takeover queue; then stale handoffs are closed.
PERIODIC_JOBS = ("console.projection:refresh", "console.takeover:close_stale_handoffs")
STATIC_DIR = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

ERROR_TEXTS = {  # status → (title, default message)
    400: ("请求有误", "请求的内容有误，请返回上一页检查后重试。"),
    401: ("请先登录", "请先登录后再进行此操作。"),
    403: ("没有权限", "您没有权限访问此页面。如需权限，请联系管理员。"),
    404: ("页面不存在", "您访问的页面不存在或已被删除，请从导航栏重新进入。"),
    405: ("操作方式不支持", "不支持这种请求方式，请从页面上的按钮进行操作。"),
    413: ("内容过大", "提交的内容过大，请精简后重试。"),
    422: ("参数有误", "请求的参数有误，请返回上一页检查后重试。"),
    429: ("操作过于频繁", "操作过于频繁，请稍后再试。"),
    500: ("系统错误", "系统暂时出现问题，请稍后重试；如果问题持续，请联系管理员。"),
}


def create_app(settings: ConsoleSettings | None = None, run_jobs: bool = True) -> FastAPI:
    settings = settings or ConsoleSettings.from_env()
    engine = make_engine(settings.database_url)
    init_db(engine)
    factory = session_factory(engine)

    app = FastAPI(
        title="政务服务助手 运营后台",
        docs_url=None,  # no anonymous API docs: every route needs a login
        redoc_url=None,
        openapi_url=None,
        lifespan=_lifespan if run_jobs else None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = factory
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for name in ROUTERS:
        app.include_router(importlib.import_module(f"console.routes.{name}").router)
    app.middleware("http")(_security_headers)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
    return app


# --- responses -------------------------------------------------------------------------------------------


async def _security_headers(request: Request, call_next: Callable) -> Response:
    response = await call_next(request)
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    if not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")  # pages carry (masked) conversation data
    return response


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept)


def _error_response(request: Request, status: int, message: str | None, headers: dict | None = None) -> Response:
    title, default = ERROR_TEXTS.get(status, ("出错了", "请求未能完成，请稍后重试。"))
    text = message if message and not message.isascii() else default  # only our own Chinese details are shown
    if _wants_json(request):
        return JSONResponse({"detail": text}, status_code=status, headers=headers)
    user = resolve_viewer(request)
    context = {"status": status, "title": title, "message": text}
    response = render(request, "error.html", context, user, status_code=status)
    for header, value in (headers or {}).items():
        response.headers[header] = value
    return response


# The handlers are plain functions: Starlette runs them in a worker thread, and an error page may read the
# database (who is logged in, for the navigation).


def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    location = (exc.headers or {}).get("Location")
    if exc.status_code in (301, 302, 303, 307, 308) and location:
        return RedirectResponse(location, status_code=exc.status_code)
    return _error_response(request, exc.status_code, exc.detail, exc.headers)


def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    # FastAPI's default 422 body echoes the input back; ours does not.
    return _error_response(request, 422, None)


def _server_error(request: Request, exc: Exception) -> Response:
    logger.error("console request failed: %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(request, 500, None)


# --- periodic jobs ---------------------------------------------------------------------------------------


def load_jobs() -> list[Callable[[Session], Any]]:
    """The functions named in PERIODIC_JOBS ("module:function")."""
    jobs = []
    for spec in PERIODIC_JOBS:
        module_name, function_name = spec.split(":")
        jobs.append(getattr(importlib.import_module(module_name), function_name))
    return jobs


def run_jobs_once(factory: sessionmaker, jobs: list[Callable[[Session], Any]]) -> None:
    for job in jobs:
        try:
            with session_scope(factory) as session:
                job(session)
        except Exception:
            logger.exception("console job %s failed; retried next round", getattr(job, "__name__", job))


def _job_loop(factory: sessionmaker, interval: float, stop: threading.Event) -> None:
    jobs = load_jobs()
    while True:
        run_jobs_once(factory, jobs)
        if stop.wait(interval):
            return


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    interval = app.state.settings.refresh_seconds
    stop = threading.Event()
    worker = threading.Thread(
        target=_job_loop, args=(app.state.session_factory, interval, stop), name="console-jobs", daemon=True
    )
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=30)
