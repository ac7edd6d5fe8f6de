"""The demo registry: real UDCG participants and organisations; the formats and coalitions
as publicly announced (memberships simplified)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.catalog.models import CapabilityArea as A
from coalition.demo.reference import states, udcg_participants
from coalition.registry import service as registry_service
from coalition.registry.models import CoalitionRole, ParticipantKind
from coalition.registry.schemas import (
    CoalitionCreate,
    CoalitionMemberIn,
    FormatCreate,
    MembershipCreate,
    ParticipantCreate,
)

ORGANISATIONS = [
    ("NATO", "North Atlantic Treaty Organization", ParticipantKind.ORGANISATION, False),
    ("EU", "European Union (Commission and Council)", ParticipantKind.ORGANISATION, True),
    ("EPF", "European Peace Facility", ParticipantKind.ORGANISATION, True),
    ("PURL", "NATO Prioritised Ukraine Requirements List fund", ParticipantKind.ORGANISATION,
     True),
    ("DRONE-FUND", "Drone Coalition fund", ParticipantKind.COALITION, True),
]

# Lead nations per capability coalition, as announced in 2024 (membership lists simplified).
COALITIONS = [
    ("IT", "IT Coalition", A.IT, ["EST", "LUX"], ["DEU", "NLD", "SWE", "ISL", "BEL", "JPN"]),
    ("DRONES", "Drone Coalition", A.DRONES, ["LVA", "GBR"], ["DNK", "NLD", "SWE", "CAN", "POL",
                                                               "LTU", "EST", "FRA"]),
    ("DEMINING", "Demining Coalition", A.DEMINING, ["LTU", "ISL"], ["AUS", "JPN", "DNK", "NLD",
                                                                     "SWE", "DEU", "GBR"]),
    ("AIR-FORCE", "Air Force Capability Coalition", A.AIR_FORCE, ["DNK", "NLD", "USA"],
     ["NOR", "BEL", "SWE", "GBR", "CAN", "PRT"]),
    ("MARITIME", "Maritime Capability Coalition", A.MARITIME, ["GBR", "NOR"],
     ["NLD", "SWE", "USA", "DNK", "FRA"]),
    ("ARMOUR", "Armoured Vehicles Coalition", A.ARMOUR, ["POL"], ["DEU", "CAN", "SWE", "DNK"]),
    ("ARTILLERY", "Artillery Coalition", A.ARTILLERY, ["FRA", "USA"], ["DEU", "GBR", "CZE",
                                                                        "EST", "LTU", "AUS"]),
    ("IAMD", "Integrated Air and Missile Defence Coalition", A.AIR_DEFENCE, ["DEU", "FRA"],
     ["USA", "NLD", "ESP", "ITA", "ROU", "NOR", "SWE"]),
]

UDCG_FOUNDED = dt.date(2022, 4, 26)
NSATU_FOUNDED = dt.date(2024, 7, 10)


def load_registry(session: Session, actor: Actor) -> dict[str, int]:
    facts = states()
    udcg = udcg_participants()
    for row in udcg:
        f = facts[row["iso3"]]
        registry_service.create_participant(session, actor=actor, data=ParticipantCreate(
            kind=ParticipantKind.STATE, code=f.iso3, name=f.name, nato_member_since=f.nato_since,
            eu_member_since=f.eu_since, eu_member_until=f.eu_until, gdp_usd=f.gdp_usd,
            gdp_year=f.gdp_year, is_donor=f.iso3 != "UKR", is_recipient=f.iso3 == "UKR"))
    for code, name, kind, donor in ORGANISATIONS:
        registry_service.create_participant(session, actor=actor, data=ParticipantCreate(
            kind=kind, code=code, name=name, is_donor=donor))
    registry_service.create_format(session, actor=actor, data=FormatCreate(
        code="UDCG", name="Ukraine Defense Contact Group ('Ramstein format')",
        description="About 50 states coordinating military aid to Ukraine since April 2022.",
        lead="USA", lead_since=UDCG_FOUNDED))
    for row in udcg:
        registry_service.add_member(session, actor=actor, code="UDCG", data=MembershipCreate(
            participant=row["iso3"], joined_on=UDCG_FOUNDED))
    registry_service.add_member(session, actor=actor, code="UDCG", data=MembershipCreate(
        participant="EU", joined_on=UDCG_FOUNDED))
    registry_service.create_format(session, actor=actor, data=FormatCreate(
        code="NSATU", name="NATO Security Assistance and Training for Ukraine",
        description="NATO command in Wiesbaden coordinating equipment and training since 2024.",
        lead="NATO", lead_since=NSATU_FOUNDED))
    for row in udcg:
        if row["nato_member"] == "1" or row["iso3"] == "UKR":
            registry_service.add_member(session, actor=actor, code="NSATU", data=MembershipCreate(
                participant=row["iso3"], joined_on=NSATU_FOUNDED))
    for code, name, area, leads, others in COALITIONS:
        members = [CoalitionMemberIn(participant=c, role=CoalitionRole.LEAD,
                                     joined_on=dt.date(2024, 2, 14)) for c in leads]
        members += [CoalitionMemberIn(participant=c, joined_on=dt.date(2024, 2, 14))
                    for c in others if c not in leads]
        registry_service.create_coalition(session, actor=actor, data=CoalitionCreate(
            code=code, name=name, capability_area=area, format="UDCG", members=members))
    return {"participants": len(udcg) + len(ORGANISATIONS), "formats": 2,
            "capability coalitions": len(COALITIONS)}
