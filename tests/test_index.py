"""Keeping the index in step with the database: the change log, sync, rebuild,
verify, several writers and several nodes."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path

import pytest
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text

from kb import database, search, unit_of_work
from kb.extensions import db
from kb.models import IndexChange
from kb.policy import SYSTEM
from kb.search.index import IndexHome, writer
from kb.search.schema import META_ID
from kb.services import stories
from kb.services.changes import record_index_change

ROOT = Path(__file__).resolve().parent.parent


def found(word: str, **kwargs) -> int:
    return search.search_stories(current_app, word, snippets=False, **kwargs).total


def run_python(app, code: str, *args, index_dir=None, **popen):
    """Start a real Python process on the test's database and an index folder."""
    env = dict(os.environ, KB_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               KB_INSTANCE_PATH=app.instance_path, KB_INDEX_DIR=str(index_dir or app.config["INDEX_DIR"]))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def test_an_edit_is_searchable_as_soon_as_it_is_committed(app, make_story):
    story = make_story(title="Leisure centre")
    stories.update_story(SYSTEM, story, {"title": "Leisure centre with solar roof"})
    database.commit(app)
    assert found("solar") == 1


def test_unpublishing_removes_a_story_from_readers_results(app, make_story):
    story = make_story(title="Pop-up library")
    stories.unpublish_story(SYSTEM, story, "Duplicate")
    database.commit(app)
    assert found("library") == 0
    assert found("library", statuses=("withdrawn",)) == 1


def test_a_failed_sync_is_logged_not_raised_and_the_next_sync_applies_it(app, make_story, caplog):
    caplog.set_level(logging.INFO, logger="kb.search.sync")
    app.config["INDEX_WRITE_TIMEOUT"] = 0.1
    story = make_story(title="Street lighting")
    ix = search.home(app).open()
    with writer(ix, 1.0):  # another writer holds the lock
        stories.update_story(SYSTEM, story, {"title": "Street lighting with LEDs"})
        database.commit(app)  # must not raise
    ix.close()
    assert "being written by another process" in caplog.text
    assert stories.get_story(SYSTEM, story.slug).title == "Street lighting with LEDs"
    assert search.verify(app).behind == 1
    assert found("leds") == 1  # the search saw the log ahead of the index and synced first
    assert search.verify(app).clean


def test_verify_lists_drift_and_exits_non_zero_until_sync(app, cli, make_story):
    make_story(title="Community fridge")
    story = stories.get_story(SYSTEM, "community-fridge")
    stories.update_story(SYSTEM, story, {"summary": "Changed behind the index's back."})
    db.session.commit()  # bypasses database.commit, so nothing syncs
    result = cli("index", "verify")
    assert result.exit_code == 1 and "not yet applied" in result.output
    assert cli("index", "sync").exit_code == 0
    assert cli("index", "verify").exit_code == 0


def test_rebuild_swaps_in_a_new_generation_and_search_keeps_working(app, cli, make_story):
    make_story(title="Warm spaces")
    before = IndexHome(app.config["INDEX_DIR"]).current_name()
    result = cli("index", "rebuild")
    assert result.exit_code == 0 and "1 stories" in result.output
    assert IndexHome(app.config["INDEX_DIR"]).current_name() != before
    assert found("warm") == 1
    assert cli("index", "verify").exit_code == 0


def test_an_index_whose_terms_were_made_another_way_is_rebuilt_before_the_next_search(app, make_story):
    make_story(title="Crystalline lens", summary="The crystalline lens of vertebrates.")
    index_home = IndexHome(app.config["INDEX_DIR"])
    before = index_home.current_name()
    ix = index_home.open()
    with writer(ix, 5) as w:  # as an index built by an earlier kb (another stemmer) records itself
        w.update_document(id=META_ID, watermark=db.session.scalar(select(func.max(IndexChange.id))), analysis="porter")
    ix.close()
    assert found("crystallin") == 1  # "crystalline" and "crystallin" are one word now
    assert index_home.current_name() != before
    assert search.verify(app).clean


def test_saves_merge_small_segments_and_never_rewrite_a_large_one(app, make_story):
    from kb.search.index import MERGE_TIER

    made = [make_story(title=f"Heron count {n}") for n in range(12)]
    search.rebuild(app)  # one segment of 12 stories
    index_home = IndexHome(app.config["INDEX_DIR"])

    def segments():
        ix = index_home.open()
        try:
            return {segment.segment_id(): segment.doc_count_all() for segment in ix._segments()}
        finally:
            ix.close()

    large = [key for key, count in segments().items() if count >= 12]
    for n in range(MERGE_TIER * 2):
        stories.update_story(SYSTEM, made[n % 12], {"summary": f"Counted again, time {n}."})
        database.commit(app)
    after = segments()
    assert large and all(key in after for key in large)  # a save never rewrote the large segment
    assert len(after) <= MERGE_TIER + 2  # small ones were merged as they came
    assert found("heron") == 12 and search.verify(app).clean


