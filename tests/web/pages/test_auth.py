"""Signing in and out, the session cookie, CSRF on pages and on the API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access import passwords
from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from coalition.pledges.models import Pledge
from coalition.web import session as web_session
from tests.factories import World
from tests.web.pages.conftest import PASSWORD, csrf_of, sign_in


def test_pages_redirect_to_login_when_signed_out(client: TestClient) -> None:
    response = client.get("/pledges?status=confirmed", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/pledges%3Fstatus%3Dconfirmed"


def test_htmx_request_signed_out_gets_full_page_redirect(client: TestClient) -> None:
    response = client.get("/pledges", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_login_form_sets_an_anonymous_session_with_csrf(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert web_session.COOKIE_NAME in response.cookies
    assert csrf_of(response.text)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_sign_in_shows_user_role_and_nation(client: TestClient, with_passwords: World) -> None:
    sign_in(client, "pol")
    page = client.get("/").text
    assert 'data-testid="current-user">pol<' in page
    assert 'data-testid="current-role">National<' in page
    assert 'data-testid="current-nation">Poland<' in page


def test_wrong_password_is_refused_without_saying_which_part(
        client: TestClient, with_passwords: World) -> None:
    token = csrf_of(client.get("/login").text)
    wrong = client.post("/login", data={"username": "pol", "password": "nope-nope-nope",
                                        "csrf_token": token})
    unknown = client.post("/login", data={"username": "nobody", "password": PASSWORD,
                                          "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong user name or password." in wrong.text
    assert "Wrong user name or password." in unknown.text
    assert 'value="pol"' in wrong.text  # the user name is kept for the next attempt


def test_empty_fields_are_marked_next_to_the_field(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert response.status_code == 422
    assert 'id="f-username-error"' in response.text
    assert 'id="f-password-error"' in response.text


def test_login_without_csrf_token_is_refused(client: TestClient, with_passwords: World) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "pol", "password": PASSWORD})
    assert response.status_code == 403
    assert "Reload the page" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_next_is_followed_only_within_the_site(client: TestClient, with_passwords: World
                                               ) -> None:
    token = csrf_of(client.get("/login").text)
    for target, expected in [("/pledges?status=confirmed", "/pledges?status=confirmed"),
                             ("https://evil.example/", "/"), ("//evil.example/x", "/")]:
        response = client.post("/login", data={"username": "pol", "password": PASSWORD,
                                               "csrf_token": token, "next": target},
                               follow_redirects=False)
        assert response.headers["location"] == expected
        client.cookies.clear()
        token = csrf_of(client.get("/login").text)


def test_sign_in_issues_a_new_csrf_token(client: TestClient, with_passwords: World) -> None:
    before = csrf_of(client.get("/login").text)
    after = sign_in(client, "pol")
    assert before != after


def test_logout_ends_the_session(client: TestClient, signed_in: Callable[[str], str]) -> None:
    token = signed_in("pol")
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_needs_the_csrf_token(client: TestClient, signed_in: Callable[[str], str]) -> None:
    signed_in("pol")
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200


def test_tampered_cookie_is_ignored(client: TestClient, signed_in: Callable[[str], str]) -> None:
    signed_in("pol")
    raw = client.cookies[web_session.COOKIE_NAME]
    client.cookies.clear()
    client.cookies.set(web_session.COOKIE_NAME, raw[:-2] + ("AA" if raw[-2:] != "AA" else "BB"))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_password_change_ends_existing_sessions(client: TestClient, session: Session,
                                                signed_in: Callable[[str], str]) -> None:
    signed_in("pol")
    passwords.set_password(session, actor=SYSTEM, user_name="pol",
                           password="another long passphrase")
    session.commit()
    assert client.get("/", follow_redirects=False).status_code == 303


def test_deactivated_user_is_signed_out(client: TestClient, session: Session,
                                        signed_in: Callable[[str], str]) -> None:
    signed_in("pol")
    access_service.deactivate_user(session, actor=SYSTEM, name="pol")
    session.commit()
    assert client.get("/", follow_redirects=False).status_code == 303


def test_api_accepts_the_session_cookie_for_reads(client: TestClient,
                                                  signed_in: Callable[[str], str]) -> None:
    assert client.get("/api/v1/pledges").status_code == 401
    signed_in("pol")
    assert client.get("/api/v1/pledges").status_code == 200


def test_api_writes_by_cookie_need_the_csrf_header(
        client: TestClient, session: Session, signed_in: Callable[[str], str]) -> None:
    token = signed_in("pol")
    body = {"donor": "POL", "item_type": "155-a", "quantity": 5, "amount": "15000",
            "announced_on": "2024-06-13", "available_from": "2024-07-01"}
    refused = client.post("/api/v1/pledges", json=body)
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    assert session.scalar(select(Pledge.id)) is None
    created = client.post("/api/v1/pledges", json=body, headers={"X-CSRF-Token": token})
    assert created.status_code == 201, created.text


def test_repeated_wrong_passwords_lock_that_user_name_for_a_while(
        client: TestClient, with_passwords: World) -> None:
    token = csrf_of(client.get("/login").text)

    def attempt(user: str, password: str) -> int:
        return client.post("/login", data={"username": user, "password": password,
                                           "csrf_token": token},
                           follow_redirects=False).status_code

    assert [attempt("pol", "guess-" + str(i)) for i in range(5)] == [401] * 5
    locked = client.post("/login", data={"username": "POL ", "password": PASSWORD,
                                         "csrf_token": token})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "Too many failed sign-ins for this user" in locked.text
    assert attempt("deu", PASSWORD) == 303  # other users sign in as before
