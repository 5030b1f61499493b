"""Saved searches, alerts, notifications and unsubscribing, through a real SMTP server."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from smtp_server import html_of, links_in, text_of

from kb import database
from kb.extensions import db
from kb.models import AlertDelivery, SavedSearch
from kb.models.base import utcnow
from kb.policy import SYSTEM
from kb.services import alerts, notifications, stories


def save(user, q="benches", frequency="immediately", **filters):
    saved = alerts.save_search(user, {"q": q, "filters": filters}, f"Search for {q}", frequency)
    database.commit(current_app)
    return saved


def bench_story(make_story, title="Open benches in every park", **fields):
    return make_story(title=title, summary="Benches for everyone, in every park.", **fields)


# Saving, editing, deleting --------------------------------------------------------------

def test_a_signed_in_person_saves_a_search_from_the_search_page(app, client, make_user, sign_in, make_story):
    bench_story(make_story)
    sign_in(make_user())
    page = client.get("/search?q=benches&kind=case_study").get_data(as_text=True)
    assert 'href="/my/searches/new?' in page
    assert 'href="/search/follow?' in page

    form = client.get("/my/searches/new?q=benches&kind=case_study")
    assert form.status_code == 200
    assert 'value="benches; kind: case_study"' in form.get_data(as_text=True)
    response = client.post("/my/searches/new?q=benches&kind=case_study",
                           data={"name": "Park benches", "frequency": "weekly"})
    assert response.status_code == 303
    [saved] = db.session.query(SavedSearch).all()
    assert (saved.name, saved.frequency) == ("Park benches", "weekly")
    assert saved.params == {"q": "benches", "filters": {"kind": ["case_study"]}, "sort": "relevance"}
    listing = client.get("/my/searches").get_data(as_text=True)
    assert "Park benches" in listing and "Once a week" in listing


def test_saving_needs_a_name_and_a_frequency(app, client, make_user, sign_in):
    sign_in(make_user())
    response = client.post("/my/searches/new?q=benches", data={"name": "", "frequency": "hourly"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a name for the search" in page
    assert db.session.query(SavedSearch).count() == 0


def test_rename_change_and_delete_a_saved_search(app, client, make_user, sign_in):
    user = sign_in(make_user())
    saved = save(user)
    assert client.get(f"/my/searches/{saved.id}/edit").status_code == 200
    response = client.post(f"/my/searches/{saved.id}/edit", data={"name": "Benches", "frequency": "daily"})
    assert response.status_code == 303
    db.session.refresh(saved)
    assert (saved.name, saved.frequency) == ("Benches", "daily")
    assert client.post(f"/my/searches/{saved.id}/delete").status_code == 303
    assert db.session.query(SavedSearch).count() == 0


def test_nobody_else_sees_or_changes_a_saved_search(app, client, make_user, sign_in):
    saved = save(make_user())
    sign_in(make_user())
    assert client.get(f"/my/searches/{saved.id}/edit").status_code == 404
    assert client.post(f"/my/searches/{saved.id}/delete").status_code == 404
    assert client.get("/my/searches/new?q=x").status_code == 200
    assert db.session.query(SavedSearch).count() == 1


def test_the_follow_page_explains_the_feed_and_offers_alerts_after_sign_in(app, client):
    response = client.get("/search/follow?q=digital+inclusion&area=networks")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "feed reader" in page
    assert "/search.atom?" in page and "q=digital+inclusion" in page
    assert "Sign in to get emails" in page
    assert "/account/sign-in?next=/my/searches/new?" in page


# Alerts ---------------------------------------------------------------------------------

def test_a_new_published_story_gives_exactly_one_alert_and_a_rerun_sends_nothing(smtp_app, cli, mailbox, make_user,
                                                                                  make_story):
    bench_story(make_story, title="Benches from before the search was saved")
    user = make_user(email="reader@example.org")
    save(user)
    story = bench_story(make_story)
    make_story(title="Bus lanes", summary="Faster buses.")

    result = cli("alerts", "send")
    assert result.exit_code == 0, result.output
    assert "Queued an alert to reader@example.org: 1 new story" in result.output
    [message] = mailbox.to("reader@example.org")
    assert message["Subject"] == "1 new story for your search “Search for benches” - kb"
    text = text_of(message)
    assert "Open benches in every park" in text and "Benches for everyone, in every park." in text
    assert f"http://localhost/stories/{story.slug}" in text
    assert "http://localhost/search?q=benches" in text
    assert "before the search was saved" not in text
    assert "Open benches in every park" in html_of(message)
    assert message["List-Unsubscribe"].startswith("<http://localhost/account/email/unsubscribe/")

    again = cli("alerts", "send")
    assert "alerts: 0" in again.output
    assert len(mailbox.to("reader@example.org")) == 1


def test_dry_run_says_what_it_would_send_and_sends_nothing(smtp_app, cli, mailbox, make_user, make_story):
    save(make_user(email="reader@example.org"))
    bench_story(make_story)
    result = cli("alerts", "send", "--dry-run")
    assert "Would send an alert to reader@example.org" in result.output
    assert mailbox.messages == [] and db.session.query(AlertDelivery).count() == 0
    cli("alerts", "send")
    assert len(mailbox.to("reader@example.org")) == 1


def test_a_run_killed_half_way_resumes_without_sending_twice(smtp_app, mailbox, make_user, make_story):
    first, second = make_user(email="first@example.org"), make_user(email="second@example.org")
    save(first)
    save(second)
    bench_story(make_story)

    def killed_after_one():
        database.commit(smtp_app)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        alerts.send_alerts(killed_after_one)
    database.rollback()
    assert len(mailbox.to("first@example.org")) == 1 and mailbox.to("second@example.org") == []

    run = alerts.send_alerts(lambda: database.commit(smtp_app))
    assert [email for email, _, _ in run.sent] == ["second@example.org"]
    assert len(mailbox.to("first@example.org")) == 1 and len(mailbox.to("second@example.org")) == 1


def test_a_weekly_alert_waits_a_week(smtp_app, mailbox, make_user, make_story):
    save(make_user(email="weekly@example.org"), frequency="weekly")
    bench_story(make_story)
    commit = lambda: database.commit(smtp_app)  # noqa: E731
    assert len(alerts.send_alerts(commit).sent) == 1
    bench_story(make_story, title="More benches")
    assert alerts.send_alerts(commit, now=utcnow() + timedelta(days=3)).sent == []
    assert len(alerts.send_alerts(commit, now=utcnow() + timedelta(days=7)).sent) == 1
    assert len(mailbox.to("weekly@example.org")) == 2
    assert "More benches" in text_of(mailbox.to("weekly@example.org")[1])


def test_a_search_with_filters_only_alerts_stories_it_finds(smtp_app, mailbox, make_user, make_story):
    save(make_user(email="reports@example.org"), q="", kind=["report"])
    bench_story(make_story)
    make_story(title="Annual report on benches", kind="report")
    run = alerts.send_alerts(lambda: database.commit(smtp_app))
    assert run.sent == [("reports@example.org", "Search for", 1)]
    assert "Annual report on benches" in text_of(mailbox.to("reports@example.org")[0])


# Unsubscribe and bounces ---------------------------------------------------------------

def test_unsubscribe_from_the_link_without_signing_in(smtp_app, client, mailbox, make_user, make_story):
    user = make_user(email="reader@example.org")
    saved = save(user)
    bench_story(make_story)
    alerts.send_alerts(lambda: database.commit(smtp_app))
    [message] = mailbox.to("reader@example.org")
    [link] = [url for url in links_in(message) if "/unsubscribe/" in url]
    path = link.removeprefix("http://localhost")

    page = client.get(path)
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    db.session.refresh(saved)
    assert saved.frequency == "immediately"  # looking at the page changes nothing
    done = client.post(path)
    assert done.status_code == 200
    assert "You have unsubscribed" in done.get_data(as_text=True)
    db.session.refresh(saved)
    assert saved.frequency == "none"

    bench_story(make_story, title="Benches again")
    assert alerts.send_alerts(lambda: database.commit(smtp_app)).sent == []


def test_one_click_unsubscribe_from_a_mail_program(smtp_app, client, mailbox, make_user, make_story):
    user = make_user(email="reader@example.org")
    saved = save(user)
    bench_story(make_story)
    alerts.send_alerts(lambda: database.commit(smtp_app))
    url = mailbox.to("reader@example.org")[0]["List-Unsubscribe"].strip("<>")
    assert mailbox.to("reader@example.org")[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    response = client.post(url.removeprefix("http://localhost"), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.refresh(saved)
    assert saved.frequency == "none"


def test_a_forged_unsubscribe_token_does_nothing(app, client, make_user):
    saved = save(make_user())
    response = client.post("/account/email/unsubscribe/eyJ1IjoxLCJrIjoiYWxlcnRzIn0.forged")
    assert response.status_code == 404
    db.session.refresh(saved)
    assert saved.frequency == "immediately"


def test_alerts_stop_to_an_address_that_refused_mail(smtp_app, mailbox, make_user, make_story):
    user = make_user(email="gone@example.org")
    save(user)
    mailbox.refuse("gone@example.org")
    bench_story(make_story)
    alerts.send_alerts(lambda: database.commit(smtp_app))
    db.session.refresh(user)
    assert user.email_bounced_at is not None
    bench_story(make_story, title="Benches again")
    assert alerts.send_alerts(lambda: database.commit(smtp_app)).sent == []


# Notifications ---------------------------------------------------------------------------

@pytest.mark.parametrize("decide, subject, expected", [
    (lambda s: stories.request_changes(SYSTEM, s, "Please add the costs."),
     "A curator has asked for changes to “Open benches” - kb", "Please add the costs."),
    (lambda s: stories.publish_story(SYSTEM, s), "Your story “Open benches” has been published - kb", "/stories/open-benches"),
    (lambda s: stories.reject_story(SYSTEM, s, "Not a public-sector story."),
     "Your story “Open benches” will not be published - kb", "Not a public-sector story."),
])
def test_the_contributor_is_told_of_each_decision(smtp_app, mailbox, make_user, make_story, decide, subject,
                                                    expected):
    contributor = make_user(email="author@example.org")
    story = make_story(contributor, status="submitted", title="Open benches")
    decide(story)
    database.commit(smtp_app)
    [message] = mailbox.to("author@example.org")
    assert message["Subject"] == subject
    assert expected in text_of(message)
    assert message["List-Unsubscribe"]


def test_a_contributor_who_turned_a_kind_off_is_not_told(smtp_app, client, mailbox, make_user, make_story, sign_in):
    contributor = sign_in(make_user(email="author@example.org"))
    page = client.get("/account/email")
    assert page.status_code == 200 and "One of my stories is published" in page.get_data(as_text=True)
    assert "daily digest" not in page.get_data(as_text=True)  # curators only
    client.post("/account/email", data={"kinds": ["changes_requested", "rejected", "alerts"]})
    story = make_story(contributor, status="submitted")
    stories.publish_story(SYSTEM, story)
    database.commit(smtp_app)
    assert mailbox.to("author@example.org") == []


def test_curators_choose_a_daily_digest_of_new_submissions(smtp_app, client, cli, mailbox, make_user, make_story,
                                                           sign_in):
    curator = sign_in(make_user("curator", email="curator@example.org"))
    client.post("/account/email", data={"kinds": ["digest"]})
    make_story(make_user(), status="submitted", title="Submitted for review")
    make_story(make_user(), status="draft", title="Still a draft")

    result = cli("alerts", "send")
    assert "Queued a digest to curator@example.org: 1 story to review" in result.output
    [message] = mailbox.to("curator@example.org")
    assert "Submitted for review" in text_of(message) and "Still a draft" not in text_of(message)
    cli("alerts", "send")
    assert len(mailbox.to("curator@example.org")) == 1
    db.session.refresh(curator)
    assert notifications.send_digests(lambda: None, dry_run=True,
                                      now=utcnow() + timedelta(days=1)) == []  # nothing new since
