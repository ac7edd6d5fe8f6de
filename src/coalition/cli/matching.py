"""`coalition match ...`, `coalition allocations approve|decline`, `coalition scenario withdraw`"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import typer
from sqlalchemy.orm import Session

from coalition.access import service as access_service
from coalition.access.actor import SYSTEM, Actor, actor_for_user
from coalition.cli._run import JsonOption, console, print_json, print_table, service_call
from coalition.matching import scenarios
from coalition.matching import service as matching_service
from coalition.matching.models import ProposalStatus
from coalition.matching.objective import MatchPolicy
from coalition.matching.schemas import (
    ProposalRead,
    RunRead,
    TopWithdrawalReport,
    WithdrawalReport,
)

match_app = typer.Typer(help="Propose optimal allocations of pledges to requirements.",
                        no_args_is_help=True)
allocations_app = typer.Typer(help="The donor nation's decision on proposed allocations.",
                              no_args_is_help=True)
scenario_app = typer.Typer(help="What-if analyses; they never change stored data.",
                           no_args_is_help=True)

AsUserOption = typer.Option(None, "--as-user", metavar="NAME",
                            help="Act as this user (default: the system administrator).")


def _actor(session: Session, user: str | None) -> Actor:
    if user is None:
        return SYSTEM
    return actor_for_user(session, access_service.get_user(session, name=user))


def _eur_m(cents: int) -> str:
    return f"{Decimal(cents) / 10**8:,.2f}"


@match_app.command("run")
def run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Solve and report; store nothing."),
    max_lateness: int | None = typer.Option(None, "--max-lateness", min=0, metavar="DAYS",
                                            help="Do not propose pairs later than this."),
    user: str | None = AsUserOption,
    as_json: bool = JsonOption,
) -> None:
    """Solve the matching of open needs and uncommitted pledges; store the proposals."""
    summary = service_call(lambda s: matching_service.run_matching(
        s, actor=_actor(s, user), dry_run=dry_run,
        policy=MatchPolicy(max_lateness_days=max_lateness)).summary)
    if as_json:
        print_json(summary)
        return
    _print_run(summary)


def _print_run(r: RunRead) -> None:
    title = "Matching dry run (nothing stored)" if r.dry_run else f"Matching run {r.id}"
    rows: list[tuple[str, object]] = [
        ("requirements x pledges", f"{r.requirements:,} x {r.pledges:,}"),
        ("compatible pairs (declined, left out)", f"{r.pairs:,} ({r.excluded_pairs:,})"),
        ("proposals", f"{r.proposals:,}"),
        ("quantity proposed", f"{r.quantity_proposed:,}"),
    ]
    if r.objective is not None:
        o = r.objective
        rows += [
            ("quantity needed / met", f"{o.quantity_needed:,} / {o.quantity_met:,}"),
            ("met by priority 1..5", " / ".join(f"{m:,}" for m in o.met_by_priority)),
            ("needs met / partly / not", f"{o.requirements_met:,} / "
             f"{o.requirements_partial:,} / {o.requirements_unmet:,}"),
            ("late units (unit-days)", f"{o.late_quantity:,} ({o.lateness_unit_days:,})"),
            ("substituted units", f"{o.substituted_quantity:,}"),
            ("needs split over donors", f"{o.donor_splits:,}"),
        ]
    if not r.dry_run:
        rows.append(("older proposals superseded", f"{r.superseded:,}"))
    if r.timings:
        rows.append(("seconds (load, build, solve, extract, store)", ", ".join(
            f"{r.timings.get(k, 0.0):.2f}" for k in ("load_s", "build_s", "solve_s",
                                                     "extract_s", "store_s"))))
    print_table(title, ["", "value"], rows)


@match_app.command("runs")
def runs(limit: int = typer.Option(20, min=1, max=500), user: str | None = AsUserOption,
         as_json: bool = JsonOption) -> None:
    """List matching runs, newest first."""
    def work(session: Session) -> list[RunRead]:
        actor = _actor(session, user)
        return [matching_service.summarise(session, actor=actor, run=r, with_counts=False)
                for r in matching_service.list_runs(session, actor=actor, limit=limit).items]

    items = service_call(work)
    if as_json:
        print_json(items)
        return
    print_table("Matching runs", ["id", "at", "by", "scope", "proposals", "quantity"],
                [(r.id, r.created_at.strftime("%Y-%m-%d %H:%M"), r.created_by, r.scope or "all",
                  r.proposals, r.quantity_proposed) for r in items],
                numeric=["proposals", "quantity"])


@match_app.command("proposals")
def proposals(
    run_id: int | None = typer.Option(None, "--run", help="Only this run."),
    donor: str | None = typer.Option(None, help="Donor code, e.g. POL."),
    status: ProposalStatus | None = typer.Option(None),
    requirement: int | None = typer.Option(None, help="Only this requirement."),
    sort: str = typer.Option("id", help="id, priority, quantity or lateness_days (- first "
                                        "for descending)."),
    limit: int = typer.Option(50, min=1, max=500),
    user: str | None = AsUserOption,
    as_json: bool = JsonOption,
) -> None:
    """List proposals with their reasons and decisions."""
    page = service_call(lambda s: matching_service.list_proposals(
        s, actor=_actor(s, user), run_id=run_id, donor=donor, status=status,
        requirement_id=requirement, sort=sort, limit=limit))
    rows = [ProposalRead.model_validate(p) for p in page.items]
    if as_json:
        print_json(rows)
        return
    print_table("Proposals", ["id", "run", "donor", "pledge", "requirement", "qty", "reason",
                              "status", "decided by"],
                [(p.id, p.run_id, p.donor.code, p.pledge_id, p.requirement_id, p.quantity,
                  p.reason_code, p.status.value, p.decided_by or "") for p in rows],
                numeric=["qty"], caption=f"{len(rows)} of {page.total}")


@match_app.command("explain")
def explain(
    requirement_id: int,
    run_id: int | None = typer.Option(None, "--run",
                                      help="A stored run (default: the newest of your scope, "
                                           "else a fresh solve)."),
    user: str | None = AsUserOption,
    as_json: bool = JsonOption,
) -> None:
    """Why a requirement got what it got, or why not."""
    explanation = service_call(lambda s: matching_service.explain_requirement(
        s, actor=_actor(s, user), requirement_id=requirement_id, run_id=run_id))
    if as_json:
        print_json(explanation)
        return
    source = f"run {explanation.run_id}" if explanation.run_id else "fresh solve, not stored"
    typer.echo(f"{explanation.text}\n({source})")


@allocations_app.command("approve")
def approve(proposal_id: int, user: str | None = AsUserOption,
            as_json: bool = JsonOption) -> None:
    """Approve proposal ID: its quantity becomes an allocation (the donor nation decides)."""
    proposal = service_call(lambda s: ProposalRead.model_validate(
        matching_service.approve_proposal(s, actor=_actor(s, user), proposal_id=proposal_id)))
    if as_json:
        print_json(proposal)
        return
    typer.echo(f"proposal {proposal.id} approved: allocation {proposal.allocation_id} of "
               f"{proposal.quantity} from pledge {proposal.pledge_id} to requirement "
               f"{proposal.requirement_id}")


@allocations_app.command("decline")
def decline(proposal_id: int,
            reason: str = typer.Option(..., "--reason", help="Why (recorded and audited)."),
            user: str | None = AsUserOption, as_json: bool = JsonOption) -> None:
    """Decline proposal ID; its pledge is not proposed for that requirement again."""
    proposal = service_call(lambda s: ProposalRead.model_validate(
        matching_service.decline_proposal(s, actor=_actor(s, user), proposal_id=proposal_id,
                                          reason=reason)))
    if as_json:
        print_json(proposal)
        return
    typer.echo(f"proposal {proposal.id} declined: pledge {proposal.pledge_id} will not be "
               f"proposed for requirement {proposal.requirement_id} again")


@scenario_app.command("withdraw")
def withdraw(
    donor: str | None = typer.Argument(None, help="Donor code, e.g. USA."),
    from_date: dt.datetime | None = typer.Option(
        None, "--from", formats=["%Y-%m-%d"],
        help="Withdraw only pledges available on or after this day (default: all)."),
    top: int | None = typer.Option(None, "--top", min=1, max=50,
                                   help="One scenario per top-N donor by pledged value."),
    gaps: int = typer.Option(15, "--gaps", min=0, help="Gaps to list (table output)."),
    user: str | None = AsUserOption,
    as_json: bool = JsonOption,
) -> None:
    """What breaks if DONOR (or each of the --top N donors) stops: lost coverage, value at
    risk, who could refill each gap. Nothing stored changes."""
    if (donor is None) == (top is None):
        raise typer.BadParameter("give a DONOR or --top N")
    if top is not None:
        report_top = service_call(lambda s: scenarios.withdraw_top(
            s, actor=_actor(s, user), top=top))
        if as_json:
            print_json(report_top)
        else:
            _print_top(report_top)
        return
    assert donor is not None
    report = service_call(lambda s: scenarios.withdraw(
        s, actor=_actor(s, user), donor=donor,
        from_date=from_date.date() if from_date else None))
    if as_json:
        print_json(report)
        return
    _print_withdrawal(report, gaps)


def _print_withdrawal(r: WithdrawalReport, gaps: int) -> None:
    since = f" from {r.from_date}" if r.from_date else ""
    console.print(
        f"[bold]{r.donor.name} ({r.donor.code}) withdraws{since}[/]: {r.pledges_withdrawn:,} "
        f"pledges, {r.quantity_withdrawn:,} undelivered units, "
        f"EUR {_eur_m(r.value_withdrawn_eur_cents)} m. "
        f"{r.requirements_losing:,} requirements lose coverage "
        f"({r.critical_requirements_losing:,} of priority 1-2): {r.quantity_lost:,} units, "
        f"EUR {_eur_m(r.value_lost_eur_cents)} m at risk.", highlight=False)
    print_table("Lost coverage by capability area and priority",
                ["area", "priority", "requirements", "units lost", "EUR m lost"],
                [(a.capability_area.value, a.priority, a.requirements, f"{a.quantity_lost:,}",
                  _eur_m(a.value_lost_eur_cents)) for a in r.by_area_priority],
                numeric=["requirements", "units lost", "EUR m lost"])
    print_table("Largest gaps and who could refill them",
                ["requirement", "item", "P", "lost", "of need", "EUR m",
                 "could refill: donor (uncommitted in group, past pledges in category)"],
                [(g.reference, g.item_type[:30], g.priority, f"{g.quantity_lost:,}",
                  f"{g.needed:,}", _eur_m(g.value_lost_eur_cents),
                  ", ".join(f"{c.donor} ({c.uncommitted_quantity:,}, {c.category_pledges})"
                            for c in g.candidates) or "nobody")
                 for g in r.gaps[:gaps]],
                numeric=["lost", "of need", "EUR m"],
                caption=f"{len(r.gaps):,} gaps; {r.resolved_groups} compatibility groups "
                        f"re-solved; {r.seconds:.2f} s")


def _print_top(r: TopWithdrawalReport) -> None:
    print_table("Dependency on one donor: withdrawal scenarios ranked by critical gaps",
                ["rank", "donor", "pledged EUR m", "P1-2 needs losing", "P1-2 units lost",
                 "needs losing", "EUR m at risk"],
                [(d.rank, d.donor.code, _eur_m(d.pledged_value_eur_cents),
                  d.critical_requirements_losing, f"{d.critical_quantity_lost:,}",
                  d.requirements_losing, _eur_m(d.value_lost_eur_cents)) for d in r.donors],
                numeric=["pledged EUR m", "P1-2 needs losing", "P1-2 units lost",
                         "needs losing", "EUR m at risk"],
                caption=f"{len(r.donors)} scenarios in {r.seconds:.2f} s; nothing stored "
                        "changed")
