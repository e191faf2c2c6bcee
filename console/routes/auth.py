"""Login, logout and the start page."""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.settings import ConsoleSettings
from console import sessions
from console.users import User, authenticate, normalize_username
from console.web import (
    COOKIE_NAME,
    TIMEZONE,
    audit,
    csrf_protect,
    current_user,
    from_another_site,
    get_db,
    login_session,
    posted_form,
    render,
)

router = APIRouter()

LOGIN_CSRF_COOKIE = "govbot_console_login"  # double-submit token of the login form (against login CSRF)
HOME = "/conversations"
BAD_CREDENTIALS = "用户名或密码不正确，请检查后重试。"
DISABLED = "该账号已被停用，无法登录。如有疑问，请联系管理员。"
EXPIRED_FORM = "登录页面已过期，请重新输入用户名和密码。"


def safe_next(target: str | None) -> str:
    """`next` only when it is a path on this site (no scheme, no host, no `//` or `\\` tricks), else home."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return HOME
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(("/login", "/logout")):
        return HOME
    return target


def _settings(request: Request) -> ConsoleSettings:
    return request.app.state.settings


def _limits(settings: ConsoleSettings) -> sessions.LoginLimits:
    return sessions.LoginLimits(settings.login_attempts, settings.login_address_attempts, settings.login_window_seconds)


def _login_page(
    request: Request, next_url: str, status: int = 200, error: str = "", username: str = "", notice: str = ""
) -> Response:
    token = secrets.token_urlsafe(32)
    context = {"csrf_token": token, "next": next_url, "error": error, "username": username, "notice": notice}
    response = render(request, "login.html", context, None, status_code=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=_settings(request).cookie_secure,
    )
    return response


def _retry_text(until: float) -> str:
    minutes = max(1, round((until - time.time()) / 60))
    at = datetime.fromtimestamp(until, TIMEZONE).strftime("%H:%M")
    return f"登录失败次数过多，为保护账号安全已暂时锁定。请在 {at}（约 {minutes} 分钟后）再试。"


@router.get("/login")
def login_form(request: Request, next: str = "", login=Depends(login_session)) -> Response:
    if login is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    notice = "您已安全退出。" if request.query_params.get("bye") == "1" else ""
    return _login_page(request, safe_next(next) if next else "", notice=notice)


@router.post("/login")
def login(request: Request, form: dict[str, str] = Depends(posted_form), db: Session = Depends(get_db)) -> Response:
    """Runs in a worker thread: the password check (scrypt) must never hold up the event loop."""
    username = normalize_username(form.get("username", ""))[:64]
    next_url = safe_next(form.get("next")) if form.get("next") else ""
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    form_token = form.get("csrf_token", "")
    forged = not cookie_token or not form_token or not hmac.compare_digest(cookie_token.encode(), form_token.encode())
    if forged or from_another_site(request):  # login CSRF: a foreign page logging the browser into its account
        return _login_page(request, next_url, 403, EXPIRED_FORM, username)

    settings = _settings(request)
    client = sessions.client_key(request.client.host if request.client else None)
    until = sessions.begin_attempt(db, username, client, _limits(settings))  # counted before the check
    if until:
        return _login_page(request, next_url, 429, _retry_text(until), username)

    user = authenticate(db, username, form.get("password", ""))
    if user is None or user.disabled:
        error = DISABLED if user is not None else BAD_CREDENTIALS
        return _login_page(request, next_url, 403 if user is not None else 401, error, username)

    sessions.attempt_succeeded(db, username, client)
    new = sessions.start_session(db, user, settings.session_hours)
    audit(db, user, "login", f"user:{user.username}")
    response = RedirectResponse(next_url or HOME, status_code=303)
    # Strict: the browser never sends it along with a request another site started (a link, a redirect, a
    # form), so no foreign page can act, view or export in an operator's name.
    response.set_cookie(
        COOKIE_NAME,
        new.token,
        max_age=int(settings.session_hours * 3600),
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)) -> Response:
    sessions.end_session(db, request.cookies.get(COOKIE_NAME))
    audit(db, user, "logout", f"user:{user.username}")
    response = RedirectResponse("/login?bye=1", status_code=303)
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=_settings(request).cookie_secure
    )
    return response


@router.get("/")
def home(user: User = Depends(current_user)) -> Response:
    return RedirectResponse(HOME, status_code=303)
