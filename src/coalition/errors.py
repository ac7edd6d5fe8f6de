"""Domain errors raised by services; web maps them to problem+json, the CLI to exit codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    row: int | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        shown = f" (got {self.value!r})" if self.value is not None else ""
        return f"{where}{self.field}: {self.message}{shown}"


class DomainError(Exception):
    """Base class: `title` is a short summary, the message the human-readable detail."""

    title = "Domain error"
    status = 400
    exit_code = 1

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    title = "Not found"
    status = 404
    exit_code = 4


class Conflict(DomainError):
    title = "Conflict"
    status = 409
    exit_code = 5


class Forbidden(DomainError):
    title = "Forbidden"
    status = 403
    exit_code = 3


class Unauthenticated(DomainError):
    title = "Unauthenticated"
    status = 401
    exit_code = 3


class InvalidTransition(DomainError):
    title = "Invalid transition"
    status = 409
    exit_code = 5


class ValidationFailed(DomainError):
    title = "Validation failed"
    status = 422
    exit_code = 2

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        self.errors = errors
        super().__init__(detail or "; ".join(str(e) for e in errors[:10]))

    @classmethod
    def single(cls, field: str, message: str, value: object = None) -> ValidationFailed:
        return cls([FieldError(field, message, value=None if value is None else str(value))])


class TooManyAttempts(DomainError):
    title = "Too many attempts"
    status = 429
    exit_code = 6

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
