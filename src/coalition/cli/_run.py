"""What every command shares: one unit of work, domain errors as one line and an exit code,
and output as a rich table or as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from coalition.db import session_scope
from coalition.errors import DomainError, ValidationFailed

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")


def service_call(work: Callable[[Session], T]) -> T:
    """Runs `work` in one transaction; a domain error ends the command with its exit code."""
    try:
        with session_scope() as session:
            return work(session)
    except DomainError as exc:
        fail(exc)
        raise AssertionError("unreachable") from exc


def fail(exc: DomainError) -> None:
    err_console.print(f"[bold red]error:[/] {exc.title.lower()}: {exc.detail}", highlight=False,
                      soft_wrap=True)
    if isinstance(exc, ValidationFailed) and len(exc.errors) > 10:
        err_console.print(f"... and {len(exc.errors) - 10} more errors")
    raise typer.Exit(exc.exit_code)


def to_jsonable(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list | tuple):
        return [to_jsonable(d) for d in data]
    if isinstance(data, dict):
        return {k: to_jsonable(v) for k, v in data.items()}
    return data


def print_json(data: Any) -> None:
    typer.echo(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False))


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                *, numeric: Iterable[str] = (), caption: str | None = None) -> None:
    numeric_set = set(numeric)
    table = Table(title=title, caption=caption, header_style="bold")
    for column in columns:
        table.add_column(column, justify="right" if column in numeric_set else "left")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def print_record(title: str, data: BaseModel) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in data.model_dump(mode="json").items():
        if isinstance(value, dict):
            value = value.get("code") or value.get("name") or json.dumps(value)
        elif isinstance(value, list):
            value = f"{len(value)} entries"
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


def money(value: Any) -> str:
    return f"{value:,.2f}"
