"""Form and query input for pages: into the services' schemas, and errors back onto fields.

Both kinds of error end up next to the field they concern: pydantic's (wrong type, out of
range) and the services' `ValidationFailed` / `Conflict` ("external_id: ... already exists").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from coalition.errors import DomainError, ValidationFailed

M = TypeVar("M", bound=BaseModel)
FieldErrors = dict[str, list[str]]
GENERAL = "__all__"

_FIELD_PREFIX = re.compile(r"^([a-z_][a-z0-9_]*):\s+(.*)$", re.DOTALL)


def clean(form: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The submitted values of `fields`, trimmed; empty ones are left out (the schema's
    default applies, or it reports the field as required)."""
    out: dict[str, Any] = {}
    for name in fields:
        value = form.get(name)
        if isinstance(value, str):
            value = value.strip()
            if value:
                out[name] = value
    return out


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "Required."
    if kind == "int_parsing" or kind == "int_from_float":
        return "Enter a whole number."
    if kind in ("decimal_parsing", "float_parsing", "decimal_type"):
        return "Enter a number, e.g. 1250000.00."
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"):
        return "Enter a date as YYYY-MM-DD."
    if kind == "greater_than":
        return f"Must be more than {ctx.get('gt')}."
    if kind == "greater_than_equal":
        return f"Must be at least {ctx.get('ge')}."
    if kind == "less_than_equal":
        return f"Must be at most {ctx.get('le')}."
    if kind == "enum":
        return f"Choose one of {ctx.get('expected', 'the listed values')}."
    if kind == "string_pattern_mismatch":
        return "Not in the expected format."
    if kind == "string_too_long":
        return f"At most {ctx.get('max_length')} characters."
    if kind == "decimal_max_places":
        return f"At most {ctx.get('decimal_places')} decimal places."
    if kind == "decimal_max_digits":
        return f"At most {ctx.get('max_digits')} digits."
    message = str(error.get("msg", "Not valid."))
    return message.removeprefix("Value error, ")


def _guess_field(message: str, fields: Collection[str]) -> str:
    """Model-level rules ("fx_rate_to_eur is required when ...") name their field first."""
    for name in sorted(fields, key=len, reverse=True):
        if message.startswith(name) or f" {name} " in message:
            return name
    return GENERAL


def add(errors: FieldErrors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def validate(schema: type[M], data: Mapping[str, Any], fields: Collection[str]
             ) -> tuple[M | None, FieldErrors]:
    try:
        return schema.model_validate(dict(data)), {}
    except ValidationError as exc:
        errors: FieldErrors = {}
        for error in exc.errors():
            loc = [str(p) for p in error.get("loc", ())]
            message = _message(error)
            field = loc[0] if loc and loc[0] in fields else _guess_field(message, fields)
            add(errors, field, message)
        return None, errors


def domain_errors(exc: DomainError, fields: Collection[str]) -> FieldErrors:
    """A service's refusal as field errors; what names no field goes to the form as a whole."""
    errors: FieldErrors = {}
    if isinstance(exc, ValidationFailed):
        for e in exc.errors:
            field = e.field if e.field in fields else GENERAL
            add(errors, field, e.message if field != GENERAL else str(e))
        return errors
    match = _FIELD_PREFIX.match(exc.detail)
    if match and match.group(1) in fields:
        add(errors, match.group(1), match.group(2))
    else:
        add(errors, GENERAL, exc.detail)
    return errors


def first_errors(errors: FieldErrors) -> dict[str, str]:
    """One message per field, for templates that show a single line."""
    return {field: " ".join(messages) for field, messages in errors.items()}
