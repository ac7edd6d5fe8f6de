"""`coalition participants|formats|coalitions ...`"""

from __future__ import annotations

import datetime as dt

import typer
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.cli._run import JsonOption, console, print_json, print_table, service_call
from coalition.registry import handover as handover_service
from coalition.registry import service as registry_service
from coalition.registry.models import ParticipantKind
from coalition.registry.schemas import (
    CoalitionRead,
    FormatRead,
    LeadRead,
    MembershipRead,
    ParticipantRead,
)

participants = typer.Typer(help="Participants: states, organisations, coalitions.",
                           no_args_is_help=True)
formats = typer.Typer(help="Coordination formats, their members and leads.", no_args_is_help=True)
coalitions = typer.Typer(help="Capability coalitions.", no_args_is_help=True)


@participants.command("list")
def list_participants(
    kind: ParticipantKind | None = typer.Option(None, help="state, organisation or coalition."),
    donors: bool = typer.Option(False, "--donors", help="Only donors."),
    nato: bool | None = typer.Option(None, "--nato/--non-nato", help="NATO members or not."),
    search: str | None = typer.Option(None, "--search", "-q"),
    limit: int = typer.Option(500, min=1, max=500),
    as_json: bool = JsonOption,
) -> None:
    """List participants with membership and GDP."""
    rows = service_call(lambda s: [ParticipantRead.model_validate(p) for p in
                                   registry_service.list_participants(
                                       s, kind=kind, donor=True if donors else None, nato=nato,
                                       search=search, limit=limit).items])
    if as_json:
        print_json(rows)
        return
    print_table("Participants", ["code", "name", "kind", "NATO", "EU", "GDP (bn USD)", "donor"],
                [(p.code, p.name, p.kind.value, p.nato_member_since, p.eu_member_since,
                  f"{p.gdp_usd / 1e9:,.1f}" if p.gdp_usd else "", "yes" if p.is_donor else "")
                 for p in rows], numeric=["GDP (bn USD)"])


@participants.command("show")
def show_participant(code: str, as_json: bool = JsonOption) -> None:
    """Show one participant."""
    p = service_call(lambda s: ParticipantRead.model_validate(
        registry_service.get_participant(s, code=code)))
    if as_json:
        print_json(p)
        return
    print_table(p.name, ["field", "value"], p.model_dump(mode="json").items())


@formats.command("list")
def list_formats(as_json: bool = JsonOption) -> None:
    """List coordination formats and their current lead."""
    rows = service_call(lambda s: [FormatRead.model_validate(f)
                                   for f in registry_service.list_formats(s)])
    if as_json:
        print_json(rows)
        return
    print_table("Coordination formats", ["code", "name", "lead"],
                [(f.code, f.name, f.lead.code if f.lead else "") for f in rows])


@formats.command("show")
def show_format(code: str, as_json: bool = JsonOption) -> None:
    """Show a format with its lead history and current members."""
    def work(s: Session) -> tuple[FormatRead, list[LeadRead], list[MembershipRead]]:
        fmt = registry_service.get_format(s, code=code)
        return (FormatRead.model_validate(fmt),
                [LeadRead.model_validate(x) for x in registry_service.lead_history(
                    s, format_id=fmt.id)],
                [MembershipRead.model_validate(m) for m in registry_service.members(
                    s, format_id=fmt.id)])

    fmt, leads, members = service_call(work)
    if as_json:
        print_json({"format": fmt, "leads": leads, "members": members})
        return
    print_table(f"{fmt.code}: {fmt.name}", ["lead", "from", "until", "note"],
                [(x.participant.code, x.started_on, x.ended_on or "", x.note) for x in leads])
    print_table(f"{len(members)} memberships", ["code", "name", "joined", "left"],
                [(m.participant.code, m.participant.name, m.joined_on, m.left_on or "")
                 for m in members])


