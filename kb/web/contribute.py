"""Contributors: submit a story, keep it as a draft, preview it, send it for
review, see its status, edit it when changes are asked for, withdraw it.

Nothing typed is lost: a form with errors, a stale CSRF token or an expired
session all show the form again with everything as it was sent, files
included (kept by content hash and carried in signed tokens); an expired
session adds a sign-in box to the form, and the story is saved once the
person has signed in.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from kb import policy
from kb.errors import Invalid
from kb.models import Organisation, Person
from kb.services import saving, stories, story_input, taxonomy
from kb.web.signing_in import attempt_sign_in
from kb.web.story_form import StoryForm
from kb.web.uploads import keep_uploads, offer_removal
from kb.web.hooks import actor, login_required

bp = Blueprint("contribute", __name__)

FORM_ENDPOINTS = ("contribute.new_story", "contribute.edit_story")
ACTIONS = ("save", "preview", "submit", "add_organisations", "add_people", "add_links", "add_adoptions")
SIGNED_OUT = "You have been signed out, so your story has not been saved yet. Sign in below and it will be saved."
STALE = "Your story has not been saved yet because the page had been open too long. Check it, then save it again."


# Building the form ---------------------------------------------------------------

def build_form(story=None, *, from_story: bool = False) -> StoryForm:
    """The story form: from the request when one was sent, else from the story."""
    areas = taxonomy.all_action_areas()
    if story is not None and (request.method == "GET" or from_story):
        form = StoryForm.for_story(story, areas, formdata=None)
    else:
        form = StoryForm().set_choices(areas)
    return offer_removal(form, story) if story is not None else form


def render_form(form: StoryForm, story=None, status: int = 200, *, notice: str = "", sign_in_form=None,
                focus: str = ""):
    form.pad()
    if request.endpoint in FORM_ENDPOINTS or story is None:
        action_url = request.path
    else:
        action_url = url_for("contribute.edit_story", slug=story.slug)
    return render_template(
        "contribute/form.html",
        form=form,
        story=story,
        action_url=action_url,
        notice=notice,
        sign_in=sign_in_form,
        focus=focus,
        errors=form.error_list() + (sign_in_form or {}).get("errors", []),
        organisation_names=taxonomy.known_names(Organisation),
        person_names=taxonomy.known_names(Person),
    ), status


def sign_in_box(message: str = "") -> dict:
    """What the form's sign-in box shows: the email as typed, and any message."""
    errors = [{"text": message, "href": "#email"}] if message else []
    return {"email": request.form.get("email", ""), "message": message, "errors": errors}


# Saving ---------------------------------------------------------------------------

def save_story(form: StoryForm, story, uploads, action: str):
    """Save the form as one change (fields, documents removed and added, and a
    submit if asked); the story, or None after Invalid (its messages on the form)."""
    who = actor()
    try:
        # Until the address is confirmed, "submit" keeps the story as a draft (after_save says why).
        return saving.save_story(who, story, form.to_fields(), uploads=uploads, app=current_app,
                                 remove=form.remove_attachments.data or [],
                                 submit=action == "submit" and policy.is_confirmed(who))
    except Invalid as exc:
        form.add_errors(exc.errors or {"title": exc.message})
        return None


UNCONFIRMED = ("“{title}” has been saved as a draft. Confirm your email address to send it for review: "
               "follow the link we sent to {email}.")


def after_save(story, action: str):
    if action == "submit" and not policy.is_confirmed(actor()):
        flash(UNCONFIRMED.format(title=story.title, email=actor().email), "success")
        return redirect(url_for("contribute.my_stories"), 303)
    if action == "submit":
        flash(f"“{story.title}” has been sent for review. A curator will look at it.", "success")
        return redirect(url_for("contribute.my_stories"), 303)
    if action == "preview":
        return redirect(url_for("contribute.preview_story", slug=story.slug), 303)
    flash(f"“{story.title}” has been saved as a draft.", "success")
    return redirect(url_for("contribute.edit_story", slug=story.slug), 303)


