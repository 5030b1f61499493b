"""Domain errors, raised by policy and services. The web layer turns each
into a page or the one JSON error shape."""


class DomainError(Exception):
    status = 400
    title = ""  # the page's heading, when not the status's usual one
    headers: dict[str, str] = {}

    def __init__(self, message: str = "", errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Invalid(DomainError):
    """The input cannot be accepted; ``errors`` maps each field name to its message."""

    status = 422


class Conflict(DomainError):
    status = 409


class Unavailable(DomainError):
    """A part the request needs cannot work now (the search index cannot be read)."""

    status = 503


class Busy(DomainError):
    """Too many requests of this kind at once: try again shortly (429)."""

    status = 429
    title = "The service is busy"
    headers = {"Retry-After": "30"}