def test_a_rebuild_killed_half_way_leaves_the_old_index_serving(app, make_story):
    make_story(title="Tool library")
    home = IndexHome(app.config["INDEX_DIR"])
    live = home.current_name()
    killed = run_python(app, """
        import os, signal
        from kb import create_app, search
        app = create_app({})
        with app.app_context():
            search.rebuild(app, progress=lambda n: os.kill(os.getpid(), signal.SIGKILL))
    """)
    killed.communicate(timeout=60)
    assert killed.returncode == -9
    assert home.current_name() == live
    assert found("tool") == 1
    assert search.rebuild(app) == 1
    assert home.current_name() != live and found("tool") == 1


WRITER = """
    import sys
    from kb import create_app, database
    from kb.policy import SYSTEM
    from kb.services import stories
    app = create_app({})
    with app.app_context():
        for n in range(int(sys.argv[2])):
            story = stories.create_story(SYSTEM, {"title": f"{sys.argv[1]} {n}", "kind": "talk", "summary": "s"})
            stories.submit_story(SYSTEM, story)
            stories.publish_story(SYSTEM, story)
            database.commit(app)
    print("ok")
"""


def test_two_processes_writing_at_once_both_succeed(app, make_story):
    make_story(title="Start")
    # The web app (this process, committing through the request hook) and a CLI-style writer.
    other = run_python(app, WRITER, "Kestrel", "8")
    client = app.test_client()
    from kb.services import seed

    seed.load_action_areas(SYSTEM)
    database.commit(app)
    for n in range(8):
        make_story(title=f"Osprey {n}")
        assert client.get("/search?q=osprey").status_code == 200
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    assert "LockError" not in err
    search.sync(app)
    assert found("kestrel") == 8 and found("osprey") == 8
    assert search.verify(app).clean


# The advisory lock and concurrent commits are PostgreSQL's: these run on it alone.
on_postgresql_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@on_postgresql_only
def test_on_postgresql_a_later_change_never_becomes_visible_before_an_earlier_one(app, make_story):
    story = make_story(title="Gap check")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(url)
    first_in = threading.Event()
    second_done = threading.Event()
    ids = {}

    def transaction(name, hold: threading.Event | None):
        with app.app_context():
            record_index_change(story.id)
            db.session.flush()
            ids[name] = db.session.scalar(select(func.max(IndexChange.id)))
            if hold is not None:
                first_in.set()
                hold.wait(10)
            db.session.commit()
            unit_of_work.forget_log_lock(db.session)
            if hold is None:
                second_done.set()

    release = threading.Event()
    first = threading.Thread(target=transaction, args=("first", release))
    first.start()
    assert first_in.wait(10)
    second = threading.Thread(target=transaction, args=("second", None))
    second.start()
    # The second appender waits for the first's lock, so it cannot commit first.
    assert not second_done.wait(0.5)
    with engine.connect() as connection:
        visible = connection.scalar(text("SELECT max(id) FROM index_changes"))
    assert visible < ids["first"]
    release.set()
    first.join(10)
    second.join(10)
    assert ids["second"] > ids["first"]
    engine.dispose()


@on_postgresql_only
def test_on_postgresql_concurrent_writers_leave_no_drift(app, make_story):
    make_story(title="Start")
    writers = [run_python(app, WRITER, f"Writer{n}", "6") for n in range(4)]
    for process in writers:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
    search.sync(app)
    assert all(found(f"writer{n}") == 6 for n in range(4))
    assert search.verify(app).clean


NODE = """
    import sys
    from kb import create_app, search
    app = create_app()
    with app.app_context():
        print(search.search_stories(app, "", snippets=False).total, flush=True)
        sys.stdin.readline()
        print(search.search_stories(app, sys.argv[1], snippets=False).total, flush=True)
"""


def test_a_story_published_through_one_node_is_found_through_another_at_once(app, tmp_path, make_story):
    make_story(title="Start")
    node = run_python(app, NODE, "heronry", index_dir=tmp_path / "other-node-index", stdin=subprocess.PIPE)
    assert node.stdout.readline().strip() == "1"
    make_story(title="Heronry survey")  # through this node: its own index syncs
    out, err = node.communicate("go\n", timeout=60)
    assert node.returncode == 0, err
    assert out.strip() == "1"


