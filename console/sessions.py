"""Login sessions (random cookie token, stored hashed) and the failed-login rate limit (kept in the database)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.masking import hash_sender_id
from console.users import LoginFailure, LoginSession, User


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie, never stored
    record: LoginSession


def start_session(db: Session, user: User, hours: float, now: float | None = None) -> NewSession:
    now = time.time() if now is None else now
    db.query(LoginSession).filter(LoginSession.expires_at <= now).delete(synchronize_session=False)
    token = secrets.token_urlsafe(32)
    record = LoginSession(
        token_hash=token_hash(token),
        csrf_token=secrets.token_urlsafe(32),
        user_id=user.id,
        created_at=now,
        expires_at=now + hours * 3600,
    )
    record.user = user
    db.add(record)
    user.last_login_at = now
    db.flush()
    return NewSession(token, record)


def find_session(db: Session, token: str | None, now: float | None = None) -> LoginSession | None:
    """The live session of this cookie token: not expired, its user not disabled."""
    if not token or len(token) > 128:
        return None
    now = time.time() if now is None else now
    record = db.query(LoginSession).filter(LoginSession.token_hash == token_hash(token)).one_or_none()
    if record is None or record.expires_at <= now or record.user.disabled:
        return None
    return record


def end_session(db: Session, token: str | None) -> None:
    if token:
        db.query(LoginSession).filter(LoginSession.token_hash == token_hash(token)).delete(synchronize_session=False)


# --- rate limit ------------------------------------------------------------------------------------------
#
# Failed logins are counted per (user name, client address) and per client address, never per user name alone:
# a name-only limit let anybody lock any account (the admin's too) by guessing. The owner of an account logs in
# from their own machine while a guesser elsewhere is stopped; an admin can lift a lock (`forget_failures`).
#
# An attempt is counted *before* its password is checked (scrypt): it is stored as a failure first and forgiven
# when the password is right, so parallel guesses cannot each get a check before the first one is counted.

# Counting and deciding happen under this lock, so within one console process every attempt sees all attempts
# that came before it (with several processes a burst may get a few more checks, still all counted).
_ATTEMPTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class LoginLimits:
    per_user_and_address: int  # failures of one user name from one address ...
    per_address: int  # ... and of any user names from one address ...
    window_seconds: int  # ... within this window


def client_key(address: str | None) -> str:
    """A keyed hash of the client address: enough to count attempts, without storing the IP itself."""
    return hash_sender_id(f"console-login:{address or 'unknown'}")


def user_key(username: str) -> str:
    """A keyed hash of the typed user name: people type their password into the name field by mistake, and a
    failed login must not keep it (nor a citizen's phone number typed there)."""
    return hash_sender_id(f"console-login-user:{username.strip().lower()[:64]}")


def begin_attempt(db: Session, username: str, client: str, limits: LoginLimits, now: float | None = None) -> float:
    """Count a login attempt as a failure (committed at once: the password check that follows is slow). Returns
    0 when the attempt may go on, else when this user name from this address may try again: refused when it, or
    the address, has used up its failures in the window."""
    now = time.time() if now is None else now
    since = now - limits.window_seconds
    key = user_key(username)
    with _ATTEMPTS_LOCK:
        db.query(LoginFailure).filter(LoginFailure.at <= since).delete(synchronize_session=False)
        failure = LoginFailure(username=key, client=client, at=now)
        db.add(failure)
        db.commit()
        until = max(
            _blocked_until(db, failure, limits, limits.per_user_and_address, LoginFailure.username == key),
            _blocked_until(db, failure, limits, limits.per_address, sa.true()),
        )
        if until:  # a refused attempt is not a failure: the lock ends when the earlier ones leave the window
            db.delete(failure)
            db.commit()
        return until


def _blocked_until(db: Session, failure: LoginFailure, limits: LoginLimits, allowed: int, condition: Any) -> float:
    """0 when fewer than `allowed` failures from this address (matching `condition`) came before `failure` in
    the window; else the time when enough of them will have left it."""
    since = failure.at - limits.window_seconds
    earlier = [
        at
        for (at,) in db.query(LoginFailure.at)
        .filter(condition, LoginFailure.client == failure.client, LoginFailure.at > since, LoginFailure.id < failure.id)
        .order_by(LoginFailure.at.desc())
        .limit(allowed)
    ]
    return min(earlier) + limits.window_seconds if len(earlier) >= allowed else 0.0


def attempt_succeeded(db: Session, username: str, client: str) -> None:
    """The password was right: forgive this name's failures from this address (the attempt's own included). Not
    the address's failures under other names: a guesser with one valid account must not reset its counter."""
    db.query(LoginFailure).filter(LoginFailure.username == user_key(username), LoginFailure.client == client).delete(
        synchronize_session=False
    )


def recent_failures(db: Session, window: int, now: float | None = None) -> dict[str, dict[str, int]]:
    """Failures in the window per user name key, per client: {user_key: {client: count}} (the users page)."""
    since = (time.time() if now is None else now) - window
    rows = (
        db.query(LoginFailure.username, LoginFailure.client, sa.func.count())
        .filter(LoginFailure.at > since)
        .group_by(LoginFailure.username, LoginFailure.client)
    )
    counts: dict[str, dict[str, int]] = {}
    for key, client, count in rows:
        counts.setdefault(key, {})[client] = count
    return counts


def forget_failures(db: Session, username: str) -> int:
    """An admin lifts a lock: every failure counted for this user name, from any address. Returns how many."""
    return db.query(LoginFailure).filter(LoginFailure.username == user_key(username)).delete(
        synchronize_session=False
    )
