"""The `coalition` command: database, demo data, server, and one sub-command per domain."""

from __future__ import annotations

import typer

from coalition.cli import (
    access,
    catalog,
    logistics,
    matching,
    meetings,
    passwords,
    pledges,
    registry,
    reports,
    requirements,
)
from coalition.cli import io as io_commands
from coalition.cli._run import console, print_json, print_table
from coalition.config import get_settings

app = typer.Typer(
    help="Coalition: coordinate multinational security assistance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
config_app = typer.Typer(help="Effective configuration.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the API and the dashboard.", no_args_is_help=True)

app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(registry.participants, name="participants")
app.add_typer(registry.formats, name="formats")
app.add_typer(registry.coalitions, name="coalitions")
app.add_typer(catalog.app, name="catalog")
app.add_typer(requirements.app, name="requirements")
app.add_typer(pledges.app, name="pledges")
app.add_typer(meetings.app, name="meetings")
app.add_typer(users_app, name="users")
passwords.register(users_app)
access.register_users(users_app)
app.add_typer(access.tokens, name="tokens")
app.add_typer(access.audit, name="audit")
app.add_typer(reports.app, name="report")
io_commands.register(app)
app.add_typer(matching.match_app, name="match")
app.add_typer(matching.allocations_app, name="allocations")
app.add_typer(matching.scenario_app, name="scenario")
app.add_typer(logistics.hubs, name="hubs")
app.add_typer(logistics.shipments, name="shipments")
app.add_typer(logistics.events, name="events")


@config_app.command("show")
def config_show(as_json: bool = typer.Option(False, "--json")) -> None:
    """Print the effective settings, secrets masked."""
    shown = get_settings().masked()
    if as_json:
        print_json(shown)
        return
    print_table("Settings (env prefix COALITION_)", ["setting", "value"], shown.items())


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Migrate the database to the latest schema."""
    from coalition import migrate

    migrate.upgrade(url=get_settings().database_url, revision=revision)
    console.print(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Migrate the database down to REVISION."""
    from coalition import migrate

    migrate.downgrade(url=get_settings().database_url, revision=revision)
    console.print(f"database at {revision}")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models drifted from the migrations."""
    from coalition import migrate

    migrate.check(url=get_settings().database_url)
    console.print("models and migrations agree")


@demo_app.command("load")
def demo_load(
    scale: int = typer.Option(0, min=0, help="Add N synthetic pledges (and requirements)."),
    seed: int = typer.Option(2024, help="Random seed of the synthetic part."),
) -> None:
    """Load the demo: real reference data, plausible requirements, pledges and meetings."""
    from coalition.demo import loader

    report = loader.load(scale_pledges=scale, seed=seed)
    token = report.pop("admin token (shown once)", None)
    print_table("Demo data loaded", ["what", "rows"], report.items(), numeric=["rows"])
    if token:
        # Not in the table: a table shortens long values to the terminal's width, and the one
        # copy must be whole.
        typer.echo(f"admin token (shown once): {token}")


@app.command("serve")
def serve(
    host: str = typer.Option(None, help="Bind address (default from settings: 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default from settings: 8000)."),
) -> None:
    """Serve the API and dashboard."""
    import uvicorn

    from coalition.web.app import create_app
    from coalition.web.pages.site import freeze_startup_heap

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    console.print(f"Coalition is serving on [bold]http://{host}:{port}[/] "
                  f"(API docs: http://{host}:{port}/docs)")
    application = create_app()
    freeze_startup_heap()
    uvicorn.run(application, host=host, port=port, log_level=settings.log_level.lower())


if __name__ == "__main__":
    app()
