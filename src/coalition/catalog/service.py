"""Rules of the catalog: unique codes, a category tree without cycles, substitutes by group."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor
from coalition.catalog.models import CapabilityArea, Category, ItemType
from coalition.catalog.schemas import CategoryCreate, ItemTypeCreate, ItemTypeUpdate
from coalition.errors import Conflict, NotFound, ValidationFailed
from coalition.money import to_cents
from coalition.paging import Page, paginate

ITEM_SORTS = {"code": ItemType.code, "name": ItemType.name, "id": ItemType.id,
              "unit_value_eur": ItemType.unit_value_eur_cents}


def get_category(session: Session, *, code: str, field: str = "category") -> Category:
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None:
        raise ValidationFailed.single(field, "unknown category code", code)
    return category


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.code)))


def create_category(session: Session, *, actor: Actor, data: CategoryCreate) -> Category:
    policy.ensure(actor, policy.MANAGE_CATALOG)
    if session.scalar(select(Category.id).where(Category.code == data.code)) is not None:
        raise Conflict(f"code: category {data.code!r} already exists")
    parent = get_category(session, code=data.parent, field="parent") if data.parent else None
    category = Category(code=data.code, name=data.name,
                        parent_id=parent.id if parent else None)
    session.add(category)
    session.flush()
    audit.record(session, actor=actor, action="category.create", target=category)
    return category


def get_item_type(session: Session, *, code: str) -> ItemType:
    item = session.scalar(select(ItemType).where(ItemType.code == code))
    if item is None:
        raise NotFound(f"no item type with code {code!r}")
    return item


def resolve_item_type(session: Session, *, code: str, field: str = "item_type") -> ItemType:
    item = session.scalar(select(ItemType).where(ItemType.code == code))
    if item is None:
        raise ValidationFailed.single(field, "unknown item type", code)
    return item


def list_item_types(
    session: Session,
    *,
    category: str | None = None,
    capability_area: CapabilityArea | None = None,
    compatibility_group: str | None = None,
    search: str | None = None,
    sort: str = "code",
    limit: int = 100,
    cursor: str | None = None,
) -> Page[ItemType]:
    stmt: Select[ItemType] = select(ItemType)
    if category is not None:
        stmt = stmt.where(ItemType.category_id.in_(_category_subtree(session, category)))
    if capability_area is not None:
        stmt = stmt.where(ItemType.capability_area == capability_area)
    if compatibility_group is not None:
        stmt = stmt.where(ItemType.compatibility_group == compatibility_group)
    if search:
        stmt = stmt.where(ItemType.name.ilike(f"%{search}%") | ItemType.code.ilike(f"%{search}%"))
    return paginate(session, stmt, id_column=ItemType.id, sortable=ITEM_SORTS, sort=sort,
                    limit=limit, cursor=cursor)


def _category_subtree(session: Session, code: str) -> list[int]:
    """A filter on a category includes its sub-categories."""
    root = get_category(session, code=code)
    children: dict[int | None, list[int]] = {}
    for cat_id, parent_id in session.execute(select(Category.id, Category.parent_id)):
        children.setdefault(parent_id, []).append(cat_id)
    found, stack = [], [root.id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def create_item_type(session: Session, *, actor: Actor, data: ItemTypeCreate) -> ItemType:
    policy.ensure(actor, policy.MANAGE_CATALOG)
    if session.scalar(select(ItemType.id).where(ItemType.code == data.code)) is not None:
        raise Conflict(f"code: item type {data.code!r} already exists")
    if session.scalar(select(ItemType.id).where(ItemType.name == data.name)) is not None:
        raise Conflict(f"name: item type named {data.name!r} already exists")
    category = get_category(session, code=data.category)
    item = ItemType(
        code=data.code, name=data.name, unit=data.unit,
        unit_value_eur_cents=None if data.unit_value_eur is None else to_cents(data.unit_value_eur),
        capability_area=data.capability_area, compatibility_group=data.compatibility_group,
        category_id=category.id, soviet_origin=data.soviet_origin, description=data.description,
    )
    session.add(item)
    session.flush()
    audit.record(session, actor=actor, action="item_type.create", target=item)
    return item


def update_item_type(session: Session, *, actor: Actor, code: str, data: ItemTypeUpdate
                     ) -> ItemType:
    policy.ensure(actor, policy.MANAGE_CATALOG)
    item = get_item_type(session, code=code)
    before = audit.snapshot(item)
    changes = data.model_dump(exclude_unset=True)
    if "unit_value_eur" in changes:
        value = changes.pop("unit_value_eur")
        item.unit_value_eur_cents = None if value is None else to_cents(value)
    for key, value in changes.items():
        setattr(item, key, value)
    session.flush()
    audit.record(session, actor=actor, action="item_type.update", target=item, before=before)
    return item


def substitutes(session: Session, *, code: str) -> list[ItemType]:
    """Other item types of the same compatibility group; none if the item has no group."""
    item = get_item_type(session, code=code)
    if item.compatibility_group is None:
        return []
    return list(session.scalars(
        select(ItemType).where(ItemType.compatibility_group == item.compatibility_group,
                               ItemType.id != item.id).order_by(ItemType.code)))
