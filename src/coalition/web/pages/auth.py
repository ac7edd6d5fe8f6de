"""Sign in with a user name and password; sign out. The session lives in a signed cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from coalition.access import passwords
from coalition.access import service as access_service
from coalition.access.throttle import LoginThrottle
from coalition.errors import TooManyAttempts, Unauthenticated
from coalition.web import session as web_session
from coalition.web.deps import SessionDep
from coalition.web.pages._base import page_router, render, safe_next

router = page_router()


def _login_form(request: Request, *, status_code: int = 200, **context: object) -> Response:
    session = web_session.ensure(request)
    response = render(request, "login.html", {"next": context.pop("next", None), **context},
                      status_code=status_code)
    if web_session.is_new(request):
        web_session.write(response, request, session)
    return response


@router.get("/login")
def login_form(request: Request, db: SessionDep, next: str | None = None) -> Response:
    if web_session.session_user(request, db) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, next=safe_next(next) if next else None)


@router.post("/login")
def login(request: Request, db: SessionDep, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"
          ) -> Response:
    errors = {k: "Required." for k, v in (("username", username), ("password", password))
              if not v}
    if errors:
        return _login_form(request, status_code=422, errors=errors, username=username,
                           next=safe_next(next))
    throttle: LoginThrottle = request.app.state.login_throttle
    client = request.client.host if request.client else "unknown"
    try:
        throttle.check(username, client)
        actor = passwords.authenticate_password(db, name=username.strip(), password=password)
    except TooManyAttempts as exc:
        response = _login_form(request, status_code=429, error=exc.detail.capitalize() + ".",
                               username=username, next=safe_next(next))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthenticated as exc:
        throttle.failed(username, client)
        return _login_form(request, status_code=401, error=exc.detail.capitalize() + ".",
                           username=username, next=safe_next(next))
    throttle.succeeded(username, client)
    user = access_service.get_user(db, name=actor.name)
    response = RedirectResponse(safe_next(next), status_code=303)
    web_session.write(response, request, web_session.signed_in(user))
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    web_session.clear(response, request)
    return response