def test_writes_after_the_random_generator_is_reseeded_do_not_collide(app, make_story):
    import random

    random.seed(7)
    make_story(title="Allotments first")
    random.seed(7)
    make_story(title="Allotments second")
    assert found("allotments") == 2


def test_a_commit_outside_kb_database_does_not_carry_the_log_lock_over(app, make_story):
    story = make_story()
    stories.update_story(SYSTEM, story, {"summary": "Changed"})
    db.session.commit()
    assert not unit_of_work.holds_log_lock(db.session)


def test_a_searcher_reads_segments_that_a_later_commit_merged_away(tmp_path):
    """Stored fields, field lengths and facet values of an open searcher's
    segments are read after another commit merged them away and deleted their
    files: Whoosh opened those files on first read, and a search under load
    answered 503 ('NoneType' object is not subscriptable)."""
    from kb.search import facets, postings
    from kb.search.index import close_searchers, read_watermark, searcher
    from kb.search.schema import meta_document

    home = IndexHome(tmp_path)
    home.swap(home.new_generation())
    ix = home.open()
    for n in range(3):
        with writer(ix, 5) as w:
            w.update_document(**meta_document(n + 1))
            w.update_document(id=f"s{n}", title=f"{('river', 'lake', 'sea')[n]} story", content="open data council",
                              meta=("m", n))
    folder = home.current_path()
    try:
        with searcher(home) as s:
            before = set(os.listdir(folder))
            w = ix.writer()
            w.update_document(id="s9", title="story nine", content="open data")
            w.commit(optimize=True)
            assert not before & {name for name in os.listdir(folder) if name.endswith(".col")}, "segments not merged"
            segreaders = [r for r, _ in postings.leaves(s.reader())]
            assert sum(postings.segment_lengths(r, "title").sum() for r in segreaders) == 6
            metas = [m for r in segreaders for m in facets._segment_metas(str(folder), r) if m is not None]
            assert sorted(m[1] for m in metas) == [0, 1, 2]
            assert read_watermark(s) == 3
    finally:
        close_searchers()


def test_a_story_edited_after_a_rebuild_leaves_its_words_searchable(app, make_story):
    """Saving a story deletes its document in the rebuilt index's one large
    segment; a search for a word that story held first there answered 503
    ('Search is not available') until that segment was merged away."""
    made = [make_story(title=f"Kestrel survey {n}", summary="Counting kestrels on the downs.") for n in range(12)]
    search.rebuild(current_app)
    stories.update_story(SYSTEM, made[0], {"summary": "Counting kestrels on the downs again."})
    db.session.commit()
    assert found("kestrel") == 12
    assert found("downs") == 12
    assert search.similar_stories(current_app, made[3].id, 5)


_BIRDS = ["kestrel", "heron", "otter", "badger", "curlew", "osprey"]
_KINDS = ["case_study", "report", "talk"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          database=None)
@given(steps=st.lists(st.tuples(st.sampled_from(["create", "create", "edit", "edit", "unpublish", "publish", "rebuild"]),
                                st.integers(0, 50), st.sets(st.sampled_from(_BIRDS), min_size=1, max_size=3)),
                      min_size=1, max_size=14))
