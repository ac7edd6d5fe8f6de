"""Passwords of dashboard users: argon2id hashes, setting them (audited) and checking them.

Bearer tokens stay the way machines authenticate; a password only opens a browser session.
"""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor, actor_for_user
from coalition.access.models import User
from coalition.access.service import get_user
from coalition.errors import Forbidden, Unauthenticated, ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 256

# argon2-cffi's defaults follow RFC 9106's low-memory profile (argon2id, 64 MiB, t=3).
_hasher = PasswordHasher()
# Verified against when the user does not exist, so the answer takes as long either way.
_DUMMY_HASH = _hasher.hash("coalition: no such user")

_REFUSED = "wrong user name or password"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_strength(user_name: str, password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed.single("password", f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed.single("password", f"must be at most {MAX_LENGTH} characters")
    if password.strip() != password:
        raise ValidationFailed.single("password", "must not start or end with spaces")
    if user_name.lower() in password.lower():
        raise ValidationFailed.single("password", "must not contain the user name")


def set_password(session: Session, *, actor: Actor, user_name: str, password: str) -> User:
    """Administrators set anyone's password; every other user only their own."""
    user = get_user(session, name=user_name)
    if not policy.MANAGE_USERS.allows(actor) and actor.user_id != user.id:
        raise Forbidden("only administrators may set another user's password")
    _check_strength(user.name, password)
    had_password = user.password_hash is not None
    user.password_hash = hash_password(password)
    session.flush()
    # Never the hash itself: the audit log is readable by coordinators.
    audit.record(session, actor=actor, action="user.set_password", target_type="users",
                 target_id=user.id, after={"user": user.name, "replaced": had_password})
    return user


def authenticate_password(session: Session, *, name: str, password: str) -> Actor:
    """Unknown users, wrong passwords, users without one and deactivated users all get the
    same answer, so the login form does not reveal which accounts exist."""
    user = session.scalar(select(User).where(User.name == name))
    stored = user.password_hash if user is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise Unauthenticated(_REFUSED) from None
    if user is None or stored is None or not user.is_active:
        raise Unauthenticated(_REFUSED)
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
        session.flush()
        audit.record(session, actor=actor_for_user(session, user), action="user.rehash_password",
                     target_type="users", target_id=user.id, after={"user": user.name})
    return actor_for_user(session, user)


def password_fingerprint(user: User) -> str:
    """A short digest of the stored hash: sessions carry it, so a password change ends them."""
    return hashlib.sha256((user.password_hash or "").encode("utf-8")).hexdigest()[:16]
