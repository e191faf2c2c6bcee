"""The web contract every console area builds on: database session, login, roles, CSRF, templates, forms, audit.

Usage in a router (`console/routes/<area>.py`)::

    router = APIRouter()

    @router.get("/things/{thing_id}", dependencies=[Depends(audited_view)])
    def show(thing_id: int, request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)):
        audit(db, user, "view_thing", str(thing_id))
        return render(request, "thing.html", {"thing": ...}, user)

    @router.post("/things/{thing_id}/tag", dependencies=[Depends(csrf_protect)])
    def tag(thing_id: int, request: Request, form: dict[str, str] = Depends(posted_form),
            user: User = Depends(current_user), db: Session = Depends(get_db)):
        ...
        return RedirectResponse(f"/things/{thing_id}", status_code=303)

Routes are plain `def`: FastAPI runs them in its worker threads, so the database, the password hashing (scrypt)
and calls to Rasa (`console.rasa_client.blocking`) never hold up the event loop; the form is read asynchronously
by the `posted_form` dependency before the route runs.

Rules the tests check for every route: a page is a GET outside /api/ (anonymous → 303 to /login?next=…); any
other anonymous request gets 401; routes for admins use `require_admin` (operator → 403); every POST (PUT,
PATCH, DELETE) route has `csrf_protect` (missing/wrong token → 403). A GET never changes anything and never
exports: the only GETs that write (an audit entry: who viewed which conversation) are views guarded by
`audited_view`, which refuses requests that another site started.

Templates: extend "base.html", fill `{% block title %}` and `{% block content %}`; `user`, `csrf_token` and
`request` are always defined; filters `localtime` / `localdate` format epoch seconds (or datetimes) in
Asia/Shanghai; `url_with(request, page=2)` rebuilds the current URL with some query parameters changed.
The Content-Security-Policy is 'self' only: no inline <script>, no style="…" attributes, no <style> blocks
(use classes from console.css; SVG presentation attributes such as fill="…" and width="…" are fine).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from bot.clock import CHINA_TZ
from bot.masking import mask_text
from bot.names import SERVICE_LABELS, label
from console.db import session_scope
from console.sessions import find_session
from console.users import ROLE_LABELS, AuditEntry, LoginSession, User

COOKIE_NAME = "govbot_console"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 1_000_000
TIMEZONE = CHINA_TZ  # operators read China time
TEMPLATES_DIR = Path(__file__).parent / "templates"

NAV_ITEMS = (  # (label, path, admin only)
    ("会话列表", "/conversations", False),
    ("仪表盘", "/dashboard", False),
    ("人工接管", "/takeover", False),
    ("好差评", "/ratings", False),
    ("进度提醒", "/notifications", False),
    ("用户管理", "/admin/users", True),
    ("审计日志", "/admin/audit", True),
)

ANONYMOUS_TEXT = "请先登录。"
ADMIN_ONLY_TEXT = "此功能仅限管理员使用。如需权限，请联系管理员。"
CSRF_TEXT = "安全校验未通过：页面可能已过期，请刷新页面后重试。"
FOREIGN_VIEW_TEXT = (
    "为保护市民隐私，从其他网站打开的会话链接不会直接显示（查看会话会以您的名义记入审计日志）。"
    "请从运营后台的会话列表或接管队列中打开该会话。"
)
# What browsers send as Sec-Fetch-Site when another site (or a sibling subdomain) started the request.
FOREIGN_SITES = frozenset({"cross-site", "same-site"})


@dataclass(frozen=True)
class Viewer:
    """The logged-in user's name and role, detached from any database Session."""

    id: int
    username: str
    role: str

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user.id, user.username, user.role)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# --- database --------------------------------------------------------------------------------------------


def get_db(request: Request) -> Iterator[Session]:
    """A Session for this request: committed when the route returns, rolled back when it raises."""
    with session_scope(request.app.state.session_factory) as session:
        yield session


# --- login and roles -------------------------------------------------------------------------------------


def login_session(request: Request, db: Session = Depends(get_db)) -> LoginSession | None:
    """The request's live login session (or None); kept on request.state for `render`."""
    record = find_session(db, request.cookies.get(COOKIE_NAME))
    request.state.login = record
    # Plain copies for pages rendered after the Session is gone (error pages after a rollback).
    request.state.csrf_token = record.csrf_token if record is not None else ""
    request.state.viewer = Viewer.of(record.user) if record is not None else None
    return record


def resolve_viewer(request: Request) -> Viewer | None:
    """The logged-in viewer for pages rendered outside a route (e.g. a 404 of an unknown path)."""
    if not hasattr(request.state, "viewer"):
        try:
            with request.app.state.session_factory() as db:
                login_session(request, db)
        except Exception:  # the database itself may be why we are showing an error page
            request.state.viewer, request.state.csrf_token = None, ""
    return request.state.viewer


