"""In/out shapes of users, tokens and audit entries (never a secret, except once at issue)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import Field, field_validator

from coalition.access.labels import Role
from coalition.registry.schemas import ParticipantRef
from coalition.schemas_common import ReadSchema, Schema


class ActorRead(ReadSchema):
    """Who a token or session acts as, with what decides what it may see."""

    name: str
    role: Role
    participant_code: str | None
    is_nato: bool
    member_format_ids: list[int]
    coordinated_format_ids: list[int]
    coordinates_nato_led_format: bool

    @field_validator("member_format_ids", "coordinated_format_ids", mode="before")
    @classmethod
    def _sorted(cls, value: Any) -> Any:
        return sorted(value) if isinstance(value, frozenset | set) else value


class UserCreate(Schema):
    name: str = Field(min_length=2, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
    role: Role
    nation: str | None = Field(default=None, description="Participant code, e.g. POL.")
    format: str | None = Field(default=None, description="Format code a coordinator runs.")
    token_label: str = Field(default="", max_length=120)
    token_expires_days: int | None = Field(default=None, ge=1, le=3650)


class UserRead(ReadSchema):
    id: int
    name: str
    role: Role
    participant: ParticipantRef | None
    format: str | None = Field(description="Code of the format a coordinator runs.")
    is_active: bool
    created_at: dt.datetime

    @field_validator("format", mode="before")
    @classmethod
    def _format_code(cls, value: Any) -> Any:
        return getattr(value, "code", value)


class TokenCreate(Schema):
    user: str = Field(description="User name.")
    label: str = Field(default="", max_length=120)
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class TokenRead(ReadSchema):
    """A token as it is stored: a prefix to recognise it by, never the secret."""

    id: int
    user: str
    prefix: str
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    @field_validator("user", mode="before")
    @classmethod
    def _user_name(cls, value: Any) -> Any:
        return getattr(value, "name", value)


class IssuedTokenRead(TokenRead):
    """Returned once, when the token is issued: the only time its secret is shown."""

    token: str

    @classmethod
    def issued(cls, record: Any, token: str) -> IssuedTokenRead:
        return cls(**TokenRead.model_validate(record).model_dump(), token=token)


class UserCreated(UserRead):
    token: IssuedTokenRead


class AuditEntryRead(ReadSchema):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str
    releasability: str
    prev_hash: str
    hash: str

    @field_validator("before", "after", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


class ChainReportRead(ReadSchema):
    ok: bool
    entries: int
    first_bad_id: int | None
    reason: str
    head_hash: str
