"""Matching: placeholder until its service lands in this installation."""

from __future__ import annotations

from fastapi import Request, Response

from coalition.web.pages._base import PageActor, page_router, render

router = page_router()


@router.get("/matching")
def matching_page(request: Request, actor: PageActor) -> Response:
    return render(request, "unavailable.html", {
        "heading": "Matching",
        "what": ('The matching engine that proposes allocations of pledges to requirements has not '
                 'been installed on this server. Allocations already approved are listed on each '
                 'pledge and requirement.'),
    })
