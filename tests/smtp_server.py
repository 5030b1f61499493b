"""A real SMTP server (aiosmtpd) on a free local port, started by the tests.

``smtp_server`` starts one and points the app at it (``SMTP_URL``); its
``messages`` are what arrived, parsed. ``refuse`` makes it refuse an address
for good (550) and ``fail_next`` answer the next messages with 451.
"""
from __future__ import annotations

import email
import re
import socket
import time
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()
        self.failures = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.failures:
            self.failures -= 1
            return "451 4.3.0 Try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted"

    # What tests ask ------------------------------------------------------------

    def refuse(self, address: str) -> None:
        self.refused.add(address.lower())

    def fail_next(self, count: int = 1) -> None:
        self.failures = count

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages

    def clear(self) -> None:
        self.messages.clear()


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def links_in(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", text_of(message))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox():
    """A running SMTP server on 127.0.0.1; its Mailbox (``.url`` is the KB_SMTP_URL)."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.url = f"smtp://127.0.0.1:{controller.port}?starttls=off"
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def smtp_app(app, mailbox):
    """The app sending its mail to ``mailbox``."""
    app.config["SMTP_URL"] = mailbox.url
    return app


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    import subprocess

    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_mailbox(certificate):
    """SMTP servers needing TLS: ``.starttls_url`` (STARTTLS required) and
    ``.tls_url`` (TLS from the start) deliver into one Mailbox; ``.ca_file``
    is the certificate to trust."""
    import ssl


    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    box = Mailbox()
    starttls = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True)
    implicit = Controller(box, hostname="127.0.0.1", port=free_port(), ssl_context=context)
    starttls.start()
    implicit.start()
    box.starttls_url = f"smtp://127.0.0.1:{starttls.port}"
    box.tls_url = f"smtps://127.0.0.1:{implicit.port}"
    box.ca_file = str(cert)
    try:
        yield box
    finally:
        starttls.stop()
        implicit.stop()
