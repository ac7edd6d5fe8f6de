"""`coalition meetings ...`"""

from __future__ import annotations

import typer

from coalition.access.actor import SYSTEM
from coalition.cli._run import JsonOption, print_json, print_table, service_call
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
