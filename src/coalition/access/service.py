"""Users and bearer tokens: creation, authentication, expiry and revocation."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor, actor_for_user
from coalition.access.labels import Role
from coalition.access.models import ApiToken, User
from coalition.db import utcnow
from coalition.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from coalition.registry.models import Format, Participant

TOKEN_PREFIX = "coal_"  # noqa: S105 - a public marker, not a secret
# An analyst reads what their nation may see, so needs a nation just like a national desk.
_NATION_ROLES = {Role.NATIONAL, Role.RECIPIENT, Role.ANALYST}


@dataclass(frozen=True)
class IssuedToken:
    """The only moment the secret exists in clear: show it once, store only its hash."""

    token: str
    record: ApiToken


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(
    session: Session,
    *,
    actor: Actor,
    name: str,
    role: Role,
    nation: str | None = None,
    format_code: str | None = None,
) -> User:
    """National and recipient users must speak for a participant; coordinators run a format."""
    policy.ensure(actor, policy.MANAGE_USERS)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"user {name!r} already exists")
    participant_id = None
    if nation is not None:
        participant = session.scalar(select(Participant).where(Participant.code == nation.upper()))
        if participant is None:
            raise ValidationFailed.single("nation", "unknown participant code", nation)
        participant_id = participant.id
    elif role in _NATION_ROLES:
        raise ValidationFailed.single("nation", f"a {role.value} user needs --nation")
    format_id = None
    if format_code is not None:
        fmt = session.scalar(select(Format).where(Format.code == format_code.upper()))
        if fmt is None:
            raise ValidationFailed.single("format", "unknown format code", format_code)
        format_id = fmt.id
    elif role is Role.COORDINATOR:
        raise ValidationFailed.single("format", "a coordinator needs --format")
    user = User(name=name, role=role, participant_id=participant_id, format_id=format_id)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.create", target=user)
    return user


def create_user_with_token(
    session: Session,
    *,
    actor: Actor,
    name: str,
    role: Role,
    nation: str | None = None,
    format_code: str | None = None,
    label: str = "",
    expires_in: dt.timedelta | None = None,
) -> tuple[User, IssuedToken]:
    """A new user can call the API at once: its first token comes with it (shown once)."""
    user = create_user(session, actor=actor, name=name, role=role, nation=nation,
                       format_code=format_code)
    return user, issue_token(session, actor=actor, user=user, label=label,
                             expires_in=expires_in)


def get_user(session: Session, *, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


def list_users(session: Session, *, actor: Actor) -> list[User]:
    policy.ensure(actor, policy.MANAGE_USERS)
    return list(session.scalars(select(User).order_by(User.name)))


def active_token_counts(session: Session) -> dict[int, int]:
    """Tokens per user that would still authenticate now."""
    now = utcnow()
    rows = session.execute(
        select(ApiToken.user_id, func.count()).where(
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at.is_(None) | (ApiToken.expires_at > now),
        ).group_by(ApiToken.user_id))
    return dict(rows.all())


def list_tokens(session: Session, *, actor: Actor, user_name: str | None = None
                ) -> list[ApiToken]:
    """Every token with its prefix and dates, newest first; the secrets were never stored."""
    policy.ensure(actor, policy.MANAGE_USERS)
    stmt = select(ApiToken).order_by(ApiToken.id.desc())
    if user_name is not None:
        stmt = stmt.where(ApiToken.user_id == get_user(session, name=user_name).id)
    return list(session.scalars(stmt))


def issue_token(
    session: Session,
    *,
    actor: Actor,
    user: User,
    label: str = "",
    expires_in: dt.timedelta | None = None,
) -> IssuedToken:
    """A deactivated user gets no new token: reactivation is a deliberate, separate step."""
    policy.ensure(actor, policy.MANAGE_USERS)
    if not user.is_active:
        raise Conflict(f"user {user.name!r} is deactivated")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=user.id,
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        label=label,
        expires_at=None if expires_in is None else utcnow() + expires_in,
    )
    session.add(record)
    session.flush()
    audit.record(session, actor=actor, action="token.issue", target_type="api_tokens",
                 target_id=record.id, after={"user": user.name, "prefix": record.prefix,
                                             "expires_at": record.expires_at})
    return IssuedToken(token=secret, record=record)


def issue_token_for(session: Session, *, actor: Actor, user_name: str, label: str = "",
                    expires_in: dt.timedelta | None = None) -> IssuedToken:
    policy.ensure(actor, policy.MANAGE_USERS)
    return issue_token(session, actor=actor, user=get_user(session, name=user_name),
                       label=label, expires_in=expires_in)


def revoke_token(session: Session, *, actor: Actor, token_id: int) -> ApiToken:
    policy.ensure(actor, policy.MANAGE_USERS)
    record = session.get(ApiToken, token_id)
    if record is None:
        raise NotFound(f"no token with id {token_id}")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.record(session, actor=actor, action="token.revoke", target_type="api_tokens",
                     target_id=record.id, after={"prefix": record.prefix})
    return record


def deactivate_user(session: Session, *, actor: Actor, name: str) -> User:
    """Revokes every token of the user as well: a deactivated user cannot call anything.

    The last active administrator stays, so somebody can still manage users.
    """
    policy.ensure(actor, policy.MANAGE_USERS)
    user = get_user(session, name=name)
    if user.role is Role.ADMIN and user.is_active and session.scalar(
        select(func.count()).select_from(User)
        .where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id)
    ) == 0:
        raise Conflict(f"{name!r} is the last active administrator")
    before = audit.snapshot(user)
    user.is_active = False
    revoked = []
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            revoked.append(token.prefix)
    session.flush()
    audit.record(session, actor=actor, action="user.deactivate", target=user, before=before,
                 after={**audit.snapshot(user), "revoked_tokens": revoked})
    return user


# "Last used" is kept to the minute: a write on every request would make each read a writer.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def authenticate(session: Session, *, token: str) -> Actor:
    """Unknown, expired and revoked tokens are told apart in the message, never in the status."""
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if record is None:
        raise Unauthenticated("the bearer token is not valid")
    now = utcnow()
    if record.revoked_at is not None:
        raise Unauthenticated("the bearer token has been revoked")
    if record.expires_at is not None and record.expires_at <= now:
        raise Unauthenticated("the bearer token has expired")
    if not record.user.is_active:
        raise Unauthenticated("the user of this token is deactivated")
    if record.last_used_at is None or now - record.last_used_at >= LAST_USED_RESOLUTION:
        record.last_used_at = now
    return actor_for_user(session, record.user)
