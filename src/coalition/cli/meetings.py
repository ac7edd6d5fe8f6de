"""`coalition meetings ...`"""

from __future__ import annotations

from decimal import Decimal

import typer

from coalition.access.actor import SYSTEM
from coalition.cli._run import (
    JsonOption,
    console,
    money,
    print_json,
    print_table,
    service_call,
)
from coalition.meetings import report
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import MeetingRead

app = typer.Typer(help="Meetings of coordination formats.", no_args_is_help=True)


@app.command("list")
def list_meetings(format_code: str | None = typer.Option(None, "--format"),
                  limit: int = typer.Option(100, min=1, max=500),
                  as_json: bool = JsonOption) -> None:
    """List meetings, most recent first."""
    page = service_call(lambda s: meeting_service.list_meetings(
        s, actor=SYSTEM, format_code=format_code, limit=limit))
    rows = [MeetingRead.model_validate(m) for m in page.items]
    if as_json:
        print_json(rows)
        return
    print_table("Meetings", ["id", "date", "title", "place", "chair"],
                [(m.id, m.held_on, m.title, "virtual" if m.is_virtual else m.place,
                  m.chair.code if m.chair else "") for m in rows])


@app.command("show")
def show_meeting(meeting_id: int, as_json: bool = JsonOption) -> None:
    """What a meeting announced, and what has been confirmed, shipped and delivered since."""
    r = service_call(lambda s: report.meeting_report(s, actor=SYSTEM, meeting_id=meeting_id))
    if as_json:
        print_json(r)
        return
    m, t = r.meeting, r.totals
    where = "virtual" if m.is_virtual else m.place
    console.print(f"[bold]{m.title}[/] — {m.held_on}, {where}"
                  + (f", chaired by {m.chair.code}" if m.chair else ""))
    if r.decisions:
        print_table("Decisions", ["status", "decided", "text"],
                    [(d.status.value, d.decided_on or "", d.text) for d in r.decisions])
    print_table("Announced here, and since", ["pledge", "donor", "item", "status", "qty",
                                              "confirmed", "shipped", "delivered", "rate",
                                              "value EUR", "delivered EUR"],
                [(a.pledge_id, a.donor, a.item_type, a.status.value, a.quantity,
                  a.quantity_confirmed, a.quantity_shipped, a.quantity_delivered,
                  percent(a.delivery_rate), money(a.value_eur), money(a.value_delivered_eur))
                 for a in r.announcements],
                numeric=["qty", "confirmed", "shipped", "delivered", "rate", "value EUR",
                         "delivered EUR"])
    console.print(f"{t.announcements} announcements: {t.quantity_delivered:,} of "
                  f"{t.quantity:,} units delivered ({percent(t.delivery_rate_quantity)}), "
                  f"EUR {money(t.value_delivered_eur)} of {money(t.value_eur)} "
                  f"({percent(t.delivery_rate_value)}); confirmed EUR "
                  f"{money(t.value_confirmed_eur)}, shipped EUR {money(t.value_shipped_eur)}")


def percent(fraction: Decimal) -> str:
    return f"{fraction * 100:.1f}%"
