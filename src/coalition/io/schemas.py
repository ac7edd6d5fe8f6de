"""Shapes of import reports and export filters, shared by the API and the CLI."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from coalition.catalog.models import CapabilityArea
from coalition.registry.models import ParticipantKind
from coalition.schemas_common import Schema

ExportFormat = Literal["csv", "xlsx", "json"]


class ImportResult(BaseModel):
    resource: str
    file: str
    sha256: str
    dry_run: bool
    rows_read: int
    created: int
    updated: int
    unchanged: int
    statuses: dict[str, int] | None = None
    # The Kiel import's reconciliation with the workbook (`KielReport.to_dict()`).
    reconciliation: dict[str, Any] | None = None


class ParticipantFilter(Schema):
    """The filters of the participants list."""

    kind: ParticipantKind | None = None
    donor: bool | None = None
    nato: bool | None = None
    search: str | None = None


class ItemTypeFilter(Schema):
    """The filters of the catalog's item type list."""

    category: str | None = None
    capability_area: CapabilityArea | None = None
    compatibility_group: str | None = None
    search: str | None = None


class MeetingFilter(Schema):
    format: str | None = None
