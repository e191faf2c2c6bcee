"""Admin pages: user management and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from console import sessions
from console.users import (
    ROLE_LABELS,
    ROLES,
    AuditEntry,
    User,
    UserError,
    create_user,
    set_disabled,
    set_password,
    set_role,
)
from console.web import audit, csrf_protect, get_db, posted_form, render, require_admin

router = APIRouter(prefix="/admin")

AUDIT_PAGE_SIZE = 50

ACTION_LABELS = {
    "login": "登录",
    "logout": "退出登录",
    "create_user": "创建用户",
    "change_role": "修改角色",
    "disable_user": "停用账号",
    "enable_user": "启用账号",
    "reset_password": "重置密码",
    "unlock_user": "解除登录锁定",
    "view_conversation": "查看会话",
    "unmask": "解除脱敏",
    "export": "导出",
    "review": "审核",
    "tag": "标签",
    "flag": "标记",
    "correct": "修正标注",
    "takeover": "接管会话",
    "takeover_reply": "人工回复",
    "handback": "交还助手",
    "takeover_dismiss": "关闭接管请求",
}

DONE_TEXTS = {  # ?ok=<code> after a change: fixed texts, nothing from the query is echoed
    "created": "用户已创建。请把初始密码通过安全渠道告知本人。",
    "role": "角色已更新。",
    "disabled": "账号已停用，该用户的所有登录已失效。",
    "enabled": "账号已启用。",
    "password": "密码已重置，该用户需要用新密码重新登录。",
    "unlocked": "已解除锁定，该用户现在可以重新登录。",
}


def _login_locks(request: Request, db: Session, users: list[User]) -> dict[int, dict[str, int]]:
    """Per user id: failed logins in the window, and whether one of its addresses is locked out."""
    settings = request.app.state.settings
    counts = sessions.recent_failures(db, settings.login_window_seconds)
    locks = {}
    for user in users:
        per_client = counts.get(sessions.user_key(user.username), {})
        if per_client:
            locked = max(per_client.values()) >= settings.login_attempts
            locks[user.id] = {"failures": sum(per_client.values()), "locked": locked}
    return locks


def _users_page(request: Request, db: Session, admin: User, error: str = "", status: int = 200) -> Response:
    users = db.query(User).order_by(User.username).all()
    context = {
        "users": users,
        "locks": _login_locks(request, db, users),
        "login_attempts": request.app.state.settings.login_attempts,
        "roles": [(role, ROLE_LABELS[role]) for role in ROLES],
        "error": error,
        "done": DONE_TEXTS.get(request.query_params.get("ok", ""), ""),
    }
    return render(request, "admin_users.html", context, admin, status_code=status)


def _done(code: str) -> Response:
    return RedirectResponse(f"/admin/users?ok={code}", status_code=303)


def _target(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(404, "该用户不存在，可能已被删除。")
    return user


@router.get("/users")
def users_page(request: Request, admin: User = Depends(require_admin), db: Session = Depends(get_db)) -> Response:
    return _users_page(request, db, admin)


@router.post("/users", dependencies=[Depends(csrf_protect)])
def add_user(
    request: Request,
    form: dict[str, str] = Depends(posted_form),
    admin: User = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Response:
    password = form.get("password", "")
    if password != form.get("password_confirm", ""):
        return _users_page(request, db, admin, "两次输入的密码不一致，请重新输入。", 400)
    try:
        user = create_user(db, form.get("username", ""), password, form.get("role", "operator"))
    except UserError as error:
        return _users_page(request, db, admin, str(error), 400)
    audit(db, admin, "create_user", f"user:{user.username}", f"role={user.role}")
    return _done("created")


@router.post("/users/{user_id}/role", dependencies=[Depends(csrf_protect)])
def change_role(
    user_id: int,
    request: Request,
    form: dict[str, str] = Depends(posted_form),
    admin: User = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Response:
    user = _target(db, user_id)
    role = form.get("role", "")
    old = user.role
    try:
        set_role(db, user, role)
    except UserError as error:
        return _users_page(request, db, admin, str(error), 400)
    audit(db, admin, "change_role", f"user:{user.username}", f"{old}->{role}")
    return _done("role")


@router.post("/users/{user_id}/disable", dependencies=[Depends(csrf_protect)])
def disable_user(
    user_id: int, request: Request, admin: User = Depends(require_admin), db: Session = Depends(get_db)
) -> Response:
    user = _target(db, user_id)
    if user.id == admin.id:
        return _users_page(request, db, admin, "不能停用自己正在使用的账号。", 400)
    try:
        set_disabled(db, user, True)
    except UserError as error:
        return _users_page(request, db, admin, str(error), 400)
    audit(db, admin, "disable_user", f"user:{user.username}")
    return _done("disabled")


@router.post("/users/{user_id}/enable", dependencies=[Depends(csrf_protect)])
def enable_user(
    user_id: int, request: Request, admin: User = Depends(require_admin), db: Session = Depends(get_db)
) -> Response:
    user = _target(db, user_id)
    set_disabled(db, user, False)
    audit(db, admin, "enable_user", f"user:{user.username}")
    return _done("enabled")


@router.post("/users/{user_id}/password", dependencies=[Depends(csrf_protect)])
def reset_password(
    user_id: int,
    request: Request,
    form: dict[str, str] = Depends(posted_form),
    admin: User = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Response:
    user = _target(db, user_id)
    try:
        set_password(db, user, form.get("password", ""))
    except UserError as error:
        return _users_page(request, db, admin, str(error), 400)
    audit(db, admin, "reset_password", f"user:{user.username}")
    return _done("password")


@router.post("/users/{user_id}/unlock", dependencies=[Depends(csrf_protect)])
def unlock_user(user_id: int, admin: User = Depends(require_admin), db: Session = Depends(get_db)) -> Response:
    """Lift a login lock: the user's failed logins, from every address, are forgotten (so whoever made them may
    try again: the admin lifts a lock when the user asks, after checking the audit log)."""
    user = _target(db, user_id)
    forgotten = sessions.forget_failures(db, user.username)
    audit(db, admin, "unlock_user", f"user:{user.username}", f"清除登录失败记录 {forgotten} 条")
    return _done("unlocked")


@router.get("/audit")
def audit_page(
    request: Request,
    user: str = "",
    action: str = "",
    page: int = 1,
    admin: User = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Response:
    query = db.query(AuditEntry)
    if user.strip():
        query = query.filter(AuditEntry.username == user.strip().lower())
    if action:
        query = query.filter(AuditEntry.action == action)
    total = query.count()
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(max(1, page), pages)
    entries = (
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE)
        .all()
    )
    known = {name for (name,) in db.query(AuditEntry.action).distinct()} | set(ACTION_LABELS)
    context = {
        "entries": entries,
        "total": total,
        "page": page,
        "pages": pages,
        "filter_user": user.strip(),
        "filter_action": action,
        "actions": sorted(known, key=lambda name: (name not in ACTION_LABELS, name)),
        "labels": ACTION_LABELS,
    }
    return render(request, "admin_audit.html", context, admin)
