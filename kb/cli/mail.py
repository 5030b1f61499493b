"""``kb mail`` and ``kb alerts``: thin wrappers over the outbox and the alerts."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from kb import database, mail
from kb.extensions import db
from kb.services import mail as mail_service
from kb.services import users


@click.group("mail")
def mail_group():
    """Email: the outbox, a test message, addresses that refuse mail."""


@mail_group.command("send")
@with_appcontext
def mail_send():
    """Send every message due in the outbox (new ones and failed ones due a retry)."""
    click.echo(mail.describe(current_app.config))
    _deliver_and_prune()


@mail_group.command("test")
@click.argument("address")
@with_appcontext
def mail_test(address: str):
    """Send a test message to ADDRESS now; exit 1 if it does not go."""
    click.echo(mail.describe(current_app.config))
    row = mail_service.queue("test", address, "Test message", "test")
    database.commit(current_app)  # sends it
    db.session.refresh(row)
    if row.status != "sent":
        click.echo(f"Error: the message was not sent: {row.last_error}", err=True)
        sys.exit(1)
    click.echo(f"Sent a test message to {address}.")


@mail_group.command("bounce")
@click.argument("address")
@click.option("--reason", default="Bounced", show_default=True)
@with_appcontext
def mail_bounce(address: str, reason: str):
    """Record that mail to ADDRESS bounced: alerts and notifications to it stop."""
    user = users.get_user_by_email(address)
    if user is None:
        click.echo(f"Error: no account has the address {address}.", err=True)
        sys.exit(1)
    mail_service.record_bounce(user, reason)
    database.commit(current_app)
    click.echo(f"Recorded: mail to {user.email} bounced ({reason}).")


def _deliver_and_prune() -> None:
    """Send what is due, then delete the messages done with more than MAIL_KEEP_DAYS ago."""
    counts = mail_service.deliver(current_app)
    keep_days = current_app.config["MAIL_KEEP_DAYS"]
    pruned = mail_service.prune(keep_days)
    database.commit(current_app)
    click.echo(f"Mail: {counts['sent']} sent, {counts['retry']} to retry later, "
               f"{counts['refused']} refused, {counts['failed']} given up; "
               f"{pruned} done with over {keep_days} days ago deleted from the outbox.")


@click.group("alerts")
def alerts_group():
    """Email alerts of saved searches and curators' digests."""


@alerts_group.command("send")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send and record nothing.")
@with_appcontext
def alerts_send(dry_run: bool):
    """Send due alerts of saved searches, curators' daily digests, and the outbox.

    Safe to run as often as you like (from cron, every few minutes): each new
    story goes at most once to each saved search, and a run that was stopped
    resumes where it left off.
    """
    from kb import search
    from kb.services import alerts, notifications

    search.sync_quietly(current_app)
    commit = lambda: database.commit(current_app)  # noqa: E731  (one unit of work per alert)
    run = alerts.send_alerts(commit, dry_run=dry_run)
    digests = notifications.send_digests(commit, dry_run=dry_run)
    verb = "Would send" if dry_run else "Queued"
    for address, name, count in run.sent:
        click.echo(f"{verb} an alert to {address}: {count} new {'story' if count == 1 else 'stories'} for “{name}”.")
    for address, count in digests:
        click.echo(f"{verb} a digest to {address}: {count} {'story' if count == 1 else 'stories'} to review.")
    click.echo(f"Saved searches due: {run.checked}; alerts: {len(run.sent)}; digests: {len(digests)}.")
    if not dry_run:
        _deliver_and_prune()
