"""Every service that acts for someone asks policy.py.

A public function in kb/services/ whose first parameter is the actor
(``actor`` or ``viewer``) must call ``policy.*`` itself or call a service
function that does (followed through kb.services, by name). Helpers that only
record what a use case did are listed, with why, in ``RECORDERS``.
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import kb.services
from kb import policy
from kb.errors import Forbidden

SERVICES = Path(kb.services.__file__).parent
ACTOR_NAMES = ("actor", "viewer")
# These take the actor only to record who did what; the use case calling them asked policy.
RECORDERS = {
    "audit.record_event",
    "revisions.record_revision",
    "revisions.record_revisions",
    "stories.record_save",          # the revision, index change and suggestions that end a save
    "attachments.upload_token",     # signs a token for the uploader; no data changes
    "attachments.upload_from_token",
}


def parse_module(name: str, source: str) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(source)
    return {f"{name}.{node.name}": node for node in tree.body if isinstance(node, ast.FunctionDef)}


def module_aliases(source: str) -> dict[str, str]:
    """Local names that refer to service modules or functions: {local: "module" or "module.func"}."""
    aliases = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "kb.services":
                for alias in node.names:
                    aliases[alias.asname or alias.name] = alias.name
            elif node.module.startswith("kb.services."):
                module = node.module.rsplit(".", 1)[1]
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
    return aliases


def called_names(func: ast.FunctionDef, module: str, aliases: dict[str, str]) -> tuple[bool, set[str]]:
    """(whether it calls policy.* directly, the service functions it calls)."""
    asks, calls = False, set()
    for node in ast.walk(func):
        if not isinstance(node, ast.Call):
            continue
        target = node.func
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            if target.value.id == "policy":
                asks = True
            elif target.value.id in aliases:
                calls.add(f"{aliases[target.value.id]}.{target.attr}")
        elif isinstance(target, ast.Name):
            calls.add(aliases.get(target.id, f"{module}.{target.id}"))
    return asks, calls


def services_without_policy(sources: dict[str, str]) -> list[str]:
    """Public actor-taking service functions that never reach a policy call."""
    functions, edges, direct = {}, {}, set()
    for module, source in sources.items():
        aliases = module_aliases(source)
        for name, func in parse_module(module, source).items():
            functions[name] = func
            asks, calls = called_names(func, module, aliases)
            edges[name] = calls
            if asks:
                direct.add(name)
    asking = set(direct)
    changed = True
    while changed:
        changed = False
        for name, calls in edges.items():
            if name not in asking and calls & asking:
                asking.add(name)
                changed = True
    acting = [name for name, func in functions.items()
              if not func.name.startswith("_") and func.args.args and func.args.args[0].arg in ACTOR_NAMES]
    return sorted(name for name in acting if name not in asking and name not in RECORDERS)


def service_sources() -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in SERVICES.glob("*.py") if path.stem != "__init__"}


def test_every_service_that_acts_for_someone_asks_policy():
    missing = services_without_policy(service_sources())
    assert missing == [], f"these services never ask policy.py: {missing}"


def test_the_check_finds_a_service_that_does_not_ask_policy():
    sources = {
        "things": (
            "from kb import policy\n"
            "def make_thing(actor, name):\n    return name\n"
            "def guarded(actor):\n    policy.require(policy.is_admin(actor))\n"
            "def via_helper(actor):\n    guarded(actor)\n"
        ),
        "other": "from kb.services import things\ndef delegates(actor):\n    things.via_helper(actor)\n",
    }
    assert services_without_policy(sources) == ["things.make_thing"]


def test_the_check_looks_at_every_service_module():
    names = {m.name for m in pkgutil.iter_modules([str(SERVICES)])}
    assert {"stories", "tags", "review", "revisions", "users"} <= names
    assert set(service_sources()) == names - {"__init__"}


# The same rule, run: anonymous visitors are refused by every curator service.

@pytest.fixture
def anonymous(app):
    from flask_login import AnonymousUserMixin

    return AnonymousUserMixin()


def test_anonymous_and_contributors_are_refused_by_curation_services(app, make_user, make_story):
    from kb.services import restore, review, revisions, tags, users

    story = make_story()
    tag = tags.create_tag(policy.SYSTEM, "Anything")
    contributor = make_user()
    calls = [
        lambda who: review.review_queue(who),
        lambda who: review.curate_story(who, story, {"title": "x"}),
        lambda who: review.apply_bulk_change(who, [story.id], "add_tag", "x"),
        lambda who: review.audit_log(who, review.AuditFilters()),
        lambda who: restore.restore_revision(who, story, 1),
        lambda who: tags.rename_tag(who, tag, "y"),
        lambda who: tags.merge_tags(who, tag, tag),
        lambda who: tags.delete_tag(who, tag),
        lambda who: users.change_role(who, contributor, "admin"),
    ]
    from flask_login import AnonymousUserMixin

    for who in (AnonymousUserMixin(), contributor):
        for call in calls:
            with pytest.raises(Forbidden):
                call(who)


@pytest.mark.parametrize("name", sorted(n for n in dir(policy) if n.startswith("can_")))
def test_every_policy_function_refuses_anonymous_users_except_public_reading(name):
    from flask_login import AnonymousUserMixin

    from kb.models import Story, User

    target = User(id=99, role="contributor", active=True) if "role" in name or "deactivate" in name else Story(
        status="draft", submitted_by_id=5)
    func = getattr(policy, name)
    args = (AnonymousUserMixin(),) + ((target,) if func.__code__.co_argcount > 1 else ())
    assert func(*args) is False


def test_only_admins_create_accounts_beyond_contributor_and_vouch_for_their_address():
    from flask_login import AnonymousUserMixin

    from kb.models import User

    anonymous, admin = AnonymousUserMixin(), User(id=1, role="admin", active=True)
    curator = User(id=2, role="curator", active=True)
    assert policy.can_create_user(anonymous, "contributor")
    assert not policy.can_create_user(anonymous, "curator")
    assert not policy.can_create_user(curator, "admin")
    assert policy.can_create_user(admin, "curator")
    assert policy.vouches_for_email(admin) and policy.vouches_for_email(policy.SYSTEM)
    assert not policy.vouches_for_email(curator)
    assert policy.can_set_password(curator, curator) and not policy.can_set_password(curator, admin)
    assert policy.can_view_api_tokens(admin, curator) and not policy.can_view_api_tokens(curator, admin)
