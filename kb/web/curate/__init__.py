"""Curators' pages under /curate/: the review queue, reviewing and curating a
story, revisions, the tag vocabulary, bulk changes and the audit log, one
module per feature, all on the one ``curate`` blueprint.

Every page asks a service, and every service asks policy.py; anonymous
visitors are sent to sign in first.
"""
from kb.web.curate import audit, bulk, classification, edit, review, revisions, tags  # each registers its routes on bp
from kb.web.curate.common import bp

__all__ = ["audit", "bp", "bulk", "classification", "edit", "review", "revisions", "tags"]
