"""RFC 9457 problem+json responses for domain errors and request validation errors."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from coalition.errors import DomainError, Unauthenticated, ValidationFailed

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank",
            errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _slug(error: DomainError) -> str:
    return "https://coalition.example/problems/" + type(error).__name__.lower()


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    errors = None
    if isinstance(exc, ValidationFailed):
        errors = [{"field": e.field, "message": e.message, "row": e.row, "value": e.value}
                  for e in exc.errors]
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
    return problem(exc.status, exc.title, exc.detail, type_=_slug(exc), errors=errors,
                   headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_of(tuple(e.get("loc", ()))), "message": e.get("msg", ""),
               "value": None if e.get("input") is None or isinstance(e.get("input"), dict)
               else str(e.get("input"))[:200]}
              for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(422, "Validation failed", detail,
                   type_="https://coalition.example/problems/validationfailed", errors=errors)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), str(exc.detail))


async def _busy(request: Request, exc: Exception) -> JSONResponse:
    """SQLite gives up on a lock after its busy timeout: the client may simply try again."""
    assert isinstance(exc, OperationalError)
    if "database is locked" not in str(exc.orig):
        raise exc
    return problem(503, "Busy", "the database is busy with another write; retry shortly",
                   headers={"Retry-After": "1"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(OperationalError, _busy)
