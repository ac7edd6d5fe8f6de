"""The invented part of the demo: requirements, pledges, allocations, deliveries, decisions.

Everything goes through the services, so the demo obeys the same rules (and leaves the same
audit trail) as real use. Magnitudes are plausible, not real: the top donors' relative weights
follow the public ordering of military aid, the individual pledges are made up.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.access.labels import Releasability
from coalition.catalog.models import CapabilityArea, ItemType
from coalition.demo import logistics as demo_logistics
from coalition.demo.calendar import MEETINGS
from coalition.meetings import service as meeting_service
from coalition.meetings.models import DecisionStatus
from coalition.meetings.schemas import DecisionCreate, MeetingCreate
from coalition.pledges import flows, lifecycle
from coalition.pledges import service as pledge_service
from coalition.pledges.models import FundingMechanism, Pledge, PledgeStatus
from coalition.pledges.schemas import PledgeCreate
from coalition.registry.models import FormatMembership, Participant
from coalition.requirements import service as requirement_service
from coalition.requirements.models import Requirement
from coalition.requirements.schemas import RequirementCreate

TODAY = dt.date(2026, 11, 25)

# Relative weight of each donor's military aid (public ordering, rounded); others get 0.3.
DONOR_WEIGHTS: dict[str, float] = {
    "USA": 40, "DEU": 13, "GBR": 9, "DNK": 6, "NLD": 6, "SWE": 4, "FRA": 3.5, "POL": 3.5,
    "CAN": 3, "NOR": 3.5, "FIN": 2, "BEL": 1.5, "ITA": 1.5, "ESP": 1, "CZE": 1.2, "AUS": 1,
    "JPN": 0.8, "LTU": 0.8, "EST": 0.8, "LVA": 0.6, "PRT": 0.5, "ROU": 0.4, "SVK": 0.5,
    "KOR": 0.3, "TUR": 0.3, "GRC": 0.3, "BGR": 0.4, "HRV": 0.3, "SVN": 0.2, "AUT": 0.2,
    "IRL": 0.2, "NZL": 0.2, "LUX": 0.3, "ISL": 0.1, "ALB": 0.05, "MKD": 0.1, "MNE": 0.05,
    "HUN": 0.05,
}
# Neutral or non-lethal donors pledge from these areas only.
NON_LETHAL = {"AUT", "IRL", "JPN", "HUN"}
NON_LETHAL_AREAS = {CapabilityArea.DEMINING, CapabilityArea.MEDICAL, CapabilityArea.LOGISTICS,
                    CapabilityArea.IT, CapabilityArea.OTHER}
AREA_WEIGHTS: dict[CapabilityArea, float] = {
    CapabilityArea.AIR_DEFENCE: 6, CapabilityArea.ARTILLERY: 8, CapabilityArea.ARMOUR: 4,
    CapabilityArea.DRONES: 4, CapabilityArea.INFANTRY: 2, CapabilityArea.DEMINING: 1.5,
    CapabilityArea.MARITIME: 1, CapabilityArea.AIR_FORCE: 1.5, CapabilityArea.IT: 1,
    CapabilityArea.MEDICAL: 1, CapabilityArea.LOGISTICS: 1,
}
LABELS = [Releasability.COALITION] * 14 + [Releasability.PUBLIC] * 3 + \
    [Releasability.NATO] * 2 + [Releasability.NATIONAL]
PURL_CONTRIBUTORS = ["NLD", "DNK", "NOR", "SWE", "DEU", "CAN"]


def _eligible_items(session: Session) -> dict[CapabilityArea, list[ItemType]]:
    by_area: dict[CapabilityArea, list[ItemType]] = defaultdict(list)
    for item in session.scalars(select(ItemType).where(ItemType.unit_value_eur_cents > 0)):
        if item.code != "joint-fund-contribution" and item.capability_area in AREA_WEIGHTS:
            by_area[item.capability_area].append(item)
    return by_area


def _pick_item(rng: random.Random, items: dict[CapabilityArea, list[ItemType]],
               lethal: bool) -> ItemType:
    areas = [a for a in AREA_WEIGHTS if items.get(a) and (lethal or a in NON_LETHAL_AREAS)]
    area = rng.choices(areas, weights=[AREA_WEIGHTS[a] for a in areas])[0]
    pool = items[area]
    # Grouped items (ammunition, interceptors) dominate real requests; favour them.
    weights = [4.0 if i.compatibility_group else 1.0 for i in pool]
    return rng.choices(pool, weights=weights)[0]


def _quantity(rng: random.Random, item: ItemType, value_eur: float) -> int:
    unit = (item.unit_value_eur_cents or 100) / 100
    return max(1, min(2_000_000, round(value_eur / unit)))


def make_requirements(session: Session, actor: Actor, rng: random.Random, count: int = 160
                      ) -> list[Requirement]:
    items = _eligible_items(session)
    made = []
    for n in range(count):
        item = _pick_item(rng, items, lethal=True)
        priority = rng.choices([1, 2, 3, 4, 5], weights=[3, 4, 4, 2, 1])[0]
        value = rng.lognormvariate(17.2, 1.0)  # median ~30 M EUR of need
        needed_by = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 1600))
        data = RequirementCreate(
            reference=f"UKR-REQ-{n + 1:04d}", recipient="UKR", item_type=item.code,
            quantity=_quantity(rng, item, value), priority=priority, needed_by=needed_by,
            notes="Demo requirement (invented).", releasability=rng.choice(LABELS[:17]))
        made.append(requirement_service.create_requirement(session, actor=actor, data=data))
    return made


def make_pledges(session: Session, actor: Actor, rng: random.Random, count: int = 700
                 ) -> list[Pledge]:
    items = _eligible_items(session)
    donors = list(DONOR_WEIGHTS)
    weights = list(DONOR_WEIGHTS.values())
    meeting_days = [m.held_on for m in MEETINGS if m.format == "UDCG" and m.held_on <= TODAY]
    pledges = []
    for n in range(count):
        donor = rng.choices(donors, weights=weights)[0]
        item = _pick_item(rng, items, lethal=donor not in NON_LETHAL)
        announced = rng.choice(meeting_days)
        value = rng.lognormvariate(16.3, 1.3) * (1.6 if donor in {"USA", "DEU", "GBR"} else 1)
        quantity = _quantity(rng, item, value)
        unit = Decimal(item.unit_value_eur_cents or 100) / 100
        in_usd = donor == "USA"
        rate = Decimal("0.92") if in_usd else Decimal(1)
        amount = (unit * quantity / rate).quantize(Decimal("0.01"))
        pledges.append(pledge_service.create_pledge(session, actor=actor, data=PledgeCreate(
            external_id=f"DEMO-{n + 1:05d}", donor=donor, item_type=item.code, quantity=quantity,
            amount=amount, currency="USD" if in_usd else "EUR",
            fx_rate_to_eur=rate if in_usd else None, fx_date=announced,
            funding=rng.choices([FundingMechanism.STOCK_DONATION,
                                 FundingMechanism.DONOR_FUNDED_PROCUREMENT,
                                 FundingMechanism.OTHER], weights=[6, 3, 1])[0],
            announced_on=announced,
            available_from=announced + dt.timedelta(days=rng.randint(0, 300)),
            releasability=rng.choice(LABELS), notes="Demo pledge (invented).")))
    return pledges


def make_purl(session: Session, actor: Actor, rng: random.Random) -> list[Pledge]:
    """Contributions to NATO's PURL fund and the fund's purchases paid from them."""
    made = []
    patriot = session.scalar(select(ItemType).where(ItemType.code == "patriot-pac-3-mse"))
    himars = session.scalar(select(ItemType).where(ItemType.compatibility_group
                                                   == "227mm MLRS (GMLRS)"))
    for n, donor in enumerate(PURL_CONTRIBUTORS):
        euros = rng.choice([250, 300, 400, 500]) * 1_000_000
        day = dt.date(2025, 8, 5) + dt.timedelta(days=20 * n)
        parent = pledge_service.create_pledge(session, actor=actor, data=PledgeCreate(
            external_id=f"PURL-C-{donor}", donor=donor, item_type="joint-fund-contribution",
            quantity=euros, amount=Decimal(euros), funding=FundingMechanism.JOINT_FUND_CONTRIBUTION,
            announced_on=day, available_from=day, releasability=Releasability.PUBLIC,
            notes="Contribution to NATO's Prioritised Ukraine Requirements List (PURL)."))
        for item in (patriot, himars):
            if item is None or item.unit_value_eur_cents is None:
                continue
            unit = Decimal(item.unit_value_eur_cents) / 100
            qty = int(Decimal(euros) / 2 / unit)
            made.append(pledge_service.create_pledge(session, actor=actor, data=PledgeCreate(
                external_id=f"PURL-P-{donor}-{item.code}"[:80], donor="PURL",
                item_type=item.code, quantity=max(qty, 1), amount=unit * max(qty, 1),
                funding=FundingMechanism.JOINT_FUND_PURCHASE, parent_pledge_id=parent.id,
                announced_on=day + dt.timedelta(days=30),
                available_from=day + dt.timedelta(days=120),
                releasability=Releasability.COALITION,
                notes=f"Bought from US stocks with {donor}'s PURL contribution.")))
        made.append(parent)
    return made


def progress(session: Session, actor: Actor, rng: random.Random, pledges: list[Pledge],
             requirements: list[Requirement]) -> None:
    """Older pledges are confirmed, allocated to compatible needs and partly delivered."""
    shipper = demo_logistics.Shipper(session, actor)
    open_by_item: dict[int, list[Requirement]] = defaultdict(list)
    open_by_group: dict[str, list[Requirement]] = defaultdict(list)
    for r in requirements:
        open_by_item[r.item_type_id].append(r)
        if r.item_type.compatibility_group:
            open_by_group[r.item_type.compatibility_group].append(r)
    for pledge in sorted(pledges, key=lambda p: p.announced_on):
        if pledge.funding is FundingMechanism.JOINT_FUND_CONTRIBUTION:
            continue
        age = (TODAY - pledge.announced_on).days
        if age < 60 or rng.random() < 0.08:
            continue
        pledge_service.transition(session, actor=actor, pledge_id=pledge.id,
                                  to=PledgeStatus.CONFIRMED, reason="confirmed by national desk")
        if age < 200 or rng.random() < 0.15:
            continue
        candidates = open_by_item.get(pledge.item_type_id, []) + open_by_group.get(
            pledge.item_type.compatibility_group or "", [])
        for requirement in sorted(candidates, key=lambda r: (r.priority, r.needed_by)):
            remaining = pledge.quantity - pledge.quantity_allocated
            if remaining <= 0:
                break
            free = requirement.quantity - requirement.quantity_committed
            if free <= 0 or pledge.status not in lifecycle.ALLOCATABLE:
                continue
            allocation = flows.allocate(session, actor=actor, pledge_id=pledge.id,
                                        requirement_id=requirement.id,
                                        quantity=min(remaining, free))
            share = min(1.0, max(0.0, (age - 200) / 500 + rng.uniform(-0.2, 0.2)))
            shipped = round(allocation.quantity * min(1.0, share + 0.15))
            delivered = min(shipped, round(allocation.quantity * share))
            shipper.ship(allocation, shipped=shipped, delivered=delivered)
    shipper.flush()


def make_meetings(session: Session, actor: Actor, rng: random.Random, pledges: list[Pledge]
                  ) -> int:
    members: dict[str, list[str]] = defaultdict(list)
    for code, fmt_code in session.execute(
        select(Participant.code, FormatMembership.format_id)
        .join(FormatMembership, FormatMembership.participant_id == Participant.id)
    ):
        members[str(fmt_code)].append(code)
    by_day: dict[dt.date, list[Pledge]] = defaultdict(list)
    for p in pledges:
        by_day[p.announced_on].append(p)
    from coalition.registry import service as registry_service

    count = 0
    for seed in MEETINGS:
        if seed.held_on > TODAY:
            continue
        fmt = registry_service.get_format(session, code=seed.format)
        codes = members[str(fmt.id)]
        attendees = codes if not seed.is_virtual else rng.sample(codes, k=int(len(codes) * 0.85))
        chair = "USA" if seed.format == "UDCG" else "NATO"
        where = "virtual meeting" if seed.is_virtual else seed.place.split(",")[0]
        meeting = meeting_service.create_meeting(session, actor=actor, data=MeetingCreate(
            format=seed.format, title=f"{fmt.code} meeting, {where}", held_on=seed.held_on,
            place=seed.place, is_virtual=seed.is_virtual, chair=chair,
            agenda="Battlefield update; air defence; ammunition; capability coalitions.",
            attendees=sorted(attendees)))
        for pledge in by_day.get(seed.held_on, []):
            meeting_service.announce(session, actor=actor, meeting_id=meeting.id,
                                     pledge_id=pledge.id)
        if seed.held_on == dt.date(2024, 2, 14):
            meeting_service.record_decision(session, actor=actor, meeting_id=meeting.id,
                                            format_code="UDCG", data=DecisionCreate(
                text="Organise long-term support in capability coalitions (air defence, "
                     "artillery, armour, drones, demining, maritime, air force, IT).",
                status=DecisionStatus.ADOPTED, decided_by="USA", decided_on=seed.held_on))
        if seed.held_on == dt.date(2024, 6, 13):
            meeting_service.record_decision(session, actor=actor, meeting_id=meeting.id,
                                            format_code="UDCG", data=DecisionCreate(
                text="Move the coordination of security assistance and training for Ukraine "
                     "into NATO structures (NSATU, Wiesbaden); every delivery remains a national "
                     "decision and partners outside NATO remain included.",
                status=DecisionStatus.ADOPTED, decided_by="NATO",
                decided_on=dt.date(2024, 7, 10)))
        count += 1
    return count
