"""``kb users``: manage accounts."""
from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from kb import database
from kb.cli.common import fail
from kb.errors import DomainError
from kb.policy import SYSTEM
from kb.services import users


@click.group("users")
def users_group():
    """Manage accounts."""


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["contributor", "curator", "admin"]), default="contributor", show_default=True)
@click.option("--name", "display_name", default="", help="Display name (default: the part of the email before @).")
@with_appcontext
def users_create(email: str, role: str, display_name: str):
    """Create an account; the password comes from KB_PASSWORD or a prompt."""
    password = os.environ.get("KB_PASSWORD") or click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.create_user(SYSTEM, email, password, display_name=display_name, role=role)
    except DomainError as exc:
        fail("; ".join(exc.errors.values()) or exc.message)
    database.commit(current_app)
    click.echo(f"Created {user.role} {user.email}.")
