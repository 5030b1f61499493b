"""Mail in browser tests: the live app writes each message as an .eml file
(no KB_SMTP_URL), with links to the live server; these read them."""
from __future__ import annotations

import email
import re
from email.policy import default
from pathlib import Path


def messages_to(app, address: str) -> list:
    folder = Path(app.config["MAIL_FOLDER"])
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        if address.lower() in message["To"].lower():
            found.append(message)
    return found


def link_in(message, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    [link] = [url for url in re.findall(r"https?://[^\s<>\"]+", text) if path in url]
    return link
