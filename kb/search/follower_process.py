"""The child process of ``kb.search.follower``: builds the app from the settings
pickled on its standard input, then syncs the index once for each line that
follows, until a stop line or the end of its input (the import has gone)."""
from __future__ import annotations

import pickle
import sys

from kb import create_app
from kb.extensions import db
from kb.search.follower import STOP
from kb.search.sync import sync_quietly


def main() -> None:
    stdin = sys.stdin.buffer
    app = create_app(pickle.load(stdin))
    with app.app_context():
        for line in stdin:
            sync_quietly(app)
            db.session.remove()
            if line == STOP:
                return


if __name__ == "__main__":
    main()