@coalitions.command("list")
def list_coalitions(as_json: bool = JsonOption) -> None:
    """List capability coalitions with their lead nations."""
    rows = service_call(lambda s: [CoalitionRead.model_validate(c)
                                   for c in registry_service.list_coalitions(s)])
    if as_json:
        print_json(rows)
        return
    print_table("Capability coalitions", ["code", "name", "area", "leads", "members"],
                [(c.code, c.name, c.capability_area.value,
                  ", ".join(m.participant.code for m in c.members if m.role.value == "lead"),
                  len(c.members)) for c in rows], numeric=["members"])


@formats.command("handover")
def handover(
    code: str = typer.Argument(..., help="Format whose coordination is handed over, e.g. UDCG."),
    to: str = typer.Option(..., "--to", help="New lead: a participant or format code (NATO)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the impact report only."),
    relabel_coalition: bool = typer.Option(
        False, "--relabel-coalition",
        help="Relabel NATO records that members outside NATO cannot see COALITION first."),
    on: dt.datetime | None = typer.Option(None, "--on", formats=["%Y-%m-%d"],
                                          help="Date of the hand-over (default today)."),
    as_json: bool = JsonOption,
) -> None:
    """Hand the coordination of a format to a new lead, with an impact report first."""
    day = on.date() if on else None
    if dry_run:
        plan = service_call(lambda s: handover_service.plan_handover(
            s, actor=SYSTEM, format_code=code, to_code=to, on=day,
            relabel_coalition=relabel_coalition))
        if as_json:
            print_json(plan)
            return
        _print_plan(plan, dry_run=True)
        return
    result = service_call(lambda s: handover_service.execute_handover(
        s, actor=SYSTEM, format_code=code, to_code=to, on=day,
        relabel_coalition=relabel_coalition))
    if as_json:
        print_json(result)
        return
    _print_plan(result.plan, dry_run=False)
    console.print(f"{result.plan.format} is now led by {result.plan.to_lead} "
                  f"(decision {result.decision_id}, approved by {SYSTEM.label}); "
                  f"{result.relabelled} records relabelled COALITION; lead history: "
                  f"{result.lead_periods_after} periods", highlight=False)


def _print_plan(plan: handover_service.HandoverPlan, *, dry_run: bool, shown: int = 15
                ) -> None:
    mode = " (dry run: nothing changed)" if dry_run else ""
    console.print(f"Hand-over of {plan.format}: {plan.from_lead or 'no lead'} -> {plan.to} "
                  f"on {plan.on}{mode}", highlight=False)
    print_table("Carried over unchanged", ["table", "rows"], plan.carried_over.items(),
                numeric=["rows"])
    print_table("Members outside NATO that cannot see NATO-labelled records",
                ["member", "name", "kind", "records hidden"],
                [(m.participant, m.name, m.kind, len(m.hidden))
                 for m in plan.members_losing_sight], numeric=["records hidden"])
    hidden_from: dict[tuple[str, int], int] = {}
    for member in plan.members_losing_sight:
        for ref in member.hidden:
            hidden_from[(ref.type, ref.id)] = hidden_from.get((ref.type, ref.id), 0) + 1
    more = len(plan.nato_labelled) - shown
    print_table(f"{len(plan.nato_labelled)} NATO-labelled records of {plan.format}",
                ["record", "id", "owner", "summary", "hidden from"],
                [(r.type, r.id, r.owner, r.summary, hidden_from.get((r.type, r.id), 0))
                 for r in plan.nato_labelled[:shown]], numeric=["id", "hidden from"],
                caption=f"+{more} more (--json lists every record)" if more > 0 else None)
    if plan.relabel:
        verb = "would relabel" if dry_run else "relabelled"
        console.print(f"{verb} {len(plan.relabel)} records NATO -> COALITION, so every member "
                      "keeps sight of them", highlight=False)
    elif plan.members_losing_sight:
        console.print("--relabel-coalition relabels these records COALITION before the "
                      "hand-over", highlight=False)
