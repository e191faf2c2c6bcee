"""Login sessions (random cookie token, stored hashed) and the failed-login rate limit (kept in the database)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

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


def client_key(address: str | None) -> str:
    """A keyed hash of the client address: enough to count attempts, without storing the IP itself."""
    return hash_sender_id(f"console-login:{address or 'unknown'}")


def blocked_until(
    db: Session, username: str, client: str, attempts: int, window: int, now: float | None = None
) -> float:
    """When this user name or client address may try again (0 when it may now).

    Each key may fail `attempts` times within `window` seconds; after that it waits until its oldest counted
    failure leaves the window.
    """
    now = time.time() if now is None else now
    since = now - window
    db.query(LoginFailure).filter(LoginFailure.at <= since).delete(synchronize_session=False)
    until = 0.0
    for column, value in ((LoginFailure.username, username), (LoginFailure.client, client)):
        times = [
            row.at
            for row in db.query(LoginFailure.at)
            .filter(column == value, LoginFailure.at > since)
            .order_by(LoginFailure.at.desc())
            .limit(attempts)
        ]
        if len(times) >= attempts:
            until = max(until, min(times) + window)
    return until


def record_failure(db: Session, username: str, client: str, now: float | None = None) -> None:
    db.add(LoginFailure(username=username[:64], client=client, at=time.time() if now is None else now))


def clear_failures(db: Session, username: str) -> None:
    """A successful login forgives the user name's failures (not the address's: that would let a guesser
    with one valid account reset its own counter)."""
    db.query(LoginFailure).filter(LoginFailure.username == username).delete(synchronize_session=False)