def is_page_request(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and not request.url.path.startswith("/api/")


def _anonymous(request: Request) -> HTTPException:
    if is_page_request(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return HTTPException(303, ANONYMOUS_TEXT, headers={"Location": f"/login?next={quote(target, safe='')}"})
    return HTTPException(401, ANONYMOUS_TEXT)


def current_user(request: Request, login: LoginSession | None = Depends(login_session)) -> User:
    if login is None:
        raise _anonymous(request)
    return login.user


def require_admin(user: User = Depends(current_user)) -> User:
    if user.role != "admin":
        raise HTTPException(403, ADMIN_ONLY_TEXT)
    return user


async def csrf_protect(request: Request, login: LoginSession | None = Depends(login_session)) -> None:
    """The CSRF token of the login session, from the `X-CSRF-Token` header or the `csrf_token` form field."""
    if login is None:
        raise _anonymous(request)
    form = await form_data(request)  # read here, on the loop, so the (sync) route finds it in `posted_form`
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD, "")
    if not sent or not hmac.compare_digest(sent.encode("utf-8"), login.csrf_token.encode("utf-8")):
        raise HTTPException(403, CSRF_TEXT)


def from_another_site(request: Request) -> bool:
    """True when the browser says another site started this request (a link, redirect or form there).
    Browsers without Sec-Fetch-Site send no session cookie cross-site either (it is SameSite=Strict)."""
    return request.headers.get("sec-fetch-site", "").strip().lower() in FOREIGN_SITES


def audited_view(request: Request) -> None:
    """For GET pages that write an audit entry: a foreign page must not open them in an operator's name."""
    if from_another_site(request):
        raise HTTPException(403, FOREIGN_VIEW_TEXT)


# --- forms -----------------------------------------------------------------------------------------------


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    cached = getattr(request.state, "form_pairs", None)
    if cached is not None:
        return cached
    pairs: list[tuple[str, str]] = []
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
            raise HTTPException(413, "提交的内容过大，请精简后重试。")
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "提交的内容过大，请精简后重试。")
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10_000)
        except (UnicodeDecodeError, ValueError) as error:
            raise HTTPException(400, "提交的表单格式有误，请刷新页面后重试。") from error
    request.state.form_pairs = pairs
    return pairs


async def form_data(request: Request) -> dict[str, str]:
    """The urlencoded form fields (last value wins); {} for other content types."""
    return dict(await _form_pairs(request))


async def posted_form(request: Request) -> dict[str, str]:
    """The form as a dependency: read asynchronously, handed to a plain `def` route running in a worker thread."""
    return await form_data(request)


# --- templates -------------------------------------------------------------------------------------------


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    else:
        moment = datetime.fromtimestamp(float(value), tz=timezone.utc)
    return moment.astimezone(TIMEZONE)


def localtime(value: Any, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    moment = _as_datetime(value)
    return moment.strftime(fmt) if moment else ""


def localdate(value: Any) -> str:
    return localtime(value, "%Y-%m-%d")


def url_with(request: Request, **changes: Any) -> str:
    """The current path and query with some parameters replaced (None or "" removes one)."""
    params = [(key, value) for key, value in request.query_params.multi_items() if key not in changes]
    params += [(key, str(value)) for key, value in changes.items() if value not in (None, "")]
    return request.url.path + (f"?{urlencode(params)}" if params else "")


_environment: Environment | None = None


def templates() -> Environment:
    global _environment
    if _environment is None:
        env = Environment(
            loader=FileSystemLoader(str(TEMPLATES_DIR)),
            autoescape=select_autoescape(("html", "xml", "svg"), default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["localtime"] = localtime
        env.filters["localdate"] = localdate
        env.filters["service_label"] = lambda name: label(SERVICE_LABELS, name)
        env.globals["url_with"] = url_with
        _environment = env
    return _environment


def nav_items(user: User | Viewer | None, path: str) -> list[dict[str, Any]]:
    if user is None:
        return []
    return [
        {"label": label, "href": href, "active": path == href or path.startswith(href + "/")}
        for label, href, admin_only in NAV_ITEMS
        if not admin_only or user.role == "admin"
    ]


def render(
    request: Request,
    template_name: str,
    context: dict[str, Any],
    user: User | Viewer | None,
    status_code: int = 200,
) -> HTMLResponse:
    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "nav": nav_items(user, request.url.path),
    }
    values.update(context)
    html = templates().get_template(template_name).render(values)
    return HTMLResponse(html, status_code=status_code)


# --- audit -----------------------------------------------------------------------------------------------


def audit(db: Session, user: User | None, action: str, target: str, detail: str = "") -> AuditEntry:
    """Append to the audit log (committed with the request). Target and detail are masked again on the way
    in, so a reason typed by an admin cannot put raw personal data into the log."""
    entry = AuditEntry(
        at=time.time(),
        user_id=user.id if user is not None else None,
        username=user.username if user is not None else "system",
        action=action[:64],
        target=mask_text(str(target))[:255],
        detail=mask_text(str(detail))[:2000],
    )
    db.add(entry)
    return entry
