"""Command line: `flask --app wsgi db upgrade | current | backup`; `flask --app wsgi apikey
create | list | revoke`."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from api.context import cadence
from api.schemas import RFC3339
from scheduler.errors import NotFound, ValidationFailed
from scheduler.services import api_keys, backup, ops
from scheduler.services.common import Actor

db = AppGroup("db", help="Database schema.")
apikey = AppGroup("apikey", help="API keys.")
CLI = Actor(key_id=None, name="cli")


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Bring the database to the current schema."""
    click.echo(f"database at {ops.upgrade_database(cadence().engine, revision)}")


@db.command("current")
def current() -> None:
    """Print the database's schema revision and the code's head."""
    current, head = ops.revisions(cadence().engine)
    click.echo(f"current={current} head={head}")


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path: str) -> None:
    """Copy the SQLite database to PATH, consistently, while the service runs (PostgreSQL:
    use pg_dump)."""
    try:
        done = backup.backup_sqlite(cadence().engine, path)
    except ValidationFailed as exc:
        raise click.ClickException(" ".join(m for v in exc.errors.values() for m in v)) from None
    click.echo(f"backed up to {done.path} ({done.bytes} bytes, {done.pages} pages, "
               "integrity ok)")


@apikey.command("create")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in api_keys.Role]))
@click.option("--clinic", "clinics", multiple=True, help="Clinic id (repeatable).")
@click.option("--expires-in-days", type=click.IntRange(1, 3660), default=None,
              help="The key is refused this many days from now.")
@click.option("--expires-at", default=None,
              help="RFC 3339 time from which the key is refused, e.g. 2027-06-30T00:00:00Z.")
def create(name: str, role: str, clinics: tuple[str, ...], expires_in_days: int | None,
           expires_at: str | None) -> None:
    """Issue an API key; the key alone is printed on the last line."""
    wiring = cadence()
    now = wiring.now()
    if expires_in_days is not None and expires_at is not None:
        raise click.UsageError("give --expires-in-days or --expires-at, not both")
    expiry = now + timedelta(days=expires_in_days) if expires_in_days else None
    if expires_at is not None:
        if not RFC3339.fullmatch(expires_at):
            raise click.BadParameter("an RFC 3339 time with an offset", param_hint="--expires-at")
        expiry = datetime.fromisoformat(expires_at.upper())
    try:
        issued = api_keys.create_api_key(wiring.uow(), name=name, role=role, clinic_ids=clinics,
                                         expires_at=expiry, actor=CLI, now=now)
    except ValidationFailed as exc:
        messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
        raise click.ClickException(messages) from None
    key = issued.api_key
    scope = ",".join(key.clinic_ids) or ("all" if key.all_clinics else "none")
    expiry_note = f" expires={_at(key.expires_at)}" if key.expires_at else ""
    click.echo(f"created {key.id} role={key.role} clinics={scope}{expiry_note}")
    click.echo(issued.secret)


def _at(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"


@apikey.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include revoked and expired keys.")
def list_keys(show_all: bool) -> None:
    """List keys (never their secrets): id, name, role, clinics, created, expires, last used."""
    wiring = cadence()
    now = wiring.now()
    click.echo("id\tname\trole\tclinics\tprefix\tcreated\texpires\tlast_used\tstatus")
    cursor = None
    while True:
        page = api_keys.list_api_keys(wiring.uow(), limit=200, cursor=cursor)
        for key in page.items:
            status = ("revoked" if key.revoked_at else
                      "expired" if key.expires_at and key.expires_at <= now else "live")
            if status != "live" and not show_all:
                continue
            click.echo("\t".join((key.id, key.name, key.role, ",".join(key.clinic_ids) or "all",
                                  key.prefix, _at(key.created_at), _at(key.expires_at),
                                  _at(key.last_used_at), status)))
        cursor = page.next_cursor
        if cursor is None:
            return


@apikey.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke a key at once (revoking twice is harmless)."""
    wiring = cadence()
    try:
        key = api_keys.revoke_api_key(wiring.uow(), key_id, actor=CLI, now=wiring.now())
    except NotFound:
        raise click.ClickException(f"no API key {key_id}") from None
    click.echo(f"revoked {key.id} at {_at(key.revoked_at)}")


def init_app(app: Flask) -> None:
    app.cli.add_command(db)
    app.cli.add_command(apikey)
