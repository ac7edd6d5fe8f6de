"""`coalition pledges ...`"""

from __future__ import annotations

import datetime as dt

import typer

from coalition.access.actor import SYSTEM
from coalition.cli._run import (
    JsonOption,
    money,
    print_json,
    print_record,
    print_table,
    service_call,
)
from coalition.pledges import service as pledge_service
from coalition.pledges.models import FundingMechanism, PledgeStatus
from coalition.pledges.schemas import PledgeFilter, PledgeRead, TransitionRead

app = typer.Typer(help="Pledges and their lifecycle.", no_args_is_help=True)


@app.command("list")
def list_pledges(
    donor: str | None = typer.Option(None, help="Donor code, e.g. DEU."),
    status: PledgeStatus | None = typer.Option(None),
    item_type: str | None = typer.Option(None, "--item-type"),
    category: str | None = typer.Option(None),
    funding: FundingMechanism | None = typer.Option(None),
    announced_from: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"]),
    announced_to: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"]),
    sort: str = typer.Option("-announced_on", help="Field, -field for descending."),
    limit: int = typer.Option(100, min=1, max=500),
    as_json: bool = JsonOption,
) -> None:
    """List pledges, newest first."""
    filters = PledgeFilter(donor=donor, status=status, item_type=item_type, category=category,
                           funding=funding,
                           announced_from=announced_from.date() if announced_from else None,
                           announced_to=announced_to.date() if announced_to else None)
    page = service_call(lambda s: pledge_service.list_pledges(
        s, actor=SYSTEM, filters=filters, sort=sort, limit=limit))
    rows = [PledgeRead.model_validate(p) for p in page.items]
    if as_json:
        print_json(rows)
        return
    print_table("Pledges", ["id", "donor", "item", "qty", "value EUR", "announced", "status",
                            "allocated", "delivered", "label"],
                [(p.id, p.donor.code, p.item_type.name, p.quantity, money(p.value_eur),
                  p.announced_on, p.status.value, p.quantity_allocated, p.quantity_delivered,
                  p.releasability.value) for p in rows],
                numeric=["qty", "value EUR", "allocated", "delivered"],
                caption=f"{len(rows)} of {page.total}")


@app.command("show")
def show_pledge(pledge_id: int, as_json: bool = JsonOption) -> None:
    """Show one pledge with its status history."""
    pledge, history = service_call(lambda s: (
        PledgeRead.model_validate(pledge_service.get_pledge(s, actor=SYSTEM, pledge_id=pledge_id)),
        [TransitionRead.model_validate(t) for t in pledge_service.history(s,
                                                                          pledge_id=pledge_id)]))
    if as_json:
        print_json({"pledge": pledge, "history": history})
        return
    print_record(f"Pledge {pledge.id}", pledge)
    print_table("History", ["at", "from", "to", "by", "reason"],
                [(t.at.strftime("%Y-%m-%d %H:%M"), t.from_status.value if t.from_status else "",
                  t.to_status.value, t.actor, t.reason) for t in history])


@app.command("transition")
def transition(pledge_id: int,
               to: PledgeStatus = typer.Argument(..., help="confirmed, withdrawn or cancelled."),
               reason: str = typer.Option("", "--reason"), as_json: bool = JsonOption) -> None:
    """Confirm, withdraw or cancel a pledge (recorded in its history)."""
    pledge = service_call(lambda s: PledgeRead.model_validate(pledge_service.transition(
        s, actor=SYSTEM, pledge_id=pledge_id, to=to, reason=reason)))
    if as_json:
        print_json(pledge)
        return
    typer.echo(f"pledge {pledge.id} is now {pledge.status.value}")
