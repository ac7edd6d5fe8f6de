"""Logistics: placeholder until its service lands in this installation."""

from __future__ import annotations

from fastapi import Request, Response

from coalition.web.pages._base import PageActor, page_router, render

router = page_router()


@router.get("/logistics")
def logistics_page(request: Request, actor: PageActor) -> Response:
    return render(request, "unavailable.html", {
        "heading": "Logistics",
        "what": ('Shipment tracking has not been installed on this server. Quantities shipped and '
                 'delivered are shown on each pledge and requirement.'),
    })
