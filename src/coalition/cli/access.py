"""`coalition users create|list|revoke`, `coalition tokens ...` and `coalition audit ...`"""

from __future__ import annotations

import datetime as dt

import typer
from sqlalchemy.orm import Session

from coalition.access import audit as audit_service
from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from coalition.access.labels import Role
from coalition.access.schemas import (
    AuditEntryRead,
    ChainReportRead,
    IssuedTokenRead,
    TokenRead,
    UserCreated,
    UserRead,
)
from coalition.cli._run import (
    JsonOption,
    console,
    err_console,
    print_json,
    print_table,
    service_call,
)

tokens = typer.Typer(help="API bearer tokens: shown once at creation, stored hashed.",
                     no_args_is_help=True)
audit = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

ExpiresDays = typer.Option(None, "--expires-days", min=1, max=3650,
                           help="The token stops working after N days (default: never).")


def _when(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.strftime(fmt) if value else ""


def _expires(days: int | None) -> dt.timedelta | None:
    return dt.timedelta(days=days) if days else None


def _show_token(issued: IssuedTokenRead) -> None:
    # Plain echo, never a table: a table may shorten the one copy of the secret.
    console.print(f"token {issued.id} for [bold]{issued.user}[/] ({issued.prefix}…, expires "
                  f"{_when(issued.expires_at) or 'never'}); shown once, store it now:",
                  highlight=False)
    typer.echo(issued.token)


def create_user(
    name: str = typer.Argument(..., help="User name, e.g. desk-pol."),
    role: Role = typer.Option(..., "--role", help="admin, coordinator, national, recipient, "
                              "analyst or observer."),
    nation: str | None = typer.Option(None, "--nation", help="Participant the user speaks "
                                      "for (national, recipient, analyst), e.g. POL."),
    format_code: str | None = typer.Option(None, "--format", help="Format a coordinator "
                                           "runs, e.g. UDCG."),
    expires_days: int | None = ExpiresDays,
    label: str = typer.Option("", "--label", help="What the first token is for."),
    as_json: bool = JsonOption,
) -> None:
    """Create a user and print its first API token (once)."""
    def work(s: Session) -> UserCreated:
        user, issued = access_service.create_user_with_token(
            s, actor=SYSTEM, name=name, role=role, nation=nation, format_code=format_code,
            label=label, expires_in=_expires(expires_days))
        return UserCreated(**UserRead.model_validate(user).model_dump(),
                           token=IssuedTokenRead.issued(issued.record, issued.token))

    created = service_call(work)
    if as_json:
        print_json(created)
        return
    nation_text = f", {created.participant.code}" if created.participant else ""
    console.print(f"created user [bold]{created.name}[/] ({created.role.value}{nation_text})",
                  highlight=False)
    _show_token(created.token)


def list_users(as_json: bool = JsonOption) -> None:
    """List users with role, nation, format and how many tokens still work."""
    def work(s: Session) -> list[tuple[UserRead, int]]:
        counts = access_service.active_token_counts(s)
        return [(UserRead.model_validate(u), counts.get(u.id, 0))
                for u in access_service.list_users(s, actor=SYSTEM)]

    rows = service_call(work)
    if as_json:
        print_json([{**u.model_dump(mode="json"), "active_tokens": n} for u, n in rows])
        return
    print_table("Users", ["name", "role", "nation", "format", "active", "tokens", "created"],
                [(u.name, u.role.value, u.participant.code if u.participant else "",
                  u.format or "", "yes" if u.is_active else "no", n, _when(u.created_at))
                 for u, n in rows], numeric=["tokens"])


def revoke_user(name: str = typer.Argument(..., help="User name.")) -> None:
    """Deactivate a user and revoke all its tokens."""
    service_call(lambda s: access_service.deactivate_user(s, actor=SYSTEM, name=name))
    console.print(f"user [bold]{name}[/] deactivated; its tokens are revoked", highlight=False)


def register_users(users: typer.Typer) -> None:
    """Adds the commands to the `users` group, whoever owns that group."""
    users.command("create")(create_user)
    users.command("list")(list_users)
    users.command("revoke")(revoke_user)


@tokens.command("create")
def create_token(
    user: str = typer.Argument(..., help="User name, e.g. admin."),
    expires_days: int | None = ExpiresDays,
    label: str = typer.Option("", "--label", help="What the token is for."),
    as_json: bool = JsonOption,
) -> None:
    """Issue a new token for USER and print it (once)."""
    def work(s: Session) -> IssuedTokenRead:
        issued = access_service.issue_token_for(s, actor=SYSTEM, user_name=user, label=label,
                                                expires_in=_expires(expires_days))
        return IssuedTokenRead.issued(issued.record, issued.token)

    issued = service_call(work)
    if as_json:
        print_json(issued)
        return
    _show_token(issued)


@tokens.command("revoke")
def revoke_token(token_id: int = typer.Argument(..., help="Token id (tokens list).")) -> None:
    """Revoke one token; it stops working at once."""
    token = service_call(lambda s: TokenRead.model_validate(
        access_service.revoke_token(s, actor=SYSTEM, token_id=token_id)))
    console.print(f"token {token.id} ({token.prefix}…) of {token.user} revoked", highlight=False)


@tokens.command("list")
def list_tokens(user: str | None = typer.Argument(None, help="Only this user's tokens."),
                as_json: bool = JsonOption) -> None:
    """List tokens: prefix, dates, revocation, last use (never the secret)."""
    rows = service_call(lambda s: [TokenRead.model_validate(t) for t in
                                   access_service.list_tokens(s, actor=SYSTEM, user_name=user)])
    if as_json:
        print_json(rows)
        return
    print_table("API tokens", ["id", "user", "prefix", "label", "created", "expires", "revoked",
                               "last used"],
                [(t.id, t.user, t.prefix + "…", t.label, _when(t.created_at, "%Y-%m-%d"),
                  _when(t.expires_at, "%Y-%m-%d"), _when(t.revoked_at, "%Y-%m-%d"),
                  _when(t.last_used_at)) for t in rows], numeric=["id"])


@audit.command("verify")
def verify(as_json: bool = JsonOption) -> None:
    """Walk the hash chain; exit 0 only when it is intact, else name the first bad entry."""
    report = service_call(lambda s: ChainReportRead.model_validate(
        audit_service.verify(s, actor=SYSTEM)))
    if as_json:
        print_json(report)
    elif report.ok:
        console.print(f"audit chain intact: {report.entries} entries, head "
                      f"{report.head_hash[:16]}…", highlight=False)
    else:
        err_console.print(f"[bold red]audit chain BROKEN at entry {report.first_bad_id}:[/] "
                          f"{report.reason} ({report.entries} entries verified before it)",
                          highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@audit.command("log")
def log(
    target: str | None = typer.Option(None, "--target", help="TYPE or TYPE:ID, e.g. "
                                      "pledges:42 (table name)."),
    actor: str | None = typer.Option(None, "--actor", help="Who, e.g. desk-pol or system."),
    action: str | None = typer.Option(None, "--action", help="e.g. pledge.confirmed, or "
                                      "pledge for every pledge action."),
    limit: int = typer.Option(50, "--limit", min=1, max=500),
    as_json: bool = JsonOption,
) -> None:
    """Show audit entries, newest first."""
    page = service_call(lambda s: audit_service.list_entries(
        s, actor=SYSTEM, target=target, actor_name=actor, action=action, limit=limit))
    rows = [AuditEntryRead.model_validate(e) for e in page.items]
    if as_json:
        print_json(rows)
        return
    print_table("Audit log", ["id", "at (UTC)", "actor", "action", "target", "label", "changed"],
                [(e.id, _when(e.at), e.actor, e.action, f"{e.target_type}:{e.target_id}",
                  e.releasability, _changed(e)) for e in rows], numeric=["id"],
                caption=f"{len(rows)} of {page.total}")


def _changed(entry: AuditEntryRead) -> str:
    """The fields an update changed; `new` for entries without a before."""
    before, after = entry.before or {}, entry.after or {}
    if not before:
        return "new"
    keys = [k for k in after if before.get(k) != after.get(k) and k != "updated_at"]
    return ", ".join(keys[:3]) + (" …" if len(keys) > 3 else "")
