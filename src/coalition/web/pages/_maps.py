"""Shipments and sites as the JSON spec `static/js/coalition.js` draws as an offline map."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from coalition.logistics.models import Shipment, ShipmentStatus, Site, SiteKind

KINDS = {SiteKind.LOGISTICS_HUB: "hub", SiteKind.DONOR_DEPOT: "origin",
         SiteKind.RECIPIENT_DEPOT: "destination"}
RECEIVED = (ShipmentStatus.RECEIVED, ShipmentStatus.PARTIALLY_RECEIVED)
# The vendored outlines cover Europe; depots beyond (e.g. Dover AFB) would stretch the map to
# empty ocean, so routes start at their first site inside this window (lon/lat degrees).
WINDOW = (-25, 34, 45, 72)


def in_window(site: Site) -> bool:
    west, south, east, north = WINDOW
    return west <= site.longitude <= east and south <= site.latitude <= north


def _hub(site: Site, note: str = "") -> dict[str, Any]:
    # Degrees are exact decimals in the database; the browser only needs to place a dot.
    return {"id": site.code, "name": site.name, "lon": float(site.longitude),
            "lat": float(site.latitude), "kind": KINDS.get(site.kind, "hub"), "note": note}


def _tone(shipment: Shipment, late_ids: set[int]) -> str:
    if shipment.id in late_ids:
        return "danger"
    if shipment.status in RECEIVED:
        return "success"
    if shipment.status is ShipmentStatus.PLANNED:
        return "muted"
    return "progress"


def route_map(hubs: Iterable[tuple[Site, int]], shipments: Sequence[Shipment],
              late_ids: set[int]) -> dict[str, Any]:
    """Every hub (with its traffic), the depots the shipments use, and one line per shipment
    through its hubs; late shipments in the danger tone."""
    sites: dict[str, dict[str, Any]] = {}
    for site, count in hubs:
        if not in_window(site):
            continue
        sites[site.code] = _hub(site, f"{count} shipment{'s' if count != 1 else ''} on the way")
        sites[site.code]["size"] = 5 + min(count, 9)
    routes = []
    for shipment in shipments:
        if shipment.status is ShipmentStatus.CANCELLED:
            continue
        stops = [s for s in (shipment.origin, *(leg.to_site for leg in shipment.legs))
                 if in_window(s)]
        for site in stops:
            sites.setdefault(site.code, _hub(site))
        points = [site.code for site in stops]
        if len(points) < 2:
            continue
        start = "" if in_window(shipment.origin) else f" (from {shipment.origin.name})"
        routes.append({"name": f"{shipment.reference}{start}: "
                               f"{shipment.status.value.replace('_', ' ')}",
                       "points": points, "tone": _tone(shipment, late_ids),
                       "href": f"/logistics/shipments/{shipment.id}"})
    return {"hubs": list(sites.values()), "routes": routes, "highlight": ["Ukraine"],
            "fit": "data" if sites else "europe",
            "title": f"Map of {len(sites)} sites and {len(routes)} shipments"}
