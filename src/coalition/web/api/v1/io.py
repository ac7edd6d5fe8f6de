"""File imports (multipart upload) and exports of every list as CSV, XLSX or JSON."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, BinaryIO, Literal, cast

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from coalition.catalog.models import CapabilityArea
from coalition.io.exporters import MEDIA_TYPES, export
from coalition.io.importers import import_file
from coalition.io.kiel.importer import import_kiel
from coalition.io.schemas import (
    ExportFormat,
    ImportResult,
    ItemTypeFilter,
    MeetingFilter,
    ParticipantFilter,
)
from coalition.pledges.models import FundingMechanism, PledgeStatus
from coalition.pledges.schemas import PledgeFilter
from coalition.registry.models import ParticipantKind
from coalition.requirements.models import RequirementStatus
from coalition.requirements.schemas import RequirementFilter
from coalition.web.deps import ActorDep, SessionDep

router = APIRouter(tags=["import and export"])

Resource = Literal["participants", "catalog", "requirements", "pledges", "kiel"]
# Rows are written to this much memory, then to a temporary file, before they are sent.
_SPOOL_BYTES = 8 * 1024 * 1024


@router.post("/imports", response_model=ImportResult, status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "Dry run: what the import would do."},
                        422: {"description": "Invalid rows: every error with row and column; "
                                             "nothing was imported."}})
def create_import(session: SessionDep, actor: ActorDep, response: Response,
                  file: Annotated[UploadFile, File(description="CSV, XLSX or JSON file.")],
                  resource: Annotated[Resource, Form()],
                  dry_run: Annotated[bool, Form()] = False,
                  format: Annotated[Literal["csv", "xlsx", "json"] | None, Form()] = None
                  ) -> ImportResult:
    """Import a file of one resource, or the Kiel Support Tracker workbook (`kiel`)."""
    with _saved(file) as path:
        if resource == "kiel":
            kiel = import_kiel(session, actor=actor, path=path, dry_run=dry_run)
            result = ImportResult(resource="kiel", file=file.filename or path.name,
                                  sha256=kiel.sha256, dry_run=dry_run,
                                  rows_read=kiel.rows_read, created=kiel.created,
                                  updated=kiel.updated, unchanged=kiel.unchanged,
                                  reconciliation=kiel.to_dict())
        else:
            report = import_file(session, actor=actor, resource=resource, path=path,
                                 format=format, dry_run=dry_run, name=file.filename)
            result = ImportResult.model_validate(report.to_dict())
    if dry_run:
        response.status_code = status.HTTP_200_OK
    return result


@contextmanager
def _saved(upload: UploadFile) -> Iterator[Path]:
    """The upload on disk, with the original's extension so its format shows."""
    suffix = Path(upload.filename or "upload.csv").suffix
    with tempfile.TemporaryDirectory(prefix="coalition-import-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out)
        yield path


def _download(session: SessionDep, actor: ActorDep, resource: str, format: str,
              filters: BaseModel) -> StreamingResponse:
    # Closed by the response once sent; written inside the request's transaction.
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
    export(session, actor=actor, resource=resource, format=format, out=cast(BinaryIO, spool),
           filters=filters)
    spool.seek(0)
    name = f"{resource}-{dt.date.today().isoformat()}.{format}"

    def chunks() -> Iterator[bytes]:
        while chunk := spool.read(1 << 16):
            yield chunk

    return StreamingResponse(chunks(), media_type=MEDIA_TYPES[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'},
                             background=BackgroundTask(spool.close))


def pledge_filter(donor: str | None = None, status: PledgeStatus | None = None,
                  item_type: str | None = None, category: str | None = None,
                  funding: FundingMechanism | None = None,
                  announced_from: dt.date | None = None,
                  announced_to: dt.date | None = None) -> PledgeFilter:
    return PledgeFilter(donor=donor, status=status, item_type=item_type, category=category,
                        funding=funding, announced_from=announced_from,
                        announced_to=announced_to)


def requirement_filter(priority: int | None = None, status: RequirementStatus | None = None,
                       capability_area: CapabilityArea | None = None,
                       item_type: str | None = None, needed_from: dt.date | None = None,
                       needed_to: dt.date | None = None) -> RequirementFilter:
    return RequirementFilter(priority=priority, status=status, capability_area=capability_area,
                             item_type=item_type, needed_from=needed_from, needed_to=needed_to)


def participant_filter(kind: ParticipantKind | None = None, donor: bool | None = None,
                       nato: bool | None = None, q: str | None = None) -> ParticipantFilter:
    return ParticipantFilter(kind=kind, donor=donor, nato=nato, search=q)


def item_type_filter(category: str | None = None,
                     capability_area: CapabilityArea | None = None,
                     compatibility_group: str | None = None, q: str | None = None
                     ) -> ItemTypeFilter:
    return ItemTypeFilter(category=category, capability_area=capability_area,
                          compatibility_group=compatibility_group, search=q)


def meeting_filter(in_format: str | None = None) -> MeetingFilter:
    # `format` is the file's everywhere on exports; the coordination format is `in_format`.
    return MeetingFilter(format=in_format)


_FILE = {"content": {m: {} for m in MEDIA_TYPES.values()},
         "description": "The file, with the list's filters and what the caller may see."}


@router.get("/pledges/export", response_class=StreamingResponse, responses={200: _FILE})
def export_pledges(session: SessionDep, actor: ActorDep,
                   filters: Annotated[PledgeFilter, Depends(pledge_filter)],
                   format: ExportFormat = "csv") -> StreamingResponse:
    """Pledges as CSV, XLSX or JSON (the filters of `GET /pledges`)."""
    return _download(session, actor, "pledges", format, filters)


@router.get("/requirements/export", response_class=StreamingResponse, responses={200: _FILE})
def export_requirements(session: SessionDep, actor: ActorDep,
                        filters: Annotated[RequirementFilter, Depends(requirement_filter)],
                        format: ExportFormat = "csv") -> StreamingResponse:
    """Requirements as CSV, XLSX or JSON (the filters of `GET /requirements`)."""
    return _download(session, actor, "requirements", format, filters)


@router.get("/participants/export", response_class=StreamingResponse, responses={200: _FILE})
def export_participants(session: SessionDep, actor: ActorDep,
                        filters: Annotated[ParticipantFilter, Depends(participant_filter)],
                        format: ExportFormat = "csv") -> StreamingResponse:
    """Participants as CSV, XLSX or JSON (the filters of `GET /participants`)."""
    return _download(session, actor, "participants", format, filters)


@router.get("/catalog/item-types/export", response_class=StreamingResponse,
            responses={200: _FILE})
def export_item_types(session: SessionDep, actor: ActorDep,
                      filters: Annotated[ItemTypeFilter, Depends(item_type_filter)],
                      format: ExportFormat = "csv") -> StreamingResponse:
    """Catalog item types as CSV, XLSX or JSON (the filters of `GET /catalog/item-types`)."""
    return _download(session, actor, "catalog", format, filters)


@router.get("/meetings/export", response_class=StreamingResponse, responses={200: _FILE})
def export_meetings(session: SessionDep, actor: ActorDep,
                    filters: Annotated[MeetingFilter, Depends(meeting_filter)],
                    format: ExportFormat = "csv") -> StreamingResponse:
    """Meetings as CSV, XLSX or JSON; `in_format` is the coordination format (the `format`
    filter of `GET /meetings`)."""
    return _download(session, actor, "meetings", format, filters)
