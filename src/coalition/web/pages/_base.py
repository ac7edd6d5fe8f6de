"""What every dashboard page shares: templates, the signed-in actor, CSRF, errors as HTML.

Pages are thin: a route parses its input, calls services, and renders a template (a whole
page, or only the fragment htmx asked for).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from coalition import __version__
from coalition.access.actor import Actor, actor_for_user
from coalition.access.audit import request_id_var
from coalition.access.labels import Role
from coalition.errors import DomainError, ValidationFailed
from coalition.matching import scenarios
from coalition.matching import service as matching_service
from coalition.web import problems
from coalition.web import session as web_session
from coalition.web.deps import SessionDep

WEB_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# Everything is served by this installation; nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def static_url(path: str) -> str:
    # The version in the query string lets browsers cache assets until the next release.
    return f"/static/{path}?v={__version__}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(("html", "xml"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.globals["static_url"] = static_url
    return env


templates = Jinja2Templates(env=_environment())


class LoginRequired(Exception):
    """Raised by `page_actor` when nobody is signed in; becomes a redirect to /login."""


class CsrfFailed(DomainError):
    title = "Form expired"
    status = 403
    exit_code = 3


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def htmx_target(request: Request) -> str | None:
    return request.headers.get("HX-Target")


def wants_fragment(request: Request, target: str) -> bool:
    """htmx asked for the part of the page with this id (not a boosted whole-page load)."""
    return is_htmx(request) and htmx_target(request) == target and (
        request.headers.get("HX-Boosted") != "true")


def safe_next(value: str | None) -> str:
    """Only paths on this site: never an open redirect to another host."""
    if not value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


def _current_user(request: Request) -> dict[str, Any] | None:
    shown: dict[str, Any] | None = getattr(request.state, "current_user", None)
    return shown


def _hidden_nav(request: Request) -> list[str]:
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None:
        return []
    hidden = []
    if not matching_service.VIEW_MATCHING.allows(actor):
        hidden.append("matching")
    if not scenarios.RUN_SCENARIOS.allows(actor):
        hidden.append("scenarios")
    return hidden


def render(request: Request, name: str, context: Mapping[str, Any] | None = None, *,
           status_code: int = 200, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """A template with what every page needs: request, user, CSRF token, today's date."""
    session = web_session.read(request)
    ctx: dict[str, Any] = {
        "request": request,
        "current_user": _current_user(request),
        "csrf_token": session.csrf if session else "",
        "today": dt.date.today(),
        "request_id": request_id_var.get(),
        "is_htmx": is_htmx(request),
        "hidden_nav": _hidden_nav(request),
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code,
                                          headers=headers)
    return response


def page_actor(request: Request, session: SessionDep) -> Actor:
    """The signed-in user as an Actor; pages without one send the browser to /login."""
    user = web_session.session_user(request, session)
    if user is None:
        raise LoginRequired
    actor = actor_for_user(session, user)
    participant = user.participant
    request.state.actor = actor
    request.state.current_user = {
        "name": actor.name,
        "role": actor.role.value,
        "nation": participant.name if participant is not None else None,
    }
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


def is_coordinator(actor: Actor) -> bool:
    return actor.role in (Role.COORDINATOR, Role.ADMIN)


async def csrf_protect(request: Request) -> None:
    """Every unsafe page request echoes its session's CSRF token (header or form field)."""
    if request.method in web_session.SAFE_METHODS:
        return
    submitted = request.headers.get(web_session.CSRF_HEADER)
    if submitted is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(web_session.CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
    if not web_session.csrf_matches(web_session.read(request), submitted):
        raise CsrfFailed("The form was older than your session, or came from another site. "
                         "Reload the page and submit it again; nothing was changed.")


async def form_data(request: Request) -> FormData:
    """The submitted form, read once (the CSRF check read it already) so that routes can stay
    synchronous: services block on the database and belong in the thread pool."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = request.headers.get("HX-Current-URL") or "/"
        target = urlsplit(target).path or "/"
    location = "/login?next=" + quote(safe_next(target), safe="/")
    if is_htmx(request):
        # htmx would swap a redirect's target into the fragment; make it a full navigation.
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def error_page(request: Request, exc: DomainError) -> Response:
    """Domain errors as words: a page for browsers, problem+json for htmx's status region."""
    if is_htmx(request):
        errors = None
        if isinstance(exc, ValidationFailed):
            errors = [{"field": e.field, "message": e.message} for e in exc.errors]
        return problems.problem(exc.status, exc.title, exc.detail, errors=errors)
    errors_list = exc.errors if isinstance(exc, ValidationFailed) else None
    return render(request, "error.html", {
        "status_code": exc.status, "title": None if exc.status in (404, 403) else exc.title,
        "detail": exc.detail, "errors": errors_list,
    }, status_code=exc.status)


class PageRoute(APIRoute):
    """A route that answers browsers in HTML: login redirects, error pages, security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                response = _login_redirect(request)
            except DomainError as exc:
                response = error_page(request, exc)
            except RequestValidationError as exc:
                response = error_page(request, ValidationFailed.single(
                    "request", "; ".join(str(e.get("msg", "")) for e in exc.errors()[:3])))
            for key, value in SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
            # Pages show what one user may see: never let a shared cache keep them.
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("Vary", "Cookie, HX-Request")
            return response

        return page_handler



def page_router() -> APIRouter:
    """A router of pages: HTML errors, CSRF checked on every unsafe request, no OpenAPI."""
    return APIRouter(route_class=PageRoute, include_in_schema=False,
                     dependencies=[Depends(csrf_protect)])
