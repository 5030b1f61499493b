"""Email delivery: the outbox, a real SMTP server, .eml files without one, retries, refusals."""
from __future__ import annotations

from datetime import timedelta

import pytest
from smtp_server import html_of, text_of

from kb import database, mail
from kb.extensions import db
from kb.models import OutboxMessage
from kb.models.base import utcnow
from kb.services import mail as mail_service


def queue_test_message(app, to="reader@example.org", user=None):
    row = mail_service.queue("test", to, "Test message", "test", user=user)
    database.commit(app)
    return db.session.get(OutboxMessage, row.id)


def test_a_queued_message_is_sent_after_commit_with_text_and_html_parts(smtp_app, mailbox):
    row = queue_test_message(smtp_app)

    [message] = mailbox.wait_for(1)
    assert message["To"] == "reader@example.org"
    assert message["From"] == "kb <kb@localhost>"
    assert message["Subject"] == "Test message - kb"
    assert "mail is working" in text_of(message)
    assert "<p>This is a test message from kb." in html_of(message)
    assert "http://localhost/" in text_of(message)
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("sent", 1)


def test_nothing_is_sent_when_the_transaction_rolls_back(smtp_app, mailbox):
    mail_service.queue("test", "reader@example.org", "Test message", "test")
    database.rollback()
    database.commit(smtp_app)
    assert mailbox.messages == []
    assert db.session.query(OutboxMessage).count() == 0


def test_without_an_smtp_server_messages_are_written_as_eml_files(app, tmp_path):
    app.config["SMTP_URL"] = ""
    queue_test_message(app)

    [path] = list((tmp_path / "instance" / "mail").glob("*.eml"))
    content = path.read_text()
    assert "Subject: Test message - kb" in content
    assert "To: reader@example.org" in content
    assert "KB_SMTP_URL is not set" in mail.describe(app.config)


def test_a_failed_send_is_retried_later_from_the_outbox(smtp_app, mailbox):
    mailbox.fail_next(1)
    row = queue_test_message(smtp_app)

    db.session.refresh(row)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "451" in row.last_error
    assert mailbox.messages == []
    # Not due yet: a run now sends nothing.
    assert mail_service.deliver(smtp_app)["sent"] == 0

    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    database.commit(smtp_app)
    assert mail_service.deliver(smtp_app) == {"sent": 1, "retry": 0, "failed": 0, "refused": 0}
    assert len(mailbox.messages) == 1
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_message_is_kept_when_the_server_is_down_and_sent_when_it_is_back(app, mailbox):
    from smtp_server import free_port

    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}?starttls=off"  # nobody listens there
    row = queue_test_message(app)
    db.session.refresh(row)
    assert row.status == "pending" and row.attempts == 1

    app.config["SMTP_URL"] = mailbox.url
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    database.commit(app)
    assert mail_service.deliver(app)["sent"] == 1
    assert mailbox.to("reader@example.org")


def test_a_message_is_given_up_after_the_last_retry(smtp_app, mailbox):
    mailbox.fail_next(len(mail_service.RETRY_MINUTES) + 1)
    row = queue_test_message(smtp_app)
    for _ in mail_service.RETRY_MINUTES:
        db.session.refresh(row)
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        database.commit(smtp_app)
        mail_service.deliver(smtp_app)
    db.session.refresh(row)
    assert row.status == "failed"
    assert row.attempts == len(mail_service.RETRY_MINUTES) + 1


def test_an_address_the_server_refuses_is_recorded_and_not_retried(smtp_app, mailbox, make_user):
    user = make_user(email="gone@example.org")
    mailbox.refuse("gone@example.org")
    row = queue_test_message(smtp_app, to=user.email, user=user)

    db.session.refresh(row)
    db.session.refresh(user)
    assert row.status == "refused"
    assert user.email_bounced_at is not None
    assert "550" in user.email_bounce_reason


