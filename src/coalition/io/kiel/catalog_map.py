"""Where a Kiel record lands in the catalog: which category and item type, in which unit.

The rules of the demo catalog (`demo.catalog_seed`, built from Kiel's own price list) are
reused, so a Kiel item that is in the price list becomes the same item type with the same
code, and a new one is classified the same way:

- A record with units (military or humanitarian goods) maps to an item type per distinct
  Kiel item name (or sub-type, or type when the item is not named): the catalog's item of that
  name if there is one, else the price list's, else a new one.
- A record without units is a value: an item type counted in EUR, one per Kiel category of
  military aid ("Heavy weapons (value in EUR)"), one for humanitarian and one for financial
  aid, in categories "humanitarian" and "financial".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from coalition.catalog.models import CapabilityArea
from coalition.demo import catalog_seed
from coalition.io.kiel.layout import AidType
from coalition.io.kiel.reader import KielRecord

# One source for the classification rules: the demo catalog's (ours, not Kiel's).
_TYPE_TO_CATEGORY = catalog_seed._TYPE_TO_CATEGORY
_AREAS = catalog_seed._AREAS
_GROUPS = catalog_seed._GROUPS
_first = catalog_seed._first
_slug = catalog_seed._slug

CATEGORIES: dict[str, tuple[str, str | None]] = {
    **catalog_seed.CATEGORIES,
    "financial": ("Financial aid", None),
}
MONEY_UNIT = "EUR"


@dataclass(frozen=True)
class CategoryPlan:
    code: str
    name: str
    parent: str | None


@dataclass(frozen=True)
class ItemPlan:
    code: str
    name: str
    category: CategoryPlan
    unit: str
    unit_value_eur: Decimal | None
    capability_area: CapabilityArea
    compatibility_group: str | None
    soviet_origin: bool

    @property
    def counts_money(self) -> bool:
        return self.unit == MONEY_UNIT


def name_key(text: str) -> str:
    return " ".join(text.split()).casefold()


@cache
def _seeds() -> dict[str, catalog_seed.ItemSeed]:
    return {name_key(s.name): s for s in catalog_seed.item_seeds()}


def _category(code: str, *, fallback_name: str | None = None,
              parent: str | None = "military") -> CategoryPlan:
    known = CATEGORIES.get(code)
    if known is not None:
        return CategoryPlan(code, known[0], known[1])
    return CategoryPlan(code, fallback_name or code, parent)


def category_of(record: KielRecord) -> CategoryPlan:
    """A category per Kiel type of item for military aid; humanitarian and financial aid
    each have theirs."""
    if record.aid_type is AidType.FINANCIAL:
        return _category("financial")
    if record.aid_type is AidType.HUMANITARIAN:
        return _category("humanitarian")
    kiel_type = " ".join((record.item_type or "").split())
    if not kiel_type:
        return _category("military")
    code = _TYPE_TO_CATEGORY.get(kiel_type.casefold()) or _slug(kiel_type)
    return _category(code, fallback_name=kiel_type)


def has_units(record: KielRecord) -> bool:
    return record.aid_type is not AidType.FINANCIAL and any(
        units is not None and units > 0
        for units in (record.units_committed, record.units_delivered, record.units_allocated))


def money_item(record: KielRecord) -> ItemPlan:
    category = category_of(record)
    return ItemPlan(
        code=f"kiel-{category.code}-eur", name=f"{category.name} (value in EUR)",
        category=category, unit=MONEY_UNIT, unit_value_eur=Decimal("1.00"),
        capability_area=CapabilityArea.OTHER, compatibility_group=None, soviet_origin=False)


def item_name(record: KielRecord) -> str:
    for text in (record.item, record.item_subtype, record.item_type):
        if text and text.strip(". "):
            return " ".join(text.split())[:200]
    return f"Unspecified {record.aid_type.value} item"


def unit_item(record: KielRecord, existing: dict[str, str]) -> ItemPlan | str:
    """The item type of a record counted in units: the code of a catalog item of that name
    (`existing` maps name keys to codes), or the plan of a new one."""
    name = item_name(record)
    key = name_key(name)
    if key in existing:
        return existing[key]
    seed = _seeds().get(key)
    if seed is not None:
        return ItemPlan(code=seed.code, name=seed.name, category=_category(seed.category),
                        unit=seed.unit, unit_value_eur=seed.unit_value_eur,
                        capability_area=seed.capability_area,
                        compatibility_group=seed.compatibility_group,
                        soviet_origin=seed.soviet_origin)
    subtype = (record.item_subtype or "").casefold().strip(". ")
    text = f"{subtype} | {name.casefold()}"
    area = _first(_AREAS, text)
    if record.aid_type is AidType.HUMANITARIAN:
        area = CapabilityArea.MEDICAL if area is CapabilityArea.MEDICAL else CapabilityArea.OTHER
    group = _first(_GROUPS, text)
    price = None
    if record.unit_price_usd is not None and record.unit_price_usd > 0:
        price = (record.unit_price_usd * catalog_seed.USD_TO_EUR).quantize(Decimal("0.01"))
    return ItemPlan(code=_slug(name), name=name, category=category_of(record), unit="unit",
                    unit_value_eur=price,
                    capability_area=area if isinstance(area, CapabilityArea)
                    else CapabilityArea.OTHER,
                    compatibility_group=group if isinstance(group, str) else None,
                    soviet_origin=bool(record.soviet_origin))


def unique_code(code: str, taken: set[str]) -> str:
    """`code`, or `code-2`, `code-3`... when a different item already has it."""
    if code not in taken:
        return code
    base, n = code, 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
