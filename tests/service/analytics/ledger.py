"""A small, hand-checked ledger of pledges for the report tests (service, API and CLI).

On top of the factories' world:

| id | donor | item        | area        | qty | EUR       | label     | status    | announced  |
|----|-------|-------------|-------------|-----|-----------|-----------|-----------|------------|
| p1 | POL   | 155-a       | artillery   | 100 |   300,000 | COALITION | confirmed | 2024-06-13 |
| p2 | DEU   | 155-b       | artillery   | 200 |   700,000 | COALITION | confirmed | 2024-07-10 |
| p3 | USA   | 152-a       | artillery   |  50 |   125,000 | NATO      | announced | 2024-06-13 |
| p4 | JPN   | contribution| other       | 1e6 | 1,000,000 | PUBLIC    | announced | 2024-06-13 |
| p5 | FUND  | pac-3       | air_defence |   2 |   800,000 | COALITION | announced | 2024-07-10 |
| p6 | DEU   | 155-a       | artillery   |  10 |    30,000 | COALITION | withdrawn | 2024-06-13 |

p4 is JPN's contribution to the joint fund FUND, p5 the fund's purchase paid from it. POL's GDP
is set so that it is exactly 1,000,000,000 EUR at the 2023 rate (1.0813 USD per EUR).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.catalog import service as catalog_service
from coalition.catalog.models import CapabilityArea
from coalition.catalog.schemas import CategoryCreate, ItemTypeCreate
from coalition.pledges import service as pledge_service
from coalition.pledges.models import FundingMechanism, Pledge, PledgeStatus
from coalition.registry import service as registry_service
from coalition.registry.models import Participant, ParticipantKind
from coalition.registry.schemas import ParticipantCreate
from tests import factories

JUNE = dt.date(2024, 6, 13)
JULY = dt.date(2024, 7, 10)
EUR = 100  # cents


@dataclass
class Ledger:
    p1: Pledge
    p2: Pledge
    p3: Pledge
    p4: Pledge
    p5: Pledge
    p6: Pledge


def build_ledger(session: Session) -> Ledger:
    registry_service.create_participant(session, actor=SYSTEM, data=ParticipantCreate(
        kind=ParticipantKind.ORGANISATION, code="FUND", name="Joint fund", is_donor=True))
    session.execute(update(Participant).where(Participant.code == "POL")
                    .values(gdp_usd=1_081_300_000, gdp_year=2023))
    catalog_service.create_category(session, actor=SYSTEM, data=CategoryCreate(
        code="interceptors", name="Interceptors", parent="ammo"))
    catalog_service.create_category(session, actor=SYSTEM, data=CategoryCreate(
        code="funds", name="Joint funds"))
    for code, name, area, category, unit in [
        ("pac-3", "PAC-3 interceptor", CapabilityArea.AIR_DEFENCE, "interceptors", "400000"),
        ("joint-fund-contribution", "Contribution to a joint fund", CapabilityArea.OTHER,
         "funds", "1"),
    ]:
        catalog_service.create_item_type(session, actor=SYSTEM, data=ItemTypeCreate(
            code=code, name=name, unit="unit", unit_value_eur=Decimal(unit),
            capability_area=area, category=category))

    def pledge(donor: str, item: str, qty: int, euros: int, day: dt.date, *,
               label: Releasability = Releasability.COALITION, confirm: bool = False,
               **extra: Any) -> Pledge:
        return factories.pledge(session, donor=donor, item_type=item, quantity=qty,
                                amount=Decimal(euros), announced_on=day, available_from=day,
                                releasability=label, format="UDCG", confirm=confirm, **extra)

    p1 = pledge("POL", "155-a", 100, 300_000, JUNE, confirm=True)
    p2 = pledge("DEU", "155-b", 200, 700_000, JULY, confirm=True)
    p3 = pledge("USA", "152-a", 50, 125_000, JUNE, label=Releasability.NATO)
    p4 = pledge("JPN", "joint-fund-contribution", 1_000_000, 1_000_000, JUNE,
                label=Releasability.PUBLIC, funding=FundingMechanism.JOINT_FUND_CONTRIBUTION)
    p5 = pledge("FUND", "pac-3", 2, 800_000, JULY, funding=FundingMechanism.JOINT_FUND_PURCHASE,
                parent_pledge_id=p4.id)
    p6 = pledge("DEU", "155-a", 10, 30_000, JUNE)
    pledge_service.transition(session, actor=SYSTEM, pledge_id=p6.id,
                              to=PledgeStatus.WITHDRAWN, reason="test")
    session.flush()
    return Ledger(p1, p2, p3, p4, p5, p6)
