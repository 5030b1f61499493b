"""A test client whose requests behave as a server's do."""
from flask import g
from flask.testing import FlaskClient


class FreshClient(FlaskClient):
    """Every request starts without what the last one cached in ``g``.

    The tests keep an app context open so that they can use the database between
    requests, and a request reuses it; in a server each request has its own.
    Without this, Flask-Login's current user and Flask-WTF's CSRF token would
    carry over from one request to the next.
    """

    def open(self, *args, **kwargs):
        for name in ("_login_user", "csrf_token"):
            g.pop(name, None)
        return super().open(*args, **kwargs)
