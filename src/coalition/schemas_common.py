"""Pydantic building blocks shared by every domain's schemas."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field, field_validator

from coalition.money import from_cents

# Blank at either end of a text: what Python's str.strip() removes (Unicode White_Space and
# the separators \x1c-\x1f, which str.isspace() calls blank) and, a subset, what pydantic's
# str_strip_whitespace removes. A column check (polars, Rust regex) that refuses a text with
# any of it leaves the text to the validator that strips it, so a text it accepts is exactly
# its own stripped text.
EDGE_BLANK = r"^[\s\x1c-\x1f]|[\s\x1c-\x1f]$"


# PostgreSQL text cannot hold NUL: refused by validation, naming the field, rather than by
# the database when the row is written.
NUL = "\x00"
# The same as a pattern, for types that are not a Schema (TypedDict rows).
NO_NUL = r"^[^\x00]*$"
NO_NUL_MESSAGE = "text cannot contain the NUL character (\\x00)"


def _without_nul(value: Any) -> Any:
    texts = value if isinstance(value, list | tuple) else (value,)
    if any(isinstance(t, str) and NUL in t for t in texts):
        raise ValueError(NO_NUL_MESSAGE)
    return value


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid", str_strip_whitespace=True)

    _no_nul = field_validator("*")(_without_nul)


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def euros_of(cents_field: str) -> Any:
    """A computed EUR amount, shown in place of a model's excluded integer cents field:
    `value_eur = euros_of("value_eur_cents")`."""

    def euros(self: BaseModel) -> Decimal:
        return from_cents(getattr(self, cents_field))

    return computed_field(return_type=Decimal)(property(euros))
