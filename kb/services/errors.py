"""The domain errors now live in kb/errors.py (below policy); this name stays
for code written against the old place and goes once nothing imports it."""
from kb.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

__all__ = ["Conflict", "DomainError", "Forbidden", "Invalid", "NotFound"]
