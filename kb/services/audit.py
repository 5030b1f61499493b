from kb.extensions import db
from kb.models import AuditEvent


def record_event(actor, action: str, target, detail: dict | None = None) -> AuditEvent:
    """Append an audit event for ``action`` by ``actor`` on ``target`` (a model or None)."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=getattr(target, "id", None),
        target_label=_label(target),
        detail=detail or {},
    )
    db.session.add(event)
    return event


def _label(target) -> str:
    for attr in ("title", "name", "email"):
        value = getattr(target, attr, None)
        if value:
            return str(value)[:300]
    return ""
