"""`coalition users set-password NAME`: the password a user signs in to the dashboard with."""

from __future__ import annotations

import secrets
import sys

import typer

from coalition.access import passwords
from coalition.access.actor import SYSTEM
from coalition.cli._run import console, service_call


def generate_password() -> str:
    """About 120 bits from the OS's CSPRNG, URL-safe so it survives copy and paste."""
    return secrets.token_urlsafe(15)


def set_password(
    name: str = typer.Argument(..., help="User name, e.g. desk-pol."),
    generate: bool = typer.Option(False, "--generate",
                                  help="Generate a random password and print it once."),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the password from standard input."),
) -> None:
    """Set the password NAME signs in to the dashboard with (prompted, hidden, unless
    --generate or --password-stdin)."""
    if generate and password_stdin:
        raise typer.BadParameter("use either --generate or --password-stdin")
    if generate:
        password = generate_password()
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    service_call(lambda s: passwords.set_password(s, actor=SYSTEM, user_name=name,
                                                  password=password))
    console.print(f"password of [bold]{name}[/] set", highlight=False)
    if generate:
        console.print(f"password (shown once): {password}", highlight=False, soft_wrap=True)


def register(users: typer.Typer) -> None:
    """Adds the command to the `users` group, whoever owns that group."""
    users.command("set-password")(set_password)
