"""Downloads of the current view through the io exporters: the list's filters, the reader's
releasable records, as CSV, XLSX or JSON (import columns first, so a file imports as is)."""

from __future__ import annotations

import datetime as dt
import io

from fastapi import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.errors import ValidationFailed
from coalition.io import exporters

FORMATS = exporters.FORMATS


def download(session: Session, *, actor: Actor, resource: str, fmt: str,
             filters: BaseModel | None) -> Response:
    if fmt not in FORMATS:
        raise ValidationFailed.single("format", f"must be one of {', '.join(FORMATS)}", fmt)
    buffer = io.BytesIO()
    exporters.export(session, actor=actor, resource=resource, format=fmt, out=buffer,
                     filters=filters)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(buffer.getvalue(), media_type=exporters.MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{resource}-{stamp}.{fmt}"'})
