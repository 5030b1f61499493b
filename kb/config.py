"""Settings: defaults < instance/config.py < KB_* environment variables < test dict."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


MIN_SECRET_BYTES = 32


class ConfigError(RuntimeError):
    """The settings cannot run the app (for example, no secret key in production)."""


def instance_path() -> Path:
    """The runtime folder: ``KB_INSTANCE_PATH`` or ``./instance``."""
    return Path(os.environ.get("KB_INSTANCE_PATH", "instance")).resolve()


def defaults(instance: Path) -> dict:
    return {
        "ENV_NAME": "development",
        "SECRET_KEY": "dev-only-not-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'kb.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "INDEX_DIR": str(instance / "index"),
        "UPLOAD_DIR": str(instance / "uploads"),
        "MAX_UPLOAD_BYTES": 20 * 1024 * 1024,
        # PDF text is extracted in a child process with these limits; past them
        # the file is kept with text_status "over_limits".
        "PDF_CPU_SECONDS": 10,
        "PDF_MEMORY_BYTES": 1024 * 1024 * 1024,
        "PDF_WALL_SECONDS": 30,
        # Several files of 20 MB may come in one form.
        "MAX_CONTENT_LENGTH": 110 * 1024 * 1024,
        "PAGE_SIZE": 20,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        "SIGN_IN_LIMIT": "10 per 15 minutes",
        # Failed sign-ins from one address (an office may share one, so higher than per account).
        "SIGN_IN_ADDRESS_LIMIT": "50 per 15 minutes",
        # Registrations (successful or not) from one address.
        "REGISTER_ADDRESS_LIMIT": "20 per hour",
        # Password reset links asked for one email address, and from one network address.
        "PASSWORD_RESET_LIMIT": "5 per hour",
        "PASSWORD_RESET_ADDRESS_LIMIT": "20 per hour",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "INDEX_WRITE_TIMEOUT": 30.0,
        # A request (a save, or a search finding the index behind) waits this long for the
        # index's write lock; past it the change waits in the log for the holder's next sync.
        "INDEX_REQUEST_WAIT": 0.5,
        # A running upload import writes its progress and a heartbeat this often; a job whose
        # heartbeat is older than IMPORT_STALE_SECONDS lost its process and is shown as failed.
        "IMPORT_HEARTBEAT_SECONDS": 2.0,
        "IMPORT_STALE_SECONDS": 60.0,
        # Email: without SMTP_URL messages are written to MAIL_FOLDER as .eml files.
        "SMTP_URL": "",
        "SMTP_CA_FILE": "",
        "MAIL_FROM": "kb <kb@localhost>",
        "MAIL_FOLDER": str(instance / "mail"),
        # Messages done with are deleted from the outbox after this many days (by kb mail send).
        "MAIL_KEEP_DAYS": 30,
        "SERVICE_NAME": "kb",
        # The address links in emails start with; in a request without it, the request's own.
        "BASE_URL": "",
        # Seconds of CPU time one search may use before it returns what it has.
        "SEARCH_CPU_BUDGET": 0.8,
        # Costly searches (wildcards, ranges, very long text) running at once on a node; more get a 429 page.
        "SEARCH_COSTLY_SLOTS": 1,
        # Long search texts kept for their links' keys (each at most 10,000 characters).
        "SEARCH_TEXTS_KEEP": 20_000,
    }


ENV_SETTINGS = {
    "KB_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "KB_SECRET_KEY": "SECRET_KEY",
    "KB_ENV": "ENV_NAME",
    "KB_INDEX_DIR": "INDEX_DIR",
    "KB_UPLOAD_DIR": "UPLOAD_DIR",
    "KB_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "KB_SMTP_URL": "SMTP_URL",
    "KB_SMTP_CA_FILE": "SMTP_CA_FILE",
    "KB_MAIL_FROM": "MAIL_FROM",
    "KB_BASE_URL": "BASE_URL",
    "KB_MAIL_KEEP_DAYS": "MAIL_KEEP_DAYS",
}


def load(app, overrides: dict | None = None) -> None:
    """Fill ``app.config`` in order of precedence and check it can run."""
    instance = Path(app.instance_path)
    app.config.update(defaults(instance))
    app.config.from_pyfile("config.py", silent=True)
    for env_name, key in ENV_SETTINGS.items():
        if os.environ.get(env_name):
            app.config[key] = os.environ[env_name]
    if overrides:
        app.config.update(overrides)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we install.
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url[len("postgresql://"):]
    app.config["MAIL_KEEP_DAYS"] = _whole_days(app.config["MAIL_KEEP_DAYS"], "KB_MAIL_KEEP_DAYS")
    if app.config["ENV_NAME"] == "production":
        _check_production(app.config)


def _whole_days(value, name: str) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = 0
    if days < 1:
        raise ConfigError(f"{name} must be a whole number of days, 1 or more (it is {value!r}): for example {name}=30")
    return days


def _check_production(config) -> None:
    secret = os.environ.get("KB_SECRET_KEY") or config.get("SECRET_KEY")
    if not secret or secret == "dev-only-not-secret" or len(str(secret).encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"KB_SECRET_KEY must be set to at least {MIN_SECRET_BYTES} bytes when KB_ENV=production: "
            "for example KB_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    config["SESSION_COOKIE_SECURE"] = True
    config["REMEMBER_COOKIE_SECURE"] = True
