"""Handing a finished message to the mail server, or to a file in development.

``KB_SMTP_URL`` chooses the server: ``smtp://user:password@host:port`` speaks
STARTTLS (port 587 by default), ``smtps://...`` TLS from the start (port 465).
``?starttls=off`` on an ``smtp://`` address skips STARTTLS, for a relay on
this machine only. The server's certificate is checked against the system's
authorities, or ``KB_SMTP_CA_FILE``. Without ``KB_SMTP_URL`` each message is written as an
``.eml`` file to ``instance/mail/``.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT = 20


class SendFailed(Exception):
    """The message did not go; worth trying again later."""


class Refused(Exception):
    """The server refused the recipient's address for good: do not try again."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # "tls", "starttls" or "none"
    username: str = ""
    password: str = ""


def parse_smtp_url(url: str) -> SmtpSettings:
    """The settings in ``KB_SMTP_URL``. :raise ValueError: for another scheme or no host."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("KB_SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465")
    options = parse_qs(parts.query)
    if parts.scheme == "smtps":
        tls, port = "tls", 465
    else:
        tls, port = "starttls", 587
        if options.get("starttls", [""])[0].lower() in ("off", "no", "false", "0"):
            tls = "none"
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or port,
        tls=tls,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def describe(config) -> str:
    """One line saying where mail goes, for the start of ``kb serve`` and the logs."""
    url = config.get("SMTP_URL")
    if url:
        settings = parse_smtp_url(url)
        return f"Mail is sent through {settings.host}:{settings.port} ({settings.tls})."
    return f"KB_SMTP_URL is not set: mail is written as .eml files to {mail_folder(config)}"


def mail_folder(config) -> Path:
    return Path(config["MAIL_FOLDER"])


def send(config, message: EmailMessage, name: str) -> None:
    """Send one message, or write it to the mail folder when there is no server.

    :raise Refused: when the server refuses every recipient for good (5xx).
    :raise SendFailed: for anything worth trying again (no connection, 4xx, timeouts).
    """
    url = config.get("SMTP_URL")
    if not url:
        folder = mail_folder(config)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(bytes(message))
        temporary.replace(path)
        return
    settings = parse_smtp_url(url)
    try:
        _send_smtp(settings, message, config.get("SMTP_CA_FILE") or None)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            raise Refused("; ".join(f"{code} {text.decode(errors='replace')}" for code, text in exc.recipients.values())) from exc
        raise SendFailed(str(exc)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"{type(exc).__name__}: {exc}") from exc


def _send_smtp(settings: SmtpSettings, message: EmailMessage, cafile: str | None = None) -> None:
    # The server's certificate is always checked: against the system's authorities,
    # or those in KB_SMTP_CA_FILE for a relay with a private one.
    context = ssl.create_default_context(cafile=cafile)
    if settings.tls == "tls":
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
    with client:
        if settings.tls == "starttls":
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password)
        client.send_message(message)
