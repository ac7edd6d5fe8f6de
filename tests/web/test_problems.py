"""Errors that are not domain errors still reach the client as problem+json."""

from __future__ import annotations

import sqlite3

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from coalition.web import problems


def _app_raising(message: str) -> TestClient:
    app = FastAPI()
    problems.install(app)

    @app.get("/write")
    def write() -> None:
        raise OperationalError("UPDATE pledges ...", {}, sqlite3.OperationalError(message))

    return TestClient(app, raise_server_exceptions=False)


def test_a_locked_sqlite_database_is_503_with_retry_after() -> None:
    response = _app_raising("database is locked").get("/write")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["title"] == "Busy"


def test_other_database_errors_stay_500() -> None:
    assert _app_raising("disk I/O error").get("/write").status_code == 500
