"""Scenarios: placeholder until its service lands in this installation."""

from __future__ import annotations

from fastapi import Request, Response

from coalition.web.pages._base import PageActor, page_router, render

router = page_router()


@router.get("/scenarios")
def scenarios_page(request: Request, actor: PageActor) -> Response:
    return render(request, "unavailable.html", {
        "heading": "Scenarios",
        "what": ('Withdrawal scenarios need the matching engine, which has not been installed on '
                 'this server.'),
    })
