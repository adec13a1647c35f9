"""Command line: `flask --app wsgi db upgrade` and `flask --app wsgi apikey create`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from api.context import cadence
from scheduler import schema
from scheduler.errors import ValidationFailed
from scheduler.services import api_keys
from scheduler.services.common import Actor

db = AppGroup("db", help="Database schema.")
apikey = AppGroup("apikey", help="API keys.")


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Bring the database to the current schema."""
    schema.upgrade(cadence().engine, revision)
    click.echo(f"database at {schema.current_revision(cadence().engine)}")


@db.command("current")
def current() -> None:
    """Print the database's schema revision and the code's head."""
    engine = cadence().engine
    click.echo(f"current={schema.current_revision(engine)} head={schema.head_revision()}")


@apikey.command("create")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in api_keys.Role]))
@click.option("--clinic", "clinics", multiple=True, help="Clinic id (repeatable).")
def create(name: str, role: str, clinics: tuple[str, ...]) -> None:
    """Issue an API key; the key alone is printed on the last line."""
    wiring = cadence()
    try:
        issued = api_keys.create_api_key(wiring.uow(), name=name, role=role, clinic_ids=clinics,
                                         actor=Actor(key_id=None, name="cli"), now=wiring.now())
    except ValidationFailed as exc:
        messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
        raise click.ClickException(messages) from None
    key = issued.api_key
    scope = ",".join(key.clinic_ids) or ("all" if key.all_clinics else "none")
    click.echo(f"created {key.id} role={key.role} clinics={scope}")
    click.echo(issued.secret)


def init_app(app: Flask) -> None:
    app.cli.add_command(db)
    app.cli.add_command(apikey)
