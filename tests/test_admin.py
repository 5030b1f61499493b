"""Administration: admins list users, change roles, deactivate and reactivate."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kb import database
from kb.errors import Forbidden
from kb.extensions import db
from kb.models import AuditEvent
from kb.services import users
from curate_helpers import sign_out, switch_user
from conftest import PASSWORD


def test_admin_lists_users_and_filters_them(app, client, make_user, sign_in):
    make_user(email="ann@example.org")
    make_user("curator", email="cat@example.org")
    sign_in(make_user("admin", email="root@example.org"))
    page = client.get("/admin/users").get_data(as_text=True)
    assert "ann@example.org" in page and "cat@example.org" in page
    only = client.get("/admin/users?role=curator").get_data(as_text=True)
    assert "cat@example.org" in only and "ann@example.org" not in only


def test_curator_cannot_administer_users(app, client, make_user, sign_in):
    sign_in(make_user("curator"))
    assert client.get("/admin/users").status_code == 403
    assert 'href="/admin/users"' not in client.get("/curate/").get_data(as_text=True)


def test_the_curation_menu_leads_admins_to_users_and_registration(app, client, make_user, sign_in):
    sign_in(make_user("admin"))
    page = client.get("/curate/").get_data(as_text=True)
    assert 'href="/admin/users"' in page and 'href="/admin/registration"' in page


def test_admin_changes_a_role_and_it_is_audited(app, client, make_user, sign_in):
    target = make_user()
    admin = sign_in(make_user("admin"))
    assert client.post(f"/admin/users/{target.id}/role", data={"role": "curator"}).status_code == 303
    db.session.expire_all()
    assert target.role == "curator"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "change_role"))
    assert event.actor_id == admin.id and event.detail == {"from": "contributor", "to": "curator"}
    assert client.post(f"/admin/users/{target.id}/role", data={"role": "emperor"}).status_code == 422


def test_admin_cannot_change_their_own_role_or_deactivate_themselves(app, client, make_user, sign_in):
    admin = sign_in(make_user("admin"))
    assert client.post(f"/admin/users/{admin.id}/role", data={"role": "contributor"}).status_code == 403
    assert client.post(f"/admin/users/{admin.id}/deactivate").status_code == 403


def test_deactivated_user_cannot_sign_in_and_their_stories_stay(app, client, make_user, make_story, sign_in):
    contributor = make_user(email="gone@example.org")
    story = make_story(contributor, title="Still here")
    switch_user(sign_in, make_user("admin"))
    assert client.post(f"/admin/users/{contributor.id}/deactivate").status_code == 303
    db.session.expire_all()
    assert users.authenticate("gone@example.org", PASSWORD) is None
    sign_out(client)
    assert client.get(f"/stories/{story.slug}").status_code == 200
    signed = client.post("/account/sign-in", data={"email": "gone@example.org", "password": PASSWORD})
    assert signed.status_code in (200, 422)
    assert "/my/stories" not in signed.headers.get("Location", "")


def test_deactivation_ends_existing_sessions_and_reactivation_restores_sign_in(app, client, make_user, sign_in):
    contributor = make_user(email="back@example.org")
    switch_user(sign_in, contributor)
    assert client.get("/my/stories").status_code == 200
    users.set_active(make_user("admin"), contributor, False)
    database.commit(app)
    sign_out(client)
    with client.session_transaction() as session:  # the old session cookie comes back
        session["_user_id"] = f"{contributor.id}:old-token"
    assert client.get("/my/stories").status_code in (302, 303)
    users.set_active(make_user("admin"), contributor, True)
    database.commit(app)
    assert users.authenticate("back@example.org", PASSWORD) is not None


def test_user_services_ask_policy(app, make_user):
    contributor, curator = make_user(), make_user("curator")
    for call in (lambda: users.list_users(curator), lambda: users.change_role(curator, contributor, "admin"),
                 lambda: users.set_active(curator, contributor, False)):
        with pytest.raises(Forbidden):
            call()
