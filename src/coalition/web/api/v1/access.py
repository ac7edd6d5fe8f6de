"""Who am I, users and tokens (administrators), and the audit log (coordinators, admins)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, status

from coalition.access import audit as audit_service
from coalition.access import service as access_service
from coalition.access.schemas import (
    ActorRead,
    AuditEntryRead,
    ChainReportRead,
    IssuedTokenRead,
    TokenCreate,
    TokenRead,
    UserCreate,
    UserCreated,
    UserRead,
)
from coalition.web.api.v1._paging import Cursor, Limit, PageOut, page_out
from coalition.web.deps import ActorDep, SessionDep

router = APIRouter(tags=["access"])


def _days(days: int | None) -> dt.timedelta | None:
    return dt.timedelta(days=days) if days else None


@router.get("/me", response_model=ActorRead)
def me(actor: ActorDep) -> ActorRead:
    return ActorRead.model_validate(actor)


@router.get("/users", response_model=list[UserRead])
def list_users(session: SessionDep, actor: ActorDep) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in access_service.list_users(session, actor=actor)]


@router.post("/users", response_model=UserCreated, status_code=status.HTTP_201_CREATED)
def create_user(data: UserCreate, session: SessionDep, actor: ActorDep) -> UserCreated:
    """The response carries the user's first token: the only time it is shown."""
    user, issued = access_service.create_user_with_token(
        session, actor=actor, name=data.name, role=data.role, nation=data.nation,
        format_code=data.format, label=data.token_label,
        expires_in=_days(data.token_expires_days))
    return UserCreated(**UserRead.model_validate(user).model_dump(),
                       token=IssuedTokenRead.issued(issued.record, issued.token))


@router.post("/users/{name}/revoke", response_model=UserRead)
def revoke_user(name: str, session: SessionDep, actor: ActorDep) -> UserRead:
    """Deactivates the user and revokes all its tokens."""
    return UserRead.model_validate(access_service.deactivate_user(session, actor=actor,
                                                                  name=name))


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(session: SessionDep, actor: ActorDep, user: str | None = None
                ) -> list[TokenRead]:
    return [TokenRead.model_validate(t)
            for t in access_service.list_tokens(session, actor=actor, user_name=user)]


@router.post("/tokens", response_model=IssuedTokenRead, status_code=status.HTTP_201_CREATED)
def create_token(data: TokenCreate, session: SessionDep, actor: ActorDep) -> IssuedTokenRead:
    """The secret is in this response only; the server keeps its SHA-256."""
    issued = access_service.issue_token_for(session, actor=actor, user_name=data.user,
                                            label=data.label, expires_in=_days(data.expires_days))
    return IssuedTokenRead.issued(issued.record, issued.token)


@router.post("/tokens/{token_id}/revoke", response_model=TokenRead)
def revoke_token(token_id: int, session: SessionDep, actor: ActorDep) -> TokenRead:
    return TokenRead.model_validate(access_service.revoke_token(session, actor=actor,
                                                                token_id=token_id))


@router.get("/audit", response_model=PageOut[AuditEntryRead])
def audit_log(session: SessionDep, actor: ActorDep, target: str | None = None,
              by: str | None = None, action: str | None = None, limit: Limit = 50,
              cursor: Cursor = None) -> PageOut[AuditEntryRead]:
    """Newest first; `target=pledges:42`, `by=desk-pol`, `action=pledge` filter. Entries are
    labelled like the records they describe and filtered like them."""
    page = audit_service.list_entries(session, actor=actor, target=target, actor_name=by,
                                      action=action, limit=limit, cursor=cursor)
    return page_out(page, AuditEntryRead)


@router.get("/audit/verify", response_model=ChainReportRead)
def audit_verify(session: SessionDep, actor: ActorDep) -> ChainReportRead:
    return ChainReportRead.model_validate(audit_service.verify(session, actor=actor))
