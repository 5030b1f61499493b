"""The ``kb`` command: thin wrappers over services, one commit per command,
one module per command group."""
from __future__ import annotations

import click
from flask.cli import FlaskGroup

from kb.cli import accounts, database, index, mail, server, suggest, transfer


def _create_app():
    from kb import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """kb: a knowledge base of public-sector innovation stories."""


for command in (database.init, database.seed, server.serve, accounts.users_group, index.index_group,
                transfer.import_command, transfer.export_command, mail.mail_group,
                mail.alerts_group, suggest.suggest_group):
    main.add_command(command)
