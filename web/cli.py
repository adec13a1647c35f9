"""Command line: `flask --app wsgi staff create | set-password | disable | list`.

Passwords are read from standard input (one line), never from an argument: arguments end up
in shell history and in `ps`."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from scheduler.errors import NotFound, ValidationFailed
from scheduler.services import staff as staff_service
from scheduler.services.common import Actor
from web.context import wiring

staff = AppGroup("staff", help="Staff accounts of the web app.")
CLI = Actor(key_id=None, name="cli")


def _password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _fail(exc: ValidationFailed) -> click.ClickException:
    return click.ClickException("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()))


@staff.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True,
              type=click.Choice([r.value for r in staff_service.StaffRole]))
@click.option("--clinic", "clinics", multiple=True, help="Clinic id (repeatable).")
def create(email: str, name: str, role: str, clinics: tuple[str, ...]) -> None:
    """Create a staff user; the password is one line of standard input. Prints the id last."""
    password = _password()
    wired = wiring()
    try:
        user = staff_service.create_staff(wired.uow(), email=email, name=name, role=role,
                                          clinic_ids=clinics, password=password, actor=CLI,
                                          now=wired.now())
    except ValidationFailed as exc:
        raise _fail(exc) from None
    click.echo(f"created staff user role={user.role} clinics={','.join(user.clinic_ids) or '-'}")
    click.echo(user.id)


@staff.command("set-password")
@click.argument("staff_id")
def set_password(staff_id: str) -> None:
    """Replace a staff user's password (one line of standard input); their sessions end."""
    password = _password()
    wired = wiring()
    try:
        user = staff_service.set_password(wired.uow(), staff_id, password, actor=CLI,
                                          now=wired.now())
    except NotFound:
        raise click.ClickException(f"no staff user {staff_id}") from None
    except ValidationFailed as exc:
        raise _fail(exc) from None
    click.echo(f"password set for {user.id}")


@staff.command("disable")
@click.argument("staff_id")
def disable(staff_id: str) -> None:
    """Disable a staff user at once: no sign-in, and their sessions end."""
    wired = wiring()
    try:
        user = staff_service.disable_staff(wired.uow(), staff_id, actor=CLI, now=wired.now())
    except NotFound:
        raise click.ClickException(f"no staff user {staff_id}") from None
    click.echo(f"disabled {user.id}")


@staff.command("list")
def list_staff() -> None:
    """List staff users: id, email, name, role, clinics, status."""
    wired = wiring()
    click.echo("id\temail\tname\trole\tclinics\tstatus")
    cursor = None
    while True:
        page = staff_service.list_staff(wired.uow(), limit=200, cursor=cursor)
        for user in page.items:
            click.echo("\t".join((user.id, user.email, user.name, user.role,
                                  ",".join(user.clinic_ids) or "-",
                                  "disabled" if user.disabled else "active")))
        cursor = page.next_cursor
        if cursor is None:
            return


def init_app(app: Flask) -> None:
    app.cli.add_command(staff)