def test_each_word_finds_the_published_stories_holding_it_after_any_saves_and_rebuilds(app, make_story, caplog,
                                                                                       steps):
    """Whatever the order of creations, edits, status changes and rebuilds (and
    so of segments, deletions and merges), a word finds exactly the published
    stories holding it, alone and filtered by kind, the kind facet counts every
    published story, and similar stories are found without an error."""
    from kb.models import Story

    for action, n, words in steps:
        existing = list(db.session.scalars(select(Story).order_by(Story.id)))
        story = existing[n % len(existing)] if existing else None
        if action == "create" or story is None:
            make_story(summary=" ".join(sorted(words)))
        elif action == "edit":
            stories.update_story(SYSTEM, story, {"summary": " ".join(sorted(words)), "kind": _KINDS[n % 3]})
        elif action == "unpublish" and story.is_published:
            stories.unpublish_story(SYSTEM, story, "Out of date")
        elif action == "publish" and not story.is_published:
            stories.publish_story(SYSTEM, story)
        elif action == "rebuild":
            search.rebuild(current_app)
        database.commit(current_app)
    published = list(db.session.scalars(select(Story).where(Story.status == "published")))
    for word in _BIRDS:
        assert found(word) == sum(word in story.summary.split() for story in published), word
        for kind in _KINDS:
            holding = sum(word in story.summary.split() and story.kind == kind for story in published)
            assert found(word, filters={"kind": [kind]}) == holding, (word, kind)
    every = search.search_stories(current_app, "", snippets=False)
    assert {v.value: v.count for v in every.facets.get("kind", [])} == Counter(story.kind for story in published)
    for story in published[:3]:
        search.similar_stories(current_app, story.id, 5)
    assert not [r.getMessage() for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    caplog.clear()


def test_postings_are_read_whole_when_a_segment_starts_with_deleted_documents(tmp_path):
    """A term whose first documents in a segment were deleted (a story saved
    again) has all its postings read: Whoosh's reader moved past the deleted
    ones, the read came up short, and similar stories were lost under load."""
    from kb.search import postings
    from kb.search.index import close_searchers, searcher

    home = IndexHome(tmp_path)
    home.swap(home.new_generation())
    ix = home.open()
    w = ix.writer()
    for n in range(200):  # more than a block of postings
        w.add_document(id=f"s{n}", title=f"story {n}", content="kestrel survey")
    w.commit()
    w = ix.writer()
    for n in range(150):  # deleted in the first segment, added to a second
        w.update_document(id=f"s{n}", title=f"story {n}", content="kestrel survey again")
    w.commit(merge=False)
    try:
        with searcher(home) as s:
            reader = s.reader()
            assert any(r.has_deletions() for r, _ in postings.leaves(reader))
            docs = postings.docs_array(reader, "content", "kestrel")
            assert len(docs) == 350  # deleted ones included: callers apply deletions
            assert len(set(docs) - set(reader.all_doc_ids())) == 150
    finally:
        close_searchers()


def _commit_until(folder: str, stop) -> None:
    ix = IndexHome(folder).open()
    n = 0
    while not stop.is_set():
        with writer(ix, 5) as w:
            w.update_document(id=f"s{n % 50}", title=f"story {n}", content="open data council " * 5)
        n += 1


# Whoosh leaves the files it had opened when one it needed was gone; they are
# closed when collected, with a warning.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_searchers_open_while_another_process_commits_and_replaces_the_index_files(tmp_path):
    """Each commit replaces the table of contents and merges segments away, so a
    searcher opened meanwhile may find a file gone: it opens again (this failed
    about once in a thousand opens, and a story page answered 500)."""
    import gc
    import multiprocessing

    from kb.search.index import close_searchers, searcher

    home = IndexHome(tmp_path)
    home.swap(home.new_generation())
    stop = multiprocessing.Event()
    committer = multiprocessing.get_context("fork").Process(target=_commit_until, args=(str(tmp_path), stop))
    committer.start()
    failures = []
    try:
        for _ in range(8000):
            close_searchers()
            try:
                with searcher(home) as s:
                    s.doc_count_all()
            except OSError as exc:
                failures.append(exc)
    finally:
        stop.set()
        committer.join(60)
        close_searchers()
        gc.collect()  # the files left open are closed here, not in whichever test runs next
    assert failures == [], (len(failures), failures[:3])


_TRICKY = st.lists(st.sampled_from(list("ab.*_-3 \n'Éé\u0301ßİΩ,") + [
    "the ", "of ", "a ", "I ", "running ", "3.141 ", "e-government ", "what's ", "covid-19 ", "Councils' "]),
    max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TRICKY)
def test_the_stemmed_fields_make_the_terms_and_positions_whooshs_own_analysis_does(value):
    """``StemmedPositions`` makes terms in one loop; they and their positions
    are Whoosh's own (stop words, one-letter words, renumbering, stems), with
    kb's analyzer and with an index's unpickled copy of it."""
    import pickle

    from whoosh import formats

    from kb.search.schema import STEMMED, StemmedPositions, build_schema

    schema = pickle.loads(pickle.dumps(build_schema()))
    assert type(schema["content"].format) is StemmedPositions
    want = sorted(formats.Positions().word_values(value, STEMMED, mode="index"))
    for analyzer in (STEMMED, schema["content"].analyzer):
        assert sorted(schema["content"].format.word_values(value, analyzer, mode="index")) == want


def test_the_stemmed_fields_leave_other_analyzers_to_whoosh():
    from whoosh import formats
    from whoosh.analysis import StemmingAnalyzer

    from kb.search.schema import WORDS, StemmedPositions

    text = "The councils were running the services"
    for analyzer in (WORDS, StemmingAnalyzer(minsize=3)):
        assert (sorted(StemmedPositions().word_values(text, analyzer, mode="index"))
                == sorted(formats.Positions().word_values(text, analyzer, mode="index")))
