"""Liveness and database reachability."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from coalition import __version__

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request) -> JSONResponse:
    body: dict[str, Any] = {"status": "ok", "version": __version__}
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        body["database"] = {"reachable": True, "dialect": request.app.state.engine.dialect.name}
    except Exception as exc:
        body["status"] = "degraded"
        body["database"] = {"reachable": False, "error": type(exc).__name__}
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)
