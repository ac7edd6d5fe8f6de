"""The logistics part of the demo: real hubs, depots at capitals, and every delivery recorded as
shipments and delivery events through the same bulk ingest real feeds use.

Hub coordinates are the airfields' published positions. Depots are invented (one per donor,
placed at its capital; US aid leaves from Dover Air Force Base, where the airlift starts).
What each allocation has shipped and delivered is the demo scenario's, unchanged: the
delivered part travels on one shipment that arrives, the rest is still on its way.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.db import utcnow
from coalition.logistics import ingest
from coalition.logistics import service as logistics_service
from coalition.logistics.models import SiteKind, TransportMode
from coalition.logistics.schemas import LegIn, LineIn, ShipmentCreate, SiteCreate
from coalition.pledges.models import Allocation

TODAY = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)

# code, name, country, latitude, longitude (published aerodrome reference points)
HUBS = [
    ("POL-RZE", "Rzeszów-Jasionka Airport", "POL", "50.110000", "22.018900"),
    ("DEU-RMS", "Ramstein Air Base", "DEU", "49.436389", "7.600278"),
    ("ROU-SCV", "Suceava Ștefan cel Mare Airport", "ROU", "47.687500", "26.354167"),
    ("SVK-KSC", "Košice Airport", "SVK", "48.663056", "21.241111"),
]
RECIPIENT_DEPOTS = [
    ("UKR-LWO", "Lviv depot (demo)", "UKR", "49.839700", "24.029700"),
    ("UKR-KBP", "Kyiv depot (demo)", "UKR", "50.450100", "30.523400"),
]
# Donor depots at the capital (Dover AFB for the United States): city, latitude, longitude.
CAPITALS: dict[str, tuple[str, str, str]] = {
    "USA": ("Dover Air Force Base", "39.129444", "-75.466111"),
    "DEU": ("Berlin", "52.520000", "13.405000"), "GBR": ("London", "51.507400", "-0.127800"),
    "DNK": ("Copenhagen", "55.676100", "12.568300"), "NLD": ("Amsterdam", "52.367600", "4.904100"),
    "SWE": ("Stockholm", "59.329300", "18.068600"), "FRA": ("Paris", "48.856600", "2.352200"),
    "POL": ("Warsaw", "52.229700", "21.012200"), "CAN": ("Ottawa", "45.421500", "-75.697200"),
    "NOR": ("Oslo", "59.913900", "10.752200"), "FIN": ("Helsinki", "60.169900", "24.938400"),
    "BEL": ("Brussels", "50.850300", "4.351700"), "ITA": ("Rome", "41.902800", "12.496400"),
    "ESP": ("Madrid", "40.416800", "-3.703800"), "CZE": ("Prague", "50.075500", "14.437800"),
    "AUS": ("Canberra", "-35.280900", "149.130000"), "JPN": ("Tokyo", "35.676200", "139.650300"),
    "LTU": ("Vilnius", "54.687200", "25.279700"), "EST": ("Tallinn", "59.437000", "24.753600"),
    "LVA": ("Riga", "56.949600", "24.105200"), "PRT": ("Lisbon", "38.722300", "-9.139300"),
    "ROU": ("Bucharest", "44.426800", "26.102500"), "SVK": ("Bratislava", "48.148600",
                                                             "17.107700"),
    "KOR": ("Seoul", "37.566500", "126.978000"), "TUR": ("Ankara", "39.933400", "32.859700"),
    "GRC": ("Athens", "37.983800", "23.727500"), "BGR": ("Sofia", "42.697700", "23.321900"),
    "HRV": ("Zagreb", "45.815000", "15.981900"), "SVN": ("Ljubljana", "46.056900", "14.505800"),
    "AUT": ("Vienna", "48.208200", "16.373800"), "IRL": ("Dublin", "53.349800", "-6.260300"),
    "NZL": ("Wellington", "-41.286500", "174.776200"), "LUX": ("Luxembourg", "49.611600",
                                                                "6.131900"),
    "ISL": ("Reykjavík", "64.146600", "-21.942600"), "ALB": ("Tirana", "41.327500", "19.818700"),
    "MKD": ("Skopje", "41.998100", "21.425400"), "MNE": ("Podgorica", "42.430400", "19.259400"),
    "HUN": ("Budapest", "47.497900", "19.040200"),
}
# Overseas aid is flown to Ramstein first; the south-east reaches Ukraine through Romania.
VIA_RAMSTEIN = frozenset({"USA", "CAN", "AUS", "JPN", "KOR", "NZL", "GBR", "ISL"})
VIA_SUCEAVA = frozenset({"ROU", "BGR", "GRC", "TUR", "ITA", "ALB", "MKD", "MNE", "HRV", "SVN"})
VIA_KOSICE = frozenset({"SVK", "HUN", "AUT", "CZE"})


class Shipper:
    """Plans a shipment per delivered and per still-travelling part of an allocation, and
    records their journeys as delivery events in one batch at the end."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.rows: list[dict[str, Any]] = []
        self.created: set[str] = set()
        self.count = 0
        # Events report the past: nothing is dated after the demo's today (or the clock's).
        self.latest = min(TODAY, utcnow())

    def _site(self, code: str, name: str, kind: SiteKind, country: str, lat: str,
              lon: str) -> None:
        logistics_service.create_site(self.session, actor=self.actor, data=SiteCreate(
            code=code, name=name, kind=kind, country=country, latitude=Decimal(lat),
            longitude=Decimal(lon)))
        self.created.add(code)

    def _depot(self, donor: str) -> str:
        if not self.created:
            for code, name, country, lat, lon in HUBS:
                self._site(code, name, SiteKind.LOGISTICS_HUB, country, lat, lon)
            for code, name, country, lat, lon in RECIPIENT_DEPOTS:
                self._site(code, name, SiteKind.RECIPIENT_DEPOT, country, lat, lon)
        # A joint fund (PURL) buys from US stocks.
        country = donor if donor in CAPITALS else "USA"
        code = f"{country}-DEPOT"
        if code not in self.created:
            city, lat, lon = CAPITALS[country]
            self._site(code, f"{city} depot (demo)", SiteKind.DONOR_DEPOT, country, lat, lon)
        return code

    def ship(self, allocation: Allocation, *, shipped: int, delivered: int) -> None:
        """Records `delivered` as received and the rest of `shipped` as on its way."""
        if shipped == 0:
            return
        pledge = allocation.pledge
        donor = pledge.donor.code
        # Variation from the allocation id, not the scenario's random stream, which must
        # stay as it was for everything after this call.
        rng = random.Random(allocation.id)
        start = dt.datetime.combine(max(pledge.available_from, pledge.announced_on
                                        + dt.timedelta(days=30)), dt.time(6), dt.UTC)
        missing = 0
        if delivered and shipped > delivered and rng.random() < 0.25:
            missing = min(shipped - delivered, max(1, delivered // 50))
        if delivered:
            # What was delivered has arrived by today, whatever the plan said.
            start = min(start, self.latest - dt.timedelta(days=16))
            self._journey(allocation, donor, delivered + missing, start, received=delivered,
                          missing=missing, rng=rng)
        if shipped - delivered - missing:
            recent = self.latest - dt.timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 9))
            self._journey(allocation, donor, shipped - delivered - missing,
                          max(start, recent), received=0, missing=0, rng=rng)

    def _journey(self, allocation: Allocation, donor: str, quantity: int, start: dt.datetime,
                 *, received: int, missing: int, rng: random.Random) -> None:
        self.count += 1
        reference = f"DEMO-SHP-{self.count:04d}"
        hubs = (["DEU-RMS", "POL-RZE"] if donor in VIA_RAMSTEIN or donor == "PURL"
                else ["ROU-SCV"] if donor in VIA_SUCEAVA
                else ["SVK-KSC"] if donor in VIA_KOSICE else ["POL-RZE"])
        first_mode = TransportMode.AIR if hubs[0] == "DEU-RMS" else TransportMode.ROAD
        legs = [LegIn(to=hub, mode=first_mode if n == 0 else TransportMode.ROAD,
                      reference=f"{reference}-{n + 1}") for n, hub in enumerate(hubs)]
        legs.append(LegIn(to="UKR-KBP" if rng.random() < 0.3 else "UKR-LWO",
                          mode=TransportMode.RAIL, reference=f"{reference}-{len(hubs) + 1}"))
        days = 3 + 2 * len(hubs) + rng.randint(0, 3)  # at most 12; receipts 36 h later
        logistics_service.create_shipment(self.session, actor=self.actor, data=ShipmentCreate(
            reference=reference, origin=self._depot(donor), legs=legs,
            lines=[LineIn(allocation_id=allocation.id, quantity=quantity)],
            planned_departure=start, planned_arrival=start + dt.timedelta(days=days)))
        # Real journeys run a little late about as often as not.
        slip = dt.timedelta(hours=rng.randint(-12, 36))
        steps: list[tuple[str, dt.timedelta, dict[str, Any]]] = [
            ("planned", dt.timedelta(days=-7), {}), ("dispatched", slip, {})]
        for n, hub in enumerate(hubs):
            steps.append(("arrived_at_hub", slip + dt.timedelta(days=1 + 2 * n), {"hub": hub}))
            steps.append(("departed_hub", slip + dt.timedelta(days=2 + 2 * n), {"hub": hub}))
        arrival = slip + dt.timedelta(days=days)
        steps.append(("handed_over", arrival - dt.timedelta(hours=20), {}))
        if received or missing:
            steps.append(("received", arrival, {
                "allocation_id": allocation.id, "quantity_received": received,
                "quantity_missing": missing or None}))
        for n, (kind, offset, fields) in enumerate(steps, start=1):
            at = start + offset
            if at > self.latest:
                break
            self.rows.append({"external_id": f"{reference}-E{n}", "shipment": reference,
                              "kind": kind, "occurred_at": at.isoformat(),
                              "source": "demo", **fields})

    def flush(self) -> int:
        """Ingests the recorded journeys; returns the number of events."""
        for start in range(0, len(self.rows), ingest.MAX_BATCH):
            ingest.ingest_events(self.session, actor=self.actor,
                                 rows=self.rows[start:start + ingest.MAX_BATCH])
        return len(self.rows)
