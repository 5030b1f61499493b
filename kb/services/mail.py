"""Email: a message is composed from templates (a plain-text and an HTML part)
and written to the outbox in the transaction that caused it; after commit it
is sent, and a send that fails is retried later (``deliver``), so a mail
server that is down never fails what the person was doing.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email import message_from_string
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, or_, select, update

from kb import mail, unit_of_work
from kb.extensions import db
from kb.models import OutboxMessage, User
from kb.models.base import utcnow

log = logging.getLogger(__name__)

# Minutes to wait after each failed attempt; after the last the message is given up.
RETRY_MINUTES = (1, 5, 15, 60, 180, 720, 1440)
CLAIM = timedelta(minutes=10)


def aware(value: datetime | None) -> datetime | None:
    """``value`` with a time zone (SQLite keeps none; every time here is UTC)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


# Links --------------------------------------------------------------------------

def external_url(endpoint: str, **values) -> str:
    """The full address of a page, starting with ``BASE_URL`` (never the
    request's Host header, which a stranger could choose)."""
    base = urlsplit(current_app.config.get("BASE_URL") or "http://127.0.0.1:5000")
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path.rstrip("/") or "/",
                                       url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="kb-unsubscribe")


def unsubscribe_token(user: User, kind: str, saved_search_id: int | None = None) -> str:
    """A signed token that turns off one kind of email for one person, without signing in."""
    payload = {"u": user.id, "k": kind}
    if saved_search_id is not None:
        payload["s"] = saved_search_id
    return _unsubscribe_serializer().dumps(payload)


def read_unsubscribe_token(token: str) -> dict | None:
    """``{"u": user id, "k": kind, "s": saved search id}``, or None if the token was not ours."""
    try:
        payload = _unsubscribe_serializer().loads(token or "")
    except BadSignature:
        return None
    return payload if isinstance(payload, dict) and "u" in payload and "k" in payload else None


# Composing and queueing -----------------------------------------------------------

def _render(name: str, context: dict) -> str:
    # Straight from the environment: no request, so none of the page context processors.
    return current_app.jinja_env.get_template(name).render(**context)


def compose(to: str, subject: str, template: str, *, unsubscribe_url: str | None = None,
            **context) -> EmailMessage:
    """A message with a plain-text and an HTML part from ``email/<template>.txt``
    and ``.html``; its subject ends with the service's name."""
    config = current_app.config
    service = config["SERVICE_NAME"]
    context = {"service_name": service, "home_url": external_url("public.home"),
               "preferences_url": external_url("emails.preferences"),
               "unsubscribe_url": unsubscribe_url, "subject": subject, **context}
    message = EmailMessage(policy=SMTP)
    message["Subject"] = f"{subject} - {service}"
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_render(f"email/{template}.txt", context))
    message.add_alternative(_render(f"email/{template}.html", context), subtype="html")
    return message


def queue(kind: str, to: str, subject: str, template: str, *, user: User | None = None,
          unsubscribe_url: str | None = None, **context) -> OutboxMessage:
    """Write a message to the outbox in the current transaction; it is sent after commit."""
    message = compose(to, subject, template, unsubscribe_url=unsubscribe_url, **context)
    row = OutboxMessage(kind=kind, user_id=getattr(user, "id", None), to_address=to, subject=subject[:300],
                        message=message.as_string(), status="pending", attempts=0, last_error="",
                        next_attempt_at=utcnow())
    db.session.add(row)
    db.session.flush()
    unit_of_work.queue_mail(db.session, row.id)
    return row


def queue_for(user: User, kind: str, subject: str, template: str, *, unsubscribe: bool = False,
              saved_search_id: int | None = None, **context) -> OutboxMessage:
    """Queue a message to a person, with a one-click unsubscribe link if it is an
    alert or a notification."""
    url = None
    if unsubscribe:
        url = external_url("emails.unsubscribe", token=unsubscribe_token(user, kind, saved_search_id))
    return queue(kind, user.email, subject, template, user=user, unsubscribe_url=url, user_name=user.display_name,
                 **context)


# Delivering ----------------------------------------------------------------------

def _claim(message_id: int, now: datetime) -> bool:
    """Hold a message for this process; False if another one holds it or it is done."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending",
               or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
        .values(claimed_until=now + CLAIM)
    )
    db.session.commit()
    return result.rowcount == 1


def _due_ids(now: datetime, limit: int | None) -> list[int]:
    query = (select(OutboxMessage.id)
             .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
             .order_by(OutboxMessage.id))
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def record_bounce(user: User, reason: str) -> None:
    """The address refused mail: alerts and notifications to it stop."""
    user.email_bounced_at = utcnow()
    user.email_bounce_reason = (reason or "")[:500]


def deliver(app, ids: list[int] | None = None, limit: int | None = None) -> dict[str, int]:
    """Send due messages from the outbox (or just ``ids``), committing after each.

    Returns counts of ``sent``, ``retry`` (will be tried again), ``failed``
    (given up) and ``refused`` (the server refused the address; recorded on the person).
    """
    counts = {"sent": 0, "retry": 0, "failed": 0, "refused": 0}
    now = utcnow()
    for message_id in (ids if ids is not None else _due_ids(now, limit)):
        if not _claim(message_id, now):
            continue
        row = db.session.get(OutboxMessage, message_id)
        message = message_from_string(row.message, _class=EmailMessage, policy=SMTP)
        row.attempts += 1
        row.claimed_until = None
        try:
            mail.send(app.config, message, f"{utcnow():%Y%m%d-%H%M%S}-{row.id:06d}-{row.kind}")
        except mail.Refused as exc:
            row.status, row.last_error = "refused", str(exc)[:2000]
            if row.user is not None:
                record_bounce(row.user, str(exc))
            counts["refused"] += 1
        except mail.SendFailed as exc:
            row.last_error = str(exc)[:2000]
            if row.attempts > len(RETRY_MINUTES):
                row.status = "failed"
                counts["failed"] += 1
            else:
                row.next_attempt_at = utcnow() + timedelta(minutes=RETRY_MINUTES[row.attempts - 1])
                counts["retry"] += 1
            log.warning("Sending message %s to %s failed (attempt %s): %s", row.id, row.to_address,
                        row.attempts, exc)
        else:
            row.status, row.sent_at, row.last_error = "sent", utcnow(), ""
            counts["sent"] += 1
        db.session.commit()
    return counts


def prune(keep_days: int) -> int:
    """Delete the messages done with (sent, given up or refused) more than
    ``keep_days`` days ago: they hold whole messages, sign-in and reset links
    among them, and nothing reads them once done. Pending ones stay, whatever
    their age. Returns how many went; the caller commits."""
    cutoff = utcnow() - timedelta(days=keep_days)
    return db.session.execute(
        delete(OutboxMessage).where(OutboxMessage.status != "pending", OutboxMessage.created_at < cutoff)
        .execution_options(synchronize_session="fetch")
    ).rowcount


def deliver_quietly(app, ids: list[int]) -> None:
    """Send what a request queued, right after its commit; failures wait in the
    outbox for ``kb alerts send`` (or ``kb mail send``) to try again."""
    try:
        deliver(app, ids)
    except Exception:  # the person's action succeeded; the outbox keeps the message
        log.exception("Delivering queued mail failed; it stays in the outbox")
        db.session.rollback()
