"""Console users and their tables: accounts with roles, login sessions, failed logins, the audit log.

Passwords are hashed with scrypt (per-user random salt); login sessions and failed logins are stored so the
console needs no Redis. Nothing here holds citizens' personal data: the audit log's targets are conversation
ids and sender hashes (masked again on write, see `console.web.audit`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session, relationship

from console.db import Base

ROLES = ("operator", "admin")
ROLE_LABELS = {"operator": "操作员", "admin": "管理员"}
MIN_PASSWORD_LENGTH = 10

# scrypt: 16 MiB of memory and ~50 ms per hash on a laptop core (OWASP's minimum is N=2^17 with r=8, p=1 or
# the equivalent N=2^14, r=8, p=5; we take p=5).
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 5
_SALT_BYTES, _KEY_BYTES = 16, 32


class User(Base):
    __tablename__ = "console_users"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    username = sa.Column(sa.String(64), unique=True, nullable=False)
    role = sa.Column(sa.String(16), nullable=False, default="operator")
    password_hash = sa.Column(sa.String(255), nullable=False)
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)
    created_at = sa.Column(sa.Float, nullable=False, default=time.time)
    last_login_at = sa.Column(sa.Float)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class LoginSession(Base):
    """A server-side login: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "console_sessions"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    token_hash = sa.Column(sa.String(64), unique=True, nullable=False)
    csrf_token = sa.Column(sa.String(64), nullable=False)  # useless without the session cookie
    user_id = sa.Column(sa.Integer, sa.ForeignKey("console_users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = sa.Column(sa.Float, nullable=False)
    expires_at = sa.Column(sa.Float, nullable=False, index=True)
    user = relationship(User, lazy="joined")


class LoginFailure(Base):
    """One failed login, keyed by user name and by a keyed hash of the client address (no raw IPs stored)."""

    __tablename__ = "console_login_failures"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    username = sa.Column(sa.String(64), nullable=False, index=True)
    client = sa.Column(sa.String(64), nullable=False, index=True)
    at = sa.Column(sa.Float, nullable=False, index=True)


class AuditEntry(Base):
    __tablename__ = "console_audit_log"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    at = sa.Column(sa.Float, nullable=False, index=True)
    user_id = sa.Column(sa.Integer, index=True)  # kept when the user is gone: no foreign key
    username = sa.Column(sa.String(64), nullable=False, index=True)
    action = sa.Column(sa.String(64), nullable=False, index=True)
    target = sa.Column(sa.String(255), nullable=False, default="")
    detail = sa.Column(sa.Text, nullable=False, default="")


# --- passwords -------------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=_KEY_BYTES)


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$key` (base64), so the cost can be raised later without breaking old hashes."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash checked when the user name is unknown, so a login takes as long whether or not the account exists.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def password_problem(password: str) -> str | None:
    """A Chinese reason why the password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符，请换一个更长的密码。"
    if len(password) > 256:
        return "密码过长（最多 256 个字符）。"
    if len(set(password)) < 4:
        return "密码过于简单（重复字符太多），请换一个密码。"
    return None


def username_problem(username: str) -> str | None:
    if not 2 <= len(username) <= 64:
        return "用户名需要 2 到 64 个字符。"
    if not all(ch.isalnum() or ch in "._-@" for ch in username):
        return "用户名只能包含字母、数字和 . _ - @。"
    return None


# --- accounts --------------------------------------------------------------------------------------------


class UserError(ValueError):
    """A refused account change; the message is Chinese and shown to the admin."""


def normalize_username(username: str) -> str:
    return username.strip().lower()


def find_user(db: Session, username: str) -> User | None:
    return db.query(User).filter(User.username == normalize_username(username)).one_or_none()


def create_user(db: Session, username: str, password: str, role: str = "operator") -> User:
    username = normalize_username(username)
    problem = username_problem(username) or password_problem(password)
    if problem:
        raise UserError(problem)
    if role not in ROLES:
        raise UserError("角色只能是操作员（operator）或管理员（admin）。")
    if find_user(db, username) is not None:
        raise UserError(f"用户名 {username} 已存在，请换一个。")
    user = User(username=username, role=role, password_hash=hash_password(password), disabled=False)
    user.created_at = time.time()
    db.add(user)
    db.flush()
    return user


def set_password(db: Session, user: User, password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    user.password_hash = hash_password(password)
    end_sessions(db, user)  # a reset password logs the account out everywhere


def set_role(db: Session, user: User, role: str) -> None:
    if role not in ROLES:
        raise UserError("角色只能是操作员（operator）或管理员（admin）。")
    if user.role == "admin" and role != "admin" and _other_active_admins(db, user) == 0:
        raise UserError("这是最后一个可用的管理员账号，不能改为操作员。")
    user.role = role


def set_disabled(db: Session, user: User, disabled: bool) -> None:
    if disabled and user.role == "admin" and _other_active_admins(db, user) == 0:
        raise UserError("这是最后一个可用的管理员账号，不能停用。")
    user.disabled = disabled
    if disabled:
        end_sessions(db, user)


def _other_active_admins(db: Session, user: User) -> int:
    query = db.query(User).filter(User.role == "admin", User.disabled.is_(False), User.id != user.id)
    return query.count()


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The user whose password this is (disabled or not), else None; constant work for unknown names."""
    user = find_user(db, username)
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return None
    return user if verify_password(password, user.password_hash) else None


def end_sessions(db: Session, user: User) -> None:
    db.query(LoginSession).filter(LoginSession.user_id == user.id).delete(synchronize_session=False)
