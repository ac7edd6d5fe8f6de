"""`coalition requirements ...`"""

from __future__ import annotations

import datetime as dt

import typer

from coalition.access.actor import SYSTEM
from coalition.catalog.models import CapabilityArea
from coalition.cli._run import JsonOption, print_json, print_record, print_table, service_call
from coalition.requirements import service as requirement_service
from coalition.requirements.models import RequirementStatus
from coalition.requirements.schemas import RequirementFilter, RequirementRead

app = typer.Typer(help="The recipient's requirements.", no_args_is_help=True)


@app.command("list")
def list_requirements(
    priority: int | None = typer.Option(None, min=1, max=5),
    status: RequirementStatus | None = typer.Option(None),
    area: CapabilityArea | None = typer.Option(None, "--area"),
    item_type: str | None = typer.Option(None, "--item-type"),
    needed_from: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"]),
    needed_to: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"]),
    sort: str = typer.Option("priority", help="Field, -field for descending."),
    limit: int = typer.Option(100, min=1, max=500),
    as_json: bool = JsonOption,
) -> None:
    """List requirements with their coverage."""
    filters = RequirementFilter(priority=priority, status=status, capability_area=area,
                                item_type=item_type,
                                needed_from=needed_from.date() if needed_from else None,
                                needed_to=needed_to.date() if needed_to else None)
    page = service_call(lambda s: requirement_service.list_requirements(
        s, actor=SYSTEM, filters=filters, sort=sort, limit=limit))
    rows = [RequirementRead.model_validate(r) for r in page.items]
    if as_json:
        print_json(rows)
        return
    print_table("Requirements", ["id", "ref", "P", "item", "needed", "committed", "in transit",
                                 "delivered", "needed by", "status"],
                [(r.id, r.reference, r.priority, r.item_type.name, r.quantity,
                  r.quantity_committed, r.quantity_in_transit, r.quantity_delivered, r.needed_by,
                  r.status.value) for r in rows],
                numeric=["needed", "committed", "in transit", "delivered"],
                caption=f"{len(rows)} of {page.total}")


@app.command("show")
def show_requirement(requirement_id: int, as_json: bool = JsonOption) -> None:
    """Show one requirement."""
    r = service_call(lambda s: RequirementRead.model_validate(
        requirement_service.get_requirement(s, actor=SYSTEM, requirement_id=requirement_id)))
    if as_json:
        print_json(r)
        return
    print_record(f"Requirement {r.reference}", r)
