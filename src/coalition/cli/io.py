"""`coalition import ...`, `coalition templates`, `coalition export ...`, `coalition backup`
and `coalition restore`: files in, files out, the whole database to a file and back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from coalition.access import service as access_service
from coalition.access.actor import SYSTEM, Actor, actor_for_user
from coalition.catalog.models import CapabilityArea
from coalition.cli._run import console, err_console, fail, print_json, print_table
from coalition.db import get_engine, session_scope
from coalition.errors import DomainError
from coalition.io import backup as backup_service
from coalition.io import templates as template_service
from coalition.io.exporters import export, export_format
from coalition.io.importers import ImportFailed, ImportReport, import_file
from coalition.io.importers._common import estimate_rows
from coalition.io.kiel import LAYOUTS
from coalition.io.kiel.importer import Amounts, KielReport, import_kiel
from coalition.io.schemas import ItemTypeFilter, MeetingFilter, ParticipantFilter
from coalition.pledges.models import FundingMechanism, PledgeStatus
from coalition.pledges.schemas import PledgeFilter
from coalition.registry.models import ParticipantKind
from coalition.requirements.models import RequirementStatus
from coalition.requirements.schemas import RequirementFilter

imports = typer.Typer(help="Import participants, catalog item types, requirements or pledges "
                      "from CSV, XLSX or JSON, or the Kiel Support Tracker workbook. Every row "
                      "is validated; nothing is written unless all are valid.",
                      no_args_is_help=True)
exports = typer.Typer(help="Export a list as CSV, XLSX or JSON, with the list's filters and "
                      "what the user may see.", no_args_is_help=True)

FileArg = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                         help="CSV, XLSX or JSON file (JSON array or JSON lines).")
DryRunOption = typer.Option(False, "--dry-run", help="Validate and count, write nothing.")
FormatOption = typer.Option(None, "--format", help="csv, xlsx or json (default: from the "
                                                   "file name).")
MaxErrorsOption = typer.Option(100, "--max-errors", min=1, help="Stop after this many errors.")
AsUserOption = typer.Option(None, "--as-user", metavar="NAME",
                            help="Act as this user (default: the system, which sees all).")
JsonOption = typer.Option(False, "--json", help="Print the report as JSON.")
OutOption = typer.Option(..., "-o", "--output", dir_okay=False, writable=True,
                         help="File to write.")
ExportFormatOption = typer.Option(None, "--format",
                                  help="csv, xlsx or json (default: from the file name).")


def _actor(session: Session, user: str | None) -> Actor:
    if user is None:
        return SYSTEM
    return actor_for_user(session, access_service.get_user(session, name=user))


@contextmanager
def _progress(total: int | None, what: str) -> Iterator[Callable[[int], None]]:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("rows"), TimeElapsedColumn(), console=err_console,
                  transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


def _run_import(resource: str, path: Path, *, dry_run: bool, format: str | None,
                max_errors: int, user: str | None, as_json: bool) -> None:
    try:
        with _progress(estimate_rows(path, format), f"{resource} from {path.name}") as step, \
                session_scope() as session:
            report = import_file(session, actor=_actor(session, user), resource=resource,
                                 path=path, format=format, dry_run=dry_run,
                                 max_errors=max_errors, progress=step)
    except ImportFailed as failed:
        _print_errors(failed)
        raise typer.Exit(failed.exit_code) from failed
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)


def _print_errors(failed: ImportFailed) -> None:
    print_table(f"{len(failed.row_errors)} error(s), nothing was imported",
                ["row", "column", "value", "reason"],
                [(e.row, e.column, e.value or "", e.reason) for e in failed.row_errors],
                numeric=["row"],
                caption="stopped at the error limit: there may be more" if failed.stopped_early
                else f"{failed.rows_read:,} rows read")


def _print_report(report: ImportReport) -> None:
    title = f"{'Dry run' if report.dry_run else 'Import'}: {report.file} -> {report.resource}"
    rows: list[tuple[str, Any]] = [("rows read", f"{report.rows_read:,}"),
                                   ("created", f"{report.created:,}"),
                                   ("updated", f"{report.updated:,}"),
                                   ("unchanged", f"{report.unchanged:,}")]
    rows += [(f"status {k}", f"{v:,}") for k, v in report.extra.get("statuses", {}).items()]
    print_table(title, ["", "rows"], rows, numeric=["rows"],
                caption=f"sha256 {report.sha256[:16]}...")


def _resource_command(resource: str, help_text: str) -> None:
    def command(path: Path = FileArg, dry_run: bool = DryRunOption,
                format: str | None = FormatOption, max_errors: int = MaxErrorsOption,
                user: str | None = AsUserOption, as_json: bool = JsonOption) -> None:
        _run_import(resource, path, dry_run=dry_run, format=format, max_errors=max_errors,
                    user=user, as_json=as_json)

    command.__doc__ = help_text
    imports.command(resource)(command)


_resource_command("participants", "Import participants (key: code).")
_resource_command("catalog", "Import catalog item types (key: code).")
_resource_command("requirements", "Import requirements (key: reference).")
_resource_command("pledges", "Import pledges (key: external_id); large files in bulk.")


@imports.command("kiel")
def import_kiel_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="The Kiel Support Tracker workbook (XLSX)."),
    release: str = typer.Option("7", "--release", help="Layout of the workbook: "
                                + ", ".join(sorted(LAYOUTS))),
    dry_run: bool = DryRunOption,
    as_json: bool = JsonOption,
) -> None:
    """Import the Kiel Support Tracker: donors, items, commitments and deliveries; then print
    the reconciliation with the workbook (rows, skips, totals by aid type and donor, EUR)."""
    if release not in LAYOUTS:
        err_console.print(f"[bold red]error:[/] --release: no layout for release {release!r}; "
                          f"known: {', '.join(sorted(LAYOUTS))}")
        raise typer.Exit(2)
    try:
        with session_scope() as session:
            report = import_kiel(session, actor=SYSTEM, path=path, layout=LAYOUTS[release],
                                 dry_run=dry_run)
    except ImportFailed as failed:
        _print_errors(failed)
        raise typer.Exit(failed.exit_code) from failed
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(report.to_dict())
        return
    _print_kiel(report)
    if not report.matches:
        raise typer.Exit(1)


def _eur(value: Decimal) -> str:
    return f"{value:,.2f}"


def _print_kiel(report: KielReport) -> None:
    skipped = sum(report.skipped.values())
    verb = "Dry run of" if report.dry_run else "Imported"
    console.print(f"{verb} Kiel Support Tracker release {report.release} from {report.file}: "
                  f"{report.rows_read:,} rows read, {report.imported:,} imported "
                  f"({report.created:,} new, {report.updated:,} updated, "
                  f"{report.unchanged:,} unchanged), {skipped:,} skipped", highlight=False,
                  soft_wrap=True)
    by_id: dict[str, list[str]] = {}
    for _, kiel_id, reason in report.skipped_rows:
        by_id.setdefault(reason, []).append(kiel_id)
    print_table("Skipped rows", ["reason", "rows", "Kiel ids"],
                [(reason, n, ", ".join(by_id.get(reason, []))[:60])
                 for reason, n in sorted(report.skipped.items())], numeric=["rows"])
    if report.added:
        print_table("Added", ["what", "count"], sorted(report.added.items()),
                    numeric=["count"])
    headers = ["rows", "Kiel committed EUR", "imported EUR", "Kiel delivered EUR",
               "imported delivered EUR"]

    def line(a: Amounts) -> list[Any]:
        return [a.rows, _eur(a.kiel_committed), _eur(a.imported_committed),
                _eur(a.kiel_delivered), _eur(a.imported_delivered)]

    print_table("By aid type", ["aid type", *headers],
                [[aid, *line(a)] for aid, a in sorted(report.by_aid_type.items())]
                + [["total", *line(report.total)]], numeric=headers)
    donors = sorted(report.by_donor.items(), key=lambda kv: (-kv[1].kiel_committed, kv[0]))
    print_table("By donor", ["donor", "name", *headers],
                [[code, report.donor_names.get(code, ""), *line(a)] for code, a in donors],
                numeric=headers,
                caption="delivered: Kiel's delivered EUR column; imported: value x delivered "
                        "units / units (README, Kiel import)")
    console.print("Committed totals match the workbook: "
                  + ("[bold green]yes[/]" if report.matches else "[bold red]NO[/]"))


def templates(
    directory: Path = typer.Argument(..., file_okay=False, help="Folder to write into."),
    format: str = typer.Option("csv", "--format", help="csv, xlsx or json."),
) -> None:
    """Write an empty template per importable resource: the header and one example row."""
    try:
        written = template_service.write_templates(directory, format)
    except DomainError as exc:
        fail(exc)
    print_table("Templates", ["resource", "file"],
                [(p.stem, str(p)) for p in written])


def _export(resource: str, output: Path, format: str | None, user: str | None,
            filters: BaseModel | None) -> None:
    try:
        kind = export_format(output, format)
        with session_scope() as session, output.open("wb") as out:
            count = export(session, actor=_actor(session, user), resource=resource,
                           format=kind, out=out, filters=filters)
    except DomainError as exc:
        output.unlink(missing_ok=True)
        fail(exc)
    # Soft wrap: a path broken over two lines cannot be copied.
    console.print(f"{count:,} {resource} written to {output} ({kind})", highlight=False,
                  soft_wrap=True)


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None




@exports.command("pledges")
def export_pledges(
    output: Path = OutOption, format: str | None = ExportFormatOption,
    donor: str | None = typer.Option(None, help="Donor code, e.g. DEU."),
    status: PledgeStatus | None = typer.Option(None),
    item_type: str | None = typer.Option(None, "--item-type"),
    category: str | None = typer.Option(None),
    funding: FundingMechanism | None = typer.Option(None),
    announced_from: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"]),
    announced_to: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"]),
    user: str | None = AsUserOption,
) -> None:
    """Export pledges (the filters of `coalition pledges list`)."""
    _export("pledges", output, format, user, PledgeFilter(
        donor=donor, status=status, item_type=item_type, category=category, funding=funding,
        announced_from=_day(announced_from), announced_to=_day(announced_to)))


@exports.command("requirements")
def export_requirements(
    output: Path = OutOption, format: str | None = ExportFormatOption,
    priority: int | None = typer.Option(None, min=1, max=5),
    status: RequirementStatus | None = typer.Option(None),
    capability_area: CapabilityArea | None = typer.Option(None, "--capability-area"),
    item_type: str | None = typer.Option(None, "--item-type"),
    needed_from: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"]),
    needed_to: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"]),
    user: str | None = AsUserOption,
) -> None:
    """Export requirements (the filters of `coalition requirements list`)."""
    _export("requirements", output, format, user, RequirementFilter(
        priority=priority, status=status, capability_area=capability_area,
        item_type=item_type, needed_from=_day(needed_from), needed_to=_day(needed_to)))


@exports.command("participants")
def export_participants(
    output: Path = OutOption, format: str | None = ExportFormatOption,
    kind: ParticipantKind | None = typer.Option(None),
    donor: bool | None = typer.Option(None, "--donor/--not-donor"),
    nato: bool | None = typer.Option(None, "--nato/--not-nato"),
    search: str | None = typer.Option(None, "--search"),
    user: str | None = AsUserOption,
) -> None:
    """Export participants."""
    _export("participants", output, format, user,
            ParticipantFilter(kind=kind, donor=donor, nato=nato, search=search))


@exports.command("catalog")
def export_catalog(
    output: Path = OutOption, format: str | None = ExportFormatOption,
    category: str | None = typer.Option(None),
    capability_area: CapabilityArea | None = typer.Option(None, "--capability-area"),
    compatibility_group: str | None = typer.Option(None, "--compatibility-group"),
    search: str | None = typer.Option(None, "--search"),
    user: str | None = AsUserOption,
) -> None:
    """Export catalog item types."""
    _export("catalog", output, format, user, ItemTypeFilter(
        category=category, capability_area=capability_area,
        compatibility_group=compatibility_group, search=search))


@exports.command("meetings")
def export_meetings(
    output: Path = OutOption, format: str | None = ExportFormatOption,
    format_code: str | None = typer.Option(None, "--in-format", help="Format code, e.g. UDCG."),
    user: str | None = AsUserOption,
) -> None:
    """Export meetings."""
    _export("meetings", output, format, user, MeetingFilter(format=format_code))


def backup(path: Path = typer.Argument(..., dir_okay=False,
                                       help="Backup file (.jsonl, or .jsonl.gz compressed).")
           ) -> None:
    """Write every table, in one consistent read, to a file another database can restore."""
    engine = get_engine()
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" \
        else {}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        summary = backup_service.backup(connection, path)
    _print_tables(f"Backup of {summary.dialect} at revision {', '.join(summary.revision)}",
                  summary, f"{summary.rows:,} rows written to {path} "
                           f"({path.stat().st_size / 1e6:.1f} MB)")


def restore(path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                        help="A file written by `coalition backup`.")) -> None:
    """Load a backup into an empty database migrated to the backup's revision; every table's
    content is checked against the backup's digest before anything commits."""
    try:
        with get_engine().begin() as connection:
            summary = backup_service.restore(connection, path)
    except DomainError as exc:
        fail(exc)
    _print_tables(f"Restored from {path.name} (written by {summary.dialect})", summary,
                  f"{summary.rows:,} rows; every table matches the backup's digest")


def _print_tables(title: str, summary: backup_service.BackupSummary, caption: str) -> None:
    print_table(title, ["table", "rows", "sha256"],
                [(t.name, f"{t.rows:,}", t.sha256[:16]) for t in summary.tables if t.rows],
                numeric=["rows"], caption=caption)


def register(app: typer.Typer) -> None:
    """Adds the commands to the top-level `coalition` app."""
    app.add_typer(imports, name="import")
    app.add_typer(exports, name="export")
    app.command("templates")(templates)
    app.command("backup")(backup)
    app.command("restore")(restore)