def handle_form(slug: str | None = None, *, csrf_failed: bool = False):
    """The POST of the story form, new or existing (see the module docstring)."""
    action = request.form.get("action", "save")
    action = action if action in ACTIONS else "save"
    signed_in = policy.is_signed_in(actor())
    sign_in_form = None
    if not signed_in and not csrf_failed and request.form.get("email"):
        message = attempt_sign_in(request.form.get("email", ""), request.form.get("password", ""))
        signed_in = message is None
        sign_in_form = None if signed_in else sign_in_box(message)
    story = stories.get_own_story(actor(), slug) if slug is not None and signed_in else None
    if story is not None:
        policy.require(policy.can_edit_story(actor(), story), "This story cannot be changed now.")
    form = build_form(story)
    uploads, upload_problems = keep_uploads(form)
    if not signed_in:
        return render_form(form, story, 422, notice=SIGNED_OUT, sign_in_form=sign_in_form or sign_in_box())
    if csrf_failed:
        return render_form(form, story, 422, notice=STALE)
    if action.startswith("add_"):
        field = form[action[4:]]
        field.append_entry()
        return render_form(form, story, focus=field.entries[-1].id)
    valid = form.validate() and not upload_problems
    form.attachments.errors = [*form.attachments.errors, *upload_problems]
    if action == "submit":
        form.add_errors(story_input.review_errors({**form.to_fields(), "title": form.title.data}))
    if not valid or form.has_errors():
        return render_form(form, story, 422)
    saved = save_story(form, story, uploads, action)
    if saved is None:
        return render_form(form, story, 422)
    return after_save(saved, action)


# Views ------------------------------------------------------------------------------

@bp.route("/stories/new", methods=["GET", "POST"])
def new_story():
    """The form for a new story; POST saves it as a draft, previews or submits it.

    Readers are sent to sign in first (GET). Answers 422 with the form, as sent,
    on any error.
    """
    if request.method == "GET":
        return new_story_form()
    return handle_form()


@login_required
def new_story_form():
    return render_form(build_form())


@bp.route("/my/stories/<slug>/edit", methods=["GET", "POST"])
def edit_story(slug: str):
    """Change one's own draft (or a story a curator sent back).

    :raise 404: if it is not the contributor's own story.
    :raise 403: if it is under review, published, rejected or withdrawn.
    """
    if request.method == "GET":
        return edit_story_form(slug)
    return handle_form(slug)


@login_required
def edit_story_form(slug: str):
    story = stories.get_own_story(actor(), slug)
    policy.require(policy.can_edit_story(actor(), story), "This story cannot be changed now.")
    return render_form(build_form(story), story)


@bp.get("/my/stories")
@login_required
def my_stories():
    """Every story the contributor submitted, with its status and the curator's note."""
    return render_template("contribute/my_stories.html", stories=stories.own_stories(actor()))


@bp.get("/my/stories/<slug>/preview")
@login_required
def preview_story(slug: str):
    """One's own story as readers will see it once published.

    :raise 404: if it is not the contributor's own story.
    """
    story = stories.get_own_story(actor(), slug)
    return render_template("contribute/preview.html", story=story)


@bp.post("/my/stories/<slug>/submit")
@login_required
def submit_story(slug: str):
    """Send one's own draft for review.

    :raise 404: if it is not the contributor's own story.
    :raise 403: if it cannot be submitted in its status.
    """
    story = stories.get_own_story(actor(), slug)
    if not policy.is_confirmed(actor()):
        flash(UNCONFIRMED.format(title=story.title, email=actor().email), "success")
        return redirect(url_for("contribute.my_stories"), 303)
    try:
        stories.submit_story(actor(), story)
    except Invalid as exc:
        form = build_form(story, from_story=True)
        form.add_errors(exc.errors)
        return render_form(form, story, 422, notice="Your story needs a little more before it can be reviewed.")
    flash(f"“{story.title}” has been sent for review. A curator will look at it.", "success")
    return redirect(url_for("contribute.my_stories"), 303)


@bp.post("/my/stories/<slug>/withdraw")
@login_required
def withdraw_story(slug: str):
    """Take one's own story out of review (or drop a draft); it can be submitted again.

    :raise 404: if it is not the contributor's own story.
    :raise 403: if it cannot be withdrawn in its status.
    """
    story = stories.get_own_story(actor(), slug)
    stories.withdraw_story(actor(), story)
    flash(f"“{story.title}” has been withdrawn.", "success")
    return redirect(url_for("contribute.my_stories"), 303)


@bp.errorhandler(CSRFError)
def stale_form(exc):
    """A stale or missing CSRF token: the story form comes back as sent, with a
    fresh token and nothing saved; any other form goes back to the list."""
    if request.endpoint in FORM_ENDPOINTS:
        return handle_form(request.view_args.get("slug"), csrf_failed=True)
    flash("Nothing was changed, because the page had been open too long. Please try again.")
    return redirect(url_for("contribute.my_stories"), 303)
