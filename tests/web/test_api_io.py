"""`POST /api/v1/imports` and the export routes of every list."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access.labels import Releasability
from coalition.pledges.models import Pledge
from tests import factories
from tests.factories import World
from tests.service.io.files import pledge_row, pledges_csv
from tests.unit.io.test_kiel_reader import ROWS, write_workbook
from tests.web.conftest import auth


def upload(client: TestClient, token: str, path: Path, resource: str = "pledges",
           **form: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/v1/imports", headers=auth(token),
                           files={"file": (path.name, path.read_bytes())},
                           data={"resource": resource, **form})
    return response.status_code, response.json()


def stored(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Pledge)) or 0


def test_import_a_file_then_again_then_a_dry_run(client: TestClient, tokens: dict[str, str],
                                                 session: Session, tmp_path: Path) -> None:
    path = pledges_csv(tmp_path / "pledges.csv", [pledge_row("W-1", status="confirmed"),
                                                  pledge_row("W-2", donor="DEU")])
    code, body = upload(client, tokens["coord"], path)
    assert code == 201, body
    assert (body["file"], body["created"], body["statuses"]) == (
        "pledges.csv", 2, {"announced": 1, "confirmed": 1})
    code, body = upload(client, tokens["coord"], path)
    assert (code, body["created"], body["unchanged"]) == (201, 0, 2)
    more = pledges_csv(tmp_path / "more.csv", [pledge_row("W-3")])
    code, body = upload(client, tokens["coord"], more, dry_run="true")
    assert (code, body["created"], body["dry_run"]) == (200, 1, True)
    assert stored(session) == 2


def test_invalid_rows_are_a_problem_listing_each(client: TestClient, tokens: dict[str, str],
                                                 session: Session, tmp_path: Path) -> None:
    path = pledges_csv(tmp_path / "bad.csv", [pledge_row("X-1"),
                                              pledge_row("X-2", item_type="nope")])
    response = client.post("/api/v1/imports", headers=auth(tokens["coord"]),
                           files={"file": (path.name, path.read_bytes())},
                           data={"resource": "pledges"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"] == [{"field": "item_type", "message": "unknown item type",
                                  "row": 3, "value": "nope"}]
    assert "nothing was imported" in problem["detail"]
    assert stored(session) == 0


def test_who_may_import(client: TestClient, tokens: dict[str, str], tmp_path: Path) -> None:
    german = pledges_csv(tmp_path / "deu.csv", [pledge_row("Y-1", donor="DEU")])
    assert upload(client, tokens["deu"], german)[0] == 201
    assert upload(client, tokens["pol"], german)[0] == 403
    assert upload(client, tokens["observer"], german)[0] == 403
    assert upload(client, tokens["coord"], german, resource="participants")[0] == 422
    anonymous = client.post("/api/v1/imports", files={"file": ("a.csv", b"x")},
                            data={"resource": "pledges"})
    assert anonymous.status_code == 401


def test_import_the_kiel_tracker(client: TestClient, tokens: dict[str, str],
                                 tmp_path: Path) -> None:
    code, body = upload(client, tokens["admin"], write_workbook(tmp_path / "kiel.xlsx", ROWS),
                        resource="kiel")
    assert code == 201, body
    reconciliation = body["reconciliation"]
    assert isinstance(reconciliation, dict)
    assert (body["created"], reconciliation["matches"]) == (11, True)


def test_export_pledges_with_filters_and_labels(client: TestClient, tokens: dict[str, str],
                                                world: World, session: Session) -> None:
    factories.pledge(session, donor="DEU", external_id="Z-DEU")
    factories.pledge(session, donor="USA", external_id="Z-USA",
                     releasability=Releasability.NATO)
    session.commit()
    response = client.get("/api/v1/pledges/export", headers=auth(tokens["coord"]),
                          params={"donor": "DEU"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="pledges-')
    assert [r["external_id"] for r in csv.DictReader(io.StringIO(response.text))] == ["Z-DEU"]
    japan = client.get("/api/v1/pledges/export", headers=auth(tokens["jpn"]),
                       params={"format": "json"})
    assert [p["external_id"] for p in japan.json()] == ["Z-DEU"]
    sheet = client.get("/api/v1/pledges/export", headers=auth(tokens["coord"]),
                       params={"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(sheet.content), read_only=True).worksheets[0]
                .iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["Z-DEU", "Z-USA"]
    bad = client.get("/api/v1/pledges/export", headers=auth(tokens["coord"]),
                     params={"format": "pdf"})
    assert bad.status_code == 422
    # The detail route is not shadowed.
    pledge_id = json.loads(japan.content)[0]["id"]
    assert client.get(f"/api/v1/pledges/{pledge_id}",
                      headers=auth(tokens["coord"])).status_code == 200


def test_every_list_exports(client: TestClient, tokens: dict[str, str], world: World,
                            session: Session) -> None:
    factories.requirement(session, reference="UA-EXP")
    session.commit()
    cases: list[tuple[str, dict[str, str | int], str]] = [
        ("/api/v1/requirements/export", {"priority": 1}, "reference"),
        ("/api/v1/participants/export", {"kind": "state"}, "code"),
        ("/api/v1/catalog/item-types/export", {"q": "155"}, "code"),
        ("/api/v1/meetings/export", {"in_format": "UDCG"}, "id"),
    ]
    for path, params, first in cases:
        response = client.get(path, headers=auth(tokens["jpn"]), params=params)
        assert response.status_code == 200, (path, response.text)
        assert response.text.split(",")[0] == first
    assert client.get("/api/v1/meetings/export").status_code == 401
