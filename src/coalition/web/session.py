"""The dashboard's signed session cookie and its CSRF token.

The cookie holds the user id, a random CSRF token and a fingerprint of the user's password
hash, signed with `settings.secret_key` (itsdangerous, timestamped). It carries no secret the
server relies on beyond the signature: the user is reloaded on every request, so a deactivated
user or a changed password ends every session at once.

A visitor who has not signed in gets a session without a user, so the login form is
CSRF-protected too. Every unsafe request authenticated by the cookie (pages and API alike)
must echo the token, in the `csrf_token` form field or the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from coalition.access.actor import Actor, actor_for_user
from coalition.access.models import User
from coalition.access.passwords import password_fingerprint
from coalition.config import get_settings
from coalition.errors import Forbidden

COOKIE_NAME = "coalition_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
MAX_AGE_SECONDS = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_SALT = "coalition.web.session"


@dataclass(frozen=True)
class WebSession:
    csrf: str
    user_id: int | None = None
    password: str | None = None  # fingerprint of the password hash at sign-in

    @classmethod
    def anonymous(cls) -> WebSession:
        return cls(csrf=secrets.token_urlsafe(32))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt=_SALT)


def _decode(raw: str) -> WebSession | None:
    try:
        data: Any = _serializer().loads(raw, max_age=MAX_AGE_SECONDS)
    except BadSignature:  # also covers SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    uid = data.get("u")
    pwv = data.get("p")
    return WebSession(csrf=data["c"], user_id=uid if isinstance(uid, int) else None,
                      password=pwv if isinstance(pwv, str) else None)


def read(request: Request) -> WebSession | None:
    """The request's session, decoded once per request; None without a valid cookie."""
    if not hasattr(request.state, "web_session"):
        raw = request.cookies.get(COOKIE_NAME)
        request.state.web_session = _decode(raw) if raw else None
    session: WebSession | None = request.state.web_session
    return session


def ensure(request: Request) -> WebSession:
    """The current session, or a new anonymous one (remember to `write` it)."""
    session = read(request)
    if session is None:
        session = WebSession.anonymous()
        request.state.web_session = session
        request.state.web_session_new = True
    return session


def is_new(request: Request) -> bool:
    return bool(getattr(request.state, "web_session_new", False))


def write(response: Response, request: Request, session: WebSession) -> None:
    payload: dict[str, Any] = {"c": session.csrf}
    if session.user_id is not None:
        payload["u"] = session.user_id
        payload["p"] = session.password
    response.set_cookie(
        COOKIE_NAME, _serializer().dumps(payload), max_age=MAX_AGE_SECONDS, httponly=True,
        samesite="lax", secure=request.url.scheme == "https", path="/",
    )


def signed_in(user: User) -> WebSession:
    """A fresh session for a user who just proved their password: new CSRF token, so a token
    seen before sign-in is worth nothing after it."""
    return replace(WebSession.anonymous(), user_id=user.id,
                   password=password_fingerprint(user))


def clear(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")


def csrf_matches(session: WebSession | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())


def session_user(request: Request, db: Session) -> User | None:
    """The signed-in, still active user whose password has not changed since sign-in."""
    session = read(request)
    if session is None or session.user_id is None:
        return None
    user = db.get(User, session.user_id)
    if user is None or not user.is_active or user.password_hash is None:
        return None
    if not hmac.compare_digest(password_fingerprint(user), session.password or ""):
        return None
    return user


def cookie_actor(request: Request, db: Session) -> Actor | None:
    """`app.state.cookie_actor`: lets the JSON API accept the dashboard's cookie.

    Browsers send cookies with cross-site form posts, so an unsafe API request authenticated
    only by the cookie must also carry the CSRF header, which another site cannot read.
    """
    user = session_user(request, db)
    if user is None:
        return None
    if request.method not in SAFE_METHODS and not csrf_matches(
        read(request), request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden(f"a request signed in by the session cookie needs the {CSRF_HEADER} "
                        "header of that session")
    return actor_for_user(db, user)
