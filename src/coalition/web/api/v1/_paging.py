"""The page envelope every list returns, and the query parameters every list accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from coalition.paging import Page

T = TypeVar("T", bound=BaseModel)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int


def page_out(page: Page[Any], schema: type[T], convert: Callable[[Any], T] | None = None
             ) -> PageOut[T]:
    to_schema = convert or schema.model_validate
    return PageOut[T](items=[to_schema(i) for i in page.items], next_cursor=page.next_cursor,
                      total=page.total)


Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Cursor = Annotated[str | None, Query(description="Opaque cursor from the previous page.")]
