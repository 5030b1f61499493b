"""Accounts: create, authenticate, roles."""
from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from kb import policy
from kb.errors import Invalid
from kb.extensions import db
from kb.models import ROLES, User
from kb.models.base import utcnow
from kb.services.audit import record_event
from kb.services.fetch import by_id

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "passwords" / "common.txt"
_hasher = PasswordHasher()


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The list of passwords too common to allow, lower case."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why ``password`` cannot be used, or None if it can."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be {MIN_PASSWORD_LENGTH} characters or more."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer."
    folded = password.strip().lower()
    if folded in common_passwords() or len(set(folded)) < 3:
        return "Password is too common: choose one that would be hard to guess, such as three random words."
    if email and folded in (normalise_email(email), normalise_email(email).split("@")[0]):
        return "Password must not be your email address."
    return None


def check_password_strength(password: str, field: str = "password", *, email: str = "") -> None:
    """Raise Invalid({field: message}) if the password is too short, too long or too common."""
    message = password_problem(password, email=email)
    if message:
        raise Invalid(message, {field: message})


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_user(actor, email: str, password: str, *, display_name: str = "", role: str = "contributor") -> User:
    """A new account. Anyone may register as a contributor; other roles need an admin.

    An account an admin (or the operator) creates has a confirmed address; one
    people create for themselves is confirmed by the link emailed to them
    (``services.accounts.register``).
    """
    policy.require(policy.can_create_user(actor, role), "Only admins can create curators and admins.")
    errors = {}
    email = normalise_email(email)
    if "@" not in email or len(email) > 320:
        errors["email"] = "Enter an email address in the correct format, like name@example.org"
    elif get_user_by_email(email) is not None:
        errors["email"] = "An account with this email address already exists."
    if role not in ROLES:
        errors["role"] = f"Role must be one of {', '.join(ROLES)}."
    try:
        check_password_strength(password, email=email)
    except Invalid as exc:
        errors.update(exc.errors)
    if errors:
        raise Invalid("There is a problem with the account.", errors)
    user = User(
        email=email,
        display_name=(display_name or "").strip()[:200] or email.split("@")[0],
        password_hash=_hasher.hash(password),
        role=role,
        active=True,
        session_token=secrets.token_hex(16),
        email_confirmed_at=utcnow() if policy.vouches_for_email(actor) else None,
        email_preferences={},
        email_bounce_reason="",
    )
    db.session.add(user)
    db.session.flush()
    if role != "contributor" or policy.is_curator(actor):
        record_event(actor, "create_user", user, {"role": role})
    return user


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def spend_hash_time(password: str) -> None:
    """Spend the time a real password check takes, so timing does not reveal accounts."""
    _hasher.hash(password or "")


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = get_user_by_email(email)
    if user is None:
        spend_hash_time(password)
        return None
    if not verify_password(user, password) or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def set_password(actor, user: User, password: str) -> None:
    """Set a new password and end every other session of ``user``.

    :raise Forbidden: unless the actor is the user or an admin.
    :raise Invalid: if the password is too weak.
    """
    policy.require(policy.can_set_password(actor, user))
    check_password_strength(password, email=user.email)
    user.password_hash = _hasher.hash(password)
    user.session_token = secrets.token_hex(16)


def change_password(actor, current_password: str, new_password: str) -> User:
    """The signed-in user changes their own password, proving they know the current one.

    Every other session and remember-me cookie of theirs stops working.

    :raise Forbidden: if nobody is signed in.
    :raise Invalid: with ``current_password`` or ``new_password`` errors.
    """
    policy.require(policy.can_manage_own_account(actor), "Sign in to change your password.")
    user = db.session.get(User, actor.id)
    errors = {}
    if not verify_password(user, current_password):
        errors["current_password"] = "Your current password is not right."
    problem = password_problem(new_password, email=user.email)
    if problem:
        errors["new_password"] = problem
    elif new_password == current_password:
        errors["new_password"] = "Your new password must be different from your current one."
    if errors:
        raise Invalid("There is a problem with the password.", errors)
    set_password(actor, user, new_password)
    record_event(actor, "change_password", user)
    return user


def end_sessions(actor) -> None:
    """Sign the person out: every copy of their session cookies and remember-me
    cookies stops working at the next request, on every worker and node (the
    session id carries ``session_token``, checked against the database by ``load_user``).

    :raise Forbidden: if nobody is signed in.
    """
    policy.require(policy.can_manage_own_account(actor), "Sign in to sign out.")
    user = db.session.get(User, actor.id)
    user.session_token = secrets.token_hex(16)


def update_account(actor, display_name: str) -> User:
    """The signed-in user changes the name shown with their stories.

    :raise Invalid: if the name is empty or longer than 200 characters.
    """
    policy.require(policy.can_manage_own_account(actor), "Sign in to change your account.")
    name = " ".join((display_name or "").split())
    if not name or len(name) > 200:
        message = "Enter your name, in 200 characters or fewer."
        raise Invalid(message, {"display_name": message})
    user = db.session.get(User, actor.id)
    user.display_name = name
    return user


def load_user(user_id: str) -> User | None:
    """The user a session refers to, if the session is still valid."""
    try:
        raw_id, token = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or not secrets.compare_digest(user.session_token, token):
        return None
    return user


# Administration (admins) ------------------------------------------------------

def list_users(actor, text: str = "", role: str = "") -> list[User]:
    """Every account whose email or name contains ``text``, optionally of one role.

    :raise Forbidden: unless the actor manages users.
    """
    policy.require(policy.can_manage_users(actor), "Only admins can manage users.")
    query = select(User).order_by(func.lower(User.email))
    text = (text or "").strip().lower()
    if text:
        query = query.where(func.lower(User.email).contains(text, autoescape=True)
                            | func.lower(User.display_name).contains(text, autoescape=True))
    if role in ROLES:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))


def get_user(actor, user_id: int) -> User:
    """One account, for an admin.

    :raise Forbidden: unless the actor manages users.
    :raise NotFound: if there is no such account.
    """
    policy.require(policy.can_manage_users(actor), "Only admins can manage users.")
    return by_id(User, user_id, "There is no such account.")


def change_role(actor, user: User, role: str) -> User:
    """Give ``user`` another role.

    :raise Forbidden: unless the actor is an admin changing someone else.
    :raise Invalid: for an unknown role.
    """
    policy.require(policy.can_change_role(actor, user), "Admins can change other people's roles, not their own.")
    if role not in ROLES:
        message = f"Role must be one of {', '.join(ROLES)}."
        raise Invalid(message, {"role": message})
    if role != user.role:
        old = user.role
        user.role = role
        record_event(actor, "change_role", user, {"from": old, "to": role})
    return user


def set_active(actor, user: User, active: bool) -> User:
    """Deactivate (cannot sign in; every session ends; stories stay) or reactivate an account.

    :raise Forbidden: unless the actor is an admin acting on someone else.
    """
    policy.require(policy.can_deactivate_user(actor, user), "Admins can deactivate other accounts, not their own.")
    if bool(active) != user.active:
        user.active = bool(active)
        if not active:
            user.session_token = secrets.token_hex(16)
        record_event(actor, "reactivate_user" if active else "deactivate_user", user)
    return user
