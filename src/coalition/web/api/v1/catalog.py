"""The catalog: categories and item types."""

from __future__ import annotations

from fastapi import APIRouter, status

from coalition.catalog import service as catalog_service
from coalition.catalog.models import CapabilityArea
from coalition.catalog.schemas import (
    CategoryCreate,
    CategoryRead,
    ItemTypeCreate,
    ItemTypeRead,
    ItemTypeUpdate,
)
from coalition.web.api.v1._paging import Cursor, Limit, PageOut, page_out
from coalition.web.deps import ActorDep, SessionDep

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get("/categories", response_model=list[CategoryRead])
def list_categories(session: SessionDep, actor: ActorDep) -> list[CategoryRead]:
    return [CategoryRead.model_validate(c) for c in catalog_service.list_categories(session)]


@router.post("/categories", response_model=CategoryRead, status_code=status.HTTP_201_CREATED)
def create_category(data: CategoryCreate, session: SessionDep, actor: ActorDep) -> CategoryRead:
    return CategoryRead.model_validate(
        catalog_service.create_category(session, actor=actor, data=data))


@router.get("/item-types", response_model=PageOut[ItemTypeRead])
def list_item_types(session: SessionDep, actor: ActorDep, category: str | None = None,
                    capability_area: CapabilityArea | None = None,
                    compatibility_group: str | None = None, q: str | None = None,
                    sort: str = "code", limit: Limit = 100, cursor: Cursor = None
                    ) -> PageOut[ItemTypeRead]:
    page = catalog_service.list_item_types(
        session, category=category, capability_area=capability_area,
        compatibility_group=compatibility_group, search=q, sort=sort, limit=limit, cursor=cursor)
    return page_out(page, ItemTypeRead)


@router.get("/item-types/{code}", response_model=ItemTypeRead)
def get_item_type(code: str, session: SessionDep, actor: ActorDep) -> ItemTypeRead:
    return ItemTypeRead.model_validate(catalog_service.get_item_type(session, code=code))


@router.get("/item-types/{code}/substitutes", response_model=list[ItemTypeRead])
def substitutes(code: str, session: SessionDep, actor: ActorDep) -> list[ItemTypeRead]:
    return [ItemTypeRead.model_validate(i)
            for i in catalog_service.substitutes(session, code=code)]


@router.post("/item-types", response_model=ItemTypeRead, status_code=status.HTTP_201_CREATED)
def create_item_type(data: ItemTypeCreate, session: SessionDep, actor: ActorDep) -> ItemTypeRead:
    return ItemTypeRead.model_validate(
        catalog_service.create_item_type(session, actor=actor, data=data))


@router.patch("/item-types/{code}", response_model=ItemTypeRead)
def update_item_type(code: str, data: ItemTypeUpdate, session: SessionDep, actor: ActorDep
                     ) -> ItemTypeRead:
    return ItemTypeRead.model_validate(
        catalog_service.update_item_type(session, actor=actor, code=code, data=data))
