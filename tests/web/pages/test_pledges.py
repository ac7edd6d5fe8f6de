"""The pledge pages: list with filters, sort and cursor; detail; create/edit/transition; export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access.labels import Releasability
from coalition.pledges.models import Pledge, PledgeStatus
from tests import factories
from tests.factories import World

Signer = Callable[[str], str]
HX = {"HX-Request": "true", "HX-Target": "pledge-results"}


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td class="num"><a href="/pledges/(\d+)">', html)]


def _labels(session: Session) -> dict[str, int]:
    out = {}
    for label in Releasability:
        out[label.value] = factories.pledge(session, donor="USA", releasability=label).id
    session.commit()
    return out


def test_list_shows_only_visible_pledges(client: TestClient, session: Session,
                                         signed_in: Signer) -> None:
    ids = _labels(session)
    signed_in("jpn")
    html = client.get("/pledges").text
    assert set(_ids(html)) == {ids["PUBLIC"], ids["COALITION"]}
    assert 'data-label="NATO"' not in html and 'data-label="NATIONAL"' not in html


def test_list_for_a_nato_member_includes_nato_records(client: TestClient, session: Session,
                                                      signed_in: Signer) -> None:
    ids = _labels(session)
    signed_in("pol")
    assert set(_ids(client.get("/pledges").text)) == {ids["PUBLIC"], ids["COALITION"],
                                                      ids["NATO"]}


def test_filters_and_htmx_fragment(client: TestClient, session: Session, world: World,
                                   signed_in: Signer) -> None:
    pol = factories.pledge(session, donor="POL")
    deu = factories.pledge(session, donor="DEU", confirm=True)
    session.commit()
    signed_in("coord")
    full = client.get("/pledges?donor=DEU")
    assert _ids(full.text) == [deu.id]
    assert "<html" in full.text and 'id="item-type-codes"' in full.text
    fragment = client.get("/pledges?status=announced", headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and fragment.text.lstrip().startswith("<section")
    assert _ids(fragment.text) == [pol.id]


def test_bad_filter_is_explained_not_crashed(client: TestClient, world: World,
                                             signed_in: Signer) -> None:
    signed_in("coord")
    response = client.get("/pledges?donor=ZZZ&announced_from=yesterday")
    assert response.status_code == 200
    assert "Some filters are not valid" in response.text
    assert "Enter a date as YYYY-MM-DD." in response.text
    unknown = client.get("/pledges?donor=ZZZ")
    assert "donor: unknown participant code" in unknown.text


def test_server_sort_and_cursor_pagination(client: TestClient, session: Session, world: World,
                                           signed_in: Signer) -> None:
    created = [factories.pledge(session, quantity=q).id for q in range(1, 56)]
    session.commit()
    signed_in("coord")
    first = client.get("/pledges?sort=quantity").text
    assert _ids(first) == created[:50]
    assert 'aria-sort="ascending"' in first
    cursor = re.search(r'href="/pledges\?sort=quantity&amp;cursor=([^"]+)" rel="next"', first)
    assert cursor, "no next-page link"
    second = client.get(f"/pledges?sort=quantity&cursor={cursor.group(1)}").text
    assert _ids(second) == created[50:]
    descending = client.get("/pledges?sort=-quantity").text
    assert _ids(descending)[0] == created[-1]


def test_detail_shows_history_and_hides_invisible(client: TestClient, session: Session,
                                                  world: World, signed_in: Signer) -> None:
    mine = factories.pledge(session, donor="POL", confirm=True)
    secret = factories.pledge(session, donor="USA", releasability=Releasability.NATIONAL)
    session.commit()
    signed_in("jpn")
    page = client.get(f"/pledges/{mine.id}")
    assert page.status_code == 200
    assert "Lifecycle history" in page.text and "confirmed" in page.text.lower()
    missing = client.get(f"/pledges/{secret.id}")
    assert missing.status_code == 404
    assert "has not been released to you" in missing.text


def _form(client: TestClient, token: str, **fields: str) -> dict[str, str]:
    data = {"csrf_token": token, "item_type": "155-a", "quantity": "40", "amount": "120000",
            "currency": "EUR", "announced_on": "2024-06-13", "available_from": "2024-07-01",
            "funding": "stock_donation", "releasability": "COALITION"}
    data.update(fields)
    return data


def test_national_user_records_own_pledge(client: TestClient, session: Session,
                                          signed_in: Signer) -> None:
    token = signed_in("pol")
    form = client.get("/pledges/new")
    assert form.status_code == 200 and "your nation" in form.text
    response = client.post("/pledges/new", data=_form(client, token, donor="DEU"),
                           follow_redirects=False)
    assert response.status_code == 303
    pledge = session.get(Pledge, int(response.headers["location"].split("/")[2].split("?")[0]))
    assert pledge is not None and pledge.donor.code == "POL"  # the desk's own nation, always
    assert "The pledge was recorded." in client.get(response.headers["location"]).text


def test_bad_input_shows_errors_next_to_fields_and_saves_nothing(
        client: TestClient, session: Session, signed_in: Signer) -> None:
    token = signed_in("pol")
    response = client.post("/pledges/new", data=_form(client, token, quantity="-3",
                                                      amount="lots", item_type="no-such-item"))
    assert response.status_code == 422
    html = response.text
    assert re.search(r'id="f-quantity"[^>]*aria-invalid="true"', html)
    assert 'id="f-quantity-error"' in html and "Must be more than 0." in html
    assert 'id="f-amount-error"' in html
    assert 'value="-3"' in html  # what was typed comes back
    assert session.scalar(select(func.count()).select_from(Pledge)) == 0


def test_service_refusal_lands_on_its_field(client: TestClient, session: Session,
                                            signed_in: Signer) -> None:
    token = signed_in("pol")
    response = client.post("/pledges/new", data=_form(client, token, item_type="no-such-item"))
    assert response.status_code == 422
    assert re.search(r'id="f-item_type-error">\s*<p class="field__error">[^<]*unknown',
                     response.text)
    foreign = client.post("/pledges/new", data=_form(client, token, currency="USD"))
    assert 'id="f-fx_rate_to_eur-error"' in foreign.text
    assert session.scalar(select(func.count()).select_from(Pledge)) == 0


def test_observer_may_not_record_pledges(client: TestClient, signed_in: Signer) -> None:
    signed_in("observer")
    assert client.get("/pledges/new").status_code == 403
    assert "Record a pledge" not in client.get("/pledges").text


def test_edit_and_transition(client: TestClient, session: Session, world: World,
                             signed_in: Signer) -> None:
    pledge = factories.pledge(session, donor="POL")
    session.commit()
    token = signed_in("pol")
    assert client.get(f"/pledges/{pledge.id}/edit").status_code == 200
    saved = client.post(f"/pledges/{pledge.id}/edit",
                        data={"csrf_token": token, "quantity": "150", "amount": "450000",
                              "available_from": "2024-08-01", "releasability": "NATO",
                              "notes": "more"}, follow_redirects=False)
    assert saved.status_code == 303
    session.expire_all()
    assert (pledge.quantity, pledge.releasability) == (150, Releasability.NATO)
    no_reason = client.post(f"/pledges/{pledge.id}/transition",
                            data={"csrf_token": token, "to": "withdrawn"})
    assert no_reason.status_code == 422
    assert 'id="f-reason-error"' in no_reason.text
    done = client.post(f"/pledges/{pledge.id}/transition",
                       data={"csrf_token": token, "to": "confirmed"}, follow_redirects=False)
    assert done.status_code == 303
    session.expire_all()
    assert pledge.status is PledgeStatus.CONFIRMED


def test_other_nations_pledge_offers_no_actions(client: TestClient, session: Session,
                                                world: World, signed_in: Signer) -> None:
    pledge = factories.pledge(session, donor="DEU")
    session.commit()
    token = signed_in("pol")
    page = client.get(f"/pledges/{pledge.id}").text
    assert f'href="/pledges/{pledge.id}/edit"' not in page
    assert client.get(f"/pledges/{pledge.id}/edit").status_code == 403
    refused = client.post(f"/pledges/{pledge.id}/transition",
                          data={"csrf_token": token, "to": "confirmed"})
    assert refused.status_code == 422 and "own nation" in refused.text
    session.expire_all()
    assert pledge.status is PledgeStatus.ANNOUNCED


def test_post_without_csrf_changes_nothing(client: TestClient, session: Session, world: World,
                                           signed_in: Signer) -> None:
    pledge = factories.pledge(session, donor="POL")
    session.commit()
    signed_in("pol")
    response = client.post(f"/pledges/{pledge.id}/transition", data={"to": "confirmed"})
    assert response.status_code == 403
    session.expire_all()
    assert pledge.status is PledgeStatus.ANNOUNCED


def test_csv_export_is_the_filtered_visible_view(client: TestClient, session: Session,
                                                 signed_in: Signer) -> None:
    ids = _labels(session)
    factories.pledge(session, donor="DEU", releasability=Releasability.PUBLIC)
    session.commit()
    signed_in("jpn")
    response = client.get("/pledges/export.csv?donor=USA")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {int(r["id"]) for r in rows} == {ids["PUBLIC"], ids["COALITION"]}
    assert {r["releasability"] for r in rows} == {"PUBLIC", "COALITION"}
    assert client.get("/pledges/export.pdf").status_code == 422


def test_xlsx_and_json_exports_hold_the_same_rows(client: TestClient, session: Session,
                                                  signed_in: Signer) -> None:
    ids = _labels(session)
    session.commit()
    signed_in("jpn")
    xlsx = client.get("/pledges/export.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    header = list(rows[0])
    exported = {int(r[header.index("id")]) for r in rows[1:]}  # type: ignore[arg-type]
    assert exported == {ids["PUBLIC"], ids["COALITION"]}
    as_json = client.get("/pledges/export.json?donor=USA").json()
    assert {r["id"] for r in as_json} == exported
