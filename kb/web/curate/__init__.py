"""Curators' pages under /curate/: the review queue, near-duplicate stories flagged by imports, reviewing and curating a
story, filing from kb's suggestions, revisions, the tag vocabulary, bulk
changes, organisations' home authorities and the audit log, one
module per feature, all on the one ``curate`` blueprint.

Every page asks a service, and every service asks policy.py; anonymous
visitors are sent to sign in first.
"""
from kb.web.curate import (  # each registers its routes on bp
    audit,
    bulk,
    classification,
    duplicates,
    edit,
    filing,
    organisations,
    review,
    revisions,
    tags,
)
from kb.web.curate.common import bp

__all__ = ["audit", "bp", "bulk", "classification", "duplicates", "edit", "filing", "organisations", "review", "revisions", "tags"]