def test_a_message_claimed_by_another_process_is_not_sent_twice(smtp_app, mailbox):
    row = mail_service.queue("test", "reader@example.org", "Test message", "test")
    db.session.commit()  # committed without delivering, as if a request had died
    row.claimed_until = utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert mail_service.deliver(smtp_app)["sent"] == 0
    assert mailbox.messages == []


def test_kb_mail_test_sends_a_message_now(smtp_app, mailbox, cli):
    result = cli("mail", "test", "ops@example.org")
    assert result.exit_code == 0, result.output
    assert "Sent a test message" in result.output
    assert mailbox.to("ops@example.org")


@pytest.mark.parametrize("url, expected", [
    ("smtp://user:p%40ss@mail.example.org", mail.SmtpSettings("mail.example.org", 587, "starttls", "user", "p@ss")),
    ("smtps://mail.example.org", mail.SmtpSettings("mail.example.org", 465, "tls")),
    ("smtp://127.0.0.1:2525?starttls=off", mail.SmtpSettings("127.0.0.1", 2525, "none")),
])
def test_the_smtp_url_chooses_host_port_tls_and_login(url, expected):
    assert mail.parse_smtp_url(url) == expected


def test_an_smtp_url_of_another_scheme_is_refused():
    with pytest.raises(ValueError):
        mail.parse_smtp_url("http://mail.example.org")


@pytest.mark.parametrize("scheme", ["starttls_url", "tls_url"])
def test_mail_goes_over_tls_to_a_server_whose_certificate_is_trusted(app, tls_mailbox, scheme):
    app.config["SMTP_URL"] = getattr(tls_mailbox, scheme)
    app.config["SMTP_CA_FILE"] = tls_mailbox.ca_file
    row = queue_test_message(app)
    db.session.refresh(row)
    assert row.status == "sent", row.last_error
    assert tls_mailbox.wait_for(1)


def test_a_server_certificate_nobody_vouches_for_is_refused(app, tls_mailbox):
    app.config["SMTP_URL"] = tls_mailbox.starttls_url
    row = queue_test_message(app)
    db.session.refresh(row)
    assert row.status == "pending"
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert tls_mailbox.messages == []


def test_kb_mail_send_deletes_messages_done_with_after_the_days_kept_and_keeps_pending_ones(smtp_app, mailbox, cli):
    old = utcnow() - timedelta(days=smtp_app.config["MAIL_KEEP_DAYS"] + 1)
    rows = {}
    for name, status, created in [("old sent", "sent", old), ("old refused", "refused", old),
                                  ("old pending", "pending", old), ("new sent", "sent", utcnow())]:
        row = mail_service.queue("test", f"{name.replace(' ', '-')}@example.org", name, "test")
        row.status, row.created_at = status, created
        if status == "pending":
            row.claimed_until = utcnow() + timedelta(minutes=5)  # held by another sender: not sent here
        rows[name] = row
    db.session.commit()
    ids = {name: row.id for name, row in rows.items()}

    result = cli("mail", "send")

    assert result.exit_code == 0, result.output
    assert "2 done with over 30 days ago deleted from the outbox" in result.output
    kept = set(db.session.scalars(db.select(OutboxMessage.subject)))
    assert kept == {"old pending", "new sent"}
    assert db.session.get(OutboxMessage, ids["old sent"]) is None


@pytest.mark.parametrize("value", ["0", "thirty", "-3"])
def test_days_kept_that_are_not_a_whole_number_of_days_are_refused_at_start(tmp_path, monkeypatch, value):
    from kb import create_app
    from kb.config import ConfigError

    monkeypatch.setenv("KB_MAIL_KEEP_DAYS", value)
    with pytest.raises(ConfigError, match="KB_MAIL_KEEP_DAYS must be a whole number of days"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_days_kept_come_from_the_environment(tmp_path, monkeypatch):
    from kb import create_app

    monkeypatch.setenv("KB_MAIL_KEEP_DAYS", "7")
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["MAIL_KEEP_DAYS"] == 7
