"""The demo catalog: the Kiel tracker's price list of weapons and items, classified.

Categories follow the tracker's "Type of item"; capability areas and compatibility groups are
assigned by the rules below (ours, not Kiel's). Prices in USD are converted at 0.95 EUR/USD,
roughly the 2022 average rate. A few modern systems missing from the 2022 list are added by hand
(`CURATED`), with public order-of-magnitude unit costs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from coalition.catalog.models import CapabilityArea as A
from coalition.demo.reference import price_list

USD_TO_EUR = Decimal("0.95")

CATEGORIES: dict[str, tuple[str, str | None]] = {
    "military": ("Military aid", None),
    "heavy-weapons": ("Heavy weapons", "military"),
    "ammunition-heavy": ("Ammunition for heavy weapons", "military"),
    "ammunition-light": ("Ammunition for light infantry", "military"),
    "portable-defence": ("Portable defence systems and their ammunition", "military"),
    "air-defence-munitions": ("Air-defence interceptors", "military"),
    "aviation-drones": ("Aviation and drones", "military"),
    "light-arms": ("Light armaments and infantry", "military"),
    "equipment": ("Military equipment", "military"),
    "demining": ("Demining", "military"),
    "humanitarian": ("Humanitarian aid", None),
    "funds": ("Contributions to joint funds", None),
}

_TYPE_TO_CATEGORY = {
    "heavy weapon": "heavy-weapons",
    "ammunition for heavy weapon": "ammunition-heavy",
    "ammunition": "ammunition-heavy",
    "ammunition for light infantry": "ammunition-light",
    "ammunition for portable defence system": "portable-defence",
    "portable defence system": "portable-defence",
    "aviation and drones": "aviation-drones",
    "air-launched ammunition": "aviation-drones",
    "light armaments & infantry": "light-arms",
    "military equipment": "equipment",
    "humanitarian": "humanitarian",
}

# (pattern over "sub-type | name", compatibility group); first match wins.
_GROUPS: list[tuple[str, str]] = [
    (r"155 ?mm howitzer ammunition.*(round|ammunition)|155 ?mm artillery round", "155mm NATO"),
    (r"^155mm howitzer ammunition \| (round|ammunition)", "155mm NATO"),
    (r"152 ?mm howitzer ammunition", "152mm"),
    (r"122mm howitzer ammunition", "122mm"),
    (r"122mm mlrs ammunition", "122mm MLRS (Grad)"),
    (r"227mm mlrs ammunition", "227mm MLRS (GMLRS)"),
    (r"^105mm \|", "105mm NATO"),
    (r"155mm howitzer \|", "155mm howitzer"),
    (r"152mm howitzer \|", "152mm howitzer"),
    (r"227mm mlrs \|", "227mm MLRS launcher"),
    (r"main battle tank.*(leopard)", "MBT NATO"),
    (r"main battle tank.*(t-72|t-55|pt-91|m-84)", "MBT Soviet"),
    (r"stinger missile", "Stinger missile"),
    (r"starstreak", "Starstreak missile"),
    (r"nlaw|m72|at4|matador|single-shot anti-tank|single-use anti-tank", "Light anti-tank weapon"),
    (r"javelin anti-tank missile|javelin \||missile \(including nlaws and javelin", "Javelin"),
]

_AREAS: list[tuple[str, A]] = [
    (r"mine vessel|minehunter|patrol and coastal|anti-ship|ashm|harpoon|boat|vessel", A.MARITIME),
    (r"anti-aircraft|manpads|air defen|nasams|iris-t|s-300|gepard|strela|aspide|stinger"
     r"|starstreak|piorun|mistral|self-propelled anti-aircraft", A.AIR_DEFENCE),
    (r"drone|unmanned|loitering|uav|aerial system", A.DRONES),
    (r"combat aircraft|transport aircraft|helicopter|mig-29|air-to-surface|anti-radiation",
     A.AIR_FORCE),
    (r"howitzer|mlrs|mortar|artillery|himars|m270|grad|smerch|gmlrs", A.ARTILLERY),
    (r"tank|armou?red|infantry fighting|ivf|ifv|apc|personnel carrier|auv|ppv|bridge|recovery"
     r"|vehicle", A.ARMOUR),
    (r"mine\b|demin|explosive charge|claymore", A.DEMINING),
    (r"frequency|bandwidth|designator|high frequency", A.IT),
    (r"medical|first aid|hospital", A.MEDICAL),
    (r"diesel|fuel|forklift|truck|oshkosh|uniform|winter|clothing", A.LOGISTICS),
    (r"rifle|machine gun|pistol|grenade|anti-tank|anti-armor|javelin|nlaw|small arms|salw"
     r"|round|ammunition|cartridge|bullet", A.INFANTRY),
]


@dataclass(frozen=True)
class ItemSeed:
    code: str
    name: str
    unit: str
    unit_value_eur: Decimal | None
    capability_area: A
    compatibility_group: str | None
    category: str
    soviet_origin: bool


CURATED: list[ItemSeed] = [
    ItemSeed("patriot-pac-3-mse", "Patriot PAC-3 MSE interceptor", "missile",
             Decimal("4000000"), A.AIR_DEFENCE, "Patriot interceptor", "air-defence-munitions",
             False),
    ItemSeed("patriot-pac-2-gem-t", "Patriot PAC-2 GEM-T interceptor", "missile",
             Decimal("3500000"), A.AIR_DEFENCE, "Patriot interceptor", "air-defence-munitions",
             False),
    ItemSeed("patriot-battery", "Patriot air-defence battery", "battery", Decimal("1000000000"),
             A.AIR_DEFENCE, None, "heavy-weapons", False),
    ItemSeed("iris-t-slm-missile", "IRIS-T SLM missile", "missile", Decimal("430000"),
             A.AIR_DEFENCE, "IRIS-T SL missile", "air-defence-munitions", False),
    ItemSeed("amraam-nasams", "AIM-120 AMRAAM for NASAMS", "missile", Decimal("1000000"),
             A.AIR_DEFENCE, "AMRAAM", "air-defence-munitions", False),
    ItemSeed("f-16-fighter", "F-16 fighter aircraft", "aircraft", Decimal("20000000"),
             A.AIR_FORCE, None, "aviation-drones", False),
    ItemSeed("fpv-drone", "FPV strike drone", "drone", Decimal("450"), A.DRONES, "FPV drone",
             "aviation-drones", False),
    ItemSeed("fpv-drone-fibre", "Fibre-optic FPV drone", "drone", Decimal("900"), A.DRONES,
             "FPV drone", "aviation-drones", False),
    ItemSeed("155mm-he-m107", "155mm HE shell M107", "round", Decimal("3200"), A.ARTILLERY,
             "155mm NATO", "ammunition-heavy", False),
    ItemSeed("155mm-he-l15", "155mm HE shell L15A1 (UK)", "round", Decimal("3500"), A.ARTILLERY,
             "155mm NATO", "ammunition-heavy", False),
    ItemSeed("152mm-of-540", "152mm HE-FRAG shell OF-540", "round", Decimal("2500"),
             A.ARTILLERY, "152mm", "ammunition-heavy", True),
    ItemSeed("mine-clearing-vehicle", "Mine-clearing vehicle", "vehicle", Decimal("1500000"),
             A.DEMINING, None, "demining", False),
    ItemSeed("demining-kit", "Manual demining kit", "kit", Decimal("12000"), A.DEMINING, None,
             "demining", False),
    ItemSeed("field-hospital", "Mobile field hospital", "unit", Decimal("2500000"), A.MEDICAL,
             None, "equipment", False),
    ItemSeed("joint-fund-contribution", "Contribution to a joint fund", "EUR", Decimal("1"),
             A.OTHER, None, "funds", False),
    ItemSeed("secure-radio", "Secure tactical radio", "radio", Decimal("9000"), A.IT, None,
             "equipment", False),
]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:70] or "item"


def _price(raw: str, currency: str) -> Decimal | None:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if value <= 0:
        return None
    rate = Decimal(1) if currency.strip() == "EUR" else USD_TO_EUR
    return (value * rate).quantize(Decimal("0.01"))


def _first(rules: list[tuple[str, A]] | list[tuple[str, str]], text: str) -> object | None:
    for pattern, value in rules:
        if re.search(pattern, text):
            return value
    return None


def item_seeds() -> list[ItemSeed]:
    """One item type per named price-list row (duplicates by name merged), plus CURATED."""
    seeds: dict[str, ItemSeed] = {s.name.lower(): s for s in CURATED}
    codes = {s.code for s in CURATED}
    for row in price_list():
        name = " ".join(row["Item"].split())
        if name in {"", "."} or name.lower() in seeds:
            continue
        kiel_type = " ".join(row["Type of item "].split()).lower()
        subtype = " ".join(row["Sub-type of item"].split()).lower().strip(". ")
        text = f"{subtype} | {name.lower()}"
        category = _TYPE_TO_CATEGORY.get(kiel_type, "equipment")
        area = _first(_AREAS, text)
        if category == "humanitarian":
            area = A.MEDICAL if area is A.MEDICAL else A.OTHER
        group = _first(_GROUPS, text)
        code = base = _slug(name)
        n = 2
        while code in codes:
            code, n = f"{base}-{n}", n + 1
        codes.add(code)
        seeds[name.lower()] = ItemSeed(
            code=code, name=name[:200], unit="unit",
            unit_value_eur=_price(row["Unit Price"], row["Currency"]),
            capability_area=area if isinstance(area, A) else A.OTHER,
            compatibility_group=group if isinstance(group, str) else None,
            category=category, soviet_origin=row["Soviet origin (1)"].strip() == "1",
        )
    return list(seeds.values())
